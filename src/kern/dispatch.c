/* dispatch.c — run-time kernel selection: detects the CPU's SIMD level once
 * and registers the dot-product and tile kernels of that level into the
 * traits rows of fmt/types.c (the reference kernels are registered too: they
 * are the specification the tests compare against). Levels: "scalar"
 * everywhere; "avx2", "avx512" on x86-64 (CPUID); "neon" on AArch64 (always
 * present). LRQ_ISA=<level> caps the choice at a level this CPU has. */
#include "fmt/types.h"
#include "kern/dots.h"
#include "kern/gemm.h"
#include "core/core.h"

#include <pthread.h>
#if defined(LRQ_HAVE_X86)
#include <cpuid.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *isa_name = "scalar";
static char isa_note[160];
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

/* One row per computable type: its scalar reference and per-ISA kernels
 * (NULL: none at that level, the reference is used). */
typedef struct {
    int type;
    lrq_vec_dot_fn ref, avx2, avx512, neon;
} dot_row;

#if defined(LRQ_HAVE_X86)
#define DOTS(T, t) { LRQ_TYPE_##T, lrq_dot_##t##_ref, lrq_dot_##t##_avx2, lrq_dot_##t##_avx512, NULL }
#elif defined(LRQ_HAVE_NEON)
#define DOTS(T, t) { LRQ_TYPE_##T, lrq_dot_##t##_ref, NULL, NULL, lrq_dot_##t##_neon }
#else
#define DOTS(T, t) { LRQ_TYPE_##T, lrq_dot_##t##_ref, NULL, NULL, NULL }
#endif
/* Types with x86 kernels only (no _neon file yet): AArch64 uses the reference. */
#if defined(LRQ_HAVE_X86)
#define DOTS_X86(T, t) DOTS(T, t)
#else
#define DOTS_X86(T, t) { LRQ_TYPE_##T, lrq_dot_##t##_ref, NULL, NULL, NULL }
#endif
static const dot_row dots[] = {
    DOTS(F32, f32), DOTS(F16, f16), DOTS(BF16, bf16), DOTS(Q4_0, q4_0), DOTS(Q4_1, q4_1),
    DOTS(Q5_0, q5_0), DOTS(Q5_1, q5_1), DOTS(Q8_0, q8_0), DOTS(IQ4_NL, iq4_nl), DOTS(Q2_K, q2_K),
    DOTS(Q3_K, q3_K), DOTS(Q4_K, q4_K), DOTS(Q5_K, q5_K), DOTS(Q6_K, q6_K),
    DOTS_X86(IQ2_XXS, iq2_xxs), DOTS_X86(IQ2_XS, iq2_xs), DOTS_X86(IQ2_S, iq2_s), DOTS_X86(IQ3_XXS, iq3_xxs),
    DOTS_X86(IQ3_S, iq3_s), DOTS_X86(IQ4_XS, iq4_xs),
};
#undef DOTS
#undef DOTS_X86

/* The best level of this CPU. AArch64's Advanced SIMD is part of the base
 * ISA (every AArch64 CPU and OS has it), so an AArch64 build always has
 * "neon" and needs no detection. */
static const char *detect(void) {
#if defined(LRQ_HAVE_X86)
    __builtin_cpu_init();
    int has512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                 __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
                 __builtin_cpu_supports("avx512vnni");
    /* F16C via CPUID leaf 1, ECX bit 29 (clang's __builtin_cpu_supports lacks "f16c"). */
    unsigned a, b, cx, d;
    int f16c = __get_cpuid(1, &a, &b, &cx, &d) && (cx & (1u << 29));
    int has2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && f16c;
    return has512 && has2 ? "avx512" : has2 ? "avx2" : "scalar";
#elif defined(LRQ_HAVE_NEON)
    return "neon";
#else
    return "scalar";
#endif
}

/* Levels in order of capability; a level of another architecture ranks -1
 * (not available here). */
static int rank(const char *isa) {
#if defined(LRQ_HAVE_X86)
    if (strcmp(isa, "avx512") == 0) return 2;
    if (strcmp(isa, "avx2") == 0) return 1;
#elif defined(LRQ_HAVE_NEON)
    if (strcmp(isa, "neon") == 0) return 1;
#endif
    return strcmp(isa, "scalar") == 0 ? 0 : -1;
}

static int known_isa(const char *isa) {
    return !strcmp(isa, "scalar") || !strcmp(isa, "avx2") || !strcmp(isa, "avx512") || !strcmp(isa, "neon");
}

static void init_once_fn(void) {
    const char *best = detect(), *pick = best;
    const char *want = getenv("LRQ_ISA");
    if (want && *want) {
        if (!known_isa(want))
            snprintf(isa_note, sizeof isa_note, "LRQ_ISA=%.32s is not one of scalar, avx2, avx512, neon; using %s",
                     want, best);
        else if (rank(want) < 0 || rank(want) > rank(best))
            snprintf(isa_note, sizeof isa_note, "LRQ_ISA=%.32s: this CPU lacks it; using %s", want, best);
        else
            pick = want;
    }
    const int x86 = strcmp(pick, "avx2") == 0 || strcmp(pick, "avx512") == 0;
    const int lvl = rank(pick), neon = strcmp(pick, "neon") == 0;
    for (size_t i = 0; i < sizeof dots / sizeof dots[0]; i++) {
        lrq_type_traits *t = lrq_type_row(dots[i].type);
        t->vec_dot_ref = dots[i].ref;
        lrq_vec_dot_fn f = dots[i].ref;
        if (x86 && lvl == 2 && dots[i].avx512) f = dots[i].avx512;
        else if (x86 && lvl >= 1 && dots[i].avx2) f = dots[i].avx2;
        else if (neon && dots[i].neon) f = dots[i].neon;
        t->vec_dot = f;
        lrq_vec_dot_fn gdot = NULL;
        int r = 0, c = 0;
        lrq_gemm_fn g = lvl > 0 ? lrq_gemm_get_isa(dots[i].type, pick, &r, &c, &gdot) : NULL;
        /* a tile kernel is only used with the vec_dot it reproduces bit for bit (gemm.h) */
        if (g && gdot == t->vec_dot) {
            t->gemm = g;
            t->gemm_rows = r;
            t->gemm_cols = c;
        }
    }
#if defined(LRQ_HAVE_X86)
    if (lvl == 2) { /* activation rounding: the same bits as fmt's scalar specification, faster */
        lrq_type_row(LRQ_TYPE_Q8_0)->from_float = lrq_act_q8_0_avx512;
        lrq_type_row(LRQ_TYPE_Q8_1)->from_float = lrq_act_q8_1_avx512;
    }
#endif
    isa_name = pick;
}

void lrq_types_init(void) { pthread_once(&init_once, init_once_fn); }

const char *lrq_types_isa(void) {
    lrq_types_init();
    return isa_name;
}

const char *lrq_types_isa_note(void) {
    lrq_types_init();
    return isa_note;
}
