/* mkrand.c — lrq_mkrand (lrq.h), behind `lrq mkrand`: a random-weight model GGUF with the exact
 * shapes of a real model (Qwen2.5-1.5B by default), for speed measurements
 * where only the shapes and the byte layout matter. No pretrained checkpoint
 * of that size can be brought onto the measuring machines, and lrq and the
 * real llama.cpp must be timed on the very same file, so the file carries a
 * real tokenizer (copied from a vocab GGUF) and follows the key and tensor
 * naming of llama.cpp's converter: llama.cpp loads it like a real model.
 *
 * Determinism: every tensor draws from its own stream, seeded from --seed and
 * the tensor's name, so the float weights do not depend on the output type
 * or the tensor order: the Q8_0 and F16 files of one seed hold the same
 * weights, rounded differently.
 *
 * Memory: the GGUF writer references tensor data until it writes the file.
 * Holding a 3 GB (F16) or 6 GB (F32) model in RAM for that is wasteful, so
 * the tensors are generated one row at a time into an unnamed scratch file
 * in the output's folder (core/atomic.h: created and unlinked at once, so
 * nothing is left behind even when the process is killed, SIGKILL
 * included), which is then mapped read-only and handed to the writer; the
 * writer itself writes a temporary file renamed over the output when
 * complete. Resident memory stays at a few rows plus the tokenizer; the
 * page cache does the rest and is reclaimable. Disk needs twice the model
 * size while the command runs.
 */
#define _POSIX_C_SOURCE 200809L
#include "lrq.h"
#include "core/atomic.h"
#include "core/core.h"
#include "core/mapfile.h"
#include "io/gguf.h"
#include "fmt/types.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---------- shapes ---------- */

typedef struct mk_shape {
    const char *name, *arch, *about;
    int n_embd, n_layer, n_head, n_head_kv, head_dim, n_ff;
    int n_vocab;          /* embedding rows; 0 = the tokenizer's token count */
    int n_ctx;
    float rope_theta, rms_eps;
    int tied;             /* no output.weight: token_embd is the output projection */
    int qkv_bias;         /* qwen2: biases on Q, K, V */
    int qk_norm;          /* qwen3: per-head RMSNorm on Q and K */
} mk_shape;

/* Hyper-parameters from the models' published config.json files. */
static const mk_shape shapes[] = {
    { "qwen2.5-0.5b", "qwen2", "Qwen2.5-0.5B (494M params)", 896, 24, 14, 2, 64, 4864, 151936, 32768, 1e6f, 1e-6f, 1, 1, 0 },
    { "qwen2.5-1.5b", "qwen2", "Qwen2.5-1.5B (1.54B params)", 1536, 28, 12, 2, 128, 8960, 151936, 32768, 1e6f, 1e-6f, 1, 1, 0 },
    { "qwen2.5-3b", "qwen2", "Qwen2.5-3B (3.09B params)", 2048, 36, 16, 2, 128, 11008, 151936, 32768, 1e6f, 1e-6f, 1, 1, 0 },
    { "qwen2.5-7b", "qwen2", "Qwen2.5-7B (7.62B params)", 3584, 28, 28, 4, 128, 18944, 152064, 32768, 1e6f, 1e-6f, 0, 1, 0 },
    { "qwen3-0.6b", "qwen3", "Qwen3-0.6B (596M params)", 1024, 28, 16, 8, 128, 3072, 151936, 40960, 1e6f, 1e-6f, 1, 0, 1 },
    { "qwen3-1.7b", "qwen3", "Qwen3-1.7B (1.72B params)", 2048, 28, 16, 8, 128, 6144, 151936, 40960, 1e6f, 1e-6f, 1, 0, 1 },
    { "qwen3-5m-like", "qwen3", "the zoo's ts-qwen3-5M (untied; vocab = the tokenizer's)", 256, 6, 4, 2, 64, 768, 0, 512,
      1e6f, 1e-6f, 0, 0, 1 },
    { "qwen2-tiny", "qwen2", "a 2-layer qwen2 like golden/arch/rand-qwen2.gguf (vocab = the tokenizer's)", 128, 2, 4, 2, 32,
      256, 0, 512, 1e6f, 1e-6f, 1, 1, 0 },
};
#define N_SHAPES ((int)(sizeof shapes / sizeof shapes[0]))

