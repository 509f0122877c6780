#!/usr/bin/env bash
# fuzz/coverage.sh — line and branch coverage of the loop core from a corpus.
#
# Usage: fuzz/coverage.sh [--out DIR] [--scn PATH]... [--no-scn]
#                         [CORPUS_DIR|FILE...]
#   CORPUS_DIR|FILE  loop-target inputs (fuzzer bytes); default corpus/loop,
#                    plus fuzz-out/corpus when it exists
#   --scn PATH       .scn scenarios and replay files (a file or a directory);
#                    default docs/examples, corpus/regressions and
#                    corpus/coverage: the committed scenarios
#   --no-scn         fuzzer bytes only
# Method: build the loop target's plain replay driver and fuzz/scn-replay.c
# with clang source-based coverage (fuzz/build.sh coverage:
# -fprofile-instr-generate -fcoverage-mapping), replay every input once
# (each .scn: 200 seeds with swarm-drawn faults), merge the profiles
# (llvm-profdata merge) and report on loop/*.c only — the core, not the
# simulator, the harness or loop/host/: an HTML report (llvm-cov show
# -format=html) in DIR/html/index.html and the summary table (llvm-cov
# report) on stdout, whose TOTAL line is the figure quoted in the README.
# Exit status: 0 report written, 1 an input failed, 2 a tool or an input is
# missing, else the failing step's.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
out=$src/build/fuzz/coverage-report
inputs=()
scn=()
no_scn=0
while [ $# -gt 0 ]; do
  case $1 in
    --out) out=$2; shift 2 ;;
    --scn) scn+=("$2"); shift 2 ;;
    --no-scn) no_scn=1; shift ;;
    -h|--help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) inputs+=("$1"); shift ;;
  esac
done
for input in "${inputs[@]}" "${scn[@]}"; do
  if [ ! -e "$input" ]; then
    echo "$input:0: no such file or directory" >&2
    exit 2
  fi
done
if [ ${#inputs[@]} -eq 0 ]; then
  inputs=("$src/corpus/loop")
  [ -d "$src/fuzz-out/corpus" ] && inputs+=("$src/fuzz-out/corpus")
fi
if [ ${#scn[@]} -eq 0 ] && [ $no_scn -eq 0 ]; then
  for d in docs/examples corpus/regressions corpus/coverage; do
    [ -d "$src/$d" ] && scn+=("$src/$d")
  done
fi

tool() {    # tool NAME: NAME-14 or NAME
  for t in "$1-14" "$1"; do
    command -v "$t" >/dev/null 2>&1 && { echo "$t"; return; }
  done
  echo "fuzz/coverage.sh: $1 not found; install it with:" >&2
  echo "    sudo apt-get install -y llvm clang" >&2
  exit 2
}
profdata=$(tool llvm-profdata)
cov=$(tool llvm-cov)

"$src/fuzz/build.sh" coverage >&2
bin=$src/build/fuzz/coverage/loop-fuzz
rm -rf "$out"
mkdir -p "$out/profiles"
LLVM_PROFILE_FILE="$out/profiles/loop-%p.profraw" "$bin" "${inputs[@]}" \
  2> "$out/replay.log" || {
    echo "fuzz/coverage.sh: an input failed (see $out/replay.log):" >&2
    tail -5 "$out/replay.log" >&2
    exit 1
  }
if [ ${#scn[@]} -gt 0 ]; then
  LLVM_PROFILE_FILE="$out/profiles/scn-%p.profraw" \
    "$src/build/fuzz/coverage/scn-replay" "${scn[@]}" 2> "$out/scn.log" || {
      echo "fuzz/coverage.sh: a scenario failed (see $out/scn.log):" >&2
      tail -8 "$out/scn.log" >&2
      exit 1
    }
fi
"$profdata" merge -sparse "$out"/profiles/*.profraw -o "$out/loop.profdata"
core=("$src"/loop/*.c)
"$cov" show "$bin" -instr-profile="$out/loop.profdata" -format=html \
  -show-branches=count -show-line-counts-or-regions \
  -output-dir="$out/html" "${core[@]}"
"$cov" report "$bin" -instr-profile="$out/loop.profdata" "${core[@]}" \
  | tee "$out/summary.txt"
n=$(grep -c '^running ' "$out/replay.log" || true)
echo
m=$(grep -c '^running ' "$out/scn.log" 2>/dev/null || true)
echo "coverage of loop/*.c from $n inputs (${inputs[*]#$src/})"
[ ${#scn[@]} -eq 0 ] ||
  echo "  and ${m:-0} scenario and replay files (${scn[*]#$src/}): $(tail -1 "$out/scn.log")"
echo "report: $out/html/index.html   summary: $out/summary.txt"
