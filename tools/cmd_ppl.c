/* cmd_ppl.c — `lrq ppl`: perplexity the llama.cpp way, and KL-divergence. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "lrq.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void help(void) {
    printf("usage: lrq ppl [-m MODEL] [--vocab FILE] [-f TEXT] [-c CTX] [-b BATCH] [-t THREADS] [--chunks N]\n"
           "               [--kl-divergence-base FILE [--kl-divergence]]\n"
           "  Reads TEXT as llama.cpp's -f does (one trailing newline removed), tokenizes it (BOS per the model),\n"
           "  cuts it into floor(N/CTX) chunks, replaces each chunk's first token by BOS when the vocab adds BOS,\n"
           "  scores positions CTX/2..CTX-2 and prints running PPL values '[i]ppl,' and\n"
           "  'Final estimate: PPL = x +/- y' (llama-perplexity's method and output).\n"
           "  --kl-divergence-base FILE alone saves this model's log-probabilities (docs/kld-format.md; FILE is\n"
           "  replaced only when complete); with --kl-divergence it compares against them (tokens come from FILE;\n"
           "  -f not needed). --chunks N: at most N chunks (N >= 1).\n"
           "  Defaults: the bundled stories260K model and TinyStories text, CTX 512 (at most the model's\n"
           "  training context), BATCH = CTX, THREADS 2. On a terminal a progress line with ETA goes to stderr.\n");
    fputs(cli_act_help, stdout);
}

/* One self-overwriting status line on stderr (terminals only). */
static void progress(void *data, int done, int total, double seconds) {
    (void)data;
    double eta = done > 0 ? seconds / done * (total - done) : 0;
    fprintf(stderr, "\rlrq ppl: chunk %d/%d, %.1f s, ETA %.1f s   ", done, total, seconds, eta);
    if (done == total) fprintf(stderr, "\r%*s\r", 60, "");
    fflush(stderr);
}

