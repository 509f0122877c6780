/*
 * variants/signals-raw-siginfo.c — the signalfd record passed to an
 * SA_SIGINFO handler as if it were a siginfo_t.
 * Replaces: loop/signals.c.  Found by: the runner's siginfo check
 * (harness/runner.c): "signals: the SIGBUS handler got si_addr (nil) ...".
 *
 * NOT the production core: loop/signals.c with one defect put back.  A
 * struct signalfd_siginfo and a siginfo_t are both 128 bytes and agree on
 * their first three fields (signo, errno, code), so the cast compiles and
 * a handler reading only those works; but the sender (ssi_pid at offset
 * 12, si_pid at 16) and the fault address (ssi_addr at 72, si_addr at 16)
 * are elsewhere, so a SIGBUS machine-check handler reads the wrong
 * address.  QEMU converts the record field by field (sigaction_invoke(),
 * util/oslib-posix.c), which the production file mirrors:
 *
 *     signal S sigbus
 *     signal T sigio
 *     thread main { kill S; kill T; main_loop_wait nonblocking;
 *                   main_loop_wait nonblocking }
 *
 * corpus/regressions/signal-sigbus-siginfo.scn; the fix: 9fc012e.
 * Everything else is loop/signals.c as it stands.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/signalfd.h>

#include "internal.h"

static int signal_fd = -1;

/* The copy below takes the whole record: the two are the same size. */
G_STATIC_ASSERT(sizeof(struct signalfd_siginfo) == sizeof(siginfo_t));

static void sigfd_handler(void *opaque)
{
    int fd = (int)(intptr_t)opaque;
    struct signalfd_siginfo info;
    siginfo_t si;

    /* Bounded: a signal storm must not starve the rest of the loop. */
    for (int i = 0; i < 64; i++) {
        int signo = qos_signalfd_read(fd, &info, sizeof(info));

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
        /* THE DEFECT: the record is not laid out as a siginfo_t. */
        memcpy(&si, &info, sizeof(si));
        qos_signal_run_handler(signo, &si);
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
