/*
 * harness/cmd-fuzz.c — `qloop fuzz`: a fuzzing campaign on every core, with
 * its findings replayed, shrunk, de-duplicated and written as replay files.
 *
 * Method: build the target with fuzz/build.sh (incremental; the source
 * tree is QLOOP_SOURCE_DIR, compiled in, or $QLOOP_SOURCE_DIR), start the
 * engine in a process group of its own — libFuzzer with -fork=N, or N
 * AFL++ instances (one -M, the rest -S) — and print one progress line a
 * second from the engine's log or fuzzer_stats.  At the deadline, or on
 * SIGINT/SIGTERM, the group gets SIGTERM (SIGKILL 5 s later) and is
 * waited for.  Then the crash files are triaged by `qloop triage`
 * (harness/triage.c) — the qloop that fuzz/build.sh linked beside the
 * libFuzzer target from the same objects, so the core (and the variant:
 * qloop-NAME fuzz builds with --variant NAME) that crashed is the one
 * that replays: each file replayed in a child, signed by verdict kind and
 * function names, de-duplicated, shrunk to OUT/findings/<slug>.replay
 * next to the raw input, and re-checked from its replay.
 * The corpus stays in OUT/corpus, the engine's files in OUT/engine.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "decode.h"
#include "shrink.h"

#ifndef QLOOP_SOURCE_DIR
#define QLOOP_SOURCE_DIR "."
#endif
/* qloop-NAME is built on variants/NAME.c: so are its fuzz targets. */
#ifndef QLOOP_VARIANT
#define QLOOP_VARIANT ""
#endif

static gchar *opt_engine;
static gint opt_time = 60;
static gint opt_jobs;
static gchar *opt_out;
static gchar *opt_target;
static gboolean opt_value_profile;
static gboolean opt_cmplog;
static gint opt_seeds = 50;

static GOptionEntry fuzz_entries[] = {
    { "engine", 'e', 0, G_OPTION_ARG_STRING, &opt_engine,
      "libfuzzer (default) or afl", "ENGINE" },
    { "time", 't', 0, G_OPTION_ARG_INT, &opt_time,
      "seconds to fuzz (default 60)", "SECONDS" },
    { "jobs", 'j', 0, G_OPTION_ARG_INT, &opt_jobs,
      "parallel fuzzing processes (default: the number of CPUs)", "N" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &opt_out,
      "output directory: corpus/, engine/, findings/ (default fuzz-out)",
      "DIR" },
    { "target", 0, 0, G_OPTION_ARG_STRING, &opt_target,
      "loop (default), scn-parse or replay-parse", "TARGET" },
    { "value-profile", 0, 0, G_OPTION_ARG_NONE, &opt_value_profile,
      "libFuzzer: -use_value_profile=1 (comparison operands as feedback)",
      NULL },
    { "cmplog", 0, 0, G_OPTION_ARG_NONE, &opt_cmplog,
      "AFL++: give the -M instance a CMPLOG build (-c)", NULL },
    { "shrink-seeds", 0, 0, G_OPTION_ARG_INT, &opt_seeds,
      "fresh seeds per shrink step when an edit breaks the schedule (50)",
      "N" },
    G_OPTION_ENTRY_NULL,
};

typedef struct {
    bool afl;
    const char *target;         /* loop, scn-parse, replay-parse */
    gchar *src, *out, *corpus, *engine_dir, *findings, *seeds;
    gchar *binary, *cmplog_binary, *dict;
    gchar *triage_qloop;        /* build/fuzz/libfuzzer[-VARIANT]/qloop */
    int jobs;
    pid_t pgid;
    GPtrArray *pids;            /* pid_t as pointers */
} Campaign;

typedef struct {
    uint64_t execs, exec_per_s, corpus, coverage, crashes;
} Progress;

static volatile sig_atomic_t stop_requested;

static void on_signal(int signo)
{
    stop_requested = signo;
}

/* ---- setup ----------------------------------------------------------------- */

static bool have_tool(const char *tool)
{
    gchar *path = g_find_program_in_path(tool);
    bool ok = path != NULL;

    g_free(path);
    return ok;
}

