/*
 * qemu/sockets.h (qloop compatibility): the system socket headers and the
 * non-blocking helper.  QEMU's address parsing and connect/listen helpers
 * are not part of qloop.
 */
#ifndef QLOOP_COMPAT_SOCKETS_H
#define QLOOP_COMPAT_SOCKETS_H

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>

/* 0, or -errno. */
static inline int qemu_socket_set_nonblock(int fd)
{
    int flags = fcntl(fd, F_GETFL);

    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        return -errno;
    }
    return 0;
}

#endif
