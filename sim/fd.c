/*
 * sim/fd.c — the fake fd table: eventfds, pipes, socket pairs, external
 * fds and signalfds, numbered from SIM_FD_BASE so no host fd collides.
 *
 * Method: each fake fd has a readiness function; whenever an operation may
 * change readiness, every thread blocked in a poll that watches the fd is
 * woken to look again.  Buffers are bounded; reads and writes never block
 * (EAGAIN), like the O_NONBLOCK fds the loop core uses.
 *
 * Fault points here (docs/simulation.md, "Fault points"): creating an
 * eventfd or signalfd fails (FD_CREATE); a read fails without consuming
 * anything (READ_FAIL); a pipe or socket read returns fewer bytes than it
 * could (SHORT_READ).  Each draws from the tape only where the fault can
 * change something (a read with data to take), so runs without the bit
 * keep their tapes.
 */
#include <errno.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <string.h>

#include "wmm.h"
#include "world.h"

typedef enum {
    SIM_FD_EVENTFD,
    SIM_FD_PIPE_READ,
    SIM_FD_PIPE_WRITE,
    SIM_FD_SOCKET,
    SIM_FD_EXTERNAL,
    SIM_FD_SIGNALFD,
    SIM_FD_REGULAR,
} SimFdKind;

/* One direction of a pipe or socket pair. */
typedef struct SimBuffer {
    GByteArray *data;
    unsigned capacity;
    bool reader_open;
    bool writer_open;
    unsigned refs;
} SimBuffer;

struct SimFd {
    SimFdKind kind;
    int fd;
    char name[32];
    uint64_t counter;           /* eventfd */
    SimBuffer *in;              /* what read() takes from */
    SimBuffer *out;             /* what write() appends to */
    bool ext_readable;          /* external */
    bool ext_writable;
    sigset_t mask;              /* signalfd */
    GArray *signals;            /* signalfd: pending signal numbers */
    unsigned read_faults;       /* signalfd: failed reads so far */
    uint64_t core_step;         /* the core opened it (a seam call) at this
                                   step + 1; 0: the scenario's or glib's */
};

#define EVENTFD_MAX UINT64_C(0xfffffffffffffffe)

/* The last world's fd table and event queue, emptied: see world_spare
 * (world.c). */
static GPtrArray *fds_spare;
static GArray *externals_spare;

void sim_fd_init(SimWorld *w)
{
    w->fds = fds_spare ? fds_spare : g_ptr_array_new();
    w->externals = externals_spare ? externals_spare
                   : g_array_new(FALSE, FALSE, sizeof(SimExternalEvent));
    fds_spare = NULL;
    externals_spare = NULL;
}

static void buffer_unref(SimBuffer *b)
{
    if (b && --b->refs == 0) {
        g_byte_array_free(b->data, TRUE);
        g_free(b);
    }
}

static void sim_fd_free(SimFd *f)
{
    buffer_unref(f->in);
    buffer_unref(f->out);
    if (f->signals) {
        g_array_free(f->signals, TRUE);
    }
    g_free(f);
}

void sim_fd_fini(SimWorld *w)
{
    for (guint i = 0; i < w->fds->len; i++) {
        SimFd *f = g_ptr_array_index(w->fds, i);

        if (f) {
            sim_fd_free(f);
        }
    }
    g_ptr_array_set_size(w->fds, 0);
    g_array_set_size(w->externals, 0);
    if (!fds_spare) {
        fds_spare = w->fds;
        externals_spare = w->externals;
    } else {
        g_ptr_array_free(w->fds, TRUE);
        g_array_free(w->externals, TRUE);
    }
    w->fds = NULL;
    w->externals = NULL;
}

static SimFd *sim_fd_lookup(int fd)
{
    SimWorld *w = sim_world_get();
    guint index;

    if (fd < SIM_FD_BASE) {
        return NULL;
    }
    index = (guint)(fd - SIM_FD_BASE);
    return index < w->fds->len ? g_ptr_array_index(w->fds, index) : NULL;
}

