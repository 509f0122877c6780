/*
 * tests/test-model-co.c — the reference model's coroutine rules
 * (harness/model-co.c), fed by hand: each rule accepts what QEMU does and
 * names what it forbids.
 */
#include <glib.h>
#include <string.h>

#include "../harness/model-co.h"

enum { HOME = 1, OTHER = 2, IO = 3 };
enum { CTX_HOME = SCN_CTX_HOME, CTX_IO = SCN_CTX_HOME + 1 };

static Scenario scn;

static CoModel *model_with(unsigned coros)
{
    CoModel *m;

    memset(&scn, 0, sizeof(scn));
    scn.object_count[SCN_OBJ_CORO] = (uint8_t)coros;
    for (unsigned i = 0; i < coros; i++) {
        g_snprintf(scn.objects[SCN_OBJ_CORO][i].name, SCN_NAME_MAX, "C%u", i);
    }
    scn.object_count[SCN_OBJ_IOTHREAD] = 1;
    g_strlcpy(scn.objects[SCN_OBJ_IOTHREAD][0].name, "io", SCN_NAME_MAX);
    m = co_model_new(&scn, HOME);
    co_model_context_thread(m, CTX_IO, IO);
    return m;
}

/* A run in `thread`, whose current context is ctx; then it switches away. */
static const char *runs_in(CoModel *m, unsigned co, uint32_t thread, int ctx,
                           int64_t now_ns)
{
    const char *why = co_model_runs(m, co, thread, ctx, now_ns);

    co_model_leaves(m, co);
    return why;
}

static const char *runs(CoModel *m, unsigned co, uint32_t thread,
                        int64_t now_ns)
{
    return runs_in(m, co, thread, thread == IO ? CTX_IO : CTX_HOME, now_ns);
}

static void assert_violation(const char *why, const char *part)
{
    g_assert_nonnull(why);
    g_assert_nonnull(strstr(why, part));
}

/* A schedule whose call returned before anything else happened. */
static void scheduled(CoModel *m, unsigned co, unsigned ctx)
{
    co_model_schedule_end(m, co, co_model_schedule_begin(m, co, ctx));
}

static void test_permits(void)
{
    CoModel *m = model_with(1);

    /* Entered: runs once; a second run without a wake is forbidden. */
    co_model_enter(m, 0, CTX_HOME);
    g_assert_null(runs(m, 0, HOME, 0));
    assert_violation(runs(m, 0, HOME, 0), "nothing entered");
    /* Scheduled: runs in the home thread only. */
    scheduled(m, 0, CTX_HOME);
    assert_violation(runs(m, 0, OTHER, 0), "not in the thread of its "
                     "context 'home'");
    co_model_free(m);
}

static void test_sleep(void)
{
    CoModel *m = model_with(1);

    co_model_sleep(m, 0, 1000);
    assert_violation(runs(m, 0, HOME, 999), "before its deadline");
    g_assert_null(runs(m, 0, HOME, 1000));
    co_model_free(m);
}

static void test_schedule_order(void)
{
    CoModel *m = model_with(3);
    uint64_t t0, t2;

    scheduled(m, 0, CTX_HOME);
    scheduled(m, 1, CTX_HOME);
    assert_violation(runs(m, 1, HOME, 0), "before 'C0'");
    g_assert_null(runs(m, 0, HOME, 0));
    g_assert_null(runs(m, 1, HOME, 0));
    /* Overlapping calls (from two threads) may land either way. */
    t0 = co_model_schedule_begin(m, 0, CTX_HOME);
    t2 = co_model_schedule_begin(m, 2, CTX_HOME);
    co_model_schedule_end(m, 0, t0);
    co_model_schedule_end(m, 2, t2);
    g_assert_null(runs(m, 2, HOME, 0));
    g_assert_null(runs(m, 0, HOME, 0));
    co_model_free(m);
}

