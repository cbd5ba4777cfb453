/* gguf_read.c — GGUF v2/v3 reader: maps the file, validates every field
 * against the file size, and hands out zero-copy views (strings, scalar
 * arrays and tensor data point into the mapping).
 *
 * Memory: the kv and tensor tables are two allocations; everything else the
 * parse needs (key/name copies, parsed string/array items) comes from a bump
 * arena freed in one go, so a 151k-token vocabulary costs one allocation, not
 * 151k. The arena is bounded by a small multiple of the file size because
 * every item allocated corresponds to at least 8 bytes of file.
 */
#include "io/gguf.h"
#include "io/gguf_impl.h"
#include "core/core.h"
#include "core/mapfile.h"
#include "fmt/types.h"

#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <float.h>

/* Smallest possible encodings, used to reject absurd counts before any
 * allocation: a kv is a non-empty key (8 + 1), a type (4) and at least one
 * value byte; a tensor info is a non-empty name (8 + 1), n_dims (4), one dim
 * (8), a type (4) and an offset (8). */
#define MIN_KV_BYTES 14u
#define MIN_TENSOR_BYTES 33u
#define HEADER_BYTES 24u

/* ---- arena ---- */

typedef struct arena_chunk {
    struct arena_chunk *next;
    size_t cap, used;
    size_t pad_; /* keeps the payload 16-byte aligned on LP64 and ILP32 */
} arena_chunk;

#define ARENA_HDR ((sizeof(arena_chunk) + 15) & ~(size_t)15)
#define ARENA_MIN_CHUNK ((size_t)64 << 10)

typedef struct arena {
    arena_chunk *head;
} arena;

static void *arena_alloc(arena *a, size_t n) {
    n = (n + 7) & ~(size_t)7;
    if (n == 0) n = 8;
    arena_chunk *c = a->head;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > ARENA_MIN_CHUNK ? n : ARENA_MIN_CHUNK;
        size_t total;
        if (lrq_add_size(cap, ARENA_HDR, &total)) {
            lrq_err_set("allocation size overflow");
            return NULL;
        }
        c = lrq_malloc(total);
        if (!c) return NULL;
        c->cap = cap;
        c->used = 0;
        /* A dedicated oversized chunk goes behind the current one so the
         * current chunk's free space stays usable. */
        if (a->head && n > ARENA_MIN_CHUNK) {
            c->next = a->head->next;
            a->head->next = c;
        } else {
            c->next = a->head;
            a->head = c;
        }
    }
    void *p = (unsigned char *)c + ARENA_HDR + c->used;
    c->used += n;
    return p;
}

static void arena_free(arena *a) {
    arena_chunk *c = a->head;
    while (c) {
        arena_chunk *n = c->next;
        free(c);
        c = n;
    }
    a->head = NULL;
}

/* ---- the handle ---- */

struct lrq_gguf {
    lrq_mapfile mf;          /* zeroed when opened from memory */
    char *path;              /* owned; names the file in errors */
    const uint8_t *d;
    size_t size;
    uint32_t version, alignment;
    int64_t n_kv, n_tensors;
    size_t data_offset;
    lrq_gguf_kv *kv;
    lrq_gguf_tensor *tensors;
    size_t kv_cap, t_cap;    /* allocated entries (>= n_kv / n_tensors once parsed) */
    int64_t *kv_tab, *t_tab; /* open addressing: index + 1, 0 = empty */
    size_t kv_tab_cap, t_tab_cap;
    arena ar;
};

/* ---- name tables ---- */

/* Look `name` (n bytes) up; returns the stored index or -1, and the free slot
 * where it would go in *slot (the table must then have room: cap > 0). */
static int64_t table_find(const int64_t *tab, size_t cap, const char *name, size_t n,
                          const char *(*name_of)(const lrq_gguf *, int64_t), const lrq_gguf *g,
                          size_t *slot) {
    if (cap == 0) return -1;
    size_t mask = cap - 1;
    size_t h = (size_t)lrq_gguf_hash(name, n) & mask;
    for (;;) {
        int64_t e = tab[h];
        if (e == 0) {
            if (slot) *slot = h;
            return -1;
        }
        const char *s = name_of(g, e - 1);
        if (strncmp(s, name, n) == 0 && s[n] == 0) return e - 1;
        h = (h + 1) & mask;
    }
}

static const char *kv_name(const lrq_gguf *g, int64_t i) { return g->kv[i].key; }
static const char *t_name(const lrq_gguf *g, int64_t i) { return g->tensors[i].name; }

