/*
 * harness/cmd-merge.c — `qloop merge [-o OUT] DIR...`: one table and one
 * set of replay files from the shards of a sweep.
 *
 * Method: each DIR is one shard's output directory — `qloop mutants -o
 * DIR`, or the directory a sharded `qloop run` / `explore` wrote its
 * replay file into.  Every *.replay file is copied into OUT once (files
 * with the same bytes are one finding; a name taken by another file gets
 * the shard's directory name in front).  Every DIR/mutants.tsv row is
 * kept, its replay path pointing into OUT, in OUT/mutants.tsv; the
 * variants' table is printed again with the per-tool figures and the
 * summary line `qloop mutants` prints.  Exit status: mutants rows — 0
 * iff every bug variant was detected in some shard; only replay files —
 * 0 iff there is none (no failing run); 2 usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "mutants.h"

static gchar *opt_out;

static GOptionEntry merge_entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &opt_out,
      "directory for the merged replay files and mutants.tsv "
      "(default: merged)", "OUT" },
    G_OPTION_ENTRY_NULL,
};

typedef struct {
    GHashTable *by_content;     /* replay bytes -> path in OUT */
    GHashTable *names;          /* basenames taken in OUT */
    GPtrArray *replays;         /* paths in OUT, in order */
    GPtrArray *rows;            /* mutants.tsv rows (gchar **), replay fixed */
    GHashTable *cells;          /* "variant\ttool" already in rows */
    const char *out;
} Merge;

/* Copy one replay file into OUT unless the same bytes are there; returns
 * its path in OUT (owned by m), or NULL if it cannot be read. */
static const char *merge_replay(Merge *m, const char *dir, const char *path)
{
    gchar *text = NULL;
    gsize len;
    const char *known;
    char *base, *dest;

    if (!g_file_get_contents(path, &text, &len, NULL)) {
        return NULL;
    }
    known = g_hash_table_lookup(m->by_content, text);
    if (known) {
        g_free(text);
        return known;
    }
    base = g_path_get_basename(path);
    if (g_hash_table_contains(m->names, base)) {
        char *shard = g_path_get_basename(dir);
        char *both = g_strdup_printf("%s-%s", shard, base);

        g_free(shard);
        g_free(base);
        base = both;
    }
    dest = g_build_filename(m->out, base, NULL);
    if (!g_file_set_contents(dest, text, (gssize)len, NULL)) {
        fprintf(stderr, "qloop merge: cannot write %s\n", dest);
        g_free(dest);
        g_free(base);
        g_free(text);
        return NULL;
    }
    g_hash_table_add(m->names, base);
    g_hash_table_insert(m->by_content, text, dest);
    g_ptr_array_add(m->replays, dest);
    return dest;
}

/* DIR/mutants.tsv: false (with one line on stderr) if it is malformed. */
static bool merge_tsv(Merge *m, const char *dir, const char *tsv)
{
    gchar *text = NULL;
    gchar **lines;
    bool ok = true;

    if (!g_file_get_contents(tsv, &text, NULL, NULL)) {
        fprintf(stderr, "%s:1: cannot read\n", tsv);
        return false;
    }
    lines = g_strsplit(text, "\n", -1);
    for (unsigned n = 1; lines[n] && ok; n++) {
        gchar **f;

        if (!lines[n][0]) {
            continue;
        }
        f = g_strsplit(lines[n], "\t", -1);
        if (g_strv_length(f) != 9) {
            fprintf(stderr, "%s:%u: expected 9 tab-separated fields\n", tsv,
                    n + 1);
            g_strfreev(f);
            ok = false;
            break;
        }
        /* A shard given twice, or two shards that ran the same variant:
         * the first row of a variant and tool is kept. */
        {
            char *cell = g_strdup_printf("%s\t%s", f[0], f[2]);

            if (!g_hash_table_add(m->cells, cell)) {
                g_strfreev(f);
                continue;
            }
        }
        if (f[7][0]) {
            const char *copy = merge_replay(m, dir, f[7]);

            g_free(f[7]);
            f[7] = g_strdup(copy ? copy : "");
        }
        g_ptr_array_add(m->rows, f);
    }
    g_strfreev(lines);
    g_free(text);
    return ok;
}

static bool is_search(const char *tool)
{
    return !strcmp(tool, "random") || !strcmp(tool, "pct") ||
           !strcmp(tool, "explore") || !strcmp(tool, "weak");
}

/* One tool's detection times of bug variants, for its per-tool line. */
typedef struct {
    char *tool;
    GArray *seconds;
} ToolSeconds;

static void tool_seconds_free(gpointer p)
{
    ToolSeconds *ts = p;

    g_free(ts->tool);
    g_array_free(ts->seconds, true);
    g_free(ts);
}

