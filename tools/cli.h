/* cli.h — shared pieces of the lrq command-line tool: option parsing,
 * default paths, error exit. Only tools/ may exit the process. */
#ifndef LRQ_CLI_H
#define LRQ_CLI_H

#include <stdint.h>
#include <stdio.h>

/* The bundled default model and text (used when -m / -f are not given). */
#define LRQ_DEFAULT_MODEL "models/stories260K/stories260K-f32.gguf"
#define LRQ_DEFAULT_TEXT "data/tinystories/TinyStories-valid.first22docs.txt"

/* Path of a file under the shared folder: $LRQ_SHARED, else ../shared
 * relative to the working directory, else relative to the executable, else
 * the folder the build was configured with (LRQ_SHARED_DIR). */
const char *cli_shared_path(const char *rel);

/* Print "lrq CMD: <last error>" to stderr and return 1 (an exit status). */
int cli_fail(const char *cmd);

/* Option helpers: match "-x"/"--long" at argv[*i]; the value is argv[*i+1]
 * (i is advanced); exits with a usage error when the value is missing or bad:
 * cli_int wants a whole number in lo..hi, cli_num a finite number. */
int cli_opt(int argc, char **argv, int *i, const char *s, const char *l, const char **val);
int cli_int(const char *cmd, const char *opt, const char *v, long lo, long hi);
double cli_num(const char *cmd, const char *opt, const char *v);

/* Warnings (stderr; the command goes on): more threads than online cores;
 * a context / token count beyond the model's training context. */
void cli_warn_threads(const char *cmd, int n_threads);
void cli_warn_ctx(const char *cmd, const char *opt, long n, long n_ctx_train);

/* On SIGINT/SIGTERM/SIGHUP remove the temporary files of outputs being
 * written (lrq_atomic_unlink_all) before the process dies of the signal. */
void cli_catch_signals(void);

/* Activation-quantization options (--act-bits, --act-clip, --act-clip-at,
 * --act-per-tensor, --act-asym; tools/cli_act.c). Start from CLI_ACT_INIT;
 * cli_act_opt consumes argv[*i] (and its value) if it is one of them and
 * returns 1, else 0 (exits with a usage error on a bad value). After the
 * model is loaded cli_act_apply sets it on the model: returns 0 (and *desc a
 * one-line description, or NULL when no option was given) or an exit
 * status after printing the error. cli_act_help is the --help text. */
#include "lrq.h"
typedef struct cli_act {
    lrq_act_quant aq;
    int any, clip_given;
} cli_act;
#define CLI_ACT_INIT { .aq = { .bits = 0, .per_tensor = 0, .asym = 0, .clip = 1.0f, .clip_at = 0.0f } }
extern const char *const cli_act_help;
int cli_act_opt(const char *cmd, int argc, char **argv, int *i, cli_act *a);
int cli_act_apply(const char *cmd, const cli_act *a, lrq_model *m, const char **desc, char *buf, size_t cap);

int cmd_ppl(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_mkrand(int argc, char **argv);
int cmd_quantize(int argc, char **argv);
int cmd_imatrix(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_plot(int argc, char **argv);

#endif
