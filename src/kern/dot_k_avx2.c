/* dot_k_avx2.c — AVX2+FMA+F16C dot products of k-quant rows with Q8_K rows.
 * Bit-identical to the scalar specification in dot_k_ref.c (read its header
 * for the float order): the integer part uses maddubs (u8 x s8 pairs -> i16)
 * and madd (i16 pairs x scales -> i32), which cannot saturate here because
 * codes are at most 63 and activations at most 128 in magnitude; the float
 * part reproduces llama.cpp's lanes and fma chain exactly.
 *
 * Inputs: n % 256 == 0; x and y need no particular alignment.
 */
#include "fmt/impl.h"
#include "kern/dots.h"
#include "fmt/kquant.h"
#include "fmt/types.h"

#include <immintrin.h>
#include <math.h>

#define LOAD256(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define LOAD128(p) _mm_loadu_si128((const __m128i *)(const void *)(p))

/* llama.cpp's reduction of 8 float lanes: ((a0+a4)+(a2+a6)) + ((a1+a5)+(a3+a7)). */
static inline float hsum8_ps(__m256 a) {
    __m128 r = _mm_add_ps(_mm256_extractf128_ps(a, 1), _mm256_castps256_ps128(a));
    r = _mm_add_ps(r, _mm_movehl_ps(r, r));
    r = _mm_add_ss(r, _mm_movehdup_ps(r));
    return _mm_cvtss_f32(r);
}

/* [sum of the 8 lanes of s, sum of the 8 lanes of m] as two floats (the
 * integer sums are exact; the conversion rounds like (float)int). */
static inline __m128 hsum_pair_epi32(__m256i s, __m256i m) {
    __m256i r = _mm256_hadd_epi32(s, m); /* s01 s23 m01 m23 | s45 s67 m45 m67 */
    __m128i q = _mm_add_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
    q = _mm_hadd_epi32(q, q); /* S M S M */
    return _mm_cvtepi32_ps(q);
}

/* fp16 pair (d, dmin) at p -> [d, dmin, 0, 0] as floats. */
/* fp16 at p -> float with F16C (exact, like lrq_f16_to_f32 but branch-free). */
static inline float f16_at(const uint8_t *p) { return _cvtsh_ss(lrq_k_u16(p)); }

static inline __m128 load_f16x2(const uint8_t *p) {
    return _mm_cvtph_ps(_mm_cvtsi32_si128((int)lrq_k_u32(p)));
}

/* Shuffle control picking int16 element 2s of a 128-bit lane for the low
 * 128 bits and element 2s+1 for the high 128 bits (broadcast within each). */
static inline __m256i ctrl_pair(int s) {
    const short lo = (short)(((4 * s + 1) << 8) | (4 * s));
    const short hi = (short)(((4 * s + 3) << 8) | (4 * s + 2));
    return _mm256_set_m128i(_mm_set1_epi16(hi), _mm_set1_epi16(lo));
}
/* Shuffle control broadcasting int16 element j (0..7) of each 128-bit lane. */
static inline __m256i ctrl_one(int j) { return _mm256_set1_epi16((short)(((2 * j + 1) << 8) | (2 * j))); }

/* Q4_K/Q5_K scales and mins as 16 int16: [sc0..sc7 | m0..m7]. */
static inline __m256i k4_scales_epi16(const uint8_t *q) {
    const uint32_t w0 = lrq_k_u32(q), w1 = lrq_k_u32(q + 4), w2 = lrq_k_u32(q + 8);
    const uint32_t s_lo = w0 & 0x3f3f3f3fu;
    const uint32_t m_lo = w1 & 0x3f3f3f3fu;
    const uint32_t s_hi = (w2 & 0x0f0f0f0fu) | (((w0 >> 6) & 0x03030303u) << 4);
    const uint32_t m_hi = ((w2 >> 4) & 0x0f0f0f0fu) | (((w1 >> 6) & 0x03030303u) << 4);
    return _mm256_cvtepu8_epi16(_mm_set_epi32((int)m_hi, (int)m_lo, (int)s_hi, (int)s_lo));
}

