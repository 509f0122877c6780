/*
 * harness/spawn.h — run a command with a deadline, its output to a file.
 *
 * For commands that orchestrate other qloop processes (`qloop mutants`):
 * the child runs in its own process group, so a deadline kills it and
 * everything it started.  Host time is fine here: this measures tools,
 * it never runs inside a simulation.
 */
#ifndef QLOOP_HARNESS_SPAWN_H
#define QLOOP_HARNESS_SPAWN_H

#include <stdbool.h>
#include <stdint.h>

typedef struct SpawnResult {
    int exit_code;      /* the child's exit status, or -1 (see below) */
    bool timed_out;     /* killed at the deadline */
    bool signalled;     /* ended by a signal other than the deadline's */
    double seconds;     /* wall-clock time the child ran */
    double cpu_seconds; /* CPU (user + system) of the child and what it
                         * waited for, from wait4(); at a limit, what the
                         * tree had used when it was killed */
} SpawnResult;

/* Monotonic seconds (host clock; never used inside a simulation). */
double spawn_now_s(void);

/*
 * Run argv (argv[0] a path) until it exits or deadline_s (spawn_now_s()
 * time) passes; stdout and stderr go to out_path (truncated).  env_extra:
 * NULL or "NAME=VALUE" strings added to the environment.  False if the
 * child could not be started (errno-style message on stderr).
 */
bool spawn_run(char *const argv[], char *const env_extra[],
               const char *out_path, double deadline_s, SpawnResult *r);

/*
 * The same, and the child's tree is also killed (timed_out) once the CPU
 * seconds of every process in it — its own, and what it waited for —
 * reach cpu_limit_s: a budget that a loaded machine does not shrink.  The
 * tree is the child's process group and every descendant outside it (a
 * fork server that called setsid()).  Read from /proc every
 * SPAWN_CPU_POLL_MS, so a tree may overrun by that.
 */
bool spawn_run_cpu(char *const argv[], char *const env_extra[],
                   const char *out_path, double deadline_s,
                   double cpu_limit_s, SpawnResult *r);

#endif
