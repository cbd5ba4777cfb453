/* quant_legacy.c — the "legacy" ggml tensor types (f32, f16, bf16, q4_0,
 * q4_1, q5_0, q5_1, q8_0, iq4_nl) and the activation ("partner") types
 * f32, f16, bf16, q8_0, q8_1: dequantization, llama-quantize's reference
 * weight quantizers, and the activation quantizers of llama.cpp's x86 CPU
 * backend. Everything here is bit-exact with llama.cpp v0.5.0 (checked
 * against real llama-quantize output in tests/test_kern_legacy.c).
 *
 * Block layouts (little-endian bytes, the layout of ggml's block_* structs):
 *   q4_0   18 B: d f16 | qs[16]            value = (nibble - 8) * d
 *   q4_1   20 B: d f16 | m f16 | qs[16]    value = nibble * d + m
 *   q5_0   22 B: d f16 | qh[4] | qs[16]    value = ((nibble | bit << 4) - 16) * d
 *   q5_1   24 B: d f16 | m f16 | qh[4] | qs[16]
 *   q8_0   34 B: d f16 | qs[32] int8       value = q * d
 *   q8_1   36 B: d f16 | s f16 | qs[32]    s = d * sum(qs), rounded to f16
 *   iq4_nl 18 B: d f16 | qs[16]            value = d * grid[nibble]
 * In the 4-bit types, byte j of qs holds element j in its low nibble and
 * element j + 16 in its high nibble; bit i of qh is the fifth bit of
 * element i.
 *
 * Floating-point notes. llama.cpp's weight quantizers live in ggml-base,
 * which is compiled without FMA, so every a*b+c there is two roundings; the
 * code below must not be contracted into fused multiply-adds (GCC does not
 * contract in ISO C mode; clang is told so by the pragma). Float to integer
 * conversions that C leaves undefined (NaN, out of range) are emulated as
 * x86's cvttss2si does (0x80000000), so garbage input gives llama.cpp's
 * garbage, never undefined behaviour. */
#include "fmt/impl.h"
#include "fmt/blocks.h"
#include "core/core.h"

#include <float.h>
#include <math.h>
#include <string.h>

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

/* The IQ4_NL grid (see blocks.h): public data of the file format. */
const int8_t lrq_iq4nl_grid[16] = {
    -127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113,
};



static inline void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void wr32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline float f16at(const uint8_t *p) { return lrq_f16_to_f32(lrq_rd16(p)); }

/* ggml-base's scalar fp32->fp16 (used by llama-quantize for block scales and
 * F16 tensors): round-to-nearest-even like F16C for every non-NaN input, but
 * every NaN becomes the canonical quiet NaN 0x7e00 (with the sign kept). */
static inline uint16_t f32_to_f16_base(float f) {
    uint32_t u = lrq_f32_to_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)(((u >> 16) & 0x8000u) | 0x7e00u);
    return lrq_f32_to_f16(f);
}

/* (int32)f with x86 cvttss2si semantics: truncation; NaN and out-of-range
 * give INT32_MIN. */
static inline int32_t cvtt_i32(float f) {
    if (f >= -2147483648.0f && f < 2147483648.0f) return (int32_t)f;
    return INT32_MIN;
}

/* C's (int8_t)(float) as compiled for x86: truncate to int32, keep the low
 * byte. */
static inline int cvtt_i8(float f) { return (int8_t)(uint8_t)((uint32_t)cvtt_i32(f) & 0xffu); }

/* C's (uint8_t)(float) as compiled for x86. */
static inline int cvtt_u8(float f) { return (uint8_t)((uint32_t)cvtt_i32(f) & 0xffu); }

/* roundf() to int8 (q8_0 reference): round half away from zero. */
static inline int round_i8(float f) { return cvtt_i8(roundf(f)); }

/* ------------------------------------------------------------------ */
/* Dequantization                                                      */
/* ------------------------------------------------------------------ */

