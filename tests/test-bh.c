/*
 * tests/test-bh.c — bottom halves: every rule of semantics.md "Bottom
 * halves", plus QEMU's /aio/bh/... checklist, driven through aio_poll().
 *
 * Method: each test makes a fresh AioContext, schedules BHs whose
 * callbacks append their names to an order log, polls, and compares the
 * log with the exact order the spec gives ("C,B,A").  Notifications are
 * observed through the visible ctx->notified flag (cleared first with
 * aio_notify_accept()) and through a blocking aio_poll() bounded by a guard
 * timer: returning before the guard fired is "returned at once".  The abort
 * on finalizing a context with a live BH runs in a GTest subprocess.
 */
#include <glib.h>
#include <stdbool.h>
#include <string.h>

#include "qloop-test.h"

static AioContext *ctx_new(void)
{
    return aio_context_new(&error_abort);
}

/* Append the BH's name (its opaque) to the log. */
static void log_cb(void *opaque)
{
    qt_log(opaque);
}

static bool notified(AioContext *ctx)
{
    return __atomic_load_n(&ctx->notified, __ATOMIC_SEQ_CST);
}

/* ---- order ---------------------------------------------------------------- */

static void check_order(const char *schedule, const char *expected)
{
    AioContext *ctx = ctx_new();
    static const char *names[] = { "A", "B", "C" };
    QEMUBH *bh[3];

    qt_log_reset();
    for (int i = 0; i < 3; i++) {
        bh[i] = aio_bh_new(ctx, log_cb, (void *)names[i]);
    }
    for (const char *p = schedule; *p; p++) {
        qemu_bh_schedule(bh[*p - 'A']);
    }
    g_assert_cmpstr(qt_log_take(), ==, "");
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpstr(qt_log_take(), ==, expected);
    g_assert_false(aio_poll(ctx, false));
    g_assert_cmpstr(qt_log_take(), ==, "");
    for (int i = 0; i < 3; i++) {
        qemu_bh_delete(bh[i]);
    }
    aio_context_unref(ctx);
}

static void test_order_abc(void)
{
    check_order("ABC", "C,B,A");
}

static void test_order_cab(void)
{
    check_order("CAB", "B,A,C");
}

/* A double schedule is merged: one run, in the slot of the first enqueue. */
static void test_order_merge(void)
{
    check_order("ABA", "B,A");
    check_order("AAB", "B,A");
    check_order("ABCBA", "C,B,A");
}

static void test_order_oneshot(void)
{
    AioContext *ctx = ctx_new();

    qt_log_reset();
    aio_bh_schedule_oneshot(ctx, log_cb, "1");
    aio_bh_schedule_oneshot(ctx, log_cb, "2");
    aio_bh_schedule_oneshot(ctx, log_cb, "3");
    g_assert_cmpstr(qt_log_take(), ==, "");
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpstr(qt_log_take(), ==, "3,2,1");
    /* Oneshots are gone after their run. */
    g_assert_false(aio_poll(ctx, false));
    g_assert_cmpstr(qt_log_take(), ==, "");
    aio_context_unref(ctx);
}

/* Oneshots and ordinary BHs share one pending list. */
static void test_order_mixed(void)
{
    AioContext *ctx = ctx_new();
    QEMUBH *a = aio_bh_new(ctx, log_cb, "A");
    QEMUBH *b = aio_bh_new(ctx, log_cb, "B");

    qt_log_reset();
    qemu_bh_schedule(a);
    aio_bh_schedule_oneshot(ctx, log_cb, "1");
    qemu_bh_schedule(b);
    aio_bh_schedule_oneshot(ctx, log_cb, "2");
    qemu_bh_schedule(a);
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpstr(qt_log_take(), ==, "2,B,1,A");
    qemu_bh_delete(a);
    qemu_bh_delete(b);
    aio_context_unref(ctx);
}

/*
 * Only pending BHs are listed: a new BH is not on ctx->bh_list; scheduling
 * pushes at the head only if it was not pending, and always notifies.
 */
