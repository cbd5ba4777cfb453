/* dot_iq_avx2.c — AVX2+FMA+F16C dot products of i-quant rows (IQ2_XXS,
 * IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S, IQ4_XS) with Q8_K rows, bit-identical to
 * the scalar specification in dot_iq_ref.c (its header gives the order).
 *
 * One sub-block of 32 values at a time: the 32 weight magnitudes (grid
 * bytes loaded by scalar index — read straight from the block, never
 * through a vector store, which would stall store forwarding; IQ4_XS:
 * |table value|) as unsigned bytes, the signs (computed for the whole block
 * at once, see below) as a byte mask applied to the activation codes by 8-bit negation
 * ((q ^ m) - m, which keeps -128 at -128 as the reference says), maddubs to
 * 16 int16 pair sums (no saturation: magnitudes <= 127, codes <= 128 in
 * magnitude, so |pair| <= 32512), madd with the int16 scales to 8 int32
 * lanes — lane k = values 4k..4k+3 of every sub-block, the reference's lanes.
 * Then the reference's fma per block and lane, and its final reduction.
 *
 * Inputs: n % 256 == 0; x and y need no particular alignment.
 */
#include "kern/dots.h"
#include "kern/dot_iq_avx2.h"
#include "fmt/types.h"

/* ((a0+a4)+(a2+a6)) + ((a1+a5)+(a3+a7)), as the reference's k_hsum8. */
static inline float hsum8_ps(__m256 a) {
    __m128 r = _mm_add_ps(_mm256_extractf128_ps(a, 1), _mm256_castps256_ps128(a));
    r = _mm_add_ps(r, _mm_movehl_ps(r, r));
    r = _mm_add_ss(r, _mm_movehdup_ps(r));
    return _mm_cvtss_f32(r);
}

static inline float f16_at(const uint8_t *p) { return _cvtsh_ss(lrq_k_u16(p)); }

#define IQ_DOT(t, SIZE, c)                                                                                 \
    void lrq_dot_##t##_avx2(int64_t n, float *s, const void *vx, const void *vy) {                         \
        LRQ_ASSERT(n % LRQ_QK_K == 0);                                                                     \
        const uint8_t *x = vx, *y = vy;                                                                    \
        __m256 acc = _mm256_setzero_ps();                                                                  \
        for (int64_t i = 0; i < n / LRQ_QK_K; i++, x += (SIZE), y += LRQ_Q8K_SIZE) {                       \
            const int8_t *q8 = (const int8_t *)(y + LRQ_Q8K_QS);                                           \
            iqctx ctx;                                                                                     \
            iq_##t##_ctx(x, &ctx);                                                                         \
            __m256i lanes = _mm256_setzero_si256();                                                        \
            for (int ib = 0; ib < 8; ib++) {                                                               \
                __m256i mag, neg;                                                                          \
                iq_##t##_sub(x, &ctx, ib, &mag, &neg);                                                     \
                lanes = _mm256_add_epi32(lanes, sub_lanes(mag, neg, q8 + 32 * ib, scale_pick(ctx.sc16, ib))); \
            }                                                                                              \
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
