/*
 * harness/mutants-tools.c — each tool of `qloop mutants` run on one variant
 * within its budget, and the shrink of what it found.
 *
 * Method: every tool is the variant's own command, qloop-NAME, run as a
 * child process (spawn.h) so that a crash, a hang of the tool or a
 * sanitizer's exit ends only that child.  The budget is wall-clock time
 * the tool's children may use, or with --cpu-budget their CPU seconds (a
 * ToolClock below), which a loaded machine does not shrink.  The
 * scenarios are the source tree's examples and regression scenarios, in
 * sorted order:
 *   random, pct  rounds over every scenario, seeds 1.., 1 run each in the
 *                first round, then 4 times as many per round (pct: depth 3);
 *                these three and the suite run sequentially consistent
 *                memory: no tool is told which model a variant needs;
 *   explore      bounded exploration (K = 2) in rounds over every
 *                scenario: at most 200 schedules each in the first, 2000 in
 *                the second (so one large space does not take the whole
 *                budget, nor hide a scenario late in the list);
 *   weak         the same exploration under the weak memory models, every
 *                scenario under c11 (one older store read a schedule),
 *                then under tso (one delayed store) — a barrier the core
 *                needs shows only there — each followed by random walks
 *                under the same model (half the round's cap of seeds),
 *                which go deeper than the explorer's bounds.  A failure
 *                counts only if the production core passes the same
 *                exploration, or the same seeds' walks, of that scenario
 *                under that model (checked once per run of mutants): the
 *                weak models also show the core's own known findings,
 *                which are no detection of a variant;
 *   suite        every scenario once at seed 1 — the scenario suite;
 *   spin         the Promela model cases that name the variant;
 *   libfuzzer, afl  the loop target built for the variant by fuzz/build.sh
 *                (--variant NAME) — with --build-fuzz built here first if
 *                missing, outside the budget; skipped, saying so, when not
 *                built.
 * A run that fails is a detection: its runs, seconds and replay file are
 * recorded and the tool stops.
 */
#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd-fuzz.h"
#include "model-check.h"
#include "mutants.h"
#include "spawn.h"

#define MUTANTS_RUNS_GROWTH 4
#define MUTANTS_PCT_DEPTH "3"
#define MUTANTS_EXPLORE_K "2"
/* Rounds of exploration over every scenario, each capped at so many
 * schedules a scenario: a bug a few dozen schedules into a scenario late
 * in the list is reached in the first round, not after every earlier
 * scenario took its 2000 (clock-disable-nowait: schedule 49 of the 24th
 * scenario).  A scenario the first round exhausted is not run again. */
static const unsigned explore_caps[] = { 200, 2000 };
#define MUTANTS_CORE_CHECK_RUNS 2000
#define MUTANTS_SHRINK_S 60.0
#define MUTANTS_CORE_CHECK_S 60.0
#define MUTANTS_FUZZ_BUILD_S 900.0
#define MUTANTS_ARGV_MAX 24
/* With a CPU budget, the wall-clock cap of a tool's run: a child that
 * sleeps or waits for a starved core must still end. */
#define MUTANTS_CPU_WALL_FACTOR 20.0
#define MUTANTS_CPU_WALL_MIN_S 120.0
/* How far past its budget a detection still counts: one sample of the
 * CPU clock (spawn.c reads it every 50 ms) and the wait for the exit. */
#define MUTANTS_OVERRUN_S 0.25

static const char *const tool_names[TOOL_COUNT] = {
    "random", "pct", "explore", "weak", "suite", "spin", "libfuzzer", "afl",
};

const char *tool_name(ToolId t)
{
    g_assert((unsigned)t < TOOL_COUNT);
    return tool_names[t];
}

bool tool_is_search(ToolId t)
{
    return t == TOOL_RANDOM || t == TOOL_PCT || t == TOOL_EXPLORE ||
           t == TOOL_WEAK;
}

/* Variants a model case stands for besides its trail's (c_variant). */
static const struct { const char *variant, *model, *id; } spin_extra[] = {
    { "fd-free-walked", "handlers", "BUG_FREE_WHILE_WALKED" },
};

typedef struct {
    char *argv[MUTANTS_ARGV_MAX];
    int argc;
} Argv;

