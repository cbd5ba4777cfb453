/* test_sweep.c — the library side of lrq sweep / lrq plot (src/eval/sweep.c):
 * grid expansion (order, counts, nesting, escapes, literal braces, comments,
 * errors), the compact form and the recipe description, row keys and lines,
 * the resumable row file (partial last line cut, no duplicates, header
 * checks, lock), the table reader (TSV, JSONL) and the Pareto front. */
#define _POSIX_C_SOURCE 200809L
#include "lrq.h"
#include "testlib.h"

#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmpdir[256];

static const char *tpath(const char *name) {
    static char b[4][512];
    static int k;
    char *p = b[k++ & 3];
    snprintf(p, 512, "%s/%s", tmpdir, name);
    return p;
}

static void write_file(const char *path, const char *s) {
    FILE *f = fopen(path, "wb");
    if (!f) { CHECKF(0, "cannot write %s", path); return; }
    fwrite(s, 1, strlen(s), f);
    fclose(f);
}

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *b = calloc(1, 1 << 16);
    size_t n = fread(b, 1, (1 << 16) - 1, f);
    b[n] = 0;
    fclose(f);
    return b;
}

static int expand(const char *t, lrq_grid_recipe **r, size_t *n) {
    return lrq_grid_expand(t, strlen(t), "g.grid", 1000, r, n);
}

static void grid_basic(void) {
    lrq_grid_recipe *r;
    size_t n;
    CHECK(expand("base lq:b{2,3,4}g{32,64,128}a\nmethod {rtn,gptq}\n", &r, &n) == 0);
    CHECKF(n == 18, "n = %zu", n);
    if (n == 18) {
        CHECKF(!strcmp(r[0].text, "base lq:b2g32a\nmethod rtn\n"), "%s", r[0].text);
        CHECKF(!strcmp(r[1].text, "base lq:b2g32a\nmethod gptq\n"), "%s", r[1].text); /* last group fastest */
        CHECKF(!strcmp(r[2].compact, "base lq:b2g64a; method rtn"), "%s", r[2].compact);
        CHECKF(!strcmp(r[17].compact, "base lq:b4g128a; method gptq"), "%s", r[17].compact);
        CHECKF(!strcmp(r[17].choice, "4,128,gptq"), "%s", r[17].choice);
        /* all different */
        int dup = 0;
        for (size_t i = 0; i < n; i++)
            for (size_t j = i + 1; j < n; j++) dup += !strcmp(r[i].compact, r[j].compact);
        CHECK(dup == 0);
    }
    lrq_grid_free(r, n);

    /* no group: one recipe, the text as is (comments removed) */
    CHECK(expand("base Q4_K_M  # a comment {x,y}\n  blk.*.attn_v.weight   q8_0\n", &r, &n) == 0);
    CHECK(n == 1);
    if (n == 1) {
        CHECKF(!strcmp(r[0].text, "base Q4_K_M  \n  blk.*.attn_v.weight   q8_0\n"), "%s", r[0].text);
        CHECKF(!strcmp(r[0].compact, "base Q4_K_M; blk.*.attn_v.weight q8_0"), "%s", r[0].compact);
        CHECK(!strcmp(r[0].choice, ""));
    }
    lrq_grid_free(r, n);
}

