/* planes.c — selection of the planes kernels for this CPU, and the
 * matrix-vector helpers (contracts in kern/planes.h). The helpers check
 * their arguments once per call, then run the unchecked row kernels. */
#include "kern/planes.h"
#include "fmt/planes.h"
#include "fmt/types.h"
#include "core/core.h"

#include <string.h>

#if defined(LRQ_HAVE_X86)
/* planes_avx2.c / planes_avx512.c: their kernel tables (the CPU must have the level). */
const lrq_planes_kernels *lrq_planes_avx2(void);
const lrq_planes_kernels *lrq_planes_avx512(void);
#endif
#if defined(LRQ_HAVE_NEON)
/* planes_neon.c: AArch64 builds (every AArch64 CPU has the level). */
const lrq_planes_kernels *lrq_planes_neon(void);
#endif

const lrq_planes_kernels *lrq_planes_get_isa(const char *isa) {
    if (strcmp(isa, "scalar") == 0) return lrq_planes_ref();
#if defined(LRQ_HAVE_X86)
    if (strcmp(isa, "avx2") == 0) return lrq_planes_avx2();
    if (strcmp(isa, "avx512") == 0) return lrq_planes_avx512();
#endif
#if defined(LRQ_HAVE_NEON)
    if (strcmp(isa, "neon") == 0) return lrq_planes_neon();
#endif
    return NULL;
}

const lrq_planes_kernels *lrq_planes_get(void) {
    /* lrq_types_isa() runs lrq_types_init() and so honours LRQ_ISA; it only
     * names a level the CPU has. */
    const char *isa = lrq_types_isa();
    const lrq_planes_kernels *k = lrq_planes_get_isa(isa);
    /* a level without planes kernels of its own uses the next lower one */
    if (!k && strcmp(isa, "avx512") == 0) k = lrq_planes_get_isa("avx2");
    return k ? k : lrq_planes_ref();
}

float lrq_planes_dot(int bits, int64_t n, const uint8_t *codes_row, const float *scale_row, const float *zero_row,
                     float offset, int32_t group, const float *x) {
    return lrq_planes_get()->dot(bits, n, codes_row, scale_row, zero_row, offset, group, x);
}

void lrq_planes_dot_k(int bits, int64_t n, const uint8_t *codes_row, int K, const float *const *scale_rows,
                      const float *const *zero_rows, const float *offsets, int32_t group, const float *x, float *y) {
    lrq_planes_get()->dot_k(bits, n, codes_row, K, scale_rows, zero_rows, offsets, group, x, y);
}

void lrq_planes_dot_kx(int bits, int64_t n, const uint8_t *codes_row, int K, const float *const *scale_rows,
                       const float *const *zero_rows, const float *offsets, int32_t group, const float *const *xs,
                       float *y) {
    lrq_planes_get()->dot_kx(bits, n, codes_row, K, scale_rows, zero_rows, offsets, group, xs, y);
}

/* ------------------------------------------------------ matrix-vector -- */

/* Checks the shared arguments; *row_bytes = code row stride. */
static int check_matrix(int bits, int64_t ne0, int64_t ne1, const uint8_t *codes, int64_t r0, int64_t r1,
                        size_t *row_bytes) {
    size_t total; /* the whole array must be addressable */
    if (lrq_planes_codes_bytes(bits, ne0, ne1, &total) != 0) return -1;
    if (lrq_planes_row_bytes(bits, ne0, row_bytes) != 0) return -1;
    if (ne0 < 1 || !codes) return lrq_err_set("planes matvec: empty rows or no codes");
    if (r0 < 0 || r0 > r1 || r1 > ne1)
        return lrq_err_set("planes matvec: rows [%lld, %lld) outside [0, %lld)", (long long)r0, (long long)r1,
                           (long long)ne1);
    return 0;
}

/* Checks one view against the matrix (and the group of the first view). */
static int check_view(const lrq_qparams *qp, int64_t ne0, int64_t ne1, int32_t group0) {
    if (qp->layout != LRQ_PARAMS_PLANES) return lrq_err_set("planes matvec: view is not a planes layout");
    if (qp->group < 1 || ne0 % qp->group != 0)
        return lrq_err_set("planes matvec: group %d does not divide the row length %lld", (int)qp->group,
                           (long long)ne0);
    if (qp->group != group0)
        return lrq_err_set("planes matvec: replicas with groups %d and %d", (int)group0, (int)qp->group);
    if (qp->n_sets < 1 || qp->set < 0 || qp->set >= qp->n_sets)
        return lrq_err_set("planes matvec: set %d of %d", (int)qp->set, (int)qp->n_sets);
    if (!qp->scale) return lrq_err_set("planes matvec: no scale plane");
    if (qp->codebook && qp->cb_rows != 1 && (int64_t)qp->cb_rows != ne1)
        return lrq_err_set("planes matvec: %d codebooks for %lld rows", (int)qp->cb_rows, (long long)ne1);
    return 0;
}

