/*
 * bench/bench-common.h — what the four benchmark programs share: the clock,
 * the PRNG, the repetition harness, statistics and the output format.
 *
 * Method: every benchmark is a function that runs one measurement window
 * and returns one number.  bench_median_of() runs it once to warm up
 * (caches, page faults, lazily-grown arrays), then cfg->reps times, and
 * returns the median.  Results are printed one per line as
 * "<metric> <library> <value>" so bench/run.sh can build its tables with
 * awk; lines starting with '#' are comments for humans.
 *
 * The benchmarks read the host clock (CLOCK_MONOTONIC) directly: they
 * measure the library, they are not part of it.
 */
#ifndef QLOOP_BENCH_COMMON_H
#define QLOOP_BENCH_COMMON_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* The four benchmarks, selectable on the command line by these names. */
#define BENCH_NAMES "bh timer wake fd"

/* Timer churn: this many live timers, re-armed at random. */
#define BENCH_TIMER_COUNT 1000
/* Timers expire between 1 hour and 1 hour + 2^30 ns from setup: never
 * during the run, and spread so that a re-arm rarely makes a new head. */
#define BENCH_TIMER_FAR_NS (3600LL * 1000000000LL)
#define BENCH_TIMER_SPREAD_MASK ((UINT64_C(1) << 30) - 1)

/* Fd scaling: idle fd counts, each run with one extra, always-readable fd. */
#define BENCH_FD_SIZES_COUNT 4
extern const int bench_fd_sizes[BENCH_FD_SIZES_COUNT];

/* Time-window loops read the clock after a batch of operations; the batch
 * doubles from 1 while a batch takes under 1/64 of the window, up to this. */
#define BENCH_BATCH_MAX 256

/* PRNG seed: fixed so every library re-arms the same timers the same way. */
#define BENCH_SEED UINT64_C(0x9e3779b97f4a7c15)

typedef struct BenchConfig {
    int reps;                   /* measured repetitions, median reported */
    int64_t window_ns;          /* length of one measured repetition */
    int64_t warmup_ns;          /* length of the unmeasured first run */
    int wake_reps;              /* wake-up repetitions, median reported */
    int wake_trips;             /* round trips per wake-up repetition */
    int wake_warmup_trips;      /* unmeasured round trips before those */
    bool selected[4];           /* indexed like BENCH_NAMES */
} BenchConfig;

enum { BENCH_BH, BENCH_TIMER, BENCH_WAKE, BENCH_FD };

/*
 * Parse "[-q] [--wake-reps=N] [bh|timer|wake|fd]...": -q (or BENCH_QUICK=1
 * in the environment) shortens every window ~10x for smoke tests; no names
 * means all benchmarks.  Exits with usage on a bad argument.
 */
void bench_parse_args(BenchConfig *cfg, int argc, char **argv);

static inline int64_t bench_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* xorshift64 (Marsaglia): state must be non-zero. */
static inline uint64_t bench_xorshift64(uint64_t *state)
{
    uint64_t x = *state;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    return x;
}

/* Uniform in [0, n) without a division (Lemire's multiply-shift): a 64-bit
 * div costs tens of ns on older cores, more than some of what we measure. */
static inline uint32_t bench_below(uint64_t random, uint32_t n)
{
    return (uint32_t)(((random >> 32) * (uint64_t)n) >> 32);
}

/*
 * A measurement window:
 *     BenchWindow win;
 *     bench_window_start(&win, window_ns);
 *     do {
 *         for (uint64_t i = 0; i < win.batch; i++) { one operation }
 *     } while (bench_window_continue(&win));
 *     return bench_window_ns_per_op(&win);
 * The clock is read once per batch, so cheap operations (a BH, a timer
 * re-arm) are not dominated by clock_gettime, and slow ones (glib with
 * 10 000 fds, ~1 ms each) do not overrun the window by a whole batch.
 */
typedef struct BenchWindow {
    int64_t start_ns;
    int64_t last_ns;            /* end of the previous batch */
    int64_t window_ns;
    uint64_t batch;             /* operations in the next batch */
    uint64_t ops;               /* operations done so far */
} BenchWindow;

static inline void bench_window_start(BenchWindow *w, int64_t window_ns)
{
    w->start_ns = w->last_ns = bench_now_ns();
    w->window_ns = window_ns;
    w->batch = 1;
    w->ops = 0;
}

/* Call after each batch: false once the window is over. */
static inline bool bench_window_continue(BenchWindow *w)
{
    int64_t now_ns = bench_now_ns();

    w->ops += w->batch;
    if (now_ns - w->start_ns >= w->window_ns) {
        w->last_ns = now_ns;
        return false;
    }
    if (w->batch < BENCH_BATCH_MAX && (now_ns - w->last_ns) * 64 < w->window_ns) {
        w->batch *= 2;
    }
    w->last_ns = now_ns;
    return true;
}

static inline double bench_window_ns_per_op(const BenchWindow *w)
{
    return (double)(w->last_ns - w->start_ns) / (double)w->ops;
}

static inline double bench_window_ops_per_s(const BenchWindow *w)
{
    return (double)w->ops * 1e9 / (double)(w->last_ns - w->start_ns);
}

/* One measurement: runs for about window_ns, returns the metric. */
typedef double BenchOnceFn(void *opaque, int64_t window_ns);

/* Warm up once, then run cfg->reps windows; the median of those. */
double bench_median_of(const BenchConfig *cfg, BenchOnceFn *once,
                       void *opaque);

/* Sorts v in place.  p in [0, 100]: nearest-rank percentile. */
double bench_percentile(double *v, int n, double p);

/* "<metric> <lib> <value>"; flushed so a later crash keeps the line. */
void bench_report(const char *metric, const char *lib, double value);
void bench_report_text(const char *metric, const char *lib, const char *text);

/* Raise the soft RLIMIT_NOFILE to at least fds_needed; aborts with a
 * message if the hard limit is lower. */
void bench_raise_nofile(long fds_needed);

/* A non-blocking, close-on-exec eventfd with the given counter; aborts on
 * failure (the benchmark cannot continue without it). */
int bench_eventfd(unsigned initval);

/* Exit with a message: an error the benchmark cannot survive.  The _errno
 * form appends strerror(errno). */
void bench_die(const char *what) __attribute__((noreturn));
void bench_die_errno(const char *what) __attribute__((noreturn));

/*
 * Cross-thread wake-up.  On a VM an idle vCPU halts, and waking a thread
 * on the other vCPU costs a hypervisor round trip (~60 us here) that no
 * library can avoid; on one CPU the same wake-up is a context switch
 * (~2 us).  So each library is measured in both placements, with the
 * requester (main thread) and the server thread pinned.  bench-floor
 * measures the bare eventfd ping-pong in the same placements.
 */
typedef struct BenchWakeMode {
    const char *name;           /* metric infix: wake_<name>_median_us */
    int requester_cpu;
    int server_cpu;
} BenchWakeMode;

/* The modes this machine can run (cross_cpu needs two CPUs). */
int bench_wake_modes(const BenchWakeMode **modes);

/* Pin the calling thread to cpu, or to every CPU when cpu < 0. */
void bench_pin_self(int cpu);

/*
 * Pins the calling (requester) thread, runs the warm-up and cfg->wake_reps
 * repetitions of cfg->wake_trips round trips, reports the median over
 * repetitions of each one's median and p99 in us, and unpins.  The server
 * thread must pin itself to mode->server_cpu.
 */
void bench_wake_run(const BenchConfig *cfg, const char *lib,
                    const BenchWakeMode *mode,
                    void (*round_trip)(void *opaque), void *opaque);

#endif
