/*
 * tests/sim/litmus.c — the weak memory models on litmus tests.
 *
 * Each test runs two simulated threads through loop/atomic.h (the core's
 * own hooks) and enumerates every schedule within a bound (delays of
 * buffered stores and preemptions together), collecting the outcomes:
 *   SB   x = 1; r0 = y  ||  y = 1; r1 = x     r0 = r1 = 0: tso, pso, not sc;
 *        with smp_mb() between the store and the load: never;
 *   MP   d = 1; f = 1   ||  r0 = f; r1 = d    r0 = 1, r1 = 0: pso only;
 *        with smp_wmb() (or a release store of f): never;
 *   2+2W x = 1; y = 2   ||  y = 1; x = 2      then x = 1, y = 1 (each
 *        thread's first store last): pso only (coherence ordering by flush);
 *   FREE a thread stores to a heap object and frees it at once, with no
 *        seam call between, so the store is still buffered at the free
 *        and flushes afterwards (checked on the trace): no verdict and no
 *        ASan report — the model writes through at the store and never
 *        writes late into memory (sim/wmm.c); a late write would be a
 *        false use-after-free.
 *   c11  (per-location store histories) SB without a fence: seen; MP with
 *        relaxed stores: seen; MP with a release store but a relaxed load
 *        of the flag (MP+rlx): seen — the acquire side, which pso never
 *        shows; never with smp_wmb() + acquire, release + acquire,
 *        release + relaxed + smp_rmb(), or the flag under a mutex
 *        (unlock -> lock synchronises); CoRR (x = 1; x = 2 || r0 = x;
 *        r1 = x): a second read never older than the first; SB through
 *        xchg: seen (a seq_cst RMW is no fence), never under tso; an
 *        address re-initialised by plain writes (a freed object's
 *        address reused) never yields the old object's stores; 2+2W
 *        never (the model's modification order follows execution order);
 *        R (d = 1; smp_wmb(); f = 1 || f = 2; smp_mb(); r1 = d), f ending
 *        2 and r1 = 0: seen, never with smp_mb() for smp_wmb(), never
 *        under tso or pso.
 *   stamp (sim_mem_stamp()): after a lock that followed the stamp, the
 *        stamp happened before; under c11 a thread that did not
 *        synchronise is not after it; under sc every stamp is before.
 * Also: the same tape replays to the same hash, and a weak run's trace
 * names the buffered stores and the stale loads (tso) and the older
 * stores read (c11).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qloop/qloop.h"
#include "sim.h"
#include "../../loop/atomic.h"

typedef enum {
    SB, SB_MB, MP, MP_WMB, MP_REL, W22, FREE,
    MP_RLX, MP_RMB, CORR, MP_LOCK, SB_RMW, REUSE, R_WMB, R_MB, STAMP,
} Test;

static Test test;
static int x, y, d, f;
static int r0, r1;
static int *heap_obj;
static QemuMutex lock;
static SimMemStamp stamp;

static void *thread_b(void *opaque)
{
    (void)opaque;
    switch (test) {
    case SB:
        qatomic_set(&y, 1);
        r1 = qatomic_read(&x);
        break;
    case SB_MB:
        qatomic_set(&y, 1);
        smp_mb();
        r1 = qatomic_read(&x);
        break;
    case MP:
    case MP_WMB:
    case MP_REL:
        r0 = qatomic_load_acquire(&f);
        r1 = qatomic_read(&d);
        break;
    case W22:
        qatomic_set(&y, 1);
        qatomic_set(&x, 2);
        break;
    case FREE:
        qatomic_set(&y, 1);     /* a second thread: stores draw delays */
        break;
    case MP_RLX:
        r0 = qatomic_read(&f);
        r1 = qatomic_read(&d);
        break;
    case MP_RMB:
        r0 = qatomic_read(&f);
        smp_rmb();
        r1 = qatomic_read(&d);
        break;
    case CORR:
        r0 = qatomic_read(&x);
        r1 = qatomic_read(&x);
        break;
    case SB_RMW:
        qatomic_xchg(&y, 1);
        r1 = qatomic_read(&x);
        break;
    case REUSE:
        r1 = qatomic_read(&f);
        r0 = qatomic_read(&x);
        break;
    case MP_LOCK:
        qemu_mutex_lock(&lock);
        r0 = qatomic_read(&f);
        qemu_mutex_unlock(&lock);
        r1 = qatomic_read(&d);
        break;
    case R_WMB:
    case R_MB:
        qatomic_set(&f, 2);
        smp_mb();
        r1 = qatomic_read(&d);
        break;
    case STAMP:
        qemu_mutex_lock(&lock);
        r0 = qatomic_read(&f);
        qemu_mutex_unlock(&lock);
        r1 = sim_mem_stamp_happened_before(stamp);
        break;
    }
    return NULL;
}

