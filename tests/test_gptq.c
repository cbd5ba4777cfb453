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
#include "fmt/types.h"
#include "io/text.h"
#include "io/gguf.h"

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

/* ---------- (b) the zoo Qwen3 ---------- */

static char zoo_path[1024], calib_path[1024], valid_path[1024], tmp_dir[256];

static int zoo_ready(void) {
    if (!test_exists(zoo_path) || !test_exists(calib_path)) {
        printf("  (skip: %s or %s missing)\n", zoo_path, calib_path);
        return 0;
    }
    return 1;
}

static int tokens_of(const lrq_model *m, const char *path, int32_t **ids, size_t *n) {
    char *buf;
    size_t len;
    if (lrq_text_load_prompt(path, &buf, &len)) return -1;
    int rc = lrq_tokenize(m->vocab, buf, len, 1, 0, ids, n);
    free(buf);
    return rc;
}

/* A tensor of m as F32 (the caller frees it). */
static float *tensor_f32(const lrq_model *m, const char *name, int64_t *ne0, int64_t *nrow) {
    for (int i = 0; i < m->w->n_tensors; i++) {
        const lrq_tensor *t = &m->w->tensors[i];
        if (strcmp(t->name, name)) continue;
        const lrq_type_traits *tr = lrq_type_get(t->type);
        size_t rs;
        if (!tr || !tr->to_float || lrq_row_size(t->type, t->ne[0], &rs)) return NULL;
        *ne0 = t->ne[0];
        *nrow = t->ne[1] * t->ne[2];
        float *x = malloc(sizeof *x * (size_t)(*ne0 * *nrow));
        for (int64_t r = 0; r < *nrow; r++) tr->to_float((const uint8_t *)t->data + (size_t)r * rs, x + r * *ne0, *ne0);
        return x;
    }
    return NULL;
}

/* Captures every input row of one linear (one chunk's worth). */
typedef struct capture {
    const char *name;
    float *x;
    int64_t n_in, rows, cap;
} capture;

static void capture_in(void *ud, const lrq_linear_info *info, const float *x, int n_tok) {
    capture *c = ud;
    if (strcmp(info->name, c->name) || c->rows + n_tok > c->cap) return;
    c->n_in = info->n_in;
    memcpy(c->x + c->rows * info->n_in, x, sizeof *x * (size_t)(n_tok * info->n_in));
    c->rows += n_tok;
}

/* The statistics of one chunk against the inputs captured by a hook of
 * this test on the same chunk: H = Σ x xᵀ (F64 here), Σ x², max |x|, count. */
