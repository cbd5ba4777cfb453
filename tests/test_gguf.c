/* test_gguf.c — the GGUF reader and writer on every real GGUF file under the
 * shared folder (open, known facts, rewrite with copy_all and deep-compare),
 * plus writer unit tests (every value type, nested arrays, key replacement,
 * alignment 64, input validation). Facts checked against the files were
 * cross-checked with an independent parser when the test was written. */
#define _POSIX_C_SOURCE 200809L
#include "testlib.h"
#include "io/gguf.h"
#include "core/core.h"
#include "fmt/types.h"

#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char tmpdir[256];

static const char *tmp_path(const char *name) {
    static char bufs[4][512];
    static int k;
    char *b = bufs[k++ & 3];
    snprintf(b, sizeof bufs[0], "%s/%s", tmpdir, name);
    return b;
}

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

/* ---- file discovery ---- */

static char **files;
static int n_files, cap_files;

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

static void walk(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(p, &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) {
            walk(p);
        } else if (ends_with(p, ".gguf")) {
            if (n_files == cap_files) {
                cap_files = cap_files ? cap_files * 2 : 64;
                files = realloc(files, (size_t)cap_files * sizeof *files);
            }
            files[n_files++] = strdup(p);
        }
    }
    closedir(d);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void find_files(void) {
    if (files) return;
    walk(test_shared("models"));
    walk(test_shared("golden"));
    walk(test_shared("tokenizers"));
    qsort(files, (size_t)n_files, sizeof *files, cmp_str);
}

/* ---- deep comparison ---- */

