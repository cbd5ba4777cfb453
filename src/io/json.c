/* json.c — strict RFC 8259 JSON parser (see json.h).
 *
 * Design:
 *  - One pass, recursive descent with a hard depth limit (LRQ_JSON_MAX_DEPTH).
 *  - The children of a container are first collected on a growable scratch
 *    stack; when the container closes they are copied into one contiguous
 *    block of the node arena. So lrq_json_at / lrq_json_key_at are O(1) and
 *    node pointers are stable for the life of the document.
 *  - All unescaped strings live in a single buffer sized to the input length:
 *    an unescaped string plus its NUL never exceeds its quoted source text
 *    (escapes only shrink, the two quotes pay for the NUL), so the buffer can
 *    never overflow and needs no growth.
 *  - Objects with at least LRQ_JSON_HASH_MIN members get an open-addressing
 *    hash index built when they close, so lrq_json_get is O(1) expected on
 *    big objects such as tokenizer.json's "vocab" (151k members). Small
 *    objects are searched linearly, which is faster for them.
 *  - Strictness: only the four RFC whitespace bytes, no trailing commas, no
 *    comments, no leading zeros / '+' / bare '.', no NaN/Infinity, control
 *    bytes in strings rejected, input must be valid UTF-8 (no overlongs, no
 *    encoded surrogates, nothing above U+10FFFF), \u escapes must form valid
 *    scalar values (a high surrogate must be followed by a low one). A
 *    leading UTF-8 byte order mark is skipped (RFC 8259 section 8.1 allows
 *    that). Numbers whose magnitude overflows a double are rejected.
 */
#include "json.h"
#include "core/core.h"

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define LRQ_JSON_MAX_DEPTH 256
#define LRQ_JSON_HASH_MIN 16
#define LRQ_JSON_CHUNK_NODES 4096

/* What is known about a number's integer value. */
enum { INT_UNKNOWN = 0,  /* fraction/exponent form: judge from the double */
       INT_EXACT = 1,    /* plain integer literal in int64 range: u.num.i is exact */
       INT_OUT = 2 };    /* plain integer literal outside int64 range */

struct lrq_json {
    const char *key;     /* member key when this node is an object member, else NULL */
    uint32_t key_len;
    uint8_t type;        /* enum lrq_json_type */
    uint8_t int_state;   /* NUMBER: INT_* above */
    size_t n;            /* STRING: byte length; ARRAY/OBJECT: child count */
    union {
        const char *str;
        struct { double d; int64_t i; } num;
        struct {
            struct lrq_json *kids;
            uint32_t *index; /* OBJECT hash index (NULL for small objects); slot = member index + 1 */
        } c;
    } u;
};

/* A block of the node / index arena. */
typedef struct json_block {
    struct json_block *next;
    size_t used, cap;    /* in bytes, for the payload following the header */
    max_align_t payload[]; /* aligned payload */
} json_block;

struct lrq_json_doc {
    lrq_json root;
    char *strbuf;        /* all unescaped strings */
    json_block *blocks;
};

typedef struct json_parser {
    const char *text;
    const char *p, *end;
    const char *name;
    lrq_json_doc *doc;
    size_t str_used;
    lrq_json *stack;     /* scratch: children of open containers */
    size_t stack_n, stack_cap;
    int failed;          /* an error message has been recorded */
} json_parser;

/* ---------------------------------------------------------------- errors */

/* Record "NAME: line L col C: msg" for the byte at `at`. Lines and columns
 * are 1-based; the column counts bytes. Computed only on error. */
static int json_error(json_parser *ps, const char *at, const char *msg) {
    if (ps->failed) return -1;
    ps->failed = 1;
    size_t line = 1;
    const char *line_start = ps->text;
    for (const char *q = ps->text; q < at; q++) {
        if (*q == '\n') { line++; line_start = q + 1; }
    }
    size_t col = (size_t)(at - line_start) + 1;
    return lrq_err_set("%s: line %zu col %zu: %s", ps->name, line, col, msg);
}

static int json_oom(json_parser *ps) {
    if (ps->failed) return -1;
    ps->failed = 1;
    return lrq_err_prefix("%s", ps->name);
}

/* ----------------------------------------------------------------- arena */

