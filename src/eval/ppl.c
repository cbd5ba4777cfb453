/* ppl.c — see ppl.h. Base-file format (little-endian), docs/kld-format.md:
 *   "LRQKLD02", u32 n_ctx, u32 n_vocab, u32 n_chunk, i32 tokens[n_chunk*n_ctx],
 *   then per chunk, per scored position (n_ctx - 1 - n_ctx/2 of them):
 *   f32 step, f32 lo, f64 nll, u16 q[n_vocab]  with log p_i = lo + step * q_i
 *   (log-probs below max - 16 are clamped to lo, as they do not matter for
 *   KLD) and nll the base model's exact negative log-likelihood of the scored
 *   token. Version 1 (LRQKLD01) had no nll: the base PPL was recomputed from
 *   the 16-bit log-probs, which the floor made wrong (see kld-format.md).
 */
#define _POSIX_C_SOURCE 200809L
#include "eval/ppl.h"
#include "core/atomic.h"
#include "core/core.h"
#include "tok/vocab.h"
#include "model/model.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <time.h>

static double now_sec(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* log-sum-exp of logits (max in float, sum of exp in double, as llama-perplexity). */
static void lse(const float *l, int n, float *max_out, double *lse_out, int *argmax) {
    float mx = l[0];
    int im = 0;
    for (int i = 1; i < n; i++) if (l[i] > mx) { mx = l[i]; im = i; }
    double s = 0.0;
    for (int i = 0; i < n; i++) s += expf(l[i] - mx);
    *max_out = mx;
    *lse_out = log(s);
    if (argmax) *argmax = im;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#define KLD_MAGIC "LRQKLD02"
#define KLD_MAGIC_V1 "LRQKLD01"
/* bytes before the log-probs of one record: f32 step, f32 lo, f64 nll */
#define KLD_REC_HDR 16

typedef struct {
    FILE *f;
    const char *path;
    uint32_t n_ctx, n_vocab, n_chunk;
} base_file;

static int write_u32(FILE *f, uint32_t v) { return fwrite(&v, 4, 1, f) == 1 ? 0 : -1; }

static int base_read_header(base_file *b, int32_t **tokens) {
    char magic[8];
    uint32_t hdr[3];
    if (fread(magic, 1, 8, b->f) != 8) return lrq_err_set("%s: not an lrq KL-divergence base file (too short)", b->path);
    if (memcmp(magic, KLD_MAGIC_V1, 8) == 0)
        return lrq_err_set("%s: KL-divergence base file of format 1, which lacks the exact base NLL; "
                           "recreate it with --kl-divergence-base", b->path);
    if (memcmp(magic, KLD_MAGIC, 8) != 0)
        return lrq_err_set("%s: not an lrq KL-divergence base file (bad magic)", b->path);
    if (fread(hdr, 4, 3, b->f) != 3) return lrq_err_set("%s: truncated header", b->path);
    b->n_ctx = hdr[0];
    b->n_vocab = hdr[1];
    b->n_chunk = hdr[2];
    if (b->n_ctx < 4 || b->n_ctx > (1u << 22) || b->n_vocab < 1 || b->n_vocab > (1u << 24) || b->n_chunk < 1 ||
        b->n_chunk > (1u << 24))
        return lrq_err_set("%s: absurd header (n_ctx %u, n_vocab %u, n_chunk %u)", b->path, b->n_ctx, b->n_vocab,
                           b->n_chunk);
    /* Check the file size before allocating. */
    long here = ftell(b->f);
    if (fseek(b->f, 0, SEEK_END) != 0) return lrq_err_set("%s: cannot seek", b->path);
    long size = ftell(b->f);
    fseek(b->f, here, SEEK_SET);
    uint64_t per_pos = KLD_REC_HDR + 2ull * b->n_vocab, n_pos = (uint64_t)(b->n_ctx - 1 - b->n_ctx / 2);
    uint64_t need = 20 + 4ull * b->n_ctx * b->n_chunk + per_pos * n_pos * b->n_chunk;
    if ((uint64_t)size != need)
        return lrq_err_set("%s: size %ld bytes, header implies %llu", b->path, size, (unsigned long long)need);
    size_t nt = (size_t)b->n_ctx * b->n_chunk;
    *tokens = lrq_malloc(nt * sizeof(int32_t));
    if (!*tokens) return -1;
    if (fread(*tokens, 4, nt, b->f) != nt) return lrq_err_set("%s: truncated token list", b->path);
    return 0;
}

int lrq_perplexity(lrq_ctx *c, const lrq_model *m, const int32_t *tokens, size_t n_tokens, const lrq_ppl_params *p,
                   lrq_ppl_result *r) {
    memset(r, 0, sizeof *r);
    const int n_ctx = p->n_ctx, n_vocab = m->hp.n_vocab;
    if (n_ctx < 4) return lrq_err_set("perplexity: context %d too small", n_ctx);
    if (p->n_batch < 1 || p->n_batch > n_ctx) return lrq_err_set("perplexity: batch %d must be in 1..%d", p->n_batch, n_ctx);
    if (!m->vocab) return lrq_err_set("perplexity: the model has no tokenizer (use --vocab)");
    if (p->max_chunks == 0) return lrq_err_set("perplexity: chunk limit 0: nothing to evaluate (give at least 1)");
    if (p->write_base && p->kld) return lrq_err_set("%s: cannot write and read a KL-divergence base in one run", p->kld_base);
    if ((p->write_base || p->kld) && !p->kld_base) return lrq_err_set("perplexity: KL-divergence mode without a base file");
    const int add_bos = lrq_vocab_add_bos(m->vocab);
    const int32_t bos = lrq_vocab_bos(m->vocab);
    const int first = n_ctx / 2, n_pos = n_ctx - 1 - first;

    base_file bf = { 0 };
    lrq_atomic_file out = { .fd = -1, .slot = -1 };
    int32_t *base_tokens = NULL;
    uint16_t *qbuf = NULL;
    double *klds = NULL;
    float *lp = NULL;
    int32_t *chunk = NULL;
    int ret = -1;
    bf.path = p->kld_base;
    if (p->kld && !(bf.f = fopen(p->kld_base, "rb")))
        return lrq_err_set("%s: cannot open for reading: %s", p->kld_base, strerror(errno));
    size_t n_chunk;
    if (p->kld) {
        if (base_read_header(&bf, &base_tokens)) goto done;
        if ((int)bf.n_ctx != n_ctx) {
            lrq_err_set("%s: computed with context %u, but -c is %d", bf.path, bf.n_ctx, n_ctx);
            goto done;
        }
        if ((int)bf.n_vocab != n_vocab) {
            lrq_err_set("%s: vocabulary size %u differs from the model's %d", bf.path, bf.n_vocab, n_vocab);
            goto done;
        }
        tokens = base_tokens;
        n_chunk = bf.n_chunk;
        n_tokens = (size_t)n_chunk * n_ctx;
    } else {
        if (n_tokens < 2 * (size_t)n_ctx) {
            lrq_err_set("perplexity: need at least %d tokens for context %d, the text has %zu", 2 * n_ctx, n_ctx, n_tokens);
            goto done;
        }
        n_chunk = lrq_ppl_n_chunks(n_tokens, n_ctx);
    }
    if (p->max_chunks >= 0 && (size_t)p->max_chunks < n_chunk) n_chunk = (size_t)p->max_chunks;
    for (size_t i = 0; i < n_chunk * (size_t)n_ctx; i++)
        if (tokens[i] < 0 || tokens[i] >= n_vocab) {
            lrq_err_set("perplexity: token %d at %zu out of range", tokens[i], i);
            goto done;
        }
    /* Inputs are valid: only now create the output (a temporary file next
     * to it, renamed over it when complete; an existing file is untouched
     * by any failure before that). */
    if (p->write_base) {
        if (lrq_atomic_open(&out, p->kld_base) || !(bf.f = lrq_atomic_stream(&out))) goto done;
        if (fwrite(KLD_MAGIC, 1, 8, bf.f) != 8 || write_u32(bf.f, (uint32_t)n_ctx) || write_u32(bf.f, (uint32_t)n_vocab) ||
            write_u32(bf.f, (uint32_t)n_chunk) ||
            fwrite(tokens, 4, n_chunk * (size_t)n_ctx, bf.f) != n_chunk * (size_t)n_ctx) {
            lrq_err_set("%s: write error", bf.path);
            goto done;
        }
    }
    if (!(chunk = lrq_malloc((size_t)n_ctx * sizeof *chunk))) goto done;
    if (!(lp = lrq_malloc((size_t)(n_ctx - first) * n_vocab * sizeof *lp))) goto done;
    if (p->kld || p->write_base)
        if (!(qbuf = lrq_malloc((size_t)n_vocab * sizeof *qbuf))) goto done;
    if (p->kld && !(klds = lrq_malloc(n_chunk * (size_t)n_pos * sizeof *klds))) goto done;

    double nll = 0, nll2 = 0, bnll = 0, bnll2 = 0, nll_bnll = 0, kld_sum = 0, kld_sum2 = 0;
    long count = 0, same_top = 0;
    double t0 = now_sec();
    for (size_t ci = 0; ci < n_chunk; ci++) {
        memcpy(chunk, tokens + ci * (size_t)n_ctx, (size_t)n_ctx * sizeof *chunk);
        if (add_bos && bos >= 0) chunk[0] = bos;
        lrq_ctx_reset(c);
        for (int j = 0; j < n_ctx; j += p->n_batch) {
            int nb = n_ctx - j < p->n_batch ? n_ctx - j : p->n_batch;
            /* Only positions >= first are scored: ask for their logits alone. */
            int from = first > j ? first - j : 0;
            if (from >= nb) from = nb - 1;
            const float *lg = lrq_ctx_eval(c, chunk + j, nb, from);
            if (!lg) goto done;
            for (int k = from; k < nb; k++)
                if (j + k >= first)
                    memcpy(lp + (size_t)(j + k - first) * n_vocab, lg + (size_t)(k - from) * n_vocab,
                           (size_t)n_vocab * sizeof *lp);
        }
        const int32_t *tk = tokens + ci * (size_t)n_ctx;
        for (int i = first; i < n_ctx - 1; i++) {
            const float *l = lp + (size_t)(i - first) * n_vocab;
            float mx;
            double ls;
            int am;
            lse(l, n_vocab, &mx, &ls, &am);
            const double v = (double)mx + ls - (double)l[tk[i + 1]];
            /* A NaN/Inf logit would turn every statistic into -nan: stop
             * with a message instead (whatever the engine let through). */
            if (!isfinite(v)) {
                lrq_err_set("perplexity: chunk %zu, position %d: the model's logits are not finite (NaN or Inf)",
                            ci + 1, i);
                goto done;
            }
            nll += v;
            nll2 += v * v;
            if (p->write_base) {
                float mn = l[0];
                for (int k = 1; k < n_vocab; k++) if (l[k] < mn) mn = l[k];
                if (mn < mx - 16) mn = mx - 16;
                const float lo = (float)((double)mn - (double)mx - ls);
                const float step = (mx - mn) / 65535.0f;
                for (int k = 0; k < n_vocab; k++) {
                    float q = step > 0 && l[k] > mn ? (l[k] - mn) / step : 0.0f;
                    qbuf[k] = (uint16_t)lrintf(q > 65535.0f ? 65535.0f : q);
                }
                if (fwrite(&step, 4, 1, bf.f) != 1 || fwrite(&lo, 4, 1, bf.f) != 1 || fwrite(&v, 8, 1, bf.f) != 1 ||
                    fwrite(qbuf, 2, (size_t)n_vocab, bf.f) != (size_t)n_vocab) {
                    lrq_err_set("%s: write error", bf.path);
                    goto done;
                }
            }
            if (p->kld) {
                float hdr[2];
                double bv;
                if (fread(hdr, 4, 2, bf.f) != 2 || fread(&bv, 8, 1, bf.f) != 1 ||
                    fread(qbuf, 2, (size_t)n_vocab, bf.f) != (size_t)n_vocab) {
                    lrq_err_set("%s: truncated log-probabilities", bf.path);
                    goto done;
                }
                const float step = hdr[0], lo = hdr[1];
                if (!isfinite(step) || !isfinite(lo) || step < 0 || !isfinite(bv) || bv < 0) {
                    lrq_err_set("%s: corrupt log-probability record (chunk %zu, position %d)", bf.path, ci + 1, i);
                    goto done;
                }
                /* bv is the base run's own NLL of this token (exact, not
                 * rebuilt from the 16-bit log-probs): PPL(base) and the ratio
                 * are then exactly what the base run measured. */
                bnll += bv;
                bnll2 += bv * bv;
                nll_bnll += v * bv;
                double kl = 0;
                int bmax = 0;
                for (int k = 0; k < n_vocab; k++) {
                    const double lb = (double)lo + (double)step * qbuf[k];
                    if (qbuf[k] > qbuf[bmax]) bmax = k;
                    if (lb > -16.0) kl += exp(lb) * (lb - ((double)l[k] - mx - ls));
                }
                klds[count] = kl;
                kld_sum += kl;
                kld_sum2 += kl * kl;
                same_top += bmax == am;
            }
            count++;
        }
        if (p->out) {
            fprintf(p->out, "[%zu]%.4f,", ci + 1, exp(nll / (double)count));
            fflush(p->out);
        }
        if (p->progress) p->progress(p->progress_data, (int)(ci + 1), (int)n_chunk, now_sec() - t0);
    }
    double t1 = now_sec();
    if (p->out) fprintf(p->out, "\n");
    r->n_chunks = (int)n_chunk;
    r->n_scored = count;
    r->seconds = t1 - t0;
    r->tokens_per_sec = r->seconds > 0 ? (double)n_chunk * n_ctx / r->seconds : 0;
    double mean = nll / (double)count, var = nll2 / (double)count - mean * mean;
    r->ppl = exp(mean);
    r->ppl_err = var > 0 && count > 1 ? sqrt(var / (double)(count - 1)) * r->ppl : 0;
    if (p->kld) {
        double bmean = bnll / (double)count;
        r->base_ppl = exp(bmean);
        r->ln_ppl_ratio = mean - bmean;
        /* var(nll - bnll) = var(nll) + var(bnll) - 2 cov */
        double bvar = bnll2 / (double)count - bmean * bmean, cov = nll_bnll / (double)count - mean * bmean;
        double dv = var + bvar - 2 * cov;
        r->ln_ppl_ratio_err = dv > 0 && count > 1 ? sqrt(dv / (double)(count - 1)) : 0;
        r->mean_kld = kld_sum / (double)count;
        double kv = kld_sum2 / (double)count - r->mean_kld * r->mean_kld;
        r->mean_kld_err = kv > 0 && count > 1 ? sqrt(kv / (double)(count - 1)) : 0;
        qsort(klds, (size_t)count, sizeof *klds, cmp_double);
        r->median_kld = count % 2 ? klds[count / 2] : 0.5 * (klds[count / 2 - 1] + klds[count / 2]);
        r->max_kld = klds[count - 1];
        r->kld_p99 = klds[(size_t)((double)(count - 1) * 0.99)];
        double pt = (double)same_top / (double)count;
        r->same_top_pct = 100.0 * pt;
        r->same_top_err = count > 1 ? 100.0 * sqrt(pt * (1 - pt) / (double)(count - 1)) : 0;
    }
    if (p->write_base) {
        bf.f = NULL; /* owned by `out`; the commit closes it */
        if (lrq_atomic_commit(&out)) goto done;
    }
    if (p->out) fprintf(p->out, "Final estimate: PPL = %.4f +/- %.5f\n", r->ppl, r->ppl_err);
    ret = 0;
done:
    if (p->write_base) lrq_atomic_abort(&out); /* no-op after a commit */
    else if (bf.f) fclose(bf.f);
    free(base_tokens);
    free(qbuf);
    free(klds);
    free(lp);
    free(chunk);
    return ret;
}

size_t lrq_ppl_n_chunks(size_t n_tokens, int n_ctx) { return n_ctx > 0 ? n_tokens / (size_t)n_ctx : 0; }
