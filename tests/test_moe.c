/* test_moe.c — the mixture-of-experts path beyond the golden logits
 * (test_golden_logits.c) and perplexities (test_golden_ppl.c):
 *  - expert-usage counters (lrq.h): per MoE layer they sum to tokens x
 *    experts used, dense layers stay 0, only the rows with logits pass the
 *    last layer's FFN, reset clears them; dense models have none;
 *  - hooks: expert_route sees every routed token (and agrees with the
 *    counters), linear_in/linear_out fire for every expert linear with
 *    info.expert set (rows per layer = tokens x experts used), the router
 *    with LRQ_SLOT_ROUTER;
 *  - HF checkpoints: a Hugging Face directory written from each golden
 *    rand-{deepseek,qwen2moe,qwen3moe}.gguf (per-expert tensors, HF names,
 *    q/k rows back in rotate-half order for deepseek) gives the GGUF logits;
 *  - quantized experts (tile kernels, several tokens per expert): results do
 *    not depend on the thread count;
 *  - replica sets on MoE layers: block and attention units with K = 2
 *    identical replicas and weights 1/2 give the plain logits; an MLP-unit
 *    set on a MoE layer is refused with a clear error;
 *  - bad MoE metadata (config.json keys, GGUF keys) fails with one error
 *    line naming the key. */
#define _POSIX_C_SOURCE 200809L
#include "testlib.h"
#include "st_testutil.h"
#include "core/core.h"
#include "model/model.h"
#include "nn/hooks.h"
#include "io/gguf.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define N_POS 16

static int read_ids(int32_t *ids, int max) {
    FILE *f = fopen(test_shared("golden/arch/ids16.txt"), "r");
    if (!f) return 0;
    int n = 0;
    long v;
    while (n < max && fscanf(f, "%ld", &v) == 1) ids[n++] = (int32_t)v;
    fclose(f);
    return n;
}

static void test_counters(void) {
    lrq_model *m;
    if (lrq_model_load(&m, test_shared("golden/arch/rand-deepseek.gguf"), NULL)) {
        CHECKF(0, "%s", lrq_last_error());
        return;
    }
    const lrq_hparams *hp = &m->hp;
    CHECK(hp->n_expert == 8 && hp->n_expert_used == 2 && hp->n_ff_exp == 48 && hp->n_ff_shexp == 96 &&
          hp->n_layer_dense_lead == 1);
    lrq_model_info mi;
    lrq_model_get_info(m, &mi);
    CHECK(!strcmp(mi.arch, "deepseek") && mi.n_expert == 8 && mi.n_expert_used == 2 && mi.n_ff_exp == 48 &&
          mi.n_ff_shexp == 96 && mi.n_layer_dense_lead == 1);
    int32_t ids[N_POS];
    CHECK(read_ids(ids, N_POS) == N_POS);
    lrq_ctx *c;
    LRQ_ASSERT(lrq_ctx_new(&c, m, 64, N_POS, 2) == 0);
    const uint64_t *cnt = lrq_ctx_expert_counts(c);
    CHECK(cnt != NULL);
    CHECK(lrq_ctx_eval(c, ids, N_POS, 0) != NULL);
    CHECK(lrq_ctx_eval(c, ids, 1, 0) != NULL); /* one decode step */
    for (int l = 0; l < hp->n_layer; l++) {
        uint64_t sum = 0;
        for (int e = 0; e < hp->n_expert; e++) sum += cnt[(size_t)l * hp->n_expert + e];
        uint64_t want = l < hp->n_layer_dense_lead ? 0 : (uint64_t)(N_POS + 1) * (uint64_t)hp->n_expert_used;
        CHECKF(sum == want, "layer %d: %llu routed token-slots, want %llu", l, (unsigned long long)sum,
               (unsigned long long)want);
    }
    /* Only the rows with logits pass the last layer's FFN (as in llama.cpp). */
    lrq_ctx_expert_counts_reset(c);
    lrq_ctx_reset(c);
    CHECK(lrq_ctx_eval(c, ids, N_POS, N_POS - 4) != NULL);
    uint64_t s1 = 0, s2 = 0;
    for (int e = 0; e < hp->n_expert; e++) { s1 += cnt[1 * hp->n_expert + e]; s2 += cnt[2 * hp->n_expert + e]; }
    CHECK(s1 == (uint64_t)N_POS * 2 && s2 == 4 * 2);
    lrq_ctx_expert_counts_reset(c);
    for (int i = 0; i < hp->n_layer * hp->n_expert; i++) CHECK(cnt[i] == 0);
    lrq_ctx_free(c);
    lrq_model_free(m);
    /* Dense models have no counters. */
    if (lrq_model_load(&m, test_shared("golden/arch/rand-qwen3.gguf"), NULL) == 0) {
        LRQ_ASSERT(lrq_ctx_new(&c, m, 16, 16, 1) == 0);
        CHECK(lrq_ctx_expert_counts(c) == NULL);
        lrq_ctx_free(c);
        lrq_model_free(m);
    }
}

