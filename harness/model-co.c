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
 * in, and a mutex's waiters form a FIFO the handoff must follow.  A
 * reschedule queues only when its old context's BH runs, so it follows
 * the schedules that returned before it began and precedes none (not even
 * through the return of the call that scheduled it into the old context:
 * it may have run and moved on before that call returned).  Each
 * coroutine belongs to the context it was last entered in, scheduled into
 * or rescheduled to, and must run in the thread that polls it; order is
 * kept per context (each has its own BH).  The
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
    CO_PERMIT_QUEUE_RACED,  /* queued while a restart ran elsewhere: it may
                               have been restarted, or may stay queued */
    CO_PERMIT_TIMER,        /* its sleep's deadline */
    CO_PERMIT_POOL,         /* its thread_pool_submit_co()'s completion */
} CoPermit;

typedef struct {
    CoPermit permit;
    uint64_t sched_begin, sched_end;    /* ticks; end 0: call not returned,
                                           or a reschedule (no order) */
    int64_t deadline_ns;
    bool in_queue;
    uint64_t queued_at;                 /* tick of its queue wait */
    bool running;                       /* between a run and its leaving */
    uint32_t running_thread;
    unsigned ctx;                       /* SCN_CTX_HOME or an iothread's */
} CoState;

/*
 * A coroutine in qemu_co_mutex_lock().  The core decides whether it waits,
 * and queues it, some time after the runner's lock call (its spinlock is
 * a scheduling point), so calls from different threads may take the
 * mutex or queue in either order.  One queued surely before another if
 * both called from one thread (coroutines of a thread do not interleave),
 * or if its thread did anything else (`seen`) before the other's call and
 * it still has not the mutex: a thread goes on only once its caller got
 * the mutex or yielded, which it does after queueing.
 */
typedef struct {
    unsigned co;
    uint32_t thread;
    uint64_t called, seen;      /* ticks; seen 0: nothing yet */
    /* The lock is taken inside a core call the runner cannot see into
     * (qemu_co_queue_wait() or qemu_co_enter_next() given the mutex):
     * when, nobody knows, so it keeps no order with the other callers and
     * an unlock does not owe it the mutex (it may not have asked yet). */
    bool unordered;
} CoWaiter;

struct CoModel {
    const Scenario *s;
    uint32_t ctx_thread[CO_MODEL_CONTEXTS];
    uint64_t tick;
    CoState co[SCN_OBJECTS_MAX];
    int holder;                         /* -1: nobody */
    bool locked;                        /* held, or handed over */
    bool handing_over;                  /* unlocked with callers pending */
    CoWaiter waiters[SCN_OBJECTS_MAX];  /* lock calls not returned, oldest
                                           first */
    unsigned waiter_count;
    unsigned restarting;                /* restart calls not returned */
    char why[256];
};

/* The last freed model: a run's costs no allocation (a large one made
 * glibc's malloc consolidate its free lists every run). */
static CoModel *co_model_spare;

CoModel *co_model_new(const Scenario *s, uint32_t home_thread)
{
    CoModel *m = co_model_spare ? co_model_spare : g_new(CoModel, 1);

    co_model_spare = NULL;
    memset(m, 0, sizeof(*m));

    m->s = s;
    m->ctx_thread[SCN_CTX_HOME] = home_thread;
    m->holder = -1;
    return m;
}

void co_model_free(CoModel *m)
{
    if (!co_model_spare) {
        co_model_spare = m;
    } else {
        g_free(m);
    }
}

void co_model_context_thread(CoModel *m, unsigned ctx, uint32_t thread)
{
    g_assert(ctx < CO_MODEL_CONTEXTS);
    m->ctx_thread[ctx] = thread;
}

static const char *co_name(const CoModel *m, unsigned co)
{
    return m->s->objects[SCN_OBJ_CORO][co].name;
}

static const char *ctx_name(const CoModel *m, unsigned ctx)
{
    return ctx == SCN_CTX_HOME ? "home"
           : m->s->objects[SCN_OBJ_IOTHREAD][ctx - SCN_CTX_HOME - 1].name;
}

void co_model_enter(CoModel *m, unsigned co, unsigned ctx)
{
    g_assert(ctx < CO_MODEL_CONTEXTS);
    m->tick++;
    m->co[co].permit = CO_PERMIT_ENTER;
    m->co[co].ctx = ctx;
}

uint64_t co_model_schedule_begin(CoModel *m, unsigned co, unsigned ctx)
{
    g_assert(ctx < CO_MODEL_CONTEXTS);
    m->co[co].permit = CO_PERMIT_BH;
    m->co[co].ctx = ctx;
    m->co[co].sched_begin = ++m->tick;
    m->co[co].sched_end = 0;
    return m->co[co].sched_begin;
}

void co_model_reschedule(CoModel *m, unsigned co, unsigned ctx)
{
    co_model_schedule_begin(m, co, ctx);
    co_model_leaves(m, co);
}

void co_model_leaves(CoModel *m, unsigned co)
{
    m->tick++;
    m->co[co].running = false;
}

