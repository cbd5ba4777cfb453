/* cli_act.c — the activation-quantization options shared by `lrq ppl` and
 * `lrq generate` (docs/activations.md). */
#include "cli.h"
#include "lrq.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const cli_act_help =
    "  Activation quantization (inputs of the block linears; weights are then dequantized to F32 row by row):\n"
    "    --act-bits N       quantize them to N-bit integers (2..16), dynamically (range from the data of each call)\n"
    "    --act-clip P       range = the nearest-rank P-quantile of |x| (symmetric) or of x from each side\n"
    "                       (asymmetric), 0 < P <= 1 (default 1 = max, no clipping), e.g. 0.999\n"
    "    --act-clip-at T    a fixed range [-T, T] instead (T > 0)\n"
    "    --act-per-tensor   one range over all tokens of a call (default: one per token)\n"
    "    --act-asym         asymmetric [lo, hi] with an integer zero point (default symmetric)\n";

int cli_act_opt(const char *cmd, int argc, char **argv, int *i, cli_act *a) {
    const char *v;
    if (cli_opt(argc, argv, i, NULL, "--act-bits", &v)) a->aq.bits = cli_int(cmd, "--act-bits", v, 2, 16);
    else if (cli_opt(argc, argv, i, NULL, "--act-clip", &v)) {
        const double p = cli_num(cmd, "--act-clip", v);
        if (!(p > 0.0 && p <= 1.0)) {
            fprintf(stderr, "lrq %s: --act-clip %s: want a quantile in (0, 1], e.g. 0.999\n", cmd, v);
            exit(2);
        }
        a->aq.clip = (float)p;
        a->clip_given = 1;
    } else if (cli_opt(argc, argv, i, NULL, "--act-clip-at", &v)) {
        const double t = cli_num(cmd, "--act-clip-at", v);
        if (!(t > 0.0) || !isfinite((float)t)) {
            fprintf(stderr, "lrq %s: --act-clip-at %s: want a threshold > 0\n", cmd, v);
            exit(2);
        }
        a->aq.clip_at = (float)t;
    } else if (!strcmp(argv[*i], "--act-per-tensor")) a->aq.per_tensor = 1;
    else if (!strcmp(argv[*i], "--act-asym")) a->aq.asym = 1;
    else return 0;
    a->any = 1;
    return 1;
}

int cli_act_apply(const char *cmd, const cli_act *a, lrq_model *m, const char **desc, char *buf, size_t cap) {
    *desc = NULL;
    if (!a->any) return 0;
    if (!a->aq.bits) {
        fprintf(stderr, "lrq %s: the --act-* options need --act-bits N\n", cmd);
        return 2;
    }
    if (a->clip_given && a->aq.clip_at > 0.0f) {
        fprintf(stderr, "lrq %s: give --act-clip or --act-clip-at, not both\n", cmd);
        return 2;
    }
    if (lrq_model_set_act_quant(m, &a->aq)) return cli_fail(cmd);
    if (a->aq.clip_at > 0.0f)
        snprintf(buf, cap, "A%d %s %s, clipped at %g", a->aq.bits, a->aq.per_tensor ? "per tensor" : "per token",
                 a->aq.asym ? "asym" : "sym", (double)a->aq.clip_at);
    else
        snprintf(buf, cap, "A%d %s %s, clip quantile %g", a->aq.bits, a->aq.per_tensor ? "per tensor" : "per token",
                 a->aq.asym ? "asym" : "sym", (double)a->aq.clip);
    *desc = buf;
    return 0;
}