/* ---- HF directory from a GGUF ---- */

typedef struct {
    tu_st_entry *e;
    int n, cap;
    void **bufs;
    int nb;
} hf_build;

static void add(hf_build *b, const char *name, int n_dims, const int64_t *shape, const void *data, size_t nbytes) {
    if (b->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 64;
        b->e = realloc(b->e, sizeof *b->e * (size_t)b->cap);
    }
    tu_st_entry *e = &b->e[b->n++];
    memset(e, 0, sizeof *e);
    e->name = strdup(name);
    e->dtype = "F32";
    e->n_dims = n_dims;
    for (int d = 0; d < n_dims; d++) e->shape[d] = shape[d];
    e->data = data;
    e->nbytes = nbytes;
}

static void *keep_buf(hf_build *b, size_t n) {
    b->bufs = realloc(b->bufs, sizeof *b->bufs * (size_t)(b->nb + 1));
    return b->bufs[b->nb++] = malloc(n);
}

/* GGUF's interleaved RoPE rows (llama.cpp's converter permutes HF q/k) back to HF's rotate-half order. */
static const float *unpermute(hf_build *b, const lrq_tensor *t, int n_head) {
    const int64_t K = t->ne[0], rows = t->ne[1], hd = rows / n_head;
    float *o = keep_buf(b, (size_t)(K * rows) * sizeof(float));
    const float *src = t->data;
    for (int h = 0; h < n_head; h++)
        for (int64_t i = 0; i < hd / 2; i++)
            for (int j = 0; j < 2; j++)
                memcpy(o + (size_t)(h * hd + j * (hd / 2) + i) * K, src + (size_t)(h * hd + 2 * i + j) * K,
                       (size_t)K * sizeof(float));
    return o;
}

