/* test_safetensors.c — the safetensors reader and the Hugging Face loader on
 * the real stories260K checkpoints (hf/ F32 and hf-f16/), checked against
 * the GGUF conversion of the same weights: identical bytes where the layout
 * is the same, and the rotate-half permutation for attn_q / attn_k. Also
 * sharded directories (with and without an index) built from the real file. */
#define _POSIX_C_SOURCE 200809L
#include "testlib.h"
#include "st_testutil.h"

#include "core/core.h"
#include "io/gguf.h"
#include "io/safetensors.h"
#include "tok/vocab.h"
#include "model/weights.h"
#include "fmt/types.h"

#include <stdlib.h>
#include <string.h>

#define HF_DIR "models/stories260K/hf"
#define HF16_DIR "models/stories260K/hf-f16"
#define GGUF_PATH "models/stories260K/stories260K-f32.gguf"

static void test_open_file(void) {
    lrq_safetensors *st = NULL;
    const char *path = test_shared(HF_DIR "/model.safetensors");
    if (lrq_safetensors_open(&st, path)) {
        test_fail(__FILE__, __LINE__, "%s", lrq_err_get());
        return;
    }
    CHECK(lrq_safetensors_n_tensors(st) == 47); /* embeddings + 5 * 9 + norm */
    CHECK(lrq_safetensors_n_files(st) == 1);
    CHECK(strcmp(lrq_safetensors_file_path(st, 0), path) == 0);
    CHECK(lrq_safetensors_file_path(st, 1) == NULL);
    const lrq_st_tensor *t = lrq_safetensors_find(st, "model.embed_tokens.weight");
    CHECK(t && t->type == LRQ_TYPE_F32 && t->n_dims == 2 && t->shape[0] == 512 && t->shape[1] == 64);
    CHECK(t && t->offset == 0 && t->nbytes == 512 * 64 * 4 && t->file == 0);
    CHECK(t == lrq_safetensors_tensor_at(st, 0)); /* header order kept */
    t = lrq_safetensors_find(st, "model.layers.0.mlp.down_proj.weight");
    CHECK(t && t->shape[0] == 64 && t->shape[1] == 172 && t->offset == 131328 && t->nbytes == 44032);
    t = lrq_safetensors_find(st, "model.layers.4.input_layernorm.weight");
    CHECK(t && t->n_dims == 1 && t->shape[0] == 64 && t->shape[1] == 1);
    CHECK(lrq_safetensors_find(st, "model.layers.5.input_layernorm.weight") == NULL);
    CHECK(lrq_safetensors_find(st, "__metadata__") == NULL);
    CHECK(lrq_safetensors_find(st, "") == NULL);
    CHECK(lrq_safetensors_tensor_at(st, 47) == NULL && lrq_safetensors_tensor_at(st, -1) == NULL);
    /* every tensor can be found by its name, and all data is inside the file */
    int bad = 0;
    for (int64_t i = 0; i < lrq_safetensors_n_tensors(st); i++) {
        const lrq_st_tensor *x = lrq_safetensors_tensor_at(st, i);
        if (lrq_safetensors_find(st, x->name) != x) bad++;
    }
    CHECK(bad == 0);
    lrq_safetensors_close(st);
    lrq_safetensors_close(NULL);

    /* the directory form reads the same */
    CHECK(lrq_safetensors_open(&st, test_shared(HF16_DIR)) == 0);
    CHECK(lrq_safetensors_n_tensors(st) == 47);
    t = lrq_safetensors_find(st, "model.layers.2.self_attn.k_proj.weight");
    CHECK(t && t->type == LRQ_TYPE_F16 && t->shape[0] == 32 && t->shape[1] == 64 && t->nbytes == 32 * 64 * 2);
    lrq_safetensors_close(st);

    CHECK(lrq_safetensors_open(&st, "/nonexistent/x.safetensors") == -1 && st == NULL);
    CHECK(strstr(lrq_err_get(), "/nonexistent/x.safetensors") != NULL);
}

