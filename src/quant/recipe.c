/* recipe.c — parsing and matching quantization recipes (recipe.h,
 * docs/recipes.md). A recipe is line-oriented text:
 *
 *   # comment (also after a statement)
 *   base Q4_K_M              the preset or type (once)
 *   pure                     every quantized tensor gets the base type (no mix)
 *   quantize-norms           rules may also change norms and the MoE router
 *   PATTERN TYPE             a rule (also "PATTERN = TYPE")
 *   method gptq              lq matrices by GPTQ, with a calibration pass
 *   calib-text FILE          ... on this text (relative: beside the recipe, else the cwd)
 *   calib-chunks N / calib-context N / gptq-damp F / gptq-block N / gptq-act-order / gptq-static-groups / gptq-importance /
 *   gptq-sequential
 */
#define _POSIX_C_SOURCE 200809L
#include "quant/recipe.h"

#include "core/core.h"
#include "core/path.h"
#include "fmt/types.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void lrq_recipe_init(lrq_recipe *r) {
    memset(r, 0, sizeof *r);
    r->pure = -1;
    r->quantize_norms = -1;
    r->method = LRQ_METHOD_RTN;
    r->calib_chunks = -1;
    r->gptq_damp = -1.0;
    r->gptq_act_order = -1;
    r->gptq_static_groups = -1;
    r->gptq_importance = -1;
    r->gptq_sequential = -1;
}

void lrq_recipe_free(lrq_recipe *r) {
    for (size_t i = 0; i < r->n_rules; i++) {
        lrq_recipe_rule *u = &r->rules[i];
        if (u->re) {
            regfree(u->re);
            free(u->re);
        }
        free(u->pattern);
        free(u->where);
    }
    free(r->rules);
    free(r->base);
    free(r->calib_text);
    free(r->gptq_where);
    lrq_recipe_init(r);
}

int lrq_recipe_type(const char *name) {
    if (!name || !name[0]) return -1;
    for (int t = 0; t < LRQ_TYPE_COUNT; t++) {
        const lrq_type_traits *tr = lrq_type_get(t);
        if (tr && tr->name && !strcasecmp(tr->name, name)) return t;
    }
    return -1;
}

int lrq_recipe_add_rule(lrq_recipe *r, const char *pattern, int type, const char *where) {
    size_t n = strlen(pattern);
    if (n == 0) return lrq_err_set("%s: empty pattern", where);
    lrq_recipe_rule u = { .type = type };
    if (n >= 2 && pattern[0] == '/' && pattern[n - 1] == '/') {
        u.is_regex = 1;
        char *body = lrq_malloc(n - 1);
        if (!body) return -1;
        memcpy(body, pattern + 1, n - 2);
        body[n - 2] = 0;
        regex_t *re = lrq_malloc(sizeof *re);
        if (!re) { free(body); return -1; }
        int rc = regcomp(re, body, REG_EXTENDED | REG_NOSUB);
        free(body);
        if (rc) {
            char msg[128];
            regerror(rc, re, msg, sizeof msg);
            free(re);
            return lrq_err_set("%s: bad regular expression %s: %s", where, pattern, msg);
        }
        u.re = re;
    } else if (pattern[0] == '/') {
        return lrq_err_set("%s: pattern %s starts with '/' but does not end with one (regexes are /.../)", where,
                           pattern);
    }
    u.pattern = lrq_strdup(pattern);
    u.where = lrq_strdup(where);
    if (!u.pattern || !u.where) goto oom;
    if (r->n_rules == r->cap_rules) {
        size_t cap = r->cap_rules ? 2 * r->cap_rules : 16;
        lrq_recipe_rule *nr = lrq_realloc(r->rules, cap * sizeof *nr);
        if (!nr) goto oom;
        r->rules = nr;
        r->cap_rules = cap;
    }
    r->rules[r->n_rules++] = u;
    return 0;
oom:
    if (u.re) { regfree(u.re); free(u.re); }
    free(u.pattern);
    free(u.where);
    return -1;
}

static int bad_type(const char *where, const char *name) {
    return lrq_err_set("%s: unknown tensor type '%s' (a ggml type such as q4_K, q8_0, f16, or lq:SPEC; presets like "
                       "Q4_K_M are only for 'base')", where, name);
}

int lrq_recipe_type_lq(const char *name, lrq_lq_spec *lq) {
    if (name && !strncmp(name, "lq:", 3)) {
        if (lrq_lq_spec_parse(name + 3, lq)) return -1;
        return lrq_type_lq(lq->bits);
    }
    return lrq_recipe_type(name);
}

/* A rule whose type is a ggml type name or lq:SPEC (the spec kept in the rule). */
static int add_typed_rule(lrq_recipe *r, const char *pattern, const char *tname, const char *where) {
    lrq_lq_spec lq;
    memset(&lq, 0, sizeof lq);
    int type = lrq_recipe_type_lq(tname, &lq);
    if (type < 0) {
        if (!strncmp(tname, "lq:", 3)) return lrq_err_prefix("%s", where);
        return bad_type(where, tname);
    }
    if (lrq_recipe_add_rule(r, pattern, type, where)) return -1;
    r->rules[r->n_rules - 1].lq = lq;
    return 0;
}

