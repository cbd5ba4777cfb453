/* quant_imat.c — importance-weighted weight quantizers: what llama-quantize
 * v0.5.0 writes for Q4_0, Q4_1, Q5_0, Q5_1 and Q2_K..Q6_K when given an
 * importance matrix (ggml-quants.c quantize_row_<type>_impl with
 * quant_weights). Block layouts: fmt/legacy.c, fmt/kquant.h.
 *
 * Each value's weight is its column's importance qw times
 * sqrt(sigma2 + x^2): sigma2 is the mean square of the row (legacy types)
 * or of the 256-value super-block (k-quants, twice it except for Q2_K).
 * The searches themselves are kquant.c's (fmt/quant_fit.h) plus
 * fit_positive below (make_qp_quants), which the k-quants use to quantize
 * their block scales and mins against the block weights.
 *
 * Exactness: same float operations in the same order as llama.cpp (no FMA
 * contraction: ggml-base is built without it), and the same integer types
 * where llama.cpp stores a code in a uint8_t before reusing it.
 */
#include "fmt/quant_imat.h"

#include "core/core.h"
#include "fmt/kquant.h"
#include "fmt/quant_fit.h"
#include "fmt/types.h"

#include <math.h>
#include <string.h>

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#define GROUP_EPS 1e-15f

static inline int mini(int a, int b) { return a < b ? a : b; }

/* ggml-base's fp32 -> fp16 (every NaN -> canonical quiet NaN). */
static inline void put_h(uint8_t *p, float f) {
    uint32_t u = lrq_f32_to_bits(f);
    uint16_t h = (u & 0x7fffffffu) > 0x7f800000u ? (uint16_t)(((u >> 16) & 0x8000u) | 0x7e00u) : lrq_f32_to_f16(f);
    p[0] = (uint8_t)h;
    p[1] = (uint8_t)(h >> 8);
}
static inline float get_h(const uint8_t *p) { return lrq_f16_to_f32((uint16_t)(p[0] | (p[1] << 8))); }
static inline void put_u32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

/* make_qp_quants: codes L in 0..nmax for n non-negative values x (block
 * scales or mins) with weights qw, returning their common scale: 9 trial
 * scales by weighted squared error, then up to 5 passes of coordinate
 * descent on the least-squares fit. The codes go through uint8_t as in
 * llama.cpp (a negative x would wrap; it cannot win the fit). */
