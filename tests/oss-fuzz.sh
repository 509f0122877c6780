#!/usr/bin/env bash
# tests/oss-fuzz.sh — build the fuzz targets exactly as OSS-Fuzz and
# ClusterFuzzLite do, then run every target on its seed corpus.
# (ctest: oss-fuzz-build, label fuzz-regress; docs/fuzzing.md)
#
# Method: a fresh $SRC holds a copy of the repository at $SRC/qloop (what
# the Dockerfiles' clone or COPY leave) and fuzz/oss-fuzz/build.sh copied to
# $SRC/build.sh (what their `COPY ... $SRC/` does).  For each configuration
# the environment is emptied and set as OSS-Fuzz's base images and `compile`
# set it (CFLAGS = base-clang's flags + SANITIZER_FLAGS_<sanitizer> +
# COVERAGE_FLAGS, CXXFLAGS = CFLAGS + -stdlib=libc++, LIB_FUZZING_ENGINE,
# SANITIZER, FUZZING_ENGINE, ARCHITECTURE, FUZZING_LANGUAGE), then
# `cd $SRC/qloop && bash -eux $SRC/build.sh`, into a fresh $OUT and $WORK.
# The flag values were read from google/oss-fuzz infra/base-images
# (base-clang and base-builder Dockerfiles, compile, compile_libfuzzer,
# compile_afl, base-runner's *_OPTIONS and bad_build_check) in 2026-08;
# when OSS-Fuzz changes them, change them here.
#
# What it checks, before any build (cheap, always):
#   - both project.yaml say base_os_version: ubuntu-24-04 and both
#     Dockerfiles build FROM the ...:ubuntu-24-04 image (OSS-Fuzz's
#     check_base_os rule; ClusterFuzzLite runs on the legacy 20.04 image,
#     glibc 2.31, unless its project.yaml says otherwise);
#   - both Dockerfiles put fuzz/oss-fuzz/build.sh at $SRC/build.sh, with
#     WORKDIR $SRC/qloop;
#   - the only placeholders left are the repository address and the contact;
#   - project.yaml lists exactly the sanitizers and engines built here;
#   - the ClusterFuzzLite workflows: a checkout before every build step
#     (the action reads base_os_version from the checked-out tree), the
#     modes code-change, batch, prune, coverage and a continuous build.
# Per configuration:
#   - the build succeeds, prints no warning about qloop's code, and leaves
#     $SRC/qloop as it found it;
#   - every target fuzz/fuzz.mk lists is in $OUT with its .dict, .options
#     and _seed_corpus.zip;
#   - every target runs its whole seed corpus (libFuzzer: -runs=0 with the
#     .options values, as bad_build_check's seed-corpus check; AFL++: the
#     driver on each file) and exits 0; libFuzzer builds also start and run
#     4 inputs from nothing, and report >= 100 instrumented edges; AFL++
#     builds report >= 100 edges and afl-fuzz runs each for 3 s;
#   - address: ASan calls in the binary; undefined: UBSan calls and no ASan;
#     coverage: the corpus run writes a profile that covers loop/*.c;
#   - the glibc the binaries (and the shared libraries shipped in $OUT/lib)
#     need is no newer than the runner image's; every shared library beyond
#     glibc's resolves to $OUT/lib (vmm-fuzz: json-glib, glib).
#
# Usage: tests/oss-fuzz.sh WORKDIR [CONFIG...]
#   CONFIG: address undefined coverage afl (default: all four; afl is
#   skipped, with a line saying so, without AFL++).  On two cores the whole
#   test takes ~45 s on an idle machine, ~140 s under load (docs/fuzzing.md).
# Exit status: 0 ok, 1 a check failed (the line says which, and how to
# reproduce), 2 usage, 77 skipped: no clang libFuzzer runtime, zip or unzip.
set -uo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
work=${1:?usage: tests/oss-fuzz.sh WORKDIR [address|undefined|coverage|afl...]}
shift
mkdir -p "$work" && work=$(cd "$work" && pwd)   # the build runs elsewhere
configs=("$@")
[ ${#configs[@]} -gt 0 ] || configs=(address undefined coverage afl)
for c in "${configs[@]}"; do
  case $c in address|undefined|coverage|afl) ;;
    *) echo "tests/oss-fuzz.sh: unknown configuration '$c'" >&2; exit 2 ;;
  esac
