/* arch_qwen2.c — Qwen2: Llama plus biases on the Q, K and V projections;
 * NeoX (rotate-half) RoPE. */
#include "model/arch.h"
#include "model/model.h"

static int bind(lrq_model *m) {
    if (lrq_model_bind_common(m)) return -1;
    return lrq_model_bind_qkv_bias(m);
}

const lrq_arch_desc lrq_arch_qwen2 = {
    .id = LRQ_ARCH_QWEN2, .gguf_name = "qwen2", .hf_class = "Qwen2ForCausalLM", .hf_model_type = "qwen2",
    .gguf_rope = LRQ_ROPE_NEOX, .hf_default_ctx = 32768, .qkv_bias = 1, .bind = bind,
};