bool sim_fd_is_fake(int fd)
{
    return fd >= SIM_FD_BASE;
}

static SimFd *sim_fd_new(SimFdKind kind, const char *name)
{
    SimWorld *w = sim_world_get();
    SimFd *f = g_new0(SimFd, 1);

    f->kind = kind;
    f->fd = SIM_FD_BASE + (int)w->fds->len;
    g_strlcpy(f->name, name, sizeof(f->name));
    g_ptr_array_add(w->fds, f);
    return f;
}

static SimBuffer *buffer_new(unsigned capacity)
{
    SimBuffer *b = g_new0(SimBuffer, 1);

    b->data = g_byte_array_new();
    b->capacity = capacity ? capacity : 4096;
    b->reader_open = b->writer_open = true;
    b->refs = 2;
    return b;
}

unsigned sim_fd_revents(int fd, unsigned events)
{
    SimFd *f = sim_fd_lookup(fd);
    unsigned revents = 0;

    if (!f) {
        return 0;
    }
    switch (f->kind) {
    case SIM_FD_EVENTFD:
        if (f->counter > 0) {
            revents |= G_IO_IN;
            if (sim_wmm_mode && (events & G_IO_IN)) {
                /* c11: a poll that sees the write synchronises with it,
                 * as the kernel's wait queue lock makes it. */
                sim_wmm_acquire(f);
            }
        }
        if (f->counter < EVENTFD_MAX) {
            revents |= G_IO_OUT;
        }
        break;
    case SIM_FD_PIPE_READ:
    case SIM_FD_PIPE_WRITE:
    case SIM_FD_SOCKET:
        if (f->in) {
            if (f->in->data->len > 0) {
                revents |= G_IO_IN;
                if (sim_wmm_mode && (events & G_IO_IN)) {
                    sim_wmm_acquire(f->in);
                }
            }
            if (!f->in->writer_open) {
                revents |= G_IO_HUP;
            }
        }
        if (f->out) {
            if (!f->out->reader_open) {
                revents |= G_IO_ERR;
            } else if (f->out->data->len < f->out->capacity) {
                revents |= G_IO_OUT;
            }
        }
        break;
    case SIM_FD_EXTERNAL:
        revents |= (f->ext_readable ? G_IO_IN : 0) |
                   (f->ext_writable ? G_IO_OUT : 0);
        if (sim_wmm_mode && f->ext_readable && (events & G_IO_IN)) {
            sim_wmm_acquire(f);
        }
        break;
    case SIM_FD_SIGNALFD:
        if (f->signals->len > 0) {
            revents |= G_IO_IN;
            if (sim_wmm_mode && (events & G_IO_IN)) {
                sim_wmm_acquire(f);
            }
        }
        break;
    case SIM_FD_REGULAR:
        /* poll(2) on a regular file: always ready both ways. */
        revents |= G_IO_IN | G_IO_OUT;
        break;
    }
    /* ERR and HUP are reported whether asked for or not, as poll(2) does. */
    return revents & (events | G_IO_ERR | G_IO_HUP);
}

/* Readiness of fd may have changed: let its pollers look again. */
void sim_fd_changed(int fd)
{
    SimWorld *w = sim_world;

    for (guint i = 0; i < w->threads->len; i++) {
        SimThread *t = g_ptr_array_index(w->threads, i);
        const SimPollSet *set = t->wait_obj;

        if (t->state != SIM_THREAD_BLOCKED || t->wait != SIM_WAIT_POLL) {
            continue;
        }
        for (unsigned j = 0; j < set->count; j++) {
            if (set->fds[j] == fd) {
                sim_wake(t);
                break;
            }
        }
    }
}

/* ---- creation faults ---------------------------------------------------------- */

/*
 * The FD_CREATE fault point: 0, or the errno a full fd table gives —
 * EMFILE (this process's limit) or ENFILE (the system's), drawn.
 */
