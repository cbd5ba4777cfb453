/* pool.c — see pool.h. */
#define _POSIX_C_SOURCE 200809L
#include "pool.h"
#include "core.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define CPU_RELAX() __asm__ __volatile__("yield")
#else
#define CPU_RELAX() ((void)0)
#endif

/* Spin this many pause iterations (~0.1-0.5 ms) before sleeping: decode runs
 * hundreds of short jobs per token, but on an oversubscribed machine long
 * spinning would steal the time slices of the threads we wait for. */
#define SPIN_ITERS 20000

struct lrq_pool {
    int n;
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_uint gen;      /* bumped once per job */
    atomic_int pending;   /* workers still running the current job */
    atomic_int stop;
    atomic_int main_sleeping; /* the caller waits on done_cv */
    pthread_cond_t done_cv;
    lrq_task_fn fn;
    void *arg;
};

typedef struct { lrq_pool *p; int ith; } worker_arg;

static void *worker_main(void *a) {
    worker_arg wa = *(worker_arg *)a;
    free(a);
    lrq_pool *p = wa.p;
    unsigned seen = 0;
    for (;;) {
        unsigned g;
        int spins = 0;
        while ((g = atomic_load_explicit(&p->gen, memory_order_acquire)) == seen) {
            if (++spins < SPIN_ITERS) { CPU_RELAX(); continue; }
            pthread_mutex_lock(&p->mu);
            while (atomic_load(&p->gen) == seen && !atomic_load(&p->stop)) pthread_cond_wait(&p->cv, &p->mu);
            pthread_mutex_unlock(&p->mu);
            spins = 0;
            if (atomic_load(&p->stop)) return NULL;
        }
        seen = g;
        if (atomic_load(&p->stop)) return NULL;
        p->fn(p->arg, wa.ith, p->n);
        if (atomic_fetch_sub(&p->pending, 1) == 1 && atomic_load(&p->main_sleeping)) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->done_cv);
            pthread_mutex_unlock(&p->mu);
        }
    }
}

lrq_pool *lrq_pool_new(int n_threads) {
    if (n_threads < 1 || n_threads > 1024) {
        lrq_err_set("thread count %d out of range (1..1024)", n_threads);
        return NULL;
    }
    lrq_pool *p = lrq_calloc(1, sizeof *p);
    if (!p) return NULL;
    p->n = n_threads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    pthread_cond_init(&p->done_cv, NULL);
    atomic_init(&p->main_sleeping, 0);
    atomic_init(&p->gen, 0);
    atomic_init(&p->pending, 0);
    atomic_init(&p->stop, 0);
    if (n_threads > 1) {
        p->threads = lrq_calloc((size_t)n_threads, sizeof *p->threads);
        if (!p->threads) { free(p); return NULL; }
        for (int i = 1; i < n_threads; i++) {
            /* Out of memory is bad luck, not a broken invariant: report it
             * like any other failure and undo the threads already started. */
            worker_arg *wa = lrq_malloc(sizeof *wa);
            if (!wa) {
                p->n = i;
                lrq_pool_free(p);
                lrq_err_set("thread pool: out of memory starting thread %d of %d", i, n_threads);
                return NULL;
            }
            wa->p = p;
            wa->ith = i;
            if (pthread_create(&p->threads[i], NULL, worker_main, wa) != 0) {
                free(wa);
                p->n = i; /* threads 1..i-1 exist */
                lrq_pool_free(p);
                lrq_err_set("cannot create thread %d", i);
                return NULL;
            }
        }
    }
    return p;
}

void lrq_pool_free(lrq_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->stop, 1);
    atomic_fetch_add(&p->gen, 1);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->n; i++) pthread_join(p->threads[i], NULL);
    free(p->threads);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    pthread_cond_destroy(&p->done_cv);
    free(p);
}

int lrq_pool_size(const lrq_pool *p) { return p->n; }

void lrq_pool_run(lrq_pool *p, lrq_task_fn fn, void *arg) {
    if (p->n == 1) { fn(arg, 0, 1); return; }
    p->fn = fn;
    p->arg = arg;
    atomic_store_explicit(&p->pending, p->n - 1, memory_order_release);
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add_explicit(&p->gen, 1, memory_order_acq_rel);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    fn(arg, 0, p->n);
    for (int spins = 0; atomic_load(&p->pending) > 0; spins++) {
        if (spins < SPIN_ITERS) { CPU_RELAX(); continue; }
        pthread_mutex_lock(&p->mu);
        atomic_store(&p->main_sleeping, 1);
        while (atomic_load(&p->pending) > 0) pthread_cond_wait(&p->done_cv, &p->mu);
        atomic_store(&p->main_sleeping, 0);
        pthread_mutex_unlock(&p->mu);
    }
}
