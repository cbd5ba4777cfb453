/* vocab.c — vocabulary construction (GGUF metadata, llama2.c tokenizer.bin),
 * llama.cpp's load-time special-token rules, special-token partitioning of
 * the input, and token -> text. The merge loops live in tok_spm.c and
 * tok_bpe.c; the Hugging Face loader in vocab_hf.c. */
#include "tok/vocab_impl.h"
#include "io/gguf.h"
#include "tok/unicode.h"
#include "core/core.h"
#include "core/mapfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int lrq_idvec_push(lrq_idvec *iv, int32_t id) {
    if (iv->n == iv->cap) {
        size_t cap = iv->cap ? iv->cap * 2 : 64, bytes;
        if (lrq_mul_size(cap, sizeof(int32_t), &bytes)) return lrq_err_set("tokenize: too many tokens");
        int32_t *nv = lrq_realloc(iv->v, bytes);
        if (!nv) return -1;
        iv->v = nv;
        iv->cap = cap;
    }
    iv->v[iv->n++] = id;
    return 0;
}

/* ---- text -> id index ---- */

static size_t text_hash(const char *s, size_t n) {
    /* FNV-1a over the bytes, then a final mix: token texts are short. */
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (uint8_t)s[i];
        h *= 0x100000001b3ull;
    }
    h ^= h >> 32;
    h *= 0x9E3779B97F4A7C15ull;
    h ^= h >> 29;
    return (size_t)h;
}

int32_t lrq_vocab_lookup(const lrq_vocab *v, const char *text, size_t len) {
    for (size_t i = text_hash(text, len) & v->map_mask;; i = (i + 1) & v->map_mask) {
        int32_t id = v->map[i];
        if (id < 0) return -1;
        if (v->tok_len[id] == len && memcmp(lrq_vocab_text(v, id), text, len) == 0) return id;
    }
}

void lrq_vocab_free(lrq_vocab *v) {
    if (!v) return;
    lrq_bpe_free_regex(v);
    free(v->arena);
    free(v->tok_off);
    free(v->tok_len);
    free(v->score);
    free(v->attr);
    free(v->ttype);
    free(v->map);
    free(v->special);
    free(v->merge_left);
    free(v->merge_right);
    free(v->mkey);
    free(v->mrank);
    free(v->mres);
    free(v->src);
    free(v);
}

int lrq_vocab_create(lrq_vocab **out, int kind, int32_t n, const lrq_strref *texts, const char *src) {
    *out = NULL;
    if (n <= 0) return lrq_err_set("%s: empty vocabulary", src);
    lrq_vocab *v = lrq_calloc(1, sizeof *v);
    if (!v) return -1;
    v->kind = kind;
    v->n_tokens = n;
    v->bos = v->eos = v->unk = v->pad = v->eot = -1;
    v->src = lrq_strdup(src);
    v->tok_off = lrq_calloc((size_t)n, sizeof *v->tok_off);
    v->tok_len = lrq_calloc((size_t)n, sizeof *v->tok_len);
    v->score = lrq_calloc((size_t)n, sizeof *v->score);
    v->attr = lrq_calloc((size_t)n, sizeof *v->attr);
    v->ttype = lrq_calloc((size_t)n, sizeof *v->ttype);
    if (!v->src || !v->tok_off || !v->tok_len || !v->score || !v->attr || !v->ttype) goto fail;
    for (int i = 0; i < 256; i++) v->byte_tok[i] = v->raw_byte_tok[i] = -1;

    /* Arena: every text plus a NUL ("[EMPTY_i]" for empty ones). */
    size_t total = 0;
    for (int32_t i = 0; i < n; i++) {
        size_t len = texts[i].n ? texts[i].n : 24;
        if (len > UINT32_MAX) { lrq_err_set("%s: token %d: text too long", src, (int)i); goto fail; }
        if (lrq_add_size(total, len + 1, &total)) { lrq_err_set("%s: vocabulary too large", src); goto fail; }
    }
    v->arena = lrq_malloc(total);
    if (!v->arena) goto fail;
    size_t o = 0;
    for (int32_t i = 0; i < n; i++) {
        v->tok_off[i] = o;
        if (texts[i].n) {
            memcpy(v->arena + o, texts[i].p, texts[i].n);
            v->tok_len[i] = (uint32_t)texts[i].n;
        } else {
            v->tok_len[i] = (uint32_t)snprintf(v->arena + o, 24, "[EMPTY_%d]", (int)i);
        }
        o += v->tok_len[i];
        v->arena[o++] = 0;
        v->ttype[i] = LRQ_TOKEN_NORMAL;
    }

    size_t slots = 16;
    while (slots < (size_t)n * 2) slots *= 2;
    v->map = lrq_calloc(slots, sizeof *v->map);
    if (!v->map) goto fail;
    for (size_t i = 0; i < slots; i++) v->map[i] = -1;
    v->map_mask = slots - 1;
    for (int32_t id = 0; id < n; id++) {
        const char *t = lrq_vocab_text(v, id);
        size_t len = v->tok_len[id];
        size_t i = text_hash(t, len) & v->map_mask;
        for (;; i = (i + 1) & v->map_mask) {
            int32_t o2 = v->map[i];
            if (o2 < 0) break;
            if (v->tok_len[o2] == len && memcmp(lrq_vocab_text(v, o2), t, len) == 0) {
                lrq_err_set("%s: tokens %d and %d have the same text '%.*s'", src, (int)o2, (int)id,
                            (int)(len > 64 ? 64 : len), t);
                goto fail;
            }
        }
        v->map[i] = id;
    }
    *out = v;
    return 0;
fail:
    lrq_vocab_free(v);
    return -1;
}

void lrq_vocab_init_opts(const lrq_vocab *v, lrq_vocab_opts *o) {
    memset(o, 0, sizeof *o);
    o->eot = o->eom = o->pad = -1;
    o->fim_pre = o->fim_suf = o->fim_mid = o->fim_pad = o->fim_rep = o->fim_sep = -1;
    if (v->kind == LRQ_VOCAB_SPM) {
        o->bos = 1; o->eos = 2; o->unk = 0;
        o->add_bos = 1; o->add_space_prefix = 1;
    } else {
        o->bos = 11; o->eos = 11; o->unk = -1;
    }
    /* llama.cpp disables a default id that does not exist in the vocab. */
    if (o->bos >= v->n_tokens) o->bos = -1;
    if (o->eos >= v->n_tokens) o->eos = -1;
    if (o->unk >= v->n_tokens) o->unk = -1;
}

