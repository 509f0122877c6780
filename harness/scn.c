/*
 * harness/scn.c — names of the scenario IR's kinds, and its structural check.
 *
 * Every front end (the .scn parser, the fuzzer's byte decoder) produces a
 * Scenario; scn_validate() is the one gate between them and the runner, so
 * the runner may index tables without checking again.
 *
 * Method: the operation table below is the single source of truth for
 * what an operation is called in .scn text, which object kind it names and
 * which argument it takes; the parser and the printer read it through
 * scn_op_name() and scn_op_object_kind(), so a new operation is one row.
 * scn_validate() then walks the tables once: counts within limits, every
 * body inside ops[], every op's object inside its kind's table, every
 * argument inside what the text format can express (so scn_print() of a
 * valid scenario always parses back), names usable as .scn names.
 *
 * ScnOp.obj_kind is redundant except for SCN_OP_WAIT, which may name an
 * object of any kind; it must agree with the kind the op implies, and is 0
 * (with obj 0) for ops without an object, so that equal scenarios are
 * equal field by field whichever front end made them.
 */
#include "scenario.h"

#include <stddef.h>
#include <string.h>

static const struct {
    const char *name;
    ScnObjKind object;      /* SCN_OBJ_KIND_MAX: no object (WAIT: any) */
} scn_ops[SCN_OP_KIND_MAX] = {
    [SCN_OP_SCHEDULE]           = { "schedule", SCN_OBJ_BH },
    [SCN_OP_SCHEDULE_IDLE]      = { "schedule_idle", SCN_OBJ_BH },
    [SCN_OP_CANCEL]             = { "cancel", SCN_OBJ_BH },
    [SCN_OP_DELETE]             = { "delete", SCN_OBJ_BH },
    [SCN_OP_ONESHOT]            = { "oneshot", SCN_OBJ_ONESHOT },
    [SCN_OP_FD_ADD]             = { "add", SCN_OBJ_FD },
    [SCN_OP_FD_REMOVE]          = { "remove", SCN_OBJ_FD },
    [SCN_OP_FD_REPLACE]         = { "replace", SCN_OBJ_FD },
    [SCN_OP_FD_RAISE]           = { "raise", SCN_OBJ_FD },
    [SCN_OP_FD_LOWER]           = { "lower", SCN_OBJ_FD },
    [SCN_OP_TIMER_MOD]          = { "mod", SCN_OBJ_TIMER },
    [SCN_OP_TIMER_ANTICIPATE]   = { "anticipate", SCN_OBJ_TIMER },
    [SCN_OP_TIMER_DEL]          = { "del", SCN_OBJ_TIMER },
    [SCN_OP_NOTIFY]             = { "notify", SCN_OBJ_KIND_MAX },
    [SCN_OP_POLL]               = { "poll", SCN_OBJ_KIND_MAX },
    [SCN_OP_POLL_NB]            = { "poll_nb", SCN_OBJ_KIND_MAX },
    [SCN_OP_WAIT]               = { "wait", SCN_OBJ_KIND_MAX },
    [SCN_OP_DRAIN]              = { "drain", SCN_OBJ_KIND_MAX },
    [SCN_OP_MAIN_LOOP_WAIT]     = { "main_loop_wait", SCN_OBJ_KIND_MAX },
    [SCN_OP_NOTIFY_EVENT]       = { "notify_event", SCN_OBJ_KIND_MAX },
    [SCN_OP_SUBMIT]             = { "submit", SCN_OBJ_JOB },
    [SCN_OP_ADVANCE]            = { "advance", SCN_OBJ_KIND_MAX },
    [SCN_OP_YIELD]              = { "yield", SCN_OBJ_KIND_MAX },
    [SCN_OP_TIMER_MOD_AT]       = { "mod_at", SCN_OBJ_TIMER },
    [SCN_OP_POLL_PARAMS]        = { "poll_params", SCN_OBJ_KIND_MAX },
    [SCN_OP_KILL]               = { "kill", SCN_OBJ_SIGNAL },
    [SCN_OP_HOST_JUMP]          = { "jump", SCN_OBJ_KIND_MAX },
    [SCN_OP_JOB_CANCEL]         = { "cancel_job", SCN_OBJ_JOB },
    [SCN_OP_POOL_SIZE]          = { "pool_size", SCN_OBJ_KIND_MAX },
    [SCN_OP_TIMER_CHECK]        = { "check", SCN_OBJ_TIMER },
    [SCN_OP_RUN_TIMERS]         = { "run_timers", SCN_OBJ_KIND_MAX },
    [SCN_OP_CLOCK_ENABLE]       = { "clock_enable", SCN_OBJ_KIND_MAX },
    [SCN_OP_CLOCK_DISABLE]      = { "clock_disable", SCN_OBJ_KIND_MAX },
    [SCN_OP_CLOCK_CHECK]        = { "check_clock", SCN_OBJ_KIND_MAX },
    [SCN_OP_LOOP_CHECK]         = { "check_loop", SCN_OBJ_KIND_MAX },
    [SCN_OP_FD_WRITABLE]        = { "writable", SCN_OBJ_FD },
    [SCN_OP_FD_UNWRITABLE]      = { "unwritable", SCN_OBJ_FD },
    [SCN_OP_CO_ENTER]           = { "co_enter", SCN_OBJ_CORO },
    [SCN_OP_CO_SCHEDULE]        = { "co_schedule", SCN_OBJ_CORO },
    [SCN_OP_CO_WAKE]            = { "co_wake", SCN_OBJ_CORO },
    [SCN_OP_CO_YIELD]           = { "co_yield", SCN_OBJ_KIND_MAX },
    [SCN_OP_CO_SLEEP]           = { "co_sleep", SCN_OBJ_KIND_MAX },
    [SCN_OP_CO_LOCK]            = { "co_lock", SCN_OBJ_KIND_MAX },
    [SCN_OP_CO_UNLOCK]          = { "co_unlock", SCN_OBJ_KIND_MAX },
    [SCN_OP_CO_WAIT]            = { "co_wait", SCN_OBJ_KIND_MAX },
    [SCN_OP_CO_RESTART_ALL]     = { "co_restart_all", SCN_OBJ_KIND_MAX },
    [SCN_OP_CO_RESCHEDULE]      = { "co_reschedule", SCN_OBJ_KIND_MAX },
    [SCN_OP_AIO_WAIT_WHILE]     = { "aio_wait_while", SCN_OBJ_IOTHREAD },
    [SCN_OP_CO_ENTER_NEXT]      = { "co_enter_next", SCN_OBJ_KIND_MAX },
    [SCN_OP_CO_SUBMIT]          = { "co_submit", SCN_OBJ_JOB },
};

