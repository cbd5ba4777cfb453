/* fuzz_json.c — libFuzzer target for the JSON parser: parse arbitrary bytes;
 * on success walk the whole tree through every accessor and check the
 * invariants the rest of lrq relies on (lookup returns the first member with
 * a key, strings are NUL-terminated at their length, integer views agree
 * with the double view). */
#include "core/core.h"
#include "io/json.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

static void walk(const lrq_json *j, int depth) {
    FUZZ_CHECK(depth <= 257);
    int t = lrq_json_type(j);
    FUZZ_CHECK(t >= LRQ_JSON_NULL && t <= LRQ_JSON_OBJECT);
    size_t n = lrq_json_len(j);
    switch (t) {
    case LRQ_JSON_STRING: {
        size_t len = 0;
        const char *s = lrq_json_str(j, &len);
        FUZZ_CHECK(s && s[len] == 0);
        break;
    }
    case LRQ_JSON_NUMBER: {
        double d = lrq_json_num(j);
        FUZZ_CHECK(isfinite(d));
        int64_t v;
        if (lrq_json_int(j, &v)) FUZZ_CHECK((double)v == d); /* both are the correctly rounded value */
        break;
    }
    case LRQ_JSON_TRUE: FUZZ_CHECK(lrq_json_bool(j) == 1); break;
    case LRQ_JSON_FALSE: FUZZ_CHECK(lrq_json_bool(j) == 0); break;
    case LRQ_JSON_ARRAY:
        for (size_t i = 0; i < n; i++) walk(lrq_json_at(j, i), depth + 1);
        FUZZ_CHECK(lrq_json_at(j, n) == NULL);
        break;
    case LRQ_JSON_OBJECT:
        for (size_t i = 0; i < n; i++) {
            size_t kl = 0;
            const char *k = lrq_json_key_at(j, i, &kl);
            FUZZ_CHECK(k && k[kl] == 0);
            const lrq_json *v = lrq_json_at(j, i);
            if (strlen(k) == kl) {
                /* the first member with this key */
                const lrq_json *g = lrq_json_get(j, k);
                FUZZ_CHECK(g != NULL);
                size_t first = 0;
                while (first < n) {
                    size_t fl;
                    const char *fk = lrq_json_key_at(j, first, &fl);
                    if (fl == kl && memcmp(fk, k, kl) == 0) break;
                    first++;
                }
                FUZZ_CHECK(g == lrq_json_at(j, first));
            }
            walk(v, depth + 1);
        }
        FUZZ_CHECK(lrq_json_key_at(j, n, NULL) == NULL);
        break;
    default:
        FUZZ_CHECK(n == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lrq_json_doc *doc = NULL;
    if (lrq_json_parse(&doc, (const char *)data, size, "fuzz.json") == 0) {
        walk(lrq_json_root(doc), 0);
        lrq_json_free(doc);
    } else {
        FUZZ_CHECK(doc == NULL);
        FUZZ_CHECK(strncmp(lrq_err_get(), "fuzz.json: line ", 16) == 0);
    }
    return 0;
}