static void test_calib_stats(void) {
    if (!zoo_ready()) return;
    lrq_model *m;
    if (lrq_model_load(&m, zoo_path, NULL)) { CHECKF(0, "%s", lrq_last_error()); return; }
    int32_t *ids = NULL;
    size_t n = 0;
    lrq_ctx *ctx = NULL;
    lrq_calib *c = NULL;
    CHECK(tokens_of(m, calib_path, &ids, &n) == 0 && n >= 512);
    CHECK(lrq_ctx_new(&ctx, m, 512, 512, 2) == 0);
    CHECK(lrq_calib_new(&c, m, NULL, NULL) == 0);
    if (!ids || !ctx || !c) goto done;
    const int32_t bos = lrq_vocab_add_bos(m->vocab) ? lrq_vocab_bos(m->vocab) : -1;
    CHECK(lrq_calib_run(c, ctx, ids, n, 512, 512, 1, bos, NULL, NULL) == 1);
    lrq_model_info info;
    lrq_model_get_info(m, &info);
    CHECK(lrq_calib_n_entries(c) == 7 * info.n_layer + 1); /* q k v o gate up down per layer, and the head */
    for (int64_t i = 0; i < lrq_calib_n_entries(c); i++) CHECK(lrq_calib_entry_at(c, i)->n_tok == 512);
    const char *name = "blk.2.ffn_down.weight";
    const lrq_calib_entry *e = lrq_calib_find(c, name, -1);
    CHECK(e != NULL);
    if (!e) goto done;
    capture cap = { .name = name, .cap = 512 };
    cap.x = malloc(sizeof *cap.x * 512 * (size_t)e->n_in);
    lrq_hooks h = { .ud = &cap, .linear_in = capture_in };
    int32_t chunk[512];
    memcpy(chunk, ids, sizeof chunk);
    if (bos >= 0) chunk[0] = bos;
    lrq_ctx_reset(ctx);
    lrq_ctx_set_hooks(ctx, &h);
    CHECK(lrq_ctx_eval(ctx, chunk, 512, 511) != NULL);
    lrq_ctx_set_hooks(ctx, NULL);
    CHECK(cap.rows == 512 && cap.n_in == e->n_in);
    const int64_t k = e->n_in;
    double worst = 0, worst_s = 0, worst_a = 0;
    for (int64_t a = 0; a < k; a++) {
        double s2 = 0;
        float am = 0;
        for (int64_t t = 0; t < cap.rows; t++) {
            s2 += (double)cap.x[t * k + a] * cap.x[t * k + a];
            am = fmaxf(am, fabsf(cap.x[t * k + a]));
        }
        worst_s = fmax(worst_s, fabs(e->sum2[a] - s2) / (s2 > 0 ? s2 : 1));
        worst_a = fmax(worst_a, fabs((double)e->amax[a] - am));
        for (int64_t b = 0; b < k; b += 7) { /* a sample of the columns: the full k^2 x 512 costs seconds */
            double hv = 0, habs = 0;
            for (int64_t t = 0; t < cap.rows; t++) {
                const double p = (double)cap.x[t * k + a] * cap.x[t * k + b];
                hv += p;
                habs += fabs(p);
            }
            worst = fmax(worst, fabs(e->H[a * k + b] - hv) / (habs > 0 ? habs : 1));
            CHECKF(e->H[a * k + b] == e->H[b * k + a], "H not symmetric at %lld %lld", (long long)a, (long long)b);
            if (e->H[a * k + b] != e->H[b * k + a]) break;
        }
    }
    /* one F32 SYRK over 512 rows: within 512 * 2^-24 of Σ|x_a x_b| (typically far less) */
    CHECKF(worst <= 512.0 / 16777216.0, "H differs from Σ x xᵀ by %g of Σ|x x|", worst);
    CHECKF(worst_s <= 1e-12 && worst_a == 0, "Σx² off by %g, max|x| by %g", worst_s, worst_a);
    free(cap.x);
done:
    lrq_calib_free(c);
    lrq_ctx_free(ctx);
    lrq_model_free(m);
    free(ids);
}

/* MoE: one entry per expert of every stack, fed only the tokens routed to
 * it: per layer and expert, n_tok equals the routing counters. */