static const char *const scn_obj_kinds[SCN_OBJ_KIND_MAX] = {
    [SCN_OBJ_BH] = "bh",
    [SCN_OBJ_ONESHOT] = "oneshot",
    [SCN_OBJ_FD] = "fd",
    [SCN_OBJ_TIMER] = "timer",
    [SCN_OBJ_JOB] = "job",
    [SCN_OBJ_SIGNAL] = "signal",
    [SCN_OBJ_CORO] = "coroutine",
    [SCN_OBJ_IOTHREAD] = "iothread",
};

#define SCN_CLOCK_COUNT 4       /* QEMU_CLOCK_REALTIME .. VIRTUAL_RT */
#define SCN_FAULTS_ALL 511u     /* SIM_FAULT_EVERY; sim.h is not ours to include */

const char *scn_op_name(ScnOpKind kind)
{
    if ((unsigned)kind >= SCN_OP_KIND_MAX) {
        return "?";
    }
    return scn_ops[kind].name;
}

ScnObjKind scn_op_object_kind(ScnOpKind kind)
{
    if ((unsigned)kind >= SCN_OP_KIND_MAX) {
        return SCN_OBJ_KIND_MAX;
    }
    return scn_ops[kind].object;
}

const char *scn_obj_kind_name(ScnObjKind kind)
{
    if ((unsigned)kind >= SCN_OBJ_KIND_MAX) {
        return "?";
    }
    return scn_obj_kinds[kind];
}

static bool scn_body_ok(const Scenario *s, ScnBody body)
{
    /* 64-bit sum: first + count must not wrap around to look in range. */
    return (uint64_t)body.first + body.count <= s->op_count;
}

/* ASCII only, whatever the locale: .scn names are [A-Za-z_][A-Za-z0-9_]*. */
static bool scn_is_name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

/* An identifier of 1..SCN_NAME_MAX-1 characters, NUL-terminated in place. */
static bool scn_name_ok(const char *name)
{
    size_t len = strnlen(name, SCN_NAME_MAX);

    if (len == 0 || len == SCN_NAME_MAX || !scn_is_name_start(name[0])) {
        return false;
    }
    for (size_t i = 1; i < len; i++) {
        if (!scn_is_name_start(name[i]) && !(name[i] >= '0' && name[i] <= '9')) {
            return false;
        }
    }
    return true;
}

