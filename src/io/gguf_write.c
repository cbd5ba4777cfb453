/* gguf_write.c — GGUF v3 writer. Metadata values are deep-copied when set
 * (one allocation per key, however many strings an array holds); tensor data
 * is only referenced and streamed out at write time. The layout is the one
 * llama.cpp's own writer produces (keys, tensor infos, zero padding to the
 * alignment, then each tensor followed by zero padding), so a file read and
 * rewritten with lrq_gguf_writer_copy_all comes out byte-identical when
 * llama.cpp wrote it. Files are written to a temporary name next to the
 * target and renamed into place, so readers never see a half-written file
 * and rewriting a file that is itself the (mapped) source is safe
 * (core/atomic.h: temporary file, fsync, rename, cleanup on error/signal).
 */
#define _POSIX_C_SOURCE 200809L
#include "io/gguf.h"
#include "io/gguf_impl.h"
#include "core/atomic.h"
#include "core/core.h"
#include "fmt/types.h"

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct wkv {
    char *key;
    lrq_gguf_value val; /* strings/raw/items point into mem */
    void *mem;
} wkv;

typedef struct wtensor {
    char *name;
    int type;
    uint32_t n_dims;
    int64_t ne[LRQ_GGUF_MAX_DIMS];
    size_t nbytes;
    const void *data;
    lrq_gguf_fill_fn fill;  /* streamed tensor: produces the data at write time (data is then NULL) */
    void *fill_ud;
} wtensor;

/* Open-addressing name index (slot = entry index + 1, 0 = empty). */
typedef struct ntab {
    size_t *slot;
    size_t cap;
} ntab;

struct lrq_gguf_writer {
    wkv *kv;
    size_t n_kv, cap_kv;
    wtensor *t;
    size_t n_t, cap_t;
    ntab kv_tab, t_tab;
};

#define KV_NAME(w, i) ((w)->kv[i].key)
#define T_NAME(w, i) ((w)->t[i].name)

static size_t ntab_find(const ntab *tb, const char *name, const char *(*get)(const lrq_gguf_writer *, size_t),
                        const lrq_gguf_writer *w, size_t *free_slot) {
    size_t mask = tb->cap - 1;
    size_t h = (size_t)lrq_gguf_hash(name, strlen(name)) & mask;
    for (;;) {
        size_t e = tb->slot[h];
        if (e == 0) {
            if (free_slot) *free_slot = h;
            return SIZE_MAX;
        }
        if (strcmp(get(w, e - 1), name) == 0) return e - 1;
        h = (h + 1) & mask;
    }
}

static const char *kv_get(const lrq_gguf_writer *w, size_t i) { return KV_NAME(w, i); }
static const char *t_get(const lrq_gguf_writer *w, size_t i) { return T_NAME(w, i); }

/* Make room for one more entry (n + 1 <= cap / 2), rehashing all n names. */
static int ntab_reserve(ntab *tb, size_t n, const char *(*get)(const lrq_gguf_writer *, size_t),
                        const lrq_gguf_writer *w) {
    if (tb->cap && (n + 1) * 2 <= tb->cap) return 0;
    size_t cap = tb->cap ? tb->cap * 2 : 16;
    size_t *s = lrq_calloc(cap, sizeof *s);
    if (!s) return -1;
    free(tb->slot);
    tb->slot = s;
    tb->cap = cap;
    for (size_t i = 0; i < n; i++) {
        size_t fs = 0;
        ntab_find(tb, get(w, i), get, w, &fs);
        tb->slot[fs] = i + 1;
    }
    return 0;
}

lrq_gguf_writer *lrq_gguf_writer_new(void) { return lrq_calloc(1, sizeof(lrq_gguf_writer)); }

void lrq_gguf_writer_free(lrq_gguf_writer *w) {
    if (!w) return;
    for (size_t i = 0; i < w->n_kv; i++) {
        free(w->kv[i].key);
        free(w->kv[i].mem);
    }
    for (size_t i = 0; i < w->n_t; i++) free(w->t[i].name);
    free(w->kv);
    free(w->t);
    free(w->kv_tab.slot);
    free(w->t_tab.slot);
    free(w);
}

/* ---- value validation and deep copy ---- */

