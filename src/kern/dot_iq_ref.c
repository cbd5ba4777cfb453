/* dot_iq_ref.c — scalar reference dot products of an i-quant weight row
 * (IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S, IQ4_XS; layouts in fmt/iquant.h)
 * with a Q8_K activation row: the specification that dot_iq_avx2.c and
 * dot_iq_avx512.c reproduce bit for bit.
 *
 * lrq_dot_<t>_ref is the arithmetic of llama.cpp v0.5.0's x86 CPU backend
 * (ggml_vec_dot_iq*_q8_K in ggml-cpu/arch/x86/quants.c, its __AVX2__ code,
 * which AVX-512 builds such as the one behind ../shared/golden also run;
 * these types are never repacked and, without AMX, have no other path) —
 * lrq's convention for every block type (see dot_k_ref.c). Per block of 256
 * all products of grid magnitudes, signs, scales and activation codes are
 * exact integers, kept in 8 lanes — lane k holds the values e with
 * (e % 32) / 4 == k, as for the k-quants — and each lane accumulates
 * acc[k] = fma(d_x * d_y, (float)lane[k], acc[k]) over the blocks. The
 * result is c * (((a0+a4) + (a2+a6)) + ((a1+a5) + (a3+a7))) (k_hsum8), c
 * undoing the integer scale encoding: 1/8 for IQ2_* (value =
 * d (2 ls + 1) grid / 8), 1/4 for IQ3_XXS, 1 for IQ3_S and IQ4_XS.
 *
 * lrq_dot_<t>_generic is what llama.cpp's portable C code computes
 * (ggml_vec_dot_*_q8_K_generic in ggml-cpu/quants.c, used by builds
 * without AVX2): the same integers, but one float sum
 * sumf += (d_x * d_y) * (float)block_sum per block (IQ4_XS: per sub-block of
 * 32, sumf += (d_x * d_y * (ls - 32)) * (float)sub_sum), then c * sumf. It is
 * not registered as a kernel; the tests hold it to the reference within
 * float rounding.
 *
 * One integer detail: llama.cpp's x86 code applies a weight's sign to the
 * activation code with an 8-bit negation (_mm256_sign_epi8, or (q ^ m) - m),
 * so a code of -128 stays -128 when negated; its generic code multiplies by
 * -1 in int (giving +128). lrq's Q8_K quantizer (like llama.cpp's) only
 * produces -127..127, where both are the plain product; the reference states
 * the 8-bit rule so that every kernel agrees on any input bytes, the
 * generic variant keeps llama.cpp's int product.
 */
#include "kern/dots.h"
#include "fmt/iquant.h"
#include "fmt/iq_grids.h"
#include "fmt/kquant.h"
#include "fmt/blocks.h"
#include "fmt/types.h"

#include <math.h>

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

/* One block decoded to what the integer sums need: magnitudes (grid bytes,
 * or |IQ4 value|), which values are negative, and the integer scale of each
 * group of 16 values. */
typedef struct {
    uint8_t mag[LRQ_QK_K];
    uint8_t neg[LRQ_QK_K];
    int32_t sc16[16];
} iq_block;

static float k_hsum8(const float a[8]) {
    const float t0 = a[0] + a[4], t1 = a[1] + a[5], t2 = a[2] + a[6], t3 = a[3] + a[7];
    const float u0 = t0 + t2, u1 = t1 + t3;
    return u0 + u1;
}

/* The activation code with the weight's sign applied (8-bit negation). */
static inline int32_t signed_code(int8_t q, int neg) { return neg ? (int8_t)(uint8_t)(0u - (uint8_t)q) : q; }

static void lanes_of(const iq_block *b, const int8_t *q8, int32_t lane[8]) {
    for (int k = 0; k < 8; k++) lane[k] = 0;
    for (int e = 0; e < LRQ_QK_K; e++)
        lane[(e % 32) / 4] += b->sc16[e / 16] * b->mag[e] * signed_code(q8[e], b->neg[e]);
}

static void put_grid8(iq_block *b, int e0, uint64_t grid, unsigned signs) {
    for (int j = 0; j < 8; j++) {
        b->mag[e0 + j] = (uint8_t)(grid >> (8 * j));
        b->neg[e0 + j] = (uint8_t)((signs >> j) & 1);
    }
}

static void put_grid4(iq_block *b, int e0, uint32_t grid, unsigned signs) {
    for (int j = 0; j < 4; j++) {
        b->mag[e0 + j] = (uint8_t)(grid >> (8 * j));
        b->neg[e0 + j] = (uint8_t)((signs >> j) & 1);
    }
}

static void decode_iq2_xxs(const uint8_t *x, iq_block *b) {
    for (int ib = 0; ib < 8; ib++) {
        const uint8_t *q = x + LRQ_IQ2XXS_QS + 8 * ib;
        const uint32_t aux = lrq_rd32(q + 4);
        b->sc16[2 * ib] = b->sc16[2 * ib + 1] = 2 * (int32_t)(aux >> 28) + 1;
        for (int l = 0; l < 4; l++)
            put_grid8(b, 32 * ib + 8 * l, lrq_iq2xxs_grid[q[l]], lrq_iq_ksigns[(aux >> (7 * l)) & 127]);
    }
}

