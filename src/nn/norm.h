/* norm.h — RMSNorm, as ggml computes it: the sum of squares in double, the
 * scale in float, then the weight: y = (x * (1 / sqrt(mean(x^2) + eps))) * w. */
#ifndef LRQ_NN_NORM_H
#define LRQ_NN_NORM_H

#include <stdint.h>

#include "nn/nn.h"

/* One row of n values (y may equal x). */
void lrq_rmsnorm(float *y, const float *x, const float *w, int64_t n, float eps);

/* B rows: y[t] = rmsnorm(x[t]) (x, y: [B][n]), rows split over the pool. */
void lrq_rmsnorm_rows(lrq_nn *nn, float *y, const float *x, const float *w, int B, int64_t n, float eps);

#endif
