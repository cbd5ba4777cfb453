/* test_planes_q8.c — the int8-activation planes kernels (kern/planes_q8.h).
 *  - the activation scheme: every value within half a step of x, the
 *    largest |a| of a block 127, the documented slot layout (checked with
 *    the header's formulas written out here), zero padding, gsum equal to a
 *    double sum of x^ within rounding, per-lane d and group;
 *  - the reference dot against Σ w x^ computed in double, and against the
 *    F32-activation planes reference (kern/planes.h) fed x^, within a
 *    rounding bound derived from the magnitudes of the terms;
 *  - every SIMD level this build and CPU have (AVX2, AVX-512; NEON on
 *    AArch64, either integer path as the build's flags pick) against the
 *    reference on random shapes with tails: row lengths 32 .. 2080 (partial
 *    last chunks), groups 32, 64, 96, 128, 160, 256 and per-row, symmetric
 *    and asymmetric, offsets 0 and not, bits 2, 3, 4;
 *  - the checks can fail: one changed code moves every level's result
 *    outside the bound;
 *  - the K-replica forms: each set's result is that level's dot bit for
 *    bit; matvec_k equals matvec per view; K and view errors;
 *  - the matrix-vector helper (rows [r0, r1) only; every level's rows form
 *    equal to its dot bit for bit; argument errors) and the
 *    size / quantize errors.
 * Code rows are allocated at their exact size, so a kernel that reads past
 * a row is caught by the sanitizer build. */
#include "testlib.h"

#include "core/core.h"
#include "fmt/planes.h"
#include "fmt/types.h"
#include "kern/planes.h"
#include "kern/planes_q8.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(LRQ_HAVE_X86)
#include <cpuid.h>
#endif

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static int cpu_has(const char *isa) {
    if (strcmp(isa, "scalar") == 0) return 1;
#if defined(LRQ_HAVE_X86)
    __builtin_cpu_init();
    unsigned a, b, c, d;
    const int f16c = __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 29));
    const int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && f16c;
    if (strcmp(isa, "avx2") == 0) return avx2;
    if (strcmp(isa, "avx512") == 0 || strcmp(isa, "avx512-nogfni") == 0)
        return avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("avx512vnni");
#endif
#if defined(LRQ_HAVE_NEON)
    if (strcmp(isa, "neon") == 0) return 1; /* AArch64: Advanced SIMD is base ISA */
#endif
    return 0;
}

/* "avx512" is the GFNI build where the CPU has GFNI: "avx512-nogfni" tests the other */
#define N_LEVELS 5
static const char *LEVELS[N_LEVELS] = {"scalar", "avx2", "avx512", "avx512-nogfni", "neon"};

/* An activation in a malloc'ed buffer (act points into *buf). */
static int make_act(int bits, int64_t n, int32_t group, const float *x, void **buf, lrq_q8p_act *act) {
    size_t nb;
    if (lrq_q8p_act_bytes(bits, n, group, &nb) != 0) return -1;
    *buf = malloc(nb + 1);
    /* an odd start: the quantizer aligns the parts itself */
    if (!*buf) return -1;
    return lrq_q8p_quantize(bits, n, group, x, (uint8_t *)*buf + 1, nb, act);
}

/* LLM-like input: normal values, a few large ones, some zero blocks. */
static void fill_x(float *x, int64_t n) {
    for (int64_t j = 0; j < n; j++) x[j] = test_rand_normal(&rng);
    for (int64_t j = 0; j < n; j++)
        if ((test_rand_u64(&rng) & 63) == 0) x[j] *= 20.0f;
    if (n >= 64 && (test_rand_u64(&rng) & 1)) memset(x + 32, 0, 32 * sizeof(float));
}

/* ---------------------------------------------------------- activation -- */

