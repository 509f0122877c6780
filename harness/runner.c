/*
 * harness/runner.c — execute a Scenario on the simulated loop core.
 *
 * Method: simulated thread 1 plays the scenario's home thread: it sets up
 * the context (a fresh AioContext, or the main loop), creates every object,
 * starts the other threads, runs its own body, joins them, and tears
 * everything down in order so the context's finalizer can check that
 * nothing leaked.  Callbacks run their bodies with the same executor as
 * threads.  Each operation is announced in the trace as a user event
 * ("schedule A"), so the story of a run reads like the scenario.  The
 * reference model (model.c) watches every event as it happens.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>

#include "qloop/qloop.h"
#include "qloop/coroutine.h"
#include "../loop/os.h"
#include "model.h"
#include "model-co.h"
#include "runner.h"
#include "crash.h"

typedef struct RunState RunState;

typedef struct {
    RunState *rs;
    ScnObjKind kind;
    uint8_t index;
    bool alt;                   /* FD: the alternate body */
} CbCtx;

/*
 * One submitted request of a job, from thread_pool_submit_aio() to its
 * completion callback, which frees it.  Written and read by the home thread
 * only (submit, cancel and completion all run there); the pool's worker
 * reads cb, which does not change.
 */
typedef struct JobReq {
    CbCtx *cb;
    BlockAIOCB *acb;
    uint64_t seq;               /* submission number, from 1 */
    bool cancelled;             /* cancel_job asked for it */
    bool work_done;             /* the worker ran its work (worker writes;
                                   read only once every thread is blocked) */
    struct JobReq *next;        /* the job's requests in flight, newest first */
} JobReq;

/*
 * The innermost wait running: aio_poll() (its sleeping is not the return
 * a qemu_notify_event() promised), bdrv_aio_cancel() of a request (which
 * sleeps only until that request completes), or neither (main_loop_wait,
 * the scenario's own waits).
 */
typedef struct InnerWait {
    bool aio_poll;
    uint8_t cancel_job;         /* with cancel_seq: the job cancelled */
    uint64_t cancel_seq;        /* its request's submission number, or 0 */
    const JobReq *cancel_nocb;  /* a request without completion callback */
    /* aio_poll(): scenario fds without io_poll the polling thread itself
     * registered before it began (bit = fd index), and each fd's io_poll
     * calls so far (polling-mode rule, fd_io_poll()). */
    uint32_t nonpoll_mine;
    uint8_t io_poll_calls[SCN_OBJECTS_MAX];
    /* AIO_WAIT_WHILE() on that iothread's context, or on the home one
     * (aio_wait_while_op()). */
    bool aio_wait_while;
    bool aio_wait_home;
    uint8_t aio_wait_io;
    /* aio_poll(): the polling thread's clock reads when it began, and the
     * scenario fds with io_poll that were readable then, their handlers
     * enabled (polling-mode rule). */
    uint64_t began_reads;
    uint32_t poll_ready_at_start;
    /* ... the scenario fds with io_poll the polling thread registered, and
     * whether a callback ran since (busy_wait_check()). */
    uint32_t poll_mine;
    bool dispatched;
    uint32_t thread;
} InnerWait;

struct RunState {
    const Scenario *s;
    AioContext *ctx;
    Model *model;
    QEMUBH *bh[SCN_OBJECTS_MAX];
    bool bh_deleted[SCN_OBJECTS_MAX];
    /* BH: a schedule (or schedule_idle) began since its callback last ran
     * and no cancel or delete ended since: it is owed a run — whether or
     * not the core's trace told the model of the schedule. */
    bool bh_owed[SCN_OBJECTS_MAX];
    int fd[SCN_OBJECTS_MAX];
    bool fd_registered[SCN_OBJECTS_MAX];
    uint32_t fd_reg_thread[SCN_OBJECTS_MAX];    /* FD: who registered it */
    int64_t clock_read_cost_ns; /* the run's SimConfig.clock_read_cost_ns */
    bool aio_wait_busy;         /* AIO_WAIT_WHILE's condition (below) */
    QEMUTimer *timer[SCN_OBJECTS_MAX];  /* NULL once the teardown freed it */
    uint64_t runs[SCN_OBJ_KIND_MAX][SCN_OBJECTS_MAX];
    CbCtx cb[SCN_OBJ_KIND_MAX][SCN_OBJECTS_MAX];
    CbCtx cb_alt[SCN_OBJECTS_MAX];
    int jobs_in_flight;
    int pool_workers;           /* the thread pools' workers started */
    JobReq *job_reqs[SCN_OBJECTS_MAX];  /* JOB: requests in flight */
    uint64_t job_seq;                   /* requests submitted so far */
    unsigned thread_index[64];  /* sim thread id -> scenario thread (+1) */
    MemReentrancyGuard guards[SCN_GUARDS_MAX];
    unsigned guard_depth[SCN_GUARDS_MAX];   /* its BHs' callbacks running */
    unsigned guard_count;       /* guards 1..guard_count are the BHs' */
    unsigned in_poll_ready[SCN_OBJECTS_MAX];    /* FD: io_poll_ready calls
                                                   running (nested: > 1) */
    /* FD: the registration whose io_poll_ready runs was replaced since it
     * began (add/replace): the new one may run in a nested poll — QEMU's
     * 6d740fb01b disables a node, not an fd. */
    bool reregistered[SCN_OBJECTS_MAX];
    /* FD with suppress (vq_*: a virtqueue behind its host notifier):
     * io_poll_begin() turned its notifications off and no io_poll_end()
     * turned them back on yet; a request raised and not yet handled; and
     * the raises so far, so that a handler that raises again keeps the new
     * request. */
    bool vq_quiet[SCN_OBJECTS_MAX];
    bool vq_pending[SCN_OBJECTS_MAX];
    uint32_t vq_raises[SCN_OBJECTS_MAX];
    bool fd_alt[SCN_OBJECTS_MAX];   /* FD: the body last registered, as of
                                       its FD_ADD event (the linearization
                                       point: threads may race to register) */
    /* FD: where fd_alt last changed, in happens-before: a dispatch that
     * did not follow it may still run the replaced callback (see
     * fd_check_current()). */
    SimMemStamp fd_alt_stamp[SCN_OBJECTS_MAX];
    int8_t registering_alt[64];     /* sim thread -> alt of the registration
                                       it is making, -1 none */
    char setup_error[160];      /* the Error that ended setup, or "" */
    bool quiesced;              /* teardown freed the objects */
    bool cut_waits;             /* waited for nothing: no more blocking */
    unsigned depth;             /* nested aio_poll/main_loop_wait calls */
    /*
     * qemu_notify_event() promises that the next main_loop_wait() returns.
     * notify_event_unconsumed: one returned while no main_loop_wait() was
     * running, and no wait has begun since.  main_loop_wait_owed: the wait
     * running now began with one unconsumed, so it must not sleep for
     * ever.  A notify during a wait may be taken by that wait or the next:
     * neither is owed (the check stays sound, not complete).
     */
    unsigned main_loop_waits;   /* main_loop_wait() calls running */
    bool notify_event_unconsumed;
    bool main_loop_wait_owed;
    InnerWait wait;             /* the innermost wait running */
    uint32_t loop_thread;       /* the main loop's thread (set it up) */
    /* Queries, clocks, main-loop timers, write handlers (section "queries"). */
    uint32_t home_thread;       /* sim thread of threads[0] */
    QEMUTimer main_timers[SCN_OBJECTS_MAX]; /* TIMER main_loop: embedded */
    int64_t timer_key[SCN_OBJECTS_MAX];     /* TIMER: its key in the model */
    /* [main_loop][clock]: a thread other than the home one arms or deletes
     * timers of that list, so the home thread's queries race with it. */
    bool list_shared[2][SCN_CLOCKS];
    bool host_jumps_elsewhere;  /* a non-home thread jumps QEMU_CLOCK_HOST */
    unsigned in_timer_cb[SCN_CLOCKS];   /* timer callbacks running (home) */
    bool fd_writable[SCN_OBJECTS_MAX];  /* FD: as the scenario set it */
    bool fd_write_due[SCN_OBJECTS_MAX]; /* FD: made writable since its
                                           io_write last ran */
    bool iohandler_made;        /* check_loop made iohandler_ctx lazily */
    bool clock_self_wait;       /* a timer callback disabled its own clock */
    unsigned clock_disabling[SCN_CLOCKS];   /* qemu_clock_enable(false) in
                                               flight, not from a callback
                                               of that clock */
    /* Coroutines (section "coroutines"). */
    CoModel *co_model;          /* NULL: run without the model */
    Coroutine *co[SCN_OBJECTS_MAX];
    uint8_t co_state[SCN_OBJECTS_MAX];  /* CoRunState */
    bool co_holds[SCN_OBJECTS_MAX];     /* holds the scenario's CoMutex */
    CoMutex co_mutex;
    CoQueue co_queue;
    QemuMutex co_queue_lock;    /* the QemuMutex form of the queue's calls */
    JobReq *co_pool_req[SCN_OBJECTS_MAX];   /* in thread_pool_submit_co() */
    bool co_finishing;          /* teardown: bodies stop, nothing starts */
    uint8_t co_ctx[SCN_OBJECTS_MAX];    /* the context each coroutine
                                           belongs to (SCN_CTX_HOME...) */
    /* Iothreads (section "iothreads"). */
    AioContext *io_ctx[SCN_IOTHREADS_MAX];
    QemuThread io_threads[SCN_IOTHREADS_MAX];
    uint32_t io_thread_id[SCN_IOTHREADS_MAX];  /* 0: not started */
    bool io_running[SCN_IOTHREADS_MAX];     /* the iothread's own flag */
    QemuEvent io_started;
};

/*
 * How deep aio_poll()/main_loop_wait() may nest inside callbacks before the
 * run is a verdict.  Scenarios from the decoder nest at most once per
 * object (callback chains are finite), so a deeper stack is a loop the core
 * made; $QLOOP_MAX_DEPTH overrides it.
 */
#define RUNNER_DEPTH_MAX_DEFAULT 16

static unsigned depth_max(void)
{
    static unsigned cached;

    if (!cached) {
        const char *env = getenv("QLOOP_MAX_DEPTH");
        long v = env ? strtol(env, NULL, 10) : 0;

        cached = v > 0 && v < 1000 ? (unsigned)v : RUNNER_DEPTH_MAX_DEFAULT;
    }
    return cached;
}

/*
 * How many wasted wake-ups in a row a blocking wait may have before the run
 * is a `spin` verdict (model_spin_end()).  A correct core wastes none (the
 * corpus and every scenario pass at 1): 16 is a margin for what the trace
 * cannot show, and still ends a spin within ~500 steps.  $QLOOP_MAX_SPIN
 * overrides it.
 */
#define RUNNER_SPIN_MAX_DEFAULT 16

static unsigned spin_max(void)
{
    static unsigned cached;

    if (!cached) {
        const char *env = getenv("QLOOP_MAX_SPIN");
        long v = env ? strtol(env, NULL, 10) : 0;

        cached = v > 0 && v < 1000000 ? (unsigned)v : RUNNER_SPIN_MAX_DEFAULT;
    }
    return cached;
}

/* The run in progress: signal handlers reach the scenario through it. */
static RunState *current_rs;

static const char *thread_names[64];
static unsigned thread_name_count;

const char *const *runner_thread_names(unsigned *count)
{
    *count = thread_name_count;
    return thread_names;
}

/* ---- static checks -------------------------------------------------------- */

static bool op_polls(ScnOpKind k)
{
    return k == SCN_OP_POLL || k == SCN_OP_POLL_NB || k == SCN_OP_WAIT ||
           k == SCN_OP_DRAIN || k == SCN_OP_MAIN_LOOP_WAIT ||
           k == SCN_OP_SUBMIT || k == SCN_OP_JOB_CANCEL ||
           k == SCN_OP_POOL_SIZE || k == SCN_OP_RUN_TIMERS;
}

/* Operations that only make sense inside a coroutine body. */
static bool op_in_coroutine_only(ScnOpKind k)
{
    return k == SCN_OP_CO_YIELD || k == SCN_OP_CO_SLEEP ||
           k == SCN_OP_CO_LOCK || k == SCN_OP_CO_UNLOCK ||
           k == SCN_OP_CO_WAIT || k == SCN_OP_CO_RESCHEDULE ||
           k == SCN_OP_CO_SUBMIT;
}

/*
 * Coroutine bodies run in the home thread (every coroutine is entered
 * there or scheduled into its context), may not poll (a nested aio_poll
 * from a coroutine is QEMU's own hazard, not the loop's), and the
 * coroutine-only operations appear nowhere else.
 */
static const char *runner_check_coroutines(const Scenario *s, char *buf,
                                           size_t len)
{
    for (unsigned k = 0; k < SCN_OBJ_KIND_MAX; k++) {
        for (unsigned i = 0; i < s->object_count[k]; i++) {
            const ScnObject *o = &s->objects[k][i];
            ScnBody bodies[2] = { o->body, o->alt_body };

            for (unsigned b = 0; b < 2; b++) {
                for (uint32_t j = bodies[b].first;
                     j < bodies[b].first + bodies[b].count; j++) {
                    const ScnOp *op = &s->ops[j];

                    if (k == SCN_OBJ_CORO && op_polls(op->kind)) {
                        g_snprintf(buf, len, "line %u: '%s' in coroutine "
                                   "'%s': a coroutine body may not poll or "
                                   "use the thread pool", op->line,
                                   scn_op_name(op->kind), o->name);
                        return buf;
                    }
                    if (k != SCN_OBJ_CORO && op_in_coroutine_only(op->kind)) {
                        g_snprintf(buf, len, "line %u: '%s' outside a "
                                   "coroutine body", op->line,
                                   scn_op_name(op->kind));
                        return buf;
                    }
                }
            }
        }
    }
    for (unsigned t = 0; t < s->thread_count; t++) {
        const ScnBody *b = &s->threads[t].body;

        for (uint32_t i = b->first; i < b->first + b->count; i++) {
            const ScnOp *op = &s->ops[i];
            bool home_only = op->kind == SCN_OP_CO_ENTER ||
                             op->kind == SCN_OP_CO_RESTART_ALL ||
                             op->kind == SCN_OP_CO_ENTER_NEXT;

            if (op_in_coroutine_only(op->kind) || (t > 0 && home_only)) {
                g_snprintf(buf, len, "line %u: '%s' in thread '%s': %s",
                           op->line, scn_op_name(op->kind), s->threads[t].name,
                           home_only ? "only the home thread may enter "
                           "coroutines or restart the queue"
                           : "only a coroutine body may do that");
                return buf;
            }
        }
    }
    return NULL;
}

const char *runner_check(const Scenario *s, char *buf, size_t len)
{
    bool deleted[SCN_OBJECTS_MAX] = { false };
    const char *why = runner_check_coroutines(s, buf, len);

    if (why) {
        return why;
    }

    for (uint32_t i = 0; i < s->op_count; i++) {
        if (s->ops[i].kind == SCN_OP_DELETE) {
            deleted[s->ops[i].obj] = true;
        }
    }
    for (unsigned t = 1; t < s->thread_count; t++) {
        const ScnBody *b = &s->threads[t].body;

        for (uint32_t i = b->first; i < b->first + b->count; i++) {
            const ScnOp *op = &s->ops[i];

            if (op_polls(op->kind)) {
                g_snprintf(buf, len, "line %u: '%s' in thread '%s': only the "
                           "home thread (the first one) may poll or use "
                           "the thread pool", op->line, scn_op_name(op->kind),
                           s->threads[t].name);
                return buf;
            }
            if (scn_op_object_kind(op->kind) == SCN_OBJ_BH &&
                deleted[op->obj] && op->kind != SCN_OP_DELETE) {
                g_snprintf(buf, len, "line %u: bh '%s' is deleted somewhere "
                           "but used by thread '%s': a use after free the "
                           "scenario, not the loop, would commit", op->line,
                           s->objects[SCN_OBJ_BH][op->obj].name,
                           s->threads[t].name);
                return buf;
            }
        }
    }
    return NULL;
}

/* ---- execution ------------------------------------------------------------- */

static void exec_body(RunState *rs, const ScnBody *body);

static void announce(const RunState *rs, const ScnOp *op)
{
    char text[64];
    ScnObjKind kind = scn_op_object_kind(op->kind);
    size_t n;

    /* Nobody keeps the text (no trace, no hash: a fuzz target): the
     * oracles read only the names of operations without an object. */
    if (!sim_trace_keeps_names()) {
        sim_trace_user(scn_op_name(op->kind), op->arg);
        return;
    }
    /* "op object" by hand, not printf: this runs for every operation of
     * every fuzzer input. */
    n = g_strlcpy(text, scn_op_name(op->kind), sizeof(text));

    if (kind != SCN_OBJ_KIND_MAX && n + 1 < sizeof(text)) {
        text[n++] = ' ';
        n += g_strlcpy(text + n, rs->s->objects[kind][op->obj].name,
                       sizeof(text) - n);
    }
    /* The context a coroutine op names, as the .scn says it. */
    if ((op->kind == SCN_OP_CO_SCHEDULE && op->arg != SCN_CTX_HOME) ||
        op->kind == SCN_OP_CO_RESCHEDULE) {
        const char *ctx = op->arg == SCN_CTX_HOME ? "home"
            : rs->s->objects[SCN_OBJ_IOTHREAD][op->arg - SCN_CTX_HOME - 1].name;

        if (n < sizeof(text)) {
            g_strlcpy(text + n, op->kind == SCN_OP_CO_SCHEDULE ? " on " : " ",
                      sizeof(text) - n);
            g_strlcat(text, ctx, sizeof(text));
        }
    }
    sim_trace_user(text, op->arg);
}

