#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/fuzz_*.c) with clang and runs each for a
# short time (LRQ_FUZZ_SECONDS, default 20) on its seed corpus
# (fuzz/corpus-<name>/ when present). Any crash, leak or sanitizer report fails.
# Args: LRQ_BINARY SHARED_DIR.
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
SECS=${LRQ_FUZZ_SECONDS:-20}
if ! command -v clang >/dev/null; then
  echo "clang not found (apt-get install clang libclang-rt-14-dev)"
  echo "0 passed, 1 failed"
  exit 1
fi
B=${TMPDIR:-/tmp}/lrq-fuzz-$$
trap 'rm -rf "$B"' EXIT
if ! CC=clang cmake -S "$SRC" -B "$B" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLRQ_FUZZ=ON >"$B.log" 2>&1 ||
   ! cmake --build "$B" -j2 $(cd "$SRC/fuzz" && ls fuzz_*.c | sed 's/\.c$//' | sed 's/^/--target /') >>"$B.log" 2>&1; then
  tail -30 "$B.log"; rm -f "$B.log"
  echo "0 passed, 1 failed"
  exit 1
fi
rm -f "$B.log"
pass=0
fail=0
for src in "$SRC"/fuzz/fuzz_*.c; do
  name=$(basename "$src" .c)
  corpus="$B/corpus-$name"
  mkdir -p "$corpus"
  seeds="$SRC/fuzz/corpus-${name#fuzz_}"
  [ -d "$seeds" ] && cp -r "$seeds"/. "$corpus"/
  if "$B/bin/$name" -max_total_time="$SECS" -rss_limit_mb=2048 -timeout=10 -artifact_prefix="$B/" "$corpus" \
       >"$B/$name.log" 2>&1; then
    pass=$((pass + 1))
    echo "ok   $name ($(grep -c . "$B/$name.log") log lines, $(ls "$corpus" | wc -l) corpus files)"
  else
    fail=$((fail + 1))
    echo "FAIL $name"; grep -E "ERROR|SUMMARY|==[0-9]+==" "$B/$name.log" | head -20
  fi
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ] && [ $pass -gt 0 ]
