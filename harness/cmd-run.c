/*
 * harness/cmd-run.c — `qloop run FILE.scn`: run a scenario on the
 * simulated core under one or many schedules, with the oracles on.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "crash.h"

static gint64 opt_seed = 1;
static gint opt_pct = 0;
static gint64 opt_runs = 1;
static gchar *opt_trace;
static gchar *opt_faults;
static gchar *opt_memory;
static gboolean opt_swarm;
static gboolean opt_no_model;
static gboolean opt_determinism;
static gchar *opt_out;
static gchar *opt_shard;

static GOptionEntry run_entries[] = {
    { "seed", 's', 0, G_OPTION_ARG_INT64, &opt_seed,
      "first PRNG seed (default 1)", "N" },
    { "pct", 0, 0, G_OPTION_ARG_INT, &opt_pct,
      "PCT scheduling with depth D instead of a random walk", "D" },
    { "runs", 'n', 0, G_OPTION_ARG_INT64, &opt_runs,
      "run seeds N, N+1, ... this many times (default 1)", "COUNT" },
    { "memory", 0, 0, G_OPTION_ARG_STRING, &opt_memory,
      "Memory model of the core's atomics: sc (default), tso, pso, c11", "MODE" },
    { "faults", 'f', 0, G_OPTION_ARG_STRING, &opt_faults,
      "fault points: spurious,eintr,early,eagain,hostjump,refuse,fdcreate,"
      "readfail,shortread | all | none "
      "(default: the scenario's)", "LIST" },
    { "swarm", 0, 0, G_OPTION_ARG_NONE, &opt_swarm,
      "each seed draws its own subset of the fault points", NULL },
    { "trace", 't', 0, G_OPTION_ARG_FILENAME, &opt_trace,
      "write the (last or failing) run's trace: .jsonl, .json (Chrome/"
      "Perfetto), .svg, or text", "OUT" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &opt_out,
      "write a failing run as a replay file (default FILE.fail.replay)",
      "REPLAY" },
    { "no-model", 0, 0, G_OPTION_ARG_NONE, &opt_no_model,
      "skip the reference model and safety oracles", NULL },
    { "check-determinism", 0, 0, G_OPTION_ARG_NONE, &opt_determinism,
      "run every schedule twice and require equal trace hashes", NULL },
    { "shard", 0, 0, G_OPTION_ARG_STRING, &opt_shard,
      "run only shard I of N of the seeds: the I-th, then every N-th "
      "(1 <= I <= N; qloop merge combines the shards)", "I/N" },
    G_OPTION_ENTRY_NULL,
};

/*
 * A leak check scans the whole heap (docs/qloop.md: its cost, ~3 ms), so
 * it runs after each of the first 8 runs, then after runs 15, 31, 63...
 * and the last: a few hundred runs cost a dozen checks, not 64 (which
 * was most of the time of a short `run --runs 100`).  A leak found after a gap belongs to one of the runs since
 * the last clean check; leaks already in the heap would be reported again
 * by every later check, so the search goes on in a fresh process:
 * leak_narrow() re-executes this command on just those seeds, where the
 * first 8 are checked one by one and the rest as above.
 */
#define LEAK_CHECK_EVERY_RUN 8

/* --shard I/N: this process runs seeds I-1, I-1+N, ... of the range. */
static unsigned shard_i = 1, shard_n = 1;

static bool leak_check_due(int64_t i)
{
    return i < LEAK_CHECK_EVERY_RUN || (i & (i + 1)) == 0 ||
           i + (int64_t)shard_n >= opt_runs;
}

/* GOption takes parsed options out of argv; leak_narrow needs them.  A
 * global: reachable, so never a leak itself. */
static char **saved_argv;

