/* test_tokenizer.c — tokenizers against llama.cpp's own outputs:
 *  - every .inp/.out pair shipped with the vocab-only GGUFs (qwen3, llama-spm,
 *    deepseek-llm, deepseek-coder, gpt-2), read the way llama.cpp's
 *    test-tokenizer-0 reads them;
 *  - 200,000 bytes of WikiText-2 with the Qwen3 vocab, from the GGUF and from
 *    tokenizer.json;
 *  - stories260K's vocab from its GGUF and from tok512.bin on TinyStories, and
 *    the golden prompt ids;
 *  - the Llama-2 32k tokenizer.bin against the llama-spm GGUF;
 *  - detokenization round trips, special-token parsing;
 *  - malformed inputs (truncated/inconsistent files) fail cleanly. */
#define _POSIX_C_SOURCE 200809L
#include "testlib.h"

#include "tok/vocab.h"
#include "io/gguf.h"
#include "core/core.h"
#include "core/mapfile.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- helpers ---- */

static lrq_vocab *load_gguf_vocab(const char *rel) {
    lrq_gguf *g = NULL;
    lrq_vocab *v = NULL;
    if (lrq_gguf_open(&g, test_shared(rel))) {
        CHECKF(0, "open %s: %s", rel, lrq_err_get());
        return NULL;
    }
    if (lrq_vocab_from_gguf(&v, g)) CHECKF(0, "vocab %s: %s", rel, lrq_err_get());
    lrq_gguf_close(g);
    return v;
}

static char *slurp(const char *path, size_t *n) {
    char *s = lrq_read_file(path, n);
    CHECKF(s != NULL, "read %s: %s", path, lrq_err_get());
    return s;
}

