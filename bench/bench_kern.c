/* bench_kern.c — micro-benchmark of the legacy and i-quant dot-product
 * kernels (a benchmark, not a test): one activation row of K values
 * (default 4096) against R weight rows, i.e. one matrix-vector product per
 * pass, for every legacy type, the i-quants (x Q8_K; K rounded down to a
 * multiple of 256; random blocks — every bit pattern is valid — with finite
 * scales, as they have no reference quantizer) and each kernel level
 * (scalar reference, AVX2, AVX-512).
 * Prints GB/s of weight bytes streamed and ns per row, for a small weight
 * matrix (cache resident) and a large one (R rows, default 8192).
 *
 *   bench_kern [K] [R]
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include "fmt/types.h"
#include "core/core.h"
#include "fmt/impl.h"
#include "kern/dots.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#define B_X86 1
#else
#define B_X86 0
#endif

typedef void (*dot_fn)(int64_t, float *, const void *, const void *);
typedef void (*qz_fn)(const float *, void *, int64_t);

typedef struct {
    const char *name;
    int blck, bsize, ybsize;
    qz_fn qref, act;
    dot_fn fn[3];
} btype;

static const btype TYPES[] = {
    {"f32", 1, 4, 4, lrq_quant_ref_f32, lrq_act_f32, {lrq_dot_f32_ref, lrq_dot_f32_avx2, lrq_dot_f32_avx512}},
    {"f16", 1, 2, 2, lrq_quant_ref_f16, lrq_act_f16, {lrq_dot_f16_ref, lrq_dot_f16_avx2, lrq_dot_f16_avx512}},
    {"bf16", 1, 2, 2, lrq_quant_ref_bf16, lrq_act_bf16, {lrq_dot_bf16_ref, lrq_dot_bf16_avx2, lrq_dot_bf16_avx512}},
    {"q4_0", 32, 18, 34, lrq_quant_ref_q4_0, lrq_act_q8_0, {lrq_dot_q4_0_ref, lrq_dot_q4_0_avx2, lrq_dot_q4_0_avx512}},
    {"q4_1", 32, 20, 36, lrq_quant_ref_q4_1, lrq_act_q8_1, {lrq_dot_q4_1_ref, lrq_dot_q4_1_avx2, lrq_dot_q4_1_avx512}},
    {"q5_0", 32, 22, 34, lrq_quant_ref_q5_0, lrq_act_q8_0, {lrq_dot_q5_0_ref, lrq_dot_q5_0_avx2, lrq_dot_q5_0_avx512}},
    {"q5_1", 32, 24, 36, lrq_quant_ref_q5_1, lrq_act_q8_1, {lrq_dot_q5_1_ref, lrq_dot_q5_1_avx2, lrq_dot_q5_1_avx512}},
    {"q8_0", 32, 34, 34, lrq_quant_ref_q8_0, lrq_act_q8_0, {lrq_dot_q8_0_ref, lrq_dot_q8_0_avx2, lrq_dot_q8_0_avx512}},
    {"iq4_nl", 32, 18, 34, lrq_quant_ref_iq4_nl, lrq_act_q8_0,
     {lrq_dot_iq4_nl_ref, lrq_dot_iq4_nl_avx2, lrq_dot_iq4_nl_avx512}},
#define IQ_T(t, bytes) {#t, 256, bytes, 292, NULL, lrq_act_q8_K, {lrq_dot_##t##_ref, lrq_dot_##t##_avx2, lrq_dot_##t##_avx512}}
    IQ_T(iq2_xxs, 66), IQ_T(iq2_xs, 74), IQ_T(iq2_s, 82), IQ_T(iq3_xxs, 98), IQ_T(iq3_s, 110), IQ_T(iq4_xs, 136),
#undef IQ_T
};

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cpu_level(void) {
#if B_X86
    unsigned a, b, c, d;
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx") || !__get_cpuid(1, &a, &b, &c, &d) || !((c >> 29) & 1u)) return 0;
    if (!(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) return 0;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vnni"))
        return 2;
    return 1;
#else
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

/* GB/s of weight bytes for `rows` rows: the best of 5 trials of at least
 * min_s / 5 seconds each (the best trial is the least disturbed by other
 * processes). */
