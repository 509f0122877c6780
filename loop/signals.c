/*
 * loop/signals.c — signals delivered through a signalfd, QEMU-style.
 *
 * Method: SIGIO, SIGALRM and SIGBUS are blocked in the thread that sets up
 * the main loop (threads created later inherit the mask), and a
 * non-blocking signalfd for them is read by a handler on iohandler_ctx.
 * Each signal read runs the process's sigaction handler from inside
 * main_loop_wait() — synchronously, never in signal context.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>

#include "internal.h"

static int signal_fd = -1;

static void sigfd_handler(void *opaque)
{
    int fd = (int)(intptr_t)opaque;
    /* struct signalfd_siginfo is 128 bytes; keep it opaque to the core. */
    uint64_t info[16];

    /* Bounded: a signal storm must not starve the rest of the loop. */
    for (int i = 0; i < 64; i++) {
        int signo = qos_signalfd_read(fd, info, sizeof(info));

        if (signo == -EINTR) {
            continue;
        }
        if (signo == 0 || signo == -EAGAIN) {
            return;
        }
        if (signo < 0) {
            error_report("reading signalfd: error %d", -signo);
            return;
        }
        qos_signal_run_handler(signo, info);
    }
}

int qemu_signal_init(Error **errp)
{
    sigset_t set;
    int ret, sigfd;

    sigemptyset(&set);
    sigaddset(&set, SIGIO);
    sigaddset(&set, SIGALRM);
    sigaddset(&set, SIGBUS);
    ret = qos_signals_block(&set);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "failed to block signals");
        return ret;
    }
    sigfd = qos_signalfd_open(&set);
    if (sigfd < 0) {
        error_setg_errno(errp, -sigfd, "failed to create signalfd");
        return sigfd;
    }
    qemu_set_fd_handler(sigfd, sigfd_handler, NULL, (void *)(intptr_t)sigfd);
    signal_fd = sigfd;
    return 0;
}

void qemu_signal_cleanup(void)
{
    if (signal_fd >= 0) {
        qemu_set_fd_handler(signal_fd, NULL, NULL, NULL);
        qos_fd_close(signal_fd);
        signal_fd = -1;
    }
}

void qemu_signal_forget(void)
{
    signal_fd = -1;
}
