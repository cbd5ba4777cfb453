/* test_gemm_order.c — the exact-order F16/BF16 tile kernels
 * (kern/gemm.h: lrq_gemm_order_get; gemm_order_avx512.c, gemm_order_avx2.c):
 *  - bit identity: at every ISA this CPU has, every output of every tile
 *    shape (1..R rows x 1..C columns) equals the bits of the scalar
 *    specification lrq_order_ref()->f16_gemm / bf16_gemm for that pair of
 *    rows, for many K (one step, odd step counts, long rows), odd strides
 *    and unaligned rows; values with outliers, zero rows, F16 subnormals,
 *    and BF16 rows whose products over- and underflow float (where an fma
 *    would differ from the spec's add of the rounded product);
 *  - a whole matmul tiled the way forward.c tiles it (partial tiles at the
 *    edges) equals one order-kernel call per output;
 *  - dispatch: lrq_gemm_order_get follows the selected ISA, and nothing is
 *    handed out for other types or the scalar ISA.
 * Bits are compared with memcmp. */
#include "testlib.h"
#include "core/core.h"
#include "kern/gemm.h"
#include "kern/order.h"
#include "fmt/types.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(LRQ_HAVE_X86)
#include <cpuid.h>
#endif

static int cpu_has(const char *isa) {
#if defined(LRQ_HAVE_X86)
    __builtin_cpu_init();
    unsigned a, b, c, d;
    int f16c = __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 29));
    int has2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && f16c;
    if (strcmp(isa, "avx2") == 0) return has2;
    const int has512 = has2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                       __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
                       __builtin_cpu_supports("avx512vnni");
    if (strcmp(isa, "avx512") == 0) return has512;
    if (strcmp(isa, "avx512bf16") == 0) return has512 && __builtin_cpu_supports("avx512bf16");
#else
    (void)isa;
#endif
    return 0;
}

/* avx512bf16: the vdpbf16ps kernel (BF16 only) */
static const char *ISAS[] = { "avx512bf16", "avx512", "avx2" };
#define N_ISAS 3
static const int TYPES[] = { LRQ_TYPE_F16, LRQ_TYPE_BF16 };

typedef struct {
    int type;
    int64_t K;
    size_t ws, as;     /* strides in bytes (odd multiples of 2: rows are unaligned) */
    int N, M;          /* weight rows, activation rows */
    uint16_t *Wbuf, *Abuf;
    uint8_t *W, *A;
} mat;

static uint16_t to_half(int type, float v) { return type == LRQ_TYPE_F16 ? lrq_f32_to_f16(v) : lrq_f32_to_bf16(v); }

/* Row kinds: 0 normal, 1 outliers, 2 zeros, 3 tiny (F16 subnormals; BF16 products underflowing float),
 * 4 huge (BF16 products overflowing float), 5 mixed (BF16: some subnormal values, some products near
 * FLT_MIN, so that sums land in and around the subnormal range; F16: normal). */
static void fill_row(int type, uint8_t *row, int64_t K, int kind, uint64_t *st) {
    for (int64_t i = 0; i < K; i++) {
        float v = test_rand_normal(st);
        switch (kind) {
        case 1: if (test_rand_u64(st) % 13 == 0) v *= 300.0f; break;
        case 2: v = 0.0f; break;
        case 3: v *= type == LRQ_TYPE_F16 ? 3e-6f : 1e-22f; break;
        case 4: v *= type == LRQ_TYPE_F16 ? 200.0f : 3e19f; break;
        case 5:
            if (type == LRQ_TYPE_BF16) {
                const uint64_t u = test_rand_u64(st) % 4;
                v *= u == 0 ? 1e-39f : u == 1 ? 1e-19f : u == 2 ? 1.1e-19f : 1.0f;
            }
            break;
        default: break;
        }
        const uint16_t h = to_half(type, v);
        memcpy(row + 2 * i, &h, 2);
    }
}

static void mat_new(mat *m, int type, int64_t K, int N, int M, uint64_t *st) {
    memset(m, 0, sizeof *m);
    m->type = type;
    m->K = K;
    m->N = N;
    m->M = M;
    m->ws = 2 * (size_t)K + 6;
    m->as = 2 * (size_t)K + 10;
    /* start 2 bytes into the buffer; no slack after the last row (ASan catches reads past it) */
    m->Wbuf = malloc(2 + m->ws * (size_t)(N - 1) + 2 * (size_t)K);
    m->Abuf = malloc(2 + m->as * (size_t)(M - 1) + 2 * (size_t)K);
    m->W = (uint8_t *)m->Wbuf + 2;
    m->A = (uint8_t *)m->Abuf + 2;
    for (int r = 0; r < N; r++) fill_row(type, m->W + (size_t)r * m->ws, K, r % 6, st);
    for (int c = 0; c < M; c++) fill_row(type, m->A + (size_t)c * m->as, K, (c + 2) % 6, st);
}

