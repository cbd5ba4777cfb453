/* block.h — a transformer block (pre-norm attention, then pre-norm MLP,
 * each with a residual add), and replica sets over its units.
 *
 * A replica set runs a unit K times (K <= LRQ_MAX_REPLICAS), replica k with
 * its own parameter set rep[k] (tensors that may share one stored code array
 * and differ in quantization parameters, fmt/tensor.h):
 *   unit LRQ_UNIT_ATTN / LRQ_UNIT_MLP: the sub-block's output delta
 *       parallel:   x <- x + sum_k cw[k] * unit_k(norm_k(x))
 *       sequential: for k: x <- x + unit_k(norm_k(x))
 *       (the MLP unit of a MoE layer is the MoE FFN; lrq_model_replicate
 *       refuses MLP replica sets there)
 *   unit LRQ_UNIT_BLOCK: the whole block (both sub-blocks and residuals)
 *       parallel:   x <- sum_k cw[k] * block_k(x)
 *       sequential: for k: x <- block_k(x)
 * Every replica that contains attention has its own KV cache. K = 1 runs
 * exactly the plain block (no combine step), so it is bit-identical to it.
 * For a single linear, replicas that differ only in scale/zero collapse to
 * one affine map; sets over these units cross a nonlinearity. */
#ifndef LRQ_NN_BLOCK_H
#define LRQ_NN_BLOCK_H

#include "nn/attention.h"
#include "nn/mlp.h"
#include "nn/moe.h"

#define LRQ_MAX_REPLICAS 4

enum lrq_unit { LRQ_UNIT_BLOCK = 0, LRQ_UNIT_ATTN = 1, LRQ_UNIT_MLP = 2 };
enum lrq_topology { LRQ_TOPO_PARALLEL = 0, LRQ_TOPO_SEQUENTIAL = 1 };

/* One parameter set of a block. */
typedef struct lrq_block_w {
    const float *attn_norm, *ffn_norm;  /* [n_embd] */
    lrq_attn attn;
    lrq_mlp mlp;          /* the dense FFN (unused when moe.n_expert > 0) */
    lrq_moe moe;          /* the MoE FFN of a MoE layer (n_expert > 0), else zero */
} lrq_block_w;

typedef struct lrq_block {
    int K;                                /* replicas; 1 = the plain block */
    int unit;                             /* enum lrq_unit (K > 1) */
    int topology;                         /* enum lrq_topology (K > 1) */
    float cw[LRQ_MAX_REPLICAS];           /* parallel combine weights */
    lrq_block_w rep[LRQ_MAX_REPLICAS];    /* rep[0]: the plain parameter set */
} lrq_block;

typedef struct lrq_block_shape {
    lrq_attn_shape attn;
    int64_t n_embd, n_ff;
    float eps;            /* RMSNorm epsilon */
    lrq_moe_shape moe;    /* MoE layers' shapes (n_expert 0: none) */
} lrq_block_shape;

/* KV caches the block needs: K when its replicated unit contains attention. */
int lrq_block_n_kv(const lrq_block *b);

/* Run the block on the residual stream x ([B][n_embd], updated in place)
 * for tokens at positions n_past..n_past+B-1; kv: lrq_block_n_kv(b) caches;
 * rope: [B][n_rot]. Rows before ffn_from skip the MLP (their output is not
 * needed: llama.cpp drops them before the last layer's FFN too). A MoE
 * layer adds its expert usage to nn->moe_counts when that is set. */
void lrq_block_fwd(lrq_nn *nn, const lrq_block *b, const lrq_block_shape *sh, lrq_kv *kv, float *x,
                   const float *rope, int n_past, int B, int ffn_from);

/* Arena bytes lrq_block_fwd needs. */
size_t lrq_block_scratch(const lrq_block_shape *sh, int n_ctx_pad, int B, int n_threads);

#endif
