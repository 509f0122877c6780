/*
 * tests/test-multithread.c — BHs and aio_notify across real threads
 * (semantics.md: scheduling from any thread, the aio_notify protocol's
 * "no lost wake-up", and the multithread items of QEMU's checklist).
 *
 * Method: a home thread blocks in aio_poll(ctx, true) while other threads
 * schedule into its context: oneshots (every one must run exactly once),
 * per-thread QEMUBHs in a ping-pong (each schedule waits for its run, so
 * every one of them needs a wake-up of the blocked home thread: a lost
 * wake-up is a hang) and bare aio_notify calls.  Then several iothreads,
 * each with its own context, run oneshots scheduled from outside and pass
 * a token around a ring of contexts.  Counts are exact.  Hangs are bounded
 * by a watchdog thread and loops by g_get_monotonic_time() deadlines, so a
 * lost wake-up fails the test with a message.  Shared data is accessed
 * with atomics, so the binary is clean under TSan.
 */
#include <glib.h>
#include <stdbool.h>

#include "qloop-test.h"

#define N_THREADS 4
#define DEADLINE_S 20

static int64_t deadline_after(int seconds)
{
    return g_get_monotonic_time() + (int64_t)seconds * G_USEC_PER_SEC;
}

/* ---- many threads into one context ------------------------------------- */

#define ONESHOTS_PER_THREAD 2000
#define PINGS_PER_THREAD 200
#define NOTIFIES_PER_THREAD 500

typedef struct Home Home;

typedef struct {
    Home *home;
    int index;
    QEMUBH *ping_bh;
    int oneshot_runs;       /* written by the home thread only */
    int ping_runs;          /* atomic: the sender waits on it */
    GThread *thread;
} Sender;

struct Home {
    AioContext *ctx;
    GThread *home_thread;
    Sender senders[N_THREADS];
    int oneshots_done;      /* atomic */
    int pings_done;         /* atomic */
    bool wrong_thread;      /* a callback ran outside the home thread */
    bool sender_timed_out;
};

static void oneshot_cb(void *opaque)
{
    Sender *s = opaque;

    if (g_thread_self() != s->home->home_thread) {
        qt_store(&s->home->wrong_thread, true);
    }
    s->oneshot_runs++;
    qt_inc(&s->home->oneshots_done);
}

static void ping_cb(void *opaque)
{
    Sender *s = opaque;

    if (g_thread_self() != s->home->home_thread) {
        qt_store(&s->home->wrong_thread, true);
    }
    qt_inc(&s->ping_runs);
    qt_inc(&s->home->pings_done);
}

static gpointer sender_thread(gpointer opaque)
{
    Sender *s = opaque;
    AioContext *ctx = s->home->ctx;
    int64_t deadline_us = deadline_after(DEADLINE_S);

    for (int i = 0; i < ONESHOTS_PER_THREAD; i++) {
        aio_bh_schedule_oneshot(ctx, oneshot_cb, s);
        if (i % (ONESHOTS_PER_THREAD / NOTIFIES_PER_THREAD) == 0) {
            aio_notify(ctx);
        }
    }
    /* Ping-pong: each schedule must wake the home thread by itself. */
    for (int i = 1; i <= PINGS_PER_THREAD; i++) {
        qemu_bh_schedule(s->ping_bh);
        while (qt_load(&s->ping_runs) < i) {
            if (g_get_monotonic_time() >= deadline_us) {
                qt_store(&s->home->sender_timed_out, true);
                return NULL;
            }
            g_thread_yield();
        }
    }
    return NULL;
}

