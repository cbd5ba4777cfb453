/* test_engine.c — Engine v2's layer machinery on real models:
 *  - replica sets: K = 1 over any unit is bit-identical to the plain path;
 *    K = 2 parallel with identical parameter sets and weights (1/2, 1/2)
 *    gives the same logits up to float rounding; sequential K = 2 is a
 *    different (deeper) model, deterministic; bad replica requests fail;
 *  - hooks: sum of x^2 per input channel of every linear over a short text,
 *    collected through the linear-input hook, equals the same statistic
 *    computed by an independent naive float forward pass (written here from
 *    the model's definition) for stories260K;
 *  - activation policies: F32 on F32 weights equals the default path bit
 *    for bit; per-token 8-bit changes the logits but only a little. */
#include "testlib.h"
#include "model/model.h"
#include "core/core.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const int32_t prompt[] = { 1, 403, 407, 261, 378, 468, 296, 291, 338, 377, 271, 440, 346, 274, 426, 386,
                                  379, 260, 406, 275, 403, 378, 290, 284 };
#define N_TOK ((int)(sizeof prompt / sizeof prompt[0]))

/* Logits of every position of `prompt` (one batch), malloc'ed; NULL on error. */
static float *run(lrq_model *m, int n_threads) {
    lrq_ctx *c;
    if (lrq_ctx_new(&c, m, 64, 64, n_threads)) return NULL;
    const int nv = m->hp.n_vocab;
    float *out = malloc(sizeof(float) * (size_t)N_TOK * (size_t)nv);
    const float *l = lrq_ctx_eval(c, prompt, N_TOK, 0);
    if (l && out) memcpy(out, l, sizeof(float) * (size_t)N_TOK * (size_t)nv);
    lrq_ctx_free(c);
    if (!l) { free(out); return NULL; }
    return out;
}

static double max_rel(const float *a, const float *b, size_t n) {
    double md = 0, mx = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (d > md) md = d;
        if (fabs(b[i]) > mx) mx = fabs(b[i]);
    }
    return md / (mx > 0 ? mx : 1);
}

static const char *models[] = {
    "models/stories260K/stories260K-f32.gguf", "golden/stories260K/s260-Q4_0.gguf",
    "golden/stories260K/s260-Q4_K_M.gguf", "golden/arch/rand-qwen2.gguf", "golden/arch/rand-qwen3.gguf",
};

