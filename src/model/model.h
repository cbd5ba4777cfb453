/* model.h — a transformer bound to its weights (the per-architecture files
 * arch_*.c check names and shapes and fill lrq_layer), and the inference
 * context (KV cache + scratch, all allocated up front: the forward pass
 * does no allocation). */
#ifndef LRQ_MODEL_H
#define LRQ_MODEL_H

#include "lrq.h"
#include "model/weights.h"
#include "nn/block.h"

struct lrq_pool;
struct lrq_vocab;

typedef struct lrq_layer {
    const lrq_tensor *attn_norm;            /* [n_embd] F32 */
    const lrq_tensor *wq, *wk, *wv, *wo;    /* [n_embd, n_head*hd], [n_embd, n_kv*hd] x2, [n_head*hd, n_embd] */
    const lrq_tensor *bq, *bk, *bv;         /* qwen2 biases [n_head*hd], [n_kv*hd] x2; else NULL */
    const lrq_tensor *q_norm, *k_norm;      /* qwen3 per-head RMSNorm weights [hd]; else NULL */
    const lrq_tensor *ffn_norm;             /* [n_embd] */
    const lrq_tensor *ffn_gate, *ffn_up;    /* [n_embd, n_ff] */
    const lrq_tensor *ffn_down;             /* [n_ff, n_embd] */
    /* MoE layers (then ffn_gate/up/down are NULL; arch_moe.c): */
    const lrq_tensor *gate_inp;             /* router [n_embd, n_expert], F32 */
    const lrq_tensor *gate_exps, *up_exps;  /* [n_embd, n_ff_exp, n_expert] */
    const lrq_tensor *down_exps;            /* [n_ff_exp, n_embd, n_expert] */
    const lrq_tensor *gate_shexp, *up_shexp;/* [n_embd, n_ff_shexp], or NULL: no shared expert */
    const lrq_tensor *down_shexp;           /* [n_ff_shexp, n_embd], or NULL */
    const lrq_tensor *gate_inp_shexp;       /* [n_embd] F32 sigmoid gate of the shared expert (qwen2moe), or NULL */
} lrq_layer;

/* A tensor converted at load time (e.g. an F16 norm weight made F32). */
typedef struct lrq_owned_tensor {
    lrq_tensor t;
    struct lrq_owned_tensor *next;
} lrq_owned_tensor;

typedef struct lrq_model {
    lrq_weights *w;              /* owned */
    lrq_hparams hp;
    const lrq_tensor *tok_embd;  /* [n_embd, n_vocab] */
    const lrq_tensor *output_norm; /* [n_embd] */
    const lrq_tensor *output;    /* [n_embd, n_vocab]; == tok_embd when tied */
    lrq_layer *layers;           /* [n_layer] tensors as bound by the architecture file */
    lrq_block *blocks;           /* [n_layer] the ops' view of the layers (+ replica sets) */
    struct lrq_vocab *vocab;     /* borrowed from w, or owned_vocab */
    struct lrq_vocab *owned_vocab;
    lrq_owned_tensor *owned;     /* converted tensors (owned list) */
    uint8_t *used;               /* [w->n_tensors] 1 when bound (unbound tensors are an error) */
} lrq_model;

/* Shared by the binders: find a tensor by printf-style name, check dims
 * (ne1 == 0 means 1-D) and that its type is computable. required=0 allows
 * absence (returns NULL without error; check lrq_err via *bad). */
const lrq_tensor *lrq_model_tensor(lrq_model *m, int *bad, int required, int64_t ne0, int64_t ne1,
                                   const char *fmt, ...);
/* Bind the common llama-style tensors (norms, q/k/v/o, ffn) for every layer
 * (the dense FFN only in layers that are not MoE layers). */
int lrq_model_bind_common(lrq_model *m);
/* Bind the Q/K/V biases (qwen2 family) / per-head q/k norms (qwen3 family)
 * of every layer, after lrq_model_bind_common. */
int lrq_model_bind_qkv_bias(lrq_model *m);
int lrq_model_bind_qk_norm(lrq_model *m);
/* Bind the MoE FFN of every MoE layer (l >= hp.n_layer_dense_lead) as the
 * architecture's descriptor (arch.h lrq_arch_moe) says: router, expert
 * stacks, and the shared expert when hp.n_ff_shexp > 0. arch_moe.c. */
int lrq_model_bind_moe(lrq_model *m);

/* Build m->blocks from m->layers (called by lrq_model_load after binding). */
int lrq_model_build_blocks(lrq_model *m);

/* Make layer `layer` (or every layer when layer < 0) a replica set of K
 * (1..LRQ_MAX_REPLICAS) copies of its unit (enum lrq_unit) combined as
 * `topology` (enum lrq_topology) with weights cw[0..K) (parallel only; NULL =
 * 1/K each). Every replica starts with the layer's own parameter set; a
 * replica's tensors can then be replaced by views (lrq_model_replica_tensor).
 * Contexts created afterwards size their KV caches for it. */
int lrq_model_replicate(lrq_model *m, int layer, int unit, int topology, int K, const float *cw);

/* Let replica k of layer `layer` use tensor t (same shape and type as the
 * plain one) for linear `slot` (enum lrq_linear_slot, LRQ_SLOT_Q..DOWN). */
int lrq_model_replica_tensor(lrq_model *m, int layer, int k, int slot, const lrq_tensor *t);

/* Activation policy (nn/linear.h, enum lrq_act_policy) of every block linear;
 * the output head keeps llama.cpp's partner-type rounding. */
int lrq_model_set_act_policy(lrq_model *m, int policy);

/* Load a model from a path (GGUF file, llama2.c .bin, HF directory). If
 * vocab_path is not NULL the tokenizer is read from it (a GGUF or llama2.c
 * tokenizer.bin) instead of / in the absence of the model's own. */
int lrq_model_load(lrq_model **out, const char *path, const char *vocab_path);
void lrq_model_free(lrq_model *m);

/* ---- inference context ---- */
typedef struct lrq_ctx lrq_ctx;

/* n_ctx: KV cache length; n_batch: max tokens per lrq_ctx_eval call. */
int lrq_ctx_new(lrq_ctx **out, const lrq_model *m, int n_ctx, int n_batch, int n_threads);
void lrq_ctx_free(lrq_ctx *c);
/* Forget the KV cache (start a new sequence). */
void lrq_ctx_reset(lrq_ctx *c);
/* Evaluate n tokens at positions n_past .. n_past+n-1 (n <= n_batch,
 * n_past + n <= n_ctx) and append them to the KV cache. Returns the logits
 * of tokens logits_from .. n-1 ([n - logits_from][n_vocab]; logits_from =
 * n-1 for the last token only, 0 for all), owned by the context and valid
 * until the next call; NULL with an error on bad arguments. */
const float *lrq_ctx_eval(lrq_ctx *c, const int32_t *tokens, int n, int logits_from);
int lrq_ctx_n_past(const lrq_ctx *c);

/* (hooks: lrq_ctx_set_hooks; expert counters: lrq_ctx_expert_counts — include/lrq.h) */

#endif
