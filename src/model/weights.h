/* weights.h — what every model loader produces: hyper-parameters, named
 * tensors (llama.cpp/GGUF tensor names and ggml shape convention), and the
 * tokenizer if the source has one. Loaders: GGUF (weights_gguf.c), Hugging
 * Face safetensors directory (weights_hf.c), llama2.c checkpoint
 * (weights_llama2c.c). Tensor data stays in the memory mapping.
 */
#ifndef LRQ_WEIGHTS_H
#define LRQ_WEIGHTS_H

#include <stddef.h>
#include <stdint.h>

#include "fmt/tensor.h"

struct lrq_vocab;
struct lrq_gguf;

enum lrq_arch { LRQ_ARCH_LLAMA = 1, LRQ_ARCH_QWEN2 = 2, LRQ_ARCH_QWEN3 = 3,
                LRQ_ARCH_DEEPSEEK = 4, LRQ_ARCH_QWEN2MOE = 5, LRQ_ARCH_QWEN3MOE = 6 };

/* RoPE pairing. NORM: pairs (2i, 2i+1) (GGUF llama, llama2.c);
 * NEOX: pairs (i, i + d/2) ("rotate half": HF checkpoints, qwen2/qwen3). */
enum lrq_rope_kind { LRQ_ROPE_NORM = 0, LRQ_ROPE_NEOX = 2 };

#define LRQ_MAX_EXPERTS 4096       /* bound on expert counts read from files */
#define LRQ_MAX_FF (1 << 22)       /* bound on FFN widths read from files */

typedef struct lrq_hparams {
    int arch;            /* enum lrq_arch */
    int32_t n_vocab;
    int32_t n_embd;
    int32_t n_layer;
    int32_t n_head;
    int32_t n_head_kv;
    int32_t head_dim;    /* may differ from n_embd / n_head (qwen3) */
    int32_t n_rot;       /* rotated dims per head (rope.dimension_count); 0 = head_dim */
    int32_t n_ff;
    int32_t n_ctx_train;
    float rms_eps;
    float rope_theta;
    int rope_kind;       /* enum lrq_rope_kind */
    /* Mixture of experts (all 0 for dense models). Layers l >= n_layer_dense_lead
     * are MoE layers when n_expert > 0. */
    int32_t n_expert;           /* routed experts per MoE layer */
    int32_t n_expert_used;      /* top-k */
    int32_t n_ff_exp;           /* width of one routed expert */
    int32_t n_ff_shexp;         /* total width of the shared expert(s); 0 = none */
    int32_t n_layer_dense_lead; /* leading dense layers (deepseek) */
    int moe_norm_w;             /* renormalise the top-k weights to sum 1 (qwen3moe) */
    float expert_weights_scale; /* multiply the routed weights by this; 0 or 1 = no scaling */
} lrq_hparams;

/* 1 if layer l has a MoE FFN instead of a dense one. */
static inline int lrq_hparams_is_moe_layer(const lrq_hparams *hp, int l) {
    return hp->n_expert > 0 && l >= hp->n_layer_dense_lead;
}

typedef struct lrq_weights {
    char *path;                 /* source path, for messages (owned) */
    const char *format;         /* "gguf", "safetensors", "llama2c" */
    lrq_hparams hp;
    int32_t n_tensors;
    lrq_tensor *tensors;        /* [n_tensors] (owned) */
    int32_t *index;             /* [index_cap] open-addressing hash of names -> tensor + 1 (0 = empty) */
    uint32_t index_cap;         /* a power of two, >= 2 * n_tensors */
    struct lrq_vocab *vocab;    /* may be NULL (then --vocab is needed) */
    struct lrq_gguf *gguf;      /* GGUF source, kept open (may be NULL) */
    /* Loader-private resources released by lrq_weights_free: */
    void *priv;
    void (*priv_free)(void *priv);
} lrq_weights;

/* Detect the format of `path` (a .gguf file, a llama2.c .bin checkpoint, or
 * a directory with config.json + *.safetensors) and load it. */
int lrq_weights_load(lrq_weights **out, const char *path);

int lrq_weights_load_gguf(lrq_weights **out, const char *path);
int lrq_weights_load_hf(lrq_weights **out, const char *dir);
int lrq_weights_load_llama2c(lrq_weights **out, const char *path);

/* Release everything (safe on NULL). */
void lrq_weights_free(lrq_weights *w);

/* The GGUF key "<arch>.<suffix>" as an integer in [lo, hi] into *out: absent
 * keys fail when required, else take dflt (checked against the range too).
 * Errors name the file and the key. */
int lrq_gguf_arch_int(const struct lrq_gguf *g, const char *arch, const char *suffix, int required, int64_t dflt,
                      int64_t lo, int64_t hi, int32_t *out);

/* The lq tensors of a GGUF (weights_lq.c): for every tensor of an lq type,
 * its spec key and companions "<name>.lq_*" are checked and decoded into
 * float planes owned by w (w->priv), and its qp view set. Companions must
 * not be in w's tensor list (the GGUF loader skips them); one that belongs
 * to no lq tensor is an error. Returns 0, or -1 with an error naming the
 * file and the tensor. */
int lrq_weights_lq_attach(lrq_weights *w, const struct lrq_gguf *g);

/* Tensor by name, or NULL (a hash lookup: O(1) expected). */
const lrq_tensor *lrq_weights_find(const lrq_weights *w, const char *name);

/* Append a tensor (copies name). Used by loaders. */
int lrq_weights_add(lrq_weights *w, const char *name, int type, int n_dims, const int64_t *ne,
                    const void *data, size_t nbytes);

#endif
