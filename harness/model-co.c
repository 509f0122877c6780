/*
 * harness/model-co.c — the reference model's coroutine rules
 * (model-co.h).
 *
 * Method: every coroutine holds at most one permit to run — why it may run
 * next (entered, scheduled through the BH, handed the mutex, restarted
 * from the queue, its sleep's deadline).  A start or a return from a yield
 * consumes it; without one the core ran a coroutine nobody woke.  Order is
 * kept with a tick bumped by every call: a schedule whose call returned
 * (tick) before another's began must run first, whichever batch each lands
 * in, and a mutex's waiters form a FIFO the handoff must follow.  The
 * runner only issues requests that are legal at that moment (it skips the
 * rest), so every violation here is the core's.
 */
#include "model-co.h"

#include <glib.h>
#include <string.h>

typedef enum {
    CO_PERMIT_NONE,
    CO_PERMIT_ENTER,        /* qemu_coroutine_enter / a same-thread wake */
    CO_PERMIT_BH,           /* aio_co_schedule, a cross-thread wake */
    CO_PERMIT_LOCK,         /* the mutex was handed to it */
    CO_PERMIT_QUEUE,        /* restarted from the CoQueue */
    CO_PERMIT_TIMER,        /* its sleep's deadline */
} CoPermit;

typedef struct {
    CoPermit permit;
    uint64_t sched_begin, sched_end;    /* ticks; end 0: call not returned */
    int64_t deadline_ns;
    bool in_queue;
} CoState;

struct CoModel {
    const Scenario *s;
    uint32_t home_thread;
    uint64_t tick;
    CoState co[SCN_OBJECTS_MAX];
    int holder;                         /* -1: nobody */
    bool locked;                        /* held, or handed over */
    int handed_to;                      /* -1: no handoff in flight */
    unsigned waiters[SCN_OBJECTS_MAX];  /* oldest first */
    unsigned waiter_count;
    char why[256];
};

CoModel *co_model_new(const Scenario *s, uint32_t home_thread)
{
    CoModel *m = g_new0(CoModel, 1);

    m->s = s;
    m->home_thread = home_thread;
    m->holder = -1;
    m->handed_to = -1;
    return m;
}

void co_model_free(CoModel *m)
{
    g_free(m);
}

static const char *co_name(const CoModel *m, unsigned co)
{
    return m->s->objects[SCN_OBJ_CORO][co].name;
}

void co_model_enter(CoModel *m, unsigned co)
{
    m->tick++;
    m->co[co].permit = CO_PERMIT_ENTER;
}

void co_model_schedule_begin(CoModel *m, unsigned co)
{
    m->co[co].permit = CO_PERMIT_BH;
    m->co[co].sched_begin = ++m->tick;
    m->co[co].sched_end = 0;
}

void co_model_schedule_end(CoModel *m, unsigned co)
{
    /* Only if it is still waiting: the BH may have run it already. */
    if (m->co[co].permit == CO_PERMIT_BH && m->co[co].sched_end == 0) {
        m->co[co].sched_end = ++m->tick;
    }
}

void co_model_sleep(CoModel *m, unsigned co, int64_t deadline_ns)
{
    m->tick++;
    m->co[co].permit = CO_PERMIT_TIMER;
    m->co[co].deadline_ns = deadline_ns;
}

bool co_model_lock_call(CoModel *m, unsigned co)
{
    m->tick++;
    if (!m->locked) {
        return false;
    }
    g_assert(m->waiter_count < SCN_OBJECTS_MAX);
    m->waiters[m->waiter_count++] = co;
    return true;
}

void co_model_unlock(CoModel *m, unsigned co)
{
    m->tick++;
    g_assert(m->holder == (int)co);
    m->holder = -1;
    if (m->waiter_count == 0) {
        m->locked = false;
        return;
    }
    m->handed_to = (int)m->waiters[0];
    memmove(m->waiters, m->waiters + 1,
            (m->waiter_count - 1) * sizeof(m->waiters[0]));
    m->waiter_count--;
    m->co[m->handed_to].permit = CO_PERMIT_LOCK;
}

