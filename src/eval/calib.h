/* calib.h — calibration statistics of every linear's input, through the
 * Engine v2 hooks (linear_in): the Hessian of the layer objective
 * H = Σ x xᵀ, Σ x² per channel (the imatrix), max |x| per channel, and the
 * token count, for GPTQ (quant/gptq.h) and the algorithms after it.
 *
 * What is collected: the rows every selected linear sees while the model
 * runs on calibration text, cut into chunks exactly as llama-imatrix / lrq
 * imatrix cut it (eval/imatrix_calc.h: floor(tokens / n_ctx) chunks, the KV
 * cache cleared per chunk, the first token of each chunk replaced by BOS
 * when the vocabulary adds one, pieces of at most 512 tokens). Unlike
 * llama-imatrix, calls of fewer than 16 rows are collected too (there is no
 * reason to drop them here). A dense linear has one entry (expert -1); an
 * expert stack [n_expert][n_out][n_in] one entry per expert, fed only the
 * rows routed to that expert (the hook fires per expert with its rows);
 * experts never routed to keep n_tok 0 (lrq_calib_summary counts them).
 * Replica linears (lrq_model_replicate) are not collected.
 *
 * Precision: each hook call's x [n_tok][n_in] (n_tok <= 512, a micro-batch)
 * gives its partial Σ x xᵀ as one F32 SYRK (BLAS), which is added into the
 * F64 accumulator. So F32 never sums more than one call's rows (relative
 * error about n_tok · 2^-24 <= 3e-5 of Σ|x_i x_j|), while the long sums
 * over many chunks, where F32 would drift, are F64; and the expensive part
 * runs at F32 BLAS speed. Σ x² is accumulated in F64 directly.
 *
 * Memory: every selected entry is allocated when the collector is made (so
 * the peak is known before the run: lrq_calib_bytes): 8 n_in² + 12 n_in
 * bytes per entry, plus one F32 n_in² scratch for the partials and a copy
 * of the last input (512 rows: the linears sharing an input, q/k/v and
 * gate/up, reuse its partial instead of repeating the SYRK). A caller
 * short of memory selects a subset (e.g. one layer's linears) and runs the
 * text once per subset.
 */
#ifndef LRQ_EVAL_CALIB_H
#define LRQ_EVAL_CALIB_H

#include "lrq.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct lrq_calib lrq_calib;

/* The statistics of one linear input (one expert of a stack). */
typedef struct lrq_calib_entry {
    const char *name;     /* the weight tensor (borrowed from the model) */
    int32_t expert;       /* -1: a dense linear; else the expert's index in its stack */
    int64_t n_in;         /* input features = the tensor's row length */
    int64_t n_tok;        /* rows seen */
    double *H;            /* [n_in][n_in] Σ x xᵀ (both triangles once lrq_calib_run returns) */
    double *sum2;         /* [n_in] Σ x² */
    float *amax;          /* [n_in] max |x| */
} lrq_calib_entry;

/* Which tensors to collect: called once per candidate tensor (a 2-D or 3-D
 * weight named "blk.*" or "output.weight"; n_mat = experts in a stack, else
 * 1); nonzero collects it. */
typedef int (*lrq_calib_select_fn)(void *ud, const char *name, int64_t n_in, int32_t n_mat);

/* A collector for model m (which must outlive it): entries for the tensors
 * `select` accepts (NULL: every candidate). Returns 0, or -1 with an error
 * (out of memory, naming the bytes needed). */
int lrq_calib_new(lrq_calib **out, const lrq_model *m, lrq_calib_select_fn select, void *ud);
/* Frees c and its entries (NULL is fine). */
void lrq_calib_free(lrq_calib *c);

/* Bytes c holds: accumulators and scratch (the collection's peak). */
size_t lrq_calib_bytes(const lrq_calib *c);

/* The entries, in model tensor order, experts in order within a stack. */
int64_t lrq_calib_n_entries(const lrq_calib *c);
const lrq_calib_entry *lrq_calib_entry_at(const lrq_calib *c, int64_t i);
/* The entry of tensor `name` (expert -1 for a dense linear), or NULL. */
const lrq_calib_entry *lrq_calib_find(const lrq_calib *c, const char *name, int32_t expert);

/* The hooks to install with lrq_ctx_set_hooks (owned by c). After an
 * evaluation, lrq_calib_status says whether a hook met an inconsistency
 * (hooks cannot fail the forward pass). */
const lrq_hooks *lrq_calib_hooks(lrq_calib *c);
int lrq_calib_status(const lrq_calib *c);

/* Evaluate tokens[0..n_tok) on ctx (made for c's model with n_ctx >= the
 * chunk length and n_batch >= the largest piece) in llama-imatrix's chunks
 * (above): at most max_chunks when > 0; n_batch < n_ctx feeds a chunk in
 * batches of n_batch. bos >= 0 replaces each chunk's first token. Installs
 * c's hooks for the run (and removes them), then completes every H's lower
 * triangle. progress (may be NULL) after each chunk. Returns the chunks
 * evaluated, or -1 with an error (fewer tokens than one chunk, a failed
 * evaluation, a hook's error). */
int lrq_calib_run(lrq_calib *c, lrq_ctx *ctx, const int32_t *tokens, size_t n_tok, int n_ctx, int n_batch,
                  int max_chunks, int32_t bos, void (*progress)(void *ud, int done, int total, double seconds),
                  void *ud);

/* ---- the driver: a text file in, c filled ---- */

typedef struct lrq_calib_params {
    const char *text;     /* calibration text (read as llama.cpp's -f: one trailing '\n' removed) */
    int n_ctx;            /* chunk length (imatrix -c), >= 1 */
    int n_batch;          /* imatrix -b; <= 0: n_ctx */
    int max_chunks;       /* < 0: all; 0 is an error */
    int n_threads;        /* >= 1 */
    FILE *log;            /* a summary line and one progress line per chunk (stderr), may be NULL */
} lrq_calib_params;

typedef struct lrq_calib_summary {
    size_t n_tokens;      /* tokens of the text (BOS included) */
    int n_chunks;         /* chunks evaluated */
    int64_t n_unreached;  /* expert entries that no token was routed to */
    size_t bytes;         /* lrq_calib_bytes: the collection's memory */
    double seconds;
} lrq_calib_summary;

/* Tokenize p->text with m's vocabulary (BOS as llama-imatrix adds it),
 * make a context and run c over the chunks. Errors name the text file (missing,
 * not text, too short for one chunk of n_ctx) or the option at fault.
 * *s (may be NULL) is filled on success. */
int lrq_calib_collect(lrq_calib *c, const lrq_model *m, const lrq_calib_params *p, lrq_calib_summary *s);

#endif
