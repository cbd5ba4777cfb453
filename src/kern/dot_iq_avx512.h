/* dot_iq_avx512.h — AVX-512 (F/BW/VL/DQ/VNNI) decoding of one i-quant
 * block (IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S, IQ4_XS; layouts in
 * fmt/iquant.h) into the form both the dot kernels (dot_iq_avx512.c) and
 * the tile kernels (gemm_iq_avx512.c) multiply with Q8_K codes, so the two
 * compute the same integer lanes and stay bit-identical (gemm.h).
 *
 * A decoded block (iqrow) holds, per group g of 64 values (64g..64g+63):
 *  v[g]   the 64 weight magnitudes as unsigned bytes (grid bytes, |IQ4 value|);
 *  neg[g] the signs as a 64-bit mask, bit e = value 64g + e negative — the
 *         i-quant sign bytes are exactly this mask, 8 values per byte, so the
 *         2-bit-sign formats need no expansion at all, and the 7-bit ones
 *         (IQ2_XXS, IQ2_XS, IQ3_XXS) only their parity bit, computed with
 *         one vpshufb of a 16-entry parity table per 32 groups instead of
 *         32 scalar lrq_iq_ksigns lookups;
 *  s[g]   the integer scale of each int16 lane (values 2i, 2i+1 of the group).
 * Grid points: the 8-byte ones (IQ2_*) and IQ3_XXS's are loaded one by one
 * from scalar indices read straight from the block (measured faster here,
 * an AMD Zen 4, than vpgather; indices must not go through a vector store
 * and narrow reloads, which stall store forwarding), IQ3_S's 9-bit indices
 * are formed in vectors and gathered (faster for it). Scales: one vpermw
 * per group.
 *
 * iqrow_dot: the signs go onto the activation codes as a masked 8-bit
 * negation 0 - q (keeps -128 at -128, as dot_iq_ref.c specifies), maddubs
 * gives int16 pair sums (no saturation: |mag| <= 127, so |pair| <= 32512)
 * and vpdpwssd multiplies them by the scales into 16 int32 lanes, lane j =
 * values 4j..4j+3 of each group: lanes j and j + 8 of the result are the
 * reference's lane j (values with (e % 32) / 4 == j). All integer sums are
 * exact, so only which values land in which lane matters.
 *
 * Only included by files compiled with the AVX-512 flags above. */
#ifndef LRQ_KERN_DOT_IQ_AVX512_H
#define LRQ_KERN_DOT_IQ_AVX512_H

#include "fmt/iquant.h"
#include "fmt/iq_grids.h"
#include "fmt/kquant.h"
#include "fmt/blocks.h"

#include <immintrin.h>

#define IQ_LD512(p) _mm512_loadu_si512((const void *)(p))
#define IQ_LD256(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define IQ_LD128(p) _mm_loadu_si128((const __m128i *)(const void *)(p))

typedef struct {
    __m512i v[4], s[4];
    __mmask64 neg[4];
} iqrow;

/* The integer lanes of a decoded block times the 256 activation codes q8. */
static inline __m512i iqrow_dot(const iqrow *k, const int8_t *q8) {
    __m512i is = _mm512_setzero_si512();
    for (int g = 0; g < 4; g++) {
        const __m512i q = IQ_LD512(q8 + 64 * g);
        const __m512i qs = _mm512_mask_sub_epi8(q, k->neg[g], _mm512_setzero_si512(), q);
        is = _mm512_dpwssd_epi32(is, _mm512_maddubs_epi16(k->v[g], qs), k->s[g]);
    }
    return is;
}

/* Full 8-bit sign bytes from 7 stored bits per 16-bit lane (0..127): bit 7
 * is the parity of the 7 (lrq_iq_ksigns). p = s ^ (s >> 4) has the parity
 * of s in its low nibble; bits 4..6 are ignored by vpshufb and bit 7 is 0. */
