/*
 * harness/cmd-shrink.c — `qloop shrink FILE -o MIN`: the smallest scenario
 * and schedule that still fail the same way (the method: harness/shrink.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "crash.h"
#include "shrink.h"

static gchar *opt_out;
static gint opt_seeds = 200;

static GOptionEntry shrink_entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &opt_out,
      "where to write the minimized replay file (required)", "MIN" },
    { "seeds", 0, 0, G_OPTION_ARG_INT, &opt_seeds,
      "fresh seeds to try when an edit breaks the old schedule (200)", "N" },
    G_OPTION_ENTRY_NULL,
};

int cmd_shrink(int argc, char **argv)
{
    GOptionContext *oc = g_option_context_new("FILE -o MIN - minimize a "
                                              "failing run");
    GError *gerr = NULL;
    Input in;
    SimConfig config;
    RunResult r;
    Replay out;
    ShrinkStats st;

    g_option_context_add_main_entries(oc, shrink_entries, NULL);
    g_option_context_set_description(oc,
        "FILE: a replay file or fuzzer crash file that fails (or a .scn\n"
        "that fails with seed 1).  Exit status: 0 minimized and written,\n"
        "1 FILE does not fail (nothing to shrink), 2 bad input or usage.\n"
        "A replay file made on another core (its \"variant NAME\" line, or\n"
        "none: the production core) is shrunk by that core's binary beside\n"
        "this one (qloop-NAME or qloop), or refused if there is none, as\n"
        "`qloop replay --help` describes.\n");
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
    {
        int status = cli_dispatch_replay(&in, "shrink");

        if (status >= 0) {
            cli_input_clear(&in);
            return status;
        }
    }
    cli_input_config(&in, &config);
    printf("shrinking %s\n", argv[1]);
    fflush(stdout);
    if (!shrink_failure(&in.replay.scenario, &config, opt_seeds, stdout, &out,
                        &r, &st)) {
        printf("%s: passes (hash %016" PRIx64 "); nothing to shrink\n",
               argv[1], r.hash);
        run_result_clear(&r);
        cli_input_clear(&in);
        return EXIT_VERDICT;
    }
    printf("signature: %s\n", st.signature);
    printf("before: %u ops, %u threads, %zu choices (%zu preempting)\n",
           st.ops_before, st.threads_before, st.choices_before,
           st.nonzero_before);
    printf("after:  %u ops, %u threads, %zu choices (%zu preempting), "
           "%" PRIu64 " runs\n", st.ops_after, st.threads_after,
           st.choices_after, st.nonzero_after, st.runs);
    if (crash_verdict_name(out.verdict)) {
        /* A crash never finishes its run (a leak is found after it): its
         * record is the verdict, not a trace hash. */
        printf("verdict: %s (%zu choices; a sanitizer's verdict has no "
               "trace hash)\nsignature: %s: %s\n", out.verdict,
               out.choice_count, out.verdict, out.signature);
    } else {
        cli_print_verdict("verdict", &r);
    }
    if (!cli_write_replay(opt_out, &out)) {
        return EXIT_USAGE;
    }
    printf("replay: %s replay %s\n", cli_program, opt_out);
    replay_clear(&out);
    run_result_clear(&r);
    cli_input_clear(&in);
    return EXIT_PASS;
}
