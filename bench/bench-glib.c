/*
 * bench/bench-glib.c — glib's side of the four event-loop benchmarks (see
 * bench-qloop.c for the work itself), on a private GMainContext.
 *
 * Method: for each qloop operation, the closest glib equivalent —
 *   bh     An idle source whose callback returns G_SOURCE_CONTINUE, driven
 *          by g_main_context_iteration(ctx, FALSE): the source stays ready,
 *          so each iteration dispatches it once — glib's self-rescheduling
 *          BH.  (Each iteration also poll()s the context's wakeup fd with a
 *          zero timeout: glib always polls when it has any fd.)
 *   timer  1 000 custom sources (dispatch only) with a ready time an hour
 *          ahead; each operation moves one with g_source_set_ready_time(),
 *          glib's re-arm of an existing source.  The alternative,
 *          g_source_destroy() + g_timeout_source_new() + attach, allocates
 *          and is slower still.  Note set_ready_time() takes the context
 *          lock and writes the context's wakeup eventfd on every change.
 *   wake   Two contexts, each iterated blocking (may_block TRUE) in its own
 *          thread, each owned by its thread (thread-default).  A request is
 *          g_source_set_ready_time(src, 0) on a pre-made source of the other
 *          context: thread-safe, locks that context and signals its wakeup
 *          fd — like qemu_bh_schedule() on a pre-made BH, ev_async and
 *          uv_async.  (g_main_context_invoke() from a foreign thread does
 *          the same plus allocating and attaching an idle source per call.)
 *          The dispatch clears the ready time (-1).
 *   fd     One g_unix_fd_source_new() source per fd (what g_unix_fd_add()
 *          makes) for the N idle eventfds and the always-readable one.
 *          glib poll()s every fd and walks every source in each iteration,
 *          so the cost grows with N by design.  Not one source with N
 *          g_source_add_unix_fd() tags: glib blocks a dispatching source by
 *          removing and re-adding each of its fds (a sorted-list insert and
 *          a wakeup write apiece), which makes every iteration O(N^2) —
 *          ~100 ms at 10 000 fds.
 */
#include <glib.h>
#include <glib-unix.h>
#include <stdatomic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench-common.h"

#define LIB "glib"

/* ---- bh ------------------------------------------------------------------ */

typedef struct GlibBh {
    GMainContext *ctx;
    uint64_t calls;
} GlibBh;

static gboolean glib_bh_cb(gpointer data)
{
    GlibBh *s = data;

    s->calls++;
    return G_SOURCE_CONTINUE;
}

static double glib_bh_once(void *opaque, int64_t window_ns)
{
    GlibBh *s = opaque;
    BenchWindow win;

    s->calls = 0;
    bench_window_start(&win, window_ns);
    do {
        for (uint64_t i = 0; i < win.batch; i++) {
            g_main_context_iteration(s->ctx, FALSE);
        }
    } while (bench_window_continue(&win));
    if (s->calls == 0) {
        bench_die("glib bh: the idle source never ran");
    }
    return (double)(win.last_ns - win.start_ns) / (double)s->calls;
}

static void glib_bench_bh(const BenchConfig *cfg)
{
    GlibBh s = { .ctx = g_main_context_new() };
    GSource *idle = g_idle_source_new();

    g_source_set_callback(idle, glib_bh_cb, &s, NULL);
    g_source_attach(idle, s.ctx);
    bench_report("bh_ns_per_cb", LIB, bench_median_of(cfg, glib_bh_once, &s));
    g_source_destroy(idle);
    g_source_unref(idle);
    g_main_context_unref(s.ctx);
}

/* ---- timer --------------------------------------------------------------- */

static gboolean glib_timer_dispatch(GSource *source, GSourceFunc cb,
                                    gpointer data)
{
    (void)source, (void)cb, (void)data;
    bench_die("glib timer: a source an hour ahead fired");
}

static GSourceFuncs glib_timer_funcs = {
    .dispatch = glib_timer_dispatch,
};

typedef struct GlibTimer {
    GMainContext *ctx;
    GSource *sources[BENCH_TIMER_COUNT];
    int64_t base_us;
    uint64_t rng;
} GlibTimer;

/* The spread in us: >> 10 keeps the keys in the same order as qloop's ns
 * (a monotone map), so every library sees the same heap/list positions. */
static inline int64_t glib_timer_ready_us(GlibTimer *s, uint64_t r)
{
    return s->base_us + (int64_t)((r & BENCH_TIMER_SPREAD_MASK) >> 10);
}

