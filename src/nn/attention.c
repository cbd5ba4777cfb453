/* attention.c — see attention.h. */
#include "nn/attention.h"
#include "core/core.h"
#include "nn/norm.h"
#include "nn/rope.h"

#include <math.h>
#include <string.h>

typedef struct {
    lrq_nn *nn;
    const lrq_attn *A;
    const lrq_attn_shape *sh;
    lrq_kv *kv;
    const float *rope;
    float *q, *k, *v, *att, *scores;
    int n_past, B;
    int64_t q_dim, kv_dim;
} attn_task;

/* q/k norm, RoPE, and the append of k and v to the cache, per token. */
static void qk_worker(void *arg, int ith, int nth) {
    const attn_task *t = arg;
    const lrq_attn_shape *sh = t->sh;
    const int hd = sh->head_dim;
    long lo, hi;
    lrq_split(t->B, ith, nth, &lo, &hi);
    for (long b = lo; b < hi; b++) {
        float *q = t->q + b * t->q_dim, *k = t->k + b * t->kv_dim, *v = t->v + b * t->kv_dim;
        if (t->A->q_norm) {
            for (int h = 0; h < sh->n_head; h++) lrq_rmsnorm(q + h * hd, q + h * hd, t->A->q_norm, hd, sh->eps);
            for (int h = 0; h < sh->n_head_kv; h++) lrq_rmsnorm(k + h * hd, k + h * hd, t->A->k_norm, hd, sh->eps);
        }
        const float *cs = t->rope + b * sh->n_rot;
        for (int h = 0; h < sh->n_head; h++) lrq_rope_apply(q + h * hd, cs, sh->n_rot, sh->neox);
        for (int h = 0; h < sh->n_head_kv; h++) lrq_rope_apply(k + h * hd, cs, sh->n_rot, sh->neox);
        const int pos = t->n_past + (int)b;
        memcpy(t->kv->k + (size_t)pos * (size_t)t->kv_dim, k, (size_t)t->kv_dim * sizeof(float));
        float *vt = t->kv->vt + pos;
        for (int64_t i = 0; i < t->kv_dim; i++) vt[(size_t)i * (size_t)t->kv->n_ctx_pad] = v[i];
    }
}

static void attn_worker(void *arg, int ith, int nth) {
    const attn_task *t = arg;
    const lrq_attn_shape *sh = t->sh;
    const lrq_order_kernels *ord = t->nn->ord;
    const int hd = sh->head_dim, n_head = sh->n_head, group = sh->n_head / sh->n_head_kv;
    const int n_ctx_pad = t->kv->n_ctx_pad;
    const float scale = 1.0f / sqrtf((float)hd);
    float *sc = t->scores + (size_t)ith * (size_t)n_ctx_pad;
    /* (token, head) pairs dealt out round-robin: a token's cost grows with its
     * position, so contiguous ranges would give the last thread most of the
     * work of a long batch. Each pair is computed by one thread, in one order,
     * so the result does not depend on the thread count. */
    for (long idx = ith; idx < (long)t->B * n_head; idx += nth) {
        const int b = (int)(idx / n_head), h = (int)(idx % n_head), hk = h / group;
        const int pos = t->n_past + b;
        const float *q = t->q + (size_t)b * t->q_dim + (size_t)h * hd;
        float mx = -INFINITY;
        ord->f32_vec_rows(hd, t->kv->k + (size_t)hk * hd, t->kv_dim, pos + 1, q, sc); /* every key . q */
        for (int j = 0; j <= pos; j++) {
            const float s = sc[j] * scale;
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
        float *o = t->att + (size_t)b * t->q_dim + (size_t)h * hd;
        const float *v = t->kv->vt + (size_t)hk * hd * n_ctx_pad;
        /* o[d] = V^T row d . sc, in the order llama.cpp uses for this batch size */
        if (t->B >= 2)
            ord->f32_gemm_rows(n16, v, n_ctx_pad, hd, sc, o);
        else
            ord->f32_vec_rows(n64, v, n_ctx_pad, hd, sc, o);
    }
}

size_t lrq_attention_scratch(const lrq_attn_shape *sh, int n_ctx_pad, int B, int n_threads) {
    const size_t q = (size_t)sh->n_head * sh->head_dim, kv = (size_t)sh->n_head_kv * sh->head_dim;
    /* q, k, v, att, per-thread scores, + 64-byte rounding of each */
    return sizeof(float) * ((size_t)B * (2 * q + 2 * kv) + (size_t)n_threads * (size_t)n_ctx_pad) + 5 * 64;
}

void lrq_attention_fwd(lrq_nn *nn, const lrq_attn *A, const lrq_attn_shape *sh, lrq_kv *kv, const float *xn,
                       const float *rope, int n_past, int B, float *out) {
    const size_t mark = lrq_arena_mark(&nn->arena);
    attn_task t = { .nn = nn, .A = A, .sh = sh, .kv = kv, .rope = rope, .n_past = n_past, .B = B,
                    .q_dim = (int64_t)sh->n_head * sh->head_dim, .kv_dim = (int64_t)sh->n_head_kv * sh->head_dim };
    t.q = lrq_arena_floats(&nn->arena, (size_t)B * (size_t)t.q_dim);
    t.k = lrq_arena_floats(&nn->arena, (size_t)B * (size_t)t.kv_dim);
    t.v = lrq_arena_floats(&nn->arena, (size_t)B * (size_t)t.kv_dim);
    t.att = lrq_arena_floats(&nn->arena, (size_t)B * (size_t)t.q_dim);
    t.scores = lrq_arena_floats(&nn->arena, (size_t)nn->n_threads * (size_t)kv->n_ctx_pad);
    const lrq_linear *qkv[3] = { &A->q, &A->k, &A->v };
    float *const outs[3] = { t.q, t.k, t.v };
    lrq_linear_fwd_n(nn, qkv, outs, 3, xn, B, B);
    lrq_nn_rows(nn, B, qk_worker, &t);
    lrq_pool_run(nn->pool, attn_worker, &t);
    lrq_linear_fwd(nn, &A->o, t.att, out, B, B);
    lrq_arena_reset(&nn->arena, mark);
}
