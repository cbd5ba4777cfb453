/* vocab_hf.c — vocabulary from a Hugging Face tokenizer.json (+ optional
 * tokenizer_config.json), built the way llama.cpp's convert_hf_to_gguf.py
 * would write it into a GGUF, so that tokenizing gives the same ids:
 *  - byte-level BPE ("gpt2" model): tokens by id, added tokens CONTROL when
 *    special (or looking special: "<|...|>", "<｜...｜>", "<unused...>",
 *    "<pad>", ...) else USER_DEFINED, missing ids "[PADn]" UNUSED; merges;
 *    the pre-tokenizer recognised from its Split regexes;
 *  - SentencePiece-style BPE with byte fallback ("llama" model, as
 *    LlamaHfVocab converts it): <0xXX> tokens BYTE, special tokens CONTROL,
 *    every score -1000.
 * BOS/EOS/UNK/PAD come from tokenizer_config.json entries looked up among
 * the added tokens; without a config, from a TemplateProcessing post
 * processor. (The converter also reads config.json for ids; an id found
 * nowhere stays unset here instead of taking llama.cpp's numeric default.) */
#include "tok/vocab_impl.h"
#include "io/json.h"
#include "core/core.h"
#include "core/mapfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The pre-tokenizer regexes of known tokenizer.json files. */
static const char RE_QWEN2[] =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
    "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
static const char RE_LLAMA3[] =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
    "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
static const char RE_QWEN35[] =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}| ?[^\\s\\p{L}\\p{M}\\p{N}]+"
    "[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

static int str_eq(const lrq_json *j, const char *s) {
    size_t n;
    const char *p = lrq_json_str(j, &n);
    return p && n == strlen(s) && memcmp(p, s, n) == 0;
}

static int has_prefix_suffix(const char *t, size_t n, const char *pre, const char *suf) {
    size_t a = strlen(pre), b = strlen(suf);
    return n >= a + b && memcmp(t, pre, a) == 0 && memcmp(t + n - b, suf, b) == 0;
}

/* convert_hf_to_gguf's does_token_look_special. */
static int looks_special(const char *t, size_t n) {
    static const char *const exact[] = { "<pad>", "<mask>", "<2mass>", "[@BOS@]", NULL };
    for (const char *const *e = exact; *e; e++)
        if (n == strlen(*e) && memcmp(t, *e, n) == 0) return 1;
    return has_prefix_suffix(t, n, "<|", "|>") ||
           has_prefix_suffix(t, n, "<\xef\xbd\x9c", "\xef\xbd\x9c>") ||
           has_prefix_suffix(t, n, "<unused", ">");
}

/* Walk a pre_tokenizer: collect Split regexes (up to 8) and note ByteLevel
 * (with its use_regex flag). */
typedef struct {
    const char *re[8];
    size_t re_len[8];
    int n_re, byte_level, byte_level_regex, other;
} pre_info;

static void scan_pre(const lrq_json *p, pre_info *pi) {
    if (!p || lrq_json_type(p) != LRQ_JSON_OBJECT) return;
    const lrq_json *type = lrq_json_get(p, "type");
    if (str_eq(type, "Sequence")) {
        const lrq_json *list = lrq_json_get(p, "pretokenizers");
        for (size_t i = 0; i < lrq_json_len(list); i++) scan_pre(lrq_json_at(list, i), pi);
    } else if (str_eq(type, "ByteLevel")) {
        pi->byte_level = 1;
        pi->byte_level_regex = lrq_json_bool(lrq_json_get(p, "use_regex")) != 0; /* default true */
    } else if (str_eq(type, "Split")) {
        const char *r = lrq_json_str(lrq_json_get(lrq_json_get(p, "pattern"), "Regex"), NULL);
        if (r && pi->n_re < 8) {
            pi->re[pi->n_re] = r;
            lrq_json_str(lrq_json_get(lrq_json_get(p, "pattern"), "Regex"), &pi->re_len[pi->n_re]);
            pi->n_re++;
        } else {
            pi->other = 1;
        }
    } else {
        pi->other = 1;
    }
}

static int re_is(const pre_info *pi, int i, const char *s) {
    return i < pi->n_re && pi->re_len[i] == strlen(s) && memcmp(pi->re[i], s, pi->re_len[i]) == 0;
}

