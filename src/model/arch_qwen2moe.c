/* arch_qwen2moe.c — Qwen2-MoE (HF Qwen2MoeForCausalLM): Qwen2 attention
 * (Q/K/V biases, NeoX RoPE); every layer routed experts (softmax, top-k,
 * weights not renormalised) plus one shared expert whose output is
 * multiplied by sigmoid(x . ffn_gate_inp_shexp). */
#include "model/arch.h"
#include "model/model.h"

static int bind(lrq_model *m) {
    if (lrq_model_bind_common(m) || lrq_model_bind_qkv_bias(m)) return -1;
    return lrq_model_bind_moe(m);
}

static const lrq_arch_moe moe = {
    .hf_n_expert = "num_experts", .hf_shexp = "shared_expert", .shexp_width = 1, .shexp_gate = 1,
};

const lrq_arch_desc lrq_arch_qwen2moe = {
    .id = LRQ_ARCH_QWEN2MOE, .gguf_name = "qwen2moe", .hf_class = "Qwen2MoeForCausalLM", .hf_model_type = "qwen2_moe",
    .gguf_rope = LRQ_ROPE_NEOX, .hf_default_ctx = 32768, .qkv_bias = 1, .bind = bind, .moe = &moe,
};
