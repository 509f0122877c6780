/*
 * harness/cmd-fuzz.c — `qloop fuzz`: a fuzzing campaign on every core, with
 * its findings replayed, shrunk, de-duplicated and written as replay files.
 *
 * Method: build the target with fuzz/build.sh (incremental; the source
 * tree is QLOOP_SOURCE_DIR, compiled in, or $QLOOP_SOURCE_DIR), start the
 * engine in a process group of its own — libFuzzer in process at one job
 * (restarted after a crash) or with -fork=N, or N AFL++ instances (one
 * -M main-<host>, varied -S secondaries: cmd-fuzz-engine.c) — with the
 * limits of fuzz/<target>.options, and print one progress line a second:
 * executions counted by the target itself (fuzz/exec-count.h), the rest
 * from the engines' files (cmd-fuzz-progress.c).  --dry-run prints the
 * engine command lines instead.  At the deadline, or on SIGINT/SIGTERM,
 * the group gets SIGTERM (SIGKILL 5 s later) and is waited for.  Then the
 * crash files are triaged by `qloop triage` (harness/triage.c) — the qloop
 * that fuzz/build.sh linked beside the libFuzzer target from the same
 * objects, so the core (and the variant: qloop-NAME fuzz builds with
 * --variant NAME) that crashed is the one that replays: each file replayed
 * in a child, signed by verdict kind and function names, de-duplicated,
 * shrunk to OUT/findings/<slug>.replay next to the raw input, and
 * re-checked from its replay.  The corpus stays in OUT/corpus, the
 * engine's files in OUT/engine.
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
#include "cmd-fuzz.h"
#include "decode.h"
#include "shrink.h"
#include "spawn.h"

static gchar *opt_engine;
static gint opt_time = 60;
static gint opt_jobs;
static gchar *opt_out;
static gchar *opt_target;
static gchar *opt_memory;
static gboolean opt_value_profile;
static gboolean opt_cmplog;
static gint opt_seeds = 50;
static gboolean opt_dry_run;
static gchar *opt_sync_dir;

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
    { "memory", 0, 0, G_OPTION_ARG_STRING, &opt_memory,
      "Memory model for the fuzz targets (QLOOP_SIM_MEMORY): sc (default), tso, pso, c11", "MODE" },
    { "target", 0, 0, G_OPTION_ARG_STRING, &opt_target,
      "loop (default), scn-parse or replay-parse", "TARGET" },
    { "value-profile", 0, 0, G_OPTION_ARG_NONE, &opt_value_profile,
      "libFuzzer: -use_value_profile=1 (comparison operands as feedback)",
      NULL },
    { "cmplog", 0, 0, G_OPTION_ARG_NONE, &opt_cmplog,
      "AFL++: give the -M instance a CMPLOG build too (-c, -l AT); from "
      "two jobs one secondary always has one", NULL },
    { "sync-dir", 0, 0, G_OPTION_ARG_FILENAME, &opt_sync_dir,
      "AFL++: join a campaign on several machines: secondaries only, "
      "syncing through DIR (docs/fuzzing.md)", "DIR" },
    { "dry-run", 'n', 0, G_OPTION_ARG_NONE, &opt_dry_run,
      "print the engine command lines and exit: no build, no run", NULL },
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
    gchar *sanitizer_binary;    /* the aflsan build: one AFL++ secondary */
    gchar *afl_dir;             /* AFL++'s -o: OUT/engine/afl, or the
                                   --sync-dir (OUT/engine/afl links to it) */
    FuzzOptions options;        /* fuzz/<target>.options */
    AflInstance *plan;          /* AFL++: jobs instances */
    gchar *execs_path;          /* the targets' execution counter */
    uint64_t *execs;            /* ... mapped; NULL in a dry run */
} Campaign;

static volatile sig_atomic_t stop_requested;

static void on_signal(int signo)
{
    stop_requested = signo;
}

/* ---- setup ----------------------------------------------------------------- */

static bool check_tools(const Campaign *c)
{
    if (!fuzz_have_tool("clang")) {
        fprintf(stderr, "qloop fuzz: clang not found; install it with:\n"
                "    sudo apt-get install -y clang libclang-rt-14-dev llvm\n");
        return false;
    }
    if (c->afl && (!fuzz_have_tool("afl-fuzz") ||
                   !fuzz_have_tool("afl-clang-fast"))) {
        fprintf(stderr, "qloop fuzz: AFL++ not found; install it with:\n"
                "    sudo apt-get install -y afl++\n");
        return false;
    }
    return true;
}