static void test_activation(void) {
    static const int BITS[3] = {2, 3, 4};
    static const int64_t NS[5] = {32, 96, 256, 288, 1056};
    for (int bi = 0; bi < 3; bi++)
        for (int ni = 0; ni < 5; ni++) {
            const int bits = BITS[bi];
            const int64_t n = NS[ni];
            const int32_t group = (int32_t)(n % 96 == 0 ? 96 : 32);
            float *x = malloc((size_t)n * sizeof(float));
            fill_x(x, n);
            void *buf = NULL;
            lrq_q8p_act a;
            CHECK(make_act(bits, n, group, x, &buf, &a) == 0);
            const int64_t cv = bits == 2 ? 256 : 128;
            CHECK(a.n == n && a.bits == bits && a.group == group && a.n_pad == (n + cv - 1) / cv * cv);
            CHECK(a.lane_vals == (bits == 2 ? 16 : bits == 3 ? 4 : 8));
            CHECK(((uintptr_t)a.qs & 63) == 0 && ((uintptr_t)a.dl & 63) == 0 && ((uintptr_t)a.gl & 63) == 0);
            int bad_val = 0, bad_max = 0, bad_slot = 0, bad_lane = 0;
            for (int64_t b = 0; b < n / 32; b++) {
                int amax = 0;
                float xmax = 0.0f;
                for (int64_t j = b * 32; j < b * 32 + 32; j++) {
                    xmax = fmaxf(xmax, fabsf(x[j]));
                    const int v = lrq_q8p_int(&a, j);
                    amax = abs(v) > amax ? abs(v) : amax;
                    if (fabsf(lrq_q8p_value(&a, j) - x[j]) > 0.5001f * a.d[b] + 1e-30f) bad_val++;
                    /* the documented layout, written out */
                    int64_t s = j;
                    if (bits == 2) s = j / 256 * 256 + (j % 4) * 64 + (j % 256) / 4;
                    if (bits == 4) s = j / 128 * 128 + (j % 2) * 64 + (j % 128) / 2;
                    if (a.qs[s] != v) bad_slot++;
                }
                if (xmax > 0.0f ? amax != 127 || a.d[b] != xmax / 127.0f : amax != 0 || a.d[b] != 0.0f) bad_max++;
            }
            CHECKF(bad_val == 0 && bad_max == 0 && bad_slot == 0, "bits %d n %lld: %d values, %d maxima, %d slots",
                   bits, (long long)n, bad_val, bad_max, bad_slot);
            /* padding slots are zero: the slots of elements < n are exactly n, so count nonzero ones */
            int64_t nz_total = 0, nz_elems = 0;
            for (int64_t s = 0; s < a.n_pad; s++) nz_total += a.qs[s] != 0;
            for (int64_t j = 0; j < n; j++) nz_elems += lrq_q8p_int(&a, j) != 0;
            CHECK(nz_total == nz_elems);
            for (int64_t L = 0; L < a.n_pad / a.lane_vals; L++) {
                const int64_t j = L * a.lane_vals;
                const float dw = j < n ? a.d[j / 32] : 0.0f;
                const int32_t gw = (int32_t)(j < n ? j / group : n / group - 1);
                if (a.dl[L] != dw || a.gl[L] != gw) bad_lane++;
            }
            CHECK(bad_lane == 0);
            for (int64_t g = 0; g < n / group; g++) {
                double s = 0.0, sa = 0.0;
                for (int64_t j = g * group; j < (g + 1) * group; j++) {
                    s += (double)lrq_q8p_value(&a, j);
                    sa += fabs((double)lrq_q8p_value(&a, j));
                }
                CHECKF(fabs((double)a.gsum[g] - s) <= 1e-6 * sa + 1e-30, "gsum %g vs %g", (double)a.gsum[g], s);
            }
            free(buf);
            free(x);
        }
}

