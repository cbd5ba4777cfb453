/* arch.h — one descriptor per architecture: everything lrq knows about it
 * in one place (its file arch_<name>.c): the names GGUF and Hugging Face
 * use for it, its RoPE layout, config defaults, and its tensor map (the
 * bind function, which finds and checks every tensor of m->layers).
 * To add an architecture: write arch_<name>.c with its descriptor and add
 * it to the list in arch.c (docs/architecture.md). */
#ifndef LRQ_MODEL_ARCH_H
#define LRQ_MODEL_ARCH_H

struct lrq_model;

/* What a mixture-of-experts architecture adds (model/arch_moe.c reads and
 * binds it; one rule set per architecture, as llama.cpp's graphs differ). */
typedef struct lrq_arch_moe {
    const char *hf_n_expert;    /* config.json key of the routed expert count */
    const char *hf_shexp;       /* HF module of the shared expert(s) ("mlp.<this>.gate_proj"), or NULL */
    int shexp_count;            /* shared width = expert_shared_count x expert width (GGUF; HF n_shared_experts) */
    int shexp_width;            /* shared width given directly (GGUF expert_shared_feed_forward_length; HF
                                 * shared_expert_intermediate_size) */
    int shexp_gate;             /* the shared expert has a sigmoid gate ffn_gate_inp_shexp */
    int leading_dense;          /* leading dense layers (GGUF leading_dense_block_count; HF first_k_dense_replace) */
    int weights_scale;          /* routed weights scaled (GGUF expert_weights_scale; HF routed_scaling_factor) */
    int norm_w;                 /* GGUF default for renormalising the top-k weights (expert_weights_norm) */
} lrq_arch_moe;

typedef struct lrq_arch_desc {
    int id;                     /* enum lrq_arch (weights.h) */
    const char *gguf_name;      /* general.architecture */
    const char *hf_class;       /* config.json "architectures"[0], or NULL */
    const char *hf_model_type;  /* config.json "model_type", or NULL */
    int gguf_rope;              /* RoPE layout of its GGUF files (enum lrq_rope_kind) */
    int hf_default_ctx;         /* max_position_embeddings when config.json omits it */
    int hf_default_head_dim;    /* head_dim when config.json omits it; 0 = hidden_size / heads */
    int qkv_bias;               /* Q/K/V projections have biases */
    int qk_norm;                /* per-head RMSNorm of q and k */
    int (*bind)(struct lrq_model *m); /* bind and check m->layers (and norms, output) */
    const lrq_arch_moe *moe;    /* mixture-of-experts rules, or NULL for a dense FFN */
} lrq_arch_desc;

/* The descriptor of an architecture id / GGUF name / HF class (or, when the
 * class is NULL, HF model_type); NULL if lrq does not know it. */
const lrq_arch_desc *lrq_arch_get(int id);
const lrq_arch_desc *lrq_arch_find_gguf(const char *name);
const lrq_arch_desc *lrq_arch_find_hf(const char *cls, const char *model_type);

/* "llama, qwen2, ..." (GGUF names) or "LlamaForCausalLM, ..." (HF classes), for messages. */
const char *lrq_arch_list_gguf(void);
const char *lrq_arch_list_hf(void);

/* The descriptors (defined in arch_<name>.c). */
extern const lrq_arch_desc lrq_arch_llama, lrq_arch_qwen2, lrq_arch_qwen3;
extern const lrq_arch_desc lrq_arch_deepseek, lrq_arch_qwen2moe, lrq_arch_qwen3moe;

struct lrq_gguf;
struct lrq_hparams;
/* MoE hyper-parameters of a GGUF file whose architecture has ad->moe
 * (arch_moe.c): expert counts and widths, leading dense layers, weight
 * normalisation and scale. -1 + one error line naming the file and key for
 * a missing or out-of-range value. */
int lrq_arch_moe_read_gguf(const lrq_arch_desc *ad, const struct lrq_gguf *g, const char *arch,
                           struct lrq_hparams *hp);

#endif