/* Parse whitespace-separated integers. */
static int32_t *parse_ids(const char *s, size_t len, size_t *n) {
    size_t cap = 16;
    int32_t *v = malloc(cap * sizeof *v);
    *n = 0;
    size_t i = 0;
    while (i < len) {
        while (i < len && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')) i++;
        if (i >= len) break;
        long x = 0;
        int neg = 0;
        if (s[i] == '-') { neg = 1; i++; }
        while (i < len && s[i] >= '0' && s[i] <= '9') x = x * 10 + (s[i++] - '0');
        if (*n == cap) { cap *= 2; v = realloc(v, cap * sizeof *v); }
        v[(*n)++] = (int32_t)(neg ? -x : x);
        while (i < len && s[i] != ' ' && s[i] != '\n' && s[i] != '\r' && s[i] != '\t') i++; /* junk */
    }
    return v;
}

static int tokenize(const lrq_vocab *v, const char *s, size_t n, int add_special, int parse_special,
                    int32_t **ids, size_t *nids) {
    int r = lrq_tokenize(v, s, n, add_special, parse_special, ids, nids);
    CHECKF(r == 0, "tokenize: %s", lrq_err_get());
    return r;
}

static int same_ids(const int32_t *a, size_t na, const int32_t *b, size_t nb) {
    return na == nb && (na == 0 || memcmp(a, b, na * sizeof *a) == 0);
}

static void print_ids(const char *what, const int32_t *a, size_t n) {
    fprintf(stderr, "    %s:", what);
    for (size_t i = 0; i < n && i < 40; i++) fprintf(stderr, " %d", (int)a[i]);
    fprintf(stderr, "%s\n", n > 40 ? " ..." : "");
}

/* Concatenate the pieces of ids (special tokens not rendered). */
static char *detok(const lrq_vocab *v, const int32_t *ids, size_t n, size_t *len) {
    size_t cap = 64, o = 0;
    char *s = malloc(cap);
    for (size_t i = 0; i < n; i++) {
        int k = lrq_token_to_piece(v, ids[i], NULL, 0, 0);
        CHECK(k >= 0);
        if (k < 0) continue;
        while (o + (size_t)k + 1 > cap) { cap *= 2; s = realloc(s, cap); }
        int k2 = lrq_token_to_piece(v, ids[i], s + o, cap - o, 0);
        CHECK(k2 == k);
        o += (size_t)k;
    }
    s[o] = 0;
    *len = o;
    return s;
}

/* ---- .inp/.out vectors ---- */

typedef struct {
    char *inp, *out;
    size_t n;                 /* number of tests */
    const char **s; size_t *slen;
    const char **o; size_t *olen;
} vectors;

/* As test-tokenizer-0: inputs separated by "\n__ggml_vocab_test__\n" (the
 * last one ends at the last separator or the end of the file), one output
 * line per input. */
static int load_vectors(vectors *t, const char *inp_rel, const char *out_rel) {
    memset(t, 0, sizeof *t);
    size_t ni, no;
    t->inp = slurp(test_shared(inp_rel), &ni);
    t->out = slurp(test_shared(out_rel), &no);
    if (!t->inp || !t->out) return -1;
    static const char sep[] = "\n__ggml_vocab_test__\n";
    size_t sl = sizeof sep - 1, cap = 64;
    t->s = malloc(cap * sizeof *t->s);
    t->slen = malloc(cap * sizeof *t->slen);
    size_t pos = 0;
    while (pos < ni) {
        if (t->n == cap) {
            cap *= 2;
            t->s = realloc(t->s, cap * sizeof *t->s);
            t->slen = realloc(t->slen, cap * sizeof *t->slen);
        }
        const char *hit = NULL;
        for (size_t k = pos; k + sl <= ni; k++)
            if (memcmp(t->inp + k, sep, sl) == 0) { hit = t->inp + k; break; }
        t->s[t->n] = t->inp + pos;
        if (!hit) { t->slen[t->n++] = ni - pos; break; }
        t->slen[t->n++] = (size_t)(hit - (t->inp + pos));
        pos = (size_t)(hit - t->inp) + sl;
    }
    size_t nl = 0;
    for (size_t k = 0; k < no; k++) nl += t->out[k] == '\n';
    if (no && t->out[no - 1] != '\n') nl++;
    t->o = malloc((nl + 1) * sizeof *t->o);
    t->olen = malloc((nl + 1) * sizeof *t->olen);
    size_t line = 0, st = 0;
    for (size_t k = 0; k <= no; k++) {
        if (k == no || t->out[k] == '\n') {
            if (k == no && k == st) break;
            t->o[line] = t->out + st;
            t->olen[line++] = k - st;
            st = k + 1;
        }
    }
    CHECKF(line == t->n, "%s: %zu inputs but %zu output lines", inp_rel, t->n, line);
    return line == t->n ? 0 : -1;
}

static void free_vectors(vectors *t) {
    free(t->inp); free(t->out); free(t->s); free(t->slen); free(t->o); free(t->olen);
}

/* Tokenize every input with v and compare with the expected ids; check the
 * pieces give the input back (strip_space: SPM's added leading space). */
static void check_vectors(const lrq_vocab *v, const char *inp_rel, const char *out_rel, int strip_space) {
    vectors t;
    if (load_vectors(&t, inp_rel, out_rel)) { free_vectors(&t); return; }
    int bad = 0;
    for (size_t i = 0; i < t.n; i++) {
        size_t ne, ng;
        int32_t *exp = parse_ids(t.o[i], t.olen[i], &ne);
        int32_t *got = NULL;
        if (tokenize(v, t.s[i], t.slen[i], 0, 0, &got, &ng) == 0) {
            if (!same_ids(exp, ne, got, ng)) {
                CHECKF(0, "%s: test %zu '%.*s' differs", inp_rel, i, (int)t.slen[i], t.s[i]);
                print_ids("expected", exp, ne);
                print_ids("got     ", got, ng);
                bad++;
            }
            size_t dl;
            char *d = detok(v, got, ng, &dl);
            const char *dd = d;
            if (strip_space && dl > 0 && d[0] == ' ') { dd++; dl--; }
            CHECKF(dl == t.slen[i] && memcmp(dd, t.s[i], dl) == 0, "%s: test %zu does not detokenize back: '%s'",
                   inp_rel, i, dd);
            free(d);
        }
        free(exp);
        free(got);
    }
    fprintf(stderr, "    %s: %zu tests, %d mismatches\n", inp_rel, t.n, bad);
    free_vectors(&t);
}

static void test_qwen3_vectors(void) {
    lrq_vocab *v = load_gguf_vocab("tokenizers/qwen3/ggml-vocab-qwen3.gguf");
    if (!v) return;
    CHECK(lrq_vocab_kind(v) == LRQ_VOCAB_BPE);
    CHECK(lrq_vocab_n_tokens(v) == 151669);
    CHECK(lrq_vocab_add_bos(v) == 0);
    CHECK(lrq_vocab_bos(v) == 151643);
    CHECK(lrq_vocab_eos(v) == 151645);
    check_vectors(v, "tokenizers/qwen3/ggml-vocab-qwen3.gguf.inp", "tokenizers/qwen3/ggml-vocab-qwen3.gguf.out", 0);
    lrq_vocab_free(v);
}

static void test_spm_vectors(void) {
    lrq_vocab *v = load_gguf_vocab("tokenizers/gguf-vocab-only/ggml-vocab-llama-spm.gguf");
    if (!v) return;
    CHECK(lrq_vocab_kind(v) == LRQ_VOCAB_SPM);
    CHECK(lrq_vocab_add_bos(v) == 1 && lrq_vocab_bos(v) == 1 && lrq_vocab_eos(v) == 2);
    check_vectors(v, "tokenizers/gguf-vocab-only/ggml-vocab-llama-spm.gguf.inp",
                  "tokenizers/gguf-vocab-only/ggml-vocab-llama-spm.gguf.out", 1);
    lrq_vocab_free(v);
}

static void test_deepseek_llm_vectors(void) {
    lrq_vocab *v = load_gguf_vocab("tokenizers/gguf-vocab-only/ggml-vocab-deepseek-llm.gguf");
    if (!v) return;
    check_vectors(v, "tokenizers/gguf-vocab-only/ggml-vocab-deepseek-llm.gguf.inp",
                  "tokenizers/gguf-vocab-only/ggml-vocab-deepseek-llm.gguf.out", 0);
    lrq_vocab_free(v);
}

static void test_deepseek_coder_vectors(void) {
    lrq_vocab *v = load_gguf_vocab("tokenizers/gguf-vocab-only/ggml-vocab-deepseek-coder.gguf");
    if (!v) return;
    check_vectors(v, "tokenizers/gguf-vocab-only/ggml-vocab-deepseek-coder.gguf.inp",
                  "tokenizers/gguf-vocab-only/ggml-vocab-deepseek-coder.gguf.out", 0);
    lrq_vocab_free(v);
}

static void test_gpt2_vectors(void) {
    lrq_vocab *v = load_gguf_vocab("tokenizers/gguf-vocab-only/ggml-vocab-gpt-2.gguf");
    if (!v) return;
    check_vectors(v, "tokenizers/gguf-vocab-only/ggml-vocab-gpt-2.gguf.inp",
                  "tokenizers/gguf-vocab-only/ggml-vocab-gpt-2.gguf.out", 0);
    lrq_vocab_free(v);
}

/* ---- WikiText-2 with Qwen3 ---- */

static void check_wiki(const lrq_vocab *v, const char *what) {
    size_t tl, el;
    char *text = slurp(test_shared("data/wikitext2/wiki.test.raw"), &tl);
    char *exps = slurp(test_shared("tokenizers/qwen3/wiki.test.raw.first200000B.qwen3.ids"), &el);
    if (text && exps) {
        CHECK(tl >= 200000);
        size_t ne, ng;
        int32_t *exp = parse_ids(exps, el, &ne);
        int32_t *got = NULL;
        if (tokenize(v, text, 200000, 0, 0, &got, &ng) == 0) {
            size_t first = 0;
            while (first < ne && first < ng && exp[first] == got[first]) first++;
            CHECKF(same_ids(exp, ne, got, ng), "%s: %zu ids expected, %zu got, first difference at %zu", what, ne,
                   ng, first);
            size_t dl;
            char *d = detok(v, got, ng, &dl);
            CHECKF(dl == 200000 && memcmp(d, text, dl) == 0, "%s: wiki text does not detokenize back", what);
            free(d);
        }
        fprintf(stderr, "    %s: %zu ids\n", what, ne);
        free(exp);
        free(got);
    }
    free(text);
    free(exps);
}

static void test_qwen3_wiki_gguf(void) {
    lrq_vocab *v = load_gguf_vocab("tokenizers/qwen3/ggml-vocab-qwen3.gguf");
    if (!v) return;
    check_wiki(v, "qwen3 gguf");
    lrq_vocab_free(v);
}

static lrq_vocab *load_qwen3_hf(void) {
    lrq_vocab *v = NULL;
    if (lrq_vocab_from_hf(&v, test_shared("tokenizers/qwen3/tokenizer.json"),
                          test_shared("tokenizers/qwen3/tokenizer_config.json")))
        CHECKF(0, "qwen3 tokenizer.json: %s", lrq_err_get());
    return v;
}

static void test_qwen3_wiki_hf(void) {
    lrq_vocab *v = load_qwen3_hf();
    if (!v) return;
    check_wiki(v, "qwen3 tokenizer.json");
    lrq_vocab_free(v);
}

/* The HF vocabulary is the GGUF one: same texts, merges, specials, vectors. */
static void test_qwen3_hf_matches_gguf(void) {
    lrq_vocab *g = load_gguf_vocab("tokenizers/qwen3/ggml-vocab-qwen3.gguf");
    lrq_vocab *h = load_qwen3_hf();
    if (g && h) {
        CHECK(lrq_vocab_n_tokens(g) == lrq_vocab_n_tokens(h));
        CHECK(lrq_vocab_kind(h) == LRQ_VOCAB_BPE);
        CHECK(strcmp(lrq_vocab_pre(h), "qwen2") == 0);
        CHECK(lrq_vocab_add_bos(h) == 0);
        CHECK(lrq_vocab_eos(h) == 151645);
        int bad_text = 0, bad_type = 0;
        for (int32_t i = 0; i < lrq_vocab_n_tokens(g) && i < lrq_vocab_n_tokens(h); i++) {
            size_t a, b;
            const char *ta = lrq_vocab_token_text(g, i, &a), *tb = lrq_vocab_token_text(h, i, &b);
            if (a != b || memcmp(ta, tb, a) != 0) bad_text++;
            int ya = lrq_vocab_token_type(g, i), yb = lrq_vocab_token_type(h, i);
            /* The converter now marks "<|...|>" added tokens CONTROL even when
             * not special; this GGUF predates that (USER_DEFINED). Both load
             * to the same behaviour (llama.cpp forces FIM tokens CONTROL). */
            if (ya != yb && !(ya == LRQ_TOKEN_USER_DEFINED && yb == LRQ_TOKEN_CONTROL)) bad_type++;
            CHECK(lrq_vocab_is_control(g, i) == lrq_vocab_is_control(h, i));
        }
        CHECKF(bad_text == 0, "%d token texts differ", bad_text);
        CHECKF(bad_type == 0, "%d token types differ", bad_type);
        CHECK(lrq_vocab_n_merges(g) == lrq_vocab_n_merges(h) && lrq_vocab_n_merges(g) == 151387);
        int bad_merge = 0;
        for (int32_t r = 0; r < lrq_vocab_n_merges(g); r++) {
            int32_t l1, r1, l2, r2;
            if (lrq_vocab_merge(g, r, &l1, &r1) || lrq_vocab_merge(h, r, &l2, &r2) || l1 != l2 || r1 != r2) bad_merge++;
        }
        CHECKF(bad_merge == 0, "%d merges differ", bad_merge);
        check_vectors(h, "tokenizers/qwen3/ggml-vocab-qwen3.gguf.inp", "tokenizers/qwen3/ggml-vocab-qwen3.gguf.out", 0);
    }
    lrq_vocab_free(g);
    lrq_vocab_free(h);
}

/* Special tokens: control tokens only with parse_special, user-defined ones
 * always; pieces of control tokens only when asked for. */
static void test_qwen3_special(void) {
    lrq_vocab *v = load_gguf_vocab("tokenizers/qwen3/ggml-vocab-qwen3.gguf");
    if (!v) return;
    const char *s = "<|im_start|>user\nHi<think>x</think><|fim_prefix|>";
    int32_t *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    if (tokenize(v, s, strlen(s), 1, 1, &a, &na) == 0 && tokenize(v, s, strlen(s), 1, 0, &b, &nb) == 0) {
        /* parse_special: <|im_start|> and <|fim_prefix|> are single tokens */
        CHECK(na >= 2 && a[0] == 151644 && a[na - 1] == 151659);
        int think = 0, ethink = 0;
        for (size_t i = 0; i < na; i++) { think += a[i] == 151667; ethink += a[i] == 151668; }
        CHECK(think == 1 && ethink == 1);
        /* no parse_special: control texts are plain text, user-defined still matched */
        int has_ctrl = 0;
        think = ethink = 0;
        for (size_t i = 0; i < nb; i++) {
            has_ctrl |= b[i] == 151644 || b[i] == 151659;
            think += b[i] == 151667;
            ethink += b[i] == 151668;
        }
        CHECK(!has_ctrl && think == 1 && ethink == 1);
        size_t dl;
        char *d = detok(v, b, nb, &dl);
        CHECK(dl == strlen(s) && memcmp(d, s, dl) == 0);
        free(d);
        char buf[32];
        CHECK(lrq_token_to_piece(v, 151644, buf, sizeof buf, 0) == 0);
        CHECK(lrq_token_to_piece(v, 151644, buf, sizeof buf, 1) == 12 && memcmp(buf, "<|im_start|>", 12) == 0);
        CHECK(lrq_token_to_piece(v, 151667, buf, sizeof buf, 0) == 7 && memcmp(buf, "<think>", 7) == 0);
        CHECK(lrq_token_to_piece(v, 151659, buf, sizeof buf, 0) == 0); /* FIM: forced control */
        CHECK(lrq_token_to_piece(v, 151644, buf, 3, 1) == 12 && memcmp(buf, "<|i", 3) == 0);
        CHECK(lrq_token_to_piece(v, -1, buf, sizeof buf, 1) == -1);
        CHECK(lrq_token_to_piece(v, 151669, buf, sizeof buf, 1) == -1);
        CHECK(lrq_vocab_is_eog(v, 151645) && lrq_vocab_is_eog(v, 151643) && !lrq_vocab_is_eog(v, 151644));
    }
    free(a);
    free(b);
    /* add_special: Qwen adds nothing; empty text gives no ids */
    if (tokenize(v, "", 0, 1, 0, &a, &na) == 0) CHECK(na == 0);
    free(a);
    /* invalid UTF-8: every bad byte becomes U+FFFD, as in llama.cpp */
    const char bad[] = "a\xff" "b\xc3";
    int32_t *c = NULL, *e = NULL;
    size_t nc = 0, ne = 0;
    if (tokenize(v, bad, sizeof bad - 1, 0, 0, &c, &nc) == 0 &&
        tokenize(v, "a\xef\xbf\xbd" "b\xef\xbf\xbd", 8, 0, 0, &e, &ne) == 0)
        CHECK(same_ids(c, nc, e, ne));
    free(c);
    free(e);
    lrq_vocab_free(v);
}

/* ---- stories260K ---- */

static void test_stories260k(void) {
    lrq_vocab *g = load_gguf_vocab("models/stories260K/stories260K-f32.gguf");
    lrq_vocab *b = NULL;
    if (lrq_vocab_from_llama2c(&b, test_shared("models/stories260K/tok512.bin"), 512))
        CHECKF(0, "tok512.bin: %s", lrq_err_get());
    if (g && b) {
        CHECK(lrq_vocab_n_tokens(g) == 512 && lrq_vocab_n_tokens(b) == 512);
        for (int32_t i = 0; i < 512; i++) {
            size_t a, c;
            const char *ta = lrq_vocab_token_text(g, i, &a), *tb = lrq_vocab_token_text(b, i, &c);
            CHECKF(a == c && memcmp(ta, tb, a) == 0, "token %d text differs", (int)i);
            CHECK(lrq_vocab_token_type(g, i) == lrq_vocab_token_type(b, i));
            CHECK(lrq_vocab_token_score(g, i) == lrq_vocab_token_score(b, i));
        }
        size_t tl;
        char *text = slurp(test_shared("data/tinystories/TinyStories-valid.first22docs.txt"), &tl);
        if (text) {
            int32_t *x = NULL, *y = NULL;
            size_t nx = 0, ny = 0;
            if (tokenize(g, text, tl, 1, 0, &x, &nx) == 0 && tokenize(b, text, tl, 1, 0, &y, &ny) == 0) {
                CHECK(same_ids(x, nx, y, ny));
                CHECK(nx > 3000 && x[0] == 1);
                size_t dl;
                char *d = detok(g, x + 1, nx - 1, &dl); /* after BOS, minus the prefix space */
                CHECK(dl == tl + 1 && d[0] == ' ' && memcmp(d + 1, text, tl) == 0);
                free(d);
                fprintf(stderr, "    TinyStories: %zu ids\n", nx);
            }
            free(x);
            free(y);
        }
        free(text);

        /* golden: the prompt with BOS */
        size_t gl;
        char *gold = slurp(test_shared("golden/stories260K/ids-s260-F32.txt"), &gl);
        if (gold) {
            size_t l1 = 0;
            while (l1 < gl && gold[l1] != '\n') l1++;
            size_t ne;
            int32_t *exp = parse_ids(gold, l1, &ne);
            const char *prompt = "Once upon a time, there was a little girl named Lily.";
            for (int which = 0; which < 2; which++) {
                int32_t *got = NULL;
                size_t ng = 0;
                if (tokenize(which ? b : g, prompt, strlen(prompt), 1, 0, &got, &ng) == 0) {
                    CHECKF(ne == 16 && same_ids(exp, ne, got, ng), "prompt ids differ (%s)", which ? "bin" : "gguf");
                    if (!same_ids(exp, ne, got, ng)) { print_ids("expected", exp, ne); print_ids("got", got, ng); }
                }
                free(got);
            }
            free(exp);
        }
        free(gold);
    }
    lrq_vocab_free(g);
    lrq_vocab_free(b);
}

/* ---- Llama-2 32k tokenizer.bin == llama-spm GGUF ---- */

static void test_llama2_bin(void) {
    lrq_vocab *b = NULL;
    if (lrq_vocab_from_llama2c(&b, test_shared("tokenizers/llama2-sp32k/tokenizer.bin"), 32000)) {
        CHECKF(0, "tokenizer.bin: %s", lrq_err_get());
        return;
    }
    lrq_vocab *g = load_gguf_vocab("tokenizers/gguf-vocab-only/ggml-vocab-llama-spm.gguf");
    if (g) {
        vectors t;
        if (load_vectors(&t, "tokenizers/gguf-vocab-only/ggml-vocab-llama-spm.gguf.inp",
                         "tokenizers/gguf-vocab-only/ggml-vocab-llama-spm.gguf.out") == 0) {
            for (size_t i = 0; i < t.n; i++) {
                int32_t *x = NULL, *y = NULL;
                size_t nx = 0, ny = 0;
                if (tokenize(b, t.s[i], t.slen[i], 1, 0, &x, &nx) == 0 &&
                    tokenize(g, t.s[i], t.slen[i], 1, 0, &y, &ny) == 0)
                    CHECKF(same_ids(x, nx, y, ny), "test %zu differs between tokenizer.bin and GGUF", i);
                free(x);
                free(y);
            }
        }
        free_vectors(&t);
        for (int32_t i = 0; i < 32000; i++) {
            size_t a, c;
            const char *ta = lrq_vocab_token_text(g, i, &a), *tb = lrq_vocab_token_text(b, i, &c);
            if (a != c || memcmp(ta, tb, a) != 0 || lrq_vocab_token_type(g, i) != lrq_vocab_token_type(b, i)) {
                CHECKF(0, "token %d differs", (int)i);
                break;
            }
        }
    }
    check_vectors(b, "tokenizers/gguf-vocab-only/ggml-vocab-llama-spm.gguf.inp",
                  "tokenizers/gguf-vocab-only/ggml-vocab-llama-spm.gguf.out", 1);
    lrq_vocab_free(b);
    lrq_vocab_free(g);
}

/* ---- malformed inputs ---- */

#define TMPDIR_ "/tmp"

static void write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return;
    CHECK(fwrite(data, 1, n, f) == n);
    fclose(f);
}