static float fit_positive(int n, int nmax, const float *x, uint8_t *L, const float *qw) {
    float max = 0.0f;
    for (int i = 0; i < n; i++) max = max > x[i] ? max : x[i];
    if (max < GROUP_EPS) {
        memset(L, 0, (size_t)n);
        return 0.0f;
    }
    float iscale = (float)nmax / max;
    for (int i = 0; i < n; i++) L[i] = (uint8_t)lrq_k_round(iscale * x[i]);
    float scale = 1.0f / iscale;
    float best_mse = 0.0f;
    for (int i = 0; i < n; i++) {
        const float diff = x[i] - scale * (float)L[i];
        best_mse += qw[i] * diff * diff;
    }
    for (int is = -4; is <= 4; is++) {
        if (is == 0) continue;
        const float iscale_is = (0.1f * (float)is + (float)nmax) / max;
        const float scale_is = 1.0f / iscale_is;
        float mse = 0.0f;
        for (int i = 0; i < n; i++) {
            const int l = mini(nmax, lrq_k_round(iscale_is * x[i]));
            const float diff = x[i] - scale_is * (float)l;
            mse += qw[i] * diff * diff;
        }
        if (mse < best_mse) {
            best_mse = mse;
            iscale = iscale_is;
        }
    }
    float sumlx = 0.0f, suml2 = 0.0f;
    for (int i = 0; i < n; i++) {
        const int l = mini(nmax, lrq_k_round(iscale * x[i]));
        L[i] = (uint8_t)l;
        const float w = qw[i];
        sumlx += w * x[i] * (float)l;
        suml2 += w * (float)l * (float)l;
    }
    for (int pass = 0; pass < 5; pass++) {
        int changed = 0;
        for (int i = 0; i < n; i++) {
            const float w = qw[i];
            float slx = sumlx - w * x[i] * (float)L[i];
            float sl2 = suml2 - w * (float)L[i] * (float)L[i];
            if (slx > 0.0f && sl2 > 0.0f) {
                const int nl = mini(nmax, lrq_k_round(x[i] * sl2 / slx));
                if (nl != L[i]) {
                    slx += w * x[i] * (float)nl;
                    sl2 += w * (float)nl * (float)nl;
                    if (slx * slx * suml2 > sumlx * sumlx * sl2) {
                        L[i] = (uint8_t)nl;
                        sumlx = slx;
                        suml2 = sl2;
                        changed++;
                    }
                }
            }
        }
        if (!changed) break;
    }
    return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

/* ---------- legacy 32-blocks ---------- */

/* Mean square of the whole row: the legacy types' sigma2. */
static float row_sigma2(const float *x, int64_t n) {
    float s = 0.0f;
    for (int64_t j = 0; j < n; j++) s += x[j] * x[j];
    return s / (float)n;
}

static void block_weights(const float *xb, const float *qw, float sigma2, float *w) {
    for (int j = 0; j < 32; j++) w[j] = qw[j] * sqrtf(sigma2 + xb[j] * xb[j]);
}

void lrq_quant_imat_q4_0(const float *x, void *vy, int64_t n, const float *qw) {
    LRQ_ASSERT(n % 32 == 0);
    uint8_t *y = vy;
    const float sigma2 = row_sigma2(x, n);
    float w[32];
    int8_t L[32];
    for (int64_t b = 0; b < n / 32; b++, y += 18) {
        block_weights(x + 32 * b, qw + 32 * b, sigma2, w);
        put_h(y, lrq_k_fit_symmetric(32, 8, x + 32 * b, L, w));
        for (int j = 0; j < 16; j++) y[2 + j] = (uint8_t)(L[j] | (L[j + 16] << 4));
    }
}

void lrq_quant_imat_q5_0(const float *x, void *vy, int64_t n, const float *qw) {
    LRQ_ASSERT(n % 32 == 0);
    uint8_t *y = vy;
    const float sigma2 = row_sigma2(x, n);
    float w[32];
    int8_t L[32];
    for (int64_t b = 0; b < n / 32; b++, y += 22) {
        block_weights(x + 32 * b, qw + 32 * b, sigma2, w);
        put_h(y, lrq_k_fit_symmetric(32, 16, x + 32 * b, L, w));
        uint32_t qh = 0;
        for (int j = 0; j < 16; j++) {
            const uint8_t a = (uint8_t)L[j], c = (uint8_t)L[j + 16];
            y[6 + j] = (uint8_t)((a & 0x0f) | ((c & 0x0f) << 4));
            qh |= (uint32_t)((a & 0x10u) >> 4) << j;
            qh |= (uint32_t)((c & 0x10u) >> 4) << (j + 16);
        }
        put_u32(y + 2, qh);
    }
}

/* Q4_1 / Q5_1: affine fit (make_qkx3_quants, 37 trial scales); the block
 * stores d and the offset m = -min. */
static void quant_affine_row(const float *x, uint8_t *y, int64_t n, const float *qw, int nmax, int five) {
    const float sigma2 = row_sigma2(x, n);
    float w[32], min;
    uint8_t L[32], Laux[32];
    const int bsz = five ? 24 : 20;
    for (int64_t b = 0; b < n / 32; b++, y += bsz) {
        const float *xb = x + 32 * b;
        block_weights(xb, qw + 32 * b, sigma2, w);
        const float d = lrq_k_fit_affine(32, nmax, xb, w, L, &min, Laux, -0.9f, 0.05f, 36, 0);
        put_h(y, d);
        put_h(y + 2, -min);
        if (!five) {
            for (int j = 0; j < 16; j++) y[4 + j] = (uint8_t)(L[j] | (L[j + 16] << 4));
            continue;
        }
        uint32_t qh = 0;
        for (int j = 0; j < 16; j++) {
            const uint8_t a = L[j], c = L[j + 16];
            y[8 + j] = (uint8_t)((a & 0x0f) | ((c & 0x0f) << 4));
            qh |= (uint32_t)((a & 0x10u) >> 4) << j;
            qh |= (uint32_t)((c & 0x10u) >> 4) << (j + 16);
        }
        put_u32(y + 4, qh);
    }
}

void lrq_quant_imat_q4_1(const float *x, void *y, int64_t n, const float *qw) {
    LRQ_ASSERT(n % 32 == 0);
    quant_affine_row(x, y, n, qw, 15, 0);
}

void lrq_quant_imat_q5_1(const float *x, void *y, int64_t n, const float *qw) {
    LRQ_ASSERT(n % 32 == 0);
    quant_affine_row(x, y, n, qw, 31, 1);
}

/* ---------- k-quants ---------- */

static float block_sumsq(const float *x) {
    float s = 0.0f;
    for (int j = 0; j < LRQ_QK_K; j++) s += x[j] * x[j];
    return s;
}

void lrq_quant_imat_q2_K(const float *x, void *vy, int64_t n, const float *qw) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    uint8_t *y = vy;
    uint8_t L[LRQ_QK_K], Laux[16], Ls[16], Lm[16];
    float mins[16], scales[16], sw[16], w[16];
    for (int64_t b = 0; b < n / LRQ_QK_K; b++, x += LRQ_QK_K, qw += LRQ_QK_K, y += LRQ_Q2K_SIZE) {
        const float sigma2 = block_sumsq(x) / (float)LRQ_QK_K;
        for (int j = 0; j < 16; j++) {
            sw[j] = 0.0f;
            for (int l = 0; l < 16; l++) w[l] = qw[16 * j + l] * sqrtf(sigma2 + x[16 * j + l] * x[16 * j + l]);
            for (int l = 0; l < 16; l++) sw[j] += w[l];
            scales[j] = lrq_k_fit_affine(16, 3, x + 16 * j, w, L + 16 * j, &mins[j], Laux, -0.9f, 0.05f, 36, 0);
        }
        const float dm0 = fit_positive(16, 15, scales, Ls, sw);
        const float mm0 = fit_positive(16, 15, mins, Lm, sw);
        put_h(y + LRQ_Q2K_D, dm0);
        put_h(y + LRQ_Q2K_DMIN, mm0);
        const float dm = get_h(y + LRQ_Q2K_D), mm = get_h(y + LRQ_Q2K_DMIN);
        uint8_t *sc = y + LRQ_Q2K_SCALES;
        for (int j = 0; j < 16; j++) sc[j] = (uint8_t)(Ls[j] | (Lm[j] << 4));
        for (int j = 0; j < 16; j++) {
            const float d = dm * (float)(sc[j] & 0xf);
            if (d == 0.0f) continue;
            const float m = mm * (float)(sc[j] >> 4);
            for (int i = 0; i < 16; i++) L[16 * j + i] = (uint8_t)lrq_k_clamp(lrq_k_round((x[16 * j + i] + m) / d), 0, 3);
        }
        lrq_k_pack_2bit(L, y + LRQ_Q2K_QS);
    }
}

