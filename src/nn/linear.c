/* linear.c — see linear.h. The matmul splits weight rows over threads;
 * batches use the type's tile kernel (gemm.h), single tokens its dot kernel. */
#include "nn/linear.h"
#include "core/core.h"
#include "fmt/types.h"
#include "kern/gemm.h"
#include "kern/planes.h"
#include "kern/planes_q8.h"

#include <math.h>
#include <stdatomic.h>

typedef struct {
    const lrq_tensor *W;
    const void *act;      /* activations in the partner type (or F32) */
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
    /* dequantizing path (non-default activation policies): */
    lrq_to_float_fn to_float;
    float *wrow;          /* [nth][K] scratch */
    /* planes weights (lq formats): codes + parameter view, F32 activations */
    const lrq_planes_kernels *planes;
    int planes_bits;
    /* or planes weights with int8 activations (kern/planes_q8.h), in blocks like the tiled path: */
    const lrq_q8p_kernels *q8p;
    const lrq_q8p_act *q8acts; /* [B] the tokens rounded for this weight's code width and group */
} mm_task;

#define MM_ROWS 64 /* weight rows kept hot (L2) while all tokens stream past: 64 beat 16 by 1-15% (12 of 12 paired
                     * prefill runs, F16/BF16 Qwen2.5-1.5B shapes, 1 and 2 threads; docs/benchmarks.md) */

/* Weight rows [blk * MM_ROWS, +MM_ROWS) of a tiled matmul against every
 * token, in tiles of tile_r rows x tile_c tokens. Each output is
 * bit-identical to the vec_dot one (gemm.h), so results do not depend on how
 * tokens are batched. */
static void mm_q8p_block(const mm_task *t, long blk) {
    const long r0 = blk * MM_ROWS, r1 = r0 + MM_ROWS < t->N ? r0 + MM_ROWS : (long)t->N;
    const lrq_tensor *W = t->W;
    const int rc = t->B == 1 ? lrq_q8p_matvec(t->q8p, t->K, t->N, W->data, &W->qp, t->q8acts, r0, r1, t->out)
                             : lrq_q8p_matmul(t->q8p, t->K, t->N, W->data, &W->qp, t->q8acts, t->B, r0, r1, t->out,
                                              (size_t)t->out_stride);
    LRQ_ASSERT(rc == 0); /* the view was checked when the weights were loaded, the activations when prepared */
    if (t->bias)
        for (int b = 0; b < t->B; b++) {
            float *o = t->out + (int64_t)b * t->out_stride;
            for (long r = r0; r < r1; r++) o[r] = o[r] + t->bias[r];
        }
}

static void mm_tiled_block(const mm_task *t, long blk) {
    if (t->q8p) {
        mm_q8p_block(t, blk);
        return;
    }
    const long tr = t->tile_r, tc = t->tile_c;
    const uint8_t *wbase = t->W->data;
    const uint8_t *act = t->act;
    const long r0 = blk * MM_ROWS, r1 = r0 + MM_ROWS < t->N ? r0 + MM_ROWS : (long)t->N;
    for (long b = 0; b < t->B; b += tc) {
        const int nc = (int)(t->B - b < tc ? t->B - b : tc);
        float *o = t->out + b * t->out_stride;
        for (long r = r0; r < r1; r += tr)
            t->gemm(t->K, wbase + (size_t)r * t->row_bytes, t->row_bytes, (int)(r1 - r < tr ? r1 - r : tr),
                    act + (size_t)b * t->act_stride, t->act_stride, nc, o + r, (size_t)t->out_stride);
    }
    if (t->bias)
        for (int b = 0; b < t->B; b++) {
            float *o = t->out + (int64_t)b * t->out_stride;
            for (long r = r0; r < r1; r++) o[r] = o[r] + t->bias[r];
        }
}

static long mm_blocks(const mm_task *t) { return (long)((t->N + MM_ROWS - 1) / MM_ROWS); }

