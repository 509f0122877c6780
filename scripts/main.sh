#!/usr/bin/env bash
# scripts/main.sh — the main job: install, build, run the embedded default.
#
# For now the main job is a tour of the loop core on the host backend
# (examples/demo.c); it becomes a fuzzing campaign in simulation later.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh core
scripts/build.sh default
exec build/default/examples/qloop-demo "$@"
