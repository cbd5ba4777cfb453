/* dot_legacy_ref.c — scalar reference dot products for the legacy types:
 * weight row x (f32 f16 bf16 q4_0 q4_1 q5_0 q5_1 q8_0 iq4_nl) times an
 * activation row y of its partner type (f32, f16, bf16, q8_0 or q8_1; see
 * qtypes.c). These are the specification the SIMD kernels are tested
 * against; they compute what llama.cpp's generic vec_dot functions do:
 *   - quantized types: per block an exact integer dot of the quants, then
 *     sumf += sumi * d_x * d_y in float (block order); for q4_1/q5_1 also
 *     + m_x * s_y, where s_y = d_y * sum(q_y) as stored (f16) in the q8_1
 *     block, which makes the offset term cost nothing;
 *   - f32/f16/bf16: products of the (exactly widened) values, summed in
 *     float in 16 interleaved partial sums combined pairwise (see below).
 * Rows hold n values, n a multiple of the block size (32 for quantized
 * types). All reads are byte-wise, so rows need no alignment. */
#include "fmt/impl.h"
#include "kern/dots.h"
#include "fmt/blocks.h"
#include "core/core.h"

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif




/* binary16 -> float, exact, branch-light so loops over it vectorize (these
 * scalar kernels are the production path on CPUs without SIMD kernels).
 * Same results as lrq_f16_to_f32: finite halves are rescaled by 2^112 from
 * their bits placed in a float (exact, subnormals included, with the
 * default non-flushing FP environment); inf/NaN keep their payload, NaN
 * quieted. */
static inline float h2f(uint16_t h) {
    const uint32_t em = h & 0x7fffu;
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    const uint32_t finite = lrq_f32_to_bits(lrq_bits_to_f32(em << 13) * 0x1p112f);
    const uint32_t man = (em & 0x3ffu) << 13;
    const uint32_t special = 0x7f800000u | man | (man ? 0x00400000u : 0u);
    const uint32_t is_special = 0u - (uint32_t)(em >= 0x7c00u); /* all ones for inf/NaN */
    return lrq_bits_to_f32(sign | (finite & ~is_special) | (special & is_special));
}
static inline float f16at(const uint8_t *p) { return h2f(lrq_rd16(p)); }

/* Float rows: products summed in NL interleaved float partial sums (lane
 * i % NL), then combined pairwise. A fixed order (deterministic on every
 * machine) that compilers can vectorize, and more accurate than one
 * running sum. */
#define NL 16
static float combine(float *acc) {
    for (int w = NL / 2; w > 0; w /= 2)
        for (int i = 0; i < w; i++) acc[i] += acc[i + w];
    return acc[0];
}

void lrq_dot_f32_ref(int64_t n, float *s, const void *vx, const void *vy) {
    const float *x = vx, *y = vy;
    float acc[NL] = {0};
    int64_t i = 0;
    for (; i + NL <= n; i += NL)
        for (int l = 0; l < NL; l++) acc[l] += x[i + l] * y[i + l];
    for (int l = 0; i + l < n; l++) acc[l] += x[i + l] * y[i + l];
    *s = combine(acc);
}

void lrq_dot_f16_ref(int64_t n, float *s, const void *vx, const void *vy) {
    const uint8_t *x = vx, *y = vy;
    float acc[NL] = {0};
    int64_t i = 0;
    for (; i + NL <= n; i += NL)
        for (int l = 0; l < NL; l++) acc[l] += f16at(x + 2 * (i + l)) * f16at(y + 2 * (i + l));
    for (int l = 0; i + l < n; l++) acc[l] += f16at(x + 2 * (i + l)) * f16at(y + 2 * (i + l));
    *s = combine(acc);
}

static inline float bf16at(const uint8_t *p) { return lrq_bf16_to_f32(lrq_rd16(p)); }

void lrq_dot_bf16_ref(int64_t n, float *s, const void *vx, const void *vy) {
    const uint8_t *x = vx, *y = vy;
    float acc[NL] = {0};
    int64_t i = 0;
    for (; i + NL <= n; i += NL)
        for (int l = 0; l < NL; l++) acc[l] += bf16at(x + 2 * (i + l)) * bf16at(y + 2 * (i + l));
    for (int l = 0; i + l < n; l++) acc[l] += bf16at(x + 2 * (i + l)) * bf16at(y + 2 * (i + l));
    *s = combine(acc);
}

/* Exact integer dot of 32 weight levels with 32 int8 activations. */
static inline int dot32(const int8_t *v, const int8_t *q) {
    int sumi = 0;
    for (int j = 0; j < LRQ_QK0; j++) sumi += v[j] * q[j];
    return sumi;
}

/* q8_0 activation block: d at 0, 32 int8 quants at 2 (34 bytes). */
/* q8_1 activation block: d at 0, s at 2, quants at 4 (36 bytes). */

