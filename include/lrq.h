/* lrq.h — public API of lrq, a C11 library for low-bit quantization and
 * CPU inference of Llama/Qwen-family language models.
 *
 * Conventions: functions returning int give 0 on success and -1 on error;
 * functions returning pointers give NULL on error. After an error,
 * lrq_last_error() returns a one-line message naming the file and field at
 * fault. The library never exits the process. Objects are not thread-safe
 * unless stated; distinct objects may be used from distinct threads.
 */
#ifndef LRQ_H
#define LRQ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LRQ_VERSION "0.1.0"

typedef struct lrq_model lrq_model;   /* weights + hyper-parameters + tokenizer */
typedef struct lrq_ctx lrq_ctx;       /* KV cache + scratch + thread pool for one sequence */
typedef struct lrq_vocab lrq_vocab;   /* tokenizer */

/* The last error message of the calling thread ("" if none). */
const char *lrq_last_error(void);

/* Load a model: a GGUF file, a llama2.c .bin checkpoint or a Hugging Face
 * directory (config.json + *.safetensors). vocab_path (may be NULL) names a
 * tokenizer to use instead of the model's own: a GGUF, a llama2.c
 * tokenizer.bin or a tokenizer.json. Weights stay memory-mapped. */
int lrq_model_load(lrq_model **out, const char *path, const char *vocab_path);
void lrq_model_free(lrq_model *m);

/* Create an inference context: n_ctx positions of F32 KV cache, at most
 * n_batch tokens per lrq_ctx_eval call, n_threads worker threads (results are
 * identical for any thread count). */
int lrq_ctx_new(lrq_ctx **out, const lrq_model *m, int n_ctx, int n_batch, int n_threads);
void lrq_ctx_free(lrq_ctx *c);
/* Start a new sequence (clears the KV cache). */
void lrq_ctx_reset(lrq_ctx *c);
/* Evaluate n tokens after those already in the cache; returns the logits of
 * tokens logits_from..n-1 as [n - logits_from][n_vocab] (owned by the
 * context, valid until the next call), or NULL with an error (bad
 * arguments; a layer whose output is not finite). */
const float *lrq_ctx_eval(lrq_ctx *c, const int32_t *tokens, int n, int logits_from);
/* Expert-usage counters of a mixture-of-experts model: [n_layer][n_expert]
 * (lrq_model_info), how many (token, slot) pairs were routed to each expert
 * since lrq_ctx_new or the last reset; per MoE layer a row sums to the
 * tokens that passed its FFN times n_expert_used (times K for a layer made a
 * K-replica block set). Dense layers stay 0. Owned by the context; NULL for
 * dense models. */
const uint64_t *lrq_ctx_expert_counts(const lrq_ctx *c);
/* Set every expert-usage counter to 0 (no-op for dense models). */
void lrq_ctx_expert_counts_reset(lrq_ctx *c);

/* ---- observing the forward pass (hooks) ----
 * Every linear's input and output, and the MoE routing decisions, for
 * calibration statistics, activation capture and debug dumps. Zero cost when
 * unset: one NULL test per linear call. A hook sees the data of one call: `x`
 * is [n_tok][n_in] (the F32 input, before it is rounded to the weight's
 * partner type), `y` is [n_tok][n_out]. The pointers are valid only during the
 * call. Hooks run on the thread that called lrq_ctx_eval, between kernel
 * launches, never concurrently with each other. */

/* What a linear is: its place in the model, for the hook to key on. */
typedef struct lrq_linear_info {
    const char *name;     /* weight tensor name, e.g. "blk.3.attn_q.weight" (expert stacks: the stack) */
    int layer;            /* block index, -1 for the output head */
    int slot;             /* enum lrq_linear_slot */
    int replica;          /* replica index (0 when not replicated) */
    int expert;           /* expert index for MoE experts, else -1 */
    int64_t n_in, n_out;
} lrq_linear_info;

enum lrq_linear_slot {
    LRQ_SLOT_Q, LRQ_SLOT_K, LRQ_SLOT_V, LRQ_SLOT_O,
    LRQ_SLOT_GATE, LRQ_SLOT_UP, LRQ_SLOT_DOWN,
    LRQ_SLOT_ROUTER, LRQ_SLOT_SHEXP_GATE,
    LRQ_SLOT_OUTPUT,
    LRQ_SLOT_COUNT
};

