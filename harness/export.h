/*
 * harness/export.h — a simulated run's event trace, in formats people and
 * tools can read: JSON lines, Chrome trace-event JSON, an SVG picture.
 *
 * The exporters are pure functions of an event array: they need no running
 * simulation, keep no state between calls, and give the same bytes for the
 * same events (no floating point, no locale, no addresses in the output).
 * Names are taken as arbitrary bytes: quotes, control characters and
 * invalid UTF-8 are escaped or replaced, so the output always parses.
 *
 * Threads: event.thread 1.. is a simulated thread (1 = main); 0 means
 * outside any simulated thread (the simulator's "host" context).  A thread
 * is named by info->thread_names[id - 1] when given, else by the name its
 * thread-start/thread-exit event carries, else "thread N".  Every thread in
 * 1..info->thread_count gets a track/lane, and so does any other id that
 * appears in the events.
 */
#ifndef QLOOP_HARNESS_EXPORT_H
#define QLOOP_HARNESS_EXPORT_H

#include <stddef.h>
#include <stdio.h>

#include "sim.h"

typedef struct TraceInfo {
    const char *const *thread_names;    /* [i] names thread i + 1, or NULL */
    unsigned thread_count;              /* entries in thread_names */
    const char *title;                  /* may be NULL */
} TraceInfo;

/* More threads than this in info->thread_count is a caller bug. */
#define EXPORT_THREADS_MAX 4096
/* export_svg() draws at most this many events, and says so when it cuts. */
#define EXPORT_SVG_EVENTS_MAX 2000
/* Chrome tid of events outside any simulated thread (thread 0): Perfetto
 * reserves tid 0 for the idle task, so thread 0 is moved out of the way,
 * to a number no simulated thread reaches (as SIM_FD_BASE does for fds). */
#define EXPORT_CHROME_TID_OUTSIDE 1000000

/*
 * Each returns 0, or -errno when writing to out failed (out is flushed).
 * info may be NULL: no title, threads named from the trace.
 */

/* One JSON object a line: seq, t_ns, thread, thread_name, kind, name, arg,
 * arg2. */
int export_jsonl(FILE *out, const SimEvent *ev, size_t n,
                 const TraceInfo *info);

/* Chrome trace-event JSON ({"traceEvents":[...]}), for Perfetto or
 * chrome://tracing: a track per thread, instants for point events, slices
 * for poll-enter..poll-exit and for block..the thread's next event. */
int export_chrome(FILE *out, const SimEvent *ev, size_t n,
                  const TraceInfo *info);

/* A standalone SVG timeline: a lane per thread, x = event order, a mark per
 * event coloured by kind family, a tooltip per mark, a legend. */
int export_svg(FILE *out, const SimEvent *ev, size_t n,
               const TraceInfo *info);

#endif