/* Make room for `n` entries (at most half full), rehashing the ones present. */
static int table_reserve(int64_t **tab, size_t *cap, int64_t n, const char *(*name_of)(const lrq_gguf *, int64_t),
                         const lrq_gguf *g) {
    if (*cap && (size_t)n * 2 <= *cap) return 0;
    size_t nc = *cap ? *cap * 2 : 16;
    while (nc < (size_t)n * 2) nc *= 2;
    int64_t *nt = lrq_calloc(nc, sizeof *nt);
    if (!nt) return -1;
    for (size_t k = 0; k < *cap; k++) {
        int64_t e = (*tab)[k];
        if (!e) continue;
        const char *s = name_of(g, e - 1);
        size_t h = (size_t)lrq_gguf_hash(s, strlen(s)) & (nc - 1);
        while (nt[h]) h = (h + 1) & (nc - 1);
        nt[h] = e;
    }
    free(*tab);
    *tab = nt;
    *cap = nc;
    return 0;
}

/* Grow an entry array to hold `need` entries (doubling; new part zeroed).
 * The kv and tensor arrays grow as entries actually parse, so a header that
 * lies about its counts costs no more memory than the entries present. */
static void *grow(void *arr, size_t *cap, size_t need, size_t esz) {
    if (need <= *cap) return arr;
    size_t nc = *cap ? *cap : 16, bytes;
    while (nc < need) nc *= 2;
    if (lrq_mul_size(nc, esz, &bytes)) {
        lrq_err_set("too many entries");
        return NULL;
    }
    unsigned char *p = lrq_realloc(arr, bytes);
    if (!p) return NULL;
    memset(p + *cap * esz, 0, (nc - *cap) * esz);
    *cap = nc;
    return p;
}

/* ---- parser ---- */

typedef struct parser {
    lrq_gguf *g;
    size_t pos;
} parser;

static size_t remain(const parser *P) { return P->g->size - P->pos; }

static int trunc_err(const parser *P, const char *what, uint64_t n) {
    return lrq_err_set("%s (%" PRIu64 " bytes at offset %zu) past end of file (size %zu)", what, n,
                       P->pos, P->g->size);
}

static int rd_u32(parser *P, const char *what, uint32_t *v) {
    if (remain(P) < 4) return trunc_err(P, what, 4);
    *v = lrq_le32(P->g->d + P->pos);
    P->pos += 4;
    return 0;
}

static int rd_u64(parser *P, const char *what, uint64_t *v) {
    if (remain(P) < 8) return trunc_err(P, what, 8);
    *v = lrq_le64(P->g->d + P->pos);
    P->pos += 8;
    return 0;
}

/* A string: u64 length + bytes, which must lie inside the file. */
static int rd_str(parser *P, const char *what, const char **ptr, uint64_t *len) {
    uint64_t n = 0;
    if (rd_u64(P, what, &n)) return -1;
    if (n > remain(P)) {
        return lrq_err_set("%s length %" PRIu64 " at offset %zu past end of file (size %zu)", what, n,
                           P->pos - 8, P->g->size);
    }
    *ptr = (const char *)P->g->d + P->pos;
    *len = n;
    P->pos += (size_t)n;
    return 0;
}

/* A key or tensor name: non-empty, no NUL inside; copied NUL-terminated into
 * the arena (so the API can hand out C strings). */
static int rd_name(parser *P, const char *what, const char **out, size_t *out_len) {
    const char *s;
    uint64_t n = 0;
    if (rd_str(P, what, &s, &n)) return -1;
    if (n == 0) return lrq_err_set("empty %s", what);
    if (memchr(s, 0, (size_t)n)) return lrq_err_set("%s contains a NUL byte", what);
    char *c = arena_alloc(&P->g->ar, (size_t)n + 1);
    if (!c) return -1;
    memcpy(c, s, (size_t)n);
    c[n] = 0;
    *out = c;
    *out_len = (size_t)n;
    return 0;
}

static int rd_array(parser *P, int depth, lrq_gguf_value *out);

/* One value of type t (already read) at P->pos. */
static int rd_value(parser *P, uint32_t t, int depth, lrq_gguf_value *out) {
    const uint8_t *p = P->g->d + P->pos;
    size_t esz = lrq_gguf_scalar_size((int)t);
    if (t >= LRQ_GGUF_VTYPE_COUNT) return lrq_err_set("unknown value type %" PRIu32, t);
    out->type = (int)t;
    if (esz) {
        if (remain(P) < esz) return trunc_err(P, "value", esz);
        P->pos += esz;
    }
    switch (t) {
    case LRQ_GGUF_UINT8: out->v.u64 = p[0]; return 0;
    case LRQ_GGUF_INT8: out->v.i64 = (int8_t)p[0]; return 0;
    case LRQ_GGUF_UINT16: out->v.u64 = lrq_le16(p); return 0;
    case LRQ_GGUF_INT16: out->v.i64 = (int16_t)lrq_le16(p); return 0;
    case LRQ_GGUF_UINT32: out->v.u64 = lrq_le32(p); return 0;
    case LRQ_GGUF_INT32: out->v.i64 = (int32_t)lrq_le32(p); return 0;
    case LRQ_GGUF_UINT64: out->v.u64 = lrq_le64(p); return 0;
    case LRQ_GGUF_INT64: out->v.i64 = (int64_t)lrq_le64(p); return 0;
    case LRQ_GGUF_FLOAT32: out->v.f64 = lrq_bits_to_f32(lrq_le32(p)); return 0;
    case LRQ_GGUF_FLOAT64: {
        uint64_t u = lrq_le64(p);
        memcpy(&out->v.f64, &u, 8);
        return 0;
    }
    case LRQ_GGUF_BOOL:
        if (p[0] > 1) return lrq_err_set("bool value %u is not 0 or 1", p[0]);
        out->v.u64 = p[0];
        return 0;
    case LRQ_GGUF_STRING: return rd_str(P, "string", &out->v.str.ptr, &out->v.str.len);
    default: return rd_array(P, depth + 1, out);
    }
}