/* lrq_dequant_<t>(x, y, n): the n values of row x (n a multiple of the
 * block size) into y, bit-identical to ggml's dequantize_row_<t> /
 * f16/bf16 widening (q8_1: d * q, the s field is ignored). */

void lrq_dequant_f32(const void *x, float *y, int64_t n) {
    LRQ_ASSERT(n >= 0);
    memcpy(y, x, (size_t)n * sizeof(float));
}

void lrq_dequant_f16(const void *x, float *y, int64_t n) {
    const uint8_t *p = x;
    for (int64_t i = 0; i < n; i++) y[i] = f16at(p + 2 * i);
}

void lrq_dequant_bf16(const void *x, float *y, int64_t n) {
    const uint8_t *p = x;
    for (int64_t i = 0; i < n; i++) y[i] = lrq_bf16_to_f32(lrq_rd16(p + 2 * i));
}

void lrq_dequant_q4_0(const void *x, float *y, int64_t n) {
    LRQ_ASSERT(n % LRQ_QK0 == 0);
    const uint8_t *b = x;
    for (int64_t i = 0; i < n / LRQ_QK0; i++, b += 18, y += LRQ_QK0) {
        const float d = f16at(b);
        for (int j = 0; j < 16; j++) {
            y[j] = (float)((b[2 + j] & 0x0f) - 8) * d;
            y[j + 16] = (float)((b[2 + j] >> 4) - 8) * d;
        }
    }
}

void lrq_dequant_q4_1(const void *x, float *y, int64_t n) {
    LRQ_ASSERT(n % LRQ_QK0 == 0);
    const uint8_t *b = x;
    for (int64_t i = 0; i < n / LRQ_QK0; i++, b += 20, y += LRQ_QK0) {
        const float d = f16at(b), m = f16at(b + 2);
        for (int j = 0; j < 16; j++) {
            float p0 = (float)(b[4 + j] & 0x0f) * d; /* rounded product, then add: no FMA */
            float p1 = (float)(b[4 + j] >> 4) * d;
            y[j] = p0 + m;
            y[j + 16] = p1 + m;
        }
    }
}

void lrq_dequant_q5_0(const void *x, float *y, int64_t n) {
    LRQ_ASSERT(n % LRQ_QK0 == 0);
    const uint8_t *b = x;
    for (int64_t i = 0; i < n / LRQ_QK0; i++, b += 22, y += LRQ_QK0) {
        const float d = f16at(b);
        const uint32_t qh = lrq_rd32(b + 2);
        for (int j = 0; j < 16; j++) {
            int v0 = (b[6 + j] & 0x0f) | (int)(((qh >> j) & 1u) << 4);
            int v1 = (b[6 + j] >> 4) | (int)(((qh >> (j + 16)) & 1u) << 4);
            y[j] = (float)(v0 - 16) * d;
            y[j + 16] = (float)(v1 - 16) * d;
        }
    }
}

void lrq_dequant_q5_1(const void *x, float *y, int64_t n) {
    LRQ_ASSERT(n % LRQ_QK0 == 0);
    const uint8_t *b = x;
    for (int64_t i = 0; i < n / LRQ_QK0; i++, b += 24, y += LRQ_QK0) {
        const float d = f16at(b), m = f16at(b + 2);
        const uint32_t qh = lrq_rd32(b + 4);
        for (int j = 0; j < 16; j++) {
            int v0 = (b[8 + j] & 0x0f) | (int)(((qh >> j) & 1u) << 4);
            int v1 = (b[8 + j] >> 4) | (int)(((qh >> (j + 16)) & 1u) << 4);
            float p0 = (float)v0 * d;
            float p1 = (float)v1 * d;
            y[j] = p0 + m;
            y[j + 16] = p1 + m;
        }
    }
}

void lrq_dequant_q8_0(const void *x, float *y, int64_t n) {
    LRQ_ASSERT(n % LRQ_QK0 == 0);
    const uint8_t *b = x;
    for (int64_t i = 0; i < n / LRQ_QK0; i++, b += 34, y += LRQ_QK0) {
        const float d = f16at(b);
        for (int j = 0; j < LRQ_QK0; j++) y[j] = (float)(int8_t)b[2 + j] * d;
    }
}

