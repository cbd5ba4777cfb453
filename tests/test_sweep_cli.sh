#!/usr/bin/env bash
# lrq sweep from the command line (stories260K, -c 128 --chunks 2): --help
# teaches; bad arguments give one clear line; a 3-recipe sweep (a 2-recipe
# grid with a relative path, a GPTQ recipe whose calib-text is relative to
# it) killed with SIGKILL after its first row, a partial line appended as a
# killed write would leave it, then run again: the partial line is cut, done
# rows are skipped, exactly 3 unique rows with the first unchanged; a third
# run does nothing; a failing recipe is one line and a 'failed' row (exit 1),
# skipped by a rerun; SIGTERM leaves no temporary file. The library parts:
# tests/test_sweep.c.
# Args: LRQ_BINARY SHARED_DIR
set -u
LRQ=$1
SHARED=$2
T=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
S260=$SHARED/models/stories260K/stories260K-f32.gguf
TXT=$SHARED/data/tinystories/TinyStories-valid.first22docs.txt
mkdir "$T/rec" "$T/run" "$T/scr"
cp "$SHARED/data/calib/stories260K-selfgen.txt" "$T/rec/calib.txt"
printf 'base lq:b{4,3}g32   # two recipes\ntoken_embd.weight q8_0\n*.ffn_down.weight f16\n' >"$T/rec/rtn.grid"
# GPTQ over the whole calibration text: a few seconds, so the kill lands while it runs
printf 'base lq:b4g32\nmethod gptq\ncalib-text calib.txt\ncalib-context 128\n*.ffn_down.weight f16\n' >"$T/rec/gptq.recipe"
ROWS=$T/rows.tsv
# (run it as `(sweep)` in the foreground and `sweep &` in the background: exec makes $! the lrq process)
sweep() { cd "$T/run" && exec "$LRQ" sweep -m "$S260" -f "$TXT" -c 128 --chunks 2 -t 1 --scratch "$T/scr" \
              --grid ../rec/rtn.grid --recipe ../rec/gptq.recipe -o "$ROWS" "$@"; }
rows() { tail -n +2 "$ROWS"; }

# --help and the command list
if "$LRQ" sweep --help >"$T/out" 2>&1 && grep -q 'usage: lrq sweep -m MODEL -f TEXT -o ROWS.tsv' "$T/out" &&
   grep -q 'cartesian product' "$T/out" && grep -q 'Resuming' "$T/out"; then ok; else bad "--help: $(head -3 "$T/out")"; fi
"$LRQ" --help | grep -q '^  sweep ' && ok || bad "lrq --help does not list sweep"

# usage errors: exit 2, one line, nothing written
expect() { # expect RC PATTERN ARGS...
  local want=$1 pat=$2; shift 2
  "$LRQ" sweep "$@" >/dev/null 2>"$T/err"; local rc=$?
  if [ $rc -eq "$want" ] && grep -q -- "$pat" "$T/err" && [ "$(wc -l <"$T/err")" -le 2 ] && [ ! -e "$T/bad.tsv" ]; then ok
  else bad "sweep $*: rc $rc (want $want), $(cat "$T/err")"; fi
}
expect 2 '-f TEXT is required' -m "$S260" -o "$T/bad.tsv" --grid "$T/rec/rtn.grid"
expect 2 'recipe FILE or --grid FILE is required' -m "$S260" -f "$TXT" -o "$T/bad.tsv"
expect 2 'must end in .tsv or .jsonl' -m "$S260" -f "$TXT" -o "$T/bad.txt" --grid "$T/rec/rtn.grid"
expect 2 'unknown option' -m "$S260" -f "$TXT" -o "$T/bad.tsv" --grid "$T/rec/rtn.grid" --bogus
printf 'base lq:b{4,3g32\n' >"$T/rec/open.grid"
expect 1 "open.grid:1:10: '{' is not closed on its line" -m "$S260" -f "$TXT" -o "$T/bad.tsv" --grid "$T/rec/open.grid"
printf 'base lq:b{4,3}g32\nbogus line here\n' >"$T/rec/parse.grid"
expect 1 'parse.grid#1:2: cannot read' -m "$S260" -f "$TXT" -o "$T/bad.tsv" --grid "$T/rec/parse.grid"

# the sweep, killed with SIGKILL as soon as its first row is in the file
sweep >"$T/log1" 2>&1 &
pid=$!
for _ in $(seq 1 600); do
  [ "$(rows 2>/dev/null | wc -l)" -ge 1 ] && break
  sleep 0.05
