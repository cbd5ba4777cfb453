/* sweep.c — the library side of `lrq sweep` and `lrq plot` (lrq.h,
 * docs/sweep.md): grid expansion of recipe templates, the one-line form and
 * description of a recipe, row keys and row lines, the resumable row file,
 * a table reader (TSV / JSONL) and the Pareto front. The commands
 * themselves (quantize, measure, draw) are tools/cmd_sweep.c and
 * tools/cmd_plot.c, through the public API only.
 */
#define _DEFAULT_SOURCE /* flock */
#include "lrq.h"

#include "core/core.h"
#include "io/json.h"
#include "quant/recipe.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- a growable string ---- */

typedef struct sbuf {
    char *s;
    size_t n, cap;
    int oom;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    size_t need;
    if (lrq_add_size(b->n, n + 1, &need)) { b->oom = 1; return; }
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < need) {
            if (cap > SIZE_MAX / 2) { b->oom = 1; return; }
            cap *= 2;
        }
        char *ns = lrq_realloc(b->s, cap);
        if (!ns) { b->oom = 1; return; }
        b->s = ns;
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = 0;
}
static void sb_str(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }
static void sb_chr(sbuf *b, char c) { sb_put(b, &c, 1); }
static void sb_fmt(sbuf *b, const char *fmt, ...) LRQ_PRINTF(2, 3);
static void sb_fmt(sbuf *b, const char *fmt, ...) {
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) { b->oom = 1; return; }
    sb_put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}
/* The string (owned by the caller), or NULL (error set) when out of memory. */
static char *sb_take(sbuf *b) {
    if (b->oom) {
        free(b->s);
        lrq_err_set("out of memory");
        return NULL;
    }
    if (!b->s) return lrq_strdup("");
    return b->s;
}

/* ---- grid expansion ----
 * The text is parsed into a tree: a sequence is a list of items, an item a
 * literal (bytes of the text, escapes resolved) or a group (a list of
 * alternative sequences). count(seq) = product of its items' counts,
 * count(group) = sum of its alternatives' counts, checked against max_out as
 * they are formed, so a hostile grid cannot overflow anything. */

#define GRID_MAX_DEPTH 16

typedef struct gnode gnode;
typedef struct gseq {
    gnode *items;
    size_t n, cap;
    size_t count;
} gseq;
struct gnode {
    int is_group;
    char *lit;          /* literal bytes (owned) */
    size_t lit_len;
    gseq *alts;         /* group: alternatives (owned) */
    size_t n_alts;
    size_t count;
};

static void seq_free(gseq *s);
static void node_free(gnode *g) {
    free(g->lit);
    for (size_t i = 0; i < g->n_alts; i++) seq_free(&g->alts[i]);
    free(g->alts);
}
static void seq_free(gseq *s) {
    for (size_t i = 0; i < s->n; i++) node_free(&s->items[i]);
    free(s->items);
    memset(s, 0, sizeof *s);
}

static int seq_push(gseq *s, gnode *g) {
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 8;
        gnode *ni = lrq_realloc(s->items, cap * sizeof *ni);
        if (!ni) return -1;
        s->items = ni;
        s->cap = cap;
    }
    s->items[s->n++] = *g;
    return 0;
}

typedef struct gparse {
    const char *t;
    size_t len, pos;
    const char *where;
    size_t max_out;
    int line;
    size_t line_start;
} gparse;

static int gp_err(const gparse *p, size_t at, const char *what) {
    return lrq_err_set("%s:%d:%zu: %s", p->where, p->line, at - p->line_start + 1, what);
}

/* Append literal byte c to the sequence (merging with a literal before it). */
static int seq_lit(gseq *s, const char *c, size_t n) {
    if (s->n && !s->items[s->n - 1].is_group) {
        gnode *g = &s->items[s->n - 1];
        char *nl = lrq_realloc(g->lit, g->lit_len + n + 1);
        if (!nl) return -1;
        memcpy(nl + g->lit_len, c, n);
        g->lit_len += n;
        nl[g->lit_len] = 0;
        g->lit = nl;
        return 0;
    }
    gnode g = { .lit = lrq_malloc(n + 1), .lit_len = n, .count = 1 };
    if (!g.lit) return -1;
    memcpy(g.lit, c, n);
    g.lit[n] = 0;
    if (seq_push(s, &g)) { free(g.lit); return -1; }
    return 0;
}

