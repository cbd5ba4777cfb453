/* test_lq.c — lrq's own "lq" formats: the spec text form (parse, check,
 * canonical print), the byte count of a tensor, the lq type ids, and the
 * codebook (non-uniform grid) reference kernel. */
#include "testlib.h"
#include "core/core.h"
#include "fmt/lq_spec.h"
#include "fmt/planes.h"
#include "fmt/types.h"
#include "kern/planes.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void test_spec_parse(void) {
    lrq_lq_spec s;
    CHECK(lrq_lq_spec_parse("b4g32a", &s) == 0);
    CHECK(s.bits == 4 && s.group == 32 && s.asym == 1 && s.pstore == LRQ_LQ_P_F16 && s.offset == 0.0f &&
          s.round == LRQ_LQ_ROUND_NEAREST && s.clip == LRQ_LQ_CLIP_FIXED && s.clip_ratio == 1.0f && s.cb == 0);
    CHECK(lrq_lq_spec_parse("b2grspq6x8o0.5rscskr10u", &s) == 0);
    CHECK(s.bits == 2 && s.group == 0 && s.asym == 0 && s.pstore == LRQ_LQ_P_Q && s.pbits == 6 && s.psuper == 8 &&
          s.offset == 0.5f && s.round == LRQ_LQ_ROUND_STOCH && s.clip == LRQ_LQ_CLIP_SEARCH &&
          s.cb == LRQ_LQ_CB_ROW && s.cb_iters == 10 && s.cb_uniform_init == 1);
    CHECK(lrq_lq_spec_parse("g64b3ogrz0.25c0.9pb16kt0", &s) == 0); /* any order */
    CHECK(s.bits == 3 && s.group == 64 && s.offset_group && s.round == LRQ_LQ_ROUND_NOISE && s.noise == 0.25f &&
          s.clip_ratio == 0.9f && s.pstore == LRQ_LQ_P_BF16 && s.cb == LRQ_LQ_CB_TENSOR && !s.cb_uniform_init);

    /* canonical form: format(parse(x)) parses to the same spec and is a fixed point */
    const char *texts[] = {"b4g32a", "b2grspq6x8o0.5rscskr10u", "g64b3ogrz0.25c0.9pb16kt0", "b8g256", "b5g16pq4",
                           "b6g128ao0.125"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        char buf[64], buf2[64];
        lrq_lq_spec a, b;
        CHECKF(lrq_lq_spec_parse(texts[i], &a) == 0, "%s: %s", texts[i], lrq_err_get());
        CHECK(lrq_lq_spec_format(&a, buf, sizeof buf) == 0);
        CHECKF(lrq_lq_spec_parse(buf, &b) == 0 && memcmp(&a, &b, sizeof a) == 0, "%s -> %s", texts[i], buf);
        CHECK(lrq_lq_spec_format(&b, buf2, sizeof buf2) == 0 && strcmp(buf, buf2) == 0);
    }
    char tiny[8];
    CHECK(lrq_lq_spec_parse("b4g32", &s) == 0 && lrq_lq_spec_format(&s, tiny, sizeof tiny) == -1);

    /* errors name the problem; the output is untouched */
    const struct { const char *text, *msg; } bad[] = {
        {"g32", "no code width"},   {"b4", "no group"},      {"b7g32", "7 bits"},     {"b4g8", "bad token"},
        {"b4g512", "group 512"},    {"b4g32b4", "twice"},    {"b4g32sa", "twice"},    {"b4g32x", "unexpected"},
        {"b4g32o1", "offset"},      {"b4g32c0", "clip"},     {"b4g32pq9", "scale codes"},
        {"b4g32ogo0.5", "twice"},   {"b4g32kq3", "bad token"}, {"b4g32rz17", "noise"}, {"", "no code width"},
    };
    lrq_lq_spec keep = lrq_lq_spec_default(3, 16), before = keep;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECKF(lrq_lq_spec_parse(bad[i].text, &keep) == -1 && strstr(lrq_err_get(), bad[i].msg),
               "'%s': %s", bad[i].text, lrq_err_get());
        CHECK(memcmp(&keep, &before, sizeof keep) == 0);
    }
}

