/*
 * loop/context.c — the AioContext as a GSource, its life cycle and home.
 *
 * Method: prepare announces the GSource's wait in bit 0 of notify_me
 * (full barrier) and reports ready iff the timeout is 0, rounding the
 * timeout *up* to ms so glib never wakes before a deadline; check retracts
 * bit 0, accepts the notification and reports BHs, fd events or an expired
 * timer; dispatch runs BHs, fds and timers like aio_poll does.  The source
 * can recurse (a BH may nest aio_poll or iterate glib) and polls one
 * GPollFD per handler (added in fd.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "internal.h"

static gboolean aio_ctx_prepare(GSource *source, gint *timeout)
{
    AioContext *ctx = (AioContext *)source;

    qatomic_set(&ctx->notify_me, qatomic_read(&ctx->notify_me) | 1);
    /*
     * Write ctx->notify_me before computing the timeout (reading BH flags,
     * timers...).  Pairs with smp_mb() in aio_notify().
     */
    smp_mb();

    *timeout = qemu_timeout_ns_to_ms(aio_compute_timeout(ctx));
    if (aio_prepare(ctx)) {
        *timeout = 0;
    }
    return *timeout == 0;
}

static gboolean aio_ctx_check(GSource *source)
{
    AioContext *ctx = (AioContext *)source;

    /* Finish computing the timeout before clearing the flag. */
    qatomic_store_release(&ctx->notify_me, qatomic_read(&ctx->notify_me) & ~1u);
    aio_notify_accept(ctx);

    if (aio_bh_any_scheduled(ctx)) {
        return TRUE;
    }
    return aio_pending(ctx) || timerlistgroup_deadline_ns(&ctx->tlg) == 0;
}

static gboolean aio_ctx_dispatch(GSource *source, GSourceFunc callback,
                                 gpointer user_data)
{
    AioContext *ctx = (AioContext *)source;

    QLOOP_ASSERT(callback == NULL);
    aio_dispatch(ctx);
    return G_SOURCE_CONTINUE;
}

static void aio_ctx_finalize(GSource *source)
{
    AioContext *ctx = (AioContext *)source;

    ctx->finalizing = true;
    if (ctx->thread_pool) {
        thread_pool_finalize_ctx(ctx);
    }
    aio_bh_finalize(ctx);
    if (ctx->notifier.initialized) {
        aio_set_event_notifier(ctx, &ctx->notifier, NULL, NULL, NULL);
        event_notifier_cleanup(&ctx->notifier);
    }
    aio_handlers_finalize(ctx);
    qemu_mutex_destroy(&ctx->list_lock);
    timerlistgroup_deinit(&ctx->tlg);
    if (ctx->poller) {
        qos_poller_free(ctx->poller);
    }
}

static GSourceFuncs aio_source_funcs = {
    .prepare = aio_ctx_prepare,
    .check = aio_ctx_check,
    .dispatch = aio_ctx_dispatch,
    .finalize = aio_ctx_finalize,
};

/*
 * glib's poll blocks; polling mode cannot go on under it, so it ends here,
 * as in QEMU's aio_prepare(): io_poll_end() turns back on what
 * io_poll_begin() suppressed (a virtqueue's guest notifications) before the
 * main loop sleeps on the fds.  The last look after io_poll_end() may find
 * a request that raced with it: QEMU drops that list ("TODO what to do with
 * this list?") and may then sleep with the request unseen; here the
 * handlers it found stay marked poll_ready for the dispatch, and when one
 * is work the prepare says so, so that glib does not block.
 */
bool aio_prepare(AioContext *ctx)
{
    AioReadyList list;
    bool work;

    if (!ctx->poll_started) {
        return false;
    }
    aio_ready_list_init(ctx, &list);
    aio_walk_begin(ctx);    /* the snapshot's nodes stay allocated */
    work = aio_poll_set_started(ctx, &list, false);
    aio_walk_end(ctx);
    ctx->prepare_poll_ready = list.count;
    /* The context's own notifier found notified is no work (it is not
     * progress either): glib's check accepts it.  Saying "ready" for it
     * would skip that check, and the next prepare would say so again. */
    return work;
}

bool aio_pending(AioContext *ctx)
{
    return aio_any_handler_revents(ctx) || aio_any_poll_ready(ctx);
}

void aio_dispatch(AioContext *ctx)
{
    aio_walk_begin(ctx);
    aio_bh_poll(ctx);
    aio_dispatch_poll_ready(ctx);
    aio_dispatch_gsource_handlers(ctx);
    aio_walk_end(ctx);
    timerlistgroup_run_timers(&ctx->tlg);
}

