/*
 * tests/sim/test-faults.c — the seam's error paths, each with its stated
 * outcome (docs/simulation.md, "Fault points").
 *
 * Method: every case runs the public API in a fresh simulated world with
 * one fault bit switched on, and forces the fault either with a replay
 * tape (each fault point draws one choice, 1 = fire, then a value choice
 * for which errno) or, where the draws' positions depend on the core's
 * inner traffic, by sweeping seeds at a high fault rate and checking the
 * outcome holds in every run and the fault fired in some.  Outcomes:
 *   - a refused watch: the poller falls back to poll and the handler is
 *     still called when its fd is ready (regular file: EPERM, past the
 *     64-fd upgrade too; ENOMEM/ENOSPC from the tape);
 *   - eventfd/signalfd creation failing: aio_context_new() NULL + Error,
 *     event_notifier_init() -errno, qemu_init_main_loop() an error and
 *     nothing left registered (a retry succeeds), and an abort naming
 *     iohandler_ctx when that is the context that cannot be made;
 *   - failed reads: an eventfd read failing loses no wake-up, a signalfd
 *     read failing delays the signal's handler, never loses it; a short
 *     pipe read hands the rest over next time;
 *   - EINTR in glib's poll: a wake-up with nothing ready.
 * Last, the depth-first explorer runs a small cross-thread body with every
 * seam fault on (preemption bound 3, fault choices count against it:
 * about 45 000 runs, under two seconds) and every run must end well.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "qloop/qloop.h"
#include "sim.h"

static SimConfig replay_config(unsigned faults, const uint32_t *tape,
                               size_t len)
{
    SimConfig c;

    sim_config_default(&c);
    c.tape = SIM_TAPE_REPLAY;
    c.replay = tape;
    c.replay_len = len;
    c.faults = faults;
    c.trace = true;
    return c;
}

static SimConfig sweep_config(unsigned faults, uint64_t seed)
{
    SimConfig c;

    sim_config_default(&c);
    c.seed = seed;
    c.faults = faults;
    c.fault_permille = 500;
    c.trace = true;
    return c;
}

/* How many recorded events are (kind, name). */
static unsigned count_events(uint32_t kind, const char *name)
{
    size_t n;
    const SimEvent *ev = sim_trace_events(&n);
    unsigned count = 0;

    for (size_t i = 0; i < n; i++) {
        count += ev[i].kind == kind && ev[i].name &&
                 strcmp(ev[i].name, name) == 0;
    }
    return count;
}

static void check_ok(SimVerdict verdict)
{
    if (verdict != SIM_OK) {
        g_error("verdict %s: %s", sim_verdict_name(verdict),
                sim_verdict_story());
    }
}

/* ---- a refused watch ------------------------------------------------------- */

static void never_cb(void *opaque)
{
    (void)opaque;
    g_assert_not_reached();     /* its external fd never becomes ready */
}

typedef struct {
    AioContext *ctx;
    int fd;
    unsigned calls;
} Watched;

static void watched_read_cb(void *opaque)
{
    Watched *w = opaque;

    w->calls++;
    /* Level-triggered (a regular file is always ready): one call is all
     * the test asks for. */
    aio_set_fd_handler(w->ctx, w->fd, NULL, NULL, NULL, NULL, NULL);
}

/* Register fd, then poll until its handler ran (bounded). */
static unsigned poll_until_called(AioContext *ctx, int fd)
{
    Watched w = { .ctx = ctx, .fd = fd };

    aio_set_fd_handler(ctx, fd, watched_read_cb, NULL, NULL, NULL, &w);
    for (int i = 0; i < 8 && w.calls == 0; i++) {
        aio_poll(ctx, true);
    }
    return w.calls;
}

static void regular_file_body(void *opaque)
{
    AioContext *ctx = aio_context_new(&error_abort);

    (void)opaque;
    g_assert_cmpuint(poll_until_called(ctx, sim_regular_fd("file")), ==, 1);
    aio_context_unref(ctx);
}

/* WATCH_REFUSED on: epoll-like from the start; a regular file is EPERM. */
static void test_regular_file_falls_back(void)
{
    SimConfig c = replay_config(SIM_FAULT_WATCH_REFUSED, NULL, 0);

    check_ok(sim_run(&c, regular_file_body, NULL));
    g_assert_cmpuint(count_events(SIM_EV_POLLER, "fallback"), ==, 1);
}