static void busy_wait_check(RunState *rs);

static void ran(CbCtx *cb)
{
    busy_wait_check(cb->rs);
    cb->rs->runs[cb->kind][cb->index]++;
}

/*
 * A guarded BH's device is engaged in I/O exactly while one of its BHs
 * runs: aio_bh_call() sets the guard around the callback and puts back
 * what it was, so a nested poll's BH of the same device leaves it engaged
 * for the outer one, and the last to return leaves it free.  BHs run in
 * the home thread only, so the depth needs no lock.
 */
static void guards_check(RunState *rs, unsigned running, const char *when)
{
    for (unsigned g = 0; g < rs->guard_count; g++) {
        bool want = rs->guard_depth[g] > 0 || g + 1 == running;

        if (rs->guards[g].engaged_in_io != want) {
            sim_fail("reentrancy guard %u is %s %s, with %u of its BHs' "
                     "callbacks running: aio_bh_call() engages it around "
                     "each and restores what it was", g + 1,
                     want ? "free" : "engaged", when,
                     rs->guard_depth[g] + (g + 1 == running));
        }
    }
}

static void bh_cb(void *opaque)
{
    CbCtx *cb = opaque;
    RunState *rs = cb->rs;
    /* Oneshots share this callback; only a scenario BH has a guard. */
    unsigned guard = cb->kind == SCN_OBJ_BH
                     ? rs->s->objects[SCN_OBJ_BH][cb->index].guard : 0;

    if (cb->kind == SCN_OBJ_BH) {
        rs->bh_owed[cb->index] = false;
    }
    ran(cb);
    guards_check(rs, guard, "as a BH's callback starts");
    if (guard) {
        rs->guard_depth[guard - 1]++;
    }
    exec_body(rs, &rs->s->objects[cb->kind][cb->index].body);
    if (guard) {
        rs->guard_depth[guard - 1]--;
    }
    guards_check(rs, guard, "as a BH's callback returns");
}

/*
 * Re-registering replaces the handler: from then on only the new callback
 * may be called (a walk skips the old node, marked deleted).  "From then
 * on" is happens-before: a dispatch in another thread that never
 * synchronised with the replacement checked the old node's deleted flag
 * concurrently with it, and QEMU lets the old callback run then (even
 * under sc a preemption between that check and the call would allow it;
 * the simulator has no scheduling point there).  Under sc, tso and pso
 * execution order is the order, as before.
 */
static void fd_check_current(RunState *rs, const CbCtx *cb)
{
    if (cb->alt != rs->fd_alt[cb->index] &&
        sim_mem_stamp_happened_before(rs->fd_alt_stamp[cb->index])) {
        sim_fail("replace: fd '%s' was dispatched to its %s handler after "
                 "it was re-registered with its %s one",
                 rs->s->objects[SCN_OBJ_FD][cb->index].name,
                 cb->alt ? "alternate" : "first",
                 cb->alt ? "first" : "alternate");
    }
}

/*
 * Consume one byte of readiness, as a handler reads its fd: an EINTR (the
 * readfail fault) is retried, as every real handler does — left alone, the
 * fd stays readable and a handler that nests a poll re-enters itself for
 * ever.  EAGAIN: the body lowered it already.
 */
static void consume(int fd)
{
    char byte;

    for (int i = 0; i < 64 && sim_read(fd, &byte, 1) == -EINTR; i++) {
        /* bounded: the fault is drawn from a finite tape */
    }
}

static void fd_read_cb(void *opaque)
{
    CbCtx *cb = opaque;
    RunState *rs = cb->rs;
    const ScnObject *o = &rs->s->objects[SCN_OBJ_FD][cb->index];

    fd_check_current(rs, cb);
    consume(rs->fd[cb->index]);
    rs->vq_pending[cb->index] = false;  /* the device takes the request */
    ran(cb);
    exec_body(rs, cb->alt ? &o->alt_body : &o->body);
}

static int64_t busy_wait_ns(RunState *rs);

/*
 * io_poll: the fd has data (a peek; polling mode calls it in a loop).
 *
 * QEMU busy-polls only while every handler of the context has an io_poll
 * (poll_disable_cnt == 0): one that has not needs the fd monitor, and
 * polling would only delay it.  The counter is updated without ordering,
 * so a registration racing with a poll may be missed; one the polling
 * thread made itself before aio_poll() began may not.  With polling off,
 * io_poll runs at most once per handler in an aio_poll(): the last look
 * when it ends a mode an outer poll started.  A second call is the busy
 * loop.
 */
static bool fd_io_poll(void *opaque)
{
    CbCtx *cb = opaque;
    RunState *rs = cb->rs;

    /*
     * A busy-wait polls every handler in its first round: one whose fd was
     * readable when aio_poll() began is found at once.  Seen for the first
     * time only once the busy-wait's poll_max_ns had passed, it was found
     * by the last look that ends the mode, or by the fd monitor: the loop
     * never polled it.
     */
    if (rs->wait.aio_poll && (rs->wait.poll_ready_at_start >> cb->index & 1) &&
        rs->wait.io_poll_calls[cb->index] == 0 &&
        sim_thread_self() == rs->wait.thread) {
        int64_t spent_ns = busy_wait_ns(rs);

        if (spent_ns) {
            sim_fail("polling mode: fd '%s' was readable when aio_poll() "
                     "began, but its io_poll first ran after %" G_GINT64_FORMAT
                     " ns of busy-waiting (poll_max_ns %" G_GINT64_FORMAT
                     "): a busy-wait polls every handler in its first round",
                     rs->s->objects[SCN_OBJ_FD][cb->index].name, spent_ns,
                     (int64_t)rs->ctx->poll_max_ns);
        }
    }
    if (rs->wait.aio_poll && rs->wait.io_poll_calls[cb->index] < UINT8_MAX) {
        rs->wait.io_poll_calls[cb->index]++;
    }
    if (rs->wait.aio_poll && rs->wait.nonpoll_mine &&
        rs->wait.io_poll_calls[cb->index] >= 2) {
        uint32_t self = sim_thread_self();

        for (unsigned j = 0; j < rs->s->object_count[SCN_OBJ_FD]; j++) {
            if ((rs->wait.nonpoll_mine >> j & 1) && rs->fd_registered[j] &&
                rs->fd_reg_thread[j] == self) {
                sim_fail("polling mode: aio_poll() busy-polls fd '%s' while "
                         "fd '%s', registered without io_poll before the "
                         "poll began, is on the context (QEMU polls only "
                         "when every handler can: poll_disable_cnt)",
                         rs->s->objects[SCN_OBJ_FD][cb->index].name,
                         rs->s->objects[SCN_OBJ_FD][j].name);
            }
        }
    }
    return sim_fd_readable(rs->fd[cb->index]) || rs->vq_pending[cb->index];
}

_Static_assert(SCN_OBJECTS_MAX <= 32, "nonpoll_mine: a bit per fd");

/*
 * Virtual time the polling thread spent reading clocks since its innermost
 * aio_poll() began, or 0 when that cannot be a busy-wait's: a busy-wait
 * reads the clock once a round, and apart from it an aio_poll() reads
 * a clock at most once per timer list before its first callback — fewer
 * than BUSY_READS_MIN times.
 */
#define BUSY_READS_MIN 16
static int64_t busy_wait_ns(RunState *rs)
{
    uint64_t reads = sim_thread_clock_reads() - rs->wait.began_reads;

    if (rs->clock_read_cost_ns <= 0 || rs->ctx->poll_max_ns <= 0 ||
        reads < BUSY_READS_MIN ||
        (int64_t)reads * rs->clock_read_cost_ns < (int64_t)rs->ctx->poll_max_ns) {
        return 0;
    }
    return (int64_t)reads * rs->clock_read_cost_ns;
}

/*
 * At an aio_poll()'s first callback, or its return without one: a
 * busy-wait that ran its course polled every handler with io_poll in
 * every round.  One that the polling thread registered before the poll
 * began (enabled, still registered, by it) and that no round polled was
 * skipped by the loop.
 */
static void busy_wait_check(RunState *rs)
{
    int64_t spent_ns;

    if (!rs->wait.poll_mine || rs->wait.dispatched ||
        sim_thread_self() != rs->wait.thread) {
        return;     /* poll_mine: an aio_poll() with io_poll handlers */
    }
    rs->wait.dispatched = true;
    spent_ns = busy_wait_ns(rs);
    if (!spent_ns) {
        return;
    }
    for (unsigned j = 0; j < rs->s->object_count[SCN_OBJ_FD]; j++) {
        if ((rs->wait.poll_mine >> j & 1) && rs->fd_registered[j] &&
            rs->fd_reg_thread[j] == rs->wait.thread && !rs->in_poll_ready[j] &&
            rs->wait.io_poll_calls[j] == 0) {
            sim_fail("polling mode: aio_poll() busy-waited %" G_GINT64_FORMAT
                     " ns (poll_max_ns %" G_GINT64_FORMAT ") and never polled "
                     "fd '%s', whose handler has an io_poll: a busy-wait polls "
                     "every such handler in every round", spent_ns,
                     (int64_t)rs->ctx->poll_max_ns,
                     rs->s->objects[SCN_OBJ_FD][j].name);
        }
    }
}

/* The scenario fds with io_poll readable now, their handlers enabled. */
static uint32_t poll_fds_ready(RunState *rs)
{
    uint32_t mask = 0;

    for (unsigned j = 0; j < rs->s->object_count[SCN_OBJ_FD]; j++) {
        if (rs->fd_registered[j] && rs->s->objects[SCN_OBJ_FD][j].poll &&
            !rs->in_poll_ready[j] && sim_fd_readable(rs->fd[j])) {
            mask |= 1u << j;
        }
    }
    return mask;
}

/* The scenario fds with (or without) io_poll this thread registered, their
 * handlers enabled (fd_io_poll(), busy_wait_check()). */
static uint32_t fds_mine(RunState *rs, bool with_poll)
{
    uint32_t self = sim_thread_self();
    uint32_t mask = 0;

    for (unsigned j = 0; j < rs->s->object_count[SCN_OBJ_FD]; j++) {
        if (rs->fd_registered[j] &&
            rs->s->objects[SCN_OBJ_FD][j].poll == with_poll &&
            rs->fd_reg_thread[j] == self && !rs->in_poll_ready[j]) {
            mask |= 1u << j;
        }
    }
    return mask;
}

/*
 * io_poll_ready: the body runs *before* the readiness is consumed, as a
 * device drains its queue and only then finds it empty — so a nested
 * aio_poll() from the body still sees io_poll() true.  QEMU never re-enters
 * a poll handler from a nested poll (6d740fb01b): that is checked here.
 */
static void fd_poll_ready_cb(void *opaque)
{
    CbCtx *cb = opaque;
    RunState *rs = cb->rs;
    const ScnObject *o = &rs->s->objects[SCN_OBJ_FD][cb->index];

    bool outer_rereg = rs->reregistered[cb->index];
    uint32_t raises = rs->vq_raises[cb->index];

    if (rs->in_poll_ready[cb->index] && !outer_rereg) {
        sim_fail("reentrancy: io_poll_ready of fd '%s' was called again from "
                 "a nested aio_poll() while it ran (a poll handler must be "
                 "disabled while its io_poll_ready runs)", o->name);
    }
    fd_check_current(rs, cb);
    rs->in_poll_ready[cb->index]++;
    rs->reregistered[cb->index] = false;
    ran(cb);
    exec_body(rs, cb->alt ? &o->alt_body : &o->body);
    rs->in_poll_ready[cb->index]--;
    rs->reregistered[cb->index] = outer_rereg;
    consume(rs->fd[cb->index]);
    if (rs->vq_raises[cb->index] == raises) {
        rs->vq_pending[cb->index] = false;  /* drained, nothing new */
    }
}

/*
 * A suppress fd's io_poll_begin/io_poll_end (aio_set_event_notifier_poll),
 * as virtio's host notifiers use them: while the context busy-polls, the
 * device sends no kick — a raise leaves the fd unreadable and only io_poll
 * finds the request — and io_poll_end turns kicks back on, after which the
 * core's last look finds what arrived meanwhile.  A context that sleeps
 * with notifications off sleeps through every later request (QEMU's
 * aio_prepare() ends polling mode before glib's poll for this).  The core
 * passes the handler's opaque, as QEMU does (it casts the
 * EventNotifierHandler to an IOHandler): here the CbCtx.
 */
static void fd_poll_begin_cb(EventNotifier *opaque)
{
    CbCtx *cb = (CbCtx *)(void *)opaque;

    cb->rs->vq_quiet[cb->index] = true;
    sim_trace_user("io_poll_begin: notifications off", cb->index);
}

static void fd_poll_end_cb(EventNotifier *opaque)
{
    CbCtx *cb = (CbCtx *)(void *)opaque;

    cb->rs->vq_quiet[cb->index] = false;
    sim_trace_user("io_poll_end: notifications on", cb->index);
}

/* A raise of a suppress fd: the request, and its kick unless suppressed. */
static void vq_raise(RunState *rs, uint8_t i)
{
    rs->vq_pending[i] = true;
    rs->vq_raises[i]++;
    if (rs->vq_quiet[i]) {
        sim_trace_user("raise: no kick, notifications are off", i);
        return;
    }
    sim_external_set(rs->fd[i], true, rs->fd_writable[i]);
}

static void fd_write_cb(void *opaque);

static void fd_register(RunState *rs, uint8_t i, bool alt)
{
    const ScnObject *o = &rs->s->objects[SCN_OBJ_FD][i];
    CbCtx *cb = alt ? &rs->cb_alt[i] : &rs->cb[SCN_OBJ_FD][i];

    uint32_t self = sim_thread_self();

    /* fd_alt changes when the core's FD_ADD event says so (observe()). */
    rs->registering_alt[self & 63] = alt;
    if (o->suppress) {
        /* As virtio attaches a host notifier: notifications on first, a
         * detach may have left them off. */
        rs->vq_quiet[i] = false;
    }
    aio_set_fd_handler(rs->ctx, rs->fd[i], o->write ? NULL : fd_read_cb,
                       o->write ? fd_write_cb : NULL,
                       o->poll ? fd_io_poll : NULL,
                       o->poll ? fd_poll_ready_cb : NULL, cb);
    rs->registering_alt[self & 63] = -1;
    if (o->suppress) {
        EventNotifier n = { .rfd = rs->fd[i], .wfd = rs->fd[i] };

        aio_set_event_notifier_poll(rs->ctx, &n, fd_poll_begin_cb,
                                    fd_poll_end_cb);
        /* ... and a kick for what was raised while it was detached. */
        if (rs->vq_pending[i]) {
            sim_external_set(rs->fd[i], true, rs->fd_writable[i]);
        }
    }
    if (!rs->model) {   /* else observe() follows the core's events */
        rs->fd_registered[i] = true;
        rs->fd_reg_thread[i] = self;
        rs->fd_alt[i] = alt;
    }
    if (rs->in_poll_ready[i]) {
        rs->reregistered[i] = true;
    }
}

/*
 * A scenario fd readable with a handler registered wakes every poll (level
 * triggered) even while the handler is disabled because its io_poll_ready
 * runs: the spin oracle cannot see that in the trace.  But an enabled one
 * readable then should have been called — a wake-up the core wasted, not
 * an excuse, whatever else is readable.
 */
static bool scenario_fd_ready(RunState *rs)
{
    bool disabled_ready = false;

    for (unsigned i = 0; i < rs->s->object_count[SCN_OBJ_FD]; i++) {
        if (rs->fd_registered[i] && sim_fd_readable(rs->fd[i])) {
            if (!rs->in_poll_ready[i]) {
                return false;
            }
            disabled_ready = true;
        }
    }
    return disabled_ready;
}

/* After a blocking wait: the spin oracle. */
static void spin_check(RunState *rs, const char *what, bool progress)
{
    const char *violation = model_spin_end(rs->model, what, progress,
                                           rs->cut_waits ||
                                           scenario_fd_ready(rs),
                                           spin_max());

    if (violation) {
        sim_fail("%s", violation);
    }
}

/* Every nested wait goes through here: the depth oracle. */
static void depth_enter(RunState *rs, const char *what)
{
    if (++rs->depth > depth_max()) {
        sim_fail("unbounded nesting: %s nested %u deep inside callbacks "
                 "(limit %u, $QLOOP_MAX_DEPTH): a callback keeps re-entering "
                 "the loop", what, rs->depth, depth_max());
    }
}

/* A timer's callback: what qemu_clock_enable(false) must not wait for
 * from inside it. */
static void timer_cb(void *opaque)
{
    CbCtx *cb = opaque;
    RunState *rs = cb->rs;
    unsigned clock = rs->s->objects[SCN_OBJ_TIMER][cb->index].clock;

    rs->in_timer_cb[clock]++;
    bh_cb(cb);
    rs->in_timer_cb[clock]--;
}

/*
 * io_write: called only while the fd is writable — so only if it was made
 * writable since the handler last ran, which makes it unwritable again
 * (the write fills the buffer), as a level-triggered writer must.
 */
static void fd_write_cb(void *opaque)
{
    CbCtx *cb = opaque;
    RunState *rs = cb->rs;
    const ScnObject *o = &rs->s->objects[SCN_OBJ_FD][cb->index];
    int fd = rs->fd[cb->index];

    if (!rs->fd_write_due[cb->index]) {
        sim_fail("write: io_write of fd '%s' was called, but the fd was not "
                 "made writable since its last call (a write handler runs "
                 "only on POLLOUT)", o->name);
    }
    fd_check_current(rs, cb);
    rs->fd_write_due[cb->index] = false;
    rs->fd_writable[cb->index] = false;
    sim_external_set(fd, sim_fd_readable(fd), false);
    ran(cb);
    exec_body(rs, cb->alt ? &o->alt_body : &o->body);
}