static void decode_iq2_xs(const uint8_t *x, iq_block *b) {
    for (int ib = 0; ib < 8; ib++) {
        const uint8_t sc = x[LRQ_IQ2XS_SCALES + ib];
        b->sc16[2 * ib] = 2 * (sc & 0xf) + 1;
        b->sc16[2 * ib + 1] = 2 * (sc >> 4) + 1;
        for (int l = 0; l < 4; l++) {
            const uint16_t q = lrq_rd16(x + LRQ_IQ2XS_QS + 2 * (4 * ib + l));
            put_grid8(b, 32 * ib + 8 * l, lrq_iq2xs_grid[q & 511], lrq_iq_ksigns[q >> 9]);
        }
    }
}

static void decode_iq2_s(const uint8_t *x, iq_block *b) {
    for (int ib = 0; ib < 8; ib++) {
        const uint8_t sc = x[LRQ_IQ2S_SCALES + ib];
        b->sc16[2 * ib] = 2 * (sc & 0xf) + 1;
        b->sc16[2 * ib + 1] = 2 * (sc >> 4) + 1;
        for (int l = 0; l < 4; l++)
            put_grid8(b, 32 * ib + 8 * l, lrq_iq2s_grid[lrq_iq2s_index(x, ib, l)], x[LRQ_IQ2S_SIGNS + 4 * ib + l]);
    }
}

static void decode_iq3_xxs(const uint8_t *x, iq_block *b) {
    for (int ib = 0; ib < 8; ib++) {
        const uint8_t *q = x + LRQ_IQ3XXS_QS + 8 * ib;
        const uint32_t aux = lrq_rd32(x + LRQ_IQ3XXS_SS + 4 * ib);
        b->sc16[2 * ib] = b->sc16[2 * ib + 1] = 2 * (int32_t)(aux >> 28) + 1;
        for (int l = 0; l < 4; l++) {
            const unsigned s = lrq_iq_ksigns[(aux >> (7 * l)) & 127];
            put_grid4(b, 32 * ib + 8 * l, lrq_iq3xxs_grid[q[2 * l]], s);
            put_grid4(b, 32 * ib + 8 * l + 4, lrq_iq3xxs_grid[q[2 * l + 1]], s >> 4);
        }
    }
}

static void decode_iq3_s(const uint8_t *x, iq_block *b) {
    for (int ib = 0; ib < 8; ib++) {
        const int ls = (x[LRQ_IQ3S_SCALES + ib / 2] >> (4 * (ib % 2))) & 0xf;
        b->sc16[2 * ib] = b->sc16[2 * ib + 1] = 2 * ls + 1;
        for (int l = 0; l < 4; l++) {
            const unsigned s = x[LRQ_IQ3S_SIGNS + 4 * ib + l];
            put_grid4(b, 32 * ib + 8 * l, lrq_iq3s_grid[lrq_iq3s_index(x, ib, 2 * l)], s);
            put_grid4(b, 32 * ib + 8 * l + 4, lrq_iq3s_grid[lrq_iq3s_index(x, ib, 2 * l + 1)], s >> 4);
        }
    }
}

static void decode_iq4_xs(const uint8_t *x, iq_block *b) {
    for (int ib = 0; ib < 8; ib++) {
        b->sc16[2 * ib] = b->sc16[2 * ib + 1] = lrq_iq4xs_scale(x, ib) - 32;
        const uint8_t *q = x + LRQ_IQ4XS_QS + 16 * ib;
        for (int j = 0; j < 32; j++) {
            const int v = lrq_iq4nl_grid[j < 16 ? q[j] & 0xf : q[j - 16] >> 4];
            b->mag[32 * ib + j] = (uint8_t)(v < 0 ? -v : v);
            b->neg[32 * ib + j] = v < 0;
        }
    }
}

/* The common float part: n/256 blocks of `bsize` bytes, fp16 d at offset 0. */
static float dot_lanes(int64_t n, const uint8_t *x, size_t bsize, const uint8_t *y,
                       void (*decode)(const uint8_t *, iq_block *), float c) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    float acc[8] = {0};
    iq_block b;
    for (int64_t i = 0; i < n / LRQ_QK_K; i++, x += bsize, y += LRQ_Q8K_SIZE) {
        decode(x, &b);
        int32_t lane[8];
        lanes_of(&b, (const int8_t *)(y + LRQ_Q8K_QS), lane);
        const float d = lrq_k_f16(x) * lrq_k_f32(y + LRQ_Q8K_D);
        for (int k = 0; k < 8; k++) acc[k] = fmaf(d, (float)lane[k], acc[k]);
    }
    return c * k_hsum8(acc);
}

