/*
 * sim/glib-wakeup.h — whether glib's own wake-up eventfd may be readable,
 * known without a system call.
 *
 * Each GMainContext has a host eventfd that glib writes (g_wakeup_signal)
 * and reads back in g_main_context_check.  It is the one host fd a
 * simulated poll sees, and asking the kernel about it was most of the
 * simulation's system calls (~16 poll(2)s per fuzz input, ~1.2 us each on
 * this VM).  glib writes it only inside a handful of its own calls
 * (gmain.c's callers of g_wakeup_signal: attaching and destroying sources,
 * adding and removing poll fds, ready times, priorities, dispatching a
 * source that cannot recurse, g_main_context_wakeup, ...).  Every link of
 * the simulator wraps those calls (ld --wrap, the list in
 * sim/glib-wakeup.syms), so the simulator knows when the fd *may* have
 * been written: from a wrapped call's start until a poll(2) finds it clear.
 * At every other time it is clear, and the poll(2) is skipped.
 *
 * Host fds the core registers itself (tests' pipes) are written by others
 * and always polled.  Audit: unless QLOOP_SIM_GLIB_WAKEUP_TRUST is defined
 * (the fuzz targets' flavours), the poll(2) is still made and a readable
 * fd the wrappers did not foresee stops the run with a message naming
 * this file — a glib function that signals is missing from the list, or
 * a host fd only glib's GSources watch is written by someone else.
 */
#ifndef QLOOP_SIM_GLIB_WAKEUP_H
#define QLOOP_SIM_GLIB_WAKEUP_H

#include <stdbool.h>

/* A new world: nothing known, so the next check asks the kernel. */
void sim_glib_wakeup_reset(void);

/*
 * A host fd the core registered with its fd monitor (a test's pipe or
 * socket, written by the test, not by glib): never predicted.  Glib's
 * wake-up fd is only ever in glib's own poll array.
 */
void sim_glib_wakeup_not_glibs(int fd);

/* May fd be glib's wake-up fd (a host fd not registered by the core)? */
bool sim_glib_wakeup_could_be(int fd);

/* False when no wrapped glib call ran since a poll(2) found fd clear. */
bool sim_glib_wakeup_maybe_set(int fd);

/* A poll(2) found the host fd clear (true) or readable (false). */
void sim_glib_wakeup_polled(int fd, bool clear);

/* With the audit on: whether the poll(2) must be made even when
 * sim_glib_wakeup_maybe_set() is false (it is then checked to be clear). */
bool sim_glib_wakeup_audit(void);

/* A skipped check found readable by the audit: stops the process. */
void sim_glib_wakeup_unforeseen(int fd) __attribute__((noreturn));

#endif
