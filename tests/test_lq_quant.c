/* test_lq_quant.c — the lq quantizer (quant/lq_quant.h), one case per knob,
 * each showing the direction the knob should move the result, plus the
 * dequantization formula, the kernel view, determinism and thread-count
 * independence. All references are computed here from random inputs. */
#include "testlib.h"
#include "core/core.h"
#include "core/pool.h"
#include "fmt/lq_spec.h"
#include "fmt/planes.h"
#include "kern/planes.h"
#include "fmt/types.h"
#include "quant/lq_quant.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static float *rand_normal(int64_t n, uint64_t seed) {
    float *x = malloc((size_t)n * sizeof *x);
    uint64_t st = seed;
    for (int64_t i = 0; i < n; i++) x[i] = test_rand_normal(&st);
    return x;
}

static lrq_lq_spec spec_of(const char *text) {
    lrq_lq_spec s;
    if (lrq_lq_spec_parse(text, &s)) test_fail(__FILE__, __LINE__, "%s: %s", text, lrq_err_get());
    return s;
}

static int quant(const char *text, const float *x, int64_t ne0, int64_t nrow, const float *imp, uint64_t seed,
                 lrq_pool *pool, lrq_lq_qt *q) {
    lrq_lq_spec s = spec_of(text);
    int r = lrq_lq_quantize(&s, x, ne0, nrow, imp, seed, pool, q);
    if (r) test_fail(__FILE__, __LINE__, "%s: %s", text, lrq_err_get());
    return r;
}

/* Σ imp_j (x - w)^2 over the matrix (imp NULL: 1). */
static double werr(const lrq_lq_qt *q, const float *x, const float *imp) {
    float *y = malloc((size_t)q->ne0 * sizeof *y);
    double e = 0;
    for (int64_t r = 0; r < q->nrow; r++) {
        lrq_lq_dequant_row(q, r, y);
        for (int64_t j = 0; j < q->ne0; j++) {
            double d = (double)x[r * q->ne0 + j] - (double)y[j];
            e += (imp ? imp[j] : 1.0) * d * d;
        }
    }
    free(y);
    return e;
}

static double err_of(const char *text, const float *x, int64_t ne0, int64_t nrow, const float *imp) {
    lrq_lq_qt q;
    if (quant(text, x, ne0, nrow, imp, 1, NULL, &q)) return INFINITY;
    double e = werr(&q, x, imp);
    lrq_lq_qt_free(&q);
    return e;
}

static int same_qt(const lrq_lq_qt *a, const lrq_lq_qt *b) {
    const size_t N = (size_t)(a->nrow * a->ng);
    if (memcmp(a->codes, b->codes, (size_t)a->nrow * a->row_bytes)) return 0;
    if (memcmp(a->scale, b->scale, N * sizeof(float))) return 0;
    if ((a->zero != NULL) != (b->zero != NULL) || (a->zero && memcmp(a->zero, b->zero, N * sizeof(float)))) return 0;
    if ((a->og != NULL) != (b->og != NULL) || (a->og && memcmp(a->og, b->og, N))) return 0;
    if (a->cb_rows != b->cb_rows ||
        (a->codebook && memcmp(a->codebook, b->codebook, (size_t)a->cb_rows * sizeof(float) << a->spec.bits)))
        return 0;
    if (a->sq && (memcmp(a->sq, b->sq, N) || memcmp(a->sd, b->sd, (size_t)a->n_super * 2))) return 0;
    return 1;
}

/* Stochastic rounding is unbiased: over many seeds the mean dequantized
 * value approaches x (for values inside the grid), far closer than nearest
 * rounding's fixed bias; the scales do not depend on the seed. */
