/* gptq_seq.h — sequential GPTQ over a model (docs/gptq.md, "Sequential
 * mode"): layer by layer, the Hessians of layer l's linears come from the
 * model whose layers < l already compute with their quantized weights, so
 * each layer is calibrated on the inputs it will see at inference (one-shot
 * GPTQ calibrates every layer on the unquantized model's activations).
 *
 * How: for l = 0 .. n_layer - 1, then the output head: one calibration
 * pass (eval/calib.h) collecting only that layer's jobs, GPTQ on each job's
 * original weights, then the job's tensor is made to point at its
 * dequantized weights (in the source type: F32, F16 or BF16) for the passes
 * of the layers above. Every tensor's data pointer is restored before
 * lrq_gptq_sequential returns. Cost: n_layer + 1 calibration passes.
 */
#ifndef LRQ_QUANT_GPTQ_SEQ_H
#define LRQ_QUANT_GPTQ_SEQ_H

#include <stdint.h>
#include <stdio.h>

#include "eval/calib.h"
#include "fmt/tensor.h"
#include "quant/gptq.h"

struct lrq_pool;

typedef struct lrq_gptq_job {
    lrq_tensor *t;       /* a 2-D weight of the model (data swapped during the run, restored after) */
    lrq_lq_spec spec;
    uint64_t seed;       /* as lrq_gptq_quantize's */
    lrq_lq_qt q;         /* out: the quantized matrix (the caller frees it with lrq_lq_qt_free) */
} lrq_gptq_job;

/* Quantize jobs[0..n) of model m (every job a distinct "blk.N.*" or
 * "output.weight" tensor of m, in F32, F16 or BF16) sequentially, with the
 * calibration of p (its text read once) and the GPTQ options o. pool: the
 * lq parameter searches' threads (may be NULL). log: one line per layer
 * (may be NULL). Returns 0 with every jobs[i].q filled, or -1 with an error
 * (then no q is left allocated); m's tensors are as before either way. */
int lrq_gptq_sequential(lrq_model *m, lrq_gptq_job *jobs, int n, const lrq_calib_params *p, const lrq_gptq_opts *o,
                        struct lrq_pool *pool, FILE *log);

#endif
