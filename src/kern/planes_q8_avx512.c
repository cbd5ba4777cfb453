/* planes_q8_avx512.c — AVX-512 VNNI version of the int8-activation planes
 * kernel (planes_q8_ref.c is the specification; the scheme and the
 * activation layout are in kern/planes_q8.h). One 64-byte code vector per
 * step for 2 and 4 bits, 48 bytes for 3 bits:
 *  - bits 2: the four 2-bit fields of every byte are masked out in place
 *    (shift by 0, 2, 4, 6 and AND 3) and each field vector goes straight
 *    into vpdpbusd with the 64 int8 values stored for it (the layout puts
 *    value 4k + p at byte k of field p's vector) — no shuffle per row;
 *  - bits 4: the same with two nibble vectors;
 *  - bits 3: 16 codes per 128-bit lane are spread to bytes: vpermw brings
 *    the 6 code bytes of each lane to its start, vpshufb puts the two bytes
 *    holding codes 2w, 2w+1 into word w, vpsrlvw aligns them, and the two
 *    3-bit fields of each word become its two bytes (element order);
 *  - each 32-bit lane's exact integer sum is converted, scaled by its
 *    block's d (act->dl) and, with one FMA, by its group's scale (picked
 *    from the row's scales by the lane's group, act->gl, with vpermps);
 *  - the zero/offset term is Σ_g scale[g] (zero[g] - offset) gsum[g], 16
 *    groups per step;
 *  - a last partial chunk is loaded with a byte mask: nothing past the row
 *    is read, and the activation padding is zero.
 * The integer sums are exact (as the reference's, over 16/8/4 values at a
 * time instead of 32); the float order differs: tests/test_planes_q8.c
 * bounds the difference. */
#include "kern/planes_q8.h"
#include "kern/hsum_avx512.h"

#include <immintrin.h>

#define INLINE static inline __attribute__((always_inline))

INLINE __mmask64 first_bytes(int64_t r) { return r >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << r) - 1); }
INLINE __mmask16 first16(int64_t r) { return r >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << r) - 1u); }

/* acc += (float)I * dl[L0 ..] * scale[gl[L0 ..]]: one step's 16 lanes,
 * starting at lane L0. A step spans at most 9 groups (>= 32 values each),
 * so the scales it needs are the 16 floats from its first lane's group
 * (loaded masked to the row's ng groups). */
INLINE __m512 scales_general(const lrq_q8p_act *act, int64_t L0, int64_t ng, const float *scale) {
    const int32_t base = act->gl[L0];
    const __m512i rel = _mm512_sub_epi32(_mm512_load_si512(act->gl + L0), _mm512_set1_epi32(base));
    return _mm512_permutexvar_ps(rel, _mm512_maskz_loadu_ps(first16(ng - base), scale + base));
}

INLINE __m512 apply16(const lrq_q8p_act *act, int64_t L0, int64_t ng, const float *scale, __m512i I, __m512 acc) {
    const __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(I), _mm512_load_ps(act->dl + L0));
    return _mm512_fmadd_ps(f, scales_general(act, L0, ng, scale), acc);
}

/* acc - scale[g] * (zero[g] - offset) * gsum[g] for every group g, 16 groups
 * per step (lane-wise: the caller's one horizontal sum covers it). */
INLINE __m512 sub_zero_term(const lrq_q8p_act *act, int64_t ng, const float *scale, const float *zero, float offset,
                            __m512 acc) {
    const __m512 off = _mm512_set1_ps(offset);
    for (int64_t g = 0; g < ng; g += 16) {
        const __mmask16 m = first16(ng - g);
        const __m512 z = zero ? _mm512_maskz_loadu_ps(m, zero + g) : _mm512_setzero_ps();
        const __m512 sc = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, scale + g), _mm512_sub_ps(z, off));
        acc = _mm512_fnmadd_ps(sc, _mm512_maskz_loadu_ps(m, act->gsum + g), acc);
    }
    return acc;
}

/* The scales of a full step's 16 lanes from L0 when the group covers `lpg`
 * lanes (a compile-time 2, 4 or 8: 8, 4 or 2 groups per step, aligned to
 * it; 16: one group for all lanes, any multiple of 16 lanes per group; 0:
 * anything else, through apply16's general path). */
