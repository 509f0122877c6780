/*
 * tests/test-gsource.c — the AioContext as a GSource: the BH, fd-handler
 * and timer checklist again, through g_main_context_iteration()
 * (semantics.md "Bottom halves", last rule, and "GSource path").
 *
 * Method: each test attaches a fresh AioContext's GSource to a private
 * GMainContext and drives it only with g_main_context_iteration(), whose
 * TRUE/FALSE result ("something was dispatched") is asserted iteration by
 * iteration, together with the order log.  Blocking iterations are bounded
 * by a glib timeout source on the same GMainContext (a guard): if the guard
 * dispatches, the test fails instead of hanging.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <glib.h>
#include <stdbool.h>
#include <unistd.h>

#include "qloop-test.h"

typedef struct {
    AioContext *ctx;
    GMainContext *gctx;
    GSource *src;
    GSource *guard;
    bool guard_fired;
} Fixture;

static gboolean guard_cb(gpointer opaque)
{
    Fixture *f = opaque;

    f->guard_fired = true;
    return G_SOURCE_CONTINUE;
}

static void fixture_init(Fixture *f)
{
    f->ctx = aio_context_new(&error_abort);
    f->gctx = g_main_context_new();
    qloop_g_main_context_use_seam(f->gctx);
    f->src = aio_get_g_source(f->ctx);
    g_source_attach(f->src, f->gctx);
    f->guard = NULL;
    f->guard_fired = false;
    qt_log_reset();
}

/* Bound blocking iterations: the guard ends a wait after 5 s. */
static void fixture_guard(Fixture *f)
{
    f->guard = g_timeout_source_new(5000);
    g_source_set_callback(f->guard, guard_cb, f, NULL);
    g_source_attach(f->guard, f->gctx);
}

static void fixture_cleanup(Fixture *f)
{
    if (f->guard) {
        g_assert_false(f->guard_fired);
        g_source_destroy(f->guard);
        g_source_unref(f->guard);
    }
    g_source_destroy(f->src);
    g_source_unref(f->src);
    aio_context_unref(f->ctx);
    g_main_context_unref(f->gctx);
}

static gboolean iterate(Fixture *f, gboolean may_block)
{
    return g_main_context_iteration(f->gctx, may_block);
}

static void log_cb(void *opaque)
{
    qt_log(opaque);
}

/* ---- BHs ---------------------------------------------------------------- */

/* Schedule A,B: one iteration runs B,A and returns TRUE; the next FALSE. */
static void test_bh_order(void)
{
    Fixture f;
    QEMUBH *a, *b;

    fixture_init(&f);
    a = aio_bh_new(f.ctx, log_cb, "A");
    b = aio_bh_new(f.ctx, log_cb, "B");
    qemu_bh_schedule(a);
    qemu_bh_schedule(b);
    g_assert_true(iterate(&f, FALSE));
    g_assert_cmpstr(qt_log_take(), ==, "B,A");
    g_assert_false(iterate(&f, FALSE));
    g_assert_cmpstr(qt_log_take(), ==, "");
    qemu_bh_delete(a);
    qemu_bh_delete(b);
    fixture_cleanup(&f);
}

typedef struct {
    QEMUBH *bh;
    int n;
    int max;
} BHTestData;

static void count_cb(void *opaque)
{
    ((BHTestData *)opaque)->n++;
}

/* /aio-gsource/bh/schedule: a blocking iteration runs it, then quiet. */
static void test_bh_schedule(void)
{
    Fixture f;
    BHTestData data = { .n = 0 };

    fixture_init(&f);
    fixture_guard(&f);
    data.bh = aio_bh_new(f.ctx, count_cb, &data);
    qemu_bh_schedule(data.bh);
    g_assert_cmpint(data.n, ==, 0);
    g_assert_true(iterate(&f, TRUE));
    g_assert_cmpint(data.n, ==, 1);
    g_assert_false(iterate(&f, FALSE));
    g_assert_cmpint(data.n, ==, 1);
    qemu_bh_delete(data.bh);
    fixture_cleanup(&f);
}

static void reschedule_cb(void *opaque)
{
    BHTestData *data = opaque;

    if (++data->n < data->max) {
        qemu_bh_schedule(data->bh);
    }
}

