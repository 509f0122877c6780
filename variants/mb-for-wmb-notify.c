/*
 * variants/mb-for-wmb-notify.c — loop/notify.c with one barrier strengthened.
 *
 * Replaces: loop/notify.c
 *
 * NOT the production core: a weak-memory variant (tests/sim/memory.c,
 * label "memory"; docs/simulation.md, "The R shape").  It is aio_notify()
 * with smp_mb() where the core has smp_wmb() before notified = true.
 * Under c11 the core can lose a timer armed from another thread when the
 * waiter's aio_notify_accept() overwrites notified = true without reading
 * it: a release fence synchronises only with a load that reads what
 * follows it, and nothing reads it.  A full barrier here orders the timer
 * list before that store for the waiter's smp_mb() too (SC fences are
 * totally ordered), which this variant shows is enough.
 * Everything else is a copy of loop/notify.c.
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
    smp_mb();
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