/* The threads claim blocks of MM_ROWS weight rows (whole tiles) until none
 * is left: on a shared machine one thread is often slowed down, and a
 * static split would leave the other waiting at the end. Thread i owns a
 * contiguous share of the blocks and takes them in order, so each thread
 * reads one ascending stream that the memory prefetchers follow (with one
 * shared counter the threads took alternate blocks, each starting cold:
 * lq2 decode of the 1.5B shape at 2 threads, paired: 45.7 vs 55.9 tok/s); a thread done
 * with its share takes the next blocks of the others' shares, through
 * their counters, so every block is taken once. Which thread computes a
 * block changes no bits (every output is one chain in a fixed order), so
 * results still do not depend on the thread count. */
#define MM_CLAIM_MAX 64
typedef struct {
    atomic_long next[MM_CLAIM_MAX]; /* [n] next unclaimed block of share i */
    long end[MM_CLAIM_MAX];         /* [n] end of share i */
    int n;
} mm_claim;

static void claim_init(mm_claim *c, long total, int nth) {
    c->n = nth < 1 ? 1 : nth > MM_CLAIM_MAX ? MM_CLAIM_MAX : nth;
    for (int i = 0; i < c->n; i++) {
        long lo, hi;
        lrq_split(total, i, c->n, &lo, &hi);
        atomic_init(&c->next[i], lo);
        c->end[i] = hi;
    }
}

/* The next block for thread ith, or -1 when every block is taken. */
static long claim_next(mm_claim *c, int ith) {
    const int own = ith % c->n;
    for (int k = 0; k < c->n; k++) {
        const int j = (own + k) % c->n;
        if (atomic_load_explicit(&c->next[j], memory_order_relaxed) >= c->end[j]) continue;
        const long b = atomic_fetch_add_explicit(&c->next[j], 1, memory_order_relaxed);
        if (b < c->end[j]) return b;
    }
    return -1;
}

/* Several tiled matmuls of one input (q/k/v, gate/up), or one, as ONE pool
 * run: the blocks of all of them are claimed as one sequence, so there is
 * one hand-off between the threads instead of one per linear, and a thread
 * that finishes one matrix early goes on with the next. */
#define MM_GROUP_MAX LRQ_LINEAR_GROUP
typedef struct {
    mm_task *t[MM_GROUP_MAX];
    long first[MM_GROUP_MAX + 1]; /* block index where linear i starts; first[n] = all blocks */
    int n;
    mm_claim claim;
} mm_group;

static void mm_group_worker(void *arg, int ith, int nth) {
    mm_group *g = arg;
    (void)nth;
    for (long blk = claim_next(&g->claim, ith); blk >= 0; blk = claim_next(&g->claim, ith)) {
        int i = 0;
        while (blk >= g->first[i + 1]) i++;
        mm_tiled_block(g->t[i], blk - g->first[i]);
    }
}

/* Runs tiled tasks t[0 .. m) as one group (above). */
static void mm_run_group(lrq_nn *nn, mm_task *t, int m) {
    mm_group g = { .n = m };
    for (int i = 0; i < m; i++) {
        g.t[i] = &t[i];
        g.first[i + 1] = g.first[i] + mm_blocks(&t[i]);
    }
    claim_init(&g.claim, g.first[m], lrq_pool_size(nn->pool));
    lrq_pool_run(nn->pool, mm_group_worker, &g);
}

/* Planes weights: rows [lo, hi) of every token through the planes kernels
 * (kern/planes.h), MM_ROWS rows at a time so they stay hot while the
 * tokens pass. Each output is one dot in a fixed order: thread-count
 * independent. */
static void mm_planes(const mm_task *t, long lo, long hi) {
    for (long r0 = lo; r0 < hi; r0 += MM_ROWS) {
        const long r1 = r0 + MM_ROWS < hi ? r0 + MM_ROWS : hi;
        for (int b = 0; b < t->B; b++) {
            const float *x = (const float *)((const uint8_t *)t->act + (size_t)b * t->act_stride);
            float *o = t->out + (int64_t)b * t->out_stride;
            int rc = lrq_planes_matvec(t->planes, t->planes_bits, t->K, t->N, t->W->data, &t->W->qp, x, r0, r1, o);
            LRQ_ASSERT(rc == 0); /* the view was checked when the weights were loaded */
            if (t->bias)
                for (long r = r0; r < r1; r++) o[r] += t->bias[r];
        }
    }
}

