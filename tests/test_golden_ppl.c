/* test_golden_ppl.c — `lrq ppl` against llama-perplexity (-fa off -ctk f32
 * -ctv f32): every row of golden/stories260K/ppl-exact.tsv and the
 * ppl_valid_exact column of golden/zoo/{ts-qwen3-5M,ts-dsmoe-11M}/quality.tsv, within 0.1%
 * with the same chunk count; KL-divergence against golden/stories260K/kld.tsv
 * (mean KLD within 5% or 2e-5, same-top within 0.5 points; the base model
 * against itself: PPL(base) = the base run's PPL, ratio exactly 1); and the three
 * stories260K formats (GGUF, llama2.c .bin, HF directory) agreeing to 1e-5.
 * Files holding a type lrq does not compute must fail with a clear error. */
#define _POSIX_C_SOURCE 200809L
#include "testlib.h"
#include "core/core.h"
#include "eval/ppl.h"
#include "io/text.h"
#include "tok/vocab.h"
#include "model/model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* test_shared() returns rotating static buffers: keep paths used across calls. */
static char *keep(const char *s) { static char b[8][1024]; static int k; char *d = b[k++ & 7]; snprintf(d, 1024, "%s", s); return d; }

static int run_ppl(const char *model, const char *vocab, const char *text, int ctx, const char *kld_base, int kld,
                   lrq_ppl_result *r) {
    lrq_model *m;
    if (lrq_model_load(&m, model, vocab)) return -1;
    int32_t *ids = NULL;
    size_t n = 0;
    if (text) {
        char *buf;
        size_t len;
        if (lrq_text_load(text, &buf, &len)) { lrq_model_free(m); return -1; }
        int rc = lrq_tokenize(m->vocab, buf, len, 1, 0, &ids, &n);
        free(buf);
        if (rc) { lrq_model_free(m); return -1; }
    }
    lrq_ctx *c;
    /* One thread: ctest runs tests in parallel and results do not depend on the thread count. */
    if (lrq_ctx_new(&c, m, ctx, ctx, 1)) { free(ids); lrq_model_free(m); return -1; }
    lrq_ppl_params p = { .n_ctx = ctx, .n_batch = ctx, .max_chunks = -1, .kld_base = kld_base,
                         .write_base = kld_base && !kld, .kld = kld, .out = NULL };
    int rc = lrq_perplexity(c, m, ids, n, &p, r);
    free(ids);
    lrq_ctx_free(c);
    lrq_model_free(m);
    return rc;
}

/* Splits a TSV line in place into at most max fields. */
static int split_tsv(char *line, char **f, int max) {
    int n = 0;
    line[strcspn(line, "\r\n")] = 0;
    for (char *p = line; n < max;) {
        f[n++] = p;
        char *t = strchr(p, '\t');
        if (!t) break;
        *t = 0;
        p = t + 1;
    }
    return n;
}

static int is_unsupported_error(void) {
    return strstr(lrq_last_error(), "unsupported type") != NULL;
}

static void test_stories_ppl_exact(void) {
    FILE *f = fopen(test_shared("golden/stories260K/ppl-exact.tsv"), "r");
    CHECK(f != NULL);
    if (!f) return;
    char line[1024], *fl[8];
    int rows = 0, checked = 0;
    const char *text = keep(test_shared("data/tinystories/TinyStories-valid.first22docs.txt"));
    while (fgets(line, sizeof line, f)) {
        if (split_tsv(line, fl, 8) < 5 || !strcmp(fl[0], "file")) continue;
        rows++;
        int ctx = atoi(fl[1]), chunks = atoi(fl[2]);
        double want = atof(fl[3]);
        lrq_ppl_result r;
        if (run_ppl(test_shared(fl[0]), NULL, text, ctx, NULL, 0, &r)) {
            CHECKF(is_unsupported_error(), "%s -c %d: %s", fl[0], ctx, lrq_last_error());
            fprintf(stderr, "  %-44s c=%d  not computable: %s\n", fl[0], ctx, lrq_last_error());
            continue;
        }
        double rel = fabs(r.ppl - want) / want;
        fprintf(stderr, "  %-44s c=%d chunks %d/%d  lrq %.4f  llama.cpp %.4f  rel %.2e\n", fl[0], ctx, r.n_chunks,
                chunks, r.ppl, want, rel);
        CHECKF(r.n_chunks == chunks, "%s: %d chunks, want %d", fl[0], r.n_chunks, chunks);
        CHECKF(rel <= 1e-3, "%s -c %d: PPL %.4f vs %.4f", fl[0], ctx, r.ppl, want);
        checked++;
    }
    fclose(f);
    CHECK(rows >= 30);
    CHECK(checked >= rows - 6);
}

