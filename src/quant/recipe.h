/* recipe.h — quantization recipes: a base preset or type, options, and
 * per-tensor rules "PATTERN TYPE" (docs/recipes.md is the reference).
 *
 * Patterns: a glob matched against the whole tensor name (fnmatch: * ? [..]),
 * or "/REGEX/", a POSIX extended regular expression searched anywhere in the
 * name (as llama-quantize's --tensor-type does with its regexes). Rules are
 * tried in order; the FIRST match decides. Command-line rules are put before
 * the file's, so they win over it.
 */
#ifndef LRQ_QUANT_RECIPE_H
#define LRQ_QUANT_RECIPE_H

#include <stddef.h>

#include "fmt/lq_spec.h"

typedef struct lrq_recipe_rule {
    char *pattern;      /* as written (owned) */
    int is_regex;
    void *re;           /* compiled regex_t when is_regex (owned) */
    int type;           /* ggml type id, or an lq type id (lrq_type_lq) */
    lrq_lq_spec lq;     /* the lq spec when `type` is an lq type ("lq:SPEC" in the recipe) */
    char *where;        /* "FILE:LINE" or "--tensor-type" (owned), for messages */
    int used;           /* tensors it decided */
} lrq_recipe_rule;

enum lrq_recipe_method { LRQ_METHOD_RTN, LRQ_METHOD_GPTQ };

typedef struct lrq_recipe {
    char *base;             /* preset or type name (owned), NULL if not given */
    int pure;               /* -1 unset, 0/1: skip the preset's mix */
    int quantize_norms;     /* -1 unset, 0/1: rules may change norms and the router */
    /* How lq matrices are quantized (docs/recipes.md, "GPTQ"): */
    int method;             /* enum lrq_recipe_method; RTN (the lq quantizer alone) unless 'method gptq' */
    char *calib_text;       /* 'calib-text FILE', resolved (beside the recipe, else the cwd; owned), or NULL */
    int calib_chunks;       /* 'calib-chunks N': at most N chunks; -1 (default): all */
    int calib_ctx;          /* 'calib-context N': chunk length; 0 (default): 512 */
    double gptq_damp;       /* 'gptq-damp F'; < 0: unset (0.01) */
    int gptq_block;         /* 'gptq-block N'; 0: unset (128) */
    int gptq_act_order;     /* 'gptq-act-order'; -1 unset (no) */
    int gptq_static_groups; /* 'gptq-static-groups'; -1 unset (no) */
    int gptq_importance;    /* 'gptq-importance'; -1 unset (no) */
    int gptq_sequential;    /* 'gptq-sequential': layer l calibrated on quantized layers < l; -1 unset (no) */
    char *gptq_where;       /* "FILE:LINE" of the first calibration/GPTQ statement (owned), for messages */
    lrq_recipe_rule *rules;
    size_t n_rules, cap_rules;
} lrq_recipe;

void lrq_recipe_init(lrq_recipe *r);
void lrq_recipe_free(lrq_recipe *r);

/* Parse a recipe file into r (its rules appended after those already in r).
 * Errors name "FILE:LINE: ..." (unknown keyword, bad type, bad pattern,
 * base given twice). */
int lrq_recipe_load(lrq_recipe *r, const char *path);
/* Parse recipe text (path names it in errors). */
int lrq_recipe_parse(lrq_recipe *r, const char *text, size_t len, const char *path);

/* Append a rule from "PATTERN=TYPE" (the --tensor-type form; the last '='
 * splits, so a regex may contain '='). `where` names it in errors. */
int lrq_recipe_add_rule_arg(lrq_recipe *r, const char *arg, const char *where);
/* Append a rule; pattern is copied and compiled. */
int lrq_recipe_add_rule(lrq_recipe *r, const char *pattern, int type, const char *where);

/* The first rule matching `name`, or NULL. */
lrq_recipe_rule *lrq_recipe_match(const lrq_recipe *r, const char *name);

/* A rule's type from its name: a ggml type name (case-insensitive, e.g.
 * q4_K, Q8_0, f16), -1 if unknown. Preset names like Q4_K_M are not types. */
int lrq_recipe_type(const char *name);

/* A rule's type from its name: a ggml type name as lrq_recipe_type, or
 * "lq:SPEC" (fmt/lq_spec.h), whose spec goes to *lq and whose lq type id is
 * returned. -1 if unknown (with an error naming the spec for a bad lq one). */
int lrq_recipe_type_lq(const char *name, lrq_lq_spec *lq);

#endif
