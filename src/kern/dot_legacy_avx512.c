/* dot_legacy_avx512.c — AVX-512 (F/BW/VL/DQ/VNNI) dot products for the
 * legacy types (same contracts as dot_legacy_ref.c; results differ from the
 * references only by float summation order). Compiled with the AVX-512
 * flags and only called when the CPU has them (qtypes.c). No AVX512-BF16 or
 * VBMI instructions are used: qtypes.c does not check for them.
 *
 * Integer blocks: two 32-value blocks per 512-bit register, products by
 * vpdpbusd (u8 x s8, four products summed into each i32 lane, no
 * saturation). Signed weights are made unsigned by an offset c that is then
 * removed exactly with a second vpdpbusd of the constant against y:
 *   sum (u - c) * y = dpbusd(u, y) - dpbusd(c, y)
 * with u = nibble (q4_0, c = 8), 5-bit value (q5_0, c = 16), x ^ 0x80
 * (q8_0, c = 128) or grid value + 128 (iq4_nl, c = 128). This is exact for
 * every byte value, unlike the sign trick.
 * Each block's eight i32 lanes are scaled by d_x * d_y in float and summed
 * lane-wise; block scales are gathered four at a time with vpermt2w and
 * converted with one vcvtph2ps (no scalar loads). */
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

static inline float hsum16(__m512 v) {
    return hsum8(_mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1)));
}

/* Block scales, four blocks at a time, without scalar loads: the f16 scale
 * words are picked out of two 64-byte loads of the x blocks and two of the y
 * blocks with vpermt2w, then widened with one vcvtph2ps. The load windows
 * are [p, p + 64) and [p + W2, p + W2 + 64) with W2 = 4*BS - 64 for blocks
 * under 32 bytes and 2*BS otherwise: both inside the four blocks, and
 * together they hold every scale word (at bytes k*BS and k*BS + 2).
 * Word layout of the result: 0..3 d_x, 4..7 d_y, 8..11 m_x, 12..15 s_y
 * (m at byte 2 of x blocks, s at byte 2 of q8_1 blocks). */
#define W2(BS) ((BS) >= 32 ? 2 * (BS) : 4 * (BS) - 64)
#define SW_(BS, off, k) (((k) * (BS) + (off)) / 2)
#define SW(BS, off, k) (SW_(BS, off, k) < 32 ? SW_(BS, off, k) : SW_(BS, off, k) - W2(BS) / 2 + 32)
#define SCALE_IDX(BS)                                                                                 \
    {SW(BS, 0, 0), SW(BS, 0, 1), SW(BS, 0, 2), SW(BS, 0, 3), SW(BS, 0, 0), SW(BS, 0, 1), SW(BS, 0, 2), \
     SW(BS, 0, 3), SW(BS, 2, 0), SW(BS, 2, 1), SW(BS, 2, 2), SW(BS, 2, 3), SW(BS, 2, 0), SW(BS, 2, 1), \
     SW(BS, 2, 2), SW(BS, 2, 3), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
/* Valid for 16 <= BS <= 60: then 4*BS >= W2 + 64, the scale words of
 * blocks 0 and 1 lie in the first window and every word at byte >= 64 in
 * the second (checked per type in DOT_LOOP). */
#define WINDOWS_OK(BS) ((BS) >= 16 && (BS) <= 60 && (BS) % 2 == 0)

/* The 16 scale words of four blocks (x of xbs bytes, y of ybs bytes),
 * widened to floats. */
static inline __m512 scales4(const uint8_t *x, int xbs, __m512i xidx, const uint8_t *y, int ybs, __m512i yidx) {
    const __m512i dx = _mm512_permutex2var_epi16(_mm512_loadu_si512((const void *)x), xidx,
                                                 _mm512_loadu_si512((const void *)(x + W2(xbs))));
    const __m512i dy = _mm512_permutex2var_epi16(_mm512_loadu_si512((const void *)y), yidx,
                                                 _mm512_loadu_si512((const void *)(y + W2(ybs))));
    return _mm512_cvtph_ps(_mm512_castsi512_si256(_mm512_mask_blend_epi16(0xf0f0, dx, dy)));
}

/* d_x * d_y of the four blocks, and m_x * s_y (q4_1, q5_1). */
static inline __m128 dprod4(__m512 f) {
    return _mm_mul_ps(_mm512_castps512_ps128(f), _mm512_extractf32x4_ps(f, 1));
}
static inline __m128 mprod4(__m512 f) {
    return _mm_mul_ps(_mm512_extractf32x4_ps(f, 2), _mm512_extractf32x4_ps(f, 3));
}

/* Broadcast scale k of s4 to lanes 0..7 and scale k+1 to lanes 8..15. */
static inline __m512 spread2(__m128 s4, int k) {
    const __m512i idx = _mm512_set_epi32(k + 1, k + 1, k + 1, k + 1, k + 1, k + 1, k + 1, k + 1, k, k, k, k, k, k, k, k);
    return _mm512_permutexvar_ps(idx, _mm512_castps128_ps512(s4));
}

/* Two blocks' 16 packed nibbles -> 64 bytes 0..15 in element order:
 * [A 0..15 | A 16..31 | B 0..15 | B 16..31] (broadcast loads put each
 * block's bytes in two 128-bit lanes; the odd lanes take the high nibbles). */
static inline __m512i nibbles64(const uint8_t *pa, const uint8_t *pb) {
    __m512i v = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)pa));
    v = _mm512_mask_broadcast_i32x4(v, 0xff00, _mm_loadu_si128((const __m128i *)pb));
    const __m512i sh = _mm512_setr_epi64(0, 0, 0x0004000400040004, 0x0004000400040004, 0, 0, 0x0004000400040004,
                                         0x0004000400040004);
    return _mm512_and_si512(_mm512_srlv_epi16(v, sh), _mm512_set1_epi8(0x0f));
}

