/* dot_legacy_avx2.c — AVX2 + FMA + F16C dot products for the legacy types
 * (same contracts as the scalar references in dot_legacy_ref.c; results
 * differ from them only by float summation order). Compiled with
 * -mavx2 -mfma -mf16c and only called when the CPU has them (qtypes.c).
 *
 * Integer blocks use vpmaddubsw (u8 x s8 -> pairs summed to i16) and
 * vpmaddwd to widen. For the types with an offset (q4_0: nibble - 8,
 * q5_0: value - 16) the unsigned quants go straight into maddubs and the
 * offset is removed with a second maddubs of the constant against y:
 *   sum (u - c) * y = maddubs(u, y) - maddubs(c, y)
 * which is exact (all pair sums fit in i16). The signed x signed types
 * (q8_0, iq4_nl) use the usual sign trick |x| * (y * sign x): exact for
 * every weight byte as long as no activation quant is -128 (negating -128
 * overflows); lrq_act_q8_0 produces -128 only from inf/NaN input. */
#include "fmt/impl.h"
#include "kern/dots.h"
#include "fmt/blocks.h"
#include "core/core.h"

#include <immintrin.h>


static inline float h2f(const uint8_t *p) { return _cvtsh_ss(lrq_rd16(p)); }

static inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* 16 packed nibbles -> 32 bytes 0..15 in element order (low nibbles are
 * elements 0..15, high nibbles 16..31). */
static inline __m256i nibbles32(const uint8_t *p) {
    const __m128i raw = _mm_loadu_si128((const __m128i *)p);
    const __m256i both = _mm256_set_m128i(_mm_srli_epi16(raw, 4), raw);
    return _mm256_and_si256(both, _mm256_set1_epi8(0x0f));
}

/* qh (32 bits) -> 0x10 in every byte whose bit is set. */
static inline __m256i bit5_32(uint32_t qh) {
    const __m256i rep = _mm256_shuffle_epi8(_mm256_set1_epi32((int)qh),
        _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0));
    const __m256i sel = _mm256_set1_epi64x((long long)0x8040201008040201ull);
    const __m256i on = _mm256_cmpeq_epi8(_mm256_and_si256(rep, sel), sel);
    return _mm256_and_si256(on, _mm256_set1_epi8(0x10));
}

/* Eight i32 partial sums of u[i] * y[i] - c * y[i] (u unsigned bytes). */
static inline __m256i dot_u8_off(__m256i u, __m256i y, __m256i c) {
    const __m256i p = _mm256_sub_epi16(_mm256_maddubs_epi16(u, y), _mm256_maddubs_epi16(c, y));
    return _mm256_madd_epi16(p, _mm256_set1_epi16(1));
}

/* Eight i32 partial sums of u[i] * y[i] (u unsigned, y signed). */
static inline __m256i dot_u8(__m256i u, __m256i y) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, y), _mm256_set1_epi16(1));
}

/* Eight i32 partial sums of x[i] * y[i], both signed (see header). */
static inline __m256i dot_s8(__m256i x, __m256i y) {
    return dot_u8(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
}

void lrq_dot_q4_0_avx2(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % LRQ_QK0 == 0);
    const uint8_t *x = vx, *y = vy;
    const int64_t nb = n / LRQ_QK0;
    const __m256i eight = _mm256_set1_epi8(8);
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t ib = 0;
    for (; ib + 1 < nb; ib += 2, x += 36, y += 68) {
        __m256i p0 = dot_u8_off(nibbles32(x + 2), _mm256_loadu_si256((const __m256i *)(y + 2)), eight);
        __m256i p1 = dot_u8_off(nibbles32(x + 20), _mm256_loadu_si256((const __m256i *)(y + 36)), eight);
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x) * h2f(y)), _mm256_cvtepi32_ps(p0), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x + 18) * h2f(y + 34)), _mm256_cvtepi32_ps(p1), acc1);
    }
    for (; ib < nb; ib++, x += 18, y += 34) {
        __m256i p0 = dot_u8_off(nibbles32(x + 2), _mm256_loadu_si256((const __m256i *)(y + 2)), eight);
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x) * h2f(y)), _mm256_cvtepi32_ps(p0), acc0);
    }
    *s = hsum8(_mm256_add_ps(acc0, acc1));
}

