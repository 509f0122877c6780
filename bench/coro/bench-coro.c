/*
 * bench/coro/bench-coro.c — the cost of coroutine operations, written
 * against QEMU's API only, so the same file builds against qloop (through
 * pkg-config qloop) and against QEMU's own libqemuutil (bench/coro/run.sh).
 *
 *   switch     one qemu_coroutine_enter() + qemu_coroutine_yield() pair,
 *              in ns (two stack switches)
 *   lifecycle  create + enter + return of a coroutine that does nothing
 *   hop        aio_co_reschedule_self() into a context polled by another
 *              thread: one cross-thread aio_co_schedule() and its BH, in
 *              ns per hop (the coroutine goes back and forth)
 *
 * switch and lifecycle count the thread's CPU time; hop, which waits for
 * another thread's wake-up, wall time.
 * Each figure is the median of 5 runs; the runs are long enough (>= 0.1 s)
 * for the clock's resolution not to matter.
 */
#include "qemu/osdep.h"
#include "qapi/error.h"
#include "block/aio.h"
#include "qemu/coroutine.h"
#include "qemu/main-loop.h"
#include "qemu/thread.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define RUNS 5

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* CPU time of the calling thread: single-threaded figures stay honest on
 * a loaded machine, where wall time would count other processes' turns. */
static int64_t thread_cpu_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double median(double *v)
{
    qsort(v, RUNS, sizeof(v[0]), cmp_double);
    return v[RUNS / 2];
}

/* ---- switch -------------------------------------------------------------- */

static void coroutine_fn yield_forever(void *opaque)
{
    unsigned long *count = opaque;

    for (;;) {
        (*count)++;
        qemu_coroutine_yield();
    }
}

static double bench_switch(unsigned long iterations)
{
    unsigned long count = 0;
    Coroutine *co = qemu_coroutine_create(yield_forever, &count);
    int64_t start_ns = thread_cpu_ns();

    for (unsigned long i = 0; i < iterations; i++) {
        qemu_coroutine_enter(co);
    }
    if (count != iterations) {
        fprintf(stderr, "bench-coro: %lu entries, %lu yields\n",
                iterations, count);
        exit(1);
    }
    /* co never ends: leaked on purpose, one per run. */
    return (double)(thread_cpu_ns() - start_ns) / iterations;
}

/* ---- lifecycle ----------------------------------------------------------- */

static void coroutine_fn do_nothing(void *opaque)
{
    (*(unsigned long *)opaque)++;
}

static double bench_lifecycle(unsigned long iterations)
{
    unsigned long count = 0;
    int64_t start_ns = thread_cpu_ns();

    for (unsigned long i = 0; i < iterations; i++) {
        qemu_coroutine_enter(qemu_coroutine_create(do_nothing, &count));
    }
    if (count != iterations) {
        exit(1);
    }
    return (double)(thread_cpu_ns() - start_ns) / iterations;
}

/* ---- hop between threads ------------------------------------------------- */

typedef struct {
    AioContext *ctx;
    QemuThread thread;
    QemuMutex lock;
    QemuCond ready_cond;
    bool ready;
    bool stop;
} Poller;

static void *poller_run(void *opaque)
{
    Poller *p = opaque;

    qemu_mutex_lock(&p->lock);
    p->ctx = aio_context_new(&error_abort);
    qemu_set_current_aio_context(p->ctx);
    p->ready = true;
    qemu_cond_signal(&p->ready_cond);
    qemu_mutex_unlock(&p->lock);
    while (!qatomic_read(&p->stop)) {
        aio_poll(p->ctx, true);
    }
    return NULL;
}

static void poller_start(Poller *p)
{
    memset(p, 0, sizeof(*p));
    qemu_mutex_init(&p->lock);
    qemu_cond_init(&p->ready_cond);
    qemu_thread_create(&p->thread, "bench-poller", poller_run, p,
                       QEMU_THREAD_JOINABLE);
    qemu_mutex_lock(&p->lock);
    while (!p->ready) {
        qemu_cond_wait(&p->ready_cond, &p->lock);
    }
    qemu_mutex_unlock(&p->lock);
}

static void poller_stop_bh(void *opaque)
{
    qatomic_set(&((Poller *)opaque)->stop, true);
}

static void poller_join(Poller *p)
{
    aio_bh_schedule_oneshot(p->ctx, poller_stop_bh, p);
    qemu_thread_join(&p->thread);
}

typedef struct {
    AioContext *ctx[2];
    unsigned long hops;
    int64_t elapsed_ns;
    bool done;
} HopData;

static void coroutine_fn hop_between(void *opaque)
{
    HopData *h = opaque;
    int64_t start_ns = now_ns();

    for (unsigned long i = 0; i < h->hops; i++) {
        aio_co_reschedule_self(h->ctx[i & 1]);
    }
    h->elapsed_ns = now_ns() - start_ns;
    qatomic_set(&h->done, true);
}

static double bench_hop(unsigned long hops)
{
    Poller a, b;
    HopData h = { .hops = hops };
    Coroutine *co;

    poller_start(&a);
    poller_start(&b);
    /* Starts on b, so the first hop already crosses threads. */
    h.ctx[0] = a.ctx;
    h.ctx[1] = b.ctx;
    co = qemu_coroutine_create(hop_between, &h);
    aio_co_schedule(b.ctx, co);
    while (!qatomic_read(&h.done)) {
        g_usleep(1000);
    }
    poller_join(&a);
    poller_join(&b);
    return (double)h.elapsed_ns / hops;
}

int main(int argc, char **argv)
{
    double v[RUNS];
    unsigned long scale = argc > 1 ? strtoul(argv[1], NULL, 10) : 1;

    qemu_init_main_loop(&error_fatal);
    printf("# %s\n", argc > 2 ? argv[2] : "bench-coro");
    for (int r = 0; r < RUNS; r++) {
        v[r] = bench_switch(2000000 * scale);
    }
    printf("switch_ns %.1f\n", median(v));
    for (int r = 0; r < RUNS; r++) {
        v[r] = bench_lifecycle(100000 * scale);
    }
    printf("lifecycle_ns %.1f\n", median(v));
    for (int r = 0; r < RUNS; r++) {
        v[r] = bench_hop(20000 * scale);
    }
    printf("hop_ns %.1f\n", median(v));
    return 0;
}
