/* dot_iq_avx512.c — AVX-512 (F/BW/VL/DQ/VNNI) dot products of i-quant rows
 * (IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S, IQ4_XS) with Q8_K rows,
 * bit-identical to the scalar specification in dot_iq_ref.c.
 *
 * Two sub-blocks (64 values) per step: weight magnitudes as 64 unsigned
 * bytes; the signs are a 64-bit mask (bit e = value e negative; for the
 * 8-bit sign formats the sign bytes themselves are that mask) applied to the
 * activation codes as a masked 8-bit negation 0 - q (which keeps -128 at
 * -128, as the reference says); VNNI dpbusd sums 4 adjacent u8 x s8 products
 * into 16 int32 lanes without saturation; lanes are multiplied by their
 * scale (4 values always share one). Lane j covers values 4j..4j+3 of the 64,
 * so adding the two 256-bit halves gives the reference's 8 lanes (values
 * with (e % 32) / 4 == k); the integer sums are exact, the float part is the
 * reference's fma per block and lane and its final reduction.
 *
 * Inputs: n % 256 == 0; x and y need no particular alignment.
 */
#include "kern/dots.h"
#include "fmt/iquant.h"
#include "fmt/iq_grids.h"
#include "fmt/kquant.h"
#include "fmt/blocks.h"
#include "fmt/types.h"

#include <immintrin.h>

static inline float hsum8_ps(__m256 a) {
    __m128 r = _mm_add_ps(_mm256_extractf128_ps(a, 1), _mm256_castps256_ps128(a));
    r = _mm_add_ps(r, _mm_movehl_ps(r, r));
    r = _mm_add_ss(r, _mm_movehdup_ps(r));
    return _mm_cvtss_f32(r);
}

static inline float f16_at(const uint8_t *p) { return _cvtsh_ss(lrq_k_u16(p)); }

/* 16 int32 lanes of 64 values: sum over 4 of mag x (code, negated where the
 * bit of neg is set), times the lane's scale. */
static inline __m512i pair_lanes(__m512i mag, __mmask64 neg, const int8_t *q8, __m512i sc) {
    const __m512i q = _mm512_loadu_si512((const void *)q8);
    const __m512i qs = _mm512_mask_sub_epi8(q, neg, _mm512_setzero_si512(), q);
    return _mm512_mullo_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), mag, qs), sc);
}

/* Lane scales for sub-blocks a (lanes 0-7) and b (8-15), each split into
 * values 0-15 (s?0) and 16-31 (s?1). */
static inline __m512i scales4(int sa0, int sa1, int sb0, int sb1) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set_m128i(_mm_set1_epi32(sa1), _mm_set1_epi32(sa0))),
                              _mm256_set_m128i(_mm_set1_epi32(sb1), _mm_set1_epi32(sb0)), 1);
}

static inline uint64_t ksigns8(uint32_t a0, uint32_t a1) {
    uint64_t m = 0;
    for (int l = 0; l < 4; l++) {
        m |= (uint64_t)lrq_iq_ksigns[(a0 >> (7 * l)) & 127] << (8 * l);
        m |= (uint64_t)lrq_iq_ksigns[(a1 >> (7 * l)) & 127] << (8 * l + 32);
    }
    return m;
}

static inline __m512i grid8(const uint64_t *grid, const int idx[8]) {
    return _mm512_setr_epi64((long long)grid[idx[0]], (long long)grid[idx[1]], (long long)grid[idx[2]],
                             (long long)grid[idx[3]], (long long)grid[idx[4]], (long long)grid[idx[5]],
                             (long long)grid[idx[6]], (long long)grid[idx[7]]);
}

static inline __m512i grid16(const uint32_t *grid, const int idx[16]) {
    return _mm512_i32gather_epi32(_mm512_loadu_si512((const void *)idx), (const void *)grid, 4);
}

static inline __m512i block_iq2_xxs(const uint8_t *x, const int8_t *q8) {
    __m512i acc = _mm512_setzero_si512();
    for (int ib = 0; ib < 8; ib += 2, q8 += 64) {
        const uint8_t *qa = x + LRQ_IQ2XXS_QS + 8 * ib, *qb = qa + 8;
        const uint32_t aa = lrq_k_u32(qa + 4), ab = lrq_k_u32(qb + 4);
        const int idx[8] = {qa[0], qa[1], qa[2], qa[3], qb[0], qb[1], qb[2], qb[3]};
        const int sa = 2 * (int)(aa >> 28) + 1, sb = 2 * (int)(ab >> 28) + 1;
        acc = _mm512_add_epi32(acc, pair_lanes(grid8(lrq_iq2xxs_grid, idx), ksigns8(aa, ab), q8, scales4(sa, sa, sb, sb)));
    }
    return acc;
}

static inline __m512i block_iq2_xs(const uint8_t *x, const int8_t *q8) {
    __m512i acc = _mm512_setzero_si512();
    for (int ib = 0; ib < 8; ib += 2, q8 += 64) {
        int idx[8];
        uint64_t neg = 0;
        for (int g = 0; g < 8; g++) {
            const uint16_t q = lrq_k_u16(x + LRQ_IQ2XS_QS + 2 * (4 * ib + g));
            idx[g] = q & 511;
            neg |= (uint64_t)lrq_iq_ksigns[q >> 9] << (8 * g);
        }
        const uint8_t sa = x[LRQ_IQ2XS_SCALES + ib], sb = x[LRQ_IQ2XS_SCALES + ib + 1];
        acc = _mm512_add_epi32(acc, pair_lanes(grid8(lrq_iq2xs_grid, idx), neg, q8,
                                               scales4(2 * (sa & 0xf) + 1, 2 * (sa >> 4) + 1, 2 * (sb & 0xf) + 1,
                                                       2 * (sb >> 4) + 1)));
    }
    return acc;
}

