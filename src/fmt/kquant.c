/* quant_k.c — k-quant rows (Q2_K..Q6_K) to float, the Q8_K activation
 * quantizer and Q8_K to float, with llama.cpp v0.5.0's exact numerics
 * (dequantize_row_q*_K, quantize_row_q8_K_ref in ggml-quants.c; the x86 CPU
 * backend's quantize_row_q8_K is that reference function). Block layouts:
 * quant_k.h. Also the reference weight quantizers (quantize_row_q*_K_ref:
 * what llama-quantize writes without an importance matrix).
 *
 * Exactness: every value is produced by the same float operations in the same
 * order as llama.cpp (ggml-base is compiled without FMA, so nothing is fused;
 * clang's default expression contraction is switched off below). The
 * quantizers' search loops are numerically fragile by nature (an ulp changes
 * which candidate wins), so the order of every float operation matters and
 * is kept, including the quirks noted inline.
 */
#include "fmt/impl.h"
#include "fmt/kquant.h"
#include "fmt/quant_fit.h"
#include "fmt/types.h"

#include <math.h>
#include <string.h>

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif


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

/* Q8_K activation row back to float: d * q (for tests). */
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
            const int v = lrq_k_round(iscale * x[l]);
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

/* ------------------------------------------------------------------------
 * Reference weight quantizers.
 * ------------------------------------------------------------------------ */

#define K_GROUP_EPS 1e-15f /* below this max |x| a group is treated as all zero */


static inline void put_f16(uint8_t *p, float v) {
    const uint16_t h = lrq_f32_to_f16(v);
    p[0] = (uint8_t)(h & 0xff);
    p[1] = (uint8_t)(h >> 8);
}

/* Symmetric codes L in 0..2*nmax-1 (stored + nmax) for a group of n values,
 * weights qw (NULL: w = x^2), searching 19 scales around nmax/max for the
 * best weighted least-squares fit; returns the fitted scale (negative when
 * the value of largest magnitude is positive: the code of that value is
 * -nmax). llama.cpp's make_qx_quants with rmse_type 1. */