/* The times of TOOL in TOOLS, added at the end if it is new. */
static GArray *tool_seconds(GPtrArray *tools, const char *tool)
{
    ToolSeconds *ts;

    for (unsigned t = 0; t < tools->len; t++) {
        ts = g_ptr_array_index(tools, t);
        if (!strcmp(ts->tool, tool)) {
            return ts->seconds;
        }
    }
    ts = g_new0(ToolSeconds, 1);
    ts->tool = g_strdup(tool);
    ts->seconds = g_array_new(false, false, sizeof(double));
    g_ptr_array_add(tools, ts);
    return ts->seconds;
}

/* The mutants table again, from the rows (grouped by variant, in order). */
static int merge_print_mutants(Merge *m)
{
    unsigned bugs = 0, detected = 0, by_search = 0, designs = 0, redundant = 0;
    bool searched = false;
    GArray *search_s;
    GString *missed;
    GPtrArray *tools;
    FILE *tsv;
    char *path = g_build_filename(m->out, "mutants.tsv", NULL);

    tsv = fopen(path, "w");
    if (!tsv) {
        fprintf(stderr, "qloop merge: cannot write %s: %s\n", path,
                g_strerror(errno));
        g_free(path);
        return EXIT_USAGE;
    }
    /* The whole file first: a reader of stdout that stops early (`| head`)
     * must not cut OUT/mutants.tsv short. */
    fprintf(tsv, "variant\tkind\ttool\tstate\truns\tseconds\tnote\treplay\tshrunk\n");
    for (unsigned i = 0; i < m->rows->len; i++) {
        gchar **f = g_ptr_array_index(m->rows, i);

        fprintf(tsv, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", f[0], f[1],
                f[2], f[3], f[4], f[5], f[6], f[7], f[8]);
    }
    if (fclose(tsv) != 0) {
        fprintf(stderr, "qloop merge: cannot write %s: %s\n", path,
                g_strerror(errno));
        g_free(path);
        return EXIT_USAGE;
    }
    search_s = g_array_new(false, false, sizeof(double));
    missed = g_string_new("");
    tools = g_ptr_array_new_with_free_func(tool_seconds_free);
    printf("%-26s %-9s %-10s %-9s %10s %8s  %s\n", "variant", "kind", "tool",
           "state", "runs", "seconds", "shrunk");
    for (unsigned i = 0; i < m->rows->len; ) {
        gchar **first = g_ptr_array_index(m->rows, i);
        bool found = false;
        double best_search = -1;

        for (; i < m->rows->len; i++) {
            gchar **f = g_ptr_array_index(m->rows, i);

            if (strcmp(f[0], first[0]) != 0) {
                break;
            }
            printf("%-26s %-9s %-10s %-9s %10s %8s  %s\n", f[0], f[1], f[2],
                   f[3], f[4], f[5], f[8]);
            searched |= is_search(f[2]);
            tool_seconds(tools, f[2]);
            if (!strcmp(f[3], "detected")) {
                double s = g_ascii_strtod(f[5], NULL);

                found = true;
                if (!strcmp(f[1], "bug")) {
                    g_array_append_val(tool_seconds(tools, f[2]), s);
                }
                if (is_search(f[2]) && (best_search < 0 || s < best_search)) {
                    best_search = s;
                }
            }
        }
        if (!strcmp(first[1], "design")) {
            designs++;
        } else if (!strcmp(first[1], "redundant")) {
            redundant++;
        } else {
            bugs++;
            detected += found;
            if (!found) {
                g_string_append_printf(missed, " %s", first[0]);
            }
            if (best_search >= 0) {
                by_search++;
                g_array_append_val(search_s, best_search);
            }
        }
    }
    /* Per tool, as `qloop mutants` prints it, tools in table order. */
    for (unsigned t = 0; t < tools->len; t++) {
        ToolSeconds *ts = g_ptr_array_index(tools, t);

        mutants_print_tool(ts->tool, ts->seconds->len, bugs,
                           mutants_median((double *)(void *)ts->seconds->data,
                                          ts->seconds->len));
    }
    /* mutants_median() sorts: the slowest of the fastest detections is
     * last. */
    double median_s = mutants_median((double *)(void *)search_s->data,
                                     search_s->len);
    double max_s = search_s->len
                   ? g_array_index(search_s, double, search_s->len - 1) : 0;

    mutants_print_summary(detected, bugs, searched, by_search, median_s, max_s,
                          missed->str, designs, redundant);
    g_array_free(search_s, true);
    g_ptr_array_free(tools, true);
    g_string_free(missed, true);
    g_free(path);
    return detected == bugs ? EXIT_PASS : EXIT_VERDICT;
}

