/* planes_q8.h — int8-activation dot kernels for planes tensors (codes in
 * fmt/planes.h, parameters as float planes, fmt/tensor.h):
 *     w[j] = scale[g] * (q[j] - zero[g] + offset),  g = j / group
 * for decode (one token: a matrix-vector product), where the codes are the
 * memory traffic and the kernel must keep up with memory: the input x is
 * rounded to int8 once per token (lrq_q8p_quantize), and each row is then
 * an integer dot of the codes with those int8 values (AVX-512 VNNI vpdpbusd,
 * AVX2 vpmaddubsw), the parameters applied per group.
 *
 * Activation scheme (the specification, planes_q8.c):
 *  - x is cut into blocks of 32 values; block b gets d[b] = max|x| / 127
 *    and a[j] = round(x[j] / d[b]) in [-127, 127] (0 for an all-zero block);
 *    so x is replaced by x^[j] = d[b] * a[j] (lrq_q8p_value);
 *  - per group g of the weights (the group size is fixed at quantization
 *    time): gsum[g] = Σ_{b in g} d[b] * (float)Σ_{j in b} a[j], in block
 *    order — the sum of x^ over the group, shared by every row, so the
 *    zero/offset term of a row costs one multiply per group.
 * Row arithmetic (planes_q8_ref.c is the specification):
 *     isum[b] = Σ_{j in b} q[j] * a[j]                  (int32, exact)
 *     sq[g]   = Σ_{b in g} d[b] * (float)isum[b]         (block order)
 *     y       = Σ_g scale[g] * (sq[g] - (zero[g] - offset) * gsum[g])
 * i.e. y is Σ_j w[j] x^[j] up to float rounding. The SIMD versions
 * (planes_q8_avx2.c, planes_q8_avx512.c) form the same integer sums (over
 * 16 or 8 values at a time instead of 32: exact either way) but combine
 * them in another float order (per 32-bit lane, the zero term apart, FMA):
 * they are tested against the reference within a bound derived from the
 * magnitudes of the terms (tests/test_planes_q8.c).
 *
 * The int8 values are stored in the order the kernels unpack codes (why:
 * the codes are then used exactly as loaded, with no shuffle per row):
 *  - bits 2: chunks of 256 values; qs[c*256 + p*64 + k] = a[c*256 + 4k + p]
 *    (byte k of a 64-byte code vector holds codes 4k .. 4k+3, p = the
 *    2-bit field);
 *  - bits 4: chunks of 128; qs[c*128 + p*64 + k] = a[c*128 + 2k + p];
 *  - bits 3: element order (the kernels spread 3-bit codes to bytes).
 * A last partial chunk is stored at full size with zeros where there are
 * no values. So an activation is prepared for one code width and one group
 * size; a forward pass quantizes its input once per (bits, group) it needs.
 *
 * Scope: bits in {2, 3, 4}; n % 32 == 0 and group % 32 == 0 (group divides
 * n; group = n is the per-row case); uniform grids (no codebook). Other
 * shapes use the F32-activation kernels of kern/planes.h.
 */
#ifndef LRQ_KERN_PLANES_Q8_H
#define LRQ_KERN_PLANES_Q8_H

#include <stddef.h>
#include <stdint.h>

#include "fmt/tensor.h"

/* Most replicas one K-form call handles (as kern/planes.h). */
#define LRQ_Q8P_MAX_K 16

/* Values per activation block (one scale each). */
#define LRQ_Q8P_BLOCK 32

/* An int8-rounded activation row, laid out for one code width and group
 * size. Every array lives in the buffer given to lrq_q8p_quantize (64-byte
 * aligned parts). A "lane" is one 32-bit integer sum of the kernels: lane
 * L sums the values [L * lane_vals, (L + 1) * lane_vals) (element order;
 * for bits 2 and 4 they come from several bytes of a code vector). */
