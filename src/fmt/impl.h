/* impl.h — the per-type format functions behind the traits rows of
 * fmt/types.c: what a type IS (its dequantization, llama-quantize's
 * reference quantizer, and the activation quantizer of its partner type).
 * Naming: lrq_dequant_<t> (row -> float), lrq_quant_ref_<t>, lrq_act_<t>
 * (activation quantizer with the exact numerics of llama.cpp's x86 CPU
 * backend). The dot-product kernels are in kern/dots.h.
 *
 *  file                  contents
 *  src/fmt/legacy.c      f32 f16 bf16 q4_0 q4_1 q5_0 q5_1 q8_0 iq4_nl: dequant, quant_ref;
 *                        act quantizers f16 bf16 q8_0 q8_1
 *  src/fmt/kquant.c      q2_K..q6_K dequant and quant_ref; act q8_K
 *  src/fmt/quant_iq4.c   iq4_nl quant_ref (iq4_xs and the imatrix quantizers: fmt/quant_imat.h)
 *  src/fmt/iquant.c      iq2_xxs iq2_xs iq2_s iq3_xxs iq3_s iq4_xs dequant (grids: iq_grids.c)
 */
#ifndef LRQ_FMT_IMPL_H
#define LRQ_FMT_IMPL_H

#include <stdint.h>

void lrq_dequant_f32(const void *x, float *y, int64_t n);
void lrq_dequant_f16(const void *x, float *y, int64_t n);
void lrq_dequant_bf16(const void *x, float *y, int64_t n);
void lrq_dequant_q4_0(const void *x, float *y, int64_t n);
void lrq_dequant_q4_1(const void *x, float *y, int64_t n);
void lrq_dequant_q5_0(const void *x, float *y, int64_t n);
void lrq_dequant_q5_1(const void *x, float *y, int64_t n);
void lrq_dequant_q8_0(const void *x, float *y, int64_t n);
void lrq_dequant_iq4_nl(const void *x, float *y, int64_t n);
void lrq_dequant_q2_K(const void *x, float *y, int64_t n);
void lrq_dequant_q3_K(const void *x, float *y, int64_t n);
void lrq_dequant_q4_K(const void *x, float *y, int64_t n);
void lrq_dequant_q5_K(const void *x, float *y, int64_t n);
void lrq_dequant_q6_K(const void *x, float *y, int64_t n);
void lrq_dequant_iq2_xxs(const void *x, float *y, int64_t n);
void lrq_dequant_iq2_xs(const void *x, float *y, int64_t n);
void lrq_dequant_iq2_s(const void *x, float *y, int64_t n);
void lrq_dequant_iq3_xxs(const void *x, float *y, int64_t n);
void lrq_dequant_iq3_s(const void *x, float *y, int64_t n);
void lrq_dequant_iq4_xs(const void *x, float *y, int64_t n);

/* Partner-type (activation) dequantizers, for tests. */
void lrq_dequant_q8_1(const void *x, float *y, int64_t n);
void lrq_dequant_q8_K(const void *x, float *y, int64_t n);

/* Reference weight quantizers (llama-quantize without imatrix). */
void lrq_quant_ref_f32(const float *x, void *y, int64_t n);
void lrq_quant_ref_f16(const float *x, void *y, int64_t n);
void lrq_quant_ref_bf16(const float *x, void *y, int64_t n);
void lrq_quant_ref_q4_0(const float *x, void *y, int64_t n);
void lrq_quant_ref_q4_1(const float *x, void *y, int64_t n);
void lrq_quant_ref_q5_0(const float *x, void *y, int64_t n);
void lrq_quant_ref_q5_1(const float *x, void *y, int64_t n);
void lrq_quant_ref_q8_0(const float *x, void *y, int64_t n);
void lrq_quant_ref_iq4_nl(const float *x, void *y, int64_t n);

/* Activation quantizers (llama.cpp x86 CPU backend numerics). */
void lrq_act_f32(const float *x, void *y, int64_t n);
void lrq_act_f16(const float *x, void *y, int64_t n);
void lrq_act_bf16(const float *x, void *y, int64_t n);
void lrq_act_q8_0(const float *x, void *y, int64_t n);
void lrq_act_q8_1(const float *x, void *y, int64_t n);
void lrq_act_q8_K(const float *x, void *y, int64_t n);

#endif
