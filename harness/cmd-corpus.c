/*
 * harness/cmd-corpus.c — `qloop corpus minimize`: shrink a fuzzing corpus
 * to the inputs that add coverage (libFuzzer -merge=1, or afl-cmin), without
 * ever putting the corpus itself at risk.
 *
 * Method: the engine writes into a fresh staging directory beside the
 * result (same file system, so the last step is a rename).  The original
 * is replaced only once the engine exited 0 and left at least one input,
 * with SIGINT/SIGTERM/SIGHUP blocked across the two renames, and removed
 * only after that.  A signal during the merge stops the engine's process
 * group and removes the staging directory: the corpus is untouched.  A
 * kill -9 between the renames leaves the original whole inside the staging
 * directory (.<name>.minimize-*), never half of it.
 */
#define _XOPEN_SOURCE 700   /* nftw() */
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "cmd-fuzz.h"

static gchar *opt_engine;
static gchar *opt_out;
static gchar *opt_target;
static gchar *opt_binary;

static GOptionEntry corpus_entries[] = {
    { "engine", 'e', 0, G_OPTION_ARG_STRING, &opt_engine,
      "libfuzzer (-merge=1, default) or afl (afl-cmin)", "ENGINE" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &opt_out,
      "write the minimized corpus to OUT (absent or empty) and keep DIR; "
      "default: replace DIR", "OUT" },
    { "target", 0, 0, G_OPTION_ARG_STRING, &opt_target,
      "loop (default), scn-parse or replay-parse", "TARGET" },
    { "binary", 0, 0, G_OPTION_ARG_FILENAME, &opt_binary,
      "the fuzz target to measure coverage with, instead of building one "
      "(e.g. an OSS-Fuzz build)", "PATH" },
    G_OPTION_ENTRY_NULL,
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int signo)
{
    stop_requested = signo;
}

typedef struct {
    unsigned files;
    uint64_t bytes;
} DirSize;

/* Regular files directly in path (what both engines read as inputs). */
static bool dir_size(const char *path, DirSize *s)
{
    GDir *dir = g_dir_open(path, 0, NULL);
    const char *name;

    s->files = 0;
    s->bytes = 0;
    while (dir && (name = g_dir_read_name(dir))) {
        gchar *file = g_build_filename(path, name, NULL);
        struct stat st;

        if (stat(file, &st) == 0 && S_ISREG(st.st_mode)) {
            s->files++;
            s->bytes += (uint64_t)st.st_size;
        }
        g_free(file);
    }
    if (dir) {
        g_dir_close(dir);
    }
    return dir != NULL;
}

static int remove_one(const char *path, const struct stat *st, int flag,
                      struct FTW *ftw)
{
    /* A file that will not go is reported by the caller's final rmdir. */
    if (remove(path) != 0 && errno != ENOENT) {
        fprintf(stderr, "qloop corpus: cannot remove %s: %s\n", path,
                strerror(errno));
    }
    return 0;
}

static void remove_tree(const char *path)
{
    if (nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0 &&
        errno != ENOENT) {
        fprintf(stderr, "qloop corpus: cannot remove %s: %s\n", path,
                strerror(errno));
    }
}

/* ---- arguments ------------------------------------------------------------------ */

typedef struct {
    bool afl;
    const char *target;
    gchar **dirs;           /* the corpora to minimize; NULL-terminated */
    gchar *result;          /* where the minimized corpus ends up */
    bool in_place;          /* result is dirs[0], replaced */
    gchar *binary;
    FuzzOptions options;
} Minimize;

/* A NULL return is fine; a string is the one line for exit status 2. */
static gchar *check_args(Minimize *m, int argc, char **argv)
{
    struct stat st;

    if (argc < 2 || strcmp(argv[1], "minimize") != 0) {
        return g_strdup(argc < 2 ? "missing subcommand: minimize" :
                        "unknown subcommand (only minimize)");
    }
    if (argc < 3) {
        return g_strdup("minimize: which corpus directory?");
    }
    if (opt_engine && strcmp(opt_engine, "afl") &&
        strcmp(opt_engine, "libfuzzer")) {
        return g_strdup("--engine must be libfuzzer or afl");
    }
    m->afl = opt_engine && !strcmp(opt_engine, "afl");
    m->target = opt_target ? opt_target : "loop";
    if (strcmp(m->target, "loop") && strcmp(m->target, "scn-parse") &&
        strcmp(m->target, "replay-parse")) {
        return g_strdup("--target must be loop, scn-parse or replay-parse");
    }
    for (int i = 2; i < argc; i++) {
        DirSize s;

        if (!dir_size(argv[i], &s)) {
            return g_strdup_printf("%s: not a readable directory", argv[i]);
        }
        if (s.files == 0) {
            return g_strdup_printf("%s: no input files", argv[i]);
        }
    }
    if (argc > 3 && (m->afl || !opt_out)) {
        return g_strdup(m->afl ? "afl-cmin takes one directory" :
                        "several directories merge into one: give -o OUT");
    }
    if (opt_out && stat(opt_out, &st) == 0) {
        DirSize s;

        /* An empty directory is fine: rename(2) replaces it. */
        if (!S_ISDIR(st.st_mode) || !dir_size(opt_out, &s) || s.files) {
            return g_strdup_printf("%s: exists and is not an empty directory",
                                   opt_out);
        }
    }
    m->dirs = g_new0(gchar *, (gsize)argc - 1);
    for (int i = 2; i < argc; i++) {
        m->dirs[i - 2] = g_strdup(argv[i]);
    }
    m->in_place = !opt_out;
    /* Canonical: "dir/" must not put the staging directory inside dir. */
    m->result = g_canonicalize_filename(opt_out ? opt_out : argv[2], NULL);
    return NULL;
}

