/* gemm_avx2.c — AVX2 + FMA + F16C tile kernels (contract in gemm.h): a tile
 * of TR = 2 weight rows x TC = 4 activation rows, each output bit-identical
 * to the AVX2 vec_dot kernel of its type (dot_legacy_avx2.c for the legacy
 * types; the k-quant kernels of dot_k_avx2.c equal dot_k_ref.c).
 *
 * Same scheme as gemm_avx512.c: per output the vec_dot's accumulators, fed
 * with the same integer lane sums and float scale products; independent
 * accumulator chains run one after the other ("passes") so the 8 outputs
 * need 8 of the 16 ymm registers; the final horizontal sums of 8 outputs are
 * done together with the vec_dot's pairing of lanes (hsum8x8).
 *
 * Compiled with -mavx2 -mfma -mf16c; only called when the CPU has them. */
#include "kern/gemm.h"
#include "fmt/blocks.h"
#include "core/core.h"
#include "fmt/kquant.h"

#include <immintrin.h>

#define TR 2 /* weight rows per tile */
#define TC 4 /* activation rows per tile */
#define TN (TR * TC)

static inline float h2f(const uint8_t *p) { return _cvtsh_ss(lrq_rd16(p)); }
static inline float ldf(const uint8_t *p) { float v; memcpy(&v, p, 4); return v; }

#define LD256(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define LD128(p) _mm_loadu_si128((const __m128i *)(const void *)(p))

static inline void tile_ptrs(const void *W, size_t ws, int nr, const void *A, size_t as, int nc,
                             const uint8_t *w[TR], const uint8_t *a[TC]) {
    LRQ_ASSERT(nr >= 1 && nr <= TR && nc >= 1 && nc <= TC);
    for (int r = 0; r < TR; r++) w[r] = (const uint8_t *)W + (size_t)(r < nr ? r : nr - 1) * ws;
    for (int c = 0; c < TC; c++) a[c] = (const uint8_t *)A + (size_t)(c < nc ? c : nc - 1) * as;
}

/* hsum8 of 8 vectors at once with the vec_dots' pairing
 * ((v0+v4)+(v2+v6)) + ((v1+v5)+(v3+v7)): input o lands in lane 4(o%2) + o/2. */
static inline __m256 hsum8x8(const __m256 v[8]) {
    __m256 l1[4], l2[2];
    for (int k = 0; k < 4; k++) /* v[i] + v[i+4]: [o=2k | o=2k+1] */
        l1[k] = _mm256_add_ps(_mm256_permute2f128_ps(v[2 * k], v[2 * k + 1], 0x20),
                              _mm256_permute2f128_ps(v[2 * k], v[2 * k + 1], 0x31));
    for (int k = 0; k < 2; k++) { /* s[i] + s[i+2] */
        const __m256d a = _mm256_castps_pd(l1[2 * k]), b = _mm256_castps_pd(l1[2 * k + 1]);
        l2[k] = _mm256_add_ps(_mm256_castpd_ps(_mm256_unpacklo_pd(a, b)), _mm256_castpd_ps(_mm256_unpackhi_pd(a, b)));
    }
    return _mm256_add_ps(_mm256_shuffle_ps(l2[0], l2[1], 0x88), _mm256_shuffle_ps(l2[0], l2[1], 0xdd));
}
/* The same for int32 (any order: integer sums are exact). */
static inline __m256i isum8x8(const __m256i v[8]) {
    __m256i l1[4], l2[2];
    for (int k = 0; k < 4; k++)
        l1[k] = _mm256_add_epi32(_mm256_permute2x128_si256(v[2 * k], v[2 * k + 1], 0x20),
                                 _mm256_permute2x128_si256(v[2 * k], v[2 * k + 1], 0x31));
    for (int k = 0; k < 2; k++)
        l2[k] = _mm256_add_epi32(_mm256_unpacklo_epi64(l1[2 * k], l1[2 * k + 1]), _mm256_unpackhi_epi64(l1[2 * k], l1[2 * k + 1]));
    const __m256 a = _mm256_castsi256_ps(l2[0]), b = _mm256_castsi256_ps(l2[1]);
    return _mm256_add_epi32(_mm256_castps_si256(_mm256_shuffle_ps(a, b, 0x88)), _mm256_castps_si256(_mm256_shuffle_ps(a, b, 0xdd)));
}
#define LANE(o) (4 * ((o) % 2) + (o) / 2)