static void test_pending_list(void)
{
    AioContext *ctx = ctx_new();
    QEMUBH *a = aio_bh_new(ctx, log_cb, "A");
    QEMUBH *b = aio_bh_new(ctx, log_cb, "B");

    qt_log_reset();
    g_assert_null(ctx->bh_list);
    aio_notify_accept(ctx);

    qemu_bh_schedule(a);
    g_assert_true(ctx->bh_list == a);
    g_assert_true(notified(ctx));
    qemu_bh_schedule(b);
    g_assert_true(ctx->bh_list == b);

    aio_notify_accept(ctx);
    g_assert_false(notified(ctx));
    qemu_bh_schedule(a);                /* already pending: no push ... */
    g_assert_true(ctx->bh_list == b);
    g_assert_true(notified(ctx));       /* ... but a notify all the same */

    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpstr(qt_log_take(), ==, "B,A");
    g_assert_null(ctx->bh_list);
    qemu_bh_delete(a);
    qemu_bh_delete(b);
    aio_context_unref(ctx);
}

/* ---- cancel ---------------------------------------------------------------- */

/* Cancel then re-schedule keeps the old slot: A,B; cancel A; A → B,A. */
static void test_cancel_keeps_slot(void)
{
    AioContext *ctx = ctx_new();
    QEMUBH *a = aio_bh_new(ctx, log_cb, "A");
    QEMUBH *b = aio_bh_new(ctx, log_cb, "B");
    QEMUBH *c = aio_bh_new(ctx, log_cb, "C");

    qt_log_reset();
    qemu_bh_schedule(a);
    qemu_bh_schedule(b);
    qemu_bh_cancel(a);
    qemu_bh_schedule(a);
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpstr(qt_log_take(), ==, "B,A");

    /* A,B; cancel B; C; B → C,B,A (B is still listed under C). */
    qemu_bh_schedule(a);
    qemu_bh_schedule(b);
    qemu_bh_cancel(b);
    qemu_bh_schedule(c);
    qemu_bh_schedule(b);
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpstr(qt_log_take(), ==, "C,B,A");
    g_assert_false(aio_poll(ctx, false));

    qemu_bh_delete(a);
    qemu_bh_delete(b);
    qemu_bh_delete(c);
    aio_context_unref(ctx);
}

/* A cancelled BH is skipped: it stays listed but does not run. */
static void test_cancel_skipped(void)
{
    AioContext *ctx = ctx_new();
    QEMUBH *a = aio_bh_new(ctx, log_cb, "A");
    QEMUBH *b = aio_bh_new(ctx, log_cb, "B");

    qt_log_reset();
    qemu_bh_schedule(a);
    qemu_bh_schedule(b);
    qemu_bh_cancel(a);
    g_assert_true(ctx->bh_list == b);   /* still listed */
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpstr(qt_log_take(), ==, "B");
    g_assert_false(aio_poll(ctx, false));
    g_assert_cmpstr(qt_log_take(), ==, "");
    /* The cancelled BH is usable again afterwards. */
    qemu_bh_schedule(a);
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpstr(qt_log_take(), ==, "A");
    qemu_bh_delete(a);
    qemu_bh_delete(b);
    aio_context_unref(ctx);
}

/* ---- delete ---------------------------------------------------------------- */

/*
 * Delete of a pending BH: it never runs, the poll is no progress, and the
 * delete itself notifies: after accepting the schedule's notification, the
 * delete sets notified again and a blocking aio_poll returns at once.
 */
static void test_delete_pending_notifies(void)
{
    AioContext *ctx = ctx_new();
    QEMUBH *a = aio_bh_new(ctx, log_cb, "A");
    QtGuard guard;

    qt_log_reset();
    qemu_bh_schedule(a);
    qt_guard_arm(&guard, ctx);
    aio_notify_accept(ctx);
    g_assert_false(notified(ctx));
    qemu_bh_delete(a);
    g_assert_true(notified(ctx));
    g_assert_false(qt_poll_blocking_at_once(ctx, &guard));
    qt_guard_disarm(&guard);
    g_assert_cmpstr(qt_log_take(), ==, "");
    g_assert_false(aio_poll(ctx, false));
    g_assert_cmpstr(qt_log_take(), ==, "");
    aio_context_unref(ctx);
}

/* Delete of a BH that was never scheduled, while no poll runs: safe. */
static void test_delete_idle(void)
{
    AioContext *ctx = ctx_new();
    QEMUBH *a = aio_bh_new(ctx, log_cb, "A");
    QEMUBH *b = aio_bh_new(ctx, log_cb, "B");

    qt_log_reset();
    aio_notify_accept(ctx);
    qemu_bh_delete(a);
    g_assert_true(notified(ctx));
    qemu_bh_schedule(b);
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpstr(qt_log_take(), ==, "B");
    g_assert_false(aio_poll(ctx, false));
    qemu_bh_delete(b);
    g_assert_false(aio_poll(ctx, false));
    g_assert_cmpstr(qt_log_take(), ==, "");
    aio_context_unref(ctx);
}

