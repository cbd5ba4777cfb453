/* preset.h — llama-quantize's presets (llama_ftype) and its per-tensor type
 * choices, as data: which type every tensor of a model gets when a preset is
 * asked for. This is lrq's own table-driven restatement of
 * llama_tensor_get_type / tensor_type_fallback / tensor_allows_quantization
 * in llama.cpp v0.5.0's src/llama-quant.cpp, for the architectures lrq runs
 * (llama, qwen2, qwen3, deepseek, qwen2moe, qwen3moe); docs/recipes.md has
 * the same table for people.
 *
 * Use: lrq_preset_find, then lrq_preset_state_init over the model's tensor
 * names, then lrq_preset_tensor_type for every tensor IN llama-quantize's
 * order (lrq_preset_order: by layer, then by name) — the choices depend on
 * counters (the how-many-th attn_v this is), exactly as in llama-quantize.
 */
#ifndef LRQ_QUANT_PRESET_H
#define LRQ_QUANT_PRESET_H

#include <stddef.h>
#include <stdint.h>

/* llama.cpp's enum llama_ftype values (general.file_type). */
enum lrq_ftype {
    LRQ_FTYPE_F32 = 0, LRQ_FTYPE_F16 = 1, LRQ_FTYPE_Q4_0 = 2, LRQ_FTYPE_Q4_1 = 3, LRQ_FTYPE_Q8_0 = 7,
    LRQ_FTYPE_Q5_0 = 8, LRQ_FTYPE_Q5_1 = 9, LRQ_FTYPE_Q2_K = 10, LRQ_FTYPE_Q3_K_S = 11, LRQ_FTYPE_Q3_K_M = 12,
    LRQ_FTYPE_Q3_K_L = 13, LRQ_FTYPE_Q4_K_S = 14, LRQ_FTYPE_Q4_K_M = 15, LRQ_FTYPE_Q5_K_S = 16,
    LRQ_FTYPE_Q5_K_M = 17, LRQ_FTYPE_Q6_K = 18, LRQ_FTYPE_IQ4_NL = 25, LRQ_FTYPE_IQ4_XS = 30,
    LRQ_FTYPE_BF16 = 32
};

typedef struct lrq_preset {
    const char *name;     /* llama-quantize's name ("Q4_K_M") */
    int ftype;            /* enum lrq_ftype */
    int type;             /* the default tensor type (ggml id) */
    const char *about;    /* one line for --help */
} lrq_preset;

/* The preset of a name (case-insensitive; llama-quantize's aliases Q3_K,
 * Q4_K, Q5_K are Q3_K_M, Q4_K_M, Q5_K_M), or NULL. */
const lrq_preset *lrq_preset_find(const char *name);
/* Preset i (0 <= i < lrq_preset_count()), for listings. */
int lrq_preset_count(void);
const lrq_preset *lrq_preset_at(int i);

/* Broad tensor roles, from the name (llama-quantize's tensor_category). */
enum lrq_tcat {
    LRQ_TCAT_OTHER, LRQ_TCAT_OUTPUT, LRQ_TCAT_TOKEN_EMBD, LRQ_TCAT_ATTN_V, LRQ_TCAT_ATTN_K, LRQ_TCAT_ATTN_Q,
    LRQ_TCAT_ATTN_OUTPUT, LRQ_TCAT_FFN_UP, LRQ_TCAT_FFN_GATE, LRQ_TCAT_FFN_DOWN
};
int lrq_tensor_category(const char *name);

/* 1 if llama-quantize would quantize this tensor at all: 2-D or 3-D, the
 * name ends in "weight" and is not a norm ("_norm.weight") nor a MoE router
 * ("ffn_gate_inp.weight"). Everything else keeps its type. */
int lrq_tensor_quantizable(const char *name, int n_dims);
/* 1 for the tensors that stay F32 unless asked otherwise: norms and the
 * router (a subset of the non-quantizable ones, named in warnings). */
int lrq_tensor_is_norm_or_router(const char *name);

/* What the choices depend on besides the tensor itself. */
typedef struct lrq_preset_model {
    const char *arch;         /* "llama", "qwen2", ... */
    int32_t n_layer, n_head, n_head_kv, n_expert;
    int has_imatrix;
} lrq_preset_model;

/* Counters and model facts, llama-quantize's quantize_state_impl. */
typedef struct lrq_preset_state {
    lrq_preset_model m;
    int n_attn_v, i_attn_v;   /* attn_v-like tensors in the model; seen so far */
    int i_ffn_down;           /* ffn_down tensors seen so far (dense models) */
    int tied;                 /* no output.weight: token_embd doubles as the output */
    int is_70b;               /* llama-quantize's LLM_TYPE_70B for this arch and shape */
    int n_fallback;           /* tensors whose row length forced another type */
} lrq_preset_state;

/* Prepare the state from every tensor name of the model. */
void lrq_preset_state_init(lrq_preset_state *st, const lrq_preset_model *m, const char *const *names, size_t n);

/* The type llama-quantize's preset p gives tensor `name` (a quantizable one,
 * lrq_tensor_quantizable) with row length ne0 and 3rd dimension ne2:
 * the preset's mix (unless `mix` is 0: llama-quantize --pure), then the
 * row-length fallback. `forced` >= 0 is a type chosen by a user rule
 * instead of the mix (the fallback still applies, as in llama-quantize).
 * Returns the type, or -1 with an error (a MoE tensor name without a layer
 * number; no fallback for the type). *fell_back is set to 1 when the
 * fallback changed the type. */
int lrq_preset_tensor_type(lrq_preset_state *st, const lrq_preset *p, const char *name, int64_t ne0, int mix,
                           int forced, int *fell_back);

/* llama-quantize's row-length fallback alone: `type` if ne0 is a multiple
 * of its block size, else a 32-block type (then F16 when that does not fit
 * either); -1 + error for a type without a defined fallback. */
int lrq_type_fallback(int type, int64_t ne0);

/* Compare two tensor names in llama-quantize's output order: by the layer
 * number of "blk.N." (names without one first), then by strcmp. */
int lrq_preset_order(const char *a, const char *b);

#endif
