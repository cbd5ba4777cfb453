/* gptq_seq.c — sequential GPTQ, layer by layer (quant/gptq_seq.h). */
#define _POSIX_C_SOURCE 200809L
#include "quant/gptq_seq.h"

#include "core/core.h"
#include "fmt/types.h"
#include "model/model.h"

#include <stdlib.h>
#include <string.h>

/* The layer a job belongs to: N of "blk.N.", n_layer for the output head. */
static int job_layer(const lrq_gptq_job *j, int n_layer) {
    const char *s = j->t->name;
    if (strncmp(s, "blk.", 4)) return n_layer;
    char *end;
    long l = strtol(s + 4, &end, 10);
    return *end == '.' && l >= 0 && l < n_layer ? (int)l : -1;
}

typedef struct sel {
    const lrq_gptq_job *jobs;
    int n, layer, n_layer;
} sel;

static int select_layer(void *ud, const char *name, int64_t n_in, int32_t n_mat) {
    const sel *s = ud;
    (void)n_in;
    if (n_mat != 1) return 0;
    for (int i = 0; i < s->n; i++)
        if (!strcmp(s->jobs[i].t->name, name)) return job_layer(&s->jobs[i], s->n_layer) == s->layer;
    return 0;
}

/* The job's tensor as F32 [rows][ne0] (a new buffer). */
static float *tensor_f32(const lrq_tensor *t) {
    const lrq_type_traits *tr = lrq_type_get(t->type);
    size_t rs, nel;
    if (!tr || !tr->to_float || lrq_row_size(t->type, t->ne[0], &rs) ||
        lrq_mul_size((size_t)t->ne[0], (size_t)t->ne[1], &nel)) {
        lrq_err_set("gptq: tensor '%s': cannot read type %s as F32", t->name, lrq_type_name(t->type));
        return NULL;
    }
    float *x = lrq_malloc(nel * sizeof *x + 1);
    if (!x) return NULL;
    for (int64_t r = 0; r < t->ne[1]; r++)
        tr->to_float((const uint8_t *)t->data + (size_t)r * rs, x + (size_t)r * (size_t)t->ne[0], t->ne[0]);
    return x;
}

/* q dequantized into a buffer of t's type (F32, F16 or BF16), for the
 * passes of the layers above. */
static void *dequant_as(const lrq_tensor *t, const lrq_lq_qt *q) {
    const size_t each = t->type == LRQ_TYPE_F32 ? 4 : 2;
    uint8_t *buf = lrq_malloc((size_t)q->nrow * (size_t)q->ne0 * each + 1);
    float *row = lrq_malloc((size_t)q->ne0 * sizeof *row);
    if (!buf || !row) {
        free(buf);
        free(row);
        return NULL;
    }
    for (int64_t r = 0; r < q->nrow; r++) {
        lrq_lq_dequant_row(q, r, row);
        uint8_t *dst = buf + (size_t)r * (size_t)q->ne0 * each;
        for (int64_t j = 0; j < q->ne0; j++) {
            if (t->type == LRQ_TYPE_F32) {
                memcpy(dst + 4 * j, &row[j], 4);
            } else {
                const uint16_t h = t->type == LRQ_TYPE_F16 ? lrq_f32_to_f16(row[j]) : lrq_f32_to_bf16(row[j]);
                memcpy(dst + 2 * j, &h, 2);
            }
        }
    }
    free(row);
    return buf;
}

int lrq_gptq_sequential(lrq_model *m, lrq_gptq_job *jobs, int n, const lrq_calib_params *p, const lrq_gptq_opts *o,
                        struct lrq_pool *pool, FILE *log) {
    const int L = m->hp.n_layer;
    const void **orig = lrq_calloc((size_t)n + 1, sizeof *orig);
    void **deq = lrq_calloc((size_t)n + 1, sizeof *deq);
    int rc = -1;
    if (!orig || !deq) goto done;
    for (int i = 0; i < n; i++) {
        lrq_tensor *t = jobs[i].t;
        memset(&jobs[i].q, 0, sizeof jobs[i].q);
        orig[i] = t->data;
        if (job_layer(&jobs[i], L) < 0 || t->n_dims != 2) {
            lrq_err_set("gptq: tensor '%s' is not a layer's or the head's matrix", t->name);
            goto done;
        }
        if (t->type != LRQ_TYPE_F32 && t->type != LRQ_TYPE_F16 && t->type != LRQ_TYPE_BF16) {
            lrq_err_set("gptq: sequential mode needs F32, F16 or BF16 weights (tensor '%s' is %s): the quantized "
                        "layers are run from their dequantized weights in the source type", t->name,
                        lrq_type_name(t->type));
            goto done;
        }
    }
    for (int layer = 0; layer <= L; layer++) {
        sel s = { .jobs = jobs, .n = n, .layer = layer, .n_layer = L };
        int k = 0;
        for (int i = 0; i < n; i++) k += job_layer(&jobs[i], L) == layer;
        if (!k) continue;
        if (log) fprintf(log, "gptq sequential: %s %d/%d: %d matrices\n", layer < L ? "layer" : "output head",
                         layer < L ? layer + 1 : L + 1, L + 1, k);
        lrq_calib *c = NULL;
        if (lrq_calib_new(&c, m, select_layer, &s) || lrq_calib_collect(c, m, p, NULL)) {
            lrq_calib_free(c);
            goto done;
        }
        for (int i = 0; i < n; i++) {
            if (job_layer(&jobs[i], L) != layer) continue;
            lrq_tensor *t = jobs[i].t;
            const lrq_calib_entry *e = lrq_calib_find(c, t->name, -1);
            if (!e || e->n_tok == 0) {
                lrq_err_set("gptq: tensor '%s': the calibration pass never reached it", t->name);
                lrq_calib_free(c);
                goto done;
            }
            float *w = tensor_f32(t);
            lrq_gptq_report rep;
            int r = !w || lrq_gptq_quantize(&jobs[i].spec, w, t->ne[0], t->ne[1], e->H, o, jobs[i].seed, pool,
                                            &jobs[i].q, &rep);
            free(w);
            if (!r && !(deq[i] = dequant_as(t, &jobs[i].q))) r = 1;
            if (r) {
                lrq_err_prefix("tensor '%s'", t->name);
                lrq_calib_free(c);
                goto done;
            }
            if (rep.damp > o->damp && log)
                fprintf(log, "gptq: warning: %s: the Hessian needed damping %g (not %g)\n", t->name, rep.damp, o->damp);
            t->data = deq[i]; /* the layers above now see this layer quantized */
        }
        lrq_calib_free(c);
    }
    rc = 0;
done:
    for (int i = 0; i < n && orig; i++) {
        if (orig[i]) jobs[i].t->data = orig[i];
        if (rc) lrq_lq_qt_free(&jobs[i].q);
    }
    for (int i = 0; i < n && deq; i++) free(deq[i]);
    free(orig);
    free(deq);
    return rc;
}