/* tokenizer.ggml.pre names lrq implements, and what llama.cpp sets for them. */
static const struct pre_entry {
    const char *name;
    int pre;
    int ignore_merges, add_bos, no_bos;
} PRE_TABLE[] = {
    { "default", LRQ_PRE_DEFAULT, 0, 0, 0 },
    { "llama3", LRQ_PRE_LLAMA3, 1, 1, 0 }, { "llama-v3", LRQ_PRE_LLAMA3, 1, 1, 0 },
    { "llama-bpe", LRQ_PRE_LLAMA3, 1, 1, 0 }, { "falcon3", LRQ_PRE_LLAMA3, 1, 1, 0 },
    { "falcon-h1", LRQ_PRE_LLAMA3, 1, 1, 0 }, { "pixtral", LRQ_PRE_LLAMA3, 1, 1, 0 },
    { "midm-2.0", LRQ_PRE_LLAMA3, 1, 1, 0 }, { "lfm2", LRQ_PRE_LLAMA3, 1, 1, 0 },
    { "jina-v5-nano", LRQ_PRE_LLAMA3, 1, 1, 0 },
    { "dbrx", LRQ_PRE_LLAMA3, 0, 0, 0 }, { "smaug-bpe", LRQ_PRE_LLAMA3, 0, 0, 0 },
    { "glm4", LRQ_PRE_LLAMA3, 0, 0, 1 }, { "chatglm-bpe", LRQ_PRE_LLAMA3, 0, 0, 1 },
    { "deepseek-llm", LRQ_PRE_DEEPSEEK_LLM, 0, 0, 0 },
    { "deepseek-coder", LRQ_PRE_DEEPSEEK_CODER, 0, 0, 0 },
    { "falcon", LRQ_PRE_FALCON, 0, 0, 0 },
    { "gpt-2", LRQ_PRE_GPT2, 0, 0, 0 }, { "phi-2", LRQ_PRE_GPT2, 0, 0, 0 },
    { "jina-es", LRQ_PRE_GPT2, 0, 0, 0 }, { "jina-de", LRQ_PRE_GPT2, 0, 0, 0 },
    { "gigachat", LRQ_PRE_GPT2, 0, 0, 0 }, { "jina-v2-es", LRQ_PRE_GPT2, 0, 0, 0 },
    { "jina-v2-de", LRQ_PRE_GPT2, 0, 0, 0 }, { "a.x-4.0", LRQ_PRE_GPT2, 0, 0, 0 },
    { "mellum", LRQ_PRE_GPT2, 0, 0, 0 }, { "modern-bert", LRQ_PRE_GPT2, 0, 0, 0 },
    { "jina-v1-en", LRQ_PRE_GPT2, 0, 0, 0 }, { "jina-v2-code", LRQ_PRE_GPT2, 0, 0, 0 },
    { "roberta-bpe", LRQ_PRE_GPT2, 0, 0, 0 }, { "mpt", LRQ_PRE_GPT2, 0, 0, 0 },
    { "olmo", LRQ_PRE_GPT2, 0, 0, 0 }, { "jais", LRQ_PRE_GPT2, 0, 0, 0 },
    { "trillion", LRQ_PRE_GPT2, 0, 0, 0 }, { "granite-docling", LRQ_PRE_GPT2, 0, 0, 0 },
    { "exaone4", LRQ_PRE_GPT2, 0, 0, 0 },
    { "starcoder", LRQ_PRE_STARCODER, 0, 0, 0 }, { "refact", LRQ_PRE_STARCODER, 0, 0, 0 },
    { "command-r", LRQ_PRE_STARCODER, 0, 0, 0 }, { "smollm", LRQ_PRE_STARCODER, 0, 0, 0 },
    { "codeshell", LRQ_PRE_STARCODER, 0, 0, 0 }, { "exaone", LRQ_PRE_STARCODER, 0, 0, 0 },
    { "minerva-7b", LRQ_PRE_STARCODER, 0, 0, 0 }, { "mellum2", LRQ_PRE_STARCODER, 0, 0, 0 },
    { "qwen2", LRQ_PRE_QWEN2, 0, 0, 0 }, { "deepseek-r1-qwen", LRQ_PRE_QWEN2, 0, 0, 0 },
    { "kormo", LRQ_PRE_QWEN2, 0, 0, 0 }, { "f2llmv2", LRQ_PRE_QWEN2, 0, 0, 0 },
    { "megrez", LRQ_PRE_QWEN2, 0, 0, 0 }, { "stablelm2", LRQ_PRE_QWEN2, 0, 0, 0 },
    { "hunyuan", LRQ_PRE_QWEN2, 0, 0, 0 }, { "solar-open", LRQ_PRE_QWEN2, 0, 0, 0 },
    { "grok-2", LRQ_PRE_QWEN2, 0, 0, 0 },
    { "qwen35", LRQ_PRE_QWEN35, 0, 0, 0 },
};

int lrq_vocab_set_pre(lrq_vocab *v, const char *name, size_t len, lrq_vocab_opts *o) {
    if (!name || len == 0) { name = "default"; len = 7; }
    for (size_t i = 0; i < sizeof PRE_TABLE / sizeof PRE_TABLE[0]; i++) {
        const struct pre_entry *e = &PRE_TABLE[i];
        if (strlen(e->name) != len || memcmp(e->name, name, len) != 0) continue;
        v->pre = e->pre;
        snprintf(v->pre_name, sizeof v->pre_name, "%s", e->name);
        if (e->ignore_merges) o->ignore_merges = 1;
        if (e->add_bos) o->add_bos = 1;
        if (e->no_bos) o->bos = -1;
        return 0;
    }
    return lrq_err_set("%s: unsupported pre-tokenizer '%.*s' (tokenizer.ggml.pre)", v->src,
                       (int)(len > 64 ? 64 : len), name);
}