/* ---------- random numbers: splitmix64 + Box-Muller ---------- */

typedef struct mk_rng {
    uint64_t s;
    int have;         /* a second normal from the last Box-Muller pair is waiting */
    double spare;
} mk_rng;

static uint64_t splitmix64(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* One stream per tensor: FNV-1a of the name mixed into the seed, so a
 * tensor's values depend only on (seed, name). */
static void rng_init(mk_rng *r, uint64_t seed, const char *name) {
    uint64_t h = 1469598103934665603ull;
    for (const char *p = name; *p; p++) h = (h ^ (uint8_t)*p) * 1099511628211ull;
    r->s = seed ^ h;
    (void)splitmix64(&r->s);
    r->have = 0;
}

static double rng_normal(mk_rng *r) {
    if (r->have) { r->have = 0; return r->spare; }
    const double two_pi = 6.283185307179586476925;
    /* u1 in (0, 1] so that log(u1) is finite; u2 in [0, 1). */
    double u1 = (double)((splitmix64(&r->s) >> 11) + 1) * 0x1.0p-53;
    double u2 = (double)(splitmix64(&r->s) >> 11) * 0x1.0p-53;
    double rad = sqrt(-2.0 * log(u1));
    r->spare = rad * sin(two_pi * u2);
    r->have = 1;
    return rad * cos(two_pi * u2);
}

/* ---------- the tensor list ---------- */

enum mk_kind { K_WEIGHT, K_NORM, K_BIAS };

typedef struct mk_tensor {
    char name[64];
    int kind, type;
    uint32_t n_dims;
    int64_t ne[2];
    size_t nbytes, offset;  /* offset in the scratch file */
} mk_tensor;

typedef struct mk_list {
    mk_tensor *t;
    int n, cap;
} mk_list;

static int list_add(mk_list *l, int kind, int type, int64_t ne0, int64_t ne1, const char *fmt, int layer) {
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 64;
        mk_tensor *t = lrq_realloc(l->t, (size_t)cap * sizeof *t);
        if (!t) return -1;
        l->t = t;
        l->cap = cap;
    }
    mk_tensor *t = &l->t[l->n++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, fmt, layer);
    t->kind = kind;
    t->type = kind == K_WEIGHT ? type : LRQ_TYPE_F32;  /* 1-D tensors stay F32, as llama-quantize does */
    t->n_dims = ne1 ? 2 : 1;
    t->ne[0] = ne0;
    t->ne[1] = ne1 ? ne1 : 1;
    size_t rs;
    if (lrq_row_size(t->type, ne0, &rs) || lrq_mul_size(rs, (size_t)t->ne[1], &t->nbytes))
        return lrq_err_set("tensor '%s': row length %lld is not a multiple of the %s block size", t->name,
                           (long long)ne0, lrq_type_name(t->type));
    return 0;
}

