/* planes_ref.c — the scalar reference of the planes kernels: the
 * specification (arithmetic and order in kern/planes.h). Written for
 * clarity: one code at a time through lrq_planes_code, float sums in element
 * order, parameters applied once per group. dot_k and dot_kx use exactly
 * dot's operations for each replica, which is what makes the K-replica
 * forms bit-identical to K separate dot calls here. */
#include "kern/planes.h"
#include "fmt/planes.h"

/* sq = Σ q[j] x[j] and sx = Σ x[j] over j in [j0, j0 + group), in order. */
static void group_sums(const uint8_t *codes, int bits, int64_t j0, int32_t group, const float *x, float *sq,
                       float *sx) {
    float a = 0.0f, b = 0.0f;
    for (int64_t j = j0; j < j0 + group; j++) {
        a += (float)lrq_planes_code(codes, bits, j) * x[j];
        b += x[j];
    }
    *sq = a;
    *sx = b;
}

/* The contribution of one group: scale * (sq - (zero - offset) * sx). */
static float group_term(float scale, float zero, float offset, float sq, float sx) {
    return scale * (sq - (zero - offset) * sx);
}

static float dot_ref(int bits, int64_t n, const uint8_t *codes, const float *scale, const float *zero, float offset,
                     int32_t group, const float *x) {
    float y = 0.0f;
    for (int64_t g = 0; g < n / group; g++) {
        float sq, sx;
        group_sums(codes, bits, g * group, group, x, &sq, &sx);
        y += group_term(scale[g], zero ? zero[g] : 0.0f, offset, sq, sx);
    }
    return y;
}

static void dot_k_ref(int bits, int64_t n, const uint8_t *codes, int K, const float *const *scales,
                      const float *const *zeros, const float *offsets, int32_t group, const float *x, float *y) {
    for (int k = 0; k < K; k++) y[k] = 0.0f;
    for (int64_t g = 0; g < n / group; g++) {
        float sq, sx;
        group_sums(codes, bits, g * group, group, x, &sq, &sx); /* once for all K */
        for (int k = 0; k < K; k++) {
            const float z = zeros && zeros[k] ? zeros[k][g] : 0.0f;
            y[k] += group_term(scales[k][g], z, offsets[k], sq, sx);
        }
    }
}

static void dot_kx_ref(int bits, int64_t n, const uint8_t *codes, int K, const float *const *scales,
                       const float *const *zeros, const float *offsets, int32_t group, const float *const *xs,
                       float *y) {
    for (int k = 0; k < K; k++) y[k] = 0.0f;
    uint8_t q[256]; /* one group's codes, unpacked once, in chunks of 256 */
    for (int64_t g = 0; g < n / group; g++) {
        float sq[LRQ_PLANES_MAX_K] = {0}, sx[LRQ_PLANES_MAX_K] = {0};
        for (int64_t c0 = g * group; c0 < (g + 1) * group; c0 += 256) {
            const int64_t c1 = c0 + 256 < (g + 1) * group ? c0 + 256 : (g + 1) * group;
            for (int64_t j = c0; j < c1; j++) q[j - c0] = (uint8_t)lrq_planes_code(codes, bits, j);
            for (int k = 0; k < K; k++)
                for (int64_t j = c0; j < c1; j++) {
                    sq[k] += (float)q[j - c0] * xs[k][j];
                    sx[k] += xs[k][j];
                }
        }
        for (int k = 0; k < K; k++) {
            const float z = zeros && zeros[k] ? zeros[k][g] : 0.0f;
            y[k] += group_term(scales[k][g], z, offsets[k], sq[k], sx[k]);
        }
    }
}

float lrq_planes_dot_cb(int bits, int64_t n, const uint8_t *codes, const float *cb, const float *scale,
                        const float *zero, float offset, int32_t group, const float *x) {
    float y = 0.0f;
    for (int64_t g = 0; g < n / group; g++) {
        float sq = 0.0f, sx = 0.0f;
        for (int64_t j = g * group; j < (g + 1) * group; j++) {
            sq += cb[lrq_planes_code(codes, bits, j)] * x[j];
            sx += x[j];
        }
        y += group_term(scale[g], zero ? zero[g] : 0.0f, offset, sq, sx);
    }
    return y;
}

static const lrq_planes_kernels ref_kernels = {.dot = dot_ref, .dot_k = dot_k_ref, .dot_kx = dot_kx_ref};

const lrq_planes_kernels *lrq_planes_ref(void) { return &ref_kernels; }
