/* test_planes.c — planes tensors: the packed code layout (fmt/planes.h) and
 * the kernels (kern/planes.h).
 *  - pack/unpack round trip for every code width and odd lengths; the bit
 *    layout checked against hand-made bytes; sizes and their errors;
 *  - the reference dot equals a naive dequantize-then-dot in double within a
 *    rounding bound derived from Σ|terms|;
 *  - reference dot_k / dot_kx: K = 1 is dot bit for bit, K = 3 and 5 give
 *    bit for bit K separate dot calls (the reference uses the same
 *    operations); every level's K forms for K = 1..5 within the bound;
 *  - every SIMD level this build and CPU have (AVX2, AVX-512; NEON on
 *    AArch64) against the reference (bound: both
 *    orders' rounding bounds), on random shapes with tails: group sizes 16 ..
 *    256, per-channel (group = n, n odd), odd groups (groups that start in
 *    the middle of a byte), symmetric and asymmetric, offsets 0 and not;
 *  - the matrix-vector helpers: rows [r0, r1) only, same values as dot,
 *    argument errors;
 *  - the checks can fail: one corrupted code moves every kernel's result
 *    outside the bound.
 * Code rows are allocated at their exact size, so a kernel that reads past a
 * row is caught by the sanitizer build (tests/test_sanitize.sh).
 */
#include "testlib.h"

#include "core/core.h"
#include "fmt/planes.h"
#include "fmt/types.h"
#include "kern/planes.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(LRQ_HAVE_X86)
#include <cpuid.h>
#endif

static const int BITS[6] = {2, 3, 4, 5, 6, 8};
#define N_BITS 6

/* ------------------------------------------------------------ layout -- */

static void test_row_bytes(void) {
    size_t b = 0;
    CHECK(lrq_planes_row_bytes(2, 5, &b) == 0 && b == 2);
    CHECK(lrq_planes_row_bytes(3, 8, &b) == 0 && b == 3);
    CHECK(lrq_planes_row_bytes(3, 9, &b) == 0 && b == 4);
    CHECK(lrq_planes_row_bytes(4, 7, &b) == 0 && b == 4);
    CHECK(lrq_planes_row_bytes(8, 7, &b) == 0 && b == 7);
    CHECK(lrq_planes_row_bytes(2, 0, &b) == 0 && b == 0);
    CHECK(lrq_planes_row_bytes(5, 8, &b) == 0 && b == 5);
    CHECK(lrq_planes_row_bytes(6, 5, &b) == 0 && b == 4);
    CHECK(lrq_planes_row_bytes(7, 8, &b) == -1 && strstr(lrq_err_get(), "7 bits"));
    CHECK(lrq_planes_row_bytes(4, -1, &b) == -1);
    CHECK(lrq_planes_row_bytes(8, INT64_MAX, &b) == -1 && strstr(lrq_err_get(), "overflow"));
    CHECK(lrq_planes_codes_bytes(3, 9, 5, &b) == 0 && b == 20);
    CHECK(lrq_planes_codes_bytes(8, INT64_MAX / 4, INT64_MAX / 4, &b) == -1);
    uint8_t c[2] = {4, 1}, out[1];
    CHECK(lrq_planes_pack_row(2, 2, c, out) == -1 && strstr(lrq_err_get(), "does not fit"));
}

