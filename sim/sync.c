/*
 * sim/sync.c — QEMU's mutex, condition variable and thread API on
 * simulated threads.
 *
 * Method: lock, unlock, wait, signal and broadcast are scheduling points.
 * A contended lock blocks the thread until the owner unlocks; unlock wakes
 * every waiter to compete again (so the tape decides who gets it).  A
 * signal wakes one waiter chosen from the tape.  Timed waits use virtual
 * time.  Misuse (unlocking a mutex one does not hold, relocking it) is a
 * panic, i.e. a verdict in simulation.
 */
#include "wmm.h"
#include "world.h"
#include "qloop/thread.h"

#define SIM_MUTEX_MAGIC 0x51554d58u     /* "QMUX" */
#define SIM_COND_MAGIC 0x51434f4eu      /* "QCON" */

typedef struct {
    uint32_t magic;
    uint32_t owner;     /* thread id, 0 = free */
} SimMutex;

typedef struct {
    uint32_t magic;
} SimCond;

typedef struct {
    uint32_t id;
} SimThreadHandle;

_Static_assert(sizeof(SimMutex) <= QLOOP_OS_OBJECT_BYTES, "QemuMutex");
_Static_assert(sizeof(SimCond) <= QLOOP_OS_OBJECT_BYTES, "QemuCond");
_Static_assert(sizeof(SimThreadHandle) <= sizeof(((QemuThread *)0)->storage),
               "QemuThread");

#define SMUTEX(m) ((SimMutex *)(void *)(m)->storage)
#define SCOND(c) ((SimCond *)(void *)(c)->storage)
#define STHREAD(t) ((SimThreadHandle *)(void *)(t)->storage)

void qemu_mutex_init(QemuMutex *mutex)
{
    SMUTEX(mutex)->magic = SIM_MUTEX_MAGIC;
    SMUTEX(mutex)->owner = 0;
    mutex->initialized = true;
}

void qemu_mutex_destroy(QemuMutex *mutex)
{
    SIM_ASSERT(SMUTEX(mutex)->magic == SIM_MUTEX_MAGIC);
    SIM_ASSERT(SMUTEX(mutex)->owner == 0);
    SMUTEX(mutex)->magic = 0;
    mutex->initialized = false;
}

void qemu_mutex_lock(QemuMutex *mutex)
{
    SimMutex *m = SMUTEX(mutex);
    SimThread *self;

    qos_sched_point("mutex lock");
    self = sim_thread_current();
    SIM_ASSERT(m->magic == SIM_MUTEX_MAGIC);
    if (m->owner == self->id) {
        qos_panic(__FILE__, __LINE__, "thread %u relocks a mutex it holds",
                  self->id);
    }
    while (m->owner != 0) {
        g_snprintf(self->wait_desc, sizeof(self->wait_desc),
                   "mutex lock (held by thread %u)", m->owner);
        sim_block(SIM_WAIT_MUTEX, m, -1);
    }
    m->owner = self->id;
    if (sim_wmm_mode) {
        sim_wmm_acquire(m);     /* pairs with the release in mutex_release */
    }
}

int qemu_mutex_trylock(QemuMutex *mutex)
{
    SimMutex *m = SMUTEX(mutex);

    qos_sched_point("mutex trylock");
    SIM_ASSERT(m->magic == SIM_MUTEX_MAGIC);
    if (m->owner != 0) {
        return -16;     /* -EBUSY */
    }
    m->owner = sim_thread_current()->id;
    if (sim_wmm_mode) {
        sim_wmm_acquire(m);
    }
    return 0;
}

/* Release without a scheduling point (condition waits need release and
 * wait to be one step, or a signal could fall between them). */
static void mutex_release(SimMutex *m)
{
    SimThread *self = sim_thread_current();

    SIM_ASSERT(m->magic == SIM_MUTEX_MAGIC);
    if (m->owner != self->id) {
        qos_panic(__FILE__, __LINE__,
                  "thread %u unlocks a mutex held by thread %u",
                  self->id, m->owner);
    }
    /* Weak memory: an unlock is a release that real locks implement with
     * a locked instruction — the stores made under the lock are visible
     * before the next owner can take it (sim/wmm.c); under c11 the
     * unlock releases the owner's clock to the next lock. */
    if (sim_wmm_mode) {
        sim_wmm_drain_current();
        sim_wmm_release(m);
    }
    m->owner = 0;
    sim_wake_all(SIM_WAIT_MUTEX, m);
}