void lrq_quant_imat_q3_K(const float *x, void *vy, int64_t n, const float *qw) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    uint8_t *y = vy;
    int8_t L[LRQ_QK_K], Ls[16];
    float scales[16], sw[16], w[16];
    for (int64_t b = 0; b < n / LRQ_QK_K; b++, x += LRQ_QK_K, qw += LRQ_QK_K, y += LRQ_Q3K_SIZE) {
        const float sigma2 = 2.0f * block_sumsq(x) / (float)LRQ_QK_K;
        for (int j = 0; j < 16; j++) {
            for (int l = 0; l < 16; l++) w[l] = qw[16 * j + l] * sqrtf(sigma2 + x[16 * j + l] * x[16 * j + l]);
            float sumw = 0.0f;
            for (int l = 0; l < 16; l++) sumw += w[l];
            sw[j] = sumw;
            scales[j] = lrq_k_fit_symmetric(16, 4, x + 16 * j, L + 16 * j, w);
        }
        uint8_t *sc = y + LRQ_Q3K_SCALES;
        memset(sc, 0, 12);
        const float d_block = lrq_k_fit_symmetric(16, 32, scales, Ls, sw);
        for (int j = 0; j < 16; j++) {
            int l = Ls[j];
            if (j < 8) sc[j] = (uint8_t)(l & 0xf);
            else sc[j - 8] = (uint8_t)(sc[j - 8] | ((l & 0xf) << 4));
            l >>= 4;
            sc[8 + j % 4] = (uint8_t)(sc[8 + j % 4] | (l << (2 * (j / 4))));
        }
        put_h(y + LRQ_Q3K_D, d_block);
        int8_t s6[16];
        lrq_k3_scales(sc, s6);
        const float dq = get_h(y + LRQ_Q3K_D);
        for (int j = 0; j < 16; j++) {
            const float d = dq * (float)s6[j];
            if (d == 0.0f) continue;
            for (int i = 0; i < 16; i++) L[16 * j + i] = (int8_t)(lrq_k_clamp(lrq_k_round(x[16 * j + i] / d), -4, 3) + 4);
        }
        lrq_k3_pack_codes(L, y);
    }
}

