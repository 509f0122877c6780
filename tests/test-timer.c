/*
 * tests/test-timer.c — clocks, timer lists and timers: semantics.md
 * "Timers", aio_compute_timeout(), and QEMU's /aio/timer/schedule.
 *
 * Method: most rules are checked on a private QEMUTimerListGroup whose
 * notify callback counts calls, run with timerlistgroup_run_timers(), so
 * each pass and each notification is visible.  Expired timers are armed
 * relative to one snapshot `now` read before arming, so they are all
 * already due when the pass reads the clock.  The rest runs through
 * aio_poll() on a fresh AioContext (ctx->tlg).  Timers that must wait are
 * short (10-20 ms) on the host clock, and the test checks the clock after;
 * nothing sleeps.  "Reads the clock once" is checked by a callback that
 * spins on the clock until a later timer is due, which must then not fire
 * in the same pass.
 */
#include <glib.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "qloop-test.h"

#define MS(n) ((int64_t)(n) * SCALE_MS)

typedef struct {
    int count;
    QEMUClockType last_type;
} NotifyCount;

static void count_notify(void *opaque, QEMUClockType type)
{
    NotifyCount *nc = opaque;

    nc->count++;
    nc->last_type = type;
}

typedef struct TimerProbe {
    const char *name;
    QEMUTimer *timer;
    int fired;
    int64_t fired_ns;           /* clock read in the callback */
    int rearm_left;             /* re-arms still to do */
    int64_t rearm_at_ns;        /* where to re-arm */
    int64_t spin_until_ns;      /* busy-wait in the callback until then */
} TimerProbe;

static void probe_cb(void *opaque)
{
    TimerProbe *p = opaque;
    QEMUClockType type = timerlist_get_clock(p->timer->timer_list);

    p->fired++;
    p->fired_ns = qemu_clock_get_ns(type);
    qt_log(p->name);
    if (p->spin_until_ns) {
        /* Bounded: the target is a few ms ahead. */
        qt_spin_until_ns(type, p->spin_until_ns);
    }
    if (p->rearm_left > 0) {
        p->rearm_left--;
        timer_mod_ns(p->timer, p->rearm_at_ns);
    }
}

static void noop_cb(void *opaque)
{
    (void)opaque;
}

static bool notified(AioContext *ctx)
{
    return __atomic_load_n(&ctx->notified, __ATOMIC_SEQ_CST);
}

/* ---- clocks ---------------------------------------------------------------- */

/* Four clock types, one list per type per group; the right list per timer. */
static void test_four_clocks(void)
{
    AioContext *ctx = aio_context_new(&error_abort);
    TimerProbe p = { .name = "t" };

    for (int type = 0; type < QEMU_CLOCK_MAX; type++) {
        g_assert_nonnull(ctx->tlg.tl[type]);
        g_assert_cmpint(timerlist_get_clock(ctx->tlg.tl[type]), ==, type);
        for (int other = 0; other < type; other++) {
            g_assert_true(ctx->tlg.tl[type] != ctx->tlg.tl[other]);
        }
    }
    g_assert_cmpint(QEMU_CLOCK_REALTIME, ==, 0);
    g_assert_cmpint(QEMU_CLOCK_VIRTUAL, ==, 1);
    g_assert_cmpint(QEMU_CLOCK_HOST, ==, 2);
    g_assert_cmpint(QEMU_CLOCK_VIRTUAL_RT, ==, 3);
    g_assert_cmpint(SCALE_MS, ==, 1000000);
    g_assert_cmpint(SCALE_US, ==, 1000);
    g_assert_cmpint(SCALE_NS, ==, 1);

    /* A timer of each type lands in its own list and fires from aio_poll. */
    for (int type = 0; type < QEMU_CLOCK_MAX; type++) {
        p.timer = aio_timer_new(ctx, type, SCALE_NS, probe_cb, &p);
        g_assert_true(p.timer->timer_list == ctx->tlg.tl[type]);
        timer_mod_ns(p.timer, qemu_clock_get_ns(type));
        for (int other = 0; other < QEMU_CLOCK_MAX; other++) {
            g_assert_cmpint(timerlist_has_timers(ctx->tlg.tl[other]), ==,
                            other == type);
        }
        g_assert_true(aio_poll(ctx, false));
        g_assert_cmpint(p.fired, ==, type + 1);
        timer_free(p.timer);
    }
    qt_log_reset();

    /* HOST is wall-clock time (on the host; simulated time has its own
     * epoch); the others never go backwards. */
    if (!QT_SIM) {
        g_assert_cmpint(qemu_clock_get_ns(QEMU_CLOCK_HOST) / 1000 -
                        g_get_real_time(), <, G_USEC_PER_SEC);
        g_assert_cmpint(g_get_real_time() -
                        qemu_clock_get_ns(QEMU_CLOCK_HOST) / 1000, <,
                        G_USEC_PER_SEC);
    }
    for (int type = 0; type < QEMU_CLOCK_MAX; type++) {
        if (type != QEMU_CLOCK_HOST) {
            int64_t a = qemu_clock_get_ns(type);
            int64_t b = qemu_clock_get_ns(type);

            g_assert_cmpint(b, >=, a);
        }
    }
    g_assert_cmpint(qemu_clock_get_ms(QEMU_CLOCK_REALTIME), >, 0);
    aio_context_unref(ctx);
}

