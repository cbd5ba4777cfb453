/* dot_iq_avx2.c — AVX2+FMA+F16C dot products of i-quant rows (IQ2_XXS,
 * IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S, IQ4_XS) with Q8_K rows, bit-identical to
 * the scalar specification in dot_iq_ref.c (its header gives the order).
 *
 * One sub-block of 32 values at a time: the 32 weight magnitudes (grid
 * bytes, gathered by index; IQ4_XS: |table value|) as unsigned bytes, the
 * signs as a byte mask applied to the activation codes by 8-bit negation
 * ((q ^ m) - m, which keeps -128 at -128 as the reference says), maddubs to
 * 16 int16 pair sums (no saturation: magnitudes <= 127, codes <= 128 in
 * magnitude, so |pair| <= 32512), madd with the int16 scales to 8 int32
 * lanes — lane k = values 4k..4k+3 of every sub-block, the reference's lanes.
 * Then the reference's fma per block and lane, and its final reduction.
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

#define LOAD256(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define LOAD128(p) _mm_loadu_si128((const __m128i *)(const void *)(p))

/* ((a0+a4)+(a2+a6)) + ((a1+a5)+(a3+a7)), as the reference's k_hsum8. */
static inline float hsum8_ps(__m256 a) {
    __m128 r = _mm_add_ps(_mm256_extractf128_ps(a, 1), _mm256_castps256_ps128(a));
    r = _mm_add_ps(r, _mm_movehl_ps(r, r));
    r = _mm_add_ss(r, _mm_movehdup_ps(r));
    return _mm_cvtss_f32(r);
}

static inline float f16_at(const uint8_t *p) { return _cvtsh_ss(lrq_k_u16(p)); }

/* 32-byte mask, byte e = 0xff where bit e%8 of sign byte e/8 is set; the four
 * sign bytes packed little-endian in s4. */
static inline __m256i sign_mask(uint32_t s4) {
    const __m256i spread = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3,
                                            3, 3, 3, 3, 3, 3, 3);
    const __m256i bits = _mm256_set1_epi64x((long long)0x8040201008040201ull);
    const __m256i b = _mm256_and_si256(_mm256_shuffle_epi8(_mm256_set1_epi32((int)s4), spread), bits);
    return _mm256_cmpeq_epi8(b, bits);
}

/* The 8 int32 lanes of one sub-block: mag (u8) x signed codes x scales
 * (int16 per pair of values: [s_lo x8 | s_hi x8]). */
static inline __m256i sub_lanes(__m256i mag, __m256i neg, const int8_t *q8, __m256i sc) {
    const __m256i q = LOAD256(q8);
    const __m256i qs = _mm256_sub_epi8(_mm256_xor_si256(q, neg), neg);
    return _mm256_madd_epi16(_mm256_maddubs_epi16(mag, qs), sc);
}

static inline __m256i scale_pair(int lo, int hi) {
    return _mm256_set_m128i(_mm_set1_epi16((short)hi), _mm_set1_epi16((short)lo));
}

static inline uint32_t ksigns4(uint32_t aux) {
    return (uint32_t)lrq_iq_ksigns[aux & 127] | (uint32_t)lrq_iq_ksigns[(aux >> 7) & 127] << 8 |
           (uint32_t)lrq_iq_ksigns[(aux >> 14) & 127] << 16 | (uint32_t)lrq_iq_ksigns[(aux >> 21) & 127] << 24;
}

/* Per-type: the summed lanes of one block. */
static inline __m256i block_iq2_xxs(const uint8_t *x, const int8_t *q8) {
    __m256i acc = _mm256_setzero_si256();
    for (int ib = 0; ib < 8; ib++) {
        const uint8_t *q = x + LRQ_IQ2XXS_QS + 8 * ib;
        const uint32_t aux = lrq_k_u32(q + 4);
        const __m256i mag = _mm256_set_epi64x((long long)lrq_iq2xxs_grid[q[3]], (long long)lrq_iq2xxs_grid[q[2]],
                                              (long long)lrq_iq2xxs_grid[q[1]], (long long)lrq_iq2xxs_grid[q[0]]);
        const int s = 2 * (int)(aux >> 28) + 1;
        acc = _mm256_add_epi32(acc, sub_lanes(mag, sign_mask(ksigns4(aux)), q8 + 32 * ib, _mm256_set1_epi16((short)s)));
    }
    return acc;
}

static inline __m256i block_iq2_xs(const uint8_t *x, const int8_t *q8) {
    __m256i acc = _mm256_setzero_si256();
    for (int ib = 0; ib < 8; ib++) {
        uint16_t q[4];
        for (int l = 0; l < 4; l++) q[l] = lrq_k_u16(x + LRQ_IQ2XS_QS + 2 * (4 * ib + l));
        const __m256i mag = _mm256_set_epi64x((long long)lrq_iq2xs_grid[q[3] & 511], (long long)lrq_iq2xs_grid[q[2] & 511],
                                              (long long)lrq_iq2xs_grid[q[1] & 511], (long long)lrq_iq2xs_grid[q[0] & 511]);
        const uint32_t s4 = (uint32_t)lrq_iq_ksigns[q[0] >> 9] | (uint32_t)lrq_iq_ksigns[q[1] >> 9] << 8 |
                            (uint32_t)lrq_iq_ksigns[q[2] >> 9] << 16 | (uint32_t)lrq_iq_ksigns[q[3] >> 9] << 24;
        const uint8_t sc = x[LRQ_IQ2XS_SCALES + ib];
        acc = _mm256_add_epi32(acc, sub_lanes(mag, sign_mask(s4), q8 + 32 * ib, scale_pair(2 * (sc & 0xf) + 1, 2 * (sc >> 4) + 1)));
    }
    return acc;
}