static void argv_add(Argv *a, const char *s)
{
    g_assert(a->argc + 1 < MUTANTS_ARGV_MAX);
    a->argv[a->argc++] = g_strdup(s);
    a->argv[a->argc] = NULL;
}

/* The same, taking s (allocated) as it is. */
static void argv_take(Argv *a, char *s)
{
    g_assert(a->argc + 1 < MUTANTS_ARGV_MAX);
    a->argv[a->argc++] = s;
    a->argv[a->argc] = NULL;
}

static void argv_clear(Argv *a)
{
    for (int i = 0; i < a->argc; i++) {
        g_free(a->argv[i]);
    }
    a->argc = 0;
}

static char *variant_bin(const MutantsCtx *c, const ZooVariant *v)
{
    char *base = g_strdup_printf("qloop-%s", v->name);
    char *path = g_build_filename(c->bin_dir, base, NULL);

    g_free(base);
    return path;
}

/*
 * What a tool has spent of its budget: wall-clock seconds since it
 * started, or (c->cpu_budget) the CPU seconds of its children so far.
 */
typedef struct {
    const MutantsCtx *c;
    double budget_s;
    double wall_start_s;
    double cpu_s;           /* CPU of the children that ended */
} ToolClock;

/* With a CPU budget, the wall-clock seconds after which a run ends all
 * the same. */
static double cpu_wall_cap_s(double budget_s)
{
    return MAX(MUTANTS_CPU_WALL_FACTOR * budget_s, MUTANTS_CPU_WALL_MIN_S);
}

static void clock_start(ToolClock *k, const MutantsCtx *c, double budget_s)
{
    k->c = c;
    k->budget_s = budget_s;
    k->wall_start_s = spawn_now_s();
    k->cpu_s = 0;
}

static double clock_used(const ToolClock *k)
{
    return k->c->cpu_budget ? k->cpu_s : spawn_now_s() - k->wall_start_s;
}

static bool clock_left(const ToolClock *k)
{
    if (k->c->cpu_budget &&
        spawn_now_s() - k->wall_start_s >= cpu_wall_cap_s(k->budget_s)) {
        return false;
    }
    return clock_used(k) < k->budget_s;
}

/* Run a child within what is left of the budget: wall-clock seconds plus
 * slack_s (time for an engine to stop on its own limit and print its
 * figures), or CPU seconds, where the limit is exact: a CPU budget is the
 * fuzzers' and the simulator's common currency.  The argument vector is
 * cleared either way. */
static bool clock_spawn(ToolClock *k, Argv *a, char *const env[],
                        const char *out, double slack_s, SpawnResult *sr)
{
    bool ok;

    if (!k->c->cpu_budget) {
        ok = spawn_run(a->argv, env, out,
                       k->wall_start_s + k->budget_s + slack_s, sr);
    } else {
        ok = spawn_run_cpu(a->argv, env, out, k->wall_start_s +
                           cpu_wall_cap_s(k->budget_s) + slack_s,
                           k->budget_s - k->cpu_s, sr);
        k->cpu_s += sr->cpu_seconds;
    }
    argv_clear(a);
    return ok;
}

/* The first "seed N random:" (or pct) line's N, or -1. */
static int64_t failing_seed(const char *out_path)
{
    gchar *text = NULL;
    int64_t seed = -1;

    if (g_file_get_contents(out_path, &text, NULL, NULL)) {
        for (char *line = text; line && *line; ) {
            char *nl = strchr(line, '\n');
            long long n;
            char kind[16];

            if (sscanf(line, "seed %lld %15[a-z]:", &n, kind) == 2) {
                seed = n;
                break;
            }
            line = nl ? nl + 1 : NULL;
        }
    }
    g_free(text);
    return seed;
}

/* A number after `key` in the file (first occurrence), or 0. */
static uint64_t number_after(const char *out_path, const char *key)
{
    gchar *text = NULL;
    uint64_t n = 0;

    if (g_file_get_contents(out_path, &text, NULL, NULL)) {
        char *at = strstr(text, key);

        if (at) {
            n = g_ascii_strtoull(at + strlen(key), NULL, 10);
        }
    }
    g_free(text);
    return n;
}

/* libFuzzer's last status line's "#N": its executions when it was killed
 * before printing its final stats; 0 if none. */