void co_model_ends(CoModel *m, unsigned co)
{
    co_model_leaves(m, co);
}

void co_model_schedule_end(CoModel *m, unsigned co, uint64_t token)
{
    /* Only if it still waits from this call: the BH may have run it
     * already, and it may have rescheduled itself since (sched_begin is
     * then the reschedule's, which has no end). */
    if (m->co[co].permit == CO_PERMIT_BH && m->co[co].sched_begin == token &&
        m->co[co].sched_end == 0) {
        m->co[co].sched_end = ++m->tick;
    }
}

void co_model_sleep(CoModel *m, unsigned co, int64_t deadline_ns)
{
    m->tick++;
    m->co[co].permit = CO_PERMIT_TIMER;
    m->co[co].deadline_ns = deadline_ns;
}

void co_model_pool_wait(CoModel *m, unsigned co)
{
    m->tick++;
    m->co[co].permit = CO_PERMIT_POOL;
}

void co_model_step(CoModel *m, uint32_t thread)
{
    m->tick++;
    for (unsigned i = 0; i < m->waiter_count; i++) {
        if (m->waiters[i].thread == thread && !m->waiters[i].seen) {
            m->waiters[i].seen = m->tick;
        }
    }
}

void co_model_lock_call(CoModel *m, unsigned co, uint32_t thread)
{
    co_model_step(m, thread);
    g_assert(m->waiter_count < SCN_OBJECTS_MAX);
    m->waiters[m->waiter_count++] = (CoWaiter){
        .co = co, .thread = thread, .called = ++m->tick,
    };
}

void co_model_lock_call_unordered(CoModel *m, unsigned co)
{
    m->tick++;
    g_assert(m->waiter_count < SCN_OBJECTS_MAX);
    m->waiters[m->waiter_count++] = (CoWaiter){
        .co = co, .thread = UINT32_MAX, .called = m->tick, .unordered = true,
    };
}

/* The oldest caller whose lock call the runner saw, or -1: only such a
 * caller is owed the mutex by an unlock. */
static int co_first_ordered_waiter(const CoModel *m)
{
    for (unsigned i = 0; i < m->waiter_count; i++) {
        if (!m->waiters[i].unordered) {
            return (int)i;
        }
    }
    return -1;
}

/* co may be waiting inside the core for the mutex, which someone has. */
static bool co_waits_for_mutex(const CoModel *m, unsigned co)
{
    for (unsigned i = 0; m->locked && i < m->waiter_count; i++) {
        if (m->waiters[i].co == co && m->waiters[i].unordered) {
            return true;
        }
    }
    return false;
}

void co_model_unlock(CoModel *m, unsigned co)
{
    m->tick++;
    g_assert(m->holder == (int)co);
    m->holder = -1;
    if (co_first_ordered_waiter(m) < 0) {
        m->locked = false;
        return;
    }
    /* Locked stays: a queued caller takes it, or (none queued yet) the
     * first to get there. */
    m->handing_over = true;
}

/* Whether waiter a surely queued before waiter b (see CoWaiter). */
static bool queued_before(const CoWaiter *a, const CoWaiter *b)
{
    return !a->unordered && !b->unordered && a->called < b->called &&
           (a->thread == b->thread || (a->seen && a->seen < b->called));
}

void co_model_queue_wait(CoModel *m, unsigned co)
{
    m->tick++;
    m->co[co].in_queue = true;
    m->co[co].queued_at = m->tick;
    /* A restart in another thread has begun and not returned: the
     * scenario's race (a CoQueue is its caller's to lock).  Its pops may
     * or may not reach this coroutine; either is QEMU's behaviour. */
    if (m->restarting > 0) {
        m->co[co].permit = CO_PERMIT_QUEUE_RACED;
    }
}

void co_model_restart_begin(CoModel *m)
{
    m->tick++;
    m->restarting++;
    for (unsigned i = 0; i < SCN_OBJECTS_MAX; i++) {
        if (m->co[i].in_queue) {
            m->co[i].in_queue = false;
            m->co[i].permit = CO_PERMIT_QUEUE;
        }
    }
}

void co_model_restart_end(CoModel *m)
{
    g_assert(m->restarting > 0);
    m->tick++;
    m->restarting--;
}

int co_model_queue_head(const CoModel *m)
{
    int head = -1;

    if (m->restarting > 0) {
        return -2;
    }
    for (unsigned i = 0; i < m->s->object_count[SCN_OBJ_CORO]; i++) {
        const CoState *c = &m->co[i];

        if (!c->in_queue) {
            continue;
        }
        /* Queued while a restart ran: that restart may have taken it. */
        if (c->permit == CO_PERMIT_QUEUE_RACED) {
            return -2;
        }
        if (head < 0 || c->queued_at < m->co[head].queued_at) {
            head = (int)i;
        }
    }
    return head;
}

void co_model_enter_next(CoModel *m, unsigned co)
{
    g_assert(m->co[co].in_queue);
    m->tick++;
    m->co[co].in_queue = false;
    m->co[co].permit = CO_PERMIT_ENTER;
}