/* Q3_K scales as 16 int8 (-32..31). */
static inline __m128i k3_scales_epi8(const uint8_t *q) {
    const uint32_t w0 = lrq_k_u32(q), w1 = lrq_k_u32(q + 4), w2 = lrq_k_u32(q + 8);
    const uint32_t a = (w0 & 0x0f0f0f0fu) | ((w2 & 0x03030303u) << 4);
    const uint32_t b = (w1 & 0x0f0f0f0fu) | (((w2 >> 2) & 0x03030303u) << 4);
    const uint32_t c = ((w0 >> 4) & 0x0f0f0f0fu) | (((w2 >> 4) & 0x03030303u) << 4);
    const uint32_t d = ((w1 >> 4) & 0x0f0f0f0fu) | (((w2 >> 6) & 0x03030303u) << 4);
    return _mm_sub_epi8(_mm_set_epi32((int)d, (int)c, (int)b, (int)a), _mm_set1_epi8(32));
}

/* Sum of min_j * (bsums[2j] + bsums[2j+1]) per int32 lane j, from 8 mins as
 * int16 in the low 128 bits of `mins`. */
static inline __m256i mins_x_bsums32(__m128i mins16, const uint8_t *y) {
    const __m128i m8 = _mm_packus_epi16(mins16, mins16);           /* m0..m7 as bytes */
    const __m256i dup = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(m8, m8)); /* m0 m0 m1 m1 ... */
    return _mm256_madd_epi16(LOAD256(y + LRQ_Q8K_BSUMS), dup);
}

/* AVX2 version of lrq_dot_q2_K_ref: same contract, same result bits. */
void lrq_dot_q2_K_avx2(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    const uint8_t *x = vx, *y = vy;
    const __m256i m3 = _mm256_set1_epi8(3);
    const __m128i m4 = _mm_set1_epi8(0xf);
    const __m256i c0 = ctrl_pair(0), c1 = ctrl_pair(1), c2 = ctrl_pair(2), c3 = ctrl_pair(3);
    __m128 acc = _mm_setzero_ps(); /* lane 0: scale part, lane 1: min part */
    for (int64_t b = 0; b < n / LRQ_QK_K; b++, x += LRQ_Q2K_SIZE, y += LRQ_Q8K_SIZE) {
        const __m128i sm = LOAD128(x + LRQ_Q2K_SCALES);
        const __m256i sc16 = _mm256_cvtepu8_epi16(_mm_and_si128(sm, m4));
        const __m256i mn16 = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(sm, 4), m4));
        const __m256i msum = _mm256_madd_epi16(mn16, LOAD256(y + LRQ_Q8K_BSUMS));
        const int8_t *q8 = (const int8_t *)(y + LRQ_Q8K_QS);
        __m256i isum = _mm256_setzero_si256();
        for (int h = 0; h < 2; h++, q8 += 128) {
            const __m256i qv = LOAD256(x + LRQ_Q2K_QS + 32 * h);
            const __m256i sch = h ? _mm256_permute4x64_epi64(sc16, 0xee) : _mm256_permute4x64_epi64(sc16, 0x44); /* sub-blocks 8h.. in both halves */
            const __m256i p0 = _mm256_maddubs_epi16(_mm256_and_si256(qv, m3), LOAD256(q8));
            const __m256i p1 = _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(qv, 2), m3), LOAD256(q8 + 32));
            const __m256i p2 = _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(qv, 4), m3), LOAD256(q8 + 64));
            const __m256i p3 = _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(qv, 6), m3), LOAD256(q8 + 96));
            const __m256i s0 = _mm256_madd_epi16(p0, _mm256_shuffle_epi8(sch, c0));
            const __m256i s1 = _mm256_madd_epi16(p1, _mm256_shuffle_epi8(sch, c1));
            const __m256i s2 = _mm256_madd_epi16(p2, _mm256_shuffle_epi8(sch, c2));
            const __m256i s3 = _mm256_madd_epi16(p3, _mm256_shuffle_epi8(sch, c3));
            isum = _mm256_add_epi32(isum, _mm256_add_epi32(_mm256_add_epi32(s0, s1), _mm256_add_epi32(s2, s3)));
        }
        const __m128 sm_f = hsum_pair_epi32(isum, msum);
        const __m128 dd = _mm_mul_ps(load_f16x2(x + LRQ_Q2K_D), _mm_set1_ps(lrq_k_f32(y + LRQ_Q8K_D)));
        acc = _mm_fmadd_ps(sm_f, dd, acc);
    }
    *s = _mm_cvtss_f32(acc) - _mm_cvtss_f32(_mm_shuffle_ps(acc, acc, 1));
}

