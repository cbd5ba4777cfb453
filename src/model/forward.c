/* forward.c — the transformer forward pass shared by llama, qwen2 and qwen3
 * (the architecture files only bind tensors and set flags).
 *
 * Numerics follow llama.cpp's CPU backend with an F32 KV cache and no flash
 * attention: activations are rounded to the weight type's partner type
 * (F32/F16/BF16/Q8_0/Q8_1/Q8_K) before each matmul, RMSNorm sums squares in
 * double, the RoPE angle is advanced by repeated multiplication in float.
 * Beyond that, attention, RoPE, SwiGLU and F16/BF16 matmuls reproduce the
 * reference build's exact operation order (kern/order.h): a 1-ulp difference
 * upstream occasionally flips one F16/BF16 rounding and moves the logits by
 * 1e-4..1e-3. Like llama.cpp, results then depend on whether a matmul sees
 * one token or several (its summation order does); they never depend on the
 * thread count: every output element is computed by exactly one thread in a
 * fixed order. All buffers are allocated in lrq_ctx_new: the forward pass
 * never allocates.
 */
#include "model/model.h"
#include "core/core.h"
#include "core/pool.h"
#include "kern/gemm.h"
#include "kern/order.h"
#include "fmt/types.h"

#include <math.h>
#include <stdlib.h>

/* Partner types that activations may be rounded to. */
static const int partner_types[] = { LRQ_TYPE_F16, LRQ_TYPE_BF16, LRQ_TYPE_Q8_0, LRQ_TYPE_Q8_1, LRQ_TYPE_Q8_K };
#define N_PARTNERS ((int)(sizeof partner_types / sizeof partner_types[0]))

struct lrq_ctx {
    const lrq_model *m;
    lrq_pool *pool;
    int n_ctx, n_batch, n_past;
    int64_t kv_dim, q_dim, k_max;
    int n_ctx_pad;       /* n_ctx rounded up to 64 (zero-weighted positions past the sequence) */
    float *kc;           /* [n_layer][n_ctx][kv_dim] */
    float *vt;           /* [n_layer][kv_dim][n_ctx_pad]: V transposed, as llama.cpp's v_trans */
    float *ffn_tmp;      /* [n_threads][n_ff] */
    const lrq_order_kernels *ord;
    float *x;            /* [B][n_embd] residual stream */
    float *xn;           /* [B][k_max] normalised input of a matmul */
    float *q;            /* [B][q_dim] */
    float *k, *v;        /* [B][kv_dim] */
    float *att;          /* [B][q_dim] attention output */
    float *tmp;          /* [B][n_embd] matmul output before the residual add */
    float *gate, *up;    /* [B][n_ff] */
    float *logits;       /* [B][n_vocab] */
    float *scores;       /* [n_threads][n_ctx_pad] */
    float *rope;         /* [B][n_rot] (cos, sin) pairs */
    void *act[N_PARTNERS];       /* [B][row bytes of k_max] per partner type */
    size_t act_stride[N_PARTNERS];
    const float *act_src;        /* input currently held in act[] */
    int act_ok[N_PARTNERS];
};

/* ---------- matmul: out[t][r] = W[r] · x[t] (+ bias[r]) ---------- */

typedef struct {
    const lrq_tensor *W;
    const void *act;      /* activations in the partner type */
    size_t act_stride;    /* bytes between tokens */
    const float *bias;
    float *out;
    int64_t out_stride;   /* floats between tokens */
    int B;
    int64_t N, K;
    size_t row_bytes;
    lrq_vec_dot_fn dot;
    lrq_gemm_fn gemm;     /* tile kernel, or NULL: one dot per output */
    int tile_r, tile_c;   /* its tile: weight rows x tokens */
} mm_task;

#define MM_ROWS 16  /* weight rows kept hot in L1 while all tokens stream past */

/* Tiles of tile_r rows x tile_c tokens. Each output is bit-identical to the
 * vec_dot one (gemm.h), so results do not depend on how tokens are batched.
 * Threads get whole row tiles (a split inside a tile would compute it twice). */
