/* cmd_sweep.c — `lrq sweep`: a grid of quantization recipes over one model
 * and one text, one row per recipe (docs/sweep.md). Each recipe is
 * quantized to a scratch GGUF and measured by KL-divergence against the
 * unquantized model's log-probabilities (computed once, cached); rows are
 * appended to a resumable file (lrq_rows_*: the library). */
#define _XOPEN_SOURCE 700 /* realpath */
#include "cli.h"
#include "lrq.h"

#include <errno.h>
#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

extern const char *const cli_commit; /* build/gen/lrq_commit.c (cmake/commit.cmake) */

static void help(void) {
    printf("usage: lrq sweep -m MODEL -f TEXT -o ROWS.tsv|ROWS.jsonl (--recipe FILE | --grid FILE)...\n"
           "                 [-c CTX] [--chunks N] [-t N] [--scratch DIR] [--keep DIR] [--vocab V] [-v]\n"
           "\n"
           "Quantizes MODEL once per recipe and measures each result against MODEL itself: PPL, ln(PPL/PPL_F32),\n"
           "mean KL-divergence (with its error) and same-top %% on TEXT (the llama.cpp way, as lrq ppl\n"
           "--kl-divergence), bits per weight of the whole file. One row per recipe goes to ROWS (TSV with a header\n"
           "line, or JSON lines when the name ends in .jsonl). Then: lrq plot ROWS.tsv -o plot.\n"
           "\n"
           "Recipes (in the order given; docs/recipes.md has the statements):\n"
           "  --recipe FILE   one recipe file, as lrq quantize --recipe reads it (its label: the file name)\n"
           "  --grid FILE     a recipe template: every {a,b,c} is replaced by each alternative in turn, all groups\n"
           "                  together as a cartesian product (first group slowest); groups nest ({2,3{a,b}}),\n"
           "                  may appear several per line and on several lines, but close on their line.\n"
           "                  \\{ \\} \\, are the characters; {x} without a comma stays as written. E.g.\n"
           "                    base lq:b{2,3,4}g{32,64,128}a\n"
           "                    method {rtn,gptq}\n"
           "                    calib-text calib.txt        (relative: beside the grid file, then the cwd)\n"
           "                  gives 18 recipes. Each is checked by the recipe parser before anything runs;\n"
           "                  errors name FILE#N:LINE (N: the recipe's number in the expansion).\n"
           "\n"
           "Measuring:\n"
           "  -c CTX          chunk length (default 512); --chunks N: at most N chunks (default all)\n"
           "  -t N            threads for quantizing and evaluating (default 2)\n"
           "  --scratch DIR   where the quantized files and the cached F32 log-probabilities go (default\n"
           "                  $TMPDIR/lrq-sweep, else /tmp/lrq-sweep). The F32 log-probabilities are computed once\n"
           "                  per (model, text, CTX, chunks) and reused by later sweeps.\n"
           "  --keep DIR      keep every quantized file as DIR/LABEL-KEY.gguf (default: deleted once measured)\n"
           "  -v              show lrq quantize's warnings and GPTQ progress\n"
           "\n"
           "Rows (docs/sweep.md): key label status bits group method bpw bytes n_weights ppl ppl_err ln_ppl_ratio\n"
           "ln_ppl_ratio_err mean_kld mean_kld_err same_top_pct same_top_err ppl_f32 quant_s eval_s model text ctx\n"
           "chunks lrq base recipe error. bpw = 8 x every byte of the quantized file / all weights of the model;\n"
           "recipe is the recipe on one line ('; ' between statements); key is a hash of it, the model (path and\n"
           "size), the text (path and size), CTX and --chunks.\n"
           "\n"
           "Resuming: run the same command again after a crash or Ctrl-C. Rows whose key is in ROWS already are\n"
           "skipped (and said so); rows are never duplicated; a last line cut by a kill is removed first. A recipe\n"
           "that fails (quantizing or measuring) is reported on one line and recorded as a row with status\n"
           "'failed' and the error, which a rerun skips as well (delete that line to retry it); the exit status is\n"
           "then 1. Ctrl-C leaves no temporary file behind; finished rows stay.\n"
           "\n"
           "Example (the zoo Qwen3, 6 recipes):\n"
           "  printf 'base lq:b{2,3,4}g{64,128}a\\ntoken_embd.weight q8_0\\n' > g.grid\n"
           "  lrq sweep -m ../shared/models/zoo/ts-qwen3-5M-f32.gguf -f ../shared/data/tinystories/ts260k-synth-valid.txt\n"
           "            --grid g.grid -o rows.tsv\n");
}

