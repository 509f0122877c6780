/*
 * tests/sim/test-sim.c — the simulated OS itself: tape, scheduler, time,
 * fake fds, faults, verdicts.
 *
 * Method: each case runs a small body in a fresh world with sim_run() and
 * checks what the simulator promises — that a recorded tape replays to the
 * same trace hash, that the enumerator visits exactly the schedules that
 * exist, that time jumps instead of sleeping, that fake fds keep real
 * counter and buffer semantics, and that a stuck run is a hang verdict
 * naming where each thread waits.
 */
#include <errno.h>
#include <string.h>

#include "qloop/qloop.h"
#include "sim.h"

static SimConfig config_with(SimTapeKind tape, uint64_t seed)
{
    SimConfig c;

    sim_config_default(&c);
    c.tape = tape;
    c.seed = seed;
    return c;
}

/* ---- a small racy body: two threads append to a log ---------------------- */

static GString *race_log;

static void *racer(void *opaque)
{
    for (int i = 0; i < 3; i++) {
        g_string_append(race_log, opaque);
        sim_yield("racer");
    }
    return NULL;
}

static void race_body(void *opaque)
{
    QemuThread a, b;

    (void)opaque;
    g_string_truncate(race_log, 0);
    qemu_thread_create(&a, "a", racer, "a", QEMU_THREAD_JOINABLE);
    qemu_thread_create(&b, "b", racer, "b", QEMU_THREAD_JOINABLE);
    qemu_thread_join(&a);
    qemu_thread_join(&b);
}

static void test_replay_reproduces_hash(void)
{
    race_log = g_string_new("");
    for (uint64_t seed = 1; seed <= 50; seed++) {
        SimConfig c = config_with(SIM_TAPE_RANDOM, seed);
        SimConfig r = config_with(SIM_TAPE_REPLAY, 0);
        uint64_t hash;
        char *log;
        size_t len;
        uint32_t *tape;

        g_assert_cmpint(sim_run(&c, race_body, NULL), ==, SIM_OK);
        hash = sim_trace_hash();
        log = g_strdup(race_log->str);
        const uint32_t *recorded = sim_tape_recorded(&len);

        tape = g_memdup2(recorded, len * sizeof(uint32_t));

        r.replay = tape;
        r.replay_len = len;
        g_assert_cmpint(sim_run(&r, race_body, NULL), ==, SIM_OK);
        g_assert_cmpuint(sim_trace_hash(), ==, hash);
        g_assert_cmpstr(race_log->str, ==, log);
        g_assert_false(sim_tape_exhausted());
        g_free(tape);
        g_free(log);
    }
    g_string_free(race_log, TRUE);
}

static void test_random_explores_orders(void)
{
    GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal,
                                             g_free, NULL);

    race_log = g_string_new("");
    for (uint64_t seed = 1; seed <= 200; seed++) {
        SimConfig c = config_with(SIM_TAPE_RANDOM, seed);

        g_assert_cmpint(sim_run(&c, race_body, NULL), ==, SIM_OK);
        g_assert_cmpuint(race_log->len, ==, 6);
        g_hash_table_add(seen, g_strdup(race_log->str));
    }
    /* Both "aaabbb" (no preemption) and interleavings occur. */
    g_assert_true(g_hash_table_contains(seen, "aaabbb"));
    g_assert_cmpuint(g_hash_table_size(seen), >, 5);
    g_hash_table_destroy(seen);
    g_string_free(race_log, TRUE);
}

static void test_dfs_enumerates_all_interleavings(void)
{
    GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal,
                                             g_free, NULL);
    SimConfig c = config_with(SIM_TAPE_DFS, 0), run;
    uint64_t runs = 0;

    /* Unbounded: every interleaving of aaa and bbb (C(6,3) = 20 orders)
     * must appear. */
    c.preemption_bound = 100;
    race_log = g_string_new("");
    sim_dfs_begin(&c);
    while (sim_dfs_next_run(&run)) {
        g_assert_cmpint(sim_run(&run, race_body, NULL), ==, SIM_OK);
        g_hash_table_add(seen, g_strdup(race_log->str));
        runs++;
        g_assert_cmpuint(runs, <, 100000);
    }
    g_assert_cmpuint(g_hash_table_size(seen), ==, 20);
    g_assert_cmpuint(sim_dfs_runs(), ==, runs);
    g_hash_table_destroy(seen);
    g_string_free(race_log, TRUE);
}

