/*
 * harness/model-check.c — the table of spin runs over models/ and the
 * runner that builds and runs each verifier.
 *
 * Method: for each case, copy models/MODEL.pml into a work directory as
 * MODEL.ID.pml, run `spin -a DEFS` there, compile pan.c, run pan, and read
 * its report: the first "pan:1:" line names the error (none: a pass), and
 * the statistics give states, transitions and depth.  A run that pan did
 * not complete (depth too small) never counts as a pass.  The verdict is
 * compared with the table's: a correct model must pass, a BUG variant
 * must give the error its property predicts.
 */
#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model-check.h"

#ifndef QLOOP_SOURCE_DIR
#define QLOOP_SOURCE_DIR "."
#endif

#define SAFETY "-DSAFETY"
#define NOREDUCE "-DSAFETY -DNOREDUCE"
#define PAN "-m100000 -w20"
#define PAN_LTL "-a -m100000 -w20"
#define PAN_LTL_F "-a -f -m100000 -w20"
#define INVALID_END "invalid end state"
#define ASSERTION "assertion violated"
#define ACCEPTANCE "acceptance cycle"

static const ModelCase cases[] = {
    /* notify.pml: the aio_notify protocol. */
    { "notify", "correct", "", SAFETY, PAN, MODEL_PASS, NULL,
      "no lost wake-up: no invalid end state, final assertion holds" },
    { "notify", "correct-noreduce", "", NOREDUCE, PAN, MODEL_PASS, NULL,
      "the same without partial-order reduction" },
    { "notify", "correct-ltl", "-DLTL", "", PAN_LTL, MODEL_PASS, NULL,
      "<> all done: no acceptance cycle (no fairness)" },
    { "notify", "correct-ltl-f", "-DLTL", "", PAN_LTL_F, MODEL_PASS, NULL,
      "<> all done under weak fairness" },
    { "notify", "two-waiters", "-DTWO_WAITERS", SAFETY, PAN, MODEL_PASS, NULL,
      "the counter keeps a second waiter's announcement" },
    { "notify", "opaque", "-DOPAQUE_WORK", SAFETY, PAN, MODEL_PASS, NULL,
      "the Dekker pair alone (timeout blind to the work) suffices" },
    { "notify", "BUG_SKIP_NOTIFIED", "-DBUG_SKIP_NOTIFIED", SAFETY, PAN,
      INVALID_END, "notify-bug2", "BUG2: skip the set when notified: lost wake-up" },
    { "notify", "BUG_SKIP_NOTIFIED-noreduce", "-DBUG_SKIP_NOTIFIED", NOREDUCE,
      PAN, INVALID_END, NULL, "found without partial-order reduction too" },
    { "notify", "BUG_SKIP_NOTIFIED-ltl-f", "-DLTL -DBUG_SKIP_NOTIFIED", "",
      PAN_LTL_F, ACCEPTANCE, NULL,
      "the deadlock is found by the LTL search under -f (stutter extension)" },
    { "notify", "BUG_SKIP_NOTIFIED-E", "-DBUG_SKIP_NOTIFIED", SAFETY,
      "-E " PAN, MODEL_PASS, NULL,
      "pan -E ignores invalid end states: blind to the lost wake-up" },
    { "notify", "BUG_DEC_BEFORE_WAIT", "-DBUG_DEC_BEFORE_WAIT", SAFETY, PAN,
      INVALID_END, NULL, "notify_me retracted before the wait: lost wake-up" },
    { "notify", "BUG_DEC_BEFORE_WAIT-ltl-f", "-DLTL -DBUG_DEC_BEFORE_WAIT", "",
      PAN_LTL_F, ACCEPTANCE, NULL, "the same as an LTL violation under -f" },
    { "notify", "BUG_ACCEPT_AFTER_BH", "-DBUG_ACCEPT_AFTER_BH", SAFETY, PAN,
      MODEL_PASS, NULL,
      "harmless while each wait's timeout re-reads the BH list" },
    { "notify", "BUG_ACCEPT_AFTER_BH-opaque",
      "-DBUG_ACCEPT_AFTER_BH -DOPAQUE_WORK", SAFETY, PAN, INVALID_END, NULL,
      "accept after the BHs clears a notify nobody read: lost wake-up" },
    { "notify", "BUG_BOOL", "-DBUG_BOOL", SAFETY, PAN, MODEL_PASS, NULL,
      "one waiter at a time: a boolean is enough" },
    { "notify", "BUG_BOOL-two-waiters", "-DBUG_BOOL -DTWO_WAITERS", SAFETY, PAN,
      INVALID_END, NULL,
      "two waiters: one's retraction erases the other's: lost wake-up" },
    { "notify", "BUG_BARE_NOTIFY", "-DBUG_BARE_NOTIFY", SAFETY, PAN, INVALID_END,
      "main-loop-bare-notify",
      "qemu_notify_event as a bare aio_notify: main_loop_wait sleeps" },

    /* bh.pml: cross-thread scheduling against aio_bh_poll. */
    { "bh", "correct", "", SAFETY, PAN, MODEL_PASS, NULL,
      "none lost, none twice, none after delete, order, no free in use" },
    { "bh", "correct-noreduce", "", NOREDUCE, PAN, MODEL_PASS, NULL,
      "the same without partial-order reduction" },
    { "bh", "BUG_FIFO", "-DBUG_FIFO", SAFETY, PAN, ASSERTION, "bh-fifo",
      "oldest first: the order assertion fails" },
    { "bh", "BUG_DELETED_RUNS", "-DBUG_DELETED_RUNS", SAFETY, PAN, ASSERTION,
      "bh-deleted-runs", "a BH deleted before the poll took it runs" },
    { "bh", "BUG_DOUBLE_PUSH", "-DBUG_DOUBLE_PUSH", SAFETY, PAN, ASSERTION,
      NULL, "pushed while pending: on the list twice, used after free" },
    { "bh", "BUG_INNER_FIRST", "-DBUG_INNER_FIRST", SAFETY, PAN, ASSERTION,
      NULL, "nested poll runs its own slice first: order fails" },

    /* handlers.pml: removal while the list is walked. */
    { "handlers", "correct", "", SAFETY, PAN, MODEL_PASS, NULL,
      "no call after removal by the home thread, no free while walked" },
    { "handlers", "correct-noreduce", "", NOREDUCE, PAN, MODEL_PASS, NULL,
      "the same without partial-order reduction" },
    { "handlers", "BUG_NO_DELETED_CHECK", "-DBUG_NO_DELETED_CHECK", SAFETY, PAN,
      ASSERTION, "fd-deleted-called", "a removed handler is called" },
    { "handlers", "BUG_FREE_WHILE_WALKED", "-DBUG_FREE_WHILE_WALKED", SAFETY,
      PAN, ASSERTION, NULL, "freed under a walk's snapshot" },
    { "handlers", "BUG_COUNT_AFTER_SNAPSHOT", "-DBUG_COUNT_AFTER_SNAPSHOT",
      SAFETY, PAN, ASSERTION, NULL, "walker counted too late: freed in use" },
    { "handlers", "BUG_INNER_FREES", "-DBUG_INNER_FREES", SAFETY, PAN,
      ASSERTION, NULL, "a nested walk frees what the outer one holds" },

    /* thread-pool.pml: submit, cancel, completion BH. */
    { "thread-pool", "correct", "", SAFETY, PAN, MODEL_PASS, NULL,
      "no completion lost, each once, -ECANCELED only if never started" },
    { "thread-pool", "correct-noreduce", "", NOREDUCE, PAN, MODEL_PASS, NULL,
      "the same without partial-order reduction" },
    { "thread-pool", "BUG_CANCEL_ACTIVE", "-DBUG_CANCEL_ACTIVE", SAFETY, PAN,
      ASSERTION, NULL, "a started job completes with -ECANCELED" },
    { "thread-pool", "BUG_CANCEL_NO_BH", "-DBUG_CANCEL_NO_BH", SAFETY, PAN,
      INVALID_END, NULL, "a cancelled job's completion is lost" },
    { "thread-pool", "BUG_NO_RESTART", "-DBUG_NO_RESTART", SAFETY, PAN,
      INVALID_END, NULL, "the BH's cancel swallows a completion" },
};

