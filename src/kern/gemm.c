/* gemm.c — picks the tile kernel (gemm.h) for a weight type and ISA. A tile
 * kernel is only handed out together with the vec_dot kernel it reproduces
 * bit for bit, and lrq_gemm_get checks that this is the vec_dot the type
 * traits selected. */
#include "kern/gemm.h"
#include "fmt/impl.h"
#include "kern/dots.h"

#include <string.h>

typedef struct {
    int type;
    lrq_gemm_fn gemm;
    lrq_vec_dot_fn dot;
    int rows, cols;
} gemm_entry;

#if defined(LRQ_HAVE_X86)
static const gemm_entry avx512_tab[] = {
    { LRQ_TYPE_F32, lrq_gemm_f32_avx512, lrq_dot_f32_avx512, 4, 4 },
    { LRQ_TYPE_F16, lrq_gemm_f16_avx512, lrq_dot_f16_avx512, 4, 4 },
    { LRQ_TYPE_Q4_0, lrq_gemm_q4_0_avx512, lrq_dot_q4_0_avx512, 4, 4 },
    { LRQ_TYPE_Q5_0, lrq_gemm_q5_0_avx512, lrq_dot_q5_0_avx512, 4, 4 },
    { LRQ_TYPE_Q8_0, lrq_gemm_q8_0_avx512, lrq_dot_q8_0_avx512, 4, 4 },
    { LRQ_TYPE_IQ4_NL, lrq_gemm_iq4_nl_avx512, lrq_dot_iq4_nl_avx512, 4, 4 },
    { LRQ_TYPE_Q2_K, lrq_gemm_q2_K_avx512, lrq_dot_q2_K_avx512, 4, 4 },
    { LRQ_TYPE_Q3_K, lrq_gemm_q3_K_avx512, lrq_dot_q3_K_avx512, 4, 4 },
    { LRQ_TYPE_Q4_K, lrq_gemm_q4_K_avx512, lrq_dot_q4_K_avx512, 4, 4 },
    { LRQ_TYPE_Q5_K, lrq_gemm_q5_K_avx512, lrq_dot_q5_K_avx512, 4, 4 },
    { LRQ_TYPE_Q6_K, lrq_gemm_q6_K_avx512, lrq_dot_q6_K_avx512, 4, 4 },
    { LRQ_TYPE_IQ2_XXS, lrq_gemm_iq2_xxs_avx512, lrq_dot_iq2_xxs_avx512, 4, 4 },
    { LRQ_TYPE_IQ2_XS, lrq_gemm_iq2_xs_avx512, lrq_dot_iq2_xs_avx512, 4, 4 },
    { LRQ_TYPE_IQ2_S, lrq_gemm_iq2_s_avx512, lrq_dot_iq2_s_avx512, 4, 4 },
    { LRQ_TYPE_IQ3_XXS, lrq_gemm_iq3_xxs_avx512, lrq_dot_iq3_xxs_avx512, 4, 4 },
    { LRQ_TYPE_IQ3_S, lrq_gemm_iq3_s_avx512, lrq_dot_iq3_s_avx512, 4, 4 },
    { LRQ_TYPE_IQ4_XS, lrq_gemm_iq4_xs_avx512, lrq_dot_iq4_xs_avx512, 4, 4 },
};
static const gemm_entry avx2_tab[] = {
    { LRQ_TYPE_F32, lrq_gemm_f32_avx2, lrq_dot_f32_avx2, 2, 4 },
    { LRQ_TYPE_F16, lrq_gemm_f16_avx2, lrq_dot_f16_avx2, 2, 4 },
    { LRQ_TYPE_Q4_0, lrq_gemm_q4_0_avx2, lrq_dot_q4_0_avx2, 2, 4 },
    { LRQ_TYPE_Q8_0, lrq_gemm_q8_0_avx2, lrq_dot_q8_0_avx2, 2, 4 },
    { LRQ_TYPE_Q2_K, lrq_gemm_q2_K_avx2, lrq_dot_q2_K_avx2, 2, 4 },
    { LRQ_TYPE_Q3_K, lrq_gemm_q3_K_avx2, lrq_dot_q3_K_avx2, 2, 4 },
    { LRQ_TYPE_Q4_K, lrq_gemm_q4_K_avx2, lrq_dot_q4_K_avx2, 2, 4 },
    { LRQ_TYPE_Q5_K, lrq_gemm_q5_K_avx2, lrq_dot_q5_K_avx2, 2, 4 },
    { LRQ_TYPE_Q6_K, lrq_gemm_q6_K_avx2, lrq_dot_q6_K_avx2, 2, 4 },
};
#endif

