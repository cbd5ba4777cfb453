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
 * context, valid until the next call). */
const float *lrq_ctx_eval(lrq_ctx *c, const int32_t *tokens, int n, int logits_from);

/* Tokenize text[0..len) with the model's tokenizer (see src/io/vocab.h). */
int lrq_tokenize(const lrq_vocab *v, const char *text, size_t len, int add_special, int parse_special,
                 int32_t **ids, size_t *n);

#ifdef __cplusplus
}
#endif
#endif