static uint64_t last_status_execs(const char *out_path)
{
    gchar *text = NULL;
    uint64_t n = 0;

    if (g_file_get_contents(out_path, &text, NULL, NULL)) {
        for (char *line = text; line && *line; ) {
            char *nl = strchr(line, '\n');

            if (line[0] == '#' && g_ascii_isdigit(line[1])) {
                n = g_ascii_strtoull(line + 1, NULL, 10);
            }
            line = nl ? nl + 1 : NULL;
        }
    }
    g_free(text);
    return n;
}

static void result_detected(ToolResult *r, uint64_t runs,
                            const ToolClock *k, const char *scenario,
                            const char *replay)
{
    r->runs = runs;
    r->seconds = clock_used(k);
    if (r->seconds > k->budget_s + MUTANTS_OVERRUN_S) {
        /* A run started in time and ended late (an engine's slack, a
         * sample of the CPU clock): the budget is the budget. */
        r->state = TOOL_MISSED;
        g_snprintf(r->note, sizeof(r->note), "found at %.1f s, past the "
                   "budget: %s", r->seconds, scenario);
        g_strlcpy(r->replay, "", sizeof(r->replay));
        return;
    }
    r->state = TOOL_DETECTED;
    g_strlcpy(r->note, scenario, sizeof(r->note));
    g_strlcpy(r->replay, replay ? replay : "", sizeof(r->replay));
}

/* random and pct: rounds of growing seed counts over every scenario. */
static void tool_seeds(const MutantsCtx *c, const ZooVariant *v, bool pct,
                       ToolResult *r)
{
    ToolClock k;
    char *bin = variant_bin(c, v);
    char *out = g_strdup_printf("%s/%s.%s.out", c->out_dir, v->name,
                                pct ? "pct" : "random");
    char *replay = g_strdup_printf("%s/%s.%s.replay", c->out_dir, v->name,
                                   pct ? "pct" : "random");
    int64_t seed = 1;

    clock_start(&k, c, c->budget_s);
    for (int64_t n = 1; clock_left(&k); n *= MUTANTS_RUNS_GROWTH) {
        for (char **s = c->scenarios; *s && clock_left(&k); s++) {
            Argv a = { 0 };
            SpawnResult sr;
            char num[32];

            argv_add(&a, bin);
            argv_add(&a, "run");
            argv_add(&a, *s);
            g_snprintf(num, sizeof(num), "%" PRId64, seed);
            argv_add(&a, "--seed");
            argv_add(&a, num);
            g_snprintf(num, sizeof(num), "%" PRId64, n);
            argv_add(&a, "--runs");
            argv_add(&a, num);
            argv_add(&a, "-o");
            argv_add(&a, replay);
            if (pct) {
                argv_add(&a, "--pct");
                argv_add(&a, MUTANTS_PCT_DEPTH);
            }
            if (!clock_spawn(&k, &a, NULL, out, 0, &sr)) {
                r->state = TOOL_ERROR;
                goto done;
            }
            if (sr.timed_out) {
                goto done;
            }
            if (sr.exit_code == 1) {
                int64_t at = failing_seed(out);

                r->runs += at >= seed ? (uint64_t)(at - seed + 1) : (uint64_t)n;
                result_detected(r, r->runs, &k, *s, replay);
                goto done;
            }
            if (sr.exit_code != 0) {
                r->state = TOOL_ERROR;
                g_snprintf(r->note, sizeof(r->note), "%s: exit %d (see %s)",
                           *s, sr.exit_code, out);
                goto done;
            }
            r->runs += (uint64_t)n;
        }
        seed += n;
    }
done:
    if (r->state == TOOL_MISSED) {
        r->seconds = clock_used(&k);
    }
    g_free(bin);
    g_free(out);
    g_free(replay);
}

/* The weak models the weak tool explores, in order: c11 first (one stale
 * read reaches both halves of the notify protocol's Dekker pair in a few
 * schedules), then tso (one delayed store). */
static const char *const weak_models[] = { "c11", "tso", NULL };
static const char *const sc_only[] = { NULL, NULL };

static void explore_argv(Argv *a, const char *bin, const char *scenario,
                         const char *replay, const char *memory,
                         unsigned max_runs)
{
    char num[16];

    argv_add(a, bin);
    argv_add(a, "explore");
    argv_add(a, scenario);
    argv_add(a, "-o");
    argv_add(a, replay);
    argv_add(a, "--preemptions");
    argv_add(a, MUTANTS_EXPLORE_K);
    argv_add(a, "--max-runs");
    g_snprintf(num, sizeof(num), "%u", max_runs);
    argv_add(a, num);
    if (memory) {
        argv_add(a, "--memory");
        argv_add(a, memory);
    }
}

