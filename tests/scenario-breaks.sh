#!/bin/sh
# tests/scenario-breaks.sh — every scenario in docs/examples and
# corpus/regressions can fail: it passes on the production core and fails
# on a variant of the core that breaks the rule it states.
#
# Method: the table below names, for each .scn, its rule and the core
# variant (variants/<name>.patch, built as qloop-<name>) that breaks it.  The
# production core must come through `qloop explore` (its default order,
# K=2, at most $runs schedules) with no failure.  The variant must fail
# under one of: that same explore, $seeds random walks, $seeds PCT runs of
# depth 3 — the first that fails is reported with what found it.  A scenario no variant breaks is a defect:
# it is printed as DEFECT and fails the test; one listed in the table with
# variant "-" is a known defect (printed, not failed), until it is fixed.
# A .scn missing from the table fails the test too: a new scenario must
# say how it can fail.  A break that only a sanitizer sees (the variant's
# corpus/regressions/NAME.VARIANT.report) is required where the build has
# that sanitizer and reported as skipped elsewhere.
# Usage: scenario-breaks.sh BIN_DIR SOURCE_DIR [SANITIZERS]
#   SANITIZERS: the build's -fsanitize list (CMake's QLOOP_SANITIZE).
set -u
bin=$1
src=$2
sanitizers=${3:-}
skipped=0
runs=2000
seeds=300
pass=0
fail=0
known=0

