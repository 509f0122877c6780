/*
 * variants/fd-poll-stranded.c — a nested poll cannot dispatch a handler
 * that polling mode put on an outer poll's ready list.
 * Replaces: loop/fd.c.  Found by: qloop run / explore (livelock, or the
 * model's registration-order rule), on corpus/regressions/poll-ready-*.scn.
 *
 * NOT the production core: loop/fd.c with one defect put back.  A node an
 * outer aio_poll() polled ready is marked poll_ready and sits on the outer
 * list; a nested aio_poll() (a BH that waits, an earlier handler's nested
 * poll) skips every node so marked, both when polling and when collecting
 * the wait's events, so a wait for that handler spins for ever, and a
 * single nested poll lets it run late, out of registration order.  QEMU
 * moves the node to the nested list (aio_add_ready_handler's
 * QLIST_SAFE_REMOVE).  Everything else is loop/fd.c as it stands.
 */
#include "internal.h"

#define READ_EVENTS  (G_IO_IN | G_IO_HUP | G_IO_ERR)
#define WRITE_EVENTS (G_IO_OUT | G_IO_ERR)

static void handler_list_append(AioContext *ctx, AioHandler *node)
{
    node->next = NULL;
    node->prev = ctx->handlers_tail;
    if (ctx->handlers_tail) {
        ctx->handlers_tail->next = node;
    } else {
        ctx->handlers_head = node;
    }
    ctx->handlers_tail = node;
    ctx->handler_count++;
}

static void handler_list_unlink(AioContext *ctx, AioHandler *node)
{
    if (node->prev) {
        node->prev->next = node->next;
    } else {
        ctx->handlers_head = node->next;
    }
    if (node->next) {
        node->next->prev = node->prev;
    } else {
        ctx->handlers_tail = node->prev;
    }
    node->prev = node->next = NULL;
    QLOOP_ASSERT(ctx->handler_count > 0);
    ctx->handler_count--;
}

/*
 * Called with list_lock held (it orders this against other updates of the
 * watch set).  Watch fd for events, falling back to the mechanism that
 * refuses nothing if the current one refuses: the handler is on the list
 * already, so a refusal left standing would be a handler never polled.
 */
static void poller_watch_locked(AioContext *ctx, int fd, unsigned events)
{
    int ret = qos_poller_set(ctx->poller, fd, events);

    if (ret == 0) {
        return;
    }
    /* Any refusal is an operating error with one answer; none is fatal. */
    QLOOP_ASSERT(ret < 0);
    qos_poller_fallback(ctx->poller);
    ret = qos_poller_set(ctx->poller, fd, events);
    /* After a fallback the poller is on ppoll, whose set is an array. */
    QLOOP_ASSERT(ret == 0);
}

/* Called with list_lock held.  Returns true if the caller must free node. */
static bool handler_remove_locked(AioContext *ctx, AioHandler *node)
{
    handler_list_unlink(ctx, node);
    g_hash_table_remove(ctx->handler_by_fd, GINT_TO_POINTER(node->pfd.fd));
    if (!g_source_is_destroyed(&ctx->source)) {
        g_source_remove_poll(&ctx->source, &node->pfd);
    }
    if (qatomic_read(&ctx->list_walkers) == 0) {
        return true;
    }
    /* A walk may hold node in its snapshot: park it for the last walker. */
    qatomic_set(&node->deleted, true);
    node->next = ctx->deleted_handlers;
    ctx->deleted_handlers = node;
    qatomic_set(&ctx->deleted_pending, true);
    return false;
}

void aio_set_fd_handler(AioContext *ctx, int fd, IOHandler *io_read,
                        IOHandler *io_write, AioPollFn *io_poll,
                        IOHandler *io_poll_ready, void *opaque)
{
    AioHandler *old_node;
    AioHandler *new_node = NULL;
    bool free_old = false;
    int poll_disable_change;

    QLOOP_ASSERT(fd >= 0);
    if (io_read || io_write || io_poll || io_poll_ready) {
        new_node = qos_obj_new(QOS_OBJ_HANDLER, sizeof(AioHandler));
        new_node->pfd.fd = fd;
        new_node->pfd.events = (io_read ? READ_EVENTS : 0) |
                               (io_write ? WRITE_EVENTS : 0);
        new_node->io_read = io_read;
        new_node->io_write = io_write;
        new_node->io_poll = io_poll;
        new_node->io_poll_ready = io_poll_ready;
        new_node->opaque = opaque;
    }

    qemu_mutex_lock(&ctx->list_lock);
    old_node = g_hash_table_lookup(ctx->handler_by_fd, GINT_TO_POINTER(fd));
    if (!old_node && !new_node) {
        qemu_mutex_unlock(&ctx->list_lock);
        return;     /* removing what was never there: nothing to wake */
    }

    /* Handlers without io_poll force a real wait even when non-blocking. */
    poll_disable_change = (new_node && !new_node->io_poll) -
                          (old_node && !old_node->io_poll);
    qatomic_set(&ctx->poll_disable_cnt,
                qatomic_read(&ctx->poll_disable_cnt) + poll_disable_change);

    if (old_node) {
        free_old = handler_remove_locked(ctx, old_node);
        qos_trace(QOS_EV_FD_REMOVE, NULL,
                  aio_trace_key(ctx) | (int64_t)old_node->reg_seq, fd);
    }
    if (new_node) {
        new_node->reg_seq = ctx->handler_seq_next++;
        handler_list_append(ctx, new_node);
        g_hash_table_insert(ctx->handler_by_fd, GINT_TO_POINTER(fd), new_node);
        if (!g_source_is_destroyed(&ctx->source)) {
            g_source_add_poll(&ctx->source, &new_node->pfd);
        }
        qos_trace(QOS_EV_FD_ADD, NULL,
                  aio_trace_key(ctx) | (int64_t)new_node->reg_seq, fd);
    }
    poller_watch_locked(ctx, fd, new_node ? new_node->pfd.events : 0);
    qemu_mutex_unlock(&ctx->list_lock);

    aio_notify(ctx);
    if (free_old) {
        qos_obj_free(QOS_OBJ_HANDLER, old_node);
    }
}

