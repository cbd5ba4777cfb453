/* weights_lq.c — binding lq tensors at load (layout: fmt/lq_spec.h,
 * docs/formats.md): the codes stay in the mapping; the parameter companions
 * "<name>.lq_*" are decoded into float planes owned by the weights and
 * referenced from the codes tensor's lrq_qparams view (fmt/tensor.h), with
 * z and the offsets folded into the zero plane / offset (lrq_lq_view) so the
 * kernels pay nothing for per-group offsets. Companions are not tensors of
 * the model: the GGUF loader leaves them out of the tensor list. */
#include "model/weights.h"

#include "core/core.h"
#include "fmt/lq_spec.h"
#include "fmt/types.h"
#include "io/gguf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct lq_owned {
    void **bufs;
    size_t n, cap;
} lq_owned;

static void owned_free(void *p) {
    lq_owned *o = p;
    if (!o) return;
    for (size_t i = 0; i < o->n; i++) free(o->bufs[i]);
    free(o->bufs);
    free(o);
}

/* A buffer of n * each bytes owned by the weights (freed with them). */
static void *owned_alloc(lrq_weights *w, uint64_t n, size_t each) {
    if (!w->priv) {
        if (w->priv_free) { lrq_err_set("%s: lq planes: loader state in use", w->path); return NULL; }
        if (!(w->priv = lrq_calloc(1, sizeof(lq_owned)))) return NULL;
        w->priv_free = owned_free;
    }
    lq_owned *o = w->priv;
    size_t b;
    if (n > SIZE_MAX || lrq_mul_size((size_t)n, each, &b)) {
        lrq_err_set("%s: lq planes too large", w->path);
        return NULL;
    }
    if (o->n == o->cap) {
        size_t cap = o->cap ? 2 * o->cap : 32;
        void **nb = lrq_realloc(o->bufs, cap * sizeof *nb);
        if (!nb) return NULL;
        o->bufs = nb;
        o->cap = cap;
    }
    void *p = lrq_malloc(b + 1);
    if (p) o->bufs[o->n++] = p;
    return p;
}

/* The companion of kind k of tensor `name`, checked against its layout part. */
static const lrq_gguf_tensor *companion(const lrq_weights *w, const lrq_gguf *g, const char *name,
                                        const lrq_lq_part *p) {
    char cname[160];
    snprintf(cname, sizeof cname, "%s%s", name, p->suffix);
    const lrq_gguf_tensor *c = lrq_gguf_find_tensor(g, cname);
    if (!c) {
        lrq_err_set("%s: lq tensor '%s': missing companion '%s'", w->path, name, cname);
        return NULL;
    }
    int ok = c->type == p->type && c->nbytes == p->nbytes;
    for (int d = 0; d < 4; d++) ok &= (d < (int)c->n_dims ? c->ne[d] : 1) == p->ne[d];
    if (!ok) {
        lrq_err_set("%s: lq tensor '%s': companion '%s' is %s [%lld, %lld], expected %s [%lld, %lld] (%llu bytes)",
                    w->path, name, cname, lrq_type_name(c->type), (long long)c->ne[0], (long long)c->ne[1],
                    lrq_type_name(p->type), (long long)p->ne[0], (long long)p->ne[1],
                    (unsigned long long)p->nbytes);
        return NULL;
    }
    return c;
}

static float half_to_f32(const uint8_t *b, uint64_t i, int bf) {
    uint16_t h;
    memcpy(&h, b + 2 * i, 2);
    return bf ? lrq_bf16_to_f32(h) : lrq_f16_to_f32(h);
}