static size_t round8(size_t n) { return (n + 7) & ~(size_t)7; }

/* Check that v is a well-formed value the reader would accept and add the
 * bytes its deep copy needs to *bytes. */
static int val_check(const lrq_gguf_value *v, int depth, size_t *bytes) {
    switch (v->type) {
    case LRQ_GGUF_UINT8: if (v->v.u64 > UINT8_MAX) goto range; return 0;
    case LRQ_GGUF_UINT16: if (v->v.u64 > UINT16_MAX) goto range; return 0;
    case LRQ_GGUF_UINT32: if (v->v.u64 > UINT32_MAX) goto range; return 0;
    case LRQ_GGUF_UINT64: return 0;
    case LRQ_GGUF_INT8: if (v->v.i64 < INT8_MIN || v->v.i64 > INT8_MAX) goto range; return 0;
    case LRQ_GGUF_INT16: if (v->v.i64 < INT16_MIN || v->v.i64 > INT16_MAX) goto range; return 0;
    case LRQ_GGUF_INT32: if (v->v.i64 < INT32_MIN || v->v.i64 > INT32_MAX) goto range; return 0;
    case LRQ_GGUF_INT64: return 0;
    case LRQ_GGUF_BOOL: if (v->v.u64 > 1) goto range; return 0;
    case LRQ_GGUF_FLOAT32:
        if (isfinite(v->v.f64) && (v->v.f64 > FLT_MAX || v->v.f64 < -FLT_MAX)) goto range;
        return 0;
    case LRQ_GGUF_FLOAT64: return 0;
    case LRQ_GGUF_STRING:
        if (v->v.str.len > SIZE_MAX / 2) return lrq_err_set("string too long");
        if (v->v.str.len && !v->v.str.ptr) return lrq_err_set("string of length %" PRIu64 " has no data", v->v.str.len);
        return lrq_add_size(*bytes, round8((size_t)v->v.str.len), bytes) ? lrq_err_set("value too large") : 0;
    case LRQ_GGUF_ARRAY: break;
    default: return lrq_err_set("invalid value type %d", v->type);
    }
    if (depth + 1 > LRQ_GGUF_MAX_DEPTH) return lrq_err_set("arrays nested deeper than %d levels", LRQ_GGUF_MAX_DEPTH);
    int et = v->v.arr.elem_type;
    uint64_t n = v->v.arr.n;
    if (!lrq_gguf_vtype_valid(et)) return lrq_err_set("invalid array element type %d", et);
    size_t esz = lrq_gguf_scalar_size(et), sz;
    if (n > SIZE_MAX) return lrq_err_set("array too large");
    if (esz) {
        if (lrq_mul_size((size_t)n, esz, &sz) || lrq_add_size(*bytes, round8(sz), bytes)) {
            return lrq_err_set("array too large");
        }
        if (n && !v->v.arr.raw) return lrq_err_set("array of %" PRIu64 " elements has no data", n);
        if (et == LRQ_GGUF_BOOL) {
            const uint8_t *r = v->v.arr.raw;
            for (uint64_t i = 0; i < n; i++) {
                if (r[i] > 1) return lrq_err_set("element %" PRIu64 ": bool value %u is not 0 or 1", i, r[i]);
            }
        }
        return 0;
    }
    if (lrq_mul_size((size_t)n, sizeof(lrq_gguf_value), &sz) || lrq_add_size(*bytes, sz, bytes)) {
        return lrq_err_set("array too large");
    }
    if (n && !v->v.arr.items) return lrq_err_set("array of %" PRIu64 " elements has no items", n);
    for (uint64_t i = 0; i < n; i++) {
        const lrq_gguf_value *it = &v->v.arr.items[i];
        if (it->type != et) {
            return lrq_err_set("element %" PRIu64 ": type %s in an array of %s", i, lrq_gguf_vtype_name(it->type),
                               lrq_gguf_vtype_name(et));
        }
        if (et == LRQ_GGUF_STRING) { /* inline the common case (vocabularies) */
            if (it->v.str.len > SIZE_MAX / 2 || (it->v.str.len && !it->v.str.ptr)) {
                return lrq_err_set("element %" PRIu64 ": invalid string", i);
            }
            if (lrq_add_size(*bytes, round8((size_t)it->v.str.len), bytes)) return lrq_err_set("array too large");
        } else if (val_check(it, depth + 1, bytes)) {
            return lrq_err_prefix("element %" PRIu64, i);
        }
    }
    return 0;
range:
    return lrq_err_set("value out of range for %s", lrq_gguf_vtype_name(v->type));
}