static void test_stochastic_unbiased(void) {
    const int64_t ne0 = 64, nrow = 2;
    const int n_seed = 1000;
    float *x = rand_normal(ne0 * nrow, 11);
    double *sum = calloc((size_t)(ne0 * nrow), sizeof *sum);
    float *y = malloc((size_t)ne0 * sizeof *y);
    lrq_lq_qt q0, q;
    if (quant("b3g32ars", x, ne0, nrow, NULL, 0, NULL, &q0)) return;
    for (int sd = 0; sd < n_seed; sd++) {
        if (quant("b3g32ars", x, ne0, nrow, NULL, (uint64_t)sd * 7919u + 1, NULL, &q)) break;
        CHECK(memcmp(q.scale, q0.scale, (size_t)(nrow * q.ng) * sizeof(float)) == 0);
        for (int64_t r = 0; r < nrow; r++) {
            lrq_lq_dequant_row(&q, r, y);
            for (int64_t j = 0; j < ne0; j++) sum[r * ne0 + j] += y[j];
        }
        lrq_lq_qt_free(&q);
    }
    lrq_lq_qt qn;
    if (quant("b3g32arn", x, ne0, nrow, NULL, 0, NULL, &qn)) return;
    double bias_s = 0, bias_n = 0, worst = 0;
    int inside = 0;
    for (int64_t r = 0; r < nrow; r++) {
        lrq_lq_dequant_row(&qn, r, y);
        for (int64_t j = 0; j < ne0; j++) {
            const int64_t i = r * q0.ng + j / q0.group;
            const float s = q0.scale[i], u = x[r * ne0 + j] / s + q0.zero[i];
            if (u < 0.0f || u > 7.0f) continue; /* clipped by the grid: no unbiasedness there */
            inside++;
            const double m = sum[r * ne0 + j] / n_seed, b = fabs(m - x[r * ne0 + j]) / s;
            bias_s += b;
            bias_n += fabs((double)y[j] - x[r * ne0 + j]) / s;
            if (b > worst) worst = b;
        }
    }
    CHECK(inside > ne0);
    /* one draw has a standard deviation <= s/2: the mean of 1000, <= 0.016 s */
    CHECKF(worst < 0.08, "largest bias %g steps", worst);
    CHECKF(bias_s < 0.25 * bias_n, "stochastic %g vs nearest %g steps", bias_s / inside, bias_n / inside);
    lrq_lq_qt_free(&q0);
    lrq_lq_qt_free(&qn);
    free(x);
    free(sum);
    free(y);
}

/* The dequantization is s (v(q) - z + o) with the code, scale, zero, offset
 * and codebook the result holds, and the planes kernels over lrq_lq_view
 * compute the same dot products (within float rounding). */
static void check_formula(const lrq_lq_qt *q, uint64_t seed) {
    const int b = q->spec.bits;
    uint8_t *codes = malloc((size_t)q->ne0);
    float *y = malloc((size_t)q->ne0 * sizeof *y), *zbuf = malloc((size_t)(q->nrow * q->ng) * sizeof *zbuf);
    float *dots = malloc((size_t)q->nrow * sizeof *dots);
    float *xv = rand_normal(q->ne0, seed);
    lrq_qparams qp;
    CHECK(lrq_lq_view(&q->spec, q->group, q->nrow, q->ng, q->scale, q->zero, q->og, q->codebook, q->cb_rows, zbuf,
                      &qp) == 0);
    CHECK(lrq_planes_matvec(lrq_planes_ref(), b, q->ne0, q->nrow, q->codes, &qp, xv, 0, q->nrow, dots) == 0);
    const float half = (float)(1 << (b - 1));
    for (int64_t r = 0; r < q->nrow; r++) {
        CHECK(lrq_planes_unpack_row(b, q->ne0, q->codes + (size_t)r * q->row_bytes, codes) == 0);
        lrq_lq_dequant_row(q, r, y);
        double dot = 0, mag = 0;
        int bad = 0;
        for (int64_t j = 0; j < q->ne0; j++) {
            const int64_t i = r * q->ng + j / q->group;
            const float z = q->zero ? q->zero[i] : half;
            const float o = q->og ? 0.25f * (float)q->og[i] : q->spec.offset;
            const float *cb = q->codebook ? q->codebook + (q->cb_rows == 1 ? 0 : r) * (1 << b) : NULL;
            const float v = cb ? cb[codes[j]] : (float)codes[j];
            if (y[j] != q->scale[i] * (v - z + o)) bad++;
            dot += (double)y[j] * xv[j];
            mag += fabs((double)y[j] * xv[j]);
        }
        CHECKF(bad == 0, "row %lld: %d values off the formula", (long long)r, bad);
        CHECKF(fabs(dot - dots[r]) <= 1e-5 * mag + 1e-6, "row %lld: kernel %g vs dequantized %g", (long long)r,
               (double)dots[r], dot);
    }
    free(codes);
    free(y);
    free(zbuf);
    free(dots);
    free(xv);
}

