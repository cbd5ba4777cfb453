/* api.c — the public accessors of lrq.h for models and tokenizers: thin
 * wrappers over the internal structs, so tools/ need no internal header.
 * Reads lrq_model.hp / .w / .vocab and lrq_weights.tensors / .format only. */
#include "lrq.h"
#include "core/core.h"
#include "io/gguf.h"
#include "tok/vocab.h"
#include "model/model.h"
#include "model/arch.h"
#include "fmt/types.h"

#include <stdlib.h>

/* The GGUF name of the architecture, from its descriptor (model/arch.h). */
static const char *arch_name(int a) {
    const lrq_arch_desc *ad = lrq_arch_get(a);
    return ad ? ad->gguf_name : "unknown";
}

void lrq_model_get_info(const lrq_model *m, lrq_model_info *info) {
    const lrq_hparams *hp = &m->hp;
    info->arch = arch_name(hp->arch);
    info->format = m->w && m->w->format ? m->w->format : "unknown";
    info->rope = hp->rope_kind == LRQ_ROPE_NEOX ? "neox" : "norm";
    info->n_vocab = hp->n_vocab;
    info->n_embd = hp->n_embd;
    info->n_layer = hp->n_layer;
    info->n_head = hp->n_head;
    info->n_head_kv = hp->n_head_kv;
    info->head_dim = hp->head_dim;
    info->n_ff = hp->n_ff;
    info->n_rot = hp->n_rot ? hp->n_rot : hp->head_dim;
    info->n_ctx_train = hp->n_ctx_train;
    info->rope_theta = hp->rope_theta;
    info->rms_eps = hp->rms_eps;
    info->n_expert = hp->n_expert;
    info->n_expert_used = hp->n_expert_used;
    info->n_ff_exp = hp->n_ff_exp;
    info->n_ff_shexp = hp->n_ff_shexp;
    info->n_layer_dense_lead = hp->n_layer_dense_lead;
}

const lrq_vocab *lrq_model_vocab(const lrq_model *m) { return m->vocab; }

int64_t lrq_model_n_tensors(const lrq_model *m) { return m->w ? m->w->n_tensors : 0; }

int lrq_model_tensor_info(const lrq_model *m, int64_t i, lrq_tensor_info *out) {
    if (!m->w || i < 0 || i >= m->w->n_tensors)
        return lrq_err_set("model: tensor index %lld out of range", (long long)i);
    const lrq_tensor *t = &m->w->tensors[i];
    out->name = t->name;
    out->type = t->type;
    out->type_name = lrq_type_name(t->type);
    out->supported = lrq_type_supported(t->type);
    out->n_dims = t->n_dims;
    for (int k = 0; k < 4; k++) out->ne[k] = t->ne[k];
    out->nbytes = t->nbytes;
    return 0;
}

int lrq_vocab_load(lrq_vocab **out, const char *path) {
    *out = NULL;
    lrq_gguf *g;
    if (lrq_gguf_open(&g, path)) return -1;
    int r = lrq_vocab_from_gguf(out, g);
    lrq_gguf_close(g);
    return r;
}

const char *lrq_vocab_type_name(const lrq_vocab *v) {
    return lrq_vocab_kind(v) == LRQ_VOCAB_SPM ? "spm" : "bpe";
}
