#!/usr/bin/env bash
# fuzz/make-corpus.sh — (re)generate the seed corpora under corpus/<target>/.
#
# Usage: fuzz/make-corpus.sh [QLOOP_BUILD_DIR]   (default build/default: the
#        CMake build holding harness/qloop and harness/qloop-notify-bug2)
# Deterministic: the same tree writes the same files.
#   corpus/loop/          150 inputs from `gen corpus loop` (fuzz/gen.c: a
#                         fixed PRNG, kept greedily for new decoded features,
#                         in rounds: each feature has several seeds);
#                         files named regress-* are kept: inputs that once
#                         found a bug in the harness itself
#   corpus/scn-parse/     docs/examples/*.scn
#   corpus/replay-parse/  replay files written by `qloop run ... -o` and
#                         `qloop shrink` (on the BUG2 variant, which fails),
#                         plus corpus/regressions/*.replay
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$src/build/default}/harness
cd "$src"

fuzz/build.sh replay >&2
find corpus/loop -name 'seed-*' -delete 2>/dev/null || true
build/fuzz/replay/gen corpus loop corpus/loop 150
build/fuzz/replay/gen stats corpus/loop/*

rm -rf corpus/scn-parse && mkdir -p corpus/scn-parse
cp docs/examples/*.scn corpus/scn-parse/

rm -rf corpus/replay-parse && mkdir -p corpus/replay-parse
cp corpus/regressions/*.replay corpus/replay-parse/
"$bin/qloop-notify-bug2" run corpus/regressions/bug2-main-loop.scn -n 5000 \
  --pct 2 -o corpus/replay-parse/bug2-main-loop-pct.replay >/dev/null || true
"$bin/qloop-notify-bug2" shrink corpus/replay-parse/bug2-main-loop-pct.replay \
  -o corpus/replay-parse/bug2-main-loop-min.replay >/dev/null
ls corpus/replay-parse | sed 's/^/corpus\/replay-parse\//'
