/* llama2c.h — reader for karpathy/llama2.c checkpoints in the legacy
 * (version 0) format that run.c reads: seven little-endian int32 config
 * fields, then float32 arrays in run.c's order:
 *   token_embedding_table [vocab][dim]
 *   rms_att_weight  [layer][dim]
 *   wq [layer][n_heads*head_size][dim]      (rows = outputs, row length = inputs)
 *   wk [layer][n_kv_heads*head_size][dim]
 *   wv [layer][n_kv_heads*head_size][dim]
 *   wo [layer][dim][n_heads*head_size]
 *   rms_ffn_weight  [layer][dim]
 *   w1 [layer][hidden_dim][dim]
 *   w2 [layer][dim][hidden_dim]
 *   w3 [layer][hidden_dim][dim]
 *   rms_final_weight [dim]
 *   freq_cis_real [seq_len][head_size/2], freq_cis_imag [seq_len][head_size/2]
 *   wcls [vocab][dim]   (only when the stored vocab_size is negative)
 * with head_size = dim / n_heads. The file must be exactly that long (all
 * sizes validated with overflow-safe arithmetic). The newer "ak42" v1/v2
 * exports are detected and rejected with a clear message.
 */
#ifndef LRQ_LLAMA2C_H
#define LRQ_LLAMA2C_H

#include <stddef.h>
#include <stdint.h>

typedef struct lrq_llama2c_config {
    int32_t dim, hidden_dim, n_layers, n_heads, n_kv_heads;
    int32_t vocab_size;      /* absolute value */
    int32_t seq_len;
    int shared_classifier;   /* 1 when the stored vocab_size was positive (wcls = embeddings) */
    int32_t head_size;       /* dim / n_heads */
} lrq_llama2c_config;

typedef struct lrq_llama2c {
    char *path;              /* owned, for messages */
    lrq_llama2c_config cfg;
    /* Pointers into the mapping (4-byte aligned), layouts as above. */
    const float *token_embedding_table, *rms_att_weight, *wq, *wk, *wv, *wo, *rms_ffn_weight,
        *w1, *w2, *w3, *rms_final_weight, *freq_cis_real, *freq_cis_imag;
    const float *wcls;       /* == token_embedding_table when shared */
    size_t file_size;
    void *map_priv;          /* internal */
} lrq_llama2c;

/* Map and validate a checkpoint. Returns 0 and *out, or -1 with an error
 * naming the file ("x.bin: n_heads 3 does not divide dim 64"). */
int lrq_llama2c_open(lrq_llama2c **out, const char *path);

/* Same over an in-memory image (not copied; must stay valid until close and
 * be 4-byte aligned). `name` is used in messages. For tests and fuzzing. */
int lrq_llama2c_open_memory(lrq_llama2c **out, const void *data, size_t size, const char *name);

/* Release (safe on NULL). */
void lrq_llama2c_close(lrq_llama2c *m);

#endif