static void test_errors(void) {
    size_t nb;
    CHECK(lrq_q8p_act_bytes(5, 64, 32, &nb) == -1 && strstr(lrq_err_get(), "5-bit"));
    CHECK(lrq_q8p_act_bytes(2, 48, 48, &nb) == -1 && strstr(lrq_err_get(), "48"));
    CHECK(lrq_q8p_act_bytes(2, 0, 32, &nb) == -1);
    CHECK(lrq_q8p_act_bytes(2, 128, 48, &nb) == -1 && strstr(lrq_err_get(), "group 48"));
    CHECK(lrq_q8p_act_bytes(2, 128, 256, &nb) == -1);
    CHECK(lrq_q8p_act_bytes(4, INT64_MAX - 31, 32, &nb) == -1 && strstr(lrq_err_get(), "overflow"));
    CHECK(lrq_q8p_act_bytes(2, 256, 128, &nb) == 0 && nb >= 256);
    float x[256] = {0};
    uint8_t small[64];
    lrq_q8p_act a;
    CHECK(lrq_q8p_quantize(2, 256, 128, x, small, sizeof small, &a) == -1 && strstr(lrq_err_get(), "needed"));
    CHECK(lrq_q8p_quantize(2, 256, 128, NULL, small, sizeof small, &a) == -1);
}

/* ---------------------------------------------------------- kernels -- */

typedef struct {
    int bits;
    int64_t n;
    int32_t group;
    uint8_t *row;   /* exact size */
    uint8_t *q;     /* the codes, one per byte */
    float *scale, *zero;
    float offset;
    float *x;
    void *buf;
    lrq_q8p_act act;
} case_t;

static int case_make(case_t *c, int bits, int64_t n, int32_t group, int asym, float offset) {
    memset(c, 0, sizeof *c);
    c->bits = bits, c->n = n, c->group = group, c->offset = offset;
    size_t rb;
    if (lrq_planes_row_bytes(bits, n, &rb) != 0) return -1;
    const int64_t ng = n / group;
    c->row = malloc(rb);
    c->q = malloc((size_t)n);
    c->scale = malloc((size_t)ng * sizeof(float));
    c->zero = asym ? malloc((size_t)ng * sizeof(float)) : NULL;
    c->x = malloc((size_t)n * sizeof(float));
    if (!c->row || !c->q || !c->scale || (asym && !c->zero) || !c->x) return -1;
    for (int64_t j = 0; j < n; j++) c->q[j] = (uint8_t)(test_rand_u64(&rng) & ((1u << bits) - 1));
    if (lrq_planes_pack_row(bits, n, c->q, c->row) != 0) return -1;
    for (int64_t g = 0; g < ng; g++) {
        c->scale[g] = 0.02f * (1.0f + test_rand_f32(&rng));
        if (asym) c->zero[g] = (float)(1 << (bits - 1)) + test_rand_f32(&rng);
    }
    fill_x(c->x, n);
    return make_act(bits, n, group, c->x, &c->buf, &c->act);
}

static void case_free(case_t *c) {
    free(c->row);
    free(c->q);
    free(c->scale);
    free(c->zero);
    free(c->x);
    free(c->buf);
}

/* Σ w x^ in double (*exact), and the rounding bound of the float kernels:
 * (terms in a sum chain) * 2^-23 * Σ |s| (Σ |q x^| + |z - o| Σ |x^|). */
static double bound(const case_t *c, double *exact) {
    const int64_t ng = c->n / c->group;
    double e = 0.0, mag = 0.0;
    for (int64_t g = 0; g < ng; g++) {
        const double cz = (c->zero ? c->zero[g] : 0.0) - c->offset;
        double sq = 0.0, sx = 0.0, aq = 0.0, ax = 0.0;
        for (int64_t j = g * c->group; j < (g + 1) * c->group; j++) {
            const double xv = lrq_q8p_value(&c->act, j);
            sq += c->q[j] * xv;
            sx += xv;
            aq += fabs(c->q[j] * xv);
            ax += fabs(xv);
        }
        e += c->scale[g] * (sq - cz * sx);
        mag += fabs(c->scale[g]) * (aq + fabs(cz) * ax);
    }
    *exact = e;
    return (double)(c->n / 32 + ng + 16) * ldexp(1.0, -23) * mag;
}

