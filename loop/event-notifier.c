/*
 * loop/event-notifier.c — EventNotifier on the seam's eventfd.
 *
 * Method: one eventfd serves as both ends (rfd == wfd).  Setting adds 1 to
 * the counter; a full counter already reads as "set", so EAGAIN on write is
 * success.  Test-and-clear reads the whole counter at once.
 *
 * Failures: init returns the seam's -errno (EMFILE/ENFILE) and leaves the
 * notifier uninitialized, so cleanup is a no-op.  A failed read leaves the
 * counter, hence the fd's readiness, untouched: test-and-clear says "not
 * set" this time, and the level-triggered poll reports the fd again, so a
 * wake-up is delayed by one round, never lost.
 */
#include <errno.h>

#include "internal.h"

int event_notifier_init(EventNotifier *e, int active)
{
    int fd = qos_eventfd_open(0);

    if (fd < 0) {
        e->rfd = e->wfd = -1;
        e->initialized = false;
        return fd;
    }
    e->rfd = e->wfd = fd;
    e->initialized = true;
    if (active) {
        event_notifier_set(e);
    }
    return 0;
}

void event_notifier_init_fd(EventNotifier *e, int fd)
{
    e->rfd = e->wfd = fd;
    e->initialized = true;
}

void event_notifier_cleanup(EventNotifier *e)
{
    if (!e->initialized) {
        return;
    }
    qos_fd_close(e->rfd);
    e->rfd = e->wfd = -1;
    e->initialized = false;
}

int event_notifier_set(EventNotifier *e)
{
    int ret;

    QLOOP_ASSERT(e->initialized);
    ret = qos_eventfd_write(e->wfd, 1);
    /* A counter at its maximum is set already: the reader will wake. */
    return ret == -EAGAIN ? 0 : ret;
}

int event_notifier_test_and_clear(EventNotifier *e)
{
    uint64_t value = 0;
    int ret;

    QLOOP_ASSERT(e->initialized);
    ret = qos_eventfd_read(e->rfd, &value);
    /*
     * -EAGAIN: not set.  Any other error: the counter was not taken, the
     * fd stays readable and the next poll brings the caller back here
     * (see the header), so "not set now" is the whole answer.
     */
    return ret == 0 && value > 0;
}

int event_notifier_get_fd(const EventNotifier *e)
{
    return e->rfd;
}

int event_notifier_get_wfd(const EventNotifier *e)
{
    return e->wfd;
}
