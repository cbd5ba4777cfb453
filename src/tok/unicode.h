/* unicode.h — the small amount of Unicode the tokenizers need: UTF-8 decoding
 * with llama.cpp's lenient rules, UTF-8 encoding, GPT-2's byte <-> unicode
 * table, llama.cpp's whitespace set, and PCRE2 class fragments for the
 * characters Unicode 15.0/15.1 assigned (llama.cpp's category table is Unicode
 * 15.1; PCRE2 10.42 ships Unicode 14 tables). */
#ifndef LRQ_UNICODE_H
#define LRQ_UNICODE_H

#include <stddef.h>
#include <stdint.h>

/* Code point used for an undecodable byte. */
#define LRQ_UNICODE_REPLACEMENT 0xFFFDu

/* Sequence length announced by a UTF-8 lead byte, the way llama.cpp splits
 * text into symbols: 0xxxxxxx and stray continuation bytes 10xxxxxx count 1,
 * 110xxxxx 2, 1110xxxx 3, 1111xxxx 4. No validation. */
static inline size_t lrq_utf8_seq_len(uint8_t lead) {
    if (lead < 0xC0) return 1;
    if (lead < 0xE0) return 2;
    if (lead < 0xF0) return 3;
    return 4;
}

/* Decode one code point from s[0..n) (n >= 1) with llama.cpp's rules: the
 * lead byte decides the length, continuation bytes must be 10xxxxxx, and
 * nothing else is checked (overlong forms and surrogates are accepted; a
 * 4-byte lead up to 0xF7 can give values above 0x10FFFF). An invalid or
 * truncated sequence yields U+FFFD and consumes one byte. *adv receives the
 * number of bytes consumed. */
uint32_t lrq_utf8_decode(const uint8_t *s, size_t n, size_t *adv);

/* Encode cp (any value <= 0x10FFFF, surrogates included, as llama.cpp does)
 * into out[0..4). Returns the byte count, or 0 for cp > 0x10FFFF. */
size_t lrq_utf8_encode(uint32_t cp, uint8_t out[4]);

/* 1 if s[0..n) is well-formed UTF-8 (shortest forms, no surrogates, <= 0x10FFFF). */
int lrq_utf8_valid(const uint8_t *s, size_t n);

/* GPT-2 byte-level BPE alphabet: byte b is written as code point
 * lrq_gpt2_byte_cp(b) (printable Latin-1 bytes map to themselves, the 68
 * others to U+0100.. in byte order). lrq_gpt2_cp_byte is the inverse, -1 for
 * a code point outside the alphabet. */
uint32_t lrq_gpt2_byte_cp(uint8_t b);
int lrq_gpt2_cp_byte(uint32_t cp);

/* llama.cpp's whitespace set (Unicode White_Space without U+001C..U+001F):
 * what its pre-tokenizers mean by \s. */
int lrq_unicode_is_space(uint32_t cp);

/* PCRE2 character-class fragment (ranges, no brackets) matching llama.cpp's
 * whitespace set; use inside [...] in place of \s. */
extern const char lrq_pcre_space_class[];

/* PCRE2 character-class fragments listing the code points Unicode 15.0/15.1
 * added to general category L (letters), N (numbers), M (marks),
 * P (punctuation) and S (symbols). Appending them to \p{X} inside a class
 * makes PCRE2 (Unicode 14 or newer tables) agree with llama.cpp's table. */
extern const char lrq_pcre_extra_L[];
extern const char lrq_pcre_extra_N[];
extern const char lrq_pcre_extra_M[];
extern const char lrq_pcre_extra_P[];
extern const char lrq_pcre_extra_S[];

#endif
