/* fuzz_gguf.c — libFuzzer target for the GGUF reader (and, on inputs the
 * reader accepts, the writer). For each input:
 *  - lrq_gguf_open_memory must either fail with a one-line message naming
 *    the input, or succeed;
 *  - on success every value, array element, string byte and tensor byte is
 *    touched (ASan flags any pointer outside the input), the name lookups
 *    must find every key and tensor, and the typed getters must not crash;
 *  - the file is rewritten with lrq_gguf_writer_copy_all, reopened, and must
 *    compare equal (keys, values, tensors, data).
 * Any violated expectation aborts, which libFuzzer reports as a crash.
 * Seeds: fuzz/corpus-gguf/ (made by tests/test_gguf_corrupt.c with
 * LRQ_GGUF_CORPUS_DIR set). Build: cmake -DLRQ_FUZZ=ON with clang.
 */
#define _POSIX_C_SOURCE 200809L
#include "io/gguf.h"
#include "core/core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NAME "fuzz-input.gguf"

static void fail(const char *what) {
    fprintf(stderr, "fuzz_gguf: %s (last error: %s)\n", what, lrq_err_get());
    abort();
}

static volatile uint64_t sink;

static void touch_value(const lrq_gguf_value *v) {
    switch (v->type) {
    case LRQ_GGUF_STRING: {
        uint64_t s = 0;
        for (uint64_t i = 0; i < v->v.str.len; i++) s += (unsigned char)v->v.str.ptr[i];
        sink += s;
        return;
    }
    case LRQ_GGUF_ARRAY: break;
    default: sink += v->v.u64; return;
    }
    int et = v->v.arr.elem_type;
    if (et == LRQ_GGUF_STRING || et == LRQ_GGUF_ARRAY) {
        for (uint64_t i = 0; i < v->v.arr.n; i++) {
            if (v->v.arr.items[i].type != et) fail("array item of the wrong type");
            touch_value(&v->v.arr.items[i]);
        }
        return;
    }
    for (uint64_t i = 0; i < v->v.arr.n; i++) {
        double d = lrq_gguf_arr_f64(v, i);
        int64_t x = lrq_gguf_arr_i64(v, i);
        sink += (uint64_t)x + (d == d);
    }
}

