/* test_json.c — the strict JSON parser: valid and invalid documents, escapes
 * and surrogate pairs, numbers (exact ints, correct rounding, range), depth
 * limit, error positions, big-object lookup, and the real tokenizer/config
 * files under the shared folder. */
#include "testlib.h"
#include "core/core.h"
#include "core/mapfile.h"
#include "io/json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static lrq_json_doc *parse_ok(const char *s) {
    lrq_json_doc *d = NULL;
    int rc = lrq_json_parse(&d, s, strlen(s), "t.json");
    CHECKF(rc == 0, "parse failed for %s: %s", s, lrq_err_get());
    return rc == 0 ? d : NULL;
}

/* Expect failure and an error message containing `frag`. */
static void parse_bad(const char *s, size_t len, const char *frag) {
    lrq_json_doc *d = (lrq_json_doc *)1;
    lrq_err_clear();
    int rc = lrq_json_parse(&d, s, len, "bad.json");
    CHECKF(rc == -1, "accepted invalid JSON: %.*s", (int)len, s);
    if (rc == 0) { lrq_json_free(d); return; }
    CHECK(d == NULL);
    CHECKF(strncmp(lrq_err_get(), "bad.json: line ", 15) == 0, "error lacks file/line: %s", lrq_err_get());
    if (frag) CHECKF(strstr(lrq_err_get(), frag) != NULL, "for %.*s: error '%s' lacks '%s'", (int)len, s,
                     lrq_err_get(), frag);
}
#define BAD(s, frag) parse_bad((s), strlen(s), (frag))

static void test_scalars(void) {
    lrq_json_doc *d;
    d = parse_ok("null");
    CHECK(lrq_json_type(lrq_json_root(d)) == LRQ_JSON_NULL);
    lrq_json_free(d);
    d = parse_ok(" \t\r\ntrue \n");
    CHECK(lrq_json_bool(lrq_json_root(d)) == 1);
    lrq_json_free(d);
    d = parse_ok("false");
    CHECK(lrq_json_bool(lrq_json_root(d)) == 0);
    CHECK(lrq_json_str(lrq_json_root(d), NULL) == NULL);
    lrq_json_free(d);
    d = parse_ok("\"hi\"");
    size_t n = 0;
    CHECK(strcmp(lrq_json_str(lrq_json_root(d), &n), "hi") == 0 && n == 2);
    CHECK(lrq_json_bool(lrq_json_root(d)) == -1);
    CHECK(lrq_json_len(lrq_json_root(d)) == 0);
    lrq_json_free(d);
    /* BOM is skipped */
    d = parse_ok("\xef\xbb\xbf[1]");
    CHECK(lrq_json_len(lrq_json_root(d)) == 1);
    lrq_json_free(d);
    /* NULL-safe accessors */
    CHECK(lrq_json_type(NULL) == -1);
    CHECK(lrq_json_get(NULL, "a") == NULL);
    CHECK(lrq_json_at(NULL, 0) == NULL);
    CHECK(lrq_json_num(NULL) == 0);
    CHECK(lrq_json_bool(NULL) == -1);
    CHECK(lrq_json_root(NULL) == NULL);
    lrq_json_free(NULL);
}

