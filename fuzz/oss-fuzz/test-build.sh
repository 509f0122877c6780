#!/usr/bin/env bash
# fuzz/oss-fuzz/test-build.sh — run fuzz/oss-fuzz/build.sh with local values
# for OSS-Fuzz's variables, check what it must leave in $OUT, and run the
# loop target 200 iterations from its seed corpus.  (ctest: fuzz-oss-fuzz-build)
# Usage: fuzz/oss-fuzz/test-build.sh WORKDIR
# Exit status: 0 ok, 1 something missing or failing, 77 no libFuzzer runtime.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
work=${1:?usage: test-build.sh WORKDIR}
"$src/fuzz/check-libfuzzer.sh" || exit 77
rm -rf "$work/out" "$work/work" "$work/run"
mkdir -p "$work/out" "$work/work" "$work/run"
CC=clang CFLAGS="-fsanitize=fuzzer-no-link,address,undefined" \
  LIB_FUZZING_ENGINE=-fsanitize=fuzzer OUT=$work/out \
  SRC=$(dirname "$src") WORK=$work/work "$src/fuzz/oss-fuzz/build.sh"
status=0
for t in loop-fuzz scn-parse-fuzz replay-parse-fuzz; do
  for f in "$t" "$t.dict" "$t.options" "${t}_seed_corpus.zip"; do
    if [ -s "$work/out/$f" ]; then echo "ok: $f"; else echo "MISSING: $f"; status=1; fi
  done
done
(cd "$work/run" && unzip -q "$work/out/loop-fuzz_seed_corpus.zip" -d seeds &&
  "$work/out/loop-fuzz" -runs=200 -dict="$work/out/loop-fuzz.dict" seeds 2>&1 |
  tail -3) || status=1
exit $status
