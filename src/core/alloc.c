/* alloc.c — checked allocation wrappers (see core.h). */
#define _POSIX_C_SOURCE 200809L
#include "core.h"

#include <stdlib.h>

void *lrq_malloc(size_t size) {
    void *p = malloc(size ? size : 1);
    if (!p) lrq_err_set("out of memory (%zu bytes)", size);
    return p;
}

void *lrq_calloc(size_t n, size_t size) {
    size_t total;
    if (lrq_mul_size(n, size, &total)) {
        lrq_err_set("allocation size overflow (%zu x %zu)", n, size);
        return NULL;
    }
    void *p = calloc(total ? n : 1, total ? size : 1);
    if (!p) lrq_err_set("out of memory (%zu bytes)", total);
    return p;
}

void *lrq_realloc(void *p, size_t size) {
    void *q = realloc(p, size ? size : 1);
    if (!q) lrq_err_set("out of memory (%zu bytes)", size);
    return q;
}

char *lrq_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *p = lrq_malloc(n);
    if (p) memcpy(p, s, n);
    return p;
}

void *lrq_malloc_aligned(size_t size, size_t alignment) {
    void *p = NULL;
    LRQ_ASSERT(alignment >= sizeof(void *) && (alignment & (alignment - 1)) == 0);
    if (posix_memalign(&p, alignment, size ? size : alignment) != 0) {
        lrq_err_set("out of memory (%zu bytes)", size);
        return NULL;
    }
    return p;
}

void lrq_free_aligned(void *p) { free(p); }
