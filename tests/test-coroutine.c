/*
 * tests/test-coroutine.c — coroutines and their AioContext glue
 * (qloop/coroutine.h): enter/yield order, chained wake-ups, aio_co_schedule
 * FIFO and its double-schedule check, cross-thread wakes through the
 * context's BH, rescheduling between contexts, sleeping, CoMutex handoff,
 * CoQueue, thread_pool_submit_co and QemuEvent.
 *
 * Method: callbacks and coroutine bodies append to the order log, and each
 * case compares the whole log with the exact expected string.  Threaded
 * cases run a second AioContext in an "iothread" that polls until told to
 * stop, record the qloop thread id each step ran on, and are bounded by a
 * watchdog.  The same file is built on the portable (ucontext) switch, and
 * its single-threaded cases on the simulator.
 */
#include <errno.h>
#include <glib.h>
#include <stdio.h>

#include "qloop-test.h"
#include "qloop/coroutine.h"

#define DEADLINE_S 30

#define qatomic_read_test(p) __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define qatomic_set_test(p, v) __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)

/*
 * Which thread a step ran on.  pthread_self() is declared const, so a
 * compiler may reuse one call's result across a yield — after which the
 * coroutine may be on another thread; the volatile asm forbids that.
 */
static __attribute__((noinline)) uint64_t qloop_test_thread_id(void)
{
    uint64_t self = (uint64_t)pthread_self();

    __asm__ __volatile__("" : "+r"(self) :: "memory");
    return self;
}

static AioContext *test_ctx(void)
{
    static AioContext *ctx;

    if (!ctx) {
        ctx = aio_context_new(&error_abort);
        qemu_set_current_aio_context(ctx);
    }
    return ctx;
}

/* ---- enter, yield, end --------------------------------------------------- */

static void co_two_steps(void *opaque)
{
    Coroutine **self = opaque;

    g_assert_true(qemu_in_coroutine());
    g_assert_true(qemu_coroutine_self() == *self);
    g_assert_true(qemu_coroutine_entered(*self));
    qt_log("co1");
    qemu_coroutine_yield();
    qt_log("co2");
}

static void test_enter_yield(void)
{
    Coroutine *co;
    Coroutine *leader = qemu_coroutine_self();

    test_ctx();
    g_assert_false(qemu_in_coroutine());
    g_assert_nonnull(leader);
    co = qemu_coroutine_create(co_two_steps, &co);
    g_assert_true(co != leader);
    g_assert_false(qemu_coroutine_entered(co));
    qemu_coroutine_enter(co);
    qt_log("main");
    g_assert_false(qemu_coroutine_entered(co));
    g_assert_true(qemu_coroutine_get_aio_context(co) == test_ctx());
    qemu_coroutine_enter(co);       /* runs to the end and is freed */
    qt_log("end");
    g_assert_cmpstr(qt_log_take(), ==, "co1,main,co2,end");
    g_assert_true(qemu_coroutine_self() == leader);
}

/* A coroutine that enters another gets control back when that one yields. */
static void co_inner(void *opaque)
{
    (void)opaque;
    qt_log("inner1");
    qemu_coroutine_yield();
    qt_log("inner2");
}

static void co_outer(void *opaque)
{
    Coroutine *inner = qemu_coroutine_create(co_inner, NULL);

    (void)opaque;
    qt_log("outer1");
    qemu_coroutine_enter(inner);
    qt_log("outer2");
    g_assert_false(qemu_coroutine_entered(inner));
    qemu_coroutine_enter(inner);
    qt_log("outer3");
}

static void test_nested(void)
{
    test_ctx();
    qemu_coroutine_enter(qemu_coroutine_create(co_outer, NULL));
    g_assert_cmpstr(qt_log_take(), ==, "outer1,inner1,outer2,inner2,outer3");
}

/* ---- wake-ups from inside a coroutine: after it yields, depth first ----- */

typedef struct {
    const char *name;
    Coroutine *wake[2];
} Waker;

static void co_waker(void *opaque)
{
    Waker *w = opaque;

    qt_log(w->name);
    for (int i = 0; i < 2; i++) {
        if (w->wake[i]) {
            /* Queued: we are still running. */
            aio_co_enter(test_ctx(), w->wake[i]);
        }
    }
    qt_log(w->name);
}

