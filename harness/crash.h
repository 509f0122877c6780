/*
 * harness/crash.h — a sanitizer report or a crash during a simulated run is
 * a verdict: printed with its signature, saved as a replay file, exit 1.
 *
 * The simulated core is built with ASan+UBSan (QLOOP_SIM_MEMCHECK, on in
 * the default build; or QLOOP_SANITIZE).  The sanitizer prints its report
 * and then calls back here, from wherever the error happened — deep inside
 * a simulated thread, with no way back to the runner.  So a command
 * announces "the run in progress" before runner_run() (crash_run_begin)
 * and withdraws it after (crash_run_end); the callback turns the report
 * into the command's usual verdict, or — in a child process of shrink or
 * triage (crash_child) — into a message on a pipe, and ends the process.
 *
 * Verdict kinds: "memory" (ASan: use after free, double free, overflow,
 * leak) and "crash" (UBSan, abort(), an assertion, a signal).  The
 * signature is the report's kind and its top frames' function names,
 * "heap-use-after-free: aio_bh_call < aio_bh_poll < aio_poll": no paths,
 * line numbers or addresses, so one bug found twice signs the same.
 */
#ifndef QLOOP_HARNESS_CRASH_H
#define QLOOP_HARNESS_CRASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "replay.h"
#include "scenario.h"

#define CRASH_SIGNATURE_MAX 160
/* A child that crashed and sent its signature exits with this status. */
#define CRASH_CHILD_EXIT 41

/* True when this binary carries a sanitizer runtime whose reports we see. */
bool crash_supported(void);

/* Install the sanitizer callbacks (once, at start-up). */
void crash_install(void);

/* What to do when the run in progress crashes. */
typedef struct CrashRun {
    const Scenario *scenario;
    const char *found;          /* the replay file's "found" line */
    const char *replay_path;    /* write the replay file here (or NULL) */
    const char *program;        /* for the "replay:" hint */
    bool print_story;           /* tell the trace recorded so far */
    /* A replay file's recorded crash: with expect_recorded, reproducing
     * the same signature exits 0 ("as recorded"). */
    const char *expect_verdict;
    const char *expect_signature;
    bool expect_recorded;
} CrashRun;

void crash_run_begin(const CrashRun *run);
void crash_run_end(void);

/*
 * After a run that passed, while it is still announced: a leak of the
 * core's objects (what LeakSanitizer finds unreachable now) is, with
 * report, a "memory" verdict signed "leak: <allocating frames>" and does
 * not return; without, returns true (the caller narrows down which run
 * leaked).  A run that ended with another verdict abandons its world on
 * purpose and must not be checked.  One check scans the heap (its cost:
 * docs/qloop.md).
 */
bool crash_check_leaks(bool report);

/*
 * In a forked child (shrink, triage): a crash writes
 * "VERDICT\tSIGNATURE\tFAULTS\tCHOICE-COUNT\n" and the choices, one per
 * line, to fd, then _exits CRASH_CHILD_EXIT.
 */
void crash_child(int fd);

/* The message crash_child writes, for a child's run that ended without a
 * crash (verdict "ok", "hang", ...): the same format, exit 0. */
void crash_send(int fd, const char *verdict, const char *sig,
                unsigned faults, const uint32_t *choices, size_t n);

/* A child's outcome read back: verdict, signature, the choices made. */
typedef struct CrashResult {
    char verdict[16];
    char signature[CRASH_SIGNATURE_MAX];
    unsigned faults;
    uint32_t *choices;          /* g_free */
    size_t choice_count;
} CrashResult;

/* Parse what a child wrote; false if it is not such a message. */
bool crash_result_parse(const char *text, size_t len, CrashResult *out);

/* Extract a signature from a sanitizer report's text (exposed for tests). */
void crash_signature_from_report(const char *report, char *verdict,
                                 size_t verdict_len, char *sig,
                                 size_t sig_len);

/* Name the functions of return addresses pcs[0..n) as "f1 < f2 < f3",
 * innermost first, skipping the panic and sanitizer machinery; "" when
 * the binary has no symbolizer (no sanitizer runtime). */
void crash_frames(void *const *pcs, int n, char *buf, size_t len);

/* True for the verdict names only this module produces. */
bool crash_verdict_name(const char *name);

#endif