static bool check_tools(const Campaign *c)
{
    if (!have_tool("clang")) {
        fprintf(stderr, "qloop fuzz: clang not found; install it with:\n"
                "    sudo apt-get install -y clang libclang-rt-14-dev llvm\n");
        return false;
    }
    if (c->afl && (!have_tool("afl-fuzz") || !have_tool("afl-clang-fast"))) {
        fprintf(stderr, "qloop fuzz: AFL++ not found; install it with:\n"
                "    sudo apt-get install -y afl++\n");
        return false;
    }
    return true;
}

/* fuzz/build.sh FLAVOUR: incremental, so cheap when nothing changed. */
static bool build(const Campaign *c, const char *flavour)
{
    gchar *script = g_build_filename(c->src, "fuzz", "build.sh", NULL);
    gchar *argv[] = { script, (gchar *)flavour, *QLOOP_VARIANT ? "--variant"
                      : NULL, (gchar *)QLOOP_VARIANT, NULL };
    gint status = 0;
    GError *err = NULL;
    bool ok;

    fprintf(stderr, "qloop fuzz: building %s targets (%s)\n", flavour, script);
    ok = g_spawn_sync(NULL, argv, NULL, G_SPAWN_CHILD_INHERITS_STDIN, NULL,
                      NULL, NULL, NULL, &status, &err);
    if (!ok) {
        fprintf(stderr, "qloop fuzz: cannot run %s: %s\n", script,
                err->message);
        g_error_free(err);
    } else if (!g_spawn_check_wait_status(status, NULL)) {
        fprintf(stderr, "qloop fuzz: %s %s failed\n", script, flavour);
        ok = false;
    }
    g_free(script);
    return ok;
}

static bool mkdirs(const char *path)
{
    if (g_mkdir_with_parents(path, 0755) != 0) {
        fprintf(stderr, "qloop fuzz: cannot create %s: %s\n", path,
                strerror(errno));
        return false;
    }
    return true;
}

/* Copy every file of from/ into to/ (same names); returns how many. */
static unsigned copy_dir(const char *from, const char *to, const char *prefix)
{
    GDir *dir = g_dir_open(from, 0, NULL);
    const char *name;
    unsigned n = 0;

    while (dir && (name = g_dir_read_name(dir))) {
        gchar *src = g_build_filename(from, name, NULL);
        gchar *dst_name = g_strconcat(prefix, name, NULL);
        gchar *dst = g_build_filename(to, dst_name, NULL);
        gchar *data;
        gsize len;

        /* AFL++ names contain ':' and ','; keep them, files only. */
        if (g_file_test(src, G_FILE_TEST_IS_REGULAR) &&
            !g_file_test(dst, G_FILE_TEST_EXISTS) &&
            g_file_get_contents(src, &data, &len, NULL)) {
            n += g_file_set_contents(dst, data, (gssize)len, NULL);
            g_free(data);
        }
        g_free(src);
        g_free(dst_name);
        g_free(dst);
    }
    if (dir) {
        g_dir_close(dir);
    }
    return n;
}

/* build/fuzz/<flavour>[-VARIANT]/<name> in the source tree. */
static gchar *fuzz_build_path(const Campaign *c, const char *flavour,
                              const char *name)
{
    gchar *dir = g_strconcat(flavour, *QLOOP_VARIANT ? "-" : "",
                             QLOOP_VARIANT, NULL);
    gchar *path = g_build_filename(c->src, "build", "fuzz", dir, name, NULL);

    g_free(dir);
    return path;
}

