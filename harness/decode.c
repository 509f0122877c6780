/*
 * harness/decode.c — the compact byte decoder for fuzzer input.
 *
 * Method: a header (object and thread counts, fault mask) then bodies, each
 * a length byte and that many op bytes; every byte is taken modulo what it
 * selects, and missing bytes read as 0, so every input decodes.  The rest
 * of the input is the choice tape.
 *
 * The decoder reaches every public entry point of the core from every
 * callback kind: callbacks delete, cancel, remove, replace, lower and
 * disarm; they nest aio_poll() (blocking or not) and main_loop_wait(); BHs
 * may share a reentrancy guard; fds may be polling-mode handlers
 * (io_poll / io_poll_ready, with poll_params); timers take extreme absolute
 * expiries (negative, zero, INT64_MAX); signals reach SA_SIGINFO handlers
 * through the signalfd; worker threads arm timers.  A scenario may
 * therefore hang or wait for nothing on a correct core: the runner and the
 * reference model tell such a hang (nothing due) from a lost wake-up
 * (work due while every thread waits), and only the second is a finding.
 *
 * Two rules keep runs finite on a correct core:
 *  - callbacks only *add* work (schedule, arm, raise, kill, add or replace
 *    a handler) on objects ranked after themselves, so callback chains end;
 *  - nested waits inside callbacks are budgeted (NEST_BUDGET per scenario)
 *    and never in a oneshot's or a job's body (many may be pending), so
 *    nesting stays far below the runner's depth oracle.
 * BHs 0-1 are shared with worker threads and never deleted; BHs 2-3 belong
 * to the home thread and its callbacks, which may delete them.
 *
 * Coroutines come from opcodes that had nothing to do without a main
 * loop (the home thread's notify_event, a worker's notify_event), so
 * inputs that never reached those decode as before: the home thread
 * enters, schedules or wakes a coroutine or restarts the CoQueue, a worker
 * schedules or wakes one from its thread; either may schedule one into an
 * iothread's context.  Bodies are templates (yield, CoMutex across a
 * yield or a sleep, CoQueue wait, a move into the iothread and back);
 * teardown finishes whatever is left suspended.  The iothread (io0) is
 * declared only if something names it.
 */
#include <stddef.h>
#include <string.h>

#include <glib.h>

#include "decode.h"

/* Callbacks that may nest a wait, per scenario: each nests at most once per
 * run of the callback, and chains are finite, so depth <= budget + 2. */
#define NEST_BUDGET 6

/* Coroutines a scenario may declare (declared when first named). */
#define SCN_DECODE_COROS 3

typedef struct {
    const uint8_t *data;
    size_t len, pos;
} Bytes;

static unsigned take(Bytes *b, unsigned n)
{
    uint8_t v = b->pos < b->len ? b->data[b->pos] : 0;

    if (b->pos < b->len) {
        b->pos++;
    }
    return n ? v % n : 0;
}

/* Home-thread ops; callback and worker ops are subsets. */
typedef enum {
    D_SCHEDULE, D_CANCEL, D_ONESHOT_WAIT, D_NOTIFY, D_POLL_NB, D_MOD_WAIT,
    D_RAISE_WAIT, D_DELETE_LOCAL, D_IDLE, D_ANTICIPATE, D_ADVANCE, D_YIELD,
    D_SUBMIT_WAIT, D_FD_TOGGLE, D_TIMER_DEL, D_REPLACE, D_MAIN_LOOP_WAIT,
    D_NOTIFY_EVENT, D_MOD_AT, D_POLL_PARAMS, D_KILL_WAIT, D_POLL, D_DRAIN,
    D_LOWER, D_HOST_JUMP, D_CHECK, D_CLOCK_TOGGLE, D_RUN_TIMERS,
    D_CHECK_LOOP, D_WRITABLE_WAIT,
    D_HOME_MAX
} DecodeOp;

const char *const scn_decode_opcodes[] = {
    "schedule", "cancel", "oneshot+wait", "notify", "poll_nb", "mod+wait",
    "raise+wait", "delete", "schedule_idle", "anticipate", "advance", "yield",
    "submit+wait", "add/remove", "del", "replace", "main_loop_wait",
    "notify_event", "mod_at", "poll_params", "kill+wait", "poll", "drain",
    "lower", "jump", "check", "clock", "run_timers", "check_loop",
    "writable+wait", NULL,
};

typedef struct {
    Scenario *s;
    Bytes *b;
    unsigned n_bh, n_fd, n_timer, n_signal;
    unsigned nest_budget;       /* callbacks that may still nest a wait */
    /* Runs each waitable object is certain to have had by the home
     * thread's next wait: waits are absolute counts. */
    int64_t want[SCN_OBJ_KIND_MAX][SCN_OBJECTS_MAX];
    bool fd_added[SCN_OBJECTS_MAX];
    bool bh_deleted[SCN_OBJECTS_MAX];
    bool clock_disabled[SCN_CLOCKS];    /* by the home thread, so far */
    /* Coroutines, declared when first named; their bodies (templates) are
     * emitted after the home thread's, which must stay contiguous. */
    unsigned n_coro;
    uint8_t coro_template[SCN_DECODE_COROS];
    bool iothread;              /* something named io0 */
} Decoder;

