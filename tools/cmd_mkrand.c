/* cmd_mkrand.c — `lrq mkrand`: a random-weight model GGUF with the exact
 * shapes of a real model, for speed measurements (the work is lrq_mkrand in
 * src/eval/mkrand.c; this file parses the options). */
#include "cli.h"
#include "lrq.h"

#include <stdio.h>
#include <string.h>

static void help(void) {
    printf("usage: lrq mkrand [--shape NAME] [--type TYPE] [--embd-type TYPE] [--seed S] [--std X] [--layers N]\n"
           "                  [--vocab VOCAB.gguf] -o OUT.gguf\n"
           "  Writes a model GGUF with random weights (N(0, std^2); norms 1 + N(0, std^2)) and the exact shapes of a\n"
           "  real model, loadable by lrq and by llama.cpp, for speed measurements. Defaults: --shape qwen2.5-1.5b,\n"
           "  --type f16, --seed 1, --std 0.02, the Qwen3 tokenizer (tokenizers/qwen3/ggml-vocab-qwen3.gguf; the\n"
           "  shape's vocab must hold its tokens; extra rows get \"[PADi]\" tokens as llama.cpp's converter does).\n"
           "  --type: any type with a reference quantizer (f32 f16 bf16 q8_0 q4_0 q4_1 q5_0 q5_1 iq4_nl q2_K..q6_K),\n"
           "  used for every matrix (1-D tensors stay f32); for llama.cpp's type mixes quantize an f16 file instead.\n"
           "  --embd-type: type of token_embd (and output) instead of --type. --layers: fewer layers (quick tests).\n"
           "  Same seed, same float weights for every --type. An unnamed scratch file of the model's size is used next to OUT;\n"
           "  OUT appears only when complete.\n"
           "  shapes:\n");
    const char *name, *about;
    for (int i = 0; lrq_mkrand_shape(i, &name, &about) == 0; i++) printf("    %-14s %s\n", name, about);
}

int cmd_mkrand(int argc, char **argv) {
    const char *shape_name = "qwen2.5-1.5b", *type_name = "f16", *embd_name = NULL, *vocab = NULL, *out = NULL, *v;
    lrq_mkrand_params p = { .seed = 1, .stdev = 0.02 };
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) { help(); return 0; }
        else if (cli_opt(argc, argv, &i, NULL, "--shape", &shape_name)) {}
        else if (cli_opt(argc, argv, &i, NULL, "--type", &type_name)) {}
        else if (cli_opt(argc, argv, &i, NULL, "--embd-type", &embd_name)) {}
        else if (cli_opt(argc, argv, &i, NULL, "--vocab", &vocab)) {}
        else if (cli_opt(argc, argv, &i, "-o", "--output", &out)) {}
        else if (cli_opt(argc, argv, &i, "-s", "--seed", &v)) p.seed = (uint64_t)cli_int("mkrand", "--seed", v, 0, 0x7fffffff);
        else if (cli_opt(argc, argv, &i, NULL, "--layers", &v)) p.n_layer = cli_int("mkrand", "--layers", v, 1, 4096);
        else if (cli_opt(argc, argv, &i, NULL, "--std", &v)) {
            p.stdev = cli_num("mkrand", "--std", v);
            if (!(p.stdev > 0 && p.stdev < 100)) { fprintf(stderr, "lrq mkrand: --std must be in (0, 100), got '%s'\n", v); return 2; }
        }
        else { fprintf(stderr, "lrq mkrand: unknown option '%s' (see --help)\n", argv[i]); return 2; }
    }
    if (!out) { fprintf(stderr, "lrq mkrand: -o OUT.gguf is required (see --help)\n"); return 2; }
    const char *name, *about;
    int known = 0;
    for (int i = 0; lrq_mkrand_shape(i, &name, &about) == 0; i++) known |= !strcmp(name, shape_name);
    if (!known) {
        fprintf(stderr, "lrq mkrand: unknown shape '%s'; known:", shape_name);
        for (int i = 0; lrq_mkrand_shape(i, &name, &about) == 0; i++) fprintf(stderr, " %s", name);
        fprintf(stderr, "\n");
        return 2;
    }
    p.type = lrq_type_from_name(type_name);
    p.embd_type = embd_name ? lrq_type_from_name(embd_name) : p.type;
    const char *bad_name = p.type < 0 ? type_name : p.embd_type < 0 ? embd_name : NULL;
    if (bad_name) {
        fprintf(stderr, "lrq mkrand: unknown type '%s'\n", bad_name);
        return 2;
    }
    p.shape = shape_name;
    p.vocab = vocab ? vocab : cli_shared_path("tokenizers/qwen3/ggml-vocab-qwen3.gguf");
    p.out = out;
    p.log = stderr;
    if (lrq_mkrand(&p)) return cli_fail("mkrand");
    return 0;
}
