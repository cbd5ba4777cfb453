/* arch_moe.c — what the mixture-of-experts architectures (arch_deepseek.c,
 * arch_qwen2moe.c, arch_qwen3moe.c) share: reading their hyper-parameters
 * from GGUF metadata, and binding the MoE FFN tensors of every MoE layer:
 * the router ffn_gate_inp [n_embd, n_expert] (made F32 at load whatever its
 * stored type: the routing is computed in F32), the expert stacks
 * ffn_{gate,up}_exps [n_embd, n_ff_exp, n_expert] and ffn_down_exps
 * [n_ff_exp, n_embd, n_expert] as GGUF stores them (expert e = bytes
 * e*N*row .. (e+1)*N*row), and the shared expert ffn_{gate,up,down}_shexp
 * (+ its sigmoid gate ffn_gate_inp_shexp [n_embd] for qwen2moe). */
#include "model/arch.h"
#include "model/model.h"
#include "core/core.h"
#include "fmt/types.h"
#include "io/gguf.h"

#include <stdio.h>
#include <stdlib.h>

/* Read as llama.cpp v0.5.0 reads them: expert_count / expert_used_count for
 * every architecture; deepseek: expert_feed_forward_length and
 * expert_shared_count required, leading_dense_block_count and
 * expert_weights_scale optional (0 = no scaling); qwen2moe:
 * expert_feed_forward_length (default n_ff / n_expert_used) and
 * expert_shared_feed_forward_length (default n_ff); qwen3moe like qwen2moe
 * without a shared expert. The top-k weights are renormalised as the
 * architecture's llama.cpp graph does (qwen3moe only) unless the file says
 * otherwise with expert_weights_norm. Routing other than softmax
 * (expert_gating_func != 1) is refused rather than computed wrongly.
 * Per-layer arrays for these keys are not supported (the integer getter
 * rejects them with the key's name). */
int lrq_arch_moe_read_gguf(const lrq_arch_desc *ad, const lrq_gguf *g, const char *arch, lrq_hparams *hp) {
    const lrq_arch_moe *mo = ad->moe;
    const char *path = lrq_gguf_path(g);
    char key[128];
    if (lrq_gguf_arch_int(g, arch, "expert_count", 1, 0, 1, LRQ_MAX_EXPERTS, &hp->n_expert) ||
        lrq_gguf_arch_int(g, arch, "expert_used_count", 1, 0, 1, hp->n_expert, &hp->n_expert_used))
        return -1;
    if (hp->n_ff <= 0) return lrq_err_set("%s: key '%s.feed_forward_length' must be > 0", path, arch);
    if (lrq_gguf_arch_int(g, arch, "expert_feed_forward_length", mo->shexp_count, hp->n_ff / hp->n_expert_used, 1, LRQ_MAX_FF,
                 &hp->n_ff_exp))
        return -1;
    if (mo->shexp_count) {
        int32_t n_shared = 0;
        if (lrq_gguf_arch_int(g, arch, "expert_shared_count", 1, 0, 0, 64, &n_shared)) return -1;
        if ((int64_t)n_shared * hp->n_ff_exp > LRQ_MAX_FF)
            return lrq_err_set("%s: key '%s.expert_shared_count': %d shared experts of width %d are too wide", path,
                               arch, n_shared, hp->n_ff_exp);
        hp->n_ff_shexp = n_shared * hp->n_ff_exp; /* <= LRQ_MAX_FF, checked above */
    } else if (mo->shexp_width) {
        if (lrq_gguf_arch_int(g, arch, "expert_shared_feed_forward_length", 0, hp->n_ff, 1, LRQ_MAX_FF, &hp->n_ff_shexp))
            return -1;
    }
    if (mo->leading_dense &&
        lrq_gguf_arch_int(g, arch, "leading_dense_block_count", 0, 0, 0, hp->n_layer, &hp->n_layer_dense_lead))
        return -1;
    if (mo->weights_scale) {
        snprintf(key, sizeof key, "%s.expert_weights_scale", arch);
        int r = lrq_gguf_get_f32(g, key, &hp->expert_weights_scale);
        if (r < 0) return -1;
        if (r == 0) hp->expert_weights_scale = 0.0f;
        if (!(hp->expert_weights_scale >= 0 && hp->expert_weights_scale <= 1e6f))
            return lrq_err_set("%s: key '%s': value %g out of range [0, 1e6]", path, key, hp->expert_weights_scale);
    }
    snprintf(key, sizeof key, "%s.expert_weights_norm", arch);
    int r = lrq_gguf_get_bool(g, key, &hp->moe_norm_w);
    if (r < 0) return -1;
    if (r == 0) hp->moe_norm_w = mo->norm_w;
    int32_t gating = 1;
    if (lrq_gguf_arch_int(g, arch, "expert_gating_func", 0, 1, 0, 1 << 30, &gating)) return -1;
    if (gating != 1)
        return lrq_err_set("%s: key '%s.expert_gating_func': value %d is not supported (only 1, softmax)", path, arch,
                           gating);
    return 0;
}

