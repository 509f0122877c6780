/*
 * loop/os.h — the OS seam: the only way the loop core reaches the system.
 *
 * Two backends implement it: loop/host/ (clock_gettime, ppoll/epoll,
 * eventfd, signalfd, pthreads) and sim/ (virtual clocks, fake fds, fake
 * poll, coroutine threads).  CMake builds the core once per backend and
 * picks the backend's directory for "qloop-os-inline.h"; nothing else in
 * the core knows which backend it runs on.
 *
 * Method: every function here is a place where the simulator may switch
 * threads or inject a fault, so the core must call it exactly where the
 * real system call would be — not earlier, not cached.  Errors are negative
 * errno values, as the system calls would give.
 *
 * Also part of the seam, declared in public headers: qemu_mutex_*,
 * qemu_cond_*, qemu_thread_* (qloop/thread.h).
 */
#ifndef QLOOP_LOOP_OS_H
#define QLOOP_LOOP_OS_H

#include <glib.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "qloop/error.h"
#include "qloop/timer.h"

/*
 * Trace events: the core reports what it does (BH run, handler called,
 * timer fired...) through qos_trace(), an inline hook of the backend: the
 * host backend compiles it to nothing, the simulator records it.
 */
/*
 * Events are emitted at their linearization points (right after the atomic
 * or under the lock that makes them happen), so a reference model reading
 * the trace sees them in the order they took effect.  Arguments:
 *   BH_SCHEDULE/DELETE  a = ctx << 32 | bh id, b = flags added (1 pending,
 *                       2 scheduled, 4 oneshot, 8 deleted, 16 idle)
 *                       | 0x8000 if it was pending already
 *   BH_PUSH             a = ctx << 32 | bh id (now first on the pending list)
 *   BH_CANCEL           a = ctx << 32 | bh id
 *   BH_SLICE            a = ctx << 32 (aio_bh_poll took the pending list)
 *   BH_TAKE             a = ctx << 32 | bh id, b = flags it had when taken
 *   BH_RUN              a = ctx << 32 | bh id
 *   FD_ADD/REMOVE       a = ctx << 32 | registration number, b = fd
 *   FD_ROUND            a = ctx << 32 (a dispatch round begins)
 *   FD_POLLED           a as FD_ADD, b = fd: io_poll() reported progress
 *   FD_CALL             name = read|write|poll_ready, a as FD_ADD, b = fd
 *   TIMER_ARM           a = list << 36 | clock << 32 | timer id, b = the
 *                       requested expiry (before the clamp to >= 0)
 *   TIMER_FIRE          a as TIMER_ARM, b = stored expiry
 *   TIMER_DEL           a = list << 36 | clock << 32 | timer id
 *   TIMERS_RUN/DONE     a = list << 36 | clock << 32, b = this pass's clock
 *                       snapshot
 *   POLL_ENTER/EXIT     a = timeout (ns) / ready count
 * ctx and list are the context's trace key: its notifier's fd (0 for the
 * main-loop timers) — stable for a given run, unlike an address.
 */
typedef enum {
    QOS_EV_BH_SCHEDULE, QOS_EV_BH_RUN, QOS_EV_BH_CANCEL, QOS_EV_BH_DELETE,
    QOS_EV_FD_ADD, QOS_EV_FD_REMOVE, QOS_EV_FD_CALL,
    QOS_EV_TIMER_ARM, QOS_EV_TIMER_DEL, QOS_EV_TIMER_FIRE,
    QOS_EV_NOTIFY, QOS_EV_NOTIFY_SET, QOS_EV_POLL_ENTER, QOS_EV_POLL_EXIT,
    QOS_EV_BH_PUSH, QOS_EV_BH_SLICE, QOS_EV_BH_TAKE, QOS_EV_FD_ROUND,
    QOS_EV_TIMERS_RUN, QOS_EV_TIMERS_DONE, QOS_EV_FD_POLLED,
    QOS_EV_MAX
} QosEvent;

