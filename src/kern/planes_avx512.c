/* planes_avx512.c — AVX-512 versions of the planes kernels (planes_ref.c is
 * the specification; the structure follows planes_avx2.c, 16 lanes wide):
 *  - codes are unpacked 16 at a time into int32 lanes: one 32-bit window of
 *    the row's bit stream broadcast (b = 2), or two (codes 0-7 and 8-15)
 *    filling the two 256-bit halves (b = 3, 4), shifted right by 0, b, .., 7b per lane and masked (b = 2, 3,
 *    4), or 16 bytes are widened (b = 8);
 *  - a group's last group % 16 elements go through the same vector step
 *    with a lane mask: x is loaded with zeros in the masked-off lanes (so
 *    they add nothing), and for b = 8 the code bytes are loaded masked too,
 *    so no byte past the row is read (the windows never read past it);
 *  - per group, acc_y += s * (acc_qx - (z - o) * acc_x) lane-wise; one
 *    horizontal sum per row.
 * The float order differs from the reference (lanes, FMA); the tests bound
 * the difference by Σ|terms| (tests/test_planes.c). */
#include "kern/planes.h"
#include "fmt/planes.h"

#include <immintrin.h>
#include <string.h>

#define INLINE static inline __attribute__((always_inline))

/* 32 bits of the row's bit stream from bit p; bits past the row read as 0,
 * bytes past it are never read. Little-endian host (x86). */
INLINE uint32_t window(const uint8_t *row, size_t rb, uint64_t p) {
    const size_t byte = (size_t)(p >> 3);
    uint64_t w = 0;
    if (byte >= rb) return 0;
    if (byte + 8 <= rb) memcpy(&w, row + byte, 8);
    else memcpy(&w, row + byte, rb - byte);
    return (uint32_t)(w >> (p & 7));
}

/* Codes j .. j+15 as floats; lanes at or past `m`'s cleared bits are
 * garbage-free but meaningless (callers zero x there). For b = 8 only the
 * lanes in m are read. */
INLINE __m512 codes16(const uint8_t *row, size_t rb, int bits, int64_t j, __mmask16 m) {
    if (bits == 8) return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, row + j)));
    const uint64_t p = (uint64_t)j * (uint64_t)bits;
    if (bits == 2) { /* 16 codes = 32 bits: one window, shifts 0, 2, .., 30 */
        const __m512i sh2 = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        const __m512i q = _mm512_and_si512(_mm512_srlv_epi32(_mm512_set1_epi32((int)window(row, rb, p)), sh2),
                                           _mm512_set1_epi32(3));
        return _mm512_cvtepi32_ps(q);
    }
    if (bits == 5 || bits == 6) { /* 16 codes are 80/96 bits: four 32-bit windows of 4 codes each */
        const uint64_t b4 = 4 * (uint64_t)bits;
        const int w0 = (int)window(row, rb, p), w1 = (int)window(row, rb, p + b4);
        const int w2 = (int)window(row, rb, p + 2 * b4), w3 = (int)window(row, rb, p + 3 * b4);
        const __m512i sh4 = _mm512_setr_epi32(0, bits, 2 * bits, 3 * bits, 0, bits, 2 * bits, 3 * bits, 0, bits,
                                              2 * bits, 3 * bits, 0, bits, 2 * bits, 3 * bits);
        const __m512i w = _mm512_setr_epi32(w0, w0, w0, w0, w1, w1, w1, w1, w2, w2, w2, w2, w3, w3, w3, w3);
        return _mm512_cvtepi32_ps(_mm512_and_si512(_mm512_srlv_epi32(w, sh4), _mm512_set1_epi32((1 << bits) - 1)));
    }
    const __m512i sh = _mm512_setr_epi32(0, bits, 2 * bits, 3 * bits, 4 * bits, 5 * bits, 6 * bits, 7 * bits, 0, bits,
                                         2 * bits, 3 * bits, 4 * bits, 5 * bits, 6 * bits, 7 * bits);
    const __m512i w = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi32((int)window(row, rb, p))),
                                         _mm256_set1_epi32((int)window(row, rb, p + 8 * (uint64_t)bits)), 1);
    const __m512i q = _mm512_and_si512(_mm512_srlv_epi32(w, sh), _mm512_set1_epi32((1 << bits) - 1));
    return _mm512_cvtepi32_ps(q);
}

/* Lane mask of the first r (< 16) lanes, or all 16 for r >= 16. */
INLINE __mmask16 first(int64_t r) { return r >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << r) - 1u); }

