/*
 * tests/test-thread-pool.c — the thread pool (semantics.md "API surface",
 * thread pool, and the thread-pool items of QEMU's checklist).
 *
 * Method: each case runs in its own home thread with its own AioContext
 * made current there (qemu_set_current_aio_context), so each case gets a
 * fresh pool and thread_pool_submit_aio() submits to it, as QEMU code
 * does.  Work functions record the thread they ran on and can block on a
 * gate the test opens; completion callbacks record their thread, whether
 * they ran inside aio_poll() (a flag set around every aio_poll call), and
 * the return value.  Cancellation limits the pool to one worker
 * (aio_context_set_thread_pool_params(ctx, 0, 1)) and keeps it busy with a
 * gated job, so later jobs are certainly still queued when cancelled.
 * Every wait is bounded: aio_poll loops check a g_get_monotonic_time()
 * deadline, and a watchdog aborts a case whose home thread hangs.
 */
#include <errno.h>
#include <glib.h>
#include <pthread.h>
#include <stdbool.h>

#include "qloop-test.h"

#define DEADLINE_S 20

/* A gate work functions wait on until the test opens it. */
/* (pthread, not GMutex: TSan sees pthread synchronization, not glib's.) */
typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool open;
    int started;
} Gate;

static void gate_init(Gate *g)
{
    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->cond, NULL);
    g->open = false;
    g->started = 0;
}

static void gate_clear(Gate *g)
{
    pthread_cond_destroy(&g->cond);
    pthread_mutex_destroy(&g->lock);
}

static void gate_open(Gate *g)
{
    pthread_mutex_lock(&g->lock);
    g->open = true;
    pthread_cond_broadcast(&g->cond);
    pthread_mutex_unlock(&g->lock);
}

/* Wait until n jobs passed through gate_pass (started); false on timeout. */
static bool gate_wait_started(Gate *g, int n)
{
    int64_t deadline_us = g_get_monotonic_time() + DEADLINE_S * G_USEC_PER_SEC;
    bool ok;

    pthread_mutex_lock(&g->lock);
    while (g->started < n && g_get_monotonic_time() < deadline_us) {
        pthread_mutex_unlock(&g->lock);
        g_thread_yield();
        pthread_mutex_lock(&g->lock);
    }
    ok = g->started >= n;
    pthread_mutex_unlock(&g->lock);
    return ok;
}

static void gate_pass(Gate *g)
{
    pthread_mutex_lock(&g->lock);
    g->started++;
    while (!g->open) {
        pthread_cond_wait(&g->cond, &g->lock);
    }
    pthread_mutex_unlock(&g->lock);
}

typedef struct {
    int ret;                /* what the work returns */
    Gate *gate;             /* NULL: no waiting */
    GThread *home;          /* the submitting thread */
    /* Written by the worker, read after completion. */
    bool ran;
    bool ran_on_worker;
    /* Written by the completion callback (home thread). */
    int completions;
    int cb_ret;
    bool cb_in_home;
    bool cb_in_poll;
} Job;

static bool in_aio_poll;    /* per case, home thread only */
static int completed_total; /* completions in the running case (home) */

static int job_func(void *opaque)
{
    Job *job = opaque;

    qt_store(&job->ran, true);
    qt_store(&job->ran_on_worker, g_thread_self() != job->home);
    if (job->gate) {
        gate_pass(job->gate);
    }
    return job->ret;
}

static void job_done(void *opaque, int ret)
{
    Job *job = opaque;

    job->completions++;
    completed_total++;
    job->cb_ret = ret;
    job->cb_in_home = g_thread_self() == job->home;
    job->cb_in_poll = in_aio_poll;
}

static bool poll_blocking(AioContext *ctx)
{
    bool progress;

    in_aio_poll = true;
    progress = aio_poll(ctx, true);
    in_aio_poll = false;
    return progress;
}

/* Poll until *count reaches want; fails (not hangs) after the deadline. */
static void poll_until(AioContext *ctx, const int *count, int want)
{
    int64_t deadline_us = g_get_monotonic_time() + DEADLINE_S * G_USEC_PER_SEC;

    while (*count < want) {
        qt_assert_before(deadline_us, "thread-pool completion");
        poll_blocking(ctx);
    }
    g_assert_cmpint(*count, ==, want);
}

