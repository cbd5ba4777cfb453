/* dot_k_ref.c — scalar reference dot products of a k-quant weight row with a
 * Q8_K activation row. These are the specification the SIMD kernels
 * (dot_k_avx2.c, dot_k_avx512.c) must reproduce bit for bit.
 *
 * The arithmetic is llama.cpp v0.5.0's, as run by its x86 CPU backend built
 * with AVX-512 (the build behind ../shared/golden); checked bit for bit
 * against that build's ggml_mul_mat on this machine. All products of codes,
 * scales and activation codes are exact integer sums; what matters is where
 * the float roundings happen:
 *  - Q3_K, Q5_K, Q6_K go through ggml_vec_dot_q*_K_q8_K (x86 AVX2 code): the
 *    integer sums of a block are kept in 8 lanes — lane k holds the values
 *    e with (e % 32) / 4 == k — and each lane accumulates
 *    acc[k] = fma(d_x*d_y, (float)sum[k], acc[k]) over the blocks; at the end
 *    the 8 lanes are added as ((a0+a4)+(a2+a6)) + ((a1+a5)+(a3+a7)).
 *    Q6_K subtracts its offset 32 through the bsums, lane k getting the two
 *    sub-blocks 2k, 2k+1; Q5_K adds its mins in a separate scalar
 *    summs = fma(-d_y*dmin_x, (float)M, summs) added at the end.
 *  - Q2_K and Q4_K matrices whose row count is a multiple of 8 are "repacked"
 *    by that build (ggml-cpu repack.cpp) and then use one of two orders:
 *    . lrq_dot_q*_K_{ref,avx2,avx512} ("gemv" order, single activation rows,
 *      the last M % 4 rows of a batch of M, and every MUL_MAT_ID): per block
 *      one integer sum S of scale*code*act and one M of min*bsum, then
 *      acc = fma((float)S, d_x*d_y, acc), accm = fma((float)M, dmin_x*d_y, accm),
 *      result acc - accm;
 *    . lrq_dot_q*_K_gemm_* ("gemm" order, the first M - M % 4 rows of a batch
 *      of M): the same, but with one fma per group of 64 (Q4_K) or 128 (Q2_K)
 *      values instead of one per block.
 *  - Q2_K and Q4_K matrices that are not repacked use ggml_vec_dot_q*_K_q8_K:
 *    lrq_dot_q*_K_vecdot_ref (scalar only; this case is rare).
 * Other float orders give results within a few ulp; these give llama.cpp's
 * exact numbers.
 */
#include "fmt/impl.h"
#include "kern/dots.h"
#include "fmt/kquant.h"
#include "fmt/types.h"

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

/* The 8 lane sums of llama.cpp's AVX2 kernels: lane k adds w[e]*q8[e] over
 * the values e with (e % 32) / 4 == k. w: the weight codes times their
 * sub-block scale, as int16 (|w| <= 63*128). */
static void lanes8(const int16_t *w, const int8_t *q8, int32_t lane[8]) {
    int32_t t[32] = {0};
    for (int r = 0; r < LRQ_QK_K; r += 32)
        for (int l = 0; l < 32; l++) t[l] += w[r + l] * q8[r + l];
    for (int k = 0; k < 8; k++) lane[k] = t[4 * k] + t[4 * k + 1] + t[4 * k + 2] + t[4 * k + 3];
}

/* *s = dot(x: n/256 Q2_K blocks, y: n/256 Q8_K blocks), n % 256 == 0;
 * Q2_K (repacked order: acc - accm). */
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

/* *s = dot(x: n/256 Q3_K blocks, y: n/256 Q8_K blocks), n % 256 == 0;
 * Q3_K (8-lane order). */
