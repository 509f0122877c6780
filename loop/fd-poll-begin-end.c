/*
 * loop/fd-poll-begin-end.c — io_poll_begin/io_poll_end: handlers told when
 * their context enters and leaves polling mode (QEMU's
 * aio_set_event_notifier_poll, used by virtqueues to turn guest
 * notifications off while polled).
 *
 * Method: the callbacks sit on the live handler of the notifier's fd; the
 * home thread flips ctx->poll_started and calls them outside the list lock
 * over a snapshot, skipping handlers deleted meanwhile — the same walk as
 * aio_run_poll_handlers_once().
 */
#include "internal.h"

void aio_set_event_notifier_poll(AioContext *ctx, EventNotifier *notifier,
                                 EventNotifierHandler *io_poll_begin,
                                 EventNotifierHandler *io_poll_end)
{
    AioHandler *node;

    qemu_mutex_lock(&ctx->list_lock);
    node = g_hash_table_lookup(ctx->handler_by_fd,
                               GINT_TO_POINTER(event_notifier_get_fd(notifier)));
    if (node) {
        node->io_poll_begin = io_poll_begin;
        node->io_poll_end = io_poll_end;
    }
    qemu_mutex_unlock(&ctx->list_lock);
}

bool aio_poll_set_started(AioContext *ctx, AioReadyList *list, bool started)
{
    AioHandler *snapshot[AIO_READY_MAX];
    int n = 0;

    if (ctx->poll_started == started) {
        return false;
    }
    ctx->poll_started = started;

    qemu_mutex_lock(&ctx->list_lock);
    for (AioHandler *node = ctx->handlers_head; node && n < AIO_READY_MAX;
         node = node->next) {
        if (started ? node->io_poll_begin != NULL : node->io_poll_end != NULL) {
            snapshot[n++] = node;
        }
    }
    /* Snapshot nodes stay allocated: freed only by the outermost walker,
     * and the caller (aio_poll) is one. */
    qemu_mutex_unlock(&ctx->list_lock);
    for (int i = 0; i < n; i++) {
        AioHandler *node = snapshot[i];

        if (qatomic_read(&node->deleted)) {
            continue;
        }
        /* Set only through aio_set_event_notifier_poll(): the opaque is
         * the EventNotifier. */
        if (started) {
            node->io_poll_begin(node->opaque);
        } else {
            node->io_poll_end(node->opaque);
        }
    }
    return started ? false : aio_run_poll_handlers_once(ctx, list);
}

/*
 * Handlers the last look of aio_prepare()'s end of polling mode found
 * ready (poll_ready, on no aio_poll()'s list): the GSource's check and
 * dispatch take them, as QEMU's dispatch, which walks every handler, does.
 * Counted by aio_prepare(): with none (nearly always) neither walks nor
 * locks, so a run's scheduling points are those of a core without them.
 */
bool aio_any_poll_ready(AioContext *ctx)
{
    return ctx->prepare_poll_ready > 0;
}

bool aio_dispatch_poll_ready(AioContext *ctx)
{
    AioReadyList list;
    AioHandler *node;

    if (ctx->prepare_poll_ready == 0) {
        return false;
    }
    ctx->prepare_poll_ready = 0;
    aio_ready_list_init(ctx, &list);
    qemu_mutex_lock(&ctx->list_lock);
    for (node = ctx->handlers_head; node && list.count < AIO_READY_MAX;
         node = node->next) {
        if (node->poll_ready && node->ready_list != list.id) {
            node->ready_list = list.id;
            list.node[list.count++] = node;     /* registration order */
        }
    }
    qemu_mutex_unlock(&ctx->list_lock);
    return aio_dispatch_ready(ctx, &list);
}
