/* gguf_testutil.h — a minimal GGUF tensor locator for the kernel tests.
 *
 * Why a second GGUF reader: the kernel tests (test_kern_legacy, test_kern_k)
 * compare the code under test with real llama.cpp files, and must not trust
 * src/io/gguf.c to find the bytes they compare — a reader bug would then
 * hide itself. This locator is written from the format description alone
 * and shares no code with src/. It only finds tensors: metadata values are
 * skipped (except general.alignment), nothing is validated beyond what is
 * needed to not read out of bounds.
 *
 * Header-only (static functions) because each test executable is linked
 * only with testlib.c. */
#ifndef LRQ_GGUF_TESTUTIL_H
#define LRQ_GGUF_TESTUTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct tg_tensor {
    char name[96];
    int type;             /* ggml type id, as stored */
    int n_dims;           /* 1..4 */
    int64_t ne[4];        /* ne[d] = 1 for d >= n_dims */
    int64_t n;            /* element count */
    uint64_t offset;      /* from the start of the data section */
    const uint8_t *data;  /* NULL if the caller's size function does not know the type */
    size_t nbytes;        /* 0 when data is NULL */
} tg_tensor;

typedef struct tg_file {
    uint8_t *buf; /* the whole file */
    size_t size;
    int n;        /* tensors */
    tg_tensor *t;
} tg_file;

/* Bytes of one row of ne0 values of a ggml type; returns 0 on success,
 * nonzero for a type the test does not know (its tensors get no data) or a
 * row length that is not a whole number of blocks. Supplied by each test, so
 * the locator itself knows no block sizes. */
typedef int (*tg_row_size_fn)(int type, int64_t ne0, size_t *row_bytes);

typedef struct tg_rd {
    const uint8_t *p;
    size_t size, pos;
    int ok;
} tg_rd;

static inline int tg_need(tg_rd *r, uint64_t k) {
    if (!r->ok || k > r->size - r->pos) r->ok = 0;
    return r->ok;
}

static inline uint64_t tg_u(tg_rd *r, int nb) {
    if (!tg_need(r, (uint64_t)nb)) return 0;
    uint64_t v = 0;
    for (int i = 0; i < nb; i++) v |= (uint64_t)r->p[r->pos + (size_t)i] << (8 * i);
    r->pos += (size_t)nb;
    return v;
}

static inline void tg_skip(tg_rd *r, uint64_t k) {
    if (tg_need(r, k)) r->pos += (size_t)k;
}

/* Skips one metadata value of GGUF value type `type` (arrays of strings or
 * arrays recurse; the depth bound keeps a hostile file from recursing deep). */
static inline void tg_skip_value(tg_rd *r, uint32_t type, int depth) {
    /* bytes of the scalar types 0..12; 8 (string) and 9 (array) are variable */
    static const int scalar[13] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    if (type > 12 || depth > 4) {
        r->ok = 0;
        return;
    }
    if (type == 8) {
        tg_skip(r, tg_u(r, 8));
    } else if (type == 9) {
        const uint32_t et = (uint32_t)tg_u(r, 4);
        const uint64_t cnt = tg_u(r, 8);
        if (et > 12) {
            r->ok = 0;
        } else if (et == 8 || et == 9) {
            for (uint64_t i = 0; i < cnt && r->ok; i++) tg_skip_value(r, et, depth + 1);
        } else if (cnt > r->size) { /* also keeps cnt * 8 from overflowing */
            r->ok = 0;
        } else {
            tg_skip(r, cnt * (uint64_t)scalar[et]);
        }
    } else {
        tg_skip(r, (uint64_t)scalar[type]);
    }
}

static inline void tg_close(tg_file *g) {
    free(g->buf);
    free(g->t);
    memset(g, 0, sizeof *g);
}

/* Reads the GGUF file at `path` (version 2 or 3) into memory and locates its
 * tensors. A tensor whose type row_size() does not know gets data = NULL; one
 * that it knows must lie inside the file. Returns 0, or -1 (g left empty) if
 * the file cannot be read, is not GGUF, or is malformed. */
