/* test_lq_model.c — lq formats end to end on the zoo Qwen3 (real trained
 * weights): `lrq quantize` with lq specs (base type and per-tensor rules
 * covering every companion kind), the GGUF layout (lrq_lq_bytes equals the
 * bytes written, spec keys canonical), the loader's decoded planes equal to
 * a direct lrq_lq_quantize of the source tensor, the logits of the lq model
 * equal to an F32 model of the dequantized weights within float tolerance,
 * and the PPL of lq4 g32 near the F32 PPL (bounded by Q4_0's distance,
 * measured here on the same chunks), and clear errors for bad lq files. */
#define _POSIX_C_SOURCE 200809L
#include "testlib.h"
#include "core/core.h"
#include "fmt/lq_spec.h"
#include "fmt/planes.h"
#include "fmt/types.h"
#include "io/gguf.h"
#include "io/text.h"
#include "lrq.h"
#include "model/model.h"
#include "quant/lq_quant.h"
#include "quant/lq_store.h"
#include "tok/vocab.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char src_path[1024], q40_path[1024], text_path[1024];
static char mix_path[256], lq4_path[256], deq_path[256];

/* Every companion kind at least once: pq with asym (sq, sd, zq) and og,
 * per-row codebooks, BF16 with asym (s, z) and a tensor codebook, per-row
 * groups, 5 and 8 bits. */
static const char *const mix_rules[] = {
    "*.attn_q.weight=lq:b3g64apq6x8og",  "*.attn_k.weight=lq:b2grkr3u",    "*.attn_v.weight=lq:b4g32apb16kt4",
    "*.ffn_down.weight=lq:b5g16a",       "output.weight=lq:b8g128",        "blk.0.ffn_up.weight=lq:b3g32rso0.5cs",
    "blk.1.ffn_gate.weight=lq:b4g32rz0.5", "blk.2.ffn_up.weight=lq:b6g256pq8x4",
};

static int quantize(const char *out, const char *type, const char *const *rules, int n_rules) {
    lrq_quantize_params p = { .in = src_path, .out = out, .type = type, .rules = rules, .n_rules = n_rules,
                              .n_threads = 2 };
    int r = lrq_quantize(&p, NULL);
    if (r) test_fail(__FILE__, __LINE__, "quantize %s: %s", type, lrq_last_error());
    return r;
}

/* Row r of a loaded planes tensor dequantized from its view alone:
 * w = scale * (v - (zero - offset)) (fmt/tensor.h). */
static void view_row(const lrq_tensor *t, int64_t r, float *y) {
    const lrq_qparams *qp = &t->qp;
    const int b = lrq_type_lq_bits(t->type);
    size_t rb;
    lrq_planes_row_bytes(b, t->ne[0], &rb);
    const uint8_t *row = (const uint8_t *)t->data + (size_t)r * rb;
    const int64_t ng = t->ne[0] / qp->group;
    const float *cb = qp->codebook ? qp->codebook + (qp->cb_rows == 1 ? 0 : r) * (1 << b) : NULL;
    for (int64_t j = 0; j < t->ne[0]; j++) {
        const int64_t i = r * ng + j / qp->group;
        const unsigned c = lrq_planes_code(row, b, j);
        const float v = cb ? cb[c] : (float)c, z = qp->zero ? qp->zero[i] : 0.0f;
        y[j] = qp->scale[i] * (v - (z - qp->offset));
    }
}

/* The file: every lq tensor's parts sum to lrq_lq_bytes and its key holds
 * the canonical spec; the loaded planes are what lrq_lq_quantize of the
 * source gives (same seed), value for value. */