/* Offsets: o0 and o0.5 give different grids (both follow the formula and
 * the kernel view); og picks per group among 0, 1/4, 1/2, 3/4 and is never
 * worse than o0 (o = 0 is one of its candidates). */
static void test_offset(void) {
    const int64_t ne0 = 256, nrow = 8;
    float *x = rand_normal(ne0 * nrow, 21);
    lrq_lq_qt a, b, c;
    if (quant("b4g32o0", x, ne0, nrow, NULL, 1, NULL, &a) || quant("b4g32o0.5", x, ne0, nrow, NULL, 1, NULL, &b) ||
        quant("b4g32og", x, ne0, nrow, NULL, 1, NULL, &c))
        return;
    float *ya = malloc((size_t)ne0 * sizeof *ya), *yb = malloc((size_t)ne0 * sizeof *yb);
    int differ = 0;
    for (int64_t r = 0; r < nrow; r++) {
        lrq_lq_dequant_row(&a, r, ya);
        lrq_lq_dequant_row(&b, r, yb);
        differ += memcmp(ya, yb, (size_t)ne0 * sizeof *ya) != 0;
    }
    CHECKF(differ == nrow, "only %d of %lld rows differ between o0 and o0.5", differ, (long long)nrow);
    check_formula(&a, 3);
    check_formula(&b, 4);
    check_formula(&c, 5);
    int used[4] = {0};
    for (int64_t i = 0; i < nrow * c.ng; i++) used[c.og[i] & 3]++;
    CHECK(used[0] + used[1] + used[2] + used[3] == nrow * c.ng);
    CHECKF((used[0] > 0) + (used[1] > 0) + (used[2] > 0) + (used[3] > 0) >= 2, "og chose one offset only");
    CHECK(werr(&c, x, NULL) <= werr(&a, x, NULL));
    lrq_lq_qt_free(&a);
    lrq_lq_qt_free(&b);
    lrq_lq_qt_free(&c);
    free(ya);
    free(yb);
    free(x);
}

/* Larger groups: more values share a scale, more error (random data). */
static void test_group_size(void) {
    const int64_t ne0 = 1024, nrow = 8;
    float *x = rand_normal(ne0 * nrow, 31);
    const char *specs[] = {"b3g16", "b3g32", "b3g64", "b3g128", "b3g256", "b3gr"};
    double prev = 0;
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        double e = err_of(specs[i], x, ne0, nrow, NULL);
        CHECKF(e > prev, "%s: error %g not above the smaller group's %g", specs[i], e, prev);
        prev = e;
    }
    free(x);
}

/* Clipping search: never worse than no clipping on its own objective (the
 * importance-weighted squared error; ratio 1 is a candidate and the search
 * scores the stored scale), better on heavy-tailed data; a fixed ratio
 * below 1 changes the result. */
