/*
 * qloop/thread.h — QEMU's thread, mutex and condition-variable API.
 *
 * The objects are fixed-size opaque storage: the OS backend (host pthreads,
 * or the simulator's coroutine threads) decides what lives inside, and
 * asserts at build time that it fits.  That keeps the public header free of
 * any backend choice.  In the simulator every lock, unlock, wait and signal
 * is a scheduling point.
 */
#ifndef QLOOP_THREAD_H
#define QLOOP_THREAD_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define QLOOP_OS_OBJECT_BYTES 64

typedef struct QemuMutex {
    _Alignas(16) unsigned char storage[QLOOP_OS_OBJECT_BYTES];
    bool initialized;
} QemuMutex;

typedef struct QemuCond {
    _Alignas(16) unsigned char storage[QLOOP_OS_OBJECT_BYTES];
    bool initialized;
} QemuCond;

typedef struct QemuThread {
    _Alignas(16) unsigned char storage[32];
} QemuThread;

/*
 * QemuEvent: a flag threads can wait for.  qemu_event_set() wakes every
 * waiter and stays set until qemu_event_reset(); a wait on a set event
 * returns at once.  Built on QemuMutex/QemuCond, so it goes through the OS
 * seam (and is a scheduling point in the simulator).
 */
typedef struct QemuEvent {
    QemuMutex lock;
    QemuCond cond;
    unsigned value;             /* 1 set, 0 free; atomic for the fast path */
    bool initialized;
} QemuEvent;

#define QEMU_THREAD_JOINABLE 0
#define QEMU_THREAD_DETACHED 1

void qemu_mutex_init(QemuMutex *mutex);
void qemu_mutex_destroy(QemuMutex *mutex);
void qemu_mutex_lock(QemuMutex *mutex);
int qemu_mutex_trylock(QemuMutex *mutex);
void qemu_mutex_unlock(QemuMutex *mutex);

void qemu_cond_init(QemuCond *cond);
void qemu_cond_destroy(QemuCond *cond);
void qemu_cond_signal(QemuCond *cond);
void qemu_cond_broadcast(QemuCond *cond);
void qemu_cond_wait(QemuCond *cond, QemuMutex *mutex);
/* Returns false on timeout.  The simulator measures ms in virtual time. */
bool qemu_cond_timedwait(QemuCond *cond, QemuMutex *mutex, int ms);

void qemu_event_init(QemuEvent *ev, bool init);
void qemu_event_set(QemuEvent *ev);
void qemu_event_reset(QemuEvent *ev);
void qemu_event_wait(QemuEvent *ev);
void qemu_event_destroy(QemuEvent *ev);

void qemu_thread_create(QemuThread *thread, const char *name,
                        void *(*start_routine)(void *), void *arg, int mode);
void *qemu_thread_join(QemuThread *thread);
bool qemu_thread_is_self(QemuThread *thread);
void qemu_thread_get_self(QemuThread *thread);

#ifdef __cplusplus
}
#endif

#endif
