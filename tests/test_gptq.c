/* test_gptq.c — GPTQ on lq formats (quant/gptq.h) and the calibration
 * statistics it uses (eval/calib.h).
 *  (a) the library's blocked GPTQ equals an unblocked reference written
 *      here (the specification: column by column, every later column
 *      updated at once by the error / U[j][j] times U[j][k], U the upper
 *      Cholesky factor of the damped H⁻¹, all linear algebra naive F64), on
 *      small random matrices, for block sizes that cut groups, act-order,
 *      static groups (with codebooks and double-quantized scales), dead
 *      columns;
 *  (b) on every linear of the zoo Qwen3, with Hessians from calibration
 *      text, GPTQ's layer objective tr((W−Ŵ) H (W−Ŵ)ᵀ) is <= RTN's (the
 *      lq quantizer alone) at the same format; the calibration's Hessian
 *      diagonal equals its Σx², and H is checked against Σ x xᵀ computed
 *      here from captured inputs of one linear;
 *  (c) `lrq quantize --recipe` with method gptq (act-order, static groups)
 *      writes files that load and run (PPL on a few chunks, finite and near
 *      the F32 model's);
 *  (d) errors: a missing calibration text, a tensor type GPTQ cannot use,
 *      a spec GPTQ cannot use, too short a text.
 */
#define _POSIX_C_SOURCE 200809L
#include "testlib.h"
#include "core/core.h"
#include "eval/calib.h"
#include "eval/ppl.h"
#include "fmt/lq_spec.h"
#include "fmt/planes.h"
#include "lrq.h"
#include "model/model.h"
#include "quant/gptq.h"
#include "quant/lq_quant.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---------- (a) the unblocked reference ---------- */