static void test_many_threads_one_context(void)
{
    Home h = { 0 };
    QtWatchdog wd;
    int64_t deadline_us = deadline_after(DEADLINE_S);
    const int oneshots = N_THREADS * ONESHOTS_PER_THREAD;
    const int pings = N_THREADS * PINGS_PER_THREAD;

    h.ctx = aio_context_new(&error_abort);
    h.home_thread = g_thread_self();
    aio_poll(h.ctx, false);     /* this thread is the home thread */
    for (int i = 0; i < N_THREADS; i++) {
        h.senders[i].home = &h;
        h.senders[i].index = i;
        h.senders[i].ping_bh = aio_bh_new(h.ctx, ping_cb, &h.senders[i]);
    }
    qt_watchdog_start(&wd, "many threads into one context", DEADLINE_S + 10);
    for (int i = 0; i < N_THREADS; i++) {
        h.senders[i].thread = g_thread_new("sender", sender_thread,
                                           &h.senders[i]);
    }
    while (qt_load(&h.oneshots_done) < oneshots ||
           qt_load(&h.pings_done) < pings) {
        qt_assert_before(deadline_us, "many threads into one context");
        g_assert_false(qt_load(&h.sender_timed_out));
        aio_poll(h.ctx, true);
    }
    for (int i = 0; i < N_THREADS; i++) {
        g_thread_join(h.senders[i].thread);
    }
    qt_watchdog_stop(&wd);

    g_assert_false(h.sender_timed_out);
    g_assert_false(h.wrong_thread);
    for (int i = 0; i < N_THREADS; i++) {
        g_assert_cmpint(h.senders[i].oneshot_runs, ==, ONESHOTS_PER_THREAD);
        g_assert_cmpint(h.senders[i].ping_runs, ==, PINGS_PER_THREAD);
    }
    /* Quiescent: nothing ran twice, nothing is left. */
    while (aio_poll(h.ctx, false)) {
        qt_assert_before(deadline_us, "quiescence");
    }
    g_assert_cmpint(h.oneshots_done, ==, oneshots);
    g_assert_cmpint(h.pings_done, ==, pings);
    for (int i = 0; i < N_THREADS; i++) {
        qemu_bh_delete(h.senders[i].ping_bh);
    }
    aio_context_unref(h.ctx);
}

/* ---- iothreads ------------------------------------------------------------ */

typedef struct {
    AioContext *ctx;
    GThread *thread;
    bool stopping;          /* atomic */
    int runs;               /* atomic: oneshots run in this context */
    bool wrong_context;     /* atomic */
    bool ready;             /* atomic */
} IOThread;

static gpointer iothread_run(gpointer opaque)
{
    IOThread *t = opaque;

    qemu_set_current_aio_context(t->ctx);
    qt_store(&t->ready, true);
    while (!qt_load(&t->stopping)) {
        aio_poll(t->ctx, true);
    }
    /* Run what was scheduled before the stop, then leave. */
    while (aio_poll(t->ctx, false)) {
    }
    return NULL;
}

static void iothread_start(IOThread *t)
{
    t->ctx = aio_context_new(&error_abort);
    t->stopping = false;
    t->runs = 0;
    t->wrong_context = false;
    t->ready = false;
    t->thread = g_thread_new("iothread", iothread_run, t);
    while (!qt_load(&t->ready)) {
        g_thread_yield();
    }
}

static void stop_cb(void *opaque)
{
    qt_store(&((IOThread *)opaque)->stopping, true);
}

static void iothread_stop(IOThread *t)
{
    aio_bh_schedule_oneshot(t->ctx, stop_cb, t);
    g_thread_join(t->thread);
    aio_context_unref(t->ctx);
}

static void count_run_cb(void *opaque)
{
    IOThread *t = opaque;

    if (qemu_get_current_aio_context() != t->ctx) {
        qt_store(&t->wrong_context, true);
    }
    qt_inc(&t->runs);
}

/* Several iothreads, each runs the oneshots scheduled into its context. */
static void test_iothreads_oneshot(void)
{
    IOThread t[N_THREADS];
    QtWatchdog wd;
    int64_t deadline_us = deadline_after(DEADLINE_S);

    qt_watchdog_start(&wd, "iothreads oneshot", DEADLINE_S + 10);
    for (int i = 0; i < N_THREADS; i++) {
        iothread_start(&t[i]);
    }
    for (int round = 1; round <= 50; round++) {
        for (int i = 0; i < N_THREADS; i++) {
            aio_bh_schedule_oneshot(t[i].ctx, count_run_cb, &t[i]);
        }
        /* Wait for this round before the next: each one needs a wake-up. */
        for (int i = 0; i < N_THREADS; i++) {
            while (qt_load(&t[i].runs) < round) {
                qt_assert_before(deadline_us, "iothread oneshot");
                g_thread_yield();
            }
        }
    }
    for (int i = 0; i < N_THREADS; i++) {
        iothread_stop(&t[i]);
        g_assert_cmpint(t[i].runs, ==, 50);
        g_assert_false(t[i].wrong_context);
    }
    qt_watchdog_stop(&wd);
}

/* ---- cross-context scheduling ------------------------------------------- */

#define HOPS 4000

