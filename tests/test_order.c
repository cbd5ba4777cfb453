/* test_order.c — the llama.cpp-order kernels (kern/order.h): the fast
 * implementation must give the same bits as the scalar specification, for
 * every length, including the F32 tail rule and exp in place with arguments
 * that leave the normal range. Every SIMD level this CPU has is compared
 * with the scalar specification explicitly (whatever ISA is selected); the
 * comparison is skipped, saying why, only on a CPU without any of them.
 * Also spot values of the specification. */
#include "testlib.h"
#include "kern/order.h"
#include "core/core.h"

#include <math.h>
#include <string.h>

#if defined(LRQ_HAVE_X86)
#include <cpuid.h>
#endif

static void fill(float *x, int n, uint64_t *s, float scale) {
    for (int i = 0; i < n; i++) x[i] = test_rand_f32(s) * scale;
}

/* SIMD levels that have order kernels, and whether this CPU can run them. */
static const char *LEVELS[] = { "avx2", "avx512" };
#define N_LEVELS ((int)(sizeof LEVELS / sizeof LEVELS[0]))

static int cpu_has(const char *isa) {
#if defined(LRQ_HAVE_X86)
    __builtin_cpu_init();
    unsigned a, b, c, d;
    const int f16c = __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 29));
    if (strcmp(isa, "avx2") == 0) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && f16c;
    if (strcmp(isa, "avx512") == 0)
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") && f16c;
#else
    (void)isa;
#endif
    return 0;
}

/* The implementations to test against the spec: every level this CPU has (not just the selected one, so
 * the test cannot end up comparing the spec with itself). NULL-terminated; prints why if there is none. */
static int fast_impls(const lrq_order_kernels *out[N_LEVELS + 1], const char *names[N_LEVELS + 1]) {
    int n = 0;
    for (int i = 0; i < N_LEVELS; i++) {
        const lrq_order_kernels *k = lrq_order_get_isa(LEVELS[i]);
        if (!cpu_has(LEVELS[i])) {
            printf("  (no %s on this CPU: its order kernels are not tested here)\n", LEVELS[i]);
            continue;
        }
        CHECKF(k != NULL, "no order kernels for %s", LEVELS[i]);
        if (k) { names[n] = LEVELS[i]; out[n++] = k; }
    }
    out[n] = NULL;
    names[n] = NULL;
    if (n == 0) printf("  skipped: this CPU has no SIMD level with order kernels (only the scalar spec runs)\n");
    return n;
}

static void dots_match_spec(const lrq_order_kernels *f, const char *name) {
    const lrq_order_kernels *r = lrq_order_ref();
    CHECK(f != r);
    uint64_t s = 42;
    static float x[2048], y[2048];
    static uint16_t hx[2048], hy[2048];
    int bad = 0;
    for (int it = 0; it < 3000; it++) {
        int n = 1 + (int)(test_rand_u64(&s) % 1500);
        fill(x, n, &s, 3.0f);
        fill(y, n, &s, 3.0f);
        for (int i = 0; i < n; i++) { hx[i] = lrq_f32_to_f16(x[i]); hy[i] = lrq_f32_to_bf16(y[i]); }
        float a, b;
        bad += r->f32_vec(n, x, y) != f->f32_vec(n, x, y);
        if (n >= 16) bad += r->f32_gemm(n & ~15, x, y) != f->f32_gemm(n & ~15, x, y);
        r->f16_vec(n, &a, hx, hx); f->f16_vec(n, &b, hx, hx); bad += a != b;
        if (n >= 16) { r->f16_gemm(n & ~15, &a, hx, hx); f->f16_gemm(n & ~15, &b, hx, hx); bad += a != b; }
        r->bf16_vec(n, &a, hy, hy); f->bf16_vec(n, &b, hy, hy); bad += a != b;
        if (n >= 32) { r->bf16_gemm(n & ~31, &a, hy, hy); f->bf16_gemm(n & ~31, &b, hy, hy); bad += a != b; }
    }
    CHECKF(bad == 0, "%s: %d mismatches between the fast and the reference order kernels", name, bad);
    printf("  %s dots: %s\n", name, bad ? "MISMATCH" : "bit-identical to the spec");
}

/* The many-rows forms against the spec's rows (which are nr single calls):
 * strided rows, every row count up to 40 (tails of the 16-row groups),
 * lengths with and without a 64-step remainder. */
