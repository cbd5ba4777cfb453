/* json.h — a small, strict JSON (RFC 8259) parser for config.json,
 * tokenizer.json and safetensors headers. The document is parsed into an
 * arena of nodes; strings are unescaped to UTF-8 and NUL-terminated (an
 * embedded \u0000 is kept; use the length). Object member order is kept.
 * Depth is limited (256) so hostile input cannot blow the stack. */
#ifndef LRQ_JSON_H
#define LRQ_JSON_H

#include <stddef.h>
#include <stdint.h>

enum lrq_json_type {
    LRQ_JSON_NULL, LRQ_JSON_FALSE, LRQ_JSON_TRUE, LRQ_JSON_NUMBER,
    LRQ_JSON_STRING, LRQ_JSON_ARRAY, LRQ_JSON_OBJECT
};

typedef struct lrq_json lrq_json;          /* a node */
typedef struct lrq_json_doc lrq_json_doc;  /* owns all nodes */

/* Parse text[0..len). `name` (a file name) prefixes error messages:
 * "config.json: line 3 col 7: expected ':'". Returns 0 and *out, or -1. */
int lrq_json_parse(lrq_json_doc **out, const char *text, size_t len, const char *name);
void lrq_json_free(lrq_json_doc *doc);
const lrq_json *lrq_json_root(const lrq_json_doc *doc);

int lrq_json_type(const lrq_json *j);
/* Member of an object by key (first match), or NULL (also when j is not an object or NULL). */
const lrq_json *lrq_json_get(const lrq_json *j, const char *key);
/* Element count of an array/object; 0 otherwise. */
size_t lrq_json_len(const lrq_json *j);
/* i-th element of an array or i-th member value of an object; NULL if out of range. */
const lrq_json *lrq_json_at(const lrq_json *j, size_t i);
/* i-th member key of an object (NUL-terminated); NULL otherwise. *len may be NULL. */
const char *lrq_json_key_at(const lrq_json *j, size_t i, size_t *len);
/* String value (NUL-terminated) and its byte length; NULL if not a string. */
const char *lrq_json_str(const lrq_json *j, size_t *len);
/* Number value as double (0 if not a number). */
double lrq_json_num(const lrq_json *j);
/* Number as an exact integer: 1 and *out if j is a number that is an integer
 * in int64 range, else 0. */
int lrq_json_int(const lrq_json *j, int64_t *out);
/* 1 for true, 0 for false, -1 otherwise. */
int lrq_json_bool(const lrq_json *j);

#endif
