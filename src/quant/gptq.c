/* gptq.c — GPTQ on lq formats (what and why: quant/gptq.h).
 *
 * Layout: the working copy of W is F64 [nrow][n] with its columns in
 * processing order (act-order permutes them; position k holds original
 * column perm[k]), so every block of the lazy batch is contiguous and the
 * GEMMs see plain row-major operands. U, the upper Cholesky factor of the
 * damped H⁻¹, is in the same permuted order. Codes are kept one per byte in
 * the original column order and packed at the end.
 *
 * Per block [i1, i2): column j is rounded (all rows), its scaled errors
 * E[:, j - i1] = (w - ŵ) / U[j][j] go at once to the block's later columns
 * (a rank-1 update, dger); after the block, the columns from i2 on get the
 * whole block's errors in one dgemm: W[:, i2:] -= E · U[i1:i2, i2:].
 * A group whose parameters are chosen inside a block may have columns past
 * i2 that have not yet received this block's errors: those are brought up
 * to date (dgemv) in the copy handed to the parameter search, so the
 * search sees exactly the weights an unblocked GPTQ would.
 */
#include "quant/gptq.h"

#include "core/core.h"
#include "fmt/planes.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef LRQ_USE_ACCELERATE
#define ACCELERATE_NEW_LAPACK
#include <Accelerate/Accelerate.h>
#else
#include <cblas.h>
#include <lapacke.h>
#endif

/* ---------- LAPACK on symmetric row-major matrices ----------
 * Row-major a symmetric matrix is its own transpose, so a column-major
 * LAPACK sees the same matrix with 'L' and 'U' swapped: the Accelerate
 * branch calls the Fortran interface with the other triangle. */

/* Cholesky of the symmetric positive definite a [n][n]: lower != 0: a = L Lᵀ
 * into the lower triangle, else a = UᵀU into the upper. 0, or the LAPACK
 * info (> 0: not positive definite). */
static int sym_potrf(int lower, int n, double *a) {
#ifdef LRQ_USE_ACCELERATE
    char uplo = lower ? 'U' : 'L';
    __LAPACK_int nn = n, lda = n, info = 0;
    dpotrf_(&uplo, &nn, a, &lda, &info);
    return (int)info;
#else
    return (int)LAPACKE_dpotrf(LAPACK_ROW_MAJOR, lower ? 'L' : 'U', n, a, n);
#endif
}

/* The inverse from the lower Cholesky factor in a (sym_potrf(1, ...)):
 * a⁻¹ into the lower triangle. 0 or the LAPACK info. */
static int sym_potri_lower(int n, double *a) {
#ifdef LRQ_USE_ACCELERATE
    char uplo = 'U';
    __LAPACK_int nn = n, lda = n, info = 0;
    dpotri_(&uplo, &nn, a, &lda, &info);
    return (int)info;
#else
    return (int)LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'L', n, a, n);
#endif
}

/* ---------- options ---------- */

lrq_gptq_opts lrq_gptq_defaults(void) {
    return (lrq_gptq_opts){ .damp = 0.01, .block = 128, .act_order = 0, .static_groups = 0, .importance = 0 };
}

int lrq_gptq_check(const lrq_lq_spec *s, const lrq_gptq_opts *o) {
    if (lrq_lq_spec_check(s)) return -1;
    if (!(o->damp >= 0.0) || !isfinite(o->damp)) return lrq_err_set("gptq: damp %g must be a finite value >= 0", o->damp);
    if (o->block < 1) return lrq_err_set("gptq: block size %d must be >= 1", o->block);
    char sp[64];
    if (lrq_lq_spec_format(s, sp, sizeof sp)) return -1;
    if (s->round != LRQ_LQ_ROUND_NEAREST)
        return lrq_err_set("gptq: lq spec '%s': GPTQ rounds to nearest and feeds the error forward; stochastic or "
                           "noisy rounding (rs/rz) cannot be used", sp);
    if (!o->static_groups && (s->pstore == LRQ_LQ_P_Q || s->cb))
        return lrq_err_set("gptq: lq spec '%s': %s, so they cannot be chosen a group at a time: use static groups",
                           sp, s->cb ? "codebooks span whole rows or the tensor"
                                     : "double-quantized scales share a step per super-block of groups");
    return 0;
}

