/*
 * harness/cmd-mutants.c — `qloop mutants [--budget S] [VARIANT...]`: how
 * fast each tool finds each variant of the core (docs/zoo.md).
 *
 * Method: the variants are variants/NAME.patch in the source tree (all,
 * or those named; --shard I/N keeps every N-th of them, from the I-th);
 * each patch's description says what it is on a "Zoo:" line — a bug (the
 * default, maybe with the memory model it needs), a seed-era design or a
 * barrier shown redundant.  Every tool runs on every variant with the same
 * budget (mutants-tools.c) and the table says, per tool, the runs and
 * seconds to the first detection; the fastest detecting run is shrunk and
 * its size shown.  Only bugs count: exit 0 iff every bug was detected by
 * some tool, 1 otherwise, 2 usage.  The last line sums it up.  -o DIR
 * keeps the replay files and a mutants.tsv of every cell.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cmd-fuzz.h"
#include "mutants.h"

static gdouble opt_budget = 10.0;
static gchar *opt_tools;
static gchar *opt_shard;
static gchar *opt_out;
static gboolean opt_no_shrink;
static gboolean opt_build_fuzz;
static gboolean opt_cpu_budget;
static gboolean opt_first;

static GOptionEntry mutants_entries[] = {
    { "budget", 'b', 0, G_OPTION_ARG_DOUBLE, &opt_budget,
      "seconds per tool and variant (default 10)", "S" },
    { "cpu-budget", 0, 0, G_OPTION_ARG_NONE, &opt_cpu_budget,
      "count the budget in CPU seconds of the tool's processes, not "
      "wall-clock seconds (a loaded machine then gives the same table, "
      "only later)", NULL },
    { "first", 0, 0, G_OPTION_ARG_NONE, &opt_first,
      "stop a variant's tools at its first detection (the rest show n/a): "
      "is each bug found at all, in the least time", NULL },
    { "tools", 't', 0, G_OPTION_ARG_STRING, &opt_tools,
      "comma-separated subset of random,pct,explore,weak,suite,spin,libfuzzer,afl "
      "(default: all)", "LIST" },
    { "shard", 0, 0, G_OPTION_ARG_STRING, &opt_shard,
      "run only shard I of N (1 <= I <= N): every N-th variant", "I/N" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &opt_out,
      "keep replay files, tool output and mutants.tsv in DIR", "DIR" },
    { "no-shrink", 0, 0, G_OPTION_ARG_NONE, &opt_no_shrink,
      "do not shrink the detecting runs", NULL },
    { "build-fuzz", 0, 0, G_OPTION_ARG_NONE, &opt_build_fuzz,
      "build a variant's missing libFuzzer/AFL++ target (fuzz/build.sh "
      "--variant NAME, ~1 min each, not counted in the budget)", NULL },
    G_OPTION_ENTRY_NULL,
};

static int usage_error(const char *what)
{
    fprintf(stderr, "qloop mutants: %s (see --help)\n", what);
    return EXIT_USAGE;
}

/* The "Zoo:" line of the patch's description; false if no such patch. */
static bool zoo_read(const char *src, const char *name, ZooVariant *v)
{
    char *path = g_strdup_printf("%s/variants/%s.patch", src, name);
    gchar *text = NULL;
    char *line;

    memset(v, 0, sizeof(*v));
    g_strlcpy(v->name, name, sizeof(v->name));
    if (!g_file_get_contents(path, &text, NULL, NULL)) {
        g_free(path);
        return false;
    }
    line = strstr(text, " * Zoo: ");
    if (line && line < strstr(text, "\n--- ")) {
        line += strlen(" * Zoo: ");
        if (g_str_has_prefix(line, "design")) {
            v->kind = ZOO_DESIGN;
        } else if (g_str_has_prefix(line, "redundant")) {
            v->kind = ZOO_REDUNDANT;
        }
        if (strstr(line, "--memory tso") &&
            strstr(line, "--memory tso") < strchr(line, '\n')) {
            g_strlcpy(v->memory, "tso", sizeof(v->memory));
        } else if (strstr(line, "--memory pso") &&
                   strstr(line, "--memory pso") < strchr(line, '\n')) {
            g_strlcpy(v->memory, "pso", sizeof(v->memory));
        }
    }
    g_free(text);
    g_free(path);
    return true;
}

static int compare_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every NAME.patch (or every *.scn) in dir, sorted; NULL-terminated. */
static char **dir_list(const char *dir, const char *suffix, bool full_path)
{
    GPtrArray *names = g_ptr_array_new();
    GDir *d = g_dir_open(dir, 0, NULL);
    const char *name;

    while (d && (name = g_dir_read_name(d))) {
        if (g_str_has_suffix(name, suffix)) {
            g_ptr_array_add(names, full_path
                ? g_build_filename(dir, name, NULL)
                : g_strndup(name, strlen(name) - strlen(suffix)));
        }
    }
    if (d) {
        g_dir_close(d);
    }
    qsort(names->pdata, names->len, sizeof(char *), compare_str);
    g_ptr_array_add(names, NULL);
    return (char **)g_ptr_array_free(names, false);
}

