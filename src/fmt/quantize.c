/* quantize.c — lrq_quantize_rows: the quantizer llama-quantize v0.5.0 runs
 * for a type (ggml_quantize_chunk): without an importance matrix the
 * type's reference quantizer (its traits row's quantize_ref; IQ4_XS, which
 * lrq cannot compute with, has its own here), with one the weighted
 * quantizer of fmt/quant_imat.h. Q8_0, F16, BF16 and F32 ignore an
 * importance matrix, as in llama.cpp. */
#include "fmt/quantize.h"

#include "core/core.h"
#include "fmt/quant_imat.h"
#include "fmt/types.h"

typedef void (*ref_fn)(const float *x, void *y, int64_t n);
typedef void (*imat_fn)(const float *x, void *y, int64_t n, const float *qw);

/* The importance-weighted quantizer of a type; NULL for types that ignore
 * the matrix (they use the reference one) or that lrq cannot write. */
static imat_fn imat_of(int type, int *ignores) {
    *ignores = 0;
    switch (type) {
    case LRQ_TYPE_Q4_0: return lrq_quant_imat_q4_0;
    case LRQ_TYPE_Q4_1: return lrq_quant_imat_q4_1;
    case LRQ_TYPE_Q5_0: return lrq_quant_imat_q5_0;
    case LRQ_TYPE_Q5_1: return lrq_quant_imat_q5_1;
    case LRQ_TYPE_Q2_K: return lrq_quant_imat_q2_K;
    case LRQ_TYPE_Q3_K: return lrq_quant_imat_q3_K;
    case LRQ_TYPE_Q4_K: return lrq_quant_imat_q4_K;
    case LRQ_TYPE_Q5_K: return lrq_quant_imat_q5_K;
    case LRQ_TYPE_Q6_K: return lrq_quant_imat_q6_K;
    case LRQ_TYPE_IQ4_NL: return lrq_quant_imat_iq4_nl;
    case LRQ_TYPE_IQ4_XS: return lrq_quant_imat_iq4_xs;
    case LRQ_TYPE_Q8_0: case LRQ_TYPE_F16: case LRQ_TYPE_BF16: case LRQ_TYPE_F32:
        *ignores = 1;
        return NULL;
    default: return NULL;
    }
}

static ref_fn ref_of(int type) {
    if (type == LRQ_TYPE_IQ4_XS) return lrq_quant_ref_iq4_xs;
    const lrq_type_traits *t = lrq_type_get(type);
    return t ? t->quantize_ref : NULL;
}

int lrq_quantize_supported(int type, int imat) {
    ref_fn r = ref_of(type);
    if (!r) return 0;
    if (!imat) return 1;
    int ignores;
    return imat_of(type, &ignores) || ignores;
}

int lrq_quantize_rows(int type, const float *x, void *y, int64_t nrow, int64_t n_per_row, const float *imatrix) {
    const lrq_type_traits *t = lrq_type_get(type);
    ref_fn r = ref_of(type);
    if (!t || !r) return lrq_err_set("quantize: lrq cannot write type %s", lrq_type_name(type));
    int ignores;
    imat_fn f = imat_of(type, &ignores);
    if (imatrix && !f && !ignores)
        return lrq_err_set("quantize: type %s with an importance matrix is not implemented", t->name);
    if (nrow < 0 || n_per_row < 0) return lrq_err_set("quantize: negative size (%lld x %lld)", (long long)nrow,
                                                      (long long)n_per_row);
    size_t rs = 0;
    if (lrq_row_size(type, n_per_row, &rs) != 0)
        return lrq_err_set("quantize: a row of %lld values does not fit type %s (block size %d)",
                           (long long)n_per_row, t->name, t->blck_size);
    for (int64_t i = 0; i < nrow; i++) {
        void *yr = (char *)y + (size_t)i * rs;
        if (imatrix && f) f(x + i * n_per_row, yr, n_per_row, imatrix);
        else r(x + i * n_per_row, yr, n_per_row);
    }
    return 0;
}