/* Tensors in the order llama.cpp's converter writes a Qwen checkpoint. */
static int build_list(mk_list *l, const mk_shape *s, int n_vocab, int type, int embd_type) {
    const int64_t E = s->n_embd, Q = (int64_t)s->n_head * s->head_dim, KV = (int64_t)s->n_head_kv * s->head_dim;
    int r = list_add(l, K_WEIGHT, embd_type, E, n_vocab, "token_embd.weight", 0);
    if (!r && !s->tied) r = list_add(l, K_WEIGHT, embd_type, E, n_vocab, "output.weight", 0);
    if (!r) r = list_add(l, K_NORM, 0, E, 0, "output_norm.weight", 0);
    for (int i = 0; i < s->n_layer && !r; i++) {
        r = list_add(l, K_NORM, 0, E, 0, "blk.%d.attn_norm.weight", i);
        if (!r) r = list_add(l, K_WEIGHT, type, E, Q, "blk.%d.attn_q.weight", i);
        if (!r) r = list_add(l, K_WEIGHT, type, E, KV, "blk.%d.attn_k.weight", i);
        if (!r) r = list_add(l, K_WEIGHT, type, E, KV, "blk.%d.attn_v.weight", i);
        if (!r) r = list_add(l, K_WEIGHT, type, Q, E, "blk.%d.attn_output.weight", i);
        if (s->qkv_bias) {
            if (!r) r = list_add(l, K_BIAS, 0, Q, 0, "blk.%d.attn_q.bias", i);
            if (!r) r = list_add(l, K_BIAS, 0, KV, 0, "blk.%d.attn_k.bias", i);
            if (!r) r = list_add(l, K_BIAS, 0, KV, 0, "blk.%d.attn_v.bias", i);
        }
        if (s->qk_norm) {
            if (!r) r = list_add(l, K_NORM, 0, s->head_dim, 0, "blk.%d.attn_q_norm.weight", i);
            if (!r) r = list_add(l, K_NORM, 0, s->head_dim, 0, "blk.%d.attn_k_norm.weight", i);
        }
        if (!r) r = list_add(l, K_NORM, 0, E, 0, "blk.%d.ffn_norm.weight", i);
        if (!r) r = list_add(l, K_WEIGHT, type, E, s->n_ff, "blk.%d.ffn_gate.weight", i);
        if (!r) r = list_add(l, K_WEIGHT, type, E, s->n_ff, "blk.%d.ffn_up.weight", i);
        if (!r) r = list_add(l, K_WEIGHT, type, s->n_ff, E, "blk.%d.ffn_down.weight", i);
    }
    return r;
}

/* ---------- tokenizer metadata ---------- */

/* Copy every tokenizer.* key of the vocab file. When the shape has more
 * embedding rows than the tokenizer has tokens (Qwen's 151,936 rows vs
 * 151,669 tokens), pad the per-token arrays the way llama.cpp's converter
 * does ("[PADi]", type UNUSED = 5, score 0): llama.cpp requires the token
 * count to equal the embedding rows. */
static int copy_tokenizer(lrq_gguf_writer *w, const lrq_gguf *g, uint64_t n_tok, uint64_t n_vocab) {
    const char *path = lrq_gguf_path(g);
    uint64_t pad = n_vocab - n_tok;
    for (int64_t i = 0; i < lrq_gguf_n_kv(g); i++) {
        const lrq_gguf_kv *kv = lrq_gguf_kv_at(g, i);
        if (strncmp(kv->key, "tokenizer.", 10) != 0) continue;
        const lrq_gguf_value *v = &kv->val;
        int per_token = v->type == LRQ_GGUF_ARRAY && v->v.arr.n == n_tok &&
                        (!strcmp(kv->key, "tokenizer.ggml.tokens") || !strcmp(kv->key, "tokenizer.ggml.token_type") ||
                         !strcmp(kv->key, "tokenizer.ggml.scores"));
        if (!per_token || pad == 0) {
            if (lrq_gguf_writer_set(w, kv->key, v)) return lrq_err_prefix("%s", path);
            continue;
        }
        int et = v->v.arr.elem_type, r;
        if (et == LRQ_GGUF_STRING) {
            /* Items of the copy: the file's strings, then "[PADi]" strings
             * held in one buffer (the writer deep-copies everything). */
            lrq_gguf_value *items = lrq_malloc((size_t)n_vocab * sizeof *items);
            char *names = lrq_malloc((size_t)pad * 16);
            if (!items || !names) { free(items); free(names); return -1; }
            memcpy(items, v->v.arr.items, (size_t)n_tok * sizeof *items);
            for (uint64_t k = 0; k < pad; k++) {
                char *s = names + k * 16;
                int len = snprintf(s, 16, "[PAD%" PRIu64 "]", n_tok + k);
                items[n_tok + k].type = LRQ_GGUF_STRING;
                items[n_tok + k].v.str.ptr = s;
                items[n_tok + k].v.str.len = (uint64_t)len;
            }
            lrq_gguf_value arr = { .type = LRQ_GGUF_ARRAY };
            arr.v.arr.elem_type = LRQ_GGUF_STRING;
            arr.v.arr.n = n_vocab;
            arr.v.arr.items = items;
            r = lrq_gguf_writer_set(w, kv->key, &arr);
            free(items);
            free(names);
        } else if (et == LRQ_GGUF_INT32 || et == LRQ_GGUF_UINT32 || et == LRQ_GGUF_FLOAT32) {
            uint8_t *raw = lrq_malloc((size_t)n_vocab * 4);
            if (!raw) return -1;
            memcpy(raw, v->v.arr.raw, (size_t)n_tok * 4);
            for (uint64_t k = 0; k < pad; k++) {
                /* token_type UNUSED (5) little-endian; score 0.0f is all zero bytes */
                uint8_t *p = raw + (size_t)(n_tok + k) * 4;
                p[0] = et == LRQ_GGUF_FLOAT32 ? 0 : 5;
                p[1] = p[2] = p[3] = 0;
            }
            r = lrq_gguf_writer_set_arr(w, kv->key, et, n_vocab, raw);
            free(raw);
        } else {
            return lrq_err_set("%s: key '%s': cannot pad an array of %s to %" PRIu64 " entries", path, kv->key,
                               lrq_gguf_vtype_name(et), n_vocab);
        }
        if (r) return lrq_err_prefix("%s", path);
    }
    return 0;
}

