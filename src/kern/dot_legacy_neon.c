/* dot_legacy_neon.c — ARM NEON (AArch64 Advanced SIMD, the base ISA: no
 * extension needed) dot products for the legacy types, same contracts as
 * dot_legacy_ref.c and bit-identical to it.
 *
 * Why bit-identical (the AVX2 versions are only close): the reference's
 * arithmetic per block is an exact integer dot of 32 quants followed by a
 * few float operations in block order. Here NEON forms the integer dot —
 * exact in any order — and the float part is the reference's own sequence
 * of scalar operations, in the same order (FP contraction is off in the
 * whole build). llama.cpp's NEON code instead keeps two float32x4
 * accumulators and fuses the scaling into vmlaq, i.e. yet another float
 * order; lrq's NEON level follows lrq's specification, so a NEON build
 * gives the same numbers as a scalar one.
 *
 * The integer dot never sums two int8 products in int16 (vmull then a
 * widening pairwise add into int32), so it is exact for every byte value,
 * -128 x -128 included. The float rows (f32 f16 bf16) reproduce the
 * reference's 16 interleaved partial sums (four float32x4 accumulators, a
 * product then an add: no FMA) and its pairwise combination.
 * All loads are unaligned-safe; rows need no alignment. */
#include "fmt/impl.h"
#include "kern/dots.h"
#include "fmt/blocks.h"
#include "core/core.h"

#include <arm_neon.h>
#include <string.h>

/* binary16 at p -> float (FCVT: exact, subnormals kept, NaN quieted with its
 * payload — the reference's conversion). */
static inline float h2f(const uint8_t *p) {
    return vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(lrq_rd16(p)))), 0);
}

/* Σ a[i] b[i] over 32 int8 pairs, exactly. */
static inline int32_t dot32(int8x16_t a0, int8x16_t a1, int8x16_t b0, int8x16_t b1) {
    int32x4_t s = vpaddlq_s16(vmull_s8(vget_low_s8(a0), vget_low_s8(b0)));
    s = vpadalq_s16(s, vmull_high_s8(a0, b0));
    s = vpadalq_s16(s, vmull_s8(vget_low_s8(a1), vget_low_s8(b1)));
    s = vpadalq_s16(s, vmull_high_s8(a1, b1));
    return vaddvq_s32(s);
}

/* 16 packed nibbles at p -> elements 0..15 (low nibbles) and 16..31 (high). */
static inline void nibbles(const uint8_t *p, uint8x16_t *lo, uint8x16_t *hi) {
    const uint8x16_t raw = vld1q_u8(p);
    *lo = vandq_u8(raw, vdupq_n_u8(0x0f));
    *hi = vshrq_n_u8(raw, 4);
}

/* 0x10 in byte j of the result where bit j of the 16-bit value is set. */
static inline uint8x16_t bit5_16(uint32_t bits16) {
    static const uint8_t sel[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    const uint8x16_t rep = vcombine_u8(vdup_n_u8((uint8_t)bits16), vdup_n_u8((uint8_t)(bits16 >> 8)));
    return vandq_u8(vtstq_u8(rep, vld1q_u8(sel)), vdupq_n_u8(0x10));
}

static inline int8x16_t ld_s8(const uint8_t *p) { return vld1q_s8((const int8_t *)p); }

void lrq_dot_q4_0_neon(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % LRQ_QK0 == 0);
    const uint8_t *x = vx, *y = vy;
    float sum = 0.0f;
    for (int64_t ib = 0; ib < n / LRQ_QK0; ib++, x += 18, y += LRQ_Q8_0_SIZE) {
        uint8x16_t lo, hi;
        nibbles(x + 2, &lo, &hi);
        const int8x16_t eight = vdupq_n_s8(8);
        const int8x16_t v0 = vsubq_s8(vreinterpretq_s8_u8(lo), eight), v1 = vsubq_s8(vreinterpretq_s8_u8(hi), eight);
        const int32_t sumi = dot32(v0, v1, ld_s8(y + 2), ld_s8(y + 18));
        sum += (float)sumi * h2f(x) * h2f(y);
    }
    *s = sum;
}

