/*
 * tests/test-fd.c — fd handlers: semantics.md "fd handlers" and "aio_poll
 * result", plus QEMU's /aio/event/... checklist, driven through aio_poll().
 *
 * Method: handlers sit on real pipes, socketpairs and EventNotifiers of a
 * fresh AioContext.  Each handler appends "<name>.<what>" to an order log
 * (r = io_read, w = io_write, pr = io_poll_ready), and the test compares the
 * log with the exact dispatch order.  Pipes are made in one order and
 * registered in another so that registration order, not fd number, is
 * what the log shows.  That every add/remove/update notifies is observed
 * through ctx->notified and a blocking aio_poll() bounded by a guard timer.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "qloop-test.h"

typedef struct Probe Probe;
struct Probe {
    const char *name;
    int fd;
    AioContext *ctx;
    int reads, writes, poll_readys, polls;
    bool drain;             /* io_read drains the fd */
    bool poll_result;       /* what io_poll returns */
    /* Done once by io_read: remove or replace another handler. */
    Probe *remove_other;
    Probe *replace_other;
    IOHandler *replace_read;
    bool nest_poll;         /* io_read nests aio_poll(ctx, false) */
};

static void log_probe(Probe *p, const char *what)
{
    char *s = g_strdup_printf("%s.%s", p->name, what);

    qt_log(s);
    g_free(s);
}

static void drain_fd(int fd)
{
    char buf[256];

    while (read(fd, buf, sizeof(buf)) > 0) {
        /* empty the pipe */
    }
}

static void set_handler(Probe *p, IOHandler *r, IOHandler *w);

static void probe_read(void *opaque)
{
    Probe *p = opaque;

    p->reads++;
    log_probe(p, "r");
    if (p->drain) {
        drain_fd(p->fd);
    }
    if (p->remove_other) {
        aio_set_fd_handler(p->ctx, p->remove_other->fd, NULL, NULL, NULL,
                           NULL, NULL);
        p->remove_other = NULL;
    }
    if (p->replace_other) {
        set_handler(p->replace_other, p->replace_read, NULL);
        p->replace_other = NULL;
    }
    if (p->nest_poll) {
        p->nest_poll = false;
        aio_poll(p->ctx, false);
    }
}

static void probe_read_new(void *opaque)
{
    Probe *p = opaque;

    p->reads++;
    log_probe(p, "r2");
}

static void probe_write(void *opaque)
{
    Probe *p = opaque;

    p->writes++;
    log_probe(p, "w");
}

static bool probe_poll(void *opaque)
{
    Probe *p = opaque;

    p->polls++;
    return p->poll_result;
}

static void probe_poll_ready(void *opaque)
{
    Probe *p = opaque;

    p->poll_readys++;
    log_probe(p, "pr");
}

static void set_handler(Probe *p, IOHandler *r, IOHandler *w)
{
    aio_set_fd_handler(p->ctx, p->fd, r, w, NULL, NULL, p);
}

static void remove_handler(Probe *p)
{
    aio_set_fd_handler(p->ctx, p->fd, NULL, NULL, NULL, NULL, NULL);
}

typedef struct {
    int rfd, wfd;
} Pipe;

static Pipe pipe_new(bool with_data)
{
    int fds[2];
    Pipe p;

    g_assert_cmpint(pipe2(fds, O_NONBLOCK | O_CLOEXEC), ==, 0);
    p.rfd = fds[0];
    p.wfd = fds[1];
    if (with_data) {
        g_assert_cmpint(write(p.wfd, "x", 1), ==, 1);
    }
    return p;
}

static void pipe_close(Pipe *p)
{
    if (p->rfd >= 0) {
        close(p->rfd);
    }
    if (p->wfd >= 0) {
        close(p->wfd);
    }
    p->rfd = p->wfd = -1;
}

static bool notified(AioContext *ctx)
{
    return __atomic_load_n(&ctx->notified, __ATOMIC_SEQ_CST);
}

/* ---- dispatch order ---------------------------------------------------- */

/*
 * Ready handlers run in registration order, oldest first — not fd order;
 * re-registering moves a handler to the end.
 */
