/* planes_avx2.c — AVX2+FMA versions of the planes kernels (planes_ref.c is
 * the specification). Same per-group algebra, different float order:
 *  - codes are unpacked 8 at a time into int32 lanes: a 32-bit window of the
 *    row's bit stream is broadcast and shifted right by 0, b, .., 7b per lane
 *    (b = 2, 3, 4), or widened from 8 bytes (b = 8);
 *  - per group, lanes accumulate q*x (FMA) and x (with one input: two
 *    interleaved pairs of accumulators, 16 codes per step, for ILP), the group's parameters are
 *    applied lane-wise: acc_y += s * (acc_qx - (z - o) * acc_x), so there is
 *    one horizontal sum per row, not one per group; the elements of a group
 *    beyond its last full 8 (group % 8) are summed in scalar and applied the
 *    same way;
 *  - one input per replica (dot_kx): for K <= 4 the unpacked codes are used
 *    straight from a register for each x_k; for larger K each chunk of a
 *    group is unpacked once into an L1 buffer and re-read per x_k.
 * Results therefore differ from the reference by rounding only; the tests
 * bound the difference by Σ|terms| (tests/test_planes.c).
 * Every kernel body is one always-inlined function instantiated per code
 * width and, for K <= 4, per replica count, so the shifts and masks are
 * constants and the per-replica accumulators live in registers. */
#include "kern/planes.h"
#include "fmt/planes.h"

#include <immintrin.h>
#include <string.h>

#define INLINE static inline __attribute__((always_inline))

/* 32 bits of the row's bit stream starting at bit p; bits past the row's
 * last byte read as 0. Never reads past the row (rb bytes): near its end the
 * bytes are copied one by one. Little-endian host (x86). */
INLINE uint32_t window(const uint8_t *row, size_t rb, uint64_t p) {
    const size_t byte = (size_t)(p >> 3);
    uint64_t w = 0;
    if (byte + 8 <= rb) memcpy(&w, row + byte, 8);
    else memcpy(&w, row + byte, rb - byte);
    return (uint32_t)(w >> (p & 7));
}

/* Codes j .. j+7 as floats (j + 8 <= n). */
INLINE __m256 codes8(const uint8_t *row, size_t rb, int bits, int64_t j) {
    if (bits == 8) return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(row + j))));
    if (bits == 5 || bits == 6) { /* 8 codes are 40/48 bits: two 32-bit windows of 4 codes each */
        const uint64_t p = (uint64_t)j * (uint64_t)bits;
        const int w0 = (int)window(row, rb, p), w1 = (int)window(row, rb, p + 4 * (uint64_t)bits);
        const __m256i sh = _mm256_setr_epi32(0, bits, 2 * bits, 3 * bits, 0, bits, 2 * bits, 3 * bits);
        const __m256i w = _mm256_setr_epi32(w0, w0, w0, w0, w1, w1, w1, w1);
        return _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srlv_epi32(w, sh), _mm256_set1_epi32((1 << bits) - 1)));
    }
    const __m256i sh = _mm256_setr_epi32(0, bits, 2 * bits, 3 * bits, 4 * bits, 5 * bits, 6 * bits, 7 * bits);
    const __m256i w = _mm256_set1_epi32((int)window(row, rb, (uint64_t)j * (uint64_t)bits));
    const __m256i q = _mm256_and_si256(_mm256_srlv_epi32(w, sh), _mm256_set1_epi32((1 << bits) - 1));
    return _mm256_cvtepi32_ps(q);
}

INLINE float hsum8(__m256 v) {
    const __m128 a = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m128 b = _mm_add_ps(a, _mm_movehl_ps(a, a));
    return _mm_cvtss_f32(_mm_add_ss(b, _mm_movehdup_ps(b)));
}

/* One input x shared by K replicas: per group, the sums are formed once
 * (two interleaved accumulator pairs, 16 codes per step, for ILP) and the K
 * parameter sets applied to them. K is a constant in the instantiations for
 * K <= 4, so the per-replica row accumulators stay in registers. */
