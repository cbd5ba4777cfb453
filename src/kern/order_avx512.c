/* order_avx512.c — AVX-512 forms of the many-rows order kernels
 * (order.h: f32_vec_rows, f32_gemm_rows), bit-identical to nr calls of the
 * single-row specification (order_ref.c); the other kernels of the table are
 * the AVX2 ones.
 *
 * Why this keeps the order: the specification's 16-lane accumulators are
 * exactly zmm registers (lane l takes element 16i + l of every step i), so
 * each row runs the same FMA chain; the combine of the vec order's four
 * accumulators, (0+2), (1+3), 0+1, is done lane-wise as in the spec; and the
 * final hsum16 (lanes i+8 onto i, i+4 onto i, then (0+2) + (1+3)) is done
 * for 16 rows at once with the same pairs at every level. What is shared:
 * the loads of y serve every row, and one transposed reduction serves 16
 * rows instead of 16 separate horizontal sums — attention's per-key and
 * per-dimension dots are short (a head is 64-128 values), so the reductions
 * and the calls were most of their cost.
 *
 * Compiled with the AVX-512 F/BW/VL/DQ flags; only selected when lrq runs at
 * its avx512 level (order_ref.c, lrq_order_get). */
#include "kern/order.h"
#include "core/core.h"

#include "kern/hsum_avx512.h"

#include <immintrin.h>
#include <pthread.h>

const lrq_order_kernels *lrq_order_avx2(void);

/* Stores the n <= 16 sums of an lrq_hsum16x16 result in row order. */
static inline void store_sums(__m512 s, int n, float *out) {
    float t[16];
    _mm512_storeu_ps(t, s);
    for (int o = 0; o < n; o++) out[o] = t[4 * (o % 4) + o / 4];
}

/* f32_vec's order (order_ref.c f32_vec_ref): four accumulators per 64
 * values, combined (0+2), (1+3), 0+1, hsum16; then the values np .. n8 added
 * as rounded products one by one, the last n % 8 fused. */
static void f32_vec_rows(int64_t n, const float *x, int64_t xs, int nr, const float *y, float *out) {
    const int64_t np = n & ~(int64_t)63, n8 = np + ((n - np) & ~(int64_t)7);
    for (int r0 = 0; r0 < nr; r0 += 16) {
        const int m = nr - r0 < 16 ? nr - r0 : 16;
        __m512 v[16];
        for (int r = 0; r < 16; r++) {
            if (r >= m) { /* padding rows: reduced, never stored */
                v[r] = _mm512_setzero_ps();
                continue;
            }
            const float *xr = x + (int64_t)(r0 + r) * xs;
            __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
            for (int64_t i = 0; i < np; i += 64) {
                a0 = _mm512_fmadd_ps(_mm512_loadu_ps(xr + i), _mm512_loadu_ps(y + i), a0);
                a1 = _mm512_fmadd_ps(_mm512_loadu_ps(xr + i + 16), _mm512_loadu_ps(y + i + 16), a1);
                a2 = _mm512_fmadd_ps(_mm512_loadu_ps(xr + i + 32), _mm512_loadu_ps(y + i + 32), a2);
                a3 = _mm512_fmadd_ps(_mm512_loadu_ps(xr + i + 48), _mm512_loadu_ps(y + i + 48), a3);
            }
            a0 = _mm512_add_ps(a0, a2);
            a1 = _mm512_add_ps(a1, a3);
            v[r] = _mm512_add_ps(a0, a1);
        }
        store_sums(lrq_hsum16x16(v), m, out + r0);
        if (np < n)
            for (int r = 0; r < m; r++) {
                const float *xr = x + (int64_t)(r0 + r) * xs;
                float sum = out[r0 + r];
                int64_t i = np;
                for (; i < n8; i++) sum += xr[i] * y[i];
                for (; i < n; i++) sum = _mm_cvtss_f32(_mm_fmadd_ss(_mm_set_ss(xr[i]), _mm_set_ss(y[i]), _mm_set_ss(sum)));
                out[r0 + r] = sum;
            }
    }
}

/* f32_gemm's order: one accumulator per row over steps of 16, hsum16. Eight
 * rows advance together, sharing each load of y (and hiding the FMA
 * latency of one chain behind the others). */
static void f32_gemm_rows(int64_t n, const float *x, int64_t xs, int nr, const float *y, float *out) {
    LRQ_ASSERT(n % 16 == 0);
    for (int r0 = 0; r0 < nr; r0 += 16) {
        const int m = nr - r0 < 16 ? nr - r0 : 16;
        __m512 v[16];
        for (int h = 0; h < 16; h += 8) {
            const float *xr[8];
            for (int r = 0; r < 8; r++) /* padding rows repeat the last real one: computed, never stored */
                xr[r] = x + (int64_t)(r0 + (h + r < m ? h + r : m - 1)) * xs;
            __m512 a[8];
            for (int r = 0; r < 8; r++) a[r] = _mm512_setzero_ps();
            if (h < m)
                for (int64_t i = 0; i < n; i += 16) {
                    const __m512 yv = _mm512_loadu_ps(y + i);
                    for (int r = 0; r < 8; r++) a[r] = _mm512_fmadd_ps(_mm512_loadu_ps(xr[r] + i), yv, a[r]);
                }
            for (int r = 0; r < 8; r++) v[h + r] = a[r];
        }
        store_sums(lrq_hsum16x16(v), m, out + r0);
    }
}

static lrq_order_kernels avx512_kernels;
static pthread_once_t avx512_once = PTHREAD_ONCE_INIT;

static void avx512_init(void) {
    avx512_kernels = *lrq_order_avx2();
    avx512_kernels.f32_vec_rows = f32_vec_rows;
    avx512_kernels.f32_gemm_rows = f32_gemm_rows;
}

/* The AVX2 order kernels with the AVX-512 many-rows forms (for the caller:
 * the CPU has AVX-512 F/BW/VL/DQ). */
const lrq_order_kernels *lrq_order_avx512(void) {
    pthread_once(&avx512_once, avx512_init);
    return &avx512_kernels;
}
