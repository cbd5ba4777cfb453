/* quant_impl.h — the per-type functions behind the traits table in
 * qtypes.c. Naming: lrq_dequant_<t> (row -> float), lrq_quant_ref_<t>
 * (llama-quantize's reference weight quantizer), lrq_act_<t> (activation
 * quantizer with the exact numerics of llama.cpp's x86 CPU backend),
 * lrq_dot_<t>_{ref,avx2,avx512} (weight type t · its partner type).
 *
 *  file                        contents
 *  src/quant/quant_legacy.c    f32 f16 bf16 q4_0 q4_1 q5_0 q5_1 q8_0 iq4_nl: dequant, quant_ref;
 *                              act quantizers f16 bf16 q8_0 q8_1
 *  src/quant/quant_k.c         q2_K..q6_K dequant (+ quant_ref where available); act q8_K
 *  src/kern/dot_legacy_ref.c   scalar reference dots for the legacy types
 *  src/kern/dot_legacy_avx2.c, dot_legacy_avx512.c
 *  src/kern/dot_k_ref.c, dot_k_avx2.c, dot_k_avx512.c   the same for k-quants
 */
#ifndef LRQ_QUANT_IMPL_H
#define LRQ_QUANT_IMPL_H

#include <stdint.h>

#define LRQ_DECL_TYPE_FNS(t) \
    void lrq_dequant_##t(const void *x, float *y, int64_t n); \
    void lrq_dot_##t##_ref(int64_t n, float *s, const void *x, const void *y); \
    void lrq_dot_##t##_avx2(int64_t n, float *s, const void *x, const void *y); \
    void lrq_dot_##t##_avx512(int64_t n, float *s, const void *x, const void *y);

LRQ_DECL_TYPE_FNS(f32)
LRQ_DECL_TYPE_FNS(f16)
LRQ_DECL_TYPE_FNS(bf16)
LRQ_DECL_TYPE_FNS(q4_0)
LRQ_DECL_TYPE_FNS(q4_1)
LRQ_DECL_TYPE_FNS(q5_0)
LRQ_DECL_TYPE_FNS(q5_1)
LRQ_DECL_TYPE_FNS(q8_0)
LRQ_DECL_TYPE_FNS(iq4_nl)
LRQ_DECL_TYPE_FNS(q2_K)
LRQ_DECL_TYPE_FNS(q3_K)
LRQ_DECL_TYPE_FNS(q4_K)
LRQ_DECL_TYPE_FNS(q5_K)
LRQ_DECL_TYPE_FNS(q6_K)

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
