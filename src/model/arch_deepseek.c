/* arch_deepseek.c — DeepSeek-MoE (llama.cpp "deepseek", HF
 * DeepseekForCausalLM): Llama attention (interleaved RoPE in GGUF files),
 * the first leading_dense_block_count layers with a dense SwiGLU FFN, the
 * others with fine-grained routed experts (softmax over all experts, top-k,
 * weights not renormalised, times expert_weights_scale) plus
 * expert_shared_count shared experts stored as one dense FFN of width
 * n_ff_exp * expert_shared_count, simply added. */
#include "model/arch.h"
#include "model/model.h"

static int bind(lrq_model *m) {
    if (lrq_model_bind_common(m)) return -1;
    return lrq_model_bind_moe(m);
}

static const lrq_arch_moe moe = {
    .hf_n_expert = "n_routed_experts", .hf_shexp = "shared_experts", .shexp_count = 1, .leading_dense = 1,
    .weights_scale = 1,
};

const lrq_arch_desc lrq_arch_deepseek = {
    .id = LRQ_ARCH_DEEPSEEK, .gguf_name = "deepseek", .hf_class = "DeepseekForCausalLM", .hf_model_type = "deepseek",
    .gguf_rope = LRQ_ROPE_NORM, .hf_default_ctx = 2048, .bind = bind, .moe = &moe,
};
