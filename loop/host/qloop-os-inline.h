/*
 * qloop-os-inline.h (host backend) — the inline part of the OS seam.
 *
 * On real hardware a scheduling point is nothing (the kernel schedules) and
 * tracing is off, so both hooks compile away.
 */
#ifndef QLOOP_HOST_OS_INLINE_H
#define QLOOP_HOST_OS_INLINE_H

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

static inline void qos_sched_point(const char *what)
{
    (void)what;
}

/*
 * A full barrier.  On x86-64 a locked add to the stack orders loads after
 * stores as mfence does, at about half the cost (mfence also orders
 * non-temporal and write-combining accesses, which the core never makes).
 */
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define QOS_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define QOS_TSAN 1
#endif

static inline void qos_full_barrier(void)
{
    /* ThreadSanitizer understands fences, not locked adds. */
#if defined(__x86_64__) && !defined(QOS_TSAN)
    __asm__ __volatile__("lock; addl $0,-8(%%rsp)" ::: "memory", "cc");
#else
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

/*
 * The memory hooks of loop/atomic.h: the bare builtins (the scheduling
 * point is nothing), so the host build compiles exactly what it did before
 * the simulator grew weak memory models.
 */
#define qos_atomic_load(ptr, order, what) \
    (qos_sched_point(what), __atomic_load_n((ptr), (order)))
#define qos_atomic_store(ptr, v, order, what) \
    do { qos_sched_point(what); \
         __atomic_store_n((ptr), (v), (order)); } while (0)
#define qos_atomic_rmw(ptr, order, what) qos_sched_point(what)
#define qos_atomic_rmw_done(ptr, order, wrote) ((void)(wrote))
#define qos_atomic_fence(order, what) \
    do { qos_sched_point(what); \
         if ((order) == __ATOMIC_SEQ_CST) { qos_full_barrier(); } \
         else { __atomic_thread_fence(order); } } while (0)

static inline void qos_trace(int ev, const char *name, int64_t a, int64_t b)
{
    (void)ev;
    (void)name;
    (void)a;
    (void)b;
}

/* The core's objects are glib's on real hardware (the simulator checks
 * them: sim/heap.c). */
static inline void *qos_obj_new(int kind, size_t size)
{
    (void)kind;
    return g_malloc0(size);
}

static inline void qos_obj_free(int kind, void *obj)
{
    (void)kind;
    g_free(obj);
}

#endif
