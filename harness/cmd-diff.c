/*
 * harness/cmd-diff.c — `qloop diff --variant NAME FILE.scn`: where the
 * production core and a variant part ways on one scenario.
 *
 * Method: the scenario runs once on each core — this qloop and
 * qloop-NAME beside it, each as a child (spawn.h) — with the same seed
 * (or PCT depth) and memory model, so both draw the same choices from
 * the same tape until their behaviour differs; each writes its text
 * trace.  The traces are compared event by event, ignoring the event
 * number, and the first event that differs is shown with --context
 * events of both stories before and after it, then each run's verdict.
 * Exit status: 0 the traces are the same, 1 they differ, 2 usage.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "spawn.h"

#define DIFF_TIMEOUT_S 120.0

static gchar *opt_variant;
static gint64 opt_seed = 1;
static gint opt_pct;
static gchar *opt_memory;
static gint opt_context = 6;

static GOptionEntry diff_entries[] = {
    { "variant", 'V', 0, G_OPTION_ARG_STRING, &opt_variant,
      "the variant to compare with the production core (qloop-NAME)", "NAME" },
    { "seed", 's', 0, G_OPTION_ARG_INT64, &opt_seed,
      "the seed both runs use (default 1)", "N" },
    { "pct", 0, 0, G_OPTION_ARG_INT, &opt_pct,
      "PCT scheduling with depth D for both", "D" },
    { "memory", 0, 0, G_OPTION_ARG_STRING, &opt_memory,
      "memory model for both: sc (default), tso, pso", "MODE" },
    { "context", 'C', 0, G_OPTION_ARG_INT, &opt_context,
      "events of each story shown around the first difference (default 6)",
      "N" },
    G_OPTION_ENTRY_NULL,
};

/* The event without its number: "1.000000000s  main  op: poll". */
static const char *event_text(const char *line)
{
    const char *p = line;

    while (*p == ' ') {
        p++;
    }
    while (*p >= '0' && *p <= '9') {
        p++;
    }
    while (*p == ' ') {
        p++;
    }
    return p;
}

/* Run one core; its trace lines (NULL-terminated, maybe empty) and its
 * verdict line ("seed 1 random: ..." or "seed 1: ok ..."). */
static gchar **run_one(const char *bin, const char *scn, const char *dir,
                       const char *tag, char *verdict, size_t verdict_len)
{
    char *trace = g_strdup_printf("%s/%s.trace.txt", dir, tag);
    char *out = g_strdup_printf("%s/%s.out", dir, tag);
    char *replay = g_strdup_printf("%s/%s.replay", dir, tag);
    char seed[32], pct[16];
    char *argv[16];
    int n = 0;
    SpawnResult sr;
    gchar *text = NULL;
    gchar **lines;

    g_snprintf(seed, sizeof(seed), "%" G_GINT64_FORMAT, opt_seed);
    g_snprintf(pct, sizeof(pct), "%d", opt_pct);
    argv[n++] = (char *)bin;
    argv[n++] = "run";
    argv[n++] = (char *)scn;
    argv[n++] = "--seed";
    argv[n++] = seed;
    argv[n++] = "--trace";
    argv[n++] = trace;
    argv[n++] = "-o";
    argv[n++] = replay;
    if (opt_pct) {
        argv[n++] = "--pct";
        argv[n++] = pct;
    }
    if (opt_memory) {
        argv[n++] = "--memory";
        argv[n++] = opt_memory;
    }
    argv[n] = NULL;
    g_strlcpy(verdict, "(no verdict line)", verdict_len);
    if (spawn_run(argv, NULL, out, spawn_now_s() + DIFF_TIMEOUT_S, &sr) &&
        g_file_get_contents(out, &text, NULL, NULL)) {
        gchar **outl = g_strsplit(text, "\n", -1);

        for (gchar **l = outl; *l; l++) {
            if (g_str_has_prefix(*l, "seed ")) {
                g_strlcpy(verdict, *l, verdict_len);
            }
        }
        g_strfreev(outl);
        g_free(text);
        text = NULL;
    }
    if (sr.timed_out) {
        g_strlcpy(verdict, "(timed out)", verdict_len);
    }
    if (!g_file_get_contents(trace, &text, NULL, NULL)) {
        text = g_strdup("");    /* a crash ends the run before its trace */
    }
    lines = g_strsplit(text, "\n", -1);
    g_free(text);
    g_free(trace);
    g_free(out);
    g_free(replay);
    return lines;
}