/* A 3-D expert stack [ne0, ne1, ne2] (lrq_model_tensor only takes 1-D/2-D). */
static const lrq_tensor *tensor3(lrq_model *m, int *bad, int64_t ne0, int64_t ne1, int64_t ne2, const char *what,
                                 int l) {
    char name[128];
    snprintf(name, sizeof name, "blk.%d.%s", l, what);
    const char *path = m->w->path;
    const lrq_tensor *t = lrq_weights_find(m->w, name);
    if (!t) { lrq_err_set("%s: missing tensor '%s'", path, name); *bad = 1; return NULL; }
    m->used[t - m->w->tensors] = 1;
    if (t->n_dims > 3 || t->ne[0] != ne0 || t->ne[1] != ne1 || t->ne[2] != ne2 || t->ne[3] != 1) {
        lrq_err_set("%s: tensor '%s' has shape [%lld, %lld, %lld, %lld], expected [%lld, %lld, %lld]", path, name,
                    (long long)t->ne[0], (long long)t->ne[1], (long long)t->ne[2], (long long)t->ne[3],
                    (long long)ne0, (long long)ne1, (long long)ne2);
        *bad = 1;
        return NULL;
    }
    if (!lrq_type_supported(t->type)) {
        lrq_err_set("%s: unsupported type %s in tensor '%s'", path, lrq_type_name(t->type), name);
        *bad = 1;
        return NULL;
    }
    size_t rs, need = 0;
    if (lrq_row_size(t->type, ne0, &rs)) {
        lrq_err_set("%s: tensor '%s': row length %lld is not a multiple of the %s block size", path, name,
                    (long long)ne0, lrq_type_name(t->type));
        *bad = 1;
        return NULL;
    }
    if (lrq_mul_size(rs, (size_t)ne1, &need) || lrq_mul_size(need, (size_t)ne2, &need) || need > t->nbytes) {
        lrq_err_set("%s: tensor '%s': %zu data bytes, expected %zu", path, name, t->nbytes, need);
        *bad = 1;
        return NULL;
    }
    return t;
}

/* The router as F32: a stored F16/BF16/quantized router is dequantized once here. */
static const lrq_tensor *router_f32(lrq_model *m, int *bad, const lrq_tensor *t) {
    if (t->type == LRQ_TYPE_F32) return t;
    size_t n, bytes;
    if (lrq_mul_size((size_t)t->ne[0], (size_t)t->ne[1], &n) || lrq_mul_size(n, sizeof(float), &bytes)) {
        lrq_err_set("%s: tensor '%s' too large", m->w->path, t->name);
        *bad = 1;
        return NULL;
    }
    lrq_owned_tensor *o = lrq_calloc(1, sizeof *o);
    float *f = o ? lrq_malloc(bytes) : NULL;
    if (!f) { free(o); *bad = 1; return NULL; }
    /* rows are whole blocks (checked by lrq_model_tensor), so the matrix dequantizes as one run */
    lrq_type_get(t->type)->to_float(t->data, f, (int64_t)n);
    o->t = *t;
    o->t.type = LRQ_TYPE_F32;
    o->t.data = f;
    o->t.nbytes = bytes;
    o->next = m->owned;
    m->owned = o;
    return &o->t;
}

int lrq_model_bind_moe(lrq_model *m) {
    const lrq_hparams *hp = &m->hp;
    const lrq_arch_desc *ad = lrq_arch_get(hp->arch);
    const char *path = m->w->path;
    LRQ_ASSERT(ad && ad->moe);
    /* the loaders check these; a hand-made lrq_weights might not */
    if (hp->n_expert < 1 || hp->n_expert > LRQ_MAX_EXPERTS || hp->n_expert_used < 1 ||
        hp->n_expert_used > hp->n_expert || hp->n_ff_exp < 1 || hp->n_ff_exp > LRQ_MAX_FF || hp->n_ff_shexp < 0 ||
        hp->n_ff_shexp > LRQ_MAX_FF || hp->n_layer_dense_lead < 0 || hp->n_layer_dense_lead > hp->n_layer)
        return lrq_err_set("%s: MoE architecture without valid expert counts (experts %d, used %d, width %d)", path,
                           hp->n_expert, hp->n_expert_used, hp->n_ff_exp);
    if (ad->moe->shexp_gate && hp->n_ff_shexp < 1)
        return lrq_err_set("%s: the shared expert's width must be > 0", path);
    const int64_t E = hp->n_embd, F = hp->n_ff_exp, X = hp->n_expert, FS = hp->n_ff_shexp;
    int bad = 0;
    for (int l = 0; l < hp->n_layer && !bad; l++) {
        if (!lrq_hparams_is_moe_layer(hp, l)) continue;
        lrq_layer *L = &m->layers[l];
        const lrq_tensor *r = lrq_model_tensor(m, &bad, 1, E, X, "blk.%d.ffn_gate_inp.weight", l);
        if (!bad) L->gate_inp = router_f32(m, &bad, r);
        if (!bad) L->gate_exps = tensor3(m, &bad, E, F, X, "ffn_gate_exps.weight", l);
        if (!bad) L->up_exps = tensor3(m, &bad, E, F, X, "ffn_up_exps.weight", l);
        if (!bad) L->down_exps = tensor3(m, &bad, F, E, X, "ffn_down_exps.weight", l);
        if (FS > 0) {
            if (!bad) L->gate_shexp = lrq_model_tensor(m, &bad, 1, E, FS, "blk.%d.ffn_gate_shexp.weight", l);
            if (!bad) L->up_shexp = lrq_model_tensor(m, &bad, 1, E, FS, "blk.%d.ffn_up_shexp.weight", l);
            if (!bad) L->down_shexp = lrq_model_tensor(m, &bad, 1, FS, E, "blk.%d.ffn_down_shexp.weight", l);
            if (!bad && ad->moe->shexp_gate)
                L->gate_inp_shexp = lrq_model_tensor(m, &bad, 1, E, 0, "blk.%d.ffn_gate_inp_shexp.weight", l);
        }
    }
    return bad ? -1 : 0;
}
