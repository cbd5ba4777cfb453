#!/usr/bin/env bash
# llama-cpp-loads.sh — checks that GGUF files written by `lrq quantize` load and run in the real llama.cpp:
# quantizes the zoo Qwen3 (and the DeepSeek-MoE for Q4_K_M) with lrq, runs llama-perplexity on each file
# exactly as ../shared/golden/zoo/*/quality.tsv was made (ppl_valid_exact column), and prints a markdown table
# beside the golden value and `lrq ppl` on the same file. Never builds llama.cpp.
# usage: scripts/llama-cpp-loads.sh LLAMA_CPP_BIN_DIR [LRQ] [OUT_DIR]
#   LLAMA_CPP_BIN_DIR  folder holding llama-perplexity; LRQ the lrq binary (default build/bin/lrq);
#   OUT_DIR scratch for the quantized files (default ${TMPDIR:-/tmp}/lrq-llama-loads).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
llama=${1:?usage: scripts/llama-cpp-loads.sh LLAMA_CPP_BIN_DIR [LRQ] [OUT_DIR]}
lrq=${2:-$here/build/bin/lrq}
out=${3:-${TMPDIR:-/tmp}/lrq-llama-loads}
shared=${LRQ_SHARED:-$here/../shared}
text=$shared/data/tinystories/ts260k-synth-valid.txt
[ -x "$llama/llama-perplexity" ] || { echo "llama-cpp-loads: no llama-perplexity in $llama" >&2; exit 2; }
mkdir -p "$out"
echo "| model | type | llama-perplexity on lrq's file | golden quality.tsv | lrq ppl on lrq's file |"
echo "|---|---|---|---|---|"
run() { # model-stem source type
    local f=$out/$1-$3.gguf
    "$lrq" quantize "$2" "$f" "$3" > "$out/$1-$3.log" 2>&1
    local l g q
    # llama-perplexity v0.5.0 occasionally dies before its last line (golden/README.md), and on a busy
    # machine it was seen to spin without progress: up to 3 tries of at most 5 minutes
    for try in 1 2 3; do
        l=$(timeout 300 "$llama/llama-perplexity" -m "$f" -f "$text" -c 512 -b 512 -fa off -ctk f32 -ctv f32 -t 2 2>&1 |
            sed -n 's/.*Final estimate: PPL = \([0-9.]*\).*/\1/p') || true
        [ -n "$l" ] && break
    done
    g=$(awk -F'\t' -v t="$3" '$2 == t {print $5}' "$shared/golden/zoo/$1/quality.tsv")
    q=$("$lrq" ppl -m "$f" -f "$text" -c 512 -b 512 -t 2 2>/dev/null | sed -n 's/.*Final estimate: PPL = \([0-9.]*\).*/\1/p')
    echo "| $1 | $3 | ${l:-FAILED} | ${g:-–} | ${q:-FAILED} |"
}
for t in Q8_0 Q5_K_M Q4_K_M IQ4_NL Q2_K; do run ts-qwen3-5M "$shared/models/zoo/ts-qwen3-5M-f32.gguf" "$t"; done
run ts-dsmoe-11M "$shared/models/zoo/ts-dsmoe-11M-f32.gguf" Q4_K_M
