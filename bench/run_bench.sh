#!/usr/bin/env bash
# run_bench.sh — reproduces the measurements of docs/benchmarks.md:
#   decode  tok/s of a random-weight Qwen2.5-1.5B-shaped model (`lrq mkrand` F16 and Q8_0, and
#           llama-quantize's Q4_0 and Q2_K of the F16 file) at 1 and 2 threads: lrq's
#           bench_decode -p 0 -n 32 vs llama-bench -p 0 -n 32, and in every round the
#           memory read bandwidth the decode could reach at best (bench_decode --membw 1024);
#   prefill tok/s on the same files: bench_decode -p 512 -n 0 vs llama-bench -p 512 -n 0;
#   ppl     `lrq ppl` vs llama-perplexity (-fa off -ctk f32 -ctv f32) tokens/s and PPL on the zoo's
#           ts-qwen3-5M files, -c 512 -b 512 -t 2 on data/tinystories/ts260k-synth-valid.txt.
# The tools are interleaved (each round runs both, alternating which goes first) and every repetition
# is kept, so that the medians of a shared, noisy machine compare like with like. On Linux each run
# waits for a quiet machine first and records how much CPU other processes used while it ran; runs
# disturbed by more than EXCLUDE of the machine are left out of the medians (raw.tsv keeps them).
#
# usage: bench/run_bench.sh [LLAMA_CPP_BUILD_DIR]
#   LLAMA_CPP_BUILD_DIR  an existing llama.cpp build: the folder holding bin/llama-bench (or bin/ itself).
#                        Optional: without it only lrq is measured. This script never builds llama.cpp.
# environment (all optional):
#   SCRATCH     models, the lrq build and results (default ${TMPDIR:-/tmp}/lrq-bench; never inside the repo:
#               the F16 model is 3.1 GB and mkrand needs as much again while it runs)
#   LRQ_BIN     folder with lrq and bench_decode (default: configure and build the repo into $SCRATCH/build)
#   LRQ_DESC    with LRQ_BIN: what source those binaries were built from (recorded in env.txt)
#   LRQ_BIN_BEFORE, LRQ_DESC_BEFORE
#               optional second lrq build (e.g. an earlier commit) measured as tool "lrq-before" in the
#               same rounds, rotated with the others, for before/after tables (ratio after / before)
#   LRQ_SHARED  the shared data folder (default: <repo>/../shared)
#   PARTS       "decode prefill ppl" (any subset)
#   ROUNDS=3 REPS=3        decode: interleaved rounds x repetitions per tool per round
#   PP_ROUNDS=2 PP_REPS=2  prefill: the same
#   PPL_ROUNDS=2           ppl: runs per tool and file
#   THREADS="1 2" TYPES="f16 q8_0 Q4_0 Q2_K" PPL_TYPES="F32 Q8_0 Q4_0 Q4_K_M Q2_K" SEED=1
#               (TYPES: lower case = `lrq mkrand --type`, upper case = llama-quantize's file type, made
#               from the f16 file, needs the llama.cpp build dir; IQ2_*/IQ1_* with an importance matrix
#               that `lrq imatrix` computes from the f16 file on IMAT_TEXT, IMAT_CHUNKS chunks of 512;
#               lq2, lq3, lq4 = lrq's own 2/3/4-bit files, `lrq quantize f16 OUT --recipe
#               recipes/speed-Nbit.recipe`. Making a file records its quantization time.)
#   IMAT_TEXT=<shared>/data/calib/english-sentences.txt IMAT_CHUNKS=4
#   SHAPE=qwen2.5-1.5b     the mkrand shape of the decode/prefill model (a small one for a quick trial run)
#   QUIET=0.15 MAX_WAIT=900  before each run wait (at most MAX_WAIT s) until other processes keep at most
#                          this fraction of all CPUs busy (sampled over 2 s); 1 = never wait
#   EXCLUDE=0.10           leave out of the medians runs during which other processes used more than this
#                          fraction of all CPUs; 1 = keep everything
# Output: $SCRATCH/results/<date>/{summary.md,raw.tsv,env.txt,logs/}; summary.md is also printed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
SCRATCH=${SCRATCH:-${TMPDIR:-/tmp}/lrq-bench}
case "$SCRATCH/" in "$repo"/*) echo "run_bench: SCRATCH must be outside the repo ($repo)" >&2; exit 2 ;; esac
export LRQ_SHARED=${LRQ_SHARED:-$(cd "$repo/.." && pwd)/shared}
PARTS=${PARTS:-decode prefill ppl}
ROUNDS=${ROUNDS:-3}; REPS=${REPS:-3}; PP_ROUNDS=${PP_ROUNDS:-2}; PP_REPS=${PP_REPS:-2}; PPL_ROUNDS=${PPL_ROUNDS:-2}
THREADS=${THREADS:-1 2}; TYPES=${TYPES:-f16 q8_0 Q4_0 Q2_K}; PPL_TYPES=${PPL_TYPES:-F32 Q8_0 Q4_0 Q4_K_M Q2_K}; SEED=${SEED:-1}
SHAPE=${SHAPE:-qwen2.5-1.5b}; QUIET=${QUIET:-0.15}; MAX_WAIT=${MAX_WAIT:-900}; EXCLUDE=${EXCLUDE:-0.10}
IMAT_TEXT=${IMAT_TEXT:-$LRQ_SHARED/data/calib/english-sentences.txt}; IMAT_CHUNKS=${IMAT_CHUNKS:-4}

# ---- tools ----
llama_bin=""
if [ $# -ge 1 ] && [ -n "$1" ]; then
    for d in "$1/bin" "$1"; do
        if [ -x "$d/llama-bench" ]; then llama_bin=$(cd "$d" && pwd); break; fi
    done
    [ -n "$llama_bin" ] || { echo "run_bench: no llama-bench in $1/bin or $1" >&2; exit 2; }
fi
mkdir -p "$SCRATCH"
lrq_built=""
if [ -z "${LRQ_BIN:-}" ]; then
    echo "run_bench: building lrq into $SCRATCH/build" >&2
    cmake -S "$repo" -B "$SCRATCH/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$SCRATCH/build" -j2 --target lrq_cli bench_decode >/dev/null
    LRQ_BIN=$SCRATCH/build/bin
    lrq_built=1
fi
lrq=$LRQ_BIN/lrq
bdec=$LRQ_BIN/bench_decode
[ -x "$lrq" ] && [ -x "$bdec" ] || { echo "run_bench: $lrq or $bdec missing" >&2; exit 2; }
lrq_b=""; bdec_b=""
if [ -n "${LRQ_BIN_BEFORE:-}" ]; then
    lrq_b=$LRQ_BIN_BEFORE/lrq; bdec_b=$LRQ_BIN_BEFORE/bench_decode
    [ -x "$lrq_b" ] && [ -x "$bdec_b" ] || { echo "run_bench: $lrq_b or $bdec_b missing" >&2; exit 2; }
fi

out=$SCRATCH/results/$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$out/logs"
raw=$out/raw.tsv
printf 'part\ttool\ttype\tthreads\tround\tmetric\tvalue\tbusy_before\tothers_during\n' > "$raw"

# ---- environment ----
{
    echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    if [ -r /proc/cpuinfo ]; then
        echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //') (family $(grep -m1 'cpu family' /proc/cpuinfo | sed 's/.*: //'), model $(grep -m1 '^model[[:space:]]' /proc/cpuinfo | sed 's/.*: //')), $(grep -c ^processor /proc/cpuinfo) logical CPUs"
        command -v lscpu >/dev/null && echo "caches: $(lscpu | grep -E '^L[123]' | sed 's/  */ /g' | tr '\n' ';')"
        echo "cpu flags: $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx2|avx512f|avx512bw|avx512vl|avx512_vnni|avx512_bf16|avx512vbmi|amx_tile|f16c|fma)$' | tr '\n' ' ')"
        echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
    else
        echo "cpu: $(sysctl -n machdep.cpu.brand_string 2>/dev/null || uname -m), $(getconf _NPROCESSORS_ONLN) logical CPUs"
        echo "memory: $(($(sysctl -n hw.memsize 2>/dev/null || echo 0) / 1073741824)) GiB"
    fi
    echo "os: $(uname -srm)"
    commit=$(git -C "$repo" rev-parse HEAD 2>/dev/null || echo unknown)
    dirty=$(git -C "$repo" status --porcelain 2>/dev/null | grep -c . || true)
    if [ -n "$lrq_built" ]; then
        echo "lrq: commit $commit$([ "${dirty:-0}" -gt 0 ] && echo " + $dirty uncommitted changes"), $("$lrq" --version)"
    else
        echo "lrq: $("$lrq" --version) from $LRQ_BIN (${LRQ_DESC:-source not stated}); repo at commit $commit"
    fi
    [ -z "$lrq_b" ] || echo "lrq-before: $("$lrq_b" --version) from $LRQ_BIN_BEFORE (${LRQ_DESC_BEFORE:-source not stated})"
    if [ -n "$llama_bin" ]; then
        echo "llama.cpp: $("$llama_bin/llama-bench" --version 2>&1 | head -1) ($llama_bin)"
    else
        echo "llama.cpp: not given (lrq only)"
    fi
    echo "settings: QUIET=$QUIET MAX_WAIT=$MAX_WAIT EXCLUDE=$EXCLUDE ROUNDS=$ROUNDS REPS=$REPS PP_ROUNDS=$PP_ROUNDS PP_REPS=$PP_REPS PPL_ROUNDS=$PPL_ROUNDS THREADS='$THREADS' TYPES='$TYPES' PPL_TYPES='$PPL_TYPES' SEED=$SEED SHAPE=$SHAPE"
} > "$out/env.txt"
cat "$out/env.txt" >&2

