/* planes_q8.c — the int8 activation of the planes_q8 kernels (the rounding
 * scheme and layout of kern/planes_q8.h: this file is their
 * specification), the selection of the kernels for this CPU, and the
 * matrix-vector helper (arguments checked once per call, then the unchecked
 * row kernel). */
#include "kern/planes_q8.h"
#include "fmt/planes.h"
#include "fmt/types.h"
#include "core/core.h"

#include <math.h>
#include <string.h>

#if defined(LRQ_HAVE_X86)
/* planes_q8_avx2.c / planes_q8_avx512.c (the CPU must have the level). */
const lrq_q8p_kernels *lrq_q8p_avx2(void);
const lrq_q8p_kernels *lrq_q8p_avx512(void);
const lrq_q8p_kernels *lrq_q8p_avx512_gfni(void); /* planes_q8_avx512gfni.c (the CPU must have GFNI too) */
#endif
#if defined(LRQ_HAVE_NEON)
/* planes_q8_neon.c: AArch64 builds (every AArch64 CPU has the level). */
const lrq_q8p_kernels *lrq_q8p_neon(void);
#endif

/* Values per layout chunk (one 64-byte code vector for bits 2 and 4; 48
 * bytes of 3-bit codes), and per 32-bit lane of the kernels' sums. */
static int64_t chunk_vals(int bits) { return bits == 2 ? 256 : 128; }
static int32_t lane_vals(int bits) { return bits == 2 ? 16 : bits == 3 ? 4 : 8; }

/* Slot of element j in qs (the layout of kern/planes_q8.h). */
static int64_t slot(int bits, int64_t j) {
    if (bits == 2) return (j & ~(int64_t)255) + (j & 3) * 64 + ((j & 255) >> 2);
    if (bits == 4) return (j & ~(int64_t)127) + (j & 1) * 64 + ((j & 127) >> 1);
    return j;
}

static size_t round64(size_t v) { return (v + 63) & ~(size_t)63; }

/* Sizes of the parts: qs, dl + gl (lanes), d, gsum; 0 or -1 (lrq_err_set). */
static int parts(int bits, int64_t n, int32_t group, int64_t *n_pad, size_t sz[4]) {
    if (bits != 2 && bits != 3 && bits != 4) return lrq_err_set("planes_q8: %d-bit codes (2, 3 or 4 only)", bits);
    if (n < LRQ_Q8P_BLOCK || n % LRQ_Q8P_BLOCK != 0)
        return lrq_err_set("planes_q8: row length %lld is not a positive multiple of 32", (long long)n);
    if (group < LRQ_Q8P_BLOCK || group % LRQ_Q8P_BLOCK != 0 || n % group != 0)
        return lrq_err_set("planes_q8: group %d is not a multiple of 32 dividing the row length %lld", (int)group,
                           (long long)n);
    const int64_t cv = chunk_vals(bits);
    if (n > INT64_MAX - cv) return lrq_err_set("planes_q8: row length %lld overflows", (long long)n);
    *n_pad = (n + cv - 1) / cv * cv;
    const uint64_t lanes = (uint64_t)*n_pad / (uint64_t)lane_vals(bits);
    if ((uint64_t)*n_pad > SIZE_MAX / 8) return lrq_err_set("planes_q8: row length %lld overflows", (long long)n);
    sz[0] = round64((size_t)*n_pad);
    sz[1] = round64((size_t)lanes * 4);
    sz[2] = round64((size_t)(n / LRQ_Q8P_BLOCK) * 4);
    sz[3] = round64((size_t)(n / group) * 4);
    return 0;
}

int lrq_q8p_act_bytes(int bits, int64_t n, int32_t group, size_t *out) {
    int64_t n_pad = 0;
    size_t sz[4] = {0}, t = 63; /* 63: room to align the start of any buffer */
    if (parts(bits, n, group, &n_pad, sz) != 0) return -1;
    for (int i = 0; i < 4; i++)
        if (lrq_add_size(t, sz[i] * (i == 1 ? 2 : 1), &t) != 0) return lrq_err_set("planes_q8: buffer size overflows");
    *out = t;
    return 0;
}