/* One input x shared by K replicas: the group's sums once (two accumulator
 * pairs, 32 codes per step), then the K parameter sets; K constant for K <= 4. */
INLINE void body_k(int bits, int64_t n, const uint8_t *row, int K, const float *const *scales,
                   const float *const *zeros, const float *offsets, int32_t group, const float *x, float *y) {
    const size_t rb = (size_t)(((uint64_t)n * (uint64_t)bits + 7) / 8);
    /* replicas 0-3 accumulate in named registers (GCC keeps an array of
     * vectors in memory, which put a store-forwarding delay on every
     * update), replicas 4.. in the array */
    __m512 y0 = _mm512_setzero_ps(), y1 = y0, y2 = y0, y3 = y0, ay[LRQ_PLANES_MAX_K];
    for (int k = 4; k < K; k++) ay[k] = _mm512_setzero_ps();
    const int64_t ng = n / group;
    for (int64_t g = 0; g < ng; g++) {
        const int64_t j0 = g * group, j1 = j0 + group;
        __m512 aq = _mm512_setzero_ps(), ax = _mm512_setzero_ps(), aq1 = _mm512_setzero_ps(),
               ax1 = _mm512_setzero_ps();
        int64_t j = j0;
        for (; j + 32 <= j1; j += 32) {
            const __m512 q0 = codes16(row, rb, bits, j, 0xFFFF), q1 = codes16(row, rb, bits, j + 16, 0xFFFF);
            const __m512 x0 = _mm512_loadu_ps(x + j), x1 = _mm512_loadu_ps(x + j + 16);
            aq = _mm512_fmadd_ps(q0, x0, aq);
            ax = _mm512_add_ps(ax, x0);
            aq1 = _mm512_fmadd_ps(q1, x1, aq1);
            ax1 = _mm512_add_ps(ax1, x1);
        }
        for (; j < j1; j += 16) { /* at most 16 + a masked partial step */
            const __mmask16 m = first(j1 - j);
            const __m512 x0 = _mm512_maskz_loadu_ps(m, x + j);
            aq = _mm512_fmadd_ps(codes16(row, rb, bits, j, m), x0, aq);
            ax = _mm512_add_ps(ax, x0);
        }
        aq = _mm512_add_ps(aq, aq1);
        ax = _mm512_add_ps(ax, ax1);
#define APPLY(k, Y)                                                                                   \
        do {                                                                                         \
            const float c = (zeros && zeros[k] ? zeros[k][g] : 0.0f) - offsets[k];                   \
            const __m512 t = _mm512_sub_ps(aq, _mm512_mul_ps(_mm512_set1_ps(c), ax));                \
            Y = _mm512_fmadd_ps(_mm512_set1_ps(scales[k][g]), t, Y);                                 \
        } while (0)
        APPLY(0, y0);
        if (K > 1) APPLY(1, y1);
        if (K > 2) APPLY(2, y2);
        if (K > 3) APPLY(3, y3);
        for (int k = 4; k < K; k++) APPLY(k, ay[k]);
#undef APPLY
    }
    y[0] = _mm512_reduce_add_ps(y0);
    if (K > 1) y[1] = _mm512_reduce_add_ps(y1);
    if (K > 2) y[2] = _mm512_reduce_add_ps(y2);
    if (K > 3) y[3] = _mm512_reduce_add_ps(y3);
    for (int k = 4; k < K; k++) y[k] = _mm512_reduce_add_ps(ay[k]);
}

/* One input per replica, any K (used for K > 4): each chunk (<= 256 codes) of a group unpacked once
 * into an L1 buffer (zeros past the group), then a tight float dot per x_k;
 * the masked last step keeps x_k's lanes past the group at zero. */
