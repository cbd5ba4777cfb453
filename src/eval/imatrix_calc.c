/* imatrix_calc.c — importance matrices through the linear hooks (contract
 * and llama-imatrix's rules: imatrix_calc.h), and the public driver
 * lrq_imatrix_compute (lrq.h): text -> tokens -> chunks -> file.
 */
#define _POSIX_C_SOURCE 200809L
#include "eval/imatrix_calc.h"
#include "core/atomic.h"
#include "core/core.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* llama-imatrix's callback ignores MUL_MAT calls with fewer rows than this
 * (src1->ne[1] < 16); MUL_MAT_ID (expert stacks) is always collected. */
#define DENSE_MIN_ROWS 16
/* llama.cpp's default micro-batch (common_params.n_ubatch), which
 * llama-imatrix does not change: the row count of each matmul call. */
#define UBATCH 512

typedef struct calc_entry {
    const char *name;   /* the model's tensor name (borrowed: the model outlives the collector) */
    int64_t ne0;        /* input features (the tensor's row length) */
    int32_t n_mat;      /* the tensor's third dimension: experts in a stack, else 1 */
    int seen;           /* collected at least once (only those are exported) */
    float *sum2;        /* [n_mat][ne0] Σ x² per channel, accumulated in F32 like llama-imatrix */
    int64_t *counts;    /* [n_mat] rows seen */
} calc_entry;

struct lrq_imatrix_calc {
    int process_output;
    int32_t n;               /* entries: the model's 2-D/3-D tensors */
    calc_entry *e;           /* [n] */
    int32_t *slot;           /* [n_slot] open-addressing hash of names -> entry index, -1 empty */
    uint32_t n_slot;         /* power of two >= 2n */
    lrq_hooks hooks;
    int failed;              /* a hook met an inconsistency; the message is in err */
    char err[256];
    /* export view */
    lrq_imatrix_entry *view;  /* [n] */
    float *view_counts;       /* [Σ n_mat] */
};

