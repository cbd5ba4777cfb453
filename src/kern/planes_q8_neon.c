/* planes_q8_neon.c — ARM NEON (AArch64) version of the int8-activation
 * planes kernels (planes_q8_ref.c is the specification; the scheme and the
 * activation layout are in kern/planes_q8.h). A row is walked in "quads" of
 * 4 activation blocks (128 values: 32 code bytes at 2 bits, 48 at 3, 64 at
 * 4):
 *  - bits 2 / 4: 16 code bytes at a time, the 2-bit fields / nibbles masked
 *    out in place (byte shifts, AND) and each field vector multiplied with
 *    the 16 int8 values the layout stores for it (byte k of field p's vector
 *    holds value 4k + p, resp. 2k + p): no shuffle per row;
 *  - bits 3: the 12 bytes of a block's 32 codes are spread to bytes in
 *    element order: vqtblq puts the two bytes holding code i into 16-bit lane
 *    i, a per-lane shift right by (3i) % 8 aligns it, a narrowing move and
 *    an AND 7 give the bytes;
 *  - integer sums: with __ARM_FEATURE_DOTPROD (e.g. Apple M1, or
 *    -march=armv8.2-a+dotprod) vdotq_s32, 4 products per 32-bit lane;
 *    otherwise vmull_s8 / vmlal_s8 into int16 (at most 4 * 3 * 127 or
 *    2 * 15 * 127 per entry across the fields of one vector, twice that
 *    after one pairwise add: no overflow), then pairwise widening adds to
 *    the same 32-bit lanes. Codes (< 16) and activations (|a| <= 127) are
 *    both read as int8. Pairwise adds then give each block's exact int32
 *    sum isum[b], the reference's, so both paths give the same bits;
 *  - per quad, 4 lanes of blocks: acc += ((float)isum * d[b]) * scale[g(b)]
 *    (FMA; two accumulators, even and odd quads), the zero/offset term apart
 *    (Σ_g scale (zero - offset) gsum, 4 groups per step), one horizontal
 *    sum per row;
 *  - a partial last quad, and the last quad of 3-bit codes (whose 16-byte
 *    loads reach 4 bytes past a block), are copied to a zeroed buffer
 *    first: no load reads past the row.
 * One core serves every form: NT activations and NS parameter sets per row
 * (dot: 1 x 1; tile: 4 tokens x 1; dot_k: 1 x up to 4 sets), the codes
 * unpacked and, per activation, the integer sums formed once; each (token,
 * set) output gets exactly the operations dot gives it, so tile and dot_k
 * are dot bit for bit. Float order differs from the reference;
 * tests/test_planes_q8.c bounds it. */
#include "kern/planes_q8.h"

#include <arm_neon.h>
#include <string.h>

#define INLINE static inline __attribute__((always_inline))

/* 4 int32 lanes of Σ over nf field vectors f[i] * a[i] (int8 by int8),
 * lane l summing bytes 4l .. 4l+3 of every vector. */
INLINE int32x4_t dots(int nf, const int8x16_t *f, const int8x16_t *a) {
#if defined(__ARM_FEATURE_DOTPROD)
    int32x4_t s = vdupq_n_s32(0);
    for (int i = 0; i < nf; i++) s = vdotq_s32(s, f[i], a[i]);
    return s;
#else
    int16x8_t lo = vmull_s8(vget_low_s8(f[0]), vget_low_s8(a[0]));
    int16x8_t hi = vmull_high_s8(f[0], a[0]);
    for (int i = 1; i < nf; i++) {
        lo = vmlal_s8(lo, vget_low_s8(f[i]), vget_low_s8(a[i]));
        hi = vmlal_high_s8(hi, f[i], a[i]);
    }
    return vpaddlq_s16(vpaddq_s16(lo, hi));
#endif
}

/* The 32 3-bit codes of one block (12 bytes at p, 16 readable) as bytes in
 * element order, in lo (codes 0..15) and hi (16..31). */
