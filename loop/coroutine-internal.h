/*
 * loop/coroutine-internal.h — what coroutine.c, aio-co.c and co-lock.c
 * share: the Coroutine itself.
 */
#ifndef QLOOP_LOOP_COROUTINE_INTERNAL_H
#define QLOOP_LOOP_COROUTINE_INTERNAL_H

#include "qloop/coroutine.h"
#include "internal.h"

struct Coroutine {
    CoroutineEntry *entry;
    void *entry_arg;
    /* Who entered it and gets control back on yield; NULL while it is not
     * running (also what qemu_in_coroutine() asks of the current one). */
    Coroutine *caller;
    QosCoro *os;                /* its stack (the thread's, for a leader) */
    AioContext *ctx;            /* where it last ran: aio_co_wake() target */
    /* Non-NULL (the scheduler's name) from aio_co_schedule() until its BH
     * takes it: entering it meanwhile would run it twice.  Atomic. */
    const char *scheduled;
    Coroutine *co_scheduled_next;   /* ctx->scheduled_coroutines link */
    /* Coroutines it woke while running (aio_co_enter from inside it): they
     * run, in order, as soon as it yields or ends. */
    Coroutine *wakeup_head, *wakeup_tail;
    Coroutine *co_queue_next;   /* wakeup list or CoQueue link */
    unsigned locks_held;        /* CoMutexes it holds (must be 0 at end) */
    bool leader;                /* a thread's own stack, never freed */
};

/* qemu_coroutine_enter()'s loop: run co and whatever it wakes, in ctx. */
void coroutine_enter_in(AioContext *ctx, Coroutine *co);
/* Put co on self's wakeup list (it runs when self yields). */
void coroutine_queue_wakeup(Coroutine *self, Coroutine *co);
/* The context the calling thread runs, or NULL: its current AioContext,
 * or the main one for the main loop's thread. */
AioContext *coroutine_thread_context(void);

#endif