void lrq_dot_q3_K_ref(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    const uint8_t *x = vx, *y = vy;
    float acc[8] = {0};
    for (int64_t b = 0; b < n / LRQ_QK_K; b++, x += LRQ_Q3K_SIZE, y += LRQ_Q8K_SIZE) {
        int8_t sc[16];
        lrq_k3_scales(x + LRQ_Q3K_SCALES, sc);
        const uint8_t *qs = x + LRQ_Q3K_QS, *hm = x + LRQ_Q3K_HMASK;
        int16_t w[LRQ_QK_K];
        for (int r = 0; r < 8; r++) { /* run r of 32 values: h = r/4, shift 2*(r%4), third bit r */
            const uint8_t *q2 = qs + 32 * (r / 4);
            const int sh = 2 * (r % 4);
            for (int l = 0; l < 32; l++) w[32 * r + l] = (int16_t)(((q2[l] >> sh) & 3) + 4 * ((hm[l] >> r) & 1) - 4);
            for (int l = 0; l < 16; l++) w[32 * r + l] = (int16_t)(w[32 * r + l] * sc[2 * r]);
            for (int l = 16; l < 32; l++) w[32 * r + l] = (int16_t)(w[32 * r + l] * sc[2 * r + 1]);
        }
        int32_t lane[8];
        lanes8(w, q8_qs(y), lane);
        const float d = lrq_k_f32(y + LRQ_Q8K_D) * lrq_k_f16(x + LRQ_Q3K_D);
        for (int k = 0; k < 8; k++) acc[k] = fmaf(d, (float)lane[k], acc[k]);
    }
    *s = k_hsum8(acc);
}

/* *s = dot(x: n/256 Q4_K blocks, y: n/256 Q8_K blocks), n % 256 == 0;
 * Q4_K (repacked order: acc - accm). */
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

/* *s = dot(x: n/256 Q5_K blocks, y: n/256 Q8_K blocks), n % 256 == 0;
 * Q5_K (8-lane order + scalar mins). */