static bool poll_once(RunState *rs, bool blocking)
{
    bool progress;

    depth_enter(rs, "aio_poll()");
    blocking = blocking && !rs->cut_waits;
    if (rs->model) {
        model_poll_begin(rs->model, sim_thread_self(),
                         (int64_t)rs->ctx->notifier.rfd << 32);
        if (blocking) {
            model_spin_begin(rs->model, sim_thread_self());
        }
    }
    {
        InnerWait outer = rs->wait;

        rs->wait = (InnerWait){ .aio_poll = true };
        /* The polling-mode rules' view, where polling can run at all: a
         * poll_params op with a budget is what gives clock reads a cost. */
        if (rs->clock_read_cost_ns > 0) {
            rs->wait.nonpoll_mine = fds_mine(rs, false);
            rs->wait.poll_mine = fds_mine(rs, true);
            rs->wait.thread = sim_thread_self();
            rs->wait.began_reads = sim_thread_clock_reads();
            rs->wait.poll_ready_at_start = poll_fds_ready(rs);
        }
        progress = aio_poll(rs->ctx, blocking);
        busy_wait_check(rs);        /* if no callback ran */
        rs->wait = outer;
    }
    if (rs->model) {
        const char *violation = model_poll_end(rs->model, progress);

        if (violation) {
            sim_fail("%s", violation);
        }
        if (blocking) {
            spin_check(rs, "aio_poll(ctx, true)", progress);
        }
    }
    rs->depth--;
    return progress;
}

static void main_loop_once(RunState *rs, bool nonblocking)
{
    depth_enter(rs, "main_loop_wait()");
    nonblocking = nonblocking || rs->cut_waits;
    if (rs->model) {
        model_main_loop_wait_begin(rs->model, sim_thread_self());
        if (!nonblocking) {
            model_spin_begin(rs->model, sim_thread_self());
        }
    }
    rs->main_loop_waits++;
    rs->main_loop_wait_owed = rs->notify_event_unconsumed;
    rs->notify_event_unconsumed = false;
    {
        InnerWait outer = rs->wait;

        rs->wait = (InnerWait){ .aio_poll = false };
        main_loop_wait(nonblocking);
        rs->wait = outer;
    }
    rs->main_loop_wait_owed = false;
    rs->main_loop_waits--;
    if (rs->model) {
        model_wait_end(rs->model);
        if (!nonblocking) {
            spin_check(rs, "main_loop_wait(false)", false);
        }
    }
    rs->depth--;
}

/* A job's work returns neither 0 nor a negative errno, so a completion
 * with the wrong value shows. */
#define JOB_RESULT(index) (100 + (int)(index))

static int job_work(void *opaque)
{
    JobReq *req = opaque;

    req->work_done = true;
    return JOB_RESULT(req->cb->index);
}

/* The completion callback: the request leaves the job's list before the
 * body runs, so a cancel_job from the body picks another one. */
static void job_done(void *opaque, int ret)
{
    JobReq *req = opaque;
    CbCtx *cb = req->cb;
    RunState *rs = cb->rs;
    JobReq **link = &rs->job_reqs[cb->index];

    /* -ECANCELED only for a request cancelled while still queued. */
    if (ret != JOB_RESULT(cb->index) &&
        !(ret == -ECANCELED && req->cancelled)) {
        sim_fail("thread pool: job '%s' completed with %d, its work "
                 "returns %d%s", rs->s->objects[SCN_OBJ_JOB][cb->index].name,
                 ret, JOB_RESULT(cb->index),
                 req->cancelled ? " (cancelled: or -ECANCELED)" : "");
    }
    while (*link != req) {
        if (!*link) {
            sim_fail("thread pool: job '%s' completed a request twice, or "
                     "one it never had",
                     rs->s->objects[SCN_OBJ_JOB][cb->index].name);
            return;
        }
        link = &(*link)->next;
    }
    *link = req->next;
    g_free(req);
    rs->jobs_in_flight--;
    bh_cb(cb);
}

/*
 * A job without a completion callback: QEMU's pool frees the request
 * itself once its work is done.  bdrv_aio_cancel() holds a reference and
 * polls until that happened, so it returns only then — and the request
 * must be gone: a pool still holding it at teardown panics.
 */
static void job_submit_nocb(RunState *rs, uint8_t i)
{
    JobReq *req = g_new0(JobReq, 1);
    BlockAIOCB *acb;

    req->cb = &rs->cb[SCN_OBJ_JOB][i];
    acb = thread_pool_submit_aio(job_work, req, NULL, NULL);
    depth_enter(rs, "bdrv_aio_cancel()");
    if (rs->model) {
        model_wait_begin(rs->model, sim_thread_self());
    }
    {
        InnerWait outer = rs->wait;

        rs->wait = (InnerWait){ .cancel_nocb = req };
        bdrv_aio_cancel(acb);
        rs->wait = outer;
    }
    if (rs->model) {
        model_wait_end(rs->model);
    }
    rs->depth--;
    g_free(req);    /* the work, which reads it, is done or never ran */
}

static void job_submit(RunState *rs, uint8_t i)
{
    JobReq *req = g_new0(JobReq, 1);

    req->cb = &rs->cb[SCN_OBJ_JOB][i];
    req->seq = ++rs->job_seq;
    req->next = rs->job_reqs[i];
    rs->job_reqs[i] = req;
    rs->jobs_in_flight++;
    req->acb = thread_pool_submit_aio(job_work, req, job_done, req);
}

/* The BH's side of aio_wait_while: the condition turns false in the
 * context waited on, and the waiter is kicked to read it again. */
static void aio_wait_done_bh(void *opaque)
{
    RunState *rs = opaque;

    rs->aio_wait_busy = false;  /* one host thread runs every sim thread */
    aio_wait_kick();
}

/*
 * AIO_WAIT_WHILE(iothread's context, busy) from the home thread, outside
 * any coroutine: a remote waiter, which polls the main context while a BH
 * in the iothread's context clears busy and calls aio_wait_kick() (QEMU's
 * drain of a block node in an iothread).  The kick's BH must wake it: a
 * waiter still asleep once every thread waits with busy clear is owed
 * (aio_wait_owed()).  The wait polls the core's own way: not a scenario
 * aio_poll() for the model's progress rule, like bdrv_aio_cancel().
 * With `home`, the local form: AIO_WAIT_WHILE on the home thread's own
 * context, which it polls itself until its BH clears busy.
 */
static void aio_wait_while_op(RunState *rs, uint8_t io, bool home)
{
    AioContext *ctx = home ? rs->ctx : rs->io_ctx[io];

    if (sim_thread_self() != rs->home_thread || qemu_in_coroutine() ||
        rs->wait.aio_wait_while) {
        sim_trace_user("skipped: aio_wait_while outside the home thread's "
                       "own flow", io);
        return;
    }
    rs->aio_wait_busy = true;
    aio_bh_schedule_oneshot_full(ctx, aio_wait_done_bh, rs, "aio_wait_done");
    depth_enter(rs, "AIO_WAIT_WHILE()");
    if (rs->model) {
        model_wait_begin(rs->model, sim_thread_self());
    }
    {
        InnerWait outer = rs->wait;

        rs->wait = (InnerWait){ .aio_wait_while = true,
                                .aio_wait_home = home, .aio_wait_io = io };
        AIO_WAIT_WHILE(ctx, rs->aio_wait_busy);
        rs->wait = outer;
    }
    if (rs->model) {
        model_wait_end(rs->model);
    }
    rs->depth--;
}

/*
 * bdrv_aio_cancel() on the job's newest request in flight: a request still
 * queued completes with -ECANCELED, one already running with its result;
 * either way the call polls the context until the completion callback has
 * run, so it is a nested wait (the depth oracle, and a wait the model
 * does not count as aio_poll's progress: its polls are the core's own).
 */
static void job_cancel(RunState *rs, uint8_t i)
{
    JobReq *req = rs->job_reqs[i];
    uint64_t seq;

    if (!req) {
        sim_trace_user("skipped: no request of the job in flight", i);
        return;
    }
    req->cancelled = true;
    seq = req->seq;
    depth_enter(rs, "bdrv_aio_cancel()");
    if (rs->model) {
        model_wait_begin(rs->model, sim_thread_self());
    }
    {
        InnerWait outer = rs->wait;

        /* By number, not pointer: the completion frees req inside. */
        rs->wait = (InnerWait){ .cancel_job = i, .cancel_seq = seq };
        bdrv_aio_cancel(req->acb);  /* req is freed once this returns */
        rs->wait = outer;
    }
    if (rs->model) {
        model_wait_end(rs->model);
    }
    rs->depth--;
    for (req = rs->job_reqs[i]; req; req = req->next) {
        if (req->seq == seq) {
            sim_fail("thread pool: bdrv_aio_cancel() returned before "
                     "request %" G_GUINT64_FORMAT " (job '%s') completed",
                     seq, rs->s->objects[SCN_OBJ_JOB][i].name);
        }
    }
}

static int signal_number(uint8_t which)
{
    static const int numbers[SCN_SIGNALS] = { SIGIO, SIGALRM, SIGBUS };

    return numbers[which];
}

/*
 * Every byte of the siginfo_t the handler got: a zeroed one holding the
 * fields the conversion defines for this signal and code (QEMU's
 * sigaction_invoke() starts from siginfo_t si = {}), and nothing else — a
 * field the conversion does not set holds 0, not what its stack had.
 */
static void siginfo_check_whole(const siginfo_t *info,
                                const struct signalfd_siginfo *sent)
{
    siginfo_t want;
    const unsigned char *a = (const unsigned char *)info;
    const unsigned char *b = (const unsigned char *)&want;

    memset(&want, 0, sizeof(want));
    want.si_signo = (int)sent->ssi_signo;
    want.si_errno = sent->ssi_errno;
    want.si_code = sent->ssi_code;
    if (sent->ssi_code <= 0) {
        want.si_pid = (pid_t)sent->ssi_pid;
        want.si_uid = (uid_t)sent->ssi_uid;
        want.si_value.sival_ptr = (void *)(uintptr_t)sent->ssi_ptr;
    } else if (sent->ssi_signo == SIGILL || sent->ssi_signo == SIGFPE ||
               sent->ssi_signo == SIGSEGV || sent->ssi_signo == SIGBUS ||
               sent->ssi_signo == SIGTRAP) {
        want.si_addr = (void *)(uintptr_t)sent->ssi_addr;
    } else if (sent->ssi_signo == SIGCHLD) {
        want.si_pid = (pid_t)sent->ssi_pid;
        want.si_uid = (uid_t)sent->ssi_uid;
        want.si_status = sent->ssi_status;
    }
    for (size_t i = 0; i < sizeof(want); i++) {
        if (a[i] != b[i]) {
            sim_fail("signals: the SA_SIGINFO handler of signal %u got a "
                     "siginfo_t whose byte %zu is 0x%02x, not 0x%02x: a field "
                     "the conversion from signalfd_siginfo does not set must "
                     "be 0 (QEMU starts from siginfo_t si = {})",
                     (unsigned)sent->ssi_signo, i, a[i], b[i]);
        }
    }
}

/* What the process had for each signal before signals_install(). */
static struct sigaction signals_replaced[SCN_SIGNALS];

/*
 * The process's SA_SIGINFO handler for the main loop's signals.  The core
 * runs it from its signalfd handler; it must receive what a kernel-
 * delivered siginfo_t would hold (QEMU converts signalfd_siginfo field by
 * field), compared here with what the simulated kernel sent.
 */
static void signal_handler(int signo, siginfo_t *info, void *uctx)
{
    RunState *rs = current_rs;
    struct signalfd_siginfo sent;
    const Scenario *s;

    if (!sim_signal_dispatching() || uctx) {
        /*
         * From the host kernel, not the scenario: libFuzzer's -timeout
         * timer is a real SIGALRM every timeout/2 + 1 s, which this
         * handler used to take for the scenario's — an oracle verdict, or
         * sim_fail() amid a stack switch — and libFuzzer lost its timeout.
         * It goes to the handler this one replaced.  The kernel always
         * passes a ucontext; the core's dispatch (sigfd_handler through
         * the seam) passes none — which tells them apart even when the
         * real alarm lands while the core dispatches a simulated one.
         */
        for (unsigned i = 0; i < SCN_SIGNALS; i++) {
            const struct sigaction *old = &signals_replaced[i];

            if (signal_number((uint8_t)i) != signo) {
                continue;
            }
            if ((old->sa_flags & SA_SIGINFO) && old->sa_sigaction) {
                old->sa_sigaction(signo, info, uctx);
            } else if (!(old->sa_flags & SA_SIGINFO) &&
                       old->sa_handler != SIG_DFL &&
                       old->sa_handler != SIG_IGN && old->sa_handler) {
                old->sa_handler(signo);
            }
        }
        return;
    }
    if (!rs || rs->quiesced) {
        return;     /* between runs, or after teardown: nothing to run */
    }
    if (rs->model) {
        const char *violation =
            model_signal_handler(rs->model, signo, sim_thread_self(),
                                 rs->loop_thread,
                                 rs->main_loop_waits > 0 && !rs->wait.aio_poll);

        if (violation) {
            sim_fail("%s", violation);
        }
    }
    s = rs->s;
    sim_signal_info(signo, &sent);
    if (!info || info->si_signo != signo || info->si_code != (int)sent.ssi_code) {
        sim_fail("signals: the SA_SIGINFO handler of signal %d got si_signo %d "
                 "si_code %d, the signal had %d / %d", signo,
                 info ? info->si_signo : -1, info ? info->si_code : -1, signo,
                 (int)sent.ssi_code);
    }
    if (signo == SIGBUS && (uint64_t)(uintptr_t)info->si_addr != sent.ssi_addr) {
        sim_fail("signals: the SIGBUS handler got si_addr %p, the fault was at "
                 "0x%" G_GINT64_MODIFIER "x (signalfd_siginfo passed as siginfo_t?)",
                 info->si_addr, (guint64)sent.ssi_addr);
    }
    if (signo != SIGBUS &&
        (info->si_pid != (pid_t)sent.ssi_pid || info->si_uid != (uid_t)sent.ssi_uid)) {
        sim_fail("signals: the handler of signal %d got si_pid %d si_uid %u, "
                 "the sender was %u / %u (signalfd_siginfo passed as siginfo_t?)",
                 signo, (int)info->si_pid, (unsigned)info->si_uid,
                 (unsigned)sent.ssi_pid, (unsigned)sent.ssi_uid);
    }
    siginfo_check_whole(info, &sent);
    for (unsigned i = 0; i < s->object_count[SCN_OBJ_SIGNAL]; i++) {
        if (signal_number(s->objects[SCN_OBJ_SIGNAL][i].signal) == signo) {
            bh_cb(&rs->cb[SCN_OBJ_SIGNAL][i]);
        }
    }
}

