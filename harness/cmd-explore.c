/*
 * harness/cmd-explore.c — `qloop explore FILE.scn`: bounded systematic
 * search of schedules, reaching the front of long scenarios.
 *
 * Method: the simulator's enumerator (sim_dfs_*) proposes each run's
 * prefix of choices; choices past it are 0 (no preemption), so each run
 * of a walk is a schedule that walk has not run (iterative bounding reruns
 * a lower bound's schedules, and two random prefixes may meet).  Four
 * orders (sim/sim.h, SimDfsPlan):
 *   mixed      (default) iterative and prefix alternately, one schedule
 *              each; exhausted when iterative is.  Measured in
 *              docs/qloop.md: at or near the best of the two on every
 *              regression scenario, where each alone loses on some;
 *   iterative  every schedule with 0, then 1, ... K preemptions:
 *              the first schedules differ at their first preemption
 *              points, and the space can be exhausted;
 *   prefix     rounds of a random prefix, then the tail enumerated within
 *              K preemptions for --tail-runs schedules (never exhausted);
 *   dfs        every schedule with at most K preemptions, deepest choice
 *              first (the old order: on a long scenario it varies only
 *              the tail of one schedule).
 * Under a weak memory model (--memory), the weak choices — a store's
 * delay in a buffer, the older store a load reads — have a bound of their
 * own (--delays D, default 1; sim_choose_weak in sim/tape.c); the
 * iterative walk raises both bounds together.
 * Outcomes are told apart by what ran, in order (the model's outcome
 * hash; a failing run by its trace hash); the distinct-outcome rate is
 * distinct outcomes per schedule.  The first failing schedule is written
 * as a replay file; with --keep-going the search continues and counts them.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "crash.h"

static gint opt_preemptions = 2;
static gint64 opt_max_runs = 1000000;
static gchar *opt_out;
static gboolean opt_keep_going;
static gchar *opt_order;
static gint64 opt_seed = 1;
static gchar *opt_shard;
static gchar *opt_memory;
static gint64 opt_tail_runs = 8;
static gchar *opt_delays;
/* Weak memory choices a schedule may make when --delays is not given. */
#define EXPLORE_DELAYS_DEFAULT 1

/* Progress goes to stderr every this many schedules. */
#define EXPLORE_PROGRESS_EVERY 10000

static GOptionEntry explore_entries[] = {
    { "memory", 0, 0, G_OPTION_ARG_STRING, &opt_memory,
      "Memory model of the core's atomics: sc (default), tso, pso, c11", "MODE" },
    { "preemptions", 'k', 0, G_OPTION_ARG_INT, &opt_preemptions,
      "at most K preemptions per schedule, past a random prefix "
      "(default 2)", "K" },
    { "delays", 0, 0, G_OPTION_ARG_STRING, &opt_delays,
      "weak memory: at most D weak choices (delayed stores, older stores "
      "read) per schedule, apart from the preemptions (default 1); "
      "'shared': each costs one preemption", "D" },
    { "order", 0, 0, G_OPTION_ARG_STRING, &opt_order,
      "mixed (default), iterative, prefix or dfs: see below", "ORDER" },
    { "seed", 's', 0, G_OPTION_ARG_INT64, &opt_seed,
      "mixed, prefix: the seed of the random prefixes (default 1)", "N" },
    { "tail-runs", 0, 0, G_OPTION_ARG_INT64, &opt_tail_runs,
      "mixed, prefix: schedules enumerated past each prefix "
      "(default 8)", "N" },
    { "max-runs", 0, 0, G_OPTION_ARG_INT64, &opt_max_runs,
      "stop after this many schedules (default 1000000)", "N" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &opt_out,
      "replay file for the first failing schedule (default "
      "FILE.explore.replay)", "REPLAY" },
    { "keep-going", 0, 0, G_OPTION_ARG_NONE, &opt_keep_going,
      "count every failing schedule instead of stopping at the first", NULL },
    { "shard", 0, 0, G_OPTION_ARG_STRING, &opt_shard,
      "prefix order only: shard I of N draws its prefixes from seed "
      "S + (I-1) * 2^32, a stream no other shard repeats", "I/N" },
    G_OPTION_ENTRY_NULL,
};

typedef struct Explore {
    SimDfsPlan plan;
    const char *order;
    uint64_t runs, failures;
    GHashTable *outcomes;       /* int64 outcome -> NULL */
    char *replay_path;          /* -o, or FILE.explore.replay */
    bool weak;                  /* a weak memory model: weak choices drawn */
} Explore;