/* Output o = TC*r + c, taken from lane LANE(o) of res. */
static inline void store_tile(__m256 res, int nr, int nc, float *C, size_t cs) {
    float v[TN];
    _mm256_storeu_ps(v, res);
    for (int r = 0; r < nr; r++)
        for (int c = 0; c < nc; c++) C[(size_t)c * cs + (size_t)r] = v[LANE(TC * r + c)];
}

/* ======================= legacy integer types ======================= */


static inline __m256i nibbles32(const uint8_t *p) {
    const __m128i raw = _mm_loadu_si128((const __m128i *)p);
    return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(raw, 4), raw), _mm256_set1_epi8(0x0f));
}

/* q8_0 x q8_0: per output and block the lane sums of x*y by the sign trick
 * (|x| * (y * sign x), as the vec_dot: the same bytes reach maddubs). */
static inline __m256i q8_0_lanes(__m256i ax, __m256i x, __m256i y) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(ax, _mm256_sign_epi8(y, x)), _mm256_set1_epi16(1));
}

/* The vec_dot per output: acc0 takes the even blocks, acc1 the odd ones
 * (an odd last block goes to acc0, i.e. is even too), each
 * fma(d_x*d_y, float(lanes), acc); result hsum8(acc0 + acc1). Pass p runs
 * the blocks p, p+2, ... for all outputs. */
void lrq_gemm_q8_0_avx2(int64_t K, const void *W, size_t ws, int nr, const void *A, size_t as, int nc, float *C,
                        size_t cs) {
    LRQ_ASSERT(K % LRQ_QK0 == 0);
    const uint8_t *w[TR], *a[TC];
    tile_ptrs(W, ws, nr, A, as, nc, w, a);
    const int64_t nb = K / LRQ_QK0;
    __m256 sum[TN];
    for (int p = 0; p < 2; p++) {
        __m256 acc[TN];
        for (int o = 0; o < TN; o++) acc[o] = _mm256_setzero_ps();
        for (int64_t ib = p; ib < nb; ib += 2) {
            __m256 dy[TC];
            for (int c = 0; c < TC; c++) dy[c] = _mm256_set1_ps(h2f(a[c] + ib * LRQ_Q8_0_SIZE));
            for (int r = 0; r < TR; r++) {
                const uint8_t *xp = w[r] + ib * 34;
                const __m256i x = LD256(xp + 2), ax = _mm256_sign_epi8(x, x);
                const __m256 dx = _mm256_set1_ps(h2f(xp));
                for (int c = 0; c < TC; c++) {
                    const __m256i l = q8_0_lanes(ax, x, LD256(a[c] + ib * LRQ_Q8_0_SIZE + 2));
                    /* broadcast(d_x) * broadcast(d_y): the vec_dot's scalar product in every lane */
                    acc[TC * r + c] = _mm256_fmadd_ps(_mm256_mul_ps(dx, dy[c]), _mm256_cvtepi32_ps(l), acc[TC * r + c]);
                }
            }
        }
        for (int o = 0; o < TN; o++) sum[o] = p ? _mm256_add_ps(sum[o], acc[o]) : acc[o];
    }
    store_tile(hsum8x8(sum), nr, nc, C, cs);
}

/* q4_0: lanes of (nibble - 8) * y = maddubs(u, y) - maddubs(8, y) in int16
 * pairs (exact), widened by madd; the 8 * y part is per column. Block
 * order as q8_0. */