/* count *= c, within max_out */
static int count_mul(const gparse *p, size_t *count, size_t c) {
    size_t r;
    if (lrq_mul_size(*count, c, &r) || r > p->max_out)
        return lrq_err_set("%s: the grid expands to more than %zu recipes", p->where, p->max_out);
    *count = r;
    return 0;
}

/* Parse a sequence up to the end (depth 0) or to a ',' / '}' of the group
 * being read (depth > 0, not consumed). */
static int parse_seq(gparse *p, gseq *s, int depth) {
    s->count = 1;
    while (p->pos < p->len) {
        char c = p->t[p->pos];
        if (c == '#') { /* a comment, to the end of the line */
            while (p->pos < p->len && p->t[p->pos] != '\n') p->pos++;
            continue;
        }
        if (c == '\n') {
            if (depth > 0) return 1; /* the caller reports the open '{' */
            p->pos++;
            if (seq_lit(s, "\n", 1)) return -1;
            p->line++;
            p->line_start = p->pos;
            continue;
        }
        if (c == '\\' && p->pos + 1 < p->len &&
            (p->t[p->pos + 1] == '{' || p->t[p->pos + 1] == '}' || p->t[p->pos + 1] == ',')) {
            if (seq_lit(s, p->t + p->pos + 1, 1)) return -1;
            p->pos += 2;
            continue;
        }
        if (depth > 0 && (c == ',' || c == '}')) return 0;
        if (c == '}') return gp_err(p, p->pos, "'}' without a '{' (write \\} for the character)");
        if (c == '{') {
            size_t open = p->pos;
            if (depth >= GRID_MAX_DEPTH) return gp_err(p, open, "groups nested deeper than 16");
            p->pos++;
            gnode g = { .is_group = 1 };
            size_t cap = 0;
            int rc = 0;
            for (;;) {
                if (g.n_alts == cap) {
                    size_t nc = cap ? 2 * cap : 4;
                    gseq *na = lrq_realloc(g.alts, nc * sizeof *na);
                    if (!na) { rc = -1; break; }
                    g.alts = na;
                    cap = nc;
                }
                gseq *alt = &g.alts[g.n_alts];
                memset(alt, 0, sizeof *alt);
                g.n_alts++;
                rc = parse_seq(p, alt, depth + 1);
                if (rc) break;
                size_t sum;
                if (lrq_add_size(g.count, alt->count, &sum) || sum > p->max_out) {
                    rc = lrq_err_set("%s: the grid expands to more than %zu recipes", p->where, p->max_out);
                    break;
                }
                g.count = sum;
                if (p->pos >= p->len) { rc = 1; break; }
                if (p->t[p->pos] == '}') { p->pos++; break; }
                p->pos++; /* ',' */
            }
            if (rc == 1) rc = gp_err(p, open, "'{' is not closed on its line (write \\{ for the character)");
            if (rc) { node_free(&g); return -1; }
            if (g.n_alts == 1) {
                /* no comma: the braces are text ("{2}", as the shell keeps them) */
                gseq inner = g.alts[0];
                free(g.alts);
                if (seq_lit(s, "{", 1)) { seq_free(&inner); return -1; }
                for (size_t i = 0; i < inner.n; i++) {
                    gnode *it = &inner.items[i];
                    int e = 0;
                    if (!it->is_group) {
                        e = seq_lit(s, it->lit, it->lit_len);
                        node_free(it);
                    } else {
                        e = count_mul(p, &s->count, it->count);
                        if (!e) e = seq_push(s, it);
                        if (e) node_free(it);
                    }
                    if (e) {
                        for (size_t j = i + 1; j < inner.n; j++) node_free(&inner.items[j]);
                        free(inner.items);
                        return -1;
                    }
                }
                free(inner.items);
                if (seq_lit(s, "}", 1)) return -1;
                continue;
            }
            if (count_mul(p, &s->count, g.count) || seq_push(s, &g)) { node_free(&g); return -1; }
            continue;
        }
        if (seq_lit(s, &c, 1)) return -1;
        p->pos++;
    }
    return depth > 0 ? 1 : 0;
}

/* Render expansion k (0 <= k < count) of s; the outermost groups' renderings
 * go to `choice` when it is given. Mixed radix, last item fastest. */
