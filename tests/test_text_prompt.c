/* test_text_prompt.c — `-f` reads a text as llama.cpp's common -f option
 * does: exactly one trailing '\n' is removed (lrq_text_load_prompt), and
 * lrq_perplexity makes floor(N/CTX) chunks of what is left. The text is
 * built so that WITH its final newline it has exactly k*CTX tokens: a
 * reader keeping the newline would make k chunks, llama.cpp makes k-1. */
#define _POSIX_C_SOURCE 200809L
#include "testlib.h"
#include "lrq.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { CTX = 64 };

static size_t count_tokens(const lrq_vocab *v, const char *s, size_t n) {
    int32_t *ids;
    size_t k = 0;
    if (lrq_tokenize(v, s, n, 1, 0, &ids, &k)) return 0;
    free(ids);
    return k;
}

static int write_text(const char *path, const char *s, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(s, 1, n, f);
    return fclose(f) == 0 && w == n ? 0 : -1;
}

static void test_strip_rules(void) {
    char path[] = "/tmp/lrq-prompt-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    static const struct { const char *in, *want; } cases[] = {
        { "abc\n", "abc" }, { "abc\n\n", "abc\n" }, { "abc\r\n", "abc\r" }, { "abc", "abc" }, { "\n\nx\n", "\n\nx" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK(write_text(path, cases[i].in, strlen(cases[i].in)) == 0);
        char *buf;
        size_t len;
        CHECKF(lrq_text_load_prompt(path, &buf, &len) == 0, "%s", lrq_last_error());
        CHECKF(len == strlen(cases[i].want) && memcmp(buf, cases[i].want, len) == 0 && buf[len] == 0, "case %zu", i);
        free(buf);
        /* the verbatim reader keeps every byte */
        CHECK(lrq_text_load(path, &buf, &len) == 0 && len == strlen(cases[i].in));
        free(buf);
    }
    CHECK(write_text(path, "\n", 1) == 0);
    char *buf;
    size_t len;
    CHECK(lrq_text_load_prompt(path, &buf, &len) == -1 && strstr(lrq_last_error(), path));
    unlink(path);
}

static void test_chunk_count(void) {
    lrq_model *m;
    if (lrq_model_load(&m, test_shared("models/stories260K/stories260K-f32.gguf"), NULL)) {
        CHECKF(0, "%s", lrq_last_error());
        return;
    }
    const lrq_vocab *v = lrq_model_vocab(m);
    char *text;
    size_t tl;
    CHECKF(lrq_text_load(test_shared("data/tinystories/TinyStories-valid.first22docs.txt"), &text, &tl) == 0, "%s",
           lrq_last_error());
    /* Find the shortest prefix P (cut at a space) such that P + "\n" has
     * exactly 3*CTX tokens, while P alone has fewer. */
    const size_t want = 3 * CTX;
    char *buf = malloc(tl + 2);
    size_t cut = 0;
    for (size_t i = 1; i < tl && !cut; i++) {
        if (text[i] != ' ') continue;
        memcpy(buf, text, i);
        buf[i] = '\n';
        if (count_tokens(v, buf, i + 1) == want && count_tokens(v, buf, i) < want) cut = i;
        if (count_tokens(v, buf, i) > want) break;
    }
    CHECKF(cut > 0, "no prefix of the text has exactly %zu tokens with a final newline", want);
    if (cut) {
        char path[] = "/tmp/lrq-prompt-XXXXXX";
        int fd = mkstemp(path);
        close(fd);
        CHECK(write_text(path, buf, cut + 1) == 0);
        char *p;
        size_t pl;
        CHECK(lrq_text_load_prompt(path, &p, &pl) == 0 && pl == cut);
        int32_t *ids;
        size_t n;
        CHECK(lrq_tokenize(v, p, pl, 1, 0, &ids, &n) == 0);
        /* llama.cpp's rule on the text it tokenizes: floor(N / CTX) */
        CHECKF(n < want && lrq_ppl_n_chunks(n, CTX) == want / CTX - 1, "%zu tokens after stripping", n);
        lrq_ctx *c;
        CHECK(lrq_ctx_new(&c, m, CTX, CTX, 1) == 0);
        lrq_ppl_params pp = { .n_ctx = CTX, .n_batch = CTX, .max_chunks = -1 };
        lrq_ppl_result r;
        CHECKF(lrq_perplexity(c, m, ids, n, &pp, &r) == 0, "%s", lrq_last_error());
        CHECKF(r.n_chunks == (int)(n / CTX) && r.n_chunks == (int)(want / CTX) - 1, "%d chunks", r.n_chunks);
        fprintf(stderr, "  prefix of %zu bytes: %zu tokens with the newline, %zu without: %d chunks of %d\n", cut,
                want, n, r.n_chunks, CTX);
        lrq_ctx_free(c);
        free(ids);
        free(p);
        unlink(path);
    }
    free(buf);
    free(text);
    lrq_model_free(m);
}

int main(void) {
    TEST_RUN(test_strip_rules);
    TEST_RUN(test_chunk_count);
    return test_finish();
}