void lrq_gemm_q4_0_avx2(int64_t K, const void *W, size_t ws, int nr, const void *A, size_t as, int nc, float *C,
                        size_t cs) {
    LRQ_ASSERT(K % LRQ_QK0 == 0);
    const uint8_t *w[TR], *a[TC];
    tile_ptrs(W, ws, nr, A, as, nc, w, a);
    const int64_t nb = K / LRQ_QK0;
    const __m256i eight = _mm256_set1_epi8(8), one = _mm256_set1_epi16(1);
    __m256 sum[TN];
    for (int p = 0; p < 2; p++) {
        __m256 acc[TN];
        for (int o = 0; o < TN; o++) acc[o] = _mm256_setzero_ps();
        for (int64_t ib = p; ib < nb; ib += 2) {
            __m256 dy[TC];
            __m256i y[TC], cy[TC];
            for (int c = 0; c < TC; c++) {
                dy[c] = _mm256_set1_ps(h2f(a[c] + ib * LRQ_Q8_0_SIZE));
                y[c] = LD256(a[c] + ib * LRQ_Q8_0_SIZE + 2);
                cy[c] = _mm256_maddubs_epi16(eight, y[c]);
            }
            for (int r = 0; r < TR; r++) {
                const uint8_t *xp = w[r] + ib * 18;
                const __m256i u = nibbles32(xp + 2);
                const __m256 dx = _mm256_set1_ps(h2f(xp));
                for (int c = 0; c < TC; c++) {
                    const __m256i l = _mm256_madd_epi16(_mm256_sub_epi16(_mm256_maddubs_epi16(u, y[c]), cy[c]), one);
                    acc[TC * r + c] = _mm256_fmadd_ps(_mm256_mul_ps(dx, dy[c]), _mm256_cvtepi32_ps(l), acc[TC * r + c]);
                }
            }
        }
        for (int o = 0; o < TN; o++) sum[o] = p ? _mm256_add_ps(sum[o], acc[o]) : acc[o];
    }
    store_tile(hsum8x8(sum), nr, nc, C, cs);
}

/* ======================= float types ======================= */

/* The vec_dot per output: a0..a3 take fma(x, y, a_j) over the values
 * 32i + 8j .. +7; the remaining full 8-value steps go to a0; then
 * sum = hsum8((a0 + a1) + (a2 + a3)) and the last K % 8 products are added
 * one by one in float. Pass j runs chain a_j. */
static inline __m256 ld_f32(const uint8_t *p) { return _mm256_loadu_ps((const float *)(const void *)p); }
static inline __m256 ld_f16(const uint8_t *p) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p)); }
static inline float sc_f32(const uint8_t *p) { return ldf(p); }
static inline float sc_f16(const uint8_t *p) { return h2f(p); }

#define FLT_STEP(LD, off)                                                                                    \
    do {                                                                                                     \
        __m256 av[TC];                                                                                       \
        for (int c = 0; c < TC; c++) av[c] = LD(a[c] + (off));                                               \
        for (int r = 0; r < TR; r++) {                                                                       \
            const __m256 wv = LD(w[r] + (off));                                                              \
            for (int c = 0; c < TC; c++) acc[TC * r + c] = _mm256_fmadd_ps(wv, av[c], acc[TC * r + c]);      \
        }                                                                                                    \
    } while (0)

#define FLT_TILE(NAME, ES, LD, SC)                                                                            \
    void NAME(int64_t K, const void *W, size_t ws, int nr, const void *A, size_t as, int nc, float *C,        \
              size_t cs) {                                                                                    \
        const uint8_t *w[TR], *a[TC];                                                                         \
        tile_ptrs(W, ws, nr, A, as, nc, w, a);                                                                \
        const int64_t k32 = K / 32 * 32, k8 = K / 8 * 8;                                                      \
        __m256 part[4][TN];                                                                                   \
        for (int j = 0; j < 4; j++) {                                                                         \
            __m256 acc[TN];                                                                                   \
            for (int o = 0; o < TN; o++) acc[o] = _mm256_setzero_ps();                                        \
            for (int64_t i = 8 * j; i < k32; i += 32) FLT_STEP(LD, (size_t)i * (ES));                         \
            if (j == 0)                                                                                       \
                for (int64_t i = k32; i < k8; i += 8) FLT_STEP(LD, (size_t)i * (ES));                         \
            for (int o = 0; o < TN; o++) part[j][o] = acc[o];                                                 \
        }                                                                                                     \
        __m256 sum[TN];                                                                                       \
        for (int o = 0; o < TN; o++)                                                                          \
            sum[o] = _mm256_add_ps(_mm256_add_ps(part[0][o], part[1][o]), _mm256_add_ps(part[2][o], part[3][o])); \
        __m256 res = hsum8x8(sum);                                                                            \
        if (k8 < K) { /* scalar tail, in order, per output */                                                 \
            float v[TN];                                                                                      \
            _mm256_storeu_ps(v, res);                                                                         \
            for (int o = 0; o < TN; o++) {                                                                    \
                const uint8_t *x = w[o / TC], *y = a[o % TC];                                                 \
                float s = v[LANE(o)];                                                                         \
                for (int64_t i = k8; i < K; i++) s += SC(x + (size_t)i * (ES)) * SC(y + (size_t)i * (ES));    \
                v[LANE(o)] = s;                                                                               \
            }                                                                                                 \
            res = _mm256_loadu_ps(v);                                                                         \
        }                                                                                                     \
        store_tile(res, nr, nc, C, cs);                                                                       \
    }

