/* gemm_avx512.c — AVX-512 tile kernels (contract in gemm.h): a tile of
 * TR = 4 weight rows x TC = 4 activation rows, each output bit-identical to
 * the AVX-512 vec_dot kernel of its type (dot_legacy_avx512.c,
 * dot_k_avx512.c).
 *
 * How the identity is kept: a vec_dot kernel keeps a few float accumulator
 * vectors; each is a chain of fmas over its own subset of the blocks
 * (e.g. q8_0: acc0 takes blocks 4i, 4i+1, acc1 blocks 4i+2, 4i+3). A tile
 * keeps the same accumulators per output, fed by the same integer lane sums
 * (integer sums are exact, so how they are formed does not matter, only
 * which values land in which lane) and the same float scale products. The
 * chains are independent, so they are run one after the other ("passes")
 * over the whole row: 16 outputs then need only 16 accumulator registers.
 * The final horizontal sums pair up the lanes exactly as the vec_dot's
 * reduction does, but for 16 outputs at once (hsum16x16). Shared work: the
 * weight decoding and scales of a row serve 4 outputs, the activation loads,
 * offset sums and scales of a column serve 4.
 *
 * Compiled with the AVX-512 F/BW/VL/DQ/VNNI flags; only called when the CPU
 * has them (gemm.c). */
#include "kern/gemm.h"
#include "fmt/blocks.h"
#include "core/core.h"
#include "fmt/kquant.h"

#include <immintrin.h>

#define TR 4 /* weight rows per tile */
#define TC 4 /* activation rows per tile */
#define TN (TR * TC)

static inline float h2f(const uint8_t *p) { return _cvtsh_ss(lrq_rd16(p)); }

/* Row and column start pointers; rows >= nr and columns >= nc repeat the
 * last real one (computed, never stored). */
static inline void tile_ptrs(const void *W, size_t ws, int nr, const void *A, size_t as, int nc,
                             const uint8_t *w[TR], const uint8_t *a[TC]) {
    LRQ_ASSERT(nr >= 1 && nr <= TR && nc >= 1 && nc <= TC);
    for (int r = 0; r < TR; r++) w[r] = (const uint8_t *)W + (size_t)(r < nr ? r : nr - 1) * ws;
    for (int c = 0; c < TC; c++) a[c] = (const uint8_t *)A + (size_t)(c < nc ? c : nc - 1) * as;
}

/* The vec_dot kernels' final sums: hsum8(v) = ((v0+v4)+(v2+v6)) + ((v1+v5)+(v3+v7)),
 * hsum16(v) = hsum8(v[0..7] + v[8..15]). */
static inline float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* hsum16 of 16 vectors at once, with the same pairs added at every level
 * (float addition is commutative, so only the pairing matters). Output o =
 * 4k + j lands in lane 4j + k; with o = TC*r + c that is lane 4c + r, i.e.
 * the result's 128-bit chunk c holds column c, rows 0..3 in order. */
static inline __m512 hsum16x16(const __m512 v[16]) {
    __m512 l1[8], l2[4], l3[2];
    for (int k = 0; k < 8; k++) /* v[i] + v[i+8]: [o=2k | o=2k+1] */
        l1[k] = _mm512_add_ps(_mm512_shuffle_f32x4(v[2 * k], v[2 * k + 1], 0x44),
                              _mm512_shuffle_f32x4(v[2 * k], v[2 * k + 1], 0xee));
    for (int k = 0; k < 4; k++) /* w[i] + w[i+4]: chunk j = output 4k + j */
        l2[k] = _mm512_add_ps(_mm512_shuffle_f32x4(l1[2 * k], l1[2 * k + 1], 0x88),
                              _mm512_shuffle_f32x4(l1[2 * k], l1[2 * k + 1], 0xdd));
    for (int k = 0; k < 2; k++) { /* s[i] + s[i+2]: chunk j = [o 8k+j (2 lanes), o 8k+4+j (2)] */
        const __m512d a = _mm512_castps_pd(l2[2 * k]), b = _mm512_castps_pd(l2[2 * k + 1]);
        l3[k] = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(a, b)), _mm512_castpd_ps(_mm512_unpackhi_pd(a, b)));
    }
    /* t[0] + t[1]: chunk j = outputs j, 4+j, 8+j, 12+j */
    return _mm512_add_ps(_mm512_shuffle_ps(l3[0], l3[1], 0x88), _mm512_shuffle_ps(l3[0], l3[1], 0xdd));
}

/* Stores the tile result (lane 4c + r = output (r, c)). */
static inline void store_tile(__m512 res, int nr, int nc, float *C, size_t cs) {
    float o[TN];
    _mm512_storeu_ps(o, res);
    for (int c = 0; c < nc; c++)
        for (int r = 0; r < nr; r++) C[(size_t)c * cs + (size_t)r] = o[4 * c + r];
}

/* ======================= legacy integer types ======================= */


/* 32 bytes at pa and 32 at pb. */
static inline __m512i bytes64(const uint8_t *pa, const uint8_t *pb) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)pa)),
                              _mm256_loadu_si256((const __m256i *)pb), 1);
}
static inline __m256i bytes32(const uint8_t *p) { return _mm256_loadu_si256((const __m256i *)p); }

/* Two blocks' 16 packed nibbles -> 64 bytes 0..15 in element order. */
static inline __m512i nibbles64(const uint8_t *pa, const uint8_t *pb) {
    __m512i v = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)pa));
    v = _mm512_mask_broadcast_i32x4(v, 0xff00, _mm_loadu_si128((const __m128i *)pb));
    const __m512i sh = _mm512_setr_epi64(0, 0, 0x0004000400040004, 0x0004000400040004, 0, 0, 0x0004000400040004,
                                         0x0004000400040004);
    return _mm512_and_si512(_mm512_srlv_epi16(v, sh), _mm512_set1_epi8(0x0f));
}
static inline __m256i nibbles32(const uint8_t *p) {
    const __m128i raw = _mm_loadu_si128((const __m128i *)p);
    return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(raw, 4), raw), _mm256_set1_epi8(0x0f));
}

/* fp16 at p in lanes 0..7 and fp16 at p + bs in lanes 8..15, as floats. */
static inline __m512 scale2(const uint8_t *p, size_t bs) {
    const __m256i h = _mm256_mask_set1_epi16(_mm256_set1_epi16((short)lrq_rd16(p)), 0xff00, (short)lrq_rd16(p + bs));
    return _mm512_cvtph_ps(h);
}