typedef struct lrq_hooks {
    void *ud;
    /* before the linear runs, with its F32 input (linears sharing one input,
     * q/k/v or gate/up, may all see linear_in before any linear_out) */
    void (*linear_in)(void *ud, const lrq_linear_info *info, const float *x, int n_tok);
    /* after it ran, with its output (bias included) */
    void (*linear_out)(void *ud, const lrq_linear_info *info, const float *y, int n_tok);
    /* MoE: token t of this call was routed to experts[0..n_used) of `layer` */
    void (*expert_route)(void *ud, int layer, int t, const int32_t *experts, const float *weights, int n_used);
} lrq_hooks;

/* Name of a linear slot ("attn_q", "ffn_down", "output", ...), "?" if unknown. */
const char *lrq_linear_slot_name(int slot);

/* Observe the forward pass of this context; NULL removes the hooks. The
 * struct (and what its ud points to) must outlive its use. */
void lrq_ctx_set_hooks(lrq_ctx *c, const lrq_hooks *h);

/* ---- activation quantization (docs/activations.md) ---- */

/* Inputs of the block linears fake-quantized to `bits`-bit integers before
 * the matmul, dynamically (the range is taken from the activations of each
 * call): x -> s * (q - z), q = clamp(round(x / s) + z). The weights are then
 * dequantized to F32 row by row and multiplied in F32, so only this rounding
 * differs from an F32-activation run (W-x A-y experiments: W2A8 vs W2A16). */
typedef struct lrq_act_quant {
    int bits;       /* integer width, 2..16 */
    int per_tensor; /* 0: one range per token (row); 1: one range over every token of the call */
    int asym;       /* 0: symmetric, q in [-(2^(b-1)-1), 2^(b-1)-1], z = 0;
                     * 1: asymmetric, q in [0, 2^b - 1] over [lo, hi] (widened to contain 0), integer z */
    float clip;     /* percentile in (0, 1]: the range ends are the values at that nearest rank of |x|
                     * (symmetric) or of x from each side (asymmetric); 1 = max (no clipping) */
    float clip_at;  /* > 0: a fixed threshold instead of the percentile: range [-clip_at, clip_at]
                     * (asymmetric: the data's [min, max] cut to it); 0 = unused */
} lrq_act_quant;

/* Quantize the inputs of every block linear (attention and dense FFN
 * projections; the MoE router, expert stacks and output head keep their
 * defaults) as aq says; aq NULL restores llama.cpp's partner-type rounding.
 * Returns 0, or -1 with an error for an invalid aq (bits outside 2..16,
 * clip outside (0, 1], clip_at negative or not finite). Set before creating
 * contexts: a context sizes its scratch for it. */
int lrq_model_set_act_quant(lrq_model *m, const lrq_act_quant *aq);

/* ---- model description ---- */

/* Hyper-parameters of a loaded model (a copy; strings are static). */
typedef struct lrq_model_info {
    const char *arch;        /* "llama", "qwen2", "qwen3", "deepseek", "qwen2moe", "qwen3moe" */
    const char *format;      /* source format: "gguf", "safetensors", "llama2c" */
    const char *rope;        /* "norm" (interleaved pairs) or "neox" (rotate half) */
    int32_t n_vocab, n_embd, n_layer, n_head, n_head_kv, head_dim, n_ff;
    int32_t n_rot;           /* rotated dims per head */
    int32_t n_ctx_train;     /* training context (the file's <arch>.context_length) */
    float rope_theta, rms_eps;
    /* Mixture of experts (all 0 for dense models): */
    int32_t n_expert, n_expert_used;   /* routed experts per MoE layer, chosen per token */
    int32_t n_ff_exp, n_ff_shexp;      /* width of one routed expert; of the shared expert(s) (0: none) */
    int32_t n_layer_dense_lead;        /* leading layers with a dense FFN */
} lrq_model_info;

/* Fill *info from m (never fails). */
void lrq_model_get_info(const lrq_model *m, lrq_model_info *info);
/* The model's tokenizer, or NULL when it has none (then pass a vocab_path
 * to lrq_model_load). Owned by the model. */
const lrq_vocab *lrq_model_vocab(const lrq_model *m);

