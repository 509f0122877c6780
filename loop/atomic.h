/*
 * loop/atomic.h — the core's atomics and barriers, QEMU's names.
 *
 * Each one is a scheduling point of the OS seam: on the host it compiles to
 * the bare __atomic builtin; in the simulator the scheduler may switch
 * threads right before the access, which is what makes the interleavings of
 * aio_notify() and aio_poll() reachable.  Sequentially consistent fences
 * stand for QEMU's smp_mb(); smp_wmb()/smp_rmb() are release/acquire fences.
 */
#ifndef QLOOP_LOOP_ATOMIC_H
#define QLOOP_LOOP_ATOMIC_H

#include "os.h"

#define qatomic_read(ptr) \
    (qos_sched_point("read " #ptr), __atomic_load_n((ptr), __ATOMIC_RELAXED))
#define qatomic_set(ptr, v) \
    do { qos_sched_point("set " #ptr); \
         __atomic_store_n((ptr), (v), __ATOMIC_RELAXED); } while (0)
#define qatomic_load_acquire(ptr) \
    (qos_sched_point("load " #ptr), __atomic_load_n((ptr), __ATOMIC_ACQUIRE))
#define qatomic_store_release(ptr, v) \
    do { qos_sched_point("store " #ptr); \
         __atomic_store_n((ptr), (v), __ATOMIC_RELEASE); } while (0)
#define qatomic_xchg(ptr, v) \
    (qos_sched_point("xchg " #ptr), \
     __atomic_exchange_n((ptr), (v), __ATOMIC_SEQ_CST))
#define qatomic_fetch_or(ptr, v) \
    (qos_sched_point("or " #ptr), \
     __atomic_fetch_or((ptr), (v), __ATOMIC_SEQ_CST))
#define qatomic_fetch_and(ptr, v) \
    (qos_sched_point("and " #ptr), \
     __atomic_fetch_and((ptr), (v), __ATOMIC_SEQ_CST))
#define qatomic_fetch_add(ptr, v) \
    (qos_sched_point("add " #ptr), \
     __atomic_fetch_add((ptr), (v), __ATOMIC_SEQ_CST))
#define qatomic_and(ptr, v) ((void)qatomic_fetch_and((ptr), (v)))
#define qatomic_or(ptr, v) ((void)qatomic_fetch_or((ptr), (v)))
#define qatomic_inc(ptr) ((void)qatomic_fetch_add((ptr), 1))
#define qatomic_dec(ptr) ((void)qatomic_fetch_add((ptr), -1))

/* Compare-and-swap; returns the value found (== old on success). */
#define qatomic_cmpxchg(ptr, old, new) ({ \
    __typeof__(*(ptr)) qatomic_expected_ = (old); \
    qos_sched_point("cmpxchg " #ptr); \
    __atomic_compare_exchange_n((ptr), &qatomic_expected_, (new), false, \
                                __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); \
    qatomic_expected_; })

#define smp_mb() \
    do { qos_sched_point("smp_mb"); qos_full_barrier(); } while (0)
#define smp_wmb() \
    do { qos_sched_point("smp_wmb"); \
         __atomic_thread_fence(__ATOMIC_RELEASE); } while (0)
#define smp_rmb() \
    do { qos_sched_point("smp_rmb"); \
         __atomic_thread_fence(__ATOMIC_ACQUIRE); } while (0)

#endif