static int rd_array(parser *P, int depth, lrq_gguf_value *out) {
    uint32_t et = 0;
    uint64_t n = 0;
    if (depth > LRQ_GGUF_MAX_DEPTH) return lrq_err_set("arrays nested deeper than %d levels", LRQ_GGUF_MAX_DEPTH);
    if (rd_u32(P, "array element type", &et) || rd_u64(P, "array length", &n)) return -1;
    if (et >= LRQ_GGUF_VTYPE_COUNT) return lrq_err_set("unknown array element type %" PRIu32, et);
    out->type = LRQ_GGUF_ARRAY;
    out->v.arr.elem_type = (int)et;
    out->v.arr.n = n;
    out->v.arr.raw = NULL;
    out->v.arr.items = NULL;
    size_t esz = lrq_gguf_scalar_size((int)et);
    size_t rem = remain(P);
    if (esz) {
        if (n > rem / esz) {
            return lrq_err_set("array of %" PRIu64 " %s at offset %zu past end of file (size %zu)", n,
                               lrq_gguf_vtype_name((int)et), P->pos, P->g->size);
        }
        const uint8_t *raw = P->g->d + P->pos;
        if (et == LRQ_GGUF_BOOL) {
            for (uint64_t i = 0; i < n; i++) {
                if (raw[i] > 1) {
                    return lrq_err_set("element %" PRIu64 ": bool value %u is not 0 or 1", i, raw[i]);
                }
            }
        }
        out->v.arr.raw = raw;
        P->pos += (size_t)n * esz;
        return 0;
    }
    /* STRING or ARRAY elements: each needs at least 8 (length) or 12 (type +
     * count) bytes, which bounds the item allocation by the file size. */
    size_t min_elem = et == LRQ_GGUF_STRING ? 8 : 12;
    if (n > rem / min_elem) {
        return lrq_err_set("array of %" PRIu64 " %s at offset %zu cannot fit in the file (size %zu)", n,
                           lrq_gguf_vtype_name((int)et), P->pos, P->g->size);
    }
    if (n == 0) return 0;
    size_t bytes;
    if (lrq_mul_size((size_t)n, sizeof(lrq_gguf_value), &bytes)) return lrq_err_set("array too large");
    lrq_gguf_value *items = arena_alloc(&P->g->ar, bytes);
    if (!items) return -1;
    out->v.arr.items = items;
    const uint8_t *d = P->g->d;
    size_t size = P->g->size;
    if (et == LRQ_GGUF_STRING) {
        /* Hot loop for vocabularies: inline bounds checks, no calls. */
        size_t pos = P->pos;
        for (uint64_t i = 0; i < n; i++) {
            if (size - pos < 8) {
                P->pos = pos;
                lrq_err_set("element %" PRIu64 ": string length (8 bytes at offset %zu) past end of file (size %zu)",
                            i, pos, size);
                return -1;
            }
            uint64_t len = lrq_le64(d + pos);
            pos += 8;
            if (len > size - pos) {
                P->pos = pos;
                return lrq_err_set("element %" PRIu64 ": string length %" PRIu64
                                   " at offset %zu past end of file (size %zu)", i, len, pos - 8, size);
            }
            items[i].type = LRQ_GGUF_STRING;
            items[i].v.str.ptr = (const char *)d + pos;
            items[i].v.str.len = len;
            pos += (size_t)len;
        }
        P->pos = pos;
        return 0;
    }
    for (uint64_t i = 0; i < n; i++) {
        if (rd_array(P, depth + 1, &items[i])) return lrq_err_prefix("element %" PRIu64, i);
    }
    return 0;
}

/* ---- whole-file parse ---- */