/* One stored tensor, as described by lrq_model_tensor_info / lrq_gguf_tensor_info. */
typedef struct lrq_tensor_info {
    const char *name;        /* owned by the model / GGUF handle */
    int type;                /* ggml type id */
    const char *type_name;   /* "q4_K", ...; "unknown" for ids lrq does not know */
    int supported;           /* 1 if lrq can compute with this type */
    int n_dims;
    int64_t ne[4];           /* ne[0] = row length; unused dims are 1 */
    size_t nbytes;
} lrq_tensor_info;

/* Tensors of a loaded model (all the source file holds, bound or not). */
int64_t lrq_model_n_tensors(const lrq_model *m);
/* Describe tensor i (0 <= i < n_tensors); -1 with an error for a bad i. */
int lrq_model_tensor_info(const lrq_model *m, int64_t i, lrq_tensor_info *out);

/* ---- types ---- */

/* Name of a ggml type id ("q4_K"), "unknown" for ids without traits. */
const char *lrq_type_name(int type);
/* 1 if lrq can dequantize and matmul this type. */
int lrq_type_supported(int type);
/* Type id of a name, case-insensitive ("Q8_0" or "q8_0"); -1 if unknown. */
int lrq_type_from_name(const char *name);
/* The SIMD level the kernels use: "scalar", "avx2", "avx512", "neon". */
const char *lrq_types_isa(void);
/* llama.cpp's name of a general.file_type value (enum llama_ftype:
 * 15 -> "Q4_K_M"), or NULL for values it does not define. */
const char *lrq_file_type_name(int64_t ftype);

/* ---- GGUF inspection (any GGUF: models lrq cannot run, vocab-only files) ---- */

typedef struct lrq_gguf lrq_gguf;

/* Open and fully validate a GGUF file (memory-mapped). 0, or -1 with an
 * error naming the file and field (*out is then NULL). */
int lrq_gguf_open(lrq_gguf **out, const char *path);
/* Free the handle (NULL is fine); strings handed out die with it. */
void lrq_gguf_close(lrq_gguf *g);
uint32_t lrq_gguf_version(const lrq_gguf *g);
uint32_t lrq_gguf_alignment(const lrq_gguf *g);
int64_t lrq_gguf_n_kv(const lrq_gguf *g);
int64_t lrq_gguf_n_tensors(const lrq_gguf *g);
/* Key i (0 <= i < n_kv; NULL for a bad i) and its value type name
 * ("uint32", "string", "array"). */
const char *lrq_gguf_key(const lrq_gguf *g, int64_t i);
const char *lrq_gguf_key_type(const lrq_gguf *g, int64_t i);
/* Key i's value as one line of text for display: numbers in full, strings
 * quoted with control bytes escaped and cut after max_str bytes, arrays as
 * "[type x n]" followed by their first items when they have at most 8.
 * Writes at most cap bytes (NUL included) and returns buf ("" for a bad i). */
const char *lrq_gguf_value_text(const lrq_gguf *g, int64_t i, char *buf, size_t cap, size_t max_str);
/* A string key: 1 and a malloc'ed NUL-terminated copy in *out (free it);
 * 0 if absent; -1 with an error if present with another type. */
int lrq_gguf_string(const lrq_gguf *g, const char *key, char **out);
/* An integer key: 1 and *out; 0 if absent; -1 with an error on a non-integer. */
int lrq_gguf_int(const lrq_gguf *g, const char *key, int64_t *out);
/* Describe tensor i (0 <= i < n_tensors); -1 with an error for a bad i. */
int lrq_gguf_tensor_info(const lrq_gguf *g, int64_t i, lrq_tensor_info *out);

/* ---- tokenizer ---- */

/* Load a tokenizer alone from a GGUF (vocab-only or model) file. */
int lrq_vocab_load(lrq_vocab **out, const char *path);
/* Free a tokenizer from lrq_vocab_load (NULL is fine). Never call it on
 * lrq_model_vocab's result. */
