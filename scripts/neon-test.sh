#!/bin/sh
# neon-test.sh — the ARM NEON kernels, tested on an x86-64 Linux host:
# cross-compiles lrq for aarch64 (cmake/aarch64-linux-gnu.cmake) and runs the
# kernel tests (test_kern_legacy, test_kern_k, test_planes, and the other
# kernel tests) under qemu-aarch64, where they iterate over the "neon" level.
#
#   scripts/neon-test.sh [--no-install] [BUILD_DIR]      (default build-neon)
#
# The cross tools (Debian: gcc-aarch64-linux-gnu libc6-dev-arm64-cross
# qemu-user) are installed by `scripts/deps.sh --neon` when missing, unless
# --no-install is given (the ctest test neon_qemu passes it: the README's
# test command installs nothing beyond what it needs for the main build).
#
# The cross build is LRQ_KERN_ONLY: it links core, io, fmt and kern — all
# the kernel tests need — and compile-checks every other source of the
# library and the CLI for aarch64 without linking them. That avoids PCRE2
# for the target, which would need Debian multiarch (dpkg
# --add-architecture arm64 plus arm64 package lists, absent from e.g. a
# default Ubuntu amd64 mirror) — more fragile than not needing it.
#
# A second, small build ($BUILD_DIR-dotprod: the kernel layers and
# test_planes_q8 only) uses -march=armv8.2-a+dotprod, so the int8 planes
# kernels' vdotq_s32 path (Apple M1's) is tested as well as the default
# armv8-a one (vmull/vmlal), which the main build compiles.
#
# Exit status: 0 all passed; 1 a build step or a test failed; 77 the cross
# tools are missing and were not (or could not be) installed — ctest's
# SKIP_RETURN_CODE for neon_qemu.
set -eu
cd "$(dirname "$0")/.."

install=1
if [ "${1:-}" = --no-install ]; then
    install=0
    shift
fi
build=${1:-build-neon}

have_tools() {
    command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 && command -v qemu-aarch64 >/dev/null 2>&1 &&
        [ -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ]
}

if ! have_tools; then
    if [ "$install" = 0 ]; then
        echo "neon-test.sh: skipped: no aarch64 cross compiler or qemu-aarch64 (install: scripts/deps.sh --neon)"
        exit 77
    fi
    if ! scripts/deps.sh --neon || ! have_tools; then
        echo "neon-test.sh: skipped: could not install the aarch64 cross tools"
        exit 77
    fi
fi

# Build output goes to a log shown only on failure; ctest's output is shown.
log="$build/neon-test.log"
mkdir -p "$build"
if ! { cmake -S . -B "$build" -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake -DLRQ_KERN_ONLY=ON \
        -DCMAKE_BUILD_TYPE=Release && cmake --build "$build" -j2; } >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "neon-test.sh: the aarch64 cross build failed (log: $log)" >&2
    exit 1
fi
ctest --test-dir "$build" --output-on-failure -j2 || exit 1

dp="$build-dotprod"
mkdir -p "$dp"
if ! { cmake -S . -B "$dp" -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake -DLRQ_KERN_ONLY=ON \
        -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS=-march=armv8.2-a+dotprod &&
        cmake --build "$dp" -j2 --target test_planes_q8; } >"$dp/neon-test.log" 2>&1; then
    tail -n 40 "$dp/neon-test.log" >&2
    echo "neon-test.sh: the aarch64 dotprod build failed (log: $dp/neon-test.log)" >&2
    exit 1
fi
ctest --test-dir "$dp" --output-on-failure -R '^test_planes_q8$' || exit 1