/* One block's nibbles -> 32 bytes 0..15 in element order. */
static inline __m256i nibbles32(const uint8_t *p) {
    const __m128i raw = _mm_loadu_si128((const __m128i *)p);
    return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(raw, 4), raw), _mm256_set1_epi8(0x0f));
}

/* 32 quant bytes of two blocks at pa and pb. */
static inline __m512i bytes64(const uint8_t *pa, const uint8_t *pb) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)pa)),
                              _mm256_loadu_si256((const __m256i *)pb), 1);
}
static inline __m256i bytes32(const uint8_t *p) { return _mm256_loadu_si256((const __m256i *)p); }

/* sum (u - c) * y per i32 lane. */
static inline __m512i dp_off512(__m512i u, __m512i y, __m512i c) {
    const __m512i z = _mm512_setzero_si512();
    return _mm512_sub_epi32(_mm512_dpbusd_epi32(z, u, y), _mm512_dpbusd_epi32(z, c, y));
}
static inline __m256i dp_off256(__m256i u, __m256i y, __m256i c) {
    const __m256i z = _mm256_setzero_si256();
    return _mm256_sub_epi32(_mm256_dpbusd_epi32(z, u, y), _mm256_dpbusd_epi32(z, c, y));
}
static inline __m512i dp512(__m512i u, __m512i y) { return _mm512_dpbusd_epi32(_mm512_setzero_si512(), u, y); }
static inline __m256i dp256(__m256i u, __m256i y) { return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, y); }

/* The loop shared by all integer types. XS, LRQ_Q8_0_SIZE: block sizes of x and y;
 * KERN2(xa, xb, ya, yb) -> __m512i lane sums of blocks a and b;
 * KERN1(xa, ya) -> __m256i lane sums of one block (the last nb % 4 blocks);
 * OFF: 1 if the type adds m_x * s_y per block (q4_1, q5_1: m at x + 2,
 * s at y + 2). */
