/* test_llama2c.c — the llama2.c checkpoint reader and loader on the real
 * stories260K.bin: config, pointers, and every tensor byte-identical to the
 * GGUF conversion of the same model (same names, shapes, interleaved RoPE
 * layout). Also an unshared-classifier image built from the real file. */
#define _POSIX_C_SOURCE 200809L
#include "testlib.h"
#include "st_testutil.h"

#include "core/core.h"
#include "io/gguf.h"
#include "io/llama2c.h"
#include "model/weights.h"
#include "fmt/types.h"

#include <stdlib.h>
#include <string.h>

#define BIN_PATH "models/stories260K/stories260K.bin"
#define GGUF_PATH "models/stories260K/stories260K-f32.gguf"

static void test_open(void) {
    lrq_llama2c *m = NULL;
    if (lrq_llama2c_open(&m, test_shared(BIN_PATH))) {
        test_fail(__FILE__, __LINE__, "%s", lrq_err_get());
        return;
    }
    const lrq_llama2c_config *c = &m->cfg;
    CHECK(c->dim == 64 && c->hidden_dim == 172 && c->n_layers == 5 && c->n_heads == 8 && c->n_kv_heads == 4);
    CHECK(c->vocab_size == 512 && c->seq_len == 512 && c->shared_classifier == 1 && c->head_size == 8);
    CHECK(m->file_size == 1056540);
    const char *base = (const char *)m->token_embedding_table;
    CHECK((const char *)m->rms_att_weight - base == 512 * 64 * 4);
    CHECK((const char *)m->wq - (const char *)m->rms_att_weight == 5 * 64 * 4);
    CHECK((const char *)m->wk - (const char *)m->wq == 5 * 64 * 64 * 4);
    CHECK((const char *)m->wv - (const char *)m->wk == 5 * 64 * 32 * 4);
    CHECK((const char *)m->wo - (const char *)m->wv == 5 * 64 * 32 * 4);
    CHECK((const char *)m->freq_cis_imag - (const char *)m->freq_cis_real == 512 * 4 * 4);
    CHECK(m->wcls == m->token_embedding_table);
    /* freq_cis_real[pos=1][i=0] = cos(1 * 10000^0) = cos(1) */
    CHECK(m->freq_cis_real[4] > 0.5402f && m->freq_cis_real[4] < 0.5404f);
    /* the RMS norm weights of a trained model are not all ones/zeros: a sanity check on the offsets */
    CHECK(m->rms_final_weight[0] != 0.0f);
    lrq_llama2c_close(m);
    lrq_llama2c_close(NULL);
    CHECK(lrq_llama2c_open(&m, "/nonexistent.bin") == -1 && m == NULL);
    CHECK(strstr(lrq_err_get(), "/nonexistent.bin") != NULL);
}

static void compare_with_gguf(const lrq_weights *w, int expect_output) {
    lrq_gguf *g = NULL;
    if (lrq_gguf_open(&g, test_shared(GGUF_PATH))) {
        test_fail(__FILE__, __LINE__, "gguf: %s", lrq_err_get());
        return;
    }
    CHECK(lrq_gguf_n_tensors(g) + expect_output == w->n_tensors);
    int same = 0;
    for (int64_t i = 0; i < lrq_gguf_n_tensors(g); i++) {
        const lrq_gguf_tensor *gt = lrq_gguf_tensor_at(g, i);
        const lrq_tensor *t = lrq_weights_find(w, gt->name);
        if (!t) { test_fail(__FILE__, __LINE__, "missing %s", gt->name); continue; }
        int ok = t->type == gt->type && t->n_dims == (int)gt->n_dims && t->nbytes == gt->nbytes;
        for (int d = 0; d < 4; d++) ok &= t->ne[d] == gt->ne[d];
        ok = ok && memcmp(t->data, gt->data, gt->nbytes) == 0;
        CHECKF(ok, "%s differs from the GGUF tensor", gt->name);
        same += ok;
    }
    CHECK(same == 47);
    lrq_gguf_close(g);
}

