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
#include <stdio.h>
#include <string.h>

#include "qloop/qloop.h"
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
    unsigned thread_index[64];  /* sim thread id -> scenario thread (+1) */
};

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
           k == SCN_OP_SUBMIT;
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
                           "home thread (the first one) may poll or submit "
                           "jobs", op->line, scn_op_name(op->kind),
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

static void fd_read_cb(void *opaque)
{
    CbCtx *cb = opaque;
    RunState *rs = cb->rs;
    const ScnObject *o = &rs->s->objects[SCN_OBJ_FD][cb->index];
    char byte;

    sim_read(rs->fd[cb->index], &byte, 1);   /* consume the readiness */
    ran(cb);
    exec_body(rs, cb->alt ? &o->alt_body : &o->body);
}

static int job_work(void *opaque)
{
    CbCtx *cb = opaque;

    return cb->index;
}

static void job_done(void *opaque, int ret)
{
    CbCtx *cb = opaque;

    if (ret != cb->index) {
        sim_fail("thread pool: job '%s' completed with %d, its work "
                 "returned %d", cb->rs->s->objects[SCN_OBJ_JOB][cb->index].name,
                 ret, cb->index);
    }
    cb->rs->jobs_in_flight--;
    bh_cb(opaque);
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
        aio_set_fd_handler(rs->ctx, rs->fd[i], fd_read_cb, NULL, NULL, NULL,
                           op->kind == SCN_OP_FD_ADD ? &rs->cb[SCN_OBJ_FD][i]
                                                     : &rs->cb_alt[i]);
        rs->fd_registered[i] = true;
        return;
    case SCN_OP_FD_REMOVE:
        aio_set_fd_handler(rs->ctx, rs->fd[i], NULL, NULL, NULL, NULL, NULL);
        rs->fd_registered[i] = false;
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
    case SCN_OP_TIMER_DEL:
        timer_del(rs->timer[i]);
        return;
    case SCN_OP_NOTIFY:
        aio_notify(rs->ctx);
        return;
    case SCN_OP_POLL:
        aio_poll(rs->ctx, true);
        return;
    case SCN_OP_POLL_NB:
        aio_poll(rs->ctx, false);
        return;
    case SCN_OP_DRAIN:
        while (aio_poll(rs->ctx, false)) {
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
                main_loop_wait(false);
            } else {
                aio_poll(rs->ctx, true);
            }
        }
        return;
    }
    case SCN_OP_MAIN_LOOP_WAIT:
        main_loop_wait(op->arg != 0);
        return;
    case SCN_OP_NOTIFY_EVENT:
        qemu_notify_event();
        return;
    case SCN_OP_SUBMIT:
        rs->jobs_in_flight++;
        thread_pool_submit_aio(job_work, &rs->cb[SCN_OBJ_JOB][i], job_done,
                               &rs->cb[SCN_OBJ_JOB][i]);
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

static void observe(const SimEvent *ev, void *opaque)
{
    RunState *rs = opaque;
    const char *violation = model_event(rs->model, ev);

    if (violation) {
        sim_fail("%s (event %" G_GUINT64_FORMAT ", t=%" G_GINT64_FORMAT
                 " ns, thread %u)", violation, ev->seq, ev->time_ns,
                 ev->thread);
    }
}

static void setup(RunState *rs)
{
    const Scenario *s = rs->s;

    if (s->uses_main_loop) {
        qemu_init_main_loop(&error_abort);
        rs->ctx = qemu_get_aio_context();
    } else {
        rs->ctx = aio_context_new(&error_abort);
        rs->ctx->name = "scenario";
        qemu_set_current_aio_context(rs->ctx);
    }
    for (int k = 0; k < SCN_OBJ_KIND_MAX; k++) {
        for (unsigned i = 0; i < s->object_count[k]; i++) {
            rs->cb[k][i] = (CbCtx){ rs, (ScnObjKind)k, (uint8_t)i, false };
        }
    }
    for (unsigned i = 0; i < s->object_count[SCN_OBJ_BH]; i++) {
        rs->bh[i] = aio_bh_new_full(rs->ctx, bh_cb, &rs->cb[SCN_OBJ_BH][i],
                                    s->objects[SCN_OBJ_BH][i].name, NULL);
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
}

static void drain(RunState *rs)
{
    for (int i = 0; i < 10000 && aio_poll(rs->ctx, false); i++) {
        /* callback chains are finite (or the run is a livelock verdict) */
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

    setup(rs);
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
    if (model) {
        rs->model = model_new();
        c.observer = observe;
        c.observer_opaque = rs;
    }
    thread_name_count = 0;
    for (unsigned t = 0; t < s->thread_count; t++) {
        thread_names[thread_name_count++] = s->threads[t].name;
    }

    memset(out, 0, sizeof(*out));
    out->verdict = sim_run(&c, run_body, rs);
    if (out->verdict != SIM_OK && s->uses_main_loop) {
        main_loop_abandoned = true;
    }
    g_strlcpy(out->story, sim_verdict_story(), sizeof(out->story));
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
        char due[128];

        if (out->verdict == SIM_HANG &&
            model_pending_work(rs->model, due, sizeof(due))) {
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
