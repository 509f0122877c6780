/*
 * harness/cmd-coverage.c — `qloop coverage [CORPUS...]`: line and branch
 * coverage of the loop core from a corpus and the committed scenarios
 * (runs fuzz/coverage.sh, which builds with clang source-based coverage
 * and writes an HTML report).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#ifndef QLOOP_SOURCE_DIR
#define QLOOP_SOURCE_DIR "."
#endif

int cmd_coverage(int argc, char **argv)
{
    const char *env_src = g_getenv("QLOOP_SOURCE_DIR");
    gchar *script = g_build_filename(env_src ? env_src : QLOOP_SOURCE_DIR,
                                     "fuzz", "coverage.sh", NULL);
    char **args = g_new0(char *, (size_t)argc + 1);

    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: qloop coverage [--out DIR] [--scn PATH]... [--no-scn]\n"
               "                      [CORPUS_DIR|FILE...]\n\n"
               "Builds the loop target with clang source-based coverage,\n"
               "replays the fuzzer corpus (default corpus/loop and\n"
               "fuzz-out/corpus) and the committed scenarios (--scn; default\n"
               "docs/examples, corpus/regressions and corpus/coverage; each\n"
               "200 seeds with drawn faults), and writes an HTML report of\n"
               "loop/*.c's line and branch coverage (loop/host/ apart);\n"
               "prints the llvm-cov summary.  Runs %s.\n"
               "Exit status: 0 report written, 1 an input failed, 2 a tool\n"
               "is missing.\n", script);
        g_free(script);
        g_free(args);
        return EXIT_PASS;
    }
    args[0] = script;
    for (int i = 1; i < argc; i++) {
        args[i] = argv[i];
    }
    execv(script, args);
    fprintf(stderr, "qloop coverage: cannot run %s: %m\n", script);
    return EXIT_USAGE;
}