static G_NORETURN void leak_narrow(int64_t first, int64_t count)
{
    GPtrArray *argv = g_ptr_array_new();

    printf("a leak in seeds %" PRId64 "..%" PRId64 ": narrowing it down\n",
           first, first + count - 1);
    fflush(stdout);
    g_ptr_array_add(argv, (gpointer)cli_program_path);
    g_ptr_array_add(argv, "run");
    for (char **a = saved_argv + 1; *a; a++) {
        g_ptr_array_add(argv, *a);
    }
    /* The last --seed, --runs and --shard win (GOption): the narrowing
     * runs every seed of the range, whatever shard found it. */
    g_ptr_array_add(argv, "--shard");
    g_ptr_array_add(argv, "1/1");
    g_ptr_array_add(argv, "--seed");
    g_ptr_array_add(argv, g_strdup_printf("%" PRId64, first));
    g_ptr_array_add(argv, "--runs");
    g_ptr_array_add(argv, g_strdup_printf("%" PRId64, count));
    g_ptr_array_add(argv, NULL);
    execv("/proc/self/exe", (char **)argv->pdata);
    fprintf(stderr, "qloop run: cannot re-run itself to find the leaking "
            "seed: %s\n", g_strerror(errno));
    _exit(EXIT_VERDICT);
}

/*
 * Run schedule i (config.seed) with every check that applies: the model,
 * --check-determinism, sanitizer reports (crash.c ends the command from
 * inside the run: it needs the replay's name and label before the run)
 * and, when due, a leak check.
 */
static void run_checked(const Scenario *s, const SimConfig *config,
                        const char *found, const char *fail_path, int64_t i,
                        int64_t *last_leak_check, RunResult *r)
{
    CrashRun cr = { .scenario = s, .found = found, .replay_path = fail_path,
                    .program = cli_program, .print_story = true };

    crash_run_begin(&cr);
    runner_run(s, config, !opt_no_model, r);
    if (r->verdict == SIM_OK && opt_determinism) {
        RunResult again;

        runner_run(s, config, !opt_no_model, &again);
        if (again.hash != r->hash) {
            printf("seed %" PRIu64 ": nondeterministic: hash %016" PRIx64
                   " then %016" PRIx64 "\n", config->seed, r->hash,
                   again.hash);
            r->verdict = SIM_ORACLE;
            g_strlcpy(r->story, "determinism: the same seed gave two "
                      "different traces", sizeof(r->story));
        }
        run_result_clear(&again);
    }
    if (r->verdict == SIM_OK && leak_check_due(i)) {
        /* Leaks add up: only a check right after the last clean one
         * names the run that leaked. */
        if (crash_check_leaks(i == *last_leak_check + 1)) {
            leak_narrow(opt_seed + *last_leak_check + 1,
                        i - *last_leak_check);
        }
        *last_leak_check = i;
    }
    crash_run_end();
}