INLINE void spread3(const uint8_t *p, int8x16_t *lo, int8x16_t *hi) {
    static const uint8_t IDX[4][16] = {
        {0, 1, 0, 1, 0, 1, 1, 2, 1, 2, 1, 2, 2, 3, 2, 3},
        {3, 4, 3, 4, 3, 4, 4, 5, 4, 5, 4, 5, 5, 6, 5, 6},
        {6, 7, 6, 7, 6, 7, 7, 8, 7, 8, 7, 8, 8, 9, 8, 9},
        {9, 10, 9, 10, 9, 10, 10, 11, 10, 11, 10, 11, 11, 12, 11, 12},
    };
    static const int16_t SH[8] = {0, -3, -6, -1, -4, -7, -2, -5}; /* code i of 8 starts at bit (3i) % 8 */
    const uint8x16_t v = vld1q_u8(p);
    const int16x8_t sh = vld1q_s16(SH);
    uint8x8_t c[4];
    for (int q = 0; q < 4; q++) {
        const uint16x8_t w = vreinterpretq_u16_u8(vqtbl1q_u8(v, vld1q_u8(IDX[q])));
        c[q] = vmovn_u16(vshlq_u16(w, sh));
    }
    const uint8x16_t m7 = vdupq_n_u8(7);
    *lo = vreinterpretq_s8_u8(vandq_u8(vcombine_u8(c[0], c[1]), m7));
    *hi = vreinterpretq_s8_u8(vandq_u8(vcombine_u8(c[2], c[3]), m7));
}

/* Code bytes per quad (4 blocks of 32 values). */
INLINE int64_t quad_bytes(int bits) { return bits == 2 ? 32 : bits == 3 ? 48 : 64; }

/* The field vectors of one quad (code bytes at p, 16 readable past the
 * quad for bits 3): F[v][f] for vector v < nv, field f < nf (bits 2: 2
 * vectors of 4 fields; bits 4: 4 of 2; bits 3: 4 blocks of 2 halves). */
INLINE void unpack(int bits, const uint8_t *p, int8x16_t F[4][4]) {
    if (bits == 2) {
        const uint8x16_t m3 = vdupq_n_u8(3);
        for (int v = 0; v < 2; v++) {
            const uint8x16_t c = vld1q_u8(p + 16 * v);
            F[v][0] = vreinterpretq_s8_u8(vandq_u8(c, m3));
            F[v][1] = vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(c, 2), m3));
            F[v][2] = vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(c, 4), m3));
            F[v][3] = vreinterpretq_s8_u8(vshrq_n_u8(c, 6));
        }
    } else if (bits == 4) {
        const uint8x16_t m15 = vdupq_n_u8(15);
        for (int v = 0; v < 4; v++) {
            const uint8x16_t c = vld1q_u8(p + 16 * v);
            F[v][0] = vreinterpretq_s8_u8(vandq_u8(c, m15));
            F[v][1] = vreinterpretq_s8_u8(vshrq_n_u8(c, 4));
        }
    } else {
        for (int v = 0; v < 4; v++) spread3(p + 12 * v, &F[v][0], &F[v][1]);
    }
}

/* The exact int32 sums of quad Q's 4 blocks with the activation values qs
 * (the layout of kern/planes_q8.h), from the quad's field vectors. */
INLINE int32x4_t quad_isum(int bits, const int8x16_t F[4][4], const int8_t *qs, int64_t Q) {
    int8x16_t A[4];
    int32x4_t I[4];
    if (bits == 2) { /* chunk Q / 2 of 256 slots; this quad's bytes 32 (Q % 2) .. of each field's 64 */
        const int8_t *a = qs + (Q >> 1) * 256 + (Q & 1) * 32;
        for (int v = 0; v < 2; v++) {
            for (int f = 0; f < 4; f++) A[f] = vld1q_s8(a + 64 * f + 16 * v);
            I[v] = dots(4, F[v], A); /* lanes: 2 per block */
        }
        return vpaddq_s32(I[0], I[1]);
    }
    const int8_t *a = qs + Q * 128;
    for (int v = 0; v < 4; v++) { /* one block per vector pair / vector */
        A[0] = vld1q_s8(bits == 4 ? a + 16 * v : a + 32 * v);
        A[1] = vld1q_s8(bits == 4 ? a + 64 + 16 * v : a + 32 * v + 16);
        I[v] = dots(2, F[v], A);
    }
    return vpaddq_s32(vpaddq_s32(I[0], I[1]), vpaddq_s32(I[2], I[3]));
}

/* d of blocks b0 .. b0+3 (0 past the nb blocks). */
INLINE float32x4_t blocks_d(const float *d, int64_t b0, int64_t nb) {
    if (b0 + 4 <= nb) return vld1q_f32(d + b0);
    float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (int i = 0; i < 4 && b0 + i < nb; i++) t[i] = d[b0 + i];
    return vld1q_f32(t);
}

/* scale of the group of blocks b0 .. b0+3 (0 past the nb blocks); bpg
 * blocks per group; gl, lpb: the activation's group per lane, lanes per
 * block. The same values however they are gathered. */
