/* iquant.c — dequantization of llama.cpp's 256-value i-quant types IQ2_XXS,
 * IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S and IQ4_XS (layouts in fmt/iquant.h), bit
 * for bit what llama.cpp v0.5.0's dequantize_row_* give: the float
 * operations are the same ones in the same order — block scale
 * db = (d * (0.5 + ls)) * 0.25 (IQ2), (d * (0.5 + ls)) * 0.5 (IQ3_XXS),
 * d * (1 + 2 ls) (IQ3_S), d * (ls - 32) (IQ4_XS), then value = db * magnitude,
 * negated by its sign bit (a sign flip is exact). No FMA contraction
 * (-ffp-contract=off; the pragma for clang). Weights only: lrq does not
 * write these types (quantizers are elsewhere, fmt/quantize*.c). */
#include "fmt/impl.h"
#include "fmt/iquant.h"
#include "fmt/iq_grids.h"
#include "fmt/blocks.h"
#include "fmt/types.h"
#include "core/core.h"

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

static inline float f16at(const uint8_t *p) { return lrq_f16_to_f32(lrq_rd16(p)); }

/* y[0..7] = db * grid bytes, negated where bit j of `signs` is set. */
static inline void put8(float *y, float db, uint64_t grid, unsigned signs) {
    for (int j = 0; j < 8; j++) {
        const float v = db * (float)(uint8_t)(grid >> (8 * j));
        y[j] = (signs >> j) & 1 ? -v : v;
    }
}

/* y[0..3] = db * the 4 grid bytes, sign bits 0..3 of `signs`. */
static inline void put4(float *y, float db, uint32_t grid, unsigned signs) {
    for (int j = 0; j < 4; j++) {
        const float v = db * (float)(uint8_t)(grid >> (8 * j));
        y[j] = (signs >> j) & 1 ? -v : v;
    }
}

void lrq_dequant_iq2_xxs(const void *x, float *y, int64_t n) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    const uint8_t *b = x;
    for (int64_t i = 0; i < n / LRQ_QK_K; i++, b += LRQ_IQ2XXS_SIZE) {
        const float d = f16at(b + LRQ_IQ2XXS_D);
        for (int ib = 0; ib < 8; ib++) {
            const uint8_t *q = b + LRQ_IQ2XXS_QS + 8 * ib;
            const uint32_t aux = lrq_rd32(q + 4);
            const float db = d * (0.5f + (float)(aux >> 28)) * 0.25f;
            for (int l = 0; l < 4; l++, y += 8)
                put8(y, db, lrq_iq2xxs_grid[q[l]], lrq_iq_ksigns[(aux >> (7 * l)) & 127]);
        }
    }
}

void lrq_dequant_iq2_xs(const void *x, float *y, int64_t n) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    const uint8_t *b = x;
    for (int64_t i = 0; i < n / LRQ_QK_K; i++, b += LRQ_IQ2XS_SIZE) {
        const float d = f16at(b + LRQ_IQ2XS_D);
        for (int ib = 0; ib < 8; ib++) {
            const uint8_t sc = b[LRQ_IQ2XS_SCALES + ib];
            const float db[2] = {d * (0.5f + (float)(sc & 0xf)) * 0.25f, d * (0.5f + (float)(sc >> 4)) * 0.25f};
            for (int l = 0; l < 4; l++, y += 8) {
                const uint16_t q = lrq_rd16(b + LRQ_IQ2XS_QS + 2 * (4 * ib + l));
                put8(y, db[l / 2], lrq_iq2xs_grid[q & 511], lrq_iq_ksigns[q >> 9]);
            }
        }
    }
}

void lrq_dequant_iq2_s(const void *x, float *y, int64_t n) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    const uint8_t *b = x;
    for (int64_t i = 0; i < n / LRQ_QK_K; i++, b += LRQ_IQ2S_SIZE) {
        const float d = f16at(b + LRQ_IQ2S_D);
        for (int ib = 0; ib < 8; ib++) {
            const uint8_t sc = b[LRQ_IQ2S_SCALES + ib];
            const float db[2] = {d * (0.5f + (float)(sc & 0xf)) * 0.25f, d * (0.5f + (float)(sc >> 4)) * 0.25f};
            for (int l = 0; l < 4; l++, y += 8)
                put8(y, db[l / 2], lrq_iq2s_grid[lrq_iq2s_index(b, ib, l)], b[LRQ_IQ2S_SIGNS + 4 * ib + l]);
        }
    }
}

void lrq_dequant_iq3_xxs(const void *x, float *y, int64_t n) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    const uint8_t *b = x;
    for (int64_t i = 0; i < n / LRQ_QK_K; i++, b += LRQ_IQ3XXS_SIZE) {
        const float d = f16at(b + LRQ_IQ3XXS_D);
        for (int ib = 0; ib < 8; ib++) {
            const uint8_t *q = b + LRQ_IQ3XXS_QS + 8 * ib;
            const uint32_t aux = lrq_rd32(b + LRQ_IQ3XXS_SS + 4 * ib);
            const float db = d * (0.5f + (float)(aux >> 28)) * 0.5f;
            for (int l = 0; l < 4; l++, y += 8) {
                const unsigned s = lrq_iq_ksigns[(aux >> (7 * l)) & 127];
                put4(y, db, lrq_iq3xxs_grid[q[2 * l]], s);
                put4(y + 4, db, lrq_iq3xxs_grid[q[2 * l + 1]], s >> 4);
            }
        }
    }
}

void lrq_dequant_iq3_s(const void *x, float *y, int64_t n) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    const uint8_t *b = x;
    for (int64_t i = 0; i < n / LRQ_QK_K; i++, b += LRQ_IQ3S_SIZE) {
        const float d = f16at(b + LRQ_IQ3S_D);
        for (int ib = 0; ib < 8; ib++) {
            const int ls = (b[LRQ_IQ3S_SCALES + ib / 2] >> (4 * (ib % 2))) & 0xf;
            const float db = d * (float)(1 + 2 * ls);
            for (int l = 0; l < 4; l++, y += 8) {
                const unsigned s = b[LRQ_IQ3S_SIGNS + 4 * ib + l];
                put4(y, db, lrq_iq3s_grid[lrq_iq3s_index(b, ib, 2 * l)], s);
                put4(y + 4, db, lrq_iq3s_grid[lrq_iq3s_index(b, ib, 2 * l + 1)], s >> 4);
            }
        }
    }
}

void lrq_dequant_iq4_xs(const void *x, float *y, int64_t n) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    const uint8_t *b = x;
    for (int64_t i = 0; i < n / LRQ_QK_K; i++, b += LRQ_IQ4XS_SIZE) {
        const float d = f16at(b + LRQ_IQ4XS_D);
        for (int ib = 0; ib < 8; ib++, y += 32) {
            const float dl = d * (float)(lrq_iq4xs_scale(b, ib) - 32);
            const uint8_t *q = b + LRQ_IQ4XS_QS + 16 * ib;
            for (int j = 0; j < 16; j++) {
                y[j] = dl * (float)lrq_iq4nl_grid[q[j] & 0xf];
                y[j + 16] = dl * (float)lrq_iq4nl_grid[q[j] >> 4];
            }
        }
    }
}