float lrq_k_fit_symmetric(int n, int nmax, const float *x, int8_t *L, const float *qw) {
    float amax = 0.0f, max = 0.0f;
    for (int i = 0; i < n; i++) {
        const float a = fabsf(x[i]);
        if (a > amax) {
            amax = a;
            max = x[i];
        }
    }
    if (amax < K_GROUP_EPS) {
        memset(L, 0, (size_t)n);
        return 0.0f;
    }
    float iscale = (float)(-nmax) / max;
    float sumlx = 0.0f, suml2 = 0.0f;
    for (int i = 0; i < n; i++) {
        const int l = lrq_k_clamp(lrq_k_round(iscale * x[i]), -nmax, nmax - 1);
        L[i] = (int8_t)(l + nmax);
        const float w = qw ? qw[i] : x[i] * x[i];
        sumlx += w * x[i] * (float)l;
        suml2 += w * (float)l * (float)l;
    }
    float scale = suml2 != 0.0f ? sumlx / suml2 : 0.0f;
    float best = scale * sumlx;
    for (int is = -9; is <= 9; is++) {
        if (is == 0) continue;
        iscale = -((float)nmax + 0.1f * (float)is) / max;
        sumlx = suml2 = 0.0f;
        for (int i = 0; i < n; i++) {
            const int l = lrq_k_clamp(lrq_k_round(iscale * x[i]), -nmax, nmax - 1);
            const float w = qw ? qw[i] : x[i] * x[i];
            sumlx += w * x[i] * (float)l;
            suml2 += w * (float)l * (float)l;
        }
        if (suml2 > 0.0f && sumlx * sumlx > best * suml2) {
            for (int i = 0; i < n; i++) L[i] = (int8_t)(nmax + lrq_k_clamp(lrq_k_round(iscale * x[i]), -nmax, nmax - 1));
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    return scale;
}

/* Q3_K's group fit: start from round(-nmax/max * x), then up to 5 passes of
 * coordinate descent, each code moved to its best value given the others
 * (weights x^2), kept when the fit sumlx^2/suml2 improves. Codes stored + nmax. */
static float fit_q3(int n, int nmax, const float *x, int8_t *L) {
    float amax = 0.0f, max = 0.0f;
    for (int i = 0; i < n; i++) {
        const float a = fabsf(x[i]);
        if (a > amax) {
            amax = a;
            max = x[i];
        }
    }
    if (amax < K_GROUP_EPS) {
        memset(L, 0, (size_t)n);
        return 0.0f;
    }
    const float iscale = (float)(-nmax) / max;
    float sumlx = 0.0f, suml2 = 0.0f;
    for (int i = 0; i < n; i++) {
        const int l = lrq_k_clamp(lrq_k_round(iscale * x[i]), -nmax, nmax - 1);
        L[i] = (int8_t)l;
        const float w = x[i] * x[i];
        sumlx += w * x[i] * (float)l;
        suml2 += w * (float)l * (float)l;
    }
    for (int pass = 0; pass < 5; pass++) {
        int changed = 0;
        for (int i = 0; i < n; i++) {
            const float w = x[i] * x[i];
            float slx = sumlx - w * x[i] * (float)L[i];
            if (slx > 0.0f) {
                float sl2 = suml2 - w * (float)L[i] * (float)L[i];
                const int nl = lrq_k_clamp(lrq_k_round(x[i] * sl2 / slx), -nmax, nmax - 1);
                if (nl != L[i]) {
                    slx += w * x[i] * (float)nl;
                    sl2 += w * (float)nl * (float)nl;
                    if (sl2 > 0.0f && slx * slx * suml2 > sumlx * sumlx * sl2) {
                        L[i] = (int8_t)nl;
                        sumlx = slx;
                        suml2 = sl2;
                        changed++;
                    }
                }
            }
        }
        if (!changed) break;
    }
    for (int i = 0; i < n; i++) L[i] = (int8_t)(L[i] + nmax);
    return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

/* Asymmetric codes L in 0..nmax with x ~ scale*L - the_min (the_min >= 0):
 * start from the min/max range, then try nstep+1 scales
 * (nmax + rmin + rdelta*is)/(max - min), each followed by a weighted least
 * squares solve for scale and offset; keep the best by weighted squared (or
 * absolute, use_mad) error. Returns the scale. */
float lrq_k_fit_affine(int n, int nmax, const float *x, const float *weights, uint8_t *L, float *the_min,
                       uint8_t *Laux, float rmin, float rdelta, int nstep, int use_mad) {
    float min = x[0], max = x[0];
    float sum_w = weights[0];
    float sum_x = sum_w * x[0];
    for (int i = 1; i < n; i++) {
        if (x[i] < min) min = x[i];
        if (x[i] > max) max = x[i];
        const float w = weights[i];
        sum_w += w;
        sum_x += w * x[i];
    }
    if (min > 0.0f) min = 0.0f;
    if (max == min) {
        memset(L, 0, (size_t)n);
        *the_min = -min;
        return 0.0f;
    }
    float iscale = (float)nmax / (max - min);
    float scale = 1.0f / iscale;
    float best_error = 0.0f;
    for (int i = 0; i < n; i++) {
        L[i] = (uint8_t)lrq_k_clamp(lrq_k_round(iscale * (x[i] - min)), 0, nmax);
        float diff = scale * (float)L[i] + min - x[i];
        diff = use_mad ? fabsf(diff) : diff * diff;
        best_error += weights[i] * diff;
    }
    for (int is = 0; is <= nstep; is++) {
        iscale = (rmin + rdelta * (float)is + (float)nmax) / (max - min);
        float sum_l = 0.0f, sum_l2 = 0.0f, sum_xl = 0.0f;
        for (int i = 0; i < n; i++) {
            const int l = lrq_k_clamp(lrq_k_round(iscale * (x[i] - min)), 0, nmax);
            Laux[i] = (uint8_t)l;
            const float w = weights[i];
            sum_l += w * (float)l;
            sum_l2 += w * (float)l * (float)l;
            sum_xl += w * (float)l * x[i];
        }
        const float D = sum_w * sum_l2 - sum_l * sum_l;
        if (D > 0.0f) {
            float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
            float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
            if (this_min > 0.0f) {
                this_min = 0.0f;
                this_scale = sum_xl / sum_l2;
            }
            float cur_error = 0.0f;
            for (int i = 0; i < n; i++) {
                float diff = this_scale * (float)Laux[i] + this_min - x[i];
                diff = use_mad ? fabsf(diff) : diff * diff;
                cur_error += weights[i] * diff;
            }
            if (cur_error < best_error) {
                memcpy(L, Laux, (size_t)n);
                best_error = cur_error;
                scale = this_scale;
                min = this_min;
            }
        }
    }
    *the_min = -min;
    return scale;
}

/* Pack 2-bit codes: element 128*h + 32*s + l goes to bits 2s of qs[32h + l]. */
void lrq_k_pack_2bit(const uint8_t *L, uint8_t *qs) {
    for (int h = 0; h < 2; h++)
        for (int l = 0; l < 32; l++) {
            const uint8_t *Lh = L + 128 * h;
            qs[32 * h + l] = (uint8_t)(Lh[l] | (Lh[l + 32] << 2) | (Lh[l + 64] << 4) | (Lh[l + 96] << 6));
        }
}

void lrq_quant_ref_q2_K(const float *x, void *vy, int64_t n) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    uint8_t *y = vy;
    uint8_t L[LRQ_QK_K], Laux[16];
    float weights[16], mins[16], scales[16];
    for (int64_t b = 0; b < n / LRQ_QK_K; b++, x += LRQ_QK_K, y += LRQ_Q2K_SIZE) {
        uint8_t *sc = y + LRQ_Q2K_SCALES;
        float max_scale = 0.0f, max_min = 0.0f;
        for (int j = 0; j < 16; j++) {
            for (int l = 0; l < 16; l++) weights[l] = fabsf(x[16 * j + l]);
            scales[j] = lrq_k_fit_affine(16, 3, x + 16 * j, weights, L + 16 * j, &mins[j], Laux, -0.5f, 0.1f, 15, 1);
            if (scales[j] > max_scale) max_scale = scales[j];
            if (mins[j] > max_min) max_min = mins[j];
        }
        if (max_scale > 0.0f) {
            const float iscale = 15.0f / max_scale;
            for (int j = 0; j < 16; j++) sc[j] = (uint8_t)lrq_k_round(iscale * scales[j]);
            put_f16(y + LRQ_Q2K_D, max_scale / 15.0f);
        } else {
            memset(sc, 0, 16);
            put_f16(y + LRQ_Q2K_D, 0.0f);
        }
        if (max_min > 0.0f) {
            const float iscale = 15.0f / max_min;
            for (int j = 0; j < 16; j++) sc[j] = (uint8_t)(sc[j] | (lrq_k_round(iscale * mins[j]) << 4));
            put_f16(y + LRQ_Q2K_DMIN, max_min / 15.0f);
        } else {
            put_f16(y + LRQ_Q2K_DMIN, 0.0f);
        }
        const float dq = lrq_k_f16(y + LRQ_Q2K_D), mq = lrq_k_f16(y + LRQ_Q2K_DMIN);
        for (int j = 0; j < 16; j++) {
            /* requantize with the rounded scales; a zero scale keeps the fit's codes */
            const float d = dq * (float)(sc[j] & 0xf);
            if (d == 0.0f) continue;
            const float dm = mq * (float)(sc[j] >> 4);
            for (int i = 0; i < 16; i++) L[16 * j + i] = (uint8_t)lrq_k_clamp(lrq_k_round((x[16 * j + i] + dm) / d), 0, 3);
        }
        lrq_k_pack_2bit(L, y + LRQ_Q2K_QS);
    }
}

void lrq_quant_ref_q3_K(const float *x, void *vy, int64_t n) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    uint8_t *y = vy;
    int8_t L[LRQ_QK_K];
    float scales[16];
    for (int64_t b = 0; b < n / LRQ_QK_K; b++, x += LRQ_QK_K, y += LRQ_Q3K_SIZE) {
        uint8_t *sc = y + LRQ_Q3K_SCALES;
        float max_scale = 0.0f, amax = 0.0f;
        for (int j = 0; j < 16; j++) {
            scales[j] = fit_q3(16, 4, x + 16 * j, L + 16 * j);
            const float a = fabsf(scales[j]);
            if (a > amax) {
                amax = a;
                max_scale = scales[j];
            }
        }
        memset(sc, 0, 12);
        if (max_scale != 0.0f) {
            const float iscale = -32.0f / max_scale;
            for (int j = 0; j < 16; j++) {
                const int l = lrq_k_clamp(lrq_k_round(iscale * scales[j]), -32, 31) + 32; /* 6 bits */
                if (j < 8) sc[j] = (uint8_t)(l & 0xf);
                else sc[j - 8] = (uint8_t)(sc[j - 8] | ((l & 0xf) << 4));
                sc[8 + j % 4] = (uint8_t)(sc[8 + j % 4] | ((l >> 4) << (2 * (j / 4))));
            }
            put_f16(y + LRQ_Q3K_D, 1.0f / iscale);
        } else {
            put_f16(y + LRQ_Q3K_D, 0.0f);
        }
        int8_t s6[16];
        lrq_k3_scales(sc, s6);
        const float dq = lrq_k_f16(y + LRQ_Q3K_D);
        for (int j = 0; j < 16; j++) {
            const float d = dq * (float)s6[j];
            if (d == 0.0f) continue;
            for (int i = 0; i < 16; i++) L[16 * j + i] = (int8_t)(lrq_k_clamp(lrq_k_round(x[16 * j + i] / d), -4, 3) + 4);
        }
        lrq_k3_pack_codes(L, y);
    }
}

/* Q4_K/Q5_K scale/min packing (inverse of lrq_k4_scales). */
void lrq_k4_pack_scales(const uint8_t ls[8], const uint8_t lm[8], uint8_t *q) {
    memset(q, 0, 12);
    for (int j = 0; j < 8; j++) {
        if (j < 4) {
            q[j] = ls[j];
            q[j + 4] = lm[j];
        } else {
            q[j + 4] = (uint8_t)((ls[j] & 0xf) | ((lm[j] & 0xf) << 4));
            q[j - 4] = (uint8_t)(q[j - 4] | ((ls[j] >> 4) << 6));
            q[j] = (uint8_t)(q[j] | ((lm[j] >> 4) << 6));
        }
    }
}

/* Shared body of Q4_K and Q5_K: 8 groups of 32, affine fit with weights
 * av_x + |x| (av_x = rms of the group), 6-bit scales and mins relative to
 * the largest, then requantization with the rounded values. L gets codes
 * 0..nmax. */
static void quant_k4_common(const float *x, int nmax, float rmin, int nstep, uint8_t *hdr, uint8_t *L) {
    uint8_t Laux[32];
    float weights[32], mins[8], scales[8];
    float max_scale = 0.0f, max_min = 0.0f;
    for (int j = 0; j < 8; j++) {
        float sum_x2 = 0.0f;
        for (int l = 0; l < 32; l++) sum_x2 += x[32 * j + l] * x[32 * j + l];
        const float av_x = sqrtf(sum_x2 / 32.0f);
        for (int l = 0; l < 32; l++) weights[l] = av_x + fabsf(x[32 * j + l]);
        scales[j] = lrq_k_fit_affine(32, nmax, x + 32 * j, weights, L + 32 * j, &mins[j], Laux, rmin, 0.1f, nstep, 0);
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    const float inv_scale = max_scale > 0.0f ? 63.0f / max_scale : 0.0f;
    const float inv_min = max_min > 0.0f ? 63.0f / max_min : 0.0f;
    uint8_t ls[8], lm[8];
    for (int j = 0; j < 8; j++) {
        /* llama.cpp stores the rounded value in a uint8_t before capping at 63 */
        const uint8_t a = (uint8_t)lrq_k_round(inv_scale * scales[j]);
        const uint8_t c = (uint8_t)lrq_k_round(inv_min * mins[j]);
        ls[j] = a < 63 ? a : 63;
        lm[j] = c < 63 ? c : 63;
    }
    lrq_k4_pack_scales(ls, lm, hdr + 4);
    put_f16(hdr + 0, max_scale / 63.0f);
    put_f16(hdr + 2, max_min / 63.0f);
    const float dq = lrq_k_f16(hdr + 0), mq = lrq_k_f16(hdr + 2);
    uint8_t sc[8], m[8];
    lrq_k4_scales(hdr + 4, sc, m);
    for (int j = 0; j < 8; j++) {
        const float d = dq * (float)sc[j];
        if (d == 0.0f) continue;
        const float dm = mq * (float)m[j];
        for (int i = 0; i < 32; i++) L[32 * j + i] = (uint8_t)lrq_k_clamp(lrq_k_round((x[32 * j + i] + dm) / d), 0, nmax);
    }
}

void lrq_quant_ref_q4_K(const float *x, void *vy, int64_t n) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    uint8_t *y = vy;
    uint8_t L[LRQ_QK_K];
    for (int64_t b = 0; b < n / LRQ_QK_K; b++, x += LRQ_QK_K, y += LRQ_Q4K_SIZE) {
        quant_k4_common(x, 15, -1.0f, 20, y, L);
        uint8_t *qs = y + LRQ_Q4K_QS;
        for (int g = 0; g < 4; g++)
            for (int l = 0; l < 32; l++) qs[32 * g + l] = (uint8_t)(L[64 * g + l] | (L[64 * g + 32 + l] << 4));
    }
}

void lrq_quant_ref_q5_K(const float *x, void *vy, int64_t n) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    uint8_t *y = vy;
    uint8_t L[LRQ_QK_K];
    for (int64_t b = 0; b < n / LRQ_QK_K; b++, x += LRQ_QK_K, y += LRQ_Q5K_SIZE) {
        quant_k4_common(x, 31, -0.5f, 15, y, L);
        uint8_t *qs = y + LRQ_Q5K_QS, *qh = y + LRQ_Q5K_QH;
        memset(qh, 0, 32);
        for (int g = 0; g < 4; g++)
            for (int l = 0; l < 32; l++) {
                const int a = L[64 * g + l], c = L[64 * g + 32 + l];
                qh[l] = (uint8_t)(qh[l] | ((a >> 4) << (2 * g)) | ((c >> 4) << (2 * g + 1)));
                qs[32 * g + l] = (uint8_t)((a & 0xf) | ((c & 0xf) << 4));
            }
    }
}

