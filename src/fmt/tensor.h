/* tensor.h — a weight tensor: its codes (the stored data) and a view of its
 * quantization parameters.
 *
 * For llama.cpp's block types the parameters (scales, minima) live inside
 * each block, so the view is just the type (LRQ_PARAMS_IN_BLOCKS). lrq's own
 * formats store codes and parameters in separate planes (LRQ_PARAMS_PLANES):
 * one code array and n_sets parameter sets, so that K replicas of a layer can
 * share one stored copy of the codes, each dequantized with its own set:
 *     w[r][j] = scale[s][r][g] * (code[r][j] - zero[s][r][g] + offset),  g = j / group
 * A tensor view that selects set s of a shared code array is an lrq_tensor
 * with the same data and qp.set = s. Code layout: fmt/planes.h; kernels,
 * including the K-replica forms that read the codes once: kern/planes.h.
 */
#ifndef LRQ_FMT_TENSOR_H
#define LRQ_FMT_TENSOR_H

#include <stddef.h>
#include <stdint.h>

typedef struct lrq_qparams {
    int layout;           /* enum lrq_param_layout (fmt/types.h) */
    /* LRQ_PARAMS_PLANES only: */
    int32_t group;        /* values per group along a row (divides ne[0]) */
    int32_t n_sets;       /* parameter sets sharing the codes (>= 1) */
    int32_t set;          /* the set this view dequantizes with */
    const float *scale;   /* [n_sets][ne1][ne0 / group] */
    const float *zero;    /* [n_sets][ne1][ne0 / group], or NULL (symmetric: zero 0) */
    float offset;         /* grid offset o, in steps */
    /* Non-uniform grid (lq codebook formats, docs/formats.md): NULL = the
     * uniform grid (code q has value q); else code q of row r has value
     * codebook[(cb_rows == 1 ? 0 : r) * 2^bits + q], and
     *     w[r][j] = scale * (codebook[..][q] - zero + offset).
     * A view carries its own codebook pointer (replica views may differ). */
    const float *codebook;
    int32_t cb_rows;      /* 1 (one codebook per tensor) or ne1 (one per row) */
} lrq_qparams;

/* A weight tensor. ne[0] is the row length (input features of a linear
 * layer); a linear layer W: [ne1 rows][ne0 cols] computes y = W x. 3-D
 * tensors (MoE expert stacks) are ne2 matrices of [ne1][ne0]. */
typedef struct lrq_tensor {
    char *name;          /* GGUF name, e.g. "blk.0.attn_q.weight" (owned by the weights) */
    int type;            /* enum lrq_type */
    int n_dims;
    int64_t ne[4];
    size_t nbytes;
    const void *data;    /* codes: in a mapping or in buffers owned by the weights */
    lrq_qparams qp;      /* layout LRQ_PARAMS_IN_BLOCKS / NONE for llama.cpp types */
} lrq_tensor;

#endif
