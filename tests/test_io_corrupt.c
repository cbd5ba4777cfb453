/* test_io_corrupt.c — hostile and broken inputs for the safetensors reader,
 * the llama2.c reader and the HF / llama2.c loaders: truncations at many
 * offsets, absurd header lengths, JSON garbage, bad dtypes / shapes /
 * offsets, duplicates and overlaps, missing and unexpected tensors,
 * config.json with missing keys or absurd values. Every case must return -1
 * with an error naming the file (and no crash or leak under ASan/UBSan). */
#define _POSIX_C_SOURCE 200809L
#include "testlib.h"
#include "st_testutil.h"

#include "core/core.h"
#include "io/llama2c.h"
#include "io/safetensors.h"
#include "model/weights.h"

#include <stdlib.h>
#include <string.h>

#define REAL_ST "models/stories260K/hf/model.safetensors"
#define REAL_CFG "models/stories260K/hf/config.json"
#define REAL_BIN "models/stories260K/stories260K.bin"

/* open_memory on an exact-size heap copy (so ASan catches any overread). */
static int st_mem(const uint8_t *img, size_t n, const char *name) {
    uint8_t *copy = malloc(n ? n : 1);
    if (n) memcpy(copy, img, n);
    lrq_safetensors *st = NULL;
    int rc = lrq_safetensors_open_memory(&st, copy, n, name);
    if (rc == 0) lrq_safetensors_close(st);
    else CHECKF(st == NULL, "out set on failure");
    free(copy);
    return rc;
}

static void expect_err(int rc, const char *prefix, const char *frag, const char *what) {
    CHECKF(rc == -1, "%s: accepted", what);
    if (rc != -1) return;
    const char *e = lrq_err_get();
    if (getenv("LRQ_TEST_VERBOSE")) fprintf(stderr, "    %s -> %s\n", what, e);
    CHECKF(strncmp(e, prefix, strlen(prefix)) == 0, "%s: error does not name the file: %s", what, e);
    if (frag) CHECKF(strstr(e, frag) != NULL, "%s: error '%s' lacks '%s'", what, e, frag);
}

static void test_st_truncated(void) {
    size_t n = 0;
    uint8_t *img = tu_read_file(test_shared(REAL_ST), &n);
    if (!img) { test_fail(__FILE__, __LINE__, "read"); return; }
    CHECK(st_mem(img, n, "full.safetensors") == 0);
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--) hl = hl << 8 | img[i];
    int accepted = 0, tried = 0;
    for (size_t k = 0; k < n; k += (k < 8 + hl + 64 ? 1 : 997)) {
        lrq_err_clear();
        int rc = st_mem(img, k, "trunc.safetensors");
        tried++;
        if (rc == 0) accepted++;
        else if (strncmp(lrq_err_get(), "trunc.safetensors: ", 19) != 0) {
            test_fail(__FILE__, __LINE__, "size %zu: error does not name the file: %s", k, lrq_err_get());
            break;
        }
    }
    CHECK(st_mem(img, n - 1, "trunc.safetensors") == -1);
    CHECKF(accepted == 0, "%d of %d truncations accepted", accepted, tried);
    /* through a real file: the message names the path */
    const char *dir = tu_mkdtemp();
    char path[512];
    snprintf(path, sizeof path, "%s/cut.safetensors", dir);
    CHECK(tu_write_file(path, img, n / 2) == 0);
    lrq_safetensors *st = NULL;
    expect_err(lrq_safetensors_open(&st, path), path, "past end of data", "file cut in half");
    CHECK(tu_write_file(path, img, 0) == 0);
    expect_err(lrq_safetensors_open(&st, path), path, "too small", "empty file");
    tu_rmdir(dir);
    free(img);
}

static void set_hlen(uint8_t *img, uint64_t v) {
    for (int i = 0; i < 8; i++) img[i] = (uint8_t)(v >> (8 * i));
}

