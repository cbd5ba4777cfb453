/* planes_q8_avx2.c — AVX2 version of the int8-activation planes kernel
 * (planes_q8_ref.c is the specification; scheme and activation layout in
 * kern/planes_q8.h; the structure follows planes_q8_avx512.c, 32 bytes of
 * codes per step):
 *  - bits 2 / 4: the 2-bit fields / nibbles of a 32-byte code vector are
 *    masked out in place and multiplied with their stored int8 values by
 *    vpmaddubsw (pairs of products: at most 2 * 15 * 127, and the fields'
 *    int16 sums at most 4 * 2 * 3 * 127 or 2 * 2 * 15 * 127: no
 *    saturation), then vpmaddwd with ones gives the exact int32 lane sums;
 *  - bits 3: 16 bytes of codes broadcast to both 128-bit lanes, vpshufb puts
 *    the two bytes holding codes 2w, 2w+1 into word w (lane 1 six bytes
 *    further on), a multiply by a power of two then a shift right by 6
 *    align them (AVX2 has no per-word shift), and the two 3-bit fields of
 *    each word become its two bytes (element order);
 *  - lanes are scaled by d (act->dl) and their group's scale (vpermps from
 *    the row's scales by act->gl); the zero/offset term apart, 8 groups per
 *    step;
 *  - a partial last chunk (bits 2, 4) and the last chunk of 3-bit codes
 *    (whose 16-byte loads reach 4 bytes past a chunk) are copied to a zeroed
 *    buffer first, so no load reads past the row.
 * The tile form unpacks each chunk of codes once for four tokens, each
 * token getting dot's operations. Float order differs from the reference;
 * tests/test_planes_q8.c bounds it. */
#include "kern/planes_q8.h"

#include <immintrin.h>
#include <string.h>

#define INLINE static inline __attribute__((always_inline))

/* All-ones in the first r (< 8) 32-bit lanes, all 8 for r >= 8. */
INLINE __m256i first8(int64_t r) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(r >= 8 ? 8 : r)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* acc += (float)I * dl[L0 ..] * scale[gl[L0 ..]] for 8 lanes from L0 (they
 * span at most 5 groups: the 8 scales from the first lane's group cover them). */
INLINE __m256 apply8(const lrq_q8p_act *act, int64_t L0, int64_t ng, const float *scale, __m256i I, __m256 acc) {
    const __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(I), _mm256_load_ps(act->dl + L0));
    const int32_t base = act->gl[L0];
    const __m256i rel = _mm256_sub_epi32(_mm256_load_si256((const __m256i *)(act->gl + L0)), _mm256_set1_epi32(base));
    const __m256 s = _mm256_permutevar8x32_ps(_mm256_maskload_ps(scale + base, first8(ng - base)), rel);
    return _mm256_fmadd_ps(f, s, acc);
}

INLINE float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

INLINE float zero_term(const lrq_q8p_act *act, int64_t ng, const float *scale, const float *zero, float offset) {
    __m256 acc = _mm256_setzero_ps();
    const __m256 off = _mm256_set1_ps(offset);
    for (int64_t g = 0; g < ng; g += 8) {
        const __m256i m = first8(ng - g);
        const __m256 z = zero ? _mm256_maskload_ps(zero + g, m) : _mm256_setzero_ps();
        const __m256 sc = _mm256_mul_ps(_mm256_maskload_ps(scale + g, m), _mm256_sub_ps(z, off));
        acc = _mm256_fmadd_ps(sc, _mm256_maskload_ps(act->gsum + g, m), acc);
    }
    return hsum8(acc);
}

INLINE __m256i ld(const void *p) { return _mm256_loadu_si256((const __m256i *)p); }

/* The int32 lane sums of 32 code bytes v (field width bits 2 or 4) with
 * the activation slots a + p * 64 of each field p. */
