/* dot_k_neon.c — ARM NEON (AArch64 base Advanced SIMD) dot products of
 * k-quant rows with Q8_K rows, bit-identical to the scalar specification in
 * dot_k_ref.c (read its header for the float orders).
 *
 * The reference's float order is llama.cpp's x86 one, not its NEON one:
 * llama.cpp's ARM kernels sum each block's integers into one scalar and
 * keep a single float sum per row (sumf += d * isum), while its x86
 * kernels — and so lrq's specification — keep 8 float lanes for Q3_K, Q5_K
 * and Q6_K (lane k = the values e with (e % 32) / 4 == k) and two fma
 * chains for Q2_K and Q4_K. lrq's NEON level reproduces lrq's
 * specification, so every ISA level gives the same bits:
 *  - integers: int8 x int8 products widened with vmull_s8 (never two
 *    products summed in int16) and pairwise-added into int32; groups of 4
 *    consecutive values form one int32 (vpaddq of two pairwise sums), which
 *    is exactly the reference's lane split; sub-block scales multiply the
 *    group sums in int32 — all exact, so any integer order is the same;
 *  - floats: two float32x4 accumulators hold the 8 lanes, updated with
 *    vfmaq_f32 (the fused fmaf of the reference), reduced as the reference's
 *    ((a0+a4)+(a2+a6)) + ((a1+a5)+(a3+a7)); Q2_K/Q4_K use the reference's
 *    scalar fmaf chains on the exact block sums.
 *
 * Inputs: n % 256 == 0; x and y need no particular alignment.
 */
#include "fmt/impl.h"
#include "kern/dots.h"
#include "fmt/kquant.h"
#include "fmt/types.h"

#include <arm_neon.h>
#include <math.h>

static inline int8x16_t ld_s8(const uint8_t *p) { return vld1q_s8((const int8_t *)p); }

/* 8 int16 at p (any alignment). */
static inline int16x8_t ld_s16(const uint8_t *p) { return vreinterpretq_s16_u8(vld1q_u8(p)); }

/* {Σ a[0..3] b[0..3], Σ a[4..7] b[4..7], Σ a[8..11] b[8..11], Σ a[12..15] b[12..15]}, exact. */
static inline int32x4_t dot4x4(int8x16_t a, int8x16_t b) {
    const int32x4_t p0 = vpaddlq_s16(vmull_s8(vget_low_s8(a), vget_low_s8(b)));
    const int32x4_t p1 = vpaddlq_s16(vmull_high_s8(a, b));
    return vpaddq_s32(p0, p1);
}

/* The reference's reduction of 8 float lanes (lo = lanes 0-3, hi = 4-7). */
static inline float hsum8(float32x4_t lo, float32x4_t hi) {
    const float32x4_t t = vaddq_f32(lo, hi);                            /* a0+a4 .. a3+a7 */
    const float32x2_t u = vadd_f32(vget_low_f32(t), vget_high_f32(t)); /* t0+t2, t1+t3 */
    return vget_lane_f32(u, 0) + vget_lane_f32(u, 1);
}

/* Σ_j m[j] * (bsum[2j] + bsum[2j+1]), j < 8 (Q4_K, Q5_K mins). */
static inline int32_t mins_dot(const uint8_t m[8], const uint8_t *y) {
    /* pair sums widened to int32 first: bsums are any int16 to this kernel */
    const int32x4_t p0 = vpaddlq_s16(ld_s16(y + LRQ_Q8K_BSUMS)), p1 = vpaddlq_s16(ld_s16(y + LRQ_Q8K_BSUMS + 16));
    const uint16x8_t mv = vmovl_u8(vld1_u8(m));
    int32x4_t s = vmulq_s32(p0, vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(mv))));
    s = vmlaq_s32(s, p1, vreinterpretq_s32_u32(vmovl_high_u16(mv)));
    return vaddvq_s32(s);
}

