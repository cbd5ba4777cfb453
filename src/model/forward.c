/* forward.c — the inference context and the layer loop: embed the tokens,
 * run every block (nn/block.h), the final norm and the output head.
 *
 * Numerics follow llama.cpp's CPU backend with an F32 KV cache and no flash
 * attention (the ops say how: nn/linear.h, nn/attention.h, nn/mlp.h). Like
 * llama.cpp, results depend on whether a matmul sees one token or several
 * (its summation order does); they never depend on the thread count. All
 * memory is allocated in lrq_ctx_new: the forward pass never allocates.
 */
#include "model/model.h"
#include "core/core.h"
#include "fmt/types.h"
#include "kern/planes_q8.h"
#include "nn/linear.h"
#include "nn/norm.h"
#include "nn/rope.h"

#include <math.h>
#include <stdlib.h>

struct lrq_ctx {
    const lrq_model *m;
    lrq_nn nn;
    int n_ctx, n_batch, n_past;
    int n_ctx_pad;           /* n_ctx rounded up to 64 (zero-weighted positions past the sequence) */
    lrq_block_shape shape;
    lrq_kv *kv;              /* [sum over layers of lrq_block_n_kv] */
    int *kv_first;           /* [n_layer] index of a layer's first cache in kv */
    int *kv_count;           /* [n_layer] caches allocated per layer */
    float *kv_mem;           /* backing store of every cache */
    float *x;                /* [n_batch][n_embd] residual stream */
    float *xn;               /* [n_batch][n_embd] final-norm output */
    float *rope;             /* [n_batch][n_rot] (cos, sin) pairs */
    float *logits;           /* [n_batch][n_vocab] */
    uint64_t *expert_counts; /* [n_layer][n_expert] expert usage of a MoE model (nn.moe_counts), else NULL */
};

static int alloc_floats(float **p, size_t a, size_t b) {
    size_t n;
    if (lrq_mul_size(a, b, &n) || lrq_mul_size(n, sizeof(float), &n))
        return lrq_err_set("context buffer size overflows (%zu x %zu floats)", a, b);
    *p = lrq_calloc(n / sizeof(float), sizeof(float));
    return *p ? 0 : -1;
}