static void many_fds_body(void *opaque)
{
    AioContext *ctx = aio_context_new(&error_abort);
    int fds[70];

    (void)opaque;
    /* The notifier is one watch; 69 more pass the 64-fd threshold. */
    for (int i = 0; i < 69; i++) {
        fds[i] = sim_external_fd("many");
        aio_set_fd_handler(ctx, fds[i], never_cb, NULL, NULL, NULL, NULL);
    }
    g_assert_cmpuint(count_events(SIM_EV_POLLER, "epoll"), ==, 1);
    g_assert_cmpuint(poll_until_called(ctx, sim_regular_fd("file")), ==, 1);
    for (int i = 0; i < 69; i++) {
        aio_set_fd_handler(ctx, fds[i], NULL, NULL, NULL, NULL, NULL);
    }
    aio_context_unref(ctx);
}

/* No fault bit at all: the upgrade at 64 fds, then EPERM, as on a host. */
static void test_regular_file_past_threshold(void)
{
    SimConfig c = replay_config(0, NULL, 0);

    check_ok(sim_run(&c, many_fds_body, NULL));
    g_assert_cmpuint(count_events(SIM_EV_POLLER, "fallback"), ==, 1);
}

static void refused_external_body(void *opaque)
{
    AioContext *ctx = aio_context_new(&error_abort);
    int fd = sim_external_fd("refused");

    (void)opaque;
    sim_external_at(fd, sim_now_ns() + 1000);
    g_assert_cmpuint(poll_until_called(ctx, fd), ==, 1);
    aio_context_unref(ctx);
}

/*
 * Draws: the context's notifier watch (0: accepted), the external fd's
 * watch (1: refused), its errno (0: ENOMEM, 1: ENOSPC).
 */
static void test_tape_refusal_falls_back(void)
{
    for (uint32_t err = 0; err < 2; err++) {
        const uint32_t tape[] = { 0, 1, err };
        SimConfig c = replay_config(SIM_FAULT_WATCH_REFUSED, tape,
                                    G_N_ELEMENTS(tape));

        check_ok(sim_run(&c, refused_external_body, NULL));
        g_assert_cmpuint(count_events(SIM_EV_FAULT, "watch refused"), ==, 1);
        g_assert_cmpuint(count_events(SIM_EV_POLLER, "fallback"), ==, 1);
    }
}

/* The notifier's own watch refused (tape [1]): the context still wakes. */
static void test_notifier_refusal_falls_back(void)
{
    const uint32_t tape[] = { 1, 0 };
    SimConfig c = replay_config(SIM_FAULT_WATCH_REFUSED, tape,
                                G_N_ELEMENTS(tape));

    check_ok(sim_run(&c, refused_external_body, NULL));
    g_assert_cmpuint(count_events(SIM_EV_POLLER, "fallback"), ==, 1);
}

/* ---- fd creation ------------------------------------------------------------ */

static void context_new_fails_body(void *opaque)
{
    const char *expect = opaque;
    Error *err = NULL;
    AioContext *ctx = aio_context_new(&err);

    g_assert_null(ctx);
    g_assert_nonnull(err);
    g_assert_nonnull(strstr(error_get_pretty(err), "event notifier"));
    g_assert_nonnull(strstr(error_get_pretty(err), expect));
    error_free(err);
    /* The next try, with the tape past its end, succeeds. */
    ctx = aio_context_new(&error_abort);
    aio_context_unref(ctx);
}

static void test_context_new_fails(void)
{
    const uint32_t emfile[] = { 1, 0 }, enfile[] = { 1, 1 };
    SimConfig c = replay_config(SIM_FAULT_FD_CREATE, emfile, 2);

    check_ok(sim_run(&c, context_new_fails_body,
                     (void *)g_strerror(EMFILE)));
    c = replay_config(SIM_FAULT_FD_CREATE, enfile, 2);
    check_ok(sim_run(&c, context_new_fails_body,
                     (void *)g_strerror(ENFILE)));
}