/* The engine's binary: --binary, or a fresh build of the target. */
static bool find_binary(Minimize *m)
{
    const char *src = fuzz_source_dir();
    const char *flavour = m->afl ? "afl" : "libfuzzer";
    gchar *name = g_strdup_printf("%s-fuzz", m->target);

    if (!fuzz_options_load(src, m->target, &m->options)) {
        g_free(name);
        return false;
    }
    if (m->afl && !fuzz_have_tool("afl-cmin")) {
        fprintf(stderr, "qloop corpus: afl-cmin not found; install it with: "
                "sudo apt-get install -y afl++\n");
    } else if (opt_binary) {
        m->binary = g_strdup(opt_binary);
    } else if (fuzz_build("qloop corpus", src, flavour, cli_variant())) {
        m->binary = g_build_filename(src, "build", "fuzz", flavour, name, NULL);
    }
    g_free(name);
    return m->binary != NULL;
}

/* ---- running the engine --------------------------------------------------------- */

static GPtrArray *engine_argv(const Minimize *m, const char *staging,
                              const char *out)
{
    GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);

    if (m->afl) {
        g_ptr_array_add(argv, g_strdup("afl-cmin"));
        g_ptr_array_add(argv, g_strdup("-i"));
        g_ptr_array_add(argv, g_strdup(m->dirs[0]));
        g_ptr_array_add(argv, g_strdup("-o"));
        g_ptr_array_add(argv, g_strdup(out));
        g_ptr_array_add(argv, g_strdup("-t"));
        g_ptr_array_add(argv, g_strdup_printf("%d", m->options.timeout_s * 1000));
        g_ptr_array_add(argv, g_strdup("--"));
        g_ptr_array_add(argv, g_strdup(m->binary));
    } else {
        g_ptr_array_add(argv, g_strdup(m->binary));
        g_ptr_array_add(argv, g_strdup("-merge=1"));
        g_ptr_array_add(argv, g_strdup_printf("-max_len=%d",
                                              m->options.max_len));
        g_ptr_array_add(argv, g_strdup_printf("-timeout=%d",
                                              m->options.timeout_s));
        /* Inputs that crash during the merge are left out; their crash
         * files go to the staging directory, not the user's cwd. */
        g_ptr_array_add(argv, g_strdup_printf("-artifact_prefix=%s/",
                                              staging));
        g_ptr_array_add(argv, g_strdup(out));
        for (gchar **d = m->dirs; *d; d++) {
            g_ptr_array_add(argv, g_strdup(*d));
        }
    }
    g_ptr_array_add(argv, NULL);
    return argv;
}

/* Run argv in a process group of its own (a terminal's Ctrl-C reaches
 * only us; we stop the group), output to log.  0 on success. */
static int run_engine(GPtrArray *argv, const char *log)
{
    pid_t pid;
    int status = 0;
    bool stopping = false;
    gint64 kill_at_us = 0;

    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        fprintf(stderr, "qloop corpus: fork: %s\n", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        FILE *f = freopen(log, "w", stderr);

        setpgid(0, 0);
        if (!f || dup2(fileno(stderr), STDOUT_FILENO) < 0) {
            _exit(127);
        }
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        /* afl-cmin refuses /tmp and /var/tmp unless told. */
        setenv("AFL_ALLOW_TMP", "1", 1);
        execvp(argv->pdata[0], (char **)argv->pdata);
        fprintf(stderr, "cannot run %s: %s\n", (char *)argv->pdata[0],
                strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid);      /* no race with the child */
    while (waitpid(pid, &status, WNOHANG) != pid) {
        if (stop_requested && !stopping) {
            stopping = true;
            kill(-pid, SIGTERM);
            kill_at_us = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
        }
        if (stopping && g_get_monotonic_time() > kill_at_us) {
            kill(-pid, SIGKILL);
        }
        g_usleep(50 * 1000);
    }
    return stopping ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) :
           128 + WTERMSIG(status);
}

/* ---- the swap -------------------------------------------------------------------- */

/* staging/out becomes the result; in place, the original moves into
 * staging first (and goes with it).  Signals wait until both renames are
 * done, so the result path always holds a whole corpus. */
