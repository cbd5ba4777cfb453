/* test_kern_k.c — k-quants (Q2_K..Q6_K) and their activation partner Q8_K:
 *  - dequantization of real llama.cpp-quantized tensors (ts-qwen3-5M) is close
 *    to the F32 source (a structural check of the bit layout);
 *  - the reference weight quantizers reproduce llama-quantize's bytes exactly;
 *  - lrq_act_q8_K equals an independent restatement of quantize_row_q8_K_ref;
 *  - every SIMD dot kernel equals the scalar reference bit for bit (and so
 *    within 1e-5 of the sum of |terms|), and the reference equals a double
 *    precision dot of the dequantized rows within float rounding.
 * GGUF files are read with a tiny locator written here, independent of
 * src/io/gguf.c.
 */
#include "testlib.h"

#include "core/core.h"
#include "core/mapfile.h"
#include "quant/qtypes.h"
#include "quant/quant_impl.h"
#include "quant/quant_k.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- GGUF -- */

typedef struct {
    char name[96];
    int type;
    int64_t ne[4];
    int n_dims;
    const uint8_t *data;
} tinfo;

typedef struct {
    lrq_mapfile mf;
    int n;
    tinfo *t;
} gfile;

typedef struct {
    const uint8_t *p, *end;
    int bad;
} rd;

static uint64_t rd_u(rd *r, int nb) {
    if (r->bad || (size_t)(r->end - r->p) < (size_t)nb) {
        r->bad = 1;
        return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < nb; i++) v |= (uint64_t)r->p[i] << (8 * i);
    r->p += nb;
    return v;
}

static void rd_skip(rd *r, uint64_t nb) {
    if (r->bad || (uint64_t)(r->end - r->p) < nb) {
        r->bad = 1;
        return;
    }
    r->p += nb;
}

static void skip_value(rd *r, uint32_t type, int depth) {
    static const int sz[13] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    if (depth > 4 || type > 12) {
        r->bad = 1;
        return;
    }
    if (type == 8) {
        rd_skip(r, rd_u(r, 8));
    } else if (type == 9) {
        const uint32_t et = (uint32_t)rd_u(r, 4);
        const uint64_t cnt = rd_u(r, 8);
        if (et == 8 || et == 9) {
            for (uint64_t i = 0; i < cnt && !r->bad; i++) skip_value(r, et, depth + 1);
        } else if (et <= 12) {
            if (cnt > (uint64_t)(r->end - r->p)) r->bad = 1;
            else rd_skip(r, cnt * (uint64_t)sz[et]);
        } else {
            r->bad = 1;
        }
    } else {
        rd_skip(r, (uint64_t)sz[type]);
    }
}

static int gfile_open(gfile *g, const char *path) {
    memset(g, 0, sizeof *g);
    if (lrq_mapfile_open(&g->mf, path) != 0) return -1;
    rd r = {g->mf.data, g->mf.data + g->mf.size, 0};
    if (rd_u(&r, 4) != 0x46554747u) return -1;
    if (rd_u(&r, 4) != 3) return -1;
    const uint64_t nt = rd_u(&r, 8), nkv = rd_u(&r, 8);
    if (r.bad || nt > 100000 || nkv > 100000) return -1;
    uint64_t align = 32;
    for (uint64_t i = 0; i < nkv && !r.bad; i++) {
        const uint64_t kl = rd_u(&r, 8);
        const uint8_t *k = r.p;
        rd_skip(&r, kl);
        const uint32_t vt = (uint32_t)rd_u(&r, 4);
        if (!r.bad && kl == 17 && memcmp(k, "general.alignment", 17) == 0 && vt == 4) {
            align = rd_u(&r, 4);
            continue;
        }
        skip_value(&r, vt, 0);
    }
    g->t = calloc(nt ? nt : 1, sizeof *g->t);
    if (!g->t) return -1;
    uint64_t *offs = calloc(nt ? nt : 1, sizeof *offs);
    for (uint64_t i = 0; i < nt && !r.bad; i++) {
        tinfo *t = &g->t[i];
        const uint64_t nl = rd_u(&r, 8);
        if (nl >= sizeof t->name) r.bad = 1;
        if (r.bad) break;
        memcpy(t->name, r.p, nl);
        rd_skip(&r, nl);
        t->n_dims = (int)rd_u(&r, 4);
        if (t->n_dims < 1 || t->n_dims > 4) r.bad = 1;
        for (int d = 0; d < 4; d++) t->ne[d] = (d < t->n_dims && !r.bad) ? (int64_t)rd_u(&r, 8) : 1;
        t->type = (int)rd_u(&r, 4);
        offs[i] = rd_u(&r, 8);
    }
    if (r.bad || align == 0) {
        free(offs);
        return -1;
    }
    const uint64_t pos = (uint64_t)(r.p - g->mf.data);
    const uint64_t base = (pos + align - 1) / align * align;
    for (uint64_t i = 0; i < nt; i++) {
        size_t rs;
        tinfo *t = &g->t[i];
        if (lrq_row_size(t->type, t->ne[0], &rs) != 0) continue; /* unknown: leave data NULL */
        const uint64_t nbytes = (uint64_t)rs * (uint64_t)(t->ne[1] * t->ne[2] * t->ne[3]);
        if (base + offs[i] > g->mf.size || nbytes > g->mf.size - base - offs[i]) {
            free(offs);
            return -1;
        }
        t->data = g->mf.data + base + offs[i];
    }
    free(offs);
    g->n = (int)nt;
    return 0;
}

