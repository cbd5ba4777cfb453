/* order_avx2.c — AVX2+FMA versions of order_ref.c: the same bits, faster.
 * A 16-lane accumulator of the reference is held as two __m256 (lanes 0-7,
 * 8-15), so every lane sees the same FMA sequence; hsum16 adds the same
 * pairs. BF16: the reference's fused multiply-adds, lane by lane, under
 * FTZ|DAZ (bf16_csr.h). */
#include "kern/order.h"
#include "kern/bf16_csr.h"

#include <immintrin.h>
#include <string.h>

typedef struct { __m256 lo, hi; } v16;

static inline float hsum16(v16 a) {
    const __m256 t = _mm256_add_ps(a.hi, a.lo);                                         /* i+8 onto i */
    const __m128 u = _mm_add_ps(_mm256_extractf128_ps(t, 1), _mm256_castps256_ps128(t)); /* i+4 onto i */
    const __m128 v = _mm_add_ps(u, _mm_shuffle_ps(u, u, _MM_SHUFFLE(1, 0, 3, 2)));        /* 0+2, 1+3 */
    return _mm_cvtss_f32(_mm_add_ss(v, _mm_shuffle_ps(v, v, 1)));
}

static inline __m256 ld_f16(const void *p, int64_t i) {
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint8_t *)p + 2 * i)));
}

static float f32_gemm(int64_t n, const float *x, const float *y) {
    v16 a = { _mm256_setzero_ps(), _mm256_setzero_ps() };
    for (int64_t i = 0; i < n; i += 16) {
        a.lo = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), a.lo);
        a.hi = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8), a.hi);
    }
    return hsum16(a);
}

static void f16_gemm(int64_t n, float *s, const void *x, const void *y) {
    v16 a = { _mm256_setzero_ps(), _mm256_setzero_ps() };
    for (int64_t i = 0; i < n; i += 16) {
        a.lo = _mm256_fmadd_ps(ld_f16(x, i), ld_f16(y, i), a.lo);
        a.hi = _mm256_fmadd_ps(ld_f16(x, i + 8), ld_f16(y, i + 8), a.hi);
    }
    *s = hsum16(a);
}

/* vec-order body over np (multiple of 64) elements; f16 selects the element type. */
static float vec_body(int64_t np, const void *x, const void *y, int f16) {
    __m256 a[4][2];
    for (int j = 0; j < 4; j++) a[j][0] = a[j][1] = _mm256_setzero_ps();
    for (int64_t i = 0; i < np; i += 64)
        for (int j = 0; j < 4; j++)
            for (int h = 0; h < 2; h++) {
                const int64_t k = i + 16 * j + 8 * h;
                const __m256 xv = f16 ? ld_f16(x, k) : _mm256_loadu_ps((const float *)x + k);
                const __m256 yv = f16 ? ld_f16(y, k) : _mm256_loadu_ps((const float *)y + k);
                a[j][h] = _mm256_fmadd_ps(xv, yv, a[j][h]);
            }
    v16 r;
    for (int h = 0; h < 2; h++) {
        a[0][h] = _mm256_add_ps(a[0][h], a[2][h]);
        a[1][h] = _mm256_add_ps(a[1][h], a[3][h]);
        a[0][h] = _mm256_add_ps(a[0][h], a[1][h]);
    }
    r.lo = a[0][0];
    r.hi = a[0][1];
    return hsum16(r);
}

static float f32_vec(int64_t n, const float *x, const float *y) {
    const int64_t np = n & ~(int64_t)63, n8 = np + ((n - np) & ~(int64_t)7);
    float sum = vec_body(np, x, y, 0);
    int64_t i = np;
    for (; i < n8; i++) sum += x[i] * y[i];
    for (; i < n; i++) sum = _mm_cvtss_f32(_mm_fmadd_ss(_mm_set_ss(x[i]), _mm_set_ss(y[i]), _mm_set_ss(sum)));
    return sum;
}

static void f16_vec(int64_t n, float *s, const void *x, const void *y) {
    const int64_t np = n & ~(int64_t)63;
    double sum = vec_body(np, x, y, 1);
    const uint8_t *px = x, *py = y;
    for (int64_t i = np; i < n; i++) {
        const float a = _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(px[2 * i] | (px[2 * i + 1] << 8))));
        const float b = _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(py[2 * i] | (py[2 * i + 1] << 8))));
        sum += (double)(a * b);
    }
    *s = (float)sum;
}

/* vdpbf16ps on 32 bf16 at p (lanes 0-7: elements 0..15, lanes 8-15: 16..31). */
static inline void dpbf16(v16 *acc, const uint8_t *x, const uint8_t *y) {
    const __m256i mask = _mm256_set1_epi32((int)0xffff0000u);
    for (int h = 0; h < 2; h++) {
        const __m256i wx = _mm256_loadu_si256((const __m256i *)(x + 32 * h));
        const __m256i wy = _mm256_loadu_si256((const __m256i *)(y + 32 * h));
        const __m256 ox = _mm256_castsi256_ps(_mm256_and_si256(wx, mask));
        const __m256 oy = _mm256_castsi256_ps(_mm256_and_si256(wy, mask));
        const __m256 ex = _mm256_castsi256_ps(_mm256_slli_epi32(wx, 16));
        const __m256 ey = _mm256_castsi256_ps(_mm256_slli_epi32(wy, 16));
        __m256 *a = h ? &acc->hi : &acc->lo;
        *a = _mm256_fmadd_ps(ex, ey, _mm256_fmadd_ps(ox, oy, *a));
    }
}

