/* cmd_quantize.c — `lrq quantize`: llama-quantize's presets and per-tensor
 * choices, recipes and --tensor-type rules (the work is lrq_quantize in
 * src/quant/quantize.c; this file parses options and prints the tables). */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "lrq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void help(void) {
    printf("usage: lrq quantize IN OUT (TYPE | --recipe FILE) [--tensor-type PATTERN=TYPE]... [--imatrix FILE]\n"
           "                    [--pure] [--quantize-norms] [--allow-requantize] [--dry-run] [-t N] [--vocab V]\n"
           "\n"
           "Writes OUT, a GGUF with the tensors of model IN quantized the way llama-quantize v0.5.0 does:\n"
           "same per-tensor types for the preset (e.g. Q4_K_M keeps half of attn_v and ffn_down in Q6_K and the\n"
           "output in Q6_K), same fallbacks when a row length does not fit a type's blocks (rows of 64 cannot be\n"
           "Q4_K: Q5_0 instead; rows of 172 fit no block type: F16), same bytes, same metadata plus\n"
           "general.file_type. Tensor order: by layer, then by name, as llama-quantize writes them.\n"
           "IN: a GGUF (its metadata is copied), a Hugging Face folder (config.json + *.safetensors) or a llama2.c\n"
           ".bin with --vocab (lrq writes the metadata and tokenizer keys; HF llama q/k rows are reordered for GGUF).\n"
           "\n"
           "TYPE, a preset (llama-quantize's names; docs/recipes.md has the full per-tensor table):\n");
    const char *name, *about;
    for (int i = 0; lrq_quantize_preset(i, &name, &about) == 0; i++) printf("  %-7s %s\n", name, about);
    printf("  Q3_K, Q4_K, Q5_K are llama-quantize's aliases of Q3_K_M, Q4_K_M, Q5_K_M; --pure gives every quantized\n"
           "  tensor the one type instead (fallbacks still apply).\n"
           "  lq:SPEC    lrq's own formats (docs/formats.md), e.g. lq:b4g32, lq:b3g64apq8x8cs: every matrix but\n"
           "             token_embd (F16) in that format; also as a rule's TYPE. Only lrq reads them.\n"
           "\n"
           "What is quantized: 2-D and 3-D tensors whose names end in 'weight', except norms and the MoE router\n"
           "(ffn_gate_inp): those keep their type (F32), as in llama-quantize.\n"
           "\n"
           "Rules (docs/recipes.md):\n"
           "  --tensor-type PATTERN=TYPE  give the tensors matching PATTERN the type TYPE (a ggml type: q4_K, q6_K,\n"
           "                              q8_0, f16 ...) instead of the preset's choice. PATTERN is a glob over the\n"
           "                              whole name ('blk.*.attn_v.weight', 'output.weight') or /REGEX/ (POSIX\n"
           "                              extended, searched anywhere: '/attn_(q|k)/'). Repeatable; the FIRST\n"
           "                              matching rule wins; these come before the recipe's rules.\n"
           "  --recipe FILE               base preset, options and rules in a file: lines 'base Q4_K_M', 'pure',\n"
           "                              'quantize-norms', 'PATTERN TYPE' ('#' comments). Errors name FILE:LINE.\n"
           "  --quantize-norms            let rules change norms and the router too (a warning for each).\n"
           "\n"
           "Other options:\n"
           "  --imatrix FILE      importance matrix (llama-imatrix's GGUF): llama-quantize's weighted quantizers,\n"
           "                      per-expert slices, its imatrix-dependent preset choices and quantize.imatrix.*\n"
           "                      keys (docs/recipes.md); tensors without an entry are quantized without (warning)\n"
           "  --allow-requantize  allow re-quantizing tensors already in a block type\n"
           "  --dry-run           print the plan (types, sizes), write nothing\n"
           "  -t, --threads N     threads over the rows of each tensor (default 2); the output is identical\n"
           "                      for any N\n"
           "  --vocab FILE        tokenizer for a model without one (a GGUF, tokenizer.bin or tokenizer.json)\n"
           "\n"
           "Output: on a terminal a progress bar on stderr; otherwise one line per tensor. Then the table\n"
           "(name, shape, source type -> type, bits per weight, RMSE and relative error of the quantized weights\n"
           "against the source weights, time) and a summary (bytes, bpw of the file and of the quantized matrices).\n"
           "OUT appears only when complete: on an error or Ctrl-C an existing OUT is left as it was and no\n"
           "temporary file remains. Memory stays at a few 32 MiB slabs, not the model's size.\n"
           "\n"
           "Examples:\n"
           "  lrq quantize model-f16.gguf model-q4km.gguf Q4_K_M -t 4\n"
           "  lrq quantize model-f16.gguf model.gguf Q4_K_M --tensor-type 'blk.*.ffn_down.weight=q6_K'\n"
           "  lrq quantize model-f16.gguf model.gguf --recipe my.recipe\n");
}

typedef struct ui {
    int tty, last_pct, table;
    FILE *out;
} ui;

static void fmt_shape(char *b, size_t cap, const lrq_quant_tensor *t) {
    int n = snprintf(b, cap, "%lld", (long long)t->ne[0]);
    for (int d = 1; d < t->n_dims && n > 0 && (size_t)n < cap; d++)
        n += snprintf(b + n, cap - (size_t)n, "x%lld", (long long)t->ne[d]);
}

static void progress(void *ud, int i, int n, int64_t done, int64_t total) {
    ui *u = ud;
    if (!u->tty) return;
    int pct = (int)(100.0 * ((double)i + (total ? (double)done / (double)total : 1.0)) / (double)n);
    if (pct == u->last_pct) return;
    u->last_pct = pct;
    char bar[41];
    int fill = pct * 40 / 100;
    for (int k = 0; k < 40; k++) bar[k] = k < fill ? '#' : '.';
    bar[40] = 0;
    fprintf(stderr, "\r[%s] %3d%%  tensor %d/%d", bar, pct, i + 1, n);
    fflush(stderr);
}

