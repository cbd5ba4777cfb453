/* linear.h — the linear op: y = W x (+ b) for a batch of tokens.
 *
 * Numerics (the default activation policy, LRQ_ACT_PARTNER) follow
 * llama.cpp's CPU backend: the F32 input is rounded to the weight type's
 * partner type (F32/F16/BF16/Q8_0/Q8_1/Q8_K) and multiplied with the type's
 * dot kernel (tile kernels for batches, bit-identical to the dot kernel), or
 * for F16/BF16 weights in llama.cpp's exact summation order (kern/order.h).
 * Every output element is computed by one thread in a fixed order, so
 * results never depend on the thread count.
 *
 * Planes weights (lrq's lq formats, layout LRQ_PARAMS_PLANES) have no
 * llama.cpp partner; their default is int8 activations as the int8 planes
 * kernels define them (kern/planes_q8.h: blocks of values with one float
 * scale each, rounded once per token per code width and group) whenever
 * those kernels take the shape (2/3/4-bit codes, uniform grid, widths and
 * groups they support), and the F32 input otherwise (kern/planes.h). The
 * same per-output determinism holds: the batched (tile) and single-token
 * kernels give the same bits.
 *
 * Other policies choose the activation precision independently of the
 * weight type (for A8/A16 experiments): the weights are dequantized row by
 * row to F32 and multiplied with the input rounded as the policy says, in
 * F32 (ggml_vec_dot_f32 order):
 *   LRQ_ACT_F32       the input as it is
 *   LRQ_ACT_F16       each value rounded to F16
 *   LRQ_ACT_Q8_TOKEN  per token, symmetric 8-bit: s = max|x| / 127,
 *                     x -> s * round(x * (1/s)) (round half away from zero)
 *   LRQ_ACT_INT       the linear's lrq_act_quant spec (bits, per token or
 *                     per tensor, sym/asym, clipping; nn/act_quant.h);
 *                     Q8_TOKEN is its case {8, per token, sym, clip 1}
 */
#ifndef LRQ_NN_LINEAR_H
#define LRQ_NN_LINEAR_H

#include "fmt/tensor.h"
#include "nn/nn.h"
#include "nn/act_quant.h"

enum lrq_act_policy { LRQ_ACT_PARTNER = 0, LRQ_ACT_F32 = 1, LRQ_ACT_F16 = 2, LRQ_ACT_Q8_TOKEN = 3, LRQ_ACT_INT = 4 };

typedef struct lrq_linear {
    const lrq_tensor *w;     /* [n_out = ne1][n_in = ne0]; 2-D */
    const float *bias;       /* [n_out], or NULL */
    int act;                 /* enum lrq_act_policy */
    lrq_act_quant aq;        /* LRQ_ACT_INT: the activation quantization (validated when set) */
    lrq_linear_info info;    /* what the hooks are told */
} lrq_linear;

/* y[t][o] = W[o] . x[t] (+ bias[o]) for t < B (x: [B][n_in], y: [B][n_out],
 * contiguous). order_rows: how many tokens llama.cpp multiplies in this
 * matmul (it picks the F16/BF16 summation order from it); B everywhere but
 * where llama.cpp computes fewer rows than lrq. Calls the hooks. */
void lrq_linear_fwd(lrq_nn *nn, const lrq_linear *L, const float *x, float *y, int B, int order_rows);

/* n linears reading the same input x (q/k/v; gate/up): the input is rounded
 * once per partner type, and tiled matmuls run as one pool run (their row
 * blocks claimed from one counter). y[i] receives L[i]'s output. Hooks: every
 * linear_in of a group of up to 4 comes before the group's linear_outs. */
void lrq_linear_fwd_n(lrq_nn *nn, const lrq_linear *const *L, float *const *y, int n, const float *x, int B,
                      int order_rows);

/* Most linears one group of lrq_linear_fwd_n handles (larger n: groups). */
#define LRQ_LINEAR_GROUP 4

/* Scratch per token that the int8 activations of one (code width, group)
 * set of planes weights with up to k_max inputs may need (0 if the int8
 * kernels take no such shape). A context that may run planes weights
 * reserves LRQ_LINEAR_GROUP * n_batch * (this + sizeof(lrq_q8p_act) + 128)
 * arena bytes and sets nn->q8p_tok_bytes to it; a linear whose activation
 * would not fit takes F32 inputs instead (never an overflow). */
size_t lrq_linear_q8p_tok_bytes(int64_t k_max);

#endif