INLINE float32x4_t blocks_scale(const float *scale, int64_t b0, int64_t nb, int64_t bpg, const int32_t *gl,
                                int lpb) {
    if (b0 + 4 <= nb) {
        if (bpg == 1) return vld1q_f32(scale + b0);
        if (bpg == 2) {
            const float32x2_t s = vld1_f32(scale + b0 / 2);
            return vcombine_f32(vdup_lane_f32(s, 0), vdup_lane_f32(s, 1));
        }
        if (bpg % 4 == 0) return vld1q_dup_f32(scale + gl[b0 * lpb]);
    }
    float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (int i = 0; i < 4 && b0 + i < nb; i++) t[i] = scale[gl[(b0 + i) * lpb]];
    return vld1q_f32(t);
}

/* Σ_g scale[g] (zero[g] - offset) gsum[g], 4 groups per step (lane-wise). */
INLINE float zero_term(const float *gsum, int64_t ng, const float *scale, const float *zero, float offset) {
    const float32x4_t off = vdupq_n_f32(offset);
    float32x4_t acc = vdupq_n_f32(0.0f);
    for (int64_t g = 0; g < ng; g += 4) {
        float32x4_t s, z, gs;
        if (g + 4 <= ng) {
            s = vld1q_f32(scale + g);
            z = zero ? vld1q_f32(zero + g) : vdupq_n_f32(0.0f);
            gs = vld1q_f32(gsum + g);
        } else { /* the last ng % 4 groups, zero-padded */
            float ts[4] = {0.0f, 0.0f, 0.0f, 0.0f}, tz[4] = {0.0f, 0.0f, 0.0f, 0.0f}, tg[4] = {0.0f, 0.0f, 0.0f, 0.0f};
            for (int i = 0; g + i < ng; i++) {
                ts[i] = scale[g + i];
                tz[i] = zero ? zero[g + i] : 0.0f;
                tg[i] = gsum[g + i];
            }
            s = vld1q_f32(ts);
            z = vld1q_f32(tz);
            gs = vld1q_f32(tg);
        }
        acc = vfmaq_f32(acc, vmulq_f32(s, vsubq_f32(z, off)), gs);
    }
    return vaddvq_f32(acc);
}

/* One row with NT activations and NS parameter sets (NT * NS <= 4):
 * y[t * NS + s] = the row with acts[t] and set s (acts and sets may
 * repeat). Each output gets exactly the operations it gets with NT = NS =
 * 1, so every form is dot bit for bit. */
INLINE void core(int bits, int NT, int NS, const lrq_q8p_act *const *acts, const uint8_t *row,
                 const float *const *scales, const float *const *zeros, const float *offsets, float *y) {
    const int64_t n = acts[0]->n, nb = n / LRQ_Q8P_BLOCK, nq = (nb + 3) / 4, qb = quad_bytes(bits);
    const int64_t bpg = acts[0]->group / LRQ_Q8P_BLOCK, ng = n / acts[0]->group, rb = n * bits / 8;
    const int lpb = LRQ_Q8P_BLOCK / acts[0]->lane_vals;
    const int32_t *gl = acts[0]->gl; /* the group of a lane: the same for every activation */
    float32x4_t acc[4][2];
    for (int i = 0; i < NT * NS; i++) acc[i][0] = acc[i][1] = vdupq_n_f32(0.0f);
    uint8_t last[64 + 16];
    for (int64_t Q = 0; Q < nq; Q++) {
        const uint8_t *p = row + Q * qb;
        if ((Q + 1) * qb > rb || (bits == 3 && Q == nq - 1)) { /* partial, or 16-byte loads past the row */
            memset(last, 0, sizeof last);
            memcpy(last, p, (size_t)(rb - Q * qb));
            p = last;
        }
        int8x16_t F[4][4];
        unpack(bits, p, F);
        float32x4_t sc[4];
        for (int s = 0; s < NS; s++) sc[s] = blocks_scale(scales[s], 4 * Q, nb, bpg, gl, lpb);
        for (int t = 0; t < NT; t++) {
            const int32x4_t I = quad_isum(bits, F, acts[t]->qs, Q);
            const float32x4_t f = vmulq_f32(vcvtq_f32_s32(I), blocks_d(acts[t]->d, 4 * Q, nb));
            for (int s = 0; s < NS; s++) acc[t * NS + s][Q & 1] = vfmaq_f32(acc[t * NS + s][Q & 1], f, sc[s]);
        }
    }
    for (int t = 0; t < NT; t++)
        for (int s = 0; s < NS; s++)
            y[t * NS + s] = vaddvq_f32(vaddq_f32(acc[t * NS + s][0], acc[t * NS + s][1])) -
                            zero_term(acts[t]->gsum, ng, scales[s], zeros[s], offsets[s]);
}