INLINE __m512 scales_fast(const lrq_q8p_act *act, int64_t L0, const float *scale, int lpg) {
    if (lpg == 2)
        return _mm512_permutexvar_ps(_mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7),
                                     _mm512_castps256_ps512(_mm256_loadu_ps(scale + L0 / 2)));
    if (lpg == 4)
        return _mm512_permutexvar_ps(_mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3),
                                     _mm512_castps128_ps512(_mm_loadu_ps(scale + L0 / 4)));
    if (lpg == 8)
        return _mm512_permutexvar_ps(_mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1),
                                     _mm512_castps128_ps512(_mm_castsi128_ps(_mm_loadl_epi64((const __m128i *)(scale + L0 / 8)))));
    /* (two floats by an unaligned 64-bit load: _mm_load_sd through a double pointer is a misaligned access) */
    return _mm512_set1_ps(scale[act->gl[L0]]);
}

/* acc += lane sums I scaled, the step's block scales dl[L0 ..] given (loaded
 * once for the rows of dot24m): the fast scale forms (lpg != 0). */
INLINE __m512 apply_dl(const lrq_q8p_act *act, int64_t L0, const float *scale, __m512i I, __m512 dl, __m512 acc,
                       int lpg) {
    return _mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(I), dl), scales_fast(act, L0, scale, lpg), acc);
}

/* acc += lane sums I scaled: the fast forms for full steps, apply16 otherwise. */
INLINE __m512 apply(const lrq_q8p_act *act, int64_t L0, int64_t ng, const float *scale, __m512i I, __m512 acc,
                    int lpg) {
    if (lpg == 0) return apply16(act, L0, ng, scale, I, acc);
    return apply_dl(act, L0, scale, I, _mm512_load_ps(act->dl + L0), acc, lpg);
}

/* Field p (bits [w p, w p + w)) of every byte of v, as a byte 0 .. 2^w - 1.
 * With GFNI (the planes_q8_avx512gfni.c build of this file) one affine
 * bit-matrix transform per field: output bit i of a byte = its input bit
 * w p + i, the others zero. Without it a 16-bit shift and a mask: two
 * operations, the difference that measured +30% in the streamed 2-bit
 * matrix-vector product (bench/bench_lq_dot.c; docs/benchmarks.md). The
 * same bytes either way, so both builds give the same bits. */
#if defined(LRQ_Q8P_GFNI)
#define GF_BIT(out, in) ((uint64_t)(1u << (in)) << (8 * (7 - (out))))
#define FIELD2(v, p) _mm512_gf2p8affine_epi64_epi8((v), _mm512_set1_epi64((long long)(GF_BIT(0, 2 * (p)) | GF_BIT(1, 2 * (p) + 1))), 0)
#define FIELD4HI(v)                                                                                             \
    _mm512_gf2p8affine_epi64_epi8((v), _mm512_set1_epi64((long long)(GF_BIT(0, 4) | GF_BIT(1, 5) | GF_BIT(2, 6) | GF_BIT(3, 7))), 0)
#else
#define FIELD2(v, p) _mm512_and_si512(_mm512_srli_epi16((v), 2 * (p)), _mm512_set1_epi8(3))
#define FIELD4HI(v) _mm512_and_si512(_mm512_srli_epi16((v), 4), _mm512_set1_epi8(15))
#endif

/* Lane sums of a 64-byte code vector with activation vectors already loaded
 * (A: 4 for bits 2, 2 for bits 4): the operations of lanes2 / lanes4. */
INLINE __m512i lanes_pre(int bits, __m512i v, const __m512i *A) {
    if (bits == 4) {
        const __m512i m15 = _mm512_set1_epi8(15);
        const __m512i I = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_and_si512(v, m15), A[0]);
        return _mm512_dpbusd_epi32(I, FIELD4HI(v), A[1]);
    }
    const __m512i m3 = _mm512_set1_epi8(3);
    __m512i I = _mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_and_si512(v, m3), A[0]);
    I = _mm512_dpbusd_epi32(I, FIELD2(v, 1), A[1]);
    I = _mm512_dpbusd_epi32(I, FIELD2(v, 2), A[2]);
    return _mm512_dpbusd_epi32(I, FIELD2(v, 3), A[3]);
}

