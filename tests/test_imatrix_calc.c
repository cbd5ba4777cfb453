/* test_imatrix_calc.c — importance matrices through the linear hooks
 * (eval/imatrix_calc.h) and their file (quant/imatrix_save.c):
 *  - direct: on a short text, blk.0's q/k/v sums equal Σ x² of
 *    rmsnorm(embedding) ⊙ attn_norm computed here from the GGUF's weights,
 *    with BOS in place of each chunk's first token; counts = tokens;
 *  - rules: dense linears skip calls under 16 tokens, expert stacks do not
 *    (expert counts equal the MoE op's own usage counters), only blk.*
 *    weights (output.weight with process_output), sums equal a separate
 *    double-precision capture hook;
 *  - golden: lrq_imatrix_compute with the golden commands' model, text and
 *    settings against llama-imatrix's files (read with lrq's GGUF reader):
 *    identical metadata and tensor table (bytes before the data), layer 0's
 *    q/k/v sums bit-identical, dense counts equal, other sums within the
 *    tolerances argued at golden_case below;
 *  - save: layout (order, shapes, keys) of a hand-made matrix; bad input
 *    leaves no file.
 */
#define _POSIX_C_SOURCE 200809L
#include "testlib.h"
#include "eval/imatrix_calc.h"
#include "io/gguf.h"
#include "core/core.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* an AddressSanitizer build (gcc: __SANITIZE_ADDRESS__, clang: __has_feature) */
#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif

static char tmpdir[64];

static const char *tmp_path(const char *name) {
    static char buf[4][256];
    static int k;
    char *b = buf[k++ & 3];
    snprintf(b, 256, "%s/%s", tmpdir, name);
    return b;
}

static const lrq_imatrix_entry *find(const lrq_imatrix *im, const char *name) {
    for (int32_t i = 0; i < im->n; i++)
        if (!strcmp(im->e[i].name, name)) return &im->e[i];
    return NULL;
}

/* Tokens of the first `bytes` bytes of a shared text (BOS per the vocab). */
static int32_t *tokens_of(const lrq_model *m, const char *rel, size_t bytes, size_t *n) {
    char *text;
    size_t len;
    if (lrq_text_load_prompt(test_shared(rel), &text, &len)) return NULL;
    int32_t *ids = NULL;
    if (lrq_tokenize(lrq_model_vocab(m), text, len < bytes ? len : bytes, 1, 0, &ids, n)) ids = NULL;
    free(text);
    return ids;
}

