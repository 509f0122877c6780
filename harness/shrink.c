/*
 * harness/shrink.c — minimize a failing run: the smallest scenario and
 * schedule that still fail the same way (`qloop shrink`, `qloop fuzz`).
 *
 * Method: the verdict's signature (hang with a lost wake-up; oracle and the
 * kind of violation; panic; livelock) must survive every step.  First the
 * scenario: drop whole threads, then single operations (greedy, repeated
 * until nothing more can go); after each candidate edit the old choices
 * are replayed and, if they no longer lead to the failure, a few hundred
 * fresh seeds are tried.  Then the schedule: zero chunks of choices
 * (halves, quarters, ... single ones — zero means "do not preempt") and cut
 * the tail.  A hang that is the scenario's own fault (nothing due) never
 * counts as the same failure as a lost wake-up.
 *
 * In a sanitizer build (harness/crash.h) every candidate runs in a forked
 * child: a candidate may hit a memory error the original did not, and a
 * crashing original can only be shrunk that way.  The child reports its
 * verdict, signature and choices on a pipe; a crash signs as its kind and
 * top frames, so a shrink keeps the same bug, not merely some crash.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "shrink.h"

/* What must stay the same: verdict plus its first words. */
void shrink_signature(const RunResult *r, char *buf, size_t len)
{
    size_t n = strcspn(r->story, ":\n");

    if (r->verdict == SIM_HANG) {
        g_snprintf(buf, len, "hang%s", r->lost_wakeup ? "/lost-wakeup" : "");
    } else if (r->verdict == SIM_ORACLE) {
        g_snprintf(buf, len, "oracle/%.*s", (int)MIN(n, 40), r->story);
    } else if (r->verdict == SIM_MEMORY) {
        /* sim/heap.c: "KIND-OF-ERROR of a OBJECT-KIND: ..." */
        g_snprintf(buf, len, "memory/%.*s", (int)MIN(n, 60), r->story);
    } else if (r->verdict == SIM_PANIC && r->frames[0]) {
        g_snprintf(buf, len, "panic/%s", r->frames);   /* where, by name */
    } else {
        g_strlcpy(buf, sim_verdict_name(r->verdict), len);
    }
}

typedef struct {
    const char *want;
    bool forked;            /* every run in a child (sanitizer builds) */
    CrashResult crash;      /* the last matching crash (forked only) */
    int seeds;
    Scenario best;
    GArray *choices;        /* uint32_t: the best schedule so far */
    unsigned faults;
    SimMemoryModel memory;  /* the model the failure was found under */
    uint64_t runs;
} Shrinker;

/* The signature shrinking compares: a crash signs as verdict/signature. */
static void outcome_signature(const CrashResult *o, char *buf, size_t len)
{
    if (crash_verdict_name(o->verdict)) {
        g_snprintf(buf, len, "%s/%s", o->verdict, o->signature);
    } else {
        g_strlcpy(buf, o->signature, len);
    }
}

static void child_run(const Scenario *s, const SimConfig *config, int fd)
{
    RunResult r;
    char sig[SHRINK_SIGNATURE_MAX];
    int null_fd = open("/dev/null", O_WRONLY);

    /* Hundreds of candidates crash the same way: their sanitizer reports
     * would bury the shrinker's output (the signature comes back here). */
    if (null_fd >= 0) {
        dup2(null_fd, STDERR_FILENO);
        close(null_fd);
    }
    crash_child(fd);
    runner_run(s, config, true, &r);
    if (r.verdict == SIM_OK) {
        crash_check_leaks(true);
    }
    shrink_signature(&r, sig, sizeof(sig));
    crash_send(fd, sim_verdict_name(r.verdict), sig, r.faults, r.choices,
               r.choice_count);
}