/* lanes2 / lanes4: lane sums of one 64-byte vector of 2-bit (4-bit) codes
 * with the 256 (128) activation slots at a. */
INLINE __m512i lanes2(__m512i v, const int8_t *a) {
    const __m512i A[4] = {_mm512_load_si512(a), _mm512_load_si512(a + 64), _mm512_load_si512(a + 128),
                          _mm512_load_si512(a + 192)};
    return lanes_pre(2, v, A);
}
INLINE __m512i lanes4(__m512i v, const int8_t *a) {
    const __m512i A[2] = {_mm512_load_si512(a), _mm512_load_si512(a + 64)};
    return lanes_pre(4, v, A);
}

/* bits 2 and 4 (CV values per 64-byte chunk), for NT activations at once
 * (NT 1: dot; 4: the tile form, each chunk of codes loaded once and its
 * fields masked out once for all of them; acts[a] may repeat): out[a] =
 * the lane vector of the row with acts[a]. Every activation gets exactly
 * the operations it gets alone, so the tile form is dot bit for bit. */
INLINE void dot24(int bits, int NT, const lrq_q8p_act *const *acts, const uint8_t *row, const float *scale,
                  const float *zero, float offset, int lpg, size_t pfd, __m512 *out) {
    const int64_t cv = bits == 2 ? 256 : 128;
    const int64_t n = acts[0]->n, ng = n / acts[0]->group, nfull = n / cv, rb = n * bits / 8;
    __m512 acc0[4], acc1[4];
    for (int a = 0; a < NT; a++) acc0[a] = acc1[a] = _mm512_setzero_ps();
#define LANES(v, a, off) (bits == 2 ? lanes2(v, acts[a]->qs + (off)) : lanes4(v, acts[a]->qs + (off)))
    int64_t c = 0;
    for (; c + 2 <= nfull; c += 2) { /* two independent FMA chains */
        _mm_prefetch((const char *)row + c * 64 + pfd, _MM_HINT_T0);
        _mm_prefetch((const char *)row + c * 64 + 64 + pfd, _MM_HINT_T0);
        const __m512i v0 = _mm512_loadu_si512(row + c * 64), v1 = _mm512_loadu_si512(row + c * 64 + 64);
        for (int a = 0; a < NT; a++) {
            acc0[a] = apply(acts[a], c * 16, ng, scale, LANES(v0, a, c * cv), acc0[a], lpg);
            acc1[a] = apply(acts[a], c * 16 + 16, ng, scale, LANES(v1, a, c * cv + cv), acc1[a], lpg);
        }
    }
    if (c < nfull) {
        const __m512i v0 = _mm512_loadu_si512(row + c * 64);
        for (int a = 0; a < NT; a++) acc0[a] = apply(acts[a], c * 16, ng, scale, LANES(v0, a, c * cv), acc0[a], lpg);
        c++;
    }
    if (c * cv < n) { /* a partial last chunk: masked load, general scales */
        const __m512i v0 = _mm512_maskz_loadu_epi8(first_bytes(rb - c * 64), row + c * 64);
        for (int a = 0; a < NT; a++) acc1[a] = apply16(acts[a], c * 16, ng, scale, LANES(v0, a, c * cv), acc1[a]);
    }
#undef LANES
    for (int a = 0; a < NT; a++)
        out[a] = sub_zero_term(acts[a], ng, scale, zero, offset, _mm512_add_ps(acc0[a], acc1[a]));
}

/* dot24 for NR (1..4) rows with one activation: each chunk's activation
 * vectors and block scales are loaded once for all NR rows (the L1 loads
 * are what bounds the one-row loop: 6 of its 7 loads per code vector are
 * the activation's). Row i gets exactly the operations dot24 gives it
 * alone, so out[i] is dot24's bit for bit. Full steps only through the
 * fast scales (lpg != 0); a partial last chunk as dot24. */