/* a = L Lᵀ, L into l (lower; naive). 0, or -1 if not positive definite. */
static int ref_chol(const double *a, int n, double *l) {
    memset(l, 0, sizeof *l * (size_t)n * (size_t)n);
    for (int i = 0; i < n; i++)
        for (int j = 0; j <= i; j++) {
            double s = a[i * n + j];
            for (int k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
            if (i == j) {
                if (!(s > 0)) return -1;
                l[i * n + i] = sqrt(s);
            } else {
                l[i * n + j] = s / l[j * n + j];
            }
        }
    return 0;
}

/* inv = (L Lᵀ)⁻¹, column by column by forward and back substitution. */
static void ref_inverse(const double *l, int n, double *inv, double *col) {
    for (int c = 0; c < n; c++) {
        for (int i = 0; i < n; i++) { /* L y = e_c */
            double s = i == c ? 1.0 : 0.0;
            for (int k = 0; k < i; k++) s -= l[i * n + k] * col[k];
            col[i] = s / l[i * n + i];
        }
        for (int i = n - 1; i >= 0; i--) { /* Lᵀ x = y */
            double s = col[i];
            for (int k = i + 1; k < n; k++) s -= l[k * n + i] * col[k];
            col[i] = s / l[i * n + i];
        }
        for (int i = 0; i < n; i++) inv[i * n + c] = col[i];
    }
}

/* The grid rule of one value (docs/formats.md): nearest code of x in group g
 * of row r, and its decoded value. */
static unsigned ref_round(const lrq_lq_qt *q, int64_t r, int32_t g, double x, float *deq) {
    const int64_t i = r * q->ng + g;
    const float s = q->scale[i], z = q->zero ? q->zero[i] : (float)(1 << (q->spec.bits - 1));
    const float o = q->og ? 0.25f * q->og[i] : q->spec.offset;
    const float u = s > 0 ? (float)x / s + z - o : z - o;
    const int K = 1 << q->spec.bits;
    if (q->codebook) {
        const float *cb = q->codebook + (q->cb_rows == 1 ? 0 : r) * K;
        int best = 0;
        for (int k = 1; k < K; k++) /* ties: the upper centre, as the library */
            if (fabsf(u - cb[k]) <= fabsf(u - cb[best])) best = k;
        *deq = s * (cb[best] - z + o);
        return (unsigned)best;
    }
    float v = roundf(u);
    v = v < 0 ? 0 : (v > K - 1 ? K - 1 : v);
    *deq = s * (v - z + o);
    return (unsigned)v;
}

/* Unblocked GPTQ: codes [nrow][n] (original column order) and the
 * parameters in *q (the caller frees it). */
static int ref_gptq(const lrq_lq_spec *s, const float *w, int n, int nrow, const double *H, double damp, int act_order,
                    int static_groups, uint8_t *codes, lrq_lq_qt *q) {
    int32_t G;
    if (lrq_lq_spec_group(s, n, &G)) return -1;
    const int ng = n / G;
    int *perm = malloc(sizeof *perm * n), *pos = malloc(sizeof *pos * n);
    uint8_t *dead = calloc(n, 1), *touched = calloc(ng, 1);
    double *W = malloc(sizeof *W * n * nrow), *A = malloc(sizeof *A * n * n), *L = malloc(sizeof *L * n * n);
    double *inv = malloc(sizeof *inv * n * n), *col = malloc(sizeof *col * n);
    float *slice = malloc(sizeof *slice * G * nrow), *wz = malloc(sizeof *wz * n * nrow);
    for (int c = 0; c < n; c++) {
        perm[c] = c;
        dead[c] = H[c * n + c] == 0.0;
    }
    if (act_order) /* insertion sort: decreasing diagonal, ties by index */
        for (int i = 1; i < n; i++)
            for (int k = i; k > 0 && H[perm[k] * n + perm[k]] > H[perm[k - 1] * n + perm[k - 1]]; k--) {
                int t = perm[k];
                perm[k] = perm[k - 1];
                perm[k - 1] = t;
            }
    for (int k = 0; k < n; k++) pos[perm[k]] = k;
    double mean = 0;
    for (int c = 0; c < n; c++) mean += dead[c] ? 1.0 : H[c * n + c];
    mean /= n;
    for (int a = 0; a < n; a++) {
        for (int b = 0; b < n; b++) A[a * n + b] = H[perm[a] * n + perm[b]];
        if (dead[perm[a]]) A[a * n + a] = 1.0;
        A[a * n + a] += damp * mean;
    }
    int rc = ref_chol(A, n, L);
    if (!rc) {
        ref_inverse(L, n, inv, col);
        rc = ref_chol(inv, n, L); /* inv = L Lᵀ, so U = Lᵀ: U[j][k] = L[k][j] */
    }
    for (int r = 0; r < nrow; r++)
        for (int k = 0; k < n; k++) W[r * n + k] = dead[perm[k]] ? 0.0 : w[r * n + perm[k]];
    memset(q, 0, sizeof *q);
    if (!rc && static_groups) {
        for (int i = 0; i < n * nrow; i++) wz[i] = dead[i % n] ? 0.0f : w[i];
        rc = lrq_lq_quantize(s, wz, n, nrow, NULL, 7, NULL, q);
    } else if (!rc) {
        q->spec = *s;
        q->ne0 = n;
        q->nrow = nrow;
        q->group = G;
        q->ng = ng;
        q->scale = calloc((size_t)nrow * ng, sizeof(float));
        if (s->asym) q->zero = calloc((size_t)nrow * ng, sizeof(float));
        if (s->offset_group) q->og = calloc((size_t)nrow * ng, 1);
    }
    for (int k = 0; k < n && !rc; k++) {
        const int c = perm[k], g = c / G;
        if (!static_groups && !touched[g]) {
            for (int r = 0; r < nrow; r++)
                for (int t = 0; t < G; t++) slice[r * G + t] = (float)W[r * n + pos[g * G + t]];
            lrq_lq_qt gq;
            if ((rc = lrq_lq_quantize(s, slice, G, nrow, NULL, 7, NULL, &gq))) break;
            for (int r = 0; r < nrow; r++) {
                q->scale[r * ng + g] = gq.scale[r];
                if (q->zero) q->zero[r * ng + g] = gq.zero[r];
                if (q->og) q->og[r * ng + g] = gq.og[r];
            }
            lrq_lq_qt_free(&gq);
            touched[g] = 1;
        }
        const double d = L[k * n + k];
        for (int r = 0; r < nrow; r++) {
            float deq;
            codes[r * n + c] = (uint8_t)ref_round(q, r, g, W[r * n + k], &deq);
            const double err = (W[r * n + k] - deq) / d;
            for (int kk = k + 1; kk < n; kk++) W[r * n + kk] -= err * L[kk * n + k];
        }
    }
    free(perm); free(pos); free(dead); free(touched); free(W); free(A); free(L); free(inv); free(col); free(slice);
    free(wz);
    return rc;
}

/* Random W with a few large values, and H = Σ x xᵀ of correlated inputs
 * with column `dead_col` always 0 (when >= 0) and varied magnitudes. */
static void random_problem(uint64_t *st, int n, int nrow, int dead_col, float *w, double *H) {
    for (int i = 0; i < n * nrow; i++) {
        w[i] = test_rand_normal(st) * 0.05f;
        if (test_rand_u64(st) % 97 == 0) w[i] *= 8.0f;
    }
    const int T = 3 * n;
    float *x = malloc(sizeof *x * T * n), *mix = malloc(sizeof *mix * n * 4), *scale = malloc(sizeof *scale * n);
    for (int j = 0; j < n; j++) scale[j] = 0.2f + 2.0f * fabsf(test_rand_normal(st));
    for (int i = 0; i < n * 4; i++) mix[i] = test_rand_normal(st);
    for (int t = 0; t < T; t++) {
        float f[4];
        for (int k = 0; k < 4; k++) f[k] = test_rand_normal(st);
        for (int j = 0; j < n; j++) {
            float v = test_rand_normal(st) * 0.5f;
            for (int k = 0; k < 4; k++) v += mix[j * 4 + k] * f[k];
            x[t * n + j] = j == dead_col ? 0.0f : v * scale[j];
        }
    }
    for (int a = 0; a < n; a++)
        for (int b = 0; b < n; b++) {
            double s = 0;
            for (int t = 0; t < T; t++) s += (double)x[t * n + a] * x[t * n + b];
            H[a * n + b] = s;
        }
    free(x);
    free(mix);
    free(scale);
}

typedef struct acase {
    const char *spec;
    int n, nrow, block, act_order, static_groups;
} acase;

static void test_blocked_equals_reference(void) {
    static const acase cases[] = {
        { "b4g32", 128, 24, 128, 0, 0 },  { "b4g32", 128, 24, 1, 0, 0 },   { "b3g32a", 128, 24, 16, 0, 0 },
        { "b3g32a", 96, 20, 40, 0, 0 },   /* blocks cut groups: stale columns brought up to date */
        { "b2g64aogcs", 128, 16, 48, 0, 0 }, { "b4gr", 96, 16, 32, 0, 0 }, /* one group per row, past every block */
        { "b4g32", 128, 24, 32, 1, 0 },   { "b3g32a", 96, 20, 40, 1, 0 },  /* act-order, dynamic groups */
        { "b4g32", 128, 24, 32, 1, 1 },   { "b2g64a", 128, 16, 128, 0, 1 }, /* static groups */
        { "b3g32kt3u", 96, 16, 24, 1, 1 }, { "b3g32kr2", 96, 12, 32, 0, 1 },  /* codebooks (static) */
        { "b4g32pq6x4", 128, 12, 32, 1, 1 }, { "b4g32pb16o0.5", 96, 12, 16, 0, 0 },
    };
    uint64_t st = 12345;
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        const acase *k = &cases[ci];
        lrq_lq_spec s;
        CHECK(lrq_lq_spec_parse(k->spec, &s) == 0);
        float *w = malloc(sizeof *w * k->n * k->nrow);
        double *H = malloc(sizeof *H * k->n * k->n);
        random_problem(&st, k->n, k->nrow, ci % 3 == 0 ? 5 : -1, w, H);
        uint8_t *rc = malloc((size_t)k->n * k->nrow), *lc = malloc((size_t)k->n * k->nrow);
        lrq_lq_qt rq, lq;
        const int r1 = ref_gptq(&s, w, k->n, k->nrow, H, 0.01, k->act_order, k->static_groups, rc, &rq);
        lrq_gptq_opts o = lrq_gptq_defaults();
        o.block = k->block;
        o.act_order = k->act_order;
        o.static_groups = k->static_groups;
        lrq_gptq_report rep;
        const int r2 = lrq_gptq_quantize(&s, w, k->n, k->nrow, H, &o, 7, NULL, &lq, &rep);
        CHECKF(r1 == 0 && r2 == 0, "%s: ref %d lib %d (%s)", k->spec, r1, r2, lrq_last_error());
        if (r1 || r2) continue;
        CHECK(rep.n_dead == (ci % 3 == 0 ? 1 : 0));
        long diff = 0;
        for (int r = 0; r < k->nrow; r++)
            for (int j = 0; j < k->n; j++)
                diff += lrq_planes_code(lq.codes + (size_t)r * lq.row_bytes, s.bits, j) != rc[r * k->n + j];
        double pdiff = 0;
        for (int64_t i = 0; i < (int64_t)k->nrow * lq.ng; i++) pdiff = fmax(pdiff, fabs(lq.scale[i] - rq.scale[i]));
        /* same decisions: only float rounding may differ (the working copies are F64 in both) */
        CHECKF(diff == 0 && pdiff == 0, "%s n %d block %d act %d static %d: %ld of %d codes differ, scales by %g",
               k->spec, k->n, k->block, k->act_order, k->static_groups, diff, k->n * k->nrow, pdiff);
        /* and the objective beats round-to-nearest with the same parameters' search */
        lrq_lq_qt rtn;
        double og = 0, orr = 0;
        CHECK(lrq_lq_quantize(&s, w, k->n, k->nrow, NULL, 7, NULL, &rtn) == 0);
        CHECK(lrq_gptq_objective(w, &lq, H, &og) == 0 && lrq_gptq_objective(w, &rtn, H, &orr) == 0);
        CHECKF(og < orr, "%s: GPTQ objective %g, RTN %g", k->spec, og, orr);
        lrq_lq_qt_free(&rtn);
        lrq_lq_qt_free(&rq);
        lrq_lq_qt_free(&lq);
        free(w);
        free(H);
        free(rc);
        free(lc);
    }
}