/* Unsigned weight bytes u of two blocks (value = u - offset) and of one. */
static inline __m512i q8_0_u2(const uint8_t *xa, const uint8_t *xb) {
    return _mm512_xor_si512(bytes64(xa + 2, xb + 2), _mm512_set1_epi8((char)0x80));
}
static inline __m256i q8_0_u1(const uint8_t *x) {
    return _mm256_xor_si256(bytes32(x + 2), _mm256_set1_epi8((char)0x80));
}
static inline __m512i q4_0_u2(const uint8_t *xa, const uint8_t *xb) { return nibbles64(xa + 2, xb + 2); }
static inline __m256i q4_0_u1(const uint8_t *x) { return nibbles32(x + 2); }
static inline __m512i q5_0_u2(const uint8_t *xa, const uint8_t *xb) {
    const __mmask64 hi = (__mmask64)lrq_rd32(xa + 2) | ((__mmask64)lrq_rd32(xb + 2) << 32);
    return _mm512_or_si512(nibbles64(xa + 6, xb + 6), _mm512_maskz_mov_epi8(hi, _mm512_set1_epi8(16)));
}
static inline __m256i q5_0_u1(const uint8_t *x) {
    const __mmask32 hi = (__mmask32)lrq_rd32(x + 2);
    return _mm256_or_si256(nibbles32(x + 6), _mm256_maskz_mov_epi8(hi, _mm256_set1_epi8(16)));
}
static inline __m128i iq4nl_table_u(void) { /* the IQ4_NL grid + 128 */
    return _mm_xor_si128(_mm_loadu_si128((const __m128i *)(const void *)lrq_iq4nl_grid), _mm_set1_epi8((char)0x80));
}
static inline __m512i iq4_nl_u2(const uint8_t *xa, const uint8_t *xb) {
    return _mm512_shuffle_epi8(_mm512_broadcast_i32x4(iq4nl_table_u()), nibbles64(xa + 2, xb + 2));
}
static inline __m256i iq4_nl_u1(const uint8_t *x) {
    return _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(iq4nl_table_u()), nibbles32(x + 2));
}

/* The vec_dot (DOT_LOOP in dot_legacy_avx512.c) per output: acc0 (blocks
 * 4i, 4i+1: lanes 0..7 | 8..15) and acc1 (4i+2, 4i+3) take
 * fma(float(lane sums), d_x*d_y, acc); the last nb % 4 blocks go to a
 * 256-bit acc2 with the scalar product h2f(x)*h2f(y); result
 * hsum16(acc0 + acc1) + hsum8(acc2). The lane sums are
 * sum (u - cb) * y = dpbusd(-dpbusd(cb, y), u, y) (exact, wrapping int32). */
#define LEG_TILE(NAME, XS, U2, U1, CB)                                                                      \
    void NAME(int64_t K, const void *W, size_t ws, int nr, const void *A, size_t as, int nc, float *C,        \
              size_t cs) {                                                                                    \
        LRQ_ASSERT(K % LRQ_QK0 == 0);                                                                              \
        const uint8_t *w[TR], *a[TC];                                                                         \
        tile_ptrs(W, ws, nr, A, as, nc, w, a);                                                                \
        const int64_t nb = K / LRQ_QK0, ng = nb / 4;                                                               \
        const __m512i cb = _mm512_set1_epi8((char)(CB)), z = _mm512_setzero_si512();                        \
        __m512 sum[TN];                                                                                       \
        for (int p = 0; p < 2; p++) {                                                                         \
            __m512 acc[TR][TC];                                                                               \
            for (int r = 0; r < TR; r++)                                                                      \
                for (int c = 0; c < TC; c++) acc[r][c] = _mm512_setzero_ps();                                 \
            for (int64_t g = 0; g < ng; g++) {                                                                \
                const int64_t b0 = 4 * g + 2 * p;                                                             \
                __m512i yv[TC], ny[TC];                                                                       \
                __m512 dy[TC];                                                                                \
                for (int c = 0; c < TC; c++) {                                                                \
                    const uint8_t *yp = a[c] + b0 * LRQ_Q8_0_SIZE;                                                       \
                    yv[c] = bytes64(yp + 2, yp + LRQ_Q8_0_SIZE + 2);                                                     \
                    ny[c] = _mm512_sub_epi32(z, _mm512_dpbusd_epi32(z, cb, yv[c]));                           \
                    dy[c] = scale2(yp, LRQ_Q8_0_SIZE);                                                                   \
                }                                                                                             \
                for (int r = 0; r < TR; r++) {                                                                \
                    const uint8_t *xp = w[r] + b0 * (XS);                                                     \
                    const __m512i u = U2(xp, xp + (XS));                                                      \
                    const __m512 dx = scale2(xp, (XS));                                                       \
                    for (int c = 0; c < TC; c++)                                                              \
                        acc[r][c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_dpbusd_epi32(ny[c], u, yv[c])),  \
                                                    _mm512_mul_ps(dx, dy[c]), acc[r][c]);                     \
                }                                                                                             \
            }                                                                                                 \
            for (int r = 0; r < TR; r++)                                                                      \
                for (int c = 0; c < TC; c++)                                                                  \
                    sum[TC * r + c] = p ? _mm512_add_ps(sum[TC * r + c], acc[r][c]) : acc[r][c];              \
        }                                                                                                     \
        __m512 res = hsum16x16(sum);                                                                          \
        float tail[TN] = {0}; /* hsum8(acc2), +0.0f when there are no tail blocks */                          \
        if (nb % 4) {                                                                                         \
            const __m256i cb1 = _mm256_set1_epi8((char)(CB)), z1 = _mm256_setzero_si256();                   \
            for (int r = 0; r < TR; r++)                                                                      \
                for (int c = 0; c < TC; c++) {                                                                \
                    __m256 acc2 = _mm256_setzero_ps();                                                        \
                    for (int64_t ib = 4 * ng; ib < nb; ib++) {                                                \
                        const uint8_t *xp = w[r] + ib * (XS), *yp = a[c] + ib * LRQ_Q8_0_SIZE;                           \
                        const __m256i y = bytes32(yp + 2);                                                    \
                        const __m256i ps = _mm256_sub_epi32(_mm256_dpbusd_epi32(z1, U1(xp), y),               \
                                                            _mm256_dpbusd_epi32(z1, cb1, y));                 \
                        acc2 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(ps), _mm256_set1_ps(h2f(xp) * h2f(yp)), acc2); \
                    }                                                                                         \
                    tail[4 * c + r] = hsum8(acc2);                                                            \
                }                                                                                             \
        }                                                                                                     \
        store_tile(_mm512_add_ps(res, _mm512_loadu_ps(tail)), nr, nc, C, cs);                                 \
    }