#define DOT_LOOP(XS, LRQ_Q8_0_SIZE, KERN2, KERN1, OFF)                                                          \
    LRQ_ASSERT(n % LRQ_QK0 == 0);                                                                         \
    _Static_assert(WINDOWS_OK(XS) && WINDOWS_OK(LRQ_Q8_0_SIZE), "scale windows");                              \
    static const uint16_t xidx_tab[32] = SCALE_IDX(XS), yidx_tab[32] = SCALE_IDX(LRQ_Q8_0_SIZE);                \
    const __m512i xidx = _mm512_loadu_si512((const void *)xidx_tab);                                 \
    const __m512i yidx = _mm512_loadu_si512((const void *)yidx_tab);                                 \
    const uint8_t *x = vx, *y = vy;                                                                  \
    const int64_t nb = n / LRQ_QK0;                                                                       \
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();                                   \
    __m128 offv = _mm_setzero_ps();                                                                  \
    int64_t ib = 0;                                                                                  \
    for (; ib + 4 <= nb; ib += 4, x += 4 * (XS), y += 4 * (LRQ_Q8_0_SIZE)) {                                    \
        const __m512 sc = scales4(x, (XS), xidx, y, (LRQ_Q8_0_SIZE), yidx);                                     \
        const __m128 d4 = dprod4(sc);                                                                \
        const __m512i p01 = KERN2(x, x + (XS), y, y + (LRQ_Q8_0_SIZE));                                         \
        const __m512i p23 = KERN2(x + 2 * (XS), x + 3 * (XS), y + 2 * (LRQ_Q8_0_SIZE), y + 3 * (LRQ_Q8_0_SIZE));           \
        acc0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p01), spread2(d4, 0), acc0);                       \
        acc1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p23), spread2(d4, 2), acc1);                       \
        if (OFF) offv = _mm_add_ps(offv, mprod4(sc));                                                \
    }                                                                                                \
    __m256 acc2 = _mm256_setzero_ps();                                                               \
    float off = 0.0f;                                                                                \
    for (; ib < nb; ib++, x += (XS), y += (LRQ_Q8_0_SIZE)) {                                                    \
        acc2 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(KERN1(x, y)), _mm256_set1_ps(h2f(x) * h2f(y)), acc2); \
        if (OFF) off += h2f(x + 2) * h2f(y + 2);                                                     \
    }                                                                                                \
    float sum = hsum16(_mm512_add_ps(acc0, acc1)) + hsum8(acc2);                                     \
    if (OFF) {                                                                                       \
        offv = _mm_add_ps(offv, _mm_movehl_ps(offv, offv));                                          \
        offv = _mm_add_ss(offv, _mm_movehdup_ps(offv));                                              \
        sum += _mm_cvtss_f32(offv) + off;                                                            \
    }                                                                                                \
    *s = sum;

/* ---- q4_0: d | qs[16]; y = q8_0 ---- */
static inline __m512i q4_0_k2(const uint8_t *xa, const uint8_t *xb, const uint8_t *ya, const uint8_t *yb) {
    return dp_off512(nibbles64(xa + 2, xb + 2), bytes64(ya + 2, yb + 2), _mm512_set1_epi8(8));
}
static inline __m256i q4_0_k1(const uint8_t *xa, const uint8_t *ya) {
    return dp_off256(nibbles32(xa + 2), bytes32(ya + 2), _mm256_set1_epi8(8));
}
void lrq_dot_q4_0_avx512(int64_t n, float *s, const void *vx, const void *vy) {
    DOT_LOOP(18, 34, q4_0_k2, q4_0_k1, 0)
}

/* ---- q4_1: d | m | qs[16]; y = q8_1 (d | s | qs[32]) ---- */
static inline __m512i q4_1_k2(const uint8_t *xa, const uint8_t *xb, const uint8_t *ya, const uint8_t *yb) {
    return dp512(nibbles64(xa + 4, xb + 4), bytes64(ya + 4, yb + 4));
}
static inline __m256i q4_1_k1(const uint8_t *xa, const uint8_t *ya) {
    return dp256(nibbles32(xa + 4), bytes32(ya + 4));
}
void lrq_dot_q4_1_avx512(int64_t n, float *s, const void *vx, const void *vy) {
    DOT_LOOP(20, 36, q4_1_k2, q4_1_k1, 1)
}

/* ---- q5_0: d | qh[4] | qs[16]; y = q8_0. Bit i of qh is bit 4 of element
 * i, so the two blocks' qh words form a byte mask in element order. ---- */
