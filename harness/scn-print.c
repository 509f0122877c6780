/*
 * harness/scn-print.c — the .scn text format: printer and comparison.
 *
 * Method: scn_print() writes the canonical layout (options, declarations in
 * kind order, threads) from the same word tables the parser reads
 * (scn-words.h, scn_op_name()), so printing a valid scenario always parses
 * back to an equal one; scn_equal() is that "equal": bodies compared by
 * content, wherever they lie in ops[], line numbers ignored.
 */
#include "scn-parse.h"
#include "scn-words.h"

#include <glib.h>
#include <inttypes.h>
#include <string.h>

/* ---- printer ------------------------------------------------------------- */

static void scn_print_duration(int64_t ns, FILE *out)
{
    static const struct { const char *unit; int64_t scale; } units[] = {
        { "s", 1000000000 }, { "ms", 1000000 }, { "us", 1000 },
    };

    if (ns == 0) {
        fputs("0", out);
        return;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(units); i++) {
        if (ns % units[i].scale == 0) {
            fprintf(out, "%" PRId64 "%s", ns / units[i].scale, units[i].unit);
            return;
        }
    }
    fprintf(out, "%" PRId64 "ns", ns);
}

static void scn_print_op(const Scenario *s, const ScnOp *op, FILE *out)
{
    ScnObjKind kind = scn_op_object_kind(op->kind);

    fputs(scn_op_name(op->kind), out);
    if (op->kind == SCN_OP_WAIT) {
        fprintf(out, " %s", s->objects[op->obj_kind][op->obj].name);
        if (op->arg != 1) {
            fprintf(out, " %" PRId64, op->arg);
        }
    } else if (op->kind == SCN_OP_AIO_WAIT_WHILE && op->arg == 1) {
        fputs(" home", out);
    } else if (kind != SCN_OBJ_KIND_MAX) {
        fprintf(out, " %s", s->objects[kind][op->obj].name);
    }
    if ((op->kind == SCN_OP_CO_WAIT || op->kind == SCN_OP_CO_ENTER_NEXT) &&
        op->arg) {
        fprintf(out, " %s", scn_locks[op->arg]);
    }
    if (op->kind == SCN_OP_TIMER_MOD || op->kind == SCN_OP_TIMER_ANTICIPATE ||
        op->kind == SCN_OP_ADVANCE || op->kind == SCN_OP_TIMER_MOD_AT || op->kind == SCN_OP_HOST_JUMP ||
        op->kind == SCN_OP_POLL_PARAMS || op->kind == SCN_OP_CO_SLEEP) {
        fputc(' ', out);
        scn_print_duration(op->arg, out);
    }
    if (op->kind == SCN_OP_CO_SCHEDULE && op->arg != SCN_CTX_HOME) {
        fputs(" on", out);
    }
    if ((op->kind == SCN_OP_CO_SCHEDULE && op->arg != SCN_CTX_HOME) ||
        op->kind == SCN_OP_CO_RESCHEDULE) {
        fprintf(out, " %s", op->arg == SCN_CTX_HOME ? "home"
                : s->objects[SCN_OBJ_IOTHREAD][op->arg - SCN_CTX_HOME - 1].name);
    }
    if (op->kind == SCN_OP_POOL_SIZE) {
        fprintf(out, " %" PRId64, op->arg);
    }
    if (op->kind == SCN_OP_MAIN_LOOP_WAIT && op->arg) {
        fputs(" nonblocking", out);
    }
    if (op->kind == SCN_OP_RUN_TIMERS || op->kind == SCN_OP_CLOCK_ENABLE ||
        op->kind == SCN_OP_CLOCK_DISABLE || op->kind == SCN_OP_CLOCK_CHECK) {
        fprintf(out, " %s", scn_clocks[op->arg]);
    }
}

/* Short callback bodies on one line, thread bodies one op a line. */
static void scn_print_body(const Scenario *s, ScnBody body, bool one_line, FILE *out)
{
    one_line = one_line && body.count <= 3;
    fputs(one_line || body.count == 0 ? "{" : "{\n", out);
    for (uint32_t i = 0; i < body.count; i++) {
        const ScnOp *op = &s->ops[body.first + i];

        fputs(one_line ? (i ? "; " : " ") : "    ", out);
        scn_print_op(s, op, out);
        fputs(one_line ? "" : "\n", out);
    }
    fputs(one_line && body.count ? " }" : "}", out);
}

