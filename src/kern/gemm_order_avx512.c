/* gemm_order_avx512.c — AVX-512 tile kernels for F16 and BF16 matmuls in
 * llama.cpp's exact "gemm" (tinyBLAS) order (order.h; contract in gemm.h,
 * lrq_gemm_order_get): every output is bit-identical to the order kernel
 * f16_gemm / bf16_gemm of lrq_order_ref() for its (weight row, activation
 * row) pair.
 *
 * Why this keeps the order: the specification keeps ONE 16-lane accumulator
 * per output, lane l taking element 16i + l (BF16: the pair 32i + 2l,
 * 32i + 2l + 1) of every step i in turn, then reduces it with hsum16. A zmm
 * register is exactly that accumulator, so a tile just runs TR x TC such
 * chains side by side; each chain sees the same operations in the same order
 * as the per-output kernel. What is shared: the conversion of a weight row's
 * step serves TC outputs, that of an activation row's step TR outputs, and
 * the horizontal sums are done 16 outputs at a time with the same pairings.
 *
 * BF16 adds each lane's odd product, then its even one, each with one fused
 * multiply-add under FTZ|DAZ, as the spec does (order_ref.c dpbf16).
 *
 * Compiled with the AVX-512 F/BW/VL/DQ flags; only called when the CPU has
 * them (gemm.c). */
#include "kern/gemm.h"
#include "kern/bf16_csr.h"
#include "core/core.h"

#include "kern/hsum_avx512.h"

#include <immintrin.h>

/* Tiles: F16 4 rows x 6 tokens (24 accumulators + 4 weight vectors + 1
 * activation vector = 29 of the 32 zmm registers); BF16 needs two vectors
 * (odd, even) per operand, so 4 x 4. */
#define F16_TR 4
#define F16_TC 6
#define BF16_TR 4
#define BF16_TC 4
#define MAX_TN 24

/* Reduces the accumulators acc[r * tc + c] of a tr x tc tile and stores the
 * nr x nc real outputs: C[c * cs + r]. */
static inline void reduce_store(const __m512 *acc, int tr, int tc, int nr, int nc, float *C, size_t cs) {
    const int tn = tr * tc;
    float o[MAX_TN + 16];
    for (int g = 0; g < tn; g += 16) {
        __m512 v[16];
        for (int i = 0; i < 16; i++) v[i] = acc[g + i < tn ? g + i : tn - 1]; /* padding: computed, dropped */
        float t[16];
        _mm512_storeu_ps(t, lrq_hsum16x16(v));
        for (int i = 0; i < 16; i++) o[g + i] = t[4 * (i % 4) + i / 4];
    }
    for (int c = 0; c < nc; c++)
        for (int r = 0; r < nr; r++) C[(size_t)c * cs + (size_t)r] = o[r * tc + c];
}

static inline __m512 ld_f16(const uint8_t *p) { return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(const void *)p)); }

void lrq_gemm_order_f16_avx512(int64_t K, const void *W, size_t ws, int nr, const void *A, size_t as, int nc,
                               float *C, size_t cs) {
    LRQ_ASSERT(K % 16 == 0 && nr >= 1 && nr <= F16_TR && nc >= 1 && nc <= F16_TC);
    const uint8_t *w[F16_TR], *a[F16_TC];
    /* rows/columns past nr/nc repeat the last real one (computed, never stored) */
    for (int r = 0; r < F16_TR; r++) w[r] = (const uint8_t *)W + (size_t)(r < nr ? r : nr - 1) * ws;
    for (int c = 0; c < F16_TC; c++) a[c] = (const uint8_t *)A + (size_t)(c < nc ? c : nc - 1) * as;
    __m512 acc[F16_TR * F16_TC];
    for (int i = 0; i < F16_TR * F16_TC; i++) acc[i] = _mm512_setzero_ps();
    for (size_t off = 0; off < (size_t)K * 2; off += 32) {
        __m512 wv[F16_TR];
        for (int r = 0; r < F16_TR; r++) wv[r] = ld_f16(w[r] + off);
        for (int c = 0; c < F16_TC; c++) {
            const __m512 av = ld_f16(a[c] + off);
            for (int r = 0; r < F16_TR; r++) acc[r * F16_TC + c] = _mm512_fmadd_ps(wv[r], av, acc[r * F16_TC + c]);
        }
    }
    reduce_store(acc, F16_TR, F16_TC, nr, nc, C, cs);
}