/* Synthetic images: metadata, empty and scalar tensors, BF16, padding. */
static void test_synthetic(void) {
    float f[6] = {1, 2, 3, 4, 5, 6};
    uint16_t bf[3] = {0x3f80, 0x4000, 0xbf80};
    tu_st_entry e[4] = {
        {"a", "F32", 2, {2, 3}, f, sizeof f},
        {"empty", "F16", 2, {0, 7}, NULL, 0},
        {"s", "F32", 0, {0}, f, 4},
        {"b.bf", "BF16", 1, {3}, bf, sizeof bf},
    };
    size_t n = 0;
    uint8_t *img = tu_st_build(e, 4, "{\"format\":\"pt\",\"x\":\"y\"}", &n);
    lrq_safetensors *st = NULL;
    CHECKF(lrq_safetensors_open_memory(&st, img, n, "syn.safetensors") == 0, "%s", lrq_err_get());
    if (st) {
        CHECK(lrq_safetensors_n_tensors(st) == 4);
        const lrq_st_tensor *t = lrq_safetensors_find(st, "a");
        CHECK(t && memcmp(t->data, f, sizeof f) == 0 && t->shape[0] == 2 && t->shape[1] == 3);
        t = lrq_safetensors_find(st, "empty");
        CHECK(t && t->nbytes == 0 && t->type == LRQ_TYPE_F16 && t->shape[0] == 0);
        t = lrq_safetensors_find(st, "s");
        CHECK(t && t->n_dims == 0 && t->nbytes == 4 && ((const float *)t->data)[0] == 1.0f);
        t = lrq_safetensors_find(st, "b.bf");
        CHECK(t && t->type == LRQ_TYPE_BF16 && lrq_bf16_to_f32(((const uint16_t *)t->data)[2]) == -1.0f);
        lrq_safetensors_close(st);
    }
    free(img);
    /* a header with only metadata is a valid (empty) file */
    img = tu_st_build(NULL, 0, "{}", &n);
    CHECK(lrq_safetensors_open_memory(&st, img, n, "empty.safetensors") == 0);
    CHECK(lrq_safetensors_n_tensors(st) == 0 && lrq_safetensors_find(st, "a") == NULL);
    lrq_safetensors_close(st);
    free(img);
    /* trailing whitespace in the header (writer padding) and unknown extra keys are fine */
    img = tu_st_raw("{\"t\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4],\"extra\":1}}   \n ", 4, &n);
    CHECKF(lrq_safetensors_open_memory(&st, img, n, "pad.safetensors") == 0, "%s", lrq_err_get());
    lrq_safetensors_close(st);
    free(img);
}

static lrq_gguf *open_gguf(void) {
    lrq_gguf *g = NULL;
    if (lrq_gguf_open(&g, test_shared(GGUF_PATH))) {
        test_fail(__FILE__, __LINE__, "gguf: %s", lrq_err_get());
        return NULL;
    }
    return g;
}

static void check_hparams(const lrq_weights *w) {
    const lrq_hparams *hp = &w->hp;
    CHECK(hp->arch == LRQ_ARCH_LLAMA);
    CHECK(hp->n_vocab == 512 && hp->n_embd == 64 && hp->n_layer == 5 && hp->n_head == 8 && hp->n_head_kv == 4);
    CHECK(hp->head_dim == 8 && hp->n_rot == 8 && hp->n_ff == 172 && hp->n_ctx_train == 512);
    CHECK(hp->rms_eps == 1e-5f && hp->rope_theta == 10000.0f);
    CHECK(hp->rope_kind == LRQ_ROPE_NEOX);
    CHECK(w->vocab == NULL); /* hf/ has no tokenizer files */
    CHECK(strcmp(w->format, "safetensors") == 0);
}

/* gguf row r of q/k corresponds to HF row perm(r): within each head of size
 * hd, GGUF interleaves (2i, 2i+1) what HF keeps at (i, i + hd/2). */
static int64_t hf_row_of_gguf_row(int64_t r, int64_t hd) {
    int64_t h = r / hd, j = r % hd;
    int64_t i = j / 2, s = j % 2;
    return h * hd + s * (hd / 2) + i;
}

