/* ppl.h — perplexity the llama.cpp way, and KL-divergence against saved
 * base-model log-probabilities (lrq's own file format, docs/kld-format.md).
 * The parameter/result structs and lrq_perplexity are public: see lrq.h. */
#ifndef LRQ_PPL_H
#define LRQ_PPL_H

#include "lrq.h"

#endif