static void test_st_header_len(void) {
    size_t n = 0;
    uint8_t *img = tu_read_file(test_shared(REAL_ST), &n);
    if (!img) return;
    const uint64_t bad[] = {UINT64_MAX, (uint64_t)1 << 63, (uint64_t)n, (uint64_t)n - 7, 0, 1, 5000000000ull};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t save[8];
        memcpy(save, img, 8);
        set_hlen(img, bad[i]);
        char what[64];
        snprintf(what, sizeof what, "header length %llu", (unsigned long long)bad[i]);
        expect_err(st_mem(img, n, "h.safetensors"), "h.safetensors: ", NULL, what);
        memcpy(img, save, 8);
    }
    set_hlen(img, UINT64_MAX);
    expect_err(st_mem(img, n, "h.safetensors"), "h.safetensors: ", "past end of file", "huge header length");
    /* inside the file but above the reference implementation's 100 MB limit
     * (calloc'ed pages are never touched: rejected before parsing) */
    size_t big_n = (size_t)LRQ_ST_MAX_HEADER + 64;
    uint8_t *big = calloc(big_n, 1);
    if (big) {
        set_hlen(big, (uint64_t)LRQ_ST_MAX_HEADER + 1);
        big[8] = '{';
        lrq_safetensors *st = NULL;
        expect_err(lrq_safetensors_open_memory(&st, big, big_n, "big.safetensors"), "big.safetensors: ",
                   "exceeds the limit", "header over 100 MB");
        free(big);
    }
    /* a header length a few bytes short cuts the JSON */
    free(img);
    img = tu_read_file(test_shared(REAL_ST), &n);
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--) hl = hl << 8 | img[i];
    set_hlen(img, hl - 3);
    expect_err(st_mem(img, n, "h.safetensors"), "h.safetensors: header: line 1 col", NULL, "short header length");
    free(img);
}

static void test_st_garbage(void) {
    size_t n = 0;
    uint8_t *img = tu_read_file(test_shared(REAL_ST), &n);
    if (!img) return;
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--) hl = hl << 8 | img[i];
    /* specific breakages */
    img[8] = 'x';
    expect_err(st_mem(img, n, "g.safetensors"), "g.safetensors: ", "does not start with '{'", "not JSON");
    img[8] = '{';
    uint8_t *colon = memchr(img + 8, ':', (size_t)hl);
    *colon = ';';
    expect_err(st_mem(img, n, "g.safetensors"), "g.safetensors: header: line 1 col", "expected ':'", "bad colon");
    *colon = ':';
    CHECK(st_mem(img, n, "g.safetensors") == 0);
    /* random byte flips in the header: each either rejected or harmless; never a crash */
    uint64_t rs = 7;
    int rejected = 0;
    for (int it = 0; it < 400; it++) {
        size_t pos = 8 + (size_t)(test_rand_u64(&rs) % hl);
        uint8_t old = img[pos];
        img[pos] = (uint8_t)test_rand_u64(&rs);
        lrq_err_clear();
        int rc = st_mem(img, n, "g.safetensors");
        if (rc) {
            rejected++;
            if (strncmp(lrq_err_get(), "g.safetensors: ", 15) != 0) {
                test_fail(__FILE__, __LINE__, "flip at %zu: %s", pos, lrq_err_get());
                break;
            }
        }
        img[pos] = old;
    }
    CHECK(rejected > 100);
    free(img);
}

