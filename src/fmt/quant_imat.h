/* quant_imat.h — llama-quantize's importance-weighted quantizers (its
 * quantize_row_<type>_impl with quant_weights, llama.cpp v0.5.0) and IQ4_XS,
 * behind lrq_quantize_rows (fmt/quantize.h).
 *
 * lrq_quant_imat_<t>(x, y, n, qw): ONE row of n values x (n a multiple of
 * the type's block size) into y, with qw[0..n) the per-column importance
 * (an imatrix entry's sums over its count). One row at a time because the
 * legacy types weigh every value by the row's mean square.
 */
#ifndef LRQ_FMT_QUANT_IMAT_H
#define LRQ_FMT_QUANT_IMAT_H

#include <stdint.h>

void lrq_quant_imat_q4_0(const float *x, void *y, int64_t n, const float *qw);
void lrq_quant_imat_q4_1(const float *x, void *y, int64_t n, const float *qw);
void lrq_quant_imat_q5_0(const float *x, void *y, int64_t n, const float *qw);
void lrq_quant_imat_q5_1(const float *x, void *y, int64_t n, const float *qw);
void lrq_quant_imat_q2_K(const float *x, void *y, int64_t n, const float *qw);
void lrq_quant_imat_q3_K(const float *x, void *y, int64_t n, const float *qw);
void lrq_quant_imat_q4_K(const float *x, void *y, int64_t n, const float *qw);
void lrq_quant_imat_q5_K(const float *x, void *y, int64_t n, const float *qw);
void lrq_quant_imat_q6_K(const float *x, void *y, int64_t n, const float *qw);
void lrq_quant_imat_iq4_nl(const float *x, void *y, int64_t n, const float *qw);
void lrq_quant_imat_iq4_xs(const float *x, void *y, int64_t n, const float *qw);

/* IQ4_XS without an importance matrix (what llama-quantize writes; rows
 * back to float: lrq_dequant_iq4_xs in fmt/iquant.c). Block of 256
 * values, 136 bytes: d f16 | scales_h u16 (2 high bits of 8 block scales) |
 * scales_l[4] (low nibbles) | qs[128] (IQ4_NL grid indices, as IQ4_NL per
 * 32 values). */
void lrq_quant_ref_iq4_xs(const float *x, void *y, int64_t n);

#endif
