/*
 * qloop/event-notifier.h — EventNotifier: a counter that can wake a poll.
 *
 * Backed by an eventfd on the host (rfd == wfd) and by a simulated eventfd
 * with the same counter semantics in the simulator.
 */
#ifndef QLOOP_EVENT_NOTIFIER_H
#define QLOOP_EVENT_NOTIFIER_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct EventNotifier {
    int rfd;
    int wfd;
    bool initialized;
} EventNotifier;

typedef void EventNotifierHandler(EventNotifier *notifier);

/* Returns 0 or -errno.  With active != 0 the notifier starts set. */
int event_notifier_init(EventNotifier *e, int active);
/* Initialize from an existing fd (the notifier takes ownership). */
void event_notifier_init_fd(EventNotifier *e, int fd);
void event_notifier_cleanup(EventNotifier *e);
/* Returns 0 or -errno (a full counter reports success: it is set already). */
int event_notifier_set(EventNotifier *e);
/* Returns 1 if the notifier was set, else 0; clears it.  (An int, as in
 * QEMU, so a function-pointer or prototype taken from QEMU matches.) */
int event_notifier_test_and_clear(EventNotifier *e);
int event_notifier_get_fd(const EventNotifier *e);
int event_notifier_get_wfd(const EventNotifier *e);

#ifdef __cplusplus
}
#endif

#endif