static void name_numbered(char *dst, const char *prefix, unsigned n);

static void emit(Decoder *d, ScnOpKind kind, ScnObjKind ok, unsigned obj,
                 int64_t arg)
{
    Scenario *s = d->s;

    if (s->op_count >= SCN_OPS_MAX) {
        return;
    }
    s->ops[s->op_count++] = (ScnOp){
        .kind = kind, .obj = (uint8_t)obj,
        .obj_kind = (uint8_t)(ok == SCN_OBJ_KIND_MAX ? 0 : ok), .arg = arg,
    };
}

/*
 * Coroutine bodies (each ends at the first 0, SCN_OP_SCHEDULE, which no
 * template uses): a yield someone must wake, the CoMutex held across a
 * yield or a sleep, the CoQueue under the mutex, a move into the
 * iothread's context and back (a body's reschedules alternate: io0 first,
 * then home), with the mutex taken there or held across the move.
 * Later ones: the CoQueue's calls given the CoMutex or a QemuMutex to
 * release, work handed to the thread pool, the queue's oldest entered.
 * Templates, not decoded ops, so a body never waits for work its own
 * coroutine would do.
 */
typedef struct {
    ScnOpKind kind;
    int8_t lock;        /* co_wait, co_enter_next: SCN_LOCK_* */
} CoroStep;

#define CORO_TEMPLATE_OPS 4
#define S(op) { SCN_OP_CO_##op, SCN_LOCK_NONE }
#define SL(op, lock) { SCN_OP_CO_##op, SCN_LOCK_##lock }
static const CoroStep coro_templates[][CORO_TEMPLATE_OPS] = {
    { S(YIELD) },
    { S(LOCK), S(YIELD), S(UNLOCK) },
    { S(LOCK), S(UNLOCK) },
    { S(LOCK), S(WAIT), S(UNLOCK) },
    { S(SLEEP) },
    { S(YIELD), S(LOCK), S(SLEEP), S(UNLOCK) },
    { S(WAIT) },
    { S(LOCK), S(YIELD), S(YIELD), S(UNLOCK) },
    { S(RESCHEDULE), S(LOCK), S(UNLOCK), S(RESCHEDULE) },
    { S(RESCHEDULE), S(YIELD), S(RESCHEDULE) },
    { S(LOCK), S(RESCHEDULE), S(YIELD), S(UNLOCK) },
    { S(LOCK), SL(WAIT, CO_MUTEX), S(UNLOCK) },
    { SL(WAIT, QEMU_MUTEX) },
    { S(SUBMIT), S(YIELD) },
    { S(LOCK), SL(ENTER_NEXT, CO_MUTEX), S(UNLOCK) },
    { SL(ENTER_NEXT, QEMU_MUTEX), S(YIELD) },
};
#undef S
#undef SL

/* Coroutine i (0..SCN_DECODE_COROS-1), declaring it and those before it
 * on first use; each declaration takes its template's byte. */
static unsigned coro_pick(Decoder *d)
{
    unsigned i = take(d->b, SCN_DECODE_COROS);

    while (d->n_coro <= i) {
        d->coro_template[d->n_coro++] =
            (uint8_t)take(d->b, G_N_ELEMENTS(coro_templates));
    }
    return i;
}

static void emit_coro_bodies(Decoder *d)
{
    Scenario *s = d->s;

    s->object_count[SCN_OBJ_CORO] = (uint8_t)d->n_coro;
    for (unsigned i = 0; i < d->n_coro; i++) {
        const CoroStep *t = coro_templates[d->coro_template[i]];
        ScnBody *body = &s->objects[SCN_OBJ_CORO][i].body;

        bool in_io = false;

        name_numbered(s->objects[SCN_OBJ_CORO][i].name, "co", i);
        body->first = s->op_count;
        for (unsigned j = 0; j < CORO_TEMPLATE_OPS && t[j].kind != 0; j++) {
            ScnOpKind k = t[j].kind;
            int64_t arg = k == SCN_OP_CO_SLEEP ? 1000000 : t[j].lock;

            if (k == SCN_OP_CO_RESCHEDULE) {
                in_io = !in_io;
                arg = in_io ? SCN_CTX_HOME + 1 : SCN_CTX_HOME;
                d->iothread = true;
            }
            if (k == SCN_OP_CO_SUBMIT) {
                emit(d, k, SCN_OBJ_JOB, 0, 0);  /* the scenario's one job */
                continue;
            }
            emit(d, k, SCN_OBJ_KIND_MAX, 0, arg);
        }
        body->count = s->op_count - body->first;
    }
}

