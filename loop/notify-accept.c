/*
 * loop/notify-accept.c — the waiter's side of the notify protocol and the
 * context's own EventNotifier callbacks (see loop/notify.c for the whole
 * protocol; this half is shared by every variant of aio_notify()).
 */
#include "internal.h"

void aio_notify_accept(AioContext *ctx)
{
    /*
     * A read-modify-write where QEMU has a plain store (util/async.c).  A
     * store could land after a notifier's notified = true in modification
     * order without reading it, and then nothing carries the notifier's
     * smp_wmb() to this thread: the reads below may miss what it
     * announced (a timer armed, a BH scheduled), the next iteration reads
     * notified as its own false and blocks — a lost wake-up that C11 (and
     * hardware whose store barrier is not cumulative, POWER's lwsync)
     * allows: the "R" shape, docs/simulation.md.  The exchange always
     * reads the newest store: either it reads the notifier's true, and
     * that smp_wmb() synchronises with the smp_mb() below, or the
     * notifier's store comes later and the next iteration sees it.
     */
    qatomic_xchg(&ctx->notified, false);

    /*
     * Order the clear of ctx->notified before the reads of what it
     * announced (BHs, fd events, timers).  Pairs with smp_wmb() in
     * aio_notify().
     */
    smp_mb();
}

/* The context's own EventNotifier: its activity is never progress. */
static void aio_context_notifier_cb(EventNotifier *e)
{
    event_notifier_test_and_clear(e);
}

/* Polling mode: a pending aio_notify() ends the busy-wait. */
static bool aio_context_notifier_poll(void *opaque)
{
    EventNotifier *e = opaque;
    AioContext *ctx = (AioContext *)((char *)e - offsetof(AioContext, notifier));

    /*
     * No need for a barrier: the poll loop and aio_notify_accept() are in
     * the same thread and aio_notify()'s barriers cover the other side.
     */
    return qatomic_read(&ctx->notified);
}

static void aio_context_notifier_poll_ready(EventNotifier *e)
{
    /* Nothing to do: the point was to end the busy-wait. */
    (void)e;
}

void aio_context_notifier_init(AioContext *ctx)
{
    aio_set_event_notifier(ctx, &ctx->notifier, aio_context_notifier_cb,
                           aio_context_notifier_poll,
                           aio_context_notifier_poll_ready);
}
