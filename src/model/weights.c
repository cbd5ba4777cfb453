/* weights.c — the loader-independent part of lrq_weights (tensor list,
 * lookup, format detection) and the GGUF loader. */
#define _POSIX_C_SOURCE 200809L
#include "model/weights.h"
#include "model/arch.h"
#include "core/core.h"
#include "io/gguf.h"
#include "tok/vocab.h"
#include "fmt/types.h"
#include "fmt/lq_spec.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

/* FNV-1a of a tensor name. */
static uint32_t name_hash(const char *s) {
    uint32_t h = 2166136261u;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static void index_put(int32_t *index, uint32_t cap, const char *name, int32_t i) {
    uint32_t k = name_hash(name) & (cap - 1);
    while (index[k]) k = (k + 1) & (cap - 1);
    index[k] = i + 1;
}

/* Keeps the index at most half full: rebuilt at twice the size when needed. */
static int index_grow(lrq_weights *w) {
    if ((uint64_t)(w->n_tensors + 1) * 2 <= w->index_cap) return 0;
    uint32_t cap = w->index_cap ? w->index_cap * 2 : 64;
    if (cap > (1u << 30)) return lrq_err_set("%s: too many tensors", w->path);
    int32_t *idx = lrq_calloc(cap, sizeof *idx);
    if (!idx) return -1;
    for (int32_t i = 0; i < w->n_tensors; i++) index_put(idx, cap, w->tensors[i].name, i);
    free(w->index);
    w->index = idx;
    w->index_cap = cap;
    return 0;
}

int lrq_weights_add(lrq_weights *w, const char *name, int type, int n_dims, const int64_t *ne,
                    const void *data, size_t nbytes) {
    LRQ_ASSERT(n_dims >= 1 && n_dims <= 4);
    if (lrq_weights_find(w, name))
        return lrq_err_set("%s: duplicate tensor '%s'", w->path, name);
    if (index_grow(w)) return -1;
    lrq_tensor *nt = lrq_realloc(w->tensors, sizeof *nt * (size_t)(w->n_tensors + 1));
    if (!nt) return -1;
    w->tensors = nt;
    lrq_tensor *t = &nt[w->n_tensors];
    memset(t, 0, sizeof *t);
    t->name = lrq_strdup(name);
    if (!t->name) return -1;
    t->type = type;
    t->n_dims = n_dims;
    for (int i = 0; i < 4; i++) t->ne[i] = i < n_dims ? ne[i] : 1;
    t->data = data;
    t->nbytes = nbytes;
    const lrq_type_traits *tt = lrq_type_get(type);
    t->qp.layout = tt ? tt->param_layout : LRQ_PARAMS_NONE;
    t->qp.n_sets = 1;
    index_put(w->index, w->index_cap, t->name, w->n_tensors);
    w->n_tensors++;
    return 0;
}

const lrq_tensor *lrq_weights_find(const lrq_weights *w, const char *name) {
    if (!w->index_cap) return NULL;
    for (uint32_t k = name_hash(name) & (w->index_cap - 1); w->index[k]; k = (k + 1) & (w->index_cap - 1)) {
        const lrq_tensor *t = &w->tensors[w->index[k] - 1];
        if (strcmp(t->name, name) == 0) return t;
    }
    return NULL;
}

void lrq_weights_free(lrq_weights *w) {
    if (!w) return;
    for (int32_t i = 0; i < w->n_tensors; i++) free(w->tensors[i].name);
    free(w->tensors);
    free(w->index);
    if (w->vocab) lrq_vocab_free(w->vocab);
    if (w->gguf) lrq_gguf_close(w->gguf);
    if (w->priv_free) w->priv_free(w->priv);
    free(w->path);
    free(w);
}

int lrq_gguf_arch_int(const lrq_gguf *g, const char *arch, const char *suffix, int required, int64_t dflt,
                      int64_t lo, int64_t hi, int32_t *out) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    int64_t v;
    int r = lrq_gguf_get_i64(g, key, &v);
    if (r < 0) return -1;
    if (r == 0) {
        if (required) return lrq_err_set("%s: missing key '%s'", lrq_gguf_path(g), key);
        v = dflt;
    }
    if (v < lo || v > hi)
        return lrq_err_set("%s: key '%s': value %lld out of range [%lld, %lld]", lrq_gguf_path(g), key, (long long)v,
                           (long long)lo, (long long)hi);
    *out = (int32_t)v;
    return 0;
}

/* The dense hyper-parameters: any value in [0, 2^30] (the shape checks below are stricter). */
static int get_arch_int(const lrq_gguf *g, const char *arch, const char *suffix, int required, int32_t dflt,
                        int32_t *out) {
    return lrq_gguf_arch_int(g, arch, suffix, required, dflt, 0, 1 << 30, out);
}

static int get_arch_f32(const lrq_gguf *g, const char *arch, const char *suffix, int required,
                        float dflt, float *out) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    int r = lrq_gguf_get_f32(g, key, out);
    if (r < 0) return -1;
    if (r == 0) {
        if (required) return lrq_err_set("%s: missing key '%s'", lrq_gguf_path(g), key);
        *out = dflt;
    }
    return 0;
}