static void gfile_close(gfile *g) {
    free(g->t);
    lrq_mapfile_close(&g->mf);
    memset(g, 0, sizeof *g);
}

static const tinfo *gfile_find(const gfile *g, const char *name) {
    for (int i = 0; i < g->n; i++)
        if (strcmp(g->t[i].name, name) == 0) return &g->t[i];
    return NULL;
}

static int64_t t_nelem(const tinfo *t) { return t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3]; }

/* ------------------------------------------------- type descriptions -- */

typedef void (*dot_fn)(int64_t, float *, const void *, const void *);
typedef void (*deq_fn)(const void *, float *, int64_t);
typedef void (*qnt_fn)(const float *, void *, int64_t);

typedef struct {
    const char *name;
    int type;
    size_t bsize;
    deq_fn deq;
    dot_fn ref, avx2, avx512;
    qnt_fn qref;
    int off_d, off_dmin; /* byte offsets of the fp16 scales (-1: none) */
    double max_rel_rms;  /* dequant(file) vs F32 source; see test_dequant_real */
    const char *file;    /* zoo file holding real tensors of this type */
} ktype;

#if defined(LRQ_HAVE_X86)
#define ISA(f) f
#else
#define ISA(f) NULL
#endif

static const ktype KT[5] = {
    {"q2_K", LRQ_TYPE_Q2_K, LRQ_Q2K_SIZE, lrq_dequant_q2_K, lrq_dot_q2_K_ref, ISA(lrq_dot_q2_K_avx2),
     ISA(lrq_dot_q2_K_avx512), lrq_quant_ref_q2_K, LRQ_Q2K_D, LRQ_Q2K_DMIN, 0.40, "ts-qwen3-5M-Q2_K.gguf"},
    {"q3_K", LRQ_TYPE_Q3_K, LRQ_Q3K_SIZE, lrq_dequant_q3_K, lrq_dot_q3_K_ref, ISA(lrq_dot_q3_K_avx2),
     ISA(lrq_dot_q3_K_avx512), lrq_quant_ref_q3_K, LRQ_Q3K_D, -1, 0.25, "ts-qwen3-5M-Q3_K_M.gguf"},
    {"q4_K", LRQ_TYPE_Q4_K, LRQ_Q4K_SIZE, lrq_dequant_q4_K, lrq_dot_q4_K_ref, ISA(lrq_dot_q4_K_avx2),
     ISA(lrq_dot_q4_K_avx512), lrq_quant_ref_q4_K, LRQ_Q4K_D, LRQ_Q4K_DMIN, 0.12, "ts-qwen3-5M-Q4_K_M.gguf"},
    {"q5_K", LRQ_TYPE_Q5_K, LRQ_Q5K_SIZE, lrq_dequant_q5_K, lrq_dot_q5_K_ref, ISA(lrq_dot_q5_K_avx2),
     ISA(lrq_dot_q5_K_avx512), lrq_quant_ref_q5_K, LRQ_Q5K_D, LRQ_Q5K_DMIN, 0.06, "ts-qwen3-5M-Q5_K_M.gguf"},
    {"q6_K", LRQ_TYPE_Q6_K, LRQ_Q6K_SIZE, lrq_dequant_q6_K, lrq_dot_q6_K_ref, ISA(lrq_dot_q6_K_avx2),
     ISA(lrq_dot_q6_K_avx512), lrq_quant_ref_q6_K, LRQ_Q6K_D, -1, 0.03, "ts-qwen3-5M-Q6_K.gguf"},
};

