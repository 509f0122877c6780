/*
 * harness/cmd-explore.c — `qloop explore FILE.scn --preemptions K`:
 * every schedule with at most K preemptions, depth first.
 *
 * Method: the simulator's enumerator (sim_dfs_*) proposes each run's
 * prefix of choices; choices past it are 0 (no preemption), so every run
 * is a different schedule.  Outcomes are told apart by what ran, in order
 * (the model's outcome hash).  The first failing schedule is written as a
 * replay file; with --keep-going the search continues and counts them.
 */
#include <inttypes.h>
#include <stdio.h>

#include "cli.h"
#include "crash.h"

static gint opt_preemptions = 2;
static gint64 opt_max_runs = 1000000;
static gchar *opt_out;
static gboolean opt_keep_going;

static GOptionEntry explore_entries[] = {
    { "preemptions", 'k', 0, G_OPTION_ARG_INT, &opt_preemptions,
      "at most K preemptions per schedule (default 2)", "K" },
    { "max-runs", 0, 0, G_OPTION_ARG_INT64, &opt_max_runs,
      "stop after this many schedules (default 1000000)", "N" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &opt_out,
      "replay file for the first failing schedule (default "
      "FILE.explore.replay)", "REPLAY" },
    { "keep-going", 0, 0, G_OPTION_ARG_NONE, &opt_keep_going,
      "count every failing schedule instead of stopping at the first", NULL },
    G_OPTION_ENTRY_NULL,
};

int cmd_explore(int argc, char **argv)
{
    GOptionContext *oc = g_option_context_new("FILE.scn - bounded exhaustive "
                                              "search of schedules");
    GError *gerr = NULL;
    GHashTable *outcomes;
    Input in;
    SimConfig config, run;
    uint64_t runs = 0, failures = 0;
    bool complete = true;
    int status = EXIT_PASS;
    gchar *crash_path;

    g_option_context_add_main_entries(oc, explore_entries, NULL);
    g_option_context_set_description(oc,
        "Exit status: 0 the bounded space holds no failing schedule (or the\n"
        "run limit was reached first: see the summary), 1 a failing\n"
        "schedule was found, 2 bad input or usage.\n");
    if (!g_option_context_parse(oc, &argc, &argv, &gerr)) {
        fprintf(stderr, "qloop explore: %s\n", gerr->message);
        g_error_free(gerr);
        g_option_context_free(oc);
        return EXIT_USAGE;
    }
    g_option_context_free(oc);
    if (argc != 2 || opt_preemptions < 0 || opt_max_runs < 1) {
        fprintf(stderr, "qloop explore: expected FILE.scn, --preemptions >= 0, "
                "--max-runs >= 1 (see --help)\n");
        return EXIT_USAGE;
    }
    if (!cli_load(argv[1], &in, true)) {
        return EXIT_USAGE;
    }
    cli_input_config(&in, &config);
    config.preemption_bound = (unsigned)opt_preemptions;
    outcomes = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    crash_path = opt_out ? g_strdup(opt_out)
                         : g_strdup_printf("%s.explore.replay", argv[1]);
    sim_dfs_begin(&config);
    for (;;) {
        RunResult r;
        int64_t *key;

        if ((int64_t)runs >= opt_max_runs) {
            complete = false;
            break;
        }
        if (!sim_dfs_next_run(&run)) {
            break;
        }
        /* The story of a run a sanitizer report ends (see cmd-run.c). */
        run.trace = crash_supported();
        runs++;
        {
            /* A sanitizer report ends the search with this schedule. */
            char found[128];
            CrashRun cr = { .scenario = &in.replay.scenario, .found = found,
                            .replay_path = crash_path, .program = cli_program,
                            .print_story = run.trace };

            g_snprintf(found, sizeof(found), "qloop explore --preemptions "
                       "%d, schedule %" PRIu64, opt_preemptions, runs);
            crash_run_begin(&cr);
            runner_run(&in.replay.scenario, &run, true, &r);
            crash_run_end();
        }
        key = g_new(int64_t, 1);
        *key = (int64_t)(r.verdict == SIM_OK ? r.outcome : r.hash);
        g_hash_table_add(outcomes, key);
        if (runs % 10000 == 0) {
            fprintf(stderr, "qloop explore: %" PRIu64 " schedules, %u "
                    "outcomes, %" PRIu64 " failing\n", runs,
                    g_hash_table_size(outcomes), failures);
        }
        if (r.verdict != SIM_OK) {
            failures++;
            if (failures == 1) {
                char *path = opt_out ? g_strdup(opt_out)
                    : g_strdup_printf("%s.explore.replay", argv[1]);
                char found[128];
                Replay rep;

                g_snprintf(found, sizeof(found), "qloop explore "
                           "--preemptions %d, schedule %" PRIu64,
                           opt_preemptions, runs);
                cli_print_verdict(found, &r);
                cli_replay_from_run(&in.replay.scenario, &r, found, &rep);
                if (cli_write_replay(path, &rep)) {
                    printf("replay: %s replay %s\n", cli_program, path);
                }
                replay_clear(&rep);
                g_free(path);
            }
            status = EXIT_VERDICT;
            if (!opt_keep_going) {
                complete = false;
                run_result_clear(&r);
                break;
            }
        }
        run_result_clear(&r);
    }
    printf("explored %" PRIu64 " schedules (preemption bound %d): %u distinct "
           "outcomes, %" PRIu64 " failing; %s\n", runs, opt_preemptions,
           g_hash_table_size(outcomes), failures,
           complete ? "the bounded space is exhausted"
                    : "stopped before the end of the space");
    g_hash_table_destroy(outcomes);
    g_free(crash_path);
    cli_input_clear(&in);
    return status;
}
