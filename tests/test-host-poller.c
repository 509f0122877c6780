/*
 * tests/test-host-poller.c — the host poller's epoll refusals and its
 * fallback to ppoll, seen through the seam and through the loop core.
 *
 * Method: a regular file is the one watch epoll_ctl(2) always refuses
 * (EPERM) while poll(2) reports it ready both ways, so it makes the
 * refusal reproducible on any Linux host.  (1) On a bare QosPoller pushed
 * past the 64-fd threshold: the set is refused with -EPERM, the fd is not
 * reported while the poller stays on epoll, and after
 * qos_poller_fallback() the poller is on ppoll, reports it, and accepts
 * every later watch.  (2) Through aio_set_fd_handler(): a handler on a
 * regular file in a context already on epoll is called by the next poll
 * — the core fell back instead of leaving a handler nobody polls.
 * (3) A poller that reaches the threshold with a regular file already
 * watched stays on ppoll (the upgrade fails once, for good).
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "qloop-test.h"
#include "os.h"

#define WATCHED 70      /* past the host poller's 64-fd threshold */

static int regular_file_fd(void)
{
    FILE *f = tmpfile();
    int fd;

    g_assert_nonnull(f);
    fd = dup(fileno(f));
    fclose(f);
    g_assert_cmpint(fd, >=, 0);
    return fd;
}

static void open_notifiers(EventNotifier *e, int n)
{
    for (int i = 0; i < n; i++) {
        g_assert_cmpint(event_notifier_init(&e[i], 0), ==, 0);
    }
}

static void close_notifiers(EventNotifier *e, int n)
{
    for (int i = 0; i < n; i++) {
        event_notifier_cleanup(&e[i]);
    }
}

static void test_seam_refusal_then_fallback(void)
{
    EventNotifier e[WATCHED];
    QosPoller *p = qos_poller_new(&error_abort);
    int file = regular_file_fd();
    QosReady ready[WATCHED + 1];
    int n;

    open_notifiers(e, WATCHED);
    for (int i = 0; i < WATCHED; i++) {
        g_assert_cmpint(qos_poller_set(p, event_notifier_get_fd(&e[i]),
                                       G_IO_IN), ==, 0);
    }
    g_assert_cmpstr(qos_poller_kind(p), ==, "epoll");

    g_assert_cmpint(qos_poller_set(p, file, G_IO_IN), ==, -EPERM);
    /* Refused: epoll does not report it, though it is always readable. */
    g_assert_cmpint(qos_poller_wait(p, 0, ready, G_N_ELEMENTS(ready)), ==, 0);

    qos_poller_fallback(p);
    g_assert_cmpstr(qos_poller_kind(p), ==, "ppoll");
    n = qos_poller_wait(p, 0, ready, G_N_ELEMENTS(ready));
    g_assert_cmpint(n, ==, 1);
    g_assert_cmpint(ready[0].fd, ==, file);
    g_assert_cmpuint(ready[0].revents & G_IO_IN, ==, G_IO_IN);
    /* ppoll refuses nothing, and it stays: no return to epoll. */
    g_assert_cmpint(qos_poller_set(p, file, G_IO_IN | G_IO_OUT), ==, 0);
    event_notifier_set(&e[3]);
    n = qos_poller_wait(p, 0, ready, G_N_ELEMENTS(ready));
    g_assert_cmpint(n, ==, 2);
    g_assert_cmpstr(qos_poller_kind(p), ==, "ppoll");

    qos_poller_free(p);
    close(file);
    close_notifiers(e, WATCHED);
}

static int file_calls;
static AioContext *file_ctx;
static int file_fd;

static void file_cb(void *opaque)
{
    (void)opaque;
    file_calls++;
    /* Always readable: one call is what the test asks for. */
    aio_set_fd_handler(file_ctx, file_fd, NULL, NULL, NULL, NULL, NULL);
}

static void noop_cb(EventNotifier *e)
{
    event_notifier_test_and_clear(e);
}