static void test_mutex(void)
{
    CoModel *m = model_with(3);

    co_model_lock_call(m, 0, HOME);
    g_assert_null(co_model_locked(m, 0));
    co_model_lock_call(m, 1, HOME);
    co_model_lock_call(m, 2, HOME);
    assert_violation(co_model_locked(m, 1), "while 'C0' holds it");
    co_model_unlock(m, 0);
    /* Handed to C1, the oldest waiter: C2 taking it is LIFO. */
    assert_violation(co_model_locked(m, 2), "owed it to 'C1'");
    g_assert_null(co_model_locked(m, 1));
    g_assert_null(runs(m, 1, HOME, 0));
    co_model_unlock(m, 1);
    g_assert_null(co_model_locked(m, 2));
    co_model_unlock(m, 2);
    /* Free again: an acquisition without waiting is fine. */
    co_model_lock_call(m, 0, HOME);
    g_assert_null(co_model_locked(m, 0));
    co_model_free(m);
}

static void test_queue(void)
{
    CoModel *m = model_with(2);

    co_model_queue_wait(m, 0);
    assert_violation(runs(m, 0, HOME, 0), "nothing entered");
    co_model_restart_begin(m);
    co_model_restart_end(m);
    g_assert_null(runs(m, 0, HOME, 0));
    /* Not in the queue: a restart does not permit it. */
    assert_violation(runs(m, 1, HOME, 0), "nothing entered");
    co_model_free(m);
}

/*
 * A coroutine queued from another thread while a restart runs (the
 * scenario's race: a CoQueue is its caller's to lock) may be restarted by
 * it, or stay queued, unowed; one queued after the restart returned is
 * not restarted by it.
 */
static void test_queue_restart_race(void)
{
    CoModel *m = model_with(3);
    char why[160];
    const int64_t end = INT64_MAX / 2;

    co_model_restart_begin(m);
    co_model_queue_wait(m, 0);          /* during: restarted, as it happens */
    co_model_queue_wait(m, 1);          /* during: left queued */
    co_model_restart_end(m);
    co_model_queue_wait(m, 2);          /* after */
    g_assert_false(co_model_owed(m, end, 1, why, sizeof(why)));
    g_assert_null(runs(m, 0, HOME, 0));
    assert_violation(runs(m, 2, HOME, 0), "nothing entered");
    /* The next restart restarts the one left queued, and not the one that
     * ran (it is no longer in the queue): owed until it runs. */
    co_model_restart_begin(m);
    co_model_restart_end(m);
    g_assert_true(co_model_owed(m, end, 1, why, sizeof(why)));
    g_assert_nonnull(strstr(why, "'C1' was restarted"));
    g_assert_null(runs(m, 1, HOME, 0));
    g_assert_null(runs(m, 2, HOME, 0));
    g_assert_false(co_model_owed(m, end, 1, why, sizeof(why)));
    co_model_free(m);
}

/* What every thread waiting leaves owed: a lost wake-up, not the
 * scenario's own wait. */
static void test_owed(void)
{
    CoModel *m = model_with(3);
    char why[160];
    const int64_t end = INT64_MAX / 2;

    g_assert_false(co_model_owed(m, end, 1, why, sizeof(why)));
    /* Waiting in the queue is the scenario's wait; restarted, it is owed
     * until it runs. */
    co_model_queue_wait(m, 0);
    g_assert_false(co_model_owed(m, end, 1, why, sizeof(why)));
    co_model_restart_begin(m);
    co_model_restart_end(m);
    g_assert_true(co_model_owed(m, end, 1, why, sizeof(why)));
    g_assert_nonnull(strstr(why, "'C0' was restarted from the CoQueue"));
    g_assert_null(runs(m, 0, HOME, 0));
    g_assert_false(co_model_owed(m, end, 1, why, sizeof(why)));
    /* Scheduled into its context and not run: owed. */
    scheduled(m, 1, CTX_IO);
    g_assert_true(co_model_owed(m, end, 1, why, sizeof(why)));
    g_assert_null(runs(m, 1, IO, 0));
    /* Asleep: owed on an enabled clock before the end of time, not on a
     * disabled or unknown one, nor past the end. */
    co_model_sleep(m, 2, 1000);
    g_assert_true(co_model_owed(m, end, 1, why, sizeof(why)));
    g_assert_false(co_model_owed(m, end, 0, why, sizeof(why)));
    g_assert_false(co_model_owed(m, end, -1, why, sizeof(why)));
    g_assert_false(co_model_owed(m, 1000, 1, why, sizeof(why)));
    g_assert_null(runs(m, 2, HOME, 1000));
    /* The mutex unlocked to a waiter that never got it. */
    co_model_lock_call(m, 0, HOME);
    g_assert_null(co_model_locked(m, 0));
    co_model_lock_call(m, 1, HOME);
    co_model_unlock(m, 0);
    g_assert_true(co_model_owed(m, end, 1, why, sizeof(why)));
    g_assert_nonnull(strstr(why, "'C1' waiting"));
    g_assert_null(co_model_locked(m, 1));
    g_assert_false(co_model_owed(m, end, 1, why, sizeof(why)));
    co_model_free(m);
}