const ModelCase *model_cases(unsigned *n)
{
    *n = G_N_ELEMENTS(cases);
    return cases;
}

const ModelCase *model_case_find(const char *model, const char *id)
{
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        if (!strcmp(cases[i].model, model) && !strcmp(cases[i].id, id)) {
            return &cases[i];
        }
    }
    return NULL;
}

static const char *spin_path(void)
{
    const char *p = g_getenv("QLOOP_SPIN");

    return p && *p ? p : "spin";
}

static const char *cc_path(void)
{
    const char *p = g_getenv("CC");

    return p && *p ? p : "cc";
}

const char *model_tool_missing(void)
{
    static char why[256];
    gchar *spin = g_find_program_in_path(spin_path());
    gchar *cc = g_find_program_in_path(cc_path());

    why[0] = 0;
    if (!spin) {
        g_snprintf(why, sizeof(why), "spin not found (%s): install Debian's "
                   "'spin' package (scripts/ do), or set QLOOP_SPIN",
                   spin_path());
    } else if (!cc) {
        g_snprintf(why, sizeof(why), "no C compiler for pan.c (%s); set CC",
                   cc_path());
    }
    g_free(spin);
    g_free(cc);
    return why[0] ? why : NULL;
}

const char *model_dir(void)
{
    static char dir[4096];
    const char *env = g_getenv("QLOOP_MODELS");
    const char *src = g_getenv("QLOOP_SOURCE_DIR");

    if (env && *env) {
        return env;
    }
    g_snprintf(dir, sizeof(dir), "%s/models", src && *src ? src : QLOOP_SOURCE_DIR);
    return dir;
}