/* ---------- one value onto a group's grid ---------- */

/* Index of the centre nearest to u among K sorted centres (ties: the upper). */
static int nearest_centre(const float *c, int K, float u) {
    int lo = 0, hi = K;
    while (lo < hi) {
        const int m = (lo + hi) / 2;
        if (c[m] < u) lo = m + 1;
        else hi = m;
    }
    if (lo == K) return K - 1;
    if (lo == 0) return 0;
    return u - c[lo - 1] < c[lo] - u ? lo - 1 : lo;
}

/* The nearest code of value x in group g of row r of q, and the value it
 * decodes to (float arithmetic exactly as lrq_lq_dequant_row). */
static uint8_t grid_round(const lrq_lq_qt *q, int64_t r, int32_t g, double x, float *deq) {
    const int64_t i = r * q->ng + g;
    const float s = q->scale[i];
    const float z = q->zero ? q->zero[i] : (float)(1 << (q->spec.bits - 1));
    const float o = q->og ? 0.25f * (float)q->og[i] : q->spec.offset;
    const float u = s > 0.0f ? (float)x / s + z - o : z - o;
    const int K = 1 << q->spec.bits;
    if (q->codebook) {
        const float *cb = q->codebook + (q->cb_rows == 1 ? 0 : r) * (int64_t)K;
        const int k = nearest_centre(cb, K, u);
        *deq = s * (cb[k] - z + o);
        return (uint8_t)k;
    }
    float v = roundf(u);
    v = v < 0.0f ? 0.0f : (v > (float)(K - 1) ? (float)(K - 1) : v);
    *deq = s * (v - z + o);
    return (uint8_t)v;
}

/* ---------- the algorithm ---------- */

typedef struct gwork {
    const lrq_lq_spec *s;
    int64_t n, nrow;
    int32_t G;
    double *W;          /* [nrow][n] working weights, permuted columns */
    double *U;          /* [n][n] upper Cholesky factor of the damped H⁻¹ (permuted) */
    double *E;          /* [nrow][block] scaled errors of the current block */
    double *y;          /* [nrow] scratch */
    float *slice;       /* [nrow][G] a group's current weights, for the parameter search */
    int64_t *perm, *pos; /* processing position -> column; column -> position */
    const float *imp;   /* [n] importance per original column (H diagonal), or NULL */
    int block;
} gwork;

/* Parameters of group g from its current weights: column p of the group at
 * position pos[c]; those past the block end i2 lack the errors of columns
 * [i1, j) of this block, added here. The lq search then chooses scale,
 * zero and offset per row exactly as lrq_lq_quantize would for this slice. */
static int group_params(gwork *gw, int32_t g, int64_t i1, int64_t j, int64_t i2, uint64_t seed, struct lrq_pool *pool,
                        lrq_lq_qt *q) {
    const int64_t n = gw->n, nrow = gw->nrow, G = gw->G;
    for (int64_t t = 0; t < G; t++) {
        const int64_t p = gw->pos[(int64_t)g * G + t];
        const int stale = p >= i2 && j > i1;
        if (stale)
            cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)nrow, (int)(j - i1), 1.0, gw->E, gw->block,
                        gw->U + i1 * n + p, (int)n, 0.0, gw->y, 1);
        for (int64_t r = 0; r < nrow; r++) {
            const double v = gw->W[r * n + p] - (stale ? gw->y[r] : 0.0);
            gw->slice[r * G + t] = (float)v;
        }
    }
    lrq_lq_qt gq;
    if (lrq_lq_quantize(gw->s, gw->slice, G, nrow, gw->imp ? gw->imp + (int64_t)g * G : NULL, seed, pool, &gq))
        return -1;
    for (int64_t r = 0; r < nrow; r++) {
        const int64_t i = r * q->ng + g;
        q->scale[i] = gq.scale[r];
        if (q->zero) q->zero[i] = gq.zero[r];
        if (q->og) q->og[i] = gq.og[r];
    }
    lrq_lq_qt_free(&gq);
    return 0;
}