int cmd_ppl(int argc, char **argv) {
    const char *model = NULL, *vocab = NULL, *text = NULL, *base = NULL, *v;
    int n_ctx = 0, n_batch = 0, n_threads = 2, chunks = -1, kld = 0;
    cli_act act = CLI_ACT_INIT;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) { help(); return 0; }
        else if (cli_opt(argc, argv, &i, "-m", "--model", &model)) {}
        else if (cli_opt(argc, argv, &i, NULL, "--vocab", &vocab)) {}
        else if (cli_opt(argc, argv, &i, "-f", "--file", &text)) {}
        else if (cli_opt(argc, argv, &i, "-c", "--ctx-size", &v)) n_ctx = cli_int("ppl", "-c", v, 4, 1 << 20);
        else if (cli_opt(argc, argv, &i, "-b", "--batch-size", &v)) n_batch = cli_int("ppl", "-b", v, 1, 1 << 20);
        else if (cli_opt(argc, argv, &i, "-t", "--threads", &v)) n_threads = cli_int("ppl", "-t", v, 1, 1024);
        else if (cli_opt(argc, argv, &i, NULL, "--chunks", &v)) chunks = cli_int("ppl", "--chunks", v, 1, 1 << 30);
        else if (cli_opt(argc, argv, &i, NULL, "--kl-divergence-base", &base)) {}
        else if (!strcmp(argv[i], "--kl-divergence")) kld = 1;
        else if (cli_act_opt("ppl", argc, argv, &i, &act)) {}
        else { fprintf(stderr, "lrq ppl: unknown option '%s' (see --help)\n", argv[i]); return 2; }
    }
    if (kld && !base) { fprintf(stderr, "lrq ppl: --kl-divergence needs --kl-divergence-base FILE\n"); return 2; }
    if (!model) {
        model = cli_shared_path(LRQ_DEFAULT_MODEL);
        if (!text && !kld) text = cli_shared_path(LRQ_DEFAULT_TEXT);
    }
    if (!text && !kld) { fprintf(stderr, "lrq ppl: -f TEXT is required with -m\n"); return 2; }

    /* The text first: a bad -f is reported before the (slower) model load. */
    char *buf = NULL;
    size_t len = 0;
    if (!kld && lrq_text_load_prompt(text, &buf, &len)) return cli_fail("ppl");
    lrq_model *m;
    if (lrq_model_load(&m, model, vocab)) { free(buf); return cli_fail("ppl"); }
    const char *act_desc;
    char act_buf[96];
    int arc = cli_act_apply("ppl", &act, m, &act_desc, act_buf, sizeof act_buf);
    if (arc) { free(buf); lrq_model_free(m); return arc; }
    if (act_desc) fprintf(stderr, "lrq ppl: activations of the block linears quantized: %s\n", act_desc);
    const lrq_vocab *voc = lrq_model_vocab(m);
    if (!voc) {
        free(buf);
        lrq_model_free(m);
        fprintf(stderr, "lrq ppl: %s: the model has no tokenizer; pass --vocab FILE\n", model);
        return 1;
    }
    lrq_model_info mi;
    lrq_model_get_info(m, &mi);
    if (!n_ctx) n_ctx = mi.n_ctx_train > 0 && mi.n_ctx_train < 512 ? mi.n_ctx_train : 512;
    else cli_warn_ctx("ppl", "-c", n_ctx, mi.n_ctx_train);
    if (!n_batch || n_batch > n_ctx) n_batch = n_ctx;
    cli_warn_threads("ppl", n_threads);

    int32_t *ids = NULL;
    size_t n_ids = 0;
    if (!kld) {
        int r = lrq_tokenize(voc, buf, len, 1, 0, &ids, &n_ids);
        free(buf);
        if (r) { lrq_model_free(m); return cli_fail("ppl"); }
        size_t nc = lrq_ppl_n_chunks(n_ids, n_ctx);
        if (nc < 2) { /* llama-perplexity's minimum: 2 * CTX tokens */
            fprintf(stderr, "lrq ppl: %s: %zu tokens, need at least %d for context %d\n", text, n_ids, 2 * n_ctx,
                    n_ctx);
            free(ids);
            lrq_model_free(m);
            return 1;
        }
        fprintf(stderr, "lrq ppl: %s: %zu bytes, %zu tokens, %zu chunks of %d%s\n", text, len, n_ids, nc, n_ctx,
                chunks > 0 && (size_t)chunks < nc ? " (--chunks limits them)" : "");
    }
    lrq_ctx *c;
    if (lrq_ctx_new(&c, m, n_ctx, n_batch, n_threads)) { free(ids); lrq_model_free(m); return cli_fail("ppl"); }
    /* On a terminal the progress line and stdout's "[i]ppl," list would
     * overwrite each other: collect the list and print it at the end. */
    int tty = isatty(STDERR_FILENO);
    char *mem = NULL;
    size_t mem_len = 0;
    FILE *out = tty ? open_memstream(&mem, &mem_len) : NULL;
    lrq_ppl_params p = { .n_ctx = n_ctx, .n_batch = n_batch, .max_chunks = chunks, .kld_base = base,
                         .write_base = base && !kld, .kld = kld, .out = out ? out : stdout,
                         .progress = out ? progress : NULL };
    lrq_ppl_result r;
    int rc = lrq_perplexity(c, m, ids, n_ids, &p, &r);
    if (out) {
        fclose(out);
        if (rc && mem_len) fprintf(stderr, "\n");
        fwrite(mem, 1, mem_len, stdout);
        fflush(stdout);
        free(mem);
    }
    free(ids);
    lrq_ctx_free(c);
    lrq_model_free(m);
    if (rc) return cli_fail("ppl");
    if (kld) {
        printf("====== Perplexity statistics ======\n");
        printf("Mean PPL(Q)                   : %10.6f\n", r.ppl);
        printf("Mean PPL(base)                : %10.6f\n", r.base_ppl);
        printf("Mean ln(PPL(Q)/PPL(base))     : %10.6f +/- %10.6f\n", r.ln_ppl_ratio, r.ln_ppl_ratio_err);
        printf("Mean PPL(Q)/PPL(base)         : %10.6f\n", r.ppl / r.base_ppl);
        printf("====== KL divergence statistics ======\n");
        printf("Mean    KLD: %10.6f +/- %10.6f\n", r.mean_kld, r.mean_kld_err);
        printf("Maximum KLD: %10.6f\n", r.max_kld);
        printf("99.0%%   KLD: %10.6f\n", r.kld_p99);
        printf("Median  KLD: %10.6f\n", r.median_kld);
        printf("====== Token probability statistics ======\n");
        printf("Same top p: %6.3f +/- %5.3f %%\n", r.same_top_pct, r.same_top_err);
    }
    fprintf(stderr, "lrq ppl: %s, ctx %d, batch %d, %d threads, %s kernels: %d chunks, %ld tokens scored, %.2f s, "
                    "%.1f tokens/s\n", model, n_ctx, n_batch, n_threads, lrq_types_isa(), r.n_chunks, r.n_scored,
            r.seconds, r.tokens_per_sec);
    return 0;
}
