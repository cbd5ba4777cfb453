/* hooks.h — observation points of the forward pass: every linear's input
 * and output, and the MoE routing decisions. Used by tests now, and by
 * calibration (input statistics), training (activation capture) and debug
 * dumps. Zero cost when unset: one NULL test per linear call.
 *
 * A hook sees the data of one call: `x` is [n_tok][n_in] (the F32 input, before
 * it is rounded to the weight's partner type), `y` is [n_tok][n_out]. The
 * pointers are valid only during the call. Hooks run on the calling thread,
 * between kernel launches, never concurrently with each other. */
#ifndef LRQ_NN_HOOKS_H
#define LRQ_NN_HOOKS_H

#include <stdint.h>

/* What a linear is: its place in the model, for the hook to key on. */
typedef struct lrq_linear_info {
    const char *name;     /* weight tensor name, e.g. "blk.3.attn_q.weight" (expert stacks: the stack) */
    int layer;            /* block index, -1 for the output head */
    int slot;             /* enum lrq_linear_slot */
    int replica;          /* replica index (0 when not replicated) */
    int expert;           /* expert index for MoE experts, else -1 */
    int64_t n_in, n_out;
} lrq_linear_info;

enum lrq_linear_slot {
    LRQ_SLOT_Q, LRQ_SLOT_K, LRQ_SLOT_V, LRQ_SLOT_O,
    LRQ_SLOT_GATE, LRQ_SLOT_UP, LRQ_SLOT_DOWN,
    LRQ_SLOT_ROUTER, LRQ_SLOT_SHEXP_GATE,
    LRQ_SLOT_OUTPUT,
    LRQ_SLOT_COUNT
};

typedef struct lrq_hooks {
    void *ud;
    /* before the linear runs, with its F32 input */
    void (*linear_in)(void *ud, const lrq_linear_info *info, const float *x, int n_tok);
    /* after it ran, with its output (bias included) */
    void (*linear_out)(void *ud, const lrq_linear_info *info, const float *y, int n_tok);
    /* MoE: token t of this call was routed to experts[0..n_used) of `layer` */
    void (*expert_route)(void *ud, int layer, int t, const int32_t *experts, const float *weights, int n_used);
} lrq_hooks;

#endif