static void render_seq(const gseq *s, size_t k, sbuf *out, sbuf *choice);
static void render_node(const gnode *g, size_t k, sbuf *out) {
    if (!g->is_group) { sb_put(out, g->lit, g->lit_len); return; }
    for (size_t a = 0; a < g->n_alts; a++) {
        if (k < g->alts[a].count) { render_seq(&g->alts[a], k, out, NULL); return; }
        k -= g->alts[a].count;
    }
}
static void render_seq(const gseq *s, size_t k, sbuf *out, sbuf *choice) {
    /* digit of item i = (k / (product of counts after i)) % count_i */
    size_t after = s->count;
    for (size_t i = 0; i < s->n; i++) {
        const gnode *g = &s->items[i];
        after /= g->count;
        size_t d = (k / after) % g->count;
        if (choice && g->is_group) {
            size_t start = out->n;
            render_node(g, d, out);
            if (choice->n) sb_chr(choice, ',');
            if (!out->oom) sb_put(choice, out->s + start, out->n - start);
        } else {
            render_node(g, d, out);
        }
    }
}

char *lrq_recipe_compact(const char *text, size_t len) {
    sbuf b = { 0 };
    size_t pos = 0;
    while (pos < len) {
        size_t e = pos;
        while (e < len && text[e] != '\n') e++;
        size_t stop = e;
        for (size_t i = pos; i < e; i++)
            if (text[i] == '#') { stop = i; break; }
        int words = 0;
        size_t i = pos;
        while (i < stop) {
            while (i < stop && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r')) i++;
            if (i >= stop) break;
            size_t w = i;
            while (i < stop && text[i] != ' ' && text[i] != '\t' && text[i] != '\r') i++;
            if (words++) sb_chr(&b, ' ');
            else if (b.n) sb_str(&b, "; ");
            sb_put(&b, text + w, i - w);
        }
        pos = e < len ? e + 1 : e;
    }
    return sb_take(&b);
}

void lrq_grid_free(lrq_grid_recipe *r, size_t n) {
    if (!r) return;
    for (size_t i = 0; i < n; i++) {
        free(r[i].text);
        free(r[i].compact);
        free(r[i].choice);
    }
    free(r);
}

int lrq_grid_expand(const char *text, size_t len, const char *where, size_t max_out, lrq_grid_recipe **out,
                    size_t *n_out) {
    *out = NULL;
    *n_out = 0;
    if (!where) where = "grid";
    if (max_out < 1) return lrq_err_set("%s: max_out must be at least 1", where);
    if (memchr(text, 0, len)) return lrq_err_set("%s: NUL byte in the grid", where);
    gparse p = { .t = text, .len = len, .where = where, .max_out = max_out, .line = 1 };
    gseq root = { 0 };
    if (parse_seq(&p, &root, 0)) { seq_free(&root); return -1; }
    lrq_grid_recipe *r = lrq_calloc(root.count, sizeof *r);
    if (!r) { seq_free(&root); return -1; }
    for (size_t k = 0; k < root.count; k++) {
        sbuf t = { 0 }, ch = { 0 };
        render_seq(&root, k, &t, &ch);
        r[k].text = sb_take(&t);
        r[k].choice = sb_take(&ch);
        r[k].compact = r[k].text ? lrq_recipe_compact(r[k].text, strlen(r[k].text)) : NULL;
        if (!r[k].text || !r[k].choice || !r[k].compact) {
            lrq_grid_free(r, k + 1);
            seq_free(&root);
            return lrq_err_set("%s: out of memory expanding the grid", where);
        }
    }
    *n_out = root.count;
    *out = r;
    seq_free(&root);
    return 0;
}

int lrq_recipe_describe(const char *text, size_t len, const char *where, lrq_recipe_desc *d) {
    memset(d, 0, sizeof *d);
    d->bits = d->group = -1;
    d->method = "rtn";
    lrq_recipe rc;
    lrq_recipe_init(&rc);
    if (lrq_recipe_parse(&rc, text, len, where ? where : "recipe")) { lrq_recipe_free(&rc); return -1; }
    int ret = 0;
    if (rc.base) {
        if (strlen(rc.base) >= sizeof d->base) {
            ret = lrq_err_set("%s: base '%.40s...' is too long", where, rc.base);
        } else {
            memcpy(d->base, rc.base, strlen(rc.base) + 1);
            lrq_lq_spec lq;
            if (!strncmp(rc.base, "lq:", 3)) {
                if (lrq_lq_spec_parse(rc.base + 3, &lq)) ret = lrq_err_prefix("%s", where);
                else { d->bits = lq.bits; d->group = lq.group; }
            }
        }
    }
    if (rc.method == LRQ_METHOD_GPTQ) d->method = "gptq";
    lrq_recipe_free(&rc);
    return ret;
}

/* ---- keys and rows ---- */

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

void lrq_sweep_key(const char *compact, const char *model, uint64_t model_size, const char *text,
                   uint64_t text_size, int n_ctx, int chunks, char out[17]) {
    char num[96];
    uint64_t h = 0xcbf29ce484222325ull;
    const char *s[3] = { compact ? compact : "", model ? model : "", text ? text : "" };
    for (int i = 0; i < 3; i++) h = fnv(h, s[i], strlen(s[i]) + 1); /* the NUL separates the fields */
    int n = snprintf(num, sizeof num, "%llu|%llu|%d|%d", (unsigned long long)model_size,
                     (unsigned long long)text_size, n_ctx, chunks < 0 ? -1 : chunks);
    h = fnv(h, num, (size_t)n);
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

static const char *const COLS[] = {
    "key", "label", "status", "bits", "group", "method", "bpw", "bytes", "n_weights", "ppl", "ppl_err",
    "ln_ppl_ratio", "ln_ppl_ratio_err", "mean_kld", "mean_kld_err", "same_top_pct", "same_top_err", "ppl_f32",
    "quant_s", "eval_s", "model", "text", "ctx", "chunks", "lrq", "base", "recipe", "error",
};
#define N_COLS (sizeof COLS / sizeof COLS[0])

/* COLS joined by tabs (a literal, so no initialisation race between threads; test_sweep checks it against
 * the rows' field count) */
static const char HEADER[] =
    "key\tlabel\tstatus\tbits\tgroup\tmethod\tbpw\tbytes\tn_weights\tppl\tppl_err\tln_ppl_ratio\t"
    "ln_ppl_ratio_err\tmean_kld\tmean_kld_err\tsame_top_pct\tsame_top_err\tppl_f32\tquant_s\teval_s\tmodel\ttext\t"
    "ctx\tchunks\tlrq\tbase\trecipe\terror";

const char *lrq_sweep_tsv_header(void) { return HEADER; }

/* One field: TSV (tabs/newlines to spaces, NULL as "-") or a JSON string. */
static void put_str(sbuf *b, const char *s, int json) {
    if (!json) {
        if (!s || !*s) { sb_chr(b, '-'); return; }
        for (; *s; s++) sb_chr(b, *s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s);
        return;
    }
    if (!s) { sb_str(b, "null"); return; }
    sb_chr(b, '"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') { sb_chr(b, '\\'); sb_chr(b, (char)c); }
        else if (c == '\n') sb_str(b, "\\n");
        else if (c == '\t') sb_str(b, "\\t");
        else if (c < 0x20) sb_fmt(b, "\\u%04x", c);
        else sb_chr(b, (char)c);
    }
    sb_chr(b, '"');
}
static void put_num(sbuf *b, double v, const char *fmt, int json) {
    if (!isfinite(v)) sb_str(b, json ? "null" : "-");
    else sb_fmt(b, fmt, v);
}
static void put_int(sbuf *b, long long v, int json, int missing_below0) {
    if (missing_below0 && v < 0) sb_str(b, json ? "null" : "-");
    else sb_fmt(b, "%lld", v);
}

char *lrq_sweep_row_line(const lrq_sweep_row *r, int jsonl) {
    sbuf b = { 0 };
    int ok = !r->failed;
    double nan = NAN;
    if (jsonl) sb_chr(&b, '{');
    for (size_t i = 0; i < N_COLS; i++) {
        if (i) sb_str(&b, jsonl ? "," : "\t");
        if (jsonl) { put_str(&b, COLS[i], 1); sb_chr(&b, ':'); }
        switch (i) {
        case 0: put_str(&b, r->key, jsonl); break;
        case 1: put_str(&b, r->label, jsonl); break;
        case 2: put_str(&b, r->failed ? "failed" : "ok", jsonl); break;
        case 3: put_int(&b, r->bits, jsonl, 1); break;
        case 4: put_int(&b, r->group, jsonl, 1); break;
        case 5: put_str(&b, r->method, jsonl); break;
        case 6: put_num(&b, ok ? r->bpw : nan, "%.4f", jsonl); break;
        case 7: if (ok) put_int(&b, (long long)r->bytes, jsonl, 0); else put_num(&b, nan, "", jsonl); break;
        case 8: if (ok) put_int(&b, (long long)r->n_weights, jsonl, 0); else put_num(&b, nan, "", jsonl); break;
        case 9: put_num(&b, ok ? r->ppl : nan, "%.6f", jsonl); break;
        case 10: put_num(&b, ok ? r->ppl_err : nan, "%.6f", jsonl); break;
        case 11: put_num(&b, ok ? r->ln_ppl_ratio : nan, "%.6f", jsonl); break;
        case 12: put_num(&b, ok ? r->ln_ppl_ratio_err : nan, "%.6f", jsonl); break;
        case 13: put_num(&b, ok ? r->mean_kld : nan, "%.6g", jsonl); break;
        case 14: put_num(&b, ok ? r->mean_kld_err : nan, "%.6g", jsonl); break;
        case 15: put_num(&b, ok ? r->same_top_pct : nan, "%.3f", jsonl); break;
        case 16: put_num(&b, ok ? r->same_top_err : nan, "%.3f", jsonl); break;
        case 17: put_num(&b, ok ? r->ppl_f32 : nan, "%.6f", jsonl); break;
        case 18: put_num(&b, r->quant_s, "%.3f", jsonl); break;
        case 19: put_num(&b, r->eval_s, "%.3f", jsonl); break;
        case 20: put_str(&b, r->model, jsonl); break;
        case 21: put_str(&b, r->text, jsonl); break;
        case 22: put_int(&b, r->n_ctx, jsonl, 0); break;
        case 23: if (r->chunks < 0) put_str(&b, "all", jsonl); else put_int(&b, r->chunks, jsonl, 0); break;
        case 24: put_str(&b, r->lrq, jsonl); break;
        case 25: put_str(&b, r->base, jsonl); break;
        case 26: put_str(&b, r->recipe, jsonl); break;
        case 27: put_str(&b, r->failed ? r->error : NULL, jsonl); break;
        }
    }
    if (jsonl) sb_chr(&b, '}');
    sb_chr(&b, '\n');
    return sb_take(&b);
}

/* ---- the row file ---- */

struct lrq_rows {
    char *path;
    int fd;
    char (*keys)[17];
    size_t n, cap;
};

static int rows_add_key(lrq_rows *r, const char *key) {
    if (lrq_rows_has(r, key)) return 0;
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 64;
        char (*nk)[17] = lrq_realloc(r->keys, cap * sizeof *nk);
        if (!nk) return -1;
        r->keys = nk;
        r->cap = cap;
    }
    memcpy(r->keys[r->n++], key, 17);
    return 0;
}

