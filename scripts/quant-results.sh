#!/usr/bin/env bash
# quant-results.sh — regenerates docs/results/quant-<MODEL>.{md,tsv,png,svg}: PPL, KLD and bpw of lrq's lq
# formats (bits 2/3/4 x group 32/64/128/per-row x sym/asym, then each knob at 2 and 3 bits) beside every llama.cpp
# type of the model's golden table, same text and context, and a Pareto plot (gnuplot).
# usage: scripts/quant-results.sh zoo-qwen3|stories260K [LRQ]
#   zoo-qwen3    ../shared/models/zoo/ts-qwen3-5M-f32.gguf on data/tinystories/ts260k-synth-valid.txt, -c 512
#                (golden/zoo/ts-qwen3-5M/quality.tsv: ppl_valid_exact, mean_kld, same_top_pct)
#   stories260K  ../shared/models/stories260K/stories260K-f32.gguf on TinyStories-valid.first22docs.txt, -c 128
#                (golden/stories260K/ppl-exact.tsv and kld.tsv); its rows are 64 and 172 long, so groups
#                are 16/32/64/per-row, and ffn_down (rows of 172, not a multiple of 8) stays F16 as in llama.cpp
#   LRQ          the lrq binary (default build/bin/lrq)
# Every lq file is made by `lrq quantize F32 OUT lq:SPEC` (RTN, no calibration, seed fixed by the spec's default)
# and measured by ONE `lrq ppl --kl-divergence` run against the F32 model's log-probabilities (its Mean PPL(Q)
# is the perplexity). Environment: SCRATCH (default ${TMPDIR:-/tmp}/lrq-quant-results), THREADS (default 2).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
key=${1:?usage: scripts/quant-results.sh zoo-qwen3|stories260K [LRQ]}
lrq=${2:-$here/build/bin/lrq}
shared=${LRQ_SHARED:-$here/../shared}
scratch=${SCRATCH:-${TMPDIR:-/tmp}/lrq-quant-results}/$key
threads=${THREADS:-2}
command -v gnuplot >/dev/null || { echo "quant-results: gnuplot is needed for the plot (Debian: apt-get install gnuplot-nox)" >&2; exit 2; }
[ -x "$lrq" ] || { echo "quant-results: $lrq is not an executable" >&2; exit 2; }
case $key in
zoo-qwen3)
    model=$shared/models/zoo/ts-qwen3-5M-f32.gguf; text=$shared/data/tinystories/ts260k-synth-valid.txt; ctx=512
    groups="32 64 128 r"; kg=64 ;;
stories260K)
    model=$shared/models/stories260K/stories260K-f32.gguf; text=$shared/data/tinystories/TinyStories-valid.first22docs.txt
    ctx=128; groups="16 32 64 r"; kg=32 ;;
*) echo "quant-results: unknown model '$key' (zoo-qwen3 or stories260K)" >&2; exit 2 ;;
esac
mkdir -p "$scratch"
out=$here/docs/results/quant-$key
tsv=$scratch/rows.tsv

# the F32 reference log-probabilities (and PPL)
base=$scratch/base.kld
if [ ! -s "$base" ]; then
    "$lrq" ppl -m "$model" -f "$text" -c "$ctx" -t "$threads" --kl-divergence-base "$base" > "$scratch/base.log" 2>&1
fi
ppl_f32=$(sed -n 's/.*Final estimate: PPL = \([0-9.]*\).*/\1/p' "$scratch/base.log")

specs=()
for b in 2 3 4; do for g in $groups; do for sa in s a; do specs+=("b${b}g${g}${sa}"); done; done; done
for b in 2 3; do
    for k in cs o0.5 og rs rz0.5 pq6x16 kt20u kr20u; do specs+=("b${b}g${kg}a${k}"); done
done

# rows: method spec bpw ppl ln_ratio kld same_top (resumable: finished specs are kept)
[ -f "$tsv" ] || printf 'method\tformat\tbpw\tppl\tln_ppl_ratio\tmean_kld\tsame_top_pct\n' > "$tsv"
n=${#specs[@]}; i=0
for s in "${specs[@]}"; do
    i=$((i + 1))
    grep -q "^lq	$s	" "$tsv" && continue
    echo "quant-results: [$i/$n] lq:$s" >&2
    f=$scratch/$s.gguf
    "$lrq" quantize "$model" "$f" "lq:$s" -t "$threads" > "$scratch/$s.qlog" 2>&1 ||
        { echo "quant-results: lrq quantize lq:$s failed: $(tail -1 "$scratch/$s.qlog")" >&2; exit 1; }
    bpw=$(sed -n 's/.*MiB, \([0-9.]*\) bpw over all.*/\1/p' "$scratch/$s.qlog")
    "$lrq" ppl -m "$f" -t "$threads" --kl-divergence-base "$base" --kl-divergence > "$scratch/$s.plog" 2>&1 ||
        { echo "quant-results: lrq ppl on lq:$s failed: $(tail -1 "$scratch/$s.plog")" >&2; exit 1; }
    awk -v s="$s" -v bpw="$bpw" '
        /^Mean PPL\(Q\) / {p = $NF} /^Mean ln\(PPL\(Q\)\/PPL\(base\)\)/ {l = $5} /^Mean    KLD:/ {k = $3}
        /^Same top p:/ {t = $4}
        END {printf "lq\t%s\t%s\t%s\t%s\t%s\t%s\n", s, bpw, p, l, k, t}' "$scratch/$s.plog" >> "$tsv"
    rm -f "$f"
done

# llama.cpp's types from the golden tables (measured by the real llama.cpp)
gold=$scratch/golden.tsv
if [ "$key" = zoo-qwen3 ]; then
    awk -F'\t' -v f32="$ppl_f32" 'NR > 1 && $2 != "F32" && $2 != "F16" && $2 != "BF16" {
        printf "llama.cpp\t%s\t%s\t%s\t%.6f\t%s\t%s\n", $2, $3, $5, log($5 / f32), $9, $10}' \
        "$shared/golden/zoo/ts-qwen3-5M/quality.tsv" > "$gold"
