/*
 * bench/bench-libuv.c — libuv's side of the four event-loop benchmarks (see
 * bench-qloop.c for the work itself), on loops from uv_loop_init().
 *
 * Method: for each qloop operation, the closest libuv equivalent —
 *   bh     A uv_idle handle, driven by uv_run(loop, UV_RUN_NOWAIT): an
 *          active idle handle runs once per iteration, the same as a BH
 *          that re-schedules itself.  (uv_check would run once per
 *          iteration too but does not keep the poll timeout at zero.)  Each
 *          iteration also calls epoll_wait(0).
 *   timer  1 000 uv_timer handles an hour ahead; each operation calls
 *          uv_timer_start() on an active handle, libuv's re-arm (it removes
 *          and re-inserts in the timer heap).  Timeouts are in ms from the
 *          loop's cached now.
 *   wake   Two loops, each blocked in uv_run() in its own thread; a request
 *          is uv_async_send() to the other loop's uv_async handle, libuv's
 *          only thread-safe call.  The requester runs uv_run(UV_RUN_ONCE)
 *          until the answer's handle ran.
 *   fd     N idle eventfds plus one always-readable one, each a uv_poll
 *          handle for UV_READABLE; uv_run(loop, UV_RUN_NOWAIT) per
 *          iteration.  libuv's epoll is level-triggered, so the active
 *          handle fires every iteration without draining.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <uv.h>

#include "bench-common.h"

#define LIB "libuv"

static void libuv_check(int err, const char *what)
{
    if (err < 0) {
        fprintf(stderr, "bench: %s: %s\n", what, uv_strerror(err));
        exit(1);
    }
}

/* Close every handle still open on loop, then the loop itself. */
static void libuv_close_walk_cb(uv_handle_t *handle, void *arg)
{
    (void)arg;
    if (!uv_is_closing(handle)) {
        uv_close(handle, NULL);
    }
}

