/* calib.c — calibration statistics through the linear hooks (eval/calib.h). */
#define _POSIX_C_SOURCE 200809L
#include "eval/calib.h"

#include "core/core.h"
#include "io/text.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef LRQ_USE_ACCELERATE
#include <Accelerate/Accelerate.h>
#else
#include <cblas.h>
#endif

/* llama.cpp's default micro-batch (n_ubatch), which llama-imatrix keeps:
 * a chunk reaches the linears in pieces of at most this many rows. */
#define UBATCH 512

typedef struct tensor_slot {
    const char *name;    /* borrowed from the model */
    int64_t n_in;
    int32_t n_mat;       /* experts in a stack, else 1 */
    int stack;           /* a 3-D expert stack: entries carry expert indices */
    int64_t first;       /* index of its first entry (expert 0) */
} tensor_slot;

struct lrq_calib {
    lrq_calib_entry *e;  /* [n] */
    int64_t n;
    tensor_slot *t;      /* [n_t] the selected tensors */
    int32_t n_t;
    int32_t *slot;       /* [n_slot] open-addressing hash of names -> tensor index, -1 empty */
    uint32_t n_slot;
    float *part;         /* [max_in][max_in] one call's F32 partial Σ x xᵀ */
    int64_t max_in;
    /* The input `part` was made from: q/k/v (and gate/up) get the same x one
     * after the other, so its SYRK is reused when the bytes are equal (a
     * pointer test alone could be fooled by a reused buffer). */
    float *last_x;       /* [UBATCH][max_in] */
    int64_t last_rows, last_in; /* 0: none */
    int has_output;      /* output.weight is selected: the head must see every row */
    size_t bytes;
    lrq_hooks hooks;
    int failed;
    char err[256];
};

static uint32_t name_hash(const char *s) {
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static tensor_slot *find_tensor(const lrq_calib *c, const char *name) {
    for (uint32_t i = name_hash(name) & (c->n_slot - 1);; i = (i + 1) & (c->n_slot - 1)) {
        const int32_t k = c->slot[i];
        if (k < 0) return NULL;
        if (!strcmp(c->t[k].name, name)) return &c->t[k];
    }
}

static void hook_fail(lrq_calib *c, const char *what, const lrq_linear_info *info) {
    if (c->failed) return;
    c->failed = 1;
    snprintf(c->err, sizeof c->err, "calib: linear '%s' (layer %d, expert %d, %lld inputs): %s",
             info->name ? info->name : "?", info->layer, info->expert, (long long)info->n_in, what);
}

static void on_linear_in(void *ud, const lrq_linear_info *info, const float *x, int n_tok) {
    lrq_calib *c = ud;
    if (!info->name || n_tok <= 0 || info->replica != 0) return;
    const tensor_slot *t = find_tensor(c, info->name);
    if (!t) return; /* not selected */
    if (info->n_in != t->n_in) { hook_fail(c, "input width differs from the tensor's rows", info); return; }
    if (info->expert >= t->n_mat || (info->expert < 0) != !t->stack) {
        hook_fail(c, "expert index does not fit the tensor", info);
        return;
    }
    lrq_calib_entry *e = &c->e[t->first + (info->expert < 0 ? 0 : info->expert)];
    const int64_t n = t->n_in;
    /* one F32 SYRK over this call's rows (upper triangle), added into the F64 sums */
    const size_t nx = (size_t)n_tok * (size_t)n;
    if (!(c->last_rows == n_tok && c->last_in == n && !memcmp(c->last_x, x, nx * sizeof *x))) {
        cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)n, n_tok, 1.0f, x, (int)n, 0.0f, c->part, (int)n);
        c->last_rows = c->last_in = 0;
        if (n_tok <= UBATCH) {
            memcpy(c->last_x, x, nx * sizeof *x);
            c->last_rows = n_tok;
            c->last_in = n;
        }
    }
    for (int64_t i = 0; i < n; i++) {
        double *h = e->H + i * n;
        const float *p = c->part + i * n;
        for (int64_t j = i; j < n; j++) h[j] += (double)p[j];
    }
    for (int r = 0; r < n_tok; r++) {
        const float *xr = x + (size_t)r * (size_t)n;
        for (int64_t j = 0; j < n; j++) {
            e->sum2[j] += (double)xr[j] * (double)xr[j];
            const float a = fabsf(xr[j]);
            if (a > e->amax[j]) e->amax[j] = a;
        }
    }
    e->n_tok += n_tok;
}