static int value_eq(const lrq_gguf_value *a, const lrq_gguf_value *b) {
    if (a->type != b->type) return 0;
    switch (a->type) {
    case LRQ_GGUF_STRING:
        return a->v.str.len == b->v.str.len && memcmp(a->v.str.ptr, b->v.str.ptr, (size_t)a->v.str.len) == 0;
    case LRQ_GGUF_FLOAT32: case LRQ_GGUF_FLOAT64:
        return memcmp(&a->v.f64, &b->v.f64, sizeof(double)) == 0; /* bitwise: NaN-safe, -0 distinct */
    case LRQ_GGUF_INT8: case LRQ_GGUF_INT16: case LRQ_GGUF_INT32: case LRQ_GGUF_INT64:
        return a->v.i64 == b->v.i64;
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

static unsigned char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(sz > 0 ? (size_t)sz : 1);
    *n = fread(b, 1, (size_t)sz, f);
    fclose(f);
    return b;
}

/* Compare everything the API exposes; returns the number of mismatches. */
static int compare_gguf(const lrq_gguf *a, const lrq_gguf *b, const char *what) {
    int before = test_failures_in_case;
    CHECKF(lrq_gguf_n_kv(a) == lrq_gguf_n_kv(b), "%s: n_kv %lld vs %lld", what, (long long)lrq_gguf_n_kv(a),
           (long long)lrq_gguf_n_kv(b));
    CHECKF(lrq_gguf_alignment(a) == lrq_gguf_alignment(b), "%s: alignment", what);
    int64_t nkv = lrq_gguf_n_kv(a) < lrq_gguf_n_kv(b) ? lrq_gguf_n_kv(a) : lrq_gguf_n_kv(b);
    for (int64_t i = 0; i < nkv; i++) {
        const lrq_gguf_kv *x = lrq_gguf_kv_at(a, i), *y = lrq_gguf_kv_at(b, i);
        CHECKF(strcmp(x->key, y->key) == 0, "%s: key %lld '%s' vs '%s'", what, (long long)i, x->key, y->key);
        CHECKF(value_eq(&x->val, &y->val), "%s: key '%s': values differ", what, x->key);
        CHECKF(lrq_gguf_find(b, x->key) == &y->val, "%s: find('%s')", what, x->key);
    }
    CHECKF(lrq_gguf_n_tensors(a) == lrq_gguf_n_tensors(b), "%s: n_tensors", what);
    int64_t nt = lrq_gguf_n_tensors(a) < lrq_gguf_n_tensors(b) ? lrq_gguf_n_tensors(a) : lrq_gguf_n_tensors(b);
    for (int64_t i = 0; i < nt; i++) {
        const lrq_gguf_tensor *x = lrq_gguf_tensor_at(a, i), *y = lrq_gguf_tensor_at(b, i);
        CHECKF(strcmp(x->name, y->name) == 0, "%s: tensor %lld name", what, (long long)i);
        CHECKF(x->type == y->type && x->n_dims == y->n_dims, "%s: tensor '%s' type/n_dims", what, x->name);
        CHECKF(memcmp(x->ne, y->ne, sizeof x->ne) == 0, "%s: tensor '%s' dims", what, x->name);
        CHECKF(x->nbytes == y->nbytes, "%s: tensor '%s' nbytes", what, x->name);
        CHECKF(x->offset == y->offset, "%s: tensor '%s' offset %llu vs %llu", what, x->name,
               (unsigned long long)x->offset, (unsigned long long)y->offset);
        CHECKF(x->nbytes == y->nbytes && memcmp(x->data, y->data, x->nbytes) == 0, "%s: tensor '%s' data", what,
               x->name);
        CHECKF(lrq_gguf_find_tensor(b, x->name) == y, "%s: find_tensor('%s')", what, x->name);
    }
    return test_failures_in_case - before;
}

/* ---- every file under shared/ ---- */

static void test_open_and_rewrite_all(void) {
    find_files();
    CHECKF(n_files >= 40, "found only %d gguf files under %s", n_files, LRQ_SHARED_DIR);
    int n_vocab_only = 0, n_identical = 0;
    const char *out = tmp_path("rewrite.gguf");
    for (int f = 0; f < n_files; f++) {
        const char *path = files[f];
        lrq_gguf *g = NULL, *r = NULL;
        double t0 = now_ms();
        int rc = lrq_gguf_open(&g, path);
        double t1 = now_ms();
        CHECKF(rc == 0, "open %s: %s", path, lrq_err_get());
        if (rc) continue;
        CHECK(strcmp(lrq_gguf_path(g), path) == 0);
        CHECKF(lrq_gguf_version(g) == 3, "%s: version %u", path, lrq_gguf_version(g));
        CHECKF(lrq_gguf_n_kv(g) > 0, "%s: no keys", path);
        if (lrq_gguf_n_tensors(g) == 0) n_vocab_only++;
        if (strstr(path, "/tokenizers/")) CHECKF(lrq_gguf_n_tensors(g) == 0, "%s: vocab file has tensors", path);
        else CHECKF(lrq_gguf_n_tensors(g) > 0, "%s: no tensors", path);
        /* every tensor's data is inside the file and aligned */
        for (int64_t i = 0; i < lrq_gguf_n_tensors(g); i++) {
            const lrq_gguf_tensor *t = lrq_gguf_tensor_at(g, i);
            CHECK(t->offset % lrq_gguf_alignment(g) == 0);
            CHECK(lrq_gguf_data_offset(g) + t->offset + t->nbytes <= lrq_gguf_file_size(g));
            CHECK(lrq_type_get(t->type) != NULL);
        }

        lrq_gguf_writer *w = lrq_gguf_writer_new();
        CHECK(w != NULL);
        rc = lrq_gguf_writer_copy_all(w, g);
        CHECKF(rc == 0, "copy_all %s: %s", path, lrq_err_get());
        double t2 = now_ms();
        rc = rc ? rc : lrq_gguf_writer_write(w, out);
        double t3 = now_ms();
        CHECKF(rc == 0, "write %s: %s", path, lrq_err_get());
        lrq_gguf_writer_free(w);
        if (rc == 0) {
            rc = lrq_gguf_open(&r, out);
            CHECKF(rc == 0, "reopen rewrite of %s: %s", path, lrq_err_get());
        }
        if (r) {
            CHECK(lrq_gguf_version(r) == 3);
            compare_gguf(g, r, path);
            CHECK(lrq_gguf_data_offset(r) == lrq_gguf_data_offset(g));
            /* Same layout as llama.cpp's writer: files it wrote come back
             * byte for byte; vocab-only files written by gguf-py differ only
             * by the padding after the metadata. */
            size_t na, nb;
            unsigned char *a = slurp(path, &na), *b = slurp(out, &nb);
            int same = a && b && na == nb && memcmp(a, b, na) == 0;
            if (!same && lrq_gguf_n_tensors(g) == 0 && a && b && nb >= na && memcmp(a, b, na) == 0) {
                int zeros = 1;
                for (size_t i = na; i < nb; i++) zeros &= b[i] == 0;
                CHECKF(zeros && nb - na < 32 && nb % 32 == 0, "%s: rewrite pads oddly", path);
            } else {
                CHECKF(same, "%s: rewrite is not byte-identical (%zu vs %zu bytes)", path, na, nb);
            }
            n_identical += same;
            free(a);
            free(b);
            lrq_gguf_close(r);
        }
        fprintf(stderr, "    %-70s kv %3lld tensors %4lld open %6.2f ms write %6.1f ms\n",
                path + strlen(LRQ_SHARED_DIR) + 1, (long long)lrq_gguf_n_kv(g), (long long)lrq_gguf_n_tensors(g),
                t1 - t0, t3 - t2);
        lrq_gguf_close(g);
    }
    unlink(out);
    CHECKF(n_vocab_only >= 5, "expected >= 5 vocab-only files, found %d", n_vocab_only);
    fprintf(stderr, "    %d files, %d vocab-only, %d rewritten byte-identical\n", n_files, n_vocab_only, n_identical);
}

/* ---- known facts ---- */

static void check_tensor(const lrq_gguf *g, const char *name, int type, uint32_t n_dims, int64_t ne0, int64_t ne1) {
    const lrq_gguf_tensor *t = lrq_gguf_find_tensor(g, name);
    CHECKF(t != NULL, "%s: no tensor '%s'", lrq_gguf_path(g), name);
    if (!t) return;
    CHECKF(t->type == type, "%s: '%s' type %s, expected %s", lrq_gguf_path(g), name, lrq_type_name(t->type),
           lrq_type_name(type));
    CHECKF(t->n_dims == n_dims && t->ne[0] == ne0 && t->ne[1] == ne1 && t->ne[2] == 1 && t->ne[3] == 1,
           "%s: '%s' shape", lrq_gguf_path(g), name);
    size_t row = 0;
    CHECK(lrq_row_size(type, ne0, &row) == 0 && t->nbytes == row * (size_t)ne1);
}

static void test_stories260K_facts(void) {
    lrq_gguf *g;
    const char *path = test_shared("models/stories260K/stories260K-f32.gguf");
    if (lrq_gguf_open(&g, path)) {
        CHECKF(0, "%s", lrq_err_get());
        return;
    }
    const char *s;
    uint64_t n;
    CHECK(lrq_gguf_get_str(g, "general.architecture", &s, &n) == 1 && n == 5 && memcmp(s, "llama", 5) == 0);
    CHECK(lrq_gguf_n_kv(g) == 19);
    CHECK(lrq_gguf_n_tensors(g) == 47); /* 5 layers x 9 + token_embd + output_norm; tied output */
    CHECK(strcmp(lrq_gguf_kv_at(g, 0)->key, "general.architecture") == 0);
    CHECK(lrq_gguf_alignment(g) == 32);
    CHECK(lrq_gguf_data_offset(g) == 14080);
    uint32_t u = 0;
    int64_t i64 = 0;
    float f = 0;
    CHECK(lrq_gguf_get_u32(g, "llama.context_length", &u) == 1 && u == 512);
    CHECK(lrq_gguf_get_u32(g, "llama.embedding_length", &u) == 1 && u == 64);
    CHECK(lrq_gguf_get_u32(g, "llama.feed_forward_length", &u) == 1 && u == 172);
    CHECK(lrq_gguf_get_i64(g, "llama.block_count", &i64) == 1 && i64 == 5);
    CHECK(lrq_gguf_get_u32(g, "llama.attention.head_count_kv", &u) == 1 && u == 4);
    CHECK(lrq_gguf_get_f32(g, "llama.attention.layer_norm_rms_epsilon", &f) == 1 && f == 1e-5f);
    CHECK(lrq_gguf_get_f32(g, "llama.rope.freq_base", &f) == 1 && f == 10000.0f);
    CHECK(lrq_gguf_find_tensor(g, "output.weight") == NULL);
    check_tensor(g, "token_embd.weight", LRQ_TYPE_F32, 2, 64, 512);
    check_tensor(g, "blk.0.attn_norm.weight", LRQ_TYPE_F32, 1, 64, 1);
    check_tensor(g, "blk.0.attn_k.weight", LRQ_TYPE_F32, 2, 64, 32);
    check_tensor(g, "blk.4.ffn_down.weight", LRQ_TYPE_F32, 2, 172, 64);
    check_tensor(g, "blk.4.ffn_up.weight", LRQ_TYPE_F32, 2, 64, 172);
    check_tensor(g, "output_norm.weight", LRQ_TYPE_F32, 1, 64, 1);
    const lrq_gguf_tensor *t0 = lrq_gguf_tensor_at(g, 0);
    CHECK(strcmp(t0->name, "token_embd.weight") == 0 && t0->offset == 0);
    CHECK((const unsigned char *)t0->data != NULL);
    /* vocabulary arrays */
    int et = -1;
    const lrq_gguf_value *arr = NULL;
    CHECK(lrq_gguf_get_arr(g, "tokenizer.ggml.tokens", &et, &n, &arr) == 1 && et == LRQ_GGUF_STRING && n == 512);
    if (arr) {
        CHECK(arr->v.arr.items[1].v.str.len == 3 && memcmp(arr->v.arr.items[1].v.str.ptr, "<s>", 3) == 0);
        CHECK(arr->v.arr.items[0].v.str.len == 5 && memcmp(arr->v.arr.items[0].v.str.ptr, "<unk>", 5) == 0);
    }
    CHECK(lrq_gguf_get_arr(g, "tokenizer.ggml.token_type", &et, &n, &arr) == 1 && et == LRQ_GGUF_INT32 && n == 512);
    if (arr) {
        CHECK(lrq_gguf_arr_i64(arr, 0) == 2 && lrq_gguf_arr_i64(arr, 1) == 3 && lrq_gguf_arr_i64(arr, 2) == 3);
        CHECK(lrq_gguf_arr_f64(arr, 0) == 2.0);
    }
    CHECK(lrq_gguf_get_arr(g, "tokenizer.ggml.scores", &et, NULL, &arr) == 1 && et == LRQ_GGUF_FLOAT32);
    if (arr) CHECK(lrq_gguf_arr_f64(arr, 0) == 0.0);
    /* getter conventions */
    CHECK(lrq_gguf_get_u32(g, "no.such.key", &u) == 0);
    CHECK(lrq_gguf_find(g, "no.such.key") == NULL);
    lrq_err_clear();
    CHECK(lrq_gguf_get_u32(g, "general.architecture", &u) == -1);
    CHECKF(strstr(lrq_err_get(), path) && strstr(lrq_err_get(), "general.architecture") &&
           strstr(lrq_err_get(), "string"), "message: %s", lrq_err_get());
    CHECK(lrq_gguf_get_f32(g, "llama.context_length", &f) == -1);
    CHECK(lrq_gguf_get_bool(g, "llama.context_length", &et) == -1);
    CHECK(lrq_gguf_get_str(g, "llama.context_length", &s, &n) == -1);
    CHECK(lrq_gguf_get_arr(g, "llama.context_length", &et, &n, &arr) == -1);
    CHECK(lrq_gguf_get_i64(g, "tokenizer.ggml.tokens", &i64) == -1);
    lrq_gguf_close(g);
}

/* The quantized stories260K files mix types per tensor (golden/README.md). */
static void test_golden_mixed_types(void) {
    lrq_gguf *g;
    const char *path = test_shared("golden/stories260K/s260-Q4_0.gguf");
    if (lrq_gguf_open(&g, path)) {
        CHECKF(0, "%s", lrq_err_get());
        return;
    }
    CHECK(lrq_gguf_n_tensors(g) == 47 && lrq_gguf_n_kv(g) == 20);
    const lrq_gguf_tensor *t0 = lrq_gguf_tensor_at(g, 0);
    CHECK(strcmp(t0->name, "output_norm.weight") == 0 && t0->type == LRQ_TYPE_F32 && t0->offset == 0);
    check_tensor(g, "token_embd.weight", LRQ_TYPE_Q8_0, 2, 64, 512);
    CHECK(lrq_gguf_find_tensor(g, "token_embd.weight")->offset == 256);
    check_tensor(g, "blk.0.attn_k.weight", LRQ_TYPE_Q4_0, 2, 64, 32);
    check_tensor(g, "blk.0.ffn_down.weight", LRQ_TYPE_F16, 2, 172, 64);
    check_tensor(g, "blk.0.ffn_gate.weight", LRQ_TYPE_Q4_0, 2, 64, 172);
    uint32_t ft = 0;
    CHECK(lrq_gguf_get_u32(g, "general.file_type", &ft) == 1 && ft == 2);
    lrq_gguf_close(g);

    /* Across the golden stories260K files all listed types occur. */
    find_files();
    int seen[LRQ_TYPE_COUNT] = {0};
    for (int f = 0; f < n_files; f++) {
        if (!strstr(files[f], "golden/stories260K/s260-")) continue;
        if (lrq_gguf_open(&g, files[f])) continue;
        for (int64_t i = 0; i < lrq_gguf_n_tensors(g); i++) seen[lrq_gguf_tensor_at(g, i)->type] = 1;
        lrq_gguf_close(g);
    }
    static const int want[] = {0, 1, 2, 3, 6, 7, 8, 20, 30};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        CHECKF(seen[want[i]], "type %s not seen in golden/stories260K", lrq_type_name(want[i]));
    }
}

