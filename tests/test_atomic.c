/* test_atomic.c — core/atomic.c: a committed output replaces its target
 * whole; an aborted one leaves the target and the folder as they were;
 * lrq_atomic_unlink_all removes temporary files still open; a failing
 * commit (target is a folder) keeps nothing; scratch files have no name. */
#define _POSIX_C_SOURCE 200809L
#include "testlib.h"
#include "core/atomic.h"
#include "core/core.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static int count_entries(void) {
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    if (d) closedir(d);
    return n;
}

static void put_file(const char *path, const char *s) {
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (f) { fputs(s, f); fclose(f); }
}

static int file_is(const char *path, const char *want) {
    char buf[256] = {0};
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    return n == strlen(want) && memcmp(buf, want, n) == 0;
}

static void test_commit_and_abort(void) {
    char target[128];
    snprintf(target, sizeof target, "%s/out.bin", dir);
    put_file(target, "old contents");
    lrq_atomic_file af;
    CHECKF(lrq_atomic_open(&af, target) == 0, "%s", lrq_err_get());
    FILE *f = lrq_atomic_stream(&af);
    CHECK(f != NULL);
    if (f) fputs("half", f);
    CHECK(count_entries() == 2);              /* target + temporary */
    CHECK(file_is(target, "old contents"));   /* untouched while writing */
    lrq_atomic_abort(&af);
    CHECK(count_entries() == 1);
    CHECK(file_is(target, "old contents"));
    lrq_atomic_abort(&af); /* twice is harmless */

    CHECKF(lrq_atomic_open(&af, target) == 0, "%s", lrq_err_get());
    f = lrq_atomic_stream(&af);
    if (f) fputs("new contents", f);
    CHECKF(lrq_atomic_commit(&af) == 0, "%s", lrq_err_get());
    CHECK(count_entries() == 1);
    CHECK(file_is(target, "new contents"));
    unlink(target);
}

static void test_unlink_all(void) {
    char a[128], b[128];
    snprintf(a, sizeof a, "%s/a.bin", dir);
    snprintf(b, sizeof b, "%s/b.bin", dir);
    lrq_atomic_file fa, fb;
    CHECK(lrq_atomic_open(&fa, a) == 0 && lrq_atomic_open(&fb, b) == 0);
    CHECK(count_entries() == 2);
    lrq_atomic_unlink_all(); /* what the signal handler does */
    CHECK(count_entries() == 0);
    lrq_atomic_abort(&fa);
    lrq_atomic_abort(&fb);
    CHECK(count_entries() == 0);
}

static void test_failing_commit(void) {
    char sub[128];
    snprintf(sub, sizeof sub, "%s/sub", dir);
    CHECK(mkdir(sub, 0755) == 0);
    char keep[160];
    snprintf(keep, sizeof keep, "%s/keep", sub);
    put_file(keep, "x"); /* a non-empty folder cannot be renamed over */
    lrq_atomic_file af;
    CHECKF(lrq_atomic_open(&af, sub) == 0, "%s", lrq_err_get());
    CHECK(lrq_atomic_commit(&af) == -1);
    CHECKF(strstr(lrq_err_get(), sub) != NULL, "message does not name the target: %s", lrq_err_get());
    CHECK(count_entries() == 1); /* only sub/, no temporary file */
    CHECK(file_is(keep, "x"));
    unlink(keep);
    rmdir(sub);
    /* a folder that does not exist: a clear error, nothing created */
    char nod[128];
    snprintf(nod, sizeof nod, "%s/nodir/x", dir);
    CHECK(lrq_atomic_open(&af, nod) == -1 && strstr(lrq_err_get(), nod) != NULL);
    CHECK(lrq_atomic_commit(&af) == -1); /* commit of a closed file: an error, no crash */
}

static void test_scratch(void) {
    char near[128];
    snprintf(near, sizeof near, "%s/model.gguf", dir);
    int fd = lrq_scratch_fd(near);
    CHECKF(fd >= 0, "%s", lrq_err_get());
    CHECK(count_entries() == 0); /* unnamed from the start */
    if (fd >= 0) {
        CHECK(write(fd, "abc", 3) == 3);
        close(fd);
    }
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/lrq_test_atomic_XXXXXX");
    if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
    TEST_RUN(test_commit_and_abort);
    TEST_RUN(test_unlink_all);
    TEST_RUN(test_failing_commit);
    TEST_RUN(test_scratch);
    rmdir(dir);
    return test_finish();
}
