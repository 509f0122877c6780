/*
 * qloop/timer.h — QEMU's clocks, timer lists and timers.
 *
 * Four clock types, one timer list per clock type per timer-list group; an
 * AioContext owns a group (ctx->tlg) and the main loop owns another.  Time
 * is int64_t nanoseconds everywhere; -1 means "no deadline / not pending".
 *
 * A timer list is a binary min-heap keyed by (expire_time, arm sequence),
 * so a re-arm costs O(log n) while keeping QEMU's order exactly: equal
 * expiries fire in the order they were armed (FIFO on ties).
 */
#ifndef QLOOP_TIMER_H
#define QLOOP_TIMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SCALE_MS 1000000
#define SCALE_US 1000
#define SCALE_NS 1

typedef enum {
    QEMU_CLOCK_REALTIME = 0,
    QEMU_CLOCK_VIRTUAL = 1,
    QEMU_CLOCK_HOST = 2,
    QEMU_CLOCK_VIRTUAL_RT = 3,
    QEMU_CLOCK_MAX
} QEMUClockType;

/* Timer attributes (QEMU's names); qloop stores them for callers. */
#define QEMU_TIMER_ATTR_EXTERNAL ((int)(1 << 0))
#define QEMU_TIMER_ATTR_ALL      0xffffffff

typedef struct QEMUTimerList QEMUTimerList;
typedef void QEMUTimerCB(void *opaque);
typedef void QEMUTimerListNotifyCB(void *opaque, QEMUClockType type);

typedef struct QEMUTimerListGroup {
    QEMUTimerList *tl[QEMU_CLOCK_MAX];
} QEMUTimerListGroup;

typedef struct QEMUTimer {
    int64_t expire_time;        /* in nanoseconds; -1 when not pending */
    QEMUTimerList *timer_list;
    QEMUTimerCB *cb;
    void *opaque;
    int scale;
    int attributes;
    /* Private to qloop: heap slot (-1 when not pending) and arm order. */
    int32_t heap_index;
    int64_t arm_seq;            /* ties: lower first; < 0 for a negative
                                   request (head of list, LIFO) */
    uint32_t id;                /* per timer list, for traces */
} QEMUTimer;

extern QEMUTimerListGroup main_loop_tlg;

/* Clocks */
int64_t qemu_clock_get_ns(QEMUClockType type);
static inline int64_t qemu_clock_get_us(QEMUClockType type)
{
    return qemu_clock_get_ns(type) / SCALE_US;
}
static inline int64_t qemu_clock_get_ms(QEMUClockType type)
{
    return qemu_clock_get_ns(type) / SCALE_MS;
}
int64_t get_clock(void);        /* QEMU_CLOCK_REALTIME in ns */
int64_t get_clock_realtime(void); /* QEMU_CLOCK_HOST in ns */

bool qemu_clock_expired(QEMUClockType type);
bool qemu_clock_run_timers(QEMUClockType type);
bool qemu_clock_run_all_timers(void);
void init_clocks(QEMUTimerListNotifyCB *notify_cb);
/* The same as init_clocks() under the qemu_ prefix QEMU uses elsewhere. */
static inline void qemu_init_clocks(QEMUTimerListNotifyCB *notify_cb)
{
    init_clocks(notify_cb);
}
/* Notify every timer list of the clock (each context's and the main
 * loop's): their waiters recompute their timeouts. */
void qemu_clock_notify(QEMUClockType type);
/* Whether the main loop's list of the clock has a pending timer. */
bool qemu_clock_has_timers(QEMUClockType type);
/* Soonest deadline (ns from now, 0 if due) over every list of the clock,
 * counting timers whose attributes are all in attr_mask; -1: none or the
 * clock is disabled. */
int64_t qemu_clock_deadline_ns_all(QEMUClockType type, int attr_mask);
/* A disabled clock's timers do not run and set no deadline; disabling
 * waits until no timer of the clock runs (never call it from a timer
 * callback of that clock), enabling wakes the waiters.  All start enabled. */
void qemu_clock_enable(QEMUClockType type, bool enabled);
/* qloop: forget every timer list and enable every clock — for a harness
 * whose simulated world was abandoned with its timer lists in it. */
void qloop_clocks_forget(void);

/* Timer lists */
QEMUTimerList *timerlist_new(QEMUClockType type, QEMUTimerListNotifyCB *cb,
                             void *opaque);