#define CHUNK 256
INLINE void body_kx(int bits, int64_t n, const uint8_t *row, int K, const float *const *scales,
                    const float *const *zeros, const float *offsets, int32_t group, const float *const *xs,
                    float *y) {
    const size_t rb = (size_t)(((uint64_t)n * (uint64_t)bits + 7) / 8);
    float qf[CHUNK] __attribute__((aligned(64)));
    __m512 ay[LRQ_PLANES_MAX_K];
    for (int k = 0; k < K; k++) ay[k] = _mm512_setzero_ps();
    const int64_t ng = n / group;
    for (int64_t g = 0; g < ng; g++) {
        const int64_t j0 = g * group, j1 = j0 + group;
        __m512 aq[LRQ_PLANES_MAX_K], ax[LRQ_PLANES_MAX_K];
        for (int k = 0; k < K; k++) aq[k] = ax[k] = _mm512_setzero_ps();
        for (int64_t c0 = j0; c0 < j1; c0 += CHUNK) {
            const int64_t len = j1 - c0 >= CHUNK ? CHUNK : j1 - c0;
            for (int64_t i = 0; i < len; i += 16)
                _mm512_store_ps(qf + i, codes16(row, rb, bits, c0 + i, first(len - i)));
            for (int k = 0; k < K; k++) {
                const float *xk = xs[k] + c0;
                __m512 q0 = _mm512_setzero_ps(), s0 = _mm512_setzero_ps(), q1 = _mm512_setzero_ps(),
                       s1 = _mm512_setzero_ps();
                int64_t i = 0;
                for (; i + 32 <= len; i += 32) {
                    const __m512 x0 = _mm512_loadu_ps(xk + i), x1 = _mm512_loadu_ps(xk + i + 16);
                    q0 = _mm512_fmadd_ps(_mm512_load_ps(qf + i), x0, q0);
                    s0 = _mm512_add_ps(s0, x0);
                    q1 = _mm512_fmadd_ps(_mm512_load_ps(qf + i + 16), x1, q1);
                    s1 = _mm512_add_ps(s1, x1);
                }
                for (; i < len; i += 16) {
                    const __m512 x0 = _mm512_maskz_loadu_ps(first(len - i), xk + i);
                    q0 = _mm512_fmadd_ps(_mm512_load_ps(qf + i), x0, q0);
                    s0 = _mm512_add_ps(s0, x0);
                }
                aq[k] = _mm512_add_ps(aq[k], _mm512_add_ps(q0, q1));
                ax[k] = _mm512_add_ps(ax[k], _mm512_add_ps(s0, s1));
            }
        }
        for (int k = 0; k < K; k++) {
            const float c = (zeros && zeros[k] ? zeros[k][g] : 0.0f) - offsets[k];
            const __m512 t = _mm512_sub_ps(aq[k], _mm512_mul_ps(_mm512_set1_ps(c), ax[k]));
            ay[k] = _mm512_fmadd_ps(_mm512_set1_ps(scales[k][g]), t, ay[k]);
        }
    }
    for (int k = 0; k < K; k++) y[k] = _mm512_reduce_add_ps(ay[k]);
}

/* One input per replica, K <= 4 (a constant here): codes unpacked into a
 * register once per 16 and used directly for each x_k; the 2K accumulators
 * are fixed-size arrays indexed by constants after unrolling, so they stay
 * in registers. */
INLINE void body_kx_small(int bits, int64_t n, const uint8_t *row, int K, const float *const *scales,
                          const float *const *zeros, const float *offsets, int32_t group, const float *const *xs,
                          float *y) {
    const size_t rb = (size_t)(((uint64_t)n * (uint64_t)bits + 7) / 8);
    const float *x0p = xs[0], *x1p = K > 1 ? xs[1] : xs[0], *x2p = K > 2 ? xs[2] : xs[0], *x3p = K > 3 ? xs[3] : xs[0];
    __m512 y0 = _mm512_setzero_ps(), y1 = y0, y2 = y0, y3 = y0;
    const int64_t ng = n / group;
    for (int64_t g = 0; g < ng; g++) {
        const int64_t j0 = g * group, j1 = j0 + group;
        __m512 q0 = _mm512_setzero_ps(), q1 = q0, q2 = q0, q3 = q0, s0 = q0, s1 = q0, s2 = q0, s3 = q0;
        for (int64_t j = j0; j < j1; j += 16) {
            const __mmask16 m = first(j1 - j);
            const __m512 q = codes16(row, rb, bits, j, m);
            __m512 v = _mm512_maskz_loadu_ps(m, x0p + j);
            q0 = _mm512_fmadd_ps(q, v, q0);
            s0 = _mm512_add_ps(s0, v);
            if (K > 1) {
                v = _mm512_maskz_loadu_ps(m, x1p + j);
                q1 = _mm512_fmadd_ps(q, v, q1);
                s1 = _mm512_add_ps(s1, v);
            }
            if (K > 2) {
                v = _mm512_maskz_loadu_ps(m, x2p + j);
                q2 = _mm512_fmadd_ps(q, v, q2);
                s2 = _mm512_add_ps(s2, v);
            }
            if (K > 3) {
                v = _mm512_maskz_loadu_ps(m, x3p + j);
                q3 = _mm512_fmadd_ps(q, v, q3);
                s3 = _mm512_add_ps(s3, v);
            }
        }
#define APPLY(k, Y, Q, S)                                                                                     \
        do {                                                                                                 \
            const float c = (zeros && zeros[k] ? zeros[k][g] : 0.0f) - offsets[k];                           \
            Y = _mm512_fmadd_ps(_mm512_set1_ps(scales[k][g]), _mm512_sub_ps(Q, _mm512_mul_ps(_mm512_set1_ps(c), S)), Y); \
        } while (0)
        APPLY(0, y0, q0, s0);
        if (K > 1) APPLY(1, y1, q1, s1);
        if (K > 2) APPLY(2, y2, q2, s2);
        if (K > 3) APPLY(3, y3, q3, s3);
#undef APPLY
    }
    y[0] = _mm512_reduce_add_ps(y0);
    if (K > 1) y[1] = _mm512_reduce_add_ps(y1);
    if (K > 2) y[2] = _mm512_reduce_add_ps(y2);
    if (K > 3) y[3] = _mm512_reduce_add_ps(y3);
}