static void test_load(void) {
    lrq_weights *w = NULL;
    if (lrq_weights_load_llama2c(&w, test_shared(BIN_PATH))) {
        test_fail(__FILE__, __LINE__, "%s", lrq_err_get());
        return;
    }
    const lrq_hparams *hp = &w->hp;
    CHECK(hp->arch == LRQ_ARCH_LLAMA && hp->rope_kind == LRQ_ROPE_NORM);
    CHECK(hp->n_vocab == 512 && hp->n_embd == 64 && hp->n_layer == 5 && hp->n_head == 8 && hp->n_head_kv == 4);
    CHECK(hp->head_dim == 8 && hp->n_rot == 8 && hp->n_ff == 172 && hp->n_ctx_train == 512);
    CHECK(hp->rms_eps == 1e-5f && hp->rope_theta == 10000.0f);
    CHECK(w->vocab == NULL && strcmp(w->format, "llama2c") == 0);
    CHECK(w->n_tensors == 47);
    CHECK(lrq_weights_find(w, "output.weight") == NULL);
    const lrq_tensor *t = lrq_weights_find(w, "blk.4.ffn_down.weight");
    CHECK(t && t->ne[0] == 172 && t->ne[1] == 64 && t->type == LRQ_TYPE_F32);
    compare_with_gguf(w, 0);
    lrq_weights_free(w);
}

/* Negative vocab_size: an extra classifier matrix follows freq_cis. */
static void test_unshared(void) {
    size_t n = 0;
    uint8_t *orig = tu_read_file(test_shared(BIN_PATH), &n);
    if (!orig) { test_fail(__FILE__, __LINE__, "read"); return; }
    size_t extra = 512 * 64 * 4;
    float *img = malloc(n + extra); /* float-aligned */
    memcpy(img, orig, n);
    int32_t v = -512;
    memcpy((char *)img + 20, &v, 4);
    /* wcls = embeddings * 2 so it is distinguishable */
    const float *emb = (const float *)(const void *)((const char *)img + 28);
    float *wcls = (float *)(void *)((char *)img + n);
    for (size_t i = 0; i < 512 * 64; i++) wcls[i] = emb[i] * 2.0f;
    lrq_llama2c *m = NULL;
    CHECKF(lrq_llama2c_open_memory(&m, img, n + extra, "unshared.bin") == 0, "%s", lrq_err_get());
    if (m) {
        CHECK(m->cfg.shared_classifier == 0 && m->cfg.vocab_size == 512);
        CHECK(m->wcls == wcls);
        lrq_llama2c_close(m);
    }
    /* through the loader (needs a file) */
    const char *dir = tu_mkdtemp();
    char path[512];
    snprintf(path, sizeof path, "%s/unshared.bin", dir);
    CHECK(tu_write_file(path, img, n + extra) == 0);
    lrq_weights *w = NULL;
    CHECKF(lrq_weights_load_llama2c(&w, path) == 0, "%s", lrq_err_get());
    if (w) {
        const lrq_tensor *t = lrq_weights_find(w, "output.weight");
        CHECK(t && t->ne[0] == 64 && t->ne[1] == 512 && t->nbytes == extra);
        CHECK(t && ((const float *)t->data)[5] == 2.0f * ((const float *)lrq_weights_find(w, "token_embd.weight")->data)[5]);
        CHECK(w->hp.n_vocab == 512);
        compare_with_gguf(w, 1);
        lrq_weights_free(w);
    }
    /* the same image with the positive vocab_size is one matrix too long */
    v = 512;
    memcpy((char *)img + 20, &v, 4);
    CHECK(lrq_llama2c_open_memory(&m, img, n + extra, "long.bin") == -1);
    CHECKF(strstr(lrq_err_get(), "long.bin: config") && strstr(lrq_err_get(), "implies 1056540 bytes but the file has"),
           "%s", lrq_err_get());
    tu_rmdir(dir);
    free(img);
    free(orig);
}

int main(void) {
    TEST_RUN(test_open);
    TEST_RUN(test_load);
    TEST_RUN(test_unshared);
    return test_finish();
}