/* Shared body of Q4_K and Q5_K with weights: 8 affine group fits, then the
 * 6-bit scales and mins by fit_positive against the groups' total weights
 * (Q5_K caps them at 63 as stored bytes; Q4_K stores them as they come),
 * then requantization with the rounded values. L gets codes 0..nmax. */
static void quant_k4_imat(const float *x, const float *qw, int nmax, int cap63, uint8_t *hdr, uint8_t *L) {
    uint8_t Laux[32], Ls[8], Lm[8];
    float w[32], sw[8], mins[8], scales[8];
    const float sigma2 = 2.0f * block_sumsq(x) / (float)LRQ_QK_K;
    for (int j = 0; j < 8; j++) {
        for (int l = 0; l < 32; l++) w[l] = qw[32 * j + l] * sqrtf(sigma2 + x[32 * j + l] * x[32 * j + l]);
        float sumw = 0.0f;
        for (int l = 0; l < 32; l++) sumw += w[l];
        sw[j] = sumw;
        scales[j] = lrq_k_fit_affine(32, nmax, x + 32 * j, w, L + 32 * j, &mins[j], Laux, -0.9f, 0.05f, 36, 0);
    }
    const float d_block = fit_positive(8, 63, scales, Ls, sw);
    const float m_block = fit_positive(8, 63, mins, Lm, sw);
    if (cap63)
        for (int j = 0; j < 8; j++) {
            if (Ls[j] > 63) Ls[j] = 63;
            if (Lm[j] > 63) Lm[j] = 63;
        }
    lrq_k4_pack_scales(Ls, Lm, hdr + 4);
    put_h(hdr + 0, d_block);
    put_h(hdr + 2, m_block);
    const float dq = get_h(hdr + 0), mq = get_h(hdr + 2);
    uint8_t sc[8], m[8];
    lrq_k4_scales(hdr + 4, sc, m);
    for (int j = 0; j < 8; j++) {
        const float d = dq * (float)sc[j];
        if (d == 0.0f) continue;
        const float dm = mq * (float)m[j];
        for (int i = 0; i < 32; i++) L[32 * j + i] = (uint8_t)lrq_k_clamp(lrq_k_round((x[32 * j + i] + dm) / d), 0, nmax);
    }
}

void lrq_quant_imat_q4_K(const float *x, void *vy, int64_t n, const float *qw) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    uint8_t *y = vy;
    uint8_t L[LRQ_QK_K];
    for (int64_t b = 0; b < n / LRQ_QK_K; b++, x += LRQ_QK_K, qw += LRQ_QK_K, y += LRQ_Q4K_SIZE) {
        quant_k4_imat(x, qw, 15, 0, y, L);
        uint8_t *qs = y + LRQ_Q4K_QS;
        for (int g = 0; g < 4; g++)
            for (int l = 0; l < 32; l++) qs[32 * g + l] = (uint8_t)(L[64 * g + l] | (L[64 * g + 32 + l] << 4));
    }
}

void lrq_quant_imat_q5_K(const float *x, void *vy, int64_t n, const float *qw) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    uint8_t *y = vy;
    uint8_t L[LRQ_QK_K];
    for (int64_t b = 0; b < n / LRQ_QK_K; b++, x += LRQ_QK_K, qw += LRQ_QK_K, y += LRQ_Q5K_SIZE) {
        quant_k4_imat(x, qw, 31, 1, y, L);
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

void lrq_quant_imat_q6_K(const float *x, void *y, int64_t n, const float *qw) { lrq_k_quant_q6_K(x, y, n, qw); }