static int have_avx2(void) {
#if defined(LRQ_HAVE_X86)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
#else
    return 0;
#endif
}

static int have_avx512(void) {
#if defined(LRQ_HAVE_X86)
    __builtin_cpu_init();
    return have_avx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vnni");
#else
    return 0;
#endif
}

static const char *zoo(const char *file) {
    static char buf[512];
    snprintf(buf, sizeof buf, "%s", test_shared("golden/zoo/ts-qwen3-5M/"));
    strncat(buf, file, sizeof buf - strlen(buf) - 1);
    return buf;
}

/* ------------------------------------------- dequantization, real data -- */

/* Every Q2_K..Q6_K tensor of the zoo files, dequantized, against the F32
 * source. The bound is on ||deq - f32|| / ||f32|| per tensor. Measured
 * worst cases (all tensors, llama.cpp v0.5.0 files): Q2_K 0.319, Q3_K 0.178,
 * Q4_K 0.087, Q5_K 0.043, Q6_K 0.021 — the usual 2x per extra bit. The bounds
 * sit ~25% above them; any decoding slip (a wrong nibble, bit plane, scale
 * or sign) pushes the error to order 1 (a random decoding of the same codes
 * gives >= 1.0). We also check the error is not suspiciously small (> 0.1 of
 * the bound) and that the file's tensor count per type is as expected. */
static void test_dequant_real(void) {
    gfile src;
    const char *sp = test_shared("models/zoo/ts-qwen3-5M-f32.gguf");
    CHECKF(gfile_open(&src, sp) == 0, "cannot read %s", sp);
    if (!src.n) return;
    for (int k = 0; k < 5; k++) {
        const ktype *kt = &KT[k];
        gfile q;
        if (gfile_open(&q, zoo(kt->file)) != 0) {
            CHECKF(0, "cannot read %s", zoo(kt->file));
            continue;
        }
        int count = 0;
        double worst = 0;
        for (int i = 0; i < q.n; i++) {
            const tinfo *t = &q.t[i];
            if (t->type != kt->type) continue;
            const tinfo *f = gfile_find(&src, t->name);
            CHECKF(f && f->type == LRQ_TYPE_F32 && t_nelem(f) == t_nelem(t), "%s: no F32 twin", t->name);
            if (!f || f->type != LRQ_TYPE_F32 || t_nelem(f) != t_nelem(t) || !t->data) continue;
            const int64_t ne = t_nelem(t);
            float *deq = malloc((size_t)ne * sizeof *deq);
            kt->deq(t->data, deq, ne);
            double e2 = 0, f2 = 0;
            for (int64_t j = 0; j < ne; j++) {
                float fv;
                memcpy(&fv, f->data + 4 * j, 4);
                const double d = (double)deq[j] - fv;
                e2 += d * d;
                f2 += (double)fv * fv;
            }
            const double rel = sqrt(e2 / f2);
            if (rel > worst) worst = rel;
            CHECKF(rel < kt->max_rel_rms && rel > 0.1 * kt->max_rel_rms, "%s %s: rel rms error %.4f (bound %.2f)",
                   kt->name, t->name, rel, kt->max_rel_rms);
            free(deq);
            count++;
        }
        fprintf(stderr, "    %s: %d tensors, worst rel rms %.4f\n", kt->name, count, worst);
        CHECKF(count >= 1, "%s: no tensor of this type in %s", kt->name, kt->file);
        gfile_close(&q);
    }
    gfile_close(&src);
}

/* quant_ref(F32 tensor) must equal the file's bytes (files made without an
 * importance matrix: llama-quantize uses quantize_row_q*_K_ref then). */
