/*
 * tests/test-scn.c — the .scn text format: parser, printer, scn_validate().
 *
 * Method: small texts parsed and their IR compared field by field — one
 * case per operation and per declaration; a table of broken texts, each
 * with the exact "FILE:LINE: message" it must produce; every file in
 * docs/examples/ and every ```scn block of docs/scenario-format.md parsed,
 * printed, re-parsed and compared (scn_equal), the printed text being a
 * fixed point of print(parse(...)), and each example file quoted verbatim
 * in the documentation; scn_validate() shown each broken IR it must
 * refuse; and a deterministic robustness loop
 * (xorshift PRNG, fixed seed) that mutates the examples and feeds random
 * bytes, each input in a heap block of exactly its length so that ASan
 * builds catch any read past it.  Every input must either parse to a valid
 * scenario that survives the round trip, or fail with one line that
 * starts with the file name.
 */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scn-parse.h"

#ifndef QLOOP_SOURCE_DIR
#error "QLOOP_SOURCE_DIR must name the source tree (tests/scn.cmake sets it)"
#endif

/* Scenario is ~110 KB: keep the ones a test needs off the stack. */
static Scenario scn_a, scn_b;

static void parse_ok(const char *text, Scenario *s)
{
    char err[256];

    if (!scn_parse(text, strlen(text), "t.scn", s, err, sizeof err)) {
        g_error("unexpected parse error: %s\n--- text:\n%s", err, text);
    }
    g_assert_null(scn_validate(s));
}

static void parse_err(const char *text, const char *expected)
{
    char err[256];

    if (scn_parse(text, strlen(text), "x.scn", &scn_a, err, sizeof err)) {
        g_error("parsed, but expected \"%s\"\n--- text:\n%s", expected, text);
    }
    g_assert_cmpstr(err, ==, expected);
    g_assert_cmpuint(scn_a.op_count, ==, 0);    /* zeroed on failure */
}

static char *print_to_string(const Scenario *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    g_assert_nonnull(f);
    scn_print(s, f);
    fclose(f);
    return buf;
}

/* ---- names ------------------------------------------------------------------ */

static void test_names(void)
{
    for (unsigned k = 0; k < SCN_OP_KIND_MAX; k++) {
        g_assert_cmpstr(scn_op_name(k), !=, "?");
        for (unsigned j = 0; j < k; j++) {
            g_assert_cmpstr(scn_op_name(k), !=, scn_op_name(j));
        }
    }
    g_assert_cmpstr(scn_op_name(SCN_OP_KIND_MAX), ==, "?");
    g_assert_cmpstr(scn_op_name(SCN_OP_FD_ADD), ==, "add");
    g_assert_cmpstr(scn_op_name(SCN_OP_TIMER_DEL), ==, "del");
    g_assert_cmpint(scn_op_object_kind(SCN_OP_CANCEL), ==, SCN_OBJ_BH);
    g_assert_cmpint(scn_op_object_kind(SCN_OP_ONESHOT), ==, SCN_OBJ_ONESHOT);
    g_assert_cmpint(scn_op_object_kind(SCN_OP_FD_LOWER), ==, SCN_OBJ_FD);
    g_assert_cmpint(scn_op_object_kind(SCN_OP_TIMER_ANTICIPATE), ==, SCN_OBJ_TIMER);
    g_assert_cmpint(scn_op_object_kind(SCN_OP_SUBMIT), ==, SCN_OBJ_JOB);
    g_assert_cmpint(scn_op_object_kind(SCN_OP_WAIT), ==, SCN_OBJ_KIND_MAX);
    g_assert_cmpint(scn_op_object_kind(SCN_OP_POLL), ==, SCN_OBJ_KIND_MAX);
    g_assert_cmpint(scn_op_object_kind(SCN_OP_KIND_MAX), ==, SCN_OBJ_KIND_MAX);
    g_assert_cmpstr(scn_obj_kind_name(SCN_OBJ_FD), ==, "fd");
    g_assert_cmpstr(scn_obj_kind_name(SCN_OBJ_JOB), ==, "job");
    g_assert_cmpstr(scn_obj_kind_name(SCN_OBJ_KIND_MAX), ==, "?");
}

/* ---- declarations ------------------------------------------------------------ */

static void assert_body(const Scenario *s, ScnBody body, const ScnOpKind *kinds,
                        unsigned count)
{
    g_assert_cmpuint(body.count, ==, count);
    for (unsigned i = 0; i < count; i++) {
        g_assert_cmpint(s->ops[body.first + i].kind, ==, kinds[i]);
    }
}

static void test_decls(void)
{
    static const ScnOpKind poll1[] = { SCN_OP_POLL };
    static const ScnOpKind two[] = { SCN_OP_NOTIFY, SCN_OP_YIELD };
    Scenario *s = &scn_a;

    parse_ok("bh A\n"
             "bh B { poll }\n"
             "oneshot O { notify; yield }\n"
             "fd F\n"
             "fd G { poll } alt { notify; yield }\n"
             "fd H alt { poll }\n"
             "timer T0 realtime\n"
             "timer T1 virtual { poll }\n"
             "timer T2 host\n"
             "timer T3 virtual_rt\n"
             "job J { poll }\n"
             "thread main {}\n"
             "thread w { notify\n yield }\n", s);
    g_assert_cmpuint(s->object_count[SCN_OBJ_BH], ==, 2);
    g_assert_cmpuint(s->object_count[SCN_OBJ_ONESHOT], ==, 1);
    g_assert_cmpuint(s->object_count[SCN_OBJ_FD], ==, 3);
    g_assert_cmpuint(s->object_count[SCN_OBJ_TIMER], ==, 4);
    g_assert_cmpuint(s->object_count[SCN_OBJ_JOB], ==, 1);
    g_assert_cmpuint(s->thread_count, ==, 2);
    g_assert_cmpstr(s->objects[SCN_OBJ_BH][0].name, ==, "A");
    g_assert_cmpuint(s->objects[SCN_OBJ_BH][0].body.count, ==, 0);
    assert_body(s, s->objects[SCN_OBJ_BH][1].body, poll1, 1);
    assert_body(s, s->objects[SCN_OBJ_ONESHOT][0].body, two, 2);
    g_assert_cmpstr(s->objects[SCN_OBJ_FD][1].name, ==, "G");
    assert_body(s, s->objects[SCN_OBJ_FD][1].body, poll1, 1);
    assert_body(s, s->objects[SCN_OBJ_FD][1].alt_body, two, 2);
    g_assert_cmpuint(s->objects[SCN_OBJ_FD][2].body.count, ==, 0);
    assert_body(s, s->objects[SCN_OBJ_FD][2].alt_body, poll1, 1);
    for (unsigned i = 0; i < 4; i++) {
        g_assert_cmpuint(s->objects[SCN_OBJ_TIMER][i].clock, ==, i);
    }
    assert_body(s, s->objects[SCN_OBJ_TIMER][1].body, poll1, 1);
    assert_body(s, s->objects[SCN_OBJ_JOB][0].body, poll1, 1);
    g_assert_cmpstr(s->threads[0].name, ==, "main");
    g_assert_cmpuint(s->threads[0].body.count, ==, 0);
    g_assert_cmpstr(s->threads[1].name, ==, "w");
    assert_body(s, s->threads[1].body, two, 2);
    g_assert_cmpuint(s->ops[s->threads[1].body.first + 1].line, ==, 14);
    g_assert_cmpuint(s->op_count, ==, 11);
    g_assert_false(s->uses_main_loop);
    g_assert_cmpuint(s->faults, ==, 0);
}

/* ---- operations ---------------------------------------------------------------- */

