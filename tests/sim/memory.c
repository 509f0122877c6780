/*
 * tests/sim/memory.c — the core's barriers under weak memory models.
 *
 * Each scenario is a cross-thread wake-up the notify protocol exists for:
 *   poll     the home thread loops on aio_poll(ctx, true) until N BHs ran;
 *            another thread schedules them as oneshots (aio_notify path);
 *   gsource  the same through glib (aio_ctx_prepare/check);
 *   timer    another thread arms a timer of the context for "now"; the
 *            home thread polls until it fired (what smp_wmb() in
 *            aio_notify() orders: the timer list before notified).
 * Linked against the production core every schedule must finish in every
 * memory model; linked against a variant of variants/ with a barrier
 * removed or weakened, some schedule fails in the weakest model where the
 * barrier matters (a lost wake-up is a hang).
 *
 * Method: random seeds, PCT seeds (depth 3), then depth-first iterative
 * bounding (weak choices and preemptions share the bound, or --delays
 * bounds the weak ones apart), counting
 * runs and seconds until the first failure.  Exit 0 when what was found
 * matches --expect: "fail" (some strategy failed) or "ok" (none did, and
 * the bounded DFS space was exhausted).  The figures go to stdout.
 *
 * Usage: memory --scenario poll|gsource|timer --memory sc|tso|pso|c11
 *               --expect fail|ok [--runs N] [--bound K] [--dfs-runs M]
 *               [--delays D|shared] [--bhs N] [--trace]
 * --delays: weak choices (buffered stores, older stores read) apart from
 * the K preemptions, at most D a schedule; "shared" (the default) counts
 * each as a preemption.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "qloop/qloop.h"
#include "sim.h"


gint qos_gpoll_ms(GPollFD *fds, guint nfds, gint timeout_ms);

typedef struct {
    AioContext *ctx;
    QEMUTimer *timer;
    int ran;
} World;

static const char *scenario = "poll";
/* One BH: a lost wake-up needs its notification to be the last one (a
 * later aio_notify() would wake the waiter anyway). */
static int bh_count = 1;
/* --trace: print the failing run's event trace. */
static bool print_trace;

static void bh_cb(void *opaque)
{
    World *s = opaque;

    s->ran++;
}

static void timer_cb(void *opaque)
{
    World *s = opaque;

    s->ran++;
}

static void *notifier_thread(void *opaque)
{
    World *s = opaque;

    if (!strcmp(scenario, "timer")) {
        timer_mod(s->timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL));
        sim_yield("notifier's other work");
        return NULL;
    }
    for (int i = 0; i < bh_count; i++) {
        aio_bh_schedule_oneshot(s->ctx, bh_cb, s);
    }
    /* The notifier goes on with other work before its next system call:
     * a scheduling point while its stores may still be buffered (its
     * exit would drain them with no chance for the waiter to run). */
    sim_yield("notifier's other work");
    return NULL;
}

static void body(void *opaque)
{
    World s = { 0 };
    QemuThread thread;
    int want = !strcmp(scenario, "timer") ? 1 : bh_count;

    (void)opaque;
    s.ctx = aio_context_new(&error_abort);
    if (!strcmp(scenario, "timer")) {
        s.timer = aio_timer_new(s.ctx, QEMU_CLOCK_VIRTUAL, SCALE_NS,
                                timer_cb, &s);
    }
    if (!strcmp(scenario, "gsource")) {
        GMainContext *gctx = g_main_context_new();
        GSource *src = aio_get_g_source(s.ctx);

        g_main_context_set_poll_func(gctx, qos_gpoll_ms);
        g_source_attach(src, gctx);
        g_source_unref(src);
        qemu_thread_create(&thread, "notifier", notifier_thread, &s,
                           QEMU_THREAD_JOINABLE);
        while (s.ran < want) {
            g_main_context_iteration(gctx, TRUE);
        }
        qemu_thread_join(&thread);
        g_source_destroy(&s.ctx->source);
        g_main_context_unref(gctx);
        return;
    }
    qemu_thread_create(&thread, "notifier", notifier_thread, &s,
                       QEMU_THREAD_JOINABLE);
    while (s.ran < want) {
        aio_poll(s.ctx, true);
    }
    qemu_thread_join(&thread);
    if (s.timer) {
        timer_free(s.timer);
    }
    aio_context_unref(s.ctx);
}

/* Wall-clock seconds, for the report only: nothing simulated reads it. */
static double seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

typedef struct {
    const char *strategy;
    uint64_t runs;
    double secs;
    bool failed;
    bool complete;
} Outcome;

static void report_failure(const char *strategy, uint64_t runs)
{
    size_t len;

    sim_tape_recorded(&len);
    printf("  %s: %s at run %" G_GUINT64_FORMAT " (%zu choices):\n%s\n",
           strategy, sim_verdict_name(sim_verdict()), runs, len,
           sim_verdict_story());
    if (print_trace) {
        sim_trace_print(stdout);
    }
}