/* *s = dot(x: n/256 Q2_K blocks, y: n/256 Q8_K blocks), n % 256 == 0 (as lrq_dot_q2_K_ref). */
void lrq_dot_q2_K_neon(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    const uint8_t *x = vx, *y = vy;
    const uint8x16_t m3 = vdupq_n_u8(3);
    float acc = 0.0f, accm = 0.0f;
    for (int64_t b = 0; b < n / LRQ_QK_K; b++, x += LRQ_Q2K_SIZE, y += LRQ_Q8K_SIZE) {
        const uint8_t *sc = x + LRQ_Q2K_SCALES, *qs = x + LRQ_Q2K_QS, *q8 = y + LRQ_Q8K_QS;
        int32x4_t S = vdupq_n_s32(0);
        for (int h = 0; h < 2; h++) {
            const uint8x16_t r0 = vld1q_u8(qs + 32 * h), r1 = vld1q_u8(qs + 32 * h + 16);
            for (int t = 0; t < 4; t++) { /* shift 2t: sub-blocks j = 8h + 2t (first 16) and j + 1 */
                const int j = 8 * h + 2 * t;
                const int8x16_t c0 = vreinterpretq_s8_u8(vandq_u8(vshlq_u8(r0, vdupq_n_s8((int8_t)(-2 * t))), m3));
                const int8x16_t c1 = vreinterpretq_s8_u8(vandq_u8(vshlq_u8(r1, vdupq_n_s8((int8_t)(-2 * t))), m3));
                S = vmlaq_n_s32(S, dot4x4(c0, ld_s8(q8 + 16 * j)), sc[j] & 0xf);
                S = vmlaq_n_s32(S, dot4x4(c1, ld_s8(q8 + 16 * j + 16)), sc[j + 1] & 0xf);
            }
        }
        /* mins: Σ (sc[j] >> 4) * bsum[j] */
        const uint8x16_t scv = vld1q_u8(sc);
        const int16x8_t mlo = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(vshrq_n_u8(scv, 4))));
        const int16x8_t mhi = vreinterpretq_s16_u16(vmovl_high_u8(vshrq_n_u8(scv, 4)));
        const int16x8_t b0 = ld_s16(y + LRQ_Q8K_BSUMS), b1 = ld_s16(y + LRQ_Q8K_BSUMS + 16);
        int32x4_t Mv = vmull_s16(vget_low_s16(mlo), vget_low_s16(b0));
        Mv = vmlal_high_s16(Mv, mlo, b0);
        Mv = vmlal_s16(Mv, vget_low_s16(mhi), vget_low_s16(b1));
        Mv = vmlal_high_s16(Mv, mhi, b1);
        const int32_t Si = vaddvq_s32(S), M = vaddvq_s32(Mv);
        const float yd = lrq_k_f32(y + LRQ_Q8K_D);
        const float dd = lrq_k_f16(x + LRQ_Q2K_D) * yd;
        const float dm = lrq_k_f16(x + LRQ_Q2K_DMIN) * yd;
        acc = fmaf((float)Si, dd, acc);
        accm = fmaf((float)M, dm, accm);
    }
    *s = acc - accm;
}

/* *s = dot(x: n/256 Q3_K blocks, y: n/256 Q8_K blocks), n % 256 == 0 (as lrq_dot_q3_K_ref). */
void lrq_dot_q3_K_neon(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    const uint8_t *x = vx, *y = vy;
    const uint8x16_t m3 = vdupq_n_u8(3), four = vdupq_n_u8(4);
    float32x4_t alo = vdupq_n_f32(0.0f), ahi = alo;
    for (int64_t b = 0; b < n / LRQ_QK_K; b++, x += LRQ_Q3K_SIZE, y += LRQ_Q8K_SIZE) {
        int8_t sc[16];
        lrq_k3_scales(x + LRQ_Q3K_SCALES, sc);
        const uint8_t *qs = x + LRQ_Q3K_QS, *q8 = y + LRQ_Q8K_QS;
        const uint8x16_t hm0 = vld1q_u8(x + LRQ_Q3K_HMASK), hm1 = vld1q_u8(x + LRQ_Q3K_HMASK + 16);
        int32x4_t llo = vdupq_n_s32(0), lhi = llo; /* integer lanes 0-3 and 4-7 */
        for (int r = 0; r < 8; r++) { /* run r: qs[32*(r/4)..] >> 2*(r%4), third bit = bit r of hmask */
            const uint8_t *q2 = qs + 32 * (r / 4);
            const int8x16_t sh = vdupq_n_s8((int8_t)(-2 * (r % 4)));
            const uint8x16_t bit = vdupq_n_u8((uint8_t)(1u << r));
            const uint8x16_t u0 = vorrq_u8(vandq_u8(vshlq_u8(vld1q_u8(q2), sh), m3), vandq_u8(vtstq_u8(hm0, bit), four));
            const uint8x16_t u1 =
                vorrq_u8(vandq_u8(vshlq_u8(vld1q_u8(q2 + 16), sh), m3), vandq_u8(vtstq_u8(hm1, bit), four));
            const int8x16_t c0 = vsubq_s8(vreinterpretq_s8_u8(u0), vreinterpretq_s8_u8(four));
            const int8x16_t c1 = vsubq_s8(vreinterpretq_s8_u8(u1), vreinterpretq_s8_u8(four));
            llo = vmlaq_n_s32(llo, dot4x4(c0, ld_s8(q8 + 32 * r)), sc[2 * r]);
            lhi = vmlaq_n_s32(lhi, dot4x4(c1, ld_s8(q8 + 32 * r + 16)), sc[2 * r + 1]);
        }
        const float32x4_t d = vdupq_n_f32(lrq_k_f32(y + LRQ_Q8K_D) * lrq_k_f16(x + LRQ_Q3K_D));
        alo = vfmaq_f32(alo, d, vcvtq_f32_s32(llo));
        ahi = vfmaq_f32(ahi, d, vcvtq_f32_s32(lhi));
    }
    *s = hsum8(alo, ahi);
}