static void test_layout_and_load(void) {
    lrq_gguf *g = NULL, *gs = NULL;
    if (lrq_gguf_open(&g, mix_path) || lrq_gguf_open(&gs, src_path)) {
        CHECKF(0, "%s", lrq_last_error());
        return;
    }
    lrq_model *m = NULL;
    CHECKF(lrq_model_load(&m, mix_path, NULL) == 0, "%s", lrq_last_error());
    int n_lq = 0, kinds_seen = 0;
    for (int64_t i = 0; m && i < lrq_gguf_n_tensors(g); i++) {
        const lrq_gguf_tensor *t = lrq_gguf_tensor_at(g, i);
        if (!lrq_type_lq_bits(t->type)) continue;
        n_lq++;
        char key[160], txt[96], canon[64];
        const char *sv;
        uint64_t sl;
        lrq_lq_key(t->name, key, sizeof key);
        if (lrq_gguf_get_str(g, key, &sv, &sl) != 1 || sl >= sizeof txt) {
            CHECKF(0, "%s: no key %s", t->name, key);
            continue;
        }
        memcpy(txt, sv, sl);
        txt[sl] = 0;
        lrq_lq_spec s;
        CHECK(lrq_lq_spec_parse(txt, &s) == 0 && lrq_lq_spec_format(&s, canon, sizeof canon) == 0 &&
              !strcmp(canon, txt));
        uint64_t want, got = t->nbytes;
        CHECK(lrq_lq_bytes(&s, t->ne[0], t->ne[1], &want) == 0);
        lrq_lq_part parts[LRQ_LQ_N_PARTS];
        const int np = lrq_lq_layout(&s, t->n_dims, t->ne, parts);
        CHECK(np >= 2);
        for (int k = 1; k < np; k++) {
            char cn[160];
            snprintf(cn, sizeof cn, "%s%s", t->name, parts[k].suffix);
            const lrq_gguf_tensor *c = lrq_gguf_find_tensor(g, cn);
            CHECKF(c != NULL, "missing %s", cn);
            if (c) got += c->nbytes, kinds_seen |= 1 << parts[k].kind;
        }
        CHECKF(got == want, "%s (%s): %llu bytes written, lrq_lq_bytes %llu", t->name, txt,
               (unsigned long long)got, (unsigned long long)want);

        /* the loaded view against a direct quantization of the source */
        const lrq_gguf_tensor *st = lrq_gguf_find_tensor(gs, t->name);
        const lrq_tensor *lt = lrq_weights_find(m->w, t->name);
        CHECK(st && st->type == LRQ_TYPE_F32 && lt && lt->qp.layout == LRQ_PARAMS_PLANES);
        if (!st || !lt) continue;
        lrq_lq_qt q;
        if (lrq_lq_quantize(&s, st->data, st->ne[0], st->ne[1], NULL, lrq_lq_name_seed(t->name), NULL, &q)) {
            CHECKF(0, "%s", lrq_last_error());
            continue;
        }
        CHECKF(memcmp(q.codes, lt->data, (size_t)q.nrow * q.row_bytes) == 0, "%s: codes differ", t->name);
        float *a = malloc((size_t)q.ne0 * sizeof *a), *b = malloc((size_t)q.ne0 * sizeof *b);
        int bad = 0;
        double worst = 0;
        for (int64_t r = 0; r < q.nrow; r++) {
            lrq_lq_dequant_row(&q, r, a);
            view_row(lt, r, b);
            for (int64_t j = 0; j < q.ne0; j++) {
                /* exact, except where the view folds z - o (or a codebook
                 * value) in another order than the quantizer's formula */
                const double d = fabs((double)a[j] - b[j]);
                if (d > 1e-6 * (fabs(a[j]) + 1e-3)) bad++;
                if (d > worst) worst = d;
            }
        }
        CHECKF(bad == 0, "%s: %d values differ between file and quantizer (worst %g)", t->name, bad, worst);
        free(a);
        free(b);
        lrq_lq_qt_free(&q);
    }
    CHECK(n_lq >= 40);
    const int all = (1 << LRQ_LQ_S) | (1 << LRQ_LQ_SQ) | (1 << LRQ_LQ_SD) | (1 << LRQ_LQ_Z) | (1 << LRQ_LQ_ZQ) |
                    (1 << LRQ_LQ_OG) | (1 << LRQ_LQ_CB);
    CHECKF(kinds_seen == all, "companion kinds seen %#x, want %#x", kinds_seen, all);
    /* companions are not model tensors; the norms stayed F32 */
    CHECK(m && lrq_weights_find(m->w, "output.weight.lq_s") == NULL);
    const lrq_tensor *nrm = m ? lrq_weights_find(m->w, "blk.0.attn_norm.weight") : NULL;
    CHECK(nrm && nrm->type == LRQ_TYPE_F32);
    lrq_model_free(m);
    lrq_gguf_close(g);
    lrq_gguf_close(gs);
}