int lrq_recipe_add_rule_arg(lrq_recipe *r, const char *arg, const char *where) {
    const char *eq = strrchr(arg, '=');
    if (!eq || eq == arg || !eq[1]) return lrq_err_set("%s: '%s' is not PATTERN=TYPE", where, arg);
    size_t n = (size_t)(eq - arg);
    char *pat = lrq_malloc(n + 1);
    if (!pat) return -1;
    memcpy(pat, arg, n);
    pat[n] = 0;
    int rc = add_typed_rule(r, pat, eq + 1, where);
    free(pat);
    return rc;
}

lrq_recipe_rule *lrq_recipe_match(const lrq_recipe *r, const char *name) {
    for (size_t i = 0; i < r->n_rules; i++) {
        lrq_recipe_rule *u = &r->rules[i];
        int hit = u->is_regex ? regexec(u->re, name, 0, NULL, 0) == 0 : fnmatch(u->pattern, name, 0) == 0;
        if (hit) return u;
    }
    return NULL;
}

/* Split a line into at most 4 whitespace-separated words (a lone '=' is a
 * word of its own; "PAT=TYPE" stays one word and is split by the caller). */
static int words(char *s, char **w, int max) {
    int n = 0;
    while (*s) {
        while (*s == ' ' || *s == '\t' || *s == '\r') s++;
        if (!*s) break;
        if (n == max) return max + 1;
        w[n++] = s;
        while (*s && *s != ' ' && *s != '\t' && *s != '\r') s++;
        if (*s) *s++ = 0;
    }
    return n;
}

static int parse_bool_opt(int *dst, char **w, int n, const char *where) {
    if (n == 1) { *dst = 1; return 0; }
    if (n == 2 && (!strcasecmp(w[1], "yes") || !strcasecmp(w[1], "on") || !strcmp(w[1], "1"))) { *dst = 1; return 0; }
    if (n == 2 && (!strcasecmp(w[1], "no") || !strcasecmp(w[1], "off") || !strcmp(w[1], "0"))) { *dst = 0; return 0; }
    return lrq_err_set("%s: '%s' takes no value or yes/no", where, w[0]);
}

/* A positive integer option value. */
static int parse_int_opt(int *dst, char **w, int n, const char *where) {
    char *end;
    errno = 0;
    long v = n == 2 ? strtol(w[1], &end, 10) : 0;
    if (n != 2 || errno || *end || v < 1 || v > 1000000)
        return lrq_err_set("%s: '%s' takes one integer from 1 to 1000000", where, w[0]);
    *dst = (int)v;
    return 0;
}

/* The calibration text of a recipe at `path`: an absolute path as given; a
 * relative one beside the recipe if it is there, else from the current
 * directory. A file in neither place is an error naming both. */
static int resolve_text(lrq_recipe *r, const char *name, const char *path, const char *where) {
    if (r->calib_text) return lrq_err_set("%s: 'calib-text' is given twice", where);
    if (name[0] == '/') {
        if (!lrq_path_is_file(name)) return lrq_err_set("%s: calibration text '%s' not found", where, name);
        return (r->calib_text = lrq_strdup(name)) ? 0 : -1;
    }
    const char *slash = strrchr(path, '/');
    char *beside = NULL;
    if (slash) {
        size_t nd = (size_t)(slash - path);
        char *dir = lrq_malloc(nd + 2);
        if (!dir) return -1;
        memcpy(dir, path, nd ? nd : 1); /* "/x.recipe": the root */
        dir[nd ? nd : 1] = 0;
        beside = lrq_path_join(dir, name);
        free(dir);
        if (!beside) return -1;
    } else if (!(beside = lrq_strdup(name))) {
        return -1;
    }
    if (lrq_path_is_file(beside)) {
        r->calib_text = beside;
        return 0;
    }
    if (lrq_path_is_file(name)) {
        free(beside);
        return (r->calib_text = lrq_strdup(name)) ? 0 : -1;
    }
    lrq_err_set("%s: calibration text '%s' not found (neither %s beside the recipe nor in the current directory)",
                where, name, beside);
    free(beside);
    return -1;
}