INLINE void dot24m(int bits, int NR, const lrq_q8p_act *act, const uint8_t *const *rw, const float *const *sc,
                   const float *const *ze, float offset, int lpg, size_t pfd, __m512 *out) {
    const int64_t cv = bits == 2 ? 256 : 128, na = bits == 2 ? 4 : 2;
    const int64_t n = act->n, ng = n / act->group, nfull = n / cv, rb = n * bits / 8;
    __m512 acc0[4], acc1[4];
    __m512i A0[4], A1[4];
    for (int i = 0; i < NR; i++) acc0[i] = acc1[i] = _mm512_setzero_ps();
    int64_t c = 0;
    for (; c + 2 <= nfull; c += 2) {
        for (int p = 0; p < na; p++) {
            A0[p] = _mm512_load_si512(act->qs + c * cv + p * 64);
            A1[p] = _mm512_load_si512(act->qs + c * cv + cv + p * 64);
        }
        const __m512 d0 = _mm512_load_ps(act->dl + c * 16), d1 = _mm512_load_ps(act->dl + c * 16 + 16);
        for (int i = 0; i < NR; i++) {
            _mm_prefetch((const char *)rw[i] + c * 64 + pfd, _MM_HINT_T0);
            _mm_prefetch((const char *)rw[i] + c * 64 + 64 + pfd, _MM_HINT_T0);
            const __m512i v0 = _mm512_loadu_si512(rw[i] + c * 64), v1 = _mm512_loadu_si512(rw[i] + c * 64 + 64);
            acc0[i] = apply_dl(act, c * 16, sc[i], lanes_pre(bits, v0, A0), d0, acc0[i], lpg);
            acc1[i] = apply_dl(act, c * 16 + 16, sc[i], lanes_pre(bits, v1, A1), d1, acc1[i], lpg);
        }
    }
    if (c < nfull) {
        for (int p = 0; p < na; p++) A0[p] = _mm512_load_si512(act->qs + c * cv + p * 64);
        const __m512 d0 = _mm512_load_ps(act->dl + c * 16);
        for (int i = 0; i < NR; i++)
            acc0[i] = apply_dl(act, c * 16, sc[i], lanes_pre(bits, _mm512_loadu_si512(rw[i] + c * 64), A0), d0,
                               acc0[i], lpg);
        c++;
    }
    if (c * cv < n) { /* a partial last chunk: masked load, general scales */
        for (int i = 0; i < NR; i++) {
            const __m512i v0 = _mm512_maskz_loadu_epi8(first_bytes(rb - c * 64), rw[i] + c * 64);
            const __m512i I = bits == 2 ? lanes2(v0, act->qs + c * cv) : lanes4(v0, act->qs + c * cv);
            acc1[i] = apply16(act, c * 16, ng, sc[i], I, acc1[i]);
        }
    }
    for (int i = 0; i < NR; i++)
        out[i] = sub_zero_term(act, ng, sc[i], ze[i], offset, _mm512_add_ps(acc0[i], acc1[i]));
}

/* 64 3-bit codes (the half h of a 48-byte chunk v: bytes 24h .. 24h+23) as
 * bytes in element order. */
INLINE __m512i spread3(__m512i v, __m512i widx) {
    /* word w of a lane: the two bytes holding codes 2w and 2w+1 (bit 6w of the lane's 48 bits) */
    const __m512i bsel = _mm512_broadcast_i32x4(_mm_setr_epi8(0, 1, 0, 1, 1, 2, 2, 3, 3, 4, 3, 4, 4, 5, 5, 6));
    const __m512i wsh = _mm512_broadcast_i32x4(_mm_setr_epi16(0, 6, 4, 2, 0, 6, 4, 2));
    const __m512i t = _mm512_srlv_epi16(_mm512_shuffle_epi8(_mm512_permutexvar_epi16(widx, v), bsel), wsh);
    return _mm512_or_si512(_mm512_and_si512(t, _mm512_set1_epi16(0x0007)),
                           _mm512_and_si512(_mm512_slli_epi16(t, 5), _mm512_set1_epi16(0x0700)));
}