/* One recipe of the sweep. */
typedef struct item {
    char *name;      /* "FILE" or "FILE#N": messages, and where a relative calib-text is looked for */
    char *text, *compact, *choice;
    char *label;
    int from_grid;
    lrq_recipe_desc d;
    char key[17];
    int dup;         /* the same key as an earlier item: run once */
} item;

/* The quantized file being made or measured, for the signal handler. */
static char cur_path[PATH_MAX];
static volatile sig_atomic_t cur_set;

static void on_signal(int sig) {
    if (cur_set) unlink(cur_path);
    lrq_atomic_unlink_all();
    signal(sig, SIG_DFL);
    raise(sig);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static char *read_all(const char *path, size_t *len) {
    char *buf = NULL;
    if (lrq_text_load(path, &buf, len)) return NULL;
    return buf;
}

static char *xstrdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

/* Short label: "b3g64a" for base lq:b3g64a, "+gptq" for GPTQ; recipe files: their name without
 * folder and extension. */
static char *make_label(const item *it) {
    char b[160];
    if (!it->from_grid) {
        const char *s = strrchr(it->name, '/');
        s = s ? s + 1 : it->name;
        snprintf(b, sizeof b, "%s", s);
        char *dot = strrchr(b, '.');
        if (dot && dot != b) *dot = 0;
    } else {
        const char *base = it->d.base[0] ? it->d.base : "?";
        if (!strncmp(base, "lq:", 3)) base += 3;
        snprintf(b, sizeof b, "%s%s", base, strcmp(it->d.method, "gptq") ? "" : "+gptq");
    }
    return xstrdup(b);
}

/* Labels made unique: equal ones get "/CHOICE" (the grid's chosen alternatives), then "#i". */
static int unique_labels(item *it, int n) {
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < n; i++) {
            int clash = 0;
            for (int j = 0; j < n && !clash; j++)
                clash = j != i && !it[j].dup && !it[i].dup && !strcmp(it[i].label, it[j].label);
            if (!clash) continue;
            char *same = xstrdup(it[i].label);
            if (!same) return -1;
            for (int j = 0; j < n; j++) {
                if (it[j].dup || strcmp(same, it[j].label)) continue;
                char b[400];
                if (pass == 0 && it[j].choice && it[j].choice[0])
                    snprintf(b, sizeof b, "%s/%s", it[j].label, it[j].choice);
                else
                    snprintf(b, sizeof b, "%s#%d", it[j].label, j + 1);
                char *nl = xstrdup(b);
                if (!nl) { free(same); return -1; }
                free(it[j].label);
                it[j].label = nl;
            }
            free(same);
        }
    }
    return 0;
}

static uint64_t file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* The F32 reference log-probabilities: computed into `base` unless it exists. */
static int make_base(const char *model, const char *vocab, const char *text, int n_ctx, int chunks, int threads,
                     const char *base) {
    if (access(base, R_OK) == 0) {
        fprintf(stderr, "lrq sweep: F32 log-probabilities: %s (cached)\n", base);
        return 0;
    }
    char *buf = NULL;
    size_t len = 0;
    if (lrq_text_load_prompt(text, &buf, &len)) return cli_fail("sweep");
    lrq_model *m;
    if (lrq_model_load(&m, model, vocab)) { free(buf); return cli_fail("sweep"); }
    const lrq_vocab *voc = lrq_model_vocab(m);
    if (!voc) {
        fprintf(stderr, "lrq sweep: %s: the model has no tokenizer; pass --vocab FILE\n", model);
        free(buf);
        lrq_model_free(m);
        return 1;
    }
    lrq_model_info mi;
    lrq_model_get_info(m, &mi);
    cli_warn_ctx("sweep", "-c", n_ctx, mi.n_ctx_train);
    int32_t *ids = NULL;
    size_t n_ids = 0;
    int r = lrq_tokenize(voc, buf, len, 1, 0, &ids, &n_ids);
    free(buf);
    if (r) { lrq_model_free(m); return cli_fail("sweep"); }
    if (lrq_ppl_n_chunks(n_ids, n_ctx) < 2) {
        fprintf(stderr, "lrq sweep: %s: %zu tokens, need at least %d for context %d\n", text, n_ids, 2 * n_ctx,
                n_ctx);
        free(ids);
        lrq_model_free(m);
        return 1;
    }
    lrq_ctx *c;
    if (lrq_ctx_new(&c, m, n_ctx, n_ctx, threads)) { free(ids); lrq_model_free(m); return cli_fail("sweep"); }
    fprintf(stderr, "lrq sweep: F32 log-probabilities of %s on %s (%zu tokens, ctx %d)...\n", model, text, n_ids,
            n_ctx);
    lrq_ppl_params p = { .n_ctx = n_ctx, .n_batch = n_ctx, .max_chunks = chunks, .kld_base = base,
                         .write_base = 1 };
    lrq_ppl_result res;
    r = lrq_perplexity(c, m, ids, n_ids, &p, &res);
    free(ids);
    lrq_ctx_free(c);
    lrq_model_free(m);
    if (r) return cli_fail("sweep");
    fprintf(stderr, "lrq sweep: F32: PPL %.4f over %d chunks (%.1f s) -> %s\n", res.ppl, res.n_chunks, res.seconds,
            base);
    return 0;
}