static float run(const lrq_q8p_kernels *k, const case_t *c) {
    return k->dot(&c->act, c->row, c->scale, c->zero, c->offset);
}

static void test_kernels_random(void) {
    static const int BITS[3] = {2, 3, 4};
    static const int32_t GROUPS[7] = {32, 64, 96, 128, 160, 256, 0}; /* 0: per row */
    const lrq_q8p_kernels *ref = lrq_q8p_ref();
    int tested[N_LEVELS] = {0};
    double worst[N_LEVELS] = {0}; /* largest |y - ref| / tol seen, printed */
    for (int it = 0; it < 400; it++) {
        const int bits = BITS[it % 3];
        int32_t group = GROUPS[(it / 3) % 7];
        int64_t n = 32 * (1 + (int64_t)(test_rand_u64(&rng) % 65)); /* 32 .. 2080 */
        if (group == 0) group = (int32_t)n;
        else n = (n + group - 1) / group * group;
        const int asym = (it / 21) % 2;
        const float offset = (it / 42) % 2 ? 0.5f : 0.0f;
        case_t c;
        if (case_make(&c, bits, n, group, asym, offset) != 0) {
            CHECKF(0, "cannot set up bits %d n %lld group %d", bits, (long long)n, (int)group);
            case_free(&c);
            return;
        }
        double exact;
        const double tol = bound(&c, &exact);
        const float yr = run(ref, &c);
        CHECKF(fabs(yr - exact) <= tol, "ref bits %d n %lld g %d: %.9g vs %.9g (tol %.3g)", bits, (long long)n,
               (int)group, (double)yr, exact, tol);
        /* the F32-activation reference fed x^ is the same dot */
        float *xh = malloc((size_t)n * sizeof(float));
        for (int64_t j = 0; j < n; j++) xh[j] = lrq_q8p_value(&c.act, j);
        const float yf = lrq_planes_ref()->dot(bits, n, c.row, c.scale, c.zero, offset, group, xh);
        CHECKF(fabs(yf - yr) <= 2 * tol, "f32 ref bits %d n %lld g %d: %.9g vs %.9g", bits, (long long)n, (int)group,
               (double)yf, (double)yr);
        free(xh);
        float y512[2];
        int n512 = 0;
        for (int l = 1; l < N_LEVELS; l++) {
            const lrq_q8p_kernels *k = lrq_q8p_get_isa(LEVELS[l]);
            if (!k || !cpu_has(LEVELS[l])) continue;
            tested[l]++;
            const float y = run(k, &c);
            if (strncmp(LEVELS[l], "avx512", 6) == 0) y512[n512++] = y;
            if (tol > 0 && fabs(y - yr) / tol > worst[l]) worst[l] = fabs(y - yr) / tol;
            CHECKF(fabs(y - yr) <= 2 * tol, "%s bits %d n %lld g %d asym %d off %g: %.9g vs ref %.9g (tol %.3g)",
                   LEVELS[l], bits, (long long)n, (int)group, asym, (double)offset, (double)y, (double)yr, tol);
        }
        /* the GFNI build cuts the same fields out of the codes: the same bits */
        if (n512 == 2)
            CHECKF(memcmp(&y512[0], &y512[1], sizeof(float)) == 0, "avx512 (GFNI) %.9g vs avx512-nogfni %.9g",
                   (double)y512[0], (double)y512[1]);
        case_free(&c);
    }
    for (int l = 1; l < N_LEVELS; l++)
        if (tested[l]) printf("  %s: %d cases, largest |y - ref| = %.3g of the bound\n", LEVELS[l], tested[l], worst[l]);
        else printf("  (no %s on this CPU or build: its planes_q8 kernel is not tested)\n", LEVELS[l]);
#if defined(LRQ_HAVE_NEON) && defined(__ARM_FEATURE_DOTPROD)
    printf("  (neon: this build has __ARM_FEATURE_DOTPROD, the vdotq_s32 path)\n");
#elif defined(LRQ_HAVE_NEON)
    printf("  (neon: this build has no __ARM_FEATURE_DOTPROD, the vmull_s8 / vmlal_s8 path)\n");
#endif
}

