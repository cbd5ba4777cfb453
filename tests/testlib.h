/* testlib.h — a tiny unit-test harness. Each test executable calls
 * TEST_RUN(fn) for its cases and returns test_finish(), which prints
 * "N passed, N failed" and returns nonzero on any failure. CHECK records a
 * failure with file:line and continues. A binary in which no check at all
 * was evaluated (every case skipped, or no case run) fails too: a test that
 * checked nothing must not look green. */
#ifndef LRQ_TESTLIB_H
#define LRQ_TESTLIB_H

#include <stdio.h>
#include <stddef.h>
#include <stdint.h>

extern int test_failures_in_case;
/* Checks evaluated so far by CHECK/CHECKF. A direct test_fail call is not
 * counted: it is a failure, which fails the binary anyway. */
extern long test_checks;

void test_fail(const char *file, int line, const char *fmt, ...);
void test_run(const char *name, void (*fn)(void));
int test_finish(void);
/* Path under the shared folder: test_shared("models/x") -> static buffer (rotating). */
const char *test_shared(const char *rel);
/* 1 if the file exists (tests on optional data skip with a message otherwise). */
int test_exists(const char *path);
/* Deterministic PRNG for random test inputs. */
uint64_t test_rand_u64(uint64_t *state);
float test_rand_f32(uint64_t *state); /* uniform in [-1, 1) */
float test_rand_normal(uint64_t *state);

#define CHECK(cond) do { test_checks++; if (!(cond)) test_fail(__FILE__, __LINE__, "%s", #cond); } while (0)
#define CHECKF(cond, ...) do { test_checks++; if (!(cond)) test_fail(__FILE__, __LINE__, __VA_ARGS__); } while (0)
#define TEST_RUN(fn) test_run(#fn, fn)

#endif