static void test_qwen3_vocab(void) {
    lrq_gguf *g;
    const char *path = test_shared("tokenizers/qwen3/ggml-vocab-qwen3.gguf");
    double t0 = now_ms();
    if (lrq_gguf_open(&g, path)) {
        CHECKF(0, "%s", lrq_err_get());
        return;
    }
    fprintf(stderr, "    qwen3 vocab open: %.2f ms\n", now_ms() - t0);
    CHECK(lrq_gguf_n_tensors(g) == 0 && lrq_gguf_n_kv(g) == 11);
    const char *s;
    uint64_t n;
    CHECK(lrq_gguf_get_str(g, "tokenizer.ggml.pre", &s, &n) == 1 && n == 5 && memcmp(s, "qwen2", 5) == 0);
    int et;
    const lrq_gguf_value *arr = NULL;
    CHECK(lrq_gguf_get_arr(g, "tokenizer.ggml.tokens", &et, &n, &arr) == 1 && et == LRQ_GGUF_STRING && n == 151669);
    if (arr) CHECK(arr->v.arr.items[0].v.str.len == 1 && arr->v.arr.items[0].v.str.ptr[0] == '!');
    CHECK(lrq_gguf_get_arr(g, "tokenizer.ggml.merges", &et, &n, &arr) == 1 && n == 151387);
    if (arr) {
        /* "Ġ Ġ" in UTF-8 */
        CHECK(arr->v.arr.items[0].v.str.len == 5 && memcmp(arr->v.arr.items[0].v.str.ptr, "\xc4\xa0 \xc4\xa0", 5) == 0);
        const lrq_gguf_value *last = &arr->v.arr.items[n - 1];
        CHECK((const char *)last->v.str.ptr + last->v.str.len <= (const char *)arr->v.arr.items[0].v.str.ptr +
              lrq_gguf_file_size(g));
    }
    uint32_t u = 0;
    CHECK(lrq_gguf_get_u32(g, "tokenizer.ggml.bos_token_id", &u) == 1 && u == 151643);
    int b = -1;
    CHECK(lrq_gguf_get_bool(g, "tokenizer.ggml.add_bos_token", &b) == 1 && b == 0);
    CHECK(lrq_gguf_data_offset(g) == 5921916);
    lrq_gguf_close(g);
}

