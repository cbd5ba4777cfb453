/* quantize.c — lrq_quantize_rows: dispatch to the reference quantizer of a
 * type's traits row (llama-quantize without an importance matrix). */
#include "fmt/quantize.h"

#include "core/core.h"
#include "fmt/types.h"

int lrq_quantize_supported(int type, int imat) {
    const lrq_type_traits *t = lrq_type_get(type);
    if (!t || !t->quantize_ref) return 0;
    return imat ? 0 : 1;
}

int lrq_quantize_rows(int type, const float *x, void *y, int64_t nrow, int64_t n_per_row, const float *imatrix) {
    const lrq_type_traits *t = lrq_type_get(type);
    if (!t || !t->quantize_ref) return lrq_err_set("quantize: lrq cannot write type %s", lrq_type_name(type));
    if (imatrix) return lrq_err_set("quantize: type %s with an importance matrix is not implemented", t->name);
    if (nrow < 0 || n_per_row < 0) return lrq_err_set("quantize: negative size (%lld x %lld)", (long long)nrow,
                                                      (long long)n_per_row);
    size_t rs = 0;
    if (lrq_row_size(type, n_per_row, &rs) != 0)
        return lrq_err_set("quantize: a row of %lld values does not fit type %s (block size %d)",
                           (long long)n_per_row, t->name, t->blck_size);
    for (int64_t r = 0; r < nrow; r++)
        t->quantize_ref(x + r * n_per_row, (char *)y + (size_t)r * rs, n_per_row);
    return 0;
}
