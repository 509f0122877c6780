#!/bin/sh
# tests/afl-feedback.sh — the AFL++ flavour takes coverage feedback from
# the code under test and none from the test bench.
# Method: fuzz/build.sh afl into WORK_DIR, then look for AFL++'s edge map
# (__afl_area_ptr, what every instrumented edge writes through) in the
# objects: the simulator's and the oracles' (fuzz/coverage-ignore.txt) must
# not reference it, the core's, the runner's and the decoder's must.  AFL++
# matches its list against file names as the compiler recorded them —
# relative to the directory the build ran in, when that is the source
# root — and clang's patterns did not match those: the simulator was
# instrumented, a third of each input's time, and no test noticed.  Then the target
# itself: one seed through afl-showmap gives edges.
# Usage: afl-feedback.sh SOURCE_DIR WORK_DIR
set -u
src=$1
work=$2
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }
command -v afl-clang-fast >/dev/null ||
    { echo "SKIP: afl++ is not installed (scripts/deps.sh: apt-get install afl++)"; exit 77; }

mkdir -p "$work"
# From the source root, as the README runs it: the compiler then records
# relative file names, the case clang's patterns did not match.
if ! (cd "$src" && ./fuzz/build.sh afl --out "$work" -j2) >"$work/build.log" 2>&1; then
    cat "$work/build.log"; bad "fuzz/build.sh afl"; exit 1
fi
obj=$work/afl/obj
edges() { nm "$obj/$1" 2>/dev/null | grep -q '__afl_area_ptr'; }
for f in sim/sched.o sim/heap.o sim/trace.o sim/fd.o harness/model.o \
         harness/model-co.o harness/idmap.o harness/story.o; do
    [ -e "$obj/$f" ] || { bad "$f was built"; continue; }
    if edges "$f"; then bad "$f has no AFL++ edges (the bench)"; else ok "$f has no AFL++ edges (the bench)"; fi
done
for f in loop/bh.o loop/aio-poll.o loop/timer.o harness/runner.o harness/decode.o; do
    if edges "$f"; then ok "$f has AFL++ edges"; else bad "$f has AFL++ edges"; fi
done
seed=$(ls -d "$src"/corpus/loop/* | head -1)
if AFL_QUIET=1 afl-showmap -q -o "$work/map" -- "$work/afl/loop-fuzz" < "$seed" &&
   [ "$(wc -l < "$work/map")" -gt 50 ]; then
    ok "afl-showmap: $(wc -l < "$work/map") edges for one seed"
else
    bad "afl-showmap gives edges for one seed"
fi
echo "afl-feedback: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