int lrq_ctx_new(lrq_ctx **out, const lrq_model *m, int n_ctx, int n_batch, int n_threads) {
    *out = NULL;
    const lrq_hparams *hp = &m->hp;
    if (n_ctx < 1 || n_ctx > (1 << 22)) return lrq_err_set("context length %d out of range", n_ctx);
    if (n_batch < 1 || n_batch > n_ctx) return lrq_err_set("batch size %d out of range (1..%d)", n_batch, n_ctx);
    if (n_threads < 1 || n_threads > 1024) return lrq_err_set("thread count %d out of range (1..1024)", n_threads);
    lrq_ctx *c = lrq_calloc(1, sizeof *c);
    if (!c) return -1;
    c->m = m;
    c->n_ctx = n_ctx;
    c->n_batch = n_batch;
    c->n_ctx_pad = (n_ctx + 63) & ~63;
    c->shape = (lrq_block_shape){
        .attn = { .n_embd = hp->n_embd, .n_head = hp->n_head, .n_head_kv = hp->n_head_kv,
                  .head_dim = hp->head_dim, .n_rot = hp->n_rot, .neox = hp->rope_kind == LRQ_ROPE_NEOX,
                  .eps = hp->rms_eps },
        .n_embd = hp->n_embd, .n_ff = hp->n_ff, .eps = hp->rms_eps,
        .moe = { .n_embd = hp->n_embd, .n_expert = hp->n_expert, .n_expert_used = hp->n_expert_used,
                 .n_ff_exp = hp->n_ff_exp, .n_ff_shexp = hp->n_ff_shexp } };
    const int64_t kv_dim = (int64_t)hp->n_head_kv * hp->head_dim, q_dim = (int64_t)hp->n_head * hp->head_dim;
    int64_t kmax = hp->n_embd;
    if (q_dim > kmax) kmax = q_dim;
    if (hp->n_ff > kmax) kmax = hp->n_ff;
    if (hp->n_ff_shexp > kmax) kmax = hp->n_ff_shexp; /* MoE shared expert's down projection */
    /* scratch: one block's, plus what a non-default activation policy of the widest linear needs
     * (the rounded inputs [n_batch][kmax], a dequantized weight row per thread, and for a
     * percentile clip a copy of the data: one row per thread, or all rows for a per-tensor range) */
    const size_t arena = lrq_block_scratch(&c->shape, c->n_ctx_pad, n_batch, n_threads) +
                         sizeof(float) * (size_t)kmax * (2 * (size_t)n_batch + 5 * (size_t)n_threads) + 6 * 64;
    /* planes weights (lq formats) take int8 activations: room for LRQ_LINEAR_GROUP sets of them */
    size_t q8p_tok = 0, q8p_arena = 0;
    for (int32_t i = 0; i < m->w->n_tensors && !q8p_tok; i++)
        if (m->w->tensors[i].qp.layout == LRQ_PARAMS_PLANES) q8p_tok = lrq_linear_q8p_tok_bytes(kmax);
    if (q8p_tok && (lrq_mul_size(q8p_tok + sizeof(lrq_q8p_act) + 128, (size_t)n_batch * LRQ_LINEAR_GROUP, &q8p_arena) ||
                    arena + q8p_arena < arena)) {
        lrq_err_set("context scratch for %d-token batches overflows", n_batch);
        goto fail;
    }
    if (lrq_nn_init(&c->nn, n_threads, n_batch, kmax, arena + q8p_arena)) goto fail;
    c->nn.q8p_tok_bytes = q8p_tok;
    if (hp->n_expert > 0) {
        /* n_layer <= 4096 and n_expert <= LRQ_MAX_EXPERTS (checked at load): no overflow */
        if (!(c->expert_counts = lrq_calloc((size_t)hp->n_layer * (size_t)hp->n_expert, sizeof(uint64_t)))) goto fail;
        c->nn.moe_counts = c->expert_counts;
        c->nn.moe_n_expert = hp->n_expert;
    }

    /* KV caches: one per layer, or K for a layer whose replicated unit contains attention */
    if (!(c->kv_first = lrq_calloc((size_t)hp->n_layer, sizeof(int))) ||
        !(c->kv_count = lrq_calloc((size_t)hp->n_layer, sizeof(int))))
        goto fail;
    int n_kv = 0;
    for (int l = 0; l < hp->n_layer; l++) {
        c->kv_first[l] = n_kv;
        c->kv_count[l] = lrq_block_n_kv(&m->blocks[l]);
        n_kv += c->kv_count[l];
    }
    const size_t per_kv = (size_t)kv_dim * ((size_t)n_ctx + (size_t)c->n_ctx_pad);
    if (!(c->kv = lrq_calloc((size_t)n_kv, sizeof *c->kv)) || alloc_floats(&c->kv_mem, (size_t)n_kv, per_kv))
        goto fail;
    for (int i = 0; i < n_kv; i++) {
        float *base = c->kv_mem + (size_t)i * per_kv;
        c->kv[i] = (lrq_kv){ .k = base, .vt = base + (size_t)n_ctx * (size_t)kv_dim, .n_ctx = n_ctx,
                             .n_ctx_pad = c->n_ctx_pad };
    }
    if (alloc_floats(&c->x, (size_t)n_batch, (size_t)hp->n_embd) ||
        alloc_floats(&c->xn, (size_t)n_batch, (size_t)hp->n_embd) ||
        alloc_floats(&c->rope, (size_t)n_batch, (size_t)hp->n_rot) ||
        alloc_floats(&c->logits, (size_t)n_batch, (size_t)hp->n_vocab))
        goto fail;
    *out = c;
    return 0;
fail:
    lrq_ctx_free(c);
    return -1;
}

void lrq_ctx_free(lrq_ctx *c) {
    if (!c) return;
    lrq_nn_free(&c->nn);
    free(c->kv); free(c->kv_first); free(c->kv_count); free(c->kv_mem);
    free(c->x); free(c->xn); free(c->rope); free(c->logits); free(c->expert_counts);
    free(c);
}

void lrq_ctx_reset(lrq_ctx *c) { c->n_past = 0; }

int lrq_ctx_n_past(const lrq_ctx *c) { return c->n_past; }

void lrq_ctx_set_hooks(lrq_ctx *c, const lrq_hooks *h) { c->nn.hooks = h; }

const uint64_t *lrq_ctx_expert_counts(const lrq_ctx *c) { return c->expert_counts; }