/* io0, if anything named it. */
static void emit_iothread(Decoder *d)
{
    if (d->iothread) {
        d->s->object_count[SCN_OBJ_IOTHREAD] = 1;
        g_strlcpy(d->s->objects[SCN_OBJ_IOTHREAD][0].name, "io0",
                  SCN_NAME_MAX);
    }
}

/* From the home thread: enter, schedule (into its context or io0's) or
 * wake one, or restart the queue.  From a worker: schedule (either
 * context) or wake one (through the BH). */
static void decode_coro_op(Decoder *d, bool worker)
{
    /* SCN_OP_KIND_MAX: co_schedule into io0. */
    static const ScnOpKind home_ops[] = {
        SCN_OP_CO_ENTER, SCN_OP_CO_SCHEDULE, SCN_OP_CO_WAKE,
        SCN_OP_CO_RESTART_ALL, SCN_OP_KIND_MAX, SCN_OP_CO_ENTER_NEXT,
    };
    static const ScnOpKind worker_ops[] = {
        SCN_OP_CO_SCHEDULE, SCN_OP_CO_WAKE, SCN_OP_KIND_MAX,
    };
    ScnOpKind k = worker ? worker_ops[take(d->b, G_N_ELEMENTS(worker_ops))]
                         : home_ops[take(d->b, G_N_ELEMENTS(home_ops))];
    int64_t ctx = SCN_CTX_HOME;

    if (k == SCN_OP_CO_RESTART_ALL) {
        emit(d, k, SCN_OBJ_KIND_MAX, 0, 0);
        return;
    }
    if (k == SCN_OP_CO_ENTER_NEXT) {    /* co_mutex: none outside one */
        emit(d, k, SCN_OBJ_KIND_MAX, 0, take(d->b, SCN_LOCKS));
        return;
    }
    if (k == SCN_OP_KIND_MAX) {
        k = SCN_OP_CO_SCHEDULE;
        ctx = SCN_CTX_HOME + 1;
        d->iothread = true;
    }
    emit(d, k, SCN_OBJ_CORO, coro_pick(d), ctx);
}

static int64_t small_delay_ns(Decoder *d)
{
    static const int64_t delays[] = { 0, 1, 1000, 1000000, 10000000, -10 };

    return delays[take(d->b, 6)];
}

/* Absolute expiries at the edges: the clock starts at 1 s, so small values
 * are in the past; negative ones test the head-of-list rule. */
static int64_t extreme_expiry_ns(Decoder *d)
{
    static const int64_t at[] = {
        0, -1, -2, INT64_MIN, INT64_MAX, INT64_MAX - 1, 1, 1000000000,
    };

    return at[take(d->b, 8)];
}

/*
 * Callbacks only act on objects later than themselves in the order
 * bh0 < bh1 < ... < once0 < fd0 < ... < timer0 < ...: chains of callbacks
 * are finite, so a correct loop drains every scenario.  (A BH that
 * reschedules itself forever is a scenario that never ends, not a bug.)
 */
typedef struct {
    ScnObjKind kind;            /* SCN_OBJ_KIND_MAX: a worker thread */
    unsigned index;
} Self;

static int object_rank(const Decoder *d, ScnObjKind kind, unsigned i)
{
    switch (kind) {
    case SCN_OBJ_BH: return (int)i;
    case SCN_OBJ_ONESHOT: return (int)d->n_bh;
    case SCN_OBJ_FD: return (int)(d->n_bh + 1 + i);
    case SCN_OBJ_TIMER: return (int)(d->n_bh + 1 + d->n_fd + i);
    case SCN_OBJ_SIGNAL:
        return (int)(d->n_bh + 1 + d->n_fd + d->n_timer + i);
    default: return 1 << 20;    /* jobs: after everything */
    }
}

static bool may_target(const Decoder *d, Self self, ScnObjKind kind,
                       unsigned i)
{
    return self.kind == SCN_OBJ_KIND_MAX ||
           object_rank(d, kind, i) > object_rank(d, self.kind, self.index);
}

/*
 * A nested wait inside a callback, while the budget lasts.  Not in a
 * oneshot's or a job's body: many instances may be pending at once (each
 * `oneshot` op makes a new BH, each submit a new request), and a nested
 * poll in one runs the next — as deep as there are instances, by design.
 */
static bool nest(Decoder *d, Self self)
{
    if (d->nest_budget == 0 || self.kind == SCN_OBJ_ONESHOT ||
        self.kind == SCN_OBJ_JOB) {
        return false;
    }
    d->nest_budget--;
    return true;
}

/* Ops only a callback (home thread, inside the loop) may do: take away
 * work, or nest a wait. */
