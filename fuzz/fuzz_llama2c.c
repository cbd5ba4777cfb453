/* fuzz_llama2c.c — libFuzzer target for the llama2.c checkpoint reader: open
 * an arbitrary image (copied to 4-byte aligned memory, as a mapping would
 * be); on success every weight array must lie inside the input. */
#include "core/core.h"
#include "io/llama2c.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

static void check_range(const float *p, uint64_t count, const uint8_t *base, size_t size) {
    const uint8_t *b = (const uint8_t *)p;
    FUZZ_CHECK(b >= base && (uint64_t)(base + size - b) >= count * 4);
    if (count) {
        volatile float s = p[0] + p[count - 1];
        (void)s;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    float *img = malloc(size / 4 * 4 + 4);
    if (!img) return 0;
    if (size) memcpy(img, data, size);
    const uint8_t *base = (const uint8_t *)img;
    lrq_llama2c *m = NULL;
    if (lrq_llama2c_open_memory(&m, img, size, "fuzz.bin") != 0) {
        FUZZ_CHECK(m == NULL);
        FUZZ_CHECK(strncmp(lrq_err_get(), "fuzz.bin: ", 10) == 0);
        free(img);
        return 0;
    }
    const lrq_llama2c_config *c = &m->cfg;
    uint64_t dim = (uint64_t)c->dim, hid = (uint64_t)c->hidden_dim, nl = (uint64_t)c->n_layers;
    uint64_t kv = (uint64_t)c->n_kv_heads * (uint64_t)c->head_size, V = (uint64_t)c->vocab_size;
    FUZZ_CHECK(c->head_size * c->n_heads == c->dim && c->n_heads % c->n_kv_heads == 0);
    check_range(m->token_embedding_table, V * dim, base, size);
    check_range(m->rms_att_weight, nl * dim, base, size);
    check_range(m->wq, nl * dim * dim, base, size);
    check_range(m->wk, nl * dim * kv, base, size);
    check_range(m->wv, nl * dim * kv, base, size);
    check_range(m->wo, nl * dim * dim, base, size);
    check_range(m->rms_ffn_weight, nl * dim, base, size);
    check_range(m->w1, nl * dim * hid, base, size);
    check_range(m->w2, nl * dim * hid, base, size);
    check_range(m->w3, nl * dim * hid, base, size);
    check_range(m->rms_final_weight, dim, base, size);
    check_range(m->freq_cis_real, (uint64_t)c->seq_len * (uint64_t)c->head_size / 2, base, size);
    check_range(m->freq_cis_imag, (uint64_t)c->seq_len * (uint64_t)c->head_size / 2, base, size);
    check_range(m->wcls, V * dim, base, size);
    lrq_llama2c_close(m);
    free(img);
    return 0;
}