static void *arena_alloc(json_parser *ps, size_t bytes) {
    lrq_json_doc *doc = ps->doc;
    /* sizes rounded up to 16 bytes keep every allocation as aligned as the
     * payload start (max_align_t), more than nodes and indexes need */
    size_t need;
    if (lrq_add_size(bytes, 15, &need)) { lrq_err_set("out of memory"); return NULL; }
    need &= ~(size_t)15;
    json_block *b = doc->blocks;
    if (!b || b->cap - b->used < need) {
        size_t cap = LRQ_JSON_CHUNK_NODES * sizeof(lrq_json);
        int big = need > cap / 4;
        if (big) cap = need; /* big request: its own block */
        size_t total;
        if (lrq_add_size(sizeof(json_block), cap, &total)) { lrq_err_set("out of memory"); return NULL; }
        json_block *nb = lrq_malloc(total);
        if (!nb) return NULL;
        nb->used = 0;
        nb->cap = cap;
        if (b && big && b->cap - b->used >= sizeof(lrq_json) * 64) {
            /* dedicated block: link it behind the current one so the current
             * block's free space stays usable */
            nb->next = b->next;
            b->next = nb;
        } else {
            nb->next = b;
            doc->blocks = nb;
        }
        b = nb;
    }
    void *r = (char *)b->payload + b->used;
    b->used += need;
    return r;
}

/* ------------------------------------------------------------------ hash */

static uint64_t json_hash(const char *s, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ull;
    }
    return h ^ (h >> 29);
}

static size_t index_cap_for(size_t n) {
    size_t cap = 32;
    while (cap < n * 2) cap <<= 1;
    return cap;
}

/* Build the hash index of an object (keeps the first of duplicate keys). */
static int build_index(json_parser *ps, lrq_json *obj) {
    size_t n = obj->n;
    if (n >= UINT32_MAX / 2) return 0; /* absurdly large: fall back to linear search */
    size_t cap = index_cap_for(n);
    size_t bytes;
    if (lrq_mul_size(cap, sizeof(uint32_t), &bytes)) return 0;
    uint32_t *idx = arena_alloc(ps, bytes);
    if (!idx) return json_oom(ps);
    memset(idx, 0, bytes);
    for (size_t i = 0; i < n; i++) {
        const lrq_json *m = &obj->u.c.kids[i];
        size_t h = (size_t)json_hash(m->key, m->key_len) & (cap - 1);
        for (;;) {
            uint32_t s = idx[h];
            if (s == 0) { idx[h] = (uint32_t)(i + 1); break; }
            const lrq_json *o = &obj->u.c.kids[s - 1];
            if (o->key_len == m->key_len && memcmp(o->key, m->key, m->key_len) == 0) break;
            h = (h + 1) & (cap - 1);
        }
    }
    obj->u.c.index = idx;
    return 0;
}

/* ---------------------------------------------------------------- parser */

static void skip_ws(json_parser *ps) {
    const char *p = ps->p, *e = ps->end;
    while (p < e && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
    ps->p = p;
}

static int push_node(json_parser *ps, const lrq_json *node) {
    if (ps->stack_n == ps->stack_cap) {
        size_t cap = ps->stack_cap ? ps->stack_cap * 2 : 256;
        size_t bytes;
        if (lrq_mul_size(cap, sizeof(lrq_json), &bytes)) { lrq_err_set("out of memory"); return json_oom(ps); }
        lrq_json *ns = lrq_realloc(ps->stack, bytes);
        if (!ns) return json_oom(ps);
        ps->stack = ns;
        ps->stack_cap = cap;
    }
    ps->stack[ps->stack_n++] = *node;
    return 0;
}

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Read 4 hex digits at p (p + 4 <= end checked by caller). */
static int read_hex4(const char *p) {
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval((unsigned char)p[i]);
        if (h < 0) return -1;
        v = v * 16 + h;
    }
    return v;
}

static char *put_utf8(char *o, uint32_t cp) {
    if (cp < 0x80) {
        *o++ = (char)cp;
    } else if (cp < 0x800) {
        *o++ = (char)(0xc0 | (cp >> 6));
        *o++ = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        *o++ = (char)(0xe0 | (cp >> 12));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *o++ = (char)(0x80 | (cp & 0x3f));
    } else {
        *o++ = (char)(0xf0 | (cp >> 18));
        *o++ = (char)(0x80 | ((cp >> 12) & 0x3f));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *o++ = (char)(0x80 | (cp & 0x3f));
    }
    return o;
}

