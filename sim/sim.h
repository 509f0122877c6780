/*
 * sim/sim.h — the simulated OS: what tests and the harness drive.
 *
 * The loop core, unchanged, runs on this backend (libqloop-sim.a): time is
 * virtual, fds are fake, threads are coroutines on one host thread, and
 * every nondeterministic decision — which thread runs next, which ready fd
 * is reported first, whether a fault fires — is drawn from one choice tape
 * through sim_choose().  A run is a pure function of its configuration and
 * its tape: replaying the recorded tape replays the run bit for bit.
 *
 * The calling host thread is simulated thread 1 ("main").  The world starts
 * on first use with the defaults (PRNG seed from $QLOOP_SIM_SEED, else 1);
 * sim_reset() starts a fresh one.
 */
#ifndef QLOOP_SIM_H
#define QLOOP_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <glib.h>

#ifdef __cplusplus
extern "C" {
#endif

struct SimEvent;

/* ---- the choice tape ------------------------------------------------------ */

typedef enum {
    SIM_TAPE_RANDOM,    /* PRNG random walk from a seed */
    SIM_TAPE_PCT,       /* PCT: random priorities + depth-1 change points */
    SIM_TAPE_REPLAY,    /* a recorded list of choices */
    SIM_TAPE_BYTES,     /* raw bytes (fuzzer input) */
    SIM_TAPE_DFS,       /* depth-first enumeration (see sim_dfs_*) */
} SimTapeKind;

/* What a choice decides; recorded with each choice. */
typedef enum {
    SIM_CHOICE_SCHED,   /* which runnable thread runs next (0 = current) */
    SIM_CHOICE_READY,   /* order of ready fds reported by a poll */
    SIM_CHOICE_WAKE,    /* which waiter a condvar signal wakes */
    SIM_CHOICE_FAULT,   /* 0 = no fault, 1 = inject */
    SIM_CHOICE_VALUE,   /* a value asked for by the scenario */
    SIM_CHOICE_MEMORY,  /* weak memory: how long a store stays buffered */
    SIM_CHOICE_KIND_MAX
} SimChoiceKind;

/*
 * Fault points; each can be switched on per run.  Where each fires and the
 * outcome the core promises: docs/simulation.md, "Fault points".
 */
typedef enum {
    SIM_FAULT_SPURIOUS_WAKEUP = 1 << 0, /* poll returns 0 with nothing ready */
    SIM_FAULT_EINTR           = 1 << 1, /* poll interrupted (returns 0) */
    SIM_FAULT_EARLY_RETURN    = 1 << 2, /* blocking poll returns before timeout */
    SIM_FAULT_EVENTFD_EAGAIN  = 1 << 3, /* eventfd write fails with EAGAIN */
    SIM_FAULT_HOST_CLOCK_JUMP = 1 << 4, /* QEMU_CLOCK_HOST jumps */
    /* The seam's error paths.  WATCH_REFUSED also starts every poller in
     * its epoll-like mode, where regular files are refused with EPERM. */
    SIM_FAULT_WATCH_REFUSED   = 1 << 5, /* poller add/modify: ENOMEM/ENOSPC */
    SIM_FAULT_FD_CREATE       = 1 << 6, /* eventfd/signalfd open: EMFILE/ENFILE */
    SIM_FAULT_READ_FAIL       = 1 << 7, /* eventfd/signalfd read EIO, read EINTR */
    SIM_FAULT_SHORT_READ      = 1 << 8, /* pipe/socket read returns fewer bytes */
    /*
     * The faults every consumer models today: "faults all" in a scenario,
     * and what swarm mode picks from unless told otherwise.  The seam
     * faults are kept out until the runner and the reference model know
     * their outcomes (a context that cannot be created, a read that
     * leaves its fd ready); changing this mask would also change which
     * faults every recorded swarm seed runs with.
     */
    SIM_FAULT_ALL             = (1 << 5) - 1,
    SIM_FAULT_SEAM            = ((1 << 9) - 1) & ~((1 << 5) - 1),
    SIM_FAULT_EVERY           = (1 << 9) - 1,
} SimFault;

/*
 * Memory models for the core's atomics (sim/wmm.c; docs/simulation.md,
 * "Weak memory").  SC: every access goes to memory at once (the default).
 * TSO: x86-TSO, one FIFO store buffer per thread.  PSO: the buffer drains
 * out of order across locations unless smp_wmb() or a release store orders
 * them.  C11: per-location store histories (sim/c11.c); a relaxed or
 * acquire load may read any store happens-before does not hide.
 */
typedef enum {
    SIM_MEMORY_SC,
    SIM_MEMORY_TSO,
    SIM_MEMORY_PSO,
    SIM_MEMORY_C11,
    SIM_MEMORY_MAX
} SimMemoryModel;

/* "sc", "tso", "pso", "c11"; parse: true and *model set if name is one. */
const char *sim_memory_name(SimMemoryModel model);
bool sim_memory_parse(const char *name, SimMemoryModel *model);
/* The default for SimConfig.memory: $QLOOP_SIM_MEMORY (read once; `qloop
 * fuzz --memory` sets it for its fuzz targets), else sc. */
SimMemoryModel sim_memory_default(void);
/* The memory model of the current (or last) run. */
SimMemoryModel sim_memory_model(void);
/*
 * A point of the running thread in happens-before, for oracles that judge
 * "after" as the memory model does.  Under c11 it is the thread's own clock
 * component (every store it made so far is at or below it; later ones are
 * above); under sc, tso and pso execution order is the order, and a stamp
 * always happened before.
 */
typedef struct {
    uint32_t thread;    /* 0: no thread (host, or not c11) */
    uint32_t clock;
} SimMemStamp;
SimMemStamp sim_mem_stamp(void);
/* Does the stamped point happen-before the running thread's present? */
bool sim_mem_stamp_happened_before(SimMemStamp stamp);

typedef struct SimConfig {
    SimTapeKind tape;
    uint64_t seed;              /* RANDOM, PCT */
    unsigned pct_depth;         /* PCT: d (>= 1) */
    unsigned pct_steps;         /* PCT: expected scheduling steps (k) */
    const uint32_t *replay;     /* REPLAY: the choices */
    size_t replay_len;
    const uint8_t *bytes;       /* BYTES: the input */
    size_t bytes_len;
    unsigned faults;            /* SimFault mask */
    unsigned fault_permille;    /* chance per fault point, RANDOM/PCT: 1..1000 */
    unsigned preemption_bound;  /* DFS: max preemptions per run */
    /* DFS: choices past the list, up to this many, come from the PRNG
     * seeded by seed (a randomised prefix; sim_dfs_begin_plan). */
    size_t random_prefix_len;
    uint64_t step_limit;        /* scheduling steps before a "livelock" verdict */
    bool trace;                 /* record the event trace */
    /* Keep no trace hash (sim_trace_hash() is then 0): a fuzz target needs
     * none — a finding's input replays, hash and all, in `qloop replay`. */
    bool no_hash;
    /* Keep no log of the choices drawn (sim_tape_recorded() gives none),
     * for the same reason; and once a byte tape is exhausted, when every
     * scheduling choice is "keep running", do not list the runnable
     * threads to make it. */
    bool no_choice_log;
    bool swarm;                 /* RANDOM/PCT: draw the fault mask from the seed */
    /* Virtual time each read of a monotonic clock costs (0: time moves
     * only when every thread waits).  Busy-polling loops need it to end. */
    int64_t clock_read_cost_ns;
    unsigned swarm_faults;      /* swarm: the bits it draws from (0: SIM_FAULT_ALL) */
    /*
     * Called when every thread waits and nothing can wake one (before the
     * run ends as a hang).  Returning true wakes every thread waiting in a
     * poll as if its timeout had passed, and the run goes on — the owner
     * has made sure the waits will not be repeated (a scenario that waited
     * for nothing).  At most SIM_ON_HANG_MAX times a run.
     */
    bool (*on_hang)(void *opaque);
    void *on_hang_opaque;
    /* Called with every event as it is recorded (online oracles). */
    void (*observer)(const struct SimEvent *ev, void *opaque);
    void *observer_opaque;
    /* The memory model of the core's atomics (SIM_MEMORY_SC: none weak). */
    SimMemoryModel memory;
} SimConfig;

void sim_config_default(SimConfig *config);
#define SIM_ON_HANG_MAX 64

/* Start a fresh world (frees the old one; its threads are discarded). */
void sim_reset(const SimConfig *config);

/* Draw one choice in [0, n).  n == 1 consumes nothing from the tape. */
uint32_t sim_choose(SimChoiceKind kind, uint32_t n);

/* The fault mask in force (after swarm selection). */
unsigned sim_fault_mask(void);

/* The choices made so far in this run (for a replay file). */
const uint32_t *sim_tape_recorded(size_t *len);
/* True once a REPLAY/BYTES tape ran out (later choices were 0). */
bool sim_tape_exhausted(void);

/* ---- depth-first exploration --------------------------------------------- */

/*
 * Bounded exhaustive search:
 *     sim_dfs_begin(&config);
 *     while (sim_dfs_next_run(&run_config))
 *         sim_run(&run_config, body, arg);
 * Each run follows a new prefix of choices (0 past it); the next prefix is
 * derived from the choices the previous run recorded, within
 * config.preemption_bound.  Returns false once the space is exhausted.
 */
void sim_dfs_begin(const SimConfig *config);
bool sim_dfs_next_run(SimConfig *run_config);
uint64_t sim_dfs_runs(void);

/*
 * Plans that reach the front of long scenarios (sim/tape.c says why plain
 * depth-first search does not):
 *   SIM_DFS_PLAIN          one search within bound_max (sim_dfs_begin);
 *   SIM_DFS_ITERATIVE      bound 0, 1, ... bound_max, each exhausted first;
 *   SIM_DFS_RANDOM_PREFIX  rounds: a random prefix (length and choices
 *                          from seed and round), then at most tail_runs
 *                          schedules enumerated past it within bound_max;
 *                          never exhausted;
 *   SIM_DFS_MIXED          ITERATIVE and RANDOM_PREFIX alternately, one
 *                          schedule each; done when ITERATIVE is.
 */
typedef enum {
    SIM_DFS_PLAIN,
    SIM_DFS_ITERATIVE,
    SIM_DFS_RANDOM_PREFIX,
    SIM_DFS_MIXED,
} SimDfsMode;

/*
 * Weak choices (a store buffered, a load reading an older store: the
 * SIM_CHOICE_MEMORY values other than 0) are bounded either with the
 * preemptions (SHARED: each costs one unit of bound_max, the zero value of
 * a plan) or apart (SEPARATE: at most delay_bound_max of them a schedule;
 * the iterative walk raises both bounds together, each up to its max).
 */
typedef enum {
    SIM_DELAYS_SHARED,
    SIM_DELAYS_SEPARATE,
} SimDelayBounding;

typedef struct SimDfsPlan {
    SimDfsMode mode;
    unsigned bound_max;         /* preemptions per schedule (past the prefix) */
    SimDelayBounding delays;
    unsigned delay_bound_max;   /* SEPARATE: weak choices per schedule */
    uint64_t seed;              /* RANDOM_PREFIX, MIXED: the rounds' prefixes */
    uint64_t tail_runs;         /* RANDOM_PREFIX, MIXED: schedules a round */
    size_t prefix_len_max;      /* ... grows to the longest tape seen */
} SimDfsPlan;

void sim_dfs_begin_plan(const SimConfig *config, const SimDfsPlan *plan);
/* The bound the (first) walk has reached; its delay bound (SEPARATE). */
unsigned sim_dfs_bound(void);
unsigned sim_dfs_delay_bound(void);
/* RANDOM_PREFIX, MIXED: rounds of random prefixes begun so far. */
uint64_t sim_dfs_rounds(void);

/* ---- outcomes ------------------------------------------------------------- */

typedef enum {
    SIM_OK,
    SIM_HANG,           /* nothing runnable, nothing armed, nothing queued */
    SIM_LIVELOCK,       /* step_limit scheduling steps without finishing */
    SIM_REPLAY_DIVERGED,/* a recorded choice no longer fits */
    SIM_PANIC,          /* the core's own invariant check failed */
    SIM_ORACLE,         /* an oracle (reference model, safety check) objected */
    SIM_MEMORY,         /* a memory error of a core object (sim/heap.c) */
} SimVerdict;

const char *sim_verdict_name(SimVerdict verdict);
/* An oracle found a violation: end the run with SIM_ORACLE and this story. */
G_NORETURN void sim_fail(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
/* The verdict so far, and a human story of it (which thread waits where). */
SimVerdict sim_verdict(void);
const char *sim_verdict_story(void);
/* For a panic or a memory error: the return addresses of the stack that
 * found it, innermost first (qos_panic's own frame included), or the
 * allocating call of a leak; *count 0 for other verdicts. */
#define SIM_PANIC_PCS_MAX 16
void *const *sim_panic_pcs(int *count);

/*
 * After a passing sim_run() whose body freed everything it made: a core
 * object that run allocated and never freed is a leak, which makes the
 * run's verdict SIM_MEMORY (its story names the object's kind).  Returns
 * the verdict.  Checked by sim/heap.c; under AddressSanitizer the objects
 * are ASan's and LeakSanitizer finds them (harness/crash.c): SIM_OK.
 */
SimVerdict sim_check_leaks(void);

/*
 * The same for the fds the core opened through the seam (eventfds,
 * signalfds): after a body that freed everything, one still open is a
 * leak (SIM_MEMORY) — an EventNotifier never cleaned up, or the context
 * or main loop that owned it never finalized.  Every build checks it.
 */
SimVerdict sim_check_fd_leaks(void);

/*
 * Run fn(arg) as simulated thread 1's body inside a fresh world, until it
 * returns or the run ends with a verdict (hang, livelock...).  Threads
 * still alive at the end are discarded.  Returns the verdict.
 */
SimVerdict sim_run(const SimConfig *config, void (*fn)(void *), void *arg);
/*
 * Free the last run's world now rather than at the next sim_run(), when it
 * ended well (a verdict's world holds threads stopped mid-flight and is
 * kept).  Fuzz targets call it so that each input frees what it allocated:
 * libFuzzer runs LeakSanitizer after every input whose mallocs and frees
 * differ, which costs ~20x in throughput.  The trace is gone afterwards.
 */
void sim_release(void);

/* ---- time ----------------------------------------------------------------- */

/* Replace the running world's fault mask (SimFault bits); returns the old
 * one.  For a harness's own epilogue, e.g. rounds that must not fail. */
unsigned sim_faults_set(unsigned faults);

int64_t sim_now_ns(void);
/* The monotonic-clock reads the running simulated thread made (each costs
 * config.clock_read_cost_ns of virtual time): its own busy-waiting. */
uint64_t sim_thread_clock_reads(void);
/* Virtual time the simulator never reaches (~146 years): when every thread
 * waits for a deadline at or past it, the run has hung, and a timer armed
 * there is not work that is due. */
#define SIM_END_OF_TIME_NS (INT64_MAX / 2)
/* Advance virtual time by delta (>= 0), running no thread meanwhile. */
void sim_advance_ns(int64_t delta_ns);
/* Move QEMU_CLOCK_HOST by delta (may be negative), as a wall-clock jump. */
void sim_host_clock_jump_ns(int64_t delta_ns);

/* ---- fake fds ------------------------------------------------------------- */

#define SIM_FD_BASE 1000000     /* fake fds are >= this: no host fd collides */

/* A pipe with a bounded buffer (capacity bytes).  0 or -errno. */
int sim_pipe(int fds[2], unsigned capacity);
/* A socket pair: two bounded buffers.  0 or -errno. */
int sim_socketpair(int fds[2], unsigned capacity);
/* An external fd: readable/writable only when the scenario says so. */
int sim_external_fd(const char *name);
void sim_external_set(int fd, bool readable, bool writable);
/* Queue an external event at a virtual time: the fd becomes readable. */
void sim_external_at(int fd, int64_t at_ns);
/*
 * A regular file, as poll(2) and epoll(7) see one: always readable and
 * writable (reads give EOF, writes take everything), and refused by an
 * epoll-like poller with EPERM — the watch QEMU's fdmon-epoll cannot add.
 */
int sim_regular_fd(const char *name);
/* Bytes I/O on fake fds: count or -errno (EAGAIN when it would block). */
long sim_write(int fd, const void *buf, unsigned long len);
long sim_read(int fd, void *buf, unsigned long len);
int sim_close(int fd);
bool sim_fd_is_fake(int fd);
/* Deliver a signal to the fake signalfds watching it. */
void sim_raise_signal(int signo);
/* What a read of the signalfd reports for it (sim_signal_info()): SIGBUS
 * as a kernel machine-check at SIM_SIGBUS_ADDR, others from kill(2) by
 * SIM_SIGNAL_PID / SIM_SIGNAL_UID. */
#define SIM_SIGNAL_PID 4242
#define SIM_SIGNAL_UID 1042
#define SIM_SIGBUS_ADDR UINT64_C(0x7f00dead0000)
struct signalfd_siginfo;
void sim_signal_info(int signo, struct signalfd_siginfo *si);
/*
 * True while the core runs a handler for a simulated signal (its signalfd
 * read, qos_signal_run_handler()).  A process handler called when this is
 * false got a signal from the host kernel — a fuzzer's SIGALRM timer, say —
 * which is not the scenario's.
 */
bool sim_signal_dispatching(void);
/* True if a read of fd would find data (a peek: nothing is consumed). */
bool sim_fd_readable(int fd);

/* ---- threads -------------------------------------------------------------- */

/* Simulated thread id of the caller (1 = main). */
uint32_t sim_thread_self(void);
/* An explicit scheduling point (e.g. between scenario operations). */
void sim_yield(const char *what);
/* Scheduling steps taken so far in this run. */
uint64_t sim_steps(void);

/* ---- trace ---------------------------------------------------------------- */

typedef struct SimEvent {
    uint64_t seq;
    int64_t time_ns;
    uint32_t thread;
    uint32_t kind;              /* QosEvent or SIM_EV_* */
    const char *name;           /* static or interned string; may be NULL */
    int64_t arg;
    int64_t arg2;
} SimEvent;

enum {
    SIM_EV_SWITCH = 100,        /* arg = thread switched to */
    SIM_EV_FAULT,               /* name = fault */
    SIM_EV_CLOCK,               /* arg = new virtual time */
    SIM_EV_THREAD_START,
    SIM_EV_THREAD_EXIT,
    SIM_EV_BLOCK,               /* name = what the thread waits for */
    SIM_EV_USER,                /* name = free text from the scenario */
    SIM_EV_POLLER,              /* name = "epoll" (upgrade) or "fallback" */
    /* Weak memory (sim/wmm.c): name = the access ("set &ctx->notified"),
     * arg = SIM_MEM_*, arg2 = the thread whose buffer holds the store
     * (LOAD_OWN: this one; LOAD_STALE: another thread's buffered store to
     * the same location was not yet visible) or the delay (BUFFER). */
    SIM_EV_MEMORY,
};

enum {
    SIM_MEM_BUFFER,     /* a store entered the thread's buffer */
    SIM_MEM_FLUSH,      /* a buffered store became visible */
    SIM_MEM_LOAD_OWN,   /* a load read the thread's own buffered store */
    SIM_MEM_LOAD_STALE, /* a load read memory past another's buffered store */
    /* c11: a load read an older store than the location's newest; arg2 =
     * the writer's thread id (0: the value the model found in memory) |
     * how many newer stores it passed over << 32. */
    SIM_MEM_LOAD_OLDER,
};

/*
 * Whether an event's name starts with PREFIX (sim_event_name_is: is NAME).
 * Oracles match names on every event; not through strcmp(), which the fuzz
 * targets' libFuzzer and ASan intercept to record both operands for the
 * fuzzer's table of compared values — a tenth of a fuzzer iteration for
 * names that are the simulator's own literals, never bytes of the input.
 * NULL names match nothing.
 */
static inline bool sim_event_name_has_prefix(const SimEvent *ev,
                                             const char *prefix)
{
    const char *n = ev->name;

    if (!n) {
        return false;
    }
    for (; *prefix; n++, prefix++) {
        if (*n != *prefix) {
            return false;
        }
    }
    return true;
}

static inline bool sim_event_name_is(const SimEvent *ev, const char *name)
{
    const char *n = ev->name;

    if (!n) {
        return false;
    }
    for (; *n == *name; n++, name++) {
        if (!*n) {
            return true;
        }
    }
    return false;
}

/* Record a scenario-level event. */
void sim_trace_user(const char *name, int64_t arg);
/* Whether event names end up anywhere but the online oracles (a recorded
 * trace, the hash): callers may skip formatting them when not. */
bool sim_trace_keeps_names(void);
/* The recorded events (only with config.trace). */
const SimEvent *sim_trace_events(size_t *count);
/* How many events of this kind the run recorded so far, kept with or
 * without config.trace (a kind past SIM_EV_KINDS_MAX: 0). */
#define SIM_EV_KINDS_MAX 128
uint64_t sim_trace_kind_count(uint32_t kind);
/* A hash of every event's (seq, time, thread, kind, name, arg, arg2):
 * sim/trace.c. */
uint64_t sim_trace_hash(void);
const char *sim_event_kind_name(uint32_t kind);
/* One event a line: "seq time thread kind name arg arg2". */
void sim_trace_print(FILE *out);

#ifdef __cplusplus
}
#endif

#endif
