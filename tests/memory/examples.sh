#!/bin/sh
# tests/memory/examples.sh — every docs/examples scenario passes under the
# weak memory models: RUNS swarm schedules each under tso, pso and c11, every
# oracle on (the reference model, the lost-wake-up check, ASan in the
# default build).
# Usage: examples.sh QLOOP SOURCE_DIR RUNS
set -u
qloop=$1
src=$2
runs=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
for scn in "$src"/docs/examples/*.scn; do
    for mode in tso pso c11; do
        name=$(basename "$scn" .scn)
        if ! "$qloop" run "$scn" --memory "$mode" --runs "$runs" --swarm \
                -o "$tmp/$name.$mode.replay" > "$tmp/out" 2>&1; then
            echo "FAIL: $name under $mode:"
            tail -5 "$tmp/out"
            status=1
        else
            echo "ok: $name under $mode: $(tail -1 "$tmp/out")"
        fi
    done
done
exit $status
