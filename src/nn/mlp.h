/* mlp.h — the SwiGLU MLP sub-block: out = Wdown (silu(Wgate xn) * (Wup xn)).
 * The caller adds the residual. silu is computed as ggml_vec_swiglu_f32
 * does: its vector exp (kern/order.h) on whole groups of 16, libm expf on
 * the rest. */
#ifndef LRQ_NN_MLP_H
#define LRQ_NN_MLP_H

#include "nn/linear.h"

typedef struct lrq_mlp {
    lrq_linear gate, up;  /* [n_embd -> n_ff] */
    lrq_linear down;      /* [n_ff -> n_embd] */
} lrq_mlp;

/* out[t] = MLP(xn[t]) for t < B; xn: [B][n_embd], out: [B][n_embd].
 * order_rows as in lrq_linear_fwd. */
void lrq_mlp_fwd(lrq_nn *nn, const lrq_mlp *M, const float *xn, int B, int order_rows, float *out);

/* In place g[i] = silu(g[i]) * u[i] for one row of n values; e: [n] scratch. */
void lrq_swiglu(lrq_nn *nn, float *g, const float *u, int64_t n, float *e);

/* Arena bytes lrq_mlp_fwd needs. */
size_t lrq_mlp_scratch(int64_t n_ff, int B, int n_threads);

#endif
