/* nn.h — the execution context every layer op runs in: the thread pool,
 * the exact-order kernels, per-context scratch (arena), the hooks, and the
 * buffers activations are rounded into before a matmul. One per lrq_ctx;
 * everything is allocated by lrq_nn_init, so ops never allocate.
 *
 * The ops (one file each) have explicit inputs and outputs and no hidden
 * state beyond what their arguments name:
 *   linear.h     y = W x (+ b), activations rounded per the linear's policy
 *   norm.h       RMSNorm
 *   rope.h       rotary position embedding tables and application
 *   attention.h  the attention sub-block (q/k/v/o, q/k norm, RoPE, KV cache)
 *   mlp.h        the SwiGLU MLP sub-block
 *   moe.h        the mixture-of-experts sub-block
 *   block.h      a transformer block, and replica sets over its units
 */
#ifndef LRQ_NN_H
#define LRQ_NN_H

#include <stddef.h>
#include <stdint.h>

#include "core/pool.h"
#include "kern/order.h"
#include "nn/arena.h"
#include "nn/hooks.h"

/* Partner types activations may be rounded to (fmt/types.h vec_dot_type). */
enum { LRQ_NN_N_PARTNERS = 5 };

typedef struct lrq_nn {
    lrq_pool *pool;
    int n_threads;
    int n_batch;                 /* max tokens per call */
    int64_t k_max;               /* widest linear input */
    const lrq_order_kernels *ord;
    lrq_arena arena;             /* scratch for ops; reset by the caller between evaluations */
    const lrq_hooks *hooks;      /* NULL: none */
    void *act[LRQ_NN_N_PARTNERS];        /* [n_batch][row bytes of k_max] per partner type */
    size_t act_stride[LRQ_NN_N_PARTNERS];
    size_t q8p_tok_bytes;        /* int8 activations of planes weights (nn/linear.c): scratch reserved per token
                                  * and set, 0 = none reserved (then those linears take F32 inputs) */
    uint64_t *moe_counts;        /* [n_layer][moe_n_expert] expert usage (MoE models), or NULL; owned by the caller */
    int moe_n_expert;
} lrq_nn;

/* Set up a context for batches of up to n_batch tokens and linear inputs of
 * up to k_max values, with arena_bytes of scratch. -1 + error on failure
 * (then lrq_nn_free is still safe). */
int lrq_nn_init(lrq_nn *nn, int n_threads, int n_batch, int64_t k_max, size_t arena_bytes);
void lrq_nn_free(lrq_nn *nn);

/* Index of a partner type in act[], or -1. */
int lrq_nn_partner_index(int type);

/* Run fn(arg, ith, nth) over the pool when there is enough work (B >= 4
 * rows), else inline on the caller: per-token ops split rows with lrq_split,
 * so both give the same results. */
void lrq_nn_rows(lrq_nn *nn, int B, lrq_task_fn fn, void *arg);

#endif
