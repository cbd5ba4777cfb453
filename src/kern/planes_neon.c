/* planes_neon.c — ARM NEON (AArch64 base Advanced SIMD) versions of the
 * planes kernels for codes of 2, 3, 4 and 8 bits; other widths go to the
 * reference (planes_ref.c, the specification). Same per-group algebra as the
 * reference, in another float order — the contract of planes_avx2.c:
 *  - codes are unpacked 8 at a time into two uint32x4 (a 32-bit window of
 *    the row's bit stream, broadcast and shifted right by 0, b, .., 7b per
 *    lane; 8-bit codes are widened from 8 bytes) and converted to floats;
 *  - per group, 4-lane accumulators take q*x (vfmaq: fused) and x (two
 *    accumulator pairs, 8 codes per step); the group's parameters are
 *    applied lane-wise, acc_y += s * (acc_qx - (z - o) * acc_x), so there is
 *    one horizontal sum per row; the group's last group % 8 elements are
 *    summed in scalar and applied the same way;
 *  - one input per replica (dot_kx): each chunk of up to 256 codes of a
 *    group is unpacked once into an L1 buffer and dotted with each x_k.
 * Results differ from the reference by rounding only; tests/test_planes.c
 * bounds the difference by Σ|terms|. */
#include "kern/planes.h"
#include "fmt/planes.h"

#include <arm_neon.h>
#include <string.h>

#if defined(__ARM_BIG_ENDIAN)
#error "planes_neon.c reads the code stream as little-endian words"
#endif

#define INLINE static inline __attribute__((always_inline))

/* 32 bits of the row's bit stream starting at bit p; bits past the row's
 * last byte read as 0. Never reads past the row (rb bytes): near its end
 * only the remaining bytes are copied. */
INLINE uint32_t window(const uint8_t *row, size_t rb, uint64_t p) {
    const size_t byte = (size_t)(p >> 3);
    uint64_t w = 0;
    memcpy(&w, row + byte, byte + 8 <= rb ? 8 : rb - byte);
    return (uint32_t)(w >> (p & 7));
}

/* Codes j .. j+7 as floats, in *lo (j..j+3) and *hi (j+4..j+7); j + 8 <= n. */
INLINE void codes8(const uint8_t *row, size_t rb, int bits, int64_t j, float32x4_t *lo, float32x4_t *hi) {
    if (bits == 8) {
        const uint16x8_t w = vmovl_u8(vld1_u8(row + j));
        *lo = vcvtq_f32_u32(vmovl_u16(vget_low_u16(w)));
        *hi = vcvtq_f32_u32(vmovl_high_u16(w));
        return;
    }
    const int32_t b = bits;
    const int32x4_t s0 = {0, -b, -2 * b, -3 * b}, s1 = {-4 * b, -5 * b, -6 * b, -7 * b};
    const uint32x4_t w = vdupq_n_u32(window(row, rb, (uint64_t)j * (uint64_t)bits));
    const uint32x4_t m = vdupq_n_u32((1u << bits) - 1u);
    *lo = vcvtq_f32_u32(vandq_u32(vshlq_u32(w, s0), m));
    *hi = vcvtq_f32_u32(vandq_u32(vshlq_u32(w, s1), m));
}

/* One input shared by K replicas: the group sums once, K parameter sets
 * applied to them (K is a constant in the instantiations for K <= 4). */