/* The qwen3 zoo rows are split in two halves (argv "zoo0"/"zoo1") so ctest can run them in parallel. */
static int zoo_part = -1;

/* Every row of golden/zoo/<name>/quality.tsv whose file is kept (F32 in
 * models/zoo/, the others in golden/zoo/<name>/): lrq's PPL at -c 512 on
 * ts260k-synth-valid.txt within 0.1% of ppl_valid_exact; files of a type lrq
 * does not compute must fail with "unsupported type". */
static void zoo_ppl_exact(const char *name, int part, int min_checked) {
    char tsv[256];
    snprintf(tsv, sizeof tsv, "golden/zoo/%s/quality.tsv", name);
    FILE *f = fopen(test_shared(tsv), "r");
    CHECK(f != NULL);
    if (!f) return;
    char line[1024], *fl[12];
    int checked = 0, row = 0;
    const char *text = keep(test_shared("data/tinystories/ts260k-synth-valid.txt"));
    while (fgets(line, sizeof line, f)) {
        if (split_tsv(line, fl, 12) < 10 || !strcmp(fl[0], "file")) continue;
        /* part 2 ("zooiq"): the IQ2_x/IQ3_x rows only; halves 0 and 1 leave them out (each i-quant run costs
         * several k-quant runs: no tile kernels yet, see dot_iq_ref.c) */
        const int iq_row = !strncmp(fl[1], "IQ2", 3) || !strncmp(fl[1], "IQ3", 3);
        if (part == 2 && !iq_row) continue;
        if ((part == 0 || part == 1) && (iq_row || row++ % 2 != part)) continue;
        char path[512];
        snprintf(path, sizeof path, "golden/zoo/%s/%s", name, fl[0]);
        if (!strcmp(fl[1], "F32")) snprintf(path, sizeof path, "models/zoo/%s", fl[0]);
        if (!test_exists(test_shared(path))) continue; /* quality.tsv also lists files not kept in golden/ */
        double want = atof(fl[4]);
        lrq_ppl_result r;
        if (run_ppl(test_shared(path), NULL, text, 512, NULL, 0, &r)) {
            CHECKF(is_unsupported_error(), "%s: %s", path, lrq_last_error());
            fprintf(stderr, "  %-44s not computable: %s\n", fl[0], lrq_last_error());
            continue;
        }
        double rel = fabs(r.ppl - want) / want;
        fprintf(stderr, "  %-36s lrq %.4f  llama.cpp %.4f  rel %.2e  (%d chunks, %.0f tok/s)\n", fl[0], r.ppl, want, rel,
                r.n_chunks, r.tokens_per_sec);
        CHECKF(rel <= 1e-3, "%s: PPL %.4f vs %.4f", fl[0], r.ppl, want);
        checked++;
    }
    fclose(f);
    CHECKF(checked >= min_checked, "%s: %d files checked, want >= %d", name, checked, min_checked);
}

/* The 12 kept files (F32 and 11 quantized) are all computable: the other rows alternate between the halves
 * (6 files in half 0, 4 in half 1), IQ2_XS-imat and IQ2_XXS-imat are part "zooiq". */
static void test_zoo_qwen3_ppl_exact(void) {
    static const int min_checked[4] = {12, 6, 4, 2}; /* all, zoo0, zoo1, zooiq */
    zoo_ppl_exact("ts-qwen3-5M", zoo_part, min_checked[zoo_part + 1]);
}

/* DeepSeek-MoE: F32, Q4_K_M and Q2_K-imat are kept (Q8_0 and IQ2_XS-imat rows have no file). */
static void test_zoo_dsmoe_ppl_exact(void) { zoo_ppl_exact("ts-dsmoe-11M", -1, 3); }