void lrq_vocab_free(lrq_vocab *v);
int32_t lrq_vocab_n_tokens(const lrq_vocab *v);
int32_t lrq_vocab_bos(const lrq_vocab *v);   /* -1 if none */
int32_t lrq_vocab_eos(const lrq_vocab *v);   /* -1 if none */
int lrq_vocab_add_bos(const lrq_vocab *v);   /* 1 if the model adds BOS by default */
/* "spm" (SentencePiece-style) or "bpe" (byte-level BPE). */
const char *lrq_vocab_type_name(const lrq_vocab *v);
/* Tokenize text[0..len): add_special adds BOS/EOS as the vocabulary says;
 * parse_special turns special-token texts into their ids. *ids is malloc'ed
 * (free it), *n its length. Ids are llama.cpp's. */
int lrq_tokenize(const lrq_vocab *v, const char *text, size_t len, int add_special, int parse_special,
                 int32_t **ids, size_t *n);
/* The text of token id (llama.cpp's token_to_piece): writes at most cap
 * bytes and returns the piece length (which may exceed cap: then call again
 * with a bigger buffer), or a negative value for an invalid id. special = 0
 * hides control tokens. */
int lrq_token_to_piece(const lrq_vocab *v, int32_t id, char *buf, size_t cap, int special);

/* ---- text files ---- */

/* Read a text file into a malloc'ed NUL-terminated buffer (free it),
 * byte for byte. -1 + "PATH: ..." for a missing file, a folder, an empty
 * file or one that is not UTF-8 text (NUL bytes, invalid sequences). */
int lrq_text_load(const char *path, char **out, size_t *len);
/* The same, but as llama.cpp's common -f/--file option reads a prompt file:
 * exactly one trailing '\n' (if any) is removed. Used by every lrq command
 * that stands for a llama.cpp tool taking -f (ppl), so both tokenize the
 * same text. A file holding only "\n" is an error (empty after removal). */
int lrq_text_load_prompt(const char *path, char **out, size_t *len);

/* ---- sampling ---- */

typedef struct lrq_sampler lrq_sampler;

/* Greedy (temperature 0: first maximum, as llama.cpp) or seeded sampling
 * with temperature > 0, top_k (0: no limit) and top_p in (0, 1] (1: no
 * limit); the same seed gives the same tokens. -1 + error for a NaN or
 * negative temperature, top_p outside (0, 1], top_k < 0, n_vocab < 1. */
int lrq_sampler_new(lrq_sampler **out, int32_t n_vocab, float temperature, int top_k, float top_p,
                    uint64_t seed);
void lrq_sampler_delete(lrq_sampler *s);
/* Choose the next token from logits[n_vocab]. */
int32_t lrq_sampler_pick(lrq_sampler *s, const float *logits);

/* ---- perplexity and KL-divergence (llama-perplexity's method) ---- */

typedef struct lrq_ppl_params {
    int n_ctx;                 /* chunk length (CTX) */
    int n_batch;               /* tokens per eval call (<= n_ctx) */
    int max_chunks;            /* < 0: all; 0 is an error */
    const char *kld_base;      /* base log-prob file: written (write_base) or read (kld) */
    int write_base;            /* 1: save this model's log-probs to kld_base (docs/kld-format.md) */
    int kld;                   /* 1: compare against kld_base (tokens come from the file) */
    FILE *out;                 /* progress lines "[i]ppl," and the final estimate; may be NULL */
    /* Called after each chunk (may be NULL): chunks done, chunks in all,
     * seconds since the first chunk started. */
    void (*progress)(void *data, int done, int total, double seconds);
    void *progress_data;
} lrq_ppl_params;

typedef struct lrq_ppl_result {
    int n_chunks;
    long n_scored;             /* tokens scored */
    double ppl, ppl_err;       /* exp(mean NLL) and PPL * sqrt(var(NLL)/(n-1)) */
    double seconds, tokens_per_sec; /* wall time of the evaluation, tokens evaluated per second */
    /* KLD mode only: */
    double base_ppl, ln_ppl_ratio, ln_ppl_ratio_err;
    double mean_kld, mean_kld_err, median_kld, max_kld, kld_p99;
    double same_top_pct, same_top_err;
} lrq_ppl_result;

/* Chunks llama-perplexity makes of n_tokens tokens: floor(n_tokens / n_ctx). */
size_t lrq_ppl_n_chunks(size_t n_tokens, int n_ctx);

