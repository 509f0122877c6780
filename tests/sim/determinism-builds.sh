#!/usr/bin/env bash
# tests/sim/determinism-builds.sh — same seeds, same trace hashes, whatever
# the compiler or optimisation level.
#
# Builds the simulated loop core and tests/sim/workload.c four ways
# (gcc -O0, gcc -O2, clang -O0, clang -O2), runs the same seeds through
# each — under sc and under the tso memory model ($QLOOP_SIM_MEMORY) —
# and requires byte-identical "seed hash verdict steps" output.
# Usage: determinism-builds.sh SOURCE_DIR WORK_DIR [SEEDS]
set -euo pipefail
src=$1
work=$2
seeds=${3:-1000}
mkdir -p "$work"

# The core's and the simulator's files, as their CMakeLists.txt list them
# (fuzz/fuzz.mk reads them the same way).
cmake_list() {  # cmake_list DIR VARIABLE
  sed -n "/^set($2/,/CACHE/p" "$src/$1/CMakeLists.txt" |
    grep -o '[A-Za-z0-9_-]*\.c' | sed "s|^|$src/$1/|"
}
mapfile -t sources < <(cmake_list loop QLOOP_CORE_SOURCES; cmake_list sim QLOOP_SIM_SOURCES)
sources+=("$src"/tests/sim/workload.c)
flags=(-std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter
       -I"$src/include" -I"$src/include/qemu-compat" -I"$src/loop" -I"$src/sim"
       $(pkg-config --cflags glib-2.0))
# The glib calls the simulator wraps (sim/glib-wakeup.h).
libs=($(sed 's/^/-Wl,--wrap=/' "$src/sim/glib-wakeup.syms")
      $(pkg-config --libs glib-2.0) -lpthread)

reference=""
status=0
for cc in gcc clang; do
  if ! command -v "$cc" >/dev/null; then
    echo "determinism: $cc is not installed (scripts/deps.sh all installs it)" >&2
    exit 1
  fi
  for opt in -O0 -O2; do
    exe="$work/workload-$cc$opt"
    "$cc" "$opt" "${flags[@]}" "${sources[@]}" "${libs[@]}" -o "$exe"
    "$exe" --seeds "$seeds" > "$exe.out"
    QLOOP_SIM_MEMORY=tso "$exe" --seeds "$seeds" | sed 's/^/tso /' >> "$exe.out"
    lines=$(wc -l < "$exe.out")
    echo "determinism: $cc $opt: $lines seeds, digest $(sha256sum < "$exe.out" | cut -c1-16)"
    if [[ -z $reference ]]; then
      reference=$exe.out
    elif ! cmp -s "$reference" "$exe.out"; then
      echo "determinism: $cc $opt differs from $(basename "$reference" .out):" >&2
      diff "$reference" "$exe.out" | head -5 >&2
      status=1
    fi
  done
done
exit $status
