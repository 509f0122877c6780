#!/bin/sh
# tests/scenario-breaks.sh — every scenario in docs/examples and
# corpus/regressions can fail: it passes on the production core and fails
# on a variant of the core that breaks the rule it states.
#
# Method: the table below names, for each .scn, its rule and the core
# variant (variants/<name>.c, built as qloop-<name>) that breaks it.  The
# production core must come through `qloop explore` (its default order,
# K=2, at most $runs schedules) with no failure.  The variant must fail
# under one of: that same explore, $seeds random walks, $seeds PCT runs of
# depth 3 — the first that fails is reported with what found it.  A scenario no variant breaks is a defect:
# it is printed as DEFECT and fails the test; one listed in the table with
# variant "-" is a known defect (printed, not failed), until it is fixed.
# A .scn missing from the table fails the test too: a new scenario must
# say how it can fail.
# Usage: scenario-breaks.sh BIN_DIR SOURCE_DIR
set -u
bin=$1
src=$2
runs=2000
seeds=300
pass=0
fail=0
known=0

# scenario | variant | the rule it checks
table='
docs/examples/bh-cancel-slot.scn|bh-fifo|a cancelled, re-scheduled BH keeps its slot: B runs before A
docs/examples/bh-delete.scn|bh-deleted-runs|a BH deleted while pending never runs
docs/examples/bh-order.scn|bh-fifo|BHs run newest first by first enqueue, merged once
docs/examples/cross-thread-oneshots.scn|notify-poll-deaf|a cross-thread oneshot wakes the blocked aio_poll (notify protocol)
docs/examples/fd-remove-in-dispatch.scn|fd-deleted-called|a handler removed mid-dispatch is not called in that round
docs/examples/fd-replace.scn|fd-replace-stale|a re-registered handler runs its new callback from the next dispatch
docs/examples/main-loop.scn|main-loop-bare-notify|qemu_notify_event makes the next main_loop_wait return, even with nobody waiting
docs/examples/nested-poll.scn|bh-fifo|a nested aio_poll runs the outer poll'"'"'s remaining BHs first
docs/examples/thread-pool.scn|notify-poll-deaf|a pool completion wakes the home thread'"'"'s aio_poll
docs/examples/timer-periodic.scn|timer-late|a self re-arming timer fires at each deadline, never late
docs/examples/timer-rearm-wakes.scn|timer-mod-silent|a timer moved earlier by another thread wakes the waiter on time
docs/examples/timer-ties.scn|timer-ties-lifo|timers with equal deadlines fire in arming order
corpus/regressions/bug2-main-loop.scn|notify-bug2|aio_notify never skips event_notifier_set (BUG2)
'

ok() { pass=$((pass + 1)); echo "ok     $1"; }
bad() { fail=$((fail + 1)); echo "FAIL   $1"; }

# breaks VARIANT SCN: prints what found a failure, or nothing.
breaks() {
    v=$bin/qloop-$1
    "$v" explore "$2" -k 2 --max-runs $runs -o /dev/null >"$tmp" 2>/dev/null
    [ $? = 1 ] && { echo "explore, schedule $(sed -n 's/^explored ([a-z]*) \([0-9]*\) schedules.*/\1/p' "$tmp")"; return; }
    "$v" run "$2" --runs $seeds -o /dev/null >"$tmp" 2>/dev/null
    [ $? = 1 ] && { echo "random walk, $(sed -n 's/^\(seed [0-9]*\).*/\1/p' "$tmp" | head -1)"; return; }
    "$v" run "$2" --runs $seeds --pct 3 -o /dev/null >"$tmp" 2>/dev/null
    [ $? = 1 ] && { echo "PCT 3, $(sed -n 's/^\(seed [0-9]*\).*/\1/p' "$tmp" | head -1)"; return; }
}

tmp=$(mktemp "${TMPDIR:-/tmp}/qloop-breaks.XXXXXX")
trap 'rm -f "$tmp"' EXIT

for scn in "$src"/docs/examples/*.scn "$src"/corpus/regressions/*.scn; do
    rel=${scn#"$src"/}
    echo "$table" | grep -q "^$rel|" || bad "$rel: not in the table (name its rule and a variant that breaks it)"
done

echo "$table" | while IFS='|' read -r rel variant rule; do
    [ -n "$rel" ] || continue
    echo "$rel|$variant|$rule"
done > "$tmp.list"

while IFS='|' read -r rel variant rule; do
    scn=$src/$rel
    "$bin/qloop" explore "$scn" -k 2 --max-runs $runs -o /dev/null >"$tmp" 2>&1
    if [ $? != 0 ]; then
        bad "$rel: fails on the production core"; sed 's/^/       /' "$tmp" | head -5
        continue
    fi
    if [ "$variant" = - ]; then
        known=$((known + 1)); echo "DEFECT $rel: no variant breaks '$rule' (known)"
        continue
    fi
    if [ ! -x "$bin/qloop-$variant" ]; then
        bad "$rel: variant qloop-$variant is not built"
        continue
    fi
    how=$(breaks "$variant" "$scn")
    if [ -n "$how" ]; then
        ok "$rel: '$rule' broken by $variant ($how)"
    else
        bad "DEFECT $rel: $variant does not make it fail; '$rule' is not tested"
    fi
done < "$tmp.list"
rm -f "$tmp.list"

echo "$pass scenarios fail when their rule breaks, $fail failed, $known known defects"
[ "$fail" -eq 0 ]