static int attach(lrq_weights *w, const lrq_gguf *g, lrq_tensor *t, int *n_companions) {
    const char *path = w->path;
    char key[160], spec_txt[96];
    if (lrq_lq_key(t->name, key, sizeof key)) return lrq_err_prefix("%s", path);
    const char *sv;
    uint64_t sl;
    int r = lrq_gguf_get_str(g, key, &sv, &sl);
    if (r < 0) return lrq_err_prefix("%s: key '%s'", path, key);
    if (r == 0) return lrq_err_set("%s: lq tensor '%s' has no spec key '%s'", path, t->name, key);
    if (sl >= sizeof spec_txt) return lrq_err_set("%s: key '%s': spec too long", path, key);
    memcpy(spec_txt, sv, sl);
    spec_txt[sl] = 0;
    lrq_lq_spec s;
    if (lrq_lq_spec_parse(spec_txt, &s)) return lrq_err_prefix("%s: key '%s'", path, key);
    if (s.bits != lrq_type_lq_bits(t->type))
        return lrq_err_set("%s: key '%s': spec of %d bits for a tensor of type %s", path, key, s.bits,
                           lrq_type_name(t->type));
    if (t->n_dims != 2)
        return lrq_err_set("%s: lq tensor '%s' has %d dimensions: only matrices are supported (not expert stacks)",
                           path, t->name, t->n_dims);
    if (!strcmp(t->name, "token_embd.weight"))
        return lrq_err_set("%s: lq tensor 'token_embd.weight': embedding rows are looked up, which lq formats do "
                           "not support (keep it F16/F32 or a llama.cpp type)", path);
    lrq_lq_part parts[LRQ_LQ_N_PARTS];
    int np = lrq_lq_layout(&s, (uint32_t)t->n_dims, t->ne, parts);
    if (np < 0) return lrq_err_prefix("%s: lq tensor '%s'", path, t->name);
    if (t->nbytes != parts[0].nbytes)
        return lrq_err_set("%s: lq tensor '%s': %zu code bytes, expected %llu", path, t->name, t->nbytes,
                           (unsigned long long)parts[0].nbytes);
    int32_t group = 1;
    if (lrq_lq_spec_group(&s, t->ne[0], &group)) return lrq_err_prefix("%s: lq tensor '%s'", path, t->name);
    const int64_t rows = t->ne[1];
    const int32_t ng = (int32_t)(t->ne[0] / group);
    const uint64_t N = (uint64_t)rows * (uint64_t)ng;
    const lrq_gguf_tensor *c[LRQ_LQ_N_PARTS] = {0};
    for (int i = 1; i < np; i++) {
        if (!(c[parts[i].kind] = companion(w, g, t->name, &parts[i]))) return -1;
        ++*n_companions;
    }
    float *scale = owned_alloc(w, N, sizeof(float)), *z = NULL, *zero = NULL, *cb = NULL;
    uint8_t *og = NULL;
    if (!scale) return -1;
    const int bf = s.pstore == LRQ_LQ_P_BF16;
    if (s.pstore == LRQ_LQ_P_Q) {
        uint8_t *codes = lrq_malloc((size_t)N + 1);
        if (!codes) return -1;
        lrq_lq_unpack_bits(c[LRQ_LQ_SQ]->data, N, s.pbits, codes);
        for (uint64_t i = 0; i < N; i++)
            scale[i] = half_to_f32(c[LRQ_LQ_SD]->data, i / (uint64_t)s.psuper, 0) * (float)codes[i];
        if (s.asym) {
            if (!(z = owned_alloc(w, N, sizeof(float)))) { free(codes); return -1; }
            lrq_lq_unpack_bits(c[LRQ_LQ_ZQ]->data, N, s.bits, codes);
            for (uint64_t i = 0; i < N; i++) z[i] = (float)codes[i];
        }
        free(codes);
    } else {
        for (uint64_t i = 0; i < N; i++) scale[i] = half_to_f32(c[LRQ_LQ_S]->data, i, bf);
        if (s.asym) {
            if (!(z = owned_alloc(w, N, sizeof(float)))) return -1;
            for (uint64_t i = 0; i < N; i++) z[i] = half_to_f32(c[LRQ_LQ_Z]->data, i, bf);
        }
    }
    for (uint64_t i = 0; i < N; i++) {
        if (!isfinite(scale[i]))
            return lrq_err_set("%s: lq tensor '%s': scale %llu (row %llu) is not finite", path, t->name,
                               (unsigned long long)i, (unsigned long long)(i / (uint64_t)ng));
        if (z && !isfinite(z[i]))
            return lrq_err_set("%s: lq tensor '%s': zero point %llu (row %llu) is not finite", path, t->name,
                               (unsigned long long)i, (unsigned long long)(i / (uint64_t)ng));
    }
    if (s.offset_group) {
        if (!(og = owned_alloc(w, N, 1))) return -1;
        lrq_lq_unpack_bits(c[LRQ_LQ_OG]->data, N, 2, og);
    }
    int64_t cb_rows = 0;
    if (s.cb) {
        cb_rows = s.cb == LRQ_LQ_CB_ROW ? rows : 1;
        const uint64_t n = (uint64_t)cb_rows << s.bits;
        if (!(cb = owned_alloc(w, n, sizeof(float)))) return -1;
        memcpy(cb, c[LRQ_LQ_CB]->data, (size_t)n * sizeof(float));
        for (uint64_t i = 0; i < n; i++)
            if (!isfinite(cb[i]))
                return lrq_err_set("%s: lq tensor '%s': codebook value %llu is not finite", path, t->name,
                                   (unsigned long long)i);
    }
    if ((s.asym || s.offset_group) && !(zero = owned_alloc(w, N, sizeof(float)))) return -1;
    if (lrq_lq_view(&s, group, rows, ng, scale, z, og, cb, cb_rows, zero, &t->qp))
        return lrq_err_prefix("%s: lq tensor '%s'", path, t->name);
    return 0;
}