# scenario | variants (each must break it) | the rule it checks [| memory
# model: the core's and the variants' runs use --memory MODEL [| explore
# bounds, for both, in place of "-k 2 --max-runs $runs": a break that needs
# more preemptions or stale reads than the default bounds reach]]
table='
docs/examples/bh-cancel-slot.scn|bh-fifo|a cancelled, re-scheduled BH keeps its slot: B runs before A
docs/examples/bh-delete.scn|bh-deleted-runs|a BH deleted while pending never runs
docs/examples/bh-order.scn|bh-fifo|BHs run newest first by first enqueue, merged once
docs/examples/coroutines.scn|co-mutex-lifo co-wake-caller-thread|a CoMutex goes to its oldest waiter; a wake from another thread runs the coroutine in the home thread
docs/examples/co-schedule-order.scn|co-schedule-lifo|coroutines scheduled one after the other run in that order
docs/examples/co-iothread.scn|co-reschedule-stays co-wake-caller-thread|a coroutine rescheduled into the context of an iothread runs in that thread; a wake from the home thread comes back through the BH of that context
docs/examples/co-mutex-iothread.scn|co-mutex-wake-here co-mutex-lifo co-wake-caller-thread|a CoMutex contended from two contexts goes to its oldest waiter, woken in the thread of its own context
docs/examples/cross-thread-oneshots.scn|notify-poll-deaf|a cross-thread oneshot wakes the blocked aio_poll (notify protocol)
docs/examples/wake-not-by-timer.scn|notify-poll-deaf|the oneshot, not the next tick of an unrelated timer, ends the wait
docs/examples/fd-remove-in-dispatch.scn|fd-deleted-called|a handler removed mid-dispatch is not called in that round
docs/examples/fd-replace.scn|fd-replace-stale|a re-registered handler runs its new callback from the next dispatch
docs/examples/main-loop.scn|main-loop-bare-notify|qemu_notify_event makes the next main_loop_wait return, even with nobody waiting
docs/examples/nested-poll.scn|bh-fifo|a nested aio_poll runs the outer poll'"'"'s remaining BHs first
docs/examples/thread-pool.scn|notify-poll-deaf|a pool completion wakes the home thread'"'"'s aio_poll
docs/examples/timer-periodic.scn|timer-late|a self re-arming timer fires at each deadline, never late
docs/examples/timer-rearm-wakes.scn|timer-mod-silent|a timer moved earlier by another thread wakes the waiter on time
docs/examples/timer-ties.scn|timer-ties-lifo|timers with equal deadlines fire in arming order
corpus/regressions/bug2-main-loop.scn|notify-bug2|aio_notify never skips event_notifier_set (BUG2)
corpus/regressions/bh-delete-then-poll.scn|bh-guard-uaf|a BH that deletes itself and polls is not freed while its callback runs
corpus/regressions/bh-guard-nested.scn|bh-guard-skip|a BH taken to run runs, whatever its reentrancy guard
corpus/regressions/fd-poll-ready-nested.scn|fd-poll-reentry|a nested poll does not re-enter a running io_poll_ready
corpus/regressions/poll-ready-stranded-order.scn|fd-poll-stranded|a nested poll dispatches a handler an outer poll found ready: registration order holds
corpus/regressions/poll-ready-stranded-bh.scn|fd-poll-stranded|a BH waiting for a handler an outer busy-poll found ready gets it (no livelock)
corpus/regressions/poll-ready-nested-sibling.scn|fd-poll-stranded|a handler waiting for a sibling an outer busy-poll found ready gets it
corpus/regressions/signal-sigbus-siginfo.scn|signals-raw-siginfo signals-siginfo-unzeroed|an SA_SIGINFO handler gets a siginfo_t, not the raw signalfd record, and nothing but the converted fields
corpus/regressions/timer-host-far-deadline.scn|timer-deadline-overflow timer-timeout-ms-overflow|a deadline far past a clock before the epoch saturates, no overflow
corpus/regressions/timer-negative-lifo.scn|timer-negative-fifo|negative expiries go first, LIFO at the head: C, B, A
corpus/regressions/spin-wasted-wakeups.scn|notify-accept-missing notifier-never-cleared timeout-zero|a blocking aio_poll returns only when something could have woken it (spin)
corpus/regressions/signal-main-loop-only.scn|signals-deferred-bh|a signal handler runs only from main_loop_wait, never from aio_poll
corpus/regressions/spin-main-loop.scn|notifier-never-cleared timeout-zero|a blocking main_loop_wait returns only when something could have woken it (spin)
corpus/regressions/signal-rules.scn|signals-twice signals-drop-repeat signals-batch-lifo|one handler call per pending signal, none lost, lowest number first
corpus/regressions/timer-query-expired.scn|timer-expired-early|timer_expired() is true once the clock reaches the expiry (the check query oracle)
corpus/regressions/clock-disabled-deadline.scn|clock-disabled-deadline|the timers of a disabled clock set no deadline and do not run until it is enabled
corpus/regressions/clock-disable-waits.scn|clock-disable-nowait timer-done-ev-reset|no timer of a clock fires after qemu_clock_enable(false) returned, and it returns once no pass runs
corpus/regressions/timer-del-next.scn|timer-stale-head|a timer deleted by an earlier callback of the same pass never fires
corpus/regressions/pool-nested-wait.scn|pool-bh-unscheduled|a completion callback waiting for another finished request returns (the completion BH runs from the nested poll)
corpus/regressions/fd-write-not-readable.scn|fd-write-on-read|a write handler runs when its fd is writable, never because it is readable
corpus/regressions/bh-cancel-races-schedule.scn|bh-cancel-unordered|a cancel racing a cross-thread schedule and a take never loses the pending bit
corpus/regressions/bh-nested-outer-oneshot.scn|bh-crash|a nested aio_poll from a BH callback runs the oneshot its outer poll still holds (the planted abort is on that path)
corpus/regressions/fd-watch-races-readd.scn|fd-upgrade-unlocked|the fd monitor watches exactly the fds with a registered handler, whichever thread registered last (the rule the epoll-upgrade fix in QEMU restored)
corpus/regressions/co-reschedule-queues-late.scn|co-reschedule-stays|a coroutine rescheduled home from an iothread runs in the home thread, and queues there only when the iothread'"'"'s BH runs: a schedule made after its move began may run first
corpus/regressions/main-loop-cross-thread-wake.scn|mb-ctx-prepare mb-notify|a cross-thread oneshot wakes main_loop_wait through glib prepare (Dekker pair, c11)|c11
corpus/regressions/co-queue-reuse.scn|co-queue-stale-tail|a CoQueue emptied and used again restarts every waiter: a restarted coroutine that never runs is a lost wake-up
corpus/regressions/loop-queries-live.scn|bh-name-dropped|qemu_bh_get_name() of a live BH is the name it was made with, from the home thread and from inside a BH
corpus/regressions/pool-cancel-queued.scn|pool-cancel-stale-tail|a queued request cancelled completes with -ECANCELED before the cancel returns, and the queue still serves every later request
corpus/regressions/pool-cancel-alone.scn|pool-cancel-unscheduled|a queued request cancelled with nothing else in flight still completes: the cancel schedules the completion BH
corpus/regressions/poll-disabled-by-plain-fd.scn|poll-mode-ignores-disable poll-loop-polls-nothing poll-round-skips-live|no busy-polling while a handler without io_poll is on the context (poll_disable_cnt); a busy-wait finds a ready handler in its first round, and polls every handler in every round
corpus/regressions/aio-wait-remote.scn|aio-wait-uncounted|AIO_WAIT_WHILE from the main thread on an iothread'"'"'s context wakes when the iothread clears its condition and kicks
corpus/regressions/poll-suppress-sleep.scn|poll-mode-never-ends|polling mode ends (io_poll_end, then a last look) before aio_poll sleeps: a request that came with notifications off is not lost
corpus/regressions/poll-suppress-main-loop.scn|poll-mode-kept-for-glib poll-end-look-dropped|the main loop'"'"'s prepare ends the context'"'"'s polling mode before glib'"'"'s poll sleeps, and dispatches what its last look found
corpus/regressions/poll-suppress-prepare-look.scn|poll-end-look-dropped|a request the last look of the main loop'"'"'s prepare finds is dispatched: glib'"'"'s poll does not sleep on it
corpus/regressions/timer-host-far-deadline.scn|timer-free-armed|a timer freed while armed leaves its list (QEMU'"'"'s timer_free() deletes it first)
corpus/regressions/bh-idle-runs.scn|bh-idle-dropped|an idle BH scheduled runs: a blocking poll sleeps at most 10 ms while one is pending
corpus/regressions/main-loop-timeout-rounds-up.scn|timeout-ms-rounds-down|the GSource path rounds a timeout up to the ms: the main loop never wakes before a timer is due, nor spins on 0 ms timeouts until it is
corpus/regressions/fd-remove-writer-in-dispatch.scn|fd-deleted-writer-called|a write handler removed by an earlier callback of its round is not called
corpus/regressions/nested-blocking-poll-slice.scn|bh-timeout-skips-slices|a nested blocking aio_poll does not sleep while an outer poll'"'"'s slice holds a scheduled BH
corpus/regressions/timer-heap-order.scn|timer-late timer-expire-lt|eight timers of one list, armed out of order, moved, anticipated and deleted, each fire at their own deadline, never late
corpus/regressions/timer-heap-sift.scn|timer-heap-parent|twelve timers of one list, due at once, fire in deadline order (arm order among equals) whatever order they were armed in
corpus/regressions/c11-timer-rshape.scn|qemu-notify-accept wmb-notify|a timer armed now by another thread and notified wakes the waiter (the R shape: aio_notify_accept clears notified with an exchange, and aio_notify orders the timer list before notified, c11)|c11|-k 3 --delays 2 --order iterative --max-runs 40000
'

ok() { pass=$((pass + 1)); echo "ok     $1"; }
bad() { fail=$((fail + 1)); echo "FAIL   $1"; }

# breaks VARIANT SCN [REPORT_TEXT]: prints what found a failure, or
# nothing.  A failure is exit 1 (a verdict) or, given REPORT_TEXT, a
# sanitizer's report containing it (its exit status is the sanitizer's).
breaks() {
    v=$bin/qloop-$1
    text=${3:-}
    for how in explore random pct; do
        case $how in
            explore) "$v" explore "$2" $bounds -o /dev/null $mem ;;
            random) "$v" run "$2" --runs $seeds -o /dev/null $mem ;;
            pct) "$v" run "$2" --runs $seeds --pct 3 -o /dev/null $mem ;;
        esac >"$tmp" 2>"$tmp.err"
        status=$?
        if [ -n "$text" ] && grep -qF "$text" "$tmp.err"; then
            echo "$how: the sanitizer reports '$text'"; return
        fi
        [ $status = 1 ] || continue
        case $how in
            explore) echo "explore, schedule $(sed -n 's/^explored ([a-z]*) \([0-9]*\) schedules.*/\1/p' "$tmp")" ;;
            random) echo "random walk, $(sed -n 's/^\(seed [0-9]*\).*/\1/p' "$tmp" | head -1)" ;;
            pct) echo "PCT 3, $(sed -n 's/^\(seed [0-9]*\).*/\1/p' "$tmp" | head -1)" ;;
        esac
        return
    done
}

