/* attention.h — the attention sub-block: out = Wo . attn(q, K, V) with
 * q = Wq xn, k = Wk xn, v = Wv xn (optional biases), optional per-head
 * RMSNorm of q and k (qwen3), RoPE, then causal softmax attention over the
 * KV cache with grouped-query heads. The caller adds the residual.
 *
 * Exact attention in llama.cpp's order (kern/order.h): KQ by ggml_vec_dot_f32
 * over head_dim; softmax with ggml's exp, summed per 16 into a double;
 * KQV = V^T times the probabilities, tinyBLAS order for >= 2 tokens, else
 * ggml_vec_dot_f32 order, over positions padded with zero weights. */
#ifndef LRQ_NN_ATTENTION_H
#define LRQ_NN_ATTENTION_H

#include "nn/linear.h"

typedef struct lrq_attn_shape {
    int64_t n_embd;
    int n_head, n_head_kv, head_dim, n_rot;
    int neox;             /* RoPE layout: 1 NEOX, 0 NORM */
    float eps;            /* q/k norm epsilon */
} lrq_attn_shape;

typedef struct lrq_attn {
    lrq_linear q, k, v, o;        /* [n_embd -> n_head*hd], [n_embd -> n_kv*hd] x2, [n_head*hd -> n_embd] */
    const float *q_norm, *k_norm; /* [head_dim] per-head RMSNorm weights, or NULL */
} lrq_attn;

/* One sequence's keys and values for one attention unit. */
typedef struct lrq_kv {
    float *k;             /* [n_ctx][n_kv*hd] */
    float *vt;            /* [n_kv*hd][n_ctx_pad]: V transposed, as llama.cpp's v_trans */
    int n_ctx, n_ctx_pad; /* n_ctx_pad: n_ctx rounded up to 64 */
} lrq_kv;

/* out[t] = attention output of token t (n_past + t), t < B; xn: [B][n_embd]
 * (normalised input), rope: [B][n_rot] tables (rope.h), out: [B][n_embd].
 * Appends the B tokens' keys and values to kv at n_past.. . Scratch comes
 * from nn's arena. */
void lrq_attention_fwd(lrq_nn *nn, const lrq_attn *A, const lrq_attn_shape *sh, lrq_kv *kv, const float *xn,
                       const float *rope, int n_past, int B, float *out);

/* Arena bytes lrq_attention_fwd needs for B tokens. */
size_t lrq_attention_scratch(const lrq_attn_shape *sh, int n_ctx_pad, int B, int n_threads);

#endif
