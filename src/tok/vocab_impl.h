/* vocab_impl.h — private layout of lrq_vocab, shared by vocab.c (loading,
 * special-token partitioning, detokenizing), tok_spm.c and tok_bpe.c. Not
 * part of the API. */
#ifndef LRQ_VOCAB_IMPL_H
#define LRQ_VOCAB_IMPL_H

#include "tok/vocab.h"

#include <stddef.h>
#include <stdint.h>

/* llama.cpp's per-token attribute bits (llama_token_attr). The GGUF
 * token_type code is translated to one of these at load time; later
 * heuristics may OR in CONTROL/UNUSED (see vocab.c). */
enum {
    LRQ_ATTR_UNDEFINED = 0,
    LRQ_ATTR_UNKNOWN = 1 << 0,
    LRQ_ATTR_UNUSED = 1 << 1,
    LRQ_ATTR_NORMAL = 1 << 2,
    LRQ_ATTR_CONTROL = 1 << 3,
    LRQ_ATTR_USER_DEFINED = 1 << 4,
    LRQ_ATTR_BYTE = 1 << 5,
    LRQ_ATTR_LSTRIP = 1 << 7,
    LRQ_ATTR_RSTRIP = 1 << 8,
};

/* Pre-tokenizer families (llama.cpp's LLAMA_VOCAB_PRE_TYPE_* that lrq
 * implements; several tokenizer.ggml.pre names map to one family). */
enum lrq_pre {
    LRQ_PRE_DEFAULT = 0,
    LRQ_PRE_GPT2,
    LRQ_PRE_QWEN2,
    LRQ_PRE_QWEN35,
    LRQ_PRE_LLAMA3,
    LRQ_PRE_DEEPSEEK_LLM,
    LRQ_PRE_DEEPSEEK_CODER,
    LRQ_PRE_STARCODER,
    LRQ_PRE_FALCON,
};

#define LRQ_VOCAB_MAX_REGEX 6

/* Growable id list (output of the tokenizers). */
typedef struct lrq_idvec {
    int32_t *v;
    size_t n, cap;
} lrq_idvec;

/* Append id; -1 (error recorded) on allocation failure. */
int lrq_idvec_push(lrq_idvec *iv, int32_t id);

struct lrq_vocab {
    int kind;                 /* LRQ_VOCAB_SPM / LRQ_VOCAB_BPE */
    int32_t n_tokens;
    char *arena;              /* every token text, each followed by a NUL */
    size_t *tok_off;          /* [n_tokens] offset of the text in arena */
    uint32_t *tok_len;        /* [n_tokens] byte length */
    float *score;             /* [n_tokens] */
    uint32_t *attr;           /* [n_tokens] LRQ_ATTR_* */
    uint8_t *ttype;           /* [n_tokens] enum lrq_token_type as loaded */

    /* text -> id: open addressing, power-of-two size, -1 = empty slot */
    int32_t *map;
    size_t map_mask;

    int32_t bos, eos, unk, pad, eot;
    int add_bos, add_eos, add_space_prefix, ignore_merges;
    int pre;                  /* enum lrq_pre (BPE only) */
    char model_name[16];      /* "llama" / "gpt2" */
    char pre_name[48];

    /* Tokens matched verbatim in raw text before tokenizing (CONTROL,
     * USER_DEFINED, UNKNOWN), longest text first. */
    int32_t *special;
    int32_t n_special;

    /* SPM: byte value -> "<0xXX>" token (or the one-byte token), -1 if none.
     * BPE: byte value -> token whose text is the GPT-2 character of that
     * byte, and the token whose text is that single raw byte. */
    int32_t byte_tok[256];
    int32_t raw_byte_tok[256];

    /* BPE merges: (left id, right id) -> rank and merged-token id. */
    int32_t n_merges;
    int32_t *merge_left, *merge_right;   /* [n_merges] in rank order */
    uint64_t *mkey;                      /* slot keys, UINT64_MAX = empty */
    int32_t *mrank, *mres;               /* slot values */
    size_t mmask;

