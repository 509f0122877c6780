/*
 * tests/sim/test-heap.c — the checking allocator of the core's objects
 * (sim/heap.c): each memory error it promises to see ends the run with the
 * "memory" verdict, its story naming the error and the object's kind, and
 * clean use passes.
 *
 * Method: each case runs a small body in a fresh world with sim_run() that
 * allocates through the allocator directly (the core reaches it through
 * qos_obj_new/qos_obj_free in builds without ASan; tests/heap-check.sh
 * runs the core's planted defects on such a build) and misuses what it got
 * the way a defective core would.  The allocator is plain code over its own
 * arena, so this runs in every build, ASan's included.
 */
#include <string.h>

#include "qloop/qloop.h"
#include "heap.h"
#include "../loop/os.h"
#include "sim.h"

typedef struct {
    void *next;                 /* a pointer field, like bh->reentrancy_guard */
    unsigned flags;
    char name[52];
} Obj;                          /* 64 bytes */

static SimConfig config(void)
{
    SimConfig c;

    sim_config_default(&c);
    return c;
}

/* Runs body in a fresh world, then (if it passed) the leak check. */
static SimVerdict run(void (*body)(void *), const char **story)
{
    SimConfig c = config();
    SimVerdict v = sim_run(&c, body, NULL);

    if (v == SIM_OK) {
        v = sim_check_leaks();
    }
    *story = sim_verdict_story();
    return v;
}

static void expect_memory(void (*body)(void *), const char *prefix,
                          const char *also)
{
    const char *story;
    SimVerdict v = run(body, &story);

    g_assert_cmpstr(sim_verdict_name(v), ==, "memory");
    if (!g_str_has_prefix(story, prefix) || (also && !strstr(story, also))) {
        g_error("story '%s' lacks '%s' / '%s'", story, prefix,
                also ? also : "");
    }
}

static void body_clean(void *arg)
{
    Obj *o = sim_heap_new(QOS_OBJ_BH, sizeof(Obj));

    g_assert_cmpint(o->flags, ==, 0);       /* zeroed */
    o->flags = 1;
    sim_yield("use");
    sim_heap_free(QOS_OBJ_BH, o);
    sim_yield("after");
}

static void test_clean(void)
{
    const char *story;
    unsigned live = sim_heap_live_count();

    g_assert_cmpint(run(body_clean, &story), ==, SIM_OK);
    g_assert_cmpint(sim_heap_live_count(), ==, live);
}

static void body_leak(void *arg)
{
    (void)arg;
    sim_heap_new(QOS_OBJ_TIMER, sizeof(Obj));
}

static void test_leak(void)
{
    expect_memory(body_leak, "leak of a timer:", "never freed (64 bytes)");
}

static void body_double_free(void *arg)
{
    Obj *o = sim_heap_new(QOS_OBJ_BH, sizeof(Obj));

    sim_heap_free(QOS_OBJ_BH, o);
    sim_heap_free(QOS_OBJ_BH, o);
}

static void test_double_free(void)
{
    expect_memory(body_double_free, "double-free of a BH", "freed again");
}

static void body_bad_free(void *arg)
{
    static Obj not_ours;

    sim_heap_free(QOS_OBJ_HANDLER, &not_ours);
}

static void test_bad_free(void)
{
    expect_memory(body_bad_free, "bad-free of a fd handler", NULL);
}

static void body_wrong_kind(void *arg)
{
    Obj *o = sim_heap_new(QOS_OBJ_TIMER, sizeof(Obj));

    sim_heap_free(QOS_OBJ_BH, o);
}

static void test_wrong_kind(void)
{
    expect_memory(body_wrong_kind, "bad-free of a BH", "holds timer");
}

/* A plain store after free, then a seam call: found there. */
static void body_write_then_seam(void *arg)
{
    Obj *o = sim_heap_new(QOS_OBJ_BH, sizeof(Obj));

    sim_heap_free(QOS_OBJ_BH, o);
    o->flags = 7;
    sim_yield("after the write");
    g_error("the seam call after a write after free went on");
}

static void test_write_found_at_seam(void)
{
    expect_memory(body_write_then_seam,
                  "heap-use-after-free of a BH: written after it was freed",
                  "offset 8 of 64");
    g_assert_nonnull(strstr(sim_verdict_story(), "at a seam call"));
}

/* A plain store after free with no seam call after it: the run's end. */
static void body_write_at_end(void *arg)
{
    Obj *o = sim_heap_new(QOS_OBJ_POOL_ELEMENT, sizeof(Obj));

    sim_heap_free(QOS_OBJ_POOL_ELEMENT, o);
    o->name[3] = 'x';
}

static void test_write_found_at_end(void)
{
    expect_memory(body_write_at_end,
                  "heap-use-after-free of a thread-pool element: written",
                  "found at the end of the run");
}

/* The core's atomics check the object they touch. */
static void body_atomic_read(void *arg)
{
    Obj *o = sim_heap_new(QOS_OBJ_HANDLER, sizeof(Obj));

    sim_heap_free(QOS_OBJ_HANDLER, o);
    sim_heap_access(&o->flags, 0);
}

static void test_atomic_read_after_free(void)
{
    expect_memory(body_atomic_read,
                  "heap-use-after-free of a fd handler: an atomic read at "
                  "offset 8", NULL);
}