/* Synthetic headers: each must be rejected with the given message fragment. */
static void test_st_cases(void) {
    static const struct { const char *header; size_t data; const char *frag; } cases[] = {
        {"[]", 0, "does not start with '{'"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}", 8, "line 1 col"},
        {"{\"a\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8, "unsupported dtype I64 in tensor 'a'"},
        {"{\"a\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8, "unsupported dtype F64 in tensor 'a'"},
        {"{\"a\":{\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "unsupported dtype f32"},
        {"{\"a\":{\"dtype\":5,\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "\"dtype\""},
        {"{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "\"dtype\""},
        {"{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, "\"shape\""},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "data_offsets"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, "shape[0]"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4, "shape[0]"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[\"1\"],\"data_offsets\":[0,4]}}", 4, "shape[0]"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4, "9 dimensions"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4611686018427387904],\"data_offsets\":[0,4]}}", 4,
         "overflows"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", 4, "reversed"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 8, "data_offsets"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 4, "data_offsets"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4.5]}}", 8, "data_offsets"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 4, "past end of data"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,18446744073709551615]}}", 4, "data_offsets"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[9223372036854775800,9223372036854775804]}}", 4,
         "past end of data"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]}}", 24, "need 24 bytes but data_offsets span 20"},
        {"{\"a\":{\"dtype\":\"F16\",\"shape\":[2,3],\"data_offsets\":[0,24]}}", 24, "need 12 bytes"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,4]}}", 4, "need 0 bytes"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
         "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "duplicate tensor 'a'"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
         "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "overlap"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
         "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 16, "overlap"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
         "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "overlap"},
        {"{\"a\":5}", 0, "not an object"},
        {"{\"\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "empty name"},
        {"{\"a\\u0000b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "NUL"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}} x", 4, "unexpected data after"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}", 4, "unexpected end of input"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},}", 4, "expected a string key"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 3, "past end of data"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = 0;
        uint8_t *img = tu_st_raw(cases[i].header, cases[i].data, &n);
        char what[64];
        snprintf(what, sizeof what, "case %zu", i);
        lrq_err_clear();
        expect_err(st_mem(img, n, "c.safetensors"), "c.safetensors: ", cases[i].frag, what);
        free(img);
    }
    /* well-formed neighbours of the cases above are accepted */
    static const char *ok[] = {
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
        "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}",
        "{\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]},"
        "\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]},"
        "\"c\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[4,4]}}",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,0],\"data_offsets\":[0,0]}}",
        "{\"__metadata__\":{\"k\":\"v\"},\"a\":{\"dtype\":\"BF16\",\"shape\":[8],\"data_offsets\":[0,16]}}",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        size_t n = 0;
        uint8_t *img = tu_st_raw(ok[i], 16, &n);
        CHECKF(st_mem(img, n, "ok.safetensors") == 0, "ok case %zu: %s", i, lrq_err_get());
        free(img);
    }
}

/* ---- llama2.c ---- */

static int l2c_mem(const uint8_t *img, size_t n, const char *name) {
    float *copy = malloc(n ? (n + 3) / 4 * 4 : 4); /* exact-size in 4-byte units, aligned */
    if (n) memcpy(copy, img, n);
    lrq_llama2c *m = NULL;
    int rc = lrq_llama2c_open_memory(&m, copy, n, name);
    if (rc == 0) lrq_llama2c_close(m);
    else CHECKF(m == NULL, "out set on failure");
    free(copy);
    return rc;
}

static void test_l2c_truncated(void) {
    size_t n = 0;
    uint8_t *img = tu_read_file(test_shared(REAL_BIN), &n);
    if (!img) { test_fail(__FILE__, __LINE__, "read"); return; }
    CHECK(l2c_mem(img, n, "m.bin") == 0);
    int accepted = 0;
    for (size_t k = 0; k < n; k += (k < 64 ? 1 : 1231)) {
        lrq_err_clear();
        if (l2c_mem(img, k, "t.bin") == 0) accepted++;
        else if (strncmp(lrq_err_get(), "t.bin: ", 7) != 0) {
            test_fail(__FILE__, __LINE__, "size %zu: %s", k, lrq_err_get());
            break;
        }
    }
    CHECK(accepted == 0);
    expect_err(l2c_mem(img, n - 4, "t.bin"), "t.bin: ", "implies 1056540 bytes but the file has 1056536", "n-4");
    uint8_t *longer = calloc(n + 4, 1);
    memcpy(longer, img, n);
    expect_err(l2c_mem(longer, n + 4, "t.bin"), "t.bin: ", "the file has 1056544", "n+4");
    free(longer);
    /* through the loader: a truncated file on disk */
    const char *dir = tu_mkdtemp();
    char path[512];
    snprintf(path, sizeof path, "%s/cut.bin", dir);
    CHECK(tu_write_file(path, img, 1000) == 0);
    lrq_weights *w = NULL;
    expect_err(lrq_weights_load_llama2c(&w, path), path, "implies", "cut file");
    CHECK(w == NULL);
    CHECK(tu_write_file(path, img, 10) == 0);
    expect_err(lrq_weights_load_llama2c(&w, path), path, "too small", "10-byte file");
    CHECK(tu_write_file(path, img, 0) == 0);
    expect_err(lrq_weights_load_llama2c(&w, path), path, "too small", "empty file");
    tu_rmdir(dir);
    free(img);
}