INLINE void body_k(int bits, int64_t n, const uint8_t *row, int K, const float *const *scales,
                   const float *const *zeros, const float *offsets, int32_t group, const float *x, float *y) {
    const size_t rb = (size_t)(((uint64_t)n * (uint64_t)bits + 7) / 8);
    /* replicas 0-3 accumulate in named registers (GCC keeps an array of
     * vectors in memory, which put a store-forwarding delay on every
     * update), replicas 4.. in the array */
    __m256 y0 = _mm256_setzero_ps(), y1 = y0, y2 = y0, y3 = y0, ay[LRQ_PLANES_MAX_K];
    float ty[LRQ_PLANES_MAX_K];
    for (int k = 0; k < K; k++) {
        ay[k] = _mm256_setzero_ps();
        ty[k] = 0.0f;
    }
    const int64_t ng = n / group;
    for (int64_t g = 0; g < ng; g++) {
        const int64_t j0 = g * group, j1 = j0 + group;
        __m256 aq = _mm256_setzero_ps(), ax = _mm256_setzero_ps(), aq1 = _mm256_setzero_ps(),
               ax1 = _mm256_setzero_ps();
        int64_t j = j0;
        for (; j + 16 <= j1; j += 16) {
            const __m256 q0 = codes8(row, rb, bits, j), q1 = codes8(row, rb, bits, j + 8);
            const __m256 x0 = _mm256_loadu_ps(x + j), x1 = _mm256_loadu_ps(x + j + 8);
            aq = _mm256_fmadd_ps(q0, x0, aq);
            ax = _mm256_add_ps(ax, x0);
            aq1 = _mm256_fmadd_ps(q1, x1, aq1);
            ax1 = _mm256_add_ps(ax1, x1);
        }
        if (j + 8 <= j1) {
            const __m256 x0 = _mm256_loadu_ps(x + j);
            aq = _mm256_fmadd_ps(codes8(row, rb, bits, j), x0, aq);
            ax = _mm256_add_ps(ax, x0);
            j += 8;
        }
        aq = _mm256_add_ps(aq, aq1);
        ax = _mm256_add_ps(ax, ax1);
        /* scalar tail of the group (group % 8 elements) */
        float tq = 0.0f, tx = 0.0f;
        const int has_tail = j < j1;
        for (; j < j1; j++) {
            tq += (float)lrq_planes_code(row, bits, j) * x[j];
            tx += x[j];
        }
#define APPLY(k, Y)                                                                                   \
        do {                                                                                         \
            const float s = scales[k][g];                                                            \
            const float c = (zeros && zeros[k] ? zeros[k][g] : 0.0f) - offsets[k];                   \
            const __m256 t = _mm256_sub_ps(aq, _mm256_mul_ps(_mm256_set1_ps(c), ax));                \
            Y = _mm256_fmadd_ps(_mm256_set1_ps(s), t, Y);                                            \
            if (has_tail) ty[k] += s * (tq - c * tx);                                                \
        } while (0)
        APPLY(0, y0);
        if (K > 1) APPLY(1, y1);
        if (K > 2) APPLY(2, y2);
        if (K > 3) APPLY(3, y3);
        for (int k = 4; k < K; k++) APPLY(k, ay[k]);
#undef APPLY
    }
    ay[0] = y0;
    if (K > 1) ay[1] = y1;
    if (K > 2) ay[2] = y2;
    if (K > 3) ay[3] = y3;
    for (int k = 0; k < K; k++) y[k] = hsum8(ay[k]) + ty[k];
}

/* One input per replica, any K: each chunk of up to 256 codes of a group is
 * unpacked once into a float buffer (L1-resident), then dotted with each
 * x_k by a tight loop (two accumulator pairs). Unpacking is the costly part
 * for low bit widths, so K inputs cost about one unpack plus K plain float
 * dot products; and any K runs without register pressure. */
