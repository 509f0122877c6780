/*
 * tests/test-spawn.c — harness/spawn.c's limits: a CPU budget counts and
 * kills every process a tool starts, also one that left the process group
 * (afl-fuzz's fork server calls setsid(); its target's CPU was invisible).
 */
#include <errno.h>
#include <glib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../harness/spawn.h"

static char *tmp_dir;

/* The pid a spinner wrote to path, once it has (or 0). */
static pid_t read_pid(const char *path)
{
    gchar *text = NULL;
    pid_t pid = 0;

    for (int i = 0; i < 200 && !pid; i++) {
        if (g_file_get_contents(path, &text, NULL, NULL)) {
            pid = (pid_t)atoi(text);
            g_free(text);
        }
        if (!pid) {
            usleep(10000);
        }
    }
    return pid;
}

static bool gone(pid_t pid)
{
    /* Reparented to init once its parent died: reaped soon after. */
    for (int i = 0; i < 200; i++) {
        if (kill(pid, 0) < 0 && errno == ESRCH) {
            return true;
        }
        usleep(10000);
    }
    return false;
}

/* A grandchild in a session of its own spins; its parent only waits. */
static void test_cpu_limit_counts_other_session(void)
{
    char *pidf = g_build_filename(tmp_dir, "spinner.pid", NULL);
    char *out = g_build_filename(tmp_dir, "out", NULL);
    char *script = g_strdup_printf(
        "setsid sh -c 'echo $$ > %s; while :; do :; done' & wait", pidf);
    char *argv[] = { "/bin/sh", "-c", script, NULL };
    SpawnResult r;
    double start_s = spawn_now_s();

    g_assert_true(spawn_run_cpu(argv, NULL, out, start_s + 60, 0.5, &r));
    g_assert_true(r.timed_out);
    /* Killed at the CPU limit, not the 60 s deadline. */
    g_assert_cmpfloat(r.seconds, <, 30);
    g_assert_cmpfloat(r.cpu_seconds, >=, 0.5);
    pid_t spinner = read_pid(pidf);
    g_assert_cmpint(spinner, >, 0);
    g_assert_true(gone(spinner));
    g_free(script);
    g_free(out);
    g_free(pidf);
}

/* The wall deadline also ends what left the group. */
static void test_deadline_kills_other_session(void)
{
    char *pidf = g_build_filename(tmp_dir, "sleeper.pid", NULL);
    char *out = g_build_filename(tmp_dir, "out2", NULL);
    char *script = g_strdup_printf(
        "setsid sh -c 'echo $$ > %s; exec sleep 600' & wait", pidf);
    char *argv[] = { "/bin/sh", "-c", script, NULL };
    SpawnResult r;

    g_assert_true(spawn_run(argv, NULL, out, spawn_now_s() + 1, &r));
    g_assert_true(r.timed_out);
    pid_t sleeper = read_pid(pidf);
    g_assert_cmpint(sleeper, >, 0);
    g_assert_true(gone(sleeper));
    g_free(script);
    g_free(out);
    g_free(pidf);
}

/* Under the limit: the exit status and the CPU of what the child waited
 * for (a reaped grandchild counts in the rusage). */
static void test_exit_under_limit(void)
{
    char *out = g_build_filename(tmp_dir, "out3", NULL);
    char *argv[] = { "/bin/sh", "-c",
                     "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; exit 3",
                     NULL };
    SpawnResult r;

    g_assert_true(spawn_run_cpu(argv, NULL, out, spawn_now_s() + 60, 30, &r));
    g_assert_false(r.timed_out);
    g_assert_cmpint(r.exit_code, ==, 3);
    g_assert_cmpfloat(r.cpu_seconds, >, 0);
    g_free(out);
}

int main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    tmp_dir = g_dir_make_tmp("test-spawn-XXXXXX", NULL);
    g_assert_nonnull(tmp_dir);
    g_test_add_func("/spawn/cpu-limit-counts-other-session",
                    test_cpu_limit_counts_other_session);
    g_test_add_func("/spawn/deadline-kills-other-session",
                    test_deadline_kills_other_session);
    g_test_add_func("/spawn/exit-under-limit", test_exit_under_limit);
    rc = g_test_run();
    char *cmd = g_strdup_printf("rm -rf '%s'", tmp_dir);
    if (system(cmd) != 0) {
        rc = rc ? rc : 1;
    }
    g_free(cmd);
    return rc;
}
