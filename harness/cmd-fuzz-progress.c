/*
 * harness/cmd-fuzz-progress.c — the figures of `qloop fuzz`'s progress
 * line: executions counted by the target, corpus and coverage read from
 * the engines' own files, and an exec/s taken from real deltas.
 *
 * Method: executions come from the counter the targets keep
 * (fuzz/exec-count.h): a file of one uint64_t mapped shared by qloop and
 * by every target process, so the count is live to the second for both
 * engines and any number of jobs.  The engines' files are the fallback and
 * the source of everything else: libFuzzer's last status line; AFL++'s
 * queue/ directories (live), plot_data (every 5 s: edges_found) and
 * fuzzer_stats (every 60 s and at exit: execs_done, stability).  The rate
 * is the count's change over the last ~5 s, never a counter divided by a
 * start-up instant.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cmd-fuzz.h"

/* ---- the execution counter ------------------------------------------------------ */

uint64_t *fuzz_exec_counter_create(const char *path)
{
    uint64_t zero = 0;
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    void *p = MAP_FAILED;

    if (fd >= 0 && write(fd, &zero, sizeof(zero)) == (ssize_t)sizeof(zero)) {
        p = mmap(NULL, sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED,
                 fd, 0);
    }
    if (p == MAP_FAILED) {
        fprintf(stderr, "%s: cannot create the execution counter: %s\n",
                path, strerror(errno));
    }
    if (fd >= 0) {
        close(fd);  /* the mapping keeps the file; nothing is lost if it fails */
    }
    return p == MAP_FAILED ? NULL : (uint64_t *)p;
}

uint64_t fuzz_exec_counter_read(const uint64_t *counter)
{
    return counter ? __atomic_load_n(counter, __ATOMIC_RELAXED) : 0;
}

void fuzz_exec_counter_close(uint64_t *counter)
{
    if (counter) {
        int rc = munmap(counter, sizeof(uint64_t));

        g_assert(rc == 0);      /* our own mapping of one page: cannot fail */
    }
}

/* ---- libFuzzer ------------------------------------------------------------------ */

static uint64_t after(const char *line, const char *key)
{
    const char *p = strstr(line, key);

    return p ? g_ascii_strtoull(p + strlen(key), NULL, 10) : 0;
}

void fuzz_figures_libfuzzer(const char *log, EngineFigures *f)
{
    gchar *text = NULL;
    char *line = NULL;

    f->stability_pct = -1;
    if (!g_file_get_contents(log, &text, NULL, NULL)) {
        return;     /* not written yet */
    }
    /* "#N" status lines, not "###### Recommended dictionary." */
    for (char *s = text; (s = strstr(s, "\n#")) != NULL; s++) {
        if (g_ascii_isdigit(s[2])) {
            line = s + 1;
        }
    }
    if (line) {
        line[strcspn(line, "\n")] = '\0';
        f->execs = g_ascii_strtoull(line + 1, NULL, 10);
        f->coverage = after(line, "cov: ");
        f->corpus = after(line, "corp: ");
    }
    g_free(text);
}

/* ---- AFL++ ---------------------------------------------------------------------- */

static double stat_field(const char *text, const char *key, double none)
{
    gchar *pattern = g_strdup_printf("\n%s", key);
    const char *p = strstr(text, pattern);
    double v = none;

    if (p && (p = strchr(p, ':')) != NULL) {
        v = g_ascii_strtod(p + 1, NULL);
    }
    g_free(pattern);
    return v;
}

static unsigned count_queue(const char *instance_dir)
{
    gchar *queue = g_build_filename(instance_dir, "queue", NULL);
    GDir *dir = g_dir_open(queue, 0, NULL);
    const char *name;
    unsigned n = 0;

    while (dir && (name = g_dir_read_name(dir))) {
        n += g_str_has_prefix(name, "id:");
    }
    if (dir) {
        g_dir_close(dir);
    }
    g_free(queue);
    return n;
}

/* plot_data's last row; edges_found is its last column in AFL++ 4.x
 * ("# relative_time, ..., total_execs, edges_found"). */
