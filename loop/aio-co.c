/*
 * loop/aio-co.c — coroutines meet AioContexts: schedule, enter, wake,
 * reschedule, sleep, the thread pool from a coroutine, and AIO_WAIT_WHILE.
 *
 * Method: aio_co_schedule() pushes the coroutine on the context's lock-free
 * LIFO (ctx->scheduled_coroutines); whoever pushes onto an empty list also
 * schedules a oneshot BH, which takes the whole list, restores FIFO order
 * and enters each coroutine in the context's home thread.  An item pushed
 * onto a non-empty list is covered by the BH scheduled for the first one,
 * which has not taken the list yet.  (QEMU keeps one BH per context for
 * this; a oneshot keeps the context's life cycle untouched.)
 */
#include <errno.h>

#include "coroutine-internal.h"

AioContext *coroutine_thread_context(void)
{
    AioContext *ctx = qos_tls_get(QOS_TLS_AIO_CONTEXT);
    AioContext *main_ctx = qemu_aio_context;

    if (ctx) {
        return ctx;
    }
    /* QEMU: the main context belongs to the thread holding the BQL — here
     * the thread the main context polls in. */
    if (main_ctx &&
        qatomic_read(&main_ctx->home_thread_id) == qos_thread_id()) {
        return main_ctx;
    }
    return NULL;
}

static void co_schedule_bh_cb(void *opaque)
{
    AioContext *ctx = opaque;
    Coroutine *lifo = qatomic_xchg(&ctx->scheduled_coroutines, NULL);
    Coroutine *fifo = NULL;

    while (lifo) {
        Coroutine *next = lifo->co_scheduled_next;

        lifo->co_scheduled_next = fifo;
        fifo = lifo;
        lifo = next;
    }
    while (fifo) {
        Coroutine *co = fifo;

        fifo = co->co_scheduled_next;
        co->co_scheduled_next = NULL;
        /* Ordered before the enter by the barrier in coroutine_enter_in. */
        qatomic_set(&co->scheduled, NULL);
        qemu_aio_coroutine_enter(ctx, co);
    }
}

void aio_co_schedule(AioContext *ctx, Coroutine *co)
{
    const char *was = qatomic_cmpxchg(&co->scheduled, (const char *)NULL,
                                      __func__);
    Coroutine *head;

    if (was) {
        qos_panic(__FILE__, __LINE__,
                  "aio_co_schedule: coroutine was already scheduled in '%s'",
                  was);
    }
    /* The coroutine may run and drop the last reference to ctx before the
     * BH is scheduled: hold one until we are done. */
    aio_context_ref(ctx);
    do {
        head = qatomic_read(&ctx->scheduled_coroutines);
        co->co_scheduled_next = head;
    } while (qatomic_cmpxchg(&ctx->scheduled_coroutines, head, co) != head);
    if (!head) {
        aio_bh_schedule_oneshot_full(ctx, co_schedule_bh_cb, ctx,
                                     "co_schedule_bh_cb");
    }
    aio_context_unref(ctx);
}

void aio_co_enter(AioContext *ctx, Coroutine *co)
{
    if (ctx != coroutine_thread_context()) {
        aio_co_schedule(ctx, co);
        return;
    }
    if (qemu_in_coroutine()) {
        coroutine_queue_wakeup(qemu_coroutine_self(), co);
    } else {
        qemu_aio_coroutine_enter(ctx, co);
    }
}

void aio_co_wake(Coroutine *co)
{
    /* Pairs with smp_wmb() in coroutine_enter_in(): the context stored
     * before the coroutine could be seen waiting. */
    AioContext *ctx = qatomic_load_acquire(&co->ctx);

    aio_co_enter(ctx, co);
}

typedef struct {
    Coroutine *co;
    AioContext *new_ctx;
} RescheduleSelf;

static void reschedule_self_bh(void *opaque)
{
    RescheduleSelf *data = opaque;

    aio_co_schedule(data->new_ctx, data->co);
}

void coroutine_fn aio_co_reschedule_self(AioContext *new_ctx)
{
    Coroutine *self = qemu_coroutine_self();
    AioContext *old_ctx = self->ctx;

    QLOOP_ASSERT(qemu_in_coroutine());
    if (old_ctx == new_ctx) {
        return;
    }
    /*
     * Not aio_co_schedule(new_ctx, self) from here: new_ctx's thread could
     * enter us before we yielded.  Our own context's BH runs once we have.
     */
    RescheduleSelf data = { .co = self, .new_ctx = new_ctx };
    aio_bh_schedule_oneshot_full(old_ctx, reschedule_self_bh, &data,
                                 "reschedule_self_bh");
    qemu_coroutine_yield();
}

static void co_sleep_cb(void *opaque)
{
    aio_co_wake(opaque);
}

void coroutine_fn qemu_co_sleep_ns(QEMUClockType type, int64_t ns)
{
    Coroutine *self = qemu_coroutine_self();
    AioContext *ctx = coroutine_thread_context();
    QEMUTimer timer;

    QLOOP_ASSERT(qemu_in_coroutine());
    if (!ctx) {
        ctx = self->ctx;
    }
    aio_timer_init(ctx, &timer, type, SCALE_NS, co_sleep_cb, self);
    timer_mod(&timer, qemu_clock_get_ns(type) + ns);
    qemu_coroutine_yield();
    timer_deinit(&timer);
}

typedef struct {
    Coroutine *co;
    int ret;
} PoolCo;

static void pool_co_done(void *opaque, int ret)
{
    PoolCo *pc = opaque;

    pc->ret = ret;
    aio_co_wake(pc->co);
}

int coroutine_fn thread_pool_submit_co(ThreadPoolFunc *func, void *arg)
{
    PoolCo pc = { .co = qemu_coroutine_self(), .ret = -EINPROGRESS };

    QLOOP_ASSERT(qemu_in_coroutine());
    thread_pool_submit_aio(func, arg, pool_co_done, &pc);
    qemu_coroutine_yield();
    return pc.ret;
}

/* ---- AIO_WAIT_WHILE ----------------------------------------------------- */

/* Threads waiting in the main context for another context's condition. */
static unsigned aio_wait_remote_waiters;

bool qloop_aio_wait_begin(AioContext *ctx)
{
    bool remote = ctx && ctx != coroutine_thread_context() &&
                  !in_aio_context_home_thread(ctx);

    if (remote) {
        QLOOP_ASSERT(!qemu_in_coroutine());
        QLOOP_ASSERT(qemu_aio_context);
        qatomic_inc(&aio_wait_remote_waiters);
    }
    return remote;
}

void qloop_aio_wait_poll(AioContext *ctx, bool remote)
{
    aio_poll(remote ? qemu_aio_context : ctx, true);
}

void qloop_aio_wait_end(bool remote)
{
    if (remote) {
        qatomic_dec(&aio_wait_remote_waiters);
    }
}

static void aio_wait_kick_bh(void *opaque)
{
    (void)opaque;
}

void aio_wait_kick(void)
{
    /* Pairs with the increment: a waiter that counted itself before its
     * check either sees the new condition or gets the BH. */
    smp_mb();
    if (qatomic_read(&aio_wait_remote_waiters) && qemu_aio_context) {
        aio_bh_schedule_oneshot_full(qemu_aio_context, aio_wait_kick_bh,
                                     NULL, "aio_wait_kick_bh");
    }
}

void qloop_aio_wait_forget(void)
{
    qatomic_set(&aio_wait_remote_waiters, 0);
}
