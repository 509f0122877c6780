/*
 * sim/poller.c — the fake poll: QosPoller and glib's poll over fake fds.
 *
 * Method: a wait looks at every watched fd; fake fds answer from the fake
 * table, host fds (glib's own wake-up eventfd) are polled without blocking.
 * If something is ready, the ready fds are reported in an order drawn from
 * the tape.  Otherwise the thread blocks until a watched fake fd changes or
 * its deadline passes — virtual time jumps there at once when nothing else
 * can run.  Fault points: EINTR, spurious wake-up, early return.
 *
 * The poller has the host's two mechanisms.  In its poll-like mode it
 * watches every recorded fd and never refuses one.  Once 64 fds are
 * watched (the host's threshold) — or from the start when WATCH_REFUSED
 * is on — it turns epoll-like: a regular file is refused with EPERM, and
 * an add or modify may be refused with ENOMEM or ENOSPC (the tape).  A
 * refused fd stays recorded but unwatched: waits do not see it, exactly
 * the host's epoll set missing it, so a core that ignores the refusal
 * loses the fd's events.  qos_poller_fallback() returns to the poll-like
 * mode for good and watches everything recorded again.
 */
#include <errno.h>
#include <poll.h>

#include "glib-wakeup.h"
#include "world.h"

#define SIM_EPOLL_THRESHOLD 64      /* loop/host/poller.c's EPOLL_THRESHOLD */

typedef struct SimWatch {
    int fd;
    unsigned events;
    bool watched;       /* the current mechanism reports it */
} SimWatch;

struct QosPoller {
    GArray *watches;    /* SimWatch, in the order fds were added */
    bool epoll;         /* epoll-like mode: watches may be refused */
    bool epoll_off;     /* fell back (or failed to upgrade): never again */
};

QosPoller *qos_poller_new(Error **errp)
{
    QosPoller *p = g_new0(QosPoller, 1);

    (void)errp;         /* nothing here can fail */
    p->watches = g_array_new(FALSE, FALSE, sizeof(SimWatch));
    /* Reading the mask draws nothing: runs without the bit keep tapes. */
    p->epoll = (sim_fault_mask() & SIM_FAULT_WATCH_REFUSED) != 0;
    return p;
}

void qos_poller_free(QosPoller *p)
{
    g_array_free(p->watches, TRUE);
    g_free(p);
}

const char *qos_poller_kind(const QosPoller *p)
{
    return p->epoll ? "sim-epoll" : "sim";
}

/* Would the epoll-like mechanism refuse fd?  0 or -errno. */
static int epoll_refusal(int fd)
{
    if (sim_fd_is_regular(fd)) {
        return -EPERM;  /* what epoll_ctl says for a regular file */
    }
    if (sim_fault(SIM_FAULT_WATCH_REFUSED, "watch refused")) {
        return sim_choose(SIM_CHOICE_VALUE, 2) == 0 ? -ENOMEM : -ENOSPC;
    }
    return 0;
}

/*
 * The host upgrades when the 64th fd is added, with one epoll_ctl(ADD)
 * per fd; one refusal and it stays on ppoll for good (QEMU: the upgrade
 * failing disables epoll).  Only the deterministic refusal (a regular
 * file) is modelled here: the tape decides refusals at add/modify time.
 */
static void poller_try_upgrade(QosPoller *p)
{
    if (p->epoll || p->epoll_off || p->watches->len < SIM_EPOLL_THRESHOLD) {
        return;
    }
    for (guint i = 0; i < p->watches->len; i++) {
        if (sim_fd_is_regular(g_array_index(p->watches, SimWatch, i).fd)) {
            p->epoll_off = true;
            return;
        }
    }
    p->epoll = true;
    sim_trace_record(SIM_EV_POLLER, "epoll", p->watches->len);
}