/* *s = dot(x: n/256 Q4_K blocks, y: n/256 Q8_K blocks), n % 256 == 0 (as lrq_dot_q4_K_ref). */
void lrq_dot_q4_K_neon(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    const uint8_t *x = vx, *y = vy;
    const uint8x16_t m4 = vdupq_n_u8(0x0f);
    float acc = 0.0f, accm = 0.0f;
    for (int64_t b = 0; b < n / LRQ_QK_K; b++, x += LRQ_Q4K_SIZE, y += LRQ_Q8K_SIZE) {
        uint8_t sc[8], m[8];
        lrq_k4_scales(x + LRQ_Q4K_SCALES, sc, m);
        const uint8_t *qs = x + LRQ_Q4K_QS, *q8 = y + LRQ_Q8K_QS;
        int32x4_t S = vdupq_n_s32(0);
        for (int g = 0; g < 4; g++) {
            const uint8x16_t r0 = vld1q_u8(qs + 32 * g), r1 = vld1q_u8(qs + 32 * g + 16);
            int32x4_t lo = dot4x4(vreinterpretq_s8_u8(vandq_u8(r0, m4)), ld_s8(q8 + 64 * g));
            lo = vaddq_s32(lo, dot4x4(vreinterpretq_s8_u8(vandq_u8(r1, m4)), ld_s8(q8 + 64 * g + 16)));
            int32x4_t hi = dot4x4(vreinterpretq_s8_u8(vshrq_n_u8(r0, 4)), ld_s8(q8 + 64 * g + 32));
            hi = vaddq_s32(hi, dot4x4(vreinterpretq_s8_u8(vshrq_n_u8(r1, 4)), ld_s8(q8 + 64 * g + 48)));
            S = vmlaq_n_s32(S, lo, sc[2 * g]);
            S = vmlaq_n_s32(S, hi, sc[2 * g + 1]);
        }
        const int32_t Si = vaddvq_s32(S), M = mins_dot(m, y);
        const float yd = lrq_k_f32(y + LRQ_Q8K_D);
        const float dd = lrq_k_f16(x + LRQ_Q4K_D) * yd;
        const float dm = lrq_k_f16(x + LRQ_Q4K_DMIN) * yd;
        acc = fmaf((float)Si, dd, acc);
        accm = fmaf((float)M, dm, accm);
    }
    *s = acc - accm;
}

/* *s = dot(x: n/256 Q5_K blocks, y: n/256 Q8_K blocks), n % 256 == 0 (as lrq_dot_q5_K_ref). */
void lrq_dot_q5_K_neon(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    const uint8_t *x = vx, *y = vy;
    const uint8x16_t m4 = vdupq_n_u8(0x0f), b4 = vdupq_n_u8(0x10);
    float32x4_t alo = vdupq_n_f32(0.0f), ahi = alo;
    float summs = 0.0f;
    for (int64_t b = 0; b < n / LRQ_QK_K; b++, x += LRQ_Q5K_SIZE, y += LRQ_Q8K_SIZE) {
        uint8_t sc[8], m[8];
        lrq_k4_scales(x + LRQ_Q5K_SCALES, sc, m);
        const uint8_t *qs = x + LRQ_Q5K_QS, *q8 = y + LRQ_Q8K_QS;
        const uint8x16_t qh0 = vld1q_u8(x + LRQ_Q5K_QH), qh1 = vld1q_u8(x + LRQ_Q5K_QH + 16);
        int32x4_t llo = vdupq_n_s32(0), lhi = llo;
        for (int r = 0; r < 8; r++) { /* sub-block r: nibble r%2 of qs[32*(r/2)..], fifth bit = bit r of qh */
            const uint8_t *q4 = qs + 32 * (r / 2);
            const int8x16_t sh = vdupq_n_s8((int8_t)(-4 * (r % 2)));
            const uint8x16_t bit = vdupq_n_u8((uint8_t)(1u << r));
            const uint8x16_t u0 = vorrq_u8(vandq_u8(vshlq_u8(vld1q_u8(q4), sh), m4), vandq_u8(vtstq_u8(qh0, bit), b4));
            const uint8x16_t u1 =
                vorrq_u8(vandq_u8(vshlq_u8(vld1q_u8(q4 + 16), sh), m4), vandq_u8(vtstq_u8(qh1, bit), b4));
            llo = vmlaq_n_s32(llo, dot4x4(vreinterpretq_s8_u8(u0), ld_s8(q8 + 32 * r)), sc[r]);
            lhi = vmlaq_n_s32(lhi, dot4x4(vreinterpretq_s8_u8(u1), ld_s8(q8 + 32 * r + 16)), sc[r]);
        }
        const int32_t M = mins_dot(m, y);
        const float yd = lrq_k_f32(y + LRQ_Q8K_D);
        const float32x4_t d = vdupq_n_f32(yd * lrq_k_f16(x + LRQ_Q5K_D));
        const float dmin = -yd * lrq_k_f16(x + LRQ_Q5K_DMIN);
        summs = fmaf(dmin, (float)M, summs);
        alo = vfmaq_f32(alo, d, vcvtq_f32_s32(llo));
        ahi = vfmaq_f32(ahi, d, vcvtq_f32_s32(lhi));
    }
    *s = hsum8(alo, ahi) + summs;
}

