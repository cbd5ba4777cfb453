/* rope.h — rotary position embedding. Two layouts (enum lrq_rope_kind in
 * model/weights.h): NORM rotates pairs (2i, 2i+1) (GGUF llama, llama2.c),
 * NEOX rotates (i, i + n_rot/2) (HF checkpoints, qwen2/qwen3). */
#ifndef LRQ_NN_ROPE_H
#define LRQ_NN_ROPE_H

/* cos/sin table of one position: cs[2i], cs[2i+1] = cos, sin of
 * pos * theta_scale^i, the angle advanced by repeated multiplication in float
 * as ggml does (theta_scale = base^(-2/n_rot)). cs: [n_rot]. */
void lrq_rope_table(float *cs, int pos, int n_rot, float theta_scale);

/* Rotate the first n_rot values of one head vector x in place. */
void lrq_rope_apply(float *x, const float *cs, int n_rot, int neox);

#endif
