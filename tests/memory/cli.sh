#!/bin/sh
# tests/memory/cli.sh — --memory through the qloop command: explore finds
# the 5710a3e09f shape (aio_poll without its smp_mb) under tso and not
# under sc, the replay file records the mode, replays bit for bit and
# shrinks under it, the story names the stale load; under c11 the same
# through an older store read (the story names it, by whom) while the core
# exhausts the space; the R shape in QEMU's aio_notify_accept() and not in
# the core's; --delays; a bad mode is a usage error.
# Usage: cli.sh HARNESS_BIN_DIR SOURCE_DIR
set -u
bin=$1
src=$2
scn=$src/tests/memory/cross-thread-notify.scn
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$bin/qloop-mb-aio-poll" explore --memory sc -k 3 --order iterative "$scn" \
    -o "$tmp/sc.replay" > "$tmp/sc.out" 2>&1
[ $? -eq 0 ] || { cat "$tmp/sc.out"; fail "sc: the missing barrier must not matter"; }
grep -q "exhausted" "$tmp/sc.out" || fail "sc: the bounded space was not exhausted"

"$bin/qloop-mb-aio-poll" explore --memory tso -k 3 --order iterative "$scn" \
    -o "$tmp/tso.replay" > "$tmp/tso.out" 2>&1
[ $? -eq 1 ] || { cat "$tmp/tso.out"; fail "tso: no failing schedule"; }
grep -q "^memory tso$" "$tmp/tso.replay" || fail "the replay file lacks 'memory tso'"

"$bin/qloop-mb-aio-poll" replay "$tmp/tso.replay" > "$tmp/replay.out" 2>&1
[ $? -eq 1 ] || fail "replay: expected the verdict again"
grep -q "mismatch" "$tmp/replay.out" && fail "replay: the hash differs"
grep -q "read memory, missing the store still in main's buffer" \
    "$tmp/replay.out" || fail "the story does not name the buffered store"

"$bin/qloop-mb-aio-poll" shrink "$tmp/tso.replay" -o "$tmp/min.replay" \
    > /dev/null 2>&1
grep -q "^memory tso$" "$tmp/min.replay" || fail "shrink lost the memory model"
"$bin/qloop-mb-aio-poll" replay -q "$tmp/min.replay" > "$tmp/min.out" 2>&1
[ $? -eq 1 ] || fail "the shrunk replay does not fail"

# c11: the same barrier found through an older store read; the replay file
# records the mode and the story says which store the load read, by whom.
"$bin/qloop-mb-aio-poll" explore --memory c11 -k 3 --order iterative "$scn" \
    -o "$tmp/c11.replay" > "$tmp/c11.out" 2>&1
[ $? -eq 1 ] || { cat "$tmp/c11.out"; fail "c11: no failing schedule"; }
grep -q "delay bound 1 of 1" "$tmp/c11.out" || fail "c11: the delay bound is not reported"
grep -q "^memory c11$" "$tmp/c11.replay" || fail "the replay file lacks 'memory c11'"
"$bin/qloop-mb-aio-poll" replay "$tmp/c11.replay" > "$tmp/c11r.out" 2>&1
[ $? -eq 1 ] || fail "c11 replay: expected the verdict again"
grep -q "read &ctx->notify_me: read an older store, by main" "$tmp/c11r.out" ||
    fail "the c11 story does not name the store read"
"$bin/qloop" explore --memory c11 -k 3 --order iterative "$scn" \
    > "$tmp/c11core.out" 2>&1
[ $? -eq 0 ] || { cat "$tmp/c11core.out"; fail "c11: the core failed"; }
grep -q "exhausted" "$tmp/c11core.out" || fail "c11: the core's space was not exhausted"
# The R shape through the command: QEMU's aio_notify_accept() (a plain
# store) loses a timer wake-up under c11 at two weak choices (never at
# one), the story names the stale read of the timer list; the core (an
# exchange there) and the variant with smp_mb() in aio_notify() exhaust
# the same space.
tscn=$src/tests/memory/cross-thread-timer.scn
"$bin/qloop-qemu-notify-accept" explore --memory c11 -k 3 --delays 2 \
    --order iterative "$tscn" -o "$tmp/r.replay" > "$tmp/r.out" 2>&1
[ $? -eq 1 ] || { cat "$tmp/r.out"; fail "c11: the R shape was not found"; }
"$bin/qloop-qemu-notify-accept" replay "$tmp/r.replay" > "$tmp/rr.out" 2>&1
grep -q "read &tl->head_expire_ns: read an older value" "$tmp/rr.out" ||
    fail "the R-shape story does not name the stale timer-list read"
"$bin/qloop" replay "$tmp/r.replay" > "$tmp/rcore.out" 2>&1
[ $? -eq 1 ] || { cat "$tmp/rcore.out"; fail "qloop replay did not run the variant's file on it"; }
grep -q "made by variant qemu-notify-accept" "$tmp/rcore.out" ||
    fail "qloop replay did not say it ran the file on its variant"
"$bin/qloop-qemu-notify-accept" explore --memory c11 -k 3 --delays 1 \
    --order iterative "$tscn" > "$tmp/r1.out" 2>&1
[ $? -eq 0 ] || { cat "$tmp/r1.out"; fail "c11: the R shape needs two weak choices"; }
for q in qloop qloop-mb-for-wmb-notify; do
    "$bin/$q" explore --memory c11 -k 3 --delays 2 --order iterative "$tscn" \
        > "$tmp/rfix.out" 2>&1
    [ $? -eq 0 ] || { cat "$tmp/rfix.out"; fail "c11: $q loses the timer wake-up"; }
    grep -q "exhausted" "$tmp/rfix.out" || fail "c11: $q's space was not exhausted"
done

# --delays: a count or 'shared'; anything else is a usage error.
"$bin/qloop" explore --memory tso --delays shared -k 1 "$scn" > /dev/null 2>&1
[ $? -eq 0 ] || fail "--delays shared was refused"
"$bin/qloop" explore --delays many "$scn" > /dev/null 2>&1
[ $? -eq 2 ] || fail "a bad --delays must be a usage error"

"$bin/qloop" explore --memory ia64 "$scn" > /dev/null 2>&1
[ $? -eq 2 ] || fail "an unknown memory model must be a usage error"
echo PASS
