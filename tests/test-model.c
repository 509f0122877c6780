/*
 * tests/test-model.c — the reference model objects to what semantics.md
 * forbids, and accepts what it allows.
 *
 * Method: hand-written event streams in the trace format of loop/os.h:
 * each case is a legal stream (no objection) and a minimal corruption of
 * it (one objection, with the expected words).  The streams are what the
 * core would emit; nothing here runs the core.
 */
#include <string.h>

#include "model.h"
#include "../loop/os.h"

#define CTX ((int64_t)1000000 << 32)
#define BH(id) (CTX | (id))
#define TL(clock) ((int64_t)1000000 << 36 | (int64_t)(clock) << 32)

typedef struct {
    uint32_t kind;
    const char *name;
    int64_t a, b;
} Ev;

/* Feed evs, evs[i] at virtual time t_ns[i] (all at 0 without t_ns);
 * return the first objection (or NULL). */
static const char *feed_at(const Ev *evs, const int64_t *t_ns, size_t n)
{
    static char story[1024];
    Model *m = model_new();
    const char *objection = NULL;

    for (size_t i = 0; i < n && !objection; i++) {
        SimEvent ev = { .seq = i, .time_ns = t_ns ? t_ns[i] : 0, .thread = 1,
                        .kind = evs[i].kind, .name = evs[i].name,
                        .arg = evs[i].a, .arg2 = evs[i].b };

        objection = model_event(m, &ev);
        if (objection) {
            g_strlcpy(story, objection, sizeof(story));
            objection = story;
        }
    }
    model_free(m);
    return objection;
}

static const char *feed(const Ev *evs, size_t n)
{
    return feed_at(evs, NULL, n);
}

#define SCHED(id, name) { QOS_EV_BH_SCHEDULE, name, BH(id), 2 }, \
                        { QOS_EV_BH_PUSH, name, BH(id), 0 }
#define TAKE(id, name, flags) { QOS_EV_BH_TAKE, name, BH(id), flags }
#define RUN(id, name) { QOS_EV_BH_RUN, name, BH(id), 0 }
#define SLICE { QOS_EV_BH_SLICE, "ctx", CTX, 0 }

static void test_bh_order(void)
{
    /* schedule A, B, C: C, B, A run. */
    Ev ok[] = { SCHED(0, "A"), SCHED(1, "B"), SCHED(2, "C"), SLICE,
                TAKE(2, "C", 3), RUN(2, "C"), TAKE(1, "B", 3), RUN(1, "B"),
                TAKE(0, "A", 3), RUN(0, "A") };
    Ev fifo[] = { SCHED(0, "A"), SCHED(1, "B"), SLICE, TAKE(0, "A", 3) };

    g_assert_null(feed(ok, G_N_ELEMENTS(ok)));
    g_assert_nonnull(strstr(feed(fifo, G_N_ELEMENTS(fifo)),
                            "ordering: BH 'A' was taken, but 'B' is next"));
}

static void test_bh_merge_and_cancel(void)
{
    /* schedule A twice: one push, one run. */
    Ev merged[] = { SCHED(0, "A"), { QOS_EV_BH_SCHEDULE, "A", BH(0), 2 | 0x8000 },
                    SLICE, TAKE(0, "A", 3), RUN(0, "A") };
    Ev double_push[] = { SCHED(0, "A"), { QOS_EV_BH_PUSH, "A", BH(0), 0 } };
    Ev cancelled_runs[] = { SCHED(0, "A"), { QOS_EV_BH_CANCEL, "A", BH(0), 0 },
                            SLICE, TAKE(0, "A", 1), RUN(0, "A") };
    Ev wrong_flags[] = { SCHED(0, "A"), { QOS_EV_BH_CANCEL, "A", BH(0), 0 },
                         SLICE, TAKE(0, "A", 3) };

    g_assert_null(feed(merged, G_N_ELEMENTS(merged)));
    g_assert_nonnull(strstr(feed(double_push, G_N_ELEMENTS(double_push)),
                            "pushed on the pending list twice"));
    g_assert_nonnull(strstr(feed(cancelled_runs, G_N_ELEMENTS(cancelled_runs)),
                            "safety: BH 'A' ran"));
    g_assert_nonnull(strstr(feed(wrong_flags, G_N_ELEMENTS(wrong_flags)),
                            "flags: BH 'A' taken as scheduled"));
}

