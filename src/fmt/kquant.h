/* kquant.h — byte layout of the k-quant blocks (Q2_K..Q6_K, Q8_K) shared by
 * fmt/kquant.c and the dot kernels in src/kern/dot_k_*.c, plus the reference
 * weight quantizers (llama-quantize without an importance matrix).
 *
 * The blocks are ggml's block_q*_K structs, little-endian, read here as raw
 * bytes (offsets below) so that no alignment is assumed: rows straight out of
 * an mmap'ed GGUF file or an activation buffer can be used at any address.
 * Every block covers LRQ_QK_K = 256 values.
 *
 *  type  bytes  layout (offset: field)
 *  Q2_K   84    0: scales[16] (low nibble scale, high nibble min)  16: qs[64] (2-bit)
 *               80: d (f16)  82: dmin (f16)
 *  Q3_K  110    0: hmask[32] (3rd bit)  32: qs[64] (low 2 bits)  96: scales[12] (16 x 6-bit)
 *               108: d (f16)
 *  Q4_K  144    0: d  2: dmin (f16)  4: scales[12] (8 scales + 8 mins, 6-bit)  16: qs[128]
 *  Q5_K  176    0: d  2: dmin  4: scales[12]  16: qh[32] (5th bit)  48: qs[128]
 *  Q6_K  210    0: ql[128] (low 4 bits)  128: qh[64] (high 2 bits)  192: scales[16] (int8)
 *               208: d (f16)
 *  Q8_K  292    0: d (f32)  4: qs[256] (int8)  260: bsums[16] (int16, sums of 16 qs)
 */
#ifndef LRQ_FMT_KQUANT_H
#define LRQ_FMT_KQUANT_H

#include <stdint.h>
#include <string.h>

#include "core/core.h"

enum {
    LRQ_Q2K_SCALES = 0, LRQ_Q2K_QS = 16, LRQ_Q2K_D = 80, LRQ_Q2K_DMIN = 82, LRQ_Q2K_SIZE = 84,
    LRQ_Q3K_HMASK = 0, LRQ_Q3K_QS = 32, LRQ_Q3K_SCALES = 96, LRQ_Q3K_D = 108, LRQ_Q3K_SIZE = 110,
    LRQ_Q4K_D = 0, LRQ_Q4K_DMIN = 2, LRQ_Q4K_SCALES = 4, LRQ_Q4K_QS = 16, LRQ_Q4K_SIZE = 144,
    LRQ_Q5K_D = 0, LRQ_Q5K_DMIN = 2, LRQ_Q5K_SCALES = 4, LRQ_Q5K_QH = 16, LRQ_Q5K_QS = 48,
    LRQ_Q5K_SIZE = 176,
    LRQ_Q6K_QL = 0, LRQ_Q6K_QH = 128, LRQ_Q6K_SCALES = 192, LRQ_Q6K_D = 208, LRQ_Q6K_SIZE = 210,
    LRQ_Q8K_D = 0, LRQ_Q8K_QS = 4, LRQ_Q8K_BSUMS = 260, LRQ_Q8K_SIZE = 292
};

/* Little-endian field readers (alignment-free). */
static inline uint16_t lrq_k_u16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t lrq_k_u32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline float lrq_k_f16(const uint8_t *p) { return lrq_f16_to_f32(lrq_k_u16(p)); }
static inline float lrq_k_f32(const uint8_t *p) { return lrq_bits_to_f32(lrq_k_u32(p)); }
static inline int16_t lrq_k_i16(const uint8_t *p) { return (int16_t)lrq_k_u16(p); }

/* Q4_K / Q5_K: the 6-bit scales sc[0..7] and mins m[0..7] packed in 12 bytes.
 * Bytes 0-3 hold sc[0..3] in their low 6 bits, bytes 4-7 m[0..3]; sub-blocks
 * 4..7 keep their low 4 bits in the nibbles of bytes 8-11 and their top 2 bits
 * in bits 6-7 of bytes 0-7. Written as 32-bit word operations so that SIMD
 * code can use the same formulas on four values at once. */
static inline void lrq_k4_scales(const uint8_t *q, uint8_t sc[8], uint8_t m[8]) {
    const uint32_t w0 = lrq_k_u32(q), w1 = lrq_k_u32(q + 4), w2 = lrq_k_u32(q + 8);
    const uint32_t s_lo = w0 & 0x3f3f3f3fu;
    const uint32_t m_lo = w1 & 0x3f3f3f3fu;
    const uint32_t s_hi = (w2 & 0x0f0f0f0fu) | (((w0 >> 6) & 0x03030303u) << 4);
    const uint32_t m_hi = ((w2 >> 4) & 0x0f0f0f0fu) | (((w1 >> 6) & 0x03030303u) << 4);
    for (int i = 0; i < 4; i++) {
        sc[i] = (uint8_t)(s_lo >> (8 * i));
        sc[i + 4] = (uint8_t)(s_hi >> (8 * i));
        m[i] = (uint8_t)(m_lo >> (8 * i));
        m[i + 4] = (uint8_t)(m_hi >> (8 * i));
    }
}

/* Q3_K: 16 signed 6-bit scales (stored +32) packed in 12 bytes: low nibbles
 * of scales 0..7 in the low nibbles of bytes 0-7, of scales 8..15 in their
 * high nibbles; the top 2 bits of scale j in bits 2*(j/4) of byte 8 + j%4.
 * Output: sc[j] in -32..31. */
static inline void lrq_k3_scales(const uint8_t *q, int8_t sc[16]) {
    const uint32_t w0 = lrq_k_u32(q), w1 = lrq_k_u32(q + 4), w2 = lrq_k_u32(q + 8);
    uint32_t w[4];
    w[0] = (w0 & 0x0f0f0f0fu) | ((w2 & 0x03030303u) << 4);
    w[1] = (w1 & 0x0f0f0f0fu) | (((w2 >> 2) & 0x03030303u) << 4);
    w[2] = ((w0 >> 4) & 0x0f0f0f0fu) | (((w2 >> 4) & 0x03030303u) << 4);
    w[3] = ((w1 >> 4) & 0x0f0f0f0fu) | (((w2 >> 6) & 0x03030303u) << 4);
    for (int j = 0; j < 16; j++) sc[j] = (int8_t)((int)((w[j / 4] >> (8 * (j % 4))) & 0xffu) - 32);
}

/* Reference weight quantizers: the exact bytes llama-quantize writes for these
 * types when no importance matrix is given (quantize_row_q*_K_ref in
 * llama.cpp v0.5.0). x: n floats (n % 256 == 0); y: n/256 blocks. */
void lrq_quant_ref_q2_K(const float *x, void *y, int64_t n);
void lrq_quant_ref_q3_K(const float *x, void *y, int64_t n);
void lrq_quant_ref_q4_K(const float *x, void *y, int64_t n);
void lrq_quant_ref_q5_K(const float *x, void *y, int64_t n);
void lrq_quant_ref_q6_K(const float *x, void *y, int64_t n);

#endif
