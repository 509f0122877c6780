/*
 * bench/bench-libev.c — libev's side of the four event-loop benchmarks (see
 * bench-qloop.c for the work itself), on loops from ev_loop_new().
 *
 * Method: for each qloop operation, the closest libev equivalent —
 *   bh     An ev_idle watcher, driven by ev_run(loop, EVRUN_NOWAIT): an
 *          active idle watcher is invoked once per iteration, the same as a
 *          BH that re-schedules itself.  (Every libev iteration calls the
 *          backend — epoll_wait(0) here — even when something is pending.)
 *   timer  1 000 ev_timer watchers an hour ahead; each operation sets a new
 *          ->repeat and calls ev_timer_again(): one heap adjustment, like
 *          timer_mod_ns() (ev_timer_stop + ev_timer_set + ev_timer_start
 *          would be two).  Times are relative to the loop's cached now.
 *   wake   Two loops, each blocked in ev_run() in its own thread; a request
 *          is ev_async_send() to the other loop's ev_async watcher, the
 *          documented thread-safe way in.  The requester runs
 *          ev_run(EVRUN_ONCE) until the answer's watcher ran.
 *   fd     N idle eventfds plus one always-readable one, each an ev_io
 *          watcher for EV_READ; ev_run(loop, EVRUN_NOWAIT) per iteration.
 *          libev's epoll backend is level-triggered, so the active watcher
 *          fires every iteration without draining.
 */
#include <ev.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench-common.h"

#define LIB "libev"

static struct ev_loop *libev_loop_new(void)
{
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);

    if (!loop) {
        bench_die("ev_loop_new");
    }
    return loop;
}

static const char *libev_backend_name(unsigned backend)
{
    switch (backend) {
    case EVBACKEND_SELECT: return "select";
    case EVBACKEND_POLL: return "poll";
    case EVBACKEND_EPOLL: return "epoll";
    case EVBACKEND_LINUXAIO: return "linuxaio";
    case EVBACKEND_IOURING: return "io_uring";
    default: return "other";
    }
}

/* ---- bh ------------------------------------------------------------------ */

typedef struct LibevBh {
    struct ev_loop *loop;
    ev_idle idle;
    uint64_t calls;
} LibevBh;

static void libev_bh_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
    LibevBh *s = w->data;

    (void)loop, (void)revents;
    s->calls++;
}

static double libev_bh_once(void *opaque, int64_t window_ns)
{
    LibevBh *s = opaque;
    BenchWindow win;

    s->calls = 0;
    bench_window_start(&win, window_ns);
    do {
        for (uint64_t i = 0; i < win.batch; i++) {
            ev_run(s->loop, EVRUN_NOWAIT);
        }
    } while (bench_window_continue(&win));
    if (s->calls == 0) {
        bench_die("libev bh: the idle watcher never ran");
    }
    return (double)(win.last_ns - win.start_ns) / (double)s->calls;
}

static void libev_bench_bh(const BenchConfig *cfg)
{
    LibevBh s = { .loop = libev_loop_new() };

    printf("# libev backend %s\n", libev_backend_name(ev_backend(s.loop)));
    ev_idle_init(&s.idle, libev_bh_cb);
    s.idle.data = &s;
    ev_idle_start(s.loop, &s.idle);
    bench_report("bh_ns_per_cb", LIB, bench_median_of(cfg, libev_bh_once, &s));
    ev_idle_stop(s.loop, &s.idle);
    ev_loop_destroy(s.loop);
}

/* ---- timer --------------------------------------------------------------- */

typedef struct LibevTimer {
    struct ev_loop *loop;
    ev_timer timers[BENCH_TIMER_COUNT];
    uint64_t rng;
} LibevTimer;

static void libev_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop, (void)w, (void)revents;
    bench_die("libev timer: a timer an hour ahead fired");
}

/* Same keys as qloop's, in seconds from the loop's now. */
static inline ev_tstamp libev_timer_after(uint64_t r)
{
    return (double)(BENCH_TIMER_FAR_NS + (int64_t)(r & BENCH_TIMER_SPREAD_MASK))
           * 1e-9;
}

