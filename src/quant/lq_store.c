/* lq_store.c — lq matrices into a GGUF (quant/lq_store.h). */
#include "quant/lq_store.h"

#include "core/core.h"
#include "fmt/types.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int lrq_lq_encode_part(const lrq_lq_qt *q, int kind, uint8_t *out) {
    const lrq_lq_spec *s = &q->spec;
    const uint64_t N = (uint64_t)q->nrow * (uint64_t)q->ng;
    const int bf = s->pstore == LRQ_LQ_P_BF16;
    switch (kind) {
    case LRQ_LQ_CODES:
        memcpy(out, q->codes, (size_t)q->nrow * q->row_bytes);
        return 0;
    case LRQ_LQ_S:
    case LRQ_LQ_Z: {
        const float *v = kind == LRQ_LQ_S ? q->scale : q->zero;
        if (s->pstore == LRQ_LQ_P_Q || !v) break;
        for (uint64_t i = 0; i < N; i++) { /* exact: the planes hold stored values */
            const uint16_t h = bf ? lrq_f32_to_bf16(v[i]) : lrq_f32_to_f16(v[i]);
            memcpy(out + 2 * i, &h, 2);
        }
        return 0;
    }
    case LRQ_LQ_SQ:
        if (!q->sq) break;
        lrq_lq_pack_bits(q->sq, N, s->pbits, out);
        return 0;
    case LRQ_LQ_SD:
        if (!q->sd) break;
        memcpy(out, q->sd, (size_t)q->n_super * 2);
        return 0;
    case LRQ_LQ_ZQ: {
        if (s->pstore != LRQ_LQ_P_Q || !q->zero) break;
        uint8_t *z = lrq_malloc((size_t)N + 1);
        if (!z) return -1;
        for (uint64_t i = 0; i < N; i++) z[i] = (uint8_t)q->zero[i]; /* integers in [0, 2^b - 1] */
        lrq_lq_pack_bits(z, N, s->bits, out);
        free(z);
        return 0;
    }
    case LRQ_LQ_OG:
        if (!q->og) break;
        lrq_lq_pack_bits(q->og, N, 2, out);
        return 0;
    case LRQ_LQ_CB:
        if (!q->codebook) break;
        memcpy(out, q->codebook, (size_t)q->cb_rows * sizeof(float) << s->bits);
        return 0;
    }
    return lrq_err_set("lq: part %d is not part of spec's layout", kind);
}

/* ---------- streaming ---------- */

typedef struct item {
    lrq_lq_store *st;
    char *name;
    lrq_lq_spec spec;
    uint32_t n_dims;
    int64_t ne[4];
    lrq_lq_part parts[LRQ_LQ_N_PARTS];
    int n_parts, next;           /* parts in the file; the next one to be filled */
    const float *imp;
    uint64_t seed;
    lrq_lq_src_fn src;
    lrq_lq_done_fn done;
    void *ud;
    lrq_lq_qt q;                 /* alive from the codes' fill to the last companion's */
} item;

struct lrq_lq_store {
    struct lrq_pool *pool;
    lrq_lq_quant_fn quant;       /* NULL: lrq_lq_quantize */
    item **items;
    size_t n, cap;
};

lrq_lq_store *lrq_lq_store_new(struct lrq_pool *pool) {
    lrq_lq_store *st = lrq_calloc(1, sizeof *st);
    if (st) st->pool = pool;
    return st;
}

void lrq_lq_store_set_quantizer(lrq_lq_store *st, lrq_lq_quant_fn fn) { st->quant = fn; }

void lrq_lq_store_free(lrq_lq_store *st) {
    if (!st) return;
    for (size_t i = 0; i < st->n; i++) {
        lrq_lq_qt_free(&st->items[i]->q);
        free(st->items[i]->name);
        free(st->items[i]);
    }
    free(st->items);
    free(st);
}

uint64_t lrq_lq_name_seed(const char *name) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a 64 */
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) h = (h ^ *p) * 1099511628211ull;
    return h;
}