/* *s = dot(x: n/256 weight blocks of the named type, y: n/256 Q8_K blocks), n % 256 == 0. */
void lrq_dot_iq2_xxs_ref(int64_t n, float *s, const void *x, const void *y) {
    *s = dot_lanes(n, x, LRQ_IQ2XXS_SIZE, y, decode_iq2_xxs, 0.125f);
}
void lrq_dot_iq2_xs_ref(int64_t n, float *s, const void *x, const void *y) {
    *s = dot_lanes(n, x, LRQ_IQ2XS_SIZE, y, decode_iq2_xs, 0.125f);
}
void lrq_dot_iq2_s_ref(int64_t n, float *s, const void *x, const void *y) {
    *s = dot_lanes(n, x, LRQ_IQ2S_SIZE, y, decode_iq2_s, 0.125f);
}
void lrq_dot_iq3_xxs_ref(int64_t n, float *s, const void *x, const void *y) {
    *s = dot_lanes(n, x, LRQ_IQ3XXS_SIZE, y, decode_iq3_xxs, 0.25f);
}
void lrq_dot_iq3_s_ref(int64_t n, float *s, const void *x, const void *y) {
    *s = dot_lanes(n, x, LRQ_IQ3S_SIZE, y, decode_iq3_s, 1.0f);
}
void lrq_dot_iq4_xs_ref(int64_t n, float *s, const void *x, const void *y) {
    *s = dot_lanes(n, x, LRQ_IQ4XS_SIZE, y, decode_iq4_xs, 1.0f);
}

/* ---------------------------------------------- llama.cpp's generic order -- */

/* The integer sum of sub-block ib's values e in [e0, e0 + 16), without its
 * scale, signs applied as an int product (llama.cpp's generic code). */
static int32_t half_sum(const iq_block *b, const int8_t *q8, int e0) {
    int32_t s = 0;
    for (int e = e0; e < e0 + 16; e++) s += b->mag[e] * (b->neg[e] ? -q8[e] : q8[e]);
    return s;
}

static float dot_generic(int64_t n, const uint8_t *x, size_t bsize, const uint8_t *y,
                         void (*decode)(const uint8_t *, iq_block *), float c) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    float sumf = 0.0f;
    iq_block b;
    for (int64_t i = 0; i < n / LRQ_QK_K; i++, x += bsize, y += LRQ_Q8K_SIZE) {
        decode(x, &b);
        const int8_t *q8 = (const int8_t *)(y + LRQ_Q8K_QS);
        int32_t bsum = 0;
        for (int h = 0; h < 16; h++) bsum += b.sc16[h] * half_sum(&b, q8, 16 * h);
        const float d = lrq_k_f16(x) * lrq_k_f32(y + LRQ_Q8K_D);
        sumf += d * (float)bsum;
    }
    return c * sumf;
}

/* *s = dot(x: n/256 weight blocks of the named type, y: n/256 Q8_K blocks),
 * n % 256 == 0, in llama.cpp's generic float order (see the file comment). */
void lrq_dot_iq2_xxs_generic(int64_t n, float *s, const void *x, const void *y) {
    *s = dot_generic(n, x, LRQ_IQ2XXS_SIZE, y, decode_iq2_xxs, 0.125f);
}
void lrq_dot_iq2_xs_generic(int64_t n, float *s, const void *x, const void *y) {
    *s = dot_generic(n, x, LRQ_IQ2XS_SIZE, y, decode_iq2_xs, 0.125f);
}
void lrq_dot_iq2_s_generic(int64_t n, float *s, const void *x, const void *y) {
    *s = dot_generic(n, x, LRQ_IQ2S_SIZE, y, decode_iq2_s, 0.125f);
}
void lrq_dot_iq3_xxs_generic(int64_t n, float *s, const void *x, const void *y) {
    *s = dot_generic(n, x, LRQ_IQ3XXS_SIZE, y, decode_iq3_xxs, 0.25f);
}
void lrq_dot_iq3_s_generic(int64_t n, float *s, const void *x, const void *y) {
    *s = dot_generic(n, x, LRQ_IQ3S_SIZE, y, decode_iq3_s, 1.0f);
}

/* IQ4_XS: one float term per sub-block, its scale folded into the float
 * factor (llama.cpp: d1 = d4d8 * (ls - 32); sumf += d1 * (sumi1 + sumi2)). */
void lrq_dot_iq4_xs_generic(int64_t n, float *s, const void *vx, const void *vy) {
    LRQ_ASSERT(n % LRQ_QK_K == 0);
    const uint8_t *x = vx, *y = vy;
    float sumf = 0.0f;
    iq_block b;
    for (int64_t i = 0; i < n / LRQ_QK_K; i++, x += LRQ_IQ4XS_SIZE, y += LRQ_Q8K_SIZE) {
        decode_iq4_xs(x, &b);
        const int8_t *q8 = (const int8_t *)(y + LRQ_Q8K_QS);
        const float d = lrq_k_f16(x) * lrq_k_f32(y + LRQ_Q8K_D);
        for (int ib = 0; ib < 8; ib++) {
            const float dl = d * (float)b.sc16[2 * ib];
            sumf += dl * (float)(half_sum(&b, q8, 32 * ib) + half_sum(&b, q8, 32 * ib + 16));
        }
    }
    *s = sumf;
}