/* Measure `path` against the base file; fills the row's quality fields. */
static int measure(const char *path, const char *vocab, const char *base, int n_ctx, int threads,
                   lrq_sweep_row *row) {
    lrq_model *m;
    if (lrq_model_load(&m, path, vocab)) return -1;
    lrq_ctx *c;
    if (lrq_ctx_new(&c, m, n_ctx, n_ctx, threads)) { lrq_model_free(m); return -1; }
    lrq_ppl_params p = { .n_ctx = n_ctx, .n_batch = n_ctx, .max_chunks = -1, .kld_base = base, .kld = 1 };
    lrq_ppl_result r;
    int rc = lrq_perplexity(c, m, NULL, 0, &p, &r);
    lrq_ctx_free(c);
    lrq_model_free(m);
    if (rc) return -1;
    row->ppl = r.ppl;
    row->ppl_err = r.ppl_err;
    row->ln_ppl_ratio = r.ln_ppl_ratio;
    row->ln_ppl_ratio_err = r.ln_ppl_ratio_err;
    row->mean_kld = r.mean_kld;
    row->mean_kld_err = r.mean_kld_err;
    row->same_top_pct = r.same_top_pct;
    row->same_top_err = r.same_top_err;
    row->ppl_f32 = r.base_ppl;
    return 0;
}

static int mkdir_p1(const char *dir, const char *what) {
    struct stat st;
    if (stat(dir, &st) == 0) {
        if (S_ISDIR(st.st_mode)) return 0;
        fprintf(stderr, "lrq sweep: %s %s is not a folder\n", what, dir);
        return -1;
    }
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "lrq sweep: cannot create the %s %s: %s\n", what, dir, strerror(errno));
        return -1;
    }
    return 0;
}

/* Files a killed sweep (SIGKILL cannot be caught) left in the scratch folder: "sweep-PID-*" and
 * "base-*.lrqtmp.PID.*" of processes that are gone. Returns how many were removed. */
static int clean_stale(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *nm = e->d_name, *p = NULL;
        if (!strncmp(nm, "sweep-", 6)) p = nm + 6;
        else if (!strncmp(nm, "base-", 5) && (p = strstr(nm, ".lrqtmp."))) p += 8;
        if (!p) continue;
        char *end;
        long pid = strtol(p, &end, 10);
        if (end == p || (*end != '-' && *end != '.') || pid <= 0 || pid == (long)getpid()) continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue; /* alive (or not ours to ask) */
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, nm);
        if (unlink(path) == 0) n++;
    }
    closedir(d);
    return n;
}

static void fmt_time(char *b, size_t cap, double s) {
    if (s < 90) snprintf(b, cap, "%.0f s", s);
    else if (s < 5400) snprintf(b, cap, "%.0f min", s / 60);
    else snprintf(b, cap, "%.1f h", s / 3600);
}