static void test_direct(void) {
    const char *mp = test_shared("models/stories260K/stories260K-f32.gguf");
    lrq_model *m;
    lrq_gguf *g;
    LRQ_ASSERT(lrq_model_load(&m, mp, NULL) == 0 && lrq_gguf_open(&g, mp) == 0);
    size_t n_tok;
    int32_t *tok = tokens_of(m, "data/calib/stories260K-selfgen.txt", 1500, &n_tok);
    LRQ_ASSERT(tok && n_tok > 3 * 64);
    const int n_ctx = 64, n_chunk = 3;
    lrq_imatrix_calc *c;
    lrq_ctx *ctx;
    LRQ_ASSERT(lrq_imatrix_calc_new(&c, m, 0) == 0 && lrq_ctx_new(&ctx, m, n_ctx, n_ctx, 2) == 0);
    const int32_t bos = lrq_vocab_bos(lrq_model_vocab(m));
    CHECK(lrq_imatrix_calc_run(c, ctx, tok, n_tok, n_ctx, n_ctx, n_chunk, bos, NULL, NULL) == n_chunk);
    lrq_imatrix im;
    CHECK(lrq_imatrix_calc_export(c, n_ctx, NULL, 0, &im) == 0);

    /* x = rmsnorm(token_embd[t]) * blk.0.attn_norm, llama.cpp's rms_norm (eps from the file) */
    const lrq_gguf_tensor *emb = lrq_gguf_find_tensor(g, "token_embd.weight");
    const lrq_gguf_tensor *nw = lrq_gguf_find_tensor(g, "blk.0.attn_norm.weight");
    float eps;
    LRQ_ASSERT(emb && nw && emb->type == 0 && lrq_gguf_get_f32(g, "llama.attention.layer_norm_rms_epsilon", &eps) == 1);
    const int64_t E = emb->ne[0];
    double *ref = calloc((size_t)E, sizeof *ref);
    for (int k = 0; k < n_chunk; k++)
        for (int p = 0; p < n_ctx; p++) {
            const int32_t t = p == 0 ? bos : tok[k * n_ctx + p];
            const float *e = (const float *)emb->data + (size_t)t * (size_t)E;
            double ss = 0;
            for (int64_t j = 0; j < E; j++) ss += (double)e[j] * e[j];
            const double scale = 1.0 / sqrt(ss / (double)E + eps);
            for (int64_t j = 0; j < E; j++) {
                const double x = e[j] * scale * ((const float *)nw->data)[j];
                ref[j] += x * x;
            }
        }
    const lrq_imatrix_entry *q = find(&im, "blk.0.attn_q.weight");
    const lrq_imatrix_entry *kk = find(&im, "blk.0.attn_k.weight");
    CHECK(q && kk && q->ne0 == E && q->n_mat == 1);
    if (q && kk) {
        double worst = 0;
        for (int64_t j = 0; j < E; j++) worst = fmax(worst, fabs(q->sum2[j] - ref[j]) / ref[j]);
        /* F32 activations and F32 sums of 192 terms against a double reference */
        CHECKF(worst < 2e-5, "blk.0.attn_q sums vs direct: rel err %.3g", worst);
        CHECKF(q->counts[0] == n_chunk * n_ctx, "counts %g", (double)q->counts[0]);
        CHECK(memcmp(q->sum2, kk->sum2, sizeof(float) * (size_t)E) == 0);
    }
    CHECK(im.chunk_count == n_chunk && im.chunk_size == n_ctx);
    free(ref);
    free(tok);
    lrq_ctx_free(ctx);
    lrq_imatrix_calc_free(c);
    lrq_gguf_close(g);
    lrq_model_free(m);
}

/* A second hook beside the collector: Σ x² in double for every call it
 * should collect, keyed by (entry, expert). */
typedef struct {
    lrq_imatrix_calc *c;
    const lrq_hooks *inner;
    int n_names;
    const char *names[256];
    int32_t n_mat[256];
    double *sum[256];
    long rows[256];
} capture;

static void cap_in(void *ud, const lrq_linear_info *info, const float *x, int n_tok) {
    capture *cp = ud;
    cp->inner->linear_in(cp->inner->ud, info, x, n_tok);
    if (strncmp(info->name, "blk.", 4) != 0) return;
    if (info->expert < 0 && n_tok < 16) return;
    int k = 0;
    while (k < cp->n_names && strcmp(cp->names[k], info->name)) k++;
    if (k == cp->n_names) {
        LRQ_ASSERT(k < 256);
        cp->names[k] = info->name;
        cp->n_mat[k] = 64; /* enough for the models here (8 experts) */
        cp->sum[k] = calloc((size_t)64 * (size_t)info->n_in, sizeof(double));
        cp->n_names++;
    }
    const int mat = info->expert < 0 ? 0 : info->expert;
    for (int r = 0; r < n_tok; r++)
        for (int64_t j = 0; j < info->n_in; j++) {
            const double v = x[(size_t)r * (size_t)info->n_in + (size_t)j];
            cp->sum[k][(size_t)mat * (size_t)info->n_in + (size_t)j] += v * v;
        }
    cp->rows[k] += n_tok;
}

