/*
 * qloop/aio.h — the AioContext: QEMU's event-loop core as a GSource.
 *
 * An AioContext owns bottom halves, fd handlers, one timer list per clock
 * type (ctx->tlg) and an EventNotifier that wakes whoever waits on it —
 * aio_poll() in its home thread, or glib when the context is attached to a
 * GMainContext through aio_get_g_source().  Names and signatures are QEMU's.
 */
#ifndef QLOOP_AIO_H
#define QLOOP_AIO_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "qloop/error.h"
#include "qloop/event-notifier.h"
#include "qloop/thread.h"
#include "qloop/timer.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef stringify
#define qloop_xstringify(s) qloop_tostring(s)
#define qloop_tostring(s) #s
#define stringify(s) qloop_tostring(s)
#endif

typedef struct AioContext AioContext;
typedef struct QEMUBH QEMUBH;
typedef struct AioHandler AioHandler;
typedef struct QosPoller QosPoller;
typedef struct ThreadPool ThreadPool;
typedef struct Coroutine Coroutine;
typedef void QEMUBHFunc(void *opaque);
typedef bool AioPollFn(void *opaque);
typedef void IOHandler(void *opaque);

typedef struct MemReentrancyGuard {
    bool engaged_in_io;
} MemReentrancyGuard;

/*
 * Each aio_bh_poll() call carves off the pending list into a slice; nested
 * calls chain their slices so an inner poll finishes the outer's BHs first.
 */
typedef struct BHListSlice BHListSlice;
struct BHListSlice {
    QEMUBH *bh_list;            /* LIFO, newest first-enqueued at the head */
    BHListSlice *next;
};

struct AioContext {
    GSource source;

    /*
     * Protects the handler list, the deleted list and the fd map.  Taken by
     * any thread that adds or removes a handler; the home thread takes it
     * only to snapshot ready handlers and to free deleted ones.
     */
    QemuMutex list_lock;
    /* Walks in progress (home thread only writes; read under list_lock). */
    unsigned list_walkers;
    AioHandler *handlers_head;  /* registration order, oldest first */
    AioHandler *handlers_tail;
    AioHandler *deleted_handlers;
    GHashTable *handler_by_fd;  /* fd -> live AioHandler */
    uint64_t handler_seq_next;  /* registration sequence, under list_lock */
    uint64_t ready_list_next;   /* identity of the next ready list (home
                                   thread: each aio_poll/dispatch its own) */
    unsigned handler_count;
    bool deleted_pending;       /* atomic: deleted_handlers is non-empty */

    /*
     * Bit 0: set between the GSource prepare and check.  Bits 1-31: number
     * of aio_poll() calls in their prepare/poll phase, +2 each.  Written
     * only by the home thread, read by any thread in aio_notify().
     */
    uint32_t notify_me;

    /* Pending BHs: atomic LIFO, pushed by any thread, taken by aio_bh_poll. */
    QEMUBH *bh_list;
    /* Every BH made by aio_bh_new (not oneshots), to name leaks. */
    QemuMutex bh_registry_lock;
    QEMUBH *bh_registry;
    uint32_t bh_id_next;        /* atomic: BH ids for traces, per context */

    /* Slices of nested aio_bh_poll() calls, oldest first (home thread). */
    BHListSlice *bh_slice_head;
    BHListSlice *bh_slice_tail;

    /*
     * True once aio_notify() ran and until aio_notify_accept().  A false
     * positive is allowed (notified while the notifier is clear); a false
     * negative is not.
     */
    bool notified;
    EventNotifier notifier;

    /* One timer list per clock type; notifies this context on a new head. */
    QEMUTimerListGroup tlg;

    /* Handlers without io_poll: while > 0, a non-blocking poll must wait. */
    int poll_disable_cnt;
    int64_t poll_ns;
    int64_t poll_max_ns;
    int64_t poll_grow;
    int64_t poll_shrink;
    int64_t aio_max_batch;

    QosPoller *poller;          /* fd readiness monitor behind the OS seam */
    ThreadPool *thread_pool;
    int thread_pool_min;
    int thread_pool_max;
    const char *name;           /* for diagnostics */
    /* Thread allowed to aio_poll(): claimed by the first poll or by
     * qemu_set_current_aio_context(); 0 while unclaimed. */
    uint64_t home_thread_id;
    bool finalizing;
    /* aio_co_schedule(): coroutines to enter from a BH, an atomic LIFO
     * pushed by any thread (loop/aio-co.c). */
    Coroutine *scheduled_coroutines;
    /* In polling mode: io_poll_begin() ran, io_poll_end() not yet (home
     * thread only). */
    bool poll_started;
    /* Handlers the last look of aio_prepare()'s end of polling mode found
     * ready, for the GSource's check and dispatch (home thread only): 0
     * spares them a walk under the list lock. */
    int prepare_poll_ready;
};