static inline __m512i q5_0_k2(const uint8_t *xa, const uint8_t *xb, const uint8_t *ya, const uint8_t *yb) {
    const __mmask64 hi = (__mmask64)lrq_rd32(xa + 2) | ((__mmask64)lrq_rd32(xb + 2) << 32);
    __m512i u = nibbles64(xa + 6, xb + 6);
    u = _mm512_or_si512(u, _mm512_maskz_mov_epi8(hi, _mm512_set1_epi8(16)));
    return dp_off512(u, bytes64(ya + 2, yb + 2), _mm512_set1_epi8(16));
}
static inline __m256i q5_0_k1(const uint8_t *xa, const uint8_t *ya) {
    const __mmask32 hi = (__mmask32)lrq_rd32(xa + 2);
    __m256i u = _mm256_or_si256(nibbles32(xa + 6), _mm256_maskz_mov_epi8(hi, _mm256_set1_epi8(16)));
    return dp_off256(u, bytes32(ya + 2), _mm256_set1_epi8(16));
}
void lrq_dot_q5_0_avx512(int64_t n, float *s, const void *vx, const void *vy) {
    DOT_LOOP(22, 34, q5_0_k2, q5_0_k1, 0)
}

/* ---- q5_1: d | m | qh[4] | qs[16]; y = q8_1 ---- */
static inline __m512i q5_1_k2(const uint8_t *xa, const uint8_t *xb, const uint8_t *ya, const uint8_t *yb) {
    const __mmask64 hi = (__mmask64)lrq_rd32(xa + 4) | ((__mmask64)lrq_rd32(xb + 4) << 32);
    __m512i u = nibbles64(xa + 8, xb + 8);
    u = _mm512_or_si512(u, _mm512_maskz_mov_epi8(hi, _mm512_set1_epi8(16)));
    return dp512(u, bytes64(ya + 4, yb + 4));
}
static inline __m256i q5_1_k1(const uint8_t *xa, const uint8_t *ya) {
    const __mmask32 hi = (__mmask32)lrq_rd32(xa + 4);
    __m256i u = _mm256_or_si256(nibbles32(xa + 8), _mm256_maskz_mov_epi8(hi, _mm256_set1_epi8(16)));
    return dp256(u, bytes32(ya + 4));
}
void lrq_dot_q5_1_avx512(int64_t n, float *s, const void *vx, const void *vy) {
    DOT_LOOP(24, 36, q5_1_k2, q5_1_k1, 1)
}

/* ---- q8_0: d | qs[32] int8; y = q8_0. u = x + 128 = x ^ 0x80. ---- */
static inline __m512i q8_0_k2(const uint8_t *xa, const uint8_t *xb, const uint8_t *ya, const uint8_t *yb) {
    const __m512i c = _mm512_set1_epi8((char)0x80);
    return dp_off512(_mm512_xor_si512(bytes64(xa + 2, xb + 2), c), bytes64(ya + 2, yb + 2), c);
}
static inline __m256i q8_0_k1(const uint8_t *xa, const uint8_t *ya) {
    const __m256i c = _mm256_set1_epi8((char)0x80);
    return dp_off256(_mm256_xor_si256(bytes32(xa + 2), c), bytes32(ya + 2), c);
}
void lrq_dot_q8_0_avx512(int64_t n, float *s, const void *vx, const void *vy) {
    DOT_LOOP(34, 34, q8_0_k2, q8_0_k1, 0)
}

/* ---- iq4_nl: d | qs[16] grid indices; y = q8_0. The lookup table holds
 * grid + 128 (1..241) so the looked-up bytes are unsigned. ---- */
static inline __m128i iq4nl_table_u(void) {
    return _mm_xor_si128(_mm_loadu_si128((const __m128i *)(const void *)lrq_iq4nl_grid), _mm_set1_epi8((char)0x80));
}
static inline __m512i iq4_nl_k2(const uint8_t *xa, const uint8_t *xb, const uint8_t *ya, const uint8_t *yb) {
    const __m512i u = _mm512_shuffle_epi8(_mm512_broadcast_i32x4(iq4nl_table_u()), nibbles64(xa + 2, xb + 2));
    return dp_off512(u, bytes64(ya + 2, yb + 2), _mm512_set1_epi8((char)0x80));
}
static inline __m256i iq4_nl_k1(const uint8_t *xa, const uint8_t *ya) {
    const __m256i u = _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(iq4nl_table_u()), nibbles32(xa + 2));
    return dp_off256(u, bytes32(ya + 2), _mm256_set1_epi8((char)0x80));
}
void lrq_dot_iq4_nl_avx512(int64_t n, float *s, const void *vx, const void *vy) {
    DOT_LOOP(18, 34, iq4_nl_k2, iq4_nl_k1, 0)
}

