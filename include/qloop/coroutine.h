/*
 * qloop/coroutine.h — QEMU's coroutines, their AioContext glue, CoMutex and
 * CoQueue.
 *
 * A coroutine runs on a stack of its own until it yields back to whoever
 * entered it.  It is bound to the AioContext it was last entered in
 * (co->ctx): aio_co_wake() from that context's thread re-enters it at once
 * (or, from inside another coroutine, right after that one yields), from
 * any other thread it goes through the context's bottom half, so it always
 * runs in its context's home thread.  Names, signatures and semantics are
 * QEMU's (include/qemu/coroutine.h, util/qemu-coroutine*.c, util/async.c).
 */
#ifndef QLOOP_COROUTINE_H
#define QLOOP_COROUTINE_H

#include <stdbool.h>
#include <stdint.h>

#include "qloop/aio.h"
#include "qloop/thread-pool.h"
#include "qloop/timer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Annotations QEMU's static checkers read; nothing for the compiler. */
#ifndef coroutine_fn
#define coroutine_fn
#endif
#ifndef coroutine_mixed_fn
#define coroutine_mixed_fn
#endif
#ifndef no_coroutine_fn
#define no_coroutine_fn
#endif

typedef struct Coroutine Coroutine;
typedef void coroutine_fn CoroutineEntry(void *opaque);

/* Bytes of stack every coroutine gets (mapped lazily, a guard page below). */
#define COROUTINE_STACK_SIZE (1 << 20)

Coroutine *qemu_coroutine_create(CoroutineEntry *entry, void *opaque);
/* Run co in the caller's current AioContext until it yields or ends. */
void qemu_coroutine_enter(Coroutine *co);
/* Same, only if co is not running or scheduled (never entered twice). */
void qemu_coroutine_enter_if_inactive(Coroutine *co);
/* Run co as part of ctx: aio_co_wake() will come back to ctx. */
void qemu_aio_coroutine_enter(AioContext *ctx, Coroutine *co);
void coroutine_fn qemu_coroutine_yield(void);
/* The running coroutine; outside one, the thread's own (leader) one. */
Coroutine *qemu_coroutine_self(void);
bool qemu_in_coroutine(void);
/* True while co runs or waits in a coroutine it entered (not yielded). */
bool qemu_coroutine_entered(Coroutine *co);
AioContext *qemu_coroutine_get_aio_context(Coroutine *co);
void qemu_coroutine_inc_pool_size(unsigned int additional_pool_size);
void qemu_coroutine_dec_pool_size(unsigned int additional_pool_size);

/* ---- the AioContext side (QEMU's block/aio.h) -------------------------- */

/*
 * Enter co in ctx's home thread from its bottom half.  co must not run or
 * be scheduled already (that aborts, naming the first scheduler).  Any
 * thread may call it.
 */
void aio_co_schedule(AioContext *ctx, Coroutine *co);
/*
 * Enter co in ctx: at once if the caller's thread runs ctx and is not in a
 * coroutine; after the running coroutine yields if it is; through
 * aio_co_schedule() from any other thread.
 */
void aio_co_enter(AioContext *ctx, Coroutine *co);
/* aio_co_enter() into the context co last ran in. */
void aio_co_wake(Coroutine *co);
/* Move the running coroutine to new_ctx's thread (returns there). */
void coroutine_fn aio_co_reschedule_self(AioContext *new_ctx);

/* Sleep ns on clock type in the current AioContext's timer list. */
void coroutine_fn qemu_co_sleep_ns(QEMUClockType type, int64_t ns);

/* Run func(arg) on the current context's pool; yields until it returned. */
int coroutine_fn thread_pool_submit_co(ThreadPoolFunc *func, void *arg);

/* ---- CoMutex ------------------------------------------------------------ */

/*
 * A mutex for coroutines: a contended lock yields instead of blocking the
 * thread, and unlock hands the mutex straight to the oldest waiter, which
 * is woken in its own AioContext.  Usable across threads.  All zeroes is an
 * unlocked mutex (qemu_co_mutex_init() is still the documented way).
 */