static void grid_nested_escapes(void) {
    lrq_grid_recipe *r;
    size_t n;
    /* nested: {a,b{1,2}} = a b1 b2; then x{3,4}: 3 * 2 */
    CHECK(expand("{a,b{1,2}}-x{3,4}", &r, &n) == 0);
    CHECKF(n == 6, "n = %zu", n);
    const char *want[] = { "a-x3", "a-x4", "b1-x3", "b1-x4", "b2-x3", "b2-x4" };
    for (size_t i = 0; i < n && i < 6; i++) CHECKF(!strcmp(r[i].text, want[i]), "%zu: %s", i, r[i].text);
    if (n == 6) CHECKF(!strcmp(r[5].choice, "b2,4"), "%s", r[5].choice);
    lrq_grid_free(r, n);
    /* escapes: \{ \} \, are the characters; other backslashes stay; {2} is literal */
    CHECK(expand("/blk\\.1\\{2\\}\\./ q8_0 x\\,y {p,q}\n/blk\\.[0-9]{2}\\./ f16\n", &r, &n) == 0);
    CHECKF(n == 2, "n = %zu", n);
    if (n == 2) {
        CHECKF(!strcmp(r[0].text, "/blk\\.1{2}\\./ q8_0 x,y p\n/blk\\.[0-9]{2}\\./ f16\n"), "%s", r[0].text);
        CHECKF(!strcmp(r[1].compact, "/blk\\.1{2}\\./ q8_0 x,y q; /blk\\.[0-9]{2}\\./ f16"), "%s", r[1].compact);
    }
    lrq_grid_free(r, n);
    /* a literal {..} holding a group: {a{1,2}} = {a1} {a2} */
    CHECK(expand("{a{1,2}}", &r, &n) == 0);
    CHECK(n == 2 && !strcmp(r[0].text, "{a1}") && !strcmp(r[1].text, "{a2}"));
    lrq_grid_free(r, n);
    /* empty alternatives count */
    CHECK(expand("x{,y}", &r, &n) == 0);
    CHECK(n == 2 && !strcmp(r[0].text, "x") && !strcmp(r[1].text, "xy"));
    lrq_grid_free(r, n);
}

static void grid_errors(void) {
    lrq_grid_recipe *r = (lrq_grid_recipe *)1;
    size_t n = 7;
    CHECK(expand("base lq:b{2,3\nmethod rtn}\n", &r, &n) == -1);
    CHECKF(strstr(lrq_last_error(), "g.grid:1:10: '{' is not closed on its line") != NULL, "%s", lrq_last_error());
    CHECK(r == NULL && n == 0);
    CHECK(expand("a\nb}c", &r, &n) == -1);
    CHECKF(strstr(lrq_last_error(), "g.grid:2:2: '}' without a '{'") != NULL, "%s", lrq_last_error());
    CHECK(expand("x{a,b", &r, &n) == -1);
    CHECK(strstr(lrq_last_error(), "not closed") != NULL);
    CHECK(expand("{a,# b}\n", &r, &n) == -1); /* a comment ends the line: the group stays open */
    /* too many: 10 groups of 2 = 1024 > 1000 */
    CHECK(expand("{0,1}{0,1}{0,1}{0,1}{0,1}{0,1}{0,1}{0,1}{0,1}{0,1}", &r, &n) == -1);
    CHECKF(strstr(lrq_last_error(), "more than 1000 recipes") != NULL, "%s", lrq_last_error());
    CHECK(expand("{0,1}{0,1}{0,1}{0,1}{0,1}{0,1}{0,1}{0,1}{0,1}", &r, &n) == 0 && n == 512);
    lrq_grid_free(r, n);
    /* overflow of the product itself */
    char big[4096] = "";
    for (int i = 0; i < 70; i++) strcat(big, "{a,b,c}");
    CHECK(lrq_grid_expand(big, strlen(big), "g", (size_t)-1, &r, &n) == -1);
    /* nesting depth */
    char deep[200] = "";
    for (int i = 0; i < 20; i++) strcat(deep, "{a,");
    for (int i = 0; i < 20; i++) strcat(deep, "}");
    CHECK(expand(deep, &r, &n) == -1);
    CHECKF(strstr(lrq_last_error(), "nested deeper") != NULL, "%s", lrq_last_error());
}

static void describe(void) {
    lrq_recipe_desc d;
    const char *t = "base lq:b3g64a\nmethod rtn\n";
    CHECK(lrq_recipe_describe(t, strlen(t), "x.grid#1", &d) == 0);
    CHECK(!strcmp(d.base, "lq:b3g64a") && d.bits == 3 && d.group == 64 && !strcmp(d.method, "rtn"));
    t = "base Q4_K_M\n";
    CHECK(lrq_recipe_describe(t, strlen(t), "x", &d) == 0);
    CHECK(!strcmp(d.base, "Q4_K_M") && d.bits == -1 && d.group == -1);
    t = "base lq:b2gr\nmethod gptq\ncalib-text c.txt\n";
    write_file(tpath("c.txt"), "calibration");
    CHECK(lrq_recipe_describe(t, strlen(t), tpath("x.grid#2"), &d) == 0); /* c.txt found beside the grid */
    CHECK(d.bits == 2 && d.group == 0 && !strcmp(d.method, "gptq"));
    t = "base lq:b2g32\nbogus words here\n";
    CHECK(lrq_recipe_describe(t, strlen(t), "x.grid#3", &d) == -1);
    CHECKF(strstr(lrq_last_error(), "x.grid#3:2:") != NULL, "%s", lrq_last_error());
    char *c = lrq_recipe_compact("  a  b # c\n\n\td\te\n", 17);
    CHECKF(c && !strcmp(c, "a b; d e"), "%s", c ? c : "(null)");
    free(c);
}

