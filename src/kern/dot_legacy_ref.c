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
 *     float in index order.
 * Rows hold n values, n a multiple of the block size (32 for quantized
 * types). All reads are byte-wise, so rows need no alignment. */
#include "quant/quant_impl.h"
#include "core/core.h"

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#define QK 32

static const int8_t iq4nl_grid[16] = {
    -127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113,
};

static inline uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline float f16at(const uint8_t *p) { return lrq_f16_to_f32(rd16(p)); }

void lrq_dot_f32_ref(int64_t n, float *s, const void *vx, const void *vy) {
    const float *x = vx, *y = vy;
    float sum = 0.0f;
    for (int64_t i = 0; i < n; i++) sum += x[i] * y[i];
    *s = sum;
}

void lrq_dot_f16_ref(int64_t n, float *s, const void *vx, const void *vy) {
    const uint8_t *x = vx, *y = vy;
    float sum = 0.0f;
    for (int64_t i = 0; i < n; i++) sum += f16at(x + 2 * i) * f16at(y + 2 * i);
    *s = sum;
}

void lrq_dot_bf16_ref(int64_t n, float *s, const void *vx, const void *vy) {
    const uint8_t *x = vx, *y = vy;
    float sum = 0.0f;
    for (int64_t i = 0; i < n; i++) sum += lrq_bf16_to_f32(rd16(x + 2 * i)) * lrq_bf16_to_f32(rd16(y + 2 * i));
    *s = sum;
}

/* q8_0 activation block: d at 0, 32 int8 quants at 2 (34 bytes). */
#define Y0_SIZE 34
/* q8_1 activation block: d at 0, s at 2, quants at 4 (36 bytes). */
#define Y1_SIZE 36

void lrq_dot_q4_0_ref(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % QK == 0);
    const uint8_t *x = vx, *y = vy;
    float sum = 0.0f;
    for (int64_t ib = 0; ib < n / QK; ib++, x += 18, y += Y0_SIZE) {
        const int8_t *q = (const int8_t *)(y + 2);
        int sumi = 0;
        for (int j = 0; j < 16; j++) {
            sumi += ((x[2 + j] & 0x0f) - 8) * q[j];
            sumi += ((x[2 + j] >> 4) - 8) * q[j + 16];
        }
        sum += (float)sumi * f16at(x) * f16at(y);
    }
    *s = sum;
}

void lrq_dot_q4_1_ref(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % QK == 0);
    const uint8_t *x = vx, *y = vy;
    float sum = 0.0f;
    for (int64_t ib = 0; ib < n / QK; ib++, x += 20, y += Y1_SIZE) {
        const int8_t *q = (const int8_t *)(y + 4);
        int sumi = 0;
        for (int j = 0; j < 16; j++) {
            sumi += (x[4 + j] & 0x0f) * q[j];
            sumi += (x[4 + j] >> 4) * q[j + 16];
        }
        float scaled = (f16at(x) * f16at(y)) * (float)sumi;
        float offset = f16at(x + 2) * f16at(y + 2);
        sum += scaled + offset;
    }
    *s = sum;
}

void lrq_dot_q5_0_ref(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % QK == 0);
    const uint8_t *x = vx, *y = vy;
    float sum = 0.0f;
    for (int64_t ib = 0; ib < n / QK; ib++, x += 22, y += Y0_SIZE) {
        const int8_t *q = (const int8_t *)(y + 2);
        const uint32_t qh = rd32(x + 2);
        int sumi = 0;
        for (int j = 0; j < 16; j++) {
            int v0 = ((x[6 + j] & 0x0f) | (int)(((qh >> j) & 1u) << 4)) - 16;
            int v1 = ((x[6 + j] >> 4) | (int)(((qh >> (j + 16)) & 1u) << 4)) - 16;
            sumi += v0 * q[j] + v1 * q[j + 16];
        }
        sum += (f16at(x) * f16at(y)) * (float)sumi;
    }
    *s = sum;
}

void lrq_dot_q5_1_ref(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % QK == 0);
    const uint8_t *x = vx, *y = vy;
    float sum = 0.0f;
    for (int64_t ib = 0; ib < n / QK; ib++, x += 24, y += Y1_SIZE) {
        const int8_t *q = (const int8_t *)(y + 4);
        const uint32_t qh = rd32(x + 4);
        int sumi = 0;
        for (int j = 0; j < 16; j++) {
            int v0 = (x[8 + j] & 0x0f) | (int)(((qh >> j) & 1u) << 4);
            int v1 = (x[8 + j] >> 4) | (int)(((qh >> (j + 16)) & 1u) << 4);
            sumi += v0 * q[j] + v1 * q[j + 16];
        }
        float scaled = (f16at(x) * f16at(y)) * (float)sumi;
        float offset = f16at(x + 2) * f16at(y + 2);
        sum += scaled + offset;
    }
    *s = sum;
}

void lrq_dot_q8_0_ref(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % QK == 0);
    const uint8_t *x = vx, *y = vy;
    float sum = 0.0f;
    for (int64_t ib = 0; ib < n / QK; ib++, x += 34, y += Y0_SIZE) {
        const int8_t *a = (const int8_t *)(x + 2), *q = (const int8_t *)(y + 2);
        int sumi = 0;
        for (int j = 0; j < QK; j++) sumi += a[j] * q[j];
        sum += (float)sumi * (f16at(x) * f16at(y));
    }
    *s = sum;
}

void lrq_dot_iq4_nl_ref(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % QK == 0);
    const uint8_t *x = vx, *y = vy;
    float sum = 0.0f;
    for (int64_t ib = 0; ib < n / QK; ib++, x += 18, y += Y0_SIZE) {
        const int8_t *q = (const int8_t *)(y + 2);
        int sumi = 0;
        for (int j = 0; j < 16; j++) {
            sumi += iq4nl_grid[x[2 + j] & 0x0f] * q[j];
            sumi += iq4nl_grid[x[2 + j] >> 4] * q[j + 16];
        }
        sum += (f16at(y) * f16at(x)) * (float)sumi;
    }
    *s = sum;
}
