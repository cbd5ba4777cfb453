/* lq_spec.c — parser, validator and canonical printer of lq specs, and the
 * byte count of an lq tensor (grammar and layout: fmt/lq_spec.h,
 * docs/formats.md). */
#include "fmt/lq_spec.h"
#include "fmt/planes.h"
#include "core/core.h"
#include "fmt/types.h"

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

int lrq_lq_view(const lrq_lq_spec *s, int32_t group, int64_t nrow, int32_t ng, const float *scale, const float *z,
                const uint8_t *og, const float *codebook, int64_t cb_rows, float *zero_buf, lrq_qparams *qp) {
    memset(qp, 0, sizeof *qp);
    if (!scale) return lrq_err_set("lq view: no scales");
    if (s->asym && !z) return lrq_err_set("lq view: asymmetric spec without zero points");
    if (s->offset_group && !og) return lrq_err_set("lq view: per-group offsets missing");
    if (s->cb && (!codebook || (cb_rows != 1 && cb_rows != nrow))) return lrq_err_set("lq view: bad codebook");
    qp->layout = LRQ_PARAMS_PLANES;
    qp->group = group;
    qp->n_sets = 1;
    qp->scale = scale;
    qp->codebook = s->cb ? codebook : NULL;
    qp->cb_rows = s->cb ? (int32_t)cb_rows : 0;
    const float half = (float)(1 << (s->bits - 1));
    if (!s->asym && !s->offset_group) {
        qp->offset = s->offset - half;
        return 0;
    }
    if (!zero_buf) return lrq_err_set("lq view: no buffer for the zero plane");
    const int64_t N = nrow * ng;
    for (int64_t i = 0; i < N; i++)
        zero_buf[i] = (s->asym ? z[i] : half) - (og ? 0.25f * (float)og[i] : 0.0f);
    qp->zero = zero_buf;
    qp->offset = s->offset_group ? 0.0f : s->offset;
    return 0;
}

int lrq_lq_key(const char *name, char *buf, size_t cap) {
    int n = snprintf(buf, cap, "lrq.lq.%s", name);
    if (n < 0 || (size_t)n >= cap) return lrq_err_set("lq: tensor name '%s' too long for its spec key", name);
    return 0;
}

static const char *const part_suffix[LRQ_LQ_N_PARTS] = {
    [LRQ_LQ_CODES] = "", [LRQ_LQ_S] = ".lq_s", [LRQ_LQ_SQ] = ".lq_sq", [LRQ_LQ_SD] = ".lq_sd",
    [LRQ_LQ_Z] = ".lq_z", [LRQ_LQ_ZQ] = ".lq_zq", [LRQ_LQ_OG] = ".lq_og", [LRQ_LQ_CB] = ".lq_cb",
};

int lrq_lq_companion(const char *name, size_t *base_len) {
    const char *dot = strrchr(name, '.');
    if (!dot || dot == name) return -1;
    for (int k = 1; k < LRQ_LQ_N_PARTS; k++)
        if (strcmp(dot, part_suffix[k]) == 0) {
            *base_len = (size_t)(dot - name);
            return k;
        }
    return -1;
}

static void part_set(lrq_lq_part *p, int kind, int type, int64_t ne0, int64_t ne1, uint64_t nbytes) {
    memset(p, 0, sizeof *p);
    p->kind = kind;
    p->suffix = part_suffix[kind];
    p->type = type;
    p->n_dims = ne1 ? 2 : 1;
    p->ne[0] = ne0;
    p->ne[1] = ne1 ? ne1 : 1;
    p->ne[2] = p->ne[3] = 1;
    p->nbytes = nbytes;
}