static double libev_timer_once(void *opaque, int64_t window_ns)
{
    LibevTimer *s = opaque;
    BenchWindow win;

    bench_window_start(&win, window_ns);
    do {
        for (uint64_t i = 0; i < win.batch; i++) {
            uint64_t r = bench_xorshift64(&s->rng);
            ev_timer *t = &s->timers[bench_below(r, BENCH_TIMER_COUNT)];

            t->repeat = libev_timer_after(r);
            ev_timer_again(s->loop, t);
        }
    } while (bench_window_continue(&win));
    return bench_window_ns_per_op(&win);
}

static void libev_bench_timer(const BenchConfig *cfg)
{
    LibevTimer *s = calloc(1, sizeof(*s));

    if (!s) {
        bench_die("calloc");
    }
    s->loop = libev_loop_new();
    s->rng = BENCH_SEED;
    for (int i = 0; i < BENCH_TIMER_COUNT; i++) {
        ev_timer_init(&s->timers[i], libev_timer_cb,
                      libev_timer_after(bench_xorshift64(&s->rng)), 0.);
        ev_timer_start(s->loop, &s->timers[i]);
    }
    bench_report("timer_ns_per_op", LIB,
                 bench_median_of(cfg, libev_timer_once, s));
    for (int i = 0; i < BENCH_TIMER_COUNT; i++) {
        ev_timer_stop(s->loop, &s->timers[i]);
    }
    ev_loop_destroy(s->loop);
    free(s);
}

/* ---- wake ---------------------------------------------------------------- */

typedef struct LibevWake {
    struct ev_loop *requester_loop;  /* run by the main thread only */
    struct ev_loop *server_loop;     /* run by the server thread only */
    ev_async ping;                   /* on server_loop */
    ev_async pong;                   /* on requester_loop */
    bool answered;                   /* main thread only: set by pong */
    atomic_bool stop;                /* main thread writes, server reads */
    int server_cpu;
} LibevWake;

static void libev_wake_ping_cb(struct ev_loop *loop, ev_async *a, int revents)
{
    LibevWake *w = a->data;

    (void)revents;
    if (atomic_load(&w->stop)) {
        ev_break(loop, EVBREAK_ALL);
        return;
    }
    ev_async_send(w->requester_loop, &w->pong);
}

static void libev_wake_pong_cb(struct ev_loop *loop, ev_async *a, int revents)
{
    LibevWake *w = a->data;

    (void)loop, (void)revents;
    w->answered = true;
}

static void *libev_wake_server(void *opaque)
{
    LibevWake *w = opaque;

    bench_pin_self(w->server_cpu);
    ev_run(w->server_loop, 0);
    return NULL;
}

static void libev_wake_round_trip(void *opaque)
{
    LibevWake *w = opaque;

    w->answered = false;
    ev_async_send(w->server_loop, &w->ping);
    while (!w->answered) {
        ev_run(w->requester_loop, EVRUN_ONCE);
    }
}

static void libev_bench_wake_mode(const BenchConfig *cfg,
                                  const BenchWakeMode *mode)
{
    LibevWake w = { .server_cpu = mode->server_cpu };
    pthread_t server;

    atomic_init(&w.stop, false);
    w.requester_loop = libev_loop_new();
    w.server_loop = libev_loop_new();
    ev_async_init(&w.ping, libev_wake_ping_cb);
    w.ping.data = &w;
    ev_async_start(w.server_loop, &w.ping);
    ev_async_init(&w.pong, libev_wake_pong_cb);
    w.pong.data = &w;
    ev_async_start(w.requester_loop, &w.pong);
    if (pthread_create(&server, NULL, libev_wake_server, &w) != 0) {
        bench_die("pthread_create");
    }

    bench_wake_run(cfg, LIB, mode, libev_wake_round_trip, &w);

    atomic_store(&w.stop, true);
    ev_async_send(w.server_loop, &w.ping);
    pthread_join(server, NULL);
    ev_async_stop(w.server_loop, &w.ping);
    ev_async_stop(w.requester_loop, &w.pong);
    ev_loop_destroy(w.server_loop);
    ev_loop_destroy(w.requester_loop);
}