typedef struct {
    const char *text;
    ScnOpKind kind;
    unsigned obj;
    int64_t arg;
    ScnObjKind wait_kind;   /* WAIT: the named object's kind */
} OpCase;

/* Objects: bh X (0), bh A (1), oneshot O, fd F, timer T, job J,
 * coroutine K, iothread IO. */
static const char op_prelude[] =
    "bh X\nbh A\noneshot O\nfd F\ntimer T virtual\njob J\ncoroutine K\n"
    "iothread IO\nthread main { ";

static const OpCase op_cases[] = {
    { "schedule A", SCN_OP_SCHEDULE, 1, 0, SCN_OBJ_KIND_MAX },
    { "schedule_idle A", SCN_OP_SCHEDULE_IDLE, 1, 0, SCN_OBJ_KIND_MAX },
    { "cancel X", SCN_OP_CANCEL, 0, 0, SCN_OBJ_KIND_MAX },
    { "delete A", SCN_OP_DELETE, 1, 0, SCN_OBJ_KIND_MAX },
    { "oneshot O", SCN_OP_ONESHOT, 0, 0, SCN_OBJ_KIND_MAX },
    { "add F", SCN_OP_FD_ADD, 0, 0, SCN_OBJ_KIND_MAX },
    { "remove F", SCN_OP_FD_REMOVE, 0, 0, SCN_OBJ_KIND_MAX },
    { "replace F", SCN_OP_FD_REPLACE, 0, 0, SCN_OBJ_KIND_MAX },
    { "raise F", SCN_OP_FD_RAISE, 0, 0, SCN_OBJ_KIND_MAX },
    { "lower F", SCN_OP_FD_LOWER, 0, 0, SCN_OBJ_KIND_MAX },
    { "mod T 10ms", SCN_OP_TIMER_MOD, 0, 10000000, SCN_OBJ_KIND_MAX },
    { "mod T -5", SCN_OP_TIMER_MOD, 0, -5, SCN_OBJ_KIND_MAX },
    { "anticipate T 3us", SCN_OP_TIMER_ANTICIPATE, 0, 3000, SCN_OBJ_KIND_MAX },
    { "del T", SCN_OP_TIMER_DEL, 0, 0, SCN_OBJ_KIND_MAX },
    { "notify", SCN_OP_NOTIFY, 0, 0, SCN_OBJ_KIND_MAX },
    { "poll", SCN_OP_POLL, 0, 0, SCN_OBJ_KIND_MAX },
    { "poll_nb", SCN_OP_POLL_NB, 0, 0, SCN_OBJ_KIND_MAX },
    { "drain", SCN_OP_DRAIN, 0, 0, SCN_OBJ_KIND_MAX },
    { "yield", SCN_OP_YIELD, 0, 0, SCN_OBJ_KIND_MAX },
    { "wait A", SCN_OP_WAIT, 1, 1, SCN_OBJ_BH },
    { "wait O 7", SCN_OP_WAIT, 0, 7, SCN_OBJ_ONESHOT },
    { "wait F", SCN_OP_WAIT, 0, 1, SCN_OBJ_FD },
    { "wait T 2", SCN_OP_WAIT, 0, 2, SCN_OBJ_TIMER },
    { "wait J", SCN_OP_WAIT, 0, 1, SCN_OBJ_JOB },
    { "main_loop_wait", SCN_OP_MAIN_LOOP_WAIT, 0, 0, SCN_OBJ_KIND_MAX },
    { "main_loop_wait nonblocking", SCN_OP_MAIN_LOOP_WAIT, 0, 1, SCN_OBJ_KIND_MAX },
    { "notify_event", SCN_OP_NOTIFY_EVENT, 0, 0, SCN_OBJ_KIND_MAX },
    { "submit J", SCN_OP_SUBMIT, 0, 0, SCN_OBJ_KIND_MAX },
    { "advance 2s", SCN_OP_ADVANCE, 0, 2000000000, SCN_OBJ_KIND_MAX },
    { "advance 0", SCN_OP_ADVANCE, 0, 0, SCN_OBJ_KIND_MAX },
    { "mod_at T -1", SCN_OP_TIMER_MOD_AT, 0, -1, SCN_OBJ_KIND_MAX },
    { "mod_at T 9223372036854775807", SCN_OP_TIMER_MOD_AT, 0, INT64_MAX,
      SCN_OBJ_KIND_MAX },
    { "mod_at T -9223372036854775808", SCN_OP_TIMER_MOD_AT, 0, INT64_MIN,
      SCN_OBJ_KIND_MAX },
    { "poll_params 32us", SCN_OP_POLL_PARAMS, 0, 32000, SCN_OBJ_KIND_MAX },
    { "jump -2s", SCN_OP_HOST_JUMP, 0, -2000000000, SCN_OBJ_KIND_MAX },
    { "cancel_job J", SCN_OP_JOB_CANCEL, 0, 0, SCN_OBJ_KIND_MAX },
    { "pool_size 16", SCN_OP_POOL_SIZE, 0, 16, SCN_OBJ_KIND_MAX },
    { "poll_params -1", SCN_OP_POLL_PARAMS, 0, -1, SCN_OBJ_KIND_MAX },
    { "pool_size 0", SCN_OP_POOL_SIZE, 0, 0, SCN_OBJ_KIND_MAX },
    { "check T", SCN_OP_TIMER_CHECK, 0, 0, SCN_OBJ_KIND_MAX },
    { "run_timers host", SCN_OP_RUN_TIMERS, 0, 2, SCN_OBJ_KIND_MAX },
    { "clock_enable virtual_rt", SCN_OP_CLOCK_ENABLE, 0, 3, SCN_OBJ_KIND_MAX },
    { "clock_disable realtime", SCN_OP_CLOCK_DISABLE, 0, 0, SCN_OBJ_KIND_MAX },
    { "check_loop", SCN_OP_LOOP_CHECK, 0, 0, SCN_OBJ_KIND_MAX },
    { "writable F", SCN_OP_FD_WRITABLE, 0, 0, SCN_OBJ_KIND_MAX },
    { "unwritable F", SCN_OP_FD_UNWRITABLE, 0, 0, SCN_OBJ_KIND_MAX },
    { "co_enter K", SCN_OP_CO_ENTER, 0, 0, SCN_OBJ_KIND_MAX },
    { "co_schedule K", SCN_OP_CO_SCHEDULE, 0, 0, SCN_OBJ_KIND_MAX },
    { "co_wake K", SCN_OP_CO_WAKE, 0, 0, SCN_OBJ_KIND_MAX },
    { "wait K 3", SCN_OP_WAIT, 0, 3, SCN_OBJ_CORO },
    { "co_yield", SCN_OP_CO_YIELD, 0, 0, SCN_OBJ_KIND_MAX },
    { "co_sleep 1ms", SCN_OP_CO_SLEEP, 0, 1000000, SCN_OBJ_KIND_MAX },
    { "co_sleep 0", SCN_OP_CO_SLEEP, 0, 0, SCN_OBJ_KIND_MAX },
    { "co_lock", SCN_OP_CO_LOCK, 0, 0, SCN_OBJ_KIND_MAX },
    { "co_unlock", SCN_OP_CO_UNLOCK, 0, 0, SCN_OBJ_KIND_MAX },
    { "co_wait", SCN_OP_CO_WAIT, 0, 0, SCN_OBJ_KIND_MAX },
    { "co_restart_all", SCN_OP_CO_RESTART_ALL, 0, 0, SCN_OBJ_KIND_MAX },
    { "co_schedule K on IO", SCN_OP_CO_SCHEDULE, 0, 1, SCN_OBJ_KIND_MAX },
    { "co_schedule K on home", SCN_OP_CO_SCHEDULE, 0, 0, SCN_OBJ_KIND_MAX },
    { "co_reschedule IO", SCN_OP_CO_RESCHEDULE, 0, 1, SCN_OBJ_KIND_MAX },
    { "co_reschedule home", SCN_OP_CO_RESCHEDULE, 0, 0, SCN_OBJ_KIND_MAX },
    { "aio_wait_while IO", SCN_OP_AIO_WAIT_WHILE, 0, 0, SCN_OBJ_KIND_MAX },
    { "check_clock virtual", SCN_OP_CLOCK_CHECK, 0, 1, SCN_OBJ_KIND_MAX },
    { "aio_wait_while home", SCN_OP_AIO_WAIT_WHILE, 0, 1, SCN_OBJ_KIND_MAX },
    { "co_wait qemu_mutex", SCN_OP_CO_WAIT, 0, SCN_LOCK_QEMU_MUTEX,
      SCN_OBJ_KIND_MAX },
    { "co_wait co_mutex", SCN_OP_CO_WAIT, 0, SCN_LOCK_CO_MUTEX,
      SCN_OBJ_KIND_MAX },
    { "co_enter_next", SCN_OP_CO_ENTER_NEXT, 0, SCN_LOCK_NONE,
      SCN_OBJ_KIND_MAX },
    { "co_enter_next qemu_mutex", SCN_OP_CO_ENTER_NEXT, 0,
      SCN_LOCK_QEMU_MUTEX, SCN_OBJ_KIND_MAX },
    { "co_enter_next co_mutex", SCN_OP_CO_ENTER_NEXT, 0, SCN_LOCK_CO_MUTEX,
      SCN_OBJ_KIND_MAX },
    { "co_submit J", SCN_OP_CO_SUBMIT, 0, 0, SCN_OBJ_KIND_MAX },
};

