#!/usr/bin/env bash
# scripts/test.sh — install, build and run every test.
#
# Three configurations: the default build (every label), ASan+UBSan
# (every label), and TSan (the threaded host tests, label "threads").
# Usage: scripts/test.sh [default|asan|tsan]...   (all three by default)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh all
# Debian's kernel and a busybox initramfs (Debian packages only): the
# boot-parameter block is then checked against the real bzImage.  Without
# them test-linux-boot skips, loudly.
scripts/kvm-fetch-linux.sh >/dev/null 2>&1 ||
  echo "test: could not fetch Debian's kernel; test-linux-boot will skip" >&2

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