void lrq_gemm_order_bf16_avx512(int64_t K, const void *W, size_t ws, int nr, const void *A, size_t as, int nc,
                                float *C, size_t cs) {
    LRQ_ASSERT(K % 32 == 0 && nr >= 1 && nr <= BF16_TR && nc >= 1 && nc <= BF16_TC);
    const uint8_t *w[BF16_TR], *a[BF16_TC];
    for (int r = 0; r < BF16_TR; r++) w[r] = (const uint8_t *)W + (size_t)(r < nr ? r : nr - 1) * ws;
    for (int c = 0; c < BF16_TC; c++) a[c] = (const uint8_t *)A + (size_t)(c < nc ? c : nc - 1) * as;
    /* A bf16 is the top half of a float: lane l's odd element (high 16 bits
     * of its 32-bit word) masked, its even one shifted up. */
    const __m512i hi = _mm512_set1_epi32((int)0xffff0000u);
    __m512 acc[BF16_TR * BF16_TC];
    for (int i = 0; i < BF16_TR * BF16_TC; i++) acc[i] = _mm512_setzero_ps();
    const unsigned int csr = lrq_bf16_csr_enter();
    for (size_t off = 0; off < (size_t)K * 2; off += 64) {
        __m512 wo[BF16_TR], we[BF16_TR];
        for (int r = 0; r < BF16_TR; r++) {
            const __m512i x = _mm512_loadu_si512((const void *)(w[r] + off));
            wo[r] = _mm512_castsi512_ps(_mm512_and_si512(x, hi));
            we[r] = _mm512_castsi512_ps(_mm512_slli_epi32(x, 16));
        }
        for (int c = 0; c < BF16_TC; c++) {
            const __m512i y = _mm512_loadu_si512((const void *)(a[c] + off));
            const __m512 ao = _mm512_castsi512_ps(_mm512_and_si512(y, hi));
            const __m512 ae = _mm512_castsi512_ps(_mm512_slli_epi32(y, 16));
            for (int r = 0; r < BF16_TR; r++) {
                __m512 *s = &acc[r * BF16_TC + c];
                *s = _mm512_fmadd_ps(we[r], ae, _mm512_fmadd_ps(wo[r], ao, *s));
            }
        }
    }
    lrq_bf16_csr_leave(csr);
    reduce_store(acc, BF16_TR, BF16_TC, nr, nc, C, cs);
}

/* The same BF16 tile with the vdpbf16ps instruction itself (CPUs with
 * AVX512_BF16, as llama.cpp's tinyBLAS uses it): one instruction per
 * accumulator and 32-element step instead of two FMAs and four conversions,
 * so a 4 x 6 tile fits the registers as for F16. Lane l of the instruction
 * adds the odd product of the pair 32i + 2l, +1 and then the even one with
 * DAZ/FTZ — the spec's dpbf16 (tests/test_gemm_order.c checks it on
 * subnormal, underflowing and overflowing data). Compiled for the extension
 * by the target attribute; only called when the CPU has it (gemm.c). */
#define BF16NI_TR 4
#define BF16NI_TC 6
__attribute__((target("avx512bf16")))
void lrq_gemm_order_bf16_avx512bf16(int64_t K, const void *W, size_t ws, int nr, const void *A, size_t as, int nc,
                                    float *C, size_t cs) {
    LRQ_ASSERT(K % 32 == 0 && nr >= 1 && nr <= BF16NI_TR && nc >= 1 && nc <= BF16NI_TC);
    const uint8_t *w[BF16NI_TR], *a[BF16NI_TC];
    for (int r = 0; r < BF16NI_TR; r++) w[r] = (const uint8_t *)W + (size_t)(r < nr ? r : nr - 1) * ws;
    for (int c = 0; c < BF16NI_TC; c++) a[c] = (const uint8_t *)A + (size_t)(c < nc ? c : nc - 1) * as;
    __m512 acc[BF16NI_TR * BF16NI_TC];
    for (int i = 0; i < BF16NI_TR * BF16NI_TC; i++) acc[i] = _mm512_setzero_ps();
    for (size_t off = 0; off < (size_t)K * 2; off += 64) {
        __m512bh wv[BF16NI_TR];
        for (int r = 0; r < BF16NI_TR; r++) wv[r] = (__m512bh)_mm512_loadu_si512((const void *)(w[r] + off));
        for (int c = 0; c < BF16NI_TC; c++) {
            const __m512bh av = (__m512bh)_mm512_loadu_si512((const void *)(a[c] + off));
            for (int r = 0; r < BF16NI_TR; r++)
                acc[r * BF16NI_TC + c] = _mm512_dpbf16_ps(acc[r * BF16NI_TC + c], wv[r], av);
        }
    }
    reduce_store(acc, BF16NI_TR, BF16NI_TC, nr, nc, C, cs);
}