FLT_TILE(lrq_gemm_f32_avx2, 4, ld_f32, sc_f32)
FLT_TILE(lrq_gemm_f16_avx2, 2, ld_f16, sc_f16)

/* ======================= k-quants (x Q8_K) ======================= */

/* The k-quant vec_dot kernels equal dot_k_ref.c bit for bit; so do these.
 * A block of 256 values is 8 runs of 32. Per run, each row's 32 codes (u8)
 * and the int16 scale of every maddubs pair are decoded once; per output,
 * maddubs (code x activation) and madd (x scale) give 8 int32 lanes, lane k
 * = values 4k..4k+3 of the run — the lanes of the reference's 8-lane
 * order — accumulated over the runs in 8 registers (one per output). */

/* Scale vector of a run of two 16-value sub-blocks: [s[2j] x 8 | s[2j+1] x 8]
 * as int16 from 16 int8 scales (sgn: signed). */
static inline __m256i scale_pair(__m128i s8, int j, int sgn) {
    const __m128i idx = _mm_or_si128(_mm_set1_epi8((char)(2 * j)),
                                     _mm_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1));
    const __m128i b = _mm_shuffle_epi8(s8, idx);
    return sgn ? _mm256_cvtepi8_epi16(b) : _mm256_cvtepu8_epi16(b);
}
/* Scale j of 16 bytes in every int16 lane. */
static inline __m256i scale_one(__m128i s8, int j) { return _mm256_cvtepu8_epi16(_mm_shuffle_epi8(s8, _mm_set1_epi8((char)j))); }

/* Q4_K/Q5_K 6-bit scales and mins as bytes: [sc0..sc7 | m0..m7]. */
static inline __m128i k4_scales8(const uint8_t *q) {
    const uint32_t w0 = lrq_rd32(q), w1 = lrq_rd32(q + 4), w2 = lrq_rd32(q + 8);
    const uint32_t s_lo = w0 & 0x3f3f3f3fu, m_lo = w1 & 0x3f3f3f3fu;
    const uint32_t s_hi = (w2 & 0x0f0f0f0fu) | (((w0 >> 6) & 0x03030303u) << 4);
    const uint32_t m_hi = ((w2 >> 4) & 0x0f0f0f0fu) | (((w1 >> 6) & 0x03030303u) << 4);
    return _mm_set_epi32((int)m_hi, (int)m_lo, (int)s_hi, (int)s_lo);
}
static inline __m128i k3_scales8(const uint8_t *q) {
    const uint32_t w0 = lrq_rd32(q), w1 = lrq_rd32(q + 4), w2 = lrq_rd32(q + 8);
    const uint32_t a = (w0 & 0x0f0f0f0fu) | ((w2 & 0x03030303u) << 4);
    const uint32_t b = (w1 & 0x0f0f0f0fu) | (((w2 >> 2) & 0x03030303u) << 4);
    const uint32_t c = ((w0 >> 4) & 0x0f0f0f0fu) | (((w2 >> 4) & 0x03030303u) << 4);
    const uint32_t d = ((w1 >> 4) & 0x0f0f0f0fu) | (((w2 >> 6) & 0x03030303u) << 4);
    return _mm_sub_epi8(_mm_set_epi32((int)d, (int)c, (int)b, (int)a), _mm_set1_epi8(32));
}
/* val in the bytes whose bit `bit` of the 32 bytes at p is set. */
static inline __m256i bit_bytes(const uint8_t *p, int bit, int val) {
    const __m256i m = _mm256_set1_epi8((char)(1 << bit));
    return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(LD256(p), m), m), _mm256_set1_epi8((char)val));
}

/* Per row and block: x (the block), sc (scales as bytes, see each type). */
typedef struct {
    const uint8_t *x;
    __m128i sc;
} krow;