static void test_wake_order(void)
{
    /* a wakes b and c; b wakes d: after a, b runs, then d, then c. */
    Waker d = { .name = "d" }, c = { .name = "c" };
    Waker b = { .name = "b" }, a = { .name = "a" };
    Coroutine *cod, *coc, *cob;

    test_ctx();
    cod = qemu_coroutine_create(co_waker, &d);
    coc = qemu_coroutine_create(co_waker, &c);
    cob = qemu_coroutine_create(co_waker, &b);
    b.wake[0] = cod;
    a.wake[0] = cob;
    a.wake[1] = coc;
    qemu_coroutine_enter(qemu_coroutine_create(co_waker, &a));
    g_assert_cmpstr(qt_log_take(), ==, "a,a,b,b,d,d,c,c");
}

/* Two coroutines handing control back and forth must not nest. */
typedef struct {
    Coroutine *other;
    unsigned i, max;
} PingPong;

static void co_ping_pong(void *opaque)
{
    PingPong *p = opaque;

    for (p->i = 0; p->i < p->max; p->i++) {
        aio_co_enter(test_ctx(), p->other);
        qemu_coroutine_yield();
    }
}

static void test_chain_no_nesting(void)
{
    /* Nested, 200000 switches would overflow a 1 MiB stack many times. */
    PingPong a = { .max = 100000 }, b = { .max = 100000 };

    test_ctx();
    b.other = qemu_coroutine_create(co_ping_pong, &a);
    a.other = qemu_coroutine_create(co_ping_pong, &b);
    qemu_coroutine_enter(b.other);
    g_assert_cmpuint(a.i, ==, a.max);
    g_assert_cmpuint(b.i, ==, b.max - 1);
    qemu_coroutine_enter(a.other);
    g_assert_cmpuint(b.i, ==, b.max);
}

/* ---- aio_co_schedule ----------------------------------------------------- */

static void co_log_name(void *opaque)
{
    qt_log(opaque);
}

static void test_schedule_fifo(void)
{
    AioContext *ctx = test_ctx();

    aio_co_schedule(ctx, qemu_coroutine_create(co_log_name, "x"));
    aio_co_schedule(ctx, qemu_coroutine_create(co_log_name, "y"));
    aio_co_schedule(ctx, qemu_coroutine_create(co_log_name, "z"));
    g_assert_cmpstr(qt_log_take(), ==, "");
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpstr(qt_log_take(), ==, "x,y,z");
    g_assert_false(aio_poll(ctx, false));
}

static void test_schedule_twice_aborts(void)
{
    if (QT_SIM) {
        g_test_skip("subprocess traps are host-only");
        return;
    }
    if (g_test_subprocess()) {
        AioContext *ctx = test_ctx();
        Coroutine *co = qemu_coroutine_create(co_log_name, "x");

        aio_co_schedule(ctx, co);
        aio_co_schedule(ctx, co);
        return;
    }
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_failed();
    g_test_trap_assert_stderr("*already scheduled in 'aio_co_schedule'*");
}

static void test_enter_scheduled_aborts(void)
{
    if (QT_SIM) {
        g_test_skip("subprocess traps are host-only");
        return;
    }
    if (g_test_subprocess()) {
        AioContext *ctx = test_ctx();
        Coroutine *co = qemu_coroutine_create(co_log_name, "x");

        aio_co_schedule(ctx, co);
        qemu_coroutine_enter(co);
        return;
    }
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_failed();
    g_test_trap_assert_stderr("*entered while scheduled*");
}

static void test_yield_outside_aborts(void)
{
    if (QT_SIM) {
        g_test_skip("subprocess traps are host-only");
        return;
    }
    if (g_test_subprocess()) {
        qemu_coroutine_yield();
        return;
    }
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_failed();
    g_test_trap_assert_stderr("*yielding to no one*");
}

/* ---- sleeping ------------------------------------------------------------ */

static void co_sleep_20ms(void *opaque)
{
    int64_t *slept_ns = opaque;
    int64_t start_ns = qemu_clock_get_ns(QEMU_CLOCK_REALTIME);

    qemu_co_sleep_ns(QEMU_CLOCK_REALTIME, 20 * SCALE_MS);
    *slept_ns = qemu_clock_get_ns(QEMU_CLOCK_REALTIME) - start_ns;
}

static void test_sleep(void)
{
    AioContext *ctx = test_ctx();
    int64_t slept_ns = -1;

    qemu_coroutine_enter(qemu_coroutine_create(co_sleep_20ms, &slept_ns));
    g_assert_cmpint(slept_ns, ==, -1);      /* it yielded */
    while (slept_ns < 0) {
        aio_poll(ctx, true);
    }
    g_assert_cmpint(slept_ns, >=, 20 * SCALE_MS);
}