/* An F32 GGUF of the lq model's dequantized weights (from the loaded views). */
static int write_dequantized(const char *lq, const char *out) {
    lrq_gguf *g = NULL;
    lrq_model *m = NULL;
    lrq_gguf_writer *w = NULL;
    float **bufs = NULL;
    int64_t nb = 0, rc = -1;
    if (lrq_gguf_open(&g, lq) || lrq_model_load(&m, lq, NULL) || !(w = lrq_gguf_writer_new())) goto done;
    bufs = calloc((size_t)lrq_gguf_n_tensors(g), sizeof *bufs);
    for (int64_t i = 0; i < lrq_gguf_n_kv(g); i++) {
        const lrq_gguf_kv *kv = lrq_gguf_kv_at(g, i);
        if (strncmp(kv->key, "lrq.lq.", 7) && lrq_gguf_writer_set(w, kv->key, &kv->val)) goto done;
    }
    for (int64_t i = 0; i < lrq_gguf_n_tensors(g); i++) {
        const lrq_gguf_tensor *t = lrq_gguf_tensor_at(g, i);
        size_t bl;
        if (lrq_lq_companion(t->name, &bl) >= 0) continue;
        if (!lrq_type_lq_bits(t->type)) {
            if (lrq_gguf_writer_add_tensor(w, t->name, t->type, t->n_dims, t->ne, t->data)) goto done;
            continue;
        }
        const lrq_tensor *lt = lrq_weights_find(m->w, t->name);
        float *d = bufs[nb++] = malloc((size_t)(t->ne[0] * t->ne[1]) * sizeof *d);
        for (int64_t r = 0; r < t->ne[1]; r++) view_row(lt, r, d + r * t->ne[0]);
        if (lrq_gguf_writer_add_tensor(w, t->name, LRQ_TYPE_F32, t->n_dims, t->ne, d)) goto done;
    }
    rc = lrq_gguf_writer_write(w, out);
done:
    if (rc) test_fail(__FILE__, __LINE__, "dequantized copy: %s", lrq_last_error());
    for (int64_t i = 0; i < nb; i++) free(bufs[i]);
    free(bufs);
    lrq_gguf_writer_free(w);
    lrq_model_free(m);
    lrq_gguf_close(g);
    return (int)rc;
}

/* Logits [n][n_vocab] of ids at positions 0.. under activation policy
 * `policy` (-1: the default), in batches of `batch` tokens. */
static float *eval_logits_as(const char *path, const int32_t *ids, int n, int n_threads, int policy, int batch,
                             int32_t *n_vocab) {
    lrq_model *m;
    lrq_ctx *c;
    if (lrq_model_load(&m, path, NULL)) return NULL;
    if ((policy >= 0 && lrq_model_set_act_policy(m, policy)) || lrq_ctx_new(&c, m, 64, batch, n_threads)) {
        lrq_model_free(m);
        return NULL;
    }
    *n_vocab = m->hp.n_vocab;
    const size_t nv = (size_t)*n_vocab;
    float *out = malloc((size_t)n * nv * sizeof *out);
    for (int i = 0; out && i < n; i += batch) {
        const int nb = n - i < batch ? n - i : batch;
        const float *l = lrq_ctx_eval(c, ids + i, nb, 0); /* positions continue from the cache */
        if (!l) {
            free(out);
            out = NULL;
        } else {
            memcpy(out + (size_t)i * nv, l, (size_t)nb * nv * sizeof *out);
        }
    }
    lrq_ctx_free(c);
    lrq_model_free(m);
    return out;
}

static float *eval_logits(const char *path, const int32_t *ids, int n, int n_threads, int32_t *n_vocab) {
    return eval_logits_as(path, ids, n, n_threads, -1, n, n_vocab);
}

static double max_diff(const float *a, const float *b, int64_t n, double *mag) {
    double worst = 0;
    *mag = 0;
    for (int64_t i = 0; i < n; i++) {
        worst = fmax(worst, fabs((double)a[i] - b[i]));
        *mag = fmax(*mag, fabs((double)b[i]));
    }
    return worst;
}

/* With F32 activations the lq model computes what an F32 model of its
 * dequantized weights computes: the planes kernels apply the parameters per
 * group (a different float order than F32 dots), so within a tolerance, not
 * bit for bit. By default (int8 activations, kern/planes_q8.h) it differs
 * from that only by the activation rounding: a little, but not nothing. Both
 * give the same bits with 1 and 2 threads, and the default the same bits
 * whether the 12 tokens come as one batch (tile kernels), in batches of 5,
 * or one at a time (single-token kernels). */
