/* arch_qwen2.c — Qwen2: Llama plus biases on the Q, K and V projections;
 * NeoX (rotate-half) RoPE. */
#include "model/arch.h"
#include "model/model.h"

static int bind(lrq_model *m) {
    if (lrq_model_bind_common(m)) return -1;
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

const lrq_arch_desc lrq_arch_qwen2 = {
    .id = LRQ_ARCH_QWEN2, .gguf_name = "qwen2", .hf_class = "Qwen2ForCausalLM", .hf_model_type = "qwen2",
    .gguf_rope = LRQ_ROPE_NEOX, .hf_default_ctx = 32768, .qkv_bias = 1, .bind = bind,
};