INLINE __m256i lanes24(int bits, __m256i v, const int8_t *a) {
    __m256i s;
    if (bits == 2) {
        const __m256i m3 = _mm256_set1_epi8(3);
        s = _mm256_maddubs_epi16(_mm256_and_si256(v, m3), ld(a));
        s = _mm256_add_epi16(s, _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(v, 2), m3), ld(a + 64)));
        s = _mm256_add_epi16(s, _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(v, 4), m3), ld(a + 128)));
        s = _mm256_add_epi16(s, _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(v, 6), m3), ld(a + 192)));
    } else {
        const __m256i m15 = _mm256_set1_epi8(15);
        s = _mm256_maddubs_epi16(_mm256_and_si256(v, m15), ld(a));
        s = _mm256_add_epi16(s, _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(v, 4), m15), ld(a + 64)));
    }
    return _mm256_madd_epi16(s, _mm256_set1_epi16(1));
}

/* bits 2 and 4: chunks of 64 code bytes (256 / 128 values), two halves
 * each; for NT activations at once (NT 1: dot; 4: the tile form, each
 * chunk of codes loaded and masked once for all of them; acts[a] may
 * repeat): y[a] = the row with acts[a], each with exactly the operations
 * it gets alone (so the tile form is dot bit for bit). */
INLINE void dot24(int bits, int NT, const lrq_q8p_act *const *acts, const uint8_t *row, const float *scale,
                  const float *zero, float offset, float *y) {
    const int64_t n = acts[0]->n, ng = n / acts[0]->group, cv = bits == 2 ? 256 : 128, nc = acts[0]->n_pad / cv;
    const int64_t rb = n * bits / 8;
    __m256 acc0[4], acc1[4];
    for (int t = 0; t < NT; t++) acc0[t] = acc1[t] = _mm256_setzero_ps();
    uint8_t last[64];
    for (int64_t c = 0; c < nc; c++) {
        const uint8_t *p = row + c * 64;
        if ((c + 1) * 64 > rb) { /* a partial last chunk: from a zeroed copy */
            memset(last, 0, sizeof last);
            memcpy(last, p, (size_t)(rb - c * 64));
            p = last;
        }
        const __m256i v0 = ld(p), v1 = ld(p + 32);
        for (int t = 0; t < NT; t++) {
            const int8_t *a = acts[t]->qs + c * cv;
            acc0[t] = apply8(acts[t], c * 16, ng, scale, lanes24(bits, v0, a), acc0[t]);
            acc1[t] = apply8(acts[t], c * 16 + 8, ng, scale, lanes24(bits, v1, a + 32), acc1[t]);
        }
    }
    for (int t = 0; t < NT; t++)
        y[t] = hsum8(_mm256_add_ps(acc0[t], acc1[t])) - zero_term(acts[t], ng, scale, zero, offset);
}

/* 32 3-bit codes from the 12 bytes at p (16 readable) as bytes in element order. */
INLINE __m256i spread3(const uint8_t *p) {
    const __m256i v = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)p));
    const __m256i bsel = _mm256_setr_epi8(0, 1, 0, 1, 1, 2, 2, 3, 3, 4, 3, 4, 4, 5, 5, 6, 6, 7, 6, 7, 7, 8, 8, 9, 9,
                                          10, 9, 10, 10, 11, 11, 12);
    /* word w shifted right by (6w) % 8 = 0, 6, 4, 2, ..: times 2^(6 - shift), then >> 6 */
    const __m256i mul = _mm256_setr_epi16(64, 1, 4, 16, 64, 1, 4, 16, 64, 1, 4, 16, 64, 1, 4, 16);
    const __m256i t = _mm256_srli_epi16(_mm256_mullo_epi16(_mm256_shuffle_epi8(v, bsel), mul), 6);
    return _mm256_or_si256(_mm256_and_si256(t, _mm256_set1_epi16(0x0007)),
                           _mm256_and_si256(_mm256_slli_epi16(t, 5), _mm256_set1_epi16(0x0700)));
}