/* AVX2 version of lrq_dot_q3_K_ref: same contract, same result bits. */
void lrq_dot_q3_K_avx2(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    const uint8_t *x = vx, *y = vy;
    const __m256i m3 = _mm256_set1_epi8(3), four = _mm256_set1_epi8(4), zero = _mm256_setzero_si256();
    const __m256i c0 = ctrl_pair(0), c1 = ctrl_pair(1), c2 = ctrl_pair(2), c3 = ctrl_pair(3);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / LRQ_QK_K; b++, x += LRQ_Q3K_SIZE, y += LRQ_Q8K_SIZE) {
        const __m256i sc16 = _mm256_cvtepi8_epi16(k3_scales_epi8(x + LRQ_Q3K_SCALES));
        const __m256i hb = LOAD256(x + LRQ_Q3K_HMASK);
        const int8_t *q8 = (const int8_t *)(y + LRQ_Q8K_QS);
        __m256i isum = _mm256_setzero_si256();
        __m256i bit = _mm256_set1_epi8(1);
        for (int h = 0; h < 2; h++, q8 += 128) {
            const __m256i qv = LOAD256(x + LRQ_Q3K_QS + 32 * h);
            const __m256i sch = h ? _mm256_permute4x64_epi64(sc16, 0xee) : _mm256_permute4x64_epi64(sc16, 0x44);
            __m256i lo[4], sub[4];
            lo[0] = _mm256_and_si256(qv, m3);
            lo[1] = _mm256_and_si256(_mm256_srli_epi16(qv, 2), m3);
            lo[2] = _mm256_and_si256(_mm256_srli_epi16(qv, 4), m3);
            lo[3] = _mm256_and_si256(_mm256_srli_epi16(qv, 6), m3);
            for (int t = 0; t < 4; t++) {
                /* 4 where the third bit is clear: value = low - 4 */
                sub[t] = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(hb, bit), zero), four);
                bit = _mm256_add_epi8(bit, bit);
            }
            __m256i p[4];
            for (int t = 0; t < 4; t++) {
                const __m256i a = LOAD256(q8 + 32 * t);
                p[t] = _mm256_sub_epi16(_mm256_maddubs_epi16(lo[t], a), _mm256_maddubs_epi16(sub[t], a));
            }
            p[0] = _mm256_madd_epi16(p[0], _mm256_shuffle_epi8(sch, c0));
            p[1] = _mm256_madd_epi16(p[1], _mm256_shuffle_epi8(sch, c1));
            p[2] = _mm256_madd_epi16(p[2], _mm256_shuffle_epi8(sch, c2));
            p[3] = _mm256_madd_epi16(p[3], _mm256_shuffle_epi8(sch, c3));
            isum = _mm256_add_epi32(isum, _mm256_add_epi32(_mm256_add_epi32(p[0], p[1]), _mm256_add_epi32(p[2], p[3])));
        }
        const float d = lrq_k_f32(y + LRQ_Q8K_D) * f16_at(x + LRQ_Q3K_D);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(isum), acc);
    }
    *s = hsum8_ps(acc);
}