INLINE void dot3(int NT, const lrq_q8p_act *const *acts, const uint8_t *row, const float *scale, const float *zero,
                 float offset, int lpg, size_t pfd, __m512 *out) {
    const int64_t n = acts[0]->n, ng = n / acts[0]->group, nc = acts[0]->n_pad / 128, rb = n * 3 / 8;
    /* lane l of half h takes words 12h + 3l .. 12h + 3l + 3 (bytes 24h + 6l ..) to its words 0..3 */
    static const int16_t W0[32] = {0, 1, 2, 3, 0, 0, 0, 0, 3, 4, 5, 6, 0, 0, 0, 0,
                                   6, 7, 8, 9, 0, 0, 0, 0, 9, 10, 11, 12, 0, 0, 0, 0};
    const __m512i w0 = _mm512_loadu_si512(W0);
    const __m512i w1 = _mm512_add_epi16(w0, _mm512_set1_epi16(12));
    __m512 acc0[4], acc1[4];
    for (int a = 0; a < NT; a++) acc0[a] = acc1[a] = _mm512_setzero_ps();
    for (int64_t c = 0; c < nc; c++) {
        const int full = (c + 1) * 128 <= n;
        _mm_prefetch((const char *)row + c * 48 + pfd, _MM_HINT_T0);
        const __m512i v = _mm512_maskz_loadu_epi8(first_bytes(full ? 48 : rb - c * 48), row + c * 48);
        const __m512i s0 = spread3(v, w0), s1 = spread3(v, w1);
        for (int a = 0; a < NT; a++) {
            const int8_t *q = acts[a]->qs + c * 128;
            const __m512i I0 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), s0, _mm512_load_si512(q));
            const __m512i I1 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), s1, _mm512_load_si512(q + 64));
            if (full) {
                acc0[a] = apply(acts[a], c * 32, ng, scale, I0, acc0[a], lpg);
                acc1[a] = apply(acts[a], c * 32 + 16, ng, scale, I1, acc1[a], lpg);
            } else {
                acc0[a] = apply16(acts[a], c * 32, ng, scale, I0, acc0[a]);
                acc1[a] = apply16(acts[a], c * 32 + 16, ng, scale, I1, acc1[a]);
            }
        }
    }
    for (int a = 0; a < NT; a++)
        out[a] = sub_zero_term(acts[a], ng, scale, zero, offset, _mm512_add_ps(acc0[a], acc1[a]));
}

/* Software prefetch about PF_BYTES of codes ahead: the code bytes one line
 * per step (in dot2/3/4), the parameters of the row that far ahead once per
 * row. Measured on the 250880 x 1536 2-bit pass (bench/bench_lq_dot.c, one
 * thread): none 15 GB per CPU-second, 3 KB ahead 20, 6 KB 17-22, 12-24 KB
 * 16-17 (a loaded machine: rough). Prefetches never fault, so those past
 * the matrix are harmless. */
#define PF_BYTES 6144
INLINE void prefetch_params(const float *scale, const float *zero, size_t ng) {
    for (size_t i = 0; i < ng * 4; i += 64) {
        _mm_prefetch((const char *)scale + i, _MM_HINT_T0);
        if (zero) _mm_prefetch((const char *)zero + i, _MM_HINT_T0);
    }
}

/* The horizontal sum of one row's lane vector, in lrq_hsum16x16's order
 * (lanes i+8 onto i, i+4 onto i, then (0+2) + (1+3)), so that a row summed
 * alone and a row summed with 15 others give the same bits. */
INLINE float hsum_one(__m512 v) {
    const __m256 a = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
    const __m128 b = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    const __m128 c = _mm_add_ps(b, _mm_movehl_ps(b, b)); /* lanes 0+2, 1+3 */
    return _mm_cvtss_f32(_mm_add_ss(c, _mm_movehdup_ps(c)));
}

/* The lane vector of one row with one activation (what dot sums). */
INLINE __m512 row_vec(int bits, int lpg, const lrq_q8p_act *act, const uint8_t *row, const float *scale,
                      const float *zero, float offset, size_t pfd) {
    const lrq_q8p_act *acts[1] = {act};
    __m512 v;
    if (bits == 3) dot3(1, acts, row, scale, zero, offset, lpg, pfd, &v);
    else dot24(bits, 1, acts, row, scale, zero, offset, lpg, pfd, &v);
    return v;
}

/* Rows [0, nrows) of a matrix: codes rows of rb bytes, parameter rows of ng
 * floats; one instantiation per (bits, lanes per group), so the row loop
 * has no call or dispatch in it. Rows go 16 at a time: their lane vectors
 * are summed together (lrq_hsum16x16), which takes the horizontal sums off
 * each row's critical path. */
#define ROW_VEC(B, LPG, r) row_vec(B, LPG, act, codes + (size_t)(r) * rb, scale + (size_t)(r) * ng, \
                                   zero ? zero + (size_t)(r) * ng : NULL, offset, pfd)