int qos_poller_set(QosPoller *p, int fd, unsigned events)
{
    SimWatch *w = NULL;
    guint i;

    for (i = 0; i < p->watches->len; i++) {
        if (g_array_index(p->watches, SimWatch, i).fd == fd) {
            w = &g_array_index(p->watches, SimWatch, i);
            break;
        }
    }
    if (events == 0) {
        if (w) {
            g_array_remove_index(p->watches, i);
        }
        return 0;       /* the host ignores EPOLL_CTL_DEL's complaints */
    }
    if (!w) {
        SimWatch add = { .fd = fd, .events = events, .watched = true };

        if (!sim_fd_is_fake(fd)) {
            /* A host fd of the core's own (a test's pipe): others write
             * it, so glib-wakeup.c's prediction is not for it. */
            sim_glib_wakeup_not_glibs(fd);
        }

        g_array_append_val(p->watches, add);
        w = &g_array_index(p->watches, SimWatch, p->watches->len - 1);
        if (p->epoll) {
            int ret = epoll_refusal(fd);

            w->watched = ret == 0;
            return ret;
        }
        poller_try_upgrade(p);
        return 0;
    }
    w->events = events;
    if (p->epoll) {
        /* EPOLL_CTL_MOD of an fd the set never took: ENOENT. */
        int ret = w->watched ? epoll_refusal(fd) : -ENOENT;

        w->watched = ret == 0;
        return ret;
    }
    return 0;
}

void qos_poller_fallback(QosPoller *p)
{
    p->epoll = false;
    p->epoll_off = true;
    for (guint i = 0; i < p->watches->len; i++) {
        g_array_index(p->watches, SimWatch, i).watched = true;
    }
    sim_trace_record(SIM_EV_POLLER, "fallback", p->watches->len);
}

/*
 * Readiness of one fd: fake from the table, host with a zero-time poll —
 * unless it is glib's wake-up fd (a host fd polled for input that the
 * core never registered) and no glib call that writes it ran since it was
 * last found clear (glib-wakeup.h).
 */
static unsigned fd_revents(int fd, unsigned events)
{
    struct pollfd pfd = { .fd = fd, .events = (short)events };
    bool wakeup = events == G_IO_IN && sim_glib_wakeup_could_be(fd);
    bool foreseen_clear = wakeup && !sim_glib_wakeup_maybe_set(fd);
    unsigned revents = 0;
    int ready;

    if (sim_fd_is_fake(fd)) {
        return sim_fd_revents(fd, events);
    }
    if (foreseen_clear && !sim_glib_wakeup_audit()) {
        return 0;
    }
    do {    /* the watchdog's tick (sim/watchdog.c) may interrupt it */
        ready = poll(&pfd, 1, 0);
    } while (ready < 0 && errno == EINTR);
    if (ready > 0) {
        revents = (unsigned)pfd.revents &
                  (G_IO_IN | G_IO_OUT | G_IO_ERR | G_IO_HUP);
    }
    if (wakeup) {
        if (foreseen_clear && revents) {
            sim_glib_wakeup_unforeseen(fd);
        }
        sim_glib_wakeup_polled(fd, revents == 0);
    }
    return revents;
}

/*
 * The hang story's line for a thread waiting in a poll.  Written only when
 * a hang is told: formatting it at every block was a sixth of a fuzzer
 * iteration.  The poll set lives on the blocked thread's stack (poll_block)
 * for as long as it waits.
 */
