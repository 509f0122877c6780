/*
 * loop/host/clock.c — QEMU's four clocks on the host.
 *
 * REALTIME, VIRTUAL and VIRTUAL_RT read CLOCK_MONOTONIC (qloop runs no
 * vCPU clock that could stop); HOST reads CLOCK_REALTIME and may jump.
 */
#include <time.h>

#include "../os.h"

int64_t qos_clock_ns(QEMUClockType type)
{
    struct timespec ts;

    clock_gettime(type == QEMU_CLOCK_HOST ? CLOCK_REALTIME : CLOCK_MONOTONIC,
                  &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