/* The engine's build, and for AFL++ the CMPLOG and sanitizer builds when
 * an instance of the plan runs them. */
static bool build_all(const Campaign *c)
{
    bool cmplog = false, sanitizer = false;

    for (int i = 0; c->afl && i < c->jobs; i++) {
        cmplog |= c->plan[i].cmplog;
        sanitizer |= c->plan[i].sanitizer;
    }
    /* AFL++ builds carry no sanitizer: their crash files are triaged with
     * the libFuzzer flavour's qloop, the same sources under ASan+UBSan. */
    return fuzz_build("qloop fuzz", c->src, c->afl ? "afl" : "libfuzzer", cli_variant()) &&
           (!c->afl || fuzz_build("qloop fuzz", c->src, "libfuzzer", cli_variant())) &&
           (!cmplog || fuzz_build("qloop fuzz", c->src, "cmplog", cli_variant())) &&
           (!sanitizer || fuzz_build("qloop fuzz", c->src, "aflsan", cli_variant()));
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

/*
 * --sync-dir: AFL++'s -o is DIR, shared with other machines, while the
 * triage still looks for crashes under OUT/engine/afl — so that becomes a
 * link to DIR.  An existing directory there is a previous campaign's:
 * refuse rather than hide it.
 */
static bool link_sync_dir(const Campaign *c)
{
    gchar *link = g_build_filename(c->engine_dir, "afl", NULL);
    gchar *old = g_file_read_link(link, NULL);
    bool ok = true;

    if (!mkdirs(c->afl_dir)) {
        ok = false;
    } else if (old) {
        if (strcmp(old, c->afl_dir) != 0) {
            fprintf(stderr, "qloop fuzz: %s already links to %s, not %s: "
                    "use another -o\n", link, old, c->afl_dir);
            ok = false;
        }
    } else if (g_file_test(link, G_FILE_TEST_EXISTS)) {
        fprintf(stderr, "qloop fuzz: %s holds a campaign without "
                "--sync-dir: use another -o\n", link);
        ok = false;
    } else if (symlink(c->afl_dir, link) != 0) {
        fprintf(stderr, "qloop fuzz: cannot link %s to %s: %s\n", link,
                c->afl_dir, strerror(errno));
        ok = false;
    }
    g_free(old);
    g_free(link);
    return ok;
}

/* build/fuzz/<flavour>[-VARIANT]/<name> in the source tree. */
static gchar *fuzz_build_path(const Campaign *c, const char *flavour,
                              const char *name)
{
    const char *variant = cli_variant();
    gchar *dir = g_strconcat(flavour, *variant ? "-" : "", variant, NULL);
    gchar *path = g_build_filename(c->src, "build", "fuzz", dir, name, NULL);

    g_free(dir);
    return path;
}

static bool campaign_init(Campaign *c)
{
    const char *flavour = c->afl ? "afl" : "libfuzzer";
    gchar *bin_name = g_strdup_printf("%s-fuzz", c->target);
    gchar *dict_name = g_strdup_printf("%s.dict", c->target);
    gchar *execs;

    c->src = g_strdup(fuzz_source_dir());
    c->out = g_strdup(opt_out ? opt_out : "fuzz-out");
    c->corpus = g_build_filename(c->out, "corpus", NULL);
    c->engine_dir = g_build_filename(c->out, "engine", NULL);
    c->findings = g_build_filename(c->out, "findings", NULL);
    c->afl_dir = opt_sync_dir ? g_canonicalize_filename(opt_sync_dir, NULL) :
                 g_build_filename(c->engine_dir, "afl", NULL);
    /* Absolute: the targets run wherever the engine puts them. */
    execs = g_build_filename(c->engine_dir, "execs", NULL);
    c->execs_path = g_canonicalize_filename(execs, NULL);
    g_free(execs);
    c->seeds = g_build_filename(c->src, "corpus", c->target, NULL);
    c->binary = fuzz_build_path(c, flavour, bin_name);
    c->cmplog_binary = fuzz_build_path(c, "cmplog", bin_name);
    c->sanitizer_binary = fuzz_build_path(c, "aflsan", bin_name);
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
    if (!fuzz_options_load(c->src, c->target, &c->options)) {
        return false;
    }
    if (c->afl) {
        c->plan = fuzz_afl_plan(c->jobs, !opt_sync_dir, opt_cmplog);
    }
    if (opt_dry_run) {
        return true;
    }
    if (!check_tools(c) || !build_all(c)) {
        return false;
    }
    if (!mkdirs(c->corpus) || !mkdirs(c->engine_dir) || !mkdirs(c->findings) ||
        (opt_sync_dir && !link_sync_dir(c))) {
        return false;
    }
    copy_dir(c->seeds, c->corpus, "");
    c->execs = fuzz_exec_counter_create(c->execs_path);
    return c->execs != NULL;
}

/* ---- engines ----------------------------------------------------------------- */

/* A dry run: the command as a shell would take it, environment first. */
static void print_command(GPtrArray *argv, const char *const *env)
{
    /* Inherited, not in env: --memory sets it for every target. */
    if (opt_memory) {
        printf("QLOOP_SIM_MEMORY=%s ", opt_memory);
    }
    for (const char *const *e = env; e && *e; e += 2) {
        gchar *q = g_shell_quote(e[1]);

        printf("%s=%s ", e[0], q);
        g_free(q);
    }
    for (guint i = 0; i < argv->len && argv->pdata[i]; i++) {
        gchar *q = g_shell_quote(argv->pdata[i]);

        printf("%s%s", i ? " " : "", q);
        g_free(q);
    }
    printf("\n");
}

/* Start argv in the campaign's process group, output to log. */
static bool spawn(Campaign *c, GPtrArray *argv, const char *log,
                  const char *const *env)
{
    pid_t pid;

    g_ptr_array_add(argv, NULL);
    if (opt_dry_run) {
        print_command(argv, env);
        return true;
    }
    if (c->pids->len == 0) {
        c->pgid = 0;    /* a restart: the old group died with its members */
    }
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

/*
 * One job runs in process: -fork=1 would cost a process per job and a
 * corpus reload each time (1.4x to 2.7x fewer exec/s, docs/fuzzing.md),
 * and buys only surviving a crash, which run_campaign() gives back by
 * restarting.  From two jobs,
 * -fork=N is libFuzzer's way to use N cores and go on past crashes.
 */
static bool start_libfuzzer(Campaign *c, int time_s)
{
    GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
    gchar *log = g_build_filename(c->engine_dir, "libfuzzer.log", NULL);
    const char *env[] = { FUZZ_EXECS_ENV, c->execs_path, NULL };
    bool ok;

    add(argv, g_strdup(c->binary));
    if (c->jobs > 1) {
        add(argv, g_strdup_printf("-fork=%d", c->jobs));
        add(argv, g_strdup("-ignore_crashes=1"));
        add(argv, g_strdup("-ignore_timeouts=1"));
        add(argv, g_strdup("-ignore_ooms=1"));
    }
    add(argv, g_strdup_printf("-timeout=%d", c->options.timeout_s));
    add(argv, g_strdup_printf("-max_len=%d", c->options.max_len));
    add(argv, g_strdup_printf("-max_total_time=%d", time_s));
    add(argv, g_strdup_printf("-artifact_prefix=%s/", c->engine_dir));
    add(argv, g_strdup("-print_final_stats=1"));
    if (opt_dry_run || g_file_test(c->dict, G_FILE_TEST_EXISTS)) {
        add(argv, g_strdup_printf("-dict=%s", c->dict));
    }
    if (opt_value_profile) {
        add(argv, g_strdup("-use_value_profile=1"));
    }
    add(argv, g_strdup(c->corpus));
    /* A copy of argv survives spawn()'s NULL; it owns the strings. */
    ok = spawn(c, argv, log, env);
    g_ptr_array_free(argv, TRUE);
    g_free(log);
    return ok;
}

/* One afl-fuzz command line for one instance of the plan. */
static GPtrArray *afl_argv(const Campaign *c, const AflInstance *inst)
{
    GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);

    add(argv, g_strdup("afl-fuzz"));
    add(argv, g_strdup("-i"));
    add(argv, g_strdup(c->corpus));
    add(argv, g_strdup("-o"));
    add(argv, g_strdup(c->afl_dir));
    add(argv, g_strdup(inst->main ? "-M" : "-S"));
    add(argv, g_strdup(inst->name));
    add(argv, g_strdup("-V"));
    add(argv, g_strdup_printf("%d", opt_time));
    /* "+": seeds that time out are skipped, not fatal. */
    add(argv, g_strdup("-t"));
    add(argv, g_strdup_printf("%d+", c->options.timeout_s * 1000));
    add(argv, g_strdup("-G"));      /* AFL++'s -max_len */
    add(argv, g_strdup_printf("%d", c->options.max_len));
    if (opt_dry_run || g_file_test(c->dict, G_FILE_TEST_EXISTS)) {
        add(argv, g_strdup("-x"));
        add(argv, g_strdup(c->dict));
    }
    if (inst->schedule) {
        add(argv, g_strdup("-p"));
        add(argv, g_strdup(inst->schedule));
    }
    if (inst->mopt) {
        add(argv, g_strdup("-L"));
        add(argv, g_strdup("0"));
    }
    if (inst->old_queue) {
        add(argv, g_strdup("-Z"));
    }
    if (inst->cmplog) {
        add(argv, g_strdup("-c"));
        add(argv, g_strdup(c->cmplog_binary));
        add(argv, g_strdup("-l"));  /* follow transformations, arithmetic */
        add(argv, g_strdup("AT"));
    }
    add(argv, g_strdup("--"));
    add(argv, g_strdup(inst->sanitizer ? c->sanitizer_binary : c->binary));
    return argv;
}

static bool start_afl(Campaign *c)
{
    const char *const env[] = {
        "AFL_NO_UI", "1", "AFL_SKIP_CPUFREQ", "1", "AFL_AUTORESUME", "1",
        "AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES", "1", "AFL_NO_AFFINITY", "1",
        "AFL_IMPORT_FIRST", "1", FUZZ_EXECS_ENV, c->execs_path, NULL,
    };
    bool ok = true;

    for (int i = 0; i < c->jobs && ok; i++) {
        GPtrArray *argv = afl_argv(c, &c->plan[i]);
        gchar *log = g_strdup_printf("%s/afl-%s.log", c->engine_dir,
                                     c->plan[i].name);

        ok = spawn(c, argv, log, env);
        g_ptr_array_free(argv, TRUE);
        g_free(log);
    }
    return ok;
}

/* ---- progress ---------------------------------------------------------------- */

static unsigned count_findings(const Campaign *c);

/*
 * Executions: the targets' own counter (live); the engine's count only when
 * the counter stayed at zero (a target built before it existed).  exec/s:
 * the counter's change over the last seconds; on the final line, the
 * campaign's mean (start-up included: it is what the campaign got).
 */
static void show_progress(const Campaign *c, double elapsed, bool final)
{
    static RateWindow window;
    static double last_line;
    EngineFigures f = { 0 };
    bool tty = isatty(STDERR_FILENO);
    uint64_t execs;
    double rate;
    gchar *stability;

    if (c->afl) {
        fuzz_figures_afl(c->afl_dir, &f);
    } else {
        gchar *log = g_build_filename(c->engine_dir, "libfuzzer.log", NULL);

        fuzz_figures_libfuzzer(log, &f);
        g_free(log);
    }
    execs = fuzz_exec_counter_read(c->execs);
    if (execs == 0) {
        execs = f.execs;
    }
    rate = rate_window_push(&window, elapsed, execs);
    if (final) {
        rate = elapsed > 0 ? (double)execs / elapsed : 0;
    }
    if (!final && !tty && elapsed - last_line < 10) {
        return;     /* a log, not a terminal: one line every 10 s */
    }
    last_line = elapsed;
    stability = f.stability_pct >= 0 ?
        g_strdup_printf("  stability %.1f%%", f.stability_pct) : g_strdup("");
    fprintf(stderr, "%s[%5.0fs] %s x%d  execs %" PRIu64 "  exec/s %.0f%s"
            "  corpus %" PRIu64 "  coverage %" PRIu64 "  findings %u%s%s",
            tty ? "\r\033[K" : "", elapsed, c->afl ? "afl" : "libfuzzer",
            c->jobs, execs, rate, final ? " (mean)" : "", f.corpus,
            f.coverage, count_findings(c), stability,
            tty && !final ? "" : "\n");
    g_free(stability);
}

/* ---- running and stopping ----------------------------------------------------- */

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
    double deadline = spawn_now_s() + 5;

    if (c->pgid && c->pids->len) {
        kill(-c->pgid, SIGTERM);
    }
    while (any_alive(c) && spawn_now_s() < deadline) {
        g_usleep(50 * 1000);
    }
    if (any_alive(c)) {
        kill(-c->pgid, SIGKILL);
        while (any_alive(c)) {
            g_usleep(50 * 1000);
        }
    }
}

