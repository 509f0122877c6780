/*
 * fuzz/scn-replay.c — the text half of the committed corpus, for the
 * coverage report: runs .scn scenarios and replay files through the same
 * runner and reference model as the loop target.
 *
 *   scn-replay [--runs N] FILE|DIR...
 *
 * The loop target's corpus (corpus/loop/) is raw decoder bytes, and the
 * decoder keeps to what it can prove terminates: at most 4 BHs, 2 fds and
 * 3 timers, one job waited for at once.  Scenarios written by hand reach
 * further — a timer heap deep enough to sift down, two jobs queued behind
 * one pool worker, a handler unlinked from the middle of the list — so
 * fuzz/coverage.sh also runs docs/examples/, corpus/regressions/ and
 * corpus/coverage/ through this driver.
 *
 * Method: a .scn runs N random schedules (seeds 1..N, default 200), each
 * with a swarm-drawn fault mask from every fault bit, the seam's too, the
 * even seeds with each drawn fault point firing half the time; a
 * replay file replays its recorded choices and must end with its recorded
 * verdict (the hash is not checked: regression corpora outlive trace
 * format changes).  NAME.VARIANT.replay records a run of a core variant
 * (qloop-VARIANT) and is skipped here.  Fuzzer-byte files are the loop
 * target's job (loop-fuzz) and are refused.
 * Exit status: 0 every run passed, 1 a run failed (with the command that
 * reproduces it), 2 usage or an unreadable input.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <glib.h>

#include "cli.h"
#include "runner.h"

/* Schedules per .scn: enough for the swarm to draw each seam fault many
 * times, few enough that the report stays a matter of seconds. */
#define RUNS_DEFAULT 200
#define RUNS_MAX 10000
#define FAULT_PERMILLE_HIGH 500

static unsigned runs = RUNS_DEFAULT;
static unsigned files_run, runs_done;

/* A NAME.VARIANT.replay file: a run of a core variant, not of this core. */
static bool is_variant_replay(const char *path)
{
    gchar *base = g_path_get_basename(path);
    char *dot = strchr(base, '.');
    bool variant = g_str_has_suffix(base, ".replay") && dot &&
                   strchr(dot + 1, '.') != NULL;

    g_free(base);
    return variant;
}

static int run_scenario(const Input *in)
{
    for (unsigned seed = 1; seed <= runs; seed++) {
        SimConfig config;
        RunResult r;
        SimVerdict v;

        cli_input_config(in, &config);
        config.seed = seed;
        config.swarm = true;
        config.swarm_faults = SIM_FAULT_EVERY;
        /* Even seeds fire each drawn fault point one time in two, not the
         * default 2 %: the few points met once per run (creating the
         * context's eventfd, the main loop's signalfd) fail too. */
        if (seed % 2 == 0) {
            config.fault_permille = FAULT_PERMILLE_HIGH;
        }
        v = runner_run(&in->replay.scenario, &config, true, &r);
        runs_done++;
        if (v != SIM_OK) {
            fprintf(stderr, "%s:0: verdict %s with seed %u\n%s\n"
                    "reproduce: scn-replay --runs %u %s (seed %u%s)\n",
                    in->path, sim_verdict_name(v), seed, r.story, seed,
                    in->path, seed,
                    seed % 2 ? "" : ", faults at 50 %");
            run_result_clear(&r);
            return 1;
        }
        run_result_clear(&r);
    }
    return 0;
}

static int run_replay(const Input *in)
{
    SimConfig config;
    RunResult r;
    const char *got;
    int status = 0;

    cli_input_config(in, &config);
    runner_run(&in->replay.scenario, &config, true, &r);
    runs_done++;
    got = sim_verdict_name(r.verdict);
    if (strcmp(got, in->replay.verdict) != 0) {
        const char *v = in->replay.variant;

        fprintf(stderr, "%s:0: verdict %s, the file records %s\n"
                "reproduce: qloop%s%s replay --ignore-hash --expect-recorded "
                "%s\n", in->path, got, in->replay.verdict, *v ? "-" : "", v,
                in->path);
        status = 1;
    }
    run_result_clear(&r);
    return status;
}

static int run_file(const char *path)
{
    Input in;
    int status;

    if (is_variant_replay(path)) {
        fprintf(stderr, "skipping %s (a core variant's run)\n", path);
        return 0;
    }
    if (!cli_load(path, &in, false)) {
        return 2;
    }
    fprintf(stderr, "running %s\n", path);
    switch (in.kind) {
    case INPUT_SCENARIO:
        status = run_scenario(&in);
        break;
    case INPUT_REPLAY:
        if (strcmp(in.replay.variant, cli_variant()) != 0) {
            /* Made on another core (its "variant" line): not this one's. */
            fprintf(stderr, "skipping %s (made by %s%s)\n", path,
                    *in.replay.variant ? "variant " : "the production core",
                    in.replay.variant);
            status = 0;
            break;
        }
        status = run_replay(&in);
        break;
    default:
        fprintf(stderr, "%s:0: fuzzer bytes: run them with loop-fuzz\n", path);
        status = 2;
        break;
    }
    files_run++;
    cli_input_clear(&in);
    return status;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A directory: its .scn and .replay files, sorted (README and the like
 * are not inputs). */
static int run_path(const char *path)
{
    struct stat st;
    GDir *dir;
    GPtrArray *names;
    const char *name;
    int status = 0;

    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        return run_file(path);
    }
    dir = g_dir_open(path, 0, NULL);
    if (!dir) {
        fprintf(stderr, "%s:0: cannot open directory\n", path);
        return 2;
    }
    names = g_ptr_array_new_with_free_func(g_free);
    while ((name = g_dir_read_name(dir)) != NULL) {
        if (g_str_has_suffix(name, ".scn") || g_str_has_suffix(name, ".replay")) {
            g_ptr_array_add(names, g_build_filename(path, name, NULL));
        }
    }
    g_dir_close(dir);
    qsort(names->pdata, names->len, sizeof(char *), by_name);
    for (guint i = 0; i < names->len && status == 0; i++) {
        status = run_file(g_ptr_array_index(names, i));
    }
    g_ptr_array_free(names, true);
    return status;
}

int main(int argc, char **argv)
{
    int status = 0, i = 1;

    if (argc > 2 && !strcmp(argv[1], "--runs")) {
        char *end;
        unsigned long n = strtoul(argv[2], &end, 10);

        if (*end || n < 1 || n > RUNS_MAX) {
            fprintf(stderr, "scn-replay: --runs needs 1..%d\n", RUNS_MAX);
            return 2;
        }
        runs = (unsigned)n;
        i = 3;
    }
    if (i >= argc) {
        fprintf(stderr, "usage: scn-replay [--runs N] FILE|DIR...\n");
        return 2;
    }
    for (; i < argc && status == 0; i++) {
        status = run_path(argv[i]);
    }
    fprintf(stderr, "scn-replay: %u files, %u runs%s\n", files_run, runs_done,
            status ? ", stopped at the first failure" : " without a finding");
    return status;
}