LEG_TILE(lrq_gemm_q8_0_avx512, 34, q8_0_u2, q8_0_u1, 0x80)
LEG_TILE(lrq_gemm_q4_0_avx512, 18, q4_0_u2, q4_0_u1, 8)
LEG_TILE(lrq_gemm_q5_0_avx512, 22, q5_0_u2, q5_0_u1, 16)
LEG_TILE(lrq_gemm_iq4_nl_avx512, 18, iq4_nl_u2, iq4_nl_u1, 0x80)

/* ======================= float types ======================= */

/* The vec_dot per output: a0..a3 take fma(x, y, a_j) over the values
 * 64i + 16j .. +15; the remaining full 16-value steps go to a0, a last
 * partial step (masked loads, zeros elsewhere) to a1; result
 * hsum16((a0 + a1) + (a2 + a3)). Pass j runs chain a_j for all outputs. */
static inline __m512 ld_f32(const uint8_t *p) { return _mm512_loadu_ps((const float *)(const void *)p); }
static inline __m512 ld_f32_m(__mmask16 m, const uint8_t *p) {
    return _mm512_maskz_loadu_ps(m, (const float *)(const void *)p);
}
static inline __m512 ld_f16(const uint8_t *p) { return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p)); }
static inline __m512 ld_f16_m(__mmask16 m, const uint8_t *p) { return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p)); }

#define FLT_STEP(LD, off)                                                                                    \
    do {                                                                                                     \
        __m512 av[TC];                                                                                       \
        for (int c = 0; c < TC; c++) av[c] = LD(a[c] + (off));                                               \
        for (int r = 0; r < TR; r++) {                                                                       \
            const __m512 wv = LD(w[r] + (off));                                                              \
            for (int c = 0; c < TC; c++) acc[r][c] = _mm512_fmadd_ps(wv, av[c], acc[r][c]);                  \
        }                                                                                                    \
    } while (0)

