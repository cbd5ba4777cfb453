#!/bin/sh
# deps.sh — installs what building and testing lrq needs, and nothing else.
#
# Both set-up commands of the README and .ci/run call this first, so a fresh
# machine works from one command and the list of packages lives in one place.
# Contract:
#  - everything present: prints nothing, exits 0, and is fast (package
#    database look-ups only, no network), so calling it before every build
#    costs nothing;
#  - something missing: prints ONE line naming what it installs and why, then
#    installs it (Debian/Ubuntu: apt-get, after a single `apt-get update`;
#    macOS: Homebrew), through sudo only when not already root; the package
#    manager's own output is shown only if it fails;
#  - cannot install (no known package manager, no root and no sudo): says
#    what is missing and exits 1, so the && chain of the README stops here.
#
# Why each package:
#   cmake make gcc pkg-config libpcre2-dev  build lrq (PCRE2 runs the BPE
#                                           pre-tokenizer regexes)
#   libopenblas-dev liblapacke-dev          dense linear algebra of calibration
#                                           and GPTQ (Cholesky, inverse, GEMM:
#                                           src/eval/calib.c, src/quant/gptq.c);
#                                           macOS uses Apple's Accelerate instead
#   clang libclang-rt-N-dev                 the ASan+UBSan and libFuzzer tests
#                                           (libFuzzer's runtime, from the
#                                           package of clang's own version
#                                           N: 14 on Debian 12)
#   gnuplot-nox                             lrq plot draws through it (PNG,
#                                           SVG), and its test; also
#                                           scripts/quant-results.sh
#
# `deps.sh --neon` installs instead (same contract, Debian/Ubuntu only) what
# scripts/neon-test.sh needs to cross-build lrq for aarch64 and run its NEON
# kernel tests under qemu; kept out of the default list so that the README's
# main commands stay lean:
#   gcc-aarch64-linux-gnu libc6-dev-arm64-cross   the cross compiler and the
#                                                 target's C library
#   qemu-user                                     runs the aarch64 test binaries
set -eu

NEON_PKGS="gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user"

BUILD_PKGS="cmake make gcc pkg-config libpcre2-dev libopenblas-dev liblapacke-dev"
TEST_PKGS="clang"
PLOT_PKGS="gnuplot-nox"

# Major version of the installed clang, or of the one Debian's `clang`
# package would install (read from the package lists); empty if unknown.
clang_major() {
    if command -v clang >/dev/null 2>&1; then
        clang -dumpversion 2>/dev/null | cut -d. -f1
    else
        apt-cache depends clang 2>/dev/null | sed -n 's/^ *Depends: clang-\([0-9][0-9]*\)$/\1/p' | head -n 1
    fi
}

# 1 if the installed clang can link -fsanitize=fuzzer: its libFuzzer archive
# is in its resource directory (whichever package put it there).
have_libfuzzer() {
    command -v clang >/dev/null 2>&1 || return 1
    d=$(clang -print-resource-dir 2>/dev/null) || return 1
    [ -n "$(find "$d/lib" -name 'libclang_rt.fuzzer*.a' 2>/dev/null | head -n 1)" ]
}

# The package holding libFuzzer for clang version $1 (it must match the
# compiler's version). Needs the package lists: releases before LLVM 14's
# packaging split have no libclang-rt-N-dev and ship it in
# libclang-common-N-dev.
clang_rt_pkg() {
    if apt-cache show "libclang-rt-$1-dev" >/dev/null 2>&1; then
        echo "libclang-rt-$1-dev"
    else
        echo "libclang-common-$1-dev"
    fi
}

# Prints those of the packages "$@" that are not installed, one dpkg-query
# for all of them (one call per package would make the fast path slow).
deb_missing() {
    ok=$(dpkg-query -W -f='${Package} ${Status}\n' "$@" 2>/dev/null | sed -n 's/ install ok installed$//p')
    for p in "$@"; do
        case "
$ok
" in *"
$p
"*) ;; *) printf ' %s' "$p" ;; esac
    done
}

# Runs "$@" as root: directly when root, else through sudo.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        echo "deps.sh: need root or sudo to run: $*" >&2
        return 1
    fi
}

# Runs "$@" with its output in a log that is shown only on failure.
quietly() {
    log=$(mktemp "${TMPDIR:-/tmp}/lrq-deps.XXXXXX")
    if "$@" >"$log" 2>&1; then
        rm -f "$log"
    else
        rc=$?
        tail -n 30 "$log" >&2
        rm -f "$log"
        echo "deps.sh: failed: $*" >&2
        return $rc
    fi
}