/* The orders a plan reaches within bound, and its runs, in run order. */
static GHashTable *plan_orders(SimDfsMode mode, unsigned bound,
                               uint64_t max_runs, GString *runs_log)
{
    GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal,
                                             g_free, NULL);
    SimConfig c = config_with(SIM_TAPE_DFS, 0), run;
    SimDfsPlan plan = { .mode = mode, .bound_max = bound, .seed = 7,
                        .tail_runs = 2 };
    uint64_t runs = 0;

    race_log = g_string_new("");
    sim_dfs_begin_plan(&c, &plan);
    while (runs < max_runs && sim_dfs_next_run(&run)) {
        g_assert_cmpint(sim_run(&run, race_body, NULL), ==, SIM_OK);
        g_hash_table_add(seen, g_strdup(race_log->str));
        g_string_append_printf(runs_log, "%s ", race_log->str);
        runs++;
    }
    g_assert_cmpuint(sim_dfs_runs(), ==, runs);
    g_string_free(race_log, TRUE);
    return seen;
}

/* Every key of a is in b. */
static bool keys_within(GHashTable *a, GHashTable *b)
{
    GHashTableIter it;
    gpointer k;

    g_hash_table_iter_init(&it, a);
    while (g_hash_table_iter_next(&it, &k, NULL)) {
        if (!g_hash_table_contains(b, k)) {
            return false;
        }
    }
    return true;
}

/*
 * Iterative bounding reaches exactly the orders plain depth-first search
 * reaches within the bound (it reorders the search, it does not cut it),
 * the mixed plan at least those, and both end; the same plan runs the
 * same schedules.
 */
static void test_dfs_plans_cover_the_bounded_space(void)
{
    GString *log_plain = g_string_new(""), *log_iter = g_string_new("");
    GString *log_mixed = g_string_new(""), *log_again = g_string_new("");
    GString *log_prefix = g_string_new(""), *log_zero = g_string_new("");
    GHashTable *zero;
    GHashTable *plain = plan_orders(SIM_DFS_PLAIN, 1, 100000, log_plain);
    GHashTable *iter = plan_orders(SIM_DFS_ITERATIVE, 1, 100000, log_iter);
    GHashTable *mixed = plan_orders(SIM_DFS_MIXED, 1, 100000, log_mixed);
    GHashTable *again = plan_orders(SIM_DFS_MIXED, 1, 100000, log_again);
    GHashTable *prefix = plan_orders(SIM_DFS_RANDOM_PREFIX, 1, 200, log_prefix);

    g_assert_cmpuint(g_hash_table_size(plain), >, 2);
    g_assert_true(keys_within(plain, iter) && keys_within(iter, plain));
    /* Mixed adds random prefixes, whose preemptions the bound does not
     * count: it reaches at least what the bound allows. */
    g_assert_true(keys_within(plain, mixed));
    g_assert_cmpstr(log_mixed->str, ==, log_again->str);
    /* Random prefixes never end by themselves; they reach orders too. */
    g_assert_cmpuint(g_hash_table_size(prefix), >, 2);
    /* Bound 0 first: iterative's first runs are bound 0's, in order. */
    zero = plan_orders(SIM_DFS_PLAIN, 0, 100000, log_zero);
    g_assert_true(g_str_has_prefix(log_iter->str, log_zero->str));
    g_hash_table_destroy(zero);
    g_string_free(log_zero, TRUE);
    g_hash_table_destroy(plain);
    g_hash_table_destroy(iter);
    g_hash_table_destroy(mixed);
    g_hash_table_destroy(again);
    g_hash_table_destroy(prefix);
    g_string_free(log_plain, TRUE);
    g_string_free(log_iter, TRUE);
    g_string_free(log_mixed, TRUE);
    g_string_free(log_again, TRUE);
    g_string_free(log_prefix, TRUE);
}