/* ---- ordering ---------------------------------------------------------------- */

/* FIFO on ties: q@-10, p@-10, r@-20 fire r, q, p. */
static void test_fifo_ties(void)
{
    NotifyCount nc = { 0 };
    QEMUTimerListGroup tlg;
    TimerProbe q = { .name = "q" }, p = { .name = "p" }, r = { .name = "r" };
    int64_t now;

    qt_log_reset();
    timerlistgroup_init(&tlg, count_notify, &nc);
    q.timer = timer_new_full(&tlg, QEMU_CLOCK_REALTIME, SCALE_NS, 0, probe_cb, &q);
    p.timer = timer_new_full(&tlg, QEMU_CLOCK_REALTIME, SCALE_NS, 0, probe_cb, &p);
    r.timer = timer_new_full(&tlg, QEMU_CLOCK_REALTIME, SCALE_NS, 0, probe_cb, &r);
    now = qemu_clock_get_ns(QEMU_CLOCK_REALTIME);
    timer_mod_ns(q.timer, now - 10);
    timer_mod_ns(p.timer, now - 10);
    timer_mod_ns(r.timer, now - 20);
    g_assert_true(timerlistgroup_run_timers(&tlg));
    g_assert_cmpstr(qt_log_take(), ==, "r,q,p");
    g_assert_false(timerlistgroup_run_timers(&tlg));

    /* Re-arming moves a timer after the others of equal expiry. */
    timer_mod_ns(q.timer, now - 10);
    timer_mod_ns(p.timer, now - 10);
    timer_mod_ns(r.timer, now - 10);
    timer_mod_ns(q.timer, now - 10);
    g_assert_true(timerlistgroup_run_timers(&tlg));
    g_assert_cmpstr(qt_log_take(), ==, "p,r,q");

    timer_free(q.timer);
    timer_free(p.timer);
    timer_free(r.timer);
    timerlistgroup_deinit(&tlg);
}

/* The same order through aio_poll on a context's group. */
static void test_fifo_ties_aio_poll(void)
{
    AioContext *ctx = aio_context_new(&error_abort);
    TimerProbe t[5] = {
        { .name = "a" }, { .name = "b" }, { .name = "c" }, { .name = "d" },
        { .name = "e" },
    };
    static const int64_t offset_ns[5] = { -5, -30, -5, -30, -1 };
    int64_t now;

    qt_log_reset();
    for (int i = 0; i < 5; i++) {
        t[i].timer = aio_timer_new(ctx, QEMU_CLOCK_VIRTUAL, SCALE_NS,
                                   probe_cb, &t[i]);
    }
    now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    for (int i = 0; i < 5; i++) {
        timer_mod_ns(t[i].timer, now + offset_ns[i]);
    }
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpstr(qt_log_take(), ==, "b,d,a,c,e");
    g_assert_false(aio_poll(ctx, false));
    for (int i = 0; i < 5; i++) {
        timer_free(t[i].timer);
    }
    aio_context_unref(ctx);
}