bool shrink_run_forked(const Scenario *s, const SimConfig *config,
                       CrashResult *out)
{
    int fds[2], status;
    pid_t pid;
    GString *text = g_string_new(NULL);
    char buf[4096];
    ssize_t n;
    bool ok;

    memset(out, 0, sizeof(*out));
    if (pipe(fds) != 0) {
        g_string_free(text, TRUE);
        return false;
    }
    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        close(fds[0]);
        child_run(s, config, fds[1]);
        _exit(0);
    }
    close(fds[1]);
    /* Read to the end before waiting: the choices may exceed a pipe. */
    while (pid > 0 && (n = read(fds[0], buf, sizeof(buf))) > 0) {
        g_string_append_len(text, buf, n);
    }
    close(fds[0]);
    ok = pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
         (WEXITSTATUS(status) == 0 ||
          WEXITSTATUS(status) == CRASH_CHILD_EXIT) &&
         crash_result_parse(text->str, text->len, out);
    g_string_free(text, TRUE);
    return ok;
}

/* One run, in a child when k->forked: its signature and choices. */
static bool shrink_run(Shrinker *k, const Scenario *s, const SimConfig *config,
                       char *sig, size_t len)
{
    RunResult r;
    CrashResult o;

    if (k->forked) {
        if (!shrink_run_forked(s, config, &o)) {
            return false;
        }
        outcome_signature(&o, sig, len);
        if (strcmp(o.verdict, "ok") == 0 || strcmp(sig, k->want) != 0) {
            g_free(o.choices);
            return false;
        }
        g_array_set_size(k->choices, 0);
        g_array_append_vals(k->choices, o.choices, o.choice_count);
        g_free(k->crash.choices);
        k->crash = o;
        return true;
    }
    runner_run(s, config, true, &r);
    shrink_signature(&r, sig, len);
    if (r.verdict == SIM_OK || strcmp(sig, k->want) != 0) {
        run_result_clear(&r);
        return false;
    }
    g_array_set_size(k->choices, 0);
    g_array_append_vals(k->choices, r.choices, r.choice_count);
    run_result_clear(&r);
    return true;
}

/* Does op make object (kind, obj) run once more? */
static bool op_makes_run(const ScnOp *op, ScnObjKind kind, uint8_t obj)
{
    if (op->obj != obj || scn_op_object_kind(op->kind) != kind) {
        return false;
    }
    switch (op->kind) {
    case SCN_OP_SCHEDULE:
    case SCN_OP_SCHEDULE_IDLE:
    case SCN_OP_ONESHOT:
    case SCN_OP_FD_RAISE:
    case SCN_OP_TIMER_MOD:
    case SCN_OP_TIMER_ANTICIPATE:
    case SCN_OP_SUBMIT:
        return true;
    default:
        return false;
    }
}

/*
 * A shrunk scenario must still be one a correct core finishes: each
 * `wait X N` keeps an operation that makes X run (N of them for a oneshot
 * or a job, which run once per operation).  Without this, a candidate
 * that crashes before its wait would hang is kept — the finding then
 * hangs, by the scenario's own fault, on the core that does not crash.
 */
static bool waits_satisfiable(const Scenario *s)
{
    for (uint32_t i = 0; i < s->op_count; i++) {
        const ScnOp *w = &s->ops[i];
        ScnObjKind kind = (ScnObjKind)w->obj_kind;
        int64_t need = 1, have = 0;

        if (w->kind != SCN_OP_WAIT) {
            continue;
        }
        if (kind == SCN_OBJ_ONESHOT || kind == SCN_OBJ_JOB) {
            need = MAX(w->arg, 1);
        }
        for (uint32_t j = 0; j < s->op_count && have < need; j++) {
            have += op_makes_run(&s->ops[j], kind, w->obj);
        }
        if (have < need) {
            return false;
        }
    }
    return true;
}

/* Does s fail with the wanted signature under choices (or, if try_seeds,
 * under some fresh seed)?  On success the run's choices become current. */