INLINE void body_k(int bits, int64_t n, const uint8_t *row, int K, const float *const *scales,
                   const float *const *zeros, const float *offsets, int32_t group, const float *x, float *y) {
    const size_t rb = (size_t)(((uint64_t)n * (uint64_t)bits + 7) / 8);
    float32x4_t ay[LRQ_PLANES_MAX_K];
    float ty[LRQ_PLANES_MAX_K];
    for (int k = 0; k < K; k++) {
        ay[k] = vdupq_n_f32(0.0f);
        ty[k] = 0.0f;
    }
    const int64_t ng = n / group;
    for (int64_t g = 0; g < ng; g++) {
        const int64_t j0 = g * group, j1 = j0 + group;
        float32x4_t aq0 = vdupq_n_f32(0.0f), aq1 = aq0, ax0 = aq0, ax1 = aq0;
        int64_t j = j0;
        for (; j + 8 <= j1; j += 8) {
            float32x4_t q0, q1;
            codes8(row, rb, bits, j, &q0, &q1);
            const float32x4_t x0 = vld1q_f32(x + j), x1 = vld1q_f32(x + j + 4);
            aq0 = vfmaq_f32(aq0, q0, x0);
            aq1 = vfmaq_f32(aq1, q1, x1);
            ax0 = vaddq_f32(ax0, x0);
            ax1 = vaddq_f32(ax1, x1);
        }
        const float32x4_t aq = vaddq_f32(aq0, aq1), ax = vaddq_f32(ax0, ax1);
        float tq = 0.0f, tx = 0.0f; /* scalar tail of the group (group % 8 elements) */
        const int has_tail = j < j1;
        for (; j < j1; j++) {
            tq += (float)lrq_planes_code(row, bits, j) * x[j];
            tx += x[j];
        }
        for (int k = 0; k < K; k++) {
            const float s = scales[k][g];
            const float c = (zeros && zeros[k] ? zeros[k][g] : 0.0f) - offsets[k];
            ay[k] = vfmaq_n_f32(ay[k], vsubq_f32(aq, vmulq_n_f32(ax, c)), s);
            if (has_tail) ty[k] += s * (tq - c * tx);
        }
    }
    for (int k = 0; k < K; k++) y[k] = vaddvq_f32(ay[k]) + ty[k];
}

/* One input per replica, any K: each chunk of up to 256 codes of a group is
 * unpacked once into a float buffer (L1-resident), then dotted with each x_k
 * (two accumulator pairs). Unpacking is the costly part at low bit widths,
 * so K inputs cost about one unpack plus K float dot products. */