static void aio_timerlist_notify(void *opaque, QEMUClockType type)
{
    (void)type;
    aio_notify(opaque);
}

AioContext *aio_context_new(Error **errp)
{
    AioContext *ctx;
    int ret;

    ctx = (AioContext *)g_source_new(&aio_source_funcs, sizeof(AioContext));
    ctx->name = "aio-context";
    ctx->handler_by_fd = g_hash_table_new(g_direct_hash, g_direct_equal);
    qemu_mutex_init(&ctx->list_lock);
    aio_bh_registry_init(ctx);
    timerlistgroup_init(&ctx->tlg, aio_timerlist_notify, ctx);
    ctx->thread_pool_min = 0;
    ctx->thread_pool_max = THREAD_POOL_MAX_THREADS_DEFAULT;

    ctx->poller = qos_poller_new(errp);
    if (!ctx->poller) {
        goto fail;
    }
    ret = event_notifier_init(&ctx->notifier, false);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Failed to initialize event notifier");
        goto fail;
    }
    g_source_set_can_recurse(&ctx->source, true);
    timerlistgroup_set_trace_key(&ctx->tlg, aio_trace_key(ctx));
    aio_context_notifier_init(ctx);
    return ctx;

fail:
    /*
     * The last reference: aio_ctx_finalize() frees what was made so far
     * (it skips a notifier that never opened and a NULL poller), so a
     * context that could not be made leaks nothing.
     */
    g_source_unref(&ctx->source);
    return NULL;
}

void aio_context_ref(AioContext *ctx)
{
    g_source_ref(&ctx->source);
}

void aio_context_unref(AioContext *ctx)
{
    g_source_unref(&ctx->source);
}

GSource *aio_get_g_source(AioContext *ctx)
{
    g_source_ref(&ctx->source);
    return &ctx->source;
}

void aio_context_set_poll_params(AioContext *ctx, int64_t max_ns,
                                 int64_t grow, int64_t shrink, Error **errp)
{
    if (max_ns < 0 || grow < 0 || shrink < 0) {
        error_setg(errp, "poll parameters must be >= 0");
        return;
    }
    /* Racy on purpose, as in QEMU: a stale value used once is harmless. */
    ctx->poll_max_ns = max_ns;
    ctx->poll_ns = 0;
    ctx->poll_grow = grow;
    ctx->poll_shrink = shrink;
    aio_notify(ctx);
}

void aio_context_set_aio_params(AioContext *ctx, int64_t max_batch)
{
    ctx->aio_max_batch = max_batch;
    aio_notify(ctx);
}

void qloop_g_main_context_use_seam(GMainContext *gctx)
{
    g_main_context_set_poll_func(gctx, qos_gpoll_ms);
}

/* ---- home thread --------------------------------------------------------- */

AioContext *qemu_get_current_aio_context(void)
{
    AioContext *ctx = qos_tls_get(QOS_TLS_AIO_CONTEXT);

    return ctx ? ctx : qemu_aio_context;
}

void qemu_set_current_aio_context(AioContext *ctx)
{
    QLOOP_ASSERT(qos_tls_get(QOS_TLS_AIO_CONTEXT) == NULL || ctx == NULL);
    qos_tls_set(QOS_TLS_AIO_CONTEXT, ctx);
    if (ctx) {
        qatomic_set(&ctx->home_thread_id, qos_thread_id());
    }
}

bool in_aio_context_home_thread(AioContext *ctx)
{
    uint64_t home = qatomic_read(&ctx->home_thread_id);

    return home == 0 || home == qos_thread_id();
}

/*
 * aio_poll() is single-threaded per context: the first thread to poll (or
 * the one that made it its current context) owns it.  iohandler_ctx is
 * polled by the main context's thread.
 */
void aio_check_home_thread(AioContext *ctx)
{
    AioContext *owner = ctx == iohandler_ctx && qemu_aio_context ?
                        qemu_aio_context : ctx;
    uint64_t self = qos_thread_id();
    uint64_t home = qatomic_read(&owner->home_thread_id);

    if (home == 0) {
        uint64_t seen = qatomic_cmpxchg(&owner->home_thread_id, 0, self);
        home = seen == 0 ? self : seen;
    }
    if (G_UNLIKELY(home != self)) {
        qos_panic(__FILE__, __LINE__,
                  "aio_poll(%s %p) from thread %" PRIu64
                  ", but its home thread is %" PRIu64,
                  ctx->name, (void *)ctx, self, home);
    }
}