/* Run j of a row block: codes *v, pair scales *s. */
static inline void q4_K_run(const krow *k, int j, __m256i *v, __m256i *s) {
    const __m256i qv = LD256(k->x + LRQ_Q4K_QS + 32 * (j / 2));
    *v = _mm256_and_si256(j % 2 ? _mm256_srli_epi16(qv, 4) : qv, _mm256_set1_epi8(0xf));
    *s = scale_one(k->sc, j);
}
static inline void q5_K_run(const krow *k, int j, __m256i *v, __m256i *s) {
    const __m256i qv = LD256(k->x + LRQ_Q5K_QS + 32 * (j / 2));
    *v = _mm256_or_si256(_mm256_and_si256(j % 2 ? _mm256_srli_epi16(qv, 4) : qv, _mm256_set1_epi8(0xf)),
                         bit_bytes(k->x + LRQ_Q5K_QH, j, 16));
    *s = scale_one(k->sc, j);
}
static inline void q2_K_run(const krow *k, int j, __m256i *v, __m256i *s) { /* qs[32*(j/4)..] >> 2*(j%4) */
    *v = _mm256_and_si256(_mm256_srli_epi16(LD256(k->x + LRQ_Q2K_QS + 32 * (j / 4)), 2 * (j % 4)), _mm256_set1_epi8(3));
    *s = scale_pair(k->sc, j, 0);
}
/* Q3_K codes as u = code + 4 * third bit (0..7), the value being u - 4. */
static inline void q3_K_run(const krow *k, int j, __m256i *v, __m256i *s) {
    const __m256i lo = _mm256_and_si256(_mm256_srli_epi16(LD256(k->x + LRQ_Q3K_QS + 32 * (j / 4)), 2 * (j % 4)),
                                        _mm256_set1_epi8(3));
    *v = _mm256_or_si256(lo, bit_bytes(k->x + LRQ_Q3K_HMASK, j, 4));
    *s = scale_pair(k->sc, j, 1);
}
static inline void q6_K_run(const krow *k, int j, __m256i *v, __m256i *s) { /* h = j/4, t = j%4 */
    const int h = j / 4, t = j % 4;
    const __m256i ql = LD256(k->x + LRQ_Q6K_QL + 64 * h + 32 * (t & 1));
    const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(LD256(k->x + LRQ_Q6K_QH + 32 * h), 2 * t), _mm256_set1_epi8(3));
    *v = _mm256_or_si256(_mm256_and_si256(t < 2 ? ql : _mm256_srli_epi16(ql, 4), _mm256_set1_epi8(0xf)), _mm256_slli_epi16(hi, 4));
    *s = scale_pair(k->sc, j, 1);
}

/* Lane sums of the TR row blocks with the TC activation blocks of block b:
 * is[TC*r + c]. OFF: Q3_K's -4 (maddubs(4, act) per column and run). */
#define KDOTS(RUN, OFF)                                                                                      \
    do {                                                                                                     \
        for (int o = 0; o < TN; o++) is[o] = _mm256_setzero_si256();                                         \
        for (int j = 0; j < 8; j++) {                                                                        \
            __m256i v[TR], s[TR];                                                                            \
            for (int r = 0; r < TR; r++) RUN(&kr[r], j, &v[r], &s[r]);                                       \
            for (int c = 0; c < TC; c++) {                                                                   \
                const __m256i act = LD256(a[c] + b * LRQ_Q8K_SIZE + LRQ_Q8K_QS + 32 * j);                    \
                const __m256i off = OFF ? _mm256_maddubs_epi16(_mm256_set1_epi8(4), act) : _mm256_setzero_si256(); \
                for (int r = 0; r < TR; r++) {                                                               \
                    __m256i p = _mm256_maddubs_epi16(v[r], act);                                             \
                    if (OFF) p = _mm256_sub_epi16(p, off);                                                   \
                    is[TC * r + c] = _mm256_add_epi32(is[TC * r + c], _mm256_madd_epi16(p, s[r]));            \
                }                                                                                            \
            }                                                                                                \
        }                                                                                                    \
    } while (0)

#define BSUMS(c) LD256(a[c] + b * LRQ_Q8K_SIZE + LRQ_Q8K_BSUMS)
static inline float col_d(const uint8_t *const a[TC], int c, int64_t b) { return ldf(a[c] + b * LRQ_Q8K_SIZE + LRQ_Q8K_D); }

/* A float per output (o = TC*r + c) at lane LANE(o). */
static inline __m256 lanes_of(const float v[TN]) {
    float t[TN];
    for (int o = 0; o < TN; o++) t[LANE(o)] = v[o];
    return _mm256_loadu_ps(t);
}

