/*
 * loop/host/fd.c — eventfd and plain fd operations on the host.
 */
#include <errno.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "../os.h"

int qos_eventfd_open(unsigned initval)
{
    int fd = eventfd(initval, EFD_NONBLOCK | EFD_CLOEXEC);

    return fd < 0 ? -errno : fd;
}

int qos_eventfd_write(int fd, uint64_t value)
{
    ssize_t n;

    do {
        n = write(fd, &value, sizeof(value));
    } while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : 0;
}

int qos_eventfd_read(int fd, uint64_t *value)
{
    ssize_t n;

    do {
        n = read(fd, value, sizeof(*value));
    } while (n < 0 && errno == EINTR);
    return n < 0 ? -errno : 0;
}

int qos_fd_close(int fd)
{
    return close(fd) < 0 ? -errno : 0;
}

long qos_fd_read(int fd, void *buf, unsigned long len)
{
    ssize_t n = read(fd, buf, len);

    return n < 0 ? -errno : (long)n;
}