static void test_rules(void) {
    /* DeepSeek-MoE: dense layer 0, MoE layers with router, shared expert and 8 experts */
    lrq_model *m;
    LRQ_ASSERT(lrq_model_load(&m, test_shared("models/zoo/ts-dsmoe-11M-f32.gguf"), NULL) == 0);
    lrq_model_info mi;
    lrq_model_get_info(m, &mi);
    size_t n_tok;
    int32_t *tok = tokens_of(m, "data/calib/ts260k-synth-calib.txt", 1000, &n_tok);
    const int n_ctx = 40, n_batch = 16, n_chunk = 3; /* pieces of 16, 16, 8: the 8 skipped by dense linears */
    LRQ_ASSERT(tok && n_tok >= (size_t)n_ctx * n_chunk);
    lrq_imatrix_calc *c;
    lrq_ctx *ctx;
    LRQ_ASSERT(lrq_imatrix_calc_new(&c, m, 1) == 0 && lrq_ctx_new(&ctx, m, n_ctx, n_batch, 2) == 0);
    /* run the pieces by hand so the capture hook sees them too */
    capture cp = { .c = c, .inner = lrq_imatrix_calc_hooks(c) };
    lrq_hooks h = { .ud = &cp, .linear_in = cap_in };
    lrq_ctx_set_hooks(ctx, &h);
    int ok = 1;
    for (int k = 0; k < n_chunk && ok; k++) {
        lrq_ctx_reset(ctx);
        int32_t chunk[40];
        memcpy(chunk, tok + k * n_ctx, sizeof chunk);
        chunk[0] = lrq_vocab_bos(lrq_model_vocab(m));
        for (int b = 0; b < n_ctx && ok; b += n_batch)
            ok = lrq_ctx_eval(ctx, chunk + b, n_ctx - b < n_batch ? n_ctx - b : n_batch, 0) != NULL;
    }
    CHECKF(ok && lrq_imatrix_calc_status(c) == 0, "eval: %s", lrq_last_error());
    lrq_imatrix im;
    CHECK(lrq_imatrix_calc_export(c, n_ctx, NULL, 0, &im) == 0);
    const uint64_t *uc = lrq_ctx_expert_counts(ctx);
    int n_exp = 0, n_dense = 0, has_out = 0;
    for (int32_t i = 0; i < im.n; i++) {
        const lrq_imatrix_entry *e = &im.e[i];
        if (i > 0) CHECK(strcmp(im.e[i - 1].name, e->name) < 0);
        if (!strcmp(e->name, "output.weight")) { has_out = 1; continue; }
        CHECKF(!strncmp(e->name, "blk.", 4), "entry %s", e->name);
        int layer = atoi(e->name + 4);
        if (e->n_mat > 1) {
            n_exp++;
            CHECK(e->n_mat == mi.n_expert);
            for (int32_t x = 0; x < e->n_mat; x++)
                CHECKF(e->counts[x] == (float)uc[(size_t)layer * (size_t)mi.n_expert + (size_t)x],
                       "%s expert %d: %g vs usage %llu", e->name, x, (double)e->counts[x],
                       (unsigned long long)uc[(size_t)layer * (size_t)mi.n_expert + (size_t)x]);
        } else {
            n_dense++;
            CHECKF(e->counts[0] == n_chunk * 32, "%s: count %g, want %d", e->name, (double)e->counts[0],
                   n_chunk * 32);
        }
        int k = 0;
        while (k < cp.n_names && strcmp(cp.names[k], e->name)) k++;
        CHECKF(k < cp.n_names, "%s not seen by the capture hook", e->name);
        if (k == cp.n_names) continue;
        double worst = 0;
        for (size_t j = 0; j < (size_t)e->ne0 * (size_t)e->n_mat; j++)
            if (cp.sum[k][j] > 0) worst = fmax(worst, fabs(e->sum2[j] - cp.sum[k][j]) / cp.sum[k][j]);
            else CHECK(e->sum2[j] == 0);
        CHECKF(worst < 1e-5, "%s: sums vs double capture: rel %.3g", e->name, worst);
    }
    for (int64_t i = 0; i < lrq_model_n_tensors(m); i++) {
        lrq_tensor_info ti;
        LRQ_ASSERT(lrq_model_tensor_info(m, i, &ti) == 0);
        if (!strcmp(ti.name, "output.weight")) CHECK(has_out);
        if (!strcmp(ti.name, "token_embd.weight")) CHECK(find(&im, ti.name) == NULL);
    }
    CHECK(n_exp == 3 * (mi.n_layer - mi.n_layer_dense_lead) && n_dense > 0);
    for (int k = 0; k < cp.n_names; k++) free(cp.sum[k]);
    free(tok);
    lrq_ctx_free(ctx);
    lrq_imatrix_calc_free(c);
    lrq_model_free(m);
}