static void test_quant_ref_real(void) {
    gfile src;
    CHECK(gfile_open(&src, test_shared("models/zoo/ts-qwen3-5M-f32.gguf")) == 0);
    if (!src.n) return;
    for (int k = 0; k < 5; k++) {
        const ktype *kt = &KT[k];
        gfile q;
        if (gfile_open(&q, zoo(kt->file)) != 0) {
            CHECKF(0, "cannot read %s", zoo(kt->file));
            continue;
        }
        int count = 0, same = 0;
        for (int i = 0; i < q.n; i++) {
            const tinfo *t = &q.t[i];
            if (t->type != kt->type || !t->data) continue;
            const tinfo *f = gfile_find(&src, t->name);
            if (!f || f->type != LRQ_TYPE_F32 || t_nelem(f) != t_nelem(t)) continue;
            const int64_t ne = t_nelem(t);
            const size_t nbytes = (size_t)(ne / LRQ_QK_K) * kt->bsize;
            float *xf = malloc((size_t)ne * sizeof *xf);
            memcpy(xf, f->data, (size_t)ne * sizeof *xf);
            uint8_t *out = malloc(nbytes);
            /* row by row, as llama-quantize's chunks do (rows never share a block) */
            const int64_t rl = t->ne[0];
            for (int64_t r = 0; r < ne / rl; r++)
                kt->qref(xf + r * rl, out + (size_t)(r * rl / LRQ_QK_K) * kt->bsize, rl);
            const int eq = memcmp(out, t->data, nbytes) == 0;
            if (!eq) {
                size_t nbad = 0, first = 0;
                for (size_t j = 0; j < nbytes; j++)
                    if (out[j] != t->data[j] && nbad++ == 0) first = j;
                CHECKF(0, "%s %s: %zu of %zu bytes differ (first at block %zu, byte %zu)", kt->name, t->name,
                       nbad, nbytes, first / kt->bsize, first % kt->bsize);
            }
            same += eq;
            count++;
            free(xf);
            free(out);
        }
        fprintf(stderr, "    %s: %d/%d tensors byte-identical\n", kt->name, same, count);
        CHECKF(count >= 1, "%s: no tensor of this type", kt->name);
        gfile_close(&q);
    }
    gfile_close(&src);
}

/* ------------------------------------------------------------ act Q8_K -- */

/* Independent statement of llama.cpp's quantize_row_q8_K_ref: d = max/-127
 * where max is the first value of largest |x|, q = round-half-even(x*(-127/max))
 * capped at 127, bsums = sums of 16. All-zero blocks: everything 0. */
static void q8k_expected(const float *x, uint8_t *out) {
    memset(out, 0, LRQ_Q8K_SIZE);
    int imax = -1;
    for (int i = 0; i < LRQ_QK_K; i++)
        if (fabsf(x[i]) > (imax < 0 ? 0.0f : fabsf(x[imax]))) imax = i;
    if (imax < 0) return;
    const float is = -127.0f / x[imax];
    int16_t bs[16] = {0};
    for (int i = 0; i < LRQ_QK_K; i++) {
        float r = nearbyintf(is * x[i]); /* default rounding mode: ties to even */
        int v = (int)r;
        if (v > 127) v = 127;
        out[LRQ_Q8K_QS + i] = (uint8_t)(int8_t)v;
        bs[i / 16] = (int16_t)(bs[i / 16] + v);
    }
    const float d = 1.0f / is;
    memcpy(out + LRQ_Q8K_D, &d, 4); /* little-endian host assumed by this test */
    memcpy(out + LRQ_Q8K_BSUMS, bs, 32);
}