/* Length of the valid UTF-8 sequence at p (lead byte >= 0x80), or 0. */
static size_t utf8_seq(const unsigned char *p, const unsigned char *e) {
    unsigned c = p[0];
    size_t n;
    unsigned lo = 0x80, hi = 0xbf; /* allowed range of the 2nd byte */
    if (c >= 0xc2 && c <= 0xdf) n = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0) lo = 0xa0;       /* no overlongs */
        else if (c == 0xed) hi = 0x9f;  /* no UTF-16 surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0) lo = 0x90;       /* no overlongs */
        else if (c == 0xf4) hi = 0x8f;  /* <= U+10FFFF */
    } else return 0;
    if ((size_t)(e - p) < n) return 0;
    if (p[1] < lo || p[1] > hi) return 0;
    for (size_t i = 2; i < n; i++)
        if ((p[i] & 0xc0) != 0x80) return 0;
    return n;
}

/* Parse a string at ps->p (which points at the opening quote). Stores the
 * unescaped NUL-terminated text in the string buffer. */
static int parse_string(json_parser *ps, const char **out, size_t *out_len) {
    const char *p = ps->p + 1, *e = ps->end;
    char *start = ps->doc->strbuf + ps->str_used;
    char *o = start;
    for (;;) {
        /* fast path: plain ASCII run */
        const char *run = p;
        while (p < e) {
            unsigned char c = (unsigned char)*p;
            if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) break;
            p++;
        }
        if (p > run) {
            memcpy(o, run, (size_t)(p - run));
            o += p - run;
        }
        if (p >= e) return json_error(ps, p, "unterminated string");
        unsigned char c = (unsigned char)*p;
        if (c == '"') { p++; break; }
        if (c < 0x20) return json_error(ps, p, "control character in string (must be escaped)");
        if (c >= 0x80) {
            size_t n = utf8_seq((const unsigned char *)p, (const unsigned char *)e);
            if (!n) return json_error(ps, p, "invalid UTF-8 in string");
            memcpy(o, p, n);
            o += n;
            p += n;
            continue;
        }
        /* backslash escape */
        if (e - p < 2) return json_error(ps, p, "unterminated string");
        char esc = p[1];
        switch (esc) {
        case '"': *o++ = '"'; p += 2; break;
        case '\\': *o++ = '\\'; p += 2; break;
        case '/': *o++ = '/'; p += 2; break;
        case 'b': *o++ = '\b'; p += 2; break;
        case 'f': *o++ = '\f'; p += 2; break;
        case 'n': *o++ = '\n'; p += 2; break;
        case 'r': *o++ = '\r'; p += 2; break;
        case 't': *o++ = '\t'; p += 2; break;
        case 'u': {
            if (e - p < 6) return json_error(ps, p, "truncated \\u escape");
            int v = read_hex4(p + 2);
            if (v < 0) return json_error(ps, p, "invalid \\u escape (expected 4 hex digits)");
            uint32_t cp = (uint32_t)v;
            if (cp >= 0xdc00 && cp <= 0xdfff)
                return json_error(ps, p, "lone low surrogate in \\u escape");
            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (e - p < 12 || p[6] != '\\' || p[7] != 'u')
                    return json_error(ps, p, "high surrogate not followed by a \\u low surrogate");
                int lo = read_hex4(p + 8);
                if (lo < 0) return json_error(ps, p + 6, "invalid \\u escape (expected 4 hex digits)");
                if (lo < 0xdc00 || lo > 0xdfff)
                    return json_error(ps, p + 6, "high surrogate not followed by a low surrogate");
                cp = 0x10000 + ((cp - 0xd800) << 10) + ((uint32_t)lo - 0xdc00);
                p += 12;
            } else {
                p += 6;
            }
            o = put_utf8(o, cp);
            break;
        }
        default:
            return json_error(ps, p, "invalid escape in string");
        }
    }
    *o = 0;
    *out = start;
    *out_len = (size_t)(o - start);
    ps->str_used += (size_t)(o - start) + 1;
    ps->p = p;
    return 0;
}

static const double pow10_exact[23] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};

/* strtod on a validated JSON number literal, independent of LC_NUMERIC
 * (JSON always uses '.'; the C locale may not). */
static double slow_strtod(const char *s, size_t n) {
    char small[128];
    char *buf = n < sizeof small ? small : malloc(n + 1);
    if (!buf) return NAN;
    memcpy(buf, s, n);
    buf[n] = 0;
    const struct lconv *lc = localeconv();
    char dp = (lc && lc->decimal_point && lc->decimal_point[0]) ? lc->decimal_point[0] : '.';
    if (dp != '.') {
        for (size_t i = 0; i < n; i++)
            if (buf[i] == '.') buf[i] = dp;
    }
    double d = strtod(buf, NULL);
    if (buf != small) free(buf);
    return d;
}

