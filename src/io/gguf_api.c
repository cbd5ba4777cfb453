/* gguf_api.c — the public GGUF-inspection and type-name functions of lrq.h
 * (what `lrq info` needs to describe any GGUF, runnable or not), as thin
 * wrappers over gguf.h and qtypes.h. */
#include "lrq.h"
#include "core/core.h"
#include "io/gguf.h"
#include "fmt/types.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

const char *lrq_gguf_key(const lrq_gguf *g, int64_t i) {
    return i >= 0 && i < lrq_gguf_n_kv(g) ? lrq_gguf_kv_at(g, i)->key : NULL;
}

const char *lrq_gguf_key_type(const lrq_gguf *g, int64_t i) {
    return i >= 0 && i < lrq_gguf_n_kv(g) ? lrq_gguf_vtype_name(lrq_gguf_kv_at(g, i)->val.type) : "unknown";
}

/* Appending writer over a fixed buffer: output past the end is dropped. */
typedef struct tbuf {
    char *p;
    size_t cap, n;
} tbuf;

static void tb_printf(tbuf *b, const char *fmt, ...) LRQ_PRINTF(2, 3);
static void tb_printf(tbuf *b, const char *fmt, ...) {
    if (b->n + 1 >= b->cap) return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
    va_end(ap);
    if (k > 0) b->n = b->n + (size_t)k < b->cap ? b->n + (size_t)k : b->cap - 1;
}

static void value_text(tbuf *b, const lrq_gguf_value *val, int depth, size_t max_str) {
    switch (val->type) {
    case LRQ_GGUF_UINT8: case LRQ_GGUF_UINT16: case LRQ_GGUF_UINT32: case LRQ_GGUF_UINT64:
        tb_printf(b, "%llu", (unsigned long long)val->v.u64); break;
    case LRQ_GGUF_INT8: case LRQ_GGUF_INT16: case LRQ_GGUF_INT32: case LRQ_GGUF_INT64:
        tb_printf(b, "%lld", (long long)val->v.i64); break;
    case LRQ_GGUF_FLOAT32: case LRQ_GGUF_FLOAT64: tb_printf(b, "%g", val->v.f64); break;
    case LRQ_GGUF_BOOL: tb_printf(b, "%s", val->v.u64 ? "true" : "false"); break;
    case LRQ_GGUF_STRING: {
        uint64_t n = val->v.str.len > max_str ? max_str : val->v.str.len;
        tb_printf(b, "\"");
        for (uint64_t i = 0; i < n; i++) {
            unsigned char ch = (unsigned char)val->v.str.ptr[i];
            /* control bytes and quotes escaped: one value stays one line */
            if (ch < 32 || ch == '"') tb_printf(b, "\\x%02x", ch);
            else tb_printf(b, "%c", ch);
        }
        tb_printf(b, val->v.str.len > n ? "...\"" : "\"");
        break;
    }
    case LRQ_GGUF_ARRAY: {
        tb_printf(b, "[%s x %llu]", lrq_gguf_vtype_name(val->v.arr.elem_type), (unsigned long long)val->v.arr.n);
        if (depth == 0 && val->v.arr.n > 0 && val->v.arr.n <= 8) {
            tb_printf(b, " ");
            for (uint64_t i = 0; i < val->v.arr.n; i++) {
                if (val->v.arr.items) value_text(b, &val->v.arr.items[i], 1, max_str);
                else if (val->v.arr.elem_type == LRQ_GGUF_FLOAT32 || val->v.arr.elem_type == LRQ_GGUF_FLOAT64)
                    tb_printf(b, "%g", lrq_gguf_arr_f64(val, i));
                else tb_printf(b, "%lld", (long long)lrq_gguf_arr_i64(val, i));
                tb_printf(b, i + 1 < val->v.arr.n ? ", " : "");
            }
        }
        break;
    }
    default: tb_printf(b, "?");
    }
}