static void test_dfs_preemption_bound_zero(void)
{
    GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal,
                                             g_free, NULL);
    SimConfig c = config_with(SIM_TAPE_DFS, 0), run;

    c.preemption_bound = 0;
    race_log = g_string_new("");
    sim_dfs_begin(&c);
    while (sim_dfs_next_run(&run)) {
        g_assert_cmpint(sim_run(&run, race_body, NULL), ==, SIM_OK);
        g_hash_table_add(seen, g_strdup(race_log->str));
    }
    /* Without preemptions a thread runs until it blocks or exits: only
     * the choice of who starts remains. */
    g_assert_cmpuint(g_hash_table_size(seen), ==, 2);
    g_assert_true(g_hash_table_contains(seen, "aaabbb"));
    g_assert_true(g_hash_table_contains(seen, "bbbaaa"));
    g_hash_table_destroy(seen);
    g_string_free(race_log, TRUE);
}

static void test_pct_is_deterministic_per_seed(void)
{
    race_log = g_string_new("");
    for (uint64_t seed = 1; seed <= 20; seed++) {
        SimConfig c = config_with(SIM_TAPE_PCT, seed);
        uint64_t hash;

        c.pct_depth = 2;
        c.pct_steps = 20;
        g_assert_cmpint(sim_run(&c, race_body, NULL), ==, SIM_OK);
        hash = sim_trace_hash();
        g_assert_cmpint(sim_run(&c, race_body, NULL), ==, SIM_OK);
        g_assert_cmpuint(sim_trace_hash(), ==, hash);
    }
    g_string_free(race_log, TRUE);
}

static void test_bytes_tape(void)
{
    static const uint8_t bytes[] = { 1, 1, 1, 1, 1, 1, 1, 1 };
    SimConfig c = config_with(SIM_TAPE_BYTES, 0);
    size_t len;

    c.bytes = bytes;
    c.bytes_len = sizeof(bytes);
    race_log = g_string_new("");
    g_assert_cmpint(sim_run(&c, race_body, NULL), ==, SIM_OK);
    /* Odd bytes pick the other thread at every choice: strict alternation
     * once both run; the tape ends and later choices are 0. */
    g_assert_cmpuint(race_log->len, ==, 6);
    g_assert_cmpuint(sim_tape_recorded(&len)[0], ==, 1);
    g_assert_true(sim_tape_exhausted());
    g_string_free(race_log, TRUE);
}

static void test_replay_divergence_is_a_verdict(void)
{
    static const uint32_t bad[] = { 7 };
    SimConfig c = config_with(SIM_TAPE_REPLAY, 0);

    c.replay = bad;
    c.replay_len = 1;
    race_log = g_string_new("");
    g_assert_cmpint(sim_run(&c, race_body, NULL), ==, SIM_REPLAY_DIVERGED);
    g_assert_nonnull(strstr(sim_verdict_story(), "recorded 7"));
    g_string_free(race_log, TRUE);
}

/* ---- time ------------------------------------------------------------------ */

static int hour_fired;
static void hour_cb(void *opaque)
{
    (void)opaque;
    hour_fired++;
}

static void hour_body(void *opaque)
{
    AioContext *ctx = aio_context_new(&error_abort);
    int64_t *elapsed = opaque;
    int64_t start_ns = qemu_clock_get_ns(QEMU_CLOCK_REALTIME);
    QEMUTimer *t = aio_timer_new(ctx, QEMU_CLOCK_REALTIME, SCALE_MS,
                                 hour_cb, NULL);

    hour_fired = 0;
    timer_mod(t, qemu_clock_get_ms(QEMU_CLOCK_REALTIME) + 3600 * 1000);
    while (!hour_fired) {
        aio_poll(ctx, true);
    }
    *elapsed = qemu_clock_get_ns(QEMU_CLOCK_REALTIME) - start_ns;
    timer_free(t);
    aio_context_unref(ctx);
}

