/*
 * variants/notify-poll-deaf.c — a deliberately broken loop/notify.c.
 *
 * NOT the production core: built in place of loop/notify.c (qloop-notify-poll-deaf) so
 * tests/scenario-breaks.sh can check that a scenario fails when the rule
 * it states is broken.  The one change, marked VARIANT:
 * aio_notify() sets the event notifier only when notify_me's bit 0 (a
 * GSource prepare) is set: a thread blocked in aio_poll(), which counts
 * itself in steps of 2, is never woken.  Breaks
 * docs/examples/cross-thread-oneshots.scn and thread-pool.scn.
 * The rest is loop/notify.c as it stands.
 */
/*
 * loop/notify.c — aio_notify(): wake whoever waits on a context.
 *
 * Method (QEMU's protocol, modelled in QEMU's docs/spin/aio_notify*.promela
 * and in models/ here):
 *   waiter:   notify_me += 2 (or |= 1 in GSource prepare); smp_mb();
 *             if notified, don't block; ...poll...; notify_me -= 2;
 *             aio_notify_accept(): notified = false; smp_mb();
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
    if (qatomic_read(&ctx->notify_me) & 1) {   /* VARIANT: aio_poll is deaf */
        qos_trace(QOS_EV_NOTIFY_SET, ctx->name, 0, 0);
        event_notifier_set(&ctx->notifier);
    }
}