static void test_clip_search(void) {
    const int64_t ne0 = 512, nrow = 8;
    float *x = rand_normal(ne0 * nrow, 41);
    uint64_t st = 5;
    for (int64_t i = 0; i < ne0 * nrow; i++) { /* heavy tails: a normal times a random spread */
        float u = 0.5f * (test_rand_f32(&st) + 1.0f);
        x[i] *= 0.2f + 3.0f * u * u * u * u;
    }
    float *imp = malloc((size_t)ne0 * sizeof *imp);
    for (int64_t j = 0; j < ne0; j++) imp[j] = 0.1f + (float)(j % 7);
    const char *pairs[][2] = {{"b2g32cs", "b2g32c1"}, {"b3g64acs", "b3g64ac1"}, {"b4g32cspb16", "b4g32c1pb16"},
                              {"b3g32csog", "b3g32c1og"}};
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        for (int w = 0; w < 2; w++) {
            const float *im = w ? imp : NULL;
            double es = err_of(pairs[i][0], x, ne0, nrow, im), e1 = err_of(pairs[i][1], x, ne0, nrow, im);
            CHECKF(es <= e1, "%s %g > %s %g", pairs[i][0], es, pairs[i][1], e1);
            CHECKF(es < 0.999 * e1, "%s %g: no gain over %s %g on heavy tails", pairs[i][0], es, pairs[i][1], e1);
        }
    }
    CHECK(err_of("b3g32c0.8", x, ne0, nrow, NULL) != err_of("b3g32c1", x, ne0, nrow, NULL));
    free(x);
    free(imp);
}

/* Noise of width 0 is nearest rounding bit for bit; width 1 moves codes and
 * costs error. */
static void test_noise(void) {
    const int64_t ne0 = 128, nrow = 8;
    float *x = rand_normal(ne0 * nrow, 51);
    lrq_lq_qt n, z0, z1;
    if (quant("b3g32arn", x, ne0, nrow, NULL, 9, NULL, &n) || quant("b3g32arz0", x, ne0, nrow, NULL, 9, NULL, &z0) ||
        quant("b3g32arz1", x, ne0, nrow, NULL, 9, NULL, &z1))
        return;
    CHECK(same_qt(&n, &z0));
    CHECK(memcmp(n.codes, z1.codes, (size_t)nrow * n.row_bytes) != 0);
    CHECK(werr(&z1, x, NULL) > werr(&n, x, NULL));
    lrq_lq_qt_free(&n);
    lrq_lq_qt_free(&z0);
    lrq_lq_qt_free(&z1);
    free(x);
}

/* Asymmetric (integer zero point) beats symmetric on skewed data. */
static void test_asym(void) {
    const int64_t ne0 = 256, nrow = 8;
    float *x = malloc((size_t)(ne0 * nrow) * sizeof *x);
    uint64_t st = 61;
    for (int64_t i = 0; i < ne0 * nrow; i++) x[i] = 0.75f + 0.5f * test_rand_f32(&st); /* all in [0.25, 1.25) */
    const int bits[] = {2, 3, 4, 8};
    for (int i = 0; i < 4; i++) {
        char sa[16], ss[16];
        snprintf(sa, sizeof sa, "b%dg32a", bits[i]);
        snprintf(ss, sizeof ss, "b%dg32s", bits[i]);
        double ea = err_of(sa, x, ne0, nrow, NULL), es = err_of(ss, x, ne0, nrow, NULL);
        CHECKF(ea < es, "%s %g >= %s %g", sa, ea, ss, es);
    }
    lrq_lq_qt q;
    if (!quant("b4g32a", x, ne0, nrow, NULL, 1, NULL, &q)) {
        check_formula(&q, 6);
        lrq_lq_qt_free(&q);
    }
    free(x);
}

/* Codebooks: k-means from the uniform grid is never worse than the grid
 * (Lloyd's iterations only lower the weighted error), kt0u is the uniform
 * grid's error, k-means++ is seeded and deterministic, per-row codebooks
 * follow the formula. */