done

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

# --- What OSS-Fuzz sets (base-clang, base-builder, base-runner) ----------
base_cflags="-O1 -fno-omit-frame-pointer -gline-tables-only \
-Wno-error=incompatible-function-pointer-types -Wno-error=int-conversion \
-Wno-error=deprecated-declarations -Wno-error=implicit-function-declaration \
-Wno-error=implicit-int -Wno-error=unknown-warning-option \
-Wno-error=vla-cxx-extension -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION"
ubsan_checks=array-bounds,bool,builtin,enum,function,integer-divide-by-zero,null,object-size,return,returns-nonnull-attribute,shift,signed-integer-overflow,unreachable,vla-bound,vptr
sanitizer_flags_address="-fsanitize=address -fsanitize-address-use-after-scope"
# The checks that abort, plus unsigned-integer-overflow: OSS-Fuzz uses it as
# a coverage signal only (it recovers, and the runner's UBSAN_OPTIONS
# silence it).
sanitizer_flags_undefined="-fsanitize=$ubsan_checks,unsigned-integer-overflow -fno-sanitize-recover=$ubsan_checks"
coverage_flags_coverage="-fprofile-instr-generate -fcoverage-mapping -pthread \
-Wl,--no-as-needed -Wl,-ldl -Wl,-lm -Wno-unused-command-line-argument"
runner_asan="alloc_dealloc_mismatch=0:allocator_may_return_null=1:allocator_release_to_os_interval_ms=500:check_malloc_usable_size=0:detect_container_overflow=1:detect_odr_violation=0:detect_leaks=1:detect_stack_use_after_return=1:fast_unwind_on_fatal=0:handle_abort=1:handle_segv=1:handle_sigill=1:max_uar_stack_size_log=16:print_scariness=1:quarantine_size_mb=10:strict_memcmp=1:symbolize=1:use_sigaltstack=1:dedup_token_length=3"
runner_ubsan="print_stacktrace=1:print_summary=1:silence_unsigned_overflow=1:symbolize=1:dedup_token_length=3"
fuzzer_args="-rss_limit_mb=2560 -timeout=25"
# glibc of the runner images, by base_os_version.
declare -A runner_glibc=([legacy]=2.31 [ubuntu-20-04]=2.31 [ubuntu-24-04]=2.39)