/* The header lines of a replay file: "verdict X", "found ...". */
static void replay_header(const char *path, const char *key, char *buf,
                          size_t len)
{
    gchar *text = NULL;

    g_strlcpy(buf, "?", len);
    if (g_file_get_contents(path, &text, NULL, NULL)) {
        gchar **lines = g_strsplit(text, "\n", 16);

        for (gchar **l = lines; *l; l++) {
            if (g_str_has_prefix(*l, key) && (*l)[strlen(key)] == ' ') {
                g_strlcpy(buf, *l + strlen(key) + 1, len);
                break;
            }
        }
        g_strfreev(lines);
    }
    g_free(text);
}

static gint compare_path(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void merge_dir(Merge *m, const char *dir)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    const char *name;

    while (d && (name = g_dir_read_name(d))) {
        if (g_str_has_suffix(name, ".replay")) {
            g_ptr_array_add(names, g_build_filename(dir, name, NULL));
        }
    }
    if (d) {
        g_dir_close(d);
    }
    /* Directory order is the file system's: sort, for the same result on
     * every machine. */
    g_ptr_array_sort(names, compare_path);
    for (unsigned i = 0; i < names->len; i++) {
        merge_replay(m, dir, g_ptr_array_index(names, i));
    }
    g_ptr_array_free(names, true);
}

int cmd_merge(int argc, char **argv)
{
    GOptionContext *oc = g_option_context_new("DIR... - one table and one "
                                              "set of replay files from shards");
    GError *gerr = NULL;
    Merge m = { 0 };
    int status = EXIT_PASS;

    g_option_context_add_main_entries(oc, merge_entries, NULL);
    g_option_context_set_description(oc,
        "Each DIR is one shard's output: qloop mutants -o DIR, or where a\n"
        "sharded run or explore wrote its replay file.  Exit status: with\n"
        "mutants tables, 0 iff every bug variant was detected in some\n"
        "shard; with replay files only, 0 iff there are none; 2 usage.\n");
    if (!g_option_context_parse(oc, &argc, &argv, &gerr)) {
        fprintf(stderr, "qloop merge: %s\n", gerr->message);
        g_error_free(gerr);
        g_option_context_free(oc);
        return EXIT_USAGE;
    }
    g_option_context_free(oc);
    if (argc < 2) {
        fprintf(stderr, "qloop merge: expected at least one DIR (see --help)\n");
        return EXIT_USAGE;
    }
    for (int i = 1; i < argc; i++) {
        if (!g_file_test(argv[i], G_FILE_TEST_IS_DIR)) {
            fprintf(stderr, "%s:1: not a directory\n", argv[i]);
            return EXIT_USAGE;
        }
    }
    m.out = opt_out ? opt_out : "merged";
    if (g_mkdir_with_parents(m.out, 0755) != 0) {
        fprintf(stderr, "qloop merge: cannot create %s: %s\n", m.out,
                g_strerror(errno));
        return EXIT_USAGE;
    }
    m.by_content = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                         g_free);
    m.names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    m.replays = g_ptr_array_new();
    m.rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
    m.cells = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (int i = 1; i < argc && status == EXIT_PASS; i++) {
        char *tsv = g_build_filename(argv[i], "mutants.tsv", NULL);

        if (g_file_test(tsv, G_FILE_TEST_EXISTS) && !merge_tsv(&m, argv[i], tsv)) {
            status = EXIT_USAGE;
        }
        g_free(tsv);
        merge_dir(&m, argv[i]);
    }
    if (status == EXIT_PASS && m.rows->len > 0) {
        status = merge_print_mutants(&m);
    } else if (status == EXIT_PASS) {
        for (unsigned i = 0; i < m.replays->len; i++) {
            const char *path = g_ptr_array_index(m.replays, i);
            char verdict[64], found[160], variant[64];

            replay_header(path, "verdict", verdict, sizeof(verdict));
            replay_header(path, "found", found, sizeof(found));
            replay_header(path, "variant", variant, sizeof(variant));
            printf("%-40s %-10s %-20s %s\n", path, verdict,
                   strcmp(variant, "?") ? variant : "(production)", found);
        }
        printf("merge: %u shard directories, %u distinct failing runs in %s\n",
               (unsigned)(argc - 1), m.replays->len, m.out);
        status = m.replays->len ? EXIT_VERDICT : EXIT_PASS;
    }
    g_hash_table_destroy(m.by_content);
    g_hash_table_destroy(m.names);
    g_ptr_array_free(m.replays, true);
    g_ptr_array_free(m.rows, true);
    g_hash_table_destroy(m.cells);
    return status;
}
