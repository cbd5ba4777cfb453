#!/usr/bin/env bash
# lrq imatrix from the command line: --help teaches; bad options and inputs
# fail fast with a clear message and leave nothing behind (an existing -o
# file untouched); a run writes the file (datasets = -f as given, chunk keys)
# and replaces an existing one only when complete; a killed run leaves no
# temporary file. The numbers themselves: tests/test_imatrix_calc.c.
# Args: LRQ_BINARY SHARED_DIR
set -u
LRQ=$1
SHARED=$2
T=$(mktemp -d)
trap 'chmod -R u+w "$T"; rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
S260=$SHARED/models/stories260K/stories260K-f32.gguf
TXT=$SHARED/data/calib/stories260K-selfgen.txt
mkdir "$T/w"
printf 'precious' >"$T/w/keep"
others() { ls -A "$T/w" | grep -v '^keep$' || true; }
unchanged() { [ "$(cat "$T/w/keep")" = precious ] && [ -z "$(others)" ]; }

# --help
if "$LRQ" imatrix --help >"$T/out" 2>&1 && grep -q 'usage: lrq imatrix -m MODEL -f TEXT' "$T/out" &&
   grep -q 'in_sum2' "$T/out" && grep -q 'least 16 tokens' "$T/out"; then ok; else bad "--help: $(head -2 "$T/out")"; fi
"$LRQ" --help | grep -q '^  imatrix ' && ok || bad "lrq --help does not list imatrix"

# usage errors: exit 2, nothing written
expect() { # expect RC PATTERN ARGS...
  local want=$1 pat=$2; shift 2
  "$LRQ" imatrix "$@" >/dev/null 2>"$T/err"; local rc=$?
  if [ $rc -eq "$want" ] && grep -q -- "$pat" "$T/err" && unchanged; then ok
  else bad "imatrix $*: rc $rc (want $want), $(cat "$T/err")"; fi
}
expect 2 'required' -m "$S260" -o "$T/w/keep"
expect 2 'unknown option' -m "$S260" -f "$TXT" --bogus -o "$T/w/keep"
expect 2 'expected an integer in 16' -m "$S260" -f "$TXT" -c 8 -o "$T/w/keep"
expect 2 'expected an integer in 16' -m "$S260" -f "$TXT" -b 4 -o "$T/w/keep"
expect 2 'is a folder' -m "$S260" -f "$TXT" -o "$T/w"
# input errors: exit 1, the message names the file, the existing output survives
expect 1 'nope.txt' -m "$S260" -f "$T/nope.txt" -o "$T/w/keep"
expect 1 'nope.gguf' -m "$T/nope.gguf" -f "$TXT" -o "$T/w/keep"
expect 1 'no/such' -m "$S260" -f "$TXT" -o "$T/no/such/out.gguf"
head -c 300 "$TXT" >"$T/short.txt"
expect 1 'needs at least 256' -m "$S260" -f "$T/short.txt" -c 128 -o "$T/w/keep"

# a run: the file, its keys, -f stored as given; an existing output replaced
cp "$T/w/keep" "$T/w/out.gguf"
if "$LRQ" imatrix -m "$S260" -f "$TXT" -c 128 -b 128 --chunks 3 -o "$T/w/out.gguf" >"$T/out" 2>"$T/err" &&
   grep -q 'lrq imatrix: .*out.gguf: 35 entries (0 with partial expert data), 3 chunks of 128 (chunk_count 3)' "$T/err"
then ok; else bad "run: $(cat "$T/err")"; fi
"$LRQ" info "$T/w/out.gguf" --metadata >"$T/info" 2>&1
if grep -q 'imatrix.chunk_count.*3' "$T/info" && grep -q 'imatrix.chunk_size.*128' "$T/info" &&
   grep -q 'imatrix.datasets.*array' "$T/info" && grep -q 'general.type.*imatrix' "$T/info" &&
   grep -aqF "$TXT" "$T/w/out.gguf"; then ok  # info shortens long strings: the path itself from the bytes
else bad "keys of the output: $(grep -i imatrix "$T/info")"; fi
rm -f "$T/w/out.gguf"
unchanged && ok || bad "stray files: $(others)"
# the same through -b below -c (batches of 64): the same numbers (no piece under 16 tokens)
"$LRQ" imatrix -m "$S260" -f "$TXT" -c 128 -b 128 --chunks 3 -o "$T/a.gguf" 2>/dev/null
"$LRQ" imatrix -m "$S260" -f "$TXT" -c 128 -b 64 --chunks 3 -o "$T/b.gguf" -t 1 2>/dev/null
if [ -s "$T/a.gguf" ] && [ -s "$T/b.gguf" ]; then
  cmp -s "$T/a.gguf" "$T/b.gguf" && ok || bad "-b 64 -t 1 differs from -b 128 -t 2 (batching should not change the sums' order)"
else bad "runs for the -b comparison failed"; fi

# killed mid-run: no temporary file, the existing output intact
QW=$SHARED/models/zoo/ts-qwen3-5M-f32.gguf
"$LRQ" imatrix -m "$QW" -f "$SHARED/data/calib/ts260k-synth-calib.txt" -o "$T/w/keep" -t 1 2>/dev/null &
pid=$!
sleep 2
kill -TERM $pid 2>/dev/null
wait $pid 2>/dev/null
unchanged && ok || bad "after SIGTERM: keep changed or stray files: $(others)"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