/* Negative expiry clamps to 0 (pending, due at once). */
static void test_negative_clamps(void)
{
    QEMUTimerListGroup tlg;
    NotifyCount nc = { 0 };
    TimerProbe t = { .name = "t" };

    qt_log_reset();
    timerlistgroup_init(&tlg, count_notify, &nc);
    t.timer = timer_new_full(&tlg, QEMU_CLOCK_REALTIME, SCALE_NS, 0, probe_cb, &t);
    timer_mod_ns(t.timer, -5);
    g_assert_true(timer_pending(t.timer));
    g_assert_cmpint(t.timer->expire_time, ==, 0);
    g_assert_cmpuint(timer_expire_time_ns(t.timer), ==, 0);
    timer_mod_ns(t.timer, INT64_MIN);
    g_assert_cmpint(t.timer->expire_time, ==, 0);
    g_assert_cmpint(timerlist_deadline_ns(tlg.tl[QEMU_CLOCK_REALTIME]), ==, 0);
    g_assert_true(timerlistgroup_run_timers(&tlg));
    g_assert_cmpint(t.fired, ==, 1);
    g_assert_false(timer_pending(t.timer));
    timer_free(t.timer);
    timerlistgroup_deinit(&tlg);
    qt_log_reset();
}

/* ---- notification ----------------------------------------------------------- */

/* timer_mod_ns notifies only if the timer became the list head. */
static void test_mod_notifies_head(void)
{
    QEMUTimerListGroup tlg;
    NotifyCount nc = { 0 };
    TimerProbe t1 = { .name = "1" }, t2 = { .name = "2" }, t3 = { .name = "3" };
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL_RT);

    timerlistgroup_init(&tlg, count_notify, &nc);
    t1.timer = timer_new_full(&tlg, QEMU_CLOCK_VIRTUAL_RT, SCALE_NS, 0, probe_cb, &t1);
    t2.timer = timer_new_full(&tlg, QEMU_CLOCK_VIRTUAL_RT, SCALE_NS, 0, probe_cb, &t2);
    t3.timer = timer_new_full(&tlg, QEMU_CLOCK_VIRTUAL_RT, SCALE_NS, 0, probe_cb, &t3);

    timer_mod_ns(t1.timer, now + MS(1000));         /* head of empty list */
    g_assert_cmpint(nc.count, ==, 1);
    g_assert_cmpint(nc.last_type, ==, QEMU_CLOCK_VIRTUAL_RT);
    timer_mod_ns(t2.timer, now + MS(2000));         /* behind t1 */
    g_assert_cmpint(nc.count, ==, 1);
    timer_mod_ns(t3.timer, now + MS(1000));         /* tie: after t1 */
    g_assert_cmpint(nc.count, ==, 1);
    timer_mod_ns(t3.timer, now + MS(500));          /* new head */
    g_assert_cmpint(nc.count, ==, 2);
    timer_del(t3.timer);                            /* del: no notify */
    g_assert_cmpint(nc.count, ==, 2);
    timer_mod_ns(t1.timer, now + MS(3000));         /* t2 becomes head */
    g_assert_cmpint(nc.count, ==, 2);
    timer_del(t2.timer);
    timer_del(t1.timer);
    g_assert_cmpint(nc.count, ==, 2);
    g_assert_false(timerlist_has_timers(tlg.tl[QEMU_CLOCK_VIRTUAL_RT]));

    timer_free(t1.timer);
    timer_free(t2.timer);
    timer_free(t3.timer);
    timerlistgroup_deinit(&tlg);
}

/* On a context, a new head notifies the context; timer_del does not. */
static void test_mod_notifies_context(void)
{
    AioContext *ctx = aio_context_new(&error_abort);
    QEMUTimer *a = aio_timer_new(ctx, QEMU_CLOCK_REALTIME, SCALE_NS,
                                 noop_cb, NULL);
    QEMUTimer *b = aio_timer_new(ctx, QEMU_CLOCK_REALTIME, SCALE_NS,
                                 noop_cb, NULL);
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_REALTIME);

    aio_notify_accept(ctx);
    timer_mod_ns(a, now + MS(1000));
    g_assert_true(notified(ctx));
    aio_notify_accept(ctx);
    timer_mod_ns(b, now + MS(2000));
    g_assert_false(notified(ctx));
    timer_del(a);
    g_assert_false(notified(ctx));
    timer_del(b);
    g_assert_false(notified(ctx));
    timer_free(a);
    timer_free(b);
    aio_context_unref(ctx);
}

