/*
 * loop/host/signal.c — signal blocking, signalfd, and running a handler.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "../os.h"

_Static_assert(sizeof(struct signalfd_siginfo) == 128,
               "the core passes signalfd_siginfo as 128 opaque bytes");

int qos_signals_block(const sigset_t *mask)
{
    int err = pthread_sigmask(SIG_BLOCK, mask, NULL);

    return -err;
}

int qos_signalfd_open(const sigset_t *mask)
{
    int fd = signalfd(-1, mask, SFD_NONBLOCK | SFD_CLOEXEC);

    return fd < 0 ? -errno : fd;
}

int qos_signalfd_read(int fd, void *info, unsigned long info_len)
{
    struct signalfd_siginfo si;
    ssize_t n = read(fd, &si, sizeof(si));

    if (n < 0) {
        return errno == EAGAIN ? 0 : -errno;
    }
    if (n != sizeof(si)) {
        return -EIO;
    }
    if (info) {
        memcpy(info, &si, info_len < sizeof(si) ? info_len : sizeof(si));
    }
    return (int)si.ssi_signo;
}

void qos_signal_run_handler(int signo, siginfo_t *info)
{
    struct sigaction action;

    if (sigaction(signo, NULL, &action) < 0) {
        return;
    }
    if ((action.sa_flags & SA_SIGINFO) && action.sa_sigaction) {
        action.sa_sigaction(signo, info, NULL);
    } else if (action.sa_handler != SIG_DFL && action.sa_handler != SIG_IGN &&
               action.sa_handler) {
        action.sa_handler(signo);
    }
}
