#!/bin/sh
# tests/compat/run-compat.sh — install qloop from a build tree into a
# temporary prefix, then build and run a QEMU-API program against it through
# pkg-config, the way an outside project would.
#
# Usage: run-compat.sh BUILD_DIR LIBDIR SOURCE CC [EXTRA_CFLAGS...]
#   LIBDIR is CMAKE_INSTALL_LIBDIR (lib, lib64 or lib/<multiarch>);
#   EXTRA_CFLAGS carry the build's sanitizer/coverage flags, which the
#   installed static library needs at link time.
#
set -eu

build_dir=$1
libdir=$2
source=$3
cc=$4
shift 4

tmp=$(mktemp -d "${TMPDIR:-/tmp}/qloop-compat.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

cmake --install "$build_dir" --prefix "$tmp/prefix" >"$tmp/install.log" 2>&1 || {
    cat "$tmp/install.log" >&2
    echo "run-compat: cmake --install failed" >&2
    exit 1
}

pc_dir="$tmp/prefix/$libdir/pkgconfig"
if [ ! -f "$pc_dir/qloop.pc" ]; then
    echo "run-compat: no qloop.pc in $pc_dir" >&2
    exit 1
fi
# qloop.pc is relocatable (prefix from ${pcfiledir}): use it as installed.
flags=$(PKG_CONFIG_PATH="$pc_dir" pkg-config --cflags --libs qloop)
case $flags in
    *"$tmp/prefix"*) ;;
    *) echo "run-compat: pkg-config flags do not point into the install: $flags" >&2
       exit 1 ;;
esac
echo "run-compat: $cc $* ... $flags"

# shellcheck disable=SC2086 # word splitting of the flags is intended
"$cc" -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter "$@" \
    -o "$tmp/qemu-api" "$source" $flags
"$tmp/qemu-api"