/* The documented bit order, on hand-made bytes. */
static void test_layout_bytes(void) {
    uint8_t out[4];
    const uint8_t c2[5] = {1, 2, 3, 0, 3};
    CHECK(lrq_planes_pack_row(2, 5, c2, out) == 0);
    CHECK(out[0] == (1 | 2 << 2 | 3 << 4 | 0 << 6) && out[1] == 3);
    const uint8_t c4[3] = {0xA, 0x5, 0xF};
    CHECK(lrq_planes_pack_row(4, 3, c4, out) == 0);
    CHECK(out[0] == 0x5A && out[1] == 0x0F);
    /* 3 bits: 8 codes in 3 bytes, code 2 straddles bytes 0 and 1 */
    const uint8_t c3[8] = {1, 2, 7, 0, 5, 3, 6, 4};
    uint32_t want = 0;
    for (int j = 0; j < 8; j++) want |= (uint32_t)c3[j] << (3 * j);
    CHECK(lrq_planes_pack_row(3, 8, c3, out) == 0);
    CHECK(out[0] == (want & 0xFF) && out[1] == ((want >> 8) & 0xFF) && out[2] == (want >> 16));
    CHECK(lrq_planes_code(out, 3, 2) == 7);
    /* 5 bits: 8 codes in 5 bytes; 6 bits: 4 codes in 3 bytes (both straddle) */
    const uint8_t c5[8] = {31, 1, 17, 8, 0, 30, 5, 22}, c6[4] = {63, 2, 40, 21};
    uint64_t w5 = 0, w6 = 0;
    for (int j = 0; j < 8; j++) w5 |= (uint64_t)c5[j] << (5 * j);
    for (int j = 0; j < 4; j++) w6 |= (uint64_t)c6[j] << (6 * j);
    uint8_t o5[5], o6[3];
    CHECK(lrq_planes_pack_row(5, 8, c5, o5) == 0 && lrq_planes_pack_row(6, 4, c6, o6) == 0);
    int ok = 1;
    for (int i = 0; i < 5; i++) ok &= o5[i] == ((w5 >> (8 * i)) & 0xFF);
    for (int i = 0; i < 3; i++) ok &= o6[i] == ((w6 >> (8 * i)) & 0xFF);
    CHECK(ok);
    CHECK(lrq_planes_code(o5, 5, 1) == 1 && lrq_planes_code(o5, 5, 7) == 22 && lrq_planes_code(o6, 6, 2) == 40);
}

static void test_pack_roundtrip(void) {
    uint64_t st = 7;
    for (int bi = 0; bi < N_BITS; bi++) {
        const int b = BITS[bi];
        for (int64_t n = 1; n <= 67; n++) {
            uint8_t c[67], back[67], row[68];
            for (int64_t j = 0; j < n; j++) c[j] = (uint8_t)(test_rand_u64(&st) & ((1u << b) - 1));
            size_t rb;
            CHECK(lrq_planes_row_bytes(b, n, &rb) == 0);
            memset(row, 0xEE, sizeof row);
            CHECK(lrq_planes_pack_row(b, n, c, row) == 0);
            CHECK(row[rb] == 0xEE); /* nothing written past the row */
            if ((n * b) % 8) CHECKF((row[rb - 1] >> ((n * b) % 8)) == 0, "b=%d n=%lld: padding bits", b, (long long)n);
            CHECK(lrq_planes_unpack_row(b, n, row, back) == 0);
            CHECKF(memcmp(c, back, (size_t)n) == 0, "b=%d n=%lld: round trip", b, (long long)n);
            int same = 1;
            for (int64_t j = 0; j < n; j++) same &= lrq_planes_code(row, b, j) == c[j];
            CHECKF(same, "b=%d n=%lld: lrq_planes_code", b, (long long)n);
        }
    }
}

/* ----------------------------------------------------- random planes -- */

/* One random planes row with K parameter sets, code row at its exact size. */
typedef struct {
    int bits, K, asym;
    int64_t n;
    int32_t group;
    uint8_t *q;     /* unpacked codes [n] */
    uint8_t *row;   /* packed, exact size */
    float *scale[LRQ_PLANES_MAX_K], *zero[LRQ_PLANES_MAX_K];
    float off[LRQ_PLANES_MAX_K];
    float *x[LRQ_PLANES_MAX_K];
} prow;