/* timer_del: expire_time -1, not pending, never fires; idempotent. */
static void test_del(void)
{
    QEMUTimerListGroup tlg;
    NotifyCount nc = { 0 };
    TimerProbe t = { .name = "t" };

    timerlistgroup_init(&tlg, count_notify, &nc);
    t.timer = timer_new_full(&tlg, QEMU_CLOCK_REALTIME, SCALE_NS, 0, probe_cb, &t);
    g_assert_false(timer_pending(t.timer));
    g_assert_cmpint(t.timer->expire_time, ==, -1);
    timer_del(t.timer);                             /* not armed: no-op */
    timer_mod_ns(t.timer, 0);
    g_assert_true(timer_pending(t.timer));
    timer_del(t.timer);
    g_assert_false(timer_pending(t.timer));
    g_assert_cmpint(t.timer->expire_time, ==, -1);
    g_assert_cmpuint(timer_expire_time_ns(t.timer), ==, UINT64_MAX);
    g_assert_false(timerlistgroup_run_timers(&tlg));
    g_assert_cmpint(t.fired, ==, 0);
    g_assert_cmpint(timerlistgroup_deadline_ns(&tlg), ==, -1);
    timer_free(t.timer);
    timerlistgroup_deinit(&tlg);
}

/* timer_mod_anticipate only ever moves a timer earlier. */
static void test_anticipate(void)
{
    QEMUTimerListGroup tlg;
    NotifyCount nc = { 0 };
    TimerProbe t = { .name = "t" };
    QEMUTimer *ms;

    timerlistgroup_init(&tlg, count_notify, &nc);
    t.timer = timer_new_full(&tlg, QEMU_CLOCK_REALTIME, SCALE_NS, 0, probe_cb, &t);
    timer_mod_anticipate_ns(t.timer, 5000);         /* unarmed: arms */
    g_assert_cmpint(t.timer->expire_time, ==, 5000);
    g_assert_cmpint(nc.count, ==, 1);
    timer_mod_anticipate_ns(t.timer, 9000);         /* later: ignored */
    g_assert_cmpint(t.timer->expire_time, ==, 5000);
    g_assert_cmpint(nc.count, ==, 1);
    timer_mod_anticipate_ns(t.timer, 5000);         /* equal: ignored */
    g_assert_cmpint(t.timer->expire_time, ==, 5000);
    timer_mod_anticipate_ns(t.timer, 3000);         /* earlier: moves */
    g_assert_cmpint(t.timer->expire_time, ==, 3000);
    g_assert_cmpint(nc.count, ==, 2);
    timer_mod_ns(t.timer, 8000);                    /* timer_mod may delay */
    g_assert_cmpint(t.timer->expire_time, ==, 8000);

    /* Scaled variant: expire = value * scale. */
    ms = timer_new_full(&tlg, QEMU_CLOCK_REALTIME, SCALE_MS, 0, probe_cb, &t);
    timer_mod(ms, 7);
    g_assert_cmpint(ms->expire_time, ==, MS(7));
    timer_mod_anticipate(ms, 9);
    g_assert_cmpint(ms->expire_time, ==, MS(7));
    timer_mod_anticipate(ms, 2);
    g_assert_cmpint(ms->expire_time, ==, MS(2));
    timer_free(ms);
    timer_free(t.timer);
    timerlistgroup_deinit(&tlg);
}

/* ---- expiry and the clock snapshot ---------------------------------------- */

/* Expired means expire_time <= current time (`<=`, scaled). */
static void test_expired_le(void)
{
    QEMUTimerListGroup tlg;
    NotifyCount nc = { 0 };
    QEMUTimer *ns, *ms;

    timerlistgroup_init(&tlg, count_notify, &nc);
    ns = timer_new_full(&tlg, QEMU_CLOCK_REALTIME, SCALE_NS, 0, noop_cb, NULL);
    ms = timer_new_full(&tlg, QEMU_CLOCK_REALTIME, SCALE_MS, 0, noop_cb, NULL);
    /* Not pending: QEMU compares the stored -1, so "expired" at any
     * time >= 0. */
    g_assert_true(timer_expired(ns, 0));
    g_assert_true(timer_expired(ns, INT64_MAX / 2));
    timer_mod_ns(ns, 1000);
    g_assert_false(timer_expired(ns, 999));
    g_assert_true(timer_expired(ns, 1000));
    g_assert_true(timer_expired(ns, 1001));
    timer_mod(ms, 5);
    g_assert_cmpuint(timer_expire_time_ns(ms), ==, MS(5));
    g_assert_false(timer_expired(ms, 4));
    g_assert_true(timer_expired(ms, 5));
    timer_free(ns);
    timer_free(ms);
    timerlistgroup_deinit(&tlg);
}