/* /aio-gsource/bh/schedule10: once per iteration, never blocking. */
static void test_bh_schedule10(void)
{
    Fixture f;
    BHTestData data = { .n = 0, .max = 10 };

    fixture_init(&f);
    fixture_guard(&f);
    data.bh = aio_bh_new(f.ctx, reschedule_cb, &data);
    qemu_bh_schedule(data.bh);
    g_assert_true(iterate(&f, FALSE));
    g_assert_cmpint(data.n, ==, 1);
    for (int i = 2; i <= 10; i++) {
        g_assert_true(iterate(&f, TRUE));
        g_assert_cmpint(data.n, ==, i);
    }
    g_assert_false(iterate(&f, FALSE));
    g_assert_cmpint(data.n, ==, 10);
    qemu_bh_delete(data.bh);
    fixture_cleanup(&f);
}

/* Schedule then cancel: check sees nothing scheduled; FALSE. */
static void test_bh_cancel(void)
{
    Fixture f;
    BHTestData data = { .n = 0 };

    fixture_init(&f);
    data.bh = aio_bh_new(f.ctx, count_cb, &data);
    qemu_bh_schedule(data.bh);
    qemu_bh_cancel(data.bh);
    g_assert_false(iterate(&f, FALSE));
    g_assert_cmpint(data.n, ==, 0);
    qemu_bh_delete(data.bh);
    fixture_cleanup(&f);
}

/* Schedule then delete (outside any iteration): never runs; FALSE. */
static void test_bh_delete(void)
{
    Fixture f;
    BHTestData data = { .n = 0 };

    fixture_init(&f);
    data.bh = aio_bh_new(f.ctx, count_cb, &data);
    qemu_bh_schedule(data.bh);
    qemu_bh_delete(data.bh);
    g_assert_false(iterate(&f, FALSE));
    g_assert_cmpint(data.n, ==, 0);
    fixture_cleanup(&f);
}

static void delete_self_cb(void *opaque)
{
    BHTestData *data = opaque;

    if (++data->n < data->max) {
        qemu_bh_schedule(data->bh);
    } else {
        qemu_bh_delete(data->bh);
        data->bh = NULL;
    }
}

/*
 * /aio-gsource/bh/callback-delete/one: a BH that deletes itself keeps the
 * context busy for exactly one more iteration (the delete notifies).
 */
static void test_bh_delete_from_cb(void)
{
    Fixture f;
    BHTestData data = { .n = 0, .max = 1 };

    fixture_init(&f);
    fixture_guard(&f);
    data.bh = aio_bh_new(f.ctx, delete_self_cb, &data);
    qemu_bh_schedule(data.bh);
    g_assert_true(iterate(&f, TRUE));
    g_assert_cmpint(data.n, ==, 1);
    g_assert_null(data.bh);
    g_assert_true(iterate(&f, FALSE));
    g_assert_false(iterate(&f, FALSE));
    g_assert_cmpint(data.n, ==, 1);
    fixture_cleanup(&f);
}

/* /aio-gsource/bh/callback-delete/many */
static void test_bh_delete_from_cb_many(void)
{
    Fixture f;
    BHTestData data[4] = {
        { .n = 0, .max = 1 }, { .n = 0, .max = 3 },
        { .n = 0, .max = 2 }, { .n = 0, .max = 4 },
    };
    static const int after[4][4] = {
        { 1, 1, 1, 1 }, { 1, 2, 2, 2 }, { 1, 3, 2, 3 }, { 1, 3, 2, 4 },
    };

    fixture_init(&f);
    for (int i = 0; i < 4; i++) {
        data[i].bh = aio_bh_new(f.ctx, delete_self_cb, &data[i]);
    }
    for (int i = 0; i < 4; i++) {
        qemu_bh_schedule(data[i].bh);
    }
    for (int it = 0; it < 4; it++) {
        g_assert_true(iterate(&f, FALSE));
        for (int i = 0; i < 4; i++) {
            g_assert_cmpint(data[i].n, ==, after[it][i]);
        }
    }
    /*
     * No extra busy iteration here, unlike callback-delete/one: the delete
     * in iteration 4 wrote the eventfd, but iteration 4's poll had already
     * seen it set by iteration 3's delete, and dispatch runs the BHs before
     * the fd handlers, so the context's own read handler cleared both.
     */
    g_assert_false(iterate(&f, FALSE));
    fixture_cleanup(&f);
}

