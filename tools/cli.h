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

int cmd_ppl(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_mkrand(int argc, char **argv);
int cmd_quantize(int argc, char **argv);
int cmd_imatrix(int argc, char **argv);

#endif
