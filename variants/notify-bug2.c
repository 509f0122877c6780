/*
 * variants/notify-bug2.c — a deliberately broken aio_notify() (BUG2).
 *
 * NOT the production core: the harness links it in place of
 * loop/notify.c to show that the simulator finds the lost wake-up that
 * QEMU's docs/spin/aio_notify_accept.promela models as BUG2.  The
 * "optimisation" skips event_notifier_set() when notified is already true.
 * A notify that lands while nobody waits (notify_me == 0) leaves notified
 * true with the eventfd clear; the next GSource prepare does not look at
 * notified, so a BH scheduled after that prepare computed its timeout
 * notifies nobody, and glib sleeps with the BH pending.
 */
#include "internal.h"

void aio_notify(AioContext *ctx)
{
    bool was_notified;

    qos_trace(QOS_EV_NOTIFY, ctx->name, 0, 0);
    smp_wmb();
    was_notified = qatomic_xchg(&ctx->notified, true);
    smp_mb();
    if (!was_notified && qatomic_read(&ctx->notify_me)) {   /* BUG2 */
        qos_trace(QOS_EV_NOTIFY_SET, ctx->name, 0, 0);
        event_notifier_set(&ctx->notifier);
    }
}
