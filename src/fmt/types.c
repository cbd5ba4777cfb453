/* types.c — the traits table: one row per type id. Sizes for every ggml
 * type id, so files with any type can be read and described; the format
 * functions (dequantize, reference quantizer, activation quantizer) of the
 * types lrq computes with. The kernel slots are filled by kern/dispatch.c. */
#include "fmt/types.h"
#include "fmt/impl.h"
#include "fmt/kquant.h"
#include "core/core.h"

#include <string.h>

#define SZ_HALF 2

#define T_SIZE(nm, bs, ts) { .name = nm, .blck_size = bs, .type_size = ts }
/* A type lrq computes with: dequantization, partner type, where its
 * parameters live; quant_ref / from_float are set per row below. */
#define T_FULL(nm, bs, ts, t, vdt) \
    .name = nm, .blck_size = bs, .type_size = ts, .to_float = lrq_dequant_##t, .vec_dot_type = vdt, \
    .param_layout = (bs) > 1 ? LRQ_PARAMS_IN_BLOCKS : LRQ_PARAMS_NONE

static lrq_type_traits traits[LRQ_TYPE_COUNT] = {
    [LRQ_TYPE_F32] = { T_FULL("f32", 1, 4, f32, LRQ_TYPE_F32), .quantize_ref = lrq_quant_ref_f32,
                       .from_float = lrq_act_f32 },
    [LRQ_TYPE_F16] = { T_FULL("f16", 1, 2, f16, LRQ_TYPE_F16), .quantize_ref = lrq_quant_ref_f16,
                       .from_float = lrq_act_f16 },
    [LRQ_TYPE_BF16] = { T_FULL("bf16", 1, 2, bf16, LRQ_TYPE_BF16), .quantize_ref = lrq_quant_ref_bf16,
                        .from_float = lrq_act_bf16 },
    [LRQ_TYPE_Q4_0] = { T_FULL("q4_0", 32, SZ_HALF + 16, q4_0, LRQ_TYPE_Q8_0), .quantize_ref = lrq_quant_ref_q4_0 },
    [LRQ_TYPE_Q4_1] = { T_FULL("q4_1", 32, 2 * SZ_HALF + 16, q4_1, LRQ_TYPE_Q8_1),
                        .quantize_ref = lrq_quant_ref_q4_1 },
    [LRQ_TYPE_Q5_0] = { T_FULL("q5_0", 32, SZ_HALF + 4 + 16, q5_0, LRQ_TYPE_Q8_0),
                        .quantize_ref = lrq_quant_ref_q5_0 },
    [LRQ_TYPE_Q5_1] = { T_FULL("q5_1", 32, 2 * SZ_HALF + 4 + 16, q5_1, LRQ_TYPE_Q8_1),
                        .quantize_ref = lrq_quant_ref_q5_1 },
    [LRQ_TYPE_Q8_0] = { T_FULL("q8_0", 32, SZ_HALF + 32, q8_0, LRQ_TYPE_Q8_0), .quantize_ref = lrq_quant_ref_q8_0,
                        .from_float = lrq_act_q8_0 },
    [LRQ_TYPE_Q8_1] = { .name = "q8_1", .blck_size = 32, .type_size = 2 * SZ_HALF + 32,
                        .to_float = lrq_dequant_q8_1, .from_float = lrq_act_q8_1 },
    [LRQ_TYPE_Q2_K] = { T_FULL("q2_K", 256, 2 * SZ_HALF + 16 + 64, q2_K, LRQ_TYPE_Q8_K),
                        .quantize_ref = lrq_quant_ref_q2_K },
    [LRQ_TYPE_Q3_K] = { T_FULL("q3_K", 256, SZ_HALF + 64 + 32 + 12, q3_K, LRQ_TYPE_Q8_K),
                        .quantize_ref = lrq_quant_ref_q3_K },
    [LRQ_TYPE_Q4_K] = { T_FULL("q4_K", 256, 2 * SZ_HALF + 12 + 128, q4_K, LRQ_TYPE_Q8_K),
                        .quantize_ref = lrq_quant_ref_q4_K },
    [LRQ_TYPE_Q5_K] = { T_FULL("q5_K", 256, 2 * SZ_HALF + 12 + 128 + 32, q5_K, LRQ_TYPE_Q8_K),
                        .quantize_ref = lrq_quant_ref_q5_K },
    [LRQ_TYPE_Q6_K] = { T_FULL("q6_K", 256, SZ_HALF + 16 + 192, q6_K, LRQ_TYPE_Q8_K),
                        .quantize_ref = lrq_quant_ref_q6_K },
    [LRQ_TYPE_Q8_K] = { .name = "q8_K", .blck_size = 256, .type_size = 4 + 256 + 16 * 2,
                        .to_float = lrq_dequant_q8_K, .from_float = lrq_act_q8_K },
    [LRQ_TYPE_IQ2_XXS] = { T_FULL("iq2_xxs", 256, SZ_HALF + 64, iq2_xxs, LRQ_TYPE_Q8_K) },
    [LRQ_TYPE_IQ2_XS] = { T_FULL("iq2_xs", 256, SZ_HALF + 64 + 8, iq2_xs, LRQ_TYPE_Q8_K) },
    [LRQ_TYPE_IQ3_XXS] = { T_FULL("iq3_xxs", 256, SZ_HALF + 96, iq3_xxs, LRQ_TYPE_Q8_K) },
    [LRQ_TYPE_IQ1_S] = T_SIZE("iq1_s", 256, SZ_HALF + 32 + 16),
    [LRQ_TYPE_IQ4_NL] = { T_FULL("iq4_nl", 32, SZ_HALF + 16, iq4_nl, LRQ_TYPE_Q8_0),
                          .quantize_ref = lrq_quant_ref_iq4_nl },
    [LRQ_TYPE_IQ3_S] = { T_FULL("iq3_s", 256, SZ_HALF + 13 * 8 + 4, iq3_s, LRQ_TYPE_Q8_K) },
    [LRQ_TYPE_IQ2_S] = { T_FULL("iq2_s", 256, SZ_HALF + 64 + 16, iq2_s, LRQ_TYPE_Q8_K) },
    [LRQ_TYPE_IQ4_XS] = { T_FULL("iq4_xs", 256, SZ_HALF + 2 + 4 + 128, iq4_xs, LRQ_TYPE_Q8_K) },
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

/* The lq rows (docs/formats.md): code arrays of planes tensors. No
 * to_float or kernels here: the parameters are not in the codes, so the
 * weights loader attaches them (model/weights_lq.c) and nn/linear.c computes with
 * kern/planes.h. Activations stay F32 (the planes kernels take F32 x). */
#define T_LQ(nm, b) { .name = nm, .blck_size = 8, .type_size = b, .vec_dot_type = LRQ_TYPE_F32, \
                      .param_layout = LRQ_PARAMS_PLANES }