static BlockAIOCB *submit(Job *job, int ret, Gate *gate)
{
    job->ret = ret;
    job->gate = gate;
    job->home = g_thread_self();
    return thread_pool_submit_aio(job_func, job, job_done, job);
}

static void check_completed_once(Job *job, int ret)
{
    g_assert_cmpint(job->completions, ==, 1);
    g_assert_cmpint(job->cb_ret, ==, ret);
    g_assert_true(job->cb_in_home);
    g_assert_true(job->cb_in_poll);
}

/* ---- running a case in its own home thread ---------------------------- */

typedef void CaseFunc(AioContext *ctx);

typedef struct {
    CaseFunc *body;
    const char *name;
} Case;

static gpointer case_thread(gpointer opaque)
{
    Case *c = opaque;
    AioContext *ctx = aio_context_new(&error_abort);

    qemu_set_current_aio_context(ctx);
    g_assert_true(qemu_get_current_aio_context() == ctx);
    completed_total = 0;
    c->body(ctx);
    /* Nothing may complete after the case: one more poll finds nothing. */
    g_assert_false(aio_poll(ctx, false));
    aio_context_unref(ctx);     /* joins the pool's workers */
    return NULL;
}

static void run_case(gconstpointer data)
{
    const Case *c = data;
    QtWatchdog wd;

    qt_watchdog_start(&wd, c->name, 2 * DEADLINE_S + 10);
    g_thread_join(g_thread_new("home", case_thread, (gpointer)c));
    qt_watchdog_stop(&wd);
}

/* ---- cases -------------------------------------------------------------- */

/*
 * Work runs on a worker thread; the completion callback runs in the home
 * thread, from aio_poll, with the work's return value, exactly once — and
 * not before the home thread polls, even if the work is long done.
 */
static void case_submit(AioContext *ctx)
{
    Gate gate;
    Job job = { 0 };

    gate_init(&gate);
    submit(&job, 42, &gate);
    g_assert_true(gate_wait_started(&gate, 1));
    g_assert_true(qt_load(&job.ran));
    gate_open(&gate);
    g_assert_cmpint(job.completions, ==, 0);
    poll_until(ctx, &job.completions, 1);
    check_completed_once(&job, 42);
    g_assert_true(qt_load(&job.ran_on_worker));
    g_assert_false(aio_poll(ctx, false));
    g_assert_cmpint(job.completions, ==, 1);
    gate_clear(&gate);
}

typedef struct {
    Job job;
    int index;
} ManyJob;

static int many_done;

static void many_cb(void *opaque, int ret)
{
    ManyJob *mj = opaque;

    job_done(&mj->job, ret);
    many_done++;
}

/* 100 submissions all complete, each once, each with its own value. */
static void case_submit_many(AioContext *ctx)
{
    enum { N = 100 };
    ManyJob *jobs = g_new0(ManyJob, N);

    many_done = 0;
    for (int i = 0; i < N; i++) {
        jobs[i].index = i;
        jobs[i].job.ret = 1000 + i;
        jobs[i].job.home = g_thread_self();
        thread_pool_submit_aio(job_func, &jobs[i].job, many_cb, &jobs[i]);
    }
    poll_until(ctx, &many_done, N);
    for (int i = 0; i < N; i++) {
        check_completed_once(&jobs[i].job, 1000 + i);
        g_assert_true(qt_load(&jobs[i].job.ran_on_worker));
    }
    /*
     * A worker schedules the completion BH after marking its job done, so
     * an earlier run of the BH may complete that job first: the late
     * schedule then runs the BH once more, finding nothing — progress, but
     * no callback.  Drain, and check no completion ran twice.
     */
    for (int i = 0; i < 16 && aio_poll(ctx, false); i++) {
    }
    g_assert_cmpint(many_done, ==, N);
    g_free(jobs);
}

/*
 * Cancelling jobs that have not started: they complete with -ECANCELED
 * (from aio_poll, once) and their work never runs; the others are
 * unaffected.  One worker, held by a gated job, keeps them queued.
 */