static void test_bh_delete_and_free(void)
{
    Ev deleted[] = { SCHED(0, "A"), { QOS_EV_BH_DELETE, "A", BH(0), 8 | 0x8000 },
                     SLICE, TAKE(0, "A", 11) };
    Ev deleted_runs[] = { SCHED(0, "A"), { QOS_EV_BH_DELETE, "A", BH(0), 8 | 0x8000 },
                          SLICE, TAKE(0, "A", 11), RUN(0, "A") };
    Ev after_free[] = { SCHED(0, "A"), { QOS_EV_BH_DELETE, "A", BH(0), 8 | 0x8000 },
                        SLICE, TAKE(0, "A", 11), SCHED(0, "A") };

    g_assert_null(feed(deleted, G_N_ELEMENTS(deleted)));
    g_assert_nonnull(strstr(feed(deleted_runs, G_N_ELEMENTS(deleted_runs)),
                            "it was deleted when taken"));
    g_assert_nonnull(strstr(feed(after_free, G_N_ELEMENTS(after_free)),
                            "use after free"));
}

static void test_bh_nested_slices(void)
{
    /* A, B, N, C; N nests a poll: C, N, then B, A from the outer slice. */
    Ev ok[] = { SCHED(0, "A"), SCHED(1, "B"), SCHED(2, "N"), SCHED(3, "C"),
                SLICE, TAKE(3, "C", 3), RUN(3, "C"), TAKE(2, "N", 3),
                RUN(2, "N"), SLICE, TAKE(1, "B", 3), RUN(1, "B"),
                TAKE(0, "A", 3), RUN(0, "A") };

    g_assert_null(feed(ok, G_N_ELEMENTS(ok)));
}

#define ARM(clock, id, at) { QOS_EV_TIMER_ARM, NULL, TL(clock) | (id), at }
#define FIRE(clock, id, at) { QOS_EV_TIMER_FIRE, NULL, TL(clock) | (id), at }
#define PASS(clock, now) { QOS_EV_TIMERS_RUN, NULL, TL(clock), now }
#define DONE(clock, now) { QOS_EV_TIMERS_DONE, NULL, TL(clock), now }

static void test_timers(void)
{
    /* q@-10, p@-10, r@-20 fire r, q, p (ties FIFO). */
    Ev ok[] = { ARM(1, 0, 90), ARM(1, 1, 90), ARM(1, 2, 80), PASS(1, 100),
                FIRE(1, 2, 80), FIRE(1, 0, 90), FIRE(1, 1, 90), DONE(1, 100) };
    Ev lifo[] = { ARM(1, 0, 90), ARM(1, 1, 90), PASS(1, 100), FIRE(1, 1, 90) };
    Ev early[] = { ARM(1, 0, 150), PASS(1, 100), FIRE(1, 0, 150) };
    Ev left_due[] = { ARM(1, 0, 100), PASS(1, 100), DONE(1, 100) };
    Ev other_clock[] = { ARM(1, 0, 100), ARM(2, 0, 50), PASS(2, 60),
                         FIRE(2, 0, 50), DONE(2, 60) };

    g_assert_null(feed(ok, G_N_ELEMENTS(ok)));
    g_assert_nonnull(strstr(feed(lifo, G_N_ELEMENTS(lifo)), "ordering: timer"));
    g_assert_nonnull(strstr(feed(early, G_N_ELEMENTS(early)), "fired early"));
    g_assert_nonnull(strstr(feed(left_due, G_N_ELEMENTS(left_due)),
                            "did not fire"));
    g_assert_null(feed(other_clock, G_N_ELEMENTS(other_clock)));
}

#define MS(n) ((int64_t)(n) * 1000000)

/* An event at a virtual time. */
typedef struct {
    Ev ev;
    int64_t t_ns;
} TEv;

static const char *feed_timed(const TEv *evs, size_t n)
{
    Ev ev[16];
    int64_t t_ns[16];

    g_assert(n <= G_N_ELEMENTS(ev));
    for (size_t i = 0; i < n; i++) {
        ev[i] = evs[i].ev;
        t_ns[i] = evs[i].t_ns;
    }
    return feed_at(ev, t_ns, n);
}

#define AT(e, t) { e, t }
#define WAIT_IN(timeout, at) { { QOS_EV_POLL_ENTER, "ctx", timeout, 0 }, at }
#define SLEEP(at) { { SIM_EV_BLOCK, NULL, 0, 0 }, at }
#define IDLE_TO(to) { { SIM_EV_CLOCK, "idle", to, 0 }, to }

/*
 * Late timers: time jumps (every thread waited) past an armed timer.  A
 * waiter preempted between computing its timeout (after its last act
 * before POLL_ENTER) and sleeping (BLOCK) sleeps its timeout from the
 * later moment, as a descheduled QEMU thread does: the timer is judged by
 * the deadline it computed.
 */