static void mm_worker_tiled(const mm_task *t, int ith, int nth) {
    const long tr = t->tile_r, tc = t->tile_c;
    long lo, hi;
    lrq_split((long)((t->N + tr - 1) / tr), ith, nth, &lo, &hi);
    lo *= tr;
    hi = hi * tr < t->N ? hi * tr : (long)t->N;
    const uint8_t *wbase = t->W->data;
    const uint8_t *act = t->act;
    for (long r0 = lo; r0 < hi; r0 += MM_ROWS) {
        long r1 = r0 + MM_ROWS < hi ? r0 + MM_ROWS : hi;
        for (long b = 0; b < t->B; b += tc) {
            const int nc = (int)(t->B - b < tc ? t->B - b : tc);
            float *o = t->out + b * t->out_stride;
            for (long r = r0; r < r1; r += tr)
                t->gemm(t->K, wbase + (size_t)r * t->row_bytes, t->row_bytes, (int)(r1 - r < tr ? r1 - r : tr),
                        act + (size_t)b * t->act_stride, t->act_stride, nc, o + r, (size_t)t->out_stride);
        }
    }
    if (t->bias)
        for (int b = 0; b < t->B; b++) {
            float *o = t->out + (int64_t)b * t->out_stride;
            for (long r = lo; r < hi; r++) o[r] = o[r] + t->bias[r];
        }
}

static void mm_worker(void *arg, int ith, int nth) {
    const mm_task *t = arg;
    if (t->gemm) {
        mm_worker_tiled(t, ith, nth);
        return;
    }
    long lo, hi;
    lrq_split((long)t->N, ith, nth, &lo, &hi);
    const uint8_t *wbase = t->W->data;
    for (long r0 = lo; r0 < hi; r0 += MM_ROWS) {
        long r1 = r0 + MM_ROWS < hi ? r0 + MM_ROWS : hi;
        for (int b = 0; b < t->B; b++) {
            const void *y = (const uint8_t *)t->act + (size_t)b * t->act_stride;
            float *o = t->out + (int64_t)b * t->out_stride;
            for (long r = r0; r < r1; r++) {
                float s;
                t->dot(t->K, &s, wbase + (size_t)r * t->row_bytes, y);
                o[r] = t->bias ? s + t->bias[r] : s;
            }
        }
    }
}

typedef struct {
    const lrq_type_traits *pt;
    const float *x;
    int64_t K;
    void *dst;
    size_t stride;
    int B;
} quant_task;

static void quant_worker(void *arg, int ith, int nth) {
    const quant_task *t = arg;
    long lo, hi;
    lrq_split(t->B, ith, nth, &lo, &hi);
    for (long b = lo; b < hi; b++)
        t->pt->from_float(t->x + b * t->K, (uint8_t *)t->dst + (size_t)b * t->stride, t->K);
}

/* Marks x as the input of the next matmuls (its rounded copies are made lazily, once per partner type). */
static void act_set(lrq_ctx *c, const float *x) {
    c->act_src = x;
    for (int i = 0; i < N_PARTNERS; i++) c->act_ok[i] = 0;
}

/* order_rows: how many tokens llama.cpp multiplies in this matmul; it picks
 * the F16/BF16 summation order from it (order.h). Equal to B except in the
 * last layer's FFN, where llama.cpp keeps only the rows whose logits are
 * wanted. */
static void matmul_o(lrq_ctx *c, const lrq_tensor *W, const lrq_tensor *bias, float *out, int B, int order_rows) {
    const lrq_type_traits *tt = lrq_type_get(W->type);
    int64_t K = W->ne[0];
    mm_task t = { .W = W, .bias = bias ? bias->data : NULL, .out = out, .out_stride = W->ne[1], .B = B,
                  .N = W->ne[1], .K = K, .dot = tt->vec_dot };
    LRQ_ASSERT(lrq_row_size(W->type, K, &t.row_bytes) == 0);
    if (W->type == LRQ_TYPE_F16 || W->type == LRQ_TYPE_BF16) {
        /* F16/BF16 activations are rounded again after this matmul: reproduce llama.cpp's order exactly
         * (one dot per output; no tile kernel keeps that order yet). */
        const int f16 = W->type == LRQ_TYPE_F16;
        const int gemm = order_rows >= 2 && K % (f16 ? 16 : 32) == 0 && W->ne[1] % 4 == 0;
        t.dot = f16 ? (gemm ? c->ord->f16_gemm : c->ord->f16_vec) : (gemm ? c->ord->bf16_gemm : c->ord->bf16_vec);
    } else if (B >= 2) {
        t.gemm = lrq_gemm_get(W->type, &t.tile_r, &t.tile_c); /* one token: a tile would waste work */
    }
    if (tt->vec_dot_type == LRQ_TYPE_F32) {
        t.act = c->act_src;
        t.act_stride = (size_t)K * sizeof(float);
    } else {
        int pi = -1;
        for (int i = 0; i < N_PARTNERS; i++)
            if (partner_types[i] == tt->vec_dot_type) pi = i;
        LRQ_ASSERT(pi >= 0);
        if (!c->act_ok[pi]) {
            quant_task q = { .pt = lrq_type_get(tt->vec_dot_type), .x = c->act_src, .K = K, .dst = c->act[pi],
                             .stride = c->act_stride[pi], .B = B };
            if (B >= 4) lrq_pool_run(c->pool, quant_worker, &q);
            else quant_worker(&q, 0, 1);
            c->act_ok[pi] = 1;
        }
        t.act = c->act[pi];
        t.act_stride = c->act_stride[pi];
    }
    lrq_pool_run(c->pool, mm_worker, &t);
}

