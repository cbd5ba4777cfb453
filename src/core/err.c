/* err.c — thread-local error messages and always-on asserts (see core.h). */
#include "core.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#define LRQ_ERR_MAX 1024

static _Thread_local char err_buf[LRQ_ERR_MAX];

int lrq_err_set(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err_buf, sizeof err_buf, fmt, ap);
    va_end(ap);
    return -1;
}

int lrq_err_prefix(const char *fmt, ...) {
    char prefix[LRQ_ERR_MAX];
    char old[LRQ_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err_buf, sizeof old);
    snprintf(err_buf, sizeof err_buf, "%s: %s", prefix, old);
    return -1;
}

const char *lrq_err_get(void) { return err_buf; }

void lrq_err_clear(void) { err_buf[0] = 0; }

void lrq_assert_fail(const char *expr, const char *file, int line) {
    fprintf(stderr, "lrq: assertion failed: %s (%s:%d)\n", expr, file, line);
    fflush(stderr);
    abort();
}

const char *lrq_last_error(void) { return err_buf; }
