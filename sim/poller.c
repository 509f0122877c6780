/*
 * sim/poller.c — the fake poll: QosPoller and glib's poll over fake fds.
 *
 * Method: a wait looks at every watched fd; fake fds answer from the fake
 * table, host fds (glib's own wake-up eventfd) are polled without blocking.
 * If something is ready, the ready fds are reported in an order drawn from
 * the tape.  Otherwise the thread blocks until a watched fake fd changes or
 * its deadline passes — virtual time jumps there at once when nothing else
 * can run.  Fault points: EINTR, spurious wake-up, early return.
 */
#include <errno.h>
#include <poll.h>

#include "world.h"

struct QosPoller {
    GArray *fds;        /* int */
    GArray *events;     /* unsigned */
};

QosPoller *qos_poller_new(Error **errp)
{
    QosPoller *p = g_new0(QosPoller, 1);

    (void)errp;
    p->fds = g_array_new(FALSE, FALSE, sizeof(int));
    p->events = g_array_new(FALSE, FALSE, sizeof(unsigned));
    return p;
}

void qos_poller_free(QosPoller *p)
{
    g_array_free(p->fds, TRUE);
    g_array_free(p->events, TRUE);
    g_free(p);
}

const char *qos_poller_kind(const QosPoller *p)
{
    (void)p;
    return "sim";
}

int qos_poller_set(QosPoller *p, int fd, unsigned events)
{
    guint i;

    for (i = 0; i < p->fds->len; i++) {
        if (g_array_index(p->fds, int, i) == fd) {
            break;
        }
    }
    if (events == 0) {
        if (i < p->fds->len) {
            g_array_remove_index(p->fds, i);
            g_array_remove_index(p->events, i);
        }
    } else if (i < p->fds->len) {
        g_array_index(p->events, unsigned, i) = events;
    } else {
        g_array_append_val(p->fds, fd);
        g_array_append_val(p->events, events);
    }
    return 0;
}

/* Readiness of one fd: fake from the table, host with a zero-time poll. */
static unsigned fd_revents(int fd, unsigned events)
{
    struct pollfd pfd = { .fd = fd, .events = (short)events };

    if (sim_fd_is_fake(fd)) {
        return sim_fd_revents(fd, events);
    }
    if (poll(&pfd, 1, 0) <= 0) {
        return 0;
    }
    return (unsigned)pfd.revents & (G_IO_IN | G_IO_OUT | G_IO_ERR | G_IO_HUP);
}

static void describe_wait(SimThread *self, const char *what, const int *fds,
                          unsigned n, int64_t deadline_ns)
{
    GString *s = g_string_new(what);

    g_string_append(s, " on fds");
    for (unsigned i = 0; i < n && i < 8; i++) {
        g_string_append_printf(s, " %d", fds[i]);
    }
    if (n > 8) {
        g_string_append(s, " ...");
    }
    if (deadline_ns < 0) {
        g_string_append(s, ", no deadline");
    } else {
        g_string_append_printf(s, ", deadline %" G_GINT64_FORMAT " ns",
                               deadline_ns);
    }
    g_strlcpy(self->wait_desc, s->str, sizeof(self->wait_desc));
    g_string_free(s, TRUE);
}

/*
 * Block until a watched fake fd changes or the deadline passes.  Returns
 * false if the wait should end with nothing ready (timeout or a fault).
 */
static bool poll_block(const char *what, const int *fds, unsigned n,
                       int64_t *deadline_ns)
{
    SimWorld *w = sim_world;
    SimThread *self = w->current;
    SimPollSet set = { .fds = fds, .count = n };

    if (*deadline_ns >= 0 && w->now_ns >= *deadline_ns) {
        return false;
    }
    if (sim_fault(SIM_FAULT_SPURIOUS_WAKEUP, "spurious wake-up")) {
        return false;
    }
    if (sim_fault(SIM_FAULT_EARLY_RETURN, "early poll return")) {
        int64_t early_ns = w->now_ns + 1000 *
                           (1 + (int64_t)sim_choose(SIM_CHOICE_VALUE, 1000));

        if (*deadline_ns < 0 || early_ns < *deadline_ns) {
            *deadline_ns = early_ns;
        }
    }
    describe_wait(self, what, fds, n, *deadline_ns);
    sim_block(SIM_WAIT_POLL, &set, *deadline_ns);
    return !self->timed_out;
}