static void test_codebook(void) {
    const int64_t ne0 = 256, nrow = 16;
    float *x = rand_normal(ne0 * nrow, 71);
    float *imp = malloc((size_t)ne0 * sizeof *imp);
    for (int64_t j = 0; j < ne0; j++) imp[j] = 1.0f + (float)(j % 5);
    const char *base[] = {"b2g32", "b3g64a", "b4g32og"};
    for (int i = 0; i < 3; i++) {
        char t0[32], tk[32], tr[32], tp[32];
        snprintf(t0, sizeof t0, "%skt0u", base[i]);
        snprintf(tk, sizeof tk, "%skt10u", base[i]);
        snprintf(tr, sizeof tr, "%skr10u", base[i]);
        snprintf(tp, sizeof tp, "%skt10", base[i]);
        const double eu = err_of(base[i], x, ne0, nrow, imp), e0 = err_of(t0, x, ne0, nrow, imp);
        const double ek = err_of(tk, x, ne0, nrow, imp), er = err_of(tr, x, ne0, nrow, imp);
        const double ep = err_of(tp, x, ne0, nrow, imp);
        CHECKF(fabs(e0 - eu) <= 1e-9 * eu, "%s %g vs uniform %g", t0, e0, eu);
        CHECKF(ek <= eu * (1 + 1e-9) && ek < eu, "%s %g vs uniform %g", tk, ek, eu);
        CHECKF(er <= eu * (1 + 1e-9) && er < eu, "%s %g vs uniform %g", tr, er, eu);
        CHECKF(isfinite(ep) && ep < 2.0 * eu, "%s %g vs uniform %g", tp, ep, eu);
    }
    lrq_lq_qt a, b, c;
    if (!quant("b3g32kt5", x, ne0, nrow, NULL, 3, NULL, &a) && !quant("b3g32kt5", x, ne0, nrow, NULL, 3, NULL, &b) &&
        !quant("b3g32kt5", x, ne0, nrow, NULL, 4, NULL, &c)) {
        CHECK(same_qt(&a, &b));
        CHECK(memcmp(a.codebook, c.codebook, 8 * sizeof(float)) != 0);
        for (int k = 1; k < 8; k++) CHECK(a.codebook[k - 1] <= a.codebook[k]);
        check_formula(&a, 7);
        lrq_lq_qt_free(&a);
        lrq_lq_qt_free(&b);
        lrq_lq_qt_free(&c);
    }
    if (!quant("b2g64akr8", x, ne0, nrow, imp, 3, NULL, &a)) {
        CHECK(a.cb_rows == nrow);
        check_formula(&a, 8);
        lrq_lq_qt_free(&a);
    }
    free(x);
    free(imp);
}

/* Double quantization: 8-bit scale codes stay close to F16 scales, fewer
 * code bits cost more; the decoded scales are exactly step * code. */
static void test_double_quant(void) {
    const int64_t ne0 = 512, nrow = 16;
    float *x = rand_normal(ne0 * nrow, 81);
    const char *bases[] = {"b4g32", "b3g64a"};
    for (int i = 0; i < 2; i++) {
        char p16[32], q8[32], q4[32];
        snprintf(p16, sizeof p16, "%sp16", bases[i]);
        snprintf(q8, sizeof q8, "%spq8x16", bases[i]);
        snprintf(q4, sizeof q4, "%spq4x16", bases[i]);
        double e16 = err_of(p16, x, ne0, nrow, NULL), e8 = err_of(q8, x, ne0, nrow, NULL);
        double e4 = err_of(q4, x, ne0, nrow, NULL);
        CHECKF(e8 <= 1.02 * e16, "%s %g vs %s %g", q8, e8, p16, e16);
        CHECKF(e4 > e8, "%s %g vs %s %g", q4, e4, q8, e8);
    }
    lrq_lq_qt q;
    if (!quant("b3g32apq6x7", x, ne0, nrow, NULL, 1, NULL, &q)) {
        CHECK(q.n_super == (nrow * q.ng + 6) / 7);
        int bad = 0;
        for (int64_t i = 0; i < nrow * q.ng; i++) {
            if (q.sq[i] > 63 || q.scale[i] != lrq_f16_to_f32(q.sd[i / 7]) * (float)q.sq[i]) bad++;
            if (q.zero[i] != floorf(q.zero[i]) || q.zero[i] < 0 || q.zero[i] > 7) bad++;
        }
        CHECK(bad == 0);
        check_formula(&q, 9);
        lrq_lq_qt_free(&q);
    }
    /* F16 / BF16 storage: the planes hold exactly representable values */
    if (!quant("b4g32apb16", x, ne0, nrow, NULL, 1, NULL, &q)) {
        int bad = 0;
        for (int64_t i = 0; i < nrow * q.ng; i++) bad += lrq_bf16_to_f32(lrq_f32_to_bf16(q.scale[i])) != q.scale[i];
        CHECK(bad == 0);
        lrq_lq_qt_free(&q);
    }
    if (!quant("b4g32a", x, ne0, nrow, NULL, 1, NULL, &q)) {
        int bad = 0;
        for (int64_t i = 0; i < nrow * q.ng; i++) bad += lrq_f16_to_f32(lrq_f32_to_f16(q.scale[i])) != q.scale[i];
        CHECK(bad == 0);
        lrq_lq_qt_free(&q);
    }
    free(x);
}