int lrq_vocab_set_merges(lrq_vocab *v, const lrq_strref *m, int32_t n) {
    if (lrq_bpe_merges_init(v, n)) return -1;
    for (int32_t i = 0; i < n; i++) {
        const char *s = m[i].p;
        size_t len = m[i].n;
        size_t sp = 1;
        while (sp < len && s[sp] != ' ') sp++;
        if (len < 3 || sp >= len - 1)
            return lrq_err_set("%s: merge %d '%.*s' is not of the form 'left right'", v->src, (int)i,
                               (int)(len > 64 ? 64 : len), s);
        int32_t l = lrq_vocab_lookup(v, s, sp);
        int32_t r = lrq_vocab_lookup(v, s + sp + 1, len - sp - 1);
        if (l < 0 || r < 0)
            return lrq_err_set("%s: merge %d '%.*s' refers to a token not in the vocabulary", v->src,
                               (int)i, (int)(len > 64 ? 64 : len), s);
        /* The merged symbol's text is left+right; find its token (if any). */
        size_t ll = v->tok_len[l], rl = v->tok_len[r];
        char stackbuf[256];
        char *cat = ll + rl <= sizeof stackbuf ? stackbuf : lrq_malloc(ll + rl);
        if (!cat) return -1;
        memcpy(cat, lrq_vocab_text(v, l), ll);
        memcpy(cat + ll, lrq_vocab_text(v, r), rl);
        int32_t res = lrq_vocab_lookup(v, cat, ll + rl);
        if (cat != stackbuf) free(cat);
        lrq_bpe_merge_add(v, i, l, r, res);
    }
    return 0;
}

/* ---- finishing: attributes and llama.cpp's text-based fix-ups ---- */

static uint32_t attr_of_type(int t) {
    switch (t) {
    case LRQ_TOKEN_NORMAL: return LRQ_ATTR_NORMAL;
    case LRQ_TOKEN_UNKNOWN: return LRQ_ATTR_UNKNOWN;
    case LRQ_TOKEN_CONTROL: return LRQ_ATTR_CONTROL;
    case LRQ_TOKEN_USER_DEFINED: return LRQ_ATTR_USER_DEFINED;
    case LRQ_TOKEN_UNUSED: return LRQ_ATTR_UNUSED;
    case LRQ_TOKEN_BYTE: return LRQ_ATTR_BYTE;
    default: return LRQ_ATTR_UNDEFINED;
    }
}

static int text_is(const lrq_vocab *v, int32_t id, const char *s) {
    size_t n = strlen(s);
    return v->tok_len[id] == n && memcmp(lrq_vocab_text(v, id), s, n) == 0;
}

static int text_in(const lrq_vocab *v, int32_t id, const char *const *list) {
    for (; *list; list++)
        if (text_is(v, id, *list)) return 1;
    return 0;
}

static int32_t find_text(const lrq_vocab *v, const char *s) { return lrq_vocab_lookup(v, s, strlen(s)); }

/* Token texts llama.cpp recognises at load time (it marks them CONTROL). */
static const char *const EOT_TEXTS[] = { "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",
    "<|endoftext|>", "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]",
    "<\xef\xbd\x9c" "end\xe2\x96\x81" "of\xe2\x96\x81" "sentence\xef\xbd\x9c>", "<end_of_utterance>", NULL };
static const char *const EOM_TEXTS[] = { "<|eom_id|>", NULL };
static const char *const FIM_PRE_TEXTS[] = { "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>",
    "<\xef\xbd\x9c" "fim\xe2\x96\x81" "begin\xef\xbd\x9c>", "<PRE>", "\xe2\x96\x81<PRE>", "<|code_prefix|>",
    "<|prefix|>", NULL };
static const char *const FIM_SUF_TEXTS[] = { "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>",
    "<\xef\xbd\x9c" "fim\xe2\x96\x81" "hole\xef\xbd\x9c>", "<SUF>", "\xe2\x96\x81<SUF>", "<|code_suffix|>",
    "<|suffix|>", NULL };
static const char *const FIM_MID_TEXTS[] = { "<|fim_middle|>", "<fim-middle>", "<fim_middle>",
    "<\xef\xbd\x9c" "fim\xe2\x96\x81" "end\xef\xbd\x9c>", "<MID>", "\xe2\x96\x81<MID>", "<|code_middle|>",
    "<|middle|>", NULL };
static const char *const FIM_PAD_TEXTS[] = { "<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]", NULL };
static const char *const FIM_REP_TEXTS[] = { "<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>",
    "<reponame>", NULL };
static const char *const FIM_SEP_TEXTS[] = { "<|file_sep|>", NULL };
static const char *const EOG_TEXTS[] = { "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>",
    "<|flush|>", "<|calls|>", "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>",
    "[EOT]", "[EOS]", "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
    "<\xef\xbd\x9c" "end\xe2\x96\x81" "of\xe2\x96\x81" "sentence\xef\xbd\x9c>", "[e~[", NULL };
static const char *const ALWAYS_USER_TEXTS[] = { "<|channel|>", "<|message|>", "<|start|>",
    "<|constrain|>", NULL };

/* Internal marker: end-of-generation token (kept in attr above llama.cpp's bits). */
#define ATTR_EOG (1u << 20)

/* When *slot is unset, the first token (lowest id; llama.cpp walks a hash
 * map, which only matters for vocabs holding two candidates) whose text is
 * in list becomes it and is forced to CONTROL. */
static void detect_special(lrq_vocab *v, int32_t *slot, const char *const *list) {
    if (*slot >= 0) return;
    int32_t best = -1;
    for (const char *const *s = list; *s; s++) {
        int32_t id = find_text(v, *s);
        if (id >= 0 && (best < 0 || id < best)) best = id;
    }
    if (best >= 0) {
        *slot = best;
        v->attr[best] |= LRQ_ATTR_CONTROL;
    }
}