static void test_replicas(void) {
    for (size_t mi = 0; mi < sizeof models / sizeof models[0]; mi++) {
        lrq_model *m;
        const char *path = test_shared(models[mi]);
        if (lrq_model_load(&m, path, NULL)) { CHECKF(0, "%s: %s", path, lrq_last_error()); continue; }
        const size_t n = (size_t)N_TOK * (size_t)m->hp.n_vocab;
        float *plain = run(m, 2);
        CHECK(plain != NULL);
        for (int unit = LRQ_UNIT_BLOCK; unit <= LRQ_UNIT_MLP && plain; unit++) {
            for (int topo = LRQ_TOPO_PARALLEL; topo <= LRQ_TOPO_SEQUENTIAL; topo++) {
                CHECK(lrq_model_replicate(m, -1, unit, topo, 1, NULL) == 0);
                float *k1 = run(m, 2);
                CHECKF(k1 && memcmp(k1, plain, n * sizeof(float)) == 0, "%s unit %d topo %d: K=1 not bit-identical",
                       path, unit, topo);
                free(k1);
            }
            const float half[2] = { 0.5f, 0.5f };
            CHECK(lrq_model_replicate(m, -1, unit, LRQ_TOPO_PARALLEL, 2, half) == 0);
            float *k2 = run(m, 2);
            double e = k2 ? max_rel(k2, plain, n) : 1;
            CHECKF(k2 && e <= 1e-6, "%s unit %d: K=2 (1/2,1/2) differs by %g", path, unit, e);
            free(k2);
            /* sequential: the unit runs twice — another model, still deterministic across thread counts */
            CHECK(lrq_model_replicate(m, -1, unit, LRQ_TOPO_SEQUENTIAL, 2, NULL) == 0);
            float *s1 = run(m, 1), *s2 = run(m, 2);
            CHECK(s1 && s2 && memcmp(s1, s2, n * sizeof(float)) == 0);
            CHECKF(s1 && max_rel(s1, plain, n) > 1e-3, "%s unit %d: sequential K=2 equals the plain model", path, unit);
            free(s1);
            free(s2);
            CHECK(lrq_model_replicate(m, -1, LRQ_UNIT_BLOCK, LRQ_TOPO_PARALLEL, 1, NULL) == 0);
        }
        /* a context made before replication refuses to run the replicated model */
        lrq_ctx *c;
        CHECK(lrq_ctx_new(&c, m, 32, 32, 1) == 0);
        CHECK(lrq_model_replicate(m, 0, LRQ_UNIT_ATTN, LRQ_TOPO_PARALLEL, 3, NULL) == 0);
        CHECK(lrq_ctx_eval(c, prompt, 4, 3) == NULL);
        CHECK(strstr(lrq_last_error(), "replicated after") != NULL);
        lrq_ctx_free(c);
        /* bad requests */
        CHECK(lrq_model_replicate(m, 0, LRQ_UNIT_ATTN, LRQ_TOPO_PARALLEL, LRQ_MAX_REPLICAS + 1, NULL) != 0);
        CHECK(lrq_model_replicate(m, m->hp.n_layer, LRQ_UNIT_ATTN, LRQ_TOPO_PARALLEL, 2, NULL) != 0);
        const float bad_w[2] = { NAN, 0.5f };
        CHECK(lrq_model_replicate(m, 0, LRQ_UNIT_ATTN, LRQ_TOPO_PARALLEL, 2, bad_w) != 0);
        CHECK(lrq_model_replica_tensor(m, 0, 1, LRQ_SLOT_Q, m->layers[0].ffn_down) != 0); /* wrong shape */
        CHECK(lrq_model_replica_tensor(m, 0, 5, LRQ_SLOT_Q, m->layers[0].wq) != 0);       /* no replica 5 */
        free(plain);
        lrq_model_free(m);
    }
}

/* ---- hooks: sum x^2 per input channel of every linear ---- */

typedef struct {
    int n_layer;
    int64_t width[LRQ_SLOT_COUNT];
    double *sum[64][LRQ_SLOT_COUNT]; /* [layer][slot][n_in] */
    int calls;
    int misnamed; /* calls whose tensor name does not contain lrq_linear_slot_name(slot) */
} sq_stats;

static void sq_hook(void *ud, const lrq_linear_info *info, const float *x, int n_tok) {
    sq_stats *s = ud;
    if (info->layer < 0) return;
    s->calls++;
    if (!strstr(info->name, lrq_linear_slot_name(info->slot))) s->misnamed++;
    double *acc = s->sum[info->layer][info->slot];
    for (int t = 0; t < n_tok; t++)
        for (int64_t i = 0; i < info->n_in; i++) acc[i] += (double)x[t * info->n_in + i] * x[t * info->n_in + i];
}

static void rms(float *y, const float *x, const float *w, int n, float eps) {
    double s = 0;
    for (int i = 0; i < n; i++) s += (double)x[i] * x[i];
    const float sc = (float)(1.0 / sqrt(s / n + eps));
    for (int i = 0; i < n; i++) y[i] = x[i] * sc * w[i];
}

/* y[r] = W[r] . x, W F32 [rows][cols] */
static void mv(float *y, const lrq_tensor *W, const float *x) {
    const float *w = W->data;
    for (int64_t r = 0; r < W->ne[1]; r++) {
        double s = 0;
        for (int64_t j = 0; j < W->ne[0]; j++) s += (double)w[r * W->ne[0] + j] * x[j];
        y[r] = (float)s;
    }
}