void lrq_dot_q4_1_avx2(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % LRQ_QK0 == 0);
    const uint8_t *x = vx, *y = vy;
    const int64_t nb = n / LRQ_QK0;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    float off = 0.0f;
    int64_t ib = 0;
    for (; ib + 1 < nb; ib += 2, x += 40, y += 72) {
        __m256i p0 = dot_u8(nibbles32(x + 4), _mm256_loadu_si256((const __m256i *)(y + 4)));
        __m256i p1 = dot_u8(nibbles32(x + 24), _mm256_loadu_si256((const __m256i *)(y + 40)));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x) * h2f(y)), _mm256_cvtepi32_ps(p0), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x + 20) * h2f(y + 36)), _mm256_cvtepi32_ps(p1), acc1);
        off += h2f(x + 2) * h2f(y + 2) + h2f(x + 22) * h2f(y + 38);
    }
    for (; ib < nb; ib++, x += 20, y += 36) {
        __m256i p0 = dot_u8(nibbles32(x + 4), _mm256_loadu_si256((const __m256i *)(y + 4)));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x) * h2f(y)), _mm256_cvtepi32_ps(p0), acc0);
        off += h2f(x + 2) * h2f(y + 2);
    }
    *s = hsum8(_mm256_add_ps(acc0, acc1)) + off;
}

void lrq_dot_q5_0_avx2(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % LRQ_QK0 == 0);
    const uint8_t *x = vx, *y = vy;
    const int64_t nb = n / LRQ_QK0;
    const __m256i sixteen = _mm256_set1_epi8(16);
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t ib = 0;
    for (; ib + 1 < nb; ib += 2, x += 44, y += 68) {
        __m256i u0 = _mm256_or_si256(nibbles32(x + 6), bit5_32(lrq_rd32(x + 2)));
        __m256i u1 = _mm256_or_si256(nibbles32(x + 28), bit5_32(lrq_rd32(x + 24)));
        __m256i p0 = dot_u8_off(u0, _mm256_loadu_si256((const __m256i *)(y + 2)), sixteen);
        __m256i p1 = dot_u8_off(u1, _mm256_loadu_si256((const __m256i *)(y + 36)), sixteen);
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x) * h2f(y)), _mm256_cvtepi32_ps(p0), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x + 22) * h2f(y + 34)), _mm256_cvtepi32_ps(p1), acc1);
    }
    for (; ib < nb; ib++, x += 22, y += 34) {
        __m256i u0 = _mm256_or_si256(nibbles32(x + 6), bit5_32(lrq_rd32(x + 2)));
        __m256i p0 = dot_u8_off(u0, _mm256_loadu_si256((const __m256i *)(y + 2)), sixteen);
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x) * h2f(y)), _mm256_cvtepi32_ps(p0), acc0);
    }
    *s = hsum8(_mm256_add_ps(acc0, acc1));
}

void lrq_dot_q5_1_avx2(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % LRQ_QK0 == 0);
    const uint8_t *x = vx, *y = vy;
    const int64_t nb = n / LRQ_QK0;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    float off = 0.0f;
    int64_t ib = 0;
    for (; ib + 1 < nb; ib += 2, x += 48, y += 72) {
        __m256i u0 = _mm256_or_si256(nibbles32(x + 8), bit5_32(lrq_rd32(x + 4)));
        __m256i u1 = _mm256_or_si256(nibbles32(x + 32), bit5_32(lrq_rd32(x + 28)));
        __m256i p0 = dot_u8(u0, _mm256_loadu_si256((const __m256i *)(y + 4)));
        __m256i p1 = dot_u8(u1, _mm256_loadu_si256((const __m256i *)(y + 40)));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x) * h2f(y)), _mm256_cvtepi32_ps(p0), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x + 24) * h2f(y + 36)), _mm256_cvtepi32_ps(p1), acc1);
        off += h2f(x + 2) * h2f(y + 2) + h2f(x + 26) * h2f(y + 38);
    }
    for (; ib < nb; ib++, x += 24, y += 36) {
        __m256i u0 = _mm256_or_si256(nibbles32(x + 8), bit5_32(lrq_rd32(x + 4)));
        __m256i p0 = dot_u8(u0, _mm256_loadu_si256((const __m256i *)(y + 4)));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x) * h2f(y)), _mm256_cvtepi32_ps(p0), acc0);
        off += h2f(x + 2) * h2f(y + 2);
    }
    *s = hsum8(_mm256_add_ps(acc0, acc1)) + off;
}

void lrq_dot_q8_0_avx2(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % LRQ_QK0 == 0);
    const uint8_t *x = vx, *y = vy;
    const int64_t nb = n / LRQ_QK0;
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t ib = 0;
    for (; ib + 1 < nb; ib += 2, x += 68, y += 68) {
        __m256i p0 = dot_s8(_mm256_loadu_si256((const __m256i *)(x + 2)), _mm256_loadu_si256((const __m256i *)(y + 2)));
        __m256i p1 = dot_s8(_mm256_loadu_si256((const __m256i *)(x + 36)), _mm256_loadu_si256((const __m256i *)(y + 36)));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x) * h2f(y)), _mm256_cvtepi32_ps(p0), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x + 34) * h2f(y + 34)), _mm256_cvtepi32_ps(p1), acc1);
    }
    for (; ib < nb; ib++, x += 34, y += 34) {
        __m256i p0 = dot_s8(_mm256_loadu_si256((const __m256i *)(x + 2)), _mm256_loadu_si256((const __m256i *)(y + 2)));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x) * h2f(y)), _mm256_cvtepi32_ps(p0), acc0);
    }
    *s = hsum8(_mm256_add_ps(acc0, acc1));
}

