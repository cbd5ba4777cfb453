/* test_kern_k.c — k-quants (Q2_K..Q6_K) and their activation partner Q8_K:
 *  - dequantization of real llama.cpp-quantized tensors (ts-qwen3-5M) is close
 *    to the F32 source (a structural check of the bit layout);
 *  - the reference weight quantizers reproduce llama-quantize's bytes exactly;
 *  - lrq_act_q8_K equals an independent restatement of quantize_row_q8_K_ref;
 *  - every SIMD dot kernel (x86-64: AVX2, AVX-512; AArch64: NEON) equals the
 *    scalar reference bit for bit (and so
 *    within 1e-5 of the sum of |terms|), and the reference equals a double
 *    precision dot of the dequantized rows within float rounding.
 * GGUF files are read with the test locator of gguf_testutil.h, independent
 * of src/io/gguf.c; lrq_row_size sizes their rows (a wrong size makes the
 * locator or the byte comparisons fail).
 */
#include "testlib.h"
#include "gguf_testutil.h"

#include "core/core.h"
#include "fmt/types.h"
#include "fmt/impl.h"
#include "kern/dots.h"
#include "fmt/kquant.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(LRQ_HAVE_X86)
#include <cpuid.h>
#endif

/* ------------------------------------------------- type descriptions -- */

typedef void (*dot_fn)(int64_t, float *, const void *, const void *);
typedef void (*deq_fn)(const void *, float *, int64_t);
typedef void (*qnt_fn)(const float *, void *, int64_t);

typedef struct {
    const char *name;
    int type;
    size_t bsize;
    deq_fn deq;
    dot_fn ref, avx2, avx512, neon;
    qnt_fn qref;
    int off_d, off_dmin; /* byte offsets of the fp16 scales (-1: none) */
    double max_rel_rms;  /* dequant(file) vs F32 source; see test_dequant_real */
} ktype;

#if defined(LRQ_HAVE_X86)
#define ISA(f) f
#else
#define ISA(f) NULL
#endif
#if defined(LRQ_HAVE_NEON)
#define NEON(f) f
#else
#define NEON(f) NULL
#endif

static const ktype KT[5] = {
    {"q2_K", LRQ_TYPE_Q2_K, LRQ_Q2K_SIZE, lrq_dequant_q2_K, lrq_dot_q2_K_ref, ISA(lrq_dot_q2_K_avx2),
     ISA(lrq_dot_q2_K_avx512), NEON(lrq_dot_q2_K_neon), lrq_quant_ref_q2_K, LRQ_Q2K_D, LRQ_Q2K_DMIN, 0.37},
    {"q3_K", LRQ_TYPE_Q3_K, LRQ_Q3K_SIZE, lrq_dequant_q3_K, lrq_dot_q3_K_ref, ISA(lrq_dot_q3_K_avx2),
     ISA(lrq_dot_q3_K_avx512), NEON(lrq_dot_q3_K_neon), lrq_quant_ref_q3_K, LRQ_Q3K_D, -1, 0.19},
    {"q4_K", LRQ_TYPE_Q4_K, LRQ_Q4K_SIZE, lrq_dequant_q4_K, lrq_dot_q4_K_ref, ISA(lrq_dot_q4_K_avx2),
     ISA(lrq_dot_q4_K_avx512), NEON(lrq_dot_q4_K_neon), lrq_quant_ref_q4_K, LRQ_Q4K_D, LRQ_Q4K_DMIN, 0.09},
    {"q5_K", LRQ_TYPE_Q5_K, LRQ_Q5K_SIZE, lrq_dequant_q5_K, lrq_dot_q5_K_ref, ISA(lrq_dot_q5_K_avx2),
     ISA(lrq_dot_q5_K_avx512), NEON(lrq_dot_q5_K_neon), lrq_quant_ref_q5_K, LRQ_Q5K_D, LRQ_Q5K_DMIN, 0.045},
    {"q6_K", LRQ_TYPE_Q6_K, LRQ_Q6K_SIZE, lrq_dequant_q6_K, lrq_dot_q6_K_ref, ISA(lrq_dot_q6_K_avx2),
     ISA(lrq_dot_q6_K_avx512), NEON(lrq_dot_q6_K_neon), lrq_quant_ref_q6_K, LRQ_Q6K_D, -1, 0.023},
};

static int have_avx2(void) {
#if defined(LRQ_HAVE_X86)
    /* F16C via cpuid: some compilers (clang 14) do not know "f16c" in
     * __builtin_cpu_supports */
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 29))) return 0;
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
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