/* Evaluate tokens[0..n_tokens) (tokenized with BOS per the model) in
 * floor(n/CTX) chunks; each chunk's first token is replaced by BOS when the
 * vocab adds BOS, and positions CTX/2 .. CTX-2 are scored. In KLD mode
 * `tokens` is ignored (the base file holds them). A base file is written
 * atomically (an existing file survives any failure). Returns 0 or -1. */
int lrq_perplexity(lrq_ctx *c, const lrq_model *m, const int32_t *tokens, size_t n_tokens,
                   const lrq_ppl_params *p, lrq_ppl_result *r);

/* ---- random-weight models of real shapes (benchmarks) ---- */

/* Shape i (0 <= i < count): its name and a one-line description; 0, or -1
 * when i is out of range. */
int lrq_mkrand_n_shapes(void);
int lrq_mkrand_shape(int i, const char **name, const char **about);

typedef struct lrq_mkrand_params {
    const char *shape;         /* a shape name (lrq_mkrand_shape) */
    int type, embd_type;       /* matrix type and token_embd/output type (type ids with a reference quantizer) */
    uint64_t seed;
    double stdev;              /* weights ~ N(0, stdev^2), norms 1 + N(0, stdev^2); in (0, 100) */
    int n_layer;               /* 0: the shape's own */
    const char *vocab;         /* GGUF whose tokenizer.* keys are copied */
    const char *out;           /* output GGUF (written atomically) */
    FILE *log;                 /* progress and summary lines; may be NULL */
} lrq_mkrand_params;

/* Write a model GGUF with random weights and the exact shapes of a real
 * model, loadable by lrq and by llama.cpp (see tools/cmd_mkrand.c's help).
 * Validates everything before writing; on failure (or SIGINT/SIGTERM with
 * lrq_atomic_unlink_all in the handler) neither the output nor any scratch
 * file is left behind. Returns 0 or -1. */
int lrq_mkrand(const lrq_mkrand_params *p);

/* ---- quantizing a model (lrq quantize) ---- */

/* One tensor as written, for the per-tensor table and the progress display. */
typedef struct lrq_quant_tensor {
    const char *name;          /* valid during the callback */
    int n_dims;
    int64_t ne[4];
    int src_type, type;        /* ggml type ids: in the source, in the output */
    size_t bytes;              /* in the output */
    double bpw;                /* bytes * 8 / weights */
    double rmse;               /* sqrt(mean((q - w)^2)) against the source weights as F32 (0 when copied) */
    double rel_err;            /* sqrt(sum (q - w)^2 / sum w^2) (0 when copied or all-zero) */
    double seconds;            /* time spent on it */
    int quantized;             /* 0: bytes copied unchanged (same type as the source) */
    int fell_back;             /* 1: the row length forced a type other than the one chosen */
    const char *rule;          /* "FILE:LINE" / "--tensor-type" of the rule that chose the type, or NULL */
} lrq_quant_tensor;

typedef struct lrq_quantize_params {
    const char *in;            /* model, as lrq_model_load: GGUF (metadata copied), safetensors folder or
                                  llama2.c .bin (metadata and tokenizer written by lrq; see docs/recipes.md) */
    const char *vocab;         /* tokenizer file for a model without one (as lrq_model_load), or NULL */
    const char *out;           /* output GGUF, written atomically */
    const char *type;          /* preset or type name (llama-quantize's: "Q4_K_M", "Q8_0", "F16" ...); NULL:
                                  the recipe's "base" */
    const char *recipe;        /* recipe file (docs/recipes.md) or NULL */
    const char *recipe_text;   /* the recipe's text itself (NUL-terminated), or NULL: read the file `recipe`.
                                  With a text, `recipe` only names it ("DIR/x.grid#3"): in messages
                                  ("DIR/x.grid#3:LINE: ...") and as the place a relative calib-text is looked
                                  for beside (DIR); NULL names it "recipe" */
    const char *const *rules;  /* n_rules "PATTERN=TYPE" (--tensor-type), tried before the recipe's rules */
    int n_rules;
    const char *imatrix;       /* importance-matrix GGUF, or NULL */
    int pure;                  /* 1: no preset mix, every quantized tensor the base type (fallbacks still apply) */
    int quantize_norms;        /* 1: rules may also change norms and the MoE router (a warning each) */
    int allow_requantize;      /* 1: a source tensor in a block type may be re-quantized to another type */
    int n_threads;             /* >= 1; results are identical for any count */
    int dry_run;               /* 1: plan and report the types and sizes, write nothing */
    FILE *log;                 /* warnings (one line each), may be NULL */
    /* Progress (may be NULL): tensor i of n (output order) has rows_done of rows_total rows written. */
    void (*progress)(void *ud, int i, int n, int64_t rows_done, int64_t rows_total);
    /* After each tensor (may be NULL): its report. */
    void (*tensor_done)(void *ud, int i, int n, const lrq_quant_tensor *t);
    void *ud;
} lrq_quantize_params;

