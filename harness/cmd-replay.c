/*
 * harness/cmd-replay.c — `qloop replay FILE`: run one recorded schedule
 * again and tell its story.
 *
 * FILE is a replay file (scenario + choices), a .scn (run with seed 1), or
 * a fuzzer input (decoded to a scenario and a tape).  The story is one
 * event a line with virtual time and thread; the verdict and trace hash
 * follow.  A replay file's hash must match: a mismatch means the core or
 * the simulator changed behaviour, and is itself a verdict.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "model-check.h"
#include "crash.h"
#include "story.h"

static gchar *opt_trace;
static gchar *opt_memory;
static gboolean opt_verbose;
static gboolean opt_quiet;
static gboolean opt_ignore_hash;
static gboolean opt_expect_recorded;
static gchar *opt_save;

static GOptionEntry replay_entries[] = {
    { "memory", 0, 0, G_OPTION_ARG_STRING, &opt_memory,
      "Memory model of the core's atomics: sc, tso, pso, c11 (default: the file's)", "MODE" },
    { "trace", 't', 0, G_OPTION_ARG_FILENAME, &opt_trace,
      "also write the trace: .jsonl, .json (Chrome/Perfetto), .svg, or text",
      "OUT" },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &opt_verbose,
      "include the model's bookkeeping events (push, take, slice...)", NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &opt_quiet,
      "print only the verdict", NULL },
    { "ignore-hash", 0, 0, G_OPTION_ARG_NONE, &opt_ignore_hash,
      "check only the recorded verdict, not the trace hash (regression "
      "corpora outlive trace format changes)", NULL },
    { "expect-recorded", 0, 0, G_OPTION_ARG_NONE, &opt_expect_recorded,
      "exit 0 when the run ends with the verdict the replay file records, "
      "even a failing one (regression corpora of known bugs)", NULL },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &opt_save,
      "save this run as a replay file (e.g. from a fuzzer crash file)",
      "REPLAY" },
    G_OPTION_ENTRY_NULL,
};

int cmd_replay(int argc, char **argv)
{
    GOptionContext *oc = g_option_context_new("FILE - replay a run and tell "
                                              "its story");
    GError *gerr = NULL;
    Input in;
    SimConfig config;
    RunResult r;
    int status;

    /* A spin counterexample (harness/model-trail.c). */
    if (argc == 2 && g_str_has_suffix(argv[1], ".trail")) {
        g_option_context_free(oc);
        return model_trail_replay(argv[1], argc, argv);
    }
    g_option_context_add_main_entries(oc, replay_entries, NULL);
    g_option_context_set_description(oc,
        "FILE: a replay file, a .scn scenario (seed 1), a fuzzer crash\n"
        "file, or a spin trail MODEL.CASE.pml.trail (docs/models.md).\n"
        "A replay file made by a core variant records it (line 3,\n"
        "\"variant NAME\"); one without that line was made by the production\n"
        "core.  A file of another core than this binary's is run by the\n"
        "binary of that core beside this one (qloop-NAME, or qloop), with\n"
        "the same arguments, saying so on stderr; if there is none, it is\n"
        "refused: \"FILE:LINE: made by variant NAME; run qloop-NAME replay\n"
        "FILE\"\n"
        "Exit status: 0 the run passed, 1 a verdict (or a replay file\n"
        "whose trace hash no longer matches), 2 bad input or usage.\n");
    if (!g_option_context_parse(oc, &argc, &argv, &gerr)) {
        fprintf(stderr, "qloop replay: %s\n", gerr->message);
        g_error_free(gerr);
        g_option_context_free(oc);
        return EXIT_USAGE;
    }
    g_option_context_free(oc);
    if (argc != 2) {
        fprintf(stderr, "qloop replay: expected one FILE (see --help)\n");
        return EXIT_USAGE;
    }
    if (!cli_load(argv[1], &in, false)) {
        return EXIT_USAGE;
    }
    status = cli_dispatch_replay(&in, "replay");
    if (status >= 0) {
        cli_input_clear(&in);
        return status;
    }
    cli_input_config(&in, &config);
    if (!cli_apply_memory("replay", opt_memory, &config)) {
        cli_input_clear(&in);
        return EXIT_USAGE;
    }
    config.trace = true;
    {
        /* A recorded crash reproduces inside the run: crash.c compares it
         * with the file's verdict and signature and ends the command. */
        bool recorded = in.kind == INPUT_REPLAY;
        CrashRun cr = {
            .scenario = &in.replay.scenario, .found = "verdict",
            .replay_path = opt_save, .program = cli_program,
            .print_story = !opt_quiet,
            .expect_verdict = recorded ? in.replay.verdict : NULL,
            .expect_signature = recorded ? in.replay.signature : NULL,
            .expect_recorded = opt_expect_recorded,
        };

        crash_run_begin(&cr);
        runner_run(&in.replay.scenario, &config, true, &r);
        if (r.verdict == SIM_OK) {
            crash_check_leaks(true);
        }
        crash_run_end();
    }
    if (!opt_quiet) {
        size_t n;
        const SimEvent *ev = sim_trace_events(&n);
        unsigned names_n;
        const char *const *names = runner_thread_names(&names_n);

        story_print(stdout, ev, n, names, names_n, opt_verbose);
    }
    cli_print_verdict("verdict", &r);
    status = r.verdict == SIM_OK ? EXIT_PASS : EXIT_VERDICT;
    if (in.kind == INPUT_REPLAY && crash_verdict_name(in.replay.verdict) &&
        (r.verdict == SIM_OK || (r.verdict == SIM_HANG && !r.lost_wakeup))) {
        /*
         * A crash belongs to the core it was found on (a variant, a build
         * before the fix): this core running the schedule clean is a pass.
         * So is a hang with nothing due: the shrinker kept what made the
         * crash, not what lets the scenario end once nothing crashes.
         */
        printf("not reproduced: the file records a %s (%s); this core %s\n",
               in.replay.verdict,
               in.replay.signature[0] ? in.replay.signature : "-",
               r.verdict == SIM_OK ? "passes the same schedule"
               : "does not crash, and the schedule then waits for nothing "
                 "due (the scenario's own hang, not a lost wake-up)");
        status = EXIT_PASS;
    } else if (in.kind == INPUT_REPLAY) {
        if (in.replay.has_hash && !opt_ignore_hash && in.replay.hash != r.hash) {
            printf("replay mismatch: the file recorded hash %016" PRIx64
                   ", this run gave %016" PRIx64 "\n", in.replay.hash, r.hash);
            status = EXIT_VERDICT;
        } else if (strcmp(in.replay.verdict, sim_verdict_name(r.verdict))) {
            printf("replay mismatch: the file recorded verdict %s\n",
                   in.replay.verdict);
            status = EXIT_VERDICT;
        } else if (opt_expect_recorded) {
            printf("as recorded: %s\n", in.replay.verdict);
            status = EXIT_PASS;
        }
    }
    if (opt_trace && !cli_write_trace(opt_trace)) {
        status = EXIT_USAGE;
    }
    if (opt_save) {
        Replay rep;

        cli_replay_from_run(&in.replay.scenario, &r, in.path, &rep);
        if (cli_write_replay(opt_save, &rep)) {
            printf("saved: %s\n", opt_save);
        } else {
            status = EXIT_USAGE;
        }
        replay_clear(&rep);
    }
    run_result_clear(&r);
    cli_input_clear(&in);
    return status;
}