else
    # bpw is not in these tables: computed from the golden files' tensor data by `lrq info`
    : > "$gold"
    while IFS=$'\t' read -r file c chunks p e; do
        [ "$c" = "$ctx" ] || continue
        case $file in golden/stories260K/s260-*.gguf) ;; *) continue ;; esac
        t=${file#golden/stories260K/s260-}; t=${t%.gguf}
        case $t in F16|BF16) continue ;; esac
        bpw=$("$lrq" info "$shared/$file" 2>/dev/null | sed -n "s/^parameters: .* bpw: \([0-9.]*\)$/\1/p")
        kl=$(awk -F'\t' -v f="s260-$t.gguf" '$1 == f {print $2 "\t" $3}' "$shared/golden/stories260K/kld.tsv")
        awk -v t="$t" -v bpw="$bpw" -v p="$p" -v f32="$ppl_f32" -v kl="$kl" 'BEGIN {
            split(kl, a, "\t"); printf "llama.cpp\t%s\t%s\t%s\t%.6f\t%s\t%s\n", t, bpw, p, log(p / f32), a[1], a[2]}' >> "$gold"
    done < "$shared/golden/stories260K/ppl-exact.tsv"
fi

# Pareto fronts (lower bpw and lower KLD) per method
front() { sort -t$'\t' -k3,3g "$1" | awk -F'\t' 'BEGIN {best = 1e30} $6 != "" && $6 + 0 < best {best = $6 + 0; print}'; }
tail -n +2 "$tsv" > "$scratch/lq.tsv"
front "$scratch/lq.tsv" > "$scratch/lq-front.tsv"
front "$gold" > "$scratch/ll-front.tsv"

cp "$tsv" "$out.tsv"
cat "$gold" >> "$out.tsv"
plot_to() { # terminal output
    gnuplot <<GP
set terminal $1 size 1100,500
set output "$2"
set multiplot layout 1,2 title "$key: lrq lq formats (RTN) vs llama.cpp types (ctx $ctx)"
set datafile separator "\t"
set xlabel "bits per weight (all tensor data)"
set key top right
set logscale y
set ylabel "mean KLD vs F32"
plot "$scratch/lq.tsv" using 3:6 with points pt 7 ps 0.6 lc rgb "#1f77b4" title "lrq lq", \
     "$scratch/lq-front.tsv" using 3:6 with lines lw 2 lc rgb "#1f77b4" title "lq Pareto front", \
     "$gold" using 3:6 with points pt 5 ps 0.8 lc rgb "#d62728" title "llama.cpp", \
     "$scratch/ll-front.tsv" using 3:6 with lines lw 2 lc rgb "#d62728" title "llama.cpp front"
unset logscale y
set ylabel "ln(PPL / PPL_F32)"
plot "$scratch/lq.tsv" using 3:5 with points pt 7 ps 0.6 lc rgb "#1f77b4" title "lrq lq", \
     "$gold" using 3:5 with points pt 5 ps 0.8 lc rgb "#d62728" title "llama.cpp"
unset multiplot
GP
}
png=pngcairo
gnuplot -e "set terminal" 2>&1 | grep -q pngcairo || png=png
plot_to "$png" "$out.png"
plot_to svg "$out.svg"

commit=$(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)
{
    echo "# Quantization results: $key"
    echo
    echo "Regenerate: \`scripts/quant-results.sh $key\` (commit $commit, $(date -u +%Y-%m-%d)). Model \`${model#$shared/}\`,"
    echo "text \`${text#$shared/}\`, context $ctx; F32 PPL $ppl_f32 (lrq). lq rows: \`lrq quantize F32 OUT lq:SPEC\`"
    echo "(round-to-nearest unless the spec says otherwise, no calibration; spec grammar in docs/formats.md), measured"
    echo "by \`lrq ppl --kl-divergence\` against the F32 log-probabilities (exact F32 attention). llama.cpp rows: the"
    echo "golden tables made by the real llama.cpp v0.5.0 (its own KLD runs used its default F16 KV cache)."
    echo "bpw counts all tensor data (embeddings, norms and output included) over all weights, as the golden tables do."
    echo
    echo "![PPL and KLD vs bpw](quant-$key.png) ([SVG](quant-$key.svg); data: [quant-$key.tsv](quant-$key.tsv))"
    echo
    echo "Pareto front (lowest KLD for its size) — lq: $(cut -f2 "$scratch/lq-front.tsv" | paste -sd, | sed 's/,/, /g');"
    echo "llama.cpp: $(cut -f2 "$scratch/ll-front.tsv" | paste -sd, | sed 's/,/, /g')."
    echo
    echo "| method | format | bpw | PPL | ln(PPL/PPL_F32) | mean KLD | same top % |"
    echo "|---|---|---|---|---|---|---|"
    { cat "$scratch/lq.tsv"; cat "$gold"; } | sort -t$'\t' -k3,3g |
        awk -F'\t' '{printf "| %s | %s | %.3f | %.4f | %+.4f | %.6f | %s |\n", $1, $2, $3, $4, $5, $6, $7}'
} > "$out.md"
echo "quant-results: wrote $out.md, .tsv, .png, .svg" >&2
