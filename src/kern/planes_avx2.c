/* planes_avx2.c — AVX2+FMA versions of the planes kernels (planes_ref.c is
 * the specification). Same per-group algebra, different float order:
 *  - codes are unpacked 8 at a time into int32 lanes: a 32-bit window of the
 *    row's bit stream is broadcast and shifted right by 0, b, .., 7b per lane
 *    (b = 2, 3, 4), or widened from 8 bytes (b = 8);
 *  - per group, lanes accumulate q*x (FMA) and x in two interleaved pairs of
 *    accumulators (16 codes per step, for ILP), the group's parameters are
 *    applied lane-wise: acc_y += s * (acc_qx - (z - o) * acc_x), so there is
 *    one horizontal sum per row, not one per group; the elements of a group
 *    beyond its last full 8 (group % 8) are summed in scalar and applied the
 *    same way.
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

/* The one body: K replicas; xs == NULL: one input x shared by all (sums
 * formed once per group), else replica k reads xs[k] (codes unpacked once
 * per 8 and used K times). NX = accumulator sets: 1 or K. */
INLINE void body(int bits, int64_t n, const uint8_t *row, int K, const float *const *scales,
                 const float *const *zeros, const float *offsets, int32_t group, const float *x,
                 const float *const *xs, float *y) {
    const int NX = xs ? K : 1;
    size_t rb = (size_t)(((uint64_t)n * (uint64_t)bits + 7) / 8);
    __m256 ay[LRQ_PLANES_MAX_K];
    float ty[LRQ_PLANES_MAX_K];
    for (int k = 0; k < K; k++) {
        ay[k] = _mm256_setzero_ps();
        ty[k] = 0.0f;
    }
    const int64_t ng = n / group;
    for (int64_t g = 0; g < ng; g++) {
        const int64_t j0 = g * group, j1 = j0 + group;
        __m256 aq0[LRQ_PLANES_MAX_K], ax0[LRQ_PLANES_MAX_K], aq1[LRQ_PLANES_MAX_K], ax1[LRQ_PLANES_MAX_K];
        for (int i = 0; i < NX; i++) aq0[i] = ax0[i] = aq1[i] = ax1[i] = _mm256_setzero_ps();
        int64_t j = j0;
        for (; j + 16 <= j1; j += 16) {
            const __m256 q0 = codes8(row, rb, bits, j), q1 = codes8(row, rb, bits, j + 8);
            for (int i = 0; i < NX; i++) {
                const float *xi = xs ? xs[i] : x;
                const __m256 x0 = _mm256_loadu_ps(xi + j), x1 = _mm256_loadu_ps(xi + j + 8);
                aq0[i] = _mm256_fmadd_ps(q0, x0, aq0[i]);
                ax0[i] = _mm256_add_ps(ax0[i], x0);
                aq1[i] = _mm256_fmadd_ps(q1, x1, aq1[i]);
                ax1[i] = _mm256_add_ps(ax1[i], x1);
            }
        }
        if (j + 8 <= j1) {
            const __m256 q0 = codes8(row, rb, bits, j);
            for (int i = 0; i < NX; i++) {
                const __m256 x0 = _mm256_loadu_ps((xs ? xs[i] : x) + j);
                aq0[i] = _mm256_fmadd_ps(q0, x0, aq0[i]);
                ax0[i] = _mm256_add_ps(ax0[i], x0);
            }
            j += 8;
        }
        /* scalar tail of the group (group % 8 elements) */
        float tq[LRQ_PLANES_MAX_K], tx[LRQ_PLANES_MAX_K];
        for (int i = 0; i < NX; i++) tq[i] = tx[i] = 0.0f;
        const int has_tail = j < j1;
        for (; j < j1; j++) {
            const float q = (float)lrq_planes_code(row, bits, j);
            for (int i = 0; i < NX; i++) {
                const float xv = (xs ? xs[i] : x)[j];
                tq[i] += q * xv;
                tx[i] += xv;
            }
        }
        for (int i = 0; i < NX; i++) {
            aq0[i] = _mm256_add_ps(aq0[i], aq1[i]);
            ax0[i] = _mm256_add_ps(ax0[i], ax1[i]);
        }
        for (int k = 0; k < K; k++) {
            const int i = xs ? k : 0;
            const float s = scales[k][g];
            const float c = (zeros && zeros[k] ? zeros[k][g] : 0.0f) - offsets[k];
            const __m256 t = _mm256_sub_ps(aq0[i], _mm256_mul_ps(_mm256_set1_ps(c), ax0[i]));
            ay[k] = _mm256_fmadd_ps(_mm256_set1_ps(s), t, ay[k]);
            if (has_tail) ty[k] += s * (tq[i] - c * tx[i]);
        }
    }
    for (int k = 0; k < K; k++) y[k] = hsum8(ay[k]) + ty[k];
}

/* Instantiation per code width (constant bits). */
#define BY_BITS(bits, CALL)                \
    switch (bits) {                        \
    case 2: CALL(2); break;                \
    case 3: CALL(3); break;                \
    case 4: CALL(4); break;                \
    default: CALL(8); break;               \
    }

static float dot(int bits, int64_t n, const uint8_t *codes, const float *scale, const float *zero, float offset,
                 int32_t group, const float *x) {
    const float *sc[1] = {scale}, *ze[1] = {zero};
    const float off[1] = {offset};
    float y = 0.0f;
#define CALL(b) body(b, n, codes, 1, sc, ze, off, group, x, NULL, &y)
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
#define CK1(b) body(b, n, codes, 1, scales, zeros, offsets, group, x, NULL, y)
#define CK2(b) body(b, n, codes, 2, scales, zeros, offsets, group, x, NULL, y)
#define CK3(b) body(b, n, codes, 3, scales, zeros, offsets, group, x, NULL, y)
#define CK4(b) body(b, n, codes, 4, scales, zeros, offsets, group, x, NULL, y)
#define CKN(b) body(b, n, codes, K, scales, zeros, offsets, group, x, NULL, y)
    BY_K(K, CK)
#undef CK1
#undef CK2
#undef CK3
#undef CK4
#undef CKN
}

static void dot_kx(int bits, int64_t n, const uint8_t *codes, int K, const float *const *scales,
                   const float *const *zeros, const float *offsets, int32_t group, const float *const *xs, float *y) {
#define CX1(b) body(b, n, codes, 1, scales, zeros, offsets, group, NULL, xs, y)
#define CX2(b) body(b, n, codes, 2, scales, zeros, offsets, group, NULL, xs, y)
#define CX3(b) body(b, n, codes, 3, scales, zeros, offsets, group, NULL, xs, y)
#define CX4(b) body(b, n, codes, 4, scales, zeros, offsets, group, NULL, xs, y)
#define CXN(b) body(b, n, codes, K, scales, zeros, offsets, group, NULL, xs, y)
    BY_K(K, CX)
#undef CX1
#undef CX2
#undef CX3
#undef CX4
#undef CXN
}

static const lrq_planes_kernels avx2_kernels = {.dot = dot, .dot_k = dot_k, .dot_kx = dot_kx};

const lrq_planes_kernels *lrq_planes_avx2(void);
const lrq_planes_kernels *lrq_planes_avx2(void) { return &avx2_kernels; }
