/* dot_k_avx512.c — AVX-512 (F/BW/VL/DQ/VNNI) dot products of k-quant rows
 * with Q8_K rows, bit-identical to the scalar specification in dot_k_ref.c.
 *
 * Integer part: 64 codes at a time; maddubs (u8 codes x s8 activations ->
 * i16 pairs, no saturation possible: codes <= 63, |act| <= 128) followed by
 * vpdpwssd, which multiplies the pairs by the sub-block scales and adds them
 * into i32 lanes. Each 256-bit half of a vector always holds one aligned run
 * of 32 consecutive values, so adding the two halves gives exactly the lane
 * sums of llama.cpp's AVX2 kernels (lane k = values with (e % 32) / 4 == k);
 * integer addition being exact, only that partition matters. Float part: the
 * same fma chains as the reference.
 *
 * Inputs: n % 256 == 0; x and y need no particular alignment.
 */
#include "fmt/impl.h"
#include "kern/dots.h"
#include "fmt/kquant.h"
#include "fmt/types.h"

#include <immintrin.h>
#include <math.h>

#define LOAD512(p) _mm512_loadu_si512((const void *)(p))
#define LOAD256(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define LOAD128(p) _mm_loadu_si128((const __m128i *)(const void *)(p))
/* 32 bytes at p in both halves */
#define BCAST256(p) _mm512_broadcast_i64x4(LOAD256(p))

static const int16_t k_iota[32] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
                                   16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31};

static inline float hsum8_ps(__m256 a) {
    __m128 r = _mm_add_ps(_mm256_extractf128_ps(a, 1), _mm256_castps256_ps128(a));
    r = _mm_add_ps(r, _mm_movehl_ps(r, r));
    r = _mm_add_ss(r, _mm_movehdup_ps(r));
    return _mm_cvtss_f32(r);
}

static inline __m256i fold512(__m512i z) {
    return _mm256_add_epi32(_mm512_castsi512_si256(z), _mm512_extracti64x4_epi64(z, 1));
}

/* [sum of the lanes of s, sum of the lanes of m] as floats. */
static inline __m128 hsum_pair_epi32(__m256i s, __m256i m) {
    __m256i r = _mm256_hadd_epi32(s, m);
    __m128i q = _mm_add_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
    q = _mm_hadd_epi32(q, q);
    return _mm_cvtepi32_ps(q);
}

/* fp16 at p -> float with F16C (exact, like lrq_f16_to_f32 but branch-free). */
static inline float f16_at(const uint8_t *p) { return _cvtsh_ss(lrq_k_u16(p)); }

static inline __m128 load_f16x2(const uint8_t *p) { return _mm_cvtph_ps(_mm_cvtsi32_si128((int)lrq_k_u32(p))); }

/* 16-bit lanes: a in the low half (lanes 0..15), b in the high half. */
static inline __m512i halves16(int a, int b) {
    return _mm512_mask_blend_epi16(0xffff0000u, _mm512_set1_epi16((short)a), _mm512_set1_epi16((short)b));
}
/* Byte lanes: a in the low half, b in the high half. */
static inline __m512i halves8(int a, int b) {
    return _mm512_mask_blend_epi8(0xffffffff00000000ull, _mm512_set1_epi8((char)a), _mm512_set1_epi8((char)b));
}

/* Scale index per 16-bit lane for 16-value sub-blocks when a vector holds
 * the runs of 32 starting at 32*r0 (low half) and 32*r1 (high half): lane i
 * covers values 2*(i%16), +1 of its run, i.e. sub-block 2*run + (i%16)/8. */
static inline __m512i idx16_runs(int r0, int r1) {
    const __m512i iota = LOAD512(k_iota);
    const __m512i within = _mm512_srli_epi16(_mm512_and_si512(iota, _mm512_set1_epi16(15)), 3);
    return _mm512_add_epi16(within, halves16(2 * r0, 2 * r1));
}

