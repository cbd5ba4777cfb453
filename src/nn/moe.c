/* moe.c — the mixture-of-experts FFN (numerics and contract: moe.h).
 *
 * The (token, slot) pairs are sorted by expert into "perm rows"; gate/up
 * outputs, SwiGLU, the down projection and its output all live in perm-row
 * order, and the weighted sum gathers them back in slot order.
 */
#include "nn/moe.h"
#include "core/core.h"
#include "fmt/types.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#define MOE_ROWS 16   /* weight rows per work item (kept hot while the expert's tokens stream past) */

/* The per-call scratch, carved from the arena. */
typedef struct moe_scratch {
    float *probs;        /* [B][n_expert] router logits, then probabilities */
    int32_t *sel;        /* [B*k] chosen experts, slot order */
    float *w;            /* [B*k] their weights */
    int32_t *perm;       /* [P] perm row -> (token*k + slot) */
    int32_t *pos;        /* [P] (token*k + slot) -> perm row */
    int32_t *off;        /* [n_expert + 1] first perm row of each expert */
    int32_t *active;     /* [n_expert] experts with rows (then the fill cursor) */
    int32_t *cursor;     /* [n_expert] */
    uint8_t *act_g, *act_u, *act_d; /* perm rows rounded to the partner types */
    size_t act_in_cap, act_ff_cap;  /* bytes per perm row */
    float *g, *u;        /* [P][n_ff_exp] */
    float *d;            /* [P][n_embd] */
    float *xg;           /* [P][n_embd] inputs in perm order (only for the linear_in hook) */
    float *e;            /* [n_threads][n_ff_exp] SwiGLU scratch */
    float *sh_o;         /* [B][n_embd] shared expert output */
    float *sh_gate;      /* [B] */
} moe_scratch;

/* acc += a * b (saturating: an absurd size makes the arena allocation fail, not wrap). */
static void add_mul(size_t *acc, size_t a, size_t b) {
    size_t p;
    if (lrq_mul_size(a, b, &p) || lrq_add_size(*acc, p + 64, acc) || p + 64 < p) *acc = SIZE_MAX / 2;
}

size_t lrq_moe_scratch(const lrq_moe_shape *sh, int B, int n_threads) {
    if (sh->n_expert <= 0) return 0;
    const size_t P = (size_t)B * (size_t)sh->n_expert_used, E = (size_t)sh->n_embd, F = (size_t)sh->n_ff_exp;
    const size_t X = (size_t)sh->n_expert, f = sizeof(float), i = sizeof(int32_t);
    size_t s = 0;
    add_mul(&s, (size_t)B * X, f);
    add_mul(&s, P, i); add_mul(&s, P, f); add_mul(&s, P, i); add_mul(&s, P, i);
    add_mul(&s, X + 1, i); add_mul(&s, X, i); add_mul(&s, X, i);
    add_mul(&s, P, E * f); add_mul(&s, P, E * f); add_mul(&s, P, F * f);   /* act_g, act_u, act_d */
    add_mul(&s, P, F * f); add_mul(&s, P, F * f); add_mul(&s, P, E * f);   /* g, u, d */
    add_mul(&s, P, E * f);                                                  /* xg */
    add_mul(&s, (size_t)n_threads, F * f);
    add_mul(&s, (size_t)B, E * f); add_mul(&s, (size_t)B, f);
    if (sh->n_ff_shexp > 0) {
        size_t m = lrq_mlp_scratch(sh->n_ff_shexp, B, n_threads);
        if (lrq_add_size(s, m, &s)) s = SIZE_MAX / 2;
    }
    return s;
}

/* ---------- routing (serial: n_expert x n_embd per token is small) ---------- */

/* ggml_soft_max_f32 on one row (scale 1, no mask). */
static void softmax_row(const lrq_order_kernels *ord, float *p, int n) {
    float mx = -INFINITY;
    for (int i = 0; i < n; i++) mx = p[i] > mx ? p[i] : mx;
    double sum = 0.0;
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        float t[16];
        for (int j = 0; j < 16; j++) t[j] = p[i + j] - mx;
        ord->exp(16, t, p + i);
        sum += (double)lrq_order_hsum16(p + i);
    }
    for (; i < n; i++) {
        p[i] = expf(p[i] - mx);
        sum += (double)p[i];
    }
    const float inv = (float)(1.0 / sum);
    for (i = 0; i < n; i++) p[i] *= inv;
}

