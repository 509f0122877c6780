/*
 * tests/sim/lost-wakeup.c — the simulator finds the BUG2 lost wake-up.
 *
 * Scenario: the home thread drives an AioContext through glib
 * (g_main_context_iteration, blocking) until three BHs have run; another
 * thread schedules them as oneshots.  Linked against the production core,
 * every schedule must finish; linked against variants/notify-bug2.patch, some
 * schedule hangs with a BH pending.
 *
 * Method: the same scenario under four tape sources — random seeds, PCT,
 * and the depth-first enumerator with a preemption bound — counting runs
 * until the first hang (or to the end of the bounded space).  Exit 0 when
 * what was found matches --expect (hang | ok); the counts go to stdout.
 *
 * Usage: lost-wakeup --expect hang|ok [--runs N] [--bound K]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qloop/qloop.h"
#include "sim.h"

#define BH_COUNT 3

/* From the seam: glib's poll through the simulated ppoll. */
gint qos_gpoll_ms(GPollFD *fds, guint nfds, gint timeout_ms);

typedef struct {
    AioContext *ctx;
    int ran;
} Scenario;

static void bh_cb(void *opaque)
{
    Scenario *s = opaque;

    s->ran++;
}

static void *scheduler_thread(void *opaque)
{
    Scenario *s = opaque;

    for (int i = 0; i < BH_COUNT; i++) {
        aio_bh_schedule_oneshot(s->ctx, bh_cb, s);
    }
    return NULL;
}

static void scenario_body(void *opaque)
{
    Scenario s = { 0 };
    GMainContext *gctx = g_main_context_new();
    GSource *src;
    QemuThread thread;

    (void)opaque;
    g_main_context_set_poll_func(gctx, qos_gpoll_ms);
    s.ctx = aio_context_new(&error_abort);
    src = aio_get_g_source(s.ctx);
    g_source_attach(src, gctx);
    g_source_unref(src);

    qemu_thread_create(&thread, "scheduler", scheduler_thread, &s,
                       QEMU_THREAD_JOINABLE);
    while (s.ran < BH_COUNT) {
        g_main_context_iteration(gctx, TRUE);
    }
    qemu_thread_join(&thread);

    g_source_destroy(&s.ctx->source);
    g_main_context_unref(gctx);
}

typedef struct {
    const char *strategy;
    uint64_t runs;
    bool hang;
} Outcome;

static Outcome run_seeds(SimTapeKind tape, uint64_t max_runs)
{
    Outcome out = { tape == SIM_TAPE_PCT ? "pct" : "random", 0, false };
    SimConfig config;

    sim_config_default(&config);
    config.tape = tape;
    config.pct_depth = 3;
    config.pct_steps = 400;
    for (uint64_t seed = 1; seed <= max_runs && !out.hang; seed++) {
        config.seed = seed;
        out.runs++;
        if (sim_run(&config, scenario_body, NULL) == SIM_HANG) {
            out.hang = true;
            printf("  %s: hang at seed %" G_GUINT64_FORMAT ":\n%s\n",
                   out.strategy, seed, sim_verdict_story());
        }
    }
    return out;
}

static Outcome run_dfs(unsigned bound, uint64_t max_runs)
{
    Outcome out = { "dfs", 0, false };
    SimConfig config, run;

    sim_config_default(&config);
    config.preemption_bound = bound;
    sim_dfs_begin(&config);
    while (!out.hang && out.runs < max_runs && sim_dfs_next_run(&run)) {
        out.runs++;
        if (sim_run(&run, scenario_body, NULL) == SIM_HANG) {
            size_t len;

            sim_tape_recorded(&len);
            out.hang = true;
            printf("  dfs: hang at run %" G_GUINT64_FORMAT " (%zu choices)\n",
                   out.runs, len);
        }
    }
    if (!out.hang && out.runs >= max_runs) {
        printf("  dfs: stopped at the run limit, space not exhausted\n");
        out.strategy = "dfs-incomplete";
    }
    return out;
}

int main(int argc, char **argv)
{
    const char *expect = NULL;
    uint64_t max_runs = 20000;
    unsigned bound = 3;
    Outcome outcomes[3];
    bool ok = true;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--expect") && i + 1 < argc) {
            expect = argv[++i];
        } else if (!strcmp(argv[i], "--runs") && i + 1 < argc) {
            max_runs = g_ascii_strtoull(argv[++i], NULL, 10);
        } else if (!strcmp(argv[i], "--bound") && i + 1 < argc) {
            bound = (unsigned)atoi(argv[++i]);
        } else {
            fprintf(stderr, "usage: %s --expect hang|ok [--runs N] "
                    "[--bound K]\n", argv[0]);
            return 2;
        }
    }
    if (!expect || (strcmp(expect, "hang") && strcmp(expect, "ok"))) {
        fprintf(stderr, "%s: --expect hang|ok is required\n", argv[0]);
        return 2;
    }

    outcomes[0] = run_seeds(SIM_TAPE_RANDOM, max_runs);
    outcomes[1] = run_seeds(SIM_TAPE_PCT, max_runs);
    outcomes[2] = run_dfs(bound, 100 * max_runs);
    for (int i = 0; i < 3; i++) {
        printf("%-15s runs %-8" G_GUINT64_FORMAT " %s\n", outcomes[i].strategy,
               outcomes[i].runs, outcomes[i].hang ? "HANG" : "no hang");
        if (!strcmp(expect, "hang")) {
            ok &= outcomes[i].hang;
        } else {
            ok &= !outcomes[i].hang && strcmp(outcomes[i].strategy,
                                              "dfs-incomplete");
        }
    }
    printf("%s: expected %s\n", ok ? "PASS" : "FAIL", expect);
    return ok ? 0 : 1;
}