static void test_act_q8_K(void) {
    uint64_t st = 12345;
    enum { NB = 9 };
    float *x = malloc(NB * LRQ_QK_K * sizeof *x);
    uint8_t got[NB * LRQ_Q8K_SIZE], want[LRQ_Q8K_SIZE];
    for (int round = 0; round < 200; round++) {
        for (int b = 0; b < NB; b++) {
            float *xb = x + b * LRQ_QK_K;
            const int kind = (round + b) % 9;
            const float scale = powf(10.0f, (float)((int)(test_rand_u64(&st) % 12) - 6));
            for (int i = 0; i < LRQ_QK_K; i++) {
                switch (kind) {
                case 0: xb[i] = test_rand_normal(&st) * scale; break;
                case 1: xb[i] = 0.0f; break;                                /* all zero */
                case 2: xb[i] = -3.25f * scale; break;                      /* all equal */
                case 3: /* ties: max 127 (or -127) and x = k + 0.5 */
                    xb[i] = (float)((int)(test_rand_u64(&st) % 254) - 127) + 0.5f;
                    if (i == 7) xb[i] = (round & 1) ? 127.0f : -127.0f;
                    break;
                case 4: xb[i] = (i == 100) ? scale : 0.0f; break;          /* single value */
                case 5: /* +A and -A both present: the first one wins */
                    xb[i] = test_rand_f32(&st) * 0.5f;
                    if (i == 20) xb[i] = (round & 1) ? 1.0f : -1.0f;
                    if (i == 200) xb[i] = (round & 1) ? -1.0f : 1.0f;
                    break;
                case 6: xb[i] = test_rand_f32(&st) * 1e-40f; break;        /* subnormal */
                case 7: xb[i] = (float)((int)(test_rand_u64(&st) % 5) - 2); break; /* small ints */
                default: xb[i] = test_rand_f32(&st) * 3e37f; break;         /* huge */
                }
            }
        }
        lrq_act_q8_K(x, got, NB * LRQ_QK_K);
        for (int b = 0; b < NB; b++) {
            q8k_expected(x + b * LRQ_QK_K, want);
            if (memcmp(got + b * LRQ_Q8K_SIZE, want, LRQ_Q8K_SIZE) != 0) {
                CHECKF(0, "round %d block %d (kind %d): Q8_K bytes differ", round, b, (round + b) % 9);
                break;
            }
        }
    }
    /* round trip: the activation dequantizes to within d/2 of the input */
    for (int i = 0; i < LRQ_QK_K; i++) x[i] = test_rand_normal(&st);
    lrq_act_q8_K(x, got, LRQ_QK_K);
    float back[LRQ_QK_K];
    lrq_dequant_q8_K(got, back, LRQ_QK_K);
    float d;
    memcpy(&d, got, 4);
    for (int i = 0; i < LRQ_QK_K; i++) CHECK(fabsf(back[i] - x[i]) <= 0.5001f * fabsf(d));
    free(x);
}

/* --------------------------------------------------------- dot kernels -- */

static uint16_t rand_f16_finite(uint64_t *st) {
    for (;;) {
        const uint16_t h = (uint16_t)test_rand_u64(st);
        if (((h >> 10) & 0x1f) != 0x1f) return h;
    }
}

/* Random weight blocks: every byte random, then finite fp16 scales. */
static void rand_wblocks(const ktype *kt, uint8_t *x, int nb, uint64_t *st) {
    for (size_t i = 0; i < (size_t)nb * kt->bsize; i++) x[i] = (uint8_t)test_rand_u64(st);
    for (int b = 0; b < nb; b++) {
        uint8_t *blk = x + (size_t)b * kt->bsize;
        uint16_t h = rand_f16_finite(st);
        blk[kt->off_d] = (uint8_t)h;
        blk[kt->off_d + 1] = (uint8_t)(h >> 8);
        if (kt->off_dmin >= 0) {
            h = rand_f16_finite(st);
            blk[kt->off_dmin] = (uint8_t)h;
            blk[kt->off_dmin + 1] = (uint8_t)(h >> 8);
        }
    }
}

/* Random Q8_K blocks: codes in [-128, 127] (-128 never comes out of the
 * quantizer, but kernels must not saturate on it), consistent bsums unless
 * `wild_bsums`, d of random magnitude and sign. */
static void rand_yblocks(uint8_t *y, int nb, uint64_t *st, int wild_bsums) {
    for (int b = 0; b < nb; b++) {
        uint8_t *blk = y + (size_t)b * LRQ_Q8K_SIZE;
        const float d = test_rand_f32(st) * powf(2.0f, (float)((int)(test_rand_u64(st) % 20) - 10));
        memcpy(blk + LRQ_Q8K_D, &d, 4);
        for (int i = 0; i < LRQ_QK_K; i++) blk[LRQ_Q8K_QS + i] = (uint8_t)test_rand_u64(st);
        if ((test_rand_u64(st) & 7) == 0) /* the extreme: all codes -128 or 127 */
            for (int i = 0; i < LRQ_QK_K; i++) blk[LRQ_Q8K_QS + i] = (test_rand_u64(st) & 1) ? 0x80 : 0x7f;
        for (int j = 0; j < 16; j++) {
            int16_t s = 0;
            for (int i = 0; i < 16; i++) s = (int16_t)(s + (int8_t)blk[LRQ_Q8K_QS + 16 * j + i]);
            if (wild_bsums) s = (int16_t)test_rand_u64(st);
            memcpy(blk + LRQ_Q8K_BSUMS + 2 * j, &s, 2);
        }
    }
}

/* Double-precision dot of the dequantized rows, plus the magnitude
 * sum(|a_i| + |b_i|) * |y_i| where the weight is a_i - b_i (scale part and
 * min part: dequantized with dmin = 0 and with d = 0). */