static bool decode_callback_only_op(Decoder *d, Self self, unsigned pick,
                                    unsigned bh, unsigned fd, unsigned t)
{
    (void)self;
    switch (pick) {
    case 0:     /* delete: itself too; never the BHs workers share */
        if (bh >= 2) {
            emit(d, SCN_OP_DELETE, SCN_OBJ_BH, bh, 0);
            return true;
        }
        return false;
    case 1:
        emit(d, SCN_OP_CANCEL, SCN_OBJ_BH, bh, 0);
        return true;
    case 2:
        if (d->n_fd) {
            static const ScnOpKind fd_ops[] = {
                SCN_OP_FD_REMOVE, SCN_OP_FD_REPLACE, SCN_OP_FD_LOWER,
                SCN_OP_FD_ADD,
            };
            ScnOpKind k = fd_ops[take(d->b, 4)];

            /* (Re-)registering is adding work: a handler that re-adds
             * itself and nests a poll runs again, as in QEMU — later
             * fds only, so chains end. */
            if ((k == SCN_OP_FD_ADD || k == SCN_OP_FD_REPLACE) &&
                !may_target(d, self, SCN_OBJ_FD, fd)) {
                return false;
            }
            emit(d, k, SCN_OBJ_FD, fd, 0);
            return true;
        }
        return false;
    case 3:
        if (d->n_timer) {
            emit(d, SCN_OP_TIMER_DEL, SCN_OBJ_TIMER, t, 0);
            return true;
        }
        return false;
    case 4:
        if (nest(d, self)) {
            emit(d, SCN_OP_POLL_NB, SCN_OBJ_KIND_MAX, 0, 0);
            return true;
        }
        return false;
    case 5:     /* may wait for nothing: the model tells such hangs apart */
        if (nest(d, self)) {
            emit(d, SCN_OP_POLL, SCN_OBJ_KIND_MAX, 0, 0);
            return true;
        }
        return false;
    default:
        if (d->s->uses_main_loop && nest(d, self)) {
            emit(d, SCN_OP_MAIN_LOOP_WAIT, SCN_OBJ_KIND_MAX, 0, take(d->b, 2));
            return true;
        }
        return false;
    }
}

/* An op for a callback body or a worker thread. */
/*
 * Queries and clocks from a callback or a worker: `check` a timer or the
 * loop (anywhere: they only read), make a later fd writable; a worker
 * disables a clock and enables it again at once, racing with the home
 * thread's passes over its timers (the disable waits for them) and
 * leaving the clock as it found it.
 */
static bool decode_side_query_op(Decoder *d, Self self, bool second,
                                 unsigned fd, unsigned t)
{
    bool worker = self.kind == SCN_OBJ_KIND_MAX;

    if (!second) {
        if (d->n_timer && take(d->b, 2) == 0) {
            emit(d, SCN_OP_TIMER_CHECK, SCN_OBJ_TIMER, t, 0);
        } else {
            emit(d, SCN_OP_LOOP_CHECK, SCN_OBJ_KIND_MAX, 0, 0);
        }
        return true;
    }
    if (worker && take(d->b, 2) == 0) {
        unsigned clock = take(d->b, SCN_CLOCKS);

        emit(d, SCN_OP_CLOCK_DISABLE, SCN_OBJ_KIND_MAX, 0, clock);
        emit(d, SCN_OP_CLOCK_ENABLE, SCN_OBJ_KIND_MAX, 0, clock);
        return true;
    }
    if (d->n_fd && may_target(d, self, SCN_OBJ_FD, fd)) {
        emit(d, SCN_OP_FD_WRITABLE, SCN_OBJ_FD, fd, 0);
        return true;
    }
    return false;
}

