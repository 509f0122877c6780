#!/bin/sh
# variants/apply.sh — build one variant's core file from loop/ and its patch.
#
# Usage: variants/apply.sh NAME OUT_FILE    write the patched file to OUT_FILE
#        variants/apply.sh --core NAME      print the core file it patches
#
# Method: variants/NAME.patch is a unified diff against one file of loop/,
# named by its "+++ b/loop/FILE.c" line.  GNU patch applies it with no fuzz
# (its context must match loop/ exactly, though it may have moved), so a
# change to loop/ elsewhere in the file needs no edit here, and a change
# under a hunk fails at once instead of building a variant that no longer
# says what its patch says.  Exit status: 0 applied, 1 it no longer
# applies (one line naming the variant), 2 bad arguments or no such patch.
set -u
src=$(cd "$(dirname "$0")/.." && pwd)

core_of() {    # core_of PATCH: loop/FILE.c, or nothing
    sed -n 's|^+++ b/\(loop/[A-Za-z0-9_-]*\.c\).*|\1|p' "$1" | head -n 1
}

if [ $# -eq 2 ] && [ "$1" = --core ]; then
    patch_file=$src/variants/$2.patch
    [ -f "$patch_file" ] || { echo "variants/$2.patch: no such variant" >&2; exit 2; }
    core=$(core_of "$patch_file")
    [ -n "$core" ] || { echo "variants/$2.patch:1: names no '+++ b/loop/FILE.c'" >&2; exit 2; }
    echo "$core"
    exit 0
fi
if [ $# -ne 2 ]; then
    echo "usage: variants/apply.sh NAME OUT_FILE | --core NAME" >&2
    exit 2
fi
name=$1
out=$2
patch_file=$src/variants/$name.patch
[ -f "$patch_file" ] || { echo "variants/$name.patch: no such variant" >&2; exit 2; }
core=$(core_of "$patch_file")
[ -n "$core" ] || { echo "variants/$name.patch:1: names no '+++ b/loop/FILE.c'" >&2; exit 2; }
[ -f "$src/$core" ] || { echo "variants/$name.patch:1: $core does not exist" >&2; exit 2; }
command -v patch >/dev/null 2>&1 || {
    echo "variants/apply.sh: 'patch' not found: apt-get install -y patch (scripts/deps.sh)" >&2
    exit 2
}

mkdir -p "$(dirname "$out")"
tmp=$out.tmp.$$
# --reject-file=-: a failed hunk leaves no .rej beside the build's files.
if ! why=$(patch --batch --quiet --fuzz=0 --no-backup-if-mismatch \
                 --reject-file=- -o "$tmp" "$src/$core" <"$patch_file" 2>&1); then
    rm -f "$tmp"
    hunk=$(printf '%s\n' "$why" | sed -n 's/.*\(Hunk #[0-9]*\) FAILED.*/\1/p' | head -n 1)
    echo "variants/$name.patch: variant $name no longer applies to $core (${hunk:-$why}); rebase it with variants/make-patch.sh (docs/zoo.md)" >&2
    exit 1
fi
mv "$tmp" "$out"