static void expect_error_naming(int rc, const char *name) {
    CHECK(rc == -1);
    if (getenv("LRQ_TEST_VERBOSE")) fprintf(stderr, "    expected error: %s\n", lrq_err_get());
    CHECKF(strstr(lrq_err_get(), name) != NULL, "error '%s' does not name '%s'", lrq_err_get(), name);
}

static void test_bad_llama2c(void) {
    size_t n;
    char *bin = slurp(test_shared("models/stories260K/tok512.bin"), &n);
    if (!bin) return;
    char path[256];
    snprintf(path, sizeof path, "%s/lrq_tok_trunc_%d.bin", TMPDIR_, (int)getpid());
    lrq_vocab *v = NULL;
    /* truncated at several places, including inside a length field and a text */
    size_t cuts[] = { 0, 2, 4, 7, 10, 15, n / 2, n - 1 };
    for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
        write_file(path, bin, cuts[k]);
        v = NULL;
        expect_error_naming(lrq_vocab_from_llama2c(&v, path, 512), path);
        CHECK(v == NULL);
    }
    /* whole file but the wrong vocabulary size either way */
    write_file(path, bin, n);
    expect_error_naming(lrq_vocab_from_llama2c(&v, path, 600), path);
    expect_error_naming(lrq_vocab_from_llama2c(&v, path, 500), path);
    expect_error_naming(lrq_vocab_from_llama2c(&v, path, 0), path);
    /* a length field pointing past the end */
    memset(bin + 4 + 4, 0xFF, 4);
    write_file(path, bin, n);
    expect_error_naming(lrq_vocab_from_llama2c(&v, path, 512), path);
    expect_error_naming(lrq_vocab_from_llama2c(&v, "/nonexistent/tok.bin", 512), "/nonexistent/tok.bin");
    remove(path);
    free(bin);
}

