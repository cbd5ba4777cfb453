/* dots.h — the dot-product kernels: weight row of type t (n values) times an
 * activation row of t's partner type (fmt/types.h, vec_dot_type), the
 * result in *s. lrq_dot_<t>_ref is the scalar reference (the specification,
 * written as llama.cpp's generic code computes it); _avx2 / _avx512 compute
 * the same value in llama.cpp's x86 order and are tested against the
 * reference; _neon (AArch64 builds only) returns the reference's bits
 * exactly. kern/dispatch.c registers the fastest one for this CPU into the
 * type's traits row.
 *
 *  src/kern/dot_legacy_{ref,avx2,avx512,neon}.c  f32 f16 bf16 q4_0 q4_1 q5_0 q5_1 q8_0 iq4_nl
 *  src/kern/dot_k_{ref,avx2,avx512,neon}.c       q2_K .. q6_K (x Q8_K)
 *  src/kern/dot_iq_{ref,avx2,avx512}.c           iq2_xxs iq2_xs iq2_s iq3_xxs iq3_s iq4_xs (x Q8_K; _generic)
 *  src/kern/act_avx512.c                    Q8_0 / Q8_1 activation rounding
 */
#ifndef LRQ_KERN_DOTS_H
#define LRQ_KERN_DOTS_H

#include <stdint.h>

#define LRQ_DECL_DOTS(t)                                                          \
    void lrq_dot_##t##_ref(int64_t n, float *s, const void *x, const void *y);    \
    void lrq_dot_##t##_avx2(int64_t n, float *s, const void *x, const void *y);   \
    void lrq_dot_##t##_avx512(int64_t n, float *s, const void *x, const void *y);  \
    void lrq_dot_##t##_neon(int64_t n, float *s, const void *x, const void *y);

LRQ_DECL_DOTS(f32)
LRQ_DECL_DOTS(f16)
LRQ_DECL_DOTS(bf16)
LRQ_DECL_DOTS(q4_0)
LRQ_DECL_DOTS(q4_1)
LRQ_DECL_DOTS(q5_0)
LRQ_DECL_DOTS(q5_1)
LRQ_DECL_DOTS(q8_0)
LRQ_DECL_DOTS(iq4_nl)
LRQ_DECL_DOTS(q2_K)
LRQ_DECL_DOTS(q3_K)
LRQ_DECL_DOTS(q4_K)
LRQ_DECL_DOTS(q5_K)
LRQ_DECL_DOTS(q6_K)
#undef LRQ_DECL_DOTS

/* The i-quants: reference and x86 kernels (no NEON ones yet: AArch64 runs the
 * reference), plus _generic, llama.cpp's portable-C float order (not a
 * kernel; tested against the reference, see dot_iq_ref.c). */
#define LRQ_DECL_DOTS_IQ(t)                                                       \
    void lrq_dot_##t##_ref(int64_t n, float *s, const void *x, const void *y);    \
    void lrq_dot_##t##_avx2(int64_t n, float *s, const void *x, const void *y);   \
    void lrq_dot_##t##_avx512(int64_t n, float *s, const void *x, const void *y); \
    void lrq_dot_##t##_generic(int64_t n, float *s, const void *x, const void *y);

LRQ_DECL_DOTS_IQ(iq2_xxs)
LRQ_DECL_DOTS_IQ(iq2_xs)
LRQ_DECL_DOTS_IQ(iq2_s)
LRQ_DECL_DOTS_IQ(iq3_xxs)
LRQ_DECL_DOTS_IQ(iq3_s)
LRQ_DECL_DOTS_IQ(iq4_xs)
#undef LRQ_DECL_DOTS_IQ

/* Q2_K/Q4_K dot products in the other float orders of llama.cpp's x86
 * backend (see src/kern/dot_k_ref.c): "gemm" — the first M - M % 4 rows of a
 * batch of M activation rows against a repacked matrix (row count % 8 == 0);
 * "vecdot" — matrices that are not repacked. Same contract as above
 * (n % 256 == 0, x: Q2_K/Q4_K row, y: Q8_K row). The AVX2/AVX-512 ones exist
 * only on x86 builds. */
void lrq_dot_q2_K_gemm_ref(int64_t n, float *s, const void *x, const void *y);
void lrq_dot_q4_K_gemm_ref(int64_t n, float *s, const void *x, const void *y);
void lrq_dot_q2_K_gemm_avx2(int64_t n, float *s, const void *x, const void *y);
void lrq_dot_q4_K_gemm_avx2(int64_t n, float *s, const void *x, const void *y);
void lrq_dot_q2_K_gemm_avx512(int64_t n, float *s, const void *x, const void *y);
void lrq_dot_q4_K_gemm_avx512(int64_t n, float *s, const void *x, const void *y);
void lrq_dot_q2_K_vecdot_ref(int64_t n, float *s, const void *x, const void *y);
void lrq_dot_q4_K_vecdot_ref(int64_t n, float *s, const void *x, const void *y);

/* Q8_0 / Q8_1 activation quantizers (the from_float of those rows),
 * bit-identical to fmt/legacy.c's lrq_act_q8_0 / lrq_act_q8_1 (the
 * specification): n % 32 == 0. x86 builds only; registered at the avx512
 * level. */
void lrq_act_q8_0_avx512(const float *x, void *y, int64_t n);
void lrq_act_q8_1_avx512(const float *x, void *y, int64_t n);

#endif