void lrq_dot_q4_0_ref(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % LRQ_QK0 == 0);
    const uint8_t *x = vx, *y = vy;
    float sum = 0.0f;
    for (int64_t ib = 0; ib < n / LRQ_QK0; ib++, x += 18, y += LRQ_Q8_0_SIZE) {
        int8_t v[LRQ_QK0];
        for (int j = 0; j < 16; j++) {
            v[j] = (int8_t)((x[2 + j] & 0x0f) - 8);
            v[j + 16] = (int8_t)((x[2 + j] >> 4) - 8);
        }
        const int sumi = dot32(v, (const int8_t *)(y + 2));
        sum += (float)sumi * f16at(x) * f16at(y);
    }
    *s = sum;
}

void lrq_dot_q4_1_ref(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % LRQ_QK0 == 0);
    const uint8_t *x = vx, *y = vy;
    float sum = 0.0f;
    for (int64_t ib = 0; ib < n / LRQ_QK0; ib++, x += 20, y += LRQ_Q8_1_SIZE) {
        int8_t v[LRQ_QK0];
        for (int j = 0; j < 16; j++) {
            v[j] = (int8_t)(x[4 + j] & 0x0f);
            v[j + 16] = (int8_t)(x[4 + j] >> 4);
        }
        const int sumi = dot32(v, (const int8_t *)(y + 4));
        float scaled = (f16at(x) * f16at(y)) * (float)sumi;
        float offset = f16at(x + 2) * f16at(y + 2);
        sum += scaled + offset;
    }
    *s = sum;
}

void lrq_dot_q5_0_ref(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % LRQ_QK0 == 0);
    const uint8_t *x = vx, *y = vy;
    float sum = 0.0f;
    for (int64_t ib = 0; ib < n / LRQ_QK0; ib++, x += 22, y += LRQ_Q8_0_SIZE) {
        const uint32_t qh = lrq_rd32(x + 2);
        int8_t v[LRQ_QK0];
        for (int j = 0; j < 16; j++) {
            v[j] = (int8_t)(((x[6 + j] & 0x0f) | (int)(((qh >> j) & 1u) << 4)) - 16);
            v[j + 16] = (int8_t)(((x[6 + j] >> 4) | (int)(((qh >> (j + 16)) & 1u) << 4)) - 16);
        }
        const int sumi = dot32(v, (const int8_t *)(y + 2));
        sum += (f16at(x) * f16at(y)) * (float)sumi;
    }
    *s = sum;
}

void lrq_dot_q5_1_ref(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % LRQ_QK0 == 0);
    const uint8_t *x = vx, *y = vy;
    float sum = 0.0f;
    for (int64_t ib = 0; ib < n / LRQ_QK0; ib++, x += 24, y += LRQ_Q8_1_SIZE) {
        const uint32_t qh = lrq_rd32(x + 4);
        int8_t v[LRQ_QK0];
        for (int j = 0; j < 16; j++) {
            v[j] = (int8_t)((x[8 + j] & 0x0f) | (int)(((qh >> j) & 1u) << 4));
            v[j + 16] = (int8_t)((x[8 + j] >> 4) | (int)(((qh >> (j + 16)) & 1u) << 4));
        }
        const int sumi = dot32(v, (const int8_t *)(y + 4));
        float scaled = (f16at(x) * f16at(y)) * (float)sumi;
        float offset = f16at(x + 2) * f16at(y + 2);
        sum += scaled + offset;
    }
    *s = sum;
}

void lrq_dot_q8_0_ref(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % LRQ_QK0 == 0);
    const uint8_t *x = vx, *y = vy;
    float sum = 0.0f;
    for (int64_t ib = 0; ib < n / LRQ_QK0; ib++, x += 34, y += LRQ_Q8_0_SIZE) {
        const int sumi = dot32((const int8_t *)(x + 2), (const int8_t *)(y + 2));
        sum += (float)sumi * (f16at(x) * f16at(y));
    }
    *s = sum;
}

void lrq_dot_iq4_nl_ref(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % LRQ_QK0 == 0);
    const uint8_t *x = vx, *y = vy;
    float sum = 0.0f;
    for (int64_t ib = 0; ib < n / LRQ_QK0; ib++, x += 18, y += LRQ_Q8_0_SIZE) {
        int8_t v[LRQ_QK0];
        for (int j = 0; j < 16; j++) {
            v[j] = lrq_iq4nl_grid[x[2 + j] & 0x0f];
            v[j + 16] = lrq_iq4nl_grid[x[2 + j] >> 4];
        }
        const int sumi = dot32(v, (const int8_t *)(y + 2));
        sum += (f16at(y) * f16at(x)) * (float)sumi;
    }
    *s = sum;
}
