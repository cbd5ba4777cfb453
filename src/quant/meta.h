/* meta.h — GGUF metadata for models loaded from safetensors or llama2.c
 * (a GGUF source's own metadata is copied instead; see quant/quantize.c). */
#ifndef LRQ_QUANT_META_H
#define LRQ_QUANT_META_H

#include <stdint.h>

struct lrq_gguf_writer;
struct lrq_model;

/* Write general.architecture and general.name, the architecture's keys from
 * m's hyper-parameters (the ones llama.cpp's loader and lrq read), the
 * tokenizer.ggml.* keys of m's tokenizer (if it has one; padded to the
 * embedding rows as llama.cpp's converter does), then
 * general.quantization_version = 2 and general.file_type = ftype.
 * 0, or -1 with an error. */
int lrq_quant_meta_from_model(struct lrq_gguf_writer *w, const struct lrq_model *m, const char *name, int64_t ftype);

#endif
