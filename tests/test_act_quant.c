/* test_act_quant.c — dynamic activation fake quantization (nn/act_quant.h):
 * the range (max, nearest-rank percentile, fixed threshold) against a sort,
 * the grid formulas, and the directions every knob must show. */
#include "testlib.h"
#include "nn/act_quant.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_f(const void *a, const void *b) {
    const float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

/* data with repeated values and an outlier tail, like real activations */
static void fill(float *x, size_t n, uint64_t *st, float shift) {
    for (size_t i = 0; i < n; i++) {
        float v = test_rand_normal(st);
        if (i % 7 == 0) v = roundf(v * 4.0f) / 4.0f; /* ties */
        if (i % 97 == 0) v *= 20.0f;                 /* outliers */
        x[i] = v + shift;
    }
}

static double mse(const float *a, const float *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
    return s / (double)n;
}

static void test_range_vs_sort(void) {
    uint64_t st = 7;
    const size_t sizes[] = { 1, 2, 3, 17, 256, 1000, 4099 };
    const float ps[] = { 1.0f, 0.999f, 0.99f, 0.9f, 0.5f, 0.01f };
    for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
        const size_t n = sizes[si];
        float *x = malloc(n * sizeof *x), *s = malloc(n * sizeof *s), *scr = malloc(n * sizeof *scr);
        fill(x, n, &st, 0.3f);
        for (size_t pi = 0; pi < sizeof ps / sizeof *ps; pi++) {
            size_t k = (size_t)fmax(0.0, ceil((double)ps[pi] * (double)n) - 1.0);
            if (k > n - 1) k = n - 1;
            /* symmetric: the nearest-rank quantile of |x| */
            for (size_t i = 0; i < n; i++) s[i] = fabsf(x[i]);
            qsort(s, n, sizeof *s, cmp_f);
            lrq_act_quant aq = { .bits = 8, .clip = ps[pi] };
            float lo, hi;
            lrq_act_range(&aq, x, n, scr, &lo, &hi);
            CHECKF(hi == s[k] && lo == -s[k], "n %zu P %g: sym range %g, sort says %g", n, (double)ps[pi],
                   (double)hi, (double)s[k]);
            /* asymmetric: the quantiles from each side, widened to hold 0 */
            memcpy(s, x, n * sizeof *s);
            qsort(s, n, sizeof *s, cmp_f);
            aq.asym = 1;
            lrq_act_range(&aq, x, n, scr, &lo, &hi);
            CHECKF(hi == fmaxf(s[k], 0.0f) && lo == fminf(s[n - 1 - k], 0.0f), "n %zu P %g: asym range [%g, %g]", n,
                   (double)ps[pi], (double)lo, (double)hi);
        }
        free(x); free(s); free(scr);
    }
}

static void test_grid(void) {
    uint64_t st = 11;
    enum { N = 4096 };
    float x[N], y[N], scr[N];
    fill(x, N, &st, 0.0f);
    x[5] = 0.0f;
    /* symmetric grid: y = s q with |q| <= qmax, s = hi / qmax; zero stays zero */
    for (int bits = 2; bits <= 16; bits++) {
        lrq_act_quant aq = { .bits = bits, .clip = 1.0f };
        float lo, hi;
        lrq_act_range(&aq, x, N, NULL, &lo, &hi);
        lrq_act_apply(&aq, lo, hi, x, y, N);
        const float qmax = (float)((1 << (bits - 1)) - 1), s = hi / qmax;
        int ok = y[5] == 0.0f;
        for (int i = 0; i < N; i++) {
            const float q = y[i] / s;
            ok &= fabsf(q - roundf(q)) < 1e-3f && fabsf(q) <= qmax + 1e-3f && fabsf(y[i] - x[i]) <= 0.5f * s * 1.0001f;
        }
        CHECKF(ok, "symmetric %d-bit grid: a value is off the grid or more than half a step away", bits);
    }
    /* asymmetric: lo..hi on 2^b levels, zero exact */
    lrq_act_quant aa = { .bits = 4, .asym = 1, .clip = 1.0f };
    float lo, hi;
    lrq_act_range(&aa, x, N, NULL, &lo, &hi);
    lrq_act_apply(&aa, lo, hi, x, y, N);
    CHECK(y[5] == 0.0f);
    /* z is rounded, so the grid may stick out of [lo, hi] by at most half a step */
    const float sa = (hi - lo) / 15.0f;
    int in = 1;
    for (int i = 0; i < N; i++) in &= y[i] >= lo - 0.5f * sa * 1.0001f && y[i] <= hi + 0.5f * sa * 1.0001f;
    CHECK(in);
    /* fixed threshold: everything inside [-T, T], the big values at its edge */
    lrq_act_quant af = { .bits = 8, .clip = 1.0f, .clip_at = 0.5f };
    lrq_act_range(&af, x, N, NULL, &lo, &hi);
    CHECK(lo == -0.5f && hi == 0.5f);
    lrq_act_apply(&af, lo, hi, x, y, N);
    float ymax = 0;
    for (int i = 0; i < N; i++) ymax = fmaxf(ymax, fabsf(y[i]));
    CHECKF(fabsf(ymax - 0.5f) < 1e-6f, "clip_at 0.5: largest output %g", (double)ymax);
    (void)scr;
}

