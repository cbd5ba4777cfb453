#!/usr/bin/env bash
# quant-results.sh — regenerates docs/results/quant-<MODEL>.{md,tsv,png,svg}: PPL, KLD and bpw of lrq's lq
# formats beside every llama.cpp type of the model's golden table (same text and context), a Pareto plot
# (gnuplot) and statements derived from the rows (best lq config per bpw budget, the knob that moved most).
#
# usage: scripts/quant-results.sh zoo-qwen3|stories260K [LRQ]
#   zoo-qwen3    ../shared/models/zoo/ts-qwen3-5M-f32.gguf on data/tinystories/ts260k-synth-valid.txt, -c 512
#                (golden/zoo/ts-qwen3-5M/quality.tsv: ppl_valid_exact, mean_kld, same_top_pct, size_bytes);
#                groups 32/64/128/per-row (rows of 256 and 768); token_embd in the k-quant of the same bits
#                (q2_K/q3_K/q4_K, as llama-quantize's presets give it the preset's type); output.weight in lq
#   stories260K  ../shared/models/stories260K/stories260K-f32.gguf on TinyStories-valid.first22docs.txt, -c 128
#                (golden/stories260K/ppl-exact.tsv and kld.tsv, made at -c 128); every lq matrix has rows of 64,
#                so groups 16/32/64 (64 = per row); ffn_down (rows of 172: no group divides it, not a multiple
#                of 8) stays F16 and the tied token_embd Q8_0, as llama-quantize's fallbacks do in every golden file
#   LRQ          the lrq binary (default build/bin/lrq; build: cmake --build build -j2 --target lrq_cli)
# Environment:
#   CHUNKS=N     score only the first N chunks (lrq ppl --chunks N) — for testing; the .md then says so, and its
#                rows are not comparable with the golden (whole-text) numbers
#   GRID=full    the design below; GRID=small: 4 base configs + 2 knobs at 2 bits (a quick test)
#   KNOBS="..."  override the one-at-a-time knob list; KNOB_SA="s a" the bases the knobs are put on
#   THREADS=2    threads for quantize and ppl; SCRATCH (default ${TMPDIR:-/tmp}/lrq-quant-results)
#   KEEP=1       keep the quantized files in SCRATCH (default: deleted after measuring)
#   DRY=1        only quantize every config (checks that lrq accepts each spec and that each knob changes the
#                tensor bytes), no ppl, no output files
# Every lq file is made by `lrq quantize F32 OUT lq:SPEC` (RTN, no calibration; the seed of rs/rz/k-means++ is
# the hash of the tensor name: lrq has no seed option) and measured by ONE `lrq ppl --kl-divergence` run
# against the F32 model's log-probabilities (its Mean PPL(Q) is the perplexity on the same tokens).
# Resumable: finished rows are kept in SCRATCH/<model>/rows.tsv keyed by spec, the lrq binary (last commit of
# its sources + sha256 of the binary), the set-up (context, text, rules) and the chunk count; rows of another
# binary, set-up or chunk count are ignored (and kept).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
key=${1:?usage: scripts/quant-results.sh zoo-qwen3|stories260K [LRQ]}
lrq=${2:-$here/build/bin/lrq}
shared=${LRQ_SHARED:-$here/../shared}
scratch=${SCRATCH:-${TMPDIR:-/tmp}/lrq-quant-results}/$key
threads=${THREADS:-2}
chunks=${CHUNKS:-all}
grid=${GRID:-full}
dry=${DRY:-0}
die() { echo "quant-results: $*" >&2; exit 1; }
if ! command -v gnuplot > /dev/null; then
    echo "quant-results: gnuplot is needed for the plot: Debian/Ubuntu 'sudo apt-get install gnuplot-nox'," \
         "macOS 'brew install gnuplot'" >&2
    exit 2
fi
[ -x "$lrq" ] || { echo "quant-results: $lrq is not an executable (build: cmake --build build -j2 --target lrq_cli)" >&2; exit 2; }
case $chunks in all) ;; *[!0-9]*|0|'') echo "quant-results: CHUNKS must be a positive integer" >&2; exit 2 ;; esac
chunk_opt=(); [ "$chunks" = all ] || chunk_opt=(--chunks "$chunks")

# model settings: groups of the base grid, the group the knobs are varied on, the rules for the tensors lq
# does not cover (embd_rule: %b is replaced by the code width), the bpw budgets of the derived statements
case $key in
zoo-qwen3)
    model=$shared/models/zoo/ts-qwen3-5M-f32.gguf; text=$shared/data/tinystories/ts260k-synth-valid.txt; ctx=512
    groups="32 64 128 r"; kg=64; budgets="2.3 3.1 4.6"
    embd_rule='token_embd.weight=q%b_K'; extra_rules=()
    embd_note='token_embd in q2_K / q3_K / q4_K for 2 / 3 / 4-bit codes (lq does not cover embeddings; llama-quantize gives the untied embedding the preset type), every other matrix (output.weight too) in the lq format'
    ;;
stories260K)
    model=$shared/models/stories260K/stories260K-f32.gguf; text=$shared/data/tinystories/TinyStories-valid.first22docs.txt
    ctx=128; groups="16 32 64"; kg=32; budgets="2.3 3.1 4.6 7.0 8.0"
    embd_rule='token_embd.weight=q8_0'; extra_rules=(--tensor-type '*.ffn_down.weight=f16')
    embd_note='the tied token_embd (also the output head) in Q8_0 and ffn_down (rows of 172: no lq group divides them) in F16, as llama-quantize falls back for them in every golden file; the other 30 matrices (rows of 64, so g64 is one group per row) in the lq format'
    ;;