/* A name the hooks report for a linear: block weights and the output head. */
static int candidate(const lrq_tensor_info *ti) {
    return (ti->n_dims == 2 || ti->n_dims == 3) && ti->ne[3] == 1 &&
           (!strncmp(ti->name, "blk.", 4) || !strcmp(ti->name, "output.weight"));
}

int lrq_calib_new(lrq_calib **out, const lrq_model *m, lrq_calib_select_fn select, void *ud) {
    *out = NULL;
    lrq_calib *c = lrq_calloc(1, sizeof *c);
    if (!c) return -1;
    const int64_t nt = lrq_model_n_tensors(m);
    if (!(c->t = lrq_calloc((size_t)(nt > 0 ? nt : 1), sizeof *c->t))) goto fail;
    size_t need = 0;
    for (int64_t i = 0; i < nt; i++) {
        lrq_tensor_info ti;
        if (lrq_model_tensor_info(m, i, &ti)) goto fail;
        if (!candidate(&ti) || ti.ne[0] < 1 || ti.ne[2] > INT32_MAX) continue;
        const int32_t n_mat = ti.n_dims == 3 ? (int32_t)ti.ne[2] : 1;
        if (select && !select(ud, ti.name, ti.ne[0], n_mat)) continue;
        if (ti.ne[0] > INT32_MAX) {
            lrq_err_set("calib: tensor '%s': %lld inputs is too many for BLAS", ti.name, (long long)ti.ne[0]);
            goto fail;
        }
        tensor_slot *t = &c->t[c->n_t++];
        *t = (tensor_slot){ .name = ti.name, .n_in = ti.ne[0], .n_mat = n_mat, .stack = ti.n_dims == 3, .first = c->n };
        size_t per;
        if (lrq_mul_size((size_t)t->n_in, (size_t)t->n_in * sizeof(double), &per) ||
            lrq_add_size(per, (size_t)t->n_in * (sizeof(double) + sizeof(float)), &per) ||
            lrq_mul_size(per, (size_t)n_mat, &per) || lrq_add_size(need, per, &need)) {
            lrq_err_set("calib: tensor '%s': statistics size overflows", ti.name);
            goto fail;
        }
        c->n += n_mat;
        if (t->n_in > c->max_in) c->max_in = t->n_in;
        if (!strcmp(ti.name, "output.weight")) c->has_output = 1;
    }
    if (!(c->e = lrq_calloc((size_t)(c->n > 0 ? c->n : 1), sizeof *c->e))) goto fail;
    for (int32_t k = 0; k < c->n_t; k++) {
        const tensor_slot *t = &c->t[k];
        const size_t n = (size_t)t->n_in;
        for (int32_t x = 0; x < t->n_mat; x++) {
            lrq_calib_entry *e = &c->e[t->first + x];
            *e = (lrq_calib_entry){ .name = t->name, .expert = t->stack ? x : -1,
                                    .n_in = t->n_in };
            e->H = lrq_calloc(n * n, sizeof *e->H);
            e->sum2 = lrq_calloc(n, sizeof *e->sum2);
            e->amax = lrq_calloc(n, sizeof *e->amax);
            if (!e->H || !e->sum2 || !e->amax) {
                lrq_err_set("calib: out of memory for the statistics of '%s' (%zu bytes in all)", t->name, need);
                goto fail;
            }
        }
    }
    size_t part = (size_t)c->max_in * (size_t)c->max_in * sizeof(float);
    size_t last = (size_t)UBATCH * (size_t)c->max_in * sizeof(float);
    if (c->max_in > 0 && (!(c->part = lrq_malloc(part)) || !(c->last_x = lrq_malloc(last)))) goto fail;
    c->bytes = need + part + last;
    c->n_slot = 16;
    while (c->n_slot < 2u * (uint32_t)c->n_t) c->n_slot *= 2;
    if (!(c->slot = lrq_malloc(sizeof *c->slot * c->n_slot))) goto fail;
    for (uint32_t i = 0; i < c->n_slot; i++) c->slot[i] = -1;
    for (int32_t k = 0; k < c->n_t; k++) {
        uint32_t i = name_hash(c->t[k].name) & (c->n_slot - 1);
        while (c->slot[i] >= 0) i = (i + 1) & (c->n_slot - 1);
        c->slot[i] = k;
    }
    c->hooks = (lrq_hooks){ .ud = c, .linear_in = on_linear_in };
    *out = c;
    return 0;
fail:
    lrq_calib_free(c);
    return -1;
}

