/* test_iq.c — the i-quant types IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S and
 * IQ4_XS (weights; activations Q8_K):
 *  - the grid and sign tables have the structure ggml's formats define
 *    (value sets, sign parity; the values themselves were compared one by one
 *    with llama.cpp v0.5.0's ggml-common.h when they were carried over);
 *  - dequantization equals, bit for bit, an independent element-by-element
 *    statement of llama.cpp's dequantize_row_<type> written here from the
 *    ggml block structs (its own byte offsets, not fmt/iquant.h's);
 *  - real llama.cpp tensors (the zoo's IQ2_XS / IQ2_XXS files) dequantize
 *    close to the F32 source (a check of the layout against llama.cpp's
 *    writer);
 *  - every SIMD dot kernel equals the scalar reference bit for bit on random
 *    blocks (every bit pattern is a valid block: all grid indices are in
 *    range), activation codes -128..127, 1..64 blocks, and on real rows;
 *  - the reference equals a double dot of the dequantized rows (Q8_K codes
 *    -127..127, which is all the quantizer makes) within float rounding, and
 *    llama.cpp's generic float order (lrq_dot_*_generic) stays within the
 *    same bound of it;
 *  - the traits rows: the types are supported, partner Q8_K, kernels
 *    registered.
 * The golden perplexities of the zoo's IQ2_XS/IQ2_XXS files are checked by
 * test_golden_ppl (rows of quality.tsv). */
#include "testlib.h"
#include "gguf_testutil.h"

#include "core/core.h"
#include "fmt/types.h"
#include "fmt/impl.h"
#include "fmt/kquant.h"
#include "fmt/blocks.h"
#include "fmt/iq_grids.h"
#include "kern/dots.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(LRQ_HAVE_X86)
#include <cpuid.h>
#endif

typedef void (*dot_fn)(int64_t, float *, const void *, const void *);
typedef void (*deq_fn)(const void *, float *, int64_t);

#if defined(LRQ_HAVE_X86)
#define ISA(f) f
#else
#define ISA(f) NULL
#endif

typedef struct {
    const char *name;
    int type;
    size_t bsize; /* ggml's sizeof(block_<type>) */
    deq_fn deq;
    dot_fn ref, avx2, avx512, generic;
} iqtype;

enum { N_IQ = 6 };
static const iqtype IQ[N_IQ] = {
    {"iq2_xxs", LRQ_TYPE_IQ2_XXS, 66, lrq_dequant_iq2_xxs, lrq_dot_iq2_xxs_ref, ISA(lrq_dot_iq2_xxs_avx2),
     ISA(lrq_dot_iq2_xxs_avx512), lrq_dot_iq2_xxs_generic},
    {"iq2_xs", LRQ_TYPE_IQ2_XS, 74, lrq_dequant_iq2_xs, lrq_dot_iq2_xs_ref, ISA(lrq_dot_iq2_xs_avx2),
     ISA(lrq_dot_iq2_xs_avx512), lrq_dot_iq2_xs_generic},
    {"iq2_s", LRQ_TYPE_IQ2_S, 82, lrq_dequant_iq2_s, lrq_dot_iq2_s_ref, ISA(lrq_dot_iq2_s_avx2),
     ISA(lrq_dot_iq2_s_avx512), lrq_dot_iq2_s_generic},
    {"iq3_xxs", LRQ_TYPE_IQ3_XXS, 98, lrq_dequant_iq3_xxs, lrq_dot_iq3_xxs_ref, ISA(lrq_dot_iq3_xxs_avx2),
     ISA(lrq_dot_iq3_xxs_avx512), lrq_dot_iq3_xxs_generic},
    {"iq3_s", LRQ_TYPE_IQ3_S, 110, lrq_dequant_iq3_s, lrq_dot_iq3_s_ref, ISA(lrq_dot_iq3_s_avx2),
     ISA(lrq_dot_iq3_s_avx512), lrq_dot_iq3_s_generic},
    {"iq4_xs", LRQ_TYPE_IQ4_XS, 136, lrq_dequant_iq4_xs, lrq_dot_iq4_xs_ref, ISA(lrq_dot_iq4_xs_avx2),
     ISA(lrq_dot_iq4_xs_avx512), lrq_dot_iq4_xs_generic},
};