static void compare_with_gguf(const lrq_weights *w, int f16) {
    lrq_gguf *g = open_gguf();
    if (!g) return;
    CHECK(lrq_gguf_n_tensors(g) == w->n_tensors);
    int checked = 0, permuted = 0;
    for (int64_t i = 0; i < lrq_gguf_n_tensors(g); i++) {
        const lrq_gguf_tensor *gt = lrq_gguf_tensor_at(g, i);
        const lrq_tensor *t = lrq_weights_find(w, gt->name);
        if (!t) { test_fail(__FILE__, __LINE__, "missing %s", gt->name); continue; }
        CHECKF(t->n_dims == (int)gt->n_dims, "%s: n_dims %d vs %u", gt->name, t->n_dims, gt->n_dims);
        int same_shape = 1;
        for (int d = 0; d < 4; d++) same_shape &= t->ne[d] == gt->ne[d];
        CHECKF(same_shape, "%s: shape [%lld %lld] vs gguf [%lld %lld]", gt->name, (long long)t->ne[0],
               (long long)t->ne[1], (long long)gt->ne[0], (long long)gt->ne[1]);
        if (!same_shape || gt->type != LRQ_TYPE_F32) continue;
        CHECK(t->type == (f16 ? LRQ_TYPE_F16 : LRQ_TYPE_F32));
        CHECK(t->nbytes == gt->nbytes / (f16 ? 2 : 1));
        int is_qk = strstr(gt->name, "attn_q.weight") || strstr(gt->name, "attn_k.weight");
        int64_t ne0 = gt->ne[0], rows = gt->ne[1] * gt->ne[2] * gt->ne[3];
        const float *gd = gt->data;
        int64_t bad = 0;
        for (int64_t r = 0; r < rows; r++) {
            int64_t hr = is_qk ? hf_row_of_gguf_row(r, w->hp.head_dim) : r;
            for (int64_t c = 0; c < ne0; c++) {
                float gv = gd[r * ne0 + c];
                if (f16) {
                    uint16_t hv = ((const uint16_t *)t->data)[hr * ne0 + c];
                    if (hv != lrq_f32_to_f16(gv)) bad++;
                } else {
                    float hv = ((const float *)t->data)[hr * ne0 + c];
                    if (memcmp(&hv, &gv, 4) != 0) bad++;
                }
            }
        }
        CHECKF(bad == 0, "%s: %lld values differ", gt->name, (long long)bad);
        if (is_qk && !f16) {
            /* the permutation must matter: raw bytes differ */
            if (memcmp(t->data, gt->data, gt->nbytes) != 0) permuted++;
        }
        checked++;
    }
    CHECK(checked == 47);
    if (!f16) CHECK(permuted == 10);
    lrq_gguf_close(g);
}

static void test_load_hf_f32(void) {
    lrq_weights *w = NULL;
    if (lrq_weights_load_hf(&w, test_shared(HF_DIR))) {
        test_fail(__FILE__, __LINE__, "%s", lrq_err_get());
        return;
    }
    check_hparams(w);
    CHECK(w->n_tensors == 47);
    CHECK(lrq_weights_find(w, "output.weight") == NULL); /* tied */
    const lrq_tensor *t = lrq_weights_find(w, "blk.0.attn_k.weight");
    CHECK(t && t->ne[0] == 64 && t->ne[1] == 32 && t->n_dims == 2 && t->type == LRQ_TYPE_F32);
    t = lrq_weights_find(w, "blk.3.ffn_down.weight");
    CHECK(t && t->ne[0] == 172 && t->ne[1] == 64);
    t = lrq_weights_find(w, "blk.3.ffn_gate.weight");
    CHECK(t && t->ne[0] == 64 && t->ne[1] == 172);
    t = lrq_weights_find(w, "token_embd.weight");
    CHECK(t && t->ne[0] == 64 && t->ne[1] == 512 && t->nbytes == 512 * 64 * 4);
    t = lrq_weights_find(w, "output_norm.weight");
    CHECK(t && t->n_dims == 1 && t->ne[0] == 64 && t->ne[1] == 1);
    CHECK(lrq_weights_find(w, "blk.0.attn_q.bias") == NULL);
    compare_with_gguf(w, 0);
    lrq_weights_free(w);
}