int lrq_weights_lq_attach(lrq_weights *w, const lrq_gguf *g) {
    int n_lq = 0, used = 0, total = 0;
    for (int32_t i = 0; i < w->n_tensors; i++) {
        lrq_tensor *t = &w->tensors[i];
        if (!lrq_type_lq_bits(t->type)) continue;
        n_lq++;
        if (attach(w, g, t, &used)) return -1;
    }
    for (int64_t i = 0; i < lrq_gguf_n_tensors(g); i++) {
        size_t bl;
        if (lrq_lq_companion(lrq_gguf_tensor_at(g, i)->name, &bl) >= 0) total++;
    }
    if (used == total) return 0;
    /* name one companion no lq tensor claimed */
    for (int64_t i = 0; i < lrq_gguf_n_tensors(g); i++) {
        const char *nm = lrq_gguf_tensor_at(g, i)->name;
        size_t bl;
        const int k = lrq_lq_companion(nm, &bl);
        if (k < 0) continue;
        char base[160];
        snprintf(base, sizeof base, "%.*s", (int)bl, nm);
        const lrq_tensor *t = lrq_weights_find(w, base);
        int claimed = 0;
        if (t && lrq_type_lq_bits(t->type)) {
            lrq_lq_part parts[LRQ_LQ_N_PARTS];
            char key[160];
            const char *sv;
            uint64_t sl;
            lrq_lq_spec s;
            char txt[96];
            if (!lrq_lq_key(base, key, sizeof key) && lrq_gguf_get_str(g, key, &sv, &sl) == 1 && sl < sizeof txt) {
                memcpy(txt, sv, sl);
                txt[sl] = 0;
                int np = lrq_lq_spec_parse(txt, &s) ? -1 : lrq_lq_layout(&s, (uint32_t)t->n_dims, t->ne, parts);
                for (int j = 1; j < np; j++) claimed |= parts[j].kind == k;
            }
        }
        if (!claimed)
            return lrq_err_set("%s: tensor '%s' is an lq companion of no lq tensor (or not of its spec)", w->path, nm);
    }
    (void)n_lq;
    return lrq_err_set("%s: lq companions do not match their tensors", w->path);
}