/* The k largest of p[0..n) in descending order, equal values lower index
 * first (the first k of a stable descending sort). */
static void top_k(const float *p, int n, int k, int32_t *out) {
    for (int s = 0; s < k; s++) {
        int best = -1;
        for (int e = 0; e < n; e++) {
            int taken = 0;
            for (int j = 0; j < s; j++) taken |= out[j] == e;
            if (taken) continue;
            if (best < 0 || p[e] > p[best]) best = e;
        }
        out[s] = best;
    }
}

static void route(lrq_nn *nn, const lrq_moe *M, moe_scratch *s, const float *x, int B, int64_t E, int tok0,
                  uint64_t *counts) {
    const int n = M->n_expert, k = M->n_expert_used;
    const lrq_order_kernels *ord = nn->ord;
    const lrq_hooks *h = nn->hooks;
    if (h && h->linear_in) h->linear_in(h->ud, &M->router_info, x, B);
    /* llamafile_sgemm takes F32 matmuls of >= 2 rows when K % 16 == 0 and the weight row count % 4 == 0 */
    const int gemm = B >= 2 && E % 16 == 0 && n % 4 == 0;
    for (int b = 0; b < B; b++) {
        float *p = s->probs + (size_t)b * n;
        const float *xb = x + (size_t)b * E;
        for (int e = 0; e < n; e++) {
            const float *wr = M->router + (size_t)e * E;
            p[e] = gemm ? ord->f32_gemm(E, wr, xb) : ord->f32_vec(E, wr, xb);
        }
    }
    if (h && h->linear_out) h->linear_out(h->ud, &M->router_info, s->probs, B);
    for (int b = 0; b < B; b++) {
        float *p = s->probs + (size_t)b * n;
        softmax_row(ord, p, n);
        int32_t *sel = s->sel + (size_t)b * k;
        float *w = s->w + (size_t)b * k;
        top_k(p, n, k, sel);
        for (int j = 0; j < k; j++) w[j] = p[sel[j]];
        if (M->norm_w) {
            double sum = 0.0; /* ggml_vec_sum_f32 sums in ggml_float */
            for (int j = 0; j < k; j++) sum += (double)w[j];
            float fs = (float)sum;
            if (fs < 6.103515625e-5f) fs = 6.103515625e-5f;
            for (int j = 0; j < k; j++) w[j] = w[j] / fs;
        }
        if (M->w_scale != 0.0f && M->w_scale != 1.0f)
            for (int j = 0; j < k; j++) w[j] = w[j] * M->w_scale;
        if (h && h->expert_route) h->expert_route(h->ud, M->router_info.layer, tok0 + b, sel, w, k);
    }
    /* Group (token, slot) pairs by expert, token-major within an expert. */
    memset(s->off, 0, sizeof *s->off * (size_t)(n + 1));
    for (int i = 0; i < B * k; i++) s->off[s->sel[i] + 1]++;
    for (int e = 0; e < n; e++) {
        if (counts) counts[e] += (uint64_t)s->off[e + 1];
        s->off[e + 1] += s->off[e];
    }
    for (int e = 0; e < n; e++) s->cursor[e] = s->off[e];
    for (int i = 0; i < B * k; i++) {
        const int r = s->cursor[s->sel[i]]++;
        s->perm[r] = i;
        s->pos[i] = r;
    }
}

/* ---------- per-row work: activation rounding, SwiGLU ---------- */

typedef struct {
    lrq_nn *nn;
    moe_scratch *s;
    int op, P, k;
    int64_t E, F;
    const float *x;       /* OP_QIN: token inputs [B][n_embd] */
    int type_g, type_u, type_d;
} row_task;

enum { OP_QIN, OP_SWIGLU_QD };