static int parse_number(json_parser *ps, lrq_json *node) {
    const char *p = ps->p, *e = ps->end, *start = p;
    int neg = 0;
    if (*p == '-') { neg = 1; p++; }
    if (p >= e || *p < '0' || *p > '9') return json_error(ps, start, "invalid number");
    if (*p == '0' && p + 1 < e && p[1] >= '0' && p[1] <= '9')
        return json_error(ps, start, "leading zero in number");
    /* Decimal significand: up to 19 significant digits in `mant` (< 10^19
     * fits uint64); value = mant * 10^(exp_adj + exponent), `inexact` when a
     * nonzero digit did not fit. */
    uint64_t mant = 0;
    int sig = 0;
    int64_t exp_adj = 0;
    int inexact = 0, is_int = 1;
    int in_frac = 0;
    for (;;) {
        if (p < e && *p >= '0' && *p <= '9') {
            int d = *p - '0';
            if (sig < 19) {
                mant = mant * 10 + (uint64_t)d;
                if (mant) sig++;
                if (in_frac) exp_adj--;
            } else {
                if (!in_frac) exp_adj++;
                if (d) inexact = 1;
            }
            p++;
        } else if (!in_frac && p < e && *p == '.') {
            in_frac = 1;
            is_int = 0;
            p++;
            if (p >= e || *p < '0' || *p > '9')
                return json_error(ps, start, "invalid number (digit expected after '.')");
        } else {
            break;
        }
    }
    int64_t exp10 = 0;
    if (p < e && (*p == 'e' || *p == 'E')) {
        is_int = 0;
        p++;
        int eneg = 0;
        if (p < e && (*p == '+' || *p == '-')) { eneg = *p == '-'; p++; }
        if (p >= e || *p < '0' || *p > '9')
            return json_error(ps, start, "invalid number (digit expected in exponent)");
        while (p < e && *p >= '0' && *p <= '9') {
            if (exp10 < 1000000) exp10 = exp10 * 10 + (*p - '0'); /* saturate: already far out of range */
            p++;
        }
        if (eneg) exp10 = -exp10;
    }
    size_t len = (size_t)(p - start);
    int64_t total_exp = exp10 + exp_adj;
    double d;
    if (!inexact && mant == 0) {
        d = neg ? -0.0 : 0.0;
    } else if (!inexact && mant <= (1ull << 53) && total_exp >= -22 && total_exp <= 22) {
        /* Clinger's fast path: both operands exact, one correctly rounded op. */
        d = (double)mant;
        if (total_exp >= 0) d *= pow10_exact[total_exp];
        else d /= pow10_exact[-total_exp];
        if (neg) d = -d;
    } else {
        d = slow_strtod(start, len);
    }
    if (isinf(d) || isnan(d)) return json_error(ps, start, "number out of range");
    node->type = LRQ_JSON_NUMBER;
    node->int_state = INT_UNKNOWN;
    node->u.num.d = d;
    node->u.num.i = 0;
    if (is_int) {
        /* plain integer literal: exact when it has at most 19 digits (no
         * leading zeros allowed, so 20+ digits is >= 10^19, out of range) */
        node->int_state = INT_OUT;
        if (exp_adj == 0 && !neg && mant <= (uint64_t)INT64_MAX) {
            node->int_state = INT_EXACT;
            node->u.num.i = (int64_t)mant;
        } else if (exp_adj == 0 && neg && mant <= (uint64_t)INT64_MAX + 1) {
            node->int_state = INT_EXACT;
            node->u.num.i = mant == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mant;
        }
    }
    ps->p = p;
    return 0;
}

static int parse_value(json_parser *ps, lrq_json *node, int depth);

static int parse_literal(json_parser *ps, const char *word, size_t n, int type, lrq_json *node) {
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return json_error(ps, ps->p, "invalid literal");
    ps->p += n;
    node->type = (uint8_t)type;
    return 0;
}

/* Move the children collected on the scratch stack since `base` into the
 * arena as `node`'s contiguous child block. */
