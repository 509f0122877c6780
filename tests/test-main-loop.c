/*
 * tests/test-main-loop.c — the main loop: semantics.md "Main loop"
 * (qemu_init_main_loop, main_loop_wait, main-loop timers, iohandler_ctx,
 * qemu_set_fd_handler, qemu_bh_new, qemu_notify_event in one thread).
 *
 * Method: the process calls qemu_init_main_loop() once in main(), before
 * the GTest cases, which then share the main loop and must leave it quiet
 * (every case drains with non-blocking main_loop_wait calls first and
 * removes what it added).  Blocking main_loop_wait calls are bounded by a
 * glib timeout source on the default GMainContext (a guard) that must not
 * fire.  qemu_notify_event from another thread is in
 * test-main-loop-thread.c (label "threads").
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <glib.h>
#include <stdbool.h>
#include <unistd.h>

#include "qloop-test.h"

#define MS(n) ((int64_t)(n) * SCALE_MS)

/* Let leftovers of earlier cases run. */
static void drain(void)
{
    for (int i = 0; i < 4; i++) {
        main_loop_wait(1);
    }
}

typedef struct {
    GSource *src;
    bool fired;
} Guard;

static gboolean guard_cb(gpointer opaque)
{
    ((Guard *)opaque)->fired = true;
    return G_SOURCE_CONTINUE;
}

static void guard_start(Guard *g)
{
    g->fired = false;
    g->src = g_timeout_source_new(5000);
    g_source_set_callback(g->src, guard_cb, g, NULL);
    g_source_attach(g->src, NULL);
}

static void guard_stop(Guard *g)
{
    g_source_destroy(g->src);
    g_source_unref(g->src);
    g_assert_false(g->fired);
}

static void log_cb(void *opaque)
{
    qt_log(opaque);
}

/* Initialization: two distinct contexts, attached to glib's default. */
static void test_init(void)
{
    GSource *main_src = aio_get_g_source(qemu_get_aio_context());
    GSource *io_src = iohandler_get_g_source();

    g_assert_true(qemu_main_loop_initialized());
    g_assert_nonnull(qemu_get_aio_context());
    g_assert_nonnull(iohandler_get_aio_context());
    g_assert_true(iohandler_get_aio_context() != qemu_get_aio_context());
    g_assert_true(qemu_get_current_aio_context() == qemu_get_aio_context());
    g_assert_true(io_src == (GSource *)iohandler_get_aio_context());
    g_assert_true(g_source_get_context(main_src) == g_main_context_default());
    g_assert_true(g_source_get_context(io_src) == g_main_context_default());
    g_assert_cmpstr(g_source_get_name(main_src), ==, "aio-context");
    g_assert_cmpstr(g_source_get_name(io_src), ==, "io-handler");
    /* The main loop's own timer-list group, separate from the contexts'. */
    for (int type = 0; type < QEMU_CLOCK_MAX; type++) {
        g_assert_nonnull(main_loop_tlg.tl[type]);
        g_assert_true(main_loop_tlg.tl[type] !=
                      qemu_get_aio_context()->tlg.tl[type]);
    }
    g_source_unref(main_src);
    g_source_unref(io_src);
}

/* qemu_bh_new BHs live on the main context; main_loop_wait runs them. */
static void test_bh(void)
{
    QEMUBH *a = qemu_bh_new(log_cb, "A");
    QEMUBH *b = qemu_bh_new(log_cb, "B");

    drain();
    qt_log_reset();
    qemu_bh_schedule(a);
    qemu_bh_schedule(b);
    main_loop_wait(1);
    g_assert_cmpstr(qt_log_take(), ==, "B,A");
    main_loop_wait(1);
    g_assert_cmpstr(qt_log_take(), ==, "");

    /* ... and so does aio_poll on the main context. */
    qemu_bh_schedule(a);
    g_assert_true(aio_poll(qemu_get_aio_context(), false));
    g_assert_cmpstr(qt_log_take(), ==, "A");
    qemu_bh_delete(a);
    qemu_bh_delete(b);
    drain();
}

