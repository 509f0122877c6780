#!/usr/bin/env bash
# scripts/build.sh — configure and build one CMake preset.
# Usage: scripts/build.sh [preset]   (default, asan, tsan, coverage, release)
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-default}
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j"$(nproc)"
