/* llama2c.c — llama2.c legacy checkpoint reader (see llama2c.h). */
#include "io/llama2c.h"
#include "core/core.h"
#include "core/mapfile.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>
#include <stdlib.h>

#define L2C_HEADER_BYTES 28
/* Sanity bound on each config field: far above any real model, low enough
 * that the product of two fields cannot overflow 64-bit arithmetic. */
#define L2C_MAX_FIELD (1 << 24)

static int32_t read_i32le(const uint8_t *p) {
    uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    int32_t r;
    memcpy(&r, &v, 4);
    return r;
}

static int host_is_little_endian(void) {
    const uint32_t one = 1;
    uint8_t b;
    memcpy(&b, &one, 1);
    return b == 1;
}

void lrq_llama2c_close(lrq_llama2c *m) {
    if (!m) return;
    if (m->map_priv) {
        lrq_mapfile_close(m->map_priv);
        free(m->map_priv);
    }
    free(m->path);
    free(m);
}

/* A llama2.c tokenizer.bin starts with max_token_length (small), then each
 * token as f32 score, i32 length (<= max_token_length), bytes. Used only to
 * explain a rejected checkpoint header. */
static int looks_like_tokenizer(const uint8_t *data, size_t size) {
    if (size < 12) return 0;
    int32_t max_len = read_i32le(data), len = read_i32le(data + 8);
    float score;
    memcpy(&score, data + 4, 4);
    return max_len >= 1 && max_len <= 4096 && isfinite(score) && len >= 1 && len <= max_len &&
           (size_t)len <= size - 12;
}

