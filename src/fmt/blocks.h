/* blocks.h — byte layouts of llama.cpp's "legacy" 32-value block types and
 * the little-endian field readers every format and kernel file uses. The
 * k-quant layouts (256-value super-blocks) are in fmt/kquant.h.
 *
 * Blocks are read as raw little-endian bytes, never through C structs, so a
 * row straight out of an mmap'ed GGUF (any alignment) can be used as it is.
 *
 *  type    bytes  layout                          value
 *  q4_0     18    d f16 | qs[16]                  (nibble - 8) * d
 *  q4_1     20    d f16 | m f16 | qs[16]          nibble * d + m
 *  q5_0     22    d f16 | qh[4] | qs[16]          ((nibble | bit << 4) - 16) * d
 *  q5_1     24    d f16 | m f16 | qh[4] | qs[16]  (nibble | bit << 4) * d + m
 *  q8_0     34    d f16 | qs[32] int8             q * d
 *  q8_1     36    d f16 | s f16 | qs[32]          q * d; s = d * sum(qs) (f16)
 *  iq4_nl   18    d f16 | qs[16]                  d * lrq_iq4nl_grid[nibble]
 * In the 4-bit types byte j of qs holds element j in its low nibble and
 * element j + 16 in its high nibble; bit i of qh is the fifth bit of element i.
 */
#ifndef LRQ_FMT_BLOCKS_H
#define LRQ_FMT_BLOCKS_H

#include <stdint.h>

#define LRQ_QK0 32 /* values per legacy block */

enum {
    LRQ_Q4_0_SIZE = 18, LRQ_Q4_1_SIZE = 20, LRQ_Q5_0_SIZE = 22, LRQ_Q5_1_SIZE = 24,
    LRQ_Q8_0_SIZE = 34, LRQ_Q8_1_SIZE = 36, LRQ_IQ4NL_SIZE = 18
};

/* The IQ4_NL grid: a constant of the file format (ggml's kvalues_iq4nl,
 * public data), defined once in fmt/legacy.c. */
extern const int8_t lrq_iq4nl_grid[16];

/* Little-endian field readers (alignment-free; one load on LE compilers). */
static inline uint16_t lrq_rd16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t lrq_rd32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

#endif
