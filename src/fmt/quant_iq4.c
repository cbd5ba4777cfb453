/* quant_iq4.c — the two non-linear 4-bit types' weight quantizers, IQ4_NL
 * (32-value blocks, one f16 scale) and IQ4_XS (256-value super-blocks of 8
 * such blocks with 6-bit block scales under one f16), with and without an
 * importance matrix, and IQ4_XS rows back to float. Both are one algorithm
 * in llama.cpp v0.5.0 (ggml-quants.c quantize_row_iq4_nl_impl, as called by
 * quantize_iq4_nl / quantize_iq4_xs with 7 extra scale trials per side):
 * restated here, one float operation at a time in llama.cpp's order.
 *
 * Per block of 32: weights w = qw * sqrt(sigma2 + x^2) (sigma2 = twice the
 * super-block's mean square) with an importance matrix, x^2 without; the
 * scale is the best weighted least-squares fit over 16 trial inverse
 * scales. IQ4_XS then quantizes the 8 block scales against the largest
 * (6 bits, signed) and re-picks every code with its rounded block scale;
 * IQ4_NL re-picks them with the fitted float scale.
 *
 * IQ4_XS block (136 bytes): 0: d f16 | 2: scales_h u16 (bits 2b..2b+1: high
 * bits of block b's scale + 32) | 4: scales_l[4] (block b's low nibble in
 * nibble b%2 of byte b/2) | 8: qs[128] (block b at 16*b, IQ4_NL order).
 */
#include "fmt/quant_imat.h"

#include "core/core.h"
#include "fmt/blocks.h"
#include "fmt/impl.h"
#include "fmt/quant_fit.h"

#include <math.h>
#include <string.h>

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#define IQ4XS_SIZE 136
#define NTRY 7


/* ggml-base's fp32 -> fp16 (every NaN -> canonical quiet NaN). */
static inline void put_h(uint8_t *p, float f) {
    uint32_t u = lrq_f32_to_bits(f);
    uint16_t h = (u & 0x7fffffffu) > 0x7f800000u ? (uint16_t)(((u >> 16) & 0x8000u) | 0x7e00u) : lrq_f32_to_f16(f);
    p[0] = (uint8_t)h;
    p[1] = (uint8_t)(h >> 8);
}

/* Index of the grid value nearest to v (grid ascending); on an exact tie
 * between neighbours the upper one (ggml's best_index_int8). */
static int nearest(float v) {
    const int8_t *g = lrq_iq4nl_grid;
    if (v <= (float)g[0]) return 0;
    if (v >= (float)g[15]) return 15;
    int lo = 0, hi = 15;
    while (hi - lo > 1) {
        int mid = (lo + hi) / 2;
        if (v < (float)g[mid]) hi = mid;
        else lo = mid;
    }
    return v - (float)g[hi - 1] < (float)g[hi] - v ? hi - 1 : hi;
}

/* sum w*q*x and sum w*q*q for the codes that inverse scale id gives. */
static void trial(const float *xb, const float *w, float id, float *sqx, float *sq2) {
    float sumqx = 0.0f, sumq2 = 0.0f;
    for (int j = 0; j < 32; j++) {
        const float q = (float)lrq_iq4nl_grid[nearest(id * xb[j])];
        sumqx += w[j] * q * xb[j];
        sumq2 += w[j] * q * q;
    }
    *sqx = sumqx;
    *sq2 = sumq2;
}

/* The fitted scale of one block of 32 (0 for an all-zero block). */
static float fit_block(const float *xb, const float *w) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < 32; j++) {
        const float ax = fabsf(xb[j]);
        if (ax > amax) {
            amax = ax;
            max = xb[j];
        }
    }
    if (amax < 1e-15f) return 0.0f;
    const float g0 = (float)lrq_iq4nl_grid[0];
    float d = -max / g0, sumqx, sumq2;
    trial(xb, w, 1.0f / d, &sumqx, &sumq2);
    d = sumq2 > 0.0f ? sumqx / sumq2 : 0.0f;
    float best = d * sumqx;
    for (int itry = -NTRY; itry <= NTRY; itry++) {
        const float id = (float)(itry + lrq_iq4nl_grid[0]) / max;
        trial(xb, w, id, &sumqx, &sumq2);
        if (sumq2 > 0.0f && sumqx * sumqx > best * sumq2) {
            d = sumqx / sumq2;
            best = d * sumqx;
        }
    }
    return d;
}