int lrq_q8p_quantize(int bits, int64_t n, int32_t group, const float *x, void *buf, size_t buf_bytes,
                     lrq_q8p_act *act) {
    size_t need, sz[4] = {0};
    int64_t n_pad = 0;
    if (lrq_q8p_act_bytes(bits, n, group, &need) != 0 || parts(bits, n, group, &n_pad, sz) != 0) return -1;
    if (!x || !buf || !act) return lrq_err_set("planes_q8: quantize without input, buffer or output");
    if (buf_bytes < need)
        return lrq_err_set("planes_q8: activation buffer of %zu bytes, %zu needed", buf_bytes, need);
    uint8_t *p = (uint8_t *)(((uintptr_t)buf + 63) & ~(uintptr_t)63);
    int8_t *qs = (int8_t *)p;
    float *dl = (float *)(p + sz[0]);
    int32_t *gl = (int32_t *)(p + sz[0] + sz[1]);
    float *d = (float *)(p + sz[0] + 2 * sz[1]);
    float *gsum = (float *)(p + sz[0] + 2 * sz[1] + sz[2]);
    const int64_t nb = n / LRQ_Q8P_BLOCK, ng = n / group;
    memset(qs, 0, (size_t)n_pad);
    float *bsx = gsum; /* per group, accumulated in block order below */
    for (int64_t g = 0; g < ng; g++) bsx[g] = 0.0f;
    for (int64_t b = 0; b < nb; b++) {
        const float *xb = x + b * LRQ_Q8P_BLOCK;
        float amax = 0.0f;
        for (int i = 0; i < LRQ_Q8P_BLOCK; i++) amax = fmaxf(amax, fabsf(xb[i]));
        const float db = amax / 127.0f, id = db != 0.0f ? 1.0f / db : 0.0f;
        int32_t s = 0;
        for (int i = 0; i < LRQ_Q8P_BLOCK; i++) {
            /* |xb[i] * id| <= 127 up to one rounding: roundf stays in [-127, 127] */
            const int a = (int)roundf(xb[i] * id);
            qs[slot(bits, b * LRQ_Q8P_BLOCK + i)] = (int8_t)a;
            s += a;
        }
        d[b] = db;
        bsx[b * LRQ_Q8P_BLOCK / group] += db * (float)s;
    }
    const int32_t lv = lane_vals(bits);
    for (int64_t L = 0; L < n_pad / lv; L++) {
        const int64_t j = L * lv;
        dl[L] = j < n ? d[j / LRQ_Q8P_BLOCK] : 0.0f;
        gl[L] = (int32_t)(j < n ? j / group : ng - 1);
    }
    *act = (lrq_q8p_act){.bits = bits, .n = n, .group = group, .n_pad = n_pad, .lane_vals = lv,
                         .qs = qs, .d = d, .gsum = gsum, .dl = dl, .gl = gl};
    return 0;
}

int lrq_q8p_int(const lrq_q8p_act *act, int64_t j) { return act->qs[slot(act->bits, j)]; }

float lrq_q8p_value(const lrq_q8p_act *act, int64_t j) {
    return act->d[j / LRQ_Q8P_BLOCK] * (float)lrq_q8p_int(act, j);
}

/* ----------------------------------------------------------- dispatch -- */

const lrq_q8p_kernels *lrq_q8p_get_isa(const char *isa) {
    if (strcmp(isa, "scalar") == 0) return lrq_q8p_ref();
#if defined(LRQ_HAVE_X86)
    if (strcmp(isa, "avx2") == 0) return lrq_q8p_avx2();
    if (strcmp(isa, "avx512") == 0) {
        __builtin_cpu_init();
        return __builtin_cpu_supports("gfni") ? lrq_q8p_avx512_gfni() : lrq_q8p_avx512();
    }
    if (strcmp(isa, "avx512-nogfni") == 0) return lrq_q8p_avx512();
#endif
#if defined(LRQ_HAVE_NEON)
    if (strcmp(isa, "neon") == 0) return lrq_q8p_neon();
#endif
    return NULL;
}

const lrq_q8p_kernels *lrq_q8p_get(void) {
    /* lrq_types_isa() honours LRQ_ISA and only names a level the CPU has */
    const lrq_q8p_kernels *k = lrq_q8p_get_isa(lrq_types_isa());
    return k ? k : lrq_q8p_ref();
}

/* ------------------------------------------------------ matrix-vector -- */

/* Checks the matrix and one view against the activation; *rb = row bytes. */
static int check(int64_t ne0, int64_t ne1, const uint8_t *codes, const lrq_qparams *qp, const lrq_q8p_act *act,
                 int64_t r0, int64_t r1, size_t *rb) {
    if (!act || !qp || !codes) return lrq_err_set("planes_q8 matvec: missing codes, view or activation");
    size_t total;
    if (lrq_planes_codes_bytes(act->bits, ne0, ne1, &total) != 0 || lrq_planes_row_bytes(act->bits, ne0, rb) != 0)
        return -1;
    if (ne0 != act->n)
        return lrq_err_set("planes_q8 matvec: rows of %lld values, activation of %lld", (long long)ne0,
                           (long long)act->n);
    if (qp->layout != LRQ_PARAMS_PLANES) return lrq_err_set("planes_q8 matvec: view is not a planes layout");
    if (qp->group != act->group)
        return lrq_err_set("planes_q8 matvec: view group %d, activation prepared for group %d", (int)qp->group,
                           (int)act->group);
    if (qp->codebook) return lrq_err_set("planes_q8 matvec: codebook views are not supported (uniform grids only)");
    if (!qp->scale) return lrq_err_set("planes_q8 matvec: no scale plane");
    if (qp->n_sets < 1 || qp->set < 0 || qp->set >= qp->n_sets)
        return lrq_err_set("planes_q8 matvec: set %d of %d", (int)qp->set, (int)qp->n_sets);
    if (r0 < 0 || r0 > r1 || r1 > ne1)
        return lrq_err_set("planes_q8 matvec: rows [%lld, %lld) outside [0, %lld)", (long long)r0, (long long)r1,
                           (long long)ne1);
    return 0;
}