static const char *scn_validate_op(const Scenario *s, const ScnOp *op)
{
    ScnObjKind want;

    if ((unsigned)op->kind >= SCN_OP_KIND_MAX) {
        return "an operation's kind is out of range";
    }
    want = scn_ops[op->kind].object;
    if (op->kind == SCN_OP_WAIT) {
        if (op->obj_kind >= SCN_OBJ_KIND_MAX ||
            op->obj >= s->object_count[op->obj_kind]) {
            return "a wait names no declared object";
        }
        if (op->obj_kind == SCN_OBJ_IOTHREAD) {
            return "a wait names an iothread, which never runs a body";
        }
        return op->arg >= 1 ? NULL : "a wait's count is below 1";
    }
    if (want != SCN_OBJ_KIND_MAX && op->obj_kind != want) {
        return "an operation's obj_kind is not the kind it implies";
    }
    /* aio_wait_while home: the home context, no iothread (arg 1, obj 0). */
    if (op->kind == SCN_OP_AIO_WAIT_WHILE && op->arg == 1 && op->obj == 0) {
        return s->uses_main_loop ? NULL
               : "aio_wait_while without uses_main_loop";
    }
    if (want != SCN_OBJ_KIND_MAX && op->obj >= s->object_count[want]) {
        return "an operation's object index is out of range";
    }
    if (want == SCN_OBJ_KIND_MAX && (op->obj != 0 || op->obj_kind != 0)) {
        return "an operation without an object has obj or obj_kind != 0";
    }
    switch (op->kind) {
    case SCN_OP_TIMER_MOD:
    case SCN_OP_TIMER_ANTICIPATE:
    case SCN_OP_TIMER_MOD_AT:
    case SCN_OP_HOST_JUMP:
        return NULL;
    case SCN_OP_POLL_PARAMS:
        return NULL;    /* negative: refused with an Error, checked */
    case SCN_OP_POOL_SIZE:
        return op->arg >= 0 && op->arg <= SCN_POOL_SIZE_MAX ? NULL
               : "pool_size is not 0..SCN_POOL_SIZE_MAX";
    case SCN_OP_KILL:
        if (!s->uses_main_loop) {
            return "kill without uses_main_loop";
        }
        break;
    case SCN_OP_ADVANCE:
        return op->arg >= 0 ? NULL : "an advance is negative";
    case SCN_OP_CO_SLEEP:
        return op->arg >= 0 ? NULL : "a co_sleep is negative";
    case SCN_OP_CO_SCHEDULE:
    case SCN_OP_CO_RESCHEDULE:
        return op->arg >= SCN_CTX_HOME &&
               op->arg <= SCN_CTX_HOME + s->object_count[SCN_OBJ_IOTHREAD]
               ? NULL : "a coroutine operation names no declared context";
    case SCN_OP_RUN_TIMERS:
    case SCN_OP_CLOCK_CHECK:
        if (!s->uses_main_loop) {
            return op->kind == SCN_OP_RUN_TIMERS
                   ? "run_timers without uses_main_loop"
                   : "check_clock without uses_main_loop";
        }
        /* fall through */
    case SCN_OP_CLOCK_ENABLE:
    case SCN_OP_CLOCK_DISABLE:
        return op->arg >= 0 && op->arg < SCN_CLOCK_COUNT ? NULL
               : "a clock operation's clock is out of range";
    case SCN_OP_MAIN_LOOP_WAIT:
        if (!s->uses_main_loop) {
            return "main_loop_wait without uses_main_loop";
        }
        return op->arg == 0 || op->arg == 1 ? NULL
               : "main_loop_wait's arg is not 0 or 1";
    case SCN_OP_AIO_WAIT_WHILE:
        if (!s->uses_main_loop) {
            return "aio_wait_while without uses_main_loop";
        }
        break;
    case SCN_OP_NOTIFY_EVENT:
        if (!s->uses_main_loop) {
            return "notify_event without uses_main_loop";
        }
        break;
    case SCN_OP_CO_WAIT:
    case SCN_OP_CO_ENTER_NEXT:
        return op->arg >= 0 && op->arg < SCN_LOCKS ? NULL
               : "a CoQueue operation's lock is out of range";
    default:
        break;
    }
    return op->arg == 0 ? NULL : "an operation without an argument has arg != 0";
}

