/*
 * bench/sim/bench-sim.c — what simulation costs.
 *
 * Measures, on the simulated backend:
 *   events/s     BH runs + fd handler calls + timer firings per second of
 *                host time, single simulated thread (goal >= 2 million);
 *   switch ns    one simulated thread switch: two threads yield to each
 *                other through a tape that always picks the other one;
 *   xthread ns   per BH, two simulated threads: one schedules oneshot BHs
 *                (aio_notify), the other waits for them in aio_poll(ctx,
 *                true); random tape, seed 1; thread CPU time, not wall
 *                time (comparable on a loaded machine) — the figure weak memory
 *                models change (--memory sc|tso|pso|c11: every store of a
 *                multi-threaded run draws its delay, buffers, flushes);
 * and, built twice (against libqloop.a and libqloop-sim.a) from the same
 * loop, the slowdown of the sim backend on a sleep-free workload
 * (goal <= 3x): see bench/sim/run-slowdown.
 *
 * Method: the workload is one loop of aio_poll(ctx, false) where a BH
 * reschedules itself, an EventNotifier handler fires (set each round) and
 * a timer re-arms at "now" every round.  Each figure is the median of five
 * runs after a warm-up.  The host clock is read by the benchmark only,
 * outside the simulated world's logic.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "qloop/qloop.h"
#ifdef QLOOP_BENCH_SIM
#include "sim.h"
#endif

#define ROUNDS 200000

#ifdef QLOOP_BENCH_SIM
static SimMemoryModel memory = SIM_MEMORY_SC;   /* --memory */
#endif

typedef struct {
    AioContext *ctx;
    QEMUBH *bh;
    QEMUTimer *timer;
    EventNotifier notifier;
    uint64_t events;
} Workload;

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void bh_cb(void *opaque)
{
    Workload *w = opaque;

    w->events++;
    qemu_bh_schedule(w->bh);
}

static void notifier_cb(EventNotifier *e)
{
    Workload *w = (Workload *)((char *)e - offsetof(Workload, notifier));

    event_notifier_test_and_clear(e);
    w->events++;
}

static void timer_cb(void *opaque)
{
    Workload *w = opaque;

    w->events++;
}

static void workload(void *opaque)
{
    Workload *w = opaque;

    w->ctx = aio_context_new(&error_abort);
    w->bh = aio_bh_new(w->ctx, bh_cb, w);
    w->timer = aio_timer_new(w->ctx, QEMU_CLOCK_VIRTUAL, SCALE_NS, timer_cb, w);
    event_notifier_init(&w->notifier, 0);
    aio_set_event_notifier(w->ctx, &w->notifier, notifier_cb, NULL, NULL);
    qemu_bh_schedule(w->bh);
    w->events = 0;
    for (int i = 0; i < ROUNDS; i++) {
        event_notifier_set(&w->notifier);
        timer_mod_ns(w->timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL));
        aio_poll(w->ctx, false);
    }
    aio_set_event_notifier(w->ctx, &w->notifier, NULL, NULL, NULL);
    event_notifier_cleanup(&w->notifier);
    timer_free(w->timer);
    qemu_bh_delete(w->bh);
    aio_poll(w->ctx, false);
    aio_context_unref(w->ctx);
}

