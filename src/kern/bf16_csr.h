/* bf16_csr.h — run FMA code with vdpbf16ps's subnormal handling.
 *
 * llama.cpp's BF16 matmuls use vdpbf16ps on AVX512_BF16 CPUs, which reads
 * subnormal inputs as zero (DAZ) and flushes subnormal results (FTZ) whatever
 * MXCSR says; the BF16 order spec (order_ref.c dpbf16) does the same. Kernels
 * that emulate it with FMA set MXCSR's FTZ (bit 15) and DAZ (bit 6) around
 * their accumulation loops only — not around horizontal sums or scalar tails,
 * which the spec computes with ordinary IEEE arithmetic — and restore the
 * caller's MXCSR before returning. x86 only. */
#ifndef LRQ_KERN_BF16_CSR_H
#define LRQ_KERN_BF16_CSR_H

#include <xmmintrin.h>

static inline unsigned int lrq_bf16_csr_enter(void) {
    const unsigned int old = _mm_getcsr();
    _mm_setcsr(old | 0x8040u);
    return old;
}

static inline void lrq_bf16_csr_leave(unsigned int old) { _mm_setcsr(old); }

#endif
