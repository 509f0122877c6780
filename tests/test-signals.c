/*
 * tests/test-signals.c — signals through the main loop's signalfd
 * (semantics.md "Main loop": SIGIO/SIGALRM/SIGBUS blocked, read from a
 * signalfd by a handler on iohandler_ctx, the process's sigaction handler
 * run from inside main_loop_wait, never asynchronously).
 *
 * Method: after qemu_init_main_loop() (once, in main), a test installs a
 * sigaction handler and sends the signal to the process with kill().  The
 * signal is blocked, so it stays pending and the handler must not have
 * run.  Then one blocking main_loop_wait(0) — bounded by a glib timeout
 * source (guard) that must not fire — must run the handler exactly once,
 * and the handler records that it ran while a flag set around the
 * main_loop_wait call was up.  No other thread exists in this process, so
 * a signal that were not blocked would run the handler at once, in kill().
 */
#define _GNU_SOURCE
#include <glib.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "qloop-test.h"

static volatile sig_atomic_t in_main_loop_wait;
static volatile sig_atomic_t alrm_runs, alrm_inside;
static volatile sig_atomic_t io_runs, io_inside, io_signo;
/* What the SA_SIGINFO handler received (a siginfo_t, not the signalfd's
 * record: their fields sit at different offsets). */
static volatile sig_atomic_t io_code, io_pid, io_uid, io_value;

static void alrm_handler(int signo)
{
    (void)signo;
    alrm_runs++;
    alrm_inside = in_main_loop_wait;
}

static void io_handler(int signo, siginfo_t *info, void *uctx)
{
    (void)uctx;
    io_code = info->si_code;
    io_pid = info->si_pid;
    io_uid = (sig_atomic_t)info->si_uid;
    io_value = info->si_value.sival_int;
    io_runs++;
    io_inside = in_main_loop_wait;
    io_signo = signo;
}

static gboolean guard_cb(gpointer opaque)
{
    *(bool *)opaque = true;
    return G_SOURCE_CONTINUE;
}

/* One blocking main_loop_wait, bounded by the guard. */
static void wait_once(void)
{
    bool fired = false;
    GSource *guard = g_timeout_source_new(5000);

    g_source_set_callback(guard, guard_cb, &fired, NULL);
    g_source_attach(guard, NULL);
    in_main_loop_wait = 1;
    main_loop_wait(0);
    in_main_loop_wait = 0;
    g_source_destroy(guard);
    g_source_unref(guard);
    g_assert_false(fired);
}

static void drain(void)
{
    for (int i = 0; i < 4; i++) {
        main_loop_wait(1);
    }
}

/* qemu_init_main_loop blocked SIGIO, SIGALRM and SIGBUS in this thread. */
static void test_blocked(void)
{
    sigset_t set;

    g_assert_cmpint(pthread_sigmask(SIG_BLOCK, NULL, &set), ==, 0);
    g_assert_cmpint(sigismember(&set, SIGIO), ==, 1);
    g_assert_cmpint(sigismember(&set, SIGALRM), ==, 1);
    g_assert_cmpint(sigismember(&set, SIGBUS), ==, 1);
    g_assert_cmpint(sigismember(&set, SIGUSR1), ==, 0);
}

static void install(int signo, struct sigaction *sa)
{
    g_assert_cmpint(sigaction(signo, sa, NULL), ==, 0);
}

/* SIGALRM: pending until main_loop_wait, then run once from inside it. */
static void test_sigalrm(void)
{
    struct sigaction sa;

    drain();
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = alrm_handler;
    install(SIGALRM, &sa);
    alrm_runs = alrm_inside = 0;

    g_assert_cmpint(kill(getpid(), SIGALRM), ==, 0);
    g_assert_cmpint(alrm_runs, ==, 0);
    wait_once();
    g_assert_cmpint(alrm_runs, ==, 1);
    g_assert_cmpint(alrm_inside, ==, 1);
    main_loop_wait(1);
    g_assert_cmpint(alrm_runs, ==, 1);

    sa.sa_handler = SIG_DFL;
    install(SIGALRM, &sa);
}

