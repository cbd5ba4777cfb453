/* cmd_imatrix.c — `lrq imatrix`: an importance matrix as llama-imatrix computes it. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "lrq.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void help(void) {
    printf("usage: lrq imatrix -m MODEL -f TEXT [-o FILE] [-c CTX] [-b BATCH] [--chunks N] [-t THREADS]\n"
           "                   [--vocab FILE] [--process-output] [--dataset NAME]\n"
           "  Computes an importance matrix: for every input channel of every linear (weight matrix) of the\n"
           "  model, the sum of the squared activations it sees on the calibration TEXT, and how many tokens it\n"
           "  saw. Quantizers use it to spend precision where inputs are large (lrq/llama-quantize --imatrix).\n"
           "  It is what llama-imatrix v0.5.0 computes, in its GGUF imatrix format, and equal to its file within\n"
           "  float rounding for the same model, text and settings:\n"
           "    - TEXT is read as llama.cpp's -f (one trailing newline removed) and tokenized with BOS;\n"
           "    - it is cut into floor(tokens / CTX) chunks (at least 2 needed); each chunk starts from an empty\n"
           "      cache with its first token replaced by BOS; every token counts;\n"
           "    - collected: every 'blk.*' weight (attention, FFN, MoE router, shared expert) in calls of at\n"
           "      least 16 tokens, and each expert of an expert stack separately (an expert never routed to keeps\n"
           "      0: 'partial data'); the output head only with --process-output (never a tied one);\n"
           "    - the file holds '<weight>.in_sum2' [n_mat][n_in] and '<weight>.counts' [n_mat] (F32) per weight,\n"
           "      sorted by name, and imatrix.chunk_count, imatrix.chunk_size (CTX), imatrix.datasets (TEXT as\n"
           "      given, or --dataset NAME).\n"
           "  Options:\n"
           "    -o FILE         output (default imatrix.gguf); it appears only when complete, an existing file\n"
           "                    is replaced only then\n"
           "    -c CTX          chunk length, >= 16 (default 512, llama-imatrix's)\n"
           "    -b BATCH        tokens per batch, >= 16 (default 2048, llama-imatrix's). Below CTX each chunk is\n"
           "                    fed in batches of BATCH (and of at most 512, llama.cpp's micro-batch), so a last\n"
           "                    piece under 16 tokens is skipped by dense linears, as llama-imatrix does; from\n"
           "                    CTX up it changes nothing (llama-imatrix then batches whole chunks)\n"
           "    --chunks N      at most N chunks (N >= 1)\n"
           "    -t THREADS      worker threads (default 2; the result does not depend on it)\n"
           "    --vocab FILE    tokenizer for a model without one\n"
           "  Example (the golden file ../shared/golden/stories260K/imatrix-selfgen.gguf):\n"
           "    lrq imatrix -m ../shared/models/stories260K/stories260K-f32.gguf \\\n"
           "        -f ../shared/data/calib/stories260K-selfgen.txt -c 128 -b 128 -o imatrix.gguf\n"
           "  On a terminal a progress line with ETA goes to stderr.\n");
}

static void progress(void *ud, int done, int total, double seconds) {
    (void)ud;
    double eta = done > 0 ? seconds / done * (total - done) : 0;
    fprintf(stderr, "\rlrq imatrix: chunk %d/%d, %.1f s, ETA %.1f s   ", done, total, seconds, eta);
    if (done == total) fprintf(stderr, "\r%*s\r", 60, "");
    fflush(stderr);
}

int cmd_imatrix(int argc, char **argv) {
    lrq_imatrix_params p = { .out = "imatrix.gguf", .n_ctx = 512, .n_batch = 2048, .max_chunks = -1,
                             .n_threads = 2, .log = stderr };
    const char *v;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) { help(); return 0; }
        else if (cli_opt(argc, argv, &i, "-m", "--model", &p.model)) {}
        else if (cli_opt(argc, argv, &i, NULL, "--vocab", &p.vocab)) {}
        else if (cli_opt(argc, argv, &i, "-f", "--file", &p.text)) {}
        else if (cli_opt(argc, argv, &i, "-o", "--output", &p.out)) {}
        else if (cli_opt(argc, argv, &i, NULL, "--dataset", &p.dataset)) {}
        else if (cli_opt(argc, argv, &i, "-c", "--ctx-size", &v)) p.n_ctx = cli_int("imatrix", "-c", v, 16, 1 << 20);
        else if (cli_opt(argc, argv, &i, "-b", "--batch-size", &v)) p.n_batch = cli_int("imatrix", "-b", v, 16, 1 << 30);
        else if (cli_opt(argc, argv, &i, "-t", "--threads", &v)) p.n_threads = cli_int("imatrix", "-t", v, 1, 1024);
        else if (cli_opt(argc, argv, &i, NULL, "--chunks", &v)) p.max_chunks = cli_int("imatrix", "--chunks", v, 1, 1 << 30);
        else if (!strcmp(argv[i], "--process-output")) p.process_output = 1;
        else { fprintf(stderr, "lrq imatrix: unknown option '%s' (see --help)\n", argv[i]); return 2; }
    }
    if (!p.model || !p.text) {
        fprintf(stderr, "lrq imatrix: -m MODEL and -f TEXT are required (see --help)\n");
        return 2;
    }
    if (!*p.out) { fprintf(stderr, "lrq imatrix: -o: empty file name\n"); return 2; }
    struct stat st;
    if (stat(p.out, &st) == 0 && S_ISDIR(st.st_mode)) {
        fprintf(stderr, "lrq imatrix: -o %s: is a folder; give a file name\n", p.out);
        return 2;
    }
    cli_warn_threads("imatrix", p.n_threads);
    if (isatty(STDERR_FILENO)) p.progress = progress;
    lrq_imatrix_result r;
    if (lrq_imatrix_compute(&p, &r)) {
        if (p.progress) fprintf(stderr, "\n");
        return cli_fail("imatrix");
    }
    fprintf(stderr, "lrq imatrix: %s: %d entries (%d with partial expert data), %d chunks of %d (chunk_count %d), "
                    "%d threads, %s kernels, %.2f s, %.1f tokens/s\n", p.out, r.n_entries, r.n_partial, r.n_chunks,
            p.n_ctx, r.chunk_count, p.n_threads, lrq_types_isa(), r.seconds, r.tokens_per_sec);
    return 0;
}