# ---- how busy the machine is (Linux; elsewhere "NA" and nothing waits) ----
ncpu=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
hz=$(getconf CLK_TCK 2>/dev/null || echo 100)
# busy jiffies of all CPUs: user nice system irq softirq steal
stat_busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }
now() { if [ -n "${EPOCHREALTIME:-}" ]; then echo "${EPOCHREALTIME/,/.}"; else date +%s; fi; }
# Fraction of the machine busy over 2 s.
cpu_busy() {
    [ -r /proc/stat ] || { echo NA; return; }
    local b0 b1 t0 t1
    b0=$(stat_busy); t0=$(now); sleep 2; b1=$(stat_busy); t1=$(now)
    awk -v b="$((b1 - b0))" -v t0="$t0" -v t1="$t1" -v hz="$hz" -v n="$ncpu" 'BEGIN { printf "%.2f", b / hz / ((t1 - t0) * n) }'
}
# Wait until the machine is quiet (see QUIET); BUSY = the last busy fraction seen.
BUSY=NA
wait_quiet() {
    local start=$SECONDS
    while :; do
        BUSY=$(cpu_busy)
        [ "$BUSY" = NA ] && return 0
        awk -v b="$BUSY" -v q="$QUIET" 'BEGIN { exit !(b <= q) }' && return 0
        [ $((SECONDS - start)) -ge "$MAX_WAIT" ] && { echo "run_bench: still busy ($BUSY) after ${MAX_WAIT}s, measuring anyway" >&2; return 0; }
        sleep 8
    done
}
# timed LOG CMD...: wait for quiet, run CMD (stdout+stderr to LOG) and set OTHERS = the fraction of the
# machine that other processes used meanwhile (all busy CPU time minus CMD's own user+system time).
OTHERS=NA
timed() {
    local log=$1 tf b0 b1 t0 t1 rc=0; shift
    wait_quiet
    if [ ! -r /proc/stat ]; then OTHERS=NA; "$@" > "$log" 2>&1 || rc=$?; return $rc; fi
    tf=$(mktemp)
    b0=$(stat_busy); t0=$(now)
    { TIMEFORMAT='%3U %3S'; time "$@" > "$log" 2>&1 || rc=$?; } 2> "$tf"
    b1=$(stat_busy); t1=$(now)
    OTHERS=$(awk -v b="$((b1 - b0))" -v t0="$t0" -v t1="$t1" -v hz="$hz" -v n="$ncpu" \
        '{ o = b / hz - ($1 + $2); if (o < 0) o = 0; printf "%.2f", o / ((t1 - t0) * n); exit }' "$tf")
    rm -f "$tf"
    return $rc
}
# record PART TOOL TYPE THREADS ROUND METRIC "v1 v2 ..."
record() {
    local v
    for v in $7; do printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$6" "$v" "$BUSY" "$OTHERS" >> "$raw"; done
}
# values of key=a,b,c on bench_decode's SAMPLES line, space-separated
samples() { grep '^SAMPLES' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | tr ',' ' '; }
# llama-bench -o jsonl: samples_ts of its (single) test line
llama_samples() { grep -o '"samples_ts": *\[[^]]*\]' "$1" | sed 's/.*\[//; s/\]//; s/,/ /g'; }