static void mm_worker(void *arg, int ith, int nth) {
    mm_task *t = arg;
    if (t->planes) {
        long lo, hi;
        lrq_split((long)t->N, ith, nth, &lo, &hi);
        mm_planes(t, lo, hi);
        return;
    }
    LRQ_ASSERT(!t->gemm && !t->q8p); /* tiled tasks run as a group (mm_run_group) */
    long lo, hi;
    lrq_split((long)t->N, ith, nth, &lo, &hi);
    const uint8_t *wbase = t->W->data;
    float *wrow = t->wrow ? t->wrow + (size_t)ith * (size_t)t->K : NULL;
    if (wrow) { /* dequantizing path: each weight row to F32 once, dotted with every token's F32 input */
        for (long r = lo; r < hi; r++) {
            t->to_float(wbase + (size_t)r * t->row_bytes, wrow, t->K);
            for (int b = 0; b < t->B; b++) {
                float s;
                t->dot(t->K, &s, wrow, (const uint8_t *)t->act + (size_t)b * t->act_stride);
                t->out[(int64_t)b * t->out_stride + r] = t->bias ? s + t->bias[r] : s;
            }
        }
        return;
    }
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
    const lrq_type_traits *pt; /* partner type, or NULL for a policy rounding in F32 */
    int policy;
    const lrq_act_quant *aq;   /* LRQ_ACT_Q8_TOKEN / LRQ_ACT_INT */
    float lo, hi;              /* aq->per_tensor: the range of the whole call */
    float *scratch;            /* [nth][K]: per-token percentile selection, or NULL */
    const float *x;
    int64_t K;
    void *dst;
    size_t stride;
    int B;
} quant_task;

/* LRQ_ACT_Q8_TOKEN as an activation quantization spec. */
static const lrq_act_quant q8_token = { .bits = 8, .per_tensor = 0, .asym = 0, .clip = 1.0f, .clip_at = 0.0f };

static void quant_worker(void *arg, int ith, int nth) {
    const quant_task *t = arg;
    long lo, hi;
    lrq_split(t->B, ith, nth, &lo, &hi);
    float *scratch = t->scratch ? t->scratch + (size_t)ith * (size_t)t->K : NULL;
    for (long b = lo; b < hi; b++) {
        const float *x = t->x + b * t->K;
        void *d = (uint8_t *)t->dst + (size_t)b * t->stride;
        if (t->pt) {
            t->pt->from_float(x, d, t->K);
        } else if (t->policy == LRQ_ACT_F16) {
            float *y = d;
            for (int64_t i = 0; i < t->K; i++) y[i] = lrq_f16_to_f32(lrq_f32_to_f16(x[i]));
        } else {
            float rlo = t->lo, rhi = t->hi;
            if (!t->aq->per_tensor) lrq_act_range(t->aq, x, (size_t)t->K, scratch, &rlo, &rhi);
            lrq_act_apply(t->aq, rlo, rhi, x, d, (size_t)t->K);
        }
    }
}

/* The rounded activations of a non-default policy into buf ([B][K]). A
 * per-tensor range is found first, on this thread, over all B x K inputs. */
static void policy_round(lrq_nn *nn, const lrq_linear *L, const float *x, int64_t K, int B, float *buf) {
    quant_task q = { .policy = L->act, .x = x, .K = K, .dst = buf, .stride = (size_t)K * sizeof(float), .B = B };
    if (L->act == LRQ_ACT_Q8_TOKEN || L->act == LRQ_ACT_INT) {
        q.aq = L->act == LRQ_ACT_INT ? &L->aq : &q8_token;
        const int sel = lrq_act_needs_scratch(q.aq);
        if (q.aq->per_tensor) {
            const size_t n = (size_t)B * (size_t)K;
            const size_t mark = lrq_arena_mark(&nn->arena);
            lrq_act_range(q.aq, x, n, sel ? lrq_arena_floats(&nn->arena, n) : NULL, &q.lo, &q.hi);
            lrq_arena_reset(&nn->arena, mark);
        } else if (sel) {
            q.scratch = lrq_arena_floats(&nn->arena, (size_t)nn->n_threads * (size_t)K);
        }
    }
    lrq_nn_rows(nn, B, quant_worker, &q);
}