static void signals_install(void)
{
    static bool installed;
    struct sigaction sa;

    if (installed) {
        return;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = signal_handler;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    for (unsigned i = 0; i < SCN_SIGNALS; i++) {
        /* The simulated signalfd delivers them; what the kernel delivers
         * goes on to the handler replaced here (signal_handler). */
        sigaction(signal_number((uint8_t)i), &sa, &signals_replaced[i]);
    }
    installed = true;
}

/* ---- queries, clocks, main-loop timers, write handlers -------------------- */

static int64_t scale_ns(const ScnObject *o)
{
    static const int64_t ns[SCN_SCALES] = { SCALE_NS, SCALE_US, SCALE_MS };

    return ns[o->scale];
}

/*
 * Whether the model's view of timer i's list is exact where this runs: in
 * the home thread (which runs every timer callback), on a list no other
 * thread arms or deletes timers of.  Elsewhere a query races with them
 * and its answer may be either.
 */
static bool timer_view_exact(RunState *rs, uint8_t i)
{
    const ScnObject *o = &rs->s->objects[SCN_OBJ_TIMER][i];

    return rs->model && sim_thread_self() == rs->home_thread &&
           !rs->list_shared[o->main_timer][o->clock];
}

/* The expiry timer_mod*() must leave: QEMU stores MAX(request, 0), and
 * anticipate keeps an armed expiry at or before the request. */
static int64_t expected_expiry_ns(bool armed, int64_t old_ns,
                                  int64_t request_ns, bool anticipate)
{
    if (anticipate && armed && old_ns <= request_ns) {
        return old_ns;
    }
    return request_ns < 0 ? 0 : request_ns;
}

/*
 * timer_mod_ns / timer_mod_anticipate_ns, or for a timer with a scale
 * timer_mod / timer_mod_anticipate in its unit (at_ns rounded toward zero
 * to one).  Where the model's view is exact, timer_expire_time_ns() must
 * then be what the request implies.
 */
static void timer_arm(RunState *rs, uint8_t i, int64_t at_ns, bool anticipate)
{
    const ScnObject *o = &rs->s->objects[SCN_OBJ_TIMER][i];
    QEMUTimer *t = rs->timer[i];
    int64_t scale = scale_ns(o);
    int64_t request_ns = at_ns / scale * scale;
    int64_t old_ns = 0, want_ns;
    bool exact = timer_view_exact(rs, i);
    bool armed = exact && model_timer_armed(rs->model, rs->timer_key[i], &old_ns);

    if (scale == SCALE_NS) {
        (anticipate ? timer_mod_anticipate_ns : timer_mod_ns)(t, at_ns);
    } else {
        (anticipate ? timer_mod_anticipate : timer_mod)(t, at_ns / scale);
    }
    if (!exact) {
        return;
    }
    want_ns = expected_expiry_ns(armed, old_ns, request_ns, anticipate);
    if (timer_expire_time_ns(t) != (uint64_t)want_ns) {
        sim_fail("timer query: after %s(%s, %" G_GINT64_FORMAT " x %" G_GINT64_FORMAT
                 " ns) timer_expire_time_ns() is %" G_GINT64_FORMAT ", the "
                 "request gives %" G_GINT64_FORMAT " ns",
                 anticipate ? "timer_mod_anticipate" : "timer_mod", o->name,
                 at_ns / scale, scale, (int64_t)timer_expire_time_ns(t), want_ns);
    }
}

/* What the core answered to the queries of one `check`. */
typedef struct {
    int64_t now0_ns, now1_ns;   /* the clock before and after the queries */
    bool pending, expired, has_timers, list_expired, clock_expired;
    uint64_t expire_ns;
    int64_t deadline_ns, wall_ns;
} TimerAnswers;

static void timer_ask(RunState *rs, uint8_t i, TimerAnswers *a)
{
    const ScnObject *o = &rs->s->objects[SCN_OBJ_TIMER][i];
    QEMUTimer *t = rs->timer[i];
    QEMUTimerList *tl = t->timer_list;

    a->now0_ns = qemu_clock_get_ns(o->clock);
    a->pending = timer_pending(t);
    a->expire_ns = timer_expire_time_ns(t);
    a->expired = timer_expired(t, a->now0_ns / scale_ns(o));
    a->has_timers = timerlist_has_timers(tl);
    a->list_expired = timerlist_expired(tl);
    a->clock_expired = o->main_timer ? qemu_clock_expired(o->clock)
                                     : a->list_expired;
    a->deadline_ns = timerlist_deadline_ns(tl);
    a->wall_ns = o->clock == QEMU_CLOCK_REALTIME ? get_clock()
               : o->clock == QEMU_CLOCK_HOST ? get_clock_realtime()
               : a->now0_ns;
    a->now1_ns = qemu_clock_get_ns(o->clock);
    if (timerlist_get_clock(tl) != (QEMUClockType)o->clock) {
        sim_fail("timer query: timerlist_get_clock() of timer '%s' is %d, "
                 "its clock %d", o->name, (int)timerlist_get_clock(tl),
                 o->clock);
    }
}

static void timer_mismatch(const ScnObject *o, const char *query,
                           int64_t got, int64_t want)
{
    sim_fail("timer query: %s for timer '%s' answered %" G_GINT64_FORMAT
             ", the model says %" G_GINT64_FORMAT, query, o->name, got, want);
}

/* x - y, saturated, and no less than 0: a deadline. */
static int64_t deadline_from(int64_t expire_ns, int64_t now_ns)
{
    int64_t d;

    if (__builtin_sub_overflow(expire_ns, now_ns, &d)) {
        return expire_ns > now_ns ? INT64_MAX : 0;
    }
    return d < 0 ? 0 : d;
}

/* The answers that depend on when the core read the clock: any time from
 * now0 to now1 (clock reads may cost time), so only what every such time
 * gives is checked. */
static void timer_check_timed(RunState *rs, const ScnObject *o,
                              const TimerAnswers *a, int enabled,
                              bool has_first, int64_t first_ns)
{
    int64_t lo = a->now0_ns, hi = a->now1_ns;

    if (o->clock == QEMU_CLOCK_HOST &&
        (lo != hi || rs->host_jumps_elsewhere || (sim_fault_mask() & 16))) {
        return;     /* HOST jumps either way: no bounds to trust */
    }
    if (has_first && first_ns <= lo && (!a->list_expired || !a->clock_expired)) {
        timer_mismatch(o, "timerlist_expired()/qemu_clock_expired()", 0, 1);
    }
    if ((!has_first || first_ns > hi) && (a->list_expired || a->clock_expired)) {
        timer_mismatch(o, "timerlist_expired()/qemu_clock_expired()", 1, 0);
    }
    if (a->wall_ns < lo || a->wall_ns > hi) {
        timer_mismatch(o, "get_clock()/get_clock_realtime()", a->wall_ns, lo);
    }
    if (enabled == 0 || (enabled == 1 && !has_first)) {
        if (a->deadline_ns != -1) {
            timer_mismatch(o, enabled ? "timerlist_deadline_ns() (no timer armed)"
                           : "timerlist_deadline_ns() (clock disabled)",
                           a->deadline_ns, -1);
        }
    } else if (enabled == 1 && (a->deadline_ns < deadline_from(first_ns, hi) ||
                                a->deadline_ns > deadline_from(first_ns, lo))) {
        timer_mismatch(o, "timerlist_deadline_ns()", a->deadline_ns,
                       deadline_from(first_ns, lo));
    }
}

/* `check T`: the query API against the model's view. */
static void timer_check(RunState *rs, uint8_t i)
{
    const ScnObject *o = &rs->s->objects[SCN_OBJ_TIMER][i];
    TimerAnswers a;
    int64_t expire_ns = -1, first_ns = -1, scale = scale_ns(o);
    bool armed, has_first;
    /* The clock's state counts only if it held through the queries: no
     * qemu_clock_enable() in flight or begun meanwhile (another thread). */
    int enabled = model_clock_enabled(rs->model, o->clock);
    uint64_t calls = model_clock_calls(rs->model, o->clock);

    timer_ask(rs, i, &a);
    if (model_clock_calls(rs->model, o->clock) != calls ||
        model_clock_enabled(rs->model, o->clock) != enabled) {
        enabled = -1;
    }
    if (!timer_view_exact(rs, i)) {
        sim_trace_user("check: not compared (another thread arms this list)", i);
        return;
    }
    armed = model_timer_armed(rs->model, rs->timer_key[i], &expire_ns);
    has_first = model_list_first(rs->model, rs->timer_key[i], &first_ns);
    if (a.pending != armed) {
        timer_mismatch(o, "timer_pending()", a.pending, armed);
    }
    if (a.expire_ns != (armed ? (uint64_t)expire_ns : UINT64_MAX)) {
        timer_mismatch(o, "timer_expire_time_ns()", (int64_t)a.expire_ns,
                       armed ? expire_ns : -1);
    }
    /* QEMU compares the stored expiry, -1 when unarmed: an unarmed timer
     * is expired at any time >= 0. */
    if (a.expired != ((armed ? expire_ns : -1) <= a.now0_ns / scale * scale)) {
        timer_mismatch(o, "timer_expired()", a.expired, !a.expired);
    }
    if (a.has_timers != has_first) {
        timer_mismatch(o, "timerlist_has_timers()", a.has_timers, has_first);
    }
    timer_check_timed(rs, o, &a, enabled, has_first, first_ns);
}

/* `run_timers CLOCK`: qemu_clock_run_timers() on main_loop_tlg; it makes
 * progress exactly when a timer fired in it. */
static void run_timers(RunState *rs, int clock)
{
    bool progress;

    depth_enter(rs, "qemu_clock_run_timers()");
    if (rs->model) {
        model_poll_begin(rs->model, sim_thread_self(), 0 /* main_loop_tlg */);
    }
    progress = qemu_clock_run_timers(clock);
    if (rs->model) {
        const char *violation = model_poll_end(rs->model, progress);

        if (violation) {
            sim_fail("qemu_clock_run_timers(): %s", violation);
        }
    }
    rs->depth--;
}

/* The soonest deadline over the timer lists of clock, each asked on its
 * own (timerlist_deadline_ns): -1 when none has a timer armed. */
static int64_t lists_deadline_ns(RunState *rs, int clock)
{
    QEMUTimerList *lists[3 + SCN_IOTHREADS_MAX];
    unsigned n = 0;
    int64_t soonest_ns = -1;

    lists[n++] = main_loop_tlg.tl[clock];
    lists[n++] = qemu_get_aio_context()->tlg.tl[clock];
    lists[n++] = iohandler_get_aio_context()->tlg.tl[clock];
    for (unsigned k = 0; k < rs->s->object_count[SCN_OBJ_IOTHREAD]; k++) {
        if (rs->io_ctx[k]) {
            lists[n++] = rs->io_ctx[k]->tlg.tl[clock];
        }
    }
    for (unsigned i = 0; i < n; i++) {
        soonest_ns = qemu_soonest_timeout(soonest_ns,
                                          timerlist_deadline_ns(lists[i]));
    }
    return soonest_ns;
}

/*
 * `check_clock CLOCK`: the clock-wide queries — QEMU's for icount and
 * the main loop: qemu_clock_has_timers() (the main loop's list),
 * qemu_clock_deadline_ns_all() over every list of the clock, with every
 * attribute and with none (the scenario's timers have none, so both
 * answers are the same), and qemu_clock_notify(), which wakes every
 * context with a list of the clock.  Where no other thread arms timers and
 * the clock's state holds, deadline_ns_all() lies between the soonest of
 * the lists' own deadlines asked before it and after it (clock reads may
 * cost time), and is -1 for a disabled clock.
 */
static void clock_check(RunState *rs, int clock)
{
    int enabled = model_clock_enabled(rs->model, clock);
    uint64_t calls = model_clock_calls(rs->model, clock);
    bool exact = rs->model && sim_thread_self() == rs->home_thread &&
                 rs->s->thread_count == 1 &&
                 rs->s->object_count[SCN_OBJ_IOTHREAD] == 0 &&
                 clock != QEMU_CLOCK_HOST;
    int64_t before_ns = lists_deadline_ns(rs, clock);
    bool has = qemu_clock_has_timers(clock);
    int64_t all_ns = qemu_clock_deadline_ns_all(clock, QEMU_TIMER_ATTR_ALL);
    int64_t none_ns = qemu_clock_deadline_ns_all(clock, 0);
    int64_t after_ns = lists_deadline_ns(rs, clock);

    qemu_clock_notify(clock);
    if (has != timerlist_has_timers(main_loop_tlg.tl[clock])) {
        sim_fail("check_clock: qemu_clock_has_timers(%d) is %d, the main "
                 "loop's list says %d", clock, has, !has);
    }
    if (model_clock_calls(rs->model, clock) != calls ||
        model_clock_enabled(rs->model, clock) != enabled || enabled < 0 ||
        !exact) {
        sim_trace_user("check_clock: deadlines not compared", clock);
        return;
    }
    if (enabled == 0 ? all_ns != -1 || none_ns != -1
        : (all_ns == -1) != (before_ns == -1) || none_ns != all_ns ||
          (all_ns != -1 && (all_ns > before_ns || all_ns < after_ns))) {
        sim_fail("check_clock: qemu_clock_deadline_ns_all(%d) is %" G_GINT64_FORMAT
                 " (%" G_GINT64_FORMAT " with no attribute), the clock's "
                 "lists say %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT
                 "%s", clock, all_ns, none_ns, after_ns, before_ns,
                 enabled == 0 ? " and the clock is disabled (-1)" : "");
    }
}

/*
 * qemu_clock_enable().  Disabling from inside a timer callback of that
 * clock waits for the callback's own pass — a deadlock QEMU documents: the
 * run hangs, and that hang is the scenario's (clock_self_wait), never a
 * lost wake-up.
 */
static void clock_set(RunState *rs, int clock, bool enabled)
{
    if (!enabled && rs->in_timer_cb[clock] &&
        sim_thread_self() == rs->home_thread) {
        sim_trace_user("deadlock: disabling the clock of a running timer "
                       "callback waits for itself", clock);
        rs->clock_self_wait = true;
    }
    if (rs->model) {
        model_clock_enable_begin(rs->model, clock);
    }
    if (!enabled && !rs->clock_self_wait) {
        rs->clock_disabling[clock]++;
    }
    qemu_clock_enable(clock, enabled);
    if (!enabled && !rs->clock_self_wait) {
        rs->clock_disabling[clock]--;
    }
    if (rs->model) {
        model_clock_enable_end(rs->model, clock, enabled);
    }
}

static void fd_set_writable(RunState *rs, uint8_t i, bool writable)
{
    int fd = rs->fd[i];

    if (writable) {
        rs->fd_write_due[i] = true;     /* before the poller can see it */
    }
    rs->fd_writable[i] = writable;
    sim_external_set(fd, sim_fd_readable(fd), writable);
}

static void loop_notifier_cb(EventNotifier *e)
{
    (void)e;
    sim_fail("event notifier: a handler set with event_notifier_set_handler() "
             "ran for a notifier that was clear, and removed before any poll");
}

/* An EventNotifier made active is set; its write fd is its fd; a handler
 * on the iohandler context is added and removed. */
static void loop_check_notifier(RunState *rs)
{
    EventNotifier e, alias;
    unsigned lossy = (1u << 3) | (1u << 7);    /* eagain, readfail */

    if (event_notifier_init(&e, true) < 0) {
        /* fdcreate: never opened; cleaning it up is a no-op (QEMU's
         * error paths do it). */
        event_notifier_cleanup(&e);
        return;
    }
    event_notifier_init_fd(&alias, event_notifier_get_fd(&e));
    if (event_notifier_get_wfd(&e) != event_notifier_get_fd(&e) ||
        event_notifier_get_fd(&alias) != event_notifier_get_fd(&e)) {
        sim_fail("event notifier: an eventfd notifier has read fd %d, write "
                 "fd %d; one made with init_fd(%d) has %d",
                 event_notifier_get_fd(&e), event_notifier_get_wfd(&e),
                 event_notifier_get_fd(&e), event_notifier_get_fd(&alias));
    }
    if (!event_notifier_test_and_clear(&e) && !(sim_fault_mask() & lossy)) {
        sim_fail("event notifier: event_notifier_init(e, true) left it clear");
    }
    if (rs->s->uses_main_loop) {
        event_notifier_set_handler(&e, loop_notifier_cb);
        event_notifier_set_handler(&e, NULL);
    }
    event_notifier_cleanup(&e);     /* alias shares the fd: not cleaned */
}

/* A second qemu_init_main_loop() is refused with an Error, which
 * error_propagate() moves as it is and error_free_or_abort() frees. */
static void loop_check_main_loop(RunState *rs)
{
    Error *err = NULL, *moved = NULL;
    int ret = qemu_init_main_loop(&err);

    (void)rs;
    if (ret != -EEXIST || !err) {
        sim_fail("qemu_init_main_loop() called twice returned %d %s an Error "
                 "(want -EEXIST with one)", ret, err ? "with" : "without");
    }
    error_propagate(&moved, NULL);      /* no error: nothing to move */
    error_propagate(&moved, err);
    if (moved != err) {
        sim_fail("error_propagate() into an empty Error ** did not move the "
                 "Error as it was");
    }
    error_free_or_abort(&moved);
    if (moved) {
        sim_fail("error_free_or_abort() left its Error ** set");
    }
    error_free(moved);      /* NULL: a no-op, as QEMU's callers rely on */
}

/*
 * Without a main loop: qemu_notify_event() has nothing to wake (the model
 * would see any BH it scheduled), and iohandler_get_aio_context() makes
 * iohandler_ctx on first use — a context of its own, made once, which
 * teardown frees with the main loop's state (qloop_main_loop_teardown).
 */
static void loop_check_no_main_loop(RunState *rs)
{
    AioContext *io;

    qemu_notify_event();
    if (sim_fault_mask() & (1u << 6)) {
        /* fdcreate: QEMU makes it with &error_abort — out of fds it
         * aborts by design (docs/fuzzing.md, "Coverage"). */
        return;
    }
    io = iohandler_get_aio_context();
    if (!rs->iohandler_made && !in_aio_context_home_thread(io)) {
        sim_fail("in_aio_context_home_thread() is false for iohandler_ctx, "
                 "which no thread polled yet (every thread is its home)");
    }
    rs->iohandler_made = true;
    if (!io || io == rs->ctx || io != iohandler_get_aio_context() ||
        qemu_main_loop_initialized()) {
        sim_fail("without a main loop: iohandler_get_aio_context() is %s, "
                 "qemu_main_loop_initialized() is %d",
                 !io ? "NULL" : io == rs->ctx ? "the scenario's context"
                 : "a different context each call", qemu_main_loop_initialized());
    }
}

/*
 * poll_params with a negative budget: refused with an Error (and dropped
 * silently with a NULL errp), the context's polling left as it was.
 */
static void poll_params_refused(RunState *rs, int64_t max_ns)
{
    int64_t before_ns = rs->ctx->poll_max_ns;
    Error *err = NULL;

    /* max, grow, shrink: each negative in turn (max_ns < 0). */
    const int64_t bad[3][3] = {
        { max_ns, 0, 0 }, { 0, max_ns, 0 }, { 0, 0, max_ns },
    };

    aio_context_set_poll_params(rs->ctx, max_ns, 0, 0, NULL);
    for (unsigned k = 0; k < 3; k++) {
        aio_context_set_poll_params(rs->ctx, bad[k][0], bad[k][1], bad[k][2],
                                    &err);
        if (!err || rs->ctx->poll_max_ns != before_ns) {
            sim_fail("aio_context_set_poll_params(%" G_GINT64_FORMAT ", %"
                     G_GINT64_FORMAT ", %" G_GINT64_FORMAT "): %s, poll_max_ns %"
                     G_GINT64_FORMAT " -> %" G_GINT64_FORMAT, bad[k][0],
                     bad[k][1], bad[k][2], err ? "an Error" : "no Error",
                     before_ns, rs->ctx->poll_max_ns);
        }
        error_free(err);
        err = NULL;
    }
}

/* pool_size 0: thread-pool limits that are wrong in each way QEMU checks
 * are refused with an Error, the context's limits left as they were. */
static void pool_size_refused(RunState *rs)
{
    static const int64_t bad[][2] = {
        { 2, 1 }, { 0, 0 }, { -1, 1 }, { 1, (int64_t)INT32_MAX + 1 },
    };
    int before_min = rs->ctx->thread_pool_min;
    int before_max = rs->ctx->thread_pool_max;

    for (unsigned k = 0; k < G_N_ELEMENTS(bad); k++) {
        Error *err = NULL;

        aio_context_set_thread_pool_params(rs->ctx, bad[k][0], bad[k][1], &err);
        if (!err || rs->ctx->thread_pool_min != before_min ||
            rs->ctx->thread_pool_max != before_max) {
            sim_fail("aio_context_set_thread_pool_params(%" G_GINT64_FORMAT ", %"
                     G_GINT64_FORMAT ") %s an Error, limits %d..%d -> %d..%d",
                     bad[k][0], bad[k][1], err ? "with" : "without", before_min,
                     before_max, rs->ctx->thread_pool_min,
                     rs->ctx->thread_pool_max);
        }
        error_free(err);
    }
}

/* `check_loop`: the context's and the main loop's queries. */
static void loop_check(RunState *rs)
{
    bool home = sim_thread_self() == rs->home_thread;
    const Scenario *s = rs->s;
    guint refs;

    /* The home thread's context is current there; elsewhere the main
     * loop's (QEMU's fallback), or none. */
    if (qemu_get_current_aio_context() !=
        (home ? rs->ctx : qemu_get_aio_context())) {
        sim_fail("qemu_get_current_aio_context() in thread %u is not the %s",
                 sim_thread_self(), home ? "scenario's context"
                 : "main loop's context (or NULL without one)");
    }
    if (in_aio_context_home_thread(rs->ctx) != home) {
        sim_fail("in_aio_context_home_thread() is %s in thread %u, the home "
                 "thread is %u", home ? "false" : "true", sim_thread_self(),
                 rs->home_thread);
    }
    for (unsigned i = 0; i < s->object_count[SCN_OBJ_BH]; i++) {
        if (!rs->bh_deleted[i] &&
            strcmp(qemu_bh_get_name(rs->bh[i]), s->objects[SCN_OBJ_BH][i].name)) {
            sim_fail("qemu_bh_get_name() of bh '%s' is '%s'",
                     s->objects[SCN_OBJ_BH][i].name, qemu_bh_get_name(rs->bh[i]));
        }
    }
    /* No scheduling point between the ref and the read: exact. */
    refs = rs->ctx->source.ref_count;
    aio_context_ref(rs->ctx);
    if (rs->ctx->source.ref_count != refs + 1) {
        sim_fail("aio_context_ref() took the reference count from %u to %u",
                 refs, rs->ctx->source.ref_count);
    }
    aio_context_unref(rs->ctx);
    aio_context_set_aio_params(rs->ctx, 32);
    if (rs->ctx->aio_max_batch != 32) {
        sim_fail("aio_context_set_aio_params(32): aio_max_batch is %" G_GINT64_FORMAT,
                 (int64_t)rs->ctx->aio_max_batch);
    }
    if (qemu_main_loop_initialized() != s->uses_main_loop ||
        (s->uses_main_loop && (!iohandler_get_aio_context() ||
                               iohandler_get_aio_context() == rs->ctx))) {
        sim_fail("main loop queries: qemu_main_loop_initialized() is %d with%s "
                 "a main loop, or iohandler_get_aio_context() is not a context "
                 "of its own", qemu_main_loop_initialized(),
                 s->uses_main_loop ? "" : "out");
    }
    if (home) {
        loop_check_notifier(rs);
        (s->uses_main_loop ? loop_check_main_loop : loop_check_no_main_loop)(rs);
    }
}

/* Which lists other threads touch, so the home thread's queries know when
 * their answers are exact. */
static void find_shared_lists(RunState *rs)
{
    const Scenario *s = rs->s;

    for (unsigned t = 1; t < s->thread_count; t++) {
        const ScnBody *b = &s->threads[t].body;

        for (uint32_t j = b->first; j < b->first + b->count; j++) {
            const ScnOp *op = &s->ops[j];
            const ScnObject *o = &s->objects[SCN_OBJ_TIMER][op->obj];

            if (op->kind == SCN_OP_HOST_JUMP) {
                rs->host_jumps_elsewhere = true;
            }
            if (scn_op_object_kind(op->kind) == SCN_OBJ_TIMER &&
                op->kind != SCN_OP_TIMER_CHECK) {
                rs->list_shared[o->main_timer][o->clock] = true;
            }
        }
    }
}

static void exec_op(RunState *rs, const ScnOp *op);

/* ---- coroutines -------------------------------------------------------------
 *
 * Each coroutine object is one Coroutine at a time: created by the first
 * co_enter/co_schedule after it finished (or before it ever ran), freed by
 * the core when its body ends.  The runner's state says which requests are
 * legal now; an illegal one (entering a coroutine that runs or waits for a
 * lock, waking one nobody may wake) is the scenario's mistake, skipped with
 * a trace line, so whatever the model flags is the core's.
 */
typedef enum {
    CO_IDLE,        /* no Coroutine: never started, or finished */
    CO_RUNNING,     /* running, or entered another one and waits for it */
    CO_YIELDED,     /* co_yield: any co_enter/co_schedule/co_wake resumes it */
    CO_BLOCKED,     /* waits for the mutex, the queue or its sleep */
    CO_PENDING,     /* entered, scheduled or woken; not yet running */
} CoRunState;

/* ---- contexts: the scenario's own and the iothreads' ---------------------- */

static AioContext *ctx_at(RunState *rs, unsigned c)
{
    return c == SCN_CTX_HOME ? rs->ctx : rs->io_ctx[c - SCN_CTX_HOME - 1];
}

static uint32_t ctx_thread(RunState *rs, unsigned c)
{
    return c == SCN_CTX_HOME ? rs->home_thread
                             : rs->io_thread_id[c - SCN_CTX_HOME - 1];
}

/* The context the calling thread polls; -1 in a scenario thread other
 * than the home one. */
static int thread_ctx(RunState *rs)
{
    uint32_t self = sim_thread_self();

    for (unsigned c = 0; c <= rs->s->object_count[SCN_OBJ_IOTHREAD]; c++) {
        if (ctx_thread(rs, c) == self) {
            return (int)c;
        }
    }
    return -1;
}

/* Which of the scenario's contexts qemu_get_current_aio_context() names
 * here; -1 for none of them. */
static int current_ctx(RunState *rs)
{
    AioContext *cur = qemu_get_current_aio_context();

    for (unsigned c = 0; c <= rs->s->object_count[SCN_OBJ_IOTHREAD]; c++) {
        if (ctx_at(rs, c) == cur) {
            return (int)c;
        }
    }
    return -1;
}

/* QEMU's iothread_stop_bh: runs in the iothread, whose loop then ends. */
static void iothread_stop_bh(void *opaque)
{
    bool *running = opaque;

    *running = false;
}

typedef struct {
    RunState *rs;
    unsigned index;
} ThreadArg;

static ThreadArg io_args[SCN_IOTHREADS_MAX];

/* QEMU's iothread_run: its context is current here, and it polls it
 * until iothread_stop_bh says stop. */
static void *iothread_run(void *opaque)
{
    ThreadArg *ta = opaque;
    RunState *rs = ta->rs;
    AioContext *ctx = rs->io_ctx[ta->index];

    qemu_set_current_aio_context(ctx);
    rs->io_thread_id[ta->index] = sim_thread_self();
    rs->io_running[ta->index] = true;
    if (rs->co_model) {
        co_model_context_thread(rs->co_model, SCN_CTX_HOME + 1 + ta->index,
                                sim_thread_self());
    }
    qemu_event_set(&rs->io_started);
    while (rs->io_running[ta->index]) {
        aio_poll(ctx, true);
    }
    qemu_set_current_aio_context(NULL);
    return NULL;
}

/* Each iothread running and polling before the home thread goes on, so a
 * coroutine op always finds its context's thread. */
static void iothreads_start(RunState *rs)
{
    for (unsigned k = 0; k < rs->s->object_count[SCN_OBJ_IOTHREAD]; k++) {
        io_args[k] = (ThreadArg){ rs, k };
        qemu_event_reset(&rs->io_started);
        qemu_thread_create(&rs->io_threads[k],
                           rs->s->objects[SCN_OBJ_IOTHREAD][k].name,
                           iothread_run, &io_args[k], QEMU_THREAD_JOINABLE);
        qemu_event_wait(&rs->io_started);
    }
}

/* After every coroutine finished: stop each iothread through its own
 * context's BH (QEMU's iothread_stop), join it, free its context. */
static void iothreads_stop(RunState *rs)
{
    for (unsigned k = 0; k < rs->s->object_count[SCN_OBJ_IOTHREAD]; k++) {
        aio_bh_schedule_oneshot_full(rs->io_ctx[k], iothread_stop_bh,
                                     &rs->io_running[k], "iothread_stop_bh");
        qemu_thread_join(&rs->io_threads[k]);
        aio_context_unref(rs->io_ctx[k]);
        rs->io_ctx[k] = NULL;
    }
}

static void co_check(RunState *rs, const char *violation)
{
    if (violation) {
        sim_fail("%s (t=%" G_GINT64_FORMAT " ns, thread %u)", violation,
                 qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL), sim_thread_self());
    }
}

