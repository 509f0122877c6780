/*
 * qemu/atomic.h (qloop compatibility) — QEMU's atomics and barriers on the
 * compiler's __atomic builtins, with QEMU's orderings: read/set are relaxed
 * (but never torn or cached), read-modify-writes are sequentially
 * consistent, smp_mb() is a full fence, smp_wmb()/smp_rmb() are
 * release/acquire fences.  For code built against qloop; the loop core has
 * its own copy (loop/atomic.h) that also reports to the simulator.
 */
#ifndef QLOOP_COMPAT_ATOMIC_H
#define QLOOP_COMPAT_ATOMIC_H

#ifndef barrier
#define barrier() __asm__ __volatile__("" ::: "memory")
#endif

#define qatomic_read(ptr) __atomic_load_n((ptr), __ATOMIC_RELAXED)
#define qatomic_set(ptr, i) __atomic_store_n((ptr), (i), __ATOMIC_RELAXED)
#define qatomic_load_acquire(ptr) __atomic_load_n((ptr), __ATOMIC_ACQUIRE)
#define qatomic_store_release(ptr, i) \
    __atomic_store_n((ptr), (i), __ATOMIC_RELEASE)
#define qatomic_rcu_read(ptr) __atomic_load_n((ptr), __ATOMIC_ACQUIRE)
#define qatomic_rcu_set(ptr, i) __atomic_store_n((ptr), (i), __ATOMIC_RELEASE)
/* A store followed by a full barrier (QEMU's qatomic_set_mb). */
#define qatomic_set_mb(ptr, i) \
    ((void)qatomic_xchg((ptr), (i)))
#define qatomic_mb_read(ptr) ({ \
    __typeof__(*(ptr)) qatomic_mb_val_ = qatomic_load_acquire(ptr); \
    smp_mb(); \
    qatomic_mb_val_; })

#define qatomic_xchg(ptr, i) __atomic_exchange_n((ptr), (i), __ATOMIC_SEQ_CST)
/* Returns the value found (== old when the swap happened). */
#define qatomic_cmpxchg(ptr, old, new) ({ \
    __typeof__(*(ptr)) qatomic_cmpxchg_old_ = (old); \
    (void)__atomic_compare_exchange_n((ptr), &qatomic_cmpxchg_old_, (new), \
                                      false, __ATOMIC_SEQ_CST, \
                                      __ATOMIC_SEQ_CST); \
    qatomic_cmpxchg_old_; })
#define qatomic_cmpxchg__nocheck(ptr, old, new) qatomic_cmpxchg(ptr, old, new)

#define qatomic_fetch_add(ptr, n) __atomic_fetch_add((ptr), (n), __ATOMIC_SEQ_CST)
#define qatomic_fetch_sub(ptr, n) __atomic_fetch_sub((ptr), (n), __ATOMIC_SEQ_CST)
#define qatomic_fetch_and(ptr, n) __atomic_fetch_and((ptr), (n), __ATOMIC_SEQ_CST)
#define qatomic_fetch_or(ptr, n) __atomic_fetch_or((ptr), (n), __ATOMIC_SEQ_CST)
#define qatomic_fetch_xor(ptr, n) __atomic_fetch_xor((ptr), (n), __ATOMIC_SEQ_CST)
#define qatomic_fetch_inc(ptr) qatomic_fetch_add((ptr), 1)
#define qatomic_fetch_dec(ptr) qatomic_fetch_sub((ptr), 1)

#define qatomic_add_fetch(ptr, n) __atomic_add_fetch((ptr), (n), __ATOMIC_SEQ_CST)
#define qatomic_sub_fetch(ptr, n) __atomic_sub_fetch((ptr), (n), __ATOMIC_SEQ_CST)
#define qatomic_and_fetch(ptr, n) __atomic_and_fetch((ptr), (n), __ATOMIC_SEQ_CST)
#define qatomic_or_fetch(ptr, n) __atomic_or_fetch((ptr), (n), __ATOMIC_SEQ_CST)
#define qatomic_xor_fetch(ptr, n) __atomic_xor_fetch((ptr), (n), __ATOMIC_SEQ_CST)
#define qatomic_inc_fetch(ptr) qatomic_add_fetch((ptr), 1)
#define qatomic_dec_fetch(ptr) qatomic_sub_fetch((ptr), 1)

#define qatomic_add(ptr, n) ((void)qatomic_fetch_add((ptr), (n)))
#define qatomic_sub(ptr, n) ((void)qatomic_fetch_sub((ptr), (n)))
#define qatomic_and(ptr, n) ((void)qatomic_fetch_and((ptr), (n)))
#define qatomic_or(ptr, n) ((void)qatomic_fetch_or((ptr), (n)))
#define qatomic_xor(ptr, n) ((void)qatomic_fetch_xor((ptr), (n)))
#define qatomic_inc(ptr) ((void)qatomic_fetch_inc(ptr))
#define qatomic_dec(ptr) ((void)qatomic_fetch_dec(ptr))

#define smp_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define smp_mb_release() __atomic_thread_fence(__ATOMIC_RELEASE)
#define smp_mb_acquire() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define smp_wmb() smp_mb_release()
#define smp_rmb() smp_mb_acquire()
#define smp_mb__before_rmw() smp_mb()
#define smp_mb__after_rmw() smp_mb()
#define signal_barrier() __atomic_signal_fence(__ATOMIC_SEQ_CST)

#endif
