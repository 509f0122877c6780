#!/bin/bash -eu
# fuzz/oss-fuzz/build.sh — build every qloop fuzz target the OSS-Fuzz way.
#
# Reads the variables OSS-Fuzz and ClusterFuzzLite set: $CC $CXX $CFLAGS
# $LIB_FUZZING_ENGINE $OUT $SRC $WORK.  Writes to $OUT, per target
# (loop-fuzz, scn-parse-fuzz, replay-parse-fuzz): the binary, <target>.dict,
# <target>.options and <target>_seed_corpus.zip (corpus/<target>/).
# glib is linked statically: the runner image does not have it.
#
# Locally (as ctest's fuzz-oss-fuzz-build does):
#   CC=clang CFLAGS="-fsanitize=fuzzer-no-link,address,undefined" \
#   LIB_FUZZING_ENGINE=-fsanitize=fuzzer OUT=/tmp/out SRC=/work WORK=/tmp/w \
#   fuzz/oss-fuzz/build.sh
src=$(cd "$(dirname "$0")/../.." && pwd)    # $SRC/qloop on OSS-Fuzz
: "${SRC:?}" "${WORK:?}"
cflags="$CFLAGS"
case "$CFLAGS" in
  *fuzzer-no-link*)
    cflags="$cflags -fsanitize-coverage-ignorelist=$src/fuzz/coverage-ignore.txt" ;;
esac
# Compiler warnings are not errors here: OSS-Fuzz's clang is newer than ours.
make -f "$src/fuzz/fuzz.mk" -j"$(nproc)" OUT="$WORK/qloop-fuzz" \
  CC="$CC" LINK="${CXX:-$CC}" CFLAGS="$cflags" ENGINE="$LIB_FUZZING_ENGINE" \
  DRIVER=0 GLIB_STATIC=1 HOSTCC="${HOSTCC:-clang}" \
  WARN="-Wall -Wno-unused-parameter"

for target in loop scn-parse replay-parse; do
  name=$target-fuzz
  cp "$WORK/qloop-fuzz/$name" "$OUT/$name"
  cp "$WORK/qloop-fuzz/$target.dict" "$OUT/$name.dict"
  printf '[libfuzzer]\ndict = %s.dict\nmax_len = 4096\ntimeout = 30\n' \
    "$name" > "$OUT/$name.options"
  rm -f "$OUT/${name}_seed_corpus.zip"
  (cd "$src/corpus/$target" && zip -q -j "$OUT/${name}_seed_corpus.zip" ./*)
done
