/*
 * tests/test-notify.c — the aio_notify protocol: semantics.md "aio_notify
 * protocol" and the bare-notify rules of "aio_poll result".
 *
 * Method: the AioContext struct is visible, so the tests read notify_me and
 * notified directly (atomically) at each step.  The GSource half is driven
 * by hand on a private GMainContext (g_main_context_prepare / query / check
 * / dispatch), which shows bit 0 of notify_me between prepare and check and
 * lets a test call aio_notify() at exactly that point and look at the
 * context's eventfd with poll().  The aio_poll half uses a second thread
 * that waits until notify_me shows the blocking poll (+2), reads it, then
 * wakes the poll with a bare aio_notify(), which must not count as
 * progress.  Blocking polls in single-thread tests are bounded by a guard
 * timer; threaded ones by a watchdog.
 */
#include <glib.h>
#include <poll.h>
#include <stdbool.h>

#include "qloop-test.h"

static uint32_t notify_me(AioContext *ctx)
{
    return __atomic_load_n(&ctx->notify_me, __ATOMIC_SEQ_CST);
}

static bool notified(AioContext *ctx)
{
    return __atomic_load_n(&ctx->notified, __ATOMIC_SEQ_CST);
}

/* Is the context's EventNotifier set?  (Looks without clearing it.) */
static bool eventfd_set(AioContext *ctx)
{
    struct pollfd pfd = {
        .fd = event_notifier_get_fd(&ctx->notifier), .events = POLLIN,
    };

    g_assert_cmpint(poll(&pfd, 1, 0), >=, 0);
    return pfd.revents & POLLIN;
}

/* ---- aio_poll side ------------------------------------------------------- */

/* aio_notify then a blocking aio_poll: returns false at once, accepted. */
static void test_notify_then_blocking_poll(void)
{
    AioContext *ctx = aio_context_new(&error_abort);
    QtGuard guard;

    qt_guard_arm(&guard, ctx);
    aio_notify_accept(ctx);
    g_assert_false(notified(ctx));
    aio_notify(ctx);
    g_assert_true(notified(ctx));
    g_assert_false(qt_poll_blocking_at_once(ctx, &guard));
    g_assert_false(notified(ctx));
    g_assert_cmpuint(notify_me(ctx), ==, 0);

    /* Two notifies are not two wake-ups' worth of progress either. */
    aio_notify(ctx);
    aio_notify(ctx);
    g_assert_false(qt_poll_blocking_at_once(ctx, &guard));
    qt_guard_disarm(&guard);
    g_assert_false(aio_poll(ctx, false));
    aio_context_unref(ctx);
}

/* aio_notify_accept clears notified; a false positive is harmless. */
static void test_accept(void)
{
    AioContext *ctx = aio_context_new(&error_abort);

    aio_notify(ctx);
    g_assert_true(notified(ctx));
    aio_notify_accept(ctx);
    g_assert_false(notified(ctx));
    aio_notify_accept(ctx);
    g_assert_false(notified(ctx));

    /* Nobody waits: notified is set, the eventfd is not written. */
    aio_notify(ctx);
    g_assert_true(notified(ctx));
    g_assert_false(eventfd_set(ctx));
    g_assert_false(aio_poll(ctx, false));
    g_assert_false(notified(ctx));      /* every aio_poll accepts */
    aio_context_unref(ctx);
}

/* notify_me is 0 outside polls, before and after either kind of poll. */
static void test_notify_me_outside(void)
{
    AioContext *ctx = aio_context_new(&error_abort);
    QtGuard guard;

    g_assert_cmpuint(notify_me(ctx), ==, 0);
    g_assert_false(aio_poll(ctx, false));
    g_assert_cmpuint(notify_me(ctx), ==, 0);
    qt_guard_arm(&guard, ctx);
    aio_notify_accept(ctx);
    aio_notify(ctx);
    g_assert_false(qt_poll_blocking_at_once(ctx, &guard));
    qt_guard_disarm(&guard);
    g_assert_cmpuint(notify_me(ctx), ==, 0);
    aio_context_unref(ctx);
}

/* ---- GSource side -------------------------------------------------------- */

typedef struct {
    AioContext *ctx;
    GMainContext *gctx;
    GSource *src;
    GPollFD fds[16];
    int nfds;
    gint max_priority;
    gint timeout_ms;
} Manual;

static void manual_init(Manual *m)
{
    m->ctx = aio_context_new(&error_abort);
    m->gctx = g_main_context_new();
    m->src = aio_get_g_source(m->ctx);
    g_source_attach(m->src, m->gctx);
    g_assert_true(g_main_context_acquire(m->gctx));
}

static void manual_cleanup(Manual *m)
{
    g_main_context_release(m->gctx);
    g_source_destroy(m->src);
    g_source_unref(m->src);
    aio_context_unref(m->ctx);
    g_main_context_unref(m->gctx);
}