typedef struct {
    IOThread *threads;
    int hops_left;          /* only touched by the token's current holder */
    int hops_by_ctx[N_THREADS];
    bool wrong_context;
    bool done;              /* atomic */
} Ring;

typedef struct {
    Ring *ring;
    int at;                 /* index of the context this hop runs in */
} Token;

static Token tokens[N_THREADS];

/* Runs in context `at`, then schedules the next hop into the next one. */
static void hop_cb(void *opaque)
{
    Token *tok = opaque;
    Ring *ring = tok->ring;
    int next = (tok->at + 1) % N_THREADS;

    if (qemu_get_current_aio_context() != ring->threads[tok->at].ctx) {
        ring->wrong_context = true;
    }
    ring->hops_by_ctx[tok->at]++;
    if (--ring->hops_left == 0) {
        qt_store(&ring->done, true);
        return;
    }
    aio_bh_schedule_oneshot(ring->threads[next].ctx, hop_cb, &tokens[next]);
}

/*
 * A token passed around a ring of iothread contexts with oneshots: every
 * hop needs a cross-thread schedule and wake-up; exact per-context counts.
 */
static void test_cross_context_ring(void)
{
    IOThread t[N_THREADS];
    Ring ring = { .threads = t, .hops_left = HOPS };
    QtWatchdog wd;
    int64_t deadline_us = deadline_after(DEADLINE_S);

    qt_watchdog_start(&wd, "cross-context ring", DEADLINE_S + 10);
    for (int i = 0; i < N_THREADS; i++) {
        iothread_start(&t[i]);
        tokens[i].ring = &ring;
        tokens[i].at = i;
    }
    aio_bh_schedule_oneshot(t[0].ctx, hop_cb, &tokens[0]);
    while (!qt_load(&ring.done)) {
        qt_assert_before(deadline_us, "cross-context ring");
        g_thread_yield();
    }
    for (int i = 0; i < N_THREADS; i++) {
        iothread_stop(&t[i]);
    }
    qt_watchdog_stop(&wd);
    g_assert_false(ring.wrong_context);
    for (int i = 0; i < N_THREADS; i++) {
        g_assert_cmpint(ring.hops_by_ctx[i], ==, HOPS / N_THREADS);
    }
}

/*
 * Every iothread schedules oneshots into every other context while all of
 * them run: each context runs exactly what was sent to it.
 */
typedef struct {
    IOThread *threads;
    int from;
    int per_target;
} Spray;

static void spray_cb(void *opaque)
{
    Spray *sp = opaque;

    for (int k = 0; k < sp->per_target; k++) {
        for (int i = 0; i < N_THREADS; i++) {
            aio_bh_schedule_oneshot(sp->threads[i].ctx, count_run_cb,
                                    &sp->threads[i]);
        }
    }
}

static void test_cross_context_spray(void)
{
    IOThread t[N_THREADS];
    Spray sp[N_THREADS];
    QtWatchdog wd;
    int64_t deadline_us = deadline_after(DEADLINE_S);
    const int per_target = 500;
    const int want = N_THREADS * per_target;

    qt_watchdog_start(&wd, "cross-context spray", DEADLINE_S + 10);
    for (int i = 0; i < N_THREADS; i++) {
        iothread_start(&t[i]);
    }
    for (int i = 0; i < N_THREADS; i++) {
        sp[i] = (Spray){ .threads = t, .from = i, .per_target = per_target };
        /* The sprays run inside the iothreads, concurrently. */
        aio_bh_schedule_oneshot(t[i].ctx, spray_cb, &sp[i]);
    }
    for (int i = 0; i < N_THREADS; i++) {
        while (qt_load(&t[i].runs) < want) {
            qt_assert_before(deadline_us, "cross-context spray");
            g_thread_yield();
        }
    }
    for (int i = 0; i < N_THREADS; i++) {
        iothread_stop(&t[i]);
        g_assert_cmpint(t[i].runs, ==, want);
        g_assert_false(t[i].wrong_context);
    }
    qt_watchdog_stop(&wd);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    g_test_add_func("/multithread/one-context/many-threads",
                    test_many_threads_one_context);
    g_test_add_func("/multithread/iothreads/oneshot", test_iothreads_oneshot);
    g_test_add_func("/multithread/cross-context/ring", test_cross_context_ring);
    g_test_add_func("/multithread/cross-context/spray",
                    test_cross_context_spray);

    return g_test_run();
}
