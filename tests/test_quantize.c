/* test_quantize.c — lrq_quantize against llama-quantize v0.5.0's own
 * outputs (golden/): for every golden file made WITHOUT an importance
 * matrix, quantizing the same F32 source with the same preset gives every
 * tensor the same name, position, shape, type and bytes, and the same
 * metadata (keys in the same order with the same values: lrq writes the
 * file llama-quantize writes). Also: thread-count invariance, rules
 * (first match wins, globs and regexes), recipe parse errors with
 * FILE:LINE, and the dry run. */
#define _POSIX_C_SOURCE 200809L
#include "lrq.h"
#include "io/gguf.h"
#include "quant/preset.h"
#include "quant/recipe.h"
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmpdir[256];

static const char *tmp_path(const char *name) {
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

static int quantize(const char *in, const char *out, const char *type, int threads, const char *const *rules,
                    int n_rules, const char *recipe) {
    lrq_quantize_params p = { .in = in, .out = out, .type = type, .n_threads = threads, .rules = rules,
                              .n_rules = n_rules, .recipe = recipe };
    int rc = lrq_quantize(&p, NULL);
    if (rc) fprintf(stderr, "lrq_quantize %s %s: %s\n", in, type ? type : "(recipe)", lrq_last_error());
    return rc;
}

static int same_value(const lrq_gguf_value *a, const lrq_gguf_value *b) {
    if (a->type != b->type) return 0;
    switch (a->type) {
    case LRQ_GGUF_STRING: return a->v.str.len == b->v.str.len && !memcmp(a->v.str.ptr, b->v.str.ptr, a->v.str.len);
    case LRQ_GGUF_FLOAT32: case LRQ_GGUF_FLOAT64: return !memcmp(&a->v.f64, &b->v.f64, sizeof a->v.f64);
    case LRQ_GGUF_INT8: case LRQ_GGUF_INT16: case LRQ_GGUF_INT32: case LRQ_GGUF_INT64: return a->v.i64 == b->v.i64;
    case LRQ_GGUF_ARRAY:
        if (a->v.arr.elem_type != b->v.arr.elem_type || a->v.arr.n != b->v.arr.n) return 0;
        if (a->v.arr.items) {
            for (uint64_t i = 0; i < a->v.arr.n; i++)
                if (!same_value(&a->v.arr.items[i], &b->v.arr.items[i])) return 0;
            return 1;
        }
        {
            static const size_t esz[] = { 1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8 };
            return !memcmp(a->v.arr.raw, b->v.arr.raw, (size_t)a->v.arr.n * esz[a->v.arr.elem_type]);
        }
    default: return a->v.u64 == b->v.u64;
    }
}

/* Compare our file with llama-quantize's, tensor by tensor and (keys != 0)
 * key by key. */
static void compare_ex(const char *ours, const char *golden, int keys) {
    lrq_gguf *a = NULL, *b = NULL;
    CHECKF(lrq_gguf_open(&a, ours) == 0, "%s: %s", ours, lrq_last_error());
    CHECKF(lrq_gguf_open(&b, golden) == 0, "%s: %s", golden, lrq_last_error());
    if (!a || !b) goto out;
    CHECKF(lrq_gguf_n_tensors(a) == lrq_gguf_n_tensors(b), "%s: %lld tensors, golden %lld", golden,
           (long long)lrq_gguf_n_tensors(a), (long long)lrq_gguf_n_tensors(b));
    int64_t nt = lrq_gguf_n_tensors(a) < lrq_gguf_n_tensors(b) ? lrq_gguf_n_tensors(a) : lrq_gguf_n_tensors(b);
    int bad = 0;
    for (int64_t i = 0; i < nt && bad < 5; i++) {
        const lrq_gguf_tensor *x = lrq_gguf_tensor_at(a, i), *y = lrq_gguf_tensor_at(b, i);
        int same = !strcmp(x->name, y->name) && x->type == y->type && x->n_dims == y->n_dims &&
                   !memcmp(x->ne, y->ne, sizeof x->ne) && x->nbytes == y->nbytes &&
                   !memcmp(x->data, y->data, x->nbytes);
        CHECKF(same, "%s: tensor %lld: ours %s %s, golden %s %s%s", golden, (long long)i, x->name,
               lrq_type_name(x->type), y->name, lrq_type_name(y->type),
               x->type == y->type && !strcmp(x->name, y->name) ? " (data differs)" : "");
        bad += !same;
    }
    if (!keys) goto out;
    CHECKF(lrq_gguf_n_kv(a) == lrq_gguf_n_kv(b), "%s: %lld keys, golden %lld", golden, (long long)lrq_gguf_n_kv(a),
           (long long)lrq_gguf_n_kv(b));
    for (int64_t i = 0; i < lrq_gguf_n_kv(a) && i < lrq_gguf_n_kv(b); i++) {
        const lrq_gguf_kv *x = lrq_gguf_kv_at(a, i), *y = lrq_gguf_kv_at(b, i);
        CHECKF(!strcmp(x->key, y->key) && same_value(&x->val, &y->val), "%s: key %lld: ours %s, golden %s", golden,
               (long long)i, x->key, y->key);
    }
out:
    lrq_gguf_close(a);
    lrq_gguf_close(b);
}

static void compare(const char *ours, const char *golden) { compare_ex(ours, golden, 1); }

static void golden_case(const char *src, const char *golden, const char *type, int threads) {
    const char *s = test_shared(src), *g = test_shared(golden);
    if (!test_exists(s) || !test_exists(g)) {
        printf("  skip %s (no %s)\n", golden, test_exists(s) ? g : s);
        return;
    }
    const char *out = tmp_path("out.gguf");
    CHECKF(quantize(s, out, type, threads, NULL, 0, NULL) == 0, "%s", golden);
    compare(out, g);
    unlink(out);
}

static void test_golden_stories(void) {
    static const char *types[] = { "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K_M", "Q4_K_M", "Q6_K",
                                   "IQ4_NL", "F16", "BF16" };
    char g[128];
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        snprintf(g, sizeof g, "golden/stories260K/s260-%s.gguf", types[i]);
        golden_case("models/stories260K/stories260K-f32.gguf", g, types[i], 1 + (int)(i % 3));
    }
}