static void apply_fixups(lrq_vocab *v, lrq_vocab_opts *o) {
    detect_special(v, &o->eot, EOT_TEXTS);
    detect_special(v, &o->eom, EOM_TEXTS);
    detect_special(v, &o->fim_pre, FIM_PRE_TEXTS);
    detect_special(v, &o->fim_suf, FIM_SUF_TEXTS);
    detect_special(v, &o->fim_mid, FIM_MID_TEXTS);
    detect_special(v, &o->fim_pad, FIM_PAD_TEXTS);
    detect_special(v, &o->fim_rep, FIM_REP_TEXTS);
    detect_special(v, &o->fim_sep, FIM_SEP_TEXTS);

    for (int32_t id = 0; id < v->n_tokens; id++) {
        uint32_t *a = &v->attr[id];
        /* control tokens named "...unused..." are unused */
        if ((*a & LRQ_ATTR_CONTROL) && strstr(lrq_vocab_text(v, id), "unused")) *a |= LRQ_ATTR_UNUSED;
        if (text_in(v, id, EOG_TEXTS)) *a |= ATTR_EOG | LRQ_ATTR_CONTROL;
    }
    const int32_t eog_ids[] = { o->fim_pad, o->fim_rep, o->fim_sep, o->eos, o->eot, o->eom };
    for (size_t i = 0; i < sizeof eog_ids / sizeof eog_ids[0]; i++)
        if (eog_ids[i] >= 0) v->attr[eog_ids[i]] |= ATTR_EOG;
    /* gpt-oss: these are always rendered */
    for (const char *const *s = ALWAYS_USER_TEXTS; *s; s++) {
        int32_t id = find_text(v, *s);
        if (id >= 0) v->attr[id] = LRQ_ATTR_USER_DEFINED | (v->attr[id] & ATTR_EOG);
    }
    /* o200k_harmony / solar-open: <|end|> is not end-of-generation there */
    int32_t end = find_text(v, "<|end|>"), ret = find_text(v, "<|return|>"), call = find_text(v, "<|call|>"),
            calls = find_text(v, "<|calls|>"), flush = find_text(v, "<|flush|>");
#define IS_EOG(id) ((id) >= 0 && (v->attr[id] & ATTR_EOG))
    int has_call = IS_EOG(call) || IS_EOG(calls);
    if (IS_EOG(end) && ((IS_EOG(ret) && has_call) || (has_call && IS_EOG(flush))))
        v->attr[end] = LRQ_ATTR_USER_DEFINED;
    /* gemma4 / paddleocr: </s> is a normal token when <|tool_response> exists */
    int32_t tr = find_text(v, "<|tool_response>"), s_end = find_text(v, "</s>");
    if (IS_EOG(tr) && IS_EOG(s_end)) v->attr[s_end] = LRQ_ATTR_NORMAL;
#undef IS_EOG
}

static int cmp_special(const void *pa, const void *pb, const lrq_vocab *v) {
    int32_t a = *(const int32_t *)pa, b = *(const int32_t *)pb;
    if (v->tok_len[a] != v->tok_len[b]) return v->tok_len[a] > v->tok_len[b] ? -1 : 1;
    return a < b ? -1 : a > b;
}

/* Stable insertion-merge sort (qsort has no context argument in C11). */
static void sort_specials(lrq_vocab *v) {
    int32_t *s = v->special;
    for (int32_t i = 1; i < v->n_special; i++) {
        int32_t x = s[i], j = i;
        while (j > 0 && cmp_special(&s[j - 1], &x, v) > 0) { s[j] = s[j - 1]; j--; }
        s[j] = x;
    }
}

static int ascii_contains_ci(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i]) {
            char c = hay[i];
            if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
            if (c != needle[i]) break;
            i++;
        }
        if (i == n) return 1;
    }
    return 0;
}

int lrq_vocab_finish(lrq_vocab *v, const lrq_vocab_opts *opts) {
    lrq_vocab_opts o = *opts;
    for (int32_t id = 0; id < v->n_tokens; id++) v->attr[id] = attr_of_type(v->ttype[id]);
    apply_fixups(v, &o);

    v->bos = o.bos; v->eos = o.eos; v->unk = o.unk; v->pad = o.pad; v->eot = o.eot;
    v->add_bos = o.add_bos; v->add_eos = o.add_eos;
    v->add_space_prefix = o.add_space_prefix; v->ignore_merges = o.ignore_merges;

    /* Tokens matched verbatim in the input, longest first (equal lengths in
     * id order; llama.cpp's std::sort leaves that order unspecified). */
    int32_t n_sp = 0;
    for (int32_t id = 0; id < v->n_tokens; id++)
        if (v->attr[id] & (LRQ_ATTR_CONTROL | LRQ_ATTR_USER_DEFINED | LRQ_ATTR_UNKNOWN)) n_sp++;
    v->special = lrq_calloc((size_t)n_sp + 1, sizeof *v->special);
    if (!v->special) return -1;
    for (int32_t id = 0; id < v->n_tokens; id++)
        if (v->attr[id] & (LRQ_ATTR_CONTROL | LRQ_ATTR_USER_DEFINED | LRQ_ATTR_UNKNOWN))
            v->special[v->n_special++] = id;
    sort_specials(v);

    /* Per-model strip flags llama.cpp sets by name. */
    if (v->kind == LRQ_VOCAB_BPE &&
        (strstr(v->pre_name, "jina-v2-de") || strstr(v->pre_name, "jina-v2-es") ||
         strstr(v->pre_name, "jina-v2-code"))) {
        int32_t m = find_text(v, "<mask>");
        if (m >= 0) v->attr[m] |= LRQ_ATTR_LSTRIP;
    } else if (o.general_name && (ascii_contains_ci(o.general_name, "phi-3") ||
                                  ascii_contains_ci(o.general_name, "phi3"))) {
        for (int32_t i = 0; i < v->n_special; i++) v->attr[v->special[i]] |= LRQ_ATTR_RSTRIP;
        int32_t id = find_text(v, "</s>");
        if (id >= 0) v->attr[id] |= LRQ_ATTR_RSTRIP;
        const char *const keep[] = { "<unk>", "<s>", "<|endoftext|>" };
        for (int i = 0; i < 3; i++) {
            id = find_text(v, keep[i]);
            if (id >= 0) v->attr[id] &= ~(uint32_t)LRQ_ATTR_RSTRIP;
        }
    } else if (o.general_name && ascii_contains_ci(o.general_name, "modern-bert")) {
        int32_t m = find_text(v, "[MASK]");
        if (m >= 0) v->attr[m] |= LRQ_ATTR_LSTRIP;
    }

    if (v->kind == LRQ_VOCAB_SPM) {
        snprintf(v->model_name, sizeof v->model_name, "llama");
        for (int b = 0; b < 256; b++) {
            char buf[8];
            snprintf(buf, sizeof buf, "<0x%02X>", b);
            int32_t id = find_text(v, buf);
            if (id < 0) { char c = (char)b; id = lrq_vocab_lookup(v, &c, 1); }
            v->byte_tok[b] = id;
        }
    } else {
        snprintf(v->model_name, sizeof v->model_name, "gpt2");
        for (int b = 0; b < 256; b++) {
            uint8_t u[4];
            size_t k = lrq_utf8_encode(lrq_gpt2_byte_cp((uint8_t)b), u);
            v->byte_tok[b] = lrq_vocab_lookup(v, (const char *)u, k);
            char c = (char)b;
            v->raw_byte_tok[b] = lrq_vocab_lookup(v, &c, 1);
        }
        if (!v->mkey && lrq_bpe_merges_init(v, 0)) return -1;
        if (lrq_bpe_compile_regex(v)) return lrq_err_prefix("%s", v->src);
    }
    return 0;
}