/* Deleting one of several pending BHs leaves the others' order intact. */
static void test_delete_among_pending(void)
{
    AioContext *ctx = ctx_new();
    QEMUBH *a = aio_bh_new(ctx, log_cb, "A");
    QEMUBH *b = aio_bh_new(ctx, log_cb, "B");
    QEMUBH *c = aio_bh_new(ctx, log_cb, "C");

    qt_log_reset();
    qemu_bh_schedule(a);
    qemu_bh_schedule(b);
    qemu_bh_schedule(c);
    qemu_bh_delete(b);
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpstr(qt_log_take(), ==, "C,A");
    g_assert_false(aio_poll(ctx, false));
    qemu_bh_delete(a);
    qemu_bh_delete(c);
    aio_context_unref(ctx);
}

/* ---- QEMU's checklist: /aio/bh/... ---------------------------------------- */

typedef struct {
    QEMUBH *bh;
    int n;
    int max;
    AioContext *ctx;
} BHTestData;

static void count_cb(void *opaque)
{
    BHTestData *data = opaque;

    data->n++;
}

/* /aio/bh/schedule: a blocking poll runs it once and returns true. */
static void test_bh_schedule(void)
{
    AioContext *ctx = ctx_new();
    BHTestData data = { .n = 0 };

    data.bh = aio_bh_new(ctx, count_cb, &data);
    qemu_bh_schedule(data.bh);
    g_assert_cmpint(data.n, ==, 0);
    g_assert_true(aio_poll(ctx, true));
    g_assert_cmpint(data.n, ==, 1);
    g_assert_false(aio_poll(ctx, false));
    g_assert_cmpint(data.n, ==, 1);
    qemu_bh_delete(data.bh);
    aio_context_unref(ctx);
}

/* /aio/bh/flush: a merged double schedule still runs once. */
static void test_bh_flush(void)
{
    AioContext *ctx = ctx_new();
    BHTestData data = { .n = 0 };

    data.bh = aio_bh_new(ctx, count_cb, &data);
    qemu_bh_schedule(data.bh);
    qemu_bh_schedule(data.bh);
    g_assert_cmpint(data.n, ==, 0);
    g_assert_true(aio_poll(ctx, true));
    g_assert_cmpint(data.n, ==, 1);
    g_assert_false(aio_poll(ctx, false));
    g_assert_cmpint(data.n, ==, 1);
    qemu_bh_delete(data.bh);
    aio_context_unref(ctx);
}

static void reschedule_cb(void *opaque)
{
    BHTestData *data = opaque;

    if (++data->n < data->max) {
        qemu_bh_schedule(data->bh);
    }
}

/*
 * /aio/bh/schedule10: a BH rescheduling itself runs once per poll; while it
 * is scheduled aio_compute_timeout() is 0, so a blocking poll never blocks.
 */
static void test_bh_schedule10(void)
{
    AioContext *ctx = ctx_new();
    BHTestData data = { .n = 0, .max = 10 };
    QtGuard guard;

    data.bh = aio_bh_new(ctx, reschedule_cb, &data);
    qemu_bh_schedule(data.bh);
    g_assert_cmpint(data.n, ==, 0);
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpint(data.n, ==, 1);

    qt_guard_arm(&guard, ctx);
    for (int i = 2; i <= 10; i++) {
        g_assert_cmpint(aio_compute_timeout(ctx), ==, 0);
        aio_notify_accept(ctx);     /* rely on the timeout, not a notify */
        g_assert_true(qt_poll_blocking_at_once(ctx, &guard));
        g_assert_cmpint(data.n, ==, i);
    }
    qt_guard_disarm(&guard);
    g_assert_cmpint(aio_compute_timeout(ctx), ==, -1);
    g_assert_false(aio_poll(ctx, false));
    g_assert_cmpint(data.n, ==, 10);
    qemu_bh_delete(data.bh);
    aio_context_unref(ctx);
}

