/*
 * harness/model-co.h — the reference model's rules for coroutines.
 *
 * The runner tells the model what it asked of the core (enter, schedule,
 * wake, lock, unlock, queue wait, restart, sleep) and what it saw (a
 * coroutine starting or coming back from a yield, a lock returning).  The
 * model answers with a violation, or NULL:
 *   - a coroutine runs only in the thread of its context — the one it was
 *     entered in, scheduled into or rescheduled to — and that context is
 *     current there (aio_co_schedule, aio_co_reschedule_self and a
 *     cross-thread aio_co_wake go through the context's BH);
 *   - no coroutine runs in two threads at once;
 *   - a yielded coroutine runs only once something entered or woke it;
 *   - coroutines scheduled one after the other run in that order (the BH
 *     drains its batch FIFO);
 *   - a CoMutex has at most one holder, and waiters get it oldest first
 *     (of those surely queued in that order: see CoWaiter in model-co.c).
 */
#ifndef QLOOP_HARNESS_MODEL_CO_H
#define QLOOP_HARNESS_MODEL_CO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scenario.h"

typedef struct CoModel CoModel;

/* Contexts are numbered as in the IR: SCN_CTX_HOME, then the iothreads. */
#define CO_MODEL_CONTEXTS (1 + SCN_IOTHREADS_MAX)

CoModel *co_model_new(const Scenario *s, uint32_t home_thread);
void co_model_free(CoModel *m);
/* Context ctx is polled by simulated thread `thread` (an iothread). */
void co_model_context_thread(CoModel *m, unsigned ctx, uint32_t thread);

/* What the runner asked for.  ctx: the context the coroutine will run in. */
void co_model_enter(CoModel *m, unsigned co, unsigned ctx);   /* direct */
/* Via a BH: begin answers a token that end takes back.  Before the call
 * returns, the coroutine may have run from it and asked for another move
 * (a reschedule); that one is not ended by this call's return. */
uint64_t co_model_schedule_begin(CoModel *m, unsigned co, unsigned ctx);
void co_model_schedule_end(CoModel *m, unsigned co, uint64_t token);
/* aio_co_reschedule_self(ctx): the BH of its old context schedules it into
 * ctx later, so it keeps no order with the schedules around the call. */
void co_model_reschedule(CoModel *m, unsigned co, unsigned ctx);
/* co is about to switch away (yield, sleep, wait, lock, reschedule). */
void co_model_leaves(CoModel *m, unsigned co);
/* co's body returned. */
void co_model_ends(CoModel *m, unsigned co);
void co_model_sleep(CoModel *m, unsigned co, int64_t deadline_ns);
/* co waits in thread_pool_submit_co(): the completion may run it.  Not
 * owed by the model: the runner knows when the work is done. */
void co_model_pool_wait(CoModel *m, unsigned co);
/* co calls qemu_co_mutex_lock() from `thread` (then leaves: it may wait);
 * co_model_locked() when it returns. */
void co_model_lock_call(CoModel *m, unsigned co, uint32_t thread);
/* The runner did something in `thread` (an operation began there). */
void co_model_step(CoModel *m, uint32_t thread);
/* co takes the mutex inside a core call that was given it (a queue wait,
 * qemu_co_enter_next()): at a moment the runner cannot see; then
 * co_model_locked() when the call returns. */
void co_model_lock_call_unordered(CoModel *m, unsigned co);
void co_model_unlock(CoModel *m, unsigned co);
void co_model_queue_wait(CoModel *m, unsigned co);
/* qemu_co_queue_restart_all() begins / returned.  A coroutine queued in
 * between (from another thread) may be restarted by it or stay queued. */
void co_model_restart_begin(CoModel *m);
void co_model_restart_end(CoModel *m);
/* The CoQueue's oldest waiter (waiters are FIFO): its index, -1 if the
 * queue is empty, -2 if a restart may have taken some (one is under way,
 * or one raced a queue wait and nothing ran the waiter since). */
int co_model_queue_head(const CoModel *m);
/* qemu_co_enter_next() pops co, the head, and enters it directly. */
void co_model_enter_next(CoModel *m, unsigned co);

/* What the runner saw; NULL or what is wrong.  current_ctx: the context
 * qemu_get_current_aio_context() names there (-1: none of the scenario's). */
const char *co_model_runs(CoModel *m, unsigned co, uint32_t thread,
                          int current_ctx, int64_t now_ns);
const char *co_model_locked(CoModel *m, unsigned co);

/*
 * Every thread waits: is a coroutine owed a run?  One entered, woken from
 * its own context (run once the waker switches away), restarted from the
 * queue, or scheduled or rescheduled through a BH, and not run since; one
 * asleep until before end_ns (virtual time's end) while the virtual clock
 * is enabled (virtual_enabled: 1 enabled, 0 disabled, -1 unknown); or the
 * mutex unlocked with callers waiting and none got it.  True with what is
 * owed in buf.
 */
bool co_model_owed(const CoModel *m, int64_t end_ns, int virtual_enabled,
                   char *buf, size_t len);

#endif