/* The IQ4_NL grid (file format constant), as a byte lookup table. */
static inline __m256i iq4nl_table(void) {
    const __m128i t = _mm_loadu_si128((const __m128i *)(const void *)lrq_iq4nl_grid);
    return _mm256_broadcastsi128_si256(t);
}

void lrq_dot_iq4_nl_avx2(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % LRQ_QK0 == 0);
    const uint8_t *x = vx, *y = vy;
    const int64_t nb = n / LRQ_QK0;
    const __m256i tab = iq4nl_table();
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t ib = 0;
    for (; ib + 1 < nb; ib += 2, x += 36, y += 68) {
        __m256i v0 = _mm256_shuffle_epi8(tab, nibbles32(x + 2));
        __m256i v1 = _mm256_shuffle_epi8(tab, nibbles32(x + 20));
        __m256i p0 = dot_s8(v0, _mm256_loadu_si256((const __m256i *)(y + 2)));
        __m256i p1 = dot_s8(v1, _mm256_loadu_si256((const __m256i *)(y + 36)));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x) * h2f(y)), _mm256_cvtepi32_ps(p0), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x + 18) * h2f(y + 34)), _mm256_cvtepi32_ps(p1), acc1);
    }
    for (; ib < nb; ib++, x += 18, y += 34) {
        __m256i v0 = _mm256_shuffle_epi8(tab, nibbles32(x + 2));
        __m256i p0 = dot_s8(v0, _mm256_loadu_si256((const __m256i *)(y + 2)));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(h2f(x) * h2f(y)), _mm256_cvtepi32_ps(p0), acc0);
    }
    *s = hsum8(_mm256_add_ps(acc0, acc1));
}

/* ---- float types: 32 values per step in four independent accumulators ---- */

void lrq_dot_f32_avx2(int64_t n, float *s, const void *vx, const void *vy) {
    const float *x = vx, *y = vy;
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8), a1);
        a2 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 16), _mm256_loadu_ps(y + i + 16), a2);
        a3 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 24), _mm256_loadu_ps(y + i + 24), a3);
    }
    for (; i + 8 <= n; i += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), a0);
    float sum = hsum8(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    for (; i < n; i++) sum += x[i] * y[i];
    *s = sum;
}

static inline __m256 ld_f16x8(const uint8_t *p) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p)); }

void lrq_dot_f16_avx2(int64_t n, float *s, const void *vx, const void *vy) {
    const uint8_t *x = vx, *y = vy;
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm256_fmadd_ps(ld_f16x8(x + 2 * i), ld_f16x8(y + 2 * i), a0);
        a1 = _mm256_fmadd_ps(ld_f16x8(x + 2 * i + 16), ld_f16x8(y + 2 * i + 16), a1);
        a2 = _mm256_fmadd_ps(ld_f16x8(x + 2 * i + 32), ld_f16x8(y + 2 * i + 32), a2);
        a3 = _mm256_fmadd_ps(ld_f16x8(x + 2 * i + 48), ld_f16x8(y + 2 * i + 48), a3);
    }
    for (; i + 8 <= n; i += 8) a0 = _mm256_fmadd_ps(ld_f16x8(x + 2 * i), ld_f16x8(y + 2 * i), a0);
    float sum = hsum8(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    for (; i < n; i++) sum += h2f(x + 2 * i) * h2f(y + 2 * i);
    *s = sum;
}

static inline __m256 ld_bf16x8(const uint8_t *p) {
    const __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
}

void lrq_dot_bf16_avx2(int64_t n, float *s, const void *vx, const void *vy) {
    const uint8_t *x = vx, *y = vy;
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm256_fmadd_ps(ld_bf16x8(x + 2 * i), ld_bf16x8(y + 2 * i), a0);
        a1 = _mm256_fmadd_ps(ld_bf16x8(x + 2 * i + 16), ld_bf16x8(y + 2 * i + 16), a1);
        a2 = _mm256_fmadd_ps(ld_bf16x8(x + 2 * i + 32), ld_bf16x8(y + 2 * i + 32), a2);
        a3 = _mm256_fmadd_ps(ld_bf16x8(x + 2 * i + 48), ld_bf16x8(y + 2 * i + 48), a3);
    }
    for (; i + 8 <= n; i += 8) a0 = _mm256_fmadd_ps(ld_bf16x8(x + 2 * i), ld_bf16x8(y + 2 * i), a0);
    float sum = hsum8(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    for (; i < n; i++) sum += lrq_bf16_to_f32(lrq_rd16(x + 2 * i)) * lrq_bf16_to_f32(lrq_rd16(y + 2 * i));
    *s = sum;
}