static const char *make_hf(const char *gguf, const char *config, int permute_qk) {
    lrq_weights *w;
    if (lrq_weights_load_gguf(&w, gguf)) return NULL;
    hf_build b = {0};
    static const struct { const char *gg, *hf; } names[] = {
        {"attn_norm.weight", "input_layernorm.weight"}, {"attn_q.weight", "self_attn.q_proj.weight"},
        {"attn_k.weight", "self_attn.k_proj.weight"}, {"attn_v.weight", "self_attn.v_proj.weight"},
        {"attn_output.weight", "self_attn.o_proj.weight"}, {"attn_q.bias", "self_attn.q_proj.bias"},
        {"attn_k.bias", "self_attn.k_proj.bias"}, {"attn_v.bias", "self_attn.v_proj.bias"},
        {"attn_q_norm.weight", "self_attn.q_norm.weight"}, {"attn_k_norm.weight", "self_attn.k_norm.weight"},
        {"ffn_norm.weight", "post_attention_layernorm.weight"}, {"ffn_gate.weight", "mlp.gate_proj.weight"},
        {"ffn_up.weight", "mlp.up_proj.weight"}, {"ffn_down.weight", "mlp.down_proj.weight"},
        {"ffn_gate_inp.weight", "mlp.gate.weight"},
        {"ffn_gate_shexp.weight", "mlp.SH.gate_proj.weight"}, {"ffn_up_shexp.weight", "mlp.SH.up_proj.weight"},
        {"ffn_down_shexp.weight", "mlp.SH.down_proj.weight"},
    };
    const char *sh = w->hp.arch == LRQ_ARCH_DEEPSEEK ? "shared_experts" : "shared_expert";
    for (int32_t i = 0; i < w->n_tensors; i++) {
        const lrq_tensor *t = &w->tensors[i];
        int64_t shape[3];
        for (int d = 0; d < t->n_dims; d++) shape[d] = t->ne[t->n_dims - 1 - d];
        char name[160];
        const void *data = t->data;
        if (!strcmp(t->name, "token_embd.weight")) { add(&b, "model.embed_tokens.weight", 2, shape, data, t->nbytes); continue; }
        if (!strcmp(t->name, "output_norm.weight")) { add(&b, "model.norm.weight", 1, shape, data, t->nbytes); continue; }
        if (!strcmp(t->name, "output.weight")) { add(&b, "lm_head.weight", 2, shape, data, t->nbytes); continue; }
        int l, off = 0;
        if (sscanf(t->name, "blk.%d.%n", &l, &off) != 1 || !off) { fprintf(stderr, "? %s\n", t->name); continue; }
        const char *rest = t->name + off;
        if (strstr(rest, "_exps.weight")) {
            const char *proj = !strncmp(rest, "ffn_gate", 8) ? "gate_proj" : !strncmp(rest, "ffn_up", 6) ? "up_proj" : "down_proj";
            size_t each = t->nbytes / (size_t)t->ne[2];
            int64_t s2[2] = {t->ne[1], t->ne[0]};
            for (int64_t e = 0; e < t->ne[2]; e++) {
                snprintf(name, sizeof name, "model.layers.%d.mlp.experts.%d.%s.weight", l, (int)e, proj);
                add(&b, name, 2, s2, (const uint8_t *)data + (size_t)e * each, each);
            }
            continue;
        }
        if (!strcmp(rest, "ffn_gate_inp_shexp.weight")) {
            int64_t s2[2] = {1, t->ne[0]};
            snprintf(name, sizeof name, "model.layers.%d.mlp.shared_expert_gate.weight", l);
            add(&b, name, 2, s2, data, t->nbytes);
            continue;
        }
        const char *hf = NULL;
        for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
            if (!strcmp(rest, names[k].gg)) hf = names[k].hf;
        if (!hf) { fprintf(stderr, "unmapped %s\n", t->name); continue; }
        if (permute_qk && !strcmp(rest, "attn_q.weight")) data = unpermute(&b, t, w->hp.n_head);
        if (permute_qk && !strcmp(rest, "attn_k.weight")) data = unpermute(&b, t, w->hp.n_head_kv);
        char *h2 = tu_replace(hf, "SH", sh);
        snprintf(name, sizeof name, "model.layers.%d.%s", l, h2);
        free(h2);
        add(&b, name, t->n_dims, shape, data, t->nbytes);
    }
    size_t sz;
    uint8_t *img = tu_st_build(b.e, b.n, "{\"format\":\"pt\"}", &sz);
    const char *dir = tu_mkdtemp();
    char path[512];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    int rc = tu_write_file(path, img, sz) || tu_write_str(dir, "config.json", config);
    free(img);
    for (int i = 0; i < b.n; i++) free((void *)b.e[i].name);
    free(b.e);
    for (int i = 0; i < b.nb; i++) free(b.bufs[i]);
    free(b.bufs);
    lrq_weights_free(w);
    if (rc) { tu_rmdir(dir); return NULL; }
    return dir;
}

static float *logits_of(const char *path, int n_threads, int n, const int32_t *ids, int *V) {
    lrq_model *m;
    if (lrq_model_load(&m, path, NULL)) {
        CHECKF(0, "%s: %s", path, lrq_last_error());
        return NULL;
    }
    lrq_ctx *c;
    LRQ_ASSERT(lrq_ctx_new(&c, m, n, n, n_threads) == 0);
    const float *lg = lrq_ctx_eval(c, ids, n, 0);
    *V = m->hp.n_vocab;
    float *out = lg ? malloc(sizeof(float) * (size_t)n * (size_t)*V) : NULL;
    if (out) memcpy(out, lg, sizeof(float) * (size_t)n * (size_t)*V);
    CHECKF(lg != NULL, "eval: %s", lrq_last_error());
    lrq_ctx_free(c);
    lrq_model_free(m);
    return out;
}

static const char *const cfg_deepseek =
    "{\"architectures\":[\"DeepseekForCausalLM\"],\"hidden_size\":128,\"num_hidden_layers\":3,"
    "\"num_attention_heads\":4,\"num_key_value_heads\":2,\"intermediate_size\":256,\"vocab_size\":512,"
    "\"max_position_embeddings\":512,\"rms_norm_eps\":1e-6,\"rope_theta\":1000000.0,\"n_routed_experts\":8,"
    "\"num_experts_per_tok\":2,\"moe_intermediate_size\":48,\"n_shared_experts\":2,\"first_k_dense_replace\":1,"
    "\"moe_layer_freq\":1,\"scoring_func\":\"softmax\",\"norm_topk_prob\":false,\"tie_word_embeddings\":true}";
