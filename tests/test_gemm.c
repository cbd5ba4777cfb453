/* test_gemm.c — the tile kernels of src/kern/gemm_*.c:
 *  - bit identity: for every type with a tile kernel, at every ISA this CPU
 *    has, every output of every tile shape (1..R rows x 1..C columns) equals
 *    the bits of the vec_dot kernel the tile claims to reproduce, for many
 *    K (full and partial vec_dot steps: remainder blocks, masked tails), odd
 *    strides and unaligned rows (element-aligned for F32/F16); weights both from the reference quantizer
 *    and random bytes with random finite scales; activations from the
 *    partner quantizer with outliers and all-zero rows;
 *  - that vec_dot is the one the type traits use at that ISA (so the
 *    kernels the matmul mixes really agree), and lrq_gemm_get follows the
 *    selected ISA;
 *  - whole matmuls over real model tensors (zoo Q8_0/Q4_0/Q2_K..Q6_K and
 *    IQ2_XXS/IQ2_XS files,
 *    stories260K F32/F16 with rows of 64 and 172 values), tiled with partial
 *    tiles at the edges, equal the vec_dot matmul.
 * Bits are compared with memcmp (NaN-safe, -0 != +0). */
#include "testlib.h"
#include "lrq.h"
#include "core/core.h"
#include "io/gguf.h"
#include "kern/gemm.h"
#include "fmt/types.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(LRQ_HAVE_X86)
#include <cpuid.h>
#endif

static const int TYPES[] = { LRQ_TYPE_F32, LRQ_TYPE_F16, LRQ_TYPE_BF16, LRQ_TYPE_Q4_0, LRQ_TYPE_Q4_1,
                             LRQ_TYPE_Q5_0, LRQ_TYPE_Q5_1, LRQ_TYPE_Q8_0, LRQ_TYPE_IQ4_NL, LRQ_TYPE_Q2_K,
                             LRQ_TYPE_Q3_K, LRQ_TYPE_Q4_K, LRQ_TYPE_Q5_K, LRQ_TYPE_Q6_K, LRQ_TYPE_IQ2_XXS,
                             LRQ_TYPE_IQ2_XS, LRQ_TYPE_IQ2_S, LRQ_TYPE_IQ3_XXS, LRQ_TYPE_IQ3_S, LRQ_TYPE_IQ4_XS };
#define N_TYPES ((int)(sizeof TYPES / sizeof TYPES[0]))

static int cpu_has(const char *isa) {
#if defined(LRQ_HAVE_X86)
    __builtin_cpu_init();
    unsigned a, b, c, d;
    int f16c = __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 29));
    int has2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && f16c;
    if (strcmp(isa, "avx2") == 0) return has2;
    if (strcmp(isa, "avx512") == 0)
        return has2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("avx512vnni");
#else
    (void)isa;
#endif
    return 0;
}

/* Offsets of the f16 scale fields of one block (-1 terminated), so random
 * weight bytes can be given finite scales. */
static void scale_fields(int type, int off[4]) {
    off[0] = off[1] = off[2] = off[3] = -1;
    switch (type) {
    case LRQ_TYPE_Q4_0: case LRQ_TYPE_Q5_0: case LRQ_TYPE_Q8_0: case LRQ_TYPE_IQ4_NL:
    case LRQ_TYPE_IQ2_XXS: case LRQ_TYPE_IQ2_XS: case LRQ_TYPE_IQ2_S: case LRQ_TYPE_IQ3_XXS:
    case LRQ_TYPE_IQ3_S: case LRQ_TYPE_IQ4_XS:
        off[0] = 0; break;
    case LRQ_TYPE_Q4_1: case LRQ_TYPE_Q5_1: case LRQ_TYPE_Q4_K: case LRQ_TYPE_Q5_K:
        off[0] = 0; off[1] = 2; break;
    case LRQ_TYPE_Q2_K: off[0] = 80; off[1] = 82; break;
    case LRQ_TYPE_Q3_K: off[0] = 108; break;
    case LRQ_TYPE_Q6_K: off[0] = 208; break;
    default: break;
    }
}

typedef struct {
    int type;
    const lrq_type_traits *tt, *pt;
    int64_t K;
    size_t wrow, arow, ws, as;   /* row bytes and strides */
    int N, M;                    /* weight rows, activation rows */
    uint8_t *W, *A;              /* start at an odd address */
    uint8_t *Wbuf, *Abuf;
} mat;

static uint16_t rand_half(uint64_t *st) {
    float v = test_rand_normal(st) * 0.05f;
    if (test_rand_u64(st) % 8 == 0) v *= 100.0f;
    return lrq_f32_to_f16(v);
}