static void mat_free(mat *m) {
    free(m->Wbuf);
    free(m->Abuf);
}

static void spec_dot(int type, int64_t K, float *s, const void *x, const void *y) {
    const lrq_order_kernels *ref = lrq_order_ref();
    if (type == LRQ_TYPE_F16) ref->f16_gemm(K, s, x, y);
    else ref->bf16_gemm(K, s, x, y);
}

/* All tile shapes at a few positions against the spec; returns mismatches. */
static int check_tiles(const mat *m, lrq_gemm_fn g, int R, int C, const char *isa) {
    const size_t cs = (size_t)m->N + 7;
    float *ref = malloc(sizeof(float) * cs * (size_t)m->M);
    float *out = malloc(sizeof(float) * cs * (size_t)m->M);
    for (int c = 0; c < m->M; c++)
        for (int r = 0; r < m->N; r++)
            spec_dot(m->type, m->K, &ref[(size_t)c * cs + (size_t)r], m->W + (size_t)r * m->ws, m->A + (size_t)c * m->as);
    int bad = 0;
    for (int nr = 1; nr <= R; nr++)
        for (int nc = 1; nc <= C; nc++)
            for (int r0 = 0; r0 + nr <= m->N; r0 += nr + 1)
                for (int c0 = 0; c0 + nc <= m->M; c0 += nc + 2) {
                    for (size_t i = 0; i < cs * (size_t)m->M; i++) out[i] = -12345.0f;
                    g(m->K, m->W + (size_t)r0 * m->ws, m->ws, nr, m->A + (size_t)c0 * m->as, m->as, nc,
                      out + (size_t)c0 * cs + (size_t)r0, cs);
                    for (int c = 0; c < m->M; c++)
                        for (int r = 0; r < m->N; r++) {
                            const size_t i = (size_t)c * cs + (size_t)r;
                            const int inside = r >= r0 && r < r0 + nr && c >= c0 && c < c0 + nc;
                            if (inside ? memcmp(&out[i], &ref[i], sizeof(float)) != 0 : out[i] != -12345.0f) {
                                if (bad < 5)
                                    test_fail(__FILE__, __LINE__, "%s %s K=%lld tile %dx%d at (%d,%d): out(%d,%d) = %.9g, spec %.9g%s",
                                              isa, lrq_type_name(m->type), (long long)m->K, nr, nc, r0, c0, r, c, out[i],
                                              ref[i], inside ? "" : " (outside the tile)");
                                bad++;
                            }
                        }
                }
    free(ref);
    free(out);
    return bad;
}

static void test_bit_identity(void) {
    uint64_t st = 4242;
    int tested = 0;
    for (int ii = 0; ii < N_ISAS; ii++) {
        if (!cpu_has(ISAS[ii])) {
            printf("  (no %s on this CPU: skipped)\n", ISAS[ii]);
            continue;
        }
        for (int ti = 0; ti < 2; ti++) {
            int R, C;
            lrq_gemm_fn g = lrq_gemm_order_get_isa(TYPES[ti], ISAS[ii], &R, &C);
            const int expect = strcmp(ISAS[ii], "avx512bf16") != 0 || TYPES[ti] == LRQ_TYPE_BF16;
            CHECKF(!expect || (g && R >= 1 && C >= 1), "%s %s: no tile kernel", ISAS[ii], lrq_type_name(TYPES[ti]));
            if (!g) continue;
            const int step = TYPES[ti] == LRQ_TYPE_F16 ? 16 : 32;
            int bad = 0;
            /* fixed K (1, 2, 3 steps, powers of two, model widths) and random ones */
            int64_t ks[24] = { step, 2 * step, 3 * step, 64, 256, 768, 1536, 2048 + step };
            int nk = 8;
            while (nk < 24) ks[nk++] = step * (1 + (int64_t)(test_rand_u64(&st) % 100));
            for (int ki = 0; ki < nk; ki++) {
                if (ks[ki] % step) continue;
                mat m;
                mat_new(&m, TYPES[ti], ks[ki], 2 * R + 3, 2 * C + 3 > 7 ? 2 * C + 3 : 7, &st);
                bad += check_tiles(&m, g, R, C, ISAS[ii]);
                mat_free(&m);
            }
            CHECKF(bad == 0, "%s %s: %d outputs differ from the order spec", ISAS[ii], lrq_type_name(TYPES[ti]), bad);
            printf("  %s %-4s tile %dx%d: %s\n", ISAS[ii], lrq_type_name(TYPES[ti]), R, C, bad ? "MISMATCH" : "bit-identical");
            tested++;
        }
    }
    if (cpu_has("avx2")) CHECK(tested >= 2);
}

