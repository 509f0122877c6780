#!/bin/sh
# tests/memory/cli.sh — --memory through the qloop command: explore finds
# the 5710a3e09f shape (aio_poll without its smp_mb) under tso and not
# under sc, the replay file records the mode, replays bit for bit and
# shrinks under it, the story names the stale load, and a bad mode is a
# usage error.
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

"$bin/qloop" explore --memory ia64 "$scn" > /dev/null 2>&1
[ $? -eq 2 ] || fail "an unknown memory model must be a usage error"
echo PASS
