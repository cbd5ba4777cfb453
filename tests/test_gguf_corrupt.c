/* test_gguf_corrupt.c — the GGUF reader on broken files. A small valid GGUF
 * is made with the writer and, independently, with a byte-level builder in
 * this file (the two must agree byte for byte); the builder then produces
 * one corrupt variant per rule the reader enforces. Every variant must make
 * lrq_gguf_open (and lrq_gguf_open_memory on an exact-size heap copy, so
 * AddressSanitizer sees any over-read) return -1 with a message naming the
 * file. Truncations at every length of the small file and at every byte of
 * stories260K-f32.gguf's metadata (plus some inside its data) must fail too.
 * Run under -fsanitize=address,undefined to also catch crashes and leaks.
 *
 * With LRQ_GGUF_CORPUS_DIR set, the seed corpus for fuzz/fuzz_gguf.c is
 * written there (see fuzz/corpus-gguf/).
 */
#define _POSIX_C_SOURCE 200809L
#include "testlib.h"
#include "io/gguf.h"
#include "core/core.h"
#include "fmt/types.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[256];
static int n_cases;

/* ---- byte builder ---- */

typedef struct buf {
    unsigned char *p;
    size_t n, cap;
} buf;

static void b_bytes(buf *b, const void *p, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
    }
    if (n) memcpy(b->p + b->n, p, n);
    b->n += n;
}
static void b_u32(buf *b, uint32_t v) {
    unsigned char x[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16), (unsigned char)(v >> 24)};
    b_bytes(b, x, 4);
}
static void b_u64(buf *b, uint64_t v) {
    b_u32(b, (uint32_t)v);
    b_u32(b, (uint32_t)(v >> 32));
}
static void b_str(buf *b, const char *s) {
    b_u64(b, strlen(s));
    b_bytes(b, s, strlen(s));
}
static void b_u8(buf *b, unsigned v) {
    unsigned char c = (unsigned char)v;
    b_bytes(b, &c, 1);
}
static void b_pad(buf *b, size_t align) {
    while (b->n % align) b_u8(b, 0);
}

/* ---- the small test file and its knobs ---- */

#define NT 3
typedef struct tdesc {
    const char *name;
    uint32_t n_dims;
    int64_t ne[5];
    uint32_t type;
    uint64_t offset;
} tdesc;

typedef struct opts {
    char magic[4];
    uint32_t version;
    int set_nt, set_nkv;
    uint64_t nt_field, nkv_field;
    /* general.alignment: 0 = absent; else written with align_type / align_val */
    int has_align;
    uint32_t align_type;
    uint64_t align_val;
    const char *key5;        /* name of key 5 (default "test.f32") */
    uint32_t bool_val;       /* value byte of test.bool */
    buf extra_kv;            /* raw bytes of one extra kv appended (counted) */
    int n_t;                 /* tensors written (default NT) */
    tdesc t[NT];
    size_t data_align;       /* alignment used to place the data section */
} opts;

static float f32_data[16];
static unsigned char q4_data[36];
static uint16_t f16_data[16];

static void default_opts(opts *o) {
    memset(o, 0, sizeof *o);
    memcpy(o->magic, "GGUF", 4);
    o->version = 3;
    o->has_align = 1;
    o->align_type = LRQ_GGUF_UINT32;
    o->align_val = 32;
    o->key5 = "test.f32";
    o->bool_val = 1;
    o->n_t = NT;
    o->t[0] = (tdesc){"w0", 2, {8, 2}, LRQ_TYPE_F32, 0};
    o->t[1] = (tdesc){"w1", 2, {32, 2}, LRQ_TYPE_Q4_0, 64};
    o->t[2] = (tdesc){"w2", 1, {16}, LRQ_TYPE_F16, 128};
    o->data_align = 32;
}

static void init_data(void) {
    for (int i = 0; i < 16; i++) f32_data[i] = (float)i * 0.5f - 3.0f;
    for (int i = 0; i < 36; i++) q4_data[i] = (unsigned char)(i * 37 + 5);
    for (int i = 0; i < 16; i++) f16_data[i] = lrq_f32_to_f16((float)i - 8.0f);
}

/* Serialize opts (valid by default). Key order and encodings mirror what
 * make_with_writer() asks the writer for. */