static void test_ops(void)
{
    bool covered[SCN_OP_KIND_MAX] = { false };

    for (size_t i = 0; i < G_N_ELEMENTS(op_cases); i++) {
        const OpCase *c = &op_cases[i];
        g_autofree char *text = g_strdup_printf("%s%s }\n", op_prelude, c->text);
        ScnObjKind implied = scn_op_object_kind(c->kind);
        const ScnOp *op;

        parse_ok(text, &scn_a);
        g_assert_cmpuint(scn_a.op_count, ==, 1);
        op = &scn_a.ops[0];
        g_assert_cmpint(op->kind, ==, c->kind);
        g_assert_cmpuint(op->obj, ==, c->obj);
        /* obj_kind: what the op implies, the object's kind for wait, else 0. */
        g_assert_cmpuint(op->obj_kind, ==, c->kind == SCN_OP_WAIT ? c->wait_kind
                                           : implied == SCN_OBJ_KIND_MAX ? 0 : implied);
        g_assert_cmpint(op->arg, ==, c->arg);
        g_assert_cmpuint(op->line, ==, 9);
        g_assert_cmpint(scn_a.uses_main_loop, ==,
                        c->kind == SCN_OP_MAIN_LOOP_WAIT || c->kind == SCN_OP_NOTIFY_EVENT ||
                        c->kind == SCN_OP_RUN_TIMERS || c->kind == SCN_OP_AIO_WAIT_WHILE ||
                        c->kind == SCN_OP_CLOCK_CHECK);
        covered[c->kind] = true;
    }
    /* kill needs a signal, and a signal makes it a main-loop scenario. */
    parse_ok("signal S sigio\nthread main { kill S }\n", &scn_a);
    g_assert_cmpint(scn_a.ops[0].kind, ==, SCN_OP_KILL);
    g_assert_cmpuint(scn_a.ops[0].obj_kind, ==, SCN_OBJ_SIGNAL);
    g_assert_true(scn_a.uses_main_loop);
    covered[SCN_OP_KILL] = true;
    for (unsigned k = 0; k < SCN_OP_KIND_MAX; k++) {
        g_assert_true(covered[k]);
    }
}

/* Guards, polling-mode fds and signals: parsed, printed back, refused. */
static void test_decl_attributes(void)
{
    static const char text[] =
        "bh A guard 2 { schedule B }\nbh B guard 2\nbh C\n"
        "fd F poll { lower F } alt { poll_nb }\nfd G\nfd V poll suppress\n"
        "signal S sigbus { notify }\nsignal U sigalrm\n"
        "thread main { kill S; wait S }\n";
    g_autofree char *printed = NULL;

    parse_ok(text, &scn_a);
    g_assert_cmpuint(scn_a.objects[SCN_OBJ_BH][0].guard, ==, 2);
    g_assert_cmpuint(scn_a.objects[SCN_OBJ_BH][1].guard, ==, 2);
    g_assert_cmpuint(scn_a.objects[SCN_OBJ_BH][2].guard, ==, 0);
    g_assert_true(scn_a.objects[SCN_OBJ_FD][0].poll);
    g_assert_false(scn_a.objects[SCN_OBJ_FD][1].poll);
    g_assert_false(scn_a.objects[SCN_OBJ_FD][0].suppress);
    g_assert_true(scn_a.objects[SCN_OBJ_FD][2].poll);
    g_assert_true(scn_a.objects[SCN_OBJ_FD][2].suppress);
    g_assert_cmpuint(scn_a.objects[SCN_OBJ_SIGNAL][0].signal, ==, 2);
    g_assert_cmpuint(scn_a.objects[SCN_OBJ_SIGNAL][1].signal, ==, 1);
    g_assert_true(scn_a.uses_main_loop);
    printed = print_to_string(&scn_a);
    parse_ok(printed, &scn_b);
    g_assert_true(scn_equal(&scn_a, &scn_b));
    g_assert_nonnull(strstr(printed, "bh A guard 2 {"));
    g_assert_nonnull(strstr(printed, "fd F poll {"));
    g_assert_nonnull(strstr(printed, "fd V poll suppress"));
    parse_err("fd V suppress\nthread t {}\n",
              "x.scn:1: 'suppress' needs 'poll' before it (fd V poll "
              "suppress): only a polled handler has io_poll_begin/io_poll_end");
    g_assert_nonnull(strstr(printed, "signal S sigbus {"));

    parse_err("bh A guard 0\nthread t {}\n",
              "x.scn:1: 'guard' needs a number from 1 to 8, found '0'");
    parse_err("bh A guard 9\nthread t {}\n",
              "x.scn:1: 'guard' needs a number from 1 to 8, found '9'");
    parse_err("bh A guard\nthread t {}\n",
              "x.scn:1: 'guard' needs a number from 1 to 8, found end of line");
    parse_err("signal S\nthread t {}\n",
              "x.scn:1: signal 'S' needs sigio, sigalrm or sigbus, found end of line");
    parse_err("signal sigbus sigbus\nthread t {}\n",
              "x.scn:1: 'sigbus' is a keyword and cannot be a name");
    parse_err("timer T virtual guard 1\nthread t {}\n",
              "x.scn:1: expected end of line (one statement a line), found 'guard'");
    parse_err("thread t { clock_disable }\n",
              "x.scn:1: 'clock_disable' needs a clock (realtime, virtual, host or "
              "virtual_rt), found '}'");
    parse_err("thread t { run_timers sometimes }\n",
              "x.scn:1: 'run_timers' needs a clock (realtime, virtual, host or "
              "virtual_rt), found 'sometimes'");
    parse_err("timer T virtual scale s\nthread t {}\n",
              "x.scn:1: 'scale' needs ns, us or ms, found 's'");
    parse_err("timer T virtual main_loop scale us\nthread t {}\n",
              "x.scn:1: expected end of line (one statement a line), found 'scale'");
    parse_err("fd F write poll\nthread t {}\n",
              "x.scn:1: expected end of line (one statement a line), found 'poll'");
    parse_err("bh write\nthread t {}\n",
              "x.scn:1: 'write' is a keyword and cannot be a name");
    parse_err("timer T virtual\nthread t { check }\n",
              "x.scn:2: 'check' needs a name, found '}'");
    parse_err("fd F\nthread t { kill F }\n",
              "x.scn:2: 'kill' needs a signal, but 'F' is an fd");
    parse_err("thread t { pool_size -1 }\n",
              "x.scn:1: 'pool_size' count must be at least 1");
    parse_err("thread t { pool_size 17 }\n",
              "x.scn:1: 'pool_size' is at most 16 workers");
    parse_err("thread t { pool_size }\n",
              "x.scn:1: 'pool_size' needs a number of workers, found '}'");
    parse_err("bh B\nthread t { cancel_job B }\n",
              "x.scn:2: 'cancel_job' needs a job, but 'B' is a bh");
}