/* weak's random walks of a scenario in a round: half the round's cap of
 * seeds, continuing from the last round's (a walk is not bounded by
 * preemptions or stale reads: the c11 R shape of qemu-notify-accept is
 * three preemptions and two stale reads deep, past the explorer's bounds,
 * and a few hundred walks reach it). */
static void walk_argv(Argv *a, const char *bin, const char *scenario,
                      const char *replay, const char *memory, uint64_t seed,
                      unsigned runs)
{
    char num[32];

    argv_add(a, bin);
    argv_add(a, "run");
    argv_add(a, scenario);
    argv_add(a, "-o");
    argv_add(a, replay);
    argv_add(a, "--memory");
    argv_add(a, memory);
    g_snprintf(num, sizeof(num), "%" PRIu64, seed);
    argv_add(a, "--seed");
    argv_add(a, num);
    g_snprintf(num, sizeof(num), "%u", runs);
    argv_add(a, "--runs");
    argv_add(a, num);
}

/* What one run of a scenario under a tool's step told. */
typedef enum {
    STEP_PASSED,
    STEP_EXHAUSTED,     /* passed, and its bounded space is covered */
    STEP_CORE_FAILS,    /* failed, as the production core does */
    STEP_DETECTED,
    STEP_STOP,          /* out of budget, or an error (r says which) */
} StepOutcome;

typedef enum { STEP_EXPLORE, STEP_WALK, STEP_ONCE } StepKind;

/*
 * Does the production core pass the weak tool's step on scenario under
 * memory — the same exploration (to MUTANTS_CORE_CHECK_RUNS schedules),
 * or the same seeds' walks?  Asked only when a variant failed it,
 * answered once per run of mutants: a scenario the core itself fails
 * under a weak model tells nothing about a variant.  Unknown (the core's
 * run was cut short) counts as failing.
 */
static bool core_passes(const MutantsCtx *c, StepKind kind,
                        const char *scenario, const char *memory,
                        uint64_t seed, unsigned runs)
{
    static GHashTable *known;
    char *key = kind == STEP_WALK
                ? g_strdup_printf("walk %" PRIu64 "+%u %s %s", seed, runs,
                                  memory, scenario)
                : g_strdup_printf("explore %s %s", memory, scenario);
    gpointer hit;
    bool pass;

    if (!known) {
        known = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    }
    if (g_hash_table_lookup_extended(known, key, NULL, &hit)) {
        g_free(key);
        return GPOINTER_TO_INT(hit);
    }
    {
        char *bin = g_build_filename(c->bin_dir, "qloop", NULL);
        char *out = g_strdup_printf("%s/core.%s.out", c->out_dir, memory);
        char *replay = g_strdup_printf("%s/core.%s.replay", c->out_dir,
                                       memory);
        Argv a = { 0 };
        SpawnResult sr;

        if (kind == STEP_WALK) {
            walk_argv(&a, bin, scenario, replay, memory, seed, runs);
        } else {
            explore_argv(&a, bin, scenario, replay, memory,
                         MUTANTS_CORE_CHECK_RUNS);
        }
        pass = spawn_run(a.argv, NULL, out,
                         spawn_now_s() + MUTANTS_CORE_CHECK_S, &sr) &&
               !sr.timed_out && sr.exit_code == 0;
        argv_clear(&a);
        unlink(replay);
        g_free(bin);
        g_free(out);
        g_free(replay);
    }
    g_hash_table_insert(known, key, GINT_TO_POINTER(pass));
    return pass;
}