static void test_group_and_bytes(void) {
    lrq_lq_spec s;
    int32_t g = 0;
    CHECK(lrq_lq_spec_parse("b4g32", &s) == 0);
    CHECK(lrq_lq_spec_group(&s, 256, &g) == 0 && g == 32);
    CHECK(lrq_lq_spec_group(&s, 172, &g) == -1); /* not a multiple of 8 */
    CHECK(lrq_lq_spec_group(&s, 72, &g) == -1 && strstr(lrq_err_get(), "divide"));
    CHECK(lrq_lq_spec_parse("b3gr", &s) == 0 && lrq_lq_spec_group(&s, 72, &g) == 0 && g == 72);

    /* bytes by hand, [ne1 = 10][ne0 = 256] */
    uint64_t b = 0;
    CHECK(lrq_lq_spec_parse("b4g32", &s) == 0 && lrq_lq_bytes(&s, 256, 10, &b) == 0);
    CHECK(b == 10 * 128 + 2 * 80); /* codes + F16 scales */
    CHECK(lrq_lq_spec_parse("b3g64a", &s) == 0 && lrq_lq_bytes(&s, 256, 10, &b) == 0);
    CHECK(b == 10 * 96 + 2 * 40 * 2); /* + F16 zero points */
    /* 6-bit scale codes of 40 groups = 30 bytes; 3 super-blocks of 16 = 6 bytes; 2-bit zeros 10 bytes;
     * per-group offsets 2 bits = 10 bytes */
    CHECK(lrq_lq_spec_parse("b2g64apq6og", &s) == 0 && lrq_lq_bytes(&s, 256, 10, &b) == 0);
    CHECK(b == 10 * 64 + 30 + 6 + 10 + 10);
    CHECK(lrq_lq_spec_parse("b5grkr3", &s) == 0 && lrq_lq_bytes(&s, 256, 10, &b) == 0);
    CHECK(b == 10 * 160 + 2 * 10 + 4 * 32 * 10); /* per-row codebooks of 32 F32 */
    CHECK(lrq_lq_bytes(&s, 256, 0, &b) == -1);
}

static void test_types(void) {
    const int bits[6] = {2, 3, 4, 5, 6, 8};
    for (int i = 0; i < 6; i++) {
        const int t = lrq_type_lq(bits[i]);
        CHECK(t >= LRQ_TYPE_LRQ_FIRST && t <= LRQ_TYPE_LRQ_LAST && lrq_type_lq_bits(t) == bits[i]);
        const lrq_type_traits *tt = lrq_type_get(t);
        CHECK(tt && tt->param_layout == LRQ_PARAMS_PLANES && tt->vec_dot_type == LRQ_TYPE_F32);
        CHECK(lrq_type_supported(t));
        char want[8];
        snprintf(want, sizeof want, "lq%d", bits[i]);
        CHECK(strcmp(lrq_type_name(t), want) == 0);
        size_t rs = 0, pb = 0;
        CHECK(lrq_row_size(t, 200, &rs) == 0 && lrq_planes_row_bytes(bits[i], 200, &pb) == 0 && rs == pb);
        CHECK(lrq_row_size(t, 201, &rs) != 0);
    }
    CHECK(lrq_type_lq(7) == -1 && lrq_type_lq(1) == -1 && lrq_type_lq_bits(LRQ_TYPE_LQ_BASE + 7) == 0);
    CHECK(lrq_type_get(LRQ_TYPE_LQ_BASE + 7) == NULL && lrq_type_lq_bits(LRQ_TYPE_Q4_0) == 0);
}

/* The codebook kernel: with cb[q] = q it is the uniform reference bit for
 * bit; with a random codebook it matches a double-precision dot; matvec
 * routes codebook views to it (per tensor and per row). */