/* AVX2 version of lrq_dot_q4_K_ref: same contract, same result bits. */
void lrq_dot_q4_K_avx2(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    const uint8_t *x = vx, *y = vy;
    const __m256i m4 = _mm256_set1_epi8(0xf);
    __m128 acc = _mm_setzero_ps();
    for (int64_t b = 0; b < n / LRQ_QK_K; b++, x += LRQ_Q4K_SIZE, y += LRQ_Q8K_SIZE) {
        const __m256i sm16 = k4_scales_epi16(x + LRQ_Q4K_SCALES);
        const __m256i sc = _mm256_permute4x64_epi64(sm16, 0x44); /* scales in both halves */
        const __m256i msum = mins_x_bsums32(_mm256_extracti128_si256(sm16, 1), y);
        const int8_t *q8 = (const int8_t *)(y + LRQ_Q8K_QS);
        const uint8_t *qs = x + LRQ_Q4K_QS;
        __m256i isum = _mm256_setzero_si256();
        for (int g = 0; g < 4; g++, qs += 32, q8 += 64) {
            const __m256i qv = LOAD256(qs);
            const __m256i plo = _mm256_maddubs_epi16(_mm256_and_si256(qv, m4), LOAD256(q8));
            const __m256i phi = _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(qv, 4), m4), LOAD256(q8 + 32));
            const __m256i slo = _mm256_madd_epi16(plo, _mm256_shuffle_epi8(sc, ctrl_one(2 * g)));
            const __m256i shi = _mm256_madd_epi16(phi, _mm256_shuffle_epi8(sc, ctrl_one(2 * g + 1)));
            isum = _mm256_add_epi32(isum, _mm256_add_epi32(slo, shi));
        }
        const __m128 sm_f = hsum_pair_epi32(isum, msum);
        const __m128 dd = _mm_mul_ps(load_f16x2(x + LRQ_Q4K_D), _mm_set1_ps(lrq_k_f32(y + LRQ_Q8K_D)));
        acc = _mm_fmadd_ps(sm_f, dd, acc);
    }
    *s = _mm_cvtss_f32(acc) - _mm_cvtss_f32(_mm_shuffle_ps(acc, acc, 1));
}

/* AVX2 version of lrq_dot_q5_K_ref: same contract, same result bits. */
void lrq_dot_q5_K_avx2(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    const uint8_t *x = vx, *y = vy;
    const __m256i m4 = _mm256_set1_epi8(0xf), c16 = _mm256_set1_epi8(16);
    __m256 acc = _mm256_setzero_ps();
    float summs = 0.0f;
    for (int64_t b = 0; b < n / LRQ_QK_K; b++, x += LRQ_Q5K_SIZE, y += LRQ_Q8K_SIZE) {
        const __m256i sm16 = k4_scales_epi16(x + LRQ_Q5K_SCALES);
        const __m256i sc = _mm256_permute4x64_epi64(sm16, 0x44);
        const __m256i msum = mins_x_bsums32(_mm256_extracti128_si256(sm16, 1), y);
        const __m256i hb = LOAD256(x + LRQ_Q5K_QH);
        const int8_t *q8 = (const int8_t *)(y + LRQ_Q8K_QS);
        const uint8_t *qs = x + LRQ_Q5K_QS;
        __m256i isum = _mm256_setzero_si256();
        __m256i bit = _mm256_set1_epi8(1);
        for (int g = 0; g < 4; g++, qs += 32, q8 += 64) {
            const __m256i qv = LOAD256(qs);
            const __m256i h0 = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(hb, bit), bit), c16);
            bit = _mm256_add_epi8(bit, bit);
            const __m256i h1 = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(hb, bit), bit), c16);
            bit = _mm256_add_epi8(bit, bit);
            const __m256i q0 = _mm256_or_si256(_mm256_and_si256(qv, m4), h0);
            const __m256i q1 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(qv, 4), m4), h1);
            const __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(q0, LOAD256(q8)),
                                                 _mm256_shuffle_epi8(sc, ctrl_one(2 * g)));
            const __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(q1, LOAD256(q8 + 32)),
                                                 _mm256_shuffle_epi8(sc, ctrl_one(2 * g + 1)));
            isum = _mm256_add_epi32(isum, _mm256_add_epi32(p0, p1));
        }
        const __m128i m4x = _mm_add_epi32(_mm256_castsi256_si128(msum), _mm256_extracti128_si256(msum, 1));
        const __m128i m2x = _mm_add_epi32(m4x, _mm_unpackhi_epi64(m4x, m4x));
        const int32_t M = _mm_cvtsi128_si32(_mm_add_epi32(m2x, _mm_shuffle_epi32(m2x, 1)));
        const float yd = lrq_k_f32(y + LRQ_Q8K_D);
        const float d = yd * f16_at(x + LRQ_Q5K_D);
        const float dmin = -yd * f16_at(x + LRQ_Q5K_DMIN);
        summs = fmaf(dmin, (float)M, summs);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(isum), acc);
    }
    *s = hsum8_ps(acc) + summs;
}