/* Instantiations with constant bits, NT and NS. */
#define BY_BITS(NT, NS, ...)                                       \
    switch (acts[0]->bits) {                                       \
    case 2: core(2, NT, NS, __VA_ARGS__); break;                   \
    case 3: core(3, NT, NS, __VA_ARGS__); break;                   \
    default: core(4, NT, NS, __VA_ARGS__); break;                  \
    }

static void core_1x1(const lrq_q8p_act *const *acts, const uint8_t *row, const float *const *sc,
                     const float *const *ze, const float *off, float *y) {
    BY_BITS(1, 1, acts, row, sc, ze, off, y)
}
static void core_1x2(const lrq_q8p_act *const *acts, const uint8_t *row, const float *const *sc,
                     const float *const *ze, const float *off, float *y) {
    BY_BITS(1, 2, acts, row, sc, ze, off, y)
}
static void core_1x3(const lrq_q8p_act *const *acts, const uint8_t *row, const float *const *sc,
                     const float *const *ze, const float *off, float *y) {
    BY_BITS(1, 3, acts, row, sc, ze, off, y)
}
static void core_1x4(const lrq_q8p_act *const *acts, const uint8_t *row, const float *const *sc,
                     const float *const *ze, const float *off, float *y) {
    BY_BITS(1, 4, acts, row, sc, ze, off, y)
}
static void core_4x1(const lrq_q8p_act *const *acts, const uint8_t *row, const float *const *sc,
                     const float *const *ze, const float *off, float *y) {
    BY_BITS(4, 1, acts, row, sc, ze, off, y)
}
#undef BY_BITS

static float dot(const lrq_q8p_act *act, const uint8_t *row, const float *scale, const float *zero, float offset) {
    const lrq_q8p_act *acts[1] = {act};
    const float *sc[1] = {scale}, *ze[1] = {zero};
    float y;
    core_1x1(acts, row, sc, ze, &offset, &y);
    return y;
}

static void rows(const lrq_q8p_act *act, const uint8_t *codes, size_t rb, const float *scale, const float *zero,
                 size_t ng, float offset, int64_t nrows, float *y) {
    for (int64_t r = 0; r < nrows; r++)
        y[r] = dot(act, codes + (size_t)r * rb, scale + (size_t)r * ng, zero ? zero + (size_t)r * ng : NULL, offset);
}

/* K sets, up to 4 per pass over the row: the codes unpacked and the
 * integer sums formed once per pass. */
static void dot_k(const lrq_q8p_act *act, const uint8_t *row, int K, const float *const *scales,
                  const float *const *zeros, const float *offsets, float *y) {
    const lrq_q8p_act *acts[1] = {act};
    for (int k0 = 0; k0 < K; k0 += 4) {
        const float *ze[4];
        for (int s = 0; s < 4 && k0 + s < K; s++) ze[s] = zeros ? zeros[k0 + s] : NULL;
        switch (K - k0) {
        case 1: core_1x1(acts, row, scales + k0, ze, offsets + k0, y + k0); break;
        case 2: core_1x2(acts, row, scales + k0, ze, offsets + k0, y + k0); break;
        case 3: core_1x3(acts, row, scales + k0, ze, offsets + k0, y + k0); break;
        default: core_1x4(acts, row, scales + k0, ze, offsets + k0, y + k0); break;
        }
    }
}

/* Tile form: each row's codes loaded and unpacked once for up to 4 tokens
 * (a missing one repeats the last: computed, not stored). */
static void tile(const lrq_q8p_act *acts, int ntok, const uint8_t *codes, size_t rb, const float *scale,
                 const float *zero, size_t ng, float offset, int64_t nrows, float *y, size_t ys) {
    const lrq_q8p_act *ap[4];
    for (int t = 0; t < 4; t++) ap[t] = &acts[t < ntok ? t : ntok - 1];
    for (int64_t r = 0; r < nrows; r++) {
        const float *sc[1] = {scale + (size_t)r * ng}, *ze[1] = {zero ? zero + (size_t)r * ng : NULL};
        float o[4];
        core_4x1(ap, codes + (size_t)r * rb, sc, ze, &offset, o);
        for (int t = 0; t < ntok; t++) y[(size_t)t * ys + (size_t)r] = o[t];
    }
}

static const lrq_q8p_kernels neon_kernels = {.dot = dot, .rows = rows, .dot_k = dot_k, .tile = tile};

/* The NEON kernels (contracts in kern/planes_q8.h); only for
 * kern/planes_q8.c, which hands them out on AArch64 builds
 * (lrq_q8p_get_isa("neon")). */
const lrq_q8p_kernels *lrq_q8p_neon(void);
const lrq_q8p_kernels *lrq_q8p_neon(void) { return &neon_kernels; }
