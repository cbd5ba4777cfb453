/* lq_spec.h — the knobs of lrq's own low-bit family "lq" (docs/formats.md)
 * and their compact text form, e.g. "b4g32a", "b2g64spq6x16o0.5rscs",
 * "b3grkt10".
 *
 * A spec is a sequence of tokens, each a letter and its argument, in any
 * order, each kind at most once (lrq_lq_spec_format writes them in the order
 * below, so format(parse(s)) is the canonical form of s):
 *   b<N>        code width N in {2, 3, 4, 5, 6, 8} (required)
 *   g<N> | gr   group of N values along a row, 16 <= N <= 256 (must divide
 *               the row); gr = one group per row (per channel) (required)
 *   s | a       symmetric (scale; default) | asymmetric (scale + integer
 *               zero point)
 *   p16 | pb16 | pq<K>[x<S>]
 *               parameter storage: F16 (default) | BF16 | double
 *               quantization: K-bit scale codes (4 <= K <= 8), one F16 step
 *               per super-block of S consecutive groups (1 <= S <= 4096,
 *               default 16); asymmetric zero points are then stored as b-bit
 *               codes (they are integers in [0, 2^b - 1], so exactly)
 *   o<F> | og   grid offset: a fixed fraction F of a step in [0, 1) for the
 *               whole tensor (default o0) | og: per group, the best of
 *               {0, 1/4, 1/2, 3/4} (stored as 2-bit codes)
 *   rn | rs | rz<L>
 *               code choice: nearest (default) | seeded stochastic rounding
 *               (unbiased) | nearest after seeded uniform noise of width L
 *               steps (noise in [-L/2, L/2) steps, 0 <= L <= 16)
 *   c<R> | cs   clipping: a fixed ratio R in (0, 1] of the group's range
 *               (default c1 = none) | cs: search over the ratios
 *               1, 0.975, ..., 0.5, minimising the (imatrix-weighted) squared
 *               error of the group under nearest rounding
 *   kt<I>[u] | kr<I>[u]
 *               non-uniform grid: a 2^b-entry codebook per tensor (kt) or
 *               per row (kr), fitted by I iterations (0 <= I <= 1000) of
 *               weighted 1-D k-means on the normalised values; initial grid
 *               seeded k-means++, or with u the uniform grid 0, 1, ..,
 *               2^b - 1 (so kt0u is the uniform grid); default: none
 * Letters are lowercase; no spaces.
 */
#ifndef LRQ_FMT_LQ_SPEC_H
#define LRQ_FMT_LQ_SPEC_H

#include <stddef.h>
#include <stdint.h>

#include "fmt/tensor.h"

enum lrq_lq_pstore { LRQ_LQ_P_F16 = 0, LRQ_LQ_P_BF16 = 1, LRQ_LQ_P_Q = 2 };
enum lrq_lq_round { LRQ_LQ_ROUND_NEAREST = 0, LRQ_LQ_ROUND_STOCH = 1, LRQ_LQ_ROUND_NOISE = 2 };
enum lrq_lq_clip { LRQ_LQ_CLIP_FIXED = 0, LRQ_LQ_CLIP_SEARCH = 1 };
enum lrq_lq_cb { LRQ_LQ_CB_NONE = 0, LRQ_LQ_CB_TENSOR = 1, LRQ_LQ_CB_ROW = 2 };

typedef struct lrq_lq_spec {
    int bits;            /* 2..6 or 8 */
    int32_t group;       /* 16..256, or 0 = one group per row */
    int asym;            /* 0 symmetric, 1 asymmetric */
    int pstore;          /* enum lrq_lq_pstore */
    int pbits;           /* LRQ_LQ_P_Q: scale code width (4..8) */
    int32_t psuper;      /* LRQ_LQ_P_Q: groups per super-block (1..4096) */
    float offset;        /* per-tensor grid offset, fraction of a step in [0, 1) */
    int offset_group;    /* 1: per-group offsets from {0, 1/4, 1/2, 3/4} (then offset is 0) */
    int round;           /* enum lrq_lq_round */
    float noise;         /* LRQ_LQ_ROUND_NOISE: width in steps */
    int clip;            /* enum lrq_lq_clip */
    float clip_ratio;    /* LRQ_LQ_CLIP_FIXED: ratio in (0, 1] (1 = no clipping) */
    int cb;              /* enum lrq_lq_cb */
    int cb_iters;        /* k-means iterations */
    int cb_uniform_init; /* 1: start from the uniform grid; 0: seeded k-means++ */
} lrq_lq_spec;

/* The spec with every default and the given code width and group
 * (group 0 = per row). Does not validate (lrq_lq_spec_check does). */
lrq_lq_spec lrq_lq_spec_default(int bits, int32_t group);

/* Parse the text form (grammar above) into *out. Returns 0, or -1 with
 * lrq_err_set naming the offending token ("lq spec 'b4g7': group 7 outside
 * 16..256"); *out is then unchanged. */
int lrq_lq_spec_parse(const char *text, lrq_lq_spec *out);

/* Validate a spec's fields (ranges above). Returns 0 or -1 with an error. */
int lrq_lq_spec_check(const lrq_lq_spec *s);

/* The canonical text form of a valid spec into buf (cap bytes, NUL
 * terminated; 64 bytes always suffice). Returns 0, or -1 with an error if
 * the spec is invalid or cap is too small. */