static void matmul(lrq_ctx *c, const lrq_tensor *W, const lrq_tensor *bias, float *out, int B) {
    matmul_o(c, W, bias, out, B, B);
}

/* ---------- elementwise pieces ---------- */

/* y = (x / rms(x)) * w, as ggml: sum of squares in double, scale in float, then the weight. */
static void rmsnorm(float *y, const float *x, const float *w, int64_t n, float eps) {
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) sum += (double)(x[i] * x[i]);
    const float mean = (float)(sum / (double)n);
    const float scale = 1.0f / sqrtf(mean + eps);
    for (int64_t i = 0; i < n; i++) y[i] = (x[i] * scale) * w[i];
}

/* cos/sin table for one position: pairs (cos θ_i, sin θ_i), θ_i = p · base^(-2i/n_rot),
 * advanced by repeated multiplication in float as ggml does. */
static void rope_table(float *cs, int pos, int n_rot, float theta_scale) {
    float theta = (float)pos;
    for (int i0 = 0; i0 < n_rot; i0 += 2) {
        cs[i0] = cosf(theta);
        cs[i0 + 1] = sinf(theta);
        theta *= theta_scale;
    }
}

static void rope_apply(float *x, const float *cs, int n_rot, int neox) {
    if (neox) {
        int half = n_rot / 2;
        for (int i = 0; i < half; i++) {
            float c = cs[2 * i], s = cs[2 * i + 1];
            float x0 = x[i], x1 = x[i + half];
            /* as GCC contracts ggml's x0*cos - x1*sin and x0*sin + x1*cos */
            x[i] = fmaf(x0, c, -(x1 * s));
            x[i + half] = fmaf(x0, s, x1 * c);
        }
    } else {
        for (int i0 = 0; i0 < n_rot; i0 += 2) {
            float c = cs[i0], s = cs[i0 + 1];
            float x0 = x[i0], x1 = x[i0 + 1];
            x[i0] = fmaf(x0, c, -(x1 * s));
            x[i0 + 1] = fmaf(x0, s, x1 * c);
        }
    }
}

/* ---------- attention ---------- */

typedef struct {
    lrq_ctx *c;
    int layer, B;
} attn_task;

/* Exact attention in llama.cpp's order (order.h): KQ = ggml_vec_dot_f32 over
 * head_dim; softmax with ggml's exp, summed per 16 into a double; KQV = V^T
 * times the probabilities, in tinyBLAS order for >= 2 tokens, else in
 * ggml_vec_dot_f32 order, over positions padded with zero weights. */
