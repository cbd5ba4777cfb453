/* arena.c — see arena.h. */
#include "nn/arena.h"
#include "core/core.h"

int lrq_arena_init(lrq_arena *a, size_t size) {
    a->size = (size + 63) & ~(size_t)63;
    a->used = a->peak = 0;
    a->base = lrq_malloc_aligned(a->size ? a->size : 64, 64);
    return a->base ? 0 : -1;
}

void lrq_arena_free(lrq_arena *a) {
    lrq_free_aligned(a->base);
    a->base = NULL;
    a->size = a->used = 0;
}

void *lrq_arena_bytes(lrq_arena *a, size_t n) {
    n = (n + 63) & ~(size_t)63;
    LRQ_ASSERT(n <= a->size - a->used); /* the context under-sized its arena: a bug, not bad input */
    void *p = a->base + a->used;
    a->used += n;
    if (a->used > a->peak) a->peak = a->used;
    return p;
}

float *lrq_arena_floats(lrq_arena *a, size_t n) { return lrq_arena_bytes(a, n * sizeof(float)); }