static void test_golden_zoo(void) {
    static const char *types[] = { "Q2_K", "Q3_K_M", "Q4_0", "Q4_K_M", "Q5_K_M", "Q6_K", "Q8_0", "IQ4_NL" };
    char g[128];
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        snprintf(g, sizeof g, "golden/zoo/ts-qwen3-5M/ts-qwen3-5M-%s.gguf", types[i]);
        golden_case("models/zoo/ts-qwen3-5M-f32.gguf", g, types[i], 2 + (int)(i % 2));
    }
    golden_case("models/zoo/ts-dsmoe-11M-f32.gguf", "golden/zoo/ts-dsmoe-11M/ts-dsmoe-11M-Q4_K_M.gguf", "Q4_K_M", 3);
}

/* Hugging Face and llama2.c checkpoints of stories260K: the same tensors as
 * llama-quantize makes from the GGUF (q/k rows of the HF checkpoint put back
 * in GGUF order), and a tokenizer that tokenizes as the GGUF's. The
 * metadata is written by lrq (quant/meta.c), so only the tensors are compared
 * byte for byte. */
static void test_other_sources(void) {
    static const char *types[] = { "Q8_0", "Q4_K_M", "Q2_K", "F16" };
    const char *hf = test_shared("models/stories260K/hf"), *l2c = test_shared("models/stories260K/stories260K.bin");
    const char *gg = test_shared("models/stories260K/stories260K-f32.gguf");
    const char *tok = test_shared("models/stories260K/tok512.bin");
    if (!test_exists(hf) || !test_exists(l2c)) { printf("  skip (no HF / llama2.c stories260K)\n"); return; }
    char g[128];
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        snprintf(g, sizeof g, "golden/stories260K/s260-%s.gguf", types[i]);
        const char *golden = test_shared(g), *out = tmp_path("src.gguf");
        for (int k = 0; k < 2; k++) {
            lrq_quantize_params p = { .in = k ? l2c : hf, .vocab = k ? tok : gg, .out = out, .type = types[i],
                                      .n_threads = 2 };
            CHECKF(lrq_quantize(&p, NULL) == 0, "%s %s: %s", p.in, types[i], lrq_last_error());
            compare_ex(out, golden, 0);
            /* the written tokenizer tokenizes like the original */
            lrq_vocab *va = NULL, *vb = NULL;
            CHECK(lrq_vocab_load(&va, out) == 0 && lrq_vocab_load(&vb, golden) == 0);
            if (va && vb) {
                const char *text = "Once upon a time, there was a little girl named Lily. \xe2\x9c\x93 <0x41>";
                int32_t *ia = NULL, *ib = NULL;
                size_t na = 0, nb = 0;
                CHECK(lrq_tokenize(va, text, strlen(text), 1, 0, &ia, &na) == 0);
                CHECK(lrq_tokenize(vb, text, strlen(text), 1, 0, &ib, &nb) == 0);
                CHECK(na == nb && na > 0 && !memcmp(ia, ib, na * sizeof *ia));
                free(ia);
                free(ib);
            }
            lrq_vocab_free(va);
            lrq_vocab_free(vb);
            unlink(out);
        }
    }
}