#define CHUNK 256
INLINE void body_kx(int bits, int64_t n, const uint8_t *row, int K, const float *const *scales,
                    const float *const *zeros, const float *offsets, int32_t group, const float *const *xs,
                    float *y) {
    const size_t rb = (size_t)(((uint64_t)n * (uint64_t)bits + 7) / 8);
    float qf[CHUNK] __attribute__((aligned(32)));
    __m256 ay[LRQ_PLANES_MAX_K];
    float ty[LRQ_PLANES_MAX_K];
    for (int k = 0; k < K; k++) {
        ay[k] = _mm256_setzero_ps();
        ty[k] = 0.0f;
    }
    const int64_t ng = n / group;
    for (int64_t g = 0; g < ng; g++) {
        const int64_t j0 = g * group, j1 = j0 + group;
        __m256 aq[LRQ_PLANES_MAX_K], ax[LRQ_PLANES_MAX_K];
        for (int k = 0; k < K; k++) aq[k] = ax[k] = _mm256_setzero_ps();
        int64_t c0 = j0;
        for (; c0 + 8 <= j1; c0 += CHUNK) { /* full 8s of the group, CHUNK at a time */
            const int64_t len = (j1 - c0 >= CHUNK ? CHUNK : (j1 - c0)) & ~(int64_t)7;
            for (int64_t i = 0; i < len; i += 8) _mm256_store_ps(qf + i, codes8(row, rb, bits, c0 + i));
            for (int k = 0; k < K; k++) {
                const float *xk = xs[k] + c0;
                __m256 q0 = _mm256_setzero_ps(), s0 = _mm256_setzero_ps(), q1 = _mm256_setzero_ps(),
                       s1 = _mm256_setzero_ps();
                int64_t i = 0;
                for (; i + 16 <= len; i += 16) {
                    const __m256 x0 = _mm256_loadu_ps(xk + i), x1 = _mm256_loadu_ps(xk + i + 8);
                    q0 = _mm256_fmadd_ps(_mm256_load_ps(qf + i), x0, q0);
                    s0 = _mm256_add_ps(s0, x0);
                    q1 = _mm256_fmadd_ps(_mm256_load_ps(qf + i + 8), x1, q1);
                    s1 = _mm256_add_ps(s1, x1);
                }
                if (i < len) {
                    const __m256 x0 = _mm256_loadu_ps(xk + i);
                    q0 = _mm256_fmadd_ps(_mm256_load_ps(qf + i), x0, q0);
                    s0 = _mm256_add_ps(s0, x0);
                }
                aq[k] = _mm256_add_ps(aq[k], _mm256_add_ps(q0, q1));
                ax[k] = _mm256_add_ps(ax[k], _mm256_add_ps(s0, s1));
            }
            if (len < CHUNK) {
                c0 += len;
                break;
            }
        }
        /* scalar tail of the group (group % 8 elements), from c0 */
        for (int k = 0; k < K; k++) {
            float tq = 0.0f, tx = 0.0f;
            for (int64_t j = c0; j < j1; j++) {
                tq += (float)lrq_planes_code(row, bits, j) * xs[k][j];
                tx += xs[k][j];
            }
            const float s = scales[k][g];
            const float c = (zeros && zeros[k] ? zeros[k][g] : 0.0f) - offsets[k];
            const __m256 t = _mm256_sub_ps(aq[k], _mm256_mul_ps(_mm256_set1_ps(c), ax[k]));
            ay[k] = _mm256_fmadd_ps(_mm256_set1_ps(s), t, ay[k]);
            if (c0 < j1) ty[k] += s * (tq - c * tx);
        }
    }
    for (int k = 0; k < K; k++) y[k] = hsum8(ay[k]) + ty[k];
}

/* One input per replica, K <= 4 (a constant here): codes unpacked into a
 * register once per 8 and used directly for each x_k, the 2K accumulators
 * in named registers; the group's last group % 8 elements in scalar. */