static void test_calib_moe(void) {
    const char *path = test_shared("models/zoo/ts-dsmoe-11M-f32.gguf");
    if (!test_exists(path) || !test_exists(calib_path)) {
        printf("  (skip: %s missing)\n", path);
        return;
    }
    lrq_model *m;
    if (lrq_model_load(&m, path, NULL)) { CHECKF(0, "%s", lrq_last_error()); return; }
    int32_t *ids = NULL;
    size_t n = 0;
    lrq_ctx *ctx = NULL;
    lrq_calib *c = NULL;
    CHECK(tokens_of(m, calib_path, &ids, &n) == 0);
    CHECK(lrq_ctx_new(&ctx, m, 256, 256, 2) == 0);
    CHECK(lrq_calib_new(&c, m, NULL, NULL) == 0);
    if (!ids || !ctx || !c) goto done;
    const int32_t bos = lrq_vocab_add_bos(m->vocab) ? lrq_vocab_bos(m->vocab) : -1;
    lrq_ctx_expert_counts_reset(ctx);
    CHECK(lrq_calib_run(c, ctx, ids, n, 256, 256, 1, bos, NULL, NULL) == 1);
    lrq_model_info info;
    lrq_model_get_info(m, &info);
    const uint64_t *cnt = lrq_ctx_expert_counts(ctx);
    int stacks = 0;
    int64_t unreached = 0;
    for (int l = 0; l < info.n_layer && cnt; l++) {
        char name[64];
        snprintf(name, sizeof name, "blk.%d.ffn_gate_exps.weight", l);
        if (!lrq_calib_find(c, name, 0)) continue;
        stacks++;
        CHECK(lrq_calib_find(c, name, -1) == NULL && lrq_calib_find(c, name, info.n_expert) == NULL);
        for (int x = 0; x < info.n_expert; x++) {
            const lrq_calib_entry *e = lrq_calib_find(c, name, x);
            CHECKF(e && (uint64_t)e->n_tok == cnt[l * info.n_expert + x], "layer %d expert %d: %lld tokens, routed %llu",
                   l, x, e ? (long long)e->n_tok : -1LL, (unsigned long long)cnt[l * info.n_expert + x]);
            unreached += e && e->n_tok == 0;
            if (e && e->n_tok == 0) { /* never reached: all zero */
                double z = 0;
                for (int64_t i = 0; i < e->n_in * e->n_in; i++) z += fabs(e->H[i]);
                CHECK(z == 0);
            }
        }
    }
    CHECKF(stacks > 0, "no expert stacks collected");
    printf("  %d expert stacks, %lld expert entries never reached on 1 chunk of 256\n", stacks, (long long)unreached);
done:
    lrq_calib_free(c);
    lrq_ctx_free(ctx);
    lrq_model_free(m);
    free(ids);
}

/* On every linear of the zoo Qwen3: GPTQ's objective <= RTN's, at 2-bit
 * g64 asym and 4-bit g128, with act-order, and (2-bit) static groups; and
 * with importance-weighted parameter searches (clip search) against RTN
 * with the same importance (the H diagonal: the imatrix). */
static void test_zoo_objective(void) {
    if (!zoo_ready()) return;
    lrq_model *m;
    if (lrq_model_load(&m, zoo_path, NULL)) { CHECKF(0, "%s", lrq_last_error()); return; }
    lrq_calib *c = NULL;
    lrq_calib_params cp = { .text = calib_path, .n_ctx = 512, .max_chunks = 4, .n_threads = 2 };
    lrq_calib_summary cs;
    CHECK(lrq_calib_new(&c, m, NULL, NULL) == 0);
    CHECKF(c && lrq_calib_collect(c, m, &cp, &cs) == 0, "%s", lrq_last_error());
    if (!c) goto done;
    printf("  calibration: %d chunks, %.1f MiB of statistics, %.1f s\n", cs.n_chunks, cs.bytes / 1048576.0, cs.seconds);
    static const struct { const char *spec; int act, stat, imp; } fm[] = {
        { "b2g64a", 0, 0, 0 }, { "b4g128", 0, 0, 0 }, { "b2g64a", 1, 0, 0 }, { "b2g64a", 1, 1, 0 },
        { "b2g64acs", 1, 1, 1 },
    };
    enum { NF = sizeof fm / sizeof fm[0] };
    double sum_g[NF] = { 0 }, sum_r[NF] = { 0 };
    int n_lin = 0;
    for (int64_t i = 0; i < lrq_calib_n_entries(c); i++) {
        const lrq_calib_entry *e = lrq_calib_entry_at(c, i);
        int64_t ne0, nrow;
        float *w = tensor_f32(m, e->name, &ne0, &nrow);
        CHECKF(w && ne0 == e->n_in, "%s", e->name);
        if (!w) continue;
        n_lin++;
        float *dg = malloc((size_t)ne0 * sizeof *dg);
        CHECK(dg != NULL);
        if (!dg) { free(w); continue; }
        for (int64_t j = 0; j < ne0; j++) dg[j] = (float)e->H[j * ne0 + j];
        for (int f = 0; f < NF; f++) {
            lrq_lq_spec s;
            CHECK(lrq_lq_spec_parse(fm[f].spec, &s) == 0);
            lrq_gptq_opts o = lrq_gptq_defaults();
            o.act_order = fm[f].act;
            o.static_groups = fm[f].stat;
            o.importance = fm[f].imp;
            lrq_lq_qt g, r;
            double og = 0, orr = 0;
            CHECKF(lrq_gptq_quantize(&s, w, ne0, nrow, e->H, &o, 3, NULL, &g, NULL) == 0, "%s: %s", e->name,
                   lrq_last_error());
            CHECK(lrq_lq_quantize(&s, w, ne0, nrow, fm[f].imp ? dg : NULL, 3, NULL, &r) == 0);
            CHECK(lrq_gptq_objective(w, &g, e->H, &og) == 0 && lrq_gptq_objective(w, &r, e->H, &orr) == 0);
            CHECKF(og <= orr, "%s %s act %d static %d imp %d: GPTQ %g > RTN %g", e->name, fm[f].spec, fm[f].act,
                   fm[f].stat, fm[f].imp, og, orr);
            sum_g[f] += og / orr;
            sum_r[f] += 1;
            lrq_lq_qt_free(&g);
            lrq_lq_qt_free(&r);
        }
        free(dg);
        free(w);
    }
    CHECK(n_lin == 7 * 6 + 1);
    for (int f = 0; f < NF; f++)
        printf("  %s act %d static %d imp %d: GPTQ/RTN objective, mean over %d linears: %.3f\n", fm[f].spec,
               fm[f].act, fm[f].stat, fm[f].imp, n_lin, sum_g[f] / sum_r[f]);
done:
    lrq_calib_free(c);
    lrq_model_free(m);
}