static double dot_double(const ktype *kt, const uint8_t *x, const uint8_t *y, int nb, double *mag) {
    const int64_t n = (int64_t)nb * LRQ_QK_K;
    float *xa = malloc((size_t)n * sizeof(float)), *xb = malloc((size_t)n * sizeof(float));
    float *xf = malloc((size_t)n * sizeof(float)), *yf = malloc((size_t)n * sizeof(float));
    uint8_t *tmp = malloc((size_t)nb * kt->bsize);
    kt->deq(x, xf, n);
    lrq_dequant_q8_K(y, yf, n);
    memcpy(tmp, x, (size_t)nb * kt->bsize);
    if (kt->off_dmin >= 0)
        for (int b = 0; b < nb; b++) memset(tmp + (size_t)b * kt->bsize + kt->off_dmin, 0, 2);
    kt->deq(tmp, xa, n);
    memcpy(tmp, x, (size_t)nb * kt->bsize);
    for (int b = 0; b < nb; b++) memset(tmp + (size_t)b * kt->bsize + kt->off_d, 0, 2);
    kt->deq(tmp, xb, n);
    double s = 0, m = 0;
    for (int64_t i = 0; i < n; i++) {
        s += (double)xf[i] * yf[i];
        m += (fabs((double)xa[i]) + fabs((double)xb[i])) * fabs((double)yf[i]);
    }
    free(xa), free(xb), free(xf), free(yf), free(tmp);
    *mag = m;
    return s;
}

static const int NBS[] = {1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 31, 64};

static void check_isa(const ktype *kt, dot_fn f, const char *isa, int wild) {
    uint64_t st = 777 + (uint64_t)kt->type * 31 + (uint64_t)wild;
    for (size_t li = 0; li < sizeof NBS / sizeof NBS[0]; li++) {
        const int nb = NBS[li];
        for (int rep = 0; rep < 6; rep++) {
            uint8_t *x = malloc((size_t)nb * kt->bsize), *y = malloc((size_t)nb * LRQ_Q8K_SIZE);
            rand_wblocks(kt, x, nb, &st);
            rand_yblocks(y, nb, &st, wild);
            float r = 0, v = 0;
            kt->ref((int64_t)nb * LRQ_QK_K, &r, x, y);
            f((int64_t)nb * LRQ_QK_K, &v, x, y);
            double mag = 0;
            if (!wild) dot_double(kt, x, y, nb, &mag);
            uint32_t rb, vb;
            memcpy(&rb, &r, 4);
            memcpy(&vb, &v, 4);
            CHECKF(rb == vb, "%s %s nb=%d rep=%d: %.9g vs ref %.9g (not bit-identical)", kt->name, isa, nb, rep,
                   (double)v, (double)r);
            if (!wild)
                CHECKF(fabs((double)v - r) <= 1e-5 * mag, "%s %s nb=%d: |%.9g - %.9g| > 1e-5 * %.9g", kt->name,
                       isa, nb, (double)v, (double)r, mag);
            free(x);
            free(y);
        }
    }
}

static void test_dot_simd_vs_ref(void) {
    const int a2 = have_avx2(), a5 = have_avx512();
    if (!a2) fprintf(stderr, "    (no AVX2: AVX2 kernels skipped)\n");
    if (!a5) fprintf(stderr, "    (no AVX-512 F/BW/VL/DQ/VNNI: AVX-512 kernels skipped)\n");
    for (int k = 0; k < 5; k++) {
        for (int wild = 0; wild < 2; wild++) {
            if (a2 && KT[k].avx2) check_isa(&KT[k], KT[k].avx2, "avx2", wild);
            if (a5 && KT[k].avx512) check_isa(&KT[k], KT[k].avx512, "avx512", wild);
        }
    }
}

/* The reference against a double-precision dot of the dequantized rows: the
 * only differences are float roundings (one per product d*sum, per fma and per
 * dequantized value), bounded by (nb + 16) * 2^-23 of the magnitude. */
