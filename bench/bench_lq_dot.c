/* bench_lq_dot.c — decode-shaped matrix-vector benchmark of the planes
 * kernels (not a test): one token through a matrix much larger than the
 * caches (default 250880 x 1536, i.e. 28 layers' worth of 8960 x 1536), at
 * 1 and 2 threads (rows split in halves), reporting per method the median
 * time of one pass, the GB/s of weight bytes read (codes + parameter
 * planes, or the k-quant blocks) and the rows per second:
 *   - lq int8:  lrq_q8p_matvec (kern/planes_q8.h, the selected level), the
 *     activation quantized once per pass (included in the time);
 *   - lq f32:   lrq_planes_matvec (kern/planes.h, F32 activations);
 *   - Qb_K:     lrq_type_get(Q2_K / Q3_K / Q4_K for bits 2 / 3 / 4)->vec_dot
 *     over the same number of weights, Q8_K activations quantized once per
 *     pass (included); random blocks with sane f16 scales;
 *   - read:     a read-only AVX2 sweep of the lq bytes (the memory bound);
 *   - memcpy:   memcpy of the lq bytes (GB/s of bytes copied).
 * lrq has no IQ2_XS kernel, so IQ2_XS is not measured here. Every run times
 * all methods back to back (paired: the ratio to Qb_K is taken within a
 * run, its median printed), since the machine is shared and noisy.
 * "GB/s / read" is a method's GB/s over the read sweep's in the same run
 * (median); "GB/cpu-s" divides the bytes by the process CPU time per thread
 * instead of the wall time: on a loaded machine (threads descheduled) it is
 * the steadier figure of what a thread sustains while it runs.
 * Then the accuracy of the int8 path against the F32-activation planes dot
 * on the same codes, on synthetic data (RTN-quantized normal weights,
 * normal activations, and with 1/64 of the values 20x larger): relative
 * error of y over 2048 rows.
 *
 * Then prefill: 512 tokens through (up to) 8960 rows, the tile kernel
 * (lrq_q8p_matmul) against one lrq_q8p_matvec per token (one thread).
 *
 * With K > 1 (6th argument), also K replicas (K parameter sets sharing the
 * codes, one thread): lrq_q8p_matvec_k (codes read once per 4 sets)
 * against K separate lrq_q8p_matvec passes, paired ratio.
 *
 * With a model and a text file (7th, 8th arguments), also the accuracy on a
 * real model: its F32 weights RTN-quantized, the inputs its linears see on
 * the text's first tokens (forward-pass hooks), int8 vs F32 activations.
 *
 * usage: bench_lq_dot [bits 2|3|4 (2)] [group (128)] [cols (1536)] [rows (250880)] [runs (9)] [K (1)]
 *                     [model.gguf text.txt]
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include "lrq.h"
#include "core/core.h"
#include "io/gguf.h"
#include "fmt/kquant.h"
#include "fmt/planes.h"
#include "fmt/types.h"
#include "kern/planes.h"
#include "kern/planes_q8.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static uint64_t next(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}
static float frand(void) { return (float)(next() >> 40) / (float)(1 << 24) - 0.5f; }
static float nrand(void) { /* Box-Muller */
    const float u = ((float)(next() >> 40) + 1.0f) / (float)(1 << 24), v = (float)(next() >> 40) / (float)(1 << 24);
    return sqrtf(-2.0f * logf(u)) * cosf(6.2831853f * v);
}

enum { M_Q8, M_F32, M_KQ, M_READ, M_COPY, N_M };
static const char *NAME[N_M] = {"lq int8 (planes_q8)", "lq f32 (planes)", "", "read (avx2)", "memcpy"};

typedef struct {
    int bits, kq_type;
    int64_t ne0, ne1;
    int32_t group;
    uint8_t *codes;        /* [ne1][rb] */
    float *scale, *zero;   /* [ne1][ne0 / group] */
    lrq_qparams qp;
    uint8_t *kq;           /* [ne1][kq_row] k-quant blocks */
    size_t rb, kq_row, lq_bytes, kq_bytes;
    uint8_t *copy_dst;
    float *x, *y;
    void *act_buf;
    size_t act_bytes;
    lrq_q8p_act act;
    uint8_t *q8k;          /* Q8_K activation row */
    const lrq_q8p_kernels *q8p_kern;
} bench_t;

