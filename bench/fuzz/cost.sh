#!/usr/bin/env bash
# bench/fuzz/cost.sh — what one loop-target input costs, in figures a busy
# machine does not move.
#
# Usage: bench/fuzz/cost.sh [N]   (default 300: the first N of corpus/loop)
# Builds the replay, fast and libfuzzer flavours (fuzz/build.sh), then
#   - instructions per input: callgrind over the replay driver running the
#     first N seeds, total Ir / N (process start-up included, ~0.1 %).
#     Deterministic: compare changes by this, not by exec/s;
#   - CPU seconds per 1 000 inputs, no sanitizer and ASan+UBSan: each
#     libFuzzer binary runs every seed of corpus/loop twice as individual
#     inputs (no mutation, so both do the same work, with the engine's
#     coverage collection and malloc hooks), user + sys, best of 3.  Less
#     noisy than exec/s, but CPUs shared with other work still inflate it:
#     the load average is printed with it.
# Exec/s while fuzzing: bench/fuzz/run.sh.  Needs valgrind for the first
# figure (skipped without it).
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
n=${1:-300}
"$src/fuzz/build.sh" replay fast libfuzzer >&2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$src"
ls corpus/loop/* > "$work/all"
head -n "$n" "$work/all" > "$work/first"
n=$(wc -l < "$work/first")

echo "loop target, cost per input (corpus/loop: $(wc -l < "$work/all") seeds; load average $(cut -d' ' -f1-3 /proc/loadavg))"
if command -v valgrind >/dev/null; then
  # shellcheck disable=SC2046
  valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" \
    build/fuzz/replay/loop-fuzz $(cat "$work/first") > "$work/cg.log" 2>&1 ||
    { tail -5 "$work/cg.log" >&2; echo "callgrind: FAILED" >&2; exit 1; }
  ir=$(sed -n 's/.*Collected : *//p' "$work/cg.log")
  printf '%-34s %10d instructions per input  (callgrind, %d seeds)\n' \
    "replay driver, checked heap" "$((ir / n))" "$n"
else
  echo "valgrind not installed (apt-get install valgrind): no instruction count"
fi

cpu() {     # cpu NAME FLAVOUR: CPU ms per 1 000 inputs, best of 3
  local best= t runs
  runs=$((2 * $(wc -l < "$work/all")))
  for _ in 1 2 3; do
    # shellcheck disable=SC2046
    /usr/bin/time -o "$work/time" -f '%U %S' "build/fuzz/$2/loop-fuzz" \
      $(cat "$work/all" "$work/all") > "$work/log" 2>&1 ||
      { tail -5 "$work/log" >&2; echo "$1: FAILED" >&2; return 1; }
    t=$(awk -v r="$runs" '{printf "%.0f", ($1 + $2) * 1e6 / r}' "$work/time")
    if [ -z "$best" ] || [ "$t" -lt "$best" ]; then best=$t; fi
  done
  printf '%-34s %10s us CPU per input  (%d inputs, best of 3; %s/s)\n' \
    "$1" "$best" "$runs" "$((1000000 / best))"
}
cpu "libFuzzer, checked heap" fast
cpu "libFuzzer, ASan+UBSan" libfuzzer
