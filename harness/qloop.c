/*
 * harness/qloop.c — the `qloop` command: subcommand dispatch and help.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "crash.h"
#include "qloop/qloop.h"

typedef struct {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} Command;

static const Command commands[] = {
    { "run", cmd_run, "run a scenario under one or many schedules, oracles on" },
    { "replay", cmd_replay, "replay a recorded run and tell its story" },
    { "shrink", cmd_shrink, "minimize a failing run (operations and choices)" },
    { "explore", cmd_explore, "search every schedule within a preemption bound" },
    { "fuzz", cmd_fuzz, "fuzz on every CPU; findings shrunk to replay files" },
    { "corpus", cmd_corpus, "minimize a fuzzing corpus (libFuzzer -merge=1, afl-cmin)" },
    { "triage", cmd_triage, "crash files to de-duplicated, shrunk replay files" },
    { "coverage", cmd_coverage, "line/branch coverage of the core from a corpus" },
    { "model", cmd_model, "check the Promela models in models/ with spin" },
    { "mutants", cmd_mutants, "every tool against the variants of the core (docs/zoo.md)" },
    { "diff", cmd_diff, "where a variant of the core and the core part ways on a scenario" },
    { "merge", cmd_merge, "one table and one set of replay files from the shards of a sweep" },
    { "smoke", cmd_smoke, "boot the test guest (and Linux where it can) under real KVM" },
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: qloop COMMAND [OPTIONS] FILE\n\n"
            "qloop runs QEMU's event-loop core on a simulated OS where every\n"
            "race replays from one file.\n\ncommands:\n");
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++) {
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
    }
    fprintf(out,
            "\n`qloop COMMAND --help` describes a command's options.\n"
            "Exit status: 0 pass, 1 a verdict against the loop core, 2 bad\n"
            "input or usage.  Scenarios: docs/scenario-format.md.\n");
}

int main(int argc, char **argv)
{
    cli_program = g_path_get_basename(argv[0]);
    cli_program_path = argv[0];
    cli_argv = g_strdupv(argv);
    crash_install();
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        if (argc > 2) {
            for (size_t i = 0; i < G_N_ELEMENTS(commands); i++) {
                if (!strcmp(argv[2], commands[i].name)) {
                    char *args[] = { argv[2], (char *)"--help", NULL };

                    return commands[i].fn(2, args);
                }
            }
        }
        usage(stdout);
        return EXIT_PASS;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("qloop %s\n", QLOOP_VERSION);
        return EXIT_PASS;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++) {
        if (!strcmp(argv[1], commands[i].name)) {
            char *prog = g_strdup_printf("%s %s", cli_program, argv[1]);
            int status;

            g_set_prgname(prog);
            argv[1] = prog;
            status = commands[i].fn(argc - 1, argv + 1);
            g_free(prog);
            return status;
        }
    }
    fprintf(stderr, "qloop: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return EXIT_USAGE;
}