static void test_load_hf_f16(void) {
    lrq_weights *w = NULL;
    if (lrq_weights_load_hf(&w, test_shared(HF16_DIR))) {
        test_fail(__FILE__, __LINE__, "%s", lrq_err_get());
        return;
    }
    check_hparams(w);
    const lrq_tensor *t = lrq_weights_find(w, "blk.1.attn_output.weight");
    CHECK(t && t->type == LRQ_TYPE_F16 && t->ne[0] == 64 && t->ne[1] == 64 && t->nbytes == 64 * 64 * 2);
    compare_with_gguf(w, 1);
    lrq_weights_free(w);
}

/* Write the real checkpoint as 2 shards (+ optional index) and a config. */
static const char *make_sharded(int with_index) {
    const char *dir = tu_mkdtemp();
    if (!dir) return NULL;
    lrq_safetensors *st = NULL;
    if (lrq_safetensors_open(&st, test_shared(HF_DIR "/model.safetensors"))) return NULL;
    int n = (int)lrq_safetensors_n_tensors(st);
    tu_st_entry *e = calloc((size_t)n, sizeof *e);
    for (int i = 0; i < n; i++) e[i] = tu_entry_of(lrq_safetensors_tensor_at(st, n - 1 - i)); /* reversed order */
    int split = 20;
    char path[512];
    size_t sz;
    uint8_t *img = tu_st_build(e, split, "{\"format\":\"pt\"}", &sz);
    snprintf(path, sizeof path, "%s/model-00001-of-00002.safetensors", dir);
    CHECK(tu_write_file(path, img, sz) == 0);
    free(img);
    img = tu_st_build(e + split, n - split, NULL, &sz);
    snprintf(path, sizeof path, "%s/model-00002-of-00002.safetensors", dir);
    CHECK(tu_write_file(path, img, sz) == 0);
    free(img);
    if (with_index) {
        size_t cap = (size_t)n * 200 + 100, k = 0;
        char *js = malloc(cap);
        k += (size_t)snprintf(js + k, cap - k, "{\"metadata\":{\"total_size\":1045056},\"weight_map\":{");
        for (int i = 0; i < n; i++)
            k += (size_t)snprintf(js + k, cap - k, "%s\"%s\":\"model-0000%d-of-00002.safetensors\"", i ? "," : "",
                                  e[i].name, i < split ? 1 : 2);
        snprintf(js + k, cap - k, "}}");
        CHECK(tu_write_str(dir, "model.safetensors.index.json", js) == 0);
        free(js);
    }
    free(e);
    lrq_safetensors_close(st);
    size_t cn = 0;
    uint8_t *cfg = tu_read_file(test_shared(HF_DIR "/config.json"), &cn);
    snprintf(path, sizeof path, "%s/config.json", dir);
    CHECK(cfg && tu_write_file(path, cfg, cn) == 0);
    free(cfg);
    return dir;
}