typedef struct lrq_quantize_result {
    int n_tensors, n_quantized, n_fallback;
    int64_t file_type;         /* general.file_type written (llama_ftype) */
    uint64_t n_weights;        /* all tensor elements */
    uint64_t tensor_bytes;     /* all tensor data bytes in the output */
    uint64_t src_tensor_bytes; /* the same in the source */
    uint64_t q_weights, q_bytes; /* the quantized 2-D/3-D matrices only */
    uint64_t file_bytes;       /* size of the output file (0 for a dry run) */
    double seconds;
} lrq_quantize_result;

/* Write `out`: the model `in` with every tensor in the type llama-quantize
 * v0.5.0 gives it for the preset (same per-tensor choices and row-length
 * fallbacks, same bytes without an importance matrix), except where a rule
 * (recipe, --tensor-type) decides, and the source's metadata with
 * general.file_type and general.quantization_version set as llama-quantize
 * does. Tensors are in llama-quantize's order (by layer, then name).
 * Streams one tensor at a time, in slabs of rows: memory stays at a few
 * slabs, not the model. The output appears only when complete (a failure or
 * SIGINT/SIGTERM with lrq_atomic_unlink_all leaves an existing `out`
 * untouched and no temporary file). Everything (types, rules, writability of
 * every type) is checked before the output is created. Returns 0, or -1 with
 * an error; *r (may be NULL) is filled on success. */
int lrq_quantize(const lrq_quantize_params *p, lrq_quantize_result *r);

/* Preset i (0 <= i < count) of lrq_quantize: its name and a one-line
 * description; 0, or -1 when i is out of range. */
int lrq_quantize_n_presets(void);
int lrq_quantize_preset(int i, const char **name, const char **about);

/* ---- importance matrices (lrq imatrix) ---- */

typedef struct lrq_imatrix_params {
    const char *model;         /* as lrq_model_load */
    const char *vocab;         /* tokenizer for a model without one (as lrq_model_load), or NULL */
    const char *text;          /* calibration text, read as llama.cpp's -f (one trailing '\n' removed) */
    const char *out;           /* output: llama.cpp's GGUF imatrix format, written atomically */
    const char *dataset;       /* name stored in imatrix.datasets; NULL: `text` as given (llama-imatrix
                                  stores its -f argument verbatim) */
    int n_ctx;                 /* chunk length (llama-imatrix -c; its default 512); >= 16 */
    int n_batch;               /* llama-imatrix -b (its default 2048), >= 16: below n_ctx, chunks are fed in
                                  batches of n_batch; from n_ctx up it changes nothing */
    int max_chunks;            /* < 0: all; 0 is an error */
    int n_threads;             /* >= 1; results are identical for any count */
    int process_output;        /* 1: also collect output.weight (llama-imatrix --process-output) */
    FILE *log;                 /* a summary line and warnings (partial expert data); may be NULL */
    /* Called after each chunk (may be NULL): chunks done, in all, seconds since the start. */
    void (*progress)(void *ud, int done, int total, double seconds);
    void *ud;
} lrq_imatrix_params;

typedef struct lrq_imatrix_result {
    size_t n_tokens;           /* tokens of the text (BOS included) */
    int n_chunks;              /* chunks evaluated */
    int chunk_count;           /* imatrix.chunk_count written */
    int n_entries;             /* weights in the file */
    int n_partial;             /* of them, expert stacks with an expert never routed to */
    double seconds, tokens_per_sec; /* the evaluation */
} lrq_imatrix_result;

