/* test_kern_legacy.c — the legacy tensor types (f32 f16 bf16 q4_0 q4_1 q5_0
 * q5_1 q8_0 iq4_nl) and their activation partners (f32 f16 bf16 q8_0 q8_1):
 *  - core.h's fp16/bf16 conversions: exhaustive over all halves, and against
 *    the F16C instructions on every rounding boundary and random floats;
 *  - lrq_quant_ref_* reproduces real llama-quantize output byte for byte
 *    (golden stories260K files vs the F32 model they were made from);
 *  - lrq_dequant_* equals an independent decoder written here from the
 *    format description, and dequant(quant_ref(x)) stays within each type's
 *    error bound;
 *  - lrq_act_q8_0/q8_1 match an intrinsics rendition of llama.cpp's AVX
 *    quantize_row_q8_0/q8_1 byte for byte (ties, zeros, specials), and so
 *    do their AVX-512 forms (kern/act_avx512.c);
 *  - every SIMD dot equals the scalar reference within 1e-5 of the sum of
 *    |terms| (the NEON ones bit for bit: they keep the reference's float
 *    order), and the reference equals a double-precision dot of the
 *    dequantized rows. The SIMD levels are those of the build's
 *    architecture that the CPU has (x86-64: avx2, avx512; AArch64: neon).
 * GGUF files are read with the test locator of gguf_testutil.h (no
 * src/io code), so the test depends only on the code under test. */
#include "fmt/types.h"
#include "testlib.h"
#include "gguf_testutil.h"
#include "core/core.h"
#include "fmt/impl.h"
#include "kern/dots.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(_M_X64)
#define T_X86 1
#include <cpuid.h>
#include <immintrin.h>
#else
#define T_X86 0
#endif

/* ggml type ids (the file format's). */
enum { T_F32 = 0, T_F16 = 1, T_Q4_0 = 2, T_Q4_1 = 3, T_Q5_0 = 6, T_Q5_1 = 7, T_Q8_0 = 8, T_Q8_1 = 9,
       T_IQ4_NL = 20, T_BF16 = 30 };

typedef void (*deq_fn)(const void *, float *, int64_t);
typedef void (*qz_fn)(const float *, void *, int64_t);
typedef void (*dot_fn)(int64_t, float *, const void *, const void *);

typedef struct {
    const char *name;
    int id;          /* ggml type id */
    int blck;        /* values per block */
    int bsize;       /* bytes per block */
    deq_fn deq;
    qz_fn qref;
    qz_fn act;       /* partner (activation) quantizer */
    int partner;     /* partner type id */
    int ybsize;      /* partner bytes per blck values */
    dot_fn ref;
    dot_fn isa[2]; /* per SIMD level of LEVELS below (NULL: none) */
} ttype;

#if T_X86
#define ISA_DOTS(t) {lrq_dot_##t##_avx2, lrq_dot_##t##_avx512}
#elif defined(LRQ_HAVE_NEON)
#define ISA_DOTS(t) {lrq_dot_##t##_neon, NULL}
#else
#define ISA_DOTS(t) {NULL, NULL}
#endif

static const ttype TYPES[] = {
    {"f32", T_F32, 1, 4, lrq_dequant_f32, lrq_quant_ref_f32, lrq_act_f32, T_F32, 4,
     lrq_dot_f32_ref, ISA_DOTS(f32)},
    {"f16", T_F16, 1, 2, lrq_dequant_f16, lrq_quant_ref_f16, lrq_act_f16, T_F16, 2,
     lrq_dot_f16_ref, ISA_DOTS(f16)},
    {"bf16", T_BF16, 1, 2, lrq_dequant_bf16, lrq_quant_ref_bf16, lrq_act_bf16, T_BF16, 2,
     lrq_dot_bf16_ref, ISA_DOTS(bf16)},
    {"q4_0", T_Q4_0, 32, 18, lrq_dequant_q4_0, lrq_quant_ref_q4_0, lrq_act_q8_0, T_Q8_0, 34,
     lrq_dot_q4_0_ref, ISA_DOTS(q4_0)},
    {"q4_1", T_Q4_1, 32, 20, lrq_dequant_q4_1, lrq_quant_ref_q4_1, lrq_act_q8_1, T_Q8_1, 36,
     lrq_dot_q4_1_ref, ISA_DOTS(q4_1)},
    {"q5_0", T_Q5_0, 32, 22, lrq_dequant_q5_0, lrq_quant_ref_q5_0, lrq_act_q8_0, T_Q8_0, 34,
     lrq_dot_q5_0_ref, ISA_DOTS(q5_0)},
    {"q5_1", T_Q5_1, 32, 24, lrq_dequant_q5_1, lrq_quant_ref_q5_1, lrq_act_q8_1, T_Q8_1, 36,
     lrq_dot_q5_1_ref, ISA_DOTS(q5_1)},
    {"q8_0", T_Q8_0, 32, 34, lrq_dequant_q8_0, lrq_quant_ref_q8_0, lrq_act_q8_0, T_Q8_0, 34,
     lrq_dot_q8_0_ref, ISA_DOTS(q8_0)},
    {"iq4_nl", T_IQ4_NL, 32, 18, lrq_dequant_iq4_nl, lrq_quant_ref_iq4_nl, lrq_act_q8_0, T_Q8_0, 34,
     lrq_dot_iq4_nl_ref, ISA_DOTS(iq4_nl)},
};
#define N_TYPES ((int)(sizeof TYPES / sizeof TYPES[0]))

static const ttype *type_by_id(int id) {
    for (int i = 0; i < N_TYPES; i++)
        if (TYPES[i].id == id) return &TYPES[i];
    return NULL;
}

