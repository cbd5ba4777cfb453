/* lq_spec.c — parser, validator and canonical printer of lq specs, and the
 * byte count of an lq tensor (grammar and layout: fmt/lq_spec.h,
 * docs/formats.md). */
#include "fmt/lq_spec.h"
#include "fmt/planes.h"
#include "core/core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

lrq_lq_spec lrq_lq_spec_default(int bits, int32_t group) {
    lrq_lq_spec s;
    memset(&s, 0, sizeof s);
    s.bits = bits;
    s.group = group;
    s.pstore = LRQ_LQ_P_F16;
    s.pbits = 8;
    s.psuper = 16;
    s.round = LRQ_LQ_ROUND_NEAREST;
    s.clip = LRQ_LQ_CLIP_FIXED;
    s.clip_ratio = 1.0f;
    s.cb = LRQ_LQ_CB_NONE;
    return s;
}

int lrq_lq_spec_check(const lrq_lq_spec *s) {
    if (!lrq_planes_bits_ok(s->bits)) return lrq_err_set("lq spec: %d bits (must be 2, 3, 4, 5, 6 or 8)", s->bits);
    if (s->group != 0 && (s->group < 16 || s->group > 256))
        return lrq_err_set("lq spec: group %d outside 16..256 (or 0 = per row)", (int)s->group);
    if (s->asym != 0 && s->asym != 1) return lrq_err_set("lq spec: asym must be 0 or 1");
    if (s->pstore < LRQ_LQ_P_F16 || s->pstore > LRQ_LQ_P_Q) return lrq_err_set("lq spec: bad parameter storage");
    if (s->pstore == LRQ_LQ_P_Q && (s->pbits < 4 || s->pbits > 8))
        return lrq_err_set("lq spec: scale codes of %d bits (must be 4..8)", s->pbits);
    if (s->pstore == LRQ_LQ_P_Q && (s->psuper < 1 || s->psuper > 4096))
        return lrq_err_set("lq spec: super-block of %d groups (must be 1..4096)", (int)s->psuper);
    if (!(s->offset >= 0.0f && s->offset < 1.0f)) return lrq_err_set("lq spec: offset %g outside [0, 1)", (double)s->offset);
    if (s->offset_group && s->offset != 0.0f) return lrq_err_set("lq spec: per-group offsets exclude a tensor offset");
    if (s->round < LRQ_LQ_ROUND_NEAREST || s->round > LRQ_LQ_ROUND_NOISE) return lrq_err_set("lq spec: bad rounding");
    if (!(s->noise >= 0.0f && s->noise <= 16.0f)) return lrq_err_set("lq spec: noise %g outside [0, 16]", (double)s->noise);
    if (s->clip != LRQ_LQ_CLIP_FIXED && s->clip != LRQ_LQ_CLIP_SEARCH) return lrq_err_set("lq spec: bad clipping");
    if (s->clip == LRQ_LQ_CLIP_FIXED && !(s->clip_ratio > 0.0f && s->clip_ratio <= 1.0f))
        return lrq_err_set("lq spec: clip ratio %g outside (0, 1]", (double)s->clip_ratio);
    if (s->cb < LRQ_LQ_CB_NONE || s->cb > LRQ_LQ_CB_ROW) return lrq_err_set("lq spec: bad codebook mode");
    if (s->cb && (s->cb_iters < 0 || s->cb_iters > 1000))
        return lrq_err_set("lq spec: %d k-means iterations (must be 0..1000)", s->cb_iters);
    return 0;
}

/* A number at *p (digits and at most one '.'), advancing *p. */
static int read_num(const char **p, double *v) {
    char buf[32];
    size_t n = 0;
    int dots = 0;
    while (((**p >= '0' && **p <= '9') || **p == '.') && n + 1 < sizeof buf) {
        if (**p == '.' && ++dots > 1) break;
        buf[n++] = *(*p)++;
    }
    buf[n] = 0;
    if (n == 0 || (n == 1 && buf[0] == '.')) return -1;
    *v = strtod(buf, NULL);
    return 0;
}

static int read_int(const char **p, long *v) {
    const char *s = *p;
    long x = 0;
    int n = 0;
    while (*s >= '0' && *s <= '9' && n < 9) x = x * 10 + (*s++ - '0'), n++;
    if (n == 0 || (*s >= '0' && *s <= '9')) return -1;
    *p = s;
    *v = x;
    return 0;
}