static void test_structure(void) {
    lrq_json_doc *d = parse_ok("{ \"a\" : [1, 2, {\"x\": null}], \"b\": {}, \"c\": [], \"a\": 5, \"\": \"empty\" }");
    if (!d) return;
    const lrq_json *r = lrq_json_root(d);
    CHECK(lrq_json_type(r) == LRQ_JSON_OBJECT);
    CHECK(lrq_json_len(r) == 5);
    size_t kl = 99;
    CHECK(strcmp(lrq_json_key_at(r, 0, &kl), "a") == 0 && kl == 1);
    CHECK(strcmp(lrq_json_key_at(r, 3, NULL), "a") == 0);
    CHECK(strcmp(lrq_json_key_at(r, 4, &kl), "") == 0 && kl == 0);
    CHECK(lrq_json_key_at(r, 5, NULL) == NULL);
    const lrq_json *a = lrq_json_get(r, "a"); /* first match */
    CHECK(lrq_json_type(a) == LRQ_JSON_ARRAY && lrq_json_len(a) == 3);
    CHECK(lrq_json_at(r, 0) == a);
    CHECK(lrq_json_num(lrq_json_at(a, 1)) == 2.0);
    CHECK(lrq_json_at(a, 3) == NULL);
    CHECK(lrq_json_key_at(a, 0, NULL) == NULL); /* arrays have no keys */
    CHECK(lrq_json_get(a, "x") == NULL);        /* not an object */
    CHECK(lrq_json_type(lrq_json_get(lrq_json_at(a, 2), "x")) == LRQ_JSON_NULL);
    CHECK(lrq_json_type(lrq_json_get(r, "b")) == LRQ_JSON_OBJECT && lrq_json_len(lrq_json_get(r, "b")) == 0);
    CHECK(lrq_json_len(lrq_json_get(r, "c")) == 0 && lrq_json_at(lrq_json_get(r, "c"), 0) == NULL);
    CHECK(strcmp(lrq_json_str(lrq_json_get(r, ""), NULL), "empty") == 0);
    CHECK(lrq_json_get(r, "zz") == NULL);
    CHECK(lrq_json_get(r, "a\0b") == a); /* C string key: stops at NUL */
    lrq_json_free(d);
}

static void check_str(const char *json, const char *want, size_t want_len) {
    lrq_json_doc *d = NULL;
    if (lrq_json_parse(&d, json, strlen(json), "s.json")) {
        test_fail(__FILE__, __LINE__, "parse %s: %s", json, lrq_err_get());
        return;
    }
    size_t n = 0;
    const char *s = lrq_json_str(lrq_json_root(d), &n);
    CHECKF(s && n == want_len && memcmp(s, want, n) == 0 && s[n] == 0, "string %s decoded wrong (len %zu)", json, n);
    lrq_json_free(d);
}

static void test_escapes(void) {
    check_str("\"a\\\"b\\\\c\\/d\\be\\ff\\ng\\rh\\ti\"", "a\"b\\c/d\be\ff\ng\rh\ti", 17);
    check_str("\"\\u0041\\u00e9\\u20AC\"", "A\xc3\xa9\xe2\x82\xac", 6);
    check_str("\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80", 4);        /* U+1F600 */
    check_str("\"\\uD800\\uDC00\"", "\xf0\x90\x80\x80", 4);        /* U+10000 */
    check_str("\"\\uDBFF\\uDFFF\"", "\xf4\x8f\xbf\xbf", 4);        /* U+10FFFF */
    check_str("\"x\\u0000y\"", "x\0y", 3);                         /* embedded NUL kept */
    check_str("\"\\u007f\\u0080\\u07ff\\u0800\\uffff\"",
              "\x7f\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf", 11);
    check_str("\"h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80\"", "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80", 15);
    check_str("\"\"", "", 0);

    /* random round trip: code points written raw or as \u escapes */
    uint64_t st = 42;
    for (int iter = 0; iter < 300; iter++) {
        char json[2048], want[2048];
        size_t jn = 0, wn = 0;
        json[jn++] = '"';
        int n = (int)(test_rand_u64(&st) % 40);
        for (int i = 0; i < n; i++) {
            uint32_t cp;
            do {
                uint64_t r = test_rand_u64(&st);
                cp = (r & 3) == 0 ? (uint32_t)(r >> 8) % 0x80 : (r & 3) == 1 ? (uint32_t)(r >> 8) % 0x800
                   : (r & 3) == 2 ? (uint32_t)(r >> 8) % 0x10000 : 0x10000 + (uint32_t)(r >> 8) % 0x100000;
            } while (cp >= 0xd800 && cp <= 0xdfff);
            char u[4];
            int ul;
            if (cp < 0x80) { u[0] = (char)cp; ul = 1; }
            else if (cp < 0x800) { u[0] = (char)(0xc0 | cp >> 6); u[1] = (char)(0x80 | (cp & 63)); ul = 2; }
            else if (cp < 0x10000) {
                u[0] = (char)(0xe0 | cp >> 12); u[1] = (char)(0x80 | ((cp >> 6) & 63));
                u[2] = (char)(0x80 | (cp & 63)); ul = 3;
            } else {
                u[0] = (char)(0xf0 | cp >> 18); u[1] = (char)(0x80 | ((cp >> 12) & 63));
                u[2] = (char)(0x80 | ((cp >> 6) & 63)); u[3] = (char)(0x80 | (cp & 63)); ul = 4;
            }
            memcpy(want + wn, u, (size_t)ul);
            wn += (size_t)ul;
            int must_escape = cp < 0x20 || cp == '"' || cp == '\\';
            if (must_escape || (test_rand_u64(&st) & 1)) {
                if (cp >= 0x10000) {
                    uint32_t v = cp - 0x10000;
                    jn += (size_t)snprintf(json + jn, 20, "\\u%04X\\u%04x", 0xd800 + (v >> 10), 0xdc00 + (v & 0x3ff));
                } else {
                    jn += (size_t)snprintf(json + jn, 20, "\\u%04x", cp);
                }
            } else {
                memcpy(json + jn, u, (size_t)ul);
                jn += (size_t)ul;
            }
        }
        json[jn++] = '"';
        json[jn] = 0;
        lrq_json_doc *d = NULL;
        if (lrq_json_parse(&d, json, jn, "r.json")) {
            test_fail(__FILE__, __LINE__, "random string %d: %s", iter, lrq_err_get());
            continue;
        }
        size_t got_n = 0;
        const char *got = lrq_json_str(lrq_json_root(d), &got_n);
        CHECKF(got_n == wn && memcmp(got, want, wn) == 0, "random string %d decoded wrong", iter);
        lrq_json_free(d);
    }
}

