/*
 * harness/cmd-model.c — `qloop model`: check the Promela models with spin.
 *
 *   qloop model check [--keep DIR] [MODEL[/ID] ...]
 *   qloop model list
 *
 * Method: every case of the table in harness/model-check.c (or those
 * named) is built and run with spin; its verdict is compared with the
 * expected one and printed with states, transitions, depth and time.
 * Exit status: 0 every verdict as expected, 1 some differ, 2 usage or a
 * tool that failed, 77 spin (or a C compiler) missing: skipped, never a
 * pass.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "model-check.h"

#define EXIT_SKIP 77

static gchar *opt_keep;

static GOptionEntry model_entries[] = {
    { "keep", 'k', 0, G_OPTION_ARG_FILENAME, &opt_keep,
      "keep each run's directory (model, pan, trail) under DIR", "DIR" },
    G_OPTION_ENTRY_NULL,
};

static bool selected(const ModelCase *c, int argc, char **argv)
{
    if (argc <= 2) {
        return true;
    }
    for (int i = 2; i < argc; i++) {
        const char *slash = strchr(argv[i], '/');

        if (!slash && !strcmp(argv[i], c->model)) {
            return true;
        }
        if (slash && !strncmp(argv[i], c->model, (size_t)(slash - argv[i])) &&
            c->model[slash - argv[i]] == 0 && !strcmp(slash + 1, c->id)) {
            return true;
        }
    }
    return false;
}

/* Every name on the command line must select something. */
static bool names_known(int argc, char **argv)
{
    unsigned n;
    const ModelCase *cases = model_cases(&n);

    for (int i = 2; i < argc; i++) {
        bool found = false;

        for (unsigned k = 0; k < n && !found; k++) {
            char *one[] = { NULL, NULL, argv[i] };

            found = selected(&cases[k], 3, one);
        }
        if (!found) {
            fprintf(stderr, "qloop model: no model or case '%s' (qloop model "
                    "list)\n", argv[i]);
            return false;
        }
    }
    return true;
}

static void list_cases(void)
{
    unsigned n;
    const ModelCase *cases = model_cases(&n);

    for (unsigned i = 0; i < n; i++) {
        printf("%-12s %-28s expect %-18s %s%s%s\n", cases[i].model, cases[i].id,
               cases[i].expect, cases[i].shows,
               cases[i].c_variant ? "; C: qloop-" : "",
               cases[i].c_variant ? cases[i].c_variant : "");
    }
}

static int check(int argc, char **argv)
{
    unsigned n, runs = 0, bad = 0, failed = 0;
    const ModelCase *cases = model_cases(&n);
    const char *missing = model_tool_missing();
    gchar *tmp = NULL;
    double total_s = 0;

    if (missing) {
        printf("qloop model: SKIPPED, %s\n", missing);
        return EXIT_SKIP;
    }
    if (!opt_keep) {
        tmp = g_dir_make_tmp("qloop-model-XXXXXX", NULL);
        if (!tmp) {
            fprintf(stderr, "qloop model: cannot create a work directory\n");
            return EXIT_USAGE;
        }
    }
    printf("%-12s %-28s %-18s %10s %12s %6s %8s %8s\n", "model", "case",
           "verdict", "states", "transitions", "depth", "pan s", "total s");
    for (unsigned i = 0; i < n; i++) {
        ModelResult r;
        char err[512];
        gchar *dir;
        bool as_expected;

        if (!selected(&cases[i], argc, argv)) {
            continue;
        }
        dir = g_strdup_printf("%s/%s.%s", opt_keep ? opt_keep : tmp,
                              cases[i].model, cases[i].id);
        if (!model_run(&cases[i], dir, &r, err, sizeof(err))) {
            fprintf(stderr, "qloop model: %s/%s: %s\n", cases[i].model,
                    cases[i].id, err);
            g_free(dir);
            failed++;
            runs++;
            continue;
        }
        as_expected = r.complete && !strcmp(r.verdict, cases[i].expect);
        printf("%-12s %-28s %-18s %10" G_GUINT64_FORMAT " %12" G_GUINT64_FORMAT
               " %6" G_GUINT64_FORMAT " %8.2f %8.2f %s\n", cases[i].model,
               cases[i].id, r.verdict, r.states, r.transitions, r.depth,
               r.pan_s, r.total_s, as_expected ? "ok" : "UNEXPECTED");
        if (!as_expected) {
            printf("  expected %s%s; %s\n  reproduce: qloop model check "
                   "--keep DIR %s/%s (then see DIR/%s.%s/)\n", cases[i].expect,
                   r.complete ? "" : " from a complete search",
                   r.detail[0] ? r.detail : "no error", cases[i].model,
                   cases[i].id, cases[i].model, cases[i].id);
            bad++;
        } else if (strcmp(r.verdict, MODEL_PASS) && opt_keep) {
            printf("  trail: %s/%s.%s.pml.trail (qloop replay it)\n", dir,
                   cases[i].model, cases[i].id);
        }
        total_s += r.total_s;
        runs++;
        g_free(dir);
    }
    if (tmp) {
        gchar *argv_rm[] = { (gchar *)"rm", (gchar *)"-rf", tmp, NULL };

        g_spawn_sync(NULL, argv_rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                     NULL, NULL, NULL, NULL);
        g_free(tmp);
    }
    printf("%u runs, %u as expected, %u not, %u could not run; %.1f s\n", runs,
           runs - bad - failed, bad, failed, total_s);
    return failed ? EXIT_USAGE : bad ? EXIT_VERDICT : EXIT_PASS;
}

int cmd_model(int argc, char **argv)
{
    GOptionContext *oc = g_option_context_new("check|list [MODEL[/CASE] ...] "
                                              "- check the Promela models");
    GError *gerr = NULL;
    int status;

    g_option_context_add_main_entries(oc, model_entries, NULL);
    g_option_context_set_description(oc,
        "check: build and run spin's verifier for every case (a model and\n"
        "one of its variants and flag sets) in the table, or for the named\n"
        "models (notify, bh, handlers, thread-pool) or cases (notify/BUG_BOOL),\n"
        "and compare each verdict with the expected one.  list: the table.\n"
        "Models: $QLOOP_MODELS or the source tree's models/; spin:\n"
        "$QLOOP_SPIN or spin; pan.c's compiler: $CC or cc.\n"
        "Exit status: 0 every verdict as expected, 1 some not, 2 bad usage\n"
        "or a failed tool, 77 spin missing (skipped).\n");
    if (!g_option_context_parse(oc, &argc, &argv, &gerr)) {
        fprintf(stderr, "qloop model: %s\n", gerr->message);
        g_error_free(gerr);
        g_option_context_free(oc);
        return EXIT_USAGE;
    }
    g_option_context_free(oc);
    if (argc < 2 || (strcmp(argv[1], "check") && strcmp(argv[1], "list"))) {
        fprintf(stderr, "qloop model: expected 'check' or 'list' (see --help)\n");
        return EXIT_USAGE;
    }
    if (!strcmp(argv[1], "list")) {
        if (argc > 2) {
            fprintf(stderr, "qloop model list: takes no argument\n");
            return EXIT_USAGE;
        }
        list_cases();
        return EXIT_PASS;
    }
    if (!names_known(argc, argv)) {
        return EXIT_USAGE;
    }
    status = check(argc, argv);
    g_free(opt_keep);
    opt_keep = NULL;
    return status;
}
