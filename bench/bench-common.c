/*
 * bench/bench-common.c — the repetition harness, statistics, and the few
 * OS helpers (fd limit, eventfd) the four benchmark programs share.
 *
 * Method: see bench-common.h.  Nothing here knows about any event loop.
 */
#include "bench-common.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

const int bench_fd_sizes[BENCH_FD_SIZES_COUNT] = { 1, 100, 1000, 10000 };

#define BENCH_REPS_MAX 32

static void bench_usage(const char *argv0)
{
    fprintf(stderr, "usage: %s [-q] [--wake-reps=N] [%s]...\n"
            "  -q               quick: short windows, for smoke tests\n"
            "  --wake-reps=N    wake-up repetitions (default 3)\n"
            "  no names: run all four benchmarks\n", argv0, BENCH_NAMES);
    exit(2);
}

void bench_parse_args(BenchConfig *cfg, int argc, char **argv)
{
    static const char *const names[4] = { "bh", "timer", "wake", "fd" };
    const char *quick_env = getenv("BENCH_QUICK");
    bool quick = quick_env && strcmp(quick_env, "0") != 0;
    bool any = false;
    int wake_reps = 3;

    memset(cfg, 0, sizeof(*cfg));
    for (int i = 1; i < argc; i++) {
        bool known = false;

        if (strcmp(argv[i], "-q") == 0) {
            quick = true;
            continue;
        }
        if (strncmp(argv[i], "--wake-reps=", 12) == 0) {
            wake_reps = atoi(argv[i] + 12);
            if (wake_reps < 1 || wake_reps > BENCH_REPS_MAX) {
                bench_usage(argv[0]);
            }
            continue;
        }
        for (int b = 0; b < 4; b++) {
            if (strcmp(argv[i], names[b]) == 0) {
                cfg->selected[b] = true;
                known = any = true;
            }
        }
        if (!known) {
            bench_usage(argv[0]);
        }
    }
    for (int b = 0; b < 4 && !any; b++) {
        cfg->selected[b] = true;
    }
    /* Full: 5 x 200 ms windows per number, 3 x 20 000 round trips. */
    cfg->reps = quick ? 3 : 5;
    cfg->wake_reps = wake_reps;
    cfg->window_ns = quick ? 20000000 : 200000000;
    cfg->warmup_ns = quick ? 10000000 : 100000000;
    cfg->wake_trips = quick ? 2000 : 20000;
    cfg->wake_warmup_trips = quick ? 200 : 2000;
}

static int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

double bench_percentile(double *v, int n, double p)
{
    int rank;

    if (n <= 0 || p < 0 || p > 100) {
        bench_die("bench_percentile: bad arguments");
    }
    qsort(v, (size_t)n, sizeof(*v), bench_cmp_double);
    /* Nearest rank: the smallest value with at least p% at or below it. */
    rank = (int)((p / 100.0) * n + 0.999999);
    rank = rank < 1 ? 1 : rank > n ? n : rank;
    return v[rank - 1];
}

double bench_median_of(const BenchConfig *cfg, BenchOnceFn *once,
                       void *opaque)
{
    double results[BENCH_REPS_MAX];

    if (cfg->reps < 1 || cfg->reps > BENCH_REPS_MAX) {
        bench_die("bench_median_of: reps out of range");
    }
    (void)once(opaque, cfg->warmup_ns);
    for (int r = 0; r < cfg->reps; r++) {
        results[r] = once(opaque, cfg->window_ns);
    }
    return bench_percentile(results, cfg->reps, 50);
}

void bench_report(const char *metric, const char *lib, double value)
{
    printf("%s %s %.*f\n", metric, lib, value >= 1000 ? 0 : 2, value);
    fflush(stdout);
}

void bench_report_text(const char *metric, const char *lib, const char *text)
{
    printf("%s %s %s\n", metric, lib, text);
    fflush(stdout);
}

void bench_die(const char *what)
{
    fprintf(stderr, "bench: %s\n", what);
    exit(1);
}

