/* quant_fit.h — the group-fit searches and packers of the k-quant weight
 * quantizers (fmt/kquant.c), shared with the importance-weighted quantizers
 * (fmt/quant_imat.c). Internal to src/fmt. Every function replicates one of
 * llama.cpp v0.5.0's ggml-quants.c helpers operation for operation (named
 * below); their results decide bytes, so nothing may be reordered.
 */
#ifndef LRQ_FMT_QUANT_FIT_H
#define LRQ_FMT_QUANT_FIT_H

#include <stdint.h>

#include "core/core.h"

/* llama.cpp's nearest_int: round half to even via the 1.5*2^23 trick (the
 * integer part lands in the low mantissa bits). Plain bit arithmetic, so
 * NaN/inf give some int without undefined behaviour. */
static inline int lrq_k_round(float v) {
    const uint32_t u = lrq_f32_to_bits(v + 12582912.0f);
    return (int)(u & 0x007fffffu) - 0x00400000;
}
static inline int lrq_k_clamp(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

/* make_qx_quants(n, nmax, x, L, 1, qw): symmetric codes L[i] in
 * 0..2*nmax-1 (stored + nmax) for n values x, weights qw (NULL: x^2);
 * returns the scale (value = scale * (L - nmax)). */
float lrq_k_fit_symmetric(int n, int nmax, const float *x, int8_t *L, const float *qw);

/* make_qkx2_quants / make_qkx3_quants (identical when weights are given):
 * codes L[i] in 0..nmax with x ~ scale * L - *the_min; Laux: n bytes of
 * scratch. Returns the scale. */
float lrq_k_fit_affine(int n, int nmax, const float *x, const float *weights, uint8_t *L, float *the_min,
                       uint8_t *Laux, float rmin, float rdelta, int nstep, int use_mad);

/* Q2_K/Q3_K 2-bit packing of 256 codes into 64 bytes. */
void lrq_k_pack_2bit(const uint8_t *L, uint8_t *qs);

/* Q3_K: 256 codes L[e] in 0..7 into the block's hmask (bit e/32 of byte
 * e % 32 = the code's third bit) and its 2-bit qs (the low bits, as Q2_K);
 * y is the Q3_K block. */
void lrq_k3_pack_codes(const int8_t *L, uint8_t *y);

/* Q4_K/Q5_K: 8 scales and 8 mins (6 bits each) into 12 bytes. */
void lrq_k4_pack_scales(const uint8_t ls[8], const uint8_t lm[8], uint8_t *q);

/* Q6_K of n values (n % 256 == 0) with weights qw (n of them) or NULL. */
void lrq_k_quant_q6_K(const float *x, void *y, int64_t n, const float *qw);

#endif