/* Instantiation per code width (constant bits) and, for dot_k, per K <= 4. */
#define BY_BITS(bits, CALL) \
    switch (bits) {         \
    case 2: CALL(2); break; \
    case 3: CALL(3); break; \
    case 4: CALL(4); break; \
    case 5: CALL(5); break; \
    case 6: CALL(6); break; \
    default: CALL(8); break; \
    }

static float dot(int bits, int64_t n, const uint8_t *codes, const float *scale, const float *zero, float offset,
                 int32_t group, const float *x) {
    const float *sc[1] = {scale}, *ze[1] = {zero};
    const float off[1] = {offset};
    float y = 0.0f;
#define CALL(b) body_k(b, n, codes, 1, sc, ze, off, group, x, &y)
    BY_BITS(bits, CALL)
#undef CALL
    return y;
}

static void dot_k(int bits, int64_t n, const uint8_t *codes, int K, const float *const *scales,
                  const float *const *zeros, const float *offsets, int32_t group, const float *x, float *y) {
#define CK1(b) body_k(b, n, codes, 1, scales, zeros, offsets, group, x, y)
#define CK2(b) body_k(b, n, codes, 2, scales, zeros, offsets, group, x, y)
#define CK3(b) body_k(b, n, codes, 3, scales, zeros, offsets, group, x, y)
#define CK4(b) body_k(b, n, codes, 4, scales, zeros, offsets, group, x, y)
#define CKN(b) body_k(b, n, codes, K, scales, zeros, offsets, group, x, y)
    switch (K) {
    case 1: BY_BITS(bits, CK1) break;
    case 2: BY_BITS(bits, CK2) break;
    case 3: BY_BITS(bits, CK3) break;
    case 4: BY_BITS(bits, CK4) break;
    default: BY_BITS(bits, CKN) break;
    }
#undef CK1
#undef CK2
#undef CK3
#undef CK4
#undef CKN
}

static void dot_kx(int bits, int64_t n, const uint8_t *codes, int K, const float *const *scales,
                   const float *const *zeros, const float *offsets, int32_t group, const float *const *xs, float *y) {
#define CX(b) body_kx(b, n, codes, K, scales, zeros, offsets, group, xs, y)
#define CX1(b) body_kx_small(b, n, codes, 1, scales, zeros, offsets, group, xs, y)
#define CX2(b) body_kx_small(b, n, codes, 2, scales, zeros, offsets, group, xs, y)
#define CX3(b) body_kx_small(b, n, codes, 3, scales, zeros, offsets, group, xs, y)
#define CX4(b) body_kx_small(b, n, codes, 4, scales, zeros, offsets, group, xs, y)
    switch (K) {
    case 1: BY_BITS(bits, CX1) break;
    case 2: BY_BITS(bits, CX2) break;
    case 3: BY_BITS(bits, CX3) break;
    case 4: BY_BITS(bits, CX4) break;
    default: BY_BITS(bits, CX) break;
    }
#undef CX
#undef CX1
#undef CX2
#undef CX3
#undef CX4
}

static const lrq_planes_kernels avx512_kernels = {.dot = dot, .dot_k = dot_k, .dot_kx = dot_kx};

/* The AVX-512 planes kernels (contracts in kern/planes.h). Only for kern/planes.c,
 * which hands them out after checking the CPU level (lrq_planes_get_isa). */
const lrq_planes_kernels *lrq_planes_avx512(void);
const lrq_planes_kernels *lrq_planes_avx512(void) { return &avx512_kernels; }
