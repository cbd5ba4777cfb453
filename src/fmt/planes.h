/* planes.h — the code array of a "planes" tensor (LRQ_PARAMS_PLANES, see
 * fmt/tensor.h): b-bit unsigned codes, b in {2, 3, 4, 5, 6, 8}, stored apart from
 * their quantization parameters.
 *
 * Layout (the contract every kernel reads):
 *  - a row of n codes is one dense little-endian bit stream: code j occupies
 *    bits [j*b, j*b + b) of the row, bit i of the row being bit (i % 8) of
 *    byte i / 8; the low bit of a code is its least significant bit. So for
 *    b = 2 byte 0 holds codes 0..3 (code 0 in bits 0-1), for b = 4 code 0 is
 *    the low nibble, and for b = 3 eight codes fill exactly three bytes, a
 *    code may straddle two bytes (code 2 = bits 6-7 of byte 0 + bit 0 of
 *    byte 1); likewise 8 codes of b = 5 fill 5 bytes and 4 codes of b = 6
 *    fill 3 bytes (codes straddle byte boundaries there too);
 *  - every row starts on a byte boundary: the row stride is
 *    ceil(n * b / 8) bytes, and the unused high bits of a row's last byte are
 *    zero (the packer writes them so; readers ignore them);
 *  - rows follow each other ([ne1][stride]); the parameters live in separate
 *    float planes scale/zero [n_sets][ne1][n / group] (fmt/tensor.h).
 * Why dense, also for 3, 5 and 6 bits: the codes are what a matrix-vector product
 * streams from memory, so their size is the cost; padding 3-bit codes to 4
 * would cost a third more traffic.
 */
#ifndef LRQ_FMT_PLANES_H
#define LRQ_FMT_PLANES_H

#include <stddef.h>
#include <stdint.h>

/* 1 if b is a supported code width (2, 3, 4, 5, 6 or 8). */
int lrq_planes_bits_ok(int bits);

/* Bytes of one row of n codes of `bits` bits: ceil(n * bits / 8), in *out.
 * Returns 0, or -1 (with lrq_err_set) if bits is unsupported, n < 0 or the
 * size overflows size_t. */
int lrq_planes_row_bytes(int bits, int64_t n, size_t *out);

/* Bytes of an [ne1][ne0] code array (ne1 rows of lrq_planes_row_bytes).
 * Returns 0, or -1 (with lrq_err_set) on bad arguments or overflow. */
int lrq_planes_codes_bytes(int bits, int64_t ne0, int64_t ne1, size_t *out);

/* Reference packer: n codes (each < 2^bits, one per byte in `codes`) into
 * one row `out` of lrq_planes_row_bytes(bits, n) bytes, padding bits zero.
 * Returns 0, or -1 (with lrq_err_set, `out` then partly written) on bad
 * arguments or a code that does not fit in `bits` bits. */
int lrq_planes_pack_row(int bits, int64_t n, const uint8_t *codes, uint8_t *out);

/* Reference unpacker: the n codes of row `row` into `codes` (one per byte).
 * Returns 0, or -1 (with lrq_err_set) on bad arguments. */
int lrq_planes_unpack_row(int bits, int64_t n, const uint8_t *row, uint8_t *codes);

/* Code j of a packed row (bits valid, j within the row). Reads only the
 * bytes that hold bits of code j, so it never reads past the row. */
static inline unsigned lrq_planes_code(const uint8_t *row, int bits, int64_t j) {
    const uint64_t p = (uint64_t)j * (uint64_t)bits;
    const size_t byte = (size_t)(p >> 3);
    const unsigned sh = (unsigned)(p & 7);
    unsigned v = (unsigned)row[byte] >> sh;
    if (sh + (unsigned)bits > 8) v |= (unsigned)row[byte + 1] << (8 - sh); /* straddles (3, 5, 6 bits) */
    return v & ((1u << bits) - 1u);
}

#endif
