/*
 * sim/world.c — creating, resetting and running a simulated world.
 *
 * Method: a world holds every piece of simulated state (threads, time,
 * fds, tape, trace, verdict).  sim_run() runs a body as thread 1 on its own
 * stack and returns to the caller when the body returns or a verdict ends
 * the run; the implicit world (first use without sim_run) makes the
 * caller's own stack thread 1, which is how plain unit tests run on the
 * simulated backend unchanged.
 */
#include <execinfo.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coro.h"
#include "glib-wakeup.h"
#include "heap.h"
#include "wmm.h"
#include "world.h"

SimWorld *sim_world;

void sim_config_default(SimConfig *config)
{
    *config = (SimConfig){
        .tape = SIM_TAPE_RANDOM,
        .seed = 1,
        .pct_depth = 3,
        .pct_steps = 2000,
        .fault_permille = 20,
        .preemption_bound = 2,
        .step_limit = 50 * 1000 * 1000,
        .memory = sim_memory_default(),
    };
}

/*
 * A freed world's struct and story wait here for the next world, as its
 * containers do in sched.c, fd.c, trace.c and tape.c: a fuzzer makes
 * millions of worlds, and under ASan every malloc and free of them was a
 * visible cost (a stack recorded for each, the quarantine cycled).
 */
static SimWorld *world_spare;

static void sim_world_free(SimWorld *w)
{
    sim_wmm_fini(w);
    sim_fd_fini(w);
    sim_sched_fini(w);
    sim_tape_fini(w);
    sim_trace_fini(w);
    if (!world_spare) {
        world_spare = w;
        return;
    }
    g_string_free(w->story, TRUE);
    g_free(w);
}

static SimWorld *sim_world_new(const SimConfig *config, bool implicit)
{
    SimWorld *w = world_spare;
    GString *story;

    if (w) {
        world_spare = NULL;
        story = w->story;
        g_string_truncate(story, 0);
        memset(w, 0, sizeof(*w));
    } else {
        w = g_new0(SimWorld, 1);
        story = g_string_new("");
    }
    w->config = *config;
    w->implicit = implicit;
    if (config->swarm && (config->tape == SIM_TAPE_RANDOM ||
                          config->tape == SIM_TAPE_PCT)) {
        /* Swarm testing: each seed runs with its own subset of faults. */
        uint64_t x = config->seed ^ UINT64_C(0x5157a8d1f00dba11);

        x = (x ^ (x >> 31)) * UINT64_C(0x7fb5d329728ea185);
        w->config.faults = (unsigned)(x >> 40) &
                           (config->swarm_faults ? config->swarm_faults
                                                 : SIM_FAULT_ALL);
    }
    w->story = story;
    w->verdict = SIM_OK;
    /* Virtual time starts at 1 s so "now - 10" is still a valid time. */
    w->now_ns = 1000 * 1000 * 1000;
    /* QEMU_CLOCK_HOST starts at a fixed wall-clock date. */
    w->host_offset_ns = INT64_C(1700000000) * 1000 * 1000 * 1000;
    sim_world = w;
    sim_signal_reset();
    sim_glib_wakeup_reset();
    sim_tape_init(w);
    sim_trace_init(w);
    sim_sched_init(w);
    sim_fd_init(w);
    sim_wmm_init(w);
    return w;
}

void sim_reset(const SimConfig *config)
{
    if (sim_world) {
        SIM_ASSERT(sim_world->implicit ||
                   sim_world->current == &sim_world->host);
        sim_world_free(sim_world);
        sim_world = NULL;
    }
    sim_world_new(config, true);
}

SimWorld *sim_world_start_implicit(void)
{
    if (!sim_world) {
        SimConfig config;
        const char *seed = getenv("QLOOP_SIM_SEED");

        sim_config_default(&config);
        if (seed) {
            config.seed = g_ascii_strtoull(seed, NULL, 0);
        }
        sim_world_new(&config, true);
    }
    return sim_world;
}