static inline __m512i iq_ksigns16(__m512i s7) {
    const __m512i odd = _mm512_broadcast_i32x4(_mm_setr_epi8(0, (char)0x80, (char)0x80, 0, (char)0x80, 0, 0, (char)0x80,
                                                             (char)0x80, 0, 0, (char)0x80, 0, (char)0x80, (char)0x80, 0));
    return _mm512_or_si512(s7, _mm512_shuffle_epi8(odd, _mm512_xor_si512(s7, _mm512_srli_epi16(s7, 4))));
}

/* The four 64-bit masks of 32 sign bytes (byte G = group of 8 values G). */
static inline void iq_neg_masks(__mmask64 neg[4], __m256i sb) {
    const __m128i lo = _mm256_castsi256_si128(sb), hi = _mm256_extracti128_si256(sb, 1);
    neg[0] = _cvtu64_mask64((uint64_t)_mm_cvtsi128_si64(lo));
    neg[1] = _cvtu64_mask64((uint64_t)_mm_extract_epi64(lo, 1));
    neg[2] = _cvtu64_mask64((uint64_t)_mm_cvtsi128_si64(hi));
    neg[3] = _cvtu64_mask64((uint64_t)_mm_extract_epi64(hi, 1));
}
static inline void iq_neg_masks_at(__mmask64 neg[4], const uint8_t *p) {
    for (int g = 0; g < 4; g++) neg[g] = _cvtu64_mask64((uint64_t)lrq_k_u32(p + 8 * g) | (uint64_t)lrq_k_u32(p + 8 * g + 4) << 32);
}

/* 16 scales per block, one per 16 values (int16 h = 0..15 in sc): lane i of
 * group g takes scale 4g + i/8. */
static inline void iq_scales16(__m512i s[4], __m512i sc) {
    const __m512i base = _mm512_srli_epi16(
        _mm512_setr_epi32(0x00010000, 0x00030002, 0x00050004, 0x00070006, 0x00090008, 0x000b000a, 0x000d000c,
                          0x000f000e, 0x00110010, 0x00130012, 0x00150014, 0x00170016, 0x00190018, 0x001b001a,
                          0x001d001c, 0x001f001e),
        3);
    for (int g = 0; g < 4; g++) s[g] = _mm512_permutexvar_epi16(_mm512_add_epi16(base, _mm512_set1_epi16((short)(4 * g))), sc);
}
/* 8 scales per block, one per sub-block of 32, in the even int16 lanes of
 * sc (int32 ib = scale of sub-block ib): lane i of group g takes 2g + i/16. */
static inline void iq_scales8x32(__m512i s[4], __m512i sc) {
    const __m512i half = _mm512_mask_blend_epi16(0xffff0000u, _mm512_setzero_si512(), _mm512_set1_epi16(2));
    for (int g = 0; g < 4; g++) s[g] = _mm512_permutexvar_epi16(_mm512_add_epi16(half, _mm512_set1_epi16((short)(4 * g))), sc);
}

/* IQ2_XS / IQ2_S scale bytes (low nibble: values 0-15 of sub-block ib,
 * high: 16-31) as 16 odd int16 scales 2 ls + 1 in order. */
static inline __m512i iq2_scales_nib(const uint8_t *p) {
    const __m128i b = _mm_loadl_epi64((const __m128i *)(const void *)p), m4 = _mm_set1_epi8(0xf);
    const __m128i nib = _mm_unpacklo_epi8(_mm_and_si128(b, m4), _mm_and_si128(_mm_srli_epi16(b, 4), m4));
    const __m128i odd = _mm_add_epi8(_mm_add_epi8(nib, nib), _mm_set1_epi8(1));
    return _mm512_castsi256_si512(_mm256_cvtepu8_epi16(odd));
}

/* Grid points from scalar indices: two into an xmm, four xmm into a zmm.
 * iq_grid8s reads 8 u16 index fields at p (masked by m) itself. */
