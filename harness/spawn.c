/*
 * harness/spawn.c — run a command with a deadline (see spawn.h).
 *
 * Method: fork; the child makes its own process group, sends its output
 * to the file and execs.  The parent polls waitpid() every few
 * milliseconds (children run for seconds; a SIGCHLD handler would be
 * shared with the rest of the process for little gain) and at the
 * deadline kills the whole group.  With a CPU limit it also sums, every
 * SPAWN_CPU_POLL_MS, the CPU times /proc gives for each process of the
 * group (utime + stime + cutime + cstime: a process's children that it
 * reaped count in its own line), and kills the group at the limit.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>

#include "spawn.h"

#define SPAWN_POLL_US 2000
#define SPAWN_CPU_POLL_MS 50

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

static double rusage_s(const struct rusage *ru)
{
    return (double)ru->ru_utime.tv_sec + (double)ru->ru_utime.tv_usec / 1e6 +
           (double)ru->ru_stime.tv_sec + (double)ru->ru_stime.tv_usec / 1e6;
}

/* CPU seconds of the process group pgid, from /proc; -1 if unreadable. */
static double group_cpu_s(pid_t pgid)
{
    static long ticks_per_s;
    GDir *d = g_dir_open("/proc", 0, NULL);
    const char *name;
    unsigned long long ticks = 0;

    if (!d) {
        return -1;
    }
    if (!ticks_per_s) {
        ticks_per_s = sysconf(_SC_CLK_TCK);
    }
    while ((name = g_dir_read_name(d))) {
        char path[64], buf[1024], *p;
        unsigned long long ut, st, cut, cst;
        long long grp;
        ssize_t n;
        int fd;

        if (name[0] < '1' || name[0] > '9') {
            continue;
        }
        g_snprintf(path, sizeof(path), "/proc/%s/stat", name);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            continue;       /* exited since the listing */
        }
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n <= 0) {
            continue;
        }
        buf[n] = '\0';
        /* The command name may hold spaces and parentheses: the fields
         * start after the last ')'.  Then state ppid pgrp ... utime is
         * field 14 of the line, cstime 17. */
        p = strrchr(buf, ')');
        if (!p || sscanf(p + 1, " %*c %*d %lld %*d %*d %*d %*u %*u %*u %*u "
                         "%*u %llu %llu %llu %llu", &grp, &ut, &st, &cut,
                         &cst) != 5) {
            continue;
        }
        if (grp == (long long)pgid) {
            ticks += ut + st + cut + cst;
        }
    }
    g_dir_close(d);
    return (double)ticks / (double)ticks_per_s;
}

bool spawn_run(char *const argv[], char *const env_extra[],
               const char *out_path, double deadline_s, SpawnResult *r)
{
    return spawn_run_cpu(argv, env_extra, out_path, deadline_s, 0, r);
}

bool spawn_run_cpu(char *const argv[], char *const env_extra[],
                   const char *out_path, double deadline_s,
                   double cpu_limit_s, SpawnResult *r)
{
    double start_s = spawn_now_s(), next_cpu_s = start_s;
    struct rusage ru;
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
        pid_t got = wait4(pid, &status, WNOHANG, &ru);
        double group_s = 0;     /* the group's CPU, when sampled */
        bool limit = false;

        if (got == pid) {
            r->cpu_seconds = rusage_s(&ru);
            break;
        }
        if (got < 0 && errno != EINTR) {
            fprintf(stderr, "waitpid %s: %s\n", argv[0], strerror(errno));
            return false;
        }
        if (cpu_limit_s > 0 && spawn_now_s() >= next_cpu_s) {
            group_s = group_cpu_s(pid);
            next_cpu_s = spawn_now_s() + SPAWN_CPU_POLL_MS / 1e3;
            limit = group_s >= cpu_limit_s;
        }
        if (limit || spawn_now_s() >= deadline_s) {
            if (!limit && cpu_limit_s > 0) {
                group_s = group_cpu_s(pid);
            }
            kill(-pid, SIGKILL);
            wait4(pid, &status, 0, &ru);
            /* Killed children are not reaped into the rusage: the group's
             * sample counts them, the rusage what ended before. */
            r->cpu_seconds = MAX(group_s, rusage_s(&ru));
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