static StepOutcome scenario_step(const MutantsCtx *c, ToolClock *k,
                                 const char *bin, StepKind kind,
                                 const char *scn, const char *m,
                                 unsigned cap, uint64_t seed,
                                 const char *out, const char *replay,
                                 ToolResult *r)
{
    Argv a = { 0 };
    SpawnResult sr;
    uint64_t ran;

    switch (kind) {
    case STEP_EXPLORE:
        explore_argv(&a, bin, scn, replay, m, cap);
        break;
    case STEP_WALK:
        walk_argv(&a, bin, scn, replay, m, seed, cap);
        break;
    case STEP_ONCE:
        argv_add(&a, bin);
        argv_add(&a, "run");
        argv_add(&a, scn);
        argv_add(&a, "-o");
        argv_add(&a, replay);
        break;
    }
    if (!clock_spawn(k, &a, NULL, out, 0, &sr)) {
        r->state = TOOL_ERROR;
        return STEP_STOP;
    }
    if (sr.timed_out) {
        return STEP_STOP;
    }
    ran = kind == STEP_EXPLORE ? number_after(out, "explored (mixed) ")
          : kind == STEP_WALK  ? cap
                               : 1;
    if (sr.exit_code == 1 && m &&
        !core_passes(c, kind, scn, m, seed, cap)) {
        r->runs += ran;
        return STEP_CORE_FAILS;
    }
    if (sr.exit_code == 1) {
        int64_t at = kind == STEP_EXPLORE ? (int64_t)number_after(out,
                                                                ", schedule ")
                     : kind == STEP_WALK  ? failing_seed(out) - (int64_t)seed
                                            + 1
                                          : 1;
        char *what = m ? g_strdup_printf("%s --memory %s%s", scn, m,
                                         kind == STEP_WALK ? " (walks)" : "")
                       : g_strdup(scn);

        r->runs += at > 0 ? (uint64_t)at : 1;
        result_detected(r, r->runs, k, what, replay);
        g_free(what);
        return STEP_DETECTED;
    }
    if (sr.exit_code != 0) {
        r->state = TOOL_ERROR;
        g_snprintf(r->note, sizeof(r->note), "%s: exit %d (see %s)", scn,
                   sr.exit_code, out);
        return STEP_STOP;
    }
    r->runs += ran;
    return kind == STEP_WALK || (kind == STEP_EXPLORE && ran >= cap)
           ? STEP_PASSED : STEP_EXHAUSTED;
}

/* explore and weak: rounds over every scenario's bounded space (weak:
 * under each weak model, with random walks beside), the cap growing by
 * round (explore_caps); suite: each scenario once. */
static void tool_scenarios(const MutantsCtx *c, const ZooVariant *v,
                           ToolId t, ToolResult *r)
{
    ToolClock k;
    char *bin = variant_bin(c, v);
    const char *tool = tool_name(t);
    bool explore = t != TOOL_SUITE, weak = t == TOOL_WEAK;
    const char *const *models = weak ? weak_models : sc_only;
    unsigned n_models = weak ? g_strv_length((char **)models) : 1;
    unsigned n_scn = g_strv_length(c->scenarios);
    unsigned rounds = explore ? G_N_ELEMENTS(explore_caps) : 1;
    /* A scenario (under a model) whose space a round exhausted: not
     * explored again; one the production core fails: not run again. */
    bool *exhausted = g_new0(bool, n_models * n_scn);
    bool *core_failed = g_new0(bool, n_models * n_scn);
    char *out = g_strdup_printf("%s/%s.%s.out", c->out_dir, v->name, tool);
    char *replay = g_strdup_printf("%s/%s.%s.replay", c->out_dir, v->name,
                                   tool);
    unsigned core_fails = 0;
    uint64_t walk_seed = 1;

    clock_start(&k, c, c->budget_s);
    for (unsigned round = 0; round < rounds; round++) {
        unsigned cap = explore_caps[round];

        for (unsigned mi = 0; mi < n_models; mi++) {
            for (unsigned si = 0; si < n_scn; si++) {
                unsigned at = mi * n_scn + si;
                StepKind kinds[2] = { explore ? STEP_EXPLORE : STEP_ONCE,
                                      STEP_WALK };

                for (unsigned ki = 0; ki < (weak ? 2u : 1u); ki++) {
                    StepOutcome o;

                    if (core_failed[at] ||
                        (kinds[ki] != STEP_WALK && exhausted[at])) {
                        continue;
                    }
                    if (!clock_left(&k)) {
                        goto end;
                    }
                    o = scenario_step(c, &k, bin, kinds[ki],
                                      c->scenarios[si], models[mi],
                                      kinds[ki] == STEP_WALK ? cap / 2 : cap,
                                      walk_seed, out, replay, r);
                    if (o == STEP_DETECTED || o == STEP_STOP) {
                        goto end;
                    }
                    if (o == STEP_CORE_FAILS) {
                        core_failed[at] = true;
                        core_fails++;
                    }
                    exhausted[at] |= o == STEP_EXHAUSTED || !explore;
                }
            }
        }
        walk_seed += cap / 2;
    }
end:
    if (r->state == TOOL_MISSED) {
        r->seconds = clock_used(&k);
        if (core_fails) {
            g_snprintf(r->note, sizeof(r->note), "%u scenario failures the "
                       "production core shares, not counted", core_fails);
        }
    }
    g_free(exhausted);
    g_free(core_failed);
    g_free(bin);
    g_free(out);
    g_free(replay);
}

