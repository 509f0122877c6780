#!/bin/sh
# tests/memory/c11-replace.sh — the reference model's handler-replace rule
# under c11 judges "after the replacement" by happens-before: the two
# corpus runs whose dispatch read the old node's deleted flag concurrently
# with a replacement in another thread pass (QEMU lets the old callback
# run then), and a core that keeps calling the old callback of a
# re-registered handler (fd-replace-stale) is still caught under c11.
# Usage: c11-replace.sh HARNESS_BIN_DIR SOURCE_DIR
set -u
bin=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# Copies: a failing run writes its replay file next to the scenario.
for case in fd-churn:1580 ml-churn:177; do
    name=${case%%:*}
    seed=${case##*:}
    cp "$src/corpus/hunt/$name.scn" "$tmp/"
    "$bin/qloop" run "$tmp/$name.scn" --memory c11 --pct 3 --seed "$seed" \
        -n 1 > "$tmp/$name.out" 2>&1
    [ $? -eq 0 ] || { cat "$tmp/$name.out"; fail "$name seed $seed under c11"; }
    grep -q "handler calls checked" "$tmp/$name.out" ||
        fail "$name: no handler call was checked"
done

cp "$src/docs/examples/fd-replace.scn" "$tmp/"
"$bin/qloop-fd-replace-stale" run "$tmp/fd-replace.scn" --memory c11 \
    --runs 200 > "$tmp/stale.out" 2>&1
[ $? -eq 1 ] || { cat "$tmp/stale.out"; fail "fd-replace-stale passes under c11"; }
grep -q "^replace: fd 'F' was dispatched to its first handler" "$tmp/stale.out" ||
    { cat "$tmp/stale.out"; fail "fd-replace-stale: not the replace rule"; }
echo PASS
