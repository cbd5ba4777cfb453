/* cmd_plot.c — `lrq plot`: PPL, KLD or ln(PPL/PPL_F32) against bits per
 * weight from lrq sweep rows, points and the Pareto front per method,
 * llama.cpp's types from a golden quality.tsv as labelled reference points;
 * drawn by gnuplot into OUT.png and OUT.svg (docs/sweep.md). The rows are
 * read and the fronts found by the library (lrq_table_*, lrq_pareto_front);
 * this file writes gnuplot's data and script and runs it. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "lrq.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void help(void) {
    printf("usage: lrq plot ROWS.tsv [MORE.tsv|.jsonl ...] -o OUT [--y kld|ppl|ln] [--reference quality.tsv]\n"
           "                [--title T]\n"
           "\n"
           "Draws the rows of lrq sweep (docs/sweep.md) as y against bits per weight into OUT.png and OUT.svg\n"
           "(a trailing .png/.svg in OUT is dropped), through gnuplot:\n"
           "  - every 'ok' row as a point, one colour per method (rtn, gptq, ...);\n"
           "  - the Pareto front of each method: its points with the lowest y for their bpw (no point of the\n"
           "    method has fewer or equal bits and a lower or equal y), connected, labelled with the row's label;\n"
           "  - with --reference, llama.cpp's types from a golden quality.tsv (columns type, size_bytes,\n"
           "    ppl_valid_exact, mean_kld; e.g. ../shared/golden/zoo/ts-qwen3-5M/quality.tsv) as labelled red\n"
           "    squares, their bpw computed as lrq's: size_bytes x 8 / the model's weights (n_weights of the rows),\n"
           "    ln from ppl_valid_exact against the table's F32 row; F32/F16/BF16 left out. Those numbers are for\n"
           "    the whole text at its context: compare them with rows made with the same text, -c and no --chunks.\n"
           "  --y kld  mean KL-divergence against F32 (the default; log scale, rows with KLD <= 0 not drawn)\n"
           "  --y ppl  perplexity;  --y ln  ln(PPL / PPL_F32)\n"
           "  --title T  the plot's title (default: the model, context and chunks of the first row)\n"
           "The images appear only when complete (written beside OUT under a temporary name, then renamed).\n"
           "Needs gnuplot (Debian/Ubuntu: sudo apt-get install gnuplot-nox; macOS: brew install gnuplot).\n");
}

/* Temporary files, for the signal handler (static buffers only). */
enum { N_TMP = 4 };
static char tmp_path[N_TMP][PATH_MAX];
static volatile sig_atomic_t tmp_used[N_TMP];

static void unlink_tmps(void) {
    for (int i = 0; i < N_TMP; i++)
        if (tmp_used[i]) { unlink(tmp_path[i]); tmp_used[i] = 0; }
}

static void on_signal(int sig) {
    for (int i = 0; i < N_TMP; i++)
        if (tmp_used[i]) unlink(tmp_path[i]);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Make a temporary file from a mkstemp template in slot i; returns a FILE or NULL. */
static FILE *tmp_file(int i, const char *templ) {
    snprintf(tmp_path[i], PATH_MAX, "%s", templ);
    int fd = mkstemp(tmp_path[i]);
    if (fd < 0) return NULL;
    tmp_used[i] = 1;
    FILE *f = fdopen(fd, "w");
    if (!f) close(fd);
    return f;
}

/* A gnuplot single-quoted string: ' doubled. */
static void gp_str(FILE *f, const char *s) {
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'') fputc('\'', f);
        if (*s != '\n' && *s != '\r') fputc(*s, f);
    }
    fputc('\'', f);
}

/* A label field of the data file: no tabs or newlines. */
static void data_label(FILE *f, const char *s) {
    for (; *s; s++) fputc(*s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s, f);
}

static int num(const char *s, double *v) {
    char *end;
    if (!s || !*s || !strcmp(s, "-")) return -1;
    errno = 0;
    *v = strtod(s, &end);
    return errno || *end || !isfinite(*v) ? -1 : 0;
}

typedef struct pt {
    double x, y;
    char label[96];
    int method;
} pt;