static char **scenario_list(const char *src)
{
    char *ex = g_build_filename(src, "docs", "examples", NULL);
    char *reg = g_build_filename(src, "corpus", "regressions", NULL);
    char **a = dir_list(ex, ".scn", true);
    char **b = dir_list(reg, ".scn", true);
    GPtrArray *all = g_ptr_array_new();

    for (char **s = a; *s; s++) {
        g_ptr_array_add(all, *s);
    }
    for (char **s = b; *s; s++) {
        g_ptr_array_add(all, *s);
    }
    g_ptr_array_add(all, NULL);
    g_free(a);
    g_free(b);
    g_free(ex);
    g_free(reg);
    return (char **)g_ptr_array_free(all, false);
}

static bool parse_tools(const char *list, bool on[TOOL_COUNT])
{
    char **parts;
    bool ok = true;

    for (int t = 0; t < TOOL_COUNT; t++) {
        on[t] = list == NULL;
    }
    if (!list) {
        return true;
    }
    parts = g_strsplit(list, ",", -1);
    for (char **p = parts; *p && ok; p++) {
        ok = false;
        for (int t = 0; t < TOOL_COUNT; t++) {
            if (!strcmp(*p, tool_name((ToolId)t))) {
                on[t] = ok = true;
            }
        }
    }
    g_strfreev(parts);
    return ok;
}

static const char *kind_name(ZooKind k)
{
    return k == ZOO_BUG ? "bug" : k == ZOO_DESIGN ? "design" : "redundant";
}