static uint32_t f2u(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float u2f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* Independent binary16 decoder (by value, via ldexp) for cross-checks. */
static double t_f16(uint16_t h) {
    int e = (h >> 10) & 31, m = h & 1023;
    double v = e == 0 ? ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexp(m + 1024, e - 25);
    return (h & 0x8000) ? -v : v;
}

#if T_X86
/* F16C via cpuid (clang's __builtin_cpu_supports does not know "f16c");
 * the VEX-encoded instructions also need the OS to save AVX state. */
static int t_has_f16c(void) {
    unsigned a, b, c, d;
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx") || !__get_cpuid(1, &a, &b, &c, &d)) return 0;
    return (c >> 29) & 1u;
}
static int t_has_avx2(void) { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && t_has_f16c(); }
static int t_has_avx512(void) {
    return t_has_avx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vnni");
}
#endif

/* The SIMD levels of this build's architecture, in ttype.isa order; `exact`:
 * the kernels must return the reference's bits (NEON keeps its float order). */
typedef struct {
    const char *name;
    int (*has)(void);
    int exact;
} level;
#if T_X86
static const level LEVELS[2] = {{"avx2", t_has_avx2, 0}, {"avx512", t_has_avx512, 0}};
#define N_LEVELS 2
#elif defined(LRQ_HAVE_NEON)
static int t_has_neon(void) { return 1; } /* AArch64's Advanced SIMD is part of the base ISA */
static const level LEVELS[1] = {{"neon", t_has_neon, 1}};
#define N_LEVELS 1
#else
static const level LEVELS[1] = {{"none", NULL, 0}};
#define N_LEVELS 0
#endif

/* Same float bits, or both NaN (the test rows with random scale bytes can
 * hold NaN halves). */
static int same_bits(float a, float b) { return f2u(a) == f2u(b) || (isnan(a) && isnan(b)); }

static int is_nan_h(uint16_t h) { return (h & 0x7c00) == 0x7c00 && (h & 0x3ff); }

/* ================================================================== */
/* fp16 / bf16 conversions                                            */
/* ================================================================== */

static void test_f16_exhaustive(void) {
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = lrq_f16_to_f32((uint16_t)h);
        double want = t_f16((uint16_t)h);
        if (is_nan_h((uint16_t)h)) {
            if (!isnan(f)) bad++;
            continue;
        }
        if ((double)f != want || (signbit(f) != 0) != ((h & 0x8000) != 0)) bad++;
        if (lrq_f32_to_f16(f) != h) bad++;
    }
    CHECKF(bad == 0, "%d halves fail f16->f32 exactness or the round trip", bad);
    /* the dequantizer and the scalar f16 dot (which has its own fast
     * conversion) widen every half the same way: h * 1.0 */
    bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        uint8_t hx[2] = {(uint8_t)h, (uint8_t)(h >> 8)}, one[2] = {0x00, 0x3c};
        float d, want = lrq_f16_to_f32((uint16_t)h);
        lrq_dot_f16_ref(1, &d, hx, one);
        if (isnan(want) ? !isnan(d) : d != want) bad++;
        lrq_dequant_f16(hx, &d, 1);
        if (f2u(d) != f2u(want)) bad++;
    }
    CHECKF(bad == 0, "%d halves widen differently in lrq_dot_f16_ref / lrq_dequant_f16", bad);
}

/* float -> binary16, round to nearest even, computed by value (independent
 * of core.h's bit tricks) for finite inputs. */
static uint16_t t_f32_to_f16_value(float f) {
    uint16_t sign = signbit(f) ? 0x8000 : 0;
    double a = fabs((double)f);
    if (isinf(f)) return sign | 0x7c00;
    if (a >= 65520.0) return sign | 0x7c00;
    /* quantum: 2^-24 for subnormals, else 2^(e-10) */
    int e;
    frexp(a, &e); /* a = m * 2^e, m in [0.5,1) */
    int qe = e - 11 < -24 ? -24 : e - 11;
    double q = ldexp(a, -qe); /* value in quanta */
    double r = floor(q), frac = q - r;
    if (frac > 0.5 || (frac == 0.5 && fmod(r, 2.0) == 1.0)) r += 1.0;
    double v = ldexp(r, qe);
    /* re-encode v */
    if (v == 0) return sign;
    if (v < ldexp(1, -14)) return sign | (uint16_t)(int)ldexp(v, 24);
    int ve;
    double vm = frexp(v, &ve); /* v = vm * 2^ve */
    int be = ve - 1 + 15;
    int man = (int)(ldexp(vm, 11) - 1024.0);
    return sign | (uint16_t)(be << 10) | (uint16_t)man;
}

#if T_X86
__attribute__((target("f16c"))) static uint16_t hw_f32_to_f16(float f) { return (uint16_t)_cvtss_sh(f, 0); }
__attribute__((target("f16c"))) static float hw_f16_to_f32(uint16_t h) { return _cvtsh_ss(h); }
#endif

/* Candidate floats: every half's value and the midpoints to its neighbour,
 * +-2 ulps, both signs; specials; random bit patterns. Calls fn(f). */
static void for_f16_boundary_floats(void (*fn)(float, void *), void *ctx) {
    for (uint32_t h = 0; h < 0x7c00; h++) {
        double v = t_f16((uint16_t)h), next = t_f16((uint16_t)(h + 1));
        uint32_t b0 = f2u((float)v), bm = f2u((float)((v + next) / 2));
        for (int k = -2; k <= 2; k++) {
            uint32_t cands[2] = {b0 + (uint32_t)k, bm + (uint32_t)k};
            for (int c = 0; c < 2; c++) {
                if ((int32_t)cands[c] < 0) continue;
                fn(u2f(cands[c]), ctx);
                fn(u2f(cands[c] | 0x80000000u), ctx);
            }
        }
    }
    static const uint32_t specials[] = {0, 0x80000000u, 1, 0x007fffffu, 0x00800000u, 0x7f7fffffu, 0x7f800000u,
                                        0xff800000u, 0x7fc00000u, 0xffc00000u, 0x7f800001u, 0x7fa00000u,
                                        0x7fffffffu, 0xffffffffu, 0x7f802000u, 0x7f801fffu, 0x477fe000u,
                                        0x477fefffu, 0x477ff000u, 0x477fffffu, 0x47800000u, 0x33000000u,
                                        0x33000001u, 0x32ffffffu, 0x387fc000u, 0x387fe000u, 0x387fffffu};
    for (size_t i = 0; i < sizeof specials / sizeof specials[0]; i++) fn(u2f(specials[i]), ctx);
    uint64_t st = 12345;
    for (int i = 0; i < 2000000; i++) fn(u2f((uint32_t)test_rand_u64(&st)), ctx);
}

typedef struct { long n, bad_value, bad_hw, bad_base; int hw; } f16ctx;