/* ---- S/M types (Q2_K, Q4_K): acc = fma(S, d_x*d_y, acc), accm =
 * fma(M, dmin_x*d_y, accm) per block, result acc - accm; the 8 outputs'
 * chains are the lanes of one vector. MINS(x, sc): int16 mins to madd with
 * the 16 bsums (Q4_K: each of its 8 mins twice). ---- */
#define SM_TILE(NAME, T, SCALES, MINS, RUN)                                                                   \
    void NAME(int64_t K, const void *W, size_t ws, int nr, const void *A, size_t as, int nc, float *C,        \
              size_t cs) {                                                                                    \
        LRQ_ASSERT(K % LRQ_QK_K == 0);                                                                        \
        const uint8_t *w[TR], *a[TC];                                                                         \
        tile_ptrs(W, ws, nr, A, as, nc, w, a);                                                                \
        __m256 acc = _mm256_setzero_ps(), accm = _mm256_setzero_ps();                                         \
        for (int64_t b = 0; b < K / LRQ_QK_K; b++) {                                                          \
            krow kr[TR];                                                                                      \
            __m256i is[TN], ms[TN];                                                                           \
            float dd[TN], dm[TN];                                                                             \
            for (int r = 0; r < TR; r++) {                                                                    \
                kr[r].x = w[r] + b * LRQ_##T##_SIZE;                                                          \
                kr[r].sc = SCALES(kr[r].x);                                                                   \
                const __m256i mins = MINS(kr[r].x, kr[r].sc);                                                 \
                const float dx = h2f(kr[r].x + LRQ_##T##_D), mx = h2f(kr[r].x + LRQ_##T##_DMIN);              \
                for (int c = 0; c < TC; c++) {                                                                \
                    ms[TC * r + c] = _mm256_madd_epi16(mins, BSUMS(c));                                       \
                    dd[TC * r + c] = dx * col_d(a, c, b);                                                     \
                    dm[TC * r + c] = mx * col_d(a, c, b);                                                     \
                }                                                                                             \
            }                                                                                                 \
            KDOTS(RUN, 0);                                                                                    \
            acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum8x8(is)), lanes_of(dd), acc);                        \
            accm = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum8x8(ms)), lanes_of(dm), accm);                      \
        }                                                                                                     \
        store_tile(_mm256_sub_ps(acc, accm), nr, nc, C, cs);                                                  \
    }
static inline __m128i q4_K_scales(const uint8_t *x) { return k4_scales8(x + LRQ_Q4K_SCALES); }
static inline __m256i q4_K_mins(const uint8_t *x, __m128i sc) {
    (void)x;
    return _mm256_cvtepu8_epi16(_mm_unpackhi_epi8(sc, sc));
}
/* Q2_K: scales in the low nibbles, mins in the high ones */
static inline __m128i q2_K_scales(const uint8_t *x) { return _mm_and_si128(LD128(x + LRQ_Q2K_SCALES), _mm_set1_epi8(0xf)); }
static inline __m256i q2_K_mins(const uint8_t *x, __m128i sc) {
    (void)sc;
    return _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(LD128(x + LRQ_Q2K_SCALES), 4), _mm_set1_epi8(0xf)));
}
SM_TILE(lrq_gemm_q4_K_avx2, Q4K, q4_K_scales, q4_K_mins, q4_K_run)
SM_TILE(lrq_gemm_q2_K_avx2, Q2K, q2_K_scales, q2_K_mins, q2_K_run)

/* ---- 8-lane types (Q3_K, Q5_K, Q6_K): acc8 = fma(d_y*d_x, float(lanes),
 * acc8) per output and block, result hsum8(acc8) (+ summs for Q5_K). ---- */