int lrq_lq_layout(const lrq_lq_spec *s, uint32_t n_dims, const int64_t *ne, lrq_lq_part *parts) {
    if (n_dims < 2 || n_dims > 4) return lrq_err_set("lq: %u dimensions (must be 2..4)", n_dims);
    int64_t rows = 1;
    for (uint32_t d = 1; d < n_dims; d++) {
        if (ne[d] < 1 || rows > INT64_MAX / ne[d]) return lrq_err_set("lq: bad dimension %lld", (long long)ne[d]);
        rows *= ne[d];
    }
    int32_t group = 1;
    uint64_t total;
    if (lrq_lq_bytes(s, ne[0], rows, &total) || lrq_lq_spec_group(s, ne[0], &group)) return -1;
    const uint64_t ng = (uint64_t)(ne[0] / group), N = ng * (uint64_t)rows; /* no overflow: lrq_lq_bytes checked */
    int n = 0;
    lrq_lq_part *p = &parts[n++];
    memset(p, 0, sizeof *p);
    p->kind = LRQ_LQ_CODES;
    p->suffix = part_suffix[LRQ_LQ_CODES];
    p->type = lrq_type_lq(s->bits);
    p->n_dims = n_dims;
    for (int d = 0; d < 4; d++) p->ne[d] = d < (int)n_dims ? ne[d] : 1;
    p->nbytes = (uint64_t)rows * (uint64_t)(ne[0] / 8) * (uint64_t)s->bits;
    const int ptype = s->pstore == LRQ_LQ_P_BF16 ? LRQ_TYPE_BF16 : LRQ_TYPE_F16;
    if (s->pstore == LRQ_LQ_P_Q) {
        const uint64_t sc = (N * (uint64_t)s->pbits + 7) / 8, ns = (N + (uint64_t)s->psuper - 1) / (uint64_t)s->psuper;
        part_set(&parts[n++], LRQ_LQ_SQ, LRQ_TYPE_I8, (int64_t)sc, 0, sc);
        part_set(&parts[n++], LRQ_LQ_SD, LRQ_TYPE_F16, (int64_t)ns, 0, 2 * ns);
        if (s->asym) {
            const uint64_t zc = (N * (uint64_t)s->bits + 7) / 8;
            part_set(&parts[n++], LRQ_LQ_ZQ, LRQ_TYPE_I8, (int64_t)zc, 0, zc);
        }
    } else {
        part_set(&parts[n++], LRQ_LQ_S, ptype, (int64_t)ng, rows, 2 * N);
        if (s->asym) part_set(&parts[n++], LRQ_LQ_Z, ptype, (int64_t)ng, rows, 2 * N);
    }
    if (s->offset_group) part_set(&parts[n++], LRQ_LQ_OG, LRQ_TYPE_I8, (int64_t)((2 * N + 7) / 8), 0, (2 * N + 7) / 8);
    if (s->cb) {
        const int64_t cr = s->cb == LRQ_LQ_CB_ROW ? rows : 1;
        part_set(&parts[n++], LRQ_LQ_CB, LRQ_TYPE_F32, (int64_t)1 << s->bits, cr,
                 4ull * (1ull << s->bits) * (uint64_t)cr);
    }
    uint64_t sum = 0;
    for (int i = 0; i < n; i++) sum += parts[i].nbytes;
    if (sum != total) return lrq_err_set("lq: layout of %llu bytes, lrq_lq_bytes %llu", (unsigned long long)sum,
                                         (unsigned long long)total);
    return n;
}

void lrq_lq_pack_bits(const uint8_t *v, uint64_t n, int bits, uint8_t *out) {
    memset(out, 0, (size_t)((n * (uint64_t)bits + 7) / 8));
    for (uint64_t i = 0; i < n; i++) {
        const uint64_t p = i * (uint64_t)bits;
        const unsigned sh = (unsigned)(p & 7), c = v[i] & ((1u << bits) - 1u);
        out[p >> 3] |= (uint8_t)(c << sh);
        if (sh + (unsigned)bits > 8) out[(p >> 3) + 1] |= (uint8_t)(c >> (8 - sh));
    }
}

void lrq_lq_unpack_bits(const uint8_t *in, uint64_t n, int bits, uint8_t *v) {
    for (uint64_t i = 0; i < n; i++) {
        const uint64_t p = i * (uint64_t)bits;
        const unsigned sh = (unsigned)(p & 7);
        unsigned c = (unsigned)in[p >> 3] >> sh;
        if (sh + (unsigned)bits > 8) c |= (unsigned)in[(p >> 3) + 1] << (8 - sh);
        v[i] = (uint8_t)(c & ((1u << bits) - 1u));
    }
}