static void test_sharded(void) {
    for (int with_index = 0; with_index < 2; with_index++) {
        const char *dir = make_sharded(with_index);
        if (!dir) { test_fail(__FILE__, __LINE__, "cannot build sharded dir"); continue; }
        lrq_safetensors *st = NULL;
        CHECKF(lrq_safetensors_open(&st, dir) == 0, "%s", lrq_err_get());
        CHECK(lrq_safetensors_n_files(st) == 2);
        CHECK(lrq_safetensors_n_tensors(st) == 47);
        const lrq_st_tensor *t = lrq_safetensors_find(st, "model.norm.weight");
        CHECK(t && t->file == 0);
        t = lrq_safetensors_find(st, "model.embed_tokens.weight");
        CHECK(t && t->file == 1);
        lrq_safetensors_close(st);
        lrq_weights *w = NULL;
        if (lrq_weights_load_hf(&w, dir)) {
            test_fail(__FILE__, __LINE__, "sharded load: %s", lrq_err_get());
        } else {
            check_hparams(w);
            compare_with_gguf(w, 0);
            lrq_weights_free(w);
        }
        if (with_index) {
            /* an index that maps a tensor to the wrong shard is rejected */
            char path[512];
            snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
            size_t n = 0;
            char *js = (char *)tu_read_file(path, &n);
            char *txt = js ? realloc(js, n + 1) : calloc(1, 1);
            txt[n] = 0;
            char *p = strstr(txt, "\"model.norm.weight\":\"model-00001");
            if (p) p[strlen("\"model.norm.weight\":\"model-0000")] = '2';
            CHECK(p != NULL && tu_write_file(path, txt, n) == 0);
            CHECK(lrq_safetensors_open(&st, dir) == -1);
            CHECKF(strstr(lrq_err_get(), "model.safetensors.index.json: tensor 'model.norm.weight' is mapped to") != NULL,
                   "%s", lrq_err_get());
            /* path traversal in shard names is rejected */
            CHECK(tu_write_str(dir, "model.safetensors.index.json",
                               "{\"weight_map\":{\"a\":\"../model-00001-of-00002.safetensors\"}}") == 0);
            CHECK(lrq_safetensors_open(&st, dir) == -1);
            CHECKF(strstr(lrq_err_get(), "invalid shard file name") != NULL, "%s", lrq_err_get());
            CHECK(tu_write_str(dir, "model.safetensors.index.json", "{\"weight_map\":{\"a\":\"nope.safetensors\"}}") == 0);
            CHECK(lrq_safetensors_open(&st, dir) == -1);
            CHECKF(strstr(lrq_err_get(), "nope.safetensors") != NULL, "%s", lrq_err_get());
            CHECK(tu_write_str(dir, "model.safetensors.index.json", "{\"weight_map\":{}}") == 0);
            CHECK(lrq_safetensors_open(&st, dir) == -1);
            CHECKF(strstr(lrq_err_get(), "weight_map") != NULL, "%s", lrq_err_get());
            free(txt);
        } else {
            /* the same tensor in two shards is a duplicate */
            lrq_safetensors *one = NULL;
            CHECK(lrq_safetensors_open(&one, test_shared(HF_DIR "/model.safetensors")) == 0);
            tu_st_entry e = tu_entry_of(lrq_safetensors_find(one, "model.norm.weight"));
            size_t sz;
            uint8_t *img = tu_st_build(&e, 1, NULL, &sz);
            char path[512];
            snprintf(path, sizeof path, "%s/zz-extra.safetensors", dir);
            CHECK(tu_write_file(path, img, sz) == 0);
            free(img);
            lrq_safetensors_close(one);
            CHECK(lrq_safetensors_open(&st, dir) == -1);
            CHECKF(strstr(lrq_err_get(), "duplicate tensor 'model.norm.weight'") != NULL, "%s", lrq_err_get());
        }
        tu_rmdir(dir);
    }
    /* a directory without safetensors files */
    const char *dir = tu_mkdtemp();
    lrq_safetensors *st = NULL;
    CHECK(lrq_safetensors_open(&st, dir) == -1);
    CHECKF(strstr(lrq_err_get(), "no *.safetensors files") != NULL, "%s", lrq_err_get());
    tu_rmdir(dir);
}

/* A misaligned data area (header length not a multiple of 4) is copied to
 * aligned memory by the loader; values stay identical. */