static void body(void *opaque)
{
    QemuThread t;

    (void)opaque;
    x = y = d = f = 0;
    r0 = r1 = -1;
    if (test == FREE) {
        heap_obj = g_new0(int, 1);
    }
    stamp = (SimMemStamp){ 0, 0 };
    if (test == MP_LOCK || test == STAMP) {
        qemu_mutex_init(&lock);
    }
    qemu_thread_create(&t, "b", thread_b, NULL, QEMU_THREAD_JOINABLE);
    switch (test) {
    case SB:
        qatomic_set(&x, 1);
        r0 = qatomic_read(&y);
        break;
    case SB_MB:
        qatomic_set(&x, 1);
        smp_mb();
        r0 = qatomic_read(&y);
        break;
    case MP:
        qatomic_set(&d, 1);
        qatomic_set(&f, 1);
        break;
    case MP_WMB:
        qatomic_set(&d, 1);
        smp_wmb();
        qatomic_set(&f, 1);
        break;
    case MP_REL:
    case MP_RLX:
    case MP_RMB:
        qatomic_set(&d, 1);
        qatomic_store_release(&f, 1);
        break;
    case CORR:
        qatomic_set(&x, 1);
        qatomic_set(&x, 2);
        break;
    case SB_RMW:
        qatomic_xchg(&x, 1);
        r0 = qatomic_read(&y);
        break;
    case REUSE:
        /* x's old object stores 1 and 2, is freed, and its address goes
         * to a new object initialised with plain writes (no seam call). */
        qatomic_set(&x, 1);
        qatomic_set(&x, 2);
        x = 5;
        qatomic_set(&f, 1);
        break;
    case MP_LOCK:
        qatomic_set(&d, 1);
        qemu_mutex_lock(&lock);
        qatomic_set(&f, 1);
        qemu_mutex_unlock(&lock);
        break;
    case W22:
        qatomic_set(&x, 1);
        qatomic_set(&y, 2);
        break;
    case R_WMB:
        qatomic_set(&d, 1);
        smp_wmb();
        qatomic_set(&f, 1);
        break;
    case R_MB:
        qatomic_set(&d, 1);
        smp_mb();
        qatomic_set(&f, 1);
        break;
    case STAMP:
        qatomic_set(&d, 1);
        stamp = sim_mem_stamp();
        qemu_mutex_lock(&lock);
        qatomic_set(&f, 1);
        qemu_mutex_unlock(&lock);
        break;
    case FREE:
        qatomic_set(heap_obj, 7);
        g_free(heap_obj);       /* not a seam call: nothing drains */
        sim_trace_user("freed", 0);
        r0 = qatomic_read(&x);  /* a step while the store may wait */
        qemu_thread_join(&t);   /* drains: the store flushes now */
        return;
    }
    qemu_thread_join(&t);
    if (test == MP_LOCK || test == STAMP) {
        qemu_mutex_destroy(&lock);
    }
    if (test == R_WMB || test == R_MB) {
        r0 = qatomic_read(&f);  /* after the join: the last in mo */
    }
    if (test == W22) {
        r0 = qatomic_read(&x);
        r1 = qatomic_read(&y);
    }
}