/* The calibration and GPTQ statements; 1 if w[0] is none of them. */
static int parse_gptq_opt(lrq_recipe *r, char **w, int nw, const char *path, const char *where) {
    int rc;
    if (!strcmp(w[0], "method")) {
        if (nw == 2 && !strcasecmp(w[1], "gptq")) r->method = LRQ_METHOD_GPTQ;
        else if (nw == 2 && !strcasecmp(w[1], "rtn")) r->method = LRQ_METHOD_RTN;
        else return lrq_err_set("%s: 'method' takes gptq or rtn", where);
        rc = 0;
    } else if (!strcmp(w[0], "calib-text")) {
        if (nw != 2) return lrq_err_set("%s: 'calib-text' takes one file name (no spaces)", where);
        rc = resolve_text(r, w[1], path, where);
    } else if (!strcmp(w[0], "calib-chunks")) {
        rc = parse_int_opt(&r->calib_chunks, w, nw, where);
    } else if (!strcmp(w[0], "calib-context")) {
        rc = parse_int_opt(&r->calib_ctx, w, nw, where);
    } else if (!strcmp(w[0], "gptq-block")) {
        rc = parse_int_opt(&r->gptq_block, w, nw, where);
    } else if (!strcmp(w[0], "gptq-damp")) {
        char *end;
        errno = 0;
        double v = nw == 2 ? strtod(w[1], &end) : -1.0;
        if (nw != 2 || errno || *end || !(v >= 0.0 && v <= 1.0))
            return lrq_err_set("%s: 'gptq-damp' takes one fraction of the mean Hessian diagonal in [0, 1]", where);
        r->gptq_damp = v;
        rc = 0;
    } else if (!strcmp(w[0], "gptq-act-order")) {
        rc = parse_bool_opt(&r->gptq_act_order, w, nw, where);
    } else if (!strcmp(w[0], "gptq-static-groups")) {
        rc = parse_bool_opt(&r->gptq_static_groups, w, nw, where);
    } else if (!strcmp(w[0], "gptq-importance")) {
        rc = parse_bool_opt(&r->gptq_importance, w, nw, where);
    } else if (!strcmp(w[0], "gptq-sequential")) {
        rc = parse_bool_opt(&r->gptq_sequential, w, nw, where);
    } else {
        return 1;
    }
    if (!rc && !r->gptq_where && !(r->gptq_where = lrq_strdup(where))) rc = -1;
    return rc;
}

int lrq_recipe_parse(lrq_recipe *r, const char *text, size_t len, const char *path) {
    size_t pos = 0;
    int lineno = 0;
    char where[512];
    char *line = NULL;
    int rc = 0;
    while (pos < len && !rc) {
        size_t e = pos;
        while (e < len && text[e] != '\n') e++;
        lineno++;
        size_t n = e - pos;
        free(line);
        line = lrq_malloc(n + 1);
        if (!line) return -1;
        memcpy(line, text + pos, n);
        line[n] = 0;
        pos = e < len ? e + 1 : e;
        snprintf(where, sizeof where, "%s:%d", path, lineno);
        if (memchr(line, 0, n)) { rc = lrq_err_set("%s: NUL byte in the line", where); break; }
        char *hash = strchr(line, '#');
        if (hash) *hash = 0;
        char *w[5];
        int nw = words(line, w, 4);
        if (nw == 0) continue;
        if (nw > 4) { rc = lrq_err_set("%s: too many words (a rule is PATTERN TYPE)", where); break; }
        if (!strcmp(w[0], "base") || !strcmp(w[0], "type")) {
            if (nw != 2) { rc = lrq_err_set("%s: '%s' takes one preset or type name", where, w[0]); break; }
            if (r->base) { rc = lrq_err_set("%s: the base type is given twice", where); break; }
            if (!(r->base = lrq_strdup(w[1]))) rc = -1;
        } else if (!strcmp(w[0], "pure")) {
            rc = parse_bool_opt(&r->pure, w, nw, where);
        } else if (!strcmp(w[0], "quantize-norms")) {
            rc = parse_bool_opt(&r->quantize_norms, w, nw, where);
        } else if ((rc = parse_gptq_opt(r, w, nw, path, where)) != 1) {
            /* a calibration or GPTQ statement (rc 0 or -1) */
        } else if (nw == 3 && !strcmp(w[1], "=")) {
            rc = add_typed_rule(r, w[0], w[2], where);
        } else if (nw == 2) {
            rc = add_typed_rule(r, w[0], w[1], where);
        } else if (nw == 1 && strchr(w[0], '=')) {
            rc = lrq_recipe_add_rule_arg(r, w[0], where);
        } else {
            rc = lrq_err_set("%s: cannot read '%s' (expected 'base TYPE', 'pure', 'quantize-norms', 'method', "
                             "'calib-*', 'gptq-*' or 'PATTERN TYPE')", where, w[0]);
        }
    }
    free(line);
    return rc;
}

int lrq_recipe_load(lrq_recipe *r, const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return lrq_err_set("%s: cannot open recipe: %s", path, strerror(errno));
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = 0;
    for (;;) {
        if (cap - len < 4096) {
            if (cap > ((size_t)64 << 20)) { rc = lrq_err_set("%s: recipe larger than 64 MiB", path); break; }
            size_t nc = cap ? cap * 2 : 8192;
            char *nb = lrq_realloc(buf, nc);
            if (!nb) { rc = -1; break; }
            buf = nb;
            cap = nc;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f)) rc = lrq_err_set("%s: read error: %s", path, strerror(errno));
            break;
        }
    }
    fclose(f);
    if (!rc) rc = lrq_recipe_parse(r, buf ? buf : "", len, path);
    free(buf);
    return rc;
}