static bool still_fails(Shrinker *k, const Scenario *s, const uint32_t *choices,
                        size_t n, bool try_seeds)
{
    char buf[256];
    SimConfig config;
    char sig[SHRINK_SIGNATURE_MAX];

    if (runner_check(s, buf, sizeof(buf)) || scn_validate(s) ||
        !waits_satisfiable(s)) {
        return false;
    }
    sim_config_default(&config);
    config.faults = k->faults;
    config.memory = k->memory;
    config.tape = SIM_TAPE_REPLAY;
    config.replay = choices;
    config.replay_len = n;
    for (int attempt = -1; attempt < (try_seeds ? k->seeds : 0); attempt++) {
        if (attempt >= 0) {
            config.tape = SIM_TAPE_RANDOM;
            config.seed = (uint64_t)attempt + 1;
        }
        k->runs++;
        if (shrink_run(k, s, &config, sig, sizeof(sig))) {
            return true;
        }
    }
    return false;
}

/* Remove ops[first..first+count) from body b of s (others shift down). */
static void remove_ops(Scenario *s, uint32_t first, uint32_t count)
{
    ScnBody *bodies[SCN_OBJ_KIND_MAX * SCN_OBJECTS_MAX * 2 + SCN_THREADS_MAX];
    unsigned nb = 0;

    for (int k = 0; k < SCN_OBJ_KIND_MAX; k++) {
        for (unsigned i = 0; i < s->object_count[k]; i++) {
            bodies[nb++] = &s->objects[k][i].body;
            bodies[nb++] = &s->objects[k][i].alt_body;
        }
    }
    for (unsigned t = 0; t < s->thread_count; t++) {
        bodies[nb++] = &s->threads[t].body;
    }
    memmove(&s->ops[first], &s->ops[first + count],
            (s->op_count - first - count) * sizeof(ScnOp));
    s->op_count -= count;
    for (unsigned i = 0; i < nb; i++) {
        ScnBody *b = bodies[i];

        if (b->first >= first + count) {
            b->first -= count;
        } else if (b->first + b->count > first) {
            b->count -= count;      /* the removed range lies inside b */
        }
    }
}

static bool shrink_threads(Shrinker *k)
{
    bool changed = false;

    for (unsigned t = k->best.thread_count; t-- > 1;) {
        Scenario c = k->best;
        ScnBody body = c.threads[t].body;

        remove_ops(&c, body.first, body.count);
        memmove(&c.threads[t], &c.threads[t + 1],
                (c.thread_count - t - 1) * sizeof(ScnThread));
        c.thread_count--;
        if (still_fails(k, &c, (uint32_t *)(void *)k->choices->data,
                        k->choices->len, true)) {
            k->best = c;
            changed = true;
        }
    }
    return changed;
}

static bool shrink_ops(Shrinker *k)
{
    bool changed = false;

    for (uint32_t i = k->best.op_count; i-- > 0;) {
        Scenario c = k->best;

        if (i >= c.op_count) {
            continue;
        }
        remove_ops(&c, i, 1);
        if (still_fails(k, &c, (uint32_t *)(void *)k->choices->data,
                        k->choices->len, true)) {
            k->best = c;
            changed = true;
        }
    }
    return changed;
}

static void shrink_choices(Shrinker *k)
{
    for (size_t chunk = k->choices->len / 2; chunk >= 1; chunk /= 2) {
        for (size_t at = 0; at < k->choices->len; at += chunk) {
            GArray *c = g_array_copy(k->choices);
            bool nonzero = false;

            for (size_t j = at; j < at + chunk && j < c->len; j++) {
                nonzero |= g_array_index(c, uint32_t, j) != 0;
                g_array_index(c, uint32_t, j) = 0;
            }
            if (nonzero &&
                still_fails(k, &k->best, (uint32_t *)(void *)c->data, c->len,
                            false)) {
                /* still_fails stored the run's own (equivalent) choices */
            }
            g_array_free(c, TRUE);
        }
        if (chunk == 1) {
            break;
        }
    }
}

static size_t nonzero_choices(GArray *a)
{
    size_t n = 0;

    for (guint i = 0; i < a->len; i++) {
        n += g_array_index(a, uint32_t, i) != 0;
    }
    return n;
}

