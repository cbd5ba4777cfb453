/* cmd_info.c — `lrq info`: what a model file is and whether lrq can run it:
 * name, architecture, file type, hyper-parameters, tokenizer, tensors with
 * types and shapes, parameter count and bits per weight; for GGUF files also
 * the metadata. Any GGUF is described (vocab-only files, architectures or
 * types lrq cannot run), each obstacle named. */
#include "cli.h"
#include "lrq.h"

#include <stdlib.h>
#include <string.h>

static void help(void) {
    printf("usage: lrq info [-m] MODEL [--tensors] [--metadata]\n"
           "  Prints the name, architecture, file type, hyper-parameters, a per-type summary, parameter count and\n"
           "  bits per weight (all tensor bytes x 8 / all weights), and whether lrq can run the model (if not:\n"
           "  why); --tensors lists every tensor, --metadata every GGUF key.\n");
}

#define MAX_TYPES 256

/* Per-type totals and the optional tensor list, from any tensor source. */
typedef struct summary {
    int64_t n[MAX_TYPES];
    uint64_t b[MAX_TYPES];
    int count[MAX_TYPES];
    int64_t total_n;
    uint64_t total_b;
    int n_unsupported;
} summary;

static void add_tensor(summary *s, const lrq_tensor_info *t, int list) {
    int64_t n = t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
    s->total_n += n;
    s->total_b += t->nbytes;
    if (t->type >= 0 && t->type < MAX_TYPES) {
        s->n[t->type] += n;
        s->b[t->type] += t->nbytes;
        s->count[t->type]++;
    }
    if (!t->supported) s->n_unsupported++;
    if (list)
        printf("  %-36s %-8s [%lld, %lld, %lld, %lld] %zu bytes%s\n", t->name, t->type_name, (long long)t->ne[0],
               (long long)t->ne[1], (long long)t->ne[2], (long long)t->ne[3], t->nbytes,
               t->supported ? "" : "  (type lrq cannot compute)");
}

static void print_summary(const summary *s) {
    printf("types:\n");
    for (int ty = 0; ty < MAX_TYPES; ty++)
        if (s->count[ty])
            printf("  %-8s %4d tensors %12lld weights %12llu bytes  %.4f bpw%s\n", lrq_type_name(ty), s->count[ty],
                   (long long)s->n[ty], (unsigned long long)s->b[ty],
                   s->n[ty] ? 8.0 * (double)s->b[ty] / (double)s->n[ty] : 0.0,
                   lrq_type_supported(ty) ? "" : "  (lrq cannot compute this type)");
    printf("parameters: %lld  bytes: %llu  bpw: %.4f\n", (long long)s->total_n, (unsigned long long)s->total_b,
           s->total_n ? 8.0 * (double)s->total_b / (double)s->total_n : 0.0);
}

static void print_model(const lrq_model *m) {
    lrq_model_info mi;
    lrq_model_get_info(m, &mi);
    printf("hyper-parameters: n_vocab %d  n_embd %d  n_layer %d  n_head %d  n_head_kv %d  head_dim %d  n_ff %d\n",
           mi.n_vocab, mi.n_embd, mi.n_layer, mi.n_head, mi.n_head_kv, mi.head_dim, mi.n_ff);
    printf("rope: %s, theta %g, dims %d  rms_eps %g  n_ctx_train %d\n", mi.rope, mi.rope_theta, mi.n_rot, mi.rms_eps,
           mi.n_ctx_train);
    if (mi.n_expert > 0)
        printf("experts: %d routed, %d used per token, width %d  shared width %d  leading dense layers %d\n",
               mi.n_expert, mi.n_expert_used, mi.n_ff_exp, mi.n_ff_shexp, mi.n_layer_dense_lead);
    const lrq_vocab *v = lrq_model_vocab(m);
    if (v)
        printf("tokenizer: %s, %d tokens, bos %d, eos %d, add_bos %d\n", lrq_vocab_type_name(v), lrq_vocab_n_tokens(v),
               lrq_vocab_bos(v), lrq_vocab_eos(v), lrq_vocab_add_bos(v));
    else
        printf("tokenizer: none (pass --vocab)\n");
}

/* A GGUF: described from its own metadata and tensor table, then loaded as
 * a model to see whether lrq can run it. */
