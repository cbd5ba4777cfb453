/* fuzz_grid.c — libFuzzer target for lrq sweep's grid expansion
 * (lrq_grid_expand, src/eval/sweep.c): arbitrary bytes are expanded with a
 * cap of 64 recipes; on success every recipe's strings are there and its
 * compact form is one line, equal to lrq_recipe_compact of its text; on
 * failure nothing is returned and the error names the grid. */
#include "core/core.h"
#include "lrq.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lrq_grid_recipe *r = NULL;
    size_t n = 99;
    if (lrq_grid_expand((const char *)data, size, "fuzz.grid", 64, &r, &n) != 0) {
        FUZZ_CHECK(r == NULL && n == 0);
        FUZZ_CHECK(strncmp(lrq_err_get(), "fuzz.grid", 9) == 0);
        return 0;
    }
    FUZZ_CHECK(n >= 1 && n <= 64 && r != NULL);
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(r[i].text && r[i].compact && r[i].choice);
        FUZZ_CHECK(strchr(r[i].compact, '\n') == NULL);
        char *c = lrq_recipe_compact(r[i].text, strlen(r[i].text));
        FUZZ_CHECK(c && strcmp(c, r[i].compact) == 0);
        free(c);
    }
    lrq_grid_free(r, n);
    return 0;
}