void lrq_dot_q5_K_ref(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    const uint8_t *x = vx, *y = vy;
    float acc[8] = {0};
    float summs = 0.0f;
    for (int64_t b = 0; b < n / LRQ_QK_K; b++, x += LRQ_Q5K_SIZE, y += LRQ_Q8K_SIZE) {
        uint8_t sc[8], m[8];
        lrq_k4_scales(x + LRQ_Q5K_SCALES, sc, m);
        const uint8_t *qs = x + LRQ_Q5K_QS, *qh = x + LRQ_Q5K_QH;
        int16_t w[LRQ_QK_K];
        for (int r = 0; r < 8; r++) { /* run r = sub-block r: nibble r%2 of qs[32*(r/2)..], fifth bit r */
            const uint8_t *q4 = qs + 32 * (r / 2);
            const int sh = 4 * (r % 2);
            for (int l = 0; l < 32; l++) {
                const int q = ((q4[l] >> sh) & 0xf) | (((qh[l] >> r) & 1) << 4);
                w[32 * r + l] = (int16_t)(sc[r] * q);
            }
        }
        int32_t lane[8];
        lanes8(w, q8_qs(y), lane);
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

/* *s = dot(x: n/256 Q6_K blocks, y: n/256 Q8_K blocks), n % 256 == 0;
 * Q6_K (8-lane order, offset via bsums). */
void lrq_dot_q6_K_ref(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    const uint8_t *x = vx, *y = vy;
    float acc[8] = {0};
    for (int64_t b = 0; b < n / LRQ_QK_K; b++, x += LRQ_Q6K_SIZE, y += LRQ_Q8K_SIZE) {
        const int8_t *sc = (const int8_t *)(x + LRQ_Q6K_SCALES);
        int16_t w[LRQ_QK_K];
        for (int r = 0; r < 8; r++) { /* run r: h = r/4, t = r%4 */
            const int h = r / 4, t = r % 4;
            const uint8_t *ql = x + LRQ_Q6K_QL + 64 * h + 32 * (t & 1);
            const uint8_t *qh = x + LRQ_Q6K_QH + 32 * h;
            const int sh = t < 2 ? 0 : 4;
            for (int l = 0; l < 32; l++) w[32 * r + l] = (int16_t)(((ql[l] >> sh) & 0xf) | (((qh[l] >> (2 * t)) & 3) << 4));
            for (int l = 0; l < 16; l++) w[32 * r + l] = (int16_t)(w[32 * r + l] * sc[2 * r]);
            for (int l = 16; l < 32; l++) w[32 * r + l] = (int16_t)(w[32 * r + l] * sc[2 * r + 1]);
        }
        int32_t lane[8];
        lanes8(w, q8_qs(y), lane);
        /* the offset -32, through the bsums: lane k takes sub-blocks 2k, 2k+1 */
        for (int k = 0; k < 8; k++)
            lane[k] -= 32 * (q8_bsum(y, 2 * k) * sc[2 * k] + q8_bsum(y, 2 * k + 1) * sc[2 * k + 1]);
        const float d = lrq_k_f32(y + LRQ_Q8K_D) * lrq_k_f16(x + LRQ_Q6K_D);
        for (int k = 0; k < 8; k++) acc[k] = fmaf(d, (float)lane[k], acc[k]);
    }
    *s = k_hsum8(acc);
}

/* ---- other float orders of Q2_K and Q4_K (see the header comment) ---- */

/* Q2_K codes times their 4-bit scale, as int16 in value order. */
static void q2_weighted(const uint8_t *x, int16_t w[LRQ_QK_K]) {
    const uint8_t *sc = x + LRQ_Q2K_SCALES, *qs = x + LRQ_Q2K_QS;
    for (int r = 0; r < 8; r++) { /* run r: qs[32*(r/4)..], shift 2*(r%4) */
        const uint8_t *q2 = qs + 32 * (r / 4);
        const int sh = 2 * (r % 4);
        const int s0 = sc[2 * r] & 0xf, s1 = sc[2 * r + 1] & 0xf;
        for (int l = 0; l < 16; l++) w[32 * r + l] = (int16_t)(((q2[l] >> sh) & 3) * s0);
        for (int l = 16; l < 32; l++) w[32 * r + l] = (int16_t)(((q2[l] >> sh) & 3) * s1);
    }
}

/* Q4_K codes times their 6-bit scale, as int16 in value order. */
static void q4_weighted(const uint8_t *x, const uint8_t sc[8], int16_t w[LRQ_QK_K]) {
    const uint8_t *qs = x + LRQ_Q4K_QS;
    for (int r = 0; r < 8; r++) {
        const uint8_t *q4 = qs + 32 * (r / 2);
        const int sh = 4 * (r % 2);
        for (int l = 0; l < 32; l++) w[32 * r + l] = (int16_t)(((q4[l] >> sh) & 0xf) * sc[r]);
    }
}

static int32_t dot_i16_i8(const int16_t *w, const int8_t *q, int n) {
    int32_t s = 0;
    for (int i = 0; i < n; i++) s += w[i] * q[i];
    return s;
}

/* Gemm order: one fma per 128 values. */
void lrq_dot_q2_K_gemm_ref(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    const uint8_t *x = vx, *y = vy;
    float acc = 0.0f, accm = 0.0f;
    for (int64_t b = 0; b < n / LRQ_QK_K; b++, x += LRQ_Q2K_SIZE, y += LRQ_Q8K_SIZE) {
        int16_t w[LRQ_QK_K];
        q2_weighted(x, w);
        const float yd = lrq_k_f32(y + LRQ_Q8K_D);
        const float dd = lrq_k_f16(x + LRQ_Q2K_D) * yd;
        const float dm = lrq_k_f16(x + LRQ_Q2K_DMIN) * yd;
        for (int g = 0; g < 2; g++) {
            const int32_t S = dot_i16_i8(w + 128 * g, q8_qs(y) + 128 * g, 128);
            int32_t M = 0;
            for (int j = 8 * g; j < 8 * g + 8; j++) M += (x[LRQ_Q2K_SCALES + j] >> 4) * q8_bsum(y, j);
            acc = fmaf((float)S, dd, acc);
            accm = fmaf((float)M, dm, accm);
        }
    }
    *s = acc - accm;
}

/* Gemm order: one fma per 64 values. */
void lrq_dot_q4_K_gemm_ref(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    const uint8_t *x = vx, *y = vy;
    float acc = 0.0f, accm = 0.0f;
    for (int64_t b = 0; b < n / LRQ_QK_K; b++, x += LRQ_Q4K_SIZE, y += LRQ_Q8K_SIZE) {
        uint8_t sc[8], m[8];
        lrq_k4_scales(x + LRQ_Q4K_SCALES, sc, m);
        int16_t w[LRQ_QK_K];
        q4_weighted(x, sc, w);
        const float yd = lrq_k_f32(y + LRQ_Q8K_D);
        const float dd = lrq_k_f16(x + LRQ_Q4K_D) * yd;
        const float dm = lrq_k_f16(x + LRQ_Q4K_DMIN) * yd;
        for (int g = 0; g < 4; g++) {
            const int32_t S = dot_i16_i8(w + 64 * g, q8_qs(y) + 64 * g, 64);
            const int32_t M = m[2 * g] * (q8_bsum(y, 4 * g) + q8_bsum(y, 4 * g + 1)) +
                              m[2 * g + 1] * (q8_bsum(y, 4 * g + 2) + q8_bsum(y, 4 * g + 3));
            acc = fmaf((float)S, dd, acc);
            accm = fmaf((float)M, dm, accm);
        }
    }
    *s = acc - accm;
}

/* ggml_vec_dot_q2_K_q8_K's order: 8 lanes; per block first the mins, lane k
 * getting min_{2k}*bsum_{2k} + min_{2k+1}*bsum_{2k+1} times -d_y*dmin_x, then
 * the codes as for Q3_K. */
void lrq_dot_q2_K_vecdot_ref(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    const uint8_t *x = vx, *y = vy;
    float acc[8] = {0};
    for (int64_t b = 0; b < n / LRQ_QK_K; b++, x += LRQ_Q2K_SIZE, y += LRQ_Q8K_SIZE) {
        const uint8_t *sc = x + LRQ_Q2K_SCALES;
        int16_t w[LRQ_QK_K];
        q2_weighted(x, w);
        int32_t lane[8];
        lanes8(w, q8_qs(y), lane);
        const float yd = lrq_k_f32(y + LRQ_Q8K_D);
        const float d = yd * lrq_k_f16(x + LRQ_Q2K_D);
        const float dmin = -yd * lrq_k_f16(x + LRQ_Q2K_DMIN);
        for (int k = 0; k < 8; k++) {
            const int32_t mk = (sc[2 * k] >> 4) * q8_bsum(y, 2 * k) + (sc[2 * k + 1] >> 4) * q8_bsum(y, 2 * k + 1);
            acc[k] = fmaf(dmin, (float)mk, acc[k]);
        }
        for (int k = 0; k < 8; k++) acc[k] = fmaf(d, (float)lane[k], acc[k]);
    }
    *s = k_hsum8(acc);
}

/* ggml_vec_dot_q4_K_q8_K's order: codes in 8 lanes as Q5_K; mins in 4 lanes,
 * lane i = m_{2i}*bsum32_{2i} + m_{2i+1}*bsum32_{2i+1}, accumulated with
 * fma(-d_y*dmin_x, .) and reduced as (a0+a2)+(a1+a3), added last. */
void lrq_dot_q4_K_vecdot_ref(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    const uint8_t *x = vx, *y = vy;
    float acc[8] = {0}, accm[4] = {0};
    for (int64_t b = 0; b < n / LRQ_QK_K; b++, x += LRQ_Q4K_SIZE, y += LRQ_Q8K_SIZE) {
        uint8_t sc[8], m[8];
        lrq_k4_scales(x + LRQ_Q4K_SCALES, sc, m);
        int16_t w[LRQ_QK_K];
        q4_weighted(x, sc, w);
        int32_t lane[8];
        lanes8(w, q8_qs(y), lane);
        const float yd = lrq_k_f32(y + LRQ_Q8K_D);
        const float d = yd * lrq_k_f16(x + LRQ_Q4K_D);
        const float dmin = -yd * lrq_k_f16(x + LRQ_Q4K_DMIN);
        for (int i = 0; i < 4; i++) {
            const int32_t mi = m[2 * i] * (q8_bsum(y, 4 * i) + q8_bsum(y, 4 * i + 1)) +
                               m[2 * i + 1] * (q8_bsum(y, 4 * i + 2) + q8_bsum(y, 4 * i + 3));
            accm[i] = fmaf(dmin, (float)mi, accm[i]);
        }
        for (int k = 0; k < 8; k++) acc[k] = fmaf(d, (float)lane[k], acc[k]);
    }
    const float m0 = accm[0] + accm[2], m1 = accm[1] + accm[3];
    *s = k_hsum8(acc) + (m0 + m1);
}
