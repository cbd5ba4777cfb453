/* quant_k.c — k-quant rows (Q2_K..Q6_K) to float, the Q8_K activation
 * quantizer and Q8_K to float, with llama.cpp v0.5.0's exact numerics
 * (dequantize_row_q*_K, quantize_row_q8_K_ref in ggml-quants.c; the x86 CPU
 * backend's quantize_row_q8_K is that reference function). Block layouts:
 * quant_k.h. The reference weight quantizers live in quant_k_ref.c.
 *
 * Exactness: every value is produced by the same float operations in the same
 * order as llama.cpp (ggml-base is compiled without FMA, so nothing is fused;
 * clang's default expression contraction is switched off below).
 */
#include "quant/quant_impl.h"
#include "quant/quant_k.h"
#include "quant/qtypes.h"

#include <math.h>

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

/* Round to nearest, ties to even, for |v| < 2^22: adding 1.5*2^23 puts the
 * integer part in the low mantissa bits (llama.cpp's nearest_int). Plain bit
 * arithmetic, so NaN/inf give some int without undefined behaviour. */
static inline int k_round(float v) {
    const uint32_t u = lrq_f32_to_bits(v + 12582912.0f);
    return (int)(u & 0x007fffffu) - 0x00400000;
}

/* Q2_K: value = d*sc*q - dmin*m, q in 0..3, 16 sub-blocks of 16. Element
 * e = 128*h + 32*s + l takes bits 2s..2s+1 of qs[32*h + l]. */
void lrq_dequant_q2_K(const void *vx, float *y, int64_t n) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    const uint8_t *x = vx;
    for (int64_t b = 0; b < n / LRQ_QK_K; b++, x += LRQ_Q2K_SIZE) {
        const float d = lrq_k_f16(x + LRQ_Q2K_D);
        const float dmin = lrq_k_f16(x + LRQ_Q2K_DMIN);
        const uint8_t *sc = x + LRQ_Q2K_SCALES;
        const uint8_t *qs = x + LRQ_Q2K_QS;
        for (int j = 0; j < 16; j++) {
            const float dl = d * (float)(sc[j] & 0xf);
            const float ml = dmin * (float)(sc[j] >> 4);
            const int h = j / 8, s = (j % 8) / 2, l0 = (j % 2) * 16;
            for (int l = 0; l < 16; l++) {
                const int q = (qs[32 * h + l0 + l] >> (2 * s)) & 3;
                *y++ = dl * (float)q - ml;
            }
        }
    }
}

/* Q3_K: value = d*sc*(q - 4*(1 - hbit)), sc signed 6-bit, 16 sub-blocks of
 * 16. Element e = 128*h + 32*s + l: low bits as Q2_K, the third bit is bit
 * 4*h + s of hmask[l]; a clear bit means "subtract 4". */
void lrq_dequant_q3_K(const void *vx, float *y, int64_t n) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    const uint8_t *x = vx;
    for (int64_t b = 0; b < n / LRQ_QK_K; b++, x += LRQ_Q3K_SIZE) {
        const float d = lrq_k_f16(x + LRQ_Q3K_D);
        int8_t sc[16];
        lrq_k3_scales(x + LRQ_Q3K_SCALES, sc);
        const uint8_t *qs = x + LRQ_Q3K_QS;
        const uint8_t *hm = x + LRQ_Q3K_HMASK;
        for (int j = 0; j < 16; j++) {
            const float dl = d * (float)sc[j];
            const int h = j / 8, s = (j % 8) / 2, l0 = (j % 2) * 16;
            const int bit = 4 * h + s;
            for (int l = l0; l < l0 + 16; l++) {
                const int q = ((qs[32 * h + l] >> (2 * s)) & 3) - (((hm[l] >> bit) & 1) ? 0 : 4);
                *y++ = dl * (float)q;
            }
        }
    }
}

/* Q4_K: value = d*sc*q - dmin*m, q in 0..15, 8 sub-blocks of 32. Element
 * 64*g + l is the low nibble of qs[32*g + l], 64*g + 32 + l its high nibble. */
void lrq_dequant_q4_K(const void *vx, float *y, int64_t n) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    const uint8_t *x = vx;
    for (int64_t b = 0; b < n / LRQ_QK_K; b++, x += LRQ_Q4K_SIZE) {
        const float d = lrq_k_f16(x + LRQ_Q4K_D);
        const float dmin = lrq_k_f16(x + LRQ_Q4K_DMIN);
        uint8_t sc[8], m[8];
        lrq_k4_scales(x + LRQ_Q4K_SCALES, sc, m);
        const uint8_t *qs = x + LRQ_Q4K_QS;
        for (int g = 0; g < 4; g++, qs += 32) {
            const float d1 = d * (float)sc[2 * g], m1 = dmin * (float)m[2 * g];
            const float d2 = d * (float)sc[2 * g + 1], m2 = dmin * (float)m[2 * g + 1];
            for (int l = 0; l < 32; l++) *y++ = d1 * (float)(qs[l] & 0xf) - m1;
            for (int l = 0; l < 32; l++) *y++ = d2 * (float)(qs[l] >> 4) - m2;
        }
    }
}

/* Q5_K: as Q4_K plus a fifth bit: element 64*g + l uses bit 2g of qh[l],
 * element 64*g + 32 + l bit 2g+1. */