/* Q4_K/Q5_K scales and mins as 16 int16: [sc0..sc7 | m0..m7]. */
static inline __m256i k4_scales_epi16(const uint8_t *q) {
    const uint32_t w0 = lrq_k_u32(q), w1 = lrq_k_u32(q + 4), w2 = lrq_k_u32(q + 8);
    const uint32_t s_lo = w0 & 0x3f3f3f3fu;
    const uint32_t m_lo = w1 & 0x3f3f3f3fu;
    const uint32_t s_hi = (w2 & 0x0f0f0f0fu) | (((w0 >> 6) & 0x03030303u) << 4);
    const uint32_t m_hi = ((w2 >> 4) & 0x0f0f0f0fu) | (((w1 >> 6) & 0x03030303u) << 4);
    return _mm256_cvtepu8_epi16(_mm_set_epi32((int)m_hi, (int)m_lo, (int)s_hi, (int)s_lo));
}

static inline __m128i k3_scales_epi8(const uint8_t *q) {
    const uint32_t w0 = lrq_k_u32(q), w1 = lrq_k_u32(q + 4), w2 = lrq_k_u32(q + 8);
    const uint32_t a = (w0 & 0x0f0f0f0fu) | ((w2 & 0x03030303u) << 4);
    const uint32_t b = (w1 & 0x0f0f0f0fu) | (((w2 >> 2) & 0x03030303u) << 4);
    const uint32_t c = ((w0 >> 4) & 0x0f0f0f0fu) | (((w2 >> 4) & 0x03030303u) << 4);
    const uint32_t d = ((w1 >> 4) & 0x0f0f0f0fu) | (((w2 >> 6) & 0x03030303u) << 4);
    return _mm_sub_epi8(_mm_set_epi32((int)d, (int)c, (int)b, (int)a), _mm_set1_epi8(32));
}

static inline __m256i mins_x_bsums32(__m128i mins16, const uint8_t *y) {
    const __m128i m8 = _mm_packus_epi16(mins16, mins16);
    const __m256i dup = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(m8, m8));
    return _mm256_madd_epi16(LOAD256(y + LRQ_Q8K_BSUMS), dup);
}

/* AVX-512 version of lrq_dot_q2_K_ref: same contract, same result bits. */
void lrq_dot_q2_K_avx512(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    const uint8_t *x = vx, *y = vy;
    const __m512i m3 = _mm512_set1_epi8(3);
    const __m128i m4 = _mm_set1_epi8(0xf);
    /* activations 64m..64m+63 are the codes of qs[32*(m/2)..] at shifts
     * 2s, 2s+2 with s = 2*(m%2): one broadcast, a per-half shift, no shuffle */
    const __m512i sh01 = halves16(0, 2), sh23 = halves16(4, 6);
    const __m512i ix0 = idx16_runs(0, 1), ix1 = idx16_runs(2, 3), ix2 = idx16_runs(4, 5), ix3 = idx16_runs(6, 7);
    __m128 acc = _mm_setzero_ps();
    for (int64_t b = 0; b < n / LRQ_QK_K; b++, x += LRQ_Q2K_SIZE, y += LRQ_Q8K_SIZE) {
        const __m128i sm = LOAD128(x + LRQ_Q2K_SCALES);
        const __m512i sc16 = _mm512_castsi256_si512(_mm256_cvtepu8_epi16(_mm_and_si128(sm, m4)));
        const __m256i mn16 = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(sm, 4), m4));
        const __m256i msum = _mm256_madd_epi16(mn16, LOAD256(y + LRQ_Q8K_BSUMS));
        const int8_t *q8 = (const int8_t *)(y + LRQ_Q8K_QS);
        const __m512i qa = BCAST256(x + LRQ_Q2K_QS), qb = BCAST256(x + LRQ_Q2K_QS + 32);
        __m512i isum = _mm512_setzero_si512();
        isum = _mm512_dpwssd_epi32(isum, _mm512_maddubs_epi16(_mm512_and_si512(_mm512_srlv_epi16(qa, sh01), m3), LOAD512(q8)),
                                   _mm512_permutexvar_epi16(ix0, sc16));
        isum = _mm512_dpwssd_epi32(isum, _mm512_maddubs_epi16(_mm512_and_si512(_mm512_srlv_epi16(qa, sh23), m3), LOAD512(q8 + 64)),
                                   _mm512_permutexvar_epi16(ix1, sc16));
        isum = _mm512_dpwssd_epi32(isum, _mm512_maddubs_epi16(_mm512_and_si512(_mm512_srlv_epi16(qb, sh01), m3), LOAD512(q8 + 128)),
                                   _mm512_permutexvar_epi16(ix2, sc16));
        isum = _mm512_dpwssd_epi32(isum, _mm512_maddubs_epi16(_mm512_and_si512(_mm512_srlv_epi16(qb, sh23), m3), LOAD512(q8 + 192)),
                                   _mm512_permutexvar_epi16(ix3, sc16));
        const __m128 sm_f = hsum_pair_epi32(fold512(isum), msum);
        const __m128 dd = _mm_mul_ps(load_f16x2(x + LRQ_Q2K_D), _mm_set1_ps(lrq_k_f32(y + LRQ_Q8K_D)));
        acc = _mm_fmadd_ps(sm_f, dd, acc);
    }
    *s = _mm_cvtss_f32(acc) - _mm_cvtss_f32(_mm_shuffle_ps(acc, acc, 1));
}

