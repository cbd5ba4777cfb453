/* imatrix_load.c — reading llama.cpp's GGUF importance-matrix files
 * (llama-imatrix v0.5.0's format, see imatrix.h) and turning an entry into
 * the per-column weights llama-quantize hands to its quantizers.
 *
 * The format: for every linear W, two F32 tensors "<W>.in_sum2" with
 * ne = [ne0, n_mat] (n_mat = 1: a 1-D [ne0]) holding Σ x² per input channel
 * and matrix (expert), and "<W>.counts" with n_mat elements (ne = [1, n_mat])
 * holding the tokens each matrix saw; keys imatrix.datasets (string array),
 * imatrix.chunk_count and imatrix.chunk_size (u32). llama-quantize refuses a
 * GGUF imatrix without those three keys, and so does this reader.
 *
 * Everything read from the file is checked before use: a tensor's type and
 * shape, that both halves of an entry exist, that its sizes agree, that
 * values are finite and not negative. The first problem found is reported
 * as one line naming the file, the tensor or key, and what is wrong.
 */
#include "quant/imatrix.h"

#include "core/core.h"
#include "fmt/types.h"
#include "io/gguf.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char SUM2[] = ".in_sum2", COUNTS[] = ".counts";

/* 1 if s ends in suf; *base_len = the length before it. */
static int ends_with(const char *s, const char *suf, size_t *base_len) {
    size_t n = strlen(s), k = strlen(suf);
    if (n <= k || strcmp(s + n - k, suf) != 0) return 0;
    *base_len = n - k;
    return 1;
}

void lrq_imatrix_free(lrq_imatrix *im) {
    if (!im) return;
    for (int32_t i = 0; i < im->n; i++) {
        free(im->e[i].name);
        free(im->e[i].sum2);
        free(im->e[i].counts);
    }
    free(im->e);
    for (int32_t i = 0; i < im->n_datasets; i++) free(im->datasets[i]);
    free(im->datasets);
    free(im);
}

/* The GGUF tensor named base + suffix, or NULL. */
static const lrq_gguf_tensor *find_part(const lrq_gguf *g, const char *base, size_t base_len, const char *suffix) {
    size_t k = strlen(suffix);
    char *nm = lrq_malloc(base_len + k + 1);
    if (!nm) return NULL;
    memcpy(nm, base, base_len);
    memcpy(nm + base_len, suffix, k + 1);
    const lrq_gguf_tensor *t = lrq_gguf_find_tensor(g, nm);
    free(nm);
    return t;
}

/* Copy n little-endian F32 values from a tensor (the mapping need not be
 * aligned), refusing NaN, infinities and negative values. */
static int read_values(const char *path, const lrq_gguf_tensor *t, int64_t n, float *out) {
    const uint8_t *p = t->data;
    for (int64_t i = 0; i < n; i++) {
        uint32_t u = (uint32_t)p[4 * i] | ((uint32_t)p[4 * i + 1] << 8) | ((uint32_t)p[4 * i + 2] << 16) |
                     ((uint32_t)p[4 * i + 3] << 24);
        float v = lrq_bits_to_f32(u);
        if (!isfinite(v))
            return lrq_err_set("%s: tensor '%s': value %lld is not finite", path, t->name, (long long)i);
        if (v < 0.0f)
            return lrq_err_set("%s: tensor '%s': value %lld is negative (%g): sums of squares and counts cannot be",
                               path, t->name, (long long)i, (double)v);
        out[i] = v;
    }
    return 0;
}