static void notifier_init_fails_body(void *opaque)
{
    EventNotifier e;

    (void)opaque;
    g_assert_cmpint(event_notifier_init(&e, true), ==, -EMFILE);
    g_assert_false(e.initialized);
    event_notifier_cleanup(&e);     /* a no-op on a failed init */
    g_assert_cmpint(event_notifier_init(&e, true), ==, 0);
    g_assert_true(event_notifier_test_and_clear(&e));
    event_notifier_cleanup(&e);
}

static void test_notifier_init_fails(void)
{
    const uint32_t tape[] = { 1, 0 };
    SimConfig c = replay_config(SIM_FAULT_FD_CREATE, tape, 2);

    check_ok(sim_run(&c, notifier_init_fails_body, NULL));
}

/* fd handlers registered and not removed so far in this run. */
static int handlers_registered(void)
{
    size_t n;
    const SimEvent *ev = sim_trace_events(&n);
    int live = 0;

    for (size_t i = 0; i < n; i++) {
        const char *kind = sim_event_kind_name(ev[i].kind);

        live += strcmp(kind, "fd-add") == 0;
        live -= strcmp(kind, "fd-remove") == 0;
    }
    return live;
}

static int main_loop_ret;
static char main_loop_msg[256];

static void main_loop_init_body(void *opaque)
{
    Error *err = NULL;

    (void)opaque;
    main_loop_ret = qemu_init_main_loop(&err);
    main_loop_msg[0] = 0;
    if (err) {
        g_strlcpy(main_loop_msg, error_get_pretty(err), sizeof(main_loop_msg));
        error_free(err);
    }
    g_assert_false(qemu_main_loop_initialized() && main_loop_ret != 0);
    if (main_loop_ret != 0) {
        /* Nothing half-made: no handler (the signalfd's, a notifier's)
         * stays registered, and a second try (tape exhausted) works. */
        g_assert_cmpint(handlers_registered(), ==, 0);
        g_assert_cmpint(qemu_init_main_loop(&error_abort), ==, 0);
    }
    main_loop_wait(true);
    qloop_main_loop_teardown(false);
}

static void run_main_loop_init(const uint32_t *tape, size_t len)
{
    SimConfig c = replay_config(SIM_FAULT_FD_CREATE, tape, len);

    check_ok(sim_run(&c, main_loop_init_body, NULL));
}

/* Creation order: iohandler_ctx's eventfd, the signalfd, the main one's. */
static void test_main_loop_init_fails(void)
{
    const uint32_t no_signalfd[] = { 0, 1, 0 };
    const uint32_t no_main_ctx[] = { 0, 0, 1, 1 };

    run_main_loop_init(no_signalfd, G_N_ELEMENTS(no_signalfd));
    g_assert_cmpint(main_loop_ret, ==, -EMFILE);
    g_assert_nonnull(strstr(main_loop_msg, "signalfd"));

    run_main_loop_init(no_main_ctx, G_N_ELEMENTS(no_main_ctx));
    g_assert_cmpint(main_loop_ret, ==, -EMFILE);
    g_assert_nonnull(strstr(main_loop_msg, "event notifier"));
    g_assert_nonnull(strstr(main_loop_msg, g_strerror(ENFILE)));
}

/* qemu_init_main_loop() makes iohandler_ctx first, with its errp: running
 * out of fds there is the caller's Error, not an abort (QEMU's lazy
 * creation uses &error_abort). */
static void test_iohandler_ctx_fails(void)
{
    const uint32_t no_iohandler[] = { 1, 0 };

    run_main_loop_init(no_iohandler, G_N_ELEMENTS(no_iohandler));
    g_assert_cmpint(main_loop_ret, ==, -EMFILE);
    g_assert_nonnull(strstr(main_loop_msg, "event notifier"));
    g_assert_nonnull(strstr(main_loop_msg, g_strerror(EMFILE)));
}

/* ---- failed and short reads -------------------------------------------------- */

static unsigned set_seen, clear_failed;

static void notifier_cb(EventNotifier *e)
{
    if (event_notifier_test_and_clear(e)) {
        set_seen++;
    } else {
        clear_failed++;
    }
}