static void build(const opts *o, buf *b) {
    b->n = 0;
    int nkv = 7 + (o->has_align ? 1 : 0) + (o->extra_kv.n ? 1 : 0);
    b_bytes(b, o->magic, 4);
    b_u32(b, o->version);
    b_u64(b, o->set_nt ? o->nt_field : (uint64_t)o->n_t);
    b_u64(b, o->set_nkv ? o->nkv_field : (uint64_t)nkv);
    b_str(b, "general.architecture");
    b_u32(b, LRQ_GGUF_STRING);
    b_str(b, "test");
    if (o->has_align) {
        b_str(b, "general.alignment");
        b_u32(b, o->align_type);
        if (o->align_type == LRQ_GGUF_STRING) b_str(b, "32");
        else if (o->align_type == LRQ_GGUF_UINT64) b_u64(b, o->align_val);
        else b_u32(b, (uint32_t)o->align_val);
    }
    b_str(b, "test.u8arr");
    b_u32(b, LRQ_GGUF_ARRAY);
    b_u32(b, LRQ_GGUF_UINT8);
    b_u64(b, 3);
    b_u8(b, 1), b_u8(b, 2), b_u8(b, 3);
    b_str(b, "test.strs");
    b_u32(b, LRQ_GGUF_ARRAY);
    b_u32(b, LRQ_GGUF_STRING);
    b_u64(b, 2);
    b_str(b, "ab");
    b_str(b, "c");
    b_str(b, "test.nested"); /* [[1, 2], []] of uint32 */
    b_u32(b, LRQ_GGUF_ARRAY);
    b_u32(b, LRQ_GGUF_ARRAY);
    b_u64(b, 2);
    b_u32(b, LRQ_GGUF_UINT32);
    b_u64(b, 2);
    b_u32(b, 1);
    b_u32(b, 2);
    b_u32(b, LRQ_GGUF_UINT32);
    b_u64(b, 0);
    b_str(b, o->key5);
    b_u32(b, LRQ_GGUF_FLOAT32);
    b_u32(b, lrq_f32_to_bits(0.25f));
    b_str(b, "test.bool");
    b_u32(b, LRQ_GGUF_BOOL);
    b_u8(b, o->bool_val);
    b_str(b, "test.i64");
    b_u32(b, LRQ_GGUF_INT64);
    b_u64(b, (uint64_t)-5);
    if (o->extra_kv.n) b_bytes(b, o->extra_kv.p, o->extra_kv.n);
    for (int i = 0; i < o->n_t; i++) {
        const tdesc *t = &o->t[i];
        b_str(b, t->name);
        b_u32(b, t->n_dims);
        for (uint32_t j = 0; j < t->n_dims && j < 5; j++) b_u64(b, (uint64_t)t->ne[j]);
        b_u32(b, t->type);
        b_u64(b, t->offset);
    }
    b_pad(b, o->data_align);
    size_t d0 = b->n;
    /* data for the default tensors at their default places */
    if (o->n_t == NT) {
        b_bytes(b, f32_data, 64);
        b_pad(b, 32);
        b_bytes(b, q4_data, 36);
        b_pad(b, 32);
        b_bytes(b, f16_data, 32);
    }
    (void)d0;
}

static int make_with_writer(const char *path) {
    lrq_gguf_writer *w = lrq_gguf_writer_new();
    int rc = 0;
    rc |= lrq_gguf_writer_set_str(w, "general.architecture", "test");
    rc |= lrq_gguf_writer_set_u32(w, "general.alignment", 32);
    static const uint8_t u8s[3] = {1, 2, 3};
    rc |= lrq_gguf_writer_set_arr(w, "test.u8arr", LRQ_GGUF_UINT8, 3, u8s);
    const char *strs[2] = {"ab", "c"};
    rc |= lrq_gguf_writer_set_arr_str(w, "test.strs", 2, strs);
    static const uint8_t u32s[8] = {1, 0, 0, 0, 2, 0, 0, 0};
    lrq_gguf_value inner[2], outer;
    memset(inner, 0, sizeof inner);
    memset(&outer, 0, sizeof outer);
    inner[0].type = inner[1].type = LRQ_GGUF_ARRAY;
    inner[0].v.arr.elem_type = inner[1].v.arr.elem_type = LRQ_GGUF_UINT32;
    inner[0].v.arr.n = 2;
    inner[0].v.arr.raw = u32s;
    outer.type = LRQ_GGUF_ARRAY;
    outer.v.arr.elem_type = LRQ_GGUF_ARRAY;
    outer.v.arr.n = 2;
    outer.v.arr.items = inner;
    rc |= lrq_gguf_writer_set(w, "test.nested", &outer);
    rc |= lrq_gguf_writer_set_f32(w, "test.f32", 0.25f);
    rc |= lrq_gguf_writer_set_bool(w, "test.bool", 1);
    lrq_gguf_value i64 = {.type = LRQ_GGUF_INT64};
    i64.v.i64 = -5;
    rc |= lrq_gguf_writer_set(w, "test.i64", &i64);
    int64_t ne0[2] = {8, 2}, ne1[2] = {32, 2}, ne2[1] = {16};
    rc |= lrq_gguf_writer_add_tensor(w, "w0", LRQ_TYPE_F32, 2, ne0, f32_data);
    rc |= lrq_gguf_writer_add_tensor(w, "w1", LRQ_TYPE_Q4_0, 2, ne1, q4_data);
    rc |= lrq_gguf_writer_add_tensor(w, "w2", LRQ_TYPE_F16, 1, ne2, f16_data);
    rc |= lrq_gguf_writer_write(w, path);
    lrq_gguf_writer_free(w);
    return rc ? -1 : 0;
}