/* Context */
AioContext *aio_context_new(Error **errp);
void aio_context_ref(AioContext *ctx);
void aio_context_unref(AioContext *ctx);
GSource *aio_get_g_source(AioContext *ctx);
void aio_context_set_poll_params(AioContext *ctx, int64_t max_ns,
                                 int64_t grow, int64_t shrink, Error **errp);
void aio_context_set_aio_params(AioContext *ctx, int64_t max_batch);
void aio_context_set_thread_pool_params(AioContext *ctx, int64_t min,
                                        int64_t max, Error **errp);
ThreadPool *aio_get_thread_pool(AioContext *ctx);

/* Notify */
void aio_notify(AioContext *ctx);
void aio_notify_accept(AioContext *ctx);

/* Poll */
bool aio_poll(AioContext *ctx, bool blocking);
int64_t aio_compute_timeout(AioContext *ctx);
bool aio_prepare(AioContext *ctx);
bool aio_pending(AioContext *ctx);
void aio_dispatch(AioContext *ctx);

/* Bottom halves */
QEMUBH *aio_bh_new_full(AioContext *ctx, QEMUBHFunc *cb, void *opaque,
                        const char *name, MemReentrancyGuard *reentrancy_guard);
#define aio_bh_new(ctx, cb, opaque) \
    aio_bh_new_full((ctx), (cb), (opaque), (stringify(cb)), NULL)
#define aio_bh_new_guarded(ctx, cb, opaque, guard) \
    aio_bh_new_full((ctx), (cb), (opaque), (stringify(cb)), guard)
void aio_bh_schedule_oneshot_full(AioContext *ctx, QEMUBHFunc *cb,
                                  void *opaque, const char *name);
#define aio_bh_schedule_oneshot(ctx, cb, opaque) \
    aio_bh_schedule_oneshot_full((ctx), (cb), (opaque), (stringify(cb)))
void aio_bh_call(QEMUBH *bh);
int aio_bh_poll(AioContext *ctx);
void qemu_bh_schedule(QEMUBH *bh);
void qemu_bh_schedule_idle(QEMUBH *bh);
void qemu_bh_cancel(QEMUBH *bh);
void qemu_bh_delete(QEMUBH *bh);
/* qloop extension: the debug name given at creation (the callback's name). */
const char *qemu_bh_get_name(const QEMUBH *bh);

/* fd handlers */
void aio_set_fd_handler(AioContext *ctx, int fd, IOHandler *io_read,
                        IOHandler *io_write, AioPollFn *io_poll,
                        IOHandler *io_poll_ready, void *opaque);
void aio_set_event_notifier(AioContext *ctx, EventNotifier *notifier,
                            EventNotifierHandler *io_read, AioPollFn *io_poll,
                            EventNotifierHandler *io_poll_ready);
/*
 * Callbacks for when ctx starts busy-polling (io_poll_begin) and stops
 * (io_poll_end), on the handler registered for notifier; set after
 * aio_set_event_notifier(), forgotten when the handler is replaced.  After
 * io_poll_end() the handler's io_poll() runs once more, so an event that
 * raced with it is not lost.  As in QEMU.
 */
void aio_set_event_notifier_poll(AioContext *ctx, EventNotifier *notifier,
                                 EventNotifierHandler *io_poll_begin,
                                 EventNotifierHandler *io_poll_end);

/* Timers on a context */
static inline QEMUTimer *aio_timer_new_with_attrs(AioContext *ctx,
                                                  QEMUClockType type,
                                                  int scale, int attributes,
                                                  QEMUTimerCB *cb, void *opaque)
{
    return timer_new_full(&ctx->tlg, type, scale, attributes, cb, opaque);
}
static inline QEMUTimer *aio_timer_new(AioContext *ctx, QEMUClockType type,
                                       int scale, QEMUTimerCB *cb, void *opaque)
{
    return timer_new_full(&ctx->tlg, type, scale, 0, cb, opaque);
}
static inline void aio_timer_init_with_attrs(AioContext *ctx, QEMUTimer *ts,
                                             QEMUClockType type, int scale,
                                             int attributes, QEMUTimerCB *cb,
                                             void *opaque)
{
    timer_init_full(ts, &ctx->tlg, type, scale, attributes, cb, opaque);
}
static inline void aio_timer_init(AioContext *ctx, QEMUTimer *ts,
                                  QEMUClockType type, int scale,
                                  QEMUTimerCB *cb, void *opaque)
{
    timer_init_full(ts, &ctx->tlg, type, scale, 0, cb, opaque);
}

/*
 * qloop extension: make ctx's poll (between g_main_context_query and
 * check) go through qloop's OS seam.  Required for a GMainContext that
 * polls AioContexts in simulation (fake fds); harmless on the host.
 * qemu_init_main_loop() does it for the default context.
 */
void qloop_g_main_context_use_seam(GMainContext *ctx);

/* Home thread */
AioContext *qemu_get_current_aio_context(void);
void qemu_set_current_aio_context(AioContext *ctx);
bool in_aio_context_home_thread(AioContext *ctx);

#ifdef __cplusplus
}
#endif

#endif