static void check_one_f32_to_f16(float f, void *vctx) {
    f16ctx *c = vctx;
    c->n++;
    uint16_t mine = lrq_f32_to_f16(f);
    uint16_t base;
    lrq_quant_ref_f16(&f, &base, 1);
    if (!isnan(f)) {
        if (mine != t_f32_to_f16_value(f)) {
            if (c->bad_value++ < 5) test_fail(__FILE__, __LINE__, "f32 %08x -> f16 %04x, want %04x", f2u(f), mine, t_f32_to_f16_value(f));
        }
        if (base != mine) c->bad_base++;
    } else {
        /* ggml-base's converter: canonical quiet NaN, sign kept */
        if (base != (uint16_t)(((f2u(f) >> 16) & 0x8000) | 0x7e00)) c->bad_base++;
    }
#if T_X86
    if (c->hw) {
        uint16_t hw = hw_f32_to_f16(f);
        if (hw != mine && c->bad_hw++ < 5) test_fail(__FILE__, __LINE__, "f32 %08x -> f16 %04x, F16C gives %04x", f2u(f), mine, hw);
    }
#endif
}

static void test_f32_to_f16(void) {
    f16ctx c = {0, 0, 0, 0, 0};
#if T_X86
    c.hw = t_has_f16c();
    if (!c.hw) fprintf(stderr, "  (no F16C: checking by value only)\n");
#endif
    for_f16_boundary_floats(check_one_f32_to_f16, &c);
    CHECKF(c.n > 1000000, "only %ld floats tried", c.n);
    CHECKF(c.bad_value == 0, "%ld floats convert differently from round-to-nearest-even", c.bad_value);
    CHECKF(c.bad_hw == 0, "%ld floats convert differently from F16C", c.bad_hw);
    CHECKF(c.bad_base == 0, "%ld floats: lrq_quant_ref_f16 differs from ggml-base's converter", c.bad_base);
}

static void test_f16_to_f32_vs_f16c(void) {
#if T_X86
    if (!t_has_f16c()) {
        fprintf(stderr, "  skipped: no F16C\n");
        return;
    }
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float a = lrq_f16_to_f32((uint16_t)h), b = hw_f16_to_f32((uint16_t)h);
        if (f2u(a) != f2u(b) && bad++ < 5) test_fail(__FILE__, __LINE__, "f16 %04x -> %08x, F16C %08x", h, f2u(a), f2u(b));
    }
    CHECK(bad == 0);
#endif
}

/* bf16: round to nearest even by value; NaN -> quiet (payload top bits kept). */
static void test_bf16(void) {
    uint64_t st = 99;
    int bad = 0;
    for (int i = 0; i < 3000000; i++) {
        uint32_t u = (uint32_t)test_rand_u64(&st);
        if (i < 65536 * 4) u = ((uint32_t)(i >> 2) << 16) | (uint32_t[]){0, 0x8000, 0x7fff, 0x8001}[i & 3];
        float f = u2f(u);
        uint16_t got = lrq_f32_to_bf16(f), want;
        if (isnan(f)) {
            want = (uint16_t)((u >> 16) | 0x40);
        } else {
            uint32_t lo = u & 0xffff, hi = u >> 16;
            want = (uint16_t)((lo > 0x8000 || (lo == 0x8000 && (hi & 1))) ? hi + 1 : hi);
        }
        if (got != want && bad++ < 5) test_fail(__FILE__, __LINE__, "f32 %08x -> bf16 %04x, want %04x", u, got, want);
        if (!isnan(f) && f2u(lrq_bf16_to_f32(got)) != ((uint32_t)got << 16)) bad++;
        uint16_t q;
        lrq_quant_ref_bf16(&f, &q, 1);
        if (q != got) bad++;
        lrq_act_bf16(&f, &q, 1);
        if (q != got) bad++;
    }
    CHECK(bad == 0);
}

/* ================================================================== */
/* Row sizes for the GGUF locator (gguf_testutil.h)                   */
/* ================================================================== */

/* From this file's own type table, so the test depends only on the code
 * under test; types outside it get no data from the locator. */
static int legacy_row_size(int type, int64_t ne0, size_t *row_bytes) {
    const ttype *tt = type_by_id(type);
    if (!tt || ne0 % tt->blck) return -1;
    *row_bytes = (size_t)(ne0 / tt->blck) * (size_t)tt->bsize;
    return 0;
}

/* ================================================================== */
/* Independent block decoder (from the format description)            */
/* ================================================================== */