/*
 * A callback that re-arms at or before the pass's snapshot fires again in
 * the same pass: re-arming at its own (expired) expiry three times gives
 * four runs from one timerlist_run_timers().
 */
static void test_rearm_past_same_pass(void)
{
    QEMUTimerListGroup tlg;
    NotifyCount nc = { 0 };
    TimerProbe t = { .name = "t", .rearm_left = 3 };
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_REALTIME);

    qt_log_reset();
    timerlistgroup_init(&tlg, count_notify, &nc);
    t.timer = timer_new_full(&tlg, QEMU_CLOCK_REALTIME, SCALE_NS, 0, probe_cb, &t);
    t.rearm_at_ns = now - 100;
    timer_mod_ns(t.timer, now - 100);
    g_assert_true(timerlist_run_timers(tlg.tl[QEMU_CLOCK_REALTIME]));
    g_assert_cmpint(t.fired, ==, 4);
    g_assert_false(timer_pending(t.timer));
    timer_free(t.timer);
    timerlistgroup_deinit(&tlg);
    qt_log_reset();
}

/* A re-arm in the future does not fire in the same pass. */
static void test_rearm_future_next_pass(void)
{
    QEMUTimerListGroup tlg;
    NotifyCount nc = { 0 };
    TimerProbe t = { .name = "t", .rearm_left = 1 };
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_REALTIME);

    qt_log_reset();
    timerlistgroup_init(&tlg, count_notify, &nc);
    t.timer = timer_new_full(&tlg, QEMU_CLOCK_REALTIME, SCALE_NS, 0, probe_cb, &t);
    t.rearm_at_ns = now + MS(60000);
    timer_mod_ns(t.timer, now - 100);
    g_assert_true(timerlist_run_timers(tlg.tl[QEMU_CLOCK_REALTIME]));
    g_assert_cmpint(t.fired, ==, 1);
    g_assert_true(timer_pending(t.timer));
    g_assert_cmpint(t.timer->expire_time, ==, now + MS(60000));
    g_assert_false(timerlist_run_timers(tlg.tl[QEMU_CLOCK_REALTIME]));
    g_assert_cmpint(t.fired, ==, 1);
    timer_free(t.timer);
    timerlistgroup_deinit(&tlg);
    qt_log_reset();
}

/*
 * The pass reads the clock once: A (due) spins until B (due 30 ms after
 * `now`) is due by the clock; B still waits for the next pass.
 */
static void test_clock_read_once(void)
{
    QEMUTimerListGroup tlg;
    NotifyCount nc = { 0 };
    TimerProbe a = { .name = "A" }, b = { .name = "B" };
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_REALTIME);

    qt_log_reset();
    timerlistgroup_init(&tlg, count_notify, &nc);
    a.timer = timer_new_full(&tlg, QEMU_CLOCK_REALTIME, SCALE_NS, 0, probe_cb, &a);
    b.timer = timer_new_full(&tlg, QEMU_CLOCK_REALTIME, SCALE_NS, 0, probe_cb, &b);
    timer_mod_ns(a.timer, now - 1);
    timer_mod_ns(b.timer, now + MS(30));
    a.spin_until_ns = now + MS(32);
    /* Only valid if the pass starts before B is due. */
    if (qemu_clock_get_ns(QEMU_CLOCK_REALTIME) >= now + MS(15)) {
        g_test_skip("machine too slow to start the pass within 15 ms");
    } else {
        g_assert_true(timerlist_run_timers(tlg.tl[QEMU_CLOCK_REALTIME]));
        g_assert_cmpstr(qt_log_take(), ==, "A");
        g_assert_true(timerlist_run_timers(tlg.tl[QEMU_CLOCK_REALTIME]));
        g_assert_cmpstr(qt_log_take(), ==, "B");
    }
    timer_free(a.timer);
    timer_free(b.timer);
    timerlistgroup_deinit(&tlg);
    qt_log_reset();
}

