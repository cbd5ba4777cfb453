/* blocks.c — the ops' view of a bound model (lrq_block per layer, nn/block.h)
 * and replica sets over its layers. */
#include "model/model.h"
#include "core/core.h"

#include <stdlib.h>

static void set_linear(lrq_linear *L, const lrq_tensor *w, const lrq_tensor *bias, int layer, int slot) {
    L->w = w;
    L->bias = bias ? bias->data : NULL;
    L->act = LRQ_ACT_PARTNER;
    L->info = (lrq_linear_info){ .name = w ? w->name : NULL, .layer = layer, .slot = slot, .replica = 0,
                                 .expert = -1, .n_in = w ? w->ne[0] : 0, .n_out = w ? w->ne[1] : 0 };
}

int lrq_model_build_blocks(lrq_model *m) {
    const int n = m->hp.n_layer;
    free(m->blocks);
    if (!(m->blocks = lrq_calloc((size_t)n, sizeof *m->blocks))) return -1;
    for (int l = 0; l < n; l++) {
        const lrq_layer *L = &m->layers[l];
        lrq_block *b = &m->blocks[l];
        b->K = 1;
        b->cw[0] = 1.0f;
        lrq_block_w *w = &b->rep[0];
        w->attn_norm = L->attn_norm->data;
        w->ffn_norm = L->ffn_norm->data;
        set_linear(&w->attn.q, L->wq, L->bq, l, LRQ_SLOT_Q);
        set_linear(&w->attn.k, L->wk, L->bk, l, LRQ_SLOT_K);
        set_linear(&w->attn.v, L->wv, L->bv, l, LRQ_SLOT_V);
        set_linear(&w->attn.o, L->wo, NULL, l, LRQ_SLOT_O);
        w->attn.q_norm = L->q_norm ? L->q_norm->data : NULL;
        w->attn.k_norm = L->k_norm ? L->k_norm->data : NULL;
        set_linear(&w->mlp.gate, L->ffn_gate, NULL, l, LRQ_SLOT_GATE);
        set_linear(&w->mlp.up, L->ffn_up, NULL, l, LRQ_SLOT_UP);
        set_linear(&w->mlp.down, L->ffn_down, NULL, l, LRQ_SLOT_DOWN);
        if (L->gate_exps) {
            const lrq_hparams *hp = &m->hp;
            lrq_moe *M = &w->moe;
            M->router = L->gate_inp->data;
            M->router_info = (lrq_linear_info){ .name = L->gate_inp->name, .layer = l, .slot = LRQ_SLOT_ROUTER,
                                                .expert = -1, .n_in = L->gate_inp->ne[0], .n_out = L->gate_inp->ne[1] };
            set_linear(&M->gate, L->gate_exps, NULL, l, LRQ_SLOT_GATE);
            set_linear(&M->up, L->up_exps, NULL, l, LRQ_SLOT_UP);
            set_linear(&M->down, L->down_exps, NULL, l, LRQ_SLOT_DOWN);
            M->has_shexp = L->down_shexp != NULL;
            if (M->has_shexp) {
                set_linear(&M->shexp.gate, L->gate_shexp, NULL, l, LRQ_SLOT_GATE);
                set_linear(&M->shexp.up, L->up_shexp, NULL, l, LRQ_SLOT_UP);
                set_linear(&M->shexp.down, L->down_shexp, NULL, l, LRQ_SLOT_DOWN);
            }
            M->shexp_gate = L->gate_inp_shexp ? L->gate_inp_shexp->data : NULL;
            if (L->gate_inp_shexp)
                M->shexp_gate_info = (lrq_linear_info){ .name = L->gate_inp_shexp->name, .layer = l,
                                                        .slot = LRQ_SLOT_SHEXP_GATE, .expert = -1,
                                                        .n_in = L->gate_inp_shexp->ne[0], .n_out = 1 };
            M->n_expert = hp->n_expert;
            M->n_expert_used = hp->n_expert_used;
            M->norm_w = hp->moe_norm_w;
            M->w_scale = hp->expert_weights_scale;
        }
    }
    return 0;
}

/* The linear of `slot` in parameter set w, or NULL. */
static lrq_linear *slot_linear(lrq_block_w *w, int slot) {
    switch (slot) {
    case LRQ_SLOT_Q: return &w->attn.q;
    case LRQ_SLOT_K: return &w->attn.k;
    case LRQ_SLOT_V: return &w->attn.v;
    case LRQ_SLOT_O: return &w->attn.o;
    case LRQ_SLOT_GATE: return &w->mlp.gate;
    case LRQ_SLOT_UP: return &w->mlp.up;
    case LRQ_SLOT_DOWN: return &w->mlp.down;
    default: return NULL;
    }
}