static void body_atomic_live(void *arg)
{
    Obj *o = sim_heap_new(QOS_OBJ_HANDLER, sizeof(Obj));

    sim_heap_access(&o->flags, 1);      /* a live object: nothing */
    sim_heap_access(&arg, 0);           /* not in the arena: nothing */
    sim_heap_free(QOS_OBJ_HANDLER, o);
}

static void test_atomic_on_live_passes(void)
{
    const char *story;

    g_assert_cmpint(run(body_atomic_live, &story), ==, SIM_OK);
}

/* A pointer read from a freed object and followed faults in the poison. */
static void body_follow(void *arg)
{
    Obj *o = sim_heap_new(QOS_OBJ_TIMER_LIST, sizeof(Obj));
    Obj *volatile next;

    o->next = o;
    sim_heap_free(QOS_OBJ_TIMER_LIST, o);
    next = o->next;                     /* the poison */
    next->flags = 1;                    /* faults */
    g_error("following a pointer read after free went on");
}

static void test_followed_pointer(void)
{
    expect_memory(body_follow,
                  "heap-use-after-free of a timer list: a pointer read from "
                  "it after it was freed was followed", "poison+8");
}

static void body_overflow(void *arg)
{
    Obj *o = sim_heap_new(QOS_OBJ_POOL, sizeof(Obj));

    memset(o, 0, sizeof(Obj) + 2);      /* two bytes past it */
    sim_heap_free(QOS_OBJ_POOL, o);
}

static void test_overflow(void)
{
    expect_memory(body_overflow, "heap-buffer-overflow of a thread pool:",
                  "written at offset 64, past its 64 bytes");
}

/* A freed slot waits in the quarantine: the next objects never reuse it. */
static void body_quarantine(void *arg)
{
    Obj *first = sim_heap_new(QOS_OBJ_BH, sizeof(Obj));

    sim_heap_free(QOS_OBJ_BH, first);
    for (int i = 0; i < 200; i++) {
        Obj *o = sim_heap_new(QOS_OBJ_BH, sizeof(Obj));

        g_assert_true(o != first);
        sim_heap_free(QOS_OBJ_BH, o);
    }
}

static void test_quarantine(void)
{
    const char *story;

    if (run(body_quarantine, &story) != SIM_OK) {
        g_error("%s", story);
    }
}

/* A pointer kept across runs: a write through it after its run ended is
 * found when the slot leaves the quarantine, blamed on an earlier run. */
static Obj *stale;

static void body_free_and_keep(void *arg)
{
    stale = sim_heap_new(QOS_OBJ_BH, sizeof(Obj));
    sim_heap_free(QOS_OBJ_BH, stale);
}

static void body_churn(void *arg)
{
    for (int i = 0; i < 300; i++) {
        sim_heap_free(QOS_OBJ_TIMER, sim_heap_new(QOS_OBJ_TIMER, sizeof(Obj)));
    }
}

static void test_write_found_at_eviction(void)
{
    const char *story;

    g_assert_cmpint(run(body_free_and_keep, &story), ==, SIM_OK);
    stale->flags = 3;                   /* between runs */
    expect_memory(body_churn, "heap-use-after-free of a BH: written after it "
                  "was freed (offset 8 of 64", "of an earlier run");
    g_assert_nonnull(strstr(sim_verdict_story(),
                            "when it left the quarantine"));
}

/* A run abandoned with objects live (a verdict ends it mid-flight): its
 * world is gone once the next run begins, which frees them — runs like it
 * by the million must not fill the arena — poisoned, as any free. */
static Obj *abandoned;

static void body_abandon(void *arg)
{
    (void)arg;
    for (int i = 0; i < 4; i++) {
        abandoned = sim_heap_new(QOS_OBJ_BH, sizeof(Obj));
    }
    sim_fail("abandoned with four objects live");
}

static void test_abandoned_freed(void)
{
    const char *story;
    unsigned live = sim_heap_live_count();

    g_assert_cmpint(run(body_abandon, &story), ==, SIM_ORACLE);
    g_assert_cmpint(sim_heap_live_count(), ==, live + 4);
    g_assert_cmpint(run(body_clean, &story), ==, SIM_OK);
    g_assert_cmpint(sim_heap_live_count(), ==, 0);
    g_assert_cmpint(abandoned->flags, !=, 0);   /* the poison word */
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sim/heap/clean-use-passes", test_clean);
    g_test_add_func("/sim/heap/abandoned-run-freed", test_abandoned_freed);
    g_test_add_func("/sim/heap/leak", test_leak);
    g_test_add_func("/sim/heap/double-free", test_double_free);
    g_test_add_func("/sim/heap/bad-free", test_bad_free);
    g_test_add_func("/sim/heap/free-as-another-kind", test_wrong_kind);
    g_test_add_func("/sim/heap/write-after-free-at-seam-call",
                    test_write_found_at_seam);
    g_test_add_func("/sim/heap/write-after-free-at-run-end",
                    test_write_found_at_end);
    g_test_add_func("/sim/heap/atomic-read-after-free",
                    test_atomic_read_after_free);
    g_test_add_func("/sim/heap/atomic-on-live-object",
                    test_atomic_on_live_passes);
    g_test_add_func("/sim/heap/followed-pointer-after-free",
                    test_followed_pointer);
    g_test_add_func("/sim/heap/overflow", test_overflow);
    g_test_add_func("/sim/heap/quarantine", test_quarantine);
    g_test_add_func("/sim/heap/write-after-free-at-eviction",
                    test_write_found_at_eviction);
    return g_test_run();
}
