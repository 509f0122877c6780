/*
 * sim/world.h — the simulator's shared state (private to sim/).
 *
 * One world at a time, on one host thread.  Simulated threads are
 * coroutines; `current` is the one running.  Everything that could differ
 * between two runs with the same tape — thread order, fd readiness order,
 * time — lives here and is decided through the tape.
 */
#ifndef QLOOP_SIM_WORLD_H
#define QLOOP_SIM_WORLD_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "sim.h"
#include "../loop/os.h"

typedef enum {
    SIM_THREAD_RUNNABLE,
    SIM_THREAD_BLOCKED,
    SIM_THREAD_FINISHED,
} SimThreadState;

typedef enum {
    SIM_WAIT_NONE,
    SIM_WAIT_POLL,
    SIM_WAIT_MUTEX,
    SIM_WAIT_COND,
    SIM_WAIT_JOIN,
} SimWaitKind;

/* Simulated threads per world: scenario threads plus up to 64 thread-pool
 * workers fit; the scheduler's candidate arrays are this big. */
#define SIM_THREADS_MAX 128

/* A place a simulated thread can run (loop/os.h's coroutine seam): a
 * coroutine's stack, or the thread's own (stack NULL). */
struct QosCoro {
    void *sp;                   /* saved stack pointer while switched out */
    void *stack;                /* sim_stack_alloc(); NULL: the thread's */
    size_t stack_size;
    void (*entry)(void);
};

typedef struct SimThread SimThread;
struct SimThread {
    uint32_t id;                /* 1 = main */
    char name[32];
    SimThreadState state;
    void *sp;                   /* saved stack pointer while switched out */
    void *stack;                /* sim_stack_alloc(), NULL: host stack */
    size_t stack_size;
    void *(*fn)(void *);
    void *arg;
    void *ret;
    void *asan_fake_stack;

    SimWaitKind wait;
    const void *wait_obj;       /* what it waits on (mutex, cond, poll set) */
    char wait_desc[160];        /* for the hang story (not SIM_WAIT_POLL:
                                   sim_poll_describe() tells those) */
    int64_t deadline_ns;        /* -1: none */
    bool timed_out;

    void *tls[QOS_TLS_MAX];
    uint64_t clock_reads;       /* qos_clock_ns() calls it made */
    uint32_t pct_priority;

    /* The coroutine seam: the thread's own stack as a switch target, the
     * per-thread area, and the coroutine stack it runs on (NULL: its own),
     * which ASan must be told when the scheduler switches back to it. */
    QosCoro own_coro;
    _Alignas(16) unsigned char area[QOS_THREAD_AREA_BYTES];
    const void *run_stack;
    size_t run_stack_size;
};

/* Poll sets: what a blocked poller watches (fake fds only). */
typedef struct SimPollSet {
    const int *fds;
    unsigned count;
    const char *what;           /* "aio poll", "glib poll": the hang story */
    /* SimWorld.switches when its host fds (glib's wake-up eventfd) were
     * last polled: until a thread runs, they cannot have changed. */
    uint64_t host_checked;
} SimPollSet;

typedef struct SimFd SimFd;

typedef struct SimExternalEvent {
    int64_t at_ns;
    uint64_t seq;               /* FIFO among equal times */
    int fd;
} SimExternalEvent;

/* The choices of a run, each with its bound and its cost (DFS). */
typedef struct SimTapeLog {
    uint32_t *value;            /* the choices (sim_tape_recorded()) */
    uint32_t *n;                /* each one's bound */
    uint8_t *cost;              /* 1 if a non-zero value preempts */
    size_t len, cap;
} SimTapeLog;

typedef struct SimWorld {
    SimConfig config;
    bool implicit;              /* started on first use; thread 1 = host stack */

    /* threads */
    GPtrArray *threads;         /* SimThread *, index = id - 1 */
    SimThread *current;
    unsigned runnable;          /* threads in SIM_THREAD_RUNNABLE */
    uint64_t switches;          /* thread switches so far */
    SimThread host;             /* sim_run(): the caller's context */
    /* QosCoro * made in this world and not freed: a verdict that abandons
     * the world keeps their stacks as leak-checker roots, as it does the
     * threads' (what a suspended coroutine points at is not a leak). */
    GPtrArray *coros;
    uint64_t steps;
    bool ending;                /* verdict reached: unwinding to host */

    /* time */
    int64_t now_ns;
    int64_t host_offset_ns;

    /* tape */
    SimTapeLog log;             /* the choices made (tape.c) */
    size_t tape_pos;
    bool tape_exhausted;
    uint64_t prng[4];
    uint64_t *pct_change_steps; /* PCT: depth-1 steps, sorted */
    unsigned pct_next_change;
    uint32_t pct_low_next;

    /* fds */
    GPtrArray *fds;             /* SimFd *, index = fd - SIM_FD_BASE */
    GArray *externals;          /* SimExternalEvent, sorted */
    uint64_t external_seq;

    /* trace */
    GArray *events;             /* SimEvent */
    uint64_t event_seq;
    uint64_t hash;
    uint64_t kind_count[SIM_EV_KINDS_MAX];

    /* outcome */
    SimVerdict verdict;
    unsigned hangs_resolved;    /* on_hang said yes this many times */
    GString *story;
    /* Return addresses of the qos_panic() that ended the run, for a
     * signature by function names (harness/crash.c symbolizes them). */
    void *panic_pcs[SIM_PANIC_PCS_MAX];
    int panic_pc_count;
} SimWorld;

