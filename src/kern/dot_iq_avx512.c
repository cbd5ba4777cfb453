/* dot_iq_avx512.c — AVX-512 (F/BW/VL/DQ/VNNI) dot products of i-quant rows
 * (IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S, IQ4_XS) with Q8_K rows,
 * bit-identical to the scalar specification in dot_iq_ref.c.
 *
 * Each 256-value block is decoded by dot_iq_avx512.h (the same decoding the
 * tile kernels in gemm_iq_avx512.c use): grid points by hardware gathers,
 * sign bytes as 64-bit masks, scales per int16 lane; the integer lanes
 * (iqrow_dot) then cost one masked negation, one maddubs and one vpdpwssd
 * per 64 values. The two 256-bit halves of the 16 int32 lanes add up to the
 * reference's 8 lanes (values with (e % 32) / 4 == k); the integer sums are
 * exact, the float part is the reference's fma per block and lane and its
 * final reduction.
 *
 * Inputs: n % 256 == 0; x and y need no particular alignment.
 */
#include "kern/dots.h"
#include "kern/dot_iq_avx512.h"
#include "fmt/types.h"

static inline float hsum8_ps(__m256 a) {
    __m128 r = _mm_add_ps(_mm256_extractf128_ps(a, 1), _mm256_castps256_ps128(a));
    r = _mm_add_ps(r, _mm_movehl_ps(r, r));
    r = _mm_add_ss(r, _mm_movehdup_ps(r));
    return _mm_cvtss_f32(r);
}

static inline float f16_at(const uint8_t *p) { return _cvtsh_ss(lrq_k_u16(p)); }

#define IQ_DOT(t, SIZE, c)                                                                                 \
    void lrq_dot_##t##_avx512(int64_t n, float *s, const void *vx, const void *vy) {                       \
        LRQ_ASSERT(n % LRQ_QK_K == 0);                                                                     \
        const uint8_t *x = vx, *y = vy;                                                                    \
        __m256 acc = _mm256_setzero_ps();                                                                  \
        for (int64_t i = 0; i < n / LRQ_QK_K; i++, x += (SIZE), y += LRQ_Q8K_SIZE) {                       \
            iqrow k;                                                                                       \
            t##_row(&k, x);                                                                                \
            const __m512i l16 = iqrow_dot(&k, (const int8_t *)(y + LRQ_Q8K_QS));                           \
            const __m256i lanes = _mm256_add_epi32(_mm512_castsi512_si256(l16), _mm512_extracti64x4_epi64(l16, 1)); \
            const float d = f16_at(x) * lrq_k_f32(y + LRQ_Q8K_D);                                          \
            acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(lanes), acc);                      \
        }                                                                                                  \
        *s = (c) * hsum8_ps(acc);                                                                          \
    }

IQ_DOT(iq2_xxs, LRQ_IQ2XXS_SIZE, 0.125f)
IQ_DOT(iq2_xs, LRQ_IQ2XS_SIZE, 0.125f)
IQ_DOT(iq2_s, LRQ_IQ2S_SIZE, 0.125f)
IQ_DOT(iq3_xxs, LRQ_IQ3XXS_SIZE, 0.25f)
IQ_DOT(iq3_s, LRQ_IQ3S_SIZE, 1.0f)
IQ_DOT(iq4_xs, LRQ_IQ4XS_SIZE, 1.0f)
