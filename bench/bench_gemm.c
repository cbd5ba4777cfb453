/* bench_gemm.c — the tile kernels (src/kern/gemm_*.c) against one vec_dot
 * call per output (a benchmark, not a test): an N x K weight matrix times
 * M activation rows, single thread, for every type with a tile kernel at
 * each ISA this CPU has. Prints ns per output for both and the speed-up,
 * and checks on the way that both give the same bits.
 *
 *   bench_gemm [K] [N] [M] [type-name]     (defaults 256 768 512, all types)
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include "core/core.h"
#include "kern/gemm.h"
#include "fmt/types.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(LRQ_HAVE_X86)
#include <cpuid.h>
#endif

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cpu_has(const char *isa) {
#if defined(LRQ_HAVE_X86)
    __builtin_cpu_init();
    unsigned a, b, c, d;
    int f16c = __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 29));
    int has2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && f16c;
    if (strcmp(isa, "avx2") == 0) return has2;
    return has2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vnni");
#else
    (void)isa;
    return 0;
#endif
}

static uint64_t rng = 88172645463325252ull;
static float frand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((double)(rng >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

static void run_vecdot(lrq_vec_dot_fn dot, int64_t K, const uint8_t *W, size_t ws, int N, const uint8_t *A,
                       size_t as, int M, float *C) {
    for (int r0 = 0; r0 < N; r0 += 16) /* as forward.c's matmul did: 16 rows kept hot, all columns */
        for (int c = 0; c < M; c++)
            for (int r = r0; r < N && r < r0 + 16; r++) dot(K, &C[(size_t)c * N + r], W + (size_t)r * ws, A + (size_t)c * as);
}

static void run_gemm(lrq_gemm_fn g, int R, int Cc, int64_t K, const uint8_t *W, size_t ws, int N, const uint8_t *A,
                     size_t as, int M, float *C) {
    for (int r0 = 0; r0 < N; r0 += R)
        for (int c0 = 0; c0 < M; c0 += Cc)
            g(K, W + (size_t)r0 * ws, ws, N - r0 < R ? N - r0 : R, A + (size_t)c0 * as, as, M - c0 < Cc ? M - c0 : Cc,
              C + (size_t)c0 * N + r0, (size_t)N);
}

int main(int argc, char **argv) {
    int64_t K = argc > 1 ? atoll(argv[1]) : 256;
    int N = argc > 2 ? atoi(argv[2]) : 768, M = argc > 3 ? atoi(argv[3]) : 512;
    const char *only = argc > 4 ? argv[4] : NULL;
    static const int types[] = { LRQ_TYPE_F32, LRQ_TYPE_F16, LRQ_TYPE_Q4_0, LRQ_TYPE_Q5_0, LRQ_TYPE_Q8_0,
                                 LRQ_TYPE_IQ4_NL, LRQ_TYPE_Q2_K, LRQ_TYPE_Q3_K, LRQ_TYPE_Q4_K, LRQ_TYPE_Q5_K,
                                 LRQ_TYPE_Q6_K, LRQ_TYPE_IQ2_XXS, LRQ_TYPE_IQ2_XS, LRQ_TYPE_IQ2_S, LRQ_TYPE_IQ3_XXS,
                                 LRQ_TYPE_IQ3_S, LRQ_TYPE_IQ4_XS };
    static const char *isas[] = { "avx512", "avx2" };
    lrq_types_init();
    printf("K=%lld N=%d M=%d (ns per output, single thread)\n", (long long)K, N, M);
    float *x = malloc(sizeof(float) * (size_t)K);
    for (int ii = 0; ii < 2; ii++) {
        if (!cpu_has(isas[ii])) continue;
        for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
            const int type = types[ti];
            if (only && strcmp(only, lrq_type_name(type)) != 0) continue;
            int R, Cc;
            lrq_vec_dot_fn dot;
            lrq_gemm_fn g = lrq_gemm_get_isa(type, isas[ii], &R, &Cc, &dot);
            const lrq_type_traits *tt = lrq_type_get(type), *pt = lrq_type_get(tt->vec_dot_type);
            size_t ws, as;
            if (!g || lrq_row_size(type, K, &ws) || lrq_row_size(tt->vec_dot_type, K, &as)) continue;
            uint8_t *W = malloc(ws * (size_t)N), *A = malloc(as * (size_t)M);
            float *C1 = malloc(sizeof(float) * (size_t)N * M), *C2 = malloc(sizeof(float) * (size_t)N * M);
            for (int r = 0; r < N; r++) {
                uint8_t *row = W + (size_t)r * ws;
                if (tt->quantize_ref) {
                    for (int64_t i = 0; i < K; i++) x[i] = frand() * 0.05f;
                    tt->quantize_ref(x, row, K);
                    continue;
                }
                /* no reference quantizer (i-quants): random blocks (every bit
                 * pattern is valid) with a small finite fp16 d at offset 0 */
                for (size_t i = 0; i < ws; i++) row[i] = (uint8_t)(frand() * 127.0f + 128.0f);
                for (int64_t b = 0; b < K / tt->blck_size; b++) {
                    const uint16_t h = lrq_f32_to_f16(0.001f + 0.01f * frand() * frand());
                    memcpy(row + (size_t)b * tt->type_size, &h, 2);
                }
            }
            for (int c = 0; c < M; c++) {
                for (int64_t i = 0; i < K; i++) x[i] = frand();
                pt->from_float(x, A + (size_t)c * as, K);
            }
            double best[2] = { 1e30, 1e30 };
            for (int rep = 0; rep < 5; rep++) {
                double t0 = now();
                run_vecdot(dot, K, W, ws, N, A, as, M, C1);
                double t1 = now();
                run_gemm(g, R, Cc, K, W, ws, N, A, as, M, C2);
                double t2 = now();
                if (t1 - t0 < best[0]) best[0] = t1 - t0;
                if (t2 - t1 < best[1]) best[1] = t2 - t1;
            }
            const double per = 1e9 / ((double)N * M);
            printf("%-7s %-7s tile %dx%d  vec_dot %7.2f ns  tile %7.2f ns  x%.2f  %s\n", isas[ii], lrq_type_name(type),
                   R, Cc, best[0] * per, best[1] * per, best[0] / best[1],
                   memcmp(C1, C2, sizeof(float) * (size_t)N * M) == 0 ? "same bits" : "BITS DIFFER");
            free(W);
            free(A);
            free(C1);
            free(C2);
        }
    }
    free(x);
    return 0;
}