static double run_workload(Workload *w)
{
    double start = now_s();

#ifdef QLOOP_BENCH_SIM
    SimConfig config;

    sim_config_default(&config);
    config.step_limit = 0;
    config.memory = memory;
    if (sim_run(&config, workload, w) != SIM_OK) {
        fprintf(stderr, "bench-sim: %s\n", sim_verdict_story());
        exit(1);
    }
#else
    workload(w);
#endif
    return now_s() - start;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double median5(double v[5])
{
    qsort(v, 5, sizeof(double), cmp_double);
    return v[2];
}

#ifdef QLOOP_BENCH_SIM
#define XTHREAD_BHS 100000

typedef struct {
    AioContext *ctx;
    int ran;
} XThread;

static void xthread_bh(void *opaque)
{
    ((XThread *)opaque)->ran++;
}

static void *xthread_scheduler(void *opaque)
{
    XThread *x = opaque;

    for (int i = 0; i < XTHREAD_BHS; i++) {
        aio_bh_schedule_oneshot(x->ctx, xthread_bh, x);
    }
    return NULL;
}

static void xthread_body(void *opaque)
{
    XThread x = { aio_context_new(&error_abort), 0 };
    QemuThread t;

    (void)opaque;
    qemu_thread_create(&t, "scheduler", xthread_scheduler, &x,
                       QEMU_THREAD_JOINABLE);
    while (x.ran < XTHREAD_BHS) {
        aio_poll(x.ctx, true);
    }
    qemu_thread_join(&t);
    aio_context_unref(x.ctx);
}

/* CPU time of this thread: the figure compares modes on a shared
 * machine, where wall time mostly measures the neighbours. */
static double cpu_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double xthread_ns(void)
{
    SimConfig config;
    double start;

    sim_config_default(&config);
    config.step_limit = 0;
    config.memory = memory;
    start = cpu_s();
    if (sim_run(&config, xthread_body, NULL) != SIM_OK) {
        fprintf(stderr, "bench-sim: %s\n", sim_verdict_story());
        exit(1);
    }
    return (cpu_s() - start) * 1e9 / XTHREAD_BHS;
}

#define SWITCH_ROUNDS 200000

static void *yielder(void *opaque)
{
    for (int i = 0; i < SWITCH_ROUNDS; i++) {
        sim_yield("bench");
    }
    (void)opaque;
    return NULL;
}

static void switch_body(void *opaque)
{
    QemuThread a, b;

    (void)opaque;
    qemu_thread_create(&a, "a", yielder, NULL, QEMU_THREAD_JOINABLE);
    qemu_thread_create(&b, "b", yielder, NULL, QEMU_THREAD_JOINABLE);
    qemu_thread_join(&a);
    qemu_thread_join(&b);
}

static double switch_ns(void)
{
    static uint8_t ones[4 * SWITCH_ROUNDS + 64];
    SimConfig config;
    double start, elapsed;
    size_t switches = 0;

    memset(ones, 1, sizeof(ones));
    sim_config_default(&config);
    config.tape = SIM_TAPE_BYTES;      /* always pick "the other thread" */
    config.bytes = ones;
    config.bytes_len = sizeof(ones);
    config.step_limit = 0;
    start = now_s();
    if (sim_run(&config, switch_body, NULL) != SIM_OK) {
        fprintf(stderr, "bench-sim: %s\n", sim_verdict_story());
        exit(1);
    }
    elapsed = now_s() - start;
    /* Every recorded choice picked the other thread: one switch each. */
    sim_tape_recorded(&switches);
    return elapsed * 1e9 / (double)switches;
}
#endif

int main(int argc, char **argv)
{
    Workload w;
    double t[5];
    double events_per_s;

#ifdef QLOOP_BENCH_SIM
    if (argc == 3 && !strcmp(argv[1], "--memory") &&
        sim_memory_parse(argv[2], &memory)) {
        /* the single-thread workload draws no weak choice: see xthread */
    } else if (argc != 1) {
        fprintf(stderr, "usage: %s [--memory sc|tso|pso|c11]\n", argv[0]);
        return 2;
    }
#else
    (void)argc;
    (void)argv;
#endif
    run_workload(&w);   /* warm-up */
    for (int i = 0; i < 5; i++) {
        t[i] = run_workload(&w);
    }
    events_per_s = (double)w.events / median5(t);
#ifdef QLOOP_BENCH_SIM
    printf("sim_events_per_s %.0f\n", events_per_s);
    printf("sim_round_ns %.1f\n", median5(t) * 1e9 / ROUNDS);
    for (int i = 0; i < 5; i++) {
        t[i] = switch_ns();
    }
    printf("sim_switch_ns %.1f\n", median5(t));
    xthread_ns();   /* warm-up */
    for (int i = 0; i < 5; i++) {
        t[i] = xthread_ns();
    }
    printf("sim_xthread_bh_ns %.1f (memory %s)\n", median5(t),
           sim_memory_name(memory));
#else
    printf("host_events_per_s %.0f\n", events_per_s);
    printf("host_round_ns %.1f\n", median5(t) * 1e9 / ROUNDS);
#endif
    return 0;
}