/* The coroutine came back from a switch (or started): was it due, and
 * is it where its context says? */
static void co_running(RunState *rs, unsigned i)
{
    int here = thread_ctx(rs);
    /* The queries about a coroutine, asked of the one running: plain
     * reads in the core, so no scheduling point is added. */
    Coroutine *self = qemu_coroutine_self();

    if (!qemu_coroutine_entered(self)) {
        sim_fail("coroutine '%s' runs, but qemu_coroutine_entered() says "
                 "no one entered it", rs->s->objects[SCN_OBJ_CORO][i].name);
    }
    if (here >= 0 && qemu_coroutine_get_aio_context(self) != ctx_at(rs, here)) {
        sim_fail("coroutine '%s' runs in the thread of context %d, but "
                 "qemu_coroutine_get_aio_context() names another",
                 rs->s->objects[SCN_OBJ_CORO][i].name, here);
    }
    /* Entered: a no-op (a core that thought it inactive would enter it
     * again, which aborts as a recursive entry). */
    qemu_coroutine_enter_if_inactive(self);
    rs->co_state[i] = CO_RUNNING;
    if (rs->co_model) {
        co_check(rs, co_model_runs(rs->co_model, i, sim_thread_self(),
                                   current_ctx(rs),
                                   qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL)));
    }
    if (here >= 0) {
        rs->co_ctx[i] = (uint8_t)here;
    }
}

/* About to switch away from coroutine i. */
static void co_leaves(RunState *rs, unsigned i, uint8_t state)
{
    rs->co_state[i] = state;
    if (rs->co_model) {
        co_model_leaves(rs->co_model, i);
    }
}

static void co_entry(void *opaque)
{
    CbCtx *cb = opaque;
    RunState *rs = cb->rs;
    const ScnBody *body = &rs->s->objects[SCN_OBJ_CORO][cb->index].body;

    co_running(rs, cb->index);
    for (uint32_t j = body->first; j < body->first + body->count; j++) {
        if (rs->co_finishing) {
            break;
        }
        exec_op(rs, &rs->s->ops[j]);
    }
    /* A body may end holding the mutex; the next holder must get it. */
    if (rs->co_holds[cb->index]) {
        rs->co_holds[cb->index] = false;
        if (rs->co_model) {
            co_model_unlock(rs->co_model, cb->index);
        }
        qemu_co_mutex_unlock(&rs->co_mutex);
    }
    ran(cb);
    if (rs->co_model) {
        co_model_ends(rs->co_model, cb->index);
    }
    rs->co[cb->index] = NULL;       /* the core frees it as it returns */
    rs->co_state[cb->index] = CO_IDLE;
    /* Teardown polls the home context until every coroutine ended. */
    if (rs->co_finishing && sim_thread_self() != rs->home_thread) {
        aio_notify(rs->ctx);
    }
}

/*
 * Whether op may act on coroutine i now; creates it if it is idle.  A
 * yielded one is only safe to enter (or to schedule into another context)
 * from its own context's thread: elsewhere its yield may not have switched
 * away yet — a wake goes through its context's BH instead.  `into` is the
 * context a schedule targets, -1 for an enter or a wake.
 */
static bool co_ready(RunState *rs, unsigned i, bool may_create, int into)
{
    uint8_t st = rs->co_state[i];

    if (st == CO_YIELDED) {
        int here = thread_ctx(rs);

        if (into == -2 || here == rs->co_ctx[i] || into == rs->co_ctx[i]) {
            return true;
        }
        sim_trace_user("skipped: coroutine yielded in another thread's "
                       "context (wake it there with co_wake)", i);
        return false;
    }
    if (st == CO_IDLE && may_create && !rs->co_finishing) {
        rs->co[i] = qemu_coroutine_create(co_entry, &rs->cb[SCN_OBJ_CORO][i]);
        rs->co_ctx[i] = SCN_CTX_HOME;
        return true;
    }
    sim_trace_user(st == CO_IDLE ? "skipped: coroutine not started"
                   : "skipped: coroutine running, waiting or woken already",
                   i);
    return false;
}

/* qemu_coroutine_enter: it runs here, in this thread's context. */
static void co_enter_op(RunState *rs, unsigned i)
{
    int here = thread_ctx(rs);
    bool fresh = rs->co_state[i] == CO_IDLE;

    g_assert(here >= 0);    /* runner_check: home thread or a coroutine */
    if (!co_ready(rs, i, true, -1)) {
        return;
    }
    rs->co_state[i] = CO_PENDING;
    rs->co_ctx[i] = (uint8_t)here;
    if (rs->co_model) {
        co_model_enter(rs->co_model, i, (unsigned)here);
    }
    /* A coroutine just created was never entered: the _if_inactive form
     * must enter it (the model owes it a run otherwise). */
    if (fresh) {
        qemu_coroutine_enter_if_inactive(rs->co[i]);
    } else {
        qemu_coroutine_enter(rs->co[i]);
    }
}

/*
 * aio_co_schedule, or aio_co_wake: from the home thread outside a
 * coroutine a wake enters at once, inside one right after it yields —
 * both direct; from any other thread it goes through the BH.
 */
static void co_schedule_op(RunState *rs, unsigned i, bool wake,
                           unsigned into)
{
    uint64_t token = 0;
    bool via_bh;
    Coroutine *co;

    if (!co_ready(rs, i, !wake, wake ? -2 : (int)into)) {
        return;
    }
    co = rs->co[i];
    if (wake) {
        into = rs->co_ctx[i];   /* aio_co_wake: the context it is in */
    }
    via_bh = !wake || sim_thread_self() != ctx_thread(rs, into);
    rs->co_state[i] = CO_PENDING;
    rs->co_ctx[i] = (uint8_t)into;
    if (rs->co_model) {
        if (via_bh) {
            token = co_model_schedule_begin(rs->co_model, i, into);
        } else {
            co_model_enter(rs->co_model, i, into);
        }
    }
    if (wake) {
        aio_co_wake(co);
    } else {
        aio_co_schedule(ctx_at(rs, into), co);
    }
    if (rs->co_model && via_bh) {
        co_model_schedule_end(rs->co_model, i, token);
    }
}

static unsigned co_self(RunState *rs)
{
    Coroutine *self = qemu_coroutine_self();

    for (unsigned i = 0; i < rs->s->object_count[SCN_OBJ_CORO]; i++) {
        if (rs->co[i] == self) {
            return i;
        }
    }
    sim_fail("runner: a coroutine operation outside the scenario's "
             "coroutines");
}

/* qemu_co_mutex_lock: it may wait, and then comes back from the
 * handoff in its own context's thread. */
static void co_lock_op(RunState *rs, unsigned i)
{
    if (rs->co_holds[i]) {
        sim_trace_user("skipped: coroutine holds the mutex already", i);
        return;
    }
    if (rs->co_model) {
        co_model_lock_call(rs->co_model, i, sim_thread_self());
    }
    co_leaves(rs, i, CO_BLOCKED);
    qemu_co_mutex_lock(&rs->co_mutex);
    if (rs->co_model) {
        co_check(rs, co_model_locked(rs->co_model, i));
    }
    co_running(rs, i);
    rs->co_holds[i] = true;
    qemu_co_mutex_assert_locked(&rs->co_mutex);    /* aborts if not ours */
}

static void co_unlock_op(RunState *rs, unsigned i)
{
    if (!rs->co_holds[i]) {
        sim_trace_user("skipped: coroutine does not hold the mutex", i);
        return;
    }
    rs->co_holds[i] = false;
    if (rs->co_model) {
        co_model_unlock(rs->co_model, i);
    }
    qemu_co_mutex_unlock(&rs->co_mutex);
}

/*
 * The CoMutex handed to a core call that releases it and takes it back
 * inside (qemu_co_queue_wait, qemu_co_enter_next): told to the model as
 * an unlock, then a lock call at an unknown moment, so the return is
 * checked as the lock's.
 */
static void co_mutex_handed_begin(RunState *rs, unsigned i)
{
    rs->co_holds[i] = false;
    if (rs->co_model) {
        co_model_unlock(rs->co_model, i);
        co_model_lock_call_unordered(rs->co_model, i);
    }
}

static void co_mutex_handed_end(RunState *rs, unsigned i)
{
    if (rs->co_model) {
        co_check(rs, co_model_locked(rs->co_model, i));
    }
    co_running(rs, i);
    rs->co_holds[i] = true;
    qemu_co_mutex_assert_locked(&rs->co_mutex);
}