static const char *const cfg_qwen2moe =
    "{\"architectures\":[\"Qwen2MoeForCausalLM\"],\"hidden_size\":128,\"num_hidden_layers\":2,"
    "\"num_attention_heads\":4,\"num_key_value_heads\":2,\"intermediate_size\":256,\"vocab_size\":512,"
    "\"max_position_embeddings\":512,\"rms_norm_eps\":1e-6,\"rope_theta\":1000000.0,\"num_experts\":8,"
    "\"num_experts_per_tok\":2,\"moe_intermediate_size\":64,\"shared_expert_intermediate_size\":128,"
    "\"decoder_sparse_step\":1,\"mlp_only_layers\":[],\"norm_topk_prob\":false,\"tie_word_embeddings\":false}";
static const char *const cfg_qwen3moe =
    "{\"architectures\":[\"Qwen3MoeForCausalLM\"],\"hidden_size\":128,\"num_hidden_layers\":2,"
    "\"num_attention_heads\":4,\"num_key_value_heads\":2,\"head_dim\":32,\"intermediate_size\":256,"
    "\"vocab_size\":512,\"max_position_embeddings\":512,\"rms_norm_eps\":1e-6,\"rope_theta\":1000000.0,"
    "\"num_experts\":8,\"num_experts_per_tok\":2,\"moe_intermediate_size\":64,\"norm_topk_prob\":true,"
    "\"tie_word_embeddings\":true}";

static void test_hf_equals_gguf(void) {
    static const struct { const char *gguf; const char *const *cfg; int permute; } cases[] = {
        {"golden/arch/rand-deepseek.gguf", &cfg_deepseek, 1},
        {"golden/arch/rand-qwen2moe.gguf", &cfg_qwen2moe, 0},
        {"golden/arch/rand-qwen3moe.gguf", &cfg_qwen3moe, 0},
    };
    int32_t ids[N_POS];
    CHECK(read_ids(ids, N_POS) == N_POS);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char gguf[512];
        snprintf(gguf, sizeof gguf, "%s", test_shared(cases[i].gguf));
        const char *dir = make_hf(gguf, *cases[i].cfg, cases[i].permute);
        CHECKF(dir != NULL, "%s: cannot write the HF directory", cases[i].gguf);
        if (!dir) continue;
        int V1 = 0, V2 = 0;
        float *a = logits_of(gguf, 2, N_POS, ids, &V1);
        float *b = logits_of(dir, 2, N_POS, ids, &V2);
        if (a && b && V1 == V2) {
            float mx = 0, d = 0;
            for (int k = 0; k < N_POS * V1; k++) {
                if (fabsf(a[k]) > mx) mx = fabsf(a[k]);
                if (fabsf(a[k] - b[k]) > d) d = fabsf(a[k] - b[k]);
            }
            fprintf(stderr, "  %-36s HF vs GGUF: max rel diff %.3g\n", cases[i].gguf, d / mx);
            /* qwen: the same bytes in the same order (bit-identical); deepseek: RoPE pairs and the
             * attention dot products run over the head in another element order */
            CHECKF(d <= 1e-5f * mx, "%s: HF logits differ from GGUF by %.3g", cases[i].gguf, d / mx);
        }
        free(a);
        free(b);
        tu_rmdir(dir);
    }
}

/* Quantized experts over a 64-token batch (tile kernels, many tokens per expert): 1 and 3 threads agree. */
static void test_threads_quantized(void) {
    const char *rel = "golden/zoo/ts-dsmoe-11M/ts-dsmoe-11M-Q4_K_M.gguf";
    if (!test_exists(test_shared(rel))) { fprintf(stderr, "  skip: %s missing\n", rel); return; }
    char path[512];
    snprintf(path, sizeof path, "%s", test_shared(rel));
    int32_t ids[64];
    uint64_t st = 7;
    for (int i = 0; i < 64; i++) ids[i] = (int32_t)(test_rand_u64(&st) % 512);
    int V1 = 0, V3 = 0;
    float *a = logits_of(path, 1, 64, ids, &V1);
    float *b = logits_of(path, 3, 64, ids, &V3);
    CHECK(a && b && V1 == V3 && memcmp(a, b, sizeof(float) * 64 * (size_t)V1) == 0);
    free(a);
    free(b);
}