/* /aio/bh/cancel */
static void test_bh_cancel(void)
{
    AioContext *ctx = ctx_new();
    BHTestData data = { .n = 0 };

    data.bh = aio_bh_new(ctx, count_cb, &data);
    qemu_bh_schedule(data.bh);
    g_assert_cmpint(data.n, ==, 0);
    qemu_bh_cancel(data.bh);
    g_assert_cmpint(aio_compute_timeout(ctx), ==, -1);
    g_assert_false(aio_poll(ctx, false));
    g_assert_cmpint(data.n, ==, 0);
    qemu_bh_delete(data.bh);
    aio_context_unref(ctx);
}

/* /aio/bh/delete */
static void test_bh_delete(void)
{
    AioContext *ctx = ctx_new();
    BHTestData data = { .n = 0 };

    data.bh = aio_bh_new(ctx, count_cb, &data);
    qemu_bh_schedule(data.bh);
    g_assert_cmpint(data.n, ==, 0);
    qemu_bh_delete(data.bh);
    g_assert_cmpint(aio_compute_timeout(ctx), ==, -1);
    g_assert_false(aio_poll(ctx, false));
    g_assert_cmpint(data.n, ==, 0);
    aio_context_unref(ctx);
}

/* Runs data->max times (rescheduling itself), then deletes itself. */
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

/* /aio/bh/callback-delete/one */
static void test_bh_delete_from_cb(void)
{
    AioContext *ctx = ctx_new();
    BHTestData data = { .n = 0, .max = 1 };

    data.bh = aio_bh_new(ctx, delete_self_cb, &data);
    qemu_bh_schedule(data.bh);
    g_assert_cmpint(data.n, ==, 0);
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpint(data.n, ==, 1);
    g_assert_null(data.bh);
    /* Freeing the deleted BH on the next poll is no progress. */
    g_assert_false(aio_poll(ctx, false));
    g_assert_false(aio_poll(ctx, false));
    g_assert_cmpint(data.n, ==, 1);
    aio_context_unref(ctx);
}

/* /aio/bh/callback-delete/many: each poll runs each live BH exactly once. */
static void test_bh_delete_from_cb_many(void)
{
    AioContext *ctx = ctx_new();
    BHTestData data[4] = {
        { .n = 0, .max = 1 }, { .n = 0, .max = 3 },
        { .n = 0, .max = 2 }, { .n = 0, .max = 4 },
    };
    /* Expected n of each BH after each poll. */
    static const int after[4][4] = {
        { 1, 1, 1, 1 }, { 1, 2, 2, 2 }, { 1, 3, 2, 3 }, { 1, 3, 2, 4 },
    };

    for (int i = 0; i < 4; i++) {
        data[i].bh = aio_bh_new(ctx, delete_self_cb, &data[i]);
    }
    for (int i = 0; i < 4; i++) {
        qemu_bh_schedule(data[i].bh);
    }
    for (int poll = 0; poll < 4; poll++) {
        g_assert_true(aio_poll(ctx, false));
        for (int i = 0; i < 4; i++) {
            g_assert_cmpint(data[i].n, ==, after[poll][i]);
            g_assert_true((data[i].bh == NULL) ==
                          (data[i].n == data[i].max));
        }
    }
    g_assert_false(aio_poll(ctx, false));
    aio_context_unref(ctx);
}

/* ---- scheduling from callbacks -------------------------------------------- */

typedef struct {
    const char *name;
    QEMUBH *to_schedule;
} SchedFromCb;

static void log_and_schedule_cb(void *opaque)
{
    SchedFromCb *s = opaque;

    qt_log(s->name);
    if (s->to_schedule) {
        qemu_bh_schedule(s->to_schedule);
        s->to_schedule = NULL;
    }
}

/*
 * A BH scheduled from a callback runs on the next poll, and meanwhile
 * aio_compute_timeout() is 0, so the blocking poll that runs it does not
 * block.
 */
static void test_schedule_from_cb(void)
{
    AioContext *ctx = ctx_new();
    QEMUBH *b = aio_bh_new(ctx, log_cb, "B");
    SchedFromCb sa = { .name = "A", .to_schedule = b };
    QEMUBH *a = aio_bh_new(ctx, log_and_schedule_cb, &sa);
    QtGuard guard;

    qt_log_reset();
    qemu_bh_schedule(a);
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpstr(qt_log_take(), ==, "A");
    g_assert_cmpint(aio_compute_timeout(ctx), ==, 0);

    qt_guard_arm(&guard, ctx);
    aio_notify_accept(ctx);
    g_assert_true(qt_poll_blocking_at_once(ctx, &guard));
    qt_guard_disarm(&guard);
    g_assert_cmpstr(qt_log_take(), ==, "B");
    g_assert_false(aio_poll(ctx, false));
    qemu_bh_delete(a);
    qemu_bh_delete(b);
    aio_context_unref(ctx);
}