/* qemu_co_queue_wait(&queue, &mutex) when it holds the mutex, as QEMU's
 * callers do.  SCN_LOCK_NONE: the runner unlocks and relocks around a
 * wait given no lock, told to the model as such; SCN_LOCK_CO_MUTEX: the
 * core is given the mutex; SCN_LOCK_QEMU_MUTEX: the caller holds a thread
 * mutex the core releases around the yield and takes back. */
static void co_wait_op(RunState *rs, unsigned i, int lock)
{
    bool held = rs->co_holds[i];
    bool qemu_mutex = lock == SCN_LOCK_QEMU_MUTEX;

    if (held && lock == SCN_LOCK_CO_MUTEX) {
        co_leaves(rs, i, CO_BLOCKED);
        /* Queued before the unlock, as the core does: no scheduling point
         * between these and its push. */
        if (rs->co_model) {
            co_model_queue_wait(rs->co_model, i);
        }
        co_mutex_handed_begin(rs, i);
        qemu_co_queue_wait(&rs->co_queue, &rs->co_mutex);
        co_mutex_handed_end(rs, i);
        return;
    }
    if (held) {
        co_unlock_op(rs, i);
    }
    if (qemu_mutex) {
        qemu_mutex_lock(&rs->co_queue_lock);
    }
    co_leaves(rs, i, CO_BLOCKED);
    /* In the queue from here: nothing between this and the core's push
     * is a scheduling point, so a restart in another thread (the unlock
     * above has scheduling points) sees it queued exactly when the model
     * does — and one that came before finds nobody, which is the
     * scenario's race (a CoQueue is its caller's to lock), not a lost
     * wake-up. */
    if (rs->co_model) {
        co_model_queue_wait(rs->co_model, i);
    }
    if (qemu_mutex) {
        qemu_co_queue_wait(&rs->co_queue, &rs->co_queue_lock);
    } else {
        qemu_co_queue_wait(&rs->co_queue, (CoMutex *)NULL);
    }
    co_running(rs, i);
    if (qemu_mutex) {
        qemu_mutex_unlock(&rs->co_queue_lock);
    }
    if (held) {
        co_lock_op(rs, i);
    }
}

/*
 * thread_pool_submit_co(): the job's work runs in a worker of the pool of
 * the coroutine's context, and the completion wakes the coroutine with
 * the work's result.  A wake before the work is done, a lost completion
 * (coroutine_owed()) or a wrong result fails.
 */
static void co_submit_op(RunState *rs, unsigned i, uint8_t job)
{
    JobReq *req = g_new0(JobReq, 1);
    int ret;

    req->cb = &rs->cb[SCN_OBJ_JOB][job];
    rs->co_pool_req[i] = req;
    co_leaves(rs, i, CO_BLOCKED);
    if (rs->co_model) {
        co_model_pool_wait(rs->co_model, i);
    }
    ret = thread_pool_submit_co(job_work, req);
    co_running(rs, i);
    if (!req->work_done || ret != JOB_RESULT(job)) {
        sim_fail("thread_pool_submit_co(): job '%s' returned %d with its "
                 "work %s; the work returns %d",
                 rs->s->objects[SCN_OBJ_JOB][job].name, ret,
                 req->work_done ? "done" : "not done", JOB_RESULT(job));
    }
    rs->co_pool_req[i] = NULL;
    g_free(req);
}

/*
 * qemu_co_enter_next(): the queue's oldest waiter is entered here and
 * now, the lock (none, or the QemuMutex the caller holds) released around
 * it.  The model names the oldest; the runner only asks when that one
 * belongs to this thread's context (an enter elsewhere is the caller's
 * bug) and no restart elsewhere may have taken it.  Both answers —
 * qemu_co_queue_empty() and what the call returns — are checked.
 */
static void co_enter_next_op(RunState *rs, int lock)
{
    int here = thread_ctx(rs);
    int head;
    bool entered;
    int self = -1;      /* the calling coroutine handing the core its mutex */

    g_assert(here >= 0);    /* runner_check: home thread or a coroutine */
    if (!rs->co_model || sim_thread_self() != rs->home_thread) {
        sim_trace_user("skipped: co_enter_next needs the model and the home "
                       "thread", 0);
        return;
    }
    /* Taken before the queue is read: no scheduling point may lie between
     * the oldest the model names and the core's pop. */
    if (lock == SCN_LOCK_QEMU_MUTEX) {
        qemu_mutex_lock(&rs->co_queue_lock);
    }
    head = co_model_queue_head(rs->co_model);
    if (head == -2 || (head >= 0 && rs->co_ctx[head] != here)) {
        if (lock == SCN_LOCK_QEMU_MUTEX) {
            qemu_mutex_unlock(&rs->co_queue_lock);
        }
        sim_trace_user(head == -2 ? "skipped: a restart may have taken the "
                       "queue's oldest" : "skipped: the queue's oldest waits "
                       "in another context", 0);
        return;
    }
    if (qemu_co_queue_empty(&rs->co_queue) != (head < 0)) {
        sim_fail(head < 0 ? "qemu_co_queue_empty() says a coroutine waits in "
                 "the CoQueue, but none does%s"
                 : "qemu_co_queue_empty() says the CoQueue is empty, but "
                 "coroutine '%s' waits there",
                 head < 0 ? "" : rs->s->objects[SCN_OBJ_CORO][head].name);
    }
    /* With nobody to enter the core touches no lock: given none. */
    if (lock == SCN_LOCK_CO_MUTEX && head >= 0 && qemu_in_coroutine()) {
        self = (int)co_self(rs);
        if (!rs->co_holds[self]) {
            self = -1;      /* it does not hold the mutex: given none */
        }
    }
    if (head >= 0) {
        rs->co_state[head] = CO_PENDING;
        co_model_enter_next(rs->co_model, (unsigned)head);
    }
    if (lock == SCN_LOCK_QEMU_MUTEX) {
        entered = qemu_co_enter_next(&rs->co_queue, &rs->co_queue_lock);
        qemu_mutex_unlock(&rs->co_queue_lock);
    } else if (self >= 0) {
        /* It switches away to the entered one, and may wait for the
         * mutex when it takes it back. */
        co_leaves(rs, (unsigned)self, CO_BLOCKED);
        co_mutex_handed_begin(rs, (unsigned)self);
        entered = qemu_co_enter_next(&rs->co_queue, &rs->co_mutex);
        co_mutex_handed_end(rs, (unsigned)self);
    } else {
        entered = qemu_co_enter_next(&rs->co_queue, (CoMutex *)NULL);
    }
    if (entered != (head >= 0)) {
        sim_fail("qemu_co_enter_next() returned %s with %s in the CoQueue",
                 entered ? "true" : "false",
                 head >= 0 ? rs->s->objects[SCN_OBJ_CORO][head].name
                 : "nobody");
    }
}

/* qemu_co_queue_restart_all(), told to the model as a call with a
 * beginning and an end: its pops have scheduling points, and a coroutine
 * another thread queues meanwhile may be restarted or not. */
static void co_restart_all(RunState *rs)
{
    if (rs->co_model) {
        co_model_restart_begin(rs->co_model);
    }
    qemu_co_queue_restart_all(&rs->co_queue);
    if (rs->co_model) {
        co_model_restart_end(rs->co_model);
    }
}

/* aio_co_reschedule_self: into its own context it returns at once. */
static void co_reschedule_op(RunState *rs, unsigned i, unsigned into)
{
    if (rs->co_ctx[i] == into) {
        aio_co_reschedule_self(ctx_at(rs, into));
        return;
    }
    rs->co_state[i] = CO_BLOCKED;
    rs->co_ctx[i] = (uint8_t)into;
    if (rs->co_model) {
        co_model_reschedule(rs->co_model, i, into);
    }
    aio_co_reschedule_self(ctx_at(rs, into));
    co_running(rs, i);
}

static void co_op(RunState *rs, const ScnOp *op)
{
    unsigned self;

    switch (op->kind) {
    case SCN_OP_CO_ENTER:
        co_enter_op(rs, op->obj);
        return;
    case SCN_OP_CO_SCHEDULE:
    case SCN_OP_CO_WAKE:
        co_schedule_op(rs, op->obj, op->kind == SCN_OP_CO_WAKE,
                       (unsigned)op->arg);
        return;
    case SCN_OP_CO_RESTART_ALL:
        co_restart_all(rs);
        return;
    case SCN_OP_CO_ENTER_NEXT:
        co_enter_next_op(rs, (int)op->arg);
        return;
    default:
        break;
    }
    self = co_self(rs);
    switch (op->kind) {
    case SCN_OP_CO_YIELD:
        co_leaves(rs, self, CO_YIELDED);
        qemu_coroutine_yield();
        co_running(rs, self);
        return;
    case SCN_OP_CO_RESCHEDULE:
        co_reschedule_op(rs, self, (unsigned)op->arg);
        return;
    case SCN_OP_CO_SLEEP:
        co_leaves(rs, self, CO_BLOCKED);
        if (rs->co_model) {
            co_model_sleep(rs->co_model, self,
                           qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) + op->arg);
        }
        qemu_co_sleep_ns(QEMU_CLOCK_VIRTUAL, op->arg);
        co_running(rs, self);
        return;
    case SCN_OP_CO_LOCK:
        co_lock_op(rs, self);
        return;
    case SCN_OP_CO_UNLOCK:
        co_unlock_op(rs, self);
        return;
    case SCN_OP_CO_WAIT:
        co_wait_op(rs, self, (int)op->arg);
        return;
    case SCN_OP_CO_SUBMIT:
        co_submit_op(rs, self, op->obj);
        return;
    default:
        sim_fail("runner: unknown coroutine operation %d", op->kind);
    }
}

/* Teardown: every coroutine runs to its end (no body op runs any more),
 * so none is left suspended with its stack when the world ends. */
static void co_finish_all(RunState *rs)
{
    unsigned n = rs->s->object_count[SCN_OBJ_CORO];

    rs->co_finishing = true;
    for (int round = 0; round < 1000; round++) {
        bool left = false;

        /* A fault schedule that wakes every poll at once (a spurious
         * wake-up each time) never lets virtual time reach a sleeping
         * coroutine's deadline; the first rounds keep the faults, the
         * rest run without, as the lost-signal rounds do. */
        if (round == 16) {
            sim_faults_set(0);
        }
        co_restart_all(rs);
        for (unsigned i = 0; i < n; i++) {
            if (rs->co_state[i] == CO_YIELDED) {
                if (rs->co_ctx[i] == SCN_CTX_HOME) {
                    co_enter_op(rs, i);
                } else {
                    co_schedule_op(rs, i, true, 0);   /* in its iothread */
                }
            }
            left |= rs->co_state[i] != CO_IDLE;
        }
        if (!left) {
            return;
        }
        aio_poll(rs->ctx, true);    /* a sleep's timer, a scheduled one */
    }
    sim_fail("teardown: a coroutine never finished");
}

static void exec_op(RunState *rs, const ScnOp *op)
{
    uint8_t i = op->obj;

    announce(rs, op);
    if (rs->co_model) {
        co_model_step(rs->co_model, sim_thread_self());
    }
    if (op->obj_kind == SCN_OBJ_TIMER && op->kind != SCN_OP_WAIT &&
        !rs->timer[i]) {
        /* A late signal's body, in the teardown's last drain. */
        sim_trace_user("skipped: timer freed by the teardown", i);
        return;
    }
    switch (op->kind) {
    case SCN_OP_SCHEDULE:
    case SCN_OP_SCHEDULE_IDLE:
    case SCN_OP_CANCEL:
    case SCN_OP_DELETE:
        if (rs->bh_deleted[i]) {
            sim_trace_user("skipped: bh already deleted", i);
            return;
        }
        /* Owed from before the call (a run racing with it clears it, and
         * misses a run, never invents one) until a cancel returns. */
        rs->bh_owed[i] = op->kind == SCN_OP_SCHEDULE ||
                         op->kind == SCN_OP_SCHEDULE_IDLE;
        if (op->kind == SCN_OP_SCHEDULE) {
            qemu_bh_schedule(rs->bh[i]);
        } else if (op->kind == SCN_OP_SCHEDULE_IDLE) {
            qemu_bh_schedule_idle(rs->bh[i]);
        } else if (op->kind == SCN_OP_CANCEL) {
            qemu_bh_cancel(rs->bh[i]);
            rs->bh_owed[i] = false;
        } else {
            rs->bh_deleted[i] = true;
            qemu_bh_delete(rs->bh[i]);
        }
        return;
    case SCN_OP_ONESHOT:
        aio_bh_schedule_oneshot_full(rs->ctx, bh_cb, &rs->cb[SCN_OBJ_ONESHOT][i],
                                     rs->s->objects[SCN_OBJ_ONESHOT][i].name);
        return;
    case SCN_OP_FD_ADD:
    case SCN_OP_FD_REPLACE:
        fd_register(rs, i, op->kind == SCN_OP_FD_REPLACE);
        return;
    case SCN_OP_FD_REMOVE:
        aio_set_fd_handler(rs->ctx, rs->fd[i], NULL, NULL, NULL, NULL, NULL);
        if (!rs->model) {
            rs->fd_registered[i] = false;
        }
        return;
    case SCN_OP_FD_RAISE:
    case SCN_OP_FD_LOWER:
        if (rs->s->objects[SCN_OBJ_FD][i].suppress) {
            if (op->kind == SCN_OP_FD_RAISE) {
                vq_raise(rs, i);
                return;
            }
            rs->vq_pending[i] = false;  /* the request is withdrawn */
        }
        sim_external_set(rs->fd[i], op->kind == SCN_OP_FD_RAISE,
                         rs->fd_writable[i]);
        return;
    case SCN_OP_FD_WRITABLE:
    case SCN_OP_FD_UNWRITABLE:
        fd_set_writable(rs, i, op->kind == SCN_OP_FD_WRITABLE);
        return;
    case SCN_OP_TIMER_CHECK:
        timer_check(rs, i);
        return;
    case SCN_OP_RUN_TIMERS:
        run_timers(rs, (int)op->arg);
        return;
    case SCN_OP_CLOCK_ENABLE:
    case SCN_OP_CLOCK_DISABLE:
        clock_set(rs, (int)op->arg, op->kind == SCN_OP_CLOCK_ENABLE);
        return;
    case SCN_OP_CLOCK_CHECK:
        clock_check(rs, (int)op->arg);
        return;
    case SCN_OP_LOOP_CHECK:
        loop_check(rs);
        return;
    case SCN_OP_TIMER_MOD:
    case SCN_OP_TIMER_ANTICIPATE: {
        int clock = rs->s->objects[SCN_OBJ_TIMER][i].clock;
        int64_t now_ns = qemu_clock_get_ns(clock);
        int64_t at_ns;

        /* Saturate: a scenario may name any int64 duration. */
        if (__builtin_add_overflow(now_ns, op->arg, &at_ns)) {
            at_ns = op->arg > 0 ? INT64_MAX : INT64_MIN;
        }
        timer_arm(rs, i, at_ns, op->kind == SCN_OP_TIMER_ANTICIPATE);
        return;
    }
    case SCN_OP_TIMER_MOD_AT:
        timer_arm(rs, i, op->arg, false);
        return;
    case SCN_OP_HOST_JUMP:
        sim_host_clock_jump_ns(op->arg);
        return;
    case SCN_OP_POLL_PARAMS:
        if (op->arg < 0) {
            poll_params_refused(rs, op->arg);
            return;
        }
        aio_context_set_poll_params(rs->ctx, op->arg, 0, 0, &error_abort);
        return;
    case SCN_OP_KILL:
        sim_raise_signal(signal_number(rs->s->objects[SCN_OBJ_SIGNAL][i].signal));
        return;
    case SCN_OP_TIMER_DEL:
        timer_del(rs->timer[i]);
        return;
    case SCN_OP_NOTIFY:
        aio_notify(rs->ctx);
        return;
    case SCN_OP_POLL:
        poll_once(rs, true);
        return;
    case SCN_OP_POLL_NB:
        poll_once(rs, false);
        return;
    case SCN_OP_DRAIN:
        while (poll_once(rs, false)) {
            /* bounded by the simulator's step limit (livelock verdict) */
        }
        return;
    case SCN_OP_WAIT: {
        /* Until the object has run arg times in all since the start. */
        ScnObjKind kind = (ScnObjKind)op->obj_kind;
        uint64_t target = (uint64_t)op->arg;

        /* A main-loop scenario's home thread is the main loop: it waits
         * in main_loop_wait (glib's prepare/poll/check/dispatch). */
        while (rs->runs[kind][i] < target) {
            if (rs->s->uses_main_loop) {
                main_loop_once(rs, false);
            } else if (!poll_once(rs, true) && rs->cut_waits) {
                break;  /* waits cut short: run what is there, no more */
            }
            if (rs->cut_waits && rs->s->uses_main_loop) {
                break;  /* main_loop_wait reports no progress: one round */
            }
        }
        return;
    }
    case SCN_OP_MAIN_LOOP_WAIT:
        main_loop_once(rs, op->arg != 0);
        return;
    case SCN_OP_NOTIFY_EVENT:
        /* The promise is made before the call: its BH may run (and spend
         * it, observe()) before qemu_notify_event() returns here. */
        if (rs->main_loop_waits == 0) {
            rs->notify_event_unconsumed = true;
        }
        qemu_notify_event();
        return;
    case SCN_OP_SUBMIT:
        (rs->s->objects[SCN_OBJ_JOB][i].nocb ? job_submit_nocb
                                             : job_submit)(rs, i);
        return;
    case SCN_OP_JOB_CANCEL:
        job_cancel(rs, i);
        return;
    case SCN_OP_POOL_SIZE:
        if (op->arg == 0) {
            pool_size_refused(rs);
            return;
        }
        aio_context_set_thread_pool_params(rs->ctx, op->arg, op->arg,
                                           &error_abort);
        return;
    case SCN_OP_ADVANCE:
        sim_advance_ns(op->arg);
        return;
    case SCN_OP_YIELD:
        sim_yield("scenario");
        return;
    case SCN_OP_CO_ENTER:
    case SCN_OP_CO_SCHEDULE:
    case SCN_OP_CO_WAKE:
    case SCN_OP_CO_YIELD:
    case SCN_OP_CO_SLEEP:
    case SCN_OP_CO_LOCK:
    case SCN_OP_CO_UNLOCK:
    case SCN_OP_CO_WAIT:
    case SCN_OP_CO_RESTART_ALL:
    case SCN_OP_CO_RESCHEDULE:
    case SCN_OP_CO_ENTER_NEXT:
    case SCN_OP_CO_SUBMIT:
        co_op(rs, op);
        return;
    case SCN_OP_AIO_WAIT_WHILE:
        aio_wait_while_op(rs, i, op->arg == 1);
        return;
    case SCN_OP_KIND_MAX:
        break;
    }
    sim_fail("runner: unknown operation %d", op->kind);
}