INLINE void dot3(int NT, const lrq_q8p_act *const *acts, const uint8_t *row, const float *scale, const float *zero,
                 float offset, float *y) {
    const int64_t n = acts[0]->n, ng = n / acts[0]->group, nc = acts[0]->n_pad / 128, rb = n * 3 / 8;
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc0[4], acc1[4];
    for (int t = 0; t < NT; t++) acc0[t] = acc1[t] = _mm256_setzero_ps();
    uint8_t last[64];
    for (int64_t c = 0; c < nc; c++) {
        const uint8_t *p = row + c * 48;
        if (c == nc - 1) { /* 16-byte loads reach 4 bytes past the chunk: the last one from a zeroed copy */
            memset(last, 0, sizeof last);
            memcpy(last, p, (size_t)(rb - c * 48));
            p = last;
        }
        for (int q = 0; q < 4; q++) { /* 32 codes (12 bytes) per step, spread once for every activation */
            const __m256i sp = spread3(p + 12 * q);
            for (int t = 0; t < NT; t++) {
                const int8_t *a = acts[t]->qs + c * 128;
                const __m256i I = _mm256_madd_epi16(_mm256_maddubs_epi16(sp, ld(a + 32 * q)), ones);
                if (q & 1) acc1[t] = apply8(acts[t], c * 32 + 8 * q, ng, scale, I, acc1[t]);
                else acc0[t] = apply8(acts[t], c * 32 + 8 * q, ng, scale, I, acc0[t]);
            }
        }
    }
    for (int t = 0; t < NT; t++)
        y[t] = hsum8(_mm256_add_ps(acc0[t], acc1[t])) - zero_term(acts[t], ng, scale, zero, offset);
}

/* One row with NT activations (1 or 4). */
INLINE void dot_n(int NT, const lrq_q8p_act *const *acts, const uint8_t *row, const float *scale, const float *zero,
                  float offset, float *y) {
    switch (acts[0]->bits) {
    case 2: dot24(2, NT, acts, row, scale, zero, offset, y); break;
    case 3: dot3(NT, acts, row, scale, zero, offset, y); break;
    default: dot24(4, NT, acts, row, scale, zero, offset, y); break;
    }
}

static float dot(const lrq_q8p_act *act, const uint8_t *row, const float *scale, const float *zero, float offset) {
    const lrq_q8p_act *acts[1] = {act};
    float y;
    dot_n(1, acts, row, scale, zero, offset, &y);
    return y;
}

static void rows(const lrq_q8p_act *act, const uint8_t *codes, size_t rb, const float *scale, const float *zero,
                 size_t ng, float offset, int64_t nrows, float *y) {
    for (int64_t r = 0; r < nrows; r++)
        y[r] = dot(act, codes + (size_t)r * rb, scale + (size_t)r * ng, zero ? zero + (size_t)r * ng : NULL, offset);
}

/* K sets: one dot per set (the row's codes come from L1 after the first). */
static void dot_k(const lrq_q8p_act *act, const uint8_t *row, int K, const float *const *scales,
                  const float *const *zeros, const float *offsets, float *y) {
    for (int k = 0; k < K; k++) y[k] = dot(act, row, scales[k], zeros ? zeros[k] : NULL, offsets[k]);
}

/* Tile form: each row's codes loaded and unpacked once for up to 4 tokens
 * (a missing one repeats the last: computed, not stored). */
static void tile(const lrq_q8p_act *acts, int ntok, const uint8_t *codes, size_t rb, const float *scale,
                 const float *zero, size_t ng, float offset, int64_t nrows, float *y, size_t ys) {
    const lrq_q8p_act *ap[4];
    for (int t = 0; t < 4; t++) ap[t] = &acts[t < ntok ? t : ntok - 1];
    for (int64_t r = 0; r < nrows; r++) {
        float o[4];
        dot_n(4, ap, codes + (size_t)r * rb, scale + (size_t)r * ng, zero ? zero + (size_t)r * ng : NULL, offset, o);
        for (int t = 0; t < ntok; t++) y[(size_t)t * ys + (size_t)r] = o[t];
    }
}

static const lrq_q8p_kernels avx2_kernels = {.dot = dot, .rows = rows, .dot_k = dot_k, .tile = tile};

/* The AVX2 kernels (contracts in kern/planes_q8.h); only for
 * kern/planes_q8.c, which hands them out by level. */
const lrq_q8p_kernels *lrq_q8p_avx2(void);
const lrq_q8p_kernels *lrq_q8p_avx2(void) { return &avx2_kernels; }
