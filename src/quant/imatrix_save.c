/* imatrix_save.c — lrq_imatrix_save (contract: quant/imatrix.h): an
 * importance matrix in llama.cpp's GGUF imatrix format, laid out as
 * llama-imatrix v0.5.0 writes it (tools/imatrix/imatrix.cpp, save_imatrix):
 *
 *   keys, in this order: general.type = "imatrix", imatrix.datasets (array of
 *   strings), imatrix.chunk_count (u32), imatrix.chunk_size (u32);
 *   tensors, entries sorted by weight name (byte order, as std::sort on
 *   std::string), two per entry, both F32:
 *     "<name>.in_sum2"  ne = [ne0, n_mat]
 *     "<name>.counts"   ne = [1, n_mat]
 *   with ggml's trailing-1 dimensions dropped (a dense entry has
 *   in_sum2 [ne0] and counts [1]), at the default alignment of 32 and no
 *   general.alignment key.
 *
 * The GGUF writer does the atomic part (temporary file, fsync, rename).
 */
#include "quant/imatrix.h"
#include "core/core.h"
#include "fmt/types.h"
#include "io/gguf.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_entry(const void *a, const void *b) {
    return strcmp((*(const lrq_imatrix_entry *const *)a)->name, (*(const lrq_imatrix_entry *const *)b)->name);
}

/* Everything the file would carry is checked first, so that a bad matrix
 * never leaves a file behind (and the error names the entry). */
static int check(const lrq_imatrix *im, const char *path) {
    if (im->n < 0 || (im->n > 0 && !im->e))
        return lrq_err_set("%s: imatrix: %d entries but no entry array", path, im->n);
    if (im->chunk_count < 0 || im->chunk_size < 0)
        return lrq_err_set("%s: imatrix: chunk_count %d / chunk_size %d must not be negative", path,
                           im->chunk_count, im->chunk_size);
    if (im->n_datasets < 0 || (im->n_datasets > 0 && !im->datasets))
        return lrq_err_set("%s: imatrix: %d datasets but no dataset array", path, im->n_datasets);
    for (int32_t i = 0; i < im->n_datasets; i++)
        if (!im->datasets[i]) return lrq_err_set("%s: imatrix: dataset %d has no name", path, i);
    for (int32_t i = 0; i < im->n; i++) {
        const lrq_imatrix_entry *e = &im->e[i];
        if (!e->name || !*e->name) return lrq_err_set("%s: imatrix entry %d: no name", path, i);
        if (e->ne0 < 1 || e->n_mat < 1 || !e->sum2 || !e->counts)
            return lrq_err_set("%s: imatrix entry '%s': ne0 %lld, n_mat %d (both must be >= 1, with data)", path,
                               e->name, (long long)e->ne0, e->n_mat);
        size_t nv;
        if (lrq_mul_size((size_t)e->ne0, (size_t)e->n_mat, &nv) || nv > SIZE_MAX / sizeof(float))
            return lrq_err_set("%s: imatrix entry '%s': %lld x %d values overflow", path, e->name,
                               (long long)e->ne0, e->n_mat);
        for (size_t j = 0; j < nv; j++)
            if (!isfinite(e->sum2[j]) || e->sum2[j] < 0)
                return lrq_err_set("%s: imatrix entry '%s': sum2[%zu] = %g (must be finite and >= 0)", path,
                                   e->name, j, (double)e->sum2[j]);
        for (int32_t j = 0; j < e->n_mat; j++)
            if (!isfinite(e->counts[j]) || e->counts[j] < 0)
                return lrq_err_set("%s: imatrix entry '%s': counts[%d] = %g (must be finite and >= 0)", path,
                                   e->name, j, (double)e->counts[j]);
    }
    return 0;
}

int lrq_imatrix_save(const lrq_imatrix *im, const char *path) {
    if (!im || !path) return lrq_err_set("imatrix save: no matrix or no path");
    if (check(im, path)) return -1;
    const lrq_imatrix_entry **order = lrq_malloc(sizeof *order * (size_t)(im->n > 0 ? im->n : 1));
    lrq_gguf_writer *w = lrq_gguf_writer_new();
    /* tensor names "<name>.in_sum2"/"<name>.counts", kept alive until the write */
    char **names = lrq_calloc((size_t)(im->n > 0 ? im->n : 1) * 2, sizeof *names);
    int rc = -1;
    if (!order || !w || !names) goto done;
    for (int32_t i = 0; i < im->n; i++) order[i] = &im->e[i];
    qsort(order, (size_t)im->n, sizeof *order, cmp_entry);
    for (int32_t i = 1; i < im->n; i++)
        if (!strcmp(order[i]->name, order[i - 1]->name)) {
            lrq_err_set("%s: imatrix: entry '%s' appears twice", path, order[i]->name);
            goto done;
        }

    if (lrq_gguf_writer_set_str(w, "general.type", "imatrix") ||
        lrq_gguf_writer_set_arr_str(w, "imatrix.datasets", (uint64_t)im->n_datasets,
                                    (const char *const *)im->datasets) ||
        lrq_gguf_writer_set_u32(w, "imatrix.chunk_count", (uint32_t)im->chunk_count) ||
        lrq_gguf_writer_set_u32(w, "imatrix.chunk_size", (uint32_t)im->chunk_size))
        goto done;
    for (int32_t i = 0; i < im->n; i++) {
        const lrq_imatrix_entry *e = order[i];
        const size_t nl = strlen(e->name);
        for (int k = 0; k < 2; k++) {
            const char *suffix = k ? ".counts" : ".in_sum2";
            char *s = lrq_malloc(nl + strlen(suffix) + 1);
            if (!s) goto done;
            memcpy(s, e->name, nl);
            strcpy(s + nl, suffix);
            names[2 * i + k] = s;
        }
        /* ggml_n_dims: trailing dimensions of 1 are not written */
        const uint32_t nd = e->n_mat > 1 ? 2 : 1;
        const int64_t ne_sum[2] = { e->ne0, e->n_mat }, ne_cnt[2] = { 1, e->n_mat };
        if (lrq_gguf_writer_add_tensor(w, names[2 * i], LRQ_TYPE_F32, nd, ne_sum, e->sum2) ||
            lrq_gguf_writer_add_tensor(w, names[2 * i + 1], LRQ_TYPE_F32, nd, ne_cnt, e->counts)) {
            lrq_err_prefix("%s", path);
            goto done;
        }
    }
    rc = lrq_gguf_writer_write(w, path);
done:
    if (names)
        for (int32_t i = 0; i < 2 * im->n; i++) free(names[i]);
    free(names);
    lrq_gguf_writer_free(w);
    free(order);
    return rc;
}
