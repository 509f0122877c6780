/*
 * tests/test-model-outcomes.c — C core and Promela model reach the same
 * outcomes for one small scenario.
 *
 * Usage: test-model-outcomes SCENARIO.scn MODEL.pml PREEMPTIONS
 *
 * Method: the C side runs the scenario under the simulator's depth-first
 * enumerator (every schedule within PREEMPTIONS preemptions) and records
 * each run's outcome: the home thread's poll_nb ("P") and poll ("W")
 * operations and the BHs run ("A", "B"...), in trace order, plus "hang"
 * for a hang verdict.  The model side enumerates the model's outcomes (its
 * out[] array, P=9, W=8, A=1, B=2...) with spin by exclusion: known.h excludes what was found,
 * pan either passes (no other outcome) or its trail shows a new one.  The
 * two sets must be equal; both counts are printed, and a disagreement
 * names the first outcome one side has and the other lacks.  Exit 0
 * equal, 1 not, 2 usage, 77 no spin.
 *
 * Spin explores every interleaving of the model; the C explorer, at most
 * PREEMPTIONS preemptions past each run's schedule.  The test uses a
 * bound high enough for this scenario's space to be exhausted (the
 * enumerator reports it), so both sides are complete.
 */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "os.h"
#include "runner.h"
#include "scn-parse.h"

#define OUTCOMES_MAX 64
#define TOKENS_MAX 8
#define EXIT_SKIP 77

/* "P A P B" from the trace of the run just made. */
static gchar *c_outcome(const RunResult *r)
{
    size_t n;
    const SimEvent *ev = sim_trace_events(&n);
    GString *s = g_string_new("");

    for (size_t i = 0; i < n; i++) {
        const char *tok = NULL;

        if (ev[i].kind == SIM_EV_USER && ev[i].thread == 1 && ev[i].name &&
            g_str_has_prefix(ev[i].name, "poll_nb")) {
            tok = "P";
        } else if (ev[i].kind == SIM_EV_USER && ev[i].thread == 1 &&
                   ev[i].name && !strcmp(ev[i].name, "poll")) {
            tok = "W";
        } else if (ev[i].kind == QOS_EV_BH_RUN && ev[i].name) {
            tok = ev[i].name;
        }
        if (tok) {
            g_string_append_printf(s, "%s%s", s->len ? " " : "", tok);
        }
    }
    if (r->verdict == SIM_HANG) {
        g_string_append(s, " hang");
    } else if (r->verdict != SIM_OK) {
        g_string_append_printf(s, " %s", sim_verdict_name(r->verdict));
    }
    return g_string_free(s, FALSE);
}

static GHashTable *c_outcomes(const Scenario *s, unsigned bound,
                              uint64_t *runs, bool *complete)
{
    GHashTable *set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                            NULL);
    SimConfig config, run;

    sim_config_default(&config);
    config.preemption_bound = bound;
    config.faults = 0;
    sim_dfs_begin(&config);
    *runs = 0;
    *complete = false;
    while (*runs < 100000) {
        RunResult r;

        if (!sim_dfs_next_run(&run)) {
            *complete = true;
            break;
        }
        run.trace = true;
        runner_run(s, &run, true, &r);
        g_hash_table_add(set, c_outcome(&r));
        run_result_clear(&r);
        (*runs)++;
    }
    return set;
}

static bool run(const char *dir, const char *cmd, gchar **out)
{
    gchar *full = g_strdup_printf("cd '%s' && %s", dir, cmd);
    gchar *argv[] = { (gchar *)"sh", (gchar *)"-c", full, NULL };
    gint status = -1;
    bool ok = g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH |
                           G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, out, NULL,
                           &status, NULL) &&
              g_spawn_check_wait_status(status, NULL);

    g_free(full);
    return ok;
}

/* out[] and nout from `spin -t -g`'s final globals, as tokens. */
static gchar *model_outcome(const char *text, bool hang)
{
    static const char *const names[] = { "?", "A", "B", "C", "D" };
    int out[TOKENS_MAX] = { 0 }, nout = 0;
    gchar **lines = g_strsplit(text, "\n", -1);
    GString *s = g_string_new("");

    for (unsigned i = 0; lines[i]; i++) {
        int k, v;

        if (sscanf(lines[i], " out[%d] = %d", &k, &v) == 2 && k >= 0 &&
            k < TOKENS_MAX) {
            out[k] = v;
        } else if (sscanf(lines[i], " nout = %d", &v) == 1) {
            nout = v;
        }
    }
    g_strfreev(lines);
    for (int i = 0; i < nout && i < TOKENS_MAX; i++) {
        const char *tok = out[i] == 9 ? "P" : out[i] == 8 ? "W" :
                          out[i] > 0 && out[i] < 5 ? names[out[i]] : "?";

        g_string_append_printf(s, "%s%s", s->len ? " " : "", tok);
    }
    if (hang) {
        g_string_append(s, " hang");
    }
    return g_string_free(s, FALSE);
}

/* known.h: true of the outcomes found so far. */
static void write_known(const char *dir, GPtrArray *codes)
{
    GString *s = g_string_new("#define KNOWN (false");
    gchar *path = g_build_filename(dir, "known.h", NULL);

    for (unsigned i = 0; i < codes->len; i++) {
        g_string_append_printf(s, " || (%s)", (char *)g_ptr_array_index(codes, i));
    }
    g_string_append(s, ")\n");
    g_file_set_contents(path, s->str, -1, NULL);
    g_string_free(s, TRUE);
    g_free(path);
}