static void keys_lines(void) {
    char k1[17], k2[17], k3[17];
    lrq_sweep_key("base lq:b4g32", "m.gguf", 100, "t.txt", 5, 128, 2, k1);
    lrq_sweep_key("base lq:b4g32", "m.gguf", 100, "t.txt", 5, 128, 2, k2);
    lrq_sweep_key("base lq:b4g32", "m.gguf", 100, "t.txt", 5, 128, -1, k3);
    CHECK(strlen(k1) == 16 && !strcmp(k1, k2) && strcmp(k1, k3));
    lrq_sweep_key("base lq:b4g32", "m.gguf", 101, "t.txt", 5, 128, 2, k2);
    CHECK(strcmp(k1, k2));
    lrq_sweep_row row = { .key = k1, .label = "b4g32", .bits = 4, .group = 32, .method = "rtn", .bpw = 5.25,
                          .bytes = 1000, .n_weights = 1524, .ppl = 4.5, .ppl_err = 0.1, .ln_ppl_ratio = 0.01,
                          .ln_ppl_ratio_err = 0.001, .mean_kld = 0.02, .mean_kld_err = 0.002, .same_top_pct = 90,
                          .same_top_err = 1, .ppl_f32 = 4.4, .quant_s = 0.5, .eval_s = 0.25, .model = "m.gguf",
                          .text = "t\tx.txt", .n_ctx = 128, .chunks = -1, .lrq = "0.1.0", .base = "lq:b4g32",
                          .recipe = "base lq:b4g32" };
    char *l = lrq_sweep_row_line(&row, 0);
    size_t tabs = 0, hdr_tabs = 0;
    for (const char *s = l; *s; s++) tabs += *s == '\t';
    for (const char *s = lrq_sweep_tsv_header(); *s; s++) hdr_tabs += *s == '\t';
    CHECKF(tabs == hdr_tabs, "%zu tabs, header %zu", tabs, hdr_tabs);
    /* the JSON members are the header's columns, in order */
    {
        char *jl = lrq_sweep_row_line(&row, 1), names[1024] = "";
        for (const char *q = jl; (q = strstr(q, "\":")); q += 2) {
            const char *b = q - 1;
            while (b > jl && *b != '"') b--;
            if (names[0]) strcat(names, "\t");
            strncat(names, b + 1, (size_t)(q - b - 1));
        }
        CHECKF(!strcmp(names, lrq_sweep_tsv_header()), "JSON members %s", names);
        free(jl);
    }
    CHECK(!strncmp(l, k1, 16) && l[16] == '\t' && l[strlen(l) - 1] == '\n');
    CHECKF(strstr(l, "\t5.2500\t1000\t1524\t4.500000\t") && strstr(l, "\tt x.txt\t128\tall\t"), "%s", l);
    free(l);
    row.failed = 1;
    row.error = "x.grid#1: bad\tthing";
    l = lrq_sweep_row_line(&row, 1);
    CHECKF(!strncmp(l, "{\"key\":\"", 8) && strstr(l, "\"status\":\"failed\"") && strstr(l, "\"bpw\":null") &&
           strstr(l, "\"error\":\"x.grid#1: bad\\tthing\"}\n") && strstr(l, "\"chunks\":\"all\""), "%s", l);
    free(l);
}