static void test_options(void)
{
    static const struct { const char *text; unsigned faults; } cases[] = {
        { "faults none", 0 }, { "faults spurious", 1 }, { "faults eintr", 2 },
        { "faults early", 4 }, { "faults eagain", 8 }, { "faults hostjump", 16 },
        { "faults all", 511 }, { "faults spurious, hostjump", 17 },
        { "faults none,eintr , early", 6 }, { "faults all, none", 511 },
        { "faults refuse", 32 }, { "faults fdcreate", 64 },
        { "faults readfail", 128 }, { "faults shortread, eagain", 264 },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *text = g_strdup_printf("%s\nthread t {}\n", cases[i].text);

        parse_ok(text, &scn_a);
        g_assert_cmpuint(scn_a.faults, ==, cases[i].faults);
        g_assert_false(scn_a.uses_main_loop);
    }
    parse_ok("main_loop\nthread t {}", &scn_a);
    g_assert_true(scn_a.uses_main_loop);
}

static void test_durations(void)
{
    static const struct { const char *text; int64_t ns; } cases[] = {
        { "0", 0 }, { "7", 7 }, { "7ns", 7 }, { "7us", 7000 }, { "7ms", 7000000 },
        { "7s", 7000000000 }, { "-7ms", -7000000 }, { "-0", 0 },
        { "9223372036854775807", INT64_MAX }, { "9223372036854775807ns", INT64_MAX },
        { "-9223372036854775808", INT64_MIN }, { "9223372036s", 9223372036000000000 },
        { "-9223372036854775us", -9223372036854775000 },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *text = g_strdup_printf("timer T host\nthread t { mod T %s }",
                                                cases[i].text);

        parse_ok(text, &scn_a);
        g_assert_cmpint(scn_a.ops[0].arg, ==, cases[i].ns);
    }
}

/* Separators, comments, CRLF, forward references, bodies over lines. */
static void test_layout(void)
{
    const ScnOp *ops = scn_a.ops;

    parse_ok("# a comment line\n"
             "\n"
             "   bh A { schedule B ; ; schedule A;}   # trailing comment\r\n"
             "bh B {\n"
             "\n"
             "    poll   # comment inside a body\n"
             "    ;\n"
             "    poll_nb\n"
             "}\n"
             "thread\tmain{wait B 2}\n"
             "thread w { }", &scn_a);
    g_assert_cmpuint(scn_a.op_count, ==, 5);
    g_assert_cmpint(ops[0].kind, ==, SCN_OP_SCHEDULE);
    g_assert_cmpuint(ops[0].obj, ==, 1);             /* B, declared later */
    g_assert_cmpuint(ops[0].line, ==, 3);
    g_assert_cmpuint(ops[1].obj, ==, 0);
    g_assert_cmpuint(ops[2].line, ==, 6);
    g_assert_cmpuint(ops[3].line, ==, 8);
    g_assert_cmpint(ops[4].kind, ==, SCN_OP_WAIT);
    g_assert_cmpint(ops[4].arg, ==, 2);
    g_assert_cmpuint(ops[4].line, ==, 10);

    /* No newline at the end; names at the length limit. */
    parse_ok("bh abcdefghijklmnopqrstuvw\nthread _9 { schedule abcdefghijklmnopqrstuvw }",
             &scn_a);
    g_assert_cmpstr(scn_a.objects[SCN_OBJ_BH][0].name, ==, "abcdefghijklmnopqrstuvw");
}

/* ---- errors ----------------------------------------------------------------------- */

typedef struct {
    const char *text;
    const char *err;
} ErrCase;