static void row(FILE *f, const lrq_quant_tensor *t) {
    char shape[64], types[40];
    fmt_shape(shape, sizeof shape, t);
    if (t->quantized)
        snprintf(types, sizeof types, "%s->%s%s", lrq_type_name(t->src_type), lrq_type_name(t->type),
                 t->fell_back ? "*" : "");
    else
        snprintf(types, sizeof types, "%s", lrq_type_name(t->type));
    fprintf(f, "%-36s %-16s %-16s %7.3f", t->name, shape, types, t->bpw);
    if (t->quantized && t->rmse == t->rmse)
        fprintf(f, " %11.4e %9.3e", t->rmse, t->rel_err);
    else
        fprintf(f, " %11s %9s", "-", "-");
    fprintf(f, " %7.3f%s%s\n", t->seconds, t->rule ? "  rule " : "", t->rule ? t->rule : "");
}

static void header(FILE *f) {
    fprintf(f, "%-36s %-16s %-16s %7s %11s %9s %7s\n", "tensor", "shape", "type", "bpw", "rmse", "rel_err", "sec");
}

static void tensor_done(void *ud, int i, int n, const lrq_quant_tensor *t) {
    ui *u = ud;
    if (u->tty) {
        fprintf(stderr, "\r%80s\r", "");
        if (!u->table) { header(u->out); u->table = 1; }
        row(u->out, t);
        u->last_pct = -1;
        return;
    }
    /* not a terminal: one line per tensor on stderr, the table on stdout */
    fprintf(stderr, "lrq quantize: [%d/%d] %s %s\n", i + 1, n, t->name, lrq_type_name(t->type));
    if (!u->table) { header(u->out); u->table = 1; }
    row(u->out, t);
}

int cmd_quantize(int argc, char **argv) {
    lrq_quantize_params p = { .n_threads = 2 };
    const char *pos[3] = { 0 }, *v;
    int npos = 0;
    const char **rules = calloc((size_t)argc + 1, sizeof *rules);
    if (!rules) { fprintf(stderr, "lrq quantize: out of memory\n"); return 1; }
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) { help(); free(rules); return 0; }
        else if (cli_opt(argc, argv, &i, NULL, "--recipe", &p.recipe)) {}
        else if (cli_opt(argc, argv, &i, NULL, "--imatrix", &p.imatrix)) {}
        else if (cli_opt(argc, argv, &i, NULL, "--vocab", &p.vocab)) {}
        else if (cli_opt(argc, argv, &i, NULL, "--tensor-type", &v)) rules[p.n_rules++] = v;
        else if (cli_opt(argc, argv, &i, "-t", "--threads", &v)) p.n_threads = cli_int("quantize", "-t", v, 1, 1024);
        else if (!strcmp(argv[i], "--pure")) p.pure = 1;
        else if (!strcmp(argv[i], "--quantize-norms")) p.quantize_norms = 1;
        else if (!strcmp(argv[i], "--allow-requantize")) p.allow_requantize = 1;
        else if (!strcmp(argv[i], "--dry-run")) p.dry_run = 1;
        else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "lrq quantize: unknown option '%s' (see --help)\n", argv[i]);
            free(rules);
            return 2;
        } else if (npos < 3) pos[npos++] = argv[i];
        else {
            fprintf(stderr, "lrq quantize: too many arguments ('%s'; see --help)\n", argv[i]);
            free(rules);
            return 2;
        }
    }
    if (npos < 2 || (npos == 2 && !p.recipe)) {
        fprintf(stderr, "lrq quantize: usage: lrq quantize IN OUT (TYPE | --recipe FILE) (see --help)\n");
        free(rules);
        return 2;
    }
    p.in = pos[0];
    p.out = pos[1];
    p.type = npos == 3 ? pos[2] : NULL;
    p.rules = rules;
    cli_warn_threads("quantize", p.n_threads);
    ui u = { .tty = isatty(2), .last_pct = -1, .out = stdout };
    p.log = stderr;
    p.progress = progress;
    p.tensor_done = tensor_done;
    p.ud = &u;
    lrq_quantize_result r;
    int rc = lrq_quantize(&p, &r);
    free(rules);
    if (rc) {
        if (u.tty) fprintf(stderr, "\r%80s\r", "");
        return cli_fail("quantize");
    }
    const char *ft = lrq_file_type_name(r.file_type);
    printf("%s %s: %d tensors (%d converted, %d fell back: '*'), file type %s\n", p.dry_run ? "would write" : "wrote",
           p.out, r.n_tensors, r.n_quantized, r.n_fallback, ft ? ft : "?");
    printf("tensor data: %.2f MiB -> %.2f MiB, %.4f bpw over all %llu weights; quantized matrices %.4f bpw\n",
           (double)r.src_tensor_bytes / 1048576.0, (double)r.tensor_bytes / 1048576.0,
           r.n_weights ? (double)r.tensor_bytes * 8.0 / (double)r.n_weights : 0.0, (unsigned long long)r.n_weights,
           r.q_weights ? (double)r.q_bytes * 8.0 / (double)r.q_weights : 0.0);
    if (!p.dry_run)
        printf("file: %llu bytes (%.4f bpw incl. metadata), %.2f s\n", (unsigned long long)r.file_bytes,
               r.n_weights ? (double)r.file_bytes * 8.0 / (double)r.n_weights : 0.0, r.seconds);
    return 0;
}
