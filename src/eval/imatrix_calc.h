/* imatrix_calc.h — importance matrices computed through the Engine v2 linear
 * hooks, as llama-imatrix v0.5.0 computes them (tools/imatrix/imatrix.cpp).
 *
 * A collector installs a `linear_in` hook and adds, per input channel j of
 * every linear it collects, Σ x_j² over the rows the linear sees (in F32, row
 * by row in the order the hook hands them over, as llama-imatrix does), and
 * counts the rows. What is collected, llama-imatrix's rules:
 *  - only weights whose name starts with "blk." (and "output.weight" when
 *    process_output is set; a tied head is "token_embd.weight": never);
 *  - a dense linear (attention, FFN, router, shared expert) only in calls of
 *    at least 16 rows (its callback ignores smaller MUL_MAT batches); its
 *    entry has n_mat 1 and one count (+= rows per call);
 *  - an expert stack [n_expert][n_out][n_in] in every call, whatever its
 *    size (MUL_MAT_ID is always collected): the hook fires once per expert
 *    with that expert's rows (gate/up: the token rows routed to it; down:
 *    their SwiGLU rows), each row adding to sums[expert] and counts[expert];
 *    experts never routed to keep 0 ("partial data", written all the same).
 * An entry exists once its linear has been collected at least once.
 *
 * The public driver (lrq_imatrix_compute in lrq.h: text, tokens, chunks,
 * file) is built on the functions below, which tests use directly.
 */
#ifndef LRQ_EVAL_IMATRIX_CALC_H
#define LRQ_EVAL_IMATRIX_CALC_H

#include "lrq.h"
#include "quant/imatrix.h"

#include <stddef.h>
#include <stdint.h>

typedef struct lrq_imatrix_calc lrq_imatrix_calc;

/* A collector for the linears of model m (which must outlive it): one slot
 * per weight tensor of m a hook can report (1-D to 3-D: qwen2moe's shared-
 * expert gate is a 1-D linear; n_mat = the third dimension). process_output: also collect "output.weight".
 * Returns 0, or -1 with an error (out of memory). */
int lrq_imatrix_calc_new(lrq_imatrix_calc **out, const lrq_model *m, int process_output);
/* Frees c (NULL is fine); views from lrq_imatrix_calc_export die with it. */
void lrq_imatrix_calc_free(lrq_imatrix_calc *c);

/* The hooks to install with lrq_ctx_set_hooks (owned by c). */
const lrq_hooks *lrq_imatrix_calc_hooks(lrq_imatrix_calc *c);

/* 0, or -1 with the error a hook met (a linear that is not a tensor of the
 * model, an input width or expert index that does not fit its tensor).
 * Hooks cannot fail the forward pass, so callers check after each eval. */
int lrq_imatrix_calc_status(const lrq_imatrix_calc *c);

/* Evaluate tokens[0..n_tok) on ctx (created for c's model with n_ctx >=
 * the chunk length and n_batch >= the largest piece) in llama-imatrix's
 * chunks: floor(n_tok / n_ctx) of them (at most max_chunks when > 0), the
 * KV cache cleared per chunk, the chunk's first token replaced by `bos` when
 * bos >= 0. A chunk is fed in pieces as llama.cpp's micro-batches: batches of
 * n_batch tokens when n_batch < n_ctx, each cut into pieces of at most 512
 * (llama-imatrix's n_ubatch); the whole chunk in pieces of at most 512 when
 * n_batch >= n_ctx. Every row produces logits, so every token reaches every
 * layer (llama-imatrix asks for all outputs). Installs c's hooks on ctx for
 * the run (and removes them). progress (may be NULL) after each chunk.
 * Returns the chunks evaluated, or -1 with an error. */
int lrq_imatrix_calc_run(lrq_imatrix_calc *c, lrq_ctx *ctx, const int32_t *tokens, size_t n_tok, int n_ctx,
                         int n_batch, int max_chunks, int32_t bos,
                         void (*progress)(void *ud, int done, int total, double seconds), void *ud);

/* A view of what c collected as an lrq_imatrix: the entries collected so
 * far, sorted by name, counts as floats; chunk_count = max over all counts
 * of count / chunk_size (llama-imatrix's m_last_chunk), chunk_size and the
 * n_datasets names as given. Every pointer in *im belongs to c (or to the
 * caller, for the dataset names): valid until the next hook call or
 * lrq_imatrix_calc_free; never pass it to lrq_imatrix_free. Returns 0, or -1
 * with an error (out of memory; a non-finite sum, naming the tensor, as
 * llama-imatrix refuses them). */
int lrq_imatrix_calc_export(lrq_imatrix_calc *c, int32_t chunk_size, const char *const *datasets,
                            int32_t n_datasets, lrq_imatrix *im);

#endif