static Outcome run_random(SimMemoryModel memory, uint64_t max_runs,
                          bool pct)
{
    Outcome out = { pct ? "pct" : "random", 0, 0, false, false };
    SimConfig config;
    double t0 = seconds();

    sim_config_default(&config);
    config.memory = memory;
    config.trace = print_trace;
    if (pct) {
        /* Depth 3 over a scenario of ~100 scheduling steps. */
        config.tape = SIM_TAPE_PCT;
        config.pct_depth = 3;
        config.pct_steps = 100;
    }
    for (uint64_t seed = 1; seed <= max_runs && !out.failed; seed++) {
        config.seed = seed;
        out.runs++;
        if (sim_run(&config, body, NULL) != SIM_OK) {
            out.failed = true;
            report_failure(out.strategy, out.runs);
        }
    }
    out.secs = seconds() - t0;
    return out;
}

/* delays: -1 shares the bound with the preemptions, else the delay bound. */
static Outcome run_dfs(SimMemoryModel memory, unsigned bound, int delays,
                       uint64_t max_runs)
{
    Outcome out = { "dfs", 0, 0, false, false };
    SimConfig config, run;
    SimDfsPlan plan = {
        .mode = SIM_DFS_ITERATIVE, .bound_max = bound,
        .delays = delays < 0 ? SIM_DELAYS_SHARED : SIM_DELAYS_SEPARATE,
        .delay_bound_max = delays < 0 ? 0 : (unsigned)delays,
    };
    double t0 = seconds();
    bool more = true;

    sim_config_default(&config);
    config.memory = memory;
    config.trace = print_trace;
    sim_dfs_begin_plan(&config, &plan);
    while (!out.failed && out.runs < max_runs &&
           (more = sim_dfs_next_run(&run))) {
        out.runs++;
        if (sim_run(&run, body, NULL) != SIM_OK) {
            out.failed = true;
            report_failure("dfs", out.runs);
        }
    }
    out.complete = !out.failed && !more;
    out.secs = seconds() - t0;
    return out;
}

int main(int argc, char **argv)
{
    const char *expect = NULL;
    const char *memory_name = "sc";
    SimMemoryModel memory;
    uint64_t max_runs = 2000, dfs_runs = 200000;
    unsigned bound = 2;
    int delays = -1;
    Outcome o[3];
    bool ok;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--expect") && i + 1 < argc) {
            expect = argv[++i];
        } else if (!strcmp(argv[i], "--scenario") && i + 1 < argc) {
            scenario = argv[++i];
        } else if (!strcmp(argv[i], "--memory") && i + 1 < argc) {
            memory_name = argv[++i];
        } else if (!strcmp(argv[i], "--runs") && i + 1 < argc) {
            max_runs = g_ascii_strtoull(argv[++i], NULL, 10);
        } else if (!strcmp(argv[i], "--dfs-runs") && i + 1 < argc) {
            dfs_runs = g_ascii_strtoull(argv[++i], NULL, 10);
        } else if (!strcmp(argv[i], "--trace")) {
            print_trace = true;
        } else if (!strcmp(argv[i], "--bhs") && i + 1 < argc) {
            bh_count = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--bound") && i + 1 < argc) {
            bound = (unsigned)atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--delays") && i + 1 < argc) {
            guint64 d;

            i++;
            if (!strcmp(argv[i], "shared")) {
                delays = -1;
            } else if (g_ascii_string_to_unsigned(argv[i], 10, 0, 1000, &d,
                                                  NULL)) {
                delays = (int)d;
            } else {
                fprintf(stderr, "%s: --delays %s: not a count or 'shared'\n",
                        argv[0], argv[i]);
                return 2;
            }
        } else {
            fprintf(stderr, "usage: %s --scenario poll|gsource|timer --memory "
                    "sc|tso|pso|c11 --expect fail|ok [--runs N] [--bound K] "
                    "[--delays D|shared] [--dfs-runs M]\n", argv[0]);
            return 2;
        }
    }
    if (!expect || (strcmp(expect, "fail") && strcmp(expect, "ok")) ||
        !sim_memory_parse(memory_name, &memory) ||
        (strcmp(scenario, "poll") && strcmp(scenario, "gsource") &&
         strcmp(scenario, "timer"))) {
        fprintf(stderr, "%s: bad --expect, --memory or --scenario\n", argv[0]);
        return 2;
    }
    o[0] = run_random(memory, max_runs, false);
    o[1] = run_random(memory, max_runs, true);
    o[2] = run_dfs(memory, bound, delays, dfs_runs);
    for (int i = 0; i < 3; i++) {
        printf("%s %s %-6s runs %-8" G_GUINT64_FORMAT " %7.2f s  %s\n",
               scenario, memory_name, o[i].strategy, o[i].runs, o[i].secs,
               o[i].failed ? "FAILED" : o[i].complete ? "no failure, space "
               "exhausted" : "no failure, stopped at the run limit");
    }
    if (!strcmp(expect, "fail")) {
        ok = o[0].failed || o[1].failed || o[2].failed;
    } else {
        ok = !o[0].failed && !o[1].failed && !o[2].failed && o[2].complete;
    }
    printf("%s: expected %s\n", ok ? "PASS" : "FAIL", expect);
    return ok ? 0 : 1;
}