static bool campaign_init(Campaign *c)
{
    const char *env_src = g_getenv("QLOOP_SOURCE_DIR");
    const char *flavour = c->afl ? "afl" : "libfuzzer";
    gchar *bin_name = g_strdup_printf("%s-fuzz", c->target);
    gchar *dict_name = g_strdup_printf("%s.dict", c->target);

    c->src = g_strdup(env_src ? env_src : QLOOP_SOURCE_DIR);
    c->out = g_strdup(opt_out ? opt_out : "fuzz-out");
    c->corpus = g_build_filename(c->out, "corpus", NULL);
    c->engine_dir = g_build_filename(c->out, "engine", NULL);
    c->findings = g_build_filename(c->out, "findings", NULL);
    c->seeds = g_build_filename(c->src, "corpus", c->target, NULL);
    c->binary = fuzz_build_path(c, flavour, bin_name);
    c->cmplog_binary = fuzz_build_path(c, "cmplog", bin_name);
    c->dict = fuzz_build_path(c, flavour, dict_name);
    c->triage_qloop = fuzz_build_path(c, "libfuzzer", "qloop");
    c->pids = g_ptr_array_new();
    g_free(bin_name);
    g_free(dict_name);
    if (!g_file_test(c->src, G_FILE_TEST_IS_DIR)) {
        fprintf(stderr, "qloop fuzz: source tree %s not found; set "
                "QLOOP_SOURCE_DIR\n", c->src);
        return false;
    }
    /* AFL++ builds carry no sanitizer: triage with the libFuzzer
     * flavour's qloop, the same sources under ASan+UBSan. */
    if (!check_tools(c) || !build(c, flavour) ||
        (c->afl && opt_cmplog && !build(c, "cmplog")) ||
        (c->afl && !strcmp(c->target, "loop") && !build(c, "libfuzzer"))) {
        return false;
    }
    if (!mkdirs(c->corpus) || !mkdirs(c->engine_dir) || !mkdirs(c->findings)) {
        return false;
    }
    copy_dir(c->seeds, c->corpus, "");
    return true;
}

/* ---- engines ----------------------------------------------------------------- */

/* Start argv in the campaign's process group, output to log. */
static bool spawn(Campaign *c, GPtrArray *argv, const char *log,
                  const char *const *env)
{
    pid_t pid;

    g_ptr_array_add(argv, NULL);
    pid = fork();
    if (pid < 0) {
        fprintf(stderr, "qloop fuzz: fork: %s\n", strerror(errno));
        return false;
    }
    if (pid == 0) {
        FILE *f = freopen(log, "a", stderr);

        setpgid(0, c->pgid);
        if (!f || dup2(fileno(stderr), STDOUT_FILENO) < 0) {
            _exit(127);
        }
        for (const char *const *e = env; e && *e; e += 2) {
            setenv(e[0], e[1], 1);
        }
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        execvp(argv->pdata[0], (char **)argv->pdata);
        fprintf(stderr, "qloop fuzz: cannot run %s: %s\n",
                (char *)argv->pdata[0], strerror(errno));
        _exit(127);
    }
    setpgid(pid, c->pgid ? c->pgid : pid);      /* no race with the child */
    if (!c->pgid) {
        c->pgid = pid;
    }
    g_ptr_array_add(c->pids, GINT_TO_POINTER(pid));
    return true;
}

static void add(GPtrArray *argv, gchar *arg)
{
    g_ptr_array_add(argv, arg);
}

static bool start_libfuzzer(Campaign *c)
{
    GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
    gchar *log = g_build_filename(c->engine_dir, "libfuzzer.log", NULL);
    bool ok;

    add(argv, g_strdup(c->binary));
    add(argv, g_strdup_printf("-fork=%d", c->jobs));
    add(argv, g_strdup("-ignore_crashes=1"));
    add(argv, g_strdup("-ignore_timeouts=1"));
    add(argv, g_strdup("-ignore_ooms=1"));
    add(argv, g_strdup("-timeout=30"));
    add(argv, g_strdup_printf("-max_total_time=%d", opt_time));
    add(argv, g_strdup_printf("-artifact_prefix=%s/", c->engine_dir));
    add(argv, g_strdup("-print_final_stats=1"));
    if (g_file_test(c->dict, G_FILE_TEST_EXISTS)) {
        add(argv, g_strdup_printf("-dict=%s", c->dict));
    }
    if (opt_value_profile) {
        add(argv, g_strdup("-use_value_profile=1"));
    }
    add(argv, g_strdup(c->corpus));
    /* A copy of argv survives spawn()'s NULL; it owns the strings. */
    ok = spawn(c, argv, log, NULL);
    g_ptr_array_free(argv, TRUE);
    g_free(log);
    return ok;
}