static int parse_header(parser *P, uint64_t *n_tensors, uint64_t *n_kv) {
    lrq_gguf *g = P->g;
    if (g->size == 0) return lrq_err_set("empty file, not a GGUF file");
    if (g->size < 4) return lrq_err_set("file too small (%zu bytes) to be a GGUF file", g->size);
    if (memcmp(g->d, "GGUF", 4) != 0) {
        char m[5];
        for (int i = 0; i < 4; i++) m[i] = (g->d[i] >= 0x20 && g->d[i] < 0x7f) ? (char)g->d[i] : '?';
        m[4] = 0;
        return lrq_err_set("not a GGUF file (magic '%s', expected 'GGUF')", m);
    }
    if (g->size < HEADER_BYTES) {
        return lrq_err_set("header truncated: file has %zu bytes, a GGUF header needs %u", g->size,
                           HEADER_BYTES);
    }
    g->version = lrq_le32(g->d + 4);
    if (g->version == 1) return lrq_err_set("GGUF version 1 is not supported (only versions 2 and 3)");
    if (g->version != 2 && g->version != 3) {
        if ((g->version & 0xffffu) == 0) {
            return lrq_err_set("unsupported GGUF version 0x%08" PRIx32 " (a big-endian file? only "
                               "little-endian versions 2 and 3 are supported)", g->version);
        }
        return lrq_err_set("unsupported GGUF version %" PRIu32 " (only versions 2 and 3)", g->version);
    }
    *n_tensors = lrq_le64(g->d + 8);
    *n_kv = lrq_le64(g->d + 16);
    P->pos = HEADER_BYTES;
    uint64_t rem = g->size - HEADER_BYTES;
    /* Each count alone is checked first so the products below cannot overflow. */
    if (*n_tensors > rem / MIN_TENSOR_BYTES || *n_kv > rem / MIN_KV_BYTES ||
        *n_tensors * MIN_TENSOR_BYTES + *n_kv * MIN_KV_BYTES > rem) {
        return lrq_err_set("header claims %" PRIu64 " tensors and %" PRIu64
                           " keys, more than the %" PRIu64 " bytes after the header can hold",
                           *n_tensors, *n_kv, rem);
    }
    return 0;
}

static int parse_kvs(parser *P) {
    lrq_gguf *g = P->g;
    for (int64_t i = 0; i < g->n_kv; i++) {
        lrq_gguf_kv *nkv = grow(g->kv, &g->kv_cap, (size_t)i + 1, sizeof *g->kv);
        if (!nkv) return -1;
        g->kv = nkv;
        if (table_reserve(&g->kv_tab, &g->kv_tab_cap, i + 1, kv_name, g)) return -1;
        lrq_gguf_kv *kv = &g->kv[i];
        size_t klen = 0, slot = 0;
        if (rd_name(P, "key", &kv->key, &klen)) return lrq_err_prefix("key %" PRId64, i);
        int64_t prev = table_find(g->kv_tab, g->kv_tab_cap, kv->key, klen, kv_name, g, &slot);
        if (prev >= 0) {
            char nb[LRQ_GGUF_SAFE_NAME_BUF];
            return lrq_err_set("duplicate key '%s' (keys %" PRId64 " and %" PRId64 ")",
                               lrq_gguf_safe_name(kv->key, nb), prev, i);
        }
        g->kv_tab[slot] = i + 1;
        uint32_t t = 0;
        if (rd_u32(P, "value type", &t) || rd_value(P, t, 0, &kv->val)) {
            char nb[LRQ_GGUF_SAFE_NAME_BUF];
            return lrq_err_prefix("key %" PRId64 " '%s'", i, lrq_gguf_safe_name(kv->key, nb));
        }
    }
    g->alignment = 32;
    const lrq_gguf_value *a = lrq_gguf_find(g, "general.alignment");
    if (a) {
        if (a->type != LRQ_GGUF_UINT32) {
            return lrq_err_set("key 'general.alignment': must be uint32, found %s", lrq_gguf_vtype_name(a->type));
        }
        uint64_t al = a->v.u64;
        if (al == 0 || (al & (al - 1)) != 0) {
            return lrq_err_set("key 'general.alignment': %" PRIu64 " is not a nonzero power of two", al);
        }
        g->alignment = (uint32_t)al;
    }
    return 0;
}