static const int IQ4NL[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

/* Decodes one block of a quantized type: d, m (0 if none) and the 32
 * integer levels (the iq4_nl grid value for iq4_nl). */
static void t_decode(int type, const uint8_t *b, float *d, float *m, int q[32]) {
    *m = 0.0f;
    *d = (float)t_f16(rd16(b));
    switch (type) {
    case T_Q4_0:
        for (int j = 0; j < 32; j++) q[j] = ((b[2 + (j & 15)] >> (j < 16 ? 0 : 4)) & 15) - 8;
        break;
    case T_Q4_1:
        *m = (float)t_f16(rd16(b + 2));
        for (int j = 0; j < 32; j++) q[j] = (b[4 + (j & 15)] >> (j < 16 ? 0 : 4)) & 15;
        break;
    case T_Q5_0:
        for (int j = 0; j < 32; j++)
            q[j] = (((b[6 + (j & 15)] >> (j < 16 ? 0 : 4)) & 15) + 16 * (int)((rd32(b + 2) >> j) & 1)) - 16;
        break;
    case T_Q5_1:
        *m = (float)t_f16(rd16(b + 2));
        for (int j = 0; j < 32; j++)
            q[j] = ((b[8 + (j & 15)] >> (j < 16 ? 0 : 4)) & 15) + 16 * (int)((rd32(b + 4) >> j) & 1);
        break;
    case T_Q8_0:
        for (int j = 0; j < 32; j++) q[j] = (int8_t)b[2 + j];
        break;
    case T_Q8_1:
        *m = (float)t_f16(rd16(b + 2)); /* s */
        for (int j = 0; j < 32; j++) q[j] = (int8_t)b[4 + j];
        break;
    case T_IQ4_NL:
        for (int j = 0; j < 32; j++) q[j] = IQ4NL[(b[2 + (j & 15)] >> (j < 16 ? 0 : 4)) & 15];
        break;
    default:
        LRQ_ASSERT(0);
    }
}

/* Independent dequantization: value = q*d (+ m), each float operation
 * rounded once (computed exactly in double, then rounded). */
static void t_dequant(int type, const uint8_t *x, float *y, int64_t n) {
    if (type == T_F32) { memcpy(y, x, (size_t)n * 4); return; }
    if (type == T_F16) { for (int64_t i = 0; i < n; i++) y[i] = (float)t_f16(rd16(x + 2 * i)); return; }
    if (type == T_BF16) { for (int64_t i = 0; i < n; i++) y[i] = u2f((uint32_t)rd16(x + 2 * i) << 16); return; }
    const int bs = type == T_Q8_1 ? 36 : type_by_id(type)->bsize;
    for (int64_t i = 0; i < n / 32; i++) {
        float d, m;
        int q[32];
        t_decode(type, x + i * bs, &d, &m, q);
        for (int j = 0; j < 32; j++) {
            float p = (float)((double)q[j] * (double)d);
            y[i * 32 + j] = (type == T_Q4_1 || type == T_Q5_1) ? (float)((double)p + (double)m) : p;
        }
    }
}

/* ================================================================== */
/* Golden files: quant_ref reproduces llama-quantize                  */
/* ================================================================== */

static void test_golden_quant_ref(void) {
    const char *src_path = test_shared("models/stories260K/stories260K-f32.gguf");
    tg_file src;
    if (tg_open(&src, src_path, legacy_row_size) != 0) {
        test_fail(__FILE__, __LINE__, "cannot read %s", src_path);
        return;
    }
    /* files made without an imatrix: every legacy tensor comes from the F32 source by quant_ref */
    static const char *plain[] = {"F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "IQ4_NL",
                                  "Q6_K", "Q4_K_M", "Q3_K_M", "Q2_K"};
    /* imatrix files: only the types whose quantizer ignores the imatrix */
    static const char *imat[] = {"Q2_K-imat", "Q4_K_M-imat", "IQ3_XXS-imat", "IQ2_XS-imat", "IQ2_XXS-imat"};
    int checked[64] = {0};
    int n_files = 0;
    for (int f = 0; f < (int)(sizeof plain / sizeof plain[0] + sizeof imat / sizeof imat[0]); f++) {
        int is_imat = f >= (int)(sizeof plain / sizeof plain[0]);
        const char *tag = is_imat ? imat[f - (int)(sizeof plain / sizeof plain[0])] : plain[f];
        char rel[128];
        snprintf(rel, sizeof rel, "golden/stories260K/s260-%s.gguf", tag);
        tg_file g;
        if (tg_open(&g, test_shared(rel), legacy_row_size) != 0) {
            test_fail(__FILE__, __LINE__, "cannot read %s", rel);
            continue;
        }
        n_files++;
        for (int i = 0; i < g.n; i++) {
            const tg_tensor *t = &g.t[i];
            const ttype *tt = type_by_id(t->type);
            if (!tt || !t->data) continue;
            if (is_imat && !(t->type == T_F32 || t->type == T_F16 || t->type == T_BF16 || t->type == T_Q8_0)) continue;
            const tg_tensor *s = tg_find(&src, t->name);
            if (!s || s->type != T_F32 || !s->data || s->n != t->n) {
                test_fail(__FILE__, __LINE__, "%s: %s has no F32 source of the same size", rel, t->name);
                continue;
            }
            /* quantize row by row like llama-quantize (rows are independent) */
            uint8_t *out = malloc(t->nbytes);
            const int64_t nrow = t->n / t->ne[0];
            const size_t rbytes = t->nbytes / (size_t)nrow;
            for (int64_t r = 0; r < nrow; r++)
                tt->qref((const float *)s->data + r * t->ne[0], out + (size_t)r * rbytes, t->ne[0]);
            if (memcmp(out, t->data, t->nbytes) != 0) {
                size_t k = 0;
                while (out[k] == t->data[k]) k++;
                test_fail(__FILE__, __LINE__, "%s: %s (%s): quant_ref differs from llama-quantize at byte %zu (block %zu): %02x vs %02x",
                          rel, t->name, tt->name, k, k / (size_t)tt->bsize, out[k], t->data[k]);
            } else {
                checked[t->type]++;
            }
            /* the dequantizer agrees with the independent decoder, and with the source within tolerance */
            float *a = malloc((size_t)t->n * sizeof(float)), *b = malloc((size_t)t->n * sizeof(float));
            tt->deq(t->data, a, t->n);
            t_dequant(t->type, t->data, b, t->n);
            if (memcmp(a, b, (size_t)t->n * sizeof(float)) != 0)
                test_fail(__FILE__, __LINE__, "%s: %s: lrq_dequant_%s differs from the independent decoder", rel, t->name, tt->name);
            double se = 0, sx = 0;
            for (int64_t k = 0; k < t->n; k++) {
                double e = (double)a[k] - ((const float *)s->data)[k];
                se += e * e;
                sx += (double)((const float *)s->data)[k] * ((const float *)s->data)[k];
            }
            double rel_rms = sx > 0 ? sqrt(se / sx) : 0;
            CHECKF(rel_rms < 0.25, "%s: %s: relative RMS error %.3g too large for %s", rel, t->name, rel_rms, tt->name);
            free(a);
            free(b);
            free(out);
        }
        tg_close(&g);
    }
    tg_close(&src);
    CHECK(n_files == 17);
    static const int must[] = {T_F32, T_F16, T_BF16, T_Q4_0, T_Q4_1, T_Q5_0, T_Q5_1, T_Q8_0, T_IQ4_NL};
    for (size_t i = 0; i < sizeof must / sizeof must[0]; i++)
        CHECKF(checked[must[i]] > 0, "no golden tensor of type %s was reproduced", type_by_id(must[i])->name);
    fprintf(stderr, "  reproduced: f32 %d, f16 %d, bf16 %d, q4_0 %d, q4_1 %d, q5_0 %d, q5_1 %d, q8_0 %d, iq4_nl %d tensors\n",
            checked[T_F32], checked[T_F16], checked[T_BF16], checked[T_Q4_0], checked[T_Q4_1], checked[T_Q5_0],
            checked[T_Q5_1], checked[T_Q8_0], checked[T_IQ4_NL]);
}

/* ================================================================== */
/* quant_ref / dequant round trip: error bounds                       */
/* ================================================================== */

/* Fills x (n values) with a mix of block shapes: gaussian at several
 * scales, a block of zeros, a constant block, a single spike, exact ties,
 * tiny values, all-negative blocks. */
static void fill_weights(float *x, int64_t n, uint64_t *st) {
    for (int64_t b = 0; b < n / 32; b++) {
        float *v = x + b * 32;
        int kind = (int)(b % 9);
        float scale = (float)ldexp(1.0, (int)(test_rand_u64(st) % 24) - 12);
        for (int j = 0; j < 32; j++) {
            float g = test_rand_normal(st) * scale;
            switch (kind) {
            case 0: case 1: case 2: v[j] = g; break;
            case 3: v[j] = 0.0f; break;
            case 4: v[j] = scale; break;
            case 5: v[j] = j == 7 ? -scale : 0.0f; break;
            case 6: v[j] = (float)((int)(test_rand_u64(st) % 33) - 16) * 0.5f * scale; break;
            case 7: v[j] = g * 1e-3f; break;
            default: v[j] = -fabsf(g) - scale; break;
            }
        }
    }
}

static void test_roundtrip_bounds(void) {
    uint64_t st = 7;
    const int64_t n = 32 * 900;
    float *x = malloc(n * sizeof(float)), *y = malloc(n * sizeof(float));
    uint8_t *q = malloc((size_t)n * 4);
    fill_weights(x, n, &st);
    for (int t = 0; t < N_TYPES; t++) {
        const ttype *tt = &TYPES[t];
        tt->qref(x, q, n);
        tt->deq(q, y, n);
        int bad = 0;
        double se = 0, sx = 0;
        for (int64_t b = 0; b < n / 32; b++) {
            const float *xb = x + b * 32, *yb = y + b * 32;
            float amax = 0, mn = xb[0], mx = xb[0];
            for (int j = 0; j < 32; j++) {
                amax = fmaxf(amax, fabsf(xb[j]));
                mn = fminf(mn, xb[j]);
                mx = fmaxf(mx, xb[j]);
            }
            float d16 = tt->blck == 32 ? fabsf((float)t_f16(rd16(q + b * tt->bsize))) : 0.0f;
            for (int j = 0; j < 32; j++) {
                double e = fabs((double)yb[j] - xb[j]), bound;
                switch (tt->id) {
                case T_F32: bound = 0; break;
                case T_F16: bound = fabs(xb[j]) * ldexp(1, -11) + ldexp(1, -25); break;
                case T_BF16: bound = fabs(xb[j]) * ldexp(1, -8); break;
                case T_Q4_0: case T_Q5_0: bound = d16 + amax * ldexp(1, -10) + 1e-37; break;
                case T_Q8_0: bound = d16 * 0.5 + amax * ldexp(1, -10) + 1e-37; break;
                case T_Q4_1: case T_Q5_1: bound = d16 * 0.5 + (fabs(mn) + (mx - mn)) * ldexp(1, -10) + 1e-37; break;
                default: bound = amax * 0.2 + 1e-37; break; /* iq4_nl: largest grid gap is 24/127 of the range, plus clipping */
                }
                /* scales (and q4_1/q5_1 minima) in f16's subnormal range carry an absolute error of 2^-25 */
                if (tt->blck == 32) bound += 128 * ldexp(1, -25);
                if (e > bound && bad++ < 3)
                    test_fail(__FILE__, __LINE__, "%s block %lld elem %d: x %g -> %g, error %g > %g", tt->name,
                              (long long)b, j, xb[j], yb[j], e, bound);
                se += e * e;
                sx += (double)xb[j] * xb[j];
            }
        }
        /* zero blocks dequantize to exact zeros for every type */
        for (int j = 0; j < 32; j++) CHECKF(y[3 * 32 + j] == 0.0f, "%s: zero block not exact", tt->name);
        double rel = sqrt(se / sx);
        double lim[] = {[T_F32] = 0, [T_F16] = 3e-4, [T_BF16] = 3e-3, [T_Q4_0] = 0.12, [T_Q4_1] = 0.1,
                        [T_Q5_0] = 0.06, [T_Q5_1] = 0.05, [T_Q8_0] = 0.008, [T_IQ4_NL] = 0.1};
        CHECKF(rel <= lim[tt->id], "%s: relative RMS error %.4g > %.4g", tt->name, rel, lim[tt->id]);
        fprintf(stderr, "  %-6s relative RMS error %.3g\n", tt->name, rel);
        /* dequant agrees with the independent decoder */
        float *z = malloc(n * sizeof(float));
        t_dequant(tt->id, q, z, n);
        CHECKF(memcmp(z, y, n * sizeof(float)) == 0, "%s: dequant differs from the independent decoder", tt->name);
        free(z);
    }
    free(x);
    free(y);
    free(q);
}

/* Hand-made blocks with known llama-quantize output. */
static void test_quant_ref_known(void) {
    float x[32];
    uint8_t q[40];
    /* q8_0 reference uses roundf (half away from zero) on x / (amax/127) */
    for (int j = 0; j < 32; j++) x[j] = (float)j - 15.5f; /* amax 16.5 */
    x[31] = 127.0f;                                         /* d = 1, id = 1 */
    lrq_quant_ref_q8_0(x, q, 32);
    CHECK(rd16(q) == 0x3c00);
    CHECK((int8_t)q[2] == -16 && (int8_t)q[2 + 15] == -1 && (int8_t)q[2 + 16] == 1 && q[2 + 31] == 127);
    /* q4_0: the extreme maps to -8 (d = max / -8) */
    for (int j = 0; j < 32; j++) x[j] = 0.0f;
    x[0] = 8.0f; x[1] = -8.0f; x[2] = 1.0f;
    lrq_quant_ref_q4_0(x, q, 32);
    CHECK(rd16(q) == 0xbc00); /* d = -1 */
    CHECK((q[2] & 15) == 0 && (q[3] & 15) == 15 && (q[4] & 15) == 7 && (q[5] & 15) == 8);
    /* iq4_nl: an all-zero block has d = 0 and every index 8 (grid value 1, nearest to 0) */
    for (int j = 0; j < 32; j++) x[j] = 0.0f;
    lrq_quant_ref_iq4_nl(x, q, 32);
    CHECK(rd16(q) == 0);
    for (int j = 0; j < 16; j++) CHECK(q[2 + j] == 0x88);
    /* q5_1 of a constant block: d = 0, m = the constant */
    for (int j = 0; j < 32; j++) x[j] = 3.0f;
    lrq_quant_ref_q5_1(x, q, 32);
    CHECK(rd16(q) == 0 && rd16(q + 2) == 0x4200);
}

/* ================================================================== */
/* Activation quantizers vs an intrinsics rendition of llama.cpp's AVX */
/* ================================================================== */

#if T_X86
/* llama.cpp's x86 quantize_row_q8_0 / q8_1 (AVX2 path), one block at a
 * time: abs-max over four 8-lane vectors reduced 8->4->2->1 with maxps,
 * d = max/127 stored via F16C, multiplier 127/max, vroundps (nearest even),
 * cvtps2dq, packssdw/packsswb and a lane fix-up permutation. For q8_1 also
 * s = f16(d * sum of the int32 values). */
__attribute__((target("avx2,fma,f16c"))) static void hw_act_q8(const float *x, uint8_t *y, int64_t n, int with_sum) {
    const int bs = with_sum ? 36 : 34, qo = with_sum ? 4 : 2;
    for (int64_t i = 0; i < n / 32; i++, x += 32, y += bs) {
        __m256 v[4];
        for (int k = 0; k < 4; k++) v[k] = _mm256_loadu_ps(x + 8 * k);
        const __m256 sign = _mm256_set1_ps(-0.0f);
        __m256 mx = _mm256_andnot_ps(sign, v[0]);
        for (int k = 1; k < 4; k++) mx = _mm256_max_ps(mx, _mm256_andnot_ps(sign, v[k]));
        __m128 m4 = _mm_max_ps(_mm256_extractf128_ps(mx, 1), _mm256_castps256_ps128(mx));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
        const float amax = _mm_cvtss_f32(m4);
        const float d = amax / 127.f;
        const uint16_t dh = (uint16_t)_cvtss_sh(d, 0);
        y[0] = (uint8_t)dh;
        y[1] = (uint8_t)(dh >> 8);
        const __m256 mul = _mm256_set1_ps(amax != 0.0f ? 127.f / amax : 0.0f);
        __m256i iv[4];
        for (int k = 0; k < 4; k++)
            iv[k] = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v[k], mul), _MM_FROUND_TO_NEAREST_INT));
        if (with_sum) {
            __m256i s8 = _mm256_add_epi32(_mm256_add_epi32(iv[0], iv[1]), _mm256_add_epi32(iv[2], iv[3]));
            __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(s8), _mm256_extracti128_si256(s8, 1));
            s4 = _mm_add_epi32(s4, _mm_unpackhi_epi64(s4, s4));
            s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 1));
            const uint16_t sh = (uint16_t)_cvtss_sh(d * (float)_mm_cvtsi128_si32(s4), 0);
            y[2] = (uint8_t)sh;
            y[3] = (uint8_t)(sh >> 8);
        }
        __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(iv[0], iv[1]), _mm256_packs_epi32(iv[2], iv[3]));
        p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        _mm256_storeu_si256((__m256i *)(y + qo), p);
    }
}