int lrq_lq_spec_parse(const char *text, lrq_lq_spec *out) {
    lrq_lq_spec s = lrq_lq_spec_default(0, -1);
    unsigned seen = 0;
    const char *p = text;
    while (*p) {
        const char *tok = p;
        const char c = *p++;
        const char *kinds = "bgsaporck", *k = strchr(kinds, c);
        if (!k) return lrq_err_set("lq spec '%s': unexpected '%c' at %d", text, c, (int)(tok - text));
        unsigned bit = 1u << (c == 'a' ? 2 : (int)(k - kinds)); /* s and a are one kind */
        if (seen & bit) return lrq_err_set("lq spec '%s': '%c' given twice", text, c);
        seen |= bit;
        long iv = 0;
        double dv = 0;
        int bad = 0;
        switch (c) {
        case 'b': bad = read_int(&p, &iv); s.bits = (int)iv; break;
        case 'g':
            if (*p == 'r') p++, s.group = 0;
            else bad = read_int(&p, &iv) || iv < 16, s.group = (int32_t)iv;
            break;
        case 's': s.asym = 0; break;
        case 'a': s.asym = 1; break;
        case 'p':
            if (strncmp(p, "16", 2) == 0) p += 2, s.pstore = LRQ_LQ_P_F16;
            else if (strncmp(p, "b16", 3) == 0) p += 3, s.pstore = LRQ_LQ_P_BF16;
            else if (*p == 'q') {
                p++;
                s.pstore = LRQ_LQ_P_Q;
                bad = read_int(&p, &iv);
                s.pbits = (int)iv;
                if (!bad && *p == 'x') {
                    p++;
                    bad = read_int(&p, &iv);
                    s.psuper = (int32_t)iv;
                }
            } else bad = 1;
            break;
        case 'o':
            if (*p == 'g') p++, s.offset_group = 1;
            else bad = read_num(&p, &dv), s.offset = (float)dv;
            break;
        case 'r':
            if (*p == 'n') p++, s.round = LRQ_LQ_ROUND_NEAREST;
            else if (*p == 's') p++, s.round = LRQ_LQ_ROUND_STOCH;
            else if (*p == 'z') {
                p++;
                s.round = LRQ_LQ_ROUND_NOISE;
                bad = read_num(&p, &dv);
                s.noise = (float)dv;
            } else bad = 1;
            break;
        case 'c':
            if (*p == 's') p++, s.clip = LRQ_LQ_CLIP_SEARCH;
            else bad = read_num(&p, &dv), s.clip = LRQ_LQ_CLIP_FIXED, s.clip_ratio = (float)dv;
            break;
        case 'k':
            if (*p == 't') s.cb = LRQ_LQ_CB_TENSOR;
            else if (*p == 'r') s.cb = LRQ_LQ_CB_ROW;
            else { bad = 1; break; }
            p++;
            bad = read_int(&p, &iv);
            s.cb_iters = (int)iv;
            if (!bad && *p == 'u') p++, s.cb_uniform_init = 1;
            break;
        }
        if (bad)
            return lrq_err_set("lq spec '%s': bad token '%.*s' at %d", text, (int)(p - tok + (*p != 0)), tok,
                               (int)(tok - text));
    }
    if (!(seen & 1u)) return lrq_err_set("lq spec '%s': no code width (b<N>)", text);
    if (!(seen & 2u)) return lrq_err_set("lq spec '%s': no group (g<N> or gr)", text);
    if (lrq_lq_spec_check(&s) != 0) return lrq_err_prefix("lq spec '%s'", text);
    *out = s;
    return 0;
}

/* Shortest %g form that reads back as v. */
static void fmt_float(char *buf, size_t cap, float v) {
    snprintf(buf, cap, "%g", (double)v);
    if ((float)strtod(buf, NULL) != v) snprintf(buf, cap, "%.9g", (double)v);
}

