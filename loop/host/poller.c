/*
 * loop/host/poller.c — fd readiness on the host: ppoll, then epoll.
 *
 * Method: the watch set is an array of struct pollfd plus an fd -> slot
 * map.  A wait copies the array under the lock and ppolls the copy, so
 * other threads may update the set meanwhile (they then aio_notify() the
 * waiter).  Once 64 fds are watched — QEMU's threshold — the poller moves
 * to epoll for good: updates become epoll_ctl calls and a wait costs
 * O(ready) instead of O(watched).  Waits have ns resolution (ppoll,
 * epoll_pwait2); without epoll_pwait2 the timeout is rounded *up* to ms.
 *
 * epoll refuses some watches (EPERM for a regular file, ENOMEM, ENOSPC
 * past max_user_watches).  The pollfd array is kept whatever the mode, so
 * a refused fd is always recorded; qos_poller_set() reports the refusal
 * and the core calls qos_poller_fallback(), which returns to ppoll for
 * good (QEMU's fdmon_epoll_disable).  An upgrade that fails midway stays
 * on ppoll for good too: retrying it at every later add would cost an
 * epoll_create1 and up to N epoll_ctl calls each time, for the same
 * answer.
 *
 * G_IO_IN/OUT/ERR/HUP equal POLLIN/OUT/ERR/HUP and EPOLLIN/OUT/ERR/HUP on
 * Linux (asserted below), so events pass through untranslated.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../os.h"

#define EPOLL_THRESHOLD 64

_Static_assert(G_IO_IN == POLLIN && G_IO_OUT == POLLOUT &&
               G_IO_ERR == POLLERR && G_IO_HUP == POLLHUP,
               "glib and poll(2) event bits differ");
_Static_assert(POLLIN == EPOLLIN && POLLOUT == EPOLLOUT &&
               POLLERR == EPOLLERR && POLLHUP == EPOLLHUP,
               "poll(2) and epoll(7) event bits differ");
_Static_assert(sizeof(GPollFD) == sizeof(struct pollfd),
               "GPollFD is not struct pollfd");

struct QosPoller {
    pthread_mutex_t lock;
    struct pollfd *pfds;        /* watch set (ppoll mode), under lock */
    unsigned count;
    unsigned capacity;
    GHashTable *slot_by_fd;     /* fd -> slot + 1 */
    /*
     * >= 0 from the upgrade on, and never changed again until free: the
     * home thread reads it without the lock (after seeing mode_epoll), so
     * a fallback retires the set instead of closing it — the waiter may
     * be inside epoll_wait on it, and a closed number could be reused.
     */
    int epfd;
    bool epoll_on;              /* under lock: updates go to epfd too */
    bool epoll_off;             /* under lock: never (again) use epoll */
    bool mode_epoll;            /* atomic: epfd is complete and in use */
    struct pollfd *scratch;     /* home thread's copy for ppoll */
    unsigned scan_start;        /* home thread: first slot the next ppoll
                                   wait reports (round robin) */
    unsigned scratch_capacity;
};

QosPoller *qos_poller_new(Error **errp)
{
    QosPoller *p = g_new0(QosPoller, 1);

    (void)errp;
    pthread_mutex_init(&p->lock, NULL);
    p->slot_by_fd = g_hash_table_new(g_direct_hash, g_direct_equal);
    p->epfd = -1;
    return p;
}

void qos_poller_free(QosPoller *p)
{
    if (p->epfd >= 0) {
        close(p->epfd);
    }
    g_hash_table_destroy(p->slot_by_fd);
    pthread_mutex_destroy(&p->lock);
    g_free(p->pfds);
    g_free(p->scratch);
    g_free(p);
}

const char *qos_poller_kind(const QosPoller *p)
{
    return __atomic_load_n(&p->mode_epoll, __ATOMIC_ACQUIRE) ? "epoll"
                                                             : "ppoll";
}

static int epoll_apply(QosPoller *p, int op, int fd, unsigned events)
{
    struct epoll_event ev = { .events = events, .data.fd = fd };

    return epoll_ctl(p->epfd, op, fd, &ev) < 0 ? -errno : 0;
}

