/*
 * harness/shrink.h — minimize a failing run (scenario and schedule).
 */
#ifndef QLOOP_HARNESS_SHRINK_H
#define QLOOP_HARNESS_SHRINK_H

#include <stdbool.h>
#include <stdio.h>

#include "crash.h"
#include "replay.h"
#include "runner.h"

#define SHRINK_SIGNATURE_MAX (CRASH_SIGNATURE_MAX + 16)

typedef struct ShrinkStats {
    char signature[SHRINK_SIGNATURE_MAX];   /* what had to stay the same */
    uint32_t ops_before, ops_after;
    uint32_t threads_before, threads_after;
    size_t choices_before, choices_after;
    size_t nonzero_before, nonzero_after;   /* preempting choices */
    uint64_t runs;              /* simulated runs the search took */
} ShrinkStats;

/* The verdict's signature for shrinking: "hang/lost-wakeup",
 * "oracle/<first words of the story>", "panic", "livelock"... */
void shrink_signature(const RunResult *r, char *buf, size_t len);

/*
 * Run s under config in a forked child (a memory error must not take the
 * caller down).  out gets the verdict ("ok", "hang", ..., "memory",
 * "crash"), the comparable signature (shrink_signature, or "memory/KIND:
 * FRAMES" for a crash) and the choices the run made.  False if the child
 * died without telling (no sanitizer runtime: a bare signal).
 */
bool shrink_run_forked(const Scenario *s, const SimConfig *config,
                       CrashResult *out);

/*
 * Run s under config; if it fails, minimize it: out gets the replay record
 * of the smallest failing run found (g_free its choices: replay_clear) and
 * final that run's result (run_result_clear).  Progress lines go to
 * progress when not NULL; seeds fresh seeds are tried when an edit breaks
 * the old schedule.  Returns false (final = the passing run) if s passes.
 * In a sanitizer build every run is a forked child; a crash (out->verdict
 * "memory" or "crash", out->signature set) has no final run: final is
 * then cleared (verdict SIM_OK, no story) and out is the replay record.
 */
bool shrink_failure(const Scenario *s, const SimConfig *config, int seeds,
                    FILE *progress, Replay *out, RunResult *final,
                    ShrinkStats *stats);

#endif
