/*
 * bench/bench-qloop.c — qloop's side of the four event-loop benchmarks:
 * BH throughput, timer churn, cross-thread wake-up, fd dispatch scaling.
 * bench-glib.c, bench-libev.c and bench-libuv.c do the same work with
 * their library; bench/run.sh puts the four side by side.
 *
 * Method:
 *   bh     One BH that re-schedules itself from its callback, driven by
 *          aio_poll(ctx, false): each poll runs it once (a BH scheduled by
 *          a callback lands on the fresh list, so it runs on the next poll).
 *          Reported: ns per callback.
 *   timer  1 000 aio_timer_new() timers armed an hour ahead; each operation
 *          re-arms a random one (xorshift64, fixed seed) with timer_mod_ns()
 *          — a cancel and re-arm in one call.  Reported: ns per operation.
 *   wake   Two contexts, each blocked in aio_poll(ctx, true) in its own
 *          thread.  The requester schedules a BH into the server's context;
 *          that BH schedules one back into the requester's context; the
 *          round trip ends when the requester's BH runs.  Reported: median
 *          and p99 round trip in us, with both threads pinned to one CPU
 *          and to two (see bench-common.h for why both).
 *   fd     N idle eventfds (never readable) plus one always-readable
 *          eventfd, each with a read handler and no io_poll, so every
 *          aio_poll(ctx, false) must ask the kernel.  The active handler
 *          does not drain its fd.  Reported: aio_poll calls per second.
 * Every number is the median of several fixed-length windows after a
 * warm-up window (bench-common.c).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench-common.h"
#include "qloop/qloop.h"

#define LIB "qloop"

/* ---- bh ------------------------------------------------------------------ */

typedef struct QloopBh {
    AioContext *ctx;
    QEMUBH *bh;
    uint64_t calls;
} QloopBh;

static void qloop_bh_cb(void *opaque)
{
    QloopBh *s = opaque;

    s->calls++;
    qemu_bh_schedule(s->bh);
}

static double qloop_bh_once(void *opaque, int64_t window_ns)
{
    QloopBh *s = opaque;
    BenchWindow win;

    s->calls = 0;
    bench_window_start(&win, window_ns);
    do {
        for (uint64_t i = 0; i < win.batch; i++) {
            aio_poll(s->ctx, false);
        }
    } while (bench_window_continue(&win));
    if (s->calls == 0) {
        bench_die("qloop bh: the BH never ran");
    }
    return (double)(win.last_ns - win.start_ns) / (double)s->calls;
}

static void qloop_bench_bh(const BenchConfig *cfg)
{
    QloopBh s = { .ctx = aio_context_new(&error_abort) };

    s.bh = aio_bh_new(s.ctx, qloop_bh_cb, &s);
    qemu_bh_schedule(s.bh);
    bench_report("bh_ns_per_cb", LIB, bench_median_of(cfg, qloop_bh_once, &s));
    qemu_bh_delete(s.bh);
    aio_poll(s.ctx, false);             /* reclaims the deleted BH */
    aio_context_unref(s.ctx);
}

/* ---- timer --------------------------------------------------------------- */

typedef struct QloopTimer {
    AioContext *ctx;
    QEMUTimer *timers[BENCH_TIMER_COUNT];
    int64_t base_ns;
    uint64_t rng;
} QloopTimer;

static void qloop_timer_cb(void *opaque)
{
    (void)opaque;
    bench_die("qloop timer: a timer an hour ahead fired");
}

static double qloop_timer_once(void *opaque, int64_t window_ns)
{
    QloopTimer *s = opaque;
    BenchWindow win;

    bench_window_start(&win, window_ns);
    do {
        for (uint64_t i = 0; i < win.batch; i++) {
            uint64_t r = bench_xorshift64(&s->rng);

            timer_mod_ns(s->timers[bench_below(r, BENCH_TIMER_COUNT)],
                         s->base_ns + (int64_t)(r & BENCH_TIMER_SPREAD_MASK));
        }
    } while (bench_window_continue(&win));
    return bench_window_ns_per_op(&win);
}