void sim_poll_describe(const SimThread *t, char *buf, size_t len)
{
    const SimPollSet *set = t->wait_obj;
    GString *s = g_string_new(set->what);

    g_string_append(s, " on fds");
    for (unsigned i = 0; i < set->count && i < 8; i++) {
        g_string_append_printf(s, " %d", set->fds[i]);
    }
    if (set->count > 8) {
        g_string_append(s, " ...");
    }
    if (t->deadline_ns < 0) {
        g_string_append(s, ", no deadline");
    } else {
        g_string_append_printf(s, ", deadline %" G_GINT64_FORMAT " ns",
                               t->deadline_ns);
    }
    g_strlcpy(buf, s->str, len);
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
    /* The caller polled every fd of the set just now. */
    SimPollSet set = { .fds = fds, .count = n, .what = what,
                       .host_checked = w->switches };

    if (*deadline_ns >= 0 && w->now_ns >= *deadline_ns) {
        return false;
    }
    if (sim_fault(SIM_FAULT_SPURIOUS_WAKEUP, "spurious wake-up")) {
        return false;
    }
    if (sim_fault(SIM_FAULT_EARLY_RETURN, "early poll return")) {
        int64_t early_ns;

        if (__builtin_add_overflow(w->now_ns, 1000 *
                                   (1 + (int64_t)sim_choose(SIM_CHOICE_VALUE, 1000)),
                                   &early_ns)) {
            early_ns = INT64_MAX;
        }

        if (*deadline_ns < 0 || early_ns < *deadline_ns) {
            *deadline_ns = early_ns;
        }
    }
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
    /* Not for timeout 0: the kernel only interrupts a sleeping poll. */
    if (*timeout_ns != 0 && sim_fault(SIM_FAULT_EINTR, "poll EINTR")) {
        return false;
    }
    /* A deadline past the end of time (a timer near INT64_MAX, clock far
     * advanced) is the end of time: virtual time may reach it. */
    if (*timeout_ns < 0) {
        *deadline_ns = -1;
    } else if (__builtin_add_overflow(w->now_ns, *timeout_ns, deadline_ns)) {
        *deadline_ns = INT64_MAX;
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
        unsigned nwatched = 0;
        int snapshot_small[32];
        int *snapshot;
        bool woken;

        for (guint i = 0; i < p->watches->len; i++) {
            const SimWatch *w = &g_array_index(p->watches, SimWatch, i);
            unsigned revents = w->watched ? fd_revents(w->fd, w->events) : 0;

            if (revents) {
                ready[n].fd = w->fd;
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
        /* Only what the mechanism watches can wake the wait.  On the
         * stack when it fits: a malloc per wait showed in fuzzing. */
        snapshot = p->watches->len <= G_N_ELEMENTS(snapshot_small)
                   ? snapshot_small : g_new(int, p->watches->len);
        for (guint i = 0; i < p->watches->len; i++) {
            const SimWatch *w = &g_array_index(p->watches, SimWatch, i);

            if (w->watched) {
                snapshot[nwatched++] = w->fd;
            }
        }
        woken = poll_block("aio poll", snapshot, nwatched, &deadline_ns);
        if (snapshot != snapshot_small) {
            g_free(snapshot);
        }
        if (!woken) {
            return 0;
        }
    }
}

int qos_gpoll_ns(GPollFD *fds, unsigned nfds, int64_t timeout_ns)
{
    int64_t deadline_ns;

    if (!poll_begin("gpoll", &timeout_ns, &deadline_ns)) {
        /* EINTR: nothing is ready, whatever the array held before. */
        for (unsigned i = 0; i < nfds; i++) {
            fds[i].revents = 0;
        }
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
        int snapshot_small[32];
        int *snapshot = nfds <= G_N_ELEMENTS(snapshot_small)
                        ? snapshot_small : g_new(int, nfds);
        for (unsigned i = 0; i < nfds; i++) {
            snapshot[i] = fds[i].fd;
        }
        bool woken = poll_block("glib poll", snapshot, nfds, &deadline_ns);
        if (snapshot != snapshot_small) {
            g_free(snapshot);
        }
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

/*
 * Blocked pollers watching host fds: wake those whose host fd is ready.
 * Only glib writes its wake-up fd, and only while a simulated thread runs
 * (they all run on this host thread): a set polled since the last switch
 * is skipped — a poll(2) per idle step was a share of a fuzzer iteration.
 */
bool sim_poll_recheck_host_fds(SimWorld *w)
{
    bool woke = false;

    for (guint i = 0; i < w->threads->len; i++) {
        SimThread *t = g_ptr_array_index(w->threads, i);
        SimPollSet *set = (SimPollSet *)t->wait_obj;

        if (t->state != SIM_THREAD_BLOCKED || t->wait != SIM_WAIT_POLL ||
            set->host_checked == w->switches) {
            continue;
        }
        set->host_checked = w->switches;
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
