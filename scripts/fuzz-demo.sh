#!/usr/bin/env bash
# scripts/fuzz-demo.sh — one command: install, build, fuzz the loop core for
# a minute on every CPU, and say where the results are.
#
# Usage: scripts/fuzz-demo.sh [SECONDS]   (default 60; run as root the first
#        time, to apt-get install what is missing — idempotent)
# Steps: scripts/deps.sh (compiler, cmake, glib, clang + libFuzzer runtime,
# llvm) and afl++ if missing; CMake build (build/default); then
# `qloop fuzz --time SECONDS` — libFuzzer, the loop target, one job per CPU,
# output in fuzz-out/ (corpus, engine files, findings shrunk to replay files).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
scripts/deps.sh all
if ! installed afl++; then
  if [[ $(id -u) != 0 ]]; then
    echo "fuzz-demo: afl++ is not installed (optional: sudo apt-get install -y afl++)" >&2
  else
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq afl++ >/dev/null
  fi
fi

cmake -S . -B build/default -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/default -j"$(nproc)" --target qloop-cli >/dev/null
qloop=build/default/harness/qloop

status=0
"$qloop" fuzz --time "$secs" -o fuzz-out || status=$?
echo
echo "corpus:   $PWD/fuzz-out/corpus ($(ls fuzz-out/corpus | wc -l) inputs)"
echo "findings: $PWD/fuzz-out/findings"
first=$(ls fuzz-out/findings/*.replay 2>/dev/null | head -1 || true)
if [ -n "$first" ]; then
  echo "replay a finding:  $qloop replay $first"
else
  echo "no finding.  Replay any input anyway:  $qloop replay fuzz-out/corpus/$(ls fuzz-out/corpus | head -1)"
fi
echo "coverage of the core from this corpus:  $qloop coverage"
echo "more: docs/fuzzing.md"
exit $status
