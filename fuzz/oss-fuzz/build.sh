#!/bin/bash -eu
# fuzz/oss-fuzz/build.sh — build every qloop fuzz target the way OSS-Fuzz and
# ClusterFuzzLite call a project's build script.
#
# Method: OSS-Fuzz's `compile` runs this file as `bash -eux $SRC/build.sh`,
# with the working directory set by the Dockerfile's WORKDIR ($SRC/qloop),
# and with $CC $CXX $CFLAGS $LIB_FUZZING_ENGINE $SANITIZER $FUZZING_ENGINE
# $OUT $SRC $WORK set for one configuration (address, undefined or coverage
# with libFuzzer; address with AFL++).  This script only forwards those values
# to fuzz/fuzz.mk; it adds no sanitizer or engine flag of its own, so every
# configuration OSS-Fuzz adds later builds the same way.
#
# The same file is used in three places:
#   - google/oss-fuzz projects/qloop/build.sh (copied to $SRC/build.sh),
#   - ClusterFuzzLite (.clusterfuzzlite/Dockerfile copies it to $SRC/build.sh),
#   - in place, fuzz/oss-fuzz/build.sh, with the variables set by hand.
#
# Writes to $OUT, for every target fuzz/fuzz.mk builds (loop, scn-parse,
# replay-parse, devices, vmm): the binary <name>-fuzz, <name>-fuzz.dict,
# <name>-fuzz.options and <name>-fuzz_seed_corpus.zip (corpus/<name>/).
# glib is linked statically: the runner image has no glib.  vmm-fuzz is the
# exception: json-glib has no static archive, so it and glib are shared
# libraries shipped in $OUT/lib (ship_shared_libs below).
#
# ctest runs it exactly as OSS-Fuzz does, one build per configuration:
# tests/oss-fuzz.sh (test oss-fuzz-build, docs/fuzzing.md).

# The source tree.  Copied to $SRC/build.sh the script's own location says
# nothing (its parent is $SRC, its grandparent whatever lies above $SRC), so
# it is only trusted when the script still sits at fuzz/oss-fuzz/ in a tree.
here=$(cd "$(dirname "$0")" && pwd)
if [ "${here##*/}" = oss-fuzz ] && [ -f "$here/../fuzz.mk" ]; then
  src=$(cd "$here/../.." && pwd)
elif [ -f "$PWD/fuzz/fuzz.mk" ]; then
  src=$PWD                          # OSS-Fuzz: WORKDIR $SRC/qloop
elif [ -f "$SRC/qloop/fuzz/fuzz.mk" ]; then
  src=$SRC/qloop
else
  echo "build.sh: no qloop tree (fuzz/fuzz.mk) in $here/../.., $PWD or $SRC/qloop" >&2
  exit 1
fi
: "${SRC:?}" "${OUT:?}" "${WORK:?}" "${CC:?}" "${CFLAGS:?}"
: "${LIB_FUZZING_ENGINE:?}"

# The simulator and the oracles are compiled with the sanitizers but without
# coverage feedback: their edges tell the fuzzer nothing the core's do not
# (docs/fuzzing.md).  libFuzzer's instrumentation takes clang's ignore list;
# AFL++'s compiler wrapper takes the same file as its deny list.
ignore=$src/fuzz/coverage-ignore.txt
cflags=$CFLAGS
case $CFLAGS in
  *fuzzer-no-link*) cflags="$cflags -fsanitize-coverage-ignorelist=$ignore" ;;
esac
if [ "${FUZZING_ENGINE:-}" = afl ]; then
  export AFL_LLVM_DENYLIST=$ignore
fi

# Warnings are not errors here: OSS-Fuzz's clang is newer than the one qloop
# is developed with, and a new warning must not stop the daily build.  The
# ctest that runs this script fails on any warning from qloop's own code.
make -f "$src/fuzz/fuzz.mk" -j"$(nproc)" OUT="$WORK/qloop-fuzz" \
  CC="$CC" LINK="${CXX:-$CC}" CFLAGS="$cflags" ENGINE="$LIB_FUZZING_ENGINE" \
  DRIVER=0 GLIB_STATIC=1 HOSTCC="${HOSTCC:-clang}" \
  WARN="-Wall -Wextra -Wno-unused-parameter"

# vmm-fuzz needs json-glib, which Ubuntu ships only as a shared library, so
# fuzz.mk links it (and glib with it) shared, with RUNPATH $ORIGIN/lib: the
# runner image has neither, so they go to $OUT/lib, as OSS-Fuzz asks of
# shared libraries.  glibc's own libraries stay behind: the runner has them.
ship_shared_libs() {   # ship_shared_libs BINARY
  local lib path
  readelf -d "$1" | grep -q 'R.*PATH.*\$ORIGIN/lib' || return 0
  mkdir -p "$OUT/lib"
  ldd "$1" | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}' |
  while read -r lib path; do
    case $lib in
      libc.so.*|libm.so.*|libpthread.so.*|libdl.so.*|librt.so.*|ld-linux*|\
      libgcc_s.so.*|libstdc++.so.*|libresolv.so.*) ;;
      *) cp -L "$path" "$OUT/lib/$lib" ;;
    esac
  done
}

# Ship what fuzz.mk built, not a list kept here: a new target ships with the
# others without an edit to this file.
shipped=0
for bin in "$WORK"/qloop-fuzz/*-fuzz; do
  name=${bin##*/}
  target=${name%-fuzz}
  [ -f "$bin" ] && [ -x "$bin" ] || continue
  [ -d "$src/corpus/$target" ] || {
    echo "build.sh: $name has no seed corpus: corpus/$target/ is missing" >&2
    exit 1
  }
  cp "$bin" "$OUT/$name"
  ship_shared_libs "$bin"
  cp "$WORK/qloop-fuzz/$target.dict" "$OUT/$name.dict"
  # max_len: the seeds are at most ~1.1 KB; 4 KB leaves room to grow a
  # scenario and its choice tape without the time going into huge inputs.
  printf '[libfuzzer]\ndict = %s.dict\nmax_len = 4096\ntimeout = 30\n' \
    "$name" > "$OUT/$name.options"
  rm -f "$OUT/${name}_seed_corpus.zip"
  (cd "$src/corpus/$target" && zip -q -j "$OUT/${name}_seed_corpus.zip" ./*)
  shipped=$((shipped + 1))
done
[ "$shipped" -gt 0 ] || { echo "build.sh: no *-fuzz binary in $WORK/qloop-fuzz" >&2; exit 1; }
