#!/bin/sh
# bench/coro/run.sh — coroutine costs side by side: bench-coro.c built
# against an installed qloop (pkg-config qloop) and against QEMU 10.0's
# libqemuutil (bench/coro/build-qemu.sh), run one after the other.
#
# Usage: bench/coro/run.sh QLOOP_BUILD_DIR QEMU_BUILD_DIR [SCALE]
#   QLOOP_BUILD_DIR: a configured and built qloop tree (build/release for
#   the published figures); QEMU_BUILD_DIR: what build-qemu.sh printed.
#   SCALE multiplies the iteration counts (default 1).
#   Prints "name qloop qemu" lines, ns per operation.
set -eu

[ $# -ge 2 ] || { echo "usage: run.sh QLOOP_BUILD_DIR QEMU_BUILD_DIR [SCALE]" >&2; exit 2; }
qloop_build=$1
qemu_build=$(cd "$2" && pwd)
scale=${3:-1}
here=$(cd "$(dirname "$0")" && pwd)
qemu_src=$(dirname "$qemu_build")
cc=${CC:-cc}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/qloop-bench-coro.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

cmake --install "$qloop_build" --prefix "$tmp/prefix" >/dev/null
libdir=$(ls -d "$tmp"/prefix/lib*/pkgconfig | head -n 1)
# shellcheck disable=SC2046 # word splitting of pkg-config's flags intended
"$cc" -std=gnu11 -O2 -o "$tmp/bench-qloop" "$here/bench-coro.c" \
    $(PKG_CONFIG_PATH="$libdir" pkg-config --cflags --libs qloop)

ninja -C "$qemu_build" libqom.a libevent-loop-base.a >/dev/null
# shellcheck disable=SC2046
"$cc" -std=gnu11 -O2 -I"$qemu_build" -I"$qemu_src/include" \
    -I"$qemu_build/qapi" -I"$qemu_build/trace" -I"$qemu_src" \
    $(pkg-config --cflags glib-2.0) -o "$tmp/bench-qemu" "$here/bench-coro.c" \
    -Wl,--start-group "$qemu_build/libqemuutil.a" "$qemu_build/libqom.a" \
    "$qemu_build/libevent-loop-base.a" -Wl,--end-group \
    $(pkg-config --libs glib-2.0 gio-2.0 gmodule-2.0) -lm -lpthread \
    2>"$tmp/ld.log" || { cat "$tmp/ld.log" >&2; exit 1; }

"$tmp/bench-qloop" "$scale" qloop > "$tmp/qloop.txt"
"$tmp/bench-qemu" "$scale" qemu > "$tmp/qemu.txt"
echo "# ns per operation; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "name qloop qemu-10.0"
join "$tmp/qloop.txt" "$tmp/qemu.txt" | grep -v '^#'
