/* meta.c — GGUF metadata for a model that did not come from a GGUF (a
 * Hugging Face safetensors directory, a llama2.c checkpoint): the keys
 * llama.cpp's loader reads for the architectures lrq runs, written from the
 * loaded hyper-parameters, and the tokenizer.ggml.* keys from the loaded
 * tokenizer — what llama.cpp's convert_hf_to_gguf.py would have written,
 * as far as llama.cpp (and lrq) read it. The reader side of every key is
 * model/weights.c and model/arch_moe.c; tests/test_quantize.c loads the
 * result back and compares it with the GGUF of the same model.
 */
#define _POSIX_C_SOURCE 200809L
#include "quant/meta.h"

#include "core/core.h"
#include "io/gguf.h"
#include "model/arch.h"
#include "model/model.h"
#include "tok/vocab.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put_le32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static int set_u32(lrq_gguf_writer *w, const char *arch, const char *suffix, int64_t v) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    if (v < 0 || v > UINT32_MAX) return lrq_err_set("metadata: %s = %" PRId64 " out of range", key, v);
    return lrq_gguf_writer_set_u32(w, key, (uint32_t)v);
}

static int set_f32(lrq_gguf_writer *w, const char *arch, const char *suffix, float v) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    return lrq_gguf_writer_set_f32(w, key, v);
}

/* The tokenizer, padded to n_rows tokens when the embedding has more rows
 * than the tokenizer has tokens (Qwen: 151,936 rows, 151,669 tokens) the way
 * llama.cpp's converter pads ("[PADi]", type UNUSED, score 0): llama.cpp
 * wants one token per embedding row. */
static int write_vocab(lrq_gguf_writer *w, const lrq_vocab *v, int64_t n_rows) {
    int32_t n_tok = lrq_vocab_n_tokens(v);
    if (n_tok > n_rows) return lrq_err_set("metadata: %d tokens for %" PRId64 " embedding rows", n_tok, n_rows);
    size_t n = (size_t)n_rows;
    const char **texts = lrq_calloc(n, sizeof *texts);
    char *pads = lrq_malloc((n - (size_t)n_tok) * 24 + 1);
    float *scores = lrq_malloc(n * sizeof *scores);
    int32_t *types = lrq_malloc(n * sizeof *types);
    int rc = -1;
    if (!texts || !pads || !scores || !types) goto out;
    for (size_t i = 0; i < n; i++) {
        if ((int32_t)i < n_tok) {
            size_t len;
            texts[i] = lrq_vocab_token_text(v, (int32_t)i, &len);
            if (strlen(texts[i]) != len) {
                lrq_err_set("metadata: token %zu holds a NUL byte", i);
                goto out;
            }
            scores[i] = lrq_vocab_token_score(v, (int32_t)i);
            types[i] = lrq_vocab_token_type(v, (int32_t)i);
        } else {
            char *s = pads + (i - (size_t)n_tok) * 24;
            snprintf(s, 24, "[PAD%zu]", i);
            texts[i] = s;
            scores[i] = 0.0f;
            types[i] = LRQ_TOKEN_UNUSED;
        }
    }
    const char *model = lrq_vocab_model(v);
    if (lrq_gguf_writer_set_str(w, "tokenizer.ggml.model", model)) goto out;
    if (lrq_vocab_kind(v) == LRQ_VOCAB_BPE && lrq_gguf_writer_set_str(w, "tokenizer.ggml.pre", lrq_vocab_pre(v)))
        goto out;
    if (lrq_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", n, texts)) goto out;
    /* raw little-endian arrays: the writer copies bytes, so convert on big-endian hosts too */
    uint8_t *raw = lrq_malloc(n * 4);
    if (!raw) goto out;
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &scores[i], 4);
        put_le32(raw + 4 * i, u);
    }
    int r = lrq_gguf_writer_set_arr(w, "tokenizer.ggml.scores", LRQ_GGUF_FLOAT32, n, raw);
    for (size_t i = 0; i < n && !r; i++) put_le32(raw + 4 * i, (uint32_t)types[i]);
    if (!r) r = lrq_gguf_writer_set_arr(w, "tokenizer.ggml.token_type", LRQ_GGUF_INT32, n, raw);
    free(raw);
    if (r) goto out;
    int32_t nm = lrq_vocab_n_merges(v);
    if (nm > 0) {
        char **merges = lrq_calloc((size_t)nm, sizeof *merges);
        if (!merges) goto out;
        int bad = 0;
        for (int32_t k = 0; k < nm && !bad; k++) {
            int32_t a, b;
            size_t la, lb;
            bad = lrq_vocab_merge(v, k, &a, &b) != 0;
            const char *ta = bad ? NULL : lrq_vocab_token_text(v, a, &la);
            const char *tb = bad ? NULL : lrq_vocab_token_text(v, b, &lb);
            if (!ta || !tb || !(merges[k] = lrq_malloc(la + lb + 2))) { bad = 1; break; }
            memcpy(merges[k], ta, la);
            merges[k][la] = ' ';
            memcpy(merges[k] + la + 1, tb, lb);
            merges[k][la + lb + 1] = 0;
        }
        if (!bad) bad = lrq_gguf_writer_set_arr_str(w, "tokenizer.ggml.merges", (uint64_t)nm,
                                                    (const char *const *)merges) != 0;
        for (int32_t k = 0; k < nm; k++) free(merges[k]);
        free(merges);
        if (bad) {
            if (!lrq_err_get()[0]) lrq_err_set("metadata: cannot write the merges");
            goto out;
        }
    }
    struct { const char *key; int32_t id; } ids[] = {
        { "tokenizer.ggml.bos_token_id", lrq_vocab_bos(v) }, { "tokenizer.ggml.eos_token_id", lrq_vocab_eos(v) },
        { "tokenizer.ggml.unknown_token_id", lrq_vocab_unk(v) }, { "tokenizer.ggml.padding_token_id", lrq_vocab_pad(v) },
    };
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        if (ids[i].id >= 0 && lrq_gguf_writer_set_u32(w, ids[i].key, (uint32_t)ids[i].id)) goto out;
    if (lrq_gguf_writer_set_bool(w, "tokenizer.ggml.add_bos_token", lrq_vocab_add_bos(v)) ||
        lrq_gguf_writer_set_bool(w, "tokenizer.ggml.add_eos_token", lrq_vocab_add_eos(v)))
        goto out;
    if (lrq_vocab_kind(v) == LRQ_VOCAB_SPM && !lrq_vocab_add_space_prefix(v) &&
        lrq_gguf_writer_set_bool(w, "tokenizer.ggml.add_space_prefix", 0))
        goto out;
    rc = 0;