/* In-process libFuzzer ends at its first crash; a campaign should not.
 * Each restart reloads the corpus (~1 s), so a crash found again at once
 * cannot spin for long, and the count is bounded besides. */
#define LIBFUZZER_RESTARTS_MAX 50

static bool restart_libfuzzer(Campaign *c, double elapsed_s,
                              unsigned *findings_seen, unsigned *restarts)
{
    unsigned findings = count_findings(c);
    int left_s = opt_time - (int)elapsed_s;
    bool crashed = findings > *findings_seen;

    *findings_seen = findings;
    if (c->afl || c->jobs != 1 || !crashed || left_s < 2 ||
        *restarts >= LIBFUZZER_RESTARTS_MAX) {
        return false;
    }
    (*restarts)++;
    fprintf(stderr, "%sqloop fuzz: libFuzzer stopped at a crash; restarting "
            "it for the %d s left (restart %u)\n",
            isatty(STDERR_FILENO) ? "\n" : "", left_s, *restarts);
    return start_libfuzzer(c, left_s);
}

static void run_campaign(Campaign *c)
{
    struct sigaction sa = { .sa_handler = on_signal };
    double start = spawn_now_s();
    unsigned findings_seen = count_findings(c), restarts = 0;

    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    for (;;) {
        double elapsed = spawn_now_s() - start;

        if (stop_requested || elapsed >= opt_time + 15 ||
            (!any_alive(c) &&
             !restart_libfuzzer(c, elapsed, &findings_seen, &restarts))) {
            break;
        }
        g_usleep(1000 * 1000);
        show_progress(c, spawn_now_s() - start, false);
    }
    if (stop_requested) {
        fprintf(stderr, "\nqloop fuzz: %s: stopping the engines\n",
                strsignal(stop_requested));
    }
    stop_engines(c);
    show_progress(c, spawn_now_s() - start, true);
}