/* Copy src into dst, placing everything it points to at *mem (sized by
 * val_check). Items arrays come first at each level so they stay 8-aligned. */
static void val_copy(lrq_gguf_value *dst, const lrq_gguf_value *src, uint8_t **mem) {
    *dst = *src;
    if (src->type == LRQ_GGUF_STRING) {
        size_t n = (size_t)src->v.str.len;
        if (n) memcpy(*mem, src->v.str.ptr, n);
        dst->v.str.ptr = (const char *)*mem;
        *mem += round8(n);
        return;
    }
    if (src->type != LRQ_GGUF_ARRAY) return;
    size_t n = (size_t)src->v.arr.n, esz = lrq_gguf_scalar_size(src->v.arr.elem_type);
    if (esz) {
        if (n) memcpy(*mem, src->v.arr.raw, n * esz);
        dst->v.arr.raw = *mem;
        dst->v.arr.items = NULL;
        *mem += round8(n * esz);
        return;
    }
    lrq_gguf_value *items = (lrq_gguf_value *)(void *)*mem;
    *mem += n * sizeof *items;
    dst->v.arr.raw = NULL;
    dst->v.arr.items = n ? items : NULL;
    for (size_t i = 0; i < n; i++) val_copy(&items[i], &src->v.arr.items[i], mem);
}

int lrq_gguf_writer_set(lrq_gguf_writer *w, const char *key, const lrq_gguf_value *val) {
    if (!key || !key[0]) return lrq_err_set("gguf writer: empty key");
    char kb[LRQ_GGUF_SAFE_NAME_BUF];
    const char *kname = lrq_gguf_safe_name(key, kb);
    size_t bytes = 0;
    if (val_check(val, 0, &bytes)) return lrq_err_prefix("gguf writer: key '%s'", kname);
    if (strcmp(key, "general.alignment") == 0) {
        if (val->type != LRQ_GGUF_UINT32) {
            return lrq_err_set("gguf writer: key 'general.alignment': must be uint32, not %s",
                               lrq_gguf_vtype_name(val->type));
        }
        uint64_t a = val->v.u64;
        if (a == 0 || (a & (a - 1)) != 0) {
            return lrq_err_set("gguf writer: key 'general.alignment': %" PRIu64 " is not a nonzero power of two", a);
        }
    }
    uint8_t *mem = lrq_malloc(bytes);
    if (!mem) return lrq_err_prefix("gguf writer: key '%s'", kname);
    uint8_t *cur = mem;
    lrq_gguf_value copy;
    val_copy(&copy, val, &cur);
    LRQ_ASSERT((size_t)(cur - mem) == bytes);

    size_t fs = 0;
    size_t i = w->kv_tab.cap ? ntab_find(&w->kv_tab, key, kv_get, w, &fs) : SIZE_MAX;
    if (i != SIZE_MAX) { /* replace in place: the key keeps its position */
        free(w->kv[i].mem);
        w->kv[i].val = copy;
        w->kv[i].mem = mem;
        return 0;
    }
    if (ntab_reserve(&w->kv_tab, w->n_kv, kv_get, w)) goto oom;
    if (w->n_kv == w->cap_kv) {
        size_t cap = w->cap_kv ? w->cap_kv * 2 : 16;
        wkv *nk = lrq_realloc(w->kv, cap * sizeof *nk);
        if (!nk) goto oom;
        w->kv = nk;
        w->cap_kv = cap;
    }
    char *k = lrq_strdup(key);
    if (!k) goto oom;
    w->kv[w->n_kv] = (wkv){k, copy, mem};
    ntab_find(&w->kv_tab, key, kv_get, w, &fs);
    w->kv_tab.slot[fs] = ++w->n_kv;
    return 0;
oom:
    free(mem);
    return lrq_err_prefix("gguf writer: key '%s'", kname);
}