#define FLT_TILE(NAME, ES, LD)                                                                           \
    void NAME(int64_t K, const void *W, size_t ws, int nr, const void *A, size_t as, int nc, float *C,        \
              size_t cs) {                                                                                    \
        const uint8_t *w[TR], *a[TC];                                                                         \
        tile_ptrs(W, ws, nr, A, as, nc, w, a);                                                                \
        const int64_t k64 = K / 64 * 64, k16 = K / 16 * 16;                                                   \
        __m512 part[4][TN];                                                                                   \
        for (int j = 0; j < 4; j++) {                                                                         \
            __m512 acc[TR][TC];                                                                               \
            for (int r = 0; r < TR; r++)                                                                      \
                for (int c = 0; c < TC; c++) acc[r][c] = _mm512_setzero_ps();                                 \
            for (int64_t i = 16 * j; i < k64; i += 64) FLT_STEP(LD, (size_t)i * (ES));                        \
            if (j == 0)                                                                                       \
                for (int64_t i = k64; i < k16; i += 16) FLT_STEP(LD, (size_t)i * (ES));                       \
            if (j == 1 && k16 < K) {                                                                          \
                const __mmask16 m = (__mmask16)((1u << (K - k16)) - 1u);                                      \
                FLT_STEP(LDM_##LD, (size_t)k16 * (ES));                                                       \
            }                                                                                                 \
            for (int r = 0; r < TR; r++)                                                                      \
                for (int c = 0; c < TC; c++) part[j][TC * r + c] = acc[r][c];                                 \
        }                                                                                                     \
        __m512 sum[TN];                                                                                       \
        for (int o = 0; o < TN; o++)                                                                          \
            sum[o] = _mm512_add_ps(_mm512_add_ps(part[0][o], part[1][o]), _mm512_add_ps(part[2][o], part[3][o])); \
        store_tile(hsum16x16(sum), nr, nc, C, cs);                                                            \
    }
/* masked loads for the last partial step (m in scope) */
#define LDM_ld_f32(p) ld_f32_m(m, p)
#define LDM_ld_f16(p) ld_f16_m(m, p)

FLT_TILE(lrq_gemm_f32_avx512, 4, ld_f32)
FLT_TILE(lrq_gemm_f16_avx512, 2, ld_f16)

/* ======================= k-quants (x Q8_K) ======================= */

/* The k-quant vec_dot kernels are bit-identical to dot_k_ref.c, so these
 * tiles reproduce that specification. Per 256-value block every output
 * needs integer sums: a weight row is decoded once into four vectors of 64
 * codes (each 256-bit half one aligned run of 32 values) and four vectors of
 * int16 sub-block scales; per output, maddubs (code x activation, pairs)
 * and vpdpwssd (x scale) give 16 int32 lanes per 64 values. */

#define LD512(p) _mm512_loadu_si512((const void *)(p))
#define LD256(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define LD128(p) _mm_loadu_si128((const __m128i *)(const void *)(p))
#define BC256(p) _mm512_broadcast_i64x4(LD256(p)) /* 32 bytes in both halves */

static inline __m512i halves16(int lo, int hi) {
    return _mm512_mask_blend_epi16(0xffff0000u, _mm512_set1_epi16((short)lo), _mm512_set1_epi16((short)hi));
}
static inline __m512i halves8(int lo, int hi) {
    return _mm512_mask_blend_epi8(0xffffffff00000000ull, _mm512_set1_epi8((char)lo), _mm512_set1_epi8((char)hi));
}
/* Scale index per int16 lane for 16-value sub-blocks when the halves hold
 * runs r0 and r1: lane i (of 16 in a half) covers values 2i, 2i+1 of the
 * run, sub-block 2*run + i/8. */
static inline __m512i idx16_runs(int r0, int r1) {
    const __m512i lane = _mm512_and_si512(
        _mm512_setr_epi32(0x00010000, 0x00030002, 0x00050004, 0x00070006, 0x00090008, 0x000b000a, 0x000d000c,
                          0x000f000e, 0x00010000, 0x00030002, 0x00050004, 0x00070006, 0x00090008, 0x000b000a,
                          0x000d000c, 0x000f000e),
        _mm512_set1_epi16(15));
    return _mm512_add_epi16(_mm512_srli_epi16(lane, 3), halves16(2 * r0, 2 * r1));
}

/* Q4_K/Q5_K 6-bit scales and mins as int16: [sc0..sc7 | m0..m7]. */
static inline __m256i k4_scales16(const uint8_t *q) {
    const uint32_t w0 = lrq_rd32(q), w1 = lrq_rd32(q + 4), w2 = lrq_rd32(q + 8);
    const uint32_t s_lo = w0 & 0x3f3f3f3fu, m_lo = w1 & 0x3f3f3f3fu;
    const uint32_t s_hi = (w2 & 0x0f0f0f0fu) | (((w0 >> 6) & 0x03030303u) << 4);
    const uint32_t m_hi = ((w2 >> 4) & 0x0f0f0f0fu) | (((w1 >> 6) & 0x03030303u) << 4);
    return _mm256_cvtepu8_epi16(_mm_set_epi32((int)m_hi, (int)m_lo, (int)s_hi, (int)s_lo));
}
/* Q3_K scales as 16 int8 in -32..31. */
static inline __m128i k3_scales8(const uint8_t *q) {
    const uint32_t w0 = lrq_rd32(q), w1 = lrq_rd32(q + 4), w2 = lrq_rd32(q + 8);
    const uint32_t a = (w0 & 0x0f0f0f0fu) | ((w2 & 0x03030303u) << 4);
    const uint32_t b = (w1 & 0x0f0f0f0fu) | (((w2 >> 2) & 0x03030303u) << 4);
    const uint32_t c = ((w0 >> 4) & 0x0f0f0f0fu) | (((w2 >> 4) & 0x03030303u) << 4);
    const uint32_t d = ((w1 >> 4) & 0x0f0f0f0fu) | (((w2 >> 6) & 0x03030303u) << 4);
    return _mm_sub_epi8(_mm_set_epi32((int)d, (int)c, (int)b, (int)a), _mm_set1_epi8(32));
}

/* A decoded weight row block: codes of values 64g..64g+63 in v[g] (u8),
 * their sub-block scales per int16 lane in s[g]. */
typedef struct {
    __m512i v[4], s[4];
} krow;

/* Integer lane sums of one row block with one activation block (q8: its
 * 256 int8 values): 16 int32 lanes, lane i of half h = 4 consecutive
 * values of the run in that half. */
static inline __m512i krow_dot(const krow *k, const uint8_t *q8) {
    __m512i is = _mm512_setzero_si512();
    for (int g = 0; g < 4; g++) is = _mm512_dpwssd_epi32(is, _mm512_maddubs_epi16(k->v[g], LD512(q8 + 64 * g)), k->s[g]);
    return is;
}

/* Integer hsum16x16: same lane layout as hsum16x16 (the order of integer
 * additions does not matter). */
static inline __m512i isum16x16(const __m512i v[16]) {
    __m512i l1[8], l2[4], l3[2];
    for (int k = 0; k < 8; k++)
        l1[k] = _mm512_add_epi32(_mm512_shuffle_i32x4(v[2 * k], v[2 * k + 1], 0x44),
                                 _mm512_shuffle_i32x4(v[2 * k], v[2 * k + 1], 0xee));
    for (int k = 0; k < 4; k++)
        l2[k] = _mm512_add_epi32(_mm512_shuffle_i32x4(l1[2 * k], l1[2 * k + 1], 0x88),
                                 _mm512_shuffle_i32x4(l1[2 * k], l1[2 * k + 1], 0xdd));
    for (int k = 0; k < 2; k++)
        l3[k] = _mm512_add_epi32(_mm512_unpacklo_epi64(l2[2 * k], l2[2 * k + 1]),
                                 _mm512_unpackhi_epi64(l2[2 * k], l2[2 * k + 1]));
    const __m512 a = _mm512_castsi512_ps(l3[0]), b = _mm512_castsi512_ps(l3[1]);
    return _mm512_add_epi32(_mm512_castps_si512(_mm512_shuffle_ps(a, b, 0x88)),
                            _mm512_castps_si512(_mm512_shuffle_ps(a, b, 0xdd)));
}

/* Levels 2..4 of hsum16x16 for vectors that each hold two outputs' 8 lanes
 * ([o = 2k | o = 2k+1] in p[k]): lane 4c + r = hsum8 of output 4r + c. */
static inline __m512 hsum8x16(const __m512 p[8]) {
    __m512 l2[4], l3[2];
    for (int k = 0; k < 4; k++)
        l2[k] = _mm512_add_ps(_mm512_shuffle_f32x4(p[2 * k], p[2 * k + 1], 0x88),
                              _mm512_shuffle_f32x4(p[2 * k], p[2 * k + 1], 0xdd));
    for (int k = 0; k < 2; k++) {
        const __m512d a = _mm512_castps_pd(l2[2 * k]), b = _mm512_castps_pd(l2[2 * k + 1]);
        l3[k] = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(a, b)), _mm512_castpd_ps(_mm512_unpackhi_pd(a, b)));
    }
    return _mm512_add_ps(_mm512_shuffle_ps(l3[0], l3[1], 0x88), _mm512_shuffle_ps(l3[0], l3[1], 0xdd));
}

/* [fold(a) | fold(b)]: the 8 lane sums (half 0 + half 1) of a, then of b. */
static inline __m512i fold2(__m512i a, __m512i b) {
    return _mm512_add_epi32(_mm512_shuffle_i32x4(a, b, 0x44), _mm512_shuffle_i32x4(a, b, 0xee));
}

/* Per-lane broadcasts for the lane 4c + r layout: the value of row r
 * (lane % 4), of column c (lane / 4). */
static inline __m512 by_row(__m128 v) {
    return _mm512_permutexvar_ps(_mm512_setr_epi32(0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3), _mm512_castps128_ps512(v));
}
static inline __m512 by_col(__m128 v) {
    return _mm512_permutexvar_ps(_mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3), _mm512_castps128_ps512(v));
}
/* Q8_K d of the four columns of block b. */
static inline __m128 col_d(const uint8_t *const a[TC], int64_t b) {
    float d[TC];
    for (int c = 0; c < TC; c++) memcpy(&d[c], a[c] + b * LRQ_Q8K_SIZE + LRQ_Q8K_D, 4);
    return _mm_loadu_ps(d);
}
/* The fp16 at offset off of block b of each row, as floats. */
static inline __m128 row_h(const uint8_t *const w[TR], int64_t b, size_t bs, size_t off) {
    return _mm_cvtph_ps(_mm_setr_epi16((short)lrq_rd16(w[0] + b * bs + off), (short)lrq_rd16(w[1] + b * bs + off),
                                       (short)lrq_rd16(w[2] + b * bs + off), (short)lrq_rd16(w[3] + b * bs + off), 0, 0, 0, 0));
}

