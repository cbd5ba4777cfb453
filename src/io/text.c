/* text.c — see text.h. */
#define _POSIX_C_SOURCE 200809L
#include "io/text.h"
#include "core/core.h"
#include "core/mapfile.h"

#include <stdlib.h>
#include <sys/stat.h>

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
    struct stat st;
    /* fopen() succeeds on a folder and only the read fails ("read error"):
     * say what is wrong instead. */
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) return lrq_err_set("%s: is a folder, not a text file", path);
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

int lrq_text_load_prompt(const char *path, char **out, size_t *len) {
    if (lrq_text_load(path, out, len)) return -1;
    /* llama.cpp's common -f/--file handler drops exactly one trailing '\n'
     * (not "\r\n", not more): text editors end files with one, and
     * llama-perplexity tokenizes what is left. The token count, hence the
     * chunk count, depends on it. */
    if ((*out)[*len - 1] == '\n') {
        (*out)[--*len] = 0;
        if (*len == 0) {
            free(*out);
            *out = NULL;
            return lrq_err_set("%s: empty file (only a newline)", path);
        }
    }
    return 0;
}