static void notifier_read_body(void *opaque)
{
    AioContext *ctx = aio_context_new(&error_abort);
    EventNotifier e;

    (void)opaque;
    set_seen = 0;
    g_assert_cmpint(event_notifier_init(&e, false), ==, 0);
    aio_set_event_notifier(ctx, &e, notifier_cb, NULL, NULL);
    for (int round = 0; round < 20; round++) {
        unsigned before = set_seen;

        event_notifier_set(&e);
        /* A failed read leaves the fd ready: the next poll retries. */
        for (int i = 0; i < 64 && set_seen == before; i++) {
            aio_poll(ctx, true);
        }
        g_assert_cmpuint(set_seen, ==, before + 1);
    }
    aio_set_event_notifier(ctx, &e, NULL, NULL, NULL);
    event_notifier_cleanup(&e);
    aio_context_unref(ctx);
}

static void test_eventfd_read_fails(void)
{
    unsigned fired = 0;

    clear_failed = 0;
    for (uint64_t seed = 1; seed <= 50; seed++) {
        SimConfig c = sweep_config(SIM_FAULT_READ_FAIL, seed);

        check_ok(sim_run(&c, notifier_read_body, NULL));
        fired += count_events(SIM_EV_FAULT, "eventfd read EIO");
    }
    g_assert_cmpuint(fired, >, 0);
    g_assert_cmpuint(clear_failed, >, 0);
}

static void *bh_scheduler(void *opaque)
{
    qemu_bh_schedule(opaque);
    return NULL;
}

static unsigned bh_runs;

static void count_bh(void *opaque)
{
    (void)opaque;
    bh_runs++;
}

/* The context's own notifier failing to clear: the cross-thread wake-up
 * still arrives (a hang would be the verdict). */
static void cross_thread_body(void *opaque)
{
    AioContext *ctx = aio_context_new(&error_abort);
    QEMUBH *bh = aio_bh_new(ctx, count_bh, NULL);

    (void)opaque;
    for (int round = 0; round < 10; round++) {
        QemuThread t;

        bh_runs = 0;
        qemu_thread_create(&t, "sched", bh_scheduler, bh,
                           QEMU_THREAD_JOINABLE);
        while (bh_runs == 0) {
            aio_poll(ctx, true);
        }
        qemu_thread_join(&t);
    }
    qemu_bh_delete(bh);
    aio_poll(ctx, false);
    aio_context_unref(ctx);
}

static void test_notifier_read_fails_cross_thread(void)
{
    unsigned fired = 0;

    for (uint64_t seed = 1; seed <= 50; seed++) {
        SimConfig c = sweep_config(SIM_FAULT_READ_FAIL, seed);

        check_ok(sim_run(&c, cross_thread_body, NULL));
        fired += count_events(SIM_EV_FAULT, "eventfd read EIO");
    }
    g_assert_cmpuint(fired, >, 0);
}

static unsigned sigio_runs;

static void on_sigio(int signo)
{
    (void)signo;
    sigio_runs++;
}

static void signal_read_body(void *opaque)
{
    (void)opaque;
    g_assert_cmpint(qemu_init_main_loop(&error_abort), ==, 0);
    for (int round = 0; round < 5; round++) {
        unsigned before = sigio_runs;

        sim_raise_signal(SIGIO);
        for (int i = 0; i < 64 && sigio_runs == before; i++) {
            main_loop_wait(false);
        }
        g_assert_cmpuint(sigio_runs, ==, before + 1);
    }
    qloop_main_loop_teardown(false);
}

static void test_signalfd_read_fails(void)
{
    struct sigaction sa = { .sa_handler = on_sigio }, old;
    unsigned fired = 0;

    sigemptyset(&sa.sa_mask);
    g_assert_cmpint(sigaction(SIGIO, &sa, &old), ==, 0);
    for (uint64_t seed = 1; seed <= 20; seed++) {
        SimConfig c = sweep_config(SIM_FAULT_READ_FAIL, seed);

        sigio_runs = 0;
        check_ok(sim_run(&c, signal_read_body, NULL));
        fired += count_events(SIM_EV_FAULT, "signalfd read failed");
    }
    g_assert_cmpuint(fired, >, 0);
    sigaction(SIGIO, &old, NULL);
}

typedef struct {
    int fd;
    GString *got;
} Reader;