/* Every knob at once: the same bytes for 1 and 3 threads, and for a repeated
 * seed; another seed changes the stochastic codes. Every width round-trips
 * through the formula check. */
static void test_threads_and_seeds(void) {
    const int64_t ne0 = 192, nrow = 37;
    float *x = rand_normal(ne0 * nrow, 91);
    lrq_pool *pool = lrq_pool_new(3);
    CHECK(pool != NULL);
    const char *specs[] = {"b3g32arsogkt4", "b2g64pq5x3rz0.5cskr3", "b5g16acs", "b6grrs", "b8g32a", "b4g32kt3u"};
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        lrq_lq_qt a, b, c;
        if (quant(specs[i], x, ne0, nrow, NULL, 5, NULL, &a)) continue;
        if (!quant(specs[i], x, ne0, nrow, NULL, 5, pool, &b)) {
            CHECKF(same_qt(&a, &b), "%s: 1 vs 3 threads", specs[i]);
            lrq_lq_qt_free(&b);
        }
        if (!quant(specs[i], x, ne0, nrow, NULL, 6, pool, &c)) {
            const int random = strstr(specs[i], "rs") || strstr(specs[i], "rz") || strstr(specs[i], "kt4");
            if (random) CHECKF(!same_qt(&a, &c), "%s: seeds 5 and 6 agree", specs[i]);
            lrq_lq_qt_free(&c);
        }
        check_formula(&a, 10 + i);
        lrq_lq_qt_free(&a);
    }
    lrq_pool_free(pool);
    free(x);
}

static void test_errors(void) {
    float x[64] = {0};
    lrq_lq_qt q;
    lrq_lq_spec s = spec_of("b4g32");
    CHECK(lrq_lq_quantize(&s, x, 48, 1, NULL, 0, NULL, &q) == -1 && strstr(lrq_err_get(), "group"));
    CHECK(q.codes == NULL);
    x[5] = NAN;
    CHECK(lrq_lq_quantize(&s, x, 64, 1, NULL, 0, NULL, &q) == -1 && strstr(lrq_err_get(), "not finite"));
    x[5] = 0;
    float imp[64];
    for (int i = 0; i < 64; i++) imp[i] = 1;
    imp[3] = -1;
    CHECK(lrq_lq_quantize(&s, x, 64, 1, imp, 0, NULL, &q) == -1 && strstr(lrq_err_get(), "importance"));
    s.bits = 7;
    CHECK(lrq_lq_quantize(&s, x, 64, 1, NULL, 0, NULL, &q) == -1);
    /* an all-zero matrix quantizes to zeros */
    s = spec_of("b3g32acskt2");
    if (lrq_lq_quantize(&s, x, 64, 1, NULL, 0, NULL, &q) == 0) {
        float y[64];
        lrq_lq_dequant_row(&q, 0, y);
        int nz = 0;
        for (int i = 0; i < 64; i++) nz += y[i] != 0.0f;
        CHECK(nz == 0);
        lrq_lq_qt_free(&q);
    } else {
        CHECKF(0, "%s", lrq_err_get());
    }
}

int main(void) {
    lrq_types_init();
    TEST_RUN(test_stochastic_unbiased);
    TEST_RUN(test_offset);
    TEST_RUN(test_group_size);
    TEST_RUN(test_clip_search);
    TEST_RUN(test_noise);
    TEST_RUN(test_asym);
    TEST_RUN(test_codebook);
    TEST_RUN(test_double_quant);
    TEST_RUN(test_threads_and_seeds);
    TEST_RUN(test_errors);
    return test_finish();
}