void bench_die_errno(const char *what)
{
    fprintf(stderr, "bench: %s: %s\n", what, strerror(errno));
    exit(1);
}

void bench_raise_nofile(long fds_needed)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
        bench_die_errno("getrlimit(RLIMIT_NOFILE)");
    }
    if (rl.rlim_cur != RLIM_INFINITY && (long)rl.rlim_cur >= fds_needed) {
        return;
    }
    if (rl.rlim_max != RLIM_INFINITY && (long)rl.rlim_max < fds_needed) {
        fprintf(stderr, "bench: need %ld fds but the hard RLIMIT_NOFILE is "
                "%ld; run as root or raise it (ulimit -Hn)\n", fds_needed,
                (long)rl.rlim_max);
        exit(1);
    }
    rl.rlim_cur = (rlim_t)fds_needed;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
        bench_die_errno("setrlimit(RLIMIT_NOFILE)");
    }
}

int bench_eventfd(unsigned initval)
{
    int fd = eventfd(initval, EFD_NONBLOCK | EFD_CLOEXEC);

    if (fd < 0) {
        bench_die_errno("eventfd");
    }
    return fd;
}

static const BenchWakeMode bench_wake_mode_table[] = {
    { "same_cpu", 0, 0 },
    { "cross_cpu", 0, 1 },
};

int bench_wake_modes(const BenchWakeMode **modes)
{
    *modes = bench_wake_mode_table;
    return sysconf(_SC_NPROCESSORS_ONLN) >= 2 ? 2 : 1;
}

void bench_pin_self(int cpu)
{
    cpu_set_t set;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);

    CPU_ZERO(&set);
    for (long c = 0; c < cpus && c < CPU_SETSIZE; c++) {
        if (cpu < 0 || c == cpu) {
            CPU_SET(c, &set);
        }
    }
    errno = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
    if (errno) {
        bench_die_errno("pthread_setaffinity_np");
    }
}

typedef struct BenchWakeStats {
    double median_us;
    double p99_us;
} BenchWakeStats;

static BenchWakeStats bench_wake_rep(int trips,
                                     void (*round_trip)(void *opaque),
                                     void *opaque)
{
    BenchWakeStats stats;
    double *us = malloc(sizeof(*us) * (size_t)trips);

    if (!us || trips < 1) {
        bench_die("bench_wake_rep: allocation");
    }
    for (int i = 0; i < trips; i++) {
        int64_t start_ns = bench_now_ns();

        round_trip(opaque);
        us[i] = (double)(bench_now_ns() - start_ns) / 1000.0;
    }
    stats.median_us = bench_percentile(us, trips, 50);
    stats.p99_us = bench_percentile(us, trips, 99);
    free(us);
    return stats;
}

void bench_wake_run(const BenchConfig *cfg, const char *lib,
                    const BenchWakeMode *mode,
                    void (*round_trip)(void *opaque), void *opaque)
{
    double median_us[BENCH_REPS_MAX], p99_us[BENCH_REPS_MAX];
    char metric[64];

    if (cfg->wake_reps < 1 || cfg->wake_reps > BENCH_REPS_MAX) {
        bench_die("bench_wake_run: reps out of range");
    }
    bench_pin_self(mode->requester_cpu);
    (void)bench_wake_rep(cfg->wake_warmup_trips, round_trip, opaque);
    for (int r = 0; r < cfg->wake_reps; r++) {
        BenchWakeStats s = bench_wake_rep(cfg->wake_trips, round_trip, opaque);

        median_us[r] = s.median_us;
        p99_us[r] = s.p99_us;
    }
    bench_pin_self(-1);
    snprintf(metric, sizeof(metric), "wake_%s_median_us", mode->name);
    bench_report(metric, lib, bench_percentile(median_us, cfg->wake_reps, 50));
    snprintf(metric, sizeof(metric), "wake_%s_p99_us", mode->name);
    bench_report(metric, lib, bench_percentile(p99_us, cfg->wake_reps, 50));
}
