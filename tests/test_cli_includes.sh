#!/usr/bin/env bash
# The command-line tool uses the library only through its public header:
# every #include in tools/*.c and tools/*.h must be "lrq.h", "cli.h" or a
# <system> header (C library / POSIX), never an internal header from src/.
# Args: LRQ_BINARY SHARED_DIR (unused; the tools/ folder is found next to
# this script).
set -u
TOOLS=$(cd "$(dirname "$0")/../tools" && pwd)
bad=$(grep -nE '^[[:space:]]*#[[:space:]]*include' "$TOOLS"/*.c "$TOOLS"/*.h |
      grep -vE '#[[:space:]]*include[[:space:]]*(<[a-z0-9_/]+\.h>|"(lrq|cli)\.h")')
n=$(grep -lE '^[[:space:]]*#[[:space:]]*include' "$TOOLS"/*.c | wc -l)
if [ "$n" -lt 5 ]; then echo "FAIL: found only $n tool sources in $TOOLS"; exit 1; fi
if [ -n "$bad" ]; then
  echo "FAIL: tools/ include something other than lrq.h, cli.h and system headers:"
  echo "$bad"
  exit 1
fi
echo "ok: $n tool sources include only lrq.h, cli.h and system headers"
