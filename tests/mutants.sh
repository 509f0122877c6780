#!/bin/sh
# tests/mutants.sh — `qloop mutants`: its exit status says whether every
# bug variant was found, its table and mutants.tsv say by what, --shard
# splits the variants, bad input is one line and exit 2.
# Usage: mutants.sh BIN_DIR SOURCE_DIR
set -u
bin=$1/qloop
src=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/qloop-mutants.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0

ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }

# One stderr line and exit 2.
usage() {
    name=$1; shift
    "$bin" mutants "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ "$rc" = 2 ] && [ "$(wc -l <"$tmp/err")" = 1 ]; then
        ok "$name"
    else
        bad "$name: exit $rc, $(wc -l <"$tmp/err") lines"; cat "$tmp/err"
    fi
}
usage "unknown variant" no-such-variant
usage "bad --shard" --shard 3/2 bh-fifo
usage "bad --budget" --budget 0 bh-fifo
usage "unknown tool" --tools random,nope bh-fifo
if "$bin" mutants no-such-variant 2>&1 |
   grep -q "^$src/variants/no-such-variant.patch:1: no such variant$"; then
    ok "the unknown variant's line names its patch"
else
    bad "the unknown variant's line names its patch"
fi

# A bug the scenario suite alone misses (BUG2 needs a racing schedule):
# exit 1, and the last line names it.
"$bin" mutants --budget 5 --tools suite --no-shrink -o "$tmp/miss" notify-bug2 \
    >"$tmp/out" 2>&1
rc=$?
last=$(tail -n 1 "$tmp/out")
if [ "$rc" = 1 ] && echo "$last" | grep -q "0/1 bug variants detected" &&
   echo "$last" | grep -q "missed: notify-bug2"; then
    ok "an undetected bug: exit 1, named on the last line"
else
    bad "an undetected bug: exit $rc, last line: $last"
fi

# Found at once (its scenario fails at seed 1); a design is run but not
# counted; the table, the tsv and the shrunk replay say how.
"$bin" mutants --budget 20 --tools random,suite -o "$tmp/hit" bh-fifo bh-seed \
    >"$tmp/out" 2>&1
rc=$?
last=$(tail -n 1 "$tmp/out")
if [ "$rc" = 0 ] && echo "$last" | grep -q "1/1 bug variants detected" &&
   echo "$last" | grep -q "1 designs"; then
    ok "a detected bug and a design: exit 0, the design not counted"
else
    bad "a detected bug and a design: exit $rc, last line: $last"
fi
row=$(grep "^bh-fifo	bug	random	detected	" "$tmp/hit/mutants.tsv")
if [ -n "$row" ] && [ -s "$(echo "$row" | cut -f8)" ] &&
   echo "$row" | cut -f9 | grep -q " ops/"; then
    ok "mutants.tsv: detection, its replay file and the shrunk size"
else
    bad "mutants.tsv row: '$row'"
fi
replay=$(echo "$row" | cut -f8)
"$1/qloop-bh-fifo" replay "$replay" >/dev/null 2>&1
rc=$?
[ "$rc" = 1 ] && ok "the detecting replay fails again on its variant" ||
    bad "the detecting replay exits $rc on its variant"
grep -q "^bh-seed	design	" "$tmp/hit/mutants.tsv" &&
    ok "the design has its rows" || bad "no rows for the design"

# --shard: shard 2 of 2 of (bh-fifo, timer-expire-lt) is timer-expire-lt.
"$bin" mutants --budget 10 --tools suite --no-shrink --shard 2/2 -o "$tmp/shard" \
    bh-fifo timer-expire-lt >"$tmp/out" 2>&1
if cut -f1 "$tmp/shard/mutants.tsv" | sort -u | grep -v variant | tr '\n' ' ' |
   grep -qx "timer-expire-lt "; then
    ok "--shard 2/2 runs the second variant only"
else
    bad "--shard 2/2 ran: $(cut -f1 "$tmp/shard/mutants.tsv" | sort -u | tr '\n' ' ')"
fi

# weak: a barrier only a weak memory model needs (mb-notify: aio_notify()
# without smp_mb) is missed by exploration under sc and found by the same
# exploration under c11, which the row's note names; no tool is told the
# model by the variant.
"$bin" mutants --budget 5 --tools explore,weak --no-shrink -o "$tmp/weak" \
    mb-notify >"$tmp/out" 2>&1
rc=$?
if [ "$rc" = 0 ] &&
   grep -q "^mb-notify	bug	explore	missed	" "$tmp/weak/mutants.tsv" &&
   grep "^mb-notify	bug	weak	detected	" "$tmp/weak/mutants.tsv" |
       cut -f7 | grep -q -- "--memory c11$"; then
    ok "weak: mb-notify missed under sc, found under c11"
else
    bad "weak: exit $rc"; cat "$tmp/weak/mutants.tsv"
fi

# weak's walks: aio_notify() without smp_wmb() loses a wake-up under c11
# only when the waiter reads two older stores, past the exploration's one;
# the random walks beside it find it (c11-timer-rshape.scn, seed 32), and
# the note says so.
"$bin" mutants --budget 20 --cpu-budget --tools weak --no-shrink \
    -o "$tmp/walk" wmb-notify >"$tmp/out" 2>&1
rc=$?
if [ "$rc" = 0 ] &&
   grep "^wmb-notify	bug	weak	detected	" "$tmp/walk/mutants.tsv" |
       cut -f7 | grep -q -- "--memory c11 (walks)$"; then
    ok "weak: wmb-notify found by the c11 walks"
else
    bad "weak walks: exit $rc"; cat "$tmp/walk/mutants.tsv"
fi

# --cpu-budget --first: the header says the budget is CPU time; a
# variant's first detection stops its tools (the suite, after random found
# bh-fifo, is "n/a" and its note says why); the seconds are CPU seconds of
# the children, never more than the budget plus the last child's overrun.
"$bin" mutants --budget 10 --cpu-budget --first --tools random,suite \
    --no-shrink -o "$tmp/first" bh-fifo >"$tmp/out" 2>&1
rc=$?
if [ "$rc" = 0 ] && head -n 1 "$tmp/out" | grep -q "^budget 10 CPU s per tool, each variant until its first detection;" &&
   grep -q "^bh-fifo	bug	random	detected	" "$tmp/first/mutants.tsv" &&
   grep "^bh-fifo	bug	suite	n/a	" "$tmp/first/mutants.tsv" |
       grep -q "not run (--first): detected by random"; then
    ok "--cpu-budget --first: random detects, the suite is not run"
else
    bad "--cpu-budget --first: exit $rc"; cat "$tmp/out" "$tmp/first/mutants.tsv"
fi
# A missed bug under a CPU budget: the suite (one run per scenario) is cut
# by its CPU seconds, not by a wall clock, and the seconds it reports are
# CPU seconds within the budget (the limit is checked every 50 ms).
"$bin" mutants --budget 1 --cpu-budget --tools random --no-shrink \
    -o "$tmp/cpu" notify-bug2 >"$tmp/out" 2>&1
secs=$(grep "^notify-bug2	bug	random	missed	" "$tmp/cpu/mutants.tsv" | cut -f6)
if [ -n "$secs" ] && awk -v s="$secs" 'BEGIN { exit !(s >= 0.9 && s < 1.5) }'; then
    ok "--cpu-budget 1: random spends ${secs} CPU s and stops"
else
    bad "--cpu-budget 1: random spent '${secs}' CPU s"; cat "$tmp/out"
fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