int sim_fd_create_fault(const char *what)
{
    if (!sim_fault(SIM_FAULT_FD_CREATE, what)) {
        return 0;
    }
    return sim_choose(SIM_CHOICE_VALUE, 2) == 0 ? -EMFILE : -ENFILE;
}

bool sim_fd_is_regular(int fd)
{
    SimFd *f = sim_fd_lookup(fd);

    return f && f->kind == SIM_FD_REGULAR;
}

int sim_regular_fd(const char *name)
{
    return sim_fd_new(SIM_FD_REGULAR, name ? name : "regular")->fd;
}

/* ---- eventfd (seam) --------------------------------------------------------- */

int sim_fd_new_eventfd(unsigned initval)
{
    SimFd *f = sim_fd_new(SIM_FD_EVENTFD, "eventfd");

    f->counter = initval;
    return f->fd;
}

int qos_eventfd_open(unsigned initval)
{
    int err;

    qos_sched_point("eventfd");
    err = sim_fd_create_fault("eventfd create fails");
    if (err < 0) {
        return err;
    }
    err = sim_fd_new_eventfd(initval);
    sim_fd_opened_by_core(err);
    return err;
}

void sim_fd_opened_by_core(int fd)
{
    SimFd *f = sim_fd_lookup(fd);

    SIM_ASSERT(f != NULL);
    f->core_step = sim_world_get()->steps + 1;
}

SimVerdict sim_check_fd_leaks(void)
{
    SimWorld *w = sim_world;

    if (!w || w->verdict != SIM_OK) {
        return w ? w->verdict : SIM_OK;
    }
    for (guint i = 0; i < w->fds->len; i++) {
        SimFd *f = g_ptr_array_index(w->fds, i);

        if (f && f->core_step) {
            w->verdict = SIM_MEMORY;
            g_string_printf(w->story, "leak of the core's %s: fd %d, opened "
                            "at step %" G_GUINT64_FORMAT ", is still "
                            "open after the run freed everything it made (an "
                            "EventNotifier never cleaned up, or the context "
                            "or main loop that owns it never finalized)",
                            f->name, f->fd, f->core_step - 1);
            w->panic_pc_count = 0;
            break;
        }
    }
    return w->verdict;
}

int qos_eventfd_write(int fd, uint64_t value)
{
    SimFd *f;

    qos_sched_point("eventfd write");
    f = sim_fd_lookup(fd);
    if (!f || f->kind != SIM_FD_EVENTFD) {
        return -EBADF;
    }
    if (sim_fault(SIM_FAULT_EVENTFD_EAGAIN, "eventfd write EAGAIN")) {
        /*
         * The kernel only says EAGAIN when the counter is about to
         * overflow — i.e. it is readable.  Model exactly that: a flood of
         * earlier writes filled it.
         */
        f->counter = EVENTFD_MAX;
        sim_fd_changed(fd);
        return -EAGAIN;
    }
    if (value > EVENTFD_MAX - f->counter) {
        return -EAGAIN;
    }
    f->counter += value;
    if (sim_wmm_mode) {
        sim_wmm_release(f);     /* c11: the reader that sees it acquires */
    }
    sim_fd_changed(fd);
    return 0;
}

int qos_eventfd_read(int fd, uint64_t *value)
{
    SimFd *f;

    qos_sched_point("eventfd read");
    f = sim_fd_lookup(fd);
    if (!f || f->kind != SIM_FD_EVENTFD) {
        return -EBADF;
    }
    if (f->counter == 0) {
        return -EAGAIN;
    }
    if (sim_fault(SIM_FAULT_READ_FAIL, "eventfd read EIO")) {
        /* Nothing consumed: the counter stays, the fd stays readable. */
        return -EIO;
    }
    *value = f->counter;
    f->counter = 0;
    if (sim_wmm_mode) {
        sim_wmm_acquire(f);
    }
    sim_fd_changed(fd);
    return 0;
}

int qos_fd_close(int fd)
{
    return sim_close(fd);
}

long qos_fd_read(int fd, void *buf, unsigned long len)
{
    return sim_read(fd, buf, len);
}