static void test_logits(void) {
    if (write_dequantized(mix_path, deq_path)) return;
    const int32_t ids[12] = {1, 400, 50, 7, 90, 33, 200, 12, 5, 77, 301, 18};
    const int64_t n = 12;
    int32_t nv = 0, nv2 = 0;
    float *f = eval_logits_as(mix_path, ids, 12, 2, LRQ_ACT_F32, 12, &nv), *b = eval_logits(deq_path, ids, 12, 1, &nv2);
    float *f1 = eval_logits_as(mix_path, ids, 12, 1, LRQ_ACT_F32, 12, &nv);
    float *a = eval_logits(mix_path, ids, 12, 2, &nv), *a1 = eval_logits(mix_path, ids, 12, 1, &nv);
    float *a5 = eval_logits_as(mix_path, ids, 12, 2, -1, 5, &nv), *a1t = eval_logits_as(mix_path, ids, 12, 1, -1, 1, &nv);
    CHECKF(f && b && f1 && a && a1 && a5 && a1t && nv == nv2, "%s", lrq_last_error());
    if (f && b && f1 && a && a1 && a5 && a1t) {
        const size_t bytes = (size_t)n * (size_t)nv * sizeof *a;
        double mag, worst = max_diff(f, b, n * nv, &mag);
        printf("  lq mix (F32 activations) vs dequantized F32: max |logit diff| %.3g (max |logit| %.3g)\n", worst, mag);
        CHECKF(worst <= 1e-4 * mag + 1e-4, "logits differ by %g (scale %g)", worst, mag);
        CHECK(memcmp(f, f1, bytes) == 0); /* 2 threads = 1 thread */
        worst = max_diff(a, b, n * nv, &mag);
        printf("  lq mix (int8 activations, the default) vs dequantized F32: max |logit diff| %.3g\n", worst);
        CHECKF(worst > 1e-4 * mag && worst <= 0.03 * mag, "int8 activations: logits differ by %g (scale %g)", worst,
               mag);
        CHECK(memcmp(a, a1, bytes) == 0);  /* 2 threads = 1 thread */
        CHECK(memcmp(a, a5, bytes) == 0);  /* batches of 5 = one batch */
        CHECK(memcmp(a, a1t, bytes) == 0); /* one token at a time = one batch */
    }
    free(f);
    free(b);
    free(f1);
    free(a);
    free(a1);
    free(a5);
    free(a1t);
}

static int ppl_of(const char *path, int chunks, double *ppl) {
    lrq_model *m;
    if (lrq_model_load(&m, path, NULL)) return -1;
    char *buf;
    size_t len, n;
    int32_t *ids = NULL;
    int rc = -1;
    lrq_ctx *c = NULL;
    if (lrq_text_load(text_path, &buf, &len)) goto done;
    rc = lrq_tokenize(m->vocab, buf, len, 1, 0, &ids, &n);
    free(buf);
    if (rc || (rc = lrq_ctx_new(&c, m, 512, 512, 2))) goto done;
    lrq_ppl_params p = { .n_ctx = 512, .n_batch = 512, .max_chunks = chunks };
    lrq_ppl_result r;
    rc = lrq_perplexity(c, m, ids, n, &p, &r);
    *ppl = r.ppl;
done:
    if (rc) test_fail(__FILE__, __LINE__, "ppl %s: %s", path, lrq_last_error());
    free(ids);
    lrq_ctx_free(c);
    lrq_model_free(m);
    return rc;
}

/* lq4 g32 (symmetric, F16 scales) close to F32: its PPL excess over F32 is
 * at most twice Q4_0's (golden llama-quantize file, 4.5 bpw as lq4 g32),
 * all measured here on the same 3 chunks of the validation text. */
static void test_ppl(void) {
    double pf = 0, pq = 0, pl = 0;
    if (ppl_of(src_path, 3, &pf) || ppl_of(q40_path, 3, &pq) || ppl_of(lq4_path, 3, &pl)) return;
    printf("  PPL over 3 chunks of 512: F32 %.4f, Q4_0 %.4f, lq:b4g32 %.4f\n", pf, pq, pl);
    CHECKF(pl - pf <= 2.0 * fabs(pq - pf) + 1e-3 * pf, "lq4 %g vs F32 %g (Q4_0 %g)", pl, pf, pq);
    CHECK(pl > 0.9 * pf);
}

/* Refusals: token embeddings, norms, groups that do not divide the row,
 * a bad spec; none leaves a file. A file whose companion is missing or whose
 * spec key is gone fails to load, naming the tensor. */