static int parse_tensor_info(parser *P, int64_t i) {
    lrq_gguf *g = P->g;
    lrq_gguf_tensor *t = &g->tensors[i];
    size_t nlen = 0, slot = 0;
    if (rd_name(P, "tensor name", &t->name, &nlen)) return -1;
    int64_t prev = table_find(g->t_tab, g->t_tab_cap, t->name, nlen, t_name, g, &slot);
    if (prev >= 0) return lrq_err_set("duplicate tensor name (also tensor %" PRId64 ")", prev);
    g->t_tab[slot] = i + 1;
    uint32_t nd = 0;
    if (rd_u32(P, "n_dims", &nd)) return -1;
    if (nd < 1 || nd > LRQ_GGUF_MAX_DIMS) {
        return lrq_err_set("n_dims %" PRIu32 " not in 1..%d", nd, LRQ_GGUF_MAX_DIMS);
    }
    t->n_dims = nd;
    for (int j = 0; j < LRQ_GGUF_MAX_DIMS; j++) t->ne[j] = 1;
    for (uint32_t j = 0; j < nd; j++) {
        uint64_t u = 0;
        if (rd_u64(P, "dimension", &u)) return -1;
        t->ne[j] = (int64_t)u;
        if (t->ne[j] < 0) return lrq_err_set("dimension %" PRIu32 " is negative (%" PRId64 ")", j, t->ne[j]);
        /* llama.cpp tolerates empty tensors, but no model tensor is ever
         * empty: a 0 here is a corrupt or mis-converted file, and accepting
         * it only moves the failure to a later, less clear place. */
        if (t->ne[j] == 0) return lrq_err_set("dimension %" PRIu32 " is 0", j);
    }
    uint64_t nel = 1;
    for (int j = 0; j < LRQ_GGUF_MAX_DIMS; j++) {
        if (lrq_mul_u64(nel, (uint64_t)t->ne[j], &nel) || nel > (uint64_t)INT64_MAX) {
            return lrq_err_set("element count of shape [%" PRId64 ", %" PRId64 ", %" PRId64 ", %" PRId64
                               "] overflows", t->ne[0], t->ne[1], t->ne[2], t->ne[3]);
        }
    }
    uint32_t type = 0;
    if (rd_u32(P, "type", &type)) return -1;
    const lrq_type_traits *tr = type <= INT_MAX ? lrq_type_get((int)type) : NULL;
    if (!tr) return lrq_err_set("unknown type %" PRIu32, type);
    t->type = (int)type;
    if (t->ne[0] % tr->blck_size != 0) {
        return lrq_err_set("row length %" PRId64 " is not a multiple of the block size %d of type %s",
                           t->ne[0], tr->blck_size, tr->name);
    }
    size_t row;
    /* rows = ne1*ne2*ne3 <= nel fits in int64 (checked above). */
    uint64_t rows = (uint64_t)t->ne[1] * (uint64_t)t->ne[2] * (uint64_t)t->ne[3];
    if (lrq_row_size(t->type, t->ne[0], &row) || rows > SIZE_MAX ||
        lrq_mul_size(row, (size_t)rows, &t->nbytes)) {
        return lrq_err_set("size in bytes of shape [%" PRId64 ", %" PRId64 ", %" PRId64 ", %" PRId64
                           "] of type %s overflows", t->ne[0], t->ne[1], t->ne[2], t->ne[3], tr->name);
    }
    if (rd_u64(P, "data offset", &t->offset)) return -1;
    if (t->offset % g->alignment != 0) {
        return lrq_err_set("data offset %" PRIu64 " is not a multiple of the alignment %" PRIu32, t->offset,
                           g->alignment);
    }
    return 0;
}

/* Sort key for the overlap check (self-contained, so qsort needs no global). */
typedef struct extent {
    uint64_t off;
    size_t nbytes;
    int64_t idx;
} extent;