/* *s = dot(x: n/256 Q6_K blocks, y: n/256 Q8_K blocks), n % 256 == 0 (as lrq_dot_q6_K_ref). */
void lrq_dot_q6_K_neon(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    const uint8_t *x = vx, *y = vy;
    const uint8x16_t m4 = vdupq_n_u8(0x0f), hm = vdupq_n_u8(0x30);
    float32x4_t alo = vdupq_n_f32(0.0f), ahi = alo;
    for (int64_t b = 0; b < n / LRQ_QK_K; b++, x += LRQ_Q6K_SIZE, y += LRQ_Q8K_SIZE) {
        const int8_t *sc = (const int8_t *)(x + LRQ_Q6K_SCALES);
        const uint8_t *q8 = y + LRQ_Q8K_QS;
        int32x4_t llo = vdupq_n_s32(0), lhi = llo;
        for (int r = 0; r < 8; r++) { /* run r: h = r/4, t = r%4 */
            const int h = r / 4, t = r % 4;
            const uint8_t *ql = x + LRQ_Q6K_QL + 64 * h + 32 * (t & 1), *qh = x + LRQ_Q6K_QH + 32 * h;
            const int8x16_t shl = vdupq_n_s8((int8_t)(t < 2 ? 0 : -4)), shh = vdupq_n_s8((int8_t)(4 - 2 * t));
            /* ((ql >> sh) & 15) | (((qh >> 2t) & 3) << 4): the high pair moved to bits 4-5 in one shift */
            const uint8x16_t u0 = vorrq_u8(vandq_u8(vshlq_u8(vld1q_u8(ql), shl), m4),
                                           vandq_u8(vshlq_u8(vld1q_u8(qh), shh), hm));
            const uint8x16_t u1 = vorrq_u8(vandq_u8(vshlq_u8(vld1q_u8(ql + 16), shl), m4),
                                           vandq_u8(vshlq_u8(vld1q_u8(qh + 16), shh), hm));
            llo = vmlaq_n_s32(llo, dot4x4(vreinterpretq_s8_u8(u0), ld_s8(q8 + 32 * r)), sc[2 * r]);
            lhi = vmlaq_n_s32(lhi, dot4x4(vreinterpretq_s8_u8(u1), ld_s8(q8 + 32 * r + 16)), sc[2 * r + 1]);
        }
        /* the offset -32 through the bsums: lane k takes sub-blocks 2k, 2k+1 */
        const int16x8_t b0 = ld_s16(y + LRQ_Q8K_BSUMS), b1 = ld_s16(y + LRQ_Q8K_BSUMS + 16);
        const int8x16_t scv = vld1q_s8(sc);
        const int16x8_t s0 = vmovl_s8(vget_low_s8(scv)), s1 = vmovl_high_s8(scv);
        const int32x4_t o0 = vpaddq_s32(vmull_s16(vget_low_s16(b0), vget_low_s16(s0)), vmull_high_s16(b0, s0));
        const int32x4_t o1 = vpaddq_s32(vmull_s16(vget_low_s16(b1), vget_low_s16(s1)), vmull_high_s16(b1, s1));
        llo = vsubq_s32(llo, vshlq_n_s32(o0, 5));
        lhi = vsubq_s32(lhi, vshlq_n_s32(o1, 5));
        const float32x4_t d = vdupq_n_f32(lrq_k_f32(y + LRQ_Q8K_D) * lrq_k_f16(x + LRQ_Q6K_D));
        alo = vfmaq_f32(alo, d, vcvtq_f32_s32(llo));
        ahi = vfmaq_f32(ahi, d, vcvtq_f32_s32(lhi));
    }
    *s = hsum8(alo, ahi);
}