static void test_order_registration(void)
{
    AioContext *ctx = aio_context_new(&error_abort);
    Pipe pp[3];
    Probe p[3] = {
        { .name = "p0" }, { .name = "p1" }, { .name = "p2" },
    };

    qt_log_reset();
    for (int i = 0; i < 3; i++) {
        pp[i] = pipe_new(true);
        p[i].fd = pp[i].rfd;
        p[i].ctx = ctx;
    }
    /* fds ascend p0 < p1 < p2; register p2, p0, p1. */
    set_handler(&p[2], probe_read, NULL);
    set_handler(&p[0], probe_read, NULL);
    set_handler(&p[1], probe_read, NULL);
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpstr(qt_log_take(), ==, "p2.r,p0.r,p1.r");

    /* Re-registering p2 with the very same callbacks moves it last. */
    set_handler(&p[2], probe_read, NULL);
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpstr(qt_log_take(), ==, "p0.r,p1.r,p2.r");

    /* Re-registering p0 moves it last too. */
    set_handler(&p[0], probe_read, NULL);
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpstr(qt_log_take(), ==, "p1.r,p2.r,p0.r");

    /* Only ready handlers run: drain p1. */
    drain_fd(pp[1].rfd);
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpstr(qt_log_take(), ==, "p2.r,p0.r");

    for (int i = 0; i < 3; i++) {
        remove_handler(&p[i]);
        pipe_close(&pp[i]);
    }
    g_assert_false(aio_poll(ctx, false));
    aio_context_unref(ctx);
}

/* Per handler io_read then io_write; handler by handler. */
static void test_order_read_write(void)
{
    AioContext *ctx = aio_context_new(&error_abort);
    int sx[2], sy[2];
    Probe x = { .name = "X", .ctx = ctx }, y = { .name = "Y", .ctx = ctx };

    qt_log_reset();
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sx),
                    ==, 0);
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sy),
                    ==, 0);
    g_assert_cmpint(write(sx[1], "x", 1), ==, 1);
    g_assert_cmpint(write(sy[1], "y", 1), ==, 1);
    x.fd = sx[0];
    y.fd = sy[0];
    set_handler(&y, probe_read, probe_write);
    set_handler(&x, probe_read, probe_write);
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpstr(qt_log_take(), ==, "Y.r,Y.w,X.r,X.w");

    /* A write-only handler on a writable socket: progress, no read. */
    set_handler(&y, NULL, probe_write);
    remove_handler(&x);
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpstr(qt_log_take(), ==, "Y.w");

    remove_handler(&y);
    close(sx[0]);
    close(sx[1]);
    close(sy[0]);
    close(sy[1]);
    aio_context_unref(ctx);
}

/*
 * Polling mode: io_poll() reports ready → io_poll_ready() runs, in
 * registration order, and counts as progress.  As in QEMU, a handler made
 * ready by io_poll alone (no fd event) gets only io_poll_ready.
 */
static void test_poll_ready(void)
{
    AioContext *ctx = aio_context_new(&error_abort);
    EventNotifier ex, ey;
    Probe x = { .name = "X", .ctx = ctx, .poll_result = true };
    Probe y = { .name = "Y", .ctx = ctx, .poll_result = true };
    QtGuard guard;

    qt_log_reset();
    g_assert_cmpint(event_notifier_init(&ex, 0), ==, 0);
    g_assert_cmpint(event_notifier_init(&ey, 0), ==, 0);
    x.fd = event_notifier_get_fd(&ex);
    y.fd = event_notifier_get_fd(&ey);
    aio_context_set_poll_params(ctx, 2000LL * SCALE_MS, 0, 0, &error_abort);
    aio_set_fd_handler(ctx, y.fd, probe_read, NULL, probe_poll,
                       probe_poll_ready, &y);
    aio_set_fd_handler(ctx, x.fd, probe_read, NULL, probe_poll,
                       probe_poll_ready, &x);

    qt_guard_arm(&guard, ctx);
    aio_notify_accept(ctx);
    g_assert_true(qt_poll_blocking_at_once(ctx, &guard));
    g_assert_cmpstr(qt_log_take(), ==, "Y.pr,X.pr");
    g_assert_cmpint(x.polls, >=, 1);
    g_assert_cmpint(y.polls, >=, 1);

    /*
     * Out of polling mode, a handler whose fd is set gets io_read (the
     * wait has to look at fds: io_poll is not consulted).
     */
    aio_context_set_poll_params(ctx, 0, 0, 0, &error_abort);
    x.poll_result = y.poll_result = false;
    event_notifier_set(&ex);
    aio_notify_accept(ctx);
    g_assert_true(qt_poll_blocking_at_once(ctx, &guard));
    g_assert_cmpstr(qt_log_take(), ==, "X.r");
    qt_guard_disarm(&guard);

    aio_set_fd_handler(ctx, x.fd, NULL, NULL, NULL, NULL, NULL);
    aio_set_fd_handler(ctx, y.fd, NULL, NULL, NULL, NULL, NULL);
    event_notifier_cleanup(&ex);
    event_notifier_cleanup(&ey);
    aio_context_unref(ctx);
}