static void *alloc_n(int64_t n, size_t each) {
    size_t b;
    if (n < 0 || lrq_mul_size((size_t)n, each, &b)) {
        lrq_err_set("gptq: buffer of %lld x %zu bytes overflows", (long long)n, each);
        return NULL;
    }
    return lrq_malloc(b ? b : 1);
}

/* The damped, permuted H (dead diagonals set to 1) into A, then U: A⁻¹ =
 * UᵀU. Raises the damping ×10 (at most 4 times) while a factorisation
 * fails. */
static int inverse_factor(gwork *gw, const double *H, const uint8_t *dead, double damp, double *A, double *used) {
    const int64_t n = gw->n;
    double mean = 0.0;
    for (int64_t c = 0; c < n; c++) mean += dead[c] ? 1.0 : H[c * n + c];
    mean /= (double)n;
    for (int attempt = 0; attempt < 5; attempt++, damp = damp > 0.0 ? damp * 10.0 : 1e-4) {
        for (int64_t a = 0; a < n; a++) {
            const int64_t ca = gw->perm[a];
            for (int64_t b = 0; b < n; b++) A[a * n + b] = H[ca * n + gw->perm[b]];
            if (dead[ca]) A[a * n + a] = 1.0;
            A[a * n + a] += damp * mean;
        }
        if (sym_potrf(1, (int)n, A) || sym_potri_lower((int)n, A)) continue;
        for (int64_t a = 0; a < n; a++) /* potri filled the lower triangle: mirror it for the upper factor */
            for (int64_t b = a + 1; b < n; b++) A[a * n + b] = A[b * n + a];
        if (sym_potrf(0, (int)n, A)) continue;
        *used = damp;
        return 0;
    }
    return lrq_err_set("gptq: the Hessian is not positive definite even with damping %g of its mean diagonal", damp);
}

static int cmp_diag_desc(const void *a, const void *b, const double *d) {
    const int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    if (d[x] != d[y]) return d[x] > d[y] ? -1 : 1;
    return (x > y) - (x < y);
}

/* A stable sort by a key table: qsort has no context argument in C11 (and
 * is not stable), so a merge sort of the index array. */
static void sort_by_diag(int64_t *idx, int64_t *tmp, int64_t n, const double *d) {
    if (n < 2) return;
    const int64_t h = n / 2;
    sort_by_diag(idx, tmp, h, d);
    sort_by_diag(idx + h, tmp, n - h, d);
    int64_t a = 0, b = h, k = 0;
    while (a < h && b < n) tmp[k++] = cmp_diag_desc(&idx[b], &idx[a], d) < 0 ? idx[b++] : idx[a++];
    while (a < h) tmp[k++] = idx[a++];
    while (b < n) tmp[k++] = idx[b++];
    memcpy(idx, tmp, (size_t)n * sizeof *idx);
}