static void test_open_memory(void) {
    const char *path = test_shared("golden/stories260K/s260-Q4_K_M.gguf");
    size_t n;
    unsigned char *buf = slurp(path, &n);
    CHECK(buf != NULL);
    if (!buf) return;
    lrq_gguf *a = NULL, *b = NULL;
    CHECK(lrq_gguf_open(&a, path) == 0);
    CHECK(lrq_gguf_open_memory(&b, buf, n, "mem:q4km") == 0);
    if (a && b) {
        compare_gguf(a, b, "open_memory");
        CHECK(strcmp(lrq_gguf_path(b), "mem:q4km") == 0);
        const lrq_gguf_tensor *t = lrq_gguf_tensor_at(b, 0);
        CHECK((const unsigned char *)t->data >= buf && (const unsigned char *)t->data + t->nbytes <= buf + n);
    }
    lrq_gguf_close(a);
    lrq_gguf_close(b);
    /* errors name the given name */
    CHECK(lrq_gguf_open_memory(&b, buf, 10, "mem:short") == -1 && b == NULL);
    CHECK(strstr(lrq_err_get(), "mem:short") != NULL);
    CHECK(lrq_gguf_open_memory(&b, NULL, 0, "mem:empty") == -1 && strstr(lrq_err_get(), "mem:empty"));
    free(buf);
}

/* ---- writer unit tests ---- */

static lrq_gguf_value mk_u(int type, uint64_t u) {
    lrq_gguf_value v = {.type = type};
    v.v.u64 = u;
    return v;
}
static lrq_gguf_value mk_i(int type, int64_t i) {
    lrq_gguf_value v = {.type = type};
    v.v.i64 = i;
    return v;
}
static lrq_gguf_value mk_f(int type, double f) {
    lrq_gguf_value v = {.type = type};
    v.v.f64 = f;
    return v;
}
static lrq_gguf_value mk_s(const char *p, uint64_t n) {
    lrq_gguf_value v = {.type = LRQ_GGUF_STRING};
    v.v.str.ptr = p;
    v.v.str.len = n;
    return v;
}
static lrq_gguf_value mk_arr(int et, uint64_t n, const void *raw, lrq_gguf_value *items) {
    lrq_gguf_value v = {.type = LRQ_GGUF_ARRAY};
    v.v.arr.elem_type = et;
    v.v.arr.n = n;
    v.v.arr.raw = raw;
    v.v.arr.items = items;
    return v;
}

