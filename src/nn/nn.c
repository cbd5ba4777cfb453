/* nn.c — see nn.h. */
#include "nn/nn.h"
#include "core/core.h"
#include "fmt/types.h"

#include <stdlib.h>

static const int partner_types[LRQ_NN_N_PARTNERS] = { LRQ_TYPE_F16, LRQ_TYPE_BF16, LRQ_TYPE_Q8_0, LRQ_TYPE_Q8_1,
                                                      LRQ_TYPE_Q8_K };

int lrq_nn_partner_index(int type) {
    for (int i = 0; i < LRQ_NN_N_PARTNERS; i++)
        if (partner_types[i] == type) return i;
    return -1;
}

int lrq_nn_init(lrq_nn *nn, int n_threads, int n_batch, int64_t k_max, size_t arena_bytes) {
    memset(nn, 0, sizeof *nn);
    lrq_types_init();
    nn->n_threads = n_threads;
    nn->n_batch = n_batch;
    nn->k_max = k_max;
    nn->ord = lrq_order_get();
    if (!(nn->pool = lrq_pool_new(n_threads))) return -1;
    if (lrq_arena_init(&nn->arena, arena_bytes)) return -1;
    for (int i = 0; i < LRQ_NN_N_PARTNERS; i++) {
        const lrq_type_traits *pt = lrq_type_get(partner_types[i]);
        const int64_t blocks = (k_max + pt->blck_size - 1) / pt->blck_size;
        size_t bytes;
        if (lrq_mul_size((size_t)blocks, pt->type_size, &nn->act_stride[i]) ||
            lrq_mul_size((size_t)n_batch, nn->act_stride[i], &bytes))
            return lrq_err_set("activation buffer size overflows (batch %d, width %lld)", n_batch, (long long)k_max);
        if (!(nn->act[i] = lrq_malloc_aligned(bytes, 64))) return -1;
    }
    return 0;
}

void lrq_nn_free(lrq_nn *nn) {
    lrq_pool_free(nn->pool);
    nn->pool = NULL;
    lrq_arena_free(&nn->arena);
    for (int i = 0; i < LRQ_NN_N_PARTNERS; i++) {
        lrq_free_aligned(nn->act[i]);
        nn->act[i] = NULL;
    }
}

void lrq_nn_rows(lrq_nn *nn, int B, lrq_task_fn fn, void *arg) {
    if (B >= 4) lrq_pool_run(nn->pool, fn, arg);
    else fn(arg, 0, 1);
}
