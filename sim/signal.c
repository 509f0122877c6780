/*
 * sim/signal.c — signals in simulation: blocking is recorded, not done
 * (the host process keeps its own mask); signalfds are fake fds fed by
 * sim_raise_signal(); handlers are the process's real sigaction handlers,
 * run synchronously by the core's signalfd handler.
 */
#include <errno.h>
#include <signal.h>

#include "world.h"

int qos_signals_block(const sigset_t *mask)
{
    (void)mask;
    qos_sched_point("sigmask");
    return 0;
}

int qos_signalfd_open(const sigset_t *mask)
{
    int err;

    qos_sched_point("signalfd");
    err = sim_fd_create_fault("signalfd create fails");
    if (err < 0) {
        return err;
    }
    err = sim_fd_new_signalfd(mask);
    sim_fd_opened_by_core(err);
    return err;
}

int qos_signalfd_read(int fd, void *info, unsigned long info_len)
{
    return sim_fd_read_signal(fd, info, info_len);
}

/* Handlers run by qos_signal_run_handler() and not yet returned. */
static unsigned signal_dispatching;

bool sim_signal_dispatching(void)
{
    return signal_dispatching > 0;
}

void qos_signal_run_handler(int signo, siginfo_t *info)
{
    struct sigaction action;

    if (sigaction(signo, NULL, &action) < 0) {
        return;
    }
    /* A handler that ends the run (sim_fail) never returns here; the
     * count is only read while a run is on, and each run starts at 0. */
    signal_dispatching++;
    if ((action.sa_flags & SA_SIGINFO) && action.sa_sigaction) {
        action.sa_sigaction(signo, info, NULL);
    } else if (action.sa_handler != SIG_DFL && action.sa_handler != SIG_IGN &&
               action.sa_handler) {
        action.sa_handler(signo);
    }
    signal_dispatching--;
}

void sim_signal_reset(void)
{
    signal_dispatching = 0;
}