# sanitized NAME: the build has that sanitizer (address, undefined).
sanitized() {
    case ",$sanitizers," in *",$1,"*) return 0 ;; esac
    return 1
}

tmp=$(mktemp "${TMPDIR:-/tmp}/qloop-breaks.XXXXXX")
trap 'rm -f "$tmp" "$tmp.err"' EXIT

for scn in "$src"/docs/examples/*.scn "$src"/corpus/regressions/*.scn; do
    rel=${scn#"$src"/}
    echo "$table" | grep -q "^$rel|" || bad "$rel: not in the table (name its rule and a variant that breaks it)"
done

echo "$table" | while IFS='|' read -r rel variant rule model xbounds; do
    [ -n "$rel" ] || continue
    echo "$rel|$variant|$rule|$model|$xbounds"
done > "$tmp.list"

while IFS='|' read -r rel variant rule model xbounds; do
    scn=$src/$rel
    mem=
    [ -n "$model" ] && mem="--memory $model"
    bounds=${xbounds:-"-k 2 --max-runs $runs"}
    # shellcheck disable=SC2086
    "$bin/qloop" explore "$scn" $bounds -o /dev/null $mem >"$tmp" 2>&1
    if [ $? != 0 ]; then
        bad "$rel: fails on the production core"; sed 's/^/       /' "$tmp" | head -5
        continue
    fi
    if [ "$variant" = - ]; then
        known=$((known + 1)); echo "DEFECT $rel: no variant breaks '$rule' (known)"
        continue
    fi
    for v in $variant; do
        if [ ! -x "$bin/qloop-$v" ]; then
            bad "$rel: variant qloop-$v is not built"
            continue
        fi
        report=$src/${rel%.scn}.$v.report
        need= text=
        [ -f "$report" ] && read -r need text < "$report"
        if [ -n "$need" ] && ! sanitized "$need"; then
            skipped=$((skipped + 1))
            echo "skip   $rel: $v breaks it only under the $need sanitizer (not in this build)"
            continue
        fi
        how=$(breaks "$v" "$scn" "$text")
        if [ -n "$how" ]; then
            ok "$rel: '$rule' broken by $v ($how)"
        else
            bad "DEFECT $rel: $v does not make it fail; '$rule' is not tested"
        fi
    done
done < "$tmp.list"
rm -f "$tmp.list"

echo "$pass breaks found, $fail failed, $skipped need a sanitizer, $known known defects"
[ "$fail" -eq 0 ]