static const ErrCase err_cases[] = {
    /* names */
    { "timer T virtual\nthread t {\n  schedule T\n}",
      "x.scn:3: 'schedule' needs a bh, but 'T' is a timer" },
    { "bh B\nthread t { add B }", "x.scn:2: 'add' needs an fd, but 'B' is a bh" },
    { "fd F\nthread t { oneshot F }", "x.scn:2: 'oneshot' needs a oneshot, but 'F' is an fd" },
    { "bh B\nthread t { mod B 1 }", "x.scn:2: 'mod' needs a timer, but 'B' is a bh" },
    { "bh B\nthread t { submit t }", "x.scn:2: 'submit' needs a job, but 't' is a thread" },
    { "thread t { wait t }",
      "x.scn:1: 'wait' needs a bh, oneshot, fd, timer, job or coroutine, but 't' is a thread" },
    { "thread t {\n schedule A\n}", "x.scn:2: unknown name 'A'" },
    { "bh A\nfd B\nbh A", "x.scn:3: name 'A' declared twice (first on line 1)" },
    { "bh A\nthread A {}", "x.scn:2: name 'A' declared twice (first on line 1)" },
    { "iothread IO { co_yield }",
      "x.scn:1: iothread 'IO' has no body: it only polls its own context "
      "(name it in 'co_schedule C on IO' or 'co_reschedule IO')" },
    { "iothread A\niothread B\niothread C",
      "x.scn:3: too many iothreads (limit 2)" },
    { "coroutine K { co_reschedule F }\nfd F\nthread t {}",
      "x.scn:1: 'co_reschedule' needs a context ('home' or an iothread), but "
      "'F' is an fd" },
    { "coroutine K\nthread t { co_schedule K on nowhere }",
      "x.scn:2: unknown name 'nowhere' (a context is 'home' or an iothread)" },
    { "iothread IO\nthread t { wait IO }",
      "x.scn:2: 'wait' needs a bh, oneshot, fd, timer, job or coroutine, but "
      "'IO' is an iothread" },
    { "bh poll", "x.scn:1: 'poll' is a keyword and cannot be a name" },
    { "fd virtual", "x.scn:1: 'virtual' is a keyword and cannot be a name" },
    { "fd suppress", "x.scn:1: 'suppress' is a keyword and cannot be a name" },
    { "job all", "x.scn:1: 'all' is a keyword and cannot be a name" },
    { "thread t { schedule alt }", "x.scn:1: 'alt' is a keyword and cannot be a name" },
    { "bh abcdefghijklmnopqrstuvwx",
      "x.scn:1: name 'abcdefghijklmnopqrstuvwx' is too long (at most 23 characters)" },
    { "bh 9A", "x.scn:1: 'bh' needs a name, found '9A'" },
    { "bh\nthread t {}", "x.scn:1: 'bh' needs a name, found end of line" },
    { "thread t { schedule }", "x.scn:1: 'schedule' needs a name, found '}'" },
    /* operations and bodies */
    { "bh A\n\nthread t { scedule A }", "x.scn:3: unknown operation 'scedule'" },
    { "thread t {\n\n poll\n", "x.scn:1: unterminated body: '{' on line 1 has no '}'" },
    { "bh A\nthread t { poll\nbh B\n}",
      "x.scn:3: 'bh' cannot appear inside a body (is the '}' for the '{' on line 2 missing?)" },
    { "thread t { poll poll }", "x.scn:1: expected ';' or end of line after 'poll', found 'poll'" },
    { "thread t { { }", "x.scn:1: expected an operation or '}', found '{'" },
    { "thread t { main_loop_wait blocking }",
      "x.scn:1: expected ';' or end of line after 'main_loop_wait', found 'blocking'" },
    /* durations and counts */
    { "timer T host\nthread t { mod T }",
      "x.scn:2: 'mod' needs a duration such as 10ms, found '}'" },
    { "timer T host\nthread t { anticipate T 10xs }",
      "x.scn:2: bad duration '10xs' (a whole number with ns, us, ms or s)" },
    { "timer T host\nthread t { mod T 1.5ms }",
      "x.scn:2: bad duration '1.5ms' (a whole number with ns, us, ms or s)" },
    { "timer T host\nthread t { mod T 9223372036854775808 }",
      "x.scn:2: duration '9223372036854775808' is out of range" },
    { "timer T host\nthread t { mod T -9223372036854775809 }",
      "x.scn:2: duration '-9223372036854775809' is out of range" },
    { "timer T host\nthread t { mod T 9223372037s }",
      "x.scn:2: duration '9223372037s' is out of range" },
    { "timer T host\nthread t { mod T 99999999999999999999999 }",
      "x.scn:2: duration '99999999999999999999999' is out of range" },
    { "thread t { advance -1ms }",
      "x.scn:1: 'advance' needs a duration >= 0 (time only moves forward)" },
    { "coroutine C { co_sleep -1 }", "x.scn:1: 'co_sleep' needs a duration >= 0" },
    { "thread t { advance }", "x.scn:1: 'advance' needs a duration such as 10ms, found '}'" },
    { "bh A\nthread t { wait A 0 }", "x.scn:2: 'wait' count must be at least 1" },
    { "bh A\nthread t { wait A -2 }", "x.scn:2: 'wait' count must be at least 1" },
    { "bh A\nthread t { wait A 2ms }", "x.scn:2: bad count '2ms' for 'wait' (a whole number >= 1)" },
    { "bh A\nthread t { wait A 9223372036854775808 }",
      "x.scn:2: count '9223372036854775808' is out of range" },
    /* statements */
    { "faults spurious, bogus", "x.scn:1: expected a fault (none, spurious, eintr, early, "
                                "eagain, hostjump, refuse, fdcreate, readfail, shortread or all), found 'bogus'" },
    { "faults", "x.scn:1: expected a fault (none, spurious, eintr, early, "
                "eagain, hostjump, refuse, fdcreate, readfail, shortread or all), found end of file" },
    { "faults eintr,", "x.scn:1: expected a fault (none, spurious, eintr, early, "
                       "eagain, hostjump, refuse, fdcreate, readfail, shortread or all), found end of file" },
    { "faults eintr\n# x\nfaults early",
      "x.scn:3: option 'faults' given twice (first on line 1)" },
    { "main_loop\nmain_loop", "x.scn:2: option 'main_loop' given twice (first on line 1)" },
    { "timer T", "x.scn:1: timer 'T' needs a clock (realtime, virtual, host or virtual_rt), "
                 "found end of file" },
    { "timer T monotonic { }", "x.scn:1: timer 'T' needs a clock (realtime, virtual, host "
                               "or virtual_rt), found 'monotonic'" },
    { "bh A { } alt { }", "x.scn:1: only an fd has an 'alt' body; 'A' is a bh" },
    { "fd F alt poll", "x.scn:1: expected '{' after 'alt', found 'poll'" },
    { "thread t\n{ poll }", "x.scn:1: thread 't' needs a body on the same line, '{ ... }', "
                            "found end of line" },
    { "bh A\n{ poll }", "x.scn:2: unexpected '{' (a body must start on the line of its "
                        "declaration)" },
    { "bh A {} bh B", "x.scn:1: expected end of line (one statement a line), found 'bh'" },
    { "thread t {} ; thread u {}",
      "x.scn:1: expected end of line (one statement a line), found ';'" },
    { "poll", "x.scn:1: 'poll' is an operation; operations go inside a thread's or a "
              "callback's body" },
    { "\n\nthreads t {}", "x.scn:3: unknown statement 'threads' (expected faults, main_loop, "
                          "bh, oneshot, fd, timer, job, signal, coroutine, iothread or thread)" },
    { "}", "x.scn:1: expected a declaration, a thread or an option, found '}'" },
    { "bh A @", "x.scn:1: expected end of line (one statement a line), found '@'" },
    { "thread t { poll }\n-", "x.scn:2: expected a declaration, a thread or an option, "
                              "found '-'" },
    { "bh A\nbh B { poll }\n", "x.scn:2: no thread: a scenario needs at least one "
                               "'thread NAME { ... }'" },
    { "", "x.scn:1: no thread: a scenario needs at least one 'thread NAME { ... }'" },
    /* a syntax error is reported before any name error */
    { "thread t { schedule Q }\nbh B {", "x.scn:2: unterminated body: '{' on line 2 has no '}'" },
};

static void test_errors(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(err_cases); i++) {
        parse_err(err_cases[i].text, err_cases[i].err);
    }
}

/* Bytes a string literal cannot hold well: NUL, high bytes, a long word. */
static void test_errors_bytes(void)
{
    static const char nul[] = "thread t { poll }\nbh A\0";
    static const char high[] = "bh A\xff";
    char err[256];
    GString *big = g_string_new("bh ");

    g_assert_false(scn_parse(nul, sizeof nul - 1, "x.scn", &scn_a, err, sizeof err));
    g_assert_cmpstr(err, ==, "x.scn:2: expected end of line (one statement a line), "
                             "found byte 0x00");
    g_assert_false(scn_parse(high, sizeof high - 1, "x.scn", &scn_a, err, sizeof err));
    g_assert_cmpstr(err, ==, "x.scn:1: expected end of line (one statement a line), "
                             "found byte 0xff");
    for (int i = 0; i < 1 << 20; i++) {
        g_string_append_c(big, 'a');
    }
    g_assert_false(scn_parse(big->str, big->len, "x.scn", &scn_a, err, sizeof err));
    g_assert_cmpstr(err, ==, "x.scn:1: name 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' is too "
                             "long (at most 23 characters)");
    g_string_free(big, TRUE);

    /* A file name with a newline still gives one line; tiny buffers are cut. */
    g_assert_false(scn_parse("", 0, "a\nb", &scn_a, err, sizeof err));
    g_assert_null(strchr(err, '\n'));
    g_assert_true(g_str_has_prefix(err, "a?b:1: "));
    g_assert_false(scn_parse("", 0, "x.scn", &scn_a, err, 6));
    g_assert_cmpstr(err, ==, "x.scn");
    g_assert_false(scn_parse(NULL, 0, "x.scn", &scn_a, NULL, 0));
}

/* ---- limits -------------------------------------------------------------------------- */