/* Offset (floats) of row r of the view's set in its planes: the planes
 * exist in memory, so it fits. */
static size_t plane_row(const lrq_qparams *qp, int64_t ne0, int64_t ne1, int64_t r) {
    return ((size_t)qp->set * (size_t)ne1 + (size_t)r) * (size_t)(ne0 / qp->group);
}

int lrq_q8p_matvec(const lrq_q8p_kernels *kern, int64_t ne0, int64_t ne1, const uint8_t *codes,
                   const lrq_qparams *qp, const lrq_q8p_act *act, int64_t r0, int64_t r1, float *y) {
    size_t rb;
    if (check(ne0, ne1, codes, qp, act, r0, r1, &rb) != 0) return -1;
    if (!y) return lrq_err_set("planes_q8 matvec: no output");
    if (!kern) kern = lrq_q8p_get();
    if (r1 == r0) return 0;
    const size_t o = plane_row(qp, ne0, ne1, r0);
    kern->rows(act, codes + (size_t)r0 * rb, rb, qp->scale + o, qp->zero ? qp->zero + o : NULL,
               (size_t)(ne0 / qp->group), qp->offset, r1 - r0, y + r0);
    return 0;
}

int lrq_q8p_matmul(const lrq_q8p_kernels *kern, int64_t ne0, int64_t ne1, const uint8_t *codes,
                   const lrq_qparams *qp, const lrq_q8p_act *acts, int ntok, int64_t r0, int64_t r1, float *y,
                   size_t y_stride) {
    if (ntok < 1 || !acts) return lrq_err_set("planes_q8 matmul: %d tokens", ntok);
    if (!y || y_stride < (size_t)ne1) return lrq_err_set("planes_q8 matmul: no output or its stride below the rows");
    size_t rb = 0;
    for (int t = 0; t < ntok; t++)
        if (check(ne0, ne1, codes, qp, &acts[t], r0, r1, &rb) != 0) return lrq_err_prefix("token %d", t);
    for (int t = 1; t < ntok; t++)
        if (acts[t].bits != acts[0].bits || acts[t].group != acts[0].group)
            return lrq_err_set("planes_q8 matmul: token %d prepared for another code width or group", t);
    if (!kern) kern = lrq_q8p_get();
    if (r1 == r0) return 0;
    const size_t o = plane_row(qp, ne0, ne1, r0), ng = (size_t)(ne0 / qp->group);
    const uint8_t *c = codes + (size_t)r0 * rb;
    const float *sc = qp->scale + o, *ze = qp->zero ? qp->zero + o : NULL;
    for (int t0 = 0; t0 < ntok; t0 += LRQ_Q8P_TILE_TOK) {
        const int nt = ntok - t0 < LRQ_Q8P_TILE_TOK ? ntok - t0 : LRQ_Q8P_TILE_TOK;
        float *yt = y + (size_t)t0 * y_stride + r0;
        if (kern->tile)
            kern->tile(acts + t0, nt, c, rb, sc, ze, ng, qp->offset, r1 - r0, yt, y_stride);
        else
            for (int t = 0; t < nt; t++)
                kern->rows(&acts[t0 + t], c, rb, sc, ze, ng, qp->offset, r1 - r0, yt + (size_t)t * y_stride);
    }
    return 0;
}

int lrq_q8p_matvec_k(const lrq_q8p_kernels *kern, int64_t ne0, int64_t ne1, const uint8_t *codes, int K,
                     const lrq_qparams *qps, const lrq_q8p_act *act, int64_t r0, int64_t r1, float *const *ys) {
    if (K < 1 || K > LRQ_Q8P_MAX_K)
        return lrq_err_set("planes_q8 matvec: K = %d outside [1, %d]", K, LRQ_Q8P_MAX_K);
    if (!qps || !ys) return lrq_err_set("planes_q8 matvec: no views or outputs");
    size_t rb = 0;
    for (int k = 0; k < K; k++)
        if (check(ne0, ne1, codes, &qps[k], act, r0, r1, &rb) != 0) return lrq_err_prefix("replica %d", k);
    if (!kern) kern = lrq_q8p_get();
    const float *sc[LRQ_Q8P_MAX_K], *ze[LRQ_Q8P_MAX_K];
    float off[LRQ_Q8P_MAX_K], yk[LRQ_Q8P_MAX_K];
    for (int k = 0; k < K; k++) off[k] = qps[k].offset;
    for (int64_t r = r0; r < r1; r++) {
        for (int k = 0; k < K; k++) {
            const size_t o = plane_row(&qps[k], ne0, ne1, r);
            sc[k] = qps[k].scale + o;
            ze[k] = qps[k].zero ? qps[k].zero + o : NULL;
        }
        kern->dot_k(act, codes + (size_t)r * rb, K, sc, ze, off, yk);
        for (int k = 0; k < K; k++) ys[k][r] = yk[k];
    }
    return 0;
}