/* Round one row to the partner type of weight type `wt`. */
static void round_row(int wt, const float *x, void *dst, int64_t n) {
    const int pt = lrq_type_get(wt)->vec_dot_type;
    if (pt == LRQ_TYPE_F32) memcpy(dst, x, (size_t)n * sizeof(float));
    else lrq_type_get(pt)->from_float(x, dst, n);
}

static void row_worker(void *arg, int ith, int nth) {
    const row_task *t = arg;
    moe_scratch *s = t->s;
    long lo, hi;
    lrq_split(t->P, ith, nth, &lo, &hi);
    for (long p = lo; p < hi; p++) {
        if (t->op == OP_QIN) {
            const float *xb = t->x + (size_t)(s->perm[p] / t->k) * t->E;
            round_row(t->type_g, xb, s->act_g + (size_t)p * s->act_in_cap, t->E);
            if (t->type_u != t->type_g) round_row(t->type_u, xb, s->act_u + (size_t)p * s->act_in_cap, t->E);
            if (s->xg) memcpy(s->xg + (size_t)p * t->E, xb, (size_t)t->E * sizeof(float));
        } else {
            float *g = s->g + (size_t)p * t->F;
            lrq_swiglu(t->nn, g, s->u + (size_t)p * t->F, t->F, s->e + (size_t)ith * (size_t)t->F);
            round_row(t->type_d, g, s->act_d + (size_t)p * s->act_ff_cap, t->F);
        }
    }
}

/* ---------- expert matmuls (ggml_mul_mat_id) ---------- */

typedef struct {
    const moe_scratch *s;
    const lrq_tensor *W;      /* [K, N, n_expert] */
    int64_t N, K;
    size_t row_bytes, expert_bytes;
    const uint8_t *act;       /* perm rows of the partner type */
    size_t act_stride;
    float *out;               /* perm rows of N floats */
    int n_active;
    const lrq_order_kernels *ord;
    lrq_vec_dot_fn dot;       /* quantized types */
    lrq_gemm_fn gemm;         /* their tile kernel, or NULL */
    int tile_r, tile_c;
} ex_task;

static void ex_worker(void *arg, int ith, int nth) {
    const ex_task *t = arg;
    const moe_scratch *s = t->s;
    const lrq_order_kernels *ord = t->ord;
    const long blocks = (long)((t->N + MOE_ROWS - 1) / MOE_ROWS);
    long lo, hi;
    lrq_split((long)t->n_active * blocks, ith, nth, &lo, &hi);
    const int type = t->W->type;
    for (long it = lo; it < hi; it++) {
        const int e = s->active[it / blocks];
        const long r0 = (it % blocks) * MOE_ROWS, r1 = r0 + MOE_ROWS < t->N ? r0 + MOE_ROWS : (long)t->N;
        const int p0 = s->off[e], p1 = s->off[e + 1];
        const uint8_t *wb = (const uint8_t *)t->W->data + (size_t)e * t->expert_bytes;
        if (t->gemm && p1 - p0 >= 2) {
            for (int p = p0; p < p1; p += t->tile_c) {
                const int nc = p1 - p < t->tile_c ? p1 - p : t->tile_c;
                for (long r = r0; r < r1; r += t->tile_r)
                    t->gemm(t->K, wb + (size_t)r * t->row_bytes, t->row_bytes,
                            (int)(r1 - r < t->tile_r ? r1 - r : t->tile_r), t->act + (size_t)p * t->act_stride,
                            t->act_stride, nc, t->out + (size_t)p * (size_t)t->N + r, (size_t)t->N);
            }
            continue;
        }
        for (int p = p0; p < p1; p++) {
            const uint8_t *a = t->act + (size_t)p * t->act_stride;
            float *o = t->out + (size_t)p * (size_t)t->N;
            for (long r = r0; r < r1; r++) {
                const uint8_t *wr = wb + (size_t)r * t->row_bytes;
                float v;
                if (type == LRQ_TYPE_F32) v = ord->f32_vec(t->K, (const float *)wr, (const float *)a);
                else if (type == LRQ_TYPE_F16) ord->f16_vec(t->K, &v, wr, a);
                else if (type == LRQ_TYPE_BF16) ord->bf16_vec(t->K, &v, wr, a);
                else t->dot(t->K, &v, wr, a);
                o[r] = v;
            }
        }
    }
}