/* n a multiple of 8 */
__attribute__((target("avx2,f16c"))) static void hw_act_f16(const float *x, uint8_t *y, int64_t n) {
    for (int64_t i = 0; i < n / 8; i++) _mm_storeu_si128((__m128i *)(y + 16 * i), _mm256_cvtps_ph(_mm256_loadu_ps(x + 8 * i), 0));
}
#endif

#if T_X86
/* Activation vectors that stress the quantizer: gaussian, exact .5 ties at
 * several block maxima, zeros (whole blocks, mixed), negative zero,
 * subnormals, huge values, and (optionally) inf/NaN. */
static void fill_acts(float *x, int64_t n, uint64_t *st, int specials) {
    for (int64_t b = 0; b < n / 32; b++) {
        float *v = x + b * 32;
        int kind = (int)(b % (specials ? 12 : 10));
        float scale = (float)ldexp(1.0, (int)(test_rand_u64(st) % 16) - 8);
        for (int j = 0; j < 32; j++) {
            float g = test_rand_normal(st) * scale;
            switch (kind) {
            case 0: case 1: v[j] = g; break;
            case 2: v[j] = j == 5 ? 127.0f : (float)((int)(test_rand_u64(st) % 254) - 127) + 0.5f; break; /* id = 1: ties */
            case 3: v[j] = j == 0 ? 63.5f : (float)((int)(test_rand_u64(st) % 127) - 63) * 0.5f + 0.25f; break; /* id = 2 */
            case 4: v[j] = 0.0f; break;
            case 5: v[j] = (j & 1) ? -0.0f : (j % 3 ? g : 0.0f); break;
            case 6: v[j] = g * 1e-40f; break; /* subnormal inputs */
            case 7: v[j] = g * 1e30f; break;
            case 8: v[j] = (float)((int)(test_rand_u64(st) % 255) - 127) * scale / 127.0f; break;
            case 9: v[j] = j == 31 ? -scale : g * 0.01f; break;
            case 10: v[j] = j == 9 ? INFINITY : g; break;
            default: v[j] = j == 3 ? NAN : (j == 4 ? -INFINITY : g); break;
            }
        }
    }
}