/* Run argv in dir; stdout+stderr into *out.  false if it could not run or
 * exited with a status other than 0 (pan's status is not looked at). */
static bool run_in(const char *dir, char **argv, gchar **out, bool need_zero,
                   char *err, size_t err_len)
{
    GError *gerr = NULL;
    gchar *sout = NULL, *serr = NULL;
    gint status = 0;

    if (!g_spawn_sync(dir, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                      &sout, &serr, &status, &gerr)) {
        g_snprintf(err, err_len, "cannot run %s: %s", argv[0], gerr->message);
        g_error_free(gerr);
        return false;
    }
    *out = g_strconcat(sout ? sout : "", serr ? serr : "", NULL);
    g_free(sout);
    g_free(serr);
    if (need_zero && !g_spawn_check_wait_status(status, NULL)) {
        gchar **lines = g_strsplit(*out, "\n", 2);

        g_snprintf(err, err_len, "%s failed: %s", argv[0],
                   lines[0] ? lines[0] : "");
        g_strfreev(lines);
        return false;
    }
    return true;
}

/* argv = first, the words of flags, then last (NULL-terminated). */
static char **make_argv(const char *first, const char *flags, const char *last)
{
    gchar **words = g_strsplit_set(flags, " ", -1);
    GPtrArray *a = g_ptr_array_new();

    g_ptr_array_add(a, g_strdup(first));
    for (gchar **w = words; *w; w++) {
        if (**w) {
            g_ptr_array_add(a, g_strdup(*w));
        }
    }
    if (last) {
        g_ptr_array_add(a, g_strdup(last));
    }
    g_ptr_array_add(a, NULL);
    g_strfreev(words);
    return (char **)g_ptr_array_free(a, FALSE);
}