typedef struct {
    bench_t *b;
    int method;
    int64_t r0, r1;
    double sink;
} job_t;

#if defined(__x86_64__)
__attribute__((target("avx2"))) static double read_sweep(const uint8_t *p, size_t n) {
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
    for (; i + 128 <= n; i += 128) {
        a0 = _mm256_xor_si256(a0, _mm256_loadu_si256((const __m256i *)(p + i)));
        a1 = _mm256_xor_si256(a1, _mm256_loadu_si256((const __m256i *)(p + i + 32)));
        a2 = _mm256_xor_si256(a2, _mm256_loadu_si256((const __m256i *)(p + i + 64)));
        a3 = _mm256_xor_si256(a3, _mm256_loadu_si256((const __m256i *)(p + i + 96)));
    }
    a0 = _mm256_xor_si256(_mm256_xor_si256(a0, a1), _mm256_xor_si256(a2, a3));
    uint64_t s[4];
    _mm256_storeu_si256((__m256i *)s, a0);
    for (; i < n; i++) s[0] ^= p[i];
    return (double)(s[0] ^ s[1] ^ s[2] ^ s[3]);
}
#else
static double read_sweep(const uint8_t *p, size_t n) { /* other architectures: 64-bit words */
    uint64_t a = 0, w;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) memcpy(&w, p + i, 8), a ^= w;
    for (; i < n; i++) a ^= p[i];
    return (double)a;
}
#endif

/* The byte range [lo, hi) of the lq arrays (codes, then scale, then zero)
 * that rows [r0, r1) own, swept by `fn`. */
static void lq_ranges(const bench_t *b, int64_t r0, int64_t r1, int copy, double *sink) {
    const size_t ng = (size_t)(b->ne0 / b->group);
    const uint8_t *src[3] = {b->codes, (const uint8_t *)b->scale, (const uint8_t *)b->zero};
    const size_t per[3] = {b->rb, ng * 4, ng * 4};
    size_t off = 0;
    for (int i = 0; i < 3; i++) {
        const size_t lo = (size_t)r0 * per[i], len = (size_t)(r1 - r0) * per[i];
        if (copy) memcpy(b->copy_dst + off + lo, src[i] + lo, len);
        else *sink += read_sweep(src[i] + lo, len);
        off += (size_t)b->ne1 * per[i];
    }
}

static void *worker(void *arg) {
    job_t *j = arg;
    bench_t *b = j->b;
    switch (j->method) {
    case M_Q8: lrq_q8p_matvec(b->q8p_kern, b->ne0, b->ne1, b->codes, &b->qp, &b->act, j->r0, j->r1, b->y); break;
    case M_F32: lrq_planes_matvec(NULL, b->bits, b->ne0, b->ne1, b->codes, &b->qp, b->x, j->r0, j->r1, b->y); break;
    case M_KQ: {
        const lrq_vec_dot_fn dot = lrq_type_get(b->kq_type)->vec_dot;
        for (int64_t r = j->r0; r < j->r1; r++) dot(b->ne0, &b->y[r], b->kq + (size_t)r * b->kq_row, b->q8k);
        break;
    }
    case M_READ: lq_ranges(b, j->r0, j->r1, 0, &j->sink); break;
    default: lq_ranges(b, j->r0, j->r1, 1, &j->sink); break;
    }
    return NULL;
}

static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* One pass of `method` over all rows with `nt` threads; wall seconds, and
 * the process CPU seconds it took in *cpu. */
static double pass(bench_t *b, int method, int nt, double *cpu) {
    const double t0 = now(), c0 = cpu_now();
    /* the per-token activation rounding is part of a decode step */
    if (method == M_Q8) lrq_q8p_quantize(b->bits, b->ne0, b->group, b->x, b->act_buf, b->act_bytes, &b->act);
    if (method == M_KQ) lrq_type_get(LRQ_TYPE_Q8_K)->from_float(b->x, b->q8k, b->ne0);
    pthread_t th[2];
    job_t jobs[2];
    for (int t = 0; t < nt; t++) {
        jobs[t] = (job_t){.b = b, .method = method, .r0 = b->ne1 * t / nt, .r1 = b->ne1 * (t + 1) / nt};
        if (t > 0) pthread_create(&th[t], NULL, worker, &jobs[t]);
    }
    worker(&jobs[0]);
    for (int t = 1; t < nt; t++) pthread_join(th[t], NULL);
    *cpu = cpu_now() - c0;
    return now() - t0;
}