int lrq_gguf_writer_set_u32(lrq_gguf_writer *w, const char *key, uint32_t v) {
    lrq_gguf_value x = {.type = LRQ_GGUF_UINT32};
    x.v.u64 = v;
    return lrq_gguf_writer_set(w, key, &x);
}

int lrq_gguf_writer_set_i32(lrq_gguf_writer *w, const char *key, int32_t v) {
    lrq_gguf_value x = {.type = LRQ_GGUF_INT32};
    x.v.i64 = v;
    return lrq_gguf_writer_set(w, key, &x);
}

int lrq_gguf_writer_set_f32(lrq_gguf_writer *w, const char *key, float v) {
    lrq_gguf_value x = {.type = LRQ_GGUF_FLOAT32};
    x.v.f64 = v;
    return lrq_gguf_writer_set(w, key, &x);
}

int lrq_gguf_writer_set_bool(lrq_gguf_writer *w, const char *key, int v) {
    lrq_gguf_value x = {.type = LRQ_GGUF_BOOL};
    x.v.u64 = v != 0;
    return lrq_gguf_writer_set(w, key, &x);
}

int lrq_gguf_writer_set_str(lrq_gguf_writer *w, const char *key, const char *s) {
    lrq_gguf_value x = {.type = LRQ_GGUF_STRING};
    x.v.str.ptr = s;
    x.v.str.len = strlen(s);
    return lrq_gguf_writer_set(w, key, &x);
}

int lrq_gguf_writer_set_arr(lrq_gguf_writer *w, const char *key, int elem_type, uint64_t n, const void *raw) {
    if (!lrq_gguf_scalar_size(elem_type)) {
        return lrq_err_set("gguf writer: key '%s': set_arr needs a scalar element type, not %s", key ? key : "?",
                           lrq_gguf_vtype_name(elem_type));
    }
    lrq_gguf_value x = {.type = LRQ_GGUF_ARRAY};
    x.v.arr.elem_type = elem_type;
    x.v.arr.n = n;
    x.v.arr.raw = raw;
    return lrq_gguf_writer_set(w, key, &x);
}

int lrq_gguf_writer_set_arr_str(lrq_gguf_writer *w, const char *key, uint64_t n, const char *const *strs) {
    if (n > SIZE_MAX / sizeof(lrq_gguf_value)) return lrq_err_set("gguf writer: key '%s': array too large", key);
    lrq_gguf_value *items = lrq_calloc(n ? (size_t)n : 1, sizeof *items);
    if (!items) return lrq_err_prefix("gguf writer: key '%s'", key);
    for (uint64_t i = 0; i < n; i++) {
        items[i].type = LRQ_GGUF_STRING;
        items[i].v.str.ptr = strs[i];
        items[i].v.str.len = strlen(strs[i]);
    }
    lrq_gguf_value x = {.type = LRQ_GGUF_ARRAY};
    x.v.arr.elem_type = LRQ_GGUF_STRING;
    x.v.arr.n = n;
    x.v.arr.items = items;
    int rc = lrq_gguf_writer_set(w, key, &x);
    free(items);
    return rc;
}

/* ---- tensors ---- */

