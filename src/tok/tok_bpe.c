/* tok_bpe.c — byte-level BPE as llama.cpp's "gpt2" vocab type does it.
 *
 * 1. Pre-tokenize: a list of regexes (chosen by tokenizer.ggml.pre) is
 *    applied in turn; each one cuts every current piece into its matches and
 *    the unmatched gaps between them (both kept). llama.cpp runs some of these
 *    patterns with hand-written scanners and the others with std::regex over
 *    a category-collapsed text; here all run on PCRE2, with the patterns
 *    rewritten so they mean exactly what llama.cpp computes:
 *      - \s is llama.cpp's whitespace set (lrq_pcre_space_class), not PCRE2's;
 *      - \p{L}/\p{N}/\p{M}/\p{P} also include the Unicode 15.0/15.1 additions
 *        that llama.cpp's table has and PCRE2 10.42's does not;
 *      - (?i:'s|...) is spelled '[sS]|... (what llama.cpp's scanner does);
 *      - $ is \z (std::regex's $ without multiline);
 *      - in patterns llama.cpp runs through std::wregex, every non-ASCII
 *        whitespace character was replaced by U+000B first, so the explicit
 *        ranges here leave those characters out.
 *    Input bytes are first decoded the way llama.cpp decodes them (an invalid
 *    byte becomes U+FFFD) and re-encoded, so pieces carry llama.cpp's bytes.
 * 2. Each piece's bytes are mapped to GPT-2's byte alphabet and merged:
 *    repeatedly the adjacent pair with the lowest merge rank (leftmost on
 *    ties) is joined, as llama.cpp's priority queue does.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "tok/vocab_impl.h"
#include "tok/unicode.h"
#include "core/core.h"

#include <stdlib.h>
#include <string.h>

/* ---- patterns ----
 * Templates expanded before compiling: %s = llama.cpp whitespace, %L/%N/%M/%P
 * = \p{L}/\p{N}/\p{M}/\p{P} plus the Unicode 15 additions. All of them are
 * used inside [...] only. */

/* GPT-2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)
 * plus a final \s+ for the single whitespace before a non-space character
 * (llama.cpp's scanner emits it as its own piece; an unmatched gap would be
 * the same piece). */
#define PAT_GPT2 "'s|'t|'re|'ve|'m|'ll|'d| ?[%L]+| ?[%N]+| ?[^%s%L%N]+|[%s]+(?![^%s])|[%s]+"

#define PAT_CONTRACTIONS "'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD]"

/* Qwen2 / Llama-3: (?i:contractions)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}(1 or 1..3)|
 * ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+ */
#define PAT_QWEN2 PAT_CONTRACTIONS "|[^\\r\\n%L%N]?[%L]+|[%N]| ?[^%s%L%N]+[\\r\\n]*|[%s]*[\\r\\n]+" \
    "|[%s]+(?![^%s])|[%s]+"
#define PAT_LLAMA3 PAT_CONTRACTIONS "|[^\\r\\n%L%N]?[%L]+|[%N]{1,3}| ?[^%s%L%N]+[\\r\\n]*" \
    "|[%s]*[\\r\\n]+|[%s]+(?![^%s])|[%s]+"
#define PAT_QWEN35 PAT_CONTRACTIONS "|[^\\r\\n%L%N]?[%L%M]+|[%N]| ?[^%s%L%M%N]+[\\r\\n]*" \
    "|[%s]*[\\r\\n]+|[%s]+(?![^%s])|[%s]+"