static void show(const char *who, gchar **lines, unsigned at, unsigned from,
                 unsigned to)
{
    unsigned len = g_strv_length(lines);

    printf("--- %s\n", who);
    for (unsigned i = from; i < to && i < len; i++) {
        if (!lines[i][0]) {
            continue;
        }
        printf("%s %s\n", i == at ? ">" : " ", lines[i]);
    }
    if (at >= len || !lines[at][0]) {
        printf("> (the story ends here)\n");
    }
}

int cmd_diff(int argc, char **argv)
{
    GOptionContext *oc = g_option_context_new("--variant NAME FILE.scn - "
                                              "where a variant and the core part ways");
    GError *gerr = NULL;
    char *self, *dir, *bin, *vbin, *vname;
    char verdict_a[256], verdict_b[256];
    gchar **a, **b;
    unsigned i = 0, na, nb, from;
    int status;

    g_option_context_add_main_entries(oc, diff_entries, NULL);
    g_option_context_set_description(oc,
        "Runs FILE.scn on the production core and on qloop-NAME with the\n"
        "same seed and shows the first event where their traces differ,\n"
        "with both stories around it.  Exit status: 0 the same, 1 they\n"
        "differ, 2 bad input or usage.\n");
    if (!g_option_context_parse(oc, &argc, &argv, &gerr)) {
        fprintf(stderr, "qloop diff: %s\n", gerr->message);
        g_error_free(gerr);
        g_option_context_free(oc);
        return EXIT_USAGE;
    }
    g_option_context_free(oc);
    if (argc != 2 || !opt_variant || opt_context < 0 || opt_pct < 0 ||
        opt_seed < 0 || !replay_variant_ok(opt_variant)) {
        fprintf(stderr, "qloop diff: expected --variant NAME and one FILE.scn "
                "(see --help)\n");
        return EXIT_USAGE;
    }
    if (!g_file_test(argv[1], G_FILE_TEST_IS_REGULAR)) {
        fprintf(stderr, "%s:1: %s\n", argv[1], g_strerror(ENOENT));
        return EXIT_USAGE;
    }
    self = g_file_read_link("/proc/self/exe", NULL);
    if (!self) {
        fprintf(stderr, "qloop diff: cannot find this program's path\n");
        return EXIT_USAGE;
    }
    dir = g_path_get_dirname(self);
    vname = g_strdup_printf("qloop-%s", opt_variant);
    vbin = g_build_filename(dir, vname, NULL);
    bin = self;
    if (!g_file_test(vbin, G_FILE_TEST_IS_EXECUTABLE)) {
        fprintf(stderr, "qloop diff: %s not found beside %s\n", vname, self);
        status = EXIT_USAGE;
        goto out;
    }
    g_free(dir);
    dir = g_dir_make_tmp("qloop-diff-XXXXXX", NULL);
    a = run_one(bin, argv[1], dir, "core", verdict_a, sizeof(verdict_a));
    b = run_one(vbin, argv[1], dir, opt_variant, verdict_b, sizeof(verdict_b));
    na = g_strv_length(a);
    nb = g_strv_length(b);
    while (i < na && i < nb && !strcmp(event_text(a[i]), event_text(b[i]))) {
        i++;
    }
    if (i == na && i == nb) {
        printf("the same %u events on the core and on %s (seed %" G_GINT64_FORMAT
               ")\n", na ? na - 1 : 0, opt_variant, opt_seed);
        status = EXIT_PASS;
    } else {
        printf("first difference at event %u (seed %" G_GINT64_FORMAT "%s):\n",
               i, opt_seed, opt_pct ? ", pct" : "");
        from = i > (unsigned)opt_context ? i - (unsigned)opt_context : 0;
        show("production core (qloop)", a, i, from, i + (unsigned)opt_context + 1);
        show(vname, b, i, from, i + (unsigned)opt_context + 1);
        printf("core:    %s\n%s: %s\n", verdict_a, opt_variant, verdict_b);
        status = EXIT_VERDICT;
    }
    printf("traces: %s\n", dir);
    g_strfreev(a);
    g_strfreev(b);
out:
    g_free(dir);
    g_free(vname);
    g_free(vbin);
    g_free(self);
    return status;
}
