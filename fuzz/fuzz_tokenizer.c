/* fuzz_tokenizer.c — libFuzzer target for the tokenizers and vocab loaders.
 * The first input byte picks the mode, the rest is the payload:
 *  - mode 0: tokenize the payload with real vocabularies (Qwen3, DeepSeek
 *    LLM/Coder, GPT-2 byte-level BPE; Llama-2 SentencePiece), flags from the
 *    mode byte. Every id must be in range, and for valid UTF-8 without
 *    special-token parsing the pieces must give the payload back (SPM: after
 *    its one prefix space, and only without a literal U+2581, which SPM
 *    renders as a space).
 *  - mode 1: the payload is a GGUF file: lrq_vocab_from_gguf must fail
 *    cleanly or give a vocab that tokenizes a few strings.
 *  - mode 2: the payload is a tokenizer.json: lrq_vocab_from_hf likewise.
 * The vocabularies are read from $LRQ_SHARED_DIR (default ../shared); if they
 * are missing, mode 0 is skipped. Build: cmake -DLRQ_FUZZ=ON with clang.
 */
#define _POSIX_C_SOURCE 200809L
#include "tok/vocab.h"
#include "io/gguf.h"
#include "tok/unicode.h"
#include "core/core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const VOCABS[] = {
    "tokenizers/qwen3/ggml-vocab-qwen3.gguf",
    "tokenizers/gguf-vocab-only/ggml-vocab-deepseek-llm.gguf",
    "tokenizers/gguf-vocab-only/ggml-vocab-deepseek-coder.gguf",
    "tokenizers/gguf-vocab-only/ggml-vocab-gpt-2.gguf",
    "tokenizers/gguf-vocab-only/ggml-vocab-llama-spm.gguf",
};
#define N_VOCABS (sizeof VOCABS / sizeof VOCABS[0])
static lrq_vocab *vocabs[N_VOCABS];
/* Mode 2 needs a path (lrq_vocab_from_hf reads a file); the file is written
 * per input and removed as soon as it has been read, so a run leaves nothing
 * in the temporary folder. */
static char tmp_json[512];

static void fail(const char *what) {
    fprintf(stderr, "fuzz_tokenizer: %s (last error: %s)\n", what, lrq_err_get());
    abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc; (void)argv;
    const char *dir = getenv("LRQ_SHARED_DIR");
    if (!dir) dir = "../shared";
    for (size_t i = 0; i < N_VOCABS; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, VOCABS[i]);
        lrq_gguf *g = NULL;
        if (lrq_gguf_open(&g, path) == 0) {
            if (lrq_vocab_from_gguf(&vocabs[i], g)) vocabs[i] = NULL;
            lrq_gguf_close(g);
        }
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(tmp_json, sizeof tmp_json, "%s/fuzz_tokenizer_%d.json", tmp && *tmp ? tmp : "/tmp", (int)getpid());
    return 0;
}

/* Tokenize and check ids; if want (non-NULL) the pieces must rebuild it. */
static void run(const lrq_vocab *v, const char *s, size_t n, int add_special, int parse_special, int roundtrip) {
    int32_t *ids = NULL;
    size_t ni = 0;
    if (lrq_tokenize(v, s, n, add_special, parse_special, &ids, &ni)) fail("tokenize failed");
    size_t cap = 4 * n + 64, o = 0;
    char *buf = malloc(cap);
    if (!buf) abort();
    for (size_t i = 0; i < ni; i++) {
        if (ids[i] < 0 || ids[i] >= lrq_vocab_n_tokens(v)) fail("id out of range");
        int k = lrq_token_to_piece(v, ids[i], NULL, 0, 1);
        if (k < 0) fail("token_to_piece failed");
        if (o + (size_t)k > cap) { cap = 2 * (o + (size_t)k); buf = realloc(buf, cap); if (!buf) abort(); }
        if (lrq_token_to_piece(v, ids[i], buf + o, cap - o, 1) != k) fail("token_to_piece length changed");
        o += (size_t)k;
    }
    if (roundtrip) {
        const char *b = buf;
        if (lrq_vocab_kind(v) == LRQ_VOCAB_SPM && lrq_vocab_add_space_prefix(v) && n > 0) {
            if (o == 0 || buf[0] != ' ') fail("SPM output lacks the prefix space");
            b++; o--;
        }
        if (o != n || memcmp(b, s, n) != 0) fail("pieces do not rebuild the input");
    }
    free(buf);
    free(ids);
}

static void exercise(const lrq_vocab *v) {
    static const char *const samples[] = { "", "Hello world", " a  b\n\n c", "\xff\xfe", "<s></s><|endoftext|>" };
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        int32_t *ids = NULL;
        size_t ni = 0;
        if (lrq_tokenize(v, samples[i], strlen(samples[i]), 0, 1, &ids, &ni) == 0) {
            for (size_t k = 0; k < ni; k++)
                if (ids[k] < 0 || ids[k] >= lrq_vocab_n_tokens(v)) fail("id out of range (loaded vocab)");
        }
        free(ids);
    }
    for (int32_t id = 0; id < lrq_vocab_n_tokens(v) && id < 4096; id++) {
        char piece[64];
        if (lrq_token_to_piece(v, id, piece, sizeof piece, 1) < 0) fail("token_to_piece on a valid id");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    uint8_t mode = data[0];
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    switch (mode % 3) {
    case 0: {
        int add_special = (mode >> 2) & 1, parse_special = (mode >> 3) & 1;
        int valid = lrq_utf8_valid((const uint8_t *)s, n);
        for (size_t i = 0; i < N_VOCABS; i++) {
            if (!vocabs[i]) continue;
            /* SPM renders U+2581 as a space, so a literal one cannot come back */
            int rt = valid && !add_special && !parse_special;
            if (lrq_vocab_kind(vocabs[i]) == LRQ_VOCAB_SPM && rt)
                for (size_t k = 0; k + 3 <= n; k++)
                    if (memcmp(s + k, "\xe2\x96\x81", 3) == 0) { rt = 0; break; }
            run(vocabs[i], s, n, add_special, parse_special, rt);
        }
        break;
    }
    case 1: {
        lrq_gguf *g = NULL;
        if (lrq_gguf_open_memory(&g, s, n, "fuzz.gguf") == 0) {
            lrq_vocab *v = NULL;
            if (lrq_vocab_from_gguf(&v, g) == 0) exercise(v);
            else if (!strstr(lrq_err_get(), "fuzz.gguf")) fail("error does not name the file");
            lrq_vocab_free(v);
            lrq_gguf_close(g);
        }
        break;
    }
    default: {
        FILE *f = fopen(tmp_json, "wb");
        if (!f) return 0;
        fwrite(s, 1, n, f);
        fclose(f);
        lrq_vocab *v = NULL;
        const int rc = lrq_vocab_from_hf(&v, tmp_json, NULL);
        /* The vocab holds no reference to the file: remove it before any
         * check can abort the run. */
        unlink(tmp_json);
        if (rc == 0) exercise(v);
        else if (!strstr(lrq_err_get(), tmp_json)) fail("error does not name the file");
        lrq_vocab_free(v);
        break;
    }
    }
    return 0;
}
