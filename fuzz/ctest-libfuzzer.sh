#!/usr/bin/env bash
# fuzz/ctest-libfuzzer.sh — the short libFuzzer runs of ctest (label fuzz).
#   ctest-libfuzzer.sh build DIR                 fuzz/build.sh libfuzzer --out DIR
#   ctest-libfuzzer.sh run DIR TARGET SECONDS [RUNS]
#                                                fuzz TARGET from corpus/TARGET,
#                                                RUNS inputs (default 4000 a second)
# Exit status: 0 ok, 1 a finding (its file and the replay command are
# printed), 77 skipped: no libFuzzer runtime (a loud message says why).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
"$src/fuzz/check-libfuzzer.sh" || exit 77
case ${1:-} in
  build)
    exec "$src/fuzz/build.sh" libfuzzer --out "$2" -j2 ;;
  run)
    dir=$2 target=$3 seconds=$4 runs=${5:-$(($4 * 4000))}
    bin=$dir/libfuzzer/$target-fuzz
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    mkdir "$work/corpus"
    status=0
    # A fixed seed: the same mutations on every CI run (campaigns, not CI,
    # are where new ground is broken: qloop fuzz).
    # A fixed number of runs as well: the same inputs on every CI run, so
    # CI is repeatable; the time limit only guards slow machines.
    # The same input length limit as campaigns: fuzz/<target>.options.
    max_len=
    if [ -f "$src/fuzz/$target.options" ]; then
      max_len=$(sed -n 's/^max_len *= *//p' "$src/fuzz/$target.options")
    fi
    "$bin" -seed=1 -runs="$runs" -max_total_time=$((seconds * 3)) -dict="$dir/libfuzzer/$target.dict" \
      ${max_len:+-max_len=$max_len} \
      -artifact_prefix="$dir/$target-" -print_final_stats=1 \
      "$work/corpus" "$src/corpus/$target" > "$work/log" 2>&1 || status=$?
    grep -E '^(#[0-9]+ +DONE|stat::(number_of_executed_units|average_exec_per_sec))' \
      "$work/log" || true
    if [ $status -ne 0 ]; then
      tail -40 "$work/log"
      echo "FINDING: $target-fuzz failed (status $status); the input is in $dir/$target-*"
      echo "replay: $bin $dir/$target-crash-...   (loop target: qloop replay FILE)"
      exit 1
    fi ;;
  *) echo "usage: $0 build DIR | run DIR TARGET SECONDS [RUNS]" >&2; exit 2 ;;
esac