static gboolean manual_prepare(Manual *m)
{
    return g_main_context_prepare(m->gctx, &m->max_priority);
}

static void manual_query_poll(Manual *m)
{
    m->nfds = g_main_context_query(m->gctx, m->max_priority, &m->timeout_ms,
                                   m->fds, G_N_ELEMENTS(m->fds));
    g_assert_cmpint(m->nfds, <=, (int)G_N_ELEMENTS(m->fds));
    g_assert_cmpint(g_poll(m->fds, m->nfds, 0), >=, 0);
}

static gboolean manual_check(Manual *m)
{
    return g_main_context_check(m->gctx, m->max_priority, m->fds, m->nfds);
}

/*
 * Bit 0 of notify_me is set from the GSource prepare to its check; with
 * nothing to do, prepare reports not ready and check reports nothing.
 */
static void test_gsource_bit0(void)
{
    Manual m;

    manual_init(&m);
    aio_notify_accept(m.ctx);
    g_assert_cmpuint(notify_me(m.ctx), ==, 0);
    g_assert_false(manual_prepare(&m));
    g_assert_cmpuint(notify_me(m.ctx), ==, 1);
    manual_query_poll(&m);
    g_assert_cmpint(m.timeout_ms, ==, -1);
    g_assert_cmpuint(notify_me(m.ctx), ==, 1);
    g_assert_false(manual_check(&m));
    g_assert_cmpuint(notify_me(m.ctx), ==, 0);
    g_assert_false(g_main_context_iteration(m.gctx, FALSE));
    g_assert_cmpuint(notify_me(m.ctx), ==, 0);
    manual_cleanup(&m);
}

/*
 * aio_notify between prepare and check writes the eventfd; check then sees
 * the context's fd ready, dispatch reads it, and it was no progress.  The
 * check also accepts the notification.
 */
static void test_gsource_notify_in_window(void)
{
    Manual m;

    manual_init(&m);
    g_assert_false(manual_prepare(&m));
    g_assert_false(eventfd_set(m.ctx));
    aio_notify(m.ctx);
    g_assert_true(eventfd_set(m.ctx));
    manual_query_poll(&m);
    g_assert_true(notified(m.ctx));
    g_assert_true(manual_check(&m));
    g_assert_false(notified(m.ctx));
    g_assert_cmpuint(notify_me(m.ctx), ==, 0);
    g_main_context_dispatch(m.gctx);
    g_assert_false(eventfd_set(m.ctx));
    g_assert_false(g_main_context_iteration(m.gctx, FALSE));
    manual_cleanup(&m);
}

/*
 * Never skip the set because notified is already true (BUG2 in QEMU's
 * docs/spin/aio_notify_accept.promela): a notify while nobody waited leaves
 * notified == true; a second notify inside the prepare/check window must
 * still write the eventfd.
 */
static void test_gsource_notify_already_notified(void)
{
    Manual m;

    manual_init(&m);
    aio_notify(m.ctx);
    g_assert_true(notified(m.ctx));
    g_assert_false(eventfd_set(m.ctx));
    manual_prepare(&m);
    g_assert_cmpuint(notify_me(m.ctx) & 1, ==, 1);
    aio_notify(m.ctx);
    g_assert_true(eventfd_set(m.ctx));
    manual_query_poll(&m);
    g_assert_true(manual_check(&m));
    g_main_context_dispatch(m.gctx);
    g_assert_false(eventfd_set(m.ctx));
    manual_cleanup(&m);
}

/* prepare reports ready, with timeout 0, iff there is work now. */
static void noop_cb(void *opaque)
{
    (void)opaque;
}

static void test_gsource_prepare_timeout(void)
{
    Manual m;
    QEMUBH *bh;
    QEMUTimer *t;

    manual_init(&m);
    bh = aio_bh_new(m.ctx, noop_cb, NULL);
    t = aio_timer_new(m.ctx, QEMU_CLOCK_REALTIME, SCALE_NS, noop_cb, NULL);

    /* A timer 2.5 ms ahead: not ready, timeout rounded up to 3 ms. */
    timer_mod_ns(t, qemu_clock_get_ns(QEMU_CLOCK_REALTIME) + 2500000);
    g_assert_false(manual_prepare(&m));
    manual_query_poll(&m);
    g_assert_cmpint(m.timeout_ms, ==, 3);
    manual_check(&m);
    timer_del(t);

    /* A scheduled BH: ready, timeout 0. */
    qemu_bh_schedule(bh);
    g_assert_true(manual_prepare(&m));
    g_assert_cmpuint(notify_me(m.ctx) & 1, ==, 1);
    manual_query_poll(&m);
    g_assert_cmpint(m.timeout_ms, ==, 0);
    g_assert_true(manual_check(&m));
    g_main_context_dispatch(m.gctx);

    /* Only an idle BH: not ready, 10 ms. */
    qemu_bh_schedule_idle(bh);
    g_assert_false(manual_prepare(&m));
    manual_query_poll(&m);
    g_assert_cmpint(m.timeout_ms, ==, 10);
    g_assert_true(manual_check(&m));    /* scheduled, if idle: check is true */
    g_main_context_dispatch(m.gctx);

    timer_free(t);
    qemu_bh_delete(bh);
    manual_cleanup(&m);
}

