/* weights_hf.c — lrq_weights from a Hugging Face checkpoint directory
 * (config.json + *.safetensors, optionally sharded, optionally
 * tokenizer.json).
 *
 * Tensors are renamed to llama.cpp's GGUF names and given ggml's shape
 * convention: a PyTorch [out, in] row-major weight is already "ne[0] = in,
 * ne[1] = out" with the same bytes, so nothing is copied (except a tensor
 * whose data is not aligned to its element size in the file, which is
 * copied to an aligned buffer so it can be read in place).
 *
 * RoPE: HF checkpoints pair dimensions (i, i + d/2) ("rotate half"), so every
 * HF model gets hp.rope_kind = LRQ_ROPE_NEOX; for llama this replaces the q/k
 * row permutation llama.cpp's converter applies.
 *
 * Mixture-of-experts checkpoints (DeepseekForCausalLM, Qwen2MoeForCausalLM,
 * Qwen3MoeForCausalLM; keys per model/arch.h lrq_arch_moe) keep one tensor
 * per expert; they are copied into GGUF-style expert stacks (map_moe_layer).
 *
 * Every tensor the architecture needs must be present with the shape implied
 * by config.json; a tensor the loader does not know is an error (it usually
 * means config.json and the weights disagree), except the rotary
 * inv_freq buffers older checkpoints carry.
 */
#define _POSIX_C_SOURCE 200809L
#include "model/weights.h"
#include "model/arch.h"
#include "core/core.h"
#include "core/path.h"
#include "core/mapfile.h"
#include "io/json.h"
#include "io/safetensors.h"
#include "tok/vocab.h"
#include "fmt/types.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#define HF_MAX_DIM (1 << 24)   /* bound for sizes in config.json */

typedef struct hf_priv {
    lrq_safetensors *st;
    void **bufs;               /* aligned copies of misaligned tensors */
    size_t n_bufs;
} hf_priv;

static void hf_priv_free(void *p) {
    hf_priv *h = p;
    if (!h) return;
    lrq_safetensors_close(h->st);
    for (size_t i = 0; i < h->n_bufs; i++) lrq_free_aligned(h->bufs[i]);
    free(h->bufs);
    free(h);
}

typedef struct hf_ctx {
    lrq_weights *w;
    hf_priv *priv;
    const lrq_json *cfg;
    const char *cfg_path;
    unsigned char *used;       /* [n st tensors] */
} hf_ctx;

/* ---- config.json accessors ---- */

/* Integer key: 1 and *out if present, 0 if absent (or null), -1 on a bad value. */
static int cfg_int(hf_ctx *c, const char *key, int64_t lo, int64_t hi, int64_t *out) {
    const lrq_json *j = lrq_json_get(c->cfg, key);
    if (!j || lrq_json_type(j) == LRQ_JSON_NULL) return 0;
    int64_t v;
    if (!lrq_json_int(j, &v)) {
        double d = lrq_json_num(j);
        if (lrq_json_type(j) == LRQ_JSON_NUMBER && d == floor(d))
            return lrq_err_set("%s: key '%s' = %g out of range [%lld, %lld]", c->cfg_path, key, d, (long long)lo,
                               (long long)hi);
        return lrq_err_set("%s: key '%s' must be an integer", c->cfg_path, key);
    }
    if (v < lo || v > hi)
        return lrq_err_set("%s: key '%s' = %lld out of range [%lld, %lld]", c->cfg_path, key, (long long)v,
                           (long long)lo, (long long)hi);
    *out = v;
    return 1;
}

static int cfg_req_int(hf_ctx *c, const char *key, int64_t lo, int64_t hi, int32_t *out) {
    int64_t v = 0;
    int r = cfg_int(c, key, lo, hi, &v);
    if (r < 0) return -1;
    if (r == 0) return lrq_err_set("%s: missing key '%s'", c->cfg_path, key);
    *out = (int32_t)v;
    return 0;
}

static int cfg_opt_int(hf_ctx *c, const char *key, int64_t lo, int64_t hi, int32_t dflt, int32_t *out) {
    int64_t v = 0;
    int r = cfg_int(c, key, lo, hi, &v);
    if (r < 0) return -1;
    *out = r ? (int32_t)v : dflt;
    return 0;
}

