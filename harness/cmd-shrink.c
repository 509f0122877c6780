/*
 * harness/cmd-shrink.c — `qloop shrink FILE -o MIN`: the smallest scenario
 * and schedule that still fail the same way.
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
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static gchar *opt_out;
static gint opt_seeds = 200;

static GOptionEntry shrink_entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &opt_out,
      "where to write the minimized replay file (required)", "MIN" },
    { "seeds", 0, 0, G_OPTION_ARG_INT, &opt_seeds,
      "fresh seeds to try when an edit breaks the old schedule (200)", "N" },
    G_OPTION_ENTRY_NULL,
};

/* What must stay the same: verdict plus its first words. */
static void signature(const RunResult *r, char *buf, size_t len)
{
    size_t n = strcspn(r->story, ":\n");

    if (r->verdict == SIM_HANG) {
        g_snprintf(buf, len, "hang%s", r->lost_wakeup ? "/lost-wakeup" : "");
    } else if (r->verdict == SIM_ORACLE) {
        g_snprintf(buf, len, "oracle/%.*s", (int)MIN(n, 40), r->story);
    } else {
        g_strlcpy(buf, sim_verdict_name(r->verdict), len);
    }
}

typedef struct {
    const char *want;
    Scenario best;
    GArray *choices;        /* uint32_t: the best schedule so far */
    unsigned faults;
    uint64_t runs;
} Shrinker;

/* Does s fail with the wanted signature under choices (or, if try_seeds,
 * under some fresh seed)?  On success the run's choices become current. */
static bool still_fails(Shrinker *k, const Scenario *s, const uint32_t *choices,
                        size_t n, bool try_seeds)
{
    char buf[256];
    SimConfig config;
    RunResult r;
    char sig[64];

    if (runner_check(s, buf, sizeof(buf)) || scn_validate(s)) {
        return false;
    }
    sim_config_default(&config);
    config.faults = k->faults;
    config.tape = SIM_TAPE_REPLAY;
    config.replay = choices;
    config.replay_len = n;
    for (int attempt = -1; attempt < (try_seeds ? opt_seeds : 0); attempt++) {
        if (attempt >= 0) {
            config.tape = SIM_TAPE_RANDOM;
            config.seed = (uint64_t)attempt + 1;
        }
        k->runs++;
        runner_run(s, &config, true, &r);
        signature(&r, sig, sizeof(sig));
        if (r.verdict != SIM_OK && strcmp(sig, k->want) == 0) {
            g_array_set_size(k->choices, 0);
            g_array_append_vals(k->choices, r.choices, r.choice_count);
            run_result_clear(&r);
            return true;
        }
        run_result_clear(&r);
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

int cmd_shrink(int argc, char **argv)
{
    GOptionContext *oc = g_option_context_new("FILE -o MIN - minimize a "
                                              "failing run");
    GError *gerr = NULL;
    Shrinker k = { 0 };
    Input in;
    SimConfig config;
    RunResult r;
    char want[64];
    Replay out;
    uint32_t ops_before, threads_before;
    size_t choices_before, nonzero_before;

    g_option_context_add_main_entries(oc, shrink_entries, NULL);
    g_option_context_set_description(oc,
        "FILE: a replay file or fuzzer crash file that fails (or a .scn\n"
        "that fails with seed 1).  Exit status: 0 minimized and written,\n"
        "1 FILE does not fail (nothing to shrink), 2 bad input or usage.\n");
    if (!g_option_context_parse(oc, &argc, &argv, &gerr)) {
        fprintf(stderr, "qloop shrink: %s\n", gerr->message);
        g_error_free(gerr);
        g_option_context_free(oc);
        return EXIT_USAGE;
    }
    g_option_context_free(oc);
    if (argc != 2 || !opt_out) {
        fprintf(stderr, "qloop shrink: expected FILE and -o MIN (see --help)\n");
        return EXIT_USAGE;
    }
    if (!cli_load(argv[1], &in, false)) {
        return EXIT_USAGE;
    }
    cli_input_config(&in, &config);
    runner_run(&in.replay.scenario, &config, true, &r);
    if (r.verdict == SIM_OK) {
        printf("%s: passes (hash %016" PRIx64 "); nothing to shrink\n",
               argv[1], r.hash);
        run_result_clear(&r);
        cli_input_clear(&in);
        return EXIT_VERDICT;
    }
    signature(&r, want, sizeof(want));
    k.want = want;
    k.best = in.replay.scenario;
    k.faults = r.faults;
    k.choices = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    g_array_append_vals(k.choices, r.choices, r.choice_count);
    ops_before = k.best.op_count;
    threads_before = k.best.thread_count;
    choices_before = k.choices->len;
    nonzero_before = nonzero_choices(k.choices);
    printf("shrinking %s: %s\n", argv[1], want);
    run_result_clear(&r);

    for (;;) {
        bool fewer_threads = shrink_threads(&k);
        bool fewer_ops = shrink_ops(&k);

        if (!fewer_threads && !fewer_ops) {
            break;
        }
        printf("  ... %u ops, %u threads, %u choices (%" PRIu64 " runs)\n",
               k.best.op_count, k.best.thread_count, k.choices->len, k.runs);
    }
    shrink_choices(&k);

    /* Record the final run exactly as it will replay. */
    sim_config_default(&config);
    config.tape = SIM_TAPE_REPLAY;
    config.replay = (uint32_t *)(void *)k.choices->data;
    config.replay_len = k.choices->len;
    config.faults = k.faults;
    runner_run(&k.best, &config, true, &r);
    cli_replay_from_run(&k.best, &r, "qloop shrink", &out);
    printf("before: %u ops, %u threads, %zu choices (%zu preempting)\n",
           ops_before, threads_before, choices_before, nonzero_before);
    printf("after:  %u ops, %u threads, %zu choices (%zu preempting), "
           "%" PRIu64 " runs\n", k.best.op_count, k.best.thread_count,
           out.choice_count, nonzero_choices(k.choices), k.runs);
    cli_print_verdict("verdict", &r);
    if (!cli_write_replay(opt_out, &out)) {
        return EXIT_USAGE;
    }
    printf("replay: %s replay %s\n", cli_program, opt_out);
    replay_clear(&out);
    run_result_clear(&r);
    g_array_free(k.choices, TRUE);
    cli_input_clear(&in);
    return EXIT_PASS;
}
