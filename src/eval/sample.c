/* sample.c — see sample.h. */
#include "eval/sample.h"
#include "core/core.h"

#include <math.h>
#include <stdlib.h>

static uint64_t splitmix64(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

int lrq_sampler_init(lrq_sampler *s, int32_t n_vocab, float temperature, int top_k, float top_p, uint64_t seed) {
    memset(s, 0, sizeof *s);
    /* Out-of-range settings used to sample nonsense silently (a NaN
     * temperature makes every probability NaN): refuse them. */
    if (!(temperature >= 0) || isinf(temperature))
        return lrq_err_set("sampler: temperature %g must be a finite number >= 0 (0 = greedy)", (double)temperature);
    if (!(top_p > 0 && top_p <= 1)) return lrq_err_set("sampler: top-p %g must be in (0, 1]", (double)top_p);
    if (top_k < 0) return lrq_err_set("sampler: top-k %d must be >= 0 (0 = no limit)", top_k);
    if (n_vocab < 1) return lrq_err_set("sampler: vocabulary size %d", (int)n_vocab);
    s->temperature = temperature;
    s->top_k = top_k;
    s->top_p = top_p;
    s->rng = seed;
    s->n_vocab = n_vocab;
    s->prob = lrq_malloc((size_t)n_vocab * sizeof *s->prob);
    s->idx = lrq_malloc((size_t)n_vocab * sizeof *s->idx);
    if (!s->prob || !s->idx) { lrq_sampler_free(s); return -1; }
    return 0;
}

void lrq_sampler_free(lrq_sampler *s) {
    free(s->prob);
    free(s->idx);
    s->prob = NULL;
    s->idx = NULL;
}

static _Thread_local const float *sort_key; /* qsort has no context argument */
static int by_prob_desc(const void *a, const void *b) {
    float x = sort_key[*(const int32_t *)a], y = sort_key[*(const int32_t *)b];
    if (x != y) return x < y ? 1 : -1;
    return *(const int32_t *)a - *(const int32_t *)b; /* ties: lower id first, for determinism */
}

int32_t lrq_sampler_pick(lrq_sampler *s, const float *logits) {
    const int32_t n = s->n_vocab;
    int32_t best = 0;
    for (int32_t i = 1; i < n; i++) if (logits[i] > logits[best]) best = i;
    if (s->temperature <= 0) return best;
    const float mx = logits[best];
    double sum = 0;
    for (int32_t i = 0; i < n; i++) {
        s->prob[i] = expf((logits[i] - mx) / s->temperature);
        sum += s->prob[i];
        s->idx[i] = i;
    }
    for (int32_t i = 0; i < n; i++) s->prob[i] = (float)(s->prob[i] / sum);
    int32_t m = n;
    if ((s->top_k > 0 && s->top_k < n) || s->top_p < 1.0f) {
        sort_key = s->prob;
        qsort(s->idx, (size_t)n, sizeof *s->idx, by_prob_desc);
        if (s->top_k > 0 && s->top_k < m) m = s->top_k;
        if (s->top_p < 1.0f) {
            double c = 0;
            for (int32_t i = 0; i < m; i++) {
                c += s->prob[s->idx[i]];
                if (c >= s->top_p) { m = i + 1; break; }
            }
        }
    }
    double total = 0;
    for (int32_t i = 0; i < m; i++) total += s->prob[s->idx[i]];
    double r = (double)(splitmix64(&s->rng) >> 11) / 9007199254740992.0 * total, c = 0;
    for (int32_t i = 0; i < m; i++) {
        c += s->prob[s->idx[i]];
        if (r < c) return s->idx[i];
    }
    return s->idx[m - 1];
}

int lrq_sampler_new(lrq_sampler **out, int32_t n_vocab, float temperature, int top_k, float top_p, uint64_t seed) {
    *out = NULL;
    lrq_sampler *s = lrq_malloc(sizeof *s);
    if (!s) return -1;
    if (lrq_sampler_init(s, n_vocab, temperature, top_k, top_p, seed)) {
        free(s);
        return -1;
    }
    *out = s;
    return 0;
}

void lrq_sampler_delete(lrq_sampler *s) {
    if (!s) return;
    lrq_sampler_free(s);
    free(s);
}