static void decode_side_op(Decoder *d, Self self)
{
    bool worker = self.kind == SCN_OBJ_KIND_MAX;
    unsigned first_query = worker ? 8 : 15;     /* picks before: the old ones */
    unsigned pick = take(d->b, first_query + 2);
    unsigned bh = take(d->b, worker ? MIN(2, d->n_bh) : d->n_bh);
    unsigned fd = d->n_fd ? take(d->b, d->n_fd) : 0;
    unsigned t = d->n_timer ? take(d->b, d->n_timer) : 0;

    if (pick >= first_query) {
        if (!decode_side_query_op(d, self, pick > first_query, fd, t)) {
            emit(d, SCN_OP_YIELD, SCN_OBJ_KIND_MAX, 0, 0);
        }
        return;
    }
    switch (pick) {
    case 0:
        if (may_target(d, self, SCN_OBJ_BH, bh)) {
            emit(d, SCN_OP_SCHEDULE, SCN_OBJ_BH, bh, 0);
            return;
        }
        break;
    case 1:
        if (may_target(d, self, SCN_OBJ_ONESHOT, 0)) {
            emit(d, SCN_OP_ONESHOT, SCN_OBJ_ONESHOT, 0, 0);
            return;
        }
        break;
    case 2:
        emit(d, SCN_OP_NOTIFY, SCN_OBJ_KIND_MAX, 0, 0);
        return;
    case 3:
        /* Workers arm timers too: timer_mod from another thread. */
        if (d->n_timer && may_target(d, self, SCN_OBJ_TIMER, t)) {
            if (take(d->b, 4) == 0) {
                emit(d, SCN_OP_TIMER_MOD_AT, SCN_OBJ_TIMER, t,
                     extreme_expiry_ns(d));
            } else {
                emit(d, SCN_OP_TIMER_MOD, SCN_OBJ_TIMER, t,
                     1000 + small_delay_ns(d));
            }
            return;
        }
        break;
    case 4:
        if (d->n_fd && may_target(d, self, SCN_OBJ_FD, fd)) {
            emit(d, SCN_OP_FD_RAISE, SCN_OBJ_FD, fd, 0);
            return;
        }
        break;
    case 5:
        if (d->n_signal) {
            unsigned sig = take(d->b, d->n_signal);

            if (may_target(d, self, SCN_OBJ_SIGNAL, sig)) {
                emit(d, SCN_OP_KILL, SCN_OBJ_SIGNAL, sig, 0);
                return;
            }
        }
        break;
    case 6:
        if (worker && d->s->uses_main_loop) {
            emit(d, SCN_OP_NOTIFY_EVENT, SCN_OBJ_KIND_MAX, 0, 0);
            return;
        }
        if (!worker && may_target(d, self, SCN_OBJ_BH, bh)) {
            emit(d, SCN_OP_SCHEDULE_IDLE, SCN_OBJ_BH, bh, 0);
            return;
        }
        if (worker) {   /* no main loop: a cross-thread schedule or wake */
            decode_coro_op(d, true);
            return;
        }
        break;
    case 7:
        if (worker) {
            emit(d, SCN_OP_CANCEL, SCN_OBJ_BH, bh, 0);
            return;
        }
        if (nest(d, self)) {
            emit(d, SCN_OP_POLL_NB, SCN_OBJ_KIND_MAX, 0, 0);
            return;
        }
        break;
    default:
        if (decode_callback_only_op(d, self, pick - 8, bh, fd, t)) {
            return;
        }
        break;
    }
    emit(d, SCN_OP_YIELD, SCN_OBJ_KIND_MAX, 0, 0);
}

/* `wait` for one more run than the home thread has already made sure of. */
static void emit_wait(Decoder *d, ScnObjKind kind, unsigned obj)
{
    emit(d, SCN_OP_WAIT, kind, obj, ++d->want[kind][obj]);
}

