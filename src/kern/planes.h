/* planes.h — dot-product kernels for planes tensors (codes in fmt/planes.h,
 * parameters as float planes, fmt/tensor.h):
 *     w[j] = scale[g] * (q[j] - zero[g] + offset),  g = j / group
 * and their K-replica forms, where K parameter sets share one code array
 * (replica sets: the codes are the memory traffic, so K replicas should cost
 * about one read of them, not K).
 *
 * The arithmetic, per group g (this order is the specification, planes_ref.c):
 *     sq = Σ_j q[j] x[j]    sx = Σ_j x[j]        (j in group g, in order)
 *     y += scale[g] * (sq - (zero[g] - offset) * sx)
 * i.e. the integer codes are dotted with x once per group, and the
 * parameters are applied per group, not per element. The K-replica form with
 * one input computes sq and sx once per group and applies K parameter sets
 * to them; the form with K inputs unpacks the codes of a group once and
 * dots them with each x_k. In the reference, dot_k with K = 1 is dot bit for
 * bit, and each y_k of dot_k / dot_kx is bit for bit a separate dot call.
 * The SIMD versions (planes_avx2.c, planes_avx512.c, planes_neon.c) sum in other orders
 * (lanes, FMA) and are tested against the reference with a tolerance
 * derived from Σ|terms| (tests/test_planes.c).
 *
 * Common preconditions of the row kernels (not checked: they are the inner
 * loop; the matvec helpers below check their arguments): bits in {2,3,4,5,6,8};
 * n >= 1 and group >= 1 with n % group == 0; codes_row holds one packed row
 * of n codes (lrq_planes_row_bytes(bits, n) bytes; nothing past it is read);
 * scale rows and zero rows hold n / group floats; x holds n floats;
 * 1 <= K <= LRQ_PLANES_MAX_K.
 */
#ifndef LRQ_KERN_PLANES_H
#define LRQ_KERN_PLANES_H

#include <stdint.h>

#include "fmt/tensor.h"

/* Most replicas one call handles (the kernels keep per-replica accumulators
 * on the stack). */
#define LRQ_PLANES_MAX_K 16

typedef struct lrq_planes_kernels {
    /* Σ_j w[j] x[j] of one row; zero_row NULL = symmetric (zero 0). */
    float (*dot)(int bits, int64_t n, const uint8_t *codes_row, const float *scale_row, const float *zero_row,
                 float offset, int32_t group, const float *x);
    /* y[k] = Σ_j w_k[j] x[j], k < K, where w_k is the row dequantized with
     * scale_rows[k], zero_rows[k] (zero_rows NULL, or zero_rows[k] NULL:
     * symmetric) and offsets[k]; the codes are read once. */
    void (*dot_k)(int bits, int64_t n, const uint8_t *codes_row, int K, const float *const *scale_rows,
                  const float *const *zero_rows, const float *offsets, int32_t group, const float *x, float *y);
    /* y[k] = Σ_j w_k[j] xs[k][j]: as dot_k, but replica k has its own input
     * xs[k]; each group's codes are unpacked once and used for all K. */
    void (*dot_kx)(int bits, int64_t n, const uint8_t *codes_row, int K, const float *const *scale_rows,
                   const float *const *zero_rows, const float *offsets, int32_t group, const float *const *xs,
                   float *y);
} lrq_planes_kernels;

/* The scalar reference (the specification). */
const lrq_planes_kernels *lrq_planes_ref(void);
/* The fastest kernels for this CPU: follows lrq_types_isa() (so the LRQ_ISA
 * environment variable), fixed once lrq_types_init() has run. */
const lrq_planes_kernels *lrq_planes_get(void);
/* The kernels of one SIMD level ("scalar", "avx2", "avx512", "neon") whether or not
 * it is the selected one — for tests and benchmarks; the caller checks that
 * the CPU has it. NULL if lrq has none for that level on this build. */
const lrq_planes_kernels *lrq_planes_get_isa(const char *isa);

/* The row kernels as plain functions, using lrq_planes_get() (contracts as
 * in lrq_planes_kernels above). */
float lrq_planes_dot(int bits, int64_t n, const uint8_t *codes_row, const float *scale_row, const float *zero_row,
                     float offset, int32_t group, const float *x);
void lrq_planes_dot_k(int bits, int64_t n, const uint8_t *codes_row, int K, const float *const *scale_rows,
                      const float *const *zero_rows, const float *offsets, int32_t group, const float *x, float *y);
void lrq_planes_dot_kx(int bits, int64_t n, const uint8_t *codes_row, int K, const float *const *scale_rows,
                       const float *const *zero_rows, const float *offsets, int32_t group, const float *const *xs,
                       float *y);

/* Non-uniform grid (qp->codebook, fmt/tensor.h): the scalar reference, the
 * only implementation. Per group g, in element order:
 *     sq = Σ_j cb[q[j]] x[j]    sx = Σ_j x[j]
 *     y += scale[g] * (sq - (zero[g] - offset) * sx)
 * cb holds the 2^bits values of this row's codebook; other preconditions as
 * the row kernels above. With cb[q] = q it is lrq_planes_ref()->dot bit for
 * bit (the same operations in the same order). */
float lrq_planes_dot_cb(int bits, int64_t n, const uint8_t *codes_row, const float *cb, const float *scale_row,
                        const float *zero_row, float offset, int32_t group, const float *x);

/* Matrix-vector products over rows [r0, r1) of an [ne1][ne0] planes matrix
 * of `bits`-bit codes (rows of lrq_planes_row_bytes(bits, ne0) bytes from
 * `codes`), for one thread's share of a linear layer. A parameter view `qp`
 * (layout LRQ_PARAMS_PLANES) selects set qp->set of its planes
 * scale/zero [n_sets][ne1][ne0 / group]. Outputs are indexed by the row:
 * y[r] for r in [r0, r1) (other entries untouched), so threads that split
 * the rows write one shared vector. `kern` picks the kernels (NULL:
 * lrq_planes_get()). A view with a codebook is computed with
 * lrq_planes_dot_cb whatever `kern` is (in the K forms: one call per
 * replica). Returns 0, or -1 with lrq_err_set on bad arguments
 * (unsupported bits, group not dividing ne0, set out of range, missing scale
 * plane, bad row range, K out of range, replicas with different groups,
 * cb_rows neither 1 nor ne1); nothing is written then. */
int lrq_planes_matvec(const lrq_planes_kernels *kern, int bits, int64_t ne0, int64_t ne1, const uint8_t *codes,
                      const lrq_qparams *qp, const float *x, int64_t r0, int64_t r1, float *y);
/* K replicas of the same codes, one input: ys[k][r] = row r dequantized with
 * view qps[k] (each its own set, planes and offset; one group size), dotted
 * with x. The codes are streamed once (dot_k). */
int lrq_planes_matvec_k(const lrq_planes_kernels *kern, int bits, int64_t ne0, int64_t ne1, const uint8_t *codes,
                        int K, const lrq_qparams *qps, const float *x, int64_t r0, int64_t r1, float *const *ys);
/* K replicas, one input each: ys[k][r] = row r with view qps[k] dotted with
 * xs[k] (dot_kx). */
int lrq_planes_matvec_kx(const lrq_planes_kernels *kern, int bits, int64_t ne0, int64_t ne1, const uint8_t *codes,
                         int K, const lrq_qparams *qps, const float *const *xs, int64_t r0, int64_t r1,
                         float *const *ys);

#endif
