/* moe.h — the mixture-of-experts FFN sub-block of llama.cpp's deepseek
 * (DeepSeek-MoE), qwen2moe and qwen3moe architectures: a router picks
 * n_expert_used of n_expert SwiGLU experts per token, their outputs are
 * summed with the routing weights, and an optional shared expert (a dense
 * SwiGLU MLP, for qwen2moe behind a sigmoid gate) is added. The caller adds
 * the residual. Explicit inputs and outputs; all scratch from nn's arena.
 *
 * Numerics (llama.cpp v0.5.0 CPU backend, build_moe_ffn):
 *  - router logits in F32: tinyBLAS order (order.h f32_gemm) when >= 2 rows,
 *    n_embd % 16 == 0 and n_expert % 4 == 0 (llamafile_sgemm's conditions),
 *    else ggml_vec_dot_f32 order (f32_vec);
 *  - softmax as ggml_soft_max: max, exp(x - max) (ggml_v_expf on groups of
 *    16, expf on the rest), sum in double, scale by (float)(1/sum);
 *  - top-k as ggml_argsort (descending) + view: for n_expert <= 16
 *    libstdc++'s std::sort is an insertion sort, i.e. stable, so equal
 *    probabilities keep the lower expert first; lrq does that for any count
 *    (llama.cpp's introsort may order exact ties differently above 16);
 *  - weights = the selected probabilities; if norm_w: divided by their sum
 *    (summed in double, clamped below at 6.103515625e-5); then * w_scale
 *    unless it is 0 or 1;
 *  - experts as ggml_mul_mat_id: every output is one vec_dot of the weight
 *    row with the activation row rounded to the weight type's partner type,
 *    so the result does not depend on how many tokens an expert gets (the
 *    tile kernels are bit-identical to vec_dot); F32/F16/BF16 experts use
 *    ggml_vec_dot_* order exactly (order.h *_vec);
 *  - SwiGLU as ggml_vec_swiglu_f32 (mlp.h); each expert output times its
 *    weight, summed in slot order ((e0 + e1) + e2 ...);
 *  - shared expert: the mlp op (nn/mlp.h), added after the routed sum;
 *    qwen2moe multiplies it by silu(g) / g with g = x . ffn_gate_inp_shexp
 *    (ggml_vec_dot_f32 order), as llama.cpp's graph writes the sigmoid.
 * Work layout: the B*k (token, slot) pairs are grouped by expert (stable:
 * token order within an expert, as ggml_mul_mat_id), so each expert's rows
 * are contiguous and one pass per expert covers all its tokens; a decode
 * step reads only the k chosen experts. Every output element is computed by
 * one thread in a fixed order: results do not depend on the thread count.
 *
 * Hooks (nn/hooks.h): the router fires linear_in/linear_out with slot
 * LRQ_SLOT_ROUTER (output: the logits before the softmax); every expert
 * linear fires them once per expert that received tokens, with info.expert
 * set and the rows of that expert only (in token order); expert_route sees
 * every token's choice. The shared expert's linears are plain lrq_linears
 * (slots GATE/UP/DOWN, names ffn_*_shexp). */
#ifndef LRQ_NN_MOE_H
#define LRQ_NN_MOE_H

#include "nn/mlp.h"

typedef struct lrq_moe {
    const float *router;          /* ffn_gate_inp [n_expert][n_embd], F32 */
    lrq_linear_info router_info;  /* slot LRQ_SLOT_ROUTER */
    lrq_linear gate, up;          /* expert stacks [n_expert][n_ff_exp][n_embd] (3-D tensors) */
    lrq_linear down;              /* [n_expert][n_embd][n_ff_exp] */
    int has_shexp;                /* shexp holds the shared expert */
    lrq_mlp shexp;                /* [n_embd -> n_ff_shexp -> n_embd] */
    const float *shexp_gate;      /* [n_embd] sigmoid gate of the shared expert (qwen2moe), or NULL */
    lrq_linear_info shexp_gate_info; /* slot LRQ_SLOT_SHEXP_GATE (its input goes to linear_in, as llama.cpp's
                                    mul_mat of it is a linear to llama-imatrix) */
    int n_expert, n_expert_used;
    int norm_w;                   /* renormalise the top-k weights to sum 1 */
    float w_scale;                /* multiply the weights by this; 0 or 1 = no scaling */
} lrq_moe;

/* Shapes the scratch depends on (all 0 for dense models). */
typedef struct lrq_moe_shape {
    int64_t n_embd;
    int n_expert, n_expert_used;
    int64_t n_ff_exp, n_ff_shexp;
} lrq_moe_shape;

/* out[t] = MoE FFN of xn[t] (already RMS-normalised), t < B; xn, out:
 * [B][n_embd]. `tok0` is the index of row 0 in the caller's batch (what the
 * expert_route hook reports, plus the row). counts: [n_expert] usage
 * counters of this layer (each routed (token, slot) adds 1), or NULL.
 * Scratch from nn's arena (lrq_moe_scratch bytes); no allocation. */
void lrq_moe_fwd(lrq_nn *nn, const lrq_moe *M, const float *xn, int B, int tok0, uint64_t *counts, float *out);

/* Arena bytes lrq_moe_fwd needs for B tokens (0 when sh->n_expert == 0). */
size_t lrq_moe_scratch(const lrq_moe_shape *sh, int B, int n_threads);

#endif