static int close_container(json_parser *ps, lrq_json *node, size_t base) {
    size_t n = ps->stack_n - base;
    node->n = n;
    node->u.c.kids = NULL;
    node->u.c.index = NULL;
    if (n) {
        size_t bytes;
        if (lrq_mul_size(n, sizeof(lrq_json), &bytes)) { lrq_err_set("out of memory"); return json_oom(ps); }
        lrq_json *kids = arena_alloc(ps, bytes);
        if (!kids) return json_oom(ps);
        memcpy(kids, ps->stack + base, bytes);
        node->u.c.kids = kids;
    }
    ps->stack_n = base;
    if (node->type == LRQ_JSON_OBJECT && n >= LRQ_JSON_HASH_MIN) return build_index(ps, node);
    return 0;
}

static int parse_array(json_parser *ps, lrq_json *node, int depth) {
    size_t base = ps->stack_n;
    node->type = LRQ_JSON_ARRAY;
    ps->p++; /* '[' */
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ']') {
        ps->p++;
        return close_container(ps, node, base);
    }
    for (;;) {
        lrq_json kid;
        memset(&kid, 0, sizeof kid);
        if (parse_value(ps, &kid, depth + 1)) return -1;
        if (push_node(ps, &kid)) return -1;
        skip_ws(ps);
        if (ps->p >= ps->end) return json_error(ps, ps->p, "unexpected end of input in array (expected ',' or ']')");
        if (*ps->p == ',') { ps->p++; continue; }
        if (*ps->p == ']') { ps->p++; break; }
        return json_error(ps, ps->p, "expected ',' or ']'");
    }
    return close_container(ps, node, base);
}

static int parse_object(json_parser *ps, lrq_json *node, int depth) {
    size_t base = ps->stack_n;
    node->type = LRQ_JSON_OBJECT;
    ps->p++; /* '{' */
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
        return close_container(ps, node, base);
    }
    for (;;) {
        skip_ws(ps);
        if (ps->p >= ps->end) return json_error(ps, ps->p, "unexpected end of input in object (expected a key)");
        if (*ps->p != '"') return json_error(ps, ps->p, "expected a string key");
        const char *key;
        size_t key_len;
        const char *key_at = ps->p;
        if (parse_string(ps, &key, &key_len)) return -1;
        if (key_len > UINT32_MAX) return json_error(ps, key_at, "object key too long");
        skip_ws(ps);
        if (ps->p >= ps->end || *ps->p != ':') return json_error(ps, ps->p, "expected ':'");
        ps->p++;
        lrq_json kid;
        memset(&kid, 0, sizeof kid);
        if (parse_value(ps, &kid, depth + 1)) return -1;
        kid.key = key;
        kid.key_len = (uint32_t)key_len;
        if (push_node(ps, &kid)) return -1;
        skip_ws(ps);
        if (ps->p >= ps->end) return json_error(ps, ps->p, "unexpected end of input in object (expected ',' or '}')");
        if (*ps->p == ',') { ps->p++; continue; }
        if (*ps->p == '}') { ps->p++; break; }
        return json_error(ps, ps->p, "expected ',' or '}'");
    }
    return close_container(ps, node, base);
}

static int parse_value(json_parser *ps, lrq_json *node, int depth) {
    skip_ws(ps);
    if (ps->p >= ps->end) return json_error(ps, ps->p, "unexpected end of input (expected a value)");
    switch (*ps->p) {
    case '{':
    case '[':
        if (depth >= LRQ_JSON_MAX_DEPTH) return json_error(ps, ps->p, "nesting deeper than 256 levels");
        return *ps->p == '{' ? parse_object(ps, node, depth) : parse_array(ps, node, depth);
    case '"': {
        const char *s;
        size_t n;
        if (parse_string(ps, &s, &n)) return -1;
        node->type = LRQ_JSON_STRING;
        node->u.str = s;
        node->n = n;
        return 0;
    }
    case 't': return parse_literal(ps, "true", 4, LRQ_JSON_TRUE, node);
    case 'f': return parse_literal(ps, "false", 5, LRQ_JSON_FALSE, node);
    case 'n': return parse_literal(ps, "null", 4, LRQ_JSON_NULL, node);
    default:
        if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9')) return parse_number(ps, node);
        return json_error(ps, ps->p, "unexpected character (expected a value)");
    }
}

void lrq_json_free(lrq_json_doc *doc) {
    if (!doc) return;
    json_block *b = doc->blocks;
    while (b) {
        json_block *n = b->next;
        free(b);
        b = n;
    }
    free(doc->strbuf);
    free(doc);
}

