#!/bin/sh
# tests/run-examples.sh — every scenario in docs/examples runs clean under
# many schedules, with swarm-selected fault points, the oracles on.
# Usage: run-examples.sh QLOOP EXAMPLES_DIR [RUNS]
set -u
qloop=$1
dir=$2
runs=${3:-300}
pass=0
fail=0
for f in "$dir"/*.scn; do
    if out=$("$qloop" run --runs "$runs" --swarm -o /dev/null "$f" 2>&1); then
        pass=$((pass + 1))
        echo "ok   $(basename "$f"): $(echo "$out" | tail -1)"
    else
        fail=$((fail + 1))
        echo "FAIL $(basename "$f")"
        echo "$out" | tail -8 | sed 's/^/     /'
    fi
done
echo "examples: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
