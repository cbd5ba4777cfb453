/* dot_iq_avx2.h — AVX2 (+FMA, F16C) decoding of i-quant blocks (IQ2_XXS,
 * IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S, IQ4_XS; layouts in fmt/iquant.h), shared
 * by the dot kernels (dot_iq_avx2.c) and the tile kernels (gemm_avx2.c) so
 * that both form the same integer lanes (gemm.h's bit-identity contract).
 *
 * Per block, <t>_ctx builds what is cheap to do for the whole block at once:
 * its 32 sign bytes and 16 scale bytes (iqctx). Per sub-block ib of 32
 * values, <t>_sub gives the magnitudes (u8; grid bytes loaded by scalar
 * index read straight from the block — never through a vector store and
 * narrow reloads, which stall store forwarding — or |IQ4 value|), the sign
 * byte mask, and the int16 scales; sub_lanes multiplies them with 32
 * activation codes into 8 int32 lanes, lane k = values 4k..4k+3 (the
 * reference's lanes). Only included by files compiled with -mavx2 -mfma
 * -mf16c. */
#ifndef LRQ_KERN_DOT_IQ_AVX2_H
#define LRQ_KERN_DOT_IQ_AVX2_H

#include "fmt/iquant.h"
#include "fmt/iq_grids.h"
#include "fmt/kquant.h"
#include "fmt/blocks.h"

#include <immintrin.h>

#define IQ2_LD256(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define IQ2_LD128(p) _mm_loadu_si128((const __m128i *)(const void *)(p))

typedef struct {
    __m256i signs32; /* byte G: signs of values 8G..8G+7 (bit j: value 8G + j negative) */
    __m128i sc16;    /* byte h: the integer scale of values 16h..16h+15 */
} iqctx;

/* Per block: the 32 sign bytes (byte G = signs of values 8G..8G+7, bit j
 * = value 8G + j negative) in one vector and the 16 integer scales (byte h:
 * values 16h..16h+15) in another, built with a few vector operations; per
 * sub-block ib only the expansion of its 4 sign bytes to a byte mask and the
 * pick of its 2 scales remain. */

/* 32-byte mask of sub-block ib: byte e = 0xff where bit e%8 of sign byte
 * 4 ib + e/8 is set. */
static inline __m256i sign_mask(__m256i signs32, int ib) {
    const __m256i spread = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3,
                                            3, 3, 3, 3, 3, 3, 3);
    const __m256i bits = _mm256_set1_epi64x((long long)0x8040201008040201ull);
    const __m256i four = _mm256_permutevar8x32_epi32(signs32, _mm256_set1_epi32(ib));
    return _mm256_cmpeq_epi8(_mm256_and_si256(_mm256_shuffle_epi8(four, spread), bits), bits);
}

/* int16 scales of sub-block ib: [scale 2 ib x8 | scale 2 ib + 1 x8]. */
static inline __m256i scale_pick(__m128i sc16, int ib) {
    const __m128i sel = _mm_add_epi8(_mm_set1_epi8((char)(2 * ib)), _mm_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1));
    return _mm256_cvtepi8_epi16(_mm_shuffle_epi8(sc16, sel));
}

/* The 8 int32 lanes of one sub-block: mag (u8) x signed codes x scales. */
static inline __m256i sub_lanes(__m256i mag, __m256i neg, const int8_t *q8, __m256i sc) {
    const __m256i q = IQ2_LD256(q8);
    const __m256i qs = _mm256_sub_epi8(_mm256_xor_si256(q, neg), neg);
    return _mm256_madd_epi16(_mm256_maddubs_epi16(mag, qs), sc);
}

/* Full sign bytes from 7 stored bits (0..127) in the low byte of each 16- or
 * 32-bit lane (the other bytes 0): bit 7 = parity of the 7 (lrq_iq_ksigns);
 * vpshufb looks up the parity of the low nibble of s ^ (s >> 4). */
static inline __m256i ksigns_lanes(__m256i s7) {
    const __m256i odd = _mm256_setr_epi8(0, (char)0x80, (char)0x80, 0, (char)0x80, 0, 0, (char)0x80, (char)0x80, 0, 0,
                                         (char)0x80, 0, (char)0x80, (char)0x80, 0, 0, (char)0x80, (char)0x80, 0,
                                         (char)0x80, 0, 0, (char)0x80, (char)0x80, 0, 0, (char)0x80, 0, (char)0x80,
                                         (char)0x80, 0);
    return _mm256_or_si256(s7, _mm256_shuffle_epi8(odd, _mm256_xor_si256(s7, _mm256_srli_epi16(s7, 4))));
}

/* IQ2_XXS / IQ3_XXS: from the 8 aux words (4 x 7 sign bits | ls << 28) of
 * a block, its 32 sign bytes and 16 scale bytes 2 ls + 1 (two per ls). */
