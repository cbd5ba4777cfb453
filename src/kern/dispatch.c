/* dispatch.c — run-time kernel selection: detects the CPU's SIMD level once
 * and registers the dot-product and tile kernels of that level into the
 * traits rows of fmt/types.c (the reference kernels are registered too: they
 * are the specification the tests compare against). */
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

/* One row per computable type: its scalar reference and per-ISA kernels. */
typedef struct {
    int type;
    lrq_vec_dot_fn ref, avx2, avx512;
} dot_row;

#if defined(LRQ_HAVE_X86)
#define DOTS(T, t) { LRQ_TYPE_##T, lrq_dot_##t##_ref, lrq_dot_##t##_avx2, lrq_dot_##t##_avx512 }
#else
#define DOTS(T, t) { LRQ_TYPE_##T, lrq_dot_##t##_ref, NULL, NULL }
#endif
static const dot_row dots[] = {
    DOTS(F32, f32), DOTS(F16, f16), DOTS(BF16, bf16), DOTS(Q4_0, q4_0), DOTS(Q4_1, q4_1),
    DOTS(Q5_0, q5_0), DOTS(Q5_1, q5_1), DOTS(Q8_0, q8_0), DOTS(IQ4_NL, iq4_nl), DOTS(Q2_K, q2_K),
    DOTS(Q3_K, q3_K), DOTS(Q4_K, q4_K), DOTS(Q5_K, q5_K), DOTS(Q6_K, q6_K),
    DOTS(IQ2_XXS, iq2_xxs), DOTS(IQ2_XS, iq2_xs), DOTS(IQ2_S, iq2_s), DOTS(IQ3_XXS, iq3_xxs), DOTS(IQ3_S, iq3_s),
    DOTS(IQ4_XS, iq4_xs),
};
#undef DOTS

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
#else
    return "scalar";
#endif
}

static int rank(const char *isa) { return strcmp(isa, "avx512") == 0 ? 2 : strcmp(isa, "avx2") == 0 ? 1 : 0; }

static void init_once_fn(void) {
    const char *best = detect(), *pick = best;
    const char *want = getenv("LRQ_ISA");
    if (want && *want) {
        if (strcmp(want, "scalar") && strcmp(want, "avx2") && strcmp(want, "avx512"))
            snprintf(isa_note, sizeof isa_note, "LRQ_ISA=%.32s is not one of scalar, avx2, avx512; using %s", want,
                     best);
        else if (rank(want) > rank(best))
            snprintf(isa_note, sizeof isa_note, "LRQ_ISA=%.32s: this CPU lacks it; using %s", want, best);
        else
            pick = want;
    }
    const int lvl = rank(pick);
    for (size_t i = 0; i < sizeof dots / sizeof dots[0]; i++) {
        lrq_type_traits *t = lrq_type_row(dots[i].type);
        t->vec_dot_ref = dots[i].ref;
        t->vec_dot = lvl == 2 && dots[i].avx512 ? dots[i].avx512 : lvl >= 1 && dots[i].avx2 ? dots[i].avx2 : dots[i].ref;
        lrq_vec_dot_fn gdot = NULL;
        int r = 0, c = 0;
        lrq_gemm_fn g = lvl ? lrq_gemm_get_isa(dots[i].type, pick, &r, &c, &gdot) : NULL;
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