static void mark_replica(lrq_block_w *w, int k) {
    for (int s = LRQ_SLOT_Q; s <= LRQ_SLOT_DOWN; s++) slot_linear(w, s)->info.replica = k;
    lrq_moe *M = &w->moe;
    M->router_info.replica = k;
    M->shexp_gate_info.replica = k;
    M->gate.info.replica = M->up.info.replica = M->down.info.replica = k;
    M->shexp.gate.info.replica = M->shexp.up.info.replica = M->shexp.down.info.replica = k;
}

int lrq_model_replicate(lrq_model *m, int layer, int unit, int topology, int K, const float *cw) {
    if (layer >= m->hp.n_layer) return lrq_err_set("replicate: layer %d out of range (0..%d)", layer, m->hp.n_layer - 1);
    if (K < 1 || K > LRQ_MAX_REPLICAS) return lrq_err_set("replicate: K = %d out of range (1..%d)", K, LRQ_MAX_REPLICAS);
    if (unit != LRQ_UNIT_BLOCK && unit != LRQ_UNIT_ATTN && unit != LRQ_UNIT_MLP)
        return lrq_err_set("replicate: unknown unit %d", unit);
    if (topology != LRQ_TOPO_PARALLEL && topology != LRQ_TOPO_SEQUENTIAL)
        return lrq_err_set("replicate: unknown topology %d", topology);
    if (cw)
        for (int k = 0; k < K; k++)
            if (!(cw[k] == cw[k]) || cw[k] - cw[k] != 0.0f) return lrq_err_set("replicate: combine weight %d is not finite", k);
    const int lo = layer < 0 ? 0 : layer, hi = layer < 0 ? m->hp.n_layer : layer + 1;
    /* A MoE FFN as a replica unit would need replica views of whole expert stacks (and K times the
     * expert scratch); not supported: refused before anything changes. */
    if (unit == LRQ_UNIT_MLP && K > 1)
        for (int l = lo; l < hi; l++)
            if (m->blocks[l].rep[0].moe.n_expert > 0)
                return lrq_err_set("replicate: layer %d has a mixture-of-experts FFN; MLP-unit replica sets are "
                                   "not supported there (use the block or attention unit)", l);
    for (int l = lo; l < hi; l++) {
        lrq_block *b = &m->blocks[l];
        b->K = K;
        b->unit = unit;
        b->topology = topology;
        for (int k = 0; k < K; k++) {
            b->cw[k] = cw ? cw[k] : 1.0f / (float)K;
            if (k > 0) {
                b->rep[k] = b->rep[0];
                mark_replica(&b->rep[k], k);
            }
        }
    }
    return 0;
}

int lrq_model_replica_tensor(lrq_model *m, int layer, int k, int slot, const lrq_tensor *t) {
    if (layer < 0 || layer >= m->hp.n_layer) return lrq_err_set("replica tensor: layer %d out of range", layer);
    lrq_block *b = &m->blocks[layer];
    if (k < 0 || k >= b->K) return lrq_err_set("replica tensor: replica %d out of range (K = %d)", k, b->K);
    lrq_linear *L = slot_linear(&b->rep[k], slot);
    if (!L) return lrq_err_set("replica tensor: slot %d is not a linear of a block", slot);
    if (!L->w) return lrq_err_set("replica tensor: layer %d has no dense linear in slot %d (a MoE layer)", layer, slot);
    if (t->type != L->w->type || t->ne[0] != L->w->ne[0] || t->ne[1] != L->w->ne[1] || t->ne[2] != 1)
        return lrq_err_set("replica tensor '%s': shape or type differs from '%s'", t->name, L->w->name);
    L->w = t;
    return 0;
}

/* Sets every block linear (dense attention and FFN projections of every
 * replica) to policy, with aq for LRQ_ACT_INT. */
static void set_policy(lrq_model *m, int policy, const lrq_act_quant *aq) {
    for (int l = 0; l < m->hp.n_layer; l++)
        for (int k = 0; k < LRQ_MAX_REPLICAS; k++)
            for (int s = LRQ_SLOT_Q; s <= LRQ_SLOT_DOWN; s++) {
                lrq_linear *L = slot_linear(&m->blocks[l].rep[k], s);
                if (!L->w) continue;
                L->act = policy;
                if (aq) L->aq = *aq;
            }
}

int lrq_model_set_act_policy(lrq_model *m, int policy) {
    if (policy < LRQ_ACT_PARTNER || policy > LRQ_ACT_Q8_TOKEN)
        return lrq_err_set("unknown activation policy %d (LRQ_ACT_INT is set by lrq_model_set_act_quant)", policy);
    set_policy(m, policy, NULL);
    return 0;
}

int lrq_model_set_act_quant(lrq_model *m, const lrq_act_quant *aq) {
    if (!aq) {
        set_policy(m, LRQ_ACT_PARTNER, NULL);
        return 0;
    }
    if (lrq_act_quant_check(aq)) return -1;
    set_policy(m, LRQ_ACT_INT, aq);
    return 0;
}