static void qloop_bench_timer(const BenchConfig *cfg)
{
    QloopTimer *s = calloc(1, sizeof(*s));

    if (!s) {
        bench_die("calloc");
    }
    s->ctx = aio_context_new(&error_abort);
    s->rng = BENCH_SEED;
    s->base_ns = qemu_clock_get_ns(QEMU_CLOCK_REALTIME) + BENCH_TIMER_FAR_NS;
    for (int i = 0; i < BENCH_TIMER_COUNT; i++) {
        s->timers[i] = aio_timer_new(s->ctx, QEMU_CLOCK_REALTIME, SCALE_NS,
                                     qloop_timer_cb, NULL);
        timer_mod_ns(s->timers[i], s->base_ns + (int64_t)(
                     bench_xorshift64(&s->rng) & BENCH_TIMER_SPREAD_MASK));
    }
    bench_report("timer_ns_per_op", LIB,
                 bench_median_of(cfg, qloop_timer_once, s));
    for (int i = 0; i < BENCH_TIMER_COUNT; i++) {
        timer_free(s->timers[i]);
    }
    aio_context_unref(s->ctx);
    free(s);
}

/* ---- wake ---------------------------------------------------------------- */

typedef struct QloopWake {
    AioContext *requester_ctx;  /* polled by the main thread only */
    AioContext *server_ctx;     /* polled by the server thread only */
    QEMUBH *ping_bh;            /* on server_ctx, scheduled by the main thread */
    QEMUBH *pong_bh;            /* on requester_ctx, scheduled by ping */
    bool answered;              /* main thread only: set by pong */
    atomic_bool stop;           /* main thread writes, server reads */
    int server_cpu;
} QloopWake;

static void qloop_wake_ping_cb(void *opaque)
{
    QloopWake *w = opaque;

    qemu_bh_schedule(w->pong_bh);
}

static void qloop_wake_pong_cb(void *opaque)
{
    QloopWake *w = opaque;

    w->answered = true;
}

static void *qloop_wake_server(void *opaque)
{
    QloopWake *w = opaque;

    bench_pin_self(w->server_cpu);
    while (!atomic_load(&w->stop)) {
        aio_poll(w->server_ctx, true);
    }
    qemu_bh_delete(w->ping_bh);
    aio_poll(w->server_ctx, false);     /* reclaims ping in its home thread */
    return NULL;
}

static void qloop_wake_round_trip(void *opaque)
{
    QloopWake *w = opaque;

    w->answered = false;
    qemu_bh_schedule(w->ping_bh);
    while (!w->answered) {
        aio_poll(w->requester_ctx, true);
    }
}

static void qloop_bench_wake_mode(const BenchConfig *cfg,
                                  const BenchWakeMode *mode)
{
    QloopWake w = { .server_cpu = mode->server_cpu };
    QemuThread server;

    atomic_init(&w.stop, false);
    w.requester_ctx = aio_context_new(&error_abort);
    w.server_ctx = aio_context_new(&error_abort);
    w.ping_bh = aio_bh_new(w.server_ctx, qloop_wake_ping_cb, &w);
    w.pong_bh = aio_bh_new(w.requester_ctx, qloop_wake_pong_cb, &w);
    qemu_thread_create(&server, "bench-server", qloop_wake_server, &w,
                       QEMU_THREAD_JOINABLE);

    bench_wake_run(cfg, LIB, mode, qloop_wake_round_trip, &w);

    atomic_store(&w.stop, true);
    qemu_bh_schedule(w.ping_bh);        /* wakes the server to see stop */
    qemu_thread_join(&server);
    qemu_bh_delete(w.pong_bh);
    aio_poll(w.requester_ctx, false);
    aio_context_unref(w.server_ctx);
    aio_context_unref(w.requester_ctx);
}