/* Schedules, distinct outcomes, their rate, the bound reached. */
static void explore_figures(const Explore *ex, char *buf, size_t size)
{
    unsigned distinct = g_hash_table_size(ex->outcomes);
    double rate = ex->runs ? (double)distinct / (double)ex->runs : 0.0;
    int n = g_snprintf(buf, size, "%" PRIu64 " schedules, %u distinct "
                       "outcomes (rate %.4f), preemption bound %u of %u",
                       ex->runs, distinct, rate, sim_dfs_bound(),
                       ex->plan.bound_max);

    if (ex->weak && ex->plan.delays == SIM_DELAYS_SEPARATE && n > 0 &&
        (size_t)n < size) {
        n += g_snprintf(buf + n, size - (size_t)n, ", delay bound %u of %u",
                        sim_dfs_delay_bound(), ex->plan.delay_bound_max);
    }

    if ((ex->plan.mode == SIM_DFS_RANDOM_PREFIX ||
         ex->plan.mode == SIM_DFS_MIXED) && n > 0 && (size_t)n < size) {
        g_snprintf(buf + n, size - (size_t)n, ", %" PRIu64 " prefixes",
                   sim_dfs_rounds());
    }
}

static bool explore_parse_order(Explore *ex)
{
    static const struct { const char *name; SimDfsMode mode; } orders[] = {
        { "prefix", SIM_DFS_RANDOM_PREFIX }, { "iterative", SIM_DFS_ITERATIVE },
        { "dfs", SIM_DFS_PLAIN }, { "mixed", SIM_DFS_MIXED },
    };

    ex->order = opt_order ? opt_order : "mixed";
    for (size_t i = 0; i < G_N_ELEMENTS(orders); i++) {
        if (strcmp(ex->order, orders[i].name) == 0) {
            ex->plan.mode = orders[i].mode;
            return true;
        }
    }
    return false;
}

/* --delays D (apart from the preemptions) or "shared" (with them). */
static bool explore_parse_delays(SimDfsPlan *plan)
{
    guint64 d;

    plan->delays = SIM_DELAYS_SEPARATE;
    plan->delay_bound_max = EXPLORE_DELAYS_DEFAULT;
    if (!opt_delays) {
        return true;
    }
    if (strcmp(opt_delays, "shared") == 0) {
        plan->delays = SIM_DELAYS_SHARED;
        plan->delay_bound_max = 0;
        return true;
    }
    if (!g_ascii_string_to_unsigned(opt_delays, 10, 0, 1000, &d, NULL)) {
        return false;
    }
    plan->delay_bound_max = (unsigned)d;
    return true;
}

/* The replay file's "found" line: the command and the schedule. */
static void explore_found(const Explore *ex, char *buf, size_t size)
{
    char delays[16];

    if (ex->plan.delays == SIM_DELAYS_SHARED) {
        g_strlcpy(delays, "shared", sizeof(delays));
    } else {
        g_snprintf(delays, sizeof(delays), "%u", ex->plan.delay_bound_max);
    }
    g_snprintf(buf, size, "qloop explore --order %s --preemptions %d "
               "--delays %s --seed %" PRId64 " --tail-runs %" PRId64
               ", schedule %" PRIu64, ex->order, opt_preemptions, delays,
               (int64_t)ex->plan.seed, opt_tail_runs, ex->runs);
}

/* The first failing schedule: its verdict, and a replay file. */
static void explore_report_failure(const Explore *ex, const Input *in,
                                   const RunResult *r)
{
    char found[160];
    Replay rep;

    explore_found(ex, found, sizeof(found));
    cli_print_verdict(found, r);
    cli_replay_from_run(&in->replay.scenario, r, found, &rep);
    if (cli_write_replay(ex->replay_path, &rep)) {
        printf("replay: %s replay %s\n", cli_program, ex->replay_path);
    }
    replay_clear(&rep);
}

/* One schedule; a sanitizer report ends the search with it (crash.h). */
static void explore_run(const Explore *ex, const Input *in, SimConfig *run,
                        RunResult *r)
{
    char found[160];
    CrashRun cr = { .scenario = &in->replay.scenario, .found = found,
                    .replay_path = ex->replay_path, .program = cli_program };

    /* The story of a run a sanitizer report ends (see cmd-run.c). */
    run->trace = crash_supported();
    cr.print_story = run->trace;
    explore_found(ex, found, sizeof(found));
    crash_run_begin(&cr);
    runner_run(&in->replay.scenario, run, true, r);
    crash_run_end();
}

/*
 * Run the plan's schedules until it ends, --max-runs, or (without
 * --keep-going) the first failure.  Returns true if the plan ended.
 */
static bool explore_search(Explore *ex, const Input *in)
{
    char figures[200];
    SimConfig run;

    for (;;) {
        RunResult r;
        int64_t *key;
        bool stop;

        if ((int64_t)ex->runs >= opt_max_runs) {
            return false;
        }
        if (!sim_dfs_next_run(&run)) {
            return true;
        }
        ex->runs++;
        explore_run(ex, in, &run, &r);
        key = g_new(int64_t, 1);
        *key = (int64_t)(r.verdict == SIM_OK ? r.outcome : r.hash);
        g_hash_table_add(ex->outcomes, key);
        if (ex->runs % EXPLORE_PROGRESS_EVERY == 0) {
            explore_figures(ex, figures, sizeof(figures));
            fprintf(stderr, "qloop explore: %s, %" PRIu64 " failing\n",
                    figures, ex->failures);
        }
        stop = false;
        if (r.verdict != SIM_OK) {
            if (++ex->failures == 1) {
                explore_report_failure(ex, in, &r);
            }
            stop = !opt_keep_going;
        }
        run_result_clear(&r);
        if (stop) {
            return false;
        }
    }
}