static void test_errors(void) {
    const char *out = "/tmp/test_lq_model_err.gguf";
    unlink(out);
    const char *r1[] = {"token_embd.weight=lq:b4g32"}, *r2[] = {"*_norm.weight=lq:b4g32"};
    const char *r3[] = {"*.ffn_down.weight=lq:b4g512"}, *r4[] = {"*.attn_q.weight=lq:b4g96"};
    lrq_quantize_params p = { .in = src_path, .out = out, .type = "Q8_0", .n_threads = 1 };
    p.rules = r1, p.n_rules = 1;
    CHECK(lrq_quantize(&p, NULL) == -1 && strstr(lrq_last_error(), "token_embd"));
    p.rules = r2, p.quantize_norms = 1;
    CHECK(lrq_quantize(&p, NULL) == -1 && strstr(lrq_last_error(), "matrices"));
    p.rules = r3, p.quantize_norms = 0;
    CHECK(lrq_quantize(&p, NULL) == -1 && strstr(lrq_last_error(), "512"));
    p.rules = r4;
    CHECK(lrq_quantize(&p, NULL) == -1 && strstr(lrq_last_error(), "divide"));
    p.rules = NULL, p.n_rules = 0, p.type = "lq:b9g32";
    CHECK(lrq_quantize(&p, NULL) == -1 && strstr(lrq_last_error(), "9 bits"));
    CHECK(access(out, F_OK) != 0);

    /* damaged files: drop one companion, then one spec key */
    lrq_gguf *g = NULL;
    if (lrq_gguf_open(&g, mix_path)) { CHECKF(0, "%s", lrq_last_error()); return; }
    for (int pass = 0; pass < 2; pass++) {
        lrq_gguf_writer *w = lrq_gguf_writer_new();
        for (int64_t i = 0; i < lrq_gguf_n_kv(g); i++) {
            const lrq_gguf_kv *kv = lrq_gguf_kv_at(g, i);
            if (pass == 1 && !strcmp(kv->key, "lrq.lq.blk.1.attn_q.weight")) continue;
            lrq_gguf_writer_set(w, kv->key, &kv->val);
        }
        for (int64_t i = 0; i < lrq_gguf_n_tensors(g); i++) {
            const lrq_gguf_tensor *t = lrq_gguf_tensor_at(g, i);
            if (pass == 0 && !strcmp(t->name, "blk.1.attn_q.weight.lq_sd")) continue;
            lrq_gguf_writer_add_tensor(w, t->name, t->type, t->n_dims, t->ne, t->data);
        }
        CHECK(lrq_gguf_writer_write(w, out) == 0);
        lrq_gguf_writer_free(w);
        lrq_model *m = NULL;
        CHECK(lrq_model_load(&m, out, NULL) == -1);
        const char *want = pass == 0 ? "missing companion 'blk.1.attn_q.weight.lq_sd'" : "no spec key";
        CHECKF(strstr(lrq_last_error(), want) && strstr(lrq_last_error(), "blk.1.attn_q.weight"), "got: %s",
               lrq_last_error());
        lrq_model_free(m);
    }
    lrq_gguf_close(g);
    unlink(out);
}

int main(void) {
    snprintf(src_path, sizeof src_path, "%s", test_shared("models/zoo/ts-qwen3-5M-f32.gguf"));
    snprintf(q40_path, sizeof q40_path, "%s", test_shared("golden/zoo/ts-qwen3-5M/ts-qwen3-5M-Q4_0.gguf"));
    snprintf(text_path, sizeof text_path, "%s", test_shared("data/tinystories/ts260k-synth-valid.txt"));
    if (!test_exists(src_path) || !test_exists(q40_path) || !test_exists(text_path)) {
        printf("skip: zoo Qwen3 data not found\n");
        return test_finish();
    }
    const int pid = (int)getpid();
    snprintf(mix_path, sizeof mix_path, "/tmp/test_lq_model_mix_%d.gguf", pid);
    snprintf(lq4_path, sizeof lq4_path, "/tmp/test_lq_model_lq4_%d.gguf", pid);
    snprintf(deq_path, sizeof deq_path, "/tmp/test_lq_model_deq_%d.gguf", pid);
    if (quantize(mix_path, "lq:b4g64a", mix_rules, (int)(sizeof mix_rules / sizeof mix_rules[0])) == 0 &&
        quantize(lq4_path, "lq:b4g32", NULL, 0) == 0) {
        TEST_RUN(test_layout_and_load);
        TEST_RUN(test_logits);
        TEST_RUN(test_ppl);
        TEST_RUN(test_errors);
    }
    unlink(mix_path);
    unlink(lq4_path);
    unlink(deq_path);
    return test_finish();
}
