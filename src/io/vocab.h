/* vocab.h — tokenizers: SentencePiece-style (llama.cpp's "llama" model, byte
 * fallback) and byte-level BPE ("gpt2" model with pre-tokenizer regexes via
 * PCRE2), reproducing llama.cpp's token ids exactly.
 *
 * Sources: GGUF metadata (tokenizer.ggml.*), a Hugging Face tokenizer.json
 * (+ optional tokenizer_config.json), or a llama2.c tokenizer.bin.
 */
#ifndef LRQ_VOCAB_H
#define LRQ_VOCAB_H

#include <stddef.h>
#include <stdint.h>

struct lrq_gguf;

enum lrq_vocab_kind { LRQ_VOCAB_SPM = 1, LRQ_VOCAB_BPE = 2 };

/* llama.cpp's token attribute/type codes (tokenizer.ggml.token_type). */
enum lrq_token_type {
    LRQ_TOKEN_UNDEFINED = 0, LRQ_TOKEN_NORMAL = 1, LRQ_TOKEN_UNKNOWN = 2, LRQ_TOKEN_CONTROL = 3,
    LRQ_TOKEN_USER_DEFINED = 4, LRQ_TOKEN_UNUSED = 5, LRQ_TOKEN_BYTE = 6
};

typedef struct lrq_vocab lrq_vocab;

/* From GGUF metadata (tokenizer.ggml.model = "llama" or "gpt2"; pre =
 * "qwen2", "deepseek-llm", "deepseek-coder", "gpt-2", "default", ...).
 * Missing optional keys take llama.cpp's defaults. -1 + error if the model
 * kind is unsupported or arrays are inconsistent. */
int lrq_vocab_from_gguf(lrq_vocab **out, const struct lrq_gguf *g);

/* From a llama2.c tokenizer.bin (n_vocab entries; the file does not store
 * the count). Ids 0/1/2 are <unk>/<s>/</s>; "<0xXX>" pieces are byte tokens. */
int lrq_vocab_from_llama2c(lrq_vocab **out, const char *path, int32_t n_vocab);

/* From a HF tokenizer.json (BPE with ByteLevel, or SentencePiece-style BPE
 * with byte fallback); tokenizer_config.json may be NULL (then BOS/EOS and
 * add_bos come from tokenizer.json's post_processor / added_tokens). */
int lrq_vocab_from_hf(lrq_vocab **out, const char *tokenizer_json, const char *tokenizer_config);

void lrq_vocab_free(lrq_vocab *v);

int lrq_vocab_kind(const lrq_vocab *v);
int32_t lrq_vocab_n_tokens(const lrq_vocab *v);
int32_t lrq_vocab_bos(const lrq_vocab *v);   /* -1 if none */
int32_t lrq_vocab_eos(const lrq_vocab *v);   /* -1 if none */
int lrq_vocab_add_bos(const lrq_vocab *v);   /* 1 if the model adds BOS by default */

/* Tokenize text[0..len). add_special: prepend BOS when the vocab adds BOS
 * (and EOS when it adds EOS); parse_special: recognise special/control token
 * texts in the input (as llama.cpp's parse_special). On success returns 0,
 * *ids (malloc'ed, caller frees) and *n. */
int lrq_tokenize(const lrq_vocab *v, const char *text, size_t len, int add_special,
                 int parse_special, int32_t **ids, size_t *n);

/* The raw vocabulary string of token id (as stored: SPM pieces use U+2581
 * for spaces, BPE pieces the byte-to-unicode mapping); NULL if out of range. */
const char *lrq_vocab_token_text(const lrq_vocab *v, int32_t id, size_t *len);

/* Detokenize one token to bytes as llama.cpp's token_to_piece (special
 * tokens rendered only if `special`). Writes up to cap bytes; returns the
 * byte length needed (may exceed cap), or -1 for an invalid id. */
int lrq_token_to_piece(const lrq_vocab *v, int32_t id, char *buf, size_t cap, int special);

#endif