/* DeepSeek LLM letters: the explicit ranges of its tokenizer.json. */
#define PAT_DS_LETTERS "[%s]?[" \
    "\\x{41}-\\x{5A}\\x{61}-\\x{7A}\\x{B5}\\x{C0}-\\x{D6}\\x{D8}-\\x{F6}\\x{F8}-\\x{1BA}" \
    "\\x{1BC}-\\x{1BF}\\x{1C4}-\\x{293}\\x{295}-\\x{2AF}\\x{370}-\\x{373}\\x{376}\\x{377}" \
    "\\x{37B}-\\x{37D}\\x{37F}\\x{386}\\x{388}-\\x{38A}\\x{38C}\\x{38E}-\\x{3A1}" \
    "\\x{3A3}-\\x{3F5}\\x{3F7}-\\x{481}\\x{48A}-\\x{52F}\\x{531}-\\x{556}\\x{10A0}-\\x{10C5}" \
    "\\x{13A0}-\\x{13F5}\\x{13F8}-\\x{13FD}\\x{1C90}-\\x{1CBA}\\x{1CBD}-\\x{1CBF}" \
    "\\x{1D00}-\\x{1D2B}\\x{1D6B}-\\x{1D77}\\x{1D79}-\\x{1D9A}\\x{1E00}-\\x{1F15}" \
    "\\x{1F18}-\\x{1F1D}\\x{1F20}-\\x{1F45}\\x{1F48}-\\x{1F4D}\\x{1F50}-\\x{1F57}\\x{1F59}" \
    "\\x{1F5B}\\x{1F5D}\\x{1F5F}-\\x{1F7D}\\x{1F80}-\\x{1FB4}\\x{1FB6}-\\x{1FBC}\\x{1FBE}" \
    "\\x{1FC2}-\\x{1FC4}\\x{1FC6}-\\x{1FCC}\\x{1FD0}-\\x{1FD3}\\x{1FD6}-\\x{1FDB}" \
    "\\x{1FE0}-\\x{1FEC}\\x{1FF2}-\\x{1FF4}\\x{1FF6}-\\x{1FFC}\\x{2102}\\x{2107}" \
    "\\x{210A}-\\x{2113}\\x{2115}\\x{2119}-\\x{211D}\\x{2124}\\x{2126}\\x{2128}" \
    "\\x{212A}-\\x{212D}\\x{212F}-\\x{2134}\\x{2139}\\x{213C}-\\x{213F}\\x{2145}-\\x{2149}" \
    "\\x{214E}\\x{2183}\\x{2184}\\x{2C00}-\\x{2C7B}\\x{2C7E}-\\x{2CE4}\\x{2CEB}-\\x{2CEE}" \
    "\\x{2CF2}\\x{2CF3}\\x{A640}-\\x{A66D}\\x{A680}-\\x{A69B}\\x{A722}-\\x{A76F}" \
    "\\x{A771}-\\x{A787}\\x{A78B}-\\x{A78E}\\x{AB70}-\\x{ABBF}\\x{FB00}-\\x{FB06}" \
    "\\x{FB13}-\\x{FB17}\\x{FF21}-\\x{FF3A}\\x{FF41}-\\x{FF5A}\\x{10400}-\\x{1044F}" \
    "\\x{104B0}-\\x{104D3}\\x{104D8}-\\x{104FB}\\x{10C80}-\\x{10CB2}\\x{10CC0}-\\x{10CF2}" \
    "\\x{118A0}-\\x{118DF}\\x{1E900}-\\x{1E943}]+"
/* DeepSeek LLM punctuation: ASCII punctuation, fullwidth forms, quotes,
 * U+3001/3002 (U+3000 is whitespace, which llama.cpp masks out first). */
#define PAT_DS_PUNCT "[%s]?[\\x{21}-\\x{2F}\\x{3A}-\\x{7E}\\x{FF01}-\\x{FF0F}\\x{FF1A}-\\x{FF5E}" \
    "\\x{2018}-\\x{201F}\\x{3001}-\\x{3002}]+"
/* DeepSeek CJK run: U+0800..U+9FA5 and U+AC00..U+D7FF without the
 * whitespace characters in that span. */
#define PAT_DS_CJK "[\\x{800}-\\x{167F}\\x{1681}-\\x{1FFF}\\x{200B}-\\x{2027}\\x{202A}-\\x{202E}" \
    "\\x{2030}-\\x{205E}\\x{2060}-\\x{2FFF}\\x{3001}-\\x{9FA5}\\x{AC00}-\\x{D7FF}]+"

static const char *const PATS_DEFAULT[] = { "[%P$+<=>^~|]+", PAT_GPT2, "[%N]+", "[0-9][0-9][0-9]", NULL };
static const char *const PATS_GPT2[] = { PAT_GPT2, NULL };
static const char *const PATS_QWEN2[] = { PAT_QWEN2, NULL };
static const char *const PATS_QWEN35[] = { PAT_QWEN35, NULL };
static const char *const PATS_LLAMA3[] = { PAT_LLAMA3, NULL };
static const char *const PATS_DS_LLM[] = {
    "[\\r\\n]", PAT_DS_LETTERS, PAT_DS_PUNCT, "[%s]+\\z", PAT_DS_CJK, "[%N]+", NULL };