done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
pid=
n1=$(rows | wc -l)
first=$(rows | head -1)
if [ "$n1" -ge 1 ] && [ "$n1" -lt 3 ]; then ok; else bad "after the kill: $n1 rows (want 1 or 2): $(cat "$T/log1")"; fi
# a row cut in the middle of its write
printf 'deadbeefdeadbeef\tb9g99\tok\t4' >>"$ROWS"
(sweep) >"$T/log2" 2>&1; rc=$?
[ $rc -eq 0 ] && ok || bad "rerun: rc $rc: $(cat "$T/log2")"
grep -q 'removed a partial last line (27 bytes' "$T/log2" && ok || bad "rerun does not report the cut line: $(cat "$T/log2")"
grep -q "\[1/3\] b4g32: done already (skipped)" "$T/log2" && ok || bad "row 1 not skipped: $(cat "$T/log2")"
n=$(rows | wc -l); u=$(rows | cut -f1 | sort -u | wc -l)
[ "$n" -eq 3 ] && [ "$u" -eq 3 ] && ok || bad "after the rerun: $n rows, $u unique keys (want 3, 3)"
[ "$(rows | head -1)" = "$first" ] && ok || bad "the first row changed"
grep -q deadbeef "$ROWS" && bad "the partial line is still there" || ok
[ "$(rows | grep -c $'\tok\t')" -eq 3 ] && ok || bad "not every row ok: $(rows | cut -f2,3,28)"
# the rows: labels, methods, bits, bpw = 8 * bytes / n_weights, KLD > 0, the set-up
if rows | awk -F'\t' 'BEGIN {e = 0}
    { if ($1 !~ /^[0-9a-f]+$/ || length($1) != 16) e = 1; if (($6 != "rtn" && $6 != "gptq") || $4 !~ /^[34]$/ || $5 != 32) e = 2
      if ($7 - 8 * $8 / $9 > 0.0001 || 8 * $8 / $9 - $7 > 0.0001) e = 3; if (!($14 > 0) || !($10 > 0)) e = 4
      if ($23 != 128 || $24 != 2 || !($18 > 0)) e = 5 }
    END { exit e }' && [ "$(rows | cut -f2 | tr '\n' ' ')" = "b4g32 b3g32 gptq " ]; then ok
else bad "row fields: $(rows | cut -f2-10)"; fi
# a third run: nothing to do, nothing added
(sweep) >"$T/log3" 2>&1 && grep -q '3 done already, 0 to run' "$T/log3" && [ "$(rows | wc -l)" -eq 3 ] && ok ||
  bad "third run: $(cat "$T/log3")"
# no quantized file left in the scratch folder (only the cached F32 log-probabilities)
[ "$(ls "$T/scr" | grep -vc '^base-.*\.kld$')" -eq 0 ] && [ "$(ls "$T/scr" | grep -c '\.kld$')" -eq 1 ] && ok ||
  bad "scratch holds: $(ls "$T/scr")"

# a failing recipe: one line naming it, a failed row, exit 1; a rerun skips it (exit 0)
printf 'base lq:b4g32\n' >"$T/rec/bad.recipe" # ffn_down rows of 172: no lq group fits
"$LRQ" sweep -m "$S260" -f "$TXT" -c 128 --chunks 2 --scratch "$T/scr" --recipe "$T/rec/bad.recipe" \
   -o "$T/f.jsonl" >/dev/null 2>"$T/err"; rc=$?
if [ $rc -eq 1 ] && grep -q "recipe $T/rec/bad.recipe failed: .*ffn_down" "$T/err" &&
   grep -q '"status":"failed"' "$T/f.jsonl" && [ "$(wc -l <"$T/f.jsonl")" -eq 1 ]; then ok
else bad "failing recipe: rc $rc: $(cat "$T/err"; cat "$T/f.jsonl")"; fi
"$LRQ" sweep -m "$S260" -f "$TXT" -c 128 --chunks 2 --scratch "$T/scr" --recipe "$T/rec/bad.recipe" \
   -o "$T/f.jsonl" >/dev/null 2>"$T/err" && grep -q 'skipped' "$T/err" && [ "$(wc -l <"$T/f.jsonl")" -eq 1 ] && ok ||
  bad "rerun of the failed row: $(cat "$T/err")"

# SIGTERM during the GPTQ recipe: no temporary or quantized file remains, the finished rows stay
rm -f "$ROWS"
sweep >"$T/log4" 2>&1 &
pid=$!
for _ in $(seq 1 600); do grep -q '\[3/3\] gptq: quantizing' "$T/log4" && break; sleep 0.05; done
sleep 0.3
kill -TERM $pid 2>/dev/null
wait $pid 2>/dev/null
pid=
[ "$(ls -A "$T/scr" | grep -vc '^base-.*\.kld$')" -eq 0 ] && ok || bad "after SIGTERM the scratch holds: $(ls -A "$T/scr"); log: $(cat "$T/log4")"
[ "$(ls -A "$T" | grep -c lrqtmp)" -eq 0 ] && [ "$(rows | wc -l)" -eq 2 ] && ok ||
  bad "after SIGTERM: $(ls -A "$T"), $(rows | wc -l) rows (want 2)"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