static void exec_body(RunState *rs, const ScnBody *body)
{
    for (uint32_t i = body->first; i < body->first + body->count; i++) {
        exec_op(rs, &rs->s->ops[i]);
    }
}

static void *scenario_thread(void *opaque)
{
    ThreadArg *ta = opaque;

    exec_body(ta->rs, &ta->rs->s->threads[ta->index].body);
    return NULL;
}

static bool ready_fd_pending(RunState *rs, char *buf, size_t len);

static void observe(const SimEvent *ev, void *opaque)
{
    RunState *rs = opaque;
    const char *violation = model_event(rs->model, ev);

    /* qemu_notify_event()'s BH ran — in an aio_poll() perhaps, not a
     * main_loop_wait(): the promise is spent either way. */
    if (ev->kind == QOS_EV_BH_RUN &&
        sim_event_name_is(ev, "notify_event_cb")) {
        rs->notify_event_unconsumed = false;
    }

    /* Time jumped because every thread waited: a readable fd with a read
     * handler should have ended the wait (the model sees no fd readiness;
     * the runner does).  Only a deadline did: a lost wake-up. */
    if (!violation && ev->kind == SIM_EV_CLOCK &&
        sim_event_name_is(ev, "idle")) {
        char due[160];

        if (ready_fd_pending(rs, due, sizeof(due))) {
            sim_fail("liveness: every thread waited until %" G_GINT64_FORMAT
                     " ns while %s: a wake-up was lost, and only a deadline "
                     "ended the wait", ev->arg, due);
        }
    }
    /*
     * A pool never runs more workers than its max_threads: each is spawned
     * while cur_threads < max_threads (or < min_threads <= max), and none
     * exits before the pool is freed.  Only the home context's pool is
     * sized by the scenario; iothreads' pools would blur the count.
     */
    if (ev->kind == SIM_EV_THREAD_START &&
        sim_event_name_is(ev, "pool-worker") &&
        rs->s->object_count[SCN_OBJ_IOTHREAD] == 0 && rs->ctx &&
        ++rs->pool_workers > rs->ctx->thread_pool_max) {
        sim_fail("thread pool: worker %d started, but its max_threads is "
                 "%d", rs->pool_workers, rs->ctx->thread_pool_max);
    }
    /*
     * Whether a scenario fd has a handler, and which body, as of the core's
     * FD_ADD/FD_REMOVE events (their linearization points): threads race
     * to register, and bookkeeping after aio_set_fd_handler() returns can
     * be overtaken.  A replacement is a REMOVE then an ADD.
     */
    if (ev->kind == QOS_EV_FD_ADD || ev->kind == QOS_EV_FD_REMOVE) {
        for (unsigned i = 0; i < rs->s->object_count[SCN_OBJ_FD]; i++) {
            if (rs->fd[i] != ev->arg2) {
                continue;
            }
            rs->fd_registered[i] = ev->kind == QOS_EV_FD_ADD;
            rs->fd_reg_thread[i] = ev->thread;
            if (ev->kind == QOS_EV_FD_ADD &&
                rs->registering_alt[ev->thread & 63] >= 0) {
                rs->fd_alt[i] = rs->registering_alt[ev->thread & 63];
                /* Taken in the registering thread: observe() runs at
                 * the event, inside aio_set_fd_handler(). */
                g_assert(sim_thread_self() == ev->thread);
                rs->fd_alt_stamp[i] = sim_mem_stamp();
            }
        }
    }
    if (violation) {
        sim_fail("%s (event %" G_GUINT64_FORMAT ", t=%" G_GINT64_FORMAT
                 " ns, thread %u)", violation, ev->seq, ev->time_ns,
                 ev->thread);
    }
}

/*
 * The context, or the main loop.  Creating them may fail as stated when the
 * fdcreate fault refuses an eventfd or a signalfd: aio_context_new()
 * returns NULL with an Error, qemu_init_main_loop() a negative errno with
 * one.  That ends the run — it passes, with the Error as its story.
 */
static bool setup_context(RunState *rs)
{
    Error *err = NULL;

    if (rs->s->uses_main_loop) {
        int ret = qemu_init_main_loop(&err);

        if (ret < 0 || err) {
            if (!err || ret >= 0) {
                sim_fail("qemu_init_main_loop() returned %d %s an Error", ret,
                         err ? "with" : "without");
            }
            g_strlcpy(rs->setup_error, error_get_pretty(err),
                      sizeof(rs->setup_error));
            error_free(err);
            return false;
        }
        rs->ctx = qemu_get_aio_context();
        rs->loop_thread = sim_thread_self();
    } else {
        rs->ctx = aio_context_new(&err);
        if (!rs->ctx || err) {
            if (!err || rs->ctx) {
                sim_fail("aio_context_new() returned %s %s an Error",
                         rs->ctx ? "a context" : "NULL", err ? "with" : "without");
            }
            g_strlcpy(rs->setup_error, error_get_pretty(err),
                      sizeof(rs->setup_error));
            error_free(err);
            return false;
        }
        rs->ctx->name = "scenario";
        qemu_set_current_aio_context(rs->ctx);
    }
    return true;
}

/*
 * On the context (aio_timer_new), or embedded and on main_loop_tlg
 * (timer_init_full with no group), in the timer's unit.  The model's key
 * is its list's trace key and its id: main_loop_tlg's lists have no
 * context part.
 */
static void runner_timer_create(RunState *rs, unsigned i)
{
    const ScnObject *o = &rs->s->objects[SCN_OBJ_TIMER][i];
    CbCtx *cb = &rs->cb[SCN_OBJ_TIMER][i];
    int64_t ctx_part = 0;
    QEMUTimer *t;

    if (o->main_timer) {
        t = &rs->main_timers[i];
        timer_init_full(t, NULL, o->clock, (int)scale_ns(o), 0, timer_cb, cb);
    } else {
        t = aio_timer_new(rs->ctx, o->clock, (int)scale_ns(o), timer_cb, cb);
        ctx_part = (int64_t)rs->ctx->notifier.rfd << 36;
    }
    rs->timer[i] = t;
    rs->timer_key[i] = ctx_part | (int64_t)o->clock << 32 | t->id;
    if (rs->model) {
        model_name_timer(rs->model, rs->timer_key[i], o->name);
    }
}

/* A main-loop timer is embedded: deinit, after which timer_del has no
 * list to take it from and must leave it not pending. */
static void runner_timer_destroy(RunState *rs, unsigned i)
{
    QEMUTimer *t = rs->timer[i];

    if (!rs->s->objects[SCN_OBJ_TIMER][i].main_timer) {
        /* NULL once freed before the last drain: timer_free() takes NULL,
         * as a device's unrealize relies on. */
        timer_free(t);
        return;
    }
    timer_deinit(t);
    timer_del(t);
    if (timer_pending(t) || t->timer_list) {
        sim_fail("timer_deinit: timer '%s' still pending or on a list",
                 rs->s->objects[SCN_OBJ_TIMER][i].name);
    }
}

/* The iothreads' contexts, made first so that a failure frees them all. */
static void iothread_contexts_free(RunState *rs)
{
    for (unsigned k = 0; k < rs->s->object_count[SCN_OBJ_IOTHREAD]; k++) {
        if (rs->io_ctx[k]) {
            aio_context_unref(rs->io_ctx[k]);
            rs->io_ctx[k] = NULL;
        }
    }
}

static bool iothread_contexts_new(RunState *rs)
{
    for (unsigned k = 0; k < rs->s->object_count[SCN_OBJ_IOTHREAD]; k++) {
        Error *err = NULL;

        /* fdcreate may refuse its eventfd, as for the home context. */
        rs->io_ctx[k] = aio_context_new(&err);
        if (!rs->io_ctx[k]) {
            g_strlcpy(rs->setup_error, error_get_pretty(err),
                      sizeof(rs->setup_error));
            error_free(err);
            iothread_contexts_free(rs);
            return false;
        }
        rs->io_ctx[k]->name = rs->s->objects[SCN_OBJ_IOTHREAD][k].name;
    }
    return true;
}

static bool setup(RunState *rs)
{
    const Scenario *s = rs->s;

    if (!iothread_contexts_new(rs)) {
        return false;
    }
    if (!setup_context(rs)) {
        iothread_contexts_free(rs);
        if (s->uses_main_loop) {
            /*
             * A failed qemu_init_main_loop() unregisters its contexts and
             * signalfd, but keeps the main-loop timer lists init_clocks()
             * made (QEMU exits on this error).  They belong to this run's
             * world: left behind, the next run's init_clocks() would take
             * them over — lists its qloop_clocks_forget() has dropped from
             * the clock registry, linked to this world's freed lists — and
             * an input would not replay alone as it ran after this one.
             */
            qloop_main_loop_teardown(false);
        }
        return false;
    }
    for (int k = 0; k < SCN_OBJ_KIND_MAX; k++) {
        for (unsigned i = 0; i < s->object_count[k]; i++) {
            rs->cb[k][i] = (CbCtx){ rs, (ScnObjKind)k, (uint8_t)i, false };
        }
    }
    for (unsigned i = 0; i < s->object_count[SCN_OBJ_BH]; i++) {
        unsigned guard = s->objects[SCN_OBJ_BH][i].guard;

        rs->guard_count = MAX(rs->guard_count, guard);
        rs->bh[i] = aio_bh_new_full(rs->ctx, bh_cb, &rs->cb[SCN_OBJ_BH][i],
                                    s->objects[SCN_OBJ_BH][i].name,
                                    guard ? &rs->guards[guard - 1] : NULL);
    }
    if (s->object_count[SCN_OBJ_SIGNAL]) {
        signals_install();
    }
    for (unsigned i = 0; i < s->object_count[SCN_OBJ_FD]; i++) {
        rs->fd[i] = sim_external_fd(s->objects[SCN_OBJ_FD][i].name);
        rs->cb_alt[i] = (CbCtx){ rs, SCN_OBJ_FD, (uint8_t)i, true };
    }
    for (unsigned i = 0; i < s->object_count[SCN_OBJ_TIMER]; i++) {
        runner_timer_create(rs, i);
    }
    rs->home_thread = sim_thread_self();
    find_shared_lists(rs);
    qemu_co_mutex_init(&rs->co_mutex);
    qemu_co_queue_init(&rs->co_queue);
    qemu_mutex_init(&rs->co_queue_lock);
    /* As a device with coroutines sizes QEMU's pool (virtio-blk's queues):
     * ours keeps none, so the calls only have to be there. */
    qemu_coroutine_inc_pool_size(s->object_count[SCN_OBJ_CORO]);
    if (rs->model) {
        rs->co_model = co_model_new(s, rs->home_thread);
    }
    qemu_event_init(&rs->io_started, false);
    return true;
}

/* What a round of the main loop did that may leave more to do: callbacks
 * run (a BH, a handler, a timer) and faults injected (a failed read
 * leaves its fd readable). */
static uint64_t drain_work_done(void)
{
    return sim_trace_kind_count(QOS_EV_BH_RUN) +
           sim_trace_kind_count(QOS_EV_FD_CALL) +
           sim_trace_kind_count(QOS_EV_TIMER_FIRE) +
           sim_trace_kind_count(SIM_EV_FAULT);
}

static void drain(RunState *rs)
{
    for (int i = 0; i < 10000 && aio_poll(rs->ctx, false); i++) {
        /* callback chains are finite (or the run is a livelock verdict) */
    }
    /*
     * Signals wait on iohandler_ctx, which only main_loop_wait runs.  Up to
     * four rounds, until one does nothing: with no other thread running and
     * no time passing, a non-blocking round that ran nothing leaves the
     * loop as it found it, and the next would run nothing either.  An idle
     * round costs as much as a tenth of a short run.
     */
    for (int i = 0; i < 4 && rs->s->uses_main_loop; i++) {
        uint64_t before = drain_work_done();

        rs->main_loop_waits++;
        main_loop_wait(true);
        rs->main_loop_waits--;
        if (drain_work_done() == before) {
            break;
        }
    }
}

/*
 * Every kill is followed by a handler call: a signal still pending once
 * the objects are drained was lost.  A read that failed (the readfail
 * fault) leaves its signal pending and the signalfd readable, so first
 * give the main loop more rounds, while the model still waits for one.
 * Those rounds run with no injected fault: a fault schedule that fails
 * every read would otherwise starve a signal no core could deliver.
 */
static void check_signals_delivered(RunState *rs)
{
    char lost[256];

    if (!rs->model || !rs->s->uses_main_loop) {
        return;
    }
    if (model_signal_lost(rs->model, lost, sizeof(lost))) {
        sim_faults_set(0);
    }
    for (int i = 0; i < 64 && model_signal_lost(rs->model, lost, sizeof(lost));
         i++) {
        rs->main_loop_waits++;
        main_loop_wait(true);
        rs->main_loop_waits--;
    }
    if (model_signal_lost(rs->model, lost, sizeof(lost))) {
        sim_fail("%s", lost);
    }
}

/*
 * Callbacks still pending may touch any object, so objects go in an order
 * where nothing pending can reach a freed one: jobs complete, BHs are
 * deleted, what is left runs, then handlers and timers go.
 */
static void teardown(RunState *rs)
{
    const Scenario *s = rs->s;

    while (rs->jobs_in_flight > 0) {
        aio_poll(rs->ctx, true);
    }
    co_finish_all(rs);
    iothreads_stop(rs);
    qemu_event_destroy(&rs->io_started);
    for (unsigned i = 0; i < s->object_count[SCN_OBJ_BH]; i++) {
        if (!rs->bh_deleted[i]) {
            rs->bh_deleted[i] = true;
            qemu_bh_delete(rs->bh[i]);
        }
    }
    drain(rs);
    for (unsigned i = 0; i < s->object_count[SCN_OBJ_FD]; i++) {
        if (rs->fd_registered[i]) {
            aio_set_fd_handler(rs->ctx, rs->fd[i], NULL, NULL, NULL, NULL,
                               NULL);
            rs->fd_registered[i] = false;
        }
    }
    /*
     * Timers go before the last drain, so that none fires in it.  A
     * context's timer is freed as it is — still armed, maybe: QEMU's
     * timer_free() takes it off its list first, and a timer_free() that
     * did not would leave the list holding freed memory.  A main-loop
     * timer is embedded: deleted now, deinit below.
     */
    for (unsigned i = 0; i < s->object_count[SCN_OBJ_TIMER]; i++) {
        if (s->objects[SCN_OBJ_TIMER][i].main_timer) {
            timer_del(rs->timer[i]);
        } else {
            timer_free(rs->timer[i]);
            rs->timer[i] = NULL;
        }
    }
    drain(rs);
    check_signals_delivered(rs);
    guards_check(rs, 0, "once every BH has run");
    /* From here on a late signal finds the scenario's objects gone: its
     * handler must not run the body. */
    rs->quiesced = true;
    co_model_free(rs->co_model);
    rs->co_model = NULL;
    qemu_mutex_destroy(&rs->co_queue_lock);
    qemu_coroutine_dec_pool_size(s->object_count[SCN_OBJ_CORO]);
    for (unsigned i = 0; i < s->object_count[SCN_OBJ_TIMER]; i++) {
        runner_timer_destroy(rs, i);
    }
    if (s->uses_main_loop) {
        qloop_main_loop_teardown(false);
    } else {
        qemu_set_current_aio_context(NULL);
        aio_context_unref(rs->ctx);
        if (rs->iohandler_made) {
            qloop_main_loop_teardown(false);    /* iohandler_ctx */
        }
    }
}

static void abandoned_rs_free(void);

static void run_body(void *opaque)
{
    RunState *rs = opaque;
    const Scenario *s = rs->s;
    QemuThread threads[SCN_THREADS_MAX];
    ThreadArg args[SCN_THREADS_MAX];

    abandoned_rs_free();    /* sim_run() has freed the world it was in */
    if (!setup(rs)) {
        return;
    }
    for (unsigned t = 1; t < s->thread_count; t++) {
        args[t] = (ThreadArg){ rs, t };
        qemu_thread_create(&threads[t], s->threads[t].name, scenario_thread,
                           &args[t], QEMU_THREAD_JOINABLE);
    }
    iothreads_start(rs);
    exec_body(rs, &s->threads[0].body);
    for (unsigned t = 1; t < s->thread_count; t++) {
        qemu_thread_join(&threads[t]);
    }
    teardown(rs);
}

/* A main_loop_wait() that began after a qemu_notify_event() sleeps. */
static bool notify_event_owed(RunState *rs, char *buf, size_t len)
{
    /* A nested aio_poll() that sleeps is not the main_loop_wait() the
     * notify promised would return. */
    if (!rs->main_loop_wait_owed || rs->wait.aio_poll) {
        return false;
    }
    g_snprintf(buf, len, "main_loop_wait() sleeps after qemu_notify_event() "
               "promised it would return");
    return true;
}