static void test_bad_hf(void) {
    char path[256];
    snprintf(path, sizeof path, "%s/lrq_tok_bad_%d.json", TMPDIR_, (int)getpid());
    lrq_vocab *v = NULL;
    const char *cases[] = {
        "{\"version\": \"1.0\"}",                                                   /* no model */
        "{\"model\": {\"type\": \"BPE\", \"merges\": []}}",                          /* no vocab */
        "{\"model\": {\"type\": \"Unigram\", \"vocab\": []}}",                       /* unsupported */
        "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1, \"ab\": 2}, \"merges\": [\"a c\"]},"
        " \"pre_tokenizer\": {\"type\": \"ByteLevel\"}}",                            /* merge with unknown token */
        "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 0}, \"merges\": []},"
        " \"pre_tokenizer\": {\"type\": \"ByteLevel\"}}",                            /* id used twice */
        "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1}, \"merges\": [\"ab\"]},"
        " \"pre_tokenizer\": {\"type\": \"ByteLevel\"}}",                            /* merge without space */
        "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 2000000000}, \"merges\": []},"
        " \"pre_tokenizer\": {\"type\": \"ByteLevel\"}}",                            /* absurd id */
        "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1}, \"merges\": []},"
        " \"pre_tokenizer\": {\"type\": \"Whitespace\"}, \"decoder\": {\"type\": \"ByteLevel\"}}", /* unknown pre */
        "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": -1}, \"merges\": []}}",
        "{\"model\": ",                                                               /* not JSON */
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        write_file(path, cases[k], strlen(cases[k]));
        v = NULL;
        expect_error_naming(lrq_vocab_from_hf(&v, path, NULL), path);
        CHECK(v == NULL);
    }
    /* a minimal valid byte-level tokenizer.json works */
    const char *ok = "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1, \"ab\": 2, \"\\u0120\": 3},"
                     " \"merges\": [[\"a\", \"b\"]]}, \"pre_tokenizer\": {\"type\": \"ByteLevel\"}}";
    write_file(path, ok, strlen(ok));
    if (lrq_vocab_from_hf(&v, path, NULL) == 0) {
        int32_t *ids = NULL;
        size_t ni = 0;
        if (tokenize(v, "ab ba", 5, 1, 0, &ids, &ni) == 0) {
            /* "ab" | " ba" (Ġ b a; no merge for "Ġb"/"ba") */
            int32_t exp[] = { 2, 3, 1, 0 };
            CHECK(same_ids(ids, ni, exp, 4));
        }
        free(ids);
        lrq_vocab_free(v);
    } else {
        CHECKF(0, "minimal tokenizer.json: %s", lrq_err_get());
    }
    remove(path);
}