INLINE void body_kx_small(int bits, int64_t n, const uint8_t *row, int K, const float *const *scales,
                          const float *const *zeros, const float *offsets, int32_t group, const float *const *xs,
                          float *y) {
    const size_t rb = (size_t)(((uint64_t)n * (uint64_t)bits + 7) / 8);
    const float *xp[4] = {xs[0], K > 1 ? xs[1] : xs[0], K > 2 ? xs[2] : xs[0], K > 3 ? xs[3] : xs[0]};
    __m256 y0 = _mm256_setzero_ps(), y1 = y0, y2 = y0, y3 = y0;
    float ty[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    const int64_t ng = n / group;
    for (int64_t g = 0; g < ng; g++) {
        const int64_t j0 = g * group, j1 = j0 + group;
        __m256 q0 = _mm256_setzero_ps(), q1 = q0, q2 = q0, q3 = q0, s0 = q0, s1 = q0, s2 = q0, s3 = q0;
        int64_t j = j0;
        for (; j + 8 <= j1; j += 8) {
            const __m256 q = codes8(row, rb, bits, j);
            __m256 v = _mm256_loadu_ps(xp[0] + j);
            q0 = _mm256_fmadd_ps(q, v, q0);
            s0 = _mm256_add_ps(s0, v);
            if (K > 1) {
                v = _mm256_loadu_ps(xp[1] + j);
                q1 = _mm256_fmadd_ps(q, v, q1);
                s1 = _mm256_add_ps(s1, v);
            }
            if (K > 2) {
                v = _mm256_loadu_ps(xp[2] + j);
                q2 = _mm256_fmadd_ps(q, v, q2);
                s2 = _mm256_add_ps(s2, v);
            }
            if (K > 3) {
                v = _mm256_loadu_ps(xp[3] + j);
                q3 = _mm256_fmadd_ps(q, v, q3);
                s3 = _mm256_add_ps(s3, v);
            }
        }
        float tq[4] = {0.0f, 0.0f, 0.0f, 0.0f}, tx[4] = {0.0f, 0.0f, 0.0f, 0.0f};
        const int has_tail = j < j1;
        for (; j < j1; j++) {
            const float q = (float)lrq_planes_code(row, bits, j);
            for (int k = 0; k < K; k++) {
                tq[k] += q * xp[k][j];
                tx[k] += xp[k][j];
            }
        }
#define APPLY(k, Y, Q, S)                                                                                     \
        do {                                                                                                 \
            const float s = scales[k][g];                                                                    \
            const float c = (zeros && zeros[k] ? zeros[k][g] : 0.0f) - offsets[k];                           \
            Y = _mm256_fmadd_ps(_mm256_set1_ps(s), _mm256_sub_ps(Q, _mm256_mul_ps(_mm256_set1_ps(c), S)), Y); \
            if (has_tail) ty[k] += s * (tq[k] - c * tx[k]);                                                  \
        } while (0)
        APPLY(0, y0, q0, s0);
        if (K > 1) APPLY(1, y1, q1, s1);
        if (K > 2) APPLY(2, y2, q2, s2);
        if (K > 3) APPLY(3, y3, q3, s3);
#undef APPLY
    }
    y[0] = hsum8(y0) + ty[0];
    if (K > 1) y[1] = hsum8(y1) + ty[1];
    if (K > 2) y[2] = hsum8(y2) + ty[2];
    if (K > 3) y[3] = hsum8(y3) + ty[3];
}

/* Instantiation per code width (constant bits). */
#define BY_BITS(bits, CALL)                \
    switch (bits) {                        \
    case 2: CALL(2); break;                \
    case 3: CALL(3); break;                \
    case 4: CALL(4); break;                \
    case 5: CALL(5); break;                \
    case 6: CALL(6); break;                \
    default: CALL(8); break;               \
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

/* Instantiation per replica count (constant K for K <= 4). */
#define BY_K(K, CALLK)                                       \
    switch (K) {                                             \
    case 1: BY_BITS(bits, CALLK##1) break;                   \
    case 2: BY_BITS(bits, CALLK##2) break;                   \
    case 3: BY_BITS(bits, CALLK##3) break;                   \
    case 4: BY_BITS(bits, CALLK##4) break;                   \
    default: BY_BITS(bits, CALLK##N) break;                  \
    }

static void dot_k(int bits, int64_t n, const uint8_t *codes, int K, const float *const *scales,
                  const float *const *zeros, const float *offsets, int32_t group, const float *x, float *y) {
#define CK1(b) body_k(b, n, codes, 1, scales, zeros, offsets, group, x, y)
#define CK2(b) body_k(b, n, codes, 2, scales, zeros, offsets, group, x, y)
#define CK3(b) body_k(b, n, codes, 3, scales, zeros, offsets, group, x, y)
#define CK4(b) body_k(b, n, codes, 4, scales, zeros, offsets, group, x, y)
#define CKN(b) body_k(b, n, codes, K, scales, zeros, offsets, group, x, y)
    BY_K(K, CK)
#undef CK1
#undef CK2
#undef CK3
#undef CK4
#undef CKN
}

static void dot_kx(int bits, int64_t n, const uint8_t *codes, int K, const float *const *scales,
                   const float *const *zeros, const float *offsets, int32_t group, const float *const *xs, float *y) {
#define CX1(b) body_kx_small(b, n, codes, 1, scales, zeros, offsets, group, xs, y)
#define CX2(b) body_kx_small(b, n, codes, 2, scales, zeros, offsets, group, xs, y)
#define CX3(b) body_kx_small(b, n, codes, 3, scales, zeros, offsets, group, xs, y)
#define CX4(b) body_kx_small(b, n, codes, 4, scales, zeros, offsets, group, xs, y)
#define CXN(b) body_kx(b, n, codes, K, scales, zeros, offsets, group, xs, y)
    BY_K(K, CX)
#undef CX1
#undef CX2
#undef CX3
#undef CX4
#undef CXN
}

static const lrq_planes_kernels avx2_kernels = {.dot = dot, .dot_k = dot_k, .dot_kx = dot_kx};

/* The AVX2 planes kernels (contracts in kern/planes.h). Only for kern/planes.c,
 * which hands them out after checking the CPU level (lrq_planes_get_isa). */
const lrq_planes_kernels *lrq_planes_avx2(void);
const lrq_planes_kernels *lrq_planes_avx2(void) { return &avx2_kernels; }
