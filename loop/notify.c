/*
 * loop/notify.c — aio_notify(): wake whoever waits on a context.
 *
 * Method (QEMU's protocol, modelled in QEMU's docs/spin/aio_notify*.promela
 * and in models/ here):
 *   waiter:   notify_me += 2 (or |= 1 in GSource prepare); smp_mb();
 *             if notified, don't block; ...poll...; notify_me -= 2;
 *             aio_notify_accept(): xchg(notified, false); smp_mb();
 *   notifier: smp_wmb(); notified = true; smp_mb();
 *             if notify_me != 0, event_notifier_set().
 * The two full barriers form a Dekker pair: either the notifier sees the
 * waiter's notify_me, or the waiter sees notified and does not block.
 * event_notifier_set() must never be skipped because notified is already
 * true — that optimisation loses wake-ups (BUG2 in QEMU's model).
 */
#include "internal.h"

void aio_notify(AioContext *ctx)
{
    qos_trace(QOS_EV_NOTIFY, ctx->name, 0, 0);
    /*
     * Write e.g. ctx->bh_list before ctx->notified.  Pairs with smp_mb() in
     * aio_notify_accept().
     */
    smp_wmb();
    qatomic_set(&ctx->notified, true);

    /*
     * Write ctx->notified before reading ctx->notify_me.  Pairs with
     * smp_mb() in aio_ctx_prepare() and aio_poll().
     */
    smp_mb();
    if (qatomic_read(&ctx->notify_me)) {
        qos_trace(QOS_EV_NOTIFY_SET, ctx->name, 0, 0);
        event_notifier_set(&ctx->notifier);
    }
}