/* ---- findings -------------------------------------------------------------- */

/* Raw crash files: libFuzzer crash-/leak-/timeout-/oom-*, AFL++ crashes/id:*
 * and hangs/id:*, and the seeds AFL++'s dry run skipped as crashing or
 * hanging (queue/ entries named in its log).  Appends paths to out when
 * not NULL; returns how many. */
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
            gchar *inst = g_build_filename(sync, name, NULL);
            gchar *log = g_strdup_printf("%s/afl-%s.log", c->engine_dir,
                                         name);

            /* Seeds that crash the core before fuzzing starts. */
            n += fuzz_afl_seed_findings(log, inst, out);
            g_free(log);
            g_free(inst);
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

/* One line naming what is wrong, for exit status 2. */
static const char *check_options(const Campaign *c, int argc)
{
    if (opt_engine && !c->afl && strcmp(opt_engine, "libfuzzer")) {
        return "--engine must be libfuzzer or afl";
    }
    if (strcmp(c->target, "loop") && strcmp(c->target, "scn-parse") &&
        strcmp(c->target, "replay-parse")) {
        return "--target must be loop, scn-parse or replay-parse";
    }
    if (opt_time <= 0) {
        return "--time must be a positive number of seconds";
    }
    if (opt_jobs < 0 || c->jobs > 1024) {
        return "--jobs must be from 1 to 1024";
    }
    if (opt_sync_dir && !c->afl) {
        return "--sync-dir is for --engine afl (libFuzzer corpora merge with "
               "qloop corpus minimize)";
    }
    if (argc != 1) {
        return "unexpected argument (see --help)";
    }
    return NULL;
}

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
    g_free(c->sanitizer_binary);
    g_free(c->dict);
    g_free(c->triage_qloop);
    g_free(c->afl_dir);
    g_free(c->execs_path);
    if (c->pids) {
        g_ptr_array_free(c->pids, TRUE);
    }
}

