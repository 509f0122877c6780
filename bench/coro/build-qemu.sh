#!/bin/sh
# bench/coro/build-qemu.sh — build QEMU 10.0's libqemuutil.a (coroutines,
# AioContext, thread pool) from Debian 13's source package, for the
# side-by-side figures of bench/coro/run.sh.  Nothing of QEMU is kept in
# the repository: the source and the build live in WORK_DIR.
#
# Usage: bench/coro/build-qemu.sh WORK_DIR
#   Needs meson >= 1.5 and pycotap, which QEMU's configure checks for:
#   Debian 12 has them in bookworm-backports, installed from there when
#   missing (root).  Prints the QEMU build directory last.
#   Exit 0 built, 1 a step failed, 2 usage.
set -eu

[ $# -eq 1 ] || { echo "usage: build-qemu.sh WORK_DIR" >&2; exit 2; }
work=$(mkdir -p "$1" && cd "$1" && pwd)
mirror=${QLOOP_DEBIAN_MIRROR:-http://deb.debian.org/debian}

meson_ok() {
    command -v meson >/dev/null 2>&1 || return 1
    v=$(meson --version)
    [ "$(printf '%s\n1.5.0\n' "$v" | sort -V | head -n 1)" = 1.5.0 ]
}
if ! meson_ok || ! python3 -c 'import pycotap' 2>/dev/null; then
    bp="$work/backports"
    mkdir -p "$bp/lists/partial"
    echo "deb $mirror bookworm-backports main" > "$bp/sources.list"
    apt-get -q -o Dir::Etc::SourceList="$bp/sources.list" \
        -o Dir::State::Lists="$bp/lists" update >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get -y -q \
        -o Dir::Etc::SourceList="$bp/sources.list" \
        -o Dir::State::Lists="$bp/lists" \
        install --no-install-recommends meson python3-pycotap >/dev/null
fi

src=$(ls -d "$work"/qemu-10.* 2>/dev/null | head -n 1 || true)
if [ -z "$src" ]; then
    apt="$work/apt"
    mkdir -p "$apt/lists/partial"
    echo "deb-src $mirror trixie main" > "$apt/sources.list"
    set -- -o Dir::Etc::SourceList="$apt/sources.list" \
           -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists="$apt/lists" -q
    apt-get "$@" update >/dev/null
    (cd "$apt" && apt-get "$@" source --download-only qemu >/dev/null)
    tar -xf "$apt"/qemu_*.orig.tar.* -C "$work"
    src=$(ls -d "$work"/qemu-10.* | head -n 1)
fi

if [ ! -f "$src/build/build.ninja" ]; then
    # Tools on (they bring the block layer's util files: coroutines,
    # AioContext), everything else off.  The +ds tarball has no firmware.
    (cd "$src" && ./configure --python=/usr/bin/python3 --disable-download \
        --without-default-features --disable-system --disable-user \
        --enable-tools --disable-docs --disable-werror \
        --disable-install-blobs --target-list=) >"$work/configure.log" 2>&1 || {
        tail -20 "$work/configure.log" >&2
        exit 1
    }
fi
ninja -C "$src/build" libqemuutil.a >"$work/ninja.log" 2>&1 || {
    tail -20 "$work/ninja.log" >&2
    exit 1
}
echo "$src/build"