/*
 * The core's objects, by kind: what qos_obj_new()/qos_obj_free() allocate
 * (inline hooks of the backend).  The host backend hands them to glib; the
 * simulator checks them — under AddressSanitizer by ASan's allocator, else
 * by its own (sim/heap.c), so that a use after free, double free, overflow
 * or leak of one is a "memory" verdict naming its kind in every build.
 * The AioContext is glib's (g_source_new) and stays out.
 */
typedef enum {
    QOS_OBJ_BH, QOS_OBJ_HANDLER, QOS_OBJ_TIMER, QOS_OBJ_TIMER_LIST,
    QOS_OBJ_POOL, QOS_OBJ_POOL_ELEMENT, QOS_OBJ_POOL_THREAD,
    QOS_OBJ_KIND_MAX
} QosObjKind;

/* Backend-provided inline hooks: qos_sched_point(what),
 * qos_trace(ev, name, a, b), qos_obj_new(kind, size) (zeroed, never NULL)
 * and qos_obj_free(kind, obj) (NULL: nothing). */
#include "qloop-os-inline.h"

/* ---- clocks ------------------------------------------------------------ */

/* Current time of a QEMU clock, in ns.  HOST may jump; the others never go
 * backwards. */
int64_t qos_clock_ns(QEMUClockType type);

/* ---- fds --------------------------------------------------------------- */

/* An eventfd (non-blocking, close-on-exec) with counter semantics: the fd,
 * or -errno (-EMFILE, -ENFILE when the fd table is full). */
int qos_eventfd_open(unsigned initval);
/* Add value to the counter: 0, or -EAGAIN when it would overflow. */
int qos_eventfd_write(int fd, uint64_t value);
/* Read and clear the counter: 0, -EAGAIN when it is zero, or another
 * -errno when the read failed — then the counter is untouched. */
int qos_eventfd_read(int fd, uint64_t *value);
int qos_fd_close(int fd);
/* Plain read for handlers that drain a descriptor: bytes or -errno. */
long qos_fd_read(int fd, void *buf, unsigned long len);

/* ---- fd readiness monitor (one per AioContext) ------------------------- */

/*
 * The monitor watches (fd, events) pairs.  The host backend uses ppoll and
 * switches to epoll once 64 fds are watched (as QEMU does); the simulator
 * polls its fake fd table and models the same two mechanisms, epoll's
 * refusals included.  Any thread may update while the home thread
 * waits; the update takes effect for the next wait, and the caller then
 * wakes the waiter through aio_notify().
 */
typedef struct QosPoller QosPoller;

typedef struct QosReady {
    int fd;
    unsigned revents;   /* G_IO_IN / G_IO_OUT / G_IO_HUP / G_IO_ERR bits */
} QosReady;

QosPoller *qos_poller_new(Error **errp);
void qos_poller_free(QosPoller *poller);
/*
 * events == 0 stops watching fd (that never fails).  Returns 0 or -errno
 * when the current mechanism refuses the watch — epoll: -EPERM for a
 * regular file, -ENOMEM, -ENOSPC (max_user_watches), -ENOENT/-EBADF for
 * an fd that went away under it.  A refused (fd, events) is still
 * recorded, but the mechanism does not watch it: the caller must call
 * qos_poller_fallback() before the next wait or lose the fd's events.
 */
int qos_poller_set(QosPoller *poller, int fd, unsigned events);
/*
 * Move to the mechanism that never refuses a watch (ppoll on the host:
 * its watch set is an array) and watch every recorded fd there, for the
 * poller's remaining life — QEMU's fdmon_epoll_disable().  Afterwards
 * qos_poller_set() returns 0 for every fd.  A wait in progress on another
 * thread may finish on the old mechanism; the caller's aio_notify() ends
 * it.
 */
void qos_poller_fallback(QosPoller *poller);
/*
 * Wait up to timeout_ns (-1: forever, 0: just look) for any watched fd.
 * Fills ready[0..n) with the ready ones and returns n, 0 on timeout or
 * EINTR, -errno on failure.  With more than ready_max ready fds, the rest
 * are reported by the next wait (level-triggered).
 */