int lrq_lq_spec_format(const lrq_lq_spec *s, char *buf, size_t cap);

/* The group size a spec gives rows of ne0 values (ne0 itself for "gr").
 * Returns 0 and *group, or -1 with an error if the group does not divide
 * ne0, ne0 is not a multiple of 8 (the code tensor's GGUF block), or ne0 < 1. */
int lrq_lq_spec_group(const lrq_lq_spec *s, int64_t ne0, int32_t *group);

/* Exact bytes of every lq tensor (codes + companions, docs/formats.md) of an
 * [ne1][ne0] matrix quantized with spec s: the GGUF tensor data, excluding
 * alignment padding and the tensor-info headers. Returns 0 or -1 with an
 * error (bad spec or shape, overflow). */
int lrq_lq_bytes(const lrq_lq_spec *s, int64_t ne0, int64_t ne1, uint64_t *bytes);

/* The kernel view (fmt/tensor.h) of decoded parameters: sets qp->layout,
 * group, n_sets = 1, set = 0, scale = `scale`, codebook/cb_rows, and folds
 * z and the offsets into qp->zero / qp->offset so that the planes kernels'
 * s * (v - (zero - offset)) is the dequantization above:
 *   symmetric, tensor offset o:  zero = NULL, offset = o - 2^(b-1)
 *   asymmetric, tensor offset o: zero = z, offset = o
 *   per-group offsets:           zero = z - og / 4 (z = 2^(b-1) when
 *                                symmetric), offset = 0
 * zero_buf [nrow][ng] receives the zero plane when one is needed (asym or
 * og; it may be NULL otherwise); z: [nrow][ng] or NULL (symmetric); og:
 * [nrow][ng] codes or NULL. Returns 0, or -1 with an error when a needed
 * input is missing. */
int lrq_lq_view(const lrq_lq_spec *s, int32_t group, int64_t nrow, int32_t ng, const float *scale, const float *z,
                const uint8_t *og, const float *codebook, int64_t cb_rows, float *zero_buf, lrq_qparams *qp);

/* The GGUF tensors of one lq matrix (docs/formats.md), in file order:
 * the codes under the weight's own name, then the companions
 * "<name><suffix>". */
enum lrq_lq_part_kind {
    LRQ_LQ_CODES = 0, /* ""        lq<b>  ne as the weight: [ne0][rows] packed b-bit codes (fmt/planes.h) */
    LRQ_LQ_S,         /* ".lq_s"   F16 or BF16 [ng][rows]: scales (p16 / pb16) */
    LRQ_LQ_SQ,        /* ".lq_sq"  I8 [bytes]: K-bit scale codes, one bit stream in group order (pq) */
    LRQ_LQ_SD,        /* ".lq_sd"  F16 [n_super]: super-block steps (pq) */
    LRQ_LQ_Z,         /* ".lq_z"   F16 or BF16 [ng][rows]: integer zero points (asym, p16 / pb16) */
    LRQ_LQ_ZQ,        /* ".lq_zq"  I8 [bytes]: b-bit zero points, one bit stream in group order (asym, pq) */
    LRQ_LQ_OG,        /* ".lq_og"  I8 [bytes]: 2-bit offset codes o = code / 4, one bit stream (og) */
    LRQ_LQ_CB,        /* ".lq_cb"  F32 [2^b][1 or rows]: codebook centres (kt / kr) */
    LRQ_LQ_N_PARTS
};

typedef struct lrq_lq_part {
    int kind;            /* enum lrq_lq_part_kind */
    const char *suffix;  /* "" for the codes */
    int type;            /* GGUF tensor type (lrq_type id) */
    uint32_t n_dims;
    int64_t ne[4];
    uint64_t nbytes;
} lrq_lq_part;

/* The name of the string key holding a tensor's canonical spec:
 * "lrq.lq.<name>" into buf (cap bytes). Returns 0 or -1 with an error. */
int lrq_lq_key(const char *name, char *buf, size_t cap);

/* The suffix of a companion tensor name ("blk.0.attn_q.weight.lq_s" ->
 * kind LRQ_LQ_S, *base_len = length of "blk.0.attn_q.weight"), or -1 if the
 * name is not a companion's. */
int lrq_lq_companion(const char *name, size_t *base_len);

/* The tensors of a matrix quantized with spec s, of shape ne (n_dims 2..4;
 * rows = ne[1] * ne[2] * ne[3]), in file order, into parts. Returns their
 * number (1..LRQ_LQ_N_PARTS), or -1 with an error (bad spec or shape,
 * overflow). The sum of their nbytes is lrq_lq_bytes. */
int lrq_lq_layout(const lrq_lq_spec *s, uint32_t n_dims, const int64_t *ne, lrq_lq_part *parts);

/* n codes of `bits` bits (1..8; one per byte in v, each < 2^bits) into one
 * little-endian bit stream out (ceil(n * bits / 8) bytes, padding zero):
 * code i in bits [i * bits, i * bits + bits). unpack is the inverse. */
void lrq_lq_pack_bits(const uint8_t *v, uint64_t n, int bits, uint8_t *out);
void lrq_lq_unpack_bits(const uint8_t *in, uint64_t n, int bits, uint8_t *v);

#endif
