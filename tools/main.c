/* main.c — the lrq command-line tool: subcommand dispatch and shared helpers. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "lrq.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *argv0;

const char *cli_shared_path(const char *rel) {
    static char buf[4][PATH_MAX];
    static int k;
    char *b = buf[k++ & 3];
    struct stat st;
    const char *env = getenv("LRQ_SHARED");
    if (env && *env) {
        snprintf(b, PATH_MAX, "%s/%s", env, rel);
        return b;
    }
    snprintf(b, PATH_MAX, "../shared/%s", rel);
    if (stat(b, &st) == 0) return b;
    /* build/bin/lrq -> <project>/../shared */
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *s = strrchr(exe, '/');
        if (s) {
            *s = 0;
            snprintf(b, PATH_MAX, "%s/../../../shared/%s", exe, rel);
            if (stat(b, &st) == 0) return b;
        }
    } else if (argv0 && strchr(argv0, '/')) {
        char tmp[PATH_MAX];
        snprintf(tmp, sizeof tmp, "%s", argv0);
        *strrchr(tmp, '/') = 0;
        snprintf(b, PATH_MAX, "%s/../../../shared/%s", tmp, rel);
        if (stat(b, &st) == 0) return b;
    }
#ifdef LRQ_SHARED_DIR
    snprintf(b, PATH_MAX, "%s/%s", LRQ_SHARED_DIR, rel); /* where the build was configured to find it */
    if (stat(b, &st) == 0) return b;
#endif
    snprintf(b, PATH_MAX, "../shared/%s", rel);
    return b;
}

int cli_fail(const char *cmd) {
    fprintf(stderr, "lrq %s: %s\n", cmd, lrq_last_error());
    return 1;
}

int cli_opt(int argc, char **argv, int *i, const char *s, const char *l, const char **val) {
    const char *a = argv[*i];
    if (!((s && strcmp(a, s) == 0) || (l && strcmp(a, l) == 0))) return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "lrq: option %s needs a value\n", a);
        exit(2);
    }
    *val = argv[++*i];
    return 1;
}

int cli_int(const char *cmd, const char *opt, const char *v, long lo, long hi) {
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || *end || end == v || x < lo || x > hi) {
        fprintf(stderr, "lrq %s: %s: expected an integer in %ld..%ld, got '%s'\n", cmd, opt, lo, hi, v);
        exit(2);
    }
    return (int)x;
}

double cli_num(const char *cmd, const char *opt, const char *v) {
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    /* strtod also takes "nan" and "inf": no option means anything by them */
    if (errno || *end || end == v || !isfinite(x)) {
        fprintf(stderr, "lrq %s: %s: expected a finite number, got '%s'\n", cmd, opt, v);
        exit(2);
    }
    return x;
}

void cli_warn_threads(const char *cmd, int n_threads) {
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    /* More threads than cores only makes them wait for each other's time
     * slices at every barrier (1000 threads on 2 cores ran 750x slower). */
    if (cores > 0 && n_threads > cores)
        fprintf(stderr, "lrq %s: warning: -t %d exceeds the %ld online cores; this will be much slower\n", cmd,
                n_threads, cores);
}

void cli_warn_ctx(const char *cmd, const char *opt, long n, long n_ctx_train) {
    if (n_ctx_train > 0 && n > n_ctx_train)
        fprintf(stderr, "lrq %s: warning: %s %ld exceeds the model's training context %ld; quality will degrade\n",
                cmd, opt, n, n_ctx_train);
}

/* Remove temporary output files, then die of the same signal (so the
 * parent sees the usual status). Only async-signal-safe calls here. */
static void on_signal(int sig) {
    lrq_atomic_unlink_all();
    signal(sig, SIG_DFL);
    raise(sig);
}

void cli_catch_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

static void usage(FILE *f) {
    fprintf(f,
            "lrq %s — low-bit LLM quantization lab\n"
            "usage: lrq COMMAND [options]\n"
            "  ppl       perplexity the llama.cpp way (+ KL-divergence)   lrq ppl -m MODEL -f TEXT -c CTX\n"
            "  generate  greedy or sampled continuation                   lrq generate -m MODEL -p PROMPT\n"
            "  tokenize  print token ids                                  lrq tokenize -m MODEL -p TEXT\n"
            "  info      architecture, tensors, types, bits per weight    lrq info MODEL\n"
            "  mkrand    random-weight model of a real shape (benchmarks) lrq mkrand --shape qwen2.5-1.5b -o F\n"
            "  quantize  llama-quantize's presets, recipes, rules          lrq quantize IN OUT Q4_K_M\n"
            "  imatrix   importance matrix (llama-imatrix's, its format)  lrq imatrix -m MODEL -f TEXT -o F\n"
            "  sweep     recipe grid: quantize + measure, a row each      lrq sweep -m M -f T --grid G -o R.tsv\n"
            "  plot      PPL/KLD vs bpw, Pareto front per method (gnuplot) lrq plot R.tsv -o OUT\n"
            "Run 'lrq COMMAND --help' for a command's options. Without -m, commands use the bundled\n"
            "stories260K model (../shared/%s).\n",
            LRQ_VERSION, LRQ_DEFAULT_MODEL);
}

int main(int argc, char **argv) {
    argv0 = argv[0];
    cli_catch_signals(); /* before any command can start writing a file */
    if (argc < 2) { usage(stderr); return 2; }
    const char *c = argv[1];
    if (!strcmp(c, "-h") || !strcmp(c, "--help") || !strcmp(c, "help")) { usage(stdout); return 0; }
    if (!strcmp(c, "--version")) { printf("lrq %s (%s kernels)\n", LRQ_VERSION, lrq_types_isa()); return 0; }
    if (!strcmp(c, "ppl") || !strcmp(c, "perplexity")) return cmd_ppl(argc - 1, argv + 1);
    if (!strcmp(c, "generate")) return cmd_generate(argc - 1, argv + 1);
    if (!strcmp(c, "tokenize")) return cmd_tokenize(argc - 1, argv + 1);
    if (!strcmp(c, "info")) return cmd_info(argc - 1, argv + 1);
    if (!strcmp(c, "mkrand")) return cmd_mkrand(argc - 1, argv + 1);
    if (!strcmp(c, "quantize")) return cmd_quantize(argc - 1, argv + 1);
    if (!strcmp(c, "imatrix")) return cmd_imatrix(argc - 1, argv + 1);
    if (!strcmp(c, "sweep")) return cmd_sweep(argc - 1, argv + 1);
    if (!strcmp(c, "plot")) return cmd_plot(argc - 1, argv + 1);
    fprintf(stderr, "lrq: unknown command '%s'\n", c);
    usage(stderr);
    return 2;
}