/* Fire a hook once per active expert: rows off[e]..off[e+1] of `rows` ([P][n] floats). */
static void expert_hooks(lrq_nn *nn, const lrq_linear *L, const moe_scratch *s, int n_active, const float *rows,
                         int64_t n, int out) {
    const lrq_hooks *h = nn->hooks;
    void (*fn)(void *, const lrq_linear_info *, const float *, int) = out ? h->linear_out : h->linear_in;
    if (!fn) return;
    for (int a = 0; a < n_active; a++) {
        const int e = s->active[a];
        lrq_linear_info info = L->info;
        info.expert = e;
        fn(h->ud, &info, rows + (size_t)s->off[e] * (size_t)n, s->off[e + 1] - s->off[e]);
    }
}

static void experts_mm(lrq_nn *nn, const moe_scratch *s, const lrq_linear *L, const float *in_rows,
                       const uint8_t *act, size_t act_stride, float *out, int n_active) {
    const lrq_tensor *W = L->w;
    const lrq_type_traits *tt = lrq_type_get(W->type);
    ex_task t = { .s = s, .W = W, .N = W->ne[1], .K = W->ne[0], .act = act, .act_stride = act_stride, .out = out,
                  .n_active = n_active, .ord = nn->ord, .dot = tt->vec_dot };
    LRQ_ASSERT(lrq_row_size(W->type, t.K, &t.row_bytes) == 0);
    t.expert_bytes = t.row_bytes * (size_t)t.N;
    if (W->type != LRQ_TYPE_F32 && W->type != LRQ_TYPE_F16 && W->type != LRQ_TYPE_BF16 && tt->gemm) {
        t.gemm = tt->gemm;
        t.tile_r = tt->gemm_rows;
        t.tile_c = tt->gemm_cols;
    }
    if (nn->hooks) expert_hooks(nn, L, s, n_active, in_rows, t.K, 0);
    lrq_pool_run(nn->pool, ex_worker, &t);
    if (nn->hooks) expert_hooks(nn, L, s, n_active, out, t.N, 1);
}

/* ---------- the combine step ---------- */

typedef struct {
    const moe_scratch *s;
    const lrq_moe *M;
    float *out;
    int64_t E;
    int k, B;
} comb_task;

/* out[b] = sum over slots of d[pos(b, slot)] * w[b][slot] (+ shared expert). */
static void comb_worker(void *arg, int ith, int nth) {
    const comb_task *t = arg;
    const moe_scratch *s = t->s;
    const int k = t->k;
    const int64_t E = t->E;
    long lo, hi;
    lrq_split(t->B, ith, nth, &lo, &hi);
    for (long b = lo; b < hi; b++) {
        float *o = t->out + (size_t)b * E;
        const float *d0 = s->d + (size_t)s->pos[b * k] * E;
        const float w0 = s->w[b * k];
        for (int64_t i = 0; i < E; i++) o[i] = d0[i] * w0;
        for (int j = 1; j < k; j++) {
            const float *dj = s->d + (size_t)s->pos[b * k + j] * E;
            const float wj = s->w[b * k + j];
            for (int64_t i = 0; i < E; i++) {
                const float v = dj[i] * wj;
                o[i] = o[i] + v;
            }
        }
        if (t->M->has_shexp) {
            const float *sh = s->sh_o + (size_t)b * E;
            if (t->M->shexp_gate) {
                /* ggml_div(ggml_silu(g), g): the sigmoid as llama.cpp's qwen2moe graph writes it */
                const float gi = s->sh_gate[b];
                const float sg = gi / (1.0f + expf(-gi)) / gi;
                for (int64_t i = 0; i < E; i++) {
                    const float v = sh[i] * sg;
                    o[i] = o[i] + v;
                }
            } else {
                for (int64_t i = 0; i < E; i++) o[i] = o[i] + sh[i];
            }
        }
    }
}