/* A coroutine scheduled before co's schedule began that has not run. */
static int co_overtaken(const CoModel *m, unsigned co)
{
    for (unsigned i = 0; i < m->s->object_count[SCN_OBJ_CORO]; i++) {
        const CoState *c = &m->co[i];

        if (i != co && c->permit == CO_PERMIT_BH && c->sched_end != 0 &&
            c->ctx == m->co[co].ctx &&
            c->sched_end < m->co[co].sched_begin) {
            return (int)i;
        }
    }
    return -1;
}

const char *co_model_runs(CoModel *m, unsigned co, uint32_t thread,
                          int current_ctx, int64_t now_ns)
{
    CoState *c = &m->co[co];
    uint32_t want = m->ctx_thread[c->ctx];
    int first;

    co_model_step(m, thread);
    if (c->running) {
        g_snprintf(m->why, sizeof(m->why), "coroutine: '%s' ran in thread %u "
                   "while it still ran in thread %u (entered before it "
                   "yielded)", co_name(m, co), thread, c->running_thread);
        return m->why;
    }
    c->running = true;
    c->running_thread = thread;
    if (thread != want) {
        g_snprintf(m->why, sizeof(m->why), "coroutine: '%s' ran in thread %u, "
                   "not in the thread of its context '%s' (thread %u): a "
                   "schedule, a reschedule or a wake from another thread "
                   "must go through the context's BH", co_name(m, co), thread,
                   ctx_name(m, c->ctx), want);
        return m->why;
    }
    if (current_ctx != (int)c->ctx) {
        g_snprintf(m->why, sizeof(m->why), "coroutine: '%s' runs in context "
                   "'%s', but qemu_get_current_aio_context() there is %s%s%s",
                   co_name(m, co), ctx_name(m, c->ctx),
                   current_ctx < 0 ? "none of the scenario's" : "'",
                   current_ctx < 0 ? "" : ctx_name(m, (unsigned)current_ctx),
                   current_ctx < 0 ? "" : "'");
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
    c->in_queue = false;    /* running, so not in the CoQueue */
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
    unsigned w = 0;

    while (w < m->waiter_count && m->waiters[w].co != co) {
        w++;
    }
    g_assert(w < m->waiter_count);      /* co_model_lock_call() came first */
    if (m->handing_over) {
        for (unsigned i = 0; i < m->waiter_count; i++) {
            if (queued_before(&m->waiters[i], &m->waiters[w])) {
                g_snprintf(m->why, sizeof(m->why), "CoMutex: '%s' acquired "
                           "it, but unlock owed it to '%s', which has waited "
                           "longer (waiters get the mutex in FIFO order)",
                           co_name(m, co), co_name(m, m->waiters[i].co));
                return m->why;
            }
        }
        m->handing_over = false;
    } else if (m->locked) {
        g_snprintf(m->why, sizeof(m->why), "CoMutex: '%s' acquired it while "
                   "it was locked and handed to nobody", co_name(m, co));
        return m->why;
    }
    memmove(m->waiters + w, m->waiters + w + 1,
            (m->waiter_count - w - 1) * sizeof(m->waiters[0]));
    m->waiter_count--;
    m->co[co].permit = CO_PERMIT_LOCK;      /* it runs on with the mutex */
    m->holder = (int)co;
    m->locked = true;
    return NULL;
}

bool co_model_owed(const CoModel *m, int64_t end_ns, int virtual_enabled,
                   char *buf, size_t len)
{
    for (unsigned i = 0; i < m->s->object_count[SCN_OBJ_CORO]; i++) {
        const CoState *c = &m->co[i];
        const char *why = NULL;

        /* Woken, it went on to take the mutex inside the core, and waits
         * for it behind its holder. */
        if (c->running || co_waits_for_mutex(m, i)) {
            continue;
        }
        switch (c->permit) {
        case CO_PERMIT_ENTER:
            /* Entered at once, or woken by a coroutine of its context and
             * entered as soon as that one switches away: never later. */
            why = "was entered, or woken from its own context";
            break;
        case CO_PERMIT_QUEUE:
            why = "was restarted from the CoQueue";
            break;
        case CO_PERMIT_BH:
            why = "was scheduled into its context (aio_co_schedule, a "
                  "reschedule or a cross-thread wake)";
            break;
        case CO_PERMIT_TIMER:
            /* A sleep's timer sets the poll's deadline, so the virtual
             * clock gets there unless it is disabled or the deadline lies
             * past the end of simulated time (end_ns). */
            if (virtual_enabled == 1 && c->deadline_ns < end_ns) {
                why = "sleeps in qemu_co_sleep_ns on an enabled clock";
            }
            break;
        default:
            break;
        }
        if (why) {
            g_snprintf(buf, len, "coroutine '%s' %s and never ran",
                       co_name(m, i), why);
            return true;
        }
    }
    if (m->holder < 0 && m->handing_over) {
        int w = co_first_ordered_waiter(m);

        if (w >= 0) {
            g_snprintf(buf, len, "CoMutex: unlocked with '%s' waiting, "
                       "which never got it", co_name(m, m->waiters[w].co));
            return true;
        }
    }
    return false;
}