typedef struct {
    int fired;
    int64_t fired_ns;
} TimerData;

static void timer_cb(void *opaque)
{
    TimerData *td = opaque;

    td->fired++;
    td->fired_ns = qemu_clock_get_ns(QEMU_CLOCK_REALTIME);
}

/*
 * Main-loop timers (timer_new_*, main_loop_tlg) run from main_loop_wait,
 * not from aio_poll on the main context.
 */
static void test_timers_nonblocking(void)
{
    TimerData td = { 0 };
    QEMUTimer *t = timer_new_ns(QEMU_CLOCK_REALTIME, timer_cb, &td);

    drain();
    g_assert_true(t->timer_list == main_loop_tlg.tl[QEMU_CLOCK_REALTIME]);
    timer_mod_ns(t, qemu_clock_get_ns(QEMU_CLOCK_REALTIME) - 1);
    g_assert_true(qemu_clock_expired(QEMU_CLOCK_REALTIME));
    aio_poll(qemu_get_aio_context(), false);
    g_assert_cmpint(td.fired, ==, 0);
    main_loop_wait(1);
    g_assert_cmpint(td.fired, ==, 1);
    main_loop_wait(1);
    g_assert_cmpint(td.fired, ==, 1);
    g_assert_false(timer_pending(t));
    timer_free(t);
}

/* A blocking main_loop_wait waits for a main-loop timer; never early. */
static void test_timers_blocking(void)
{
    TimerData td = { 0 };
    QEMUTimer *t = timer_new_ms(QEMU_CLOCK_REALTIME, timer_cb, &td);
    int64_t expire_ns;
    int64_t deadline_us = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    Guard guard;

    drain();
    guard_start(&guard);
    timer_mod(t, qemu_clock_get_ms(QEMU_CLOCK_REALTIME) + 15);
    expire_ns = t->expire_time;
    while (!td.fired) {
        qt_assert_before(deadline_us, "main-loop timer");
        main_loop_wait(0);
    }
    guard_stop(&guard);
    g_assert_cmpint(td.fired, ==, 1);
    g_assert_cmpint(td.fired_ns, >=, expire_ns);
    timer_free(t);
}

/* A timer on the main AioContext fires from main_loop_wait too (GSource). */
static void test_aio_timer_from_main_loop(void)
{
    TimerData td = { 0 };
    QEMUTimer *t = aio_timer_new(qemu_get_aio_context(), QEMU_CLOCK_REALTIME,
                                 SCALE_NS, timer_cb, &td);

    drain();
    timer_mod_ns(t, qemu_clock_get_ns(QEMU_CLOCK_REALTIME) - 1);
    main_loop_wait(1);
    g_assert_cmpint(td.fired, ==, 1);
    timer_free(t);
}

typedef struct {
    int fd;
    int reads;
    bool drain;
} FdData;

static void fd_read_cb(void *opaque)
{
    FdData *d = opaque;
    char buf[16];

    d->reads++;
    if (d->drain) {
        while (read(d->fd, buf, sizeof(buf)) > 0) {
        }
    }
}

/*
 * qemu_set_fd_handler handlers live on iohandler_ctx: main_loop_wait runs
 * them, aio_poll on the main context never does.
 */
static void test_set_fd_handler(void)
{
    int fds[2];
    FdData d = { .drain = true };

    drain();
    g_assert_cmpint(pipe2(fds, O_NONBLOCK | O_CLOEXEC), ==, 0);
    d.fd = fds[0];
    qemu_set_fd_handler(fds[0], fd_read_cb, NULL, &d);
    g_assert_cmpint(write(fds[1], "x", 1), ==, 1);
    for (int i = 0; i < 3; i++) {
        aio_poll(qemu_get_aio_context(), false);
    }
    g_assert_cmpint(d.reads, ==, 0);
    main_loop_wait(1);
    g_assert_cmpint(d.reads, ==, 1);
    main_loop_wait(1);
    g_assert_cmpint(d.reads, ==, 1);

    /* A blocking main_loop_wait returns for it. */
    {
        Guard guard;

        guard_start(&guard);
        g_assert_cmpint(write(fds[1], "y", 1), ==, 1);
        while (d.reads < 2 && !guard.fired) {
            main_loop_wait(0);
        }
        guard_stop(&guard);
        g_assert_cmpint(d.reads, ==, 2);
    }

    qemu_set_fd_handler(fds[0], NULL, NULL, NULL);
    g_assert_cmpint(write(fds[1], "z", 1), ==, 1);
    main_loop_wait(1);
    g_assert_cmpint(d.reads, ==, 2);
    close(fds[0]);
    close(fds[1]);
    drain();
}