static void attn_worker(void *arg, int ith, int nth) {
    const attn_task *t = arg;
    lrq_ctx *c = t->c;
    const lrq_hparams *hp = &c->m->hp;
    const lrq_order_kernels *ord = c->ord;
    const int hd = hp->head_dim, n_head = hp->n_head, group = hp->n_head / hp->n_head_kv;
    const float scale = 1.0f / sqrtf((float)hd);
    float *sc = c->scores + (size_t)ith * c->n_ctx_pad;
    const float *kc = c->kc + (size_t)t->layer * c->n_ctx * c->kv_dim;
    const float *vt = c->vt + (size_t)t->layer * c->kv_dim * c->n_ctx_pad;
    long lo, hi;
    lrq_split((long)t->B * n_head, ith, nth, &lo, &hi);
    for (long idx = lo; idx < hi; idx++) {
        int b = (int)(idx / n_head), h = (int)(idx % n_head), hk = h / group;
        int pos = c->n_past + b;
        const float *q = c->q + (size_t)b * c->q_dim + (size_t)h * hd;
        float mx = -INFINITY;
        for (int j = 0; j <= pos; j++) {
            const float s = ord->f32_vec(hd, kc + (size_t)j * c->kv_dim + (size_t)hk * hd, q) * scale;
            sc[j] = s;
            if (s > mx) mx = s;
        }
        const int n16 = (pos + 16) & ~15, n64 = (pos + 64) & ~63;
        for (int j = 0; j <= pos; j++) sc[j] -= mx;
        ord->exp(pos + 1, sc, sc);
        for (int j = pos + 1; j < n64; j++) sc[j] = 0.0f;
        double sum = 0.0;
        for (int j0 = 0; j0 < n16; j0 += 16) sum += (double)lrq_order_hsum16(sc + j0);
        const float inv = (float)(1.0 / sum);
        for (int j = 0; j <= pos; j++) sc[j] *= inv;
        float *o = c->att + (size_t)b * c->q_dim + (size_t)h * hd;
        const float *v = vt + (size_t)hk * hd * c->n_ctx_pad;
        for (int d = 0; d < hd; d++)
            o[d] = t->B >= 2 ? ord->f32_gemm(n16, v + (size_t)d * c->n_ctx_pad, sc)
                             : ord->f32_vec(n64, v + (size_t)d * c->n_ctx_pad, sc);
    }
}

/* ---------- per-token work (norms, rope, activations) ---------- */

enum tok_op { OP_ATTN_IN, OP_QK_ROPE, OP_FFN_IN, OP_SWIGLU, OP_RESID, OP_EMBED };

typedef struct {
    lrq_ctx *c;
    int op, layer, B;
    const int32_t *tokens;
} tok_task;