static void prow_make(prow *p, int bits, int64_t n, int32_t group, int K, int asym, float offset, uint64_t *st) {
    memset(p, 0, sizeof *p);
    p->bits = bits, p->n = n, p->group = group, p->K = K, p->asym = asym;
    const unsigned qmax = (1u << bits) - 1;
    p->q = malloc((size_t)n);
    for (int64_t j = 0; j < n; j++) p->q[j] = (uint8_t)(test_rand_u64(st) % (qmax + 1));
    size_t rb;
    lrq_planes_row_bytes(bits, n, &rb);
    p->row = malloc(rb);
    lrq_planes_pack_row(bits, n, p->q, p->row);
    const int64_t ng = n / group;
    for (int k = 0; k < K; k++) {
        p->scale[k] = malloc((size_t)ng * sizeof(float));
        p->zero[k] = asym ? malloc((size_t)ng * sizeof(float)) : NULL;
        for (int64_t g = 0; g < ng; g++) {
            p->scale[k][g] = (0.1f + fabsf(test_rand_f32(st))) * (test_rand_u64(st) & 1 ? 0.02f : -0.02f);
            if (asym) p->zero[k][g] = (float)qmax * 0.5f * (1.0f + test_rand_f32(st));
        }
        p->off[k] = k == 0 ? offset : offset + 0.25f * (float)k;
        p->x[k] = malloc((size_t)n * sizeof(float));
        for (int64_t j = 0; j < n; j++) p->x[k][j] = test_rand_normal(st);
    }
}

static void prow_free(prow *p) {
    free(p->q);
    free(p->row);
    for (int k = 0; k < p->K; k++) {
        free(p->scale[k]);
        free(p->zero[k]);
        free(p->x[k]);
    }
}

/* Dequantize-then-dot in double, replica k with input xk; *mag = Σ|terms| of
 * the factored form the kernels compute: Σ_g |s| (Σ|q x| + |z - o| Σ|x|). */
static double naive(const prow *p, int k, const float *xk, double *mag) {
    double y = 0, m = 0;
    for (int64_t j = 0; j < p->n; j++) {
        const int64_t g = j / p->group;
        const double s = p->scale[k][g], z = p->zero[k] ? p->zero[k][g] : 0.0, o = p->off[k];
        y += s * ((double)p->q[j] - z + o) * (double)xk[j];
        m += fabs(s) * (fabs((double)p->q[j] * xk[j]) + fabs((z - o) * xk[j]));
    }
    *mag = m;
    return y;
}

/* First-order rounding bound of one kernel result (any order): the group
 * sums add `group` terms, the parameters cost a few roundings, the row sum
 * n/group terms; unit roundoff 2^-24, times 2 for second-order terms. */
static double bound(const prow *p, double mag) {
    return 2.0 * (double)(p->group + p->n / p->group + 6) * 0x1p-24 * mag;
}

static int close_to(double got, double want, double tol) { return fabs(got - want) <= tol; }

/* ------------------------------------------------------- the kernels -- */

/* Every level of every architecture; those this build and CPU lack are skipped. */
#define N_LEVELS 4
static const char *LEVELS[N_LEVELS] = {"scalar", "avx2", "avx512", "neon"};

static int cpu_has(const char *isa) {
    if (strcmp(isa, "scalar") == 0) return 1;
#if defined(LRQ_HAVE_X86)
    __builtin_cpu_init();
    unsigned a, b, c, d;
    const int f16c = __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 29));
    const int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && f16c;
    if (strcmp(isa, "avx2") == 0) return avx2;
    if (strcmp(isa, "avx512") == 0)
        return avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("avx512vnni");
#endif
#if defined(LRQ_HAVE_NEON)
    if (strcmp(isa, "neon") == 0) return 1; /* AArch64: Advanced SIMD is base ISA */
#endif
    return 0;
}