static const char *const PATS_DS_CODER[] = {
    "[\\r\\n]", "[%s]?[%L]+", "[%s]?[%P]+", PAT_DS_CJK, "[%N]", NULL };
static const char *const PATS_STARCODER[] = { "[%N]", PAT_GPT2, NULL };
static const char *const PATS_FALCON[] = { "[%P$+<=>^~|`]+", PAT_GPT2, "[0-9][0-9][0-9]", NULL };

static const char *const *patterns_for(int pre) {
    switch (pre) {
    case LRQ_PRE_GPT2: return PATS_GPT2;
    case LRQ_PRE_QWEN2: return PATS_QWEN2;
    case LRQ_PRE_QWEN35: return PATS_QWEN35;
    case LRQ_PRE_LLAMA3: return PATS_LLAMA3;
    case LRQ_PRE_DEEPSEEK_LLM: return PATS_DS_LLM;
    case LRQ_PRE_DEEPSEEK_CODER: return PATS_DS_CODER;
    case LRQ_PRE_STARCODER: return PATS_STARCODER;
    case LRQ_PRE_FALCON: return PATS_FALCON;
    default: return PATS_DEFAULT;
    }
}

/* Expand the %-placeholders of a template into a malloc'ed pattern. */
static char *expand_pattern(const char *tpl) {
    size_t cap = 64;
    for (const char *p = tpl; *p; p++) cap += 1 + (*p == '%' ? 600 : 0);
    char *out = lrq_malloc(cap);
    if (!out) return NULL;
    size_t o = 0;
    for (const char *p = tpl; *p; p++) {
        const char *piece = NULL;
        const char *extra = "";
        if (*p == '%') {
            switch (p[1]) {
            case 's': piece = lrq_pcre_space_class; break;
            case 'L': piece = "\\p{L}"; extra = lrq_pcre_extra_L; break;
            case 'N': piece = "\\p{N}"; extra = lrq_pcre_extra_N; break;
            case 'M': piece = "\\p{M}"; extra = lrq_pcre_extra_M; break;
            case 'P': piece = "\\p{P}"; extra = lrq_pcre_extra_P; break;
            default: LRQ_ASSERT(!"bad pattern placeholder");
            }
            p++;
            size_t a = strlen(piece), b = strlen(extra);
            LRQ_ASSERT(o + a + b < cap);
            memcpy(out + o, piece, a);
            memcpy(out + o + a, extra, b);
            o += a + b;
        } else {
            LRQ_ASSERT(o + 1 < cap);
            out[o++] = *p;
        }
    }
    out[o] = 0;
    return out;
}

int lrq_bpe_compile_regex(lrq_vocab *v) {
    const char *const *pats = patterns_for(v->pre);
    v->n_regex = 0;
    for (int i = 0; pats[i]; i++) {
        LRQ_ASSERT(i < LRQ_VOCAB_MAX_REGEX);
        char *pat = expand_pattern(pats[i]);
        if (!pat) return -1;
        int ec;
        PCRE2_SIZE eo;
        pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
                                       PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK, &ec, &eo, NULL);
        if (!re) {
            PCRE2_UCHAR msg[160];
            pcre2_get_error_message(ec, msg, sizeof msg);
            lrq_err_set("pre-tokenizer '%s': regex %d does not compile at %zu: %s", v->pre_name, i,
                        (size_t)eo, (const char *)msg);
            free(pat);
            return -1;
        }
        free(pat);
        /* JIT is an optimisation only: when unavailable the interpreter runs. */
        (void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
        v->regex[v->n_regex++] = re;
    }
    return 0;
}

void lrq_bpe_free_regex(lrq_vocab *v) {
    for (int i = 0; i < v->n_regex; i++) pcre2_code_free((pcre2_code *)v->regex[i]);
    v->n_regex = 0;
}

/* ---- merge table ---- */

static size_t mhash(uint64_t key) {
    key ^= key >> 31;
    key *= 0x9E3779B97F4A7C15ull;
    key ^= key >> 29;
    return (size_t)key;
}