static double num_of(const char *s) {
    lrq_json_doc *d = NULL;
    if (lrq_json_parse(&d, s, strlen(s), "n.json")) {
        test_fail(__FILE__, __LINE__, "number %s: %s", s, lrq_err_get());
        return NAN;
    }
    double v = lrq_json_num(lrq_json_root(d));
    lrq_json_free(d);
    return v;
}

static int int_of(const char *s, int64_t *out) {
    lrq_json_doc *d = NULL;
    if (lrq_json_parse(&d, s, strlen(s), "n.json")) {
        test_fail(__FILE__, __LINE__, "number %s: %s", s, lrq_err_get());
        return -1;
    }
    int r = lrq_json_int(lrq_json_root(d), out);
    lrq_json_free(d);
    return r;
}

static void test_numbers(void) {
    /* values must equal the correctly rounded double (strtod in the C locale) */
    static const char *lits[] = {
        "0", "-0", "1", "-1", "1.5", "1e-05", "1e-5", "1E+2", "1e2", "0.1", "0.2", "0.3", "10000.0",
        "1e-06", "9.999999974752427e-07", "3.141592653589793238462643383279", "2.2250738585072014e-308",
        "4.9e-324", "1.7976931348623157e308", "123456789012345678901234567890", "0.000001234",
        "1e-400", "-1e-400", "9007199254740993", "18446744073709551615", "1000000.0000001", "6.02214076e23",
        "0.0000000000000000000000000001", "100000000000000000000000", "1e22", "1e23", "5e-324",
        "0.30000000000000004", "12345678901234567890.5e-3",
    };
    for (size_t i = 0; i < sizeof lits / sizeof lits[0]; i++) {
        double got = num_of(lits[i]), want = strtod(lits[i], NULL);
        CHECKF(memcmp(&got, &want, sizeof got) == 0, "%s -> %.17g, want %.17g", lits[i], got, want);
    }
    CHECK(signbit(num_of("-0")) && signbit(num_of("-0.0e5")));
    int64_t v = 0;
    CHECK(int_of("0", &v) == 1 && v == 0);
    CHECK(int_of("-17", &v) == 1 && v == -17);
    CHECK(int_of("9223372036854775807", &v) == 1 && v == INT64_MAX);
    CHECK(int_of("-9223372036854775808", &v) == 1 && v == INT64_MIN);
    CHECK(int_of("9007199254740993", &v) == 1 && v == 9007199254740993LL); /* not representable as double */
    CHECK(int_of("9223372036854775808", &v) == 0);
    CHECK(int_of("-9223372036854775809", &v) == 0);
    CHECK(int_of("-99999999999999999999", &v) == 0);
    CHECK(int_of("100000000000000000000", &v) == 0);
    CHECK(int_of("1.5", &v) == 0);
    CHECK(int_of("1.0", &v) == 1 && v == 1);
    CHECK(int_of("1e3", &v) == 1 && v == 1000);
    CHECK(int_of("151643", &v) == 1 && v == 151643);
    CHECK(int_of("1e30", &v) == 0);
    CHECK(int_of("\"5\"", &v) == 0);
    lrq_json_doc *d = parse_ok("[1,-2.5e3,0e0]");
    if (d) {
        CHECK(lrq_json_num(lrq_json_at(lrq_json_root(d), 1)) == -2500.0);
        CHECK(lrq_json_num(lrq_json_at(lrq_json_root(d), 2)) == 0.0);
        lrq_json_free(d);
    }
}

