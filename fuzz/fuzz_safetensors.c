/* fuzz_safetensors.c — libFuzzer target for the safetensors reader: open an
 * arbitrary image; on success every tensor's data range must lie inside the
 * input (touched here, so ASan flags any escape), lookups must round-trip,
 * and sizes must match shape x dtype. */
#include "core/core.h"
#include "io/safetensors.h"

#include <stdint.h>
#include <string.h>

#define FUZZ_CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lrq_safetensors *st = NULL;
    if (lrq_safetensors_open_memory(&st, data, size, "fuzz.safetensors") != 0) {
        FUZZ_CHECK(st == NULL);
        FUZZ_CHECK(strncmp(lrq_err_get(), "fuzz.safetensors: ", 18) == 0);
        return 0;
    }
    volatile uint8_t sink = 0;
    for (int64_t i = 0; i < lrq_safetensors_n_tensors(st); i++) {
        const lrq_st_tensor *t = lrq_safetensors_tensor_at(st, i);
        FUZZ_CHECK(lrq_safetensors_find(st, t->name) == t);
        uint64_t n = 1;
        for (int d = 0; d < t->n_dims; d++) n *= (uint64_t)t->shape[d];
        FUZZ_CHECK(n * (t->type == 0 ? 4u : 2u) == t->nbytes);
        if (t->nbytes) {
            const uint8_t *p = t->data;
            FUZZ_CHECK(p >= data && p + t->nbytes <= data + size);
            sink ^= p[0];
            sink ^= p[t->nbytes - 1];
        }
    }
    (void)sink;
    lrq_safetensors_close(st);
    return 0;
}
