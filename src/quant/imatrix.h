/* imatrix.h — importance matrices: per input channel of every linear, the
 * sum of squared activations seen on calibration text (llama.cpp's imatrix,
 * stored in its GGUF imatrix format: tensors "<weight>.in_sum2" [n_mat][ne0]
 * and "<weight>.counts" [n_mat], keys "imatrix.datasets",
 * "imatrix.chunk_count", "imatrix.chunk_size").
 *
 * Jobs are split by file: imatrix_load.c reads a file and gives a linear's
 * per-channel weights as llama-quantize derives them; imatrix_save.c writes
 * one (atomically); eval/imatrix_calc.c computes one through the Engine v2
 * linear hooks. One struct is shared by all three so that a computed matrix
 * can be saved, loaded back and handed to the quantizers
 * (lrq_quantize_rows's imatrix argument).
 */
#ifndef LRQ_QUANT_IMATRIX_H
#define LRQ_QUANT_IMATRIX_H

#include <stdint.h>

typedef struct lrq_imatrix_entry {
    char *name;       /* the weight tensor's GGUF name, e.g. "blk.0.attn_q.weight" (owned) */
    int64_t ne0;      /* input features of the linear (its row length) */
    int32_t n_mat;    /* 1 for a dense linear; the number of experts for a 3-D expert stack */
    float *sum2;      /* [n_mat][ne0]: Σ x² over the tokens seen, per input channel (owned) */
    float *counts;    /* [n_mat]: tokens seen by each matrix (0 = an expert never routed to) (owned) */
} lrq_imatrix_entry;

typedef struct lrq_imatrix {
    int32_t n;                  /* entries */
    lrq_imatrix_entry *e;       /* [n], in file order (owned) */
    int32_t chunk_count;        /* chunks of calibration text processed */
    int32_t chunk_size;         /* tokens per chunk (the context) */
    int32_t n_datasets;
    char **datasets;            /* [n_datasets] names of the calibration texts (owned) */
} lrq_imatrix;

/* Reads an imatrix file (llama.cpp's GGUF imatrix format) into *out.
 * Returns 0, or -1 with lrq_err_set naming the file and the bad field
 * (shapes inconsistent between in_sum2 and counts, non-finite or negative
 * values, missing counts, ...); *out is then NULL. (imatrix_load.c) */
int lrq_imatrix_load(const char *path, lrq_imatrix **out);

/* Writes im to path in llama.cpp's GGUF imatrix format, atomically (temp
 * file, fsync, rename; nothing is left behind on error). Returns 0 or -1
 * with lrq_err_set. (imatrix_save.c) */
int lrq_imatrix_save(const lrq_imatrix *im, const char *path);

/* The entry for weight tensor `name`, or NULL. (imatrix_load.c) */
const lrq_imatrix_entry *lrq_imatrix_find(const lrq_imatrix *im, const char *name);

/* The per-channel importance of matrix `mat` (< e->n_mat) as llama-quantize
 * v0.5.0 hands it to its quantizers: w[j] for j < e->ne0. Returns 0, or
 * -1 with lrq_err_set if mat is out of range. (imatrix_load.c) */
int lrq_imatrix_weights(const lrq_imatrix_entry *e, int32_t mat, float *w);

/* Frees everything im owns and im itself; NULL is a no-op. (imatrix_load.c) */
void lrq_imatrix_free(lrq_imatrix *im);

#endif
