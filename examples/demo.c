/*
 * examples/demo.c — a short tour of the loop core on the host backend.
 *
 * Schedules BHs (watch them run newest-first and merge), arms timers on
 * two clocks (watch FIFO order on equal deadlines), wakes a blocking
 * aio_poll from another thread, and runs work on the thread pool.
 */
#include <stdio.h>

#include "qloop/qloop.h"

static void say(void *opaque)
{
    printf("  ran %s\n", (const char *)opaque);
}

static int work(void *opaque)
{
    return *(int *)opaque * 2;
}

static void work_done(void *opaque, int ret)
{
    printf("  thread pool: work(%d) returned %d in the loop thread\n",
           *(int *)opaque, ret);
}

static void *poke(void *opaque)
{
    aio_bh_schedule_oneshot(opaque, say, "oneshot from another thread");
    return NULL;
}

int main(void)
{
    AioContext *ctx;
    QEMUBH *a, *b, *c;
    QEMUTimer *t1, *t2;
    QemuThread thread;
    int arg = 21;
    int64_t now_ns;

    qemu_init_main_loop(&error_fatal);
    ctx = qemu_get_aio_context();

    printf("bottom halves: schedule A, B, C, A\n");
    a = aio_bh_new(ctx, say, "A");
    b = aio_bh_new(ctx, say, "B");
    c = aio_bh_new(ctx, say, "C");
    qemu_bh_schedule(a);
    qemu_bh_schedule(b);
    qemu_bh_schedule(c);
    qemu_bh_schedule(a);
    aio_poll(ctx, false);

    printf("timers: t1 and t2 at the same deadline, armed in that order\n");
    now_ns = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    t1 = aio_timer_new(ctx, QEMU_CLOCK_VIRTUAL, SCALE_NS, say, "t1");
    t2 = aio_timer_new(ctx, QEMU_CLOCK_VIRTUAL, SCALE_NS, say, "t2");
    timer_mod_ns(t1, now_ns + 2 * SCALE_MS);
    timer_mod_ns(t2, now_ns + 2 * SCALE_MS);
    while (timer_pending(t1) || timer_pending(t2)) {
        aio_poll(ctx, true);
    }

    printf("cross-thread wake-up of a blocking aio_poll\n");
    qemu_thread_create(&thread, "poke", poke, ctx, QEMU_THREAD_JOINABLE);
    aio_poll(ctx, true);
    qemu_thread_join(&thread);

    thread_pool_submit_aio(work, &arg, work_done, &arg);
    while (!aio_poll(ctx, true)) {
    }

    timer_free(t1);
    timer_free(t2);
    qemu_bh_delete(a);
    qemu_bh_delete(b);
    qemu_bh_delete(c);
    aio_poll(ctx, false);
    printf("done\n");
    return 0;
}