#define PF_PARAMS(r)                                                                                           \
    do {                                                                                                       \
        if ((r) + pf_rows < nrows)                                                                             \
            prefetch_params(scale + (size_t)((r) + pf_rows) * ng, zero ? zero + (size_t)((r) + pf_rows) * ng : NULL, \
                            ng);                                                                               \
    } while (0)
#define ROWS(B, LPG)                                                                                           \
    {                                                                                                          \
        int64_t r = 0;                                                                                         \
        for (; r + 16 <= nrows; r += 16) {                                                                     \
            __m512 v[16];                                                                                      \
            if ((B) != 3 && (LPG) != 0) {                                                                      \
                for (int i = 0; i < 16; i += 4) {                                                              \
                    const uint8_t *rw[4];                                                                      \
                    const float *sc[4], *ze[4];                                                                \
                    for (int k = 0; k < 4; k++) {                                                              \
                        PF_PARAMS(r + i + k);                                                                  \
                        rw[k] = codes + (size_t)(r + i + k) * rb;                                              \
                        sc[k] = scale + (size_t)(r + i + k) * ng;                                              \
                        ze[k] = zero ? zero + (size_t)(r + i + k) * ng : NULL;                                 \
                    }                                                                                          \
                    dot24m(B, 4, act, rw, sc, ze, offset, LPG, pfd, v + i);                                    \
                }                                                                                              \
            } else                                                                                             \
                for (int i = 0; i < 16; i++) {                                                                 \
                    PF_PARAMS(r + i);                                                                          \
                    v[i] = ROW_VEC(B, LPG, r + i);                                                             \
                }                                                                                              \
            _mm512_storeu_ps(y + r, _mm512_permutexvar_ps(order, lrq_hsum16x16(v)));                           \
        }                                                                                                      \
        for (; r < nrows; r++) {                                                                               \
            PF_PARAMS(r);                                                                                      \
            y[r] = hsum_one(ROW_VEC(B, LPG, r));                                                               \
        }                                                                                                      \
    }

static void rows(const lrq_q8p_act *act, const uint8_t *codes, size_t rb, const float *scale, const float *zero,
                 size_t ng, float offset, int64_t nrows, float *y) {
    const int32_t lpg = act->group / act->lane_vals;
    /* rows are consecutive: PF_BYTES ahead is pf_rows rows ahead */
    const int64_t pf_rows = rb ? (int64_t)(PF_BYTES / rb) + 1 : 1;
    const size_t pfd = (size_t)pf_rows * rb;
    /* lrq_hsum16x16 puts output o = 4k + j in lane 4j + k */
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    const int mode = lpg == 2 || lpg == 4 || lpg == 8 ? lpg : lpg % 16 == 0 ? 16 : 0;
    /* the loop prefetches pfd ahead: fetch the first pfd bytes (and their rows' parameters) now, or a call on
     * a short block of rows (the forward pass hands out 64 at a time) waits on memory for its first pfd */
    if (nrows > 1) {
        const size_t head = (size_t)nrows * rb < pfd ? (size_t)nrows * rb : pfd;
        for (size_t o = 0; o < head; o += 64) _mm_prefetch((const char *)codes + o, _MM_HINT_T0);
        for (int64_t r = 0; r < pf_rows && r < nrows; r++)
            prefetch_params(scale + (size_t)r * ng, zero ? zero + (size_t)r * ng : NULL, ng);
    }
#define BY_MODE(B)                                  \
    switch (mode) {                                 \
    case 2: ROWS(B, 2) break;                       \
    case 4: ROWS(B, 4) break;                       \
    case 8: ROWS(B, 8) break;                       \
    case 16: ROWS(B, 16) break;                     \
    default: ROWS(B, 0) break;                      \
    }
    switch (act->bits) {
    case 2: BY_MODE(2) break;
    case 3: BY_MODE(3) break;
    default: BY_MODE(4) break;
    }
#undef BY_MODE
}
#undef ROWS
#undef ROW_VEC

static float dot(const lrq_q8p_act *act, const uint8_t *row, const float *scale, const float *zero, float offset) {
    float y;
    rows(act, row, 0, scale, zero, 0, offset, 1, &y);
    return y;
}