/* AVX2 version of lrq_dot_q6_K_ref: same contract, same result bits. */
void lrq_dot_q6_K_avx2(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    const uint8_t *x = vx, *y = vy;
    const __m256i m4 = _mm256_set1_epi8(0xf);
    const __m256i k03 = _mm256_set1_epi8(0x03), k0c = _mm256_set1_epi8(0x0c);
    const __m256i k30 = _mm256_set1_epi8(0x30), kc0 = _mm256_set1_epi8((char)0xc0);
    const __m256i c0 = ctrl_pair(0), c1 = ctrl_pair(1), c2 = ctrl_pair(2), c3 = ctrl_pair(3);
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / LRQ_QK_K; b++, x += LRQ_Q6K_SIZE, y += LRQ_Q8K_SIZE) {
        const __m256i sc16 = _mm256_cvtepi8_epi16(LOAD128(x + LRQ_Q6K_SCALES));
        const __m256i corr = _mm256_slli_epi32(_mm256_madd_epi16(LOAD256(y + LRQ_Q8K_BSUMS), sc16), 5);
        const int8_t *q8 = (const int8_t *)(y + LRQ_Q8K_QS);
        __m256i isum = _mm256_setzero_si256();
        for (int h = 0; h < 2; h++, q8 += 128) {
            const __m256i l0 = LOAD256(x + LRQ_Q6K_QL + 64 * h);
            const __m256i l1 = LOAD256(x + LRQ_Q6K_QL + 64 * h + 32);
            const __m256i hv = LOAD256(x + LRQ_Q6K_QH + 32 * h);
            const __m256i sch = h ? _mm256_permute4x64_epi64(sc16, 0xee) : _mm256_permute4x64_epi64(sc16, 0x44);
            const __m256i q0 = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(hv, k03), 4));
            const __m256i q1 = _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_slli_epi16(_mm256_and_si256(hv, k0c), 2));
            const __m256i q2 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_and_si256(hv, k30));
            const __m256i q3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                               _mm256_srli_epi16(_mm256_and_si256(hv, kc0), 2));
            const __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(q0, LOAD256(q8)), _mm256_shuffle_epi8(sch, c0));
            const __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(q1, LOAD256(q8 + 32)), _mm256_shuffle_epi8(sch, c1));
            const __m256i p2 = _mm256_madd_epi16(_mm256_maddubs_epi16(q2, LOAD256(q8 + 64)), _mm256_shuffle_epi8(sch, c2));
            const __m256i p3 = _mm256_madd_epi16(_mm256_maddubs_epi16(q3, LOAD256(q8 + 96)), _mm256_shuffle_epi8(sch, c3));
            isum = _mm256_add_epi32(isum, _mm256_add_epi32(_mm256_add_epi32(p0, p1), _mm256_add_epi32(p2, p3)));
        }
        isum = _mm256_sub_epi32(isum, corr);
        const float d = lrq_k_f32(y + LRQ_Q8K_D) * f16_at(x + LRQ_Q6K_D);
        acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(isum), acc);
    }
    *s = hsum8_ps(acc);
}