/* ---- "S/M" types (Q2_K, Q4_K): per block S = sum scale*code*act and
 * M = sum min*bsum, acc = fma(S, d_x*d_y, acc), accm = fma(M, dmin_x*d_y, accm),
 * result acc - accm. All 16 outputs' chains live in the lanes of one vector. ---- */

static inline void q4_K_row(krow *k, __m256i *mins, const uint8_t *x) {
    const __m256i sm16 = k4_scales16(x + LRQ_Q4K_SCALES);
    const __m512i sc = _mm512_castsi256_si512(sm16);
    const __m512i m4 = _mm512_set1_epi8(0xf), sh = halves16(0, 4);
    for (int g = 0; g < 4; g++) {
        k->v[g] = _mm512_and_si512(_mm512_srlv_epi16(BC256(x + LRQ_Q4K_QS + 32 * g), sh), m4);
        k->s[g] = _mm512_permutexvar_epi16(halves16(2 * g, 2 * g + 1), sc);
    }
    *mins = sm16;
}

void lrq_gemm_q4_K_avx512(int64_t K, const void *W, size_t ws, int nr, const void *A, size_t as, int nc, float *C,
                          size_t cs) {
    LRQ_ASSERT(K % LRQ_QK_K == 0);
    const uint8_t *w[TR], *a[TC];
    tile_ptrs(W, ws, nr, A, as, nc, w, a);
    /* M = sum_j m_r[j] * (bsum_c[2j] + bsum_c[2j+1]) as 4 vpdpwssd over int16
     * pairs: chunk r of mrow = row r's 8 mins, chunk c of bcol = column c's
     * 8 pair sums; pair jj is picked per lane by a dword permute. */
    __m512i pa[4], pb[4];
    for (int jj = 0; jj < 4; jj++) {
        pa[jj] = _mm512_add_epi32(_mm512_setr_epi32(0, 4, 8, 12, 0, 4, 8, 12, 0, 4, 8, 12, 0, 4, 8, 12), _mm512_set1_epi32(jj));
        pb[jj] = _mm512_add_epi32(_mm512_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4, 8, 8, 8, 8, 12, 12, 12, 12), _mm512_set1_epi32(jj));
    }
    __m512 acc = _mm512_setzero_ps(), accm = _mm512_setzero_ps();
    for (int64_t b = 0; b < K / LRQ_QK_K; b++) {
        __m512i is[TN], mrow = _mm512_setzero_si512(), bcol = _mm512_setzero_si512();
        for (int c = 0; c < TC; c++) {
            const __m256i bs = _mm256_madd_epi16(LD256(a[c] + b * LRQ_Q8K_SIZE + LRQ_Q8K_BSUMS), _mm256_set1_epi16(1));
            const __m128i b16 = _mm_packs_epi32(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1));
            bcol = _mm512_mask_broadcast_i32x4(bcol, (__mmask16)(0xfu << (4 * c)), b16);
        }
        for (int r = 0; r < TR; r++) {
            krow k;
            __m256i sm16;
            q4_K_row(&k, &sm16, w[r] + b * LRQ_Q4K_SIZE);
            mrow = _mm512_mask_broadcast_i32x4(mrow, (__mmask16)(0xfu << (4 * r)), _mm256_extracti128_si256(sm16, 1));
            for (int c = 0; c < TC; c++) is[TC * r + c] = krow_dot(&k, a[c] + b * LRQ_Q8K_SIZE + LRQ_Q8K_QS);
        }
        __m512i M = _mm512_setzero_si512();
        for (int jj = 0; jj < 4; jj++)
            M = _mm512_dpwssd_epi32(M, _mm512_permutexvar_epi32(pa[jj], mrow), _mm512_permutexvar_epi32(pb[jj], bcol));
        const __m512i S = isum16x16(is);
        const __m512 dy = by_col(col_d(a, b));
        const __m512 dd = _mm512_mul_ps(by_row(row_h(w, b, LRQ_Q4K_SIZE, LRQ_Q4K_D)), dy);
        const __m512 dm = _mm512_mul_ps(by_row(row_h(w, b, LRQ_Q4K_SIZE, LRQ_Q4K_DMIN)), dy);
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(S), dd, acc);
        accm = _mm512_fmadd_ps(_mm512_cvtepi32_ps(M), dm, accm);
    }
    store_tile(_mm512_sub_ps(acc, accm), nr, nc, C, cs);
}

static inline void q2_K_row(krow *k, __m256i *mins, const uint8_t *x) {
    const __m128i sm = LD128(x + LRQ_Q2K_SCALES), m4 = _mm_set1_epi8(0xf);
    const __m512i sc16 = _mm512_castsi256_si512(_mm256_cvtepu8_epi16(_mm_and_si128(sm, m4)));
    const __m512i m3 = _mm512_set1_epi8(3), sh01 = halves16(0, 2), sh23 = halves16(4, 6);
    const __m512i qa = BC256(x + LRQ_Q2K_QS), qb = BC256(x + LRQ_Q2K_QS + 32);
    /* run r: qs[32*(r/4)..] >> 2*(r%4); group g holds runs 2g, 2g+1 */
    k->v[0] = _mm512_and_si512(_mm512_srlv_epi16(qa, sh01), m3);
    k->v[1] = _mm512_and_si512(_mm512_srlv_epi16(qa, sh23), m3);
    k->v[2] = _mm512_and_si512(_mm512_srlv_epi16(qb, sh01), m3);
    k->v[3] = _mm512_and_si512(_mm512_srlv_epi16(qb, sh23), m3);
    for (int g = 0; g < 4; g++) k->s[g] = _mm512_permutexvar_epi16(idx16_runs(2 * g, 2 * g + 1), sc16);
    *mins = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(sm, 4), m4));
}