static void test_blocking_poll_jumps_time(void)
{
    SimConfig c = config_with(SIM_TAPE_RANDOM, 1);
    int64_t elapsed_ns = 0;
    gint64 wall_start = g_get_monotonic_time();

    g_assert_cmpint(sim_run(&c, hour_body, &elapsed_ns), ==, SIM_OK);
    g_assert_cmpint(hour_fired, ==, 1);
    /* Never early, and no later than the deadline: time jumped exactly. */
    g_assert_cmpint(elapsed_ns, ==, (int64_t)3600 * 1000 * 1000 * 1000);
    /* An hour of virtual time took far less than a second of real time. */
    g_assert_cmpint(g_get_monotonic_time() - wall_start, <, 5 * G_USEC_PER_SEC);
}

static void host_jump_body(void *opaque)
{
    int64_t *delta = opaque;
    int64_t before = qemu_clock_get_ns(QEMU_CLOCK_HOST);
    int64_t rt_before = qemu_clock_get_ns(QEMU_CLOCK_REALTIME);

    sim_host_clock_jump_ns(-5 * SCALE_MS);
    delta[0] = qemu_clock_get_ns(QEMU_CLOCK_HOST) - before;
    delta[1] = qemu_clock_get_ns(QEMU_CLOCK_REALTIME) - rt_before;
}

static void test_host_clock_jumps_alone(void)
{
    SimConfig c = config_with(SIM_TAPE_RANDOM, 1);
    int64_t delta[2];

    g_assert_cmpint(sim_run(&c, host_jump_body, delta), ==, SIM_OK);
    g_assert_cmpint(delta[0], ==, -5 * SCALE_MS);
    g_assert_cmpint(delta[1], ==, 0);
}

/* ---- fake fds ---------------------------------------------------------------- */

static void fd_body(void *opaque)
{
    EventNotifier e;
    int p[2], s[2];
    char buf[16];
    uint64_t v;

    (void)opaque;
    g_assert_cmpint(event_notifier_init(&e, 0), ==, 0);
    g_assert_cmpint(event_notifier_get_fd(&e), >=, SIM_FD_BASE);
    g_assert_false(event_notifier_test_and_clear(&e));
    event_notifier_set(&e);
    event_notifier_set(&e);
    g_assert_cmpint(sim_read(event_notifier_get_fd(&e), &v, sizeof(v)), ==, 8);
    g_assert_cmpuint(v, ==, 2);                 /* a counter, not a flag */
    g_assert_cmpint(sim_read(event_notifier_get_fd(&e), &v, sizeof(v)), ==,
                    -EAGAIN);
    v = UINT64_C(0xfffffffffffffffe);
    g_assert_cmpint(sim_write(event_notifier_get_fd(&e), &v, 8), ==, 8);
    v = 1;
    g_assert_cmpint(sim_write(event_notifier_get_fd(&e), &v, 8), ==, -EAGAIN);
    event_notifier_cleanup(&e);

    g_assert_cmpint(sim_pipe(p, 4), ==, 0);
    g_assert_cmpint(sim_write(p[1], "abcdef", 6), ==, 4);   /* bounded */
    g_assert_cmpint(sim_write(p[1], "x", 1), ==, -EAGAIN);
    g_assert_cmpint(sim_read(p[0], buf, 3), ==, 3);
    g_assert_cmpmem(buf, 3, "abc", 3);
    g_assert_cmpint(sim_close(p[1]), ==, 0);
    g_assert_cmpint(sim_read(p[0], buf, sizeof(buf)), ==, 1);
    g_assert_cmpint(sim_read(p[0], buf, sizeof(buf)), ==, 0); /* EOF */
    sim_close(p[0]);

    g_assert_cmpint(sim_socketpair(s, 8), ==, 0);
    g_assert_cmpint(sim_write(s[0], "ping", 4), ==, 4);
    g_assert_cmpint(sim_write(s[1], "pong", 4), ==, 4);
    g_assert_cmpint(sim_read(s[1], buf, 4), ==, 4);
    g_assert_cmpmem(buf, 4, "ping", 4);
    g_assert_cmpint(sim_read(s[0], buf, 4), ==, 4);
    g_assert_cmpmem(buf, 4, "pong", 4);
}