static void pipe_read_cb(void *opaque)
{
    Reader *r = opaque;
    char buf[8];
    long n = sim_read(r->fd, buf, sizeof(buf));

    /* EINTR (READ_FAIL) and EAGAIN: nothing taken, try next round. */
    if (n > 0) {
        g_string_append_len(r->got, buf, n);
    }
}

static void short_read_body(void *opaque)
{
    AioContext *ctx = aio_context_new(&error_abort);
    static const char text[] = "the quick brown fox jumps";
    Reader r = { .got = g_string_new("") };
    int p[2];

    (void)opaque;
    g_assert_cmpint(sim_pipe(p, 64), ==, 0);
    r.fd = p[0];
    aio_set_fd_handler(ctx, p[0], pipe_read_cb, NULL, NULL, NULL, &r);
    g_assert_cmpint(sim_write(p[1], text, sizeof(text) - 1), ==,
                    sizeof(text) - 1);
    for (int i = 0; i < 200 && r.got->len < sizeof(text) - 1; i++) {
        aio_poll(ctx, true);
    }
    g_assert_cmpstr(r.got->str, ==, text);
    aio_set_fd_handler(ctx, p[0], NULL, NULL, NULL, NULL, NULL);
    sim_close(p[0]);
    sim_close(p[1]);
    g_string_free(r.got, TRUE);
    aio_context_unref(ctx);
}

static void test_short_and_failed_pipe_reads(void)
{
    unsigned shorts = 0, fails = 0;

    for (uint64_t seed = 1; seed <= 30; seed++) {
        SimConfig c = sweep_config(SIM_FAULT_SHORT_READ | SIM_FAULT_READ_FAIL,
                                   seed);

        check_ok(sim_run(&c, short_read_body, NULL));
        shorts += count_events(SIM_EV_FAULT, "short read");
        fails += count_events(SIM_EV_FAULT, "read EINTR");
    }
    g_assert_cmpuint(shorts, >, 0);
    g_assert_cmpuint(fails, >, 0);
}

/* ---- EINTR in glib's poll --------------------------------------------------- */

static unsigned timer_fired;

static void timer_cb(void *opaque)
{
    (void)opaque;
    timer_fired++;
}

static void gpoll_eintr_body(void *opaque)
{
    GMainContext *gctx = g_main_context_new();
    AioContext *ctx = aio_context_new(&error_abort);
    GSource *src = aio_get_g_source(ctx);
    QEMUTimer *t = aio_timer_new(ctx, QEMU_CLOCK_VIRTUAL, SCALE_MS, timer_cb,
                                 NULL);
    int iterations = 0;

    (void)opaque;
    qloop_g_main_context_use_seam(gctx);
    g_source_attach(src, gctx);
    timer_fired = 0;
    timer_mod(t, qemu_clock_get_ms(QEMU_CLOCK_VIRTUAL) + 5);
    /* EINTR ends a blocking iteration early, with nothing dispatched. */
    while (!timer_fired && iterations++ < 200) {
        g_main_context_iteration(gctx, TRUE);
    }
    g_assert_cmpuint(timer_fired, ==, 1);
    timer_free(t);
    g_source_destroy(src);
    g_source_unref(src);
    aio_context_unref(ctx);
    g_main_context_unref(gctx);
}

static void test_gpoll_eintr(void)
{
    unsigned fired = 0;

    for (uint64_t seed = 1; seed <= 30; seed++) {
        SimConfig c = sweep_config(SIM_FAULT_EINTR, seed);

        check_ok(sim_run(&c, gpoll_eintr_body, NULL));
        fired += count_events(SIM_EV_FAULT, "poll EINTR");
    }
    g_assert_cmpuint(fired, >, 0);
}

/* ---- every seam fault under the depth-first explorer ------------------------ */

typedef struct {
    AioContext *ctx;
    int pipe_fds[2];
    GString *got;
    unsigned bh_runs;
} Explored;

static void explored_bh(void *opaque)
{
    Explored *x = opaque;

    x->bh_runs++;
}

static void explored_read(void *opaque)
{
    Explored *x = opaque;
    char buf[4];
    long n = sim_read(x->pipe_fds[0], buf, sizeof(buf));

    if (n > 0) {
        g_string_append_len(x->got, buf, n);
    }
}