/* Positive finite float key with a default. */
static int cfg_opt_pos_float(hf_ctx *c, const char *key, double hi, float dflt, float *out) {
    const lrq_json *j = lrq_json_get(c->cfg, key);
    if (!j || lrq_json_type(j) == LRQ_JSON_NULL) { *out = dflt; return 0; }
    if (lrq_json_type(j) != LRQ_JSON_NUMBER) return lrq_err_set("%s: key '%s' must be a number", c->cfg_path, key);
    double v = lrq_json_num(j);
    if (!(v > 0) || !(v <= hi)) return lrq_err_set("%s: key '%s' = %g out of range (0, %g]", c->cfg_path, key, v, hi);
    *out = (float)v;
    return 0;
}

static int cfg_opt_bool(hf_ctx *c, const char *key, int dflt, int *out) {
    const lrq_json *j = lrq_json_get(c->cfg, key);
    if (!j || lrq_json_type(j) == LRQ_JSON_NULL) { *out = dflt; return 0; }
    int b = lrq_json_bool(j);
    if (b < 0) return lrq_err_set("%s: key '%s' must be true or false", c->cfg_path, key);
    *out = b;
    return 0;
}

/* ---- tensors ---- */

static const lrq_st_tensor *find_st(hf_ctx *c, const char *name) {
    const lrq_st_tensor *t = lrq_safetensors_find(c->priv->st, name);
    if (t) c->used[t - lrq_safetensors_tensor_at(c->priv->st, 0)] = 1;
    return t;
}

/* Map HF tensor `hf` (expected PyTorch shape [d0] or [d0, d1]; d1 == 0 for
 * 1-D) to GGUF name `gg`. Missing: error if `required`, else skipped (0). */
static int map_tensor(hf_ctx *c, const char *hf, const char *gg, int64_t d0, int64_t d1, int required) {
    const lrq_st_tensor *t = find_st(c, hf);
    if (!t) {
        if (!required) return 0;
        return lrq_err_set("%s: missing tensor '%s'", c->w->path, hf);
    }
    const char *file = lrq_safetensors_file_path(c->priv->st, t->file);
    int nd = d1 ? 2 : 1;
    if (t->n_dims != nd || t->shape[0] != d0 || (nd == 2 && t->shape[1] != d1)) {
        char got[160] = "", want[64];
        size_t k = 0;
        for (int i = 0; i < t->n_dims && k < sizeof got - 24; i++)
            k += (size_t)snprintf(got + k, sizeof got - k, "%s%lld", i ? ", " : "", (long long)t->shape[i]);
        if (nd == 2) snprintf(want, sizeof want, "%lld, %lld", (long long)d0, (long long)d1);
        else snprintf(want, sizeof want, "%lld", (long long)d0);
        return lrq_err_set("%s: tensor '%s' has shape [%s], expected [%s] from config.json", file, hf, got, want);
    }
    const void *data = t->data;
    size_t esize = t->type == LRQ_TYPE_F32 ? 4 : 2;
    if (((uintptr_t)data % esize) != 0) {
        /* misaligned in the file: keep an aligned copy */
        hf_priv *p = c->priv;
        void **nb = lrq_realloc(p->bufs, sizeof *nb * (p->n_bufs + 1));
        if (!nb) return lrq_err_prefix("%s", file);
        p->bufs = nb;
        void *copy = lrq_malloc_aligned(t->nbytes, 64);
        if (!copy) return lrq_err_prefix("%s", file);
        memcpy(copy, t->data, t->nbytes);
        p->bufs[p->n_bufs++] = copy;
        data = copy;
    }
    int64_t ne[2] = {nd == 2 ? d1 : d0, d0}; /* reversed: ne[0] is the contiguous dimension */
    return lrq_weights_add(c->w, gg, t->type, nd, ne, data, t->nbytes);
}

/* Keeps a 64-byte aligned buffer owned by the loader (freed with the weights). */
static void *priv_buffer(hf_ctx *c, size_t n) {
    hf_priv *p = c->priv;
    void **nb = lrq_realloc(p->bufs, sizeof *nb * (p->n_bufs + 1));
    if (!nb) return NULL;
    p->bufs = nb;
    void *b = lrq_malloc_aligned(n ? n : 1, 64);
    if (b) p->bufs[p->n_bufs++] = b;
    return b;
}

/* Stacks the per-expert HF matrices model.layers.L.mlp.experts.E.<proj>.weight
 * (each [d0, d1], one dtype) into the GGUF expert stack `gg` [d1, d0, n_expert]:
 * expert e's bytes follow expert e-1's, as llama.cpp's converter writes them.
 * The stack is one copy made at load time (see map_moe_layer). */