static void test_fake_fds(void)
{
    SimConfig c = config_with(SIM_TAPE_RANDOM, 1);

    g_assert_cmpint(sim_run(&c, fd_body, NULL), ==, SIM_OK);
}

static int external_reads;
static int64_t external_read_at;

static void external_read_cb(void *opaque)
{
    int fd = GPOINTER_TO_INT(opaque);
    char b;

    sim_read(fd, &b, 1);
    external_reads++;
    external_read_at = sim_now_ns();
}

static void external_body(void *opaque)
{
    AioContext *ctx = aio_context_new(&error_abort);
    int fd = sim_external_fd("device");
    int64_t start = sim_now_ns();

    (void)opaque;
    external_reads = 0;
    aio_set_fd_handler(ctx, fd, external_read_cb, NULL, NULL, NULL,
                       GINT_TO_POINTER(fd));
    sim_external_at(fd, start + 250 * SCALE_MS);
    while (!external_reads) {
        aio_poll(ctx, true);
    }
    g_assert_cmpint(external_read_at - start, ==, 250 * SCALE_MS);
    aio_set_fd_handler(ctx, fd, NULL, NULL, NULL, NULL, NULL);
    aio_context_unref(ctx);
}

static void test_external_event_at_time(void)
{
    SimConfig c = config_with(SIM_TAPE_RANDOM, 3);

    g_assert_cmpint(sim_run(&c, external_body, NULL), ==, SIM_OK);
    g_assert_cmpint(external_reads, ==, 1);
}

/* ---- verdicts ----------------------------------------------------------------- */

static QemuMutex hang_mutex;
static QemuCond hang_cond;

static void *hang_waiter(void *opaque)
{
    (void)opaque;
    qemu_mutex_lock(&hang_mutex);
    qemu_cond_wait(&hang_cond, &hang_mutex);    /* nobody signals */
    qemu_mutex_unlock(&hang_mutex);
    return NULL;
}

static void hang_body(void *opaque)
{
    AioContext *ctx = aio_context_new(&error_abort);
    QemuThread t;

    (void)opaque;
    qemu_mutex_init(&hang_mutex);
    qemu_cond_init(&hang_cond);
    qemu_thread_create(&t, "waiter", hang_waiter, NULL, QEMU_THREAD_JOINABLE);
    aio_poll(ctx, true);    /* first poll returns: aio_context_new notified */
    aio_poll(ctx, true);    /* nothing can wake this one */
    g_assert_not_reached();
}

static void test_hang_verdict_names_threads(void)
{
    SimConfig c = config_with(SIM_TAPE_RANDOM, 5);
    const char *story;

    g_assert_cmpint(sim_run(&c, hang_body, NULL), ==, SIM_HANG);
    story = sim_verdict_story();
    g_assert_nonnull(strstr(story, "thread 1 (main) waits in aio poll"));
    g_assert_nonnull(strstr(story, "thread 2 (waiter) waits in condition wait"));
}

static void spin_body(void *opaque)
{
    (void)opaque;
    for (;;) {
        sim_yield("spin");
    }
}

static void test_livelock_verdict(void)
{
    SimConfig c = config_with(SIM_TAPE_RANDOM, 1);

    c.step_limit = 1000;
    g_assert_cmpint(sim_run(&c, spin_body, NULL), ==, SIM_LIVELOCK);
    g_assert_cmpuint(sim_steps(), ==, 1001);
}

static void panic_body(void *opaque)
{
    AioContext *ctx = aio_context_new(&error_abort);

    (void)opaque;
    aio_bh_new(ctx, hour_cb, NULL);     /* never deleted */
    aio_context_unref(ctx);             /* finalize: a programming error */
}

