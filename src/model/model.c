/* model.c — model loading and the tensor-binding helpers shared by the
 * architecture files. */
#include "model/model.h"
#include "model/arch.h"
#include "core/core.h"
#include "io/gguf.h"
#include "tok/vocab.h"
#include "fmt/types.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

const lrq_tensor *lrq_model_tensor(lrq_model *m, int *bad, int required, int64_t ne0, int64_t ne1,
                                   const char *fmt, ...) {
    char name[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    const char *path = m->w->path;
    const lrq_tensor *t = lrq_weights_find(m->w, name);
    if (!t) {
        if (required) { lrq_err_set("%s: missing tensor '%s'", path, name); *bad = 1; }
        return NULL;
    }
    LRQ_ASSERT(m->used);
    m->used[t - m->w->tensors] = 1;
    int want_dims = ne1 ? 2 : 1;
    int ok = t->ne[0] == ne0 && t->ne[1] == (ne1 ? ne1 : 1) && t->ne[2] == 1 && t->ne[3] == 1;
    if (!ok || t->n_dims > want_dims) {
        lrq_err_set("%s: tensor '%s' has shape [%lld, %lld, %lld, %lld], expected [%lld, %lld]", path, name,
                    (long long)t->ne[0], (long long)t->ne[1], (long long)t->ne[2], (long long)t->ne[3],
                    (long long)ne0, (long long)(ne1 ? ne1 : 1));
        *bad = 1;
        return NULL;
    }
    if (!lrq_type_supported(t->type)) {
        lrq_err_set("%s: unsupported type %s in tensor '%s'", path, lrq_type_name(t->type), name);
        *bad = 1;
        return NULL;
    }
    if (want_dims == 1 && t->type != LRQ_TYPE_F32) {
        /* Norm weights and biases are used as F32; F16/BF16 sources (HF
         * F16 checkpoints) are converted once here, at load time. */
        if (t->type != LRQ_TYPE_F16 && t->type != LRQ_TYPE_BF16) {
            lrq_err_set("%s: tensor '%s' must be f32/f16/bf16, found %s", path, name, lrq_type_name(t->type));
            *bad = 1;
            return NULL;
        }
        if ((size_t)t->ne[0] * 2 > t->nbytes) {
            lrq_err_set("%s: tensor '%s': too few data bytes", path, name);
            *bad = 1;
            return NULL;
        }
        lrq_owned_tensor *o = lrq_calloc(1, sizeof *o);
        float *f = o ? lrq_malloc((size_t)t->ne[0] * sizeof(float)) : NULL;
        if (!f) { free(o); *bad = 1; return NULL; }
        lrq_type_get(t->type)->to_float(t->data, f, t->ne[0]);
        o->t = *t;
        o->t.type = LRQ_TYPE_F32;
        o->t.data = f;
        o->t.nbytes = (size_t)t->ne[0] * sizeof(float);
        o->next = m->owned;
        m->owned = o;
        return &o->t;
    }
    size_t rs;
    if (lrq_row_size(t->type, t->ne[0], &rs)) {
        lrq_err_set("%s: tensor '%s': row length %lld is not a multiple of the %s block size", path, name,
                    (long long)t->ne[0], lrq_type_name(t->type));
        *bad = 1;
        return NULL;
    }
    size_t need = 0;
    if (lrq_mul_size(rs, (size_t)t->ne[1], &need) || need > t->nbytes) {
        lrq_err_set("%s: tensor '%s': %zu data bytes, expected %zu", path, name, t->nbytes, need);
        *bad = 1;
        return NULL;
    }
    return t;
}

int lrq_model_bind_common(lrq_model *m) {
    const lrq_hparams *hp = &m->hp;
    int bad = 0;
    int64_t E = hp->n_embd, Q = (int64_t)hp->n_head * hp->head_dim, KV = (int64_t)hp->n_head_kv * hp->head_dim;
    m->tok_embd = lrq_model_tensor(m, &bad, 1, E, hp->n_vocab, "token_embd.weight");
    if (bad) return -1;
    m->output_norm = lrq_model_tensor(m, &bad, 1, E, 0, "output_norm.weight");
    if (bad) return -1;
    m->output = lrq_model_tensor(m, &bad, 0, E, hp->n_vocab, "output.weight");
    if (bad) return -1;
    if (!m->output) m->output = m->tok_embd;
    m->layers = lrq_calloc((size_t)hp->n_layer, sizeof *m->layers);
    if (!m->layers) return -1;
    for (int l = 0; l < hp->n_layer && !bad; l++) {
        lrq_layer *L = &m->layers[l];
        L->attn_norm = lrq_model_tensor(m, &bad, 1, E, 0, "blk.%d.attn_norm.weight", l);
        if (!bad) L->wq = lrq_model_tensor(m, &bad, 1, E, Q, "blk.%d.attn_q.weight", l);
        if (!bad) L->wk = lrq_model_tensor(m, &bad, 1, E, KV, "blk.%d.attn_k.weight", l);
        if (!bad) L->wv = lrq_model_tensor(m, &bad, 1, E, KV, "blk.%d.attn_v.weight", l);
        if (!bad) L->wo = lrq_model_tensor(m, &bad, 1, Q, E, "blk.%d.attn_output.weight", l);
        if (!bad) L->ffn_norm = lrq_model_tensor(m, &bad, 1, E, 0, "blk.%d.ffn_norm.weight", l);
        if (lrq_hparams_is_moe_layer(hp, l)) continue; /* FFN bound by lrq_model_bind_moe (arch_moe.c) */
        if (!bad) L->ffn_gate = lrq_model_tensor(m, &bad, 1, E, hp->n_ff, "blk.%d.ffn_gate.weight", l);
        if (!bad) L->ffn_up = lrq_model_tensor(m, &bad, 1, E, hp->n_ff, "blk.%d.ffn_up.weight", l);
        if (!bad) L->ffn_down = lrq_model_tensor(m, &bad, 1, hp->n_ff, E, "blk.%d.ffn_down.weight", l);
    }
    return bad ? -1 : 0;
}

int lrq_model_bind_qkv_bias(lrq_model *m) {
    const lrq_hparams *hp = &m->hp;
    int bad = 0;
    int64_t Q = (int64_t)hp->n_head * hp->head_dim, KV = (int64_t)hp->n_head_kv * hp->head_dim;
    for (int l = 0; l < hp->n_layer && !bad; l++) {
        lrq_layer *L = &m->layers[l];
        L->bq = lrq_model_tensor(m, &bad, 1, Q, 0, "blk.%d.attn_q.bias", l);
        if (!bad) L->bk = lrq_model_tensor(m, &bad, 1, KV, 0, "blk.%d.attn_k.bias", l);
        if (!bad) L->bv = lrq_model_tensor(m, &bad, 1, KV, 0, "blk.%d.attn_v.bias", l);
    }
    return bad ? -1 : 0;
}

int lrq_model_bind_qk_norm(lrq_model *m) {
    const lrq_hparams *hp = &m->hp;
    int bad = 0;
    for (int l = 0; l < hp->n_layer && !bad; l++) {
        lrq_layer *L = &m->layers[l];
        L->q_norm = lrq_model_tensor(m, &bad, 1, hp->head_dim, 0, "blk.%d.attn_q_norm.weight", l);
        if (!bad) L->k_norm = lrq_model_tensor(m, &bad, 1, hp->head_dim, 0, "blk.%d.attn_k_norm.weight", l);
    }
    return bad ? -1 : 0;
}

static int check_hparams(const lrq_weights *w) {
    const lrq_hparams *hp = &w->hp;
    const char *p = w->path;
    if (hp->n_embd <= 0 || hp->n_embd > (1 << 20)) return lrq_err_set("%s: n_embd %d out of range", p, hp->n_embd);
    if (hp->n_layer <= 0 || hp->n_layer > 4096) return lrq_err_set("%s: n_layer %d out of range", p, hp->n_layer);
    if (hp->n_head <= 0 || hp->n_head > 4096) return lrq_err_set("%s: n_head %d out of range", p, hp->n_head);
    if (hp->n_head_kv <= 0 || hp->n_head % hp->n_head_kv)
        return lrq_err_set("%s: n_head_kv %d must be > 0 and divide n_head %d", p, hp->n_head_kv, hp->n_head);
    if (hp->head_dim <= 0 || hp->head_dim > 4096 || hp->head_dim % 2)
        return lrq_err_set("%s: head_dim %d out of range (must be even)", p, hp->head_dim);
    int32_t n_rot = hp->n_rot ? hp->n_rot : hp->head_dim;
    if (n_rot <= 0 || n_rot > hp->head_dim || n_rot % 2)
        return lrq_err_set("%s: rope dimension count %d invalid for head_dim %d", p, n_rot, hp->head_dim);
    if (hp->n_ff <= 0 || hp->n_ff > (1 << 22)) return lrq_err_set("%s: n_ff %d out of range", p, hp->n_ff);
    if (hp->n_vocab <= 0) return lrq_err_set("%s: n_vocab %d out of range", p, hp->n_vocab);
    if (!(hp->rms_eps > 0 && hp->rms_eps < 1)) return lrq_err_set("%s: rms epsilon %g out of range", p, hp->rms_eps);
    if (!(hp->rope_theta > 0)) return lrq_err_set("%s: rope theta %g out of range", p, hp->rope_theta);
    return 0;
}

static int load_vocab_file(struct lrq_vocab **out, const char *path, int32_t n_vocab) {
    FILE *f = fopen(path, "rb");
    if (!f) return lrq_err_set("%s: cannot open", path);
    char magic[4] = {0};
    size_t n = fread(magic, 1, 4, f);
    fclose(f);
    if (n == 4 && memcmp(magic, "GGUF", 4) == 0) {
        lrq_gguf *g;
        if (lrq_gguf_open(&g, path)) return -1;
        int r = lrq_vocab_from_gguf(out, g);
        lrq_gguf_close(g);
        return r;
    }
    size_t len = strlen(path);
    if (len > 5 && strcmp(path + len - 5, ".json") == 0) return lrq_vocab_from_hf(out, path, NULL);
    return lrq_vocab_from_llama2c(out, path, n_vocab);
}

int lrq_model_load(lrq_model **out, const char *path, const char *vocab_path) {
    *out = NULL;
    lrq_types_init(); /* kernels registered before lrq_type_supported is asked */
    lrq_model *m = lrq_calloc(1, sizeof *m);
    if (!m) return -1;
    if (lrq_weights_load(&m->w, path)) goto fail;
    if (check_hparams(m->w)) goto fail;
    m->hp = m->w->hp;
    if (!m->hp.n_rot) m->hp.n_rot = m->hp.head_dim;
    if (!(m->used = lrq_calloc((size_t)m->w->n_tensors + 1, 1))) goto fail;
    const lrq_arch_desc *ad = lrq_arch_get(m->hp.arch);
    int r = ad ? ad->bind(m) : lrq_err_set("%s: unsupported architecture", path);
    if (r) goto fail;
    /* Like llama.cpp, refuse tensors the architecture does not use (e.g. biases
     * a llama checkpoint carries): silently ignoring them would compute a
     * different model than the file describes. */
    for (int32_t i = 0; i < m->w->n_tensors; i++)
        if (!m->used[i]) {
            lrq_err_set("%s: unexpected tensor '%s' for this architecture", path, m->w->tensors[i].name);
            goto fail;
        }
    if (lrq_model_build_blocks(m)) goto fail;
    if (vocab_path) {
        if (load_vocab_file(&m->owned_vocab, vocab_path, m->hp.n_vocab)) goto fail;
        m->vocab = m->owned_vocab;
    } else {
        m->vocab = m->w->vocab;
    }
    if (m->vocab && lrq_vocab_n_tokens(m->vocab) > m->hp.n_vocab) {
        lrq_err_set("%s: tokenizer has %d tokens but the model only %d", vocab_path ? vocab_path : path,
                    lrq_vocab_n_tokens(m->vocab), m->hp.n_vocab);
        goto fail;
    }
    *out = m;
    return 0;
fail:
    lrq_model_free(m);
    return -1;
}

void lrq_model_free(lrq_model *m) {
    if (!m) return;
    free(m->layers);
    free(m->blocks);
    free(m->used);
    while (m->owned) {
        lrq_owned_tensor *o = m->owned;
        m->owned = o->next;
        free((void *)o->t.data);
        free(o);
    }
    if (m->owned_vocab) lrq_vocab_free(m->owned_vocab);
    lrq_weights_free(m->w);
    free(m);
}