/*
 * A BH that already ran in this pass and is scheduled again by a later
 * callback waits for the next poll: schedule A,B; A (runs second)
 * schedules B → "B,A" then "B".
 */
static void test_schedule_from_cb_ran_already(void)
{
    AioContext *ctx = ctx_new();
    QEMUBH *b = aio_bh_new(ctx, log_cb, "B");
    SchedFromCb sa = { .name = "A", .to_schedule = b };
    QEMUBH *a = aio_bh_new(ctx, log_and_schedule_cb, &sa);

    qt_log_reset();
    qemu_bh_schedule(a);
    qemu_bh_schedule(b);
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpstr(qt_log_take(), ==, "B,A");
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpstr(qt_log_take(), ==, "B");
    g_assert_false(aio_poll(ctx, false));
    qemu_bh_delete(a);
    qemu_bh_delete(b);
    aio_context_unref(ctx);
}

/*
 * Scheduling a BH that is still pending in the running pass merges: schedule
 * A,B; B (runs first) schedules A → "B,A" once, nothing on the next poll.
 */
static void test_schedule_from_cb_pending_merges(void)
{
    AioContext *ctx = ctx_new();
    QEMUBH *a = aio_bh_new(ctx, log_cb, "A");
    SchedFromCb sb = { .name = "B", .to_schedule = a };
    QEMUBH *b = aio_bh_new(ctx, log_and_schedule_cb, &sb);

    qt_log_reset();
    qemu_bh_schedule(a);
    qemu_bh_schedule(b);
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpstr(qt_log_take(), ==, "B,A");
    g_assert_false(aio_poll(ctx, false));
    g_assert_cmpstr(qt_log_take(), ==, "");
    qemu_bh_delete(a);
    qemu_bh_delete(b);
    aio_context_unref(ctx);
}

/* A oneshot scheduled from a oneshot's callback runs on the next poll. */
static void oneshot_chain_cb(void *opaque)
{
    AioContext *ctx = opaque;

    qt_log("first");
    aio_bh_schedule_oneshot(ctx, log_cb, "second");
}

static void test_oneshot_from_cb(void)
{
    AioContext *ctx = ctx_new();

    qt_log_reset();
    aio_bh_schedule_oneshot(ctx, oneshot_chain_cb, ctx);
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpstr(qt_log_take(), ==, "first");
    g_assert_cmpint(aio_compute_timeout(ctx), ==, 0);
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpstr(qt_log_take(), ==, "second");
    g_assert_false(aio_poll(ctx, false));
    aio_context_unref(ctx);
}

/* ---- nested aio_poll ------------------------------------------------------- */

typedef struct {
    AioContext *ctx;
    bool nested_result;
    int calls;
} NestData;

static void nest_cb(void *opaque)
{
    NestData *nd = opaque;

    nd->calls++;
    qt_log("N");
    nd->nested_result = aio_poll(nd->ctx, false);
    qt_log("/N");
}

/*
 * Schedule A,B,N,C where N nests aio_poll(false): the nested poll first runs
 * the outer poll's remaining BHs → C, N, B, A, and it returns true.
 */
static void test_nested_poll(void)
{
    AioContext *ctx = ctx_new();
    NestData nd = { .ctx = ctx };
    QEMUBH *a = aio_bh_new(ctx, log_cb, "A");
    QEMUBH *b = aio_bh_new(ctx, log_cb, "B");
    QEMUBH *n = aio_bh_new(ctx, nest_cb, &nd);
    QEMUBH *c = aio_bh_new(ctx, log_cb, "C");

    qt_log_reset();
    qemu_bh_schedule(a);
    qemu_bh_schedule(b);
    qemu_bh_schedule(n);
    qemu_bh_schedule(c);
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpstr(qt_log_take(), ==, "C,N,B,A,/N");
    g_assert_cmpint(nd.calls, ==, 1);
    g_assert_true(nd.nested_result);
    g_assert_false(aio_poll(ctx, false));
    g_assert_cmpstr(qt_log_take(), ==, "");

    /* With nothing left for the nested poll, it reports no progress. */
    qemu_bh_schedule(n);
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpstr(qt_log_take(), ==, "N,/N");
    g_assert_false(nd.nested_result);

    qemu_bh_delete(a);
    qemu_bh_delete(b);
    qemu_bh_delete(n);
    qemu_bh_delete(c);
    aio_context_unref(ctx);
}