/* ---- event masks --------------------------------------------------------- */

/* HUP is a read event: a pipe whose writer closed calls io_read. */
static void test_read_on_hup(void)
{
    AioContext *ctx = aio_context_new(&error_abort);
    Pipe pp = pipe_new(false);
    Probe p = { .name = "P", .ctx = ctx, .fd = pp.rfd };

    qt_log_reset();
    set_handler(&p, probe_read, NULL);
    g_assert_false(aio_poll(ctx, false));
    g_assert_cmpstr(qt_log_take(), ==, "");
    close(pp.wfd);
    pp.wfd = -1;
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpstr(qt_log_take(), ==, "P.r");
    remove_handler(&p);
    pipe_close(&pp);
    aio_context_unref(ctx);
}

/*
 * ERR is both a read and a write event: a pipe's write end whose reader
 * closed reports OUT|ERR, so io_read and io_write both run (in that order);
 * a read-only handler runs too.
 */
static void test_err_read_and_write(void)
{
    AioContext *ctx = aio_context_new(&error_abort);
    Pipe pp = pipe_new(false);
    Probe p = { .name = "P", .ctx = ctx, .fd = pp.wfd };

    qt_log_reset();
    close(pp.rfd);
    pp.rfd = -1;
    set_handler(&p, probe_read, probe_write);
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpstr(qt_log_take(), ==, "P.r,P.w");
    set_handler(&p, probe_read, NULL);
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpstr(qt_log_take(), ==, "P.r");
    remove_handler(&p);
    pipe_close(&pp);
    aio_context_unref(ctx);
}

/* OUT is not a read event, IN is not a write event. */
static void test_event_masks(void)
{
    AioContext *ctx = aio_context_new(&error_abort);
    Pipe pp = pipe_new(true);
    Probe r = { .name = "R", .ctx = ctx, .fd = pp.wfd };  /* writable only */
    Probe w = { .name = "W", .ctx = ctx, .fd = pp.rfd };  /* readable only */

    qt_log_reset();
    set_handler(&r, probe_read, NULL);
    set_handler(&w, NULL, probe_write);
    g_assert_false(aio_poll(ctx, false));
    g_assert_cmpstr(qt_log_take(), ==, "");
    /* Swap the callbacks: now both are ready; registration order R, W. */
    set_handler(&r, NULL, probe_write);
    set_handler(&w, probe_read, NULL);
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpstr(qt_log_take(), ==, "R.w,W.r");
    remove_handler(&r);
    remove_handler(&w);
    pipe_close(&pp);
    aio_context_unref(ctx);
}

/* Level-triggered: an undrained fd is reported on every poll. */
static void test_level_triggered(void)
{
    AioContext *ctx = aio_context_new(&error_abort);
    Pipe pp = pipe_new(true);
    Probe p = { .name = "P", .ctx = ctx, .fd = pp.rfd };

    qt_log_reset();
    set_handler(&p, probe_read, NULL);
    for (int i = 1; i <= 3; i++) {
        g_assert_true(aio_poll(ctx, false));
        g_assert_cmpint(p.reads, ==, i);
    }
    drain_fd(pp.rfd);
    g_assert_false(aio_poll(ctx, false));
    g_assert_cmpint(p.reads, ==, 3);
    g_assert_cmpint(write(pp.wfd, "x", 1), ==, 1);
    g_assert_true(aio_poll(ctx, true));
    g_assert_cmpint(p.reads, ==, 4);
    remove_handler(&p);
    pipe_close(&pp);
    aio_context_unref(ctx);
}

/* ---- changes during dispatch --------------------------------------------- */