static bool start_afl(Campaign *c)
{
    static const char *const env[] = {
        "AFL_NO_UI", "1", "AFL_SKIP_CPUFREQ", "1", "AFL_AUTORESUME", "1",
        "AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES", "1", "AFL_NO_AFFINITY", "1",
        "AFL_IMPORT_FIRST", "1", NULL,
    };
    gchar *sync = g_build_filename(c->engine_dir, "afl", NULL);
    bool ok = true;

    for (int i = 0; i < c->jobs && ok; i++) {
        GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
        gchar *name = i ? g_strdup_printf("s%d", i) : g_strdup("main");
        gchar *log = g_strdup_printf("%s/afl-%s.log", c->engine_dir, name);

        add(argv, g_strdup("afl-fuzz"));
        add(argv, g_strdup("-i"));
        add(argv, g_strdup(c->corpus));
        add(argv, g_strdup("-o"));
        add(argv, g_strdup(sync));
        add(argv, g_strdup(i ? "-S" : "-M"));
        add(argv, g_strdup(name));
        add(argv, g_strdup("-V"));
        add(argv, g_strdup_printf("%d", opt_time));
        add(argv, g_strdup("-t"));
        add(argv, g_strdup("30000+"));
        if (g_file_test(c->dict, G_FILE_TEST_EXISTS)) {
            add(argv, g_strdup("-x"));
            add(argv, g_strdup(c->dict));
        }
        if (i == 0 && opt_cmplog) {
            add(argv, g_strdup("-c"));
            add(argv, g_strdup(c->cmplog_binary));
        }
        add(argv, g_strdup("--"));
        add(argv, g_strdup(c->binary));
        ok = spawn(c, argv, log, env);
        g_ptr_array_free(argv, TRUE);
        g_free(name);
        g_free(log);
    }
    g_free(sync);
    return ok;
}

/* ---- progress ---------------------------------------------------------------- */

static uint64_t after(const char *line, const char *key)
{
    const char *p = strstr(line, key);

    return p ? g_ascii_strtoull(p + strlen(key), NULL, 10) : 0;
}

static unsigned count_findings(const Campaign *c);

/* libFuzzer: the last status line of its log ("#N ... cov: ... corp: ..."). */
static void progress_libfuzzer(const Campaign *c, Progress *p)
{
    gchar *log = g_build_filename(c->engine_dir, "libfuzzer.log", NULL);
    gchar *text = NULL;
    gsize len = 0;

    if (g_file_get_contents(log, &text, &len, NULL)) {
        char *line = NULL;

        for (char *s = text; (s = strstr(s, "\n#")) != NULL; s++) {
            line = s + 1;
        }
        if (line) {
            char *end = strchr(line, '\n');

            if (end) {
                *end = '\0';
            }
            p->execs = g_ascii_strtoull(line + 1, NULL, 10);
            p->coverage = after(line, "cov: ");
            p->corpus = after(line, "corp: ");
            p->exec_per_s = strstr(line, "exec/s: ") ? after(line, "exec/s: ")
                                                      : after(line, "exec/s ");
        }
    }
    p->crashes = count_findings(c);
    g_free(text);
    g_free(log);
}

static uint64_t stat_field(const char *text, const char *key)
{
    gchar *pattern = g_strdup_printf("\n%s", key);
    const char *p = strstr(text, pattern);
    uint64_t v = 0;

    if (p) {
        p = strchr(p, ':');
        v = p ? (uint64_t)g_ascii_strtod(p + 1, NULL) : 0;
    }
    g_free(pattern);
    return v;
}

