#!/usr/bin/env bash
# fuzz/build.sh — build the fuzz targets with clang, from source.
#
# Usage: fuzz/build.sh [FLAVOUR...] [--out DIR] [-j N] [--variant NAME]
#   libfuzzer  -fsanitize=fuzzer,address,undefined          (default)
#   fast       libFuzzer without sanitizers, -O2 (throughput; bench/fuzz)
#   afl        afl-clang-fast, AFL++ persistent mode, shared-memory inputs
#   cmplog     afl-clang-fast with AFL_LLVM_CMPLOG=1 (for afl-fuzz -c)
#   aflsan     afl-clang-fast with AFL_USE_ASAN/UBSAN (a secondary's build)
#   replay     plain replay driver (clang, -O2, no sanitizer, no engine)
#   coverage   replay driver with -fprofile-instr-generate -fcoverage-mapping
#   all        every flavour above
# Each flavour goes to DIR/<flavour>/ (default DIR: build/fuzz in the source
# tree) with its targets (loop-fuzz, scn-parse-fuzz, replay-parse-fuzz) and
# their dictionaries (*.dict); libfuzzer also gets `qloop`, linked from the
# same objects, which `qloop fuzz` triages crash files with.  --variant NAME
# builds the core with variants/NAME.patch applied to the file it names, into
# DIR/<flavour>-NAME/, starting from a copy of DIR/<flavour>/'s objects
# (built first): one compile and a link per variant.  Incremental (make -f
# fuzz/fuzz.mk).
# Exit status: 0 built, 2 a tool is missing (with the install hint), else
# the compiler's.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
out=$src/build/fuzz
jobs=$(nproc 2>/dev/null || echo 2)
flavours=()
variant=
while [ $# -gt 0 ]; do
  case $1 in
    --out) out=$2; shift 2 ;;
    --variant) variant=$2; shift 2 ;;
    -j) jobs=$2; shift 2 ;;
    -j*) jobs=${1#-j}; shift ;;
    all) flavours+=(libfuzzer fast afl cmplog aflsan replay coverage); shift ;;
    libfuzzer|fast|afl|cmplog|aflsan|replay|coverage) flavours+=("$1"); shift ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "fuzz/build.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ ${#flavours[@]} -gt 0 ] || flavours=(libfuzzer)
mkdir -p "$out"
out=$(cd "$out" && pwd)

need() {    # need TOOL PACKAGE
  if ! command -v "$1" >/dev/null 2>&1; then
    echo "fuzz/build.sh: '$1' not found; install it with:" >&2
    echo "    sudo apt-get install -y $2" >&2
    exit 2
  fi
}
need make make
need pkg-config pkg-config
pkg-config --exists glib-2.0 || {
  echo "fuzz/build.sh: glib-2.0 not found: sudo apt-get install -y libglib2.0-dev" >&2
  exit 2
}

# libFuzzer's runtime ships apart from clang on Debian (libclang-rt-14-dev).
check_libfuzzer() {
  need clang "clang libclang-rt-14-dev"
  local probe
  probe=$(mktemp -d)
  echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n){return 0;}' \
    > "$probe/p.c"
  if ! clang -fsanitize=fuzzer,address,undefined "$probe/p.c" -o "$probe/p" \
       >/dev/null 2>&1; then
    rm -rf "$probe"
    echo "fuzz/build.sh: clang cannot link libFuzzer (-fsanitize=fuzzer); install:" >&2
    echo "    sudo apt-get install -y clang libclang-rt-14-dev" >&2
    exit 2
  fi
  rm -rf "$probe"
}

if [ -n "$variant" ] && ! sh "$src/variants/apply.sh" --core "$variant" >/dev/null; then
  exit 2    # apply.sh said why, in one line
fi

build() {   # build FLAVOUR MAKE-VARIABLES...
  local flavour=$1; shift
  local dir=$out/$flavour${variant:+-$variant}
  if [ -n "$variant" ]; then
    # A variant differs from its flavour in one core file and cli.o: build
    # the flavour first (once), and start the variant from a copy of its
    # objects — the whole zoo is then a compile and a link per variant,
    # not ~60 compiles.  The dependency files name the flavour's objects:
    # renamed, so a header changed later still rebuilds the variant's.
    local base=$out/$flavour
    variant= build "$flavour" "$@"
    if [ ! -e "$dir/.flags" ] && [ -e "$base/.flags" ]; then
      mkdir -p "$dir"
      cp -a "$base/." "$dir/"
      # Never the flavour's own programs: a build stopped half-way must
      # not leave the production core's loop-fuzz under the variant's name.
      rm -f "$dir/obj/harness/cli.o" "$dir/libqloop-fuzz.a" "$dir/qloop" \
        "$dir/scn-replay" "$dir/loop-fuzz" "$dir/scn-parse-fuzz" \
        "$dir/replay-parse-fuzz"
      find "$dir" -name '*.d' -exec sed -i "s|$base/|$dir/|g" {} +
      sed -i "s|$base/|$dir/|g" "$dir/.vmm-objs"    # the VMM's: the same
    fi
  fi
  echo "fuzz/build.sh: $flavour -> $dir" >&2
  # From the source root: the compiler records file names relative to it
  # ("sim/sched.c"), which AFL++'s list below matches.
  make --no-print-directory -s -C "$src" -f "$src/fuzz/fuzz.mk" -j"$jobs" \
    OUT="$dir" HOSTCC="${HOSTCC:-clang}" VARIANT="$variant" "$@"
}