/* Compute what llama-imatrix v0.5.0 computes (tools/imatrix/imatrix.cpp)
 * and write it in its GGUF format: the text tokenized with BOS, cut into
 * floor(tokens / n_ctx) chunks (at least 2 are required), each chunk's
 * first token replaced by BOS when the vocabulary adds BOS, every token of
 * every chunk evaluated from an empty KV cache; per input channel of every
 * "blk.*" linear the sum of squared F32 inputs and the token count (dense
 * linears in calls of >= 16 tokens, expert stacks per expert), the entries
 * sorted by name, imatrix.chunk_count/chunk_size/datasets as llama-imatrix
 * writes them. The text and the output's folder are checked before the
 * model is loaded; the output appears only when complete (an existing file
 * survives any failure). Returns 0 (and *r, which may be NULL) or -1 with
 * an error. Not done: llama-imatrix's perplexity print-out, --in-file
 * merging, the legacy .dat format and saves every N chunks. */
int lrq_imatrix_compute(const lrq_imatrix_params *p, lrq_imatrix_result *r);

/* ---- recipe sweeps (lrq sweep, lrq plot; docs/sweep.md) ---- */

/* One recipe of an expanded grid (all strings owned, freed by lrq_grid_free). */
typedef struct lrq_grid_recipe {
    char *text;     /* the recipe: the grid's lines with one alternative chosen per {..} group, escapes
                       resolved and comments removed (lines kept, so FILE:LINE messages match the grid) */
    char *compact;  /* the same as one line: each statement's words joined by one space, statements by "; " */
    char *choice;   /* the alternatives chosen for the grid's outermost groups, joined by ","; "" if none */
} lrq_grid_recipe;

/* Expand a grid: recipe text in which every {a,b,c} (alternatives split at
 * commas; nested groups allowed, several per line and on several lines) is
 * replaced by each of its alternatives in turn, all groups together as a
 * cartesian product, the first group varying slowest (as shell brace
 * expansion orders words). \{ \} \, stand for the characters themselves (any
 * other backslash is kept: regexes such as /blk\.1\./ are untouched); a group
 * without a top-level comma is kept literally with its braces ("{2}", as the
 * shell does); '#' starts a comment to the end of the line, as in recipes.
 * `where` names the text in errors. Errors (-1, nothing returned): a '{' not
 * closed on its line or a stray '}' ("WHERE:LINE:COL: ..."), nesting deeper
 * than 16, more than max_out recipes. Returns 0 with *out (n_out items; a
 * text without groups gives one) for lrq_grid_free. */
int lrq_grid_expand(const char *text, size_t len, const char *where, size_t max_out, lrq_grid_recipe **out,
                    size_t *n_out);
void lrq_grid_free(lrq_grid_recipe *r, size_t n);

/* A recipe text's one-line form as lrq_grid_recipe.compact (no expansion):
 * malloc'ed, or NULL when out of memory. */
char *lrq_recipe_compact(const char *text, size_t len);

/* What a sweep row says about its recipe. */
typedef struct lrq_recipe_desc {
    char base[64];    /* the 'base' (or 'type') value: "lq:b4g32a", "Q4_K_M"; "" when the recipe has none */
    int bits;         /* an lq base: its code width; else -1 */
    int group;        /* an lq base: its group (0: one per row); else -1 */
    const char *method; /* "rtn" or "gptq" (static) */
} lrq_recipe_desc;

/* Parse recipe text as lrq quantize does (`where` names it, and a relative
 * calib-text is looked for beside it: see lrq_quantize_params.recipe_text)
 * and describe it. 0, or -1 with the parser's "WHERE:LINE: ..." error. */
int lrq_recipe_describe(const char *text, size_t len, const char *where, lrq_recipe_desc *d);

/* A row's key: 16 hex digits (FNV-1a 64) over the compact recipe, the
 * model's path and size, the text's path and size, the context and the chunk
 * limit (< 0: all); out must hold 17 bytes. Equal inputs give equal keys. */
void lrq_sweep_key(const char *compact, const char *model, uint64_t model_size, const char *text,
                   uint64_t text_size, int n_ctx, int chunks, char out[17]);

/* One measured (or failed) recipe. Strings may be NULL ("-"); numbers that
 * do not apply are NaN (written "-" in TSV, null in JSON). */