/* ---- "gemm" float order of Q2_K/Q4_K (see dot_k_ref.c): one fma per group ---- */

/* [S0..S3] from four int32 vectors: S_g = sum of the lanes of p[g]. */
static inline __m128i hsum4_epi32(__m256i p0, __m256i p1, __m256i p2, __m256i p3) {
    const __m256i h = _mm256_hadd_epi32(_mm256_hadd_epi32(p0, p1), _mm256_hadd_epi32(p2, p3));
    return _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
}

/* acc lanes 0/1 += [S, M] * [dd, dm] for each group in order. */
static inline __m128 fma_groups4(__m128 acc, __m128i S, __m128i M, __m128 dd) {
    const __m128 sf = _mm_cvtepi32_ps(S), mf = _mm_cvtepi32_ps(M);
    const __m128 lo = _mm_unpacklo_ps(sf, mf), hi = _mm_unpackhi_ps(sf, mf); /* S0 M0 S1 M1 | S2 M2 S3 M3 */
    acc = _mm_fmadd_ps(lo, dd, acc);
    acc = _mm_fmadd_ps(_mm_movehl_ps(lo, lo), dd, acc);
    acc = _mm_fmadd_ps(hi, dd, acc);
    return _mm_fmadd_ps(_mm_movehl_ps(hi, hi), dd, acc);
}

/* AVX2 version of lrq_dot_q2_K_gemm_ref: same contract, same result bits. */
void lrq_dot_q2_K_gemm_avx2(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    const uint8_t *x = vx, *y = vy;
    const __m256i m3 = _mm256_set1_epi8(3);
    const __m128i m4 = _mm_set1_epi8(0xf);
    const __m256i c0 = ctrl_pair(0), c1 = ctrl_pair(1), c2 = ctrl_pair(2), c3 = ctrl_pair(3);
    __m128 acc = _mm_setzero_ps();
    for (int64_t b = 0; b < n / LRQ_QK_K; b++, x += LRQ_Q2K_SIZE, y += LRQ_Q8K_SIZE) {
        const __m128i sm = LOAD128(x + LRQ_Q2K_SCALES);
        const __m256i sc16 = _mm256_cvtepu8_epi16(_mm_and_si128(sm, m4));
        const __m256i mn16 = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(sm, 4), m4));
        const __m256i msum = _mm256_madd_epi16(mn16, LOAD256(y + LRQ_Q8K_BSUMS)); /* lanes 0-3: group 0 */
        const int8_t *q8 = (const int8_t *)(y + LRQ_Q8K_QS);
        __m256i isum[2];
        for (int h = 0; h < 2; h++, q8 += 128) {
            const __m256i qv = LOAD256(x + LRQ_Q2K_QS + 32 * h);
            const __m256i sch = h ? _mm256_permute4x64_epi64(sc16, 0xee) : _mm256_permute4x64_epi64(sc16, 0x44);
            const __m256i p0 = _mm256_maddubs_epi16(_mm256_and_si256(qv, m3), LOAD256(q8));
            const __m256i p1 = _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(qv, 2), m3), LOAD256(q8 + 32));
            const __m256i p2 = _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(qv, 4), m3), LOAD256(q8 + 64));
            const __m256i p3 = _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(qv, 6), m3), LOAD256(q8 + 96));
            const __m256i s0 = _mm256_madd_epi16(p0, _mm256_shuffle_epi8(sch, c0));
            const __m256i s1 = _mm256_madd_epi16(p1, _mm256_shuffle_epi8(sch, c1));
            const __m256i s2 = _mm256_madd_epi16(p2, _mm256_shuffle_epi8(sch, c2));
            const __m256i s3 = _mm256_madd_epi16(p3, _mm256_shuffle_epi8(sch, c3));
            isum[h] = _mm256_add_epi32(_mm256_add_epi32(s0, s1), _mm256_add_epi32(s2, s3));
        }
        /* [S0 S1 M0 M1] */
        const __m256i r = _mm256_hadd_epi32(isum[0], isum[1]);
        const __m128i sq = _mm_add_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
        const __m128i mq = _mm_hadd_epi32(_mm256_castsi256_si128(msum), _mm256_extracti128_si256(msum, 1));
        const __m128 f = _mm_cvtepi32_ps(_mm_hadd_epi32(sq, mq));
        const __m128 dd = _mm_mul_ps(load_f16x2(x + LRQ_Q2K_D), _mm_set1_ps(lrq_k_f32(y + LRQ_Q8K_D)));
        acc = _mm_fmadd_ps(_mm_shuffle_ps(f, f, 0x08), dd, acc); /* [S0, M0] */
        acc = _mm_fmadd_ps(_mm_shuffle_ps(f, f, 0x0d), dd, acc); /* [S1, M1] */
    }
    *s = _mm_cvtss_f32(acc) - _mm_cvtss_f32(_mm_shuffle_ps(acc, acc, 1));
}