#define CHUNK 256
INLINE void body_kx(int bits, int64_t n, const uint8_t *row, int K, const float *const *scales,
                    const float *const *zeros, const float *offsets, int32_t group, const float *const *xs,
                    float *y) {
    const size_t rb = (size_t)(((uint64_t)n * (uint64_t)bits + 7) / 8);
    float qf[CHUNK] __attribute__((aligned(16)));
    float32x4_t ay[LRQ_PLANES_MAX_K];
    float ty[LRQ_PLANES_MAX_K];
    for (int k = 0; k < K; k++) {
        ay[k] = vdupq_n_f32(0.0f);
        ty[k] = 0.0f;
    }
    const int64_t ng = n / group;
    for (int64_t g = 0; g < ng; g++) {
        const int64_t j0 = g * group, j1 = j0 + group;
        float32x4_t aq[LRQ_PLANES_MAX_K], ax[LRQ_PLANES_MAX_K];
        for (int k = 0; k < K; k++) aq[k] = ax[k] = vdupq_n_f32(0.0f);
        int64_t c0 = j0;
        for (; c0 + 8 <= j1; c0 += CHUNK) { /* the group's full 8s, CHUNK at a time */
            const int64_t len = (j1 - c0 >= CHUNK ? CHUNK : (j1 - c0)) & ~(int64_t)7;
            for (int64_t i = 0; i < len; i += 8) {
                float32x4_t lo, hi;
                codes8(row, rb, bits, c0 + i, &lo, &hi);
                vst1q_f32(qf + i, lo);
                vst1q_f32(qf + i + 4, hi);
            }
            for (int k = 0; k < K; k++) {
                const float *xk = xs[k] + c0;
                float32x4_t q0 = vdupq_n_f32(0.0f), q1 = q0, s0 = q0, s1 = q0;
                for (int64_t i = 0; i < len; i += 8) {
                    const float32x4_t x0 = vld1q_f32(xk + i), x1 = vld1q_f32(xk + i + 4);
                    q0 = vfmaq_f32(q0, vld1q_f32(qf + i), x0);
                    q1 = vfmaq_f32(q1, vld1q_f32(qf + i + 4), x1);
                    s0 = vaddq_f32(s0, x0);
                    s1 = vaddq_f32(s1, x1);
                }
                aq[k] = vaddq_f32(aq[k], vaddq_f32(q0, q1));
                ax[k] = vaddq_f32(ax[k], vaddq_f32(s0, s1));
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
            ay[k] = vfmaq_n_f32(ay[k], vsubq_f32(aq[k], vmulq_n_f32(ax[k], c)), s);
            if (c0 < j1) ty[k] += s * (tq - c * tx);
        }
    }
    for (int k = 0; k < K; k++) y[k] = vaddvq_f32(ay[k]) + ty[k];
}

/* Instantiation per code width (constant bits, so shifts and masks are
 * constants); widths this file has no kernel for use the reference. */
#define BY_BITS(CALL, REF)                 \
    switch (bits) {                        \
    case 2: CALL(2); break;                \
    case 3: CALL(3); break;                \
    case 4: CALL(4); break;                \
    case 8: CALL(8); break;                \
    default: REF; break;                   \
    }

static float dot(int bits, int64_t n, const uint8_t *codes, const float *scale, const float *zero, float offset,
                 int32_t group, const float *x) {
    const float *sc[1] = {scale}, *ze[1] = {zero};
    const float off[1] = {offset};
    float y = 0.0f;
#define CALL(b) body_k(b, n, codes, 1, sc, ze, off, group, x, &y)
    BY_BITS(CALL, y = lrq_planes_ref()->dot(bits, n, codes, scale, zero, offset, group, x))
#undef CALL
    return y;
}

static void dot_k(int bits, int64_t n, const uint8_t *codes, int K, const float *const *scales,
                  const float *const *zeros, const float *offsets, int32_t group, const float *x, float *y) {
    const lrq_planes_kernels *ref = lrq_planes_ref();
#define REF ref->dot_k(bits, n, codes, K, scales, zeros, offsets, group, x, y)
#define CK1(b) body_k(b, n, codes, 1, scales, zeros, offsets, group, x, y)
#define CK2(b) body_k(b, n, codes, 2, scales, zeros, offsets, group, x, y)
#define CK4(b) body_k(b, n, codes, 4, scales, zeros, offsets, group, x, y)
#define CKN(b) body_k(b, n, codes, K, scales, zeros, offsets, group, x, y)
    switch (K) { /* constant replica counts for the common small K */
    case 1: BY_BITS(CK1, REF) break;
    case 2: BY_BITS(CK2, REF) break;
    case 4: BY_BITS(CK4, REF) break;
    default: BY_BITS(CKN, REF) break;
    }
#undef REF
#undef CK1
#undef CK2
#undef CK4
#undef CKN
}

static void dot_kx(int bits, int64_t n, const uint8_t *codes, int K, const float *const *scales,
                   const float *const *zeros, const float *offsets, int32_t group, const float *const *xs, float *y) {
#define CX(b) body_kx(b, n, codes, K, scales, zeros, offsets, group, xs, y)
    BY_BITS(CX, lrq_planes_ref()->dot_kx(bits, n, codes, K, scales, zeros, offsets, group, xs, y))
#undef CX
}

static const lrq_planes_kernels neon_kernels = {.dot = dot, .dot_k = dot_k, .dot_kx = dot_kx};

/* The NEON planes kernels (contracts in kern/planes.h). Only for
 * kern/planes.c, which hands them out on AArch64 builds
 * (lrq_planes_get_isa("neon")). */
const lrq_planes_kernels *lrq_planes_neon(void);
const lrq_planes_kernels *lrq_planes_neon(void) { return &neon_kernels; }