static int have_gnuplot(void) {
    const char *path = getenv("PATH");
    if (!path || !*path) path = "/usr/bin:/bin";
    char b[PATH_MAX];
    for (const char *p = path; *p;) {
        const char *e = strchr(p, ':');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        snprintf(b, sizeof b, "%.*s/gnuplot", (int)(n ? n : 1), n ? p : ".");
        if (access(b, X_OK) == 0) return 1;
        p += n + (e ? 1 : 0);
    }
    return 0;
}

int cmd_plot(int argc, char **argv) {
    const char *out = NULL, *ymode = "kld", *ref = NULL, *title = NULL;
    const char **files = calloc((size_t)argc + 1, sizeof *files);
    int nf = 0;
    if (!files) { fprintf(stderr, "lrq plot: out of memory\n"); return 1; }
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) { help(); free(files); return 0; }
        else if (cli_opt(argc, argv, &i, "-o", "--output", &out)) {}
        else if (cli_opt(argc, argv, &i, NULL, "--y", &ymode)) {}
        else if (cli_opt(argc, argv, &i, NULL, "--reference", &ref)) {}
        else if (cli_opt(argc, argv, &i, NULL, "--title", &title)) {}
        else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "lrq plot: unknown option '%s' (see --help)\n", argv[i]);
            free(files);
            return 2;
        } else files[nf++] = argv[i];
    }
    int ym = !strcmp(ymode, "kld") ? 0 : !strcmp(ymode, "ppl") ? 1 : !strcmp(ymode, "ln") ? 2 : -1;
    const char *err = !nf ? "give at least one rows file (from lrq sweep)" : !out ? "-o OUT is required" :
                      ym < 0 ? "--y takes kld, ppl or ln" : NULL;
    if (err) { fprintf(stderr, "lrq plot: %s (see --help)\n", err); free(files); return 2; }
    if (!have_gnuplot()) {
        fprintf(stderr, "lrq plot: gnuplot not found on PATH: install gnuplot-nox (Debian/Ubuntu: sudo apt-get "
                        "install gnuplot-nox; macOS: brew install gnuplot)\n");
        free(files);
        return 1;
    }
    static const char *const ycol[] = { "mean_kld", "ppl", "ln_ppl_ratio" };
    static const char *const yname[] = { "mean KL-divergence vs F32", "perplexity", "ln(PPL / PPL_F32)" };

    /* the rows */
    pt *pts = NULL;
    size_t np = 0, cap = 0;
    char methods[16][32];
    int nm = 0, rc = 1;
    double n_weights = NAN;
    char auto_title[512] = "";
    lrq_table *ref_t = NULL;
    pt *refs = NULL;
    size_t nr = 0;
    for (int k = 0; k < nf; k++) {
        lrq_table *t;
        if (lrq_table_load(&t, files[k])) { free(pts); free(files); return cli_fail("plot"); }
        int cx = lrq_table_col(t, "bpw"), cy = lrq_table_col(t, ycol[ym]), cm = lrq_table_col(t, "method");
        int cs = lrq_table_col(t, "status"), cl = lrq_table_col(t, "label"), cw = lrq_table_col(t, "n_weights");
        if (cx < 0 || cy < 0 || cm < 0 || cs < 0 || cl < 0 || cw < 0) {
            fprintf(stderr, "lrq plot: %s: not lrq sweep rows (missing column '%s')\n", files[k],
                    cx < 0 ? "bpw" : cy < 0 ? ycol[ym] : cm < 0 ? "method" : cs < 0 ? "status" : cl < 0 ? "label"
                                                                                                  : "n_weights");
            lrq_table_free(t);
            goto done;
        }
        for (size_t i = 0; i < lrq_table_rows(t); i++) {
            if (strcmp(lrq_table_cell(t, i, cs), "ok")) continue;
            pt p = { 0 };
            double w;
            if (num(lrq_table_cell(t, i, cx), &p.x) || num(lrq_table_cell(t, i, cy), &p.y)) continue;
            if (ym == 0 && p.y <= 0) continue; /* log scale */
            if (!num(lrq_table_cell(t, i, cw), &w)) {
                if (isnan(n_weights)) n_weights = w;
                else if (w != n_weights)
                    fprintf(stderr, "lrq plot: warning: %s:%zu: n_weights %.0f differs from %.0f (rows of another "
                                    "model?)\n", files[k], i + 2, w, n_weights);
            }
            const char *m = lrq_table_cell(t, i, cm);
            int mi = 0;
            while (mi < nm && strcmp(methods[mi], m)) mi++;
            if (mi == nm) {
                if (nm == 16) continue;
                snprintf(methods[nm++], sizeof methods[0], "%s", m);
            }
            p.method = mi;
            snprintf(p.label, sizeof p.label, "%s", lrq_table_cell(t, i, cl));
            if (np == cap) {
                cap = cap ? 2 * cap : 64;
                pt *n2 = realloc(pts, cap * sizeof *n2);
                if (!n2) { fprintf(stderr, "lrq plot: out of memory\n"); lrq_table_free(t); goto done; }
                pts = n2;
            }
            pts[np++] = p;
            if (!auto_title[0]) {
                const char *mo = lrq_table_cell(t, i, lrq_table_col(t, "model"));
                const char *s = strrchr(mo, '/');
                snprintf(auto_title, sizeof auto_title, "lrq sweep: %s, ctx %s, chunks %s", s ? s + 1 : mo,
                         lrq_table_cell(t, i, lrq_table_col(t, "ctx")), lrq_table_cell(t, i, lrq_table_col(t, "chunks")));
            }
        }
        lrq_table_free(t);
    }
    if (!np) {
        fprintf(stderr, "lrq plot: no row with status ok and a %s%s to draw\n", ycol[ym], ym == 0 ? " > 0" : "");
        goto done;
    }

    /* the reference points */
    if (ref) {
        if (lrq_table_load(&ref_t, ref)) { cli_fail("plot"); goto done; }
        int ct = lrq_table_col(ref_t, "type"), cb = lrq_table_col(ref_t, "size_bytes");
        int cp = lrq_table_col(ref_t, "ppl_valid_exact"), ck = lrq_table_col(ref_t, "mean_kld");
        if (ct < 0 || cb < 0 || cp < 0 || ck < 0) {
            fprintf(stderr, "lrq plot: %s: not a golden quality table (columns type, size_bytes, ppl_valid_exact, "
                            "mean_kld)\n", ref);
            goto done;
        }
        if (isnan(n_weights)) {
            fprintf(stderr, "lrq plot: %s: the rows give no n_weights to compute the reference bpw with\n", ref);
            goto done;
        }
        double ppl32 = NAN;
        for (size_t i = 0; i < lrq_table_rows(ref_t); i++)
            if (!strcmp(lrq_table_cell(ref_t, i, ct), "F32")) num(lrq_table_cell(ref_t, i, cp), &ppl32);
        for (size_t i = 0; i < lrq_table_rows(ref_t); i++) {
            double b32;
            if (strcmp(lrq_table_cell(ref_t, i, ct), "F32") || num(lrq_table_cell(ref_t, i, cb), &b32)) continue;
            double bpw32 = b32 * 8.0 / n_weights;
            if (bpw32 < 31.0 || bpw32 > 34.0)
                fprintf(stderr, "lrq plot: warning: %s: its F32 file is %.2f bpw with the rows' %.0f weights, not "
                                "about 32: a table of another model?\n", ref, bpw32, n_weights);
        }
        if (ym == 2 && isnan(ppl32)) {
            fprintf(stderr, "lrq plot: %s: no F32 row for ln(PPL/PPL_F32)\n", ref);
            goto done;
        }
        refs = calloc(lrq_table_rows(ref_t) + 1, sizeof *refs);
        if (!refs) { fprintf(stderr, "lrq plot: out of memory\n"); goto done; }
        for (size_t i = 0; i < lrq_table_rows(ref_t); i++) {
            const char *ty = lrq_table_cell(ref_t, i, ct);
            if (!strcmp(ty, "F32") || !strcmp(ty, "F16") || !strcmp(ty, "BF16")) continue;
            double bytes, p, kl;
            if (num(lrq_table_cell(ref_t, i, cb), &bytes) || num(lrq_table_cell(ref_t, i, cp), &p)) continue;
            pt r = { .x = bytes * 8.0 / n_weights };
            if (ym == 0) {
                if (num(lrq_table_cell(ref_t, i, ck), &kl) || kl <= 0) continue;
                r.y = kl;
            } else {
                r.y = ym == 1 ? p : log(p / ppl32);
            }
            snprintf(r.label, sizeof r.label, "%s", ty);
            refs[nr++] = r;
        }
    }

    /* data: per method its points (index 2m) and its front (2m+1); then the references */
    const char *td = getenv("TMPDIR");
    char templ[PATH_MAX];
    snprintf(templ, sizeof templ, "%s/lrq-plot-data.XXXXXX", td && *td ? td : "/tmp");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    FILE *df = tmp_file(0, templ);
    if (!df) { fprintf(stderr, "lrq plot: cannot create a temporary file in %s: %s\n", templ, strerror(errno)); goto done; }
    double *xs = malloc((np + 1) * sizeof *xs), *ys = malloc((np + 1) * sizeof *ys);
    size_t *map = malloc((np + 1) * sizeof *map), *front = malloc((np + 1) * sizeof *front);
    if (!xs || !ys || !map || !front) {
        fprintf(stderr, "lrq plot: out of memory\n");
        fclose(df);
        free(xs); free(ys); free(map); free(front);
        goto done;
    }
    int n_front_total = 0;
    for (int m = 0; m < nm; m++) {
        size_t k = 0;
        for (size_t i = 0; i < np; i++)
            if (pts[i].method == m) {
                xs[k] = pts[i].x;
                ys[k] = pts[i].y;
                map[k++] = i;
                fprintf(df, "%.6g\t%.9g\t", pts[i].x, pts[i].y);
                data_label(df, pts[i].label);
                fputc('\n', df);
            }
        fprintf(df, "\n\n");
        size_t nfr = lrq_pareto_front(xs, ys, k, front);
        n_front_total += (int)nfr;
        for (size_t i = 0; i < nfr; i++) {
            const pt *p = &pts[map[front[i]]];
            fprintf(df, "%.6g\t%.9g\t", p->x, p->y);
            data_label(df, p->label);
            fputc('\n', df);
        }
        fprintf(df, "\n\n");
    }
    for (size_t i = 0; i < nr; i++) {
        fprintf(df, "%.6g\t%.9g\t", refs[i].x, refs[i].y);
        data_label(df, refs[i].label);
        fputc('\n', df);
    }
    free(xs); free(ys); free(map); free(front);
    if (fclose(df) != 0) { fprintf(stderr, "lrq plot: %s: write error\n", tmp_path[0]); goto done; }

    /* outputs: OUT.png and OUT.svg, through temporary names beside them */
    char stem[PATH_MAX], png[PATH_MAX + 8], svg[PATH_MAX + 8];
    snprintf(stem, sizeof stem, "%s", out);
    size_t sl = strlen(stem);
    if (sl > 4 && (!strcmp(stem + sl - 4, ".png") || !strcmp(stem + sl - 4, ".svg"))) stem[sl - 4] = 0;
    snprintf(png, sizeof png, "%s.png", stem);
    snprintf(svg, sizeof svg, "%s.svg", stem);
    snprintf(tmp_path[2], PATH_MAX, "%s.lrqtmp.%ld.png", stem, (long)getpid());
    snprintf(tmp_path[3], PATH_MAX, "%s.lrqtmp.%ld.svg", stem, (long)getpid());
    tmp_used[2] = tmp_used[3] = 1;

    snprintf(templ, sizeof templ, "%s/lrq-plot-gp.XXXXXX", td && *td ? td : "/tmp");
    FILE *gp = tmp_file(1, templ);
    if (!gp) { fprintf(stderr, "lrq plot: cannot create a temporary file: %s\n", strerror(errno)); goto done; }
    static const char *const colors[] = { "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2",
                                          "#17becf", "#7f7f7f" };
    fprintf(gp, "set datafile separator \"\\t\"\n");
    fprintf(gp, "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) { set terminal pngcairo size 1000,640 } "
                "else { set terminal png size 1000,640 }\n");
    fprintf(gp, "set output ");
    gp_str(gp, tmp_path[2]);
    fprintf(gp, "\nset title ");
    gp_str(gp, title ? title : auto_title);
    fprintf(gp, " noenhanced\nset xlabel 'bits per weight (every byte of the file x 8 / weights)'\n");
    fprintf(gp, "set ylabel ");
    gp_str(gp, yname[ym]);
    fprintf(gp, " noenhanced\nset grid\nset key top right noenhanced\n%s\n", ym == 0 ? "set logscale y" : "");
    const char *data = tmp_path[0];
    fprintf(gp, "plot ");
    for (int m = 0; m < nm; m++) {
        const char *c = colors[m % 8];
        char t[64];
        if (m) fprintf(gp, ", \\\n     ");
        gp_str(gp, data);
        fprintf(gp, " index %d using 1:2 with points pt 7 ps 0.7 lc rgb '%s' title ", 2 * m, c);
        gp_str(gp, methods[m]);
        fprintf(gp, ", \\\n     ");
        gp_str(gp, data);
        fprintf(gp, " index %d using 1:2 with lines lw 2 lc rgb '%s' title ", 2 * m + 1, c);
        snprintf(t, sizeof t, "%s Pareto front", methods[m]);
        gp_str(gp, t);
        fprintf(gp, ", \\\n     ");
        gp_str(gp, data);
        fprintf(gp, " index %d using 1:2:3 with labels offset 0.5,0.6 left font ',7' tc rgb '%s' noenhanced notitle",
                2 * m + 1, c);
    }
    if (nr) {
        fprintf(gp, ", \\\n     ");
        gp_str(gp, data);
        fprintf(gp, " index %d using 1:2 with points pt 5 ps 1 lc rgb '#d62728' title 'llama.cpp (reference)', "
                    "\\\n     ", 2 * nm);
        gp_str(gp, data);
        fprintf(gp, " index %d using 1:2:3 with labels offset 0.6,-0.6 left font ',8' tc rgb '#d62728' noenhanced "
                    "notitle", 2 * nm);
    }
    fprintf(gp, "\nset output\nset terminal svg size 1000,640 dynamic\nset output ");
    gp_str(gp, tmp_path[3]);
    fprintf(gp, "\nreplot\nset output\n");
    if (fclose(gp) != 0) { fprintf(stderr, "lrq plot: %s: write error\n", tmp_path[1]); goto done; }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) { fprintf(stderr, "lrq plot: cannot start gnuplot: %s\n", strerror(errno)); goto done; }
    if (pid == 0) {
        execlp("gnuplot", "gnuplot", tmp_path[1], (char *)NULL);
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
            fprintf(stderr, "lrq plot: cannot run gnuplot: install gnuplot-nox\n");
        else
            fprintf(stderr, "lrq plot: gnuplot failed (its message is above); nothing written\n");
        goto done;
    }
    struct stat st;
    if (stat(tmp_path[2], &st) != 0 || st.st_size == 0 || stat(tmp_path[3], &st) != 0 || st.st_size == 0) {
        fprintf(stderr, "lrq plot: gnuplot wrote no image; nothing written\n");
        goto done;
    }
    if (rename(tmp_path[2], png) != 0 || (tmp_used[2] = 0, rename(tmp_path[3], svg) != 0)) {
        fprintf(stderr, "lrq plot: cannot rename the images into place: %s\n", strerror(errno));
        goto done;
    }
    tmp_used[3] = 0;
    printf("lrq plot: %s and %s: %zu rows, %d methods, %d on Pareto fronts%s\n", png, svg, np, nm, n_front_total,
           nr ? ", llama.cpp reference points" : "");
    rc = 0;
done:
    unlink_tmps();
    lrq_table_free(ref_t);
    free(refs);
    free(pts);
    free(files);
    return rc;
}