static void scn_print_options(const Scenario *s, FILE *out)
{
    if (s->faults == SCN_FAULTS_ALL) {
        fputs("faults all\n", out);
    } else if (s->faults) {
        const char *sep = "faults ";

        for (unsigned i = 1; i <= SCN_FAULT_BITS; i++) {
            if (s->faults & scn_faults[i].mask) {
                fprintf(out, "%s%s", sep, scn_faults[i].name);
                sep = ", ";
            }
        }
        fputc('\n', out);
    }
    if (s->uses_main_loop) {
        fputs("main_loop\n", out);
    }
    if (s->faults || s->uses_main_loop) {
        fputc('\n', out);
    }
}

void scn_print(const Scenario *s, FILE *out)
{
    const char *why = scn_validate(s);

    if (why) {
        fprintf(out, "# not a valid scenario: %s\n", why);
        return;
    }
    scn_print_options(s, out);
    for (unsigned k = 0; k < SCN_OBJ_KIND_MAX; k++) {
        for (unsigned i = 0; i < s->object_count[k]; i++) {
            const ScnObject *o = &s->objects[k][i];

            fprintf(out, "%s %s", scn_obj_kind_name(k), o->name);
            if (k == SCN_OBJ_TIMER) {
                fprintf(out, " %s", scn_clocks[o->clock]);
            }
            if (o->scale) {
                fprintf(out, " scale %s", scn_scales[o->scale]);
            }
            if (o->main_timer) {
                fputs(" main_loop", out);
            }
            if (k == SCN_OBJ_SIGNAL) {
                fprintf(out, " %s", scn_signals[o->signal]);
            }
            if (o->guard) {
                fprintf(out, " guard %u", o->guard);
            }
            if (o->poll) {
                fputs(" poll", out);
            }
            if (o->suppress) {
                fputs(" suppress", out);
            }
            if (o->write) {
                fputs(" write", out);
            }
            if (o->nocb) {
                fputs(" nocb", out);
            }
            if (o->body.count) {
                fputc(' ', out);
                scn_print_body(s, o->body, true, out);
            }
            if (o->alt_body.count) {
                fputs(" alt ", out);
                scn_print_body(s, o->alt_body, true, out);
            }
            fputc('\n', out);
        }
        if (s->object_count[k]) {
            fputc('\n', out);
        }
    }
    for (unsigned t = 0; t < s->thread_count; t++) {
        fprintf(out, "%sthread %s ", t ? "\n" : "", s->threads[t].name);
        scn_print_body(s, s->threads[t].body, false, out);
        fputc('\n', out);
    }
}

/* ---- comparison ------------------------------------------------------------ */

static bool scn_body_equal(const Scenario *a, ScnBody ba, const Scenario *b, ScnBody bb)
{
    if (ba.count != bb.count) {
        return false;
    }
    /* Never read outside ops[], even for a scenario that failed validation. */
    if ((uint64_t)ba.first + ba.count > MIN(a->op_count, SCN_OPS_MAX) ||
        (uint64_t)bb.first + bb.count > MIN(b->op_count, SCN_OPS_MAX)) {
        return false;
    }
    for (uint32_t i = 0; i < ba.count; i++) {
        const ScnOp *x = &a->ops[ba.first + i];
        const ScnOp *y = &b->ops[bb.first + i];

        if (x->kind != y->kind || x->obj != y->obj || x->obj_kind != y->obj_kind ||
            x->arg != y->arg) {
            return false;
        }
    }
    return true;
}

bool scn_equal(const Scenario *a, const Scenario *b)
{
    if (a->faults != b->faults || a->uses_main_loop != b->uses_main_loop ||
        a->thread_count != b->thread_count || a->thread_count > SCN_THREADS_MAX) {
        return false;
    }
    for (unsigned k = 0; k < SCN_OBJ_KIND_MAX; k++) {
        if (a->object_count[k] != b->object_count[k] ||
            a->object_count[k] > SCN_OBJECTS_MAX) {
            return false;
        }
        for (unsigned i = 0; i < a->object_count[k]; i++) {
            const ScnObject *x = &a->objects[k][i];
            const ScnObject *y = &b->objects[k][i];

            if (strncmp(x->name, y->name, SCN_NAME_MAX) != 0 || x->clock != y->clock ||
                x->guard != y->guard || x->poll != y->poll || x->signal != y->signal ||
                x->scale != y->scale || x->main_timer != y->main_timer ||
                x->write != y->write || x->nocb != y->nocb ||
                !scn_body_equal(a, x->body, b, y->body) ||
                !scn_body_equal(a, x->alt_body, b, y->alt_body)) {
                return false;
            }
        }
    }
    for (unsigned t = 0; t < a->thread_count; t++) {
        if (strncmp(a->threads[t].name, b->threads[t].name, SCN_NAME_MAX) != 0 ||
            !scn_body_equal(a, a->threads[t].body, b, b->threads[t].body)) {
            return false;
        }
    }
    return true;
}
