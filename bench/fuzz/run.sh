#!/usr/bin/env bash
# bench/fuzz/run.sh — exec/s of the loop fuzz target on one core.
#
# Usage: bench/fuzz/run.sh [SECONDS]   (default 30 per engine)
# Builds with fuzz/build.sh, then fuzzes the loop target for SECONDS on one
# core from corpus/loop with its dictionary, under:
#   libFuzzer, ASan+UBSan  (build/fuzz/libfuzzer: what `qloop fuzz` runs)
#   libFuzzer, no sanitizer (build/fuzz/fast): the core's objects checked
#     by the simulator's allocator (sim/heap.c)
#   AFL++ persistent mode, shared-memory inputs (build/fuzz/afl), one -M,
#     the same checked heap
# and prints exec/s with the mean scenario size of the inputs actually run
# (ops and threads per decoded scenario, counted by the target itself:
# QLOOP_FUZZ_STATS).  Goal: >= 20 000 exec/s at ~32 operations.
# exec/s follows the machine's load; bench/fuzz/cost.sh gives the cost
# per input in instructions and CPU time, to compare changes by.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-30}
"$src/fuzz/build.sh" libfuzzer fast afl >&2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mean() {    # mean STATSFILE -> "ops threads runs"
  awk '{r+=$1; o+=$2; t+=$3} END {if (r) printf "%.1f %.2f %d", o/r, t/r, r; else print "? ? 0"}' "$1"
}

libfuzzer() {   # libfuzzer NAME FLAVOUR
  local dir=$work/$1
  mkdir -p "$dir/corpus"
  cp "$src"/corpus/loop/* "$dir/corpus/"
  QLOOP_FUZZ_STATS=$dir/stats taskset -c 0 "$src/build/fuzz/$2/loop-fuzz" \
    -max_total_time="$secs" -dict="$src/build/fuzz/$2/loop.dict" \
    -print_final_stats=1 -artifact_prefix="$dir/" "$dir/corpus" \
    > "$dir/log" 2>&1 || { tail -20 "$dir/log" >&2; echo "$1: FAILED" >&2; }
  local eps
  eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/log")
  read -r ops threads runs <<< "$(mean "$dir/stats")"
  printf '%-28s %8s exec/s   %6s ops  %5s threads per scenario  (%s runs)\n' \
    "$1" "$eps" "$ops" "$threads" "$runs"
}

afl() {
  local dir=$work/afl
  mkdir -p "$dir"
  AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
    AFL_NO_AFFINITY=1 QLOOP_FUZZ_STATS=$dir/stats \
    taskset -c 0 afl-fuzz -i "$src/corpus/loop" -o "$dir/out" -M main \
    -V "$secs" -x "$src/build/fuzz/afl/loop.dict" -t 30000+ \
    -- "$src/build/fuzz/afl/loop-fuzz" > "$dir/log" 2>&1 ||
    { tail -20 "$dir/log" >&2; echo "afl: FAILED" >&2; }
  local st=$dir/out/main/fuzzer_stats execs rt
  execs=$(sed -n 's/^execs_done *: *//p' "$st")
  rt=$(awk -F: '/^run_time/ {print $2+0} /^start_time/ {s=$2} /^last_update/ {l=$2} END {}' "$st")
  [ -n "$rt" ] && [ "$rt" -gt 0 ] || rt=$secs
  read -r ops threads runs <<< "$(mean "$dir/stats")"
  printf '%-28s %8d exec/s   %6s ops  %5s threads per scenario  (%s runs counted)\n' \
    "AFL++ persistent, ch. heap" "$((execs / rt))" "$ops" "$threads" "$runs"
}

echo "loop target, one core (taskset -c 0), $secs s each, from corpus/loop ($(ls "$src/corpus/loop" | wc -l) seeds)"
libfuzzer "libFuzzer, ASan+UBSan" libfuzzer
libfuzzer "libFuzzer, checked heap" fast
if command -v afl-fuzz >/dev/null; then afl; else echo "AFL++: not installed (apt-get install afl++)"; fi
"$src/build/fuzz/fast/gen" stats "$src"/corpus/loop/* | sed 's/^/seed corpus: /'