/* tokenizer.ggml.pre name for a byte-level tokenizer.json, or NULL. */
static const char *detect_pre(const pre_info *pi, int ignore_merges) {
    if (pi->other) return NULL;
    if (pi->n_re == 0 && pi->byte_level && pi->byte_level_regex) return "gpt-2";
    if (pi->n_re == 1 && re_is(pi, 0, RE_QWEN2)) return "qwen2";
    if (pi->n_re == 1 && re_is(pi, 0, RE_QWEN35)) return "qwen35";
    if (pi->n_re == 1 && re_is(pi, 0, RE_LLAMA3)) return ignore_merges ? "llama-bpe" : "dbrx";
    /* DeepSeek: recognised by the distinctive members of their Split lists */
    if (pi->n_re == 6 && re_is(pi, 0, "[\r\n]") && re_is(pi, 3, "\\s+$") && re_is(pi, 5, "\\p{N}+"))
        return "deepseek-llm";
    if (pi->n_re == 5 && re_is(pi, 0, "[\r\n]") && re_is(pi, 1, "\\s?\\p{L}+") &&
        re_is(pi, 2, "\\s?\\p{P}+") && re_is(pi, 4, "\\p{N}"))
        return "deepseek-coder";
    return NULL;
}

/* Content of a tokenizer_config special-token entry (string or {"content": ...}). */
static const char *entry_content(const lrq_json *e, size_t *n) {
    if (!e) return NULL;
    if (lrq_json_type(e) == LRQ_JSON_STRING) return lrq_json_str(e, n);
    if (lrq_json_type(e) == LRQ_JSON_OBJECT) return lrq_json_str(lrq_json_get(e, "content"), n);
    return NULL;
}

/* Id of the first added token whose content is c[0..n), or -1. */
static int32_t added_id(const lrq_json *added, const char *c, size_t n) {
    if (!c) return -1;
    for (size_t i = 0; i < lrq_json_len(added); i++) {
        const lrq_json *a = lrq_json_at(added, i);
        size_t an;
        const char *ac = lrq_json_str(lrq_json_get(a, "content"), &an);
        int64_t id;
        if (ac && an == n && memcmp(ac, c, n) == 0 && lrq_json_int(lrq_json_get(a, "id"), &id) && id >= 0 &&
            id <= INT32_MAX)
            return (int32_t)id;
    }
    return -1;
}

typedef struct {
    const char *bos, *eos, *unk, *pad;  /* contents, NULL = unset */
    size_t bos_n, eos_n, unk_n, pad_n;
    int add_bos, add_eos;               /* -1 = unset */
} hf_specials;

static void read_specials(const lrq_json *root, const lrq_json *cfg, hf_specials *sp) {
    memset(sp, 0, sizeof *sp);
    sp->add_bos = sp->add_eos = -1;
    if (cfg) {
        sp->bos = entry_content(lrq_json_get(cfg, "bos_token"), &sp->bos_n);
        sp->eos = entry_content(lrq_json_get(cfg, "eos_token"), &sp->eos_n);
        sp->unk = entry_content(lrq_json_get(cfg, "unk_token"), &sp->unk_n);
        sp->pad = entry_content(lrq_json_get(cfg, "pad_token"), &sp->pad_n);
        if (!sp->bos) sp->bos = entry_content(lrq_json_get(cfg, "cls_token"), &sp->bos_n);
        if (!sp->eos) sp->eos = entry_content(lrq_json_get(cfg, "sep_token"), &sp->eos_n);
    }
    /* TemplateProcessing: a leading/trailing special token in "single" means
     * BOS/EOS are added (and names them when there is no config). */
    const lrq_json *pp = lrq_json_get(root, "post_processor");
    const lrq_json *procs = lrq_json_get(pp, "processors");
    size_t np = procs ? lrq_json_len(procs) : (pp ? 1 : 0);
    for (size_t k = 0; k < np; k++) {
        const lrq_json *p = procs ? lrq_json_at(procs, k) : pp;
        if (!str_eq(lrq_json_get(p, "type"), "TemplateProcessing")) continue;
        const lrq_json *single = lrq_json_get(p, "single");
        size_t ns = lrq_json_len(single);
        if (ns <= 1) continue;
        size_t fn, ln;
        const char *first = lrq_json_str(lrq_json_get(lrq_json_get(lrq_json_at(single, 0), "SpecialToken"), "id"), &fn);
        const char *last = lrq_json_str(lrq_json_get(lrq_json_get(lrq_json_at(single, ns - 1), "SpecialToken"), "id"), &ln);
        if (first) {
            if (!cfg || !sp->bos) { sp->bos = first; sp->bos_n = fn; }
            sp->add_bos = sp->bos_n == fn && memcmp(sp->bos, first, fn) == 0;
        }
        if (last) {
            if (!cfg || !sp->eos) { sp->eos = last; sp->eos_n = ln; }
            sp->add_eos = sp->eos_n == ln && memcmp(sp->eos, last, ln) == 0;
        }
    }
    if (cfg) {
        int b = lrq_json_bool(lrq_json_get(cfg, "add_bos_token"));
        if (b >= 0) sp->add_bos = b;
        b = lrq_json_bool(lrq_json_get(cfg, "add_eos_token"));
        if (b >= 0) sp->add_eos = b;
    }
}

