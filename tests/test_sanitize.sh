#!/usr/bin/env bash
# Rebuilds lrq with AddressSanitizer + UndefinedBehaviorSanitizer (LeakSanitizer
# on) and runs every test except the long golden perplexity runs under it: the
# parsers and corrupt inputs, tokenizers, kernels, the forward pass on the golden
# logits, and the CLI error paths.
# Args: LRQ_BINARY SHARED_DIR (the binary is unused: we build our own).
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
SHARED=$2
B=${TMPDIR:-/tmp}/lrq-asan-$$
trap 'rm -rf "$B"' EXIT
if ! cmake -S "$SRC" -B "$B" -DCMAKE_BUILD_TYPE=Debug -DLRQ_SANITIZE=ON -DLRQ_SHARED_DIR="$SHARED" >"$B.log" 2>&1 ||
   ! cmake --build "$B" -j2 >>"$B.log" 2>&1; then
  tail -30 "$B.log"; rm -f "$B.log"
  echo "0 passed, 1 failed"
  exit 1
fi
rm -f "$B.log"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir "$B" --output-on-failure -E 'sanitize|fuzz|golden_ppl' -j2
