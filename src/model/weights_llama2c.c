/* weights_llama2c.c — lrq_weights from a llama2.c checkpoint: the stacked
 * per-layer arrays are sliced into GGUF-named tensors pointing straight into
 * the mapping (zero copy). llama2.c's q/k rows already use the interleaved
 * RoPE pairing of GGUF llama models (it applies RoPE to pairs (2i, 2i+1)),
 * so no permutation is needed and the tensors equal the GGUF conversion's. */
#include "model/weights.h"
#include "core/core.h"
#include "io/llama2c.h"
#include "fmt/types.h"

#include <stdio.h>
#include <stdlib.h>

static void priv_close(void *p) { lrq_llama2c_close(p); }

/* Add an F32 tensor [ne0] (ne1 == 0) or [ne0, ne1] (ggml order) at `data`. */
static int add_f32(lrq_weights *w, const char *name, int64_t ne0, int64_t ne1, const float *data) {
    int64_t ne[2] = {ne0, ne1};
    int n_dims = ne1 ? 2 : 1;
    size_t nbytes = (size_t)ne0 * (size_t)(ne1 ? ne1 : 1) * sizeof(float);
    return lrq_weights_add(w, name, LRQ_TYPE_F32, n_dims, ne, data, nbytes);
}

int lrq_weights_load_llama2c(lrq_weights **out, const char *path) {
    LRQ_ASSERT(out != NULL);
    *out = NULL;
    lrq_weights *w = lrq_calloc(1, sizeof *w);
    if (!w) return -1;
    w->format = "llama2c";
    w->path = lrq_strdup(path);
    if (!w->path) goto fail;
    lrq_llama2c *m = NULL;
    if (lrq_llama2c_open(&m, path)) goto fail;
    w->priv = m;
    w->priv_free = priv_close;

    const lrq_llama2c_config *c = &m->cfg;
    lrq_hparams *hp = &w->hp;
    hp->arch = LRQ_ARCH_LLAMA;
    hp->n_vocab = c->vocab_size;
    hp->n_embd = c->dim;
    hp->n_layer = c->n_layers;
    hp->n_head = c->n_heads;
    hp->n_head_kv = c->n_kv_heads;
    hp->head_dim = c->head_size;
    hp->n_rot = c->head_size;
    hp->n_ff = c->hidden_dim;
    hp->n_ctx_train = c->seq_len;
    hp->rms_eps = 1e-5f;          /* run.c's rmsnorm epsilon */
    hp->rope_theta = 10000.0f;    /* run.c's RoPE base */
    hp->rope_kind = LRQ_ROPE_NORM;

    const int64_t dim = c->dim, hid = c->hidden_dim;
    const int64_t kv_dim = (int64_t)c->n_kv_heads * c->head_size;
    if (add_f32(w, "token_embd.weight", dim, c->vocab_size, m->token_embedding_table)) goto fail;
    for (int32_t l = 0; l < c->n_layers; l++) {
        char name[64];
        const size_t L = (size_t)l;
        const size_t d = (size_t)dim, h = (size_t)hid, kv = (size_t)kv_dim;
#define ADD(suffix, ne0, ne1, ptr)                                         \
        do {                                                               \
            snprintf(name, sizeof name, "blk.%d.%s", (int)l, suffix);      \
            if (add_f32(w, name, ne0, ne1, ptr)) goto fail;                \
        } while (0)
        ADD("attn_norm.weight", dim, 0, m->rms_att_weight + L * d);
        ADD("attn_q.weight", dim, dim, m->wq + L * d * d);
        ADD("attn_k.weight", dim, kv_dim, m->wk + L * d * kv);
        ADD("attn_v.weight", dim, kv_dim, m->wv + L * d * kv);
        ADD("attn_output.weight", dim, dim, m->wo + L * d * d);
        ADD("ffn_norm.weight", dim, 0, m->rms_ffn_weight + L * d);
        ADD("ffn_gate.weight", dim, hid, m->w1 + L * d * h);
        ADD("ffn_down.weight", hid, dim, m->w2 + L * h * d);
        ADD("ffn_up.weight", dim, hid, m->w3 + L * d * h);
#undef ADD
    }
    if (add_f32(w, "output_norm.weight", dim, 0, m->rms_final_weight)) goto fail;
    if (!c->shared_classifier && add_f32(w, "output.weight", dim, c->vocab_size, m->wcls)) goto fail;
    *out = w;
    return 0;
fail:
    lrq_weights_free(w);
    return -1;
}
