#!/usr/bin/env bash
# fuzz/coverage.sh — line and branch coverage of the loop core from a corpus.
#
# Usage: fuzz/coverage.sh [--out DIR] [CORPUS_DIR|FILE...]
#   (default corpus: corpus/loop, plus fuzz-out/corpus when it exists)
# Method: build the loop target's plain replay driver with clang source-based
# coverage (fuzz/build.sh coverage: -fprofile-instr-generate
# -fcoverage-mapping), replay every input once, merge the profiles
# (llvm-profdata merge) and report on loop/*.c only — the core, not the
# simulator or the harness: an HTML report (llvm-cov show -format=html) in
# DIR/html/index.html and the summary table (llvm-cov report) on stdout,
# whose TOTAL line is the figure quoted in the README.
# Exit status: 0 report written, 2 a tool or an input is missing, else the
# failing step's.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
out=$src/build/fuzz/coverage-report
inputs=()
while [ $# -gt 0 ]; do
  case $1 in
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) inputs+=("$1"); shift ;;
  esac
done
for input in "${inputs[@]}"; do
  if [ ! -e "$input" ]; then
    echo "$input:0: no such file or directory" >&2
    exit 2
  fi
done
if [ ${#inputs[@]} -eq 0 ]; then
  inputs=("$src/corpus/loop")
  [ -d "$src/fuzz-out/corpus" ] && inputs+=("$src/fuzz-out/corpus")
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
"$profdata" merge -sparse "$out"/profiles/*.profraw -o "$out/loop.profdata"
core=("$src"/loop/*.c)
"$cov" show "$bin" -instr-profile="$out/loop.profdata" -format=html \
  -show-branches=count -show-line-counts-or-regions \
  -output-dir="$out/html" "${core[@]}"
"$cov" report "$bin" -instr-profile="$out/loop.profdata" "${core[@]}" \
  | tee "$out/summary.txt"
n=$(grep -c '^running ' "$out/replay.log" || true)
echo
echo "coverage of loop/*.c from $n inputs (${inputs[*]})"
echo "report: $out/html/index.html   summary: $out/summary.txt"