/* ---------- generation ---------- */

/* llama_ftype of a file whose matrices are all `type` (general.file_type;
 * llama.cpp only displays it). A uniform k-quant file is labelled with the
 * "small" variant of its type, the mix closest to "every matrix one type". */
static int file_type_of(int type) {
    switch (type) {
    case LRQ_TYPE_F32: return 0;
    case LRQ_TYPE_F16: return 1;
    case LRQ_TYPE_Q4_0: return 2;
    case LRQ_TYPE_Q4_1: return 3;
    case LRQ_TYPE_Q8_0: return 7;
    case LRQ_TYPE_Q5_0: return 8;
    case LRQ_TYPE_Q5_1: return 9;
    case LRQ_TYPE_Q2_K: return 10;
    case LRQ_TYPE_Q3_K: return 11;
    case LRQ_TYPE_Q4_K: return 14;
    case LRQ_TYPE_Q5_K: return 16;
    case LRQ_TYPE_Q6_K: return 18;
    case LRQ_TYPE_IQ4_NL: return 25;
    case LRQ_TYPE_BF16: return 32;
    default: return -1;
    }
}

/* Generate every tensor row by row into the scratch stream f. */
static int generate(FILE *f, const char *scratch, mk_list *l, uint64_t seed, double stdev, FILE *log) {
    int64_t max_row = 0;
    for (int i = 0; i < l->n; i++)
        if (l->t[i].ne[0] > max_row) max_row = l->t[i].ne[0];
    float *row = lrq_malloc((size_t)max_row * sizeof(float));
    uint8_t *q = lrq_malloc((size_t)max_row * sizeof(float)); /* no type is wider than F32 per value */
    if (!row || !q) { free(row); free(q); return -1; }
    static const uint8_t zeros[64];
    size_t off = 0;
    int rc = 0;
    for (int i = 0; i < l->n && !rc; i++) {
        mk_tensor *t = &l->t[i];
        t->offset = off;
        const lrq_type_traits *tt = lrq_type_get(t->type);
        size_t rs = t->nbytes / (size_t)t->ne[1];
        mk_rng r;
        rng_init(&r, seed, t->name);
        for (int64_t j = 0; j < t->ne[1] && !rc; j++) {
            for (int64_t k = 0; k < t->ne[0]; k++) {
                double z = rng_normal(&r);
                /* weights and biases ~ N(0, std); norm weights ~ 1 + N(0, std) */
                row[k] = (float)(t->kind == K_NORM ? 1.0 + stdev * z : stdev * z);
            }
            tt->quantize_ref(row, q, t->ne[0]);
            if (fwrite(q, 1, rs, f) != rs) rc = lrq_err_set("%s: write failed: %s", scratch, strerror(errno));
        }
        off += t->nbytes;
        size_t padn = (64 - off % 64) % 64;
        if (!rc && padn && fwrite(zeros, 1, padn, f) != padn)
            rc = lrq_err_set("%s: write failed: %s", scratch, strerror(errno));
        off += padn;
        if (log && !rc && (i + 1) % 50 == 0) fprintf(log, "\rlrq mkrand: %d/%d tensors", i + 1, l->n);
    }
    if (log && !rc) fprintf(log, "\rlrq mkrand: %d/%d tensors\n", l->n, l->n);
    free(row);
    free(q);
    return rc;
}