/* The key of line [s, e): TSV first field / JSONL {"key":"..."; 16 hex digits. */
static int line_key(const char *s, size_t n, int json, char key[17]) {
    const char *k = s;
    if (json) {
        static const char pre[] = "{\"key\":\"";
        if (n < sizeof pre - 1 + 17 || memcmp(s, pre, sizeof pre - 1)) return -1;
        k = s + sizeof pre - 1;
        if (k[16] != '"') return -1;
    } else if (n < 17 || s[16] != '\t') {
        return -1;
    }
    for (int i = 0; i < 16; i++) {
        char c = k[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return -1;
        key[i] = c;
    }
    key[16] = 0;
    return 0;
}

static int write_all(int fd, const char *s, size_t n) {
    while (n) {
        ssize_t w = write(fd, s, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

int lrq_rows_open(lrq_rows **out, const char *path, const char *header, long *truncated) {
    *out = NULL;
    if (truncated) *truncated = 0;
    lrq_rows *r = lrq_calloc(1, sizeof *r);
    if (!r) return -1;
    r->fd = -1;
    char *buf = NULL;
    if (!(r->path = lrq_strdup(path))) goto fail;
    r->fd = open(path, O_RDWR | O_CREAT | O_APPEND, 0666);
    if (r->fd < 0) { lrq_err_set("%s: cannot open the row file: %s", path, strerror(errno)); goto fail; }
    if (flock(r->fd, LOCK_EX | LOCK_NB) != 0) {
        lrq_err_set("%s: %s", path, errno == EWOULDBLOCK ? "another lrq sweep is writing this row file"
                                                         : strerror(errno));
        goto fail;
    }
    struct stat st;
    if (fstat(r->fd, &st) != 0) { lrq_err_set("%s: %s", path, strerror(errno)); goto fail; }
    if (!S_ISREG(st.st_mode)) { lrq_err_set("%s: not a regular file", path); goto fail; }
    if ((uint64_t)st.st_size > ((uint64_t)1 << 30)) { lrq_err_set("%s: row file larger than 1 GiB", path); goto fail; }
    size_t len = (size_t)st.st_size;
    if (!(buf = lrq_malloc(len + 1))) goto fail;
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(r->fd, buf + got, len - got, (off_t)got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) { lrq_err_set("%s: read error: %s", path, n < 0 ? strerror(errno) : "short read"); goto fail; }
        got += (size_t)n;
    }
    buf[len] = 0;
    /* a partial last line (killed mid-write): cut it off */
    size_t keep = len;
    while (keep > 0 && buf[keep - 1] != '\n') keep--;
    if (keep < len) {
        if (ftruncate(r->fd, (off_t)keep) != 0 || fsync(r->fd) != 0) {
            lrq_err_set("%s: cannot cut off the partial last line: %s", path, strerror(errno));
            goto fail;
        }
        if (truncated) *truncated = (long)(len - keep);
        len = keep;
    }
    int json = header == NULL;
    size_t pos = 0;
    int lineno = 0;
    if (!json) {
        size_t hl = strlen(header);
        if (len == 0) {
            char *h = lrq_malloc(hl + 2);
            if (!h) goto fail;
            memcpy(h, header, hl);
            h[hl] = '\n';
            int e = write_all(r->fd, h, hl + 1) || fsync(r->fd);
            free(h);
            if (e) { lrq_err_set("%s: cannot write the header: %s", path, strerror(errno)); goto fail; }
        } else if (len < hl + 1 || memcmp(buf, header, hl) || buf[hl] != '\n') {
            lrq_err_set("%s:1: not a row file of this lrq sweep (its header differs: another lrq version, or "
                        "another kind of file)", path);
            goto fail;
        } else {
            pos = hl + 1;
            lineno = 1;
        }
    }
    while (pos < len) {
        size_t e = pos;
        while (buf[e] != '\n') e++; /* every line ends in '\n' now */
        lineno++;
        char key[17];
        if (e > pos) {
            if (line_key(buf + pos, e - pos, json, key)) {
                lrq_err_set("%s:%d: not a sweep row (no key%s)", path, lineno,
                            json ? ": lines start with {\"key\":\"" : " in the first field");
                goto fail;
            }
            if (rows_add_key(r, key)) goto fail;
        }
        pos = e + 1;
    }
    free(buf);
    *out = r;
    return 0;
fail:
    free(buf);
    lrq_rows_close(r);
    return -1;
}

int lrq_rows_has(const lrq_rows *r, const char *key) {
    for (size_t i = 0; i < r->n; i++)
        if (!strcmp(r->keys[i], key)) return 1;
    return 0;
}

size_t lrq_rows_count(const lrq_rows *r) { return r->n; }

int lrq_rows_append(lrq_rows *r, const char *key, const char *line) {
    size_t n = strlen(line);
    if (!key || strlen(key) != 16) return lrq_err_set("%s: a row key is 16 hex digits", r->path);
    if (n == 0 || line[n - 1] != '\n' || memchr(line, '\n', n - 1))
        return lrq_err_set("%s: a row is one line ending in a newline", r->path);
    if (lrq_rows_has(r, key)) return lrq_err_set("%s: row %s is already in the file", r->path, key);
    if (write_all(r->fd, line, n) || fsync(r->fd))
        return lrq_err_set("%s: cannot append a row: %s", r->path, strerror(errno));
    return rows_add_key(r, key);
}

void lrq_rows_close(lrq_rows *r) {
    if (!r) return;
    if (r->fd >= 0) close(r->fd); /* releases the lock */
    free(r->path);
    free(r->keys);
    free(r);
}

/* ---- tables ---- */

struct lrq_table {
    size_t n_cols, n_rows, cap_rows;
    char **head;   /* [n_cols] */
    char **cell;   /* [n_rows * n_cols] */
};

void lrq_table_free(lrq_table *t) {
    if (!t) return;
    for (size_t i = 0; i < t->n_cols; i++) free(t->head[i]);
    for (size_t i = 0; i < t->n_rows * t->n_cols; i++) free(t->cell[i]);
    free(t->head);
    free(t->cell);
    free(t);
}

size_t lrq_table_rows(const lrq_table *t) { return t->n_rows; }

int lrq_table_col(const lrq_table *t, const char *name) {
    for (size_t i = 0; i < t->n_cols; i++)
        if (!strcmp(t->head[i], name)) return (int)i;
    return -1;
}

const char *lrq_table_cell(const lrq_table *t, size_t i, int c) {
    if (i >= t->n_rows || c < 0 || (size_t)c >= t->n_cols) return "";
    const char *s = t->cell[i * t->n_cols + (size_t)c];
    return s ? s : "";
}

static char *dup_n(const char *s, size_t n) {
    char *d = lrq_malloc(n + 1);
    if (d) { memcpy(d, s, n); d[n] = 0; }
    return d;
}

static int table_add_row(lrq_table *t) {
    if (t->n_rows == t->cap_rows) {
        size_t cap = t->cap_rows ? 2 * t->cap_rows : 64, bytes;
        if (lrq_mul_size(cap, t->n_cols * sizeof(char *), &bytes)) return lrq_err_set("table too large");
        char **nc = lrq_realloc(t->cell, bytes);
        if (!nc) return -1;
        t->cell = nc;
        t->cap_rows = cap;
    }
    memset(t->cell + t->n_rows * t->n_cols, 0, t->n_cols * sizeof(char *));
    t->n_rows++;
    return 0;
}

/* Add a column (JSONL: a member first seen in a later row): every row so far gets "-". */
static int table_add_col(lrq_table *t, const char *name) {
    size_t nc = t->n_cols + 1;
    char **nh = lrq_realloc(t->head, nc * sizeof *nh);
    if (!nh) return -1;
    t->head = nh;
    if (!(nh[t->n_cols] = lrq_strdup(name))) return -1;
    size_t cap = t->cap_rows ? t->cap_rows : 1, bytes;
    if (lrq_mul_size(cap, nc * sizeof(char *), &bytes)) return lrq_err_set("table too large");
    char **cells = lrq_calloc(1, bytes);
    if (!cells) { free(nh[t->n_cols]); return -1; }
    for (size_t i = 0; i < t->n_rows; i++) {
        for (size_t c = 0; c < t->n_cols; c++) cells[i * nc + c] = t->cell[i * t->n_cols + c];
        cells[i * nc + t->n_cols] = lrq_strdup("-");
    }
    free(t->cell);
    t->cell = cells;
    t->cap_rows = cap;
    t->n_cols = nc;
    return 0;
}

static int table_tsv(lrq_table *t, const char *buf, size_t len, const char *path) {
    size_t pos = 0;
    int lineno = 0;
    while (pos < len) {
        size_t e = pos;
        while (e < len && buf[e] != '\n') e++;
        size_t le = e;
        if (le > pos && buf[le - 1] == '\r') le--;
        lineno++;
        size_t nf = 1;
        for (size_t i = pos; i < le; i++) nf += buf[i] == '\t';
        if (le == pos) { pos = e + 1; continue; } /* blank lines */
        int is_head = t->n_cols == 0;
        if (is_head) {
            if (!(t->head = lrq_calloc(nf, sizeof *t->head))) return -1;
            t->n_cols = nf;
        } else if (nf != t->n_cols) {
            return lrq_err_set("%s:%d: %zu fields, the header has %zu", path, lineno, nf, t->n_cols);
        } else if (table_add_row(t)) {
            return -1;
        }
        char **dst = is_head ? t->head : t->cell + (t->n_rows - 1) * t->n_cols;
        size_t f = 0, s = pos;
        for (size_t i = pos; i <= le; i++) {
            if (i == le || buf[i] == '\t') {
                if (!(dst[f++] = dup_n(buf + s, i - s))) return -1;
                s = i + 1;
            }
        }
        pos = e + 1;
    }
    if (!t->n_cols) return lrq_err_set("%s: empty table (no header line)", path);
    return 0;
}

static int table_jsonl(lrq_table *t, const char *buf, size_t len, const char *path) {
    size_t pos = 0;
    int lineno = 0;
    char name[600];
    while (pos < len) {
        size_t e = pos;
        while (e < len && buf[e] != '\n') e++;
        lineno++;
        size_t s = pos;
        pos = e + 1;
        while (s < e && (buf[s] == ' ' || buf[s] == '\t' || buf[s] == '\r')) s++;
        if (s == e) continue;
        snprintf(name, sizeof name, "%s:%d", path, lineno);
        lrq_json_doc *doc;
        if (lrq_json_parse(&doc, buf + s, e - s, name)) return -1;
        const lrq_json *o = lrq_json_root(doc);
        if (lrq_json_type(o) != LRQ_JSON_OBJECT) {
            lrq_json_free(doc);
            return lrq_err_set("%s: not a JSON object", name);
        }
        int rc = table_add_row(t);
        for (size_t m = 0; !rc && m < lrq_json_len(o); m++) {
            const char *k = lrq_json_key_at(o, m, NULL);
            int c = lrq_table_col(t, k);
            if (c < 0) {
                if ((rc = table_add_col(t, k))) break;
                c = (int)t->n_cols - 1;
            }
            const lrq_json *v = lrq_json_at(o, m);
            char num[64], **cell = &t->cell[(t->n_rows - 1) * t->n_cols + (size_t)c];
            const char *val = "-";
            switch (lrq_json_type(v)) {
            case LRQ_JSON_STRING: val = lrq_json_str(v, NULL); break;
            case LRQ_JSON_NUMBER: snprintf(num, sizeof num, "%.10g", lrq_json_num(v)); val = num; break;
            case LRQ_JSON_TRUE: val = "true"; break;
            case LRQ_JSON_FALSE: val = "false"; break;
            case LRQ_JSON_NULL: break;
            default: rc = lrq_err_set("%s: member '%s' is not a string, number or null", name, k); break;
            }
            if (!rc) {
                free(*cell);
                if (!(*cell = lrq_strdup(val))) rc = -1;
            }
        }
        lrq_json_free(doc);
        if (rc) return -1;
        for (size_t c = 0; c < t->n_cols; c++) {
            char **cell = &t->cell[(t->n_rows - 1) * t->n_cols + c];
            if (!*cell && !(*cell = lrq_strdup("-"))) return -1;
        }
    }
    return 0;
}

int lrq_table_load(lrq_table **out, const char *path) {
    *out = NULL;
    char *buf;
    size_t len;
    FILE *f = fopen(path, "rb");
    if (!f) return lrq_err_set("%s: cannot open: %s", path, strerror(errno));
    sbuf b = { 0 };
    char tmp[65536];
    size_t got;
    while ((got = fread(tmp, 1, sizeof tmp, f)) > 0) sb_put(&b, tmp, got);
    int rerr = ferror(f);
    fclose(f);
    if (rerr) { free(b.s); return lrq_err_set("%s: read error", path); }
    len = b.n;
    if (!(buf = sb_take(&b))) return -1;
    lrq_table *t = lrq_calloc(1, sizeof *t);
    if (!t) { free(buf); return -1; }
    size_t pl = strlen(path);
    int json = (pl > 6 && !strcmp(path + pl - 6, ".jsonl")) || (len && buf[0] == '{');
    int rc = json ? table_jsonl(t, buf, len, path) : table_tsv(t, buf, len, path);
    free(buf);
    if (rc) { lrq_table_free(t); return -1; }
    *out = t;
    return 0;
}

/* ---- Pareto front ---- */

/* order of points i, j: by x, then y, then index */
static int pf_less(const double *x, const double *y, size_t i, size_t j) {
    if (x[i] != x[j]) return x[i] < x[j];
    if (y[i] != y[j]) return y[i] < y[j];
    return i < j;
}

size_t lrq_pareto_front(const double *x, const double *y, size_t n, size_t *idx) {
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i]) && isfinite(y[i])) idx[m++] = i;
    /* shell sort (in place, reentrant; gaps 1, 4, 13, 40, ...) */
    size_t gap = 1;
    while (gap < m / 3) gap = 3 * gap + 1;
    for (; gap > 0; gap /= 3)
        for (size_t i = gap; i < m; i++) {
            size_t v = idx[i], j = i;
            for (; j >= gap && pf_less(x, y, v, idx[j - gap]); j -= gap) idx[j] = idx[j - gap];
            idx[j] = v;
        }
    size_t k = 0;
    for (size_t i = 0; i < m; i++) {
        /* sorted by x then y: a point is on the front when its y is below every y before it */
        if (k == 0 || y[idx[i]] < y[idx[k - 1]]) idx[k++] = idx[i];
    }
    return k;
}