/* ---- deadlines and timeouts ------------------------------------------------ */

/* timerlist_deadline_ns: -1 if empty, 0 if expired, else the delta. */
static void test_deadline(void)
{
    QEMUTimerListGroup tlg;
    NotifyCount nc = { 0 };
    QEMUTimer *t, *u;
    QEMUTimerList *rt;
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_REALTIME), d;

    timerlistgroup_init(&tlg, count_notify, &nc);
    rt = tlg.tl[QEMU_CLOCK_REALTIME];
    t = timer_new_full(&tlg, QEMU_CLOCK_REALTIME, SCALE_NS, 0, noop_cb, NULL);
    u = timer_new_full(&tlg, QEMU_CLOCK_VIRTUAL_RT, SCALE_NS, 0, noop_cb, NULL);

    g_assert_cmpint(timerlist_deadline_ns(rt), ==, -1);
    g_assert_cmpint(timerlistgroup_deadline_ns(&tlg), ==, -1);
    g_assert_false(timerlist_has_timers(rt));
    g_assert_false(timerlist_expired(rt));

    timer_mod_ns(t, now - 1);
    g_assert_cmpint(timerlist_deadline_ns(rt), ==, 0);
    g_assert_true(timerlist_expired(rt));

    timer_mod_ns(t, now + MS(1000));
    d = timerlist_deadline_ns(rt);
    g_assert_cmpint(d, >, MS(500));
    g_assert_cmpint(d, <=, MS(1000));
    g_assert_false(timerlist_expired(rt));
    g_assert_true(timerlist_has_timers(rt));

    /* The group deadline is the minimum over its lists. */
    timer_mod_ns(u, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL_RT) + MS(2000));
    d = timerlistgroup_deadline_ns(&tlg);
    g_assert_cmpint(d, >, MS(500));
    g_assert_cmpint(d, <=, MS(1000));
    timer_del(t);
    d = timerlistgroup_deadline_ns(&tlg);
    g_assert_cmpint(d, >, MS(1500));
    g_assert_cmpint(d, <=, MS(2000));
    timer_del(u);
    g_assert_cmpint(timerlistgroup_deadline_ns(&tlg), ==, -1);

    timer_free(t);
    timer_free(u);
    timerlistgroup_deinit(&tlg);
}

/* qemu_soonest_timeout is an unsigned minimum: -1 is infinity. */
static void test_soonest_timeout(void)
{
    g_assert_cmpint(qemu_soonest_timeout(-1, -1), ==, -1);
    g_assert_cmpint(qemu_soonest_timeout(-1, 5), ==, 5);
    g_assert_cmpint(qemu_soonest_timeout(5, -1), ==, 5);
    g_assert_cmpint(qemu_soonest_timeout(0, -1), ==, 0);
    g_assert_cmpint(qemu_soonest_timeout(3, 7), ==, 3);
    g_assert_cmpint(qemu_soonest_timeout(7, 3), ==, 3);
    g_assert_cmpint(qemu_soonest_timeout(INT64_MAX, -1), ==, INT64_MAX);
}

/* ns → ms for glib rounds up; -1 stays infinite. */
static void test_ns_to_ms(void)
{
    g_assert_cmpint(qemu_timeout_ns_to_ms(-1), ==, -1);
    g_assert_cmpint(qemu_timeout_ns_to_ms(0), ==, 0);
    g_assert_cmpint(qemu_timeout_ns_to_ms(1), ==, 1);
    g_assert_cmpint(qemu_timeout_ns_to_ms(999999), ==, 1);
    g_assert_cmpint(qemu_timeout_ns_to_ms(1000000), ==, 1);
    g_assert_cmpint(qemu_timeout_ns_to_ms(1000001), ==, 2);
    g_assert_cmpint(qemu_timeout_ns_to_ms(MS(1500)), ==, 1500);
    g_assert_cmpint(qemu_timeout_ns_to_ms(INT64_MAX - SCALE_MS), ==, INT_MAX);
    g_assert_cmpint(qemu_timeout_ns_to_ms((int64_t)INT_MAX * SCALE_MS + 1), ==,
                    INT_MAX);
}

