/*
 * harness/model.h — the reference model: semantics.md as a program.
 *
 * The model reads a run's trace event by event and checks each one against
 * what semantics.md says must happen next, keeping its own state in plain
 * arrays — it shares no code or data structure with the loop core.  Events
 * are reported by the core at their linearization points (loop/os.h), so
 * the model sees concurrent effects in the order they took place.
 *
 * It checks: BHs are taken newest-first by first enqueue, slice by slice
 * (nested polls finish outer slices first); a double schedule is merged; a
 * cancelled or deleted BH never runs, a taken-and-runnable one runs once
 * and before its poll does anything else; nothing is touched after it was
 * freed; timers fire in (expiry, arm order) order — negative requests at
 * the head, LIFO — never before their deadline, and every timer due at a
 * pass's snapshot fires in that pass; no timer is late when time jumps
 * because every thread waits; ready fd handlers run in registration order
 * and a handler removed by the dispatching thread is never called again;
 * each aio_poll()'s progress result is what happened inside it; a
 * blocking wait does not keep returning with nothing done while nothing
 * could have woken it (spin); signal handlers run once per pending signal,
 * lowest number first, only from main_loop_wait(), and none is lost.
 */
#ifndef QLOOP_HARNESS_MODEL_H
#define QLOOP_HARNESS_MODEL_H

#include "sim.h"

typedef struct Model Model;

Model *model_new(void);
void model_free(Model *m);
/* Name a timer in messages; key as in its TIMER_ARM events (loop/os.h). */
void model_name_timer(Model *m, int64_t key, const char *name);
/* Check one event.  Returns NULL, or a one-paragraph violation story. */
const char *model_event(Model *m, const SimEvent *ev);
/*
 * After a hang: describe work the model knows is due — a BH scheduled and
 * pending, a timer armed — into buf and return true.  A hang with due work
 * is a lost wake-up (the core's fault); without, the scenario waited for
 * something nobody would do.
 */
bool model_pending_work(Model *m, char *buf, size_t len);
/*
 * aio_poll(ctx) begins / returned progress in thread: checks the result
 * against what the model saw happen inside the call (and not inside calls
 * nested in it).  model_poll_end returns NULL or a violation story.
 */
void model_poll_begin(Model *m, uint32_t thread, int64_t ctx_key);
const char *model_poll_end(Model *m, bool progress);
/* A main_loop_wait() (no result to check): what runs inside it is not the
 * progress of an aio_poll() it is nested in. */
void model_wait_begin(Model *m, uint32_t thread);
void model_wait_end(Model *m);

/*
 * The spin oracle: a blocking wait (aio_poll(ctx, true), main_loop_wait
 * (false)) begins / ended.  A wake-up is wasted when the wait did nothing
 * (no progress, no callback but a notifier's) and nothing that could have
 * woken it happened since the two waits before it began: no aio_notify, BH
 * scheduled, timer armed, fd raised, signal, clock jump, injected fault,
 * and no timer due (within the GSource path's rounding).  excused: the
 * caller knows of a cause the trace does not show (a scenario fd readable
 * with a handler; waits cut short).  model_spin_end returns a violation
 * story once limit wake-ups in a row were wasted, else NULL.
 */
void model_spin_begin(Model *m, uint32_t thread);
const char *model_spin_end(Model *m, const char *what, bool progress,
                           bool excused, unsigned limit);
/* The longest run of wasted wake-ups seen (for reports and tests). */
unsigned model_spin_max(const Model *m);

/*
 * Signals (raised: the simulator's "signal" events).  model_signal_handler:
 * the process's handler for signo runs, in thread; loop_thread is the main
 * loop's, in_main_loop_wait whether the innermost wait running there is
 * main_loop_wait() (not an aio_poll() nested in it).  NULL or a violation
 * story.  model_signal_lost: after the last main_loop_wait(), a signal
 * raised with no handler call after it — into buf, true.
 */
const char *model_signal_handler(Model *m, int signo, uint32_t thread,
                                 uint32_t loop_thread, bool in_main_loop_wait);
bool model_signal_lost(Model *m, char *buf, size_t len);
/* A main_loop_wait(): like model_wait_begin (ended by model_wait_end),
 * and the one wait in which main-loop timers are due. */
void model_main_loop_wait_begin(Model *m, uint32_t thread);

/*
 * qemu_clock_enable(clock, enabled) begins / returned.  Between the two
 * the clock's state is unknown; after a disable returns none of its
 * timers may fire, and while it is disabled its timers are not due (no
 * late-timer or lost-wake-up verdict for them).  model_clock_enabled: 1,
 * 0, or -1 (unknown).
 */
void model_clock_enable_begin(Model *m, int clock);
void model_clock_enable_end(Model *m, int clock, bool enabled);
int model_clock_enabled(const Model *m, int clock);
/* qemu_clock_enable() calls begun on the clock so far: a query that saw
 * the same count and a definite state before and after it ran while the
 * state held. */
uint64_t model_clock_calls(const Model *m, int clock);

/* The model's view of a timer (key as in its events): armed, and when;
 * and of its list: the expiry of the timer that fires first. */
bool model_timer_armed(Model *m, int64_t key, int64_t *expire_ns);
bool model_list_first(Model *m, int64_t key, int64_t *expire_ns);

/* Hash of what ran, in order (BH runs, timer firings, handler calls):
 * two schedules with the same outcome hash ran the same callbacks. */
uint64_t model_outcome_hash(const Model *m);

/* Counters for reports. */
uint64_t model_bh_runs(const Model *m);
uint64_t model_timer_fires(const Model *m);
uint64_t model_fd_calls(const Model *m);

#endif
