/* hooks.h — observation points of the forward pass: every linear's input
 * and output, and the MoE routing decisions. The types are public
 * (include/lrq.h: lrq_linear_info, enum lrq_linear_slot, lrq_hooks) so that
 * tools and library users can install hooks; this header gives them to nn/.
 * Used by tests now, and by calibration (input statistics), training
 * (activation capture) and debug dumps. */
#ifndef LRQ_NN_HOOKS_H
#define LRQ_NN_HOOKS_H

#include "lrq.h"

#endif