/* ---- helpers ---- */

static const char *tmp_path(const char *name) {
    static char bufs[4][512];
    static int k;
    char *b = bufs[k++ & 3];
    snprintf(b, sizeof bufs[0], "%s/%s", tmpdir, name);
    return b;
}

static int write_file(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = n ? fwrite(p, 1, n, f) : 0;
    return (fclose(f) == 0 && w == n) ? 0 : -1;
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

/* Open the bytes from a file and from an exact-size heap copy; returns how
 * many of the two opens succeeded (0..2). On failure the message must name
 * the file (and contain `want` when given). */
static int try_open(const char *label, const void *p, size_t n, const char *want, int verbose) {
    const char *path = tmp_path(label);
    int ok = 0;
    if (write_file(path, p, n)) {
        CHECKF(0, "cannot write %s", path);
        return 0;
    }
    lrq_gguf *g = (lrq_gguf *)1;
    lrq_err_clear();
    if (lrq_gguf_open(&g, path) == 0) {
        ok++;
        lrq_gguf_close(g);
    } else {
        CHECKF(g == NULL, "%s: *out not NULL on error", label);
        CHECKF(strstr(lrq_err_get(), path) != NULL, "%s: message does not name the file: %s", label, lrq_err_get());
        CHECKF(!want || strstr(lrq_err_get(), want), "%s: message lacks '%s': %s", label, want, lrq_err_get());
        CHECKF(strchr(lrq_err_get(), '\n') == NULL, "%s: message is not one line", label);
        if (verbose) fprintf(stderr, "    %-28s %s\n", label, lrq_err_get());
    }
    unsigned char *copy = malloc(n ? n : 1);
    if (n) memcpy(copy, p, n);
    lrq_err_clear();
    if (lrq_gguf_open_memory(&g, n ? copy : NULL, n, label) == 0) {
        ok++;
        lrq_gguf_close(g);
    } else {
        CHECKF(strstr(lrq_err_get(), label) != NULL, "%s: memory open message: %s", label, lrq_err_get());
    }
    free(copy);
    unlink(path);
    return ok;
}

static void expect_fail(const char *label, const opts *o, const char *want) {
    buf b = {0};
    build(o, &b);
    int ok = try_open(label, b.p, b.n, want, 1);
    CHECKF(ok == 0, "%s: corrupt file accepted (%d of 2 opens)", label, ok);
    free(b.p);
    n_cases++;
}

static void expect_ok(const char *label, const opts *o) {
    buf b = {0};
    build(o, &b);
    int ok = try_open(label, b.p, b.n, NULL, 0);
    CHECKF(ok == 2, "%s: valid file rejected: %s", label, lrq_err_get());
    free(b.p);
}

/* ---- tests ---- */

static void test_builder_matches_writer(void) {
    opts o;
    default_opts(&o);
    buf b = {0};
    build(&o, &b);
    const char *path = tmp_path("writer.gguf");
    CHECKF(make_with_writer(path) == 0, "%s", lrq_err_get());
    size_t n;
    unsigned char *w = slurp(path, &n);
    CHECKF(w && n == b.n && memcmp(w, b.p, n) == 0, "builder (%zu B) and writer (%zu B) disagree", b.n, n);
    lrq_gguf *g;
    CHECKF(lrq_gguf_open(&g, path) == 0, "%s", lrq_err_get());
    if (g) {
        CHECK(lrq_gguf_n_kv(g) == 8 && lrq_gguf_n_tensors(g) == 3);
        CHECK(lrq_gguf_file_size(g) == lrq_gguf_data_offset(g) + 160); /* no trailing padding */
        lrq_gguf_close(g);
    }
    free(w);
    free(b.p);
    unlink(path);
}

static void test_valid_variants(void) {
    opts o;
    default_opts(&o);
    expect_ok("base", &o);
    o.has_align = 0; /* default alignment 32 */
    expect_ok("no-alignment-key", &o);
    default_opts(&o);
    o.version = 2;
    expect_ok("version2", &o);
    /* tensors listed out of offset order but not overlapping */
    default_opts(&o);
    o.t[0].offset = 128;
    o.t[1].offset = 64;
    o.t[2].offset = 0;
    o.t[0].ne[0] = 8, o.t[0].ne[1] = 1;   /* 32 bytes at 128 */
    o.t[2].ne[0] = 16;                    /* 32 bytes at 0 */
    expect_ok("unordered-offsets", &o);
    /* 8 levels of nesting are fine */
    default_opts(&o);
    buf *e = &o.extra_kv;
    b_str(e, "deep8");
    b_u32(e, LRQ_GGUF_ARRAY);
    for (int i = 0; i < 7; i++) b_u32(e, LRQ_GGUF_ARRAY), b_u64(e, 1);
    b_u32(e, LRQ_GGUF_UINT8), b_u64(e, 0);
    expect_ok("nesting-8", &o);
    free(e->p);
    /* vocab-only: no tensors, file ends right after the metadata */
    default_opts(&o);
    o.n_t = 0;
    o.data_align = 1;
    expect_ok("no-tensors-unpadded", &o);
}

static void test_header_corruptions(void) {
    opts o;
    CHECK(try_open("empty", "", 0, "empty", 1) == 0);
    CHECK(try_open("three-bytes", "GGU", 3, NULL, 1) == 0);
    CHECK(try_open("magic-only", "GGUF\3\0\0\0", 8, "header", 1) == 0);
    default_opts(&o);
    memcpy(o.magic, "GGML", 4);
    expect_fail("bad-magic", &o, "magic");
    default_opts(&o);
    o.version = 1;
    expect_fail("version-1", &o, "version 1");
    o.version = 99;
    expect_fail("version-99", &o, "99");
    o.version = 0;
    expect_fail("version-0", &o, "version");
    o.version = 0x03000000;
    expect_fail("version-big-endian", &o, "big-endian");
    default_opts(&o);
    o.set_nkv = 1;
    o.nkv_field = 1ull << 60;
    expect_fail("n_kv-2^60", &o, "keys");
    o.nkv_field = UINT64_MAX;
    expect_fail("n_kv-max", &o, "keys");
    o.nkv_field = 9; /* one more than present: runs into the tensor infos */
    expect_fail("n_kv-plus-1", &o, NULL);
    default_opts(&o);
    o.set_nt = 1;
    o.nt_field = 1ull << 60;
    expect_fail("n_tensors-2^60", &o, "tensors");
    o.nt_field = 4;
    expect_fail("n_tensors-plus-1", &o, NULL);
    o.nt_field = (1ull << 63) + 1; /* negative as int64 */
    expect_fail("n_tensors-negative", &o, "tensors");
}

/* One extra kv made of raw bytes. */
static void kv_case(const char *label, const char *want, void (*fill)(buf *)) {
    opts o;
    default_opts(&o);
    fill(&o.extra_kv);
    expect_fail(label, &o, want);
    free(o.extra_kv.p);
}

static void f_key_len_eof(buf *e) { b_u64(e, 100000); b_bytes(e, "abc", 3); }
static void f_key_len_max(buf *e) { b_u64(e, UINT64_MAX); }
static void f_key_len_2_63(buf *e) { b_u64(e, 1ull << 63); }
static void f_key_empty(buf *e) { b_u64(e, 0); b_u32(e, LRQ_GGUF_UINT8); b_u8(e, 1); }
static void f_key_nul(buf *e) { b_u64(e, 3); b_bytes(e, "a\0b", 3); b_u32(e, LRQ_GGUF_UINT8); b_u8(e, 1); }
static void f_key_dup(buf *e) { b_str(e, "test.strs"); b_u32(e, LRQ_GGUF_UINT8); b_u8(e, 1); }
static void f_str_eof(buf *e) { b_str(e, "s"); b_u32(e, LRQ_GGUF_STRING); b_u64(e, 5000); }
static void f_str_max(buf *e) { b_str(e, "s"); b_u32(e, LRQ_GGUF_STRING); b_u64(e, UINT64_MAX); }
static void f_type_13(buf *e) { b_str(e, "k"); b_u32(e, 13); b_u32(e, 0); }
static void f_type_max(buf *e) { b_str(e, "k"); b_u32(e, UINT32_MAX); b_u32(e, 0); }
static void f_elem_type_13(buf *e) { b_str(e, "k"); b_u32(e, LRQ_GGUF_ARRAY); b_u32(e, 13); b_u64(e, 1); b_u32(e, 0); }
static void f_elem_type_neg(buf *e) { b_str(e, "k"); b_u32(e, LRQ_GGUF_ARRAY); b_u32(e, 0x80000000u); b_u64(e, 0); }
static void f_arr_u32_overflow(buf *e) { b_str(e, "k"); b_u32(e, LRQ_GGUF_ARRAY); b_u32(e, LRQ_GGUF_UINT32); b_u64(e, 1ull << 62); }
static void f_arr_u64_max(buf *e) { b_str(e, "k"); b_u32(e, LRQ_GGUF_ARRAY); b_u32(e, LRQ_GGUF_UINT64); b_u64(e, UINT64_MAX); }
static void f_arr_u8_eof(buf *e) { b_str(e, "k"); b_u32(e, LRQ_GGUF_ARRAY); b_u32(e, LRQ_GGUF_UINT8); b_u64(e, 100000); }
static void f_arr_str_absurd(buf *e) { b_str(e, "k"); b_u32(e, LRQ_GGUF_ARRAY); b_u32(e, LRQ_GGUF_STRING); b_u64(e, 1ull << 40); }
static void f_arr_str_elem_eof(buf *e) {
    b_str(e, "k"); b_u32(e, LRQ_GGUF_ARRAY); b_u32(e, LRQ_GGUF_STRING); b_u64(e, 2);
    b_str(e, "x"); b_u64(e, 1ull << 50);
}
static void f_arr_arr_absurd(buf *e) { b_str(e, "k"); b_u32(e, LRQ_GGUF_ARRAY); b_u32(e, LRQ_GGUF_ARRAY); b_u64(e, 1ull << 61); }
static void f_depth_9(buf *e) {
    b_str(e, "deep9");
    b_u32(e, LRQ_GGUF_ARRAY);
    for (int i = 0; i < 8; i++) b_u32(e, LRQ_GGUF_ARRAY), b_u64(e, 1);
    b_u32(e, LRQ_GGUF_UINT8), b_u64(e, 0);
}
static void f_depth_bomb(buf *e) {
    b_str(e, "bomb");
    b_u32(e, LRQ_GGUF_ARRAY);
    for (int i = 0; i < 5000; i++) b_u32(e, LRQ_GGUF_ARRAY), b_u64(e, 1);
    b_u32(e, LRQ_GGUF_UINT8), b_u64(e, 0);
}
static void f_wide_bomb(buf *e) { /* many small nested arrays: fine size-wise but the inner type is bad at the end */
    b_str(e, "wide");
    b_u32(e, LRQ_GGUF_ARRAY);
    b_u32(e, LRQ_GGUF_ARRAY);
    b_u64(e, 1000);
    for (int i = 0; i < 999; i++) b_u32(e, LRQ_GGUF_UINT8), b_u64(e, 0);
    b_u32(e, 77), b_u64(e, 0);
}
static void f_bool_2(buf *e) { b_str(e, "b"); b_u32(e, LRQ_GGUF_BOOL); b_u8(e, 2); }
static void f_bool_arr(buf *e) { b_str(e, "b"); b_u32(e, LRQ_GGUF_ARRAY); b_u32(e, LRQ_GGUF_BOOL); b_u64(e, 3); b_u8(e, 1); b_u8(e, 0); b_u8(e, 255); }
static void f_scalar_eof(buf *e) { b_str(e, "x"); b_u32(e, LRQ_GGUF_UINT64); b_u32(e, 0); }

static void test_kv_corruptions(void) {
    kv_case("key-len-past-eof", "past end of file", f_key_len_eof);
    kv_case("key-len-max", "past end of file", f_key_len_max);
    kv_case("key-len-2^63", "past end of file", f_key_len_2_63);
    kv_case("key-empty", "empty key", f_key_empty);
    kv_case("key-nul", "NUL", f_key_nul);
    kv_case("key-duplicate", "duplicate key 'test.strs'", f_key_dup);
    kv_case("string-past-eof", "past end of file", f_str_eof);
    kv_case("string-len-max", "past end of file", f_str_max);
    kv_case("value-type-13", "unknown value type 13", f_type_13);
    kv_case("value-type-max", "unknown value type", f_type_max);
    kv_case("elem-type-13", "unknown array element type 13", f_elem_type_13);
    kv_case("elem-type-2^31", "unknown array element type", f_elem_type_neg);
    kv_case("array-u32-2^62", "key 8 'k'", f_arr_u32_overflow);
    kv_case("array-u64-max", "past end of file", f_arr_u64_max);
    kv_case("array-u8-past-eof", "past end of file", f_arr_u8_eof);
    kv_case("array-str-2^40", "cannot fit", f_arr_str_absurd);
    kv_case("array-str-elem-eof", "element 1", f_arr_str_elem_eof);
    kv_case("array-arr-2^61", "cannot fit", f_arr_arr_absurd);
    kv_case("nesting-9", "nested deeper", f_depth_9);
    kv_case("nesting-bomb-5000", "nested deeper", f_depth_bomb);
    kv_case("nested-bad-last", "element 999", f_wide_bomb);
    kv_case("bool-2", "bool value 2", f_bool_2);
    kv_case("bool-array-255", "element 2", f_bool_arr);
    kv_case("scalar-past-eof", NULL, f_scalar_eof);

    opts o;
    default_opts(&o);
    o.key5 = "test.strs"; /* key 5 repeats key 3 */
    expect_fail("key-duplicate-2", &o, "test.strs");
    default_opts(&o);
    o.bool_val = 7;
    expect_fail("bool-7", &o, "test.bool");
    /* general.alignment */
    default_opts(&o);
    o.align_val = 0;
    expect_fail("alignment-0", &o, "general.alignment");
    o.align_val = 3;
    expect_fail("alignment-3", &o, "power of two");
    o.align_val = 96;
    expect_fail("alignment-96", &o, "power of two");
    default_opts(&o);
    o.align_type = LRQ_GGUF_UINT64;
    expect_fail("alignment-u64", &o, "uint32");
    o.align_type = LRQ_GGUF_INT32;
    expect_fail("alignment-i32", &o, "uint32");
    o.align_type = LRQ_GGUF_STRING;
    expect_fail("alignment-string", &o, "uint32");
    /* alignment 64: offsets 0/64/128 are valid, 96 is not */
    default_opts(&o);
    o.align_val = 64;
    o.data_align = 64;
    expect_ok("alignment-64", &o);
    o.t[1].offset = 96;
    expect_fail("alignment-64-offset-96", &o, "alignment 64");
}

static void test_tensor_corruptions(void) {
    opts o;
#define TCASE(label, want, stmt) do { default_opts(&o); stmt; expect_fail(label, &o, want); } while (0)
    TCASE("tensor-dup-name", "duplicate tensor name", o.t[2].name = "w0");
    TCASE("tensor-empty-name", "empty tensor name", o.t[1].name = "");
    TCASE("tensor-type-4", "unknown type 4", o.t[1].type = 4);
    TCASE("tensor-type-31", "unknown type 31", o.t[1].type = 31);
    TCASE("tensor-type-43", "unknown type 43", o.t[1].type = 43);
    TCASE("tensor-type-1000", "unknown type 1000", o.t[1].type = 1000);
    TCASE("tensor-type-max", "unknown type", o.t[1].type = UINT32_MAX);
    TCASE("tensor-n_dims-0", "n_dims 0", o.t[0].n_dims = 0);
    TCASE("tensor-n_dims-5", "n_dims 5", (o.t[0].n_dims = 5, o.t[0].ne[2] = o.t[0].ne[3] = o.t[0].ne[4] = 1));
    TCASE("tensor-n_dims-max", "n_dims", o.t[0].n_dims = UINT32_MAX);
    TCASE("tensor-dim-negative", "negative", o.t[0].ne[1] = -1);
    /* empty tensors: a zero in any dimension, also when it shares an offset */
    TCASE("tensor-dim0-zero", "tensor 2 'w2': dimension 0 is 0", o.t[2] = ((tdesc){"w2", 2, {0, 7}, LRQ_TYPE_F16, 64}));
    TCASE("tensor-dim1-zero", "tensor 0 'w0': dimension 1 is 0", o.t[0].ne[1] = 0);
    TCASE("tensor-dim3-zero", "dimension 3 is 0", (o.t[0].n_dims = 4, o.t[0].ne[2] = 1, o.t[0].ne[3] = 0));
    TCASE("tensor-dim-int64-min", "negative", o.t[0].ne[0] = INT64_MIN);
    TCASE("tensor-dims-overflow", "overflows", (o.t[0].ne[0] = 1ll << 32, o.t[0].ne[1] = 1ll << 32));
    TCASE("tensor-dims-overflow-4d",
          "overflows", (o.t[0].n_dims = 4, o.t[0].ne[0] = 1ll << 20, o.t[0].ne[1] = 1ll << 20,
                        o.t[0].ne[2] = 1ll << 20, o.t[0].ne[3] = 1ll << 4));
    TCASE("tensor-bytes-overflow", "overflows", (o.t[0].ne[0] = 1ll << 61, o.t[0].ne[1] = 2)); /* 2^62 f32 */
    TCASE("tensor-huge-past-eof", "past end of file", (o.t[0].ne[0] = 1ll << 40, o.t[0].ne[1] = 1));
    TCASE("tensor-row-33-q4_0", "block size", o.t[1].ne[0] = 33);
    TCASE("tensor-row-16-q4_0", "block size", o.t[1].ne[0] = 16);
    TCASE("tensor-offset-past-eof", "past end of file", o.t[2].offset = 1 << 20);
    TCASE("tensor-offset-huge", "past end of file", o.t[2].offset = UINT64_MAX & ~(uint64_t)31);
    TCASE("tensor-offset-misaligned", "alignment", o.t[2].offset = 129);
    TCASE("tensor-offset-misaligned-16", "alignment", o.t[2].offset = 112);
    TCASE("tensor-data-1-past-eof", "past end of file", o.t[2].offset = 160);
    TCASE("tensor-overlap-next", "overlaps", o.t[1].offset = 32);
    TCASE("tensor-overlap-same", "overlaps", o.t[2].offset = 0);
    TCASE("tensor-overlap-unordered", "overlaps", (o.t[0].offset = 96, o.t[1].offset = 0));
    TCASE("tensor-overlap-contained", "overlaps", (o.t[0].ne[1] = 5, o.t[1].offset = 32)); /* [0,160) holds w1 */
#undef TCASE
    /* a name with an embedded NUL needs raw bytes: patch "w2" into "w\0" */
    default_opts(&o);
    buf b = {0};
    build(&o, &b);
    unsigned char *hit = NULL;
    for (size_t i = 0; i + 10 <= b.n; i++) {
        if (memcmp(b.p + i, "\x02\0\0\0\0\0\0\0w2", 10) == 0) hit = b.p + i + 9;
    }
    CHECK(hit != NULL);
    if (hit) {
        *hit = 0;
        CHECK(try_open("tensor-name-nul-byte", b.p, b.n, "NUL", 1) == 0);
    }
    free(b.p);
}

/* Every strict prefix of the small file is invalid (its last tensor ends the file). */
static void test_truncated_small(void) {
    opts o;
    default_opts(&o);
    buf b = {0};
    build(&o, &b);
    int accepted = 0;
    for (size_t n = 0; n < b.n; n++) {
        char label[64];
        snprintf(label, sizeof label, "small-trunc-%zu", n);
        int ok = try_open(label, b.p, n, NULL, n == 50 || n == b.n - 1);
        if (ok) {
            accepted++;
            CHECKF(0, "truncation to %zu of %zu bytes accepted", n, b.n);
        }
    }
    CHECK(accepted == 0);
    CHECK(try_open("small-full", b.p, b.n, NULL, 0) == 2);
    free(b.p);
}

/* Truncations of a real model: every byte of the metadata and padding, and
 * a sample inside the data (the last tensor ends exactly at end of file). */
static void test_truncated_stories260K(void) {
    const char *src = test_shared("models/stories260K/stories260K-f32.gguf");
    size_t n;
    unsigned char *p = slurp(src, &n);
    CHECKF(p != NULL, "cannot read %s", src);
    if (!p) return;
    lrq_gguf *g;
    CHECK(lrq_gguf_open(&g, src) == 0);
    if (!g) {
        free(p);
        return;
    }
    size_t d0 = lrq_gguf_data_offset(g);
    const lrq_gguf_tensor *last = lrq_gguf_tensor_at(g, lrq_gguf_n_tensors(g) - 1);
    size_t end = d0 + last->offset + last->nbytes;
    lrq_gguf_close(g);
    CHECK(d0 == 14080 && end == n);
    int accepted = 0, tried = 0;
    /* every prefix length through the metadata: memory opens on exact-size
     * heap copies (ASan-precise); every 61st also as a file */
    for (size_t len = 0; len <= d0; len++) {
        unsigned char *c = malloc(len ? len : 1);
        if (len) memcpy(c, p, len);
        lrq_gguf *h = NULL;
        char name[64];
        snprintf(name, sizeof name, "stories260K-trunc-%zu", len);
        lrq_err_clear();
        if (lrq_gguf_open_memory(&h, len ? c : NULL, len, name) == 0) {
            accepted++;
            lrq_gguf_close(h);
        } else if (!strstr(lrq_err_get(), name)) {
            CHECKF(0, "truncation %zu: message %s", len, lrq_err_get());
        }
        free(c);
        tried++;
        if (len % 61 == 0 || len == d0 || len + 1 == d0) {
            accepted += try_open(name, p, len, NULL, len == 5000 || len == d0 - 1 || len == d0);
        }
    }
    static const size_t inside[] = {1, 31, 32, 4096, 131072, 500000};
    for (size_t i = 0; i < sizeof inside / sizeof inside[0]; i++) {
        char name[64];
        snprintf(name, sizeof name, "stories260K-data-%zu", inside[i]);
        accepted += try_open(name, p, d0 + inside[i], "past end of file", i == 0);
        tried++;
    }
    accepted += try_open("stories260K-minus-1", p, n - 1, "past end of file", 1);
    CHECKF(accepted == 0, "%d truncations accepted", accepted);
    CHECK(try_open("stories260K-full", p, n, NULL, 0) == 2);
    fprintf(stderr, "    %d truncations of stories260K-f32.gguf rejected\n", tried + 1);
    free(p);
}

static int dir_entries(const char *dir) {
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) n += e->d_name[0] != '.';
    if (d) closedir(d);
    return n;
}

