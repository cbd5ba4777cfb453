/* rope.c — see rope.h. */
#include "nn/rope.h"

#include <math.h>

void lrq_rope_table(float *cs, int pos, int n_rot, float theta_scale) {
    float theta = (float)pos;
    for (int i0 = 0; i0 < n_rot; i0 += 2) {
        cs[i0] = cosf(theta);
        cs[i0 + 1] = sinf(theta);
        theta *= theta_scale;
    }
}

void lrq_rope_apply(float *x, const float *cs, int n_rot, int neox) {
    if (neox) {
        const int half = n_rot / 2;
        for (int i = 0; i < half; i++) {
            const float c = cs[2 * i], s = cs[2 * i + 1];
            const float x0 = x[i], x1 = x[i + half];
            /* as GCC contracts ggml's x0*cos - x1*sin and x0*sin + x1*cos */
            x[i] = fmaf(x0, c, -(x1 * s));
            x[i + half] = fmaf(x0, s, x1 * c);
        }
    } else {
        for (int i0 = 0; i0 < n_rot; i0 += 2) {
            const float c = cs[i0], s = cs[i0 + 1];
            const float x0 = x[i0], x1 = x[i0 + 1];
            x[i0] = fmaf(x0, c, -(x1 * s));
            x[i0 + 1] = fmaf(x0, s, x1 * c);
        }
    }
}
