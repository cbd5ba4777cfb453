/* preset.c — llama-quantize's per-tensor type choices as tables (see
 * preset.h). The rules are restated from llama.cpp v0.5.0 src/llama-quant.cpp
 * (llama_tensor_get_type_impl and helpers) for the presets and architectures
 * lrq supports; no code is taken from there. Each category's rules are
 * tried in order and the first one whose preset set and condition hold
 * gives the type — the same outcome as llama-quantize's if/else-if chains,
 * whose branches for one preset never overlap (checked when the table was
 * written: a preset appears at most once per category, except where the
 * conditions are exclusive, e.g. "8 experts" / "not 8 experts").
 */
#define _POSIX_C_SOURCE 200809L
#include "quant/preset.h"

#include "core/core.h"
#include "fmt/types.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---------- presets ---------- */

static const lrq_preset presets[] = {
    { "Q4_0", LRQ_FTYPE_Q4_0, LRQ_TYPE_Q4_0, "4.5 bpw, output Q6_K" },
    { "Q4_1", LRQ_FTYPE_Q4_1, LRQ_TYPE_Q4_1, "5.0 bpw, output Q6_K" },
    { "Q5_0", LRQ_FTYPE_Q5_0, LRQ_TYPE_Q5_0, "5.5 bpw, output Q6_K" },
    { "Q5_1", LRQ_FTYPE_Q5_1, LRQ_TYPE_Q5_1, "6.0 bpw, output Q6_K" },
    { "Q2_K", LRQ_FTYPE_Q2_K, LRQ_TYPE_Q2_K, "Q2_K matrices, attn_v Q3_K/Q4_K, ffn_down/attn_output Q3_K" },
    { "Q3_K_S", LRQ_FTYPE_Q3_K_S, LRQ_TYPE_Q3_K, "Q3_K everywhere but the output (Q6_K)" },
    { "Q3_K_M", LRQ_FTYPE_Q3_K_M, LRQ_TYPE_Q3_K, "Q3_K; attn_v Q5_K/Q4_K, ffn_down Q5_K/Q4_K, attn_output Q4_K" },
    { "Q3_K_L", LRQ_FTYPE_Q3_K_L, LRQ_TYPE_Q3_K, "Q3_K; attn_v, ffn_down, attn_output Q5_K" },
    { "Q4_K_S", LRQ_FTYPE_Q4_K_S, LRQ_TYPE_Q4_K, "Q4_K; first 4 attn_v and first 1/8 ffn_down Q5_K" },
    { "Q4_K_M", LRQ_FTYPE_Q4_K_M, LRQ_TYPE_Q4_K, "Q4_K; half of attn_v and ffn_down Q6_K" },
    { "Q5_K_S", LRQ_FTYPE_Q5_K_S, LRQ_TYPE_Q5_K, "Q5_K everywhere but the output (Q6_K)" },
    { "Q5_K_M", LRQ_FTYPE_Q5_K_M, LRQ_TYPE_Q5_K, "Q5_K; half of attn_v and ffn_down Q6_K" },
    { "Q6_K", LRQ_FTYPE_Q6_K, LRQ_TYPE_Q6_K, "Q6_K everywhere" },
    { "Q8_0", LRQ_FTYPE_Q8_0, LRQ_TYPE_Q8_0, "Q8_0 everywhere" },
    { "IQ4_NL", LRQ_FTYPE_IQ4_NL, LRQ_TYPE_IQ4_NL, "IQ4_NL; output Q6_K, attn_v Q5_K when GQA >= 4" },
    { "IQ4_XS", LRQ_FTYPE_IQ4_XS, LRQ_TYPE_IQ4_XS, "IQ4_XS; output Q6_K, attn_v Q5_K when GQA >= 4" },
    { "F16", LRQ_FTYPE_F16, LRQ_TYPE_F16, "every matrix F16" },
    { "BF16", LRQ_FTYPE_BF16, LRQ_TYPE_BF16, "every matrix BF16" },
    { "F32", LRQ_FTYPE_F32, LRQ_TYPE_F32, "every matrix F32" },
};
#define N_PRESETS ((int)(sizeof presets / sizeof presets[0]))

/* llama-quantize's alias names (tools/quantize/quantize.cpp, v0.5.0). */
static const struct { const char *alias, *name; } aliases[] = {
    { "Q3_K", "Q3_K_M" }, { "Q4_K", "Q4_K_M" }, { "Q5_K", "Q5_K_M" },
};