static void test_invalid(void) {
    BAD("", "unexpected end of input");
    BAD("   ", "unexpected end of input");
    BAD("{", "unexpected end of input");
    BAD("[", "unexpected end of input");
    BAD("[1", "unexpected end of input");
    BAD("[1,]", "expected a value");
    BAD("[,1]", "expected a value");
    BAD("{\"a\":1,}", "expected a string key");
    BAD("{\"a\" 1}", "expected ':'");
    BAD("{a:1}", "expected a string key");
    BAD("{'a':1}", "expected a string key");
    BAD("{\"a\":1 \"b\":2}", "expected ',' or '}'");
    BAD("[1 2]", "expected ',' or ']'");
    BAD("[1}", "expected ',' or ']'");
    BAD("{\"a\":1]", "expected ',' or '}'");
    BAD("1 2", "unexpected data after");
    BAD("{} {}", "unexpected data after");
    BAD("tru", "invalid literal");
    BAD("nul", "invalid literal");
    BAD("True", "unexpected character");
    BAD("NaN", "unexpected character");
    BAD("Infinity", "unexpected character");
    BAD("-Infinity", "invalid number");
    BAD("01", "leading zero");
    BAD("-01", "leading zero");
    BAD("+1", "unexpected character");
    BAD(".5", "unexpected character");
    BAD("1.", "digit expected after '.'");
    BAD("1.e5", "digit expected after '.'");
    BAD("1e", "digit expected in exponent");
    BAD("1e+", "digit expected in exponent");
    BAD("-", "invalid number");
    BAD("0x10", "unexpected data after");
    BAD("1e400", "out of range");
    BAD("-1e99999999999999999999", "out of range");
    BAD("\"abc", "unterminated string");
    BAD("\"abc\\", "unterminated string");
    BAD("\"a\tb\"", "control character");
    BAD("\"a\nb\"", "control character");
    parse_bad("\"a\0b\"", 5, "control character");
    parse_bad("[1]\0", 4, "unexpected data after");
    BAD("\"\\x41\"", "invalid escape");
    BAD("\"\\U0041\"", "invalid escape");
    BAD("\"\\'\"", "invalid escape");
    BAD("\"\\u12\"", "\\u escape");
    BAD("\"\\u12", "truncated \\u escape");
    BAD("\"\\u12g4\"", "invalid \\u escape");
    BAD("\"\\ud800\"", "high surrogate");
    BAD("\"\\ud800x\"", "high surrogate");
    BAD("\"\\ud800\\u0041\"", "high surrogate not followed by a low surrogate");
    BAD("\"\\ud800\\ud800\"", "high surrogate not followed by a low surrogate");
    BAD("\"\\udc00\"", "lone low surrogate");
    BAD("\"\\ude00\\ud83d\"", "lone low surrogate");
    BAD("\"\xc3\"", "invalid UTF-8");
    BAD("\"\xc3(\"", "invalid UTF-8");
    BAD("\"\xc0\x80\"", "invalid UTF-8");         /* overlong NUL */
    BAD("\"\xe0\x80\xaf\"", "invalid UTF-8");     /* overlong '/' */
    BAD("\"\xed\xa0\x80\"", "invalid UTF-8");     /* encoded surrogate */
    BAD("\"\xf4\x90\x80\x80\"", "invalid UTF-8"); /* > U+10FFFF */
    BAD("\"\xff\"", "invalid UTF-8");
    BAD("\"\x80\"", "invalid UTF-8");
    BAD("/* c */ 1", "unexpected character");
    BAD("[1] // c", "unexpected data after");
    BAD("\xef\xbb", "unexpected character");
    BAD("\x0b" "1", "unexpected character"); /* vertical tab is not JSON whitespace */
    BAD("\xc2\xa0" "1", "unexpected character");
}

