/*
 * loop/qemu-event.c — QemuEvent on the seam's mutex and condition variable.
 *
 * Method: the value is read without the lock only to skip work that cannot
 * matter (setting a set event); every transition that a waiter depends on
 * happens under the lock, so a set can never slip between a waiter's check
 * and its sleep.
 */
#include "internal.h"

void qemu_event_init(QemuEvent *ev, bool init)
{
    qemu_mutex_init(&ev->lock);
    qemu_cond_init(&ev->cond);
    ev->value = init ? 1 : 0;
    ev->initialized = true;
}

void qemu_event_destroy(QemuEvent *ev)
{
    QLOOP_ASSERT(ev->initialized);
    ev->initialized = false;
    qemu_cond_destroy(&ev->cond);
    qemu_mutex_destroy(&ev->lock);
}

void qemu_event_set(QemuEvent *ev)
{
    QLOOP_ASSERT(ev->initialized);
    /* Whatever the caller wrote before setting is visible to a waiter
     * that sees the event set (QEMU orders it with a full barrier). */
    smp_mb();
    if (qatomic_read(&ev->value) == 1) {
        return;
    }
    qemu_mutex_lock(&ev->lock);
    /* Release: pairs with the waiter's lock-free acquire read. */
    qatomic_store_release(&ev->value, 1u);
    qemu_cond_broadcast(&ev->cond);
    qemu_mutex_unlock(&ev->lock);
}

void qemu_event_reset(QemuEvent *ev)
{
    QLOOP_ASSERT(ev->initialized);
    qemu_mutex_lock(&ev->lock);
    qatomic_set(&ev->value, 0u);
    qemu_mutex_unlock(&ev->lock);
    /* Later reads of the condition the event stands for come after. */
    smp_mb();
}

void qemu_event_wait(QemuEvent *ev)
{
    QLOOP_ASSERT(ev->initialized);
    if (qatomic_load_acquire(&ev->value) == 1) {
        return;
    }
    qemu_mutex_lock(&ev->lock);
    while (qatomic_read(&ev->value) != 1) {
        qemu_cond_wait(&ev->cond, &ev->lock);
    }
    qemu_mutex_unlock(&ev->lock);
}