int lrq_bpe_merges_init(lrq_vocab *v, int32_t n_merges) {
    size_t slots = 16;
    while (slots < (size_t)n_merges * 2) slots *= 2;
    v->n_merges = n_merges;
    v->merge_left = lrq_calloc((size_t)n_merges + 1, sizeof(int32_t));
    v->merge_right = lrq_calloc((size_t)n_merges + 1, sizeof(int32_t));
    v->mkey = lrq_calloc(slots, sizeof(uint64_t));
    v->mrank = lrq_calloc(slots, sizeof(int32_t));
    v->mres = lrq_calloc(slots, sizeof(int32_t));
    if (!v->merge_left || !v->merge_right || !v->mkey || !v->mrank || !v->mres) return -1;
    for (size_t i = 0; i < slots; i++) v->mkey[i] = UINT64_MAX;
    v->mmask = slots - 1;
    return 0;
}

void lrq_bpe_merge_add(lrq_vocab *v, int32_t rank, int32_t left, int32_t right, int32_t result) {
    LRQ_ASSERT(rank >= 0 && rank < v->n_merges && left >= 0 && right >= 0);
    v->merge_left[rank] = left;
    v->merge_right[rank] = right;
    uint64_t key = ((uint64_t)(uint32_t)left << 32) | (uint32_t)right;
    for (size_t i = mhash(key) & v->mmask;; i = (i + 1) & v->mmask) {
        if (v->mkey[i] == key) return; /* duplicate pair: the first rank stays */
        if (v->mkey[i] == UINT64_MAX) {
            v->mkey[i] = key;
            v->mrank[i] = rank;
            v->mres[i] = result;
            return;
        }
    }
}

/* Rank of merging tokens (left, right), or -1; *res gets the merged token. */
static int32_t merge_find(const lrq_vocab *v, int32_t left, int32_t right, int32_t *res) {
    if (left < 0 || right < 0 || !v->mkey) return -1;
    uint64_t key = ((uint64_t)(uint32_t)left << 32) | (uint32_t)right;
    for (size_t i = mhash(key) & v->mmask;; i = (i + 1) & v->mmask) {
        if (v->mkey[i] == key) { *res = v->mres[i]; return v->mrank[i]; }
        if (v->mkey[i] == UINT64_MAX) return -1;
    }
}

/* ---- merging one word ---- */

typedef struct {
    int prev, next;
    uint32_t start, n;  /* byte span in the word (raw bytes, before the GPT-2 mapping) */
    int32_t id;         /* token whose text this symbol is, or -1 */
} bpe_sym;

typedef struct {
    int32_t rank;
    int left, right;
    uint32_t ln, rn;    /* symbol sizes when queued: the pair is stale once they change */
    int32_t res;
} bpe_pair;

typedef struct {
    bpe_sym *sym;
    size_t sym_cap;
    bpe_pair *heap;
    size_t heap_n, heap_cap;
    char *enc;          /* GPT-2-mapped word for the ignore_merges lookup */
    size_t enc_cap;
} bpe_scratch;

static int pair_before(const bpe_pair *a, const bpe_pair *b) {
    if (a->rank != b->rank) return a->rank < b->rank;
    return a->left < b->left;
}

static int heap_push(bpe_scratch *s, bpe_pair p) {
    if (s->heap_n == s->heap_cap) {
        size_t cap = s->heap_cap ? s->heap_cap * 2 : 64;
        bpe_pair *nv = lrq_realloc(s->heap, cap * sizeof *nv);
        if (!nv) return -1;
        s->heap = nv;
        s->heap_cap = cap;
    }
    size_t i = s->heap_n++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!pair_before(&p, &s->heap[parent])) break;
        s->heap[i] = s->heap[parent];
        i = parent;
    }
    s->heap[i] = p;
    return 0;
}

static bpe_pair heap_pop(bpe_scratch *s) {
    bpe_pair top = s->heap[0];
    bpe_pair last = s->heap[--s->heap_n];
    size_t i = 0, n = s->heap_n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && pair_before(&s->heap[c + 1], &s->heap[c])) c++;
        if (!pair_before(&s->heap[c], &last)) break;
        s->heap[i] = s->heap[c];
        i = c;
    }
    if (n) s->heap[i] = last;
    return top;
}