static void test_codebook_kernel(void) {
    uint64_t st = 99;
    const int bits[6] = {2, 3, 4, 5, 6, 8};
    for (int bi = 0; bi < 6; bi++) {
        const int b = bits[bi], nq = 1 << b;
        const int64_t n = 96, ne1 = 3;
        const int32_t group = 32;
        size_t rb;
        lrq_planes_row_bytes(b, n, &rb);
        uint8_t *codes = calloc((size_t)ne1, rb), q[96];
        float x[96], scale[3 * 3], zero[3 * 3], cbu[256], cbr[3 * 256];
        for (int i = 0; i < nq; i++) cbu[i] = (float)i;
        for (int i = 0; i < 3 * nq; i++) cbr[i] = 3.0f * test_rand_f32(&st);
        for (int i = 0; i < 9; i++) scale[i] = 0.1f + 0.05f * test_rand_f32(&st), zero[i] = 2.0f * test_rand_f32(&st);
        for (int64_t j = 0; j < n; j++) x[j] = test_rand_f32(&st);
        for (int64_t r = 0; r < ne1; r++) {
            for (int64_t j = 0; j < n; j++) q[j] = (uint8_t)(test_rand_u64(&st) & (uint64_t)(nq - 1));
            lrq_planes_pack_row(b, n, q, codes + (size_t)r * rb);
        }
        const float u = lrq_planes_dot_cb(b, n, codes, cbu, scale, zero, 0.25f, group, x);
        const float v = lrq_planes_ref()->dot(b, n, codes, scale, zero, 0.25f, group, x);
        CHECKF(u == v, "b=%d: uniform codebook %.9g vs reference %.9g", b, (double)u, (double)v);
        /* per-row codebooks through matvec, against a double dot */
        lrq_qparams qp = {.layout = LRQ_PARAMS_PLANES, .group = group, .n_sets = 1, .scale = scale, .zero = zero,
                          .offset = 0.5f, .codebook = cbr, .cb_rows = (int32_t)ne1};
        float y[3] = {0};
        CHECK(lrq_planes_matvec(NULL, b, n, ne1, codes, &qp, x, 0, ne1, y) == 0);
        for (int64_t r = 0; r < ne1; r++) {
            double want = 0, mag = 0;
            const uint8_t *row = codes + (size_t)r * rb;
            for (int64_t j = 0; j < n; j++) {
                const int64_t g = j / group;
                const double w = (double)scale[r * 3 + g] *
                                 ((double)cbr[r * nq + lrq_planes_code(row, b, j)] - zero[r * 3 + g] + 0.5);
                want += w * x[j];
                mag += fabs(w * x[j]);
            }
            CHECKF(fabs(y[r] - want) <= 1e-5 * mag + 1e-7, "b=%d row %lld: %.9g vs %.9g", b, (long long)r,
                   (double)y[r], want);
        }
        /* K forms with a codebook view = separate matvecs */
        lrq_qparams two[2] = {qp, qp};
        two[1].codebook = cbu;
        two[1].cb_rows = 1;
        float y0[3], y1[3], *ys[2] = {y0, y1};
        CHECK(lrq_planes_matvec_k(NULL, b, n, ne1, codes, 2, two, x, 0, ne1, ys) == 0);
        float z1[3];
        CHECK(lrq_planes_matvec(NULL, b, n, ne1, codes, &two[1], x, 0, ne1, z1) == 0);
        CHECK(memcmp(y0, y, sizeof y) == 0 && memcmp(y1, z1, sizeof z1) == 0);
        qp.cb_rows = 2;
        CHECK(lrq_planes_matvec(NULL, b, n, ne1, codes, &qp, x, 0, ne1, y) == -1 && strstr(lrq_err_get(), "codebooks"));
        free(codes);
    }
}

/* The bit streams of the companions: round trip for every width 1..8, and
 * for the code widths the same bytes as the planes packer (one layout). */