static int cmp_d(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static int setup(bench_t *b, int bits, int32_t group, int64_t ne0, int64_t ne1) {
    memset(b, 0, sizeof *b);
    b->bits = bits, b->group = group, b->ne0 = ne0, b->ne1 = ne1;
    b->kq_type = bits == 2 ? LRQ_TYPE_Q2_K : bits == 3 ? LRQ_TYPE_Q3_K : LRQ_TYPE_Q4_K;
    NAME[M_KQ] = bits == 2 ? "Q2_K vec_dot (x Q8_K)" : bits == 3 ? "Q3_K vec_dot (x Q8_K)" : "Q4_K vec_dot (x Q8_K)";
    if (lrq_planes_row_bytes(bits, ne0, &b->rb) != 0 || ne0 % 256 != 0 || ne0 % group != 0) return -1;
    const size_t ng = (size_t)(ne0 / group), nr = (size_t)ne1;
    const lrq_type_traits *kt = lrq_type_get(b->kq_type);
    b->kq_row = (size_t)(ne0 / 256) * kt->type_size;
    b->lq_bytes = nr * (b->rb + ng * 8);
    b->kq_bytes = nr * b->kq_row;
    b->codes = malloc(nr * b->rb);
    b->scale = malloc(nr * ng * 4);
    b->zero = malloc(nr * ng * 4);
    b->kq = malloc(b->kq_bytes);
    b->copy_dst = malloc(b->lq_bytes);
    b->x = malloc((size_t)ne0 * 4);
    b->y = malloc(nr * 4);
    b->q8k = malloc((size_t)(ne0 / 256) * LRQ_Q8K_SIZE);
    if (lrq_q8p_act_bytes(bits, ne0, group, &b->act_bytes) != 0) return -1;
    b->act_buf = malloc(b->act_bytes);
    if (!b->codes || !b->scale || !b->zero || !b->kq || !b->copy_dst || !b->x || !b->y || !b->q8k || !b->act_buf)
        return -1;
    /* random codes (ne0 % 256 == 0: no padding bits), scales, zeros */
    for (size_t i = 0; i < nr * b->rb; i += 8) {
        const uint64_t v = next();
        memcpy(b->codes + i, &v, nr * b->rb - i < 8 ? nr * b->rb - i : 8);
    }
    for (size_t i = 0; i < nr * ng; i++) {
        b->scale[i] = 0.01f + 0.01f * frand();
        b->zero[i] = (float)(1 << (bits - 1)) + frand();
    }
    for (size_t i = 0; i < b->kq_bytes; i += 8) {
        const uint64_t v = next();
        memcpy(b->kq + i, &v, b->kq_bytes - i < 8 ? b->kq_bytes - i : 8);
    }
    /* sane f16 block scales (random bits could be NaN/denormal) */
    const lrq_f16 h = lrq_f32_to_f16(0.01f);
    for (size_t blk = 0; blk < b->kq_bytes / kt->type_size; blk++) {
        uint8_t *p = b->kq + blk * kt->type_size;
        if (bits == 2) { memcpy(p + LRQ_Q2K_D, &h, 2); memcpy(p + LRQ_Q2K_DMIN, &h, 2); }
        else if (bits == 3) memcpy(p + LRQ_Q3K_D, &h, 2);
        else { memcpy(p + LRQ_Q4K_D, &h, 2); memcpy(p + LRQ_Q4K_DMIN, &h, 2); }
    }
    memset(b->copy_dst, 0, b->lq_bytes); /* fault the pages in before timing */
    for (int64_t j = 0; j < ne0; j++) b->x[j] = nrand();
    b->qp = (lrq_qparams){.layout = LRQ_PARAMS_PLANES, .group = group, .n_sets = 1, .set = 0, .scale = b->scale,
                          .zero = b->zero, .offset = 0.5f};
    b->q8p_kern = lrq_q8p_get();
    return lrq_q8p_quantize(bits, ne0, group, b->x, b->act_buf, b->act_bytes, &b->act);
}

/* K parameter sets on b's codes: matvec_k vs K matvec passes (one thread). */
static void replicas(bench_t *b, int K, int runs) {
    const size_t np = (size_t)b->ne1 * (size_t)(b->ne0 / b->group);
    float *planes = malloc(np * 4 * (size_t)K), *yk[LRQ_Q8P_MAX_K];
    lrq_qparams qps[LRQ_Q8P_MAX_K];
    int ok = planes != NULL;
    for (int k = 0; k < K; k++) ok &= (yk[k] = malloc((size_t)b->ne1 * 4)) != NULL;
    if (!ok) {
        fprintf(stderr, "bench_lq_dot: no memory for %d replicas\n", K);
        return;
    }
    for (size_t i = 0; i < np * (size_t)K; i++) planes[i] = 0.01f + 0.01f * frand();
    for (int k = 0; k < K; k++)
        qps[k] = (lrq_qparams){.layout = LRQ_PARAMS_PLANES, .group = b->group, .n_sets = K, .set = k,
                               .scale = planes, .zero = NULL, .offset = 0.5f}; /* symmetric: scale planes only */
    double tf[64], ts[64], ratio[64];
    for (int r = 0; r <= runs; r++) { /* run 0: warm-up */
        const double t0 = now();
        lrq_q8p_matvec_k(NULL, b->ne0, b->ne1, b->codes, K, qps, &b->act, 0, b->ne1, yk);
        const double t1 = now();
        for (int k = 0; k < K; k++) lrq_q8p_matvec(NULL, b->ne0, b->ne1, b->codes, &qps[k], &b->act, 0, b->ne1, yk[k]);
        const double t2 = now();
        if (r > 0) tf[r - 1] = t1 - t0, ts[r - 1] = t2 - t1, ratio[r - 1] = (t2 - t1) / (t1 - t0);
    }
    printf("\n%d replicas (symmetric sets, 1 thread): matvec_k %.2f ms, %d x matvec %.2f ms, paired speed-up %.2f\n", K,
           median(tf, runs) * 1e3, K, median(ts, runs) * 1e3, median(ratio, runs));
    free(planes);
    for (int k = 0; k < K; k++) free(yk[k]);
}

/* Prefill: ntok tokens through the first min(ne1, 8960) rows (one
 * thread): lrq_q8p_matmul (the tile kernel, 4 tokens per read of a row's
 * codes) against lrq_q8p_matvec once per token, paired ratio; the
 * activations are quantized beforehand (not timed). */
static void prefill(bench_t *b, int ntok, int runs) {
    const int64_t rows = b->ne1 < 8960 ? b->ne1 : 8960;
    lrq_q8p_act *acts = malloc(sizeof *acts * (size_t)ntok);
    uint8_t *bufs = malloc(b->act_bytes * (size_t)ntok);
    float *x = malloc((size_t)b->ne0 * 4), *y = malloc((size_t)ntok * (size_t)rows * 4);
    if (!acts || !bufs || !x || !y) {
        fprintf(stderr, "bench_lq_dot: no memory for the prefill run\n");
        free(acts), free(bufs), free(x), free(y);
        return;
    }
    for (int t = 0; t < ntok; t++) {
        for (int64_t j = 0; j < b->ne0; j++) x[j] = nrand();
        lrq_q8p_quantize(b->bits, b->ne0, b->group, x, bufs + (size_t)t * b->act_bytes, b->act_bytes, &acts[t]);
    }
    double tt[64], tr[64], ratio[64];
    for (int r = 0; r <= runs; r++) { /* run 0: warm-up */
        const double t0 = now();
        lrq_q8p_matmul(b->q8p_kern, b->ne0, rows, b->codes, &b->qp, acts, ntok, 0, rows, y, (size_t)rows);
        const double t1 = now();
        for (int t = 0; t < ntok; t++)
            lrq_q8p_matvec(b->q8p_kern, b->ne0, rows, b->codes, &b->qp, &acts[t], 0, rows, y + (size_t)t * (size_t)rows);
        const double t2 = now();
        if (r > 0) tt[r - 1] = t1 - t0, tr[r - 1] = t2 - t1, ratio[r - 1] = (t2 - t1) / (t1 - t0);
    }
    const double mt = median(tt, runs), mr = median(tr, runs);
    printf("\nprefill, %d tokens x %lld rows (1 thread): matmul (tile) %.1f ms = %.2f ns per (row, token); matvec per"
           " token %.1f ms = %.2f ns; paired speed-up %.2f\n",
           ntok, (long long)rows, mt * 1e3, mt / ((double)ntok * rows) * 1e9, mr * 1e3,
           mr / ((double)ntok * rows) * 1e9, median(ratio, runs));
    free(acts), free(bufs), free(x), free(y);
}

/* RTN, asymmetric min-max per group (w = s (q - z)), of rows x ne0 floats
 * w into packed codes (rows of rb bytes) and scale/zero planes. */
static void rtn(int bits, int32_t group, int64_t ne0, int64_t rows, const float *w, uint8_t *codes, size_t rb,
                float *scale, float *zero, uint8_t *q) {
    const int qmax = (1 << bits) - 1;
    const int64_t ng = ne0 / group;
    for (int64_t r = 0; r < rows; r++) {
        const float *wr = w + (size_t)r * (size_t)ne0;
        for (int64_t g = 0; g < ng; g++) {
            float lo = wr[g * group], hi = lo;
            for (int64_t j = g * group; j < (g + 1) * group; j++) lo = fminf(lo, wr[j]), hi = fmaxf(hi, wr[j]);
            const float s = hi > lo ? (hi - lo) / (float)qmax : 1.0f, z = -lo / s;
            scale[r * ng + g] = s;
            zero[r * ng + g] = z;
            for (int64_t j = g * group; j < (g + 1) * group; j++) {
                const int v = (int)lrintf(wr[j] / s + z);
                q[j] = (uint8_t)(v < 0 ? 0 : v > qmax ? qmax : v);
            }
        }
        lrq_planes_pack_row(bits, ne0, q, codes + (size_t)r * rb);
    }
}

/* Σ (y_int8 - y_f32)^2 and Σ y_f32^2 over the rows of one RTN matrix and
 * n_x inputs [n_x][ne0]: the int8 path (selected level) against the
 * F32-activation planes reference on the same codes. */
typedef struct { double num, den, wq; int64_t outputs; } err_acc; /* wq: Σ (y_f32 - W x)^2, for scale */
static void compare(int bits, int32_t group, int64_t ne0, int64_t rows, const float *w, const float *xs, int n_x,
                    err_acc *e) {
    size_t rb, ab;
    lrq_planes_row_bytes(bits, ne0, &rb);
    lrq_q8p_act_bytes(bits, ne0, group, &ab);
    const int64_t ng = ne0 / group;
    uint8_t *codes = malloc((size_t)rows * rb), *q = malloc((size_t)ne0);
    float *scale = malloc((size_t)(rows * ng) * 4), *zero = malloc((size_t)(rows * ng) * 4);
    float *y8 = malloc((size_t)rows * 4), *yf = malloc((size_t)rows * 4);
    void *buf = malloc(ab);
    if (codes && q && scale && zero && y8 && yf && buf) {
        rtn(bits, group, ne0, rows, w, codes, rb, scale, zero, q);
        lrq_qparams qp = {.layout = LRQ_PARAMS_PLANES, .group = group, .n_sets = 1, .scale = scale, .zero = zero};
        for (int t = 0; t < n_x; t++) {
            const float *x = xs + (size_t)t * (size_t)ne0;
            lrq_q8p_act act;
            lrq_q8p_quantize(bits, ne0, group, x, buf, ab, &act);
            lrq_q8p_matvec(NULL, ne0, rows, codes, &qp, &act, 0, rows, y8);
            lrq_planes_matvec(lrq_planes_ref(), bits, ne0, rows, codes, &qp, x, 0, rows, yf);
            for (int64_t r = 0; r < rows; r++) {
                double yw = 0.0; /* the unquantized weights */
                for (int64_t j = 0; j < ne0; j++) yw += (double)w[(size_t)r * (size_t)ne0 + (size_t)j] * x[j];
                e->num += (double)(y8[r] - yf[r]) * (y8[r] - yf[r]);
                e->den += (double)yf[r] * yf[r];
                e->wq += (yf[r] - yw) * (yf[r] - yw);
            }
            e->outputs += rows;
        }
    }
    free(codes), free(q), free(scale), free(zero), free(y8), free(yf), free(buf);
}

/* Relative error on synthetic LLM-like data: normal weights, normal inputs
 * with 1/64 of the values 20x larger (and without). */
static void accuracy(int bits, int32_t group, int64_t ne0) {
    const int64_t rows = 2048;
    float *w = malloc((size_t)(rows * ne0) * 4), *x = malloc((size_t)ne0 * 4);
    if (!w || !x) return;
    for (int64_t i = 0; i < rows * ne0; i++) w[i] = nrand();
    printf("\naccuracy, ||y_int8 - y_f32|| / ||y_f32|| (same %d-bit RTN codes, group %d; %lld x %lld normal weights):\n",
           bits, (int)group, (long long)rows, (long long)ne0);
    for (int outl = 0; outl < 2; outl++) {
        for (int64_t j = 0; j < ne0; j++) x[j] = nrand() * (outl && (next() & 63) == 0 ? 20.0f : 1.0f);
        err_acc e = {0};
        compare(bits, group, ne0, rows, w, x, 1, &e);
        printf("  normal x%s: %.3e (the %d-bit weights' own error, ||y_f32 - W x|| / ||y_f32||: %.3e)\n",
               outl ? " with 1/64 of the values x20" : "", sqrt(e.num / e.den), bits, sqrt(e.wq / e.den));
    }
    free(w), free(x);
}

/* Relative error on a real trained model's F32 weights and the inputs its
 * linears see on a real prompt (captured with the forward-pass hooks). */
typedef struct {
    lrq_gguf *g;
    int bits;
    int32_t group;
    err_acc all, by_slot[LRQ_SLOT_COUNT];
} model_acc;

static void on_linear_in(void *ud, const lrq_linear_info *info, const float *x, int n_tok) {
    model_acc *a = ud;
    const lrq_gguf_tensor *t = lrq_gguf_find_tensor(a->g, info->name);
    if (!t || t->type != LRQ_TYPE_F32 || info->expert >= 0 || t->ne[0] != info->n_in || t->ne[1] != info->n_out ||
        info->n_in % a->group != 0 || info->n_in % 32 != 0)
        return;
    err_acc e = {0};
    compare(a->bits, a->group, info->n_in, info->n_out, t->data, x, n_tok, &e);
    a->all.num += e.num, a->all.den += e.den, a->all.wq += e.wq, a->all.outputs += e.outputs;
    if (info->slot >= 0 && info->slot < LRQ_SLOT_COUNT) {
        err_acc *s = &a->by_slot[info->slot];
        s->num += e.num, s->den += e.den, s->outputs += e.outputs;
    }
}

static void model_accuracy(int bits, int32_t group, const char *model_path, const char *text_path) {
    lrq_model *m = NULL;
    lrq_ctx *c = NULL;
    model_acc a = {.bits = bits, .group = group};
    char text[2048];
    FILE *f = fopen(text_path, "rb");
    const size_t len = f ? fread(text, 1, sizeof text, f) : 0;
    if (f) fclose(f);
    int32_t *ids = NULL;
    size_t n = 0;
    if (!len || lrq_model_load(&m, model_path, NULL) != 0 || lrq_gguf_open(&a.g, model_path) != 0 ||
        lrq_tokenize(lrq_model_vocab(m), text, len, 1, 0, &ids, &n) != 0) {
        fprintf(stderr, "bench_lq_dot: model accuracy skipped (%s)\n", len ? lrq_last_error() : text_path);
        goto out;
    }
    if (n > 128) n = 128;
    if (lrq_ctx_new(&c, m, 256, (int)n, 1) != 0) goto out;
    const lrq_hooks h = {.ud = &a, .linear_in = on_linear_in};
    lrq_ctx_set_hooks(c, &h);
    if (!lrq_ctx_eval(c, ids, (int)n, (int)n - 1)) goto out;
    printf("\naccuracy on %s (F32 weights RTN'ed to %d bits, group %d; the inputs every linear saw on %zu prompt\n"
           "tokens of %s), ||y_int8 - y_f32|| / ||y_f32||: all %.3e (%lld outputs; the weights' own error\n"
           "||y_f32 - W x|| / ||y_f32|| is %.3e)",
           model_path, bits, (int)group, n, text_path, sqrt(a.all.num / a.all.den), (long long)a.all.outputs,
           sqrt(a.all.wq / a.all.den));
    for (int s = 0; s < LRQ_SLOT_COUNT; s++)
        if (a.by_slot[s].outputs) printf("; %s %.3e", lrq_linear_slot_name(s), sqrt(a.by_slot[s].num / a.by_slot[s].den));
    printf("\n");
out:
    free(ids);
    lrq_ctx_free(c);
    if (a.g) lrq_gguf_close(a.g);
    lrq_model_free(m);
}

int main(int argc, char **argv) {
    const int bits = argc > 1 ? atoi(argv[1]) : 2;
    const int32_t group = argc > 2 ? atoi(argv[2]) : 128;
    const int64_t ne0 = argc > 3 ? atoll(argv[3]) : 1536, ne1 = argc > 4 ? atoll(argv[4]) : 8960 * 28;
    const int runs = argc > 5 ? atoi(argv[5]) : 9;
    const int K = argc > 6 ? atoi(argv[6]) : 1;
    if ((bits != 2 && bits != 3 && bits != 4) || group < 32 || ne1 < 2 || runs < 1 || runs > 64 || K < 1 || K > LRQ_Q8P_MAX_K) {
        fprintf(stderr, "usage: bench_lq_dot [bits 2|3|4] [group] [cols, %% 256 == 0] [rows] [runs <= 64]\n");
        return 1;
    }
    lrq_types_init();
#if defined(__x86_64__)
    if (!__builtin_cpu_supports("avx2")) {
        fprintf(stderr, "bench_lq_dot: the read sweep needs AVX2\n");
        return 1;
    }
#endif
    bench_t b;
    if (setup(&b, bits, group, ne0, ne1) != 0) {
        fprintf(stderr, "bench_lq_dot: cannot set up (%s)\n", lrq_err_get());
        return 1;
    }
    const size_t ng = (size_t)(ne0 / group);
    printf("kernels: %s; %lld x %lld, %d-bit codes, group %d, asymmetric (f32 scale + zero planes)\n",
           lrq_types_isa(), (long long)ne1, (long long)ne0, bits, (int)group);
    printf("lq bytes %.1f MB (codes %.1f + params %.1f; %.3f bits/weight); %s bytes %.1f MB (%.3f bits/weight)\n",
           b.lq_bytes / 1e6, (double)ne1 * b.rb / 1e6, (double)ne1 * ng * 8 / 1e6,
           8.0 * b.lq_bytes / ((double)ne0 * ne1), lrq_type_get(b.kq_type)->name, b.kq_bytes / 1e6,
           8.0 * b.kq_bytes / ((double)ne0 * ne1));
    printf("median of %d runs (each run: every method once, back to back; shared, noisy machine)\n", runs);
    for (int nt = 1; nt <= 2; nt++) {
        double t[N_M][64], cpu[N_M][64], ratio[N_M][64], vs_read[N_M][64];
        for (int m = 0; m < N_M; m++) pass(&b, m, nt, &cpu[m][0]); /* warm-up */
        for (int r = 0; r < runs; r++) {
            for (int m = 0; m < N_M; m++) t[m][r] = pass(&b, m, nt, &cpu[m][r]);
            for (int m = 0; m < N_M; m++) {
                ratio[m][r] = t[M_KQ][r] / t[m][r];
                /* the share of the read bandwidth a method reaches on its own bytes */
                const double bm = m == M_KQ ? (double)b.kq_bytes : (double)b.lq_bytes;
                vs_read[m][r] = (bm / t[m][r]) / ((double)b.lq_bytes / t[M_READ][r]);
            }
        }
        printf("\n%d thread%s:\n%-24s %9s %9s %10s %12s %12s %10s\n", nt, nt > 1 ? "s" : "", "method", "ms/pass", "GB/s",
               "Mrows/s", "speed vs KQ", "GB/s / read", "GB/cpu-s");
        for (int m = 0; m < N_M; m++) {
            const double tm = median(t[m], runs), rt = median(ratio[m], runs), vr = median(vs_read[m], runs);
            const double tc = median(cpu[m], runs) / nt; /* CPU seconds per thread */
            const double bytes = m == M_KQ ? (double)b.kq_bytes : (double)b.lq_bytes;
            printf("%-24s %9.2f %9.2f %10.2f %12.2f %12.2f %10.2f\n", NAME[m], tm * 1e3, bytes / tm / 1e9,
                   m < M_READ ? (double)ne1 / tm / 1e6 : 0.0, rt, vr, bytes / tc / 1e9);
        }
    }
    if (K > 1) replicas(&b, K, runs);
    prefill(&b, 512, runs < 5 ? runs : 5);
    accuracy(bits, group, ne0);
    if (argc > 8) model_accuracy(bits, group, argv[7], argv[8]);
    return 0;
}
