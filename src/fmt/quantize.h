/* quantize.h — quantizing weight rows into llama.cpp's block types, as
 * llama-quantize writes them: the entry point `lrq quantize` and the tests
 * call. Without an importance matrix a type's reference quantizer (its
 * traits row's quantize_ref) is what llama-quantize runs for it; with one,
 * the importance-weighted searches of llama.cpp's quantize_<type> functions
 * (fmt/quant_imat.c, fmt/quant_iq4.c; declared in fmt/quant_imat.h) are used.
 */
#ifndef LRQ_FMT_QUANTIZE_H
#define LRQ_FMT_QUANTIZE_H

#include <stdint.h>

/* 1 if rows of `type` can be written with (imat != 0) or without an
 * importance matrix. */
int lrq_quantize_supported(int type, int imat);

/* Quantize nrow rows of n_per_row floats (x: [nrow][n_per_row]) into y:
 * nrow consecutive rows of lrq_row_size(type, n_per_row) bytes, byte for
 * byte what llama-quantize writes for the same input. imatrix: NULL, or
 * n_per_row importance weights (one per input column, the values of an
 * imatrix GGUF's "<tensor>.in_sum2" divided by its counts). Returns 0, or
 * -1 with lrq_err_set (unsupported type/imatrix combination, n_per_row not a
 * multiple of the block size, negative sizes); y is then unspecified. */
int lrq_quantize_rows(int type, const float *x, void *y, int64_t nrow, int64_t n_per_row, const float *imatrix);

#endif
