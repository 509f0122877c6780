/*
 * sim/watchdog.c — a core that loops without reaching the seam is a
 * verdict, not a tool that hangs.
 *
 * The simulator decides only at scheduling points: every atomic, lock, fd,
 * clock and yield of the core passes one, and the step limit turns a spin
 * through them into the "livelock" verdict.  A loop that makes no seam
 * call at all (a list walk whose cursor never advances) never comes back
 * to the simulator: `qloop run` would spin for ever.  So each host thread
 * that runs simulations gets a timer on its own CPU time (timer_create on
 * CLOCK_THREAD_CPUTIME_ID, delivered to that thread: SIGEV_THREAD_ID) that
 * ticks once a CPU second.  A tick that finds a simulated thread running
 * and the world's step count where the previous tick left it counts; after
 * $QLOOP_WATCHDOG_SECONDS of them (default 10, 0: off) the run ends there
 * with the livelock verdict, from the signal handler: the thread's stack is
 * abandoned as at any verdict (sim_end_run() switches to the host).
 *
 * Ending a run inside a signal handler is safe only where the interrupted
 * code holds no lock the ending path takes (malloc's, stdio's): a tick that
 * lands outside this program's own text (in libc, in glib) waits for the
 * next.  No run's course depends on the watchdog: a tick changes nothing
 * until it ends a run that would never have ended.
 */
#define _GNU_SOURCE         /* gettid, SIGEV_THREAD_ID, REG_RIP */
#include <errno.h>
#include <glib.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <ucontext.h>

#include "world.h"

#define WATCHDOG_SIGNAL SIGPROF
#define WATCHDOG_DEFAULT_S 10u

/* This program's text, from the linker: code the handler may end. */
extern const char __executable_start[];
extern const char etext[];

static __thread bool thread_armed;
static __thread timer_t thread_timer;
/* Read by the handler, which runs on the thread that armed its timer. */
static unsigned limit_s = WATCHDOG_DEFAULT_S;
static __thread const SimWorld *tick_world;
static __thread uint64_t tick_steps;
static __thread unsigned still_ticks;

/* Whether the interrupted instruction is this program's own code. */
static bool in_own_text(const void *ucontext)
{
#if defined(__x86_64__)
    const ucontext_t *uc = ucontext;
    uintptr_t pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];

    return pc >= (uintptr_t)__executable_start && pc < (uintptr_t)etext;
#else
    (void)ucontext;
    return false;   /* no safe point known: never end a run from here */
#endif
}

static void watchdog_tick(int sig, siginfo_t *info, void *ucontext)
{
    SimWorld *w = sim_world;
    int saved_errno = errno;
    sigset_t unblock;

    (void)sig;
    (void)info;
    if (!w || w->implicit || w->ending || !w->current ||
        w->current == &w->host) {
        still_ticks = 0;
        goto out;
    }
    if (w != tick_world || w->steps != tick_steps) {
        tick_world = w;
        tick_steps = w->steps;
        still_ticks = 0;
        goto out;
    }
    if (++still_ticks < limit_s || !in_own_text(ucontext)) {
        goto out;
    }
    still_ticks = 0;
    tick_world = NULL;
    /* The handler never returns: its signal must not stay blocked. */
    sigemptyset(&unblock);
    sigaddset(&unblock, WATCHDOG_SIGNAL);
    pthread_sigmask(SIG_UNBLOCK, &unblock, NULL);
    errno = saved_errno;
    sim_end_run(SIM_LIVELOCK,
                "livelock: thread '%s' ran %u s of CPU without reaching a "
                "scheduling point (step %" G_GUINT64_FORMAT "): the core loops "
                "without a seam call — no atomic, lock, fd, clock or yield "
                "($QLOOP_WATCHDOG_SECONDS)", w->current->name, limit_s,
                w->steps);
out:
    errno = saved_errno;
}

void sim_watchdog_arm(void)
{
    static bool handler_installed;
    struct sigevent sev = { 0 };
    struct itimerspec tick = { { 1, 0 }, { 1, 0 } };

    if (thread_armed) {
        return;
    }
    thread_armed = true;    /* once per thread, armed or not */
    if (!handler_installed) {
        const char *env = getenv("QLOOP_WATCHDOG_SECONDS");
        struct sigaction sa = { 0 };

        handler_installed = true;
        if (env && *env) {
            char *end;
            unsigned long v = strtoul(env, &end, 10);

            limit_s = *end == '\0' && v <= 86400 ? (unsigned)v
                                                  : WATCHDOG_DEFAULT_S;
        }
        if (limit_s == 0) {
            return;
        }
        sa.sa_sigaction = watchdog_tick;
        sa.sa_flags = SA_SIGINFO | SA_RESTART;
        sigemptyset(&sa.sa_mask);
        sigaction(WATCHDOG_SIGNAL, &sa, NULL);
    }
    if (limit_s == 0) {
        return;
    }
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = WATCHDOG_SIGNAL;
#ifdef sigev_notify_thread_id
    sev.sigev_notify_thread_id = gettid();
#else
    sev._sigev_un._tid = gettid();  /* glibc < 2.35 names no accessor */
#endif
    if (timer_create(CLOCK_THREAD_CPUTIME_ID, &sev, &thread_timer) == 0) {
        timer_settime(thread_timer, 0, &tick, NULL);
    }
}
