#!/bin/sh
# tests/qemu/run-qemu-test.sh — build one of QEMU's own unit tests,
# unchanged, against an installed qloop (pkg-config qloop) and run every
# case in it, one process per case so a failing case cannot hide the rest.
#
# Usage: run-qemu-test.sh BUILD_DIR LIBDIR CC TEST [EXTRA_CFLAGS...]
#   TEST is test-aio, test-aio-multithread, test-thread-pool or
#   test-nested-aio-poll.  The sources come from Debian's QEMU source
#   package (fetch-qemu-tests.sh, cached in BUILD_DIR/qemu-tests); cases
#   listed in tests/qemu/excluded.txt are skipped and named.
#   Prints "qemu-tests: TEST: P passed, F failed, X excluded" last.
#   Exit 0 all passed, 1 a case failed or the test did not build, 77 the
#   sources could not be fetched (ctest reports a skip, never a pass).
set -eu

[ $# -ge 4 ] || { echo "usage: run-qemu-test.sh BUILD_DIR LIBDIR CC TEST [CFLAGS...]" >&2; exit 2; }
build_dir=$1
libdir=$2
cc=$3
test=$4
shift 4
here=$(cd "$(dirname "$0")" && pwd)
cache="$build_dir/qemu-tests"

case $test in
    test-aio|test-thread-pool|test-nested-aio-poll) extra= ;;
    test-aio-multithread) extra=iothread.c ;;
    *) echo "run-qemu-test: unknown test '$test'" >&2; exit 2 ;;
esac

status=0
"$here/fetch-qemu-tests.sh" "$cache" || status=$?
if [ "$status" -ne 0 ]; then
    echo "run-qemu-test: SKIPPED $test: QEMU's sources could not be fetched" >&2
    exit "$status"
fi
src="$cache/unit"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/qloop-qemu-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
if ! cmake --install "$build_dir" --prefix "$tmp/prefix" >"$tmp/install.log" 2>&1; then
    cat "$tmp/install.log" >&2
    echo "run-qemu-test: cmake --install failed" >&2
    exit 1
fi
flags=$(PKG_CONFIG_PATH="$tmp/prefix/$libdir/pkgconfig" pkg-config --cflags --libs qloop)

# QEMU's own warning set for its tests (minus checks of QEMU's coding
# style); an error here is qloop's headers failing QEMU's code.
sources="$src/$test.c"
[ -n "$extra" ] && sources="$sources $src/$extra"
echo "run-qemu-test: $(cat "$src/VERSION"): $test"
# shellcheck disable=SC2086 # word splitting of flags and sources intended
if ! "$cc" -std=gnu11 -g -O2 -Wall -Wextra -Werror -Wno-unused-parameter \
        -Wno-sign-compare -Wno-missing-field-initializers "$@" \
        -I"$src" -o "$tmp/$test" $sources $flags; then
    echo "run-qemu-test: $test does not build against qloop" >&2
    exit 1
fi

passed=0
failed=0
excluded=0
cases=$("$tmp/$test" -l | grep '^/') || true
if [ -z "$cases" ]; then
    echo "run-qemu-test: $test lists no cases" >&2
    exit 1
fi
for path in $cases; do
    reason=$(awk -v t="$test" -v p="$path" \
        '$1 == t && $2 == p { $1 = ""; $2 = ""; sub(/^ +/, ""); print; exit }' \
        "$here/excluded.txt")
    if [ -n "$reason" ]; then
        echo "EXCLUDED $test $path: $reason"
        excluded=$((excluded + 1))
        continue
    fi
    if "$tmp/$test" -p "$path" >"$tmp/case.log" 2>&1; then
        echo "PASS $test $path"
        passed=$((passed + 1))
    else
        echo "FAIL $test $path"
        sed 's/^/    /' "$tmp/case.log"
        failed=$((failed + 1))
    fi
done
echo "qemu-tests: $test: $passed passed, $failed failed, $excluded excluded"
[ "$failed" -eq 0 ]