/* ---- CoMutex and CoQueue ------------------------------------------------- */

static CoMutex mutex;
static CoQueue queue;

static void co_lock_yield_unlock(void *opaque)
{
    qemu_co_mutex_lock(&mutex);
    qt_log(opaque);
    qemu_co_mutex_assert_locked(&mutex);
    qemu_coroutine_yield();         /* holding it */
    qt_log(opaque);
    qemu_co_mutex_unlock(&mutex);
}

static void test_co_mutex_handoff(void)
{
    Coroutine *a, *b, *c;

    test_ctx();
    qemu_co_mutex_init(&mutex);
    a = qemu_coroutine_create(co_lock_yield_unlock, "a");
    b = qemu_coroutine_create(co_lock_yield_unlock, "b");
    c = qemu_coroutine_create(co_lock_yield_unlock, "c");
    qemu_coroutine_enter(a);        /* a holds it */
    qemu_coroutine_enter(b);        /* b waits */
    qemu_coroutine_enter(c);        /* c waits */
    g_assert_cmpstr(qt_log_take(), ==, "a");
    /* a unlocks: b gets it (FIFO) and runs once a has finished. */
    qemu_coroutine_enter(a);
    g_assert_cmpstr(qt_log_take(), ==, "a,b");
    qemu_coroutine_enter(b);
    g_assert_cmpstr(qt_log_take(), ==, "b,c");
    qemu_coroutine_enter(c);
    g_assert_cmpstr(qt_log_take(), ==, "c");
    g_assert_false(mutex.locked);
}

static void co_queue_waiter(void *opaque)
{
    qemu_co_mutex_lock(&mutex);
    qemu_co_queue_wait(&queue, &mutex);
    qemu_co_mutex_assert_locked(&mutex);    /* taken again on wake */
    qt_log(opaque);
    qemu_co_mutex_unlock(&mutex);
}

static void test_co_queue(void)
{
    AioContext *ctx = test_ctx();

    qemu_co_mutex_init(&mutex);
    qemu_co_queue_init(&queue);
    g_assert_true(qemu_co_queue_empty(&queue));
    qemu_coroutine_enter(qemu_coroutine_create(co_queue_waiter, "1"));
    qemu_coroutine_enter(qemu_coroutine_create(co_queue_waiter, "2"));
    qemu_coroutine_enter(qemu_coroutine_create(co_queue_waiter, "3"));
    g_assert_false(qemu_co_queue_empty(&queue));
    g_assert_false(mutex.locked);           /* released while waiting */
    g_assert_true(qemu_co_queue_next(&queue));
    g_assert_cmpstr(qt_log_take(), ==, "1");
    qemu_co_queue_restart_all(&queue);
    g_assert_cmpstr(qt_log_take(), ==, "2,3");
    g_assert_true(qemu_co_queue_empty(&queue));
    g_assert_false(qemu_co_queue_next(&queue));
    g_assert_false(aio_poll(ctx, false));
}

static void co_lock_and_end(void *opaque)
{
    (void)opaque;
    qemu_co_mutex_lock(&mutex);
}

static void test_end_holding_lock_aborts(void)
{
    if (QT_SIM) {
        g_test_skip("subprocess traps are host-only");
        return;
    }
    if (g_test_subprocess()) {
        test_ctx();
        qemu_co_mutex_init(&mutex);
        qemu_coroutine_enter(qemu_coroutine_create(co_lock_and_end, NULL));
        return;
    }
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_failed();
    g_test_trap_assert_stderr("*ended holding 1 CoMutex*");
}

/* ---- thread pool --------------------------------------------------------- */

static int work_times_two(void *opaque)
{
    return *(int *)opaque * 2;
}

static void co_submit(void *opaque)
{
    int *result = opaque;
    int arg = 21;

    *result = thread_pool_submit_co(work_times_two, &arg);
}

static void test_submit_co(void)
{
    AioContext *ctx = test_ctx();
    int result = -1;

    qemu_coroutine_enter(qemu_coroutine_create(co_submit, &result));
    g_assert_cmpint(result, ==, -1);
    while (result == -1) {
        aio_poll(ctx, true);
    }
    g_assert_cmpint(result, ==, 42);
}

/* ---- other threads ------------------------------------------------------- */

