/* ppl.h — perplexity the llama.cpp way, and KL-divergence against saved
 * base-model log-probabilities (lrq's own file format, docs/kld-format.md). */
#ifndef LRQ_PPL_H
#define LRQ_PPL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct lrq_ctx;
struct lrq_model;

typedef struct lrq_ppl_params {
    int n_ctx;                 /* chunk length (CTX) */
    int n_batch;               /* tokens per eval call (<= n_ctx) */
    int max_chunks;            /* < 0: all */
    const char *kld_base;      /* base log-prob file: written (write_base) or read (kld) */
    int write_base;            /* 1: save this model's log-probs to kld_base */
    int kld;                   /* 1: compare against kld_base (tokens come from the file) */
    FILE *out;                 /* progress lines "[i]ppl," and the final estimate; may be NULL */
} lrq_ppl_params;

typedef struct lrq_ppl_result {
    int n_chunks;
    long n_scored;             /* tokens scored */
    double ppl, ppl_err;       /* exp(mean NLL) and PPL * sqrt(var(NLL)/(n-1)) */
    double seconds, tokens_per_sec; /* wall time of the evaluation, tokens evaluated per second */
    /* KLD mode only: */
    double base_ppl, ln_ppl_ratio, ln_ppl_ratio_err;
    double mean_kld, mean_kld_err, median_kld, max_kld, kld_p99;
    double same_top_pct, same_top_err;
} lrq_ppl_result;

/* Evaluate tokens[0..n_tokens) (already tokenized with BOS per the model)
 * in floor(n/CTX) chunks; for each chunk the first token is replaced by BOS
 * when the vocab adds BOS, and positions CTX/2 .. CTX-2 are scored. In KLD
 * mode `tokens` is ignored (the base file holds them). Returns 0 or -1. */
int lrq_perplexity(struct lrq_ctx *c, const struct lrq_model *m, const int32_t *tokens, size_t n_tokens,
                   const lrq_ppl_params *p, lrq_ppl_result *r);

#endif