int lrq_gptq_quantize(const lrq_lq_spec *s, const float *w, int64_t n, int64_t nrow, const double *H,
                      const lrq_gptq_opts *o, uint64_t seed, struct lrq_pool *pool, lrq_lq_qt *out,
                      lrq_gptq_report *rep) {
    memset(out, 0, sizeof *out);
    if (rep) memset(rep, 0, sizeof *rep);
    int32_t G;
    if (lrq_gptq_check(s, o) || lrq_lq_spec_group(s, n, &G)) return -1;
    if (nrow < 1) return lrq_err_set("gptq: %lld rows", (long long)nrow);
    if (n > INT32_MAX || nrow > INT32_MAX) return lrq_err_set("gptq: %lld x %lld is too large for BLAS", (long long)nrow,
                                                              (long long)n);
    size_t nel, nh;
    if (lrq_mul_size((size_t)n, (size_t)nrow, &nel) || lrq_mul_size((size_t)n, (size_t)n, &nh))
        return lrq_err_set("gptq: %lld x %lld overflows", (long long)nrow, (long long)n);
    for (size_t i = 0; i < nel; i++)
        if (!isfinite(w[i]))
            return lrq_err_set("gptq: weight %g at row %lld, column %lld is not finite", (double)w[i],
                               (long long)(i / (size_t)n), (long long)(i % (size_t)n));
    for (size_t i = 0; i < nh; i++)
        if (!isfinite(H[i]))
            return lrq_err_set("gptq: Hessian entry (%lld, %lld) is not finite", (long long)(i / (size_t)n),
                               (long long)(i % (size_t)n));
    const int B = o->block < n ? o->block : (int)n;
    gwork gw = { .s = s, .n = n, .nrow = nrow, .G = G, .block = B };
    lrq_lq_qt q = { 0 };
    uint8_t *dead = NULL, *cq = NULL, *touched = NULL;
    double *A = NULL, *diag = NULL;
    int64_t *tmp = NULL;
    float *wz = NULL, *impf = NULL;
    int rc = -1;
    if (!(dead = alloc_n(n, 1)) || !(diag = alloc_n(n, sizeof *diag)) || !(gw.perm = alloc_n(n, sizeof(int64_t))) ||
        !(gw.pos = alloc_n(n, sizeof(int64_t))) || !(tmp = alloc_n(n, sizeof *tmp)) ||
        !(gw.W = alloc_n((int64_t)nel, sizeof(double))) || !(A = alloc_n((int64_t)nh, sizeof *A)) ||
        !(gw.E = alloc_n(nrow * B, sizeof(double))) || !(gw.y = alloc_n(nrow, sizeof(double))) ||
        !(cq = alloc_n((int64_t)nel, 1)) || !(touched = alloc_n(n / G, 1)))
        goto done;
    int64_t n_dead = 0;
    for (int64_t c = 0; c < n; c++) {
        diag[c] = H[c * n + c];
        dead[c] = diag[c] == 0.0;
        n_dead += dead[c];
        gw.perm[c] = c;
    }
    if (o->importance) {
        /* the imatrix of this input: H's diagonal is Σ x² over the calibration rows */
        if (!(impf = alloc_n(n, sizeof *impf))) goto done;
        for (int64_t c = 0; c < n; c++) impf[c] = (float)diag[c];
        gw.imp = impf;
    }
    if (o->act_order) sort_by_diag(gw.perm, tmp, n, diag);
    for (int64_t k = 0; k < n; k++) gw.pos[gw.perm[k]] = k;
    for (int64_t r = 0; r < nrow; r++)
        for (int64_t k = 0; k < n; k++) {
            const int64_t c = gw.perm[k];
            gw.W[r * n + k] = dead[c] ? 0.0 : (double)w[r * n + c];
        }
    double damp_used = o->damp;
    if (inverse_factor(&gw, H, dead, o->damp, A, &damp_used)) goto done;
    gw.U = A;

    if (o->static_groups) {
        /* every parameter from the original weights (dead columns zeroed), as lrq_lq_quantize picks them */
        if (!(wz = alloc_n((int64_t)nel, sizeof *wz))) goto done;
        for (size_t i = 0; i < nel; i++) wz[i] = dead[i % (size_t)n] ? 0.0f : w[i];
        if (lrq_lq_quantize(s, wz, n, nrow, impf, seed, pool, &q)) goto done;
    } else {
        q.spec = *s;
        q.ne0 = n;
        q.nrow = nrow;
        q.group = G;
        q.ng = (int32_t)(n / G);
        const int64_t N = nrow * q.ng;
        if (lrq_planes_row_bytes(s->bits, n, &q.row_bytes) || !(q.codes = alloc_n(nrow, q.row_bytes)) ||
            !(q.scale = alloc_n(N, sizeof(float))) || (s->asym && !(q.zero = alloc_n(N, sizeof(float)))) ||
            (s->offset_group && !(q.og = alloc_n(N, 1))) || !(gw.slice = alloc_n(nrow * G, sizeof(float))))
            goto done;
        memset(touched, 0, (size_t)(n / G));
    }

    for (int64_t i1 = 0; i1 < n; i1 += B) {
        const int64_t i2 = i1 + B < n ? i1 + B : n, nb = i2 - i1;
        for (int64_t j = i1; j < i2; j++) {
            const int64_t c = gw.perm[j];
            const int32_t g = (int32_t)(c / G);
            if (!o->static_groups && !touched[g]) {
                if (group_params(&gw, g, i1, j, i2, seed, pool, &q)) goto done;
                touched[g] = 1;
            }
            const double d = gw.U[j * n + j];
            for (int64_t r = 0; r < nrow; r++) {
                float deq;
                const double x = gw.W[r * n + j];
                cq[r * n + c] = grid_round(&q, r, g, x, &deq);
                gw.E[r * B + (j - i1)] = (x - (double)deq) / d;
            }
            if (j + 1 < i2) /* W[:, j+1:i2] -= E[:, j] U[j, j+1:i2] */
                cblas_dger(CblasRowMajor, (int)nrow, (int)(i2 - j - 1), -1.0, gw.E + (j - i1), B,
                           gw.U + j * n + j + 1, 1, gw.W + j + 1, (int)n);
        }
        if (i2 < n) /* W[:, i2:] -= E U[i1:i2, i2:] */
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)nrow, (int)(n - i2), (int)nb, -1.0, gw.E, B,
                        gw.U + i1 * n + i2, (int)n, 1.0, gw.W + i2, (int)n);
    }
    for (int64_t r = 0; r < nrow; r++)
        if (lrq_planes_pack_row(s->bits, n, cq + r * n, q.codes + (size_t)r * q.row_bytes)) goto done;
    if (rep) {
        rep->damp = damp_used;
        rep->n_dead = n_dead;
    }
    *out = q;
    memset(&q, 0, sizeof q);
    rc = 0;