void aio_set_event_notifier(AioContext *ctx, EventNotifier *notifier,
                            EventNotifierHandler *io_read, AioPollFn *io_poll,
                            EventNotifierHandler *io_poll_ready)
{
    /*
     * QEMU casts EventNotifierHandler to IOHandler with the notifier as the
     * opaque pointer; both take one pointer argument, so the call is sound
     * on every ABI QEMU supports.
     */
    aio_set_fd_handler(ctx, event_notifier_get_fd(notifier),
                       (IOHandler *)(void (*)(void))io_read, NULL, io_poll,
                       (IOHandler *)(void (*)(void))io_poll_ready, notifier);
}

/* ---- walking ------------------------------------------------------------ */

void aio_walk_begin(AioContext *ctx)
{
    /* Ordered before any snapshot by list_lock, taken by the snapshot. */
    qatomic_set(&ctx->list_walkers, qatomic_read(&ctx->list_walkers) + 1);
}

void aio_walk_end(AioContext *ctx)
{
    QLOOP_ASSERT(ctx->list_walkers > 0);
    if (ctx->list_walkers == 1) {
        aio_free_deleted_handlers(ctx);
    }
    /*
     * No lock: an updater that still reads the old count only parks its
     * node on the deleted list, which the next walk frees.  Being counted
     * for too long is safe; being counted too briefly is not.
     */
    qatomic_set(&ctx->list_walkers, qatomic_read(&ctx->list_walkers) - 1);
}

void aio_free_deleted_handlers(AioContext *ctx)
{
    AioHandler *node;

    if (!qatomic_read(&ctx->deleted_pending)) {
        return;
    }
    qemu_mutex_lock(&ctx->list_lock);
    node = ctx->deleted_handlers;
    ctx->deleted_handlers = NULL;
    qatomic_set(&ctx->deleted_pending, false);
    qemu_mutex_unlock(&ctx->list_lock);
    while (node) {
        AioHandler *next = node->next;

        QLOOP_ASSERT(node->deleted);
        qos_obj_free(QOS_OBJ_HANDLER, node);
        node = next;
    }
}

void aio_ready_list_init(AioContext *ctx, AioReadyList *list)
{
    list->count = 0;
    list->id = ++ctx->ready_list_next;  /* home thread only */
}

/* Put node on list once (a node polled ready and reported by the wait). */
static void ready_list_add(AioReadyList *list, AioHandler *node)
{
    int i = list->count;

    if (node->ready_list == list->id) {
        return;
    }
    QLOOP_ASSERT(list->count < AIO_READY_MAX);
    node->ready_list = list->id;
    /* Insertion sort by registration order: lists are short. */
    while (i > 0 && list->node[i - 1]->reg_seq > node->reg_seq) {
        list->node[i] = list->node[i - 1];
        i--;
    }
    list->node[i] = node;
    list->count++;
}

void aio_collect_ready(AioContext *ctx, const QosReady *ready, int n,
                       AioReadyList *list)
{
    if (n == 0) {
        return;
    }
    qemu_mutex_lock(&ctx->list_lock);
    for (int i = 0; i < n && list->count < AIO_READY_MAX; i++) {
        AioHandler *node = g_hash_table_lookup(ctx->handler_by_fd,
                                               GINT_TO_POINTER(ready[i].fd));
        if (!node || node->in_poll_ready) {
            continue;   /* removed after the wait returned, or disabled */
        }
        node->pfd.revents = ready[i].revents;
        /* THE DEFECT: a node an outer poll's list holds is left to it. */
        if (!node->poll_ready) {
            ready_list_add(list, node);
        }
    }
    qemu_mutex_unlock(&ctx->list_lock);
}