static void test_bad_config(void) {
    static const struct { const char *from, *to, *want; } bad[] = {
        {"\"num_experts_per_tok\":2", "\"num_experts_per_tok\":9", "num_experts_per_tok"},
        {"\"n_routed_experts\":8,", "", "n_routed_experts"},
        {"\"moe_layer_freq\":1", "\"moe_layer_freq\":2", "moe_layer_freq"},
        {"\"scoring_func\":\"softmax\"", "\"scoring_func\":\"sigmoid\"", "scoring_func"},
    };
    char gguf[512];
    snprintf(gguf, sizeof gguf, "%s", test_shared("golden/arch/rand-deepseek.gguf"));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *cfg = tu_replace(cfg_deepseek, bad[i].from, bad[i].to);
        const char *dir = make_hf(gguf, cfg, 1);
        free(cfg);
        CHECK(dir != NULL);
        if (!dir) continue;
        lrq_model *m;
        CHECKF(lrq_model_load(&m, dir, NULL) != 0 && strstr(lrq_last_error(), bad[i].want),
               "case %zu: %s", i, lrq_last_error());
        tu_rmdir(dir);
    }
}


/* ---- hooks ---- */

typedef struct {
    int n_layer, n_expert;
    uint64_t routed[8][64];      /* [layer][expert] from expert_route */
    long route_calls[8];
    long gate_rows[8], down_rows[8], up_out_rows[8]; /* expert linears: rows seen, per layer */
    long router_in[8], router_out[8];
    int bad;                     /* an expert hook with a bad expert index / shape */
} hook_rec;

static void h_in(void *ud, const lrq_linear_info *info, const float *x, int n_tok) {
    hook_rec *r = ud;
    (void)x;
    if (info->layer < 0 || info->layer >= 8) return;
    if (info->slot == LRQ_SLOT_ROUTER) { r->router_in[info->layer] += n_tok; return; }
    if (info->expert < 0) return;
    if (info->expert >= r->n_expert || n_tok < 1 || !strstr(info->name, "_exps")) r->bad = 1;
    if (info->slot == LRQ_SLOT_GATE) r->gate_rows[info->layer] += n_tok;
    if (info->slot == LRQ_SLOT_DOWN) r->down_rows[info->layer] += n_tok;
}

static void h_out(void *ud, const lrq_linear_info *info, const float *y, int n_tok) {
    hook_rec *r = ud;
    (void)y;
    if (info->layer < 0 || info->layer >= 8) return;
    if (info->slot == LRQ_SLOT_ROUTER) { r->router_out[info->layer] += n_tok; return; }
    if (info->expert >= 0 && info->slot == LRQ_SLOT_UP) r->up_out_rows[info->layer] += n_tok;
}

static void h_route(void *ud, int layer, int t, const int32_t *experts, const float *weights, int n_used) {
    hook_rec *r = ud;
    (void)t;
    if (layer < 0 || layer >= 8) { r->bad = 1; return; }
    r->route_calls[layer]++;
    for (int j = 0; j < n_used; j++) {
        if (experts[j] < 0 || experts[j] >= r->n_expert || !(weights[j] >= 0)) { r->bad = 1; continue; }
        r->routed[layer][experts[j]]++;
    }
}