static uint64_t plot_edges(const char *instance_dir)
{
    gchar *path = g_build_filename(instance_dir, "plot_data", NULL);
    gchar *text = NULL;
    uint64_t edges = 0;

    if (g_file_get_contents(path, &text, NULL, NULL)) {
        gchar *end = text + strlen(text);
        gchar *comma;

        while (end > text && (end[-1] == '\n' || end[-1] == ' ')) {
            *--end = '\0';
        }
        comma = strrchr(text, ',');
        if (comma && !strchr(comma, '#')) {
            edges = g_ascii_strtoull(comma + 1, NULL, 10);
        }
    }
    g_free(text);
    g_free(path);
    return edges;
}

void fuzz_figures_afl(const char *sync_dir, EngineFigures *f)
{
    GDir *dir = g_dir_open(sync_dir, 0, NULL);
    const char *name;

    f->stability_pct = -1;
    while (dir && (name = g_dir_read_name(dir))) {
        gchar *inst = g_build_filename(sync_dir, name, NULL);
        gchar *stats = g_build_filename(inst, "fuzzer_stats", NULL);
        gchar *text = NULL;

        f->corpus = MAX(f->corpus, count_queue(inst));
        f->coverage = MAX(f->coverage, plot_edges(inst));
        if (g_file_get_contents(stats, &text, NULL, NULL)) {
            gchar *t = g_strconcat("\n", text, NULL);
            double stab = stat_field(t, "stability", -1);

            f->execs += (uint64_t)stat_field(t, "execs_done", 0);
            f->coverage = MAX(f->coverage,
                              (uint64_t)stat_field(t, "edges_found", 0));
            if (stab >= 0 && (f->stability_pct < 0 || stab < f->stability_pct)) {
                f->stability_pct = stab;
            }
            g_free(t);
        }
        g_free(text);
        g_free(stats);
        g_free(inst);
    }
    if (dir) {
        g_dir_close(dir);
    }
}

/* ---- rate ----------------------------------------------------------------------- */

double rate_window_push(RateWindow *w, double t_s, uint64_t execs)
{
    unsigned oldest;
    double dt;

    g_assert(w->next < RATE_WINDOW_SAMPLES);
    w->t_s[w->next] = t_s;
    w->execs[w->next] = execs;
    w->next = (w->next + 1) % RATE_WINDOW_SAMPLES;
    if (w->count < RATE_WINDOW_SAMPLES) {
        w->count++;
    }
    /* The oldest sample still held: the slot about to be overwritten once
     * the window is full, slot 0 before. */
    oldest = w->count < RATE_WINDOW_SAMPLES ? 0 : w->next;
    dt = t_s - w->t_s[oldest];
    if (w->count < 2 || dt <= 0 || execs < w->execs[oldest]) {
        return 0;   /* one sample, or a counter that restarted: no rate yet */
    }
    return (double)(execs - w->execs[oldest]) / dt;
}

/* ---- seeds AFL++'s dry run rejected ----------------------------------------------- */

unsigned fuzz_afl_seed_findings(const char *log, const char *instance_dir,
                                GPtrArray *out)
{
    static const char *const verdicts[] = { "' results in a crash",
                                            "' results in a timeout" };
    static const char lead[] = "Test case '";
    gchar *text = NULL;
    unsigned n = 0;

    if (!g_file_get_contents(log, &text, NULL, NULL)) {
        return 0;
    }
    for (char *line = text; line && *line; ) {
        char *nl = strchr(line, '\n');
        char *name;

        if (nl) {
            *nl = '\0';
        }
        name = strstr(line, lead);
        name = name ? name + strlen(lead) : NULL;
        for (size_t v = 0; name && v < G_N_ELEMENTS(verdicts); v++) {
            char *end = strstr(name, verdicts[v]);

            /* A queue entry's name never holds a quote or a slash. */
            if (end && end > name && !memchr(name, '/', (size_t)(end - name))) {
                gchar *file = g_strndup(name, (gsize)(end - name));
                gchar *path = g_build_filename(instance_dir, "queue", file,
                                               NULL);

                if (g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
                    n++;
                    if (out) {
                        g_ptr_array_add(out, path);
                        path = NULL;
                    }
                }
                g_free(path);
                g_free(file);
                break;
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    g_free(text);
    return n;
}
