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
 * "qwen2", "deepseek-llm", "deepseek-coder", "gpt-2", "llama-bpe",
 * "starcoder", "falcon", "qwen35", "default"/absent and their llama.cpp
 * aliases). Missing optional keys take llama.cpp's defaults ("llama": BOS 1,
 * EOS 2, UNK 0, add BOS, add space prefix; "gpt2": BOS = EOS = 11, no BOS
 * added unless the pre-type says so). llama.cpp's load-time fix-ups are
 * applied (EOG/FIM/EOT-looking texts forced CONTROL, phi-3 strip flags, ...).
 * -1 + error naming the file if the model or pre-tokenizer is unsupported,
 * scores/token_type do not have one entry per token, two tokens share a
 * text, or a merge is not "left right" with both sides in the vocabulary. */
int lrq_vocab_from_gguf(lrq_vocab **out, const struct lrq_gguf *g);

/* From a llama2.c tokenizer.bin (n_vocab entries; the file does not store
 * the count, so it must end exactly after n_vocab tokens). Ids 0/1/2 are
 * <unk>/<s>/</s> (UNKNOWN/CONTROL); "<0xXX>" pieces are byte tokens; spaces
 * are turned back into U+2581. Gives the same vocab as the GGUF made from
 * the same SentencePiece model (llama.cpp "llama" defaults). */
int lrq_vocab_from_llama2c(lrq_vocab **out, const char *path, int32_t n_vocab);

/* From a HF tokenizer.json (BPE with ByteLevel, or SentencePiece-style BPE
 * with byte fallback), built as llama.cpp's convert_hf_to_gguf.py would
 * write it; the pre-tokenizer is recognised from the Split regexes (Qwen2,
 * Llama-3, Qwen3.5, GPT-2 ByteLevel, DeepSeek LLM/Coder).
 * tokenizer_config.json may be NULL (then BOS/EOS and add_bos come from
 * tokenizer.json's TemplateProcessing post_processor). config.json is not
 * read: an id named nowhere stays -1 (a converted GGUF would hold
 * config.json's id or llama.cpp's default). */
int lrq_vocab_from_hf(lrq_vocab **out, const char *tokenizer_json, const char *tokenizer_config);

void lrq_vocab_free(lrq_vocab *v);

int lrq_vocab_kind(const lrq_vocab *v);
int32_t lrq_vocab_n_tokens(const lrq_vocab *v);
int32_t lrq_vocab_bos(const lrq_vocab *v);   /* -1 if none */
int32_t lrq_vocab_eos(const lrq_vocab *v);   /* -1 if none */
int lrq_vocab_add_bos(const lrq_vocab *v);   /* 1 if the model adds BOS by default */
int lrq_vocab_add_eos(const lrq_vocab *v);   /* 1 if the model adds EOS by default */
int32_t lrq_vocab_unk(const lrq_vocab *v);   /* -1 if none */
int32_t lrq_vocab_pad(const lrq_vocab *v);   /* -1 if none */
/* SPM: 1 if a space is put before the text (tokenizer.ggml.add_space_prefix). */
int lrq_vocab_add_space_prefix(const lrq_vocab *v);
/* tokenizer.ggml.model ("llama" / "gpt2") and, for BPE, the pre-tokenizer
 * name as llama.cpp spells it ("qwen2", "default", ...; "" for SPM). */
const char *lrq_vocab_model(const lrq_vocab *v);
const char *lrq_vocab_pre(const lrq_vocab *v);

/* Per-token data as loaded (what a GGUF writer needs): the score (0 if id
 * is out of range) and the enum lrq_token_type (-1 if out of range). */
float lrq_vocab_token_score(const lrq_vocab *v, int32_t id);
int lrq_vocab_token_type(const lrq_vocab *v, int32_t id);
/* llama.cpp's effective flags after its load-time fix-ups: CONTROL (also
 * forced on EOG/FIM-looking texts), end-of-generation (EOS, EOT, EOM,
 * "<|im_end|>", "</s>", ...). 0 for an out-of-range id. */
int lrq_vocab_is_control(const lrq_vocab *v, int32_t id);
int lrq_vocab_is_eog(const lrq_vocab *v, int32_t id);
/* BPE merges in rank order (0 for SPM): merge `rank` joins tokens
 * *left and *right. Returns 0, or -1 if rank is out of range. */
int32_t lrq_vocab_n_merges(const lrq_vocab *v);
int lrq_vocab_merge(const lrq_vocab *v, int32_t rank, int32_t *left, int32_t *right);

/* Tokenize text[0..len). add_special: prepend BOS when the vocab adds BOS
 * (and EOS when it adds EOS); parse_special: recognise CONTROL/UNKNOWN token
 * texts in the input (as llama.cpp's parse_special). USER_DEFINED token
 * texts are always matched, as in llama.cpp. Invalid UTF-8 is handled as
 * llama.cpp does (BPE: each bad byte becomes U+FFFD). Thread-safe on a
 * shared vocab. On success returns 0, *ids (malloc'ed, never NULL, caller
 * frees) and *n; -1 on allocation failure, or with add_special when the
 * vocab adds BOS/EOS but has none. */
int lrq_tokenize(const lrq_vocab *v, const char *text, size_t len, int add_special,
                 int parse_special, int32_t **ids, size_t *n);

/* The raw vocabulary string of token id (as stored: SPM pieces use U+2581
 * for spaces, BPE pieces the byte-to-unicode mapping); NULL if out of range. */
const char *lrq_vocab_token_text(const lrq_vocab *v, int32_t id, size_t *len);

/* Detokenize one token to bytes as llama.cpp's token_to_piece (CONTROL and
 * UNKNOWN tokens rendered only if `special`, as their text; USER_DEFINED as
 * their text; SPM U+2581 -> ' '; BPE characters -> bytes; byte tokens -> the
 * byte). Writes the first min(cap, length) bytes (buf may be NULL when cap
 * is 0); returns the full length, or -1 for an invalid id. No NUL. (The
 * leading space of SPM's first piece is not stripped here.) */
int lrq_token_to_piece(const lrq_vocab *v, int32_t id, char *buf, size_t cap, int special);

#endif
