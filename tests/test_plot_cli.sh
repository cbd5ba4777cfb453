#!/usr/bin/env bash
# lrq plot from the command line: rows from a small lrq sweep (stories260K, two RTN recipes of a grid, -c 128
# --chunks 2) drawn as KLD / PPL / ln vs bpw with a reference table: OUT.png and OUT.svg exist, are non-empty
# and hold the methods' series, the Pareto front and the reference labels; no temporary file is left; a
# reference table of another model gives a warning; bad arguments and a missing gnuplot give one clear line.
# Skipped (exit 77) when gnuplot is not installed (scripts/deps.sh installs gnuplot-nox).
# Args: LRQ_BINARY SHARED_DIR
set -u
LRQ=$1
SHARED=$2
command -v gnuplot >/dev/null 2>&1 || { echo "SKIP: gnuplot is not installed (apt-get install gnuplot-nox)"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
S260=$SHARED/models/stories260K/stories260K-f32.gguf
TXT=$SHARED/data/tinystories/TinyStories-valid.first22docs.txt
printf 'base lq:b{4,2}g32a\ntoken_embd.weight q8_0\n*.ffn_down.weight f16\n' >"$T/g.grid"
"$LRQ" sweep -m "$S260" -f "$TXT" -c 128 --chunks 2 -t 1 --scratch "$T/scr" --grid "$T/g.grid" -o "$T/rows.tsv" \
    2>"$T/err" && [ "$(wc -l <"$T/rows.tsv")" -eq 3 ] && ok || bad "sweep: $(cat "$T/err")"
# a reference table in golden quality.tsv's columns, sized for stories260K (F32: 32.3 bpw)
printf 'file\ttype\tbpw\tsize_bytes\tppl_valid_exact\terr_valid_exact\tppl_real\terr_real\tmean_kld\tsame_top_pct\n' >"$T/q.tsv"
printf 'f32.gguf\tF32\t32.0\t1050000\t4.14\t0.7\t-\t-\t0.0\t100\n' >>"$T/q.tsv"
printf 'q8.gguf\tQ8_0\t8.5\t290000\t4.15\t0.7\t-\t-\t0.002\t98\n' >>"$T/q.tsv"
printf 'q4.gguf\tQ4_0\t4.6\t200000\t4.40\t0.7\t-\t-\t0.05\t90\n' >>"$T/q.tsv"

"$LRQ" plot --help | grep -q 'usage: lrq plot ROWS.tsv' && ok || bad "--help"
for y in kld ppl ln; do
  "$LRQ" plot "$T/rows.tsv" -o "$T/p-$y" --y $y --reference "$T/q.tsv" --title "test $y" >"$T/out" 2>"$T/err"; rc=$?
  if [ $rc -eq 0 ] && [ -s "$T/p-$y.png" ] && [ -s "$T/p-$y.svg" ] && [ ! -s "$T/err" ] &&
     grep -q 'rtn Pareto front' "$T/p-$y.svg" && grep -q 'Q4_0' "$T/p-$y.svg" && grep -q 'b2g32a' "$T/p-$y.svg" &&
     grep -q "test $y" "$T/p-$y.svg" && [ "$(head -c 4 "$T/p-$y.png" | tail -c 3)" = PNG ]; then ok
  else bad "plot --y $y: rc $rc: $(cat "$T/out" "$T/err")"; fi
done
[ -z "$(ls -A "$T" | grep lrqtmp)" ] && ok || bad "temporary files left: $(ls -A "$T")"
# OUT with an extension: the same two files
"$LRQ" plot "$T/rows.tsv" -o "$T/x.png" >/dev/null 2>&1 && [ -s "$T/x.png" ] && [ -s "$T/x.svg" ] && ok || bad "-o x.png"
# another model's table: a warning, still drawn
"$LRQ" plot "$T/rows.tsv" -o "$T/w" --reference "$SHARED/golden/zoo/ts-qwen3-5M/quality.tsv" >/dev/null 2>"$T/err" &&
  grep -q 'warning: .*quality.tsv: its F32 file is .* a table of another model' "$T/err" && ok || bad "no warning: $(cat "$T/err")"
# errors: one line each
expect() { # expect RC PATTERN ARGS...
  local want=$1 pat=$2; shift 2
  "$LRQ" plot "$@" >/dev/null 2>"$T/err"; local rc=$?
  if [ $rc -eq "$want" ] && grep -q -- "$pat" "$T/err" && [ "$(wc -l <"$T/err")" -eq 1 ]; then ok
  else bad "plot $*: rc $rc (want $want): $(cat "$T/err")"; fi
}
expect 2 '-o OUT is required' "$T/rows.tsv"
expect 2 '--y takes kld, ppl or ln' "$T/rows.tsv" -o "$T/e" --y bits
expect 1 'nope.tsv: cannot open' "$T/nope.tsv" -o "$T/e"
expect 1 'not lrq sweep rows (missing column' "$T/q.tsv" -o "$T/e"
expect 1 'not a golden quality table' "$T/rows.tsv" -o "$T/e" --reference "$T/rows.tsv"
PATH=/nonexistent "$LRQ" plot "$T/rows.tsv" -o "$T/e" >/dev/null 2>"$T/err"; rc=$?
[ $rc -eq 1 ] && grep -q 'gnuplot not found on PATH: install gnuplot-nox' "$T/err" && ok || bad "no gnuplot: rc $rc: $(cat "$T/err")"
[ ! -e "$T/e.png" ] && [ ! -e "$T/e.svg" ] && ok || bad "an image was written on an error"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