static void test_dot_ref_vs_double(void) {
    uint64_t st = 4242;
    for (int k = 0; k < 5; k++) {
        const ktype *kt = &KT[k];
        double worst = 0;
        for (size_t li = 0; li < sizeof NBS / sizeof NBS[0]; li++) {
            const int nb = NBS[li];
            for (int rep = 0; rep < 8; rep++) {
                uint8_t *x = malloc((size_t)nb * kt->bsize), *y = malloc((size_t)nb * LRQ_Q8K_SIZE);
                rand_wblocks(kt, x, nb, &st);
                rand_yblocks(y, nb, &st, 0);
                float r = 0;
                kt->ref((int64_t)nb * LRQ_QK_K, &r, x, y);
                double mag;
                const double want = dot_double(kt, x, y, nb, &mag);
                const double err = fabs((double)r - want) / (mag > 0 ? mag : 1);
                if (err > worst) worst = err;
                CHECKF(fabs((double)r - want) <= (nb + 16) * 0x1p-23 * mag, "%s nb=%d: ref %.9g vs double %.9g (mag %.9g)",
                       kt->name, nb, (double)r, want, mag);
                free(x);
                free(y);
            }
        }
        fprintf(stderr, "    %s: worst |ref - double| / mag = %.3g\n", kt->name, worst);
    }
}

/* Real rows: real quantized weights against real-looking activations — the
 * kernels agree bit for bit, and the dot is close to the F32 one. */
static void test_dot_real_rows(void) {
    gfile q;
    const ktype *kt = &KT[2];
    if (gfile_open(&q, zoo("ts-qwen3-5M-Q4_K_M.gguf")) != 0) {
        CHECKF(0, "cannot read Q4_K_M file");
        return;
    }
    uint64_t st = 99;
    int tested = 0;
    for (int i = 0; i < q.n; i++) {
        const tinfo *t = &q.t[i];
        int k = -1;
        for (int j = 0; j < 5; j++)
            if (KT[j].type == t->type) k = j;
        if (k < 0 || !t->data) continue;
        kt = &KT[k];
        const int64_t n = t->ne[0];
        float *act = malloc((size_t)n * sizeof *act);
        for (int64_t j = 0; j < n; j++) act[j] = test_rand_normal(&st);
        uint8_t *y = malloc((size_t)(n / LRQ_QK_K) * LRQ_Q8K_SIZE);
        lrq_act_q8_K(act, y, n);
        for (int64_t r = 0; r < t->ne[1] && r < 16; r++) {
            const uint8_t *x = t->data + (size_t)(r * n / LRQ_QK_K) * kt->bsize;
            float ref = 0, v = 0;
            kt->ref(n, &ref, x, y);
            if (have_avx2()) {
                kt->avx2(n, &v, x, y);
                CHECKF(memcmp(&v, &ref, 4) == 0, "%s %s row %lld avx2", kt->name, t->name, (long long)r);
            }
            if (have_avx512()) {
                kt->avx512(n, &v, x, y);
                CHECKF(memcmp(&v, &ref, 4) == 0, "%s %s row %lld avx512", kt->name, t->name, (long long)r);
            }
            double mag;
            const double want = dot_double(kt, x, y, (int)(n / LRQ_QK_K), &mag);
            CHECK(fabs(ref - want) <= 1e-5 * mag);
        }
        free(act);
        free(y);
        tested++;
    }
    CHECK(tested > 0);
    gfile_close(&q);
}

/* The dispatcher's kernel for each type is one of ours and agrees. */
static void test_dispatch(void) {
    uint64_t st = 5;
    for (int k = 0; k < 5; k++) {
        const lrq_type_traits *tt = lrq_type_get(KT[k].type);
        CHECK(tt && tt->vec_dot_type == LRQ_TYPE_Q8_K && tt->type_size == KT[k].bsize);
        if (!tt) continue;
        uint8_t x[4 * 210], y[4 * LRQ_Q8K_SIZE];
        rand_wblocks(&KT[k], x, 4, &st);
        rand_yblocks(y, 4, &st, 0);
        float a = 0, b = 0;
        tt->vec_dot(4 * LRQ_QK_K, &a, x, y);
        KT[k].ref(4 * LRQ_QK_K, &b, x, y);
        CHECKF(memcmp(&a, &b, 4) == 0, "%s: dispatched kernel (%s) differs from ref", KT[k].name, lrq_types_isa());
    }
}

int main(void) {
    TEST_RUN(test_act_q8_K);
    TEST_RUN(test_dequant_real);
    TEST_RUN(test_quant_ref_real);
    TEST_RUN(test_dot_simd_vs_ref);
    TEST_RUN(test_dot_ref_vs_double);
    TEST_RUN(test_dot_real_rows);
    TEST_RUN(test_dispatch);
    return test_finish();
}
