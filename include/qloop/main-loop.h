/*
 * qloop/main-loop.h — the main loop: glib's default GMainContext driving the
 * main AioContext ("aio-context") and iohandler_ctx ("io-handler"), main-loop
 * timers (main_loop_tlg), and signals through a signalfd.
 */
#ifndef QLOOP_MAIN_LOOP_H
#define QLOOP_MAIN_LOOP_H

#include "qloop/aio.h"

#ifdef __cplusplus
extern "C" {
#endif

int qemu_init_main_loop(Error **errp);
/* Set up by qemu_init_main_loop(); true once it succeeded. */
bool qemu_main_loop_initialized(void);
void main_loop_wait(int nonblocking);
AioContext *qemu_get_aio_context(void);
AioContext *iohandler_get_aio_context(void);
GSource *iohandler_get_g_source(void);
void qemu_notify_event(void);
/* poll() on fds for up to timeout ns (-1: forever, 0: just look) through
 * the OS seam: the number of fds with revents, 0 on timeout, -errno. */
int qemu_poll_ns(GPollFD *fds, guint nfds, int64_t timeout);
QEMUBH *qemu_bh_new_full(QEMUBHFunc *cb, void *opaque, const char *name,
                         MemReentrancyGuard *reentrancy_guard);
#define qemu_bh_new(cb, opaque) \
    qemu_bh_new_full((cb), (opaque), (stringify(cb)), NULL)
#define qemu_bh_new_guarded(cb, opaque, guard) \
    qemu_bh_new_full((cb), (opaque), (stringify(cb)), guard)
void qemu_set_fd_handler(int fd, IOHandler *fd_read, IOHandler *fd_write,
                         void *opaque);
void event_notifier_set_handler(EventNotifier *e,
                                EventNotifierHandler *handler);

/*
 * qloop extension: take the main loop down so qemu_init_main_loop() can
 * run again (the simulator runs many worlds in one process).  Orderly:
 * detach, drain and free everything.  Abandon: detach the sources from
 * glib's default context and forget them without touching their state —
 * for a run that ended mid-flight, whose objects may be inconsistent.
 */
void qloop_main_loop_teardown(bool abandon);

#ifdef __cplusplus
}
#endif

#endif