/* AFL++: fuzzer_stats of every instance (exec/s summed; coverage: main). */
static void progress_afl(const Campaign *c, Progress *p)
{
    gchar *sync = g_build_filename(c->engine_dir, "afl", NULL);
    GDir *dir = g_dir_open(sync, 0, NULL);
    const char *name;

    while (dir && (name = g_dir_read_name(dir))) {
        gchar *path = g_build_filename(sync, name, "fuzzer_stats", NULL);
        gchar *text = NULL;

        if (g_file_get_contents(path, &text, NULL, NULL)) {
            gchar *t = g_strconcat("\n", text, NULL);

            p->execs += stat_field(t, "execs_done");
            p->exec_per_s += stat_field(t, "execs_per_sec");
            p->corpus = MAX(p->corpus, stat_field(t, "corpus_count"));
            p->coverage = MAX(p->coverage, stat_field(t, "edges_found"));
            g_free(t);
        }
        g_free(text);
        g_free(path);
    }
    if (dir) {
        g_dir_close(dir);
    }
    p->crashes = count_findings(c);
    g_free(sync);
}

static void show_progress(const Campaign *c, double elapsed, bool final)
{
    Progress p = { 0 };
    static double last_line;
    bool tty = isatty(STDERR_FILENO);

    if (c->afl) {
        progress_afl(c, &p);
    } else {
        progress_libfuzzer(c, &p);
    }
    if (!final && !tty && elapsed - last_line < 10) {
        return;     /* a log, not a terminal: one line every 10 s */
    }
    last_line = elapsed;
    fprintf(stderr, "%s[%5.0fs] %s x%d  execs %" PRIu64 "  exec/s %" PRIu64
            "  corpus %" PRIu64 "  coverage %" PRIu64 "  findings %" PRIu64
            "%s", tty ? "\r\033[K" : "", elapsed, c->afl ? "afl" : "libfuzzer",
            c->jobs, p.execs, p.exec_per_s, p.corpus, p.coverage, p.crashes,
            tty && !final ? "" : "\n");
}

/* ---- running and stopping ----------------------------------------------------- */

static double now_s(void)
{
    return (double)g_get_monotonic_time() / 1e6;
}

/* Reap children that exited; true while any is alive. */
static bool any_alive(Campaign *c)
{
    for (guint i = 0; i < c->pids->len;) {
        pid_t pid = GPOINTER_TO_INT(g_ptr_array_index(c->pids, i));
        int status;

        if (waitpid(pid, &status, WNOHANG) == pid) {
            g_ptr_array_remove_index_fast(c->pids, i);
        } else {
            i++;
        }
    }
    return c->pids->len > 0;
}

static void stop_engines(Campaign *c)
{
    double deadline = now_s() + 5;

    if (c->pgid) {
        kill(-c->pgid, SIGTERM);
    }
    while (any_alive(c) && now_s() < deadline) {
        g_usleep(50 * 1000);
    }
    if (any_alive(c)) {
        kill(-c->pgid, SIGKILL);
        while (any_alive(c)) {
            g_usleep(50 * 1000);
        }
    }
}

static void run_campaign(Campaign *c)
{
    struct sigaction sa = { .sa_handler = on_signal };
    double start = now_s();

    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    while (!stop_requested && any_alive(c) && now_s() - start < opt_time + 15) {
        g_usleep(1000 * 1000);
        show_progress(c, now_s() - start, false);
    }
    if (stop_requested) {
        fprintf(stderr, "\nqloop fuzz: %s: stopping the engines\n",
                strsignal(stop_requested));
    }
    stop_engines(c);
    show_progress(c, now_s() - start, true);
}

/* ---- findings -------------------------------------------------------------- */

/* Raw crash files: libFuzzer crash-/leak-/timeout-/oom-*, AFL++ crashes/id:*
 * and hangs/id:*.  Appends paths to out when not NULL; returns how many. */
