/* act_avx512.c — AVX-512 forms of the Q8_0 / Q8_1 activation quantizers
 * (fmt/legacy.c lrq_act_q8_0 / lrq_act_q8_1 are the specification: llama.cpp's
 * x86 quantize_row_q8_0/q8_1), bit-identical to them; kern/dispatch.c
 * registers them into the Q8_0 / Q8_1 traits rows at the avx512 level.
 *
 * Why it is the same arithmetic: the absolute maximum is reduced with vmaxps
 * over the same operands in the same tree (8 lanes over the block's 4 groups
 * of 8, then 8 -> 4 -> 2 -> 1; maxps returns its second operand unless the
 * first is greater, NaN included); d = max / 127 and the multiplier 127 / max
 * are the same single divisions; x * id is one rounded multiply, rounded to
 * nearest-even (vroundps) and converted (vcvtps2dq: out of range and NaN give
 * INT32_MIN, as the spec's cvtt_i32); the int8 codes are the int32 values
 * saturated (vpmovsdb = the spec's clamp), and the Q8_1 sum is the wrapping
 * int32 sum of the unsaturated values. Only F16 stores of d stay scalar.
 * This rounding was 6% of `lrq ppl` on the zoo Q4_0 model when scalar.
 *
 * Compiled with the AVX-512 flags; only called when the CPU has them. */
#include "kern/dots.h"
#include "fmt/blocks.h"
#include "core/core.h"

#include <immintrin.h>
#include <string.h>

/* Round to nearest even, no exceptions (an immediate: a macro, not a variable, so clang accepts it). */
#define ACT_RND (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)

/* One block of 32 values: the codes to q, returns d, *isum the int32 sum. */
static inline float q8_block(const float *x, int8_t *q, int32_t *isum) {
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    const __m256 v0 = _mm256_loadu_ps(x), v1 = _mm256_loadu_ps(x + 8), v2 = _mm256_loadu_ps(x + 16),
                 v3 = _mm256_loadu_ps(x + 24);
    __m256 m = _mm256_and_ps(v0, absmask);
    m = _mm256_max_ps(m, _mm256_and_ps(v1, absmask));
    m = _mm256_max_ps(m, _mm256_and_ps(v2, absmask));
    m = _mm256_max_ps(m, _mm256_and_ps(v3, absmask));
    __m128 m4 = _mm_max_ps(_mm256_extractf128_ps(m, 1), _mm256_castps256_ps128(m)); /* maxps(lane[4+l], lane[l]) */
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));                                       /* (0,2), (1,3) */
    m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));                                         /* (0+2) vs (1+3) */
    const float amax = _mm_cvtss_f32(m4);
    const float d = amax / 127.0f;
    const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
    const __m512 idv = _mm512_set1_ps(id);
    const __m512i i0 = _mm512_cvtps_epi32(_mm512_roundscale_ps(_mm512_mul_ps(_mm512_loadu_ps(x), idv), ACT_RND));
    const __m512i i1 = _mm512_cvtps_epi32(_mm512_roundscale_ps(_mm512_mul_ps(_mm512_loadu_ps(x + 16), idv), ACT_RND));
    _mm_storeu_si128((__m128i *)(void *)q, _mm512_cvtsepi32_epi8(i0));
    _mm_storeu_si128((__m128i *)(void *)(q + 16), _mm512_cvtsepi32_epi8(i1));
    /* The int32 sum wraps (NaN/Inf inputs give INT_MIN codes, as in the
     * spec): vector adds wrap by definition, the last four lanes are summed
     * as unsigned (gcc's _mm512_reduce_add_epi32 adds as signed int: UB). */
    const __m512i s16 = _mm512_add_epi32(i0, i1);
    const __m256i s8 = _mm256_add_epi32(_mm512_castsi512_si256(s16), _mm512_extracti64x4_epi64(s16, 1));
    const __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(s8), _mm256_extracti128_si256(s8, 1));
    uint32_t l[4];
    _mm_storeu_si128((__m128i *)(void *)l, s4);
    *isum = (int32_t)(l[0] + l[1] + l[2] + l[3]);
    return d;
}

static inline void wr16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

void lrq_act_q8_0_avx512(const float *x, void *y, int64_t n) {
    LRQ_ASSERT(n % LRQ_QK0 == 0);
    uint8_t *b = y;
    for (int64_t i = 0; i < n / LRQ_QK0; i++, x += LRQ_QK0, b += LRQ_Q8_0_SIZE) {
        int32_t isum;
        const float d = q8_block(x, (int8_t *)(void *)(b + 2), &isum);
        wr16(b, lrq_f32_to_f16(d));
    }
}

void lrq_act_q8_1_avx512(const float *x, void *y, int64_t n) {
    LRQ_ASSERT(n % LRQ_QK0 == 0);
    uint8_t *b = y;
    for (int64_t i = 0; i < n / LRQ_QK0; i++, x += LRQ_QK0, b += LRQ_Q8_0_SIZE + 2) {
        int32_t isum;
        const float d = q8_block(x, (int8_t *)(void *)(b + 4), &isum);
        wr16(b, lrq_f32_to_f16(d));
        wr16(b + 2, lrq_f32_to_f16(d * (float)isum));
    }
}