void lrq_dot_q4_1_neon(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % LRQ_QK0 == 0);
    const uint8_t *x = vx, *y = vy;
    float sum = 0.0f;
    for (int64_t ib = 0; ib < n / LRQ_QK0; ib++, x += 20, y += LRQ_Q8_1_SIZE) {
        uint8x16_t lo, hi;
        nibbles(x + 4, &lo, &hi);
        const int32_t sumi = dot32(vreinterpretq_s8_u8(lo), vreinterpretq_s8_u8(hi), ld_s8(y + 4), ld_s8(y + 20));
        const float scaled = (h2f(x) * h2f(y)) * (float)sumi;
        const float offset = h2f(x + 2) * h2f(y + 2);
        sum += scaled + offset;
    }
    *s = sum;
}

void lrq_dot_q5_0_neon(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % LRQ_QK0 == 0);
    const uint8_t *x = vx, *y = vy;
    float sum = 0.0f;
    for (int64_t ib = 0; ib < n / LRQ_QK0; ib++, x += 22, y += LRQ_Q8_0_SIZE) {
        const uint32_t qh = lrq_rd32(x + 2);
        uint8x16_t lo, hi;
        nibbles(x + 6, &lo, &hi);
        const int8x16_t sixteen = vdupq_n_s8(16);
        const int8x16_t v0 = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(lo, bit5_16(qh & 0xffffu))), sixteen);
        const int8x16_t v1 = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(hi, bit5_16(qh >> 16))), sixteen);
        const int32_t sumi = dot32(v0, v1, ld_s8(y + 2), ld_s8(y + 18));
        sum += (h2f(x) * h2f(y)) * (float)sumi;
    }
    *s = sum;
}

void lrq_dot_q5_1_neon(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % LRQ_QK0 == 0);
    const uint8_t *x = vx, *y = vy;
    float sum = 0.0f;
    for (int64_t ib = 0; ib < n / LRQ_QK0; ib++, x += 24, y += LRQ_Q8_1_SIZE) {
        const uint32_t qh = lrq_rd32(x + 4);
        uint8x16_t lo, hi;
        nibbles(x + 8, &lo, &hi);
        const int8x16_t v0 = vreinterpretq_s8_u8(vorrq_u8(lo, bit5_16(qh & 0xffffu)));
        const int8x16_t v1 = vreinterpretq_s8_u8(vorrq_u8(hi, bit5_16(qh >> 16)));
        const int32_t sumi = dot32(v0, v1, ld_s8(y + 4), ld_s8(y + 20));
        const float scaled = (h2f(x) * h2f(y)) * (float)sumi;
        const float offset = h2f(x + 2) * h2f(y + 2);
        sum += scaled + offset;
    }
    *s = sum;
}

void lrq_dot_q8_0_neon(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % LRQ_QK0 == 0);
    const uint8_t *x = vx, *y = vy;
    float sum = 0.0f;
    for (int64_t ib = 0; ib < n / LRQ_QK0; ib++, x += 34, y += LRQ_Q8_0_SIZE) {
        const int32_t sumi = dot32(ld_s8(x + 2), ld_s8(x + 18), ld_s8(y + 2), ld_s8(y + 18));
        sum += (float)sumi * (h2f(x) * h2f(y));
    }
    *s = sum;
}

void lrq_dot_iq4_nl_neon(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % LRQ_QK0 == 0);
    const uint8_t *x = vx, *y = vy;
    const int8x16_t grid = vld1q_s8(lrq_iq4nl_grid); /* the 16 levels: a byte table lookup */
    float sum = 0.0f;
    for (int64_t ib = 0; ib < n / LRQ_QK0; ib++, x += 18, y += LRQ_Q8_0_SIZE) {
        uint8x16_t lo, hi;
        nibbles(x + 2, &lo, &hi);
        const int32_t sumi = dot32(vqtbl1q_s8(grid, lo), vqtbl1q_s8(grid, hi), ld_s8(y + 2), ld_s8(y + 18));
        sum += (h2f(y) * h2f(x)) * (float)sumi;
    }
    *s = sum;
}

