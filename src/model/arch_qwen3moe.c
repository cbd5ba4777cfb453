/* arch_qwen3moe.c — Qwen3-MoE (HF Qwen3MoeForCausalLM): Qwen3 attention
 * (per-head q/k RMSNorm, NeoX RoPE, head_dim independent of n_embd); every
 * layer routed experts only (softmax, top-k, weights renormalised to sum 1:
 * llama.cpp always does for qwen3moe; HF follows norm_topk_prob). */
#include "model/arch.h"
#include "model/model.h"

static int bind(lrq_model *m) {
    if (lrq_model_bind_common(m) || lrq_model_bind_qk_norm(m)) return -1;
    return lrq_model_bind_moe(m);
}

static const lrq_arch_moe moe = { .hf_n_expert = "num_experts", .norm_w = 1 };

const lrq_arch_desc lrq_arch_qwen3moe = {
    .id = LRQ_ARCH_QWEN3MOE, .gguf_name = "qwen3moe", .hf_class = "Qwen3MoeForCausalLM", .hf_model_type = "qwen3_moe",
    .gguf_rope = LRQ_ROPE_NEOX, .hf_default_ctx = 32768, .hf_default_head_dim = 128, .qk_norm = 1, .bind = bind,
    .moe = &moe,
};