/* AArch64 builds: Advanced SIMD is part of the base ISA, every CPU has it. */
static int have_neon(void) {
#if defined(LRQ_HAVE_NEON)
    return 1;
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

/* ------------------------------------------- real llama.cpp tensors -- */

/* The non-imatrix zoo files; between them they hold every k-quant type
 * (the _M presets mix types: e.g. Q6_K tensors inside the Q4_K_M file). */
static const char *const ZOO_FILES[] = {"ts-qwen3-5M-Q2_K.gguf", "ts-qwen3-5M-Q3_K_M.gguf", "ts-qwen3-5M-Q4_K_M.gguf",
                                        "ts-qwen3-5M-Q5_K_M.gguf", "ts-qwen3-5M-Q6_K.gguf"};

static int ktype_index(int type) {
    for (int k = 0; k < 5; k++)
        if (KT[k].type == type) return k;
    return -1;
}

/* Every Q2_K..Q6_K tensor of the zoo files, dequantized, against the F32
 * source: the bound is on ||deq - f32|| / ||f32|| per tensor. Measured worst
 * cases over all tensors (llama.cpp v0.5.0 files): Q2_K 0.298, Q3_K 0.152,
 * Q4_K 0.072, Q5_K 0.036, Q6_K 0.018 — about 2x per extra bit, as expected
 * for round-to-nearest codes. The bounds sit ~25% above; any decoding slip (a
 * wrong nibble, bit plane, scale or sign) pushes the error to order 1. The
 * error must also not be suspiciously small (> 0.1 of the bound: dequantizing
 * is not a copy of the source). */
static void test_dequant_real(void) {
    tg_file src;
    const char *sp = test_shared("models/zoo/ts-qwen3-5M-f32.gguf");
    CHECKF(tg_open(&src, sp, lrq_row_size) == 0, "cannot read %s", sp);
    if (!src.n) return;
    int count[5] = {0};
    double worst[5] = {0};
    for (size_t fi = 0; fi < sizeof ZOO_FILES / sizeof ZOO_FILES[0]; fi++) {
        tg_file q;
        if (tg_open(&q, zoo(ZOO_FILES[fi]), lrq_row_size) != 0) {
            CHECKF(0, "cannot read %s", zoo(ZOO_FILES[fi]));
            continue;
        }
        for (int i = 0; i < q.n; i++) {
            const tg_tensor *t = &q.t[i];
            const int k = ktype_index(t->type);
            if (k < 0) continue;
            const ktype *kt = &KT[k];
            const tg_tensor *f = tg_find(&src, t->name);
            CHECKF(f && f->type == LRQ_TYPE_F32 && f->n == t->n && t->data, "%s: no F32 twin", t->name);
            if (!f || f->type != LRQ_TYPE_F32 || f->n != t->n || !t->data) continue;
            const int64_t ne = t->n;
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
            if (rel > worst[k]) worst[k] = rel;
            CHECKF(rel < kt->max_rel_rms && rel > 0.1 * kt->max_rel_rms, "%s %s %s: rel rms error %.4f (bound %.3f)",
                   ZOO_FILES[fi], kt->name, t->name, rel, kt->max_rel_rms);
            free(deq);
            count[k]++;
        }
        tg_close(&q);
    }
    for (int k = 0; k < 5; k++) {
        fprintf(stderr, "    %s: %d tensors, worst rel rms %.4f\n", KT[k].name, count[k], worst[k]);
        CHECKF(count[k] >= 10, "%s: only %d tensors of this type found", KT[k].name, count[k]);
    }
    tg_close(&src);
}

/* quant_ref(F32 tensor) must equal the file's bytes (files made without an
 * importance matrix: llama-quantize uses quantize_row_q*_K_ref then). */
static void test_quant_ref_real(void) {
    tg_file src;
    CHECK(tg_open(&src, test_shared("models/zoo/ts-qwen3-5M-f32.gguf"), lrq_row_size) == 0);
    if (!src.n) return;
    int count[5] = {0}, same[5] = {0};
    for (size_t fi = 0; fi < sizeof ZOO_FILES / sizeof ZOO_FILES[0]; fi++) {
        tg_file q;
        if (tg_open(&q, zoo(ZOO_FILES[fi]), lrq_row_size) != 0) {
            CHECKF(0, "cannot read %s", zoo(ZOO_FILES[fi]));
            continue;
        }
        for (int i = 0; i < q.n; i++) {
            const tg_tensor *t = &q.t[i];
            const int k = ktype_index(t->type);
            if (k < 0 || !t->data) continue;
            const ktype *kt = &KT[k];
            const tg_tensor *f = tg_find(&src, t->name);
            if (!f || f->type != LRQ_TYPE_F32 || f->n != t->n) continue;
            const int64_t ne = t->n;
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
                CHECKF(0, "%s %s %s: %zu of %zu bytes differ (first at block %zu, byte %zu)", ZOO_FILES[fi], kt->name,
                       t->name, nbad, nbytes, first / kt->bsize, first % kt->bsize);
            }
            same[k] += eq;
            count[k]++;
            free(xf);
            free(out);
        }
        tg_close(&q);
    }
    for (int k = 0; k < 5; k++) {
        fprintf(stderr, "    %s: %d/%d tensors byte-identical\n", KT[k].name, same[k], count[k]);
        CHECKF(count[k] >= 10, "%s: only %d tensors of this type found", KT[k].name, count[k]);
    }
    tg_close(&src);
}