/* lrq_gptq_objective against the direct Σ_t ‖(W − Ŵ) x_t‖² form. */
static void test_objective(void) {
    const int n = 64, nrow = 8, T = 50;
    uint64_t st = 99;
    float *w = malloc(sizeof *w * n * nrow), *x = malloc(sizeof *x * n * T), *row = malloc(sizeof *row * n);
    double *H = calloc((size_t)n * n, sizeof *H);
    for (int i = 0; i < n * nrow; i++) w[i] = test_rand_normal(&st);
    for (int i = 0; i < n * T; i++) x[i] = test_rand_normal(&st);
    for (int t = 0; t < T; t++)
        for (int a = 0; a < n; a++)
            for (int b = 0; b < n; b++) H[a * n + b] += (double)x[t * n + a] * x[t * n + b];
    lrq_lq_spec s;
    lrq_lq_qt q;
    CHECK(lrq_lq_spec_parse("b2g32", &s) == 0 && lrq_lq_quantize(&s, w, n, nrow, NULL, 1, NULL, &q) == 0);
    double direct = 0, obj = -1;
    for (int r = 0; r < nrow; r++) {
        lrq_lq_dequant_row(&q, r, row);
        for (int t = 0; t < T; t++) {
            double e = 0;
            for (int j = 0; j < n; j++) e += ((double)w[r * n + j] - row[j]) * x[t * n + j];
            direct += e * e;
        }
    }
    CHECK(lrq_gptq_objective(w, &q, H, &obj) == 0);
    CHECKF(fabs(obj - direct) <= 1e-9 * direct, "objective %.12g, direct %.12g", obj, direct);
    lrq_lq_qt_free(&q);
    free(w); free(x); free(row); free(H);
}

static void test_spec_errors(void) {
    lrq_lq_spec s;
    lrq_gptq_opts o = lrq_gptq_defaults();
    CHECK(lrq_lq_spec_parse("b3g32rs", &s) == 0);
    CHECK(lrq_gptq_check(&s, &o) != 0 && strstr(lrq_last_error(), "rs/rz"));
    CHECK(lrq_lq_spec_parse("b4g32kt3", &s) == 0);
    CHECK(lrq_gptq_check(&s, &o) != 0 && strstr(lrq_last_error(), "static groups"));
    o.static_groups = 1;
    CHECK(lrq_gptq_check(&s, &o) == 0);
    CHECK(lrq_lq_spec_parse("b4g32pq6", &s) == 0);
    o.static_groups = 0;
    CHECK(lrq_gptq_check(&s, &o) != 0 && strstr(lrq_last_error(), "double-quantized"));
    o = lrq_gptq_defaults();
    o.damp = -1;
    CHECK(lrq_gptq_check(&s, &o) != 0);
}

int main(void) {
    TEST_RUN(test_blocked_equals_reference);
    TEST_RUN(test_objective);
    TEST_RUN(test_spec_errors);
    return test_finish();
}
