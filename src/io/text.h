/* text.h — loading evaluation/prompt text files: rejects empty files and
 * binary data (NUL bytes, invalid UTF-8) with a clear message. */
#ifndef LRQ_TEXT_H
#define LRQ_TEXT_H

#include <stddef.h>

/* Read `path` into a malloc'ed NUL-terminated buffer; -1 + "PATH: is a
 * folder, not a text file" / "PATH: empty file" / "PATH: not text: NUL byte at offset N" / "PATH: not text: invalid
 * UTF-8 at offset N". */
int lrq_text_load(const char *path, char **out, size_t *len);
/* As lrq_text_load, minus one trailing '\n' (llama.cpp's -f; see lrq.h). */
int lrq_text_load_prompt(const char *path, char **out, size_t *len);

/* Offset of the first invalid UTF-8 sequence in s[0..n), or n if valid. */
size_t lrq_utf8_check(const char *s, size_t n);

#endif