/* Edge cases of the quantizers: all-zero and constant blocks, single spikes,
 * large and small magnitudes. No exact oracle here; the output must decode to
 * finite values close to the input (relative to the block's max |x|), and
 * an all-zero input must decode to zeros. Kind 6 (|x| ~ 1e-6) is below what
 * the fp16 super-block scales can represent (d = max/63 underflows), so, as
 * in llama.cpp, only finiteness and |error| <= 3 max|x| are required. */
static void test_quant_ref_edges(void) {
    uint64_t st = 2024;
    float x[2 * LRQ_QK_K], back[2 * LRQ_QK_K];
    uint8_t buf[2 * 210];
    /* worst |error| / max|x| per type for these shapes: 2-bit codes on a
     * single spike are coarse, hence the generous bounds */
    static const double bound[5] = {0.6, 0.6, 0.3, 0.2, 0.1};
    for (int kind = 0; kind < 7; kind++) {
        for (int i = 0; i < 2 * LRQ_QK_K; i++) {
            switch (kind) {
            case 0: x[i] = 0.0f; break;
            case 1: x[i] = 0.75f; break;
            case 2: x[i] = (i == 37 || i == 300) ? -5.0f : 0.0f; break;
            case 3: x[i] = test_rand_normal(&st) * 1e4f; break;
            case 4: x[i] = test_rand_normal(&st) * 1e-3f; break;
            case 6: x[i] = test_rand_normal(&st) * 1e-6f; break;
            default: x[i] = (i % 16 == 3) ? 1.0f : test_rand_normal(&st) * 0.01f; break;
            }
        }
        float amax = 0;
        for (int i = 0; i < 2 * LRQ_QK_K; i++) amax = fmaxf(amax, fabsf(x[i]));
        for (int k = 0; k < 5; k++) {
            KT[k].qref(x, buf, 2 * LRQ_QK_K);
            KT[k].deq(buf, back, 2 * LRQ_QK_K);
            double worst = 0;
            for (int i = 0; i < 2 * LRQ_QK_K; i++) {
                CHECKF(isfinite(back[i]), "%s kind %d: non-finite output", KT[k].name, kind);
                worst = fmax(worst, fabs((double)back[i] - x[i]));
            }
            if (kind == 0) CHECKF(worst == 0, "%s: zeros do not round-trip", KT[k].name);
            else if (kind == 6) CHECKF(worst <= 3 * amax, "%s kind %d: error %.3g of max %.3g", KT[k].name, kind, worst, amax);
            else CHECKF(worst <= bound[k] * amax, "%s kind %d: error %.3g of max %.3g", KT[k].name, kind, worst, amax);
        }
    }
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
                case 6: xb[i] = i == 3 ? 1e-30f : test_rand_f32(&st) * 1e-40f; break; /* subnormals */
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
    /* all-subnormal block: -127/max overflows to -inf; llama.cpp's rounding
     * trick then yields code 0 everywhere and d = -0 */
    for (int i = 0; i < LRQ_QK_K; i++) x[i] = test_rand_f32(&st) * 1e-40f;
    lrq_act_q8_K(x, got, LRQ_QK_K);
    int nz = 0;
    for (int i = LRQ_Q8K_QS; i < LRQ_Q8K_SIZE; i++) nz += got[i] != 0;
    CHECK(nz == 0);
    CHECK(got[0] == 0 && got[1] == 0 && got[2] == 0 && (got[3] & 0x7f) == 0); /* d = ±0 */
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

/* Every float order we implement: the default (quant_impl.h) kernels and the
 * extra Q2_K/Q4_K orders of quant_k.h ("gemm": batched rows against repacked
 * matrices; "vecdot": matrices llama.cpp does not repack, scalar only). */
typedef struct {
    const char *name;
    int k; /* index into KT: the weight type */
    dot_fn ref, avx2, avx512, neon;
} dvariant;

static const dvariant DV[] = {
    {"q2_K", 0, lrq_dot_q2_K_ref, ISA(lrq_dot_q2_K_avx2), ISA(lrq_dot_q2_K_avx512), NEON(lrq_dot_q2_K_neon)},
    {"q3_K", 1, lrq_dot_q3_K_ref, ISA(lrq_dot_q3_K_avx2), ISA(lrq_dot_q3_K_avx512), NEON(lrq_dot_q3_K_neon)},
    {"q4_K", 2, lrq_dot_q4_K_ref, ISA(lrq_dot_q4_K_avx2), ISA(lrq_dot_q4_K_avx512), NEON(lrq_dot_q4_K_neon)},
    {"q5_K", 3, lrq_dot_q5_K_ref, ISA(lrq_dot_q5_K_avx2), ISA(lrq_dot_q5_K_avx512), NEON(lrq_dot_q5_K_neon)},
    {"q6_K", 4, lrq_dot_q6_K_ref, ISA(lrq_dot_q6_K_avx2), ISA(lrq_dot_q6_K_avx512), NEON(lrq_dot_q6_K_neon)},
    {"q2_K/gemm", 0, lrq_dot_q2_K_gemm_ref, ISA(lrq_dot_q2_K_gemm_avx2), ISA(lrq_dot_q2_K_gemm_avx512), NULL},
    {"q4_K/gemm", 2, lrq_dot_q4_K_gemm_ref, ISA(lrq_dot_q4_K_gemm_avx2), ISA(lrq_dot_q4_K_gemm_avx512), NULL},
    {"q2_K/vecdot", 0, lrq_dot_q2_K_vecdot_ref, NULL, NULL, NULL},
    {"q4_K/vecdot", 2, lrq_dot_q4_K_vecdot_ref, NULL, NULL, NULL},
};
#define N_DV ((int)(sizeof DV / sizeof DV[0]))

static void check_isa(const dvariant *dv, dot_fn f, const char *isa, int wild) {
    const ktype *kt = &KT[dv->k];
    uint64_t st = 777 + (uint64_t)(dv - DV) * 31 + (uint64_t)wild;
    for (size_t li = 0; li < sizeof NBS / sizeof NBS[0]; li++) {
        const int nb = NBS[li];
        for (int rep = 0; rep < 6; rep++) {
            uint8_t *x = malloc((size_t)nb * kt->bsize), *y = malloc((size_t)nb * LRQ_Q8K_SIZE);
            rand_wblocks(kt, x, nb, &st);
            rand_yblocks(y, nb, &st, wild);
            float r = 0, v = 0;
            dv->ref((int64_t)nb * LRQ_QK_K, &r, x, y);
            f((int64_t)nb * LRQ_QK_K, &v, x, y);
            double mag = 0;
            if (!wild) dot_double(kt, x, y, nb, &mag);
            uint32_t rb, vb;
            memcpy(&rb, &r, 4);
            memcpy(&vb, &v, 4);
            CHECKF(rb == vb, "%s %s nb=%d rep=%d: %.9g vs ref %.9g (not bit-identical)", dv->name, isa, nb, rep,
                   (double)v, (double)r);
            if (!wild)
                CHECKF(fabs((double)v - r) <= 1e-5 * mag, "%s %s nb=%d: |%.9g - %.9g| > 1e-5 * %.9g", dv->name,
                       isa, nb, (double)v, (double)r, mag);
            free(x);
            free(y);
        }
    }
}

/* SIMD kernels against the scalar reference, bit for bit, on random blocks;
 * `wild` also randomizes the bsums (inconsistent with the codes: then only
 * agreement with the reference is meaningful). */
static void test_dot_simd_vs_ref(void) {
    const int a2 = have_avx2(), a5 = have_avx512(), an = have_neon();
    if (!a2) fprintf(stderr, "    (no AVX2: AVX2 kernels skipped)\n");
    if (!a5) fprintf(stderr, "    (no AVX-512 F/BW/VL/DQ/VNNI: AVX-512 kernels skipped)\n");
    if (!an) fprintf(stderr, "    (not an AArch64 build: NEON kernels skipped)\n");
    for (int v = 0; v < N_DV; v++) {
        for (int wild = 0; wild < 2; wild++) {
            if (a2 && DV[v].avx2) check_isa(&DV[v], DV[v].avx2, "avx2", wild);
            if (a5 && DV[v].avx512) check_isa(&DV[v], DV[v].avx512, "avx512", wild);
            if (an && DV[v].neon) check_isa(&DV[v], DV[v].neon, "neon", wild);
        }
    }
}

/* The references against a double-precision dot of the dequantized rows: the
 * only differences are float roundings (one per product d*sum, per fma and per
 * dequantized value), bounded by (nb + 16) * 2^-23 of the magnitude. */
static void test_dot_ref_vs_double(void) {
    uint64_t st = 4242;
    for (int v = 0; v < N_DV; v++) {
        const ktype *kt = &KT[DV[v].k];
        double worst = 0;
        for (size_t li = 0; li < sizeof NBS / sizeof NBS[0]; li++) {
            const int nb = NBS[li];
            for (int rep = 0; rep < 8; rep++) {
                uint8_t *x = malloc((size_t)nb * kt->bsize), *y = malloc((size_t)nb * LRQ_Q8K_SIZE);
                rand_wblocks(kt, x, nb, &st);
                rand_yblocks(y, nb, &st, 0);
                float r = 0;
                DV[v].ref((int64_t)nb * LRQ_QK_K, &r, x, y);
                double mag;
                const double want = dot_double(kt, x, y, nb, &mag);
                const double err = fabs((double)r - want) / (mag > 0 ? mag : 1);
                if (err > worst) worst = err;
                CHECKF(fabs((double)r - want) <= (nb + 16) * 0x1p-23 * mag, "%s nb=%d: ref %.9g vs double %.9g (mag %.9g)",
                       DV[v].name, nb, (double)r, want, mag);
                free(x);
                free(y);
            }
        }
        fprintf(stderr, "    %s: worst |ref - double| / mag = %.3g\n", DV[v].name, worst);
    }
}

/* The float orders differ only in rounding: on the same data, gemm/vecdot
 * results are within a few ulp-scale errors of the default order, and they
 * really are different orders (not all results identical). */
static void test_dot_orders_differ(void) {
    uint64_t st = 31337;
    int ndiff = 0, total = 0;
    for (int v = 5; v < N_DV; v++) {
        const ktype *kt = &KT[DV[v].k];
        const dot_fn base = DV[DV[v].k].ref;
        for (int rep = 0; rep < 64; rep++) {
            const int nb = 1 + rep % 9;
            uint8_t *x = malloc((size_t)nb * kt->bsize), *y = malloc((size_t)nb * LRQ_Q8K_SIZE);
            rand_wblocks(kt, x, nb, &st);
            rand_yblocks(y, nb, &st, 0);
            float a = 0, b = 0;
            base((int64_t)nb * LRQ_QK_K, &a, x, y);
            DV[v].ref((int64_t)nb * LRQ_QK_K, &b, x, y);
            double mag;
            dot_double(kt, x, y, nb, &mag);
            CHECKF(fabs((double)a - b) <= 2 * (nb + 16) * 0x1p-23 * mag, "%s: %.9g vs %.9g", DV[v].name, (double)b,
                   (double)a);
            ndiff += memcmp(&a, &b, 4) != 0;
            total++;
            free(x);
            free(y);
        }
    }
    fprintf(stderr, "    %d of %d results differ in some bit between orders\n", ndiff, total);
    CHECK(ndiff > total / 10);
}

/* Real rows: real quantized weights (every k-quant tensor of the zoo files,
 * first 8 rows) against real-looking activations — the kernels agree bit for
 * bit, and the dot is close to the double one of the dequantized rows. */
static void test_dot_real_rows(void) {
    uint64_t st = 99;
    int tested = 0;
    for (size_t fi = 0; fi < sizeof ZOO_FILES / sizeof ZOO_FILES[0]; fi++) {
        tg_file q;
        if (tg_open(&q, zoo(ZOO_FILES[fi]), lrq_row_size) != 0) {
            CHECKF(0, "cannot read %s", ZOO_FILES[fi]);
            continue;
        }
        for (int i = 0; i < q.n; i++) {
            const tg_tensor *t = &q.t[i];
            const int k = ktype_index(t->type);
            if (k < 0 || !t->data) continue;
            const ktype *kt = &KT[k];
            const int64_t n = t->ne[0];
            float *act = malloc((size_t)n * sizeof *act);
            for (int64_t j = 0; j < n; j++) act[j] = test_rand_normal(&st);
            uint8_t *y = malloc((size_t)(n / LRQ_QK_K) * LRQ_Q8K_SIZE);
            lrq_act_q8_K(act, y, n);
            for (int64_t r = 0; r < t->ne[1] && r < 8; r++) {
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
                if (have_neon()) {
                    kt->neon(n, &v, x, y);
                    CHECKF(memcmp(&v, &ref, 4) == 0, "%s %s row %lld neon", kt->name, t->name, (long long)r);
                }
                double mag;
                const double want = dot_double(kt, x, y, (int)(n / LRQ_QK_K), &mag);
                CHECKF(fabs(ref - want) <= 1e-5 * mag, "%s %s row %lld: %.9g vs %.9g", kt->name, t->name, (long long)r,
                       (double)ref, want);
            }
            free(act);
            free(y);
            tested++;
        }
        tg_close(&q);
    }
    CHECK(tested > 100);
}

/* llama.cpp's own numbers. These float bits were produced by llama.cpp
 * v0.5.0's CPU backend built natively with AVX-512 (the golden build's
 * configuration; ggml_mul_mat through ggml_backend_graph_compute, 2 threads)
 * for W = the first 8 rows of the named zoo tensor and X = 5 activation rows
 * x[m][i] = ((i*2654435761 + m*40503) mod 2001 - 1000) / 512 (exact floats).
 * Y[m][r] = dot(W row r, X row m), stored m-major. "repacked": W in
 * llama.cpp's CPU_REPACK buffer (its default for these types), where rows
 * 0-3 of X go through the batched gemm and row 4 through gemv; "plain": W in
 * an ordinary buffer (ggml_vec_dot_*). They check lrq_act_q8_K and the dot
 * kernels together, bit for bit. */
static const struct {
    const char *file, *tensor;
    int k;          /* index into KT */
    int repacked;
} GOLD_CFG[7] = {
    {"ts-qwen3-5M-Q2_K.gguf", "blk.0.ffn_up.weight", 0, 1},
    {"ts-qwen3-5M-Q2_K.gguf", "blk.0.ffn_up.weight", 0, 0},
    {"ts-qwen3-5M-Q3_K_M.gguf", "blk.0.ffn_gate.weight", 1, 0},
    {"ts-qwen3-5M-Q4_K_M.gguf", "blk.0.ffn_down.weight", 2, 1},
    {"ts-qwen3-5M-Q4_K_M.gguf", "blk.0.ffn_down.weight", 2, 0},
    {"ts-qwen3-5M-Q5_K_M.gguf", "blk.0.ffn_down.weight", 3, 0},
    {"ts-qwen3-5M-Q6_K.gguf", "blk.0.ffn_down.weight", 4, 0},
};
static const uint32_t GOLD_Y[7][40] = {
    /* ts-qwen3-5M-Q2_K.gguf blk.0.ffn_up.weight q2_K (repacked) */
    {0x3e4981b6, 0xbf27c3cd, 0xbf7dd4be, 0x3f354b04, 0xbcc0aad4, 0xbe716442, 0xbed615a4, 0x3e409e73,
     0xbecf08a2, 0xbe12c26c, 0xbd6f8bb7, 0x3f2db528, 0xbf3ce562, 0x3f160401, 0xbd3726d8, 0xbeb586ce,
     0x3ee1f53c, 0x3ea077ca, 0x3f3b6456, 0xbe2e23ac, 0x3e810b65, 0x3f3b1a67, 0x3e569ba5, 0x3ea0a615,
     0x3da3c2d0, 0x3ca05318, 0xbe00b436, 0xbf4e4484, 0x3f2d1f20, 0xbf8b576b, 0x3e90a80b, 0x3f3b8cd8,
     0x3e51e513, 0xbf15e738, 0xbf5cdb4e, 0x3ed065ce, 0x3ea30de7, 0xbebb706c, 0xbd9a3f03, 0x3e8a9606},
    /* ts-qwen3-5M-Q2_K.gguf blk.0.ffn_up.weight q2_K (plain) */
    {0x3e4981b6, 0xbf27c3cd, 0xbf7dd4be, 0x3f354b04, 0xbcc0aadc, 0xbe716440, 0xbed615a0, 0x3e409e73,
     0xbecf08a3, 0xbe12c270, 0xbd6f8ba8, 0x3f2db528, 0xbf3ce562, 0x3f160400, 0xbd3726f0, 0xbeb586ce,
     0x3ee1f53e, 0x3ea077ca, 0x3f3b6454, 0xbe2e23aa, 0x3e810b64, 0x3f3b1a67, 0x3e569ba4, 0x3ea0a617,
     0x3da3c2d0, 0x3ca05300, 0xbe00b438, 0xbf4e4484, 0x3f2d1f20, 0xbf8b576c, 0x3e90a80a, 0x3f3b8cd8,
     0x3e51e513, 0xbf15e738, 0xbf5cdb50, 0x3ed065ce, 0x3ea30de7, 0xbebb706c, 0xbd9a3f04, 0x3e8a9607},
    /* ts-qwen3-5M-Q3_K_M.gguf blk.0.ffn_gate.weight q3_K (plain) */
    {0x3dc44908, 0xbf4d6760, 0x3ccc1034, 0x3e129660, 0x3ee629e6, 0x3f34bc8b, 0xbd14a288, 0x3f830022,
     0x3d063b54, 0x3dc0977c, 0x3e6e3232, 0x3dad73b8, 0xbeef5d60, 0x3c08a4a0, 0x3c8602a0, 0xbf167148,
     0xbf627dc7, 0x3f03edb5, 0xbbfb5020, 0xbdf117a3, 0xbf4f4bb3, 0xbea788a4, 0x3e06dfd6, 0xbf25ccb0,
     0x3e090f72, 0xbd906338, 0xbe4c0b16, 0xbe62109e, 0x3ed1c486, 0x3c7e8a20, 0xbed28f7e, 0x3ee9780c,
     0x3ef9711c, 0xbf6f43d8, 0xbd4d1090, 0x3d51d479, 0x3f10bc86, 0x3f06c4e0, 0x3ceea548, 0x3f1119bf},
    /* ts-qwen3-5M-Q4_K_M.gguf blk.0.ffn_down.weight q4_K (repacked) */
    {0x3dd6d7f4, 0xbf59af9a, 0x3e2a0390, 0xbe735e02, 0x3ec9779f, 0xbd2f40aa, 0xbee7cd52, 0xbd55823c,
     0x3e97743f, 0x3ca3ee60, 0xbe8483fc, 0x3f24cbba, 0xbeacf02e, 0xbe68beca, 0x3dd50ad4, 0xbe6254c8,
     0x3cdfcd40, 0x3f11033d, 0xbe6382e3, 0x3e396ec8, 0xbe6f29af, 0xbf04edd2, 0x3e590662, 0x3e959b10,
     0xbe1e57ba, 0x3f5a7b9e, 0x3e9a0737, 0xbf93a03b, 0xbe37f586, 0x3f0b2e34, 0x3f043f0b, 0xbe8c16c9,
     0x3e0f6d2e, 0xbf8bc881, 0xbe8c0b4b, 0xbe239746, 0x3ef9cb36, 0x3d9c887c, 0xbf41a37c, 0xbf0e7d42},
    /* ts-qwen3-5M-Q4_K_M.gguf blk.0.ffn_down.weight q4_K (plain) */
    {0x3dd6d7e8, 0xbf59af9a, 0x3e2a0394, 0xbe735e08, 0x3ec977a0, 0xbd2f40b0, 0xbee7cd54, 0xbd558264,
     0x3e977441, 0x3ca3ee70, 0xbe8483fb, 0x3f24cbba, 0xbeacf02d, 0xbe68becc, 0x3dd50ad0, 0xbe6254c5,
     0x3cdfcd40, 0x3f11033c, 0xbe6382e3, 0x3e396ec6, 0xbe6f29b0, 0xbf04edd1, 0x3e590662, 0x3e959b10,
     0xbe1e57ba, 0x3f5a7b9e, 0x3e9a0738, 0xbf93a03b, 0xbe37f57c, 0x3f0b2e34, 0x3f043f0d, 0xbe8c16c9,
     0x3e0f6d28, 0xbf8bc882, 0xbe8c0b4b, 0xbe239749, 0x3ef9cb36, 0x3d9c8880, 0xbf41a37c, 0xbf0e7d42},
    /* ts-qwen3-5M-Q5_K_M.gguf blk.0.ffn_down.weight q5_K (plain) */
    {0x3dacfc58, 0xbf547da2, 0x3de7ff5c, 0xbe86d11b, 0x3eb9fe9c, 0xbce51d8c, 0xbeebd712, 0x3cd7a0d0,
     0x3ea7d86c, 0x3da893c4, 0xbe5cf3b7, 0x3f2b7edf, 0xbea5e291, 0xbe704629, 0x3db1c07a, 0xbe799324,
     0xbb7c0700, 0x3f0ae34c, 0xbe8544c4, 0x3e5d4784, 0xbe668be2, 0xbf088a44, 0x3e8b132a, 0x3e54dfa6,
     0xbe158062, 0x3f49ec63, 0x3e96ef2a, 0xbf99c48e, 0xbe4e58c4, 0x3f152dd1, 0x3f0095ea, 0xbe7c7930,
     0x3e0c6c7e, 0xbf8bc2e6, 0xbeb394b2, 0xbe5b3505, 0x3eff99a4, 0x3e17d9ce, 0xbf4715b6, 0xbf0034b8},
    /* ts-qwen3-5M-Q6_K.gguf blk.0.ffn_down.weight q6_K (plain) */
    {0x3db9d3ec, 0xbf54e6df, 0x3e08da50, 0xbe85c8a1, 0x3eca0583, 0xbd4d002c, 0xbeeb1964, 0x3c6d39a0,
     0x3e976169, 0x3d6819a0, 0xbe7297a0, 0x3f256465, 0xbea44172, 0xbe6de810, 0x3d9ea270, 0xbe7199b4,
     0x3d13d350, 0x3f0c46fc, 0xbe88dac2, 0x3e55825c, 0xbe7fadbc, 0xbf09b664, 0x3e85e616, 0x3e62abb3,
     0xbe29466c, 0x3f518fc9, 0x3e90cf18, 0xbf99fc16, 0xbe4a2a5c, 0x3f122cb2, 0x3f04369a, 0xbe8ad570,
     0x3e0da0e8, 0xbf89570c, 0xbea634d9, 0xbe5756e4, 0x3f054c7a, 0x3dfa35a8, 0xbf46785c, 0xbf030cf0},
};

static float gold_act(int m, int i) {
    return (float)((int)((uint32_t)((uint32_t)i * 2654435761u + (uint32_t)m * 40503u) % 2001u) - 1000) / 512.0f;
}

static void test_dot_llama_golden(void) {
    const int a2 = have_avx2(), a5 = have_avx512(), an = have_neon();
    for (int c = 0; c < 7; c++) {
        tg_file q;
        if (tg_open(&q, zoo(GOLD_CFG[c].file), lrq_row_size) != 0) {
            CHECKF(0, "cannot read %s", GOLD_CFG[c].file);
            continue;
        }
        const tg_tensor *t = tg_find(&q, GOLD_CFG[c].tensor);
        const ktype *kt = &KT[GOLD_CFG[c].k];
        CHECKF(t && t->type == kt->type && t->data, "%s %s: missing or not %s", GOLD_CFG[c].file, GOLD_CFG[c].tensor,
               kt->name);
        if (!t || t->type != kt->type || !t->data) {
            tg_close(&q);
            continue;
        }
        const int64_t K = t->ne[0];
        const size_t rs = (size_t)(K / LRQ_QK_K) * kt->bsize;
        float *xa = malloc((size_t)K * sizeof *xa);
        uint8_t *y = malloc((size_t)(K / LRQ_QK_K) * LRQ_Q8K_SIZE);
        int nbad = 0;
        for (int m = 0; m < 5; m++) {
            for (int64_t i = 0; i < K; i++) xa[i] = gold_act(m, (int)i);
            lrq_act_q8_K(xa, y, K);
            /* which float order llama.cpp used for this (matrix, row) */
            const dvariant *dv = &DV[GOLD_CFG[c].k];
            if (GOLD_CFG[c].repacked && m < 4) dv = &DV[GOLD_CFG[c].k == 0 ? 5 : 6];
            if (!GOLD_CFG[c].repacked && GOLD_CFG[c].k == 0) dv = &DV[7];
            if (!GOLD_CFG[c].repacked && GOLD_CFG[c].k == 2) dv = &DV[8];
            for (int r = 0; r < 8; r++) {
                const uint8_t *x = t->data + (size_t)r * rs;
                dot_fn fs[4] = {dv->ref, a2 ? dv->avx2 : NULL, a5 ? dv->avx512 : NULL, an ? dv->neon : NULL};
                for (int f = 0; f < 4; f++) {
                    if (!fs[f]) continue;
                    float v;
                    uint32_t vb;
                    fs[f](K, &v, x, y);
                    memcpy(&vb, &v, 4);
                    if (vb != GOLD_Y[c][8 * m + r] && nbad++ < 3)
                        CHECKF(0, "%s %s (%s) x-row %d w-row %d isa %d: 0x%08x, llama.cpp 0x%08x", GOLD_CFG[c].file,
                               GOLD_CFG[c].tensor, dv->name, m, r, f, vb, GOLD_Y[c][8 * m + r]);
                }
            }
        }
        CHECKF(nbad == 0, "%s %s: %d results differ from llama.cpp", GOLD_CFG[c].file, GOLD_CFG[c].tensor, nbad);
        free(xa);
        free(y);
        tg_close(&q);
    }
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
    lrq_types_init(); /* register the kernels into the type table */
    TEST_RUN(test_act_q8_K);
    TEST_RUN(test_dequant_real);
    TEST_RUN(test_quant_ref_real);
    TEST_RUN(test_quant_ref_edges);
    TEST_RUN(test_dot_simd_vs_ref);
    TEST_RUN(test_dot_ref_vs_double);
    TEST_RUN(test_dot_orders_differ);
    TEST_RUN(test_dot_real_rows);
    TEST_RUN(test_dot_llama_golden);
    TEST_RUN(test_dispatch);
    return test_finish();
}