static void test_hooks(void) {
    lrq_model *m;
    if (lrq_model_load(&m, test_shared("golden/arch/rand-deepseek.gguf"), NULL)) {
        CHECKF(0, "%s", lrq_last_error());
        return;
    }
    const lrq_hparams *hp = &m->hp;
    int32_t ids[N_POS];
    CHECK(read_ids(ids, N_POS) == N_POS);
    lrq_ctx *c;
    LRQ_ASSERT(lrq_ctx_new(&c, m, 64, N_POS, 2) == 0);
    static hook_rec r;
    memset(&r, 0, sizeof r);
    r.n_layer = hp->n_layer;
    r.n_expert = hp->n_expert;
    lrq_hooks h = { .ud = &r, .linear_in = h_in, .linear_out = h_out, .expert_route = h_route };
    lrq_ctx_set_hooks(c, &h);
    const float *lg = lrq_ctx_eval(c, ids, N_POS, 0);
    CHECK(lg != NULL);
    CHECK(lrq_ctx_eval(c, ids, 1, 0) != NULL);
    const uint64_t *cnt = lrq_ctx_expert_counts(c);
    const long toks = N_POS + 1, k = hp->n_expert_used;
    CHECK(!r.bad);
    for (int l = 0; l < hp->n_layer; l++) {
        const int moe = l >= hp->n_layer_dense_lead;
        CHECKF(r.route_calls[l] == (moe ? toks : 0), "layer %d: %ld expert_route calls", l, r.route_calls[l]);
        CHECKF(r.gate_rows[l] == (moe ? toks * k : 0) && r.down_rows[l] == r.gate_rows[l] &&
                   r.up_out_rows[l] == r.gate_rows[l],
               "layer %d: expert rows gate %ld down %ld up-out %ld", l, r.gate_rows[l], r.down_rows[l],
               r.up_out_rows[l]);
        CHECK(r.router_in[l] == (moe ? toks : 0) && r.router_out[l] == r.router_in[l]);
        for (int e = 0; e < hp->n_expert; e++)
            CHECKF(r.routed[l][e] == cnt[(size_t)l * hp->n_expert + e], "layer %d expert %d: hook %llu counter %llu",
                   l, e, (unsigned long long)r.routed[l][e], (unsigned long long)cnt[(size_t)l * hp->n_expert + e]);
    }
    /* hooks only observe: the logits are those of a context without hooks */
    float *with = malloc(sizeof(float) * N_POS * (size_t)hp->n_vocab);
    lrq_ctx_reset(c);
    lg = lrq_ctx_eval(c, ids, N_POS, 0);
    memcpy(with, lg, sizeof(float) * N_POS * (size_t)hp->n_vocab);
    lrq_ctx_set_hooks(c, NULL);
    lrq_ctx_reset(c);
    lg = lrq_ctx_eval(c, ids, N_POS, 0);
    CHECK(lg && memcmp(with, lg, sizeof(float) * N_POS * (size_t)hp->n_vocab) == 0);
    free(with);
    lrq_ctx_free(c);
    lrq_model_free(m);
}

/* ---- replica sets on MoE layers ---- */

static float *eval_all(lrq_model *m, const int32_t *ids, int n) {
    lrq_ctx *c;
    if (lrq_ctx_new(&c, m, 64, n, 2)) { CHECKF(0, "%s", lrq_last_error()); return NULL; }
    const float *lg = lrq_ctx_eval(c, ids, n, 0);
    float *out = lg ? malloc(sizeof(float) * (size_t)n * (size_t)m->hp.n_vocab) : NULL;
    if (out) memcpy(out, lg, sizeof(float) * (size_t)n * (size_t)m->hp.n_vocab);
    CHECKF(lg != NULL, "eval: %s", lrq_last_error());
    lrq_ctx_free(c);
    return out;
}

static void test_replicas(void) {
    static const char *const files[] = {"golden/arch/rand-deepseek.gguf", "golden/arch/rand-qwen3moe.gguf"};
    int32_t ids[N_POS];
    CHECK(read_ids(ids, N_POS) == N_POS);
    for (size_t f = 0; f < 2; f++) {
        lrq_model *m;
        if (lrq_model_load(&m, test_shared(files[f]), NULL)) { CHECKF(0, "%s", lrq_last_error()); continue; }
        const int V = m->hp.n_vocab, last = m->hp.n_layer - 1;
        float *plain = eval_all(m, ids, N_POS);
        const float half[2] = {0.5f, 0.5f};
        for (int unit = LRQ_UNIT_BLOCK; unit <= LRQ_UNIT_ATTN; unit++) {
            CHECKF(lrq_model_replicate(m, last, unit, LRQ_TOPO_PARALLEL, 2, half) == 0, "%s", lrq_last_error());
            float *rep = eval_all(m, ids, N_POS);
            float d = 0;
            for (int i = 0; plain && rep && i < N_POS * V; i++) d = fmaxf(d, fabsf(plain[i] - rep[i]));
            fprintf(stderr, "  %-34s unit %d K=2 (1/2, 1/2): max |d| %.3g\n", files[f], unit, d);
            CHECKF(rep && d <= 1e-5f, "%s unit %d: replicas change the logits by %g", files[f], unit, d);
            free(rep);
            CHECK(lrq_model_replicate(m, last, unit, LRQ_TOPO_PARALLEL, 1, NULL) == 0);
        }
        /* K = 1 again is the plain path, bit for bit */
        float *again = eval_all(m, ids, N_POS);
        CHECK(plain && again && memcmp(plain, again, sizeof(float) * N_POS * (size_t)V) == 0);
        free(again);
        CHECK(lrq_model_replicate(m, last, LRQ_UNIT_MLP, LRQ_TOPO_PARALLEL, 2, half) != 0 &&
              strstr(lrq_last_error(), "mixture-of-experts") != NULL);
        CHECK(lrq_model_replicate(m, -1, LRQ_UNIT_MLP, LRQ_TOPO_SEQUENTIAL, 2, NULL) != 0);
        CHECK(m->blocks[last].K == 1); /* refused before anything changed */
        CHECK(lrq_model_replica_tensor(m, last, 0, LRQ_SLOT_GATE, m->tok_embd) != 0);
        if (m->hp.n_layer_dense_lead > 0) /* a dense layer of a MoE model still takes MLP sets */
            CHECKF(lrq_model_replicate(m, 0, LRQ_UNIT_MLP, LRQ_TOPO_PARALLEL, 2, half) == 0, "%s", lrq_last_error());
        free(plain);
        lrq_model_free(m);
    }
}