static bool parse_options(int *argc, char ***argv, Campaign *c)
{
    GOptionContext *oc = g_option_context_new("- fuzz the loop core (or a "
                                              "parser) on every CPU");
    GError *gerr = NULL;
    const char *bad;

    g_option_context_add_main_entries(oc, fuzz_entries, NULL);
    g_option_context_set_description(oc,
        "Builds the fuzz target with fuzz/build.sh (clang; AFL++ for --engine\n"
        "afl), fuzzes for --time seconds, then replays, shrinks and de-\n"
        "duplicates every finding into OUT/findings/*.replay.  Ctrl-C stops\n"
        "early and keeps everything.\n\n"
        "libFuzzer: one job runs in process (restarted after a crash), more\n"
        "with -fork=N; -max_len and -timeout come from fuzz/<target>.options.\n"
        "AFL++: -M main-<host>, then -S <host>-s<N>-<variant> secondaries that\n"
        "differ (CMPLOG -l AT, a sanitizer build, MOpt, power schedules, -Z).\n"
        "--sync-dir DIR: secondaries only, -o DIR, to join a main elsewhere.\n"
        "The progress line counts executions in the target itself, live.\n"
        "OUT/corpus only grows: `qloop corpus minimize OUT/corpus` shrinks it.\n\n"
        "Exit status: 0 no finding, 1 findings (or crash files that did not\n"
        "reproduce), 2 usage or a missing tool.  See docs/fuzzing.md.\n");
    if (!g_option_context_parse(oc, argc, argv, &gerr)) {
        fprintf(stderr, "qloop fuzz: %s\n", gerr->message);
        g_error_free(gerr);
        g_option_context_free(oc);
        return false;
    }
    g_option_context_free(oc);
    c->afl = opt_engine && !strcmp(opt_engine, "afl");
    c->target = opt_target ? opt_target : "loop";
    if (opt_memory) {
        SimMemoryModel model;

        if (!sim_memory_parse(opt_memory, &model)) {
            fprintf(stderr, "qloop fuzz: unknown memory model '%s' (sc, tso, "
                    "pso, c11)\n", opt_memory);
            return false;
        }
        /* The targets (and this process's replays of their findings)
         * take their default memory model from the environment. */
        g_setenv("QLOOP_SIM_MEMORY", opt_memory, TRUE);
    }
    c->jobs = opt_jobs > 0 ? opt_jobs : (int)g_get_num_processors();
    bad = check_options(c, *argc);
    if (bad) {
        fprintf(stderr, "qloop fuzz: %s\n", bad);
        return false;
    }
    return true;
}