static int try_pair(const lrq_vocab *v, bpe_scratch *s, int left, int right) {
    if (left < 0 || right < 0) return 0;
    int32_t res;
    int32_t rank = merge_find(v, s->sym[left].id, s->sym[right].id, &res);
    if (rank < 0) return 0;
    bpe_pair p = { rank, left, right, s->sym[left].n, s->sym[right].n, res };
    return heap_push(s, p);
}

/* Byte-map w[0..n) into s->enc (GPT-2 alphabet, UTF-8); returns its length or SIZE_MAX. */
static size_t encode_word(bpe_scratch *s, const uint8_t *w, size_t n) {
    size_t need;
    if (lrq_mul_size(n, 2, &need)) { lrq_err_set("BPE: word too long"); return SIZE_MAX; }
    if (need > s->enc_cap) {
        char *ne = lrq_realloc(s->enc, need);
        if (!ne) return SIZE_MAX;
        s->enc = ne;
        s->enc_cap = need;
    }
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t u[4];
        size_t k = lrq_utf8_encode(lrq_gpt2_byte_cp(w[i]), u);
        memcpy(s->enc + o, u, k);
        o += k;
    }
    return o;
}

/* Tokenize one pre-tokenized word (raw bytes, llama.cpp-normalised UTF-8). */
static int bpe_word(const lrq_vocab *v, bpe_scratch *s, const uint8_t *w, size_t n, lrq_idvec *out) {
    if (n == 0) return 0;
    if (n > (size_t)INT32_MAX / 2) return lrq_err_set("BPE: word too long (%zu bytes)", n);
    if (v->ignore_merges) {
        size_t elen = encode_word(s, w, n);
        if (elen == SIZE_MAX) return -1;
        int32_t id = lrq_vocab_lookup(v, s->enc, elen);
        if (id >= 0) return lrq_idvec_push(out, id);
    }
    if (n > s->sym_cap) {
        bpe_sym *ns = lrq_realloc(s->sym, n * sizeof *ns);
        if (!ns) return -1;
        s->sym = ns;
        s->sym_cap = n;
    }
    /* Every byte is one GPT-2 character, so one symbol per byte. */
    for (size_t i = 0; i < n; i++) {
        bpe_sym *y = &s->sym[i];
        y->prev = (int)i - 1;
        y->next = i + 1 == n ? -1 : (int)i + 1;
        y->start = (uint32_t)i;
        y->n = 1;
        y->id = v->byte_tok[w[i]];
    }
    s->heap_n = 0;
    for (size_t i = 1; i < n; i++)
        if (try_pair(v, s, (int)i - 1, (int)i)) return -1;
    while (s->heap_n) {
        bpe_pair p = heap_pop(s);
        bpe_sym *l = &s->sym[p.left], *r = &s->sym[p.right];
        if (l->n == 0 || r->n == 0 || l->n != p.ln || r->n != p.rn) continue; /* stale */
        l->n += r->n;
        l->id = p.res;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0) s->sym[r->next].prev = p.left;
        if (try_pair(v, s, l->prev, p.left)) return -1;
        if (try_pair(v, s, p.left, l->next)) return -1;
    }
    for (int i = 0; i != -1; i = s->sym[i].next) {
        const bpe_sym *y = &s->sym[i];
        if (y->id >= 0) {
            if (lrq_idvec_push(out, y->id)) return -1;
            continue;
        }
        /* Not a token: llama.cpp looks up each byte of the symbol's mapped
         * text as a one-byte token and silently drops the misses. */
        for (uint32_t j = 0; j < y->n; j++) {
            uint8_t u[4];
            size_t k = lrq_utf8_encode(lrq_gpt2_byte_cp(w[y->start + j]), u);
            for (size_t q = 0; q < k; q++) {
                int32_t id = v->raw_byte_tok[u[q]];
                if (id >= 0 && lrq_idvec_push(out, id)) return -1;
            }
        }
    }
    return 0;
}

/* ---- pre-tokenization ---- */

typedef struct {
    size_t *a;          /* pairs (start, len) */
    size_t n, cap;      /* in pairs */
} seglist;

