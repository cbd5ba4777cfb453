/* test_imatrix_load.c — reading llama-imatrix GGUF files (quant/imatrix_load.c):
 * the golden files of stories260K and ts-dsmoe-11M (values checked against an
 * independent reader, tests/gguf_testutil.h; expert stacks per expert), the
 * weights llama-quantize derives (sum / lround(count); 1 for a matrix that saw
 * no tokens), and corrupt files: truncated at many lengths, wrong shapes and
 * types, missing halves and keys, NaN and negative values — each refused with
 * one error line naming the file and the field, never a crash. */
#define _POSIX_C_SOURCE 200809L
#include "testlib.h"
#include "gguf_testutil.h"
#include "lrq.h"

#include "core/core.h"
#include "fmt/types.h"
#include "io/gguf.h"
#include "quant/imatrix.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmpdir[64];

static const char *tmp_path(const char *name) {
    static char buf[4][256];
    static int k;
    char *b = buf[k++ % 4];
    snprintf(b, 256, "%s/%s", tmpdir, name);
    return b;
}

static int f32_rows(int type, int64_t ne0, size_t *rb) {
    if (type != LRQ_TYPE_F32) return 1;
    *rb = (size_t)ne0 * 4;
    return 0;
}

static float rd_f32(const uint8_t *p) {
    uint32_t u = (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* Every entry equals the file's tensors as the independent reader sees
 * them, and the weights are sum / lround(count) (1 when the count is 0). */
static void check_against_file(const char *path, const lrq_imatrix *im, int *n_expert_entries) {
    tg_file g;
    CHECK(tg_open(&g, path, f32_rows) == 0);
    CHECK(im->n * 2 == g.n);
    *n_expert_entries = 0;
    for (int32_t i = 0; i < im->n; i++) {
        const lrq_imatrix_entry *e = &im->e[i];
        char nm[128];
        snprintf(nm, sizeof nm, "%s.in_sum2", e->name);
        const tg_tensor *s = tg_find(&g, nm);
        snprintf(nm, sizeof nm, "%s.counts", e->name);
        const tg_tensor *c = tg_find(&g, nm);
        CHECK(s && c);
        if (!s || !c) continue;
        CHECK(e->ne0 == s->ne[0] && e->n_mat == s->ne[1] && c->n == e->n_mat);
        CHECK(lrq_imatrix_find(im, e->name) == e);
        if (e->n_mat > 1) (*n_expert_entries)++;
        float *w = malloc((size_t)e->ne0 * sizeof(float));
        for (int32_t m = 0; m < e->n_mat; m++) {
            const float cnt = rd_f32(c->data + 4 * m);
            CHECK(e->counts[m] == cnt);
            CHECK(lrq_imatrix_weights(e, m, w) == 0);
            const float r = (float)lroundf(cnt);
            int bad = 0;
            for (int64_t j = 0; j < e->ne0; j++) {
                const float sv = rd_f32(s->data + 4 * ((size_t)m * (size_t)e->ne0 + (size_t)j));
                if (e->sum2[(size_t)m * (size_t)e->ne0 + (size_t)j] != sv) bad++;
                if (w[j] != (r > 0 ? sv / r : 1.0f)) bad++;
            }
            CHECKF(bad == 0, "%s matrix %d: %d values differ", e->name, (int)m, bad);
        }
        CHECK(lrq_imatrix_weights(e, e->n_mat, w) == -1 && strstr(lrq_last_error(), e->name));
        CHECK(lrq_imatrix_weights(e, -1, w) == -1);
        free(w);
    }
    tg_close(&g);
}

static void test_golden(void) {
    const char *p = test_shared("golden/stories260K/imatrix-selfgen.gguf");
    lrq_imatrix *im = NULL;
    CHECKF(lrq_imatrix_load(p, &im) == 0, "%s", lrq_last_error());
    if (!im) return;
    /* 5 layers x 7 linears; the calibration metadata as llama-imatrix wrote it */
    CHECK(im->n == 35 && im->chunk_size == 128 && im->chunk_count > 0);
    CHECK(im->n_datasets == 1 && strstr(im->datasets[0], "stories260K-selfgen.txt"));
    CHECK(lrq_imatrix_find(im, "blk.0.ffn_down.weight") && lrq_imatrix_find(im, "blk.0.ffn_down.weight")->ne0 == 172);
    CHECK(lrq_imatrix_find(im, "output_norm.weight") == NULL && lrq_imatrix_find(NULL, "x") == NULL);
    int nx;
    check_against_file(p, im, &nx);
    CHECK(nx == 0);
    lrq_imatrix_free(im);

    p = test_shared("golden/zoo/ts-dsmoe-11M/imatrix-ts-dsmoe-11M.gguf");
    CHECKF(lrq_imatrix_load(p, &im) == 0, "%s", lrq_last_error());
    if (!im) return;
    const lrq_imatrix_entry *e = lrq_imatrix_find(im, "blk.1.ffn_down_exps.weight");
    CHECK(e && e->n_mat == 8 && e->ne0 == 256);
    check_against_file(p, im, &nx);
    CHECK(nx == 5 * 3); /* up/gate/down experts of the 5 MoE layers (blk.1..5) */
    lrq_imatrix_free(im);
    lrq_imatrix_free(NULL);
}

/* ---------- synthetic files ---------- */

typedef struct part {
    const char *name;
    int type;
    uint32_t n_dims;
    int64_t ne[2];
    const void *data;
} part;

/* Writes an imatrix-like GGUF: keys (any of them may be left out), then the
 * given tensors. */
static const char *write_file(const char *fname, int keys, const part *parts, int n) {
    const char *path = tmp_path(fname);
    lrq_gguf_writer *w = lrq_gguf_writer_new();
    int rc = lrq_gguf_writer_set_str(w, "general.type", "imatrix");
    const char *ds[] = { "calib.txt" };
    if (keys & 1) rc |= lrq_gguf_writer_set_arr_str(w, "imatrix.datasets", 1, ds);
    if (keys & 2) rc |= lrq_gguf_writer_set_u32(w, "imatrix.chunk_count", 7);
    if (keys & 4) rc |= lrq_gguf_writer_set_u32(w, "imatrix.chunk_size", 64);
    for (int i = 0; i < n; i++)
        rc |= lrq_gguf_writer_add_tensor(w, parts[i].name, parts[i].type, parts[i].n_dims, parts[i].ne, parts[i].data);
    rc |= lrq_gguf_writer_write(w, path);
    lrq_gguf_writer_free(w);
    CHECKF(rc == 0, "writing %s: %s", fname, lrq_last_error());
    return path;
}

/* Loading path fails with an error containing every one of the needles
 * (the file's name always), and leaves *out NULL. */
static void expect_fail(const char *path, const char *needle, const char *needle2) {
    lrq_imatrix *im = (lrq_imatrix *)1;
    int rc = lrq_imatrix_load(path, &im);
    const char *err = lrq_last_error();
    CHECKF(rc == -1 && im == NULL, "%s loaded", path);
    CHECKF(strstr(err, path) && strstr(err, needle) && (!needle2 || strstr(err, needle2)) && !strchr(err, '\n'),
           "%s: error '%s' lacks '%s'", path, err, needle);
    if (rc == 0) lrq_imatrix_free(im);
}

static void test_synthetic(void) {
    /* two matrices of 32: counts 2.6 (llama-quantize rounds it: 3) and 0 */
    float sums[64], cnt[2] = { 2.6f, 0.0f }, one_cnt[1] = { 4.0f };
    for (int i = 0; i < 64; i++) sums[i] = 0.5f * (float)(i + 1);
    part ok[] = {
        { "blk.0.ffn_up_exps.weight.in_sum2", LRQ_TYPE_F32, 2, { 32, 2 }, sums },
        { "blk.0.ffn_up_exps.weight.counts", LRQ_TYPE_F32, 2, { 1, 2 }, cnt },
        { "blk.0.attn_q.weight.counts", LRQ_TYPE_F32, 1, { 1, 1 }, one_cnt },
        { "blk.0.attn_q.weight.in_sum2", LRQ_TYPE_F32, 1, { 32, 1 }, sums },
    };
    const char *p = write_file("ok.gguf", 7, ok, 4);
    lrq_imatrix *im = NULL;
    CHECKF(lrq_imatrix_load(p, &im) == 0, "%s", lrq_last_error());
    if (im) {
        CHECK(im->n == 2 && im->chunk_count == 7 && im->chunk_size == 64 && !strcmp(im->datasets[0], "calib.txt"));
        /* in the order of the in_sum2 tensors */
        CHECK(!strcmp(im->e[0].name, "blk.0.ffn_up_exps.weight") && !strcmp(im->e[1].name, "blk.0.attn_q.weight"));
        float w[32];
        CHECK(lrq_imatrix_weights(&im->e[0], 0, w) == 0 && w[0] == sums[0] / 3.0f && w[31] == sums[31] / 3.0f);
        CHECK(lrq_imatrix_weights(&im->e[0], 1, w) == 0 && w[0] == 1.0f && w[31] == 1.0f);
        CHECK(lrq_imatrix_weights(&im->e[1], 0, w) == 0 && w[5] == sums[5] / 4.0f);
        lrq_imatrix_free(im);
    }

    /* a huge count (no integer overflow on the way): used as it is */
    float big[1] = { 1e30f };
    part huge[] = { ok[3], { "blk.0.attn_q.weight.counts", LRQ_TYPE_F32, 1, { 1, 1 }, big } };
    CHECKF(lrq_imatrix_load(write_file("big.gguf", 7, huge, 2), &im) == 0, "%s", lrq_last_error());
    if (im) {
        float w[32];
        CHECK(lrq_imatrix_weights(&im->e[0], 0, w) == 0 && w[3] == sums[3] / 1e30f);
        lrq_imatrix_free(im);
    }

    /* missing keys: llama-quantize refuses a GGUF imatrix without them */
    expect_fail(write_file("nokey.gguf", 5, ok, 4), "imatrix.chunk_count", "missing");
    expect_fail(write_file("nods.gguf", 6, ok, 4), "imatrix.datasets", "missing");
    /* a half without the other */
    expect_fail(write_file("nocounts.gguf", 7, ok, 1), "blk.0.ffn_up_exps.weight.in_sum2", "counts");
    expect_fail(write_file("nosums.gguf", 7, ok + 1, 1), "blk.0.ffn_up_exps.weight.counts", "in_sum2");
    /* no entries at all */
    expect_fail(write_file("empty.gguf", 7, ok, 0), "no entries", NULL);
    /* counts for 3 matrices beside sums of 2 */
    float cnt3[3] = { 1, 1, 1 };
    part badc[] = { ok[0], { "blk.0.ffn_up_exps.weight.counts", LRQ_TYPE_F32, 2, { 1, 3 }, cnt3 } };
    expect_fail(write_file("shape.gguf", 7, badc, 2), "blk.0.ffn_up_exps.weight.counts", "shape");
    /* an F16 in_sum2 */
    uint16_t h[32] = { 0 };
    part f16[] = { { "a.weight.in_sum2", LRQ_TYPE_F16, 1, { 32, 1 }, h },
                   { "a.weight.counts", LRQ_TYPE_F32, 1, { 1, 1 }, one_cnt } };
    expect_fail(write_file("f16.gguf", 7, f16, 2), "a.weight.in_sum2", "expected f32");
    /* NaN, infinity and negative values */
    float bad[32];
    memcpy(bad, sums, sizeof bad);
    bad[7] = NAN;
    part nan[] = { { "a.weight.in_sum2", LRQ_TYPE_F32, 1, { 32, 1 }, bad }, f16[1] };
    expect_fail(write_file("nan.gguf", 7, nan, 2), "a.weight.in_sum2", "not finite");
    bad[7] = INFINITY;
    expect_fail(write_file("inf.gguf", 7, nan, 2), "a.weight.in_sum2", "not finite");
    bad[7] = -1.0f;
    expect_fail(write_file("neg.gguf", 7, nan, 2), "a.weight.in_sum2", "negative");
    float negc[1] = { -3.0f };
    part negcount[] = { ok[3], { "blk.0.attn_q.weight.counts", LRQ_TYPE_F32, 1, { 1, 1 }, negc } };
    expect_fail(write_file("negc.gguf", 7, negcount, 2), "blk.0.attn_q.weight.counts", "negative");
    /* a tensor that is neither half */
    part stray[] = { ok[2], ok[3], { "blk.0.attn_q.weight", LRQ_TYPE_F32, 1, { 32, 1 }, sums } };
    expect_fail(write_file("stray.gguf", 7, stray, 3), "blk.0.attn_q.weight", "neither");
    /* not there at all */
    expect_fail(tmp_path("absent.gguf"), "absent.gguf", NULL);
}

/* Every prefix length of a real file on a coarse grid plus the last 64:
 * refused cleanly (or, for the full length, read). */
static void test_truncated(void) {
    const char *src = test_shared("golden/stories260K/imatrix-selfgen.gguf");
    FILE *f = fopen(src, "rb");
    CHECK(f != NULL);
    if (!f) return;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)n);
    CHECK(fread(buf, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    const char *p = tmp_path("trunc.gguf");
    int refused = 0, tried = 0;
    for (long len = 0; len < n; len += (len < n - 64 ? 97 : 1)) {
        FILE *o = fopen(p, "wb");
        fwrite(buf, 1, (size_t)len, o);
        fclose(o);
        lrq_imatrix *im = (lrq_imatrix *)1;
        int rc = lrq_imatrix_load(p, &im);
        tried++;
        if (rc == -1 && im == NULL && strstr(lrq_last_error(), "trunc.gguf")) refused++;
        if (rc == 0) lrq_imatrix_free(im);
    }
    CHECKF(refused == tried, "%d of %d truncated files refused", refused, tried);
    free(buf);
    unlink(p);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/lrq-test-imatrix-XXXXXX");
    if (!mkdtemp(tmpdir)) { perror("mkdtemp"); return 1; }
    TEST_RUN(test_golden);
    TEST_RUN(test_synthetic);
    TEST_RUN(test_truncated);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    return test_finish();
}