static void test_writer_all_types(void) {
    lrq_gguf_writer *w = lrq_gguf_writer_new();
    lrq_gguf_value vals[40];
    const char *keys[40];
    int nv = 0;
#define ADD(k, v) do { keys[nv] = (k); vals[nv] = (v); CHECKF(lrq_gguf_writer_set(w, keys[nv], &vals[nv]) == 0, \
                           "set %s: %s", keys[nv], lrq_err_get()); nv++; } while (0)
    ADD("t.u8", mk_u(LRQ_GGUF_UINT8, 255));
    ADD("t.i8", mk_i(LRQ_GGUF_INT8, -128));
    ADD("t.u16", mk_u(LRQ_GGUF_UINT16, 65535));
    ADD("t.i16", mk_i(LRQ_GGUF_INT16, -32768));
    ADD("t.u32", mk_u(LRQ_GGUF_UINT32, 4294967295u));
    ADD("t.i32", mk_i(LRQ_GGUF_INT32, INT32_MIN));
    ADD("t.f32", mk_f(LRQ_GGUF_FLOAT32, -1.5e-7f));
    ADD("t.f32nan", mk_f(LRQ_GGUF_FLOAT32, lrq_bits_to_f32(0x7fc00001u)));
    ADD("t.bool", mk_u(LRQ_GGUF_BOOL, 1));
    ADD("t.str", mk_s("h\0llo \xe2\x82\xac", 10)); /* values may hold NUL bytes */
    ADD("t.str0", mk_s("", 0));
    ADD("t.u64", mk_u(LRQ_GGUF_UINT64, UINT64_MAX));
    ADD("t.i64", mk_i(LRQ_GGUF_INT64, INT64_MIN));
    ADD("t.f64", mk_f(LRQ_GGUF_FLOAT64, -0.0));
    ADD("t.f64b", mk_f(LRQ_GGUF_FLOAT64, 3.141592653589793));
    static const uint8_t u8s[] = {0, 1, 2, 255};
    static const uint8_t bools[] = {1, 0, 1};
    uint8_t i16s[6], f64s[16], u64s[16];
    int16_t i16v[3] = {-1, 2, -32768};
    for (int i = 0; i < 3; i++) {
        i16s[2 * i] = (uint8_t)(uint16_t)i16v[i];
        i16s[2 * i + 1] = (uint8_t)((uint16_t)i16v[i] >> 8);
    }
    double dv[2] = {1.25, -2.5e300};
    uint64_t uv[2] = {UINT64_MAX, 1};
    for (int i = 0; i < 2; i++) {
        uint64_t b;
        memcpy(&b, &dv[i], 8);
        for (int j = 0; j < 8; j++) f64s[8 * i + j] = (uint8_t)(b >> (8 * j)), u64s[8 * i + j] = (uint8_t)(uv[i] >> (8 * j));
    }
    ADD("a.u8", mk_arr(LRQ_GGUF_UINT8, 4, u8s, NULL));
    ADD("a.bool", mk_arr(LRQ_GGUF_BOOL, 3, bools, NULL));
    ADD("a.i16", mk_arr(LRQ_GGUF_INT16, 3, i16s, NULL));
    ADD("a.f64", mk_arr(LRQ_GGUF_FLOAT64, 2, f64s, NULL));
    ADD("a.u64", mk_arr(LRQ_GGUF_UINT64, 2, u64s, NULL));
    ADD("a.empty_u32", mk_arr(LRQ_GGUF_UINT32, 0, NULL, NULL));
    ADD("a.empty_str", mk_arr(LRQ_GGUF_STRING, 0, NULL, NULL));
    ADD("a.empty_arr", mk_arr(LRQ_GGUF_ARRAY, 0, NULL, NULL));
    lrq_gguf_value strs[3] = {mk_s("a", 1), mk_s("", 0), mk_s("xyz\0", 4)};
    ADD("a.str", mk_arr(LRQ_GGUF_STRING, 3, NULL, strs));
    /* nested: [[0,1,2,255], [], [[ "a","","xyz\0" ], [[]]]] */
    lrq_gguf_value inner_arrs[2] = {mk_arr(LRQ_GGUF_STRING, 3, NULL, strs), mk_arr(LRQ_GGUF_ARRAY, 0, NULL, NULL)};
    lrq_gguf_value deepest[1] = {mk_arr(LRQ_GGUF_ARRAY, 0, NULL, NULL)};
    inner_arrs[1] = mk_arr(LRQ_GGUF_ARRAY, 1, NULL, deepest);
    lrq_gguf_value lvl1[3] = {mk_arr(LRQ_GGUF_UINT8, 4, u8s, NULL), mk_arr(LRQ_GGUF_UINT8, 0, NULL, NULL),
                              mk_arr(LRQ_GGUF_ARRAY, 2, NULL, inner_arrs)};
    /* mixed element types inside an ARRAY array are fine: each nested array has its own elem type */
    ADD("a.nested", mk_arr(LRQ_GGUF_ARRAY, 3, NULL, lvl1));
#undef ADD
    const char *sa[] = {"one", "two", ""};
    CHECK(lrq_gguf_writer_set_arr_str(w, "a.setarrstr", 3, sa) == 0);
    float fl[2] = {0.5f, -3.0f};
    uint8_t flb[8];
    for (int i = 0; i < 2; i++) {
        uint32_t b = lrq_f32_to_bits(fl[i]);
        for (int j = 0; j < 4; j++) flb[4 * i + j] = (uint8_t)(b >> (8 * j));
    }
    CHECK(lrq_gguf_writer_set_arr(w, "a.setarr", LRQ_GGUF_FLOAT32, 2, flb) == 0);
    CHECK(lrq_gguf_writer_set_u32(w, "s.u32", 7) == 0);
    CHECK(lrq_gguf_writer_set_i32(w, "s.i32", -7) == 0);
    CHECK(lrq_gguf_writer_set_f32(w, "s.f32", 0.1f) == 0);
    CHECK(lrq_gguf_writer_set_bool(w, "s.bool", 5) == 0); /* any nonzero -> true */
    CHECK(lrq_gguf_writer_set_str(w, "s.str", "hello") == 0);

    const char *path = tmp_path("types.gguf");
    CHECKF(lrq_gguf_writer_write(w, path) == 0, "%s", lrq_err_get());
    lrq_gguf_writer_free(w);

    lrq_gguf *g;
    if (lrq_gguf_open(&g, path)) {
        CHECKF(0, "%s", lrq_err_get());
        return;
    }
    CHECK(lrq_gguf_n_kv(g) == nv + 7);
    CHECK(lrq_gguf_n_tensors(g) == 0);
    CHECK(lrq_gguf_file_size(g) % 32 == 0);
    for (int i = 0; i < nv && i < lrq_gguf_n_kv(g); i++) {
        const lrq_gguf_kv *kv = lrq_gguf_kv_at(g, i);
        CHECKF(strcmp(kv->key, keys[i]) == 0, "key %d: %s vs %s", i, kv->key, keys[i]);
        CHECKF(value_eq(&kv->val, &vals[i]), "key %s: value differs", keys[i]);
    }
    const lrq_gguf_value *v = lrq_gguf_find(g, "a.nested");
    CHECK(v && v->v.arr.items[2].v.arr.items[1].v.arr.items[0].v.arr.elem_type == LRQ_GGUF_ARRAY);
    v = lrq_gguf_find(g, "a.i16");
    CHECK(v && lrq_gguf_arr_i64(v, 0) == -1 && lrq_gguf_arr_i64(v, 2) == -32768 && lrq_gguf_arr_f64(v, 1) == 2.0);
    v = lrq_gguf_find(g, "a.u64");
    CHECK(v && lrq_gguf_arr_i64(v, 0) == INT64_MAX && lrq_gguf_arr_i64(v, 1) == 1); /* saturates */
    v = lrq_gguf_find(g, "a.f64");
    CHECK(v && lrq_gguf_arr_f64(v, 1) == -2.5e300 && lrq_gguf_arr_i64(v, 0) == 1 && lrq_gguf_arr_i64(v, 1) == INT64_MIN);
    v = lrq_gguf_find(g, "a.setarr");
    CHECK(v && v->v.arr.elem_type == LRQ_GGUF_FLOAT32 && lrq_gguf_arr_f64(v, 1) == -3.0);
    v = lrq_gguf_find(g, "a.setarrstr");
    CHECK(v && v->v.arr.n == 3 && v->v.arr.items[1].v.str.len == 3 && memcmp(v->v.arr.items[1].v.str.ptr, "two", 3) == 0);
    uint32_t u = 0;
    int64_t i64 = 0;
    float f = 0;
    int b = 0;
    const char *s;
    uint64_t n;
    CHECK(lrq_gguf_get_u32(g, "s.u32", &u) == 1 && u == 7);
    CHECK(lrq_gguf_get_u32(g, "t.u8", &u) == 1 && u == 255); /* any integer type that fits */
    CHECK(lrq_gguf_get_u32(g, "s.i32", &u) == -1);          /* negative */
    CHECK(lrq_gguf_get_u32(g, "t.u64", &u) == -1);          /* too large */
    CHECK(lrq_gguf_get_i64(g, "t.u64", &i64) == -1);
    CHECK(lrq_gguf_get_i64(g, "t.i64", &i64) == 1 && i64 == INT64_MIN);
    CHECK(lrq_gguf_get_i64(g, "t.u32", &i64) == 1 && i64 == 4294967295ll);
    CHECK(lrq_gguf_get_i64(g, "s.i32", &i64) == 1 && i64 == -7);
    CHECK(lrq_gguf_get_f32(g, "s.f32", &f) == 1 && f == 0.1f);
    CHECK(lrq_gguf_get_f32(g, "t.f64b", &f) == 1 && f == (float)3.141592653589793);
    CHECK(lrq_gguf_get_f32(g, "a.f64", &f) == -1);
    CHECK(lrq_gguf_get_bool(g, "s.bool", &b) == 1 && b == 1);
    CHECK(lrq_gguf_get_bool(g, "t.u8", &b) == -1);
    CHECK(lrq_gguf_get_u32(g, "t.bool", &u) == -1); /* bool is not an integer */
    CHECK(lrq_gguf_get_str(g, "s.str", &s, &n) == 1 && n == 5 && memcmp(s, "hello", 5) == 0);
    lrq_gguf_close(g);

    /* A FLOAT64 beyond float range is an error for get_f32. */
    w = lrq_gguf_writer_new();
    lrq_gguf_value big = mk_f(LRQ_GGUF_FLOAT64, 1e300);
    CHECK(lrq_gguf_writer_set(w, "big", &big) == 0);
    CHECK(lrq_gguf_writer_write(w, path) == 0);
    lrq_gguf_writer_free(w);
    if (lrq_gguf_open(&g, path) == 0) {
        CHECK(lrq_gguf_get_f32(g, "big", &f) == -1 && strstr(lrq_err_get(), "big"));
        lrq_gguf_close(g);
    }
    unlink(path);
}

