/* testlib.c — see testlib.h. */
#include "testlib.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>

int test_failures_in_case;
long test_checks;
static int n_passed, n_failed;

void test_fail(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "  FAIL %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    test_failures_in_case++;
}

void test_run(const char *name, void (*fn)(void)) {
    test_failures_in_case = 0;
    fprintf(stderr, "[ RUN  ] %s\n", name);
    fn();
    if (test_failures_in_case) {
        n_failed++;
        fprintf(stderr, "[ FAIL ] %s (%d checks)\n", name, test_failures_in_case);
    } else {
        n_passed++;
        fprintf(stderr, "[  OK  ] %s\n", name);
    }
}

int test_finish(void) {
    if (test_checks == 0) {
        /* Counted as one failed case so the summary line says so too. */
        fprintf(stderr, "[ FAIL ] no check ran in %d case(s): nothing was tested\n", n_passed + n_failed);
        n_failed++;
    }
    printf("%d passed, %d failed\n", n_passed, n_failed);
    fflush(stdout);
    return n_failed ? 1 : 0;
}

const char *test_shared(const char *rel) {
    static char bufs[8][1024];
    static int k;
    char *b = bufs[k++ & 7];
    snprintf(b, sizeof bufs[0], "%s/%s", LRQ_SHARED_DIR, rel);
    return b;
}

int test_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

uint64_t test_rand_u64(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

float test_rand_f32(uint64_t *s) {
    return (float)((double)(test_rand_u64(s) >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

float test_rand_normal(uint64_t *s) {
    double u1 = ((double)(test_rand_u64(s) >> 11) + 1.0) / 9007199254740993.0;
    double u2 = (double)(test_rand_u64(s) >> 11) / 9007199254740992.0;
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}