static void rows_resume(void) {
    const char *p = tpath("rows.tsv");
    const char *h = lrq_sweep_tsv_header();
    unlink(p);
    lrq_rows *r;
    long cut = -1;
    CHECK(lrq_rows_open(&r, p, h, &cut) == 0 && cut == 0);
    CHECK(lrq_rows_count(r) == 0);
    /* a second writer is refused while the first holds the file */
    lrq_rows *r2;
    CHECK(lrq_rows_open(&r2, p, h, NULL) == -1);
    CHECKF(strstr(lrq_last_error(), "another lrq sweep") != NULL, "%s", lrq_last_error());
    CHECK(lrq_rows_append(r, "0123456789abcdef", "0123456789abcdef\tone\n") == 0);
    CHECK(lrq_rows_append(r, "0123456789abcdef", "0123456789abcdef\tagain\n") == -1); /* no duplicates */
    CHECK(lrq_rows_append(r, "1111111111111111", "1111111111111111\ttwo\nx\n") == -1);  /* one line only */
    CHECK(lrq_rows_append(r, "1111111111111111", "1111111111111111\ttwo") == -1);       /* newline required */
    CHECK(lrq_rows_append(r, "1111111111111111", "1111111111111111\ttwo\n") == 0);
    CHECK(lrq_rows_has(r, "1111111111111111") && !lrq_rows_has(r, "2222222222222222"));
    lrq_rows_close(r);
    /* killed mid-write: a partial line at the end is cut off, the rows before it kept */
    FILE *f = fopen(p, "ab");
    fputs("2222222222222222\tpart", f);
    fclose(f);
    CHECK(lrq_rows_open(&r, p, h, &cut) == 0);
    CHECKF(cut == 21, "cut %ld", cut);
    CHECK(lrq_rows_count(r) == 2 && lrq_rows_has(r, "0123456789abcdef") && !lrq_rows_has(r, "2222222222222222"));
    CHECK(lrq_rows_append(r, "2222222222222222", "2222222222222222\tthree\n") == 0);
    lrq_rows_close(r);
    char *s = read_file(p);
    char want[1024];
    snprintf(want, sizeof want, "%s\n0123456789abcdef\tone\n1111111111111111\ttwo\n2222222222222222\tthree\n", h);
    CHECKF(s && !strcmp(s, want), "file:\n%s", s ? s : "(none)");
    free(s);
    /* reopened: 3 rows, nothing cut, nothing added */
    CHECK(lrq_rows_open(&r, p, h, &cut) == 0 && cut == 0 && lrq_rows_count(r) == 3);
    lrq_rows_close(r);
    /* another header: refused, file untouched */
    CHECK(lrq_rows_open(&r, p, "key\tother", NULL) == -1);
    CHECKF(strstr(lrq_last_error(), "rows.tsv:1: not a row file") != NULL, "%s", lrq_last_error());
    /* a line without a key */
    snprintf(want, sizeof want, "%s\nnot a row\n", h);
    write_file(p, want);
    CHECK(lrq_rows_open(&r, p, h, NULL) == -1);
    CHECKF(strstr(lrq_last_error(), "rows.tsv:2: not a sweep row") != NULL, "%s", lrq_last_error());
    /* only a partial header: cut to empty, the header written again */
    write_file(p, "key\tlab");
    CHECK(lrq_rows_open(&r, p, h, &cut) == 0 && cut == 7 && lrq_rows_count(r) == 0);
    lrq_rows_close(r);
    s = read_file(p);
    CHECK(s && !strncmp(s, h, strlen(h)) && s[strlen(h)] == '\n' && s[strlen(h) + 1] == 0);
    free(s);
    /* JSONL: no header, keys from {"key":"..." */
    const char *pj = tpath("rows.jsonl");
    write_file(pj, "{\"key\":\"aaaaaaaaaaaaaaaa\",\"x\":1}\n{\"key\":\"aaaaaaaaaaaaaaaa\",\"x\":1}\n{\"key\":\"bb");
    CHECK(lrq_rows_open(&r, pj, NULL, &cut) == 0 && cut == 10 && lrq_rows_count(r) == 1);
    CHECK(lrq_rows_has(r, "aaaaaaaaaaaaaaaa"));
    lrq_rows_close(r);
}