/* One entry from its two tensors; e->name is set by the caller. */
static int read_entry(const char *path, const lrq_gguf_tensor *s, const lrq_gguf_tensor *c, lrq_imatrix_entry *e) {
    if (s->type != LRQ_TYPE_F32)
        return lrq_err_set("%s: tensor '%s': type %s, expected f32", path, s->name, lrq_type_name(s->type));
    if (c->type != LRQ_TYPE_F32)
        return lrq_err_set("%s: tensor '%s': type %s, expected f32", path, c->name, lrq_type_name(c->type));
    if (s->n_dims < 1 || s->n_dims > 2 || s->ne[0] < 1 || s->ne[1] < 1)
        return lrq_err_set("%s: tensor '%s': shape must be [ne0] or [ne0, n_mat] with both >= 1", path, s->name);
    int64_t n_mat = s->n_dims == 2 ? s->ne[1] : 1;
    if (n_mat > INT32_MAX)
        return lrq_err_set("%s: tensor '%s': %lld matrices is too many", path, s->name, (long long)n_mat);
    /* counts: n_mat values, [1, n_mat] as llama-imatrix writes it (a 1-D
     * [n_mat] is accepted too: the same values) */
    int64_t nc = 1;
    for (uint32_t d = 0; d < c->n_dims; d++) nc *= c->ne[d]; /* the reader bounds every tensor by the file size */
    if (c->n_dims < 1 || c->n_dims > 2 || nc != n_mat || (c->n_dims == 2 && c->ne[0] != 1))
        return lrq_err_set("%s: tensor '%s': shape must be [1, %lld] (one count per matrix of '%s')", path, c->name,
                           (long long)n_mat, s->name);
    size_t nsum;
    if (lrq_mul_size((size_t)s->ne[0], (size_t)n_mat, &nsum) || nsum > SIZE_MAX / sizeof(float) ||
        s->nbytes < nsum * sizeof(float) || c->nbytes < (size_t)nc * sizeof(float))
        return lrq_err_set("%s: tensor '%s': data shorter than its shape", path, s->name);
    e->ne0 = s->ne[0];
    e->n_mat = (int32_t)n_mat;
    if (!(e->sum2 = lrq_malloc(nsum * sizeof(float))) || !(e->counts = lrq_malloc((size_t)nc * sizeof(float))))
        return -1;
    if (read_values(path, s, (int64_t)nsum, e->sum2) || read_values(path, c, nc, e->counts)) return -1;
    return 0;
}

static int read_keys(const char *path, const lrq_gguf *g, lrq_imatrix *im) {
    uint32_t cc = 0, cs = 0;
    int r1 = lrq_gguf_get_u32(g, "imatrix.chunk_count", &cc);
    if (r1 < 0) return -1;
    int r2 = lrq_gguf_get_u32(g, "imatrix.chunk_size", &cs);
    if (r2 < 0) return -1;
    int et = 0;
    uint64_t nd = 0;
    const lrq_gguf_value *dv = NULL;
    int r3 = lrq_gguf_get_arr(g, "imatrix.datasets", &et, &nd, &dv);
    if (r3 < 0) return -1;
    if (!r1 || !r2 || !r3)
        return lrq_err_set("%s: key '%s' missing: not an imatrix file as llama-imatrix writes it", path,
                           !r1 ? "imatrix.chunk_count" : !r2 ? "imatrix.chunk_size" : "imatrix.datasets");
    if (cc > INT32_MAX || cs > INT32_MAX)
        return lrq_err_set("%s: key '%s': %u is too large", path, cc > INT32_MAX ? "imatrix.chunk_count" :
                           "imatrix.chunk_size", cc > INT32_MAX ? cc : cs);
    if (et != LRQ_GGUF_STRING) return lrq_err_set("%s: key 'imatrix.datasets': expected an array of strings", path);
    if (nd > (uint64_t)INT32_MAX) return lrq_err_set("%s: key 'imatrix.datasets': too many entries", path);
    im->chunk_count = (int32_t)cc;
    im->chunk_size = (int32_t)cs;
    if (nd && !(im->datasets = lrq_calloc((size_t)nd, sizeof *im->datasets))) return -1;
    for (uint64_t i = 0; i < nd; i++) {
        const lrq_gguf_value *v = &dv->v.arr.items[i];
        if (v->v.str.len > SIZE_MAX - 1) return lrq_err_set("%s: key 'imatrix.datasets': string too long", path);
        char *s = lrq_malloc((size_t)v->v.str.len + 1);
        if (!s) return -1;
        memcpy(s, v->v.str.ptr, (size_t)v->v.str.len);
        s[v->v.str.len] = 0;
        im->datasets[i] = s;
        im->n_datasets = (int32_t)(i + 1);
    }
    return 0;
}