static double glib_timer_once(void *opaque, int64_t window_ns)
{
    GlibTimer *s = opaque;
    BenchWindow win;

    bench_window_start(&win, window_ns);
    do {
        for (uint64_t i = 0; i < win.batch; i++) {
            uint64_t r = bench_xorshift64(&s->rng);

            g_source_set_ready_time(s->sources[bench_below(r, BENCH_TIMER_COUNT)],
                                    glib_timer_ready_us(s, r));
        }
    } while (bench_window_continue(&win));
    return bench_window_ns_per_op(&win);
}

static void glib_bench_timer(const BenchConfig *cfg)
{
    GlibTimer *s = g_new0(GlibTimer, 1);

    s->ctx = g_main_context_new();
    s->rng = BENCH_SEED;
    s->base_us = g_get_monotonic_time() + BENCH_TIMER_FAR_NS / 1000;
    for (int i = 0; i < BENCH_TIMER_COUNT; i++) {
        s->sources[i] = g_source_new(&glib_timer_funcs, sizeof(GSource));
        g_source_set_ready_time(s->sources[i],
                                glib_timer_ready_us(s, bench_xorshift64(&s->rng)));
        g_source_attach(s->sources[i], s->ctx);
    }
    bench_report("timer_ns_per_op", LIB,
                 bench_median_of(cfg, glib_timer_once, s));
    for (int i = 0; i < BENCH_TIMER_COUNT; i++) {
        g_source_destroy(s->sources[i]);
        g_source_unref(s->sources[i]);
    }
    g_main_context_unref(s->ctx);
    g_free(s);
}

/* ---- wake ---------------------------------------------------------------- */

typedef struct GlibWake {
    GMainContext *requester_ctx;    /* iterated by the main thread only */
    GMainContext *server_ctx;       /* iterated by the server thread only */
    GSource *ping;                  /* in server_ctx */
    GSource *pong;                  /* in requester_ctx */
    bool answered;                  /* main thread only: set by pong */
    atomic_bool stop;               /* main thread writes, server reads */
    int server_cpu;
} GlibWake;

/* A one-shot-until-re-armed source: ready time 0 means "now". */
static gboolean glib_wake_dispatch(GSource *source, GSourceFunc cb,
                                   gpointer data)
{
    g_source_set_ready_time(source, -1);
    return cb(data);
}

static GSourceFuncs glib_wake_funcs = {
    .dispatch = glib_wake_dispatch,
};

static gboolean glib_wake_ping_cb(gpointer data)
{
    GlibWake *w = data;

    g_source_set_ready_time(w->pong, 0);
    return G_SOURCE_CONTINUE;
}

static gboolean glib_wake_pong_cb(gpointer data)
{
    GlibWake *w = data;

    w->answered = true;
    return G_SOURCE_CONTINUE;
}

static void *glib_wake_server(void *opaque)
{
    GlibWake *w = opaque;

    bench_pin_self(w->server_cpu);
    g_main_context_push_thread_default(w->server_ctx);
    while (!atomic_load(&w->stop)) {
        g_main_context_iteration(w->server_ctx, TRUE);
    }
    g_main_context_pop_thread_default(w->server_ctx);
    return NULL;
}

static void glib_wake_round_trip(void *opaque)
{
    GlibWake *w = opaque;

    w->answered = false;
    g_source_set_ready_time(w->ping, 0);
    while (!w->answered) {
        g_main_context_iteration(w->requester_ctx, TRUE);
    }
}

static GSource *glib_wake_source(GMainContext *ctx, GSourceFunc cb,
                                 GlibWake *w)
{
    GSource *source = g_source_new(&glib_wake_funcs, sizeof(GSource));

    g_source_set_callback(source, cb, w, NULL);
    g_source_attach(source, ctx);
    return source;
}

static void glib_bench_wake_mode(const BenchConfig *cfg,
                                 const BenchWakeMode *mode)
{
    GlibWake w = { .server_cpu = mode->server_cpu };
    pthread_t server;

    atomic_init(&w.stop, false);
    w.requester_ctx = g_main_context_new();
    w.server_ctx = g_main_context_new();
    w.ping = glib_wake_source(w.server_ctx, glib_wake_ping_cb, &w);
    w.pong = glib_wake_source(w.requester_ctx, glib_wake_pong_cb, &w);
    g_main_context_push_thread_default(w.requester_ctx);
    if (pthread_create(&server, NULL, glib_wake_server, &w) != 0) {
        bench_die("pthread_create");
    }

    bench_wake_run(cfg, LIB, mode, glib_wake_round_trip, &w);

    atomic_store(&w.stop, true);
    g_source_set_ready_time(w.ping, 0);
    pthread_join(server, NULL);
    g_main_context_pop_thread_default(w.requester_ctx);
    g_source_destroy(w.ping);
    g_source_unref(w.ping);
    g_source_destroy(w.pong);
    g_source_unref(w.pong);
    g_main_context_unref(w.server_ctx);
    g_main_context_unref(w.requester_ctx);
}

