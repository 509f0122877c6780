/*
 * variants/mb-notify-accept.c — loop/notify-accept.c with one barrier removed or weakened.
 *
 * Replaces: loop/notify-accept.c
 *
 * NOT the production core: a weak-memory variant (tests/sim/memory.c,
 * label "memory"; docs/simulation.md, "Weak memory").  It is
 * aio_notify_accept() without the smp_mb() after notified = false: the
 * clear may stay buffered past the reads of what the notification
 * announced, and land after a later notifier's notified = true (tso).
 * Everything else is a copy of loop/notify-accept.c.
 */
/*
 * loop/notify-accept.c — the waiter's side of the notify protocol and the
 * context's own EventNotifier callbacks (see loop/notify.c for the whole
 * protocol; this half is shared by every variant of aio_notify()).
 */
#include "internal.h"

void aio_notify_accept(AioContext *ctx)
{
    qatomic_set(&ctx->notified, false);

    /*
     * Order the clear of ctx->notified before the reads of what it
     * announced (BHs, fd events, timers).  Pairs with smp_wmb() in
     * aio_notify().
     */
    /* (smp_mb() removed) */
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
