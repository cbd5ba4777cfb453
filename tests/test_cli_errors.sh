#!/usr/bin/env bash
# CLI behaviour on bad input: every case must exit non-zero (but not by a
# signal), print exactly one line on stderr that names the offending file,
# and print nothing that looks like a crash. Args: LRQ_BINARY SHARED_DIR
set -u
LRQ=$1
SHARED=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
GGUF=$SHARED/models/stories260K/stories260K-f32.gguf
TEXT=$SHARED/data/tinystories/TinyStories-valid.first22docs.txt

# expect_error NAME FILE_IN_MESSAGE CMD...
expect_error() {
  local name=$1 needle=$2
  shift 2
  "$@" >"$T/out" 2>"$T/err"
  local rc=$?
  local lines
  lines=$(wc -l <"$T/err")
  if [ $rc -ne 0 ] && [ $rc -lt 128 ] && [ "$lines" -eq 1 ] && grep -qF -- "$needle" "$T/err"; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    echo "FAIL $name: rc=$rc, $lines stderr lines:"; head -5 "$T/err"
  fi
}

# Model files
head -c 1000 "$GGUF" >"$T/trunc.gguf"
expect_error "truncated gguf" "$T/trunc.gguf" "$LRQ" ppl -m "$T/trunc.gguf" -f "$TEXT" -c 128
head -c 0 "$GGUF" >"$T/empty.gguf"
expect_error "empty gguf" "$T/empty.gguf" "$LRQ" ppl -m "$T/empty.gguf" -f "$TEXT" -c 128
{ printf 'GGUX'; tail -c +5 "$GGUF"; } >"$T/magic.gguf"
expect_error "wrong magic" "$T/magic.gguf" "$LRQ" info "$T/magic.gguf"
# n_tensors = 2^60
{ head -c 8 "$GGUF"; printf '\x00\x00\x00\x00\x00\x00\x00\x10'; tail -c +17 "$GGUF"; } >"$T/count.gguf"
expect_error "absurd tensor count" "$T/count.gguf" "$LRQ" ppl -m "$T/count.gguf" -f "$TEXT"
expect_error "missing model" "$T/nope.gguf" "$LRQ" ppl -m "$T/nope.gguf" -f "$TEXT"
head -c 5000 "$SHARED/models/stories260K/stories260K.bin" >"$T/trunc.bin"
expect_error "truncated llama2.c" "$T/trunc.bin" "$LRQ" ppl -m "$T/trunc.bin" --vocab "$SHARED/models/stories260K/tok512.bin" -f "$TEXT"
mkdir -p "$T/hf"
cp "$SHARED/models/stories260K/hf/config.json" "$T/hf/"
head -c 3000 "$SHARED/models/stories260K/hf/model.safetensors" >"$T/hf/model.safetensors"
expect_error "truncated safetensors" "model.safetensors" "$LRQ" ppl -m "$T/hf" --vocab "$GGUF" -f "$TEXT"
# A type lrq does not compute
IQ2=$SHARED/golden/zoo/ts-qwen3-5M/ts-qwen3-5M-IQ2_XXS-imat.gguf
if [ -f "$IQ2" ]; then
  expect_error "unsupported type" "unsupported type" "$LRQ" ppl -m "$IQ2" -f "$TEXT"
fi

# Text files
: >"$T/empty.txt"
expect_error "empty text" "$T/empty.txt" "$LRQ" ppl -m "$GGUF" -f "$T/empty.txt" -c 128
head -c 4096 "$GGUF" >"$T/binary.txt"
expect_error "binary text" "$T/binary.txt" "$LRQ" ppl -m "$GGUF" -f "$T/binary.txt" -c 128
printf 'Once upon a time \xff\xfe there' >"$T/badutf8.txt"
expect_error "invalid utf-8" "$T/badutf8.txt" "$LRQ" ppl -m "$GGUF" -f "$T/badutf8.txt" -c 128
printf 'Once upon a time.' >"$T/short.txt"
expect_error "text too short" "tokens" "$LRQ" ppl -m "$GGUF" -f "$T/short.txt" -c 128
expect_error "bad kld base" "$T/short.txt" "$LRQ" ppl -m "$GGUF" --kl-divergence-base "$T/short.txt" --kl-divergence -c 128

# Working commands for contrast (exit 0)
for args in "info $GGUF" "tokenize -m $GGUF -p hello --ids" "generate -m $GGUF -n 4"; do
  if "$LRQ" $args >"$T/out" 2>"$T/err"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: lrq $args"; cat "$T/err"; fi
done
out=$("$LRQ" tokenize -m "$SHARED/tokenizers/qwen3/ggml-vocab-qwen3.gguf" -p "Hello world" --ids --no-bos 2>&1)
if [ "$out" = "[9707, 1879]" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: qwen3 tokenize gave $out"; fi

# Seeded sampling is reproducible; greedy equals the golden continuation.
a=$("$LRQ" generate -m "$GGUF" -p "Once upon a time" -n 24 --temp 0.9 --top-k 40 --seed 7 --ids 2>/dev/null)
b=$("$LRQ" generate -m "$GGUF" -p "Once upon a time" -n 24 --temp 0.9 --top-k 40 --seed 7 --ids 2>/dev/null)
c=$("$LRQ" generate -m "$GGUF" -p "Once upon a time" -n 24 --temp 0.9 --top-k 40 --seed 8 --ids 2>/dev/null)
if [ -n "$a" ] && [ "$a" = "$b" ] && [ "$a" != "$c" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: seeded sampling ($a | $b | $c)"; fi
g=$("$LRQ" generate -m "$GGUF" -p "Once upon a time, there was a little girl named Lily." -n 40 --ids 2>/dev/null | tail -1)
want=$(sed -n 2p "$SHARED/golden/stories260K/ids-exact-s260-F32.txt")
if [ "$g" = "$want" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: greedy ids $g"; fi
text=$("$LRQ" generate -m "$GGUF" -n 20 2>/dev/null)
case "$text" in "Once upon a time"*) pass=$((pass + 1)) ;; *) fail=$((fail + 1)); echo "FAIL: greedy text from BOS: $text" ;; esac

# mkrand: deterministic files with the real parameter count, loadable by lrq.
"$LRQ" mkrand --shape qwen3-5m-like --vocab "$GGUF" --seed 3 -o "$T/r1.gguf" >/dev/null 2>&1
"$LRQ" mkrand --shape qwen3-5m-like --vocab "$GGUF" --seed 3 -o "$T/r2.gguf" >/dev/null 2>&1
params=$("$LRQ" info "$T/r1.gguf" 2>/dev/null | sed -n 's/^parameters: \([0-9]*\).*/\1/p')
if cmp -s "$T/r1.gguf" "$T/r2.gguf" && [ "$params" = "4984832" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: mkrand (params '$params')"; fi

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