typedef struct lrq_q8p_act {
    int bits;           /* code width the layout is for: 2, 3 or 4 */
    int64_t n;          /* values (n % 32 == 0) */
    int32_t group;      /* weight group size gsum is formed for (group % 32 == 0, divides n) */
    int64_t n_pad;      /* slots of qs: n rounded up to a whole chunk */
    int32_t lane_vals;  /* values per lane: 16 (bits 2), 4 (bits 3), 8 (bits 4) */
    const int8_t *qs;   /* [n_pad] the int8 values a[j], in the layout order above (0 in padding) */
    const float *d;     /* [n / 32] block scales: x^[j] = d[j / 32] * a[j] */
    const float *gsum;  /* [n / group] Σ x^ over each group (the scheme above) */
    const float *dl;    /* [n_pad / lane_vals] d of each lane's block (0 past n) */
    const int32_t *gl;  /* [n_pad / lane_vals] group of each lane (past n: the last group) */
} lrq_q8p_act;

/* Bytes of the buffer lrq_q8p_quantize needs for (bits, n, group), in
 * *out. Returns 0, or -1 (with lrq_err_set) on arguments outside the scope
 * above or a size that overflows size_t. */
int lrq_q8p_act_bytes(int bits, int64_t n, int32_t group, size_t *out);

/* Rounds x[0 .. n) to int8 per the scheme above into `buf` (buf_bytes >=
 * lrq_q8p_act_bytes(..); any alignment: the parts are aligned inside it)
 * and describes it in *act (whose pointers point into buf). No allocation:
 * the forward pass passes arena scratch. x must be finite. Returns 0, or -1
 * (with lrq_err_set) on bad arguments or a too small buffer. */
int lrq_q8p_quantize(int bits, int64_t n, int32_t group, const float *x, void *buf, size_t buf_bytes,
                     lrq_q8p_act *act);

/* x^[j], the value activation slot j stands for (j in [0, n)): d[j / 32] *
 * a[j], read through the layout. For tests and the reference. */
float lrq_q8p_value(const lrq_q8p_act *act, int64_t j);
/* a[j], the int8 value of element j (j in [0, n)), read through the layout. */
int lrq_q8p_int(const lrq_q8p_act *act, int64_t j);

typedef struct lrq_q8p_kernels {
    /* Σ_j w[j] x^[j] of one row (the arithmetic above); codes_row: one
     * packed row of act->n codes of act->bits bits (nothing past it is
     * read); scale_row, zero_row: the row's act->n / act->group parameters
     * (zero_row NULL = symmetric). Unchecked (the inner loop). */
    float (*dot)(const lrq_q8p_act *act, const uint8_t *codes_row, const float *scale_row, const float *zero_row,
                 float offset);
    /* y[r] = dot of row r, r < nrows, of consecutive rows: codes row r at
     * codes + r * row_bytes, its parameters at scale + r * ng and zero +
     * r * ng (zero NULL = symmetric); bit for bit what dot gives for each
     * row. One call per thread share: no call or dispatch per row. */
    void (*rows)(const lrq_q8p_act *act, const uint8_t *codes, size_t row_bytes, const float *scale,
                 const float *zero, size_t ng, float offset, int64_t nrows, float *y);
    /* K-replica form (K parameter sets sharing the codes, fmt/tensor.h):
     * y[k] = dot of the row with scale_rows[k], zero_rows[k] (zero_rows
     * NULL, or zero_rows[k] NULL: symmetric) and offsets[k], k < K
     * (1 <= K <= LRQ_Q8P_MAX_K); each y[k] is bit for bit dot with set k.
     * AVX-512 forms each step's integer sums once for up to 4 sets (codes
     * read once per 4 sets); the reference and AVX2 run dot per set. */
    void (*dot_k)(const lrq_q8p_act *act, const uint8_t *codes_row, int K, const float *const *scale_rows,
                  const float *const *zero_rows, const float *offsets, float *y);
    /* Tile form (prefill): y[t * y_stride + r] = dot of row r with acts[t],
     * for t < ntok (1 <= ntok <= LRQ_Q8P_TILE_TOK) and r < nrows, the rows
     * and their parameters laid out as in `rows`; acts[t] all prepared for
     * the same bits, n and group. Every output bit for bit what dot gives
     * (so how tokens are batched changes no bit); the point is that the
     * codes of a row are loaded and unpacked once for the ntok tokens.
     * NULL: lrq_q8p_matmul runs `rows` once per token. */
    void (*tile)(const lrq_q8p_act *acts, int ntok, const uint8_t *codes, size_t row_bytes, const float *scale,
                 const float *zero, size_t ng, float offset, int64_t nrows, float *y, size_t y_stride);
} lrq_q8p_kernels;