/* One changed code (where |a| is largest) must move every level's result
 * outside the bound: the comparisons above can fail. */
static void test_corrupted_code(void) {
    for (int bits = 2; bits <= 4; bits++) {
        case_t c;
        const int64_t n = 1056;
        CHECK(case_make(&c, bits, n, 96, 1, 0.5f) == 0);
        double exact;
        const double tol = bound(&c, &exact);
        int64_t jm = 0;
        for (int64_t j = 0; j < n; j++)
            if (fabsf(lrq_q8p_value(&c.act, j)) > fabsf(lrq_q8p_value(&c.act, jm))) jm = j;
        const float before = run(lrq_q8p_ref(), &c);
        c.q[jm] ^= 1;
        lrq_planes_pack_row(bits, n, c.q, c.row);
        for (int l = 0; l < N_LEVELS; l++) {
            const lrq_q8p_kernels *k = lrq_q8p_get_isa(LEVELS[l]);
            if (!k || !cpu_has(LEVELS[l])) continue;
            CHECKF(fabs(run(k, &c) - before) > 2 * tol, "%s: a changed code went unnoticed", LEVELS[l]);
        }
        case_free(&c);
    }
}

static void test_matvec(void) {
    const int bits = 2;
    const int64_t ne0 = 352, ne1 = 37; /* 37: two 16-row batches and a rest */
    const int32_t group = 32;
    size_t rb;
    lrq_planes_row_bytes(bits, ne0, &rb);
    const int64_t ng = ne0 / group;
    uint8_t *codes = malloc(rb * (size_t)ne1), *q = malloc((size_t)ne0);
    float *scale = malloc(sizeof(float) * (size_t)(2 * ne1 * ng)), *zero = malloc(sizeof(float) * (size_t)(2 * ne1 * ng));
    float *x = malloc(sizeof(float) * (size_t)ne0), y[37];
    for (int64_t r = 0; r < ne1; r++) {
        for (int64_t j = 0; j < ne0; j++) q[j] = (uint8_t)(test_rand_u64(&rng) & 3);
        lrq_planes_pack_row(bits, ne0, q, codes + (size_t)r * rb);
    }
    for (int64_t i = 0; i < 2 * ne1 * ng; i++) {
        scale[i] = 0.01f + 0.01f * test_rand_f32(&rng);
        zero[i] = 1.5f + test_rand_f32(&rng);
    }
    fill_x(x, ne0);
    void *buf = NULL;
    lrq_q8p_act a;
    CHECK(make_act(bits, ne0, group, x, &buf, &a) == 0);
    lrq_qparams qp = {.layout = LRQ_PARAMS_PLANES, .group = group, .n_sets = 2, .set = 1, .scale = scale,
                      .zero = zero, .offset = 0.5f};
    for (int i = 0; i < 37; i++) y[i] = -7.0f;
    CHECK(lrq_q8p_matvec(lrq_q8p_ref(), ne0, ne1, codes, &qp, &a, 2, 5, y) == 0);
    CHECK(y[0] == -7.0f && y[1] == -7.0f && y[5] == -7.0f && y[6] == -7.0f);
    for (int64_t r = 2; r < 5; r++) {
        const size_t o = (size_t)(ne1 + r) * (size_t)ng; /* set 1 */
        CHECK(y[r] == lrq_q8p_ref()->dot(&a, codes + (size_t)r * rb, scale + o, zero + o, 0.5f));
    }
    /* every level: the rows form (what matvec runs) is its dot, bit for bit, row by row */
    for (int l = 0; l < N_LEVELS; l++) {
        const lrq_q8p_kernels *k = lrq_q8p_get_isa(LEVELS[l]);
        if (!k || !cpu_has(LEVELS[l])) continue;
        float y2[37];
        CHECK(lrq_q8p_matvec(k, ne0, ne1, codes, &qp, &a, 0, ne1, y2) == 0);
        for (int64_t r = 0; r < ne1; r++) {
            const size_t o = (size_t)(ne1 + r) * (size_t)ng;
            CHECKF(y2[r] == k->dot(&a, codes + (size_t)r * rb, scale + o, zero + o, 0.5f), "%s row %d", LEVELS[l],
                   (int)r);
        }
        for (int r = 2; r < 5; r++) CHECK(fabsf(y2[r] - y[r]) <= 1e-3f * (fabsf(y[r]) + 1.0f));
    }
    for (int i = 0; i < 37; i++) y[i] = -7.0f;
    CHECK(lrq_q8p_matvec(NULL, ne0 - 32, ne1, codes, &qp, &a, 0, 1, y) == -1 && strstr(lrq_err_get(), "activation"));
    lrq_qparams bad = qp;
    bad.group = 64;
    CHECK(lrq_q8p_matvec(NULL, ne0, ne1, codes, &bad, &a, 0, 1, y) == -1 && strstr(lrq_err_get(), "group"));
    bad = qp;
    bad.set = 2;
    CHECK(lrq_q8p_matvec(NULL, ne0, ne1, codes, &bad, &a, 0, 1, y) == -1 && strstr(lrq_err_get(), "set"));
    bad = qp;
    bad.codebook = scale;
    bad.cb_rows = 1;
    CHECK(lrq_q8p_matvec(NULL, ne0, ne1, codes, &bad, &a, 0, 1, y) == -1 && strstr(lrq_err_get(), "codebook"));
    bad = qp;
    bad.scale = NULL;
    CHECK(lrq_q8p_matvec(NULL, ne0, ne1, codes, &bad, &a, 0, 1, y) == -1);
    CHECK(lrq_q8p_matvec(NULL, ne0, ne1, codes, &qp, &a, 30, 38, y) == -1 && strstr(lrq_err_get(), "rows"));
    CHECK(y[0] == -7.0f);
    free(buf);
    free(codes);
    free(q);
    free(scale);
    free(zero);
    free(x);
}

