/* hsum_avx512.h — the AVX-512 horizontal sum of 16 vectors at once, shared by
 * the exact-order kernels (gemm_order_avx512.c, order_avx512.c). Include only
 * from files compiled with AVX-512 flags. */
#ifndef LRQ_KERN_HSUM_AVX512_H
#define LRQ_KERN_HSUM_AVX512_H

#include <immintrin.h>

/* hsum16 (order.h: lanes i+8 onto i, then i+4 onto i, then (0+2) + (1+3))
 * of 16 vectors at once, with the same pairs added at every level, so each
 * output is bit-identical to hsum16 of its vector. Output o = 4k + j lands
 * in lane 4j + k of the result. */
static inline __m512 lrq_hsum16x16(const __m512 v[16]) {
    __m512 l1[8], l2[4], l3[2];
    for (int k = 0; k < 8; k++) /* i+8 onto i: [o=2k lanes 0-7 | o=2k+1 lanes 0-7] */
        l1[k] = _mm512_add_ps(_mm512_shuffle_f32x4(v[2 * k], v[2 * k + 1], 0x44),
                              _mm512_shuffle_f32x4(v[2 * k], v[2 * k + 1], 0xee));
    for (int k = 0; k < 4; k++) /* i+4 onto i: 128-bit chunk j = output 4k + j */
        l2[k] = _mm512_add_ps(_mm512_shuffle_f32x4(l1[2 * k], l1[2 * k + 1], 0x88),
                              _mm512_shuffle_f32x4(l1[2 * k], l1[2 * k + 1], 0xdd));
    for (int k = 0; k < 2; k++) { /* 0+2, 1+3 */
        const __m512d a = _mm512_castps_pd(l2[2 * k]), b = _mm512_castps_pd(l2[2 * k + 1]);
        l3[k] = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(a, b)), _mm512_castpd_ps(_mm512_unpackhi_pd(a, b)));
    }
    /* (0+2) + (1+3) */
    return _mm512_add_ps(_mm512_shuffle_ps(l3[0], l3[1], 0x88), _mm512_shuffle_ps(l3[0], l3[1], 0xdd));
}

#endif