int cmd_run(int argc, char **argv)
{
    GOptionContext *oc = g_option_context_new("FILE.scn - run a scenario");
    GError *gerr = NULL;
    Input in;
    SimConfig config;
    uint64_t failures = 0;
    int status = EXIT_PASS;
    gchar *fail_path;
    int64_t last_leak_check = -1;

    saved_argv = g_strdupv(argv);
    g_option_context_add_main_entries(oc, run_entries, NULL);
    g_option_context_set_description(oc,
        "Runs the scenario on the simulated loop core, once per seed, with\n"
        "the reference model and safety oracles checking every event.\n"
        "Exit status: 0 every run passed, 1 a verdict against the core\n"
        "(hang, oracle, panic...; the first failing run is saved as a\n"
        "replay file), 2 bad input or usage.\n");
    if (!g_option_context_parse(oc, &argc, &argv, &gerr)) {
        fprintf(stderr, "qloop run: %s\n", gerr->message);
        g_error_free(gerr);
        g_option_context_free(oc);
        return EXIT_USAGE;
    }
    g_option_context_free(oc);
    if (argc != 2) {
        fprintf(stderr, "qloop run: expected one FILE.scn (see --help)\n");
        return EXIT_USAGE;
    }
    if (opt_runs < 1 || opt_pct < 0 || opt_seed < 0) {
        fprintf(stderr, "qloop run: --runs must be >= 1, --seed and --pct "
                ">= 0\n");
        return EXIT_USAGE;
    }
    if (opt_shard && !cli_parse_shard(opt_shard, &shard_i, &shard_n)) {
        fprintf(stderr, "qloop run: --shard is I/N with 1 <= I <= N\n");
        return EXIT_USAGE;
    }
    if (!cli_load(argv[1], &in, true)) {
        return EXIT_USAGE;
    }
    cli_input_config(&in, &config);
    if (!cli_apply_memory("run", opt_memory, &config)) {
        cli_input_clear(&in);
        return EXIT_USAGE;
    }
    if (opt_faults && !cli_parse_faults(opt_faults, &config.faults)) {
        fprintf(stderr, "qloop run: unknown fault in '%s'\n", opt_faults);
        cli_input_clear(&in);
        return EXIT_USAGE;
    }
    config.tape = opt_pct ? SIM_TAPE_PCT : SIM_TAPE_RANDOM;
    config.pct_depth = (unsigned)opt_pct;
    config.swarm = opt_swarm;
    config.swarm_faults = SIM_FAULT_EVERY;    /* the seam's faults too */
    /* A sanitizer report ends the process mid-run: the story so far must
     * already be recorded then (it costs ~10 % of a run under ASan). */
    config.trace = opt_trace != NULL || crash_supported();
    fail_path = opt_out ? g_strdup(opt_out)
                        : g_strdup_printf("%s.fail.replay", argv[1]);

    if ((int64_t)shard_i > opt_runs) {
        printf("shard %u/%u: no seeds (%" PRId64 " runs)\n", shard_i, shard_n,
               opt_runs);
    }
    for (int64_t i = shard_i - 1, done = 1; i < opt_runs;
         i += shard_n, done++) {
        RunResult r;
        char found[128];

        config.seed = (uint64_t)(opt_seed + i);
        g_snprintf(found, sizeof(found), "seed %" PRIu64 " %s", config.seed,
                   opt_pct ? "pct" : "random");
        run_checked(&in.replay.scenario, &config, found, fail_path, i,
                    &last_leak_check, &r);
        if (opt_runs > 1 && done % 1000 == 0) {
            fprintf(stderr, "qloop run: %" PRId64 "/%" PRId64 " runs, %"
                    PRIu64 " failing\n", done,
                    (opt_runs - shard_i) / shard_n + 1, failures);
        }
        if (r.verdict != SIM_OK) {
            const char *path = fail_path;
            Replay rep;

            failures++;
            cli_print_verdict(found, &r);
            cli_replay_from_run(&in.replay.scenario, &r, found, &rep);
            if (cli_write_replay(path, &rep)) {
                printf("replay: %s replay %s\n", cli_program, path);
            }
            replay_clear(&rep);
            if (opt_trace) {
                cli_write_trace(opt_trace);
            }
            run_result_clear(&r);
            status = EXIT_VERDICT;
            break;
        }
        if (i + (int64_t)shard_n >= opt_runs) {
            g_snprintf(found, sizeof(found), "seed %" PRIu64, config.seed);
            if (opt_runs == 1) {
                cli_print_verdict(found, &r);
            } else if (shard_n > 1) {
                printf("%" PRId64 " runs (shard %u/%u of seeds %" PRId64
                       "..%" PRId64 "): all passed; last hash %016" PRIx64
                       "\n", done, shard_i, shard_n, opt_seed,
                       opt_seed + opt_runs - 1, r.hash);
            } else {
                printf("%" PRId64 " runs (seeds %" PRId64 "..%" PRIu64
                       "): all passed; last hash %016" PRIx64 "\n", opt_runs,
                       opt_seed, config.seed, r.hash);
            }
            if (opt_trace && !cli_write_trace(opt_trace)) {
                status = EXIT_USAGE;
            }
        }
        run_result_clear(&r);
    }
    g_free(fail_path);
    cli_input_clear(&in);
    return status;
}