void qemu_mutex_unlock(QemuMutex *mutex)
{
    mutex_release(SMUTEX(mutex));
    qos_sched_point("mutex unlock");
}

void qemu_cond_init(QemuCond *cond)
{
    SCOND(cond)->magic = SIM_COND_MAGIC;
    cond->initialized = true;
}

void qemu_cond_destroy(QemuCond *cond)
{
    SIM_ASSERT(SCOND(cond)->magic == SIM_COND_MAGIC);
    SCOND(cond)->magic = 0;
    cond->initialized = false;
}

void qemu_cond_signal(QemuCond *cond)
{
    SimThread *waiters[SIM_THREADS_MAX];
    unsigned n;

    qos_sched_point("cond signal");
    SIM_ASSERT(SCOND(cond)->magic == SIM_COND_MAGIC);
    n = sim_waiters(SIM_WAIT_COND, SCOND(cond), waiters, SIM_THREADS_MAX);
    if (n > 0) {
        sim_wake(waiters[sim_choose(SIM_CHOICE_WAKE, n)]);
    }
}

void qemu_cond_broadcast(QemuCond *cond)
{
    qos_sched_point("cond broadcast");
    SIM_ASSERT(SCOND(cond)->magic == SIM_COND_MAGIC);
    sim_wake_all(SIM_WAIT_COND, SCOND(cond));
}

static bool cond_wait_until(QemuCond *cond, QemuMutex *mutex,
                            int64_t deadline_ns)
{
    SimThread *self = sim_thread_current();
    bool timed_out;

    SIM_ASSERT(SCOND(cond)->magic == SIM_COND_MAGIC);
    mutex_release(SMUTEX(mutex));       /* atomically with the block below */
    g_strlcpy(self->wait_desc, deadline_ns < 0 ? "condition wait" :
              "condition timed wait", sizeof(self->wait_desc));
    sim_block(SIM_WAIT_COND, SCOND(cond), deadline_ns);
    timed_out = self->timed_out;
    qemu_mutex_lock(mutex);
    return !timed_out;
}

void qemu_cond_wait(QemuCond *cond, QemuMutex *mutex)
{
    cond_wait_until(cond, mutex, -1);
}

bool qemu_cond_timedwait(QemuCond *cond, QemuMutex *mutex, int ms)
{
    return cond_wait_until(cond, mutex,
                           sim_now_ns() + (int64_t)ms * 1000 * 1000);
}

void qemu_thread_create(QemuThread *thread, const char *name,
                        void *(*start_routine)(void *), void *arg, int mode)
{
    SimThread *t;

    (void)mode;
    qos_sched_point("thread create");
    t = sim_thread_spawn(name, start_routine, arg);
    if (sim_wmm_mode) {
        sim_wmm_thread_created(t->id);  /* creation happens-before it */
    }
    STHREAD(thread)->id = t->id;
}

void *qemu_thread_join(QemuThread *thread)
{
    SimWorld *w = sim_world_get();
    uint32_t id = STHREAD(thread)->id;
    SimThread *t;

    qos_sched_point("thread join");
    SIM_ASSERT(id >= 1 && id <= w->threads->len);
    t = g_ptr_array_index(w->threads, id - 1);
    while (t->state != SIM_THREAD_FINISHED) {
        SimThread *self = sim_thread_current();

        g_snprintf(self->wait_desc, sizeof(self->wait_desc),
                   "join of thread %u (%s)", t->id, t->name);
        sim_block(SIM_WAIT_JOIN, t, -1);
    }
    if (sim_wmm_mode) {
        sim_wmm_acquire(t);     /* its exit happens-before the join */
    }
    return t->ret;
}

bool qemu_thread_is_self(QemuThread *thread)
{
    return STHREAD(thread)->id == sim_thread_current()->id;
}

void qemu_thread_get_self(QemuThread *thread)
{
    STHREAD(thread)->id = sim_thread_current()->id;
}