/* Validate the image and set up the pointers. */
static int setup(lrq_llama2c *m, const uint8_t *data, size_t size) {
    const char *path = m->path;
    if (!host_is_little_endian()) return lrq_err_set("%s: llama2.c checkpoints need a little-endian host", path);
    if (size >= 4 && memcmp(data, "24ka", 4) == 0) /* u32 0x616b3432 stored little-endian */
        return lrq_err_set("%s: llama2.c v1/v2 export (magic \"ak42\") is not supported; export with "
                           "version 0 (legacy format)", path);
    if (size < L2C_HEADER_BYTES)
        return lrq_err_set("%s: file too small for a llama2.c header (%zu bytes, need %d)", path, size,
                           L2C_HEADER_BYTES);
    if (((uintptr_t)data & 3) != 0) return lrq_err_set("%s: image is not 4-byte aligned", path);
    static const char *const field[7] = {"dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size",
                                         "seq_len"};
    int32_t v[7];
    for (int i = 0; i < 7; i++) v[i] = read_i32le(data + 4 * i);
    lrq_llama2c_config *c = &m->cfg;
    c->shared_classifier = v[5] > 0;
    if (v[5] == INT32_MIN) v[5] = 0; /* cannot negate; rejected below */
    if (v[5] < 0) v[5] = -v[5];
    for (int i = 0; i < 7; i++) {
        if (v[i] <= 0 || v[i] > L2C_MAX_FIELD)
            return lrq_err_set("%s: config field %s = %" PRId32 " out of range (1..%d)%s", path, field[i],
                               read_i32le(data + 4 * i), L2C_MAX_FIELD,
                               looks_like_tokenizer(data, size) ? "; this looks like a llama2.c tokenizer.bin: "
                                                                  "give it with --vocab, the model with -m" : "");
    }
    c->dim = v[0];
    c->hidden_dim = v[1];
    c->n_layers = v[2];
    c->n_heads = v[3];
    c->n_kv_heads = v[4];
    c->vocab_size = v[5];
    c->seq_len = v[6];
    if (c->dim % c->n_heads != 0)
        return lrq_err_set("%s: n_heads %" PRId32 " does not divide dim %" PRId32, path, c->n_heads, c->dim);
    if (c->n_kv_heads > c->n_heads || c->n_heads % c->n_kv_heads != 0)
        return lrq_err_set("%s: n_kv_heads %" PRId32 " does not divide n_heads %" PRId32, path, c->n_kv_heads,
                           c->n_heads);
    c->head_size = c->dim / c->n_heads;
    if (c->head_size % 2 != 0)
        return lrq_err_set("%s: head size %" PRId32 " (dim / n_heads) must be even for RoPE", path, c->head_size);

    /* Element counts, overflow-checked (fields are < 2^25, so a product of
     * two fits in 64 bits but a product of three may not). */
    const uint64_t dim = (uint64_t)c->dim, hid = (uint64_t)c->hidden_dim, nl = (uint64_t)c->n_layers;
    const uint64_t kv_dim = (uint64_t)c->n_kv_heads * (uint64_t)c->head_size;
    const uint64_t vocab = (uint64_t)c->vocab_size;
    const uint64_t n_freq = (uint64_t)c->seq_len * (uint64_t)(c->head_size / 2);
    uint64_t nl_dim_dim, nl_dim_kv, nl_dim_hid;
    if (lrq_mul_u64(nl * dim, dim, &nl_dim_dim) || lrq_mul_u64(nl * dim, kv_dim, &nl_dim_kv) ||
        lrq_mul_u64(nl * dim, hid, &nl_dim_hid))
        return lrq_err_set("%s: config implies an impossibly large model", path);
    const uint64_t counts[14] = {
        vocab * dim,                       /* token_embedding_table */
        nl * dim,                          /* rms_att_weight */
        nl_dim_dim,                        /* wq */
        nl_dim_kv,                         /* wk */
        nl_dim_kv,                         /* wv */
        nl_dim_dim,                        /* wo */
        nl * dim,                          /* rms_ffn_weight */
        nl_dim_hid,                        /* w1 */
        nl_dim_hid,                        /* w2 */
        nl_dim_hid,                        /* w3 */
        dim,                               /* rms_final_weight */
        n_freq,                            /* freq_cis_real */
        n_freq,                            /* freq_cis_imag */
        c->shared_classifier ? 0 : vocab * dim, /* wcls */
    };
    uint64_t off[14];
    uint64_t total = L2C_HEADER_BYTES;
    for (int i = 0; i < 14; i++) {
        off[i] = total;
        uint64_t bytes;
        if (lrq_mul_u64(counts[i], 4, &bytes) || lrq_add_u64(total, bytes, &total))
            return lrq_err_set("%s: config implies an impossibly large model", path);
    }
    if (total != (uint64_t)size)
        return lrq_err_set("%s: config (dim %" PRId32 ", hidden_dim %" PRId32 ", n_layers %" PRId32 ", n_heads %" PRId32
                           ", n_kv_heads %" PRId32 ", vocab_size %" PRId32 "%s, seq_len %" PRId32
                           ") implies %" PRIu64 " bytes but the file has %zu",
                           path, c->dim, c->hidden_dim, c->n_layers, c->n_heads, c->n_kv_heads, c->vocab_size,
                           c->shared_classifier ? "" : " unshared", c->seq_len, total, size);
    const float *p[14];
    for (int i = 0; i < 14; i++) p[i] = (const float *)(const void *)(data + off[i]);
    m->token_embedding_table = p[0];
    m->rms_att_weight = p[1];
    m->wq = p[2];
    m->wk = p[3];
    m->wv = p[4];
    m->wo = p[5];
    m->rms_ffn_weight = p[6];
    m->w1 = p[7];
    m->w2 = p[8];
    m->w3 = p[9];
    m->rms_final_weight = p[10];
    m->freq_cis_real = p[11];
    m->freq_cis_imag = p[12];
    m->wcls = c->shared_classifier ? p[0] : p[13];
    m->file_size = size;
    return 0;
}

int lrq_llama2c_open_memory(lrq_llama2c **out, const void *data, size_t size, const char *name) {
    LRQ_ASSERT(out != NULL);
    *out = NULL;
    lrq_llama2c *m = lrq_calloc(1, sizeof *m);
    if (!m) return -1;
    m->path = lrq_strdup(name ? name : "llama2c");
    if (!m->path || setup(m, data, size)) {
        lrq_llama2c_close(m);
        return -1;
    }
    *out = m;
    return 0;
}

int lrq_llama2c_open(lrq_llama2c **out, const char *path) {
    LRQ_ASSERT(out != NULL);
    *out = NULL;
    lrq_llama2c *m = lrq_calloc(1, sizeof *m);
    if (!m) return -1;
    lrq_mapfile *mf = lrq_calloc(1, sizeof *mf);
    m->map_priv = mf;
    m->path = lrq_strdup(path);
    if (!mf || !m->path || lrq_mapfile_open(mf, path) || setup(m, mf->data, mf->size)) {
        lrq_llama2c_close(m);
        return -1;
    }
    *out = m;
    return 0;
}