/*
 * After a hang: a request in flight is work due while the home thread
 * sleeps in aio_poll() — done or cancelled, the pool's completion BH owes
 * it, even from a nested poll in another request's completion (QEMU
 * 3c80ca158c); not yet started, a worker does.  The model sees no pool;
 * the runner does.  Only in aio_poll(), or in a bdrv_aio_cancel() for the
 * request it cancels: other waits may be the scenario's own.
 */
static bool job_completion_owed(RunState *rs, char *buf, size_t len)
{
    if (rs->wait.cancel_nocb || rs->wait.cancel_seq) {
        /*
         * bdrv_aio_cancel() sleeps until its request completed.  A worker
         * runs the work without waiting for anything, so once every thread
         * waits the request is done, or was taken off the queue: either
         * way its completion BH owes it a run (a cancel of a queued request
         * that does not schedule it strands it when no other completion
         * comes).
         */
        const JobReq *req = rs->wait.cancel_nocb;

        for (const JobReq *r = rs->job_reqs[rs->wait.cancel_job];
             !req && r; r = r->next) {
            if (r->seq == rs->wait.cancel_seq) {
                req = r;
            }
        }
        if (!req) {
            return false;   /* it completed: the wait ends with it */
        }
        g_snprintf(buf, len, "job '%s': bdrv_aio_cancel() waits for a "
                   "request whose work is %s, and its completion never ran",
                   rs->s->objects[SCN_OBJ_JOB][req->cb->index].name,
                   req->work_done ? "done" : "cancelled");
        return true;
    }
    if (!rs->wait.aio_poll) {
        return false;
    }
    for (unsigned i = 0; i < rs->s->object_count[SCN_OBJ_JOB]; i++) {
        const JobReq *req = rs->job_reqs[i];
        const char *name = rs->s->objects[SCN_OBJ_JOB][i].name;

        /*
         * Any request in flight is owed.  Done, or cancelled (taken off
         * the queue, or finishing with its work's result): the completion
         * BH owes it a run.  Neither — submitted, never started while the
         * home thread polls (so a worker could be spawned) and every thread
         * waits: the pool lost it (a queue that dropped it, a worker never
         * signalled).
         */
        if (req && (req->work_done || req->cancelled)) {
            g_snprintf(buf, len, "job '%s': its work is %s, its completion "
                       "never ran", name, req->work_done ? "done" : "cancelled");
            return true;
        }
        if (req) {
            g_snprintf(buf, len, "job '%s': submitted, its work never ran "
                       "(the pool lost the request)", name);
            return true;
        }
    }
    return false;
}

/*
 * After a hang: qemu_clock_enable(clock, false) returns once no pass over
 * the clock's timers runs.  Passes run in the home thread; one blocked
 * mid-pass is blocked in a timer callback of that clock.  So a disable
 * still waiting while no such callback runs waits for nothing — as QEMU's
 * did when timers_done_ev started reset ("qemu-timer: initialize
 * timers_done_ev to set", 2015).
 */
static bool clock_disable_owed(RunState *rs, char *buf, size_t len)
{
    for (unsigned c = 0; c < SCN_CLOCKS; c++) {
        if (rs->clock_disabling[c] && !rs->in_timer_cb[c]) {
            g_snprintf(buf, len, "qemu_clock_enable(clock %u, false) waits "
                       "while no pass over its timers runs", c);
            return true;
        }
    }
    return false;
}

/* After a hang: a registered read handler whose fd is readable is work
 * due (the model sees no fd readiness; the runner does). */
static bool ready_fd_pending(RunState *rs, char *buf, size_t len)
{
    for (unsigned i = 0; i < rs->s->object_count[SCN_OBJ_FD]; i++) {
        /* A handler disabled while its io_poll_ready runs waits for
         * itself: the scenario's deadlock, not a lost wake-up. */
        if (rs->fd_registered[i] && !rs->in_poll_ready[i] &&
            !rs->s->objects[SCN_OBJ_FD][i].write && sim_fd_readable(rs->fd[i])) {
            g_snprintf(buf, len, "fd '%s' is readable and has a read handler",
                       rs->s->objects[SCN_OBJ_FD][i].name);
            return true;
        }
        if (rs->fd_registered[i] && rs->fd_writable[i] &&
            rs->s->objects[SCN_OBJ_FD][i].write) {
            g_snprintf(buf, len, "fd '%s' is writable and has a write handler",
                       rs->s->objects[SCN_OBJ_FD][i].name);
            return true;
        }
        /* A request io_poll would find: polling mode must end (its
         * io_poll_end turning kicks back on, its last look finding what
         * came meanwhile) before the context sleeps. */
        if (rs->fd_registered[i] && !rs->in_poll_ready[i] &&
            rs->vq_pending[i]) {
            g_snprintf(buf, len, "fd '%s' has a request %s",
                       rs->s->objects[SCN_OBJ_FD][i].name,
                       rs->vq_quiet[i] ? "but its notifications are off "
                       "(io_poll_begin without io_poll_end)"
                       : "no callback took (raised while its "
                       "notifications were off, it has no kick: only an "
                       "io_poll, and the dispatch of what it found, take it)");
            return true;
        }
    }
    return false;
}

/*
 * A BH whose schedule the scenario made (qemu_bh_schedule() or _idle()
 * returned, or is under way) and that has not run since, with no cancel
 * or delete after it: owed a run, an idle one within 10 ms of a blocking
 * poll.  The model learns of a schedule from the core's own trace; this
 * is the caller's view, so a schedule the core dropped is seen too.
 */
static bool bh_schedule_owed(RunState *rs, char *buf, size_t len)
{
    for (unsigned i = 0; i < rs->s->object_count[SCN_OBJ_BH]; i++) {
        if (rs->bh_owed[i] && !rs->bh_deleted[i]) {
            g_snprintf(buf, len, "BH '%s' was scheduled and has not run "
                       "since", rs->s->objects[SCN_OBJ_BH][i].name);
            return true;
        }
    }
    return false;
}

/* A coroutine the model says is owed a run (co_model_owed()). */
static bool coroutine_owed(RunState *rs, char *buf, size_t len)
{
    /* As for a job in flight: once every thread waits, a worker has run
     * the work, and the home thread's poll owes the completion a run. */
    for (unsigned i = 0; rs->wait.aio_poll &&
         i < rs->s->object_count[SCN_OBJ_CORO]; i++) {
        const JobReq *req = rs->co_pool_req[i];

        if (req && rs->co_ctx[i] == SCN_CTX_HOME) {
            g_snprintf(buf, len, "coroutine '%s' waits in "
                       "thread_pool_submit_co() for job '%s', whose work is "
                       "%s, and its completion never woke it",
                       rs->s->objects[SCN_OBJ_CORO][i].name,
                       rs->s->objects[SCN_OBJ_JOB][req->cb->index].name,
                       req->work_done ? "done" : "not done");
            return true;
        }
    }
    return rs->co_model &&
           co_model_owed(rs->co_model, SIM_END_OF_TIME_NS,
                         model_clock_enabled(rs->model, QEMU_CLOCK_VIRTUAL),
                         buf, len);
}

/*
 * After a hang: an AIO_WAIT_WHILE() whose condition the iothread already
 * cleared, and whose waiter still sleeps — aio_wait_kick() did not wake
 * it (QEMU's aio_wait_kick() schedules a BH in the main context when a
 * remote waiter is counted).
 */
static bool aio_wait_owed(RunState *rs, char *buf, size_t len)
{
    if (!rs->wait.aio_wait_while || rs->aio_wait_busy) {
        return false;
    }
    if (rs->wait.aio_wait_home) {
        g_snprintf(buf, len, "AIO_WAIT_WHILE() on the home context sleeps "
                   "though its condition is false: the BH that cleared it "
                   "ran in that context");
        return true;
    }
    g_snprintf(buf, len, "AIO_WAIT_WHILE() on iothread '%s''s context sleeps "
               "though its condition is false and aio_wait_kick() ran",
               rs->s->objects[SCN_OBJ_IOTHREAD][rs->wait.aio_wait_io].name);
    return true;
}

/* Every thread waits: is anything due that one should be running?  What,
 * in buf.  The model's and the runner's oracles, in the order the story
 * prefers them. */
static bool work_owed(RunState *rs, char *buf, size_t len)
{
    g_assert(rs->model);
    return model_pending_work(rs->model, buf, len) ||
           bh_schedule_owed(rs, buf, len) ||
           ready_fd_pending(rs, buf, len) ||
           notify_event_owed(rs, buf, len) ||
           job_completion_owed(rs, buf, len) ||
           clock_disable_owed(rs, buf, len) ||
           coroutine_owed(rs, buf, len) ||
           aio_wait_owed(rs, buf, len);
}

/*
 * Every thread waits and nothing can wake one.  If the model knows of no
 * work due, the scenario waited for work nobody does: cut every wait short
 * (the sim wakes the pollers, and from now on nothing blocks) so the run
 * reaches its teardown — whose checks (leaks, BHs never deleted, timers)
 * still apply — instead of ending mid-flight.  With work due it is a lost
 * wake-up: let the hang stand.
 */
static bool runner_on_hang(void *opaque)
{
    RunState *rs = opaque;
    char due[160];

    if (!rs->model || work_owed(rs, due, sizeof(due))) {
        return false;
    }
    rs->cut_waits = true;
    return true;
}

/* A main loop left behind by a run that ended mid-flight. */
static bool main_loop_abandoned;

/* The last passing run's state, for the next run: 12 KB zeroed is cheap,
 * while allocating it made glibc's malloc consolidate every run. */
static RunState *run_state_spare;

static RunState *run_state_new(void)
{
    RunState *rs = run_state_spare ? run_state_spare : g_new(RunState, 1);

    run_state_spare = NULL;
    memset(rs, 0, sizeof(*rs));
    return rs;
}

static void run_state_free(RunState *rs)
{
    if (!run_state_spare) {
        run_state_spare = rs;
    } else {
        g_free(rs);
    }
}

/*
 * The state of the last run whose world was abandoned (a verdict, or a
 * hang that passes): its threads' stacks may still point into it, and
 * into its models, until the next sim_run() frees that world — so it is
 * freed then, by the next run's body, not leaked (27 KB a run: a long
 * campaign's memory grew without end).
 */
static RunState *abandoned_rs;
/* The core objects it named, kept reachable: under ASan they are plain
 * allocations of a world nobody frees (LeakSanitizer would report them);
 * the checked heap's builds reclaim their slots at the next run's start
 * (sim_heap_run_begin()), and these pointers are never followed.  A few
 * pointers a run, not its 27 KB. */
static GPtrArray *abandoned_objects;

static void abandoned_keep(void *obj)
{
    if (obj) {
        if (!abandoned_objects) {
            abandoned_objects = g_ptr_array_new();
        }
        g_ptr_array_add(abandoned_objects, obj);
    }
}

static void abandoned_rs_free(void)
{
    RunState *rs = abandoned_rs;

    if (!rs) {
        return;
    }
    abandoned_rs = NULL;
    abandoned_keep(rs->ctx);
    for (unsigned k = 0; k < SCN_IOTHREADS_MAX; k++) {
        abandoned_keep(rs->io_ctx[k]);
    }
    for (unsigned i = 0; i < SCN_OBJECTS_MAX; i++) {
        abandoned_keep(rs->bh[i]);
        abandoned_keep(rs->timer[i]);
        abandoned_keep(rs->co[i]);
    }
    for (unsigned i = 0; i < SCN_OBJECTS_MAX; i++) {
        while (rs->job_reqs[i]) {
            JobReq *next = rs->job_reqs[i]->next;

            g_free(rs->job_reqs[i]);
            rs->job_reqs[i] = next;
        }
        g_free(rs->co_pool_req[i]);
    }
    if (rs->co_model) {
        co_model_free(rs->co_model);
    }
    if (rs->model) {
        model_free(rs->model);
    }
    run_state_free(rs);
}

SimVerdict runner_run(const Scenario *s, const SimConfig *config, bool model,
                      RunResult *out)
{
    RunState *rs = run_state_new();
    SimConfig c = *config;
    const uint32_t *tape;
    bool abandoned;

    if (main_loop_abandoned) {
        qloop_main_loop_teardown(true);
        main_loop_abandoned = false;
    }
    rs->s = s;
    memset(rs->registering_alt, -1, sizeof(rs->registering_alt));
    /* A run that ended mid-flight left its timer lists registered with
     * their clocks, and maybe a clock disabled: none of it is this run's. */
    qloop_clocks_forget();
    /* ... and a thread of it may have been waiting in AIO_WAIT_WHILE. */
    qloop_aio_wait_forget();
    current_rs = rs;
    for (uint32_t i = 0; i < s->op_count; i++) {
        if (s->ops[i].kind == SCN_OP_POLL_PARAMS && s->ops[i].arg > 0) {
            /* Busy-polling reads the clock until poll_max_ns pass. */
            c.clock_read_cost_ns = 100;
        }
    }
    rs->clock_read_cost_ns = c.clock_read_cost_ns;
    if (model) {
        rs->model = model_new();
        c.observer = observe;
        c.observer_opaque = rs;
        c.on_hang = runner_on_hang;
        c.on_hang_opaque = rs;
    }
    thread_name_count = 0;
    for (unsigned t = 0; t < s->thread_count; t++) {
        thread_names[thread_name_count++] = s->threads[t].name;
    }
    /* Started right after them (run_body), so numbered next. */
    for (unsigned k = 0; k < s->object_count[SCN_OBJ_IOTHREAD]; k++) {
        thread_names[thread_name_count++] = s->objects[SCN_OBJ_IOTHREAD][k].name;
    }

    memset(out, 0, sizeof(*out));
    out->verdict = sim_run(&c, run_body, rs);
    if (out->verdict == SIM_OK && rs->quiesced) {
        /* The teardown freed the scenario's objects; one that failed
         * setup freed what it had made (setup()). */
        out->verdict = sim_check_leaks();
        if (out->verdict == SIM_OK) {
            out->verdict = sim_check_fd_leaks();
        }
    }
    current_rs = NULL;
    /* A verdict ends the run mid-flight: its world, and rs with it, stay
     * as they were until the next run (abandoned_rs). */
    abandoned = out->verdict != SIM_OK;
    if (abandoned) {
        /*
         * Whatever the run made of the main loop's state is in the world
         * it abandoned — also without the main loop: iohandler_ctx is made
         * on first use (loop_check_no_main_loop).  A hang that passes
         * below (the scenario's own wait) abandons its world too: kept,
         * the next run would take over this world's iohandler_ctx, fds
         * and all.
         */
        main_loop_abandoned = true;
    }
    g_strlcpy(out->story, sim_verdict_story(), sizeof(out->story));
    if (out->verdict == SIM_OK && rs->cut_waits) {
        out->waited_for_nothing = true;
        g_strlcpy(out->story, "every thread waited with nothing due (the "
                  "scenario's own wait): the waits were cut short and the "
                  "run went on to its teardown", sizeof(out->story));
    }
    if (out->verdict == SIM_OK && rs->setup_error[0]) {
        g_snprintf(out->story, sizeof(out->story), "setup failed as stated: %s",
                   rs->setup_error);
    }
    out->hash = sim_trace_hash();
    out->steps = sim_steps();
    tape = sim_tape_recorded(&out->choice_count);
    out->choices = g_memdup2(tape, out->choice_count * sizeof(uint32_t));
    out->tape_exhausted = sim_tape_exhausted();
    out->faults = sim_fault_mask();
    {
        int npc;
        void *const *pcs = sim_panic_pcs(&npc);

        crash_frames(pcs, npc, out->frames, sizeof(out->frames));
    }
    if (rs->model) {
        char due[160];

        if (out->verdict == SIM_HANG && !rs->clock_self_wait &&
            work_owed(rs, due, sizeof(due))) {
            out->lost_wakeup = true;
            g_strlcat(out->story, "\nlost wake-up: ", sizeof(out->story));
            g_strlcat(out->story, due, sizeof(out->story));
            g_strlcat(out->story, " while every thread waits",
                      sizeof(out->story));
        }
        out->outcome = model_outcome_hash(rs->model);
        out->bh_runs = model_bh_runs(rs->model);
        out->timer_fires = model_timer_fires(rs->model);
        out->fd_calls = model_fd_calls(rs->model);
        /* An abandoned world's stacks may still reference the model:
         * abandoned_rs_free() frees it with rs. */
        if (!abandoned) {
            model_free(rs->model);
        }
    }
    /*
     * Every thread waits and the model knows of nothing due: the scenario
     * waited for work nobody would do.  That is the scenario's doing, not
     * the core's — the run passes, saying so.  (Without the model nothing
     * can tell the two apart, and the hang stands.)
     */
    if (out->verdict == SIM_HANG && rs->model && !out->lost_wakeup) {
        out->waited_for_nothing = true;
        out->verdict = SIM_OK;
        g_strlcpy(out->story, rs->clock_self_wait
                  ? "ended in the scenario's deadlock: a timer callback "
                    "disabled its own clock, which waits for that callback"
                  : "ended with every thread waiting and nothing due: the "
                    "scenario waits for work nobody does", sizeof(out->story));
    }
    if (abandoned) {
        g_assert(!abandoned_rs);    /* this run's body freed the last */
        abandoned_rs = rs;      /* freed by the next run */
    } else {
        run_state_free(rs);
    }
    return out->verdict;
}

void run_result_clear(RunResult *r)
{
    g_free(r->choices);
    r->choices = NULL;
}