static void test_limits(void)
{
    GString *t = g_string_new(NULL);
    char err[256];

    /* Exactly SCN_OPS_MAX operations parse; one more does not. */
    g_string_append(t, "thread t {\n");
    for (int i = 0; i < SCN_OPS_MAX; i++) {
        g_string_append(t, "yield\n");
    }
    g_string_append(t, "}\n");
    parse_ok(t->str, &scn_a);
    g_assert_cmpuint(scn_a.op_count, ==, SCN_OPS_MAX);
    g_string_insert(t, 11, "notify\n");
    g_assert_false(scn_parse(t->str, t->len, "x.scn", &scn_a, err, sizeof err));
    g_assert_cmpstr(err, ==, "x.scn:4098: too many operations (limit 4096)");

    /* Objects per kind: 32 parse, the 33rd is refused on its line (an
     * iothread is a simulated thread: err_cases has its own limit). */
    for (unsigned k = 0; k < SCN_OBJ_KIND_MAX; k++) {
        g_autofree char *want = NULL;

        if (k == SCN_OBJ_IOTHREAD) {
            continue;
        }

        g_string_assign(t, "thread t {}\n");
        for (int i = 0; i < SCN_OBJECTS_MAX; i++) {
            g_string_append_printf(t, "%s o%d%s\n", scn_obj_kind_name(k), i,
                                   k == SCN_OBJ_TIMER ? " host" :
                                   k == SCN_OBJ_SIGNAL ? " sigio" : "");
        }
        parse_ok(t->str, &scn_a);
        g_assert_cmpuint(scn_a.object_count[k], ==, SCN_OBJECTS_MAX);
        g_string_append_printf(t, "%s o99%s\n", scn_obj_kind_name(k),
                               k == SCN_OBJ_TIMER ? " host" :
                               k == SCN_OBJ_SIGNAL ? " sigio" : "");
        want = g_strdup_printf("x.scn:34: too many %ss (limit 32)", scn_obj_kind_name(k));
        parse_err(t->str, want);
    }
    g_string_truncate(t, 0);
    for (int i = 0; i <= SCN_THREADS_MAX; i++) {
        g_string_append_printf(t, "thread t%d { yield }\n", i);
    }
    parse_err(t->str, "x.scn:9: too many threads (limit 8)");
    g_string_free(t, TRUE);
}

/* ---- scn_validate -------------------------------------------------------------------- */

static void test_validate(void)
{
    Scenario *s = &scn_a;
    static const char base[] =
        "thread t { schedule A; wait F; mod T 1 }\nbh A\nfd F { poll }\ntimer T host";

#define BREAK(stmt, what) do { \
        parse_ok(base, s); \
        stmt; \
        g_assert_cmpstr(scn_validate(s), ==, what); \
    } while (0)

    parse_ok(base, s);
    g_assert_null(scn_validate(s));
    BREAK(s->thread_count = 0, "no thread");
    BREAK(s->thread_count = SCN_THREADS_MAX + 1, "too many threads");
    BREAK(s->op_count = SCN_OPS_MAX + 1, "too many operations");
    BREAK(s->faults = 512, "unknown fault bits");
    BREAK(s->object_count[SCN_OBJ_JOB] = SCN_OBJECTS_MAX + 1, "too many objects of one kind");
    BREAK(s->objects[SCN_OBJ_BH][0].name[0] = '1', "an object's name is not an identifier");
    BREAK(memset(s->objects[SCN_OBJ_BH][0].name, 'a', SCN_NAME_MAX),
          "an object's name is not an identifier");
    BREAK(s->objects[SCN_OBJ_FD][0].body.first = UINT32_MAX,
          "an object's body lies outside ops[]");
    BREAK(s->objects[SCN_OBJ_BH][0].alt_body = s->objects[SCN_OBJ_FD][0].body,
          "an alternate body on an object that is not an fd");
    BREAK(s->objects[SCN_OBJ_TIMER][0].clock = 4,
          "a clock out of range, or on an object that is not a timer");
    BREAK(s->objects[SCN_OBJ_FD][0].clock = 1,
          "a clock out of range, or on an object that is not a timer");
    BREAK(s->objects[SCN_OBJ_FD][0].suppress = true,
          "'suppress' on an object that is not a polled reader fd");
    BREAK((s->objects[SCN_OBJ_FD][0].poll = true,
           s->objects[SCN_OBJ_FD][0].write = true,
           s->objects[SCN_OBJ_FD][0].suppress = true),
          "'suppress' on an object that is not a polled reader fd");
    BREAK(s->threads[0].name[0] = '\0', "a thread's name is not an identifier");
    BREAK(s->threads[0].body.count = 5, "a thread's body lies outside ops[]");
    BREAK(strcpy(s->threads[0].name, "F"), "two objects or threads share a name");
    BREAK(s->ops[0].kind = SCN_OP_KIND_MAX, "an operation's kind is out of range");
    BREAK(s->ops[1].obj = 1, "a wait names no declared object");
    BREAK(s->ops[1].obj_kind = SCN_OBJ_KIND_MAX, "a wait names no declared object");
    BREAK(s->ops[1].obj_kind = SCN_OBJ_JOB, "a wait names no declared object");
    BREAK(s->ops[0].obj_kind = SCN_OBJ_FD, "an operation's obj_kind is not the kind it implies");
    BREAK(s->ops[1].arg = 0, "a wait's count is below 1");
    BREAK(s->ops[0].obj = 1, "an operation's object index is out of range");
    BREAK((s->ops[0].kind = SCN_OP_POLL, s->ops[0].obj = 1),
          "an operation without an object has obj or obj_kind != 0");
    BREAK(s->ops[2].kind = SCN_OP_YIELD,        /* was mod T: obj_kind is a timer's */
          "an operation without an object has obj or obj_kind != 0");
    BREAK(s->ops[0].arg = 3, "an operation without an argument has arg != 0");
    BREAK((s->ops[0].kind = SCN_OP_POLL, s->ops[0].arg = 1),
          "an operation without an argument has arg != 0");
    BREAK((s->ops[0].kind = SCN_OP_ADVANCE, s->ops[0].arg = -1), "an advance is negative");
    BREAK((s->ops[0].kind = SCN_OP_CO_SLEEP, s->ops[0].arg = -1), "a co_sleep is negative");
    BREAK((s->ops[0].kind = SCN_OP_CO_RESCHEDULE, s->ops[0].arg = 1),
          "a coroutine operation names no declared context");
    BREAK(s->ops[0].kind = SCN_OP_MAIN_LOOP_WAIT, "main_loop_wait without uses_main_loop");
    BREAK((s->ops[0].kind = SCN_OP_MAIN_LOOP_WAIT, s->uses_main_loop = true, s->ops[0].arg = 2),
          "main_loop_wait's arg is not 0 or 1");
    BREAK(s->ops[0].kind = SCN_OP_NOTIFY_EVENT, "notify_event without uses_main_loop");
    BREAK((s->ops[0].kind = SCN_OP_CLOCK_CHECK, s->ops[0].arg = 1),
          "check_clock without uses_main_loop");
    BREAK((s->ops[0].kind = SCN_OP_CLOCK_CHECK, s->uses_main_loop = true,
           s->ops[0].arg = 4),
          "a clock operation's clock is out of range");
    BREAK((s->ops[0].kind = SCN_OP_CO_WAIT, s->ops[0].arg = SCN_LOCKS),
          "a CoQueue operation's lock is out of range");
    BREAK((s->ops[0].kind = SCN_OP_CO_ENTER_NEXT, s->ops[0].obj_kind = 0,
           s->ops[0].arg = -1),
          "a CoQueue operation's lock is out of range");
    /* aio_wait_while home: obj 0 names no iothread (there is none). */
    BREAK((s->ops[0].kind = SCN_OP_AIO_WAIT_WHILE,
           s->ops[0].obj_kind = SCN_OBJ_IOTHREAD, s->ops[0].arg = 1),
          "aio_wait_while without uses_main_loop");
    BREAK((s->ops[0].kind = SCN_OP_AIO_WAIT_WHILE,
           s->ops[0].obj_kind = SCN_OBJ_IOTHREAD, s->ops[0].arg = 0,
           s->uses_main_loop = true),
          "an operation's object index is out of range");