const char *lrq_gguf_value_text(const lrq_gguf *g, int64_t i, char *buf, size_t cap, size_t max_str) {
    if (cap == 0) return buf;
    buf[0] = 0;
    if (i < 0 || i >= lrq_gguf_n_kv(g)) return buf;
    tbuf b = { buf, cap, 0 };
    value_text(&b, &lrq_gguf_kv_at(g, i)->val, 0, max_str);
    return buf;
}

int lrq_gguf_string(const lrq_gguf *g, const char *key, char **out) {
    *out = NULL;
    const char *p;
    uint64_t len;
    int r = lrq_gguf_get_str(g, key, &p, &len);
    if (r != 1) return r;
    char *s = lrq_malloc((size_t)len + 1);
    if (!s) return -1;
    memcpy(s, p, (size_t)len);
    s[len] = 0;
    *out = s;
    return 1;
}

int lrq_gguf_int(const lrq_gguf *g, const char *key, int64_t *out) { return lrq_gguf_get_i64(g, key, out); }

int lrq_gguf_tensor_info(const lrq_gguf *g, int64_t i, lrq_tensor_info *out) {
    if (i < 0 || i >= lrq_gguf_n_tensors(g))
        return lrq_err_set("%s: tensor index %lld out of range", lrq_gguf_path(g), (long long)i);
    const lrq_gguf_tensor *t = lrq_gguf_tensor_at(g, i);
    out->name = t->name;
    out->type = t->type;
    out->type_name = lrq_type_name(t->type);
    out->supported = lrq_type_supported(t->type);
    out->n_dims = (int)t->n_dims;
    for (int k = 0; k < 4; k++) out->ne[k] = t->ne[k];
    out->nbytes = t->nbytes;
    return 0;
}

int lrq_type_from_name(const char *name) {
    for (int t = 0; t < LRQ_TYPE_COUNT; t++) {
        const lrq_type_traits *tt = lrq_type_get(t);
        if (!tt || !tt->name) continue;
        const char *a = tt->name, *b = name;
        while (*a && *b && (*a | 0x20) == (*b | 0x20)) { a++; b++; }
        if (!*a && !*b) return t;
    }
    return -1;
}

/* llama.cpp's enum llama_ftype (include/llama.h): the value stored in
 * general.file_type and the name llama-quantize and llama.cpp's loader
 * print for it. Gaps are values llama.cpp removed. */
static const struct { int64_t id; const char *name; } ftypes[] = {
    { 0, "F32" }, { 1, "F16" }, { 2, "Q4_0" }, { 3, "Q4_1" }, { 7, "Q8_0" }, { 8, "Q5_0" }, { 9, "Q5_1" },
    { 10, "Q2_K" }, { 11, "Q3_K_S" }, { 12, "Q3_K_M" }, { 13, "Q3_K_L" }, { 14, "Q4_K_S" }, { 15, "Q4_K_M" },
    { 16, "Q5_K_S" }, { 17, "Q5_K_M" }, { 18, "Q6_K" }, { 19, "IQ2_XXS" }, { 20, "IQ2_XS" }, { 21, "Q2_K_S" },
    { 22, "IQ3_XS" }, { 23, "IQ3_XXS" }, { 24, "IQ1_S" }, { 25, "IQ4_NL" }, { 26, "IQ3_S" }, { 27, "IQ3_M" },
    { 28, "IQ2_S" }, { 29, "IQ2_M" }, { 30, "IQ4_XS" }, { 31, "IQ1_M" }, { 32, "BF16" }, { 36, "TQ1_0" },
    { 37, "TQ2_0" }, { 38, "MXFP4_MOE" }, { 39, "NVFP4" }, { 40, "Q1_0" }, { 41, "Q2_0" },
};

const char *lrq_file_type_name(int64_t ftype) {
    for (size_t i = 0; i < sizeof ftypes / sizeof ftypes[0]; i++)
        if (ftypes[i].id == ftype) return ftypes[i].name;
    return NULL;
}