/* The first run: in a child when sanitizers are on, since it may crash. */
static bool shrink_first_run(Shrinker *k, const Scenario *s,
                             const SimConfig *config, RunResult *final,
                             char *want, size_t len)
{
    CrashResult o;

    k->forked = crash_supported();
    if (!k->forked || !shrink_run_forked(s, config, &o) ||
        !crash_verdict_name(o.verdict)) {
        /* Not a crash (or no child could tell): the run is safe here. */
        if (k->forked) {
            g_free(o.choices);
        }
        runner_run(s, config, true, final);
        if (final->verdict == SIM_OK) {
            return false;
        }
        shrink_signature(final, want, len);
        k->faults = final->faults;
        g_array_append_vals(k->choices, final->choices, final->choice_count);
        run_result_clear(final);
        return true;
    }
    outcome_signature(&o, want, len);
    k->faults = o.faults;
    g_array_append_vals(k->choices, o.choices, o.choice_count);
    k->crash = o;
    return true;
}

/* The record of a crashing minimum: it never finishes, so no final run. */
static void shrink_crash_record(Shrinker *k, Replay *out, RunResult *final)
{
    memset(final, 0, sizeof(*final));
    memset(out, 0, sizeof(*out));
    out->scenario = k->best;
    g_strlcpy(out->verdict, k->crash.verdict, sizeof(out->verdict));
    g_strlcpy(out->signature, k->crash.signature, sizeof(out->signature));
    g_strlcpy(out->found, "qloop shrink", sizeof(out->found));
    g_strlcpy(out->variant, cli_variant(), sizeof(out->variant));
    out->faults = k->faults;
    out->memory = k->memory;
    out->choice_count = k->choices->len;
    out->choices = g_memdup2(k->choices->data,
                             k->choices->len * sizeof(uint32_t));
}

bool shrink_failure(const Scenario *s, const SimConfig *config, int seeds,
                    FILE *progress, Replay *out, RunResult *final,
                    ShrinkStats *stats)
{
    Shrinker k = { 0 };
    SimConfig c;
    char want[SHRINK_SIGNATURE_MAX];
    bool crashed;

    memset(stats, 0, sizeof(*stats));
    k.choices = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    k.memory = config->memory;  /* weak runs shrink under their model */
    if (!shrink_first_run(&k, s, config, final, want, sizeof(want))) {
        g_array_free(k.choices, TRUE);
        return false;
    }
    k.want = want;
    k.seeds = seeds;
    k.best = *s;
    stats->ops_before = k.best.op_count;
    stats->threads_before = k.best.thread_count;
    stats->choices_before = k.choices->len;
    stats->nonzero_before = nonzero_choices(k.choices);
    g_strlcpy(stats->signature, want, sizeof(stats->signature));
    crashed = crash_verdict_name(k.crash.verdict);

    for (;;) {
        bool fewer_threads = shrink_threads(&k);
        bool fewer_ops = shrink_ops(&k);

        if (!fewer_threads && !fewer_ops) {
            break;
        }
        if (progress) {
            fprintf(progress, "  ... %u ops, %u threads, %u choices (%" PRIu64
                    " runs)\n", k.best.op_count, k.best.thread_count,
                    k.choices->len, k.runs);
        }
    }
    shrink_choices(&k);

    if (crashed) {
        shrink_crash_record(&k, out, final);
    } else {
        /* Record the final run exactly as it will replay. */
        sim_config_default(&c);
        c.tape = SIM_TAPE_REPLAY;
        c.replay = (uint32_t *)(void *)k.choices->data;
        c.replay_len = k.choices->len;
        c.faults = k.faults;
        c.memory = k.memory;
        runner_run(&k.best, &c, true, final);
        cli_replay_from_run(&k.best, final, "qloop shrink", out);
    }
    stats->ops_after = k.best.op_count;
    stats->threads_after = k.best.thread_count;
    stats->choices_after = out->choice_count;
    stats->nonzero_after = nonzero_choices(k.choices);
    stats->runs = k.runs;
    g_free(k.crash.choices);
    g_array_free(k.choices, TRUE);
    return true;
}
