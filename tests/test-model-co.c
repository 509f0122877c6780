/*
 * tests/test-model-co.c — the reference model's coroutine rules
 * (harness/model-co.c), fed by hand: each rule accepts what QEMU does and
 * names what it forbids.
 */
#include <glib.h>
#include <string.h>

#include "../harness/model-co.h"

enum { HOME = 1, OTHER = 2 };

static Scenario scn;

static CoModel *model_with(unsigned coros)
{
    memset(&scn, 0, sizeof(scn));
    scn.object_count[SCN_OBJ_CORO] = (uint8_t)coros;
    for (unsigned i = 0; i < coros; i++) {
        g_snprintf(scn.objects[SCN_OBJ_CORO][i].name, SCN_NAME_MAX, "C%u", i);
    }
    return co_model_new(&scn, HOME);
}

static void assert_violation(const char *why, const char *part)
{
    g_assert_nonnull(why);
    g_assert_nonnull(strstr(why, part));
}

static void test_permits(void)
{
    CoModel *m = model_with(1);

    /* Entered: runs once; a second run without a wake is forbidden. */
    co_model_enter(m, 0);
    g_assert_null(co_model_runs(m, 0, HOME, 0));
    assert_violation(co_model_runs(m, 0, HOME, 0), "nothing entered");
    /* Scheduled: runs in the home thread only. */
    co_model_schedule_begin(m, 0);
    co_model_schedule_end(m, 0);
    assert_violation(co_model_runs(m, 0, OTHER, 0), "home thread");
    co_model_free(m);
}

static void test_sleep(void)
{
    CoModel *m = model_with(1);

    co_model_sleep(m, 0, 1000);
    assert_violation(co_model_runs(m, 0, HOME, 999), "before its deadline");
    g_assert_null(co_model_runs(m, 0, HOME, 1000));
    co_model_free(m);
}

static void test_schedule_order(void)
{
    CoModel *m = model_with(3);

    co_model_schedule_begin(m, 0);
    co_model_schedule_end(m, 0);
    co_model_schedule_begin(m, 1);
    co_model_schedule_end(m, 1);
    assert_violation(co_model_runs(m, 1, HOME, 0), "before 'C0'");
    g_assert_null(co_model_runs(m, 0, HOME, 0));
    g_assert_null(co_model_runs(m, 1, HOME, 0));
    /* Overlapping calls (from two threads) may land either way. */
    co_model_schedule_begin(m, 0);
    co_model_schedule_begin(m, 2);
    co_model_schedule_end(m, 0);
    co_model_schedule_end(m, 2);
    g_assert_null(co_model_runs(m, 2, HOME, 0));
    g_assert_null(co_model_runs(m, 0, HOME, 0));
    co_model_free(m);
}

static void test_mutex(void)
{
    CoModel *m = model_with(3);

    g_assert_false(co_model_lock_call(m, 0));
    g_assert_null(co_model_locked(m, 0));
    g_assert_true(co_model_lock_call(m, 1));
    g_assert_true(co_model_lock_call(m, 2));
    assert_violation(co_model_locked(m, 1), "while 'C0' holds it");
    co_model_unlock(m, 0);
    /* Handed to C1, the oldest waiter: C2 taking it is LIFO. */
    assert_violation(co_model_locked(m, 2), "owed it to 'C1'");
    g_assert_null(co_model_locked(m, 1));
    g_assert_null(co_model_runs(m, 1, HOME, 0));
    co_model_unlock(m, 1);
    g_assert_null(co_model_locked(m, 2));
    co_model_unlock(m, 2);
    /* Free again: an acquisition without waiting is fine. */
    g_assert_false(co_model_lock_call(m, 0));
    g_assert_null(co_model_locked(m, 0));
    co_model_free(m);
}

static void test_queue(void)
{
    CoModel *m = model_with(2);

    co_model_queue_wait(m, 0);
    assert_violation(co_model_runs(m, 0, HOME, 0), "nothing entered");
    co_model_restart_all(m);
    g_assert_null(co_model_runs(m, 0, HOME, 0));
    /* Not in the queue: a restart does not permit it. */
    assert_violation(co_model_runs(m, 1, HOME, 0), "nothing entered");
    co_model_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/model-co/permits", test_permits);
    g_test_add_func("/model-co/sleep", test_sleep);
    g_test_add_func("/model-co/schedule-order", test_schedule_order);
    g_test_add_func("/model-co/mutex", test_mutex);
    g_test_add_func("/model-co/queue", test_queue);
    return g_test_run();
}