int lrq_lq_spec_format(const lrq_lq_spec *s, char *buf, size_t cap) {
    if (lrq_lq_spec_check(s) != 0) return -1;
    char g[16], p[24], o[24], r[24], c[24], k[24], num[20];
    if (s->group) snprintf(g, sizeof g, "g%d", (int)s->group);
    else snprintf(g, sizeof g, "gr");
    if (s->pstore == LRQ_LQ_P_F16) snprintf(p, sizeof p, "p16");
    else if (s->pstore == LRQ_LQ_P_BF16) snprintf(p, sizeof p, "pb16");
    else snprintf(p, sizeof p, "pq%dx%d", s->pbits, (int)s->psuper);
    if (s->offset_group) snprintf(o, sizeof o, "og");
    else fmt_float(num, sizeof num, s->offset), snprintf(o, sizeof o, "o%s", num);
    if (s->round == LRQ_LQ_ROUND_NEAREST) snprintf(r, sizeof r, "rn");
    else if (s->round == LRQ_LQ_ROUND_STOCH) snprintf(r, sizeof r, "rs");
    else fmt_float(num, sizeof num, s->noise), snprintf(r, sizeof r, "rz%s", num);
    if (s->clip == LRQ_LQ_CLIP_SEARCH) snprintf(c, sizeof c, "cs");
    else fmt_float(num, sizeof num, s->clip_ratio), snprintf(c, sizeof c, "c%s", num);
    k[0] = 0;
    if (s->cb) snprintf(k, sizeof k, "k%c%d%s", s->cb == LRQ_LQ_CB_TENSOR ? 't' : 'r', s->cb_iters,
                        s->cb_uniform_init ? "u" : "");
    int n = snprintf(buf, cap, "b%d%s%s%s%s%s%s%s", s->bits, g, s->asym ? "a" : "s", p, o, r, c, k);
    if (n < 0 || (size_t)n >= cap) return lrq_err_set("lq spec: %zu bytes are too few for the text form", cap);
    return 0;
}

int lrq_lq_spec_group(const lrq_lq_spec *s, int64_t ne0, int32_t *group) {
    if (ne0 < 1 || ne0 % 8 != 0)
        return lrq_err_set("lq: row length %lld is not a positive multiple of 8", (long long)ne0);
    if (ne0 > INT32_MAX) return lrq_err_set("lq: row length %lld too large", (long long)ne0);
    const int32_t g = s->group ? s->group : (int32_t)ne0;
    if (ne0 % g != 0) return lrq_err_set("lq: group %d does not divide the row length %lld", (int)g, (long long)ne0);
    *group = g;
    return 0;
}

/* ceil(n * b / 8) with overflow check (n * b < 2^64 for the shapes allowed). */
static int packed(uint64_t n, unsigned b, uint64_t *out) {
    uint64_t nb;
    if (lrq_mul_u64(n, b, &nb) != 0) return -1;
    *out = nb / 8 + (nb % 8 != 0);
    return 0;
}

int lrq_lq_bytes(const lrq_lq_spec *s, int64_t ne0, int64_t ne1, uint64_t *bytes) {
    int32_t group = 1;
    if (lrq_lq_spec_check(s) != 0 || lrq_lq_spec_group(s, ne0, &group) != 0) return -1;
    if (ne1 < 1) return lrq_err_set("lq: %lld rows", (long long)ne1);
    uint64_t N, codes, t = 0, sc = 0, sd = 0;
    if (lrq_mul_u64((uint64_t)ne1, (uint64_t)(ne0 / group), &N) != 0 ||
        lrq_mul_u64((uint64_t)ne1, (uint64_t)ne0 / 8 * (uint64_t)s->bits, &codes) != 0)
        return lrq_err_set("lq: %lld x %lld overflows", (long long)ne1, (long long)ne0);
    t = codes;
    if (s->pstore == LRQ_LQ_P_Q) {
        if (packed(N, (unsigned)s->pbits, &sc) != 0) return lrq_err_set("lq: overflow");
        sd = 2 * ((N + (uint64_t)s->psuper - 1) / (uint64_t)s->psuper);
        t += sc + sd;
        if (s->asym) {
            uint64_t zc;
            if (packed(N, (unsigned)s->bits, &zc) != 0) return lrq_err_set("lq: overflow");
            t += zc;
        }
    } else {
        t += 2 * N * (s->asym ? 2 : 1);
    }
    if (s->offset_group) t += (2 * N + 7) / 8;
    if (s->cb) t += 4ull * (1ull << s->bits) * (s->cb == LRQ_LQ_CB_ROW ? (uint64_t)ne1 : 1);
    *bytes = t;
    return 0;
}