lrq_gemm_fn lrq_gemm_get_isa(int type, const char *isa, int *tile_rows, int *tile_cols, lrq_vec_dot_fn *dot) {
    *tile_rows = *tile_cols = 0;
    if (dot) *dot = NULL;
#if defined(LRQ_HAVE_X86)
    const gemm_entry *tab = NULL;
    size_t n = 0;
    if (strcmp(isa, "avx512") == 0) {
        tab = avx512_tab;
        n = sizeof avx512_tab / sizeof avx512_tab[0];
    } else if (strcmp(isa, "avx2") == 0) {
        tab = avx2_tab;
        n = sizeof avx2_tab / sizeof avx2_tab[0];
    }
    for (size_t i = 0; i < n; i++)
        if (tab[i].type == type && tab[i].gemm) {
            *tile_rows = tab[i].rows;
            *tile_cols = tab[i].cols;
            if (dot) *dot = tab[i].dot;
            return tab[i].gemm;
        }
#else
    (void)type;
    (void)isa;
#endif
    return NULL;
}

lrq_gemm_fn lrq_gemm_get(int type, int *tile_rows, int *tile_cols) {
    lrq_types_init();
    const lrq_type_traits *tt = lrq_type_get(type);
    *tile_rows = tt && tt->gemm ? tt->gemm_rows : 0;
    *tile_cols = tt && tt->gemm ? tt->gemm_cols : 0;
    return tt ? tt->gemm : NULL;
}

/* ---- exact-order F16/BF16 tiles (gemm.h: lrq_gemm_order_get) ---- */

lrq_gemm_fn lrq_gemm_order_get_isa(int type, const char *isa, int *tile_rows, int *tile_cols) {
    *tile_rows = *tile_cols = 0;
#if defined(LRQ_HAVE_X86)
    /* Tile sizes: the register budget of each kernel (see its file). */
    static const struct { int type; const char *isa; lrq_gemm_fn gemm; int rows, cols; } tab[] = {
        { LRQ_TYPE_F16, "avx512", lrq_gemm_order_f16_avx512, 4, 6 },
        { LRQ_TYPE_BF16, "avx512bf16", lrq_gemm_order_bf16_avx512bf16, 4, 6 },
        { LRQ_TYPE_BF16, "avx512", lrq_gemm_order_bf16_avx512, 4, 4 },
        { LRQ_TYPE_F16, "avx2", lrq_gemm_order_f16_avx2, 2, 4 },
        { LRQ_TYPE_BF16, "avx2", lrq_gemm_order_bf16_avx2, 2, 4 },
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (tab[i].type == type && strcmp(tab[i].isa, isa) == 0) {
            *tile_rows = tab[i].rows;
            *tile_cols = tab[i].cols;
            return tab[i].gemm;
        }
#else
    (void)type;
    (void)isa;
#endif
    return NULL;
}

int lrq_cpu_has_avx512bf16(void) {
#if defined(LRQ_HAVE_X86)
    return strcmp(lrq_types_isa(), "avx512") == 0 && __builtin_cpu_supports("avx512bf16");
#else
    return 0;
#endif
}

lrq_gemm_fn lrq_gemm_order_get(int type, int *tile_rows, int *tile_cols) {
    const char *isa = lrq_types_isa();
    if (type == LRQ_TYPE_BF16 && lrq_cpu_has_avx512bf16()) isa = "avx512bf16";
    return lrq_gemm_order_get_isa(type, isa, tile_rows, tile_cols);
}
