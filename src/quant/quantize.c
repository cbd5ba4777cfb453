/* quantize.c — lrq_quantize (lrq.h), behind `lrq quantize`: a model in,
 * a GGUF out with llama-quantize's per-tensor types (quant/preset.c), user
 * rules (quant/recipe.c), the bytes from lrq_quantize_rows (fmt/quantize.h).
 *
 * Plan, then write. Every tensor's type is decided and checked (writable by
 * lrq_quantize_rows, source convertible to F32, re-quantizing allowed)
 * before the output is created, so a bad request leaves nothing behind.
 *
 * Memory. The GGUF writer asks for each tensor's bytes at its turn
 * (lrq_gguf_writer_add_tensor_fill), so only one tensor is in flight, and
 * that one in slabs of rows (at most SLAB_BYTES of F32 plus its output): the
 * resident set is a few slabs, whatever the model size. The source stays
 * memory-mapped; pages of a tensor already written are dropped from this
 * process's mapping (madvise DONTNEED: they stay in the page cache, but no
 * longer count in its resident set), otherwise reading a 15 GB model would
 * show a 15 GB resident set.
 *
 * Threads: the rows of a slab are split into contiguous ranges, one per
 * thread; every row is quantized by itself (lrq_quantize_rows is row-wise),
 * and the error sums are kept per row and added in row order afterwards, so
 * output bytes and reported numbers do not depend on the thread count.
 */
#define _DEFAULT_SOURCE
#include "lrq.h"

#include "core/core.h"
#include "core/pool.h"
#include "fmt/quant_imat.h"
#include "fmt/quantize.h"
#include "fmt/types.h"
#include "io/gguf.h"
#include "model/model.h"
#include "model/weights.h"
#include "model/arch.h"
#include "quant/imatrix.h"
#include "quant/meta.h"
#include "quant/preset.h"
#include "quant/recipe.h"
#include "quant/lq_store.h"
#include "quant/gptq.h"
#include "quant/gptq_seq.h"
#include "eval/calib.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SLAB_BYTES ((size_t)32 << 20)   /* F32 values per slab: 32 MiB */
#define COPY_BYTES ((size_t)16 << 20)   /* bytes per copy step of an unchanged tensor */

int lrq_quantize_n_presets(void) { return lrq_preset_count(); }