static void test_core_panic_is_a_verdict(void)
{
    SimConfig c = config_with(SIM_TAPE_RANDOM, 1);

    g_assert_cmpint(sim_run(&c, panic_body, NULL), ==, SIM_PANIC);
    g_assert_nonnull(strstr(sim_verdict_story(), "hour_cb"));
}

/* ---- faults -------------------------------------------------------------------- */

static int fault_events;

static void fault_body(void *opaque)
{
    AioContext *ctx = aio_context_new(&error_abort);
    size_t n;
    const SimEvent *ev;

    (void)opaque;
    for (int i = 0; i < 200; i++) {
        aio_notify(ctx);
        aio_poll(ctx, true);
        qemu_clock_get_ns(QEMU_CLOCK_HOST);
    }
    ev = sim_trace_events(&n);
    fault_events = 0;
    for (size_t i = 0; i < n; i++) {
        fault_events += ev[i].kind == SIM_EV_FAULT;
    }
    aio_context_unref(ctx);
}

static void test_faults_only_when_enabled(void)
{
    SimConfig c = config_with(SIM_TAPE_RANDOM, 9);

    c.trace = true;
    c.faults = 0;
    g_assert_cmpint(sim_run(&c, fault_body, NULL), ==, SIM_OK);
    g_assert_cmpint(fault_events, ==, 0);
    c.faults = SIM_FAULT_ALL;
    c.fault_permille = 200;
    g_assert_cmpint(sim_run(&c, fault_body, NULL), ==, SIM_OK);
    g_assert_cmpint(fault_events, >, 0);
}

/*
 * sim_trace_kind_count() agrees with the recorded trace, kind by kind, and
 * keeps counting when no trace is recorded (the fuzz targets' case): the
 * runner's drain stops on it.
 */
static uint64_t kind_counts[SIM_EV_KINDS_MAX];
static uint64_t kind_counts_from_trace[SIM_EV_KINDS_MAX];

static void count_bh(void *opaque)
{
    (void)opaque;
}

static void kind_count_body(void *opaque)
{
    AioContext *ctx = aio_context_new(&error_abort);
    QEMUBH *bh = aio_bh_new(ctx, count_bh, NULL);
    const SimEvent *ev;
    size_t n = 0;

    (void)opaque;
    for (int i = 0; i < 200; i++) {
        qemu_bh_schedule(bh);
        aio_notify(ctx);
        aio_poll(ctx, true);
        qemu_clock_get_ns(QEMU_CLOCK_HOST);
    }
    for (uint32_t k = 0; k < SIM_EV_KINDS_MAX; k++) {
        kind_counts[k] = sim_trace_kind_count(k);
    }
    g_assert_cmpuint(sim_trace_kind_count(SIM_EV_KINDS_MAX), ==, 0);
    memset(kind_counts_from_trace, 0, sizeof(kind_counts_from_trace));
    ev = sim_trace_events(&n);
    for (size_t i = 0; i < n; i++) {
        g_assert_cmpuint(ev[i].kind, <, SIM_EV_KINDS_MAX);
        kind_counts_from_trace[ev[i].kind]++;
    }
    qemu_bh_delete(bh);
    aio_context_unref(ctx);
}

static void test_trace_kind_counts(void)
{
    SimConfig c = config_with(SIM_TAPE_RANDOM, 5);
    uint64_t traced[SIM_EV_KINDS_MAX];

    c.trace = true;
    c.faults = SIM_FAULT_ALL;
    c.fault_permille = 200;
    g_assert_cmpint(sim_run(&c, kind_count_body, NULL), ==, SIM_OK);
    uint64_t core_events = 0;

    for (uint32_t k = 0; k < SIM_EV_SWITCH; k++) {
        core_events += kind_counts[k];
    }
    g_assert_cmpuint(core_events, >=, 200 * 3);  /* schedule, notify, run */
    g_assert_cmpuint(kind_counts[SIM_EV_FAULT], >, 0);
    for (uint32_t k = 0; k < SIM_EV_KINDS_MAX; k++) {
        g_assert_cmpuint(kind_counts[k], ==, kind_counts_from_trace[k]);
    }
    memcpy(traced, kind_counts, sizeof(traced));
    /* The same run without a recorded trace: the same counts. */
    c.trace = false;
    g_assert_cmpint(sim_run(&c, kind_count_body, NULL), ==, SIM_OK);
    for (uint32_t k = 0; k < SIM_EV_KINDS_MAX; k++) {
        g_assert_cmpuint(kind_counts[k], ==, traced[k]);
    }
}