static void test_l2c_config(void) {
    size_t n = 0;
    uint8_t *img = tu_read_file(test_shared(REAL_BIN), &n);
    if (!img) return;
    static const struct { int field; int32_t value; const char *frag; } cases[] = {
        {0, 0, "dim = 0 out of range"}, {0, -64, "dim = -64"}, {0, 1 << 25, "out of range"},
        {0, 63, "does not divide dim 63"}, {0, 128, "implies"},
        {1, 0, "hidden_dim = 0"}, {1, 173, "implies"}, {1, 0x7fffffff, "out of range"},
        {2, -5, "n_layers = -5"}, {2, 6, "implies"}, {2, 1 << 24, "implies"},
        {3, 0, "n_heads = 0"}, {3, 7, "does not divide dim"}, {3, 64, "must be even"}, {3, 16, "implies"},
        {4, 0, "n_kv_heads = 0"}, {4, 3, "does not divide n_heads"}, {4, 16, "does not divide n_heads"},
        {5, 0, "vocab_size = 0"}, {5, INT32_MIN, "vocab_size = -2147483648"}, {5, -512, "unshared"},
        {5, 511, "implies"}, {6, 0, "seq_len = 0"}, {6, 1 << 24, "implies"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int32_t save;
        memcpy(&save, img + 4 * cases[i].field, 4);
        memcpy(img + 4 * cases[i].field, &cases[i].value, 4);
        char what[64];
        snprintf(what, sizeof what, "field %d = %d", cases[i].field, (int)cases[i].value);
        expect_err(l2c_mem(img, n, "c.bin"), "c.bin: ", cases[i].frag, what);
        memcpy(img + 4 * cases[i].field, &save, 4);
    }
    /* all fields at the maximum: sizes overflow 64-bit arithmetic */
    uint8_t hdr[28];
    for (int i = 0; i < 7; i++) {
        int32_t v = i == 3 || i == 4 ? 1 << 23 : 1 << 24; /* head size 2 */
        memcpy(hdr + 4 * i, &v, 4);
    }
    expect_err(l2c_mem(hdr, 28, "big.bin"), "big.bin: ", "impossibly large", "max fields");
    /* newer export versions */
    memcpy(img, "24ka", 4);
    expect_err(l2c_mem(img, n, "v1.bin"), "v1.bin: ", "ak42", "v1 magic");
    free(img);
}

/* ---- Hugging Face directories ---- */

static char *real_config(void) {
    size_t n = 0;
    uint8_t *b = tu_read_file(test_shared(REAL_CFG), &n);
    if (!b) return NULL;
    char *s = malloc(n + 1);
    memcpy(s, b, n);
    s[n] = 0;
    free(b);
    return s;
}

/* Load a temp dir with `config` (and the real tensors minus `drop`, plus
 * `extra`); returns the load status and leaves the error for the caller. */
static int load_dir(const char *config, const char *const *drop, const tu_st_entry *extra, int n_extra,
                    char *dir_out, size_t cap) {
    const char *dir = tu_make_hf_dir(test_shared(REAL_ST), config, drop, extra, n_extra);
    if (!dir) { test_fail(__FILE__, __LINE__, "cannot make dir"); return 0; }
    snprintf(dir_out, cap, "%s", dir);
    lrq_weights *w = NULL;
    int rc = lrq_weights_load_hf(&w, dir);
    if (rc == 0) lrq_weights_free(w);
    else CHECK(w == NULL);
    char saved[1024];
    snprintf(saved, sizeof saved, "%s", lrq_err_get());
    tu_rmdir(dir);
    lrq_err_set("%s", saved);
    return rc;
}

static void test_hf_config(void) {
    char *cfg = real_config();
    if (!cfg) { test_fail(__FILE__, __LINE__, "read config"); return; }
    char dir[256];
    CHECKF(load_dir(cfg, NULL, NULL, 0, dir, sizeof dir) == 0, "real config: %s", lrq_err_get());
    static const struct { const char *from, *to, *frag; } cases[] = {
        {"\"hidden_size\": 64,", "", "missing key 'hidden_size'"},
        {"\"num_hidden_layers\": 5,", "", "missing key 'num_hidden_layers'"},
        {"\"num_attention_heads\": 8,", "", "missing key 'num_attention_heads'"},
        {"\"intermediate_size\": 172,", "", "missing key 'intermediate_size'"},
        {"\"hidden_size\": 64", "\"hidden_size\": -64", "'hidden_size' = -64 out of range"},
        {"\"hidden_size\": 64", "\"hidden_size\": 0", "out of range"},
        {"\"hidden_size\": 64", "\"hidden_size\": 64.5", "'hidden_size' must be an integer"},
        {"\"hidden_size\": 64", "\"hidden_size\": \"64\"", "must be an integer"},
        {"\"hidden_size\": 64", "\"hidden_size\": 1e12", "out of range"},
        {"\"hidden_size\": 64", "\"hidden_size\": 99999999999999999999999", "out of range"},
        {"\"hidden_size\": 64", "\"hidden_size\": 32", "has shape [512, 64], expected [512, 32]"},
        {"\"num_hidden_layers\": 5", "\"num_hidden_layers\": -1", "out of range"},
        {"\"num_hidden_layers\": 5", "\"num_hidden_layers\": 6", "missing tensor 'model.layers.5."},
        {"\"num_hidden_layers\": 5", "\"num_hidden_layers\": 4", "unexpected tensor 'model.layers.4."},
        {"\"num_hidden_layers\": 5", "\"num_hidden_layers\": 2000000000", "out of range"},
        {"\"num_attention_heads\": 8", "\"num_attention_heads\": 7", "does not divide"},
        {"\"num_attention_heads\": 8", "\"num_attention_heads\": 0", "out of range"},
        {"\"num_attention_heads\": 8", "\"num_attention_heads\": 16", "expected [16, 64]"}, /* head_dim 4 */
        {"\"num_key_value_heads\": 4", "\"num_key_value_heads\": 3", "num_key_value_heads 3 does not divide"},
        {"\"num_key_value_heads\": 4", "\"num_key_value_heads\": 8", "expected [64, 64]"},
        {"\"num_key_value_heads\": 4", "\"num_key_value_heads\": -4", "out of range"},
        {"\"intermediate_size\": 172", "\"intermediate_size\": 171", "expected [171, 64]"},
        {"\"vocab_size\": 512", "\"vocab_size\": 1000", "expected [1000, 64]"},
        {"\"vocab_size\": 512", "\"vocab_size\": 100000000000", "out of range"},
        {"\"max_position_embeddings\": 512", "\"max_position_embeddings\": -1", "out of range"},
        {"\"max_position_embeddings\": 512", "\"max_position_embeddings\": 1e10", "out of range"},
        {"\"rms_norm_eps\": 1e-05", "\"rms_norm_eps\": -1e-05", "'rms_norm_eps'"},
        {"\"rms_norm_eps\": 1e-05", "\"rms_norm_eps\": 0", "'rms_norm_eps'"},
        {"\"rms_norm_eps\": 1e-05", "\"rms_norm_eps\": \"x\"", "must be a number"},
        {"\"rope_theta\": 10000.0", "\"rope_theta\": 0", "'rope_theta'"},
        {"\"rope_theta\": 10000.0", "\"rope_theta\": 1e300", "'rope_theta'"},
        {"\"rope_theta\": 10000.0", "\"rope_theta\": 1, \"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8}",
         "rope_scaling 'llama3' is not supported"},
        {"\"rope_theta\": 10000.0", "\"rope_theta\": 1, \"rope_scaling\": 5", "rope_scaling"},
        {"\"tie_word_embeddings\": true", "\"tie_word_embeddings\": \"yes\"", "must be true or false"},
        {"\"hidden_act\"", "\"head_dim\": 7, \"hidden_act\"", "head_dim 7 must be even"},
        {"\"hidden_act\"", "\"head_dim\": 16, \"hidden_act\"", "expected [128, 64]"},
        {"\"hidden_act\"", "\"head_dim\": -8, \"hidden_act\"", "out of range"},
        {"\"LlamaForCausalLM\"", "\"GPT2LMHeadModel\"", "unsupported architecture 'GPT2LMHeadModel'"},
        {"\"LlamaForCausalLM\"", "\"Qwen2ForCausalLM\"", "missing tensor 'model.layers.0.self_attn.q_proj.bias'"},
        {"\"LlamaForCausalLM\"", "\"Qwen3ForCausalLM\"", "expected [1024, 64]"}, /* HF default head_dim 128 */
        {"\"architectures\": [\n    \"LlamaForCausalLM\"\n  ],\n  \"model_type\": \"llama\",", "",
         "missing key 'architectures'"},
        {"\"model_type\": \"llama\",", "\"model_type\": \"llama\"", "expected"},
        {"\"model_type\": \"llama\",", "\"model_type\": \"llama\",,", "expected a string key"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *c = tu_replace(cfg, cases[i].from, cases[i].to);
        if (strcmp(c, cfg) == 0) { test_fail(__FILE__, __LINE__, "case %zu: pattern not found", i); free(c); continue; }
        lrq_err_clear();
        int rc = load_dir(c, NULL, NULL, 0, dir, sizeof dir);
        char what[64];
        snprintf(what, sizeof what, "config case %zu", i);
        expect_err(rc, dir, cases[i].frag, what);
        free(c);
    }
    /* optional keys fall back to defaults (vocab_size from the embeddings) */
    char *c0 = tu_replace(cfg, "\"vocab_size\": 512,", "");
    char *c1 = tu_replace(c0, "\"num_key_value_heads\": 4,", "\"num_key_value_heads\": null,");
    CHECKF(load_dir(c0, NULL, NULL, 0, dir, sizeof dir) == 0, "no vocab_size: %s", lrq_err_get());
    /* null num_key_value_heads means "= num_attention_heads": k_proj then has the wrong shape */
    expect_err(load_dir(c1, NULL, NULL, 0, dir, sizeof dir), dir, "expected [64, 64]", "null kv heads");
    free(c0);
    free(c1);
    /* model_type alone selects the architecture */
    char *c = tu_replace(cfg, "\"architectures\": [\n    \"LlamaForCausalLM\"\n  ],", "");
    CHECKF(load_dir(c, NULL, NULL, 0, dir, sizeof dir) == 0, "model_type only: %s", lrq_err_get());
    free(c);
    /* no config.json at all */
    expect_err(load_dir(NULL, NULL, NULL, 0, dir, sizeof dir), dir, "config.json: cannot open", "no config");
    expect_err(load_dir("[1]", NULL, NULL, 0, dir, sizeof dir), dir, "config.json: not a JSON object", "array");
    /* empty and garbage config.json */
    expect_err(load_dir("", NULL, NULL, 0, dir, sizeof dir), dir, "config.json: line 1 col 1", "empty config");
    expect_err(load_dir("{\"a\": nul}", NULL, NULL, 0, dir, sizeof dir), dir, "config.json: line 1 col 7", "garbage");
    free(cfg);
}

static void test_hf_tensors(void) {
    char *cfg = real_config();
    if (!cfg) return;
    char dir[256];
    /* every required tensor missing in turn (a sample) */
    static const char *const req[] = {
        "model.embed_tokens.weight", "model.norm.weight", "model.layers.0.input_layernorm.weight",
        "model.layers.1.self_attn.q_proj.weight", "model.layers.2.self_attn.k_proj.weight",
        "model.layers.3.self_attn.v_proj.weight", "model.layers.4.self_attn.o_proj.weight",
        "model.layers.0.post_attention_layernorm.weight", "model.layers.1.mlp.gate_proj.weight",
        "model.layers.2.mlp.up_proj.weight", "model.layers.3.mlp.down_proj.weight",
    };
    for (size_t i = 0; i < sizeof req / sizeof req[0]; i++) {
        const char *drop[2] = {req[i], NULL};
        char frag[128];
        snprintf(frag, sizeof frag, "missing tensor '%s'", req[i]);
        expect_err(load_dir(cfg, drop, NULL, 0, dir, sizeof dir), dir, frag, req[i]);
    }
    static float zeros[512 * 64];
    /* wrong shape (transposed), wrong dtype, unknown tensor */
    const char *drop_q[2] = {"model.layers.0.mlp.gate_proj.weight", NULL};
    tu_st_entry tr = {"model.layers.0.mlp.gate_proj.weight", "F32", 2, {64, 172}, zeros, 64 * 172 * 4};
    expect_err(load_dir(cfg, drop_q, &tr, 1, dir, sizeof dir), dir, "has shape [64, 172], expected [172, 64]",
               "transposed");
    tu_st_entry d3 = {"model.layers.0.mlp.gate_proj.weight", "F32", 3, {172, 64, 1}, zeros, 64 * 172 * 4};
    expect_err(load_dir(cfg, drop_q, &d3, 1, dir, sizeof dir), dir, "has shape [172, 64, 1], expected [172, 64]",
               "3-D");
    tu_st_entry i64 = {"model.layers.0.mlp.gate_proj.weight", "I64", 2, {172, 32}, zeros, 32 * 172 * 8};
    expect_err(load_dir(cfg, drop_q, &i64, 1, dir, sizeof dir), dir,
               "unsupported dtype I64 in tensor 'model.layers.0.mlp.gate_proj.weight'", "I64");
    tu_st_entry extra = {"model.layers.0.self_attn.extra.weight", "F32", 1, {4}, zeros, 16};
    expect_err(load_dir(cfg, NULL, &extra, 1, dir, sizeof dir), dir,
               "unexpected tensor 'model.layers.0.self_attn.extra.weight'", "unknown tensor");
    /* rotary inv_freq buffers of old checkpoints are ignored */
    tu_st_entry inv = {"model.layers.0.self_attn.rotary_emb.inv_freq", "F32", 1, {4}, zeros, 16};
    CHECKF(load_dir(cfg, NULL, &inv, 1, dir, sizeof dir) == 0, "inv_freq: %s", lrq_err_get());
    /* a corrupt safetensors file in the directory */
    const char *d = tu_mkdtemp();
    CHECK(tu_write_str(d, "config.json", cfg) == 0);
    lrq_weights *w = NULL;
    char path[512];
    snprintf(path, sizeof path, "%s/model.safetensors", d);
    CHECK(tu_write_file(path, "\x07\0\0\0\0\0\0\0{\"a\":1}", 15) == 0);
    expect_err(lrq_weights_load_hf(&w, d), path, "tensor 'a': entry is not an object", "corrupt safetensors");
    tu_rmdir(d);
    /* directory with config.json but no weights */
    d = tu_mkdtemp();
    CHECK(tu_write_str(d, "config.json", cfg) == 0);
    expect_err(lrq_weights_load_hf(&w, d), d, "no *.safetensors", "no weights");
    tu_rmdir(d);
    expect_err(lrq_weights_load_hf(&w, "/nonexistent-dir"), "/nonexistent-dir", NULL, "no dir");
    free(cfg);
}

int main(void) {
    TEST_RUN(test_st_truncated);
    TEST_RUN(test_st_header_len);
    TEST_RUN(test_st_garbage);
    TEST_RUN(test_st_cases);
    TEST_RUN(test_l2c_truncated);
    TEST_RUN(test_l2c_config);
    TEST_RUN(test_hf_config);
    TEST_RUN(test_hf_tensors);
    return test_finish();
}