static void rows_match_spec(const lrq_order_kernels *f, const char *name) {
    const lrq_order_kernels *r = lrq_order_ref();
    uint64_t s = 99;
    static float x[40 * 600], y[600], a[40], b[40];
    int bad = 0, runs = 0;
    for (int it = 0; it < 400; it++) {
        const int n = 1 + (int)(test_rand_u64(&s) % 520), nr = 1 + (int)(test_rand_u64(&s) % 40);
        const int xs = n + (int)(test_rand_u64(&s) % 9); /* stride >= n */
        fill(x, nr * xs, &s, 2.0f);
        fill(y, n, &s, 2.0f);
        r->f32_vec_rows(n, x, xs, nr, y, a);
        f->f32_vec_rows(n, x, xs, nr, y, b);
        bad += memcmp(a, b, sizeof(float) * (size_t)nr) != 0;
        for (int k = 0; k < nr; k++) bad += a[k] != r->f32_vec(n, x + (size_t)k * xs, y); /* spec = single calls */
        if (n >= 16) {
            r->f32_gemm_rows(n & ~15, x, xs, nr, y, a);
            f->f32_gemm_rows(n & ~15, x, xs, nr, y, b);
            bad += memcmp(a, b, sizeof(float) * (size_t)nr) != 0;
            for (int k = 0; k < nr; k++) bad += a[k] != r->f32_gemm(n & ~15, x + (size_t)k * xs, y);
        }
        runs++;
    }
    CHECKF(bad == 0, "%s: %d mismatches in the many-rows kernels", name, bad);
    printf("  %s rows: %d cases %s\n", name, runs, bad ? "MISMATCH" : "bit-identical to the spec");
}

static void exp_matches_spec(const lrq_order_kernels *f, const char *name) {
    const lrq_order_kernels *r = lrq_order_ref();
    uint64_t s = 7;
    static float x[1024], a[1024], b[1024];
    int bad = 0;
    for (int it = 0; it < 500; it++) {
        int n = 1 + (int)(test_rand_u64(&s) % 1000);
        fill(x, n, &s, 200.0f); /* reaches past the normal range on both sides */
        r->exp(n, x, a);
        memcpy(b, x, sizeof(float) * (size_t)n);
        f->exp(n, b, b); /* in place */
        bad += memcmp(a, b, sizeof(float) * (size_t)n) != 0;
    }
    CHECKF(bad == 0, "%s: %d exp mismatches (in place)", name, bad);
}

static void test_dots_match_spec(void) {
    const lrq_order_kernels *f[N_LEVELS + 1];
    const char *names[N_LEVELS + 1];
    fast_impls(f, names);
    for (int i = 0; f[i]; i++) {
        dots_match_spec(f[i], names[i]);
        rows_match_spec(f[i], names[i]);
    }
}

/* The selected implementation is one of the tested ones (or the spec on a CPU without any). */
static void test_selected_is_tested(void) {
    const lrq_order_kernels *f[N_LEVELS + 1], *sel = lrq_order_get();
    const char *names[N_LEVELS + 1];
    int found = sel == lrq_order_ref();
    for (int i = 0, n = fast_impls(f, names); i < n; i++) found |= f[i] == sel;
    CHECK(found);
}

static void test_exp_in_place(void) {
    const lrq_order_kernels *f[N_LEVELS + 1];
    const char *names[N_LEVELS + 1];
    fast_impls(f, names);
    for (int i = 0; f[i]; i++) exp_matches_spec(f[i], names[i]);
    /* The polynomial is accurate: within 2 ulp-ish of libm over the softmax range. */
    float worst = 0;
    for (float v = -80.0f; v <= 80.0f; v += 0.37f) {
        float e = lrq_order_exp1(v), want = expf(v);
        float rel = fabsf(e - want) / want;
        if (rel > worst) worst = rel;
    }
    CHECKF(worst < 1e-6f, "exp relative error %g", worst);
    CHECK(lrq_order_exp1(-200.0f) == 0.0f);
    CHECK(isinf(lrq_order_exp1(200.0f)));
}

static void test_hsum16_order(void) {
    /* (a8+a0)... chosen so that the association is visible in float */
    float a[16] = {0};
    a[0] = 1e8f; a[8] = -1e8f; a[1] = 1.0f; a[4] = 1.0f;
    CHECK(lrq_order_hsum16(a) == 2.0f);
    float b[16] = {0};
    b[0] = 1e8f; b[1] = 1.0f; b[2] = -1e8f; /* (u0+u2) first: 0, then + 1 */
    CHECK(lrq_order_hsum16(b) == 1.0f);
}

int main(void) {
    TEST_RUN(test_dots_match_spec);
    TEST_RUN(test_selected_is_tested);
    TEST_RUN(test_exp_in_place);
    TEST_RUN(test_hsum16_order);
    return test_finish();
}