static inline int tg_open(tg_file *g, const char *path, tg_row_size_fn row_size) {
    memset(g, 0, sizeof *g);
    FILE *fp = fopen(path, "rb");
    if (!fp) return -1;
    long sz = -1;
    if (fseek(fp, 0, SEEK_END) == 0) sz = ftell(fp);
    if (sz <= 0 || fseek(fp, 0, SEEK_SET) != 0) {
        fclose(fp);
        return -1;
    }
    g->size = (size_t)sz;
    g->buf = malloc(g->size);
    const int read_ok = g->buf && fread(g->buf, 1, g->size, fp) == g->size;
    fclose(fp);
    if (!read_ok) {
        tg_close(g);
        return -1;
    }

    tg_rd r = {g->buf, g->size, 0, 1};
    const uint32_t magic = (uint32_t)tg_u(&r, 4), version = (uint32_t)tg_u(&r, 4);
    const uint64_t nt = tg_u(&r, 8), nkv = tg_u(&r, 8);
    /* version 1 had 32-bit counts; 2 and 3 share this layout */
    if (!r.ok || magic != 0x46554747u || version < 2 || version > 3 || nt > 100000 || nkv > 100000) {
        tg_close(g);
        return -1;
    }
    uint64_t align = 32;
    for (uint64_t i = 0; i < nkv && r.ok; i++) {
        const uint64_t klen = tg_u(&r, 8);
        if (!tg_need(&r, klen)) break;
        const int is_align = klen == 17 && memcmp(r.p + r.pos, "general.alignment", 17) == 0;
        r.pos += (size_t)klen;
        const uint32_t vt = (uint32_t)tg_u(&r, 4);
        if (is_align && vt == 4) align = tg_u(&r, 4); /* UINT32 */
        else tg_skip_value(&r, vt, 0);
    }
    g->t = calloc(nt ? (size_t)nt : 1, sizeof *g->t);
    if (!g->t) r.ok = 0;
    for (uint64_t i = 0; i < nt && r.ok; i++) {
        tg_tensor *t = &g->t[i];
        const uint64_t nlen = tg_u(&r, 8);
        if (nlen >= sizeof t->name || !tg_need(&r, nlen)) {
            r.ok = 0;
            break;
        }
        memcpy(t->name, r.p + r.pos, (size_t)nlen);
        r.pos += (size_t)nlen;
        const uint32_t nd = (uint32_t)tg_u(&r, 4);
        if (nd < 1 || nd > 4) {
            r.ok = 0;
            break;
        }
        t->n_dims = (int)nd;
        t->n = 1;
        for (int d = 0; d < 4; d++) {
            const uint64_t v = d < t->n_dims ? tg_u(&r, 8) : 1;
            if (v > ((uint64_t)1 << 32)) r.ok = 0; /* keeps the product far from overflowing */
            t->ne[d] = (int64_t)v;
            t->n *= (int64_t)v;
        }
        t->type = (int)tg_u(&r, 4);
        t->offset = tg_u(&r, 8);
    }
    if (!r.ok || align == 0 || align > 4096) {
        tg_close(g);
        return -1;
    }
    g->n = (int)nt;
    const size_t data0 = (r.pos + (size_t)align - 1) / (size_t)align * (size_t)align;
    for (int i = 0; i < g->n; i++) {
        tg_tensor *t = &g->t[i];
        size_t rb;
        if (t->ne[0] <= 0 || row_size(t->type, t->ne[0], &rb) != 0) continue;
        const uint64_t nbytes = (uint64_t)rb * (uint64_t)(t->n / t->ne[0]);
        if (data0 > g->size || t->offset > g->size - data0 || nbytes > g->size - data0 - t->offset) {
            tg_close(g);
            return -1;
        }
        t->data = g->buf + data0 + t->offset;
        t->nbytes = (size_t)nbytes;
    }
    return 0;
}

/* The tensor called `name`, or NULL. */
static inline const tg_tensor *tg_find(const tg_file *g, const char *name) {
    for (int i = 0; i < g->n; i++)
        if (strcmp(g->t[i].name, name) == 0) return &g->t[i];
    return NULL;
}

#endif
