/*
 * tests/test-main-loop-thread.c — qemu_notify_event() from another thread
 * wakes a blocking main_loop_wait() (semantics.md "Main loop").
 *
 * Method: the main thread blocks in main_loop_wait(0) with nothing to do.
 * A second thread waits until the main AioContext's notify_me shows bit 0
 * (the GSource prepare ran, so the main thread is on its way into or in
 * the poll) and then calls qemu_notify_event().  Repeated many times; each
 * round must end well before a 5 s glib timeout source (the guard) would
 * end the wait, and a watchdog turns a hang into a failure.  The round
 * counter is published before each wait so the other thread notifies once
 * per wait, never for a stale one.
 */
#include <glib.h>
#include <stdbool.h>

#include "qloop-test.h"

#define ROUNDS 100

typedef struct {
    int round;          /* bumped by the main thread before each wait */
    int notified_round; /* last round the helper (is about to have) notified */
    bool stop;
} Shared;

static gpointer notify_thread(gpointer opaque)
{
    Shared *s = opaque;
    AioContext *ctx = qemu_get_aio_context();
    int done_round = 0;

    while (!qt_load(&s->stop)) {
        int round = qt_load(&s->round);

        if (round == done_round ||
            !(__atomic_load_n(&ctx->notify_me, __ATOMIC_SEQ_CST) & 1)) {
            g_thread_yield();
            continue;
        }
        /*
         * Announce first: announcing after the notify would let the main
         * thread, woken by it, look before the announcement and go back to
         * a wait nobody will end.
         */
        qt_store(&s->notified_round, round);
        qemu_notify_event();
        done_round = round;
    }
    return NULL;
}

static gboolean guard_cb(gpointer opaque)
{
    qt_store((bool *)opaque, true);
    return G_SOURCE_CONTINUE;
}

static void test_notify_event_other_thread(void)
{
    Shared s = { 0 };
    bool guard_fired = false;
    GSource *guard = g_timeout_source_new(5000);
    QtWatchdog wd;
    GThread *thread;

    for (int i = 0; i < 4; i++) {
        main_loop_wait(1);      /* drain start-up work */
    }
    g_source_set_callback(guard, guard_cb, &guard_fired, NULL);
    g_source_attach(guard, NULL);
    qt_watchdog_start(&wd, "qemu_notify_event from another thread", 60);
    thread = g_thread_new("notifier", notify_thread, &s);

    for (int i = 1; i <= ROUNDS; i++) {
        int64_t start_us = g_get_monotonic_time();

        qt_store(&s.round, i);
        /*
         * Spurious returns are allowed: wait until round i's notify was
         * announced.  Until then only that notify (or the guard) can end a
         * blocking wait.
         */
        while (qt_load(&s.notified_round) < i) {
            main_loop_wait(0);
            g_assert_false(qt_load(&guard_fired));
        }
        g_assert_cmpint(g_get_monotonic_time() - start_us, <,
                        4 * G_USEC_PER_SEC);
    }
    qt_store(&s.stop, true);
    g_thread_join(thread);
    qt_watchdog_stop(&wd);
    g_source_destroy(guard);
    g_source_unref(guard);
    g_assert_false(guard_fired);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qemu_init_main_loop(&error_abort);

    g_test_add_func("/main-loop/notify-event/other-thread",
                    test_notify_event_other_thread);

    return g_test_run();
}