/* ---- pipes, socket pairs, externals ---------------------------------------- */

int sim_pipe(int fds[2], unsigned capacity)
{
    SimBuffer *b = buffer_new(capacity);
    SimFd *r = sim_fd_new(SIM_FD_PIPE_READ, "pipe-r");
    SimFd *wr = sim_fd_new(SIM_FD_PIPE_WRITE, "pipe-w");

    r->in = b;
    wr->out = b;
    fds[0] = r->fd;
    fds[1] = wr->fd;
    return 0;
}

int sim_socketpair(int fds[2], unsigned capacity)
{
    SimBuffer *ab = buffer_new(capacity);
    SimBuffer *ba = buffer_new(capacity);
    SimFd *a = sim_fd_new(SIM_FD_SOCKET, "sock-a");
    SimFd *b = sim_fd_new(SIM_FD_SOCKET, "sock-b");

    a->out = ab;
    b->in = ab;
    b->out = ba;
    a->in = ba;
    fds[0] = a->fd;
    fds[1] = b->fd;
    return 0;
}

int sim_external_fd(const char *name)
{
    return sim_fd_new(SIM_FD_EXTERNAL, name ? name : "external")->fd;
}

void sim_external_set(int fd, bool readable, bool writable)
{
    SimFd *f = sim_fd_lookup(fd);

    SIM_ASSERT(f && f->kind == SIM_FD_EXTERNAL);
    f->ext_readable = readable;
    f->ext_writable = writable;
    if (sim_wmm_mode) {
        /* c11: a simulated thread that makes the fd ready (a write to the
         * device or peer) releases; the poll that sees it acquires. */
        sim_wmm_release(f);
    }
    sim_trace_record(SIM_EV_USER, "external", fd);
    sim_fd_changed(fd);
}

