/* types.h — the tensor element types (ids = ggml's, plus a reserved lrq
 * range), and ONE traits row per type: the single source of truth for its
 * name, block layout, dequantization, reference quantizer, the "partner"
 * type activations are rounded to before a dot product (exactly as
 * llama.cpp's CPU backend does), and — registered by the kernel layer
 * (kern/dispatch.c) — its dot-product and tile kernels. fmt sits below kern:
 * nothing here calls a kernel; kernels register into the rows.
 *
 * Layout convention for all row functions: a row of n elements (n a multiple
 * of the type's block size) is n/blck_size consecutive blocks of type_size
 * bytes, in the byte layout of ggml's block_* structs (little-endian).
 */
#ifndef LRQ_FMT_TYPES_H
#define LRQ_FMT_TYPES_H

#include <stddef.h>
#include <stdint.h>

enum lrq_type {
    LRQ_TYPE_F32 = 0,
    LRQ_TYPE_F16 = 1,
    LRQ_TYPE_Q4_0 = 2,
    LRQ_TYPE_Q4_1 = 3,
    LRQ_TYPE_Q5_0 = 6,
    LRQ_TYPE_Q5_1 = 7,
    LRQ_TYPE_Q8_0 = 8,
    LRQ_TYPE_Q8_1 = 9,
    LRQ_TYPE_Q2_K = 10,
    LRQ_TYPE_Q3_K = 11,
    LRQ_TYPE_Q4_K = 12,
    LRQ_TYPE_Q5_K = 13,
    LRQ_TYPE_Q6_K = 14,
    LRQ_TYPE_Q8_K = 15,
    LRQ_TYPE_IQ2_XXS = 16,
    LRQ_TYPE_IQ2_XS = 17,
    LRQ_TYPE_IQ3_XXS = 18,
    LRQ_TYPE_IQ1_S = 19,
    LRQ_TYPE_IQ4_NL = 20,
    LRQ_TYPE_IQ3_S = 21,
    LRQ_TYPE_IQ2_S = 22,
    LRQ_TYPE_IQ4_XS = 23,
    LRQ_TYPE_I8 = 24,
    LRQ_TYPE_I16 = 25,
    LRQ_TYPE_I32 = 26,
    LRQ_TYPE_I64 = 27,
    LRQ_TYPE_F64 = 28,
    LRQ_TYPE_IQ1_M = 29,
    LRQ_TYPE_BF16 = 30,
    LRQ_TYPE_TQ1_0 = 34,
    LRQ_TYPE_TQ2_0 = 35,
    LRQ_TYPE_MXFP4 = 39,
    LRQ_TYPE_NVFP4 = 40,
    LRQ_TYPE_Q1_0 = 41,
    LRQ_TYPE_Q2_0 = 42,
    LRQ_TYPE_COUNT = 43,   /* ggml ids are 0 .. LRQ_TYPE_COUNT-1 */

    /* lrq's own formats (issue "quantization lab") get ids from this range.
     * GGUF stores a type as a uint32; ggml's ids are small and grow by a few
     * a year, so a range starting at 0x4C520000 ('L','R' in the top bytes)
     * cannot collide with a future ggml id. */
    LRQ_TYPE_LRQ_FIRST = 0x4C520000,
    /* The "lq" family (docs/formats.md): the code array of a planes tensor
     * with b-bit codes (fmt/planes.h); its parameters are companion tensors.
     * The id is LRQ_TYPE_LQ_BASE + b. A row of n codes is n / 8 "blocks" of
     * b bytes (8 codes fill exactly b bytes), so GGUF readers that compute
     * sizes from block size and bytes work unchanged; ne[0] % 8 == 0. */
    LRQ_TYPE_LQ_BASE = LRQ_TYPE_LRQ_FIRST + 0x20,
    LRQ_TYPE_LQ2 = LRQ_TYPE_LQ_BASE + 2,
    LRQ_TYPE_LQ3 = LRQ_TYPE_LQ_BASE + 3,
    LRQ_TYPE_LQ4 = LRQ_TYPE_LQ_BASE + 4,
    LRQ_TYPE_LQ5 = LRQ_TYPE_LQ_BASE + 5,
    LRQ_TYPE_LQ6 = LRQ_TYPE_LQ_BASE + 6,
    LRQ_TYPE_LQ8 = LRQ_TYPE_LQ_BASE + 8,
    LRQ_TYPE_LRQ_LAST = 0x4C5200FF
};