static void test_handler_on_regular_file(void)
{
    EventNotifier e[WATCHED];

    file_ctx = aio_context_new(&error_abort);
    open_notifiers(e, WATCHED);
    for (int i = 0; i < WATCHED; i++) {
        aio_set_event_notifier(file_ctx, &e[i], noop_cb, NULL, NULL);
    }
    while (aio_poll(file_ctx, false)) {
    }
    file_fd = regular_file_fd();
    file_calls = 0;
    aio_set_fd_handler(file_ctx, file_fd, file_cb, NULL, NULL, NULL, NULL);
    g_assert_true(aio_poll(file_ctx, false));
    g_assert_cmpint(file_calls, ==, 1);

    /* Other handlers still work on ppoll. */
    event_notifier_set(&e[7]);
    g_assert_true(aio_poll(file_ctx, false));

    for (int i = 0; i < WATCHED; i++) {
        aio_set_event_notifier(file_ctx, &e[i], NULL, NULL, NULL);
    }
    close_notifiers(e, WATCHED);
    close(file_fd);
    aio_poll(file_ctx, false);
    aio_context_unref(file_ctx);
}

static void test_upgrade_refused_stays_on_ppoll(void)
{
    EventNotifier e[WATCHED];
    QosPoller *p = qos_poller_new(&error_abort);
    int file = regular_file_fd();
    QosReady ready[WATCHED + 1];

    open_notifiers(e, WATCHED);
    g_assert_cmpint(qos_poller_set(p, file, G_IO_IN), ==, 0);
    for (int i = 0; i < WATCHED; i++) {
        g_assert_cmpint(qos_poller_set(p, event_notifier_get_fd(&e[i]),
                                       G_IO_IN), ==, 0);
    }
    g_assert_cmpstr(qos_poller_kind(p), ==, "ppoll");
    g_assert_cmpint(qos_poller_wait(p, 0, ready, G_N_ELEMENTS(ready)), ==, 1);
    qos_poller_free(p);
    close(file);
    close_notifiers(e, WATCHED);
}

/*
 * More ready handlers than one wait takes (AIO_READY_MAX, 128) on ppoll
 * (a regular file keeps the poller there): none may starve.  Every handler
 * stays ready (nothing drains), so a wait that always reported the first
 * 128 slots would never reach the others; QEMU's fdmon-poll dispatches
 * every ready handler.
 */
#define MANY_READY 200
static int many_calls[MANY_READY];

static void many_cb(void *opaque)
{
    many_calls[(intptr_t)opaque]++;
}

static void test_many_ready_no_starvation(void)
{
    AioContext *ctx = aio_context_new(&error_abort);
    int file = regular_file_fd();
    int fds[MANY_READY][2];

    /* Its own handler, which counts too: a regular file is always ready. */
    aio_set_fd_handler(ctx, file, many_cb, NULL, NULL, NULL,
                       (void *)(intptr_t)(MANY_READY - 1));
    for (intptr_t i = 0; i < MANY_READY - 1; i++) {
        g_assert_cmpint(pipe(fds[i]), ==, 0);
        g_assert_cmpint(write(fds[i][1], "x", 1), ==, 1);
        aio_set_fd_handler(ctx, fds[i][0], many_cb, NULL, NULL, NULL,
                           (void *)i);
    }
    for (int k = 0; k < 4; k++) {
        aio_poll(ctx, false);
    }
    for (int i = 0; i < MANY_READY; i++) {
        if (many_calls[i] == 0) {
            g_error("handler %d of %d, ready all along, never ran in 4 polls",
                    i, MANY_READY);
        }
    }
    aio_set_fd_handler(ctx, file, NULL, NULL, NULL, NULL, NULL);
    for (int i = 0; i < MANY_READY - 1; i++) {
        aio_set_fd_handler(ctx, fds[i][0], NULL, NULL, NULL, NULL, NULL);
        close(fds[i][0]);
        close(fds[i][1]);
    }
    close(file);
    aio_poll(ctx, false);
    aio_context_unref(ctx);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/host/poller/refusal-then-fallback",
                    test_seam_refusal_then_fallback);
    g_test_add_func("/host/poller/handler-on-regular-file",
                    test_handler_on_regular_file);
    g_test_add_func("/host/poller/upgrade-refused",
                    test_upgrade_refused_stays_on_ppoll);
    g_test_add_func("/host/poller/many-ready-no-starvation",
                    test_many_ready_no_starvation);
    return g_test_run();
}