void lrq_ctx_expert_counts_reset(lrq_ctx *c) {
    if (c->expert_counts)
        memset(c->expert_counts, 0, sizeof *c->expert_counts * (size_t)c->m->hp.n_layer * (size_t)c->m->hp.n_expert);
}

typedef struct {
    const lrq_tensor *emb;
    const int32_t *tokens;
    float *x;
    int64_t E;
    size_t row_bytes;
    int B;
} embed_task;

static void embed_worker(void *arg, int ith, int nth) {
    const embed_task *t = arg;
    const lrq_type_traits *tt = lrq_type_get(t->emb->type);
    long lo, hi;
    lrq_split(t->B, ith, nth, &lo, &hi);
    for (long b = lo; b < hi; b++)
        tt->to_float((const uint8_t *)t->emb->data + (size_t)t->tokens[b] * t->row_bytes, t->x + b * t->E, t->E);
}

/* Index of the first non-finite value in x[0..n), or -1. */
static long first_nonfinite(const float *x, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return (long)i;
    return -1;
}

const float *lrq_ctx_eval(lrq_ctx *c, const int32_t *tokens, int n, int logits_from) {
    const lrq_model *m = c->m;
    const lrq_hparams *hp = &m->hp;
    if (n < 1 || n > c->n_batch) { lrq_err_set("eval: %d tokens, batch limit %d", n, c->n_batch); return NULL; }
    if (logits_from < 0 || logits_from >= n) { lrq_err_set("eval: logits_from %d not in 0..%d", logits_from, n - 1); return NULL; }
    if (c->n_past + n > c->n_ctx) {
        lrq_err_set("eval: context full (%d + %d > %d)", c->n_past, n, c->n_ctx);
        return NULL;
    }
    for (int i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= hp->n_vocab) {
            lrq_err_set("eval: token id %d out of range (vocab %d)", tokens[i], hp->n_vocab);
            return NULL;
        }
    for (int l = 0; l < hp->n_layer; l++)
        if (lrq_block_n_kv(&m->blocks[l]) > c->kv_count[l]) {
            lrq_err_set("eval: layer %d was replicated after this context was created; create a new context", l);
            return NULL;
        }
    lrq_nn *nn = &c->nn;
    const int64_t E = hp->n_embd;
    const float theta_scale = powf(hp->rope_theta, -2.0f / (float)hp->n_rot);
    for (int b = 0; b < n; b++) lrq_rope_table(c->rope + (size_t)b * hp->n_rot, c->n_past + b, hp->n_rot, theta_scale);

    embed_task et = { .emb = m->tok_embd, .tokens = tokens, .x = c->x, .E = E, .B = n };
    LRQ_ASSERT(lrq_row_size(m->tok_embd->type, E, &et.row_bytes) == 0);
    lrq_nn_rows(nn, n, embed_worker, &et);
    for (int l = 0; l < hp->n_layer; l++) {
        /* llama.cpp drops the rows without logits before the last layer's FFN; so does lrq (it saves work
         * and the other rows' results are not used) */
        const int ffn_from = l == hp->n_layer - 1 ? logits_from : 0;
        lrq_block_fwd(nn, &m->blocks[l], &c->shape, &c->kv[c->kv_first[l]], c->x, c->rope, c->n_past, n, ffn_from);
        const size_t first = (size_t)ffn_from * (size_t)E;
        const long bad = first_nonfinite(c->x + first, (size_t)(n - ffn_from) * (size_t)E);
        if (bad >= 0) {
            lrq_err_set("%s: non-finite activation after layer %d (token %ld of the batch): the model's weights "
                        "in this layer or below hold NaN/Inf or overflow", m->w->path, l,
                        (long)ffn_from + bad / (long)E);
            return NULL;
        }
    }
    /* Final norm and output projection, for tokens logits_from .. n-1. */
    const int cnt = n - logits_from;
    lrq_rmsnorm_rows(nn, c->xn, c->x + (size_t)logits_from * E, m->output_norm->data, cnt, E, hp->rms_eps);
    lrq_linear head;
    head.w = m->output;
    head.bias = NULL;
    head.act = LRQ_ACT_PARTNER;
    head.info = (lrq_linear_info){ .name = m->output->name, .layer = -1, .slot = LRQ_SLOT_OUTPUT, .expert = -1,
                                   .n_in = m->output->ne[0], .n_out = m->output->ne[1] };
    lrq_linear_fwd(nn, &head, c->xn, c->logits, cnt, cnt);
    c->n_past += n;
    return c->logits;
}