/* AFL++'s queue into OUT/corpus: the main's, which imports everything its
 * secondaries found; without a local main (--sync-dir), every local
 * instance's. */
static void collect_afl_queues(const Campaign *c)
{
    for (int i = 0; i < c->jobs; i++) {
        gchar *queue = g_build_filename(c->afl_dir, c->plan[i].name, "queue",
                                        NULL);
        gchar *prefix = g_strdup_printf("afl-%s-", c->plan[i].name);

        copy_dir(queue, c->corpus, prefix);
        g_free(prefix);
        g_free(queue);
        if (c->plan[i].main) {
            break;
        }
    }
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
    if (!opt_dry_run) {
        fprintf(stderr, "qloop fuzz: %s on target %s, %d job%s, %d s; output "
                "in %s\n", c.afl ? "AFL++" : "libFuzzer", c.target, c.jobs,
                c.jobs == 1 ? "" : "s", opt_time, c.out);
    }
    started = c.afl ? start_afl(&c) : start_libfuzzer(&c, opt_time);
    if (opt_dry_run) {
        fuzz_afl_plan_free(c.plan, c.jobs);
        campaign_free(&c);
        return started ? EXIT_PASS : EXIT_USAGE;
    }
    if (!started) {
        stop_engines(&c);
        campaign_free(&c);
        return EXIT_USAGE;
    }
    run_campaign(&c);
    if (c.afl) {
        collect_afl_queues(&c);
    }
    fuzz_exec_counter_close(c.execs);
    t = triage_all(&c);
    printf("qloop fuzz: done.  corpus: %s  engine files: %s\n", c.corpus,
           c.engine_dir);
    printf("shrink the corpus before the next campaign: qloop corpus "
           "minimize %s%s\n", c.corpus, c.afl ? " --engine afl" : "");
    if (!t.raw) {
        printf("findings: none\n");
    } else if (t.unique) {
        printf("replay a finding with the command printed above; move it "
               "to corpus/regressions/ once understood\n");
    }
    fuzz_afl_plan_free(c.plan, c.jobs);
    campaign_free(&c);
    return t.raw ? EXIT_VERDICT : EXIT_PASS;
}