static bool spin_case_for(const ZooVariant *v, const ModelCase *mc)
{
    if (!strcmp(mc->expect, MODEL_PASS)) {
        return false;
    }
    if (mc->c_variant && !strcmp(mc->c_variant, v->name)) {
        return true;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(spin_extra); i++) {
        if (!strcmp(spin_extra[i].variant, v->name) &&
            !strcmp(spin_extra[i].model, mc->model) &&
            !strcmp(spin_extra[i].id, mc->id)) {
            return true;
        }
    }
    return false;
}

/* spin: a model case that stands for the variant finds its BUG verdict. */
static void tool_spin(const MutantsCtx *c, const ZooVariant *v, ToolResult *r)
{
    ToolClock k;
    unsigned n;
    const ModelCase *cases = model_cases(&n);
    char *out = g_strdup_printf("%s/%s.spin.out", c->out_dir, v->name);
    bool any = false;

    clock_start(&k, c, c->budget_s);
    for (unsigned i = 0; i < n && r->state == TOOL_MISSED; i++) {
        char *self, *which;
        Argv a = { 0 };
        SpawnResult sr;

        if (!spin_case_for(v, &cases[i])) {
            continue;
        }
        any = true;
        self = g_file_read_link("/proc/self/exe", NULL);
        which = g_strdup_printf("%s/%s", cases[i].model, cases[i].id);
        argv_add(&a, self ? self : "/proc/self/exe");
        argv_add(&a, "model");
        argv_add(&a, "check");
        argv_add(&a, which);
        if (clock_left(&k) && clock_spawn(&k, &a, NULL, out, 0, &sr)) {
            if (sr.exit_code == 0 && !sr.timed_out) {
                /* The case's expected BUG verdict was reproduced. */
                result_detected(r, 0, &k, which, NULL);
            } else if (sr.exit_code == 77) {
                r->state = TOOL_SKIPPED;
                g_strlcpy(r->note, "spin or a C compiler missing",
                          sizeof(r->note));
            }
        }
        argv_clear(&a);
        g_free(self);
        g_free(which);
    }
    if (!any) {
        r->state = TOOL_NOT_RUN;
        g_strlcpy(r->note, "no model covers it", sizeof(r->note));
    }
    if (r->state != TOOL_DETECTED) {
        r->seconds = clock_used(&k);
    }
    g_free(out);
}