/* A removes B while both are ready: B is never called, now or later. */
static void test_remove_during_dispatch(void)
{
    AioContext *ctx = aio_context_new(&error_abort);
    Pipe pa = pipe_new(true), pb = pipe_new(true), pc = pipe_new(true);
    Probe a = { .name = "A", .ctx = ctx, .fd = pa.rfd };
    Probe b = { .name = "B", .ctx = ctx, .fd = pb.rfd };
    Probe c = { .name = "C", .ctx = ctx, .fd = pc.rfd };

    qt_log_reset();
    set_handler(&a, probe_read, NULL);
    set_handler(&b, probe_read, NULL);
    set_handler(&c, probe_read, NULL);
    a.remove_other = &b;
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpstr(qt_log_take(), ==, "A.r,C.r");
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpstr(qt_log_take(), ==, "A.r,C.r");
    g_assert_cmpint(b.reads, ==, 0);

    /* A handler removing itself from its own callback. */
    a.remove_other = &a;
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpstr(qt_log_take(), ==, "A.r,C.r");
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpstr(qt_log_take(), ==, "C.r");

    remove_handler(&c);
    g_assert_false(aio_poll(ctx, false));
    pipe_close(&pa);
    pipe_close(&pb);
    pipe_close(&pc);
    aio_context_unref(ctx);
}

/* A removal inside a nested aio_poll is seen by the outer walk too. */
static void test_remove_nested(void)
{
    AioContext *ctx = aio_context_new(&error_abort);
    Pipe pa = pipe_new(true), pb = pipe_new(true);
    Probe a = { .name = "A", .ctx = ctx, .fd = pa.rfd };
    Probe b = { .name = "B", .ctx = ctx, .fd = pb.rfd };

    qt_log_reset();
    set_handler(&a, probe_read, NULL);
    set_handler(&b, probe_read, NULL);
    a.remove_other = &b;
    a.nest_poll = true;
    g_assert_true(aio_poll(ctx, false));
    /* The nested poll runs A again (level-triggered), never B. */
    g_assert_cmpstr(qt_log_take(), ==, "A.r,A.r");
    g_assert_cmpint(b.reads, ==, 0);
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpstr(qt_log_take(), ==, "A.r");
    remove_handler(&a);
    pipe_close(&pa);
    pipe_close(&pb);
    aio_context_unref(ctx);
}

/*
 * A replaces B (A, B, C all ready): the old B is not called in this round,
 * and neither is the new one; on the next poll the new callback runs, at
 * the end (an update is a new registration).
 */
static void test_replace_during_dispatch(void)
{
    AioContext *ctx = aio_context_new(&error_abort);
    Pipe pa = pipe_new(true), pb = pipe_new(true), pc = pipe_new(true);
    Probe a = { .name = "A", .ctx = ctx, .fd = pa.rfd };
    Probe b = { .name = "B", .ctx = ctx, .fd = pb.rfd };
    Probe c = { .name = "C", .ctx = ctx, .fd = pc.rfd };

    qt_log_reset();
    set_handler(&a, probe_read, NULL);
    set_handler(&b, probe_read, NULL);
    set_handler(&c, probe_read, NULL);
    a.replace_other = &b;
    a.replace_read = probe_read_new;
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpstr(qt_log_take(), ==, "A.r,C.r");
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpstr(qt_log_take(), ==, "A.r,C.r,B.r2");
    remove_handler(&a);
    remove_handler(&b);
    remove_handler(&c);
    pipe_close(&pa);
    pipe_close(&pb);
    pipe_close(&pc);
    aio_context_unref(ctx);
}

/* ---- every add/remove/update notifies ------------------------------------ */

typedef enum { OP_ADD, OP_UPDATE, OP_REMOVE } FdOp;

static void check_op_notifies(FdOp op)
{
    AioContext *ctx = aio_context_new(&error_abort);
    Pipe pp = pipe_new(false);
    Probe p = { .name = "P", .ctx = ctx, .fd = pp.rfd };
    QtGuard guard;

    qt_log_reset();
    if (op != OP_ADD) {
        set_handler(&p, probe_read, NULL);
    }
    qt_guard_arm(&guard, ctx);
    aio_notify_accept(ctx);
    g_assert_false(notified(ctx));
    switch (op) {
    case OP_ADD:
        set_handler(&p, probe_read, NULL);
        break;
    case OP_UPDATE:
        set_handler(&p, probe_read, probe_write);
        set_handler(&p, probe_read, NULL);
        aio_notify_accept(ctx);
        set_handler(&p, probe_read_new, NULL);
        break;
    case OP_REMOVE:
        remove_handler(&p);
        break;
    }
    g_assert_true(notified(ctx));
    g_assert_false(qt_poll_blocking_at_once(ctx, &guard));
    qt_guard_disarm(&guard);
    g_assert_cmpstr(qt_log_take(), ==, "");
    remove_handler(&p);
    pipe_close(&pp);
    aio_context_unref(ctx);
}