void lrq_dequant_q8_1(const void *x, float *y, int64_t n) {
    LRQ_ASSERT(n % LRQ_QK0 == 0);
    const uint8_t *b = x;
    for (int64_t i = 0; i < n / LRQ_QK0; i++, b += 36, y += LRQ_QK0) {
        const float d = f16at(b);
        for (int j = 0; j < LRQ_QK0; j++) y[j] = (float)(int8_t)b[4 + j] * d;
    }
}

void lrq_dequant_iq4_nl(const void *x, float *y, int64_t n) {
    LRQ_ASSERT(n % LRQ_QK0 == 0);
    const uint8_t *b = x;
    for (int64_t i = 0; i < n / LRQ_QK0; i++, b += 18, y += LRQ_QK0) {
        const float d = f16at(b);
        for (int j = 0; j < 16; j++) {
            y[j] = d * (float)lrq_iq4nl_grid[b[2 + j] & 0x0f];
            y[j + 16] = d * (float)lrq_iq4nl_grid[b[2 + j] >> 4];
        }
    }
}

/* ------------------------------------------------------------------ */
/* Reference weight quantizers (llama-quantize without an imatrix)     */
/* ------------------------------------------------------------------ */

/* lrq_quant_ref_<t>(x, y, n): n floats (a multiple of the block size; rows
 * are independent, so any number of whole rows) into the bytes
 * llama-quantize writes for type t without an imatrix. */

void lrq_quant_ref_f32(const float *x, void *y, int64_t n) {
    LRQ_ASSERT(n >= 0);
    memcpy(y, x, (size_t)n * sizeof(float));
}

void lrq_quant_ref_f16(const float *x, void *y, int64_t n) {
    uint8_t *p = y;
    for (int64_t i = 0; i < n; i++) wr16(p + 2 * i, f32_to_f16_base(x[i]));
}

void lrq_quant_ref_bf16(const float *x, void *y, int64_t n) {
    uint8_t *p = y;
    for (int64_t i = 0; i < n; i++) wr16(p + 2 * i, lrq_f32_to_bf16(x[i]));
}

/* The value of largest magnitude in a block (the first one on ties), as the
 * symmetric quantizers pick it: its sign decides the sign of the scale. */
static float signed_absmax(const float *x) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < LRQ_QK0; j++) {
        if (amax < fabsf(x[j])) {
            amax = fabsf(x[j]);
            max = x[j];
        }
    }
    return max;
}

static void block_minmax(const float *x, float *mn, float *mx) {
    float lo = FLT_MAX, hi = -FLT_MAX;
    for (int j = 0; j < LRQ_QK0; j++) {
        if (x[j] < lo) lo = x[j];
        if (x[j] > hi) hi = x[j];
    }
    *mn = lo;
    *mx = hi;
}

static inline int imin(int a, int b) { return a < b ? a : b; }

/* Scale d = max / -8 maps the extreme value to -8, so the grid -8..7 is
 * fully used on the side of the extreme; + 8.5 then truncation rounds
 * half up. */
void lrq_quant_ref_q4_0(const float *x, void *y, int64_t n) {
    LRQ_ASSERT(n % LRQ_QK0 == 0);
    uint8_t *b = y;
    for (int64_t i = 0; i < n / LRQ_QK0; i++, x += LRQ_QK0, b += 18) {
        const float d = signed_absmax(x) / -8.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        wr16(b, f32_to_f16_base(d));
        for (int j = 0; j < 16; j++) {
            int q0 = imin(15, cvtt_i8(x[j] * id + 8.5f));
            int q1 = imin(15, cvtt_i8(x[j + 16] * id + 8.5f));
            b[2 + j] = (uint8_t)((uint8_t)q0 | (uint8_t)(q1 << 4));
        }
    }
}