/* One round of io_poll() over every handler (polling mode). */
bool aio_run_poll_handlers_once(AioContext *ctx, AioReadyList *list)
{
    AioHandler *snapshot[AIO_READY_MAX];
    int n = 0;
    bool progress = false;

    qemu_mutex_lock(&ctx->list_lock);
    for (AioHandler *node = ctx->handlers_head; node && n < AIO_READY_MAX;
         node = node->next) {
        if (node->io_poll) {
            snapshot[n++] = node;
        }
    }
    qemu_mutex_unlock(&ctx->list_lock);

    for (int i = 0; i < n; i++) {
        AioHandler *node = snapshot[i];

        /* THE DEFECT: ... and is not polled by a nested poll either. */
        if (!qatomic_read(&node->deleted) && !node->poll_ready &&
            !node->in_poll_ready && node->io_poll(node->opaque)) {
            qos_trace(QOS_EV_FD_POLLED, NULL,
                      aio_trace_key(ctx) | (int64_t)node->reg_seq,
                      node->pfd.fd);
            node->poll_ready = true;
            ready_list_add(list, node);
            /* The context's own notifier is not progress. */
            if (node->opaque != &ctx->notifier) {
                progress = true;
            }
        }
    }
    return progress;
}

/* Run one ready handler: poll-ready, then io_read, then io_write. */
static bool aio_dispatch_handler(AioContext *ctx, AioHandler *node)
{
    bool progress = false;
    bool poll_ready = node->poll_ready;
    int revents = node->pfd.revents & node->pfd.events;

    node->pfd.revents = 0;
    node->poll_ready = false;

    if (!qatomic_read(&node->deleted) && poll_ready && revents == 0 &&
        node->io_poll_ready) {
        qos_trace(QOS_EV_FD_CALL, "poll_ready",
                  aio_trace_key(ctx) | (int64_t)node->reg_seq,
                  node->pfd.fd);
        /*
         * A handler typically clears what made io_poll() true only after
         * its work, and that work may nest aio_poll(): polled again there,
         * it would be re-entered, and again, until the stack runs out.
         * Disable it while it runs (QEMU 6d740fb01b).  The node cannot be
         * freed meanwhile: this walk keeps it.
         */
        QLOOP_ASSERT(!node->in_poll_ready);
        node->in_poll_ready = true;
        node->io_poll_ready(node->opaque);
        node->in_poll_ready = false;
        return node->opaque != &ctx->notifier;
    }
    if (!qatomic_read(&node->deleted) && (revents & READ_EVENTS) &&
        node->io_read) {
        qos_trace(QOS_EV_FD_CALL, "read",
                  aio_trace_key(ctx) | (int64_t)node->reg_seq,
                  node->pfd.fd);
        node->io_read(node->opaque);
        /* aio_notify() wake-ups are not progress. */
        if (node->opaque != &ctx->notifier) {
            progress = true;
        }
    }
    if (!qatomic_read(&node->deleted) && (revents & WRITE_EVENTS) &&
        node->io_write) {
        qos_trace(QOS_EV_FD_CALL, "write",
                  aio_trace_key(ctx) | (int64_t)node->reg_seq,
                  node->pfd.fd);
        node->io_write(node->opaque);
        progress = true;
    }
    return progress;
}

bool aio_dispatch_ready(AioContext *ctx, AioReadyList *list)
{
    bool progress = false;

    if (list->count > 0) {
        qos_trace(QOS_EV_FD_ROUND, NULL, aio_trace_key(ctx), list->count);
    }
    for (int i = 0; i < list->count; i++) {
        progress |= aio_dispatch_handler(ctx, list->node[i]);
    }
    list->count = 0;
    return progress;
}

/* GSource path: glib filled pfd.revents of every handler it polled. */
bool aio_dispatch_gsource_handlers(AioContext *ctx)
{
    AioReadyList list;
    bool progress = false;
    AioHandler *node;

    do {
        aio_ready_list_init(ctx, &list);
        qemu_mutex_lock(&ctx->list_lock);
        for (node = ctx->handlers_head; node; node = node->next) {
            if (node->pfd.revents & node->pfd.events) {
                node->ready_list = list.id;
                list.node[list.count++] = node;
                if (list.count == AIO_READY_MAX) {
                    break;
                }
            }
        }
        qemu_mutex_unlock(&ctx->list_lock);
        progress |= aio_dispatch_ready(ctx, &list);
    } while (node);
    return progress;
}

bool aio_any_handler_revents(AioContext *ctx)
{
    bool result = false;

    qemu_mutex_lock(&ctx->list_lock);
    for (AioHandler *node = ctx->handlers_head; node; node = node->next) {
        int revents = node->pfd.revents & node->pfd.events;

        if (((revents & READ_EVENTS) && node->io_read) ||
            ((revents & WRITE_EVENTS) && node->io_write)) {
            result = true;
            break;
        }
    }
    qemu_mutex_unlock(&ctx->list_lock);
    return result;
}

void aio_handlers_finalize(AioContext *ctx)
{
    AioHandler *node;

    QLOOP_ASSERT(ctx->list_walkers == 0);
    aio_free_deleted_handlers(ctx);
    while ((node = ctx->handlers_head)) {
        handler_list_unlink(ctx, node);
        qos_obj_free(QOS_OBJ_HANDLER, node);
    }
    g_hash_table_destroy(ctx->handler_by_fd);
    ctx->handler_by_fd = NULL;
}