static void test_misaligned(void) {
    const char *dir = tu_mkdtemp();
    lrq_safetensors *st = NULL;
    if (!dir || lrq_safetensors_open(&st, test_shared(HF_DIR "/model.safetensors"))) {
        test_fail(__FILE__, __LINE__, "setup");
        return;
    }
    int n = (int)lrq_safetensors_n_tensors(st);
    tu_st_entry *e = calloc((size_t)n, sizeof *e);
    for (int i = 0; i < n; i++) e[i] = tu_entry_of(lrq_safetensors_tensor_at(st, i));
    size_t sz;
    uint8_t *img = tu_st_build(e, n, NULL, &sz);
    /* insert one space at the end of the header: data area shifts by 1 */
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--) hl = hl << 8 | img[i];
    uint8_t *img2 = malloc(sz + 1);
    memcpy(img2, img, 8 + hl);
    img2[8 + hl] = ' ';
    memcpy(img2 + 9 + hl, img + 8 + hl, sz - 8 - hl);
    hl++;
    for (int i = 0; i < 8; i++) img2[i] = (uint8_t)(hl >> (8 * i));
    char path[512];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    CHECK(tu_write_file(path, img2, sz + 1) == 0);
    size_t cn = 0;
    uint8_t *cfg = tu_read_file(test_shared(HF_DIR "/config.json"), &cn);
    snprintf(path, sizeof path, "%s/config.json", dir);
    CHECK(cfg && tu_write_file(path, cfg, cn) == 0);
    lrq_weights *w = NULL;
    CHECKF(lrq_weights_load_hf(&w, dir) == 0, "%s", lrq_err_get());
    if (w) {
        int bad = 0;
        for (int32_t i = 0; i < w->n_tensors; i++) {
            const lrq_tensor *t = &w->tensors[i];
            if (((uintptr_t)t->data & 3) != 0) bad++;
        }
        CHECK(bad == 0);
        const lrq_tensor *t = lrq_weights_find(w, "blk.2.ffn_up.weight");
        const lrq_st_tensor *s = lrq_safetensors_find(st, "model.layers.2.mlp.up_proj.weight");
        CHECK(t && s && t->nbytes == s->nbytes && memcmp(t->data, s->data, s->nbytes) == 0);
        lrq_weights_free(w);
    }
    free(cfg);
    free(img);
    free(img2);
    free(e);
    lrq_safetensors_close(st);
    tu_rmdir(dir);
}

/* Qwen2 (q/k/v biases, untied lm_head), Qwen3 (q/k norms, explicit head_dim,
 * tied despite a stored lm_head) and llama's optional biases, built from the
 * real tensors plus synthetic extras. */
static char *cfg_with(const char *from, const char *to) {
    size_t n = 0;
    uint8_t *b = tu_read_file(test_shared(HF_DIR "/config.json"), &n);
    if (!b) return tu_replace("{}", "", ""); /* the load then fails the test */
    char *s = malloc(n + 1);
    memcpy(s, b, n);
    s[n] = 0;
    free(b);
    char *r = tu_replace(s, from, to);
    free(s);
    return r;
}

