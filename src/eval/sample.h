/* sample.h — next-token choice: greedy (temperature <= 0) or seeded
 * sampling with temperature, top-k and top-p. Deterministic for a given
 * seed: the RNG is lrq's own (splitmix64), not libc's. */
#ifndef LRQ_SAMPLE_H
#define LRQ_SAMPLE_H

#include <stdint.h>

#include "lrq.h"

typedef struct lrq_sampler {
    float temperature;  /* 0: greedy argmax (first maximum, as llama.cpp) */
    int top_k;          /* 0: no limit */
    float top_p;        /* 1: no limit */
    uint64_t rng;       /* state; set from the seed */
    /* scratch sized by lrq_sampler_init: */
    int32_t n_vocab;
    float *prob;
    int32_t *idx;
} lrq_sampler;

/* Checks the settings (as lrq_sampler_new in lrq.h) and allocates scratch
 * for n_vocab; returns 0 or -1. */
int lrq_sampler_init(lrq_sampler *s, int32_t n_vocab, float temperature, int top_k, float top_p, uint64_t seed);
void lrq_sampler_free(lrq_sampler *s);
/* Choose a token from logits[n_vocab]. */
int32_t lrq_sampler_pick(lrq_sampler *s, const float *logits);

#endif
