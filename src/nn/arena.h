/* arena.h — per-context scratch memory. One block is allocated when a
 * context is created; ops take scratch from it with lrq_arena_alloc and give
 * it back with lrq_arena_reset(mark), so the forward pass never calls
 * malloc. Running out is a programmer error (the context sized the arena
 * from the model's shapes): it asserts rather than returning garbage. */
#ifndef LRQ_NN_ARENA_H
#define LRQ_NN_ARENA_H

#include <stddef.h>

typedef struct lrq_arena {
    unsigned char *base;
    size_t size, used, peak;
} lrq_arena;

/* Allocate `size` bytes of 64-byte aligned storage; -1 + error on OOM. */
int lrq_arena_init(lrq_arena *a, size_t size);
void lrq_arena_free(lrq_arena *a);

/* n floats (64-byte aligned, uninitialised) from the arena. */
float *lrq_arena_floats(lrq_arena *a, size_t n);
/* n bytes (64-byte aligned, uninitialised). */
void *lrq_arena_bytes(lrq_arena *a, size_t n);

/* A mark to return to: everything allocated after it is released. */
static inline size_t lrq_arena_mark(const lrq_arena *a) { return a->used; }
static inline void lrq_arena_reset(lrq_arena *a, size_t mark) { a->used = mark; }

#endif