/* qwen2moe's shared-expert gate ffn_gate_inp_shexp [n_embd] is a linear to
 * llama-imatrix (a mul_mat): collected, with the router's input (xn). */
static void test_shexp_gate(void) {
    lrq_model *m;
    LRQ_ASSERT(lrq_model_load(&m, test_shared("golden/arch/rand-qwen2moe.gguf"), NULL) == 0);
    size_t n_tok;
    int32_t *tok = tokens_of(m, "data/calib/stories260K-selfgen.txt", 600, &n_tok);
    LRQ_ASSERT(tok && n_tok >= 64);
    lrq_imatrix_calc *c;
    lrq_ctx *ctx;
    LRQ_ASSERT(lrq_imatrix_calc_new(&c, m, 0) == 0 && lrq_ctx_new(&ctx, m, 32, 32, 2) == 0);
    CHECK(lrq_imatrix_calc_run(c, ctx, tok, n_tok, 32, 32, 2, 1, NULL, NULL) == 2);
    lrq_imatrix im;
    CHECK(lrq_imatrix_calc_export(c, 32, NULL, 0, &im) == 0);
    const lrq_imatrix_entry *g = find(&im, "blk.0.ffn_gate_inp_shexp.weight");
    const lrq_imatrix_entry *r = find(&im, "blk.0.ffn_gate_inp.weight");
    CHECK(g && r && g->n_mat == 1 && g->ne0 == r->ne0 && g->counts[0] == 64 && r->counts[0] == 64);
    if (g && r) CHECK(memcmp(g->sum2, r->sum2, sizeof(float) * (size_t)g->ne0) == 0);
    free(tok);
    lrq_ctx_free(ctx);
    lrq_imatrix_calc_free(c);
    lrq_model_free(m);
}

/* The golden commands (../shared/golden/README.md) and how close lrq must be.
 * Why not bit-identical: llama-imatrix ran with its defaults, an F16 KV cache
 * (and flash attention), while lrq's cache is F32. Everything before the
 * first attention is the same computation in the same order, so layer 0's
 * q/k/v sums are required to be bit-identical. After it, K/V rounded to F16
 * (relative 2^-11 = 4.9e-4 per element) move every later activation by
 * that order; summed over thousands of tokens the per-channel sums of dense
 * linears stay within 2e-3 (measured worst: 6.1e-4 stories260K, 3.0e-4
 * qwen3). In MoE layers the same perturbation flips the top-2 choice of a
 * few tokens whose router scores nearly tie: dense counts (routers, shared
 * experts, attention) stay exact, every expert's count within 0.1% (measured:
 * at most 5 of ~13,000) with the per-layer total exact, and an expert's sums
 * move by the flipped tokens' rows, so they are bounded per matrix (Σ|Δ|/Σ
 * <= 2e-3) rather than per channel (one large row in a small channel moved a
 * channel by 3%). Checked once by hand: llama-imatrix rerun on ts-dsmoe-11M
 * with -fa off -ctk f32 -ctv f32 gives every count equal to lrq's and sums
 * within 2e-6, so the cache is the whole difference. */
