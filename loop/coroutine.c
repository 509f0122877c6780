/*
 * loop/coroutine.c — coroutines: create, enter, yield, and the thread's own.
 *
 * Method: every thread has a leader coroutine standing for its own stack,
 * kept in the seam's per-thread area (nothing to free when the thread
 * ends).  Entering saves the caller in to->caller and switches; yielding
 * switches back to the caller and clears it, so "caller != NULL" means
 * "running or waiting for a coroutine it entered".  Coroutines woken from
 * inside a coroutine (aio_co_enter) wait on the waker's wakeup list and run
 * from the enter loop as soon as the waker yields — chained, never nested,
 * so two coroutines can hand control back and forth without growing either
 * stack.  Any thread may resume a yielded coroutine, so nothing per-thread
 * is kept across a switch: the thread area is fetched again after each.
 */
#include <stdio.h>

#include "coroutine-internal.h"

typedef enum {
    CO_ACTION_ENTER,
    CO_ACTION_YIELD,
    CO_ACTION_TERMINATE,
} CoAction;

typedef struct CoroThread {
    Coroutine leader;
    Coroutine *current;     /* NULL while the leader runs */
    CoAction action;        /* what the last switch into this thread did */
} CoroThread;

_Static_assert(sizeof(CoroThread) <= QOS_THREAD_AREA_BYTES,
               "the coroutine thread state must fit the seam's thread area");

static CoroThread *coro_thread(void)
{
    CoroThread *t = qos_thread_area();

    if (G_UNLIKELY(!t->leader.os)) {
        t->leader.os = qos_coro_thread();
        t->leader.leader = true;
    }
    return t;
}

Coroutine *qemu_coroutine_self(void)
{
    CoroThread *t = coro_thread();

    return t->current ? t->current : &t->leader;
}

bool qemu_in_coroutine(void)
{
    return coro_thread()->current != NULL;
}

bool qemu_coroutine_entered(Coroutine *co)
{
    return co->caller != NULL;
}

AioContext *qemu_coroutine_get_aio_context(Coroutine *co)
{
    return co->ctx;
}

/*
 * Switch from `from` (running) to `to` and tell it what happened; returns
 * what the coroutine that switches back to `from` did, read from the
 * thread `from` resumes on.
 */
static CoAction coroutine_switch(Coroutine *from, Coroutine *to,
                                 CoAction action)
{
    CoroThread *t = coro_thread();

    t->current = to->leader ? NULL : to;
    t->action = action;
    qos_coro_switch(from->os, to->os, action == CO_ACTION_TERMINATE);
    return coro_thread()->action;
}

static void coroutine_trampoline(void)
{
    Coroutine *self = coro_thread()->current;
    Coroutine *caller;

    QLOOP_ASSERT(self && !self->leader);
    self->entry(self->entry_arg);

    /* It may have moved threads while it ran: ask again. */
    self = qemu_coroutine_self();
    caller = self->caller;
    QLOOP_ASSERT(caller);
    self->caller = NULL;
    coroutine_switch(self, caller, CO_ACTION_TERMINATE);
    qos_panic(__FILE__, __LINE__, "a finished coroutine was resumed");
}

Coroutine *qemu_coroutine_create(CoroutineEntry *entry, void *opaque)
{
    Coroutine *co = g_new0(Coroutine, 1);

    co->os = qos_coro_new(COROUTINE_STACK_SIZE, coroutine_trampoline);
    if (!co->os) {
        qos_panic(__FILE__, __LINE__, "no memory for a coroutine stack");
    }
    co->entry = entry;
    co->entry_arg = opaque;
    return co;
}

static void coroutine_delete(Coroutine *co)
{
    QLOOP_ASSERT(!co->leader);
    qos_coro_free(co->os);
    g_free(co);
}

void coroutine_queue_wakeup(Coroutine *self, Coroutine *co)
{
    QLOOP_ASSERT(self != co);
    co->co_queue_next = NULL;
    if (self->wakeup_tail) {
        self->wakeup_tail->co_queue_next = co;
    } else {
        self->wakeup_head = co;
    }
    self->wakeup_tail = co;
}

void coroutine_enter_in(AioContext *ctx, Coroutine *co)
{
    Coroutine *from = qemu_coroutine_self();
    Coroutine *pending = co;

    co->co_queue_next = NULL;
    while (pending) {
        Coroutine *to = pending;
        const char *scheduled = qatomic_load_acquire(&to->scheduled);
        CoAction action;

        pending = to->co_queue_next;
        to->co_queue_next = NULL;
        /* A scheduled coroutine will be entered by its BH: entering it now
         * as well would run it twice, or after it was freed. */
        if (scheduled) {
            qos_panic(__FILE__, __LINE__,
                      "coroutine entered while scheduled by %s", scheduled);
        }
        if (to->caller) {
            qos_panic(__FILE__, __LINE__, "coroutine re-entered recursively");
        }
        to->caller = from;
        to->ctx = ctx;
        /* Publish to->ctx before anything that lets another thread wake
         * `to` (pairs with the acquire in aio_co_wake()). */
        smp_wmb();

        action = coroutine_switch(from, to, CO_ACTION_ENTER);

        /* Those `to` woke run next, before older pending ones: depth
         * first, as QEMU orders them. */
        if (to->wakeup_head) {
            to->wakeup_tail->co_queue_next = pending;
            pending = to->wakeup_head;
            to->wakeup_head = to->wakeup_tail = NULL;
        }
        if (action == CO_ACTION_TERMINATE) {
            if (to->locks_held) {
                qos_panic(__FILE__, __LINE__,
                          "coroutine ended holding %u CoMutex(es)",
                          to->locks_held);
            }
            coroutine_delete(to);
        } else {
            QLOOP_ASSERT(action == CO_ACTION_YIELD);
        }
    }
}

void qemu_aio_coroutine_enter(AioContext *ctx, Coroutine *co)
{
    coroutine_enter_in(ctx, co);
}

void qemu_coroutine_enter(Coroutine *co)
{
    coroutine_enter_in(qemu_get_current_aio_context(), co);
}

void qemu_coroutine_enter_if_inactive(Coroutine *co)
{
    if (!qemu_coroutine_entered(co)) {
        qemu_coroutine_enter(co);
    }
}

void coroutine_fn qemu_coroutine_yield(void)
{
    Coroutine *self = qemu_coroutine_self();
    Coroutine *to = self->caller;

    if (!to) {
        qos_panic(__FILE__, __LINE__, "coroutine is yielding to no one");
    }
    self->caller = NULL;
    coroutine_switch(self, to, CO_ACTION_YIELD);
}

/* qloop keeps no pool (each coroutine maps its stack): nothing to size. */
void qemu_coroutine_inc_pool_size(unsigned int additional_pool_size)
{
    (void)additional_pool_size;
}

void qemu_coroutine_dec_pool_size(unsigned int additional_pool_size)
{
    (void)additional_pool_size;
}
