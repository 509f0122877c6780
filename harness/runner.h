/*
 * harness/runner.h — run a scenario on the simulated loop core.
 */
#ifndef QLOOP_HARNESS_RUNNER_H
#define QLOOP_HARNESS_RUNNER_H

#include "scenario.h"
#include "sim.h"

typedef struct RunResult {
    SimVerdict verdict;
    char story[4096];       /* the verdict's explanation, "" when ok */
    uint64_t hash;          /* trace hash */
    uint64_t steps;
    uint32_t *choices;      /* the recorded tape (g_free) */
    size_t choice_count;
    bool tape_exhausted;
    unsigned faults;        /* fault mask in force (swarm may choose it) */
    uint64_t bh_runs, timer_fires, fd_calls;   /* as the model counted */
    uint64_t outcome;       /* model_outcome_hash() */
    bool lost_wakeup;       /* a hang with work the model knows is due */
    bool waited_for_nothing;/* a hang with nothing due: verdict SIM_OK */
    char frames[160];       /* a panic: "f1 < f2 < f3" where it was raised,
                             * "" when the binary cannot name them */
} RunResult;

/*
 * Semantic checks the runner relies on (beyond scn_validate): only the
 * home thread and callbacks poll or submit jobs; a BH that is deleted is
 * not used by another thread.  Returns NULL or "line N: what is wrong".
 */
const char *runner_check(const Scenario *s, char *buf, size_t len);

/*
 * Run s once under config (its tape, faults...).  With model == true the
 * reference model and the safety oracles check every event online; a
 * violation ends the run with SIM_ORACLE.  The trace stays readable
 * through sim_trace_events() until the next run.
 */
SimVerdict runner_run(const Scenario *s, const SimConfig *config, bool model,
                      RunResult *out);
void run_result_clear(RunResult *r);

/* Names of simulated threads for exports: [0] = thread id 1. */
const char *const *runner_thread_names(unsigned *count);

#endif