void lrq_quant_ref_q6_K(const float *x, void *vy, int64_t n) { lrq_k_quant_q6_K(x, vy, n, NULL); }

/* Q6_K with importance weights qw (one per value of x) or without (NULL):
 * llama.cpp's quantize_row_q6_K_impl and _ref differ only in the weights of
 * the group fits. */
void lrq_k_quant_q6_K(const float *x, void *vy, int64_t n, const float *qw) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    uint8_t *y = vy;
    int8_t L[LRQ_QK_K];
    float scales[16];
    for (int64_t b = 0; b < n / LRQ_QK_K; b++, x += LRQ_QK_K, y += LRQ_Q6K_SIZE) {
        float max_scale = 0.0f, max_abs = 0.0f;
        for (int j = 0; j < 16; j++) {
            scales[j] = lrq_k_fit_symmetric(16, 32, x + 16 * j, L + 16 * j, qw ? qw + LRQ_QK_K * b + 16 * j : NULL);
            const float a = fabsf(scales[j]);
            if (a > max_abs) {
                max_abs = a;
                max_scale = scales[j];
            }
        }
        if (max_abs < K_GROUP_EPS) {
            memset(y, 0, LRQ_Q6K_SIZE);
            continue;
        }
        const float iscale = -128.0f / max_scale;
        put_f16(y + LRQ_Q6K_D, 1.0f / iscale);
        int8_t *sc = (int8_t *)(y + LRQ_Q6K_SCALES);
        for (int j = 0; j < 16; j++) {
            const int v = lrq_k_round(iscale * scales[j]);
            sc[j] = (int8_t)(v < 127 ? v : 127);
        }
        const float dq = lrq_k_f16(y + LRQ_Q6K_D);
        for (int j = 0; j < 16; j++) {
            const float d = dq * (float)sc[j];
            if (d == 0.0f) continue;
            for (int i = 0; i < 16; i++) L[16 * j + i] = (int8_t)(lrq_k_clamp(lrq_k_round(x[16 * j + i] / d), -32, 31) + 32);
        }
        for (int h = 0; h < 2; h++) {
            uint8_t *ql = y + LRQ_Q6K_QL + 64 * h, *qh = y + LRQ_Q6K_QH + 32 * h;
            const int8_t *Lh = L + 128 * h;
            for (int l = 0; l < 32; l++) {
                ql[l] = (uint8_t)((Lh[l] & 0xf) | ((Lh[l + 64] & 0xf) << 4));
                ql[l + 32] = (uint8_t)((Lh[l + 32] & 0xf) | ((Lh[l + 96] & 0xf) << 4));
                qh[l] = (uint8_t)((Lh[l] >> 4) | ((Lh[l + 32] >> 4) << 2) | ((Lh[l + 64] >> 4) << 4) |
                                  ((Lh[l + 96] >> 4) << 6));
            }
        }
    }
}

void lrq_k3_pack_codes(const int8_t *L, uint8_t *y) {
    uint8_t *hm = y + LRQ_Q3K_HMASK;
    uint8_t low[LRQ_QK_K];
    memset(hm, 0, 32);
    for (int e = 0; e < LRQ_QK_K; e++) {
        int v = L[e];
        if (v > 3) {
            hm[e % 32] = (uint8_t)(hm[e % 32] | (1 << (e / 32)));
            v -= 4;
        }
        low[e] = (uint8_t)v;
    }
    lrq_k_pack_2bit(low, y + LRQ_Q3K_QS);
}
