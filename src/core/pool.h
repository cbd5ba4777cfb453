/* pool.h — a fixed pool of worker threads for data-parallel loops.
 *
 * lrq_pool_run(pool, fn, arg) calls fn(arg, ith, nth) once on each of the
 * nth threads (the caller is thread 0) and returns when all are done. Work
 * is split statically by ith, so a given thread count always produces the
 * same work assignment; lrq's kernels additionally compute every output
 * element on exactly one thread with a fixed order, so results do not even
 * depend on the thread count. Workers spin briefly between jobs (decode runs
 * hundreds of small jobs per token), then sleep on a condition variable.
 */
#ifndef LRQ_POOL_H
#define LRQ_POOL_H

typedef struct lrq_pool lrq_pool;
typedef void (*lrq_task_fn)(void *arg, int ith, int nth);

/* Create a pool of n_threads (>= 1) threads including the caller. NULL + error on failure. */
lrq_pool *lrq_pool_new(int n_threads);
void lrq_pool_free(lrq_pool *p);
int lrq_pool_size(const lrq_pool *p);
/* Run fn on every thread and wait. Not reentrant. */
void lrq_pool_run(lrq_pool *p, lrq_task_fn fn, void *arg);

/* Split [0, n) into nth contiguous ranges; thread ith gets [*lo, *hi). */
static inline void lrq_split(long n, int ith, int nth, long *lo, long *hi) {
    long per = n / nth, rem = n % nth;
    *lo = ith * per + (ith < rem ? ith : rem);
    *hi = *lo + per + (ith < rem ? 1 : 0);
}

#endif