/*
 * aio_compute_timeout: 0 with a non-idle BH, 10 ms with only idle BHs,
 * else -1; then the minimum with the timer deadline.
 */
static void test_compute_timeout(void)
{
    AioContext *ctx = aio_context_new(&error_abort);
    QEMUBH *bh = aio_bh_new(ctx, noop_cb, NULL);
    QEMUBH *idle = aio_bh_new(ctx, noop_cb, NULL);
    QEMUTimer *t = aio_timer_new(ctx, QEMU_CLOCK_REALTIME, SCALE_NS,
                                 noop_cb, NULL);
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_REALTIME), d;

    g_assert_cmpint(aio_compute_timeout(ctx), ==, -1);
    timer_mod_ns(t, now + MS(1000));
    d = aio_compute_timeout(ctx);
    g_assert_cmpint(d, >, MS(500));
    g_assert_cmpint(d, <=, MS(1000));
    qemu_bh_schedule_idle(idle);
    g_assert_cmpint(aio_compute_timeout(ctx), ==, MS(10));
    qemu_bh_schedule(bh);
    g_assert_cmpint(aio_compute_timeout(ctx), ==, 0);
    qemu_bh_cancel(bh);
    g_assert_cmpint(aio_compute_timeout(ctx), ==, MS(10));
    qemu_bh_cancel(idle);
    d = aio_compute_timeout(ctx);
    g_assert_cmpint(d, >, MS(500));
    timer_mod_ns(t, now - 1);
    g_assert_cmpint(aio_compute_timeout(ctx), ==, 0);
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpint(aio_compute_timeout(ctx), ==, -1);
    timer_free(t);
    qemu_bh_delete(bh);
    qemu_bh_delete(idle);
    aio_context_unref(ctx);
}

/* ---- through aio_poll ------------------------------------------------------ */

/*
 * /aio/timer/schedule: a timer never fires early, and one blocking aio_poll
 * waits until it fires.
 */
static void test_timer_schedule(void)
{
    AioContext *ctx = aio_context_new(&error_abort);
    TimerProbe t = { .name = "t" };
    int64_t expire_ns;
    bool progress;

    qt_log_reset();
    t.timer = aio_timer_new(ctx, QEMU_CLOCK_REALTIME, SCALE_NS, probe_cb, &t);
    expire_ns = qemu_clock_get_ns(QEMU_CLOCK_REALTIME) + MS(15);
    timer_mod_ns(t.timer, expire_ns);

    progress = aio_poll(ctx, false);
    if (t.fired) {
        /* Only legitimate if 15 ms already passed. */
        g_assert_cmpint(t.fired_ns, >=, expire_ns);
    } else {
        g_assert_false(progress);
        aio_notify_accept(ctx);     /* the arm notified: make it wait */
        g_assert_true(aio_poll(ctx, true));
        g_assert_cmpint(t.fired, ==, 1);
        g_assert_cmpint(t.fired_ns, >=, expire_ns);
    }
    g_assert_cmpint(qemu_clock_get_ns(QEMU_CLOCK_REALTIME), >=, expire_ns);
    g_assert_false(timer_pending(t.timer));
    g_assert_false(aio_poll(ctx, false));
    g_assert_cmpint(t.fired, ==, 1);

    /* Same with a millisecond-scaled timer. */
    timer_free(t.timer);
    t.fired = 0;
    t.timer = aio_timer_new(ctx, QEMU_CLOCK_REALTIME, SCALE_MS, probe_cb, &t);
    timer_mod(t.timer, qemu_clock_get_ms(QEMU_CLOCK_REALTIME) + 10);
    expire_ns = t.timer->expire_time;
    aio_notify_accept(ctx);
    while (!t.fired) {
        aio_poll(ctx, true);
    }
    g_assert_cmpint(t.fired, ==, 1);
    g_assert_cmpint(t.fired_ns, >=, expire_ns);
    timer_free(t.timer);
    qt_log_reset();
    aio_context_unref(ctx);
}

/* A timer armed from another timer's callback for "now" runs in the same
 * aio_poll only if due by the pass's snapshot — a re-arm in the past does. */
