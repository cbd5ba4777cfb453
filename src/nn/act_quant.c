/* act_quant.c — see act_quant.h. */
#include "nn/act_quant.h"
#include "core/core.h"

#include <math.h>

int lrq_act_quant_check(const lrq_act_quant *aq) {
    if (aq->bits < 2 || aq->bits > 16) return lrq_err_set("activation quantization: bits %d outside 2..16", aq->bits);
    if (!(aq->clip > 0.0f && aq->clip <= 1.0f))
        return lrq_err_set("activation quantization: clip percentile %g outside (0, 1]", (double)aq->clip);
    if (!(aq->clip_at >= 0.0f) || !isfinite(aq->clip_at))
        return lrq_err_set("activation quantization: clip threshold %g is not a finite number >= 0",
                           (double)aq->clip_at);
    return 0;
}

int lrq_act_needs_scratch(const lrq_act_quant *aq) { return aq->clip_at <= 0.0f && aq->clip < 1.0f; }

/* The k-th smallest of a[0..n) (0-based), reordering a: quickselect with a
 * median-of-three pivot and a three-way partition (so runs of equal values,
 * common in activations, cost nothing). The value is unique whatever the
 * order, so the result is deterministic. */
static float kth_smallest(float *a, size_t n, size_t k) {
    size_t lo = 0, hi = n; /* the answer is in a[lo..hi) */
    while (hi - lo > 1) {
        const float p0 = a[lo], p1 = a[lo + (hi - lo) / 2], p2 = a[hi - 1];
        const float p = p0 < p1 ? (p1 < p2 ? p1 : (p0 < p2 ? p2 : p0)) : (p0 < p2 ? p0 : (p1 < p2 ? p2 : p1));
        /* a[lo..lt) < p, a[lt..i) == p, a[gt..hi) > p */
        size_t lt = lo, i = lo, gt = hi;
        while (i < gt) {
            const float v = a[i];
            if (v < p) { a[i] = a[lt]; a[lt] = v; lt++; i++; }
            else if (v > p) { gt--; a[i] = a[gt]; a[gt] = v; }
            else i++;
        }
        if (k < lt) hi = lt;
        else if (k >= gt) lo = gt;
        else return p;
    }
    return a[lo];
}

/* Nearest-rank index of percentile P among n values: ceil(P n) - 1. */
static size_t rank_of(float P, size_t n) {
    double r = ceil((double)P * (double)n) - 1.0;
    if (r < 0.0) r = 0.0;
    if (r > (double)(n - 1)) r = (double)(n - 1);
    return (size_t)r;
}

void lrq_act_range(const lrq_act_quant *aq, const float *x, size_t n, float *scratch, float *lo, float *hi) {
    *lo = 0.0f;
    *hi = 0.0f;
    if (n == 0) return;
    if (!aq->asym) {
        float t;
        if (aq->clip_at > 0.0f) {
            t = aq->clip_at;
        } else if (aq->clip >= 1.0f) {
            t = 0.0f;
            for (size_t i = 0; i < n; i++) t = fmaxf(t, fabsf(x[i]));
        } else {
            for (size_t i = 0; i < n; i++) scratch[i] = fabsf(x[i]);
            t = kth_smallest(scratch, n, rank_of(aq->clip, n));
        }
        *lo = -t;
        *hi = t;
        return;
    }
    float a, b;
    if (aq->clip_at > 0.0f || aq->clip >= 1.0f) {
        a = x[0];
        b = x[0];
        for (size_t i = 1; i < n; i++) { a = fminf(a, x[i]); b = fmaxf(b, x[i]); }
        if (aq->clip_at > 0.0f) { a = fmaxf(a, -aq->clip_at); b = fminf(b, aq->clip_at); }
    } else {
        const size_t khi = rank_of(aq->clip, n), klo = n - 1 - khi;
        for (size_t i = 0; i < n; i++) scratch[i] = x[i];
        b = kth_smallest(scratch, n, khi);
        a = kth_smallest(scratch, n, klo);
    }
    /* the range always holds 0, so that zeros (padding, ReLU-like outputs) stay exact */
    *lo = fminf(a, 0.0f);
    *hi = fmaxf(b, 0.0f);
}

void lrq_act_apply(const lrq_act_quant *aq, float lo, float hi, const float *x, float *y, size_t n) {
    if (!aq->asym) {
        const float qmax = (float)((1 << (aq->bits - 1)) - 1);
        const float s = hi / qmax, is = s > 0.0f ? 1.0f / s : 0.0f;
        for (size_t i = 0; i < n; i++) {
            float q = roundf(x[i] * is);
            q = q > qmax ? qmax : (q < -qmax ? -qmax : q);
            y[i] = s * q;
        }
        return;
    }
    const float L = (float)((1 << aq->bits) - 1);
    const float s = (hi - lo) / L, is = s > 0.0f ? 1.0f / s : 0.0f;
    const float z = roundf(-lo * is);
    for (size_t i = 0; i < n; i++) {
        float q = roundf(x[i] * is) + z;
        q = q > L ? L : (q < 0.0f ? 0.0f : q);
        y[i] = s * (q - z);
    }
}