/* Outcomes seen, as a bit set of (r0 + 1) * 4 + (r1 + 1). */
static unsigned explore(Test t, SimMemoryModel memory, unsigned bound,
                        uint64_t *runs)
{
    SimConfig config, run;
    unsigned seen = 0;

    test = t;
    sim_config_default(&config);
    config.memory = memory;
    config.preemption_bound = bound;
    config.trace = t == FREE;
    sim_dfs_begin(&config);
    *runs = 0;
    while (sim_dfs_next_run(&run)) {
        SimVerdict v = sim_run(&run, body, NULL);

        if (v != SIM_OK) {
            fprintf(stderr, "litmus %d: verdict %s: %s\n", t,
                    sim_verdict_name(v), sim_verdict_story());
            exit(1);
        }
        (*runs)++;
        if (t == FREE) {
            size_t n;
            const SimEvent *ev = sim_trace_events(&n);
            bool freed = false;

            for (size_t i = 0; i < n; i++) {
                freed |= ev[i].kind == SIM_EV_USER &&
                         !strcmp(ev[i].name, "freed");
                if (freed && ev[i].kind == SIM_EV_MEMORY &&
                    ev[i].arg == SIM_MEM_FLUSH &&
                    strstr(ev[i].name, "heap_obj")) {
                    seen |= 1;  /* flushed after the free */
                }
            }
            continue;
        }
        seen |= 1u << ((r0 + 1) * 4 + (r1 + 1));
    }
    return seen;
}

#define OUT(a, b) (1u << (((a) + 1) * 4 + ((b) + 1)))

static int failures;

static void check(const char *name, Test t, SimMemoryModel m, unsigned bound,
                  unsigned outcome, bool want)
{
    uint64_t runs;
    unsigned seen = explore(t, m, bound, &runs);
    bool got = (seen & outcome) != 0;

    printf("%-8s %-3s bound %u: %4" G_GUINT64_FORMAT " runs, weak outcome "
           "%s%s\n", name, sim_memory_name(m), bound, runs,
           got ? "seen" : "never", got == want ? "" : "   <-- WRONG");
    failures += got != want;
}

/* The same tape twice: the same trace hash; the trace names the weak
 * events (a store buffered, a load that read past another's buffer). */
static void check_replay(void)
{
    SimConfig config;
    uint64_t hash[2];
    size_t n, len;
    const SimEvent *ev;
    bool buffered = false, stale = false;

    test = SB;
    sim_config_default(&config);
    config.memory = SIM_MEMORY_TSO;
    config.trace = true;
    for (uint64_t seed = 1; seed < 200 && !stale; seed++) {
        config.seed = seed;
        sim_run(&config, body, NULL);
        ev = sim_trace_events(&n);
        buffered = stale = false;
        for (size_t i = 0; i < n; i++) {
            buffered |= ev[i].kind == SIM_EV_MEMORY &&
                        ev[i].arg == SIM_MEM_BUFFER;
            stale |= ev[i].kind == SIM_EV_MEMORY &&
                     ev[i].arg == SIM_MEM_LOAD_STALE;
        }
    }
    hash[0] = sim_trace_hash();
    {
        const uint32_t *rec = sim_tape_recorded(&len);
        uint32_t *tape = g_memdup2(rec, len * sizeof(uint32_t));

        config.tape = SIM_TAPE_REPLAY;
        config.replay = tape;
        config.replay_len = len;
        sim_run(&config, body, NULL);
        hash[1] = sim_trace_hash();
        g_free(tape);
    }
    printf("replay   tso: buffered store %s, stale load %s, hash %s\n",
           buffered ? "traced" : "MISSING", stale ? "traced" : "MISSING",
           hash[0] == hash[1] ? "equal" : "DIFFERS");
    failures += !buffered || !stale || hash[0] != hash[1];
}

/* c11: a load that read an older store is traced with its writer, and
 * the tape replays it to the same hash. */