static void test_error_position(void) {
    const char *s = "{\n  \"a\": 1,\n  \"b\" 2\n}";
    lrq_json_doc *d = NULL;
    CHECK(lrq_json_parse(&d, s, strlen(s), "config.json") == -1);
    CHECKF(strcmp(lrq_err_get(), "config.json: line 3 col 7: expected ':'") == 0, "got '%s'", lrq_err_get());
    s = "[1,\n2,\n\n   x]";
    CHECK(lrq_json_parse(&d, s, strlen(s), "f") == -1);
    CHECKF(strstr(lrq_err_get(), "f: line 4 col 4:") == lrq_err_get(), "got '%s'", lrq_err_get());
    /* a NULL name still gives a usable prefix */
    CHECK(lrq_json_parse(&d, "[", 1, NULL) == -1);
    CHECKF(strncmp(lrq_err_get(), "json: line 1 col 2:", 19) == 0, "got '%s'", lrq_err_get());
}

static char *nested(int depth, int objects) {
    char *s = malloc((size_t)depth * 8 + 8);
    size_t n = 0;
    for (int i = 0; i < depth; i++) {
        if (objects) { memcpy(s + n, "{\"k\":", 5); n += 5; }
        else s[n++] = '[';
    }
    s[n++] = '0';
    for (int i = 0; i < depth; i++) s[n++] = objects ? '}' : ']';
    s[n] = 0;
    return s;
}

static void test_depth(void) {
    for (int obj = 0; obj < 2; obj++) {
        char *s = nested(256, obj);
        lrq_json_doc *d = NULL;
        CHECKF(lrq_json_parse(&d, s, strlen(s), "deep") == 0, "256 levels rejected: %s", lrq_err_get());
        const lrq_json *j = lrq_json_root(d);
        int levels = 0;
        while (j && lrq_json_type(j) == (obj ? LRQ_JSON_OBJECT : LRQ_JSON_ARRAY)) {
            j = obj ? lrq_json_get(j, "k") : lrq_json_at(j, 0);
            levels++;
        }
        CHECK(levels == 256);
        CHECK(lrq_json_type(j) == LRQ_JSON_NUMBER);
        lrq_json_free(d);
        free(s);
        s = nested(257, obj);
        parse_bad(s, strlen(s), "nesting deeper than 256");
        free(s);
    }
    /* hostile: a million '[' must fail cleanly, not overflow the stack */
    size_t n = 1000000;
    char *s = malloc(n);
    memset(s, '[', n);
    parse_bad(s, n, "nesting deeper than 256");
    free(s);
}

