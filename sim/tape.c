/*
 * sim/tape.c — the one choice tape.
 *
 * Method: every nondeterministic decision of a simulated run is a call to
 * sim_choose(kind, n) -> [0, n).  The source is interchangeable: a PRNG
 * (random walk), PCT (priority-based scheduling of depth d: threads get
 * random priorities, and at d-1 random steps the running thread drops to
 * the lowest priority), a recorded list (replay), raw bytes (fuzzers), or
 * the depth-first enumerator's current prefix.  Whatever the source, each
 * value is recorded with its bound, so every run can be saved and
 * replayed, and the enumerator can backtrack over it.
 *
 * Choices with n == 1 are not choices: they consume and record nothing,
 * which keeps tapes short and replay robust to single-thread stretches.
 */
#include <string.h>

#include "wmm.h"
#include "world.h"

/* xoshiro256** seeded through splitmix64: small, fast, and ours. */
static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));

    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t sim_prng_next(SimWorld *w)
{
    uint64_t *s = w->prng;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

static uint32_t prng_below(SimWorld *w, uint32_t n)
{
    /* Lemire's multiply-shift: unbiased enough for n << 2^32. */
    return (uint32_t)(((sim_prng_next(w) >> 32) * (uint64_t)n) >> 32);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/*
 * The choice log's buffers outlive worlds: a fuzzer runs millions of
 * worlds of a few hundred choices each, and three growing GArrays per
 * world (allocations, reallocations, a call per append) were a tenth of
 * an iteration — more under ASan, where every malloc is costly.  A freed
 * world leaves its buffers here for the next; nothing reads them past
 * len, so their old contents do not matter.
 */
static SimTapeLog tape_log_spare;

static void tape_log_grow(SimTapeLog *log)
{
    size_t cap = log->cap ? log->cap * 2 : 1024;

    log->value = g_renew(uint32_t, log->value, cap);
    log->n = g_renew(uint32_t, log->n, cap);
    log->cost = g_renew(uint8_t, log->cost, cap);
    log->cap = cap;
}

void sim_tape_init(SimWorld *w)
{
    uint64_t x = w->config.seed;

    for (int i = 0; i < 4; i++) {
        w->prng[i] = splitmix64(&x);
    }
    /* The last world's buffers, emptied (see tape_log_spare). */
    w->log = tape_log_spare;
    w->log.len = 0;
    memset(&tape_log_spare, 0, sizeof(tape_log_spare));
    w->tape_pos = 0;
    w->tape_exhausted = false;
    if (w->config.tape == SIM_TAPE_PCT) {
        unsigned changes = w->config.pct_depth ? w->config.pct_depth - 1 : 0;
        unsigned steps = w->config.pct_steps ? w->config.pct_steps : 1;

        w->pct_change_steps = g_new0(uint64_t, changes + 1);
        for (unsigned i = 0; i < changes; i++) {
            w->pct_change_steps[i] = 1 + prng_below(w, steps);
        }
        qsort(w->pct_change_steps, changes, sizeof(uint64_t), cmp_u64);
        w->pct_change_steps[changes] = UINT64_MAX;
        w->pct_next_change = 0;
        w->pct_low_next = changes;
    }
}

void sim_tape_fini(SimWorld *w)
{
    if (!tape_log_spare.cap) {
        tape_log_spare = w->log;
    } else {
        g_free(w->log.value);
        g_free(w->log.n);
        g_free(w->log.cost);
    }
    memset(&w->log, 0, sizeof(w->log));
    g_free(w->pct_change_steps);
}

/* What a non-zero value of a choice costs the explorer (SimTapeLog.cost). */
enum {
    COST_NONE,
    COST_PREEMPTION,    /* a preemption or a fault: the preemption bound */
    COST_WEAK,          /* a weak memory choice: the delay bound */
};

uint32_t sim_tape_record(SimChoiceKind kind, uint32_t n, uint32_t value,
                         bool preemptive)
{
    SimWorld *w = sim_world;
    uint8_t cost = preemptive || kind == SIM_CHOICE_FAULT ? COST_PREEMPTION
                                                          : COST_NONE;

    if (w->config.no_choice_log) {
        return value;
    }
    if (G_UNLIKELY(w->log.len == w->log.cap)) {
        tape_log_grow(&w->log);
    }
    w->log.value[w->log.len] = value;
    w->log.n[w->log.len] = n;
    w->log.cost[w->log.len] = cost;
    w->log.len++;
    return value;
}

/* The next value from a list source (replay, DFS prefix), 0 past its end. */
static uint32_t tape_next_listed(SimWorld *w, const uint32_t *list, size_t len,
                                 uint32_t n)
{
    uint32_t value;

    if (w->tape_pos >= len) {
        w->tape_exhausted = true;
        return 0;
    }
    value = list[w->tape_pos++];
    if (value >= n) {
        sim_end_run(SIM_REPLAY_DIVERGED,
                    "replay diverged at choice %zu: recorded %u, but only %u "
                    "options exist here", w->tape_pos - 1, value, n);
    }
    return value;
}

static uint32_t tape_next_bytes(SimWorld *w, uint32_t n)
{
    const uint8_t *bytes = w->config.bytes;
    size_t len = w->config.bytes_len;
    uint32_t raw = 0;
    unsigned width = n <= 256 ? 1 : n <= 65536 ? 2 : 4;

    if (w->tape_pos + width > len) {
        w->tape_pos = len;
        w->tape_exhausted = true;
        return 0;
    }
    for (unsigned i = 0; i < width; i++) {
        raw |= (uint32_t)bytes[w->tape_pos++] << (8 * i);
    }
    return raw % n;
}

static uint32_t tape_draw(SimChoiceKind kind, uint32_t n)
{
    SimWorld *w = sim_world;

    switch (w->config.tape) {
    case SIM_TAPE_RANDOM:
    case SIM_TAPE_PCT:
        if (kind == SIM_CHOICE_FAULT) {
            uint32_t permille = w->config.fault_permille;

            return prng_below(w, 1000) < permille ? 1 : 0;
        }
        return prng_below(w, n);
    case SIM_TAPE_DFS:
        /* A randomised prefix: the choices the list does not give, up to
         * random_prefix_len, come from the PRNG (sim_dfs_begin_plan). */
        if (w->tape_pos >= w->config.replay_len &&
            w->log.len < w->config.random_prefix_len) {
            w->tape_pos++;
            if (kind == SIM_CHOICE_FAULT) {
                return prng_below(w, 1000) < w->config.fault_permille ? 1 : 0;
            }
            return prng_below(w, n);
        }
        return tape_next_listed(w, w->config.replay, w->config.replay_len, n);
    case SIM_TAPE_REPLAY:
        return tape_next_listed(w, w->config.replay, w->config.replay_len, n);
    case SIM_TAPE_BYTES:
        return tape_next_bytes(w, n);
    }
    return 0;
}

uint32_t sim_choose(SimChoiceKind kind, uint32_t n)
{
    sim_world_get();
    SIM_ASSERT(n >= 1);
    if (n == 1) {
        return 0;
    }
    return sim_tape_record(kind, n, tape_draw(kind, n), false);
}

uint32_t sim_choose_weak(SimChoiceKind kind, uint32_t n)
{
    SimWorld *w = sim_world_get();
    uint32_t value;

    SIM_ASSERT(n >= 1);
    if (n == 1) {
        return 0;
    }
    value = sim_tape_record(kind, n, tape_draw(kind, n), false);
    if (!w->config.no_choice_log) {
        w->log.cost[w->log.len - 1] = COST_WEAK;
    }
    return value;
}

/* PCT's pick: the highest-priority candidate; change points demote. */
static uint32_t pct_pick(SimWorld *w, const uint32_t *ids, uint32_t n)
{
    uint32_t best = 0;
    uint32_t best_priority = 0;

    while (w->steps >= w->pct_change_steps[w->pct_next_change]) {
        SimThread *cur = w->current;

        w->pct_next_change++;
        if (cur != &w->host) {
            cur->pct_priority = w->pct_low_next--;
        }
    }
    for (uint32_t i = 0; i < n; i++) {
        SimThread *t = g_ptr_array_index(w->threads, ids[i] - 1);

        if (i == 0 || t->pct_priority > best_priority) {
            best = i;
            best_priority = t->pct_priority;
        }
    }
    return best;
}

uint32_t sim_choose_sched(uint32_t *ids, uint32_t n, bool preemptive)
{
    SimWorld *w = sim_world;
    uint32_t value;

    SIM_ASSERT(n >= 1);
    if (n == 1) {
        return 0;
    }
    if (w->config.tape == SIM_TAPE_PCT) {
        value = pct_pick(w, ids, n);
    } else {
        value = tape_draw(SIM_CHOICE_SCHED, n);
    }
    return sim_tape_record(SIM_CHOICE_SCHED, n, value, preemptive);
}

unsigned sim_faults_set(unsigned faults)
{
    SimWorld *w = sim_world_get();
    unsigned old = w->config.faults;

    w->config.faults = faults;
    return old;
}

bool sim_fault(SimFault fault, const char *name)
{
    SimWorld *w = sim_world_get();

    if (!(w->config.faults & fault) || w->current == &w->host) {
        return false;
    }
    if (sim_choose(SIM_CHOICE_FAULT, 2) == 0) {
        return false;
    }
    sim_trace_record(SIM_EV_FAULT, name, fault);
    return true;
}

const uint32_t *sim_tape_recorded(size_t *len)
{
    SimWorld *w = sim_world_get();

    *len = w->log.len;
    return w->log.value;
}

unsigned sim_fault_mask(void)
{
    return sim_world_get()->config.faults;
}

bool sim_tape_exhausted(void)
{
    return sim_world_get()->tape_exhausted;
}

/* ---- depth-first exploration ---------------------------------------------- */

/*
 * The enumerator keeps the prefix of the run to do next.  After each run,
 * it backtracks to the deepest choice that can still be incremented within
 * the preemption bound (and the delay bound, for weak memory choices when
 * the plan keeps them apart); choices past the prefix default to 0 (no
 * preemption, no weak behaviour), so each run is a different schedule.
 *
 * Plain depth-first search varies the tail of one schedule first: on a
 * long scenario, the free choices (switches at blocking points, ready
 * order, which waiter wakes) near the end multiply, and the front is
 * never reached.  Two walks reach it:
 *   - iterative bounding: bound 0, 1, ... K, each space exhausted before
 *     the next, so a preemption at the first choice point is tried within
 *     the first few hundred schedules rather than last;
 *   - randomised prefixes: each round draws a prefix length L and the first
 *     L choices from the PRNG (seeded from the plan's seed and the round),
 *     then enumerates the choices after L depth first, within the bound,
 *     for at most tail_runs schedules.  Rounds never end by themselves.
 * The mixed plan alternates the two, one schedule each: iterative bounding
 * is strong where outcomes hinge on few preemptions anywhere, random
 * prefixes where they hinge on a long stretch of free choices; the space
 * is exhausted when the iterative walk is.
 * Every plan is deterministic: the same plan proposes the same schedules.
 */
typedef struct DfsWalk {
    SimDfsMode mode;        /* PLAIN, ITERATIVE or RANDOM_PREFIX */
    GArray *prefix;         /* uint32_t: the next run's choices */
    uint64_t round;         /* random prefixes: the current round */
    uint64_t round_runs;    /* ... schedules run in it */
    uint64_t seed;          /* ... the round's PRNG seed */
    size_t random_len;      /* ... its prefix length, until its first run */
    size_t floor;           /* choices below it are fixed (the random prefix) */
    unsigned bound;         /* the preemption bound in force */
    unsigned delay_bound;   /* the delay bound in force (SEPARATE) */
    unsigned level;         /* iterative: both bounds are min(level, max) */
    bool started;
} DfsWalk;

static struct {
    SimConfig config;
    SimDfsPlan plan;
    DfsWalk walk[2];        /* mixed: [0] iterative, [1] random prefixes */
    unsigned walks;
    unsigned last;          /* the walk that proposed the last run */
    uint64_t runs;
    uint64_t seed;          /* the caller's config.seed */
} dfs;

static void dfs_walk_init(DfsWalk *wk, SimDfsMode mode)
{
    if (wk->prefix) {
        g_array_free(wk->prefix, TRUE);
    }
    memset(wk, 0, sizeof(*wk));
    wk->mode = mode;
    wk->prefix = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    wk->bound = mode == SIM_DFS_ITERATIVE ? 0 : dfs.plan.bound_max;
    wk->delay_bound = mode == SIM_DFS_ITERATIVE ? 0 : dfs.plan.delay_bound_max;
}

void sim_dfs_begin_plan(const SimConfig *config, const SimDfsPlan *plan)
{
    SIM_ASSERT(plan->mode == SIM_DFS_PLAIN || plan->mode == SIM_DFS_ITERATIVE ||
               plan->tail_runs >= 1);
    dfs.config = *config;
    dfs.config.tape = SIM_TAPE_DFS;
    dfs.config.random_prefix_len = 0;
    dfs.seed = config->seed;
    dfs.plan = *plan;
    dfs.runs = 0;
    dfs.last = 0;
    if (plan->mode == SIM_DFS_MIXED) {
        dfs.walks = 2;
        dfs_walk_init(&dfs.walk[0], SIM_DFS_ITERATIVE);
        dfs_walk_init(&dfs.walk[1], SIM_DFS_RANDOM_PREFIX);
    } else {
        dfs.walks = 1;
        dfs_walk_init(&dfs.walk[0], plan->mode);
    }
}

void sim_dfs_begin(const SimConfig *config)
{
    SimDfsPlan plan = {
        .mode = SIM_DFS_PLAIN, .bound_max = config->preemption_bound,
    };

    sim_dfs_begin_plan(config, &plan);
}

/* The preemption-bound and delay-bound units a non-zero value of a
 * choice of this cost uses (shared: a weak choice is a preemption). */
static unsigned cost_preemptions(uint8_t cost)
{
    return cost == COST_PREEMPTION ||
           (cost == COST_WEAK && dfs.plan.delays == SIM_DELAYS_SHARED);
}

static unsigned cost_delays(uint8_t cost)
{
    return cost == COST_WEAK && dfs.plan.delays == SIM_DELAYS_SEPARATE;
}

/* Call after a run: choose the walk's next prefix.  False when done. */
static bool dfs_backtrack(DfsWalk *wk)
{
    SimWorld *w = sim_world;
    const uint32_t *v = w->log.value;
    const uint32_t *nv = w->log.n;
    const uint8_t *cost = w->log.cost;
    guint len = w->log.len;
    unsigned *preempt_before = g_new0(unsigned, len + 1);
    unsigned *delay_before = g_new0(unsigned, len + 1);
    bool found = false;

    /* Preemptions in the random prefix are the round's, not the tail's:
     * the bounds count from the floor. */
    for (guint i = 0; i < len; i++) {
        bool counted = i >= wk->floor && v[i] != 0;

        preempt_before[i + 1] = preempt_before[i] +
                                (counted ? cost_preemptions(cost[i]) : 0);
        delay_before[i + 1] = delay_before[i] +
                              (counted ? cost_delays(cost[i]) : 0);
    }
    for (guint i = len; i-- > wk->floor;) {
        unsigned used = preempt_before[i] + cost_preemptions(cost[i]);
        unsigned delays = delay_before[i] + cost_delays(cost[i]);

        if (v[i] + 1 < nv[i] && used <= wk->bound &&
            (dfs.plan.delays == SIM_DELAYS_SHARED ||
             delays <= wk->delay_bound)) {
            g_array_set_size(wk->prefix, 0);
            g_array_append_vals(wk->prefix, v, i);
            uint32_t next = v[i] + 1;
            g_array_append_val(wk->prefix, next);
            found = true;
            break;
        }
    }
    g_free(preempt_before);
    g_free(delay_before);
    return found;
}

/*
 * Random prefixes: start the walk's round wk->round.  Its first run takes
 * the prefix length from the PRNG and the choices below it too; the floor
 * is fixed once that run has recorded them.  Round 0 is the
 * non-preemptive schedule: its tape sizes the prefixes after it.
 */
static void dfs_round_begin(DfsWalk *wk)
{
    uint64_t x = dfs.plan.seed * UINT64_C(0x100000001b3) + wk->round;
    uint64_t len_max = dfs.plan.prefix_len_max;

    g_array_set_size(wk->prefix, 0);
    wk->seed = splitmix64(&x);
    /* Length 0 (the front itself) to len_max, the longest tape seen. */
    wk->random_len = wk->round == 0 ? 0
                     : (size_t)(splitmix64(&x) % (len_max + 1));
    wk->floor = 0;
    wk->round_runs = 0;
}

/* After the walk's last run: its next prefix.  False when it is done. */
static bool dfs_walk_advance(DfsWalk *wk)
{
    SimWorld *w = sim_world;

    if (wk->mode != SIM_DFS_RANDOM_PREFIX) {
        if (dfs_backtrack(wk)) {
            return true;
        }
        if (wk->mode != SIM_DFS_ITERATIVE ||
            (wk->bound >= dfs.plan.bound_max &&
             (dfs.plan.delays == SIM_DELAYS_SHARED ||
              wk->delay_bound >= dfs.plan.delay_bound_max))) {
            return false;
        }
        wk->level++;
        wk->bound = MIN(wk->level, dfs.plan.bound_max);
        wk->delay_bound = MIN(wk->level, dfs.plan.delay_bound_max);
        g_array_set_size(wk->prefix, 0);
        return true;
    }
    if (wk->round_runs == 1) {
        /* The round's first run fixed the prefix: later runs replay it
         * from the list and enumerate only past it. */
        wk->floor = MIN(wk->random_len, w->log.len);
        wk->random_len = 0;
    }
    if (w->log.len > dfs.plan.prefix_len_max) {
        dfs.plan.prefix_len_max = w->log.len;
    }
    if (wk->round == 0 && wk->round_runs == 1 && w->log.len == 0) {
        return false;   /* no choice at all: one schedule is the space */
    }
    if (wk->round_runs >= dfs.plan.tail_runs || !dfs_backtrack(wk)) {
        wk->round++;
        dfs_round_begin(wk);
    }
    return true;
}

bool sim_dfs_next_run(SimConfig *config)
{
    DfsWalk *wk;

    if (dfs.runs > 0) {
        /* The walk that proposed the last run backtracks over it; the
         * first walk running out ends the plan (in the mixed plan that is
         * the iterative one: the random one never does). */
        if (!dfs_walk_advance(&dfs.walk[dfs.last])) {
            return false;
        }
        dfs.last = (dfs.last + 1) % dfs.walks;
    }
    wk = &dfs.walk[dfs.last];
    if (!wk->started) {
        wk->started = true;
        if (wk->mode == SIM_DFS_RANDOM_PREFIX) {
            dfs_round_begin(wk);
        }
    }
    wk->round_runs++;
    /* The PRNG draws only random prefixes; other walks keep the seed. */
    dfs.config.seed = wk->mode == SIM_DFS_RANDOM_PREFIX ? wk->seed
                                                        : dfs.seed;
    dfs.config.random_prefix_len = wk->random_len;
    dfs.config.replay = (const uint32_t *)(void *)wk->prefix->data;
    dfs.config.replay_len = wk->prefix->len;
    dfs.runs++;
    *config = dfs.config;
    return true;
}

uint64_t sim_dfs_runs(void)
{
    return dfs.runs;
}

unsigned sim_dfs_bound(void)
{
    return dfs.walk[0].bound;
}

unsigned sim_dfs_delay_bound(void)
{
    return dfs.walk[0].delay_bound;
}

uint64_t sim_dfs_rounds(void)
{
    const DfsWalk *wk = &dfs.walk[dfs.walks - 1];

    return wk->mode == SIM_DFS_RANDOM_PREFIX && wk->started ? wk->round + 1 : 0;
}