/* ---- float types: 64 values per step in four accumulators; the tail uses
 * masked loads (masked-off lanes read nothing and contribute 0). ---- */

static inline __mmask16 tail_mask(int64_t r) { return (__mmask16)((1u << r) - 1u); }

void lrq_dot_f32_avx512(int64_t n, float *s, const void *vx, const void *vy) {
    const float *x = vx, *y = vy;
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        a0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i), a0);
        a1 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 16), _mm512_loadu_ps(y + i + 16), a1);
        a2 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 32), _mm512_loadu_ps(y + i + 32), a2);
        a3 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 48), _mm512_loadu_ps(y + i + 48), a3);
    }
    for (; i + 16 <= n; i += 16) a0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i), a0);
    if (i < n) {
        const __mmask16 m = tail_mask(n - i);
        a1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, y + i), a1);
    }
    *s = hsum16(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

static inline __m512 ld_f16x16(const uint8_t *p) { return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p)); }
static inline __m512 ld_f16x16_m(__mmask16 m, const uint8_t *p) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
}

void lrq_dot_f16_avx512(int64_t n, float *s, const void *vx, const void *vy) {
    const uint8_t *x = vx, *y = vy;
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        a0 = _mm512_fmadd_ps(ld_f16x16(x + 2 * i), ld_f16x16(y + 2 * i), a0);
        a1 = _mm512_fmadd_ps(ld_f16x16(x + 2 * i + 32), ld_f16x16(y + 2 * i + 32), a1);
        a2 = _mm512_fmadd_ps(ld_f16x16(x + 2 * i + 64), ld_f16x16(y + 2 * i + 64), a2);
        a3 = _mm512_fmadd_ps(ld_f16x16(x + 2 * i + 96), ld_f16x16(y + 2 * i + 96), a3);
    }
    for (; i + 16 <= n; i += 16) a0 = _mm512_fmadd_ps(ld_f16x16(x + 2 * i), ld_f16x16(y + 2 * i), a0);
    if (i < n) {
        const __mmask16 m = tail_mask(n - i);
        a1 = _mm512_fmadd_ps(ld_f16x16_m(m, x + 2 * i), ld_f16x16_m(m, y + 2 * i), a1);
    }
    *s = hsum16(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

static inline __m512 bf16_widen(__m256i h) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}
static inline __m512 ld_bf16x16(const uint8_t *p) { return bf16_widen(_mm256_loadu_si256((const __m256i *)p)); }

void lrq_dot_bf16_avx512(int64_t n, float *s, const void *vx, const void *vy) {
    const uint8_t *x = vx, *y = vy;
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        a0 = _mm512_fmadd_ps(ld_bf16x16(x + 2 * i), ld_bf16x16(y + 2 * i), a0);
        a1 = _mm512_fmadd_ps(ld_bf16x16(x + 2 * i + 32), ld_bf16x16(y + 2 * i + 32), a1);
        a2 = _mm512_fmadd_ps(ld_bf16x16(x + 2 * i + 64), ld_bf16x16(y + 2 * i + 64), a2);
        a3 = _mm512_fmadd_ps(ld_bf16x16(x + 2 * i + 96), ld_bf16x16(y + 2 * i + 96), a3);
    }
    for (; i + 16 <= n; i += 16) a0 = _mm512_fmadd_ps(ld_bf16x16(x + 2 * i), ld_bf16x16(y + 2 * i), a0);
    if (i < n) {
        const __mmask16 m = tail_mask(n - i);
        a1 = _mm512_fmadd_ps(bf16_widen(_mm256_maskz_loadu_epi16(m, x + 2 * i)),
                             bf16_widen(_mm256_maskz_loadu_epi16(m, y + 2 * i)), a1);
    }
    *s = hsum16(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}