/* K-replica forms: every level's dot_k gives, for each set, its own dot
 * bit for bit (K = 1 .. 6, sets symmetric or not, shapes with tails);
 * matvec_k equals matvec per view; K and view errors. */
static void test_replicas(void) {
    static const int32_t GROUPS[4] = {32, 96, 128, 0};
    int bad = 0, runs = 0;
    for (int it = 0; it < 36; it++) {
        const int bits = 2 + it % 3, K = 1 + (it / 3) % 6;
        int64_t n = 32 * (1 + (int64_t)(test_rand_u64(&rng) % 40));
        int32_t group = GROUPS[(it / 9) % 4];
        if (group == 0) group = (int32_t)n;
        else n = (n + group - 1) / group * group;
        case_t c;
        CHECK(case_make(&c, bits, n, group, 1, 0.5f) == 0);
        const int64_t ng = n / group;
        float *sc = malloc(sizeof(float) * (size_t)(K * ng)), *ze = malloc(sizeof(float) * (size_t)(K * ng));
        const float *scs[6], *zes[6];
        float offs[6], y[6];
        for (int k = 0; k < K; k++) {
            for (int64_t g = 0; g < ng; g++) {
                sc[k * ng + g] = 0.02f * (1.0f + test_rand_f32(&rng));
                ze[k * ng + g] = 1.5f + test_rand_f32(&rng);
            }
            scs[k] = sc + k * ng;
            zes[k] = k % 3 == 1 ? NULL : ze + k * ng; /* some sets symmetric */
            offs[k] = k % 2 ? 0.5f : 0.0f;
        }
        for (int l = 0; l < N_LEVELS; l++) {
            const lrq_q8p_kernels *kn = lrq_q8p_get_isa(LEVELS[l]);
            if (!kn || !cpu_has(LEVELS[l])) continue;
            runs++;
            kn->dot_k(&c.act, c.row, K, scs, zes, offs, y);
            for (int k = 0; k < K; k++)
                if (y[k] != kn->dot(&c.act, c.row, scs[k], zes[k], offs[k])) bad++;
        }
        free(sc);
        free(ze);
        case_free(&c);
    }
    CHECKF(bad == 0 && runs > 0, "%d replica results differ from dot", bad);

    /* matvec_k on a small matrix with three views of one code array */
    const int bits = 4;
    const int64_t ne0 = 384, ne1 = 5, ng = ne0 / 128;
    size_t rb;
    lrq_planes_row_bytes(bits, ne0, &rb);
    uint8_t *codes = malloc(rb * (size_t)ne1);
    for (size_t i = 0; i < rb * (size_t)ne1; i++) codes[i] = (uint8_t)test_rand_u64(&rng);
    float *planes = malloc(sizeof(float) * (size_t)(3 * ne1 * ng)), x[384], *ys[3], yv[3][5], y1[5];
    for (int64_t i = 0; i < 3 * ne1 * ng; i++) planes[i] = 0.01f + 0.01f * test_rand_f32(&rng);
    fill_x(x, ne0);
    void *buf = NULL;
    lrq_q8p_act a;
    CHECK(make_act(bits, ne0, 128, x, &buf, &a) == 0);
    lrq_qparams qps[3];
    for (int k = 0; k < 3; k++) {
        qps[k] = (lrq_qparams){.layout = LRQ_PARAMS_PLANES, .group = 128, .n_sets = 3, .set = k, .scale = planes,
                               .zero = k == 1 ? NULL : planes, .offset = 0.25f * (float)k};
        ys[k] = yv[k];
    }
    CHECK(lrq_q8p_matvec_k(NULL, ne0, ne1, codes, 3, qps, &a, 0, ne1, ys) == 0);
    for (int k = 0; k < 3; k++) {
        CHECK(lrq_q8p_matvec(NULL, ne0, ne1, codes, &qps[k], &a, 0, ne1, y1) == 0);
        for (int r = 0; r < ne1; r++) CHECKF(y1[r] == yv[k][r], "matvec_k replica %d row %d", k, r);
    }
    CHECK(lrq_q8p_matvec_k(NULL, ne0, ne1, codes, 0, qps, &a, 0, ne1, ys) == -1 && strstr(lrq_err_get(), "K = 0"));
    CHECK(lrq_q8p_matvec_k(NULL, ne0, ne1, codes, LRQ_Q8P_MAX_K + 1, qps, &a, 0, ne1, ys) == -1);
    qps[1].group = 64;
    CHECK(lrq_q8p_matvec_k(NULL, ne0, ne1, codes, 3, qps, &a, 0, ne1, ys) == -1 && strstr(lrq_err_get(), "replica 1"));
    free(buf);
    free(codes);
    free(planes);
}