static void bf16_gemm(int64_t n, float *s, const void *x, const void *y) {
    v16 a = { _mm256_setzero_ps(), _mm256_setzero_ps() };
    const unsigned int csr = lrq_bf16_csr_enter();
    for (int64_t i = 0; i < n; i += 32) dpbf16(&a, (const uint8_t *)x + 2 * i, (const uint8_t *)y + 2 * i);
    lrq_bf16_csr_leave(csr);
    *s = hsum16(a);
}

static void bf16_vec(int64_t n, float *s, const void *x, const void *y) {
    v16 c1 = { _mm256_setzero_ps(), _mm256_setzero_ps() }, c2 = c1;
    const uint8_t *px = x, *py = y;
    int64_t i = 0;
    const unsigned int csr = lrq_bf16_csr_enter();
    for (; i + 64 <= n; i += 64) {
        dpbf16(&c1, px + 2 * i, py + 2 * i);
        dpbf16(&c2, px + 2 * i + 64, py + 2 * i + 64);
    }
    lrq_bf16_csr_leave(csr);
    double sum = 0.0;
    sum += (double)hsum16(c1);
    sum += (double)hsum16(c2);
    for (; i < n; i++) {
        uint32_t a = (uint32_t)(px[2 * i] | (px[2 * i + 1] << 8)) << 16, b = (uint32_t)(py[2 * i] | (py[2 * i + 1] << 8)) << 16;
        float fa, fb;
        memcpy(&fa, &a, 4);
        memcpy(&fb, &b, 4);
        sum += (double)(fa * fb);
    }
    *s = (float)sum;
}

static void exp_avx2(int64_t n, const float *x, float *y) {
    const __m256 shift = _mm256_set1_ps(0x1.8p23f);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 xv = _mm256_loadu_ps(x + i);
        const __m256 nv = _mm256_sub_ps(_mm256_fmadd_ps(xv, _mm256_set1_ps(0x1.715476p+0f), shift), shift);
        const __m256 b = _mm256_fnmadd_ps(nv, _mm256_set1_ps(0x1.7f7d1cp-20f),
                                          _mm256_fnmadd_ps(nv, _mm256_set1_ps(0x1.62e4p-1f), xv));
        const __m256 u = _mm256_mul_ps(b, b);
        const __m256 hi = _mm256_fmadd_ps(
            _mm256_fmadd_ps(_mm256_set1_ps(0x1.0e4020p-7f), b, _mm256_set1_ps(0x1.573e2ep-5f)), u,
            _mm256_fmadd_ps(_mm256_set1_ps(0x1.555e66p-3f), b, _mm256_set1_ps(0x1.fffdb6p-2f)));
        const __m256 p = _mm256_fmadd_ps(hi, u, _mm256_fmadd_ps(_mm256_set1_ps(0x1.ffffecp-1f), b, _mm256_set1_ps(1.0f)));
        /* p * 2^n is exact while the result stays normal; other lanes take the scalar path. */
        const __m256 out_of_range = _mm256_or_ps(_mm256_cmp_ps(nv, _mm256_set1_ps(-125.0f), _CMP_LT_OQ),
                                                 _mm256_cmp_ps(nv, _mm256_set1_ps(127.0f), _CMP_GT_OQ));
        const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(nv), _mm256_set1_epi32(127)), 23);
        int m = _mm256_movemask_ps(out_of_range);
        float xs[8]; /* x may alias y (in-place use): keep the inputs of the lanes redone below */
        _mm256_storeu_ps(xs, xv);
        _mm256_storeu_ps(y + i, _mm256_mul_ps(p, _mm256_castsi256_ps(e)));
        for (int l = 0; m; l++, m >>= 1)
            if (m & 1) y[i + l] = lrq_order_exp1(xs[l]);
    }
    for (; i < n; i++) y[i] = lrq_order_exp1(x[i]);
}

static void f32_vec_rows(int64_t n, const float *x, int64_t xs, int nr, const float *y, float *out) {
    for (int r = 0; r < nr; r++) out[r] = f32_vec(n, x + (int64_t)r * xs, y);
}

static void f32_gemm_rows(int64_t n, const float *x, int64_t xs, int nr, const float *y, float *out) {
    for (int r = 0; r < nr; r++) out[r] = f32_gemm(n, x + (int64_t)r * xs, y);
}

static const lrq_order_kernels avx2_kernels = {
    .f32_gemm = f32_gemm, .f32_vec = f32_vec, .f16_gemm = f16_gemm, .f16_vec = f16_vec,
    .bf16_gemm = bf16_gemm, .bf16_vec = bf16_vec, .f32_vec_rows = f32_vec_rows, .f32_gemm_rows = f32_gemm_rows,
    .exp = exp_avx2,
};

const lrq_order_kernels *lrq_order_avx2(void) { return &avx2_kernels; }