typedef struct {
    AioContext *ctx;
    QemuThread thread;
    QemuEvent ready;
    uint64_t tid;
    bool stop;
} IoThread;

static void *iothread_run(void *opaque)
{
    IoThread *t = opaque;

    t->ctx = aio_context_new(&error_abort);
    qemu_set_current_aio_context(t->ctx);
    t->tid = qloop_test_thread_id();
    qemu_event_set(&t->ready);
    while (!qatomic_read_test(&t->stop)) {
        aio_poll(t->ctx, true);
    }
    /* Run what the last BHs left before the context goes. */
    while (aio_poll(t->ctx, false)) {
    }
    return NULL;
}

static void iothread_stop_bh(void *opaque)
{
    ((IoThread *)opaque)->stop = true;
}

static void iothread_start(IoThread *t)
{
    memset(t, 0, sizeof(*t));
    qemu_event_init(&t->ready, false);
    qemu_thread_create(&t->thread, "iothread", iothread_run, t,
                       QEMU_THREAD_JOINABLE);
    qemu_event_wait(&t->ready);
}

static void iothread_join(IoThread *t)
{
    aio_bh_schedule_oneshot(t->ctx, iothread_stop_bh, t);
    qemu_thread_join(&t->thread);
    qemu_event_destroy(&t->ready);
    aio_context_unref(t->ctx);
}

typedef struct {
    IoThread *io;
    uint64_t tid[3];
    QemuEvent done;
} Hop;

static void co_hop(void *opaque)
{
    Hop *h = opaque;

    h->tid[0] = qloop_test_thread_id();
    aio_co_reschedule_self(h->io->ctx);
    h->tid[1] = qloop_test_thread_id();
    g_assert_true(qemu_get_current_aio_context() == h->io->ctx);
    aio_co_reschedule_self(test_ctx());
    h->tid[2] = qloop_test_thread_id();
    qemu_event_set(&h->done);
}

static void test_reschedule_self(void)
{
    AioContext *ctx = test_ctx();
    QtWatchdog wd;
    IoThread io;
    Hop h = { .io = &io };

    qt_watchdog_start(&wd, "reschedule-self", DEADLINE_S);
    iothread_start(&io);
    qemu_event_init(&h.done, false);
    qemu_coroutine_enter(qemu_coroutine_create(co_hop, &h));
    while (!h.tid[2]) {
        aio_poll(ctx, true);
    }
    g_assert_cmpuint(h.tid[0], ==, qloop_test_thread_id());
    g_assert_cmpuint(h.tid[1], ==, io.tid);
    g_assert_cmpuint(h.tid[2], ==, qloop_test_thread_id());
    qemu_event_wait(&h.done);
    qemu_event_destroy(&h.done);
    iothread_join(&io);
    qt_watchdog_stop(&wd);
}

static uint64_t yielded_tid, resumed_tid;

static void co_wait_for_wake(void *opaque)
{
    (void)opaque;
    yielded_tid = qloop_test_thread_id();
    qemu_coroutine_yield();
    resumed_tid = qloop_test_thread_id();
}

static void wake_from_bh(void *opaque)
{
    aio_co_wake(opaque);
}

/* A wake from another thread goes through the coroutine's context. */
static void test_wake_from_other_thread(void)
{
    AioContext *ctx = test_ctx();
    QtWatchdog wd;
    IoThread io;
    Coroutine *co = qemu_coroutine_create(co_wait_for_wake, NULL);
    QtGuard guard;

    qt_watchdog_start(&wd, "wake-from-other-thread", DEADLINE_S);
    resumed_tid = 0;
    iothread_start(&io);
    qemu_coroutine_enter(co);
    g_assert_cmpuint(yielded_tid, ==, qloop_test_thread_id());
    qt_guard_arm(&guard, ctx);
    aio_notify_accept(ctx);
    aio_bh_schedule_oneshot(io.ctx, wake_from_bh, co);
    /* The iothread's BH wakes it: it must resume here, not there. */
    g_assert_true(qt_poll_blocking_at_once(ctx, &guard));
    qt_guard_disarm(&guard);
    g_assert_cmpuint(resumed_tid, ==, qloop_test_thread_id());
    iothread_join(&io);
    qt_watchdog_stop(&wd);
}

/* Many coroutines on two iothreads and here share a counter under one
 * CoMutex, yielding inside the critical section. */
#define SHARED_ROUNDS 2000
static unsigned shared_counter, shared_inside, shared_running;
static AioContext *test_ctx_main;

