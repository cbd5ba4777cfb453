/* gguf_impl.h — private helpers shared by gguf_read.c and gguf_write.c
 * (not part of the API): little-endian field access, value-type sizes,
 * the nesting limit and the string hash used by the name tables. */
#ifndef LRQ_GGUF_IMPL_H
#define LRQ_GGUF_IMPL_H

#include "io/gguf.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Deepest array nesting accepted (an array value directly under a key has
 * depth 1). Real files never nest (llama.cpp itself rejects nested arrays);
 * the limit only bounds recursion on hostile input. */
#define LRQ_GGUF_MAX_DEPTH 8

/* Longest tensor name llama.cpp accepts is GGML_MAX_NAME - 1 = 63 bytes; the
 * writer refuses longer names so its files stay loadable there. */
#define LRQ_GGUF_MAX_NAME 63

/* Bytes of one scalar of value type t in the file, or 0 for STRING, ARRAY
 * and unknown ids. */
static inline size_t lrq_gguf_scalar_size(int t) {
    switch (t) {
    case LRQ_GGUF_UINT8: case LRQ_GGUF_INT8: case LRQ_GGUF_BOOL: return 1;
    case LRQ_GGUF_UINT16: case LRQ_GGUF_INT16: return 2;
    case LRQ_GGUF_UINT32: case LRQ_GGUF_INT32: case LRQ_GGUF_FLOAT32: return 4;
    case LRQ_GGUF_UINT64: case LRQ_GGUF_INT64: case LRQ_GGUF_FLOAT64: return 8;
    default: return 0;
    }
}

static inline int lrq_gguf_vtype_valid(int t) { return t >= 0 && t < LRQ_GGUF_VTYPE_COUNT; }

/* Byte-wise little-endian loads/stores: correct on any host byte order and
 * free of alignment assumptions (file fields are not aligned). */
static inline uint16_t lrq_le16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t lrq_le32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t lrq_le64(const uint8_t *p) {
    return (uint64_t)lrq_le32(p) | ((uint64_t)lrq_le32(p + 4) << 32);
}
static inline void lrq_put_le32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline void lrq_put_le64(uint8_t *p, uint64_t v) {
    lrq_put_le32(p, (uint32_t)v);
    lrq_put_le32(p + 4, (uint32_t)(v >> 32));
}

/* FNV-1a over n bytes: names are short, so this is cheap and spreads well
 * enough for the open-addressing tables. */
static inline uint64_t lrq_gguf_hash(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (uint8_t)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

/* A copy of a key or tensor name fit for a one-line error message: control
 * bytes become '?', and long names are cut to 80 bytes plus "...". Names
 * come from files, so they may hold anything. */
#define LRQ_GGUF_SAFE_NAME_BUF 96
static inline const char *lrq_gguf_safe_name(const char *s, char buf[LRQ_GGUF_SAFE_NAME_BUF]) {
    size_t i = 0;
    for (; s[i] && i < 80; i++) {
        unsigned char c = (unsigned char)s[i];
        buf[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    if (s[i]) {
        memcpy(buf + i, "...", 3);
        i += 3;
    }
    buf[i] = 0;
    return buf;
}

#endif