/* ---- bad GGUF metadata ---- */

/* Copy of the GGUF at `src` with the u32 value of key `key` set to v (keys are
 * stored as u64 length + bytes, then the value type, then the value). */
static const char *patch_u32(const char *src, const char *dir, const char *key, uint32_t type_want, uint32_t v) {
    size_t n;
    uint8_t *b = tu_read_file(src, &n);
    if (!b) return NULL;
    const size_t kl = strlen(key);
    static char out[600];
    for (size_t i = 8; i + kl + 12 <= n; i++) {
        uint64_t len;
        memcpy(&len, b + i - 8, 8);
        if (len != kl || memcmp(b + i, key, kl) != 0) continue;
        uint32_t type;
        memcpy(&type, b + i + kl, 4);
        if (type != type_want) break;
        memcpy(b + i + kl + 4, &v, 4);
        snprintf(out, sizeof out, "%s/patched.gguf", dir);
        int rc = tu_write_file(out, b, n);
        free(b);
        return rc ? NULL : out;
    }
    free(b);
    return NULL;
}

static void test_bad_gguf(void) {
    static const struct { const char *key; uint32_t v; const char *want; } bad[] = {
        {"deepseek.expert_used_count", 9, "deepseek.expert_used_count"},
        {"deepseek.expert_used_count", 0, "deepseek.expert_used_count"},
        {"deepseek.expert_count", 0, "deepseek.expert_count"},
        {"deepseek.expert_count", 100000, "deepseek.expert_count"},
        {"deepseek.leading_dense_block_count", 99, "deepseek.leading_dense_block_count"},
        {"deepseek.expert_shared_count", 1000, "deepseek.expert_shared_count"},
        {"deepseek.expert_feed_forward_length", 0, "deepseek.expert_feed_forward_length"},
        {"deepseek.expert_feed_forward_length", 47, "ffn_gate_exps"},
    };
    char src[512];
    snprintf(src, sizeof src, "%s", test_shared("golden/arch/rand-deepseek.gguf"));
    const char *dir = tu_mkdtemp();
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *p = patch_u32(src, dir, bad[i].key, 4 /* GGUF UINT32 */, bad[i].v);
        CHECKF(p != NULL, "%s: key not found as uint32", bad[i].key);
        if (!p) continue;
        lrq_model *m = NULL;
        int rc = lrq_model_load(&m, p, NULL);
        const char *e = lrq_last_error();
        fprintf(stderr, "  %s = %u: %s\n", bad[i].key, bad[i].v, e);
        CHECKF(rc != 0 && strstr(e, bad[i].want) && strstr(e, "patched.gguf") && !strchr(e, '\n'),
               "case %zu: %s", i, e);
        lrq_model_free(m);
    }
    tu_rmdir(dir);
}

int main(void) {
    TEST_RUN(test_counters);
    TEST_RUN(test_hooks);
    TEST_RUN(test_replicas);
    TEST_RUN(test_bad_gguf);
    TEST_RUN(test_hf_equals_gguf);
    TEST_RUN(test_threads_quantized);
    TEST_RUN(test_bad_config);
    return test_finish();
}