static void libuv_loop_close(uv_loop_t *loop)
{
    uv_walk(loop, libuv_close_walk_cb, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    libuv_check(uv_loop_close(loop), "uv_loop_close");
}

/* ---- bh ------------------------------------------------------------------ */

typedef struct LibuvBh {
    uv_loop_t loop;
    uv_idle_t idle;
    uint64_t calls;
} LibuvBh;

static void libuv_bh_cb(uv_idle_t *idle)
{
    LibuvBh *s = idle->data;

    s->calls++;
}

static double libuv_bh_once(void *opaque, int64_t window_ns)
{
    LibuvBh *s = opaque;
    BenchWindow win;

    s->calls = 0;
    bench_window_start(&win, window_ns);
    do {
        for (uint64_t i = 0; i < win.batch; i++) {
            uv_run(&s->loop, UV_RUN_NOWAIT);
        }
    } while (bench_window_continue(&win));
    if (s->calls == 0) {
        bench_die("libuv bh: the idle handle never ran");
    }
    return (double)(win.last_ns - win.start_ns) / (double)s->calls;
}

static void libuv_bench_bh(const BenchConfig *cfg)
{
    LibuvBh *s = calloc(1, sizeof(*s));

    if (!s) {
        bench_die("calloc");
    }
    libuv_check(uv_loop_init(&s->loop), "uv_loop_init");
    libuv_check(uv_idle_init(&s->loop, &s->idle), "uv_idle_init");
    s->idle.data = s;
    libuv_check(uv_idle_start(&s->idle, libuv_bh_cb), "uv_idle_start");
    bench_report("bh_ns_per_cb", LIB, bench_median_of(cfg, libuv_bh_once, s));
    libuv_loop_close(&s->loop);
    free(s);
}

/* ---- timer --------------------------------------------------------------- */

typedef struct LibuvTimer {
    uv_loop_t loop;
    uv_timer_t timers[BENCH_TIMER_COUNT];
    uint64_t rng;
} LibuvTimer;

static void libuv_timer_cb(uv_timer_t *timer)
{
    (void)timer;
    bench_die("libuv timer: a timer an hour ahead fired");
}

/* The spread in ms: >> 10 keeps the keys in the same order as qloop's ns
 * (a monotone map), so every library sees the same heap positions. */
static inline uint64_t libuv_timer_after_ms(uint64_t r)
{
    return (uint64_t)(BENCH_TIMER_FAR_NS / 1000000) +
           ((r & BENCH_TIMER_SPREAD_MASK) >> 10);
}

static double libuv_timer_once(void *opaque, int64_t window_ns)
{
    LibuvTimer *s = opaque;
    BenchWindow win;

    bench_window_start(&win, window_ns);
    do {
        for (uint64_t i = 0; i < win.batch; i++) {
            uint64_t r = bench_xorshift64(&s->rng);

            uv_timer_start(&s->timers[bench_below(r, BENCH_TIMER_COUNT)],
                           libuv_timer_cb, libuv_timer_after_ms(r), 0);
        }
    } while (bench_window_continue(&win));
    return bench_window_ns_per_op(&win);
}

static void libuv_bench_timer(const BenchConfig *cfg)
{
    LibuvTimer *s = calloc(1, sizeof(*s));

    if (!s) {
        bench_die("calloc");
    }
    s->rng = BENCH_SEED;
    libuv_check(uv_loop_init(&s->loop), "uv_loop_init");
    for (int i = 0; i < BENCH_TIMER_COUNT; i++) {
        libuv_check(uv_timer_init(&s->loop, &s->timers[i]), "uv_timer_init");
        libuv_check(uv_timer_start(&s->timers[i], libuv_timer_cb,
                                   libuv_timer_after_ms(
                                       bench_xorshift64(&s->rng)), 0),
                    "uv_timer_start");
    }
    bench_report("timer_ns_per_op", LIB,
                 bench_median_of(cfg, libuv_timer_once, s));
    libuv_loop_close(&s->loop);
    free(s);
}

/* ---- wake ---------------------------------------------------------------- */

typedef struct LibuvWake {
    uv_loop_t requester_loop;   /* run by the main thread only */
    uv_loop_t server_loop;      /* run by the server thread only */
    uv_async_t ping;            /* on server_loop */
    uv_async_t pong;            /* on requester_loop */
    bool answered;              /* main thread only: set by pong */
    atomic_bool stop;           /* main thread writes, server reads */
    int server_cpu;
} LibuvWake;

static void libuv_wake_ping_cb(uv_async_t *async)
{
    LibuvWake *w = async->data;

    if (atomic_load(&w->stop)) {
        uv_stop(&w->server_loop);
        return;
    }
    uv_async_send(&w->pong);
}

static void libuv_wake_pong_cb(uv_async_t *async)
{
    LibuvWake *w = async->data;

    w->answered = true;
}

static void *libuv_wake_server(void *opaque)
{
    LibuvWake *w = opaque;

    bench_pin_self(w->server_cpu);
    uv_run(&w->server_loop, UV_RUN_DEFAULT);
    return NULL;
}

static void libuv_wake_round_trip(void *opaque)
{
    LibuvWake *w = opaque;

    w->answered = false;
    uv_async_send(&w->ping);
    while (!w->answered) {
        uv_run(&w->requester_loop, UV_RUN_ONCE);
    }
}

static void libuv_bench_wake_mode(const BenchConfig *cfg,
                                  const BenchWakeMode *mode)
{
    LibuvWake *w = calloc(1, sizeof(*w));
    pthread_t server;

    if (!w) {
        bench_die("calloc");
    }
    w->server_cpu = mode->server_cpu;
    atomic_init(&w->stop, false);
    libuv_check(uv_loop_init(&w->requester_loop), "uv_loop_init");
    libuv_check(uv_loop_init(&w->server_loop), "uv_loop_init");
    libuv_check(uv_async_init(&w->server_loop, &w->ping, libuv_wake_ping_cb),
                "uv_async_init");
    w->ping.data = w;
    libuv_check(uv_async_init(&w->requester_loop, &w->pong,
                              libuv_wake_pong_cb), "uv_async_init");
    w->pong.data = w;
    if (pthread_create(&server, NULL, libuv_wake_server, w) != 0) {
        bench_die("pthread_create");
    }

    bench_wake_run(cfg, LIB, mode, libuv_wake_round_trip, w);

    atomic_store(&w->stop, true);
    uv_async_send(&w->ping);
    pthread_join(server, NULL);
    libuv_loop_close(&w->server_loop);
    libuv_loop_close(&w->requester_loop);
    free(w);
}

static void libuv_bench_wake(const BenchConfig *cfg)
{
    const BenchWakeMode *modes;
    int count = bench_wake_modes(&modes);

    for (int m = 0; m < count; m++) {
        libuv_bench_wake_mode(cfg, &modes[m]);
    }
}

/* ---- fd ------------------------------------------------------------------ */

typedef struct LibuvFd {
    uv_loop_t loop;
    uv_poll_t *handles;         /* [0, idle_count) idle, [idle_count] active */
    int *fds;
    int idle_count;
    uint64_t calls;             /* active handle calls in this window */
} LibuvFd;

static void libuv_fd_idle_cb(uv_poll_t *handle, int status, int events)
{
    (void)handle, (void)status, (void)events;
    bench_die("libuv fd: an idle eventfd was reported readable");
}

static void libuv_fd_active_cb(uv_poll_t *handle, int status, int events)
{
    LibuvFd *s = handle->data;

    (void)status, (void)events;
    s->calls++;                 /* level-triggered: stays readable */
}

static double libuv_fd_once(void *opaque, int64_t window_ns)
{
    LibuvFd *s = opaque;
    BenchWindow win;

    s->calls = 0;
    bench_window_start(&win, window_ns);
    do {
        for (uint64_t i = 0; i < win.batch; i++) {
            uv_run(&s->loop, UV_RUN_NOWAIT);
        }
    } while (bench_window_continue(&win));
    if (s->calls != win.ops) {
        printf("# libuv fd n=%d: %llu handle calls for %llu iterations\n",
               s->idle_count, (unsigned long long)s->calls,
               (unsigned long long)win.ops);
    }
    return bench_window_ops_per_s(&win);
}

static void libuv_bench_fd_size(const BenchConfig *cfg, int idle_count)
{
    LibuvFd *s = calloc(1, sizeof(*s));
    char metric[64];

    if (!s) {
        bench_die("calloc");
    }
    s->idle_count = idle_count;
    s->handles = calloc((size_t)idle_count + 1, sizeof(*s->handles));
    s->fds = calloc((size_t)idle_count + 1, sizeof(*s->fds));
    if (!s->handles || !s->fds) {
        bench_die("calloc");
    }
    libuv_check(uv_loop_init(&s->loop), "uv_loop_init");
    for (int i = 0; i <= idle_count; i++) {
        bool active = i == idle_count;

        s->fds[i] = bench_eventfd(active ? 1 : 0);
        libuv_check(uv_poll_init(&s->loop, &s->handles[i], s->fds[i]),
                    "uv_poll_init");
        s->handles[i].data = s;
        libuv_check(uv_poll_start(&s->handles[i], UV_READABLE,
                                  active ? libuv_fd_active_cb
                                         : libuv_fd_idle_cb),
                    "uv_poll_start");
    }

    snprintf(metric, sizeof(metric), "fd_polls_per_s_%d", idle_count);
    bench_report(metric, LIB, bench_median_of(cfg, libuv_fd_once, s));

    libuv_loop_close(&s->loop);
    for (int i = 0; i <= idle_count; i++) {
        close(s->fds[i]);
    }
    free(s->fds);
    free(s->handles);
    free(s);
}

static void libuv_bench_fd(const BenchConfig *cfg)
{
    bench_raise_nofile(bench_fd_sizes[BENCH_FD_SIZES_COUNT - 1] + 64);
    for (int i = 0; i < BENCH_FD_SIZES_COUNT; i++) {
        libuv_bench_fd_size(cfg, bench_fd_sizes[i]);
    }
}

int main(int argc, char **argv)
{
    BenchConfig cfg;

    bench_parse_args(&cfg, argc, argv);
    bench_report_text("lib_version", LIB, uv_version_string());
    if (cfg.selected[BENCH_BH]) {
        libuv_bench_bh(&cfg);
    }
    if (cfg.selected[BENCH_TIMER]) {
        libuv_bench_timer(&cfg);
    }
    if (cfg.selected[BENCH_WAKE]) {
        libuv_bench_wake(&cfg);
    }
    if (cfg.selected[BENCH_FD]) {
        libuv_bench_fd(&cfg);
    }
    return 0;
}
