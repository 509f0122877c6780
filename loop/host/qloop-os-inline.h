/*
 * qloop-os-inline.h (host backend) — the inline part of the OS seam.
 *
 * On real hardware a scheduling point is nothing (the kernel schedules) and
 * tracing is off, so both hooks compile away.
 */
#ifndef QLOOP_HOST_OS_INLINE_H
#define QLOOP_HOST_OS_INLINE_H

#include <stdint.h>

static inline void qos_sched_point(const char *what)
{
    (void)what;
}

static inline void qos_trace(int ev, const char *name, int64_t a, int64_t b)
{
    (void)ev;
    (void)name;
    (void)a;
    (void)b;
}

#endif