done:
    lrq_lq_qt_free(&q);
    free(dead);
    free(diag);
    free(gw.perm);
    free(gw.pos);
    free(tmp);
    free(gw.W);
    free(A);
    free(gw.E);
    free(gw.y);
    free(gw.slice);
    free(cq);
    free(touched);
    free(wz);
    free(impf);
    return rc;
}

int lrq_gptq_objective(const float *w, const lrq_lq_qt *q, const double *H, double *obj) {
    enum { RB = 64 }; /* rows per GEMM: bounded scratch whatever the matrix */
    const int64_t n = q->ne0;
    const int64_t rb = q->nrow < RB ? q->nrow : RB;
    double *D = alloc_n(rb * n, sizeof *D), *DH = alloc_n(rb * n, sizeof *DH);
    float *row = alloc_n(n, sizeof *row);
    if (!D || !DH || !row) {
        free(D);
        free(DH);
        free(row);
        return -1;
    }
    double sum = 0.0;
    for (int64_t r0 = 0; r0 < q->nrow; r0 += rb) {
        const int64_t m = q->nrow - r0 < rb ? q->nrow - r0 : rb;
        for (int64_t r = 0; r < m; r++) {
            lrq_lq_dequant_row(q, r0 + r, row);
            for (int64_t j = 0; j < n; j++) D[r * n + j] = (double)w[(r0 + r) * n + j] - (double)row[j];
        }
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)n, 1.0, D, (int)n, H, (int)n, 0.0,
                    DH, (int)n);
        for (int64_t i = 0; i < m * n; i++) sum += D[i] * DH[i];
    }
    free(D);
    free(DH);
    free(row);
    *obj = sum;
    return 0;
}