static int have_avx2(void) {
#if defined(LRQ_HAVE_X86)
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

static unsigned u16at(const uint8_t *p) { return (unsigned)p[0] | (unsigned)p[1] << 8; }
static uint32_t u32at(const uint8_t *p) { return (uint32_t)u16at(p) | (uint32_t)u16at(p + 2) << 16; }
static int popcount8(unsigned v) { int c = 0; for (; v; v >>= 1) c += v & 1; return c; }

/* ------------------------------------------------------------- tables -- */

static int bytes_in(uint64_t v, int nbytes, const int *set, int nset) {
    for (int j = 0; j < nbytes; j++) {
        const int b = (int)((v >> (8 * j)) & 0xff);
        int ok = 0;
        for (int k = 0; k < nset; k++) ok |= b == set[k];
        if (!ok) return 0;
    }
    return 1;
}

static int all_distinct64(const uint64_t *g, int n) {
    for (int i = 0; i < n; i++)
        for (int k = i + 1; k < n; k++)
            if (g[i] == g[k]) return 0;
    return 1;
}

/* What the formats define: kmask[j] = 1 << j; ksigns[s] = s with bit 7 set
 * when s has an odd number of bits (an even count of minus signs); the
 * 8-wide IQ2 grids hold bytes {8, 25, 43}, IQ3_XXS {4, 12, 20, ..., 52, 62}, IQ3_S
 * {1, 3, ..., 15}; no grid repeats a point (a duplicated or shifted row in
 * a transcription would). IQ4_NL's table: 16 increasing values from -127. */
static void test_tables(void) {
    for (int j = 0; j < 8; j++) CHECK(lrq_iq_kmask[j] == 1u << j);
    for (int s = 0; s < 128; s++) {
        const unsigned want = (unsigned)s | (popcount8((unsigned)s) & 1 ? 0x80u : 0u);
        CHECKF(lrq_iq_ksigns[s] == want, "ksigns[%d] = %u, want %u", s, lrq_iq_ksigns[s], want);
    }
    static const int set2[3] = {8, 25, 43};
    int set3x[8], set3s[8];
    for (int k = 0; k < 8; k++) set3x[k] = 4 + 8 * k, set3s[k] = 1 + 2 * k;
    set3x[7] = 62; /* not 60: ggml's IQ3_XXS magnitudes end with 62 */
    int bad = 0;
    for (int i = 0; i < 256; i++) bad += !bytes_in(lrq_iq2xxs_grid[i], 8, set2, 3);
    for (int i = 0; i < 512; i++) bad += !bytes_in(lrq_iq2xs_grid[i], 8, set2, 3);
    for (int i = 0; i < 1024; i++) bad += !bytes_in(lrq_iq2s_grid[i], 8, set2, 3);
    for (int i = 0; i < 256; i++) bad += !bytes_in(lrq_iq3xxs_grid[i], 4, set3x, 8);
    for (int i = 0; i < 512; i++) bad += !bytes_in(lrq_iq3s_grid[i], 4, set3s, 8);
    CHECKF(bad == 0, "%d grid points with bytes outside their format's magnitudes", bad);
    CHECK(all_distinct64(lrq_iq2xxs_grid, 256));
    CHECK(all_distinct64(lrq_iq2xs_grid, 512));
    CHECK(all_distinct64(lrq_iq2s_grid, 1024));
    uint64_t g3[512];
    for (int i = 0; i < 256; i++) g3[i] = lrq_iq3xxs_grid[i];
    CHECK(all_distinct64(g3, 256));
    for (int i = 0; i < 512; i++) g3[i] = lrq_iq3s_grid[i];
    CHECK(all_distinct64(g3, 512));
    CHECK(lrq_iq4nl_grid[0] == -127);
    for (int i = 1; i < 16; i++) CHECK(lrq_iq4nl_grid[i] > lrq_iq4nl_grid[i - 1]);
}

/* -------------------------------------------------------- dequantize -- */

/* Element e (0..255) of one block, as llama.cpp's dequantize_row_<type>
 * computes it, restated per element from ggml's block structs:
 *  block_iq2_xxs { half d; uint16 qs[32]; }                    66 bytes
 *  block_iq2_xs  { half d; uint16 qs[32]; uint8 scales[8]; }   74
 *  block_iq2_s   { half d; uint8 qs[64]; uint8 qh[8]; uint8 scales[8]; }  82
 *                (qs[0..31] grid index bytes, qs[32..63] signs)
 *  block_iq3_xxs { half d; uint8 qs[96]; }  (qs[64..95]: 8 u32 scales+signs)  98
 *  block_iq3_s   { half d; uint8 qs[64]; uint8 qh[8]; uint8 signs[32]; uint8 scales[4]; }  110
 *  block_iq4_xs  { half d; uint16 scales_h; uint8 scales_l[4]; uint8 qs[128]; }  136
 * The float expressions are llama.cpp's: db * grid * (±1.f), db built as in
 * its code. */
static float expect_elem(int type, const uint8_t *b, int e) {
    const float d = lrq_f16_to_f32((uint16_t)u16at(b));
    const int ib = e / 32, r = e % 32, l = r / 8, j = r % 8;
    float db = 0.0f;
    unsigned mag = 0, signs = 0;
    switch (type) {
    case LRQ_TYPE_IQ2_XXS: {
        const uint8_t *q = b + 2 + 8 * ib;
        const uint32_t aux = u32at(q + 4);
        db = d * (0.5f + (float)(aux >> 28)) * 0.25f;
        mag = (unsigned)(lrq_iq2xxs_grid[q[l]] >> (8 * j)) & 0xff;
        signs = lrq_iq_ksigns[(aux >> (7 * l)) & 127];
        break;
    }
    case LRQ_TYPE_IQ2_XS: {
        const unsigned q = u16at(b + 2 + 2 * (4 * ib + l));
        const unsigned sc = b[66 + ib];
        db = d * (0.5f + (float)(l < 2 ? sc & 0xf : sc >> 4)) * 0.25f;
        mag = (unsigned)(lrq_iq2xs_grid[q & 511] >> (8 * j)) & 0xff;
        signs = lrq_iq_ksigns[q >> 9];
        break;
    }
    case LRQ_TYPE_IQ2_S: {
        const unsigned sc = b[74 + ib];
        const unsigned idx = b[2 + 4 * ib + l] | ((unsigned)(b[66 + ib] << (8 - 2 * l)) & 0x300);
        db = d * (0.5f + (float)(l < 2 ? sc & 0xf : sc >> 4)) * 0.25f;
        mag = (unsigned)(lrq_iq2s_grid[idx] >> (8 * j)) & 0xff;
        signs = b[2 + 32 + 4 * ib + l];
        break;
    }
    case LRQ_TYPE_IQ3_XXS: {
        const uint32_t aux = u32at(b + 2 + 64 + 4 * ib);
        db = d * (0.5f + (float)(aux >> 28)) * 0.5f;
        mag = (lrq_iq3xxs_grid[b[2 + 8 * ib + 2 * l + j / 4]] >> (8 * (j % 4))) & 0xff;
        signs = lrq_iq_ksigns[(aux >> (7 * l)) & 127];
        break;
    }
    case LRQ_TYPE_IQ3_S: {
        const int k = 2 * l + j / 4; /* 4-wide point k of the sub-block */
        const unsigned idx = b[2 + 8 * ib + k] | ((unsigned)(b[66 + ib] << (8 - k)) & 256);
        const int ls = (b[106 + ib / 2] >> (4 * (ib % 2))) & 0xf;
        db = d * (float)(1 + 2 * ls);
        mag = (lrq_iq3s_grid[idx] >> (8 * (j % 4))) & 0xff;
        signs = b[74 + 4 * ib + l];
        break;
    }
    default: { /* IQ4_XS */
        const int ls = ((b[4 + ib / 2] >> (4 * (ib % 2))) & 0xf) | (int)(((u16at(b + 2) >> (2 * ib)) & 3) << 4);
        const float dl = d * (float)(ls - 32);
        const uint8_t q = b[8 + 16 * ib + r % 16];
        return dl * (float)lrq_iq4nl_grid[r < 16 ? q & 0xf : q >> 4];
    }
    }
    return db * (float)mag * ((signs >> j) & 1 ? -1.f : 1.f);
}

static uint16_t rand_f16_finite(uint64_t *st) {
    for (;;) {
        const uint16_t h = (uint16_t)test_rand_u64(st);
        if (((h >> 10) & 0x1f) != 0x1f) return h;
    }
}

/* Random blocks: every byte random (all patterns are valid), finite fp16 d. */
static void rand_wblocks(const iqtype *t, uint8_t *x, int nb, uint64_t *st) {
    for (size_t i = 0; i < (size_t)nb * t->bsize; i++) x[i] = (uint8_t)test_rand_u64(st);
    for (int b = 0; b < nb; b++) {
        const uint16_t h = rand_f16_finite(st);
        x[(size_t)b * t->bsize] = (uint8_t)h;
        x[(size_t)b * t->bsize + 1] = (uint8_t)(h >> 8);
    }
}

static void test_dequant_spec(void) {
    uint64_t st = 5150;
    enum { NB = 5 };
    for (int k = 0; k < N_IQ; k++) {
        const iqtype *t = &IQ[k];
        CHECKF(lrq_type_get(t->type)->type_size == t->bsize, "%s: type_size %zu, ggml's block is %zu", t->name,
               lrq_type_get(t->type)->type_size, t->bsize);
        uint8_t *x = malloc(NB * t->bsize);
        float y[NB * LRQ_QK_K];
        int bad = 0;
        for (int rep = 0; rep < 200; rep++) {
            rand_wblocks(t, x, NB, &st);
            t->deq(x, y, NB * LRQ_QK_K);
            for (int b = 0; b < NB; b++)
                for (int e = 0; e < LRQ_QK_K; e++) {
                    const float want = expect_elem(t->type, x + (size_t)b * t->bsize, e);
                    if (memcmp(&want, &y[b * LRQ_QK_K + e], 4) != 0 && bad++ < 3)
                        CHECKF(0, "%s rep %d block %d value %d: %.9g, want %.9g", t->name, rep, b, e,
                               (double)y[b * LRQ_QK_K + e], (double)want);
                }
        }
        CHECKF(bad == 0, "%s: %d values differ from llama.cpp's dequantization", t->name, bad);
        free(x);
    }
}

/* --------------------------------------------------- real llama.cpp files -- */

static const char *zoo(const char *file) {
    static char buf[512];
    snprintf(buf, sizeof buf, "%s", test_shared("golden/zoo/ts-qwen3-5M/"));
    strncat(buf, file, sizeof buf - strlen(buf) - 1);
    return buf;
}

/* The zoo files with i-quant tensors kept in ../shared/golden (IQ2_XXS and
 * IQ2_XS; the other types have no golden file). */
static const char *const ZOO_FILES[] = {"ts-qwen3-5M-IQ2_XXS-imat.gguf", "ts-qwen3-5M-IQ2_XS-imat.gguf"};

static int iq_index(int type) {
    for (int k = 0; k < N_IQ; k++)
        if (IQ[k].type == type) return k;
    return -1;
}

/* Every i-quant tensor of those files, dequantized, against the F32 source:
 * ||deq - f32|| / ||f32|| per tensor. Measured worst cases (llama.cpp v0.5.0
 * files, made with the zoo imatrix): IQ2_XXS 0.357, IQ2_XS 0.314 — 2-bit
 * lattice codes are coarse; the bounds sit ~15% above. A decoding slip (a
 * wrong index bit, sign or scale) gives order-1 errors or more (random signs
 * alone: ~1.4). Not suspiciously small either (> 0.5 of the bound). */
static void test_dequant_real(void) {
    static const double bound[N_IQ] = {0.41, 0.36, 0, 0, 0, 0};
    tg_file src;
    const char *sp = test_shared("models/zoo/ts-qwen3-5M-f32.gguf");
    CHECKF(tg_open(&src, sp, lrq_row_size) == 0, "cannot read %s", sp);
    if (!src.n) return;
    int count[N_IQ] = {0};
    double worst[N_IQ] = {0};
    for (size_t fi = 0; fi < sizeof ZOO_FILES / sizeof ZOO_FILES[0]; fi++) {
        tg_file q;
        if (tg_open(&q, zoo(ZOO_FILES[fi]), lrq_row_size) != 0) {
            CHECKF(0, "cannot read %s", zoo(ZOO_FILES[fi]));
            continue;
        }
        for (int i = 0; i < q.n; i++) {
            const tg_tensor *t = &q.t[i];
            const int k = iq_index(t->type);
            if (k < 0) continue;
            const tg_tensor *f = tg_find(&src, t->name);
            CHECKF(f && f->type == LRQ_TYPE_F32 && f->n == t->n && t->data, "%s: no F32 twin", t->name);
            if (!f || f->type != LRQ_TYPE_F32 || f->n != t->n || !t->data) continue;
            float *deq = malloc((size_t)t->n * sizeof *deq);
            IQ[k].deq(t->data, deq, t->n);
            double e2 = 0, f2 = 0;
            for (int64_t j = 0; j < t->n; j++) {
                float fv;
                memcpy(&fv, f->data + 4 * j, 4);
                const double dd = (double)deq[j] - fv;
                e2 += dd * dd;
                f2 += (double)fv * fv;
            }
            const double rel = sqrt(e2 / f2);
            if (rel > worst[k]) worst[k] = rel;
            CHECKF(rel < bound[k] && rel > 0.5 * bound[k], "%s %s: rel rms error %.4f (bound %.2f)", ZOO_FILES[fi],
                   t->name, rel, bound[k]);
            free(deq);
            count[k]++;
        }
        tg_close(&q);
    }
    for (int k = 0; k < 2; k++) {
        fprintf(stderr, "    %s: %d tensors, worst rel rms %.4f\n", IQ[k].name, count[k], worst[k]);
        CHECKF(count[k] >= 30, "%s: only %d tensors of this type found", IQ[k].name, count[k]);
    }
    tg_close(&src);
}

/* ----------------------------------------------------------------- dots -- */

/* Random Q8_K blocks: codes in [lo, 127] (lo = -128 for kernel agreement:
 * kernels must agree on any bytes; -127 for comparisons with dequantized
 * values, see dot_iq_ref.c), sometimes all extreme codes; d of random
 * magnitude and sign; consistent bsums (the i-quant kernels do not read
 * them). */
static void rand_yblocks(uint8_t *y, int nb, uint64_t *st, int lo) {
    for (int b = 0; b < nb; b++) {
        uint8_t *blk = y + (size_t)b * LRQ_Q8K_SIZE;
        const float d = test_rand_f32(st) * powf(2.0f, (float)((int)(test_rand_u64(st) % 20) - 10));
        memcpy(blk + LRQ_Q8K_D, &d, 4);
        const int extreme = (test_rand_u64(st) & 7) == 0;
        for (int i = 0; i < LRQ_QK_K; i++) {
            int v = extreme ? ((test_rand_u64(st) & 1) ? lo : 127) : (int)(test_rand_u64(st) % (unsigned)(128 - lo)) + lo;
            blk[LRQ_Q8K_QS + i] = (uint8_t)(int8_t)v;
        }
        for (int j = 0; j < 16; j++) {
            int16_t s = 0;
            for (int i = 0; i < 16; i++) s = (int16_t)(s + (int8_t)blk[LRQ_Q8K_QS + 16 * j + i]);
            memcpy(blk + LRQ_Q8K_BSUMS + 2 * j, &s, 2);
        }
    }
}

/* Double dot of the dequantized rows and its magnitude sum |x_i| |y_i|. */
static double dot_double(const iqtype *t, const uint8_t *x, const uint8_t *y, int nb, double *mag) {
    const int64_t n = (int64_t)nb * LRQ_QK_K;
    float *xf = malloc((size_t)n * sizeof(float)), *yf = malloc((size_t)n * sizeof(float));
    t->deq(x, xf, n);
    lrq_dequant_q8_K(y, yf, n);
    double s = 0, m = 0;
    for (int64_t i = 0; i < n; i++) {
        s += (double)xf[i] * yf[i];
        m += fabs((double)xf[i]) * fabs((double)yf[i]);
    }
    free(xf);
    free(yf);
    *mag = m;
    return s;
}

static const int NBS[] = {1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 31, 64};

static void check_isa(const iqtype *t, dot_fn f, const char *isa) {
    uint64_t st = 901 + (uint64_t)(t - IQ) * 17;
    int nbits = 0;
    for (size_t li = 0; li < sizeof NBS / sizeof NBS[0]; li++) {
        const int nb = NBS[li];
        for (int rep = 0; rep < 24; rep++) {
            uint8_t *x = malloc((size_t)nb * t->bsize), *y = malloc((size_t)nb * LRQ_Q8K_SIZE);
            rand_wblocks(t, x, nb, &st);
            rand_yblocks(y, nb, &st, -128);
            float r = 0, v = 0;
            t->ref((int64_t)nb * LRQ_QK_K, &r, x, y);
            f((int64_t)nb * LRQ_QK_K, &v, x, y);
            if (memcmp(&r, &v, 4) != 0 && nbits++ < 3)
                CHECKF(0, "%s %s nb=%d rep=%d: %.9g vs ref %.9g (not bit-identical)", t->name, isa, nb, rep, (double)v,
                       (double)r);
            free(x);
            free(y);
        }
    }
    CHECKF(nbits == 0, "%s %s: %d results differ from the reference", t->name, isa, nbits);
}

static void test_dot_simd_vs_ref(void) {
    const int a2 = have_avx2(), a5 = have_avx512();
    if (!a2) fprintf(stderr, "    (no AVX2: AVX2 kernels skipped)\n");
    if (!a5) fprintf(stderr, "    (no AVX-512 F/BW/VL/DQ/VNNI: AVX-512 kernels skipped)\n");
    for (int k = 0; k < N_IQ; k++) {
        if (a2 && IQ[k].avx2) check_isa(&IQ[k], IQ[k].avx2, "avx2");
        if (a5 && IQ[k].avx512) check_isa(&IQ[k], IQ[k].avx512, "avx512");
    }
}

/* The reference and the generic order against the double dot: the only
 * differences are float roundings (d_x * d_y, one per fma or product and
 * add per block or sub-block, the final scale, and one per dequantized
 * value), bounded by (nb + 16) * 2^-23 of the magnitude (IQ4_XS's generic
 * order has 8 terms per block: (8 nb + 16)). */
static void test_dot_vs_double(void) {
    uint64_t st = 4242;
    for (int k = 0; k < N_IQ; k++) {
        const iqtype *t = &IQ[k];
        double worst_r = 0, worst_g = 0;
        int ndiff = 0, total = 0;
        for (size_t li = 0; li < sizeof NBS / sizeof NBS[0]; li++) {
            const int nb = NBS[li];
            for (int rep = 0; rep < 8; rep++) {
                uint8_t *x = malloc((size_t)nb * t->bsize), *y = malloc((size_t)nb * LRQ_Q8K_SIZE);
                rand_wblocks(t, x, nb, &st);
                rand_yblocks(y, nb, &st, -127);
                float r = 0, g = 0;
                t->ref((int64_t)nb * LRQ_QK_K, &r, x, y);
                t->generic((int64_t)nb * LRQ_QK_K, &g, x, y);
                double mag;
                const double want = dot_double(t, x, y, nb, &mag);
                const double m = mag > 0 ? mag : 1;
                worst_r = fmax(worst_r, fabs((double)r - want) / m);
                worst_g = fmax(worst_g, fabs((double)g - want) / m);
                CHECKF(fabs((double)r - want) <= (nb + 16) * 0x1p-23 * mag, "%s nb=%d: ref %.9g vs double %.9g (mag %.9g)",
                       t->name, nb, (double)r, want, mag);
                const int terms = t->type == LRQ_TYPE_IQ4_XS ? 8 * nb : nb;
                CHECKF(fabs((double)g - want) <= (terms + 16) * 0x1p-23 * mag,
                       "%s nb=%d: generic %.9g vs double %.9g (mag %.9g)", t->name, nb, (double)g, want, mag);
                ndiff += memcmp(&r, &g, 4) != 0;
                total++;
                free(x);
                free(y);
            }
        }
        fprintf(stderr, "    %s: worst |ref - double| / mag = %.3g, generic %.3g; %d of %d differ ref/generic\n",
                t->name, worst_r, worst_g, ndiff, total);
        /* they are different float orders: a generic that silently equals the reference would not test anything */
        CHECKF(ndiff > total / 10, "%s: generic and reference agree on %d of %d", t->name, total - ndiff, total);
    }
}

/* Real rows of the zoo files against real-looking activations: the kernels
 * agree bit for bit and the dot is close to the double one. */
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
            const int k = iq_index(t->type);
            if (k < 0 || !t->data) continue;
            const iqtype *it = &IQ[k];
            const int64_t n = t->ne[0];
            float *act = malloc((size_t)n * sizeof *act);
            for (int64_t j = 0; j < n; j++) act[j] = test_rand_normal(&st);
            uint8_t *y = malloc((size_t)(n / LRQ_QK_K) * LRQ_Q8K_SIZE);
            lrq_act_q8_K(act, y, n);
            for (int64_t r = 0; r < t->ne[1] && r < 8; r++) {
                const uint8_t *x = t->data + (size_t)(r * n / LRQ_QK_K) * it->bsize;
                float ref = 0, v = 0;
                it->ref(n, &ref, x, y);
                if (have_avx2() && it->avx2) {
                    it->avx2(n, &v, x, y);
                    CHECKF(memcmp(&v, &ref, 4) == 0, "%s %s row %lld avx2", it->name, t->name, (long long)r);
                }
                if (have_avx512() && it->avx512) {
                    it->avx512(n, &v, x, y);
                    CHECKF(memcmp(&v, &ref, 4) == 0, "%s %s row %lld avx512", it->name, t->name, (long long)r);
                }
                double mag;
                const double want = dot_double(it, x, y, (int)(n / LRQ_QK_K), &mag);
                CHECKF(fabs(ref - want) <= 1e-5 * mag, "%s %s row %lld: %.9g vs %.9g", it->name, t->name,
                       (long long)r, (double)ref, want);
                tested++;
            }
            free(act);
            free(y);
        }
        tg_close(&q);
    }
    fprintf(stderr, "    %d real rows\n", tested);
    CHECK(tested >= 200);
}