static void decode_home_op(Decoder *d)
{
    unsigned bh = take(d->b, d->n_bh);
    unsigned fd = d->n_fd ? take(d->b, d->n_fd) : 0;
    unsigned t = d->n_timer ? take(d->b, d->n_timer) : 0;

    switch ((DecodeOp)take(d->b, D_HOME_MAX)) {
    case D_SCHEDULE:
        if (!d->bh_deleted[bh]) {
            emit(d, SCN_OP_SCHEDULE, SCN_OBJ_BH, bh, 0);
        }
        return;
    case D_CANCEL:
        if (!d->bh_deleted[bh]) {
            emit(d, SCN_OP_CANCEL, SCN_OBJ_BH, bh, 0);
        }
        return;
    case D_IDLE:
        if (!d->bh_deleted[bh]) {
            emit(d, SCN_OP_SCHEDULE_IDLE, SCN_OBJ_BH, bh, 0);
        }
        return;
    case D_DELETE_LOCAL:
        if (bh >= 2 && !d->bh_deleted[bh]) {
            d->bh_deleted[bh] = true;
            emit(d, SCN_OP_DELETE, SCN_OBJ_BH, bh, 0);
        }
        return;
    case D_ONESHOT_WAIT:
        emit(d, SCN_OP_ONESHOT, SCN_OBJ_ONESHOT, 0, 0);
        emit_wait(d, SCN_OBJ_ONESHOT, 0);
        return;
    case D_NOTIFY:
        emit(d, SCN_OP_NOTIFY, SCN_OBJ_KIND_MAX, 0, 0);
        return;
    case D_POLL_NB:
        emit(d, SCN_OP_POLL_NB, SCN_OBJ_KIND_MAX, 0, 0);
        return;
    case D_MOD_WAIT:
        if (d->n_timer) {
            emit(d, SCN_OP_TIMER_MOD, SCN_OBJ_TIMER, t, small_delay_ns(d));
            emit_wait(d, SCN_OBJ_TIMER, t);
        }
        return;
    case D_ANTICIPATE:
        if (d->n_timer) {
            emit(d, SCN_OP_TIMER_ANTICIPATE, SCN_OBJ_TIMER, t,
                 small_delay_ns(d));
        }
        return;
    case D_TIMER_DEL:
        if (d->n_timer) {
            emit(d, SCN_OP_TIMER_DEL, SCN_OBJ_TIMER, t, 0);
        }
        return;
    case D_RAISE_WAIT:
        if (d->n_fd && d->fd_added[fd] && !d->s->objects[SCN_OBJ_FD][fd].write) {
            emit(d, SCN_OP_FD_RAISE, SCN_OBJ_FD, fd, 0);
            emit_wait(d, SCN_OBJ_FD, fd);
        }
        return;
    case D_FD_TOGGLE:
        if (d->n_fd) {
            emit(d, d->fd_added[fd] ? SCN_OP_FD_REMOVE : SCN_OP_FD_ADD,
                 SCN_OBJ_FD, fd, 0);
            d->fd_added[fd] = !d->fd_added[fd];
        }
        return;
    case D_REPLACE:
        if (d->n_fd && d->fd_added[fd]) {
            emit(d, SCN_OP_FD_REPLACE, SCN_OBJ_FD, fd, 0);
        }
        return;
    case D_ADVANCE:
        emit(d, SCN_OP_ADVANCE, SCN_OBJ_KIND_MAX, 0, take(d->b, 4) * 1000000);
        return;
    case D_YIELD:
        emit(d, SCN_OP_YIELD, SCN_OBJ_KIND_MAX, 0, 0);
        return;
    case D_SUBMIT_WAIT:
        emit(d, SCN_OP_SUBMIT, SCN_OBJ_JOB, 0, 0);
        emit_wait(d, SCN_OBJ_JOB, 0);
        return;
    case D_MAIN_LOOP_WAIT:
        /* Main-loop scenarios only; never blocks (a wait might not end). */
        if (d->s->uses_main_loop) {
            emit(d, SCN_OP_MAIN_LOOP_WAIT, SCN_OBJ_KIND_MAX, 0, 1);
        }
        return;
    case D_NOTIFY_EVENT:
        if (d->s->uses_main_loop) {
            emit(d, SCN_OP_NOTIFY_EVENT, SCN_OBJ_KIND_MAX, 0, 0);
        } else {
            decode_coro_op(d, false);
        }
        return;
    case D_MOD_AT:
        if (d->n_timer) {
            emit(d, SCN_OP_TIMER_MOD_AT, SCN_OBJ_TIMER, t, extreme_expiry_ns(d));
        }
        return;
    case D_POLL_PARAMS: {
        /* -1: refused with an Error, the context's polling unchanged. */
        static const int64_t max_ns[] = { 0, 1000, 10000, 100000, -1 };

        emit(d, SCN_OP_POLL_PARAMS, SCN_OBJ_KIND_MAX, 0, max_ns[take(d->b, 5)]);
        return;
    }
    case D_KILL_WAIT:
        if (d->n_signal) {
            unsigned sig = take(d->b, d->n_signal);

            emit(d, SCN_OP_KILL, SCN_OBJ_SIGNAL, sig, 0);
            emit_wait(d, SCN_OBJ_SIGNAL, sig);
        }
        return;
    case D_POLL:
        /* May wait for nothing: then the run hangs with nothing due,
         * which the runner does not count against the core. */
        emit(d, SCN_OP_POLL, SCN_OBJ_KIND_MAX, 0, 0);
        return;
    case D_DRAIN:
        emit(d, SCN_OP_DRAIN, SCN_OBJ_KIND_MAX, 0, 0);
        return;
    case D_HOST_JUMP: {
        /* Wall-clock jumps, back past the epoch too. */
        static const int64_t jump_ns[] = {
            -2000000000, -1000000, 3600000000000,
            INT64_C(-2000000000) * 1000000000,  /* before the epoch */
        };

        emit(d, SCN_OP_HOST_JUMP, SCN_OBJ_KIND_MAX, 0, jump_ns[take(d->b, 4)]);
        return;
    }
    case D_LOWER:
        if (d->n_fd) {
            emit(d, SCN_OP_FD_LOWER, SCN_OBJ_FD, fd, 0);
        }
        return;
    case D_CHECK:
        if (d->n_timer) {
            emit(d, SCN_OP_TIMER_CHECK, SCN_OBJ_TIMER, t, 0);
        }
        return;
    case D_CLOCK_TOGGLE: {
        /* Disabled until the home thread's next toggle of that clock:
         * meanwhile waits for its timers wait for nothing (cut short). */
        unsigned clock = take(d->b, SCN_CLOCKS);

        emit(d, d->clock_disabled[clock] ? SCN_OP_CLOCK_ENABLE
                                         : SCN_OP_CLOCK_DISABLE,
             SCN_OBJ_KIND_MAX, 0, clock);
        d->clock_disabled[clock] = !d->clock_disabled[clock];
        return;
    }
    case D_RUN_TIMERS: {
        unsigned clock = take(d->b, SCN_CLOCKS);

        if (d->s->uses_main_loop) {
            emit(d, SCN_OP_RUN_TIMERS, SCN_OBJ_KIND_MAX, 0, clock);
        }
        return;
    }
    case D_CHECK_LOOP:
        emit(d, SCN_OP_LOOP_CHECK, SCN_OBJ_KIND_MAX, 0, 0);
        return;
    case D_WRITABLE_WAIT:
        if (d->n_fd && d->fd_added[fd] && d->s->objects[SCN_OBJ_FD][fd].write) {
            emit(d, SCN_OP_FD_WRITABLE, SCN_OBJ_FD, fd, 0);
            emit_wait(d, SCN_OBJ_FD, fd);
        }
        return;
    case D_HOME_MAX:
        break;
    }
}

