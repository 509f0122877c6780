/*
 * variants/signals-drop-repeat.c — a deliberately broken loop/signals.c.
 *
 * NOT the production core: built in place of loop/signals.c (qloop-signals-drop-repeat) so
 * tests/scenario-breaks.sh can check that a scenario fails when the rule
 * it states is broken.  The one change, marked VARIANT:
 * a signal equal to the last one handled is taken for a duplicate and
 * dropped: a second kill after the first was handled never reaches its
 * handler.  Breaks corpus/regressions/signal-rules.scn (every kill is
 * followed by a handler call).
 * The rest is loop/signals.c as it stands.
 */
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
#include <string.h>
#include <sys/signalfd.h>

#include "internal.h"

static int signal_fd = -1;
static int last_signo;      /* VARIANT */

/*
 * A signalfd record is not a siginfo_t: the fields sit elsewhere (ssi_pid
 * at offset 12, si_pid at 16; ssi_addr at 72, si_addr at 16), so a handler
 * given the record as a siginfo_t reads the wrong sender or fault address.
 * Convert the fields POSIX defines, chosen by si_code and signal as the
 * kernel fills them: a sent signal (si_code <= 0: SI_USER, SI_QUEUE...)
 * carries the sender and its value; a kernel fault signal the address; a
 * child's SIGCHLD its pid, uid and status.
 */
static void siginfo_from_signalfd(const struct signalfd_siginfo *ssi,
                                  siginfo_t *si)
{
    memset(si, 0, sizeof(*si));
    si->si_signo = (int)ssi->ssi_signo;
    si->si_errno = ssi->ssi_errno;
    si->si_code = ssi->ssi_code;
    if (ssi->ssi_code <= 0) {
        si->si_pid = (pid_t)ssi->ssi_pid;
        si->si_uid = (uid_t)ssi->ssi_uid;
        si->si_value.sival_ptr = (void *)(uintptr_t)ssi->ssi_ptr;
    } else if (ssi->ssi_signo == SIGILL || ssi->ssi_signo == SIGFPE ||
               ssi->ssi_signo == SIGSEGV || ssi->ssi_signo == SIGBUS ||
               ssi->ssi_signo == SIGTRAP) {
        si->si_addr = (void *)(uintptr_t)ssi->ssi_addr;
    } else if (ssi->ssi_signo == SIGCHLD) {
        si->si_pid = (pid_t)ssi->ssi_pid;
        si->si_uid = (uid_t)ssi->ssi_uid;
        si->si_status = ssi->ssi_status;
    }
}

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
        siginfo_from_signalfd(&info, &si);
        if (signo == last_signo) {  /* VARIANT: a repeat is no new signal */
            continue;
        }
        last_signo = signo;
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
    last_signo = 0;     /* VARIANT: each main loop starts afresh */
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