/* libFuzzer and AFL++ on the variant's loop target, if it was built. */
static void tool_fuzz(const MutantsCtx *c, const ZooVariant *v, bool afl,
                      ToolResult *r)
{
    ToolClock k;
    char *dir = g_strdup_printf("%s/build/fuzz/%s-%s", c->src,
                                afl ? "afl" : "libfuzzer", v->name);
    char *target = g_build_filename(dir, "loop-fuzz", NULL);
    char *seeds = g_build_filename(c->src, "corpus", "loop", NULL);
    char *work = g_strdup_printf("%s/%s.%s", c->out_dir, v->name,
                                 afl ? "afl" : "libfuzzer");
    char *out = g_strdup_printf("%s.out", work);
    char *afl_fuzz = afl ? g_find_program_in_path("afl-fuzz") : NULL;
    char budget[32];
    Argv a = { 0 };
    SpawnResult sr;
    FuzzOptions opts;
    char *dict = NULL, *execs_path = NULL, *execs_env = NULL;
    uint64_t *execs = NULL;

    if (!g_file_test(target, G_FILE_TEST_IS_EXECUTABLE) && c->build_fuzz &&
        (!afl || afl_fuzz)) {
        /* The build is set-up, not search: it does not count in the budget. */
        char *script = g_build_filename(c->src, "fuzz", "build.sh", NULL);
        char *log = g_strdup_printf("%s.build.out", work);
        char *bash = g_find_program_in_path("bash");
        char *argv[] = { bash ? bash : "/bin/bash", script,
                         afl ? "afl" : "libfuzzer", "-j2", "--variant",
                         (char *)v->name, NULL };

        spawn_run(argv, NULL, log, spawn_now_s() + MUTANTS_FUZZ_BUILD_S, &sr);
        g_free(bash);
        g_free(script);
        g_free(log);
    }
    if (!g_file_test(target, G_FILE_TEST_IS_EXECUTABLE) || (afl && !afl_fuzz)) {
        r->state = TOOL_SKIPPED;
        g_snprintf(r->note, sizeof(r->note), "%s: fuzz/build.sh %s --variant %s",
                   afl && !afl_fuzz ? "no afl-fuzz" : "not built",
                   afl ? "afl" : "libfuzzer", v->name);
        goto out;
    }
    g_mkdir_with_parents(work, 0755);
    /* The engines run as `qloop fuzz` runs them: the target's options
     * (fuzz/loop.options: input size, per-input timeout) and dictionary. */
    if (!fuzz_options_load(c->src, "loop", &opts)) {
        opts.max_len = 4096;
        opts.timeout_s = 30;
    }
    dict = g_build_filename(dir, "loop.dict", NULL);
    if (!g_file_test(dict, G_FILE_TEST_EXISTS)) {
        g_clear_pointer(&dict, g_free);
    }
    /* The target counts its executions here (fuzz/exec-count.h): live,
     * where the engines' own counts are written only now and then. */
    execs_path = g_strdup_printf("%s.execs", work);
    execs = fuzz_exec_counter_create(execs_path);
    execs_env = g_strdup_printf("%s=%s", FUZZ_EXECS_ENV, execs_path);
    /* With a CPU budget the engine's own (wall-clock) limit is only a
     * backstop: the CPU limit of clock_spawn() ends the run. */
    g_snprintf(budget, sizeof(budget), "%.0f",
               c->cpu_budget ? cpu_wall_cap_s(c->budget_s) : c->budget_s);
    clock_start(&k, c, c->budget_s);
    if (afl) {
        /* AFL_NO_AFFINITY: on a shared machine every core may be busy,
         * and afl-fuzz would refuse to start rather than share one. */
        char *env[] = { "AFL_NO_UI=1", "AFL_BENCH_UNTIL_CRASH=1",
                        "AFL_SKIP_CPUFREQ=1", "AFL_NO_AFFINITY=1",
                        "AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1", execs_env,
                        NULL };
        char *crashes = g_build_filename(work, "default", "crashes", NULL);
        char *instance = g_build_filename(work, "default", NULL);
        GPtrArray *seed_hits = g_ptr_array_new_with_free_func(g_free);
        GDir *d;
        const char *name;

        argv_add(&a, afl_fuzz);
        argv_add(&a, "-i");
        argv_add(&a, seeds);
        argv_add(&a, "-o");
        argv_add(&a, work);
        argv_add(&a, "-V");
        argv_add(&a, budget);
        argv_add(&a, "-t");
        argv_take(&a, g_strdup_printf("%d+", opts.timeout_s * 1000));
        argv_add(&a, "-G");
        argv_take(&a, g_strdup_printf("%d", opts.max_len));
        if (dict) {
            argv_add(&a, "-x");
            argv_add(&a, dict);
        }
        argv_add(&a, "--");
        argv_add(&a, target);
        clock_spawn(&k, &a, env, out, 10, &sr);
        /* The target's count; the stats file's if the target predates it. */
        r->runs = fuzz_exec_counter_read(execs);
        if (!r->runs) {
            EngineFigures fig = { 0 };

            fuzz_figures_afl(work, &fig);
            r->runs = fig.execs;
        }
        d = g_dir_open(crashes, 0, NULL);
        while (d && (name = g_dir_read_name(d))) {
            if (g_str_has_prefix(name, "id:")) {
                char *hit = g_build_filename(crashes, name, NULL);

                result_detected(r, r->runs, &k, "loop target", hit);
                g_free(hit);
                break;
            }
        }
        if (d) {
            g_dir_close(d);
        }
        /* A seed that crashes the variant is skipped by the dry run,
         * with a line in the log and no crashes/ file: a detection all
         * the same, in the dry run's executions. */
        if (r->state != TOOL_DETECTED &&
            fuzz_afl_seed_findings(out, instance, seed_hits)) {
            result_detected(r, r->runs, &k, "loop target (a seed)",
                            g_ptr_array_index(seed_hits, 0));
        }
        g_ptr_array_free(seed_hits, true);
        g_free(instance);
        g_free(crashes);
    } else {
        char *env[] = { execs_env, NULL };
        char *prefix = g_strdup_printf("-artifact_prefix=%s/", work);
        char *corpus = g_build_filename(work, "corpus", NULL);

        g_mkdir_with_parents(corpus, 0755);
        argv_add(&a, target);
        argv_take(&a, g_strdup_printf("-max_total_time=%s", budget));
        argv_take(&a, g_strdup_printf("-timeout=%d", opts.timeout_s));
        argv_take(&a, g_strdup_printf("-max_len=%d", opts.max_len));
        if (dict) {
            argv_take(&a, g_strdup_printf("-dict=%s", dict));
        }
        argv_add(&a, prefix);
        argv_add(&a, "-print_final_stats=1");
        argv_add(&a, corpus);       /* new inputs go here, not to corpus/ */
        argv_add(&a, seeds);
        clock_spawn(&k, &a, env, out, 10, &sr);
        r->runs = fuzz_exec_counter_read(execs);
        if (!r->runs) {
            r->runs = number_after(out, "stat::number_of_executed_units: ");
        }
        if (!r->runs) {
            r->runs = last_status_execs(out);   /* killed at the limit */
        }
        if (!sr.timed_out && sr.exit_code != 0) {
            result_detected(r, r->runs, &k, "loop target", NULL);
        }
        g_free(prefix);
        g_free(corpus);
    }
    if (r->state != TOOL_DETECTED) {
        r->seconds = clock_used(&k);
    }
out:
    if (execs) {
        fuzz_exec_counter_close(execs);
    }
    g_free(execs_env);
    g_free(execs_path);
    g_free(dict);
    g_free(dir);
    g_free(target);
    g_free(seeds);
    g_free(work);
    g_free(out);
    g_free(afl_fuzz);
}

