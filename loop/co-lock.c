/*
 * loop/co-lock.c — CoMutex and CoQueue.
 *
 * Method: a CoMutex keeps its state (locked, holder, FIFO of waiters) under
 * a tiny spinlock that is never held across a switch.  A contended lock
 * queues a waiter record on its own stack and yields; unlock hands the
 * mutex to the oldest waiter (it stays locked, holder changes) and wakes it
 * with aio_co_wake(), which runs it in its own context's thread — after the
 * waiter yielded, since that thread is the one it is running on.  Handoff
 * keeps it fair and simple; QEMU's lock-free version is faster under heavy
 * cross-thread contention (bench/ has the figures).
 */
#include <string.h>

#include "coroutine-internal.h"

struct CoMutexWaiter {
    Coroutine *co;
    CoMutexWaiter *next;
};

static void co_spin_lock(unsigned *spin)
{
    while (qatomic_xchg(spin, 1u)) {
        while (qatomic_read(spin)) {
            /* A short section on another thread: wait it out (in the
             * simulator the holder may be preempted: let it run). */
            qos_cpu_relax();
        }
    }
}

static void co_spin_unlock(unsigned *spin)
{
    qatomic_store_release(spin, 0u);
}

void qemu_co_mutex_init(CoMutex *mutex)
{
    memset(mutex, 0, sizeof(*mutex));
}

void coroutine_fn qemu_co_mutex_lock(CoMutex *mutex)
{
    Coroutine *self = qemu_coroutine_self();
    CoMutexWaiter waiter = { .co = self };

    QLOOP_ASSERT(qemu_in_coroutine());
    co_spin_lock(&mutex->spin);
    if (!mutex->locked) {
        mutex->locked = true;
        mutex->holder = self;
        co_spin_unlock(&mutex->spin);
        self->locks_held++;
        return;
    }
    QLOOP_ASSERT(mutex->holder != self);
    if (mutex->tail) {
        mutex->tail->next = &waiter;
    } else {
        mutex->head = &waiter;
    }
    mutex->tail = &waiter;
    co_spin_unlock(&mutex->spin);

    qemu_coroutine_yield();

    /* Woken only by the unlock that made us the holder. */
    QLOOP_ASSERT(qatomic_read(&mutex->holder) == self);
    self->locks_held++;
}

void coroutine_fn qemu_co_mutex_unlock(CoMutex *mutex)
{
    Coroutine *self = qemu_coroutine_self();
    Coroutine *next_holder = NULL;
    CoMutexWaiter *w;

    co_spin_lock(&mutex->spin);
    if (!mutex->locked || mutex->holder != self) {
        co_spin_unlock(&mutex->spin);
        qos_panic(__FILE__, __LINE__,
                  "qemu_co_mutex_unlock() by a coroutine that does not "
                  "hold it");
    }
    w = mutex->head;
    if (w) {
        /* The record lives on the waiter's stack, valid until it wakes. */
        next_holder = w->co;
        mutex->head = w->next;
        if (!mutex->head) {
            mutex->tail = NULL;
        }
        qatomic_set(&mutex->holder, next_holder);
    } else {
        mutex->locked = false;
        mutex->holder = NULL;
    }
    co_spin_unlock(&mutex->spin);
    self->locks_held--;
    if (next_holder) {
        aio_co_wake(next_holder);
    }
}

void coroutine_fn qemu_co_mutex_assert_locked(CoMutex *mutex)
{
    QLOOP_ASSERT(qatomic_read(&mutex->locked) &&
                 qatomic_read(&mutex->holder) == qemu_coroutine_self());
}

/* ---- CoQueue ------------------------------------------------------------ */

void qemu_co_queue_init(CoQueue *queue)
{
    queue->head = queue->tail = NULL;
}

static void co_queue_push(CoQueue *queue, Coroutine *co)
{
    co->co_queue_next = NULL;
    if (queue->tail) {
        queue->tail->co_queue_next = co;
    } else {
        queue->head = co;
    }
    queue->tail = co;
}

static Coroutine *co_queue_pop(CoQueue *queue)
{
    Coroutine *co = queue->head;

    if (co) {
        queue->head = co->co_queue_next;
        if (!queue->head) {
            queue->tail = NULL;
        }
        co->co_queue_next = NULL;
    }
    return co;
}

void coroutine_fn qemu_co_queue_wait_co_mutex(CoQueue *queue, CoMutex *m)
{
    QLOOP_ASSERT(qemu_in_coroutine());
    co_queue_push(queue, qemu_coroutine_self());
    if (m) {
        qemu_co_mutex_unlock(m);
    }
    qemu_coroutine_yield();
    if (m) {
        qemu_co_mutex_lock(m);
    }
}

void coroutine_fn qemu_co_queue_wait_mutex(CoQueue *queue, QemuMutex *m)
{
    QLOOP_ASSERT(qemu_in_coroutine());
    co_queue_push(queue, qemu_coroutine_self());
    qemu_mutex_unlock(m);
    qemu_coroutine_yield();
    qemu_mutex_lock(m);
}

bool qemu_co_queue_next(CoQueue *queue)
{
    Coroutine *co = co_queue_pop(queue);

    if (!co) {
        return false;
    }
    aio_co_wake(co);
    return true;
}

void qemu_co_queue_restart_all(CoQueue *queue)
{
    while (qemu_co_queue_next(queue)) {
    }
}

bool qemu_co_enter_next_co_mutex(CoQueue *queue, CoMutex *lock)
{
    Coroutine *co = co_queue_pop(queue);

    if (!co) {
        return false;
    }
    if (lock) {
        qemu_co_mutex_unlock(lock);
    }
    qemu_coroutine_enter(co);
    if (lock) {
        qemu_co_mutex_lock(lock);
    }
    return true;
}

bool qemu_co_enter_next_mutex(CoQueue *queue, QemuMutex *lock)
{
    Coroutine *co = co_queue_pop(queue);

    if (!co) {
        return false;
    }
    qemu_mutex_unlock(lock);
    qemu_coroutine_enter(co);
    qemu_mutex_lock(lock);
    return true;
}

bool qemu_co_queue_empty(CoQueue *queue)
{
    return queue->head == NULL;
}