void lrq_calib_free(lrq_calib *c) {
    if (!c) return;
    for (int64_t i = 0; i < c->n && c->e; i++) {
        free(c->e[i].H);
        free(c->e[i].sum2);
        free(c->e[i].amax);
    }
    free(c->e);
    free(c->t);
    free(c->slot);
    free(c->part);
    free(c->last_x);
    free(c);
}

size_t lrq_calib_bytes(const lrq_calib *c) { return c->bytes; }
int64_t lrq_calib_n_entries(const lrq_calib *c) { return c->n; }

const lrq_calib_entry *lrq_calib_entry_at(const lrq_calib *c, int64_t i) {
    return i >= 0 && i < c->n ? &c->e[i] : NULL;
}

const lrq_calib_entry *lrq_calib_find(const lrq_calib *c, const char *name, int32_t expert) {
    const tensor_slot *t = find_tensor(c, name);
    if (!t) return NULL;
    if (expert >= t->n_mat || (expert < 0) != !t->stack) return NULL;
    return &c->e[t->first + (expert < 0 ? 0 : expert)];
}

const lrq_hooks *lrq_calib_hooks(lrq_calib *c) { return &c->hooks; }

int lrq_calib_status(const lrq_calib *c) { return c->failed ? lrq_err_set("%s", c->err) : 0; }