/* Weights: rows from the reference quantizer (or raw values for float
 * types) and, for quantized types, some rows of random bytes with random
 * finite scales — all rows for types without a reference quantizer in the
 * traits (the i-quants but IQ4_XS: every bit pattern is a valid block). */
static void fill_weights(mat *m, uint64_t *st) {
    float *tmp = malloc((size_t)m->K * sizeof(float));
    int sf[4];
    scale_fields(m->type, sf);
    for (int r = 0; r < m->N; r++) {
        uint8_t *row = m->W + (size_t)r * m->ws;
        int raw = m->tt->blck_size > 1 && (r % 3 == 2 || !m->tt->quantize_ref);
        if (raw) {
            for (size_t i = 0; i < m->wrow; i++) row[i] = (uint8_t)test_rand_u64(st);
            for (int64_t b = 0; b < m->K / m->tt->blck_size; b++)
                for (int k = 0; k < 4 && sf[k] >= 0; k++) {
                    uint16_t h = rand_half(st);
                    memcpy(row + (size_t)b * m->tt->type_size + (size_t)sf[k], &h, 2);
                }
        } else {
            for (int64_t i = 0; i < m->K; i++) tmp[i] = test_rand_normal(st) * (r % 4 == 1 ? 3.0f : 0.02f);
            m->tt->quantize_ref(tmp, row, m->K);
        }
    }
    free(tmp);
}

/* Activations through the partner quantizer: normal values with outliers,
 * one all-zero row, one row of large values. */
static void fill_acts(mat *m, uint64_t *st) {
    float *tmp = malloc((size_t)m->K * sizeof(float));
    for (int c = 0; c < m->M; c++) {
        for (int64_t i = 0; i < m->K; i++) {
            float v = test_rand_normal(st);
            if (test_rand_u64(st) % 37 == 0) v *= 40.0f;
            if (c == 3) v = 0.0f;
            if (c == 5) v *= 1000.0f;
            tmp[i] = v;
        }
        m->pt->from_float(tmp, m->A + (size_t)c * m->as, m->K);
    }
    free(tmp);
}

static int mat_new(mat *m, int type, int64_t K, int N, int M, uint64_t *st) {
    memset(m, 0, sizeof *m);
    m->type = type;
    m->tt = lrq_type_get(type);
    m->pt = lrq_type_get(m->tt->vec_dot_type);
    m->K = K;
    m->N = N;
    m->M = M;
    if (lrq_row_size(type, K, &m->wrow) || lrq_row_size(m->tt->vec_dot_type, K, &m->arow)) return -1;
    /* Odd strides and start addresses; for float types only multiples of the
     * element size (the vec_dot kernels read their scalar tails as floats). */
    const size_t el = m->tt->blck_size == 1 ? m->tt->type_size : 1;
    m->ws = m->wrow + 3 * el;
    m->as = m->arow + 5 * el;
    /* no slack after the last row: ASan builds catch any read past it */
    m->Wbuf = malloc(el + m->ws * (size_t)(N - 1) + m->wrow);
    m->Abuf = malloc(3 * el + m->as * (size_t)(M - 1) + m->arow);
    m->W = m->Wbuf + el;
    m->A = m->Abuf + 3 * el;
    fill_weights(m, st);
    fill_acts(m, st);
    return 0;
}

static void mat_free(mat *m) {
    free(m->Wbuf);
    free(m->Abuf);
}

/* All tile shapes at a few positions against dot(); returns mismatches. */
static int check_tiles(const mat *m, lrq_gemm_fn g, int R, int C, lrq_vec_dot_fn dot, const char *isa) {
    const size_t cs = (size_t)m->N + 7;
    float *ref = malloc(sizeof(float) * cs * (size_t)m->M);
    float *out = malloc(sizeof(float) * cs * (size_t)m->M);
    for (int c = 0; c < m->M; c++)
        for (int r = 0; r < m->N; r++) dot(m->K, &ref[(size_t)c * cs + (size_t)r], m->W + (size_t)r * m->ws, m->A + (size_t)c * m->as);
    int bad = 0;
    for (int nr = 1; nr <= R; nr++)
        for (int nc = 1; nc <= C; nc++)
            for (int r0 = 0; r0 + nr <= m->N; r0 += nr + 1)
                for (int c0 = 0; c0 + nc <= m->M; c0 += nc + 2) {
                    for (size_t i = 0; i < cs * (size_t)m->M; i++) out[i] = -12345.0f;
                    g(m->K, m->W + (size_t)r0 * m->ws, m->ws, nr, m->A + (size_t)c0 * m->as, m->as, nc,
                      out + (size_t)c0 * cs + (size_t)r0, cs);
                    for (int c = 0; c < m->M; c++)
                        for (int r = 0; r < m->N; r++) {
                            const size_t i = (size_t)c * cs + (size_t)r;
                            int inside = r >= r0 && r < r0 + nr && c >= c0 && c < c0 + nc;
                            if (inside ? memcmp(&out[i], &ref[i], sizeof(float)) != 0 : out[i] != -12345.0f) {
                                if (bad < 5)
                                    test_fail(__FILE__, __LINE__, "%s %s K=%lld tile %dx%d at (%d,%d): out(%d,%d) = %.9g, vec_dot %.9g%s",
                                              isa, lrq_type_name(m->type), (long long)m->K, nr, nc, r0, c0, r, c,
                                              out[i], ref[i], inside ? "" : " (outside the tile)");
                                bad++;
                            }
                        }
                }
    free(ref);
    free(out);
    return bad;
}