static int cmp_extent(const void *a, const void *b) {
    const extent *x = a, *y = b;
    if (x->off != y->off) return x->off < y->off ? -1 : 1;
    if (x->nbytes != y->nbytes) return x->nbytes < y->nbytes ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int overlap_err(const lrq_gguf *g, int64_t a, int64_t b) {
    const lrq_gguf_tensor *x = &g->tensors[a], *y = &g->tensors[b];
    char na[LRQ_GGUF_SAFE_NAME_BUF], nb[LRQ_GGUF_SAFE_NAME_BUF];
    return lrq_err_set("tensor %" PRId64 " '%s' data [%" PRIu64 ", +%zu) overlaps tensor %" PRId64
                       " '%s' data [%" PRIu64 ", +%zu) (offsets relative to the data section)",
                       a, lrq_gguf_safe_name(x->name, na), x->offset, x->nbytes, b, lrq_gguf_safe_name(y->name, nb),
                       y->offset, y->nbytes);
}

/* Tensors must not share bytes (zero-size tensors share none). Writers lay
 * them out in order, so the common case is one linear pass; otherwise sort
 * the extents by offset first. Either way, walking by offset while tracking
 * the furthest end seen finds any overlap. */
static int check_overlap(lrq_gguf *g) {
    int64_t n = g->n_tensors;
    int sorted = 1;
    for (int64_t i = 1; i < n && sorted; i++) {
        if (g->tensors[i].offset < g->tensors[i - 1].offset) sorted = 0;
    }
    extent *ex = NULL;
    if (!sorted) {
        ex = lrq_calloc((size_t)n, sizeof *ex);
        if (!ex) return -1;
        for (int64_t i = 0; i < n; i++) {
            ex[i].off = g->tensors[i].offset;
            ex[i].nbytes = g->tensors[i].nbytes;
            ex[i].idx = i;
        }
        qsort(ex, (size_t)n, sizeof *ex, cmp_extent);
    }
    int rc = 0;
    uint64_t end = 0; /* furthest end so far (fits: every extent is inside the file) */
    int64_t end_idx = -1;
    for (int64_t k = 0; k < n; k++) {
        int64_t i = ex ? ex[k].idx : k;
        const lrq_gguf_tensor *t = &g->tensors[i];
        if (t->nbytes == 0) continue;
        if (end_idx >= 0 && t->offset < end) {
            rc = overlap_err(g, end_idx < i ? end_idx : i, end_idx < i ? i : end_idx);
            break;
        }
        end = t->offset + t->nbytes;
        end_idx = i;
    }
    free(ex);
    return rc;
}

static int parse(lrq_gguf *g) {
    parser P = {g, 0};
    uint64_t n_tensors = 0, n_kv = 0;
    if (parse_header(&P, &n_tensors, &n_kv)) return -1;
    g->n_tensors = (int64_t)n_tensors;
    g->n_kv = (int64_t)n_kv;
    if (parse_kvs(&P)) return -1;
    for (int64_t i = 0; i < g->n_tensors; i++) {
        lrq_gguf_tensor *nt = grow(g->tensors, &g->t_cap, (size_t)i + 1, sizeof *g->tensors);
        if (!nt) return -1;
        g->tensors = nt;
        if (table_reserve(&g->t_tab, &g->t_tab_cap, i + 1, t_name, g)) return -1;
        if (parse_tensor_info(&P, i)) {
            char nb[LRQ_GGUF_SAFE_NAME_BUF];
            if (g->tensors[i].name) {
                return lrq_err_prefix("tensor %" PRId64 " '%s'", i, lrq_gguf_safe_name(g->tensors[i].name, nb));
            }
            return lrq_err_prefix("tensor %" PRId64, i);
        }
    }
    if (g->n_tensors == 0) {
        /* Vocab-only files end right after the metadata; no padding required. */
        g->data_offset = P.pos;
        return 0;
    }
    uint64_t start = ((uint64_t)P.pos + g->alignment - 1) & ~(uint64_t)(g->alignment - 1);
    if (start > g->size) {
        return lrq_err_set("data section would start at offset %" PRIu64 " (tensor infos end at %zu, "
                           "alignment %" PRIu32 "), past end of file (size %zu)", start, P.pos,
                           g->alignment, g->size);
    }
    g->data_offset = (size_t)start;
    size_t avail = g->size - g->data_offset;
    for (int64_t i = 0; i < g->n_tensors; i++) {
        lrq_gguf_tensor *t = &g->tensors[i];
        if (t->offset > avail || t->nbytes > avail - t->offset) {
            char nb[LRQ_GGUF_SAFE_NAME_BUF];
            return lrq_err_set("tensor %" PRId64 " '%s': data (offset %" PRIu64 " + %zu bytes in the data "
                               "section at %zu) extends past end of file (size %zu)", i,
                               lrq_gguf_safe_name(t->name, nb), t->offset,
                               t->nbytes, g->data_offset, g->size);
        }
        t->data = g->d + g->data_offset + t->offset;
    }
    return check_overlap(g);
}

static int open_common(lrq_gguf *g, lrq_gguf **out) {
    if (parse(g)) {
        lrq_err_prefix("%s", g->path);
        lrq_gguf_close(g);
        return -1;
    }
    *out = g;
    return 0;
}

int lrq_gguf_open(lrq_gguf **out, const char *path) {
    *out = NULL;
    lrq_gguf *g = lrq_calloc(1, sizeof *g);
    if (!g) return lrq_err_prefix("%s", path);
    g->path = lrq_strdup(path);
    if (!g->path) {
        free(g);
        return lrq_err_prefix("%s", path);
    }
    if (lrq_mapfile_open(&g->mf, path)) { /* the message already names the path */
        free(g->path);
        free(g);
        return -1;
    }
    g->d = g->mf.data;
    g->size = g->mf.size;
    return open_common(g, out);
}

int lrq_gguf_open_memory(lrq_gguf **out, const void *data, size_t size, const char *name) {
    *out = NULL;
    lrq_gguf *g = lrq_calloc(1, sizeof *g);
    if (!g) return lrq_err_prefix("%s", name);
    g->path = lrq_strdup(name);
    if (!g->path) {
        free(g);
        return lrq_err_prefix("%s", name);
    }
    g->d = data;
    g->size = data ? size : 0;
    return open_common(g, out);
}

void lrq_gguf_close(lrq_gguf *g) {
    if (!g) return;
    arena_free(&g->ar);
    free(g->kv);
    free(g->tensors);
    free(g->kv_tab);
    free(g->t_tab);
    lrq_mapfile_close(&g->mf);
    free(g->path);
    free(g);
}

/* ---- accessors ---- */

const char *lrq_gguf_path(const lrq_gguf *g) { return g->path; }
uint32_t lrq_gguf_version(const lrq_gguf *g) { return g->version; }
uint32_t lrq_gguf_alignment(const lrq_gguf *g) { return g->alignment; }
size_t lrq_gguf_file_size(const lrq_gguf *g) { return g->size; }
size_t lrq_gguf_data_offset(const lrq_gguf *g) { return g->data_offset; }
int64_t lrq_gguf_n_kv(const lrq_gguf *g) { return g->n_kv; }
int64_t lrq_gguf_n_tensors(const lrq_gguf *g) { return g->n_tensors; }

const lrq_gguf_kv *lrq_gguf_kv_at(const lrq_gguf *g, int64_t i) {
    LRQ_ASSERT(i >= 0 && i < g->n_kv);
    return &g->kv[i];
}

const lrq_gguf_tensor *lrq_gguf_tensor_at(const lrq_gguf *g, int64_t i) {
    LRQ_ASSERT(i >= 0 && i < g->n_tensors);
    return &g->tensors[i];
}

const lrq_gguf_value *lrq_gguf_find(const lrq_gguf *g, const char *key) {
    int64_t i = table_find(g->kv_tab, g->kv_tab_cap, key, strlen(key), kv_name, g, NULL);
    return i >= 0 ? &g->kv[i].val : NULL;
}

const lrq_gguf_tensor *lrq_gguf_find_tensor(const lrq_gguf *g, const char *name) {
    int64_t i = table_find(g->t_tab, g->t_tab_cap, name, strlen(name), t_name, g, NULL);
    return i >= 0 ? &g->tensors[i] : NULL;
}

const char *lrq_gguf_vtype_name(int t) {
    static const char *const names[LRQ_GGUF_VTYPE_COUNT] = {
        "uint8", "int8", "uint16", "int16", "uint32", "int32", "float32",
        "bool", "string", "array", "uint64", "int64", "float64",
    };
    return lrq_gguf_vtype_valid(t) ? names[t] : "unknown";
}

/* ---- typed getters ---- */

static int is_unsigned(int t) {
    return t == LRQ_GGUF_UINT8 || t == LRQ_GGUF_UINT16 || t == LRQ_GGUF_UINT32 || t == LRQ_GGUF_UINT64;
}
static int is_signed(int t) {
    return t == LRQ_GGUF_INT8 || t == LRQ_GGUF_INT16 || t == LRQ_GGUF_INT32 || t == LRQ_GGUF_INT64;
}

static int type_err(const lrq_gguf *g, const char *key, const char *expected, int found) {
    char nb[LRQ_GGUF_SAFE_NAME_BUF];
    return lrq_err_set("%s: key '%s': expected %s, found %s", g->path, lrq_gguf_safe_name(key, nb), expected, lrq_gguf_vtype_name(found));
}

int lrq_gguf_get_u32(const lrq_gguf *g, const char *key, uint32_t *out) {
    char nb[LRQ_GGUF_SAFE_NAME_BUF];
    const lrq_gguf_value *v = lrq_gguf_find(g, key);
    if (!v) return 0;
    if (is_unsigned(v->type)) {
        if (v->v.u64 > UINT32_MAX) {
            return lrq_err_set("%s: key '%s': value %" PRIu64 " out of range for uint32", g->path, lrq_gguf_safe_name(key, nb), v->v.u64);
        }
        *out = (uint32_t)v->v.u64;
        return 1;
    }
    if (is_signed(v->type)) {
        if (v->v.i64 < 0 || v->v.i64 > (int64_t)UINT32_MAX) {
            return lrq_err_set("%s: key '%s': value %" PRId64 " out of range for uint32", g->path, lrq_gguf_safe_name(key, nb), v->v.i64);
        }
        *out = (uint32_t)v->v.i64;
        return 1;
    }
    return type_err(g, key, "an unsigned integer", v->type);
}

int lrq_gguf_get_i64(const lrq_gguf *g, const char *key, int64_t *out) {
    char nb[LRQ_GGUF_SAFE_NAME_BUF];
    const lrq_gguf_value *v = lrq_gguf_find(g, key);
    if (!v) return 0;
    if (is_unsigned(v->type)) {
        if (v->v.u64 > (uint64_t)INT64_MAX) {
            return lrq_err_set("%s: key '%s': value %" PRIu64 " out of range for int64", g->path, lrq_gguf_safe_name(key, nb), v->v.u64);
        }
        *out = (int64_t)v->v.u64;
        return 1;
    }
    if (is_signed(v->type)) {
        *out = v->v.i64;
        return 1;
    }
    return type_err(g, key, "an integer", v->type);
}

int lrq_gguf_get_f32(const lrq_gguf *g, const char *key, float *out) {
    char nb[LRQ_GGUF_SAFE_NAME_BUF];
    const lrq_gguf_value *v = lrq_gguf_find(g, key);
    if (!v) return 0;
    if (v->type != LRQ_GGUF_FLOAT32 && v->type != LRQ_GGUF_FLOAT64) return type_err(g, key, "a float", v->type);
    double x = v->v.f64;
    if (isfinite(x) && (x > FLT_MAX || x < -FLT_MAX)) {
        return lrq_err_set("%s: key '%s': value %g out of range for float32", g->path, lrq_gguf_safe_name(key, nb), x);
    }
    *out = (float)x;
    return 1;
}

int lrq_gguf_get_bool(const lrq_gguf *g, const char *key, int *out) {
    const lrq_gguf_value *v = lrq_gguf_find(g, key);
    if (!v) return 0;
    if (v->type != LRQ_GGUF_BOOL) return type_err(g, key, "a bool", v->type);
    *out = v->v.u64 != 0;
    return 1;
}

int lrq_gguf_get_str(const lrq_gguf *g, const char *key, const char **ptr, uint64_t *len) {
    const lrq_gguf_value *v = lrq_gguf_find(g, key);
    if (!v) return 0;
    if (v->type != LRQ_GGUF_STRING) return type_err(g, key, "a string", v->type);
    *ptr = v->v.str.ptr;
    *len = v->v.str.len;
    return 1;
}

int lrq_gguf_get_arr(const lrq_gguf *g, const char *key, int *elem_type, uint64_t *n,
                     const lrq_gguf_value **val) {
    const lrq_gguf_value *v = lrq_gguf_find(g, key);
    if (!v) return 0;
    if (v->type != LRQ_GGUF_ARRAY) return type_err(g, key, "an array", v->type);
    if (elem_type) *elem_type = v->v.arr.elem_type;
    if (n) *n = v->v.arr.n;
    if (val) *val = v;
    return 1;
}

/* Decode element i of a scalar array into one of three forms. */
static void arr_elem(const lrq_gguf_value *arr, uint64_t i, int *kind, uint64_t *u, int64_t *s, double *f) {
    LRQ_ASSERT(arr->type == LRQ_GGUF_ARRAY && i < arr->v.arr.n);
    int et = arr->v.arr.elem_type;
    size_t esz = lrq_gguf_scalar_size(et);
    LRQ_ASSERT(esz != 0);
    const uint8_t *p = (const uint8_t *)arr->v.arr.raw + i * esz;
    *kind = 0;
    switch (et) {
    case LRQ_GGUF_UINT8: case LRQ_GGUF_BOOL: *u = p[0]; break;
    case LRQ_GGUF_UINT16: *u = lrq_le16(p); break;
    case LRQ_GGUF_UINT32: *u = lrq_le32(p); break;
    case LRQ_GGUF_UINT64: *u = lrq_le64(p); break;
    case LRQ_GGUF_INT8: *kind = 1; *s = (int8_t)p[0]; break;
    case LRQ_GGUF_INT16: *kind = 1; *s = (int16_t)lrq_le16(p); break;
    case LRQ_GGUF_INT32: *kind = 1; *s = (int32_t)lrq_le32(p); break;
    case LRQ_GGUF_INT64: *kind = 1; *s = (int64_t)lrq_le64(p); break;
    case LRQ_GGUF_FLOAT32: *kind = 2; *f = lrq_bits_to_f32(lrq_le32(p)); break;
    default: { /* FLOAT64 */
        uint64_t b = lrq_le64(p);
        *kind = 2;
        memcpy(f, &b, 8);
        break;
    }
    }
}

double lrq_gguf_arr_f64(const lrq_gguf_value *arr, uint64_t i) {
    int kind;
    uint64_t u = 0;
    int64_t s = 0;
    double f = 0;
    arr_elem(arr, i, &kind, &u, &s, &f);
    return kind == 0 ? (double)u : kind == 1 ? (double)s : f;
}

int64_t lrq_gguf_arr_i64(const lrq_gguf_value *arr, uint64_t i) {
    int kind;
    uint64_t u = 0;
    int64_t s = 0;
    double f = 0;
    arr_elem(arr, i, &kind, &u, &s, &f);
    if (kind == 0) return u > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)u;
    if (kind == 1) return s;
    /* Floats: truncate toward zero, saturating (NaN -> 0) so no conversion is undefined. */
    if (f != f) return 0;
    if (f >= 9223372036854775807.0) return INT64_MAX;
    if (f <= -9223372036854775808.0) return INT64_MIN;
    return (int64_t)f;
}
