/* st_testutil.h — helpers shared by the safetensors / HF loader tests:
 * temporary directories, writing files, and building safetensors images
 * from a list of tensors. Header-only (static functions) because each test
 * executable is linked only with testlib.c. Define _POSIX_C_SOURCE 200809L
 * before including anything. */
#ifndef LRQ_ST_TESTUTIL_H
#define LRQ_ST_TESTUTIL_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/safetensors.h"
#include "fmt/types.h"

/* A fresh empty directory under /tmp (static buffer, rotating); NULL on failure. */
static inline const char *tu_mkdtemp(void) {
    static char bufs[4][64];
    static int k;
    char *b = bufs[k++ & 3];
    snprintf(b, sizeof bufs[0], "/tmp/lrq_test_XXXXXX");
    return mkdtemp(b);
}

/* Remove every entry of a flat directory, then the directory. */
static inline void tu_rmdir(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *de;
    char path[512];
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

static inline int tu_write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = n ? fwrite(data, 1, n, f) : 0;
    int rc = fclose(f);
    return (w == n && rc == 0) ? 0 : -1;
}

static inline int tu_write_str(const char *dir, const char *name, const char *text) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return tu_write_file(path, text, strlen(text));
}

/* Read a whole file (malloc'ed); NULL on failure. */
static inline uint8_t *tu_read_file(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(sz > 0 ? (size_t)sz : 1);
    if (b && fread(b, 1, (size_t)sz, f) != (size_t)sz) { free(b); b = NULL; }
    fclose(f);
    if (b) *n = (size_t)sz;
    return b;
}

typedef struct tu_st_entry {
    const char *name;
    const char *dtype;
    int n_dims;
    int64_t shape[8];
    const void *data;
    size_t nbytes;
} tu_st_entry;

static inline const char *tu_dtype_name(int type) {
    return type == LRQ_TYPE_F32 ? "F32" : type == LRQ_TYPE_F16 ? "F16" : "BF16";
}

/* Entry for tensor i of an open safetensors. */
static inline tu_st_entry tu_entry_of(const lrq_st_tensor *t) {
    tu_st_entry e;
    memset(&e, 0, sizeof e);
    e.name = t->name;
    e.dtype = tu_dtype_name(t->type);
    e.n_dims = t->n_dims;
    for (int d = 0; d < t->n_dims; d++) e.shape[d] = t->shape[d];
    e.data = t->data;
    e.nbytes = t->nbytes;
    return e;
}

/* Build a safetensors image: header (padded with spaces to a multiple of 8,
 * like the reference writer) then the tensors' data back to back. Returns a
 * malloc'ed image and its size. `metadata` may be NULL. */
static inline uint8_t *tu_st_build(const tu_st_entry *e, int n, const char *metadata, size_t *size) {
    size_t cap = 256 + (size_t)n * 400 + (metadata ? strlen(metadata) : 0);
    char *h = malloc(cap);
    size_t k = 0;
    uint64_t off = 0;
    k += (size_t)snprintf(h + k, cap - k, "{");
    if (metadata) k += (size_t)snprintf(h + k, cap - k, "\"__metadata__\":%s%s", metadata, n ? "," : "");
    for (int i = 0; i < n; i++) {
        k += (size_t)snprintf(h + k, cap - k, "%s\"%s\":{\"dtype\":\"%s\",\"shape\":[", i ? "," : "", e[i].name,
                              e[i].dtype);
        for (int d = 0; d < e[i].n_dims; d++)
            k += (size_t)snprintf(h + k, cap - k, "%s%lld", d ? "," : "", (long long)e[i].shape[d]);
        k += (size_t)snprintf(h + k, cap - k, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)off,
                              (unsigned long long)(off + e[i].nbytes));
        off += e[i].nbytes;
    }
    k += (size_t)snprintf(h + k, cap - k, "}");
    while (k % 8) h[k++] = ' ';
    *size = 8 + k + (size_t)off;
    uint8_t *img = malloc(*size ? *size : 1);
    uint64_t hl = k;
    for (int i = 0; i < 8; i++) img[i] = (uint8_t)(hl >> (8 * i));
    memcpy(img + 8, h, k);
    size_t p = 8 + k;
    for (int i = 0; i < n; i++) {
        if (e[i].nbytes) memcpy(img + p, e[i].data, e[i].nbytes);
        p += e[i].nbytes;
    }
    free(h);
    return img;
}

/* Image with a raw header text (no padding) followed by data_size zero bytes. */
static inline uint8_t *tu_st_raw(const char *header, size_t data_size, size_t *size) {
    size_t hl = strlen(header);
    *size = 8 + hl + data_size;
    uint8_t *img = calloc(*size, 1);
    for (int i = 0; i < 8; i++) img[i] = (uint8_t)((uint64_t)hl >> (8 * i));
    memcpy(img + 8, header, hl);
    return img;
}

/* A temporary HF directory: config.json = `config` (NULL: none), and
 * model.safetensors holding the real stories260K tensors except those whose
 * name equals one of `drop` (NULL-terminated list, may be NULL), plus
 * `extra`. Returns the directory (remove with tu_rmdir) or NULL. */
static inline const char *tu_make_hf_dir(const char *real_safetensors, const char *config, const char *const *drop,
                                         const tu_st_entry *extra, int n_extra) {
    lrq_safetensors *st = NULL;
    if (lrq_safetensors_open(&st, real_safetensors)) return NULL;
    const char *dir = tu_mkdtemp();
    int n = (int)lrq_safetensors_n_tensors(st), k = 0;
    tu_st_entry *e = calloc((size_t)(n + n_extra), sizeof *e);
    for (int i = 0; i < n; i++) {
        const lrq_st_tensor *t = lrq_safetensors_tensor_at(st, i);
        int skip = 0;
        for (int d = 0; drop && drop[d]; d++) skip |= strcmp(drop[d], t->name) == 0;
        if (!skip) e[k++] = tu_entry_of(t);
    }
    for (int i = 0; i < n_extra; i++) e[k++] = extra[i];
    size_t sz;
    uint8_t *img = tu_st_build(e, k, "{\"format\":\"pt\"}", &sz);
    char path[512];
    snprintf(path, sizeof path, "%s/model.safetensors", dir ? dir : "/nonexistent");
    int rc = dir ? tu_write_file(path, img, sz) : -1;
    if (rc == 0 && config) rc = tu_write_str(dir, "config.json", config);
    free(img);
    free(e);
    lrq_safetensors_close(st);
    if (rc) {
        if (dir) tu_rmdir(dir);
        return NULL;
    }
    return dir;
}

/* Copy of `s` with the first occurrence of `from` replaced by `to` (malloc'ed). */
static inline char *tu_replace(const char *s, const char *from, const char *to) {
    const char *p = strstr(s, from);
    size_t n = strlen(s), fl = strlen(from), tl = strlen(to);
    char *r = malloc(n + tl + 1);
    if (!p) { memcpy(r, s, n + 1); return r; }
    size_t a = (size_t)(p - s);
    memcpy(r, s, a);
    memcpy(r + a, to, tl);
    memcpy(r + a + tl, p + fl, n - a - fl + 1);
    return r;
}

#endif