static void test_add_notifies(void)
{
    check_op_notifies(OP_ADD);
}

static void test_update_notifies(void)
{
    check_op_notifies(OP_UPDATE);
}

static void test_remove_notifies(void)
{
    check_op_notifies(OP_REMOVE);
}

/* ---- QEMU's checklist: /aio/event/... ------------------------------------ */

typedef struct {
    EventNotifier e;
    int n;
    int active;
    bool auto_set;
} EventNotifierTestData;

static void event_ready_cb(EventNotifier *e)
{
    EventNotifierTestData *data = qt_container_of(e, EventNotifierTestData, e);

    g_assert_true(event_notifier_test_and_clear(e));
    data->n++;
    if (data->active > 0) {
        data->active--;
    }
    if (data->auto_set && data->active) {
        event_notifier_set(e);
    }
}

static void set_notifier(AioContext *ctx, EventNotifier *e,
                         EventNotifierHandler *handler)
{
    aio_set_event_notifier(ctx, e, handler, NULL, NULL);
}

/* Poll (blocking) until data->active is 0, with a bound. */
static void wait_until_inactive(AioContext *ctx, EventNotifierTestData *data)
{
    int64_t deadline_us = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;

    while (data->active > 0) {
        qt_assert_before(deadline_us, "wait_until_inactive");
        aio_poll(ctx, true);
    }
}

/* /aio/event/add-remove: a handler whose fd is not set never runs. */
static void test_event_add_remove(void)
{
    AioContext *ctx = aio_context_new(&error_abort);
    EventNotifierTestData data = { .n = 0, .active = 0 };

    event_notifier_init(&data.e, false);
    set_notifier(ctx, &data.e, event_ready_cb);
    g_assert_false(aio_poll(ctx, false));
    g_assert_cmpint(data.n, ==, 0);
    set_notifier(ctx, &data.e, NULL);
    g_assert_false(aio_poll(ctx, false));
    g_assert_cmpint(data.n, ==, 0);
    event_notifier_cleanup(&data.e);
    aio_context_unref(ctx);
}

/* /aio/event/wait: one set, exactly one dispatch; blocking does not block. */
static void test_event_wait(void)
{
    AioContext *ctx = aio_context_new(&error_abort);
    EventNotifierTestData data = { .n = 0, .active = 1 };
    QtGuard guard;

    event_notifier_init(&data.e, false);
    set_notifier(ctx, &data.e, event_ready_cb);
    g_assert_false(aio_poll(ctx, false));
    g_assert_cmpint(data.n, ==, 0);
    g_assert_cmpint(data.active, ==, 1);

    event_notifier_set(&data.e);
    qt_guard_arm(&guard, ctx);
    aio_notify_accept(ctx);
    g_assert_true(qt_poll_blocking_at_once(ctx, &guard));
    qt_guard_disarm(&guard);
    g_assert_cmpint(data.n, ==, 1);
    g_assert_cmpint(data.active, ==, 0);

    g_assert_false(aio_poll(ctx, false));
    g_assert_cmpint(data.n, ==, 1);

    set_notifier(ctx, &data.e, NULL);
    g_assert_false(aio_poll(ctx, false));
    g_assert_cmpint(data.n, ==, 1);
    event_notifier_cleanup(&data.e);
    aio_context_unref(ctx);
}

/* /aio/event/flush: a self-re-arming notifier runs a bounded number of times. */
static void test_event_flush(void)
{
    AioContext *ctx = aio_context_new(&error_abort);
    EventNotifierTestData data = { .n = 0, .active = 10, .auto_set = true };

    event_notifier_init(&data.e, false);
    set_notifier(ctx, &data.e, event_ready_cb);
    g_assert_false(aio_poll(ctx, false));
    g_assert_cmpint(data.n, ==, 0);
    g_assert_cmpint(data.active, ==, 10);

    event_notifier_set(&data.e);
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpint(data.n, ==, 1);
    g_assert_cmpint(data.active, ==, 9);
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpint(data.n, ==, 2);
    g_assert_cmpint(data.active, ==, 8);

    wait_until_inactive(ctx, &data);
    g_assert_cmpint(data.n, ==, 10);
    g_assert_cmpint(data.active, ==, 0);
    g_assert_false(aio_poll(ctx, false));

    set_notifier(ctx, &data.e, NULL);
    g_assert_false(aio_poll(ctx, false));
    event_notifier_cleanup(&data.e);
    aio_context_unref(ctx);
}

