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

void qemu_thread_create(QemuThread *thread, const char *name,
                        void *(*start_routine)(void *), void *arg, int mode);
void *qemu_thread_join(QemuThread *thread);
bool qemu_thread_is_self(QemuThread *thread);
void qemu_thread_get_self(QemuThread *thread);

#ifdef __cplusplus
}
#endif

#endif