static void test_writer_replace_keeps_position(void) {
    lrq_gguf_writer *w = lrq_gguf_writer_new();
    CHECK(lrq_gguf_writer_set_u32(w, "a", 1) == 0);
    CHECK(lrq_gguf_writer_set_str(w, "b", "first") == 0);
    CHECK(lrq_gguf_writer_set_u32(w, "c", 3) == 0);
    CHECK(lrq_gguf_writer_set_str(w, "b", "second, longer value") == 0);
    CHECK(lrq_gguf_writer_set_f32(w, "a", 2.5f) == 0); /* type may change */
    /* a failed set leaves the old value */
    lrq_gguf_value bad = mk_u(LRQ_GGUF_UINT8, 256);
    CHECK(lrq_gguf_writer_set(w, "c", &bad) == -1);
    const char *path = tmp_path("replace.gguf");
    CHECK(lrq_gguf_writer_write(w, path) == 0);
    lrq_gguf_writer_free(w);
    lrq_gguf *g;
    if (lrq_gguf_open(&g, path)) {
        CHECKF(0, "%s", lrq_err_get());
        return;
    }
    CHECK(lrq_gguf_n_kv(g) == 3);
    CHECK(strcmp(lrq_gguf_kv_at(g, 0)->key, "a") == 0 && lrq_gguf_kv_at(g, 0)->val.type == LRQ_GGUF_FLOAT32 &&
          lrq_gguf_kv_at(g, 0)->val.v.f64 == 2.5);
    const lrq_gguf_value *b = &lrq_gguf_kv_at(g, 1)->val;
    CHECK(strcmp(lrq_gguf_kv_at(g, 1)->key, "b") == 0 && b->v.str.len == 20 &&
          memcmp(b->v.str.ptr, "second, longer value", 20) == 0);
    CHECK(strcmp(lrq_gguf_kv_at(g, 2)->key, "c") == 0 && lrq_gguf_kv_at(g, 2)->val.v.u64 == 3);
    lrq_gguf_close(g);
    unlink(path);
}

