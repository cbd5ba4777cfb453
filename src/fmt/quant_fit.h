/* quant_fit.h — the group-fit searches and packers of the k-quant weight
 * quantizers (fmt/kquant.c), shared with the importance-weighted quantizers
 * (fmt/quant_imat.c). Internal to src/fmt. Every function replicates one of
 * llama.cpp v0.5.0's ggml-quants.c helpers operation for operation (named
 * below); their results decide bytes, so nothing may be reordered.
 */
#ifndef LRQ_FMT_QUANT_FIT_H
#define LRQ_FMT_QUANT_FIT_H

#include <stdint.h>

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

/* Q4_K/Q5_K: 8 scales and 8 mins (6 bits each) into 12 bytes. */
void lrq_k4_pack_scales(const uint8_t ls[8], const uint8_t lm[8], uint8_t *q);

/* Q6_K of n values (n % 256 == 0) with weights qw (n of them) or NULL. */
void lrq_k_quant_q6_K(const float *x, void *y, int64_t n, const float *qw);

#endif