static void test_bad_gguf(void) {
    char path[256];
    snprintf(path, sizeof path, "%s/lrq_tok_bad_%d.gguf", TMPDIR_, (int)getpid());
    const char *toks[] = { "a", "b", "ab", "<s>", "</s>" };
    const char *merges_bad[] = { "a b", "a zz" };
    const char *merges_ok[] = { "a b" };
    float scores[5] = { 0, 0, 1, 0, 0 }, scores4[4] = { 0 };
    int32_t types[5] = { 1, 1, 1, 3, 3 };
    for (int c = 0; c < 6; c++) {
        lrq_gguf_writer *w = lrq_gguf_writer_new();
        CHECK(w != NULL);
        if (!w) return;
        int bpe = c >= 3;
        lrq_gguf_writer_set_str(w, "tokenizer.ggml.model", c == 5 ? "t5" : bpe ? "gpt2" : "llama");
        if (bpe) lrq_gguf_writer_set_str(w, "tokenizer.ggml.pre", "gpt-2");
        lrq_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", 5, toks);
        if (c == 0) lrq_gguf_writer_set_arr(w, "tokenizer.ggml.scores", LRQ_GGUF_FLOAT32, 4, scores4);
        else lrq_gguf_writer_set_arr(w, "tokenizer.ggml.scores", LRQ_GGUF_FLOAT32, 5, scores);
        lrq_gguf_writer_set_arr(w, "tokenizer.ggml.token_type", LRQ_GGUF_INT32, c == 1 ? 3 : 5, types);
        if (c == 2) lrq_gguf_writer_set_str(w, "tokenizer.ggml.scores", "oops");
        if (c == 3) lrq_gguf_writer_set_arr_str(w, "tokenizer.ggml.merges", 2, merges_bad);
        if (c == 4) lrq_gguf_writer_set_arr_str(w, "tokenizer.ggml.merges", 1, merges_ok);
        CHECKF(lrq_gguf_writer_write(w, path) == 0, "write: %s", lrq_err_get());
        lrq_gguf_writer_free(w);
        lrq_gguf *g = NULL;
        if (lrq_gguf_open(&g, path)) { CHECKF(0, "open: %s", lrq_err_get()); continue; }
        lrq_vocab *v = NULL;
        int rc = lrq_vocab_from_gguf(&v, g);
        if (c == 4) {
            CHECKF(rc == 0, "valid tiny BPE: %s", lrq_err_get());
            int32_t *ids = NULL;
            size_t ni = 0;
            if (rc == 0 && tokenize(v, "ab", 2, 0, 0, &ids, &ni) == 0) CHECK(ni == 1 && ids[0] == 2);
            free(ids);
        } else {
            expect_error_naming(rc, path);
            CHECK(v == NULL);
        }
        lrq_vocab_free(v);
        lrq_gguf_close(g);
    }
    remove(path);
}

int main(void) {
    TEST_RUN(test_qwen3_vectors);
    TEST_RUN(test_spm_vectors);
    TEST_RUN(test_deepseek_llm_vectors);
    TEST_RUN(test_deepseek_coder_vectors);
    TEST_RUN(test_gpt2_vectors);
    TEST_RUN(test_qwen3_special);
    TEST_RUN(test_qwen3_wiki_gguf);
    TEST_RUN(test_qwen3_wiki_hf);
    TEST_RUN(test_qwen3_hf_matches_gguf);
    TEST_RUN(test_stories260k);
    TEST_RUN(test_llama2_bin);
    TEST_RUN(test_bad_llama2c);
    TEST_RUN(test_bad_hf);
    TEST_RUN(test_bad_gguf);
    return test_finish();
}
