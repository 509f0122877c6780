#!/bin/sh
# tests/heap-check.sh — without AddressSanitizer, memory errors of the
# core's objects are still verdicts: the simulator's checking allocator
# (sim/heap.c) catches the planted defects of variants/.
#
#   heap-check.sh SOURCE_DIR WORK_DIR
#
# Builds the qloop command without sanitizers (fuzz/fuzz.mk, the objects
# the fast fuzz flavours use) for the production core and for four
# variants, then for each:
#   bh-guard-uaf    reads the guard pointer of a BH its callback freed and
#                   follows it: "heap-use-after-free of a BH: a pointer read
#                   from it after it was freed was followed"
#   bh-uaf-write    stores to a BH its callback freed: "heap-use-after-free
#                   of a BH: written after it was freed"
#   bh-double-free  frees every oneshot BH twice: "double-free of a BH"
#   bh-leak         never frees oneshot BHs: "leak of a BH"
# `run` exits 1 with the "memory" verdict and that story, and writes a
# replay file recording "verdict memory"; `replay` of that file gives the
# same verdict and story (exit 1); the production core passes the same
# scenarios (exit 0).
set -u
src=$1
work=$2
pass=0
fail=0
mkdir -p "$work"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/qloop-heap.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }

build() {   # build VARIANT ("" = the production core): WORK/NAME/qloop
    dir=$work/${1:-core}
    if ! make --no-print-directory -s -f "$src/fuzz/fuzz.mk" -j2 OUT="$dir" \
            VARIANT="$1" CC="${CC:-cc}" HOSTCC="${CC:-cc}" \
            CFLAGS="-g -O1" ENGINE= DRIVER=1 QLOOP_CLI=1 "$dir/qloop" \
            >"$tmp/build.log" 2>&1; then
        tail -20 "$tmp/build.log"
        echo "FAIL build ${1:-core}"
        exit 1
    fi
}

printf 'bh A { delete A; poll_nb }\nthread main { schedule A; poll }\n' \
    > "$tmp/self-delete.scn"
printf 'oneshot x\nthread main { oneshot x; poll }\n' > "$tmp/oneshot.scn"

# check VARIANT SCENARIO STORY: run, its replay file, replay.
check() {
    v=$1; scn=$2; story=$3
    bin=$work/$v/qloop
    "$bin" run "$tmp/$scn" --runs 20 -o "$tmp/$v.replay" >"$tmp/out" 2>&1
    st=$?
    if [ "$st" = 1 ] && grep -q "random: memory (" "$tmp/out" && grep -q "$story" "$tmp/out"; then
        ok "$v: run gives the memory verdict: $story"
    else
        bad "$v: run exited $st; expected 1, 'memory' and '$story' in:"
        tail -8 "$tmp/out" | sed 's/^/     /'
        return
    fi
    if grep -q '^verdict memory$' "$tmp/$v.replay"; then
        ok "$v: the replay file records verdict memory"
    else
        bad "$v: replay file:"; sed 's/^/     /' "$tmp/$v.replay" | head -12
    fi
    "$bin" replay -q "$tmp/$v.replay" >"$tmp/out" 2>&1
    st=$?
    if [ "$st" = 1 ] && grep -q "$story" "$tmp/out"; then
        ok "$v: replay reproduces it"
    else
        bad "$v: replay exited $st:"; tail -5 "$tmp/out" | sed 's/^/     /'
    fi
    "$work/core/qloop" run "$tmp/$scn" --runs 20 >"$tmp/out" 2>&1
    st=$?
    [ "$st" = 0 ] && ok "$v: the production core passes $scn" \
        || { bad "$v: the production core exited $st on $scn"; tail -5 "$tmp/out"; }
}

build ""
for v in bh-guard-uaf bh-uaf-write bh-double-free bh-leak; do
    build "$v"
done
check bh-guard-uaf self-delete.scn \
    "heap-use-after-free of a BH: a pointer read from it after it was freed was followed"
check bh-uaf-write self-delete.scn \
    "heap-use-after-free of a BH: written after it was freed"
check bh-double-free oneshot.scn "double-free of a BH"
check bh-leak oneshot.scn "leak of a BH: allocated at step"

echo "heap-check: $pass passed, $fail failed"
[ "$fail" = 0 ]
