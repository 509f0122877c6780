/*
 * harness/model-co.h — the reference model's rules for coroutines.
 *
 * The runner tells the model what it asked of the core (enter, schedule,
 * wake, lock, unlock, queue wait, restart, sleep) and what it saw (a
 * coroutine starting or coming back from a yield, a lock returning).  The
 * model answers with a violation, or NULL:
 *   - a coroutine runs only in its context's home thread (aio_co_schedule
 *     and a cross-thread aio_co_wake go through the context's BH);
 *   - a yielded coroutine runs only once something entered or woke it;
 *   - coroutines scheduled one after the other run in that order (the BH
 *     drains its batch FIFO);
 *   - a CoMutex has at most one holder, and waiters get it oldest first.
 */
#ifndef QLOOP_HARNESS_MODEL_CO_H
#define QLOOP_HARNESS_MODEL_CO_H

#include <stdbool.h>
#include <stdint.h>

#include "scenario.h"

typedef struct CoModel CoModel;

CoModel *co_model_new(const Scenario *s, uint32_t home_thread);
void co_model_free(CoModel *m);

/* What the runner asked for. */
void co_model_enter(CoModel *m, unsigned co);               /* direct */
void co_model_schedule_begin(CoModel *m, unsigned co);      /* via the BH */
void co_model_schedule_end(CoModel *m, unsigned co);
void co_model_sleep(CoModel *m, unsigned co, int64_t deadline_ns);
/* True if co must wait (the mutex is held or handed over). */
bool co_model_lock_call(CoModel *m, unsigned co);
void co_model_unlock(CoModel *m, unsigned co);
void co_model_queue_wait(CoModel *m, unsigned co);
void co_model_restart_all(CoModel *m);

/* What the runner saw; NULL or what is wrong. */
const char *co_model_runs(CoModel *m, unsigned co, uint32_t thread,
                          int64_t now_ns);
const char *co_model_locked(CoModel *m, unsigned co);

#endif