static inline __m128i iq_pair64(const uint64_t *grid, unsigned i0, unsigned i1) {
    return _mm_insert_epi64(_mm_cvtsi64_si128((long long)grid[i0]), (long long)grid[i1], 1);
}
static inline __m512i iq_grid8s(const uint64_t *grid, const uint8_t *p, unsigned m) {
#define IX(j) (lrq_k_u16(p + 2 * (j)) & m)
    const __m256i lo = _mm256_inserti128_si256(_mm256_castsi128_si256(iq_pair64(grid, IX(0), IX(1))), iq_pair64(grid, IX(2), IX(3)), 1);
    const __m256i hi = _mm256_inserti128_si256(_mm256_castsi128_si256(iq_pair64(grid, IX(4), IX(5))), iq_pair64(grid, IX(6), IX(7)), 1);
#undef IX
    return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

/* 8 grid points (uint64) of indices ix[0..7]; 16 (uint32) of ix[0..15]. */
static inline __m512i iq_grid8i(const uint64_t *grid, const unsigned ix[8]) {
    const __m256i lo = _mm256_inserti128_si256(_mm256_castsi128_si256(iq_pair64(grid, ix[0], ix[1])), iq_pair64(grid, ix[2], ix[3]), 1);
    const __m256i hi = _mm256_inserti128_si256(_mm256_castsi128_si256(iq_pair64(grid, ix[4], ix[5])), iq_pair64(grid, ix[6], ix[7]), 1);
    return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}
static inline __m128i iq_quad32(const uint32_t *grid, const unsigned ix[4]) {
    return _mm_setr_epi32((int)grid[ix[0]], (int)grid[ix[1]], (int)grid[ix[2]], (int)grid[ix[3]]);
}
static inline __m512i iq_grid16i(const uint32_t *grid, const unsigned ix[16]) {
    const __m256i lo = _mm256_inserti128_si256(_mm256_castsi128_si256(iq_quad32(grid, ix)), iq_quad32(grid, ix + 4), 1);
    const __m256i hi = _mm256_inserti128_si256(_mm256_castsi128_si256(iq_quad32(grid, ix + 8)), iq_quad32(grid, ix + 12), 1);
    return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

/* IQ2_XXS: 8 x (4 index bytes, u32 aux = 4 x 7 sign bits | ls << 28). */
static inline void iq2_xxs_row(iqrow *k, const uint8_t *x) {
    const __m512i q = IQ_LD512(x + LRQ_IQ2XXS_QS);
    for (int g = 0; g < 4; g++) {
        const uint8_t *p = x + LRQ_IQ2XXS_QS + 16 * g;
        const unsigned ix[8] = {p[0], p[1], p[2], p[3], p[8], p[9], p[10], p[11]};
        k->v[g] = iq_grid8i(lrq_iq2xxs_grid, ix);
    }
    /* aux of sub-block ib = dword 2 ib + 1; group G = 4 ib + l: bits 7l.. */
    const __m512i sh = _mm512_setr_epi32(0, 7, 14, 21, 0, 7, 14, 21, 0, 7, 14, 21, 0, 7, 14, 21);
    const __m512i m127 = _mm512_set1_epi32(127);
    const __m512i a0 = _mm512_permutexvar_epi32(_mm512_setr_epi32(1, 1, 1, 1, 3, 3, 3, 3, 5, 5, 5, 5, 7, 7, 7, 7), q);
    const __m512i a1 = _mm512_permutexvar_epi32(_mm512_setr_epi32(9, 9, 9, 9, 11, 11, 11, 11, 13, 13, 13, 13, 15, 15, 15, 15), q);
    const __m512i s7 = _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtepi32_epi16(_mm512_and_si512(_mm512_srlv_epi32(a0, sh), m127))),
                                          _mm512_cvtepi32_epi16(_mm512_and_si512(_mm512_srlv_epi32(a1, sh), m127)), 1);
    iq_neg_masks(k->neg, _mm512_cvtepi16_epi8(iq_ksigns16(s7)));
    const __m512i aux = _mm512_permutexvar_epi32(_mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 1, 3, 5, 7, 9, 11, 13, 15), q);
    iq_scales8x32(k->s, _mm512_add_epi32(_mm512_slli_epi32(_mm512_srli_epi32(aux, 28), 1), _mm512_set1_epi32(1)));
}