static void glib_bench_wake(const BenchConfig *cfg)
{
    const BenchWakeMode *modes;
    int count = bench_wake_modes(&modes);

    for (int m = 0; m < count; m++) {
        glib_bench_wake_mode(cfg, &modes[m]);
    }
}

/* ---- fd ------------------------------------------------------------------ */

typedef struct GlibFd {
    GMainContext *ctx;
    GSource **sources;          /* [0, idle_count) idle, [idle_count] active */
    int *fds;
    int idle_count;
    uint64_t calls;             /* active source dispatches in this window */
} GlibFd;

static gboolean glib_fd_idle_cb(gint fd, GIOCondition condition, gpointer data)
{
    (void)fd, (void)condition, (void)data;
    bench_die("glib fd: an idle eventfd was reported readable");
}

static gboolean glib_fd_active_cb(gint fd, GIOCondition condition,
                                  gpointer data)
{
    GlibFd *f = data;

    (void)fd, (void)condition;
    f->calls++;                 /* level-triggered: stays readable */
    return G_SOURCE_CONTINUE;
}

static double glib_fd_once(void *opaque, int64_t window_ns)
{
    GlibFd *s = opaque;
    BenchWindow win;

    s->calls = 0;
    bench_window_start(&win, window_ns);
    do {
        for (uint64_t i = 0; i < win.batch; i++) {
            g_main_context_iteration(s->ctx, FALSE);
        }
    } while (bench_window_continue(&win));
    if (s->calls != win.ops) {
        printf("# glib fd n=%d: %llu dispatches for %llu iterations\n",
               s->idle_count, (unsigned long long)s->calls,
               (unsigned long long)win.ops);
    }
    return bench_window_ops_per_s(&win);
}

static void glib_bench_fd_size(const BenchConfig *cfg, int idle_count)
{
    GlibFd f = { .ctx = g_main_context_new(), .idle_count = idle_count };
    char metric[64];

    f.sources = g_new(GSource *, idle_count + 1);
    f.fds = g_new(int, idle_count + 1);
    for (int i = 0; i <= idle_count; i++) {
        bool active = i == idle_count;

        f.fds[i] = bench_eventfd(active ? 1 : 0);
        f.sources[i] = g_unix_fd_source_new(f.fds[i], G_IO_IN);
        g_source_set_callback(f.sources[i], active
                              ? G_SOURCE_FUNC(glib_fd_active_cb)
                              : G_SOURCE_FUNC(glib_fd_idle_cb), &f, NULL);
        g_source_attach(f.sources[i], f.ctx);
    }

    snprintf(metric, sizeof(metric), "fd_polls_per_s_%d", idle_count);
    bench_report(metric, LIB, bench_median_of(cfg, glib_fd_once, &f));

    for (int i = 0; i <= idle_count; i++) {
        g_source_destroy(f.sources[i]);
        g_source_unref(f.sources[i]);
        close(f.fds[i]);
    }
    g_free(f.sources);
    g_free(f.fds);
    g_main_context_unref(f.ctx);
}

static void glib_bench_fd(const BenchConfig *cfg)
{
    bench_raise_nofile(bench_fd_sizes[BENCH_FD_SIZES_COUNT - 1] + 64);
    for (int i = 0; i < BENCH_FD_SIZES_COUNT; i++) {
        glib_bench_fd_size(cfg, bench_fd_sizes[i]);
    }
}

int main(int argc, char **argv)
{
    BenchConfig cfg;
    char version[32];

    bench_parse_args(&cfg, argc, argv);
    snprintf(version, sizeof(version), "%u.%u.%u", glib_major_version,
             glib_minor_version, glib_micro_version);
    bench_report_text("lib_version", LIB, version);
    if (cfg.selected[BENCH_BH]) {
        glib_bench_bh(&cfg);
    }
    if (cfg.selected[BENCH_TIMER]) {
        glib_bench_timer(&cfg);
    }
    if (cfg.selected[BENCH_WAKE]) {
        glib_bench_wake(&cfg);
    }
    if (cfg.selected[BENCH_FD]) {
        glib_bench_fd(&cfg);
    }
    return 0;
}