void lrq_quant_ref_q4_1(const float *x, void *y, int64_t n) {
    LRQ_ASSERT(n % LRQ_QK0 == 0);
    uint8_t *b = y;
    for (int64_t i = 0; i < n / LRQ_QK0; i++, x += LRQ_QK0, b += 20) {
        float mn, mx;
        block_minmax(x, &mn, &mx);
        const float d = (mx - mn) / 15.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        wr16(b, f32_to_f16_base(d));
        wr16(b + 2, f32_to_f16_base(mn));
        for (int j = 0; j < 16; j++) {
            int q0 = imin(15, cvtt_i8((x[j] - mn) * id + 0.5f));
            int q1 = imin(15, cvtt_i8((x[j + 16] - mn) * id + 0.5f));
            b[4 + j] = (uint8_t)((uint8_t)q0 | (uint8_t)(q1 << 4));
        }
    }
}

void lrq_quant_ref_q5_0(const float *x, void *y, int64_t n) {
    LRQ_ASSERT(n % LRQ_QK0 == 0);
    uint8_t *b = y;
    for (int64_t i = 0; i < n / LRQ_QK0; i++, x += LRQ_QK0, b += 22) {
        const float d = signed_absmax(x) / -16.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        wr16(b, f32_to_f16_base(d));
        uint32_t qh = 0;
        for (int j = 0; j < 16; j++) {
            uint8_t q0 = (uint8_t)imin(31, cvtt_i8(x[j] * id + 16.5f));
            uint8_t q1 = (uint8_t)imin(31, cvtt_i8(x[j + 16] * id + 16.5f));
            b[6 + j] = (uint8_t)((q0 & 0x0f) | ((q1 & 0x0f) << 4));
            qh |= (uint32_t)((q0 >> 4) & 1u) << j;
            qh |= (uint32_t)((q1 >> 4) & 1u) << (j + 16);
        }
        wr32(b + 2, qh);
    }
}

void lrq_quant_ref_q5_1(const float *x, void *y, int64_t n) {
    LRQ_ASSERT(n % LRQ_QK0 == 0);
    uint8_t *b = y;
    for (int64_t i = 0; i < n / LRQ_QK0; i++, x += LRQ_QK0, b += 24) {
        float mn, mx;
        block_minmax(x, &mn, &mx);
        const float d = (mx - mn) / 31.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        wr16(b, f32_to_f16_base(d));
        wr16(b + 2, f32_to_f16_base(mn));
        uint32_t qh = 0;
        for (int j = 0; j < 16; j++) {
            /* no clamp to 31 here (llama.cpp has none); a 32 keeps its low 5 bits */
            uint8_t q0 = (uint8_t)cvtt_u8((x[j] - mn) * id + 0.5f);
            uint8_t q1 = (uint8_t)cvtt_u8((x[j + 16] - mn) * id + 0.5f);
            b[8 + j] = (uint8_t)((q0 & 0x0f) | ((q1 & 0x0f) << 4));
            qh |= (uint32_t)((q0 >> 4) & 1u) << j;
            qh |= (uint32_t)((q1 >> 4) & 1u) << (j + 16);
        }
        wr32(b + 4, qh);
    }
}

void lrq_quant_ref_q8_0(const float *x, void *y, int64_t n) {
    LRQ_ASSERT(n % LRQ_QK0 == 0);
    uint8_t *b = y;
    for (int64_t i = 0; i < n / LRQ_QK0; i++, x += LRQ_QK0, b += 34) {
        float amax = 0.0f;
        for (int j = 0; j < LRQ_QK0; j++) amax = amax > fabsf(x[j]) ? amax : fabsf(x[j]);
        const float d = amax / 127.0f;
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        wr16(b, f32_to_f16_base(d));
        for (int j = 0; j < LRQ_QK0; j++) b[2 + j] = (uint8_t)round_i8(x[j] * id);
    }
}

/* IQ4_NL's quantizer is in fmt/quant_iq4.c, with IQ4_XS's (one algorithm). */

