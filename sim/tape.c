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

void sim_tape_init(SimWorld *w)
{
    uint64_t x = w->config.seed;

    for (int i = 0; i < 4; i++) {
        w->prng[i] = splitmix64(&x);
    }
    w->recorded = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    w->recorded_n = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    w->recorded_cost = g_array_new(FALSE, FALSE, sizeof(uint8_t));
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
    g_array_free(w->recorded, TRUE);
    g_array_free(w->recorded_n, TRUE);
    g_array_free(w->recorded_cost, TRUE);
    g_free(w->pct_change_steps);
}

uint32_t sim_tape_record(SimChoiceKind kind, uint32_t n, uint32_t value,
                         bool preemptive)
{
    SimWorld *w = sim_world;
    uint8_t cost = preemptive || kind == SIM_CHOICE_FAULT;

    (void)kind;
    g_array_append_val(w->recorded, value);
    g_array_append_val(w->recorded_n, n);
    g_array_append_val(w->recorded_cost, cost);
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
    case SIM_TAPE_REPLAY:
    case SIM_TAPE_DFS:
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

    *len = w->recorded->len;
    return (const uint32_t *)(void *)w->recorded->data;
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
 * the preemption bound; choices past the prefix default to 0 (no
 * preemption), so each run is a distinct schedule.
 */
static struct {
    SimConfig config;
    GArray *prefix;         /* uint32_t */
    uint64_t runs;
    bool started;
} dfs;

void sim_dfs_begin(const SimConfig *config)
{
    dfs.config = *config;
    dfs.config.tape = SIM_TAPE_DFS;
    if (dfs.prefix) {
        g_array_free(dfs.prefix, TRUE);
    }
    dfs.prefix = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    dfs.runs = 0;
    dfs.started = false;
}

/* Call after a run: choose the next prefix.  Returns false when done. */
static bool dfs_backtrack(void)
{
    SimWorld *w = sim_world;
    const uint32_t *v = (const uint32_t *)(void *)w->recorded->data;
    const uint32_t *nv = (const uint32_t *)(void *)w->recorded_n->data;
    const uint8_t *cost = (const uint8_t *)(void *)w->recorded_cost->data;
    guint len = w->recorded->len;
    unsigned *preempt_before = g_new0(unsigned, len + 1);

    for (guint i = 0; i < len; i++) {
        preempt_before[i + 1] = preempt_before[i] + (cost[i] && v[i] != 0);
    }
    for (guint i = len; i-- > 0;) {
        unsigned used = preempt_before[i] + cost[i];

        if (v[i] + 1 < nv[i] && used <= dfs.config.preemption_bound) {
            g_array_set_size(dfs.prefix, 0);
            g_array_append_vals(dfs.prefix, v, i);
            uint32_t next = v[i] + 1;
            g_array_append_val(dfs.prefix, next);
            g_free(preempt_before);
            return true;
        }
    }
    g_free(preempt_before);
    return false;
}

bool sim_dfs_next_run(SimConfig *config)
{
    if (dfs.started) {
        if (!dfs_backtrack()) {
            return false;
        }
    }
    dfs.started = true;
    dfs.config.replay = (const uint32_t *)(void *)dfs.prefix->data;
    dfs.config.replay_len = dfs.prefix->len;
    dfs.runs++;
    *config = dfs.config;
    return true;
}

uint64_t sim_dfs_runs(void)
{
    return dfs.runs;
}