static void libev_bench_wake(const BenchConfig *cfg)
{
    const BenchWakeMode *modes;
    int count = bench_wake_modes(&modes);

    for (int m = 0; m < count; m++) {
        libev_bench_wake_mode(cfg, &modes[m]);
    }
}

/* ---- fd ------------------------------------------------------------------ */

typedef struct LibevFd {
    struct ev_loop *loop;
    ev_io *watchers;            /* [0, idle_count) idle, [idle_count] active */
    int idle_count;
    uint64_t calls;             /* active watcher calls in this window */
} LibevFd;

static void libev_fd_idle_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop, (void)w, (void)revents;
    bench_die("libev fd: an idle eventfd was reported readable");
}

static void libev_fd_active_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    LibevFd *s = w->data;

    (void)loop, (void)revents;
    s->calls++;                 /* level-triggered: stays readable */
}

static double libev_fd_once(void *opaque, int64_t window_ns)
{
    LibevFd *s = opaque;
    BenchWindow win;

    s->calls = 0;
    bench_window_start(&win, window_ns);
    do {
        for (uint64_t i = 0; i < win.batch; i++) {
            ev_run(s->loop, EVRUN_NOWAIT);
        }
    } while (bench_window_continue(&win));
    if (s->calls != win.ops) {
        printf("# libev fd n=%d: %llu watcher calls for %llu iterations\n",
               s->idle_count, (unsigned long long)s->calls,
               (unsigned long long)win.ops);
    }
    return bench_window_ops_per_s(&win);
}

static void libev_bench_fd_size(const BenchConfig *cfg, int idle_count)
{
    LibevFd s = { .loop = libev_loop_new(), .idle_count = idle_count };
    char metric[64];

    s.watchers = calloc((size_t)idle_count + 1, sizeof(*s.watchers));
    if (!s.watchers) {
        bench_die("calloc");
    }
    for (int i = 0; i <= idle_count; i++) {
        ev_io *w = &s.watchers[i];

        if (i < idle_count) {
            ev_io_init(w, libev_fd_idle_cb, bench_eventfd(0), EV_READ);
        } else {
            ev_io_init(w, libev_fd_active_cb, bench_eventfd(1), EV_READ);
        }
        w->data = &s;
        ev_io_start(s.loop, w);
    }

    snprintf(metric, sizeof(metric), "fd_polls_per_s_%d", idle_count);
    bench_report(metric, LIB, bench_median_of(cfg, libev_fd_once, &s));

    for (int i = 0; i <= idle_count; i++) {
        ev_io_stop(s.loop, &s.watchers[i]);
        close(s.watchers[i].fd);
    }
    free(s.watchers);
    ev_loop_destroy(s.loop);
}

static void libev_bench_fd(const BenchConfig *cfg)
{
    bench_raise_nofile(bench_fd_sizes[BENCH_FD_SIZES_COUNT - 1] + 64);
    for (int i = 0; i < BENCH_FD_SIZES_COUNT; i++) {
        libev_bench_fd_size(cfg, bench_fd_sizes[i]);
    }
}

int main(int argc, char **argv)
{
    BenchConfig cfg;
    char version[32];

    bench_parse_args(&cfg, argc, argv);
    snprintf(version, sizeof(version), "%d.%d", ev_version_major(),
             ev_version_minor());
    bench_report_text("lib_version", LIB, version);
    if (cfg.selected[BENCH_BH]) {
        libev_bench_bh(&cfg);
    }
    if (cfg.selected[BENCH_TIMER]) {
        libev_bench_timer(&cfg);
    }
    if (cfg.selected[BENCH_WAKE]) {
        libev_bench_wake(&cfg);
    }
    if (cfg.selected[BENCH_FD]) {
        libev_bench_fd(&cfg);
    }
    return 0;
}
