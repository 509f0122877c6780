#!/bin/sh
# tests/shard.sh — --shard splits a sweep and qloop merge puts it back:
# run's shards cover the seeds once, the shard that holds the first
# failing seed fails at it, explore's prefix shards record their own
# seeds, and merge gives one table and one set of replay files.
# Usage: shard.sh BIN_DIR SOURCE_DIR
set -u
bin=$1/qloop
bug2=$1/qloop-notify-bug2
src=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/qloop-shard.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }
scn=$src/docs/examples/bh-order.scn
bug=$src/corpus/regressions/bug2-main-loop.scn

# Two shards of 20 seeds: 10 each, and the same last hashes as one sweep's
# seeds 19 and 20.
"$bin" run "$scn" --runs 20 --shard 1/2 >"$tmp/s1" 2>&1
"$bin" run "$scn" --runs 20 --shard 2/2 >"$tmp/s2" 2>&1
grep -q "^10 runs (shard 1/2 of seeds 1..20): all passed" "$tmp/s1" &&
grep -q "^10 runs (shard 2/2 of seeds 1..20): all passed" "$tmp/s2" &&
    ok "run: two shards of 20 seeds run 10 each" ||
    bad "run shards: $(cat "$tmp/s1" "$tmp/s2")"
h19=$("$bin" run "$scn" --seed 19 | sed -n 's/.*hash \([0-9a-f]*\).*/\1/p')
h20=$("$bin" run "$scn" --seed 20 | sed -n 's/.*hash \([0-9a-f]*\).*/\1/p')
grep -q "last hash $h19" "$tmp/s1" && grep -q "last hash $h20" "$tmp/s2" &&
    ok "run: shard 1/2 ends at seed 19, 2/2 at seed 20" ||
    bad "run: last hashes $h19 $h20 not in the shards' lines"

# The first failing seed K of one sweep (PCT: random walks rarely find
# BUG2 here) fails in shard (K-1)%3+1, at K.
"$bug2" run "$bug" --pct 3 --runs 400 -o "$tmp/all.replay" >"$tmp/all" 2>&1
k=$(sed -n 's/^seed \([0-9]*\) pct:.*/\1/p' "$tmp/all" | head -n 1)
if [ -z "$k" ]; then
    bad "BUG2 not found in 400 seeds: nothing to shard"
else
    s=$(( (k - 1) % 3 + 1 ))
    mkdir -p "$tmp/run1" "$tmp/run2" "$tmp/run3"
    for i in 1 2 3; do
        "$bug2" run "$bug" --pct 3 --runs 400 --shard $i/3 -o "$tmp/run$i/fail.replay" \
            >"$tmp/r$i" 2>&1
    done
    grep -q "^seed $k pct:" "$tmp/r$s" &&
        ok "run: the first failing seed $k fails in shard $s/3 too" ||
        bad "run: shard $s/3 did not fail at seed $k: $(grep '^seed' "$tmp/r$s")"
    "$bin" merge -o "$tmp/merged-runs" "$tmp/run1" "$tmp/run2" "$tmp/run3" \
        >"$tmp/m" 2>&1
    rc=$?
    n=$(ls "$tmp/run1" "$tmp/run2" "$tmp/run3" | grep -c '\.replay$')
    got=$(ls "$tmp/merged-runs" | grep -c '\.replay$')
    [ "$rc" = 1 ] && [ "$got" = "$n" ] && grep -q "notify-bug2" "$tmp/m" &&
        grep -q "^merge: 3 shard directories, $n distinct failing runs" "$tmp/m" &&
        ok "merge: $n failing runs from 3 run shards, exit 1" ||
        bad "merge of run shards: exit $rc, $got of $n files: $(cat "$tmp/m")"
    for f in "$tmp"/merged-runs/*.replay; do
        "$bug2" replay "$f" >/dev/null 2>&1
        [ $? = 1 ] || bad "merged $f does not fail again"
    done
fi

# explore: prefix shards use their own stream; other orders refuse.
"$bin" explore "$scn" --order prefix --max-runs 5 --shard 2/4 >"$tmp/e" 2>&1
[ $? = 0 ] && ok "explore --order prefix --shard 2/4 runs" || bad "explore shard: $(cat "$tmp/e")"
"$bin" explore "$scn" --shard 2/4 >"$tmp/e" 2>"$tmp/err"
[ $? = 2 ] && [ "$(wc -l <"$tmp/err")" = 1 ] &&
    ok "explore --shard without --order prefix: exit 2, one line" ||
    bad "explore --shard, mixed order: $(cat "$tmp/err")"
"$bug2" explore "$bug" --order prefix --shard 3/4 -o "$tmp/ex.replay" >"$tmp/e" 2>&1
if [ $? = 1 ]; then
    grep -q "seed 8589934593" "$tmp/ex.replay" &&
        ok "explore shard 3/4 records its stream's seed (1 + 2 * 2^32)" ||
        bad "explore shard's found line: $(grep found "$tmp/ex.replay")"
    "$bug2" replay "$tmp/ex.replay" >/dev/null 2>&1
    [ $? = 1 ] && ok "its replay fails again" || bad "its replay passes"
else
    bad "BUG2 not found by explore --order prefix --shard 3/4"
fi

# mutants shards merged (z1 given twice): one table, every variant and
# tool once, the same verdict.
"$bin" mutants --budget 10 --tools suite --no-shrink --shard 1/2 -o "$tmp/z1" \
    bh-fifo timer-expire-lt >/dev/null 2>&1
"$bin" mutants --budget 10 --tools suite --no-shrink --shard 2/2 -o "$tmp/z2" \
    bh-fifo timer-expire-lt >/dev/null 2>&1
"$bin" merge -o "$tmp/zoo" "$tmp/z1" "$tmp/z2" "$tmp/z1" >"$tmp/m" 2>&1
rc=$?
last=$(tail -n 1 "$tmp/m")
rows=$(grep -c "	bug	suite	detected	" "$tmp/zoo/mutants.tsv")
[ "$rc" = 0 ] && echo "$last" | grep -q "^mutants: 2/2 bug variants detected" &&
    [ "$rows" = 2 ] && ok "merge: two mutants shards give one table, 2/2 detected" ||
    bad "merge of mutants shards: exit $rc, $rows rows, last: $last"
grep -q "^suite      2/2 bugs, median [0-9.]* s to detect$" "$tmp/m" &&
    ok "merge: the per-tool line, as mutants prints it" ||
    bad "merge: no per-tool line: $(cat "$tmp/m")"
for f in $(tail -n +2 "$tmp/zoo/mutants.tsv" | cut -f8 | grep .); do
    case $f in "$tmp/zoo/"*) [ -s "$f" ] || bad "merged tsv names missing $f" ;;
    *) bad "merged tsv names $f outside the merge directory" ;; esac
done
"$bin" merge "$tmp/nope" 2>"$tmp/err"
[ $? = 2 ] && grep -q "^$tmp/nope:1: not a directory" "$tmp/err" &&
    ok "merge of a missing directory: exit 2, one line" || bad "merge usage: $(cat "$tmp/err")"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