typedef struct {
    const char *model, *text, *golden;
    int n_ctx, n_batch, n_threads;
} golden_case;

static const golden_case goldens[] = {
    { "models/stories260K/stories260K-f32.gguf", "data/calib/stories260K-selfgen.txt",
      "golden/stories260K/imatrix-selfgen.gguf", 128, 128, 2 },
    { "models/zoo/ts-qwen3-5M-f32.gguf", "data/calib/ts260k-synth-calib.txt",
      "golden/zoo/ts-qwen3-5M/imatrix-ts-qwen3-5M.gguf", 512, 512, 2 },
    { "models/zoo/ts-dsmoe-11M-f32.gguf", "data/calib/ts260k-synth-calib.txt",
      "golden/zoo/ts-dsmoe-11M/imatrix-ts-dsmoe-11M.gguf", 512, 512, 2 },
};

static char *golden_dataset(const lrq_gguf *g) {
    const lrq_gguf_value *v;
    uint64_t n;
    int et;
    if (lrq_gguf_get_arr(g, "imatrix.datasets", &et, &n, &v) != 1 || et != LRQ_GGUF_STRING || n != 1) return NULL;
    char *s = malloc(v->v.arr.items[0].v.str.len + 1);
    memcpy(s, v->v.arr.items[0].v.str.ptr, v->v.arr.items[0].v.str.len);
    s[v->v.arr.items[0].v.str.len] = 0;
    return s;
}