yaml_value() {   # yaml_value FILE KEY: a top-level scalar, unquoted
  sed -n "s/^$2:[[:space:]]*//p" "$1" | sed 's/[[:space:]]*#.*//; s/^"//; s/"$//' | head -1
}
yaml_list() {    # yaml_list FILE KEY: the items of a top-level list, sorted
  awk -v key="$2:" '$1 == key {on = 1; next} on && /^[[:space:]]*-/ {print $2; next}
                    on && /^[^[:space:]#]/ {on = 0}' "$1" | sort | tr '\n' ' '
}

# --- Static checks ---------------------------------------------------------
static_checks() {
  local oss=$src/fuzz/oss-fuzz cfl=$src/.clusterfuzzlite f os tag
  for f in "$oss/project.yaml" "$cfl/project.yaml"; do
    os=$(yaml_value "$f" base_os_version)
    [ "$os" = ubuntu-24-04 ] && ok "${f#"$src"/}: base_os_version $os" ||
      fail "${f#"$src"/}: base_os_version is '${os:-legacy}', not ubuntu-24-04 (the binaries need glibc >= 2.34; 20.04 has 2.31)"
  done
  for f in "$oss/Dockerfile" "$cfl/Dockerfile"; do
    tag=$(sed -n 's/^FROM[[:space:]]\{1,\}[^:]*:\([^[:space:]]*\).*/\1/p' "$f" | head -1)
    [ "$tag" = ubuntu-24-04 ] && ok "${f#"$src"/}: FROM ...:$tag" ||
      fail "${f#"$src"/}: FROM tag '$tag' does not match base_os_version ubuntu-24-04"
    grep -q '^WORKDIR \$SRC/qloop$' "$f" ||
      fail "${f#"$src"/}: no 'WORKDIR \$SRC/qloop' (build.sh runs from there)"
  done
  grep -q '^COPY build.sh \$SRC/$' "$oss/Dockerfile" ||
    fail "fuzz/oss-fuzz/Dockerfile: no 'COPY build.sh \$SRC/'"
  grep -q '^COPY fuzz/oss-fuzz/build.sh \$SRC/build.sh$' "$cfl/Dockerfile" ||
    fail ".clusterfuzzlite/Dockerfile: no 'COPY fuzz/oss-fuzz/build.sh \$SRC/build.sh'"

  # The repository address and the contact are the two things to fill in;
  # a placeholder anywhere else is an unfinished file.
  local stray
  stray=$(grep -n 'example\.invalid' "$oss"/* "$cfl"/* |
    grep -v -E ':(main_repo|homepage|primary_contact):|:RUN git clone ' || true)
  [ -z "$stray" ] && ok "placeholders only in main_repo, homepage, primary_contact, git clone" ||
    fail "placeholders outside the address and contact fields:"$'\n'"$stray"
  for f in language homepage primary_contact main_repo base_os_version; do
    [ -n "$(yaml_value "$oss/project.yaml" $f)" ] || fail "fuzz/oss-fuzz/project.yaml: no $f"
  done
  [ "$(yaml_value "$cfl/project.yaml" language)" = c ] ||
    fail ".clusterfuzzlite/project.yaml: language is not c"
  # What project.yaml promises is what this test builds.
  [ "$(yaml_list "$oss/project.yaml" sanitizers)" = "address undefined " ] ||
    fail "fuzz/oss-fuzz/project.yaml: sanitizers '$(yaml_list "$oss/project.yaml" sanitizers)', this test builds 'address undefined' (and coverage)"
  [ "$(yaml_list "$oss/project.yaml" fuzzing_engines)" = "afl libfuzzer " ] ||
    fail "fuzz/oss-fuzz/project.yaml: fuzzing_engines '$(yaml_list "$oss/project.yaml" fuzzing_engines)', this test builds 'afl libfuzzer'"

  workflow_checks
}

workflow_checks() {
  local wf=$src/.github/workflows f
  declare -A want=([cflite_pr.yml]="mode: code-change" [cflite_batch.yml]="mode: batch"
                   [cflite_cron.yml]="mode: prune|mode: coverage"
                   [cflite_build.yml]="upload-build: true")
  for f in "${!want[@]}"; do
    [ -f "$wf/$f" ] || { fail ".github/workflows/$f is missing"; continue; }
    local m
    IFS='|' read -ra modes <<< "${want[$f]}"
    for m in "${modes[@]}"; do
      grep -q "^[[:space:]]*${m}[[:space:]]*$" "$wf/$f" || fail ".github/workflows/$f: no '$m'"
    done
    # Every job that builds checks the tree out first: build_fuzzers reads
    # base_os_version from .clusterfuzzlite/project.yaml in the workspace
    # before it clones anything, and without it picks the 20.04 image.
    awk '/^[[:space:]]*runs-on:/ {checkout = 0}
         /uses:[[:space:]]*actions\/checkout@/ {checkout = 1}
         /uses:[[:space:]]*google\/clusterfuzzlite\/actions\/build_fuzzers@/ {
           builds++; if (!checkout) bad++ }
         END {exit (builds == 0 || bad > 0)}' "$wf/$f" ||
      fail ".github/workflows/$f: a build_fuzzers step without actions/checkout before it in its job"
  done
  grep -q "'include/\*\*'" "$wf/cflite_pr.yml" 2>/dev/null ||
    fail ".github/workflows/cflite_pr.yml: the path filter misses include/**"
  if python3 -c 'import yaml' 2>/dev/null; then
    for f in "${!want[@]}"; do
      [ -f "$wf/$f" ] || continue
      python3 -c 'import sys, yaml; yaml.safe_load(open(sys.argv[1]))' "$wf/$f" &&
        ok ".github/workflows/$f parses as YAML" ||
        fail ".github/workflows/$f: not valid YAML"
    done
  else
    echo "note: workflows not parsed as YAML (no python3 yaml module)"
  fi
}

# --- One configuration ----------------------------------------------------
write_env() {   # write_env CONFIG FILE: the variables compile leaves set
  local c=$1 sanitizer=$1 engine=libfuzzer cc=clang cxx=clang++
  local lib="-fsanitize=fuzzer" sflags coverage="-fsanitize=fuzzer-no-link" cflags
  case $c in
    coverage) coverage=$coverage_flags_coverage; sflags= ;;
    afl) sanitizer=address engine=afl cc=afl-clang-fast cxx=afl-clang-fast++
         lib=$work/lib/libFuzzingEngine.a coverage= ;;   # compile_afl
  esac
  case $sanitizer in
    address) sflags=$sanitizer_flags_address ;;
    undefined) sflags=$sanitizer_flags_undefined ;;
  esac
  cflags="$base_cflags $sflags $coverage"
  # compile: C code under UBSan is built without the function check.
  [ "$sanitizer" = undefined ] && cflags="$cflags -fno-sanitize=function"
  {
    printf 'PATH=%q\nHOME=%q\n' "$PATH" "$HOME"
    printf 'SRC=%q\nOUT=%q\nWORK=%q\n' "$work/src" "$work/$c/out" "$work/$c/work"
    printf 'CC=%q\nCXX=%q\nCFLAGS=%q\nCXXFLAGS=%q\n' "$cc" "$cxx" "$cflags" "$cflags -stdlib=libc++"
    printf 'LIB_FUZZING_ENGINE=%q\nSANITIZER=%q\nFUZZING_ENGINE=%q\n' "$lib" "$sanitizer" "$engine"
    printf 'ARCHITECTURE=x86_64\nFUZZING_LANGUAGE=c\n'
    printf 'UBSAN_OPTIONS=silence_unsigned_overflow=1\n'
    if [ "$engine" = afl ]; then
      printf 'AFL_QUIET=1\nAFL_IGNORE_PROBLEMS=1\nAFL_IGNORE_UNKNOWN_ENVS=1\n'
      printf 'ASAN_OPTIONS=%q\n' "detect_leaks=0:symbolize=0:detect_odr_violation=0:abort_on_error=1"
    fi
  } > "$2"
}

tree_sum() {    # everything under $SRC/qloop, names and contents
  (cd "$work/src/qloop" && find . -type f -print0 | sort -z | xargs -0 md5sum | md5sum)
}

build_config() {   # build_config CONFIG: 0 built
  local c=$1 dir=$work/$1 before start
  rm -rf "$dir" && mkdir -p "$dir/out" "$dir/work" "$dir/run"
  write_env "$c" "$dir/env"
  before=$(tree_sum)
  start=$SECONDS
  # env -i: nothing from this shell (QLOOP_*, a developer's CFLAGS) leaks in.
  local run
  run=$(printf 'set -a; . %q; set +a; exec bash -eux %q' "$dir/env" "$work/src/build.sh")
  if ! (cd "$work/src/qloop" && env -i bash -c "$run") > "$dir/build.log" 2>&1; then
    tail -30 "$dir/build.log"
    fail "$c: build.sh failed (log: $dir/build.log)"
    echo "reproduce: cd $work/src/qloop && env -i bash -c '$run'"
    return 1
  fi
  ok "$c: build.sh built in $((SECONDS - start)) s"
  # Our own code builds without a warning with our clang (warnings are
  # errors in every other build; here they must not stop OSS-Fuzz's newer
  # clang, so this test is where they fail).  clang 14 does not know every
  # -Wno-error= flag OSS-Fuzz passes; that one warning is not ours.
  local warnings
  warnings=$(grep -E 'warning:' "$dir/build.log" | grep -v -E "unknown warning (option|group)" || true)
  [ -z "$warnings" ] || fail "$c: warnings in the build:"$'\n'"$(echo "$warnings" | sort -u | head -20)"
  [ "$(tree_sum)" = "$before" ] || fail "$c: build.sh changed files under \$SRC/qloop"
}

check_outputs() {   # check_outputs CONFIG
  local c=$1 out=$work/$1/out t f
  for t in $targets; do
    for f in "$t" "$t.dict" "$t.options" "${t}_seed_corpus.zip"; do
      [ -s "$out/$f" ] || fail "$c: \$OUT/$f is missing"
    done
    [ -x "$out/$t" ] || fail "$c: \$OUT/$t is not executable"
  done
  check_glibc "$c"
  check_shared_libs "$c"
  case $c in
    address|afl) check_calls "$c" __asan 1000 "" ;;
    undefined) check_calls "$c" __ubsan 1 __asan ;;
  esac
}

# bad_build_check counts calls into each sanitizer's runtime.
check_calls() {   # check_calls CONFIG PREFIX MIN [ABSENT-PREFIX]
  local c=$1 t n m
  for t in $targets; do
    [ -f "$work/$c/out/$t" ] || continue    # already reported missing
    n=$(objdump -d "$work/$c/out/$t" | grep -c "call.*<$2") || true
    [ "$n" -ge "$3" ] || fail "$c: $t has $n calls to $2*, expected >= $3"
    if [ -n "$4" ]; then
      m=$(objdump -d "$work/$c/out/$t" | grep -c "call.*<$4") || true
      [ "$m" -eq 0 ] || fail "$c: $t has $m calls to $4* (mixed sanitizers)"
    fi
  done
  ok "$c: $2 calls in every target${4:+, none to $4}"
}

check_glibc() {   # the runner image must have every glibc version used
  local c=$1 os need t v has
  os=$(yaml_value "$src/fuzz/oss-fuzz/project.yaml" base_os_version)
  os=${os:-legacy}
  has=${runner_glibc[$os]:-0}
  need=$(for t in $targets "$work/$c/out"/lib/*; do
           [ -f "$t" ] || t=$work/$c/out/$t
           [ -f "$t" ] && objdump -T "$t"; done |
         grep -o 'GLIBC_2\.[0-9]*' | sed 's/GLIBC_//' | sort -uV | tail -1)
  if [ "$(printf '%s\n%s\n' "$need" "$has" | sort -V | tail -1)" = "$has" ]; then
    ok "$c: the targets need glibc $need; the $os runner has $has"
  else
    fail "$c: the targets need glibc $need; the $os runner has $has"
  fi
}

# The runner image has glibc and nothing else: every other shared library a
# target needs (vmm-fuzz: json-glib and glib) must resolve to $OUT/lib.
check_shared_libs() {   # check_shared_libs CONFIG
  local c=$1 out=$work/$1/out t bad before=$failures
  for t in $targets; do
    [ -f "$out/$t" ] || continue
    bad=$(ldd "$out/$t" | awk '$2 == "=>" {print $1, $3}' |
      grep -v -E '^(libc|libm|libpthread|libdl|librt|libresolv|libgcc_s|libstdc\+\+)\.so|^ld-linux' |
      awk -v lib="$out/lib/" 'index($2, lib) != 1' || true)
    [ -z "$bad" ] || fail "$c: $t needs shared libraries the runner lacks and \$OUT/lib does not hold:"$'\n'"$bad"
  done
  [ "$failures" -ne "$before" ] || ok "$c: every shared library beyond glibc resolves to \$OUT/lib"
}

# The [libfuzzer] section of a .options file as flags, as run_fuzzer does.
options_flags() {
  awk '/^\[/ {on = ($0 == "[libfuzzer]"); next}
       on && /=/ {gsub(/[[:space:]]/, ""); print "-" $0}' "$1"
}

run_libfuzzer() {   # run_libfuzzer CONFIG TARGET CORPUS
  local c=$1 t=$2 corpus=$3 out=$work/$1/out log=$work/$1/run/$2.log n files
  files=$(find "$corpus" -type f | wc -l)
  # bad_build_check: the seed corpus runs clean, with the target's options.
  if ! (cd "$out" && env ASAN_OPTIONS="$runner_asan" UBSAN_OPTIONS="$runner_ubsan" \
        LLVM_PROFILE_FILE="$work/$c/run/$t.profraw" \
        "./$t" $fuzzer_args $(options_flags "$out/$t.options") -runs=0 "$corpus") \
        > "$log" 2>&1; then
    tail -20 "$log"
    fail "$c: $t failed on its seed corpus (log: $log)"
    echo "reproduce: cd $out && ./$t $(options_flags "$out/$t.options" | tr '\n' ' ')-runs=0 $corpus"
    return
  fi
  n=$(sed -n 's/^INFO: *\([0-9]*\) files found in.*/\1/p' "$log" | head -1)
  [ "${n:-0}" -eq "$files" ] || fail "$c: $t saw ${n:-0} of the $files seed files"
  if [ "$c" = coverage ]; then
    [ -s "$work/$c/run/$t.profraw" ] && ok "$c: $t ran $files seeds, wrote a profile" ||
      fail "$c: $t wrote no profile"
    return
  fi
  # bad_build_check: it starts, runs 4 inputs, and is instrumented.
  if ! (cd "$out" && env ASAN_OPTIONS="$runner_asan" UBSAN_OPTIONS="$runner_ubsan" \
        "./$t" $fuzzer_args -seed=1337 -runs=4) > "$log.start" 2>&1 ||
     ! grep -q "Done 4 runs" "$log.start"; then
    tail -20 "$log.start"
    fail "$c: $t does not start and run 4 inputs (log: $log.start)"
    return
  fi
  n=$(grep -o 'inline 8-bit counters): [0-9]*' "$log.start" | grep -o '[0-9]*$' | head -1)
  [ "${n:-0}" -ge 100 ] || fail "$c: $t has ${n:-0} instrumented edges (< 100)"
  ok "$c: $t ran $files seeds and 4 fresh inputs, $n edges"
}

run_afl() {   # run_afl CONFIG TARGET CORPUS: AFL++'s driver over every file
  local c=$1 t=$2 corpus=$3 out=$work/$1/out log=$work/$1/run/$2.log files n
  files=$(find "$corpus" -type f | wc -l)
  # Outside afl-fuzz the driver runs each file named once; AFL_DEBUG makes
  # the instrumentation report its edge count as it starts.
  # stdout and stderr apart: the driver's "Execution successful" lines are
  # buffered, the core's stderr (a failed signalfd read under the readfail
  # fault) is not, and one would split the other mid-line.
  if ! AFL_DEBUG=1 ASAN_OPTIONS="$runner_asan" "$out/$t" "$corpus"/* > "$log" 2> "$log.err"; then
    cat "$log.err" >> "$log"
    tail -20 "$log"
    fail "$c: $t failed on $(sed -n 's/^Reading [0-9]* bytes from //p' "$log" | tail -1) (log: $log)"
    echo "reproduce: $out/$t FILE"
    return
  fi
  n=$(grep -a -c '^Execution successful' "$log")
  [ "$n" -eq "$files" ] || fail "$c: $t ran $n of the $files seed files"
  n=$(cat "$log" "$log.err" | grep -a -o '__afl_final_loc = [0-9]*' | grep -o '[0-9]*$' | head -1)
  [ "${n:-0}" -ge 100 ] || fail "$c: $t has ${n:-0} AFL++ edges (< 100)"
  ok "$c: $t ran $files seeds, ${n:-0} edges"
  afl_session "$c" "$t" "$corpus"
}

# bad_build_check's AFL++ check: afl-fuzz starts on the target (fork server,
# persistent mode, ASan with no memory limit, the dictionary) and nothing
# crashes or stops the target.  3 s of fuzzing, from the seed corpus.
afl_session() {   # afl_session CONFIG TARGET CORPUS
  local c=$1 t=$2 corpus=$3 out=$work/$1/out dir=$work/$1/run/$2-afl
  command -v afl-fuzz >/dev/null || { echo "note: afl-fuzz missing, $t not fuzzed"; return; }
  rm -rf "$dir" && mkdir -p "$dir"
  AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
    AFL_FORKSRV_INIT_TMOUT=30000 ASAN_OPTIONS="$runner_asan:abort_on_error=1:symbolize=0" \
    timeout --preserve-status -s INT 60 afl-fuzz -m none -V 3 -x "$out/$t.dict" \
      -i "$corpus" -o "$dir/sync" -- "$out/$t" > "$dir/log" 2>&1
  if ! grep -a -q "All set and ready to roll" "$dir/log" ||
     grep -a -q -E "target binary (crashed|terminated)|PROGRAM ABORT" "$dir/log"; then
    tail -20 "$dir/log"
    fail "$c: afl-fuzz does not run $t (log: $dir/log)"
    return
  fi
  if [ -n "$(ls -A "$dir/sync/default/crashes" 2>/dev/null | grep -v README)" ]; then
    fail "$c: 3 s of afl-fuzz crashed $t: $dir/sync/default/crashes/"
    return
  fi
  ok "$c: afl-fuzz ran $t for 3 s ($(sed -n 's/^execs_done *: *//p' "$dir/sync/default/fuzzer_stats") executions)"
}

check_coverage() {   # the profiles cover the loop core
  local c=$1 run=$work/$1/run t objs=() lines profdata cov
  profdata=$(command -v llvm-profdata-14 || command -v llvm-profdata) &&
    cov=$(command -v llvm-cov-14 || command -v llvm-cov) ||
    { fail "coverage: llvm-profdata or llvm-cov missing (sudo apt-get install -y llvm-14)"; return; }
  "$profdata" merge -sparse "$run"/*.profraw -o "$run/all.profdata" ||
    { fail "coverage: llvm-profdata merge failed"; return; }
  for t in $targets; do objs+=(-object "$work/$c/out/$t"); done
  lines=$("$cov" report -instr-profile="$run/all.profdata" "${objs[@]:1}" \
          "$work/src/qloop/loop" 2>/dev/null | awk '/^TOTAL/ {print $10}')
  [ -n "$lines" ] && [ "$lines" != "0.00%" ] && ok "coverage: the seed corpora cover $lines of loop/*.c lines" ||
    fail "coverage: no coverage of loop/*.c from the seed corpora"
}

run_config() {   # run_config CONFIG
  local c=$1 t corpus
  for t in $targets; do
    [ -s "$work/$c/out/${t}_seed_corpus.zip" ] || continue
    corpus=$work/$c/run/$t-corpus
    mkdir -p "$corpus" && unzip -q -o -d "$corpus" "$work/$c/out/${t}_seed_corpus.zip"
    if [ "$c" = afl ]; then run_afl "$c" "$t" "$corpus"; else run_libfuzzer "$c" "$t" "$corpus"; fi
  done
  if [ "$c" = coverage ]; then check_coverage "$c"; fi
}

# --- Main -------------------------------------------------------------------
static_checks

if ! "$src/fuzz/check-libfuzzer.sh" 2>/dev/null || ! command -v zip >/dev/null ||
   ! command -v unzip >/dev/null; then
  echo "SKIPPED: OSS-Fuzz build test needs clang's libFuzzer, zip and unzip:" \
       "sudo apt-get install -y clang libclang-rt-14-dev zip unzip"
  [ $failures -eq 0 ] && exit 77 || exit 1
fi

# The targets fuzz.mk builds: every one must ship (the devices target once
# did not).
targets=$(sed -n 's/^TARGETS[[:space:]]*:=[[:space:]]*//p' "$src/fuzz/fuzz.mk")
[ -n "$targets" ] || { fail "no TARGETS line in fuzz/fuzz.mk"; exit 1; }

# $SRC: the tree as git sees it (tracked and new files, not build output),
# or, outside git, the tree without build and fuzz output.
rm -rf "$work/src" && mkdir -p "$work/src/qloop"
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
  (cd "$src" && git ls-files -z --cached --others --exclude-standard |
     tar --null -T - --no-recursion --ignore-failed-read -cf - 2>/dev/null) |
    tar -C "$work/src/qloop" -xf -
else
  tar -C "$src" --exclude=./build --exclude='./build-*' --exclude=./fuzz-out -cf - . |
    tar -C "$work/src/qloop" -xf -
fi
cp "$src/fuzz/oss-fuzz/build.sh" "$work/src/build.sh"

for c in "${configs[@]}"; do
  if [ "$c" = afl ]; then
    driver=$(ls /usr/lib/afl/libAFLDriver.a /usr/local/lib/afl/libAFLDriver.a 2>/dev/null | head -1)
    if ! command -v afl-clang-fast >/dev/null || [ -z "$driver" ]; then
      echo "SKIPPED: afl: afl-clang-fast or libAFLDriver.a missing: sudo apt-get install -y afl++"
      continue
    fi
    # compile_afl copies AFL++'s driver to $LIB_FUZZING_ENGINE.
    mkdir -p "$work/lib" && cp "$driver" "$work/lib/libFuzzingEngine.a"
  fi
  echo "=== $c"
  build_config "$c" || continue
  check_outputs "$c"
  run_config "$c"
done

if [ $failures -ne 0 ]; then
  echo "$failures check(s) failed; rerun: tests/oss-fuzz.sh $work ${configs[*]}"
  exit 1
fi
echo "all checks passed: ${configs[*]}"