static int read_file(const char *path, char **buf, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    *buf = malloc((size_t)len + 1);
    *n = *buf ? fread(*buf, 1, (size_t)len, f) : 0;
    fclose(f);
    return *buf && *n == (size_t)len ? 0 : -1;
}

/* The same model with 1 and 4 threads: identical bytes. */
static void test_threads(void) {
    const char *s = test_shared("models/zoo/ts-qwen3-5M-f32.gguf");
    if (!test_exists(s)) { printf("  skip (no %s)\n", s); return; }
    const char *a = tmp_path("t1.gguf"), *b = tmp_path("t4.gguf");
    CHECK(quantize(s, a, "Q3_K_M", 1, NULL, 0, NULL) == 0);
    CHECK(quantize(s, b, "Q3_K_M", 4, NULL, 0, NULL) == 0);
    char *x = NULL, *y = NULL;
    size_t nx = 0, ny = 0;
    CHECK(read_file(a, &x, &nx) == 0 && read_file(b, &y, &ny) == 0);
    CHECK(nx == ny && nx > 0 && !memcmp(x, y, nx));
    free(x);
    free(y);
    unlink(a);
    unlink(b);
}

static int tensor_type(const char *file, const char *name) {
    lrq_gguf *g = NULL;
    if (lrq_gguf_open(&g, file)) return -2;
    const lrq_gguf_tensor *t = lrq_gguf_find_tensor(g, name);
    int type = t ? t->type : -1;
    lrq_gguf_close(g);
    return type;
}

/* Rules: first match wins, command-line rules before the recipe's; globs
 * match whole names, /regex/ anywhere; norms stay F32. */
static void test_rules(void) {
    const char *s = test_shared("models/zoo/ts-qwen3-5M-f32.gguf");
    if (!test_exists(s)) { printf("  skip (no %s)\n", s); return; }
    const char *rec = tmp_path("r.recipe"), *out = tmp_path("r.gguf");
    FILE *f = fopen(rec, "w");
    CHECK(f != NULL);
    if (!f) return;
    fprintf(f, "# test recipe\nbase Q4_K_M\n\nblk.0.*.weight q8_0   # layer 0\n/attn_(q|k)\\./ = q5_K\n"
               "blk.1.ffn_up.weight=q6_K\nblk.*_norm.weight f16\n");
    fclose(f);
    const char *cli[] = { "blk.0.ffn_up.weight=q4_0" };
    CHECK(quantize(s, out, NULL, 2, cli, 1, rec) == 0);
    CHECK(tensor_type(out, "blk.0.ffn_up.weight") == 2);     /* command line first: q4_0 */
    CHECK(tensor_type(out, "blk.0.ffn_gate.weight") == 8);   /* glob: q8_0 */
    CHECK(tensor_type(out, "blk.0.attn_q.weight") == 8);     /* the glob comes first */
    CHECK(tensor_type(out, "blk.2.attn_q.weight") == 13);    /* regex: q5_K */
    CHECK(tensor_type(out, "blk.3.attn_k.weight") == 13);
    CHECK(tensor_type(out, "blk.1.ffn_up.weight") == 14);    /* q6_K */
    CHECK(tensor_type(out, "blk.2.ffn_up.weight") == 12);    /* the preset: q4_K */
    CHECK(tensor_type(out, "blk.2.attn_norm.weight") == 0);  /* norms stay f32 without quantize-norms */
    CHECK(tensor_type(out, "output.weight") == 14);          /* preset: output q6_K */
    unlink(out);

    /* quantize-norms lets the rule through */
    f = fopen(rec, "w");
    if (!f) return;
    fprintf(f, "base Q8_0\nquantize-norms\n*_norm.weight f16\n");
    fclose(f);
    CHECK(quantize(s, out, NULL, 1, NULL, 0, rec) == 0);
    CHECK(tensor_type(out, "blk.2.attn_norm.weight") == 1);
    unlink(out);

    /* a recipe with only a base and no rules is the preset itself */
    f = fopen(rec, "w");
    if (!f) return;
    fprintf(f, "base Q3_K_M\n");
    fclose(f);
    const char *g = test_shared("golden/zoo/ts-qwen3-5M/ts-qwen3-5M-Q3_K_M.gguf");
    if (test_exists(g)) {
        CHECK(quantize(s, out, NULL, 1, NULL, 0, rec) == 0);
        compare(out, g);
    }
    unlink(out);
    unlink(rec);
}

