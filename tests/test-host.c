/*
 * tests/test-host.c — what only the host backend can show: epoll once a
 * context watches many fds, operating errors coming back through Error **,
 * and programming errors aborting with the object's name.
 *
 * Method: (1) 100 EventNotifier handlers push the poller past QEMU's
 * 64-fd threshold; three become ready in reverse registration order and
 * must still dispatch oldest first, and one removed by an earlier handler
 * in the same round must not run.  (2) RLIMIT_NOFILE is lowered to the fds
 * already open so eventfd() fails: aio_context_new() must return NULL with
 * a message, not abort.  (3) A second thread polling a context another
 * thread owns aborts, naming the context (in a subprocess).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "qloop-test.h"

#define MANY 100

static EventNotifier many[MANY];
static AioContext *many_ctx;

static void many_cb(EventNotifier *e)
{
    int i = (int)(e - many);
    char name[8];

    event_notifier_test_and_clear(e);
    g_snprintf(name, sizeof(name), "%d", i);
    qt_log(name);
    if (i == 10) {
        /* Removed during dispatch, while ready: never called again. */
        aio_set_event_notifier(many_ctx, &many[50], NULL, NULL, NULL);
    }
}

static void test_epoll_many_fds_order(void)
{
    many_ctx = aio_context_new(&error_abort);
    for (int i = 0; i < MANY; i++) {
        g_assert_cmpint(event_notifier_init(&many[i], 0), ==, 0);
        aio_set_event_notifier(many_ctx, &many[i], many_cb, NULL, NULL);
    }
    while (aio_poll(many_ctx, false)) {
    }
    qt_log_reset();

    event_notifier_set(&many[90]);
    event_notifier_set(&many[50]);
    event_notifier_set(&many[10]);
    event_notifier_set(&many[70]);
    g_assert_true(aio_poll(many_ctx, true));
    g_assert_cmpstr(qt_log_take(), ==, "10,70,90");

    /* Re-registering moves a handler to the end, in epoll mode too. */
    aio_set_event_notifier(many_ctx, &many[5], many_cb, NULL, NULL);
    event_notifier_set(&many[5]);
    event_notifier_set(&many[6]);
    g_assert_true(aio_poll(many_ctx, true));
    g_assert_cmpstr(qt_log_take(), ==, "6,5");

    for (int i = 0; i < MANY; i++) {
        aio_set_event_notifier(many_ctx, &many[i], NULL, NULL, NULL);
        event_notifier_cleanup(&many[i]);
    }
    aio_poll(many_ctx, false);
    aio_context_unref(many_ctx);
}

static void test_fd_limit_is_an_error(void)
{
    struct rlimit old, low;
    Error *err = NULL;
    AioContext *ctx;
    int lowest_free = 0;

    g_assert_cmpint(getrlimit(RLIMIT_NOFILE, &old), ==, 0);
    /* New fds take the lowest free number: a limit there leaves none. */
    while (fcntl(lowest_free, F_GETFD) >= 0) {
        lowest_free++;
    }
    low = old;
    low.rlim_cur = (rlim_t)lowest_free;
    g_assert_cmpint(setrlimit(RLIMIT_NOFILE, &low), ==, 0);
    ctx = aio_context_new(&err);
    g_assert_cmpint(setrlimit(RLIMIT_NOFILE, &old), ==, 0);

    g_assert_null(ctx);
    g_assert_nonnull(err);
    g_assert_nonnull(strstr(error_get_pretty(err), "event notifier"));
    g_assert_nonnull(strstr(error_get_pretty(err), strerror(EMFILE)));
    error_free(err);
}

static void *foreign_poll(void *opaque)
{
    aio_poll(opaque, false);
    return NULL;
}

static void test_foreign_thread_poll_aborts(void)
{
    if (g_test_subprocess()) {
        AioContext *ctx = aio_context_new(&error_abort);
        QemuThread t;

        ctx->name = "ctx-under-test";
        aio_poll(ctx, false);       /* this thread is now its home */
        qemu_thread_create(&t, "foreign", foreign_poll, ctx,
                           QEMU_THREAD_JOINABLE);
        qemu_thread_join(&t);
        return;                     /* not reached: the poll aborts */
    }
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_failed();
    g_test_trap_assert_stderr("*aio_poll(ctx-under-test*home thread*");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/host/epoll/many-fds-order", test_epoll_many_fds_order);
    g_test_add_func("/host/errors/fd-limit", test_fd_limit_is_an_error);
    g_test_add_func("/host/errors/foreign-thread-poll",
                    test_foreign_thread_poll_aborts);
    return g_test_run();
}
