#!/usr/bin/env bash
# scripts/tour.sh — a tour: install, build, show the loop core and the
# simulator at work (not the main job; that is scripts/main.sh).
#
# What it does: a tour of the loop core on the host backend
# (examples/demo.c), then a short campaign on the simulated core: every
# example scenario under many schedules with swarm faults and the oracles
# on, and the BUG2 hunt on the broken variant.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh core
scripts/build.sh default
build/default/examples/qloop-demo
echo
echo "== simulated campaign: every example scenario under 2000 swarm schedules"
for f in docs/examples/*.scn; do
  printf '%-32s ' "$(basename "$f")"
  build/default/harness/qloop run "$f" --runs 2000 --swarm -o "build/$(basename "$f").fail.replay" 2>/dev/null | tail -1
done
echo
echo "== the BUG2 lost wake-up, found by bounded search of a broken variant"
build/default/harness/qloop-notify-bug2 explore corpus/regressions/bug2-main-loop.scn \
  -k 2 -o build/bug2.replay 2>/dev/null | tail -3