int lrq_quantize_preset(int i, const char **name, const char **about) {
    const lrq_preset *p = lrq_preset_at(i);
    if (!p) return -1;
    *name = p->name;
    *about = p->about;
    return 0;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---------- the plan ---------- */

typedef struct qt {
    const lrq_tensor *src;
    int type;                 /* output type */
    int fell_back;
    const lrq_recipe_rule *rule;
    size_t out_bytes;
    int64_t nrow, ne0;
    int mapped;               /* src->data is inside the GGUF mapping: pages may be dropped */
    int perm_heads;           /* > 0: rows reordered from rotate-half to interleaved RoPE pairs, per head */
    int convert;              /* 1: converted through F32 (else the bytes are copied) */
    const lrq_imatrix_entry *imat; /* its importance-matrix entry, or NULL (none, or ignored) */
    lrq_lq_spec lq;           /* type is an lq type: its spec (written by quant/lq_store.c) */
} qt;

typedef struct job {
    const lrq_quantize_params *p;
    qt *t;
    int n;
    lrq_pool *pool;
    lrq_quantize_result *res;
    size_t page;
    /* slab buffers, sized for the largest tensor's slab */
    float *x;
    uint8_t *y;
    double *e2, *w2;          /* per-row sums of squared error / squared weight */
    float *scratch;           /* n_threads rows of dequantized output */
    int64_t scratch_row;
    const lrq_imatrix *im;    /* --imatrix, or NULL */
    float *qw;                /* [ne2][ne0] importance weights of the tensor being written */
    size_t qw_cap;            /* floats allocated in qw */
    const lrq_lq_spec *base_lq; /* TYPE "lq:SPEC": every quantizable matrix but token_embd gets it */
    lrq_lq_store *lq_store;
    struct lq_src *lq_src;      /* [n]: the source of each lq tensor */
    int *widx;                  /* writer tensor index -> index into t (lq companions make them differ) */
    /* method gptq (recipe): every lq matrix by GPTQ with its Hessian from the calibration pass */
    int gptq;
    lrq_gptq_opts gopts;
    lrq_calib *calib;
    lrq_gptq_job *seq;          /* gptq-sequential: the matrices quantized before writing, [n_seq] */
    int n_seq;
} job;

static int cmp_order(const void *a, const void *b) {
    const qt *x = a, *y = b;
    return lrq_preset_order(x->src->name, y->src->name);
}

static int is_block(int type) { return type != LRQ_TYPE_F32 && type != LRQ_TYPE_F16 && type != LRQ_TYPE_BF16; }

static void logw(const lrq_quantize_params *p, const char *fmt, const char *a, const char *b, const char *c) {
    if (!p->log) return;
    fprintf(p->log, "lrq quantize: warning: ");
    fprintf(p->log, fmt, a, b, c);
    fputc('\n', p->log);
}

/* Decide every tensor's type (in output order, as the preset's counters need). */
static int plan(job *jb, const lrq_model *m, const lrq_preset *preset, lrq_recipe *rc, int pure, int qnorms,
                int has_imat) {
    const lrq_quantize_params *p = jb->p;
    const lrq_weights *w = m->w;
    const char **names = lrq_malloc((size_t)w->n_tensors * sizeof *names + 1);
    if (!names) return -1;
    for (int i = 0; i < jb->n; i++) names[i] = jb->t[i].src->name;
    lrq_model_info info;
    lrq_model_get_info(m, &info);
    lrq_preset_model pm = { .arch = info.arch, .n_layer = info.n_layer, .n_head = info.n_head,
                            .n_head_kv = info.n_head_kv, .n_expert = info.n_expert, .has_imatrix = has_imat };
    lrq_preset_state st;
    lrq_preset_state_init(&st, &pm, names, (size_t)jb->n);
    free(names);
    const char *path = w->path;
    for (int i = 0; i < jb->n; i++) {
        qt *t = &jb->t[i];
        const lrq_tensor *s = t->src;
        t->ne0 = s->ne[0];
        t->nrow = s->ne[1] * s->ne[2] * s->ne[3];
        int quantizable = lrq_tensor_quantizable(s->name, s->n_dims);
        lrq_recipe_rule *u = lrq_recipe_match(rc, s->name);
        int type;
        if (quantizable) {
            int forced = u ? u->type : -1;
            if (!u && jb->base_lq && strcmp(s->name, "token_embd.weight")) forced = lrq_type_lq(jb->base_lq->bits);
            if (forced >= 0 && lrq_type_lq_bits(forced)) {
                type = forced; /* no preset mix nor fallback: the spec's group either fits or is refused below */
                t->lq = u ? u->lq : *jb->base_lq;
            } else {
                type = lrq_preset_tensor_type(&st, preset, s->name, t->ne0, !pure, forced, &t->fell_back);
            }
            if (type < 0) return lrq_err_prefix("%s", path);
            t->rule = u;
        } else if (u && lrq_tensor_is_norm_or_router(s->name)) {
            if (!qnorms) {
                if (!u->used)
                    logw(p, "rule '%s' (%s) matches %s, which stays as it is (norms and the MoE router are kept "
                         "unless quantize-norms is given)", u->pattern, u->where, s->name);
                type = s->type;
            } else {
                type = u->type;
                if (is_block(type)) {
                    type = lrq_type_fallback(type, t->ne0);
                    if (type < 0) return lrq_err_prefix("%s: tensor '%s'", path, s->name);
                    t->fell_back = type != u->type;
                }
                char tn[32];
                snprintf(tn, sizeof tn, "%s", lrq_type_name(type));
                logw(p, "%s is a norm or the MoE router; quantize-norms: writing it as %s (rule %s)", s->name, tn,
                     u->where);
                t->rule = u;
            }
        } else if (w->gguf) {
            type = s->type; /* as llama-quantize: what it does not quantize it copies */
        } else {
            type = LRQ_TYPE_F32; /* as llama.cpp's converter writes norms, biases and the router */
        }
        if (t->rule) ((lrq_recipe_rule *)t->rule)->used++;
        if (lrq_type_lq_bits(type)) {
            uint64_t lb;
            int32_t g;
            if (t->rule && !quantizable) t->lq = t->rule->lq;
            if (s->n_dims != 2 || !quantizable)
                return lrq_err_set("%s: tensor '%s': lq types are for matrices (not norms, biases or expert stacks)",
                                   path, s->name);
            if (!strcmp(s->name, "token_embd.weight"))
                return lrq_err_set("%s: tensor 'token_embd.weight': lq types cannot hold embeddings (rows are "
                                   "looked up, not multiplied)", path);
            if (lrq_lq_spec_group(&t->lq, t->ne0, &g) || lrq_lq_bytes(&t->lq, t->ne0, t->nrow, &lb) ||
                lb > SIZE_MAX)
                return lrq_err_prefix("%s: tensor '%s'", path, s->name);
            t->type = type;
            t->convert = 1;
            t->out_bytes = (size_t)lb; /* codes and companions */
            continue;
        }
        t->type = type;
        t->convert = type != s->type || t->perm_heads > 0;
        size_t rs;
        if (lrq_row_size(type, t->ne0, &rs) || lrq_mul_size(rs, (size_t)t->nrow, &t->out_bytes))
            return lrq_err_set("%s: tensor '%s': %s rows of %" PRId64 " values do not fit", path, s->name,
                               lrq_type_name(type), t->ne0);
    }
    jb->res->n_fallback = st.n_fallback;
    return 0;
}

/* llama-quantize's types that it refuses to write without importance
 * weights (tensor_requires_imatrix; token_embd and output never need them). */
static int needs_imatrix(int type, const char *name) {
    int c = lrq_tensor_category(name);
    if (c == LRQ_TCAT_TOKEN_EMBD || c == LRQ_TCAT_OUTPUT) return 0;
    return type == LRQ_TYPE_IQ3_XXS || type == LRQ_TYPE_IQ2_XXS || type == LRQ_TYPE_IQ2_XS ||
           type == LRQ_TYPE_IQ2_S || type == LRQ_TYPE_IQ1_M || type == LRQ_TYPE_IQ1_S;
}

/* Everything that could fail while writing, checked before the output
 * exists; also attaches each tensor's importance-matrix entry, as
 * llama-quantize picks it: by the tensor's name; none found: quantized
 * without (a warning); a size other than ne0 x ne2 values: an error,
 * except for token_embd, which is then quantized without. */
static int check_plan(job *jb, const char *path, int allow_requantize, const char *imatrix) {
    const lrq_quantize_params *p = jb->p;
    for (int i = 0; i < jb->n; i++) {
        qt *t = &jb->t[i];
        const lrq_tensor *s = t->src;
        if (!t->convert) continue; /* copied unchanged */
        const lrq_type_traits *st = lrq_type_get(s->type);
        if (!st || !st->to_float)
            return lrq_err_set("%s: tensor '%s': lrq cannot read type %s as F32", path, s->name,
                               lrq_type_name(s->type));
        if (lrq_type_lq_bits(t->type)) continue; /* quant/lq_quant.c takes any F32 matrix */
        if (is_block(s->type) && t->type != s->type && !allow_requantize)
            return lrq_err_set("%s: tensor '%s' is %s already: re-quantizing to %s loses more than quantizing the "
                               "original weights once (--allow-requantize to do it anyway)", path, s->name,
                               lrq_type_name(s->type), lrq_type_name(t->type));
        if (jb->im) {
            const lrq_imatrix_entry *e = lrq_imatrix_find(jb->im, s->name);
            if (!e) {
                logw(p, "--imatrix %s: no entry for %s: quantized without importance weights%s", imatrix, s->name,
                     "");
            } else if ((uint64_t)e->ne0 * (uint64_t)e->n_mat != (uint64_t)s->ne[0] * (uint64_t)s->ne[2] ||
                       s->ne[3] != 1) {
                if (lrq_tensor_category(s->name) != LRQ_TCAT_TOKEN_EMBD)
                    return lrq_err_set("--imatrix %s: entry '%s' has %lld x %d values, the tensor needs %lld x %lld",
                                       imatrix, s->name, (long long)e->ne0, (int)e->n_mat, (long long)s->ne[0],
                                       (long long)s->ne[2]);
                logw(p, "--imatrix %s: the entry for %s does not fit its shape: quantized without importance "
                     "weights%s", imatrix, s->name, "");
            } else {
                t->imat = e;
            }
        }
        if (!t->imat && needs_imatrix(t->type, s->name))
            return lrq_err_set("tensor '%s': type %s needs an importance matrix%s (--imatrix FILE)", s->name,
                               lrq_type_name(t->type), jb->im ? " entry for it" : "");
        /* lrq_quantize_rows on zero rows checks the type, the row length and
         * the importance-matrix support, and says what is missing. */
        static const float dummy_imat[1];
        if (lrq_quantize_rows(t->type, NULL, NULL, 0, t->ne0, t->imat ? dummy_imat : NULL))
            return lrq_err_prefix("tensor '%s'", s->name);
    }
    return 0;
}

/* The importance weights of every matrix of tensor t into jb->qw
 * ([ne2][ne0], as llama-quantize slices its flat per-entry array), or
 * NULL when it has none. */
static const float *tensor_weights(job *jb, const qt *t) {
    const lrq_imatrix_entry *e = t->imat;
    if (!e) return NULL;
    size_t n = (size_t)e->ne0 * (size_t)e->n_mat; /* = ne0 * ne2, checked by check_plan */
    if (n > jb->qw_cap) {
        float *q = realloc(jb->qw, n * sizeof(float));
        if (!q) {
            lrq_err_set("out of memory (%zu importance weights)", n);
            return NULL;
        }
        jb->qw = q;
        jb->qw_cap = n;
    }
    for (int32_t m = 0; m < e->n_mat; m++)
        if (lrq_imatrix_weights(e, m, jb->qw + (size_t)m * (size_t)e->ne0)) return NULL;
    return jb->qw;
}

/* ---------- writing ---------- */

typedef struct slab_task {
    job *jb;
    const qt *t;
    const uint8_t *base;      /* the source tensor */
    int64_t r0;               /* first row of the slab */
    size_t src_rs, dst_rs;
    int64_t nrow;
    const float *qw;          /* the slab's importance weights (ne0 of them; one expert's), or NULL */
    int err;                  /* set by a failing thread */
    char msg[256];
} slab_task;

/* The source row of output row r. A Hugging Face llama/deepseek checkpoint
 * pairs RoPE dimensions as (i, i + d/2) ("rotate half"), llama.cpp's GGUF
 * for these architectures as (2i, 2i + 1): llama.cpp's converter reorders
 * the rows of attn_q / attn_k inside each head, GGUF row 2j + i taking HF
 * row i * d/2 + j; so does this. */
static int64_t src_row(const qt *t, int64_t r) {
    if (t->perm_heads <= 0) return r;
    int64_t hd = t->src->ne[1] / t->perm_heads, mat = r / t->src->ne[1], rr = r % t->src->ne[1];
    int64_t h = rr / hd, rem = rr % hd, j = rem / 2, i = rem % 2;
    return mat * t->src->ne[1] + h * hd + i * (hd / 2) + j;
}

static void slab_run(void *arg, int ith, int nth) {
    slab_task *k = arg;
    job *jb = k->jb;
    const qt *t = k->t;
    long lo, hi;
    lrq_split((long)k->nrow, ith, nth, &lo, &hi);
    if (lo >= hi) return;
    const int64_t n = t->ne0;
    const lrq_type_traits *ts = lrq_type_get(t->src->type), *td = lrq_type_get(t->type);
    float *x = jb->x + (size_t)lo * (size_t)n;
    for (long r = lo; r < hi; r++) {
        int64_t sr = src_row(t, k->r0 + r);
        ts->to_float(k->base + (size_t)sr * k->src_rs, jb->x + (size_t)r * (size_t)n, n);
    }
    if (lrq_quantize_rows(t->type, x, jb->y + (size_t)lo * k->dst_rs, hi - lo, n, k->qw)) {
        k->err = 1;
        snprintf(k->msg, sizeof k->msg, "%s", lrq_last_error());
        return;
    }
    float *d = jb->scratch + (size_t)ith * (size_t)jb->scratch_row;
    /* every writable type can be read back (its traits row has to_float): the error columns */
    void (*back)(const void *, float *, int64_t) = td->to_float;
    if (!back) {
        k->err = 1;
        snprintf(k->msg, sizeof k->msg, "type %s has no dequantizer for the error statistics", td->name);
        return;
    }
    for (long r = lo; r < hi; r++) {
        back(jb->y + (size_t)r * k->dst_rs, d, n);
        const float *xr = jb->x + (size_t)r * (size_t)n;
        double e2 = 0, w2 = 0;
        for (int64_t j = 0; j < n; j++) {
            double e = (double)d[j] - (double)xr[j];
            e2 += e * e;
            w2 += (double)xr[j] * (double)xr[j];
        }
        jb->e2[r] = e2;
        jb->w2[r] = w2;
    }
}

/* ---------- lq tensors (quant/lq_store.c writes them) ---------- */

typedef struct lq_src {
    job *jb;
    const qt *t;
    int index;
    double t0;
} lq_src;

/* The whole source matrix as F32 (lq quantizes a tensor at once). */
static int lq_rows(void *ud, float *x) {
    lq_src *ls = ud;
    const qt *t = ls->t;
    const lrq_type_traits *ts = lrq_type_get(t->src->type);
    size_t rs;
    if (lrq_row_size(t->src->type, t->ne0, &rs)) return lrq_err_set("bad row size");
    ls->t0 = now_s();
    for (int64_t r = 0; r < t->nrow; r++)
        ts->to_float((const uint8_t *)t->src->data + (size_t)src_row(t, r) * rs, x + (size_t)r * (size_t)t->ne0,
                     t->ne0);
    return 0;
}

static void lq_done(void *ud, const lrq_lq_qt *q, const float *x) {
    lq_src *ls = ud;
    const qt *t = ls->t;
    const lrq_quantize_params *p = ls->jb->p;
    double e2 = 0, w2 = 0;
    float *d = ls->jb->scratch;
    for (int64_t r = 0; r < q->nrow; r++) {
        lrq_lq_dequant_row(q, r, d);
        const float *xr = x + (size_t)r * (size_t)q->ne0;
        for (int64_t j = 0; j < q->ne0; j++) {
            const double e = (double)d[j] - (double)xr[j];
            e2 += e * e;
            w2 += (double)xr[j] * (double)xr[j];
        }
    }
    const uint64_t nel = (uint64_t)t->nrow * (uint64_t)t->ne0;
    lrq_quant_tensor rep = { .name = t->src->name, .n_dims = t->src->n_dims, .src_type = t->src->type,
                             .type = t->type, .bytes = t->out_bytes, .quantized = 1,
                             .rule = t->rule ? t->rule->where : NULL,
                             .rmse = nel ? sqrt(e2 / (double)nel) : 0, .rel_err = w2 > 0 ? sqrt(e2 / w2) : 0,
                             .bpw = nel ? (double)t->out_bytes * 8.0 / (double)nel : 0 };
    memcpy(rep.ne, t->src->ne, sizeof rep.ne);
    if (p->progress) p->progress(p->ud, ls->index, ls->jb->n, t->nrow, t->nrow);
    rep.seconds = now_s() - ls->t0;
    if (p->tensor_done) p->tensor_done(p->ud, ls->index, ls->jb->n, &rep);
}

/* method gptq: the lq store's quantizer. Every lq matrix was calibrated
 * (gptq_calibrate checked it), so each has its Hessian. */
static int lq_quant_gptq(void *ud, const lrq_lq_spec *s, const float *x, int64_t ne0, int64_t rows, const float *imp,
                         uint64_t seed, lrq_pool *pool, lrq_lq_qt *out) {
    (void)imp; /* GPTQ weighs errors by the whole Hessian, not by its diagonal */
    lq_src *ls = ud;
    job *jb = ls->jb;
    const char *name = ls->t->src->name;
    for (int i = 0; i < jb->n_seq; i++)
        if (!strcmp(jb->seq[i].t->name, name)) { /* sequential: quantized already; hand it over */
            *out = jb->seq[i].q;
            memset(&jb->seq[i].q, 0, sizeof jb->seq[i].q);
            return 0;
        }
    const lrq_calib_entry *e = lrq_calib_find(jb->calib, name, -1);
    if (!e) return lrq_err_set("gptq: no calibration statistics for '%s'", name);
    lrq_gptq_report rep;
    if (lrq_gptq_quantize(s, x, ne0, rows, e->H, &jb->gopts, seed, pool, out, &rep)) return -1;
    if (rep.damp > jb->gopts.damp && jb->p->log)
        fprintf(jb->p->log, "lrq quantize: warning: gptq: %s: the Hessian needed damping %g (not %g) to factorise\n",
                name, rep.damp, jb->gopts.damp);
    return 0;
}

/* method gptq, before anything is written: the options, every lq spec
 * usable by GPTQ, no llama.cpp block type among the quantized matrices
 * (GPTQ writes lq only: a silent round-to-nearest tensor would mislead). */
static int gptq_plan(job *jb, const lrq_recipe *rc, const char *recipe) {
    if (!rc->calib_text) return lrq_err_set("%s: method gptq needs a calibration text ('calib-text FILE')", recipe);
    lrq_gptq_opts o = lrq_gptq_defaults();
    if (rc->gptq_damp >= 0) o.damp = rc->gptq_damp;
    if (rc->gptq_block > 0) o.block = rc->gptq_block;
    if (rc->gptq_act_order >= 0) o.act_order = rc->gptq_act_order;
    if (rc->gptq_static_groups >= 0) o.static_groups = rc->gptq_static_groups;
    if (rc->gptq_importance >= 0) o.importance = rc->gptq_importance;
    int n = 0;
    for (int i = 0; i < jb->n; i++) {
        const qt *t = &jb->t[i];
        const char *name = t->src->name;
        if (!t->convert) continue;
        if (lrq_type_lq_bits(t->type)) {
            if (lrq_gptq_check(&t->lq, &o)) return lrq_err_prefix("%s: tensor '%s'", recipe, name);
            n++;
        } else if (is_block(t->type) && lrq_tensor_quantizable(name, t->src->n_dims) &&
                   strcmp(name, "token_embd.weight")) {
            /* token_embd is a table the forward pass looks rows up in, not a linear with calibrated inputs:
             * it has no Hessian, so any type it is given is written by that type's own quantizer */
            return lrq_err_set("%s: tensor '%s': method gptq writes lq types only, and this tensor is %s (give it an "
                               "lq:SPEC rule, or f16/bf16/f32 to leave it unquantized)", recipe, name,
                               lrq_type_name(t->type));
        }
    }
    if (!n) return lrq_err_set("%s: method gptq, but no tensor is an lq type (base lq:SPEC or lq rules)", recipe);
    jb->gptq = 1;
    jb->gopts = o;
    return 0;
}

static int gptq_select(void *ud, const char *name, int64_t n_in, int32_t n_mat) {
    const job *jb = ud;
    (void)n_in;
    for (int i = 0; i < jb->n; i++)
        if (!strcmp(jb->t[i].src->name, name)) return n_mat == 1 && lrq_type_lq_bits(jb->t[i].type);
    return 0;
}

/* gptq-sequential: every lq matrix quantized before writing, layer by
 * layer on the partly quantized model (quant/gptq_seq.h). */
static int gptq_run_sequential(job *jb, lrq_model *m, const lrq_calib_params *cp) {
    if (!(jb->seq = lrq_calloc((size_t)jb->n + 1, sizeof *jb->seq))) return -1;
    for (int i = 0; i < jb->n; i++) {
        const qt *t = &jb->t[i];
        if (!lrq_type_lq_bits(t->type)) continue;
        if (t->perm_heads > 0)
            return lrq_err_set("tensor '%s': gptq-sequential cannot reorder the rows of Hugging Face q/k "
                               "projections; convert the model to GGUF first", t->src->name);
        lrq_gptq_job *g = &jb->seq[jb->n_seq++];
        g->t = &m->w->tensors[t->src - m->w->tensors];
        g->spec = t->lq;
        g->seed = lrq_lq_name_seed(t->src->name);
    }
    if (lrq_gptq_sequential(m, jb->seq, jb->n_seq, cp, &jb->gopts, jb->pool, jb->p->log)) {
        jb->n_seq = 0;
        return -1;
    }
    return 0;
}

/* The one-shot calibration pass: the unquantized model on the recipe's
 * text, a Hessian for every lq matrix. */
static int gptq_calibrate(job *jb, lrq_model *m, const lrq_recipe *rc) {
    const lrq_quantize_params *p = jb->p;
    lrq_calib_params cp = { .text = rc->calib_text, .n_ctx = rc->calib_ctx > 0 ? rc->calib_ctx : 512,
                            .max_chunks = rc->calib_chunks, .n_threads = p->n_threads, .log = p->log };
    if (rc->gptq_sequential == 1) return gptq_run_sequential(jb, m, &cp);
    if (lrq_calib_new(&jb->calib, m, gptq_select, jb)) return -1;
    lrq_calib_summary cs;
    if (lrq_calib_collect(jb->calib, m, &cp, &cs)) return -1;
    for (int i = 0; i < jb->n; i++) {
        const qt *t = &jb->t[i];
        if (!lrq_type_lq_bits(t->type)) continue;
        const lrq_calib_entry *e = lrq_calib_find(jb->calib, t->src->name, -1);
        if (!e || e->n_tok == 0)
            return lrq_err_set("%s: tensor '%s': the calibration pass never reached it (not a linear lrq runs?)",
                               rc->calib_text, t->src->name);
    }
    if (p->log)
        fprintf(p->log, "calib: %d chunks in %.1f s, %.1f MiB of statistics\n", cs.n_chunks, cs.seconds,
                (double)cs.bytes / (1024.0 * 1024.0));
    return 0;
}

/* Drop the pages of [p, p + n) from this process's mapping (they stay in
 * the page cache). Only for read-only file mappings: there it is harmless. */
static void drop_pages(const job *jb, const void *p, size_t n) {
    if (!n) return;
    uintptr_t a = (uintptr_t)p, e = a + n;
    a = (a + jb->page - 1) / jb->page * jb->page; /* whole pages inside the range only */
    e = e / jb->page * jb->page;
    if (e > a) (void)madvise((void *)a, e - a, MADV_DONTNEED);
}

static int fill(void *ud, size_t windex, lrq_gguf_sink *sink) {
    job *jb = ud;
    const size_t index = (size_t)jb->widx[windex];
    const qt *t = &jb->t[index];
    const lrq_tensor *s = t->src;
    const lrq_quantize_params *p = jb->p;
    double t0 = now_s();
    lrq_quant_tensor rep = { .name = s->name, .n_dims = s->n_dims, .src_type = s->type, .type = t->type,
                             .bytes = t->out_bytes, .fell_back = t->fell_back,
                             .rule = t->rule ? t->rule->where : NULL };
    memcpy(rep.ne, s->ne, sizeof rep.ne);
    uint64_t nel = (uint64_t)t->nrow * (uint64_t)t->ne0;
    if (!t->convert) {
        const uint8_t *b = s->data;
        size_t rs = t->nrow ? s->nbytes / (size_t)t->nrow : s->nbytes;
        size_t step = rs ? (COPY_BYTES / rs ? COPY_BYTES / rs : 1) * rs : COPY_BYTES;
        for (size_t off = 0; off < t->out_bytes; off += step) {
            size_t k = t->out_bytes - off < step ? t->out_bytes - off : step;
            if (lrq_gguf_sink_put(sink, b + off, k)) return -1;
            if (t->mapped) drop_pages(jb, b + off, k);
            if (p->progress && rs) p->progress(p->ud, (int)index, jb->n, (int64_t)((off + k) / rs), t->nrow);
        }
    } else {
        size_t src_rs, dst_rs;
        if (lrq_row_size(s->type, t->ne0, &src_rs) || lrq_row_size(t->type, t->ne0, &dst_rs))
            return lrq_err_set("tensor '%s': bad row size", s->name);
        int64_t per_expert = s->ne[1]; /* rows of one expert (of one 2-D slice) */
        const float *qw = tensor_weights(jb, t);
        if (t->imat && !qw) return lrq_err_prefix("tensor '%s'", s->name);
        int64_t slab = (int64_t)(SLAB_BYTES / sizeof(float) / (size_t)t->ne0);
        if (slab < 1) slab = 1;
        double e2 = 0, w2 = 0;
        for (int64_t r0 = 0; r0 < t->nrow;) {
            /* a slab never crosses an expert's boundary (each expert would
             * have its own importance weights) */
            int64_t nr = t->nrow - r0;
            if (nr > slab) nr = slab;
            if (nr > per_expert - r0 % per_expert) nr = per_expert - r0 % per_expert;
            slab_task k = { .jb = jb, .t = t, .base = s->data, .r0 = r0, .src_rs = src_rs, .dst_rs = dst_rs,
                            .nrow = nr, .qw = qw ? qw + (size_t)(r0 / per_expert) * (size_t)t->ne0 : NULL };
            lrq_pool_run(jb->pool, slab_run, &k);
            if (k.err) return lrq_err_set("tensor '%s': %s", s->name, k.msg);
            for (int64_t r = 0; r < nr; r++) {
                e2 += jb->e2[r];
                w2 += jb->w2[r];
            }
            if (lrq_gguf_sink_put(sink, jb->y, (size_t)nr * dst_rs)) return -1;
            if (t->mapped) drop_pages(jb, (const uint8_t *)s->data + (size_t)r0 * src_rs, (size_t)nr * src_rs);
            r0 += nr;
            if (p->progress) p->progress(p->ud, (int)index, jb->n, r0, t->nrow);
        }
        rep.quantized = 1;
        rep.rmse = nel ? sqrt(e2 / (double)nel) : 0;
        rep.rel_err = w2 > 0 ? sqrt(e2 / w2) : 0;
    }
    rep.bpw = nel ? (double)t->out_bytes * 8.0 / (double)nel : 0;
    rep.seconds = now_s() - t0;
    if (p->tensor_done) p->tensor_done(p->ud, (int)index, jb->n, &rep);
    return 0;
}

/* ---------- metadata ---------- */

/* llama-quantize copies every key, drops the split keys, and sets
 * general.quantization_version and general.file_type — which its GGUF
 * library does by removing the key and appending it, so both end up last. */
static int copy_metadata(lrq_gguf_writer *w, const lrq_gguf *g, int64_t ftype) {
    for (int64_t i = 0; i < lrq_gguf_n_kv(g); i++) {
        const lrq_gguf_kv *kv = lrq_gguf_kv_at(g, i);
        if (!strcmp(kv->key, "general.quantization_version") || !strcmp(kv->key, "general.file_type") ||
            !strcmp(kv->key, "split.no") || !strcmp(kv->key, "split.count") ||
            !strcmp(kv->key, "split.tensors.count"))
            continue;
        if (lrq_gguf_writer_set(w, kv->key, &kv->val)) return lrq_err_prefix("%s", lrq_gguf_path(g));
    }
    if (lrq_gguf_writer_set_u32(w, "general.quantization_version", 2)) return -1;
    return lrq_gguf_writer_set_u32(w, "general.file_type", (uint32_t)ftype);
}

/* The keys llama-quantize adds after general.file_type when given an
 * importance matrix: the path as given and the first dataset (each cut to
 * 127 bytes, its fixed-size override buffer), the entry count, and the
 * chunk count when positive. */
static int imatrix_metadata(lrq_gguf_writer *w, const lrq_imatrix *im, const char *path) {
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    if (lrq_gguf_writer_set_str(w, "quantize.imatrix.file", buf)) return -1;
    if (im->n_datasets > 0) {
        snprintf(buf, sizeof buf, "%s", im->datasets[0]);
        if (lrq_gguf_writer_set_str(w, "quantize.imatrix.dataset", buf)) return -1;
    }
    if (lrq_gguf_writer_set_u32(w, "quantize.imatrix.entries_count", (uint32_t)im->n)) return -1;
    if (im->chunk_count > 0 && lrq_gguf_writer_set_u32(w, "quantize.imatrix.chunks_count", (uint32_t)im->chunk_count))
        return -1;
    return 0;
}

/* ---------- the entry point ---------- */

/* 1 when the loaded q/k rows are in rotate-half order but the output
 * architecture's GGUF wants interleaved pairs (HF llama / deepseek). */
static int rope_reorder(const lrq_model *m) {
    const lrq_arch_desc *ad = lrq_arch_get(m->hp.arch);
    return ad && ad->gguf_rope == LRQ_ROPE_NORM && m->hp.rope_kind == LRQ_ROPE_NEOX;
}

/* general.name for a converted model: the last path component, as the
 * converter names a model after its folder. */
static const char *base_name(const char *path) {
    static _Thread_local char buf[256];
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/') n--;
    size_t b = n;
    while (b > 0 && path[b - 1] != '/') b--;
    size_t len = n - b < sizeof buf - 1 ? n - b : sizeof buf - 1;
    memcpy(buf, path + b, len);
    buf[len] = 0;
    return buf;
}

static int setup_rules(lrq_recipe *rc, const lrq_quantize_params *p) {
    for (int i = 0; i < p->n_rules; i++)
        if (lrq_recipe_add_rule_arg(rc, p->rules[i], "--tensor-type")) return -1;
    if (p->recipe_text)
        return lrq_recipe_parse(rc, p->recipe_text, strlen(p->recipe_text), p->recipe ? p->recipe : "recipe");
    if (p->recipe && lrq_recipe_load(rc, p->recipe)) return -1;
    return 0;
}

int lrq_quantize(const lrq_quantize_params *p, lrq_quantize_result *r) {
    double t0 = now_s();
    lrq_types_init();
    if (!p->in || !p->in[0]) return lrq_err_set("no input model");
    if (!p->out || !p->out[0]) return lrq_err_set("no output file");
    if (p->n_threads < 1) return lrq_err_set("thread count %d < 1", p->n_threads);
    if (p->n_rules < 0 || (p->n_rules && !p->rules)) return lrq_err_set("bad rule list");

    lrq_quantize_result res = { 0 };
    lrq_recipe rc;
    lrq_recipe_init(&rc);
    lrq_model *m = NULL;
    lrq_gguf_writer *w = NULL;
    lrq_imatrix *im = NULL;
    job jb = { .p = p, .res = &res };
    int ret = -1;

    if (setup_rules(&rc, p)) goto done;
    const char *tname = p->type ? p->type : rc.base;
    if (!tname) {
        lrq_err_set("no type: give TYPE or a recipe with a 'base' line");
        goto done;
    }
    lrq_lq_spec base_lq;
    if (!strncmp(tname, "lq:", 3)) {
        if (lrq_lq_spec_parse(tname + 3, &base_lq)) goto done;
        jb.base_lq = &base_lq;
        tname = "F16"; /* what is not lq (token_embd) is written as by the F16 preset */
    }
    const lrq_preset *preset = lrq_preset_find(tname);
    if (!preset) {
        lrq_err_set("unknown type or preset '%s' (see lrq quantize --help for the list)", tname);
        goto done;
    }
    int pure = p->pure || rc.pure == 1, qnorms = p->quantize_norms || rc.quantize_norms == 1;

    /* the input must not be the output: the output is renamed over it */
    struct stat si, so;
    if (stat(p->in, &si) == 0 && stat(p->out, &so) == 0 && si.st_dev == so.st_dev && si.st_ino == so.st_ino) {
        lrq_err_set("%s: the output is the input file", p->out);
        goto done;
    }
    if (p->imatrix && lrq_imatrix_load(p->imatrix, &im)) goto done;
    jb.im = im;
    if (lrq_model_load(&m, p->in, p->vocab)) goto done;
    const lrq_weights *wt = m->w;
    if (!wt->gguf && !m->vocab) {
        lrq_err_set("%s: the model has no tokenizer to write into OUT: pass --vocab FILE", p->in);
        goto done;
    }
    jb.n = wt->n_tensors;
    if (!(jb.t = lrq_calloc((size_t)jb.n + 1, sizeof *jb.t))) goto done;
    for (int i = 0; i < jb.n; i++) {
        jb.t[i].src = &wt->tensors[i];
        const lrq_gguf_tensor *gt = wt->gguf ? lrq_gguf_find_tensor(wt->gguf, wt->tensors[i].name) : NULL;
        jb.t[i].mapped = gt && gt->data == wt->tensors[i].data;
        if (!wt->gguf && rope_reorder(m)) {
            const char *nm = wt->tensors[i].name;
            size_t ln = strlen(nm);
            int q = ln > 14 && !strcmp(nm + ln - 14, ".attn_q.weight"), kk = ln > 14 && !strcmp(nm + ln - 14, ".attn_k.weight");
            if (q || kk) {
                int heads = q ? m->hp.n_head : m->hp.n_head_kv;
                if (heads <= 0 || wt->tensors[i].ne[1] % heads || (wt->tensors[i].ne[1] / heads) % 2) {
                    lrq_err_set("%s: tensor '%s': %lld rows are not %d heads of an even size", p->in, nm,
                                (long long)wt->tensors[i].ne[1], heads);
                    goto done;
                }
                jb.t[i].perm_heads = heads;
            }
        }
    }
    qsort(jb.t, (size_t)jb.n, sizeof *jb.t, cmp_order);
    if (plan(&jb, m, preset, &rc, pure, qnorms, im && im->n > 0)) goto done;
    if (check_plan(&jb, p->in, p->allow_requantize, p->imatrix)) goto done;
    for (size_t i = 0; i < rc.n_rules; i++)
        if (!rc.rules[i].used)
            logw(p, "rule '%s' (%s) decided no tensor's type%s", rc.rules[i].pattern, rc.rules[i].where, "");
    if (rc.method == LRQ_METHOD_GPTQ) {
        if (gptq_plan(&jb, &rc, p->recipe ? p->recipe : "recipe")) goto done;
    } else if (rc.gptq_where) {
        logw(p, "%s: calibration/GPTQ settings without 'method gptq' are ignored%s%s", rc.gptq_where, "", "");
    }

    res.n_tensors = jb.n;
    /* no llama ftype describes lq: llama.cpp's LLAMA_FTYPE_GUESSED (1024) */
    const int64_t ftype = jb.base_lq ? 1024 : preset->ftype;
    res.file_type = (int)ftype;
    for (int i = 0; i < jb.n; i++) {
        const qt *t = &jb.t[i];
        uint64_t nel = (uint64_t)t->nrow * (uint64_t)t->ne0;
        res.n_weights += nel;
        res.tensor_bytes += t->out_bytes;
        res.src_tensor_bytes += t->src->nbytes;
        if (t->convert) res.n_quantized++;
        if (lrq_tensor_quantizable(t->src->name, t->src->n_dims)) {
            res.q_weights += nel;
            res.q_bytes += t->out_bytes;
        }
    }

    if (p->dry_run) {
        for (int i = 0; i < jb.n && p->tensor_done; i++) {
            const qt *t = &jb.t[i];
            uint64_t nel = (uint64_t)t->nrow * (uint64_t)t->ne0;
            lrq_quant_tensor rep = { .name = t->src->name, .n_dims = t->src->n_dims, .src_type = t->src->type,
                                     .type = t->type, .bytes = t->out_bytes, .fell_back = t->fell_back,
                                     .quantized = t->convert, .rmse = NAN, .rel_err = NAN,
                                     .rule = t->rule ? t->rule->where : NULL,
                                     .bpw = nel ? (double)t->out_bytes * 8.0 / (double)nel : 0 };
            memcpy(rep.ne, t->src->ne, sizeof rep.ne);
            p->tensor_done(p->ud, i, jb.n, &rep);
        }
        res.seconds = now_s() - t0;
        if (r) *r = res;
        ret = 0;
        goto done;
    }

    /* buffers for the largest slab */
    size_t max_x = 0, max_y = 0;
    int64_t max_rows = 0, max_ne0 = 1;
    for (int i = 0; i < jb.n; i++) {
        const qt *t = &jb.t[i];
        if (!t->convert) continue;
        int64_t slab = (int64_t)(SLAB_BYTES / sizeof(float) / (size_t)t->ne0);
        if (slab < 1) slab = 1;
        if (slab > t->nrow) slab = t->nrow;
        size_t rs;
        lrq_row_size(t->type, t->ne0, &rs);
        if ((size_t)slab * (size_t)t->ne0 > max_x) max_x = (size_t)slab * (size_t)t->ne0;
        if ((size_t)slab * rs > max_y) max_y = (size_t)slab * rs;
        if (slab > max_rows) max_rows = slab;
        if (t->ne0 > max_ne0) max_ne0 = t->ne0;
    }
    jb.scratch_row = max_ne0;
    jb.page = (size_t)sysconf(_SC_PAGESIZE);
    if (!(jb.x = lrq_malloc(max_x * sizeof(float) + 1)) || !(jb.y = lrq_malloc(max_y + 1)) ||
        !(jb.e2 = lrq_malloc((size_t)max_rows * sizeof(double) + 1)) ||
        !(jb.w2 = lrq_malloc((size_t)max_rows * sizeof(double) + 1)) ||
        !(jb.scratch = lrq_malloc((size_t)p->n_threads * (size_t)max_ne0 * sizeof(float))) ||
        !(jb.pool = lrq_pool_new(p->n_threads)) || !(jb.lq_store = lrq_lq_store_new(jb.pool)) ||
        !(jb.lq_src = lrq_calloc((size_t)jb.n + 1, sizeof *jb.lq_src)))
        goto done;

    if (jb.gptq) {
        if (gptq_calibrate(&jb, m, &rc)) goto done;
        lrq_lq_store_set_quantizer(jb.lq_store, lq_quant_gptq);
    }
    if (!(w = lrq_gguf_writer_new())) goto done;
    if (wt->gguf ? copy_metadata(w, wt->gguf, ftype)
                 : lrq_quant_meta_from_model(w, m, base_name(p->in), ftype))
        goto done;
    if (im && imatrix_metadata(w, im, p->imatrix)) goto done;
    /* the writer's tensor index counts the lq companions too: fill looks tensors up by that index */
    if (!(jb.widx = lrq_calloc((size_t)jb.n * LRQ_LQ_N_PARTS + 1, sizeof *jb.widx))) goto done;
    for (int i = 0, wi = 0; i < jb.n; i++) {
        const lrq_tensor *s = jb.t[i].src;
        if (lrq_type_lq_bits(jb.t[i].type)) {
            lq_src *ls = &jb.lq_src[i];
            *ls = (lq_src){ .jb = &jb, .t = &jb.t[i], .index = i };
            lrq_lq_part parts[LRQ_LQ_N_PARTS];
            int np = lrq_lq_layout(&jb.t[i].lq, (uint32_t)s->n_dims, s->ne, parts);
            if (np < 0 || lrq_lq_store_add(jb.lq_store, w, s->name, &jb.t[i].lq, (uint32_t)s->n_dims, s->ne, NULL,
                                           lrq_lq_name_seed(s->name), lq_rows, lq_done, ls))
                goto done;
            wi += np;
            continue;
        }
        jb.widx[wi++] = i;
        if (lrq_gguf_writer_add_tensor_fill(w, s->name, jb.t[i].type, (uint32_t)s->n_dims, s->ne, fill, &jb))
            goto done;
    }
    if (lrq_gguf_writer_write(w, p->out)) goto done;
    struct stat sb;
    if (stat(p->out, &sb) == 0) res.file_bytes = (uint64_t)sb.st_size;
    res.seconds = now_s() - t0;
    if (r) *r = res;
    ret = 0;
done:
    lrq_gguf_writer_free(w);
    lrq_lq_store_free(jb.lq_store);
    lrq_calib_free(jb.calib);
    for (int i = 0; i < jb.n_seq; i++) lrq_lq_qt_free(&jb.seq[i].q);
    free(jb.seq);
    free(jb.lq_src);
    free(jb.widx);
    lrq_pool_free(jb.pool);
    free(jb.x);
    free(jb.y);
    free(jb.e2);
    free(jb.w2);
    free(jb.scratch);
    free(jb.qw);
    free(jb.t);
    lrq_imatrix_free(im);
    lrq_model_free(m);
    lrq_recipe_free(&rc);
    return ret;
}