/* Objects big enough to use the hash index, with duplicate keys. */
static void test_big_object(void) {
    for (int size = 1; size <= 5000; size = size * 3 + 1) {
        size_t cap = (size_t)size * 40 + 64;
        char *s = malloc(cap);
        size_t n = 0;
        s[n++] = '{';
        for (int i = 0; i < size; i++) n += (size_t)snprintf(s + n, cap - n, "%s\"k%d\":%d", i ? "," : "", i, i);
        /* duplicates of the first keys: the first occurrence must win */
        for (int i = 0; i < size && i < 10; i++) n += (size_t)snprintf(s + n, cap - n, ",\"k%d\":%d", i, -1);
        s[n++] = '}';
        lrq_json_doc *d = NULL;
        if (lrq_json_parse(&d, s, n, "big")) {
            test_fail(__FILE__, __LINE__, "size %d: %s", size, lrq_err_get());
            free(s);
            continue;
        }
        const lrq_json *r = lrq_json_root(d);
        CHECK(lrq_json_len(r) == (size_t)size + (size_t)(size < 10 ? size : 10));
        int bad = 0;
        for (int i = 0; i < size; i++) {
            char k[32];
            snprintf(k, sizeof k, "k%d", i);
            const lrq_json *v = lrq_json_get(r, k);
            int64_t x;
            if (!v || !lrq_json_int(v, &x) || x != i || v != lrq_json_at(r, (size_t)i)) bad++;
        }
        CHECKF(bad == 0, "size %d: %d lookups wrong", size, bad);
        CHECK(lrq_json_get(r, "k-1") == NULL);
        CHECK(lrq_json_get(r, "") == NULL);
        CHECK(lrq_json_get(r, "k") == NULL);
        lrq_json_free(d);
        free(s);
    }
}

static lrq_json_doc *parse_file(const char *path) {
    size_t n = 0;
    char *text = lrq_read_file(path, &n);
    if (!text) { test_fail(__FILE__, __LINE__, "read %s: %s", path, lrq_err_get()); return NULL; }
    lrq_json_doc *d = NULL;
    if (lrq_json_parse(&d, text, n, path)) test_fail(__FILE__, __LINE__, "parse %s: %s", path, lrq_err_get());
    free(text); /* the document must not depend on the input buffer */
    return d;
}

static void test_tokenizer_json(void) {
    const char *path = test_shared("tokenizers/qwen3/tokenizer.json");
    lrq_json_doc *d = parse_file(path);
    if (!d) return;
    const lrq_json *r = lrq_json_root(d);
    const lrq_json *model = lrq_json_get(r, "model");
    CHECK(strcmp(lrq_json_str(lrq_json_get(model, "type"), NULL), "BPE") == 0);
    CHECK(lrq_json_len(lrq_json_get(r, "added_tokens")) == 26);
    const lrq_json *at0 = lrq_json_at(lrq_json_get(r, "added_tokens"), 0);
    int64_t id = 0;
    CHECK(lrq_json_int(lrq_json_get(at0, "id"), &id) == 1 && id == 151643);
    CHECK(strcmp(lrq_json_str(lrq_json_get(at0, "content"), NULL), "<|endoftext|>") == 0);
    CHECK(lrq_json_bool(lrq_json_get(at0, "special")) == 1);
    const lrq_json *vocab = lrq_json_get(model, "vocab");
    const lrq_json *merges = lrq_json_get(model, "merges");
    CHECK(lrq_json_len(vocab) == 151643);
    CHECK(lrq_json_len(merges) == 151387);
    CHECK(lrq_json_int(lrq_json_get(vocab, "!"), &id) == 1 && id == 0);
    CHECK(lrq_json_int(lrq_json_get(vocab, "\xc4\xa0the"), &id) == 1 && id == 279); /* "Ġthe" */
    /* every key maps back to itself through the index; ids are a permutation of 0..n-1 */
    size_t nv = lrq_json_len(vocab), bad = 0;
    unsigned char *seen = calloc(nv, 1);
    for (size_t i = 0; i < nv; i++) {
        const char *k = lrq_json_key_at(vocab, i, NULL);
        const lrq_json *v = lrq_json_at(vocab, i);
        if (lrq_json_get(vocab, k) != v) bad++;
        if (!lrq_json_int(v, &id) || id < 0 || (size_t)id >= nv || seen[id]++) bad++;
    }
    free(seen);
    CHECKF(bad == 0, "%zu vocab entries wrong", bad);
    const lrq_json *m0 = lrq_json_at(merges, 2);
    CHECK(lrq_json_len(m0) == 2 && strcmp(lrq_json_str(lrq_json_at(m0, 0), NULL), "i") == 0 &&
          strcmp(lrq_json_str(lrq_json_at(m0, 1), NULL), "n") == 0);
    const lrq_json *pre = lrq_json_at(lrq_json_get(lrq_json_get(r, "pre_tokenizer"), "pretokenizers"), 0);
    const char *re = lrq_json_str(lrq_json_get(lrq_json_get(pre, "pattern"), "Regex"), NULL);
    CHECK(re && strncmp(re, "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}", 40) == 0);
    lrq_json_free(d);
}