static unsigned list_findings(const Campaign *c, GPtrArray *out)
{
    static const char *const prefixes[] = { "crash-", "leak-", "timeout-",
                                            "oom-" };
    unsigned n = 0;
    GDir *dir;
    const char *name;

    if (!c->afl) {
        dir = g_dir_open(c->engine_dir, 0, NULL);
        while (dir && (name = g_dir_read_name(dir))) {
            for (size_t i = 0; i < G_N_ELEMENTS(prefixes); i++) {
                if (g_str_has_prefix(name, prefixes[i])) {
                    n++;
                    if (out) {
                        g_ptr_array_add(out, g_build_filename(c->engine_dir,
                                                              name, NULL));
                    }
                }
            }
        }
    } else {
        gchar *sync = g_build_filename(c->engine_dir, "afl", NULL);
        const char *kinds[] = { "crashes", "hangs" };

        dir = g_dir_open(sync, 0, NULL);
        while (dir && (name = g_dir_read_name(dir))) {
            for (int k = 0; k < 2; k++) {
                gchar *sub = g_build_filename(sync, name, kinds[k], NULL);
                GDir *d2 = g_dir_open(sub, 0, NULL);
                const char *f;

                while (d2 && (f = g_dir_read_name(d2))) {
                    if (g_str_has_prefix(f, "id:")) {
                        n++;
                        if (out) {
                            g_ptr_array_add(out, g_build_filename(sub, f, NULL));
                        }
                    }
                }
                if (d2) {
                    g_dir_close(d2);
                }
                g_free(sub);
            }
        }
        g_free(sync);
    }
    if (dir) {
        g_dir_close(dir);
    }
    return n;
}

static unsigned count_findings(const Campaign *c)
{
    return list_findings(c, NULL);
}

typedef struct {
    unsigned raw, unique;
} Triage;

/*
 * The loop target's crash files go to `qloop triage`, run from the qloop
 * built beside the target (it prints one block per finding and a summary
 * line); true if it found anything to report.
 */
static bool triage_loop(const Campaign *c, GPtrArray *paths)
{
    GPtrArray *argv = g_ptr_array_new();
    gchar *seeds = g_strdup_printf("%d", opt_seeds);
    gint status = 0;
    GError *err = NULL;
    bool found = true;

    g_ptr_array_add(argv, c->triage_qloop);
    g_ptr_array_add(argv, "triage");
    g_ptr_array_add(argv, "-o");
    g_ptr_array_add(argv, c->findings);
    g_ptr_array_add(argv, "--shrink-seeds");
    g_ptr_array_add(argv, seeds);
    for (guint i = 0; i < paths->len; i++) {
        g_ptr_array_add(argv, g_ptr_array_index(paths, i));
    }
    g_ptr_array_add(argv, NULL);
    fflush(NULL);
    if (!g_spawn_sync(NULL, (gchar **)argv->pdata, NULL,
                      G_SPAWN_CHILD_INHERITS_STDIN, NULL, NULL, NULL, NULL,
                      &status, &err)) {
        fprintf(stderr, "qloop fuzz: cannot run %s: %s\n", c->triage_qloop,
                err->message);
        g_error_free(err);
    } else {
        /* 0: nothing to report; 1: findings; anything else is a failure
         * of triage itself, and the crash files stay for a look. */
        found = !g_spawn_check_wait_status(status, NULL);
    }
    g_ptr_array_free(argv, TRUE);
    g_free(seeds);
    return found;
}

static Triage triage_all(const Campaign *c)
{
    GPtrArray *paths = g_ptr_array_new_with_free_func(g_free);
    Triage t = { 0 };

    list_findings(c, paths);
    t.raw = paths->len;
    if (!paths->len) {
        g_ptr_array_free(paths, TRUE);
        return t;
    }
    if (!strcmp(c->target, "loop")) {
        t.unique = triage_loop(c, paths);
        g_ptr_array_free(paths, TRUE);
        return t;
    }
    printf("triage: %u crash files\n", paths->len);
    for (guint i = 0; i < paths->len; i++) {
        /* Parser findings need no scheduler: the file is the repro. */
        const char *path = g_ptr_array_index(paths, i);
        gchar *base = g_path_get_basename(path);
        gchar *dst = g_strdup_printf("%s/%s-%s", c->findings, c->target,
                                     base);
        gchar *data;
        gsize len;

        if (g_file_get_contents(path, &data, &len, NULL)) {
            g_file_set_contents(dst, data, (gssize)len, NULL);
            g_free(data);
        }
        printf("  %s\n    reproduce: %s/build/fuzz/replay/%s-fuzz %s\n",
               dst, c->src, c->target, dst);
        t.unique++;
        g_free(base);
        g_free(dst);
    }
    printf("findings: %u crash files -> %s\n", t.raw, c->findings);
    g_ptr_array_free(paths, TRUE);
    return t;
}

