/* order_ref.c — scalar specification of llama.cpp's floating-point order
 * (see order.h), and the dispatcher. */
#include "kern/order.h"
#include "core/core.h"
#include "fmt/types.h"

#include <float.h>
#include <math.h>
#include <string.h>

float lrq_order_hsum16(const float *a) {
    float t[8], u[4];
    for (int i = 0; i < 8; i++) t[i] = a[i + 8] + a[i];
    for (int i = 0; i < 4; i++) u[i] = t[i + 4] + t[i];
    return (u[0] + u[2]) + (u[1] + u[3]);
}

float lrq_order_exp1(float x) {
    const float shift = 0x1.8p23f;
    const float n = fmaf(x, 0x1.715476p+0f, shift) - shift;
    const float b = fmaf(-n, 0x1.7f7d1cp-20f, fmaf(-n, 0x1.62e4p-1f, x));
    const float u = b * b;
    const float hi = fmaf(fmaf(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u, fmaf(0x1.555e66p-3f, b, 0x1.fffdb6p-2f));
    const float p = fmaf(hi, u, fmaf(0x1.ffffecp-1f, b, 1.0f));
    if (fabsf(n) > 192.0f) return n <= 0.0f ? 0.0f : INFINITY;
    return ldexpf(p, (int)n);
}

static inline float f16_at(const void *p, int64_t i) {
    const uint8_t *b = (const uint8_t *)p + 2 * i;
    return lrq_f16_to_f32((lrq_f16)(b[0] | (b[1] << 8)));
}
static inline float bf16_at(const void *p, int64_t i) {
    const uint8_t *b = (const uint8_t *)p + 2 * i;
    return lrq_bf16_to_f32((lrq_bf16)(b[0] | (b[1] << 8)));
}
static inline float el(const void *p, int64_t i, int f16) { return f16 ? f16_at(p, i) : ((const float *)p)[i]; }

static float gemm_order(int64_t n, const void *x, const void *y, int f16) {
    float acc[16] = {0};
    for (int64_t i = 0; i < n; i += 16)
        for (int l = 0; l < 16; l++) acc[l] = fmaf(el(x, i + l, f16), el(y, i + l, f16), acc[l]);
    return lrq_order_hsum16(acc);
}

/* The vec-order body over np (a multiple of 64) elements. */
static float vec_body(int64_t np, const void *x, const void *y, int f16) {
    float acc[4][16] = {{0}};
    for (int64_t i = 0; i < np; i += 64)
        for (int j = 0; j < 4; j++)
            for (int l = 0; l < 16; l++) {
                const int64_t k = i + 16 * j + l;
                acc[j][l] = fmaf(el(x, k, f16), el(y, k, f16), acc[j][l]);
            }
    for (int l = 0; l < 16; l++) {
        acc[0][l] += acc[2][l];
        acc[1][l] += acc[3][l];
        acc[0][l] += acc[1][l];
    }
    return lrq_order_hsum16(acc[0]);
}

static float f32_gemm_ref(int64_t n, const float *x, const float *y) {
    LRQ_ASSERT(n % 16 == 0);
    return gemm_order(n, x, y, 0);
}

static float f32_vec_ref(int64_t n, const float *x, const float *y) {
    const int64_t np = n & ~(int64_t)63, n8 = np + ((n - np) & ~(int64_t)7);
    float sum = vec_body(np, x, y, 0);
    int64_t i = np;
    for (; i < n8; i++) sum += x[i] * y[i];
    for (; i < n; i++) sum = fmaf(x[i], y[i], sum);
    return sum;
}

static void f16_gemm_ref(int64_t n, float *s, const void *x, const void *y) {
    LRQ_ASSERT(n % 16 == 0);
    *s = gemm_order(n, x, y, 1);
}

static void f16_vec_ref(int64_t n, float *s, const void *x, const void *y) {
    const int64_t np = n & ~(int64_t)63;
    double sum = vec_body(np, x, y, 1);
    for (int64_t i = np; i < n; i++) sum += (double)(f16_at(x, i) * f16_at(y, i));
    *s = (float)sum;
}

/* vdpbf16ps's arithmetic, the one llama.cpp's BF16 matmuls use on CPUs with
 * AVX512_BF16: subnormal inputs read as zero (DAZ), each add rounded to
 * nearest even once, subnormal results flushed to zero (FTZ). */
static inline float daz(float v) { return fabsf(v) < FLT_MIN ? copysignf(0.0f, v) : v; }

/* vdpbf16ps on 32 elements starting at i0: lane l adds the odd product, then
 * the even one. A product of two bf16 values is exact in float (8 + 8
 * significant bits), so acc + x*y rounded once is fmaf; FTZ then flushes a
 * subnormal sum. The SIMD kernels compute the same with FMA under MXCSR
 * FTZ|DAZ, or with the instruction itself (gemm_order_avx512bf16.c);
 * tests/test_gemm_order.c checks the instruction against this on subnormal,
 * underflowing and overflowing data. */
static void dpbf16(float *acc, const void *x, const void *y, int64_t i0) {
    for (int l = 0; l < 16; l++) {
        const int64_t e = i0 + 2 * l;
        const float t = daz(fmaf(daz(bf16_at(x, e + 1)), daz(bf16_at(y, e + 1)), daz(acc[l])));
        acc[l] = daz(fmaf(daz(bf16_at(x, e)), daz(bf16_at(y, e)), t));
    }
}

static void bf16_gemm_ref(int64_t n, float *s, const void *x, const void *y) {
    LRQ_ASSERT(n % 32 == 0);
    float acc[16] = {0};
    for (int64_t i = 0; i < n; i += 32) dpbf16(acc, x, y, i);
    *s = lrq_order_hsum16(acc);
}

static void bf16_vec_ref(int64_t n, float *s, const void *x, const void *y) {
    float c1[16] = {0}, c2[16] = {0};
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        dpbf16(c1, x, y, i);
        dpbf16(c2, x, y, i + 32);
    }
    double sum = 0.0;
    sum += (double)lrq_order_hsum16(c1);
    sum += (double)lrq_order_hsum16(c2);
    for (; i < n; i++) sum += (double)(bf16_at(x, i) * bf16_at(y, i));
    *s = (float)sum;
}