static void test_other_files(void) {
    lrq_json_doc *d = parse_file(test_shared("models/stories260K/hf/config.json"));
    if (d) {
        const lrq_json *r = lrq_json_root(d);
        int64_t v = 0;
        CHECK(lrq_json_int(lrq_json_get(r, "hidden_size"), &v) == 1 && v == 64);
        CHECK(lrq_json_num(lrq_json_get(r, "rms_norm_eps")) == 1e-5);
        CHECK(lrq_json_num(lrq_json_get(r, "rope_theta")) == 10000.0);
        CHECK(lrq_json_bool(lrq_json_get(r, "tie_word_embeddings")) == 1);
        CHECK(strcmp(lrq_json_str(lrq_json_at(lrq_json_get(r, "architectures"), 0), NULL), "LlamaForCausalLM") == 0);
        lrq_json_free(d);
    }
    d = parse_file(test_shared("models/stories260K/hf-f16/config.json"));
    lrq_json_free(d);
    d = parse_file(test_shared("tokenizers/qwen3/tokenizer_config.json"));
    if (d) {
        CHECK(lrq_json_bool(lrq_json_get(lrq_json_root(d), "add_bos_token")) == 0);
        const lrq_json *atd = lrq_json_get(lrq_json_root(d), "added_tokens_decoder");
        CHECK(strcmp(lrq_json_str(lrq_json_get(lrq_json_get(atd, "151643"), "content"), NULL), "<|endoftext|>") == 0);
        lrq_json_free(d);
    }
    d = parse_file(test_shared("tokenizers/gpt2/gpt2_vocab.json"));
    if (d) {
        int64_t v = 0;
        CHECK(lrq_json_len(lrq_json_root(d)) == 50257);
        CHECK(lrq_json_int(lrq_json_get(lrq_json_root(d), "the"), &v) == 1 && v == 1169);
        lrq_json_free(d);
    }
}

/* Every proper prefix of a valid document is invalid (no crash, clean error). */
static void test_truncations(void) {
    const char *s = "{\"a\":[1,2.5e-3,\"x\\u00e9\\ud83d\\ude00\",true,false,null,{\"b\":{}}],\"c\":\"\xe2\x82\xac\"}";
    size_t n = strlen(s);
    lrq_json_doc *d = NULL;
    CHECK(lrq_json_parse(&d, s, n, "full") == 0);
    lrq_json_free(d);
    int accepted = 0;
    for (size_t k = 0; k < n; k++) {
        char *c = malloc(k ? k : 1); /* exact-size copy so ASan sees overreads */
        memcpy(c, s, k);
        d = NULL;
        if (lrq_json_parse(&d, c, k, "trunc") == 0) { accepted++; lrq_json_free(d); }
        free(c);
    }
    CHECK(accepted == 0);
}

int main(void) {
    TEST_RUN(test_scalars);
    TEST_RUN(test_structure);
    TEST_RUN(test_escapes);
    TEST_RUN(test_numbers);
    TEST_RUN(test_invalid);
    TEST_RUN(test_error_position);
    TEST_RUN(test_depth);
    TEST_RUN(test_big_object);
    TEST_RUN(test_tokenizer_json);
    TEST_RUN(test_other_files);
    TEST_RUN(test_truncations);
    return test_finish();
}
