/* lq_quant.c — the lq quantizer (what each knob does and why: quant/lq_quant.h).
 *
 * Phases, each a pass over the rows (threads share rows; every row is
 * computed by one thread from its own inputs, so the result does not depend
 * on the thread count):
 *   1. per group: scale, zero point and offset (the candidate search);
 *   2. double quantization only: super-block steps and scale codes (serial:
 *      super-blocks may span rows, and the pass is cheap);
 *   3. the codes, with the chosen rounding;
 *   4. codebook only: k-means on the normalised values, then the codes again
 *      as nearest centres.
 * The codes are kept unpacked (one per byte) until the end, then packed
 * (fmt/planes.h).
 */
#include "quant/lq_quant.h"

#include "core/core.h"
#include "core/pool.h"
#include "fmt/planes.h"
#include "fmt/types.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* ---------- small helpers ---------- */

/* splitmix64: a tiny, well-mixed generator; one stream per row. */
static uint64_t sm64(uint64_t *st) {
    uint64_t z = (*st += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1) with 24 random bits (exact in float). */
static float rnd01(uint64_t *st) { return (float)(sm64(st) >> 40) * (1.0f / 16777216.0f); }

static uint64_t row_stream(uint64_t seed, int64_t r) {
    uint64_t st = seed ^ 0x6C71u; /* "lq" */
    st += (uint64_t)r * 0xD1B54A32D192ED03ull;
    (void)sm64(&st);
    return st;
}

/* A scale as the file will hold it (F16/BF16 storage); double-quantized
 * scales are rounded later, per super-block. F16 saturates instead of
 * becoming infinite (weights never get there; a scale must stay finite). */
static float stored_scale(int pstore, float s) {
    if (pstore == LRQ_LQ_P_F16) {
        if (s >= 65504.0f) return 65504.0f;
        return lrq_f16_to_f32(lrq_f32_to_f16(s));
    }
    if (pstore == LRQ_LQ_P_BF16) return lrq_bf16_to_f32(lrq_f32_to_bf16(s));
    return s;
}

static float clampq(float q, float qmax) { return q < 0.0f ? 0.0f : (q > qmax ? qmax : q); }

/* The nearest code of x: roundf(x / s + z - o), clamped; s == 0 gives the
 * code closest to value 0. */
static float nearest_code(float x, float s, float z, float o, float qmax) {
    return clampq(roundf(s > 0.0f ? x / s + z - o : z - o), qmax);
}

/* Weighted squared error of a group under nearest rounding. */
static double group_err(const float *x, const float *w, int32_t G, float s, float z, float o, float qmax) {
    double e = 0.0;
    for (int32_t j = 0; j < G; j++) {
        const float q = nearest_code(x[j], s, z, o, qmax);
        const double d = (double)x[j] - (double)(s * (q - z + o));
        e += (w ? (double)w[j] : 1.0) * d * d;
    }
    return e;
}

/* ---------- phase 1: the parameters of one group ---------- */

typedef struct gpar {
    float s, z;
    uint8_t og;
} gpar;

static gpar search_group(const lrq_lq_spec *sp, const float *x, const float *w, int32_t G) {
    const float qmax = (float)((1 << sp->bits) - 1), half = (float)(1 << (sp->bits - 1));
    float mn = x[0], mx = x[0];
    for (int32_t j = 1; j < G; j++) {
        mn = fminf(mn, x[j]);
        mx = fmaxf(mx, x[j]);
    }
    const float amax = fmaxf(fabsf(mn), fabsf(mx));
    const int n_o = sp->offset_group ? 4 : 1;
    const int n_r = sp->clip == LRQ_LQ_CLIP_SEARCH ? 21 : 1;
    gpar best = {0.0f, sp->asym ? 0.0f : half, 0};
    double best_e = INFINITY;
    for (int io = 0; io < n_o; io++) {
        const float o = sp->offset_group ? 0.25f * (float)io : sp->offset;
        for (int ir = 0; ir < n_r; ir++) {
            const float ratio = sp->clip == LRQ_LQ_CLIP_SEARCH ? 1.0f - 0.025f * (float)ir : sp->clip_ratio;
            float cs[2], cz[2];
            int nc = 0;
            if (!sp->asym) {
                /* the extreme on the -2^(b-1) end, or on the 2^(b-1) - 1 end */
                const float a = ratio * amax;
                cs[nc] = stored_scale(sp->pstore, a / (half - o)), cz[nc++] = half;
                cs[nc] = stored_scale(sp->pstore, a / (half - 1.0f + o)), cz[nc++] = half;
            } else {
                /* z is an integer code, so the grid always holds 0: the range must too */
                const float c = 0.5f * (mn + mx), h = 0.5f * (mx - mn) * ratio;
                const float lo = fminf(c - h, 0.0f), hi = fmaxf(c + h, 0.0f);
                const float s = stored_scale(sp->pstore, (hi - lo) / qmax);
                cs[nc] = s, cz[nc++] = s > 0.0f ? clampq(roundf(o - lo / s), qmax) : 0.0f;
            }
            for (int k = 0; k < nc; k++) {
                const double e = group_err(x, w, G, cs[k], cz[k], o, qmax);
                if (e < best_e) {
                    best_e = e;
                    best.s = cs[k];
                    best.z = cz[k];
                    best.og = (uint8_t)io;
                }
            }
        }
    }
    return best;
}

/* ---------- the job ---------- */

typedef struct qjob {
    const lrq_lq_spec *sp;
    const float *x, *imp;
    uint64_t seed;
    lrq_lq_qt *q;
    uint8_t *cq;             /* [nrow][ne0] unpacked codes */
    int phase;
    /* k-means per tensor (kt): */
    const float *centres;    /* [2^b] sorted */
    double *acc;             /* [nrow][2^b][2]: Σ w u, Σ w per centre and row */
} qjob;

static float group_o(const lrq_lq_qt *q, int64_t i) {
    return q->og ? 0.25f * (float)q->og[i] : q->spec.offset;
}

static float group_z(const lrq_lq_qt *q, int64_t i) {
    return q->zero ? q->zero[i] : (float)(1 << (q->spec.bits - 1));
}

static void phase_params(qjob *jb, int64_t r) {
    lrq_lq_qt *q = jb->q;
    for (int32_t g = 0; g < q->ng; g++) {
        const int64_t i = r * q->ng + g;
        const gpar p = search_group(jb->sp, jb->x + r * q->ne0 + (int64_t)g * q->group,
                                    jb->imp ? jb->imp + (int64_t)g * q->group : NULL, q->group);
        q->scale[i] = p.s;
        if (q->zero) q->zero[i] = p.z;
        if (q->og) q->og[i] = p.og;
    }
}

static void phase_codes(qjob *jb, int64_t r) {
    const lrq_lq_qt *q = jb->q;
    const lrq_lq_spec *sp = jb->sp;
    const float qmax = (float)((1 << sp->bits) - 1);
    uint64_t st = row_stream(jb->seed, r);
    const float *x = jb->x + r * q->ne0;
    uint8_t *c = jb->cq + r * q->ne0;
    for (int32_t g = 0; g < q->ng; g++) {
        const int64_t i = r * q->ng + g;
        const float s = q->scale[i], z = group_z(q, i), o = group_o(q, i);
        for (int32_t jj = 0; jj < q->group; jj++) {
            const int64_t j = (int64_t)g * q->group + jj;
            float v;
            if (s <= 0.0f || sp->round == LRQ_LQ_ROUND_NEAREST) {
                v = nearest_code(x[j], s, z, o, qmax);
            } else {
                const float u = x[j] / s + z - o;
                if (sp->round == LRQ_LQ_ROUND_STOCH) {
                    const float f = floorf(u);
                    v = clampq(f + (rnd01(&st) < u - f ? 1.0f : 0.0f), qmax);
                } else {
                    v = clampq(roundf(u + sp->noise * (rnd01(&st) - 0.5f)), qmax);
                }
            }
            c[j] = (uint8_t)v;
        }
    }
}

/* ---------- k-means (codebooks) ---------- */

/* Index of the centre nearest to u among K sorted centres; on a tie the
 * upper one (as roundf does for the uniform grid's positive halves). */
static int nearest_centre(const float *c, int K, float u) {
    int lo = 0, hi = K; /* first c[k] >= u */
    while (lo < hi) {
        const int m = (lo + hi) / 2;
        if (c[m] < u) lo = m + 1;
        else hi = m;
    }
    if (lo == K) return K - 1;
    if (lo == 0) return 0;
    return u - c[lo - 1] < c[lo] - u ? lo - 1 : lo;
}

/* Normalised value and k-means weight of element j of row r. */
static void norm_value(const qjob *jb, int64_t r, int64_t j, float *u, double *w) {
    const lrq_lq_qt *q = jb->q;
    const int64_t i = r * q->ng + j / q->group;
    const float s = q->scale[i];
    const double imp = jb->imp ? (double)jb->imp[j] : 1.0;
    if (s > 0.0f) {
        *u = jb->x[r * q->ne0 + j] / s + group_z(q, i) - group_o(q, i);
        *w = imp * (double)s * (double)s;
    } else {
        *u = group_z(q, i) - group_o(q, i);
        *w = 0.0;
    }
}

static int cmp_float(const void *a, const void *b) {
    const float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Assign the values of row r to centres c (codes into cq) and, if acc is
 * given, add Σ w u and Σ w per centre (acc zeroed here). */
static void assign_row(const qjob *jb, int64_t r, const float *c, double *acc) {
    const int K = 1 << jb->sp->bits;
    if (acc) memset(acc, 0, (size_t)K * 2 * sizeof *acc);
    for (int64_t j = 0; j < jb->q->ne0; j++) {
        float u;
        double w;
        norm_value(jb, r, j, &u, &w);
        const int k = nearest_centre(c, K, u);
        jb->cq[r * jb->q->ne0 + j] = (uint8_t)k;
        if (acc) {
            acc[2 * k] += w * (double)u;
            acc[2 * k + 1] += w;
        }
    }
}

static void update_centres(float *c, int K, const double *acc) {
    for (int k = 0; k < K; k++)
        if (acc[2 * k + 1] > 0.0) c[k] = (float)(acc[2 * k] / acc[2 * k + 1]);
    qsort(c, (size_t)K, sizeof *c, cmp_float);
}

/* Seeded weighted k-means++ over rows [r0, r1): the first centre drawn with
 * probability ∝ w, each next one ∝ w * D^2 (D: distance to the nearest centre
 * so far). d2 holds (r1 - r0) * ne0 doubles of scratch. */
static void kmeanspp(const qjob *jb, int64_t r0, int64_t r1, uint64_t *st, float *c, double *d2) {
    const int K = 1 << jb->sp->bits;
    const int64_t ne0 = jb->q->ne0, n = (r1 - r0) * ne0;
    double total = 0.0;
    for (int64_t t = 0; t < n; t++) {
        float u;
        double w;
        norm_value(jb, r0 + t / ne0, t % ne0, &u, &w);
        d2[t] = w; /* first draw: ∝ w */
        total += w;
    }
    for (int k = 0; k < K; k++) {
        float pick = k ? c[k - 1] : 0.0f; /* nothing left to draw: duplicate the last centre */
        if (total > 0.0) {
            const double target = (double)rnd01(st) * total;
            double cum = 0.0;
            int64_t t = 0;
            for (; t < n - 1; t++) {
                cum += d2[t];
                if (cum > target) break;
            }
            float u;
            double w;
            norm_value(jb, r0 + t / ne0, t % ne0, &u, &w);
            pick = u;
        }
        c[k] = pick;
        total = 0.0;
        for (int64_t t = 0; t < n; t++) {
            float u;
            double w;
            norm_value(jb, r0 + t / ne0, t % ne0, &u, &w);
            const double d = (double)u - (double)c[k], e = w * d * d; /* w min(a, b) = min(w a, w b), w >= 0 */
            if (k == 0 || e < d2[t]) d2[t] = e;
            total += d2[t];
        }
    }
    qsort(c, (size_t)K, sizeof *c, cmp_float);
}

static void init_centres(const qjob *jb, int64_t r0, int64_t r1, uint64_t *st, float *c, double *d2) {
    const int K = 1 << jb->sp->bits;
    if (jb->sp->cb_uniform_init) {
        for (int k = 0; k < K; k++) c[k] = (float)k;
    } else {
        kmeanspp(jb, r0, r1, st, c, d2);
    }
}

/* kr: one row's codebook, from its own values. */
static int kmeans_row(qjob *jb, int64_t r) {
    const int K = 1 << jb->sp->bits;
    float *c = jb->q->codebook + r * K;
    double acc[2 * 256];
    double *d2 = NULL;
    if (!jb->sp->cb_uniform_init && !(d2 = lrq_malloc((size_t)jb->q->ne0 * sizeof *d2))) return -1;
    uint64_t st = row_stream(jb->seed ^ 0x6B72u, r);
    init_centres(jb, r, r + 1, &st, c, d2);
    free(d2);
    for (int it = 0; it < jb->sp->cb_iters; it++) {
        assign_row(jb, r, c, acc);
        update_centres(c, K, acc);
    }
    assign_row(jb, r, c, NULL);
    return 0;
}

/* ---------- the thread tasks ---------- */

typedef struct task {
    qjob *jb;
    atomic_int err;          /* set by any thread that fails (out of memory in k-means++) */
} task;

static void run_rows(void *arg, int ith, int nth) {
    task *t = arg;
    qjob *jb = t->jb;
    long lo, hi;
    lrq_split((long)jb->q->nrow, ith, nth, &lo, &hi);
    const int K = 1 << jb->sp->bits;
    for (long r = lo; r < hi; r++) {
        switch (jb->phase) {
        case 1: phase_params(jb, r); break;
        case 3: phase_codes(jb, r); break;
        case 4: if (kmeans_row(jb, r)) atomic_store(&t->err, 1); break;
        case 5: assign_row(jb, r, jb->centres, jb->acc + (size_t)r * (size_t)K * 2); break;
        case 6: assign_row(jb, r, jb->centres, NULL); break;
        }
    }
}

static int run_phase(qjob *jb, lrq_pool *pool, int phase) {
    task t = {.jb = jb};
    atomic_init(&t.err, 0);
    jb->phase = phase;
    if (pool) lrq_pool_run(pool, run_rows, &t);
    else run_rows(&t, 0, 1);
    return atomic_load(&t.err) ? -1 : 0;
}

/* phase 2: super-block steps and scale codes over the flat group order */
static void double_quantize(lrq_lq_qt *q) {
    const int64_t N = q->nrow * q->ng, S = q->spec.psuper;
    const float cmax = (float)((1 << q->spec.pbits) - 1);
    for (int64_t b = 0; b < q->n_super; b++) {
        const int64_t i0 = b * S, i1 = i0 + S < N ? i0 + S : N;
        float mx = 0.0f;
        for (int64_t i = i0; i < i1; i++) mx = fmaxf(mx, q->scale[i]);
        const float dv = mx / cmax;
        q->sd[b] = lrq_f32_to_f16(dv >= 65504.0f ? 65504.0f : dv);
        const float d = lrq_f16_to_f32(q->sd[b]);
        for (int64_t i = i0; i < i1; i++) {
            float c = d > 0.0f ? clampq(roundf(q->scale[i] / d), cmax) : 0.0f;
            if (c == 0.0f && q->scale[i] > 0.0f && d > 0.0f) c = 1.0f; /* keep a non-zero group alive */
            q->sq[i] = (uint8_t)c;
            q->scale[i] = d * c;
        }
    }
}

static int kmeans_tensor(qjob *jb, lrq_pool *pool) {
    lrq_lq_qt *q = jb->q;
    const int K = 1 << jb->sp->bits;
    float *c = q->codebook;
    size_t n_acc;
    if (lrq_mul_size((size_t)q->nrow, (size_t)K * 2 * sizeof(double), &n_acc))
        return lrq_err_set("lq: k-means sums overflow");
    double *acc = lrq_malloc(n_acc), *sum = lrq_malloc((size_t)K * 2 * sizeof *sum), *d2 = NULL;
    if (!acc || !sum) goto fail;
    if (!jb->sp->cb_uniform_init) {
        size_t nd;
        if (lrq_mul_size((size_t)q->nrow * (size_t)q->ne0, sizeof *d2, &nd)) {
            lrq_err_set("lq: k-means++ scratch overflows");
            goto fail;
        }
        if (!(d2 = lrq_malloc(nd))) goto fail;
    }
    uint64_t st = row_stream(jb->seed ^ 0x6B74u, -1);
    init_centres(jb, 0, q->nrow, &st, c, d2);
    free(d2);
    d2 = NULL;
    jb->centres = c;
    jb->acc = acc;
    for (int it = 0; it < jb->sp->cb_iters; it++) {
        run_phase(jb, pool, 5);
        memset(sum, 0, (size_t)K * 2 * sizeof *sum);
        for (int64_t r = 0; r < q->nrow; r++) /* row order: independent of the thread count */
            for (int k = 0; k < 2 * K; k++) sum[k] += acc[(size_t)r * (size_t)K * 2 + (size_t)k];
        update_centres(c, K, sum);
    }
    run_phase(jb, pool, 6);
    free(acc);
    free(sum);
    return 0;
fail:
    free(acc);
    free(sum);
    free(d2);
    return -1;
}

/* ---------- the entry points ---------- */

void lrq_lq_qt_free(lrq_lq_qt *q) {
    if (!q) return;
    free(q->codes);
    free(q->scale);
    free(q->zero);
    free(q->og);
    free(q->codebook);
    free(q->sd);
    free(q->sq);
    memset(q, 0, sizeof *q);
}

static void *alloc_n(int64_t n, size_t each) {
    size_t b;
    if (n < 0 || lrq_mul_size((size_t)n, each, &b)) {
        lrq_err_set("lq: buffer of %lld x %zu bytes overflows", (long long)n, each);
        return NULL;
    }
    return lrq_malloc(b ? b : 1);
}

int lrq_lq_quantize(const lrq_lq_spec *s, const float *x, int64_t ne0, int64_t nrow, const float *imp,
                    uint64_t seed, lrq_pool *pool, lrq_lq_qt *out) {
    memset(out, 0, sizeof *out);
    int32_t G;
    if (lrq_lq_spec_check(s) || lrq_lq_spec_group(s, ne0, &G)) return -1;
    if (nrow < 1) return lrq_err_set("lq: %lld rows", (long long)nrow);
    size_t nel;
    if (lrq_mul_size((size_t)ne0, (size_t)nrow, &nel)) return lrq_err_set("lq: %lld x %lld overflows",
                                                                           (long long)nrow, (long long)ne0);
    for (size_t i = 0; i < nel; i++)
        if (!isfinite(x[i]))
            return lrq_err_set("lq: value %g at row %lld, column %lld is not finite", (double)x[i],
                               (long long)(i / (size_t)ne0), (long long)(i % (size_t)ne0));
    if (imp)
        for (int64_t j = 0; j < ne0; j++)
            if (!(imp[j] >= 0.0f) || !isfinite(imp[j]))
                return lrq_err_set("lq: importance weight %g of column %lld is not a finite value >= 0",
                                   (double)imp[j], (long long)j);
    lrq_lq_qt q = {.spec = *s, .ne0 = ne0, .nrow = nrow, .group = G, .ng = (int32_t)(ne0 / G)};
    const int64_t N = nrow * q.ng;
    uint8_t *cq = NULL;
    if (lrq_planes_row_bytes(s->bits, ne0, &q.row_bytes)) return -1;
    if (!(q.codes = alloc_n(nrow, q.row_bytes)) || !(q.scale = alloc_n(N, sizeof(float))) ||
        (s->asym && !(q.zero = alloc_n(N, sizeof(float)))) || (s->offset_group && !(q.og = alloc_n(N, 1))) ||
        !(cq = alloc_n((int64_t)nel, 1)))
        goto fail;
    if (s->pstore == LRQ_LQ_P_Q) {
        q.n_super = (N + s->psuper - 1) / s->psuper;
        if (!(q.sd = alloc_n(q.n_super, sizeof(uint16_t))) || !(q.sq = alloc_n(N, 1))) goto fail;
    }
    if (s->cb) {
        q.cb_rows = s->cb == LRQ_LQ_CB_ROW ? nrow : 1;
        if (!(q.codebook = alloc_n(q.cb_rows, sizeof(float) << s->bits))) goto fail;
    }
    qjob jb = {.sp = s, .x = x, .imp = imp, .seed = seed, .q = &q, .cq = cq};
    run_phase(&jb, pool, 1);
    if (s->pstore == LRQ_LQ_P_Q) double_quantize(&q);
    if (s->cb == LRQ_LQ_CB_ROW) {
        if (run_phase(&jb, pool, 4)) goto fail;
    } else if (s->cb == LRQ_LQ_CB_TENSOR) {
        if (kmeans_tensor(&jb, pool)) goto fail;
    } else {
        run_phase(&jb, pool, 3);
    }
    for (int64_t r = 0; r < nrow; r++)
        if (lrq_planes_pack_row(s->bits, ne0, cq + r * ne0, q.codes + (size_t)r * q.row_bytes)) goto fail;
    free(cq);
    *out = q;
    return 0;
fail:
    free(cq);
    lrq_lq_qt_free(&q);
    return -1;
}

float lrq_lq_group_offset(const lrq_lq_qt *q, int64_t r, int32_t g) { return group_o(q, r * q->ng + g); }

void lrq_lq_dequant_row(const lrq_lq_qt *q, int64_t r, float *y) {
    const uint8_t *row = q->codes + (size_t)r * q->row_bytes;
    const float *cb = q->codebook ? q->codebook + (q->cb_rows == 1 ? 0 : r) * ((int64_t)1 << q->spec.bits) : NULL;
    for (int64_t j = 0; j < q->ne0; j++) {
        const int64_t i = r * q->ng + j / q->group;
        const unsigned c = lrq_planes_code(row, q->spec.bits, j);
        const float v = cb ? cb[c] : (float)c;
        y[j] = q->scale[i] * (v - group_z(q, i) + group_o(q, i));
    }
}