/* Tile form: rows [0, nrows) with ntok (1..4) activations, each chunk of
 * a row's codes loaded and unpacked once for all four (a missing token
 * repeats the last one: computed, not stored); 16 rows per token through
 * one lrq_hsum16x16, as `rows` does, so every output is dot bit for bit. */
INLINE void tile_body(int bits, int lpg, const lrq_q8p_act *const *ap, int ntok, const uint8_t *codes, size_t rb,
                      const float *scale, const float *zero, size_t ng, float offset, int64_t nrows, float *y,
                      size_t ys) {
    const int64_t pf_rows = (int64_t)(PF_BYTES / rb) + 1;
    const size_t pfd = (size_t)pf_rows * rb;
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    int64_t r = 0;
    __m512 v[4][16];
    for (; r < nrows; r++) {
        PF_PARAMS(r);
        const uint8_t *row = codes + (size_t)r * rb;
        const float *sc = scale + (size_t)r * ng, *ze = zero ? zero + (size_t)r * ng : NULL;
        __m512 o[4];
        if (bits == 3) dot3(4, ap, row, sc, ze, offset, lpg, pfd, o);
        else dot24(bits, 4, ap, row, sc, ze, offset, lpg, pfd, o);
        const int i = (int)(r & 15);
        for (int a = 0; a < 4; a++) v[a][i] = o[a];
        if (i == 15)
            for (int a = 0; a < ntok; a++)
                _mm512_storeu_ps(y + (size_t)a * ys + (size_t)(r - 15), _mm512_permutexvar_ps(order, lrq_hsum16x16(v[a])));
    }
    for (int64_t q = nrows & ~(int64_t)15; q < nrows; q++)
        for (int a = 0; a < ntok; a++) y[(size_t)a * ys + (size_t)q] = hsum_one(v[a][q & 15]);
}

static void tile(const lrq_q8p_act *acts, int ntok, const uint8_t *codes, size_t rb, const float *scale,
                 const float *zero, size_t ng, float offset, int64_t nrows, float *y, size_t ys) {
    const lrq_q8p_act *ap[4];
    for (int a = 0; a < 4; a++) ap[a] = &acts[a < ntok ? a : ntok - 1];
    const int32_t lpg = acts[0].group / acts[0].lane_vals;
    const int mode = lpg == 2 || lpg == 4 || lpg == 8 ? lpg : lpg % 16 == 0 ? 16 : 0;
#define T_MODE(B)                                                                                                  \
    switch (mode) {                                                                                                \
    case 2: tile_body(B, 2, ap, ntok, codes, rb, scale, zero, ng, offset, nrows, y, ys); break;                    \
    case 4: tile_body(B, 4, ap, ntok, codes, rb, scale, zero, ng, offset, nrows, y, ys); break;                    \
    case 8: tile_body(B, 8, ap, ntok, codes, rb, scale, zero, ng, offset, nrows, y, ys); break;                    \
    case 16: tile_body(B, 16, ap, ntok, codes, rb, scale, zero, ng, offset, nrows, y, ys); break;                  \
    default: tile_body(B, 0, ap, ntok, codes, rb, scale, zero, ng, offset, nrows, y, ys); break;                   \
    }
    switch (acts[0].bits) {
    case 2: T_MODE(2) break;
    case 3: T_MODE(3) break;
    default: T_MODE(4) break;
    }
#undef T_MODE
}
#undef PF_PARAMS

/* ------------------------------------------------------- K replicas -- */

/* The lane sums of step t (16 lanes from lane 16t) of a row, and whether
 * the step is whole (else: masked load, padding). The same loads and
 * integer operations as dot2/3/4. */
INLINE __m512i step_lanes(const lrq_q8p_act *act, const uint8_t *row, int64_t t, int *full) {
    const int64_t n = act->n;
    if (act->bits == 3) {
        static const int16_t W0[32] = {0, 1, 2, 3, 0, 0, 0, 0, 3, 4, 5, 6, 0, 0, 0, 0,
                                       6, 7, 8, 9, 0, 0, 0, 0, 9, 10, 11, 12, 0, 0, 0, 0};
        const int64_t c = t >> 1, rb = n * 3 / 8;
        *full = (c + 1) * 128 <= n;
        const __m512i v = _mm512_maskz_loadu_epi8(first_bytes(*full ? 48 : rb - c * 48), row + c * 48);
        __m512i w = _mm512_loadu_si512(W0);
        if (t & 1) w = _mm512_add_epi16(w, _mm512_set1_epi16(12));
        return _mm512_dpbusd_epi32(_mm512_setzero_si512(), spread3(v, w), _mm512_load_si512(act->qs + c * 128 + (t & 1) * 64));
    }
    const int64_t rb = n * act->bits / 8;
    *full = (t + 1) * 64 <= rb;
    const __m512i v = *full ? _mm512_loadu_si512(row + t * 64)
                            : _mm512_maskz_loadu_epi8(first_bytes(rb - t * 64), row + t * 64);
    return act->bits == 2 ? lanes2(v, act->qs + t * 256) : lanes4(v, act->qs + t * 128);
}

