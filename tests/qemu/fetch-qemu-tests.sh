#!/bin/sh
# tests/qemu/fetch-qemu-tests.sh — fetch Debian 13's QEMU source package
# (QEMU 10.0) and extract the unit tests qloop runs unchanged.
#
# Usage: fetch-qemu-tests.sh CACHE_DIR
#   On success CACHE_DIR/unit/ holds test-aio.c, test-aio-multithread.c,
#   test-thread-pool.c, test-nested-aio-poll.c, iothread.c and iothread.h,
#   and CACHE_DIR/unit/VERSION names the package they came from.  Nothing
#   is fetched twice: a complete unit/ is reused.  Several callers may run
#   at once (ctest -j): the first fetches, the others wait for it.
#   Exit 0 when the files are there, 77 when they cannot be had (no
#   network, no apt), 2 on a usage error.
set -eu

[ $# -eq 1 ] || { echo "usage: fetch-qemu-tests.sh CACHE_DIR" >&2; exit 2; }
cache=$1
files="test-aio.c test-aio-multithread.c test-thread-pool.c test-nested-aio-poll.c iothread.c iothread.h"
suite=${QLOOP_QEMU_SUITE:-trixie}
mirror=${QLOOP_DEBIAN_MIRROR:-http://deb.debian.org/debian}

mkdir -p "$cache"
complete() {
    [ -f "$cache/unit/VERSION" ] || return 1
    for f in $files; do [ -f "$cache/unit/$f" ] || return 1; done
}

exec 9>"$cache/.lock"
if command -v flock >/dev/null 2>&1; then
    flock 9
fi
if complete; then
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "fetch-qemu-tests: no apt-get on this machine" >&2
    exit 77
fi
apt="$cache/apt"
rm -rf "$apt" "$cache/unit.tmp"
mkdir -p "$apt/lists/partial" "$apt/archives/partial" "$cache/unit.tmp"
echo "deb-src $mirror $suite main" > "$apt/sources.list"
set -- -o Dir::Etc::SourceList="$apt/sources.list" \
       -o Dir::Etc::SourceParts=/dev/null \
       -o Dir::State::Lists="$apt/lists" \
       -o Dir::Cache::Archives="$apt/archives" \
       -o APT::Sandbox::User=root -q
if ! apt-get "$@" update >"$apt/update.log" 2>&1; then
    tail -5 "$apt/update.log" >&2
    echo "fetch-qemu-tests: apt-get update for $suite deb-src failed" >&2
    exit 77
fi
if ! (cd "$apt" && apt-get "$@" source --download-only qemu) \
        >"$apt/source.log" 2>&1; then
    tail -5 "$apt/source.log" >&2
    echo "fetch-qemu-tests: apt-get source --download-only qemu failed" >&2
    exit 77
fi
orig=$(ls "$apt"/qemu_*.orig.tar.* 2>/dev/null | head -n 1)
if [ -z "$orig" ]; then
    echo "fetch-qemu-tests: no qemu_*.orig.tar.* was downloaded" >&2
    exit 77
fi
patterns=
for f in $files; do patterns="$patterns */tests/unit/$f"; done
# shellcheck disable=SC2086 # one pattern per word
if ! tar -xf "$orig" -C "$cache/unit.tmp" --wildcards $patterns; then
    echo "fetch-qemu-tests: $orig lacks one of: $files" >&2
    exit 77
fi
for f in $files; do
    found=$(find "$cache/unit.tmp" -path "*/tests/unit/$f" | head -n 1)
    mv "$found" "$cache/unit.tmp/$f"
done
basename "$orig" > "$cache/unit.tmp/VERSION"
find "$cache/unit.tmp" -mindepth 1 -type d -exec rm -rf {} + 2>/dev/null || true
rm -rf "$cache/unit"
mv "$cache/unit.tmp" "$cache/unit"
# The 40 MB tarball is not needed again: the six files are the cache.
rm -rf "$apt"
echo "fetch-qemu-tests: $(cat "$cache/unit/VERSION") -> $cache/unit"