int lrq_imatrix_load(const char *path, lrq_imatrix **out) {
    *out = NULL;
    lrq_gguf *g = NULL;
    if (lrq_gguf_open(&g, path)) return lrq_err_prefix("imatrix");
    lrq_imatrix *im = lrq_calloc(1, sizeof *im);
    int64_t nt = lrq_gguf_n_tensors(g);
    if (!im) goto fail;
    if (read_keys(path, g, im)) goto fail;
    /* every tensor must be one half of an entry; entries are listed in the
     * order of their in_sum2 tensors */
    int64_t n_sum = 0;
    for (int64_t i = 0; i < nt; i++) {
        const lrq_gguf_tensor *t = lrq_gguf_tensor_at(g, i);
        size_t bl;
        if (ends_with(t->name, SUM2, &bl)) {
            if (!find_part(g, t->name, bl, COUNTS)) {
                lrq_err_set("%s: tensor '%s' has no '%.*s%s' beside it", path, t->name, (int)bl, t->name, COUNTS);
                goto fail;
            }
            n_sum++;
        } else if (ends_with(t->name, COUNTS, &bl)) {
            if (!find_part(g, t->name, bl, SUM2)) {
                lrq_err_set("%s: tensor '%s' has no '%.*s%s' beside it", path, t->name, (int)bl, t->name, SUM2);
                goto fail;
            }
        } else {
            lrq_err_set("%s: tensor '%s' is neither '<weight>%s' nor '<weight>%s'", path, t->name, SUM2, COUNTS);
            goto fail;
        }
    }
    if (n_sum < 1) {
        lrq_err_set("%s: no entries (no '<weight>%s' tensors)", path, SUM2);
        goto fail;
    }
    if (n_sum > INT32_MAX) {
        lrq_err_set("%s: too many entries", path);
        goto fail;
    }
    if (!(im->e = lrq_calloc((size_t)n_sum, sizeof *im->e))) goto fail;
    for (int64_t i = 0; i < nt; i++) {
        const lrq_gguf_tensor *t = lrq_gguf_tensor_at(g, i);
        size_t bl;
        if (!ends_with(t->name, SUM2, &bl)) continue;
        lrq_imatrix_entry *e = &im->e[im->n++];
        if (!(e->name = lrq_malloc(bl + 1))) goto fail;
        memcpy(e->name, t->name, bl);
        e->name[bl] = 0;
        if (read_entry(path, t, find_part(g, t->name, bl, COUNTS), e)) goto fail;
    }
    lrq_gguf_close(g);
    *out = im;
    return 0;
fail:
    lrq_gguf_close(g);
    lrq_imatrix_free(im);
    return -1;
}

const lrq_imatrix_entry *lrq_imatrix_find(const lrq_imatrix *im, const char *name) {
    if (!im || !name) return NULL;
    for (int32_t i = 0; i < im->n; i++)
        if (!strcmp(im->e[i].name, name)) return &im->e[i];
    return NULL;
}

int lrq_imatrix_weights(const lrq_imatrix_entry *e, int32_t mat, float *w) {
    if (!e || mat < 0 || mat >= e->n_mat)
        return lrq_err_set("imatrix entry '%s': matrix %d not in [0, %d)", e ? e->name : "?", (int)mat,
                           e ? (int)e->n_mat : 0);
    /* llama-quantize rounds each count to an integer (lround) and divides
     * by it; a matrix that saw no tokens gets weight 1 everywhere. A float
     * of 2^23 or more is an integer already (and lroundf could overflow a
     * long far beyond). */
    const float c = e->counts[mat];
    const float count = c >= 8388608.0f ? c : (float)lroundf(c);
    const float *s = e->sum2 + (size_t)mat * (size_t)e->ne0;
    if (count > 0.0f) {
        for (int64_t i = 0; i < e->ne0; i++) w[i] = s[i] / count;
    } else {
        for (int64_t i = 0; i < e->ne0; i++) w[i] = 1.0f;
    }
    return 0;
}