/* Batched form: lrq_q8p_matmul equals lrq_q8p_matvec of each token bit for
 * bit, at every level (tile kernel or rows per token), for 1..9 tokens
 * (whole tiles and rests), bits 2/3/4, symmetric and not, a row range, 21
 * rows (a 16-row batch and a rest), three shapes (whole chunks; a partial
 * last chunk with a per-row group and with group 96);
 * entries outside the range untouched; token and stride errors. */
static void test_matmul(void) {
    /* 320 x g64: whole chunks; 1056 per-row and 1056 x g96: a partial last chunk, the general scale path */
    static const int64_t NE0[3] = {320, 1056, 1056};
    static const int32_t GROUP[3] = {64, 1056, 96};
    enum { NT = 9 };
    for (int sh = 0; sh < 3; sh++)
    for (int bits = 2; bits <= 4; bits++) {
        const int64_t ne0 = NE0[sh], ne1 = 21;
        const int32_t group = GROUP[sh];
        const int64_t ng = ne0 / group;
        size_t rb;
        lrq_planes_row_bytes(bits, ne0, &rb);
        uint8_t *codes = malloc(rb * (size_t)ne1), *q = malloc((size_t)ne0);
        float *scale = malloc(sizeof(float) * (size_t)(ne1 * ng)), *zero = malloc(sizeof(float) * (size_t)(ne1 * ng));
        float *x = malloc(sizeof(float) * (size_t)ne0);
        for (int64_t r = 0; r < ne1; r++) {
            for (int64_t j = 0; j < ne0; j++) q[j] = (uint8_t)(test_rand_u64(&rng) & ((1u << bits) - 1));
            lrq_planes_pack_row(bits, ne0, q, codes + (size_t)r * rb);
        }
        for (int64_t i = 0; i < ne1 * ng; i++) {
            scale[i] = 0.01f + 0.01f * test_rand_f32(&rng);
            zero[i] = (float)(1 << (bits - 1)) + test_rand_f32(&rng);
        }
        void *bufs[NT];
        lrq_q8p_act acts[NT];
        for (int t = 0; t < NT; t++) {
            fill_x(x, ne0);
            CHECK(make_act(bits, ne0, group, x, &bufs[t], &acts[t]) == 0);
        }
        for (int asym = 0; asym < 2; asym++) {
            lrq_qparams qp = {.layout = LRQ_PARAMS_PLANES, .group = group, .n_sets = 1, .set = 0, .scale = scale,
                              .zero = asym ? zero : NULL, .offset = asym ? 0.25f : 0.0f};
            for (int l = 0; l < N_LEVELS; l++) {
                const lrq_q8p_kernels *k = lrq_q8p_get_isa(LEVELS[l]);
                if (!k || !cpu_has(LEVELS[l])) continue;
                for (int nt = 1; nt <= NT; nt++) {
                    const size_t ys = (size_t)ne1 + 3;
                    float y[NT * 24], y1[24];
                    for (size_t i = 0; i < sizeof y / sizeof y[0]; i++) y[i] = -7.0f;
                    CHECK(lrq_q8p_matmul(k, ne0, ne1, codes, &qp, acts, nt, 1, ne1 - 1, y, ys) == 0);
                    for (int t = 0; t < nt; t++) {
                        CHECK(lrq_q8p_matvec(k, ne0, ne1, codes, &qp, &acts[t], 1, ne1 - 1, y1) == 0);
                        CHECK(y[(size_t)t * ys] == -7.0f && y[(size_t)t * ys + (size_t)ne1 - 1] == -7.0f);
                        for (int64_t r = 1; r < ne1 - 1; r++)
                            CHECKF(y[(size_t)t * ys + (size_t)r] == y1[r], "%s bits %d asym %d %d tokens: token %d row %d",
                                   LEVELS[l], bits, asym, nt, t, (int)r);
                    }
                }
            }
            float y[24 * 2];
            CHECK(lrq_q8p_matmul(NULL, ne0, ne1, codes, &qp, acts, 0, 0, ne1, y, (size_t)ne1) == -1);
            CHECK(lrq_q8p_matmul(NULL, ne0, ne1, codes, &qp, acts, 2, 0, ne1, y, (size_t)ne1 - 1) == -1 &&
                  strstr(lrq_err_get(), "stride"));
        }
        for (int t = 0; t < NT; t++) free(bufs[t]);
        free(codes);
        free(q);
        free(scale);
        free(zero);
        free(x);
    }
}

int main(void) {
    lrq_types_init();
    TEST_RUN(test_activation);
    TEST_RUN(test_errors);
    TEST_RUN(test_kernels_random);
    TEST_RUN(test_corrupted_code);
    TEST_RUN(test_matvec);
    TEST_RUN(test_matmul);
    TEST_RUN(test_replicas);
    return test_finish();
}