static void tables(void) {
    const char *p = tpath("t.tsv");
    write_file(p, "a\tb\tc\n1\t2\t3\n\n4\t5\t6\n");
    lrq_table *t;
    CHECK(lrq_table_load(&t, p) == 0);
    if (t) {
        CHECK(lrq_table_rows(t) == 2 && lrq_table_col(t, "c") == 2 && lrq_table_col(t, "d") == -1);
        CHECK(!strcmp(lrq_table_cell(t, 1, 1), "5") && !strcmp(lrq_table_cell(t, 5, 1), ""));
        lrq_table_free(t);
    }
    write_file(p, "a\tb\n1\t2\t3\n");
    CHECK(lrq_table_load(&t, p) == -1);
    CHECKF(strstr(lrq_last_error(), "t.tsv:2: 3 fields, the header has 2") != NULL, "%s", lrq_last_error());
    const char *pj = tpath("t.jsonl");
    write_file(pj, "{\"a\":\"x\",\"b\":1.5}\n{\"b\":2,\"c\":null,\"d\":\"y\"}\n");
    CHECK(lrq_table_load(&t, pj) == 0);
    if (t) {
        CHECK(lrq_table_rows(t) == 2);
        int a = lrq_table_col(t, "a"), b = lrq_table_col(t, "b"), d = lrq_table_col(t, "d");
        CHECK(a == 0 && b == 1 && d == 3);
        CHECK(!strcmp(lrq_table_cell(t, 0, b), "1.5") && !strcmp(lrq_table_cell(t, 1, a), "-"));
        CHECK(!strcmp(lrq_table_cell(t, 0, d), "-") && !strcmp(lrq_table_cell(t, 1, d), "y"));
        lrq_table_free(t);
    }
    write_file(pj, "{\"a\":1}\n{\"a\":\n");
    CHECK(lrq_table_load(&t, pj) == -1);
    CHECKF(strstr(lrq_last_error(), "t.jsonl:2") != NULL, "%s", lrq_last_error());
}

static void pareto(void) {
    /* x: bpw, y: kld */
    double x[] = { 4.0, 2.0, 3.0, 3.0, 5.0, 2.5, NAN, 4.5, 3.0 };
    double y[] = { 0.1, 0.5, 0.2, 0.3, 0.05, 0.6, 0.0, 0.1, 0.2 };
    size_t idx[9];
    size_t k = lrq_pareto_front(x, y, 9, idx);
    /* 2.0/0.5, 3.0/0.2 (index 2, not its twin 8), 4.0/0.1, 5.0/0.05; not 2.5/0.6 (worse than 2.0),
     * 3.0/0.3, 4.5/0.1 (= 4.0's y at more bits), the NaN */
    size_t want[] = { 1, 2, 0, 4 };
    CHECKF(k == 4, "k = %zu", k);
    for (size_t i = 0; i < k && i < 4; i++) CHECKF(idx[i] == want[i], "front[%zu] = %zu", i, idx[i]);
    CHECK(lrq_pareto_front(x, y, 0, idx) == 0);
    /* a larger random set against the definition */
    enum { N = 500 };
    static double rx[N], ry[N];
    static size_t ri[N];
    uint64_t st = 7;
    for (int i = 0; i < N; i++) {
        rx[i] = (double)(test_rand_u64(&st) % 50);
        ry[i] = (double)(test_rand_u64(&st) % 1000) / 7.0;
    }
    k = lrq_pareto_front(rx, ry, N, ri);
    int on[N] = { 0 };
    for (size_t i = 0; i < k; i++) on[ri[i]] = 1;
    int bad = 0;
    for (size_t i = 1; i < k; i++) bad += !(rx[ri[i]] > rx[ri[i - 1]] && ry[ri[i]] < ry[ri[i - 1]]);
    for (int i = 0; i < N; i++) {
        int dominated = 0, first_twin = 1;
        for (int j = 0; j < N; j++) {
            if (j == i) continue;
            if (rx[j] <= rx[i] && ry[j] <= ry[i] && (rx[j] < rx[i] || ry[j] < ry[i])) dominated = 1;
            if (rx[j] == rx[i] && ry[j] == ry[i] && j < i) first_twin = 0;
        }
        bad += on[i] != (!dominated && first_twin);
    }
    CHECKF(bad == 0, "%d points wrong (front of %zu)", bad, k);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/lrq-test-sweep.%ld", (long)getpid());
    char cmd[300];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", tmpdir);
    if (system(cmd) != 0) return 1;
    TEST_RUN(grid_basic);
    TEST_RUN(grid_nested_escapes);
    TEST_RUN(grid_errors);
    TEST_RUN(describe);
    TEST_RUN(keys_lines);
    TEST_RUN(rows_resume);
    TEST_RUN(tables);
    TEST_RUN(pareto);
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    (void)system(cmd);
    return test_finish();
}