static int explore_usage_error(const char *what)
{
    fprintf(stderr, "qloop explore: %s (see --help)\n", what);
    return EXIT_USAGE;
}

int cmd_explore(int argc, char **argv)
{
    GOptionContext *oc = g_option_context_new("FILE.scn - systematic "
                                              "search of schedules");
    GError *gerr = NULL;
    Explore ex = { 0 };
    Input in;
    SimConfig config;
    bool complete;
    int status;
    char figures[200];

    g_option_context_add_main_entries(oc, explore_entries, NULL);
    g_option_context_set_description(oc,
        "Orders: 'mixed' (the default) alternates 'iterative' and 'prefix',\n"
        "one schedule each, and ends when 'iterative' does.  'iterative'\n"
        "enumerates every schedule with 0 preemptions, then 1, ... K (a\n"
        "schedule with fewer is run again at each higher bound).  'prefix'\n"
        "runs rounds of a random prefix (its length and choices drawn from\n"
        "--seed and the round) followed by --tail-runs schedules enumerated\n"
        "depth first past it, within K preemptions; it reaches every part\n"
        "of a long scenario and never ends by itself.  'dfs' enumerates every schedule with at most K preemptions, the\n"
        "deepest choice first.\n"
        "\n"
        "Exit status: 0 no failing schedule was found (the summary says\n"
        "whether the bounded space was exhausted), 1 a failing schedule\n"
        "was found, 2 bad input or usage.\n");
    if (!g_option_context_parse(oc, &argc, &argv, &gerr)) {
        fprintf(stderr, "qloop explore: %s\n", gerr->message);
        g_error_free(gerr);
        g_option_context_free(oc);
        return EXIT_USAGE;
    }
    g_option_context_free(oc);
    if (argc != 2 || opt_preemptions < 0 || opt_max_runs < 1 ||
        opt_seed < 0 || opt_tail_runs < 1) {
        return explore_usage_error("expected FILE.scn, --preemptions >= 0, "
                                   "--max-runs >= 1, --seed >= 0, "
                                   "--tail-runs >= 1");
    }
    if (!explore_parse_order(&ex)) {
        return explore_usage_error("--order is mixed, iterative, prefix or dfs");
    }
    if (!explore_parse_delays(&ex.plan)) {
        return explore_usage_error("--delays is a count >= 0 or 'shared'");
    }
    if (!cli_load(argv[1], &in, true)) {
        return EXIT_USAGE;
    }
    cli_input_config(&in, &config);
    if (!cli_apply_memory("explore", opt_memory, &config)) {
        cli_input_clear(&in);
        return EXIT_USAGE;
    }
    config.preemption_bound = (unsigned)opt_preemptions;
    ex.weak = config.memory != SIM_MEMORY_SC;
    ex.plan.bound_max = (unsigned)opt_preemptions;
    ex.plan.seed = (uint64_t)opt_seed;
    if (opt_shard) {
        unsigned shard_i, shard_n;

        /*
         * Only random prefixes split: the enumerating orders must run
         * every schedule to find the next, so a shard would repeat them.
         * Each shard's stream starts 2^32 seeds after the previous one's.
         */
        if (strcmp(ex.order, "prefix") != 0 ||
            !cli_parse_shard(opt_shard, &shard_i, &shard_n)) {
            cli_input_clear(&in);
            return explore_usage_error("--shard I/N (1 <= I <= N) needs "
                                       "--order prefix");
        }
        ex.plan.seed += (uint64_t)(shard_i - 1) << 32;
    }
    ex.plan.tail_runs = (uint64_t)opt_tail_runs;
    ex.outcomes = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
                                        NULL);
    sim_dfs_begin_plan(&config, &ex.plan);
    ex.replay_path = opt_out ? g_strdup(opt_out)
                             : g_strdup_printf("%s.explore.replay", argv[1]);
    complete = explore_search(&ex, &in);
    explore_figures(&ex, figures, sizeof(figures));
    status = ex.failures ? EXIT_VERDICT : EXIT_PASS;
    printf("explored (%s) %s; %" PRIu64 " failing; %s\n", ex.order, figures,
           ex.failures, complete ? "the bounded space is exhausted"
                                 : "stopped before the end of the space");
    g_hash_table_destroy(ex.outcomes);
    g_free(ex.replay_path);
    cli_input_clear(&in);
    return status;
}
