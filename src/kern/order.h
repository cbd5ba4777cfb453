/* order.h — dot products and exp in llama.cpp's exact floating-point order.
 *
 * Why: for F16/BF16 weights llama.cpp rounds every matmul input to F16/BF16.
 * A 1-ulp difference upstream (from a different summation order) sometimes
 * flips one such rounding and moves the logits by 1e-4..1e-3, more than the
 * 1e-4 lrq promises against llama.cpp's exact dumps. So for those weights,
 * and for attention (whose output feeds them), lrq reproduces the reference
 * build's operation order (x86-64 AVX-512, GCC):
 *  - hsum16: _mm512_reduce_add_ps as GCC implements it: lanes i+8 onto i,
 *    then i+4 onto i, then (0+2) + (1+3).
 *  - "gemm" order (llamafile tinyBLAS, used for >= 2 tokens when K % 16 == 0
 *    (BF16: K % 32) and the row count % 4 == 0): one 16-lane FMA accumulator
 *    per output, then hsum16. BF16 lanes add the odd then the even product of
 *    each pair (vdpbf16ps), each with one fused multiply-add (bf16 products
 *    are exact in float, so this is vdpbf16ps's rounding wherever the product
 *    neither under- nor overflows).
 *  - "vec" order (ggml_vec_dot_f32/_f16/_bf16 otherwise): four (BF16: two)
 *    16-lane accumulators per 64 elements, combined (0+2),(1+3), 0+1 (BF16:
 *    each reduced into a double), hsum16; tails: F16/BF16 add exact products
 *    in double; F32 adds rounded products one by one for whole groups of 8 and
 *    fuses the last n % 8 (how GCC 12 vectorised ggml's scalar tail loop).
 *  - exp: ggml_v_expf's polynomial (round(x/ln2) by the 1.5*2^23 trick, two
 *    FMA steps for the reduced argument, degree-5 Estrin polynomial, * 2^n).
 * The *_ref functions (order_ref.c) are the specification, written with
 * fmaf (exactly rounded in C11); order_avx2.c computes the same bits faster.
 */
#ifndef LRQ_ORDER_H
#define LRQ_ORDER_H

#include <stdint.h>

typedef struct lrq_order_kernels {
    float (*f32_gemm)(int64_t n, const float *x, const float *y);  /* n % 16 == 0 */
    float (*f32_vec)(int64_t n, const float *x, const float *y);
    /* Weight row x (F16/BF16) . activation row y of the same type: */
    void (*f16_gemm)(int64_t n, float *s, const void *x, const void *y);  /* n % 16 == 0 */
    void (*f16_vec)(int64_t n, float *s, const void *x, const void *y);
    void (*bf16_gemm)(int64_t n, float *s, const void *x, const void *y); /* n % 32 == 0 */
    void (*bf16_vec)(int64_t n, float *s, const void *x, const void *y);
    /* Many rows against one vector (attention: every key against one query,
     * every value dimension against one row of weights): out[r] = f32_vec /
     * f32_gemm (n, x + r * xs, y) for r < nr, bit-identical to nr separate
     * calls. xs is the row stride in floats. */
    void (*f32_vec_rows)(int64_t n, const float *x, int64_t xs, int nr, const float *y, float *out);
    void (*f32_gemm_rows)(int64_t n, const float *x, int64_t xs, int nr, const float *y, float *out); /* n % 16 == 0 */
    /* y[i] = exp(x[i]) in ggml_v_expf's arithmetic. */
    void (*exp)(int64_t n, const float *x, float *y);
} lrq_order_kernels;

/* The fastest implementation for this CPU (follows lrq_types_isa()). */
const lrq_order_kernels *lrq_order_get(void);
/* The scalar specification. */
const lrq_order_kernels *lrq_order_ref(void);
/* The implementation for a given SIMD level ("avx2"), whether or not it is
 * the selected one (tests; the caller checks that the CPU has it); NULL if
 * there is none for that level. */
const lrq_order_kernels *lrq_order_get_isa(const char *isa);

/* Scalar pieces shared by the implementations. */
float lrq_order_hsum16(const float *a);
float lrq_order_exp1(float x);

#endif