extern SimWorld *sim_world;

SimWorld *sim_world_start_implicit(void);
/* The world, started (implicitly) if there is none: inline, as nearly
 * every seam call asks. */
static inline SimWorld *sim_world_get(void)
{
    return G_LIKELY(sim_world) ? sim_world : sim_world_start_implicit();
}

/* sched.c */
void sim_sched_init(SimWorld *w);
void sim_sched_fini(SimWorld *w);
SimThread *sim_thread_current(void);
SimThread *sim_thread_spawn(const char *name, void *(*fn)(void *), void *arg);
/* Block the current thread (wait fields set by the caller); returns when
 * woken or timed out.  May end the run with a verdict. */
void sim_block(SimWaitKind kind, const void *obj, int64_t deadline_ns);
void sim_wake(SimThread *t);
void sim_wake_all(SimWaitKind kind, const void *obj);
unsigned sim_waiters(SimWaitKind kind, const void *obj, SimThread **out,
                     unsigned max);
G_NORETURN void sim_end_run(SimVerdict verdict, const char *fmt, ...)
    G_GNUC_PRINTF(2, 3);
void sim_thread_exit(void *ret);
void (*sim_thread_entry_for_run(void))(void);
void sim_run_enter(SimThread *main_thread);
/* A CPU-time watchdog on the calling host thread (sim/watchdog.c): once. */
void sim_watchdog_arm(void);
/* Thread stacks (mmap'd with a guard page), recycled across worlds. */
void *sim_stack_alloc(size_t size);
/* ASan builds: the stack ASan must be told for t (its coroutine's if it
 * runs one, else its own). */
void sim_thread_stack_bounds(const SimThread *t, const void **bottom,
                             size_t *size);
void sim_stack_free(void *stack, size_t size);

/* tape.c */
void sim_tape_init(SimWorld *w);
void sim_tape_fini(SimWorld *w);
uint32_t sim_tape_record(SimChoiceKind kind, uint32_t n, uint32_t value,
                         bool preemptive);
uint32_t sim_choose_sched(uint32_t *candidates, uint32_t n, bool preemptive);
bool sim_fault(SimFault fault, const char *name);
uint64_t sim_prng_next(SimWorld *w);

/* fd.c */
void sim_fd_init(SimWorld *w);
void sim_fd_fini(SimWorld *w);
unsigned sim_fd_revents(int fd, unsigned events);
void sim_fd_changed(int fd);
int sim_fd_new_eventfd(unsigned initval);
int sim_fd_new_signalfd(const sigset_t *mask);
/* Mark fd as opened by the core through the seam (sim_check_fd_leaks()). */
void sim_fd_opened_by_core(int fd);
int sim_fd_create_fault(const char *what);
bool sim_fd_is_regular(int fd);
int sim_fd_read_signal(int fd, void *info, unsigned long info_len);
int sim_eventfd_write(int fd, uint64_t value);
int sim_eventfd_read(int fd, uint64_t *value);
void sim_externals_fire_due(SimWorld *w);
int64_t sim_externals_next_ns(SimWorld *w);

/* trace.c */
void sim_trace_init(SimWorld *w);
void sim_trace_fini(SimWorld *w);
void sim_trace_record(uint32_t kind, const char *name, int64_t arg);
void sim_trace_record2(uint32_t kind, const char *name, int64_t arg,
                       int64_t arg2);

/* poller.c */
bool sim_poll_recheck_host_fds(SimWorld *w);
void sim_poll_describe(const SimThread *t, char *buf, size_t len);

/* signal.c */
void sim_signal_reset(void);

/* clock.c */
void sim_clock_set_now(int64_t now_ns);

#define SIM_ASSERT(cond) \
    do { if (G_UNLIKELY(!(cond))) \
        qos_panic(__FILE__, __LINE__, "sim assertion failed: %s", #cond); \
    } while (0)

#endif
