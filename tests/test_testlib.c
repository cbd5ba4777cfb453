/* test_testlib.c — the test harness itself. test_finish() must pass a binary
 * whose checks all held, fail one with a failed check, and fail one in which
 * no check ran at all (every case skipped, or no case): such a binary tested
 * nothing and must not count as green. Each scenario runs in a forked child so
 * that its counters start from zero and its verdict is a real exit status. */
#define _POSIX_C_SOURCE 200809L
#include "testlib.h"

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void case_checks_nothing(void) {}
static void case_passes(void) { CHECK(1 + 1 == 2); }
static void case_fails(void) { CHECK(1 + 1 == 3); }
static void case_fails_directly(void) { test_fail(__FILE__, __LINE__, "deliberate failure"); }

static void no_case(void) {}
static void only_skipped_case(void) { TEST_RUN(case_checks_nothing); }
static void passing(void) { TEST_RUN(case_checks_nothing); TEST_RUN(case_passes); }
static void failing(void) { TEST_RUN(case_passes); TEST_RUN(case_fails); }
static void failing_directly(void) { TEST_RUN(case_fails_directly); }

/* Exit status of a child that runs `body` then returns test_finish(); -1 if
 * it did not exit normally. Its output goes to /dev/null: the deliberate
 * failures must not read as failures of this binary in the log. */
static int verdict(void (*body)(void)) {
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr)) _exit(99);
        body();
        _exit(test_finish());
    }
    int st = 0;
    if (waitpid(pid, &st, 0) != pid) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int v_none, v_skipped, v_pass, v_fail, v_fail_direct;

static void test_verdicts(void) {
    CHECKF(v_none == 1, "no case at all: exit %d, want 1", v_none);
    CHECKF(v_skipped == 1, "only a case without checks: exit %d, want 1", v_skipped);
    CHECKF(v_pass == 0, "passing checks: exit %d, want 0", v_pass);
    CHECKF(v_fail == 1, "a failed CHECK: exit %d, want 1", v_fail);
    CHECKF(v_fail_direct == 1, "a direct test_fail: exit %d, want 1", v_fail_direct);
}

int main(void) {
    /* The children are forked before this binary runs any case of its own,
     * so they inherit counters that are all zero. */
    v_none = verdict(no_case);
    v_skipped = verdict(only_skipped_case);
    v_pass = verdict(passing);
    v_fail = verdict(failing);
    v_fail_direct = verdict(failing_directly);
    TEST_RUN(test_verdicts);
    return test_finish();
}