static void qloop_bench_wake(const BenchConfig *cfg)
{
    const BenchWakeMode *modes;
    int count = bench_wake_modes(&modes);

    for (int m = 0; m < count; m++) {
        qloop_bench_wake_mode(cfg, &modes[m]);
    }
}

/* ---- fd ------------------------------------------------------------------ */

typedef struct QloopFd {
    AioContext *ctx;
    int *idle_fds;
    int idle_count;
    int active_fd;
    uint64_t calls;             /* active handler calls in this window */
} QloopFd;

static void qloop_fd_idle_read(void *opaque)
{
    (void)opaque;
    bench_die("qloop fd: an idle eventfd was reported readable");
}

static void qloop_fd_active_read(void *opaque)
{
    QloopFd *s = opaque;

    s->calls++;                 /* level-triggered: stays readable */
}

static double qloop_fd_once(void *opaque, int64_t window_ns)
{
    QloopFd *s = opaque;
    BenchWindow win;

    s->calls = 0;
    bench_window_start(&win, window_ns);
    do {
        for (uint64_t i = 0; i < win.batch; i++) {
            aio_poll(s->ctx, false);
        }
    } while (bench_window_continue(&win));
    if (s->calls != win.ops) {
        printf("# qloop fd n=%d: %llu handler calls for %llu polls\n",
               s->idle_count, (unsigned long long)s->calls,
               (unsigned long long)win.ops);
    }
    return bench_window_ops_per_s(&win);
}

static void qloop_bench_fd_size(const BenchConfig *cfg, int idle_count)
{
    QloopFd s = { .idle_count = idle_count };
    char metric[64];

    s.ctx = aio_context_new(&error_abort);
    s.idle_fds = malloc(sizeof(int) * (size_t)idle_count);
    if (!s.idle_fds) {
        bench_die("malloc");
    }
    for (int i = 0; i < idle_count; i++) {
        s.idle_fds[i] = bench_eventfd(0);
        aio_set_fd_handler(s.ctx, s.idle_fds[i], qloop_fd_idle_read, NULL,
                           NULL, NULL, &s);
    }
    s.active_fd = bench_eventfd(1);
    aio_set_fd_handler(s.ctx, s.active_fd, qloop_fd_active_read, NULL, NULL,
                       NULL, &s);

    snprintf(metric, sizeof(metric), "fd_polls_per_s_%d", idle_count);
    bench_report(metric, LIB, bench_median_of(cfg, qloop_fd_once, &s));

    aio_set_fd_handler(s.ctx, s.active_fd, NULL, NULL, NULL, NULL, NULL);
    for (int i = 0; i < idle_count; i++) {
        aio_set_fd_handler(s.ctx, s.idle_fds[i], NULL, NULL, NULL, NULL, NULL);
    }
    aio_poll(s.ctx, false);             /* reclaims the removed handlers */
    for (int i = 0; i < idle_count; i++) {
        close(s.idle_fds[i]);
    }
    close(s.active_fd);
    free(s.idle_fds);
    aio_context_unref(s.ctx);
}

static void qloop_bench_fd(const BenchConfig *cfg)
{
    bench_raise_nofile(bench_fd_sizes[BENCH_FD_SIZES_COUNT - 1] + 64);
    for (int i = 0; i < BENCH_FD_SIZES_COUNT; i++) {
        qloop_bench_fd_size(cfg, bench_fd_sizes[i]);
    }
}

int main(int argc, char **argv)
{
    BenchConfig cfg;

    bench_parse_args(&cfg, argc, argv);
    bench_report_text("lib_version", LIB, QLOOP_VERSION);
    if (cfg.selected[BENCH_BH]) {
        qloop_bench_bh(&cfg);
    }
    if (cfg.selected[BENCH_TIMER]) {
        qloop_bench_timer(&cfg);
    }
    if (cfg.selected[BENCH_WAKE]) {
        qloop_bench_wake(&cfg);
    }
    if (cfg.selected[BENCH_FD]) {
        qloop_bench_fd(&cfg);
    }
    return 0;
}