static int map_expert_stack(hf_ctx *c, int l, const char *proj, const char *gg, int64_t d0, int64_t d1,
                            int n_expert) {
    char hf[160];
    const lrq_st_tensor *first = NULL;
    size_t each = 0, total = 0;
    for (int e = 0; e < n_expert; e++) {
        snprintf(hf, sizeof hf, "model.layers.%d.mlp.experts.%d.%s.weight", l, e, proj);
        const lrq_st_tensor *t = find_st(c, hf);
        if (!t) return lrq_err_set("%s: missing tensor '%s'", c->w->path, hf);
        const char *file = lrq_safetensors_file_path(c->priv->st, t->file);
        if (t->n_dims != 2 || t->shape[0] != d0 || t->shape[1] != d1)
            return lrq_err_set("%s: tensor '%s' has shape [%lld, %lld], expected [%lld, %lld] from config.json", file,
                               hf, (long long)t->shape[0], (long long)(t->n_dims > 1 ? t->shape[1] : 0),
                               (long long)d0, (long long)d1);
        if (!first) {
            first = t;
            each = t->nbytes;
            if (lrq_mul_size(each, (size_t)n_expert, &total))
                return lrq_err_set("%s: expert stack '%s' too large", c->w->path, gg);
        } else if (t->type != first->type || t->nbytes != each) {
            return lrq_err_set("%s: tensor '%s': experts of one layer must share a dtype", file, hf);
        }
    }
    uint8_t *buf = priv_buffer(c, total);
    if (!buf) return lrq_err_prefix("%s", c->w->path);
    for (int e = 0; e < n_expert; e++) {
        snprintf(hf, sizeof hf, "model.layers.%d.mlp.experts.%d.%s.weight", l, e, proj);
        memcpy(buf + (size_t)e * each, lrq_safetensors_find(c->priv->st, hf)->data, each);
    }
    int64_t ne[3] = {d1, d0, n_expert};
    return lrq_weights_add(c->w, gg, first->type, 3, ne, buf, total);
}

/* The MoE FFN of layer l. Expert stacks: HF keeps one tensor per expert, the
 * compute (and GGUF, and the quantizer) one contiguous [.., .., n_expert]
 * stack; lrq copies the experts into an owned stack once at load rather than
 * keeping a per-expert pointer table, so every consumer of lrq_tensor keeps
 * seeing plain contiguous tensors (cost: one copy of the expert weights in
 * memory instead of reading them from the mapping). */
static int map_moe_layer(hf_ctx *c, const lrq_arch_moe *mo, int l) {
    const lrq_hparams *hp = &c->w->hp;
    const int64_t E = hp->n_embd, F = hp->n_ff_exp, FS = hp->n_ff_shexp;
    char hf[160], gg[96];
    snprintf(hf, sizeof hf, "model.layers.%d.mlp.gate.weight", l);
    snprintf(gg, sizeof gg, "blk.%d.ffn_gate_inp.weight", l);
    if (map_tensor(c, hf, gg, hp->n_expert, E, 1)) return -1;
    static const struct { const char *proj, *gg; int down; } st[] = {
        {"gate_proj", "ffn_gate_exps.weight", 0}, {"up_proj", "ffn_up_exps.weight", 0},
        {"down_proj", "ffn_down_exps.weight", 1},
    };
    for (int i = 0; i < 3; i++) {
        snprintf(gg, sizeof gg, "blk.%d.%s", l, st[i].gg);
        if (map_expert_stack(c, l, st[i].proj, gg, st[i].down ? E : F, st[i].down ? F : E, hp->n_expert)) return -1;
    }
    if (FS > 0 && mo->hf_shexp) {
        static const struct { const char *proj, *gg; int down; } sx[] = {
            {"gate_proj", "ffn_gate_shexp.weight", 0}, {"up_proj", "ffn_up_shexp.weight", 0},
            {"down_proj", "ffn_down_shexp.weight", 1},
        };
        for (int i = 0; i < 3; i++) {
            snprintf(hf, sizeof hf, "model.layers.%d.mlp.%s.%s.weight", l, mo->hf_shexp, sx[i].proj);
            snprintf(gg, sizeof gg, "blk.%d.%s", l, sx[i].gg);
            if (map_tensor(c, hf, gg, sx[i].down ? E : FS, sx[i].down ? FS : E, 1)) return -1;
        }
    }
    if (mo->shexp_gate) {
        /* shared_expert_gate: a Linear(hidden, 1), i.e. [1, n_embd]; GGUF keeps it as a vector */
        snprintf(hf, sizeof hf, "model.layers.%d.mlp.shared_expert_gate.weight", l);
        snprintf(gg, sizeof gg, "blk.%d.ffn_gate_inp_shexp.weight", l);
        if (map_tensor(c, hf, gg, 1, E, 1)) return -1;
        lrq_tensor *t = &c->w->tensors[c->w->n_tensors - 1];
        t->n_dims = 1;
        t->ne[1] = 1;
    }
    return 0;
}

