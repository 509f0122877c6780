#!/usr/bin/env bash
# scripts/test.sh — install, build and run every test.
#
# Three configurations: the default build (every label), ASan+UBSan
# (every label), and TSan (the threaded host tests, label "threads").
# Usage: scripts/test.sh [default|asan|tsan]...   (all three by default)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh all

presets=("$@")
((${#presets[@]})) || presets=(default asan tsan)
status=0
for preset in "${presets[@]}"; do
  echo "=== test: $preset ==="
  scripts/build.sh "$preset"
  # TSan: ASLR with high-entropy mmap makes clang-14's TSan runtime fail
  # ("unexpected memory mapping"); run it without randomization.
  runner=()
  [[ $preset == tsan ]] && runner=(setarch "$(uname -m)" -R)
  if ! "${runner[@]}" ctest --preset "$preset" -j"$(nproc)"; then
    status=1
  fi
done
exit $status
