/* cmd_tokenize.c — `lrq tokenize`: token ids of a text with a model's (or a
 * vocab-only GGUF's) tokenizer. */
#include "cli.h"
#include "lrq.h"

#include <stdlib.h>
#include <string.h>

static void help(void) {
    printf("usage: lrq tokenize [-m MODEL|VOCAB] [--vocab FILE] (-p TEXT | -f FILE) [--ids] [--no-bos] [--parse-special]\n"
           "  Prints '[1, 2, 3]' with --ids, else one 'id -> 'piece'' line per token. MODEL may be a vocab-only GGUF.\n");
}

/* A vocab-only GGUF has no tensors: load just its tokenizer. Returns 0,
 * -1 (error recorded) or 1 (message already printed). */
static int load_vocab(const char *path, const char *vocab_path, lrq_vocab **v, lrq_model **m) {
    *v = NULL;
    *m = NULL;
    if (!vocab_path) {
        FILE *f = fopen(path, "rb");
        char magic[4] = {0};
        if (f) {
            size_t n = fread(magic, 1, 4, f);
            fclose(f);
            if (n == 4 && memcmp(magic, "GGUF", 4) == 0) {
                lrq_gguf *g;
                if (lrq_gguf_open(&g, path)) return -1;
                char *arch = NULL;
                int has_arch = lrq_gguf_string(g, "general.architecture", &arch);
                int vocab_only = lrq_gguf_n_tensors(g) == 0 || has_arch == 0;
                free(arch);
                lrq_gguf_close(g);
                if (vocab_only) return lrq_vocab_load(v, path);
            }
        }
    }
    if (lrq_model_load(m, path, vocab_path)) return -1;
    if (!lrq_model_vocab(*m)) {
        fprintf(stderr, "lrq tokenize: %s: the model has no tokenizer; pass --vocab FILE\n", path);
        return 1;
    }
    return 0;
}

int cmd_tokenize(int argc, char **argv) {
    const char *model = NULL, *vocab = NULL, *prompt = NULL, *file = NULL;
    int ids_only = 0, no_bos = 0, special = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) { help(); return 0; }
        else if (cli_opt(argc, argv, &i, "-m", "--model", &model)) {}
        else if (cli_opt(argc, argv, &i, NULL, "--vocab", &vocab)) {}
        else if (cli_opt(argc, argv, &i, "-p", "--prompt", &prompt)) {}
        else if (cli_opt(argc, argv, &i, "-f", "--file", &file)) {}
        else if (!strcmp(argv[i], "--ids")) ids_only = 1;
        else if (!strcmp(argv[i], "--no-bos")) no_bos = 1;
        else if (!strcmp(argv[i], "--parse-special")) special = 1;
        else { fprintf(stderr, "lrq tokenize: unknown option '%s' (see --help)\n", argv[i]); return 2; }
    }
    if (!prompt && !file) { fprintf(stderr, "lrq tokenize: give -p TEXT or -f FILE\n"); return 2; }
    if (!model) model = cli_shared_path(LRQ_DEFAULT_MODEL);
    lrq_vocab *v;
    lrq_model *m;
    int lr = load_vocab(model, vocab, &v, &m);
    if (lr) {
        lrq_model_free(m);
        return lr > 0 ? lr : cli_fail("tokenize");
    }
    const lrq_vocab *voc = v ? v : lrq_model_vocab(m);
    char *buf = NULL;
    size_t len;
    if (file) {
        /* Byte for byte: llama-tokenize reads its -f file verbatim (unlike
         * the other llama.cpp tools, whose common -f drops a trailing '\n'),
         * since a trailing newline is itself a token. */
        if (lrq_text_load(file, &buf, &len)) { lrq_vocab_free(v); lrq_model_free(m); return cli_fail("tokenize"); }
    } else {
        len = strlen(prompt);
    }
    int32_t *ids;
    size_t n;
    int rc = lrq_tokenize(voc, buf ? buf : prompt, len, !no_bos, special, &ids, &n);
    free(buf);
    if (rc) { lrq_vocab_free(v); lrq_model_free(m); return cli_fail("tokenize"); }
    if (ids_only) {
        printf("[");
        for (size_t i = 0; i < n; i++) printf(i ? ", %d" : "%d", ids[i]);
        printf("]\n");
    } else {
        char piece[512];
        for (size_t i = 0; i < n; i++) {
            int k = lrq_token_to_piece(voc, ids[i], piece, sizeof piece, 1);
            if (k < 0) k = 0;
            if ((size_t)k > sizeof piece) k = sizeof piece;
            printf("%6d -> '%.*s'\n", ids[i], k, piece);
        }
    }
    free(ids);
    if (v) lrq_vocab_free(v);
    lrq_model_free(m);
    return 0;
}