static void test_timer_late(void)
{
    /* Timeout 1 ms at 1000 ms for the timer at 1001 ms; preempted until
     * 1003 ms, so time jumps to 1004 ms: not the core's lateness. */
    TEv preempted[] = { AT(ARM(1, 0, MS(1001)), MS(1000)),
                        WAIT_IN(MS(1), MS(1000)), SLEEP(MS(1003)),
                        IDLE_TO(MS(1004)) };
    /* The same jump with no preemption: the timeout ignored the timer. */
    TEv ignored[] = { AT(ARM(1, 0, MS(1001)), MS(1000)),
                      WAIT_IN(MS(4), MS(1000)), SLEEP(MS(1000)),
                      IDLE_TO(MS(1004)) };
    /* Preempted too, but the timeout computed was already 2 ms too long:
     * the preemption excuses its own delay only. */
    TEv preempted_and_ignored[] = { AT(ARM(1, 0, MS(1001)), MS(1000)),
                                    WAIT_IN(MS(4), MS(1000)),
                                    SLEEP(MS(1001)), IDLE_TO(MS(1005)) };

    /* Preempted before its poll even began (the switch back at 1003 ms
     * is no action of its own): the clock was read at 1000 ms, its last
     * act, so the timeout counts from there. */
    TEv preempted_before_enter[] = {
        AT(ARM(1, 0, MS(1001)), MS(1000)),
        { { SIM_EV_SWITCH, NULL, 1, 0 }, MS(1003) },
        WAIT_IN(MS(1), MS(1003)), SLEEP(MS(1003)), IDLE_TO(MS(1004)) };
    /* The same, but the thread acted at 1003 ms before its poll: its clock
     * read came after that, and a 1 ms timeout ignored the timer. */
    TEv acted_then_ignored[] = {
        AT(ARM(1, 0, MS(1001)), MS(1000)),
        AT(ARM(1, 1, MS(1010)), MS(1003)),
        WAIT_IN(MS(1), MS(1003)), SLEEP(MS(1003)), IDLE_TO(MS(1004)) };

    g_assert_null(feed_timed(preempted, G_N_ELEMENTS(preempted)));
    g_assert_null(feed_timed(preempted_before_enter,
                             G_N_ELEMENTS(preempted_before_enter)));
    g_assert_nonnull(strstr(feed_timed(acted_then_ignored,
                                       G_N_ELEMENTS(acted_then_ignored)),
                            "is late"));
    g_assert_nonnull(strstr(feed_timed(ignored, G_N_ELEMENTS(ignored)),
                            "timing: timer"));
    g_assert_nonnull(strstr(feed_timed(preempted_and_ignored,
                                       G_N_ELEMENTS(preempted_and_ignored)),
                            "is late"));
}

static void test_handlers(void)
{
    Ev ok[] = { { QOS_EV_FD_ADD, NULL, CTX | 1, 5 }, { QOS_EV_FD_ADD, NULL, CTX | 2, 6 },
                { QOS_EV_FD_ROUND, NULL, CTX, 2 }, { QOS_EV_FD_CALL, "read", CTX | 1, 5 },
                { QOS_EV_FD_CALL, "read", CTX | 2, 6 } };
    Ev reversed[] = { { QOS_EV_FD_ADD, NULL, CTX | 1, 5 }, { QOS_EV_FD_ADD, NULL, CTX | 2, 6 },
                      { QOS_EV_FD_ROUND, NULL, CTX, 2 }, { QOS_EV_FD_CALL, "read", CTX | 2, 6 },
                      { QOS_EV_FD_CALL, "read", CTX | 1, 5 } };
    Ev removed[] = { { QOS_EV_FD_ADD, NULL, CTX | 1, 5 }, { QOS_EV_FD_ROUND, NULL, CTX, 1 },
                     { QOS_EV_FD_REMOVE, NULL, CTX | 1, 5 },
                     { QOS_EV_FD_CALL, "read", CTX | 1, 5 } };

    g_assert_null(feed(ok, G_N_ELEMENTS(ok)));
    g_assert_nonnull(strstr(feed(reversed, G_N_ELEMENTS(reversed)),
                            "registration order"));
    g_assert_nonnull(strstr(feed(removed, G_N_ELEMENTS(removed)),
                            "called after it was removed"));
}

/* Feed one event to m; its objection or NULL. */
static const char *feed1(Model *m, uint32_t kind, const char *name, int64_t a)
{
    SimEvent ev = { .seq = 0, .thread = 1, .kind = kind, .name = name,
                    .arg = a };

    return model_event(m, &ev);
}