const lrq_preset *lrq_preset_find(const char *name) {
    if (!name) return NULL;
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (!strcasecmp(name, aliases[i].alias)) name = aliases[i].name;
    for (int i = 0; i < N_PRESETS; i++)
        if (!strcasecmp(name, presets[i].name)) return &presets[i];
    return NULL;
}

int lrq_preset_count(void) { return N_PRESETS; }
const lrq_preset *lrq_preset_at(int i) { return i >= 0 && i < N_PRESETS ? &presets[i] : NULL; }

/* ---------- tensor roles ---------- */

/* Substring -> category, tried in order (the first hit wins: "attn_v.weight"
 * before "attn_k.weight", and "ffn_up" before "ffn_gate" before "ffn_down",
 * as llama-quantize tests them). Exact names are handled before. */
static const struct { const char *sub; int cat; } cat_subs[] = {
    { "attn_qkv.weight", LRQ_TCAT_ATTN_V },  /* attn_v-like: llama-quantize treats all three alike */
    { "attn_kv_b.weight", LRQ_TCAT_ATTN_V },
    { "attn_v.weight", LRQ_TCAT_ATTN_V },
    { "attn_k.weight", LRQ_TCAT_ATTN_K },
    { "attn_q.weight", LRQ_TCAT_ATTN_Q },
    { "attn_output.weight", LRQ_TCAT_ATTN_OUTPUT },
    { "ffn_up", LRQ_TCAT_FFN_UP },
    { "ffn_gate", LRQ_TCAT_FFN_GATE },
    { "ffn_down", LRQ_TCAT_FFN_DOWN },
};

int lrq_tensor_category(const char *name) {
    if (!strcmp(name, "output.weight")) return LRQ_TCAT_OUTPUT;
    if (!strcmp(name, "token_embd.weight") || !strcmp(name, "per_layer_token_embd.weight")) return LRQ_TCAT_TOKEN_EMBD;
    for (size_t i = 0; i < sizeof cat_subs / sizeof cat_subs[0]; i++)
        if (strstr(name, cat_subs[i].sub)) return cat_subs[i].cat;
    return LRQ_TCAT_OTHER;
}

/* Name parts that llama-quantize never quantizes (the subset of its list
 * that can occur in the architectures lrq runs, plus the multimodal and
 * positional tables it names, harmless to keep). */
static const char *const keep_subs[] = {
    "_norm.weight", "ffn_gate_inp.weight", "ffn_gate_tid2eid.weight", "altup", "laurel", "per_layer_model_proj",
    "position_embd", "token_types", "ssm_conv1d", "attn_rel_b.weight", ".patch_embd",
};

int lrq_tensor_quantizable(const char *name, int n_dims) {
    if (n_dims < 2) return 0;
    size_t n = strlen(name);
    if (n < 6 || strcmp(name + n - 6, "weight") != 0) return 0;
    for (size_t i = 0; i < sizeof keep_subs / sizeof keep_subs[0]; i++)
        if (strstr(name, keep_subs[i])) return 0;
    return 1;
}

int lrq_tensor_is_norm_or_router(const char *name) {
    return strstr(name, "_norm.weight") || strstr(name, "_norm.bias") || strstr(name, "ffn_gate_inp.weight") ||
           strstr(name, "ffn_gate_inp_shexp.weight");
}

/* ---------- the rules ---------- */

/* Conditions of a rule (L = the tensor's layer, n = layer count; V = the
 * index of this attn_v-like tensor among them, NV = their count). */
enum cond {
    C_ALWAYS,
    C_GQA4,          /* n_head / n_head_kv >= 4 */
    C_V_LT2,         /* V < 2 */
    C_V_LT4,         /* V < 4 */
    C_V_MORE_BITS,   /* more_bits(V, NV) */
    C_L_LT16,        /* L < n/16 */
    C_L_LT8,         /* L < n/8 */
    C_L_MORE_BITS,   /* more_bits(L, n) */
    C_L_LT8_NOIMAT,  /* L < n/8 and no importance matrix */
    C_L_LT8_IMAT,    /* L < n/8 with an importance matrix */
    C_EXPERT8,       /* exactly 8 experts */
    C_NOT_EXPERT8,
};

/* llama-quantize's use_more_bits: the first and last eighth of the layers
 * and every third layer in between. */
static int more_bits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

#define P(x) (1u << (x))
/* Preset bits: an index per ftype used in the tables (bits, not ftype values,
 * which reach 32). */
enum { B_Q2_K, B_Q3_K_S, B_Q3_K_M, B_Q3_K_L, B_Q4_K_S, B_Q4_K_M, B_Q5_K_S, B_Q5_K_M, B_Q6_K, B_Q8_0, B_Q4_0,
       B_Q4_1, B_Q5_0, B_Q5_1, B_IQ4_NL, B_IQ4_XS, B_NONE = 31 };

