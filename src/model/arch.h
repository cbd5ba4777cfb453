/* arch.h — one descriptor per architecture: everything lrq knows about it
 * in one place (its file arch_<name>.c): the names GGUF and Hugging Face
 * use for it, its RoPE layout, config defaults, and its tensor map (the
 * bind function, which finds and checks every tensor of m->layers).
 * To add an architecture: write arch_<name>.c with its descriptor and add
 * it to the list in arch.c (docs/architecture.md). */
#ifndef LRQ_MODEL_ARCH_H
#define LRQ_MODEL_ARCH_H

struct lrq_model;

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

#endif
