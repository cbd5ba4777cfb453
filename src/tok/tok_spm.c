/* tok_spm.c — SentencePiece-style tokenization as llama.cpp's "llama" vocab
 * type does it: spaces become U+2581, the text is cut into UTF-8 characters,
 * and adjacent symbols are merged greedily, always taking the pair whose
 * concatenation is the vocabulary token with the highest score (leftmost
 * pair on ties). Symbols that end up as no token are emitted as byte tokens
 * (<0xXX>). */
#include "tok/vocab_impl.h"
#include "tok/unicode.h"
#include "core/core.h"

#include <stdlib.h>

typedef struct {
    int prev, next;   /* neighbours in the live chain, -1 at the ends */
    size_t start, n;  /* byte span in the escaped text; n == 0 once merged away */
} spm_sym;

typedef struct {
    float score;
    int left, right;
    size_t size;      /* left.n + right.n when queued; stale if it changed */
} spm_pair;

typedef struct {
    spm_pair *v;
    size_t n, cap;
} spm_heap;

/* a before b: higher score first, then the leftmost pair. */
static int pair_before(const spm_pair *a, const spm_pair *b) {
    if (a->score != b->score) return a->score > b->score;
    return a->left < b->left;
}

static int heap_push(spm_heap *h, spm_pair p) {
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64, bytes;
        if (lrq_mul_size(cap, sizeof *h->v, &bytes)) return lrq_err_set("SPM: queue too large");
        spm_pair *nv = lrq_realloc(h->v, bytes);
        if (!nv) return -1;
        h->v = nv;
        h->cap = cap;
    }
    size_t i = h->n++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!pair_before(&p, &h->v[parent])) break;
        h->v[i] = h->v[parent];
        i = parent;
    }
    h->v[i] = p;
    return 0;
}

static spm_pair heap_pop(spm_heap *h) {
    spm_pair top = h->v[0];
    spm_pair last = h->v[--h->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n) break;
        if (c + 1 < h->n && pair_before(&h->v[c + 1], &h->v[c])) c++;
        if (!pair_before(&h->v[c], &last)) break;
        h->v[i] = h->v[c];
        i = c;
    }
    if (h->n) h->v[i] = last;
    return top;
}

/* Queue the pair (left, right) if their concatenation is a token. */
static int try_pair(const lrq_vocab *v, const char *text, const spm_sym *sym, int left, int right,
                    spm_heap *h) {
    if (left < 0 || right < 0) return 0;
    size_t size = sym[left].n + sym[right].n;
    int32_t id = lrq_vocab_lookup(v, text + sym[left].start, size);
    if (id < 0) return 0;
    spm_pair p = { v->score[id], left, right, size };
    return heap_push(h, p);
}

/* Emit the ids for one final symbol. A merged symbol is always a token (only
 * token-forming pairs are merged), so only single characters can miss; those
 * go out byte by byte. (llama.cpp also keeps a "reverse merge" map for this
 * case, but every key of that map is a token text, so it can never be hit for
 * a symbol that is not a token.) */
static int emit_symbol(const lrq_vocab *v, const char *text, const spm_sym *s, lrq_idvec *out) {
    int32_t id = lrq_vocab_lookup(v, text + s->start, s->n);
    if (id >= 0) return lrq_idvec_push(out, id);
    for (size_t j = 0; j < s->n; j++) {
        int32_t b = v->byte_tok[(uint8_t)text[s->start + j]];
        /* llama.cpp throws here (vocab without byte tokens); emit <unk>
         * instead, or drop the byte when there is none. */
        if (b < 0) b = v->unk;
        if (b >= 0 && lrq_idvec_push(out, b)) return -1;
    }
    return 0;
}

int lrq_spm_tokenize(const lrq_vocab *v, const char *raw, size_t len, lrq_idvec *out) {
    if (len == 0) return 0;
    /* Escape: every ' ' becomes U+2581 (3 bytes). */
    size_t n_sp = 0;
    for (size_t i = 0; i < len; i++) n_sp += raw[i] == ' ';
    size_t elen, extra;
    if (lrq_mul_size(n_sp, 2, &extra) || lrq_add_size(len, extra, &elen))
        return lrq_err_set("SPM: text too long");
    char *text = lrq_malloc(elen);
    if (!text) return -1;
    for (size_t i = 0, o = 0; i < len; i++) {
        if (raw[i] == ' ') {
            text[o++] = (char)0xE2; text[o++] = (char)0x96; text[o++] = (char)0x81;
        } else {
            text[o++] = raw[i];
        }
    }

    int rc = -1;
    spm_heap heap = { 0 };
    spm_sym *sym = lrq_calloc(elen, sizeof *sym);
    if (!sym) goto done;
    if (elen > (size_t)INT32_MAX) { lrq_err_set("SPM: text too long"); goto done; }

    /* One symbol per UTF-8 character (length from the lead byte, clipped at
     * the end of the text, like llama.cpp). */
    int n_sym = 0;
    for (size_t off = 0; off < elen;) {
        size_t n = lrq_utf8_seq_len((uint8_t)text[off]);
        if (n > elen - off) n = elen - off;
        sym[n_sym].start = off;
        sym[n_sym].n = n;
        sym[n_sym].prev = n_sym - 1;
        off += n;
        sym[n_sym].next = off == elen ? -1 : n_sym + 1;
        n_sym++;
    }

    for (int i = 1; i < n_sym; i++)
        if (try_pair(v, text, sym, i - 1, i, &heap)) goto done;

    while (heap.n) {
        spm_pair p = heap_pop(&heap);
        spm_sym *l = &sym[p.left], *r = &sym[p.right];
        if (l->n == 0 || r->n == 0 || l->n + r->n != p.size) continue; /* stale */
        l->n += r->n;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0) sym[r->next].prev = p.left;
        if (try_pair(v, text, sym, l->prev, p.left, &heap)) goto done;
        if (try_pair(v, text, sym, p.left, l->next, &heap)) goto done;
    }

    for (int i = 0; i != -1; i = sym[i].next)
        if (emit_symbol(v, text, &sym[i], out)) goto done;
    rc = 0;
done:
    free(heap.v);
    free(sym);
    free(text);
    return rc;
}