/* ---------- (c) lrq quantize with method gptq, (d) its errors ---------- */

static int write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fputs(text, f);
    return fclose(f);
}

static int quantize_recipe(const char *recipe_text, const char *out, const char *const *rules, int n_rules) {
    char rpath[512];
    snprintf(rpath, sizeof rpath, "%s/r.recipe", tmp_dir);
    if (write_file(rpath, recipe_text)) return -2;
    lrq_quantize_params p = { .in = zoo_path, .out = out, .recipe = rpath, .rules = rules, .n_rules = n_rules,
                              .n_threads = 2 };
    return lrq_quantize(&p, NULL);
}

static double ppl_of(const char *path, int chunks) {
    lrq_model *m;
    if (lrq_model_load(&m, path, NULL)) return NAN;
    int32_t *ids = NULL;
    size_t n = 0;
    lrq_ctx *ctx = NULL;
    double ppl = NAN;
    if (!tokens_of(m, valid_path, &ids, &n) && !lrq_ctx_new(&ctx, m, 512, 512, 2)) {
        lrq_ppl_params p = { .n_ctx = 512, .n_batch = 512, .max_chunks = chunks };
        lrq_ppl_result r;
        if (!lrq_perplexity(ctx, m, ids, n, &p, &r)) ppl = r.ppl;
    }
    free(ids);
    lrq_ctx_free(ctx);
    lrq_model_free(m);
    return ppl;
}

/* The F32 model's PPL on the first 2 chunks, computed once. */
static double ppl_f32(void) {
    static double pf = -1;
    if (pf < 0) pf = ppl_of(zoo_path, 2);
    return pf;
}

static void test_quantize_gptq(void) {
    if (!zoo_ready() || !test_exists(valid_path)) return;
    char text[2048], out[512];
    const double pf = ppl_f32();
    CHECK(isfinite(pf));
    /* act-order with dynamic groups; static groups with a per-tensor codebook on the FFN; importance */
    static const char *const variants[] = {
        "base lq:b4g64a\nmethod gptq\ngptq-act-order\ngptq-block 64\n",
        "base lq:b4g64\nmethod gptq\ngptq-act-order yes\ngptq-static-groups yes\ngptq-damp 0.02\n"
        "/ffn_/ lq:b4g64kt3u\n",
        /* importance-weighted clip search; token_embd (a lookup table, no Hessian) in a k-quant */
        "base lq:b4g64acs\nmethod gptq\ngptq-importance yes\ntoken_embd.weight q4_K\n",
    };
    for (int v = 0; v < 3; v++) {
        snprintf(text, sizeof text, "%scalib-text %s\ncalib-chunks 4\ncalib-context 256\n", variants[v], calib_path);
        snprintf(out, sizeof out, "%s/g%d.gguf", tmp_dir, v);
        const int rc = quantize_recipe(text, out, NULL, 0);
        CHECKF(rc == 0, "variant %d: %s", v, lrq_last_error());
        if (rc) continue;
        const double pq = ppl_of(out, 2);
        printf("  variant %d: PPL %.4f on 2 chunks (F32 %.4f)\n", v, pq, pf);
        /* 4-bit: near F32 (the lq4 g32 test in test_lq_model allows twice Q4_0's excess; this is looser) */
        CHECKF(isfinite(pq) && pq < pf * 1.10, "variant %d: PPL %g, F32 %g", v, pq, pf);
        unlink(out);
    }
}

