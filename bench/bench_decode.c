/* bench_decode.c — end-to-end speed of lrq's forward pass (a benchmark, not
 * a test): prefill P random tokens, then decode N tokens one at a time,
 * greedily (argmax of the logits), R times; prints each repetition's decode
 * tok/s, the median, prefill tok/s, time to first token, the threads and
 * kernel ISA, the model's bytes and the weight bandwidth the decode speed
 * implies (weight bytes streamed per token x tok/s).
 *
 * With -p 0 decoding starts from one random token, as `llama-bench -p 0 -n N`
 * does (its tgN test), so the two tools time the same work: N single-token
 * evaluations at KV depths 0..N-1.
 *
 * --matvec also times the weight matrix-vector products alone — every
 * layer's seven matrices and the output projection, on the same thread pool
 * and kernels as the forward pass, with a random activation — to split the
 * decode time into "matmul kernels" and "everything else" (attention, norms,
 * RoPE, activation rounding, thread hand-offs, argmax).
 *
 *   bench_decode -m MODEL [-t THREADS] [-p P] [-n N] [-r R] [-w WARMUP] [--seed S] [--vocab F] [--matvec]
 *   bench_decode --membw MIB [-t THREADS] [-r R] [-w WARMUP]
 *
 * --membw MIB (no model needed) measures the roofline instead: the read
 * bandwidth of lrq's own F32 dot kernel streaming a MIB-mebibyte buffer
 * against an L1-resident vector, split over the threads like a matmul — the
 * most bytes per second a weight stream can reach here with lrq's threading.
 *
 * The last line ("RESULT key=value ...") is for scripts (bench/run_bench.sh).
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include "lrq.h"
#include "core/core.h"
#include "core/pool.h"
#include "model/model.h"
#include "fmt/types.h"
#include "kern/planes.h"
#include "kern/planes_q8.h"
#include "nn/linear.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t rng_next(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median of v[0..n) (sorts v). */
static double median(double *v, int n) {
    if (n <= 0) return 0;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static int32_t argmax(const float *x, int n) {
    int32_t best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

static int parse_int(const char *opt, const char *v, long lo, long hi) {
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || *end || end == v || x < lo || x > hi) {
        fprintf(stderr, "bench_decode: %s: expected an integer in %ld..%ld, got '%s'\n", opt, lo, hi, v);
        exit(2);
    }
    return (int)x;
}

/* ---- matmul-only timing (--matvec) ---- */

typedef struct {
    const lrq_tensor *W;
    const void *act;
    float *out;
    size_t row_bytes;
    lrq_vec_dot_fn dot;
    const lrq_q8p_act *q8;  /* planes weights with int8 activations (the forward pass's default) */
    int planes_bits;        /* planes weights with F32 activations (other lq shapes) */
} mv_task;

/* Rows split in contiguous ranges per thread, as the forward pass does. */
static void mv_worker(void *arg, int ith, int nth) {
    const mv_task *t = arg;
    long lo, hi;
    lrq_split((long)t->W->ne[1], ith, nth, &lo, &hi);
    const uint8_t *w = t->W->data;
    if (t->q8) {
        LRQ_ASSERT(lrq_q8p_matvec(NULL, t->W->ne[0], t->W->ne[1], w, &t->W->qp, t->q8, lo, hi, t->out) == 0);
        return;
    }
    if (t->planes_bits) {
        LRQ_ASSERT(lrq_planes_matvec(NULL, t->planes_bits, t->W->ne[0], t->W->ne[1], w, &t->W->qp, t->act, lo, hi,
                                     t->out) == 0);
        return;
    }
    for (long r = lo; r < hi; r++) t->dot(t->W->ne[0], &t->out[r], w + (size_t)r * t->row_bytes, t->act);
}

typedef struct {
    lrq_pool *pool;
    float *x, *out;
    void *act;   /* x rounded to the partner type (one buffer, sized for the widest) */
    void *q8buf; /* int8 activations of planes weights */
    size_t q8bytes;
    lrq_q8p_act q8;
} mv_state;

static void matvec(mv_state *s, const lrq_tensor *W) {
    const lrq_type_traits *tt = lrq_type_get(W->type);
    mv_task t = { .W = W, .out = s->out, .dot = tt->vec_dot };
    LRQ_ASSERT(lrq_row_size(W->type, W->ne[0], &t.row_bytes) == 0);
    if (W->qp.layout == LRQ_PARAMS_PLANES) { /* as nn/linear.c: int8 activations where the kernels take the shape */
        const int bits = lrq_type_lq_bits(W->type);
        size_t need;
        if (!W->qp.codebook && lrq_q8p_act_bytes(bits, W->ne[0], W->qp.group, &need) == 0 && need <= s->q8bytes &&
            lrq_q8p_quantize(bits, W->ne[0], W->qp.group, s->x, s->q8buf, s->q8bytes, &s->q8) == 0) {
            t.q8 = &s->q8;
        } else {
            t.planes_bits = bits;
            t.act = s->x;
        }
        lrq_pool_run(s->pool, mv_worker, &t);
        return;
    }
    /* The forward pass rounds each input once per partner type and reuses
     * it for up to three matrices; rounding once per matrix here costs a few
     * microseconds more per layer, negligible next to the weight stream. */
    if (tt->vec_dot_type == LRQ_TYPE_F32) t.act = s->x;
    else {
        lrq_type_get(tt->vec_dot_type)->from_float(s->x, s->act, W->ne[0]);
        t.act = s->act;
    }
    lrq_pool_run(s->pool, mv_worker, &t);
}

/* One pass over every matrix a decoded token streams; returns seconds. */
static double matvec_pass(mv_state *s, const lrq_model *m) {
    double t0 = now();
    for (int l = 0; l < m->hp.n_layer; l++) {
        const lrq_layer *L = &m->layers[l];
        const lrq_tensor *mats[7] = { L->wq, L->wk, L->wv, L->wo, L->ffn_gate, L->ffn_up, L->ffn_down };
        for (int i = 0; i < 7; i++) matvec(s, mats[i]);
    }
    matvec(s, m->output);
    return now() - t0;
}

/* ---- memory read bandwidth (--membw) ---- */

#define BW_CHUNK 4096 /* floats per dot call: 16 KiB, the y vector stays in L1 */

typedef struct {
    const float *buf, *y;
    size_t n_chunks;
    lrq_vec_dot_fn dot;
    float sink[64];       /* one slot per thread (results kept so the work is not optimised away) */
} bw_task;

static void bw_worker(void *arg, int ith, int nth) {
    bw_task *t = arg;
    long lo, hi;
    lrq_split((long)t->n_chunks, ith, nth, &lo, &hi);
    float acc = 0, s;
    for (long c = lo; c < hi; c++) {
        t->dot(BW_CHUNK, &s, t->buf + (size_t)c * BW_CHUNK, t->y);
        acc += s;
    }
    t->sink[ith & 63] += acc;
}

/* memcpy of each thread's share of the chunks (the copy bandwidth: bytes copied per second). */
typedef struct {
    const float *src;
    float *dst;
    size_t n_chunks;
} cp_task;

static void cp_worker(void *arg, int ith, int nth) {
    cp_task *t = arg;
    long lo, hi;
    lrq_split((long)t->n_chunks, ith, nth, &lo, &hi);
    memcpy(t->dst + (size_t)lo * BW_CHUNK, t->src + (size_t)lo * BW_CHUNK, (size_t)(hi - lo) * BW_CHUNK * sizeof(float));
}

static int run_membw(int mib, int n_threads, int R, int W) {
    size_t n_chunks = (size_t)mib * 1048576 / (BW_CHUNK * sizeof(float));
    size_t bytes = n_chunks * BW_CHUNK * sizeof(float);
    float *buf = lrq_malloc_aligned(bytes, 64), *y = lrq_malloc_aligned(BW_CHUNK * sizeof(float), 64);
    float *dst = lrq_malloc_aligned(bytes, 64);
    lrq_pool *pool = lrq_pool_new(n_threads);
    double *gbs = lrq_malloc((size_t)R * sizeof *gbs), *cps = lrq_malloc((size_t)R * sizeof *cps);
    if (!buf || !y || !dst || !pool || !gbs || !cps) {
        fprintf(stderr, "bench_decode: %s\n", lrq_last_error());
        return 1;
    }
    /* Write every page (a never-written buffer may be backed by the shared zero page). */
    for (size_t i = 0; i < n_chunks * BW_CHUNK; i++) buf[i] = (float)(i & 1023) * 1e-3f;
    memset(dst, 0, bytes);
    for (int i = 0; i < BW_CHUNK; i++) y[i] = 1.0f;
    bw_task t = { .buf = buf, .y = y, .n_chunks = n_chunks, .dot = lrq_type_get(LRQ_TYPE_F32)->vec_dot };
    printf("bench_decode --membw: %d MiB buffer, F32 dot kernel (%s), %d threads, %d repetitions (+%d warm-up)\n", mib,
           lrq_types_isa(), n_threads, R, W);
    cp_task ct = { .src = buf, .dst = dst, .n_chunks = n_chunks };
    /* read and copy alternate, so both see the same state of a machine whose bandwidth drifts */
    for (int rep = -W; rep < R; rep++) {
        double t0 = now();
        lrq_pool_run(pool, bw_worker, &t);
        double dt = now() - t0;
        if (rep >= 0) gbs[rep] = (double)bytes / dt * 1e-9;
        t0 = now();
        lrq_pool_run(pool, cp_worker, &ct);
        dt = now() - t0;
        if (rep >= 0) cps[rep] = (double)bytes / dt * 1e-9;
    }
    printf("SAMPLES gbs=");
    for (int i = 0; i < R; i++) printf(i ? ",%.2f" : "%.2f", gbs[i]);
    printf(" copy_gbs=");
    for (int i = 0; i < R; i++) printf(i ? ",%.2f" : "%.2f", cps[i]);
    printf("\n");
    double med = median(gbs, R), cmed = median(cps, R);
    printf("RESULT tool=membw threads=%d isa=%s mib=%d r=%d gbs=%.2f copy_gbs=%.2f (checksum %g %g)\n", n_threads,
           lrq_types_isa(), mib, R, med, cmed, (double)t.sink[0], (double)dst[n_chunks * BW_CHUNK - 1]);
    lrq_pool_free(pool);
    lrq_free_aligned(buf);
    lrq_free_aligned(dst);
    lrq_free_aligned(y);
    free(gbs);
    free(cps);
    return 0;
}

/* ---- main ---- */

static void usage(void) {
    printf("usage: bench_decode -m MODEL [-t THREADS] [-p P] [-n N] [-r R] [-w WARMUP] [--seed S] [--vocab F] [--matvec]\n"
           "       bench_decode --membw MIB [-t THREADS] [-r R] [-w WARMUP]\n"
           "  Prefill P random tokens (default 0: start from one random token, like llama-bench -p 0), decode N\n"
           "  tokens greedily one at a time (default 32), R repetitions (default 5) after WARMUP untimed ones\n"
           "  (default 1); prints per-repetition and median tok/s. --matvec adds a matmul-only timing.\n"
           "  --membw: read bandwidth of the F32 dot kernel over a MIB-mebibyte buffer (the decode roofline), and the\n"
           "           copy bandwidth (memcpy of that buffer, bytes copied per second), alternating.\n");
}

int main(int argc, char **argv) {
    lrq_types_init(); /* register the kernels into the type table */
    const char *model = NULL, *vocab = NULL;
    int n_threads = 2, P = 0, N = 32, R = 5, W = 1, do_mv = 0, membw = 0;
    uint64_t seed = 1234;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(); return 0; }
        else if (!strcmp(a, "--matvec")) do_mv = 1;
        else if (!has) { fprintf(stderr, "bench_decode: option %s needs a value (see --help)\n", a); return 2; }
        else if (!strcmp(a, "-m")) model = argv[++i];
        else if (!strcmp(a, "--vocab")) vocab = argv[++i];
        else if (!strcmp(a, "-t")) n_threads = parse_int(a, argv[++i], 1, 1024);
        else if (!strcmp(a, "-p")) P = parse_int(a, argv[++i], 0, 1 << 20);
        else if (!strcmp(a, "-n")) N = parse_int(a, argv[++i], 0, 1 << 20);
        else if (!strcmp(a, "-r")) R = parse_int(a, argv[++i], 1, 10000);
        else if (!strcmp(a, "-w")) W = parse_int(a, argv[++i], 0, 10000);
        else if (!strcmp(a, "--seed")) seed = (uint64_t)parse_int(a, argv[++i], 0, 0x7fffffff);
        else if (!strcmp(a, "--membw")) membw = parse_int(a, argv[++i], 1, 1 << 20);
        else { fprintf(stderr, "bench_decode: unknown option '%s' (see --help)\n", a); return 2; }
    }
    if (membw) return run_membw(membw, n_threads, R, W);
    if (!model) { usage(); return 2; }
    if (P == 0 && N == 0) { fprintf(stderr, "bench_decode: nothing to do (-p 0 -n 0)\n"); return 2; }

    double t_load = now();
    lrq_model *m;
    if (lrq_model_load(&m, model, vocab)) {
        fprintf(stderr, "bench_decode: %s\n", lrq_last_error());
        return 1;
    }
    t_load = now() - t_load;
    const lrq_hparams *hp = &m->hp;
    /* Bytes: all tensors (what llama-bench calls the model size), and the
     * weight bytes one decoded token streams: every matrix the matmuls read
     * (the token embedding only contributes one row unless it is also the
     * output projection). */
    double model_bytes = 0, stream_bytes = 0;
    uint64_t n_params = 0;
    for (int i = 0; i < m->w->n_tensors; i++) {
        const lrq_tensor *t = &m->w->tensors[i];
        double b = (double)t->nbytes;
        if (t->qp.layout == LRQ_PARAMS_PLANES && t->qp.group > 0) {
            /* lq: the kernels also read one parameter set's float planes (scale, and zero if any) */
            const double groups = (double)t->ne[1] * (double)(t->ne[0] / t->qp.group) * (double)(t->ne[2] * t->ne[3]);
            b += groups * (double)sizeof(float) * (t->qp.zero ? 2 : 1);
        }
        model_bytes += b;
        n_params += (uint64_t)(t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3]);
        if (strcmp(t->name, "token_embd.weight") != 0 || m->output == m->tok_embd) stream_bytes += b;
        else stream_bytes += b / (double)t->ne[1];
    }
    int n_ctx = P + N + 1, n_batch = P > 512 ? 512 : P > 0 ? P : 1;
    lrq_ctx *c;
    if (lrq_ctx_new(&c, m, n_ctx, n_batch, n_threads)) {
        fprintf(stderr, "bench_decode: %s\n", lrq_last_error());
        lrq_model_free(m);
        return 1;
    }
    const char *isa = lrq_types_isa();
    printf("bench_decode: %s\n", model);
    printf("  n_embd %d, n_layer %d, n_head %d/%d, n_ff %d, n_vocab %d; %.1f M params, %.1f MiB of tensors, "
           "%.1f MiB streamed per token; matrices %s, output %s; loaded in %.2f s\n",
           hp->n_embd, hp->n_layer, hp->n_head, hp->n_head_kv, hp->n_ff, hp->n_vocab, (double)n_params * 1e-6,
           model_bytes / 1048576.0, stream_bytes / 1048576.0, lrq_type_name(m->layers[0].ffn_up->type),
           lrq_type_name(m->output->type), t_load);
    printf("  %d threads, %s kernels, prefill %d tokens (batch %d), decode %d tokens, %d repetitions (+%d warm-up)\n",
           n_threads, isa, P, n_batch, N, R, W);

    int32_t *prompt = lrq_malloc(((size_t)P + 1) * sizeof *prompt);
    double *dec = lrq_malloc((size_t)R * sizeof *dec), *pre = lrq_malloc((size_t)R * sizeof *pre);
    double *ttft = lrq_malloc((size_t)R * sizeof *ttft);
    LRQ_ASSERT(prompt && dec && pre && ttft);
    int rc = 0;
    for (int rep = -W; rep < R && !rc; rep++) {
        /* The same random prompt each repetition: repetitions differ only by noise. */
        uint64_t s = seed;
        for (int i = 0; i <= P; i++) prompt[i] = (int32_t)(rng_next(&s) % (uint64_t)hp->n_vocab);
        lrq_ctx_reset(c);
        double t0 = now(), t_pre = 0, t_first = 0;
        int32_t tok = prompt[P];   /* with -p 0 decoding starts from this random token */
        const float *logits = NULL;
        for (int i = 0; i < P; i += n_batch) {
            int nb = P - i < n_batch ? P - i : n_batch;
            if (!(logits = lrq_ctx_eval(c, prompt + i, nb, nb - 1))) { rc = 1; break; }
        }
        if (rc) break;
        if (P > 0) {
            t_pre = now() - t0;
            tok = argmax(logits, hp->n_vocab);
            t_first = now() - t0;
        }
        double t1 = now();
        for (int k = 0; k < N; k++) {
            if (!(logits = lrq_ctx_eval(c, &tok, 1, 0))) { rc = 1; break; }
            tok = argmax(logits, hp->n_vocab);
        }
        if (rc) break;
        double t_dec = now() - t1;
        if (rep < 0) continue;
        dec[rep] = N > 0 ? N / t_dec : 0;
        pre[rep] = P > 0 ? P / t_pre : 0;
        ttft[rep] = t_first;
        printf("  rep %d:", rep + 1);
        if (P > 0) printf(" prefill %.1f tok/s (%.3f s), time to first token %.3f s;", pre[rep], t_pre, t_first);
        if (N > 0) printf(" decode %.2f tok/s (%.1f ms/token)", dec[rep], 1e3 * t_dec / N);
        printf("\n");
        fflush(stdout);
    }
    if (rc) {
        fprintf(stderr, "bench_decode: %s\n", lrq_last_error());
    } else {
        double dmin = dec[0], dmax = dec[0];
        for (int i = 1; i < R; i++) {
            if (dec[i] < dmin) dmin = dec[i];
            if (dec[i] > dmax) dmax = dec[i];
        }
        double *dec_run = lrq_malloc((size_t)R * sizeof *dec_run), *pre_run = lrq_malloc((size_t)R * sizeof *pre_run);
        LRQ_ASSERT(dec_run && pre_run);
        memcpy(dec_run, dec, (size_t)R * sizeof *dec); /* median() sorts */
        memcpy(pre_run, pre, (size_t)R * sizeof *pre);
        double dmed = median(dec, R), pmed = median(pre, R), tmed = median(ttft, R);
        double bw = stream_bytes * dmed * 1e-9;
        printf("median of %d:", R);
        if (N > 0) printf(" decode %.2f tok/s (min %.2f, max %.2f), weight bandwidth %.1f GB/s;", dmed, dmin, dmax, bw);
        if (P > 0) printf(" prefill %.1f tok/s, time to first token %.3f s", pmed, tmed);
        printf("\n");
        double mv_ms = 0;
        if (do_mv) {
            /* matvec-only passes: same pool size, same kernels, random input */
            mv_state st = { 0 };
            int64_t kmax = hp->n_embd;
            if ((int64_t)hp->n_head * hp->head_dim > kmax) kmax = (int64_t)hp->n_head * hp->head_dim;
            if (hp->n_ff > kmax) kmax = hp->n_ff;
            int64_t nmax = hp->n_vocab > kmax ? hp->n_vocab : kmax;
            st.pool = lrq_pool_new(n_threads);
            st.x = lrq_malloc((size_t)kmax * sizeof(float));
            st.out = lrq_malloc((size_t)nmax * sizeof(float));
            st.act = lrq_malloc_aligned((size_t)kmax * sizeof(float) + 1024, 64);
            st.q8bytes = lrq_linear_q8p_tok_bytes(kmax);
            st.q8buf = lrq_malloc_aligned(st.q8bytes + 64, 64);
            LRQ_ASSERT(st.pool && st.x && st.out && st.act && st.q8buf);
            uint64_t s = seed + 1;
            for (int64_t i = 0; i < kmax; i++) st.x[i] = (float)((double)(rng_next(&s) >> 11) * 0x1.0p-53 - 0.5);
            for (int i = 0; i < W; i++) matvec_pass(&st, m);
            double *mv = lrq_malloc((size_t)R * sizeof *mv);
            LRQ_ASSERT(mv);
            for (int i = 0; i < R; i++) mv[i] = matvec_pass(&st, m);
            mv_ms = 1e3 * median(mv, R);
            free(mv);
            double dec_ms = N > 0 ? 1e3 / dmed : 0;
            printf("matvec only (median of %d): %.2f ms/token = %.1f GB/s of weights", R, mv_ms,
                   stream_bytes / (mv_ms * 1e-3) * 1e-9);
            if (N > 0)
                printf("; decode %.2f ms/token, so %.2f ms (%.0f%%) outside the matmul kernels", dec_ms, dec_ms - mv_ms,
                       100.0 * (dec_ms - mv_ms) / dec_ms);
            printf("\n");
            lrq_pool_free(st.pool);
            free(st.x);
            free(st.out);
            lrq_free_aligned(st.act);
            lrq_free_aligned(st.q8buf);
        }
        printf("RESULT tool=lrq threads=%d isa=%s p=%d n=%d r=%d decode_tps=%.3f decode_tps_min=%.3f "
               "decode_tps_max=%.3f prefill_tps=%.3f ttft_s=%.4f model_bytes=%.0f stream_bytes=%.0f bw_gbs=%.2f "
               "matvec_ms=%.3f\n",
               n_threads, isa, P, N, R, dmed, dmin, dmax, pmed, tmed, model_bytes, stream_bytes, bw, mv_ms);
        /* every repetition, in run order, for scripts that pool several runs */
        printf("SAMPLES decode_tps=");
        for (int i = 0; i < R; i++) printf(i ? ",%.3f" : "%.3f", dec_run[i]);
        printf(" prefill_tps=");
        for (int i = 0; i < R; i++) printf(i ? ",%.3f" : "%.3f", pre_run[i]);
        printf("\n");
        free(dec_run);
        free(pre_run);
    }
    free(prompt);
    free(dec);
    free(pre);
    free(ttft);
    lrq_ctx_free(c);
    lrq_model_free(m);
    return rc;
}