/* Architecture from "architectures"[0], else "model_type" (model/arch.h). */
static const lrq_arch_desc *detect_arch(hf_ctx *c) {
    const lrq_json *archs = lrq_json_get(c->cfg, "architectures");
    const char *cls = lrq_json_str(lrq_json_at(archs, 0), NULL);
    const char *type = lrq_json_str(lrq_json_get(c->cfg, "model_type"), NULL);
    const lrq_arch_desc *ad = lrq_arch_find_hf(cls, type);
    if (ad) return ad;
    if (!cls && !type) lrq_err_set("%s: missing key 'architectures' (and 'model_type')", c->cfg_path);
    else lrq_err_set("%s: unsupported architecture '%.64s' (supported: %s)", c->cfg_path, cls ? cls : type,
                     lrq_arch_list_hf());
    return NULL;
}

/* MoE keys of DeepseekConfig (n_routed_experts, n_shared_experts,
 * first_k_dense_replace, moe_layer_freq 1, scoring_func softmax,
 * routed_scaling_factor) and Qwen2MoeConfig / Qwen3MoeConfig (num_experts,
 * shared_expert_intermediate_size, decoder_sparse_step 1, no
 * mlp_only_layers); all: num_experts_per_tok, moe_intermediate_size,
 * norm_topk_prob (HF default false: the checkpoint's own rule is followed,
 * as transformers does). Which keys apply: the descriptor (arch.h). */
static int read_moe_hparams(hf_ctx *c, const lrq_arch_moe *mo, lrq_hparams *hp) {
    if (cfg_req_int(c, mo->hf_n_expert, 1, LRQ_MAX_EXPERTS, &hp->n_expert) ||
        cfg_req_int(c, "num_experts_per_tok", 1, hp->n_expert, &hp->n_expert_used) ||
        cfg_req_int(c, "moe_intermediate_size", 1, LRQ_MAX_FF, &hp->n_ff_exp) ||
        cfg_opt_bool(c, "norm_topk_prob", 0, &hp->moe_norm_w))
        return -1;
    if (mo->shexp_count) {
        int32_t n_shared = 0;
        if (cfg_opt_int(c, "n_shared_experts", 0, 64, 0, &n_shared)) return -1;
        if ((int64_t)n_shared * hp->n_ff_exp > LRQ_MAX_FF)
            return lrq_err_set("%s: key 'n_shared_experts': %d shared experts of width %d are too wide", c->cfg_path,
                               (int)n_shared, (int)hp->n_ff_exp);
        hp->n_ff_shexp = n_shared * hp->n_ff_exp;
    } else if (mo->shexp_width) {
        if (cfg_req_int(c, "shared_expert_intermediate_size", 1, LRQ_MAX_FF, &hp->n_ff_shexp)) return -1;
    }
    if (mo->leading_dense) {
        int32_t freq = 1;
        if (cfg_opt_int(c, "first_k_dense_replace", 0, hp->n_layer, 0, &hp->n_layer_dense_lead) ||
            cfg_opt_int(c, "moe_layer_freq", 1, 65536, 1, &freq))
            return -1;
        if (freq != 1)
            return lrq_err_set("%s: key 'moe_layer_freq' = %d is not supported (only 1)", c->cfg_path, (int)freq);
    } else {
        int32_t step = 1;
        if (cfg_opt_int(c, "decoder_sparse_step", 1, 65536, 1, &step)) return -1;
        if (step != 1)
            return lrq_err_set("%s: key 'decoder_sparse_step' = %d is not supported (only 1)", c->cfg_path, (int)step);
        const lrq_json *mlp_only = lrq_json_get(c->cfg, "mlp_only_layers");
        if (mlp_only && lrq_json_type(mlp_only) != LRQ_JSON_NULL && lrq_json_len(mlp_only) != 0)
            return lrq_err_set("%s: key 'mlp_only_layers' is not supported (must be empty)", c->cfg_path);
    }
    const char *sf = lrq_json_str(lrq_json_get(c->cfg, "scoring_func"), NULL);
    if (sf && strcmp(sf, "softmax") != 0)
        return lrq_err_set("%s: key 'scoring_func' = '%.32s' is not supported (only softmax)", c->cfg_path, sf);
    if (mo->weights_scale &&
        cfg_opt_pos_float(c, "routed_scaling_factor", 1e6, 0.0f, &hp->expert_weights_scale))
        return -1;
    return 0;
}