void lrq_gemm_q2_K_avx512(int64_t K, const void *W, size_t ws, int nr, const void *A, size_t as, int nc, float *C,
                          size_t cs) {
    LRQ_ASSERT(K % LRQ_QK_K == 0);
    const uint8_t *w[TR], *a[TC];
    tile_ptrs(W, ws, nr, A, as, nc, w, a);
    /* M = sum_j m_r[j] * bsum_c[j] (16 terms) as 8 vpdpwssd over int16 pairs:
     * rows 0,1 | 2,3 in the halves of mrow[0] | mrow[1] (8 dwords each),
     * columns likewise; pair jj is picked per lane by a two-source permute. */
    __m512i pa[8], pb[8];
    for (int jj = 0; jj < 8; jj++) {
        pa[jj] = _mm512_add_epi32(_mm512_setr_epi32(0, 8, 16, 24, 0, 8, 16, 24, 0, 8, 16, 24, 0, 8, 16, 24), _mm512_set1_epi32(jj));
        pb[jj] = _mm512_add_epi32(_mm512_setr_epi32(0, 0, 0, 0, 8, 8, 8, 8, 16, 16, 16, 16, 24, 24, 24, 24), _mm512_set1_epi32(jj));
    }
    __m512 acc = _mm512_setzero_ps(), accm = _mm512_setzero_ps();
    for (int64_t b = 0; b < K / LRQ_QK_K; b++) {
        __m512i is[TN], mrow[2] = { _mm512_setzero_si512(), _mm512_setzero_si512() }, bcol[2];
        for (int c = 0; c < TC; c += 2)
            bcol[c / 2] = _mm512_inserti64x4(_mm512_castsi256_si512(LD256(a[c] + b * LRQ_Q8K_SIZE + LRQ_Q8K_BSUMS)),
                                             LD256(a[c + 1] + b * LRQ_Q8K_SIZE + LRQ_Q8K_BSUMS), 1);
        for (int r = 0; r < TR; r++) {
            krow k;
            __m256i mn;
            q2_K_row(&k, &mn, w[r] + b * LRQ_Q2K_SIZE);
            mrow[r / 2] = _mm512_mask_broadcast_i64x4(mrow[r / 2], (__mmask8)(0xfu << (4 * (r % 2))), mn);
            for (int c = 0; c < TC; c++) is[TC * r + c] = krow_dot(&k, a[c] + b * LRQ_Q8K_SIZE + LRQ_Q8K_QS);
        }
        __m512i M = _mm512_setzero_si512();
        for (int jj = 0; jj < 8; jj++)
            M = _mm512_dpwssd_epi32(M, _mm512_permutex2var_epi32(mrow[0], pa[jj], mrow[1]),
                                    _mm512_permutex2var_epi32(bcol[0], pb[jj], bcol[1]));
        const __m512i S = isum16x16(is);
        const __m512 dy = by_col(col_d(a, b));
        const __m512 dd = _mm512_mul_ps(by_row(row_h(w, b, LRQ_Q2K_SIZE, LRQ_Q2K_D)), dy);
        const __m512 dm = _mm512_mul_ps(by_row(row_h(w, b, LRQ_Q2K_SIZE, LRQ_Q2K_DMIN)), dy);
        acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(S), dd, acc);
        accm = _mm512_fmadd_ps(_mm512_cvtepi32_ps(M), dm, accm);
    }
    store_tile(_mm512_sub_ps(acc, accm), nr, nc, C, cs);
}

/* ---- 8-lane types (Q3_K, Q5_K, Q6_K): per block the 8 lane sums
 * (lane k = values e with (e % 32) / 4 == k; the two halves of the 16-lane
 * sum added), acc8 = fma(d_y*d_x, float(lanes), acc8), result hsum8(acc8)
 * (+ summs for Q5_K). Two outputs of a row (columns 2cp, 2cp+1) share one
 * vector: pair p = 2r + cp, [o = 4r + 2cp | o = 4r + 2cp + 1], the layout
 * hsum8x16 expects. ---- */

/* Row decoders: codes and scales, plus what each type needs besides. */
static inline void q6_K_row(krow *k, __m512i *sc2, const uint8_t *x) {
    const __m256i sc16y = _mm256_cvtepi8_epi16(LD128(x + LRQ_Q6K_SCALES));
    const __m512i sc16 = _mm512_castsi256_si512(sc16y);
    const __m512i m4 = _mm512_set1_epi8(0xf), k30 = _mm512_set1_epi8(0x30);
    const __m512i shl = halves16(4, 2), shr = halves16(0, 2);
    for (int h = 0; h < 2; h++) {
        const __m512i ql = LD512(x + LRQ_Q6K_QL + 64 * h); /* halves: ql[64h..], ql[64h+32..] */
        const __m512i qh = BC256(x + LRQ_Q6K_QH + 32 * h);
        /* runs 4h, 4h+1: low nibbles, qh bits 0-1 | 2-3 as bits 4-5 */
        k->v[2 * h] = _mm512_or_si512(_mm512_and_si512(ql, m4), _mm512_and_si512(_mm512_sllv_epi16(qh, shl), k30));
        /* runs 4h+2, 4h+3: high nibbles, qh bits 4-5 | 6-7 */
        k->v[2 * h + 1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), m4),
                                          _mm512_and_si512(_mm512_srlv_epi16(qh, shr), k30));
    }
    for (int g = 0; g < 4; g++) k->s[g] = _mm512_permutexvar_epi16(idx16_runs(2 * g, 2 * g + 1), sc16);
    *sc2 = _mm512_broadcast_i64x4(sc16y);
}

static inline void q5_K_row(krow *k, __m256i *mins, const uint8_t *x) {
    const __m256i sm16 = k4_scales16(x + LRQ_Q5K_SCALES);
    const __m512i sc = _mm512_castsi256_si512(sm16);
    const __m512i m4 = _mm512_set1_epi8(0xf), c16 = _mm512_set1_epi8(16), sh = halves16(0, 4);
    const __m512i qh = BC256(x + LRQ_Q5K_QH);
    for (int g = 0; g < 4; g++) {
        __m512i v = _mm512_and_si512(_mm512_srlv_epi16(BC256(x + LRQ_Q5K_QS + 32 * g), sh), m4);
        /* fifth bit of sub-block j: bit j of qh */
        k->v[g] = _mm512_mask_add_epi8(v, _mm512_test_epi8_mask(qh, halves8(1 << (2 * g), 1 << (2 * g + 1))), v, c16);
        k->s[g] = _mm512_permutexvar_epi16(halves16(2 * g, 2 * g + 1), sc);
    }
    *mins = sm16;
}

/* Q3_K codes as u = code + 4 * high bit (0..7): the value is u - 4, and
 * the -4 is taken off per column (maddubs(4, act), shared by the rows). */
