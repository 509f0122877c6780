/*
 * tests/compat/qemu-api.c — a program written against QEMU's headers only,
 * built through `pkg-config qloop` from an installed tree (semantics.md
 * "API surface": QEMU code should compile unchanged and behave the same).
 *
 * Method: the code below is the kind QEMU's own code and unit tests
 * contain — osdep.h first, &error_abort, BHs, timers on ctx->tlg, an
 * EventNotifier handler, the main loop — and checks each result.  It uses
 * no qloop name and no glib test framework; it prints the first failed
 * check and exits 1, or exits 0.  run-compat.sh installs, compiles and
 * runs it.
 */
#include "qemu/osdep.h"
#include "block/aio.h"
#include "qemu/main-loop.h"
#include "qemu/timer.h"
#include "qemu/event_notifier.h"
#include "qapi/error.h"

#define CHECK(cond) \
    do { \
        if (!(cond)) { \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
                    #cond); \
            exit(1); \
        } \
    } while (0)

typedef struct {
    QEMUBH *bh;
    int n;
    char order[16];
} BHData;

static char order_buf[32];

static void append(const char *s)
{
    size_t len = strlen(order_buf);

    snprintf(order_buf + len, sizeof(order_buf) - len, "%s", s);
}

static void bh_cb(void *opaque)
{
    BHData *data = opaque;

    data->n++;
    append(data->order);
}

typedef struct {
    EventNotifier e;
    int n;
} NotifierData;

static void notifier_cb(EventNotifier *e)
{
    NotifierData *data = container_of(e, NotifierData, e);

    CHECK(event_notifier_test_and_clear(e));
    data->n++;
}

static void timer_cb(void *opaque)
{
    int64_t *fired_ns = opaque;

    *fired_ns = qemu_clock_get_ns(QEMU_CLOCK_REALTIME);
}

static void test_aio_context(void)
{
    AioContext *ctx = aio_context_new(&error_abort);
    BHData a = { .order = "a" }, b = { .order = "b" };
    NotifierData nd = { .n = 0 };
    QEMUTimer *timer;
    QEMUTimer embedded;
    int64_t fired_ns = 0, embedded_fired_ns = 0, expire_ns;

    /* Bottom halves: newest first, merged double schedule. */
    a.bh = aio_bh_new(ctx, bh_cb, &a);
    b.bh = aio_bh_new(ctx, bh_cb, &b);
    qemu_bh_schedule(a.bh);
    qemu_bh_schedule(b.bh);
    qemu_bh_schedule(a.bh);
    CHECK(aio_poll(ctx, true));
    CHECK(strcmp(order_buf, "ba") == 0);
    CHECK(a.n == 1 && b.n == 1);
    CHECK(!aio_poll(ctx, false));
    qemu_bh_schedule(a.bh);
    qemu_bh_cancel(a.bh);
    CHECK(!aio_poll(ctx, false));
    CHECK(a.n == 1);
    qemu_bh_delete(a.bh);
    qemu_bh_delete(b.bh);

    /* Event notifier handler. */
    CHECK(event_notifier_init(&nd.e, false) == 0);
    aio_set_event_notifier(ctx, &nd.e, notifier_cb, NULL, NULL);
    CHECK(!aio_poll(ctx, false));
    CHECK(event_notifier_set(&nd.e) == 0);
    CHECK(aio_poll(ctx, true));
    CHECK(nd.n == 1);
    aio_set_event_notifier(ctx, &nd.e, NULL, NULL, NULL);
    event_notifier_cleanup(&nd.e);

    /* Timers on the context's timer-list group. */
    timer = aio_timer_new(ctx, QEMU_CLOCK_REALTIME, SCALE_MS, timer_cb,
                          &fired_ns);
    aio_timer_init(ctx, &embedded, QEMU_CLOCK_VIRTUAL, SCALE_NS, timer_cb,
                   &embedded_fired_ns);
    CHECK(timerlistgroup_deadline_ns(&ctx->tlg) == -1);
    timer_mod(timer, qemu_clock_get_ms(QEMU_CLOCK_REALTIME) + 5);
    expire_ns = (int64_t)timer_expire_time_ns(timer);
    CHECK(timer_pending(timer));
    CHECK(timerlistgroup_deadline_ns(&ctx->tlg) > 0);
    CHECK(timerlistgroup_deadline_ns(&ctx->tlg) <= 5 * SCALE_MS);
    CHECK(aio_compute_timeout(ctx) <= 5 * SCALE_MS);
    timer_mod_ns(&embedded, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) - 1);
    while (!fired_ns) {
        aio_poll(ctx, true);
    }
    CHECK(fired_ns >= expire_ns);
    CHECK(embedded_fired_ns != 0);
    CHECK(!timer_pending(timer));
    timer_del(&embedded);
    timer_free(timer);
    CHECK(qemu_soonest_timeout(-1, 7) == 7);

    aio_context_unref(ctx);
}

static void test_main_loop(void)
{
    BHData c = { .order = "c" };
    int64_t fired_ns = 0;
    QEMUTimer *timer;
    GSource *src;

    CHECK(qemu_init_main_loop(&error_fatal) == 0);
    CHECK(qemu_get_aio_context() != NULL);
    CHECK(iohandler_get_aio_context() != qemu_get_aio_context());
    src = iohandler_get_g_source();
    CHECK(src != NULL);
    g_source_unref(src);

    c.bh = qemu_bh_new(bh_cb, &c);
    qemu_bh_schedule(c.bh);
    main_loop_wait(false);
    CHECK(c.n == 1);
    qemu_bh_delete(c.bh);

    timer = timer_new_ms(QEMU_CLOCK_REALTIME, timer_cb, &fired_ns);
    timer_mod(timer, qemu_clock_get_ms(QEMU_CLOCK_REALTIME) + 2);
    while (!fired_ns) {
        main_loop_wait(false);
    }
    CHECK(!timer_pending(timer));
    timer_free(timer);

    qemu_notify_event();
    main_loop_wait(false);
}

int main(void)
{
    Error *err = NULL;

    /* error_setg into a local Error, as QEMU functions do. */
    error_setg(&err, "compat %d", 1);
    CHECK(err != NULL);
    CHECK(strcmp(error_get_pretty(err), "compat 1") == 0);
    error_free(err);

    test_aio_context();
    test_main_loop();
    CHECK(MIN(3, 4) == 3 && MAX(3, 4) == 4 && ARRAY_SIZE(order_buf) == 32);
    printf("qemu-api compat: ok\n");
    return 0;
}
