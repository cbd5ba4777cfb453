/* dot_k_ref.c — scalar reference dot products of a k-quant weight row with a
 * Q8_K activation row. These are the specification the SIMD kernels
 * (dot_k_avx2.c, dot_k_avx512.c) must reproduce bit for bit.
 *
 * The arithmetic is llama.cpp v0.5.0's, as run by its x86 CPU backend built
 * with AVX-512 (the build behind /work/shared/golden):
 *  - All products of codes, scales and activation codes are exact integer sums.
 *  - Q3_K, Q5_K, Q6_K go through ggml_vec_dot_q*_K_q8_K (x86 AVX2 code): the
 *    integer sums of a block are kept in 8 lanes — lane k holds the elements
 *    e with (e % 32) / 4 == k — and each lane accumulates
 *    acc[k] = fma(d_x*d_y, (float)sum[k], acc[k]) over the blocks; at the end
 *    the 8 lanes are added as ((a0+a4)+(a2+a6)) + ((a1+a5)+(a3+a7)).
 *    Q6_K subtracts its offset 32 through the bsums, lane k getting the two
 *    sub-blocks 2k, 2k+1; Q5_K adds its mins in a separate scalar
 *    summs = fma(-d_y*dmin_x, (float)M, summs) added at the end.
 *  - Q2_K and Q4_K are "repacked" by that build (ggml-cpu repack.cpp, used for
 *    every matrix with a row count divisible by 8): per block one integer sum
 *    S of scale*code*act and one M of min*bsum, then
 *    acc = fma((float)S, d_x*d_y, acc), accm = fma((float)M, dmin_x*d_y, accm),
 *    result acc - accm.
 * Other float orders give results within a few ulp; these give llama.cpp's
 * exact numbers.
 */
#include "quant/quant_impl.h"
#include "quant/quant_k.h"
#include "quant/qtypes.h"

#include <math.h>

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

/* The final reduction of 8 float lanes used by llama.cpp's AVX2 kernels. */
static float k_hsum8(const float a[8]) {
    const float t0 = a[0] + a[4], t1 = a[1] + a[5], t2 = a[2] + a[6], t3 = a[3] + a[7];
    const float u0 = t0 + t2, u1 = t1 + t3;
    return u0 + u1;
}

static inline const int8_t *q8_qs(const uint8_t *y) { return (const int8_t *)(y + LRQ_Q8K_QS); }
static inline int q8_bsum(const uint8_t *y, int j) { return lrq_k_i16(y + LRQ_Q8K_BSUMS + 2 * j); }

void lrq_dot_q2_K_ref(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    const uint8_t *x = vx, *y = vy;
    float acc = 0.0f, accm = 0.0f;
    for (int64_t b = 0; b < n / LRQ_QK_K; b++, x += LRQ_Q2K_SIZE, y += LRQ_Q8K_SIZE) {
        const uint8_t *sc = x + LRQ_Q2K_SCALES, *qs = x + LRQ_Q2K_QS;
        const int8_t *q8 = q8_qs(y);
        int32_t S = 0, M = 0;
        for (int j = 0; j < 16; j++) {
            const int h = j / 8, sh = 2 * ((j % 8) / 2), l0 = (j % 2) * 16;
            int32_t sum = 0;
            for (int l = l0; l < l0 + 16; l++) sum += ((qs[32 * h + l] >> sh) & 3) * q8[16 * j + l - l0];
            S += (sc[j] & 0xf) * sum;
            M += (sc[j] >> 4) * q8_bsum(y, j);
        }
        const float yd = lrq_k_f32(y + LRQ_Q8K_D);
        const float dd = lrq_k_f16(x + LRQ_Q2K_D) * yd;
        const float dm = lrq_k_f16(x + LRQ_Q2K_DMIN) * yd;
        acc = fmaf((float)S, dd, acc);
        accm = fmaf((float)M, dm, accm);
    }
    *s = acc - accm;
}

void lrq_dot_q3_K_ref(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    const uint8_t *x = vx, *y = vy;
    float acc[8] = {0};
    for (int64_t b = 0; b < n / LRQ_QK_K; b++, x += LRQ_Q3K_SIZE, y += LRQ_Q8K_SIZE) {
        int8_t sc[16];
        lrq_k3_scales(x + LRQ_Q3K_SCALES, sc);
        const uint8_t *qs = x + LRQ_Q3K_QS, *hm = x + LRQ_Q3K_HMASK;
        const int8_t *q8 = q8_qs(y);
        int32_t lane[8] = {0};
        for (int e = 0; e < LRQ_QK_K; e++) {
            const int h = e / 128, sh = (e % 128) / 32, l = e % 32;
            const int q = ((qs[32 * h + l] >> (2 * sh)) & 3) - (((hm[l] >> (4 * h + sh)) & 1) ? 0 : 4);
            lane[l / 4] += sc[e / 16] * q * q8[e];
        }
        const float d = lrq_k_f32(y + LRQ_Q8K_D) * lrq_k_f16(x + LRQ_Q3K_D);
        for (int k = 0; k < 8; k++) acc[k] = fmaf(d, (float)lane[k], acc[k]);
    }
    *s = k_hsum8(acc);
}