/* Kernel sets to test: every level lrq has kernels for and this CPU runs. */
static int impls(const lrq_planes_kernels *out[N_LEVELS], const char *names[N_LEVELS]) {
    int m = 0;
    for (int i = 0; i < N_LEVELS; i++) {
        const lrq_planes_kernels *k = lrq_planes_get_isa(LEVELS[i]);
        if (!cpu_has(LEVELS[i])) {
            printf("  (no %s on this CPU: its planes kernels are not tested)\n", LEVELS[i]);
            continue;
        }
        if (!k) {
            printf("  (no %s planes kernels in this build)\n", LEVELS[i]);
            continue;
        }
        out[m] = k;
        names[m++] = LEVELS[i];
    }
    CHECK(m >= 1 && out[0] == lrq_planes_ref());
    return m;
}

/* Groups and lengths: powers of two 16..256 (n = group * m), per-channel
 * (group = n, any n: tails), and odd groups whose starts fall mid-byte. */
static void pick_shape(int shape, uint64_t *st, int32_t *group, int64_t *n) {
    static const int32_t G[] = {16, 32, 64, 128, 256};
    static const int32_t ODD[] = {3, 5, 12, 20, 24, 40, 100};
    if (shape < 5) {
        *group = G[shape];
        *n = (int64_t)*group * (int64_t)(1 + test_rand_u64(st) % 9);
    } else if (shape == 5) {
        *n = 1 + (int64_t)(test_rand_u64(st) % 1100);
        *group = (int32_t)*n;
    } else {
        *group = ODD[test_rand_u64(st) % (sizeof ODD / sizeof ODD[0])];
        *n = (int64_t)*group * (int64_t)(1 + test_rand_u64(st) % 23);
    }
}

/* For each shape: the reference against double, the K forms against dot in
 * the reference (bit for bit), every level against the reference. */
