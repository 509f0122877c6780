/*
 * loop/atomic.h — the core's atomics and barriers, QEMU's names.
 *
 * Each one goes through the OS seam's memory hooks (qloop-os-inline.h of
 * the backend): qos_atomic_load/store(ptr, v, order, what), qos_atomic_rmw
 * (ptr, order, what) before a read-modify-write and qos_atomic_rmw_done
 * (ptr, order, wrote) after it, qos_atomic_fence(order, what).  On the
 * host they compile to the bare __atomic builtins.  In the simulator each is
 * a scheduling point — the scheduler may switch threads right before the
 * access, which is what makes the interleavings of aio_notify() and
 * aio_poll() reachable — and, under a weak memory model (sim/wmm.c), a
 * store may wait in the thread's store buffer until a fence drains it.
 * Sequentially consistent fences stand for QEMU's smp_mb(); smp_wmb()/
 * smp_rmb() are release/acquire fences; read-modify-writes are sequentially
 * consistent, as QEMU's are.
 */
#ifndef QLOOP_LOOP_ATOMIC_H
#define QLOOP_LOOP_ATOMIC_H

#include "os.h"

#define qatomic_read(ptr) \
    qos_atomic_load(ptr, __ATOMIC_RELAXED, "read " #ptr)
#define qatomic_set(ptr, v) \
    qos_atomic_store(ptr, v, __ATOMIC_RELAXED, "set " #ptr)
#define qatomic_load_acquire(ptr) \
    qos_atomic_load(ptr, __ATOMIC_ACQUIRE, "load " #ptr)
#define qatomic_store_release(ptr, v) \
    qos_atomic_store(ptr, v, __ATOMIC_RELEASE, "store " #ptr)
/*
 * Read-modify-writes: the hook before (the access's scheduling point; the
 * model acquires from the store the operation reads, always the newest),
 * the builtin on memory, the hook after with whether it wrote (a failed
 * compare-and-swap does not; the model records the store it made).
 */
#define qatomic_rmw_(ptr, what, expr) ({ \
    qos_atomic_rmw(ptr, __ATOMIC_SEQ_CST, what); \
    __typeof__(*(ptr)) qatomic_old_ = (expr); \
    qos_atomic_rmw_done(ptr, __ATOMIC_SEQ_CST, true); \
    qatomic_old_; })
#define qatomic_xchg(ptr, v) qatomic_rmw_(ptr, "xchg " #ptr, \
    __atomic_exchange_n((ptr), (v), __ATOMIC_SEQ_CST))
#define qatomic_fetch_or(ptr, v) qatomic_rmw_(ptr, "or " #ptr, \
    __atomic_fetch_or((ptr), (v), __ATOMIC_SEQ_CST))
#define qatomic_fetch_and(ptr, v) qatomic_rmw_(ptr, "and " #ptr, \
    __atomic_fetch_and((ptr), (v), __ATOMIC_SEQ_CST))
#define qatomic_fetch_add(ptr, v) qatomic_rmw_(ptr, "add " #ptr, \
    __atomic_fetch_add((ptr), (v), __ATOMIC_SEQ_CST))
#define qatomic_and(ptr, v) ((void)qatomic_fetch_and((ptr), (v)))
#define qatomic_or(ptr, v) ((void)qatomic_fetch_or((ptr), (v)))
#define qatomic_inc(ptr) ((void)qatomic_fetch_add((ptr), 1))
#define qatomic_dec(ptr) ((void)qatomic_fetch_add((ptr), -1))

/* Compare-and-swap; returns the value found (== old on success). */
#define qatomic_cmpxchg(ptr, old, new) ({ \
    __typeof__(*(ptr)) qatomic_expected_ = (old); \
    qos_atomic_rmw(ptr, __ATOMIC_SEQ_CST, "cmpxchg " #ptr); \
    bool qatomic_swapped_ = __atomic_compare_exchange_n( \
        (ptr), &qatomic_expected_, (new), false, \
        __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); \
    qos_atomic_rmw_done(ptr, __ATOMIC_SEQ_CST, qatomic_swapped_); \
    qatomic_expected_; })

#define smp_mb()  qos_atomic_fence(__ATOMIC_SEQ_CST, "smp_mb")
#define smp_wmb() qos_atomic_fence(__ATOMIC_RELEASE, "smp_wmb")
#define smp_rmb() qos_atomic_fence(__ATOMIC_ACQUIRE, "smp_rmb")

#endif
