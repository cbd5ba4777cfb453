/* gptq.h — GPTQ (Frantar et al. 2022, "GPTQ: Accurate Post-Training
 * Quantization for Generative Pre-trained Transformers") on lrq's lq
 * formats: a weight matrix W [nrow][n] and the Hessian of its layer
 * objective H = Σ x xᵀ [n][n] over calibration inputs x (eval/calib.h) in,
 * lq codes and parameters out (quant/lq_quant.h's lrq_lq_qt, written by
 * quant/lq_store.c like any lq matrix). docs/gptq.md is the long form.
 *
 * What it minimises: the layer's output error on the calibration inputs,
 * ‖W X − Ŵ X‖² = tr((W − Ŵ) H (W − Ŵ)ᵀ), greedily, one input column at a
 * time: column j is rounded onto the lq grid, and its error, divided by
 * U[j][j], is spread over the columns not yet rounded in proportion to
 * U[j][k] (k > j), where U is the upper Cholesky factor of H⁻¹ (H⁻¹ = UᵀU).
 * Rows never interact (each has its own parameters), so the result of a
 * row depends only on that row and H.
 *
 * The knobs (lrq_gptq_opts):
 *  - damp: H + damp · mean(diag H) · I before the inverse (numerical
 *    stability; GPTQ's "percdamp", 0.01). If a Cholesky factorisation still
 *    fails the damping is raised ×10, at most 4 times (the report says).
 *  - block: lazy batch updates: the error feedback inside a block of
 *    `block` columns is applied at once; the columns after it get the
 *    block's errors in one GEMM. Any block size gives the same result up to
 *    float rounding (tests/test_gptq.c checks it against an unblocked
 *    reference).
 *  - act_order: columns in order of decreasing H[j][j] (ties: lower index
 *    first), the columns with the largest inputs first.
 *  - static_groups: every group's parameters (scale, zero, offset, and
 *    whole-tensor parameters: double-quantized scales, codebooks) computed
 *    up front by the lq quantizer from the original W (dead columns zeroed),
 *    GPTQ then only chooses codes. Without it, a group's parameters are
 *    chosen when GPTQ reaches the group's first column (in processing
 *    order), by the lq quantizer's search on the group's current
 *    (error-updated) weights. lq groups are contiguous columns, so with
 *    act-order and dynamic groups a group's parameters are fixed at its
 *    first column in act order (the reference GPTQ instead regroups the
 *    permuted columns, which needs a column -> group map lq has no room for).
 *  - dead columns: H[j][j] == 0 (an input that was always 0): H[j][j] = 1,
 *    W[:, j] = 0, as the reference does (the column never matters).
 *
 * Which lq specs work: every code width, group or per-row, sym/asym, tensor
 * offset and per-group offsets (og), clip ratio and clip search (cs), F16/BF16
 * parameters. Double-quantized parameters (pq) and codebooks (kt/kr) need
 * static groups (their parameters span groups or whole rows: they cannot
 * be chosen a group at a time). Stochastic or noisy rounding (rs/rz) is
 * refused: GPTQ rounds to nearest and feeds the error forward.
 *
 * Linear algebra: LAPACK (dpotrf, dpotri) and BLAS (dgemm, dgemv), from
 * OpenBLAS/LAPACKE or Apple Accelerate; the working copy of W and H⁻¹ are
 * F64. Memory: 8 · (2 nrow · n + 2 n²) bytes besides the output.
 */
#ifndef LRQ_QUANT_GPTQ_H
#define LRQ_QUANT_GPTQ_H

#include <stddef.h>
#include <stdint.h>

#include "fmt/lq_spec.h"
#include "quant/lq_quant.h"

struct lrq_pool;

typedef struct lrq_gptq_opts {
    double damp;        /* fraction of the mean diagonal added to it; >= 0 (GPTQ: 0.01) */
    int block;          /* columns per lazy batch, >= 1 (GPTQ: 128) */
    int act_order;      /* 1: columns by decreasing H diagonal */
    int static_groups;  /* 1: parameters from the original weights, up front */
    int importance;     /* 1: the parameter searches weigh each column's squared error by H[j][j] (the
                         * imatrix Σx² of that input), as llama.cpp's importance-weighted quantizers do;
                         * 0: unweighted (the lq quantizer's plain MSE) */
} lrq_gptq_opts;

/* GPTQ's defaults: damp 0.01, block 128, no act-order, dynamic groups,
 * unweighted parameter searches. */
lrq_gptq_opts lrq_gptq_defaults(void);

typedef struct lrq_gptq_report {
    double damp;        /* the damping fraction finally used (> opts.damp after a failed factorisation) */
    int64_t n_dead;     /* dead input columns */
} lrq_gptq_report;

/* 0 if GPTQ can produce spec s with opts o, else -1 with an error saying
 * why (stochastic rounding; pq or a codebook without static groups; bad
 * damp or block). */
int lrq_gptq_check(const lrq_lq_spec *s, const lrq_gptq_opts *o);

/* Quantize w [nrow][n] (row-major, n = ne0 = the inputs) to spec s with
 * GPTQ, Hessian H [n][n] (symmetric, F64, e.g. Σ x xᵀ; only its scale-free
 * shape matters). seed: as lrq_lq_quantize's (static groups: the k-means++
 * seed of codebooks). pool: NULL or the threads of the lq quantizer's
 * parameter searches (the result does not depend on it). Returns 0 with
 * *out (free with lrq_lq_qt_free) and *rep (may be NULL), or -1 with an
 * error (a spec GPTQ cannot use, shapes, non-finite W or H, H not positive
 * definite even after damping, out of memory); *out is then empty. */
int lrq_gptq_quantize(const lrq_lq_spec *s, const float *w, int64_t n, int64_t nrow, const double *H,
                      const lrq_gptq_opts *o, uint64_t seed, struct lrq_pool *pool, lrq_lq_qt *out,
                      lrq_gptq_report *rep);

/* The layer objective of a quantized matrix: tr((W − Ŵ) H (W − Ŵ)ᵀ) with
 * Ŵ the dequantized q (lrq_lq_dequant_row), W = w [q->nrow][q->ne0], H
 * [ne0][ne0]. *obj receives it; 0, or -1 with an error (out of memory). */
int lrq_gptq_objective(const float *w, const lrq_lq_qt *q, const double *H, double *obj);

#endif