/* ---- GGUF ---- */

static int gguf_special_id(const lrq_gguf *g, const lrq_vocab *v, const char *key, int32_t *id) {
    uint32_t x;
    int r = lrq_gguf_get_u32(g, key, &x);
    if (r < 0) return -1;
    /* an id outside the vocab keeps the default, as llama.cpp does */
    if (r == 1 && x < (uint32_t)v->n_tokens) *id = (int32_t)x;
    return 0;
}

static int gguf_bool(const lrq_gguf *g, const char *key, int *val) {
    int b;
    int r = lrq_gguf_get_bool(g, key, &b);
    if (r < 0) return -1;
    if (r == 1) *val = b;
    return 0;
}

int lrq_vocab_from_gguf(lrq_vocab **out, const lrq_gguf *g) {
    *out = NULL;
    const char *path = lrq_gguf_path(g);
    const char *model;
    uint64_t model_len;
    int r = lrq_gguf_get_str(g, "tokenizer.ggml.model", &model, &model_len);
    if (r < 0) return -1;
    if (r == 0) return lrq_err_set("%s: no tokenizer (key 'tokenizer.ggml.model' missing)", path);
    int kind;
    if (model_len == 5 && memcmp(model, "llama", 5) == 0) kind = LRQ_VOCAB_SPM;
    else if (model_len == 4 && memcmp(model, "gpt2", 4) == 0) kind = LRQ_VOCAB_BPE;
    else
        return lrq_err_set("%s: unsupported tokenizer model '%.*s' (tokenizer.ggml.model)", path,
                           (int)(model_len > 64 ? 64 : model_len), model);

    int et;
    uint64_t n;
    const lrq_gguf_value *tokv;
    r = lrq_gguf_get_arr(g, "tokenizer.ggml.tokens", &et, &n, &tokv);
    if (r < 0) return -1;
    if (r == 0) return lrq_err_set("%s: key 'tokenizer.ggml.tokens' missing", path);
    if (et != LRQ_GGUF_STRING) return lrq_err_set("%s: 'tokenizer.ggml.tokens' is not an array of strings", path);
    if (n == 0 || n > (uint64_t)INT32_MAX)
        return lrq_err_set("%s: 'tokenizer.ggml.tokens' has %llu entries", path, (unsigned long long)n);
    int32_t nt = (int32_t)n;

    const lrq_gguf_value *scv = NULL, *ttv = NULL, *mv = NULL;
    uint64_t ns = 0, ntt = 0, nm = 0;
    r = lrq_gguf_get_arr(g, "tokenizer.ggml.scores", &et, &ns, &scv);
    if (r < 0) return -1;
    if (r == 1) {
        if (et != LRQ_GGUF_FLOAT32 && et != LRQ_GGUF_INT32)
            return lrq_err_set("%s: 'tokenizer.ggml.scores' must be float32 or int32, is %s", path,
                               lrq_gguf_vtype_name(et));
        if (ns != n)
            return lrq_err_set("%s: 'tokenizer.ggml.scores' has %llu entries but there are %llu tokens", path,
                               (unsigned long long)ns, (unsigned long long)n);
    }
    r = lrq_gguf_get_arr(g, "tokenizer.ggml.token_type", &et, &ntt, &ttv);
    if (r < 0) return -1;
    if (r == 1) {
        if (et != LRQ_GGUF_INT32)
            return lrq_err_set("%s: 'tokenizer.ggml.token_type' must be int32, is %s", path,
                               lrq_gguf_vtype_name(et));
        if (ntt != n)
            return lrq_err_set("%s: 'tokenizer.ggml.token_type' has %llu entries but there are %llu tokens",
                               path, (unsigned long long)ntt, (unsigned long long)n);
    }
    if (kind == LRQ_VOCAB_BPE) {
        r = lrq_gguf_get_arr(g, "tokenizer.ggml.merges", &et, &nm, &mv);
        if (r < 0) return -1;
        if (r == 0) return lrq_err_set("%s: BPE tokenizer without 'tokenizer.ggml.merges'", path);
        if (et != LRQ_GGUF_STRING) return lrq_err_set("%s: 'tokenizer.ggml.merges' is not an array of strings", path);
        if (nm > (uint64_t)INT32_MAX) return lrq_err_set("%s: too many merges", path);
    }

    lrq_strref *texts = lrq_calloc((size_t)nt, sizeof *texts);
    if (!texts) return -1;
    for (int32_t i = 0; i < nt; i++) {
        texts[i].p = tokv->v.arr.items[i].v.str.ptr;
        texts[i].n = (size_t)tokv->v.arr.items[i].v.str.len;
    }
    lrq_vocab *v;
    r = lrq_vocab_create(&v, kind, nt, texts, path);
    free(texts);
    if (r) return -1;
    for (int32_t i = 0; i < nt; i++) {
        if (scv) v->score[i] = (float)lrq_gguf_arr_f64(scv, (uint64_t)i);
        if (ttv) {
            int64_t t = lrq_gguf_arr_i64(ttv, (uint64_t)i);
            v->ttype[i] = (uint8_t)(t >= 0 && t <= LRQ_TOKEN_BYTE ? t : LRQ_TOKEN_UNDEFINED);
        }
    }

    lrq_vocab_opts o;
    lrq_vocab_init_opts(v, &o);
    if (kind == LRQ_VOCAB_BPE) {
        const char *pre = NULL;
        uint64_t pre_len = 0;
        if (lrq_gguf_get_str(g, "tokenizer.ggml.pre", &pre, &pre_len) < 0) goto fail;
        if (lrq_vocab_set_pre(v, pre, (size_t)pre_len, &o)) goto fail;
        lrq_strref *ms = lrq_calloc((size_t)nm + 1, sizeof *ms);
        if (!ms) goto fail;
        for (uint64_t i = 0; i < nm; i++) {
            ms[i].p = mv->v.arr.items[i].v.str.ptr;
            ms[i].n = (size_t)mv->v.arr.items[i].v.str.len;
        }
        r = lrq_vocab_set_merges(v, ms, (int32_t)nm);
        free(ms);
        if (r) goto fail;
    }
    if (gguf_bool(g, "tokenizer.ggml.add_space_prefix", &o.add_space_prefix)) goto fail;
    static const struct { const char *key; size_t off; } ID_KEYS[] = {
        { "tokenizer.ggml.bos_token_id", offsetof(lrq_vocab_opts, bos) },
        { "tokenizer.ggml.eos_token_id", offsetof(lrq_vocab_opts, eos) },
        { "tokenizer.ggml.eot_token_id", offsetof(lrq_vocab_opts, eot) },
        { "tokenizer.ggml.eom_token_id", offsetof(lrq_vocab_opts, eom) },
        { "tokenizer.ggml.unknown_token_id", offsetof(lrq_vocab_opts, unk) },
        { "tokenizer.ggml.padding_token_id", offsetof(lrq_vocab_opts, pad) },
        { "tokenizer.ggml.fim_pre_token_id", offsetof(lrq_vocab_opts, fim_pre) },
        { "tokenizer.ggml.fim_suf_token_id", offsetof(lrq_vocab_opts, fim_suf) },
        { "tokenizer.ggml.fim_mid_token_id", offsetof(lrq_vocab_opts, fim_mid) },
        { "tokenizer.ggml.fim_pad_token_id", offsetof(lrq_vocab_opts, fim_pad) },
        { "tokenizer.ggml.fim_rep_token_id", offsetof(lrq_vocab_opts, fim_rep) },
        { "tokenizer.ggml.fim_sep_token_id", offsetof(lrq_vocab_opts, fim_sep) },
        { "tokenizer.ggml.prefix_token_id", offsetof(lrq_vocab_opts, fim_pre) },
        { "tokenizer.ggml.suffix_token_id", offsetof(lrq_vocab_opts, fim_suf) },
        { "tokenizer.ggml.middle_token_id", offsetof(lrq_vocab_opts, fim_mid) },
    };
    for (size_t i = 0; i < sizeof ID_KEYS / sizeof ID_KEYS[0]; i++)
        if (gguf_special_id(g, v, ID_KEYS[i].key, (int32_t *)((char *)&o + ID_KEYS[i].off))) goto fail;
    if (gguf_bool(g, "tokenizer.ggml.add_bos_token", &o.add_bos)) goto fail;
    if (gguf_bool(g, "tokenizer.ggml.add_eos_token", &o.add_eos)) goto fail;

    char name[128] = { 0 };
    const char *gn;
    uint64_t gn_len;
    r = lrq_gguf_get_str(g, "general.name", &gn, &gn_len);
    if (r < 0) goto fail;
    if (r == 1) {
        size_t k = gn_len < sizeof name - 1 ? (size_t)gn_len : sizeof name - 1;
        memcpy(name, gn, k);
        for (size_t i = 0; i < k; i++) if (!name[i]) name[i] = ' ';
        o.general_name = name;
    }
    if (lrq_vocab_finish(v, &o)) goto fail;
    *out = v;
    return 0;
fail:
    lrq_vocab_free(v);
    return -1;
}