static void test_arch_variants(void) {
    static float vals[512 * 64];
    for (int i = 0; i < 512 * 64; i++) vals[i] = (float)i * 0.001f;
    static char names[40][96];
    tu_st_entry extra[40];
    int k = 0;
    /* qwen2: biases, and an untied lm_head */
    for (int l = 0; l < 5; l++) {
        static const char *const nm[3] = {"q_proj", "k_proj", "v_proj"};
        for (int j = 0; j < 3; j++) {
            snprintf(names[k], sizeof names[k], "model.layers.%d.self_attn.%s.bias", l, nm[j]);
            int64_t n = j == 0 ? 64 : 32;
            extra[k] = (tu_st_entry){names[k], "F32", 1, {n}, vals + l * 100 + j, (size_t)n * 4};
            k++;
        }
    }
    extra[k++] = (tu_st_entry){"lm_head.weight", "F32", 2, {512, 64}, vals, sizeof vals};
    char *cfg = cfg_with("\"LlamaForCausalLM\"", "\"Qwen2ForCausalLM\"");
    char *cfg2 = tu_replace(cfg, "\"tie_word_embeddings\": true", "\"tie_word_embeddings\": false");
    const char *dir = tu_make_hf_dir(test_shared(HF_DIR "/model.safetensors"), cfg2, NULL, extra, k);
    lrq_weights *w = NULL;
    CHECKF(dir && lrq_weights_load_hf(&w, dir) == 0, "qwen2: %s", lrq_err_get());
    if (w) {
        CHECK(w->hp.arch == LRQ_ARCH_QWEN2 && w->hp.rope_kind == LRQ_ROPE_NEOX && w->n_tensors == 47 + 16);
        const lrq_tensor *t = lrq_weights_find(w, "blk.3.attn_k.bias");
        CHECK(t && t->n_dims == 1 && t->ne[0] == 32 && t->ne[1] == 1 && ((const float *)t->data)[0] == vals[301]);
        t = lrq_weights_find(w, "output.weight");
        CHECK(t && t->ne[0] == 64 && t->ne[1] == 512 && ((const float *)t->data)[7] == vals[7]);
        CHECK(lrq_weights_find(w, "blk.0.attn_q_norm.weight") == NULL);
        lrq_weights_free(w);
        w = NULL;
    }
    if (dir) tu_rmdir(dir);
    /* the same with tie_word_embeddings true: lm_head is ignored, as HF does */
    dir = tu_make_hf_dir(test_shared(HF_DIR "/model.safetensors"), cfg, NULL, extra, k);
    CHECKF(dir && lrq_weights_load_hf(&w, dir) == 0, "qwen2 tied: %s", lrq_err_get());
    if (w) {
        CHECK(lrq_weights_find(w, "output.weight") == NULL && w->n_tensors == 47 + 15);
        lrq_weights_free(w);
        w = NULL;
    }
    if (dir) tu_rmdir(dir);
    free(cfg);
    free(cfg2);

    /* qwen3: q/k norms of head_dim, explicit head_dim */
    k = 0;
    for (int l = 0; l < 5; l++) {
        for (int j = 0; j < 2; j++) {
            snprintf(names[k], sizeof names[k], "model.layers.%d.self_attn.%c_norm.weight", l, j ? 'k' : 'q');
            extra[k] = (tu_st_entry){names[k], "F32", 1, {8}, vals + 10 * l + j, 32};
            k++;
        }
    }
    cfg = cfg_with("\"LlamaForCausalLM\"", "\"Qwen3ForCausalLM\"");
    cfg2 = tu_replace(cfg, "\"hidden_act\"", "\"head_dim\": 8, \"hidden_act\"");
    dir = tu_make_hf_dir(test_shared(HF_DIR "/model.safetensors"), cfg2, NULL, extra, k);
    CHECKF(dir && lrq_weights_load_hf(&w, dir) == 0, "qwen3: %s", lrq_err_get());
    if (w) {
        CHECK(w->hp.arch == LRQ_ARCH_QWEN3 && w->hp.head_dim == 8 && w->n_tensors == 47 + 10);
        const lrq_tensor *t = lrq_weights_find(w, "blk.4.attn_k_norm.weight");
        CHECK(t && t->ne[0] == 8 && t->n_dims == 1 && ((const float *)t->data)[0] == vals[41]);
        CHECK(lrq_weights_find(w, "blk.0.attn_q.bias") == NULL);
        lrq_weights_free(w);
        w = NULL;
    }
    if (dir) tu_rmdir(dir);
    /* qwen3 without the norms fails */
    dir = tu_make_hf_dir(test_shared(HF_DIR "/model.safetensors"), cfg2, NULL, NULL, 0);
    CHECK(dir && lrq_weights_load_hf(&w, dir) == -1);
    CHECKF(strstr(lrq_err_get(), "missing tensor 'model.layers.0.self_attn.q_norm.weight'") != NULL, "%s",
           lrq_err_get());
    if (dir) tu_rmdir(dir);
    free(cfg);
    free(cfg2);

    /* llama: optional o_proj / mlp biases are mapped when present; the
     * q/k norms of qwen3 are not part of llama (unexpected) */
    k = 0;
    extra[k++] = (tu_st_entry){"model.layers.1.self_attn.o_proj.bias", "F32", 1, {64}, vals, 256};
    extra[k++] = (tu_st_entry){"model.layers.1.mlp.down_proj.bias", "F32", 1, {64}, vals, 256};
    extra[k++] = (tu_st_entry){"model.layers.1.mlp.up_proj.bias", "F32", 1, {172}, vals, 172 * 4};
    extra[k++] = (tu_st_entry){"model.layers.2.self_attn.q_proj.bias", "F32", 1, {64}, vals, 256};
    cfg = cfg_with("\"torch_dtype\"", "\"rope_scaling\": null, \"head_dim\": null, \"torch_dtype\"");
    dir = tu_make_hf_dir(test_shared(HF_DIR "/model.safetensors"), cfg, NULL, extra, k);
    CHECKF(dir && lrq_weights_load_hf(&w, dir) == 0, "llama biases: %s", lrq_err_get());
    if (w) {
        CHECK(w->n_tensors == 47 + 4);
        const lrq_tensor *t = lrq_weights_find(w, "blk.1.ffn_up.bias");
        CHECK(t && t->ne[0] == 172);
        CHECK(lrq_weights_find(w, "blk.1.attn_output.bias") && lrq_weights_find(w, "blk.1.ffn_down.bias"));
        CHECK(lrq_weights_find(w, "blk.2.attn_q.bias") != NULL);
        lrq_weights_free(w);
        w = NULL;
    }
    if (dir) tu_rmdir(dir);
    extra[0] = (tu_st_entry){"model.layers.0.self_attn.q_norm.weight", "F32", 1, {8}, vals, 32};
    dir = tu_make_hf_dir(test_shared(HF_DIR "/model.safetensors"), cfg, NULL, extra, 1);
    CHECK(dir && lrq_weights_load_hf(&w, dir) == -1);
    CHECKF(strstr(lrq_err_get(), "unexpected tensor 'model.layers.0.self_attn.q_norm.weight'") != NULL, "%s",
           lrq_err_get());
    if (dir) tu_rmdir(dir);
    free(cfg);
}