static void test_kernels_random(void) {
    const lrq_planes_kernels *ks[N_LEVELS];
    const char *names[N_LEVELS];
    const int nk = impls(ks, names);
    const lrq_planes_kernels *ref = lrq_planes_ref();
    uint64_t st = 2026;
    int cases = 0;
    double worst_ref = 0, worst_simd = 0;
    for (int bi = 0; bi < N_BITS; bi++)
        for (int shape = 0; shape < 7; shape++)
            for (int variant = 0; variant < 16; variant++) { /* bits 3+: a second random shape */
                const int asym = variant & 1;
                const float offset = (variant & 2) ? 0.5f : (variant & 4) ? -1.75f : 0.0f;
                const int K = 5; /* the SIMD files instantiate K = 1..4 separately; 5 is the generic path */
                int32_t group;
                int64_t n;
                pick_shape(shape, &st, &group, &n);
                prow p;
                prow_make(&p, BITS[bi], n, group, K, asym, offset, &st);
                const float *const *sc = (const float *const *)p.scale, *const *ze = (const float *const *)p.zero;
                const float *const *xs = (const float *const *)p.x;
                char what[96];
                snprintf(what, sizeof what, "b=%d n=%lld group=%d %s offset=%g", p.bits, (long long)n, (int)group,
                         asym ? "asym" : "sym", (double)offset);
                /* reference: each replica and input separately */
                float rd[LRQ_PLANES_MAX_K], rdx[LRQ_PLANES_MAX_K], tol[LRQ_PLANES_MAX_K], tolx[LRQ_PLANES_MAX_K];
                for (int k = 0; k < K; k++) {
                    double mag;
                    rd[k] = ref->dot(p.bits, n, p.row, sc[k], ze[k], p.off[k], group, p.x[0]);
                    double want = naive(&p, k, p.x[0], &mag);
                    tol[k] = (float)bound(&p, mag);
                    CHECKF(close_to(rd[k], want, tol[k]), "%s k=%d: ref %.9g, double %.9g (tol %.3g)", what, k,
                           (double)rd[k], want, (double)tol[k]);
                    if (mag > 0) worst_ref = fmax(worst_ref, fabs(rd[k] - want) / mag);
                    rdx[k] = ref->dot(p.bits, n, p.row, sc[k], ze[k], p.off[k], group, p.x[k]);
                    want = naive(&p, k, p.x[k], &mag);
                    tolx[k] = (float)bound(&p, mag);
                    CHECKF(close_to(rdx[k], want, tolx[k]), "%s k=%d x_k: ref %.9g, double %.9g", what, k,
                           (double)rdx[k], want);
                }
                /* reference K forms: bit for bit */
                float y[LRQ_PLANES_MAX_K];
                ref->dot_k(p.bits, n, p.row, 1, sc, ze, p.off, group, p.x[0], y);
                CHECKF(memcmp(y, rd, sizeof(float)) == 0, "%s: ref dot_k K=1 != dot", what);
                ref->dot_k(p.bits, n, p.row, 3, sc, ze, p.off, group, p.x[0], y);
                CHECKF(memcmp(y, rd, 3 * sizeof(float)) == 0, "%s: ref dot_k K=3 != 3 dots", what);
                ref->dot_k(p.bits, n, p.row, K, sc, ze, p.off, group, p.x[0], y);
                CHECKF(memcmp(y, rd, (size_t)K * sizeof(float)) == 0, "%s: ref dot_k K=5 != 5 dots", what);
                ref->dot_kx(p.bits, n, p.row, 1, sc, ze, p.off, group, xs, y);
                CHECKF(memcmp(y, rdx, sizeof(float)) == 0, "%s: ref dot_kx K=1 != dot", what);
                ref->dot_kx(p.bits, n, p.row, 3, sc, ze, p.off, group, xs, y);
                CHECKF(memcmp(y, rdx, 3 * sizeof(float)) == 0, "%s: ref dot_kx K=3 != 3 dots", what);
                ref->dot_kx(p.bits, n, p.row, K, sc, ze, p.off, group, xs, y);
                CHECKF(memcmp(y, rdx, (size_t)K * sizeof(float)) == 0, "%s: ref dot_kx K=5 != 5 dots", what);
                /* every level against the reference (bounds of both orders) */
                for (int li = 1; li < nk; li++) {
                    const lrq_planes_kernels *f = ks[li];
                    for (int k = 0; k < K; k++) {
                        const float v = f->dot(p.bits, n, p.row, sc[k], ze[k], p.off[k], group, p.x[0]);
                        CHECKF(close_to(v, rd[k], 2 * tol[k]), "%s %s k=%d: dot %.9g, ref %.9g", names[li], what, k,
                               (double)v, (double)rd[k]);
                        if (tol[k] > 0) worst_simd = fmax(worst_simd, fabs(v - rd[k]) / tol[k]);
                    }
                    for (int kk = 1; kk <= K; kk++) {
                        f->dot_k(p.bits, n, p.row, kk, sc, ze, p.off, group, p.x[0], y);
                        for (int k = 0; k < kk; k++)
                            CHECKF(close_to(y[k], rd[k], 2 * tol[k]), "%s %s dot_k K=%d k=%d: %.9g, ref %.9g",
                                   names[li], what, kk, k, (double)y[k], (double)rd[k]);
                        /* K = 1 of the fused form is the level's own dot, bit for bit */
                        if (kk == 1) {
                            const float v = f->dot(p.bits, n, p.row, sc[0], ze[0], p.off[0], group, p.x[0]);
                            CHECKF(memcmp(&v, y, 4) == 0, "%s %s: dot_k K=1 != dot", names[li], what);
                        }
                        f->dot_kx(p.bits, n, p.row, kk, sc, ze, p.off, group, xs, y);
                        for (int k = 0; k < kk; k++)
                            CHECKF(close_to(y[k], rdx[k], 2 * tolx[k]), "%s %s dot_kx K=%d k=%d: %.9g, ref %.9g",
                                   names[li], what, kk, k, (double)y[k], (double)rdx[k]);
                    }
                }
                prow_free(&p);
                cases++;
            }
    printf("  %d shapes, %d levels; worst |ref - double| / Σ|terms| = %.3g; worst |simd - ref| / bound = %.3g\n",
           cases, nk, worst_ref, worst_simd);
}