static int add_tensor(lrq_gguf_writer *w, const char *name, int type, uint32_t n_dims, const int64_t *ne,
                      const void *data, lrq_gguf_fill_fn fill, void *fill_ud) {
    if (!name || !name[0]) return lrq_err_set("gguf writer: empty tensor name");
    char tb[LRQ_GGUF_SAFE_NAME_BUF];
    const char *tname = lrq_gguf_safe_name(name, tb);
    size_t nl = strlen(name);
    if (nl > LRQ_GGUF_MAX_NAME) {
        return lrq_err_set("gguf writer: tensor '%s': name longer than %d bytes (llama.cpp's limit)", tname,
                           LRQ_GGUF_MAX_NAME);
    }
    if (w->t_tab.cap && ntab_find(&w->t_tab, tname, t_get, w, NULL) != SIZE_MAX) {
        return lrq_err_set("gguf writer: duplicate tensor name '%s'", tname);
    }
    const lrq_type_traits *tr = lrq_type_get(type);
    if (!tr) return lrq_err_set("gguf writer: tensor '%s': unknown type %d", tname, type);
    if (n_dims < 1 || n_dims > LRQ_GGUF_MAX_DIMS) {
        return lrq_err_set("gguf writer: tensor '%s': n_dims %" PRIu32 " not in 1..%d", tname, n_dims, LRQ_GGUF_MAX_DIMS);
    }
    wtensor t = {.type = type, .n_dims = n_dims, .data = data, .fill = fill, .fill_ud = fill_ud};
    uint64_t nel = 1;
    for (int j = 0; j < LRQ_GGUF_MAX_DIMS; j++) {
        t.ne[j] = (uint32_t)j < n_dims ? ne[j] : 1;
        if (t.ne[j] < 0) return lrq_err_set("gguf writer: tensor '%s': dimension %d is negative", tname, j);
        /* the reader rejects empty tensors; never write a file it would refuse */
        if (t.ne[j] == 0) return lrq_err_set("gguf writer: tensor '%s': dimension %d is 0", tname, j);
        if (lrq_mul_u64(nel, (uint64_t)t.ne[j], &nel) || nel > (uint64_t)INT64_MAX) {
            return lrq_err_set("gguf writer: tensor '%s': element count overflows", tname);
        }
    }
    size_t row;
    if (t.ne[0] % tr->blck_size) {
        return lrq_err_set("gguf writer: tensor '%s': row length %" PRId64 " is not a multiple of the block size "
                           "%d of type %s", tname, t.ne[0], tr->blck_size, tr->name);
    }
    uint64_t rows = (uint64_t)t.ne[1] * (uint64_t)t.ne[2] * (uint64_t)t.ne[3];
    if (lrq_row_size(type, t.ne[0], &row) || rows > SIZE_MAX || lrq_mul_size(row, (size_t)rows, &t.nbytes)) {
        return lrq_err_set("gguf writer: tensor '%s': size in bytes overflows", tname);
    }
    if (t.nbytes && !data && !fill) return lrq_err_set("gguf writer: tensor '%s': no data", tname);
    if (ntab_reserve(&w->t_tab, w->n_t, t_get, w)) return -1;
    if (w->n_t == w->cap_t) {
        size_t cap = w->cap_t ? w->cap_t * 2 : 64;
        wtensor *nt = lrq_realloc(w->t, cap * sizeof *nt);
        if (!nt) return -1;
        w->t = nt;
        w->cap_t = cap;
    }
    t.name = lrq_strdup(name);
    if (!t.name) return -1;
    w->t[w->n_t] = t;
    size_t fs = 0;
    ntab_find(&w->t_tab, tname, t_get, w, &fs);
    w->t_tab.slot[fs] = ++w->n_t;
    return 0;
}

int lrq_gguf_writer_add_tensor(lrq_gguf_writer *w, const char *name, int type, uint32_t n_dims,
                               const int64_t *ne, const void *data) {
    return add_tensor(w, name, type, n_dims, ne, data, NULL, NULL);
}

int lrq_gguf_writer_add_tensor_fill(lrq_gguf_writer *w, const char *name, int type, uint32_t n_dims,
                                    const int64_t *ne, lrq_gguf_fill_fn fill, void *ud) {
    if (!fill) return lrq_err_set("gguf writer: tensor '%s': no fill function", name ? name : "");
    return add_tensor(w, name, type, n_dims, ne, NULL, fill, ud);
}

int lrq_gguf_writer_copy_all(lrq_gguf_writer *w, const lrq_gguf *src) {
    for (int64_t i = 0; i < lrq_gguf_n_kv(src); i++) {
        const lrq_gguf_kv *kv = lrq_gguf_kv_at(src, i);
        if (lrq_gguf_writer_set(w, kv->key, &kv->val)) return lrq_err_prefix("%s", lrq_gguf_path(src));
    }
    for (int64_t i = 0; i < lrq_gguf_n_tensors(src); i++) {
        const lrq_gguf_tensor *t = lrq_gguf_tensor_at(src, i);
        if (lrq_gguf_writer_add_tensor(w, t->name, t->type, t->n_dims, t->ne, t->data)) {
            return lrq_err_prefix("%s", lrq_gguf_path(src));
        }
    }
    return 0;
}

