/* cmd_generate.c — `lrq generate`: greedy or seeded sampling from a prompt,
 * with prefill/decode speed and time to first token. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "lrq.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_sec(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void help(void) {
    printf("usage: lrq generate [-m MODEL] [--vocab FILE] [-p PROMPT] [-n N] [--temp T] [--top-k K] [--top-p P]\n"
           "                    [--seed S] [-c CTX] [-t THREADS] [--ids] [--ignore-eos]\n"
           "  Greedy decoding by default (--temp 0); with --temp > 0, seeded sampling (same seed, same text).\n"
           "  --ids prints two lines instead of text: the prompt ids and the generated ids.\n"
           "  Timing (prefill tok/s, time to first token, decode tok/s) goes to stderr.\n");
    fputs(cli_act_help, stdout);
}

/* Print one token's text (special tokens hidden); see at_start above. */
static void print_piece(const lrq_vocab *v, int32_t id, int *at_start) {
    char piece[256];
    int len = lrq_token_to_piece(v, id, piece, sizeof piece, 0);
    if (len <= 0) return;
    size_t n = (size_t)len < sizeof piece ? (size_t)len : sizeof piece;
    const char *p = piece;
    if (*at_start && p[0] == ' ') { p++; n--; }
    *at_start = 0;
    fwrite(p, 1, n, stdout);
}

static void print_ids(const int32_t *ids, size_t n) {
    for (size_t i = 0; i < n; i++) printf(i ? " %d" : "%d", ids[i]);
    printf("\n");
}