/* ------------------------------------------------------------------ */
/* Activation quantizers (llama.cpp x86 CPU backend numerics)          */
/* ------------------------------------------------------------------ */

/* lrq_act_<t>(x, y, n): an activation row of n floats (n % 32 == 0 for
 * q8_0/q8_1) into the partner type, byte-identical to what llama.cpp's
 * AVX2/AVX-512 CPU backend feeds its dot products (type_traits_cpu
 * from_float), on every machine. */

void lrq_act_f32(const float *x, void *y, int64_t n) {
    LRQ_ASSERT(n >= 0);
    memcpy(y, x, (size_t)n * sizeof(float));
}

/* F16C conversion (vcvtps2ph, round to nearest even; NaN payload kept). */
void lrq_act_f16(const float *x, void *y, int64_t n) {
    uint8_t *p = y;
    for (int64_t i = 0; i < n; i++) wr16(p + 2 * i, lrq_f32_to_f16(x[i]));
}

void lrq_act_bf16(const float *x, void *y, int64_t n) {
    uint8_t *p = y;
    for (int64_t i = 0; i < n; i++) wr16(p + 2 * i, lrq_f32_to_bf16(x[i]));
}

/* maxps semantics: returns b unless a > b (so a NaN in either place
 * yields b). */
static inline float maxps(float a, float b) { return a > b ? a : b; }

/* One block of llama.cpp's AVX quantize_row_q8_0/q8_1: the absolute maximum
 * reduced in the same tree as the vector code (8 lanes over 4 loads, then
 * 8->4->2->1), d = max/127 stored through F16C, the multiplier 127/max
 * (not 1/d), round-half-even (vroundps), cvtps2dq and two saturating packs.
 * Returns d; the int32 sum of the rounded values (before packing, wrapping
 * like vpaddd) goes to *isum. */
static float act_q8_block(const float *x, int8_t *q, int32_t *isum) {
    float lane[8];
    for (int l = 0; l < 8; l++) {
        float m = fabsf(x[l]);
        m = maxps(m, fabsf(x[8 + l]));
        m = maxps(m, fabsf(x[16 + l]));
        m = maxps(m, fabsf(x[24 + l]));
        lane[l] = m;
    }
    float m4[4];
    for (int l = 0; l < 4; l++) m4[l] = maxps(lane[4 + l], lane[l]);
    float m2a = maxps(m4[0], m4[2]), m2b = maxps(m4[1], m4[3]);
    const float amax = maxps(m2a, m2b);
    const float d = amax / 127.0f;
    const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
    uint32_t sum = 0;
    for (int j = 0; j < LRQ_QK0; j++) {
        int32_t v = cvtt_i32(rintf(x[j] * id)); /* rintf: default mode = nearest-even */
        sum += (uint32_t)v;
        q[j] = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
    }
    *isum = (int32_t)sum;
    return d;
}

void lrq_act_q8_0(const float *x, void *y, int64_t n) {
    LRQ_ASSERT(n % LRQ_QK0 == 0);
    uint8_t *b = y;
    for (int64_t i = 0; i < n / LRQ_QK0; i++, x += LRQ_QK0, b += 34) {
        int8_t q[LRQ_QK0];
        int32_t isum;
        float d = act_q8_block(x, q, &isum);
        wr16(b, lrq_f32_to_f16(d));
        memcpy(b + 2, q, LRQ_QK0);
    }
}

void lrq_act_q8_1(const float *x, void *y, int64_t n) {
    LRQ_ASSERT(n % LRQ_QK0 == 0);
    uint8_t *b = y;
    for (int64_t i = 0; i < n / LRQ_QK0; i++, x += LRQ_QK0, b += 36) {
        int8_t q[LRQ_QK0];
        int32_t isum;
        float d = act_q8_block(x, q, &isum);
        wr16(b, lrq_f32_to_f16(d));
        wr16(b + 2, lrq_f32_to_f16(d * (float)isum));
        memcpy(b + 4, q, LRQ_QK0);
    }
}