static int parse_file(const char *path, lrq_json_doc **doc, char **text) {
    size_t n;
    *text = lrq_read_file(path, &n);
    if (!*text) return -1;
    if (lrq_json_parse(doc, *text, n, path)) {
        free(*text);
        *text = NULL;
        return -1;
    }
    return 0;
}

int lrq_vocab_from_hf(lrq_vocab **out, const char *tok_path, const char *cfg_path) {
    *out = NULL;
    lrq_json_doc *doc = NULL, *cdoc = NULL;
    char *text = NULL, *ctext = NULL, *extra = NULL;
    lrq_strref *texts = NULL, *merges = NULL;
    uint8_t *types = NULL;
    lrq_vocab *v = NULL;
    int rc = -1;

    if (parse_file(tok_path, &doc, &text)) goto done;
    if (cfg_path && parse_file(cfg_path, &cdoc, &ctext)) goto done;
    const lrq_json *root = lrq_json_root(doc);
    const lrq_json *cfg = cdoc ? lrq_json_root(cdoc) : NULL;
    if (cfg && lrq_json_type(cfg) != LRQ_JSON_OBJECT) { lrq_err_set("%s: not a JSON object", cfg_path); goto done; }
    const lrq_json *model = lrq_json_get(root, "model");
    if (!model || lrq_json_type(model) != LRQ_JSON_OBJECT) {
        lrq_err_set("%s: no \"model\" object", tok_path);
        goto done;
    }
    const lrq_json *mtype = lrq_json_get(model, "type");
    if (mtype && !str_eq(mtype, "BPE")) {
        size_t n;
        const char *s = lrq_json_str(mtype, &n);
        lrq_err_set("%s: unsupported model type '%.*s' (only BPE)", tok_path, s ? (int)(n > 32 ? 32 : n) : 1,
                    s ? s : "?");
        goto done;
    }
    const lrq_json *vocab = lrq_json_get(model, "vocab");
    if (lrq_json_type(vocab) != LRQ_JSON_OBJECT || lrq_json_len(vocab) == 0) {
        lrq_err_set("%s: \"model\".\"vocab\" missing or empty", tok_path);
        goto done;
    }
    const lrq_json *added = lrq_json_get(root, "added_tokens");
    if (added && lrq_json_type(added) != LRQ_JSON_ARRAY) { lrq_err_set("%s: \"added_tokens\" is not an array", tok_path); goto done; }
    size_t n_base = lrq_json_len(vocab), n_added = lrq_json_len(added);

    pre_info pi;
    memset(&pi, 0, sizeof pi);
    scan_pre(lrq_json_get(root, "pre_tokenizer"), &pi);
    int byte_fallback = lrq_json_bool(lrq_json_get(model, "byte_fallback")) == 1;
    int ignore_merges = lrq_json_bool(lrq_json_get(model, "ignore_merges")) == 1;
    const lrq_json *dec = lrq_json_get(root, "decoder");
    int kind;
    if (pi.byte_level || str_eq(lrq_json_get(dec, "type"), "ByteLevel")) kind = LRQ_VOCAB_BPE;
    else if (byte_fallback && str_eq(lrq_json_get(dec, "type"), "Sequence")) kind = LRQ_VOCAB_SPM;
    else { lrq_err_set("%s: neither a byte-level BPE nor a byte-fallback (SentencePiece-style) BPE", tok_path); goto done; }

    /* Vocabulary size: one past the largest id; ids must be dense enough. */
    int64_t max_id = -1;
    for (size_t i = 0; i < n_base; i++) {
        int64_t id;
        if (!lrq_json_int(lrq_json_at(vocab, i), &id) || id < 0 || id >= INT32_MAX) {
            lrq_err_set("%s: vocab entry %zu: id is not a valid integer", tok_path, i);
            goto done;
        }
        if (id > max_id) max_id = id;
    }
    for (size_t i = 0; i < n_added; i++) {
        int64_t id;
        const lrq_json *a = lrq_json_at(added, i);
        if (!lrq_json_int(lrq_json_get(a, "id"), &id) || id < 0 || id >= INT32_MAX ||
            !lrq_json_str(lrq_json_get(a, "content"), NULL)) {
            lrq_err_set("%s: added_tokens[%zu]: bad id or content", tok_path, i);
            goto done;
        }
        if (id > max_id) max_id = id;
    }
    if ((uint64_t)max_id >= 2 * (uint64_t)(n_base + n_added) + 1024) {
        lrq_err_set("%s: token ids up to %lld for %zu tokens: too sparse", tok_path, (long long)max_id,
                    n_base + n_added);
        goto done;
    }
    int32_t n = (int32_t)(max_id + 1);
    texts = lrq_calloc((size_t)n, sizeof *texts);
    types = lrq_calloc((size_t)n, 1);
    /* room for "[PADn]" names and user-defined texts with U+2581 -> ' ' */
    size_t extra_cap = (size_t)n * 20 + 16;
    for (size_t i = 0; i < n_added; i++) {
        size_t cn;
        lrq_json_str(lrq_json_get(lrq_json_at(added, i), "content"), &cn);
        extra_cap += cn;
    }
    extra = lrq_malloc(extra_cap);
    if (!texts || !types || !extra) goto done;
    size_t extra_used = 0;

    for (size_t i = 0; i < n_base; i++) {
        int64_t id;
        lrq_json_int(lrq_json_at(vocab, i), &id);
        size_t kn;
        const char *k = lrq_json_key_at(vocab, i, &kn);
        if (texts[id].p) {
            lrq_err_set("%s: vocab: id %lld used twice", tok_path, (long long)id);
            goto done;
        }
        texts[id].p = k;
        texts[id].n = kn;
        types[id] = LRQ_TOKEN_NORMAL;
    }

    hf_specials sp;
    read_specials(root, cfg, &sp);
    int32_t sid[4] = { added_id(added, sp.bos, sp.bos_n), added_id(added, sp.eos, sp.eos_n),
                       added_id(added, sp.unk, sp.unk_n), added_id(added, sp.pad, sp.pad_n) };

    for (size_t i = 0; i < n_added; i++) {
        const lrq_json *a = lrq_json_at(added, i);
        int64_t id;
        lrq_json_int(lrq_json_get(a, "id"), &id);
        size_t cn;
        const char *c = lrq_json_str(lrq_json_get(a, "content"), &cn);
        int special = lrq_json_bool(lrq_json_get(a, "special")) == 1;
        if (kind == LRQ_VOCAB_BPE) {
            if (special || looks_special(c, cn)) {
                texts[id].p = c;
                texts[id].n = cn;
                types[id] = LRQ_TOKEN_CONTROL;
            } else {
                /* user-defined tokens are stored pre-normalised: U+2581 -> ' ' */
                char *dst = extra + extra_used;
                size_t k = 0;
                for (size_t j = 0; j < cn; j++) {
                    if (cn - j >= 3 && memcmp(c + j, "\xe2\x96\x81", 3) == 0) { dst[k++] = ' '; j += 2; }
                    else dst[k++] = c[j];
                }
                extra_used += k;
                texts[id].p = dst;
                texts[id].n = k;
                types[id] = LRQ_TOKEN_USER_DEFINED;
            }
        } else {
            int is_sp = special;
            for (int q = 0; q < 4; q++) is_sp |= sid[q] == id;
            texts[id].p = c;
            texts[id].n = cn;
            /* an added token beyond the base vocab is USER_DEFINED unless special */
            if (is_sp) types[id] = LRQ_TOKEN_CONTROL;
            else if (!types[id]) types[id] = LRQ_TOKEN_USER_DEFINED;
        }
    }
    for (int32_t id = 0; id < n; id++) {
        if (texts[id].p) {
            if (kind == LRQ_VOCAB_SPM && types[id] == LRQ_TOKEN_NORMAL && texts[id].n == 6 &&
                memcmp(texts[id].p, "<0x", 3) == 0 && texts[id].p[5] == '>') {
                char h1 = texts[id].p[3], h2 = texts[id].p[4];
                int hex1 = (h1 >= '0' && h1 <= '9') || (h1 >= 'A' && h1 <= 'F') || (h1 >= 'a' && h1 <= 'f');
                int hex2 = (h2 >= '0' && h2 <= '9') || (h2 >= 'A' && h2 <= 'F') || (h2 >= 'a' && h2 <= 'f');
                if (hex1 && hex2) types[id] = LRQ_TOKEN_BYTE;
            }
            continue;
        }
        int k = snprintf(extra + extra_used, 20, "[PAD%d]", (int)id);
        texts[id].p = extra + extra_used;
        texts[id].n = (size_t)k;
        extra_used += (size_t)k;
        types[id] = LRQ_TOKEN_UNUSED;
    }
    LRQ_ASSERT(extra_used <= extra_cap);

    if (lrq_vocab_create(&v, kind, n, texts, tok_path)) goto done;
    for (int32_t id = 0; id < n; id++) {
        v->ttype[id] = types[id];
        if (kind == LRQ_VOCAB_SPM) v->score[id] = -1000.0f;
    }

    lrq_vocab_opts o;
    lrq_vocab_init_opts(v, &o);
    if (kind == LRQ_VOCAB_BPE) {
        const char *pre = detect_pre(&pi, ignore_merges);
        if (!pre) { lrq_err_set("%s: unrecognised pre_tokenizer (no matching llama.cpp pre-tokenizer)", tok_path); goto done; }
        if (lrq_vocab_set_pre(v, pre, strlen(pre), &o)) goto done;
        /* Unknown ids stay unset rather than llama.cpp's numeric BPE default. */
        o.bos = o.eos = -1;
        const lrq_json *ml = lrq_json_get(model, "merges");
        if (lrq_json_type(ml) != LRQ_JSON_ARRAY) { lrq_err_set("%s: \"model\".\"merges\" missing", tok_path); goto done; }
        size_t nm = lrq_json_len(ml);
        if (nm > (size_t)INT32_MAX) { lrq_err_set("%s: too many merges", tok_path); goto done; }
        merges = lrq_calloc(nm + 1, sizeof *merges);
        if (!merges) goto done;
        /* Pair form ["a", "b"] is joined with a space (a space inside a part
         * is written as U+0120, as the converter does). */
        size_t pair_bytes = 0;
        for (size_t i = 0; i < nm; i++) {
            const lrq_json *e = lrq_json_at(ml, i);
            if (lrq_json_type(e) == LRQ_JSON_ARRAY) {
                size_t a, b;
                if (lrq_json_len(e) != 2 || !lrq_json_str(lrq_json_at(e, 0), &a) || !lrq_json_str(lrq_json_at(e, 1), &b)) {
                    lrq_err_set("%s: merge %zu is not a pair of strings", tok_path, i);
                    goto done;
                }
                pair_bytes += 2 * (a + b) + 1;
            } else if (!lrq_json_str(e, NULL)) {
                lrq_err_set("%s: merge %zu is not a string", tok_path, i);
                goto done;
            }
        }
        char *pb = pair_bytes ? lrq_malloc(pair_bytes) : NULL;
        if (pair_bytes && !pb) goto done;
        size_t pu = 0;
        for (size_t i = 0; i < nm; i++) {
            const lrq_json *e = lrq_json_at(ml, i);
            if (lrq_json_type(e) == LRQ_JSON_STRING) {
                merges[i].p = lrq_json_str(e, &merges[i].n);
                continue;
            }
            char *dst = pb + pu;
            size_t k = 0;
            for (int part = 0; part < 2; part++) {
                size_t sn;
                const char *s = lrq_json_str(lrq_json_at(e, (size_t)part), &sn);
                if (part) dst[k++] = ' ';
                for (size_t j = 0; j < sn; j++) {
                    if (s[j] == ' ') { dst[k++] = (char)0xC4; dst[k++] = (char)0xA0; }
                    else dst[k++] = s[j];
                }
            }
            merges[i].p = dst;
            merges[i].n = k;
            pu += k;
        }
        int mr = lrq_vocab_set_merges(v, merges, (int32_t)nm);
        free(pb);
        if (mr) goto done;
    } else {
        snprintf(v->pre_name, sizeof v->pre_name, "default");
    }
    if (sid[0] >= 0) o.bos = sid[0];
    if (sid[1] >= 0) o.eos = sid[1];
    if (sid[2] >= 0) o.unk = sid[2];
    if (sid[3] >= 0) o.pad = sid[3];
    if (sp.add_bos >= 0) o.add_bos = sp.add_bos;
    if (sp.add_eos >= 0) o.add_eos = sp.add_eos;
    if (lrq_vocab_finish(v, &o)) goto done;
    *out = v;
    v = NULL;
    rc = 0;
done:
    lrq_vocab_free(v);
    free(texts);
    free(types);
    free(extra);
    free(merges);
    lrq_json_free(doc);
    lrq_json_free(cdoc);
    free(text);
    free(ctext);
    return rc;
}
