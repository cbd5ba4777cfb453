/* iq_grids.h — the constant tables of ggml's i-quant formats (data carried
 * over from ggml-common.h of llama.cpp v0.5.0; provenance in iq_grids.c).
 *
 * A grid entry packs 8 (uint64) or 4 (uint32) unsigned magnitudes, one per
 * byte, element j in byte j (little-endian). Magnitudes:
 *  lrq_iq2xxs_grid, lrq_iq2xs_grid, lrq_iq2s_grid   bytes in {8, 25, 43}
 *  lrq_iq3xxs_grid                                   bytes in {4, 12, 20, 28, 36, 44, 52, 62}
 *  lrq_iq3s_grid                                     bytes in {1, 3, ..., 15}
 * Signs: IQ2_XXS, IQ2_XS and IQ3_XXS store 7 sign bits per group of 8 values;
 * lrq_iq_ksigns[s] is the full 8-bit mask (bit 7 set so that the number of
 * minus signs is even). Bit j of a mask (lrq_iq_kmask[j] = 1 << j) makes
 * element j negative. IQ2_S and IQ3_S store all 8 sign bits. */
#ifndef LRQ_FMT_IQ_GRIDS_H
#define LRQ_FMT_IQ_GRIDS_H

#include <stdint.h>

extern const uint8_t lrq_iq_kmask[8];
extern const uint8_t lrq_iq_ksigns[128];
extern const uint64_t lrq_iq2xxs_grid[256];
extern const uint64_t lrq_iq2xs_grid[512];
extern const uint64_t lrq_iq2s_grid[1024];
extern const uint32_t lrq_iq3xxs_grid[256];
extern const uint32_t lrq_iq3s_grid[512];

#endif