static void test_directions(void) {
    uint64_t st = 3;
    enum { N = 8192 };
    static float x[N], y[N], scr[N];
    fill(x, N, &st, 0.0f);
    /* more bits, less error */
    double prev = INFINITY;
    for (int bits = 2; bits <= 16; bits += 2) {
        lrq_act_quant aq = { .bits = bits, .clip = 1.0f };
        float lo, hi;
        lrq_act_range(&aq, x, N, NULL, &lo, &hi);
        lrq_act_apply(&aq, lo, hi, x, y, N);
        const double e = mse(x, y, N);
        CHECKF(e < prev, "%d bits: error %g not below %g", bits, e, prev);
        prev = e;
    }
    /* with rare large outliers (0.1%) a percentile clip lowers the 4-bit error */
    for (int i = 0; i < N; i++) x[i] = test_rand_normal(&st) * (i % 1000 == 0 ? 20.0f : 1.0f);
    lrq_act_quant a1 = { .bits = 4, .clip = 1.0f }, a2 = { .bits = 4, .clip = 0.995f };
    float lo, hi;
    lrq_act_range(&a1, x, N, NULL, &lo, &hi);
    lrq_act_apply(&a1, lo, hi, x, y, N);
    const double e_max = mse(x, y, N);
    lrq_act_range(&a2, x, N, scr, &lo, &hi);
    lrq_act_apply(&a2, lo, hi, x, y, N);
    const double e_clip = mse(x, y, N);
    printf("  4-bit MSE with 0.1%% outliers: max range %.4g, 0.995 quantile %.4g\n", e_max, e_clip);
    CHECK(e_clip < e_max);
    /* on one-sided data asymmetric beats symmetric */
    for (int i = 0; i < N; i++) x[i] = fabsf(x[i]);
    lrq_act_quant s4 = { .bits = 4, .clip = 1.0f }, a4 = { .bits = 4, .asym = 1, .clip = 1.0f };
    lrq_act_range(&s4, x, N, NULL, &lo, &hi);
    lrq_act_apply(&s4, lo, hi, x, y, N);
    const double es = mse(x, y, N);
    lrq_act_range(&a4, x, N, NULL, &lo, &hi);
    lrq_act_apply(&a4, lo, hi, x, y, N);
    const double ea = mse(x, y, N);
    CHECKF(ea < es, "one-sided data: asym error %g not below sym %g", ea, es);
}

static void test_check(void) {
    lrq_act_quant ok = { .bits = 8, .clip = 1.0f };
    CHECK(lrq_act_quant_check(&ok) == 0);
    lrq_act_quant b1 = ok, b2 = ok, b3 = ok, b4 = ok;
    b1.bits = 1;
    b2.bits = 17;
    b3.clip = 0.0f;
    b4.clip_at = NAN;
    CHECK(lrq_act_quant_check(&b1) != 0 && lrq_act_quant_check(&b2) != 0);
    CHECK(lrq_act_quant_check(&b3) != 0 && lrq_act_quant_check(&b4) != 0);
}

int main(void) {
    TEST_RUN(test_range_vs_sort);
    TEST_RUN(test_grid);
    TEST_RUN(test_directions);
    TEST_RUN(test_check);
    return test_finish();
}