/* The lq type id of b-bit codes (b in 2..6 or 8), or -1. */
int lrq_type_lq(int bits);
/* The code width of an lq type id, or 0 if `type` is not one. */
int lrq_type_lq_bits(int type);

#define LRQ_QK_K 256

/* Dequantize n values (n % blck_size == 0) from x into y. */
typedef void (*lrq_to_float_fn)(const void *x, float *y, int64_t n);
/* Quantize n floats (n % blck_size == 0) into y. */
typedef void (*lrq_from_float_fn)(const float *x, void *y, int64_t n);
/* *s = dot(row x of the weight type, row y of its vec_dot_type), n values. */
typedef void (*lrq_vec_dot_fn)(int64_t n, float *s, const void *x, const void *y);
/* Tile kernel: C[c * c_stride + r] = dot(W row r, A row c), r < nr, c < nc
 * (contract in kern/gemm.h). */
typedef void (*lrq_gemm_fn)(int64_t K, const void *W, size_t w_stride, int nr, const void *A, size_t a_stride,
                            int nc, float *C, size_t c_stride);

/* Where a type keeps its quantization parameters (scales, minima, grid
 * offsets). llama.cpp's block types carry them inside each block; lrq's own
 * formats keep codes and parameters in separate planes (see lrq_qparams in
 * fmt/tensor.h) so that K parameter sets can share one code array. */
enum lrq_param_layout { LRQ_PARAMS_NONE = 0, LRQ_PARAMS_IN_BLOCKS = 1, LRQ_PARAMS_PLANES = 2 };

typedef struct lrq_type_traits {
    const char *name;   /* ggml's name, e.g. "q4_K"; NULL for unused ids */
    int blck_size;      /* values per block; 0 for unused ids */
    size_t type_size;   /* bytes per block */
    /* Compute support (NULL when lrq cannot compute with this type): */
    lrq_to_float_fn to_float;      /* exact llama.cpp dequantization */
    lrq_from_float_fn quantize_ref;/* llama-quantize's reference quantizer (weights); may be NULL */
    lrq_from_float_fn from_float;  /* activation quantizer with the exact numerics of llama.cpp's
                                      x86 CPU backend; set for the partner types F32, F16, BF16,
                                      Q8_0, Q8_1, Q8_K */
    int vec_dot_type;              /* partner type of the activations */
    int param_layout;              /* enum lrq_param_layout */
    /* Registered by the kernel layer (kern/dispatch.c, lrq_types_init): */
    lrq_vec_dot_fn vec_dot_ref;    /* scalar reference (the specification) */
    lrq_vec_dot_fn vec_dot;        /* fastest kernel for this CPU */
    lrq_gemm_fn gemm;              /* tile kernel bit-identical to vec_dot, or NULL */
    int gemm_rows, gemm_cols;      /* its tile: weight rows x activation rows */
} lrq_type_traits;

/* The traits row of type id `type`, or NULL if the id is out of range or
 * unused. The kernel slots are filled once lrq_types_init() has run: every
 * library entry point that computes (model load, context creation) calls it,
 * and so must a program that calls kernels directly. Read-only afterwards. */
const lrq_type_traits *lrq_type_get(int type);

/* For the kernel layer only: the writable row of `type` (NULL if unused).
 * Called from lrq_types_init, before any thread reads the table. */
lrq_type_traits *lrq_type_row(int type);

/* Name of a type id ("q4_K"), or "unknown" for ids without traits. */
const char *lrq_type_name(int type);

/* 1 if lrq can dequantize and matmul this type (after lrq_types_init). The
 * lq types count as supported: a loaded lq tensor carries its parameter
 * planes (model/weights_lq.c) and nn/linear.c computes it with kern/planes.h. */
int lrq_type_supported(int type);

/* Bytes of a row of n values; -1 in *ok if n is not a multiple of the block
 * size or on overflow. Returns 0 on success. */
int lrq_row_size(int type, int64_t n, size_t *out);

/* Registers the kernels for this CPU into the traits rows (kern/dispatch.c;
 * idempotent and thread-safe). The environment variable
 * LRQ_ISA=scalar|avx2|avx512 asks for a level (for tests and benchmarks); a
 * level the CPU lacks is refused: the best available one is used and
 * lrq_types_isa_note() says why. */
void lrq_types_init(void);

/* The ISA level selected: "scalar", "avx2", "avx512". */
const char *lrq_types_isa(void);

/* "" or a one-line note on why LRQ_ISA was not honoured. */
const char *lrq_types_isa_note(void);

#endif