void lrq_dequant_q5_K(const void *vx, float *y, int64_t n) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    const uint8_t *x = vx;
    for (int64_t b = 0; b < n / LRQ_QK_K; b++, x += LRQ_Q5K_SIZE) {
        const float d = lrq_k_f16(x + LRQ_Q5K_D);
        const float dmin = lrq_k_f16(x + LRQ_Q5K_DMIN);
        uint8_t sc[8], m[8];
        lrq_k4_scales(x + LRQ_Q5K_SCALES, sc, m);
        const uint8_t *qs = x + LRQ_Q5K_QS;
        const uint8_t *qh = x + LRQ_Q5K_QH;
        for (int g = 0; g < 4; g++, qs += 32) {
            const float d1 = d * (float)sc[2 * g], m1 = dmin * (float)m[2 * g];
            const float d2 = d * (float)sc[2 * g + 1], m2 = dmin * (float)m[2 * g + 1];
            for (int l = 0; l < 32; l++) {
                const int q = (qs[l] & 0xf) | (((qh[l] >> (2 * g)) & 1) << 4);
                *y++ = d1 * (float)q - m1;
            }
            for (int l = 0; l < 32; l++) {
                const int q = (qs[l] >> 4) | (((qh[l] >> (2 * g + 1)) & 1) << 4);
                *y++ = d2 * (float)q - m2;
            }
        }
    }
}

/* Q6_K: value = d*sc*(q - 32), q 6-bit, sc int8, 16 sub-blocks of 16. In each
 * half h (128 values) element 32*t + l takes a nibble of ql[64h + 32*(t&1) + l]
 * (low nibble for t < 2) and bits 2t..2t+1 of qh[32h + l]. llama.cpp computes
 * (d * sc) * q, in that order. */
void lrq_dequant_q6_K(const void *vx, float *y, int64_t n) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    const uint8_t *x = vx;
    for (int64_t b = 0; b < n / LRQ_QK_K; b++, x += LRQ_Q6K_SIZE) {
        const float d = lrq_k_f16(x + LRQ_Q6K_D);
        const int8_t *sc = (const int8_t *)(x + LRQ_Q6K_SCALES);
        for (int h = 0; h < 2; h++) {
            const uint8_t *ql = x + LRQ_Q6K_QL + 64 * h;
            const uint8_t *qh = x + LRQ_Q6K_QH + 32 * h;
            for (int t = 0; t < 4; t++) {
                for (int l = 0; l < 32; l++) {
                    const uint8_t lo = ql[32 * (t & 1) + l];
                    const int q = ((t < 2 ? lo & 0xf : lo >> 4) | (((qh[l] >> (2 * t)) & 3) << 4)) - 32;
                    const float ds = d * (float)sc[8 * h + 2 * t + l / 16];
                    *y++ = ds * (float)q;
                }
            }
        }
    }
}

void lrq_dequant_q8_K(const void *vx, float *y, int64_t n) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    const uint8_t *x = vx;
    for (int64_t b = 0; b < n / LRQ_QK_K; b++, x += LRQ_Q8K_SIZE) {
        const float d = lrq_k_f32(x + LRQ_Q8K_D);
        const int8_t *qs = (const int8_t *)(x + LRQ_Q8K_QS);
        for (int l = 0; l < LRQ_QK_K; l++) *y++ = d * (float)qs[l];
    }
}

/* Activations -> Q8_K, as llama.cpp's x86 backend does it (the reference
 * quantize_row_q8_K_ref; its repacked-matmul variant ggml_quantize_mat_q8_K_4x8
 * gives the same numbers up to a joint sign flip of d and qs when +amax and
 * -amax both occur, which leaves every dot product unchanged):
 * max = the first value of largest magnitude, iscale = -127/max,
 * q = min(127, round_half_even(iscale*x)), d = 1/iscale, bsums = sums of 16 q.
 * An all-zero block gets d = 0, q = 0 and (unlike llama.cpp, which leaves them
 * unwritten) bsums = 0. */
void lrq_act_q8_K(const float *x, void *vy, int64_t n) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    uint8_t *y = vy;
    for (int64_t b = 0; b < n / LRQ_QK_K; b++, x += LRQ_QK_K, y += LRQ_Q8K_SIZE) {
        float amax = 0.0f, max = 0.0f;
        for (int l = 0; l < LRQ_QK_K; l++) {
            const float a = fabsf(x[l]);
            if (a > amax) {
                amax = a;
                max = x[l];
            }
        }
        int8_t *qs = (int8_t *)(y + LRQ_Q8K_QS);
        if (amax == 0.0f) {
            memset(y, 0, LRQ_Q8K_SIZE);
            continue;
        }
        const float iscale = -127.0f / max;
        for (int l = 0; l < LRQ_QK_K; l++) {
            const int v = k_round(iscale * x[l]);
            qs[l] = (int8_t)(v < 127 ? v : 127);
        }
        for (int j = 0; j < 16; j++) {
            int sum = 0;
            for (int l = 0; l < 16; l++) sum += qs[16 * j + l];
            const uint16_t u = (uint16_t)(int16_t)sum;
            y[LRQ_Q8K_BSUMS + 2 * j] = (uint8_t)(u & 0xff);
            y[LRQ_Q8K_BSUMS + 2 * j + 1] = (uint8_t)(u >> 8);
        }
        const uint32_t db = lrq_f32_to_bits(1.0f / iscale);
        for (int i = 0; i < 4; i++) y[LRQ_Q8K_D + i] = (uint8_t)(db >> (8 * i));
    }
}
