#!/bin/sh
# tests/mutants-short.sh — the short bug-zoo table for CI: the variants in
# tests/mutants-short.txt were each detected by a simulation tool within
# a small budget; the test fails if one stops being detected (a weaker
# oracle, a scenario dropped from the corpus, a tool that broke).
# Method: `qloop mutants --first --cpu-budget` on those variants with
# random, pct, explore, weak (explore under c11/tso) and the scenario
# suite, 30 CPU seconds each, a variant's tools stopping at its first
# detection: each is found in a second or two, and a CPU budget is not
# shrunk by a loaded machine (a wall-clock one missed at 5 s under a load
# of 14; and running every tool to its budget took 495 s of the test's 600
# there).  Exit 0, and a "detected" row for every listed variant in its
# mutants.tsv.
# Usage: mutants-short.sh BIN_DIR SOURCE_DIR
set -u
bin=$1/qloop
src=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/qloop-mutants-short.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
variants=$(sed 's/#.*//' "$src/tests/mutants-short.txt" | tr -s ' \n' ' ')
# shellcheck disable=SC2086
"$bin" mutants --budget 30 --cpu-budget --first \
    --tools random,pct,explore,weak,suite --no-shrink \
    -o "$tmp" $variants
rc=$?
fail=0
for v in $variants; do
    if ! grep -q "^$v	bug	[a-z]*	detected	" "$tmp/mutants.tsv"; then
        echo "FAIL $v: no longer detected within 30 CPU s by random, pct, explore, weak or the suite"
        fail=1
    fi
done
[ "$rc" = 0 ] || { echo "FAIL qloop mutants exited $rc"; fail=1; }
exit "$fail"
