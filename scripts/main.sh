#!/usr/bin/env bash
# scripts/main.sh — the main job: install, build, and run a short fuzzing
# campaign of the loop core in simulation (60 s on every CPU by default),
# then say where the corpus and findings are and how to replay one.
#
# Usage: scripts/main.sh [SECONDS]
# (scripts/tour.sh shows the core and the simulator at work instead.)
set -euo pipefail
cd "$(dirname "$0")/.."
exec scripts/fuzz-demo.sh "$@"