typedef struct {
    void (*fn)(void *);
    void *arg;
} SimBody;

static void *sim_run_body(void *opaque)
{
    SimBody *body = opaque;

    body->fn(body->arg);
    return NULL;
}

void sim_release(void)
{
    if (sim_world && sim_world->verdict == SIM_OK) {
        sim_world_free(sim_world);
        sim_world = NULL;
    }
}

SimVerdict sim_run(const SimConfig *config, void (*fn)(void *), void *arg)
{
    SimBody body = { fn, arg };
    SimWorld *w;
    SimThread *main_thread;

    if (sim_world) {
        sim_world_free(sim_world);
        sim_world = NULL;
    }
    w = sim_world_new(config, false);
    main_thread = g_ptr_array_index(w->threads, 0);
    main_thread->fn = sim_run_body;
    main_thread->arg = &body;
    main_thread->stack_size = 1024 * 1024;
    main_thread->stack = sim_stack_alloc(main_thread->stack_size);
    main_thread->sp = sim_coro_init_stack(main_thread->stack,
                                          main_thread->stack_size,
                                          sim_thread_entry_for_run());
    w->current = &w->host;
    sim_watchdog_arm();
    sim_heap_run_begin();
    sim_run_enter(main_thread);
    sim_heap_run_end();
    return w->verdict;
}

const char *sim_verdict_name(SimVerdict verdict)
{
    switch (verdict) {
    case SIM_OK: return "ok";
    case SIM_HANG: return "hang";
    case SIM_LIVELOCK: return "livelock";
    case SIM_REPLAY_DIVERGED: return "replay-diverged";
    case SIM_PANIC: return "panic";
    case SIM_ORACLE: return "oracle";
    /* The name ASan's reports get (harness/crash.c): one verdict kind. */
    case SIM_MEMORY: return "memory";
    }
    return "unknown";
}

void sim_fail(const char *fmt, ...)
{
    char msg[2048];
    va_list ap;

    va_start(ap, fmt);
    g_vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    sim_end_run(SIM_ORACLE, "%s", msg);
}

SimVerdict sim_verdict(void)
{
    return sim_world_get()->verdict;
}

const char *sim_verdict_story(void)
{
    return sim_world_get()->story->str;
}

void *const *sim_panic_pcs(int *count)
{
    SimWorld *w = sim_world_get();

    *count = w->verdict == SIM_PANIC || w->verdict == SIM_MEMORY
             ? w->panic_pc_count : 0;
    return w->panic_pcs;
}

/*
 * A broken invariant.  Inside sim_run() it is a verdict against the core
 * (the run ends, the caller gets the story); in an implicit world there is
 * no caller to return to, so it aborts with the story and the seed.
 */
void qos_panic(const char *file, int line, const char *fmt, ...)
{
    SimWorld *w = sim_world;
    char msg[1024];     /* not the heap: a verdict abandons this stack */
    va_list ap;

    va_start(ap, fmt);
    g_vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (w && !w->implicit && w->current != &w->host && !w->ending) {
        /* The stack is abandoned by the verdict: keep who called us. */
        w->panic_pc_count = backtrace(w->panic_pcs, SIM_PANIC_PCS_MAX);
        sim_end_run(SIM_PANIC, "%s:%d: %s", file, line, msg);
    }
    fprintf(stderr, "qloop: %s:%d: %s\n", file, line, msg);
    if (w) {
        fprintf(stderr, "qloop-sim: seed %" G_GUINT64_FORMAT
                ", %" G_GUINT64_FORMAT " steps, t=%" G_GINT64_FORMAT " ns; "
                "replay with QLOOP_SIM_SEED=%" G_GUINT64_FORMAT "\n",
                w->config.seed, w->steps, w->now_ns, w->config.seed);
    }
    fflush(stderr);
    abort();
}
