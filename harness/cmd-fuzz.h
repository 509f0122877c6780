/*
 * harness/cmd-fuzz.h — what `qloop fuzz` and `qloop corpus` share: the
 * source tree and its fuzz build, a target's .options, the AFL++ instance
 * plan, the targets' execution counter, and the progress figures read from
 * the engines' files.
 */
#ifndef QLOOP_HARNESS_CMD_FUZZ_H
#define QLOOP_HARNESS_CMD_FUZZ_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

/* ---- the build (cmd-fuzz-engine.c) ---------------------------------------- */

/* $QLOOP_SOURCE_DIR, else the tree qloop was built from. */
const char *fuzz_source_dir(void);
bool fuzz_have_tool(const char *tool);
/* fuzz/build.sh FLAVOUR [--variant VARIANT] (incremental; "" for the
 * production core).  who: "qloop fuzz" in messages. */
bool fuzz_build(const char *who, const char *src, const char *flavour,
                const char *variant);

/* fuzz/<target>.options, group [libfuzzer]. */
typedef struct {
    int max_len;        /* bytes; -max_len, AFL++'s -G */
    int timeout_s;      /* per input; -timeout, AFL++'s -t (ms) */
} FuzzOptions;

/* Defaults when the file or a key is missing: 4096 bytes (libFuzzer's own
 * default), 30 s.  A malformed file: one line on stderr, false. */
bool fuzz_options_load(const char *src, const char *target, FuzzOptions *o);

/* ---- AFL++ instances (cmd-fuzz-engine.c) --------------------------------- */

/*
 * One afl-fuzz process.  The variations follow AFL++'s "using multiple
 * cores" advice: one main, then secondaries that differ — a CMPLOG build
 * following transformations, a sanitizer build, MOpt (-L 0) on about a
 * third, several power schedules, a few with the old queue cycling (-Z).
 */
typedef struct {
    gchar *name;            /* main-<host>, <host>-s<N>-<tag>: unique per host */
    bool main;              /* -M, else -S */
    const char *schedule;   /* -p; NULL: AFL++'s default (fast) */
    bool mopt;              /* -L 0 */
    bool old_queue;         /* -Z */
    bool cmplog;            /* -c <cmplog build> -l AT */
    bool sanitizer;         /* runs the aflsan build (ASan + UBSan) */
} AflInstance;

/* The host name as instance names use it: [A-Za-z0-9-] only, never empty. */
gchar *fuzz_host_name(void);
/* jobs instances; with_main: the first is -M (off in --sync-dir mode, where
 * the main runs on another machine); cmplog_main: the -M also gets -c. */
AflInstance *fuzz_afl_plan(int jobs, bool with_main, bool cmplog_main);
void fuzz_afl_plan_free(AflInstance *plan, int jobs);

/* ---- the execution counter (cmd-fuzz-progress.c; fuzz/exec-count.h) ---- */

#define FUZZ_EXECS_ENV "QLOOP_FUZZ_EXECS"

/* Create path holding a zero count and map it; NULL (with a line on stderr)
 * when it cannot be made. */
uint64_t *fuzz_exec_counter_create(const char *path);
uint64_t fuzz_exec_counter_read(const uint64_t *counter);
void fuzz_exec_counter_close(uint64_t *counter);

/* ---- progress figures (cmd-fuzz-progress.c) ------------------------------ */

typedef struct {
    uint64_t execs;         /* the engine's own count (0: not known yet) */
    uint64_t corpus, coverage;
    double stability_pct;   /* AFL++ only; < 0: not known */
} EngineFigures;

/* libFuzzer: the last "#N ... cov: ... corp: ..." line of its log. */
void fuzz_figures_libfuzzer(const char *log, EngineFigures *f);
/* AFL++: every instance under sync_dir: corpus = the largest queue/ (live),
 * coverage = the largest edges_found (plot_data, every 5 s), execs summed
 * from fuzzer_stats (every 60 s and at exit), stability the lowest. */
void fuzz_figures_afl(const char *sync_dir, EngineFigures *f);

/*
 * Seeds AFL++'s dry run found crashing or hanging: with `-t N+` it skips
 * them ("Test case 'NAME' results in a crash, skipping"), without it it
 * aborts; either way it writes no crashes/ or hangs/ file, and the finding
 * would be lost.  For each such line of log whose INSTANCE_DIR/queue/NAME
 * exists, appends that path to out (when not NULL); returns how many.
 */
unsigned fuzz_afl_seed_findings(const char *log, const char *instance_dir,
                                GPtrArray *out);

/* exec/s from real deltas: the count now against the count a few seconds
 * ago, so one stale or early sample cannot give an absurd rate. */
#define RATE_WINDOW_SAMPLES 6   /* ~5 s at one sample a second */
typedef struct {
    double t_s[RATE_WINDOW_SAMPLES];
    uint64_t execs[RATE_WINDOW_SAMPLES];
    unsigned count, next;
} RateWindow;

double rate_window_push(RateWindow *w, double t_s, uint64_t execs);

#endif