#undef BREAK
}

/* ---- printer and round trips ---------------------------------------------------------- */

static void test_print_canonical(void)
{
    static const char text[] =
        "thread main { wait T 2; main_loop_wait nonblocking; advance 1500us\n"
        "  mod T -3; anticipate T 2000ms }\n"
        "job J\n"
        "timer T virtual_rt { del T }\n"
        "fd F { lower F } alt { remove F; raise F; add F; replace F }\n"
        "faults eagain, spurious\n"
        "bh B { schedule B; schedule_idle B; cancel B; delete B }\n"
        "oneshot O { oneshot O; notify; poll; poll_nb }\n"
        "thread w { submit J; drain; yield; notify_event; main_loop_wait; wait J }\n";
    static const char expected[] =
        "faults spurious, eagain\n"
        "main_loop\n"
        "\n"
        "bh B {\n    schedule B\n    schedule_idle B\n    cancel B\n    delete B\n}\n"
        "\n"
        "oneshot O {\n    oneshot O\n    notify\n    poll\n    poll_nb\n}\n"
        "\n"
        "fd F { lower F } alt {\n    remove F\n    raise F\n    add F\n    replace F\n}\n"
        "\n"
        "timer T virtual_rt { del T }\n"
        "\n"
        "job J\n"
        "\n"
        "thread main {\n    wait T 2\n    main_loop_wait nonblocking\n    advance 1500us\n"
        "    mod T -3ns\n    anticipate T 2s\n}\n"
        "\n"
        "thread w {\n    submit J\n    drain\n    yield\n    notify_event\n"
        "    main_loop_wait\n    wait J\n}\n";
    g_autofree char *printed = NULL;

    parse_ok(text, &scn_a);
    printed = print_to_string(&scn_a);
    g_assert_cmpstr(printed, ==, expected);

    parse_ok("faults eintr, all\nthread t {}", &scn_a);
    g_free(printed);
    printed = print_to_string(&scn_a);
    g_assert_cmpstr(printed, ==, "faults all\n\nthread t {}\n");

    /* An invalid scenario prints one comment line, never garbage. */
    scn_a.thread_count = 0;
    g_free(printed);
    printed = print_to_string(&scn_a);
    g_assert_cmpstr(printed, ==, "# not a valid scenario: no thread\n");
}

/* parse(print(parse(x))) == parse(x), and print() is a fixed point. */
static void round_trip(const char *text, size_t len, const char *name)
{
    char err[256];
    g_autofree char *once = NULL;
    g_autofree char *twice = NULL;

    if (!scn_parse(text, len, name, &scn_a, err, sizeof err)) {
        g_error("%s", err);
    }
    once = print_to_string(&scn_a);
    if (!scn_parse(once, strlen(once), name, &scn_b, err, sizeof err)) {
        g_error("printed %s does not parse: %s\n%s", name, err, once);
    }
    g_assert_true(scn_equal(&scn_a, &scn_b));
    g_assert_true(scn_equal(&scn_b, &scn_a));
    twice = print_to_string(&scn_b);
    g_assert_cmpstr(once, ==, twice);
}

static int cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The .scn files of docs/examples, sorted: directory order varies between file systems. */
static GPtrArray *example_paths(void)
{
    const char *dir = QLOOP_SOURCE_DIR "/docs/examples";
    GPtrArray *paths = g_ptr_array_new_with_free_func(g_free);
    GDir *d = g_dir_open(dir, 0, NULL);
    const char *entry;

    g_assert_nonnull(d);
    while ((entry = g_dir_read_name(d))) {
        if (g_str_has_suffix(entry, ".scn")) {
            g_ptr_array_add(paths, g_build_filename(dir, entry, NULL));
        }
    }
    g_dir_close(d);
    g_ptr_array_sort(paths, cmp_str);
    g_assert_cmpuint(paths->len, >=, 6);
    return paths;
}

static void test_examples(void)
{
    GPtrArray *paths = example_paths();

    for (unsigned i = 0; i < paths->len; i++) {
        const char *path = g_ptr_array_index(paths, i);
        g_autofree char *text = NULL;
        gsize len;

        g_assert_true(g_file_get_contents(path, &text, &len, NULL));
        round_trip(text, len, path);
    }
    g_ptr_array_unref(paths);
}

/* Every ```scn block of the format's documentation parses and round-trips. */
static void test_doc_blocks(void)
{
    g_autofree char *text = NULL;
    const char *p;
    unsigned count = 0;

    g_assert_true(g_file_get_contents(QLOOP_SOURCE_DIR "/docs/scenario-format.md",
                                      &text, NULL, NULL));
    for (p = strstr(text, "\n```scn\n"); p; p = strstr(p, "\n```scn\n")) {
        const char *start = p + strlen("\n```scn\n");
        const char *end = strstr(start, "\n```");

        g_assert_nonnull(end);
        round_trip(start, (size_t)(end - start) + 1, "scenario-format.md");
        count++;
        p = end;
    }
    g_assert_cmpuint(count, >=, 6);

    /* Each example file is quoted in the documentation, verbatim. */
    {
        GPtrArray *paths = example_paths();

        for (unsigned i = 0; i < paths->len; i++) {
            g_autofree char *example = NULL;

            g_assert_true(g_file_get_contents(g_ptr_array_index(paths, i), &example,
                                              NULL, NULL));
            if (!strstr(text, example)) {
                g_error("%s is not quoted in docs/scenario-format.md",
                        (char *)g_ptr_array_index(paths, i));
            }
        }
        g_ptr_array_unref(paths);
    }
}

static void test_equal(void)
{
    /* Same scenario, bodies laid out in a different order: equal. */
    parse_ok("bh A { poll }\nthread t { schedule A }", &scn_a);
    parse_ok("thread t { schedule A }\nbh A { poll }", &scn_b);
    g_assert_cmpuint(scn_a.objects[SCN_OBJ_BH][0].body.first, !=,
                     scn_b.objects[SCN_OBJ_BH][0].body.first);
    g_assert_true(scn_equal(&scn_a, &scn_b));
    parse_ok("thread t { schedule A }\nbh A { poll_nb }", &scn_b);
    g_assert_false(scn_equal(&scn_a, &scn_b));
    parse_ok("thread t { schedule B }\nbh B { poll }", &scn_b);
    g_assert_false(scn_equal(&scn_a, &scn_b));
    parse_ok("faults eintr\nbh A { poll }\nthread t { schedule A }", &scn_b);
    g_assert_false(scn_equal(&scn_a, &scn_b));
    /* Queries, clocks, scaled and main-loop timers, write handlers: they
     * print back to the same scenario, and each attribute counts. */
    {
        static const char text[] =
            "timer T virtual scale us main_loop { check T }\n"
            "timer U host scale ms\nfd F write\n"
            "thread t { check T; run_timers virtual; clock_disable host\n"
            "  clock_enable host; check_loop; writable F; unwritable F\n"
            "  poll_params -1 }\n";

        round_trip(text, sizeof(text) - 1, "new-syntax");
        parse_ok(text, &scn_a);
        g_assert_cmpuint(scn_a.objects[SCN_OBJ_TIMER][0].scale, ==, SCN_SCALE_US);
        g_assert_true(scn_a.objects[SCN_OBJ_TIMER][0].main_timer);
        g_assert_true(scn_a.uses_main_loop);
        g_assert_true(scn_a.objects[SCN_OBJ_FD][0].write);
        g_assert_cmpint(scn_a.ops[3].arg, ==, 2);   /* clock_disable host */
        parse_ok("timer T virtual scale ms main_loop { check T }\n"
                 "timer U host scale ms\nfd F write\n"
                 "thread t { check T; run_timers virtual; clock_disable host\n"
                 "  clock_enable host; check_loop; writable F; unwritable F\n"
                 "  poll_params -1 }\n", &scn_b);
        g_assert_false(scn_equal(&scn_a, &scn_b));
        parse_ok("timer T virtual scale us { check T }\nmain_loop\n"
                 "timer U host scale ms\nfd F write\n"
                 "thread t { check T; run_timers virtual; clock_disable host\n"
                 "  clock_enable host; check_loop; writable F; unwritable F\n"
                 "  poll_params -1 }\n", &scn_b);
        g_assert_false(scn_equal(&scn_a, &scn_b));
        parse_ok("timer T virtual scale us main_loop { check T }\n"
                 "timer U host scale ms\nfd F\n"
                 "thread t { check T; run_timers virtual; clock_disable host\n"
                 "  clock_enable host; check_loop; writable F; unwritable F\n"
                 "  poll_params -1 }\n", &scn_b);
        g_assert_false(scn_equal(&scn_a, &scn_b));
    }
}

