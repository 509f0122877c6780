#!/bin/sh
# variants/make-patch.sh — write variants/NAME.patch from an edited copy of
# one loop/ file, keeping the patch's description (the comment before its
# first "--- " line).
#
# Usage: variants/make-patch.sh NAME EDITED_FILE [loop/FILE.c]
#   loop/FILE.c defaults to the file the existing patch names.
# To write a new variant: cp loop/bh.c /tmp/bh.c, make the one change,
# variants/make-patch.sh NAME /tmp/bh.c loop/bh.c, write its description at
# the top of the patch, add qloop_variant(NAME) to variants/CMakeLists.txt.
# To rebase one that no longer applies: variants/apply.sh leaves nothing;
# patch loop/FILE.c by hand (or with patch --merge into a copy), fix the
# conflict, and run this on the copy.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 2 ] && [ $# -le 3 ] || {
    echo "usage: variants/make-patch.sh NAME EDITED_FILE [loop/FILE.c]" >&2; exit 2; }
name=$1
edited=$2
patch_file=$src/variants/$name.patch
if [ $# -eq 3 ]; then
    core=$3
else
    core=$(sh "$src/variants/apply.sh" --core "$name") || exit 2
fi
[ -f "$src/$core" ] || { echo "variants/make-patch.sh: $core does not exist" >&2; exit 2; }
tmp=$patch_file.tmp.$$
if [ -f "$patch_file" ]; then
    sed '/^--- /,$d' "$patch_file" >"$tmp"
else
    printf '/*\n * variants/%s.patch — WHAT IT BREAKS, AND THE QEMU HISTORY IT MIRRORS.\n *\n * Patches: %s.\n */\n' "$name" "$core" >"$tmp"
fi
# diff exits 1 when the files differ, which is the point.
if diff -u --label "a/$core" --label "b/$core" "$src/$core" "$edited" >>"$tmp"; then
    rm -f "$tmp"
    echo "variants/make-patch.sh: $edited does not differ from $core" >&2
    exit 2
fi
mv "$tmp" "$patch_file"