void tool_run(const MutantsCtx *c, const ZooVariant *v, ToolId t,
              ToolResult *r)
{
    memset(r, 0, sizeof(*r));
    r->state = TOOL_MISSED;
    switch (t) {
    case TOOL_RANDOM:
    case TOOL_PCT:
        tool_seeds(c, v, t == TOOL_PCT, r);
        break;
    case TOOL_EXPLORE:
    case TOOL_WEAK:
    case TOOL_SUITE:
        tool_scenarios(c, v, t, r);
        break;
    case TOOL_SPIN:
        tool_spin(c, v, r);
        break;
    case TOOL_LIBFUZZER:
    case TOOL_AFL:
        tool_fuzz(c, v, t == TOOL_AFL, r);
        break;
    case TOOL_COUNT:
        g_assert_not_reached();
    }
}

void mutants_shrink(const MutantsCtx *c, const ZooVariant *v,
                    const char *replay, char *size, unsigned size_len)
{
    char *bin = variant_bin(c, v);
    char *min = g_strdup_printf("%s.min", replay);
    char *out = g_strdup_printf("%s/%s.shrink.out", c->out_dir, v->name);
    ToolClock k;
    Argv a = { 0 };
    SpawnResult sr;
    uint64_t ops, choices;

    g_strlcpy(size, "-", size_len);
    argv_add(&a, bin);
    argv_add(&a, "shrink");
    argv_add(&a, replay);
    argv_add(&a, "-o");
    argv_add(&a, min);
    /* With a CPU budget the shrink gets CPU seconds too: on a loaded
     * machine a wall-clock minute was often not enough. */
    clock_start(&k, c, MUTANTS_SHRINK_S);
    if (!clock_spawn(&k, &a, NULL, out, 0, &sr) || sr.timed_out ||
        sr.exit_code != 0) {
        g_strlcpy(size, sr.timed_out ? "(timeout)" : "(failed)", size_len);
    } else {
        ops = number_after(out, "after:  ");
        choices = number_after(out, " threads, ");
        g_snprintf(size, size_len, "%" PRIu64 " ops/%" PRIu64 " ch", ops,
                   choices);
    }
    g_free(bin);
    g_free(min);
    g_free(out);
}