install_debian() {
    # shellcheck disable=SC2086 # word splitting of the package lists is intended
    missing_build=$(deb_missing $BUILD_PKGS)
    # shellcheck disable=SC2086
    missing_test=$(deb_missing $TEST_PKGS)
    # shellcheck disable=SC2086
    missing_plot=$(deb_missing $PLOT_PKGS)
    # libFuzzer: a file test, so that it is found whichever package holds it.
    need_rt=0
    [ -z "$missing_test" ] && have_libfuzzer || need_rt=1
    [ -n "$missing_build$missing_test$missing_plot" ] || [ "$need_rt" = 1 ] || return 0

    export DEBIAN_FRONTEND=noninteractive
    quietly as_root apt-get update
    if [ "$need_rt" = 1 ]; then
        v=$(clang_major)
        if [ -z "$v" ]; then
            echo "deps.sh: cannot tell which clang apt-get would install" >&2
            return 1
        fi
        missing_test="$missing_test $(clang_rt_pkg "$v")"
    fi
    why=""
    [ -z "$missing_build" ] || why="${missing_build# } to build lrq"
    [ -z "$missing_build" ] || [ -z "$missing_test" ] || why="$why, "
    [ -z "$missing_test" ] || why="$why${missing_test# } for the sanitizer and fuzz tests"
    [ -z "$why" ] || [ -z "$missing_plot" ] || why="$why, "
    [ -z "$missing_plot" ] || why="$why${missing_plot# } for lrq plot"
    echo "deps.sh: installing $why (apt-get)"
    # shellcheck disable=SC2086 # word splitting of the package lists is intended
    quietly as_root apt-get install -y $missing_build $missing_test $missing_plot
}

install_macos() {
    prefix=$(brew --prefix)
    missing=""
    # A formula is installed when its opt/ link exists: a file test, not a
    # slow `brew list` per formula.
    for p in cmake pkg-config pcre2 llvm gnuplot; do [ -e "$prefix/opt/$p" ] || missing="$missing $p"; done
    if ! command -v cc >/dev/null 2>&1 || ! command -v make >/dev/null 2>&1; then
        echo "deps.sh: no C compiler or make: run \`xcode-select --install\` first" >&2
        return 1
    fi
    if [ -n "$missing" ]; then
        echo "deps.sh: installing${missing} (Homebrew) to build lrq and, with llvm's clang, run the fuzz tests (gnuplot: lrq plot)"
        # shellcheck disable=SC2086
        quietly brew install $missing
    fi
    # Homebrew's llvm is keg-only, and Apple's clang has no libFuzzer: the
    # fuzz test needs llvm's clang first on PATH, which only the caller's
    # shell can arrange.
    if [ "$(command -v clang)" != "$prefix/opt/llvm/bin/clang" ]; then
        echo "deps.sh: for the fuzz tests, put llvm's clang first on PATH: export PATH=\"$prefix/opt/llvm/bin:\$PATH\"" >&2
    fi
}

# No known package manager: check the tools themselves and say what is missing.
check_only() {
    missing=""
    for c in cmake make cc pkg-config clang gnuplot; do command -v "$c" >/dev/null 2>&1 || missing="$missing $c"; done
    if command -v pkg-config >/dev/null 2>&1; then
        for m in libpcre2-8 openblas lapacke; do pkg-config --exists "$m" || missing="$missing $m"; done
    fi
    [ -n "$missing" ] || return 0
    echo "deps.sh: missing${missing}; install them with your package manager (and libFuzzer's runtime for clang)" >&2
    return 1
}

install_neon() {
    # shellcheck disable=SC2086 # word splitting of the package list is intended
    missing=$(deb_missing $NEON_PKGS)
    [ -n "$missing" ] || return 0
    export DEBIAN_FRONTEND=noninteractive
    echo "deps.sh: installing${missing} to cross-build for aarch64 and run the NEON tests under qemu (apt-get)"
    quietly as_root apt-get update
    # shellcheck disable=SC2086
    quietly as_root apt-get install -y --no-install-recommends $missing
}

is_debian() { command -v dpkg-query >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; }

if [ "${1:-}" = --neon ]; then
    if ! is_debian; then
        echo "deps.sh --neon: needs Debian/Ubuntu (apt-get) for the aarch64 cross tools and qemu-user" >&2
        exit 1
    fi
    install_neon
    exit 0
fi

if is_debian; then
    install_debian
elif [ "$(uname -s)" = Darwin ] && command -v brew >/dev/null 2>&1; then
    install_macos
else
    check_only
fi
