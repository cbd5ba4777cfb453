/* arch_qwen3.c — Qwen3: Llama plus a per-head RMSNorm on Q and K before
 * RoPE (NeoX layout); head_dim may differ from n_embd / n_head. */
#include "model/model.h"

int lrq_arch_qwen3_bind(lrq_model *m) {
    if (lrq_model_bind_common(m)) return -1;
    const lrq_hparams *hp = &m->hp;
    int bad = 0;
    for (int l = 0; l < hp->n_layer && !bad; l++) {
        lrq_layer *L = &m->layers[l];
        L->q_norm = lrq_model_tensor(m, &bad, 1, hp->head_dim, 0, "blk.%d.attn_q_norm.weight", l);
        if (!bad) L->k_norm = lrq_model_tensor(m, &bad, 1, hp->head_dim, 0, "blk.%d.attn_k_norm.weight", l);
    }
    return bad ? -1 : 0;
}