static uint64_t number_before(const char *text, const char *what)
{
    const char *at = strstr(text, what);
    const char *p;

    if (!at) {
        return 0;
    }
    p = at;
    while (p > text && p[-1] == ' ') {
        p--;
    }
    while (p > text && g_ascii_isdigit(p[-1])) {
        p--;
    }
    return g_ascii_strtoull(p, NULL, 10);
}

static void parse_pan(const char *out, ModelResult *r)
{
    const char *err = strstr(out, "pan:1: ");
    const char *p;

    if (err) {
        const char *end = strchr(err, '\n');
        size_t n = end ? (size_t)(end - err) : strlen(err);
        static const char *const kinds[] = {
            INVALID_END, ASSERTION, ACCEPTANCE, "non-progress cycle",
        };

        g_strlcpy(r->detail, err, MIN(n + 1, sizeof(r->detail)));
        g_strlcpy(r->verdict, "error", sizeof(r->verdict));
        for (size_t i = 0; i < G_N_ELEMENTS(kinds); i++) {
            if (strstr(r->detail, kinds[i])) {
                g_strlcpy(r->verdict, kinds[i], sizeof(r->verdict));
            }
        }
    } else if (strstr(out, "errors: 0")) {
        g_strlcpy(r->verdict, MODEL_PASS, sizeof(r->verdict));
    } else {
        g_strlcpy(r->verdict, "no report", sizeof(r->verdict));
    }
    r->states = number_before(out, "states, stored");
    r->transitions = number_before(out, "transitions (=");
    p = strstr(out, "depth reached ");
    r->depth = p ? g_ascii_strtoull(p + strlen("depth reached "), NULL, 10) : 0;
    p = strstr(out, "pan: elapsed time ");
    r->pan_s = p ? g_ascii_strtod(p + strlen("pan: elapsed time "), NULL) : 0;
    r->complete = !strstr(out, "max search depth too small") &&
                  !strstr(out, "out of memory");
}

bool model_run(const ModelCase *c, const char *dir, ModelResult *r,
               char *err, size_t err_len)
{
    gchar *src = g_strdup_printf("%s/%s.pml", model_dir(), c->model);
    gchar *name = g_strdup_printf("%s.%s.pml", c->model, c->id);
    gchar *dst = g_build_filename(dir, name, NULL);
    gchar *text = NULL, *out = NULL;
    gsize len = 0;
    int64_t t0 = g_get_monotonic_time();
    char **argv = NULL;
    bool ok = false;

    memset(r, 0, sizeof(*r));
    if (g_mkdir_with_parents(dir, 0755) != 0) {
        g_snprintf(err, err_len, "%s: cannot create the work directory", dir);
        goto out;
    }
    if (!g_file_get_contents(src, &text, &len, NULL) ||
        !g_file_set_contents(dst, text, len, NULL)) {
        g_snprintf(err, err_len, "%s: cannot read the model (or write %s)",
                   src, dst);
        goto out;
    }
    {
        gchar *flags = g_strdup_printf("-a %s", c->defs);

        argv = make_argv(spin_path(), flags, name);
        g_free(flags);
    }
    if (!run_in(dir, argv, &out, true, err, err_len)) {
        goto out;
    }
    g_strfreev(argv);
    g_free(out);
    out = NULL;
    {
        gchar *flags = g_strdup_printf("-w %s -o pan", c->cc);

        argv = make_argv(cc_path(), flags, "pan.c");
        g_free(flags);
    }
    if (!run_in(dir, argv, &out, true, err, err_len)) {
        goto out;
    }
    g_strfreev(argv);
    g_free(out);
    out = NULL;
    argv = make_argv("./pan", c->pan, NULL);
    if (!run_in(dir, argv, &out, false, err, err_len)) {
        goto out;
    }
    parse_pan(out, r);
    r->total_s = (double)(g_get_monotonic_time() - t0) / 1e6;
    ok = true;
out:
    g_strfreev(argv);
    g_free(out);
    g_free(text);
    g_free(src);
    g_free(name);
    g_free(dst);
    return ok;
}