/* The same through aio_set_fd_handler on iohandler_get_aio_context(). */
static void test_iohandler_ctx(void)
{
    int fds[2];
    FdData d = { .drain = false };
    AioContext *io = iohandler_get_aio_context();

    drain();
    g_assert_cmpint(pipe2(fds, O_NONBLOCK | O_CLOEXEC), ==, 0);
    d.fd = fds[0];
    aio_set_fd_handler(io, fds[0], fd_read_cb, NULL, NULL, NULL, &d);
    g_assert_cmpint(write(fds[1], "x", 1), ==, 1);
    aio_poll(qemu_get_aio_context(), false);
    g_assert_cmpint(d.reads, ==, 0);
    main_loop_wait(1);
    g_assert_cmpint(d.reads, ==, 1);
    /* Level-triggered: not drained, so again. */
    main_loop_wait(1);
    g_assert_cmpint(d.reads, ==, 2);
    aio_set_fd_handler(io, fds[0], NULL, NULL, NULL, NULL, NULL);
    main_loop_wait(1);
    g_assert_cmpint(d.reads, ==, 2);
    close(fds[0]);
    close(fds[1]);
    drain();
}

/* event_notifier_set_handler also lands on iohandler_ctx. */
static void notifier_cb(EventNotifier *e)
{
    g_assert_true(event_notifier_test_and_clear(e));
    qt_log("E");
}

static void test_event_notifier_handler(void)
{
    EventNotifier e;

    drain();
    qt_log_reset();
    g_assert_cmpint(event_notifier_init(&e, 1), ==, 0);
    event_notifier_set_handler(&e, notifier_cb);
    aio_poll(qemu_get_aio_context(), false);
    g_assert_cmpstr(qt_log_take(), ==, "");
    main_loop_wait(1);
    g_assert_cmpstr(qt_log_take(), ==, "E");
    event_notifier_set_handler(&e, NULL);
    event_notifier_cleanup(&e);
    drain();
}

/* qemu_notify_event in the same thread: the next blocking wait returns. */
static void test_notify_event_same_thread(void)
{
    Guard guard;
    int64_t start_ns;

    drain();
    guard_start(&guard);
    qemu_notify_event();
    start_ns = qemu_clock_get_ns(QEMU_CLOCK_REALTIME);
    main_loop_wait(0);
    g_assert_cmpint(qemu_clock_get_ns(QEMU_CLOCK_REALTIME) - start_ns, <,
                    MS(4000));
    guard_stop(&guard);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qemu_init_main_loop(&error_abort);

    g_test_add_func("/main-loop/init", test_init);
    g_test_add_func("/main-loop/bh", test_bh);
    g_test_add_func("/main-loop/timers/nonblocking", test_timers_nonblocking);
    g_test_add_func("/main-loop/timers/blocking", test_timers_blocking);
    g_test_add_func("/main-loop/timers/aio-context", test_aio_timer_from_main_loop);
    g_test_add_func("/main-loop/fd/set-fd-handler", test_set_fd_handler);
    g_test_add_func("/main-loop/fd/iohandler-ctx", test_iohandler_ctx);
    g_test_add_func("/main-loop/fd/event-notifier-handler",
                    test_event_notifier_handler);
    g_test_add_func("/main-loop/notify-event/same-thread",
                    test_notify_event_same_thread);

    return g_test_run();
}
