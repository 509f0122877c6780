/*
 * bench/bench-floor.c — what this machine charges before any event loop
 * runs: the floor under the wake and fd benchmarks, reported as library
 * "bare" so bench/run.sh can print it beside the four libraries.
 *
 * Method:
 *   syscall   getppid() through syscall(2): the bare kernel entry and exit.
 *   ppoll0    ppoll() on one idle eventfd with a zero timeout: what a
 *             non-blocking poll costs with the ppoll backend.
 *   wake      Two threads, each blocked in poll() on its own eventfd; the
 *             requester writes the server's, the server reads it and writes
 *             back.  Same placements (same_cpu, cross_cpu) as the libraries.
 *   fd        epoll_wait(0) on N idle eventfds plus one readable one: the
 *             most any loop could do per second with epoll, for each N.
 */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench-common.h"

#define LIB "bare"

/* ---- syscall and ppoll ---------------------------------------------------- */

static double floor_syscall_once(void *opaque, int64_t window_ns)
{
    BenchWindow win;

    (void)opaque;
    bench_window_start(&win, window_ns);
    do {
        for (uint64_t i = 0; i < win.batch; i++) {
            (void)syscall(SYS_getppid);
        }
    } while (bench_window_continue(&win));
    return bench_window_ns_per_op(&win);
}

static double floor_ppoll0_once(void *opaque, int64_t window_ns)
{
    struct pollfd pfd = { .fd = *(int *)opaque, .events = POLLIN };
    struct timespec zero = { 0, 0 };
    BenchWindow win;

    bench_window_start(&win, window_ns);
    do {
        for (uint64_t i = 0; i < win.batch; i++) {
            if (ppoll(&pfd, 1, &zero, NULL) != 0) {
                bench_die("ppoll: an idle eventfd was readable");
            }
        }
    } while (bench_window_continue(&win));
    return bench_window_ns_per_op(&win);
}

/* ---- wake ---------------------------------------------------------------- */

typedef struct FloorWake {
    int requester_fd;           /* written by the server, read by main */
    int server_fd;              /* written by main, read by the server */
    atomic_bool stop;
    int server_cpu;
} FloorWake;

static void floor_wait_and_clear(int fd)
{
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    uint64_t value;

    for (;;) {
        if (poll(&pfd, 1, -1) < 0) {
            bench_die_errno("poll");
        }
        if (read(fd, &value, sizeof(value)) == sizeof(value)) {
            return;
        }
    }
}

static void floor_signal(int fd)
{
    uint64_t one = 1;

    if (write(fd, &one, sizeof(one)) != sizeof(one)) {
        bench_die_errno("eventfd write");
    }
}

static void *floor_wake_server(void *opaque)
{
    FloorWake *w = opaque;

    bench_pin_self(w->server_cpu);
    for (;;) {
        floor_wait_and_clear(w->server_fd);
        if (atomic_load(&w->stop)) {
            return NULL;
        }
        floor_signal(w->requester_fd);
    }
}

static void floor_wake_round_trip(void *opaque)
{
    FloorWake *w = opaque;

    floor_signal(w->server_fd);
    floor_wait_and_clear(w->requester_fd);
}

static void floor_bench_wake(const BenchConfig *cfg)
{
    const BenchWakeMode *modes;
    int count = bench_wake_modes(&modes);

    for (int m = 0; m < count; m++) {
        FloorWake w = { .server_cpu = modes[m].server_cpu };
        pthread_t server;

        atomic_init(&w.stop, false);
        w.requester_fd = bench_eventfd(0);
        w.server_fd = bench_eventfd(0);
        if (pthread_create(&server, NULL, floor_wake_server, &w) != 0) {
            bench_die("pthread_create");
        }
        bench_wake_run(cfg, LIB, &modes[m], floor_wake_round_trip, &w);
        atomic_store(&w.stop, true);
        floor_signal(w.server_fd);
        pthread_join(server, NULL);
        close(w.requester_fd);
        close(w.server_fd);
    }
}

/* ---- fd ------------------------------------------------------------------ */

typedef struct FloorFd {
    int epfd;
    int active_fd;
} FloorFd;

static double floor_fd_once(void *opaque, int64_t window_ns)
{
    FloorFd *s = opaque;
    struct epoll_event events[16];
    BenchWindow win;

    bench_window_start(&win, window_ns);
    do {
        for (uint64_t i = 0; i < win.batch; i++) {
            if (epoll_wait(s->epfd, events, 16, 0) != 1 ||
                events[0].data.fd != s->active_fd) {
                bench_die("epoll_wait: expected exactly the active fd");
            }
        }
    } while (bench_window_continue(&win));
    return bench_window_ops_per_s(&win);
}

static void floor_epoll_add(int epfd, int fd)
{
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        bench_die_errno("epoll_ctl");
    }
}

static void floor_bench_fd(const BenchConfig *cfg)
{
    bench_raise_nofile(bench_fd_sizes[BENCH_FD_SIZES_COUNT - 1] + 64);
    for (int n = 0; n < BENCH_FD_SIZES_COUNT; n++) {
        int idle_count = bench_fd_sizes[n];
        int *idle_fds = malloc(sizeof(int) * (size_t)idle_count);
        FloorFd s = { .epfd = epoll_create1(EPOLL_CLOEXEC) };
        char metric[64];

        if (!idle_fds || s.epfd < 0) {
            bench_die_errno("epoll_create1");
        }
        for (int i = 0; i < idle_count; i++) {
            idle_fds[i] = bench_eventfd(0);
            floor_epoll_add(s.epfd, idle_fds[i]);
        }
        s.active_fd = bench_eventfd(1);
        floor_epoll_add(s.epfd, s.active_fd);

        snprintf(metric, sizeof(metric), "fd_polls_per_s_%d", idle_count);
        bench_report(metric, LIB, bench_median_of(cfg, floor_fd_once, &s));

        for (int i = 0; i < idle_count; i++) {
            close(idle_fds[i]);
        }
        close(s.active_fd);
        close(s.epfd);
        free(idle_fds);
    }
}

int main(int argc, char **argv)
{
    BenchConfig cfg;

    bench_parse_args(&cfg, argc, argv);
    bench_report_text("lib_version", LIB, "-");
    /* The floors are cheap; measure the syscall ones whatever is chosen. */
    {
        int fd = bench_eventfd(0);

        bench_report("syscall_ns", LIB,
                     bench_median_of(&cfg, floor_syscall_once, NULL));
        bench_report("ppoll0_ns", LIB,
                     bench_median_of(&cfg, floor_ppoll0_once, &fd));
        close(fd);
    }
    if (cfg.selected[BENCH_WAKE]) {
        floor_bench_wake(&cfg);
    }
    if (cfg.selected[BENCH_FD]) {
        floor_bench_fd(&cfg);
    }
    return 0;
}
