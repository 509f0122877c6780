/*
 * loop/poll-ns.c — qemu_poll_ns(): QEMU's ppoll with a ns timeout, on the
 * seam's glib poll (a scheduling point in the simulator).
 */
#include "internal.h"

int qemu_poll_ns(GPollFD *fds, guint nfds, int64_t timeout)
{
    return qos_gpoll_ns(fds, nfds, timeout);
}
