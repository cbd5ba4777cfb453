/* text.c — see text.h. */
#include "io/text.h"
#include "core/core.h"
#include "core/mapfile.h"

#include <stdlib.h>

size_t lrq_utf8_check(const char *str, size_t n) {
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t len;
        uint32_t cp;
        if (c < 0x80) { i++; continue; }
        else if ((c & 0xe0) == 0xc0) { len = 2; cp = c & 0x1f; }
        else if ((c & 0xf0) == 0xe0) { len = 3; cp = c & 0x0f; }
        else if ((c & 0xf8) == 0xf0) { len = 4; cp = c & 0x07; }
        else return i;
        if (i + len > n) return i;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return i;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        /* reject overlong forms, surrogates and values past U+10FFFF */
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return i;
        i += len;
    }
    return n;
}

int lrq_text_load(const char *path, char **out, size_t *len) {
    *out = NULL;
    size_t n;
    char *buf = lrq_read_file(path, &n);
    if (!buf) return -1;
    if (n == 0) { free(buf); return lrq_err_set("%s: empty file", path); }
    const char *nul = memchr(buf, 0, n);
    if (nul) {
        size_t off = (size_t)(nul - buf);
        free(buf);
        return lrq_err_set("%s: not text: NUL byte at offset %zu", path, off);
    }
    size_t bad = lrq_utf8_check(buf, n);
    if (bad != n) {
        free(buf);
        return lrq_err_set("%s: not text: invalid UTF-8 at offset %zu", path, bad);
    }
    *out = buf;
    *len = n;
    return 0;
}