int lrq_json_parse(lrq_json_doc **out, const char *text, size_t len, const char *name) {
    LRQ_ASSERT(out != NULL);
    *out = NULL;
    if (!name) name = "json";
    if (!text && len) return lrq_err_set("%s: no input", name);
    json_parser ps;
    memset(&ps, 0, sizeof ps);
    ps.text = text ? text : "";
    ps.p = ps.text;
    ps.end = ps.text + len;
    ps.name = name;
    lrq_json_doc *doc = lrq_calloc(1, sizeof *doc);
    if (!doc) return lrq_err_prefix("%s", name);
    ps.doc = doc;
    size_t sb;
    if (lrq_add_size(len, 1, &sb)) { lrq_json_free(doc); return lrq_err_set("%s: input too large", name); }
    doc->strbuf = lrq_malloc(sb);
    if (!doc->strbuf) { lrq_json_free(doc); return lrq_err_prefix("%s", name); }
    /* optional UTF-8 byte order mark */
    if (len >= 3 && (unsigned char)ps.p[0] == 0xef && (unsigned char)ps.p[1] == 0xbb &&
        (unsigned char)ps.p[2] == 0xbf)
        ps.p += 3;
    int rc = parse_value(&ps, &doc->root, 0);
    if (rc == 0) {
        skip_ws(&ps);
        if (ps.p != ps.end) rc = json_error(&ps, ps.p, "unexpected data after the top-level value");
    }
    free(ps.stack);
    if (rc) {
        lrq_json_free(doc);
        return -1;
    }
    *out = doc;
    return 0;
}

const lrq_json *lrq_json_root(const lrq_json_doc *doc) { return doc ? &doc->root : NULL; }

/* Type of the node, or -1 for NULL. */
int lrq_json_type(const lrq_json *j) { return j ? (int)j->type : -1; }

const lrq_json *lrq_json_get(const lrq_json *j, const char *key) {
    if (!j || j->type != LRQ_JSON_OBJECT || !key) return NULL;
    size_t kl = strlen(key);
    const lrq_json *kids = j->u.c.kids;
    if (j->u.c.index) {
        size_t cap = index_cap_for(j->n);
        size_t h = (size_t)json_hash(key, kl) & (cap - 1);
        for (;;) {
            uint32_t s = j->u.c.index[h];
            if (s == 0) return NULL;
            const lrq_json *m = &kids[s - 1];
            if (m->key_len == kl && memcmp(m->key, key, kl) == 0) return m;
            h = (h + 1) & (cap - 1);
        }
    }
    for (size_t i = 0; i < j->n; i++) {
        if (kids[i].key_len == kl && memcmp(kids[i].key, key, kl) == 0) return &kids[i];
    }
    return NULL;
}

size_t lrq_json_len(const lrq_json *j) {
    if (!j || (j->type != LRQ_JSON_ARRAY && j->type != LRQ_JSON_OBJECT)) return 0;
    return j->n;
}

const lrq_json *lrq_json_at(const lrq_json *j, size_t i) {
    if (!j || (j->type != LRQ_JSON_ARRAY && j->type != LRQ_JSON_OBJECT) || i >= j->n) return NULL;
    return &j->u.c.kids[i];
}

const char *lrq_json_key_at(const lrq_json *j, size_t i, size_t *len) {
    if (!j || j->type != LRQ_JSON_OBJECT || i >= j->n) return NULL;
    if (len) *len = j->u.c.kids[i].key_len;
    return j->u.c.kids[i].key;
}

const char *lrq_json_str(const lrq_json *j, size_t *len) {
    if (!j || j->type != LRQ_JSON_STRING) return NULL;
    if (len) *len = j->n;
    return j->u.str;
}

double lrq_json_num(const lrq_json *j) {
    if (!j || j->type != LRQ_JSON_NUMBER) return 0;
    return j->u.num.d;
}

int lrq_json_int(const lrq_json *j, int64_t *out) {
    if (!j || j->type != LRQ_JSON_NUMBER) return 0;
    if (j->int_state == INT_EXACT) { *out = j->u.num.i; return 1; }
    if (j->int_state == INT_OUT) return 0;
    /* fraction/exponent form ("1.0", "1e3"): integral doubles in
     * [-2^63, 2^63) convert exactly */
    double d = j->u.num.d;
    if (d != floor(d) || d < -9223372036854775808.0 || d >= 9223372036854775808.0) return 0;
    *out = (int64_t)d;
    return 1;
}

int lrq_json_bool(const lrq_json *j) {
    if (!j) return -1;
    if (j->type == LRQ_JSON_TRUE) return 1;
    if (j->type == LRQ_JSON_FALSE) return 0;
    return -1;
}