static int seg_push(seglist *l, size_t start, size_t len) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256, bytes;
        if (lrq_mul_size(cap, 2 * sizeof(size_t), &bytes)) return lrq_err_set("BPE: too many pieces");
        size_t *na = lrq_realloc(l->a, bytes);
        if (!na) return -1;
        l->a = na;
        l->cap = cap;
    }
    l->a[2 * l->n] = start;
    l->a[2 * l->n + 1] = len;
    l->n++;
    return 0;
}

/* Cut every piece of `in` by regex re into matches and gaps, into `out`. */
static int split_pass(const pcre2_code *re, const uint8_t *subj, const seglist *in, seglist *out,
                      pcre2_match_data *md) {
    out->n = 0;
    for (size_t k = 0; k < in->n; k++) {
        size_t base = in->a[2 * k], len = in->a[2 * k + 1];
        size_t prev = 0, off = 0;
        while (off < len) {
            int rc = pcre2_match(re, subj + base, len, off, PCRE2_NO_UTF_CHECK, md, NULL);
            if (rc == PCRE2_ERROR_NOMATCH) break;
            if (rc < 0) {
                PCRE2_UCHAR msg[160];
                pcre2_get_error_message(rc, msg, sizeof msg);
                return lrq_err_set("BPE pre-tokenizer: regex match failed: %s", (const char *)msg);
            }
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
            size_t ms = ov[0], me = ov[1];
            if (me <= ms) {
                /* None of the patterns can match empty; be safe anyway and
                 * step over one character without cutting. */
                off = ms + 1;
                while (off < len && (subj[base + off] & 0xC0) == 0x80) off++;
                continue;
            }
            if (ms > prev && seg_push(out, base + prev, ms - prev)) return -1;
            if (seg_push(out, base + ms, me - ms)) return -1;
            prev = off = me;
        }
        if (prev < len && seg_push(out, base + prev, len - prev)) return -1;
    }
    return 0;
}

int lrq_bpe_tokenize(const lrq_vocab *v, const char *text, size_t len, lrq_idvec *out) {
    if (len == 0) return 0;
    size_t cap;
    if (lrq_mul_size(len, 3, &cap)) return lrq_err_set("BPE: text too long");
    /* canon: the text as llama.cpp re-encodes its code points (what the
     * pieces are made of); proxy: the same layout, valid UTF-8 for PCRE2
     * (surrogates become U+E000, also category C; values beyond U+10FFFF,
     * which llama.cpp cannot re-encode, become U+FFFF / U+FFFD). */
    uint8_t *canon = lrq_malloc(cap), *proxy = lrq_malloc(cap);
    seglist sa = { 0 }, sb = { 0 };
    bpe_scratch s = { 0 };
    pcre2_match_data *md = NULL;
    int rc = -1;
    if (!canon || !proxy) goto done;

    size_t o = 0;
    for (size_t i = 0; i < len;) {
        size_t adv;
        uint32_t cp = lrq_utf8_decode((const uint8_t *)text + i, len - i, &adv);
        i += adv;
        uint8_t u[4];
        size_t k = lrq_utf8_encode(cp, u);
        if (k == 0) { /* > U+10FFFF */
            memcpy(canon + o, "\xEF\xBF\xBD", 3);
            memcpy(proxy + o, "\xEF\xBF\xBF", 3);
            o += 3;
            continue;
        }
        memcpy(canon + o, u, k);
        if (cp >= 0xD800 && cp <= 0xDFFF) memcpy(proxy + o, "\xEE\x80\x80", 3);
        else memcpy(proxy + o, u, k);
        o += k;
    }

    md = pcre2_match_data_create(1, NULL);
    if (!md) { lrq_err_set("BPE: out of memory"); goto done; }
    if (seg_push(&sa, 0, o)) goto done;
    for (int r = 0; r < v->n_regex; r++) {
        if (split_pass((const pcre2_code *)v->regex[r], proxy, &sa, &sb, md)) goto done;
        seglist t = sa; sa = sb; sb = t;
    }
    for (size_t k = 0; k < sa.n; k++)
        if (bpe_word(v, &s, canon + sa.a[2 * k], sa.a[2 * k + 1], out)) goto done;
    rc = 0;
done:
    if (md) pcre2_match_data_free(md);
    free(sa.a);
    free(sb.a);
    free(s.sym);
    free(s.heap);
    free(s.enc);
    free(canon);
    free(proxy);
    return rc;
}