*) echo "quant-results: unknown model '$key' (zoo-qwen3 or stories260K)" >&2; exit 2 ;;
esac
for f in "$model" "$text"; do [ -f "$f" ] || die "missing $f (the shared/ folder beside the checkout)"; done
mkdir -p "$scratch"
out=$here/docs/results/quant-$key

# which lrq: the last commit of the sources it is built from (+dirty) and the binary's own hash
src_paths=(src tools include CMakeLists.txt cmake)
src_commit=$(git -C "$here" log -1 --format=%h -- "${src_paths[@]}" 2>/dev/null || echo unknown)
[ -z "$(git -C "$here" status --porcelain -- "${src_paths[@]}" 2>/dev/null)" ] || src_commit=$src_commit-dirty
bin_sha=$(sha256sum "$lrq" | cut -c1-12)
# ... and the measurement set-up (context, text, the rules for the tensors lq does not cover): rows made under
# another set-up are not mixed in either
setup=$(printf '%s|' "$ctx" "${text#$shared/}" "$embd_rule" "${extra_rules[@]}" | sha256sum | cut -c1-8)
lrq_id=$src_commit:$bin_sha:$setup

# The design. Base grid: bits 2/3/4 x every group x sym/asym. Then each knob alone on b{2,3} g$kg {s,a}.
# Families (for the combination phase): clip, offset, round, codebook, params.
knobs=${KNOBS:-"cs c0.9 c0.8 o0.5 og rs rz0.25 rz0.5 rz1 kt20u kt20 kr20u pq8x16 pq6x16 pq4x16 pb16"}
knob_sa=${KNOB_SA:-"s a"}
family() {
    case $1 in
    c*) echo clip ;; o*) echo offset ;; r*) echo round ;; k*) echo codebook ;; p*) echo params ;;
    *) die "knob '$1' in no family" ;;
    esac
}
grid_rows=() # spec bits group sa knob family
add() { grid_rows+=("$1	$2	$3	$4	$5	$6"); }
gtok() { [ "$1" = r ] && echo gr || echo "g$1"; }
if [ "$grid" = small ]; then
    for b in 2 4; do for sa in s a; do add "b${b}$(gtok $kg)$sa" $b $kg $sa - base; done; done
    for k in cs og; do add "b2$(gtok $kg)s$k" 2 $kg s "$k" "$(family "$k")"; done
elif [ "$grid" = full ]; then
    for b in 2 3 4; do for g in $groups; do for sa in s a; do add "b${b}$(gtok "$g")$sa" $b "$g" $sa - base; done; done; done
    for b in 2 3; do for sa in $knob_sa; do for k in $knobs; do
        add "b${b}$(gtok $kg)$sa$k" $b $kg $sa "$k" "$(family "$k")"
    done; done; done
else
    die "GRID must be full or small"
fi
# size of the full design (for the time estimate of a test run): base + knobs, and up to one combination per knob base
n_groups=$(wc -w <<< "$groups"); n_knobs=$(wc -w <<< "$knobs"); n_sa=$(wc -w <<< "$knob_sa")
n_full=$((3 * n_groups * 2 + 2 * n_sa * n_knobs)); n_combo_max=$((2 * n_sa))

# the F32 reference log-probabilities (and PPL), per binary and chunk count
base=$scratch/base-$bin_sha-n$chunks.kld
if [ ! -s "$base" ] && [ "$dry" != 1 ]; then
    echo "quant-results: F32 reference log-probabilities ($key, -c $ctx, chunks $chunks)" >&2
    "$lrq" ppl -m "$model" -f "$text" -c "$ctx" -t "$threads" "${chunk_opt[@]}" --kl-divergence-base "$base" \
        > "$base.log" 2>&1 || die "lrq ppl on the F32 model failed: $(tail -1 "$base.log")"
fi
if [ "$dry" != 1 ]; then
    ppl_f32=$(sed -n 's/.*Final estimate: PPL = \([0-9.]*\).*/\1/p' "$base.log")
    total_chunks=$(sed -n 's/.* tokens, \([0-9]*\) chunks of .*/\1/p' "$base.log")
    used_chunks=$(sed -n 's/.* kernels: \([0-9]*\) chunks,.*/\1/p' "$base.log")
    [ -n "$ppl_f32" ] && [ -n "$total_chunks" ] && [ -n "$used_chunks" ] || die "cannot read $base.log"
fi

