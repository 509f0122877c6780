/*
 * harness/cmd-fuzz-engine.c — the fuzz build, the targets' .options, and the
 * plan of AFL++ instances, for `qloop fuzz` and `qloop corpus`.
 *
 * Method: fuzz/build.sh does the building (incremental: cheap when nothing
 * changed); fuzz/<target>.options (ClusterFuzz's INI format) carries the
 * per-target limits, read with GKeyFile; the AFL++ plan is a fixed table of
 * secondary variations walked in order, so the first few jobs get the
 * variations AFL++'s guide ranks first and the command lines are the same
 * on every run (a --dry-run shows them).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd-fuzz.h"

#ifndef QLOOP_SOURCE_DIR
#define QLOOP_SOURCE_DIR "."
#endif

const char *fuzz_source_dir(void)
{
    const char *env = g_getenv("QLOOP_SOURCE_DIR");

    return env && *env ? env : QLOOP_SOURCE_DIR;
}

bool fuzz_have_tool(const char *tool)
{
    gchar *path = g_find_program_in_path(tool);
    bool ok = path != NULL;

    g_free(path);
    return ok;
}

bool fuzz_build(const char *who, const char *src, const char *flavour,
                const char *variant)
{
    gchar *script = g_build_filename(src, "fuzz", "build.sh", NULL);
    /* qloop-NAME builds its targets on variants/NAME.patch, as it runs. */
    gchar *argv[] = { script, (gchar *)flavour, *variant ? "--variant" : NULL,
                      (gchar *)variant, NULL };
    gint status = 0;
    GError *err = NULL;
    bool ok;

    fprintf(stderr, "%s: building %s targets (%s)\n", who, flavour, script);
    ok = g_spawn_sync(NULL, argv, NULL, G_SPAWN_CHILD_INHERITS_STDIN, NULL,
                      NULL, NULL, NULL, &status, &err);
    if (!ok) {
        fprintf(stderr, "%s: cannot run %s: %s\n", who, script, err->message);
        g_error_free(err);
    } else if (!g_spawn_check_wait_status(status, NULL)) {
        fprintf(stderr, "%s: %s %s failed\n", who, script, flavour);
        ok = false;
    }
    g_free(script);
    return ok;
}

/* ---- .options ----------------------------------------------------------------- */

/* A key that is absent keeps its default; one that is there must be a
 * positive integer no larger than max. */
static bool options_int(GKeyFile *kf, const char *path, const char *key,
                        int max, int *value)
{
    GError *err = NULL;
    gint64 v;

    if (!g_key_file_has_key(kf, "libfuzzer", key, NULL)) {
        return true;
    }
    v = g_key_file_get_int64(kf, "libfuzzer", key, &err);
    if (err || v <= 0 || v > max) {
        fprintf(stderr, "%s: [libfuzzer] %s must be a number from 1 to %d\n",
                path, key, max);
        g_clear_error(&err);
        return false;
    }
    *value = (int)v;
    return true;
}

bool fuzz_options_load(const char *src, const char *target, FuzzOptions *o)
{
    gchar *name = g_strdup_printf("%s.options", target);
    gchar *path = g_build_filename(src, "fuzz", name, NULL);
    GKeyFile *kf = g_key_file_new();
    GError *err = NULL;
    bool ok = true;

    o->max_len = 4096;
    o->timeout_s = 30;
    if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &err)) {
        /* No file: the defaults.  A file that does not parse: an error. */
        ok = g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_NOENT);
        if (!ok) {
            fprintf(stderr, "%s: %s\n", path, err->message);
        }
        g_error_free(err);
    } else {
        ok = options_int(kf, path, "max_len", 1 << 24, &o->max_len) &&
             options_int(kf, path, "timeout", 3600, &o->timeout_s);
    }
    g_key_file_free(kf);
    g_free(path);
    g_free(name);
    return ok;
}

/* ---- AFL++ instances ----------------------------------------------------------- */

gchar *fuzz_host_name(void)
{
    char host[256] = "";
    GString *s = g_string_new(NULL);

    /* An unnamed host still needs a name that differs from its peers'; the
     * user gives it one with HOSTNAME=... when gethostname() fails. */
    if (gethostname(host, sizeof(host) - 1) != 0 || !host[0]) {
        const char *env = g_getenv("HOSTNAME");

        g_strlcpy(host, env && *env ? env : "host", sizeof(host));
    }
    for (const char *p = host; *p && *p != '.' && s->len < 32; p++) {
        g_string_append_c(s, g_ascii_isalnum(*p) ? *p : '-');
    }
    if (!s->len) {
        g_string_append(s, "host");
    }
    return g_string_free(s, FALSE);
}

/* Secondaries in the order they are handed out.  The first two are the
 * builds the guide asks for (CMPLOG with transformations, a sanitizer);
 * the rest vary the schedule, with MOpt on a third and -Z on a few. */
static const struct {
    const char *tag;
    const char *schedule;
    bool mopt, old_queue, cmplog, sanitizer;
} variants[] = {
    { "cmplog", NULL, false, false, true, false },
    { "asan", NULL, false, false, false, true },
    { "explore-mopt", "explore", true, false, false, false },
    { "coe-z", "coe", false, true, false, false },
    { "lin", "lin", false, false, false, false },
    { "quad-mopt", "quad", true, false, false, false },
    { "exploit", "exploit", false, false, false, false },
    { "rare-z", "rare", false, true, false, false },
    { "fast-mopt", "fast", true, false, false, false },
};

/* Beyond the table, the schedule variations repeat: the two builds are
 * worth one instance each, not one per lap. */
#define VARIANTS_REPEATED_FROM 2

AflInstance *fuzz_afl_plan(int jobs, bool with_main, bool cmplog_main)
{
    AflInstance *plan = g_new0(AflInstance, jobs);
    gchar *host = fuzz_host_name();
    int first = with_main ? 1 : 0;

    g_assert(jobs > 0);
    if (with_main) {
        plan[0].name = g_strdup_printf("main-%s", host);
        plan[0].main = true;
        plan[0].cmplog = cmplog_main;
    }
    for (int i = first; i < jobs; i++) {
        int k = i - first;
        size_t v = (size_t)k < G_N_ELEMENTS(variants) ? (size_t)k :
            VARIANTS_REPEATED_FROM + (size_t)(k - VARIANTS_REPEATED_FROM) %
            (G_N_ELEMENTS(variants) - VARIANTS_REPEATED_FROM);

        /* s<N> keeps names unique when the table repeats. */
        plan[i].name = g_strdup_printf("%s-s%d-%s", host, k + 1,
                                       variants[v].tag);
        plan[i].schedule = variants[v].schedule;
        plan[i].mopt = variants[v].mopt;
        plan[i].old_queue = variants[v].old_queue;
        plan[i].cmplog = variants[v].cmplog;
        plan[i].sanitizer = variants[v].sanitizer;
    }
    g_free(host);
    return plan;
}

void fuzz_afl_plan_free(AflInstance *plan, int jobs)
{
    for (int i = 0; plan && i < jobs; i++) {
        g_free(plan[i].name);
    }
    g_free(plan);
}