/* Parse errors name FILE:LINE and the problem. */
static void parse_err(const char *text, const char *want) {
    lrq_recipe r;
    lrq_recipe_init(&r);
    int rc = lrq_recipe_parse(&r, text, strlen(text), "x.recipe");
    CHECKF(rc == -1 && strstr(lrq_last_error(), want), "recipe \"%s\": rc %d, error '%s', wanted '%s'", text, rc,
           lrq_last_error(), want);
    lrq_recipe_free(&r);
}

static void test_recipe_errors(void) {
    parse_err("base Q4_K_M\nblk.* q9_9\n", "x.recipe:2: unknown tensor type 'q9_9'");
    parse_err("\n\n/attn(/ q8_0\n", "x.recipe:3: bad regular expression");
    parse_err("base Q4_K_M\nbase Q8_0\n", "x.recipe:2: the base type is given twice");
    parse_err("frobnicate\n", "x.recipe:1: cannot read 'frobnicate'");
    parse_err("a b c d e\n", "x.recipe:1: too many words");
    parse_err("pure maybe\n", "x.recipe:1: 'pure' takes no value or yes/no");
    parse_err("blk.* Q4_K_M\n", "unknown tensor type 'Q4_K_M'");
    parse_err("/abc q8_0\n", "does not end with one");
    lrq_recipe r;
    lrq_recipe_init(&r);
    const char *ok = "# c\nbase Q4_K_M  # the base\npure no\nblk.0.* = q8_0\n/ffn/=q4_0\n";
    CHECK(lrq_recipe_parse(&r, ok, strlen(ok), "ok") == 0);
    CHECK(r.base && !strcmp(r.base, "Q4_K_M") && r.pure == 0 && r.n_rules == 2);
    CHECK(lrq_recipe_match(&r, "blk.0.ffn_up.weight") == &r.rules[0]);
    CHECK(lrq_recipe_match(&r, "blk.1.ffn_up.weight") == &r.rules[1]);
    CHECK(lrq_recipe_match(&r, "blk.1.attn_q.weight") == NULL);
    lrq_recipe_free(&r);
}

/* Unknown types, and the fallbacks of preset.h on their own. */
static void test_presets(void) {
    const char *s = test_shared("models/stories260K/stories260K-f32.gguf");
    lrq_quantize_params p = { .in = s, .out = tmp_path("never.gguf"), .type = "Q4_K_X", .n_threads = 1 };
    CHECK(lrq_quantize(&p, NULL) == -1 && strstr(lrq_last_error(), "unknown type or preset 'Q4_K_X'"));
    CHECK(access(p.out, F_OK) != 0);
    CHECK(lrq_preset_find("q4_k") == lrq_preset_find("Q4_K_M"));
    CHECK(lrq_type_fallback(12, 64) == 6);    /* q4_K on rows of 64 -> q5_0 */
    CHECK(lrq_type_fallback(14, 64) == 8);    /* q6_K -> q8_0 */
    CHECK(lrq_type_fallback(10, 172) == 1);   /* q2_K on 172 -> f16 */
    CHECK(lrq_type_fallback(12, 512) == 12);
    CHECK(lrq_preset_order("output.weight", "blk.0.attn_q.weight") < 0);
    CHECK(lrq_preset_order("blk.2.x", "blk.10.a") < 0);
    /* imatrix: not available yet, through lrq_quantize_rows's own error */
    p.type = "Q4_K_M";
    p.imatrix = "whatever.gguf";
    CHECK(lrq_quantize(&p, NULL) == -1 && strstr(lrq_last_error(), "not available yet"));
    CHECK(access(p.out, F_OK) != 0);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/lrq-test-quantize-XXXXXX");
    if (!mkdtemp(tmpdir)) { perror("mkdtemp"); return 1; }
    TEST_RUN(test_recipe_errors);
    TEST_RUN(test_presets);
    TEST_RUN(test_golden_stories);
    TEST_RUN(test_golden_zoo);
    TEST_RUN(test_threads);
    TEST_RUN(test_other_sources);
    TEST_RUN(test_rules);
    rmdir(tmpdir);
    return test_finish();
}