static int ftype_bit(int ftype) {
    switch (ftype) {
    case LRQ_FTYPE_Q2_K: return B_Q2_K;
    case LRQ_FTYPE_Q3_K_S: return B_Q3_K_S;
    case LRQ_FTYPE_Q3_K_M: return B_Q3_K_M;
    case LRQ_FTYPE_Q3_K_L: return B_Q3_K_L;
    case LRQ_FTYPE_Q4_K_S: return B_Q4_K_S;
    case LRQ_FTYPE_Q4_K_M: return B_Q4_K_M;
    case LRQ_FTYPE_Q5_K_S: return B_Q5_K_S;
    case LRQ_FTYPE_Q5_K_M: return B_Q5_K_M;
    case LRQ_FTYPE_Q6_K: return B_Q6_K;
    case LRQ_FTYPE_Q8_0: return B_Q8_0;
    case LRQ_FTYPE_Q4_0: return B_Q4_0;
    case LRQ_FTYPE_Q4_1: return B_Q4_1;
    case LRQ_FTYPE_Q5_0: return B_Q5_0;
    case LRQ_FTYPE_Q5_1: return B_Q5_1;
    case LRQ_FTYPE_IQ4_NL: return B_IQ4_NL;
    case LRQ_FTYPE_IQ4_XS: return B_IQ4_XS;
    default: return B_NONE;
    }
}

typedef struct rule {
    int cat;          /* enum lrq_tcat */
    uint32_t presets; /* P(B_...) bits */
    int cond;         /* enum cond */
    int type;         /* the type given */
} rule;

/* The mix. Output (and a tied token_embd) and the two attn_v afterwards
 * rules are in code below: they depend on the type chosen so far. */
static const rule rules[] = {
    /* attn_v, attn_qkv, attn_kv_b */
    { LRQ_TCAT_ATTN_V, P(B_Q2_K), C_GQA4, LRQ_TYPE_Q4_K },
    { LRQ_TCAT_ATTN_V, P(B_Q2_K), C_ALWAYS, LRQ_TYPE_Q3_K },
    { LRQ_TCAT_ATTN_V, P(B_Q3_K_M), C_V_LT2, LRQ_TYPE_Q5_K },
    { LRQ_TCAT_ATTN_V, P(B_Q3_K_M), C_ALWAYS, LRQ_TYPE_Q4_K },
    { LRQ_TCAT_ATTN_V, P(B_Q3_K_L), C_ALWAYS, LRQ_TYPE_Q5_K },
    { LRQ_TCAT_ATTN_V, P(B_IQ4_NL) | P(B_IQ4_XS), C_GQA4, LRQ_TYPE_Q5_K },
    { LRQ_TCAT_ATTN_V, P(B_Q4_K_M) | P(B_Q5_K_M), C_V_MORE_BITS, LRQ_TYPE_Q6_K },
    { LRQ_TCAT_ATTN_V, P(B_Q4_K_S), C_V_LT4, LRQ_TYPE_Q5_K },
    /* attn_k */
    { LRQ_TCAT_ATTN_K, ~0u, C_EXPERT8, LRQ_TYPE_Q8_0 },
    /* ffn_down (any name containing it: ffn_down_exps, ffn_down_shexp too) */
    { LRQ_TCAT_FFN_DOWN, P(B_Q2_K), C_ALWAYS, LRQ_TYPE_Q3_K },
    { LRQ_TCAT_FFN_DOWN, P(B_Q3_K_M), C_L_LT16, LRQ_TYPE_Q5_K },
    { LRQ_TCAT_FFN_DOWN, P(B_Q3_K_M), C_ALWAYS, LRQ_TYPE_Q4_K },
    { LRQ_TCAT_FFN_DOWN, P(B_Q3_K_L), C_ALWAYS, LRQ_TYPE_Q5_K },
    { LRQ_TCAT_FFN_DOWN, P(B_Q4_K_M) | P(B_Q5_K_M), C_L_MORE_BITS, LRQ_TYPE_Q6_K },
    { LRQ_TCAT_FFN_DOWN, P(B_IQ4_NL) | P(B_IQ4_XS), C_L_LT8_NOIMAT, LRQ_TYPE_Q5_K },
    { LRQ_TCAT_FFN_DOWN, P(B_Q4_K_S), C_L_LT8, LRQ_TYPE_Q5_K },
    { LRQ_TCAT_FFN_DOWN, P(B_Q4_0), C_L_LT8_IMAT, LRQ_TYPE_Q4_1 },
    { LRQ_TCAT_FFN_DOWN, P(B_Q5_0), C_L_LT8_IMAT, LRQ_TYPE_Q5_1 },
    /* attn_output */
    { LRQ_TCAT_ATTN_OUTPUT,
      P(B_Q2_K) | P(B_Q3_K_S) | P(B_Q3_K_M) | P(B_IQ4_NL) | P(B_Q4_K_S) | P(B_Q4_K_M) | P(B_IQ4_XS), C_EXPERT8,
      LRQ_TYPE_Q5_K },
    { LRQ_TCAT_ATTN_OUTPUT, P(B_Q2_K), C_NOT_EXPERT8, LRQ_TYPE_Q3_K },
    { LRQ_TCAT_ATTN_OUTPUT, P(B_Q3_K_M), C_NOT_EXPERT8, LRQ_TYPE_Q4_K },
    { LRQ_TCAT_ATTN_OUTPUT, P(B_Q3_K_L), C_NOT_EXPERT8, LRQ_TYPE_Q5_K },
};
#define N_RULES (sizeof rules / sizeof rules[0])