static void compare_golden(const golden_case *gc) {
    lrq_gguf *ref;
    if (lrq_gguf_open(&ref, test_shared(gc->golden))) { CHECKF(0, "%s: %s", gc->golden, lrq_last_error()); return; }
    char *dataset = golden_dataset(ref);
    CHECKF(dataset != NULL, "%s: no single imatrix.datasets string", gc->golden);
    const char *out = tmp_path("golden.gguf");
    /* the golden file names its text by the path llama-imatrix was given; store the same string so the
     * metadata can be compared byte for byte (the CLI stores -f as given, like llama-imatrix) */
    lrq_imatrix_params p = { .model = test_shared(gc->model), .text = test_shared(gc->text), .out = out,
                             .dataset = dataset, .n_ctx = gc->n_ctx, .n_batch = gc->n_batch, .max_chunks = -1,
                             .n_threads = gc->n_threads };
    lrq_imatrix_result r;
    const int rc = lrq_imatrix_compute(&p, &r);
    CHECKF(rc == 0, "%s: %s", gc->model, lrq_last_error());
    lrq_gguf *g = NULL;
    if (rc == 0 && lrq_gguf_open(&g, out)) CHECKF(0, "%s: %s", out, lrq_last_error());
    if (!g) { free(dataset); lrq_gguf_close(ref); return; }

    /* the metadata and tensor table: the same bytes */
    FILE *fa = fopen(out, "rb"), *fb = fopen(test_shared(gc->golden), "rb");
    const size_t hdr = lrq_gguf_data_offset(ref);
    CHECKF(lrq_gguf_data_offset(g) == hdr && lrq_gguf_file_size(g) == lrq_gguf_file_size(ref),
           "%s: layout differs (data at %zu vs %zu, size %zu vs %zu)", gc->golden, lrq_gguf_data_offset(g), hdr,
           lrq_gguf_file_size(g), lrq_gguf_file_size(ref));
    char *ba = malloc(hdr), *bb = malloc(hdr);
    CHECK(fa && fb && fread(ba, 1, hdr, fa) == hdr && fread(bb, 1, hdr, fb) == hdr);
    CHECKF(memcmp(ba, bb, hdr) == 0, "%s: metadata/tensor table bytes differ", gc->golden);
    free(ba); free(bb);
    if (fa) fclose(fa);
    if (fb) fclose(fb);
    uint32_t cc = 0;
    CHECK(lrq_gguf_get_u32(ref, "imatrix.chunk_count", &cc) == 1 && (uint32_t)r.chunk_count == cc);

    double worst_dense = 0, worst_exp = 0;
    int n_exact = 0;
    const int64_t nt = lrq_gguf_n_tensors(ref);
    CHECK(lrq_gguf_n_tensors(g) == nt);
    for (int64_t i = 0; i < nt && lrq_gguf_n_tensors(g) == nt; i++) {
        const lrq_gguf_tensor *a = lrq_gguf_tensor_at(g, i), *b = lrq_gguf_tensor_at(ref, i);
        if (strcmp(a->name, b->name) || a->n_dims != b->n_dims || a->ne[0] != b->ne[0] || a->ne[1] != b->ne[1]) {
            CHECKF(0, "tensor %lld: %s vs %s", (long long)i, a->name, b->name);
            continue;
        }
        const float *x = a->data, *y = b->data;
        const int64_t ne0 = a->ne[0], nm = a->ne[1];
        const int counts = strstr(a->name, ".counts") != NULL;
        if (counts && nm == 1) {
            CHECKF(x[0] == y[0], "%s: %g vs %g", a->name, (double)x[0], (double)y[0]);
        } else if (counts) {
            double sa = 0, sb = 0;
            for (int64_t k = 0; k < nm; k++) {
                sa += x[k];
                sb += y[k];
                CHECKF(fabs(x[k] - y[k]) <= 1e-3 * y[k], "%s[%lld]: %g vs %g", a->name, (long long)k,
                       (double)x[k], (double)y[k]);
            }
            CHECKF(sa == sb, "%s: total %g vs %g", a->name, sa, sb);
        } else if (nm == 1) {
            double w = 0;
            for (int64_t j = 0; j < ne0; j++) w = fmax(w, fabs((double)x[j] - y[j]) / fmax(y[j], 1e-30));
            worst_dense = fmax(worst_dense, w);
            CHECKF(w <= 2e-3, "%s: per-channel rel %.3g > 2e-3", a->name, w);
            if (!strncmp(a->name, "blk.0.attn_", 11) && !strstr(a->name, "attn_output")) {
                CHECKF(memcmp(x, y, sizeof(float) * (size_t)ne0) == 0, "%s: not bit-identical", a->name);
                n_exact++;
            }
        } else {
            for (int64_t k = 0; k < nm; k++) {
                double d = 0, s = 0;
                for (int64_t j = 0; j < ne0; j++) {
                    d += fabs((double)x[k * ne0 + j] - y[k * ne0 + j]);
                    s += y[k * ne0 + j];
                }
                worst_exp = fmax(worst_exp, d / s);
                CHECKF(d <= 2e-3 * s, "%s expert %lld: sum |diff| / sum %.3g > 2e-3", a->name, (long long)k, d / s);
            }
        }
    }
    CHECK(n_exact == 3);
    fprintf(stderr, "  %-36s %d entries, %d chunks, %.1f s: dense worst rel %.3g, expert worst %.3g\n", gc->golden,
            r.n_entries, r.n_chunks, r.seconds, worst_dense, worst_exp);
    lrq_gguf_close(g);
    lrq_gguf_close(ref);
    free(dataset);
    unlink(out);
}

static void test_golden(void) {
    size_t n = sizeof goldens / sizeof goldens[0];
#ifdef TEST_ASAN
    /* tests/test_sanitize.sh runs this binary in an -O0 ASan build, where the two zoo models' 54K-token
     * runs would take a quarter of an hour: there the stories260K file (same code paths but MoE) only */
    n = 1;
    fprintf(stderr, "  sanitizer build: the stories260K golden file only (the zoo ones run in the normal build)\n");
#endif
    for (size_t i = 0; i < n; i++) compare_golden(&goldens[i]);
}