static inline __m256i block_iq2_s(const uint8_t *x, const int8_t *q8) {
    __m256i acc = _mm256_setzero_si256();
    for (int ib = 0; ib < 8; ib++) {
        const __m256i mag = _mm256_set_epi64x(
            (long long)lrq_iq2s_grid[lrq_iq2s_index(x, ib, 3)], (long long)lrq_iq2s_grid[lrq_iq2s_index(x, ib, 2)],
            (long long)lrq_iq2s_grid[lrq_iq2s_index(x, ib, 1)], (long long)lrq_iq2s_grid[lrq_iq2s_index(x, ib, 0)]);
        const uint8_t sc = x[LRQ_IQ2S_SCALES + ib];
        acc = _mm256_add_epi32(acc, sub_lanes(mag, sign_mask(lrq_k_u32(x + LRQ_IQ2S_SIGNS + 4 * ib)), q8 + 32 * ib,
                                              scale_pair(2 * (sc & 0xf) + 1, 2 * (sc >> 4) + 1)));
    }
    return acc;
}

static inline __m256i block_iq3_xxs(const uint8_t *x, const int8_t *q8) {
    __m256i acc = _mm256_setzero_si256();
    for (int ib = 0; ib < 8; ib++) {
        const uint8_t *q = x + LRQ_IQ3XXS_QS + 8 * ib;
        const uint32_t aux = lrq_k_u32(x + LRQ_IQ3XXS_SS + 4 * ib);
        const __m256i mag = _mm256_setr_epi32((int)lrq_iq3xxs_grid[q[0]], (int)lrq_iq3xxs_grid[q[1]],
                                              (int)lrq_iq3xxs_grid[q[2]], (int)lrq_iq3xxs_grid[q[3]],
                                              (int)lrq_iq3xxs_grid[q[4]], (int)lrq_iq3xxs_grid[q[5]],
                                              (int)lrq_iq3xxs_grid[q[6]], (int)lrq_iq3xxs_grid[q[7]]);
        const int s = 2 * (int)(aux >> 28) + 1;
        acc = _mm256_add_epi32(acc, sub_lanes(mag, sign_mask(ksigns4(aux)), q8 + 32 * ib, _mm256_set1_epi16((short)s)));
    }
    return acc;
}

static inline __m256i block_iq3_s(const uint8_t *x, const int8_t *q8) {
    __m256i acc = _mm256_setzero_si256();
    for (int ib = 0; ib < 8; ib++) {
        int g[8];
        for (int k = 0; k < 8; k++) g[k] = (int)lrq_iq3s_grid[lrq_iq3s_index(x, ib, k)];
        const __m256i mag = _mm256_setr_epi32(g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7]);
        const int ls = (x[LRQ_IQ3S_SCALES + ib / 2] >> (4 * (ib % 2))) & 0xf;
        acc = _mm256_add_epi32(acc, sub_lanes(mag, sign_mask(lrq_k_u32(x + LRQ_IQ3S_SIGNS + 4 * ib)), q8 + 32 * ib,
                                              _mm256_set1_epi16((short)(2 * ls + 1))));
    }
    return acc;
}

static inline __m256i block_iq4_xs(const uint8_t *x, const int8_t *q8) {
    const __m128i table = LOAD128(lrq_iq4nl_grid);
    const __m128i m4 = _mm_set1_epi8(0x0f);
    __m256i acc = _mm256_setzero_si256();
    for (int ib = 0; ib < 8; ib++) {
        const __m128i b = LOAD128(x + LRQ_IQ4XS_QS + 16 * ib);
        const __m256i v = _mm256_set_m128i(_mm_shuffle_epi8(table, _mm_and_si128(_mm_srli_epi16(b, 4), m4)),
                                           _mm_shuffle_epi8(table, _mm_and_si128(b, m4)));
        /* |v| times the code negated where v < 0 (8-bit negation; v is never 0) */
        const __m256i qs = _mm256_sign_epi8(LOAD256(q8 + 32 * ib), v);
        const __m256i p = _mm256_maddubs_epi16(_mm256_abs_epi8(v), qs);
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p, _mm256_set1_epi16((short)(lrq_iq4xs_scale(x, ib) - 32))));
    }
    return acc;
}

#define IQ_DOT(t, SIZE, c)                                                                                 \
    void lrq_dot_##t##_avx2(int64_t n, float *s, const void *vx, const void *vy) {                         \
        LRQ_ASSERT(n % LRQ_QK_K == 0);                                                                     \
        const uint8_t *x = vx, *y = vy;                                                                    \
        __m256 acc = _mm256_setzero_ps();                                                                  \
        for (int64_t i = 0; i < n / LRQ_QK_K; i++, x += (SIZE), y += LRQ_Q8K_SIZE) {                       \
            const __m256i lanes = block_##t(x, (const int8_t *)(y + LRQ_Q8K_QS));                          \
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