/* One cell: "runs/seconds", "-" (missed), "skip", "n/a", "err". */
static void cell(const ToolResult *r, char *buf, size_t len)
{
    switch (r->state) {
    case TOOL_DETECTED:
        if (r->runs) {
            g_snprintf(buf, len, "%llu/%.1fs", (unsigned long long)r->runs,
                       r->seconds);
        } else {
            g_snprintf(buf, len, "%.1fs", r->seconds);
        }
        break;
    case TOOL_MISSED:
        g_strlcpy(buf, "-", len);
        break;
    case TOOL_SKIPPED:
        g_strlcpy(buf, "skip", len);
        break;
    case TOOL_NOT_RUN:
        g_strlcpy(buf, "n/a", len);
        break;
    case TOOL_ERROR:
        g_strlcpy(buf, "err", len);
        break;
    }
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

double mutants_median(double *v, unsigned n)
{
    if (n == 0) {
        return 0;
    }
    qsort(v, n, sizeof(double), compare_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

typedef struct {
    unsigned bugs, detected, by_search;
    unsigned designs, redundant;
    double *search_s;           /* per bug: fastest search tool's time */
    unsigned tool_hits[TOOL_COUNT];
    double *tool_s[TOOL_COUNT];
    GString *missed;
} Totals;

static void print_header(const bool on[TOOL_COUNT])
{
    printf("%-26s %-9s", "variant", "kind");
    for (int t = 0; t < TOOL_COUNT; t++) {
        if (on[t]) {
            printf(" %-12s", tool_name((ToolId)t));
        }
    }
    printf(" %s\n", "shrunk");
}

/* Run every tool on v, print its row, add it to the totals and the tsv. */
static void mutants_variant(const MutantsCtx *c, const ZooVariant *v,
                            const bool on[TOOL_COUNT], Totals *tot, FILE *tsv)
{
    ToolResult r[TOOL_COUNT];
    int best = -1, best_search = -1;
    char size[64] = "-";

    printf("%-26s %-9s", v->name, kind_name(v->kind));
    fflush(stdout);
    for (int t = 0; t < TOOL_COUNT; t++) {
        char buf[32];

        if (!on[t]) {
            continue;
        }
        if (opt_first && best >= 0) {
            memset(&r[t], 0, sizeof(r[t]));
            r[t].state = TOOL_NOT_RUN;
            g_snprintf(r[t].note, sizeof(r[t].note),
                       "not run (--first): detected by %s",
                       tool_name((ToolId)best));
        } else {
            tool_run(c, v, (ToolId)t, &r[t]);
        }
        cell(&r[t], buf, sizeof(buf));
        printf(" %-12s", buf);
        fflush(stdout);
        if (r[t].state != TOOL_DETECTED) {
            continue;
        }
        if (best < 0 || r[t].seconds < r[best].seconds) {
            best = t;
        }
        if (tool_is_search((ToolId)t) &&
            (best_search < 0 || r[t].seconds < r[best_search].seconds)) {
            best_search = t;
        }
        if (v->kind == ZOO_BUG) {
            tot->tool_s[t][tot->tool_hits[t]++] = r[t].seconds;
        }
    }
    if (best_search >= 0 && !opt_no_shrink) {
        mutants_shrink(c, v, r[best_search].replay, size, sizeof(size));
    }
    printf(" %s\n", size);
    for (int t = 0; t < TOOL_COUNT; t++) {
        if (on[t] && tsv) {
            fprintf(tsv, "%s\t%s\t%s\t%s\t%llu\t%.3f\t%s\t%s\t%s\n", v->name,
                    kind_name(v->kind), tool_name((ToolId)t),
                    r[t].state == TOOL_DETECTED ? "detected"
                    : r[t].state == TOOL_MISSED ? "missed"
                    : r[t].state == TOOL_SKIPPED ? "skipped"
                    : r[t].state == TOOL_NOT_RUN ? "n/a" : "error",
                    (unsigned long long)r[t].runs, r[t].seconds, r[t].note,
                    r[t].replay, t == best_search ? size : "");
        }
        if (on[t] && (r[t].state == TOOL_SKIPPED || r[t].state == TOOL_ERROR) &&
            v->kind == ZOO_BUG) {
            printf("  %s %s: %s\n", tool_name((ToolId)t),
                   r[t].state == TOOL_SKIPPED ? "skipped" : "error", r[t].note);
        }
    }
    if (v->kind == ZOO_DESIGN) {
        tot->designs++;
    } else if (v->kind == ZOO_REDUNDANT) {
        tot->redundant++;
    } else {
        tot->bugs++;
        if (best >= 0) {
            tot->detected++;
        } else {
            g_string_append_printf(tot->missed, " %s", v->name);
        }
        if (best_search >= 0) {
            tot->search_s[tot->by_search++] = r[best_search].seconds;
        }
    }
}


void mutants_print_tool(const char *tool, unsigned hits, unsigned bugs,
                        double median_s)
{
    printf("%-10s %u/%u bugs, median %.1f s to detect\n", tool, hits, bugs,
           median_s);
}

void mutants_print_summary(unsigned detected, unsigned bugs, bool searched,
                           unsigned by_search, double median_s, double max_s,
                           const char *missed, unsigned designs,
                           unsigned redundant)
{
    printf("mutants: %u/%u bug variants detected ", detected, bugs);
    if (searched) {
        printf("(%u by random/pct/explore/weak, median %.1f s, max %.1f s)",
               by_search, median_s, max_s);
    } else {
        printf("(no simulation tool run)");
    }
    printf("%s%s; %u designs and %u redundant barriers not counted\n",
           *missed ? "; missed:" : "", missed, designs, redundant);
}

static void print_totals(const bool on[TOOL_COUNT], Totals *tot)
{
    bool searched = false;

    for (int t = 0; t < TOOL_COUNT; t++) {
        if (on[t]) {
            unsigned hits = tot->tool_hits[t];

            mutants_print_tool(tool_name((ToolId)t), hits, tot->bugs,
                               mutants_median(tot->tool_s[t], hits));
            searched |= tool_is_search((ToolId)t);
        }
    }
    /* mutants_median() sorts: the slowest of the fastest detections is
     * last. */
    double median_s = mutants_median(tot->search_s, tot->by_search);
    double max_s = tot->by_search ? tot->search_s[tot->by_search - 1] : 0;

    mutants_print_summary(tot->detected, tot->bugs, searched, tot->by_search,
                          median_s, max_s, tot->missed->str, tot->designs,
                          tot->redundant);
}

/* The variants to run, each checked (patch and qloop-NAME), or NULL. */
static char **variant_names(MutantsCtx *c, int argc, char **argv)
{
    char *self = g_file_read_link("/proc/self/exe", NULL);
    char **names;

    c->bin_dir = self ? g_path_get_dirname(self) : g_strdup(".");
    g_free(self);
    if (argc > 1) {
        names = g_new0(char *, argc);
        for (int i = 1; i < argc; i++) {
            names[i - 1] = g_strdup(argv[i]);
        }
    } else {
        char *vdir = g_build_filename(c->src, "variants", NULL);

        names = dir_list(vdir, ".patch", false);
        g_free(vdir);
    }
    for (char **n = names; *n; n++) {
        ZooVariant v;
        char *bin = g_strdup_printf("%s/qloop-%s", c->bin_dir, *n);
        bool built = g_file_test(bin, G_FILE_TEST_IS_EXECUTABLE);

        g_free(bin);
        if (!zoo_read(c->src, *n, &v) || !built) {
            fprintf(stderr, "%s/variants/%s.patch:1: %s\n", c->src, *n,
                    !built && zoo_read(c->src, *n, &v)
                        ? "variant not built: no qloop-NAME beside qloop"
                        : "no such variant");
            g_strfreev(names);
            g_free((char *)c->bin_dir);
            c->bin_dir = NULL;
            return NULL;
        }
    }
    return names;
}

int cmd_mutants(int argc, char **argv)
{
    GOptionContext *oc = g_option_context_new("[VARIANT...] - every tool "
                                              "against the variants of the core");
    GError *gerr = NULL;
    bool on[TOOL_COUNT];
    unsigned shard_i = 1, shard_n = 1, index = 0;
    MutantsCtx c = { 0 };
    Totals tot = { 0 };
    char **names;
    FILE *tsv = NULL;
    int status;

    g_option_context_add_main_entries(oc, mutants_entries, NULL);
    g_option_context_set_description(oc,
        "Runs every tool on every variant of the core (variants/*.patch, or\n"
        "those named) with the same budget and prints, per tool, runs and\n"
        "seconds to the first detection ('-' none, 'skip' the tool is not\n"
        "there, 'n/a' nothing to run) and the size of the shrunk replay.\n"
        "Seconds are wall-clock, or CPU seconds with --cpu-budget.\n"
        "Exit status: 0 every bug variant was detected, 1 some was not,\n"
        "2 bad input or usage.  docs/zoo.md has the figures.\n");
    if (!g_option_context_parse(oc, &argc, &argv, &gerr)) {
        fprintf(stderr, "qloop mutants: %s\n", gerr->message);
        g_error_free(gerr);
        g_option_context_free(oc);
        return EXIT_USAGE;
    }
    g_option_context_free(oc);
    if (!(opt_budget > 0)) {
        return usage_error("--budget must be > 0");
    }
    if (!parse_tools(opt_tools, on)) {
        return usage_error("unknown tool in --tools");
    }
    if (opt_shard && !cli_parse_shard(opt_shard, &shard_i, &shard_n)) {
        return usage_error("--shard is I/N with 1 <= I <= N");
    }
    c.src = fuzz_source_dir();
    names = variant_names(&c, argc, argv);
    if (!names) {
        return EXIT_USAGE;
    }
    if (opt_out && g_mkdir_with_parents(opt_out, 0755) != 0) {
        fprintf(stderr, "qloop mutants: cannot create %s: %s\n", opt_out,
                g_strerror(errno));
        g_strfreev(names);
        return EXIT_USAGE;
    }
    if (opt_out) {
        char *tsv_path = g_build_filename(opt_out, "mutants.tsv", NULL);

        tsv = fopen(tsv_path, "w");
        if (!tsv) {
            fprintf(stderr, "qloop mutants: cannot write %s: %s\n", tsv_path,
                    g_strerror(errno));
            g_free(tsv_path);
            g_strfreev(names);
            return EXIT_USAGE;
        }
        g_free(tsv_path);
        fprintf(tsv, "variant\tkind\ttool\tstate\truns\tseconds\tnote\t"
                "replay\tshrunk\n");
    }
    c.out_dir = opt_out ? g_strdup(opt_out)
                        : g_dir_make_tmp("qloop-mutants-XXXXXX", NULL);
    c.budget_s = opt_budget;
    c.cpu_budget = opt_cpu_budget;
    c.build_fuzz = opt_build_fuzz;
    c.scenarios = scenario_list(c.src);
    for (int t = 0; t < TOOL_COUNT; t++) {
        tot.tool_s[t] = g_new0(double, g_strv_length(names) + 1);
    }
    tot.search_s = g_new0(double, g_strv_length(names) + 1);
    tot.missed = g_string_new("");
    printf("budget %.0f %s per tool%s; %u scenarios; shard %u/%u; output %s\n",
           c.budget_s, c.cpu_budget ? "CPU s" : "s",
           opt_first ? ", each variant until its first detection" : "",
           g_strv_length(c.scenarios), shard_i, shard_n, c.out_dir);
    print_header(on);
    for (char **n = names; *n; n++, index++) {
        ZooVariant v;

        if (index % shard_n != shard_i - 1) {
            continue;
        }
        zoo_read(c.src, *n, &v);
        mutants_variant(&c, &v, on, &tot, tsv);
    }
    if (tsv) {
        fclose(tsv);
    }
    print_totals(on, &tot);
    status = tot.detected == tot.bugs ? EXIT_PASS : EXIT_VERDICT;
    for (int t = 0; t < TOOL_COUNT; t++) {
        g_free(tot.tool_s[t]);
    }
    g_free(tot.search_s);
    g_string_free(tot.missed, true);
    g_free((char *)c.bin_dir);
    g_free((char *)c.out_dir);
    g_strfreev(names);
    g_strfreev(c.scenarios);
    return status;
}
