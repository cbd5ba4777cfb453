/* gemm_order_avx2.c — AVX2+FMA tile kernels for F16 and BF16 matmuls in
 * llama.cpp's exact "gemm" (tinyBLAS) order (order.h; contract in gemm.h,
 * lrq_gemm_order_get): every output is bit-identical to the order kernel
 * f16_gemm / bf16_gemm of lrq_order_ref() for its (weight row, activation
 * row) pair.
 *
 * Why this keeps the order: the specification's 16-lane accumulator per
 * output is two independent 8-lane chains (lanes 0-7 and 8-15; no operation
 * mixes them before hsum16). With 16 ymm registers a tile cannot hold both
 * halves of many outputs, so it runs the lanes 0-7 chains of all its outputs
 * over the whole row, then the lanes 8-15 chains ("passes"), and reduces
 * each output with hsum16's pairings. Shared work: the conversion of a
 * weight step serves TC outputs, that of an activation step TR outputs.
 *
 * BF16 adds each lane's odd product, then its even one, with separate mul
 * and add (see gemm_order_avx512.c for why not fma). */
#include "kern/gemm.h"
#include "kern/bf16_csr.h"
#include "core/core.h"

#include <immintrin.h>

#define TR 2 /* weight rows per tile */
#define TC 4 /* activation rows per tile */

/* order.h's hsum16 of the accumulator whose lanes 0-7 are lo and 8-15 hi. */
static inline float hsum16(__m256 lo, __m256 hi) {
    const __m256 t = _mm256_add_ps(hi, lo);                                              /* i+8 onto i */
    const __m128 u = _mm_add_ps(_mm256_extractf128_ps(t, 1), _mm256_castps256_ps128(t)); /* i+4 onto i */
    const __m128 v = _mm_add_ps(u, _mm_shuffle_ps(u, u, _MM_SHUFFLE(1, 0, 3, 2)));        /* 0+2, 1+3 */
    return _mm_cvtss_f32(_mm_add_ss(v, _mm_shuffle_ps(v, v, 1)));
}

static inline void tile_ptrs(const void *W, size_t ws, int nr, const void *A, size_t as, int nc,
                             const uint8_t *w[TR], const uint8_t *a[TC]) {
    LRQ_ASSERT(nr >= 1 && nr <= TR && nc >= 1 && nc <= TC);
    /* rows/columns past nr/nc repeat the last real one (computed, never stored) */
    for (int r = 0; r < TR; r++) w[r] = (const uint8_t *)W + (size_t)(r < nr ? r : nr - 1) * ws;
    for (int c = 0; c < TC; c++) a[c] = (const uint8_t *)A + (size_t)(c < nc ? c : nc - 1) * as;
}

static inline void store(const __m256 lo[TR][TC], const __m256 hi[TR][TC], int nr, int nc, float *C, size_t cs) {
    for (int c = 0; c < nc; c++)
        for (int r = 0; r < nr; r++) C[(size_t)c * cs + (size_t)r] = hsum16(lo[r][c], hi[r][c]);
}

static inline __m256 ld_f16(const uint8_t *p) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)p)); }

void lrq_gemm_order_f16_avx2(int64_t K, const void *W, size_t ws, int nr, const void *A, size_t as, int nc,
                             float *C, size_t cs) {
    LRQ_ASSERT(K % 16 == 0);
    const uint8_t *w[TR], *a[TC];
    tile_ptrs(W, ws, nr, A, as, nc, w, a);
    __m256 part[2][TR][TC];
    for (int h = 0; h < 2; h++) { /* pass h: lanes 8h..8h+7, i.e. bytes 16h..16h+15 of every 32-byte step */
        __m256 acc[TR][TC];
        for (int r = 0; r < TR; r++)
            for (int c = 0; c < TC; c++) acc[r][c] = _mm256_setzero_ps();
        for (size_t off = 16 * (size_t)h; off < (size_t)K * 2; off += 32) {
            __m256 av[TC];
            for (int c = 0; c < TC; c++) av[c] = ld_f16(a[c] + off);
            for (int r = 0; r < TR; r++) {
                const __m256 wv = ld_f16(w[r] + off);
                for (int c = 0; c < TC; c++) acc[r][c] = _mm256_fmadd_ps(wv, av[c], acc[r][c]);
            }
        }
        for (int r = 0; r < TR; r++)
            for (int c = 0; c < TC; c++) part[h][r][c] = acc[r][c];
    }
    store((const __m256(*)[TC])part[0], (const __m256(*)[TC])part[1], nr, nc, C, cs);
}

void lrq_gemm_order_bf16_avx2(int64_t K, const void *W, size_t ws, int nr, const void *A, size_t as, int nc,
                              float *C, size_t cs) {
    LRQ_ASSERT(K % 32 == 0);
    const uint8_t *w[TR], *a[TC];
    tile_ptrs(W, ws, nr, A, as, nc, w, a);
    /* lane l of pass h holds the pair 32i + 16h + 2l, +1: bytes 32h..32h+31 of every 64-byte step */
    const __m256i himask = _mm256_set1_epi32((int)0xffff0000u);
    __m256 part[2][TR][TC];
    const unsigned int csr = lrq_bf16_csr_enter(); /* the spec's FTZ|DAZ (bf16_csr.h) */
    for (int h = 0; h < 2; h++) {
        __m256 acc[TR][TC];
        for (int r = 0; r < TR; r++)
            for (int c = 0; c < TC; c++) acc[r][c] = _mm256_setzero_ps();
        for (size_t off = 32 * (size_t)h; off < (size_t)K * 2; off += 64) {
            __m256 wo[TR], we[TR];
            for (int r = 0; r < TR; r++) {
                const __m256i x = _mm256_loadu_si256((const __m256i *)(const void *)(w[r] + off));
                wo[r] = _mm256_castsi256_ps(_mm256_and_si256(x, himask));
                we[r] = _mm256_castsi256_ps(_mm256_slli_epi32(x, 16));
            }
            for (int c = 0; c < TC; c++) {
                const __m256i y = _mm256_loadu_si256((const __m256i *)(const void *)(a[c] + off));
                const __m256 ao = _mm256_castsi256_ps(_mm256_and_si256(y, himask));
                const __m256 ae = _mm256_castsi256_ps(_mm256_slli_epi32(y, 16));
                for (int r = 0; r < TR; r++)
                    acc[r][c] = _mm256_fmadd_ps(we[r], ae, _mm256_fmadd_ps(wo[r], ao, acc[r][c]));
            }
        }
        for (int r = 0; r < TR; r++)
            for (int c = 0; c < TC; c++) part[h][r][c] = acc[r][c];
    }
    lrq_bf16_csr_leave(csr);
    store((const __m256(*)[TC])part[0], (const __m256(*)[TC])part[1], nr, nc, C, cs);
}
