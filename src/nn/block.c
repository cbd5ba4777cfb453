/* block.c — see block.h. */
#include "nn/block.h"
#include "core/core.h"
#include "nn/norm.h"

#include <string.h>

int lrq_block_n_kv(const lrq_block *b) {
    return b->K > 1 && (b->unit == LRQ_UNIT_BLOCK || b->unit == LRQ_UNIT_ATTN) ? b->K : 1;
}

size_t lrq_block_scratch(const lrq_block_shape *sh, int n_ctx_pad, int B, int n_threads) {
    size_t a = lrq_attention_scratch(&sh->attn, n_ctx_pad, B, n_threads);
    size_t m = lrq_mlp_scratch(sh->n_ff, B, n_threads);
    const size_t e = lrq_moe_scratch(&sh->moe, B, n_threads);
    if (e > m) m = e;
    /* xn, delta, accumulator, replica copy of x; the larger sub-block scratch */
    return sizeof(float) * 4 * (size_t)B * (size_t)sh->n_embd + 4 * 64 + (a > m ? a : m);
}

/* x[i] += d[i] (in the operand order of llama.cpp's ggml_add(cur, inpSA)). */
static void add_into(float *x, const float *d, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] = d[i] + x[i];
}

/* delta = sub-block `unit` of parameter set w on x (rows from..B-1 for the MLP). */
static void sub_fwd(lrq_nn *nn, int unit, const lrq_block_w *w, const lrq_block_shape *sh, lrq_kv *kv,
                    const float *x, const float *rope, int n_past, int B, int from, float *xn, float *delta) {
    const int64_t E = sh->n_embd;
    if (unit == LRQ_UNIT_ATTN) {
        lrq_rmsnorm_rows(nn, xn, x, w->attn_norm, B, E, sh->eps);
        lrq_attention_fwd(nn, &w->attn, &sh->attn, kv, xn, rope, n_past, B, delta);
    } else {
        const int n = B - from;
        lrq_rmsnorm_rows(nn, xn, x + (size_t)from * E, w->ffn_norm, n, E, sh->eps);
        if (w->moe.n_expert > 0) {
            const int layer = w->moe.router_info.layer;
            uint64_t *cnt = nn->moe_counts ? nn->moe_counts + (size_t)layer * (size_t)nn->moe_n_expert : NULL;
            lrq_moe_fwd(nn, &w->moe, xn, n, from, cnt, delta);
        } else {
            lrq_mlp_fwd(nn, &w->mlp, xn, n, n, delta);
        }
    }
}

/* x <- x + unit(x): rows from..B-1 for the MLP, all rows for attention. */
static void sub_apply(lrq_nn *nn, int unit, const lrq_block_w *w, const lrq_block_shape *sh, lrq_kv *kv, float *x,
                      const float *rope, int n_past, int B, int from, float *xn, float *delta) {
    const int64_t E = sh->n_embd;
    const int first = unit == LRQ_UNIT_ATTN ? 0 : from;
    sub_fwd(nn, unit, w, sh, kv, x, rope, n_past, B, from, xn, delta);
    add_into(x + (size_t)first * E, delta, (size_t)(B - first) * (size_t)E);
}

static void plain_block(lrq_nn *nn, const lrq_block_w *w, const lrq_block_shape *sh, lrq_kv *kv, float *x,
                        const float *rope, int n_past, int B, int from, float *xn, float *delta) {
    sub_apply(nn, LRQ_UNIT_ATTN, w, sh, kv, x, rope, n_past, B, from, xn, delta);
    sub_apply(nn, LRQ_UNIT_MLP, w, sh, kv, x, rope, n_past, B, from, xn, delta);
}

void lrq_block_fwd(lrq_nn *nn, const lrq_block *b, const lrq_block_shape *sh, lrq_kv *kv, float *x,
                   const float *rope, int n_past, int B, int ffn_from) {
    const size_t mark = lrq_arena_mark(&nn->arena);
    const int64_t E = sh->n_embd;
    const size_t n_all = (size_t)B * (size_t)E;
    float *xn = lrq_arena_floats(&nn->arena, n_all);
    float *delta = lrq_arena_floats(&nn->arena, n_all);
    if (b->K <= 1) {
        plain_block(nn, &b->rep[0], sh, kv, x, rope, n_past, B, ffn_from, xn, delta);
    } else if (b->topology == LRQ_TOPO_SEQUENTIAL) {
        if (b->unit == LRQ_UNIT_BLOCK) {
            for (int k = 0; k < b->K; k++)
                plain_block(nn, &b->rep[k], sh, &kv[k], x, rope, n_past, B, ffn_from, xn, delta);
        } else if (b->unit == LRQ_UNIT_ATTN) {
            for (int k = 0; k < b->K; k++)
                sub_apply(nn, LRQ_UNIT_ATTN, &b->rep[k], sh, &kv[k], x, rope, n_past, B, ffn_from, xn, delta);
            sub_apply(nn, LRQ_UNIT_MLP, &b->rep[0], sh, kv, x, rope, n_past, B, ffn_from, xn, delta);
        } else {
            sub_apply(nn, LRQ_UNIT_ATTN, &b->rep[0], sh, kv, x, rope, n_past, B, ffn_from, xn, delta);
            for (int k = 0; k < b->K; k++)
                sub_apply(nn, LRQ_UNIT_MLP, &b->rep[k], sh, kv, x, rope, n_past, B, ffn_from, xn, delta);
        }
    } else {
        float *acc = lrq_arena_floats(&nn->arena, n_all);
        if (b->unit == LRQ_UNIT_BLOCK) {
            /* x <- sum_k cw[k] * block_k(x), each replica on its own copy of x */
            float *y = lrq_arena_floats(&nn->arena, n_all);
            for (int k = 0; k < b->K; k++) {
                memcpy(y, x, n_all * sizeof(float));
                plain_block(nn, &b->rep[k], sh, &kv[k], y, rope, n_past, B, ffn_from, xn, delta);
                for (size_t i = 0; i < n_all; i++) acc[i] = k ? acc[i] + b->cw[k] * y[i] : b->cw[0] * y[i];
            }
            memcpy(x, acc, n_all * sizeof(float));
        } else {
            if (b->unit == LRQ_UNIT_MLP) sub_apply(nn, LRQ_UNIT_ATTN, &b->rep[0], sh, kv, x, rope, n_past, B, ffn_from, xn, delta);
            const int first = b->unit == LRQ_UNIT_ATTN ? 0 : ffn_from;
            const size_t n = (size_t)(B - first) * (size_t)E;
            for (int k = 0; k < b->K; k++) {
                lrq_kv *kvk = b->unit == LRQ_UNIT_ATTN ? &kv[k] : kv;
                sub_fwd(nn, b->unit, &b->rep[k], sh, kvk, x, rope, n_past, B, ffn_from, xn, delta);
                for (size_t i = 0; i < n; i++) acc[i] = k ? acc[i] + b->cw[k] * delta[i] : b->cw[0] * delta[i];
            }
            add_into(x + (size_t)first * E, acc, n);
            if (b->unit == LRQ_UNIT_ATTN) sub_apply(nn, LRQ_UNIT_MLP, &b->rep[0], sh, kv, x, rope, n_past, B, ffn_from, xn, delta);
        }
    }
    lrq_arena_reset(&nn->arena, mark);
}
