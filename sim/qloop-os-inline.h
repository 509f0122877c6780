/*
 * qloop-os-inline.h (simulation backend) — the inline part of the OS seam.
 *
 * Every atomic, barrier, lock and fd operation of the core passes through
 * qos_sched_point(): the simulated scheduler may switch threads there.  Core
 * events go to the simulator's trace.
 */
#ifndef QLOOP_SIM_OS_INLINE_H
#define QLOOP_SIM_OS_INLINE_H

#include <stdint.h>

void sim_sched_point(const char *what);
void sim_trace_core(int ev, const char *name, int64_t a, int64_t b);

static inline void qos_sched_point(const char *what)
{
    sim_sched_point(what);
}

/* One host thread runs every simulated thread: a compiler barrier is
 * enough; the scheduling point before it is what matters. */
static inline void qos_full_barrier(void)
{
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
}

static inline void qos_trace(int ev, const char *name, int64_t a, int64_t b)
{
    sim_trace_core(ev, name, a, b);
}

#endif