# The simulator and the oracles are not what we want feedback from.
ignore=$src/fuzz/coverage-ignore.txt
# AFL++ matches a function's source file as the compiler recorded it —
# relative to the directory make runs in, the source root ("sim/sched.c")
# — against "*" + each pattern, so clang's "src:*/sim/*" never matched and
# AFL++ instrumented the whole simulator and the model (their counters
# were a third of an input's time).  Its list is the same patterns
# without the leading "*/".
afl_ignore=$out/afl-coverage-ignore.txt
# Written aside and renamed: two builds (qloop mutants' shards) may run at once.
afl_ignore_tmp=$(mktemp "$out/.afl-coverage-ignore.XXXXXX")
sed 's|^src:\*/|src:|' "$ignore" > "$afl_ignore_tmp"
mv -f "$afl_ignore_tmp" "$afl_ignore"
# Objects are rebuilt when their flags change (fuzz.mk's .flags), and the
# list's content is part of their flags.
ignore_sum=-DQLOOP_COVERAGE_IGNORE=$(cksum < "$ignore" | cut -d' ' -f1)

for flavour in "${flavours[@]}"; do
  case $flavour in
    libfuzzer)
      check_libfuzzer
      # The test bench (sim/, the oracles: fuzz.mk's BENCH_CFLAGS) is not
      # instrumented: ASan's allocator, quarantine and leak checker still
      # watch every malloc of the process, and every load and store of the
      # core, the decoder and the runner is checked.  A bench checked at
      # every trace event and scheduling point cost a third of an
      # iteration; the bench's own UB and memory checks are the default
      # build's (QLOOP_SIM_MEMCHECK) and the asan preset's.  QLOOP_ASAN_RUNTIME: sim/sched.c still
      # tells ASan of each stack switch.  QLOOP_FUZZ_ASAN: ASan's options
      # for millions of short runs (harness/crash.c).  CORE_CFLAGS: the core
      # and the runner keep their edge counters but not comparison tracing
      # (a fifth of an iteration): their operands are times, flags and
      # pointers, never bytes of the input, so libFuzzer's table of
      # compared values learns nothing from them (docs/fuzzing.md, "Value
      # profile"); the decoder and the parsers keep it.
      build libfuzzer CC=clang \
        CFLAGS="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fsanitize-coverage-ignorelist=$ignore $ignore_sum -DQLOOP_FUZZ_ASAN" \
        BENCH_CFLAGS="-g -O2 -fno-omit-frame-pointer -DQLOOP_ASAN_RUNTIME" \
        CORE_CFLAGS="-fno-sanitize-coverage=trace-cmp" \
        ENGINE="-fsanitize=fuzzer,address,undefined" DRIVER=0 QLOOP_CLI=1 ;;
    fast)
      check_libfuzzer
      build fast CC=clang \
        CFLAGS="-gdwarf-4 -O2 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link -fsanitize-coverage-ignorelist=$ignore $ignore_sum" \
        CORE_CFLAGS="-fno-sanitize-coverage=trace-cmp" \
        ENGINE="-fsanitize=fuzzer" DRIVER=0 ;;
    afl|cmplog)
      need afl-clang-fast "afl++"
      need clang "clang"
      if [ "$flavour" = cmplog ]; then export AFL_LLVM_CMPLOG=1; fi
      AFL_QUIET=1 AFL_LLVM_DENYLIST=$afl_ignore build "$flavour" CC=afl-clang-fast CFLAGS="-g -O2 $ignore_sum" ENGINE= \
        DRIVER=1
      unset AFL_LLVM_CMPLOG ;;
    aflsan)
      # AFL++'s guide: one secondary on a sanitizer build.  -O1 as for the
      # libFuzzer build: ASan's reports stay readable.
      need afl-clang-fast "afl++"
      AFL_QUIET=1 AFL_USE_ASAN=1 AFL_USE_UBSAN=1 AFL_LLVM_DENYLIST=$afl_ignore \
        build aflsan CC=afl-clang-fast \
        CFLAGS="-g -O1 -fno-omit-frame-pointer -fno-sanitize-recover=undefined $ignore_sum -DQLOOP_FUZZ_ASAN" \
        ENGINE= DRIVER=1 ;;
    replay)
      need clang "clang"
      # DWARF 4: valgrind 3.19 cannot read clang 14's default DWARF 5,
      # and bench/fuzz/cost.sh runs this flavour under callgrind.
      build replay CC=clang CFLAGS="-gdwarf-4 -O2" ENGINE= DRIVER=1 ;;
    coverage)
      need clang "clang"
      build coverage CC=clang \
        CFLAGS="-g -O0 -fprofile-instr-generate -fcoverage-mapping" \
        ENGINE="-fprofile-instr-generate" DRIVER=1 EXTRA=scn-replay ;;
  esac
done
