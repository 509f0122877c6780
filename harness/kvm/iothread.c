/*
 * harness/kvm/iothread.c — a thread running aio_poll() on its own context.
 *
 * Method: QEMU's IOThread in miniature.  The thread claims the context as
 * its home (qemu_set_current_aio_context), so thread_pool_submit_aio()
 * from its handlers completes back in this thread.  Stopping is a BH on
 * the context: it runs inside aio_poll(), so the flag is written by the
 * thread that reads it and no wake-up can be lost.
 */
#include "vmm.h"

static void *iothread_run(void *opaque)
{
    IOThread *t = opaque;

    qemu_set_current_aio_context(t->ctx);
    while (!t->stopping) {
        aio_poll(t->ctx, true);
    }
    return NULL;
}

static void iothread_stop_bh(void *opaque)
{
    IOThread *t = opaque;

    t->stopping = true;
}

void iothread_start(IOThread *t, const char *name)
{
    t->ctx = aio_context_new(&error_fatal);
    t->ctx->name = name;
    t->stopping = false;
    qemu_thread_create(&t->thread, name, iothread_run, t,
                       QEMU_THREAD_JOINABLE);
}

void iothread_stop(IOThread *t)
{
    if (!t->ctx) {
        return;
    }
    aio_bh_schedule_oneshot(t->ctx, iothread_stop_bh, t);
    qemu_thread_join(&t->thread);
}