static uint32_t name_hash(const char *s) {
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static calc_entry *find_entry(lrq_imatrix_calc *c, const char *name) {
    for (uint32_t i = name_hash(name) & (c->n_slot - 1);; i = (i + 1) & (c->n_slot - 1)) {
        const int32_t k = c->slot[i];
        if (k < 0) return NULL;
        if (!strcmp(c->e[k].name, name)) return &c->e[k];
    }
}

/* Hooks cannot return an error: keep the first one for lrq_imatrix_calc_status. */
static void hook_fail(lrq_imatrix_calc *c, const char *what, const lrq_linear_info *info) {
    if (c->failed) return;
    c->failed = 1;
    snprintf(c->err, sizeof c->err, "imatrix: linear '%s' (layer %d, expert %d, %lld inputs): %s",
             info->name ? info->name : "?", info->layer, info->expert, (long long)info->n_in, what);
}

static void on_linear_in(void *ud, const lrq_linear_info *info, const float *x, int n_tok) {
    lrq_imatrix_calc *c = ud;
    const char *name = info->name;
    if (!name || n_tok <= 0) return;
    /* replicas are lrq's own experiment: llama.cpp has no such linears */
    if (info->replica != 0) return;
    if (strncmp(name, "blk.", 4) != 0 && !(c->process_output && !strcmp(name, "output.weight"))) return;
    const int expert = info->expert >= 0;
    if (!expert && n_tok < DENSE_MIN_ROWS) return;
    calc_entry *e = find_entry(c, name);
    if (!e) { hook_fail(c, "not a tensor of the model", info); return; }
    if (info->n_in != e->ne0) { hook_fail(c, "input width differs from the tensor's rows", info); return; }
    if (expert && info->expert >= e->n_mat) { hook_fail(c, "expert index beyond the stack", info); return; }
    if (!expert && e->n_mat != 1) { hook_fail(c, "a dense call on an expert stack", info); return; }
    const int32_t mat = expert ? info->expert : 0;
    float *acc = e->sum2 + (size_t)mat * (size_t)e->ne0;
    const int64_t ne0 = e->ne0;
    /* row by row, acc + x*x in F32 (no contraction: -ffp-contract=off), the order llama-imatrix adds in */
    for (int r = 0; r < n_tok; r++) {
        const float *xr = x + (size_t)r * (size_t)ne0;
        for (int64_t j = 0; j < ne0; j++) acc[j] += xr[j] * xr[j];
    }
    e->counts[mat] += n_tok;
    e->seen = 1;
}

int lrq_imatrix_calc_new(lrq_imatrix_calc **out, const lrq_model *m, int process_output) {
    *out = NULL;
    lrq_imatrix_calc *c = lrq_calloc(1, sizeof *c);
    if (!c) return -1;
    c->process_output = process_output;
    const int64_t nt = lrq_model_n_tensors(m);
    c->e = lrq_calloc((size_t)(nt > 0 ? nt : 1), sizeof *c->e);
    if (!c->e) goto fail;
    size_t n_val = 0, n_cnt = 0;
    for (int64_t i = 0; i < nt; i++) {
        lrq_tensor_info ti;
        if (lrq_model_tensor_info(m, i, &ti)) goto fail;
        /* 1-D too: qwen2moe's shared-expert gate [n_embd] is a linear of one output (norms never fire) */
        if (ti.n_dims > 3) continue;
        calc_entry *e = &c->e[c->n];
        e->name = ti.name;
        e->ne0 = ti.ne[0];
        e->n_mat = ti.n_dims == 3 ? (int32_t)ti.ne[2] : 1;
        if (ti.ne[2] > INT32_MAX || ti.ne[0] < 1) {
            lrq_err_set("imatrix: tensor '%s': %lld x %lld is not a linear weight", ti.name, (long long)ti.ne[0],
                        (long long)ti.ne[2]);
            goto fail;
        }
        size_t nv;
        if (lrq_mul_size((size_t)e->ne0, (size_t)e->n_mat, &nv) || lrq_add_size(n_val, nv, &n_val) ||
            lrq_add_size(n_cnt, (size_t)e->n_mat, &n_cnt)) {
            lrq_err_set("imatrix: tensor '%s': size overflow", ti.name);
            goto fail;
        }
        e->sum2 = lrq_calloc(nv, sizeof *e->sum2);
        e->counts = lrq_calloc((size_t)e->n_mat, sizeof *e->counts);
        c->n++;
        if (!e->sum2 || !e->counts) goto fail;
    }
    c->n_slot = 16;
    while (c->n_slot < 2u * (uint32_t)c->n) c->n_slot *= 2;
    c->slot = lrq_malloc(sizeof *c->slot * c->n_slot);
    c->view = lrq_calloc((size_t)(c->n > 0 ? c->n : 1), sizeof *c->view);
    c->view_counts = lrq_calloc(n_cnt ? n_cnt : 1, sizeof *c->view_counts);
    if (!c->slot || !c->view || !c->view_counts) goto fail;
    for (uint32_t i = 0; i < c->n_slot; i++) c->slot[i] = -1;
    for (int32_t k = 0; k < c->n; k++) {
        uint32_t i = name_hash(c->e[k].name) & (c->n_slot - 1);
        while (c->slot[i] >= 0) i = (i + 1) & (c->n_slot - 1);
        c->slot[i] = k; /* GGUF tensor names are unique (the reader checks) */
    }
    c->hooks = (lrq_hooks){ .ud = c, .linear_in = on_linear_in };
    *out = c;
    return 0;
fail:
    lrq_imatrix_calc_free(c);
    return -1;
}

void lrq_imatrix_calc_free(lrq_imatrix_calc *c) {
    if (!c) return;
    for (int32_t i = 0; i < c->n; i++) {
        free(c->e[i].sum2);
        free(c->e[i].counts);
    }
    free(c->e);
    free(c->slot);
    free(c->view);
    free(c->view_counts);
    free(c);
}

const lrq_hooks *lrq_imatrix_calc_hooks(lrq_imatrix_calc *c) { return &c->hooks; }

int lrq_imatrix_calc_status(const lrq_imatrix_calc *c) {
    return c->failed ? lrq_err_set("%s", c->err) : 0;
}

static double now_sec(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Evaluate tokens[0..n) of the current chunk as one llama.cpp batch: pieces
 * of at most UBATCH tokens, every row with logits. */
static int eval_batch(lrq_imatrix_calc *c, lrq_ctx *ctx, const int32_t *tokens, int n) {
    for (int i = 0; i < n; i += UBATCH) {
        const int len = n - i < UBATCH ? n - i : UBATCH;
        if (!lrq_ctx_eval(ctx, tokens + i, len, 0)) return -1;
        if (lrq_imatrix_calc_status(c)) return -1;
    }
    return 0;
}

int lrq_imatrix_calc_run(lrq_imatrix_calc *c, lrq_ctx *ctx, const int32_t *tokens, size_t n_tok, int n_ctx,
                         int n_batch, int max_chunks, int32_t bos,
                         void (*progress)(void *ud, int done, int total, double seconds), void *ud) {
    if (n_ctx < 1 || n_batch < 1) return lrq_err_set("imatrix: context %d / batch %d must be >= 1", n_ctx, n_batch);
    const size_t n_chunk_max = n_tok / (size_t)n_ctx;
    size_t n_chunk = n_chunk_max;
    if (max_chunks > 0 && (size_t)max_chunks < n_chunk) n_chunk = (size_t)max_chunks;
    if (n_chunk > INT32_MAX) return lrq_err_set("imatrix: %zu chunks is too many", n_chunk);
    int32_t *chunk = lrq_malloc(sizeof *chunk * (size_t)n_ctx);
    if (!chunk) return -1;
    lrq_ctx_set_hooks(ctx, &c->hooks);
    const double t0 = now_sec();
    int rc = 0;
    for (size_t k = 0; k < n_chunk && !rc; k++) {
        memcpy(chunk, tokens + k * (size_t)n_ctx, sizeof *chunk * (size_t)n_ctx);
        if (bos >= 0) chunk[0] = bos;
        lrq_ctx_reset(ctx);
        if (n_batch < n_ctx) {
            for (int b = 0; b < n_ctx && !rc; b += n_batch)
                rc = eval_batch(c, ctx, chunk + b, n_ctx - b < n_batch ? n_ctx - b : n_batch);
        } else {
            rc = eval_batch(c, ctx, chunk, n_ctx);
        }
        if (rc) lrq_err_prefix("imatrix: chunk %zu", k + 1);
        else if (progress) progress(ud, (int)k + 1, (int)n_chunk, now_sec() - t0);
    }
    lrq_ctx_set_hooks(ctx, NULL);
    free(chunk);
    return rc ? -1 : (int)n_chunk;
}

static int cmp_view(const void *a, const void *b) {
    return strcmp(((const lrq_imatrix_entry *)a)->name, ((const lrq_imatrix_entry *)b)->name);
}

int lrq_imatrix_calc_export(lrq_imatrix_calc *c, int32_t chunk_size, const char *const *datasets,
                            int32_t n_datasets, lrq_imatrix *im) {
    memset(im, 0, sizeof *im);
    if (lrq_imatrix_calc_status(c)) return -1;
    if (chunk_size < 1) return lrq_err_set("imatrix: chunk size %d must be >= 1", chunk_size);
    int32_t n = 0;
    size_t cnt_off = 0;
    int64_t max_count = 0;
    for (int32_t i = 0; i < c->n; i++) {
        const calc_entry *e = &c->e[i];
        if (!e->seen) continue;
        const size_t nv = (size_t)e->ne0 * (size_t)e->n_mat;
        for (size_t j = 0; j < nv; j++)
            if (!isfinite(e->sum2[j]))
                return lrq_err_set("imatrix: non-finite sum of squares in '%s' (channel %zu of matrix %zu)", e->name,
                                   j % (size_t)e->ne0, j / (size_t)e->ne0);
        lrq_imatrix_entry *v = &c->view[n++];
        /* the struct's name is not const (an owned copy in loaded matrices); this view never writes it */
        v->name = (char *)(uintptr_t)e->name;
        v->ne0 = e->ne0;
        v->n_mat = e->n_mat;
        v->sum2 = e->sum2;
        v->counts = c->view_counts + cnt_off;
        for (int32_t m = 0; m < e->n_mat; m++) {
            v->counts[m] = (float)e->counts[m]; /* llama-imatrix stores its int64 counts as F32 too */
            if (e->counts[m] > max_count) max_count = e->counts[m];
        }
        cnt_off += (size_t)e->n_mat;
    }
    qsort(c->view, (size_t)n, sizeof *c->view, cmp_view);
    const int64_t chunks = max_count / chunk_size;
    im->n = n;
    im->e = c->view;
    im->chunk_count = chunks > INT32_MAX ? INT32_MAX : (int32_t)chunks;
    im->chunk_size = chunk_size;
    im->n_datasets = n_datasets;
    im->datasets = (char **)(uintptr_t)datasets;
    return 0;
}

/* ---------- the driver (lrq.h) ---------- */

static int check_params(const lrq_imatrix_params *p) {
    if (!p->model || !p->text || !p->out) return lrq_err_set("imatrix: a model, a text and an output are required");
    if (p->n_ctx < DENSE_MIN_ROWS)
        return lrq_err_set("imatrix: context %d: must be >= %d (llama-imatrix skips every dense linear in smaller "
                           "batches)", p->n_ctx, DENSE_MIN_ROWS);
    if (p->n_batch < DENSE_MIN_ROWS)
        return lrq_err_set("imatrix: batch %d: must be >= %d (llama-imatrix skips every dense linear in smaller "
                           "batches)", p->n_batch, DENSE_MIN_ROWS);
    if (p->max_chunks == 0) return lrq_err_set("imatrix: chunks 0: give at least 1 (or < 0 for all)");
    if (p->n_threads < 1) return lrq_err_set("imatrix: threads %d: must be >= 1", p->n_threads);
    return 0;
}

int lrq_imatrix_compute(const lrq_imatrix_params *p, lrq_imatrix_result *r) {
    if (r) memset(r, 0, sizeof *r);
    if (check_params(p)) return -1;
    char *text = NULL;
    size_t len = 0;
    lrq_model *m = NULL;
    lrq_ctx *ctx = NULL;
    lrq_imatrix_calc *c = NULL;
    int32_t *ids = NULL;
    size_t n_ids = 0;
    int rc = -1;
    /* Cheap checks before the model load and the evaluation: the text, then
     * that the output's folder takes a file (a temporary one, removed at once). */
    if (lrq_text_load_prompt(p->text, &text, &len)) goto done;
    {
        lrq_atomic_file af;
        if (lrq_atomic_open(&af, p->out)) goto done;
        lrq_atomic_abort(&af);
    }
    if (lrq_model_load(&m, p->model, p->vocab)) goto done;
    const lrq_vocab *voc = lrq_model_vocab(m);
    if (!voc) {
        lrq_err_set("%s: the model has no tokenizer; give a vocabulary file", p->model);
        goto done;
    }
    /* llama-imatrix: common_tokenize(text, add_special = true, parse_special = false) */
    if (lrq_tokenize(voc, text, len, 1, 0, &ids, &n_ids)) goto done;
    if (n_ids < 2 * (size_t)p->n_ctx) {
        lrq_err_set("%s: %zu tokens; llama-imatrix needs at least %d (twice the context %d)", p->text, n_ids,
                    2 * p->n_ctx, p->n_ctx);
        goto done;
    }
    const int piece_max = p->n_batch < p->n_ctx ? p->n_batch : p->n_ctx;
    if (lrq_ctx_new(&ctx, m, p->n_ctx, piece_max < UBATCH ? piece_max : UBATCH, p->n_threads)) goto done;
    if (lrq_imatrix_calc_new(&c, m, p->process_output)) goto done;
    const int32_t bos = lrq_vocab_add_bos(voc) ? lrq_vocab_bos(voc) : -1;
    if (p->log) {
        const size_t nc = n_ids / (size_t)p->n_ctx;
        fprintf(p->log, "imatrix: %s: %zu bytes, %zu tokens, %zu chunks of %d%s\n", p->text, len, n_ids, nc,
                p->n_ctx, p->max_chunks > 0 && (size_t)p->max_chunks < nc ? " (--chunks limits them)" : "");
    }
    const double t0 = now_sec();
    const int n_chunks = lrq_imatrix_calc_run(c, ctx, ids, n_ids, p->n_ctx, p->n_batch, p->max_chunks, bos,
                                              p->progress, p->ud);
    if (n_chunks < 0) goto done;
    const double secs = now_sec() - t0;
    const char *dataset = p->dataset ? p->dataset : p->text;
    lrq_imatrix im;
    if (lrq_imatrix_calc_export(c, p->n_ctx, &dataset, 1, &im)) goto done;
    int n_partial = 0;
    for (int32_t i = 0; i < im.n; i++) {
        int zeros = 0;
        for (int32_t k = 0; k < im.e[i].n_mat; k++) zeros += im.e[i].counts[k] == 0;
        if (zeros) {
            n_partial++;
            if (p->log)
                fprintf(p->log, "imatrix: warning: entry '%s' has partial data (%.2f%%): %d of %d experts never "
                                "routed to\n", im.e[i].name, 100.0 * (im.e[i].n_mat - zeros) / im.e[i].n_mat,
                        zeros, im.e[i].n_mat);
        }
    }
    if (lrq_imatrix_save(&im, p->out)) goto done;
    if (r) {
        r->n_tokens = n_ids;
        r->n_chunks = n_chunks;
        r->chunk_count = im.chunk_count;
        r->n_entries = im.n;
        r->n_partial = n_partial;
        r->seconds = secs;
        r->tokens_per_sec = secs > 0 ? (double)n_chunks * p->n_ctx / secs : 0;
    }
    rc = 0;
done:
    lrq_imatrix_calc_free(c);
    lrq_ctx_free(ctx);
    lrq_model_free(m);
    free(ids);
    free(text);
    return rc;
}
