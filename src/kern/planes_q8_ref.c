/* planes_q8_ref.c — the scalar reference of the int8-activation planes
 * kernels: the specification (arithmetic and order in kern/planes_q8.h).
 * Written for clarity: one code and one activation at a time in element
 * order (through the layout accessors), an exact int32 sum per block of 32,
 * float combination in block then group order. */
#include "kern/planes_q8.h"
#include "fmt/planes.h"

static float dot_ref(const lrq_q8p_act *act, const uint8_t *codes, const float *scale, const float *zero,
                     float offset) {
    const int64_t ng = act->n / act->group, bpg = act->group / LRQ_Q8P_BLOCK;
    float y = 0.0f;
    for (int64_t g = 0; g < ng; g++) {
        float sq = 0.0f;
        for (int64_t b = g * bpg; b < (g + 1) * bpg; b++) {
            int32_t isum = 0; /* <= 32 * 15 * 127: no overflow */
            for (int64_t j = b * LRQ_Q8P_BLOCK; j < (b + 1) * LRQ_Q8P_BLOCK; j++)
                isum += (int32_t)lrq_planes_code(codes, act->bits, j) * lrq_q8p_int(act, j);
            sq += act->d[b] * (float)isum;
        }
        const float z = zero ? zero[g] : 0.0f;
        y += scale[g] * (sq - (z - offset) * act->gsum[g]);
    }
    return y;
}

static void rows_ref(const lrq_q8p_act *act, const uint8_t *codes, size_t rb, const float *scale, const float *zero,
                     size_t ng, float offset, int64_t nrows, float *y) {
    for (int64_t r = 0; r < nrows; r++)
        y[r] = dot_ref(act, codes + (size_t)r * rb, scale + (size_t)r * ng, zero ? zero + (size_t)r * ng : NULL,
                       offset);
}

static void dot_k_ref(const lrq_q8p_act *act, const uint8_t *codes, int K, const float *const *scales,
                      const float *const *zeros, const float *offsets, float *y) {
    for (int k = 0; k < K; k++) y[k] = dot_ref(act, codes, scales[k], zeros ? zeros[k] : NULL, offsets[k]);
}

/* Tile form: dot per (row, token), the specification of every output. */
static void tile_ref(const lrq_q8p_act *acts, int ntok, const uint8_t *codes, size_t rb, const float *scale,
                     const float *zero, size_t ng, float offset, int64_t nrows, float *y, size_t ys) {
    for (int t = 0; t < ntok; t++) rows_ref(&acts[t], codes, rb, scale, zero, ng, offset, nrows, y + (size_t)t * ys);
}

static const lrq_q8p_kernels ref_kernels = {.dot = dot_ref, .rows = rows_ref, .dot_k = dot_k_ref, .tile = tile_ref};

const lrq_q8p_kernels *lrq_q8p_ref(void) { return &ref_kernels; }
