#!/bin/sh
# tests/variant-patches.sh — every variant is a patch that applies to the
# core as it is now, changes it, and a patch that stops applying fails with
# one line naming its variant.
#
# Method: variants/apply.sh on each variants/NAME.patch into a scratch
# directory must exit 0 with a file that differs from loop/FILE.  Then, in
# a copy of the tree with one context line of loop/notify.c edited under
# notify-bug2's hunk, apply.sh must exit 1 and say, on exactly one line,
# that variant notify-bug2 no longer applies; with the edit elsewhere in
# the file (outside every hunk) it must still apply.
# Usage: variant-patches.sh SOURCE_DIR
set -u
src=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
count=0

for patch_file in "$src"/variants/*.patch; do
    name=$(basename "$patch_file" .patch)
    count=$((count + 1))
    core=$(sh "$src/variants/apply.sh" --core "$name") || { fail=1; continue; }
    if ! sh "$src/variants/apply.sh" "$name" "$tmp/$name.c"; then
        echo "FAIL $name: does not apply to $core"
        fail=1
    elif cmp -s "$tmp/$name.c" "$src/$core"; then
        echo "FAIL $name: applies but changes nothing in $core"
        fail=1
    fi
    grep -q "^qloop_variant($name)" "$src/variants/CMakeLists.txt" || {
        echo "FAIL $name: no qloop_variant($name) in variants/CMakeLists.txt"
        fail=1
    }
done
[ "$count" -ge 20 ] || { echo "FAIL only $count variants"; fail=1; }

# A copy of the tree with one edited core file.
mkdir -p "$tmp/tree/variants" "$tmp/tree/loop"
cp "$src/variants/apply.sh" "$src/variants/notify-bug2.patch" "$tmp/tree/variants/"
# Under the hunk: the line the patch removes.
sed 's/qatomic_set(&ctx->notified, true);/qatomic_set(\&ctx->notified, 1);/' \
    "$src/loop/notify.c" >"$tmp/tree/loop/notify.c"
cmp -s "$src/loop/notify.c" "$tmp/tree/loop/notify.c" && {
    echo "FAIL test setup: the edit did not change loop/notify.c"; fail=1; }
sh "$tmp/tree/variants/apply.sh" notify-bug2 "$tmp/out.c" 2>"$tmp/err"
rc=$?
lines=$(wc -l <"$tmp/err")
if [ "$rc" != 1 ] || [ "$lines" != 1 ] ||
   ! grep -q "variant notify-bug2 no longer applies to loop/notify.c" "$tmp/err"; then
    echo "FAIL stale patch: exit $rc, $lines lines:"; cat "$tmp/err"; fail=1
fi
[ -e "$tmp/out.c" ] && { echo "FAIL stale patch left its output"; fail=1; }
ls "$tmp/tree/loop" | grep -q '\.rej\|\.orig' && { echo "FAIL stale patch left .rej/.orig"; fail=1; }
# Outside every hunk: a comment line added at the top moves the hunk only.
{ echo "/* an unrelated change */"; cat "$src/loop/notify.c"; } >"$tmp/tree/loop/notify.c"
if ! sh "$tmp/tree/variants/apply.sh" notify-bug2 "$tmp/out.c" 2>"$tmp/err"; then
    echo "FAIL a change outside the hunk broke the patch:"; cat "$tmp/err"; fail=1
fi

[ "$fail" = 0 ] && echo "PASS $count variant patches apply; a stale one fails in one line"
exit "$fail"