static inline __m512i block_iq2_s(const uint8_t *x, const int8_t *q8) {
    __m512i acc = _mm512_setzero_si512();
    for (int ib = 0; ib < 8; ib += 2, q8 += 64) {
        int idx[8];
        for (int g = 0; g < 8; g++) idx[g] = lrq_iq2s_index(x, ib + g / 4, g % 4);
        const uint64_t neg = (uint64_t)lrq_k_u32(x + LRQ_IQ2S_SIGNS + 4 * ib) |
                             (uint64_t)lrq_k_u32(x + LRQ_IQ2S_SIGNS + 4 * ib + 4) << 32;
        const uint8_t sa = x[LRQ_IQ2S_SCALES + ib], sb = x[LRQ_IQ2S_SCALES + ib + 1];
        acc = _mm512_add_epi32(acc, pair_lanes(grid8(lrq_iq2s_grid, idx), neg, q8,
                                               scales4(2 * (sa & 0xf) + 1, 2 * (sa >> 4) + 1, 2 * (sb & 0xf) + 1,
                                                       2 * (sb >> 4) + 1)));
    }
    return acc;
}

static inline __m512i block_iq3_xxs(const uint8_t *x, const int8_t *q8) {
    __m512i acc = _mm512_setzero_si512();
    for (int ib = 0; ib < 8; ib += 2, q8 += 64) {
        const __m512i idx = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(const void *)(x + LRQ_IQ3XXS_QS + 8 * ib)));
        const __m512i mag = _mm512_i32gather_epi32(idx, (const void *)lrq_iq3xxs_grid, 4);
        const uint32_t aa = lrq_k_u32(x + LRQ_IQ3XXS_SS + 4 * ib), ab = lrq_k_u32(x + LRQ_IQ3XXS_SS + 4 * ib + 4);
        const int sa = 2 * (int)(aa >> 28) + 1, sb = 2 * (int)(ab >> 28) + 1;
        acc = _mm512_add_epi32(acc, pair_lanes(mag, ksigns8(aa, ab), q8, scales4(sa, sa, sb, sb)));
    }
    return acc;
}

static inline __m512i block_iq3_s(const uint8_t *x, const int8_t *q8) {
    __m512i acc = _mm512_setzero_si512();
    for (int ib = 0; ib < 8; ib += 2, q8 += 64) {
        int idx[16];
        for (int k = 0; k < 16; k++) idx[k] = lrq_iq3s_index(x, ib + k / 8, k % 8);
        const uint64_t neg = (uint64_t)lrq_k_u32(x + LRQ_IQ3S_SIGNS + 4 * ib) |
                             (uint64_t)lrq_k_u32(x + LRQ_IQ3S_SIGNS + 4 * ib + 4) << 32;
        const uint8_t sc = x[LRQ_IQ3S_SCALES + ib / 2];
        const int sa = 2 * (sc & 0xf) + 1, sb = 2 * (sc >> 4) + 1;
        acc = _mm512_add_epi32(acc, pair_lanes(grid16(lrq_iq3s_grid, idx), neg, q8, scales4(sa, sa, sb, sb)));
    }
    return acc;
}

static inline __m512i block_iq4_xs(const uint8_t *x, const int8_t *q8) {
    const __m512i table = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(const void *)lrq_iq4nl_grid));
    const __m512i m4 = _mm512_set1_epi8(0x0f);
    __m512i acc = _mm512_setzero_si512();
    for (int ib = 0; ib < 8; ib += 2, q8 += 64) {
        /* 128-bit chunks: [a bytes, a bytes, b bytes, b bytes] -> low nibbles
         * of chunks 0, 2 and high nibbles of chunks 1, 3: values in order */
        const __m256i ab = _mm256_loadu_si256((const __m256i *)(const void *)(x + LRQ_IQ4XS_QS + 16 * ib));
        const __m512i dup = _mm512_permutexvar_epi64(_mm512_setr_epi64(0, 1, 0, 1, 2, 3, 2, 3), _mm512_castsi256_si512(ab));
        const __m512i nib = _mm512_mask_blend_epi64(0xcc, _mm512_and_si512(dup, m4),
                                                    _mm512_and_si512(_mm512_srli_epi16(dup, 4), m4));
        const __m512i v = _mm512_shuffle_epi8(table, nib);
        const __mmask64 neg = _mm512_movepi8_mask(v);
        const int sa = lrq_iq4xs_scale(x, ib) - 32, sb = lrq_iq4xs_scale(x, ib + 1) - 32;
        acc = _mm512_add_epi32(acc, pair_lanes(_mm512_abs_epi8(v), neg, q8, scales4(sa, sa, sb, sb)));
    }
    return acc;
}

#define IQ_DOT(t, SIZE, c)                                                                                 \
    void lrq_dot_##t##_avx512(int64_t n, float *s, const void *vx, const void *vy) {                       \
        LRQ_ASSERT(n % LRQ_QK_K == 0);                                                                     \
        const uint8_t *x = vx, *y = vy;                                                                    \
        __m256 acc = _mm256_setzero_ps();                                                                  \
        for (int64_t i = 0; i < n / LRQ_QK_K; i++, x += (SIZE), y += LRQ_Q8K_SIZE) {                       \
            const __m512i l16 = block_##t(x, (const int8_t *)(y + LRQ_Q8K_QS));                            \
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
