/* arch_llama.c — Llama: RMSNorm, RoPE (interleaved pairs in GGUF files,
 * rotate-half in HF checkpoints), GQA, SwiGLU, tied or separate output. */
#include "model/arch.h"
#include "model/model.h"

static int bind(lrq_model *m) { return lrq_model_bind_common(m); }

const lrq_arch_desc lrq_arch_llama = {
    .id = LRQ_ARCH_LLAMA, .gguf_name = "llama", .hf_class = "LlamaForCausalLM", .hf_model_type = "llama",
    .gguf_rope = LRQ_ROPE_NORM, .hf_default_ctx = 2048, .bind = bind,
};