/* A nested aio_poll from a BH dispatched by glib finishes the outer BHs. */
typedef struct {
    AioContext *ctx;
    bool nested_result;
} NestData;

static void nest_cb(void *opaque)
{
    NestData *nd = opaque;

    qt_log("N");
    nd->nested_result = aio_poll(nd->ctx, false);
}

static void test_bh_nested_poll(void)
{
    Fixture f;
    NestData nd;
    QEMUBH *a, *n, *c;

    fixture_init(&f);
    nd.ctx = f.ctx;
    a = aio_bh_new(f.ctx, log_cb, "A");
    n = aio_bh_new(f.ctx, nest_cb, &nd);
    c = aio_bh_new(f.ctx, log_cb, "C");
    qemu_bh_schedule(a);
    qemu_bh_schedule(n);
    qemu_bh_schedule(c);
    g_assert_true(iterate(&f, FALSE));
    g_assert_cmpstr(qt_log_take(), ==, "C,N,A");
    g_assert_true(nd.nested_result);
    qemu_bh_delete(a);
    qemu_bh_delete(n);
    qemu_bh_delete(c);
    fixture_cleanup(&f);
}

/* ---- fd handlers --------------------------------------------------------- */

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

/* /aio-gsource/event/add-remove and /wait: one set, one dispatch. */
static void test_event_wait(void)
{
    Fixture f;
    EventNotifierTestData data = { .n = 0, .active = 1 };

    fixture_init(&f);
    fixture_guard(&f);
    event_notifier_init(&data.e, false);
    aio_set_event_notifier(f.ctx, &data.e, event_ready_cb, NULL, NULL);
    g_assert_false(iterate(&f, FALSE));     /* not set: not dispatched */
    g_assert_cmpint(data.n, ==, 0);
    event_notifier_set(&data.e);
    g_assert_true(iterate(&f, TRUE));
    g_assert_cmpint(data.n, ==, 1);
    g_assert_cmpint(data.active, ==, 0);
    g_assert_false(iterate(&f, FALSE));
    g_assert_cmpint(data.n, ==, 1);
    aio_set_event_notifier(f.ctx, &data.e, NULL, NULL, NULL);
    g_assert_false(iterate(&f, FALSE));
    event_notifier_set(&data.e);
    g_assert_false(iterate(&f, FALSE));     /* removed: never dispatched */
    g_assert_cmpint(data.n, ==, 1);
    event_notifier_cleanup(&data.e);
    fixture_cleanup(&f);
}

/* /aio-gsource/event/flush: a self-re-arming notifier, bounded. */
static void test_event_flush(void)
{
    Fixture f;
    EventNotifierTestData data = { .n = 0, .active = 10, .auto_set = true };

    fixture_init(&f);
    fixture_guard(&f);
    event_notifier_init(&data.e, false);
    aio_set_event_notifier(f.ctx, &data.e, event_ready_cb, NULL, NULL);
    g_assert_false(iterate(&f, FALSE));
    event_notifier_set(&data.e);
    for (int i = 1; i <= 10; i++) {
        g_assert_true(iterate(&f, TRUE));
        g_assert_cmpint(data.n, ==, i);
        g_assert_cmpint(data.active, ==, 10 - i);
    }
    g_assert_false(iterate(&f, FALSE));
    aio_set_event_notifier(f.ctx, &data.e, NULL, NULL, NULL);
    event_notifier_cleanup(&data.e);
    fixture_cleanup(&f);
}

static void pipe_read_cb(void *opaque)
{
    qt_log(opaque);
}