static void tok_worker(void *arg, int ith, int nth) {
    const tok_task *t = arg;
    lrq_ctx *c = t->c;
    const lrq_model *m = c->m;
    const lrq_hparams *hp = &m->hp;
    const lrq_layer *L = t->layer >= 0 ? &m->layers[t->layer] : NULL;
    const int64_t E = hp->n_embd;
    long lo, hi;
    lrq_split(t->B, ith, nth, &lo, &hi);
    for (long b = lo; b < hi; b++) {
        float *x = c->x + b * E;
        switch (t->op) {
        case OP_EMBED: {
            const lrq_type_traits *tt = lrq_type_get(m->tok_embd->type);
            size_t rb;
            LRQ_ASSERT(lrq_row_size(m->tok_embd->type, E, &rb) == 0);
            tt->to_float((const uint8_t *)m->tok_embd->data + (size_t)t->tokens[b] * rb, x, E);
            break;
        }
        case OP_ATTN_IN:
            rmsnorm(c->xn + b * E, x, L->attn_norm->data, E, hp->rms_eps);
            break;
        case OP_FFN_IN:
            rmsnorm(c->xn + b * E, x, L->ffn_norm->data, E, hp->rms_eps);
            break;
        case OP_QK_ROPE: {
            const int hd = hp->head_dim;
            float *q = c->q + b * c->q_dim, *k = c->k + b * c->kv_dim, *v = c->v + b * c->kv_dim;
            if (L->q_norm) {
                for (int h = 0; h < hp->n_head; h++)
                    rmsnorm(q + h * hd, q + h * hd, L->q_norm->data, hd, hp->rms_eps);
                for (int h = 0; h < hp->n_head_kv; h++)
                    rmsnorm(k + h * hd, k + h * hd, L->k_norm->data, hd, hp->rms_eps);
            }
            const float *cs = c->rope + b * hp->n_rot;
            const int neox = hp->rope_kind == LRQ_ROPE_NEOX;
            for (int h = 0; h < hp->n_head; h++) rope_apply(q + h * hd, cs, hp->n_rot, neox);
            for (int h = 0; h < hp->n_head_kv; h++) rope_apply(k + h * hd, cs, hp->n_rot, neox);
            size_t off = ((size_t)t->layer * c->n_ctx + (size_t)(c->n_past + b)) * c->kv_dim;
            memcpy(c->kc + off, k, (size_t)c->kv_dim * sizeof(float));
            float *vt = c->vt + (size_t)t->layer * c->kv_dim * c->n_ctx_pad + (c->n_past + b);
            for (int64_t i = 0; i < c->kv_dim; i++) vt[(size_t)i * c->n_ctx_pad] = v[i];
            break;
        }
        case OP_SWIGLU: {
            float *g = c->gate + b * hp->n_ff, *u = c->up + b * hp->n_ff;
            /* ggml_vec_swiglu_f32: its vector exp on whole groups of 16, libm expf on the rest */
            const int64_t nv = hp->n_ff & ~(int64_t)15;
            float *e = c->ffn_tmp + (size_t)ith * hp->n_ff;
            for (int64_t i = 0; i < nv; i++) e[i] = 0.0f - g[i];
            c->ord->exp(nv, e, e);
            for (int64_t i = 0; i < nv; i++) g[i] = g[i] / (1.0f + e[i]) * u[i];
            for (int64_t i = nv; i < hp->n_ff; i++) g[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
            break;
        }
        case OP_RESID: {
            const float *d = c->tmp + b * E;
            for (int64_t i = 0; i < E; i++) x[i] = d[i] + x[i];
            break;
        }
        }
    }
}

static void tok_run(lrq_ctx *c, int op, int layer, int B, const int32_t *tokens) {
    tok_task t = { .c = c, .op = op, .layer = layer, .B = B, .tokens = tokens };
    if (B >= 4) lrq_pool_run(c->pool, tok_worker, &t);
    else tok_worker(&t, 0, 1);
}

/* ---------- context ---------- */

int lrq_ctx_new(lrq_ctx **out, const lrq_model *m, int n_ctx, int n_batch, int n_threads) {
    *out = NULL;
    const lrq_hparams *hp = &m->hp;
    if (n_ctx < 1 || n_ctx > (1 << 22)) return lrq_err_set("context length %d out of range", n_ctx);
    if (n_batch < 1 || n_batch > n_ctx) return lrq_err_set("batch size %d out of range (1..%d)", n_batch, n_ctx);
    lrq_types_init();
    lrq_ctx *c = lrq_calloc(1, sizeof *c);
    if (!c) return -1;
    c->m = m;
    c->n_ctx = n_ctx;
    c->n_batch = n_batch;
    c->kv_dim = (int64_t)hp->n_head_kv * hp->head_dim;
    c->q_dim = (int64_t)hp->n_head * hp->head_dim;
    int64_t kmax = hp->n_embd;
    if (c->q_dim > kmax) kmax = c->q_dim;
    if (hp->n_ff > kmax) kmax = hp->n_ff;
    c->k_max = kmax;
    if (!(c->pool = lrq_pool_new(n_threads))) goto fail;
    size_t B = (size_t)n_batch, cache = (size_t)hp->n_layer * (size_t)n_ctx * (size_t)c->kv_dim;
#define ALLOC(f, count) do { if (!(c->f = lrq_calloc((count), sizeof(float)))) goto fail; } while (0)
    c->n_ctx_pad = (n_ctx + 63) & ~63;
    c->ord = lrq_order_get();
    ALLOC(kc, cache);
    ALLOC(vt, (size_t)hp->n_layer * (size_t)c->kv_dim * (size_t)c->n_ctx_pad);
    ALLOC(ffn_tmp, (size_t)n_threads * (size_t)hp->n_ff);
    ALLOC(x, B * (size_t)hp->n_embd);
    ALLOC(xn, B * (size_t)kmax);
    ALLOC(q, B * (size_t)c->q_dim);
    ALLOC(k, B * (size_t)c->kv_dim);
    ALLOC(v, B * (size_t)c->kv_dim);
    ALLOC(att, B * (size_t)c->q_dim);
    ALLOC(tmp, B * (size_t)hp->n_embd);
    ALLOC(gate, B * (size_t)hp->n_ff);
    ALLOC(up, B * (size_t)hp->n_ff);
    ALLOC(logits, B * (size_t)hp->n_vocab);
    ALLOC(scores, (size_t)n_threads * (size_t)c->n_ctx_pad);
    ALLOC(rope, B * (size_t)hp->n_rot);
#undef ALLOC
    for (int i = 0; i < N_PARTNERS; i++) {
        const lrq_type_traits *pt = lrq_type_get(partner_types[i]);
        int64_t blocks = (kmax + pt->blck_size - 1) / pt->blck_size;
        c->act_stride[i] = (size_t)blocks * pt->type_size;
        if (!(c->act[i] = lrq_malloc_aligned(B * c->act_stride[i], 64))) goto fail;
    }
    *out = c;
    return 0;
fail:
    lrq_ctx_free(c);
    return -1;
}

void lrq_ctx_free(lrq_ctx *c) {
    if (!c) return;
    lrq_pool_free(c->pool);
    free(c->kc); free(c->vt); free(c->ffn_tmp); free(c->x); free(c->xn); free(c->q); free(c->k); free(c->v);
    free(c->att); free(c->tmp); free(c->gate); free(c->up); free(c->logits); free(c->scores); free(c->rope);
    for (int i = 0; i < N_PARTNERS; i++) lrq_free_aligned(c->act[i]);
    free(c);
}

void lrq_ctx_reset(lrq_ctx *c) { c->n_past = 0; }

int lrq_ctx_n_past(const lrq_ctx *c) { return c->n_past; }

const float *lrq_ctx_eval(lrq_ctx *c, const int32_t *tokens, int n, int logits_from) {
    const lrq_model *m = c->m;
    const lrq_hparams *hp = &m->hp;
    if (n < 1 || n > c->n_batch) { lrq_err_set("eval: %d tokens, batch limit %d", n, c->n_batch); return NULL; }
    if (logits_from < 0 || logits_from >= n) { lrq_err_set("eval: logits_from %d not in 0..%d", logits_from, n - 1); return NULL; }
    if (c->n_past + n > c->n_ctx) {
        lrq_err_set("eval: context full (%d + %d > %d)", c->n_past, n, c->n_ctx);
        return NULL;
    }
    for (int i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= hp->n_vocab) {
            lrq_err_set("eval: token id %d out of range (vocab %d)", tokens[i], hp->n_vocab);
            return NULL;
        }
    const float theta_scale = powf(hp->rope_theta, -2.0f / (float)hp->n_rot);
    for (int b = 0; b < n; b++) rope_table(c->rope + (size_t)b * hp->n_rot, c->n_past + b, hp->n_rot, theta_scale);

    tok_run(c, OP_EMBED, -1, n, tokens);
    for (int l = 0; l < hp->n_layer; l++) {
        const lrq_layer *L = &m->layers[l];
        /* llama.cpp drops the rows without logits before the last layer's FFN */
        const int ffn_rows = l == hp->n_layer - 1 ? n - logits_from : n;
        tok_run(c, OP_ATTN_IN, l, n, NULL);
        act_set(c, c->xn);
        matmul(c, L->wq, L->bq, c->q, n);
        matmul(c, L->wk, L->bk, c->k, n);
        matmul(c, L->wv, L->bv, c->v, n);
        tok_run(c, OP_QK_ROPE, l, n, NULL);
        attn_task at = { .c = c, .layer = l, .B = n };
        lrq_pool_run(c->pool, attn_worker, &at);
        act_set(c, c->att);
        matmul(c, L->wo, NULL, c->tmp, n);
        tok_run(c, OP_RESID, l, n, NULL);
        tok_run(c, OP_FFN_IN, l, n, NULL);
        act_set(c, c->xn);
        matmul_o(c, L->ffn_gate, NULL, c->gate, n, ffn_rows);
        matmul_o(c, L->ffn_up, NULL, c->up, n, ffn_rows);
        tok_run(c, OP_SWIGLU, l, n, NULL);
        act_set(c, c->gate);
        matmul_o(c, L->ffn_down, NULL, c->tmp, n, ffn_rows);
        tok_run(c, OP_RESID, l, n, NULL);
    }
    /* Final norm and output projection, for tokens logits_from .. n-1. */
    int first = logits_from, cnt = n - first;
    const int64_t E = hp->n_embd;
    for (int b = first; b < n; b++)
        rmsnorm(c->xn + (size_t)(b - first) * E, c->x + (size_t)b * E, m->output_norm->data, E, hp->rms_eps);
    act_set(c, c->xn);
    matmul(c, m->output, NULL, c->logits, cnt);
    c->n_past += n;
    return c->logits;
}