/* gptq-sequential: layer 0 sees the same inputs as in one-shot mode, so its
 * matrices are byte-identical to the one-shot file's; the layers above are
 * calibrated on the quantized layers below, so some differ; the file runs. */
static void test_quantize_sequential(void) {
    if (!zoo_ready() || !test_exists(valid_path)) return;
    char text[2048], seq[512], one[512];
    snprintf(seq, sizeof seq, "%s/seq.gguf", tmp_dir);
    snprintf(one, sizeof one, "%s/one.gguf", tmp_dir);
    const char *base = "base lq:b3g64a\nmethod gptq\ngptq-act-order\ncalib-chunks 2\ncalib-context 128\n";
    snprintf(text, sizeof text, "%scalib-text %s\ngptq-sequential\n", base, calib_path);
    CHECKF(quantize_recipe(text, seq, NULL, 0) == 0, "%s", lrq_last_error());
    snprintf(text, sizeof text, "%scalib-text %s\n", base, calib_path);
    CHECKF(quantize_recipe(text, one, NULL, 0) == 0, "%s", lrq_last_error());
    lrq_gguf *a = NULL, *b = NULL;
    CHECK(lrq_gguf_open(&a, seq) == 0 && lrq_gguf_open(&b, one) == 0);
    if (a && b) {
        int same0 = 0, n0 = 0, diff_up = 0, n_up = 0;
        for (int64_t i = 0; i < lrq_gguf_n_tensors(b); i++) {
            lrq_tensor_info ti;
            if (lrq_gguf_tensor_info(b, i, &ti)) continue;
            const lrq_gguf_tensor *x = lrq_gguf_find_tensor(a, ti.name), *y = lrq_gguf_find_tensor(b, ti.name);
            CHECK(x && y && x->nbytes == y->nbytes);
            if (!x || !y || x->nbytes != y->nbytes || !strstr(ti.name, ".weight")) continue;
            const int eq = !memcmp(x->data, y->data, x->nbytes);
            if (!strncmp(ti.name, "blk.0.", 6)) {
                n0++;
                same0 += eq;
            } else if (!strncmp(ti.name, "blk.", 4)) {
                n_up++;
                diff_up += !eq;
            }
        }
        CHECKF(n0 > 0 && same0 == n0, "layer 0: %d of %d tensors identical to one-shot", same0, n0);
        CHECKF(diff_up > 0, "no tensor above layer 0 differs from one-shot (%d tensors)", n_up);
        printf("  sequential vs one-shot: %d/%d layer-0 tensors identical, %d/%d above differ\n", same0, n0, diff_up,
               n_up);
    }
    lrq_gguf_close(a);
    lrq_gguf_close(b);
    const double pf = ppl_f32(), ps = ppl_of(seq, 2), po = ppl_of(one, 2);
    printf("  PPL on 2 chunks: F32 %.4f, one-shot %.4f, sequential %.4f\n", pf, po, ps);
    CHECKF(isfinite(ps) && ps < pf * 1.25, "sequential PPL %g, F32 %g", ps, pf);
    unlink(seq);
    unlink(one);
}