/* Large K (not instantiated per K in the SIMD files) and the public
 * wrappers, which use the selected level. */
static void test_many_replicas(void) {
    const lrq_planes_kernels *ks[N_LEVELS];
    const char *names[N_LEVELS];
    const int nk = impls(ks, names);
    uint64_t st = 99;
    const int K = LRQ_PLANES_MAX_K;
    prow p;
    prow_make(&p, 3, 96 * 7, 96, K, 1, 0.5f, &st);
    const float *const *sc = (const float *const *)p.scale, *const *ze = (const float *const *)p.zero;
    const float *const *xs = (const float *const *)p.x;
    for (int li = 0; li < nk; li++) {
        float y[LRQ_PLANES_MAX_K], yx[LRQ_PLANES_MAX_K];
        ks[li]->dot_k(p.bits, p.n, p.row, K, sc, ze, p.off, p.group, p.x[0], y);
        ks[li]->dot_kx(p.bits, p.n, p.row, K, sc, ze, p.off, p.group, xs, yx);
        for (int k = 0; k < K; k++) {
            double mag;
            double want = naive(&p, k, p.x[0], &mag);
            CHECKF(close_to(y[k], want, bound(&p, mag)), "%s K=%d k=%d: %.9g vs %.9g", names[li], K, k, (double)y[k],
                   want);
            want = naive(&p, k, p.x[k], &mag);
            CHECKF(close_to(yx[k], want, bound(&p, mag)), "%s kx K=%d k=%d", names[li], K, k);
        }
    }
    /* the wrappers = the selected level */
    const lrq_planes_kernels *sel = lrq_planes_get();
    float a = lrq_planes_dot(p.bits, p.n, p.row, sc[1], ze[1], p.off[1], p.group, p.x[0]);
    float b = sel->dot(p.bits, p.n, p.row, sc[1], ze[1], p.off[1], p.group, p.x[0]);
    CHECK(memcmp(&a, &b, 4) == 0);
    float y1[2], y2[2];
    lrq_planes_dot_k(p.bits, p.n, p.row, 2, sc, ze, p.off, p.group, p.x[0], y1);
    sel->dot_k(p.bits, p.n, p.row, 2, sc, ze, p.off, p.group, p.x[0], y2);
    CHECK(memcmp(y1, y2, sizeof y1) == 0);
    lrq_planes_dot_kx(p.bits, p.n, p.row, 2, sc, ze, p.off, p.group, xs, y1);
    sel->dot_kx(p.bits, p.n, p.row, 2, sc, ze, p.off, p.group, xs, y2);
    CHECK(memcmp(y1, y2, sizeof y1) == 0);
    printf("  selected level: %s\n", lrq_types_isa());
    prow_free(&p);
}

/* The checks can fail: one code changed (at an element with x = 1, scale
 * 1) moves every level's result outside the bound around the original
 * naive value. */
static void test_corrupted_code(void) {
    const lrq_planes_kernels *ks[N_LEVELS];
    const char *names[N_LEVELS];
    const int nk = impls(ks, names);
    uint64_t st = 31;
    for (int bi = 0; bi < N_BITS; bi++) {
        prow p;
        prow_make(&p, BITS[bi], 256 + 64, 64, 1, 1, 0.5f, &st);
        const int64_t j = 256 + 37; /* inside the last group, in a SIMD tail of nothing: a full chunk */
        p.x[0][j] = 1.0f;
        p.scale[0][j / p.group] = 1.0f;
        double mag;
        const double want = naive(&p, 0, p.x[0], &mag);
        const double tol = bound(&p, mag);
        p.q[j] = (uint8_t)(p.q[j] ^ 1u);
        lrq_planes_pack_row(p.bits, p.n, p.q, p.row);
        for (int li = 0; li < nk; li++) {
            const float v = ks[li]->dot(p.bits, p.n, p.row, p.scale[0], p.zero[0], p.off[0], p.group, p.x[0]);
            CHECKF(!close_to(v, want, tol), "b=%d %s: a corrupted code went unnoticed (%.9g vs %.9g, tol %.3g)",
                   p.bits, names[li], (double)v, want, tol);
        }
        prow_free(&p);
    }
}