/* AVX-512 version of lrq_dot_q3_K_ref: same contract, same result bits. */
void lrq_dot_q3_K_avx512(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    const uint8_t *x = vx, *y = vy;
    const __m512i m3 = _mm512_set1_epi8(3), four = _mm512_set1_epi8(4);
    /* pair p of shifts: 2p (low half), 2p+1 (high half) */
    const __m512i sh0 = halves16(0, 2), sh1 = halves16(4, 6);
    __m512i ix[4], bits[4];
    for (int h = 0; h < 2; h++)
        for (int p = 0; p < 2; p++) {
            ix[2 * h + p] = idx16_runs(4 * h + 2 * p, 4 * h + 2 * p + 1);
            bits[2 * h + p] = halves8(1 << (4 * h + 2 * p), 1 << (4 * h + 2 * p + 1));
        }
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / LRQ_QK_K; b++, x += LRQ_Q3K_SIZE, y += LRQ_Q8K_SIZE) {
        const __m512i sc16 = _mm512_castsi256_si512(_mm256_cvtepi8_epi16(k3_scales_epi8(x + LRQ_Q3K_SCALES)));
        const __m512i hm = BCAST256(x + LRQ_Q3K_HMASK);
        const int8_t *q8 = (const int8_t *)(y + LRQ_Q8K_QS);
        __m512i isum = _mm512_setzero_si512();
        for (int h = 0; h < 2; h++) {
            const __m512i qv = BCAST256(x + LRQ_Q3K_QS + 32 * h);
            for (int p = 0; p < 2; p++) {
                const __m512i lo = _mm512_and_si512(_mm512_srlv_epi16(qv, p ? sh1 : sh0), m3);
                const __mmask64 clear = _mm512_testn_epi8_mask(hm, bits[2 * h + p]);
                const __m512i sub = _mm512_maskz_mov_epi8(clear, four);
                const __m512i a = LOAD512(q8 + 128 * h + 64 * p);
                const __m512i p16 = _mm512_sub_epi16(_mm512_maddubs_epi16(lo, a), _mm512_maddubs_epi16(sub, a));
                isum = _mm512_dpwssd_epi32(isum, p16, _mm512_permutexvar_epi16(ix[2 * h + p], sc16));
            }
        }
        const float d = lrq_k_f32(y + LRQ_Q8K_D) * f16_at(x + LRQ_Q3K_D);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(fold512(isum)), acc);
    }
    *s = hsum8_ps(acc);
}