int qos_poller_wait(QosPoller *poller, int64_t timeout_ns,
                    QosReady *ready, int ready_max);
/* Name of the current mechanism ("ppoll", "epoll"; "sim", "sim-epoll")
 * for diagnostics. */
const char *qos_poller_kind(const QosPoller *poller);

/*
 * glib's poll between query and check (main_loop_wait, GMainContext):
 * the number of fds with revents, 0 on timeout, -errno on failure.  EINTR
 * is a wake-up with nothing ready: 0, every revents cleared.
 */
int qos_gpoll_ns(GPollFD *fds, unsigned nfds, int64_t timeout_ns);
/* Same, with glib's GPollFunc signature (timeout in ms). */
gint qos_gpoll_ms(GPollFD *fds, guint nfds, gint timeout_ms);

/* ---- signals ----------------------------------------------------------- */

/* Block the signals in mask for the calling thread: 0 or -errno. */
int qos_signals_block(const sigset_t *mask);
/* A non-blocking signalfd for mask: fd or -errno (-EMFILE, -ENFILE...). */
int qos_signalfd_open(const sigset_t *mask);
/* Read one pending signal: its number (> 0), 0 if none, -errno on error
 * (-EIO: a short record).  info receives the raw signalfd_siginfo (128
 * bytes) when non-NULL. */
int qos_signalfd_read(int fd, void *info, unsigned long info_len);
/* Run the process's sigaction handler for signo, as the kernel would, with
 * info (already converted from the signalfd's record by the core). */
void qos_signal_run_handler(int signo, siginfo_t *info);

/* ---- threads ----------------------------------------------------------- */

/* Non-zero id of the calling thread, unique for the process lifetime. */
uint64_t qos_thread_id(void);

/* Inside a busy-wait: the CPU's pause hint on the host; in the simulator
 * a scheduling point that lets the thread being waited for run. */
void qos_cpu_relax(void);

/* Per-thread slots (the simulator keeps one set per simulated thread). */
typedef enum {
    QOS_TLS_AIO_CONTEXT,
    QOS_TLS_MAX
} QosTlsSlot;
void *qos_tls_get(QosTlsSlot slot);
void qos_tls_set(QosTlsSlot slot, void *value);

/*
 * Per-thread storage of QOS_THREAD_AREA_BYTES, zero when the thread starts,
 * gone with the thread, never allocated: a thread that ends leaves nothing
 * to free.  The coroutine core keeps the thread's own ("leader") coroutine
 * there.  The address changes when the caller's coroutine moves to another
 * thread, so never keep it across a qos_coro_switch().
 */
#define QOS_THREAD_AREA_BYTES 256
void *qos_thread_area(void);

/* ---- coroutine stacks and switches ------------------------------------- */

/*
 * A QosCoro is somewhere a thread can run: a coroutine's own stack, or the
 * thread's own stack (qos_coro_thread()).  The host backend switches with a
 * few instructions per architecture (x86-64), or with ucontext elsewhere;
 * the simulator with its thread switch, and every switch there is a
 * scheduling point.  Sanitizers are told of every stack change here.
 */
typedef struct QosCoro QosCoro;

/* A coroutine context with a stack of stack_bytes (a guard page below it),
 * which starts in entry() on its first switch; entry never returns.  NULL
 * when the stack cannot be had. */
QosCoro *qos_coro_new(size_t stack_bytes, void (*entry)(void));
void qos_coro_free(QosCoro *coro);
/* The calling thread's own stack as a switch target (never freed). */
QosCoro *qos_coro_thread(void);
/*
 * Save the running context in from and continue in to (both on the calling
 * thread).  Returns when something switches back to from — possibly on
 * another thread.  last: from is finished and will never be resumed.
 */
void qos_coro_switch(QosCoro *from, QosCoro *to, bool last);

/* ---- diagnostics ------------------------------------------------------- */

/*
 * A broken invariant: print where, what and (in simulation) how to replay,
 * then abort.  Never returns.
 */
G_NORETURN void qos_panic(const char *file, int line, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

#endif