static double now_sec(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* tokens[0..n) as pieces of at most UBATCH rows; the output head runs on
 * every row only when it is collected (else on the last one: cheaper). */
static int eval_pieces(lrq_calib *c, lrq_ctx *ctx, const int32_t *tokens, int n) {
    for (int i = 0; i < n; i += UBATCH) {
        const int len = n - i < UBATCH ? n - i : UBATCH;
        if (!lrq_ctx_eval(ctx, tokens + i, len, c->has_output ? 0 : len - 1)) return -1;
        if (lrq_calib_status(c)) return -1;
    }
    return 0;
}

int lrq_calib_run(lrq_calib *c, lrq_ctx *ctx, const int32_t *tokens, size_t n_tok, int n_ctx, int n_batch,
                  int max_chunks, int32_t bos, void (*progress)(void *ud, int done, int total, double seconds),
                  void *ud) {
    if (n_ctx < 1 || n_batch < 1) return lrq_err_set("calib: context %d / batch %d must be >= 1", n_ctx, n_batch);
    size_t n_chunk = n_tok / (size_t)n_ctx;
    if (n_chunk == 0)
        return lrq_err_set("calib: %zu tokens are fewer than one chunk of %d", n_tok, n_ctx);
    if (max_chunks > 0 && (size_t)max_chunks < n_chunk) n_chunk = (size_t)max_chunks;
    if (n_chunk > INT32_MAX) return lrq_err_set("calib: %zu chunks is too many", n_chunk);
    int32_t *chunk = lrq_malloc(sizeof *chunk * (size_t)n_ctx);
    if (!chunk) return -1;
    lrq_ctx_set_hooks(ctx, &c->hooks);
    const double t0 = now_sec();
    int rc = 0;
    for (size_t k = 0; k < n_chunk && !rc; k++) {
        memcpy(chunk, tokens + k * (size_t)n_ctx, sizeof *chunk * (size_t)n_ctx);
        if (bos >= 0) chunk[0] = bos;
        lrq_ctx_reset(ctx);
        const int step = n_batch < n_ctx ? n_batch : n_ctx;
        for (int b = 0; b < n_ctx && !rc; b += step) rc = eval_pieces(c, ctx, chunk + b, n_ctx - b < step ? n_ctx - b : step);
        if (rc) lrq_err_prefix("calib: chunk %zu", k + 1);
        else if (progress) progress(ud, (int)k + 1, (int)n_chunk, now_sec() - t0);
    }
    lrq_ctx_set_hooks(ctx, NULL);
    free(chunk);
    if (rc) return -1;
    for (int64_t i = 0; i < c->n; i++) { /* the SYRKs filled the upper triangles */
        lrq_calib_entry *e = &c->e[i];
        for (int64_t a = 0; a < e->n_in; a++)
            for (int64_t b = a + 1; b < e->n_in; b++) e->H[b * e->n_in + a] = e->H[a * e->n_in + b];
    }
    return (int)n_chunk;
}

/* ---------- the driver ---------- */

typedef struct prog {
    FILE *log;
} prog;

static void log_progress(void *ud, int done, int total, double secs) {
    const prog *pg = ud;
    const double eta = done > 0 ? secs / done * (total - done) : 0.0;
    fprintf(pg->log, "calib: chunk %d/%d, %.1f s, ETA %.1f s\n", done, total, secs, eta);
    fflush(pg->log);
}

int lrq_calib_collect(lrq_calib *c, const lrq_model *m, const lrq_calib_params *p, lrq_calib_summary *s) {
    if (s) memset(s, 0, sizeof *s);
    if (!p->text) return lrq_err_set("calib: no calibration text");
    if (p->n_ctx < 1) return lrq_err_set("calib: context %d must be >= 1", p->n_ctx);
    if (p->max_chunks == 0) return lrq_err_set("calib: chunks 0: give at least 1 (or < 0 for all)");
    if (p->n_threads < 1) return lrq_err_set("calib: threads %d must be >= 1", p->n_threads);
    const int n_batch = p->n_batch > 0 ? p->n_batch : p->n_ctx;
    char *text = NULL;
    size_t len = 0, n_ids = 0;
    int32_t *ids = NULL;
    lrq_ctx *ctx = NULL;
    int rc = -1;
    if (lrq_text_load_prompt(p->text, &text, &len)) {
        lrq_err_prefix("calibration text");
        goto done;
    }
    const lrq_vocab *voc = lrq_model_vocab(m);
    if (!voc) {
        lrq_err_set("calib: the model has no tokenizer to read %s with", p->text);
        goto done;
    }
    /* llama-imatrix: common_tokenize(text, add_special = true, parse_special = false) */
    if (lrq_tokenize(voc, text, len, 1, 0, &ids, &n_ids)) goto done;
    if (n_ids < (size_t)p->n_ctx) {
        lrq_err_set("%s: %zu tokens, fewer than one calibration chunk of %d", p->text, n_ids, p->n_ctx);
        goto done;
    }
    const int piece = n_batch < p->n_ctx ? n_batch : p->n_ctx;
    if (lrq_ctx_new(&ctx, m, p->n_ctx, piece < UBATCH ? piece : UBATCH, p->n_threads)) goto done;
    const int32_t bos = lrq_vocab_add_bos(voc) ? lrq_vocab_bos(voc) : -1;
    const size_t nc = n_ids / (size_t)p->n_ctx;
    const size_t use = p->max_chunks > 0 && (size_t)p->max_chunks < nc ? (size_t)p->max_chunks : nc;
    if (p->log)
        fprintf(p->log, "calib: %s: %zu tokens, %zu chunks of %d (using %zu); %lld entries, %.1f MiB of statistics\n",
                p->text, n_ids, nc, p->n_ctx, use, (long long)c->n, (double)c->bytes / (1024.0 * 1024.0));
    prog pg = { .log = p->log };
    const double t0 = now_sec();
    const int n_chunks = lrq_calib_run(c, ctx, ids, n_ids, p->n_ctx, n_batch, p->max_chunks, bos,
                                       p->log ? log_progress : NULL, &pg);
    if (n_chunks < 0) goto done;
    if (s) {
        s->n_tokens = n_ids;
        s->n_chunks = n_chunks;
        s->bytes = c->bytes;
        s->seconds = now_sec() - t0;
        for (int64_t i = 0; i < c->n; i++) s->n_unreached += c->e[i].expert >= 0 && c->e[i].n_tok == 0;
    }
    rc = 0;
done:
    lrq_ctx_free(ctx);
    free(ids);
    free(text);
    return rc;
}