#endif

static void test_act_vs_avx(void) {
#if T_X86
    if (!t_has_avx2()) {
        fprintf(stderr, "  skipped: no AVX2/FMA/F16C\n");
        return;
    }
    uint64_t st = 2024;
    const int64_t n = 32 * 1200;
    float *x = malloc(n * sizeof(float));
    uint8_t *a = malloc((size_t)n * 2), *b = malloc((size_t)n * 2); /* f16 is the largest: 2 bytes/value */
    for (int rep = 0; rep < 4; rep++) {
        fill_acts(x, n, &st, 1);
        lrq_act_q8_0(x, a, n);
        hw_act_q8(x, b, n, 0);
        size_t nb0 = (size_t)n / 32 * 34;
        if (memcmp(a, b, nb0) != 0) {
            size_t k = 0;
            while (a[k] == b[k]) k++;
            test_fail(__FILE__, __LINE__, "lrq_act_q8_0 differs from the AVX path at byte %zu (block %zu)", k, k / 34);
        }
        lrq_act_q8_1(x, a, n);
        hw_act_q8(x, b, n, 1);
        if (memcmp(a, b, (size_t)n / 32 * 36) != 0) {
            size_t k = 0;
            while (a[k] == b[k]) k++;
            test_fail(__FILE__, __LINE__, "lrq_act_q8_1 differs from the AVX path at byte %zu (block %zu)", k, k / 36);
        }
        if (t_has_avx512()) { /* the registered AVX-512 forms against the spec, specials included */
            lrq_act_q8_0(x, a, n);
            lrq_act_q8_0_avx512(x, b, n);
            CHECKF(memcmp(a, b, nb0) == 0, "lrq_act_q8_0_avx512 differs from lrq_act_q8_0 (rep %d)", rep);
            lrq_act_q8_1(x, a, n);
            lrq_act_q8_1_avx512(x, b, n);
            CHECKF(memcmp(a, b, (size_t)n / 32 * 36) == 0, "lrq_act_q8_1_avx512 differs from lrq_act_q8_1 (rep %d)", rep);
        }
        lrq_act_f16(x, a, n);
        hw_act_f16(x, b, n);
        CHECKF(memcmp(a, b, (size_t)n * 2) == 0, "lrq_act_f16 differs from F16C");
    }
    free(x);
    free(a);
    free(b);
#endif
}

