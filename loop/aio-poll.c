/*
 * loop/aio-poll.c — aio_poll(): one iteration of a context's own loop.
 *
 * Method, in the order QEMU does it: compute the timeout (0 when not
 * blocking); optionally busy-poll io_poll() handlers; announce the wait in
 * notify_me and re-check notified (Dekker pair with aio_notify); wait in
 * the seam's poller — but only if blocking or some handler has no io_poll
 * (otherwise a non-blocking poll needs no system call); retract notify_me;
 * accept the notification; then BHs, ready fd handlers, deleted-handler
 * reclamation, and finally timers (clock read once).
 */
#include "internal.h"

int64_t aio_compute_timeout(AioContext *ctx)
{
    int64_t timeout_ns = aio_bh_timeout_ns(ctx);
    int64_t deadline_ns;

    if (timeout_ns == 0) {
        return 0;
    }
    deadline_ns = timerlistgroup_deadline_ns(&ctx->tlg);
    if (deadline_ns == 0) {
        return 0;
    }
    return qemu_soonest_timeout(timeout_ns, deadline_ns);
}

/*
 * Polling mode (poll_max_ns > 0, every handler has io_poll): busy-wait.
 * The mode stays started (io_poll_begin called) while polls find work;
 * it ends, calling io_poll_end and polling once more, before a wait.
 */
static bool aio_try_poll_mode(AioContext *ctx, AioReadyList *ready,
                              int64_t *timeout_ns)
{
    int64_t max_ns, start_ns, elapsed_ns;
    bool progress;

    max_ns = ctx->poll_max_ns && qatomic_read(&ctx->poll_disable_cnt) == 0 ?
             qemu_soonest_timeout(*timeout_ns, ctx->poll_max_ns) : 0;
    if (max_ns) {
        aio_poll_set_started(ctx, ready, true);
        start_ns = qos_clock_ns(QEMU_CLOCK_REALTIME);
        do {
            progress = aio_run_poll_handlers_once(ctx, ready);
            elapsed_ns = qos_clock_ns(QEMU_CLOCK_REALTIME) - start_ns;
        } while (!progress && ready->count == 0 && elapsed_ns < max_ns);

        if (ready->count > 0) {
            *timeout_ns = 0;    /* something to dispatch: don't block */
            return progress;
        }
        if (*timeout_ns != -1) {
            /* Keep the same end time for the wait that follows. */
            *timeout_ns -= MIN(*timeout_ns, elapsed_ns);
        }
    }
    progress = aio_poll_set_started(ctx, ready, false);
    if (progress || ready->count > 0) {
        *timeout_ns = 0;
    }
    return progress;
}

static int aio_wait(AioContext *ctx, int64_t timeout_ns, AioReadyList *ready)
{
    QosReady events[AIO_READY_MAX];
    int n;

    qos_trace(QOS_EV_POLL_ENTER, ctx->name, timeout_ns, 0);
    n = qos_poller_wait(ctx->poller, timeout_ns, events,
                        AIO_READY_MAX - ready->count);
    qos_trace(QOS_EV_POLL_EXIT, ctx->name, n, 0);
    if (n > 0) {
        aio_collect_ready(ctx, events, n, ready);
    }
    return n;
}

bool aio_poll(AioContext *ctx, bool blocking)
{
    AioReadyList ready;
    bool progress;
    bool use_notify_me;
    int64_t timeout_ns;

    /*
     * One aio_poll at a time per context, in its home thread: notify_me is
     * written without locks below.
     */
    aio_check_home_thread(ctx);
    aio_ready_list_init(ctx, &ready);
    aio_walk_begin(ctx);

    timeout_ns = blocking ? aio_compute_timeout(ctx) : 0;
    progress = aio_try_poll_mode(ctx, &ready, &timeout_ns);
    QLOOP_ASSERT(!(timeout_ns && progress));

    /*
     * aio_notify() may skip event_notifier_set() when everything will be
     * re-examined before the next blocking wait — true when not blocking;
     * when blocking, announce the wait.
     */
    use_notify_me = timeout_ns != 0;
    if (use_notify_me) {
        qatomic_set(&ctx->notify_me, qatomic_read(&ctx->notify_me) + 2);
        /*
         * Write ctx->notify_me before reading ctx->notified.  Pairs with
         * smp_mb() in aio_notify().
         */
        smp_mb();
        /* Don't block if aio_notify() was called. */
        if (qatomic_read(&ctx->notified)) {
            timeout_ns = 0;
        }
    }

    /* Non-blocking with every handler pollable: no system call needed. */
    if (timeout_ns || qatomic_read(&ctx->poll_disable_cnt) > 0) {
        aio_wait(ctx, timeout_ns, &ready);
    }

    if (use_notify_me) {
        /* Finish the wait before clearing the flag.  Pairs with aio_notify. */
        qatomic_store_release(&ctx->notify_me,
                              qatomic_read(&ctx->notify_me) - 2);
    }

    aio_notify_accept(ctx);

    progress |= aio_bh_poll(ctx);
    progress |= aio_dispatch_ready(ctx, &ready);

    aio_walk_end(ctx);

    progress |= timerlistgroup_run_timers(&ctx->tlg);
    return progress;
}