/* ---------------------------------------------------------------- traits -- */

/* The rows are complete: lrq can run the types (so `lrq info` says so and
 * models load), activations are rounded to Q8_K, the dispatcher registered
 * the reference and a kernel of the selected level. */
static void test_traits(void) {
    lrq_types_init();
    const char *isa = lrq_types_isa();
    for (int k = 0; k < N_IQ; k++) {
        const lrq_type_traits *t = lrq_type_get(IQ[k].type);
        CHECK(t != NULL);
        if (!t) continue;
        CHECKF(strcmp(t->name, IQ[k].name) == 0, "%s: name %s", IQ[k].name, t->name);
        CHECKF(lrq_type_supported(IQ[k].type), "%s not supported", IQ[k].name);
        CHECK(t->blck_size == LRQ_QK_K && t->vec_dot_type == LRQ_TYPE_Q8_K && t->param_layout == LRQ_PARAMS_IN_BLOCKS);
        CHECK(t->to_float == IQ[k].deq && t->vec_dot_ref == IQ[k].ref);
        const dot_fn want = !strcmp(isa, "avx512") ? IQ[k].avx512 : !strcmp(isa, "avx2") ? IQ[k].avx2 : IQ[k].ref;
        CHECKF(t->vec_dot == want, "%s: level %s registers another kernel", IQ[k].name, isa);
        size_t rs = 0;
        CHECK(lrq_row_size(IQ[k].type, 768, &rs) == 0 && rs == 3 * IQ[k].bsize);
        CHECK(lrq_row_size(IQ[k].type, 100, &rs) != 0);
    }
}

int main(void) {
    TEST_RUN(test_tables);
    TEST_RUN(test_traits);
    TEST_RUN(test_dequant_spec);
    TEST_RUN(test_dequant_real);
    TEST_RUN(test_dot_simd_vs_ref);
    TEST_RUN(test_dot_vs_double);
    TEST_RUN(test_dot_real_rows);
    return test_finish();
}