/* Seed corpus for fuzz/fuzz_gguf.c (only when LRQ_GGUF_CORPUS_DIR is set). */
static void write_corpus(const char *dir) {
    char p[1024];
    opts o;
    buf b = {0};
    default_opts(&o);
    build(&o, &b);
    snprintf(p, sizeof p, "%s/small.gguf", dir);
    write_file(p, b.p, b.n);
    default_opts(&o);
    b_str(&o.extra_kv, "deep");
    b_u32(&o.extra_kv, LRQ_GGUF_ARRAY);
    for (int i = 0; i < 3; i++) b_u32(&o.extra_kv, LRQ_GGUF_ARRAY), b_u64(&o.extra_kv, 1);
    b_u32(&o.extra_kv, LRQ_GGUF_STRING), b_u64(&o.extra_kv, 2), b_str(&o.extra_kv, "x"), b_str(&o.extra_kv, "");
    o.t[0].offset = 128, o.t[2].offset = 0, o.t[0].ne[1] = 1;
    build(&o, &b);
    snprintf(p, sizeof p, "%s/nested-unordered.gguf", dir);
    write_file(p, b.p, b.n);
    free(o.extra_kv.p);
    default_opts(&o);
    o.n_t = 0;
    o.data_align = 1;
    o.version = 2;
    build(&o, &b);
    snprintf(p, sizeof p, "%s/vocab-only-v2.gguf", dir);
    write_file(p, b.p, b.n);
    free(b.p);
    /* the real stories260K metadata (vocabulary arrays) without tensors, plus
     * two of its tensors */
    lrq_gguf *g;
    if (lrq_gguf_open(&g, test_shared("models/stories260K/stories260K-f32.gguf")) == 0) {
        lrq_gguf_writer *w = lrq_gguf_writer_new();
        for (int64_t i = 0; i < lrq_gguf_n_kv(g); i++) {
            const lrq_gguf_kv *kv = lrq_gguf_kv_at(g, i);
            lrq_gguf_writer_set(w, kv->key, &kv->val);
        }
        lrq_gguf_writer_set_u32(w, "general.alignment", 64);
        static const int64_t pick[2] = {1, 6}; /* two small norm vectors */
        for (int k = 0; k < 2; k++) {
            const lrq_gguf_tensor *t = lrq_gguf_tensor_at(g, pick[k]);
            lrq_gguf_writer_add_tensor(w, t->name, t->type, t->n_dims, t->ne, t->data);
        }
        snprintf(p, sizeof p, "%s/stories260K-meta.gguf", dir);
        if (lrq_gguf_writer_write(w, p)) fprintf(stderr, "%s\n", lrq_err_get());
        lrq_gguf_writer_free(w);
        lrq_gguf_close(g);
    }
    fprintf(stderr, "    seed corpus written to %s\n", dir);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/lrq_test_gguf_corrupt_XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    init_data();
    TEST_RUN(test_builder_matches_writer);
    TEST_RUN(test_valid_variants);
    TEST_RUN(test_header_corruptions);
    TEST_RUN(test_kv_corruptions);
    TEST_RUN(test_tensor_corruptions);
    TEST_RUN(test_truncated_small);
    TEST_RUN(test_truncated_stories260K);
    fprintf(stderr, "    %d corrupt variants checked\n", n_cases);
    const char *corpus = getenv("LRQ_GGUF_CORPUS_DIR");
    if (corpus && *corpus) write_corpus(corpus);
    int left = dir_entries(tmpdir);
    if (left) fprintf(stderr, "  FAIL: %d files left in %s\n", left, tmpdir);
    rmdir(tmpdir);
    int rc = test_finish();
    return rc ? rc : (left != 0);
}
