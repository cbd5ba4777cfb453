/* lq_store.h — writing lq matrices into a GGUF (layout: fmt/lq_spec.h's
 * lrq_lq_layout, docs/formats.md): the codes under the weight's name, the
 * parameter companions "<name>.lq_*", and the string key "lrq.lq.<name>"
 * with the canonical spec (what the loader parses to decode them).
 *
 * Streaming: lrq_lq_store_add registers the tensors with fill callbacks;
 * at the codes' turn the source matrix is fetched (src), quantized whole
 * (k-means per tensor and super-blocks spanning rows need all rows; the
 * memory is one F32 copy of the matrix), and the quantized result is kept
 * only until its last companion is written.
 */
#ifndef LRQ_QUANT_LQ_STORE_H
#define LRQ_QUANT_LQ_STORE_H

#include <stdint.h>

#include "fmt/lq_spec.h"
#include "io/gguf.h"
#include "quant/lq_quant.h"

struct lrq_pool;

/* The stored bytes of part `kind` (enum lrq_lq_part_kind) of q into out,
 * exactly the part's nbytes from lrq_lq_layout (little-endian host). The
 * part must belong to q's spec. Returns 0 or -1 with an error. */
int lrq_lq_encode_part(const lrq_lq_qt *q, int kind, uint8_t *out);

/* Writes the source matrix [rows][ne0] as F32 into x; 0 or -1 with an error. */
typedef int (*lrq_lq_src_fn)(void *ud, float *x);
/* Told about each quantized matrix (with its F32 source), e.g. for error
 * statistics and progress; may be NULL. */
typedef void (*lrq_lq_done_fn)(void *ud, const lrq_lq_qt *q, const float *x);

/* Quantizes x [rows][ne0] with spec s into *out, in place of
 * lrq_lq_quantize (same contract; e.g. GPTQ with the tensor's Hessian);
 * ud is the tensor's, as for src. */
typedef int (*lrq_lq_quant_fn)(void *ud, const lrq_lq_spec *s, const float *x, int64_t ne0, int64_t rows,
                               const float *imp, uint64_t seed, struct lrq_pool *pool, lrq_lq_qt *out);

typedef struct lrq_lq_store lrq_lq_store;

/* A store whose quantizations run on `pool` (may be NULL: one thread). NULL
 * on out of memory. free releases everything (also a write that failed
 * half way); safe on NULL. The store must outlive lrq_gguf_writer_write. */
lrq_lq_store *lrq_lq_store_new(struct lrq_pool *pool);
void lrq_lq_store_free(lrq_lq_store *st);
/* Every matrix of st quantized by fn (NULL: lrq_lq_quantize, the default). */
void lrq_lq_store_set_quantizer(lrq_lq_store *st, lrq_lq_quant_fn fn);

/* Register the matrix `name` of shape ne (n_dims 2..4) with spec s in w:
 * the key and every tensor of its layout. imp: NULL or ne[0] importance
 * weights (must stay valid until the write); seed: the quantizer's seed.
 * Returns 0 or -1 with an error (bad spec/shape, name too long, writer
 * refusal). */
int lrq_lq_store_add(lrq_lq_store *st, lrq_gguf_writer *w, const char *name, const lrq_lq_spec *s, uint32_t n_dims,
                     const int64_t *ne, const float *imp, uint64_t seed, lrq_lq_src_fn src, lrq_lq_done_fn done,
                     void *ud);

/* The quantizer's seed for a tensor: a hash of its name (so every tensor has
 * its own streams, and the file does not depend on tensor order). */
uint64_t lrq_lq_name_seed(const char *name);

#endif