out:
    free(texts);
    free(pads);
    free(scores);
    free(types);
    return rc;
}

int lrq_quant_meta_from_model(lrq_gguf_writer *w, const lrq_model *m, const char *name, int64_t ftype) {
    const lrq_hparams *hp = &m->hp;
    const lrq_arch_desc *ad = lrq_arch_get(hp->arch);
    if (!ad) return lrq_err_set("metadata: unknown architecture %d", hp->arch);
    const char *a = ad->gguf_name;
    if (lrq_gguf_writer_set_str(w, "general.architecture", a) || lrq_gguf_writer_set_str(w, "general.name", name))
        return -1;
    if (set_u32(w, a, "context_length", hp->n_ctx_train) || set_u32(w, a, "embedding_length", hp->n_embd) ||
        set_u32(w, a, "block_count", hp->n_layer) || set_u32(w, a, "feed_forward_length", hp->n_ff) ||
        set_u32(w, a, "attention.head_count", hp->n_head) || set_u32(w, a, "attention.head_count_kv", hp->n_head_kv) ||
        set_u32(w, a, "attention.key_length", hp->head_dim) || set_u32(w, a, "attention.value_length", hp->head_dim) ||
        set_u32(w, a, "rope.dimension_count", hp->n_rot ? hp->n_rot : hp->head_dim) ||
        set_f32(w, a, "rope.freq_base", hp->rope_theta) ||
        set_f32(w, a, "attention.layer_norm_rms_epsilon", hp->rms_eps) || set_u32(w, a, "vocab_size", hp->n_vocab))
        return -1;
    const lrq_arch_moe *mo = ad->moe;
    if (mo && hp->n_expert > 0) {
        if (set_u32(w, a, "expert_count", hp->n_expert) || set_u32(w, a, "expert_used_count", hp->n_expert_used) ||
            set_u32(w, a, "expert_feed_forward_length", hp->n_ff_exp))
            return -1;
        if (mo->shexp_count && hp->n_ff_exp > 0 && set_u32(w, a, "expert_shared_count", hp->n_ff_shexp / hp->n_ff_exp))
            return -1;
        if (mo->shexp_width && hp->n_ff_shexp > 0 && set_u32(w, a, "expert_shared_feed_forward_length", hp->n_ff_shexp))
            return -1;
        if (mo->leading_dense && set_u32(w, a, "leading_dense_block_count", hp->n_layer_dense_lead)) return -1;
        if (mo->weights_scale && hp->expert_weights_scale > 0 &&
            set_f32(w, a, "expert_weights_scale", hp->expert_weights_scale))
            return -1;
        char key[128];
        snprintf(key, sizeof key, "%s.expert_weights_norm", a);
        if (lrq_gguf_writer_set_bool(w, key, hp->moe_norm_w)) return -1;
        if (set_u32(w, a, "expert_gating_func", 1)) return -1; /* softmax: the only routing lrq loads */
    }
    if (m->vocab && write_vocab(w, m->vocab, hp->n_vocab)) return -1;
    if (lrq_gguf_writer_set_u32(w, "general.quantization_version", 2)) return -1;
    return lrq_gguf_writer_set_u32(w, "general.file_type", (uint32_t)ftype);
}