static void test_quantize_errors(void) {
    if (!zoo_ready()) return;
    char text[2048], out[512], short_path[512];
    snprintf(out, sizeof out, "%s/err.gguf", tmp_dir);
    /* a missing text: the recipe line says so, naming where it looked */
    CHECK(quantize_recipe("base lq:b4g64\nmethod gptq\ncalib-text no-such-text.txt\n", out, NULL, 0) != 0);
    CHECKF(strstr(lrq_last_error(), "r.recipe:3") && strstr(lrq_last_error(), "no-such-text.txt") &&
               strstr(lrq_last_error(), "not found"), "%s", lrq_last_error());
    /* no text at all */
    CHECK(quantize_recipe("base lq:b4g64\nmethod gptq\n", out, NULL, 0) != 0);
    CHECKF(strstr(lrq_last_error(), "calib-text"), "%s", lrq_last_error());
    /* a llama.cpp block type among the matrices */
    snprintf(text, sizeof text, "base lq:b4g64\nmethod gptq\ncalib-text %s\noutput.weight q8_0\n", calib_path);
    CHECK(quantize_recipe(text, out, NULL, 0) != 0);
    CHECKF(strstr(lrq_last_error(), "'output.weight'") && strstr(lrq_last_error(), "q8_0") &&
               strstr(lrq_last_error(), "lq types only"), "%s", lrq_last_error());
    /* an lq spec GPTQ cannot use, through --tensor-type */
    const char *rule[] = { "blk.1.attn_k.weight=lq:b3g64rs" };
    snprintf(text, sizeof text, "base lq:b4g64\nmethod gptq\ncalib-text %s\n", calib_path);
    CHECK(quantize_recipe(text, out, rule, 1) != 0);
    CHECKF(strstr(lrq_last_error(), "blk.1.attn_k.weight") && strstr(lrq_last_error(), "rs/rz"), "%s",
           lrq_last_error());
    /* a text shorter than one chunk; the text relative to the recipe's folder */
    snprintf(short_path, sizeof short_path, "%s/short.txt", tmp_dir);
    CHECK(write_file(short_path, "Once upon a time there was a cat.") == 0);
    CHECK(quantize_recipe("base lq:b4g64\nmethod gptq\ncalib-text short.txt\n", out, NULL, 0) != 0);
    CHECKF(strstr(lrq_last_error(), "short.txt") && strstr(lrq_last_error(), "fewer than one calibration chunk"), "%s",
           lrq_last_error());
    CHECK(access(out, F_OK) != 0); /* nothing written */
    /* bad values */
    CHECK(quantize_recipe("base lq:b4g64\nmethod gptq\ngptq-damp -1\n", out, NULL, 0) != 0);
    CHECKF(strstr(lrq_last_error(), "r.recipe:3") && strstr(lrq_last_error(), "gptq-damp"), "%s", lrq_last_error());
    CHECK(quantize_recipe("base lq:b4g64\nmethod obs\n", out, NULL, 0) != 0);
    CHECKF(strstr(lrq_last_error(), "r.recipe:2"), "%s", lrq_last_error());
    unlink(short_path);
}

int main(void) {
    snprintf(zoo_path, sizeof zoo_path, "%s", test_shared("models/zoo/ts-qwen3-5M-f32.gguf"));
    snprintf(calib_path, sizeof calib_path, "%s", test_shared("data/calib/ts260k-synth-calib.txt"));
    snprintf(valid_path, sizeof valid_path, "%s", test_shared("data/tinystories/ts260k-synth-valid.txt"));
    snprintf(tmp_dir, sizeof tmp_dir, "/tmp/test_gptq_XXXXXX");
    if (!mkdtemp(tmp_dir)) {
        perror("mkdtemp");
        return 1;
    }
    TEST_RUN(test_blocked_equals_reference);
    TEST_RUN(test_objective);
    TEST_RUN(test_spec_errors);
    TEST_RUN(test_calib_stats);
    TEST_RUN(test_calib_moe);
    TEST_RUN(test_zoo_objective);
    TEST_RUN(test_quantize_gptq);
    TEST_RUN(test_quantize_sequential);
    TEST_RUN(test_quantize_errors);
    char r[512];
    snprintf(r, sizeof r, "%s/r.recipe", tmp_dir);
    unlink(r);
    rmdir(tmp_dir);
    return test_finish();
}
