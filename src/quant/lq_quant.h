/* lq_quant.h — the quantizer of lrq's own "lq" formats (spec: fmt/lq_spec.h,
 * layout and formulas: docs/formats.md): an F32 matrix [nrow][ne0] in,
 * b-bit codes and their parameters out, for any valid spec.
 *
 * Dequantization (per row r, group g = j / group, code q = code[r][j]):
 *     w = s[r][g] * (v(q) - z[r][g] + o)
 * v(q) = q on the uniform grid, codebook[..][q] with a codebook (kt/kr);
 * o = the spec's tensor offset, or og[r][g] / 4 with per-group offsets (og).
 * Symmetric specs have z = 2^(b-1) for every group (not stored): the codes
 * q - z cover [-2^(b-1), 2^(b-1) - 1]; asymmetric specs an integer z in
 * [0, 2^b - 1] per group. Scales are >= 0.
 *
 * How each knob is implemented (why, where it is not obvious):
 *  - scale/zero per group: the candidates (clip ratios x offsets x, for
 *    symmetric specs, the two ways of placing the extreme value: on the
 *    -2^(b-1) end or on the 2^(b-1) - 1 end, like Q4_0's sign trick but
 *    with scales kept >= 0 so that they double-quantize as unsigned codes)
 *    are each scored by the (importance-)weighted squared error of the
 *    group under nearest rounding, the scale first rounded to its stored
 *    precision (F16/BF16), so the score is the error the file will have.
 *    Clipping a ratio R keeps the group's midpoint and scales its half-range
 *    by R (asymmetric) or its largest magnitude by R (symmetric). An
 *    asymmetric range is then widened to include 0: z is an integer code in
 *    [0, 2^b - 1], so value 0 is always on the grid.
 *  - double quantization (pq<K>x<S>): after the per-group search, every
 *    super-block of S consecutive groups (in row-major group order, so a
 *    super-block may span rows) gets the F16 step d = max s / (2^K - 1) and
 *    the codes round(s / d) (at least 1 for s > 0); the codes are then chosen
 *    with the decoded scales d * code.
 *  - rounding: nearest = roundf(u) with u = x / s + z - o; stochastic =
 *    floor(u) + [r < u - floor(u)] (unbiased); noise = roundf(u + L (r - 1/2));
 *    r uniform in [0, 1) from a generator seeded per row by (seed, row), so
 *    the result is deterministic for a seed and independent of the thread
 *    count. Codes are clamped to [0, 2^b - 1]. The search above always
 *    scores nearest rounding.
 *  - codebook (kt/kr): after the uniform quantization, the normalised values
 *    u = x / s + z - o are clustered by 1-D weighted k-means (weight =
 *    importance * s^2, so the objective is the weighted squared error in
 *    weight space) into 2^b sorted centres, starting from the uniform grid
 *    (u) or seeded k-means++; each value then takes its nearest centre
 *    (codebook codes are always nearest). kt pools all rows (partial sums per
 *    row, added in row order: thread-count independent).
 */
#ifndef LRQ_QUANT_LQ_QUANT_H
#define LRQ_QUANT_LQ_QUANT_H

#include <stddef.h>
#include <stdint.h>

#include "fmt/lq_spec.h"
#include "fmt/tensor.h"

struct lrq_pool;

/* A quantized matrix: the codes, the parameters as the file stores them,
 * and the decoded float planes (exactly the values the stored form decodes
 * to). Owned buffers; release with lrq_lq_qt_free. */
typedef struct lrq_lq_qt {
    lrq_lq_spec spec;
    int64_t ne0, nrow;
    int32_t group, ng;      /* values per group; groups per row (ne0 / group) */
    size_t row_bytes;       /* code bytes per row (fmt/planes.h) */
    uint8_t *codes;         /* [nrow][row_bytes], packed b-bit codes */
    float *scale;           /* [nrow][ng] decoded scales s (>= 0) */
    float *zero;            /* [nrow][ng] integer zero points z (asymmetric), else NULL */
    uint8_t *og;            /* [nrow][ng] per-group offset codes 0..3 (o = code / 4), or NULL */
    float *codebook;        /* [cb_rows][2^b] sorted centres, or NULL */
    int64_t cb_rows;        /* 1 (kt) or nrow (kr); 0 without a codebook */
    /* Double quantization (pstore LRQ_LQ_P_Q) only: */
    int64_t n_super;        /* ceil(nrow * ng / psuper) */
    uint16_t *sd;           /* [n_super] F16 super-block steps */
    uint8_t *sq;            /* [nrow * ng] scale codes, one per byte (< 2^pbits) */
} lrq_lq_qt;

/* Quantize x [nrow][ne0] with spec s. imp: NULL, or ne0 non-negative
 * importance weights per column (the squared-error weights of the searches
 * and of k-means). seed: the generator seed of stochastic/noise rounding and
 * k-means++. pool: NULL (one thread) or a pool whose threads share the rows;
 * the result does not depend on it. Returns 0 and *out (caller frees with
 * lrq_lq_qt_free), or -1 with lrq_err_set (invalid spec, shape the spec's
 * group does not fit, non-finite input, out of memory); *out is then empty. */
int lrq_lq_quantize(const lrq_lq_spec *s, const float *x, int64_t ne0, int64_t nrow, const float *imp,
                    uint64_t seed, struct lrq_pool *pool, lrq_lq_qt *out);

/* Release q's buffers (safe on a zeroed or freed struct) and zero it. */
void lrq_lq_qt_free(lrq_lq_qt *q);

/* The offset, in steps, of group g of row r: the spec's tensor offset or
 * og[r][g] / 4. */
float lrq_lq_group_offset(const lrq_lq_qt *q, int64_t r, int32_t g);

/* Dequantize row r of q into y [ne0] with the formula above (the reference
 * the kernels and the loader are tested against). */
void lrq_lq_dequant_row(const lrq_lq_qt *q, int64_t r, float *y);

#endif