/*
 * /aio/event/wait/no-flush-cb: with a second, idle notifier registered, a
 * set notifier dispatches exactly once per set; the other one only when
 * it is set itself.
 */
static void test_event_wait_noflush(void)
{
    AioContext *ctx = aio_context_new(&error_abort);
    EventNotifierTestData data = { .n = 0 };
    EventNotifierTestData dummy = { .n = 0, .active = 1 };

    event_notifier_init(&data.e, false);
    set_notifier(ctx, &data.e, event_ready_cb);
    g_assert_false(aio_poll(ctx, false));
    g_assert_cmpint(data.n, ==, 0);

    event_notifier_set(&data.e);
    g_assert_true(aio_poll(ctx, true));
    g_assert_cmpint(data.n, ==, 1);

    event_notifier_init(&dummy.e, false);
    set_notifier(ctx, &dummy.e, event_ready_cb);

    for (int i = 2; i <= 3; i++) {
        event_notifier_set(&data.e);
        g_assert_true(aio_poll(ctx, false));
        g_assert_cmpint(data.n, ==, i);
        g_assert_false(aio_poll(ctx, false));
        g_assert_cmpint(data.n, ==, i);
    }

    event_notifier_set(&dummy.e);
    wait_until_inactive(ctx, &dummy);
    g_assert_cmpint(data.n, ==, 3);
    g_assert_cmpint(dummy.n, ==, 1);
    g_assert_cmpint(dummy.active, ==, 0);

    set_notifier(ctx, &dummy.e, NULL);
    event_notifier_cleanup(&dummy.e);
    set_notifier(ctx, &data.e, NULL);
    g_assert_false(aio_poll(ctx, false));
    g_assert_cmpint(data.n, ==, 3);
    event_notifier_cleanup(&data.e);
    aio_context_unref(ctx);
}

/* ---- progress ------------------------------------------------------------ */

static void nop_read(void *opaque)
{
    Probe *p = opaque;

    p->reads++;
}

/*
 * A handler that runs counts as progress even if it does nothing; a
 * handler that is not ready does not; the context's own notifier never.
 */
static void test_progress(void)
{
    AioContext *ctx = aio_context_new(&error_abort);
    Pipe pp = pipe_new(false);
    Probe p = { .name = "P", .ctx = ctx, .fd = pp.rfd };

    set_handler(&p, nop_read, NULL);
    g_assert_false(aio_poll(ctx, false));
    g_assert_cmpint(write(pp.wfd, "x", 1), ==, 1);
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpint(p.reads, ==, 1);
    drain_fd(pp.rfd);
    g_assert_false(aio_poll(ctx, false));
    g_assert_cmpint(p.reads, ==, 1);

    /* The context's own EventNotifier, set by hand: read, no progress. */
    event_notifier_set(&ctx->notifier);
    g_assert_false(aio_poll(ctx, false));
    g_assert_false(event_notifier_test_and_clear(&ctx->notifier));

    remove_handler(&p);
    pipe_close(&pp);
    aio_context_unref(ctx);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    g_test_add_func("/fd/order/registration", test_order_registration);
    g_test_add_func("/fd/order/read-write", test_order_read_write);
    g_test_add_func("/fd/order/poll-ready", test_poll_ready);
    g_test_add_func("/fd/events/hup-reads", test_read_on_hup);
    g_test_add_func("/fd/events/err-reads-and-writes", test_err_read_and_write);
    g_test_add_func("/fd/events/masks", test_event_masks);
    g_test_add_func("/fd/level-triggered", test_level_triggered);
    g_test_add_func("/fd/dispatch/remove-other", test_remove_during_dispatch);
    g_test_add_func("/fd/dispatch/remove-nested", test_remove_nested);
    g_test_add_func("/fd/dispatch/replace", test_replace_during_dispatch);
    g_test_add_func("/fd/notify/add", test_add_notifies);
    g_test_add_func("/fd/notify/update", test_update_notifies);
    g_test_add_func("/fd/notify/remove", test_remove_notifies);
    g_test_add_func("/fd/progress", test_progress);

    g_test_add_func("/aio/event/add-remove", test_event_add_remove);
    g_test_add_func("/aio/event/wait", test_event_wait);
    g_test_add_func("/aio/event/wait/no-flush-cb", test_event_wait_noflush);
    g_test_add_func("/aio/event/flush", test_event_flush);

    return g_test_run();
}
