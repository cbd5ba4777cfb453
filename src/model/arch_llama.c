/* arch_llama.c — Llama: RMSNorm, RoPE (interleaved pairs in GGUF files,
 * rotate-half in HF checkpoints), GQA, SwiGLU, tied or separate output. */
#include "model/model.h"

int lrq_arch_llama_bind(lrq_model *m) { return lrq_model_bind_common(m); }
