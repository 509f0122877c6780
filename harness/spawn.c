/*
 * harness/spawn.c — run a command with a deadline (see spawn.h).
 *
 * Method: fork; the child makes its own process group, sends its output
 * to the file and execs.  The parent polls waitpid() every few
 * milliseconds (children run for seconds; a SIGCHLD handler would be
 * shared with the rest of the process for little gain) and at the
 * deadline kills the whole group.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>

#include "spawn.h"

#define SPAWN_POLL_US 2000

double spawn_now_s(void)
{
    return (double)g_get_monotonic_time() / 1e6;
}

static void spawn_child(char *const argv[], char *const env_extra[],
                        const char *out_path)
{
    int fd;

    setpgid(0, 0);
    fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0) {
        _exit(127);
    }
    for (char *const *e = env_extra; e && *e; e++) {
        putenv(*e);
    }
    execv(argv[0], argv);
    fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

bool spawn_run(char *const argv[], char *const env_extra[],
               const char *out_path, double deadline_s, SpawnResult *r)
{
    double start_s = spawn_now_s();
    int status = 0;
    pid_t pid;

    memset(r, 0, sizeof(*r));
    r->exit_code = -1;
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        fprintf(stderr, "cannot fork for %s: %s\n", argv[0], strerror(errno));
        return false;
    }
    if (pid == 0) {
        spawn_child(argv, env_extra, out_path);
    }
    /* Both sides set the group, so the kill below never misses it. */
    setpgid(pid, pid);
    for (;;) {
        pid_t got = waitpid(pid, &status, WNOHANG);

        if (got == pid) {
            break;
        }
        if (got < 0 && errno != EINTR) {
            fprintf(stderr, "waitpid %s: %s\n", argv[0], strerror(errno));
            return false;
        }
        if (spawn_now_s() >= deadline_s) {
            kill(-pid, SIGKILL);
            waitpid(pid, &status, 0);
            r->timed_out = true;
            break;
        }
        usleep(SPAWN_POLL_US);
    }
    r->seconds = spawn_now_s() - start_s;
    if (!r->timed_out && WIFEXITED(status)) {
        r->exit_code = WEXITSTATUS(status);
    } else if (!r->timed_out) {
        r->signalled = true;
    }
    return true;
}