static bool swap_in(const Minimize *m, const char *staging, const char *out)
{
    gchar *orig = g_build_filename(staging, "original", NULL);
    sigset_t block, old;
    bool ok = true;

    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    sigprocmask(SIG_BLOCK, &block, &old);
    if (m->in_place && rename(m->result, orig) != 0) {
        fprintf(stderr, "qloop corpus: cannot move %s aside: %s\n", m->result,
                strerror(errno));
        ok = false;
    } else if (rename(out, m->result) != 0) {
        fprintf(stderr, "qloop corpus: cannot rename %s to %s: %s\n", out,
                m->result, strerror(errno));
        if (m->in_place && rename(orig, m->result) != 0) {
            /* Cannot happen: we just moved it the other way. */
            fprintf(stderr, "qloop corpus: the original corpus is in %s\n",
                    orig);
            g_free(orig);
            sigprocmask(SIG_SETMASK, &old, NULL);
            exit(EXIT_VERDICT);
        }
        ok = false;
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    g_free(orig);
    return ok;
}

static int minimize(Minimize *m)
{
    gchar *parent = g_path_get_dirname(m->result);
    gchar *base = g_path_get_basename(m->result);
    gchar *tmpl = g_strdup_printf("%s/.%s.minimize-XXXXXX", parent, base);
    gchar *staging = g_mkdtemp(tmpl);
    gchar *out = NULL, *log = NULL;
    GPtrArray *argv = NULL;
    DirSize before = { 0 }, after = { 0 }, s;
    int rc = -1;
    bool ok = false;

    for (gchar **d = m->dirs; *d; d++) {
        dir_size(*d, &s);   /* readable: check_args() listed it */
        before.files += s.files;
        before.bytes += s.bytes;
    }
    if (!staging) {
        fprintf(stderr, "qloop corpus: cannot create a directory in %s: %s\n",
                parent, strerror(errno));
        g_free(tmpl);
        g_free(parent);
        g_free(base);
        return EXIT_USAGE;
    }
    out = g_build_filename(staging, "out", NULL);
    log = g_strdup_printf("%s.log", staging);
    if (m->afl || mkdir(out, 0755) == 0) {     /* afl-cmin makes its own */
        argv = engine_argv(m, staging, out);
        fprintf(stderr, "qloop corpus: %s\n", m->afl ? "afl-cmin" :
                "libFuzzer -merge=1");
        rc = run_engine(argv, log);
    }
    ok = rc == 0 && dir_size(out, &after) && after.files > 0 &&
         !stop_requested && swap_in(m, staging, out);
    remove_tree(staging);
    if (ok) {
        unlink(log);
        printf("qloop corpus minimize: %u files, %" G_GUINT64_FORMAT
               " bytes -> %u files, %" G_GUINT64_FORMAT " bytes (%s) in %s\n",
               before.files, before.bytes, after.files, after.bytes,
               m->afl ? "afl-cmin" : "libFuzzer -merge=1", m->result);
    } else if (stop_requested) {
        unlink(log);    /* asked for: nothing to diagnose */
        fprintf(stderr, "qloop corpus: %s: stopped; %s is untouched\n",
                strsignal(stop_requested), m->dirs[0]);
    } else {
        fprintf(stderr, "qloop corpus: the %s failed (exit %d, %u files "
                "out); %s is untouched; its output: %s\n",
                m->afl ? "afl-cmin" : "merge", rc, after.files, m->dirs[0],
                log);
    }
    if (argv) {
        g_ptr_array_free(argv, TRUE);
    }
    g_free(out);
    g_free(log);
    g_free(tmpl);
    g_free(parent);
    g_free(base);
    return ok ? EXIT_PASS : EXIT_VERDICT;
}

int cmd_corpus(int argc, char **argv)
{
    GOptionContext *oc = g_option_context_new("minimize DIR... - keep the "
                                              "inputs that add coverage");
    GError *gerr = NULL;
    struct sigaction sa = { .sa_handler = on_signal };
    Minimize m = { 0 };
    gchar *bad;
    int rc;

    g_option_context_add_main_entries(oc, corpus_entries, NULL);
    g_option_context_set_description(oc,
        "Minimizes a fuzzing corpus with libFuzzer's -merge=1 (several DIRs\n"
        "merge into -o OUT) or AFL++'s afl-cmin, into a fresh directory; the\n"
        "original is replaced only when that succeeded (or kept, with -o).\n"
        "Ctrl-C stops it and leaves DIR untouched.  max_len and timeout come\n"
        "from fuzz/<target>.options.\n\n"
        "Exit status: 0 minimized, 1 the engine failed or was stopped (DIR\n"
        "untouched), 2 usage or bad input.  See docs/fuzzing.md.\n");
    if (!g_option_context_parse(oc, &argc, &argv, &gerr)) {
        fprintf(stderr, "qloop corpus: %s\n", gerr->message);
        g_error_free(gerr);
        g_option_context_free(oc);
        return EXIT_USAGE;
    }
    g_option_context_free(oc);
    bad = check_args(&m, argc, argv);
    if (bad) {
        fprintf(stderr, "qloop corpus: %s\n", bad);
        g_free(bad);
        return EXIT_USAGE;
    }
    if (!find_binary(&m)) {
        return EXIT_USAGE;
    }
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    rc = minimize(&m);
    g_strfreev(m.dirs);
    g_free(m.result);
    g_free(m.binary);
    return rc;
}
