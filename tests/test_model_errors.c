/* test_model_errors.c — model-level validation of otherwise well-formed
 * files: a missing tensor, a wrong shape, an unexpected extra tensor, an
 * unsupported type, a bad hyper-parameter, an unknown architecture. Each must
 * fail to load with one message naming the file and the problem. The files
 * are rewrites of stories260K-f32.gguf made with lrq's GGUF writer. */
#define _POSIX_C_SOURCE 200809L
#include "testlib.h"
#include "core/core.h"
#include "io/gguf.h"
#include "model/model.h"
#include "fmt/types.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef enum { DROP, RESHAPE, EXTRA, RETYPE, HPARAM, ARCH } edit_kind;

/* Rewrites the source with one edit applied to tensor/key `name`. */
static int write_edited(const char *src, const char *dst, edit_kind kind, const char *name) {
    lrq_gguf *g;
    if (lrq_gguf_open(&g, src)) return -1;
    lrq_gguf_writer *w = lrq_gguf_writer_new();
    for (int64_t i = 0; i < lrq_gguf_n_kv(g); i++) {
        const lrq_gguf_kv *kv = lrq_gguf_kv_at(g, i);
        if (kind == HPARAM && !strcmp(kv->key, name)) { lrq_gguf_writer_set_u32(w, kv->key, 7); continue; }
        if (kind == ARCH && !strcmp(kv->key, "general.architecture")) {
            lrq_gguf_writer_set_str(w, kv->key, "mamba");
            continue;
        }
        lrq_gguf_writer_set(w, kv->key, &kv->val);
    }
    for (int64_t i = 0; i < lrq_gguf_n_tensors(g); i++) {
        const lrq_gguf_tensor *t = lrq_gguf_tensor_at(g, i);
        int64_t ne[4] = { t->ne[0], t->ne[1], t->ne[2], t->ne[3] };
        int type = t->type;
        uint32_t nd = t->n_dims;
        if (!strcmp(t->name, name)) {
            if (kind == DROP) continue;
            if (kind == RESHAPE) { ne[0] = t->ne[1]; ne[1] = t->ne[0]; }
            if (kind == RETYPE) type = LRQ_TYPE_I32; /* same byte size as F32, not a weight type */
        }
        lrq_gguf_writer_add_tensor(w, t->name, type, nd, ne, t->data);
    }
    if (kind == EXTRA) {
        const lrq_gguf_tensor *t = lrq_gguf_find_tensor(g, "output_norm.weight");
        lrq_gguf_writer_add_tensor(w, name, t->type, t->n_dims, t->ne, t->data);
    }
    int r = lrq_gguf_writer_write(w, dst);
    lrq_gguf_writer_free(w);
    lrq_gguf_close(g);
    return r;
}

static void expect_fail(edit_kind kind, const char *name, const char *needle) {
    char dir[] = "/tmp/lrq-model-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/edited.gguf", dir);
    CHECKF(write_edited(test_shared("models/stories260K/stories260K-f32.gguf"), path, kind, name) == 0, "%s",
           lrq_last_error());
    lrq_model *m = NULL;
    int r = lrq_model_load(&m, path, NULL);
    const char *e = lrq_last_error();
    CHECKF(r != 0 && m == NULL, "edit of '%s' loaded", name);
    CHECKF(strstr(e, path) != NULL, "error does not name the file: %s", e);
    CHECKF(strstr(e, needle) != NULL, "error '%s' does not mention '%s'", e, needle);
    CHECKF(strchr(e, '\n') == NULL, "error is not one line: %s", e);
    fprintf(stderr, "  %s\n", e);
    lrq_model_free(m);
    unlink(path);
    rmdir(dir);
}

static void test_missing_tensor(void) { expect_fail(DROP, "blk.3.ffn_up.weight", "missing tensor 'blk.3.ffn_up.weight'"); }
static void test_wrong_shape(void) { expect_fail(RESHAPE, "blk.1.ffn_gate.weight", "blk.1.ffn_gate.weight"); }
static void test_extra_tensor(void) { expect_fail(EXTRA, "blk.0.attn_q.bias", "unexpected tensor 'blk.0.attn_q.bias'"); }
static void test_unsupported_type(void) { expect_fail(RETYPE, "blk.2.attn_k.weight", "unsupported type i32 in tensor 'blk.2.attn_k.weight'"); }
static void test_bad_hparam(void) { expect_fail(HPARAM, "llama.attention.head_count_kv", "n_head_kv"); }
static void test_unknown_arch(void) { expect_fail(ARCH, "", "unsupported architecture 'mamba'"); }

int main(void) {
    TEST_RUN(test_missing_tensor);
    TEST_RUN(test_wrong_shape);
    TEST_RUN(test_extra_tensor);
    TEST_RUN(test_unsupported_type);
    TEST_RUN(test_bad_hparam);
    TEST_RUN(test_unknown_arch);
    return test_finish();
}
