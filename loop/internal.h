/*
 * loop/internal.h — what the core's files share and nobody else sees.
 */
#ifndef QLOOP_LOOP_INTERNAL_H
#define QLOOP_LOOP_INTERNAL_H

#include "qloop/qloop.h"
#include "atomic.h"
#include "os.h"

/* Invariants the design relies on: checked in every build, never compiled
 * out (a broken invariant in the field must not turn into silent damage). */
#define QLOOP_ASSERT(cond) \
    do { if (G_UNLIKELY(!(cond))) \
        qos_panic(__FILE__, __LINE__, "assertion failed: %s", #cond); \
    } while (0)

/* ---- bottom halves (bh.c) ------------------------------------------------ */

enum {
    BH_PENDING   = 1 << 0,  /* on ctx->bh_list or a slice: set by enqueue */
    BH_SCHEDULED = 1 << 1,  /* will run when dequeued */
    BH_ONESHOT   = 1 << 2,  /* freed after it runs */
    BH_DELETED   = 1 << 3,  /* freed when dequeued, never runs */
    BH_IDLE      = 1 << 4,  /* does not count as progress */
};

struct QEMUBH {
    AioContext *ctx;
    const char *name;
    QEMUBHFunc *cb;
    void *opaque;
    QEMUBH *next;           /* pending list link, written before publishing */
    uint32_t id;            /* per context, in creation order (traces) */
    unsigned flags;         /* BH_*, atomic */
    MemReentrancyGuard *reentrancy_guard;
    /* Registry of BHs made with aio_bh_new (under ctx->bh_registry_lock),
     * so finalizing a context can name a BH nobody deleted. */
    QEMUBH *reg_prev, *reg_next;
};

/* The context's key in traces: its notifier's fd (stable within a run).
 * Shifted unsigned: a context whose notifier failed to open has fd -1. */
static inline int64_t aio_trace_key(const AioContext *ctx)
{
    return (int64_t)((uint64_t)(uint32_t)ctx->notifier.rfd << 32);
}

bool aio_bh_any_scheduled(AioContext *ctx);
int64_t aio_bh_timeout_ns(AioContext *ctx);
void aio_bh_finalize(AioContext *ctx);
void aio_bh_registry_init(AioContext *ctx);

/* ---- fd handlers (fd.c) -------------------------------------------------- */

struct AioHandler {
    GPollFD pfd;            /* events we want; revents filled by the poll */
    IOHandler *io_read;
    IOHandler *io_write;
    AioPollFn *io_poll;
    IOHandler *io_poll_ready;
    void *opaque;
    uint64_t reg_seq;       /* registration order: dispatch order */
    AioHandler *prev, *next;/* ctx->handlers list, or deleted list (next) */
    bool deleted;           /* removed; freed by the outermost walker */
    bool poll_ready;        /* io_poll() reported progress this round */
    bool in_poll_ready;     /* io_poll_ready() running: neither polled nor
                               dispatched by a nested aio_poll() */
    uint64_t ready_list;    /* the ready list it was last put on (its id) */
    /* aio_set_event_notifier_poll(): called when the context enters and
     * leaves polling mode (fd-poll-begin-end.c). */
    EventNotifierHandler *io_poll_begin;  /* opaque is the notifier */
    EventNotifierHandler *io_poll_end;
};

/* Ready handlers of one poll round, in registration order. */
#define AIO_READY_MAX 128
typedef struct AioReadyList {
    AioHandler *node[AIO_READY_MAX];
    int count;
    uint64_t id;            /* aio_ready_list_init(): unique per context */
} AioReadyList;

/*
 * A list for one aio_poll() or dispatch.  A node may be on an outer
 * (interrupted) poll's list and on a nested poll's at once: the nested one
 * dispatches it — QEMU moves the node to the nested list — and the outer
 * then finds its poll_ready and revents cleared and calls nothing.
 */
void aio_ready_list_init(AioContext *ctx, AioReadyList *list);

void aio_walk_begin(AioContext *ctx);
void aio_walk_end(AioContext *ctx);
void aio_collect_ready(AioContext *ctx, const QosReady *ready, int n,
                       AioReadyList *list);
bool aio_run_poll_handlers_once(AioContext *ctx, AioReadyList *list);
/* Enter (started) or leave polling mode, calling the handlers' begin/end
 * callbacks on a change; leaving polls once more (an event may have come
 * as io_poll_end() ran).  True if that last poll made progress. */
bool aio_poll_set_started(AioContext *ctx, AioReadyList *list, bool started);
bool aio_dispatch_ready(AioContext *ctx, AioReadyList *list);
bool aio_dispatch_gsource_handlers(AioContext *ctx);
bool aio_any_handler_revents(AioContext *ctx);
bool aio_any_poll_ready(AioContext *ctx);
bool aio_dispatch_poll_ready(AioContext *ctx);
void aio_free_deleted_handlers(AioContext *ctx);
void aio_handlers_finalize(AioContext *ctx);

/* ---- timers (timer.c) ---- */

void timerlistgroup_set_trace_key(QEMUTimerListGroup *tlg, int64_t key);

/* ---- context (context.c) ------------------------------------------------- */

void aio_context_notifier_init(AioContext *ctx);
void aio_check_home_thread(AioContext *ctx);

/* ---- thread pool (thread-pool.c) ----------------------------------------- */

void thread_pool_finalize_ctx(AioContext *ctx);

/* ---- main loop ----------------------------------------------------------- */

extern AioContext *qemu_aio_context;
extern AioContext *iohandler_ctx;
int qemu_signal_init(Error **errp);
void qemu_signal_cleanup(void);
void qemu_signal_forget(void);

#endif