/* ---- llama2.c tokenizer.bin ----
 * u32 max_token_length, then per token: f32 score, u32 byte length, bytes.
 * llama2.c's exporter wrote SentencePiece pieces with U+2581 turned into
 * ' ' and BOS/EOS as "\n<s>\n" / "\n</s>\n"; this undoes both. */

static uint32_t rd_le32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static int is_byte_piece(const char *s, size_t n) {
    if (n != 6 || memcmp(s, "<0x", 3) != 0 || s[5] != '>') return 0;
    for (int i = 3; i < 5; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f'))) return 0;
    }
    return 1;
}

int lrq_vocab_from_llama2c(lrq_vocab **out, const char *path, int32_t n_vocab) {
    *out = NULL;
    if (n_vocab <= 0) return lrq_err_set("%s: n_vocab must be positive (got %d)", path, (int)n_vocab);
    lrq_mapfile mf;
    if (lrq_mapfile_open(&mf, path)) return -1;
    const uint8_t *d = mf.data;
    size_t size = mf.size, off = 4;
    int rc = -1;
    lrq_vocab *v = NULL;
    lrq_strref *texts = lrq_calloc((size_t)n_vocab, sizeof *texts);
    float *scores = lrq_calloc((size_t)n_vocab, sizeof *scores);
    char *buf = NULL;
    if (!texts || !scores) goto done;
    if (size < 4) { lrq_err_set("%s: truncated header (%zu bytes)", path, size); goto done; }
    /* The header is max_token_length; a text or other file given as --vocab
     * shows up here first, so name the likely mistake rather than a token. */
    uint32_t max_len = rd_le32(d);
    if (max_len < 1 || max_len > 4096) {
        lrq_err_set("%s: not a llama2.c tokenizer.bin: header max_token_length = %u (expected 1..4096)", path,
                    max_len);
        goto done;
    }
    /* first pass: bounds and total size (spaces grow to 3-byte U+2581) */
    size_t total = 0;
    for (int32_t i = 0; i < n_vocab; i++) {
        if (size - off < 8) {
            lrq_err_set("%s: truncated at token %d of %d (offset %zu, file size %zu)", path, (int)i,
                        (int)n_vocab, off, size);
            goto done;
        }
        uint32_t sb = rd_le32(d + off), len = rd_le32(d + off + 4);
        memcpy(&scores[i], &sb, 4);
        off += 8;
        if (len > size - off) {
            lrq_err_set("%s: token %d: length %u runs past the end of the file (offset %zu, size %zu)", path,
                        (int)i, len, off, size);
            goto done;
        }
        texts[i].p = (const char *)d + off;
        texts[i].n = len;
        off += len;
        if (lrq_add_size(total, (size_t)len * 3 + 8, &total)) { lrq_err_set("%s: too large", path); goto done; }
    }
    if (off != size) {
        lrq_err_set("%s: %zu bytes left after %d tokens (wrong vocabulary size?)", path, size - off, (int)n_vocab);
        goto done;
    }
    buf = lrq_malloc(total + 1);
    if (!buf) goto done;
    size_t o = 0;
    for (int32_t i = 0; i < n_vocab; i++) {
        const char *s = texts[i].p;
        size_t n = texts[i].n;
        char *dst = buf + o;
        if (i == 1 && n == 5 && memcmp(s, "\n<s>\n", 5) == 0) { s = "<s>"; n = 3; }
        else if (i == 2 && n == 6 && memcmp(s, "\n</s>\n", 6) == 0) { s = "</s>"; n = 4; }
        size_t k = 0;
        for (size_t j = 0; j < n; j++) {
            if (s[j] == ' ') { dst[k++] = (char)0xE2; dst[k++] = (char)0x96; dst[k++] = (char)0x81; }
            else dst[k++] = s[j];
        }
        texts[i].p = dst;
        texts[i].n = k;
        o += k;
    }
    if (lrq_vocab_create(&v, LRQ_VOCAB_SPM, n_vocab, texts, path)) goto done;
    for (int32_t i = 0; i < n_vocab; i++) {
        v->score[i] = scores[i];
        if (i == 0) v->ttype[i] = LRQ_TOKEN_UNKNOWN;
        else if (i == 1 || i == 2) v->ttype[i] = LRQ_TOKEN_CONTROL;
        else if (is_byte_piece(lrq_vocab_text(v, i), v->tok_len[i])) v->ttype[i] = LRQ_TOKEN_BYTE;
        else v->ttype[i] = LRQ_TOKEN_NORMAL;
    }
    lrq_vocab_opts opt;
    lrq_vocab_init_opts(v, &opt);
    if (lrq_vocab_finish(v, &opt)) goto done;
    *out = v;
    v = NULL;
    rc = 0;
done:
    lrq_vocab_free(v);
    free(buf);
    free(texts);
    free(scores);
    lrq_mapfile_close(&mf);
    return rc;
}

