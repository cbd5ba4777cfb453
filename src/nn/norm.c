/* norm.c — see norm.h. */
#include "nn/norm.h"

#include <math.h>

void lrq_rmsnorm(float *y, const float *x, const float *w, int64_t n, float eps) {
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) sum += (double)(x[i] * x[i]);
    const float mean = (float)(sum / (double)n);
    const float scale = 1.0f / sqrtf(mean + eps);
    for (int64_t i = 0; i < n; i++) y[i] = (x[i] * scale) * w[i];
}

typedef struct {
    float *y;
    const float *x, *w;
    int B;
    int64_t n;
    float eps;
} rows_task;

static void rows_worker(void *arg, int ith, int nth) {
    const rows_task *t = arg;
    long lo, hi;
    lrq_split(t->B, ith, nth, &lo, &hi);
    for (long b = lo; b < hi; b++) lrq_rmsnorm(t->y + b * t->n, t->x + b * t->n, t->w, t->n, t->eps);
}

void lrq_rmsnorm_rows(lrq_nn *nn, float *y, const float *x, const float *w, int B, int64_t n, float eps) {
    rows_task t = { .y = y, .x = x, .w = w, .B = B, .n = n, .eps = eps };
    lrq_nn_rows(nn, B, rows_worker, &t);
}