/* ---- output ---- */

#define WBUF_CAP ((size_t)1 << 20)

typedef struct wbuf {
    int fd;
    int err;          /* errno of the first failure, 0 if none */
    uint64_t written; /* bytes emitted so far (buffered or not) */
    size_t used;
    uint8_t *buf;
} wbuf;

static void raw_write(wbuf *b, const void *p, size_t n) {
    const uint8_t *s = p;
    while (n && !b->err) {
        ssize_t r = write(b->fd, s, n > ((size_t)1 << 30) ? ((size_t)1 << 30) : n);
        if (r < 0) {
            if (errno == EINTR) continue;
            b->err = errno;
            return;
        }
        if (r == 0) {
            b->err = EIO;
            return;
        }
        s += r;
        n -= (size_t)r;
    }
}

static void flush(wbuf *b) {
    raw_write(b, b->buf, b->used);
    b->used = 0;
}

static void put(wbuf *b, const void *p, size_t n) {
    if (n == 0) return;
    b->written += n;
    if (n >= WBUF_CAP) { /* large tensor data goes straight out */
        flush(b);
        raw_write(b, p, n);
        return;
    }
    if (WBUF_CAP - b->used < n) flush(b);
    memcpy(b->buf + b->used, p, n);
    b->used += n;
}

static void put32(wbuf *b, uint32_t v) {
    uint8_t x[4];
    lrq_put_le32(x, v);
    put(b, x, 4);
}

static void put64(wbuf *b, uint64_t v) {
    uint8_t x[8];
    lrq_put_le64(x, v);
    put(b, x, 8);
}

static void pad(wbuf *b, uint32_t align) {
    static const uint8_t zeros[256];
    size_t n = (size_t)((align - b->written % align) % align);
    while (n) {
        size_t k = n < sizeof zeros ? n : sizeof zeros;
        put(b, zeros, k);
        n -= k;
    }
}

/* The payload of a value (its type tag is written by the caller). */
static void put_value(wbuf *b, const lrq_gguf_value *v) {
    uint8_t x[8];
    switch (v->type) {
    case LRQ_GGUF_UINT8: case LRQ_GGUF_BOOL: x[0] = (uint8_t)v->v.u64; put(b, x, 1); return;
    case LRQ_GGUF_INT8: x[0] = (uint8_t)(int8_t)v->v.i64; put(b, x, 1); return;
    case LRQ_GGUF_UINT16: x[0] = (uint8_t)v->v.u64; x[1] = (uint8_t)(v->v.u64 >> 8); put(b, x, 2); return;
    case LRQ_GGUF_INT16: {
        uint16_t u = (uint16_t)(int16_t)v->v.i64;
        x[0] = (uint8_t)u;
        x[1] = (uint8_t)(u >> 8);
        put(b, x, 2);
        return;
    }
    case LRQ_GGUF_UINT32: put32(b, (uint32_t)v->v.u64); return;
    case LRQ_GGUF_INT32: put32(b, (uint32_t)(int32_t)v->v.i64); return;
    case LRQ_GGUF_UINT64: put64(b, v->v.u64); return;
    case LRQ_GGUF_INT64: put64(b, (uint64_t)v->v.i64); return;
    case LRQ_GGUF_FLOAT32: put32(b, lrq_f32_to_bits((float)v->v.f64)); return;
    case LRQ_GGUF_FLOAT64: {
        uint64_t u;
        memcpy(&u, &v->v.f64, 8);
        put64(b, u);
        return;
    }
    case LRQ_GGUF_STRING:
        put64(b, v->v.str.len);
        put(b, v->v.str.ptr, (size_t)v->v.str.len);
        return;
    default: break;
    }
    int et = v->v.arr.elem_type;
    put32(b, (uint32_t)et);
    put64(b, v->v.arr.n);
    size_t esz = lrq_gguf_scalar_size(et);
    if (esz) {
        /* raw holds little-endian file bytes already */
        put(b, v->v.arr.raw, (size_t)v->v.arr.n * esz);
        return;
    }
    for (uint64_t i = 0; i < v->v.arr.n; i++) put_value(b, &v->v.arr.items[i]);
}