static void *explored_writer(void *opaque)
{
    Explored *x = opaque;

    sim_write(x->pipe_fds[1], "abcdef", 6);
    aio_bh_schedule_oneshot(x->ctx, explored_bh, x);
    return NULL;
}

static unsigned explored_no_ctx;

/*
 * A context, a pipe handler fed by another thread and a oneshot BH: every
 * seam fault may fire anywhere, and each run must still see all six bytes
 * in order and the BH once — or, when the context cannot be made, NULL and
 * an Error.  A hang, a panic or a wrong result is a failed run.
 */
static void explored_body(void *opaque)
{
    Explored x = { .got = g_string_new("") };
    Error *err = NULL;
    QemuThread t;

    (void)opaque;
    x.ctx = aio_context_new(&err);
    if (!x.ctx) {
        g_assert_nonnull(err);
        error_free(err);
        g_string_free(x.got, TRUE);
        explored_no_ctx++;
        return;
    }
    sim_pipe(x.pipe_fds, 16);
    aio_set_fd_handler(x.ctx, x.pipe_fds[0], explored_read, NULL, NULL, NULL,
                       &x);
    qemu_thread_create(&t, "writer", explored_writer, &x,
                       QEMU_THREAD_JOINABLE);
    while (x.got->len < 6 || x.bh_runs == 0) {
        aio_poll(x.ctx, true);
    }
    qemu_thread_join(&t);
    g_assert_cmpstr(x.got->str, ==, "abcdef");
    g_assert_cmpuint(x.bh_runs, ==, 1);
    aio_set_fd_handler(x.ctx, x.pipe_fds[0], NULL, NULL, NULL, NULL, NULL);
    sim_close(x.pipe_fds[0]);
    sim_close(x.pipe_fds[1]);
    g_string_free(x.got, TRUE);
    aio_context_unref(x.ctx);
}

static void test_seam_faults_explored(void)
{
    SimConfig c, run;
    unsigned fallbacks = 0;

    sim_config_default(&c);
    c.faults = SIM_FAULT_SEAM;
    c.preemption_bound = 3;
    c.trace = true;
    explored_no_ctx = 0;
    sim_dfs_begin(&c);
    while (sim_dfs_next_run(&run)) {
        check_ok(sim_run(&run, explored_body, NULL));
        fallbacks += count_events(SIM_EV_POLLER, "fallback") > 0;
        g_assert_cmpuint(sim_dfs_runs(), <, 100000);
    }
    g_test_message("%" G_GUINT64_FORMAT " runs, %u without a context, "
                   "%u with a fallback", sim_dfs_runs(), explored_no_ctx,
                   fallbacks);
    g_assert_cmpuint(explored_no_ctx, >, 0);
    g_assert_cmpuint(fallbacks, >, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sim/faults/watch/regular-file",
                    test_regular_file_falls_back);
    g_test_add_func("/sim/faults/watch/regular-file-past-64",
                    test_regular_file_past_threshold);
    g_test_add_func("/sim/faults/watch/tape-refusal",
                    test_tape_refusal_falls_back);
    g_test_add_func("/sim/faults/watch/notifier-refused",
                    test_notifier_refusal_falls_back);
    g_test_add_func("/sim/faults/create/aio-context-new",
                    test_context_new_fails);
    g_test_add_func("/sim/faults/create/event-notifier-init",
                    test_notifier_init_fails);
    g_test_add_func("/sim/faults/create/main-loop-init",
                    test_main_loop_init_fails);
    g_test_add_func("/sim/faults/create/iohandler-ctx",
                    test_iohandler_ctx_fails);
    g_test_add_func("/sim/faults/read/eventfd", test_eventfd_read_fails);
    g_test_add_func("/sim/faults/read/eventfd-cross-thread",
                    test_notifier_read_fails_cross_thread);
    g_test_add_func("/sim/faults/read/signalfd", test_signalfd_read_fails);
    g_test_add_func("/sim/faults/read/pipe-short-and-failed",
                    test_short_and_failed_pipe_reads);
    g_test_add_func("/sim/faults/eintr/gpoll", test_gpoll_eintr);
    g_test_add_func("/sim/faults/explored", test_seam_faults_explored);
    return g_test_run();
}