/* An iothread's context: a coroutine scheduled or rescheduled into it runs
 * in that thread, with that context current; never in two threads. */
static void test_contexts(void)
{
    CoModel *m = model_with(2);

    scheduled(m, 0, CTX_IO);
    assert_violation(runs(m, 0, HOME, 0), "context 'io' (thread 3)");
    co_model_schedule_begin(m, 0, CTX_IO);
    assert_violation(runs_in(m, 0, IO, CTX_HOME, 0),
                     "qemu_get_current_aio_context() there is 'home'");
    co_model_schedule_begin(m, 0, CTX_IO);
    g_assert_null(co_model_runs(m, 0, IO, CTX_IO, 0));
    /* Rescheduled home: back in the home thread, with no order against
     * schedules around the call (the old context's BH makes it later). */
    co_model_reschedule(m, 0, CTX_HOME);
    scheduled(m, 1, CTX_HOME);
    g_assert_null(runs(m, 0, HOME, 0));
    g_assert_null(runs(m, 1, HOME, 0));
    /* Entered while it runs elsewhere: two threads at once. */
    co_model_enter(m, 0, CTX_HOME);
    g_assert_null(co_model_runs(m, 0, HOME, CTX_HOME, 0));
    co_model_enter(m, 0, CTX_IO);
    assert_violation(co_model_runs(m, 0, IO, CTX_IO, 0),
                     "while it still ran in thread 1");
    co_model_free(m);
}

/*
 * C0 scheduled into io from home runs there and reschedules itself home
 * before home's aio_co_schedule() call returns; home then schedules C1.
 * C0 queues at home only when io's BH runs, maybe after C1: the return
 * of the first call must not order C0's later move.
 */
static void test_reschedule_inside_schedule(void)
{
    CoModel *m = model_with(2);
    uint64_t t0 = co_model_schedule_begin(m, 0, CTX_IO);

    g_assert_null(co_model_runs(m, 0, IO, CTX_IO, 0));
    co_model_reschedule(m, 0, CTX_HOME);
    co_model_schedule_end(m, 0, t0);
    scheduled(m, 1, CTX_HOME);
    g_assert_null(runs(m, 1, HOME, 0));
    g_assert_null(runs(m, 0, HOME, 0));
    /* A schedule that returned before the reschedule began still goes
     * first: C1 queued before C0's move was asked for. */
    scheduled(m, 1, CTX_HOME);
    t0 = co_model_schedule_begin(m, 0, CTX_IO);
    g_assert_null(co_model_runs(m, 0, IO, CTX_IO, 0));
    co_model_reschedule(m, 0, CTX_HOME);
    co_model_schedule_end(m, 0, t0);
    assert_violation(runs(m, 0, HOME, 0), "before 'C1'");
    co_model_free(m);
}

/* Order is per context: each drains its own batch. */
static void test_schedule_order_per_context(void)
{
    CoModel *m = model_with(2);

    scheduled(m, 0, CTX_HOME);
    scheduled(m, 1, CTX_IO);
    g_assert_null(runs(m, 1, IO, 0));
    g_assert_null(runs(m, 0, HOME, 0));
    co_model_free(m);
}

/* A CoMutex handed across contexts: the waiter in the iothread gets it,
 * and runs there. */