static void test_bit_identity(void) {
    static const int64_t k_float[] = { 1, 5, 15, 16, 17, 31, 48, 63, 64, 65, 100, 128, 129, 200, 256, 300, 768, 1000 };
    static const int64_t k_32[] = { 32, 64, 96, 128, 160, 192, 224, 256, 288, 352, 416, 512, 768, 800, 1056 };
    static const int64_t k_256[] = { 256, 512, 768, 1024, 1280, 2048 };
    static const char *isas[] = { "avx512", "avx2" };
    uint64_t st = 12345;
    int tested = 0;
    for (int ii = 0; ii < 2; ii++) {
        if (!cpu_has(isas[ii])) {
            printf("  (no %s on this CPU: skipped)\n", isas[ii]);
            continue;
        }
        for (int ti = 0; ti < N_TYPES; ti++) {
            int R, C;
            lrq_vec_dot_fn dot;
            lrq_gemm_fn g = lrq_gemm_get_isa(TYPES[ti], isas[ii], &R, &C, &dot);
            if (!g) continue;
            CHECK(R >= 1 && C >= 1 && dot);
            const lrq_type_traits *tt = lrq_type_get(TYPES[ti]);
            const int64_t *ks = tt->blck_size == 1 ? k_float : tt->blck_size == 32 ? k_32 : k_256;
            const int nk = tt->blck_size == 1 ? (int)(sizeof k_float / sizeof k_float[0])
                           : tt->blck_size == 32 ? (int)(sizeof k_32 / sizeof k_32[0])
                                                 : (int)(sizeof k_256 / sizeof k_256[0]);
            int bad = 0;
            for (int ki = 0; ki < nk; ki++) {
                mat m;
                CHECK(mat_new(&m, TYPES[ti], ks[ki], 2 * R + 3, 2 * C + 3 > 7 ? 2 * C + 3 : 7, &st) == 0);
                bad += check_tiles(&m, g, R, C, dot, isas[ii]);
                mat_free(&m);
            }
            CHECKF(bad == 0, "%s %s: %d outputs differ from vec_dot", isas[ii], lrq_type_name(TYPES[ti]), bad);
            printf("  %s %-7s tile %dx%d: %s\n", isas[ii], lrq_type_name(TYPES[ti]), R, C, bad ? "MISMATCH" : "bit-identical");
            tested++;
        }
    }
    if (cpu_has("avx2")) CHECK(tested > 0);
}

/* The vec_dot a tile reproduces is what qtypes.c selects at that ISA: at the
 * selected ISA directly, and for the other ISAs through the naming (the
 * tile's table entry and the traits must agree on the kernel for the
 * selected level; other levels are covered by test_kern_*). */
static void test_dispatch(void) {
    const char *isa = lrq_types_isa();
    for (int ti = 0; ti < N_TYPES; ti++) {
        int R, C, R2, C2;
        lrq_vec_dot_fn dot;
        lrq_gemm_fn g = lrq_gemm_get(TYPES[ti], &R, &C);
        lrq_gemm_fn gi = lrq_gemm_get_isa(TYPES[ti], isa, &R2, &C2, &dot);
        if (gi) {
            CHECKF(dot == lrq_type_get(TYPES[ti])->vec_dot, "%s %s: tile reproduces another vec_dot than the traits'",
                   isa, lrq_type_name(TYPES[ti]));
            CHECK(g == gi && R == R2 && C == C2);
        } else {
            CHECK(g == NULL && R == 0 && C == 0);
        }
    }
    int R, C;
    CHECK(lrq_gemm_get(LRQ_TYPE_I32, &R, &C) == NULL);
    CHECK(lrq_gemm_get(-1, &R, &C) == NULL);
    CHECK(lrq_gemm_get_isa(LRQ_TYPE_Q8_0, "scalar", &R, &C, NULL) == NULL);
}

/* Real weights: the first tensors of each zoo file (and stories260K F32,
 * whose rows of 64/172 values exercise the float tails) against random
 * activations, a whole matmul tiled the way forward.c tiles it (partial
 * tiles at the ends) vs one vec_dot per output, at every ISA. */
