/* arch_qwen3.c — Qwen3: Llama plus a per-head RMSNorm on Q and K before
 * RoPE (NeoX layout); head_dim may differ from n_embd / n_head (HF's
 * Qwen3Config defaults it to 128). */
#include "model/arch.h"
#include "model/model.h"

static int bind(lrq_model *m) {
    if (lrq_model_bind_common(m)) return -1;
    return lrq_model_bind_qk_norm(m);
}

const lrq_arch_desc lrq_arch_qwen3 = {
    .id = LRQ_ARCH_QWEN3, .gguf_name = "qwen3", .hf_class = "Qwen3ForCausalLM", .hf_model_type = "qwen3",
    .gguf_rope = LRQ_ROPE_NEOX, .hf_default_ctx = 32768, .hf_default_head_dim = 128, .qk_norm = 1, .bind = bind,
};