static void test_writer_alignment64(void) {
    lrq_gguf_writer *w = lrq_gguf_writer_new();
    CHECK(lrq_gguf_writer_set_str(w, "general.architecture", "test") == 0);
    CHECK(lrq_gguf_writer_set_u32(w, "general.alignment", 64) == 0);
    float a[5] = {1, 2, 3, 4, 5};
    uint8_t q[2 * 18 * 3]; /* q4_0: 3 rows of 64 */
    for (size_t i = 0; i < sizeof q; i++) q[i] = (uint8_t)(i * 7 + 1);
    uint16_t h[3] = {0x3c00, 0x4000, 0xbc00};
    int64_t ne_a[1] = {5}, ne_q[2] = {64, 3}, ne_h[3] = {3, 1, 1}, ne_e[2] = {0, 4};
    CHECK(lrq_gguf_writer_add_tensor(w, "a", LRQ_TYPE_F32, 1, ne_a, a) == 0);
    /* empty tensors are refused (the reader calls them corrupt) */
    CHECK(lrq_gguf_writer_add_tensor(w, "empty", LRQ_TYPE_F32, 2, ne_e, NULL) == -1 &&
          strstr(lrq_err_get(), "dimension 0 is 0"));
    CHECK(lrq_gguf_writer_add_tensor(w, "q", LRQ_TYPE_Q4_0, 2, ne_q, q) == 0);
    CHECK(lrq_gguf_writer_add_tensor(w, "h", LRQ_TYPE_F16, 3, ne_h, h) == 0);
    const char *path = tmp_path("align64.gguf");
    CHECKF(lrq_gguf_writer_write(w, path) == 0, "%s", lrq_err_get());
    lrq_gguf_writer_free(w);
    lrq_gguf *g;
    if (lrq_gguf_open(&g, path)) {
        CHECKF(0, "%s", lrq_err_get());
        return;
    }
    CHECK(lrq_gguf_alignment(g) == 64);
    CHECK(lrq_gguf_data_offset(g) % 64 == 0);
    CHECK(lrq_gguf_file_size(g) % 64 == 0);
    CHECK(lrq_gguf_n_tensors(g) == 3);
    static const uint64_t want_off[3] = {0, 64, 192}; /* 20 B -> 64; 108 B -> 128; 6 B -> 64 */
    for (int64_t i = 0; i < lrq_gguf_n_tensors(g); i++) {
        const lrq_gguf_tensor *t = lrq_gguf_tensor_at(g, i);
        CHECKF(t->offset == want_off[i], "tensor %s offset %llu", t->name, (unsigned long long)t->offset);
    }
    const lrq_gguf_tensor *t = lrq_gguf_find_tensor(g, "q");
    CHECK(t && t->nbytes == sizeof q && memcmp(t->data, q, sizeof q) == 0 && t->n_dims == 2);
    t = lrq_gguf_find_tensor(g, "a");
    CHECK(t && t->nbytes == 20 && memcmp(t->data, a, 20) == 0);
    t = lrq_gguf_find_tensor(g, "h");
    CHECK(t && t->n_dims == 3 && t->ne[0] == 3 && memcmp(t->data, h, 6) == 0);
    CHECK(lrq_gguf_find_tensor(g, "empty") == NULL);
    /* padding is zeros: between metadata and data, and after each tensor */
    size_t n;
    unsigned char *raw = slurp(path, &n);
    size_t d0 = lrq_gguf_data_offset(g);
    int zeros = 1;
    for (size_t i = d0 + 20; i < d0 + 64; i++) zeros &= raw[i] == 0;
    for (size_t i = d0 + 64 + sizeof q; i < d0 + 192; i++) zeros &= raw[i] == 0;
    for (size_t i = d0 + 192 + 6; i < n; i++) zeros &= raw[i] == 0;
    CHECK(zeros && n == d0 + 256);
    free(raw);
    lrq_gguf_close(g);
    unlink(path);
}

static int dir_entries(const char *dir) {
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) n += e->d_name[0] != '.';
    if (d) closedir(d);
    return n;
}

static void test_writer_rejects_bad_input(void) {
    lrq_gguf_writer *w = lrq_gguf_writer_new();
    lrq_gguf_value v;
    CHECK(lrq_gguf_writer_set_u32(w, "general.alignment", 3) == -1);
    CHECK(strstr(lrq_err_get(), "general.alignment") != NULL);
    CHECK(lrq_gguf_writer_set_u32(w, "general.alignment", 0) == -1);
    CHECK(lrq_gguf_writer_set_i32(w, "general.alignment", 32) == -1);
    CHECK(lrq_gguf_writer_set_u32(w, "", 1) == -1);
    v = mk_u(LRQ_GGUF_BOOL, 2);
    CHECK(lrq_gguf_writer_set(w, "k", &v) == -1 && strstr(lrq_err_get(), "'k'"));
    v = mk_i(LRQ_GGUF_INT8, 128);
    CHECK(lrq_gguf_writer_set(w, "k", &v) == -1);
    v = mk_u(LRQ_GGUF_UINT32, 1ull << 32);
    CHECK(lrq_gguf_writer_set(w, "k", &v) == -1);
    v = mk_f(LRQ_GGUF_FLOAT32, 1e39);
    CHECK(lrq_gguf_writer_set(w, "k", &v) == -1);
    v = mk_u(13, 0);
    CHECK(lrq_gguf_writer_set(w, "k", &v) == -1);
    static const uint8_t bad_bools[] = {0, 1, 7};
    v = mk_arr(LRQ_GGUF_BOOL, 3, bad_bools, NULL);
    CHECK(lrq_gguf_writer_set(w, "k", &v) == -1);
    lrq_gguf_value items[2] = {mk_s("x", 1), mk_u(LRQ_GGUF_UINT8, 1)};
    v = mk_arr(LRQ_GGUF_STRING, 2, NULL, items); /* item of the wrong type */
    CHECK(lrq_gguf_writer_set(w, "k", &v) == -1);
    v = mk_arr(LRQ_GGUF_STRING, 2, NULL, NULL);
    CHECK(lrq_gguf_writer_set(w, "k", &v) == -1);
    v = mk_arr(LRQ_GGUF_UINT32, 2, NULL, NULL);
    CHECK(lrq_gguf_writer_set(w, "k", &v) == -1);
    v = mk_arr(77, 0, NULL, NULL);
    CHECK(lrq_gguf_writer_set(w, "k", &v) == -1);
    CHECK(lrq_gguf_writer_set_arr(w, "k", LRQ_GGUF_STRING, 0, NULL) == -1);
    /* nesting: 8 levels accepted, 9 rejected */
    lrq_gguf_value chain[10];
    chain[0] = mk_arr(LRQ_GGUF_UINT8, 0, NULL, NULL);
    for (int i = 1; i < 10; i++) chain[i] = mk_arr(LRQ_GGUF_ARRAY, 1, NULL, &chain[i - 1]);
    CHECK(lrq_gguf_writer_set(w, "deep8", &chain[7]) == 0);
    CHECK(lrq_gguf_writer_set(w, "deep9", &chain[8]) == -1 && strstr(lrq_err_get(), "nested"));

    float x[64] = {0};
    int64_t ne[4] = {64, 1, 1, 1};
    CHECK(lrq_gguf_writer_add_tensor(w, "t", LRQ_TYPE_F32, 1, ne, x) == 0);
    CHECK(lrq_gguf_writer_add_tensor(w, "t", LRQ_TYPE_F32, 1, ne, x) == -1 && strstr(lrq_err_get(), "duplicate"));
    CHECK(lrq_gguf_writer_add_tensor(w, "", LRQ_TYPE_F32, 1, ne, x) == -1);
    CHECK(lrq_gguf_writer_add_tensor(w, "u", 4, 1, ne, x) == -1 && strstr(lrq_err_get(), "unknown type 4"));
    CHECK(lrq_gguf_writer_add_tensor(w, "u", 1000, 1, ne, x) == -1);
    CHECK(lrq_gguf_writer_add_tensor(w, "u", LRQ_TYPE_F32, 0, ne, x) == -1);
    CHECK(lrq_gguf_writer_add_tensor(w, "u", LRQ_TYPE_F32, 5, ne, x) == -1);
    int64_t ne33[1] = {33}, neneg[2] = {32, -1}, nebig[2] = {1ll << 40, 1ll << 40};
    CHECK(lrq_gguf_writer_add_tensor(w, "u", LRQ_TYPE_Q4_0, 1, ne33, x) == -1 && strstr(lrq_err_get(), "block"));
    CHECK(lrq_gguf_writer_add_tensor(w, "u", LRQ_TYPE_F32, 2, neneg, x) == -1);
    CHECK(lrq_gguf_writer_add_tensor(w, "u", LRQ_TYPE_F32, 2, nebig, x) == -1);
    CHECK(lrq_gguf_writer_add_tensor(w, "u", LRQ_TYPE_F32, 1, ne, NULL) == -1);
    char longname[80];
    memset(longname, 'n', 64);
    longname[64] = 0;
    CHECK(lrq_gguf_writer_add_tensor(w, longname, LRQ_TYPE_F32, 1, ne, x) == -1);
    longname[63] = 0;
    CHECK(lrq_gguf_writer_add_tensor(w, longname, LRQ_TYPE_F32, 1, ne, x) == 0);

    /* unwritable destination: error names the path, nothing left behind */
    int before = dir_entries(tmpdir);
    const char *bad = tmp_path("no/such/dir/x.gguf");
    CHECK(lrq_gguf_writer_write(w, bad) == -1 && strstr(lrq_err_get(), bad));
    char dirpath[600];
    snprintf(dirpath, sizeof dirpath, "%s/adir", tmpdir);
    mkdir(dirpath, 0700);
    CHECK(lrq_gguf_writer_write(w, dirpath) == -1 && strstr(lrq_err_get(), dirpath)); /* rename onto a dir */
    rmdir(dirpath);
    CHECK(dir_entries(tmpdir) == before);

    /* what was accepted is written fine */
    const char *ok = tmp_path("after_errors.gguf");
    CHECK(lrq_gguf_writer_write(w, ok) == 0);
    lrq_gguf *g;
    CHECK(lrq_gguf_open(&g, ok) == 0);
    if (g) {
        CHECK(lrq_gguf_n_kv(g) == 1 && lrq_gguf_n_tensors(g) == 2);
        lrq_gguf_close(g);
    }
    lrq_gguf_writer_free(w);
    unlink(ok);
}

