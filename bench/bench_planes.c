/* bench_planes.c — micro-benchmark of the planes kernels (not a test):
 * K replicas of one planes matrix (K parameter sets sharing the codes),
 * computed as K separate matrix-vector products (lrq_planes_matvec, K reads
 * of the codes) against the fused K-replica forms that read the codes once
 * (lrq_planes_matvec_k: one input; lrq_planes_matvec_kx: one input per
 * replica). Prints ns per matrix row (all K outputs of the row), the median
 * of several runs, and the median over runs of the ratio to the single
 * matvec measured in the same run (paired: robust to a change of machine
 * state between runs on a shared machine). Kernels: the selected level (LRQ_ISA=scalar
 * |avx2|avx512 to choose). Asymmetric parameters (scale and zero planes).
 *
 * usage: bench_planes [bits (2)] [group (128)] [runs (7)] [seconds per measurement (0.15)] [shapes (3)]
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include "core/core.h"
#include "fmt/planes.h"
#include "fmt/types.h"
#include "kern/planes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAXK 4

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
static float frand(void) { return (float)(next() >> 40) / (float)(1 << 24) - 0.5f; }

typedef struct {
    int bits;
    int64_t ne0, ne1;
    int32_t group;
    uint8_t *codes;
    float *scale, *zero;
    lrq_qparams qp[MAXK];
    float *x[MAXK], *y[MAXK];
} mat;

static int mat_make(mat *m, int bits, int64_t ne0, int64_t ne1, int32_t group) {
    memset(m, 0, sizeof *m);
    m->bits = bits, m->ne0 = ne0, m->ne1 = ne1, m->group = group;
    size_t total, rb;
    if (lrq_planes_codes_bytes(bits, ne0, ne1, &total) || lrq_planes_row_bytes(bits, ne0, &rb)) return -1;
    m->codes = malloc(total);
    uint8_t *q = malloc((size_t)ne0);
    const size_t np = (size_t)MAXK * (size_t)ne1 * (size_t)(ne0 / group);
    m->scale = malloc(np * sizeof(float));
    m->zero = malloc(np * sizeof(float));
    if (!m->codes || !q || !m->scale || !m->zero) return -1;
    for (int64_t r = 0; r < ne1; r++) {
        for (int64_t j = 0; j < ne0; j++) q[j] = (uint8_t)(next() & ((1u << bits) - 1));
        lrq_planes_pack_row(bits, ne0, q, m->codes + (size_t)r * rb);
    }
    free(q);
    for (size_t i = 0; i < np; i++) {
        m->scale[i] = 0.01f + 0.01f * frand();
        m->zero[i] = (float)(1 << (bits - 1)) + frand();
    }
    for (int k = 0; k < MAXK; k++) {
        m->qp[k] = (lrq_qparams){.layout = LRQ_PARAMS_PLANES, .group = group, .n_sets = MAXK, .set = k,
                                 .scale = m->scale, .zero = m->zero, .offset = 0.5f};
        m->x[k] = malloc((size_t)ne0 * sizeof(float));
        m->y[k] = malloc((size_t)ne1 * sizeof(float));
        if (!m->x[k] || !m->y[k]) return -1;
        for (int64_t j = 0; j < ne0; j++) m->x[k][j] = frand();
    }
    return 0;
}

static void mat_free(mat *m) {
    free(m->codes);
    free(m->scale);
    free(m->zero);
    for (int k = 0; k < MAXK; k++) {
        free(m->x[k]);
        free(m->y[k]);
    }
}

enum { BASE, SEP, FUSED, SEP_X, FUSED_X, N_METHODS };
static const char *METHOD[N_METHODS] = {"matvec (K=1)", "K x matvec (same x)", "matvec_k (fused)",
                                        "K x matvec (x_k)", "matvec_kx (fused)"};

static void run(const lrq_planes_kernels *kn, mat *m, int method, int K) {
    const float *const *xs = (const float *const *)m->x;
    switch (method) {
    case BASE: lrq_planes_matvec(kn, m->bits, m->ne0, m->ne1, m->codes, &m->qp[0], m->x[0], 0, m->ne1, m->y[0]); break;
    case SEP:
        for (int k = 0; k < K; k++)
            lrq_planes_matvec(kn, m->bits, m->ne0, m->ne1, m->codes, &m->qp[k], m->x[0], 0, m->ne1, m->y[k]);
        break;
    case FUSED: lrq_planes_matvec_k(kn, m->bits, m->ne0, m->ne1, m->codes, K, m->qp, m->x[0], 0, m->ne1, m->y); break;
    case SEP_X:
        for (int k = 0; k < K; k++)
            lrq_planes_matvec(kn, m->bits, m->ne0, m->ne1, m->codes, &m->qp[k], m->x[k], 0, m->ne1, m->y[k]);
        break;
    default: lrq_planes_matvec_kx(kn, m->bits, m->ne0, m->ne1, m->codes, K, m->qp, xs, 0, m->ne1, m->y); break;
    }
}

static int cmp_d(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    const int bits = argc > 1 ? atoi(argv[1]) : 2;
    const int32_t group = argc > 2 ? atoi(argv[2]) : 128;
    const int runs = argc > 3 ? atoi(argv[3]) : 7;
    const double secs = argc > 4 ? atof(argv[4]) : 0.15;
    const int nshapes = argc > 5 ? atoi(argv[5]) : 3; /* the first 1, 2 or 3 shapes */
    if (!lrq_planes_bits_ok(bits) || group < 1 || runs < 1 || runs > 64) {
        fprintf(stderr, "usage: bench_planes [bits 2|3|4|8] [group] [runs <= 64] [seconds]\n");
        return 1;
    }
    lrq_types_init();
    const lrq_planes_kernels *kn = lrq_planes_get();
    printf("planes kernels: %s; %d-bit codes, group %d, asymmetric; median of %d runs, ns per matrix row\n",
           lrq_types_isa(), bits, (int)group, runs);
    static const int64_t SHAPES[3][2] = {{512, 1024}, {4096, 4096}, {16384, 8192}}; /* rows, cols */
    for (int s = 0; s < nshapes && s < 3; s++) {
        mat m;
        if (mat_make(&m, bits, SHAPES[s][1], SHAPES[s][0], group) != 0 || m.ne0 % group) {
            fprintf(stderr, "cannot set up %lld x %lld\n", (long long)SHAPES[s][0], (long long)SHAPES[s][1]);
            return 1;
        }
        size_t cb;
        lrq_planes_codes_bytes(bits, m.ne0, m.ne1, &cb);
        const double pb = (double)m.ne1 * (double)(m.ne0 / group) * 8.0; /* scale + zero of one set */
        printf("\n%lld x %lld: codes %.2f MiB, params %.2f MiB per set\n", (long long)m.ne1, (long long)m.ne0,
               (double)cb / 1048576.0, pb / 1048576.0);
        printf("%-22s %4s %10s %14s\n", "method", "K", "ns/row", "paired ratio");
        for (int K = 2; K <= MAXK; K *= 2) {
            /* each run measures the single matvec too: the ratio to it is
             * taken within the run (paired), so a change of machine state
             * between runs (a shared VM) does not enter it */
            double t[N_METHODS][64], ratio[N_METHODS][64];
            for (int r = 0; r < runs; r++) {
                for (int meth = 0; meth < N_METHODS; meth++) {
                    long it = 0;
                    const double t0 = now();
                    double t1;
                    do {
                        run(kn, &m, meth, K);
                        it++;
                        t1 = now();
                    } while (t1 - t0 < secs);
                    t[meth][r] = (t1 - t0) / (double)it / (double)m.ne1 * 1e9;
                }
                for (int meth = 0; meth < N_METHODS; meth++) ratio[meth][r] = t[meth][r] / t[BASE][r];
            }
            for (int meth = 0; meth < N_METHODS; meth++) {
                qsort(t[meth], (size_t)runs, sizeof(double), cmp_d);
                qsort(ratio[meth], (size_t)runs, sizeof(double), cmp_d);
                printf("%-22s %4d %10.1f %14.2f\n", METHOD[meth], meth == BASE ? 1 : K, t[meth][runs / 2],
                       ratio[meth][runs / 2]);
            }
        }
        mat_free(&m);
    }
    return 0;
}