/* The model's state for an outcome: "nout == 3 && out[0] == 9 && ...". */
static gchar *code_of(const char *text)
{
    gchar **lines = g_strsplit(text, "\n", -1);
    GString *s = g_string_new("");

    for (unsigned i = 0; lines[i]; i++) {
        int k, v;

        if (sscanf(lines[i], " out[%d] = %d", &k, &v) == 2) {
            g_string_append_printf(s, "%sout[%d] == %d", s->len ? " && " : "",
                                   k, v);
        } else if (sscanf(lines[i], " nout = %d", &v) == 1) {
            g_string_append_printf(s, "%snout == %d", s->len ? " && " : "", v);
        }
    }
    g_strfreev(lines);
    return g_string_free(s, FALSE);
}

static GHashTable *model_outcomes(const char *pml, unsigned *iterations)
{
    GHashTable *set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                            NULL);
    GPtrArray *codes = g_ptr_array_new_with_free_func(g_free);
    gchar *dir = g_dir_make_tmp("qloop-outcomes-XXXXXX", NULL);
    gchar *text = NULL, *dst = g_build_filename(dir, "m.pml", NULL);
    gsize len;

    g_assert(g_file_get_contents(pml, &text, &len, NULL));
    g_assert(g_file_set_contents(dst, text, len, NULL));
    for (*iterations = 0; *iterations < OUTCOMES_MAX; (*iterations)++) {
        gchar *out = NULL, *trail = NULL;
        bool hang;

        write_known(dir, codes);
        g_assert(run(dir, "rm -f m.pml.trail && spin -a -DWITH_KNOWN m.pml "
                     ">/dev/null && cc -w -DSAFETY -o pan pan.c", &out));
        g_free(out);
        run(dir, "./pan -m10000", &out);
        if (strstr(out, "errors: 0")) {
            g_free(out);
            break;
        }
        hang = strstr(out, "pan:1: invalid end state") != NULL;
        g_free(out);
        g_assert(run(dir, "spin -t -g -DWITH_KNOWN m.pml", &trail));
        g_ptr_array_add(codes, code_of(trail));
        g_hash_table_add(set, model_outcome(trail, hang));
        g_free(trail);
    }
    {
        gchar *rm = g_strdup_printf("rm -rf '%s'", dir);
        gchar *o = NULL;

        run("/", rm, &o);
        g_free(o);
        g_free(rm);
    }
    g_ptr_array_free(codes, TRUE);
    g_free(text);
    g_free(dst);
    g_free(dir);
    return set;
}

/* The first (sorted) outcome of a that b lacks, or NULL. */
static const char *first_missing(GHashTable *a, GHashTable *b)
{
    GList *keys = g_list_sort(g_hash_table_get_keys(a), (GCompareFunc)strcmp);
    const char *found = NULL;

    for (GList *k = keys; k && !found; k = k->next) {
        if (!g_hash_table_contains(b, k->data)) {
            found = k->data;
        }
    }
    g_list_free(keys);
    return found;
}

static void print_set(const char *what, GHashTable *set)
{
    GList *keys = g_list_sort(g_hash_table_get_keys(set), (GCompareFunc)strcmp);

    printf("%s:\n", what);
    for (GList *k = keys; k; k = k->next) {
        printf("  %s\n", (char *)k->data);
    }
    g_list_free(keys);
}

int main(int argc, char **argv)
{
    gchar *text = NULL, *spin;
    gsize len;
    Scenario s;
    char err[512];
    GHashTable *c_set, *m_set;
    uint64_t runs;
    bool complete;
    unsigned iterations;
    const char *c_only, *m_only;

    if (argc != 4) {
        fprintf(stderr, "usage: test-model-outcomes SCENARIO.scn MODEL.pml "
                "PREEMPTIONS\n");
        return 2;
    }
    spin = g_find_program_in_path("spin");
    if (!spin) {
        printf("SKIPPED: spin is not installed (Debian package 'spin')\n");
        return EXIT_SKIP;
    }
    g_free(spin);
    if (!g_file_get_contents(argv[1], &text, &len, NULL) ||
        !scn_parse(text, len, argv[1], &s, err, sizeof(err))) {
        fprintf(stderr, "%s:0: cannot read the scenario\n", argv[1]);
        return 2;
    }
    c_set = c_outcomes(&s, (unsigned)atoi(argv[3]), &runs, &complete);
    m_set = model_outcomes(argv[2], &iterations);
    printf("C core: %u outcomes in %" G_GUINT64_FORMAT " schedules (%s, "
           "bound %s); spin: %u outcomes in %u pan runs\n",
           g_hash_table_size(c_set), runs,
           complete ? "space exhausted" : "NOT exhausted", argv[3],
           g_hash_table_size(m_set), iterations + 1);
    print_set("C core", c_set);
    print_set("model", m_set);
    c_only = first_missing(c_set, m_set);
    m_only = first_missing(m_set, c_set);
    if (c_only) {
        printf("DISAGREE: the C core reaches '%s', the model does not\n", c_only);
    }
    if (m_only) {
        printf("DISAGREE: the model reaches '%s', the C core does not\n", m_only);
    }
    if (!complete) {
        printf("DISAGREE: the C space was not exhausted\n");
    }
    if (!c_only && !m_only && complete) {
        printf("agree: the same %u outcomes\n", g_hash_table_size(c_set));
    }
    g_free(text);
    return c_only || m_only || !complete ? 1 : 0;
}