/* IQ2_XS: 32 x u16 (9-bit index | 7 sign bits << 9), 8 scale bytes. */
static inline void iq2_xs_row(iqrow *k, const uint8_t *x) {
    const __m512i q = IQ_LD512(x + LRQ_IQ2XS_QS);
    for (int g = 0; g < 4; g++) k->v[g] = iq_grid8s(lrq_iq2xs_grid, x + LRQ_IQ2XS_QS + 16 * g, 511);
    iq_neg_masks(k->neg, _mm512_cvtepi16_epi8(iq_ksigns16(_mm512_srli_epi16(q, 9))));
    iq_scales16(k->s, iq2_scales_nib(x + LRQ_IQ2XS_SCALES));
}

/* IQ2_S: index = qs byte | 2 bits of qh[ib] (group l: bits 2l, 2l+1) << 8;
 * 8-bit signs stored as such. */
static inline void iq2_s_row(iqrow *k, const uint8_t *x) {
    for (int g = 0; g < 4; g++) {
        /* groups j = 0..7 of sub-blocks 2g, 2g+1: high bits 2j, 2j+1 of qh[2g] | qh[2g+1] << 8 */
        const uint8_t *p = x + LRQ_IQ2S_QS + 8 * g;
        const unsigned h = lrq_k_u16(x + LRQ_IQ2S_QH + 2 * g);
#define IX(j) (p[j] | ((h >> (2 * (j))) & 3) << 8)
        const unsigned ix[8] = {IX(0), IX(1), IX(2), IX(3), IX(4), IX(5), IX(6), IX(7)};
#undef IX
        k->v[g] = iq_grid8i(lrq_iq2s_grid, ix);
    }
    iq_neg_masks_at(k->neg, x + LRQ_IQ2S_SIGNS);
    iq_scales16(k->s, iq2_scales_nib(x + LRQ_IQ2S_SCALES));
}

/* 16 grid points (uint32) of 16 indices. */
static inline __m512i iq_gather16(const uint32_t *grid, __m512i idx) {
    return _mm512_i32gather_epi32(idx, (const void *)grid, 4);
}

/* IQ3_XXS: 64 index bytes, then 8 x u32 aux (as IQ2_XXS). */
static inline void iq3_xxs_row(iqrow *k, const uint8_t *x) {
    for (int g = 0; g < 4; g++) {
        const uint8_t *p = x + LRQ_IQ3XXS_QS + 16 * g;
        const unsigned ix[16] = {p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7],
                                 p[8], p[9], p[10], p[11], p[12], p[13], p[14], p[15]};
        k->v[g] = iq_grid16i(lrq_iq3xxs_grid, ix);
    }
    const __m512i aux = _mm512_castsi256_si512(IQ_LD256(x + LRQ_IQ3XXS_SS));
    const __m512i sh = _mm512_setr_epi32(0, 7, 14, 21, 0, 7, 14, 21, 0, 7, 14, 21, 0, 7, 14, 21);
    const __m512i m127 = _mm512_set1_epi32(127);
    const __m512i a0 = _mm512_permutexvar_epi32(_mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3), aux);
    const __m512i a1 = _mm512_permutexvar_epi32(_mm512_setr_epi32(4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7), aux);
    const __m512i s7 = _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtepi32_epi16(_mm512_and_si512(_mm512_srlv_epi32(a0, sh), m127))),
                                          _mm512_cvtepi32_epi16(_mm512_and_si512(_mm512_srlv_epi32(a1, sh), m127)), 1);
    iq_neg_masks(k->neg, _mm512_cvtepi16_epi8(iq_ksigns16(s7)));
    iq_scales8x32(k->s, _mm512_add_epi32(_mm512_slli_epi32(_mm512_srli_epi32(aux, 28), 1), _mm512_set1_epi32(1)));
}