static void check_replay_c11(void)
{
    SimConfig config;
    uint64_t hash[2];
    size_t n, len;
    const SimEvent *ev;
    int64_t older = -1;

    test = MP;
    sim_config_default(&config);
    config.memory = SIM_MEMORY_C11;
    config.trace = true;
    for (uint64_t seed = 1; seed < 500 && older < 0; seed++) {
        config.seed = seed;
        sim_run(&config, body, NULL);
        ev = sim_trace_events(&n);
        for (size_t i = 0; i < n; i++) {
            if (ev[i].kind == SIM_EV_MEMORY &&
                ev[i].arg == SIM_MEM_LOAD_OLDER && r0 == 1 && r1 == 0) {
                older = ev[i].arg2;
            }
        }
    }
    hash[0] = sim_trace_hash();
    {
        const uint32_t *rec = sim_tape_recorded(&len);
        uint32_t *tape = g_memdup2(rec, len * sizeof(uint32_t));

        config.tape = SIM_TAPE_REPLAY;
        config.replay = tape;
        config.replay_len = len;
        sim_run(&config, body, NULL);
        hash[1] = sim_trace_hash();
        g_free(tape);
    }
    /* d = 0 is the value the model found in memory: writer 0, one newer
     * store (main's d = 1) passed over. */
    printf("replay   c11: older store %s, hash %s\n",
           older == ((int64_t)1 << 32) ? "traced (writer 0, 1 newer)"
           : older < 0 ? "MISSING" : "WRONG WRITER",
           hash[0] == hash[1] ? "equal" : "DIFFERS");
    failures += older != ((int64_t)1 << 32) || hash[0] != hash[1];
}

/* The explorer's delay bound apart from the preemption bound: MP's weak
 * outcome needs one weak choice (the stale read of d), so delay bound 0
 * never shows it, whatever the preemptions, and 1 does; no schedule
 * makes more weak choices than the bound in force. */
static void check_delay_bound(unsigned delays, bool want)
{
    SimConfig config, run;
    SimDfsPlan plan = {
        .mode = SIM_DFS_ITERATIVE, .bound_max = 3,
        .delays = SIM_DELAYS_SEPARATE, .delay_bound_max = delays,
    };
    unsigned seen = 0, weak_max = 0;
    uint64_t runs = 0;

    test = MP;
    sim_config_default(&config);
    config.memory = SIM_MEMORY_C11;
    config.trace = true;
    sim_dfs_begin_plan(&config, &plan);
    while (sim_dfs_next_run(&run)) {
        size_t n;
        const SimEvent *ev;
        unsigned weak = 0;

        sim_run(&run, body, NULL);
        runs++;
        ev = sim_trace_events(&n);
        for (size_t i = 0; i < n; i++) {
            weak += ev[i].kind == SIM_EV_MEMORY &&
                    ev[i].arg == SIM_MEM_LOAD_OLDER;
        }
        weak_max = MAX(weak_max, weak);
        seen |= 1u << ((r0 + 1) * 4 + (r1 + 1));
    }
    bool got = (seen & OUT(1, 0)) != 0;
    printf("MP       c11 preemptions 3, delays %u: %3" G_GUINT64_FORMAT
           " runs, at most %u weak a run, weak outcome %s%s\n", delays, runs,
           weak_max, got ? "seen" : "never",
           got == want && weak_max <= delays ? "" : "   <-- WRONG");
    failures += got != want || weak_max > delays;
}