/* The F32 input x ([B][K]) as linear L's policy rounds it: x itself for
 * LRQ_ACT_F32 and LRQ_ACT_PARTNER (planes weights with F32 kernels), else
 * *policy_buf, rounded on first use and shared by the following linears of
 * the same policy. */
static const float *policy_input(lrq_nn *nn, const lrq_linear *L, const float *x, int64_t K, int B,
                                 float **policy_buf) {
    if (L->act == LRQ_ACT_F32 || L->act == LRQ_ACT_PARTNER) return x;
    if (!*policy_buf) {
        *policy_buf = lrq_arena_floats(&nn->arena, (size_t)B * (size_t)K);
        policy_round(nn, L, x, K, B, *policy_buf);
    }
    return *policy_buf;
}

/* Int8 activations of one (code width, group) for planes weights, shared by
 * the linears of one group of lrq_linear_fwd_n (q/k/v usually need one). */
typedef struct {
    int bits;
    int32_t group;
    const lrq_q8p_act *acts; /* [B] */
} q8p_set;

typedef struct {
    q8p_set set[MM_GROUP_MAX];
    int n;
} q8p_cache;

typedef struct {
    int bits;
    int32_t group;
    int64_t K;
    int B;
    const float *x;   /* [B][K] */
    uint8_t *buf;     /* [B][tok_bytes] */
    size_t tok_bytes;
    lrq_q8p_act *acts; /* [B] */
} q8p_task;

static void q8p_worker(void *arg, int ith, int nth) {
    const q8p_task *q = arg;
    long lo, hi;
    lrq_split(q->B, ith, nth, &lo, &hi);
    for (long b = lo; b < hi; b++) {
        const int rc = lrq_q8p_quantize(q->bits, q->K, q->group, q->x + b * q->K, q->buf + (size_t)b * q->tok_bytes,
                                        q->tok_bytes, &q->acts[b]);
        LRQ_ASSERT(rc == 0); /* shape and buffer size checked by q8p_acts */
    }
}

/* The tokens of x rounded to int8 for a planes weight of `bits` and
 * `group` (from the cache, or made now), or NULL when the int8 kernels do
 * not take this shape (kern/planes_q8.h's scope) or the context reserved
 * too little scratch: the caller then uses the F32-input kernels. */
static const lrq_q8p_act *q8p_acts(lrq_nn *nn, q8p_cache *c, int bits, int64_t K, int32_t group, const float *x,
                                   int B) {
    for (int i = 0; i < c->n; i++)
        if (c->set[i].bits == bits && c->set[i].group == group) return c->set[i].acts;
    size_t tok;
    if (c->n == MM_GROUP_MAX || nn->q8p_tok_bytes == 0) return NULL;
    if (lrq_q8p_act_bytes(bits, K, group, &tok) != 0) { /* outside the int8 kernels' scope: not an error here */
        lrq_err_clear();
        return NULL;
    }
    if (tok > nn->q8p_tok_bytes) return NULL;
    tok = (tok + 63) & ~(size_t)63;
    q8p_task q = { .bits = bits, .group = group, .K = K, .B = B, .x = x, .tok_bytes = tok };
    q.acts = lrq_arena_bytes(&nn->arena, sizeof(lrq_q8p_act) * (size_t)B);
    q.buf = lrq_arena_bytes(&nn->arena, tok * (size_t)B);
    lrq_nn_rows(nn, B, q8p_worker, &q);
    c->set[c->n++] = (q8p_set){ .bits = bits, .group = group, .acts = q.acts };
    return q.acts;
}

/* Prepares the task's activations (rounded once per partner type across the
 * n linears of one lrq_linear_fwd_n call: `done` tracks which are ready). */