/* IQ3_S: index = qs byte | bit k of qh[ib] << 8 (point k of sub-block ib). */
static inline void iq3_s_row(iqrow *k, const uint8_t *x) {
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    for (int g = 0; g < 4; g++) {
        /* points of sub-blocks 2g, 2g+1: lane i takes bit i of qh[2g] | qh[2g+1] << 8 */
        const __m512i qh = _mm512_set1_epi32((int)lrq_k_u16(x + LRQ_IQ3S_QH + 2 * g));
        const __m512i hi = _mm512_slli_epi32(_mm512_and_si512(_mm512_srlv_epi32(qh, lane), _mm512_set1_epi32(1)), 8);
        k->v[g] = iq_gather16(lrq_iq3s_grid, _mm512_or_si512(_mm512_cvtepu8_epi32(IQ_LD128(x + LRQ_IQ3S_QS + 16 * g)), hi));
    }
    iq_neg_masks_at(k->neg, x + LRQ_IQ3S_SIGNS);
    /* ls of sub-block ib: nibble ib % 2 of byte ib / 2; as int32 2 ls + 1 */
    const __m512i sc = _mm512_set1_epi32((int)lrq_k_u32(x + LRQ_IQ3S_SCALES));
    const __m512i nib = _mm512_and_si512(_mm512_srlv_epi32(sc, _mm512_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28, 0, 4, 8, 12, 16, 20, 24, 28)),
                                         _mm512_set1_epi32(0xf));
    iq_scales8x32(k->s, _mm512_add_epi32(_mm512_add_epi32(nib, nib), _mm512_set1_epi32(1)));
}

/* IQ4_XS: 4-bit indices into lrq_iq4nl_grid (16 bytes per sub-block: value j
 * in the low nibble of byte j, j + 16 in the high one), 6-bit scales - 32. */
static inline void iq4_xs_row(iqrow *k, const uint8_t *x) {
    const __m512i table = _mm512_broadcast_i32x4(IQ_LD128(lrq_iq4nl_grid));
    const __m512i m4 = _mm512_set1_epi8(0x0f);
    for (int g = 0; g < 4; g++) {
        /* 128-bit chunks [a, a, b, b] of sub-blocks a = 2g, b = 2g + 1: low
         * nibbles in chunks 0, 2, high nibbles in 1, 3 — values in order */
        const __m256i ab = IQ_LD256(x + LRQ_IQ4XS_QS + 32 * g);
        const __m512i dup = _mm512_permutexvar_epi64(_mm512_setr_epi64(0, 1, 0, 1, 2, 3, 2, 3), _mm512_castsi256_si512(ab));
        const __m512i nib = _mm512_mask_blend_epi64(0xcc, _mm512_and_si512(dup, m4), _mm512_and_si512(_mm512_srli_epi16(dup, 4), m4));
        const __m512i v = _mm512_shuffle_epi8(table, nib);
        k->neg[g] = _mm512_movepi8_mask(v);
        k->v[g] = _mm512_abs_epi8(v);
    }
    /* scale of sub-block ib: nibble ib % 2 of scales_l byte ib / 2, bits
     * 2 ib, 2 ib + 1 of scales_h as bits 4, 5 */
    const __m512i sh8 = _mm512_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28, 0, 4, 8, 12, 16, 20, 24, 28);
    const __m512i lo = _mm512_and_si512(_mm512_srlv_epi32(_mm512_set1_epi32((int)lrq_k_u32(x + LRQ_IQ4XS_SL)), sh8), _mm512_set1_epi32(0xf));
    const __m512i hi = _mm512_and_si512(_mm512_srlv_epi32(_mm512_set1_epi32((int)lrq_k_u16(x + LRQ_IQ4XS_SH)), _mm512_srli_epi32(sh8, 1)),
                                        _mm512_set1_epi32(3));
    iq_scales8x32(k->s, _mm512_sub_epi32(_mm512_or_si512(lo, _mm512_slli_epi32(hi, 4)), _mm512_set1_epi32(32)));
}

#endif