/* What a fill function writes through: the output buffer, and the bytes
 * the tensor still expects (a fill may not write more, nor fewer). */
struct lrq_gguf_sink {
    wbuf *b;
    size_t left;
    const char *name;
};

int lrq_gguf_sink_put(lrq_gguf_sink *s, const void *p, size_t n) {
    if (n > s->left) return lrq_err_set("gguf writer: tensor '%s': fill wrote more than the tensor's size", s->name);
    put(s->b, p, n);
    s->left -= n;
    if (s->b->err) return lrq_err_set("write failed: %s", strerror(s->b->err));
    return 0;
}

static uint32_t writer_alignment(const lrq_gguf_writer *w) {
    size_t i = w->kv_tab.cap ? ntab_find(&w->kv_tab, "general.alignment", kv_get, w, NULL) : SIZE_MAX;
    /* set() only accepts a uint32 power of two for this key */
    return i == SIZE_MAX ? 32u : (uint32_t)w->kv[i].val.v.u64;
}

int lrq_gguf_writer_write(lrq_gguf_writer *w, const char *path) {
    uint32_t align = writer_alignment(w);
    /* Tensor offsets: consecutive, each padded to the alignment. */
    uint64_t *offs = lrq_calloc(w->n_t ? w->n_t : 1, sizeof *offs);
    if (!offs) return lrq_err_prefix("%s", path);
    uint64_t off = 0;
    for (size_t i = 0; i < w->n_t; i++) {
        offs[i] = off;
        uint64_t padded = ((uint64_t)w->t[i].nbytes + align - 1) / align * align;
        if (lrq_add_u64(off, padded, &off)) {
            free(offs);
            return lrq_err_set("%s: tensor data too large", path);
        }
    }

    lrq_atomic_file af;
    wbuf b = {.fd = -1};
    b.buf = lrq_malloc(WBUF_CAP);
    if (!b.buf) {
        free(offs);
        return lrq_err_prefix("%s", path);
    }
    if (lrq_atomic_open(&af, path)) {
        free(b.buf);
        free(offs);
        return -1;
    }
    b.fd = af.fd;

    put(&b, "GGUF", 4);
    put32(&b, 3);
    put64(&b, (uint64_t)w->n_t);
    put64(&b, (uint64_t)w->n_kv);
    for (size_t i = 0; i < w->n_kv; i++) {
        const wkv *kv = &w->kv[i];
        size_t kl = strlen(kv->key);
        put64(&b, kl);
        put(&b, kv->key, kl);
        put32(&b, (uint32_t)kv->val.type);
        put_value(&b, &kv->val);
    }
    for (size_t i = 0; i < w->n_t; i++) {
        const wtensor *t = &w->t[i];
        size_t nl = strlen(t->name);
        put64(&b, nl);
        put(&b, t->name, nl);
        put32(&b, t->n_dims);
        for (uint32_t j = 0; j < t->n_dims; j++) put64(&b, (uint64_t)t->ne[j]);
        put32(&b, (uint32_t)t->type);
        put64(&b, offs[i]);
    }
    /* llama.cpp pads here even when there are no tensors; so do we (readers
     * do not require it). */
    pad(&b, align);
    int fill_failed = 0;
    for (size_t i = 0; i < w->n_t && !fill_failed && !b.err; i++) {
        const wtensor *t = &w->t[i];
        if (t->fill) {
            lrq_gguf_sink s = {.b = &b, .left = t->nbytes, .name = t->name};
            if (t->fill(t->fill_ud, i, &s)) fill_failed = 1;
            else if (s.left) {
                lrq_err_set("gguf writer: tensor '%s': fill wrote %zu bytes short of the tensor's size", t->name, s.left);
                fill_failed = 1;
            }
        } else {
            put(&b, t->data, t->nbytes);
        }
        pad(&b, align);
    }
    flush(&b);
    free(b.buf);
    free(offs);
    if (fill_failed) {
        lrq_atomic_abort(&af);
        return lrq_err_prefix("%s", path);
    }
    if (b.err) {
        lrq_atomic_abort(&af);
        return lrq_err_set("%s: write failed: %s", path, strerror(b.err));
    }
    return lrq_atomic_commit(&af);
}