/* Rewriting a file onto itself while it is mapped is safe (temp + rename). */
static void test_rewrite_in_place(void) {
    const char *src = test_shared("golden/stories260K/s260-Q5_1.gguf");
    const char *path = tmp_path("inplace.gguf");
    lrq_gguf *g, *h;
    if (lrq_gguf_open(&g, src)) {
        CHECKF(0, "%s", lrq_err_get());
        return;
    }
    lrq_gguf_writer *w = lrq_gguf_writer_new();
    CHECK(lrq_gguf_writer_copy_all(w, g) == 0 && lrq_gguf_writer_write(w, path) == 0);
    lrq_gguf_writer_free(w);
    CHECK(lrq_gguf_open(&h, path) == 0);
    if (!h) {
        lrq_gguf_close(g);
        return;
    }
    /* now rewrite `path` from its own mapping, adding a key */
    w = lrq_gguf_writer_new();
    CHECK(lrq_gguf_writer_copy_all(w, h) == 0);
    CHECK(lrq_gguf_writer_set_str(w, "general.name", "renamed") == 0); /* replaces in place */
    CHECK(lrq_gguf_writer_set_u32(w, "lrq.extra", 42) == 0);
    CHECK(lrq_gguf_writer_write(w, path) == 0);
    lrq_gguf_writer_free(w);
    lrq_gguf *r;
    CHECK(lrq_gguf_open(&r, path) == 0);
    if (r) {
        CHECK(lrq_gguf_n_kv(r) == lrq_gguf_n_kv(g) + 1);
        const char *s;
        uint64_t n;
        CHECK(lrq_gguf_get_str(r, "general.name", &s, &n) == 1 && n == 7 && memcmp(s, "renamed", 7) == 0);
        CHECK(strcmp(lrq_gguf_kv_at(r, 1)->key, "general.name") == 0);
        CHECK(strcmp(lrq_gguf_kv_at(r, lrq_gguf_n_kv(r) - 1)->key, "lrq.extra") == 0);
        CHECK(lrq_gguf_n_tensors(r) == lrq_gguf_n_tensors(g));
        for (int64_t i = 0; i < lrq_gguf_n_tensors(g); i++) {
            const lrq_gguf_tensor *a = lrq_gguf_tensor_at(g, i), *b = lrq_gguf_tensor_at(r, i);
            CHECK(a->nbytes == b->nbytes && memcmp(a->data, b->data, a->nbytes) == 0);
        }
        lrq_gguf_close(r);
    }
    lrq_gguf_close(h);
    lrq_gguf_close(g);
    unlink(path);
}

int main(void) {
    lrq_types_init(); /* register the kernels into the type table */
    snprintf(tmpdir, sizeof tmpdir, "/tmp/lrq_test_gguf_XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    TEST_RUN(test_stories260K_facts);
    TEST_RUN(test_golden_mixed_types);
    TEST_RUN(test_qwen3_vocab);
    TEST_RUN(test_open_memory);
    TEST_RUN(test_writer_all_types);
    TEST_RUN(test_writer_replace_keeps_position);
    TEST_RUN(test_writer_alignment64);
    TEST_RUN(test_writer_rejects_bad_input);
    TEST_RUN(test_rewrite_in_place);
    TEST_RUN(test_open_and_rewrite_all);
    int left = dir_entries(tmpdir);
    if (left) fprintf(stderr, "  FAIL: %d files left in %s\n", left, tmpdir);
    rmdir(tmpdir);
    for (int i = 0; i < n_files; i++) free(files[i]);
    free(files);
    int rc = test_finish();
    return rc ? rc : (left != 0);
}