/* ---- the command ------------------------------------------------------------ */

/* Everything campaign_init allocated (qloop runs under LeakSanitizer). */
static void campaign_free(Campaign *c)
{
    g_free(c->src);
    g_free(c->out);
    g_free(c->corpus);
    g_free(c->engine_dir);
    g_free(c->findings);
    g_free(c->seeds);
    g_free(c->binary);
    g_free(c->cmplog_binary);
    g_free(c->dict);
    g_free(c->triage_qloop);
    if (c->pids) {
        g_ptr_array_free(c->pids, TRUE);
    }
}

static bool parse_options(int *argc, char ***argv, Campaign *c)
{
    GOptionContext *oc = g_option_context_new("- fuzz the loop core (or a "
                                              "parser) on every CPU");
    GError *gerr = NULL;

    g_option_context_add_main_entries(oc, fuzz_entries, NULL);
    g_option_context_set_description(oc,
        "Builds the fuzz target with fuzz/build.sh (clang; AFL++ for --engine\n"
        "afl), fuzzes for --time seconds, then replays, shrinks and de-\n"
        "duplicates every finding into OUT/findings/*.replay.  Ctrl-C stops\n"
        "early and keeps everything.  Exit status: 0 no finding, 1 findings\n"
        "(or crash files that did not reproduce), 2 usage or a missing tool.\n"
        "See docs/fuzzing.md.\n");
    if (!g_option_context_parse(oc, argc, argv, &gerr)) {
        fprintf(stderr, "qloop fuzz: %s\n", gerr->message);
        g_error_free(gerr);
        g_option_context_free(oc);
        return false;
    }
    g_option_context_free(oc);
    c->afl = opt_engine && !strcmp(opt_engine, "afl");
    c->target = opt_target ? opt_target : "loop";
    c->jobs = opt_jobs > 0 ? opt_jobs : (int)g_get_num_processors();
    if ((opt_engine && !c->afl && strcmp(opt_engine, "libfuzzer")) ||
        (strcmp(c->target, "loop") && strcmp(c->target, "scn-parse") &&
         strcmp(c->target, "replay-parse")) || opt_time <= 0 || *argc != 1) {
        fprintf(stderr, "qloop fuzz: bad arguments (see --help)\n");
        return false;
    }
    return true;
}

int cmd_fuzz(int argc, char **argv)
{
    Campaign c = { 0 };
    Triage t;
    bool started;

    if (!parse_options(&argc, &argv, &c)) {
        return EXIT_USAGE;
    }
    if (!campaign_init(&c)) {
        campaign_free(&c);
        return EXIT_USAGE;
    }
    fprintf(stderr, "qloop fuzz: %s on target %s, %d job%s, %d s; output in "
            "%s\n", c.afl ? "AFL++" : "libFuzzer", c.target, c.jobs,
            c.jobs == 1 ? "" : "s", opt_time, c.out);
    started = c.afl ? start_afl(&c) : start_libfuzzer(&c);
    if (!started) {
        stop_engines(&c);
        campaign_free(&c);
        return EXIT_USAGE;
    }
    run_campaign(&c);
    if (c.afl) {
        gchar *queue = g_build_filename(c.engine_dir, "afl", "main", "queue",
                                        NULL);

        copy_dir(queue, c.corpus, "afl-");
        g_free(queue);
    }
    t = triage_all(&c);
    printf("qloop fuzz: done.  corpus: %s  engine files: %s\n", c.corpus,
           c.engine_dir);
    if (!t.raw) {
        printf("findings: none\n");
    } else if (t.unique) {
        printf("replay a finding with the command printed above; move it "
               "to corpus/regressions/ once understood\n");
    }
    campaign_free(&c);
    return t.raw ? EXIT_VERDICT : EXIT_PASS;
}
