/*
 * tests/test-api-parity.c — the QEMU 10 calls added for API parity:
 * qemu_clock_has_timers/deadline_ns_all/notify, qemu_init_clocks,
 * qemu_poll_ns, timer_expired() on an unarmed timer, QEMU's AIOCBInfo
 * layout, event_notifier_test_and_clear()'s int, and
 * aio_set_event_notifier_poll()'s begin/end callbacks.
 *
 * Method: each case arms timers on a context's list and on the main-loop
 * list with known expiries and attributes and compares the answers with
 * the values QEMU's definitions give (include/qemu/timer.h).
 */
#include <glib.h>
#include <stddef.h>
#include <string.h>

#include "qloop-test.h"

static void noop_cb(void *opaque)
{
    (void)opaque;
}

static void count_notify(void *opaque, QEMUClockType type)
{
    (void)type;
    (*(int *)opaque)++;
}

static void test_has_timers(void)
{
    QEMUTimer *t;

    qemu_init_clocks(NULL);
    g_assert_false(qemu_clock_has_timers(QEMU_CLOCK_VIRTUAL));
    t = timer_new_ns(QEMU_CLOCK_VIRTUAL, noop_cb, NULL);
    timer_mod_ns(t, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) + SCALE_MS);
    g_assert_true(qemu_clock_has_timers(QEMU_CLOCK_VIRTUAL));
    g_assert_false(qemu_clock_has_timers(QEMU_CLOCK_REALTIME));
    timer_del(t);
    g_assert_false(qemu_clock_has_timers(QEMU_CLOCK_VIRTUAL));
    timer_free(t);
}

static void test_deadline_all(void)
{
    QEMUTimerListGroup tlg;
    int notified = 0;
    QEMUTimer *ext, *plain, *main_t;
    int64_t now_ns = qemu_clock_get_ns(QEMU_CLOCK_HOST);
    int64_t d_ns;

    qemu_init_clocks(NULL);
    g_assert_cmpint(qemu_clock_deadline_ns_all(QEMU_CLOCK_HOST,
                                               QEMU_TIMER_ATTR_ALL), ==, -1);
    timerlistgroup_init(&tlg, count_notify, &notified);
    /* An external timer soonest (context list), a plain one later (same
     * list) and one on the main-loop list in between. */
    ext = timer_new_full(&tlg, QEMU_CLOCK_HOST, SCALE_NS,
                         QEMU_TIMER_ATTR_EXTERNAL, noop_cb, NULL);
    plain = timer_new_full(&tlg, QEMU_CLOCK_HOST, SCALE_NS, 0, noop_cb, NULL);
    main_t = timer_new_ns(QEMU_CLOCK_HOST, noop_cb, NULL);
    timer_mod_ns(ext, now_ns + 10 * (int64_t)SCALE_MS * 1000);
    timer_mod_ns(plain, now_ns + 30 * (int64_t)SCALE_MS * 1000);
    timer_mod_ns(main_t, now_ns + 20 * (int64_t)SCALE_MS * 1000);

    /* Every attribute allowed: the external timer, ~10 s away. */
    d_ns = qemu_clock_deadline_ns_all(QEMU_CLOCK_HOST, QEMU_TIMER_ATTR_ALL);
    g_assert_cmpint(d_ns, >, 9 * (int64_t)SCALE_MS * 1000);
    g_assert_cmpint(d_ns, <=, 10 * (int64_t)SCALE_MS * 1000);
    /* External ones skipped: the main-loop timer, ~20 s away. */
    d_ns = qemu_clock_deadline_ns_all(QEMU_CLOCK_HOST, 0);
    g_assert_cmpint(d_ns, >, 19 * (int64_t)SCALE_MS * 1000);
    g_assert_cmpint(d_ns, <=, 20 * (int64_t)SCALE_MS * 1000);
    /* A due timer gives 0. */
    timer_mod_ns(plain, now_ns - 1);
    g_assert_cmpint(qemu_clock_deadline_ns_all(QEMU_CLOCK_HOST, 0), ==, 0);
    /* A disabled clock has no deadline. */
    qemu_clock_enable(QEMU_CLOCK_HOST, false);
    g_assert_cmpint(qemu_clock_deadline_ns_all(QEMU_CLOCK_HOST,
                                               QEMU_TIMER_ATTR_ALL), ==, -1);
    qemu_clock_enable(QEMU_CLOCK_HOST, true);

    /* qemu_clock_notify() reaches every list of the clock. */
    notified = 0;
    qemu_clock_notify(QEMU_CLOCK_HOST);
    g_assert_cmpint(notified, ==, 1);

    timer_free(ext);
    timer_free(plain);
    timer_free(main_t);
    timerlistgroup_deinit(&tlg);
}

static void test_timer_expired_unarmed(void)
{
    QEMUTimer *t;

    qemu_init_clocks(NULL);
    t = timer_new_ms(QEMU_CLOCK_REALTIME, noop_cb, NULL);
    /* QEMU compares the stored -1: expired at any time >= 0. */
    g_assert_true(timer_expired(t, 0));
    g_assert_true(timer_expired(t, 12345));
    timer_mod(t, 100);
    g_assert_false(timer_expired(t, 99));
    g_assert_true(timer_expired(t, 100));
    timer_free(t);
}