int main(void)
{
    check("SB", SB, SIM_MEMORY_SC, 2, OUT(0, 0), false);
    check("SB", SB, SIM_MEMORY_TSO, 2, OUT(0, 0), true);
    check("SB", SB, SIM_MEMORY_PSO, 2, OUT(0, 0), true);
    check("SB+mb", SB_MB, SIM_MEMORY_TSO, 3, OUT(0, 0), false);
    check("SB+mb", SB_MB, SIM_MEMORY_PSO, 3, OUT(0, 0), false);
    check("MP", MP, SIM_MEMORY_SC, 3, OUT(1, 0), false);
    check("MP", MP, SIM_MEMORY_TSO, 3, OUT(1, 0), false);
    check("MP", MP, SIM_MEMORY_PSO, 3, OUT(1, 0), true);
    check("MP+wmb", MP_WMB, SIM_MEMORY_PSO, 3, OUT(1, 0), false);
    check("MP+rel", MP_REL, SIM_MEMORY_PSO, 3, OUT(1, 0), false);
    check("2+2W", W22, SIM_MEMORY_SC, 3, OUT(1, 1), false);
    check("2+2W", W22, SIM_MEMORY_TSO, 3, OUT(1, 1), false);
    check("2+2W", W22, SIM_MEMORY_PSO, 3, OUT(1, 1), true);
    /* c11: loads may read older stores, so the acquire side matters. */
    check("SB", SB, SIM_MEMORY_C11, 2, OUT(0, 0), true);
    check("SB+mb", SB_MB, SIM_MEMORY_C11, 3, OUT(0, 0), false);
    check("MP", MP, SIM_MEMORY_C11, 3, OUT(1, 0), true);
    check("MP+wmb", MP_WMB, SIM_MEMORY_C11, 3, OUT(1, 0), false);
    check("MP+rel", MP_REL, SIM_MEMORY_C11, 3, OUT(1, 0), false);
    check("MP+rlx", MP_RLX, SIM_MEMORY_PSO, 3, OUT(1, 0), false);
    check("MP+rlx", MP_RLX, SIM_MEMORY_C11, 3, OUT(1, 0), true);
    check("MP+rmb", MP_RMB, SIM_MEMORY_C11, 3, OUT(1, 0), false);
    check("MP+lock", MP_LOCK, SIM_MEMORY_C11, 3, OUT(1, 0), false);
    check("CoRR", CORR, SIM_MEMORY_C11, 3, OUT(1, 0) | OUT(2, 0) | OUT(2, 1),
          false);
    /* A seq_cst read-modify-write is no full barrier in C11 (nor on Arm):
     * SB through xchg shows r0 = r1 = 0 there, never in tso/pso, where
     * it drains the buffer. */
    check("SB+xchg", SB_RMW, SIM_MEMORY_TSO, 3, OUT(0, 0), false);
    check("SB+xchg", SB_RMW, SIM_MEMORY_C11, 3, OUT(0, 0), true);
    /* An address written past the model (freed and re-allocated, plain
     * initialisation) keeps none of its old stores: once b has seen f,
     * which main set after the new value, x reads 5 only. */
    check("reuse", REUSE, SIM_MEMORY_C11, 3,
          OUT(0, 1) | OUT(1, 1) | OUT(2, 1), false);
    /* Modification order follows execution order: never (C11 allows it). */
    check("2+2W", W22, SIM_MEMORY_C11, 3, OUT(1, 1), false);
    /* R (d = 1; FENCE; f = 1 || f = 2; smp_mb(); r1 = d), f ending 2 and
     * r1 = 0: the waiter's aio_notify_accept() and the notifier's
     * aio_notify() (docs/simulation.md, "The R shape").  With smp_wmb()
     * C11 allows it: a release fence orders only for a load that reads
     * what follows it, and nobody reads f = 1.  With smp_mb() it is
     * forbidden: f = 1 before f = 2 in modification order puts the first
     * fence before the second in S, and d is then read after both. */
    check("R+wmb", R_WMB, SIM_MEMORY_C11, 3, OUT(2, 0), true);
    check("R+mb", R_MB, SIM_MEMORY_C11, 3, OUT(2, 0), false);
    check("R+wmb", R_WMB, SIM_MEMORY_TSO, 3, OUT(2, 0), false);
    check("R+wmb", R_WMB, SIM_MEMORY_PSO, 3, OUT(2, 0), false);
    /* sim_mem_stamp(): b's present follows main's stamp when b read the
     * flag main set under the lock after it (never r0 = 1, r1 = 0); under
     * c11 a b that took the lock first does not (r0 = 0, r1 = 0), under
     * sc execution order is the order (never r1 = 0). */
    check("stamp", STAMP, SIM_MEMORY_C11, 3, OUT(1, 0), false);
    check("stamp", STAMP, SIM_MEMORY_C11, 3, OUT(0, 0), true);
    check("stamp", STAMP, SIM_MEMORY_SC, 3, OUT(0, 0) | OUT(1, 0), false);
    check("free", FREE, SIM_MEMORY_TSO, 3, 1, true);
    check("free", FREE, SIM_MEMORY_PSO, 3, 1, true);
    check_replay();
    check_replay_c11();
    check_delay_bound(0, false);
    check_delay_bound(1, true);
    printf("%s\n", failures ? "FAIL" : "PASS");
    return failures ? 1 : 0;
}