/*
 * Called with the lock held.  Any failure leaves the poller on ppoll —
 * slower, still correct — for good.  Nothing waits on epfd yet (the mode
 * is published last), so a failed attempt may close it.
 */
static void poller_upgrade_to_epoll(QosPoller *p)
{
    int epfd = epoll_create1(EPOLL_CLOEXEC);

    p->epoll_off = true;    /* one attempt, whatever its outcome */
    if (epfd < 0) {
        return;
    }
    p->epfd = epfd;
    for (unsigned i = 0; i < p->count; i++) {
        if (epoll_apply(p, EPOLL_CTL_ADD, p->pfds[i].fd,
                        p->pfds[i].events) < 0) {
            close(epfd);
            p->epfd = -1;
            return;
        }
    }
    p->epoll_on = true;
    /* Publish: the home thread reads the mode without the lock.  Pairs
     * with the acquire load in qos_poller_wait(). */
    __atomic_store_n(&p->mode_epoll, true, __ATOMIC_RELEASE);
}

void qos_poller_fallback(QosPoller *p)
{
    pthread_mutex_lock(&p->lock);
    p->epoll_off = true;
    p->epoll_on = false;
    /*
     * The pollfd array already holds every watch, the refused one too,
     * and the ppoll path reads it under the lock: the flag only picks the
     * path, so release/acquire (with qos_poller_wait()) is all it needs.
     * The epoll set stays open until qos_poller_free() (see epfd).
     */
    __atomic_store_n(&p->mode_epoll, false, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&p->lock);
}

int qos_poller_set(QosPoller *p, int fd, unsigned events)
{
    gpointer slot_ptr;
    int ret = 0;

    pthread_mutex_lock(&p->lock);
    slot_ptr = g_hash_table_lookup(p->slot_by_fd, GINT_TO_POINTER(fd));
    if (events == 0) {
        if (slot_ptr) {
            unsigned slot = GPOINTER_TO_UINT(slot_ptr) - 1;

            p->count--;
            if (slot != p->count) {
                p->pfds[slot] = p->pfds[p->count];
                g_hash_table_insert(p->slot_by_fd,
                                    GINT_TO_POINTER(p->pfds[slot].fd),
                                    GUINT_TO_POINTER(slot + 1));
            }
            g_hash_table_remove(p->slot_by_fd, GINT_TO_POINTER(fd));
            if (p->epoll_on) {
                /* The fd may be closed already: ENOENT/EBADF are fine. */
                epoll_apply(p, EPOLL_CTL_DEL, fd, 0);
            }
        }
    } else if (slot_ptr) {
        p->pfds[GPOINTER_TO_UINT(slot_ptr) - 1].events = (short)events;
        if (p->epoll_on) {
            ret = epoll_apply(p, EPOLL_CTL_MOD, fd, events);
        }
    } else {
        if (p->count == p->capacity) {
            p->capacity = p->capacity ? p->capacity * 2 : 8;
            p->pfds = g_renew(struct pollfd, p->pfds, p->capacity);
        }
        p->pfds[p->count] = (struct pollfd){ .fd = fd, .events = (short)events };
        p->count++;
        g_hash_table_insert(p->slot_by_fd, GINT_TO_POINTER(fd),
                            GUINT_TO_POINTER(p->count));
        if (p->epoll_on) {
            ret = epoll_apply(p, EPOLL_CTL_ADD, fd, events);
        } else if (p->count >= EPOLL_THRESHOLD && !p->epoll_off) {
            poller_upgrade_to_epoll(p);
        }
    }
    pthread_mutex_unlock(&p->lock);
    return ret;
}

static struct timespec *ns_to_timespec(int64_t timeout_ns, struct timespec *ts)
{
    if (timeout_ns < 0) {
        return NULL;
    }
    ts->tv_sec = timeout_ns / 1000000000LL;
    ts->tv_nsec = timeout_ns % 1000000000LL;
    return ts;
}