static void test_save(void) {
    float s_dense[3] = { 1, 2, 3 }, c_dense[1] = { 10 };
    float s_exp[6] = { 1, 2, 3, 4, 0, 0 }, c_exp[3] = { 5, 7, 0 };
    lrq_imatrix_entry e[2] = {
        { .name = "blk.2.ffn_up.weight", .ne0 = 3, .n_mat = 1, .sum2 = s_dense, .counts = c_dense },
        { .name = "blk.10.ffn_up_exps.weight", .ne0 = 2, .n_mat = 3, .sum2 = s_exp, .counts = c_exp },
    };
    char *ds[1] = { "calib.txt" };
    lrq_imatrix im = { .n = 2, .e = e, .chunk_count = 4, .chunk_size = 16, .n_datasets = 1, .datasets = ds };
    const char *path = tmp_path("save.gguf");
    CHECKF(lrq_imatrix_save(&im, path) == 0, "%s", lrq_last_error());
    lrq_gguf *g;
    if (lrq_gguf_open(&g, path) == 0) {
        CHECK(lrq_gguf_n_tensors(g) == 4 && lrq_gguf_n_kv(g) == 4);
        static const char *names[4] = { "blk.10.ffn_up_exps.weight.in_sum2", "blk.10.ffn_up_exps.weight.counts",
                                        "blk.2.ffn_up.weight.in_sum2", "blk.2.ffn_up.weight.counts" };
        static const int64_t ne[4][2] = { { 2, 3 }, { 1, 3 }, { 3, 1 }, { 1, 1 } };
        static const uint32_t nd[4] = { 2, 2, 1, 1 };
        for (int i = 0; i < 4 && lrq_gguf_n_tensors(g) == 4; i++) {
            const lrq_gguf_tensor *t = lrq_gguf_tensor_at(g, i);
            CHECKF(!strcmp(t->name, names[i]) && t->type == 0 && t->n_dims == nd[i] && t->ne[0] == ne[i][0] &&
                   t->ne[1] == ne[i][1], "tensor %d: %s", i, t->name);
        }
        const lrq_gguf_tensor *t = lrq_gguf_find_tensor(g, "blk.10.ffn_up_exps.weight.counts");
        CHECK(t && memcmp(t->data, c_exp, sizeof c_exp) == 0);
        static const char *keys[4] = { "general.type", "imatrix.datasets", "imatrix.chunk_count", "imatrix.chunk_size" };
        for (int i = 0; i < 4; i++) CHECK(!strcmp(lrq_gguf_kv_at(g, i)->key, keys[i]));
        uint32_t v = 0;
        CHECK(lrq_gguf_get_u32(g, "imatrix.chunk_count", &v) == 1 && v == 4);
        CHECK(lrq_gguf_get_u32(g, "imatrix.chunk_size", &v) == 1 && v == 16);
        CHECK(lrq_gguf_find(g, "general.alignment") == NULL);
        lrq_gguf_close(g);
    } else {
        CHECKF(0, "%s", lrq_last_error());
    }
    unlink(path);
    /* bad matrices: an error naming the entry, no file */
    s_exp[1] = NAN;
    CHECK(lrq_imatrix_save(&im, path) == -1 && strstr(lrq_last_error(), "blk.10.ffn_up_exps.weight"));
    CHECK(access(path, F_OK) != 0);
    s_exp[1] = 2;
    e[1].name = "blk.2.ffn_up.weight";
    CHECK(lrq_imatrix_save(&im, path) == -1 && strstr(lrq_last_error(), "twice"));
    CHECK(access(path, F_OK) != 0);
    e[1].name = "blk.10.ffn_up_exps.weight";
    CHECK(lrq_imatrix_save(&im, tmp_path("no/such/folder/x.gguf")) == -1);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/lrq_imcalc_XXXXXX");
    if (!mkdtemp(tmpdir)) return 1;
    TEST_RUN(test_save);
    TEST_RUN(test_direct);
    TEST_RUN(test_rules);
    TEST_RUN(test_shexp_gate);
    TEST_RUN(test_golden);
    rmdir(tmpdir);
    return test_finish();
}