/* A tokenizer.json next to the weights is loaded (here the Qwen3 one, which
 * has far more tokens than stories260K's 512 embeddings: rejected). */
static void test_tokenizer_loaded(void) {
    size_t n = 0;
    uint8_t *tok = tu_read_file(test_shared("tokenizers/qwen3/tokenizer.json"), &n);
    size_t cn = 0;
    uint8_t *cfg = tu_read_file(test_shared(HF_DIR "/config.json"), &cn);
    if (cfg) { cfg = realloc(cfg, cn + 1); cfg[cn] = 0; }
    const char *dir = tu_mkdtemp();
    char path[512];
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    CHECK(tok && tu_write_file(path, tok, n) == 0);
    snprintf(path, sizeof path, "%s/config.json", dir);
    CHECK(cfg && tu_write_file(path, cfg, cn) == 0);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    CHECK(symlink(test_shared(HF_DIR "/model.safetensors"), path) == 0);
    lrq_weights *w = NULL;
    CHECK(lrq_weights_load_hf(&w, dir) == -1 && w == NULL);
    CHECKF(strstr(lrq_err_get(), "tokenizer.json: tokenizer has 151669 tokens but the model only 512 embeddings"),
           "%s", lrq_err_get());
    tu_rmdir(dir);

    /* a model with enough embeddings (zeros, BF16) gets the vocabulary */
    const int64_t nv = 151680;
    size_t eb = (size_t)nv * 64 * 2;
    void *emb = calloc(eb, 1);
    tu_st_entry e = {"model.embed_tokens.weight", "BF16", 2, {nv, 64}, emb, eb};
    const char *drop[2] = {"model.embed_tokens.weight", NULL};
    char *c2 = tu_replace((const char *)cfg, "\"vocab_size\": 512", "\"vocab_size\": 151680");
    dir = tu_make_hf_dir(test_shared(HF_DIR "/model.safetensors"), c2, drop, &e, 1);
    snprintf(path, sizeof path, "%s/tokenizer.json", dir ? dir : "/nonexistent");
    CHECK(dir && tu_write_file(path, tok, n) == 0);
    CHECKF(dir && lrq_weights_load_hf(&w, dir) == 0, "%s", lrq_err_get());
    if (w) {
        CHECK(w->vocab != NULL && lrq_vocab_n_tokens(w->vocab) == 151669);
        CHECK(w->hp.n_vocab == 151680);
        const lrq_tensor *t = lrq_weights_find(w, "token_embd.weight");
        CHECK(t && t->type == LRQ_TYPE_BF16 && t->ne[0] == 64 && t->ne[1] == nv);
        lrq_weights_free(w);
    }
    if (dir) tu_rmdir(dir);
    free(c2);
    free(emb);
    free(tok);
    free(cfg);
}

int main(void) {
    TEST_RUN(test_open_file);
    TEST_RUN(test_synthetic);
    TEST_RUN(test_load_hf_f32);
    TEST_RUN(test_load_hf_f16);
    TEST_RUN(test_sharded);
    TEST_RUN(test_misaligned);
    TEST_RUN(test_arch_variants);
    TEST_RUN(test_tokenizer_loaded);
    return test_finish();
}
