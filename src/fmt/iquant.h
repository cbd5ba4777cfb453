/* iquant.h — byte layout of llama.cpp's 256-value i-quant blocks (IQ2_XXS,
 * IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S, IQ4_XS), shared by fmt/iquant.c (exact
 * dequantization) and the dot kernels in src/kern/dot_iq_*.c. Blocks are
 * read as raw little-endian bytes at any alignment, as in kquant.h.
 *
 * Values come in sub-blocks of 32 (ib = 0..7), made of groups of 8 (IQ2_*:
 * one 8-wide grid point per group) or 4 (IQ3_*: one 4-wide point per half
 * group). Grids and sign tables: fmt/iq_grids.h. The 4-bit scales ls are
 * used as odd integers 2*ls + 1 on the fp16 super-block scale d.
 *
 *  type     bytes  layout (offset: field)
 *  IQ2_XXS   66    0: d  2: 8 x (u32: grid indices of groups 0..3, one byte
 *                  each; u32: 4 x 7 sign bits, group l in bits 7l..7l+6, ls
 *                  in bits 28..31); value = d * (0.5 + ls) / 4 * grid * sign
 *  IQ2_XS    74    0: d  2: qs[32] u16 (9-bit grid index | 7 sign bits << 9)
 *                  66: scales[8] (low nibble: groups 0-1 of sub-block ib,
 *                  high nibble: groups 2-3); value as IQ2_XXS
 *  IQ2_S     82    0: d  2: qs[32] (grid index low 8 bits)  34: signs[32]
 *                  (8 bits per group)  66: qh[8] (2 high index bits per
 *                  group: group l of sub-block ib in bits 2l..2l+1)
 *                  74: scales[8] (as IQ2_XS)
 *  IQ3_XXS   98    0: d  2: qs[64] (8-bit index into the 4-wide grid)
 *                  66: 8 x u32 (4 x 7 sign bits for the 8-groups, ls in bits
 *                  28..31); value = d * (0.5 + ls) / 2 * grid * sign
 *  IQ3_S    110    0: d  2: qs[64] (index low 8 bits)  66: qh[8] (the 9th
 *                  index bit of the 8 points of sub-block ib)  74: signs[32]
 *                  106: scales[4] (ls of sub-block 2i in the low nibble of
 *                  byte i, of 2i+1 in the high); value = d * (1 + 2 ls) * ...
 *  IQ4_XS   136    0: d  2: scales_h u16 (2 high bits of sub-block ib's 6-bit
 *                  scale at bits 2ib)  4: scales_l[4] (its low 4 bits, nibble
 *                  ib%2 of byte ib/2)  8: qs[128] (16 bytes per sub-block:
 *                  element j in the low nibble of byte j, element j+16 in
 *                  the high); value = d * (ls - 32) * lrq_iq4nl_grid[nibble]
 */
#ifndef LRQ_FMT_IQUANT_H
#define LRQ_FMT_IQUANT_H

#include <stdint.h>

enum {
    LRQ_IQ2XXS_D = 0, LRQ_IQ2XXS_QS = 2, LRQ_IQ2XXS_SIZE = 66,
    LRQ_IQ2XS_D = 0, LRQ_IQ2XS_QS = 2, LRQ_IQ2XS_SCALES = 66, LRQ_IQ2XS_SIZE = 74,
    LRQ_IQ2S_D = 0, LRQ_IQ2S_QS = 2, LRQ_IQ2S_SIGNS = 34, LRQ_IQ2S_QH = 66, LRQ_IQ2S_SCALES = 74,
    LRQ_IQ2S_SIZE = 82,
    LRQ_IQ3XXS_D = 0, LRQ_IQ3XXS_QS = 2, LRQ_IQ3XXS_SS = 66, LRQ_IQ3XXS_SIZE = 98,
    LRQ_IQ3S_D = 0, LRQ_IQ3S_QS = 2, LRQ_IQ3S_QH = 66, LRQ_IQ3S_SIGNS = 74, LRQ_IQ3S_SCALES = 106,
    LRQ_IQ3S_SIZE = 110,
    LRQ_IQ4XS_D = 0, LRQ_IQ4XS_SH = 2, LRQ_IQ4XS_SL = 4, LRQ_IQ4XS_QS = 8, LRQ_IQ4XS_SIZE = 136
};

/* IQ2_S: the 10-bit grid index of group l (0..3) of sub-block ib. */
static inline int lrq_iq2s_index(const uint8_t *blk, int ib, int l) {
    return blk[LRQ_IQ2S_QS + 4 * ib + l] | ((blk[LRQ_IQ2S_QH + ib] << (8 - 2 * l)) & 0x300);
}

/* IQ3_S: the 9-bit grid index of 4-wide point k (0..7) of sub-block ib. */
static inline int lrq_iq3s_index(const uint8_t *blk, int ib, int k) {
    return blk[LRQ_IQ3S_QS + 8 * ib + k] | ((blk[LRQ_IQ3S_QH + ib] << (8 - k)) & 0x100);
}

/* IQ4_XS: the 6-bit scale (0..63; the multiplier is ls - 32) of sub-block ib. */
static inline int lrq_iq4xs_scale(const uint8_t *blk, int ib) {
    const int sh = blk[LRQ_IQ4XS_SH] | (blk[LRQ_IQ4XS_SH + 1] << 8);
    return ((blk[LRQ_IQ4XS_SL + ib / 2] >> (4 * (ib % 2))) & 0xf) | (((sh >> (2 * ib)) & 3) << 4);
}

#endif