static void test_real_tensors(void) {
    static const char *files[] = {
        "golden/zoo/ts-qwen3-5M/ts-qwen3-5M-Q8_0.gguf", "golden/zoo/ts-qwen3-5M/ts-qwen3-5M-Q4_0.gguf",
        "golden/zoo/ts-qwen3-5M/ts-qwen3-5M-Q4_K_M.gguf", "golden/zoo/ts-qwen3-5M/ts-qwen3-5M-Q2_K.gguf",
        "golden/zoo/ts-qwen3-5M/ts-qwen3-5M-Q3_K_M.gguf", "golden/zoo/ts-qwen3-5M/ts-qwen3-5M-Q5_K_M.gguf",
        "golden/zoo/ts-qwen3-5M/ts-qwen3-5M-Q6_K.gguf", "models/stories260K/stories260K-f32.gguf",
        "golden/stories260K/s260-F16.gguf", "golden/zoo/ts-qwen3-5M/ts-qwen3-5M-IQ2_XXS-imat.gguf",
        "golden/zoo/ts-qwen3-5M/ts-qwen3-5M-IQ2_XS-imat.gguf",
    };
    static const char *isas[] = { "avx512", "avx2" };
    uint64_t st = 777;
    int checked = 0;
    for (size_t fi = 0; fi < sizeof files / sizeof files[0]; fi++) {
        const char *path = test_shared(files[fi]);
        if (!test_exists(path)) {
            printf("  (missing %s: skipped)\n", files[fi]);
            continue;
        }
        lrq_gguf *g;
        CHECKF(lrq_gguf_open(&g, path) == 0, "%s: %s", files[fi], lrq_last_error());
        int per_type[LRQ_TYPE_COUNT] = { 0 };
        for (int64_t ti = 0; ti < lrq_gguf_n_tensors(g); ti++) {
            const lrq_gguf_tensor *t = lrq_gguf_tensor_at(g, ti);
            if (t->n_dims != 2 || !lrq_type_supported(t->type) || per_type[t->type] >= 2) continue;
            const lrq_type_traits *tt = lrq_type_get(t->type), *pt = lrq_type_get(tt->vec_dot_type);
            const int64_t K = t->ne[0];
            const int N = (int)(t->ne[1] < 203 ? t->ne[1] : 203), M = 23;
            size_t ws, as;
            if (lrq_row_size(t->type, K, &ws) || lrq_row_size(tt->vec_dot_type, K, &as)) continue;
            per_type[t->type]++;
            uint8_t *A = malloc(as * M);
            float *x = malloc(sizeof(float) * (size_t)K), *ref = malloc(sizeof(float) * (size_t)N * M),
                  *out = malloc(sizeof(float) * (size_t)N * M);
            for (int c = 0; c < M; c++) {
                for (int64_t i = 0; i < K; i++) x[i] = test_rand_normal(&st);
                pt->from_float(x, A + (size_t)c * as, K);
            }
            for (int ii = 0; ii < 2; ii++) {
                int R, Cc;
                lrq_vec_dot_fn dot;
                lrq_gemm_fn gm = cpu_has(isas[ii]) ? lrq_gemm_get_isa(t->type, isas[ii], &R, &Cc, &dot) : NULL;
                if (!gm) continue;
                for (int c = 0; c < M; c++)
                    for (int r = 0; r < N; r++)
                        dot(K, &ref[(size_t)c * N + r], (const uint8_t *)t->data + (size_t)r * ws, A + (size_t)c * as);
                for (int r0 = 0; r0 < N; r0 += R)
                    for (int c0 = 0; c0 < M; c0 += Cc)
                        gm(K, (const uint8_t *)t->data + (size_t)r0 * ws, ws, N - r0 < R ? N - r0 : R, A + (size_t)c0 * as,
                           as, M - c0 < Cc ? M - c0 : Cc, out + (size_t)c0 * N + r0, (size_t)N);
                CHECKF(memcmp(ref, out, sizeof(float) * (size_t)N * M) == 0, "%s %s %s (%s): tiled matmul differs from vec_dot",
                       files[fi], t->name, isas[ii], lrq_type_name(t->type));
                checked++;
            }
            free(A);
            free(x);
            free(ref);
            free(out);
        }
        lrq_gguf_close(g);
    }
    printf("  %d real tensor x ISA matmuls compared\n", checked);
    if (cpu_has("avx2")) CHECK(checked >= 10);
}

int main(void) {
    lrq_types_init();
    printf("selected ISA: %s\n", lrq_types_isa());
    TEST_RUN(test_bit_identity);
    TEST_RUN(test_dispatch);
    TEST_RUN(test_real_tensors);
    return test_finish();
}