static inline void q3_K_row(krow *k, const uint8_t *x) {
    const __m512i sc16 = _mm512_castsi256_si512(_mm256_cvtepi8_epi16(k3_scales8(x + LRQ_Q3K_SCALES)));
    const __m512i m3 = _mm512_set1_epi8(3), four = _mm512_set1_epi8(4);
    const __m512i hm = BC256(x + LRQ_Q3K_HMASK);
    for (int h = 0; h < 2; h++) {
        const __m512i qv = BC256(x + LRQ_Q3K_QS + 32 * h);
        for (int p = 0; p < 2; p++) { /* runs 4h+2p, 4h+2p+1: shifts 4p, 4p+2; third bit = bit of the run */
            const int g = 2 * h + p;
            const __m512i lo = _mm512_and_si512(_mm512_srlv_epi16(qv, halves16(4 * p, 4 * p + 2)), m3);
            const __mmask64 hb = _mm512_test_epi8_mask(hm, halves8(1 << (2 * g), 1 << (2 * g + 1)));
            k->v[g] = _mm512_or_si512(lo, _mm512_maskz_mov_epi8(hb, four));
            k->s[g] = _mm512_permutexvar_epi16(idx16_runs(2 * g, 2 * g + 1), sc16);
        }
    }
}

/* q8 values times 4 in int16 pairs, negated: the Q3_K offset per column. */
static inline void q3_K_col(__m512i off[4], const uint8_t *q8) {
    for (int g = 0; g < 4; g++)
        off[g] = _mm512_sub_epi16(_mm512_setzero_si512(), _mm512_maddubs_epi16(_mm512_set1_epi8(4), LD512(q8 + 64 * g)));
}
static inline __m512i q3_K_dot(const krow *k, const __m512i off[4], const uint8_t *q8) {
    __m512i is = _mm512_setzero_si512();
    for (int g = 0; g < 4; g++)
        is = _mm512_dpwssd_epi32(is, _mm512_add_epi16(_mm512_maddubs_epi16(k->v[g], LD512(q8 + 64 * g)), off[g]), k->s[g]);
    return is;
}

/* Pair vector of d_y for columns 2cp, 2cp+1 (8 lanes each). */
static inline __m512 col_d2(const uint8_t *const a[TC], int64_t b, int cp) {
    float d0, d1;
    memcpy(&d0, a[2 * cp] + b * LRQ_Q8K_SIZE + LRQ_Q8K_D, 4);
    memcpy(&d1, a[2 * cp + 1] + b * LRQ_Q8K_SIZE + LRQ_Q8K_D, 4);
    return _mm512_insertf32x8(_mm512_set1_ps(d0), _mm256_set1_ps(d1), 1);
}

#define KSZ(t) LRQ_##t##_SIZE
#define KQS(c) (a[c] + b * LRQ_Q8K_SIZE + LRQ_Q8K_QS)

void lrq_gemm_q6_K_avx512(int64_t K, const void *W, size_t ws, int nr, const void *A, size_t as, int nc, float *C,
                          size_t cs) {
    LRQ_ASSERT(K % LRQ_QK_K == 0);
    const uint8_t *w[TR], *a[TC];
    tile_ptrs(W, ws, nr, A, as, nc, w, a);
    __m512 acc[TN / 2];
    for (int p = 0; p < TN / 2; p++) acc[p] = _mm512_setzero_ps();
    for (int64_t b = 0; b < K / LRQ_QK_K; b++) {
        __m512 dy[2];
        __m512i bsum2[2]; /* bsums of columns 2cp | 2cp+1 */
        for (int cp = 0; cp < 2; cp++) {
            dy[cp] = col_d2(a, b, cp);
            bsum2[cp] = _mm512_inserti64x4(_mm512_castsi256_si512(LD256(a[2 * cp] + b * LRQ_Q8K_SIZE + LRQ_Q8K_BSUMS)),
                                           LD256(a[2 * cp + 1] + b * LRQ_Q8K_SIZE + LRQ_Q8K_BSUMS), 1);
        }
        for (int r = 0; r < TR; r++) {
            krow k;
            __m512i sc2;
            const uint8_t *x = w[r] + b * KSZ(Q6K);
            q6_K_row(&k, &sc2, x);
            const __m512 dx = _mm512_set1_ps(h2f(x + LRQ_Q6K_D));
            for (int cp = 0; cp < 2; cp++) {
                /* the offset 32 through the bsums: lane k takes sub-blocks 2k, 2k+1 */
                const __m512i corr = _mm512_slli_epi32(_mm512_madd_epi16(bsum2[cp], sc2), 5);
                const __m512i lanes = _mm512_sub_epi32(fold2(krow_dot(&k, KQS(2 * cp)), krow_dot(&k, KQS(2 * cp + 1))), corr);
                acc[2 * r + cp] = _mm512_fmadd_ps(_mm512_mul_ps(dy[cp], dx), _mm512_cvtepi32_ps(lanes), acc[2 * r + cp]);
            }
        }
    }
    store_tile(hsum8x16(acc), nr, nc, C, cs);
}

void lrq_gemm_q3_K_avx512(int64_t K, const void *W, size_t ws, int nr, const void *A, size_t as, int nc, float *C,
                          size_t cs) {
    LRQ_ASSERT(K % LRQ_QK_K == 0);
    const uint8_t *w[TR], *a[TC];
    tile_ptrs(W, ws, nr, A, as, nc, w, a);
    __m512 acc[TN / 2];
    for (int p = 0; p < TN / 2; p++) acc[p] = _mm512_setzero_ps();
    for (int64_t b = 0; b < K / LRQ_QK_K; b++) {
        __m512 dy[2];
        __m512i off[TC][4];
        for (int cp = 0; cp < 2; cp++) dy[cp] = col_d2(a, b, cp);
        for (int c = 0; c < TC; c++) q3_K_col(off[c], KQS(c));
        for (int r = 0; r < TR; r++) {
            krow k;
            const uint8_t *x = w[r] + b * KSZ(Q3K);
            q3_K_row(&k, x);
            const __m512 dx = _mm512_set1_ps(h2f(x + LRQ_Q3K_D));
            for (int cp = 0; cp < 2; cp++) {
                const __m512i lanes = fold2(q3_K_dot(&k, off[2 * cp], KQS(2 * cp)), q3_K_dot(&k, off[2 * cp + 1], KQS(2 * cp + 1)));
                acc[2 * r + cp] = _mm512_fmadd_ps(_mm512_mul_ps(dy[cp], dx), _mm512_cvtepi32_ps(lanes), acc[2 * r + cp]);
            }
        }
    }
    store_tile(hsum8x16(acc), nr, nc, C, cs);
}