static void body_begin(Decoder *d, ScnBody *body)
{
    body->first = d->s->op_count;
}

static void body_end(Decoder *d, ScnBody *body)
{
    body->count = d->s->op_count - body->first;
}

static void decode_callback_body(Decoder *d, ScnBody *body, ScnObjKind kind,
                                 unsigned index)
{
    Self self = { kind, index };
    unsigned n = take(d->b, 4);

    body_begin(d, body);
    for (unsigned i = 0; i < n; i++) {
        decode_side_op(d, self);
    }
    body_end(d, body);
}

/*
 * PREFIX followed by n in decimal, what "%s%u" gives, by hand: a dozen
 * names per input through g_snprintf were a tenth of an input's
 * instructions.  Prefixes are short and n < 100 (SCN_OBJECTS_MAX,
 * SCN_THREADS_MAX), so it always fits.
 */
static void name_numbered(char *dst, const char *prefix, unsigned n)
{
    size_t len = strlen(prefix);

    G_STATIC_ASSERT(SCN_OBJECTS_MAX < 100 && SCN_THREADS_MAX < 100);
    g_assert(len + 3 <= SCN_NAME_MAX && n < 100);
    memcpy(dst, prefix, len);
    if (n >= 10) {
        dst[len++] = (char)('0' + n / 10);
    }
    dst[len++] = (char)('0' + n % 10);
    dst[len] = '\0';
}

static void name_object(Scenario *s, ScnObjKind kind, unsigned i,
                        const char *prefix)
{
    name_numbered(s->objects[kind][i].name, prefix, i);
}

