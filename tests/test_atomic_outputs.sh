#!/usr/bin/env bash
# Outputs are all-or-nothing: a failing `lrq ppl --kl-divergence-base FILE`
# leaves an existing FILE as it was; a kld-base run or an `lrq mkrand`
# killed by SIGINT/SIGTERM leaves neither a temporary/scratch file nor a
# partial target (an existing target stays as it was). Args: LRQ_BINARY SHARED_DIR
set -u
LRQ=$1
SHARED=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
GGUF=$SHARED/models/stories260K/stories260K-f32.gguf
TEXT=$SHARED/data/tinystories/TinyStories-valid.first22docs.txt
LONG=$SHARED/data/tinystories/ts260k-synth-valid.txt

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; ls -la "$T/w"; }

# Folder listing without the "keep" file.
others() { ls -A "$T/w" | grep -v '^keep$' || true; }

mkdir "$T/w"
printf 'precious' >"$T/w/keep"

# 1. Failing runs leave the existing file untouched.
printf 'Once upon a time.' >"$T/short.txt"
"$LRQ" ppl -m "$GGUF" -f "$T/short.txt" -c 128 --kl-divergence-base "$T/w/keep" >/dev/null 2>&1
if [ "$(cat "$T/w/keep")" = precious ] && [ -z "$(others)" ]; then ok; else bad "text too short emptied the base file"; fi
"$LRQ" ppl -m "$T/nope.gguf" -f "$TEXT" -c 128 --kl-divergence-base "$T/w/keep" >/dev/null 2>&1
if [ "$(cat "$T/w/keep")" = precious ] && [ -z "$(others)" ]; then ok; else bad "missing model emptied the base file"; fi
"$LRQ" mkrand --shape qwen2-tiny --vocab "$T/nope.gguf" -o "$T/w/keep" >/dev/null 2>&1
if [ "$(cat "$T/w/keep")" = precious ] && [ -z "$(others)" ]; then ok; else bad "failing mkrand touched its output"; fi

# 2. Runs killed mid-way: start, wait until the temporary or scratch file
# exists (so the kill lands during the write), kill, check the folder.
# wait_for_work PID: 0 once the run is writing (a temp file in the folder,
# or for mkrand, whose scratch file has no name, the progress line).
wait_for_work() {
  local pid=$1 log=$2 i
  for i in $(seq 1 600); do
    kill -0 "$pid" 2>/dev/null || return 1
    if [ -n "$(others)" ] || grep -q "tensors" "$log" 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  return 1
}

for sig in INT TERM; do
  # kld base over ~100K tokens (seconds of work), single thread
  "$LRQ" ppl -m "$GGUF" -f "$LONG" -c 128 -t 1 --kl-divergence-base "$T/w/keep" >/dev/null 2>"$T/log" &
  pid=$!
  if wait_for_work $pid "$T/log"; then
    sleep 0.3
    kill -s $sig $pid
    wait $pid
    rc=$?
    if [ $rc -gt 128 ] && [ "$(cat "$T/w/keep")" = precious ] && [ -z "$(others)" ]; then ok
    else bad "kld base killed by SIG$sig (rc $rc): leftovers or a changed target"; fi
  else
    wait $pid
    bad "kld base run ended before it could be killed"
  fi

  # mkrand of a big shape (one layer keeps it to a few seconds: the 151,936 x 896 embedding)
  "$LRQ" mkrand --shape qwen2.5-0.5b --layers 1 --type q8_0 --vocab "$SHARED/tokenizers/qwen3/ggml-vocab-qwen3.gguf" \
    -o "$T/w/big.gguf" >/dev/null 2>"$T/log" &
  pid=$!
  if wait_for_work $pid "$T/log"; then
    sleep 0.3
    kill -s $sig $pid
    wait $pid
    rc=$?
    if [ $rc -gt 128 ] && [ -z "$(others)" ]; then ok; else bad "mkrand killed by SIG$sig (rc $rc) left files"; fi
  else
    wait $pid
    bad "mkrand ended before it could be killed"
  fi
done

# 3. A complete run replaces the file; nothing else is left.
if "$LRQ" ppl -m "$GGUF" -f "$TEXT" -c 128 --chunks 3 --kl-divergence-base "$T/w/keep" >/dev/null 2>&1 &&
   [ "$(head -c 8 "$T/w/keep")" = LRQKLD02 ] && [ -z "$(others)" ]; then ok; else bad "complete kld base run"; fi

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