/* AVX-512 version of lrq_dot_q4_K_ref: same contract, same result bits. */
void lrq_dot_q4_K_avx512(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    const uint8_t *x = vx, *y = vy;
    const __m512i m4 = _mm512_set1_epi8(0xf);
    /* activations 64g..64g+63 pair with the low then the high nibbles of
     * qs[32g..32g+31]: broadcast those 32 bytes, shift the high half by 4 */
    const __m512i sh = halves16(0, 4);
    const __m512i i01 = halves16(0, 1), i23 = halves16(2, 3), i45 = halves16(4, 5), i67 = halves16(6, 7);
    __m128 acc = _mm_setzero_ps();
    for (int64_t b = 0; b < n / LRQ_QK_K; b++, x += LRQ_Q4K_SIZE, y += LRQ_Q8K_SIZE) {
        const __m256i sm16 = k4_scales_epi16(x + LRQ_Q4K_SCALES);
        const __m512i sc = _mm512_castsi256_si512(sm16);
        const __m256i msum = mins_x_bsums32(_mm256_extracti128_si256(sm16, 1), y);
        const int8_t *q8 = (const int8_t *)(y + LRQ_Q8K_QS);
        const uint8_t *qs = x + LRQ_Q4K_QS;
        __m512i isum = _mm512_setzero_si512();
        isum = _mm512_dpwssd_epi32(isum, _mm512_maddubs_epi16(_mm512_and_si512(_mm512_srlv_epi16(BCAST256(qs), sh), m4), LOAD512(q8)),
                                   _mm512_permutexvar_epi16(i01, sc));
        isum = _mm512_dpwssd_epi32(isum,
                                   _mm512_maddubs_epi16(_mm512_and_si512(_mm512_srlv_epi16(BCAST256(qs + 32), sh), m4), LOAD512(q8 + 64)),
                                   _mm512_permutexvar_epi16(i23, sc));
        isum = _mm512_dpwssd_epi32(isum,
                                   _mm512_maddubs_epi16(_mm512_and_si512(_mm512_srlv_epi16(BCAST256(qs + 64), sh), m4), LOAD512(q8 + 128)),
                                   _mm512_permutexvar_epi16(i45, sc));
        isum = _mm512_dpwssd_epi32(isum,
                                   _mm512_maddubs_epi16(_mm512_and_si512(_mm512_srlv_epi16(BCAST256(qs + 96), sh), m4), LOAD512(q8 + 192)),
                                   _mm512_permutexvar_epi16(i67, sc));
        const __m128 sm_f = hsum_pair_epi32(fold512(isum), msum);
        const __m128 dd = _mm_mul_ps(load_f16x2(x + LRQ_Q4K_D), _mm_set1_ps(lrq_k_f32(y + LRQ_Q8K_D)));
        acc = _mm_fmadd_ps(sm_f, dd, acc);
    }
    *s = _mm_cvtss_f32(acc) - _mm_cvtss_f32(_mm_shuffle_ps(acc, acc, 1));
}

