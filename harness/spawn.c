/*
 * harness/spawn.c — run a command with a deadline (see spawn.h).
 *
 * Method: fork; the child makes its own process group, sends its output
 * to the file and execs.  The parent polls waitpid() every few
 * milliseconds (children run for seconds; a SIGCHLD handler would be
 * shared with the rest of the process for little gain) and at the
 * deadline kills the whole group and every descendant outside it.  With
 * a CPU limit it also sums, every SPAWN_CPU_POLL_MS, the CPU times /proc
 * gives for each process of that tree (utime + stime + cutime + cstime: a
 * process's children that it reaped count in its own line), and kills the
 * tree at the limit.
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

/* One line of /proc/PID/stat: what the tree walk needs. */
typedef struct {
    long long pid, ppid, pgrp;
    unsigned long long ticks;   /* utime + stime + cutime + cstime */
} ProcStat;

/* Every process /proc lists, or NULL if /proc is unreadable. */
static GArray *proc_table(void)
{
    GDir *d = g_dir_open("/proc", 0, NULL);
    const char *name;
    GArray *t;

    if (!d) {
        return NULL;
    }
    t = g_array_new(false, false, sizeof(ProcStat));
    while ((name = g_dir_read_name(d))) {
        char path[64], buf[1024], *p;
        unsigned long long ut, st, cut, cst;
        ProcStat ps;
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
        if (!p || sscanf(p + 1, " %*c %lld %lld %*d %*d %*d %*u %*u %*u %*u "
                         "%*u %llu %llu %llu %llu", &ps.ppid, &ps.pgrp, &ut,
                         &st, &cut, &cst) != 6) {
            continue;
        }
        ps.pid = g_ascii_strtoll(name, NULL, 10);
        ps.ticks = ut + st + cut + cst;
        g_array_append_val(t, ps);
    }
    g_dir_close(d);
    return t;
}

/*
 * Mark in member[] the processes of root's tree: its process group, and
 * every descendant by parent links even when it made a session or group
 * of its own (afl-fuzz's fork server calls setsid(): by group alone its
 * CPU, the target's, would be invisible until afl-fuzz exits).
 */
static void proc_tree(const GArray *t, pid_t root, bool *member)
{
    bool grew = true;

    for (guint i = 0; i < t->len; i++) {
        const ProcStat *ps = &g_array_index(t, ProcStat, i);

        member[i] = ps->pgrp == (long long)root || ps->pid == (long long)root;
    }
    /* Parent before child is not the listing's order: repeat until no
     * process joins (a tree of depth d takes d passes). */
    while (grew) {
        grew = false;
        for (guint i = 0; i < t->len; i++) {
            const ProcStat *ps = &g_array_index(t, ProcStat, i);

            for (guint j = 0; !member[i] && j < t->len; j++) {
                if (member[j] && g_array_index(t, ProcStat, j).pid == ps->ppid) {
                    member[i] = grew = true;
                }
            }
        }
    }
}

/* CPU seconds of root's tree (see proc_tree), from /proc; -1 if
 * unreadable.  With kill, each process of it also gets SIGKILL. */
static double tree_cpu_s(pid_t root, bool kill_them)
{
    static long ticks_per_s;
    GArray *t = proc_table();
    unsigned long long ticks = 0;
    bool *member;

    if (!t) {
        return -1;
    }
    if (!ticks_per_s) {
        ticks_per_s = sysconf(_SC_CLK_TCK);
    }
    member = g_new0(bool, t->len + 1);
    proc_tree(t, root, member);
    if (kill_them) {
        /* The group first: the root must not outlive its fork server and
         * report the server's death as an error of its own. */
        kill(-root, SIGKILL);
    }
    for (guint i = 0; i < t->len; i++) {
        const ProcStat *ps = &g_array_index(t, ProcStat, i);

        if (member[i]) {
            ticks += ps->ticks;
            if (kill_them && ps->pgrp != (long long)root) {
                kill((pid_t)ps->pid, SIGKILL);
            }
        }
    }
    g_free(member);
    g_array_free(t, true);
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
            group_s = tree_cpu_s(pid, false);
            next_cpu_s = spawn_now_s() + SPAWN_CPU_POLL_MS / 1e3;
            limit = group_s >= cpu_limit_s;
        }
        if (limit || spawn_now_s() >= deadline_s) {
            /* The last sample, and the tree's processes outside the
             * group (a fork server's setsid()) killed with it. */
            double last_s = tree_cpu_s(pid, true);  /* once: it kills */

            group_s = MAX(group_s, last_s);
            kill(-pid, SIGKILL);    /* if /proc was unreadable */
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