/* A rule for one preset and category stops the search when its preset
 * matches, even if its condition fails, only where llama-quantize's chain
 * nests the condition inside the preset's branch: Q4_K_M / Q5_K_M on
 * ffn_down and attn_v, Q4_K_S on attn_v. Because no later row of the same
 * category names those presets again, first-match on (preset AND condition)
 * gives the same result. */

void lrq_preset_state_init(lrq_preset_state *st, const lrq_preset_model *m, const char *const *names, size_t n) {
    memset(st, 0, sizeof *st);
    st->m = *m;
    st->tied = 1;
    for (size_t i = 0; i < n; i++) {
        int c = lrq_tensor_category(names[i]);
        if (c == LRQ_TCAT_ATTN_V) st->n_attn_v++;
        if (c == LRQ_TCAT_OUTPUT) st->tied = 0;
    }
    /* LLM_TYPE_70B as llama.cpp's loaders assign it for these architectures:
     * 80 layers (llama: with grouped-query attention, not as an 8-expert model). */
    if (m->arch && m->n_layer == 80) {
        if (!strcmp(m->arch, "llama")) st->is_70b = m->n_expert != 8 && m->n_head != m->n_head_kv;
        else if (!strcmp(m->arch, "qwen2")) st->is_70b = 1;
    }
}

int lrq_type_fallback(int type, int64_t ne0) {
    const lrq_type_traits *tr = lrq_type_get(type);
    if (!tr) return lrq_err_set("unknown type %d", type);
    if (ne0 % tr->blck_size == 0) return type;
    int to;
    switch (type) {
    case LRQ_TYPE_IQ1_S: case LRQ_TYPE_IQ1_M: case LRQ_TYPE_IQ2_XXS: case LRQ_TYPE_IQ2_XS: case LRQ_TYPE_IQ2_S:
    case LRQ_TYPE_IQ3_XXS: case LRQ_TYPE_IQ3_S: case LRQ_TYPE_IQ4_XS: to = LRQ_TYPE_IQ4_NL; break;
    case LRQ_TYPE_Q2_0: case LRQ_TYPE_Q2_K: case LRQ_TYPE_Q3_K: case LRQ_TYPE_TQ1_0: case LRQ_TYPE_TQ2_0:
        to = LRQ_TYPE_Q4_0; break;
    case LRQ_TYPE_Q4_K: to = LRQ_TYPE_Q5_0; break;
    case LRQ_TYPE_Q5_K: to = LRQ_TYPE_Q5_1; break;
    case LRQ_TYPE_Q6_K: to = LRQ_TYPE_Q8_0; break;
    default:
        if (tr->blck_size > 32) return lrq_err_set("no fallback type is defined for %s", tr->name);
        to = type; /* a 32-block type already: only F16 is left */
        break;
    }
    if (ne0 % lrq_type_get(to)->blck_size != 0) to = LRQ_TYPE_F16;
    return to;
}