static int read_hparams(hf_ctx *c, lrq_hparams *hp) {
    const lrq_arch_desc *ad = detect_arch(c);
    if (!ad) return -1;
    hp->arch = ad->id;
    if (cfg_req_int(c, "hidden_size", 1, HF_MAX_DIM, &hp->n_embd) ||
        cfg_req_int(c, "num_hidden_layers", 1, 65536, &hp->n_layer) ||
        cfg_req_int(c, "num_attention_heads", 1, HF_MAX_DIM, &hp->n_head) ||
        cfg_req_int(c, "intermediate_size", 1, HF_MAX_DIM, &hp->n_ff) ||
        cfg_opt_int(c, "num_key_value_heads", 1, HF_MAX_DIM, hp->n_head, &hp->n_head_kv) ||
        cfg_opt_int(c, "vocab_size", 1, HF_MAX_DIM, 0, &hp->n_vocab))
        return -1;
    if (cfg_opt_int(c, "max_position_embeddings", 1, INT32_MAX, ad->hf_default_ctx, &hp->n_ctx_train)) return -1;
    if (hp->n_head % hp->n_head_kv != 0)
        return lrq_err_set("%s: num_key_value_heads %d does not divide num_attention_heads %d", c->cfg_path,
                           (int)hp->n_head_kv, (int)hp->n_head);
    /* head_dim: HF's default is hidden_size / num_attention_heads, except
     * where the architecture's config class sets another (Qwen3: 128). */
    int64_t hd;
    int r = cfg_int(c, "head_dim", 1, 65536, &hd);
    if (r < 0) return -1;
    if (r == 0) {
        if (ad->hf_default_head_dim) {
            hd = ad->hf_default_head_dim;
        } else {
            if (hp->n_embd % hp->n_head != 0)
                return lrq_err_set("%s: num_attention_heads %d does not divide hidden_size %d", c->cfg_path,
                                   (int)hp->n_head, (int)hp->n_embd);
            hd = hp->n_embd / hp->n_head;
        }
    }
    if (hd % 2 != 0) return lrq_err_set("%s: head_dim %lld must be even for RoPE", c->cfg_path, (long long)hd);
    if ((int64_t)hp->n_head * hd > HF_MAX_DIM)
        return lrq_err_set("%s: num_attention_heads * head_dim = %lld too large", c->cfg_path,
                           (long long)hp->n_head * hd);
    hp->head_dim = (int32_t)hd;
    hp->n_rot = hp->head_dim;
    if (cfg_opt_pos_float(c, "rms_norm_eps", 1.0, 1e-6f, &hp->rms_eps) ||
        cfg_opt_pos_float(c, "rope_theta", 1e12, 10000.0f, &hp->rope_theta))
        return -1;
    /* RoPE scaling variants change the rotation frequencies; not supported. */
    const lrq_json *rs = lrq_json_get(c->cfg, "rope_scaling");
    if (rs && lrq_json_type(rs) != LRQ_JSON_NULL) {
        if (lrq_json_type(rs) != LRQ_JSON_OBJECT)
            return lrq_err_set("%s: key 'rope_scaling' must be an object or null", c->cfg_path);
        const char *kind = lrq_json_str(lrq_json_get(rs, "rope_type"), NULL);
        if (!kind) kind = lrq_json_str(lrq_json_get(rs, "type"), NULL);
        if (!kind || strcmp(kind, "default") != 0)
            return lrq_err_set("%s: rope_scaling '%.32s' is not supported", c->cfg_path, kind ? kind : "(no type)");
    }
    hp->rope_kind = LRQ_ROPE_NEOX;
    if (ad->moe) return read_moe_hparams(c, ad->moe, hp);
    return 0;
}