static int fill(void *ud, size_t index, lrq_gguf_sink *sink) {
    (void)index;
    item *it = ud;
    if (it->next >= it->n_parts) return lrq_err_set("lq: tensor '%s': filled too often", it->name);
    const lrq_lq_part *p = &it->parts[it->next];
    if (p->kind == LRQ_LQ_CODES) {
        size_t nel;
        const int64_t rows = p->ne[1] * p->ne[2] * p->ne[3];
        if (lrq_mul_size((size_t)p->ne[0], (size_t)rows, &nel) || nel > SIZE_MAX / sizeof(float))
            return lrq_err_set("lq: tensor '%s' too large", it->name);
        float *x = lrq_malloc(nel * sizeof *x + 1);
        if (!x) return -1;
        int r = it->src(it->ud, x);
        if (!r)
            r = it->st->quant ? it->st->quant(it->ud, &it->spec, x, p->ne[0], rows, it->imp, it->seed, it->st->pool, &it->q)
                              : lrq_lq_quantize(&it->spec, x, p->ne[0], rows, it->imp, it->seed, it->st->pool, &it->q);
        if (r) {
            free(x);
            return lrq_err_prefix("tensor '%s'", it->name);
        }
        if (it->done) it->done(it->ud, &it->q, x);
        free(x);
        /* the codes are already in their stored form */
        if (lrq_gguf_sink_put(sink, it->q.codes, (size_t)p->nbytes)) return -1;
    } else {
        uint8_t *b = lrq_malloc((size_t)p->nbytes + 1);
        if (!b) return -1;
        int r = lrq_lq_encode_part(&it->q, p->kind, b) || lrq_gguf_sink_put(sink, b, (size_t)p->nbytes);
        free(b);
        if (r) return lrq_err_prefix("tensor '%s%s'", it->name, p->suffix);
    }
    if (++it->next == it->n_parts) lrq_lq_qt_free(&it->q);
    return 0;
}

int lrq_lq_store_add(lrq_lq_store *st, lrq_gguf_writer *w, const char *name, const lrq_lq_spec *s, uint32_t n_dims,
                     const int64_t *ne, const float *imp, uint64_t seed, lrq_lq_src_fn src, lrq_lq_done_fn done,
                     void *ud) {
    item *it = lrq_calloc(1, sizeof *it);
    if (!it) return -1;
    it->st = st;
    it->spec = *s;
    it->n_dims = n_dims;
    it->imp = imp;
    it->seed = seed;
    it->src = src;
    it->done = done;
    it->ud = ud;
    char key[160], spec[64], cname[96];
    if (!(it->name = lrq_strdup(name))) goto fail;
    if ((it->n_parts = lrq_lq_layout(s, n_dims, ne, it->parts)) < 0) goto fail_named;
    if (lrq_lq_key(name, key, sizeof key) || lrq_lq_spec_format(s, spec, sizeof spec)) goto fail_named;
    if (st->n == st->cap) {
        size_t cap = st->cap ? 2 * st->cap : 64;
        item **ni = lrq_realloc(st->items, cap * sizeof *ni);
        if (!ni) goto fail;
        st->items = ni;
        st->cap = cap;
    }
    if (lrq_gguf_writer_set_str(w, key, spec)) goto fail;
    for (int i = 0; i < it->n_parts; i++) {
        const lrq_lq_part *p = &it->parts[i];
        int n = snprintf(cname, sizeof cname, "%s%s", name, p->suffix);
        if (n < 0 || (size_t)n >= sizeof cname) {
            lrq_err_set("lq: tensor name '%s%s' too long", name, p->suffix);
            goto fail;
        }
        if (lrq_gguf_writer_add_tensor_fill(w, cname, p->type, p->n_dims, p->ne, fill, it)) goto fail;
    }
    st->items[st->n++] = it; /* the writer holds pointers to it from here on */
    return 0;
fail_named:
    lrq_err_prefix("tensor '%s'", name);
fail:
    /* tensors already registered in w reference it: keep it with the store */
    if (it->name && st->n < st->cap) {
        st->items[st->n++] = it;
        return -1;
    }
    free(it->name);
    free(it);
    return -1;
}