static gint external_cmp(gconstpointer a, gconstpointer b)
{
    const SimExternalEvent *x = a, *y = b;

    if (x->at_ns != y->at_ns) {
        return x->at_ns < y->at_ns ? -1 : 1;
    }
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void sim_external_at(int fd, int64_t at_ns)
{
    SimWorld *w = sim_world_get();
    SimExternalEvent ev = { .at_ns = at_ns, .seq = w->external_seq++, .fd = fd };

    SIM_ASSERT(sim_fd_lookup(fd) && sim_fd_lookup(fd)->kind == SIM_FD_EXTERNAL);
    g_array_append_val(w->externals, ev);
    g_array_sort(w->externals, external_cmp);
}

int64_t sim_externals_next_ns(SimWorld *w)
{
    return w->externals->len ?
           g_array_index(w->externals, SimExternalEvent, 0).at_ns : -1;
}

void sim_externals_fire_due(SimWorld *w)
{
    while (w->externals->len > 0) {
        SimExternalEvent ev = g_array_index(w->externals, SimExternalEvent, 0);

        if (ev.at_ns > w->now_ns) {
            break;
        }
        g_array_remove_index(w->externals, 0);
        sim_external_set(ev.fd, true, sim_fd_lookup(ev.fd)->ext_writable);
    }
}

long sim_write(int fd, const void *buf, unsigned long len)
{
    SimFd *f;
    unsigned long room;

    qos_sched_point("write");
    f = sim_fd_lookup(fd);
    if (!f) {
        return -EBADF;
    }
    if (f->kind == SIM_FD_REGULAR) {
        return (long)len;       /* a file takes everything */
    }
    if (f->kind == SIM_FD_EVENTFD) {
        uint64_t value;

        if (len < sizeof(value)) {
            return -EINVAL;
        }
        memcpy(&value, buf, sizeof(value));
        int ret = qos_eventfd_write(fd, value);
        return ret < 0 ? ret : (long)sizeof(value);
    }
    if (!f->out) {
        return -EBADF;
    }
    if (!f->out->reader_open) {
        return -EPIPE;
    }
    room = f->out->capacity - f->out->data->len;
    if (room == 0) {
        return -EAGAIN;
    }
    if (len > room) {
        len = room;
    }
    g_byte_array_append(f->out->data, buf, (guint)len);
    if (sim_wmm_mode) {
        sim_wmm_release(f->out);    /* c11: for the reader */
    }
    /* The other end became readable. */
    for (guint i = 0; i < sim_world->fds->len; i++) {
        SimFd *o = g_ptr_array_index(sim_world->fds, i);

        if (o && o->in == f->out) {
            sim_fd_changed(o->fd);
        }
    }
    return (long)len;
}

long sim_read(int fd, void *buf, unsigned long len)
{
    SimFd *f;

    qos_sched_point("read");
    f = sim_fd_lookup(fd);
    if (!f) {
        return -EBADF;
    }
    if (f->kind == SIM_FD_EVENTFD) {
        uint64_t value;
        int ret;

        if (len < sizeof(value)) {
            return -EINVAL;
        }
        ret = qos_eventfd_read(fd, &value);
        if (ret < 0) {
            return ret;
        }
        memcpy(buf, &value, sizeof(value));
        return sizeof(value);
    }
    if (f->kind == SIM_FD_REGULAR) {
        return 0;       /* at the end of the file */
    }
    if (f->kind == SIM_FD_EXTERNAL) {
        /* Reading an external fd consumes its readiness. */
        if (!f->ext_readable) {
            return -EAGAIN;
        }
        if (sim_fault(SIM_FAULT_READ_FAIL, "read EINTR")) {
            return -EINTR;      /* readiness kept: the next poll sees it */
        }
        f->ext_readable = false;
        if (sim_wmm_mode) {
            sim_wmm_acquire(f);
        }
        sim_fd_changed(fd);
        return 0;
    }
    if (!f->in) {
        return -EBADF;
    }
    if (f->in->data->len == 0) {
        return f->in->writer_open ? -EAGAIN : 0;
    }
    if (len > 0 && sim_fault(SIM_FAULT_READ_FAIL, "read EINTR")) {
        return -EINTR;          /* nothing taken */
    }
    if (len > f->in->data->len) {
        len = f->in->data->len;
    }
    if (len > 1 && sim_fault(SIM_FAULT_SHORT_READ, "short read")) {
        /* A stream may hand over less than is there: 1 .. len-1 bytes. */
        len = 1 + sim_choose(SIM_CHOICE_VALUE, (uint32_t)MIN(len - 1, 65536));
    }
    memcpy(buf, f->in->data->data, len);
    g_byte_array_remove_range(f->in->data, 0, (guint)len);
    if (sim_wmm_mode) {
        sim_wmm_acquire(f->in);
    }
    /* The writer may have room again. */
    for (guint i = 0; i < sim_world->fds->len; i++) {
        SimFd *o = g_ptr_array_index(sim_world->fds, i);

        if (o && o->out == f->in) {
            sim_fd_changed(o->fd);
        }
    }
    return (long)len;
}

int sim_close(int fd)
{
    SimWorld *w = sim_world_get();
    SimFd *f = sim_fd_lookup(fd);

    qos_sched_point("close");
    if (!f) {
        return -EBADF;
    }
    if (f->in) {
        f->in->reader_open = false;
    }
    if (f->out) {
        f->out->writer_open = false;
    }
    /* Peers see HUP/ERR. */
    for (guint i = 0; i < w->fds->len; i++) {
        SimFd *o = g_ptr_array_index(w->fds, i);

        if (o && o != f && ((f->out && o->in == f->out) ||
                            (f->in && o->out == f->in))) {
            sim_fd_changed(o->fd);
        }
    }
    g_ptr_array_index(w->fds, (guint)(fd - SIM_FD_BASE)) = NULL;
    sim_fd_free(f);
    return 0;
}

/* ---- signalfd ---------------------------------------------------------------- */

int sim_fd_new_signalfd(const sigset_t *mask)
{
    SimFd *f = sim_fd_new(SIM_FD_SIGNALFD, "signalfd");

    f->mask = *mask;
    f->signals = g_array_new(FALSE, FALSE, sizeof(int));
    return f->fd;
}

/* The signals the kernel delivers before any other (SYNCHRONOUS_MASK). */
static bool sim_signal_synchronous(int signo)
{
    return signo == SIGSEGV || signo == SIGBUS || signo == SIGILL ||
           signo == SIGTRAP || signo == SIGFPE || signo == SIGSYS;
}

int sim_fd_read_signal(int fd, void *info, unsigned long info_len)
{
    SimFd *f = sim_fd_lookup(fd);
    guint at;
    int signo;

    qos_sched_point("signalfd read");
    if (!f || f->kind != SIM_FD_SIGNALFD) {
        return -EBADF;
    }
    if (f->signals->len == 0) {
        return 0;
    }
    if (sim_fault(SIM_FAULT_READ_FAIL, "signalfd read failed")) {
        /*
         * Interrupted (the reader retries at once), then EIO — what the
         * host backend reports for a short record — in turn, with no
         * further choice on the tape.  Nothing is dequeued: the signal
         * stays pending and the fd readable.
         */
        return f->read_faults++ % 2 == 0 ? -EINTR : -EIO;
    }
    if (sim_wmm_mode) {
        sim_wmm_acquire(f);     /* pairs with the release of the raise */
    }
    /* The kernel's next_signal(): synchronous signals (SIGBUS...) first,
     * then the lowest number — never the order they were raised in. */
    at = 0;
    for (guint j = 1; j < f->signals->len; j++) {
        int a = g_array_index(f->signals, int, at);
        int b = g_array_index(f->signals, int, j);

        if (sim_signal_synchronous(b) != sim_signal_synchronous(a) ?
            sim_signal_synchronous(b) : b < a) {
            at = j;
        }
    }
    signo = g_array_index(f->signals, int, at);
    g_array_remove_index(f->signals, at);
    if (info) {
        struct signalfd_siginfo si;

        sim_signal_info(signo, &si);
        memset(info, 0, info_len);
        memcpy(info, &si, MIN(info_len, sizeof(si)));
    }
    sim_fd_changed(fd);
    return signo;
}

/*
 * What the kernel would put in a signalfd_siginfo for a simulated signal:
 * SIGBUS as a kernel-generated machine-check report (a positive si_code,
 * the faulting address), every other signal as sent by kill(2) from a
 * process (SI_USER, the sender's pid and uid).  Fixed values, so handlers
 * can check them.
 */
void sim_signal_info(int signo, struct signalfd_siginfo *si)
{
    memset(si, 0, sizeof(*si));
    si->ssi_signo = (uint32_t)signo;
    if (signo == SIGBUS) {
        si->ssi_code = BUS_MCEERR_AO;
        si->ssi_addr = SIM_SIGBUS_ADDR;
    } else {
        si->ssi_code = SI_USER;
        si->ssi_pid = (uint32_t)SIM_SIGNAL_PID;
        si->ssi_uid = (uint32_t)SIM_SIGNAL_UID;
    }
}

bool sim_fd_readable(int fd)
{
    return (sim_fd_revents(fd, G_IO_IN) & G_IO_IN) != 0;
}

void sim_raise_signal(int signo)
{
    SimWorld *w = sim_world_get();

    sim_trace_record(SIM_EV_USER, "signal", signo);
    for (guint i = 0; i < w->fds->len; i++) {
        SimFd *f = g_ptr_array_index(w->fds, i);

        if (f && f->kind == SIM_FD_SIGNALFD && sigismember(&f->mask, signo)) {
            bool pending = false;

            /* Standard signals do not queue: one pending instance each. */
            for (guint j = 0; j < f->signals->len; j++) {
                pending |= g_array_index(f->signals, int, j) == signo;
            }
            if (!pending) {
                g_array_append_val(f->signals, signo);
                if (sim_wmm_mode) {
                    sim_wmm_release(f);     /* c11: kill() -> read */
                }
                sim_fd_changed(f->fd);
            }
            return;
        }
    }
}