static int map_all(hf_ctx *c, int tie) {
    lrq_hparams *hp = &c->w->hp;
    const lrq_st_tensor *emb = lrq_safetensors_find(c->priv->st, "model.embed_tokens.weight");
    if (!emb) return lrq_err_set("%s: missing tensor 'model.embed_tokens.weight'", c->w->path);
    if (hp->n_vocab == 0) {
        /* vocab_size absent: take it from the embeddings */
        if (emb->n_dims != 2 || emb->shape[0] < 1 || emb->shape[0] > HF_MAX_DIM)
            return lrq_err_set("%s: tensor 'model.embed_tokens.weight' has a bad shape",
                               lrq_safetensors_file_path(c->priv->st, emb->file));
        hp->n_vocab = (int32_t)emb->shape[0];
    }
    const int64_t E = hp->n_embd, F = hp->n_ff, V = hp->n_vocab, D = hp->head_dim;
    const int64_t QD = (int64_t)hp->n_head * D, KD = (int64_t)hp->n_head_kv * D;
    const lrq_arch_desc *ad = lrq_arch_get(hp->arch);
    const int qkv_bias_required = ad->qkv_bias;
    const int qk_norm_required = ad->qk_norm;

    if (map_tensor(c, "model.embed_tokens.weight", "token_embd.weight", V, E, 1)) return -1;
    for (int32_t l = 0; l < hp->n_layer; l++) {
        static const struct {
            const char *hf, *gg;
            char d0, d1;   /* E, F, Q(D), K(D), H(head_dim), 0 */
            char need;     /* 1 always, 'b' qwen2 only, 'n' qwen3 only, 0 optional */
        } map[] = {
            {"input_layernorm.weight", "attn_norm.weight", 'E', 0, 1},
            {"self_attn.q_proj.weight", "attn_q.weight", 'Q', 'E', 1},
            {"self_attn.k_proj.weight", "attn_k.weight", 'K', 'E', 1},
            {"self_attn.v_proj.weight", "attn_v.weight", 'K', 'E', 1},
            {"self_attn.o_proj.weight", "attn_output.weight", 'E', 'Q', 1},
            {"self_attn.q_proj.bias", "attn_q.bias", 'Q', 0, 'b'},
            {"self_attn.k_proj.bias", "attn_k.bias", 'K', 0, 'b'},
            {"self_attn.v_proj.bias", "attn_v.bias", 'K', 0, 'b'},
            {"self_attn.o_proj.bias", "attn_output.bias", 'E', 0, 0},
            {"self_attn.q_norm.weight", "attn_q_norm.weight", 'H', 0, 'n'},
            {"self_attn.k_norm.weight", "attn_k_norm.weight", 'H', 0, 'n'},
            {"post_attention_layernorm.weight", "ffn_norm.weight", 'E', 0, 1},
            {"mlp.gate_proj.weight", "ffn_gate.weight", 'F', 'E', 1},
            {"mlp.up_proj.weight", "ffn_up.weight", 'F', 'E', 1},
            {"mlp.down_proj.weight", "ffn_down.weight", 'E', 'F', 1},
            {"mlp.gate_proj.bias", "ffn_gate.bias", 'F', 0, 0},
            {"mlp.up_proj.bias", "ffn_up.bias", 'F', 0, 0},
            {"mlp.down_proj.bias", "ffn_down.bias", 'E', 0, 0},
        };
        for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
            int64_t d[2];
            for (int k = 0; k < 2; k++) {
                char s = k ? map[i].d1 : map[i].d0;
                d[k] = s == 'E' ? E : s == 'F' ? F : s == 'Q' ? QD : s == 'K' ? KD : s == 'H' ? D : 0;
            }
            int need = map[i].need == 1 || (map[i].need == 'b' && qkv_bias_required) ||
                       (map[i].need == 'n' && qk_norm_required);
            if (map[i].need == 'n' && !qk_norm_required) continue; /* q/k norms only exist in qwen3 */
            if (strncmp(map[i].hf, "mlp.", 4) == 0 && lrq_hparams_is_moe_layer(hp, (int)l))
                continue; /* dense FFN tensors: MoE layers have experts instead (map_moe_layer) */
            char hf[128], gg[96];
            snprintf(hf, sizeof hf, "model.layers.%d.%s", (int)l, map[i].hf);
            snprintf(gg, sizeof gg, "blk.%d.%s", (int)l, map[i].gg);
            if (map_tensor(c, hf, gg, d[0], d[1], need)) return -1;
        }
        if (lrq_hparams_is_moe_layer(hp, (int)l) && map_moe_layer(c, ad->moe, (int)l)) return -1;
    }
    if (map_tensor(c, "model.norm.weight", "output_norm.weight", E, 0, 1)) return -1;
    const lrq_st_tensor *head = find_st(c, "lm_head.weight");
    /* Tied models use the embeddings as the classifier (HF ignores a stored
     * lm_head then); a missing lm_head also means tied. */
    if (head && !tie) {
        if (map_tensor(c, "lm_head.weight", "output.weight", V, E, 1)) return -1;
    }
    /* Anything left over means config.json and the checkpoint disagree. */
    int64_t n = lrq_safetensors_n_tensors(c->priv->st);
    for (int64_t i = 0; i < n; i++) {
        if (c->used[i]) continue;
        const lrq_st_tensor *t = lrq_safetensors_tensor_at(c->priv->st, i);
        size_t nl = strlen(t->name);
        static const char inv_freq[] = ".rotary_emb.inv_freq";
        if (nl >= sizeof inv_freq - 1 && strcmp(t->name + nl - (sizeof inv_freq - 1), inv_freq) == 0) continue;
        return lrq_err_set("%s: unexpected tensor '%s' (not used by this architecture with this config.json)",
                           lrq_safetensors_file_path(c->priv->st, t->file), t->name);
    }
    return 0;
}