void lrq_dot_q4_K_ref(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    const uint8_t *x = vx, *y = vy;
    float acc = 0.0f, accm = 0.0f;
    for (int64_t b = 0; b < n / LRQ_QK_K; b++, x += LRQ_Q4K_SIZE, y += LRQ_Q8K_SIZE) {
        uint8_t sc[8], m[8];
        lrq_k4_scales(x + LRQ_Q4K_SCALES, sc, m);
        const uint8_t *qs = x + LRQ_Q4K_QS;
        const int8_t *q8 = q8_qs(y);
        int32_t S = 0, M = 0;
        for (int g = 0; g < 4; g++) {
            int32_t lo = 0, hi = 0;
            for (int l = 0; l < 32; l++) {
                lo += (qs[32 * g + l] & 0xf) * q8[64 * g + l];
                hi += (qs[32 * g + l] >> 4) * q8[64 * g + 32 + l];
            }
            S += sc[2 * g] * lo + sc[2 * g + 1] * hi;
        }
        for (int j = 0; j < 8; j++) M += m[j] * (q8_bsum(y, 2 * j) + q8_bsum(y, 2 * j + 1));
        const float yd = lrq_k_f32(y + LRQ_Q8K_D);
        const float dd = lrq_k_f16(x + LRQ_Q4K_D) * yd;
        const float dm = lrq_k_f16(x + LRQ_Q4K_DMIN) * yd;
        acc = fmaf((float)S, dd, acc);
        accm = fmaf((float)M, dm, accm);
    }
    *s = acc - accm;
}

void lrq_dot_q5_K_ref(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    const uint8_t *x = vx, *y = vy;
    float acc[8] = {0};
    float summs = 0.0f;
    for (int64_t b = 0; b < n / LRQ_QK_K; b++, x += LRQ_Q5K_SIZE, y += LRQ_Q8K_SIZE) {
        uint8_t sc[8], m[8];
        lrq_k4_scales(x + LRQ_Q5K_SCALES, sc, m);
        const uint8_t *qs = x + LRQ_Q5K_QS, *qh = x + LRQ_Q5K_QH;
        const int8_t *q8 = q8_qs(y);
        int32_t lane[8] = {0};
        for (int e = 0; e < LRQ_QK_K; e++) {
            const int g = e / 64, hi = (e % 64) / 32, l = e % 32;
            const uint8_t byte = qs[32 * g + l];
            const int q = (hi ? byte >> 4 : byte & 0xf) | (((qh[l] >> (2 * g + hi)) & 1) << 4);
            lane[l / 4] += sc[e / 32] * q * q8[e];
        }
        int32_t M = 0;
        for (int j = 0; j < 8; j++) M += m[j] * (q8_bsum(y, 2 * j) + q8_bsum(y, 2 * j + 1));
        const float yd = lrq_k_f32(y + LRQ_Q8K_D);
        const float d = yd * lrq_k_f16(x + LRQ_Q5K_D);
        const float dmin = -yd * lrq_k_f16(x + LRQ_Q5K_DMIN);
        summs = fmaf(dmin, (float)M, summs);
        for (int k = 0; k < 8; k++) acc[k] = fmaf(d, (float)lane[k], acc[k]);
    }
    *s = k_hsum8(acc) + summs;
}

void lrq_dot_q6_K_ref(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    const uint8_t *x = vx, *y = vy;
    float acc[8] = {0};
    for (int64_t b = 0; b < n / LRQ_QK_K; b++, x += LRQ_Q6K_SIZE, y += LRQ_Q8K_SIZE) {
        const int8_t *sc = (const int8_t *)(x + LRQ_Q6K_SCALES);
        const int8_t *q8 = q8_qs(y);
        int32_t lane[8] = {0};
        for (int e = 0; e < LRQ_QK_K; e++) {
            const int h = e / 128, t = (e % 128) / 32, l = e % 32;
            const uint8_t lo = x[LRQ_Q6K_QL + 64 * h + 32 * (t & 1) + l];
            const uint8_t hb = x[LRQ_Q6K_QH + 32 * h + l];
            const int q = (t < 2 ? lo & 0xf : lo >> 4) | (((hb >> (2 * t)) & 3) << 4); /* 0..63 */
            lane[l / 4] += sc[e / 16] * q * q8[e];
        }
        /* the offset -32, through the bsums: lane k takes sub-blocks 2k, 2k+1 */
        for (int k = 0; k < 8; k++)
            lane[k] -= 32 * (q8_bsum(y, 2 * k) * sc[2 * k] + q8_bsum(y, 2 * k + 1) * sc[2 * k + 1]);
        const float d = lrq_k_f32(y + LRQ_Q8K_D) * lrq_k_f16(x + LRQ_Q6K_D);
        for (int k = 0; k < 8; k++) acc[k] = fmaf(d, (float)lane[k], acc[k]);
    }
    *s = k_hsum8(acc);
}