void lrq_gemm_q6_K_avx2(int64_t K, const void *W, size_t ws, int nr, const void *A, size_t as, int nc, float *C,
                        size_t cs) {
    LRQ_ASSERT(K % LRQ_QK_K == 0);
    const uint8_t *w[TR], *a[TC];
    tile_ptrs(W, ws, nr, A, as, nc, w, a);
    __m256 acc[TN];
    for (int o = 0; o < TN; o++) acc[o] = _mm256_setzero_ps();
    for (int64_t b = 0; b < K / LRQ_QK_K; b++) {
        krow kr[TR];
        __m256i is[TN];
        for (int r = 0; r < TR; r++) {
            kr[r].x = w[r] + b * LRQ_Q6K_SIZE;
            kr[r].sc = LD128(kr[r].x + LRQ_Q6K_SCALES);
        }
        KDOTS(q6_K_run, 0);
        for (int r = 0; r < TR; r++) {
            const __m256i sc16 = _mm256_cvtepi8_epi16(kr[r].sc);
            const float dx = h2f(kr[r].x + LRQ_Q6K_D);
            for (int c = 0; c < TC; c++) {
                /* the offset 32 through the bsums: lane k takes sub-blocks 2k, 2k+1 */
                const __m256i lanes = _mm256_sub_epi32(is[TC * r + c], _mm256_slli_epi32(_mm256_madd_epi16(BSUMS(c), sc16), 5));
                acc[TC * r + c] = _mm256_fmadd_ps(_mm256_set1_ps(col_d(a, c, b) * dx), _mm256_cvtepi32_ps(lanes), acc[TC * r + c]);
            }
        }
    }
    store_tile(hsum8x8(acc), nr, nc, C, cs);
}

void lrq_gemm_q3_K_avx2(int64_t K, const void *W, size_t ws, int nr, const void *A, size_t as, int nc, float *C,
                        size_t cs) {
    LRQ_ASSERT(K % LRQ_QK_K == 0);
    const uint8_t *w[TR], *a[TC];
    tile_ptrs(W, ws, nr, A, as, nc, w, a);
    __m256 acc[TN];
    for (int o = 0; o < TN; o++) acc[o] = _mm256_setzero_ps();
    for (int64_t b = 0; b < K / LRQ_QK_K; b++) {
        krow kr[TR];
        __m256i is[TN];
        for (int r = 0; r < TR; r++) {
            kr[r].x = w[r] + b * LRQ_Q3K_SIZE;
            kr[r].sc = k3_scales8(kr[r].x + LRQ_Q3K_SCALES);
        }
        KDOTS(q3_K_run, 1);
        for (int r = 0; r < TR; r++) {
            const float dx = h2f(kr[r].x + LRQ_Q3K_D);
            for (int c = 0; c < TC; c++)
                acc[TC * r + c] = _mm256_fmadd_ps(_mm256_set1_ps(col_d(a, c, b) * dx), _mm256_cvtepi32_ps(is[TC * r + c]),
                                                  acc[TC * r + c]);
        }
    }
    store_tile(hsum8x8(acc), nr, nc, C, cs);
}

void lrq_gemm_q5_K_avx2(int64_t K, const void *W, size_t ws, int nr, const void *A, size_t as, int nc, float *C,
                        size_t cs) {
    LRQ_ASSERT(K % LRQ_QK_K == 0);
    const uint8_t *w[TR], *a[TC];
    tile_ptrs(W, ws, nr, A, as, nc, w, a);
    __m256 acc[TN], summs = _mm256_setzero_ps();
    for (int o = 0; o < TN; o++) acc[o] = _mm256_setzero_ps();
    for (int64_t b = 0; b < K / LRQ_QK_K; b++) {
        krow kr[TR];
        __m256i is[TN], ms[TN];
        float dmin[TN];
        for (int r = 0; r < TR; r++) {
            kr[r].x = w[r] + b * LRQ_Q5K_SIZE;
            kr[r].sc = k4_scales8(kr[r].x + LRQ_Q5K_SCALES);
        }
        KDOTS(q5_K_run, 0);
        for (int r = 0; r < TR; r++) {
            const __m256i mins = _mm256_cvtepu8_epi16(_mm_unpackhi_epi8(kr[r].sc, kr[r].sc));
            const float dx = h2f(kr[r].x + LRQ_Q5K_D), mx = h2f(kr[r].x + LRQ_Q5K_DMIN);
            for (int c = 0; c < TC; c++) {
                const float dy = col_d(a, c, b);
                acc[TC * r + c] = _mm256_fmadd_ps(_mm256_set1_ps(dy * dx), _mm256_cvtepi32_ps(is[TC * r + c]), acc[TC * r + c]);
                ms[TC * r + c] = _mm256_madd_epi16(mins, BSUMS(c));
                dmin[TC * r + c] = -dy * mx;
            }
        }
        summs = _mm256_fmadd_ps(lanes_of(dmin), _mm256_cvtepi32_ps(isum8x8(ms)), summs);
    }
    store_tile(_mm256_add_ps(hsum8x8(acc), summs), nr, nc, C, cs);
}
