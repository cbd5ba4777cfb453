/* arch.c — the list of architectures (arch.h). */
#include "model/arch.h"

#include <stdio.h>
#include <string.h>

static const lrq_arch_desc *const all[] = { &lrq_arch_llama,    &lrq_arch_qwen2,    &lrq_arch_qwen3,
                                            &lrq_arch_deepseek, &lrq_arch_qwen2moe, &lrq_arch_qwen3moe };
#define N_ARCH (sizeof all / sizeof all[0])

const lrq_arch_desc *lrq_arch_get(int id) {
    for (size_t i = 0; i < N_ARCH; i++)
        if (all[i]->id == id) return all[i];
    return NULL;
}

const lrq_arch_desc *lrq_arch_find_gguf(const char *name) {
    for (size_t i = 0; i < N_ARCH; i++)
        if (strcmp(all[i]->gguf_name, name) == 0) return all[i];
    return NULL;
}

const lrq_arch_desc *lrq_arch_find_hf(const char *cls, const char *model_type) {
    for (size_t i = 0; i < N_ARCH; i++) {
        if (cls ? all[i]->hf_class && strcmp(cls, all[i]->hf_class) == 0
                : model_type && all[i]->hf_model_type && strcmp(model_type, all[i]->hf_model_type) == 0)
            return all[i];
    }
    return NULL;
}

static const char *list(int hf) {
    static char buf[2][256];
    char *b = buf[hf];
    b[0] = 0;
    for (size_t i = 0; i < N_ARCH; i++) {
        const char *n = hf ? all[i]->hf_class : all[i]->gguf_name;
        if (!n) continue;
        size_t len = strlen(b);
        snprintf(b + len, sizeof buf[0] - len, "%s%s", len ? ", " : "", n);
    }
    return b;
}

const char *lrq_arch_list_gguf(void) { return list(0); }
const char *lrq_arch_list_hf(void) { return list(1); }