/* K (a constant 1..4) parameter sets on one code row: each step's lane
 * sums and their d scaling formed once, then each set's scales. Replica k
 * gets exactly dot's operations with set k (the same accumulator of the two
 * for every step, the same zero term and horizontal sum): bit for bit. */
INLINE void body_k(const lrq_q8p_act *act, const uint8_t *row, int K, const float *const *sc, const float *const *ze,
                   const float *off, int lpg, float *y) {
    const int64_t ng = act->n / act->group, steps = act->n_pad / (16 * act->lane_vals);
    __m512 a0[4], a1[4];
    for (int k = 0; k < K; k++) a0[k] = a1[k] = _mm512_setzero_ps();
    for (int64_t t = 0; t < steps; t++) {
        int full;
        const __m512i I = step_lanes(act, row, t, &full);
        const __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(I), _mm512_load_ps(act->dl + t * 16));
        /* dot2/dot4: even whole steps to acc0, odd ones and a partial last one to acc1; dot3: by half */
        const int second = act->bits == 3 ? (int)(t & 1) : full ? (int)(t & 1) : 1;
        for (int k = 0; k < K; k++) {
            const __m512 s = full && lpg ? scales_fast(act, t * 16, sc[k], lpg) : scales_general(act, t * 16, ng, sc[k]);
            if (second) a1[k] = _mm512_fmadd_ps(f, s, a1[k]);
            else a0[k] = _mm512_fmadd_ps(f, s, a0[k]);
        }
    }
    for (int k = 0; k < K; k++)
        y[k] = hsum_one(sub_zero_term(act, ng, sc[k], ze ? ze[k] : NULL, off[k], _mm512_add_ps(a0[k], a1[k])));
}

static void dot_k(const lrq_q8p_act *act, const uint8_t *row, int K, const float *const *scales,
                  const float *const *zeros, const float *offsets, float *y) {
    const int32_t lpg = act->group / act->lane_vals;
    const int mode = lpg == 2 || lpg == 4 || lpg == 8 ? lpg : lpg % 16 == 0 ? 16 : 0;
    for (int k0 = 0; k0 < K; k0 += 4) { /* four sets per read of the codes */
        const float *const *ze = zeros ? zeros + k0 : NULL;
        switch (K - k0 >= 4 ? 4 : K - k0) {
        case 1: body_k(act, row, 1, scales + k0, ze, offsets + k0, mode, y + k0); break;
        case 2: body_k(act, row, 2, scales + k0, ze, offsets + k0, mode, y + k0); break;
        case 3: body_k(act, row, 3, scales + k0, ze, offsets + k0, mode, y + k0); break;
        default: body_k(act, row, 4, scales + k0, ze, offsets + k0, mode, y + k0); break;
        }
    }
}

static const lrq_q8p_kernels avx512_kernels = {.dot = dot, .rows = rows, .dot_k = dot_k, .tile = tile};

/* The AVX-512 (VNNI) kernels (contracts in kern/planes_q8.h), built
 * without and (planes_q8_avx512gfni.c) with GFNI; only for
 * kern/planes_q8.c, which hands them out by level and CPU. */
#if defined(LRQ_Q8P_GFNI)
const lrq_q8p_kernels *lrq_q8p_avx512_gfni(void);
const lrq_q8p_kernels *lrq_q8p_avx512_gfni(void) { return &avx512_kernels; }
#else
const lrq_q8p_kernels *lrq_q8p_avx512(void);
const lrq_q8p_kernels *lrq_q8p_avx512(void) { return &avx512_kernels; }
#endif
