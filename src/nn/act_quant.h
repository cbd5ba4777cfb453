/* act_quant.h — dynamic fake quantization of activations (the
 * LRQ_ACT_INT policy of nn/linear.h; the public spec is lrq_act_quant in
 * include/lrq.h, the user-facing description docs/activations.md).
 *
 * Two steps, so that one range can serve a whole tensor (all tokens of a
 * call) or each token: lrq_act_range finds [lo, hi] from the data and the
 * spec (max, a nearest-rank percentile, or a fixed threshold), and
 * lrq_act_apply rounds values onto that range's integer grid:
 *   symmetric:  qmax = 2^(b-1) - 1, s = hi / qmax, q = clamp(round(x * (1/s)), -qmax, qmax), y = s * q
 *   asymmetric: L = 2^b - 1, s = (hi - lo) / L, z = round(-lo * (1/s)),
 *               q = clamp(round(x * (1/s)) + z, 0, L), y = s * (q - z)
 * (round half away from zero; a zero-width range gives y = 0). For the
 * symmetric spec lo = -hi. With bits 8, symmetric, clip 1 per token this is
 * exactly the LRQ_ACT_Q8_TOKEN policy.
 */
#ifndef LRQ_NN_ACT_QUANT_H
#define LRQ_NN_ACT_QUANT_H

#include <stddef.h>
#include <stdint.h>

#include "lrq.h"

/* 0 if aq is valid, else -1 with lrq_err_set naming the field. */
int lrq_act_quant_check(const lrq_act_quant *aq);

/* 1 if computing the range needs a scratch copy of the data (a percentile
 * below 1), else 0. */
int lrq_act_needs_scratch(const lrq_act_quant *aq);

/* The quantization range of the n values x under aq: *hi >= 0 (the
 * symmetric half-width, *lo = -*hi) or, asymmetric, *lo <= 0 <= *hi.
 * scratch: n floats when lrq_act_needs_scratch(aq), else may be NULL.
 * Deterministic (a nearest-rank selection, not an estimate). */
void lrq_act_range(const lrq_act_quant *aq, const float *x, size_t n, float *scratch, float *lo, float *hi);

/* y[i] = x[i] rounded onto the grid of range [lo, hi] (formulas above);
 * y may equal x. */
void lrq_act_apply(const lrq_act_quant *aq, float lo, float hi, const float *x, float *y, size_t n);

#endif
