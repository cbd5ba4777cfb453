/* gemm.h — tile ("micro-GEMM") kernels: one call computes a small block of
 * a matrix product, R weight rows against NC activation rows, so that the
 * per-row work (decoding weights, converting scales) is shared by NC outputs,
 * the per-activation work by R outputs, and the final horizontal reductions
 * are done for many outputs at once.
 *
 * Bit-identity contract: every output of a tile kernel is bit for bit the
 * float that the vec_dot kernel of the same type and ISA returns for that
 * (weight row, activation row) pair — the same integer partial sums per
 * float lane, the same float roundings in the same order, the same final
 * reduction — so a matmul gives the same numbers however its activation
 * rows are grouped into batches. tests/test_gemm.c checks this.
 *
 * The x86 kernels live in gemm_avx512.c and gemm_avx2.c; gemm.c picks them.
 */
#ifndef LRQ_GEMM_H
#define LRQ_GEMM_H

#include <stddef.h>
#include <stdint.h>

#include "fmt/types.h"

/* C[c * c_stride + r] = dot(W row r, A row c) for 0 <= r < nr, 0 <= c < nc,
 * where W row r starts at (const char *)W + r * w_stride (K values of the
 * weight type) and A row c at (const char *)A + c * a_stride (K values of the
 * weight type's vec_dot_type). K must be a multiple of the weight type's
 * block size; 1 <= nr <= tile_rows and 1 <= nc <= tile_cols (a partial tile
 * costs as much as a full one: the missing rows/columns are computed from
 * duplicated inputs and not stored). No alignment is required. c_stride
 * counts floats. */
/* (lrq_gemm_fn is declared in fmt/types.h, where the traits row holds one.) */

/* The tile kernel for weight type `type` at the ISA selected by
 * lrq_types_init() (lrq_types_isa(), LRQ_ISA), with its tile size in
 * *tile_rows x *tile_cols; NULL (sizes 0) if there is none — then use the
 * type's vec_dot. Also NULL if the type's selected vec_dot is not the kernel
 * the tile reproduces, so the bit-identity contract cannot silently break. */
lrq_gemm_fn lrq_gemm_get(int type, int *tile_rows, int *tile_cols);

/* The tile kernel for `type` at a given ISA ("avx512", "avx2"), whether or
 * not that ISA is the selected one (for tests and benchmarks; the caller
 * checks that the CPU has it), and in *dot the vec_dot kernel it is
 * bit-identical to. NULL if there is none. */
lrq_gemm_fn lrq_gemm_get_isa(int type, const char *isa, int *tile_rows, int *tile_cols, lrq_vec_dot_fn *dot);

/* The kernels (K, W, w_stride, nr, A, a_stride, nc, C, c_stride as above). */
#define LRQ_DECL_GEMM(t, isa)                                                                          \
    void lrq_gemm_##t##_##isa(int64_t K, const void *W, size_t w_stride, int nr, const void *A, size_t a_stride, \
                              int nc, float *C, size_t c_stride);
LRQ_DECL_GEMM(f32, avx512)
LRQ_DECL_GEMM(f16, avx512)
LRQ_DECL_GEMM(q4_0, avx512)
LRQ_DECL_GEMM(q5_0, avx512)
LRQ_DECL_GEMM(q8_0, avx512)
LRQ_DECL_GEMM(iq4_nl, avx512)
LRQ_DECL_GEMM(q2_K, avx512)
LRQ_DECL_GEMM(q3_K, avx512)
LRQ_DECL_GEMM(q4_K, avx512)
LRQ_DECL_GEMM(q5_K, avx512)
LRQ_DECL_GEMM(q6_K, avx512)
LRQ_DECL_GEMM(iq2_xxs, avx512)
LRQ_DECL_GEMM(iq2_xs, avx512)
LRQ_DECL_GEMM(iq2_s, avx512)
LRQ_DECL_GEMM(iq3_xxs, avx512)
LRQ_DECL_GEMM(iq3_s, avx512)
LRQ_DECL_GEMM(iq4_xs, avx512)
LRQ_DECL_GEMM(f32, avx2)
LRQ_DECL_GEMM(f16, avx2)
LRQ_DECL_GEMM(q4_0, avx2)
LRQ_DECL_GEMM(q8_0, avx2)
LRQ_DECL_GEMM(q2_K, avx2)
LRQ_DECL_GEMM(q3_K, avx2)
LRQ_DECL_GEMM(q4_K, avx2)
LRQ_DECL_GEMM(q5_K, avx2)
LRQ_DECL_GEMM(q6_K, avx2)
LRQ_DECL_GEMM(order_f16, avx512)
LRQ_DECL_GEMM(order_bf16, avx512)
LRQ_DECL_GEMM(order_bf16, avx512bf16)
LRQ_DECL_GEMM(order_f16, avx2)
LRQ_DECL_GEMM(order_bf16, avx2)
#undef LRQ_DECL_GEMM

/* Tile kernels in llama.cpp's exact "gemm" order for F16/BF16 weights
 * (kern/order.h; gemm_order_avx512.c, gemm_order_avx2.c). Same signature as
 * lrq_gemm_fn, with activation rows of the weight's own type (F16 x F16,
 * BF16 x BF16); K must be a multiple of 16 (F16) or 32 (BF16). Contract:
 * every output is bit-identical to the order kernel f16_gemm / bf16_gemm of
 * lrq_order_ref() (and so of lrq_order_get()) for its pair of rows — not to
 * the type's vec_dot, whose order differs. tests/test_gemm_order.c checks it.
 *
 * lrq_gemm_order_get: the kernel for the selected ISA (lrq_types_isa()),
 * NULL (sizes 0) for other types or the scalar ISA — then use the order
 * kernel once per output. At the avx512 level, BF16 uses the vdpbf16ps
 * kernel when the CPU has AVX512_BF16 (lrq_cpu_has_avx512bf16).
 * lrq_gemm_order_get_isa: at a given ISA ("avx512bf16" — BF16 only —,
 * "avx512", "avx2") whether or not it is selected (tests and benchmarks; the
 * caller checks the CPU has it). */
lrq_gemm_fn lrq_gemm_order_get(int type, int *tile_rows, int *tile_cols);
lrq_gemm_fn lrq_gemm_order_get_isa(int type, const char *isa, int *tile_rows, int *tile_cols);

/* 1 if lrq runs at its avx512 level and the CPU also has AVX512_BF16 (vdpbf16ps), else 0. */
int lrq_cpu_has_avx512bf16(void);

#endif
