/*
 * tests/qloop-test.h — small helpers shared by the ctest binaries.
 *
 * Method: every test binary is a GTest program on the host backend.  The
 * helpers here give three things the tests need again and again:
 *   - an order log: callbacks append their names, the test compares the
 *     whole log with the exact expected string ("C,B,A");
 *   - a guard timer: a blocking aio_poll() that must return at once is
 *     bounded by a QEMU_CLOCK_REALTIME timer on the same context, so a core
 *     that loses the wake-up makes the test fail (the guard fired) instead
 *     of hanging;
 *   - a watchdog thread for threaded tests, which aborts with a message
 *     when a test is still running after its deadline (a lost wake-up that
 *     leaves a thread blocked for ever in aio_poll cannot be caught from
 *     inside that thread).
 * Nothing here sleeps.
 */
#ifndef QLOOP_TEST_H
#define QLOOP_TEST_H

#include <errno.h>
#include <glib.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "qloop/qloop.h"

/* Built for the simulated backend (tests/core.cmake): host-only checks
 * such as "QEMU_CLOCK_HOST is the wall clock" are skipped. */
#ifdef QLOOP_TEST_SIM
#include "sim.h"
#define QT_SIM 1
#else
#define QT_SIM 0
#endif

/* Let a clock pass t_ns as a busy callback would: spin on the host,
 * advance virtual time in simulation (where spinning never ends). */
static inline void qt_spin_until_ns(QEMUClockType type, int64_t t_ns)
{
#ifdef QLOOP_TEST_SIM
    int64_t now_ns = qemu_clock_get_ns(type);

    if (now_ns < t_ns) {
        sim_advance_ns(t_ns - now_ns);
    }
#else
    while (qemu_clock_get_ns(type) < t_ns) {
        /* busy */
    }
#endif
}

/* ---- order log ----------------------------------------------------------- */

/* The log of the running test; callbacks append, tests compare and reset. */
static GString *qt_log_buf;

static inline void qt_log(const char *name)
{
    if (!qt_log_buf) {
        qt_log_buf = g_string_new(NULL);
    }
    if (qt_log_buf->len) {
        g_string_append_c(qt_log_buf, ',');
    }
    g_string_append(qt_log_buf, name);
}

/* The log so far, then empty it.  The result lives until the next call. */
static inline const char *qt_log_take(void)
{
    static char *last;

    g_free(last);
    if (!qt_log_buf) {
        qt_log_buf = g_string_new(NULL);
    }
    last = g_strdup(qt_log_buf->str);
    g_string_truncate(qt_log_buf, 0);
    return last;
}

static inline void qt_log_reset(void)
{
    if (qt_log_buf) {
        g_string_truncate(qt_log_buf, 0);
    }
}

/* ---- guard timer --------------------------------------------------------- */

/*
 * Arm, then aio_notify_accept() (arming a timer that becomes the list head
 * notifies the context, which would make the next blocking poll return for
 * the wrong reason), then do the operation under test, then poll.
 */
typedef struct QtGuard {
    QEMUTimer timer;
    bool fired;
    int64_t start_ns;
} QtGuard;

#define QT_GUARD_MS 2000

static inline void qt_guard_cb(void *opaque)
{
    ((QtGuard *)opaque)->fired = true;
}

static inline void qt_guard_arm(QtGuard *guard, AioContext *ctx)
{
    guard->fired = false;
    aio_timer_init(ctx, &guard->timer, QEMU_CLOCK_REALTIME, SCALE_NS,
                   qt_guard_cb, guard);
    guard->start_ns = qemu_clock_get_ns(QEMU_CLOCK_REALTIME);
    timer_mod_ns(&guard->timer, guard->start_ns + (int64_t)QT_GUARD_MS * SCALE_MS);
}

/* Disarm; returns the ns elapsed since qt_guard_arm(). */
static inline int64_t qt_guard_disarm(QtGuard *guard)
{
    timer_del(&guard->timer);
    timer_deinit(&guard->timer);
    return qemu_clock_get_ns(QEMU_CLOCK_REALTIME) - guard->start_ns;
}

/*
 * A blocking aio_poll() that must return at once: returns its result and
 * fails the test if the guard had to end the wait.  The caller has armed
 * the guard and accepted the notification the arming caused.
 */
static inline bool qt_poll_blocking_at_once(AioContext *ctx, QtGuard *guard)
{
    bool progress = aio_poll(ctx, true);

    if (guard->fired) {
        g_test_message("blocking aio_poll waited for the %d ms guard timer",
                       QT_GUARD_MS);
    }
    g_assert_false(guard->fired);
    return progress;
}

/* ---- watchdog for threaded tests ----------------------------------------- */

/*
 * pthread primitives, not GMutex/GCond: glib's are futex-based and
 * invisible to ThreadSanitizer, which would then report false races.
 */
typedef struct QtWatchdog {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;        /* on CLOCK_MONOTONIC */
    bool stop;
    struct timespec deadline;
    const char *what;
} QtWatchdog;

static inline void *qt_watchdog_thread(void *opaque)
{
    QtWatchdog *wd = opaque;

    pthread_mutex_lock(&wd->lock);
    while (!wd->stop) {
        if (pthread_cond_timedwait(&wd->cond, &wd->lock, &wd->deadline) ==
            ETIMEDOUT && !wd->stop) {
            g_error("%s: still running after its deadline: a thread is "
                    "blocked for ever (lost wake-up?)", wd->what);
        }
    }
    pthread_mutex_unlock(&wd->lock);
    return NULL;
}

static inline void qt_watchdog_start(QtWatchdog *wd, const char *what,
                                     int seconds)
{
    pthread_condattr_t attr;

    pthread_mutex_init(&wd->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&wd->cond, &attr);
    pthread_condattr_destroy(&attr);
    wd->stop = false;
    wd->what = what;
    clock_gettime(CLOCK_MONOTONIC, &wd->deadline);
    wd->deadline.tv_sec += seconds;
    g_assert_cmpint(pthread_create(&wd->thread, NULL, qt_watchdog_thread, wd),
                    ==, 0);
}

static inline void qt_watchdog_stop(QtWatchdog *wd)
{
    pthread_mutex_lock(&wd->lock);
    wd->stop = true;
    pthread_cond_signal(&wd->cond);
    pthread_mutex_unlock(&wd->lock);
    pthread_join(wd->thread, NULL);
    pthread_cond_destroy(&wd->cond);
    pthread_mutex_destroy(&wd->lock);
}

/* Fail (not hang) once a deadline taken from g_get_monotonic_time() passed. */
#define qt_assert_before(deadline_us, what) \
    do { \
        if (g_get_monotonic_time() >= (deadline_us)) { \
            g_error("%s: deadline passed", (what)); \
        } \
    } while (0)

#define qt_container_of(ptr, type, member) \
    ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/* ---- atomics for data shared with other threads --------------------------- */

#define qt_load(p)      __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define qt_store(p, v)  __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)
#define qt_inc(p)       __atomic_add_fetch((p), 1, __ATOMIC_SEQ_CST)

#endif