int lrq_weights_load_gguf(lrq_weights **out, const char *path) {
    *out = NULL;
    lrq_weights *w = lrq_calloc(1, sizeof *w);
    if (!w) return -1;
    w->format = "gguf";
    if (!(w->path = lrq_strdup(path))) goto fail;
    if (lrq_gguf_open(&w->gguf, path)) goto fail;
    const lrq_gguf *g = w->gguf;

    const char *arch_s;
    uint64_t arch_len;
    int r = lrq_gguf_get_str(g, "general.architecture", &arch_s, &arch_len);
    if (r < 0) goto fail;
    if (r == 0) { lrq_err_set("%s: missing key 'general.architecture'", path); goto fail; }
    char arch[32];
    if (arch_len >= sizeof arch) { lrq_err_set("%s: general.architecture too long", path); goto fail; }
    memcpy(arch, arch_s, arch_len);
    arch[arch_len] = 0;

    lrq_hparams *hp = &w->hp;
    const lrq_arch_desc *ad = lrq_arch_find_gguf(arch);
    if (!ad) {
        lrq_err_set("%s: unsupported architecture '%s' (supported: %s)", path, arch, lrq_arch_list_gguf());
        goto fail;
    }
    hp->arch = ad->id;
    hp->rope_kind = ad->gguf_rope;
    if (get_arch_int(g, arch, "embedding_length", 1, 0, &hp->n_embd) ||
        get_arch_int(g, arch, "block_count", 1, 0, &hp->n_layer) ||
        get_arch_int(g, arch, "feed_forward_length", 1, 0, &hp->n_ff) ||
        get_arch_int(g, arch, "attention.head_count", 1, 0, &hp->n_head) ||
        get_arch_int(g, arch, "context_length", 0, 2048, &hp->n_ctx_train))
        goto fail;
    if (hp->n_head <= 0) { lrq_err_set("%s: %s.attention.head_count must be > 0", path, arch); goto fail; }
    if (get_arch_int(g, arch, "attention.head_count_kv", 0, hp->n_head, &hp->n_head_kv) ||
        get_arch_int(g, arch, "attention.key_length", 0, hp->n_embd / hp->n_head, &hp->head_dim) ||
        get_arch_int(g, arch, "rope.dimension_count", 0, hp->head_dim, &hp->n_rot) ||
        get_arch_f32(g, arch, "attention.layer_norm_rms_epsilon", 1, 0, &hp->rms_eps) ||
        get_arch_f32(g, arch, "rope.freq_base", 0, 10000.0f, &hp->rope_theta))
        goto fail;
    int32_t vlen = 0;
    if (get_arch_int(g, arch, "attention.value_length", 0, hp->head_dim, &vlen)) goto fail;
    if (vlen != hp->head_dim) {
        lrq_err_set("%s: attention.value_length %d != key_length %d is not supported", path, vlen, hp->head_dim);
        goto fail;
    }

    if (ad->moe && lrq_arch_moe_read_gguf(ad, g, arch, hp)) goto fail;

    for (int64_t i = 0; i < lrq_gguf_n_tensors(g); i++) {
        const lrq_gguf_tensor *t = lrq_gguf_tensor_at(g, i);
        size_t base_len;
        if (lrq_lq_companion(t->name, &base_len) >= 0) continue; /* parameters of an lq tensor: decoded below */
        if (lrq_weights_add(w, t->name, t->type, (int)t->n_dims, t->ne, t->data, t->nbytes)) goto fail;
    }
    if (lrq_weights_lq_attach(w, g)) goto fail;
    const lrq_tensor *emb = lrq_weights_find(w, "token_embd.weight");
    if (!emb) { lrq_err_set("%s: missing tensor 'token_embd.weight'", path); goto fail; }
    if (emb->ne[1] <= 0 || emb->ne[1] > (1 << 24)) { lrq_err_set("%s: token_embd.weight: bad vocab size", path); goto fail; }
    hp->n_vocab = (int32_t)emb->ne[1];

    /* The tokenizer is optional here (a weights-only GGUF can take --vocab). */
    if (lrq_gguf_find(g, "tokenizer.ggml.model")) {
        if (lrq_vocab_from_gguf(&w->vocab, g)) goto fail;
    }
    *out = w;
    return 0;
fail:
    lrq_weights_free(w);
    return -1;
}

static int is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int lrq_weights_load(lrq_weights **out, const char *path) {
    *out = NULL;
    lrq_types_init();
    if (is_dir(path)) return lrq_weights_load_hf(out, path);
    FILE *f = fopen(path, "rb");
    if (!f) return lrq_err_set("%s: cannot open", path);
    unsigned char magic[4] = {0};
    size_t n = fread(magic, 1, 4, f);
    fclose(f);
    if (n == 4 && memcmp(magic, "GGUF", 4) == 0) return lrq_weights_load_gguf(out, path);
    const char *dot = strrchr(path, '.');
    if (dot && strcmp(dot, ".bin") == 0) return lrq_weights_load_llama2c(out, path);
    if (n < 4) return lrq_err_set("%s: file too short to be a model (%zu bytes)", path, n);
    return lrq_err_set("%s: unknown model format (not GGUF, not a llama2.c .bin, not a directory)", path);
}
