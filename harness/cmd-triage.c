/*
 * harness/cmd-triage.c — `qloop triage FILE|DIR... -o FINDINGS`: crash
 * files to de-duplicated, shrunk replay files (the method: triage.c).
 *
 * `qloop fuzz` runs this command from the qloop that fuzz/build.sh linked
 * next to the fuzz target, from the same objects, so a crash file is
 * replayed by the core (and variant) that produced it.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "triage.h"

static gchar *opt_out;
static gint opt_seeds = 50;

static GOptionEntry triage_entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &opt_out,
      "findings directory (default findings)", "DIR" },
    { "shrink-seeds", 0, 0, G_OPTION_ARG_INT, &opt_seeds,
      "fresh seeds per shrink step when an edit breaks the schedule (50)",
      "N" },
    G_OPTION_ENTRY_NULL,
};

static gint compare_paths(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Files as given; a directory stands for its regular files, sorted. */
static void add_path(GPtrArray *paths, const char *arg)
{
    GDir *dir = g_dir_open(arg, 0, NULL);
    const char *name;
    guint first = paths->len;

    if (!dir) {
        g_ptr_array_add(paths, g_strdup(arg));
        return;
    }
    while ((name = g_dir_read_name(dir))) {
        gchar *p = g_build_filename(arg, name, NULL);

        if (g_file_test(p, G_FILE_TEST_IS_REGULAR)) {
            g_ptr_array_add(paths, p);
        } else {
            g_free(p);
        }
    }
    g_dir_close(dir);
    qsort(paths->pdata + first, paths->len - first, sizeof(gpointer),
          compare_paths);
}

int cmd_triage(int argc, char **argv)
{
    GOptionContext *oc = g_option_context_new("FILE|DIR... - crash files to "
                                              "findings");
    GError *gerr = NULL;
    GPtrArray *paths = g_ptr_array_new_with_free_func(g_free);
    TriageOptions opt;
    TriageCounts t;
    bool ok;

    g_option_context_add_main_entries(oc, triage_entries, NULL);
    g_option_context_set_description(oc,
        "Replays each crash file in a child process, signs it (verdict kind\n"
        "and the function names where it went wrong), shrinks the first of\n"
        "each signature to DIR/<signature>-<hash>.replay and checks that\n"
        "the replay reproduces it.  Exit status: 0 no finding, 1 findings or\n"
        "files that did not reproduce, 2 bad usage.  See docs/fuzzing.md.\n");
    if (!g_option_context_parse(oc, &argc, &argv, &gerr)) {
        fprintf(stderr, "qloop triage: %s\n", gerr->message);
        g_error_free(gerr);
        g_option_context_free(oc);
        return EXIT_USAGE;
    }
    g_option_context_free(oc);
    if (argc < 2 || opt_seeds < 0) {
        fprintf(stderr, "qloop triage: expected FILE or DIR arguments (see "
                "--help)\n");
        return EXIT_USAGE;
    }
    for (int i = 1; i < argc; i++) {
        add_path(paths, argv[i]);
    }
    opt.findings_dir = opt_out ? opt_out : "findings";
    opt.shrink_seeds = opt_seeds;
    opt.program = cli_program_path;
    ok = triage_files(&opt, (char *const *)paths->pdata, paths->len, &t);
    g_ptr_array_free(paths, TRUE);
    if (!ok) {
        return EXIT_USAGE;
    }
    return t.unique || t.not_reproduced ? EXIT_VERDICT : EXIT_PASS;
}