/* ----------------------------------------------------- matrix-vector -- */

static void test_matvec(void) {
    const lrq_planes_kernels *ks[N_LEVELS];
    const char *names[N_LEVELS];
    const int nk = impls(ks, names);
    uint64_t st = 4242;
    for (int bi = 0; bi < N_BITS; bi++) {
        const int bits = BITS[bi], K = 3, n_sets = 4;
        const int64_t ne0 = 32 * 7 + (bi == 1 ? 0 : 0), ne1 = 13;
        const int32_t group = bi == 2 ? (int32_t)ne0 : 32;
        const int64_t ng = ne0 / group;
        size_t total, rb;
        lrq_planes_codes_bytes(bits, ne0, ne1, &total);
        lrq_planes_row_bytes(bits, ne0, &rb);
        uint8_t *codes = malloc(total), *q = malloc((size_t)ne0);
        for (int64_t r = 0; r < ne1; r++) {
            for (int64_t j = 0; j < ne0; j++) q[j] = (uint8_t)(test_rand_u64(&st) & ((1u << bits) - 1));
            lrq_planes_pack_row(bits, ne0, q, codes + (size_t)r * rb);
        }
        const size_t np = (size_t)(n_sets * ne1 * ng);
        float *scale = malloc(np * sizeof(float)), *zero = malloc(np * sizeof(float));
        for (size_t i = 0; i < np; i++) {
            scale[i] = 0.01f + 0.02f * fabsf(test_rand_f32(&st));
            zero[i] = (float)((1 << bits) - 1) * 0.5f * (1 + test_rand_f32(&st));
        }
        float *x[LRQ_PLANES_MAX_K], *y[LRQ_PLANES_MAX_K];
        lrq_qparams qp[LRQ_PLANES_MAX_K];
        for (int k = 0; k < K; k++) {
            x[k] = malloc((size_t)ne0 * sizeof(float));
            y[k] = malloc((size_t)ne1 * sizeof(float));
            for (int64_t j = 0; j < ne0; j++) x[k][j] = test_rand_normal(&st);
            qp[k] = (lrq_qparams){.layout = LRQ_PARAMS_PLANES, .group = group, .n_sets = n_sets, .set = (k * 3 + 1) % n_sets,
                                  .scale = scale, .zero = k == 1 ? NULL : zero, .offset = 0.25f * (float)k};
        }
        const int64_t r0 = 2, r1 = 11;
        for (int li = 0; li < nk; li++) {
            const lrq_planes_kernels *f = ks[li];
            for (int k = 0; k < K; k++)
                for (int64_t r = 0; r < ne1; r++) y[k][r] = -7.0f;
            CHECK(lrq_planes_matvec(f, bits, ne0, ne1, codes, &qp[1], x[0], r0, r1, y[0]) == 0);
            int ok = 1;
            for (int64_t r = 0; r < ne1; r++) {
                const size_t o = ((size_t)qp[1].set * (size_t)ne1 + (size_t)r) * (size_t)ng;
                const float want = f->dot(bits, ne0, codes + (size_t)r * rb, scale + o, NULL, qp[1].offset, group, x[0]);
                ok &= (r >= r0 && r < r1) ? memcmp(&y[0][r], &want, 4) == 0 : y[0][r] == -7.0f;
            }
            CHECKF(ok, "b=%d %s: matvec rows", bits, names[li]);
            float *const *ys = y;
            const float *const *xs = (const float *const *)x;
            for (int mode = 0; mode < 2; mode++) {
                for (int k = 0; k < K; k++)
                    for (int64_t r = 0; r < ne1; r++) y[k][r] = -7.0f;
                const int rc = mode ? lrq_planes_matvec_kx(f, bits, ne0, ne1, codes, K, qp, xs, r0, r1, ys)
                                    : lrq_planes_matvec_k(f, bits, ne0, ne1, codes, K, qp, x[0], r0, r1, ys);
                CHECK(rc == 0);
                ok = 1;
                for (int64_t r = 0; r < ne1; r++) {
                    const float *sc[LRQ_PLANES_MAX_K], *ze[LRQ_PLANES_MAX_K];
                    float off[LRQ_PLANES_MAX_K], want[LRQ_PLANES_MAX_K];
                    for (int k = 0; k < K; k++) {
                        const size_t o = ((size_t)qp[k].set * (size_t)ne1 + (size_t)r) * (size_t)ng;
                        sc[k] = scale + o;
                        ze[k] = qp[k].zero ? zero + o : NULL;
                        off[k] = qp[k].offset;
                    }
                    if (mode) f->dot_kx(bits, ne0, codes + (size_t)r * rb, K, sc, ze, off, group, xs, want);
                    else f->dot_k(bits, ne0, codes + (size_t)r * rb, K, sc, ze, off, group, x[0], want);
                    for (int k = 0; k < K; k++)
                        ok &= (r >= r0 && r < r1) ? memcmp(&y[k][r], &want[k], 4) == 0 : y[k][r] == -7.0f;
                }
                CHECKF(ok, "b=%d %s: matvec_k%s rows", bits, names[li], mode ? "x" : "");
            }
        }
        /* argument errors: -1, a message, nothing written */
        y[0][0] = -7.0f;
        lrq_qparams bad = qp[0];
        bad.set = n_sets;
        CHECK(lrq_planes_matvec(NULL, bits, ne0, ne1, codes, &bad, x[0], 0, 1, y[0]) == -1 &&
              strstr(lrq_err_get(), "set"));
        bad = qp[0];
        bad.group = 33;
        CHECK(lrq_planes_matvec(NULL, bits, ne0, ne1, codes, &bad, x[0], 0, 1, y[0]) == -1 &&
              strstr(lrq_err_get(), "divide"));
        bad = qp[0];
        bad.layout = LRQ_PARAMS_IN_BLOCKS;
        CHECK(lrq_planes_matvec(NULL, bits, ne0, ne1, codes, &bad, x[0], 0, 1, y[0]) == -1);
        CHECK(lrq_planes_matvec(NULL, 7, ne0, ne1, codes, &qp[0], x[0], 0, 1, y[0]) == -1);
        CHECK(lrq_planes_matvec(NULL, bits, ne0, ne1, codes, &qp[0], x[0], 5, ne1 + 1, y[0]) == -1 &&
              strstr(lrq_err_get(), "rows"));
        CHECK(lrq_planes_matvec_k(NULL, bits, ne0, ne1, codes, 0, qp, x[0], 0, 1, y) == -1);
        CHECK(lrq_planes_matvec_k(NULL, bits, ne0, ne1, codes, LRQ_PLANES_MAX_K + 1, qp, x[0], 0, 1, y) == -1);
        if (group != ne0) {
            lrq_qparams two[2] = {qp[0], qp[0]};
            two[1].group = group * 7;
            CHECK(lrq_planes_matvec_kx(NULL, bits, ne0, ne1, codes, 2, two, (const float *const *)x, 0, 1, y) == -1 &&
                  strstr(lrq_err_get(), "replica 1"));
        }
        CHECK(y[0][0] == -7.0f);
        for (int k = 0; k < K; k++) {
            free(x[k]);
            free(y[k]);
        }
        free(codes);
        free(q);
        free(scale);
        free(zero);
    }
}

int main(void) {
    lrq_types_init();
    TEST_RUN(test_row_bytes);
    TEST_RUN(test_layout_bytes);
    TEST_RUN(test_pack_roundtrip);
    TEST_RUN(test_kernels_random);
    TEST_RUN(test_many_replicas);
    TEST_RUN(test_corrupted_code);
    TEST_RUN(test_matvec);
    return test_finish();
}