static int cond_holds(const lrq_preset_state *st, int cond, int layer, int n_layer) {
    const lrq_preset_model *m = &st->m;
    int gqa = m->n_head_kv > 0 ? m->n_head / m->n_head_kv : 0;
    switch (cond) {
    case C_ALWAYS: return 1;
    case C_GQA4: return gqa >= 4;
    case C_V_LT2: return st->i_attn_v < 2;
    case C_V_LT4: return st->i_attn_v < 4;
    case C_V_MORE_BITS: return more_bits(st->i_attn_v, st->n_attn_v);
    case C_L_LT16: return layer < n_layer / 16;
    case C_L_LT8: return layer < n_layer / 8;
    case C_L_MORE_BITS: return more_bits(layer, n_layer);
    case C_L_LT8_NOIMAT: return layer < n_layer / 8 && !m->has_imatrix;
    case C_L_LT8_IMAT: return layer < n_layer / 8 && m->has_imatrix;
    case C_EXPERT8: return m->n_expert == 8;
    case C_NOT_EXPERT8: return m->n_expert != 8;
    default: return 0;
    }
}

/* The mix for one tensor (llama_tensor_get_type_impl's job). */
static int mix_type(lrq_preset_state *st, const lrq_preset *p, const char *name, int64_t ne0, int cat) {
    int type = p->type;
    if (cat == LRQ_TCAT_OUTPUT || (st->tied && cat == LRQ_TCAT_TOKEN_EMBD)) {
        /* The output projection: Q8_0 when its rows do not fit the preset's
         * blocks, else Q6_K unless the preset is Q8_0. */
        if (ne0 % lrq_type_get(type)->blck_size != 0) return LRQ_TYPE_Q8_0;
        return type == LRQ_TYPE_Q8_0 ? type : LRQ_TYPE_Q6_K;
    }
    if (cat == LRQ_TCAT_TOKEN_EMBD) return type; /* untied: the presets lrq has leave it alone */

    /* The layer of ffn_down: counted in a dense model, parsed from the name
     * in a MoE model (experts are not in layer order in every file). */
    int layer = 0, n_layer = st->m.n_layer;
    if (cat == LRQ_TCAT_FFN_DOWN) {
        layer = st->i_ffn_down;
        if (st->m.n_expert > 1) {
            if (sscanf(name, "blk.%d.", &layer) != 1)
                return lrq_err_set("tensor '%s': no layer number in the name of a MoE model's tensor", name);
            if (layer < 0 || layer >= n_layer)
                return lrq_err_set("tensor '%s': layer %d not in [0, %d)", name, layer, n_layer);
        }
    }
    uint32_t bit = P(ftype_bit(p->ftype));
    for (size_t i = 0; i < N_RULES; i++) {
        const rule *r = &rules[i];
        if (r->cat == cat && (r->presets & bit) && cond_holds(st, r->cond, layer, n_layer)) {
            type = r->type;
            break;
        }
    }
    if (cat == LRQ_TCAT_ATTN_V) {
        /* afterwards: a 70B model's attn_v is 8x smaller than attn_q, so
         * Q3_K/Q4_K go up to Q5_K; an 8-expert model's attn_v is Q8_0. */
        if (st->is_70b && (type == LRQ_TYPE_Q3_K || type == LRQ_TYPE_Q4_K)) type = LRQ_TYPE_Q5_K;
        if (st->m.n_expert == 8) type = LRQ_TYPE_Q8_0;
        st->i_attn_v++;
    }
    if (cat == LRQ_TCAT_FFN_DOWN) st->i_ffn_down++;
    return type;
}

static int is_block_type(int type) {
    return type != LRQ_TYPE_F32 && type != LRQ_TYPE_F16 && type != LRQ_TYPE_BF16;
}

int lrq_preset_tensor_type(lrq_preset_state *st, const lrq_preset *p, const char *name, int64_t ne0, int mix,
                           int forced, int *fell_back) {
    *fell_back = 0;
    int type = forced >= 0 ? forced : p->type;
    /* llama-quantize applies the mix and the fallback only when the preset's
     * type is a block type (F16/BF16/F32 presets convert every matrix). */
    if (!is_block_type(p->type) && forced < 0) return type;
    if (forced < 0 && mix) {
        type = mix_type(st, p, name, ne0, lrq_tensor_category(name));
        if (type < 0) return -1;
    }
    if (!is_block_type(type)) return type;
    int fb = lrq_type_fallback(type, ne0);
    if (fb < 0) return lrq_err_prefix("tensor '%s'", name);
    if (fb != type) {
        *fell_back = 1;
        st->n_fallback++;
    }
    return fb;
}

static int layer_of(const char *s) {
    int l = -1;
    if (sscanf(s, "blk.%d.", &l) != 1) l = -1;
    return l;
}

int lrq_preset_order(const char *a, const char *b) {
    int la = layer_of(a), lb = layer_of(b);
    if (la != lb) return la < lb ? -1 : 1;
    return strcmp(a, b);
}
