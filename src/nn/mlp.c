/* mlp.c — see mlp.h. */
#include "nn/mlp.h"

#include <math.h>

void lrq_swiglu(lrq_nn *nn, float *g, const float *u, int64_t n, float *e) {
    const int64_t nv = n & ~(int64_t)15;
    for (int64_t i = 0; i < nv; i++) e[i] = 0.0f - g[i];
    nn->ord->exp(nv, e, e);
    for (int64_t i = 0; i < nv; i++) g[i] = g[i] / (1.0f + e[i]) * u[i];
    for (int64_t i = nv; i < n; i++) g[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

typedef struct {
    lrq_nn *nn;
    float *g, *u, *e;
    int64_t n_ff;
    int B;
} swiglu_task;

static void swiglu_worker(void *arg, int ith, int nth) {
    const swiglu_task *t = arg;
    long lo, hi;
    lrq_split(t->B, ith, nth, &lo, &hi);
    for (long b = lo; b < hi; b++)
        lrq_swiglu(t->nn, t->g + b * t->n_ff, t->u + b * t->n_ff, t->n_ff, t->e + (size_t)ith * (size_t)t->n_ff);
}

size_t lrq_mlp_scratch(int64_t n_ff, int B, int n_threads) {
    return sizeof(float) * (size_t)n_ff * (2 * (size_t)B + (size_t)n_threads) + 3 * 64;
}

void lrq_mlp_fwd(lrq_nn *nn, const lrq_mlp *M, const float *xn, int B, int order_rows, float *out) {
    const size_t mark = lrq_arena_mark(&nn->arena);
    const int64_t n_ff = M->gate.w->ne[1];
    swiglu_task t = { .nn = nn, .n_ff = n_ff, .B = B };
    t.g = lrq_arena_floats(&nn->arena, (size_t)B * (size_t)n_ff);
    t.u = lrq_arena_floats(&nn->arena, (size_t)B * (size_t)n_ff);
    t.e = lrq_arena_floats(&nn->arena, (size_t)nn->n_threads * (size_t)n_ff);
    const lrq_linear *gu[2] = { &M->gate, &M->up };
    float *const outs[2] = { t.g, t.u };
    lrq_linear_fwd_n(nn, gu, outs, 2, xn, B, order_rows);
    lrq_nn_rows(nn, B, swiglu_worker, &t);
    lrq_linear_fwd(nn, &M->down, t.g, out, B, order_rows);
    lrq_arena_reset(&nn->arena, mark);
}