/* Row r's codebook of a view with one (bits valid). */
static const float *view_cb(const lrq_qparams *qp, int bits, int64_t r) {
    return qp->codebook + (qp->cb_rows == 1 ? 0 : (size_t)r << bits);
}

/* Offset (in floats) of row r of the view's set in its planes. Fits:
 * the planes exist in memory, so their size fits size_t. */
static size_t plane_row(const lrq_qparams *qp, int64_t ne0, int64_t ne1, int64_t r) {
    const size_t ng = (size_t)(ne0 / qp->group);
    return ((size_t)qp->set * (size_t)ne1 + (size_t)r) * ng;
}

int lrq_planes_matvec(const lrq_planes_kernels *kern, int bits, int64_t ne0, int64_t ne1, const uint8_t *codes,
                      const lrq_qparams *qp, const float *x, int64_t r0, int64_t r1, float *y) {
    size_t rb;
    if (check_matrix(bits, ne0, ne1, codes, r0, r1, &rb) != 0 || check_view(qp, ne0, ne1, qp->group) != 0) return -1;
    if (!kern) kern = lrq_planes_get();
    for (int64_t r = r0; r < r1; r++) {
        const size_t o = plane_row(qp, ne0, ne1, r);
        const float *ze = qp->zero ? qp->zero + o : NULL;
        if (qp->codebook)
            y[r] = lrq_planes_dot_cb(bits, ne0, codes + (size_t)r * rb, view_cb(qp, bits, r), qp->scale + o, ze,
                                     qp->offset, qp->group, x);
        else
            y[r] = kern->dot(bits, ne0, codes + (size_t)r * rb, qp->scale + o, ze, qp->offset, qp->group, x);
    }
    return 0;
}

/* Shared body of matvec_k / matvec_kx (x or xs, the other NULL). */
static int matvec_k_any(const lrq_planes_kernels *kern, int bits, int64_t ne0, int64_t ne1, const uint8_t *codes,
                        int K, const lrq_qparams *qps, const float *x, const float *const *xs, int64_t r0,
                        int64_t r1, float *const *ys) {
    size_t rb;
    if (check_matrix(bits, ne0, ne1, codes, r0, r1, &rb) != 0) return -1;
    if (K < 1 || K > LRQ_PLANES_MAX_K) return lrq_err_set("planes matvec: K = %d outside [1, %d]", K, LRQ_PLANES_MAX_K);
    for (int k = 0; k < K; k++)
        if (check_view(&qps[k], ne0, ne1, qps[0].group) != 0) return lrq_err_prefix("replica %d", k);
    if (!kern) kern = lrq_planes_get();
    int any_cb = 0;
    for (int k = 0; k < K; k++) any_cb |= qps[k].codebook != NULL;
    const float *sc[LRQ_PLANES_MAX_K], *ze[LRQ_PLANES_MAX_K];
    float off[LRQ_PLANES_MAX_K], yk[LRQ_PLANES_MAX_K];
    for (int k = 0; k < K; k++) off[k] = qps[k].offset;
    for (int64_t r = r0; r < r1; r++) {
        for (int k = 0; k < K; k++) {
            const size_t o = plane_row(&qps[k], ne0, ne1, r);
            sc[k] = qps[k].scale + o;
            ze[k] = qps[k].zero ? qps[k].zero + o : NULL;
        }
        const uint8_t *row = codes + (size_t)r * rb;
        if (any_cb) { /* non-uniform grids: the reference, one replica at a time */
            for (int k = 0; k < K; k++) {
                const float *xk = xs ? xs[k] : x;
                ys[k][r] = qps[k].codebook
                               ? lrq_planes_dot_cb(bits, ne0, row, view_cb(&qps[k], bits, r), sc[k], ze[k], off[k],
                                                   qps[0].group, xk)
                               : kern->dot(bits, ne0, row, sc[k], ze[k], off[k], qps[0].group, xk);
            }
            continue;
        }
        if (xs) kern->dot_kx(bits, ne0, row, K, sc, ze, off, qps[0].group, xs, yk);
        else kern->dot_k(bits, ne0, row, K, sc, ze, off, qps[0].group, x, yk);
        for (int k = 0; k < K; k++) ys[k][r] = yk[k];
    }
    return 0;
}

int lrq_planes_matvec_k(const lrq_planes_kernels *kern, int bits, int64_t ne0, int64_t ne1, const uint8_t *codes,
                        int K, const lrq_qparams *qps, const float *x, int64_t r0, int64_t r1, float *const *ys) {
    return matvec_k_any(kern, bits, ne0, ne1, codes, K, qps, x, NULL, r0, r1, ys);
}

int lrq_planes_matvec_kx(const lrq_planes_kernels *kern, int bits, int64_t ne0, int64_t ne1, const uint8_t *codes,
                         int K, const lrq_qparams *qps, const float *const *xs, int64_t r0, int64_t r1,
                         float *const *ys) {
    return matvec_k_any(kern, bits, ne0, ne1, codes, K, qps, NULL, xs, r0, r1, ys);
}