static lrq_type_traits lq_traits[9] = {
    [2] = T_LQ("lq2", 2), [3] = T_LQ("lq3", 3), [4] = T_LQ("lq4", 4),
    [5] = T_LQ("lq5", 5), [6] = T_LQ("lq6", 6), [8] = T_LQ("lq8", 8),
};

int lrq_type_lq(int bits) {
    return bits >= 0 && bits < 9 && lq_traits[bits].name ? LRQ_TYPE_LQ_BASE + bits : -1;
}

int lrq_type_lq_bits(int type) {
    if (type < LRQ_TYPE_LQ_BASE || type > LRQ_TYPE_LQ_BASE + 8) return 0;
    return lq_traits[type - LRQ_TYPE_LQ_BASE].name ? type - LRQ_TYPE_LQ_BASE : 0;
}

static lrq_type_traits *row_of(int type) {
    if (lrq_type_lq_bits(type)) return &lq_traits[type - LRQ_TYPE_LQ_BASE];
    if (type < 0 || type >= LRQ_TYPE_COUNT || traits[type].blck_size == 0) return NULL;
    return &traits[type];
}

lrq_type_traits *lrq_type_row(int type) { return row_of(type); }

const lrq_type_traits *lrq_type_get(int type) { return row_of(type); }

const char *lrq_type_name(int type) {
    const lrq_type_traits *t = row_of(type);
    return t && t->name ? t->name : "unknown";
}

int lrq_type_supported(int type) {
    /* The kernel slots are filled at registration: make sure it happened, so
     * that a caller that only inspects files (lrq info) gets the same answer
     * as one that loads a model. Idempotent and cheap after the first call. */
    lrq_types_init();
    const lrq_type_traits *t = lrq_type_get(type);
    if (t && t->param_layout == LRQ_PARAMS_PLANES) return 1;
    return t && t->to_float && t->vec_dot;
}

int lrq_row_size(int type, int64_t n, size_t *out) {
    const lrq_type_traits *t = row_of(type);
    if (!t || n < 0) return -1;
    if (n % t->blck_size) return -1;
    return lrq_mul_size((size_t)(n / t->blck_size), t->type_size, out);
}