    /* BPE pre-tokenizer regexes (pcre2_code *), applied in order. */
    int n_regex;
    void *regex[LRQ_VOCAB_MAX_REGEX];

    char *src;                /* source file name for error messages */
};

/* Token id for text[0..len), or -1. */
int32_t lrq_vocab_lookup(const lrq_vocab *v, const char *text, size_t len);

static inline const char *lrq_vocab_text(const lrq_vocab *v, int32_t id) {
    return v->arena + v->tok_off[id];
}

/* Tokenize one raw-text fragment (no special tokens inside) and append the
 * ids to out. SPM: text is the fragment as is (the caller has added the
 * prefix space); spaces are escaped here. Return 0 or -1 with an error. */
int lrq_spm_tokenize(const lrq_vocab *v, const char *text, size_t len, lrq_idvec *out);
int lrq_bpe_tokenize(const lrq_vocab *v, const char *text, size_t len, lrq_idvec *out);

/* ---- construction (vocab.c), used by the loaders ---- */

typedef struct lrq_strref {
    const char *p;
    size_t n;
} lrq_strref;

/* Settings a loader collects before lrq_vocab_finish. Special ids are -1
 * when unset; lrq_vocab_init_opts fills llama.cpp's per-model defaults. */
typedef struct lrq_vocab_opts {
    int32_t bos, eos, unk, pad, eot, eom;
    int32_t fim_pre, fim_suf, fim_mid, fim_pad, fim_rep, fim_sep;
    int add_bos, add_eos, add_space_prefix, ignore_merges;
    const char *general_name;  /* may be NULL (phi-3 attribute fix-ups) */
} lrq_vocab_opts;

/* New vocab of n_tokens tokens of the given kind, texts[i] copied (an empty
 * text becomes "[EMPTY_i]" as in llama.cpp); scores zero, types NORMAL.
 * `src` names the file in error messages. Builds the text -> id index and
 * fails on duplicate texts (llama.cpp aborts on them). */
int lrq_vocab_create(lrq_vocab **out, int kind, int32_t n_tokens, const lrq_strref *texts,
                     const char *src);
/* llama.cpp's defaults for v->kind (SPM: BOS 1, EOS 2, UNK 0, add BOS, add
 * space prefix; BPE: BOS = EOS = 11, nothing added), ids out of range
 * disabled. */
void lrq_vocab_init_opts(const lrq_vocab *v, lrq_vocab_opts *o);
/* BPE: select the pre-tokenizer by its tokenizer.ggml.pre name (NULL or ""
 * = "default") and apply its flags to o; -1 for a name lrq does not know. */
int lrq_vocab_set_pre(lrq_vocab *v, const char *name, size_t len, lrq_vocab_opts *o);
/* BPE: merges[i] = "left right" (split at the first space after byte 0,
 * as llama.cpp does); both sides must be tokens. */
int lrq_vocab_set_merges(lrq_vocab *v, const lrq_strref *merges, int32_t n);
/* Finish: token attributes from the types, llama.cpp's text-based special
 * token fix-ups, the special-token list, byte tables, regexes. */
int lrq_vocab_finish(lrq_vocab *v, const lrq_vocab_opts *o);

/* BPE setup done at load time: compile the pre-tokenizer regexes of v->pre
 * and build the merge table from n (left, right) string pairs. */
int lrq_bpe_compile_regex(lrq_vocab *v);
void lrq_bpe_free_regex(lrq_vocab *v);
/* Add merge `rank` = (left, right) ids; duplicates keep the first rank (as
 * llama.cpp's emplace). Table must have been sized by lrq_bpe_merges_init. */
int lrq_bpe_merges_init(lrq_vocab *v, int32_t n_merges);
void lrq_bpe_merge_add(lrq_vocab *v, int32_t rank, int32_t left, int32_t right, int32_t result);

#endif