/* ---- accessors ---- */

int lrq_vocab_kind(const lrq_vocab *v) { return v->kind; }
int32_t lrq_vocab_n_tokens(const lrq_vocab *v) { return v->n_tokens; }
int32_t lrq_vocab_bos(const lrq_vocab *v) { return v->bos; }
int32_t lrq_vocab_eos(const lrq_vocab *v) { return v->eos; }
int lrq_vocab_add_bos(const lrq_vocab *v) { return v->add_bos; }
int lrq_vocab_add_eos(const lrq_vocab *v) { return v->add_eos; }
int32_t lrq_vocab_unk(const lrq_vocab *v) { return v->unk; }
int32_t lrq_vocab_pad(const lrq_vocab *v) { return v->pad; }
const char *lrq_vocab_model(const lrq_vocab *v) { return v->model_name; }
const char *lrq_vocab_pre(const lrq_vocab *v) { return v->kind == LRQ_VOCAB_BPE ? v->pre_name : ""; }
int lrq_vocab_add_space_prefix(const lrq_vocab *v) { return v->add_space_prefix; }

const char *lrq_vocab_token_text(const lrq_vocab *v, int32_t id, size_t *len) {
    if (id < 0 || id >= v->n_tokens) return NULL;
    if (len) *len = v->tok_len[id];
    return lrq_vocab_text(v, id);
}

float lrq_vocab_token_score(const lrq_vocab *v, int32_t id) {
    return id >= 0 && id < v->n_tokens ? v->score[id] : 0.0f;
}

int lrq_vocab_token_type(const lrq_vocab *v, int32_t id) {
    return id >= 0 && id < v->n_tokens ? v->ttype[id] : -1;
}

int lrq_vocab_is_eog(const lrq_vocab *v, int32_t id) {
    return id >= 0 && id < v->n_tokens && (v->attr[id] & ATTR_EOG) != 0;
}

int lrq_vocab_is_control(const lrq_vocab *v, int32_t id) {
    return id >= 0 && id < v->n_tokens && (v->attr[id] & LRQ_ATTR_CONTROL) != 0;
}

int32_t lrq_vocab_n_merges(const lrq_vocab *v) { return v->kind == LRQ_VOCAB_BPE ? v->n_merges : 0; }

int lrq_vocab_merge(const lrq_vocab *v, int32_t rank, int32_t *left, int32_t *right) {
    if (v->kind != LRQ_VOCAB_BPE || rank < 0 || rank >= v->n_merges) return -1;
    *left = v->merge_left[rank];
    *right = v->merge_right[rank];
    return 0;
}

/* ---- tokenize ---- */

typedef struct {
    int32_t tok;        /* -1: raw text [off, off+len) */
    size_t off, len;
} fragment;

typedef struct {
    fragment *v;
    size_t n, cap;
} fraglist;

static int frag_push(fraglist *l, int32_t tok, size_t off, size_t len) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16, bytes;
        if (lrq_mul_size(cap, sizeof *l->v, &bytes)) return lrq_err_set("tokenize: too many fragments");
        fragment *nv = lrq_realloc(l->v, bytes);
        if (!nv) return -1;
        l->v = nv;
        l->cap = cap;
    }
    l->v[l->n].tok = tok;
    l->v[l->n].off = off;
    l->v[l->n].len = len;
    l->n++;
    return 0;
}

/* First occurrence of needle in hay[0..hn), or SIZE_MAX. */
static size_t find_bytes(const char *hay, size_t hn, const char *needle, size_t nn) {
    if (nn == 0 || nn > hn) return SIZE_MAX;
    const char *p = hay, *end = hay + (hn - nn) + 1;
    while (p < end) {
        p = memchr(p, needle[0], (size_t)(end - p));
        if (!p) return SIZE_MAX;
        if (memcmp(p, needle, nn) == 0) return (size_t)(p - hay);
        p++;
    }
    return SIZE_MAX;
}

static int is_c_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

/* llama.cpp's tokenizer_st_partition: for each special token in turn
 * (longest first), cut every remaining raw fragment at its occurrences. With
 * parse_special off only USER_DEFINED tokens are cut out. */
static int partition(const lrq_vocab *v, const char *text, size_t len, int parse_special, fraglist *out) {
    fraglist a = { 0 }, b = { 0 };
    int rc = -1;
    if (len > 0 && frag_push(&a, -1, 0, len)) goto done;
    for (int32_t k = 0; k < v->n_special && a.n; k++) {
        int32_t id = v->special[k];
        uint32_t at = v->attr[id];
        if (!parse_special && (at & (LRQ_ATTR_CONTROL | LRQ_ATTR_UNKNOWN))) continue;
        const char *st = lrq_vocab_text(v, id);
        size_t sl = v->tok_len[id];
        b.n = 0;
        int cut = 0;
        for (size_t f = 0; f < a.n; f++) {
            fragment fr = a.v[f];
            if (fr.tok >= 0) {
                if (frag_push(&b, fr.tok, 0, 0)) goto done;
                continue;
            }
            size_t base = fr.off, blen = fr.len;
            for (;;) {
                size_t m = find_bytes(text + base, blen, st, sl);
                if (m == SIZE_MAX) {
                    if (blen > 0 && frag_push(&b, -1, base, blen)) goto done;
                    break;
                }
                cut = 1;
                size_t left = m;
                if (at & LRQ_ATTR_LSTRIP)
                    while (left > 0 && is_c_space(text[base + left - 1])) left--;
                if (left > 0 && frag_push(&b, -1, base, left)) goto done;
                if (frag_push(&b, id, 0, 0)) goto done;
                size_t rs = base + m + sl, rl = blen - m - sl;
                if (at & LRQ_ATTR_RSTRIP)
                    while (rl > 0 && is_c_space(text[rs])) { rs++; rl--; }
                base = rs;
                blen = rl;
                if (blen == 0) break;
            }
        }
        if (cut) { fraglist t = a; a = b; b = t; }
    }
    *out = a;
    a.v = NULL;
    rc = 0;
done:
    free(a.v);
    free(b.v);
    return rc;
}