/* AVX2 version of lrq_dot_q4_K_gemm_ref: same contract, same result bits. */
void lrq_dot_q4_K_gemm_avx2(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    const uint8_t *x = vx, *y = vy;
    const __m256i m4 = _mm256_set1_epi8(0xf);
    __m128 acc = _mm_setzero_ps();
    for (int64_t b = 0; b < n / LRQ_QK_K; b++, x += LRQ_Q4K_SIZE, y += LRQ_Q8K_SIZE) {
        const __m256i sm16 = k4_scales_epi16(x + LRQ_Q4K_SCALES);
        const __m256i sc = _mm256_permute4x64_epi64(sm16, 0x44);
        const __m256i msum = mins_x_bsums32(_mm256_extracti128_si256(sm16, 1), y);
        const int8_t *q8 = (const int8_t *)(y + LRQ_Q8K_QS);
        const uint8_t *qs = x + LRQ_Q4K_QS;
        __m256i p[4];
        for (int g = 0; g < 4; g++, qs += 32, q8 += 64) {
            const __m256i qv = LOAD256(qs);
            const __m256i plo = _mm256_maddubs_epi16(_mm256_and_si256(qv, m4), LOAD256(q8));
            const __m256i phi = _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(qv, 4), m4), LOAD256(q8 + 32));
            p[g] = _mm256_add_epi32(_mm256_madd_epi16(plo, _mm256_shuffle_epi8(sc, ctrl_one(2 * g))),
                                    _mm256_madd_epi16(phi, _mm256_shuffle_epi8(sc, ctrl_one(2 * g + 1))));
        }
        const __m128i S = hsum4_epi32(p[0], p[1], p[2], p[3]);
        /* M_g = lanes 2g + 2g+1 of msum */
        const __m128i M = _mm256_castsi256_si128(_mm256_permute4x64_epi64(_mm256_hadd_epi32(msum, msum), 0x08));
        const __m128 dd = _mm_mul_ps(load_f16x2(x + LRQ_Q4K_D), _mm_set1_ps(lrq_k_f32(y + LRQ_Q8K_D)));
        acc = fma_groups4(acc, S, M, _mm_movelh_ps(dd, dd));
    }
    *s = _mm_cvtss_f32(acc) - _mm_cvtss_f32(_mm_shuffle_ps(acc, acc, 1));
}