int cmd_generate(int argc, char **argv) {
    const char *model = NULL, *vocab = NULL, *prompt = "", *v;
    int n_predict = 64, n_threads = 2, n_ctx = 0, top_k = 0, ids_mode = 0, ignore_eos = 0;
    double temp = 0, top_p = 1.0;
    uint64_t seed = 42;
    cli_act act = CLI_ACT_INIT;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) { help(); return 0; }
        else if (cli_opt(argc, argv, &i, "-m", "--model", &model)) {}
        else if (cli_opt(argc, argv, &i, NULL, "--vocab", &vocab)) {}
        else if (cli_opt(argc, argv, &i, "-p", "--prompt", &prompt)) {}
        else if (cli_opt(argc, argv, &i, "-n", "--n-predict", &v)) n_predict = cli_int("generate", "-n", v, 0, 1 << 20);
        else if (cli_opt(argc, argv, &i, "-t", "--threads", &v)) n_threads = cli_int("generate", "-t", v, 1, 1024);
        else if (cli_opt(argc, argv, &i, "-c", "--ctx-size", &v)) n_ctx = cli_int("generate", "-c", v, 1, 1 << 22);
        else if (cli_opt(argc, argv, &i, NULL, "--temp", &v)) {
            temp = cli_num("generate", "--temp", v);
            if (temp < 0) { fprintf(stderr, "lrq generate: --temp must be >= 0 (0 = greedy), got '%s'\n", v); return 2; }
        }
        else if (cli_opt(argc, argv, &i, NULL, "--top-k", &v)) top_k = cli_int("generate", "--top-k", v, 0, 1 << 30);
        else if (cli_opt(argc, argv, &i, NULL, "--top-p", &v)) {
            top_p = cli_num("generate", "--top-p", v);
            if (!(top_p > 0 && top_p <= 1)) { fprintf(stderr, "lrq generate: --top-p must be in (0, 1], got '%s'\n", v); return 2; }
        }
        else if (cli_opt(argc, argv, &i, "-s", "--seed", &v)) seed = (uint64_t)cli_int("generate", "--seed", v, 0, 0x7fffffff);
        else if (!strcmp(argv[i], "--ids")) ids_mode = 1;
        else if (!strcmp(argv[i], "--ignore-eos")) ignore_eos = 1;
        else if (cli_act_opt("generate", argc, argv, &i, &act)) {}
        else { fprintf(stderr, "lrq generate: unknown option '%s' (see --help)\n", argv[i]); return 2; }
    }
    if (!model) model = cli_shared_path(LRQ_DEFAULT_MODEL);
    lrq_model *m;
    if (lrq_model_load(&m, model, vocab)) return cli_fail("generate");
    const char *act_desc;
    char act_buf[96];
    int arc = cli_act_apply("generate", &act, m, &act_desc, act_buf, sizeof act_buf);
    if (arc) { lrq_model_free(m); return arc; }
    if (act_desc) fprintf(stderr, "lrq generate: activations of the block linears quantized: %s\n", act_desc);
    const lrq_vocab *voc = lrq_model_vocab(m);
    if (!voc) {
        lrq_model_free(m);
        fprintf(stderr, "lrq generate: %s: the model has no tokenizer; pass --vocab FILE\n", model);
        return 1;
    }
    int32_t *ids;
    size_t n_ids;
    if (lrq_tokenize(voc, prompt, strlen(prompt), 1, 1, &ids, &n_ids)) { lrq_model_free(m); return cli_fail("generate"); }
    if (n_ids == 0) {
        free(ids);
        lrq_model_free(m);
        fprintf(stderr, "lrq generate: the prompt is empty and the model adds no BOS: give -p\n");
        return 1;
    }
    lrq_model_info mi;
    lrq_model_get_info(m, &mi);
    if (n_ctx) cli_warn_ctx("generate", "-c", n_ctx, mi.n_ctx_train);
    else if ((long)n_ids + n_predict > mi.n_ctx_train) cli_warn_ctx("generate", "prompt + -n", (long)n_ids + n_predict, mi.n_ctx_train);
    cli_warn_threads("generate", n_threads);
    if (!n_ctx) n_ctx = (int)n_ids + n_predict;
    if ((size_t)n_ctx < n_ids + (size_t)n_predict) {
        fprintf(stderr, "lrq generate: context %d too small for %zu prompt + %d new tokens\n", n_ctx, n_ids, n_predict);
        free(ids);
        lrq_model_free(m);
        return 1;
    }
    int n_batch = n_ids > 512 ? 512 : (int)n_ids;
    lrq_ctx *c;
    lrq_sampler *smp = NULL;
    if (lrq_ctx_new(&c, m, n_ctx, n_batch, n_threads)) { free(ids); lrq_model_free(m); return cli_fail("generate"); }
    if (lrq_sampler_new(&smp, mi.n_vocab, (float)temp, top_k, (float)top_p, seed)) {
        lrq_ctx_free(c); free(ids); lrq_model_free(m); return cli_fail("generate");
    }
    int32_t *out = malloc(((size_t)n_predict + 1) * sizeof *out);
    if (!out) {
        fprintf(stderr, "lrq generate: out of memory\n");
        lrq_sampler_delete(smp); lrq_ctx_free(c); free(ids); lrq_model_free(m);
        return 1;
    }
    /* Text mode: SentencePiece vocabularies prefix a space to the first word;
     * like SentencePiece's decoder, drop it from the very first piece printed. */
    int at_start = !strcmp(lrq_vocab_type_name(voc), "spm");
    if (ids_mode) print_ids(ids, n_ids);
    else {
        for (size_t i = 0; i < n_ids; i++) print_piece(voc, ids[i], &at_start);
        fflush(stdout);
    }
    double t0 = now_sec(), t_first = 0;
    const float *logits = NULL;
    int rc = 0;
    for (size_t i = 0; i < n_ids; i += (size_t)n_batch) {
        int nb = (int)(n_ids - i < (size_t)n_batch ? n_ids - i : (size_t)n_batch);
        if (!(logits = lrq_ctx_eval(c, ids + i, nb, nb - 1))) { rc = cli_fail("generate"); goto done; }
    }
    double t_prefill = now_sec() - t0;
    int n_out = 0;
    double t1 = now_sec();
    for (int k = 0; k < n_predict; k++) {
        for (int32_t j = 0; j < mi.n_vocab; j++)
            if (!isfinite(logits[j])) { /* sampling from NaN would print garbage with exit 0 */
                if (!ids_mode) printf("\n");
                fprintf(stderr, "lrq generate: the model's logits are not finite (NaN or Inf) at new token %d\n", k);
                rc = 1;
                goto done;
            }
        int32_t tok = lrq_sampler_pick(smp, logits);
        if (k == 0) t_first = now_sec() - t0;
        out[n_out++] = tok;
        if (!ids_mode) {
            print_piece(voc, tok, &at_start);
            fflush(stdout);
        }
        if (!ignore_eos && tok == lrq_vocab_eos(voc)) break;
        if (k + 1 < n_predict && !(logits = lrq_ctx_eval(c, &tok, 1, 0))) { rc = cli_fail("generate"); goto done; }
    }
    double t_dec = now_sec() - t1;
    if (ids_mode) print_ids(out, (size_t)n_out);
    else printf("\n");
    fprintf(stderr, "lrq generate: prompt %zu tokens in %.3f s (%.1f tok/s), time to first token %.3f s, "
                    "%d tokens generated at %.2f tok/s (%d threads)\n",
            n_ids, t_prefill, (double)n_ids / (t_prefill > 0 ? t_prefill : 1e-9), t_first, n_out,
            n_out > 1 ? (n_out - 1) / (t_dec > 0 ? t_dec : 1e-9) : 0.0, n_threads);
done:
    free(out);
    lrq_sampler_delete(smp);
    lrq_ctx_free(c);
    free(ids);
    lrq_model_free(m);
    return rc;
}