/* ---- robustness ------------------------------------------------------------------------ */

static uint64_t rng_state;

static uint64_t rng(void)
{
    /* xorshift64*: deterministic on every platform, unlike rand(). */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

static const char *const fragments[] = {
    "bh ", "oneshot ", "fd ", "timer ", "job ", "thread ", "faults ", "main_loop\n",
    "alt ", "{", "}", ";", ",", "\n", "#", " ", "A", "B", "T", "main", "schedule ",
    "wait ", "mod ", "poll", "advance ", "10ms", "-5", "virtual", "all", "nonblocking",
    "99999999999999999999", "\0", "\xff", "\r\n", "{\n", "}\n", "remove ", "add ",
};

static void insert_bytes(GByteArray *b, size_t at, const void *data, size_t n)
{
    size_t tail = b->len - at;

    g_byte_array_set_size(b, b->len + (guint)n);
    memmove(b->data + at + n, b->data + at, tail);
    memcpy(b->data + at, data, n);
}

static GByteArray *mutate(const GPtrArray *seeds)
{
    const GByteArray *seed = g_ptr_array_index(seeds, rng() % seeds->len);
    GByteArray *b = g_byte_array_new();
    unsigned rounds = 1 + rng() % 8;

    if (rng() % 10 == 0) {
        /* Pure noise, mostly small bytes so some of it lexes. */
        for (unsigned i = rng() % 200; i > 0; i--) {
            uint8_t c = rng() % 4 ? (uint8_t)" {};\n#-0aAz_"[rng() % 13] : (uint8_t)rng();
            g_byte_array_append(b, &c, 1);
        }
        return b;
    }
    g_byte_array_append(b, seed->data, seed->len);
    while (rounds--) {
        size_t at = b->len ? rng() % (b->len + 1) : 0;
        size_t n = 1 + rng() % 16;

        switch (rng() % 5) {
        case 0:     /* flip a byte */
            if (at < b->len) {
                b->data[at] = (uint8_t)rng();
            }
            break;
        case 1: {   /* insert a fragment */
            const char *f = fragments[rng() % G_N_ELEMENTS(fragments)];

            insert_bytes(b, at, f, MAX(strlen(f), 1));
            break;
        }
        case 2:     /* delete a range */
            if (at < b->len) {
                g_byte_array_remove_range(b, at, MIN(n, b->len - at));
            }
            break;
        case 3:     /* duplicate a range */
            if (at < b->len) {
                uint8_t copy[16];

                n = MIN(n, b->len - at);
                memcpy(copy, b->data + at, n);
                insert_bytes(b, rng() % (b->len + 1), copy, n);
            }
            break;
        default:    /* truncate */
            g_byte_array_set_size(b, at);
            break;
        }
    }
    return b;
}

static void check_one(const uint8_t *data, size_t len, unsigned *parsed)
{
    char *copy = g_malloc(len ? len : 1);   /* exactly len bytes: no NUL after */
    char err[256];

    if (len) {
        memcpy(copy, data, len);    /* data is NULL for an empty GByteArray */
    }
    if (scn_parse(copy, len, "fuzz.scn", &scn_a, err, sizeof err)) {
        g_autofree char *printed = print_to_string(&scn_a);

        g_assert_null(scn_validate(&scn_a));
        if (!scn_parse(printed, strlen(printed), "fuzz.scn", &scn_b, err, sizeof err) ||
            !scn_equal(&scn_a, &scn_b)) {
            g_error("round trip failed (%s) for:\n%.*s\n--- printed:\n%s", err,
                    (int)len, copy, printed);
        }
        (*parsed)++;
    } else {
        g_assert_true(g_str_has_prefix(err, "fuzz.scn:"));
        g_assert_true(g_ascii_isdigit(err[strlen("fuzz.scn:")]));
        g_assert_null(strchr(err, '\n'));
        g_assert_nonnull(strstr(err + strlen("fuzz.scn:"), ": "));
    }
    g_free(copy);
}

static void test_robust(void)
{
    GPtrArray *paths = example_paths();
    GPtrArray *seeds = g_ptr_array_new_with_free_func((GDestroyNotify)g_byte_array_unref);
    unsigned parsed = 0;
    const unsigned runs = 20000;

    for (unsigned i = 0; i < paths->len; i++) {
        g_autofree char *text = NULL;
        gsize len;

        g_assert_true(g_file_get_contents(g_ptr_array_index(paths, i), &text, &len, NULL));
        g_ptr_array_add(seeds, g_byte_array_append(g_byte_array_new(),
                                                   (const uint8_t *)text, len));
    }
    g_ptr_array_unref(paths);

    rng_state = 0x5c4e5eedull;
    for (unsigned i = 0; i < runs; i++) {
        GByteArray *b = mutate(seeds);

        check_one(b->data, b->len, &parsed);
        g_byte_array_unref(b);
    }
    /* The loop is only useful if it exercises both outcomes. */
    g_test_message("%u of %u mutated inputs parsed", parsed, runs);
    g_assert_cmpuint(parsed, >, runs / 50);
    g_assert_cmpuint(parsed, <, runs);
    g_ptr_array_unref(seeds);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/scn/names", test_names);
    g_test_add_func("/scn/parse/decls", test_decls);
    g_test_add_func("/scn/parse/ops", test_ops);
    g_test_add_func("/scn/parse/attributes", test_decl_attributes);
    g_test_add_func("/scn/parse/options", test_options);
    g_test_add_func("/scn/parse/durations", test_durations);
    g_test_add_func("/scn/parse/layout", test_layout);
    g_test_add_func("/scn/errors/messages", test_errors);
    g_test_add_func("/scn/errors/bytes", test_errors_bytes);
    g_test_add_func("/scn/errors/limits", test_limits);
    g_test_add_func("/scn/validate", test_validate);
    g_test_add_func("/scn/print/canonical", test_print_canonical);
    g_test_add_func("/scn/print/equal", test_equal);
    g_test_add_func("/scn/roundtrip/examples", test_examples);
    g_test_add_func("/scn/roundtrip/doc", test_doc_blocks);
    g_test_add_func("/scn/robust", test_robust);
    return g_test_run();
}