static void co_shared_counter(void *opaque)
{
    (void)opaque;
    for (int i = 0; i < SHARED_ROUNDS; i++) {
        qemu_co_mutex_lock(&mutex);
        g_assert_cmpuint(qatomic_read_test(&shared_inside), ==, 0);
        qatomic_set_test(&shared_inside, 1);
        shared_counter++;
        if (i % 7 == 0) {
            /* Let this context run something else while we hold it. */
            aio_co_schedule(qemu_coroutine_get_aio_context(
                                qemu_coroutine_self()),
                            qemu_coroutine_self());
            qemu_coroutine_yield();
            g_assert_cmpuint(qatomic_read_test(&shared_inside), ==, 1);
        }
        qatomic_set_test(&shared_inside, 0);
        qemu_co_mutex_unlock(&mutex);
    }
    __atomic_fetch_sub(&shared_running, 1, __ATOMIC_SEQ_CST);
    /* The main thread may be asleep in aio_poll() waiting for this. */
    aio_notify(test_ctx_main);
}

static void test_co_mutex_threads(void)
{
    AioContext *ctx = test_ctx();
    QtWatchdog wd;
    IoThread io[2];

    qt_watchdog_start(&wd, "co-mutex-threads", DEADLINE_S);
    qemu_co_mutex_init(&mutex);
    test_ctx_main = ctx;
    shared_counter = 0;
    shared_running = 6;
    iothread_start(&io[0]);
    iothread_start(&io[1]);
    for (int i = 0; i < 6; i++) {
        AioContext *target = i < 2 ? ctx : io[i % 2].ctx;

        aio_co_schedule(target, qemu_coroutine_create(co_shared_counter,
                                                      NULL));
    }
    while (qatomic_read_test(&shared_running)) {
        aio_poll(ctx, true);
    }
    g_assert_cmpuint(shared_counter, ==, 6 * SHARED_ROUNDS);
    g_assert_false(mutex.locked);
    iothread_join(&io[0]);
    iothread_join(&io[1]);
    qt_watchdog_stop(&wd);
}

/* ---- QemuEvent ------------------------------------------------------------ */

static void *event_setter(void *opaque)
{
    qemu_event_set(opaque);
    return NULL;
}

static void test_qemu_event(void)
{
    QemuEvent ev;
    QemuThread t;

    qemu_event_init(&ev, true);
    qemu_event_wait(&ev);               /* set: returns at once */
    qemu_event_reset(&ev);
    g_assert_cmpuint(ev.value, ==, 0);
    qemu_thread_create(&t, "setter", event_setter, &ev,
                       QEMU_THREAD_JOINABLE);
    qemu_event_wait(&ev);
    g_assert_cmpuint(ev.value, ==, 1);
    qemu_thread_join(&t);
    qemu_event_destroy(&ev);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/coroutine/enter-yield", test_enter_yield);
    g_test_add_func("/coroutine/nested", test_nested);
    g_test_add_func("/coroutine/wake-order", test_wake_order);
    g_test_add_func("/coroutine/chain-no-nesting", test_chain_no_nesting);
    g_test_add_func("/coroutine/schedule/fifo", test_schedule_fifo);
    g_test_add_func("/coroutine/schedule/twice-aborts",
                    test_schedule_twice_aborts);
    g_test_add_func("/coroutine/schedule/enter-scheduled-aborts",
                    test_enter_scheduled_aborts);
    g_test_add_func("/coroutine/yield-outside-aborts",
                    test_yield_outside_aborts);
    g_test_add_func("/coroutine/sleep", test_sleep);
    g_test_add_func("/coroutine/co-mutex/handoff", test_co_mutex_handoff);
    g_test_add_func("/coroutine/co-mutex/end-holding-aborts",
                    test_end_holding_lock_aborts);
    g_test_add_func("/coroutine/co-queue", test_co_queue);
    g_test_add_func("/coroutine/submit-co", test_submit_co);
    g_test_add_func("/coroutine/qemu-event", test_qemu_event);
    if (!QT_SIM) {
        /* The simulator's threaded scenarios come from the harness. */
        g_test_add_func("/coroutine/threads/reschedule-self",
                        test_reschedule_self);
        g_test_add_func("/coroutine/threads/wake-from-other-thread",
                        test_wake_from_other_thread);
        g_test_add_func("/coroutine/threads/co-mutex", test_co_mutex_threads);
    }
    return g_test_run();
}
