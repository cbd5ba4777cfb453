/* unicode.c — UTF-8 helpers, GPT-2 byte alphabet and category patches for
 * the tokenizers (see unicode.h). */
#include "tok/unicode.h"

uint32_t lrq_utf8_decode(const uint8_t *s, size_t n, size_t *adv) {
    uint8_t b0 = s[0];
    if (b0 < 0x80) { *adv = 1; return b0; }
    /* Same acceptance rule as llama.cpp: a lead byte announces the length and
     * only the continuation pattern of the following bytes is checked. */
    size_t len;
    uint32_t cp;
    if ((b0 & 0x40) == 0) goto bad;            /* stray continuation byte */
    if ((b0 & 0x20) == 0) { len = 2; cp = b0 & 0x1Fu; }
    else if ((b0 & 0x10) == 0) { len = 3; cp = b0 & 0x0Fu; }
    else if ((b0 & 0x08) == 0) { len = 4; cp = b0 & 0x07u; }
    else goto bad;                              /* 0xF8..0xFF */
    if (len > n) goto bad;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) goto bad;
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    *adv = len;
    return cp;
bad:
    *adv = 1;
    return LRQ_UNICODE_REPLACEMENT;
}

size_t lrq_utf8_encode(uint32_t cp, uint8_t out[4]) {
    if (cp < 0x80) { out[0] = (uint8_t)cp; return 1; }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xC0 | (cp >> 6));
        out[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xE0 | (cp >> 12));
        out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    if (cp <= 0x10FFFF) {
        out[0] = (uint8_t)(0xF0 | (cp >> 18));
        out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
        out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        out[3] = (uint8_t)(0x80 | (cp & 0x3F));
        return 4;
    }
    return 0;
}

int lrq_utf8_valid(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t b = s[i];
        if (b < 0x80) { i++; continue; }
        size_t len;
        uint32_t cp, min;
        if (b >= 0xC2 && b <= 0xDF) { len = 2; cp = b & 0x1Fu; min = 0x80; }
        else if (b >= 0xE0 && b <= 0xEF) { len = 3; cp = b & 0x0Fu; min = 0x800; }
        else if (b >= 0xF0 && b <= 0xF4) { len = 4; cp = b & 0x07u; min = 0x10000; }
        else return 0;
        if (len > n - i) return 0;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return 0;
            cp = (cp << 6) | (s[i + k] & 0x3Fu);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
        i += len;
    }
    return 1;
}

/* Bytes GPT-2 keeps as themselves: '!'..'~', 0xA1..0xAC, 0xAE..0xFF. */
static int gpt2_keeps(unsigned b) {
    return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

uint32_t lrq_gpt2_byte_cp(uint8_t b) {
    if (gpt2_keeps(b)) return b;
    /* The remaining bytes are numbered in increasing order from U+0100:
     * 0x00..0x20 -> 0..32, 0x7F..0xA0 -> 33..66, 0xAD -> 67. */
    if (b <= 0x20) return 0x100u + b;
    if (b >= 0x7F && b <= 0xA0) return 0x100u + 33u + (b - 0x7Fu);
    return 0x100u + 67u; /* 0xAD */
}

int lrq_gpt2_cp_byte(uint32_t cp) {
    if (cp < 0x100) return gpt2_keeps(cp) ? (int)cp : -1;
    if (cp > 0x100 + 67) return -1;
    uint32_t k = cp - 0x100;
    if (k <= 32) return (int)k;
    if (k <= 66) return (int)(0x7F + (k - 33));
    return 0xAD;
}

int lrq_unicode_is_space(uint32_t cp) {
    if (cp <= 0x20) return cp == 0x20 || (cp >= 0x09 && cp <= 0x0D);
    if (cp < 0x85) return 0;
    switch (cp) {
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F:
    case 0x205F: case 0x3000:
        return 1;
    default:
        return cp >= 0x2000 && cp <= 0x200A;
    }
}

const char lrq_pcre_space_class[] =
    "\\t\\n\\x{0B}\\f\\r\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}"
    "\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}";

/* Code points assigned in Unicode 15.0 and 15.1 (Kawi, Nag Mundari, CJK
 * Extension H/I, new symbols, ...), by general category. PCRE2 releases with
 * Unicode 14 tables see them as unassigned (Cn). */
const char lrq_pcre_extra_L[] =
    "\\x{1123F}-\\x{11240}\\x{11F02}\\x{11F04}-\\x{11F10}\\x{11F12}-\\x{11F33}\\x{1342F}"
    "\\x{13441}-\\x{13446}\\x{1B132}\\x{1B155}\\x{1DF25}-\\x{1DF2A}\\x{1E030}-\\x{1E06D}"
    "\\x{1E4D0}-\\x{1E4EB}\\x{2B739}\\x{2EBF0}-\\x{2EE5D}\\x{31350}-\\x{323AF}";
const char lrq_pcre_extra_N[] =
    "\\x{11F50}-\\x{11F59}\\x{1D2C0}-\\x{1D2D3}\\x{1E4F0}-\\x{1E4F9}";
const char lrq_pcre_extra_M[] =
    "\\x{CF3}\\x{ECE}\\x{10EFD}-\\x{10EFF}\\x{11241}\\x{11F00}-\\x{11F01}\\x{11F03}"
    "\\x{11F34}-\\x{11F3A}\\x{11F3E}-\\x{11F42}\\x{13440}\\x{13447}-\\x{13455}\\x{1E08F}"
    "\\x{1E4EC}-\\x{1E4EF}";
const char lrq_pcre_extra_P[] =
    "\\x{11B00}-\\x{11B09}\\x{11F43}-\\x{11F4F}";
const char lrq_pcre_extra_S[] =
    "\\x{2FFC}-\\x{2FFF}\\x{31EF}\\x{1F6DC}\\x{1F774}-\\x{1F776}\\x{1F77B}-\\x{1F77F}"
    "\\x{1F7D9}\\x{1FA75}-\\x{1FA77}\\x{1FA87}-\\x{1FA88}\\x{1FAAD}-\\x{1FAAF}"
    "\\x{1FABB}-\\x{1FABD}\\x{1FABF}\\x{1FACE}-\\x{1FACF}\\x{1FADA}-\\x{1FADB}"
    "\\x{1FAE8}\\x{1FAF7}-\\x{1FAF8}";