/* ---- float rows: the reference's 16 interleaved sums, then pairwise ---- */

/* acc (16 partial sums, lane l = element i % 16 so far) plus the tail
 * elements, combined as the reference does: acc[i] += acc[i + w] for
 * w = 8, 4, 2, 1. */
static float finish16(float32x4_t a0, float32x4_t a1, float32x4_t a2, float32x4_t a3, const float *tail_x,
                      const float *tail_y, int64_t tail) {
    float acc[16];
    vst1q_f32(acc, a0);
    vst1q_f32(acc + 4, a1);
    vst1q_f32(acc + 8, a2);
    vst1q_f32(acc + 12, a3);
    for (int64_t l = 0; l < tail; l++) acc[l] += tail_x[l] * tail_y[l];
    for (int w = 8; w > 0; w /= 2)
        for (int i = 0; i < w; i++) acc[i] += acc[i + w];
    return acc[0];
}

/* 16 widened values per step; `ld` turns 4 stored values into floats. */
#define FLOAT_DOT(LD, SIZE, SCALAR)                                                                        \
    const uint8_t *x = vx, *y = vy;                                                                       \
    float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0, a2 = a0, a3 = a0;                                        \
    int64_t i = 0;                                                                                        \
    for (; i + 16 <= n; i += 16) {                                                                        \
        a0 = vaddq_f32(a0, vmulq_f32(LD(x + SIZE * i), LD(y + SIZE * i)));                                \
        a1 = vaddq_f32(a1, vmulq_f32(LD(x + SIZE * (i + 4)), LD(y + SIZE * (i + 4))));                    \
        a2 = vaddq_f32(a2, vmulq_f32(LD(x + SIZE * (i + 8)), LD(y + SIZE * (i + 8))));                    \
        a3 = vaddq_f32(a3, vmulq_f32(LD(x + SIZE * (i + 12)), LD(y + SIZE * (i + 12))));                  \
    }                                                                                                     \
    float tx[16], ty[16];                                                                                 \
    for (int64_t l = 0; i + l < n; l++) {                                                                 \
        tx[l] = SCALAR(x + SIZE * (i + l));                                                               \
        ty[l] = SCALAR(y + SIZE * (i + l));                                                               \
    }                                                                                                     \
    *s = finish16(a0, a1, a2, a3, tx, ty, n - i);

static inline float32x4_t ld_f32(const uint8_t *p) { return vld1q_f32((const float *)(const void *)p); }
static inline float f32at(const uint8_t *p) {
    float f;
    memcpy(&f, p, 4);
    return f;
}
static inline float32x4_t ld_f16(const uint8_t *p) { return vcvt_f32_f16(vreinterpret_f16_u8(vld1_u8(p))); }
static inline float32x4_t ld_bf16(const uint8_t *p) {
    return vreinterpretq_f32_u32(vshll_n_u16(vreinterpret_u16_u8(vld1_u8(p)), 16));
}
static inline float bf16at(const uint8_t *p) { return lrq_bf16_to_f32(lrq_rd16(p)); }

void lrq_dot_f32_neon(int64_t n, float *s, const void *vx, const void *vy) { FLOAT_DOT(ld_f32, 4, f32at) }
void lrq_dot_f16_neon(int64_t n, float *s, const void *vx, const void *vy) { FLOAT_DOT(ld_f16, 2, h2f) }
void lrq_dot_bf16_neon(int64_t n, float *s, const void *vx, const void *vy) { FLOAT_DOT(ld_bf16, 2, bf16at) }
#undef FLOAT_DOT
