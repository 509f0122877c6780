#!/bin/sh
# tests/fuzz-variant-build.sh — `fuzz/build.sh FLAVOUR --variant NAME`
# starts from a copy of the flavour's objects and compiles only what the
# variant changes, and what it builds is the variant.
# Method: the replay flavour (plain clang, the cheapest) and bh-fifo (an
# ordering bug the loop corpus shows at once).  The flavour's target passes
# every seed of corpus/loop, the variant's fails one; every object of the
# variant's tree but the patched file's and harness/cli.o is byte-identical
# to the flavour's, with its time (copied, not compiled); a second build
# of the variant compiles nothing.
# Usage: fuzz-variant-build.sh SOURCE_DIR WORK_DIR
set -u
src=$1
work=$2
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }
command -v clang >/dev/null || { echo "SKIP: clang is not installed (scripts/deps.sh)"; exit 77; }

rm -rf "$work/replay-bh-fifo"
if ! "$src/fuzz/build.sh" replay --variant bh-fifo --out "$work" -j2 >"$work.log" 2>&1; then
    cat "$work.log"; bad "fuzz/build.sh replay --variant bh-fifo"; exit 1
fi
base=$work/replay
var=$work/replay-bh-fifo
seeds=$(ls -d "$src"/corpus/loop/*)
# shellcheck disable=SC2086
if "$base/loop-fuzz" $seeds >/dev/null 2>&1; then
    ok "the flavour's loop target passes corpus/loop"
else
    bad "the flavour's loop target fails corpus/loop"
fi
# shellcheck disable=SC2086
if ! "$var/loop-fuzz" $seeds >"$work/var.out" 2>&1 &&
   grep -q "verdict" "$work/var.out"; then
    ok "the variant's loop target finds bh-fifo in corpus/loop"
else
    bad "the variant's loop target does not fail on corpus/loop"
fi
if [ -f "$var/obj/variant/bh.o" ] && grep -q "$var/obj/variant/bh.o" "$var/.lib-objs" &&
   ! grep -q "$var/obj/loop/bh.o" "$var/.lib-objs"; then
    ok "the patched bh.c is linked as obj/variant/bh.o, loop/bh.c is not"
else
    bad "the variant's archive does not take obj/variant/bh.o alone"
fi
differ=0
for o in $(cd "$base/obj" && find . -name '*.o'); do
    case $o in ./harness/cli.o) continue ;; esac
    # The same bytes, and the flavour's time: copied, not compiled again.
    if ! cmp -s "$base/obj/$o" "$var/obj/$o" ||
       [ "$(stat -c %Y "$base/obj/$o")" != "$(stat -c %Y "$var/obj/$o")" ]; then
        echo "       compiled again: $o"; differ=$((differ + 1))
    fi
done
[ "$differ" = 0 ] && ok "every other object is the flavour's, copied" ||
    bad "$differ objects were compiled again for the variant"
if "$src/fuzz/build.sh" replay --variant bh-fifo --out "$work" -j2 >"$work.log2" 2>&1 &&
   make --no-print-directory -q -f "$src/fuzz/fuzz.mk" OUT="$var" VARIANT=bh-fifo \
       CC=clang HOSTCC=clang CFLAGS="-gdwarf-4 -O2" ENGINE= DRIVER=1 >/dev/null 2>&1; then
    ok "a second build leaves nothing to do"
else
    bad "a second build is not up to date (make -q)"
fi
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