int cmd_sweep(int argc, char **argv) {
    const char *model = NULL, *text = NULL, *out = NULL, *vocab = NULL, *scratch = NULL, *keep = NULL, *v;
    int n_ctx = 512, chunks = -1, threads = 2, verbose = 0;
    /* inputs in order: kind 'r' (recipe) or 'g' (grid) */
    const char **inp = calloc((size_t)argc + 1, sizeof *inp);
    char *kind = calloc((size_t)argc + 1, 1);
    int n_inp = 0;
    if (!inp || !kind) { fprintf(stderr, "lrq sweep: out of memory\n"); return 1; }
    int rc = 2;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) { help(); free(inp); free(kind); return 0; }
        else if (cli_opt(argc, argv, &i, "-m", "--model", &model)) {}
        else if (cli_opt(argc, argv, &i, "-f", "--file", &text)) {}
        else if (cli_opt(argc, argv, &i, "-o", "--output", &out)) {}
        else if (cli_opt(argc, argv, &i, NULL, "--vocab", &vocab)) {}
        else if (cli_opt(argc, argv, &i, NULL, "--scratch", &scratch)) {}
        else if (cli_opt(argc, argv, &i, NULL, "--keep", &keep)) {}
        else if (cli_opt(argc, argv, &i, NULL, "--recipe", &v)) { kind[n_inp] = 'r'; inp[n_inp++] = v; }
        else if (cli_opt(argc, argv, &i, NULL, "--grid", &v)) { kind[n_inp] = 'g'; inp[n_inp++] = v; }
        else if (cli_opt(argc, argv, &i, "-c", "--ctx-size", &v)) n_ctx = cli_int("sweep", "-c", v, 4, 1 << 20);
        else if (cli_opt(argc, argv, &i, NULL, "--chunks", &v)) chunks = cli_int("sweep", "--chunks", v, 1, 1 << 30);
        else if (cli_opt(argc, argv, &i, "-t", "--threads", &v)) threads = cli_int("sweep", "-t", v, 1, 1024);
        else if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) verbose = 1;
        else {
            fprintf(stderr, "lrq sweep: %s '%s' (see --help)\n", argv[i][0] == '-' ? "unknown option" :
                    "unexpected argument", argv[i]);
            free(inp);
            free(kind);
            return 2;
        }
    }
    const char *missing = !model ? "-m MODEL" : !text ? "-f TEXT" : !out ? "-o ROWS.tsv" :
                          !n_inp ? "a --recipe FILE or --grid FILE" : NULL;
    if (missing) {
        fprintf(stderr, "lrq sweep: %s is required (see --help)\n", missing);
        free(inp);
        free(kind);
        return 2;
    }
    size_t ol = strlen(out);
    int jsonl = ol > 6 && !strcmp(out + ol - 6, ".jsonl");
    if (!jsonl && !(ol > 4 && !strcmp(out + ol - 4, ".tsv"))) {
        fprintf(stderr, "lrq sweep: -o %s: the row file must end in .tsv or .jsonl\n", out);
        free(inp);
        free(kind);
        return 2;
    }
    cli_warn_threads("sweep", threads);

    /* the recipes, all parsed and checked before any work */
    item *it = NULL;
    int n = 0, cap = 0;
    rc = 1;
    for (int k = 0; k < n_inp; k++) {
        size_t len;
        char *buf = read_all(inp[k], &len);
        if (!buf) { cli_fail("sweep"); goto done; }
        lrq_grid_recipe *g = NULL;
        size_t ng = 0;
        if (kind[k] == 'g') {
            int e = lrq_grid_expand(buf, len, inp[k], 100000, &g, &ng);
            free(buf);
            if (e) { cli_fail("sweep"); goto done; }
        }
        size_t add = kind[k] == 'g' ? ng : 1;
        if (n + (long)add > 100000) {
            fprintf(stderr, "lrq sweep: more than 100000 recipes\n");
            if (kind[k] == 'g') lrq_grid_free(g, ng); else free(buf);
            goto done;
        }
        if (n + (int)add > cap) {
            int nc = cap ? cap : 16;
            while (nc < n + (int)add) nc *= 2;
            item *ni = realloc(it, (size_t)nc * sizeof *ni);
            if (!ni) {
                fprintf(stderr, "lrq sweep: out of memory\n");
                if (kind[k] == 'g') lrq_grid_free(g, ng); else free(buf);
                goto done;
            }
            it = ni;
            cap = nc;
        }
        for (size_t j = 0; j < add; j++) {
            item *x = &it[n++];
            memset(x, 0, sizeof *x);
            char nm[PATH_MAX + 32];
            if (kind[k] == 'g') {
                snprintf(nm, sizeof nm, "%s#%zu", inp[k], j + 1);
                x->text = g[j].text;
                x->compact = g[j].compact;
                x->choice = g[j].choice;
                g[j].text = g[j].compact = g[j].choice = NULL;
                x->from_grid = 1;
            } else {
                snprintf(nm, sizeof nm, "%s", inp[k]);
                x->text = buf;
                x->compact = lrq_recipe_compact(buf, len);
                x->choice = xstrdup("");
            }
            x->name = xstrdup(nm);
            if (!x->text || !x->compact || !x->choice || !x->name) {
                fprintf(stderr, "lrq sweep: out of memory\n");
                if (kind[k] == 'g') lrq_grid_free(g, ng);
                goto done;
            }
            if (lrq_recipe_describe(x->text, strlen(x->text), x->name, &x->d)) {
                cli_fail("sweep");
                if (kind[k] == 'g') lrq_grid_free(g, ng);
                goto done;
            }
        }
        if (kind[k] == 'g') lrq_grid_free(g, ng);
    }

    /* what identifies the set-up: paths resolved, sizes */
    char rmodel[PATH_MAX], rtext[PATH_MAX];
    struct stat st;
    if (stat(model, &st) != 0) { fprintf(stderr, "lrq sweep: %s: %s\n", model, strerror(errno)); goto done; }
    if (!realpath(model, rmodel)) snprintf(rmodel, sizeof rmodel, "%s", model);
    uint64_t model_size = file_size(model);
    if (S_ISDIR(st.st_mode)) model_size = 0; /* a Hugging Face folder: its path alone */
    if (stat(text, &st) != 0 || !S_ISREG(st.st_mode)) {
        fprintf(stderr, "lrq sweep: %s: %s\n", text, errno ? strerror(errno) : "not a file");
        goto done;
    }
    if (!realpath(text, rtext)) snprintf(rtext, sizeof rtext, "%s", text);
    uint64_t text_size = (uint64_t)st.st_size;
    int n_dup = 0;
    for (int i = 0; i < n; i++) {
        lrq_sweep_key(it[i].compact, rmodel, model_size, rtext, text_size, n_ctx, chunks, it[i].key);
        for (int j = 0; j < i && !it[i].dup; j++)
            if (!strcmp(it[i].key, it[j].key)) {
                it[i].dup = 1;
                n_dup++;
                fprintf(stderr, "lrq sweep: %s is the same recipe as %s: measured once\n", it[i].name, it[j].name);
            }
        if (!(it[i].label = make_label(&it[i]))) { fprintf(stderr, "lrq sweep: out of memory\n"); goto done; }
    }
    if (unique_labels(it, n)) { fprintf(stderr, "lrq sweep: out of memory\n"); goto done; }

    /* the row file: done keys, a partial last line cut */
    lrq_rows *rows = NULL;
    long cut = 0;
    if (lrq_rows_open(&rows, out, jsonl ? NULL : lrq_sweep_tsv_header(), &cut)) { cli_fail("sweep"); goto done; }
    if (cut)
        fprintf(stderr, "lrq sweep: %s: removed a partial last line (%ld bytes, from a killed run)\n", out, cut);
    int todo = 0;
    for (int i = 0; i < n; i++) todo += !it[i].dup && !lrq_rows_has(rows, it[i].key);
    int total = n - n_dup;
    fprintf(stderr, "lrq sweep: %d recipes, %d done already, %d to run -> %s\n", total, total - todo, todo, out);

    /* scratch folder, the F32 reference */
    char sdir[PATH_MAX], base[PATH_MAX + 64];
    if (scratch) snprintf(sdir, sizeof sdir, "%s", scratch);
    else {
        const char *tmp = getenv("TMPDIR");
        snprintf(sdir, sizeof sdir, "%s/lrq-sweep", tmp && *tmp ? tmp : "/tmp");
    }
    if (todo && (mkdir_p1(sdir, "scratch folder") || (keep && mkdir_p1(keep, "--keep folder")))) {
        lrq_rows_close(rows);
        goto done;
    }
    if (todo) {
        int stale = clean_stale(sdir);
        if (stale) fprintf(stderr, "lrq sweep: removed %d file%s left in %s by a killed sweep\n", stale,
                           stale > 1 ? "s" : "", sdir);
    }
    char bkey[17];
    lrq_sweep_key("F32 log-probabilities", rmodel, model_size, rtext, text_size, n_ctx, chunks, bkey);
    snprintf(base, sizeof base, "%s/base-%s.kld", sdir, bkey);
    if (todo) {
        int e = make_base(model, vocab, text, n_ctx, chunks, threads, base);
        if (e) { lrq_rows_close(rows); rc = e; goto done; }
    }

    /* our own handler: the quantized file of the recipe in progress goes too */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);

    char ver[128];
    snprintf(ver, sizeof ver, "%s %s", LRQ_VERSION, cli_commit);
    int n_new = 0, n_failed = 0, idx = 0;
    double spent = 0;
    rc = 0;
    for (int i = 0; i < n; i++) {
        item *x = &it[i];
        if (x->dup) continue;
        idx++;
        if (lrq_rows_has(rows, x->key)) {
            fprintf(stderr, "[%d/%d] %s: done already (skipped)\n", idx, total, x->label);
            continue;
        }
        char qpath[PATH_MAX];
        if (keep) snprintf(qpath, sizeof qpath, "%s/%s-%s.gguf", keep, x->label, x->key);
        else snprintf(qpath, sizeof qpath, "%s/sweep-%ld-%s.gguf", sdir, (long)getpid(), x->key);
        if (keep) /* labels may hold '/' (grid choices) */
            for (char *s = qpath + strlen(keep) + 1; *s; s++)
                if (*s == '/' || *s == ' ') *s = '_';
        lrq_sweep_row row = { .key = x->key, .label = x->label, .bits = x->d.bits, .group = x->d.group,
                              .method = x->d.method, .base = x->d.base, .model = model, .text = text,
                              .n_ctx = n_ctx, .chunks = chunks, .lrq = ver, .recipe = x->compact,
                              .quant_s = NAN, .eval_s = NAN };
        fprintf(stderr, "[%d/%d] %s: quantizing…", idx, total, x->label);
        fflush(stderr);
        double t0 = now_s();
        lrq_quantize_params qp = { .in = model, .vocab = vocab, .out = qpath, .recipe = x->name,
                                   .recipe_text = x->text, .n_threads = threads, .log = verbose ? stderr : NULL };
        lrq_quantize_result qr;
        char err[1024] = "";
        memcpy(cur_path, qpath, strlen(qpath) + 1);
        cur_set = 1;
        if (lrq_quantize(&qp, &qr)) {
            snprintf(err, sizeof err, "%s", lrq_last_error());
        } else {
            row.quant_s = now_s() - t0;
            row.bytes = file_size(qpath); /* every byte of the file */
            row.n_weights = qr.n_weights;
            row.bpw = qr.n_weights ? 8.0 * (double)row.bytes / (double)qr.n_weights : NAN;
            fprintf(stderr, " measuring…");
            fflush(stderr);
            double t1 = now_s();
            if (measure(qpath, vocab, base, n_ctx, threads, &row)) snprintf(err, sizeof err, "%s", lrq_last_error());
            else row.eval_s = now_s() - t1;
        }
        if (!keep || err[0]) unlink(qpath);
        cur_set = 0;
        double dt = now_s() - t0;
        if (err[0]) {
            row.failed = 1;
            row.error = err;
            n_failed++;
            fprintf(stderr, " FAILED\nlrq sweep: recipe %s failed: %s\n", x->name, err);
        }
        char *line = lrq_sweep_row_line(&row, jsonl);
        if (!line || lrq_rows_append(rows, x->key, line)) {
            free(line);
            if (err[0] == 0) fprintf(stderr, "\n");
            cli_fail("sweep");
            rc = 1;
            break;
        }
        free(line);
        n_new++;
        spent += dt;
        todo--;
        char eta[32] = "";
        if (todo > 0) {
            char t[24];
            fmt_time(t, sizeof t, spent / n_new * todo);
            snprintf(eta, sizeof eta, ", ETA %s", t);
        }
        if (!err[0])
            fprintf(stderr, " %.3f bpw, PPL %.4f, KLD %.6f (%.1f s%s)\n", row.bpw, row.ppl, row.mean_kld, dt, eta);
        else if (eta[0])
            fprintf(stderr, "lrq sweep: (%s)\n", eta + 2);
    }
    if (!rc)
        fprintf(stderr, "lrq sweep: %s: %zu rows (%d new, %d failed in this run)\n", out, lrq_rows_count(rows), n_new,
                n_failed);
    lrq_rows_close(rows);
    cli_catch_signals();
    if (!rc && n_failed) rc = 1;
done:
    for (int i = 0; i < n; i++) {
        free(it[i].name);
        free(it[i].text);
        free(it[i].compact);
        free(it[i].choice);
        free(it[i].label);
    }
    free(it);
    free(inp);
    free(kind);
    return rc;
}