static void exp_ref(int64_t n, const float *x, float *y) {
    for (int64_t i = 0; i < n; i++) y[i] = lrq_order_exp1(x[i]);
}

static void f32_vec_rows_ref(int64_t n, const float *x, int64_t xs, int nr, const float *y, float *out) {
    for (int r = 0; r < nr; r++) out[r] = f32_vec_ref(n, x + (int64_t)r * xs, y);
}

static void f32_gemm_rows_ref(int64_t n, const float *x, int64_t xs, int nr, const float *y, float *out) {
    for (int r = 0; r < nr; r++) out[r] = f32_gemm_ref(n, x + (int64_t)r * xs, y);
}

static const lrq_order_kernels ref_kernels = {
    .f32_gemm = f32_gemm_ref, .f32_vec = f32_vec_ref, .f16_gemm = f16_gemm_ref, .f16_vec = f16_vec_ref,
    .bf16_gemm = bf16_gemm_ref, .bf16_vec = bf16_vec_ref, .f32_vec_rows = f32_vec_rows_ref,
    .f32_gemm_rows = f32_gemm_rows_ref, .exp = exp_ref,
};

const lrq_order_kernels *lrq_order_ref(void) { return &ref_kernels; }

#if defined(LRQ_HAVE_X86)
const lrq_order_kernels *lrq_order_avx2(void);
const lrq_order_kernels *lrq_order_avx512(void);
#endif

const lrq_order_kernels *lrq_order_get_isa(const char *isa) {
#if defined(LRQ_HAVE_X86)
    if (strcmp(isa, "avx2") == 0) return lrq_order_avx2();
    if (strcmp(isa, "avx512") == 0) return lrq_order_avx512();
#endif
    (void)isa;
    return NULL;
}

const lrq_order_kernels *lrq_order_get(void) {
#if defined(LRQ_HAVE_X86)
    if (strcmp(lrq_types_isa(), "avx512") == 0) return lrq_order_avx512();
    if (strcmp(lrq_types_isa(), "scalar") != 0) return lrq_order_avx2();
#endif
    return &ref_kernels;
}