static const char *scn_validate_objects(const Scenario *s)
{
    for (unsigned k = 0; k < SCN_OBJ_KIND_MAX; k++) {
        if (s->object_count[k] > SCN_OBJECTS_MAX) {
            return "too many objects of one kind";
        }
        if (k == SCN_OBJ_IOTHREAD && s->object_count[k] > SCN_IOTHREADS_MAX) {
            return "more than SCN_IOTHREADS_MAX iothreads";
        }
        for (unsigned i = 0; i < s->object_count[k]; i++) {
            const ScnObject *o = &s->objects[k][i];

            if (!scn_name_ok(o->name)) {
                return "an object's name is not an identifier";
            }
            if (!scn_body_ok(s, o->body) || !scn_body_ok(s, o->alt_body)) {
                return "an object's body lies outside ops[]";
            }
            if (k != SCN_OBJ_FD && o->alt_body.count != 0) {
                return "an alternate body on an object that is not an fd";
            }
            if (k == SCN_OBJ_TIMER ? o->clock >= SCN_CLOCK_COUNT : o->clock != 0) {
                return "a clock out of range, or on an object that is not a timer";
            }
            if (k == SCN_OBJ_BH ? o->guard > SCN_GUARDS_MAX : o->guard != 0) {
                return "a guard out of range, or on an object that is not a bh";
            }
            if (k != SCN_OBJ_FD && o->poll) {
                return "'poll' on an object that is not an fd";
            }
            if (o->suppress && (!o->poll || o->write)) {
                return "'suppress' on an object that is not a polled reader fd";
            }
            if (k == SCN_OBJ_SIGNAL ? o->signal >= SCN_SIGNALS : o->signal != 0) {
                return "a signal out of range, or on an object that is not a signal";
            }
            if (k == SCN_OBJ_TIMER ? o->scale >= SCN_SCALES : o->scale != 0) {
                return "a scale out of range, or on an object that is not a timer";
            }
            if (o->main_timer && (k != SCN_OBJ_TIMER || !s->uses_main_loop)) {
                return "'main_loop' on an object that is not a timer, or "
                       "without uses_main_loop";
            }
            if (k != SCN_OBJ_FD && o->write) {
                return "'write' on an object that is not an fd";
            }
            if (k != SCN_OBJ_JOB && o->nocb) {
                return "'nocb' on an object that is not a job";
            }
            if (k == SCN_OBJ_IOTHREAD && o->body.count != 0) {
                return "an iothread with a body";
            }
            if (k == SCN_OBJ_SIGNAL && !s->uses_main_loop) {
                return "a signal without uses_main_loop";
            }
        }
    }
    return NULL;
}

/* All objects and threads share one namespace (traces and .scn name them). */
static const char *scn_validate_names(const Scenario *s)
{
    const char *names[SCN_OBJ_KIND_MAX * SCN_OBJECTS_MAX + SCN_THREADS_MAX];
    size_t count = 0;

    for (unsigned k = 0; k < SCN_OBJ_KIND_MAX; k++) {
        for (unsigned i = 0; i < s->object_count[k]; i++) {
            names[count++] = s->objects[k][i].name;
        }
    }
    for (unsigned t = 0; t < s->thread_count; t++) {
        names[count++] = s->threads[t].name;
    }
    for (size_t i = 0; i < count; i++) {
        for (size_t j = 0; j < i; j++) {
            if (strncmp(names[i], names[j], SCN_NAME_MAX) == 0) {
                return "two objects or threads share a name";
            }
        }
    }
    return NULL;
}

const char *scn_validate(const Scenario *s)
{
    const char *why;

    if (s->thread_count == 0) {
        return "no thread";
    }
    if (s->thread_count > SCN_THREADS_MAX) {
        return "too many threads";
    }
    if (s->op_count > SCN_OPS_MAX) {
        return "too many operations";
    }
    if (s->faults & ~SCN_FAULTS_ALL) {
        return "unknown fault bits";
    }
    why = scn_validate_objects(s);
    if (why) {
        return why;
    }
    for (unsigned t = 0; t < s->thread_count; t++) {
        if (!scn_name_ok(s->threads[t].name)) {
            return "a thread's name is not an identifier";
        }
        if (!scn_body_ok(s, s->threads[t].body)) {
            return "a thread's body lies outside ops[]";
        }
    }
    why = scn_validate_names(s);
    if (why) {
        return why;
    }
    for (uint32_t i = 0; i < s->op_count; i++) {
        why = scn_validate_op(s, &s->ops[i]);
        if (why) {
            return why;
        }
    }
    return NULL;
}