/* ---- cross-thread ------------------------------------------------------- */

typedef struct {
    AioContext *ctx;
    uint32_t expect;        /* notify_me value that shows the poll waits */
    uint32_t seen;          /* notify_me when the notifier fired */
    int round;              /* bumped by the home thread before each poll */
    int notifies;
    bool stop;
} Notifier;

/*
 * Once per round, when notify_me shows the home thread in its blocking
 * poll, read it and wake the poll with a bare aio_notify().  The round is
 * read before notify_me: the home thread bumps it only after the previous
 * poll ended, so the value seen belongs to this round's poll.
 */
static gpointer notifier_thread(gpointer opaque)
{
    Notifier *n = opaque;
    int done_round = 0;

    while (!qt_load(&n->stop)) {
        int round = qt_load(&n->round);
        uint32_t now;

        if (round == done_round) {
            g_thread_yield();
            continue;
        }
        now = notify_me(n->ctx);
        if (now != n->expect) {
            g_thread_yield();
            continue;
        }
        qt_store(&n->seen, now);
        qt_inc(&n->notifies);
        aio_notify(n->ctx);
        done_round = round;
    }
    return NULL;
}

/*
 * A blocking aio_poll shows +2 in notify_me while it waits; a bare
 * aio_notify from another thread wakes it, it returns false, and notify_me
 * is 0 again.  Repeated so that a lost wake-up would show (as a hang, which
 * the watchdog turns into a failure).
 */
static void test_cross_thread_wakeup(void)
{
    AioContext *ctx = aio_context_new(&error_abort);
    Notifier n = { .ctx = ctx, .expect = 2 };
    QtWatchdog wd;
    GThread *thread;

    aio_poll(ctx, false);   /* claim the home thread */
    qt_watchdog_start(&wd, "test-notify cross-thread wakeup", 30);
    thread = g_thread_new("notifier", notifier_thread, &n);
    for (int i = 1; i <= 200; i++) {
        aio_notify_accept(ctx);
        qt_store(&n.round, i);
        g_assert_false(aio_poll(ctx, true));
        g_assert_cmpuint(notify_me(ctx), ==, 0);
    }
    qt_store(&n.stop, true);
    g_thread_join(thread);
    qt_watchdog_stop(&wd);
    g_assert_cmpint(n.notifies, >=, 1);
    g_assert_cmpint(n.notifies, <=, 200);
    g_assert_cmpuint(n.seen, ==, 2);
    aio_context_unref(ctx);
}

/*
 * The two halves are independent bits: a blocking aio_poll inside the
 * GSource prepare/check window shows 1 + 2 = 3; check clears only bit 0.
 */
static void test_poll_inside_gsource_window(void)
{
    Manual m;
    Notifier n = { .expect = 3 };
    QtWatchdog wd;
    GThread *thread;

    manual_init(&m);
    n.ctx = m.ctx;
    g_assert_false(manual_prepare(&m));
    g_assert_cmpuint(notify_me(m.ctx), ==, 1);
    qt_watchdog_start(&wd, "test-notify poll inside GSource window", 30);
    thread = g_thread_new("notifier", notifier_thread, &n);
    aio_notify_accept(m.ctx);
    qt_store(&n.round, 1);
    g_assert_false(aio_poll(m.ctx, true));
    qt_store(&n.stop, true);
    g_thread_join(thread);
    qt_watchdog_stop(&wd);
    g_assert_cmpint(n.notifies, ==, 1);
    g_assert_cmpuint(n.seen, ==, 3);
    g_assert_cmpuint(notify_me(m.ctx), ==, 1);
    manual_query_poll(&m);
    manual_check(&m);
    g_assert_cmpuint(notify_me(m.ctx), ==, 0);
    manual_cleanup(&m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    g_test_add_func("/notify/then-blocking-poll", test_notify_then_blocking_poll);
    g_test_add_func("/notify/accept", test_accept);
    g_test_add_func("/notify/notify-me-outside-polls", test_notify_me_outside);
    g_test_add_func("/notify/gsource/bit0", test_gsource_bit0);
    g_test_add_func("/notify/gsource/notify-in-window",
                    test_gsource_notify_in_window);
    g_test_add_func("/notify/gsource/already-notified-still-sets",
                    test_gsource_notify_already_notified);
    g_test_add_func("/notify/gsource/prepare-timeout",
                    test_gsource_prepare_timeout);
    g_test_add_func("/notify/thread/wakeup", test_cross_thread_wakeup);
    g_test_add_func("/notify/thread/poll-inside-gsource-window",
                    test_poll_inside_gsource_window);

    return g_test_run();
}