void lrq_gemm_q5_K_avx512(int64_t K, const void *W, size_t ws, int nr, const void *A, size_t as, int nc, float *C,
                          size_t cs) {
    LRQ_ASSERT(K % LRQ_QK_K == 0);
    const uint8_t *w[TR], *a[TC];
    tile_ptrs(W, ws, nr, A, as, nc, w, a);
    __m512i pa[4], pb[4]; /* as in Q4_K */
    for (int jj = 0; jj < 4; jj++) {
        pa[jj] = _mm512_add_epi32(_mm512_setr_epi32(0, 4, 8, 12, 0, 4, 8, 12, 0, 4, 8, 12, 0, 4, 8, 12), _mm512_set1_epi32(jj));
        pb[jj] = _mm512_add_epi32(_mm512_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4, 8, 8, 8, 8, 12, 12, 12, 12), _mm512_set1_epi32(jj));
    }
    __m512 acc[TN / 2];
    for (int p = 0; p < TN / 2; p++) acc[p] = _mm512_setzero_ps();
    __m512 summs = _mm512_setzero_ps(); /* lane 4c + r */
    for (int64_t b = 0; b < K / LRQ_QK_K; b++) {
        __m512 dy[2];
        __m512i mrow = _mm512_setzero_si512(), bcol = _mm512_setzero_si512();
        for (int cp = 0; cp < 2; cp++) dy[cp] = col_d2(a, b, cp);
        for (int c = 0; c < TC; c++) {
            const __m256i bs = _mm256_madd_epi16(LD256(a[c] + b * LRQ_Q8K_SIZE + LRQ_Q8K_BSUMS), _mm256_set1_epi16(1));
            const __m128i b16 = _mm_packs_epi32(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1));
            bcol = _mm512_mask_broadcast_i32x4(bcol, (__mmask16)(0xfu << (4 * c)), b16);
        }
        for (int r = 0; r < TR; r++) {
            krow k;
            __m256i sm16;
            const uint8_t *x = w[r] + b * KSZ(Q5K);
            q5_K_row(&k, &sm16, x);
            mrow = _mm512_mask_broadcast_i32x4(mrow, (__mmask16)(0xfu << (4 * r)), _mm256_extracti128_si256(sm16, 1));
            const __m512 dx = _mm512_set1_ps(h2f(x + LRQ_Q5K_D));
            for (int cp = 0; cp < 2; cp++) {
                const __m512i lanes = fold2(krow_dot(&k, KQS(2 * cp)), krow_dot(&k, KQS(2 * cp + 1)));
                acc[2 * r + cp] = _mm512_fmadd_ps(_mm512_mul_ps(dy[cp], dx), _mm512_cvtepi32_ps(lanes), acc[2 * r + cp]);
            }
        }
        __m512i M = _mm512_setzero_si512();
        for (int jj = 0; jj < 4; jj++)
            M = _mm512_dpwssd_epi32(M, _mm512_permutexvar_epi32(pa[jj], mrow), _mm512_permutexvar_epi32(pb[jj], bcol));
        /* dmin = -d_y * dmin_x (negation is exact, so the sign can go first) */
        const __m512 dmin = _mm512_mul_ps(_mm512_sub_ps(_mm512_setzero_ps(), by_col(col_d(a, b))),
                                          by_row(row_h(w, b, LRQ_Q5K_SIZE, LRQ_Q5K_DMIN)));
        summs = _mm512_fmadd_ps(dmin, _mm512_cvtepi32_ps(M), summs);
    }
    store_tile(_mm512_add_ps(hsum8x16(acc), summs), nr, nc, C, cs);
}

/* ======================= i-quants (x Q8_K) ======================= */

/* The AVX-512 i-quant dots (dot_iq_avx512.c) decode each block with
 * dot_iq_avx512.h and keep 8 float lanes per output (fma of d_x*d_y and
 * the block's lanes), then c * hsum8. The tile decodes each row block once
 * (grid lookups, sign masks, scales: most of a dot's work) for its 4
 * columns; per output only iqrow_dot remains. Lanes and float steps are the
 * dot's, as in Q6_K above; c (a power of two) is applied after hsum8x16,
 * lane by lane, as the dot applies it to its one sum. */
#include "kern/dot_iq_avx512.h"

#define IQ_GEMM(t, SIZE, cst)                                                                                   \
    void lrq_gemm_##t##_avx512(int64_t K, const void *W, size_t ws, int nr, const void *A, size_t as, int nc,   \
                               float *C, size_t cs) {                                                           \
        LRQ_ASSERT(K % LRQ_QK_K == 0);                                                                          \
        const uint8_t *w[TR], *a[TC];                                                                           \
        tile_ptrs(W, ws, nr, A, as, nc, w, a);                                                                  \
        __m512 acc[TN / 2];                                                                                     \
        for (int p = 0; p < TN / 2; p++) acc[p] = _mm512_setzero_ps();                                          \
        for (int64_t b = 0; b < K / LRQ_QK_K; b++) {                                                            \
            const __m512 dy[2] = { col_d2(a, b, 0), col_d2(a, b, 1) };                                          \
            for (int r = 0; r < TR; r++) {                                                                      \
                const uint8_t *x = w[r] + b * (SIZE);                                                           \
                iqrow k;                                                                                        \
                t##_row(&k, x);                                                                                 \
                const __m512 dx = _mm512_set1_ps(h2f(x));                                                       \
                for (int cp = 0; cp < 2; cp++) {                                                                \
                    const __m512i lanes = fold2(iqrow_dot(&k, (const int8_t *)KQS(2 * cp)),                     \
                                                iqrow_dot(&k, (const int8_t *)KQS(2 * cp + 1)));                \
                    acc[2 * r + cp] = _mm512_fmadd_ps(_mm512_mul_ps(dy[cp], dx), _mm512_cvtepi32_ps(lanes), acc[2 * r + cp]); \
                }                                                                                               \
            }                                                                                                   \
        }                                                                                                       \
        store_tile(_mm512_mul_ps(_mm512_set1_ps(cst), hsum8x16(acc)), nr, nc, C, cs);                           \
    }

IQ_GEMM(iq2_xxs, LRQ_IQ2XXS_SIZE, 0.125f)
IQ_GEMM(iq2_xs, LRQ_IQ2XS_SIZE, 0.125f)
IQ_GEMM(iq2_s, LRQ_IQ2S_SIZE, 0.125f)
IQ_GEMM(iq3_xxs, LRQ_IQ3XXS_SIZE, 0.25f)
IQ_GEMM(iq3_s, LRQ_IQ3S_SIZE, 1.0f)
IQ_GEMM(iq4_xs, LRQ_IQ4XS_SIZE, 1.0f)