static void test_aio_poll_rearm_past(void)
{
    AioContext *ctx = aio_context_new(&error_abort);
    TimerProbe t = { .name = "t", .rearm_left = 2, .rearm_at_ns = 0 };

    qt_log_reset();
    t.timer = aio_timer_new(ctx, QEMU_CLOCK_HOST, SCALE_NS, probe_cb, &t);
    timer_mod_ns(t.timer, 0);
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpstr(qt_log_take(), ==, "t,t,t");
    g_assert_false(aio_poll(ctx, false));
    timer_free(t.timer);
    aio_context_unref(ctx);
}

/* One aio_poll: BHs, then ready fd handlers, then timers. */
static void phase_fd_cb(EventNotifier *e)
{
    event_notifier_test_and_clear(e);
    qt_log("fd");
}

static void phase_log_cb(void *opaque)
{
    qt_log(opaque);
}

static void test_poll_phase_order(void)
{
    AioContext *ctx = aio_context_new(&error_abort);
    EventNotifier e;
    QEMUBH *bh = aio_bh_new(ctx, phase_log_cb, "bh");
    QEMUTimer *t = aio_timer_new(ctx, QEMU_CLOCK_REALTIME, SCALE_NS,
                                 phase_log_cb, "timer");

    qt_log_reset();
    g_assert_cmpint(event_notifier_init(&e, 0), ==, 0);
    aio_set_event_notifier(ctx, &e, phase_fd_cb, NULL, NULL);
    /* Set up in the reverse order. */
    timer_mod_ns(t, qemu_clock_get_ns(QEMU_CLOCK_REALTIME) - 1);
    event_notifier_set(&e);
    qemu_bh_schedule(bh);
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpstr(qt_log_take(), ==, "bh,fd,timer");
    g_assert_false(aio_poll(ctx, false));
    aio_set_event_notifier(ctx, &e, NULL, NULL, NULL);
    event_notifier_cleanup(&e);
    timer_free(t);
    qemu_bh_delete(bh);
    aio_context_unref(ctx);
}

/* A timer fires exactly once; a fired timer is no longer pending. */
static void test_timer_fires_once(void)
{
    AioContext *ctx = aio_context_new(&error_abort);
    TimerProbe t = { .name = "t" };

    qt_log_reset();
    t.timer = aio_timer_new(ctx, QEMU_CLOCK_VIRTUAL, SCALE_NS, probe_cb, &t);
    timer_mod_ns(t.timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL));
    g_assert_true(aio_poll(ctx, false));
    g_assert_false(aio_poll(ctx, false));
    g_assert_false(aio_poll(ctx, false));
    g_assert_cmpint(t.fired, ==, 1);
    g_assert_false(timer_pending(t.timer));
    timer_free(t.timer);
    qt_log_reset();
    aio_context_unref(ctx);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    g_test_add_func("/timer/clocks", test_four_clocks);
    g_test_add_func("/timer/order/fifo-ties", test_fifo_ties);
    g_test_add_func("/timer/order/fifo-ties-aio-poll", test_fifo_ties_aio_poll);
    g_test_add_func("/timer/mod/negative-clamps", test_negative_clamps);
    g_test_add_func("/timer/mod/notifies-head", test_mod_notifies_head);
    g_test_add_func("/timer/mod/notifies-context", test_mod_notifies_context);
    g_test_add_func("/timer/del", test_del);
    g_test_add_func("/timer/anticipate", test_anticipate);
    g_test_add_func("/timer/run/expired-le", test_expired_le);
    g_test_add_func("/timer/run/rearm-past-same-pass", test_rearm_past_same_pass);
    g_test_add_func("/timer/run/rearm-future-next-pass",
                    test_rearm_future_next_pass);
    g_test_add_func("/timer/run/clock-read-once", test_clock_read_once);
    g_test_add_func("/timer/run/aio-poll-rearm-past", test_aio_poll_rearm_past);
    g_test_add_func("/timer/run/fires-once", test_timer_fires_once);
    g_test_add_func("/timer/deadline", test_deadline);
    g_test_add_func("/timer/soonest-timeout", test_soonest_timeout);
    g_test_add_func("/timer/ns-to-ms", test_ns_to_ms);
    g_test_add_func("/timer/compute-timeout", test_compute_timeout);
    g_test_add_func("/timer/poll-phase-order", test_poll_phase_order);

    g_test_add_func("/aio/timer/schedule", test_timer_schedule);

    return g_test_run();
}