int lrq_weights_load_hf(lrq_weights **out, const char *dir) {
    LRQ_ASSERT(out != NULL);
    *out = NULL;
    char *cfg_path = NULL, *tok_path = NULL, *tokcfg_path = NULL, *text = NULL;
    lrq_json_doc *doc = NULL;
    hf_ctx c;
    memset(&c, 0, sizeof c);
    lrq_weights *w = lrq_calloc(1, sizeof *w);
    if (!w) return -1;
    c.w = w;
    w->format = "safetensors";
    w->path = lrq_strdup(dir);
    if (!w->path) goto fail;
    cfg_path = lrq_path_join(dir, "config.json");
    if (!cfg_path) goto fail;
    c.cfg_path = cfg_path;
    size_t len;
    text = lrq_read_file(cfg_path, &len);
    if (!text) goto fail;
    if (lrq_json_parse(&doc, text, len, cfg_path)) goto fail;
    c.cfg = lrq_json_root(doc);
    if (lrq_json_type(c.cfg) != LRQ_JSON_OBJECT) {
        lrq_err_set("%s: not a JSON object", cfg_path);
        goto fail;
    }
    if (read_hparams(&c, &w->hp)) goto fail;
    int tie = 0;
    if (cfg_opt_bool(&c, "tie_word_embeddings", 0, &tie)) goto fail;

    hf_priv *p = lrq_calloc(1, sizeof *p);
    if (!p) goto fail;
    w->priv = p;
    w->priv_free = hf_priv_free;
    c.priv = p;
    if (lrq_safetensors_open(&p->st, dir)) goto fail;
    c.used = lrq_calloc((size_t)lrq_safetensors_n_tensors(p->st) + 1, 1);
    if (!c.used) goto fail;
    if (map_all(&c, tie)) goto fail;

    tok_path = lrq_path_join(dir, "tokenizer.json");
    tokcfg_path = lrq_path_join(dir, "tokenizer_config.json");
    if (!tok_path || !tokcfg_path) goto fail;
    if (lrq_path_is_file(tok_path)) {
        if (lrq_vocab_from_hf(&w->vocab, tok_path, lrq_path_is_file(tokcfg_path) ? tokcfg_path : NULL)) goto fail;
        int32_t nt = lrq_vocab_n_tokens(w->vocab);
        if (nt > w->hp.n_vocab) {
            lrq_err_set("%s: tokenizer has %d tokens but the model only %d embeddings", tok_path, (int)nt,
                        (int)w->hp.n_vocab);
            goto fail;
        }
    }
    free(c.used);
    free(tok_path);
    free(tokcfg_path);
    free(cfg_path);
    free(text);
    lrq_json_free(doc);
    *out = w;
    return 0;
fail:
    free(c.used);
    free(tok_path);
    free(tokcfg_path);
    free(cfg_path);
    free(text);
    lrq_json_free(doc);
    lrq_weights_free(w);
    return -1;
}