# ---- models ----
# Lower-case types (f16, q8_0, ...) are written by `lrq mkrand` (every matrix of that type); upper-case
# llama.cpp file types (Q4_0, Q2_K, Q4_K_M, ...) by llama-quantize from the f16 file, i.e. with
# llama.cpp's own mix (e.g. a Q6_K output matrix), exactly the file a llama.cpp user would have.
model_of() { echo "$SCRATCH/models/$SHAPE-rand-s$SEED-$1.gguf"; }
if [[ " $PARTS " == *" decode "* || " $PARTS " == *" prefill "* ]]; then
    mkdir -p "$SCRATCH/models"
    types_ok=""
    src=$(model_of f16)
    need_src() {
        if [ ! -s "$src" ]; then
            echo "run_bench: lrq mkrand --shape $SHAPE --type f16 --seed $SEED -o $src" >&2
            "$lrq" mkrand --shape "$SHAPE" --type f16 --seed "$SEED" -o "$src"
        fi
    }
    for ty in $TYPES; do
        f=$(model_of "$ty")
        if [ ! -s "$f" ] && [[ "$ty" =~ ^lq[234]$ ]]; then
            need_src
            recipe=$repo/recipes/speed-${ty#lq}bit.recipe
            echo "run_bench: lrq quantize $src $f --recipe $recipe -t 2" >&2
            timed "$out/logs/quantize-$ty.txt" "$lrq" quantize "$src" "$f.tmp" --recipe "$recipe" -t 2 ||
                { echo "run_bench: lrq quantize $ty failed, see $out/logs/quantize-$ty.txt" >&2; continue; }
            mv "$f.tmp" "$f"
            record quantize lrq "$ty" 2 1 seconds "$(sed -n 's/.* \([0-9.]*\) s$/\1/p' "$out/logs/quantize-$ty.txt" | tail -1)"
        elif [ ! -s "$f" ] && [[ "$ty" =~ [A-Z] ]]; then
            if [ -z "$llama_bin" ] || [ ! -x "$llama_bin/llama-quantize" ]; then
                echo "run_bench: skipping $ty (made with llama-quantize, which needs the llama.cpp build dir)" >&2
                continue
            fi
            need_src
            imat_opt=()
            if [[ "$ty" =~ ^IQ[12]_ ]]; then # llama-quantize refuses these without an importance matrix
                imat=$SCRATCH/models/$SHAPE-rand-s$SEED.imatrix.gguf
                if [ ! -s "$imat" ]; then
                    echo "run_bench: lrq imatrix -m $src -f $IMAT_TEXT -c 512 --chunks $IMAT_CHUNKS -o $imat" >&2
                    "$lrq" imatrix -m "$src" -f "$IMAT_TEXT" -c 512 --chunks "$IMAT_CHUNKS" -t 2 -o "$imat" \
                        > "$out/logs/imatrix.txt" 2>&1 || { echo "run_bench: lrq imatrix failed, see $out/logs/imatrix.txt" >&2; continue; }
                fi
                imat_opt=(--imatrix "$imat")
            fi
            echo "run_bench: llama-quantize ${imat_opt[*]} $src $f $ty 2" >&2
            t0=$SECONDS
            timed "$out/logs/quantize-$ty.txt" "$llama_bin/llama-quantize" "${imat_opt[@]}" "$src" "$f.tmp" "$ty" 2 ||
                { echo "run_bench: llama-quantize $ty failed, see $out/logs/quantize-$ty.txt" >&2; continue; }
            mv "$f.tmp" "$f"
            record quantize llama "$ty" 2 1 seconds "$((SECONDS - t0))"
        elif [ ! -s "$f" ]; then
            echo "run_bench: lrq mkrand --shape $SHAPE --type $ty --seed $SEED -o $f" >&2
            "$lrq" mkrand --shape "$SHAPE" --type "$ty" --seed "$SEED" -o "$f"
        fi
        types_ok="$types_ok $ty"
    done
    TYPES=${types_ok# }
fi

# run_pair ROUND CMD1... -- CMD2... [-- CMD3...]: every tool once, the order rotated from round to round
# (two tools alternate which goes first); empty commands are skipped.
run_pair() {
    local round=$1; shift
    local cmds=() cur="" n i k
    for w in "$@"; do
        if [ "$w" = "--" ]; then cmds+=("$cur"); cur=""; else cur="$cur $(printf '%q' "$w")"; fi
    done
    cmds+=("$cur")
    n=${#cmds[@]}
    for ((i = 0; i < n; i++)); do
        k=$(( (i + round + 1) % n ))
        [ -z "${cmds[$k]// /}" ] || eval "${cmds[$k]}"
    done
}

lrq_speed() { # PART TYPE THREADS ROUND P N R [TOOL BENCH_DECODE]
    local tool=${8:-lrq} bd=${9:-$bdec}
    local log="$out/logs/$1-$tool-$2-t$3-r$4.txt"
    timed "$log" "$bd" -m "$(model_of "$2")" -t "$3" -p "$5" -n "$6" -r "$7" -w 1 $([ "$1" = decode ] && echo --matvec) ||
        echo "run_bench: bench_decode failed, see $log" >&2
    if [ "$1" = decode ]; then
        record "$1" "$tool" "$2" "$3" "$4" tps "$(samples "$log" decode_tps)"
        record "$1" "$tool" "$2" "$3" "$4" matvec_ms "$(sed -n 's/.*matvec_ms=\([0-9.]*\).*/\1/p' "$log")"
        record "$1" "$tool" "$2" "$3" "$4" stream_bytes "$(sed -n 's/.*stream_bytes=\([0-9]*\).*/\1/p' "$log")"
    else
        record "$1" "$tool" "$2" "$3" "$4" tps "$(samples "$log" prefill_tps)"
    fi
}
llama_speed() { # PART TYPE THREADS ROUND P N R
    local log="$out/logs/$1-llama-$2-t$3-r$4.txt"
    timed "$log" "$llama_bin/llama-bench" -m "$(model_of "$2")" -t "$3" -p "$5" -n "$6" -r "$7" -o jsonl ||
        echo "run_bench: llama-bench failed, see $log" >&2
    record "$1" llama "$2" "$3" "$4" tps "$(llama_samples "$log")"
}

# The decode roofline, measured in every decode round (the machine's state drifts): read bandwidth of
# lrq's F32 dot kernel over a 1 GiB buffer (bench_decode --membw).
membw() { # THREADS ROUND
    local log="$out/logs/membw-t$1-r$2.txt"
    timed "$log" "$bdec" --membw 1024 -t "$1" -r 3 -w 1 || echo "run_bench: bench_decode --membw failed, see $log" >&2
    record membw lrq f32 "$1" "$2" gbs "$(samples "$log" gbs)"
    record membw lrq f32 "$1" "$2" copy_gbs "$(samples "$log" copy_gbs)"
}

if [[ " $PARTS " == *" decode "* ]]; then
    for ((r = 1; r <= ROUNDS; r++)); do
        for t in $THREADS; do membw "$t" "$r"; done
        for ty in $TYPES; do for t in $THREADS; do
            echo "run_bench: decode round $r/$ROUNDS $ty t$t" >&2
            run_pair "$r" lrq_speed decode "$ty" "$t" "$r" 0 32 "$REPS" \
                -- $([ -n "$llama_bin" ] && [[ ! $ty =~ ^lq ]] && echo llama_speed decode "$ty" "$t" "$r" 0 32 "$REPS") \
                -- $([ -n "$lrq_b" ] && echo lrq_speed decode "$ty" "$t" "$r" 0 32 "$REPS" lrq-before "$bdec_b")
        done; done
    done
fi
if [[ " $PARTS " == *" prefill "* ]]; then
    for ((r = 1; r <= PP_ROUNDS; r++)); do
        for ty in $TYPES; do for t in $THREADS; do
            echo "run_bench: prefill round $r/$PP_ROUNDS $ty t$t" >&2
            run_pair "$r" lrq_speed prefill "$ty" "$t" "$r" 512 0 "$PP_REPS" \
                -- $([ -n "$llama_bin" ] && [[ ! $ty =~ ^lq ]] && echo llama_speed prefill "$ty" "$t" "$r" 512 0 "$PP_REPS") \
                -- $([ -n "$lrq_b" ] && echo lrq_speed prefill "$ty" "$t" "$r" 512 0 "$PP_REPS" lrq-before "$bdec_b")
        done; done
    done
fi

# ---- perplexity ----
text=$LRQ_SHARED/data/tinystories/ts260k-synth-valid.txt
ppl_file() { if [ "$1" = F32 ]; then echo "$LRQ_SHARED/models/zoo/ts-qwen3-5M-f32.gguf"; else echo "$LRQ_SHARED/golden/zoo/ts-qwen3-5M/ts-qwen3-5M-$1.gguf"; fi; }
lrq_ppl() { # TYPE ROUND [TOOL LRQ]
    local tool=${3:-lrq} bin=${4:-$lrq}
    local log="$out/logs/ppl-$tool-$1-r$2.txt"
    timed "$log" "$bin" ppl -m "$(ppl_file "$1")" -f "$text" -c 512 -b 512 -t 2 || echo "run_bench: lrq ppl failed, see $log" >&2
    record ppl "$tool" "$1" 2 "$2" tps "$(sed -n 's/.* \([0-9.]*\) tokens\/s$/\1/p' "$log")"
    record ppl "$tool" "$1" 2 "$2" ppl "$(sed -n 's/.*Final estimate: PPL = \([0-9.]*\).*/\1/p' "$log")"
}
# llama-perplexity prints no speed: tokens/s = chunks x n_ctx / (time of "Final estimate" - time of
# "calculating perplexity"), from its log timestamps (minutes.seconds.milliseconds.microseconds). It
# occasionally dies before its final line on this machine (see golden/README.md): retried up to 3 times.
llama_ppl() { # TYPE ROUND
    local log="$out/logs/ppl-llama-$1-r$2.txt" try
    for try in 1 2 3; do
        timed "$log" "$llama_bin/llama-perplexity" -m "$(ppl_file "$1")" -f "$text" -c 512 -b 512 -t 2 \
            -fa off -ctk f32 -ctv f32 || true
        grep -q 'Final estimate' "$log" && break
        echo "run_bench: llama-perplexity $1 died before its final line (try $try)" >&2
    done
    grep -q 'Final estimate' "$log" || return 0
    local tps
    tps=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | awk '
        function ts(s,  a) { split(s, a, "."); return a[1] * 60 + a[2] + a[3] / 1e3 + a[4] / 1e6 }
        /calculating perplexity over/ { t0 = ts($1); for (i = 1; i <= NF; i++) if ($i == "over") n = $(i + 1)
                                        for (i = 1; i <= NF; i++) if ($i ~ /^n_ctx=/) { c = $i; sub(/n_ctx=/, "", c); sub(/,/, "", c) } }
        /Final estimate/ { t1 = ts($1) }
        END { if (t1 > t0) printf "%.1f", n * c / (t1 - t0) }')
    record ppl llama "$1" 2 "$2" tps "$tps"
    record ppl llama "$1" 2 "$2" ppl "$(sed -n 's/.*Final estimate: PPL = \([0-9.]*\).*/\1/p' "$log")"
}
if [[ " $PARTS " == *" ppl "* ]]; then
    for ((r = 1; r <= PPL_ROUNDS; r++)); do
        for ty in $PPL_TYPES; do
            echo "run_bench: ppl round $r/$PPL_ROUNDS $ty" >&2
            run_pair "$r" lrq_ppl "$ty" "$r" -- $([ -n "$llama_bin" ] && echo llama_ppl "$ty" "$r") \
                -- $([ -n "$lrq_b" ] && echo lrq_ppl "$ty" "$r" lrq-before "$lrq_b")
        done
    done
fi

# ---- summary: medians over every undisturbed repetition of every round ----
awk -F'\t' -v shape="$SHAPE" -v types="$TYPES" -v threads="$THREADS" -v ppltypes="$PPL_TYPES" -v excl="$EXCLUDE" '
    NR > 1 && $6 == "ppl" && $7 != "" { lastppl[$1 SUBSEP $2 SUBSEP $3 SUBSEP $4 SUBSEP $6] = $7 + 0 }
    NR > 1 && $6 == "stream_bytes" && $7 != "" { lastsb[$3] = $7 + 0 }  # weight bytes one decoded token reads
    NR > 1 && $7 != "" {
        k = $1 SUBSEP $2 SUBSEP $3 SUBSEP $4 SUBSEP $6; all[k]++
        if ($1 != "quantize" && $9 != "NA" && $9 + 0 > excl + 0) next
        n[k]++; v[k, n[k]] = $7 + 0
        kr = k SUBSEP $5; n[kr]++; v[kr, n[kr]] = $7 + 0; if ($5 + 0 > maxr) maxr = $5 + 0
    }
    function med(k,   m, i, j, t, a) {
        m = n[k]; if (!m) return -1
        for (i = 1; i <= m; i++) a[i] = v[k, i]
        for (i = 2; i <= m; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
        return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
    }
    function cell(x, fmt) { return x < 0 ? "–" : sprintf(fmt, x) }
    function ratio(a, b) { return (a < 0 || b <= 0) ? "–" : sprintf("%.2f", a / b) }
    function kept(k) { return sprintf("%d/%d", n[k], all[k]) }
    # median over rounds of (lrq median / llama.cpp median within the round): the machine drifts
    # between rounds, and both tools of one round saw the same state
    function paired(kl, kb,   r, m, a, b, q, i, j, t) {
        m = 0
        for (r = 1; r <= maxr; r++) {
            a = med(kl SUBSEP r); b = med(kb SUBSEP r)
            if (a > 0 && b > 0) q[++m] = a / b
        }
        if (!m) return "–"
        for (i = 2; i <= m; i++) { t = q[i]; for (j = i - 1; j >= 1 && q[j] > t; j--) q[j + 1] = q[j]; q[j + 1] = t }
        return sprintf("%.2f (%d rounds)", m % 2 ? q[(m + 1) / 2] : (q[m / 2] + q[m / 2 + 1]) / 2, m)
    }
    END {
        nt = split(types, T, " "); nh = split(threads, H, " "); np = split(ppltypes, PT, " ")
        for (part = 1; part <= 2; part++) {
            p = part == 1 ? "decode" : "prefill"
            hdr = 0
            for (i = 1; i <= nt; i++) for (j = 1; j <= nh; j++) {
                kl = p SUBSEP "lrq" SUBSEP T[i] SUBSEP H[j] SUBSEP "tps"; kb = p SUBSEP "llama" SUBSEP T[i] SUBSEP H[j] SUBSEP "tps"
                if (!all[kl] && !all[kb]) continue
                a = med(kl); b = med(kb)
                if (!hdr) {
                    printf "\n### %s (tok/s, median of the kept repetitions; %s)\n\n", p, p == "decode" ? "bench_decode -p 0 -n 32 vs llama-bench -p 0 -n 32" : "bench_decode -p 512 -n 0 vs llama-bench -p 512 -n 0"
                    printf "| model | threads | lrq | llama.cpp | lrq / llama.cpp | paired ratio | kept samples (lrq, llama.cpp) |%s\n", p == "decode" ? " MB read per token | weight GB/s (lrq, llama.cpp) | lrq: of read roofline, of copy bandwidth | lrq matmul-only ms/token |" : ""
                    printf "|---|---|---|---|---|---|---|%s\n", p == "decode" ? "---|---|---|---|" : ""
                    hdr = 1
                }
                label = T[i] ~ /^lq/ ? T[i] " (lrq quantize --recipe recipes/speed-" substr(T[i], 3) "bit.recipe)" : T[i] ~ /[A-Z]/ ? T[i] " (llama-quantize)" : toupper(T[i]) " (mkrand)"
                printf "| %s random %s | %s | %s | %s | %s | %s | %s, %s |", shape, label, H[j], cell(a, "%.2f"), cell(b, "%.2f"), ratio(a, b), paired(kl, kb), kept(kl), kept(kb)
                if (p == "decode") {
                    sb = lastsb[T[i]]
                    rb = med("membw" SUBSEP "lrq" SUBSEP "f32" SUBSEP H[j] SUBSEP "gbs"); cb = med("membw" SUBSEP "lrq" SUBSEP "f32" SUBSEP H[j] SUBSEP "copy_gbs")
                    printf " %s |", (sb > 0 ? sprintf("%.1f", sb * 1e-6) : "–")
                    printf " %s, %s |", ((sb > 0 && a > 0) ? sprintf("%.1f", a * sb * 1e-9) : "–"), ((sb > 0 && b > 0) ? sprintf("%.1f", b * sb * 1e-9) : "–")
                    printf " %s, %s |", ((sb > 0 && a > 0 && rb > 0) ? sprintf("%.0f%%", 100 * a * sb * 1e-9 / rb) : "–"), ((sb > 0 && a > 0 && cb > 0) ? sprintf("%.0f%%", 100 * a * sb * 1e-9 / cb) : "–")
                    printf " %s |", cell(med(p SUBSEP "lrq" SUBSEP T[i] SUBSEP H[j] SUBSEP "matvec_ms"), "%.1f")
                }
                printf "\n"
            }
        }
        # lrq on its own low-bit files against llama.cpp on its low-bit files (different files: the ratio of speeds)
        for (part = 1; part <= 2; part++) {
            p = part == 1 ? "decode" : "prefill"
            hdr = 0
            for (i = 1; i <= nt; i++) {
                if (T[i] !~ /^lq/) continue
                for (j = 1; j <= nh; j++) {
                    kl = p SUBSEP "lrq" SUBSEP T[i] SUBSEP H[j] SUBSEP "tps"
                    if (!all[kl]) continue
                    for (x = 1; x <= nt; x++) {
                        if (T[x] !~ /^(Q2_K|IQ2_XS|IQ2_XXS|IQ2_S|Q3_K_S|Q4_0|Q4_K_M)$/) continue
                        kb = p SUBSEP "llama" SUBSEP T[x] SUBSEP H[j] SUBSEP "tps"; kq = p SUBSEP "lrq" SUBSEP T[x] SUBSEP H[j] SUBSEP "tps"
                        if (!all[kb] && !all[kq]) continue
                        if (!hdr) {
                            printf "\n### %s: lrq on its own files (lq2/lq3/lq4, recipes/speed-Nbit.recipe) against llama.cpp on its files\n\n", p
                            printf "| lrq file | threads | lrq tok/s | against | llama.cpp tok/s | ratio | paired ratio | lrq on that file | ratio to it |\n|---|---|---|---|---|---|---|---|---|\n"
                            hdr = 1
                        }
                        a = med(kl); b = med(kb); q = med(kq)
                        printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", T[i], H[j], cell(a, "%.2f"), T[x], cell(b, "%.2f"), ratio(a, b), paired(kl, kb), cell(q, "%.2f"), ratio(a, q)
                    }
                }
            }
        }
        hdr = 0
        for (j = 1; j <= nh; j++) {
            k = "membw" SUBSEP "lrq" SUBSEP "f32" SUBSEP H[j] SUBSEP "gbs"; kc = "membw" SUBSEP "lrq" SUBSEP "f32" SUBSEP H[j] SUBSEP "copy_gbs"
            if (!all[k]) continue
            if (!hdr) { printf "\n### roofline: read bandwidth of the F32 dot kernel and copy bandwidth (memcpy, bytes copied per second) over 1 GiB (bench_decode --membw 1024), alternating, in every decode round\n\n| threads | read GB/s (median) | copy GB/s (median) | kept samples |\n|---|---|---|---|\n"; hdr = 1 }
            printf "| %s | %s | %s | %s |\n", H[j], cell(med(k), "%.1f"), cell(med(kc), "%.1f"), kept(k)
        }
        hdr = 0
        for (i = 1; i <= nt; i++) for (tool = 1; tool <= 2; tool++) {
            tn = tool == 1 ? "lrq" : "llama"
            k = "quantize" SUBSEP tn SUBSEP T[i] SUBSEP 2 SUBSEP "seconds"
            if (!all[k]) continue
            if (!hdr) { printf "\n### quantization time (made in this run from the f16 file, 2 threads)\n\n| file | tool | seconds |\n|---|---|---|\n"; hdr = 1 }
            printf "| %s | %s | %s |\n", T[i], tn == "lrq" ? "lrq quantize" : "llama-quantize", cell(med(k), "%.0f")
        }
        hdr = 0
        for (i = 1; i <= np; i++) {
            kl = "ppl" SUBSEP "lrq" SUBSEP PT[i] SUBSEP 2 SUBSEP "tps"; kb = "ppl" SUBSEP "llama" SUBSEP PT[i] SUBSEP 2 SUBSEP "tps"
            if (!all[kl] && !all[kb]) continue
            a = med(kl); b = med(kb)
            if (!hdr) {
                printf "\n### perplexity, ts-qwen3-5M, ts260k-synth-valid.txt, -c 512 -b 512 -t 2 (llama.cpp: -fa off -ctk f32 -ctv f32)\n\n"
                printf "| file | lrq tokens/s | llama.cpp tokens/s | lrq / llama.cpp | kept runs (lrq, llama.cpp) | lrq PPL | llama.cpp PPL |\n|---|---|---|---|---|---|---|\n"
                hdr = 1
            }
            # PPL values do not depend on load: take them from every run
            printf "| %s | %s | %s | %s | %s, %s | %s | %s |\n", PT[i], cell(a, "%.0f"), cell(b, "%.0f"), ratio(a, b), kept(kl), kept(kb),
                   cell(pv("lrq", PT[i]), "%.4f"), cell(pv("llama", PT[i]), "%.4f")
        }
        before_after()
    }
    # before/after (when LRQ_BIN_BEFORE was measured): lrq against lrq-before, same rounds
    function before_after(   i, j, p, part, kl, kb, a, b, hdr, parts, np2, lab) {
        hdr = 0
        for (part = 1; part <= 3; part++) {
            p = part == 1 ? "decode" : part == 2 ? "prefill" : "ppl"
            nn2 = part == 3 ? np : nt
            for (i = 1; i <= nn2; i++) for (j = 1; j <= (part == 3 ? 1 : nh); j++) {
                th = part == 3 ? 2 : H[j]; ty = part == 3 ? PT[i] : T[i]
                kl = p SUBSEP "lrq" SUBSEP ty SUBSEP th SUBSEP "tps"; kb = p SUBSEP "lrq-before" SUBSEP ty SUBSEP th SUBSEP "tps"
                if (!all[kb]) continue
                if (!hdr) {
                    printf "\n### before / after: lrq against lrq-before (LRQ_BIN_BEFORE), same rounds\n\n"
                    printf "| part | model | threads | lrq-before | lrq | lrq / lrq-before | paired ratio | kept samples (lrq, lrq-before) |\n|---|---|---|---|---|---|---|---|\n"
                    hdr = 1
                }
                a = med(kl); b = med(kb)
                printf "| %s | %s | %s | %s | %s | %s | %s | %s, %s |\n", p, ty, th, cell(b, "%.2f"), cell(a, "%.2f"), ratio(a, b), paired(kl, kb), kept(kl), kept(kb)
            }
        }
    }
    function pv(tool, ty,   k) { k = "ppl" SUBSEP tool SUBSEP ty SUBSEP 2 SUBSEP "ppl"; return all[k] ? lastppl[k] : -1 }
    ' "$raw" > "$out/summary.body"
{ echo "## lrq benchmark $(basename "$out")"; echo; sed 's/^/    /' "$out/env.txt"; cat "$out/summary.body"; } > "$out/summary.md"
rm -f "$out/summary.body"
cat "$out/summary.md"
echo >&2
echo "run_bench: results in $out (raw.tsv: every sample, with the machine's busy fraction before the run and" \
     "the fraction other processes used during it)" >&2
