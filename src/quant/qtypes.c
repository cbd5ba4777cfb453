/* qtypes.c — the type-traits table (sizes for every ggml type id so files
 * with any type can be read and described; compute functions for the types
 * lrq supports) and run-time kernel selection. */
#include "qtypes.h"
#include "quant_impl.h"
#include "quant_k.h"
#include "core/core.h"

#include <pthread.h>
#if defined(LRQ_HAVE_X86)
#include <cpuid.h>
#endif
#include <stdlib.h>
#include <string.h>

#define SZ_HALF 2

#define T_SIZE(nm, bs, ts) { .name = nm, .blck_size = bs, .type_size = ts }
#define T_FULL(nm, bs, ts, t, vdt) \
    { .name = nm, .blck_size = bs, .type_size = ts, .to_float = lrq_dequant_##t, \
      .vec_dot_type = vdt, .vec_dot_ref = lrq_dot_##t##_ref, .vec_dot = lrq_dot_##t##_ref }

static lrq_type_traits traits[LRQ_TYPE_COUNT] = {
    [LRQ_TYPE_F32] = T_FULL("f32", 1, 4, f32, LRQ_TYPE_F32),
    [LRQ_TYPE_F16] = T_FULL("f16", 1, 2, f16, LRQ_TYPE_F16),
    [LRQ_TYPE_BF16] = T_FULL("bf16", 1, 2, bf16, LRQ_TYPE_BF16),
    [LRQ_TYPE_Q4_0] = T_FULL("q4_0", 32, SZ_HALF + 16, q4_0, LRQ_TYPE_Q8_0),
    [LRQ_TYPE_Q4_1] = T_FULL("q4_1", 32, 2 * SZ_HALF + 16, q4_1, LRQ_TYPE_Q8_1),
    [LRQ_TYPE_Q5_0] = T_FULL("q5_0", 32, SZ_HALF + 4 + 16, q5_0, LRQ_TYPE_Q8_0),
    [LRQ_TYPE_Q5_1] = T_FULL("q5_1", 32, 2 * SZ_HALF + 4 + 16, q5_1, LRQ_TYPE_Q8_1),
    [LRQ_TYPE_Q8_0] = T_FULL("q8_0", 32, SZ_HALF + 32, q8_0, LRQ_TYPE_Q8_0),
    [LRQ_TYPE_Q8_1] = T_SIZE("q8_1", 32, 2 * SZ_HALF + 32),
    [LRQ_TYPE_Q2_K] = T_FULL("q2_K", 256, 2 * SZ_HALF + 16 + 64, q2_K, LRQ_TYPE_Q8_K),
    [LRQ_TYPE_Q3_K] = T_FULL("q3_K", 256, SZ_HALF + 64 + 32 + 12, q3_K, LRQ_TYPE_Q8_K),
    [LRQ_TYPE_Q4_K] = T_FULL("q4_K", 256, 2 * SZ_HALF + 12 + 128, q4_K, LRQ_TYPE_Q8_K),
    [LRQ_TYPE_Q5_K] = T_FULL("q5_K", 256, 2 * SZ_HALF + 12 + 128 + 32, q5_K, LRQ_TYPE_Q8_K),
    [LRQ_TYPE_Q6_K] = T_FULL("q6_K", 256, SZ_HALF + 16 + 192, q6_K, LRQ_TYPE_Q8_K),
    [LRQ_TYPE_Q8_K] = T_SIZE("q8_K", 256, 4 + 256 + 16 * 2),
    [LRQ_TYPE_IQ2_XXS] = T_SIZE("iq2_xxs", 256, SZ_HALF + 64),
    [LRQ_TYPE_IQ2_XS] = T_SIZE("iq2_xs", 256, SZ_HALF + 64 + 8),
    [LRQ_TYPE_IQ3_XXS] = T_SIZE("iq3_xxs", 256, SZ_HALF + 96),
    [LRQ_TYPE_IQ1_S] = T_SIZE("iq1_s", 256, SZ_HALF + 32 + 16),
    [LRQ_TYPE_IQ4_NL] = T_FULL("iq4_nl", 32, SZ_HALF + 16, iq4_nl, LRQ_TYPE_Q8_0),
    [LRQ_TYPE_IQ3_S] = T_SIZE("iq3_s", 256, SZ_HALF + 13 * 8 + 4),
    [LRQ_TYPE_IQ2_S] = T_SIZE("iq2_s", 256, SZ_HALF + 64 + 16),
    [LRQ_TYPE_IQ4_XS] = T_SIZE("iq4_xs", 256, SZ_HALF + 2 + 4 + 128),
    [LRQ_TYPE_I8] = T_SIZE("i8", 1, 1),
    [LRQ_TYPE_I16] = T_SIZE("i16", 1, 2),
    [LRQ_TYPE_I32] = T_SIZE("i32", 1, 4),
    [LRQ_TYPE_I64] = T_SIZE("i64", 1, 8),
    [LRQ_TYPE_F64] = T_SIZE("f64", 1, 8),
    [LRQ_TYPE_IQ1_M] = T_SIZE("iq1_m", 256, 32 + 16 + 8),
    [LRQ_TYPE_TQ1_0] = T_SIZE("tq1_0", 256, SZ_HALF + 4 + 48),
    [LRQ_TYPE_TQ2_0] = T_SIZE("tq2_0", 256, SZ_HALF + 64),
    [LRQ_TYPE_MXFP4] = T_SIZE("mxfp4", 32, 1 + 16),
    [LRQ_TYPE_NVFP4] = T_SIZE("nvfp4", 64, 4 + 32),
    [LRQ_TYPE_Q1_0] = T_SIZE("q1_0", 128, SZ_HALF + 16),
    [LRQ_TYPE_Q2_0] = T_SIZE("q2_0", 64, SZ_HALF + 16),
};

static const char *isa_name = "scalar";
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void set_partner_and_ref(void) {
    traits[LRQ_TYPE_F32].from_float = lrq_act_f32;
    traits[LRQ_TYPE_F16].from_float = lrq_act_f16;
    traits[LRQ_TYPE_BF16].from_float = lrq_act_bf16;
    traits[LRQ_TYPE_Q8_0].from_float = lrq_act_q8_0;
    traits[LRQ_TYPE_Q8_1].from_float = lrq_act_q8_1;
    traits[LRQ_TYPE_Q8_1].to_float = lrq_dequant_q8_1;
    traits[LRQ_TYPE_Q8_K].from_float = lrq_act_q8_K;
    traits[LRQ_TYPE_Q8_K].to_float = lrq_dequant_q8_K;
    traits[LRQ_TYPE_F32].quantize_ref = lrq_quant_ref_f32;
    traits[LRQ_TYPE_F16].quantize_ref = lrq_quant_ref_f16;
    traits[LRQ_TYPE_BF16].quantize_ref = lrq_quant_ref_bf16;
    traits[LRQ_TYPE_Q4_0].quantize_ref = lrq_quant_ref_q4_0;
    traits[LRQ_TYPE_Q4_1].quantize_ref = lrq_quant_ref_q4_1;
    traits[LRQ_TYPE_Q5_0].quantize_ref = lrq_quant_ref_q5_0;
    traits[LRQ_TYPE_Q5_1].quantize_ref = lrq_quant_ref_q5_1;
    traits[LRQ_TYPE_Q8_0].quantize_ref = lrq_quant_ref_q8_0;
    traits[LRQ_TYPE_IQ4_NL].quantize_ref = lrq_quant_ref_iq4_nl;
    traits[LRQ_TYPE_Q2_K].quantize_ref = lrq_quant_ref_q2_K;
    traits[LRQ_TYPE_Q3_K].quantize_ref = lrq_quant_ref_q3_K;
    traits[LRQ_TYPE_Q4_K].quantize_ref = lrq_quant_ref_q4_K;
    traits[LRQ_TYPE_Q5_K].quantize_ref = lrq_quant_ref_q5_K;
    traits[LRQ_TYPE_Q6_K].quantize_ref = lrq_quant_ref_q6_K;
}

#if defined(LRQ_HAVE_X86)
#define SET_DOTS(T, t, isa) traits[LRQ_TYPE_##T].vec_dot = lrq_dot_##t##_##isa
static void set_dots(const char *isa) {
    if (strcmp(isa, "avx512") == 0) {
        SET_DOTS(F32, f32, avx512); SET_DOTS(F16, f16, avx512); SET_DOTS(BF16, bf16, avx512);
        SET_DOTS(Q4_0, q4_0, avx512); SET_DOTS(Q4_1, q4_1, avx512); SET_DOTS(Q5_0, q5_0, avx512);
        SET_DOTS(Q5_1, q5_1, avx512); SET_DOTS(Q8_0, q8_0, avx512); SET_DOTS(IQ4_NL, iq4_nl, avx512);
        SET_DOTS(Q2_K, q2_K, avx512); SET_DOTS(Q3_K, q3_K, avx512); SET_DOTS(Q4_K, q4_K, avx512);
        SET_DOTS(Q5_K, q5_K, avx512); SET_DOTS(Q6_K, q6_K, avx512);
    } else if (strcmp(isa, "avx2") == 0) {
        SET_DOTS(F32, f32, avx2); SET_DOTS(F16, f16, avx2); SET_DOTS(BF16, bf16, avx2);
        SET_DOTS(Q4_0, q4_0, avx2); SET_DOTS(Q4_1, q4_1, avx2); SET_DOTS(Q5_0, q5_0, avx2);
        SET_DOTS(Q5_1, q5_1, avx2); SET_DOTS(Q8_0, q8_0, avx2); SET_DOTS(IQ4_NL, iq4_nl, avx2);
        SET_DOTS(Q2_K, q2_K, avx2); SET_DOTS(Q3_K, q3_K, avx2); SET_DOTS(Q4_K, q4_K, avx2);
        SET_DOTS(Q5_K, q5_K, avx2); SET_DOTS(Q6_K, q6_K, avx2);
    }
}
#endif

static void types_init_once(void) {
    set_partner_and_ref();
    const char *want = getenv("LRQ_ISA");
#if defined(LRQ_HAVE_X86)
    __builtin_cpu_init();
    int has512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                 __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
                 __builtin_cpu_supports("avx512vnni");
    /* F16C via CPUID leaf 1, ECX bit 29 (clang's __builtin_cpu_supports lacks "f16c"). */
    unsigned a, b, cx, d;
    int f16c = __get_cpuid(1, &a, &b, &cx, &d) && (cx & (1u << 29));
    int has2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && f16c;
    has512 = has512 && has2;
    const char *pick = has512 ? "avx512" : has2 ? "avx2" : "scalar";
    if (want && strcmp(want, "scalar") == 0) pick = "scalar";
    if (want && strcmp(want, "avx2") == 0 && has2) pick = "avx2";
    set_dots(pick);
    isa_name = pick;
#else
    (void)want;
    isa_name = "scalar";
#endif
}

void lrq_types_init(void) { pthread_once(&init_once, types_init_once); }

const char *lrq_types_isa(void) {
    lrq_types_init();
    return isa_name;
}

const lrq_type_traits *lrq_type_get(int type) {
    if (type < 0 || type >= LRQ_TYPE_COUNT || traits[type].blck_size == 0) return NULL;
    lrq_types_init();
    return &traits[type];
}

const char *lrq_type_name(int type) {
    if (type < 0 || type >= LRQ_TYPE_COUNT || !traits[type].name) return "unknown";
    return traits[type].name;
}

int lrq_type_supported(int type) {
    const lrq_type_traits *t = lrq_type_get(type);
    return t && t->to_float && t->vec_dot_ref;
}

int lrq_row_size(int type, int64_t n, size_t *out) {
    if (type < 0 || type >= LRQ_TYPE_COUNT || traits[type].blck_size == 0 || n < 0) return -1;
    const lrq_type_traits *t = &traits[type];
    if (n % t->blck_size) return -1;
    return lrq_mul_size((size_t)(n / t->blck_size), t->type_size, out);
}