static int value_eq(const lrq_gguf_value *a, const lrq_gguf_value *b) {
    if (a->type != b->type) return 0;
    switch (a->type) {
    case LRQ_GGUF_STRING:
        return a->v.str.len == b->v.str.len && memcmp(a->v.str.ptr, b->v.str.ptr, (size_t)a->v.str.len) == 0;
    case LRQ_GGUF_FLOAT32: case LRQ_GGUF_FLOAT64: return memcmp(&a->v.f64, &b->v.f64, 8) == 0;
    case LRQ_GGUF_ARRAY: break;
    default: return a->v.u64 == b->v.u64;
    }
    if (a->v.arr.elem_type != b->v.arr.elem_type || a->v.arr.n != b->v.arr.n) return 0;
    int et = a->v.arr.elem_type;
    if (et == LRQ_GGUF_STRING || et == LRQ_GGUF_ARRAY) {
        for (uint64_t i = 0; i < a->v.arr.n; i++) {
            if (!value_eq(&a->v.arr.items[i], &b->v.arr.items[i])) return 0;
        }
        return 1;
    }
    static const size_t esz[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    size_t n = (size_t)a->v.arr.n * esz[et];
    return n == 0 || memcmp(a->v.arr.raw, b->v.arr.raw, n) == 0;
}

static void roundtrip(const lrq_gguf *g) {
    int long_name = 0;
    for (int64_t i = 0; i < lrq_gguf_n_tensors(g); i++) long_name |= strlen(lrq_gguf_tensor_at(g, i)->name) > 63;
    lrq_gguf_writer *w = lrq_gguf_writer_new();
    if (!w) fail("writer_new");
    if (lrq_gguf_writer_copy_all(w, g) != 0) {
        if (!long_name) fail("copy_all rejected a file the reader accepted");
        lrq_gguf_writer_free(w);
        return;
    }
    char path[512];
    const char *tmp = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/fuzz_gguf_%ld.gguf", tmp && *tmp ? tmp : "/tmp", (long)getpid());
    if (lrq_gguf_writer_write(w, path) != 0) fail("write");
    lrq_gguf_writer_free(w);
    lrq_gguf *r;
    if (lrq_gguf_open(&r, path) != 0) fail("reopening the rewrite failed");
    if (lrq_gguf_n_kv(r) != lrq_gguf_n_kv(g) || lrq_gguf_n_tensors(r) != lrq_gguf_n_tensors(g)) fail("counts differ");
    if (lrq_gguf_alignment(r) != lrq_gguf_alignment(g)) fail("alignment differs");
    for (int64_t i = 0; i < lrq_gguf_n_kv(g); i++) {
        const lrq_gguf_kv *a = lrq_gguf_kv_at(g, i), *b = lrq_gguf_kv_at(r, i);
        if (strcmp(a->key, b->key) != 0 || !value_eq(&a->val, &b->val)) fail("key differs after rewrite");
    }
    for (int64_t i = 0; i < lrq_gguf_n_tensors(g); i++) {
        const lrq_gguf_tensor *a = lrq_gguf_tensor_at(g, i), *b = lrq_gguf_tensor_at(r, i);
        if (strcmp(a->name, b->name) != 0 || a->type != b->type || a->n_dims != b->n_dims ||
            memcmp(a->ne, b->ne, sizeof a->ne) != 0 || a->nbytes != b->nbytes ||
            (a->nbytes && memcmp(a->data, b->data, a->nbytes) != 0)) {
            fail("tensor differs after rewrite");
        }
    }
    lrq_gguf_close(r);
    unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lrq_gguf *g = NULL;
    lrq_err_clear();
    if (lrq_gguf_open_memory(&g, data, size, NAME) != 0) {
        const char *e = lrq_err_get();
        if (g != NULL) fail("handle set on error");
        if (strncmp(e, NAME ": ", strlen(NAME) + 2) != 0) fail("error does not start with the name");
        if (strchr(e, '\n')) fail("multi-line error");
        return 0;
    }
    for (int64_t i = 0; i < lrq_gguf_n_kv(g); i++) {
        const lrq_gguf_kv *kv = lrq_gguf_kv_at(g, i);
        if (!kv->key[0]) fail("empty key accepted");
        if (lrq_gguf_find(g, kv->key) != &kv->val) fail("find() misses a key");
        touch_value(&kv->val);
        uint32_t u;
        int64_t x;
        float f;
        int b, et;
        const char *s;
        uint64_t n;
        const lrq_gguf_value *v;
        lrq_gguf_get_u32(g, kv->key, &u);
        lrq_gguf_get_i64(g, kv->key, &x);
        lrq_gguf_get_f32(g, kv->key, &f);
        lrq_gguf_get_bool(g, kv->key, &b);
        lrq_gguf_get_str(g, kv->key, &s, &n);
        lrq_gguf_get_arr(g, kv->key, &et, &n, &v);
    }
    uint32_t al = lrq_gguf_alignment(g);
    if (al == 0 || (al & (al - 1))) fail("bad alignment accepted");
    const uint8_t *end = data + size;
    for (int64_t i = 0; i < lrq_gguf_n_tensors(g); i++) {
        const lrq_gguf_tensor *t = lrq_gguf_tensor_at(g, i);
        if (lrq_gguf_find_tensor(g, t->name) != t) fail("find_tensor() misses a tensor");
        if (t->n_dims < 1 || t->n_dims > LRQ_GGUF_MAX_DIMS) fail("bad n_dims accepted");
        const uint8_t *p = t->data;
        if (p < data || p > end || t->nbytes > (size_t)(end - p)) fail("tensor data outside the input");
        if (t->offset % al) fail("misaligned offset accepted");
        uint64_t s = 0;
        for (size_t k = 0; k < t->nbytes; k += 61) s += p[k];
        if (t->nbytes) s += p[t->nbytes - 1];
        sink += s;
    }
    roundtrip(g);
    lrq_gguf_close(g);
    return 0;
}