/* The activation quantizer is not the reference quantizer: on exact ties
 * llama.cpp's AVX path rounds half to even, quantize_row_q8_0_ref rounds
 * half away from zero. */
static void test_act_ties(void) {
    float x[32];
    for (int j = 0; j < 32; j++) x[j] = 0.0f;
    x[0] = 127.0f; x[1] = 0.5f; x[2] = 1.5f; x[3] = 2.5f; x[4] = -0.5f; x[5] = -3.5f; x[6] = -126.5f;
    uint8_t a[36], r[34];
    lrq_act_q8_0(x, a, 32);
    lrq_quant_ref_q8_0(x, r, 32);
    const int want_act[7] = {127, 0, 2, 2, 0, -4, -126}, want_ref[7] = {127, 1, 2, 3, -1, -4, -127};
    for (int j = 0; j < 7; j++) {
        CHECKF((int8_t)a[2 + j] == want_act[j], "act q8_0 x=%g -> %d, want %d", x[j], (int8_t)a[2 + j], want_act[j]);
        CHECKF((int8_t)r[2 + j] == want_ref[j], "ref q8_0 x=%g -> %d, want %d", x[j], (int8_t)r[2 + j], want_ref[j]);
    }
    lrq_act_q8_1(x, a, 32);
    int sum = 0;
    for (int j = 0; j < 7; j++) sum += want_act[j];
    CHECK(rd16(a) == 0x3c00);
    CHECK(rd16(a + 2) == lrq_f32_to_f16((float)sum));
    /* all-zero block: d = 0, s = 0, quants 0 */
    for (int j = 0; j < 32; j++) x[j] = 0.0f;
    lrq_act_q8_1(x, a, 32);
    for (int j = 0; j < 36; j++) CHECK(a[j] == 0);
}

/* ================================================================== */
/* Dot products                                                        */
/* ================================================================== */

/* Makes a weight row of type tt (n values) — from quant_ref of random
 * weights, or (raw = 1) random bytes with sane f16 scales — and an
 * activation row from the partner quantizer. */
static void make_rows(const ttype *tt, int64_t n, uint8_t *x, uint8_t *y, float *tmp, uint64_t *st, int raw) {
    for (int64_t i = 0; i < n; i++) tmp[i] = test_rand_normal(st) * 0.5f + (i % 7 == 0 ? 0.3f : 0.0f);
    if (raw && tt->blck == 32) {
        const size_t nb = (size_t)(n / 32);
        for (size_t k = 0; k < nb * (size_t)tt->bsize; k++) x[k] = (uint8_t)test_rand_u64(st);
        for (size_t b = 0; b < nb; b++) {
            uint8_t *blk = x + b * (size_t)tt->bsize;
            uint16_t d = lrq_f32_to_f16(test_rand_f32(st) * 0.05f);
            blk[0] = (uint8_t)d;
            blk[1] = (uint8_t)(d >> 8);
            if (tt->id == T_Q4_1 || tt->id == T_Q5_1) {
                uint16_t m = lrq_f32_to_f16(test_rand_f32(st) * 0.5f);
                blk[2] = (uint8_t)m;
                blk[3] = (uint8_t)(m >> 8);
            }
        }
    } else {
        float *w = malloc((size_t)n * sizeof(float));
        for (int64_t i = 0; i < n; i++) w[i] = test_rand_normal(st) * (raw ? 3.0f : 0.1f);
        tt->qref(w, x, n);
        free(w);
    }
    tt->act(tmp, y, n);
}

/* Sum of |terms| of the dot as the kernels form them, and the dot of the
 * dequantized rows, both in double. For q4_1/q5_1 *s_err gets the part of
 * the reference's error that comes from the f16 rounding of s in q8_1. */
static void dot_stats(const ttype *tt, int64_t n, const uint8_t *x, const uint8_t *y, double *terms, double *exact,
                      double *s_err) {
    *terms = 0;
    *exact = 0;
    *s_err = 0;
    if (tt->blck == 1) {
        float *a = malloc((size_t)n * sizeof(float)), *b = malloc((size_t)n * sizeof(float));
        t_dequant(tt->id, x, a, n);
        t_dequant(tt->partner, y, b, n);
        for (int64_t i = 0; i < n; i++) {
            *terms += fabs((double)a[i] * b[i]);
            *exact += (double)a[i] * b[i];
        }
        free(a);
        free(b);
        return;
    }
    for (int64_t i = 0; i < n / 32; i++) {
        float dx, mx, dy, sy;
        int qx[32], qy[32];
        t_decode(tt->id, x + i * tt->bsize, &dx, &mx, qx);
        t_decode(tt->partner, y + i * tt->ybsize, &dy, &sy, qy);
        long sumqy = 0;
        for (int j = 0; j < 32; j++) {
            double xv = (double)(float)((double)qx[j] * dx), yv = (double)(float)((double)qy[j] * dy);
            if (tt->id == T_Q4_1 || tt->id == T_Q5_1) xv = (double)(float)(xv + mx);
            *exact += xv * yv;
            *terms += fabs((double)dx * qx[j] * dy * qy[j]);
            sumqy += qy[j];
        }
        if (tt->id == T_Q4_1 || tt->id == T_Q5_1) {
            *terms += fabs((double)mx * sy);
            *s_err += fabs((double)mx) * fabs((double)sy - (double)dy * (double)sumqy);
        }
    }
}