static int poller_wait_ppoll(QosPoller *p, int64_t timeout_ns,
                             QosReady *ready, int ready_max)
{
    struct timespec ts;
    unsigned n;
    int ret, found = 0;

    pthread_mutex_lock(&p->lock);
    n = p->count;
    if (n > p->scratch_capacity) {
        p->scratch_capacity = p->capacity;
        p->scratch = g_renew(struct pollfd, p->scratch, p->scratch_capacity);
    }
    for (unsigned i = 0; i < n; i++) {
        p->scratch[i] = p->pfds[i];
        p->scratch[i].revents = 0;
    }
    pthread_mutex_unlock(&p->lock);

    ret = ppoll(p->scratch, n, ns_to_timespec(timeout_ns, &ts), NULL);
    if (ret < 0) {
        return errno == EINTR ? 0 : -errno;
    }
    /*
     * More ready fds than the caller takes (ready_max): start where the
     * last wait stopped, so every ready fd is reported within a few waits.
     * Always from slot 0, the fds past the first ready_max would starve
     * while those stay ready (epoll rotates its ready list itself).
     */
    for (unsigned k = 0; k < n && ret > 0 && found < ready_max; k++) {
        unsigned i = (p->scan_start + k) % n;
        /* POLLNVAL (a closed fd still registered) is not reported: it
         * would spin; the handler's owner must remove it. */
        unsigned revents = p->scratch[i].revents &
                           (POLLIN | POLLOUT | POLLERR | POLLHUP);
        if (revents) {
            ready[found].fd = p->scratch[i].fd;
            ready[found].revents = revents;
            found++;
            if (found == ready_max) {
                p->scan_start = (i + 1) % n;
            }
        }
    }
    return found;
}

static int poller_wait_epoll(QosPoller *p, int64_t timeout_ns,
                             QosReady *ready, int ready_max)
{
    struct epoll_event events[128];
    int max = ready_max < 128 ? ready_max : 128;
    struct timespec ts;
    int ret;

#ifdef SYS_epoll_pwait2
    ret = (int)syscall(SYS_epoll_pwait2, p->epfd, events, max,
                       ns_to_timespec(timeout_ns, &ts), NULL, (size_t)8);
    if (ret < 0 && errno == ENOSYS)
#endif
    {
        int timeout_ms = timeout_ns < 0 ? -1 :
                         (int)MIN((timeout_ns + 999999) / 1000000, INT32_MAX);
        (void)ts;
        ret = epoll_wait(p->epfd, events, max, timeout_ms);
    }
    if (ret < 0) {
        return errno == EINTR ? 0 : -errno;
    }
    for (int i = 0; i < ret; i++) {
        ready[i].fd = events[i].data.fd;
        ready[i].revents = events[i].events &
                           (EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP);
    }
    return ret;
}

int qos_poller_wait(QosPoller *p, int64_t timeout_ns, QosReady *ready,
                    int ready_max)
{
    if (ready_max <= 0) {
        timeout_ns = 0;
        ready_max = 0;
    }
    if (__atomic_load_n(&p->mode_epoll, __ATOMIC_ACQUIRE) && ready_max > 0) {
        return poller_wait_epoll(p, timeout_ns, ready, ready_max);
    }
    return poller_wait_ppoll(p, timeout_ns, ready, ready_max);
}

int qos_gpoll_ns(GPollFD *fds, unsigned nfds, int64_t timeout_ns)
{
    struct timespec ts;
    int ret = ppoll((struct pollfd *)(void *)fds, nfds,
                    ns_to_timespec(timeout_ns, &ts), NULL);

    if (ret < 0 && errno == EINTR) {
        /* The seam's EINTR: nothing ready, no stale revents for glib. */
        for (unsigned i = 0; i < nfds; i++) {
            fds[i].revents = 0;
        }
        return 0;
    }
    return ret < 0 ? -errno : ret;
}

gint qos_gpoll_ms(GPollFD *fds, guint nfds, gint timeout_ms)
{
    int ret = qos_gpoll_ns(fds, nfds,
                           timeout_ms < 0 ? -1 : (int64_t)timeout_ms * 1000000);

    /* glib's GPollFunc reports errors as -1 with errno set. */
    if (ret < 0) {
        errno = -ret;
        return -1;
    }
    return ret;
}
