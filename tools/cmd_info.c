/* cmd_info.c — `lrq info`: architecture, hyper-parameters, tensors with
 * types and shapes, parameter count and bits per weight; for GGUF files also
 * the metadata. */
#include "cli.h"
#include "core/core.h"
#include "io/gguf.h"
#include "tok/vocab.h"
#include "model/model.h"
#include "fmt/types.h"

#include <stdlib.h>
#include <string.h>

static void help(void) {
    printf("usage: lrq info [-m] MODEL [--tensors] [--metadata]\n"
           "  Prints the architecture, hyper-parameters, a per-type summary, parameter count and bits per\n"
           "  weight (all tensor bytes x 8 / all weights); --tensors lists every tensor, --metadata every GGUF key.\n");
}

static const char *arch_name(int a) {
    return a == LRQ_ARCH_LLAMA ? "llama" : a == LRQ_ARCH_QWEN2 ? "qwen2" : a == LRQ_ARCH_QWEN3 ? "qwen3" : "?";
}

static void print_value(const lrq_gguf_value *val, int depth) {
    switch (val->type) {
    case LRQ_GGUF_UINT8: case LRQ_GGUF_UINT16: case LRQ_GGUF_UINT32: case LRQ_GGUF_UINT64:
        printf("%llu", (unsigned long long)val->v.u64); break;
    case LRQ_GGUF_INT8: case LRQ_GGUF_INT16: case LRQ_GGUF_INT32: case LRQ_GGUF_INT64:
        printf("%lld", (long long)val->v.i64); break;
    case LRQ_GGUF_FLOAT32: case LRQ_GGUF_FLOAT64: printf("%g", val->v.f64); break;
    case LRQ_GGUF_BOOL: printf("%s", val->v.u64 ? "true" : "false"); break;
    case LRQ_GGUF_STRING: {
        uint64_t n = val->v.str.len > 60 ? 60 : val->v.str.len;
        printf("\"");
        for (uint64_t i = 0; i < n; i++) {
            unsigned char ch = (unsigned char)val->v.str.ptr[i];
            if (ch < 32 || ch == '"') printf("\\x%02x", ch); else putchar(ch);
        }
        printf(val->v.str.len > 60 ? "...\"" : "\"");
        break;
    }
    case LRQ_GGUF_ARRAY: {
        printf("[%s x %llu]", lrq_gguf_vtype_name(val->v.arr.elem_type), (unsigned long long)val->v.arr.n);
        if (depth == 0 && val->v.arr.n > 0 && val->v.arr.n <= 8) {
            printf(" ");
            for (uint64_t i = 0; i < val->v.arr.n; i++) {
                if (val->v.arr.items) print_value(&val->v.arr.items[i], 1);
                else if (val->v.arr.elem_type == LRQ_GGUF_FLOAT32 || val->v.arr.elem_type == LRQ_GGUF_FLOAT64)
                    printf("%g", lrq_gguf_arr_f64(val, i));
                else printf("%lld", (long long)lrq_gguf_arr_i64(val, i));
                printf(i + 1 < val->v.arr.n ? ", " : "");
            }
        }
        break;
    }
    default: printf("?");
    }
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
    lrq_weights *w;
    FILE *f = fopen(path, "rb");
    char magic[4] = {0};
    if (f) { if (fread(magic, 1, 4, f) != 4) magic[0] = 0; fclose(f); }
    if (memcmp(magic, "GGUF", 4) == 0) {
        /* Any GGUF (also vocab-only or of an architecture lrq cannot run) is described. */
        lrq_gguf *g;
        if (lrq_gguf_open(&g, path)) return cli_fail("info");
        printf("file: %s\nformat: GGUF v%u, %lld keys, %lld tensors, alignment %u\n", path, lrq_gguf_version(g),
               (long long)lrq_gguf_n_kv(g), (long long)lrq_gguf_n_tensors(g), lrq_gguf_alignment(g));
        const char *a;
        uint64_t al;
        if (lrq_gguf_get_str(g, "general.architecture", &a, &al) == 1) printf("architecture: %.*s\n", (int)al, a);
        if (list_meta) {
            for (int64_t i = 0; i < lrq_gguf_n_kv(g); i++) {
                const lrq_gguf_kv *kv = lrq_gguf_kv_at(g, i);
                printf("  %-44s %-8s ", kv->key, lrq_gguf_vtype_name(kv->val.type));
                print_value(&kv->val, 0);
                printf("\n");
            }
        }
        lrq_gguf_close(g);
    }
    if (lrq_weights_load(&w, path)) {
        if (memcmp(magic, "GGUF", 4) == 0) {
            printf("(not a model lrq can run: %s)\n", lrq_last_error());
            return 0;
        }
        return cli_fail("info");
    }
    const lrq_hparams *hp = &w->hp;
    printf("model: %s (%s)\n", w->path, w->format);
    printf("architecture: %s  n_vocab %d  n_embd %d  n_layer %d  n_head %d  n_head_kv %d  head_dim %d  n_ff %d\n",
           arch_name(hp->arch), hp->n_vocab, hp->n_embd, hp->n_layer, hp->n_head, hp->n_head_kv, hp->head_dim, hp->n_ff);
    printf("rope: %s, theta %g, dims %d  rms_eps %g  n_ctx_train %d\n", hp->rope_kind == LRQ_ROPE_NEOX ? "neox" : "norm",
           hp->rope_theta, hp->n_rot ? hp->n_rot : hp->head_dim, hp->rms_eps, hp->n_ctx_train);
    if (w->vocab)
        printf("tokenizer: %s, %d tokens, bos %d, eos %d, add_bos %d\n",
               lrq_vocab_kind(w->vocab) == LRQ_VOCAB_SPM ? "spm" : "bpe", lrq_vocab_n_tokens(w->vocab),
               lrq_vocab_bos(w->vocab), lrq_vocab_eos(w->vocab), lrq_vocab_add_bos(w->vocab));
    else
        printf("tokenizer: none (pass --vocab)\n");
    int64_t per_type_n[LRQ_TYPE_COUNT] = {0};
    uint64_t per_type_b[LRQ_TYPE_COUNT] = {0};
    int per_type_c[LRQ_TYPE_COUNT] = {0};
    int64_t total_n = 0;
    uint64_t total_b = 0;
    if (list_tensors) printf("tensors:\n");
    for (int32_t i = 0; i < w->n_tensors; i++) {
        const lrq_tensor *t = &w->tensors[i];
        int64_t n = t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
        total_n += n;
        total_b += t->nbytes;
        if (t->type >= 0 && t->type < LRQ_TYPE_COUNT) {
            per_type_n[t->type] += n;
            per_type_b[t->type] += t->nbytes;
            per_type_c[t->type]++;
        }
        if (list_tensors)
            printf("  %-36s %-8s [%lld, %lld, %lld, %lld] %zu bytes%s\n", t->name, lrq_type_name(t->type),
                   (long long)t->ne[0], (long long)t->ne[1], (long long)t->ne[2], (long long)t->ne[3], t->nbytes,
                   lrq_type_supported(t->type) ? "" : "  (unsupported type)");
    }
    printf("types:\n");
    for (int ty = 0; ty < LRQ_TYPE_COUNT; ty++)
        if (per_type_c[ty])
            printf("  %-8s %4d tensors %12lld weights %12llu bytes  %.4f bpw\n", lrq_type_name(ty), per_type_c[ty],
                   (long long)per_type_n[ty], (unsigned long long)per_type_b[ty],
                   per_type_n[ty] ? 8.0 * (double)per_type_b[ty] / (double)per_type_n[ty] : 0.0);
    printf("parameters: %lld  bytes: %llu  bpw: %.4f\n", (long long)total_n, (unsigned long long)total_b,
           total_n ? 8.0 * (double)total_b / (double)total_n : 0.0);
    lrq_weights_free(w);
    return 0;
}