void co_model_queue_wait(CoModel *m, unsigned co)
{
    m->tick++;
    m->co[co].in_queue = true;
}

void co_model_restart_all(CoModel *m)
{
    m->tick++;
    for (unsigned i = 0; i < SCN_OBJECTS_MAX; i++) {
        if (m->co[i].in_queue) {
            m->co[i].in_queue = false;
            m->co[i].permit = CO_PERMIT_QUEUE;
        }
    }
}

/* A coroutine scheduled before co's schedule began that has not run. */
static int co_overtaken(const CoModel *m, unsigned co)
{
    for (unsigned i = 0; i < m->s->object_count[SCN_OBJ_CORO]; i++) {
        const CoState *c = &m->co[i];

        if (i != co && c->permit == CO_PERMIT_BH && c->sched_end != 0 &&
            c->sched_end < m->co[co].sched_begin) {
            return (int)i;
        }
    }
    return -1;
}

const char *co_model_runs(CoModel *m, unsigned co, uint32_t thread,
                          int64_t now_ns)
{
    CoState *c = &m->co[co];
    int first;

    m->tick++;
    if (thread != m->home_thread) {
        g_snprintf(m->why, sizeof(m->why), "coroutine: '%s' ran in thread %u, "
                   "not in its context's home thread %u (a schedule or a "
                   "wake from another thread must go through the context's "
                   "BH)", co_name(m, co), thread, m->home_thread);
        return m->why;
    }
    switch (c->permit) {
    case CO_PERMIT_NONE:
        g_snprintf(m->why, sizeof(m->why), "coroutine: '%s' ran, but nothing "
                   "entered, scheduled or woke it since it yielded",
                   co_name(m, co));
        return m->why;
    case CO_PERMIT_TIMER:
        if (now_ns < c->deadline_ns) {
            g_snprintf(m->why, sizeof(m->why), "coroutine: '%s' woke from "
                       "qemu_co_sleep_ns at %" G_GINT64_FORMAT " ns, before "
                       "its deadline %" G_GINT64_FORMAT " ns",
                       co_name(m, co), now_ns, c->deadline_ns);
            return m->why;
        }
        break;
    case CO_PERMIT_BH:
        first = co_overtaken(m, co);
        if (first >= 0) {
            g_snprintf(m->why, sizeof(m->why), "coroutine: '%s' ran from "
                       "aio_co_schedule before '%s', which was scheduled "
                       "before it (the BH runs its batch in FIFO order)",
                       co_name(m, co), co_name(m, (unsigned)first));
            return m->why;
        }
        break;
    default:
        break;
    }
    c->permit = CO_PERMIT_NONE;
    return NULL;
}

const char *co_model_locked(CoModel *m, unsigned co)
{
    m->tick++;
    if (m->holder >= 0) {
        g_snprintf(m->why, sizeof(m->why), "CoMutex: '%s' acquired it while "
                   "'%s' holds it", co_name(m, co),
                   co_name(m, (unsigned)m->holder));
        return m->why;
    }
    if (m->handed_to >= 0 && m->handed_to != (int)co) {
        g_snprintf(m->why, sizeof(m->why), "CoMutex: '%s' acquired it, but "
                   "unlock owed it to '%s', which has waited longest "
                   "(waiters get the mutex in FIFO order)", co_name(m, co),
                   co_name(m, (unsigned)m->handed_to));
        return m->why;
    }
    if (m->handed_to < 0 && m->locked) {
        g_snprintf(m->why, sizeof(m->why), "CoMutex: '%s' acquired it while "
                   "it was locked and handed to nobody", co_name(m, co));
        return m->why;
    }
    m->handed_to = -1;
    m->holder = (int)co;
    m->locked = true;
    return NULL;
}
