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
#include "../loop/os.h"
#include "model.h"
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
    struct JobReq *next;        /* the job's requests in flight, newest first */
} JobReq;

struct RunState {
    const Scenario *s;
    AioContext *ctx;
    Model *model;
    QEMUBH *bh[SCN_OBJECTS_MAX];
    bool bh_deleted[SCN_OBJECTS_MAX];
    int fd[SCN_OBJECTS_MAX];
    bool fd_registered[SCN_OBJECTS_MAX];
    QEMUTimer *timer[SCN_OBJECTS_MAX];
    uint64_t runs[SCN_OBJ_KIND_MAX][SCN_OBJECTS_MAX];
    CbCtx cb[SCN_OBJ_KIND_MAX][SCN_OBJECTS_MAX];
    CbCtx cb_alt[SCN_OBJECTS_MAX];
    int jobs_in_flight;
    JobReq *job_reqs[SCN_OBJECTS_MAX];  /* JOB: requests in flight */
    uint64_t job_seq;                   /* requests submitted so far */
    unsigned thread_index[64];  /* sim thread id -> scenario thread (+1) */
    MemReentrancyGuard guards[SCN_GUARDS_MAX];
    unsigned in_poll_ready[SCN_OBJECTS_MAX];    /* FD: io_poll_ready calls
                                                   running (nested: > 1) */
    /* FD: the registration whose io_poll_ready runs was replaced since it
     * began (add/replace): the new one may run in a nested poll — QEMU's
     * 6d740fb01b disables a node, not an fd. */
    bool reregistered[SCN_OBJECTS_MAX];
    bool fd_alt[SCN_OBJECTS_MAX];   /* FD: the body last registered, as of
                                       its FD_ADD event (the linearization
                                       point: threads may race to register) */
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
    bool in_aio_poll;           /* the innermost wait running is aio_poll():
                                   its sleeping is not the promised return */
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
           k == SCN_OP_POOL_SIZE;
}

const char *runner_check(const Scenario *s, char *buf, size_t len)
{
    bool deleted[SCN_OBJECTS_MAX] = { false };

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
    /* "op object" by hand, not printf: this runs for every operation of
     * every fuzzer input. */
    size_t n = g_strlcpy(text, scn_op_name(op->kind), sizeof(text));

    if (kind != SCN_OBJ_KIND_MAX && n + 1 < sizeof(text)) {
        text[n++] = ' ';
        g_strlcpy(text + n, rs->s->objects[kind][op->obj].name,
                  sizeof(text) - n);
    }
    sim_trace_user(text, op->arg);
}

static void ran(CbCtx *cb)
{
    cb->rs->runs[cb->kind][cb->index]++;
}

static void bh_cb(void *opaque)
{
    CbCtx *cb = opaque;

    ran(cb);
    exec_body(cb->rs, &cb->rs->s->objects[cb->kind][cb->index].body);
}

/*
 * Re-registering replaces the handler: from then on only the new callback
 * may be called (a walk skips the old node, marked deleted).
 */