/* Most tokens one tile call takes. */
#define LRQ_Q8P_TILE_TOK 4

/* The scalar reference (the specification). */
const lrq_q8p_kernels *lrq_q8p_ref(void);
/* The fastest kernels for this CPU: follows lrq_types_isa() (so LRQ_ISA). */
const lrq_q8p_kernels *lrq_q8p_get(void);
/* The kernels of one level ("scalar", "avx2", "avx512", "neon") whether or not it
 * is the selected one — for tests and benchmarks; the caller checks that the
 * CPU has it. NULL if this build has none for that level. "avx512" is the
 * GFNI build of the AVX-512 kernels on a CPU with GFNI (the plain one
 * otherwise); "avx512-nogfni" is always the plain one (same bits). */
const lrq_q8p_kernels *lrq_q8p_get_isa(const char *isa);

/* y[r] = row r of an [ne1][ne0] planes matrix of act->bits-bit codes
 * (view qp: layout LRQ_PARAMS_PLANES, set qp->set of its planes, no
 * codebook) dotted with the activation, for r in [r0, r1) (other entries
 * untouched: threads split the rows of one output). `kern` NULL =
 * lrq_q8p_get(). Returns 0, or -1 with lrq_err_set (nothing written) if
 * ne0 != act->n, the view's group is not act->group, the view has a
 * codebook or no scale plane, the set or the row range is out of range. */
int lrq_q8p_matvec(const lrq_q8p_kernels *kern, int64_t ne0, int64_t ne1, const uint8_t *codes,
                   const lrq_qparams *qp, const lrq_q8p_act *act, int64_t r0, int64_t r1, float *y);

/* Batched form (prefill): y[t * y_stride + r] = row r dotted with acts[t]
 * for t < ntok and r in [r0, r1) (other entries untouched), through the
 * tile kernel LRQ_Q8P_TILE_TOK tokens at a time (rows per token if the
 * kernels have none); bit for bit lrq_q8p_matvec of each token. Errors as
 * lrq_q8p_matvec (every acts[t] checked), or ntok < 1, or y_stride < ne1. */
int lrq_q8p_matmul(const lrq_q8p_kernels *kern, int64_t ne0, int64_t ne1, const uint8_t *codes,
                   const lrq_qparams *qp, const lrq_q8p_act *acts, int ntok, int64_t r0, int64_t r1, float *y,
                   size_t y_stride);

/* K replicas of the same codes, one activation: ys[k][r] = row r with view
 * qps[k] (each its own set, planes and offset; the activation's group),
 * for r in [r0, r1); the codes are streamed once (dot_k). Returns 0, or -1
 * with lrq_err_set (nothing written) on the errors of lrq_q8p_matvec for
 * any view, or K outside [1, LRQ_Q8P_MAX_K]. */
int lrq_q8p_matvec_k(const lrq_q8p_kernels *kern, int64_t ne0, int64_t ne1, const uint8_t *codes, int K,
                     const lrq_qparams *qps, const lrq_q8p_act *act, int64_t r0, int64_t r1, float *const *ys);

#endif