int lrq_tokenize(const lrq_vocab *v, const char *text, size_t len, int add_special, int parse_special,
                 int32_t **ids, size_t *n) {
    *ids = NULL;
    *n = 0;
    lrq_idvec out = { 0 };
    fraglist fl = { 0 };
    char *tmp = NULL;
    int rc = -1;
    if (!text && len) { lrq_err_set("tokenize: NULL text"); goto done; }
    /* llama.cpp asserts here; a vocab may still be used without add_special */
    if (add_special && v->add_bos && v->bos < 0) {
        lrq_err_set("%s: tokenize: the vocabulary adds a BOS token but has none", v->src);
        goto done;
    }
    if (add_special && v->add_eos && v->eos < 0) {
        lrq_err_set("%s: tokenize: the vocabulary adds an EOS token but has none", v->src);
        goto done;
    }
    if (partition(v, text, len, parse_special, &fl)) goto done;
    if (add_special && v->add_bos && lrq_idvec_push(&out, v->bos)) goto done;
    int prev_special = 1; /* SPM: a prefix space goes before the first text and after each special token */
    for (size_t f = 0; f < fl.n; f++) {
        const fragment *fr = &fl.v[f];
        if (fr->tok >= 0) {
            if (lrq_idvec_push(&out, fr->tok)) goto done;
            prev_special = 1;
            continue;
        }
        if (v->kind == LRQ_VOCAB_SPM) {
            const char *s = text + fr->off;
            size_t sl = fr->len;
            if (v->add_space_prefix && prev_special) {
                char *nt = lrq_realloc(tmp, sl + 1);
                if (!nt) goto done;
                tmp = nt;
                tmp[0] = ' ';
                memcpy(tmp + 1, s, sl);
                s = tmp;
                sl++;
            }
            if (lrq_spm_tokenize(v, s, sl, &out)) goto done;
        } else {
            if (lrq_bpe_tokenize(v, text + fr->off, fr->len, &out)) goto done;
        }
        prev_special = 0;
    }
    if (add_special && v->add_eos && lrq_idvec_push(&out, v->eos)) goto done;
    if (!out.v) {
        out.v = lrq_malloc(sizeof(int32_t));
        if (!out.v) goto done;
    }
    *ids = out.v;
    *n = out.n;
    out.v = NULL;
    rc = 0;
done:
    free(out.v);
    free(fl.v);
    free(tmp);
    return rc;
}

/* ---- token -> text ---- */

/* Copy src into buf (as much as fits) at position *pos, advancing *pos by its full length. */
static void put(char *buf, size_t cap, size_t *pos, const char *src, size_t n) {
    if (*pos < cap) memcpy(buf + *pos, src, n <= cap - *pos ? n : cap - *pos);
    *pos += n;
}

int lrq_token_to_piece(const lrq_vocab *v, int32_t id, char *buf, size_t cap, int special) {
    if (id < 0 || id >= v->n_tokens) return -1;
    uint32_t at = v->attr[id];
    const char *t = lrq_vocab_text(v, id);
    size_t tl = v->tok_len[id], pos = 0;
    if (!special && (at & (LRQ_ATTR_UNKNOWN | LRQ_ATTR_CONTROL))) return 0;
    if (at & (LRQ_ATTR_UNKNOWN | LRQ_ATTR_CONTROL | LRQ_ATTR_USER_DEFINED)) {
        put(buf, cap, &pos, t, tl);
    } else if (at & LRQ_ATTR_NORMAL) {
        if (v->kind == LRQ_VOCAB_SPM) {
            /* U+2581 back to ' ' */
            size_t i = 0;
            while (i < tl) {
                if (tl - i >= 3 && (uint8_t)t[i] == 0xE2 && (uint8_t)t[i + 1] == 0x96 && (uint8_t)t[i + 2] == 0x81) {
                    put(buf, cap, &pos, " ", 1);
                    i += 3;
                } else {
                    put(buf, cap, &pos, t + i, 1);
                    i++;
                }
            }
        } else {
            /* GPT-2 alphabet back to bytes; a character outside it is
             * rendered the way llama.cpp does: "[UNK_BYTE_0x<hex>" + the
             * whole token text + "]". */
            size_t i = 0;
            while (i < tl) {
                size_t adv;
                uint32_t cp = lrq_utf8_decode((const uint8_t *)t + i, tl - i, &adv);
                i += adv;
                int b = lrq_gpt2_cp_byte(cp);
                if (b >= 0) {
                    char c = (char)b;
                    put(buf, cap, &pos, &c, 1);
                } else {
                    uint8_t u[4];
                    size_t k = lrq_utf8_encode(cp, u);
                    char hex[16];
                    put(buf, cap, &pos, "[UNK_BYTE_0x", 12);
                    for (size_t q = 0; q < k; q++) {
                        snprintf(hex, sizeof hex, "%02x", u[q]);
                        put(buf, cap, &pos, hex, 2);
                    }
                    put(buf, cap, &pos, t, tl);
                    put(buf, cap, &pos, "]", 1);
                }
            }
        }
    } else if (at & LRQ_ATTR_BYTE) {
        /* "<0xXX>": the two hex digits after "<0x" */
        unsigned val = 0;
        for (size_t i = 3; i < 5 && i < tl; i++) {
            char c = t[i];
            unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0')
                       : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                       : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10) : 16u;
            if (d == 16) break;
            val = val * 16 + d;
        }
        char c = (char)val;
        put(buf, cap, &pos, &c, 1);
    }
    if (pos > (size_t)INT32_MAX) return lrq_err_set("token_to_piece: piece too long");
    return (int)pos;
}