/* ---- idle BHs -------------------------------------------------------------- */

/* Idle BHs do not count as progress and cap the timeout at 10 ms. */
static void test_idle(void)
{
    AioContext *ctx = ctx_new();
    QEMUBH *i = aio_bh_new(ctx, log_cb, "I");
    QEMUBH *a = aio_bh_new(ctx, log_cb, "A");

    qt_log_reset();
    g_assert_cmpint(aio_compute_timeout(ctx), ==, -1);
    qemu_bh_schedule_idle(i);
    g_assert_cmpint(aio_compute_timeout(ctx), ==, 10000000);
    g_assert_false(aio_poll(ctx, false));   /* ran, but no progress */
    g_assert_cmpstr(qt_log_take(), ==, "I");
    g_assert_cmpint(aio_compute_timeout(ctx), ==, -1);

    /* Idle + non-idle: timeout 0, and the non-idle one makes progress. */
    qemu_bh_schedule_idle(i);
    qemu_bh_schedule(a);
    g_assert_cmpint(aio_compute_timeout(ctx), ==, 0);
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpstr(qt_log_take(), ==, "A,I");

    qemu_bh_delete(i);
    qemu_bh_delete(a);
    aio_context_unref(ctx);
}

static void timer_noop_cb(void *opaque)
{
    (void)opaque;
}

/* The 10 ms cap combines with timers by minimum. */
static void test_idle_timeout_min_timer(void)
{
    AioContext *ctx = ctx_new();
    QEMUBH *i = aio_bh_new(ctx, log_cb, "I");
    QEMUTimer *t = aio_timer_new(ctx, QEMU_CLOCK_REALTIME, SCALE_NS,
                                 timer_noop_cb, NULL);
    int64_t now_ns = qemu_clock_get_ns(QEMU_CLOCK_REALTIME);
    int64_t timeout_ns;

    qt_log_reset();
    qemu_bh_schedule_idle(i);
    timer_mod_ns(t, now_ns + 60 * (int64_t)SCALE_MS * 1000);  /* one minute */
    g_assert_cmpint(aio_compute_timeout(ctx), ==, 10000000);
    timer_mod_ns(t, now_ns + 5 * SCALE_MS);
    timeout_ns = aio_compute_timeout(ctx);
    g_assert_cmpint(timeout_ns, >, 0);
    g_assert_cmpint(timeout_ns, <=, 5 * SCALE_MS);
    timer_free(t);
    qemu_bh_delete(i);
    aio_context_unref(ctx);
}

/*
 * A blocking poll with only an idle BH waits for the 10 ms cap (nothing
 * notified), runs the BH, and reports no progress.
 */
static void test_idle_blocking_poll(void)
{
    AioContext *ctx = ctx_new();
    QEMUBH *i = aio_bh_new(ctx, log_cb, "I");
    int64_t start_ns, elapsed_ns;

    qt_log_reset();
    qemu_bh_schedule_idle(i);
    aio_notify_accept(ctx);
    start_ns = qemu_clock_get_ns(QEMU_CLOCK_REALTIME);
    g_assert_false(aio_poll(ctx, true));
    elapsed_ns = qemu_clock_get_ns(QEMU_CLOCK_REALTIME) - start_ns;
    g_assert_cmpstr(qt_log_take(), ==, "I");
    g_assert_cmpint(elapsed_ns, >=, 10 * SCALE_MS);
    g_assert_cmpint(elapsed_ns, <, (int64_t)2000 * SCALE_MS);
    qemu_bh_delete(i);
    aio_context_unref(ctx);
}

/* ---- names and finalize ---------------------------------------------------- */

static void leaked_bh_scheduled_cb(void *opaque)
{
    (void)opaque;
}

static void leaked_bh_idle_cb(void *opaque)
{
    (void)opaque;
}