static int info_gguf(const char *path, int list_tensors, int list_meta) {
    lrq_gguf *g;
    if (lrq_gguf_open(&g, path)) return cli_fail("info");
    printf("file: %s\nformat: GGUF v%u, %lld keys, %lld tensors, alignment %u\n", path, lrq_gguf_version(g),
           (long long)lrq_gguf_n_kv(g), (long long)lrq_gguf_n_tensors(g), lrq_gguf_alignment(g));
    char *s = NULL;
    if (lrq_gguf_string(g, "general.name", &s) == 1) printf("name: %s\n", s);
    free(s);
    s = NULL;
    int has_arch = lrq_gguf_string(g, "general.architecture", &s) == 1;
    printf("architecture: %s\n", has_arch ? s : "(none: a vocabulary-only file?)");
    free(s);
    int64_t ft;
    if (lrq_gguf_int(g, "general.file_type", &ft) == 1) {
        const char *fn = lrq_file_type_name(ft);
        printf("file type: %s (general.file_type %lld)\n", fn ? fn : "unknown to llama.cpp", (long long)ft);
    }
    if (list_meta) {
        char buf[512];
        printf("metadata:\n");
        for (int64_t i = 0; i < lrq_gguf_n_kv(g); i++)
            printf("  %-44s %-8s %s\n", lrq_gguf_key(g, i), lrq_gguf_key_type(g, i),
                   lrq_gguf_value_text(g, i, buf, sizeof buf, 60));
    }
    summary sum;
    memset(&sum, 0, sizeof sum);
    if (list_tensors) printf("tensors:\n");
    for (int64_t i = 0; i < lrq_gguf_n_tensors(g); i++) {
        lrq_tensor_info t;
        if (lrq_gguf_tensor_info(g, i, &t) == 0) add_tensor(&sum, &t, list_tensors);
    }
    int n_tensors = (int)lrq_gguf_n_tensors(g);
    lrq_gguf_close(g);

    lrq_model *m;
    if (n_tensors == 0) {
        printf("lrq can run it: no (no tensors: a vocabulary-only file; usable as --vocab)\n");
    } else if (lrq_model_load(&m, path, NULL) == 0) {
        print_model(m);
        lrq_model_free(m);
        printf("lrq can run it: yes\n");
    } else {
        /* Both obstacles are named: the load error stops at the first one,
         * and the per-type count shows every type lrq lacks. */
        printf("lrq can run it: no\n");
        if (sum.n_unsupported)
            printf("  %d tensors have types lrq cannot compute (marked below)\n", sum.n_unsupported);
        printf("  loading it as a model fails: %s\n", lrq_last_error());
    }
    print_summary(&sum);
    return 0;
}

int cmd_info(int argc, char **argv) {
    const char *path = NULL;
    int list_tensors = 0, list_meta = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) { help(); return 0; }
        else if (cli_opt(argc, argv, &i, "-m", "--model", &path)) {}
        else if (!strcmp(argv[i], "--tensors")) list_tensors = 1;
        else if (!strcmp(argv[i], "--metadata")) list_meta = 1;
        else if (argv[i][0] != '-' && !path) path = argv[i];
        else { fprintf(stderr, "lrq info: unknown option '%s' (see --help)\n", argv[i]); return 2; }
    }
    if (!path) path = cli_shared_path(LRQ_DEFAULT_MODEL);
    FILE *f = fopen(path, "rb");
    char magic[4] = {0};
    if (f) { if (fread(magic, 1, 4, f) != 4) magic[0] = 0; fclose(f); }
    if (memcmp(magic, "GGUF", 4) == 0) return info_gguf(path, list_tensors, list_meta);

    /* llama2.c checkpoints and Hugging Face folders: only as models. */
    lrq_model *m;
    if (lrq_model_load(&m, path, NULL)) return cli_fail("info");
    lrq_model_info mi;
    lrq_model_get_info(m, &mi);
    printf("file: %s\nformat: %s\narchitecture: %s\n", path, mi.format, mi.arch);
    print_model(m);
    summary sum;
    memset(&sum, 0, sizeof sum);
    if (list_tensors) printf("tensors:\n");
    for (int64_t i = 0; i < lrq_model_n_tensors(m); i++) {
        lrq_tensor_info t;
        if (lrq_model_tensor_info(m, i, &t) == 0) add_tensor(&sum, &t, list_tensors);
    }
    lrq_model_free(m);
    printf("lrq can run it: yes\n");
    print_summary(&sum);
    return 0;
}