/* AVX-512 version of lrq_dot_q5_K_ref: same contract, same result bits. */
void lrq_dot_q5_K_avx512(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    const uint8_t *x = vx, *y = vy;
    const __m512i m4 = _mm512_set1_epi8(0xf), c16 = _mm512_set1_epi8(16);
    const __m512i sh = halves16(0, 4); /* as Q4_K */
    __m512i ix[4], bits[4];
    for (int g = 0; g < 4; g++) {
        ix[g] = halves16(2 * g, 2 * g + 1);
        bits[g] = halves8(1 << (2 * g), 1 << (2 * g + 1)); /* fifth bit of sub-block j: bit j of qh */
    }
    __m256 acc = _mm256_setzero_ps();
    float summs = 0.0f;
    for (int64_t b = 0; b < n / LRQ_QK_K; b++, x += LRQ_Q5K_SIZE, y += LRQ_Q8K_SIZE) {
        const __m256i sm16 = k4_scales_epi16(x + LRQ_Q5K_SCALES);
        const __m512i sc = _mm512_castsi256_si512(sm16);
        const __m256i msum = mins_x_bsums32(_mm256_extracti128_si256(sm16, 1), y);
        const __m512i qh = BCAST256(x + LRQ_Q5K_QH);
        const int8_t *q8 = (const int8_t *)(y + LRQ_Q8K_QS);
        const uint8_t *qs = x + LRQ_Q5K_QS;
        __m512i isum = _mm512_setzero_si512();
        for (int g = 0; g < 4; g++) {
            __m512i v = _mm512_and_si512(_mm512_srlv_epi16(BCAST256(qs + 32 * g), sh), m4);
            v = _mm512_mask_add_epi8(v, _mm512_test_epi8_mask(qh, bits[g]), v, c16);
            isum = _mm512_dpwssd_epi32(isum, _mm512_maddubs_epi16(v, LOAD512(q8 + 64 * g)), _mm512_permutexvar_epi16(ix[g], sc));
        }
        const __m128i m4x = _mm_add_epi32(_mm256_castsi256_si128(msum), _mm256_extracti128_si256(msum, 1));
        const __m128i m2x = _mm_add_epi32(m4x, _mm_unpackhi_epi64(m4x, m4x));
        const int32_t M = _mm_cvtsi128_si32(_mm_add_epi32(m2x, _mm_shuffle_epi32(m2x, 1)));
        const float ydd = lrq_k_f32(y + LRQ_Q8K_D);
        const float d = ydd * f16_at(x + LRQ_Q5K_D);
        const float dmin = -ydd * f16_at(x + LRQ_Q5K_DMIN);
        summs = fmaf(dmin, (float)M, summs);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(fold512(isum)), acc);
    }
    *s = hsum8_ps(acc) + summs;
}

/* AVX-512 version of lrq_dot_q6_K_ref: same contract, same result bits. */
void lrq_dot_q6_K_avx512(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    const uint8_t *x = vx, *y = vy;
    const __m512i m4 = _mm512_set1_epi8(0xf), k30 = _mm512_set1_epi8(0x30);
    const __m512i shl = halves16(4, 2), shr = halves16(0, 2);
    __m512i ix[4];
    for (int h = 0; h < 2; h++)
        for (int p = 0; p < 2; p++) ix[2 * h + p] = idx16_runs(4 * h + 2 * p, 4 * h + 2 * p + 1);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / LRQ_QK_K; b++, x += LRQ_Q6K_SIZE, y += LRQ_Q8K_SIZE) {
        const __m256i sc16y = _mm256_cvtepi8_epi16(LOAD128(x + LRQ_Q6K_SCALES));
        const __m512i sc16 = _mm512_castsi256_si512(sc16y);
        const __m256i corr = _mm256_slli_epi32(_mm256_madd_epi16(LOAD256(y + LRQ_Q8K_BSUMS), sc16y), 5);
        const int8_t *q8 = (const int8_t *)(y + LRQ_Q8K_QS);
        __m512i isum = _mm512_setzero_si512();
        for (int h = 0; h < 2; h++) {
            const __m512i ql = LOAD512(x + LRQ_Q6K_QL + 64 * h); /* low half: t=0/2, high half: t=1/3 */
            const __m512i qh = BCAST256(x + LRQ_Q6K_QH + 32 * h);
            /* t = 0 | 1: low nibbles, qh bits 0-1 | 2-3 moved to bits 4-5 */
            const __m512i v01 = _mm512_or_si512(_mm512_and_si512(ql, m4), _mm512_and_si512(_mm512_sllv_epi16(qh, shl), k30));
            /* t = 2 | 3: high nibbles, qh bits 4-5 | 6-7 */
            const __m512i v23 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), m4),
                                                _mm512_and_si512(_mm512_srlv_epi16(qh, shr), k30));
            isum = _mm512_dpwssd_epi32(isum, _mm512_maddubs_epi16(v01, LOAD512(q8 + 128 * h)),
                                       _mm512_permutexvar_epi16(ix[2 * h], sc16));
            isum = _mm512_dpwssd_epi32(isum, _mm512_maddubs_epi16(v23, LOAD512(q8 + 128 * h + 64)),
                                       _mm512_permutexvar_epi16(ix[2 * h + 1], sc16));
        }
        const __m256i lanes = _mm256_sub_epi32(fold512(isum), corr);
        const float d = lrq_k_f32(y + LRQ_Q8K_D) * f16_at(x + LRQ_Q6K_D);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(lanes), acc);
    }
    *s = hsum8_ps(acc);
}