/*
 * A body that loops without a seam call never returns to the scheduler:
 * the watchdog (sim/watchdog.c; main() sets it to 1 s) ends the run with
 * the livelock verdict instead of hanging; the next run is unaffected.  A
 * body that yields at every turn for longer is not stopped.
 */
static volatile uint64_t spin_turns;

static void spin_without_seam(void *opaque)
{
    (void)opaque;
    for (;;) {
        spin_turns++;
    }
}

static void spin_with_yields(void *opaque)
{
    gint64 until_us = g_get_monotonic_time() + 1500 * 1000;

    (void)opaque;
    /* Wall time, not CPU: the bound only needs to outlast a tick. */
    while (g_get_monotonic_time() < until_us) {
        sim_yield("spin");
    }
}

static void quiet_body(void *opaque)
{
    (void)opaque;
    sim_yield("quiet");
}

static void test_watchdog_ends_a_seamless_loop(void)
{
    SimConfig c = config_with(SIM_TAPE_RANDOM, 3);

    g_assert_cmpint(sim_run(&c, spin_without_seam, NULL), ==, SIM_LIVELOCK);
    g_assert_nonnull(strstr(sim_verdict_story(),
                            "without reaching a scheduling point"));
    g_assert_cmpuint(spin_turns, >, 0);
    g_assert_cmpint(sim_run(&c, quiet_body, NULL), ==, SIM_OK);
    c.step_limit = 0;
    g_assert_cmpint(sim_run(&c, spin_with_yields, NULL), ==, SIM_OK);
}

int main(int argc, char **argv)
{
    /* Read once, at the first run: the watchdog test waits 1 s, not 10. */
    g_setenv("QLOOP_WATCHDOG_SECONDS", "1", TRUE);
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sim/tape/replay-reproduces-hash",
                    test_replay_reproduces_hash);
    g_test_add_func("/sim/tape/random-explores-orders",
                    test_random_explores_orders);
    g_test_add_func("/sim/tape/dfs-enumerates-all", 
                    test_dfs_enumerates_all_interleavings);
    g_test_add_func("/sim/tape/dfs-bound-zero", test_dfs_preemption_bound_zero);
    g_test_add_func("/sim/tape/dfs-plans-cover-the-bounded-space",
                    test_dfs_plans_cover_the_bounded_space);
    g_test_add_func("/sim/tape/pct-deterministic",
                    test_pct_is_deterministic_per_seed);
    g_test_add_func("/sim/tape/bytes", test_bytes_tape);
    g_test_add_func("/sim/tape/replay-divergence",
                    test_replay_divergence_is_a_verdict);
    g_test_add_func("/sim/time/blocking-poll-jumps", test_blocking_poll_jumps_time);
    g_test_add_func("/sim/time/host-clock-jump", test_host_clock_jumps_alone);
    g_test_add_func("/sim/fd/fake-fds", test_fake_fds);
    g_test_add_func("/sim/fd/external-at", test_external_event_at_time);
    g_test_add_func("/sim/verdict/hang", test_hang_verdict_names_threads);
    g_test_add_func("/sim/verdict/livelock", test_livelock_verdict);
    g_test_add_func("/sim/verdict/core-panic", test_core_panic_is_a_verdict);
    g_test_add_func("/sim/fault/switchable", test_faults_only_when_enabled);
    g_test_add_func("/sim/trace/kind-counts", test_trace_kind_counts);
    g_test_add_func("/sim/verdict/watchdog", test_watchdog_ends_a_seamless_loop);
    return g_test_run();
}