typedef struct CoMutexWaiter CoMutexWaiter;
typedef struct CoMutex {
    unsigned spin;              /* guards the fields below (atomic) */
    bool locked;
    Coroutine *holder;
    CoMutexWaiter *head, *tail; /* waiters, oldest first */
} CoMutex;

void qemu_co_mutex_init(CoMutex *mutex);
void coroutine_fn qemu_co_mutex_lock(CoMutex *mutex);
void coroutine_fn qemu_co_mutex_unlock(CoMutex *mutex);
void coroutine_fn qemu_co_mutex_assert_locked(CoMutex *mutex);

/* ---- CoQueue ------------------------------------------------------------ */

/*
 * Coroutines waiting for a condition, woken in FIFO order.  Not thread-safe
 * by itself: the lock given to qemu_co_queue_wait() (a CoMutex, a QemuMutex
 * or none) must protect it, as in QEMU.
 */
typedef struct CoQueue {
    Coroutine *head, *tail;
} CoQueue;

void qemu_co_queue_init(CoQueue *queue);
void coroutine_fn qemu_co_queue_wait_co_mutex(CoQueue *queue, CoMutex *m);
void coroutine_fn qemu_co_queue_wait_mutex(CoQueue *queue, QemuMutex *m);
/* The lock argument's type picks the variant (QEMU's QemuLockable). */
#define qemu_co_queue_wait(queue, lock) \
    _Generic((lock), \
        CoMutex *: qemu_co_queue_wait_co_mutex, \
        QemuMutex *: qemu_co_queue_wait_mutex, \
        default: qemu_co_queue_wait_co_mutex)((queue), (lock))
/* Wake the oldest waiter; false if there was none. */
bool qemu_co_queue_next(CoQueue *queue);
void qemu_co_queue_restart_all(CoQueue *queue);
/* Enter the oldest waiter now, lock released around it, as QEMU does. */
bool qemu_co_enter_next_co_mutex(CoQueue *queue, CoMutex *lock);
bool qemu_co_enter_next_mutex(CoQueue *queue, QemuMutex *lock);
#define qemu_co_enter_next(queue, lock) \
    _Generic((lock), \
        CoMutex *: qemu_co_enter_next_co_mutex, \
        QemuMutex *: qemu_co_enter_next_mutex, \
        default: qemu_co_enter_next_co_mutex)((queue), (lock))
bool qemu_co_queue_empty(CoQueue *queue);

/* ---- waiting for a condition (QEMU's AIO_WAIT_WHILE) ------------------- */

/*
 * Poll until cond is false.  From ctx's home thread it polls ctx; from
 * another thread (not inside a coroutine) it polls the main context, and
 * whoever makes cond false from ctx's thread calls aio_wait_kick() so the
 * waiter wakes to read it again — QEMU's AIO_WAIT_WHILE.  True if it
 * polled at least once.
 */
#define AIO_WAIT_WHILE(ctx, cond) ({ \
    bool qloop_waited_ = false; \
    AioContext *qloop_wait_ctx_ = (ctx); \
    bool qloop_remote_ = qloop_aio_wait_begin(qloop_wait_ctx_); \
    while ((cond)) { \
        qloop_aio_wait_poll(qloop_wait_ctx_, qloop_remote_); \
        qloop_waited_ = true; \
    } \
    qloop_aio_wait_end(qloop_remote_); \
    qloop_waited_; })
#define AIO_WAIT_WHILE_UNLOCKED(ctx, cond) AIO_WAIT_WHILE(ctx, cond)
/* AIO_WAIT_WHILE's parts: count a remote waiter (returns whether it is
 * one), one blocking poll, uncount. */
bool qloop_aio_wait_begin(AioContext *ctx);
void qloop_aio_wait_poll(AioContext *ctx, bool remote);
void qloop_aio_wait_end(bool remote);
/* Wake every remote AIO_WAIT_WHILE so it reads its condition again. */
void aio_wait_kick(void);
/* qloop: forget the remote waiters counted — for a harness whose simulated
 * world was abandoned with a thread inside AIO_WAIT_WHILE. */
void qloop_aio_wait_forget(void);

#ifdef __cplusplus
}
#endif

#endif