static void case_cancel_queued(AioContext *ctx)
{
    Gate gate;
    Job blocker = { 0 }, v[3] = { { 0 } };
    BlockAIOCB *acb[3];

    aio_context_set_thread_pool_params(ctx, 0, 1, &error_abort);
    gate_init(&gate);
    submit(&blocker, 7, &gate);
    g_assert_true(gate_wait_started(&gate, 1));
    for (int i = 0; i < 3; i++) {
        acb[i] = submit(&v[i], 10 + i, NULL);
    }
    bdrv_aio_cancel_async(acb[1]);
    g_assert_cmpint(v[1].completions, ==, 0);   /* only from aio_poll */
    poll_until(ctx, &v[1].completions, 1);
    check_completed_once(&v[1], -ECANCELED);
    g_assert_false(qt_load(&v[1].ran));
    g_assert_cmpint(v[0].completions + v[2].completions, ==, 0);
    g_assert_cmpint(blocker.completions, ==, 0);

    gate_open(&gate);
    poll_until(ctx, &completed_total, 4);
    check_completed_once(&blocker, 7);
    check_completed_once(&v[0], 10);
    check_completed_once(&v[2], 12);
    g_assert_cmpint(v[1].completions, ==, 1);
    g_assert_false(qt_load(&v[1].ran));
    gate_clear(&gate);
}

/* Cancelling a started job: it runs to the end and completes normally. */
static void case_cancel_started(AioContext *ctx)
{
    Gate gate;
    Job job = { 0 };
    BlockAIOCB *acb;

    aio_context_set_thread_pool_params(ctx, 0, 1, &error_abort);
    gate_init(&gate);
    acb = submit(&job, 99, &gate);
    g_assert_true(gate_wait_started(&gate, 1));
    bdrv_aio_cancel_async(acb);
    /* Not aborted mid-run, not completed early. */
    g_assert_false(aio_poll(ctx, false));
    g_assert_cmpint(job.completions, ==, 0);
    gate_open(&gate);
    poll_until(ctx, &job.completions, 1);
    check_completed_once(&job, 99);
    gate_clear(&gate);
}

/* bdrv_aio_cancel waits (polling) until a queued job completed cancelled. */
static void case_cancel_sync(AioContext *ctx)
{
    Gate gate;
    Job blocker = { 0 }, victim = { 0 };
    BlockAIOCB *acb;

    aio_context_set_thread_pool_params(ctx, 0, 1, &error_abort);
    gate_init(&gate);
    submit(&blocker, 1, &gate);
    g_assert_true(gate_wait_started(&gate, 1));
    acb = submit(&victim, 2, NULL);
    in_aio_poll = true;         /* bdrv_aio_cancel polls on our behalf */
    bdrv_aio_cancel(acb);
    in_aio_poll = false;
    check_completed_once(&victim, -ECANCELED);
    g_assert_false(qt_load(&victim.ran));
    gate_open(&gate);
    poll_until(ctx, &blocker.completions, 1);
    check_completed_once(&blocker, 1);
    gate_clear(&gate);
}

/* Completions also run from the GSource dispatch path. */
static void case_gsource_completion(AioContext *ctx)
{
    GMainContext *gctx = g_main_context_new();
    GSource *src = aio_get_g_source(ctx);
    Job job = { 0 };
    int64_t deadline_us = g_get_monotonic_time() + DEADLINE_S * G_USEC_PER_SEC;

    g_source_attach(src, gctx);
    submit(&job, 5, NULL);
    while (job.completions == 0) {
        qt_assert_before(deadline_us, "thread-pool GSource completion");
        in_aio_poll = true;     /* "inside the loop" for job_done */
        g_main_context_iteration(gctx, TRUE);
        in_aio_poll = false;
    }
    check_completed_once(&job, 5);
    g_source_destroy(src);
    g_source_unref(src);
    g_main_context_unref(gctx);
}

int main(int argc, char **argv)
{
    static const Case cases[] = {
        { case_submit, "/thread-pool/submit" },
        { case_submit_many, "/thread-pool/submit-many" },
        { case_cancel_queued, "/thread-pool/cancel/queued" },
        { case_cancel_started, "/thread-pool/cancel/started" },
        { case_cancel_sync, "/thread-pool/cancel/sync" },
        { case_gsource_completion, "/thread-pool/gsource-completion" },
    };

    g_test_init(&argc, &argv, NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_test_add_data_func(cases[i].name, &cases[i], run_case);
    }
    return g_test_run();
}