static void test_mutex_across_contexts(void)
{
    CoModel *m = model_with(2);

    co_model_enter(m, 0, CTX_HOME);
    g_assert_null(runs(m, 0, HOME, 0));
    co_model_lock_call(m, 0, HOME);
    g_assert_null(co_model_locked(m, 0));
    co_model_schedule_begin(m, 1, CTX_IO);
    g_assert_null(co_model_runs(m, 1, IO, CTX_IO, 0));
    co_model_lock_call(m, 1, HOME);
    co_model_leaves(m, 1);
    co_model_unlock(m, 0);
    g_assert_null(co_model_locked(m, 1));
    /* Woken in the unlocker's thread: wrong. */
    assert_violation(runs(m, 1, HOME, 0), "context 'io'");
    co_model_free(m);
}

/* Lock calls from two threads: FIFO only where the order is sure. */
static void test_mutex_fifo_across_threads(void)
{
    CoModel *m = model_with(3);

    co_model_lock_call(m, 0, HOME);
    g_assert_null(co_model_locked(m, 0));
    co_model_lock_call(m, 1, IO);
    co_model_lock_call(m, 2, HOME);
    co_model_unlock(m, 0);
    /* C1 may not have queued yet when C2 did: either may get it. */
    g_assert_null(co_model_locked(m, 2));
    co_model_unlock(m, 2);
    g_assert_null(co_model_locked(m, 1));
    co_model_unlock(m, 1);

    co_model_lock_call(m, 0, HOME);
    g_assert_null(co_model_locked(m, 0));
    co_model_lock_call(m, 1, IO);
    co_model_step(m, IO);       /* the iothread went on: C1 is queued */
    co_model_lock_call(m, 2, HOME);
    co_model_unlock(m, 0);
    assert_violation(co_model_locked(m, 2), "owed it to 'C1'");
    co_model_free(m);
}

/* A lock call that the core had not yet queued when another thread's
 * caller took the mutex: it may get the handoff before a later waiter. */
static void test_mutex_call_in_flight(void)
{
    CoModel *m = model_with(3);

    co_model_lock_call(m, 1, IO);           /* not queued yet */
    co_model_lock_call(m, 0, HOME);
    g_assert_null(co_model_locked(m, 0));   /* C0 got there first */
    co_model_lock_call(m, 2, OTHER);
    co_model_step(m, OTHER);                /* C2 surely queued */
    co_model_unlock(m, 0);
    g_assert_null(co_model_locked(m, 1));   /* C1 called before C2 */
    co_model_unlock(m, 1);
    g_assert_null(co_model_locked(m, 2));
    co_model_free(m);
}

/*
 * qemu_co_enter_next(): the oldest waiter is the one to enter; none while
 * a restart may have taken some.  The one entered runs on an enter
 * permit, and is owed until it does.
 */
static void test_enter_next(void)
{
    CoModel *m = model_with(3);
    char why[160];
    const int64_t end = INT64_MAX / 2;

    g_assert_cmpint(co_model_queue_head(m), ==, -1);
    co_model_queue_wait(m, 1);
    co_model_queue_wait(m, 0);
    g_assert_cmpint(co_model_queue_head(m), ==, 1);    /* FIFO, not index */
    co_model_enter_next(m, 1);
    g_assert_cmpint(co_model_queue_head(m), ==, 0);
    g_assert_true(co_model_owed(m, end, 1, why, sizeof(why)));
    g_assert_nonnull(strstr(why, "'C1' was entered"));
    /* Entered the wrong one: it had no permit. */
    assert_violation(runs(m, 0, HOME, 0), "nothing entered");
    g_assert_null(runs(m, 1, HOME, 0));
    co_model_free(m);

    /* A restart under way, or one that raced a queue wait: unknown. */
    m = model_with(3);
    co_model_queue_wait(m, 0);
    co_model_restart_begin(m);
    g_assert_cmpint(co_model_queue_head(m), ==, -2);
    co_model_queue_wait(m, 1);          /* raced the restart */
    co_model_restart_end(m);
    g_assert_cmpint(co_model_queue_head(m), ==, -2);
    co_model_queue_wait(m, 2);
    g_assert_cmpint(co_model_queue_head(m), ==, -2);
    co_model_free(m);
}

/*
 * The mutex taken back inside a core call (a queue wait or an enter_next
 * given it): no FIFO order either way, an unlock with only such callers
 * hands nothing over, and one of them waiting behind a holder is owed
 * nothing — but restarted with the mutex free, it is.
 */