static void prepare_act(lrq_nn *nn, mm_task *t, const lrq_linear *L, const float *x, int B, int *done,
                        float **policy_buf, q8p_cache *q8) {
    const lrq_type_traits *tt = lrq_type_get(L->w->type);
    const int64_t K = t->K;
    if (t->planes && L->act == LRQ_ACT_PARTNER && !L->w->qp.codebook) {
        /* the default for planes weights: int8 activations (blocks with one scale each, kern/planes_q8.h),
         * as llama.cpp's types round theirs to Q8_0/Q8_K; shapes outside their scope stay F32 */
        const lrq_q8p_act *a = q8p_acts(nn, q8, t->planes_bits, K, L->w->qp.group, x, B);
        if (a) {
            t->q8p = lrq_q8p_get();
            t->q8acts = a;
            t->planes = NULL;
            return;
        }
    }
    if (t->planes) { /* the planes kernels take F32 inputs, rounded first by a non-default policy */
        t->act = policy_input(nn, L, x, K, B, policy_buf);
        t->act_stride = (size_t)K * sizeof(float);
        return;
    }
    if (L->act != LRQ_ACT_PARTNER) {
        /* dequantizing path: weights to F32 per row, F32 dot (ggml_vec_dot_f32 order) */
        const lrq_type_traits *f32 = lrq_type_get(LRQ_TYPE_F32);
        t->dot = f32->vec_dot;
        t->gemm = NULL;
        if (L->w->type != LRQ_TYPE_F32) {
            t->to_float = tt->to_float;
            t->wrow = lrq_arena_floats(&nn->arena, (size_t)nn->n_threads * (size_t)K);
        }
        t->act = policy_input(nn, L, x, K, B, policy_buf);
        t->act_stride = (size_t)K * sizeof(float);
        return;
    }
    if (tt->vec_dot_type == LRQ_TYPE_F32) {
        t->act = x;
        t->act_stride = (size_t)K * sizeof(float);
        return;
    }
    const int pi = lrq_nn_partner_index(tt->vec_dot_type);
    LRQ_ASSERT(pi >= 0 && K <= nn->k_max && B <= nn->n_batch);
    if (!done[pi]) {
        quant_task q = { .pt = lrq_type_get(tt->vec_dot_type), .x = x, .K = K, .dst = nn->act[pi],
                         .stride = nn->act_stride[pi], .B = B };
        lrq_nn_rows(nn, B, quant_worker, &q);
        done[pi] = 1;
    }
    t->act = nn->act[pi];
    t->act_stride = nn->act_stride[pi];
}

/* Sets up linear L's matmul task (kernel, tile, rounded activations) after
 * its input hook; the caller runs it. */
static void linear_prepare(lrq_nn *nn, const lrq_linear *L, const float *x, float *y, int B, int order_rows,
                           int *done, float **policy_buf, q8p_cache *q8, mm_task *t) {
    const lrq_tensor *W = L->w;
    const lrq_type_traits *tt = lrq_type_get(W->type);
    const int64_t K = W->ne[0];
    if (nn->hooks && nn->hooks->linear_in) nn->hooks->linear_in(nn->hooks->ud, &L->info, x, B);
    *t = (mm_task){ .W = W, .bias = L->bias, .out = y, .out_stride = W->ne[1], .B = B, .N = W->ne[1], .K = K,
                    .dot = tt->vec_dot };
    LRQ_ASSERT(lrq_row_size(W->type, K, &t->row_bytes) == 0);
    if (W->qp.layout == LRQ_PARAMS_PLANES) {
        t->planes = lrq_planes_get();
        t->planes_bits = lrq_type_lq_bits(W->type);
        t->dot = NULL;
    } else if (L->act == LRQ_ACT_PARTNER) {
        if (W->type == LRQ_TYPE_F16 || W->type == LRQ_TYPE_BF16) {
            /* F16/BF16 activations are rounded again after this matmul: reproduce llama.cpp's order
             * exactly. In the gemm order every output is one independent chain, which the exact-order
             * tile kernels keep bit for bit (kern/gemm.h). */
            const int f16 = W->type == LRQ_TYPE_F16;
            const int gemm = order_rows >= 2 && K % (f16 ? 16 : 32) == 0 && W->ne[1] % 4 == 0;
            t->dot = f16 ? (gemm ? nn->ord->f16_gemm : nn->ord->f16_vec) : (gemm ? nn->ord->bf16_gemm : nn->ord->bf16_vec);
            if (gemm && B >= 2) t->gemm = lrq_gemm_order_get(W->type, &t->tile_r, &t->tile_c);
        } else if (B >= 2 && tt->gemm) { /* one token: a tile would waste work */
            t->gemm = tt->gemm;
            t->tile_r = tt->gemm_rows;
            t->tile_c = tt->gemm_cols;
        }
    }
    prepare_act(nn, t, L, x, B, done, policy_buf, q8);
}