static void test_stories_kld(void) {
    char base[] = "/tmp/lrq-kld-XXXXXX";
    int fd = mkstemp(base);
    CHECK(fd >= 0);
    close(fd);
    const char *text = keep(test_shared("data/tinystories/TinyStories-valid.first22docs.txt"));
    lrq_ppl_result r;
    CHECKF(run_ppl(test_shared("models/stories260K/stories260K-f32.gguf"), NULL, text, 128, base, 0, &r) == 0, "%s",
           lrq_last_error());
    /* The model against its own base: the stored exact NLLs make PPL(base)
     * the base run's PPL and the ratio exactly 1 (format 1 gave 1.0218). */
    const double base_run_ppl = r.ppl;
    lrq_ppl_result self;
    CHECKF(run_ppl(test_shared("models/stories260K/stories260K-f32.gguf"), NULL, NULL, 128, base, 1, &self) == 0, "%s",
           lrq_last_error());
    fprintf(stderr, "  self: PPL %.6f base %.6f (base run %.6f) ln ratio %g KLD %g same top %.3f%%\n", self.ppl,
            self.base_ppl, base_run_ppl, self.ln_ppl_ratio, self.mean_kld, self.same_top_pct);
    CHECKF(self.base_ppl == base_run_ppl, "PPL(base) %.9f vs the base run's %.9f", self.base_ppl, base_run_ppl);
    CHECKF(self.ln_ppl_ratio == 0.0 && self.ppl / self.base_ppl == 1.0, "self ln ratio %g", self.ln_ppl_ratio);
    CHECK(fabs(self.mean_kld) < 1e-6 && self.same_top_pct == 100.0);
    FILE *f = fopen(test_shared("golden/stories260K/kld.tsv"), "r");
    CHECK(f != NULL);
    char line[1024], *fl[4];
    int checked = 0;
    while (f && fgets(line, sizeof line, f)) {
        if (split_tsv(line, fl, 4) < 3 || !strcmp(fl[0], "file")) continue;
        char path[512];
        snprintf(path, sizeof path, "golden/stories260K/%s", fl[0]);
        double want_kld = atof(fl[1]), want_top = atof(fl[2]);
        if (run_ppl(test_shared(path), NULL, NULL, 128, base, 1, &r)) {
            CHECKF(is_unsupported_error(), "%s: %s", path, lrq_last_error());
            continue;
        }
        double d = fabs(r.mean_kld - want_kld);
        fprintf(stderr, "  %-28s KLD lrq %.6f llama.cpp %.6f | same top %.3f%% vs %.3f%% | median %.6f\n", fl[0],
                r.mean_kld, want_kld, r.same_top_pct, want_top, r.median_kld);
        CHECKF(d <= 2e-5 || d <= 0.05 * want_kld, "%s: mean KLD %.6f vs %.6f", fl[0], r.mean_kld, want_kld);
        CHECKF(fabs(r.same_top_pct - want_top) <= 0.5, "%s: same top %.3f vs %.3f", fl[0], r.same_top_pct, want_top);
        checked++;
    }
    if (f) fclose(f);
    CHECK(checked >= 10);
    unlink(base);
}

static void test_three_formats(void) {
    const char *text = keep(test_shared("data/tinystories/TinyStories-valid.first22docs.txt"));
    const char *gguf = keep(test_shared("models/stories260K/stories260K-f32.gguf"));
    lrq_ppl_result a, b, c;
    CHECKF(run_ppl(gguf, NULL, text, 128, NULL, 0, &a) == 0, "gguf: %s", lrq_last_error());
    CHECKF(run_ppl(test_shared("models/stories260K/stories260K.bin"), test_shared("models/stories260K/tok512.bin"), text,
                   128, NULL, 0, &b) == 0, "llama2c: %s", lrq_last_error());
    CHECKF(run_ppl(test_shared("models/stories260K/hf"), gguf, text, 128, NULL, 0, &c) == 0, "hf: %s", lrq_last_error());
    fprintf(stderr, "  gguf %.6f  llama2.c %.6f  hf %.6f\n", a.ppl, b.ppl, c.ppl);
    CHECK(fabs(a.ppl - b.ppl) / a.ppl <= 1e-5);
    CHECK(fabs(a.ppl - c.ppl) / a.ppl <= 1e-5);
}

/* No argument: everything. "stories": the stories260K checks. "zoo0"/"zoo1": half of the qwen3 zoo rows
 * each, "zooiq": its IQ2_x/IQ3_x rows. "dsmoe": the DeepSeek-MoE zoo rows. */
int main(int argc, char **argv) {
    const char *part = argc > 1 ? argv[1] : "all";
    int all = !strcmp(part, "all");
    if (all || !strcmp(part, "stories")) {
        TEST_RUN(test_three_formats);
        TEST_RUN(test_stories_ppl_exact);
        TEST_RUN(test_stories_kld);
    }
    if (!strcmp(part, "zoo0")) zoo_part = 0;
    if (!strcmp(part, "zoo1")) zoo_part = 1;
    if (!strcmp(part, "zooiq")) zoo_part = 2;
    if (all || zoo_part >= 0) TEST_RUN(test_zoo_qwen3_ppl_exact);
    if (all || !strcmp(part, "dsmoe")) TEST_RUN(test_zoo_dsmoe_ppl_exact);
    return test_finish();
}