/* Weights of block ib of a super-block x of sb values (qw: its sb
 * importances, or NULL). */
static void block_w(const float *x, int sb, int ib, const float *qw, float *w) {
    const float *xb = x + 32 * ib;
    if (qw) {
        float sigma2 = 0.0f;
        for (int j = 0; j < sb; j++) sigma2 += x[j] * x[j];
        sigma2 *= 2.0f / (float)sb;
        for (int j = 0; j < 32; j++) w[j] = qw[32 * ib + j] * sqrtf(sigma2 + xb[j] * xb[j]);
    } else {
        for (int j = 0; j < 32; j++) w[j] = xb[j] * xb[j];
    }
}

static void pack_codes(const uint8_t *L, uint8_t *qs) {
    for (int j = 0; j < 16; j++) qs[j] = (uint8_t)(L[j] | (L[j + 16] << 4));
}

/* One IQ4_NL block of 32 (18 bytes). */
static void iq4nl_block(const float *x, uint8_t *y, const float *qw) {
    float w[32];
    uint8_t L[32];
    block_w(x, 32, 0, qw, w);
    const float scale = fit_block(x, w);
    put_h(y, scale);
    /* final codes from the float scale, not the f16-rounded one */
    const float id = scale != 0.0f ? 1.0f / scale : 0.0f;
    for (int j = 0; j < 32; j++) L[j] = (uint8_t)nearest(id * x[j]);
    pack_codes(L, y + 2);
}

void lrq_quant_ref_iq4_nl(const float *x, void *vy, int64_t n) {
    LRQ_ASSERT(n % 32 == 0);
    uint8_t *y = vy;
    for (int64_t b = 0; b < n / 32; b++) iq4nl_block(x + 32 * b, y + 18 * b, NULL);
}

void lrq_quant_imat_iq4_nl(const float *x, void *vy, int64_t n, const float *qw) {
    LRQ_ASSERT(n % 32 == 0);
    uint8_t *y = vy;
    for (int64_t b = 0; b < n / 32; b++) iq4nl_block(x + 32 * b, y + 18 * b, qw + 32 * b);
}

/* One IQ4_XS super-block of 256 (136 bytes). */
static void iq4xs_block(const float *x, uint8_t *y, const float *qw) {
    float w[32], scales[8];
    float max_scale = 0.0f, amax_scale = 0.0f;
    for (int ib = 0; ib < 8; ib++) {
        block_w(x, 256, ib, qw, w);
        scales[ib] = fit_block(x + 32 * ib, w);
        const float a = fabsf(scales[ib]);
        if (a > amax_scale) {
            amax_scale = a;
            max_scale = scales[ib];
        }
    }
    const float d = -max_scale / 32.0f;
    put_h(y, d);
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    uint16_t sh = 0;
    uint8_t *sl = y + 4, L[32];
    memset(sl, 0, 4);
    for (int ib = 0; ib < 8; ib++) {
        int l = lrq_k_round(id * scales[ib]);
        l = l < -32 ? -32 : l > 31 ? 31 : l;
        const float dl = d * (float)l;
        const float idl = dl != 0.0f ? 1.0f / dl : 0.0f;
        for (int j = 0; j < 32; j++) L[j] = (uint8_t)nearest(idl * x[32 * ib + j]);
        pack_codes(L, y + 8 + 16 * ib);
        l += 32;
        sl[ib / 2] = (uint8_t)(sl[ib / 2] | ((l & 0xf) << (4 * (ib % 2))));
        sh = (uint16_t)(sh | ((l >> 4) << (2 * ib)));
    }
    y[2] = (uint8_t)sh;
    y[3] = (uint8_t)(sh >> 8);
}

void lrq_quant_ref_iq4_xs(const float *x, void *vy, int64_t n) {
    LRQ_ASSERT(n % 256 == 0);
    uint8_t *y = vy;
    for (int64_t b = 0; b < n / 256; b++) iq4xs_block(x + 256 * b, y + IQ4XS_SIZE * b, NULL);
}

void lrq_quant_imat_iq4_xs(const float *x, void *vy, int64_t n, const float *qw) {
    LRQ_ASSERT(n % 256 == 0);
    uint8_t *y = vy;
    for (int64_t b = 0; b < n / 256; b++) iq4xs_block(x + 256 * b, y + IQ4XS_SIZE * b, qw + 256 * b);
}