/* ---------- the entry point ---------- */

int lrq_mkrand_n_shapes(void) { return N_SHAPES; }

int lrq_mkrand_shape(int i, const char **name, const char **about) {
    if (i < 0 || i >= N_SHAPES) return -1;
    *name = shapes[i].name;
    *about = shapes[i].about;
    return 0;
}

int lrq_mkrand(const lrq_mkrand_params *p) {
    /* Everything is checked before any file is created. */
    if (!p->out || !p->out[0]) return lrq_err_set("no output file");
    if (!p->vocab) return lrq_err_set("no vocabulary file");
    const mk_shape *s0 = NULL;
    for (int i = 0; i < N_SHAPES; i++)
        if (p->shape && !strcmp(shapes[i].name, p->shape)) s0 = &shapes[i];
    if (!s0) return lrq_err_set("unknown shape '%s'", p->shape ? p->shape : "(none)");
    const int type = p->type, embd_type = p->embd_type;
    if (!lrq_type_get(type) || !lrq_type_get(type)->quantize_ref)
        return lrq_err_set("type %s has no reference quantizer", lrq_type_name(type));
    if (!lrq_type_get(embd_type) || !lrq_type_get(embd_type)->quantize_ref)
        return lrq_err_set("type %s has no reference quantizer", lrq_type_name(embd_type));
    if (!(p->stdev > 0 && p->stdev < 100)) return lrq_err_set("standard deviation %g not in (0, 100)", p->stdev);
    if (p->n_layer < 0) return lrq_err_set("layer count %d", p->n_layer);
    mk_shape s = *s0;
    if (p->n_layer) s.n_layer = p->n_layer;
    const char *vocab = p->vocab, *out = p->out;
    const uint64_t seed = p->seed;
    const double stdev = p->stdev;
    const int layers = p->n_layer;
    FILE *log = p->log;


    lrq_gguf *g = NULL;
    lrq_gguf_writer *w = NULL;
    mk_list l = { 0 };
    lrq_mapfile mf = { 0 };
    FILE *f = NULL;
    int rc = -1;
    if (lrq_gguf_open(&g, vocab)) goto fail;
    uint64_t n_tok = 0;
    int r = lrq_gguf_get_arr(g, "tokenizer.ggml.tokens", NULL, &n_tok, NULL);
    if (r <= 0) {
        if (r == 0) lrq_err_set("%s: no tokenizer.ggml.tokens (not a vocab file?)", vocab);
        goto fail;
    }
    if (n_tok == 0 || n_tok > INT32_MAX) { lrq_err_set("%s: %" PRIu64 " tokens", vocab, n_tok); goto fail; }
    uint64_t n_vocab = s.n_vocab ? (uint64_t)s.n_vocab : n_tok;
    if (n_tok > n_vocab) {
        lrq_err_set("%s: the tokenizer has %" PRIu64 " tokens, more than the %" PRIu64 " embedding rows of shape %s",
                    vocab, n_tok, n_vocab, s.name);
        goto fail;
    }
    if (build_list(&l, &s, (int)n_vocab, type, embd_type)) { lrq_err_prefix("shape %s", s.name); goto fail; }

    /* metadata: general.*, then the architecture, then the tokenizer (the converter's order) */
    if (!(w = lrq_gguf_writer_new())) goto fail;
    char key[128], name[160];
    const char *a = s.arch;
    snprintf(name, sizeof name, "random %s %s (lrq mkrand, seed %" PRIu64 ", std %g%s)", s.name, lrq_type_name(type),
             seed, stdev, layers ? ", fewer layers" : "");
    int ft = type == embd_type ? file_type_of(type) : -1;
#define SETK(fn, k, val) do { snprintf(key, sizeof key, k, a); if (fn(w, key, val)) goto fail; } while (0)
    if (lrq_gguf_writer_set_str(w, "general.architecture", a) || lrq_gguf_writer_set_str(w, "general.name", name))
        goto fail;
    SETK(lrq_gguf_writer_set_u32, "%s.context_length", (uint32_t)s.n_ctx);
    SETK(lrq_gguf_writer_set_u32, "%s.embedding_length", (uint32_t)s.n_embd);
    SETK(lrq_gguf_writer_set_u32, "%s.block_count", (uint32_t)s.n_layer);
    SETK(lrq_gguf_writer_set_u32, "%s.feed_forward_length", (uint32_t)s.n_ff);
    SETK(lrq_gguf_writer_set_u32, "%s.attention.head_count", (uint32_t)s.n_head);
    SETK(lrq_gguf_writer_set_u32, "%s.attention.head_count_kv", (uint32_t)s.n_head_kv);
    SETK(lrq_gguf_writer_set_u32, "%s.attention.key_length", (uint32_t)s.head_dim);
    SETK(lrq_gguf_writer_set_u32, "%s.attention.value_length", (uint32_t)s.head_dim);
    SETK(lrq_gguf_writer_set_f32, "%s.rope.freq_base", s.rope_theta);
    SETK(lrq_gguf_writer_set_f32, "%s.attention.layer_norm_rms_epsilon", s.rms_eps);
#undef SETK
    if (ft >= 0 && lrq_gguf_writer_set_u32(w, "general.file_type", (uint32_t)ft)) goto fail;
    if (lrq_gguf_writer_set_u32(w, "general.quantization_version", 2)) goto fail;
    if (copy_tokenizer(w, g, n_tok, n_vocab)) goto fail;

    /* tensors: generated into the scratch file, then mapped */
    /* tensors: generated into an unnamed scratch file, then mapped */
    int sfd = lrq_scratch_fd(out);
    if (sfd < 0) goto fail;
    if (!(f = fdopen(sfd, "w+b"))) {
        lrq_err_set("%s: cannot open a scratch stream: %s", out, strerror(errno));
        close(sfd);
        goto fail;
    }
    uint64_t n_params = 0;
    size_t n_bytes = 0;
    for (int i = 0; i < l.n; i++) {
        n_params += (uint64_t)(l.t[i].ne[0] * l.t[i].ne[1]);
        n_bytes += l.t[i].nbytes;
    }
    if (log)
        fprintf(log, "lrq mkrand: %s (%s), %s, %d tensors, %.3f G params, %.1f MiB of tensor data\n", s.name, a,
                lrq_type_name(type), l.n, (double)n_params * 1e-9, (double)n_bytes / (1024.0 * 1024.0));
    if (generate(f, out, &l, seed, stdev, log)) goto fail;
    if (fflush(f) != 0) { lrq_err_set("%s: scratch write failed: %s", out, strerror(errno)); goto fail; }
    if (lrq_mapfile_open_fd(&mf, fileno(f), out)) goto fail;
    fclose(f); /* the mapping keeps the data until lrq_mapfile_close */
    f = NULL;
    for (int i = 0; i < l.n; i++) {
        const mk_tensor *t = &l.t[i];
        if (lrq_gguf_writer_add_tensor(w, t->name, t->type, t->n_dims, t->ne, mf.data + t->offset)) goto fail;
    }
    if (lrq_gguf_writer_write(w, out)) goto fail;
    if (log)
        fprintf(log, "lrq mkrand: wrote %s (%" PRIu64 " params, %d tensors, vocab %" PRIu64 " rows / %" PRIu64
                     " tokens)\n", out, n_params, l.n, n_vocab, n_tok);
    rc = 0;
fail:
    if (f) fclose(f);
    lrq_mapfile_close(&mf);
    free(l.t);
    lrq_gguf_writer_free(w);
    lrq_gguf_close(g);
    return rc;
}