static double run(dot_fn fn, int64_t k, int64_t rows, const uint8_t *w, size_t row_bytes, const uint8_t *act,
                  float *out, double min_s, double *ns_row) {
    double best = 1e30;
    for (int trial = 0; trial < 5; trial++) {
        int64_t passes = 0;
        double t0 = now(), t;
        do {
            for (int64_t r = 0; r < rows; r++) fn(k, &out[r], w + (size_t)r * row_bytes, act);
            passes++;
            t = now() - t0;
        } while (t < min_s / 5);
        const double per_row = t / (double)(passes * rows);
        if (per_row < best) best = per_row;
    }
    *ns_row = best * 1e9;
    return (double)row_bytes / best / 1e9;
}

int main(int argc, char **argv) {
    lrq_types_init(); /* register the kernels into the type table */
    int64_t k = argc > 1 ? atoll(argv[1]) : 4096;
    int64_t big = argc > 2 ? atoll(argv[2]) : 8192;
    if (k <= 0 || k % 32 || big <= 0) {
        fprintf(stderr, "usage: bench_kern [K (multiple of 32)] [rows]\n");
        return 2;
    }
    const int level = cpu_level();
    static const char *isa[3] = {"ref", "avx2", "avx512"};
    printf("dot kernels, K = %lld; GB/s of weight bytes (ns per row) — small: 256 rows, large: %lld rows\n",
           (long long)k, (long long)big);
    printf("%-7s %-7s %22s %22s\n", "type", "kernel", "small", "large");
    float *x = malloc((size_t)k * sizeof(float));
    for (int64_t i = 0; i < k; i++) x[i] = frand();
    for (size_t t = 0; t < sizeof TYPES / sizeof TYPES[0]; t++) {
        const btype *bt = &TYPES[t];
        if (k % bt->blck) continue;
        const size_t row_bytes = (size_t)(k / bt->blck) * (size_t)bt->bsize;
        uint8_t *w = malloc(row_bytes * (size_t)big);
        uint8_t *act = malloc((size_t)(k / bt->blck) * (size_t)bt->ybsize);
        float *out = malloc((size_t)big * sizeof(float));
        float *tmp = malloc((size_t)k * sizeof(float));
        if (!w || !act || !out || !tmp) {
            fprintf(stderr, "out of memory\n");
            return 1;
        }
        for (int64_t r = 0; r < big; r++) {
            uint8_t *row = w + (size_t)r * row_bytes;
            if (!bt->qref) { /* random blocks, fp16 d (offset 0) in [0.001, 0.011) */
                for (size_t i = 0; i < row_bytes; i++) row[i] = (uint8_t)(frand() * 127.0f + 128.0f);
                for (int64_t b = 0; b < k / bt->blck; b++) {
                    const uint16_t h = lrq_f32_to_f16(0.006f + 0.005f * frand());
                    memcpy(row + (size_t)b * (size_t)bt->bsize, &h, 2);
                }
                continue;
            }
            for (int64_t i = 0; i < k; i++) tmp[i] = frand() * 0.1f;
            bt->qref(tmp, row, k);
        }
        bt->act(x, act, k);
        for (int l = 0; l <= level; l++) {
            double ns_s, ns_l;
            double min_s = l == 0 ? 0.1 : 0.2;
            double gs = run(bt->fn[l], k, 256 < big ? 256 : big, w, row_bytes, act, out, min_s, &ns_s);
            double gl = run(bt->fn[l], k, big, w, row_bytes, act, out, min_s, &ns_l);
            printf("%-7s %-7s %10.2f (%8.0f ns) %10.2f (%8.0f ns)\n", bt->name, isa[l], gs, ns_s, gl, ns_l);
        }
        free(w);
        free(act);
        free(out);
        free(tmp);
    }
    free(x);
    return 0;
}