/* 1 if a and b round their (shared) input the same way. */
static int same_policy(const lrq_linear *a, const lrq_linear *b) {
    if (a->act != b->act) return 0;
    if (a->act != LRQ_ACT_INT) return 1;
    return a->aq.bits == b->aq.bits && a->aq.per_tensor == b->aq.per_tensor && a->aq.asym == b->aq.asym &&
           a->aq.clip == b->aq.clip && a->aq.clip_at == b->aq.clip_at;
}

void lrq_linear_fwd_n(lrq_nn *nn, const lrq_linear *const *L, float *const *y, int n, const float *x, int B,
                      int order_rows) {
    int done[LRQ_NN_N_PARTNERS] = {0};
    for (int i0 = 0; i0 < n; i0 += MM_GROUP_MAX) {
        /* scratch of one group of up to MM_GROUP_MAX linears, released when they have run (so the int8
         * activations of planes weights need room for at most MM_GROUP_MAX (bits, group) sets) */
        const size_t mark = lrq_arena_mark(&nn->arena);
        float *policy_buf = NULL; /* shared only by linears with the same policy */
        q8p_cache q8 = { .n = 0 };
        const int m = n - i0 < MM_GROUP_MAX ? n - i0 : MM_GROUP_MAX;
        mm_task t[MM_GROUP_MAX];
        int tiled = 1;
        for (int i = 0; i < m; i++) {
            if (i > 0 && !same_policy(L[i0 + i], L[i0 + i - 1])) policy_buf = NULL;
            linear_prepare(nn, L[i0 + i], x, y[i0 + i], B, order_rows, done, &policy_buf, &q8, &t[i]);
            tiled &= t[i].gemm != NULL || t[i].q8p != NULL;
        }
        if (tiled) {
            mm_run_group(nn, t, m);
        } else {
            for (int i = 0; i < m; i++)
                if (t[i].gemm || t[i].q8p) mm_run_group(nn, &t[i], 1);
                else lrq_pool_run(nn->pool, mm_worker, &t[i]);
        }
        for (int i = 0; i < m; i++)
            if (nn->hooks && nn->hooks->linear_out) nn->hooks->linear_out(nn->hooks->ud, &L[i0 + i]->info, y[i0 + i], B);
        lrq_arena_reset(&nn->arena, mark);
    }
}

size_t lrq_linear_q8p_tok_bytes(int64_t k_max) {
    /* the widest int8 activation any planes weight of up to k_max inputs may need: every code width the
     * kernels take, the smallest groups (most per-group sums), the width rounded up to whole chunks */
    const int64_t n = (k_max + 255) / 256 * 256;
    size_t best = 0;
    for (int bits = 2; bits <= 4; bits++)
        for (int32_t g = 16; g <= 32; g *= 2) {
            size_t b;
            if (lrq_q8p_act_bytes(bits, n, g, &b) == 0 && b > best) best = b;
        }
    lrq_err_clear();
    return best ? (best + 63) & ~(size_t)63 : 0;
}

void lrq_linear_fwd(lrq_nn *nn, const lrq_linear *L, const float *x, float *y, int B, int order_rows) {
    lrq_linear_fwd_n(nn, &L, &y, 1, x, B, order_rows);
}

const char *lrq_linear_slot_name(int slot) {
    /* the GGUF tensor-name stems, so that a hook's report reads like the file */
    static const char *const names[LRQ_SLOT_COUNT] = {
        [LRQ_SLOT_Q] = "attn_q",       [LRQ_SLOT_K] = "attn_k",     [LRQ_SLOT_V] = "attn_v",
        [LRQ_SLOT_O] = "attn_output",  [LRQ_SLOT_GATE] = "ffn_gate", [LRQ_SLOT_UP] = "ffn_up",
        [LRQ_SLOT_DOWN] = "ffn_down",  [LRQ_SLOT_ROUTER] = "ffn_gate_inp",
        [LRQ_SLOT_SHEXP_GATE] = "ffn_gate_inp_shexp", [LRQ_SLOT_OUTPUT] = "output",
    };
    return slot >= 0 && slot < LRQ_SLOT_COUNT && names[slot] ? names[slot] : "?";
}