void scn_decode(const uint8_t *data, size_t len, Scenario *out,
                const uint8_t **tape, size_t *tape_len)
{
    Bytes b = { data, len, 0 };
    Decoder d = { .s = out, .b = &b };
    unsigned workers, home_ops, poll;

    /* Everything but ops[] (96 KB, written up to op_count by emit()):
     * zeroing it per input was a visible share of a fuzzer iteration. */
    memset(out, 0, offsetof(Scenario, ops));
    memset(&out->op_count, 0, sizeof(*out) - offsetof(Scenario, op_count));
    d.n_bh = 1 + take(&b, 4);
    d.n_fd = take(&b, 3);
    d.n_timer = take(&b, 4);
    workers = take(&b, 3);
    out->faults = take(&b, 32);
    home_ops = 1 + take(&b, 24);
    /* One input in four drives the main loop: main_loop_wait, glib, the
     * iohandler context, signals' handler registration. */
    out->uses_main_loop = take(&b, 4) == 0;
    /* One input in four also switches on some of the seam's fault points
     * (refused watches, failing creation, failing or short reads). */
    {
        unsigned seam = take(&b, 64);

        if (seam < 16) {
            out->faults |= seam << 5;
        }
    }

    d.n_signal = out->uses_main_loop ? take(&b, 3) : 0;
    d.nest_budget = NEST_BUDGET;

    out->object_count[SCN_OBJ_BH] = (uint8_t)d.n_bh;
    out->object_count[SCN_OBJ_SIGNAL] = (uint8_t)d.n_signal;
    out->object_count[SCN_OBJ_FD] = (uint8_t)d.n_fd;
    out->object_count[SCN_OBJ_TIMER] = (uint8_t)d.n_timer;
    out->object_count[SCN_OBJ_ONESHOT] = (uint8_t)(1 + workers);
    out->object_count[SCN_OBJ_JOB] = 1;
    for (unsigned i = 0; i < d.n_bh; i++) {
        name_object(out, SCN_OBJ_BH, i, "bh");
        /* One BH in three shares guard 1 or 2 with others. */
        out->objects[SCN_OBJ_BH][i].guard = (uint8_t)(take(&b, 6) % 3 == 2 ? 1 + i % 2 : 0);
        decode_callback_body(&d, &out->objects[SCN_OBJ_BH][i].body, SCN_OBJ_BH, i);
    }
    name_object(out, SCN_OBJ_ONESHOT, 0, "once");
    decode_callback_body(&d, &out->objects[SCN_OBJ_ONESHOT][0].body,
                         SCN_OBJ_ONESHOT, 0);
    for (unsigned i = 0; i < workers; i++) {
        name_numbered(out->objects[SCN_OBJ_ONESHOT][1 + i].name, "done_t",
                      i + 1);
    }
    for (unsigned i = 0; i < d.n_fd; i++) {
        name_object(out, SCN_OBJ_FD, i, "fd");
        /* One byte: odd is poll (as before suppress existed, so older
         * inputs keep their meaning), 3 mod 4 also suppress — for a
         * reader only. */
        poll = take(&b, 4);
        out->objects[SCN_OBJ_FD][i].poll = poll % 2 == 1;
        out->objects[SCN_OBJ_FD][i].write = take(&b, 2) == 1;
        out->objects[SCN_OBJ_FD][i].suppress =
            poll == 3 && !out->objects[SCN_OBJ_FD][i].write;
        decode_callback_body(&d, &out->objects[SCN_OBJ_FD][i].body, SCN_OBJ_FD,
                             i);
        decode_callback_body(&d, &out->objects[SCN_OBJ_FD][i].alt_body,
                             SCN_OBJ_FD, i);
    }
    for (unsigned i = 0; i < d.n_timer; i++) {
        name_object(out, SCN_OBJ_TIMER, i, "timer");
        out->objects[SCN_OBJ_TIMER][i].clock = (uint8_t)take(&b, 4);
        /* Two timers in three count in us or ms (timer_mod in that unit);
         * with a main loop, one in three lives on main_loop_tlg. */
        {
            unsigned shape = take(&b, 6);

            out->objects[SCN_OBJ_TIMER][i].scale = (uint8_t)(shape % SCN_SCALES);
            out->objects[SCN_OBJ_TIMER][i].main_timer =
                out->uses_main_loop && shape >= 4;
        }
        decode_callback_body(&d, &out->objects[SCN_OBJ_TIMER][i].body,
                             SCN_OBJ_TIMER, i);
    }
    for (unsigned i = 0; i < d.n_signal; i++) {
        static const char *const names[] = { "sigio", "sigalrm", "sigbus" };

        /* Distinct signals: a kill runs every handler of its signal, so
         * two objects on one signal would break the callback ranks. */
        out->objects[SCN_OBJ_SIGNAL][i].signal =
            (uint8_t)(i == 0 ? take(&b, 3)
                             : (out->objects[SCN_OBJ_SIGNAL][0].signal + 1 +
                                take(&b, 2)) % 3);
        name_numbered(out->objects[SCN_OBJ_SIGNAL][i].name,
                      names[out->objects[SCN_OBJ_SIGNAL][i].signal], i);
        decode_callback_body(&d, &out->objects[SCN_OBJ_SIGNAL][i].body,
                             SCN_OBJ_SIGNAL, i);
    }
    name_object(out, SCN_OBJ_JOB, 0, "job");
    decode_callback_body(&d, &out->objects[SCN_OBJ_JOB][0].body, SCN_OBJ_JOB,
                         0);

    out->thread_count = (uint8_t)(1 + workers);
    g_strlcpy(out->threads[0].name, "main", SCN_NAME_MAX);
    for (unsigned t = 1; t <= workers; t++) {
        unsigned n = take(&b, 8);

        name_numbered(out->threads[t].name, "t", t);
        body_begin(&d, &out->threads[t].body);
        for (unsigned i = 0; i < n; i++) {
            decode_side_op(&d, (Self){ SCN_OBJ_KIND_MAX, 0 });
        }
        /* The witness: the home thread waits for it, so it must arrive. */
        emit(&d, SCN_OP_ONESHOT, SCN_OBJ_ONESHOT, t, 0);
        body_end(&d, &out->threads[t].body);
    }
    body_begin(&d, &out->threads[0].body);
    for (unsigned i = 0; i < home_ops; i++) {
        decode_home_op(&d);
    }
    for (unsigned t = 1; t <= workers; t++) {
        emit_wait(&d, SCN_OBJ_ONESHOT, t);
    }
    body_end(&d, &out->threads[0].body);
    emit_coro_bodies(&d);
    emit_iothread(&d);

    /* Ops without an object name object 0 of no kind: make that explicit. */
    for (uint32_t i = 0; i < out->op_count; i++) {
        ScnObjKind k = scn_op_object_kind(out->ops[i].kind);

        if (k != SCN_OBJ_KIND_MAX) {
            out->ops[i].obj_kind = (uint8_t)k;
        }
    }
    *tape = data + b.pos;
    *tape_len = len - b.pos;
}