/*
 * What every poll does first: a scheduling point, no blocking outside a
 * simulated thread, the EINTR fault, the deadline.  False: return 0 now.
 */
static bool poll_begin(const char *what, int64_t *timeout_ns,
                       int64_t *deadline_ns)
{
    SimWorld *w = sim_world_get();

    qos_sched_point(what);
    if (w->current == &w->host) {
        *timeout_ns = 0;
    }
    if (*timeout_ns != 0 && sim_fault(SIM_FAULT_EINTR, "poll EINTR")) {
        return false;
    }
    /* A timeout past the end of time (a timer at INT64_MAX) is forever. */
    if (*timeout_ns < 0 ||
        __builtin_add_overflow(w->now_ns, *timeout_ns, deadline_ns)) {
        *deadline_ns = -1;
    }
    return true;
}

int qos_poller_wait(QosPoller *p, int64_t timeout_ns, QosReady *ready,
                    int ready_max)
{
    int64_t deadline_ns;

    if (!poll_begin("poll", &timeout_ns, &deadline_ns)) {
        return 0;
    }
    for (;;) {
        int n = 0;

        for (guint i = 0; i < p->fds->len; i++) {
            int fd = g_array_index(p->fds, int, i);
            unsigned revents = fd_revents(fd, g_array_index(p->events,
                                                            unsigned, i));
            if (revents) {
                ready[n].fd = fd;
                ready[n].revents = revents;
                if (++n == ready_max) {
                    break;
                }
            }
        }
        if (n > 0) {
            /* Report order is the tape's: shuffle (Fisher-Yates). */
            for (int i = n - 1; i > 0; i--) {
                uint32_t j = sim_choose(SIM_CHOICE_READY, (uint32_t)i + 1);
                QosReady tmp = ready[i];

                ready[i] = ready[j];
                ready[j] = tmp;
            }
            return n;
        }
        if (timeout_ns == 0) {
            return 0;
        }
        int *snapshot = g_memdup2(p->fds->data, p->fds->len * sizeof(int));
        bool woken = poll_block("aio poll", snapshot, p->fds->len,
                                &deadline_ns);
        g_free(snapshot);
        if (!woken) {
            return 0;
        }
    }
}

int qos_gpoll_ns(GPollFD *fds, unsigned nfds, int64_t timeout_ns)
{
    int64_t deadline_ns;

    if (!poll_begin("gpoll", &timeout_ns, &deadline_ns)) {
        return 0;
    }
    for (;;) {
        int n = 0;

        for (unsigned i = 0; i < nfds; i++) {
            fds[i].revents = (gushort)fd_revents(fds[i].fd, fds[i].events);
            n += fds[i].revents != 0;
        }
        if (n > 0 || timeout_ns == 0) {
            return n;
        }
        int *snapshot = g_new(int, nfds ? nfds : 1);
        for (unsigned i = 0; i < nfds; i++) {
            snapshot[i] = fds[i].fd;
        }
        bool woken = poll_block("glib poll", snapshot, nfds, &deadline_ns);
        g_free(snapshot);
        if (!woken) {
            return 0;
        }
    }
}

gint qos_gpoll_ms(GPollFD *fds, guint nfds, gint timeout_ms)
{
    return qos_gpoll_ns(fds, nfds,
                        timeout_ms < 0 ? -1 : (int64_t)timeout_ms * 1000000);
}

/* Blocked pollers watching host fds: wake those whose host fd is ready. */
bool sim_poll_recheck_host_fds(SimWorld *w)
{
    bool woke = false;

    for (guint i = 0; i < w->threads->len; i++) {
        SimThread *t = g_ptr_array_index(w->threads, i);
        const SimPollSet *set = t->wait_obj;

        if (t->state != SIM_THREAD_BLOCKED || t->wait != SIM_WAIT_POLL) {
            continue;
        }
        for (unsigned j = 0; j < set->count; j++) {
            if (!sim_fd_is_fake(set->fds[j]) &&
                fd_revents(set->fds[j], G_IO_IN)) {
                sim_wake(t);
                woke = true;
                break;
            }
        }
    }
    return woke;
}
