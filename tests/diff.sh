#!/bin/sh
# tests/diff.sh — qloop diff shows where a variant and the core part ways:
# the seed-era BH design runs BHs made A, B, C and scheduled C, A, B as
# C, B, A (newest created first) where the current one runs B, A, C, and
# agrees on a scenario without BHs.
# Usage: diff.sh BIN_DIR SOURCE_DIR
set -u
bin=$1/qloop
src=$2
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/qloop-diff.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/order.scn" <<'SCN'
bh A
bh B
bh C
thread main {
    schedule C
    schedule A
    schedule B
    poll
}
SCN
"$bin" diff --variant bh-seed "$tmp/order.scn" >"$tmp/out" 2>&1
rc=$?
if [ "$rc" = 1 ] && grep -q "^first difference at event" "$tmp/out" &&
   grep -q "^--- production core" "$tmp/out" && grep -q "^--- qloop-bh-seed" "$tmp/out" &&
   [ "$(grep -c '^> ' "$tmp/out")" = 2 ]; then
    ok "bh-seed against the core, schedule C, A, B: a difference, both stories"
else
    bad "bh-seed, schedule C, A, B: exit $rc"; cat "$tmp/out"
fi
# The marked events differ, and the ones before them are the same.
a=$(sed -n '/^--- production/,/^--- qloop/p' "$tmp/out" | grep '^> ' | cut -c3- | sed 's/^ *[0-9]* *//')
b=$(sed -n '/^--- qloop-bh-seed/,$p' "$tmp/out" | grep '^> ' | cut -c3- | sed 's/^ *[0-9]* *//')
[ -n "$a" ] && [ "$a" != "$b" ] && ok "the marked events differ" ||
    bad "the marked events: '$a' / '$b'"
"$bin" diff --variant bh-seed "$src/docs/examples/timer-ties.scn" >"$tmp/out" 2>&1
rc=$?
[ "$rc" = 0 ] && grep -q "^the same [0-9]* events" "$tmp/out" &&
    ok "bh-seed on timer-ties.scn (no BHs): the same trace" ||
    { bad "bh-seed on timer-ties.scn: exit $rc"; cat "$tmp/out"; }
"$bin" diff --variant no-such "$src/docs/examples/bh-order.scn" 2>"$tmp/err"
[ $? = 2 ] && [ "$(wc -l <"$tmp/err")" = 1 ] && ok "unknown variant: exit 2, one line" ||
    bad "unknown variant: $(cat "$tmp/err")"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