/* ---- "gemm" float order of Q2_K/Q4_K (see dot_k_ref.c): one fma per group ---- */

static inline __m128i hsum4_epi32(__m256i p0, __m256i p1, __m256i p2, __m256i p3) {
    const __m256i h = _mm256_hadd_epi32(_mm256_hadd_epi32(p0, p1), _mm256_hadd_epi32(p2, p3));
    return _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
}

static inline __m128 fma_groups4(__m128 acc, __m128i S, __m128i M, __m128 dd) {
    const __m128 sf = _mm_cvtepi32_ps(S), mf = _mm_cvtepi32_ps(M);
    const __m128 lo = _mm_unpacklo_ps(sf, mf), hi = _mm_unpackhi_ps(sf, mf);
    acc = _mm_fmadd_ps(lo, dd, acc);
    acc = _mm_fmadd_ps(_mm_movehl_ps(lo, lo), dd, acc);
    acc = _mm_fmadd_ps(hi, dd, acc);
    return _mm_fmadd_ps(_mm_movehl_ps(hi, hi), dd, acc);
}

/* AVX-512 version of lrq_dot_q2_K_gemm_ref: same contract, same result bits. */
void lrq_dot_q2_K_gemm_avx512(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    const uint8_t *x = vx, *y = vy;
    const __m512i m3 = _mm512_set1_epi8(3);
    const __m128i m4 = _mm_set1_epi8(0xf);
    const __m512i sh01 = halves16(0, 2), sh23 = halves16(4, 6);
    const __m512i ix0 = idx16_runs(0, 1), ix1 = idx16_runs(2, 3), ix2 = idx16_runs(4, 5), ix3 = idx16_runs(6, 7);
    __m128 acc = _mm_setzero_ps();
    for (int64_t b = 0; b < n / LRQ_QK_K; b++, x += LRQ_Q2K_SIZE, y += LRQ_Q8K_SIZE) {
        const __m128i sm = LOAD128(x + LRQ_Q2K_SCALES);
        const __m512i sc16 = _mm512_castsi256_si512(_mm256_cvtepu8_epi16(_mm_and_si128(sm, m4)));
        const __m256i mn16 = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(sm, 4), m4));
        const __m256i msum = _mm256_madd_epi16(mn16, LOAD256(y + LRQ_Q8K_BSUMS));
        const int8_t *q8 = (const int8_t *)(y + LRQ_Q8K_QS);
        const __m512i qa = BCAST256(x + LRQ_Q2K_QS), qb = BCAST256(x + LRQ_Q2K_QS + 32);
        __m512i g0 = _mm512_setzero_si512(), g1 = _mm512_setzero_si512();
        g0 = _mm512_dpwssd_epi32(g0, _mm512_maddubs_epi16(_mm512_and_si512(_mm512_srlv_epi16(qa, sh01), m3), LOAD512(q8)),
                                 _mm512_permutexvar_epi16(ix0, sc16));
        g0 = _mm512_dpwssd_epi32(g0, _mm512_maddubs_epi16(_mm512_and_si512(_mm512_srlv_epi16(qa, sh23), m3), LOAD512(q8 + 64)),
                                 _mm512_permutexvar_epi16(ix1, sc16));
        g1 = _mm512_dpwssd_epi32(g1, _mm512_maddubs_epi16(_mm512_and_si512(_mm512_srlv_epi16(qb, sh01), m3), LOAD512(q8 + 128)),
                                 _mm512_permutexvar_epi16(ix2, sc16));
        g1 = _mm512_dpwssd_epi32(g1, _mm512_maddubs_epi16(_mm512_and_si512(_mm512_srlv_epi16(qb, sh23), m3), LOAD512(q8 + 192)),
                                 _mm512_permutexvar_epi16(ix3, sc16));
        const __m256i r = _mm256_hadd_epi32(fold512(g0), fold512(g1));
        const __m128i sq = _mm_add_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
        const __m128i mq = _mm_hadd_epi32(_mm256_castsi256_si128(msum), _mm256_extracti128_si256(msum, 1));
        const __m128 f = _mm_cvtepi32_ps(_mm_hadd_epi32(sq, mq)); /* S0 S1 M0 M1 */
        const __m128 dd = _mm_mul_ps(load_f16x2(x + LRQ_Q2K_D), _mm_set1_ps(lrq_k_f32(y + LRQ_Q8K_D)));
        acc = _mm_fmadd_ps(_mm_shuffle_ps(f, f, 0x08), dd, acc);
        acc = _mm_fmadd_ps(_mm_shuffle_ps(f, f, 0x0d), dd, acc);
    }
    *s = _mm_cvtss_f32(acc) - _mm_cvtss_f32(_mm_shuffle_ps(acc, acc, 1));
}