typedef struct lrq_sweep_row {
    const char *key, *label;
    int failed;               /* 1: quantizing or measuring failed; `error` says why */
    const char *error;
    int bits, group;          /* lrq_recipe_desc; -1: not an lq base */
    const char *method, *base;
    double bpw;               /* 8 * bytes / n_weights */
    uint64_t bytes, n_weights; /* every byte of the quantized file; every tensor element of the model */
    double ppl, ppl_err, ln_ppl_ratio, ln_ppl_ratio_err, mean_kld, mean_kld_err, same_top_pct, same_top_err;
    double ppl_f32;           /* PPL of the unquantized model on the same tokens */
    double quant_s, eval_s;   /* wall time of quantizing, of measuring */
    const char *model, *text; /* as given */
    int n_ctx, chunks;        /* chunks: the limit asked for, < 0: all */
    const char *lrq;          /* lrq version (and commit) that made the row */
    const char *recipe;       /* compact recipe */
} lrq_sweep_row;

/* The TSV header line (no newline): the column names, in row order. */
const char *lrq_sweep_tsv_header(void);
/* Format a row as one line ending in '\n': TSV (tabs and newlines inside
 * strings become spaces) or, with jsonl, one JSON object whose first member
 * is "key". Malloc'ed, NULL when out of memory. */
char *lrq_sweep_row_line(const lrq_sweep_row *r, int jsonl);

/* A resumable row file: lines each holding one row, keyed (TSV: the first
 * field, after a header line; JSONL: the leading {"key":"..." member). */
typedef struct lrq_rows lrq_rows;

/* Open (or create) `path` for appending rows, locked against a second
 * writer (flock). An existing file is read: a last line without its newline
 * (a run killed mid-write) is cut off (*truncated = the bytes removed, else
 * 0); a TSV file must start with exactly `header` (NULL for JSONL), an empty
 * one gets it; the keys of all complete rows are remembered (a key seen
 * twice counts once). -1 with "PATH: ..." / "PATH:LINE: ..." errors (not a
 * row file: another header, a line without a key; locked; I/O). */
int lrq_rows_open(lrq_rows **out, const char *path, const char *header, long *truncated);
/* 1 if a row with this key is in the file, else 0. */
int lrq_rows_has(const lrq_rows *r, const char *key);
/* Rows (unique keys) in the file. */
size_t lrq_rows_count(const lrq_rows *r);
/* Append one row: `line` (ending in '\n', no other newline) in one write(),
 * then fsync. -1 with an error for a key already present (rows are never
 * duplicated), a bad line or an I/O error. */
int lrq_rows_append(lrq_rows *r, const char *key, const char *line);
void lrq_rows_close(lrq_rows *r);

/* A table read from a TSV file with a header line, or from JSONL (one flat
 * JSON object per line; the columns are the members in first-seen order, a
 * missing member or null is "-", numbers as "%.10g"). */
typedef struct lrq_table lrq_table;
/* Load `path` (JSONL when it ends in ".jsonl" or its first byte is '{').
 * -1 with "PATH:LINE: ..." for a row with another field count, bad JSON. */
int lrq_table_load(lrq_table **out, const char *path);
void lrq_table_free(lrq_table *t);
size_t lrq_table_rows(const lrq_table *t);
/* Index of the column named `name`, -1 if none. */
int lrq_table_col(const lrq_table *t, const char *name);
/* Cell (row i, column c), "" when out of range; valid until lrq_table_free. */
const char *lrq_table_cell(const lrq_table *t, size_t i, int c);

/* The Pareto front of points (x[i], y[i]), lowest y for its x: point i is
 * on it when no other point has x <= x[i] and y <= y[i] with one of them
 * strictly smaller (of equal points the first). Points with a NaN or
 * infinite coordinate are ignored. Writes the front's indices to idx (room
 * for n), by increasing x (and decreasing y), and returns their count. */
size_t lrq_pareto_front(const double *x, const double *y, size_t n, size_t *idx);

/* ---- output files ---- */

/* Every file lrq writes goes to a temporary file next to its target and is
 * renamed into place only when complete. This removes the temporary files
 * of writes still in progress; it is async-signal-safe (it only unlink()s
 * stored paths), for a SIGINT/SIGTERM handler that then ends the process. */
void lrq_atomic_unlink_all(void);

#ifdef __cplusplus
}
#endif
#endif
