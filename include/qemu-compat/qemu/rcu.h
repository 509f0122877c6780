/*
 * qemu/rcu.h (qloop compatibility): only thread registration, which QEMU
 * code calls at a thread's start and end.  qloop has no RCU, so there is
 * nothing to register; rcu_read_lock() and friends are deliberately absent
 * (code that needs RCU must not compile against a promise of it).
 */
#ifndef QLOOP_COMPAT_RCU_H
#define QLOOP_COMPAT_RCU_H

static inline void rcu_register_thread(void)
{
}

static inline void rcu_unregister_thread(void)
{
}

#endif
