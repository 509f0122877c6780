/*
 * qemu/futex.h (qloop compatibility): Linux futexes, for QEMU code under
 * CONFIG_LINUX.  Both the QEMU 10.0 names (qemu_futex_wake(f, n)) and the
 * later ones (qemu_futex_wake_all/_single) are here.
 */
#ifndef QLOOP_COMPAT_FUTEX_H
#define QLOOP_COMPAT_FUTEX_H

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

static inline void qemu_futex_wake(void *f, int n)
{
    syscall(SYS_futex, f, FUTEX_WAKE, n, NULL, NULL, 0);
}

static inline void qemu_futex_wake_all(void *f)
{
    qemu_futex_wake(f, INT_MAX);
}

static inline void qemu_futex_wake_single(void *f)
{
    qemu_futex_wake(f, 1);
}

/* Sleep while *f == val, until a wake; a signal does not end the wait
 * (QEMU retries EINTR too: callers such as an MCS lock do not loop). */
static inline void qemu_futex_wait(void *f, unsigned val)
{
    while (syscall(SYS_futex, f, FUTEX_WAIT, (int)val, NULL, NULL, 0) != 0 &&
           errno == EINTR) {
    }
}

#endif