/* SIGIO with an SA_SIGINFO handler: same, with the right signal number. */
static void test_sigio_siginfo(void)
{
    struct sigaction sa;

    drain();
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = io_handler;
    sa.sa_flags = SA_SIGINFO;
    install(SIGIO, &sa);
    io_runs = io_inside = io_signo = 0;

    g_assert_cmpint(kill(getpid(), SIGIO), ==, 0);
    g_assert_cmpint(io_runs, ==, 0);
    wait_once();
    g_assert_cmpint(io_runs, ==, 1);
    g_assert_cmpint(io_inside, ==, 1);
    g_assert_cmpint(io_signo, ==, SIGIO);
    /* kill(2): SI_USER, from this process and user. */
    g_assert_cmpint(io_code, ==, SI_USER);
    g_assert_cmpint(io_pid, ==, getpid());
    g_assert_cmpint(io_uid, ==, (sig_atomic_t)getuid());
    main_loop_wait(1);
    g_assert_cmpint(io_runs, ==, 1);

    /* sigqueue(3): SI_QUEUE with its value. */
    g_assert_cmpint(sigqueue(getpid(), SIGIO,
                             (union sigval){ .sival_int = 4711 }), ==, 0);
    wait_once();
    g_assert_cmpint(io_runs, ==, 2);
    g_assert_cmpint(io_code, ==, SI_QUEUE);
    g_assert_cmpint(io_pid, ==, getpid());
    g_assert_cmpint(io_value, ==, 4711);

    sa.sa_sigaction = NULL;
    sa.sa_handler = SIG_DFL;
    sa.sa_flags = 0;
    install(SIGIO, &sa);
}

/* Both pending at once: both handlers run, each once, in one wait. */
static void test_two_signals(void)
{
    struct sigaction alrm, io;

    drain();
    memset(&alrm, 0, sizeof(alrm));
    alrm.sa_handler = alrm_handler;
    install(SIGALRM, &alrm);
    memset(&io, 0, sizeof(io));
    io.sa_sigaction = io_handler;
    io.sa_flags = SA_SIGINFO;
    install(SIGIO, &io);
    alrm_runs = alrm_inside = io_runs = io_inside = 0;

    g_assert_cmpint(kill(getpid(), SIGIO), ==, 0);
    g_assert_cmpint(kill(getpid(), SIGALRM), ==, 0);
    g_assert_cmpint(alrm_runs + io_runs, ==, 0);
    wait_once();
    g_assert_cmpint(alrm_runs, ==, 1);
    g_assert_cmpint(io_runs, ==, 1);
    g_assert_cmpint(alrm_inside, ==, 1);
    g_assert_cmpint(io_inside, ==, 1);

    alrm.sa_handler = SIG_DFL;
    install(SIGALRM, &alrm);
    memset(&io, 0, sizeof(io));
    io.sa_handler = SIG_DFL;
    install(SIGIO, &io);
}

/* aio_poll on the main context never runs the signalfd handler. */
static void test_not_from_aio_poll(void)
{
    struct sigaction sa;

    drain();
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = alrm_handler;
    install(SIGALRM, &sa);
    alrm_runs = alrm_inside = 0;

    g_assert_cmpint(kill(getpid(), SIGALRM), ==, 0);
    for (int i = 0; i < 3; i++) {
        aio_poll(qemu_get_aio_context(), false);
    }
    g_assert_cmpint(alrm_runs, ==, 0);
    wait_once();
    g_assert_cmpint(alrm_runs, ==, 1);
    g_assert_cmpint(alrm_inside, ==, 1);

    sa.sa_handler = SIG_DFL;
    install(SIGALRM, &sa);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qemu_init_main_loop(&error_abort);

    g_test_add_func("/signals/blocked", test_blocked);
    g_test_add_func("/signals/sigalrm", test_sigalrm);
    g_test_add_func("/signals/sigio-siginfo", test_sigio_siginfo);
    g_test_add_func("/signals/two-pending", test_two_signals);
    g_test_add_func("/signals/not-from-aio-poll", test_not_from_aio_poll);

    return g_test_run();
}