void lrq_moe_fwd(lrq_nn *nn, const lrq_moe *M, const float *xn, int B, int tok0, uint64_t *counts, float *out) {
    const size_t mark = lrq_arena_mark(&nn->arena);
    lrq_arena *ar = &nn->arena;
    const int k = M->n_expert_used, X = M->n_expert, P = B * k;
    const int64_t E = M->gate.w->ne[0], F = M->gate.w->ne[1];
    LRQ_ASSERT(B >= 1 && k >= 1 && k <= X);
    moe_scratch s = {0};
    s.probs = lrq_arena_floats(ar, (size_t)B * (size_t)X);
    s.sel = lrq_arena_bytes(ar, (size_t)P * sizeof(int32_t));
    s.w = lrq_arena_floats(ar, (size_t)P);
    s.perm = lrq_arena_bytes(ar, (size_t)P * sizeof(int32_t));
    s.pos = lrq_arena_bytes(ar, (size_t)P * sizeof(int32_t));
    s.off = lrq_arena_bytes(ar, (size_t)(X + 1) * sizeof(int32_t));
    s.active = lrq_arena_bytes(ar, (size_t)X * sizeof(int32_t));
    s.cursor = lrq_arena_bytes(ar, (size_t)X * sizeof(int32_t));
    /* An activation row is largest in F32 (every quantized partner type is smaller). */
    s.act_in_cap = (size_t)E * sizeof(float);
    s.act_ff_cap = (size_t)F * sizeof(float);
    s.act_g = lrq_arena_bytes(ar, (size_t)P * s.act_in_cap);
    s.act_u = lrq_arena_bytes(ar, (size_t)P * s.act_in_cap);
    s.act_d = lrq_arena_bytes(ar, (size_t)P * s.act_ff_cap);
    s.g = lrq_arena_floats(ar, (size_t)P * (size_t)F);
    s.u = lrq_arena_floats(ar, (size_t)P * (size_t)F);
    s.d = lrq_arena_floats(ar, (size_t)P * (size_t)E);
    if (nn->hooks && nn->hooks->linear_in) s.xg = lrq_arena_floats(ar, (size_t)P * (size_t)E);
    s.e = lrq_arena_floats(ar, (size_t)nn->n_threads * (size_t)F);
    s.sh_o = lrq_arena_floats(ar, (size_t)B * (size_t)E);
    s.sh_gate = lrq_arena_floats(ar, (size_t)B);

    route(nn, M, &s, xn, B, E, tok0, counts);
    int n_active = 0;
    for (int e = 0; e < X; e++)
        if (s.off[e + 1] > s.off[e]) s.active[n_active++] = e;

    row_task rt = { .nn = nn, .s = &s, .op = OP_QIN, .P = P, .k = k, .E = E, .F = F, .x = xn,
                    .type_g = M->gate.w->type, .type_u = M->up.w->type, .type_d = M->down.w->type };
    lrq_nn_rows(nn, P, row_worker, &rt);
    const uint8_t *act_u = M->up.w->type == M->gate.w->type ? s.act_g : s.act_u;
    experts_mm(nn, &s, &M->gate, s.xg, s.act_g, s.act_in_cap, s.g, n_active);
    experts_mm(nn, &s, &M->up, s.xg, act_u, s.act_in_cap, s.u, n_active);
    rt.op = OP_SWIGLU_QD;
    lrq_nn_rows(nn, P, row_worker, &rt);
    experts_mm(nn, &s, &M->down, s.g, s.act_d, s.act_ff_cap, s.d, n_active);

    if (M->has_shexp) {
        lrq_mlp_fwd(nn, &M->shexp, xn, B, B, s.sh_o);
        if (M->shexp_gate) {
            if (nn->hooks && nn->hooks->linear_in) nn->hooks->linear_in(nn->hooks->ud, &M->shexp_gate_info, xn, B);
            for (int b = 0; b < B; b++) s.sh_gate[b] = nn->ord->f32_vec(E, M->shexp_gate, xn + (size_t)b * E);
        }
    }
    comb_task ct = { .s = &s, .M = M, .out = out, .E = E, .k = k, .B = B };
    lrq_nn_rows(nn, B, comb_worker, &ct);
    lrq_arena_reset(&nn->arena, mark);
}