static void test_dots(void) {
    int has[2] = {0, 0};
    for (int l = 0; l < N_LEVELS; l++) {
        has[l] = LEVELS[l].has();
        if (!has[l]) fprintf(stderr, "  %s kernels skipped (the CPU lacks the level)\n", LEVELS[l].name);
    }
#if T_X86
    if (!has[1]) fprintf(stderr, "  (AVX2 needs AVX2/FMA/F16C, AVX-512 needs F/BW/VL/DQ/VNNI)\n");
#endif
    static const int nblocks[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 33, 64, 127, 128, 256, 513};
    static const int nfloat[] = {1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 255,
                                 256, 1000, 4095, 4096, 4097, 16411};
    uint64_t st = 31337;
    int n_checked = 0;
    for (int t = 0; t < N_TYPES; t++) {
        const ttype *tt = &TYPES[t];
        const int nlen = tt->blck == 32 ? (int)(sizeof nblocks / sizeof nblocks[0]) : (int)(sizeof nfloat / sizeof nfloat[0]);
        double worst[2] = {0, 0}, worst_ref = 0;
        for (int li = 0; li < nlen; li++) {
            for (int raw = 0; raw < 2; raw++) {
                const int64_t n = tt->blck == 32 ? 32 * (int64_t)nblocks[li] : nfloat[li];
                /* exact-size buffers so ASan catches any over-read */
                uint8_t *x = malloc((size_t)(n / tt->blck) * (size_t)tt->bsize);
                uint8_t *y = malloc((size_t)(n / tt->blck) * (size_t)tt->ybsize);
                float *tmp = malloc((size_t)n * sizeof(float));
                make_rows(tt, n, x, y, tmp, &st, raw);
                double terms, exact, s_err;
                dot_stats(tt, n, x, y, &terms, &exact, &s_err);
                const double tol = 1e-5 * terms + 1e-30;
                float r = NAN;
                tt->ref(n, &r, x, y);
                double e = fabs((double)r - exact);
                worst_ref = fmax(worst_ref, e / (terms + 1e-30));
                CHECKF(e <= tol + 1.01 * s_err, "%s n=%lld raw=%d: ref %.9g vs dequant dot %.9g (terms %g, s_err %g)",
                       tt->name, (long long)n, raw, r, exact, terms, s_err);
                for (int l = 0; l < N_LEVELS; l++) {
                    if (!has[l] || !tt->isa[l]) continue;
                    float a = NAN;
                    tt->isa[l](n, &a, x, y);
                    e = fabs((double)a - r);
                    worst[l] = fmax(worst[l], e / (terms + 1e-30));
                    CHECKF(e <= tol, "%s n=%lld raw=%d: %s %.9g vs ref %.9g (terms %g)", tt->name, (long long)n, raw,
                           LEVELS[l].name, a, r, terms);
                    if (LEVELS[l].exact)
                        CHECKF(same_bits(a, r), "%s n=%lld raw=%d: %s %.9g vs ref %.9g (not bit-identical)", tt->name,
                               (long long)n, raw, LEVELS[l].name, a, r);
                    n_checked++;
                }
                free(x);
                free(y);
                free(tmp);
            }
        }
        fprintf(stderr, "  %-6s worst |diff|/sum|terms|: ref-vs-dequant %.2g", tt->name, worst_ref);
        for (int l = 0; l < N_LEVELS; l++) fprintf(stderr, ", %s %.2g", LEVELS[l].name, worst[l]);
        fprintf(stderr, "\n");
    }
    if (has[0] || has[1]) CHECK(n_checked > 100);
}

/* Integer parts must be exact: with a single block, power-of-two scales and
 * small values the float part is exact too, so every kernel must return the
 * reference bit for bit, including extreme quant values (y = +-127,
 * x = -128 for q8_0). */
static void test_dots_exact(void) {
    int has[2] = {0, 0};
    for (int l = 0; l < N_LEVELS; l++) has[l] = LEVELS[l].has();
    uint64_t st = 5;
    for (int t = 3; t < N_TYPES; t++) {
        const ttype *tt = &TYPES[t];
        for (int rep = 0; rep < 200; rep++) {
            const int64_t nb = 1 + rep % 9, n = 32 * nb;
            uint8_t x[9 * 36], y[9 * 36];
            for (int64_t b = 0; b < nb; b++) {
                uint8_t *xb = x + b * tt->bsize, *yb = y + b * tt->ybsize;
                for (int k = 0; k < tt->bsize; k++) xb[k] = (uint8_t)test_rand_u64(&st);
                for (int k = 0; k < tt->ybsize; k++) {
                    int v = (int)(test_rand_u64(&st) % 255) - 127;
                    if (rep % 3 == 0) v = (k & 1) ? 127 : -127;
                    yb[k] = (uint8_t)v;
                }
                if (tt->id == T_Q8_0 && rep % 4 == 1)
                    for (int k = 2; k < 34; k++) xb[k] = 0x80; /* -128 */
                /* scales 2^-4 (x) and 2^-6 (y), m = 0.5, s = 2^-3: all products exact */
                xb[0] = 0x00; xb[1] = 0x2c;
                yb[0] = 0x00; yb[1] = 0x24;
                if (tt->id == T_Q4_1 || tt->id == T_Q5_1) { xb[2] = 0x00; xb[3] = 0x38; yb[2] = 0x00; yb[3] = 0x30; }
            }
            float r, a;
            tt->ref(n, &r, x, y);
            /* the block formula, exactly: sum dx*dy*sum(qx*qy) (+ m*s) */
            double exact = 0;
            for (int64_t b = 0; b < nb; b++) {
                float dx, mx, dy, sy;
                int qx[32], qy[32];
                t_decode(tt->id, x + b * tt->bsize, &dx, &mx, qx);
                t_decode(tt->partner, y + b * tt->ybsize, &dy, &sy, qy);
                long sumi = 0;
                for (int j = 0; j < 32; j++) sumi += (long)qx[j] * qy[j];
                exact += (double)dx * dy * (double)sumi + (double)mx * sy;
            }
            CHECKF((double)r == exact, "%s: ref %.9g vs exact %.9g", tt->name, r, exact);
            for (int l = 0; l < N_LEVELS; l++) {
                if (!has[l] || !tt->isa[l]) continue;
                tt->isa[l](n, &a, x, y);
                CHECKF(a == r, "%s nb=%lld rep=%d: %s %.9g vs ref %.9g", tt->name, (long long)nb, rep,
                       LEVELS[l].name, a, r);
            }
        }
    }
}

int main(void) {
    lrq_types_init(); /* register the kernels into the type table */
    TEST_RUN(test_f16_exhaustive);
    TEST_RUN(test_f32_to_f16);
    TEST_RUN(test_f16_to_f32_vs_f16c);
    TEST_RUN(test_bf16);
    TEST_RUN(test_quant_ref_known);
    TEST_RUN(test_golden_quant_ref);
    TEST_RUN(test_roundtrip_bounds);
    TEST_RUN(test_act_ties);
    TEST_RUN(test_act_vs_avx);
    TEST_RUN(test_dots);
    TEST_RUN(test_dots_exact);
    return test_finish();
}