static void add_sq(double *acc, const float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) acc[i] += (double)x[i] * x[i];
}

/* A naive F32 llama forward (stories260K: NORM RoPE, GQA, SwiGLU), token by
 * token, accumulating sum x^2 of every linear input into ref. */
static void naive_forward(const lrq_model *m, double *ref[64][LRQ_SLOT_COUNT]) {
    const lrq_hparams *hp = &m->hp;
    const int E = hp->n_embd, hd = hp->head_dim, nh = hp->n_head, nkv = hp->n_head_kv, F = hp->n_ff;
    float *x = calloc((size_t)E, 4), *xn = calloc((size_t)E, 4), *q = calloc((size_t)nh * hd, 4),
          *att = calloc((size_t)nh * hd, 4), *o = calloc((size_t)E, 4), *g = calloc((size_t)F, 4),
          *u = calloc((size_t)F, 4), *sc = calloc(N_TOK, 4);
    float *K = calloc((size_t)hp->n_layer * N_TOK * nkv * hd, 4), *V = calloc((size_t)hp->n_layer * N_TOK * nkv * hd, 4);
    for (int t = 0; t < N_TOK; t++) {
        memcpy(x, (const float *)m->tok_embd->data + (size_t)prompt[t] * E, sizeof(float) * E);
        for (int l = 0; l < hp->n_layer; l++) {
            const lrq_layer *L = &m->layers[l];
            float *kl = K + ((size_t)l * N_TOK + t) * nkv * hd, *vl = V + ((size_t)l * N_TOK + t) * nkv * hd;
            rms(xn, x, L->attn_norm->data, E, hp->rms_eps);
            add_sq(ref[l][LRQ_SLOT_Q], xn, E);
            add_sq(ref[l][LRQ_SLOT_K], xn, E);
            add_sq(ref[l][LRQ_SLOT_V], xn, E);
            mv(q, L->wq, xn);
            mv(kl, L->wk, xn);
            mv(vl, L->wv, xn);
            for (int h = 0; h < nh + nkv; h++) {
                float *v = h < nh ? q + h * hd : kl + (h - nh) * hd;
                for (int i = 0; i < hp->n_rot; i += 2) {
                    const double th = t * pow(hp->rope_theta, -(double)i / hp->n_rot);
                    const float c = (float)cos(th), s = (float)sin(th), a = v[i], b = v[i + 1];
                    v[i] = a * c - b * s;
                    v[i + 1] = a * s + b * c;
                }
            }
            for (int h = 0; h < nh; h++) {
                const int hk = h / (nh / nkv);
                float mx = -INFINITY;
                for (int j = 0; j <= t; j++) {
                    double s = 0;
                    for (int d = 0; d < hd; d++) s += (double)q[h * hd + d] * K[((size_t)l * N_TOK + j) * nkv * hd + hk * hd + d];
                    sc[j] = (float)(s / sqrt((double)hd));
                    if (sc[j] > mx) mx = sc[j];
                }
                double z = 0;
                for (int j = 0; j <= t; j++) z += (sc[j] = expf(sc[j] - mx));
                for (int d = 0; d < hd; d++) {
                    double s = 0;
                    for (int j = 0; j <= t; j++) s += sc[j] / z * V[((size_t)l * N_TOK + j) * nkv * hd + hk * hd + d];
                    att[h * hd + d] = (float)s;
                }
            }
            add_sq(ref[l][LRQ_SLOT_O], att, (int64_t)nh * hd);
            mv(o, L->wo, att);
            for (int i = 0; i < E; i++) x[i] += o[i];
            rms(xn, x, L->ffn_norm->data, E, hp->rms_eps);
            add_sq(ref[l][LRQ_SLOT_GATE], xn, E);
            add_sq(ref[l][LRQ_SLOT_UP], xn, E);
            mv(g, L->ffn_gate, xn);
            mv(u, L->ffn_up, xn);
            for (int i = 0; i < F; i++) g[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
            add_sq(ref[l][LRQ_SLOT_DOWN], g, F);
            mv(o, L->ffn_down, g);
            for (int i = 0; i < E; i++) x[i] += o[i];
        }
    }
    free(x); free(xn); free(q); free(att); free(o); free(g); free(u); free(sc); free(K); free(V);
}

static void test_hooks_sumsq(void) {
    lrq_model *m;
    const char *path = test_shared("models/stories260K/stories260K-f32.gguf");
    if (lrq_model_load(&m, path, NULL)) { CHECKF(0, "%s", lrq_last_error()); return; }
    const lrq_hparams *hp = &m->hp;
    CHECK(hp->n_layer <= 64);
    static sq_stats st;
    static double *ref[64][LRQ_SLOT_COUNT];
    for (int l = 0; l < hp->n_layer; l++)
        for (int s = LRQ_SLOT_Q; s <= LRQ_SLOT_DOWN; s++) {
            const int64_t w = s == LRQ_SLOT_DOWN ? hp->n_ff : s == LRQ_SLOT_O ? (int64_t)hp->n_head * hp->head_dim : hp->n_embd;
            st.sum[l][s] = calloc((size_t)w, sizeof(double));
            ref[l][s] = calloc((size_t)w, sizeof(double));
            st.width[s] = w;
        }
    lrq_hooks h = { .ud = &st, .linear_in = sq_hook };
    lrq_ctx *c;
    CHECK(lrq_ctx_new(&c, m, 64, 8, 2) == 0);
    lrq_ctx_set_hooks(c, &h);
    /* in batches of 8 (prefill path) then one by one (decode path) */
    for (int i = 0; i < 16; i += 8) CHECK(lrq_ctx_eval(c, prompt + i, 8, 7) != NULL);
    for (int i = 16; i < N_TOK; i++) CHECK(lrq_ctx_eval(c, prompt + i, 1, 0) != NULL);
    lrq_ctx_free(c);
    naive_forward(m, ref);
    /* the last layer's MLP sees only the rows with logits (as in llama.cpp): in the naive pass every
     * token is such a row except tokens 0..6 and 8..14 of the two batches; compare it on the decode
     * tokens' share by excluding that layer's MLP from the exact check and bounding it instead */
    CHECK(st.calls == 2 * 7 * hp->n_layer + (N_TOK - 16) * 7 * hp->n_layer);
    CHECKF(st.misnamed == 0, "%d hook calls whose slot name is not in the tensor name", st.misnamed);
    CHECK(strcmp(lrq_linear_slot_name(LRQ_SLOT_DOWN), "ffn_down") == 0 && strcmp(lrq_linear_slot_name(-1), "?") == 0);
    double worst = 0;
    for (int l = 0; l < hp->n_layer; l++)
        for (int s = LRQ_SLOT_Q; s <= LRQ_SLOT_DOWN; s++) {
            const int last_mlp = l == hp->n_layer - 1 && (s == LRQ_SLOT_GATE || s == LRQ_SLOT_UP || s == LRQ_SLOT_DOWN);
            for (int64_t i = 0; i < st.width[s]; i++) {
                const double a = st.sum[l][s][i], b = ref[l][s][i];
                if (last_mlp) {
                    CHECKF(a <= b * (1 + 1e-3) + 1e-9, "layer %d slot %d ch %lld: %g > %g", l, s, (long long)i, a, b);
                    continue;
                }
                const double e = fabs(a - b) / (fabs(b) > 1e-6 ? fabs(b) : 1e-6);
                if (e > worst) worst = e;
            }
        }
    printf("  sum x^2 hook vs naive forward: max relative difference %.3g\n", worst);
    CHECKF(worst < 2e-3, "hook statistics differ from the naive forward by %g", worst);
    for (int l = 0; l < hp->n_layer; l++)
        for (int s = LRQ_SLOT_Q; s <= LRQ_SLOT_DOWN; s++) { free(st.sum[l][s]); free(ref[l][s]); }
    lrq_model_free(m);
}

static void test_act_policy(void) {
    lrq_model *m;
    const char *path = test_shared("models/zoo/ts-qwen3-5M-f32.gguf");
    if (lrq_model_load(&m, path, NULL)) { CHECKF(0, "%s", lrq_last_error()); return; }
    const size_t n = (size_t)N_TOK * (size_t)m->hp.n_vocab;
    float *plain = run(m, 2);
    CHECK(lrq_model_set_act_policy(m, LRQ_ACT_F32) == 0);
    float *f32 = run(m, 2);
    CHECK(plain && f32 && memcmp(plain, f32, n * sizeof(float)) == 0);
    CHECK(lrq_model_set_act_policy(m, LRQ_ACT_Q8_TOKEN) == 0);
    float *a8 = run(m, 2);
    double e8 = a8 && plain ? max_rel(a8, plain, n) : 1;
    CHECK(lrq_model_set_act_policy(m, LRQ_ACT_F16) == 0);
    float *a16 = run(m, 2);
    double e16 = a16 && plain ? max_rel(a16, plain, n) : 1;
    printf("  activation policy vs F32: A16 %.3g, A8/token %.3g (max rel. logit difference)\n", e16, e8);
    CHECKF(e8 > 0 && e8 < 0.05, "A8 per token moved the logits by %g", e8);
    CHECKF(e16 > 0 && e16 < e8, "A16 moved the logits by %g (A8: %g)", e16, e8);
    CHECK(lrq_model_set_act_policy(m, 17) != 0);
    /* the general spec: {8 bits, per token, sym, no clip} is the Q8_TOKEN policy bit for bit; 16 bits is
     * closer to F32 than 8; per tensor and asymmetric change the result */
    lrq_act_quant aq = { .bits = 8, .clip = 1.0f };
    CHECK(lrq_model_set_act_quant(m, &aq) == 0);
    float *i8 = run(m, 2);
    CHECK(i8 && a8 && memcmp(i8, a8, n * sizeof(float)) == 0);
    aq.bits = 16;
    CHECK(lrq_model_set_act_quant(m, &aq) == 0);
    float *i16 = run(m, 2);
    const double e_i16 = i16 && plain ? max_rel(i16, plain, n) : 1;
    CHECKF(e_i16 > 0 && e_i16 < e8, "A16 integer moved the logits by %g (A8: %g)", e_i16, e8);
    aq.bits = 8;
    aq.per_tensor = 1;
    CHECK(lrq_model_set_act_quant(m, &aq) == 0);
    float *pt = run(m, 2);
    CHECK(pt && a8 && memcmp(pt, a8, n * sizeof(float)) != 0);
    aq.per_tensor = 0;
    aq.asym = 1;
    aq.clip = 0.99f;
    CHECK(lrq_model_set_act_quant(m, &aq) == 0);
    float *as = run(m, 1), *as2 = run(m, 2); /* percentile per token: same for any thread count */
    CHECK(as && as2 && memcmp(as, as2, n * sizeof(float)) == 0 && memcmp(as, a8, n * sizeof(float)) != 0);
    aq.bits = 1;
    CHECK(lrq_model_set_act_quant(m, &aq) != 0);
    CHECK(lrq_model_set_act_quant(m, NULL) == 0);
    float *back = run(m, 2);
    CHECK(back && plain && memcmp(back, plain, n * sizeof(float)) == 0);
    printf("  integer activations vs F32: A16 %.3g (max rel. logit difference)\n", e_i16);
    free(i8); free(i16); free(pt); free(as); free(as2); free(back);
    free(plain); free(f32); free(a8); free(a16);
    lrq_model_free(m);
}

int main(void) {
    TEST_RUN(test_replicas);
    TEST_RUN(test_hooks_sumsq);
    TEST_RUN(test_act_policy);
    return test_finish();
}