static void fd_check_current(RunState *rs, const CbCtx *cb)
{
    if (cb->alt != rs->fd_alt[cb->index]) {
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
    ran(cb);
    exec_body(rs, cb->alt ? &o->alt_body : &o->body);
}

/* io_poll: the fd has data (a peek; polling mode calls it in a loop). */
static bool fd_io_poll(void *opaque)
{
    CbCtx *cb = opaque;

    return sim_fd_readable(cb->rs->fd[cb->index]);
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
}

static void fd_register(RunState *rs, uint8_t i, bool alt)
{
    const ScnObject *o = &rs->s->objects[SCN_OBJ_FD][i];
    CbCtx *cb = alt ? &rs->cb_alt[i] : &rs->cb[SCN_OBJ_FD][i];

    uint32_t self = sim_thread_self();

    /* fd_alt changes when the core's FD_ADD event says so (observe()). */
    rs->registering_alt[self & 63] = alt;
    aio_set_fd_handler(rs->ctx, rs->fd[i], fd_read_cb, NULL,
                       o->poll ? fd_io_poll : NULL,
                       o->poll ? fd_poll_ready_cb : NULL, cb);
    rs->registering_alt[self & 63] = -1;
    if (!rs->model) {   /* else observe() follows the core's events */
        rs->fd_registered[i] = true;
        rs->fd_alt[i] = alt;
    }
    if (rs->in_poll_ready[i]) {
        rs->reregistered[i] = true;
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

static bool poll_once(RunState *rs, bool blocking)
{
    bool progress;

    depth_enter(rs, "aio_poll()");
    blocking = blocking && !rs->cut_waits;
    if (rs->model) {
        model_poll_begin(rs->model, sim_thread_self(),
                         (int64_t)rs->ctx->notifier.rfd << 32);
    }
    {
        bool outer = rs->in_aio_poll;

        rs->in_aio_poll = true;
        progress = aio_poll(rs->ctx, blocking);
        rs->in_aio_poll = outer;
    }
    if (rs->model) {
        const char *violation = model_poll_end(rs->model, progress);

        if (violation) {
            sim_fail("%s", violation);
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
        model_wait_begin(rs->model, sim_thread_self());
    }
    rs->main_loop_waits++;
    rs->main_loop_wait_owed = rs->notify_event_unconsumed;
    rs->notify_event_unconsumed = false;
    {
        bool outer = rs->in_aio_poll;

        rs->in_aio_poll = false;
        main_loop_wait(nonblocking);
        rs->in_aio_poll = outer;
    }
    rs->main_loop_wait_owed = false;
    rs->main_loop_waits--;
    if (rs->model) {
        model_wait_end(rs->model);
    }
    rs->depth--;
}

/* A job's work returns neither 0 nor a negative errno, so a completion
 * with the wrong value shows. */
#define JOB_RESULT(index) (100 + (int)(index))

static int job_work(void *opaque)
{
    JobReq *req = opaque;

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
    bdrv_aio_cancel(req->acb);      /* req is freed once this returns */
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
 * The process's SA_SIGINFO handler for the main loop's signals.  The core
 * runs it from its signalfd handler; it must receive what a kernel-
 * delivered siginfo_t would hold (QEMU converts signalfd_siginfo field by
 * field), compared here with what the simulated kernel sent.
 */
/* What the process had for each signal before signals_install(). */
static struct sigaction signals_replaced[SCN_SIGNALS];

static void signal_handler(int signo, siginfo_t *info, void *uctx)
{
    RunState *rs = current_rs;
    struct signalfd_siginfo sent;
    const Scenario *s;

    if (!sim_signal_dispatching()) {
        /*
         * From the host kernel, not the scenario: libFuzzer's -timeout
         * timer is a real SIGALRM every timeout/2 + 1 s, which this
         * handler used to take for the scenario's — an oracle verdict, or
         * sim_fail() amid a stack switch — and libFuzzer lost its timeout.
         * It goes to the handler this one replaced.
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

static void exec_op(RunState *rs, const ScnOp *op)
{
    uint8_t i = op->obj;

    announce(rs, op);
    switch (op->kind) {
    case SCN_OP_SCHEDULE:
    case SCN_OP_SCHEDULE_IDLE:
    case SCN_OP_CANCEL:
    case SCN_OP_DELETE:
        if (rs->bh_deleted[i]) {
            sim_trace_user("skipped: bh already deleted", i);
            return;
        }
        if (op->kind == SCN_OP_SCHEDULE) {
            qemu_bh_schedule(rs->bh[i]);
        } else if (op->kind == SCN_OP_SCHEDULE_IDLE) {
            qemu_bh_schedule_idle(rs->bh[i]);
        } else if (op->kind == SCN_OP_CANCEL) {
            qemu_bh_cancel(rs->bh[i]);
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
        sim_external_set(rs->fd[i], op->kind == SCN_OP_FD_RAISE, false);
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

        if (op->kind == SCN_OP_TIMER_MOD) {
            timer_mod_ns(rs->timer[i], at_ns);
        } else {
            timer_mod_anticipate_ns(rs->timer[i], at_ns);
        }
        return;
    }
    case SCN_OP_TIMER_MOD_AT:
        timer_mod_ns(rs->timer[i], op->arg);
        return;
    case SCN_OP_HOST_JUMP:
        sim_host_clock_jump_ns(op->arg);
        return;
    case SCN_OP_POLL_PARAMS:
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
        job_submit(rs, i);
        return;
    case SCN_OP_JOB_CANCEL:
        job_cancel(rs, i);
        return;
    case SCN_OP_POOL_SIZE:
        aio_context_set_thread_pool_params(rs->ctx, op->arg, op->arg,
                                           &error_abort);
        return;
    case SCN_OP_ADVANCE:
        sim_advance_ns(op->arg);
        return;
    case SCN_OP_YIELD:
        sim_yield("scenario");
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

typedef struct {
    RunState *rs;
    unsigned index;
} ThreadArg;

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
    if (ev->kind == QOS_EV_BH_RUN && ev->name &&
        strcmp(ev->name, "notify_event_cb") == 0) {
        rs->notify_event_unconsumed = false;
    }

    /* Time jumped because every thread waited: a readable fd with a read
     * handler should have ended the wait (the model sees no fd readiness;
     * the runner does).  Only a deadline did: a lost wake-up. */
    if (!violation && ev->kind == SIM_EV_CLOCK && ev->name &&
        strcmp(ev->name, "idle") == 0) {
        char due[160];

        if (ready_fd_pending(rs, due, sizeof(due))) {
            sim_fail("liveness: every thread waited until %" G_GINT64_FORMAT
                     " ns while %s: a wake-up was lost, and only a deadline "
                     "ended the wait", ev->arg, due);
        }
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
            if (ev->kind == QOS_EV_FD_ADD &&
                rs->registering_alt[ev->thread & 63] >= 0) {
                rs->fd_alt[i] = rs->registering_alt[ev->thread & 63];
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

static bool setup(RunState *rs)
{
    const Scenario *s = rs->s;

    if (!setup_context(rs)) {
        return false;
    }
    for (int k = 0; k < SCN_OBJ_KIND_MAX; k++) {
        for (unsigned i = 0; i < s->object_count[k]; i++) {
            rs->cb[k][i] = (CbCtx){ rs, (ScnObjKind)k, (uint8_t)i, false };
        }
    }
    for (unsigned i = 0; i < s->object_count[SCN_OBJ_BH]; i++) {
        unsigned guard = s->objects[SCN_OBJ_BH][i].guard;

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
        int clock = s->objects[SCN_OBJ_TIMER][i].clock;
        QEMUTimer *t = aio_timer_new(rs->ctx, clock, SCALE_NS, bh_cb,
                                     &rs->cb[SCN_OBJ_TIMER][i]);

        rs->timer[i] = t;
        if (rs->model) {
            int64_t key = (int64_t)rs->ctx->notifier.rfd << 36 |
                          (int64_t)clock << 32 | t->id;

            model_name_timer(rs->model, key, s->objects[SCN_OBJ_TIMER][i].name);
        }
    }
    return true;
}

static void drain(RunState *rs)
{
    for (int i = 0; i < 10000 && aio_poll(rs->ctx, false); i++) {
        /* callback chains are finite (or the run is a livelock verdict) */
    }
    /* Signals wait on iohandler_ctx, which only main_loop_wait runs. */
    for (int i = 0; i < 4 && rs->s->uses_main_loop; i++) {
        main_loop_wait(true);
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
    for (unsigned i = 0; i < s->object_count[SCN_OBJ_TIMER]; i++) {
        timer_del(rs->timer[i]);
    }
    drain(rs);
    /* From here on a late signal finds the scenario's objects gone: its
     * handler must not run the body. */
    rs->quiesced = true;
    for (unsigned i = 0; i < s->object_count[SCN_OBJ_TIMER]; i++) {
        timer_free(rs->timer[i]);
    }
    if (s->uses_main_loop) {
        qloop_main_loop_teardown(false);
    } else {
        qemu_set_current_aio_context(NULL);
        aio_context_unref(rs->ctx);
    }
}

static void run_body(void *opaque)
{
    RunState *rs = opaque;
    const Scenario *s = rs->s;
    QemuThread threads[SCN_THREADS_MAX];
    ThreadArg args[SCN_THREADS_MAX];

    if (!setup(rs)) {
        return;
    }
    for (unsigned t = 1; t < s->thread_count; t++) {
        args[t] = (ThreadArg){ rs, t };
        qemu_thread_create(&threads[t], s->threads[t].name, scenario_thread,
                           &args[t], QEMU_THREAD_JOINABLE);
    }
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
    if (!rs->main_loop_wait_owed || rs->in_aio_poll) {
        return false;
    }
    g_snprintf(buf, len, "main_loop_wait() sleeps after qemu_notify_event() "
               "promised it would return");
    return true;
}

/* After a hang: a registered read handler whose fd is readable is work
 * due (the model sees no fd readiness; the runner does). */
static bool ready_fd_pending(RunState *rs, char *buf, size_t len)
{
    for (unsigned i = 0; i < rs->s->object_count[SCN_OBJ_FD]; i++) {
        /* A handler disabled while its io_poll_ready runs waits for
         * itself: the scenario's deadlock, not a lost wake-up. */
        if (rs->fd_registered[i] && !rs->in_poll_ready[i] &&
            sim_fd_readable(rs->fd[i])) {
            g_snprintf(buf, len, "fd '%s' is readable and has a read handler",
                       rs->s->objects[SCN_OBJ_FD][i].name);
            return true;
        }
    }
    return false;
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

    if (!rs->model || model_pending_work(rs->model, due, sizeof(due)) ||
        ready_fd_pending(rs, due, sizeof(due)) ||
        notify_event_owed(rs, due, sizeof(due))) {
        return false;
    }
    rs->cut_waits = true;
    return true;
}

/* A main loop left behind by a run that ended mid-flight. */
static bool main_loop_abandoned;

SimVerdict runner_run(const Scenario *s, const SimConfig *config, bool model,
                      RunResult *out)
{
    RunState *rs = g_new0(RunState, 1);
    SimConfig c = *config;
    const uint32_t *tape;

    if (main_loop_abandoned) {
        qloop_main_loop_teardown(true);
        main_loop_abandoned = false;
    }
    rs->s = s;
    memset(rs->registering_alt, -1, sizeof(rs->registering_alt));
    current_rs = rs;
    for (uint32_t i = 0; i < s->op_count; i++) {
        if (s->ops[i].kind == SCN_OP_POLL_PARAMS && s->ops[i].arg > 0) {
            /* Busy-polling reads the clock until poll_max_ns pass. */
            c.clock_read_cost_ns = 100;
        }
    }
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

    memset(out, 0, sizeof(*out));
    out->verdict = sim_run(&c, run_body, rs);
    current_rs = NULL;
    if (out->verdict != SIM_OK && s->uses_main_loop) {
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

        if (out->verdict == SIM_HANG &&
            (model_pending_work(rs->model, due, sizeof(due)) ||
             ready_fd_pending(rs, due, sizeof(due)) ||
             notify_event_owed(rs, due, sizeof(due)))) {
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
        /* A verdict abandons the run mid-flight: the model may still be
         * referenced from the abandoned stacks; only free it when done. */
        if (out->verdict == SIM_OK) {
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
        g_strlcpy(out->story, "ended with every thread waiting and nothing "
                  "due: the scenario waits for work nobody does",
                  sizeof(out->story));
        return out->verdict;    /* rs stays: its world was abandoned */
    }
    if (out->verdict == SIM_OK) {
        g_free(rs);
    }
    return out->verdict;
}

void run_result_clear(RunResult *r)
{
    g_free(r->choices);
    r->choices = NULL;
}
