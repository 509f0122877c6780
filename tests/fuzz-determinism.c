/*
 * tests/fuzz-determinism.c — an input of the loop target runs in a fuzzing
 * process as it replays alone.
 *
 * Why: libFuzzer and AFL++'s persistent mode run millions of inputs in one
 * process.  State a run leaves behind (a static of the core, the runner or
 * the simulator that the next run does not reset) changes the course of
 * the next input, and a verdict found that way is a crash file nobody can
 * replay (`qloop replay` runs it in a fresh process).  Such leaks have
 * been: the main-loop timer lists of a failed qemu_init_main_loop(), and
 * the iohandler_ctx of a run whose world was abandoned by a hang that
 * passes — the next run took them over, fds and all, and livelocked.
 *
 * Method: each input's signature (verdict, steps, trace hash, model
 * outcome) alone, in a forked child (a fresh process, as `qloop replay`);
 * then every input in one process in three orders — sorted, reversed, and
 * a stride through the list — so that each runs after three different
 * predecessors; every signature must be its alone one.  The run is the
 * loop target's (fuzz/loop-fuzz.c), with the trace hash on.
 *
 *   fuzz-determinism corpus/loop...     exit 0 same, 1 a difference
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>

#include "decode.h"
#include "runner.h"

typedef struct {
    uint64_t hash, steps, outcome;
    int32_t verdict;
    uint32_t choices;
} Sig;

typedef struct {
    char *path;
    gchar *data;
    gsize len;
    Sig alone;
} Input;

static Scenario scenario;      /* ~100 KB: not on the stack */

static Sig run_input(const Input *in)
{
    const uint8_t *tape;
    size_t tape_len;
    SimConfig config;
    RunResult r;
    Sig sig;

    scn_decode((const uint8_t *)in->data, in->len, &scenario, &tape,
               &tape_len);
    sim_config_default(&config);
    config.tape = SIM_TAPE_BYTES;
    config.bytes = tape;
    config.bytes_len = tape_len;
    config.faults = scenario.faults;
    /* The livelocks this guards against are cut short: a difference shows
     * in the steps long before. */
    config.step_limit = 2 * 1000 * 1000;
    runner_run(&scenario, &config, true, &r);
    memset(&sig, 0, sizeof(sig));
    sig.hash = r.hash;
    sig.steps = r.steps;
    sig.outcome = r.outcome;
    sig.verdict = (int32_t)r.verdict;
    sig.choices = r.choice_count;
    run_result_clear(&r);
    sim_release();
    return sig;
}

/* In a child: the process is fresh, as `qloop replay FILE` finds it. */
static Sig run_alone(const Input *in)
{
    int fds[2];
    pid_t pid;
    Sig sig;
    int status;

    if (pipe(fds) != 0) {
        perror("pipe");
        exit(2);
    }
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        perror("fork");
        exit(2);
    }
    if (pid == 0) {
        close(fds[0]);
        sig = run_input(in);
        if (write(fds[1], &sig, sizeof(sig)) != (ssize_t)sizeof(sig)) {
            _exit(2);
        }
        _exit(0);
    }
    close(fds[1]);
    if (read(fds[0], &sig, sizeof(sig)) != (ssize_t)sizeof(sig) ||
        waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
        fprintf(stderr, "%s: the child running it alone failed\n", in->path);
        exit(2);
    }
    close(fds[0]);
    return sig;
}

static bool sig_equal(const Sig *a, const Sig *b)
{
    return a->hash == b->hash && a->steps == b->steps &&
           a->outcome == b->outcome && a->verdict == b->verdict &&
           a->choices == b->choices;
}

static void add_path(GPtrArray *paths, const char *path)
{
    GDir *dir = g_dir_open(path, 0, NULL);
    const char *name;

    if (!dir) {
        g_ptr_array_add(paths, g_strdup(path));
        return;
    }
    while ((name = g_dir_read_name(dir))) {
        g_ptr_array_add(paths, g_build_filename(path, name, NULL));
    }
    g_dir_close(dir);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    GPtrArray *paths = g_ptr_array_new();
    Input *in;
    guint n, stride, bad = 0, runs = 0;
    guint prev;         /* the input run just before, across orders */

    for (int i = 1; i < argc; i++) {
        add_path(paths, argv[i]);
    }
    n = paths->len;
    if (n < 2) {
        fprintf(stderr, "usage: %s FILE|DIR... (two inputs or more)\n",
                argv[0]);
        return 2;
    }
    qsort(paths->pdata, n, sizeof(char *), by_name);
    in = g_new0(Input, n);
    for (guint i = 0; i < n; i++) {
        GError *err = NULL;

        in[i].path = g_ptr_array_index(paths, i);
        if (!g_file_get_contents(in[i].path, &in[i].data, &in[i].len, &err)) {
            fprintf(stderr, "%s: %s\n", in[i].path, err->message);
            return 2;
        }
        in[i].alone = run_alone(&in[i]);
    }
    /* A stride coprime with n visits every input once. */
    stride = n > 2 ? (guint)(n / 3) | 1 : 1;
    while (n > 1 && stride > 1 && n % stride == 0) {
        stride += 2;
    }
    prev = n;           /* nothing yet */
    for (int order = 0; order < 3; order++) {
        for (guint k = 0; k < n; k++) {
            guint i = order == 0 ? k
                      : order == 1 ? n - 1 - k
                      : (guint)(((uint64_t)k * stride) % n);
            Sig sig = run_input(&in[i]);

            runs++;
            if (!sig_equal(&sig, &in[i].alone)) {
                bad++;
                printf("%s: after %s: verdict %s, %" G_GUINT64_FORMAT
                       " steps, hash %016" G_GINT64_MODIFIER "x; alone: "
                       "verdict %s, %" G_GUINT64_FORMAT " steps, hash %016"
                       G_GINT64_MODIFIER "x\n", in[i].path,
                       prev < n ? in[prev].path : "(nothing)",
                       sim_verdict_name((SimVerdict)sig.verdict), sig.steps,
                       sig.hash,
                       sim_verdict_name((SimVerdict)in[i].alone.verdict),
                       in[i].alone.steps, in[i].alone.hash);
            }
            prev = i;
        }
    }
    printf("%s: %u inputs, %u runs in one process, %u differed from the "
           "input run alone\n", argv[0], n, runs, bad);
    for (guint i = 0; i < n; i++) {
        g_free(in[i].data);
        g_free(in[i].path);
    }
    g_free(in);
    g_ptr_array_free(paths, TRUE);
    return bad ? 1 : 0;
}