static inline void aux_signs_scales(__m256i aux, __m256i *signs32, __m128i *sc16) {
    const __m256i sh = _mm256_setr_epi32(0, 7, 14, 21, 0, 7, 14, 21), m127 = _mm256_set1_epi32(127);
    __m256i d[4]; /* groups 8k..8k+7 (sub-blocks 2k, 2k+1), one per dword */
    for (int k = 0; k < 4; k++) {
        const __m256i a = _mm256_permutevar8x32_epi32(aux, _mm256_setr_epi32(2 * k, 2 * k, 2 * k, 2 * k, 2 * k + 1, 2 * k + 1, 2 * k + 1, 2 * k + 1));
        d[k] = ksigns_lanes(_mm256_and_si256(_mm256_srlv_epi32(a, sh), m127));
    }
    /* packs: dwords of bytes in order [0-3, 8-11, 16-19, 24-27 | 4-7, 12-15, 20-23, 28-31] */
    const __m256i b = _mm256_packus_epi16(_mm256_packus_epi32(d[0], d[1]), _mm256_packus_epi32(d[2], d[3]));
    *signs32 = _mm256_permutevar8x32_epi32(b, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    const __m256i ls = _mm256_add_epi32(_mm256_slli_epi32(_mm256_srli_epi32(aux, 28), 1), _mm256_set1_epi32(1));
    const __m256i lb = _mm256_packus_epi16(_mm256_packus_epi32(ls, ls), _mm256_setzero_si256()); /* bytes 0-3: ls 0-3 | 4-7 */
    const __m128i l8 = _mm_unpacklo_epi32(_mm256_castsi256_si128(lb), _mm256_extracti128_si256(lb, 1));
    *sc16 = _mm_unpacklo_epi8(l8, l8);
}

/* IQ2_XS / IQ2_S scale bytes (low nibble: values 0-15 of sub-block ib, high:
 * 16-31) as 16 bytes 2 ls + 1 in order. */
static inline __m128i scales_nib(const uint8_t *p) {
    const __m128i b = _mm_loadl_epi64((const __m128i *)(const void *)p), m4 = _mm_set1_epi8(0xf);
    const __m128i nib = _mm_unpacklo_epi8(_mm_and_si128(b, m4), _mm_and_si128(_mm_srli_epi16(b, 4), m4));
    return _mm_add_epi8(_mm_add_epi8(nib, nib), _mm_set1_epi8(1));
}

static inline __m256i grid4x64(const uint64_t *g, unsigned i0, unsigned i1, unsigned i2, unsigned i3) {
    return _mm256_set_epi64x((long long)g[i3], (long long)g[i2], (long long)g[i1], (long long)g[i0]);
}

/* Per type: iq_<t>_ctx(x, c) once per block, iq_<t>_sub(x, c, ib, &mag, &neg)
 * per sub-block; the scales of sub-block ib are scale_pick(c->sc16, ib). */
static inline void iq_iq2_xxs_ctx(const uint8_t *x, iqctx *c) {
    /* aux of sub-block ib: dword 2 ib + 1 of the 64 index/aux bytes */
    const __m256i odd = _mm256_setr_epi32(1, 3, 5, 7, 1, 3, 5, 7);
    const __m256i aux = _mm256_blend_epi32(_mm256_permutevar8x32_epi32(IQ2_LD256(x + LRQ_IQ2XXS_QS), odd),
                                           _mm256_permutevar8x32_epi32(IQ2_LD256(x + LRQ_IQ2XXS_QS + 32), odd), 0xf0);
    aux_signs_scales(aux, &c->signs32, &c->sc16);
}
static inline void iq_iq2_xxs_sub(const uint8_t *x, const iqctx *c, int ib, __m256i *mag, __m256i *neg) {
    const uint8_t *q = x + LRQ_IQ2XXS_QS + 8 * ib;
    *mag = grid4x64(lrq_iq2xxs_grid, q[0], q[1], q[2], q[3]);
    *neg = sign_mask(c->signs32, ib);
}

static inline void iq_iq2_xs_ctx(const uint8_t *x, iqctx *c) {
    const __m256i q0 = IQ2_LD256(x + LRQ_IQ2XS_QS), q1 = IQ2_LD256(x + LRQ_IQ2XS_QS + 32);
    /* packus: [0-7, 16-23 | 8-15, 24-31] -> qword order 0, 2, 1, 3 */
    const __m256i b = _mm256_packus_epi16(ksigns_lanes(_mm256_srli_epi16(q0, 9)), ksigns_lanes(_mm256_srli_epi16(q1, 9)));
    c->signs32 = _mm256_permute4x64_epi64(b, 0xd8);
    c->sc16 = scales_nib(x + LRQ_IQ2XS_SCALES);
}
static inline void iq_iq2_xs_sub(const uint8_t *x, const iqctx *c, int ib, __m256i *mag, __m256i *neg) {
    const uint8_t *p = x + LRQ_IQ2XS_QS + 8 * ib;
    *mag = grid4x64(lrq_iq2xs_grid, lrq_k_u16(p) & 511, lrq_k_u16(p + 2) & 511, lrq_k_u16(p + 4) & 511, lrq_k_u16(p + 6) & 511);
    *neg = sign_mask(c->signs32, ib);
}

static inline void iq_iq2_s_ctx(const uint8_t *x, iqctx *c) {
    c->signs32 = IQ2_LD256(x + LRQ_IQ2S_SIGNS);
    c->sc16 = scales_nib(x + LRQ_IQ2S_SCALES);
}
static inline void iq_iq2_s_sub(const uint8_t *x, const iqctx *c, int ib, __m256i *mag, __m256i *neg) {
    const uint8_t *p = x + LRQ_IQ2S_QS + 4 * ib;
    const unsigned h = x[LRQ_IQ2S_QH + ib];
    *mag = grid4x64(lrq_iq2s_grid, p[0] | (h << 8 & 0x300), p[1] | (h << 6 & 0x300), p[2] | (h << 4 & 0x300),
                    p[3] | (h << 2 & 0x300));
    *neg = sign_mask(c->signs32, ib);
}

static inline void iq_iq3_xxs_ctx(const uint8_t *x, iqctx *c) {
    aux_signs_scales(IQ2_LD256(x + LRQ_IQ3XXS_SS), &c->signs32, &c->sc16);
}
static inline void iq_iq3_xxs_sub(const uint8_t *x, const iqctx *c, int ib, __m256i *mag, __m256i *neg) {
    const uint8_t *q = x + LRQ_IQ3XXS_QS + 8 * ib;
    *mag = _mm256_setr_epi32((int)lrq_iq3xxs_grid[q[0]], (int)lrq_iq3xxs_grid[q[1]], (int)lrq_iq3xxs_grid[q[2]],
                             (int)lrq_iq3xxs_grid[q[3]], (int)lrq_iq3xxs_grid[q[4]], (int)lrq_iq3xxs_grid[q[5]],
                             (int)lrq_iq3xxs_grid[q[6]], (int)lrq_iq3xxs_grid[q[7]]);
    *neg = sign_mask(c->signs32, ib);
}

static inline void iq_iq3_s_ctx(const uint8_t *x, iqctx *c) {
    c->signs32 = IQ2_LD256(x + LRQ_IQ3S_SIGNS);
    /* ls of sub-block ib: nibble ib % 2 of byte ib / 2; bytes 2 ls + 1, two per ls */
    const __m128i b = _mm_cvtsi32_si128((int)lrq_k_u32(x + LRQ_IQ3S_SCALES)), m4 = _mm_set1_epi8(0xf);
    const __m128i nib = _mm_unpacklo_epi8(_mm_and_si128(b, m4), _mm_and_si128(_mm_srli_epi16(b, 4), m4));
    const __m128i ls = _mm_add_epi8(_mm_add_epi8(nib, nib), _mm_set1_epi8(1));
    c->sc16 = _mm_unpacklo_epi8(ls, ls);
}
static inline void iq_iq3_s_sub(const uint8_t *x, const iqctx *c, int ib, __m256i *mag, __m256i *neg) {
    const uint8_t *p = x + LRQ_IQ3S_QS + 8 * ib;
    const unsigned h = x[LRQ_IQ3S_QH + ib];
#define G3(k) (int)lrq_iq3s_grid[p[k] | ((h >> (k)) & 1) << 8]
    *mag = _mm256_setr_epi32(G3(0), G3(1), G3(2), G3(3), G3(4), G3(5), G3(6), G3(7));
#undef G3
    *neg = sign_mask(c->signs32, ib);
}

/* IQ4_XS: no sign bytes (the table values carry the sign); scales ls - 32. */
static inline void iq_iq4_xs_ctx(const uint8_t *x, iqctx *c) {
    int8_t s[16];
    for (int ib = 0; ib < 8; ib++) s[2 * ib] = s[2 * ib + 1] = (int8_t)(lrq_iq4xs_scale(x, ib) - 32);
    c->signs32 = _mm256_setzero_si256();
    c->sc16 = IQ2_LD128(s);
}
static inline void iq_iq4_xs_sub(const uint8_t *x, const iqctx *c, int ib, __m256i *mag, __m256i *neg) {
    (void)c;
    const __m128i table = IQ2_LD128(lrq_iq4nl_grid), m4 = _mm_set1_epi8(0x0f);
    const __m128i b = IQ2_LD128(x + LRQ_IQ4XS_QS + 16 * ib);
    const __m256i v = _mm256_set_m128i(_mm_shuffle_epi8(table, _mm_and_si128(_mm_srli_epi16(b, 4), m4)),
                                       _mm_shuffle_epi8(table, _mm_and_si128(b, m4)));
    *mag = _mm256_abs_epi8(v);
    *neg = _mm256_cmpgt_epi8(_mm256_setzero_si256(), v);
}

#endif