# tensor-data hash of a GGUF: the data section is the file's tail, every tensor padded to the alignment
data_sha() {
    local info size align total
    info=$("$lrq" info "$1" --tensors) || die "lrq info $1 failed"
    read -r size align < <(awk '/^format: GGUF/ {for (i = 1; i <= NF; i++) if ($i == "alignment") a = $(i + 1)}
                / bytes$/ && NF >= 5 {n = $(NF - 1); s += int((n + a - 1) / a) * a} END {print s, a}' <<< "$info")
    total=$(wc -c < "$1" | tr -d ' ')
    # the data section starts on an alignment boundary after the header: a check that the tail is exactly it
    [ -n "$size" ] && [ "$size" -gt 0 ] && [ "$size" -lt "$total" ] && [ $(((total - size) % align)) = 0 ] ||
        die "$1: the tensor data ($size bytes) does not end the file ($total bytes) on the alignment $align"
    tail -c "$size" "$1" | sha256sum | cut -c1-16
}
now() { date +%s.%N; }

# rows: id method format bits group sym knob family bpw bpw_data file_bytes n_weights ppl ln_ratio ln_err kld
#       kld_err same_top quant_s ppl_s data_sha lrq chunks  (id = spec|lrq|chunks)
tsv=$scratch/rows.tsv
header='id	method	format	bits	group	sym	knob	family	bpw	bpw_data	file_bytes	n_weights	ppl	ln_ppl_ratio	ln_ppl_ratio_err	mean_kld	mean_kld_err	same_top_pct	quant_s	ppl_s	data_sha	lrq	chunks'
[ -f "$tsv" ] || printf '%s\n' "$header" > "$tsv"
dry_tsv=$scratch/dry-$bin_sha.tsv
[ "$dry" = 1 ] && printf 'spec\tknob\tfamily\tbits\tgroup\tsym\tdata_sha\tbpw\n' > "$dry_tsv"

# run one config: quantize, check the byte count, measure; appends its row
run_one() { # spec bits group sa knob family
    local s=$1 b=$2 id="$1|$lrq_id|$chunks"
    if [ "$dry" != 1 ] && awk -F'\t' -v id="$id" '$1 == id {f = 1} END {exit !f}' "$tsv"; then return 0; fi
    local f=$scratch/$s.gguf rule=${embd_rule//%b/$b} t0 t1 t2
    t0=$(now)
    if ! "$lrq" quantize "$model" "$f" "lq:$s" --tensor-type "$rule" "${extra_rules[@]}" -t "$threads" \
        > "$scratch/$s.qlog" 2> "$scratch/$s.qerr"; then
        echo "quant-results: lrq quantize lq:$s REFUSED: $(tail -1 "$scratch/$s.qerr")" >&2
        return 1
    fi
    t1=$(now)
    local bpw_data n_w fbytes real sha
    bpw_data=$(sed -n 's/.* \([0-9.]*\) bpw over all \([0-9]*\) weights.*/\1/p' "$scratch/$s.qlog")
    n_w=$(sed -n 's/.* bpw over all \([0-9]*\) weights.*/\1/p' "$scratch/$s.qlog")
    fbytes=$(sed -n 's/^file: \([0-9]*\) bytes.*/\1/p' "$scratch/$s.qlog")
    real=$(wc -c < "$f" | tr -d ' ')
    [ -n "$fbytes" ] && [ "$fbytes" = "$real" ] || die "lq:$s: lrq quantize says ${fbytes:-?} bytes, the file has $real"
    sha=$(data_sha "$f")
    if [ "$dry" = 1 ]; then
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$5" "$6" "$b" "$3" "$4" "$sha" \
            "$(awk -v a="$real" -v n="$n_w" 'BEGIN {printf "%.4f", 8 * a / n}')" >> "$dry_tsv"
        [ "${KEEP:-0}" = 1 ] || rm -f "$f"
        return 0
    fi
    "$lrq" ppl -m "$f" -c "$ctx" -t "$threads" "${chunk_opt[@]}" --kl-divergence-base "$base" --kl-divergence \
        > "$scratch/$s.plog" 2>&1 || die "lrq ppl on lq:$s failed: $(tail -1 "$scratch/$s.plog")"
    t2=$(now)
    awk -v id="$id" -v s="$s" -v b="$b" -v g="$3" -v sa="$4" -v k="$5" -v fam="$6" -v bd="$bpw_data" \
        -v fb="$real" -v nw="$n_w" -v t0="$t0" -v t1="$t1" -v t2="$t2" -v sha="$sha" -v lid="$lrq_id" -v ch="$chunks" '
        /^Mean PPL\(Q\) / {p = $NF} /^Mean ln\(PPL\(Q\)\/PPL\(base\)\)/ {l = $4; le = $6}
        /^Mean    KLD:/ {kl = $3; ke = $5} /^Same top p:/ {t = $4}
        END {
            if (p == "" || kl == "") exit 1
            printf "%s\tlq\t%s\t%s\t%s\t%s\t%s\t%s\t%.4f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.2f\t%.2f\t%s\t%s\t%s\n",
                id, s, b, g, sa, k, fam, 8 * fb / nw, bd, fb, nw, p, l, le, kl, ke, t, t1 - t0, t2 - t1, sha, lid, ch
        }' "$scratch/$s.plog" >> "$tsv" || die "cannot read the statistics of $scratch/$s.plog"
    [ "${KEEP:-0}" = 1 ] || rm -f "$f"
}

n=${#grid_rows[@]}; i=0; t_start=$(now)
for r in "${grid_rows[@]}"; do
    i=$((i + 1))
    IFS=$'\t' read -r s b g sa k fam <<< "$r"
    echo "quant-results: [$i/$n] lq:$s" >&2
    run_one "$s" "$b" "$g" "$sa" "$k" "$fam" || die "the grid must contain only specs lrq accepts"
done

# the rows of this binary and chunk count (cur_rows with the header, for the awk programs below)
cur=$scratch/cur.tsv
select_rows() { awk -F'\t' -v lid="$lrq_id" -v ch="$chunks" 'NR == 1 || ($22 == lid && $23 == ch)' "$tsv" > "$cur"; }

# Combination phase: on each knob base (bits, sym/asym at group kg), the best variant of every family that
# lowered the mean KLD below the base's, all together in one spec
combos=()
if [ "$dry" != 1 ]; then
    select_rows
    while IFS=$'\t' read -r s b g sa toks; do combos+=("$s	$b	$g	$sa	$toks	combo"); done < <(
        awk -F'\t' -v kg="$kg" 'NR > 1 && $5 == kg && $4 <= 3 && $8 != "combo" {
            if ($8 == "base") bk[$4 "|" $6] = $16
            else if (!(($4 "|" $6 "|" $8) in best) || $16 < best[$4 "|" $6 "|" $8]) {
                best[$4 "|" $6 "|" $8] = $16; btok[$4 "|" $6 "|" $8] = $7
            }
        }
        END {
            nf = split("clip offset round codebook params", fams, " ")
            for (k in bk) {
                split(k, a, "|"); toks = ""; nk = 0
                for (j = 1; j <= nf; j++) {
                    f = k "|" fams[j]
                    if ((f in best) && best[f] < bk[k]) {toks = toks btok[f]; nk++}
                }
                # a combination needs at least two knobs (one alone is a row already)
                if (nk >= 2) print "b" a[1] "g" kg a[2] toks "\t" a[1] "\t" kg "\t" a[2] "\t" toks
            }
        }' "$cur" | sort)
    for r in "${combos[@]}"; do
        IFS=$'\t' read -r s b g sa k fam <<< "$r"
        # a single-knob "combination" is a row already
        awk -F'\t' -v s="$s" 'NR > 1 && $3 == s {f = 1} END {exit !f}' "$cur" && continue
        echo "quant-results: combination lq:$s" >&2
        run_one "$s" "$b" "$g" "$sa" "combo:$k" combo || echo "quant-results: combination lq:$s refused: skipped" >&2
    done
fi

# llama.cpp's own files (those golden/ keeps), measured by lrq in the same way as the lq rows: a check of the
# golden numbers on the same tokens and, for a CHUNKS test run, the comparable reference (REMEASURE=0: skip)
remeasure() { # type file
    local t=$1 f=$2 id="gguf:$1|$lrq_id|$chunks" t1 t2 fb nw
    awk -F'\t' -v id="$id" '$1 == id {f = 1} END {exit !f}' "$tsv" && return 0
    echo "quant-results: llama.cpp's $t file, measured by lrq" >&2
    t1=$(now)
    if ! "$lrq" ppl -m "$f" -c "$ctx" -t "$threads" "${chunk_opt[@]}" --kl-divergence-base "$base" --kl-divergence \
        > "$scratch/gguf-$t.plog" 2>&1; then
        echo "quant-results: lrq ppl on $f failed (skipped): $(tail -1 "$scratch/gguf-$t.plog")" >&2
        return 0
    fi
    t2=$(now)
    fb=$(wc -c < "$f" | tr -d ' ')
    nw=$(awk -F'\t' '$2 == "lq" {print $12; exit}' "$tsv")
    awk -v id="$id" -v t="$t" -v fb="$fb" -v nw="$nw" -v t1="$t1" -v t2="$t2" -v lid="$lrq_id" -v ch="$chunks" '
        /^Mean PPL\(Q\) / {p = $NF} /^Mean ln\(PPL\(Q\)\/PPL\(base\)\)/ {l = $4; le = $6}
        /^Mean    KLD:/ {kl = $3; ke = $5} /^Same top p:/ {st = $4}
        END {
            if (p == "" || kl == "") exit 1
            printf "%s\tllama.cpp/lrq\t%s\t-\t-\t-\t-\tremeasure\t%.4f\t-\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t-\t%.2f\t-\t%s\t%s\n",
                id, t, 8 * fb / nw, fb, nw, p, l, le, kl, ke, st, t2 - t1, lid, ch
        }' "$scratch/gguf-$t.plog" >> "$tsv" || echo "quant-results: cannot read $scratch/gguf-$t.plog (skipped)" >&2
}
if [ "$dry" != 1 ] && [ "${REMEASURE:-1}" = 1 ]; then
    if [ "$key" = zoo-qwen3 ]; then
        while IFS=$'\t' read -r file t rest; do
            f=$shared/golden/zoo/ts-qwen3-5M/$file
            if [ "$t" != F32 ] && [ -f "$f" ]; then remeasure "$t" "$f"; fi
        done < <(tail -n +2 "$shared/golden/zoo/ts-qwen3-5M/quality.tsv")
    else
        for f in "$shared"/golden/stories260K/s260-*.gguf; do t=${f##*/s260-}; remeasure "${t%.gguf}" "$f"; done
    fi
fi
t_end=$(now)

# DRY: the acceptance and byte-change report only
if [ "$dry" = 1 ]; then
    echo "quant-results: every spec accepted ($n configs); knobs whose tensor bytes equal their base's:" >&2
    awk -F'\t' 'NR > 1 && $2 == "-" {sha[$4 "|" $5 "|" $6] = $7}
        NR > 1 && $2 != "-" {b = sha[$4 "|" $5 "|" $6]; if (b == $7) {print "  " $1 " (same bytes as its base)"; n++}}
        END {if (!n) print "  none: every knob changed the bytes"}' "$dry_tsv" >&2
    exit 0
fi
select_rows

# llama.cpp's types from the golden tables (measured by the real llama.cpp v0.5.0)
n_weights=$(awk -F'\t' '$2 == "lq" {print $12; exit}' "$cur")
gold=$scratch/golden.tsv
if [ "$key" = zoo-qwen3 ]; then
    # bpw: size_bytes (the whole file) over the weights; bpw_data: the table's bpw (tensor data)
    awk -F'\t' -v nw="$n_weights" 'NR == 2 && $2 == "F32" {f32 = $5}
        NR > 2 {printf "%s|golden\tllama.cpp\t%s\t-\t-\t-\t-\tllama.cpp\t%.4f\t%s\t%s\t%s\t%s\t%.6f\t-\t%s\t-\t%s\t-\t-\t-\t-\t-\n",
            $2, $2, 8 * $4 / nw, $3, $4, nw, $5, log($5 / f32), $9, $10}' \
        "$shared/golden/zoo/ts-qwen3-5M/quality.tsv" > "$gold"
    ppl_f32_golden=$(awk -F'\t' 'NR == 2 && $2 == "F32" {print $5}' "$shared/golden/zoo/ts-qwen3-5M/quality.tsv")
    gold_note="golden/zoo/ts-qwen3-5M/quality.tsv: PPL = ppl_valid_exact (llama-perplexity -c 512 -b 512 -fa off -ctk f32 -ctv f32, whole text), ln ratio against its F32 row, mean_kld and same_top_pct (llama.cpp's default settings: F16 KV cache), bpw = size_bytes × 8 / weights (bpw_data = the table's bpw column, tensor data)"
else
    : > "$gold"
    f32g=$(awk -F'\t' -v c="$ctx" '$2 == c && $1 ~ /stories260K-f32.gguf$/ {print $4}' "$shared/golden/stories260K/ppl-exact.tsv")
    while IFS=$'\t' read -r file c nch p e; do
        [ "$c" = "$ctx" ] || continue
        case $file in golden/stories260K/s260-*.gguf) ;; *) continue ;; esac
        t=${file#golden/stories260K/s260-}; t=${t%.gguf}
        bd=$("$lrq" info "$shared/$file" | sed -n 's/^parameters: .* bpw: \([0-9.]*\)$/\1/p')
        fb=$(wc -c < "$shared/$file" | tr -d ' ')
        kl=$(awk -F'\t' -v f="s260-$t.gguf" '$1 == f {print $2 "\t" $3}' "$shared/golden/stories260K/kld.tsv")
        awk -v t="$t" -v bd="$bd" -v fb="$fb" -v nw="$n_weights" -v p="$p" -v f32="$f32g" -v kl="$kl" 'BEGIN {
            if (kl == "") kl = "-\t-"
            split(kl, a, "\t")
            printf "%s|golden\tllama.cpp\t%s\t-\t-\t-\t-\tllama.cpp\t%.4f\t%s\t%s\t%s\t%s\t%.6f\t-\t%s\t-\t%s\t-\t-\t-\t-\t-\n",
                t, t, 8 * fb / nw, bd, fb, nw, p, log(p / f32), a[1], a[2]}' >> "$gold"
    done < "$shared/golden/stories260K/ppl-exact.tsv"
    ppl_f32_golden=$f32g
    gold_note="golden/stories260K/ppl-exact.tsv at -c $ctx (llama-perplexity -fa off -ctk f32 -ctv f32, whole text; ln ratio against its F32 row) and kld.tsv (mean KLD, same top %; llama.cpp's default settings: F16 KV cache); bpw = file bytes × 8 / weights, bpw_data from \`lrq info\` (tensor data); identical files (fallbacks) have identical rows"
fi

# lq rows alone; Pareto fronts (lowest value for its bpw) on KLD (col 16) and on the ln ratio (col 14)
lq=$scratch/lq.tsv
awk -F'\t' 'NR > 1 && $2 == "lq"' "$cur" > "$lq"
re=$scratch/remeasured.tsv
awk -F'\t' 'NR > 1 && $2 == "llama.cpp/lrq"' "$cur" > "$re"
front() { sort -t$'\t' -k9,9g "$1" | awk -F'\t' -v c="$2" 'BEGIN {best = 1e30} $c != "-" && $c + 0 < best {best = $c + 0; print}'; }
front "$lq" 16 > "$scratch/front-kld.tsv"
front "$lq" 14 > "$scratch/front-ln.tsv"
# llama.cpp points on the plot: not F16/BF16 (far right); duplicate rows (identical files) labelled together
awk -F'\t' '$3 != "F16" && $3 != "BF16" && $16 != "-" {k = $11 "|" $16; if (k in l) l[k] = l[k] "=" $3; else {l[k] = $3; r[k] = $0; o[++n] = k}}
    END {for (i = 1; i <= n; i++) {split(r[o[i]], a, "\t"); a[3] = l[o[i]]; s = a[1]; for (j = 2; j <= 23; j++) s = s "\t" a[j]; print s}}' \
    "$gold" > "$scratch/gold-plot.tsv"

{ printf '%s\n' "$header"; cat "$lq" "$gold" "$re"; } | cut -f2- > "$out.tsv"
awk -F'\t' '$3 != "F16" && $3 != "BF16"' "$re" > "$scratch/re-plot.tsv"

plot_to() { # terminal output
    gnuplot <<GP
set terminal $1 size 1300,560 $([ "$1" = svg ] && echo "dynamic" || echo "")
set output "$2"
set multiplot layout 1,2 title "$key: lrq lq formats (RTN, no calibration) vs llama.cpp v0.5.0 types — ctx $ctx, chunks $chunks"
set datafile separator "\t"
set xlabel "bits per weight (every byte of the file)"
set grid
set key bottom left
set logscale y
set ylabel "mean KLD vs F32"
plot "$lq" using 9:16 with points pt 7 ps 0.6 lc rgb "#1f77b4" title "lrq lq", \
     "$scratch/front-kld.tsv" using 9:16 with linespoints lw 2 pt 7 ps 0.6 lc rgb "#1f77b4" title "lq Pareto front", \
     "$scratch/gold-plot.tsv" using 9:16 with points pt 5 ps 1 lc rgb "#d62728" title "llama.cpp", \
     "$scratch/gold-plot.tsv" using 9:16:3 with labels offset 0.6,0.6 left font ",8" tc rgb "#d62728" noenhanced notitle, \
     "$scratch/re-plot.tsv" using 9:16 with points pt 4 ps 1.4 lc rgb "#d62728" title "llama.cpp file, measured by lrq"
set ylabel "ln(PPL / PPL_F32)  (rows <= 0 not drawn)"
plot "$lq" using 9:(\$14 > 0 ? \$14 : 1/0) with points pt 7 ps 0.6 lc rgb "#1f77b4" title "lrq lq", \
     "$scratch/front-ln.tsv" using 9:(\$14 > 0 ? \$14 : 1/0) with linespoints lw 2 pt 7 ps 0.6 lc rgb "#1f77b4" title "lq Pareto front", \
     "$scratch/gold-plot.tsv" using 9:(\$14 > 0 ? \$14 : 1/0) with points pt 5 ps 1 lc rgb "#d62728" title "llama.cpp", \
     "$scratch/gold-plot.tsv" using 9:(\$14 > 0 ? \$14 : 1/0):3 with labels offset 0.6,0.6 left font ",8" tc rgb "#d62728" noenhanced notitle, \
     "$scratch/re-plot.tsv" using 9:(\$14 > 0 ? \$14 : 1/0) with points pt 4 ps 1.4 lc rgb "#d62728" title "llama.cpp file, measured by lrq"
unset multiplot
GP
}
png=pngcairo
gnuplot -e "set terminal" 2>&1 | grep -q pngcairo || png=png
plot_to "$png" "$out.png"
plot_to svg "$out.svg"

# ---- the .md: every number below comes from the rows ----
n_lq=$(wc -l < "$lq" | tr -d ' ')
# (no "| head" in this script: under pipefail a writer killed by SIGPIPE would stop it)
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | sed -n 1p)
[ -n "$cpu" ] || cpu=$(sysctl -n machdep.cpu.brand_string 2>/dev/null || echo unknown)
ncpu=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo '?')
cmd="scripts/quant-results.sh $key"
[ "$chunks" = all ] || cmd="CHUNKS=$chunks $cmd"
[ "$grid" = full ] || cmd="GRID=$grid $cmd"
[ -z "${KNOBS:-}" ] || cmd="KNOBS=\"$KNOBS\" $cmd"
[ -z "${KNOB_SA:-}" ] || cmd="KNOB_SA=\"$KNOB_SA\" $cmd"
fmt_row='{printf "| %s | %s | %.3f | %.3f | %.4f | %+.4f | %s | %s |\n", $2, $3, $9, $10, $13, $14, ($16 == "-" ? "-" : sprintf("%.6f", $16)), $18}'
{
    echo "# Quantization results: $key"
    echo
    echo "Generated by \`$cmd\` (every number below comes from that run or from the golden tables; nothing is"
    echo "typed by hand). lrq sources at commit $src_commit (binary sha256 $bin_sha…), checkout $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown),"
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'), on \`$(uname -srm)\`, $cpu, $ncpu CPUs, $threads threads."
    echo
    if [ "$chunks" != all ]; then
        echo "**Test run: only the first $used_chunks of $total_chunks chunks were scored (CHUNKS=$chunks). The lq rows are NOT"
        echo "comparable with the llama.cpp rows (whole text); the full run is \`scripts/quant-results.sh $key\`.**"
        echo
    fi
    echo "Model \`${model#$shared/}\`, text \`${text#$shared/}\`, context $ctx, $used_chunks chunks; F32 PPL"
    echo "$ppl_f32 (lrq; llama.cpp's on the whole text: $ppl_f32_golden). lq rows: \`lrq quantize F32 OUT lq:SPEC --tensor-type ...\` with $embd_note; round to nearest"
    echo "unless the spec says otherwise, no importance matrix; spec grammar and byte layout in [docs/formats.md](../formats.md)."
    echo "Measured by \`lrq ppl --kl-divergence\` against the F32 model's log-probabilities on the same tokens (exact F32"
    echo "attention, F32 KV cache): PPL = its Mean PPL(Q), ln(PPL/PPL_F32) its paired mean, KLD its mean KLD."
    echo "llama.cpp rows: $gold_note."
    echo "**bpw = 8 × (every byte of the file) / weights** (metadata, tensor infos, lq companions, padding, embeddings and"
    echo "fallback tensors included; each lq file's size is checked against what \`lrq quantize\` reports); bpw_data counts"
    echo "the tensor data only, as golden quality.tsv's bpw column does."
    small=$(awk -F'\t' 'NR == 1 || $9 + 0 < m {m = $9 + 0; r = $0} END {print r}' "$lq")
    sq=$scratch/$(cut -f3 <<< "$small").qlog
    if [ -f "$sq" ]; then
        awk -F'\t' -v row="$small" 'BEGIN {split(row, r, "\t")}
            NF == 1 && $1 ~ /^[a-z_.0-9]+weight / {
                split($1, a, " "); n = split(a[2], d, "x"); w = 1; for (i = 1; i <= n; i++) w *= d[i]
                t = a[3]; sub(/.*->/, "", t)
                if (t ~ /^lq/) lw += w; else {ow += w; ob += w * a[4]; ty[t] = 1}
            }
            END {
                for (t in ty) tl = tl (tl == "" ? "" : ", ") t
                printf "Of the smallest lq file (`%s`, %.3f bpw): %.3f bpw are the tensors lq does not cover (%.1f%% of the weights, in %s), %.3f bpw the metadata and tensor infos; the lq matrices are %.1f%% of the weights.\n",
                    r[3], r[9], ob / r[12], 100 * ow / r[12], tl, r[9] - r[10], 100 * lw / r[12]
            }' "$sq"
    fi
    echo
    echo "Time per lq config (this machine, $threads threads): quantize $(awk -F'\t' '{s += $19} END {printf "%.2f", s / NR}' "$lq") s,"
    echo "ppl + KLD $(awk -F'\t' '{s += $20} END {printf "%.1f", s / NR}' "$lq") s on $used_chunks chunks (mean over the $n_lq rows; rows kept from an"
    echo "earlier run of the same binary count with their own times; the machine is shared, load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?') when this was written)."
    awk -F'\t' -v n="$n_lq" -v u="$used_chunks" -v t="$total_chunks" -v nf="$n_full" -v nc="$n_combo_max" '{q += $19; p += $20}
        END {c = (q + p * t / u) / n; if (u != t) printf "Estimated time on the whole text (%d chunks): %.1f s per config, so %.0f min for these %d configs and %.0f min for the full design (%d configs + up to %d combinations)", t, c, c * n / 60, n, c * (nf + nc) / 60, nf, nc}' "$lq"
    awk -F'\t' -v u="$used_chunks" -v t="$total_chunks" '{p += $20; n++}
        END {if (u != t) printf ", plus %.0f min for the %d llama.cpp files measured by lrq (REMEASURE=0 skips them)", p * t / u / 60, n; if (u != t) print "."}' "$re"
    echo
    echo "![PPL and KLD vs bpw](quant-$key.png) ([SVG](quant-$key.svg); every row: [quant-$key.tsv](quant-$key.tsv))"
    echo
    echo "## Design"
    echo
    echo "$n_lq lq configurations instead of the full factorial: (1) the base grid, bits 2/3/4 × group"
    echo "$(echo "$groups" | sed 's/ /, /g; s/, r$/ and per row (gr)/') × symmetric/asymmetric (defaults otherwise: F16 scales, offset 0, nearest, no"
    echo "clipping, uniform grid); (2) each knob alone on bits 2 and 3, group $kg, $(echo "$knob_sa" | sed 's/s/symmetric/; s/a/asymmetric/; s/ / and /'): $(echo "$knobs" | sed 's/ /, /g')"
    echo "— clip search (cs) and fixed clips (c<R>), tensor offset ½ (o0.5) and per-group offsets (og), stochastic"
    echo "rounding (rs) and noise injection of several widths (rz<L>), codebooks per tensor (kt, from the uniform"
    echo "grid with u or seeded k-means++) and per row (kr), double-quantized (pq<K>x<S>) and BF16 (pb16) parameters;"
    echo "(3) on each of those bases, the best variant of every knob family (clip, offset, round, codebook, params)"
    echo "that lowered the mean KLD, combined in one spec (chosen by the script from (2))."
    echo "Stochastic rounding, noise and k-means++ use the seed lrq quantize derives from each tensor's name: lrq has no"
    echo "seed option, so each is one draw, not several seeds."
    awk -F'\t' 'NR > 1 && $7 == "-" {sha[$4 "|" $5 "|" $6] = $21}
        NR > 1 && $7 != "-" && $8 != "combo" {b = sha[$4 "|" $5 "|" $6]; if (b != "" && b == $21) same = same (same == "" ? "" : ", ") "`" $3 "`"}
        END {if (same == "") print "Every knob changed the tensor bytes of the file (sha256 of the data section against its base)."
             else print "**Knobs that did not change the tensor bytes (same sha256 of the data section as their base): " same ".**"}' "$cur"
    echo
    echo "## Derived from the rows"
    echo
    echo "Best lq config (lowest mean KLD) within each bpw budget, beside the llama.cpp type nearest in bpw to it:"
    echo
    echo "| budget | lq config | bpw | ln(PPL/PPL_F32) | KLD | llama.cpp type | bpw | ln(PPL/PPL_F32) | KLD |"
    echo "|---|---|---|---|---|---|---|---|---|"
    for B in $budgets; do
        awk -F'\t' -v B="$B" 'FNR == NR {if ($16 != "-") {gn++; gb[gn] = $9; gt[gn] = $3; gl[gn] = $14; gk[gn] = $16}; next}
            $9 + 0 <= B + 0 && (best == "" || $16 + 0 < bk) {best = $3; bb = $9; bl = $14; bk = $16 + 0}
            {if (mn == "" || $9 + 0 < mn) {mn = $9 + 0; mc = $3}}
            END {
                if (best == "") {printf "| ≤ %s | none (the smallest lq file is `%s`, %.3f bpw) | | | | | | | |\n", B, mc, mn; exit}
                d = 1e30; for (i = 1; i <= gn; i++) {x = gb[i] - bb; if (x < 0) x = -x; if (x < d) {d = x; j = i}}
                printf "| ≤ %s | `%s` | %.3f | %+.4f | %.6f | %s | %.3f | %+.4f | %.6f |\n", B, best, bb, bl, bk, gt[j], gb[j], gl[j], gk[j]
            }' "$gold" "$lq"
    done
    echo
    echo "Every llama.cpp type beside the best lq config (lowest mean KLD) no larger than it:"
    echo
    echo "| llama.cpp type | bpw | ln(PPL/PPL_F32) | KLD | best lq at ≤ its bpw | bpw | ln(PPL/PPL_F32) | KLD |"
    echo "|---|---|---|---|---|---|---|---|"
    sort -t$'\t' -k9,9g "$gold" | awk -F'\t' 'FNR == NR {n++; b[n] = $9; s[n] = $3; l[n] = $14; k[n] = $16; next}
        $16 != "-" {bi = 0; for (i = 1; i <= n; i++) if (b[i] <= $9 && (!bi || k[i] < k[bi])) bi = i
            if (bi) printf "| %s | %.3f | %+.4f | %.6f | `%s` | %.3f | %+.4f | %.6f |\n", $3, $9, $14, $16, s[bi], b[bi], l[bi], k[bi]
            else printf "| %s | %.3f | %+.4f | %.6f | none | | | |\n", $3, $9, $14, $16}' "$lq" -
    echo
    for B in 2 3; do
        echo "Knobs at $B bits, each against its base (same bits, group, sym/asym; Δ = knob − base; negative is better):"
        echo
        echo "| config | knob | bpw | ln(PPL/PPL_F32) | Δ ln | KLD | Δ KLD | same top % |"
        echo "|---|---|---|---|---|---|---|---|"
        awk -F'\t' -v B="$B" '$4 == B && $7 == "-" {bl[$5 "|" $6] = $14; bk[$5 "|" $6] = $16; bn[$5 "|" $6] = $3}
            $4 == B && $7 != "-" {n++; r[n] = $0}
            END {for (i = 1; i <= n; i++) {split(r[i], a, "\t"); k = a[5] "|" a[6]; if (!(k in bl)) continue
                printf "| `%s` | %s | %.3f | %+.4f | %+.4f | %.6f | %+.6f | %s |\n", a[3], a[7], a[9], a[14], a[14] - bl[k], a[16], a[16] - bk[k], a[18]}}' "$lq"
        echo
    done
    awk -F'\t' '$4 == 2 && $7 == "-" {bl[$5 "|" $6] = $14; bk[$5 "|" $6] = $16}
        $4 == 2 && $7 != "-" && $8 != "combo" {n++; r[n] = $0}
        END {
            for (i = 1; i <= n; i++) {split(r[i], a, "\t"); k = a[5] "|" a[6]; if (!(k in bl)) continue
                dl = a[14] - bl[k]; dk = a[16] - bk[k]; al = dl < 0 ? -dl : dl; ak = dk < 0 ? -dk : dk
                if (ak > mk) {mk = ak; sk = a[3]; vk = dk; fk = a[8]}
                if (al > ml) {ml = al; sl = a[3]; vl = dl; fl = a[8]}
                if (dk < bestk) {bestk = dk; sbk = a[3]; bestl = dl}
            }
            if (sk == "" && sl == "") {print "No knob moved PPL or KLD at 2 bits (or there are no knob rows)."; exit}
            printf "**At 2 bits the knob that moved KLD most is `%s` (%s family, %s: Δ KLD %+.6f); the one that moved ln(PPL/PPL_F32) most is `%s` (%s, %s: Δ %+.4f).**", sk, fk, (vk < 0 ? "better" : "worse"), vk, sl, fl, (vl < 0 ? "better" : "worse"), vl
            if (sbk != "") printf " The largest KLD improvement over its base: `%s` (%+.6f, ln ratio %+.4f).", sbk, bestk, bestl
            else printf " No knob lowered the KLD of its base."
            print ""
        }' "$lq"
    echo
    echo "Pareto front of lq on KLD (no config at most as large is better): $(cut -f3 "$scratch/front-kld.tsv" | sed 's/.*/`&`/' | paste -sd, - | sed 's/,/, /g')."
    echo "On ln(PPL/PPL_F32): $(cut -f3 "$scratch/front-ln.tsv" | sed 's/.*/`&`/' | paste -sd, - | sed 's/,/, /g')."
    echo
    if [ -s "$re" ]; then
        echo "## llama.cpp's files measured by lrq"
        echo
        echo "The llama.cpp files golden/ keeps, measured by \`lrq ppl --kl-divergence\` exactly as the lq rows ($used_chunks chunks, the"
        echo "same tokens, exact attention, F32 KV cache), beside the golden numbers (llama.cpp, whole text; its KLD with an F16"
        echo "KV cache). $([ "$chunks" = all ] && echo "A check of the measurement." || echo "In this test run, these are the reference the lq rows compare with.")"
        echo
        echo "| type | bpw | PPL (lrq) | PPL (golden) | ln ratio (lrq) | ln ratio (golden) | KLD (lrq) | KLD (golden) | same top % (lrq) | ppl s |"
        echo "|---|---|---|---|---|---|---|---|---|---|"
        sort -t$'\t' -k9,9g "$re" | awk -F'\t' 'FNR == NR {gp[$3] = $13; gl[$3] = $14; gk[$3] = $16; next}
            {printf "| %s | %.3f | %.4f | %s | %+.4f | %s | %.6f | %s | %s | %.1f |\n", $3, $9, $13, ($3 in gp ? gp[$3] : "-"),
                $14, ($3 in gl ? sprintf("%+.4f", gl[$3]) : "-"), $16, ($3 in gk ? gk[$3] : "-"), $18, $20}' "$gold" -
        echo
    fi
    echo "## All rows (by bpw)"
    echo
    echo "| method | format | bpw | bpw_data | PPL | ln(PPL/PPL_F32) | mean KLD | same top % |"
    echo "|---|---|---|---|---|---|---|---|"
    cat "$lq" "$gold" | sort -t$'\t' -k9,9g | awk -F'\t' "$fmt_row"
} > "$out.md"
echo "quant-results: wrote $out.md, .tsv, .png, .svg ($n_lq lq rows, $(awk -v a="$t_start" -v b="$t_end" 'BEGIN {printf "%.0f", b - a}') s this run)" >&2
if [ "$chunks" != all ]; then
    awk -F'\t' -v n="$n_lq" -v u="$used_chunks" -v t="$total_chunks" -v k="$key" -v nf="$n_full" -v nc="$n_combo_max" '{q += $19; p += $20}
        END {c = (q + p * t / u) / n
             printf "quant-results: estimate on the whole text (%d chunks): %.1f s per config; the full %s design (%d configs + up to %d combinations): %.0f min\n", t, c, k, nf, nc, c * (nf + nc) / 60}' "$lq" >&2
    awk -F'\t' -v u="$used_chunks" -v t="$total_chunks" '{p += $20; n++}
        END {if (n) printf "quant-results: + %.0f min for the %d llama.cpp files measured by lrq (REMEASURE=0 skips them)\n", p * t / u / 60, n}' "$re" >&2
fi