static void test_bit_streams(void) {
    uint64_t st = 3;
    uint8_t v[203], w[203], a[256], b[256];
    for (int bits = 1; bits <= 8; bits++) {
        for (int i = 0; i < 203; i++) v[i] = (uint8_t)(test_rand_u64(&st) & ((1u << bits) - 1u));
        memset(a, 0xAA, sizeof a);
        lrq_lq_pack_bits(v, 203, bits, a);
        const size_t nb = (203 * (size_t)bits + 7) / 8;
        CHECK(a[nb] == 0xAA); /* nothing written past the stream */
        lrq_lq_unpack_bits(a, 203, bits, w);
        CHECKF(memcmp(v, w, 203) == 0, "%d bits", bits);
        if (lrq_planes_bits_ok(bits)) {
            CHECK(lrq_planes_pack_row(bits, 203, v, b) == 0);
            CHECKF(memcmp(a, b, nb) == 0, "%d bits: differs from lrq_planes_pack_row", bits);
        }
    }
}

/* The layout's parts add up to lrq_lq_bytes for every kind of spec, with
 * the companions the spec implies; companion names are recognised. */
static void test_layout(void) {
    const char *specs[] = {"b4g32", "b4g32a", "b3g64apq6x8og", "b2grkr3u", "b4g32apb16kt4", "b8g128pq4",
                           "b5g16ogkt0u", "b6g256apq8x4096"};
    const int64_t shapes[][2] = {{256, 768}, {768, 256}, {256, 3}, {4096, 17}};
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        lrq_lq_spec s;
        CHECK(lrq_lq_spec_parse(specs[i], &s) == 0);
        for (size_t k = 0; k < 4; k++) {
            const int64_t ne[4] = {shapes[k][0], shapes[k][1], 1, 1};
            lrq_lq_part parts[LRQ_LQ_N_PARTS];
            uint64_t want, sum = 0;
            const int np = lrq_lq_layout(&s, 2, ne, parts);
            CHECKF(np >= 2 && lrq_lq_bytes(&s, ne[0], ne[1], &want) == 0, "%s: %s", specs[i], lrq_err_get());
            unsigned kinds = 0;
            for (int j = 0; j < np; j++) {
                sum += parts[j].nbytes;
                kinds |= 1u << parts[j].kind;
                size_t esz = parts[j].type == LRQ_TYPE_I8 ? 1 : parts[j].type == LRQ_TYPE_F32 ? 4 : 2;
                if (j) CHECK((uint64_t)(parts[j].ne[0] * parts[j].ne[1]) * esz == parts[j].nbytes);
            }
            CHECK(sum == want);
            const int pq = s.pstore == LRQ_LQ_P_Q;
            unsigned expect = 1u << LRQ_LQ_CODES;
            expect |= pq ? (1u << LRQ_LQ_SQ) | (1u << LRQ_LQ_SD) : 1u << LRQ_LQ_S;
            if (s.asym) expect |= 1u << (pq ? LRQ_LQ_ZQ : LRQ_LQ_Z);
            if (s.offset_group) expect |= 1u << LRQ_LQ_OG;
            if (s.cb) expect |= 1u << LRQ_LQ_CB;
            CHECKF(kinds == expect, "%s: parts %#x, expected %#x", specs[i], kinds, expect);
        }
    }
    size_t bl = 0;
    CHECK(lrq_lq_companion("blk.3.attn_q.weight.lq_sd", &bl) == LRQ_LQ_SD && bl == 19);
    CHECK(lrq_lq_companion("blk.3.attn_q.weight", &bl) == -1);
    CHECK(lrq_lq_companion("x.lq_s2", &bl) == -1);
    lrq_lq_spec s = lrq_lq_spec_default(4, 32);
    const int64_t bad[4] = {48, 4, 1, 1};
    lrq_lq_part parts[LRQ_LQ_N_PARTS];
    CHECK(lrq_lq_layout(&s, 2, bad, parts) == -1);
    CHECK(lrq_lq_layout(&s, 1, bad, parts) == -1);
}

int main(void) {
    lrq_types_init();
    TEST_RUN(test_spec_parse);
    TEST_RUN(test_group_and_bytes);
    TEST_RUN(test_types);
    TEST_RUN(test_codebook_kernel);
    TEST_RUN(test_bit_streams);
    TEST_RUN(test_layout);
    return test_finish();
}