static void test_signals(void)
{
    Model *m = model_new();
    char buf[256];

    /* Two kills before the read: one call; the next call needs a kill. */
    feed1(m, SIM_EV_USER, "signal", SIGIO);
    feed1(m, SIM_EV_USER, "signal", SIGIO);
    g_assert_true(model_signal_lost(m, buf, sizeof(buf)));
    g_assert_nonnull(strstr(buf, "SIGIO was raised"));
    g_assert_null(model_signal_handler(m, SIGIO, 1, 1, true));
    g_assert_false(model_signal_lost(m, buf, sizeof(buf)));
    g_assert_nonnull(strstr(model_signal_handler(m, SIGIO, 1, 1, true),
                            "not raised since its last handler call"));
    model_free(m);

    /* Lowest number first: SIGBUS (7) before SIGIO (29). */
    m = model_new();
    feed1(m, SIM_EV_USER, "signal", SIGIO);
    feed1(m, SIM_EV_USER, "signal", SIGBUS);
    g_assert_nonnull(strstr(model_signal_handler(m, SIGIO, 1, 1, true),
                            "while SIGBUS was pending"));
    model_free(m);
    m = model_new();
    feed1(m, SIM_EV_USER, "signal", SIGIO);
    feed1(m, SIM_EV_USER, "signal", SIGBUS);
    g_assert_null(model_signal_handler(m, SIGBUS, 1, 1, true));
    g_assert_null(model_signal_handler(m, SIGIO, 1, 1, true));
    model_free(m);

    /* Only the main loop's thread, only from main_loop_wait(). */
    m = model_new();
    feed1(m, SIM_EV_USER, "signal", SIGALRM);
    g_assert_nonnull(strstr(model_signal_handler(m, SIGALRM, 2, 1, true),
                            "ran in another thread"));
    model_free(m);
    m = model_new();
    feed1(m, SIM_EV_USER, "signal", SIGALRM);
    g_assert_nonnull(strstr(model_signal_handler(m, SIGALRM, 1, 1, false),
                            "in an aio_poll(), or outside main_loop_wait()"));
    model_free(m);
}

static void test_spin(void)
{
    Model *m = model_new();
    const char *why = NULL;

    /* Wake-ups with nothing done and nothing to wake them: the third in
     * a row (limit 3) is the verdict, with what the last one did. */
    for (int i = 0; i < 3 && !why; i++) {
        model_spin_begin(m, 1);
        feed1(m, QOS_EV_POLL_ENTER, "ctx", 0);
        why = model_spin_end(m, "aio_poll(ctx, true)", false, false, 3);
        g_assert_true(i == 2 || !why);
    }
    g_assert_nonnull(why);
    g_assert_nonnull(strstr(why, "spin: aio_poll(ctx, true) returned 3 times"));
    g_assert_nonnull(strstr(why, "timeout of 0 ns"));
    model_free(m);

    /* An aio_notify() may end the wait it comes in and the two after it
     * (its 'notified', then its eventfd); progress, a dispatch or an
     * excuse (waits cut short) resets the count. */
    m = model_new();
    for (int i = 0; i < 10; i++) {
        model_spin_begin(m, 1);
        if (i % 3 == 0) {
            feed1(m, QOS_EV_NOTIFY, "ctx", 0);
        }
        g_assert_null(model_spin_end(m, "aio_poll(ctx, true)", false, false,
                                     2));
    }
    g_assert_cmpuint(model_spin_max(m), ==, 0);
    for (int i = 0; i < 10; i++) {
        model_spin_begin(m, 1);
        if (i % 3 == 0) {
            feed1(m, QOS_EV_BH_RUN, "B", BH(0));
        }
        g_assert_null(model_spin_end(m, "main_loop_wait(false)", false,
                                     i % 3 == 1, 2));
    }
    g_assert_cmpuint(model_spin_max(m), ==, 1);
    model_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/model/bh/order", test_bh_order);
    g_test_add_func("/model/bh/merge-cancel", test_bh_merge_and_cancel);
    g_test_add_func("/model/bh/delete-free", test_bh_delete_and_free);
    g_test_add_func("/model/bh/nested-slices", test_bh_nested_slices);
    g_test_add_func("/model/timers", test_timers);
    g_test_add_func("/model/timer-late", test_timer_late);
    g_test_add_func("/model/handlers", test_handlers);
    g_test_add_func("/model/signals", test_signals);
    g_test_add_func("/model/spin", test_spin);
    return g_test_run();
}
