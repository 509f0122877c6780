/*
 * loop/host/thread.c — QEMU's thread API on pthreads, thread ids, TLS.
 *
 * QemuMutex/QemuCond/QemuThread hold the pthread objects in their opaque
 * storage; the static assertions keep the public sizes honest.  Condition
 * variables time out on CLOCK_MONOTONIC.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../os.h"
#include "qloop/thread.h"

_Static_assert(sizeof(pthread_mutex_t) <= QLOOP_OS_OBJECT_BYTES,
               "QemuMutex storage too small");
_Static_assert(sizeof(pthread_cond_t) <= QLOOP_OS_OBJECT_BYTES,
               "QemuCond storage too small");
_Static_assert(sizeof(pthread_t) <= sizeof(((QemuThread *)0)->storage),
               "QemuThread storage too small");

#define MUTEX(m) ((pthread_mutex_t *)(void *)(m)->storage)
#define COND(c) ((pthread_cond_t *)(void *)(c)->storage)
#define THREAD(t) ((pthread_t *)(void *)(t)->storage)

static void check(int err, const char *what)
{
    if (err) {
        qos_panic(__FILE__, __LINE__, "%s: %s", what, strerror(err));
    }
}

void qemu_mutex_init(QemuMutex *mutex)
{
    check(pthread_mutex_init(MUTEX(mutex), NULL), "pthread_mutex_init");
    mutex->initialized = true;
}

void qemu_mutex_destroy(QemuMutex *mutex)
{
    if (!mutex->initialized) {
        qos_panic(__FILE__, __LINE__, "destroying an uninitialized mutex");
    }
    mutex->initialized = false;
    check(pthread_mutex_destroy(MUTEX(mutex)), "pthread_mutex_destroy");
}

void qemu_mutex_lock(QemuMutex *mutex)
{
    check(pthread_mutex_lock(MUTEX(mutex)), "pthread_mutex_lock");
}

int qemu_mutex_trylock(QemuMutex *mutex)
{
    int err = pthread_mutex_trylock(MUTEX(mutex));

    if (err == EBUSY) {
        return -EBUSY;
    }
    check(err, "pthread_mutex_trylock");
    return 0;
}

void qemu_mutex_unlock(QemuMutex *mutex)
{
    check(pthread_mutex_unlock(MUTEX(mutex)), "pthread_mutex_unlock");
}

void qemu_cond_init(QemuCond *cond)
{
    pthread_condattr_t attr;

    check(pthread_condattr_init(&attr), "pthread_condattr_init");
    check(pthread_condattr_setclock(&attr, CLOCK_MONOTONIC),
          "pthread_condattr_setclock");
    check(pthread_cond_init(COND(cond), &attr), "pthread_cond_init");
    pthread_condattr_destroy(&attr);
    cond->initialized = true;
}

void qemu_cond_destroy(QemuCond *cond)
{
    cond->initialized = false;
    check(pthread_cond_destroy(COND(cond)), "pthread_cond_destroy");
}

void qemu_cond_signal(QemuCond *cond)
{
    check(pthread_cond_signal(COND(cond)), "pthread_cond_signal");
}

void qemu_cond_broadcast(QemuCond *cond)
{
    check(pthread_cond_broadcast(COND(cond)), "pthread_cond_broadcast");
}

void qemu_cond_wait(QemuCond *cond, QemuMutex *mutex)
{
    check(pthread_cond_wait(COND(cond), MUTEX(mutex)), "pthread_cond_wait");
}

bool qemu_cond_timedwait(QemuCond *cond, QemuMutex *mutex, int ms)
{
    struct timespec ts;
    int err;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    err = pthread_cond_timedwait(COND(cond), MUTEX(mutex), &ts);
    if (err == ETIMEDOUT) {
        return false;
    }
    check(err, "pthread_cond_timedwait");
    return true;
}

typedef struct {
    void *(*start_routine)(void *);
    void *arg;
    char *name;
} ThreadStart;

static void *thread_trampoline(void *opaque)
{
    ThreadStart start = *(ThreadStart *)opaque;

    g_free(opaque);
    if (start.name) {
        char short_name[16];

        g_strlcpy(short_name, start.name, sizeof(short_name));
        pthread_setname_np(pthread_self(), short_name);
        g_free(start.name);
    }
    return start.start_routine(start.arg);
}

void qemu_thread_create(QemuThread *thread, const char *name,
                        void *(*start_routine)(void *), void *arg, int mode)
{
    ThreadStart *start = g_new0(ThreadStart, 1);
    pthread_attr_t attr;

    start->start_routine = start_routine;
    start->arg = arg;
    start->name = g_strdup(name);
    check(pthread_attr_init(&attr), "pthread_attr_init");
    if (mode == QEMU_THREAD_DETACHED) {
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    }
    check(pthread_create(THREAD(thread), &attr, thread_trampoline, start),
          "pthread_create");
    pthread_attr_destroy(&attr);
}

void *qemu_thread_join(QemuThread *thread)
{
    void *ret = NULL;

    check(pthread_join(*THREAD(thread), &ret), "pthread_join");
    return ret;
}

bool qemu_thread_is_self(QemuThread *thread)
{
    return pthread_equal(*THREAD(thread), pthread_self());
}

void qemu_thread_get_self(QemuThread *thread)
{
    *THREAD(thread) = pthread_self();
}

/* ---- busy-waits ------------------------------------------------------------ */

void qos_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield" ::: "memory");
#else
    __asm__ volatile("" ::: "memory");
#endif
}

/* ---- ids and thread-local slots ------------------------------------------ */

static uint64_t next_thread_id = 1;
static __thread uint64_t self_thread_id;
static __thread void *tls_slots[QOS_TLS_MAX];

uint64_t qos_thread_id(void)
{
    if (!self_thread_id) {
        self_thread_id = __atomic_fetch_add(&next_thread_id, 1,
                                            __ATOMIC_RELAXED);
    }
    return self_thread_id;
}

void *qos_tls_get(QosTlsSlot slot)
{
    return tls_slots[slot];
}

void qos_tls_set(QosTlsSlot slot, void *value)
{
    tls_slots[slot] = value;
}