/* A BH knows its callback's name (qloop extension for traces). */
static void test_bh_name(void)
{
    AioContext *ctx = ctx_new();
    QEMUBH *bh = aio_bh_new(ctx, leaked_bh_idle_cb, NULL);

    g_assert_cmpstr(qemu_bh_get_name(bh), ==, "leaked_bh_idle_cb");
    qemu_bh_delete(bh);
    aio_context_unref(ctx);
}

/* Finalizing a context with a live, undeleted BH aborts naming the BH. */
static void test_finalize_live_scheduled(void)
{
    if (g_test_subprocess()) {
        AioContext *ctx = ctx_new();
        QEMUBH *bh = aio_bh_new(ctx, leaked_bh_scheduled_cb, NULL);

        qemu_bh_schedule(bh);
        aio_context_unref(ctx);
        return;     /* not reached: the unref must abort */
    }
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_failed();
    g_test_trap_assert_stderr("*leaked_bh_scheduled_cb*");
}

static void test_finalize_live_unscheduled(void)
{
    if (g_test_subprocess()) {
        AioContext *ctx = ctx_new();

        aio_bh_new(ctx, leaked_bh_idle_cb, NULL);
        aio_context_unref(ctx);
        return;     /* not reached: the unref must abort */
    }
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_failed();
    g_test_trap_assert_stderr("*leaked_bh_idle_cb*");
}

/* Deleted BHs (pending or not) and ran oneshots let the context finalize. */
static void test_finalize_clean(void)
{
    if (g_test_subprocess()) {
        AioContext *ctx = ctx_new();
        QEMUBH *a = aio_bh_new(ctx, leaked_bh_scheduled_cb, NULL);
        QEMUBH *b = aio_bh_new(ctx, leaked_bh_idle_cb, NULL);

        qemu_bh_schedule(a);
        qemu_bh_delete(a);      /* deleted while pending, never polled */
        qemu_bh_delete(b);
        aio_context_unref(ctx);
        return;
    }
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_passed();
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    g_test_add_func("/bh/order/abc", test_order_abc);
    g_test_add_func("/bh/order/cab", test_order_cab);
    g_test_add_func("/bh/order/merge", test_order_merge);
    g_test_add_func("/bh/order/oneshot", test_order_oneshot);
    g_test_add_func("/bh/order/mixed", test_order_mixed);
    g_test_add_func("/bh/pending-list", test_pending_list);
    g_test_add_func("/bh/cancel/keeps-slot", test_cancel_keeps_slot);
    g_test_add_func("/bh/cancel/skipped", test_cancel_skipped);
    g_test_add_func("/bh/delete/pending-notifies", test_delete_pending_notifies);
    g_test_add_func("/bh/delete/idle", test_delete_idle);
    g_test_add_func("/bh/delete/among-pending", test_delete_among_pending);
    g_test_add_func("/bh/from-cb/next-poll", test_schedule_from_cb);
    g_test_add_func("/bh/from-cb/ran-already", test_schedule_from_cb_ran_already);
    g_test_add_func("/bh/from-cb/pending-merges",
                    test_schedule_from_cb_pending_merges);
    g_test_add_func("/bh/from-cb/oneshot", test_oneshot_from_cb);
    g_test_add_func("/bh/nested-poll", test_nested_poll);
    g_test_add_func("/bh/idle/no-progress", test_idle);
    g_test_add_func("/bh/idle/timeout-min-timer", test_idle_timeout_min_timer);
    g_test_add_func("/bh/idle/blocking-poll", test_idle_blocking_poll);
    g_test_add_func("/bh/name", test_bh_name);
    g_test_add_func("/bh/finalize/live-scheduled", test_finalize_live_scheduled);
    g_test_add_func("/bh/finalize/live-unscheduled",
                    test_finalize_live_unscheduled);
    g_test_add_func("/bh/finalize/clean", test_finalize_clean);

    g_test_add_func("/aio/bh/schedule", test_bh_schedule);
    g_test_add_func("/aio/bh/flush", test_bh_flush);
    g_test_add_func("/aio/bh/schedule10", test_bh_schedule10);
    g_test_add_func("/aio/bh/cancel", test_bh_cancel);
    g_test_add_func("/aio/bh/delete", test_bh_delete);
    g_test_add_func("/aio/bh/callback-delete/one", test_bh_delete_from_cb);
    g_test_add_func("/aio/bh/callback-delete/many", test_bh_delete_from_cb_many);

    return g_test_run();
}