/* A whole matmul of random shape, tiled as forward.c's mm_worker_tiled does
 * (row chunks of 16, tiles of R x C, partial at the ends), against one
 * call of the selected order kernel (lrq_order_get) per output. */
static void test_tiled_matmul(void) {
    uint64_t st = 99;
    const lrq_order_kernels *ord = lrq_order_get();
    int checked = 0;
    for (int ii = 0; ii < N_ISAS; ii++) {
        if (!cpu_has(ISAS[ii])) continue;
        for (int ti = 0; ti < 2; ti++) {
            int R, C;
            lrq_gemm_fn g = lrq_gemm_order_get_isa(TYPES[ti], ISAS[ii], &R, &C);
            if (!g) continue;
            const int step = TYPES[ti] == LRQ_TYPE_F16 ? 16 : 32;
            for (int it = 0; it < 4; it++) {
                const int64_t K = step * (1 + (int64_t)(test_rand_u64(&st) % 40));
                const int N = 4 * (1 + (int)(test_rand_u64(&st) % 40)), M = 2 + (int)(test_rand_u64(&st) % 37);
                mat m;
                mat_new(&m, TYPES[ti], K, N, M, &st);
                float *ref = malloc(sizeof(float) * (size_t)N * M), *out = malloc(sizeof(float) * (size_t)N * M);
                for (int c = 0; c < M; c++)
                    for (int r = 0; r < N; r++) {
                        const void *x = m.W + (size_t)r * m.ws, *y = m.A + (size_t)c * m.as;
                        if (TYPES[ti] == LRQ_TYPE_F16) ord->f16_gemm(K, &ref[(size_t)c * N + r], x, y);
                        else ord->bf16_gemm(K, &ref[(size_t)c * N + r], x, y);
                    }
                for (int r0 = 0; r0 < N; r0 += 16) {
                    const int r1 = r0 + 16 < N ? r0 + 16 : N;
                    for (int c0 = 0; c0 < M; c0 += C)
                        for (int r = r0; r < r1; r += R)
                            g(K, m.W + (size_t)r * m.ws, m.ws, r1 - r < R ? r1 - r : R, m.A + (size_t)c0 * m.as, m.as,
                              M - c0 < C ? M - c0 : C, out + (size_t)c0 * N + r, (size_t)N);
                }
                CHECKF(memcmp(ref, out, sizeof(float) * (size_t)N * M) == 0,
                       "%s %s K=%lld N=%d M=%d: tiled matmul differs from the order kernel", ISAS[ii],
                       lrq_type_name(TYPES[ti]), (long long)K, N, M);
                free(ref);
                free(out);
                mat_free(&m);
                checked++;
            }
        }
    }
    printf("  %d tiled matmuls compared\n", checked);
}

static void test_dispatch(void) {
    const char *isa = lrq_types_isa();
    for (int ti = 0; ti < 2; ti++) {
        int R, C, R2, C2;
        lrq_gemm_fn g = lrq_gemm_order_get(TYPES[ti], &R, &C);
        const char *want = TYPES[ti] == LRQ_TYPE_BF16 && lrq_cpu_has_avx512bf16() ? "avx512bf16" : isa;
        lrq_gemm_fn gi = lrq_gemm_order_get_isa(TYPES[ti], want, &R2, &C2);
        CHECK(g == gi && R == R2 && C == C2);
        if (strcmp(isa, "scalar") == 0) CHECK(g == NULL && R == 0 && C == 0);
    }
    int R, C;
    CHECK(lrq_gemm_order_get_isa(LRQ_TYPE_F16, "scalar", &R, &C) == NULL && R == 0 && C == 0);
    CHECK(lrq_gemm_order_get(LRQ_TYPE_F32, &R, &C) == NULL && R == 0 && C == 0);
    CHECK(lrq_gemm_order_get(LRQ_TYPE_Q8_0, &R, &C) == NULL);
    CHECK(lrq_gemm_order_get(-1, &R, &C) == NULL);
}

int main(void) {
    lrq_types_init();
    printf("selected ISA: %s%s\n", lrq_types_isa(), lrq_cpu_has_avx512bf16() ? " (BF16: vdpbf16ps)" : "");
    TEST_RUN(test_bit_identity);
    TEST_RUN(test_tiled_matmul);
    TEST_RUN(test_dispatch);
    return test_finish();
}