/* AVX-512 version of lrq_dot_q4_K_gemm_ref: same contract, same result bits. */
void lrq_dot_q4_K_gemm_avx512(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    const uint8_t *x = vx, *y = vy;
    const __m512i m4 = _mm512_set1_epi8(0xf);
    const __m512i sh = halves16(0, 4);
    __m512i ix[4];
    for (int g = 0; g < 4; g++) ix[g] = halves16(2 * g, 2 * g + 1);
    __m128 acc = _mm_setzero_ps();
    for (int64_t b = 0; b < n / LRQ_QK_K; b++, x += LRQ_Q4K_SIZE, y += LRQ_Q8K_SIZE) {
        const __m256i sm16 = k4_scales_epi16(x + LRQ_Q4K_SCALES);
        const __m512i sc = _mm512_castsi256_si512(sm16);
        const __m256i msum = mins_x_bsums32(_mm256_extracti128_si256(sm16, 1), y);
        const int8_t *q8 = (const int8_t *)(y + LRQ_Q8K_QS);
        const uint8_t *qs = x + LRQ_Q4K_QS;
        __m256i p[4];
        for (int g = 0; g < 4; g++) {
            const __m512i v = _mm512_and_si512(_mm512_srlv_epi16(BCAST256(qs + 32 * g), sh), m4);
            p[g] = fold512(_mm512_madd_epi16(_mm512_maddubs_epi16(v, LOAD512(q8 + 64 * g)), _mm512_permutexvar_epi16(ix[g], sc)));
        }
        const __m128i S = hsum4_epi32(p[0], p[1], p[2], p[3]);
        const __m128i M = _mm256_castsi256_si128(_mm256_permute4x64_epi64(_mm256_hadd_epi32(msum, msum), 0x08));
        const __m128 dd = _mm_mul_ps(load_f16x2(x + LRQ_Q4K_D), _mm_set1_ps(lrq_k_f32(y + LRQ_Q8K_D)));
        acc = fma_groups4(acc, S, M, _mm_movelh_ps(dd, dd));
    }
    *s = _mm_cvtss_f32(acc) - _mm_cvtss_f32(_mm_shuffle_ps(acc, acc, 1));
}