void timerlist_free(QEMUTimerList *timer_list);
bool timerlist_has_timers(QEMUTimerList *timer_list);
bool timerlist_expired(QEMUTimerList *timer_list);
int64_t timerlist_deadline_ns(QEMUTimerList *timer_list);
QEMUClockType timerlist_get_clock(QEMUTimerList *timer_list);
bool timerlist_run_timers(QEMUTimerList *timer_list);
void timerlist_notify(QEMUTimerList *timer_list);

void timerlistgroup_init(QEMUTimerListGroup *tlg, QEMUTimerListNotifyCB *cb,
                         void *opaque);
void timerlistgroup_deinit(QEMUTimerListGroup *tlg);
bool timerlistgroup_run_timers(QEMUTimerListGroup *tlg);
int64_t timerlistgroup_deadline_ns(QEMUTimerListGroup *tlg);

/* Timers */
void timer_init_full(QEMUTimer *ts, QEMUTimerListGroup *timer_list_group,
                     QEMUClockType type, int scale, int attributes,
                     QEMUTimerCB *cb, void *opaque);
static inline void timer_init(QEMUTimer *ts, QEMUClockType type, int scale,
                              QEMUTimerCB *cb, void *opaque)
{
    timer_init_full(ts, NULL, type, scale, 0, cb, opaque);
}
static inline void timer_init_ns(QEMUTimer *ts, QEMUClockType type,
                                 QEMUTimerCB *cb, void *opaque)
{
    timer_init(ts, type, SCALE_NS, cb, opaque);
}
static inline void timer_init_us(QEMUTimer *ts, QEMUClockType type,
                                 QEMUTimerCB *cb, void *opaque)
{
    timer_init(ts, type, SCALE_US, cb, opaque);
}
static inline void timer_init_ms(QEMUTimer *ts, QEMUClockType type,
                                 QEMUTimerCB *cb, void *opaque)
{
    timer_init(ts, type, SCALE_MS, cb, opaque);
}

QEMUTimer *timer_new_full(QEMUTimerListGroup *timer_list_group,
                          QEMUClockType type, int scale, int attributes,
                          QEMUTimerCB *cb, void *opaque);
static inline QEMUTimer *timer_new(QEMUClockType type, int scale,
                                   QEMUTimerCB *cb, void *opaque)
{
    return timer_new_full(NULL, type, scale, 0, cb, opaque);
}
static inline QEMUTimer *timer_new_ns(QEMUClockType type, QEMUTimerCB *cb,
                                      void *opaque)
{
    return timer_new(type, SCALE_NS, cb, opaque);
}
static inline QEMUTimer *timer_new_us(QEMUClockType type, QEMUTimerCB *cb,
                                      void *opaque)
{
    return timer_new(type, SCALE_US, cb, opaque);
}
static inline QEMUTimer *timer_new_ms(QEMUClockType type, QEMUTimerCB *cb,
                                      void *opaque)
{
    return timer_new(type, SCALE_MS, cb, opaque);
}

void timer_deinit(QEMUTimer *ts);
void timer_free(QEMUTimer *ts);
void timer_del(QEMUTimer *ts);
void timer_mod_ns(QEMUTimer *ts, int64_t expire_time);
void timer_mod_anticipate_ns(QEMUTimer *ts, int64_t expire_time);
void timer_mod(QEMUTimer *ts, int64_t expire_timer);
void timer_mod_anticipate(QEMUTimer *ts, int64_t expire_time);
bool timer_pending(QEMUTimer *ts);
/* expire_time <= current_time (scaled): true for an unarmed timer, whose
 * stored expiry is -1, as QEMU answers. */
bool timer_expired(QEMUTimer *timer_head, int64_t current_time);
uint64_t timer_expire_time_ns(QEMUTimer *ts);

/* Timeouts: -1 is infinity, so the minimum is taken unsigned. */
static inline int64_t qemu_soonest_timeout(int64_t timeout1, int64_t timeout2)
{
    return ((uint64_t)timeout1 < (uint64_t)timeout2) ? timeout1 : timeout2;
}
/* ns -> ms for glib, rounded up so a poll never returns before a deadline. */
int qemu_timeout_ns_to_ms(int64_t ns);

#ifdef __cplusplus
}
#endif

#endif