static void test_poll_ns(void)
{
    EventNotifier e;
    GPollFD pfd;

    g_assert_cmpint(event_notifier_init(&e, 0), ==, 0);
    pfd.fd = event_notifier_get_fd(&e);
    pfd.events = G_IO_IN;
    pfd.revents = 0;
    g_assert_cmpint(qemu_poll_ns(&pfd, 1, 0), ==, 0);
    g_assert_cmpint(event_notifier_set(&e), ==, 0);
    g_assert_cmpint(qemu_poll_ns(&pfd, 1, -1), ==, 1);
    g_assert_true(pfd.revents & G_IO_IN);
    /* QEMU's int: 1 when it was set, 0 when not. */
    g_assert_cmpint(event_notifier_test_and_clear(&e), ==, 1);
    g_assert_cmpint(event_notifier_test_and_clear(&e), ==, 0);
    event_notifier_cleanup(&e);
}

static void test_aiocb_info_layout(void)
{
    /* QEMU's order: a positional initializer written for QEMU fits. */
    static const AIOCBInfo info = { NULL, 48, NULL };

    g_assert_cmpuint(offsetof(AIOCBInfo, cancel_async), ==, 0);
    g_assert_cmpuint(offsetof(AIOCBInfo, aiocb_size), <,
                     offsetof(AIOCBInfo, get_aio_context));
    g_assert_cmpuint(info.aiocb_size, ==, 48);
}

/* ---- aio_set_event_notifier_poll ----------------------------------------- */

typedef struct {
    EventNotifier e;
    bool poll_result;
    int begins, ends, polls_after_end, ready_calls;
} PollCase;

static PollCase poll_case;

static bool pc_io_poll(void *opaque)
{
    (void)opaque;
    if (poll_case.ends > 0 && poll_case.begins == poll_case.ends) {
        poll_case.polls_after_end++;
    }
    return poll_case.poll_result;
}

static void pc_io_poll_ready(EventNotifier *e)
{
    (void)e;
    poll_case.ready_calls++;
    poll_case.poll_result = false;      /* the work is done */
}

static void pc_io_read(EventNotifier *e)
{
    event_notifier_test_and_clear(e);
}

static void pc_begin(EventNotifier *e)
{
    g_assert_true(e == &poll_case.e);
    poll_case.begins++;
}

static void pc_end(EventNotifier *e)
{
    g_assert_true(e == &poll_case.e);
    poll_case.ends++;
    /* An event that races with io_poll_end: the last poll must see it. */
    poll_case.poll_result = true;
}

static void test_poll_begin_end(void)
{
    AioContext *ctx = aio_context_new(&error_abort);

    memset(&poll_case, 0, sizeof(poll_case));
    g_assert_cmpint(event_notifier_init(&poll_case.e, 0), ==, 0);
    aio_set_event_notifier(ctx, &poll_case.e, pc_io_read, pc_io_poll,
                           pc_io_poll_ready);
    aio_set_event_notifier_poll(ctx, &poll_case.e, pc_begin, pc_end);
    aio_context_set_poll_params(ctx, 2 * SCALE_MS, 0, 0, &error_abort);
    while (aio_poll(ctx, false)) {
        /* the notify from set_poll_params */
    }
    g_assert_cmpint(poll_case.begins, ==, 0);   /* non-blocking: no mode */

    /* Work found while polling: the mode starts and stays started. */
    poll_case.poll_result = true;
    g_assert_true(aio_poll(ctx, true));
    g_assert_cmpint(poll_case.begins, ==, 1);
    g_assert_cmpint(poll_case.ends, ==, 0);
    g_assert_cmpint(poll_case.ready_calls, ==, 1);

    /* Nothing found for 2 ms: the mode ends before waiting, io_poll runs
     * once more, finds what io_poll_end raised, and nothing blocks. */
    g_assert_true(aio_poll(ctx, true));
    g_assert_cmpint(poll_case.begins, ==, 1);
    g_assert_cmpint(poll_case.ends, ==, 1);
    g_assert_cmpint(poll_case.polls_after_end, ==, 1);
    g_assert_cmpint(poll_case.ready_calls, ==, 2);

    aio_set_event_notifier(ctx, &poll_case.e, NULL, NULL, NULL);
    event_notifier_cleanup(&poll_case.e);
    aio_context_unref(ctx);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/parity/clock-has-timers", test_has_timers);
    g_test_add_func("/parity/clock-deadline-ns-all", test_deadline_all);
    g_test_add_func("/parity/timer-expired-unarmed",
                    test_timer_expired_unarmed);
    g_test_add_func("/parity/poll-ns", test_poll_ns);
    g_test_add_func("/parity/aiocb-info-layout", test_aiocb_info_layout);
    g_test_add_func("/parity/event-notifier-poll-begin-end",
                    test_poll_begin_end);
    return g_test_run();
}