static void test_mutex_unordered(void)
{
    CoModel *m = model_with(3);
    char why[160];
    const int64_t end = INT64_MAX / 2;

    /* C0 holds; C1 waits in the queue given the mutex (core form). */
    co_model_lock_call(m, 0, HOME);
    g_assert_null(co_model_locked(m, 0));
    co_model_queue_wait(m, 1);
    co_model_lock_call_unordered(m, 1);
    /* C0 unlocks: C1 has not asked yet, nothing is handed over. */
    co_model_unlock(m, 0);
    g_assert_false(co_model_owed(m, end, 1, why, sizeof(why)));
    /* C2 takes the free mutex; then C1 is restarted and waits behind. */
    co_model_lock_call(m, 2, HOME);
    g_assert_null(co_model_locked(m, 2));
    co_model_restart_begin(m);
    co_model_restart_end(m);
    g_assert_false(co_model_owed(m, end, 1, why, sizeof(why)));
    /* C2 unlocks: C1 gets it, whatever order the calls came in. */
    co_model_unlock(m, 2);
    g_assert_null(co_model_locked(m, 1));
    g_assert_null(runs(m, 1, HOME, 0));
    co_model_unlock(m, 1);
    co_model_free(m);

    /* Restarted while the mutex is free: it would take it and run. */
    m = model_with(2);
    co_model_queue_wait(m, 0);
    co_model_lock_call_unordered(m, 0);
    co_model_restart_begin(m);
    co_model_restart_end(m);
    g_assert_true(co_model_owed(m, end, 1, why, sizeof(why)));
    g_assert_nonnull(strstr(why, "'C0' was restarted"));
    co_model_free(m);

    /* An ordered waiter behind an unordered one: the unordered one may
     * get the mutex first, and the other is then owed it in turn. */
    m = model_with(3);
    co_model_lock_call(m, 0, HOME);
    g_assert_null(co_model_locked(m, 0));
    co_model_lock_call_unordered(m, 1);
    co_model_lock_call(m, 2, OTHER);
    co_model_unlock(m, 0);
    g_assert_null(co_model_locked(m, 1));
    co_model_unlock(m, 1);
    g_assert_true(co_model_owed(m, end, 1, why, sizeof(why)));
    g_assert_nonnull(strstr(why, "'C2' waiting"));
    g_assert_null(co_model_locked(m, 2));
    co_model_free(m);
}

/* thread_pool_submit_co(): its completion permits a run, not owed here. */
static void test_pool_wait(void)
{
    CoModel *m = model_with(1);
    char why[160];

    co_model_pool_wait(m, 0);
    g_assert_false(co_model_owed(m, INT64_MAX / 2, 1, why, sizeof(why)));
    g_assert_null(runs(m, 0, HOME, 0));
    assert_violation(runs(m, 0, HOME, 0), "nothing entered");
    co_model_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/model-co/permits", test_permits);
    g_test_add_func("/model-co/sleep", test_sleep);
    g_test_add_func("/model-co/schedule-order", test_schedule_order);
    g_test_add_func("/model-co/mutex", test_mutex);
    g_test_add_func("/model-co/queue", test_queue);
    g_test_add_func("/model-co/queue-restart-race", test_queue_restart_race);
    g_test_add_func("/model-co/owed", test_owed);
    g_test_add_func("/model-co/enter-next", test_enter_next);
    g_test_add_func("/model-co/mutex-unordered", test_mutex_unordered);
    g_test_add_func("/model-co/pool-wait", test_pool_wait);
    g_test_add_func("/model-co/contexts", test_contexts);
    g_test_add_func("/model-co/reschedule-inside-schedule",
                    test_reschedule_inside_schedule);
    g_test_add_func("/model-co/schedule-order-per-context",
                    test_schedule_order_per_context);
    g_test_add_func("/model-co/mutex-across-contexts",
                    test_mutex_across_contexts);
    g_test_add_func("/model-co/mutex-fifo-across-threads",
                    test_mutex_fifo_across_threads);
    g_test_add_func("/model-co/mutex-call-in-flight",
                    test_mutex_call_in_flight);
    return g_test_run();
}
