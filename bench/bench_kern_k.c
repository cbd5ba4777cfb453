/* bench_kern_k.c — micro-benchmark of the k-quant dot kernels (not a test).
 * For each type and ISA: GB/s of weight bytes streamed through lrq_dot_*,
 * for a matrix that fits in L2 and one that does not, one Q8_K activation
 * row reused (as in a matrix-vector product). "/g": the gemm float order of
 * Q2_K/Q4_K (quant_k.h), whose chain of dependent fmas per block is longer.
 *
 * usage: bench_kern_k [seconds per measurement, default 0.2]
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include "core/core.h"
#include "fmt/types.h"
#include "fmt/impl.h"
#include "kern/dots.h"
#include "fmt/kquant.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(LRQ_HAVE_X86)
#include <cpuid.h>
#endif

typedef void (*dot_fn)(int64_t, float *, const void *, const void *);

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int cpu_avx2(void) {
#if defined(LRQ_HAVE_X86)
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 29))) return 0;
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

static int cpu_avx512(void) {
#if defined(LRQ_HAVE_X86)
    return cpu_avx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vnni");
#else
    return 0;
#endif
}

/* GB/s of weight bytes: rows x n values of the type, dotted with one row. */
static double measure(dot_fn f, const uint8_t *w, size_t row_bytes, int rows, const uint8_t *act, int64_t n,
                      double secs, float *sink) {
    double best = 0;
    for (int rep = 0; rep < 3; rep++) {
        long iters = 0;
        const double t0 = now();
        double t1;
        do {
            for (int r = 0; r < rows; r++) {
                float s;
                f(n, &s, w + (size_t)r * row_bytes, act);
                *sink += s;
            }
            iters++;
            t1 = now();
        } while (t1 - t0 < secs / 3);
        const double gbs = (double)iters * (double)rows * (double)row_bytes / (t1 - t0) * 1e-9;
        if (gbs > best) best = gbs;
    }
    return best;
}

int main(int argc, char **argv) {
    lrq_types_init(); /* register the kernels into the type table */
    const double secs = argc > 1 ? atof(argv[1]) : 0.2;
    static const struct {
        const char *name;
        int type;
        int off_d, off_dmin;
        dot_fn ref;
#if defined(LRQ_HAVE_X86)
        dot_fn avx2, avx512;
#endif
    } T[] = {
#if defined(LRQ_HAVE_X86)
#define K(nm, T_, t, d, dm) {nm, LRQ_TYPE_##T_, d, dm, lrq_dot_##t##_ref, lrq_dot_##t##_avx2, lrq_dot_##t##_avx512}
#else
#define K(nm, T_, t, d, dm) {nm, LRQ_TYPE_##T_, d, dm, lrq_dot_##t##_ref}
#endif
        K("q2_K", Q2_K, q2_K, LRQ_Q2K_D, LRQ_Q2K_DMIN), K("q3_K", Q3_K, q3_K, LRQ_Q3K_D, -1),
        K("q4_K", Q4_K, q4_K, LRQ_Q4K_D, LRQ_Q4K_DMIN), K("q5_K", Q5_K, q5_K, LRQ_Q5K_D, LRQ_Q5K_DMIN),
        K("q6_K", Q6_K, q6_K, LRQ_Q6K_D, -1),
        /* the batched ("gemm") float order of Q2_K/Q4_K, quant_k.h */
        K("q2_K/g", Q2_K, q2_K_gemm, LRQ_Q2K_D, LRQ_Q2K_DMIN), K("q4_K/g", Q4_K, q4_K_gemm, LRQ_Q4K_D, LRQ_Q4K_DMIN),
#undef K
    };
    const int64_t n = 4096; /* row length */
    const int rows_small = 64, rows_big = 4096;
    float *a = malloc((size_t)n * sizeof *a);
    uint8_t *act = malloc((size_t)(n / LRQ_QK_K) * LRQ_Q8K_SIZE);
    for (int64_t i = 0; i < n; i++) a[i] = (float)((int64_t)(next() % 2001) - 1000) * 1e-3f;
    lrq_act_q8_K(a, act, n);
    float sink = 0;
    const int has2 = cpu_avx2(), has5 = cpu_avx512();
    printf("k-quant dot kernels, row length %lld, GB/s of weight bytes (best of 3)\n", (long long)n);
    printf("%-6s %-10s %10s %10s %10s\n", "type", "matrix", "ref", "avx2", "avx512");
    for (size_t k = 0; k < sizeof T / sizeof T[0]; k++) {
        size_t row_bytes;
        if (lrq_row_size(T[k].type, n, &row_bytes) != 0) return 1;
        const size_t bsize = row_bytes / (size_t)(n / LRQ_QK_K);
        uint8_t *w = malloc(row_bytes * (size_t)rows_big);
        for (size_t i = 0; i < row_bytes * (size_t)rows_big; i++) w[i] = (uint8_t)next();
        for (size_t b = 0; b < row_bytes * (size_t)rows_big / bsize; b++) {
            uint8_t *blk = w + b * bsize;
            const uint16_t h = lrq_f32_to_f16(1e-3f * (float)(1 + next() % 100));
            memcpy(blk + T[k].off_d, &h, 2);
            if (T[k].off_dmin >= 0) memcpy(blk + T[k].off_dmin, &h, 2);
        }
        for (int big = 0; big < 2; big++) {
            const int rows = big ? rows_big : rows_small;
            char label[32];
            snprintf(label, sizeof label, "%.1f MB", (double)row_bytes * rows / 1048576.0);
            printf("%-6s %-10s %10.2f", T[k].name, label, measure(T[k].ref, w, row_bytes, rows, act, n, secs, &sink));
#if defined(LRQ_HAVE_X86)
            if (has2) printf(" %10.2f", measure(T[k].avx2, w, row_bytes, rows, act, n, secs, &sink));
            else printf(" %10s", "-");
            if (has5) printf(" %10.2f", measure(T[k].avx512, w, row_bytes, rows, act, n, secs, &sink));
            else printf(" %10s", "-");
#else
            (void)has2, (void)has5;
            printf(" %10s %10s", "-", "-");
#endif
            printf("\n");
            fflush(stdout);
        }
        free(w);
    }
    free(a);
    free(act);
    return sink == 12345.678f; /* keep the results alive */
}