/* Registration order holds through the GSource path as well. */
static void test_fd_order(void)
{
    Fixture f;
    int fds[3][2];
    static const char *names[3] = { "p0", "p1", "p2" };

    fixture_init(&f);
    for (int i = 0; i < 3; i++) {
        g_assert_cmpint(pipe2(fds[i], O_NONBLOCK | O_CLOEXEC), ==, 0);
        g_assert_cmpint(write(fds[i][1], "x", 1), ==, 1);
    }
    aio_set_fd_handler(f.ctx, fds[1][0], pipe_read_cb, NULL, NULL, NULL,
                       (void *)names[1]);
    aio_set_fd_handler(f.ctx, fds[2][0], pipe_read_cb, NULL, NULL, NULL,
                       (void *)names[2]);
    aio_set_fd_handler(f.ctx, fds[0][0], pipe_read_cb, NULL, NULL, NULL,
                       (void *)names[0]);
    g_assert_true(iterate(&f, FALSE));
    g_assert_cmpstr(qt_log_take(), ==, "p1,p2,p0");
    /* Level-triggered here too. */
    g_assert_true(iterate(&f, FALSE));
    g_assert_cmpstr(qt_log_take(), ==, "p1,p2,p0");
    for (int i = 0; i < 3; i++) {
        aio_set_fd_handler(f.ctx, fds[i][0], NULL, NULL, NULL, NULL, NULL);
        close(fds[i][0]);
        close(fds[i][1]);
    }
    g_assert_false(iterate(&f, FALSE));
    g_assert_cmpstr(qt_log_take(), ==, "");
    fixture_cleanup(&f);
}

/* ---- timers -------------------------------------------------------------- */

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

/* An expired timer makes the check true: one busy iteration. */
static void test_timer_expired(void)
{
    Fixture f;
    TimerData td = { 0 };
    QEMUTimer *t;

    fixture_init(&f);
    t = aio_timer_new(f.ctx, QEMU_CLOCK_REALTIME, SCALE_NS, timer_cb, &td);
    timer_mod_ns(t, qemu_clock_get_ns(QEMU_CLOCK_REALTIME) - 1);
    g_assert_true(iterate(&f, FALSE));
    g_assert_cmpint(td.fired, ==, 1);
    g_assert_false(iterate(&f, FALSE));
    timer_free(t);
    fixture_cleanup(&f);
}

/*
 * /aio-gsource/timer/schedule: never early; because prepare rounds the
 * timeout up to whole ms, one blocking iteration waits until it is due.
 */
static void test_timer_schedule(void)
{
    Fixture f;
    TimerData td = { 0 };
    QEMUTimer *t;
    int64_t expire_ns;

    fixture_init(&f);
    fixture_guard(&f);
    t = aio_timer_new(f.ctx, QEMU_CLOCK_REALTIME, SCALE_NS, timer_cb, &td);
    expire_ns = qemu_clock_get_ns(QEMU_CLOCK_REALTIME) + 12345678;
    timer_mod_ns(t, expire_ns);
    if (!iterate(&f, FALSE)) {
        g_assert_cmpint(td.fired, ==, 0);
        g_assert_true(iterate(&f, TRUE));
    }
    g_assert_cmpint(td.fired, ==, 1);
    g_assert_cmpint(td.fired_ns, >=, expire_ns);
    g_assert_false(iterate(&f, FALSE));
    timer_free(t);
    fixture_cleanup(&f);
}

/* ---- nothing to do ---------------------------------------------------------- */

static void test_idle_context(void)
{
    Fixture f;

    fixture_init(&f);
    /* aio_context_new's own registration leaves no dispatchable work. */
    g_assert_false(iterate(&f, FALSE));
    aio_notify(f.ctx);      /* nobody waited: no eventfd write */
    g_assert_false(iterate(&f, FALSE));
    fixture_cleanup(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    g_test_add_func("/aio-gsource/idle", test_idle_context);
    g_test_add_func("/aio-gsource/bh/order", test_bh_order);
    g_test_add_func("/aio-gsource/bh/schedule", test_bh_schedule);
    g_test_add_func("/aio-gsource/bh/schedule10", test_bh_schedule10);
    g_test_add_func("/aio-gsource/bh/cancel", test_bh_cancel);
    g_test_add_func("/aio-gsource/bh/delete", test_bh_delete);
    g_test_add_func("/aio-gsource/bh/callback-delete/one",
                    test_bh_delete_from_cb);
    g_test_add_func("/aio-gsource/bh/callback-delete/many",
                    test_bh_delete_from_cb_many);
    g_test_add_func("/aio-gsource/bh/nested-poll", test_bh_nested_poll);
    g_test_add_func("/aio-gsource/event/wait", test_event_wait);
    g_test_add_func("/aio-gsource/event/flush", test_event_flush);
    g_test_add_func("/aio-gsource/fd/order", test_fd_order);
    g_test_add_func("/aio-gsource/timer/expired", test_timer_expired);
    g_test_add_func("/aio-gsource/timer/schedule", test_timer_schedule);

    return g_test_run();
}
