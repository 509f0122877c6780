/*
 * sim/sched.c — simulated threads and their scheduler.
 *
 * Method: every thread is a coroutine; only the scheduler decides who runs,
 * at scheduling points (every atomic, lock, fd operation and poll of the
 * core) and when the running thread blocks.  Candidates are listed current
 * thread first, then by id, and the tape picks one: choice 0 always means
 * "keep running", so a zero tape is the non-preemptive schedule and the
 * depth-first enumerator counts non-zero choices as preemptions.
 *
 * When nothing is runnable, virtual time jumps to the earliest deadline
 * (timed waits, queued external events) at once.  When there is none, the
 * run has hung: that is a verdict, told thread by thread.
 */
#define _GNU_SOURCE         /* pthread_getattr_np (ASan builds) */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "coro.h"
#include "heap.h"
#include "wmm.h"
#include "world.h"

/*
 * SIM_ASAN: the process runs under AddressSanitizer, which must be told of
 * every stack switch.  QLOOP_ASAN_RUNTIME says so for a simulator compiled
 * without instrumentation into an ASan binary (fuzz/build.sh: the core is
 * instrumented, the test bench is not).
 */
#if defined(__SANITIZE_ADDRESS__) || defined(QLOOP_ASAN_RUNTIME)
#define SIM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SIM_ASAN 1
#endif
#endif

#ifdef SIM_ASAN
void __sanitizer_start_switch_fiber(void **fake_stack_save, const void *bottom,
                                    size_t size);
void __sanitizer_finish_switch_fiber(void *fake_stack_save,
                                     const void **bottom_old,
                                     size_t *size_old);
void __lsan_register_root_region(const void *p, size_t size);
void __asan_unpoison_memory_region(const volatile void *addr, size_t size);
#endif

#define SIM_STACK_SIZE (256 * 1024)

#ifdef SIM_ASAN
#include <pthread.h>

/*
 * The stack ASan must switch to: a coroutine's own, or — for the host
 * context and an implicit world's thread 1, which run on the host thread's
 * stack — that stack's real bounds.  Telling ASan "NULL, 0" there would
 * make LeakSanitizer scan an empty range for the host thread and report
 * everything only its stack points at (libFuzzer's own state) as leaked.
 */
static void sim_asan_stack(const SimThread *t, const void **bottom,
                           size_t *size)
{
    static __thread void *host_bottom;
    static __thread size_t host_size;

    if (t->run_stack) {
        *bottom = t->run_stack;
        *size = t->run_stack_size;
        return;
    }
    if (t->stack) {
        *bottom = t->stack;
        *size = t->stack_size;
        return;
    }
    if (!host_size) {
        pthread_attr_t attr;

        if (pthread_getattr_np(pthread_self(), &attr) == 0) {
            pthread_attr_getstack(&attr, &host_bottom, &host_size);
            pthread_attr_destroy(&attr);
        }
    }
    *bottom = host_bottom;
    *size = host_size;
}
#endif

#ifdef SIM_ASAN
void sim_thread_stack_bounds(const SimThread *t, const void **bottom,
                             size_t *size)
{
    sim_asan_stack(t, bottom, size);
}
#endif

/*
 * Stacks outlive worlds.  A fuzzer runs millions of worlds in one process,
 * and mmap + mprotect + munmap per thread, plus the page faults of every
 * fresh mapping, were a fifth of a short run.  Freed stacks wait here,
 * guard page and all, for the next thread that wants the same size.
 * Nothing depends on a stack's address or old contents: a new thread's
 * frame is laid out by sim_coro_init_stack().
 */
#define SIM_STACK_CACHE_MAX 16
#define SIM_GUARD_SIZE 4096

static struct {
    void *stack;
    size_t size;
} stack_cache[SIM_STACK_CACHE_MAX];
static unsigned stack_cache_len;

void *sim_stack_alloc(size_t size)
{
    void *stack;

    for (unsigned i = stack_cache_len; i-- > 0;) {
        if (stack_cache[i].size == size) {
            stack = stack_cache[i].stack;
            stack_cache[i] = stack_cache[--stack_cache_len];
#ifdef SIM_ASAN
            /* Frames that never returned (a finished thread's last
             * switch) leave their redzones poisoned. */
            __asan_unpoison_memory_region((char *)stack + SIM_GUARD_SIZE,
                                          size - SIM_GUARD_SIZE);
#endif
            return stack;
        }
    }
    stack = mmap(NULL, size, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    SIM_ASSERT(stack != MAP_FAILED);
#ifdef SIM_ASAN
    /* The kernel may hand back the range of a stack unmapped earlier,
     * whose shadow its frames left poisoned (ASan does not clear shadow on
     * munmap): a fresh stack must start clean too. */
    __asan_unpoison_memory_region(stack, size);
#endif
    /* Guard page: a stack overflow faults instead of corrupting. */
    mprotect(stack, SIM_GUARD_SIZE, PROT_NONE);
    return stack;
}

void sim_stack_free(void *stack, size_t size)
{
    SIM_ASSERT(stack_cache_len <= SIM_STACK_CACHE_MAX);
    if (stack_cache_len < SIM_STACK_CACHE_MAX) {
        stack_cache[stack_cache_len].stack = stack;
        stack_cache[stack_cache_len].size = size;
        stack_cache_len++;
        return;
    }
#ifdef SIM_ASAN
    /* Nothing else mapped here later may inherit the frames' poison. */
    __asan_unpoison_memory_region((char *)stack + SIM_GUARD_SIZE,
                                  size - SIM_GUARD_SIZE);
#endif
    munmap(stack, size);
}

SimThread *sim_thread_current(void)
{
    return sim_world_get()->current;
}

/* Switch from the current thread to `to` (which must not be current). */
static void sim_switch(SimThread *to)
{
    SimWorld *w = sim_world;
    SimThread *from = w->current;

    SIM_ASSERT(to != from);
    w->current = to;
    w->switches++;
    if (to != &w->host) {
        sim_trace_record(SIM_EV_SWITCH, NULL, to->id);
    }
#ifdef SIM_ASAN
    {
        const void *bottom;
        size_t size;

        sim_asan_stack(to, &bottom, &size);
        __sanitizer_start_switch_fiber(
            from->state == SIM_THREAD_FINISHED ? NULL : &from->asan_fake_stack,
            bottom, size);
    }
#endif
    sim_coro_switch(&from->sp, to->sp);
#ifdef SIM_ASAN
    __sanitizer_finish_switch_fiber(from->asan_fake_stack, NULL, NULL);
#endif
    /* Back in `from`: a verdict may have been reached meanwhile. */
}

static void sim_thread_entry(void)
{
    SimThread *self;

#ifdef SIM_ASAN
    __sanitizer_finish_switch_fiber(NULL, NULL, NULL);
#endif
    self = sim_world->current;
    sim_trace_record(SIM_EV_THREAD_START, self->name, self->id);
    sim_thread_exit(self->fn(self->arg));
}

/* Freed threads' structs and the thread table, for the next world: see
 * world_spare (world.c). */
#define SIM_THREAD_SPARE_MAX 16
static SimThread *thread_spare[SIM_THREAD_SPARE_MAX];
static unsigned thread_spare_len;
static GPtrArray *threads_spare;

static SimThread *sim_thread_alloc(const char *name)
{
    SimWorld *w = sim_world;
    SimThread *t;

    if (w->threads->len >= SIM_THREADS_MAX) {
        qos_panic(__FILE__, __LINE__, "more than %d simulated threads",
                  SIM_THREADS_MAX);
    }
    if (thread_spare_len > 0) {
        t = thread_spare[--thread_spare_len];
        memset(t, 0, sizeof(*t));
    } else {
        t = g_new0(SimThread, 1);
    }
    t->id = w->threads->len + 1;
    g_strlcpy(t->name, name ? name : "thread", sizeof(t->name));
    t->state = SIM_THREAD_RUNNABLE;
    w->runnable++;
    t->deadline_ns = -1;
    /* PCT: distinct random priorities above the change-point band. */
    t->pct_priority = 1000000 + (uint32_t)(sim_prng_next(w) % 1000000) * 64 +
                      t->id % 64;
    g_ptr_array_add(w->threads, t);
    return t;
}

SimThread *sim_thread_spawn(const char *name, void *(*fn)(void *), void *arg)
{
    SimThread *t;

    sim_world_get();
    t = sim_thread_alloc(name);
    t->fn = fn;
    t->arg = arg;
    t->stack_size = SIM_STACK_SIZE;
    t->stack = sim_stack_alloc(t->stack_size);
    t->sp = sim_coro_init_stack(t->stack, t->stack_size, sim_thread_entry);
    return t;
}

void (*sim_thread_entry_for_run(void))(void)
{
    return sim_thread_entry;
}

void sim_run_enter(SimThread *main_thread)
{
    sim_switch(main_thread);
}

void sim_sched_init(SimWorld *w)
{
    SimThread *main_thread;

    w->threads = threads_spare ? threads_spare : g_ptr_array_new();
    threads_spare = NULL;
    w->host.id = 0;
    g_strlcpy(w->host.name, "host", sizeof(w->host.name));
    main_thread = sim_thread_alloc("main");
    /* Implicit world: the caller's stack is thread 1.  sim_run() gives
     * thread 1 a stack of its own and keeps the caller as `host`. */
    w->current = main_thread;
}

void sim_sched_fini(SimWorld *w)
{
    for (guint i = 0; i < w->threads->len; i++) {
        SimThread *t = g_ptr_array_index(w->threads, i);

        if (t->stack) {
            sim_stack_free(t->stack, t->stack_size);
        }
        if (thread_spare_len < SIM_THREAD_SPARE_MAX) {
            thread_spare[thread_spare_len++] = t;
        } else {
            g_free(t);
        }
    }
    g_ptr_array_set_size(w->threads, 0);
    if (w->coros) {
        g_ptr_array_free(w->coros, TRUE);
        w->coros = NULL;
    }
    if (!threads_spare) {
        threads_spare = w->threads;
    } else {
        g_ptr_array_free(w->threads, TRUE);
    }
    w->threads = NULL;
}

/* Runnable threads, current first then by id; returns how many. */
static uint32_t sim_runnable(SimWorld *w, uint32_t *ids)
{
    uint32_t n = 0;

    if (w->current->state == SIM_THREAD_RUNNABLE && w->current != &w->host) {
        ids[n++] = w->current->id;
    }
    for (guint i = 0; i < w->threads->len; i++) {
        SimThread *t = g_ptr_array_index(w->threads, i);

        if (t != w->current && t->state == SIM_THREAD_RUNNABLE) {
            ids[n++] = t->id;
        }
    }
    return n;
}

static SimThread *sim_thread_by_id(SimWorld *w, uint32_t id)
{
    SIM_ASSERT(id >= 1 && id <= w->threads->len);
    return g_ptr_array_index(w->threads, id - 1);
}

static void sim_check_step_limit(SimWorld *w)
{
    if (w->config.step_limit && w->steps > w->config.step_limit) {
        sim_end_run(SIM_LIVELOCK,
                    "livelock: %" G_GUINT64_FORMAT " scheduling steps "
                    "without finishing", w->steps);
    }
}

/* The tape's pick among two or more runnable threads: sched_point()'s slow
 * path, out of line so the fast path saves no registers and builds no
 * list (a fuzzer input passes ~1 100 scheduling points, most with one
 * thread runnable: the frame alone was a twentieth of its instructions). */
static G_GNUC_NO_INLINE void sched_pick(SimWorld *w)
{
    uint32_t ids[SIM_THREADS_MAX];
    uint32_t n, pick;

    /* An exhausted byte tape draws 0, the running thread, every time: with
     * no log to write, there is nothing to decide. */
    if (w->tape_exhausted && w->config.no_choice_log &&
        w->config.tape == SIM_TAPE_BYTES) {
        return;
    }
    n = sim_runnable(w, ids);
    if (n <= 1) {
        return;
    }
    pick = sim_choose_sched(ids, n, true);
    if (pick != 0) {
        sim_switch(sim_thread_by_id(w, ids[pick]));
    }
}

/* A step of every scheduling point: counted against the limit, and due
 * buffered stores flush. */
static inline void sched_step(SimWorld *w)
{
    w->steps++;
    sim_check_step_limit(w);
    if (sim_wmm_mode) {
        sim_wmm_step(w);
    }
}

/* A scheduling point: a step, then the tape may switch threads. */
static inline void sched_point(SimWorld *w)
{
    sched_step(w);
    /* Fast path: the running thread is the only runnable one (most points
     * of most runs), so there is nothing to decide. */
    if (w->runnable > 1) {
        sched_pick(w);
    }
}

/* Seam calls (locks, fds, polls, clocks, yields): the thread's store
 * buffer drains once it runs again — after the switch, since a real store
 * buffer drains at the system call, not before the thread is preempted. */
void sim_sched_point(const char *what)
{
    SimWorld *w = sim_world;

    (void)what;
    if (!w || w->current == &w->host || w->ending) {
        return;
    }
    /* A store to an object freed since must not go unseen: the core's
     * plain stores pass through no hook (its atomics check themselves). */
    if (sim_heap_recent_count) {
        sim_heap_seam_check();
    }
    sched_point(w);
    if (sim_wmm_mode) {
        sim_wmm_drain_current();
    }
}

/* The core's atomics and barriers (sim/qloop-os-inline.h): no drain. */
void sim_mem_point(const char *what)
{
    SimWorld *w = sim_world;

    (void)what;
    if (!w || w->current == &w->host || w->ending) {
        return;
    }
    sched_point(w);
}

/*
 * A busy-wait's pause (loop/os.h): a scheduling point whose default is
 * another runnable thread, the spinner coming last — so under any tape's
 * default a spin waits for the holder it preempted instead of spinning to
 * the step limit, and staying is a choice the explorer pays for.
 */
void qos_cpu_relax(void)
{
    SimWorld *w = sim_world;
    uint32_t ids[SIM_THREADS_MAX];
    uint32_t n, pick;

    if (!w || w->current == &w->host || w->ending) {
        return;
    }
    sched_step(w);
    n = w->runnable > 1 ? sim_runnable(w, ids) : 0;
    if (n <= 1) {
        return;
    }
    /* sim_runnable() puts the current thread first: move it last. */
    memmove(ids, ids + 1, (n - 1) * sizeof(ids[0]));
    ids[n - 1] = w->current->id;
    pick = sim_choose_sched(ids, n, true);
    if (ids[pick] != w->current->id) {
        sim_switch(sim_thread_by_id(w, ids[pick]));
    }
}

/* Earliest deadline among timed waiters and queued external events. */
static int64_t sim_next_deadline(SimWorld *w)
{
    int64_t next_ns = sim_externals_next_ns(w);

    for (guint i = 0; i < w->threads->len; i++) {
        SimThread *t = g_ptr_array_index(w->threads, i);

        if (t->state == SIM_THREAD_BLOCKED && t->deadline_ns >= 0 &&
            (next_ns < 0 || t->deadline_ns < next_ns)) {
            next_ns = t->deadline_ns;
        }
    }
    return next_ns;
}

static void sim_fire_deadlines(SimWorld *w)
{
    for (guint i = 0; i < w->threads->len; i++) {
        SimThread *t = g_ptr_array_index(w->threads, i);

        if (t->state == SIM_THREAD_BLOCKED && t->deadline_ns >= 0 &&
            t->deadline_ns <= w->now_ns) {
            t->timed_out = true;
            sim_wake(t);
        }
    }
    sim_externals_fire_due(w);
}

static G_NORETURN void sim_hang(SimWorld *w, int64_t next_ns)
{
    GString *s = g_string_new(next_ns < 0 ?
                              "hang: no thread can run, no timer is armed "
                              "and no external event is queued\n" :
                              "hang: no thread can run before the end of "
                              "simulated time (SIM_END_OF_TIME_NS)\n");

    for (guint i = 0; i < w->threads->len; i++) {
        SimThread *t = g_ptr_array_index(w->threads, i);

        if (t->state == SIM_THREAD_BLOCKED) {
            char poll_desc[sizeof(t->wait_desc)];

            if (t->wait == SIM_WAIT_POLL) {
                sim_poll_describe(t, poll_desc, sizeof(poll_desc));
            }
            g_string_append_printf(s, "  thread %u (%s) waits in %s\n",
                                   t->id, t->name,
                                   t->wait == SIM_WAIT_POLL ? poll_desc
                                                            : t->wait_desc);
        }
    }
    g_string_truncate(s, s->len - 1);
    sim_end_run(SIM_HANG, "%s", s->str);
}

/*
 * The owner's on_hang hook may declare the waits the scenario's own: every
 * poll waiter then returns as if timed out (the trace says so).  False when
 * there is no hook, it refuses, or it was asked too often.
 */
static bool sim_hang_resolved(SimWorld *w)
{
    bool woke = false;

    if (!w->config.on_hang || w->hangs_resolved >= SIM_ON_HANG_MAX ||
        !w->config.on_hang(w->config.on_hang_opaque)) {
        return false;
    }
    w->hangs_resolved++;
    sim_trace_record(SIM_EV_USER, "every wait cut short: nothing due", 0);
    for (guint i = 0; i < w->threads->len; i++) {
        SimThread *t = g_ptr_array_index(w->threads, i);

        if (t->state == SIM_THREAD_BLOCKED && t->wait == SIM_WAIT_POLL) {
            t->timed_out = true;
            sim_wake(t);
            woke = true;
        }
    }
    return woke;
}

/* Pick and switch to a runnable thread; time advances while none is. */
static void sim_schedule_away(SimWorld *w)
{
    uint32_t ids[SIM_THREADS_MAX];
    uint32_t n;

    for (;;) {
        n = sim_runnable(w, ids);
        if (n > 0) {
            uint32_t pick = sim_choose_sched(ids, n, false);
            SimThread *next = sim_thread_by_id(w, ids[pick]);

            if (next != w->current) {
                sim_switch(next);
            }
            return;
        }
        if (sim_poll_recheck_host_fds(w)) {
            continue;
        }
        int64_t next_ns = sim_next_deadline(w);
        /* A deadline centuries away is never reached: a timer there is as
         * good as none, and time need not march to INT64_MAX for it. */
        if (next_ns < 0 || next_ns >= SIM_END_OF_TIME_NS) {
            if (sim_hang_resolved(w)) {
                continue;
            }
            sim_hang(w, next_ns);
        }
        if (next_ns > w->now_ns) {
            /* Named, so oracles can tell "everyone waited until then"
             * from a scenario's advance. */
            sim_trace_record(SIM_EV_CLOCK, "idle", next_ns);
            sim_clock_set_now(next_ns);
        }
        sim_fire_deadlines(w);
    }
}

void sim_block(SimWaitKind kind, const void *obj, int64_t deadline_ns)
{
    SimWorld *w = sim_world;
    SimThread *self = w->current;

    SIM_ASSERT(self != &w->host);
    if (sim_wmm_mode) {
        sim_wmm_drain_current();    /* blocking is a seam call */
    }
    self->state = SIM_THREAD_BLOCKED;
    w->runnable--;
    self->wait = kind;
    self->wait_obj = obj;
    self->deadline_ns = deadline_ns;
    self->timed_out = false;
    sim_trace_record(SIM_EV_BLOCK, NULL, kind);
    w->steps++;
    sim_check_step_limit(w);
    do {
        sim_schedule_away(w);
        /* Returned here: someone picked us, so we were runnable. */
    } while (self->state != SIM_THREAD_RUNNABLE);
    self->wait = SIM_WAIT_NONE;
    self->wait_obj = NULL;
    self->deadline_ns = -1;
}

void sim_wake(SimThread *t)
{
    if (t->state == SIM_THREAD_BLOCKED) {
        t->state = SIM_THREAD_RUNNABLE;
        sim_world->runnable++;
    }
}

void sim_wake_all(SimWaitKind kind, const void *obj)
{
    SimWorld *w = sim_world;

    for (guint i = 0; i < w->threads->len; i++) {
        SimThread *t = g_ptr_array_index(w->threads, i);

        if (t->state == SIM_THREAD_BLOCKED && t->wait == kind &&
            t->wait_obj == obj) {
            sim_wake(t);
        }
    }
}

unsigned sim_waiters(SimWaitKind kind, const void *obj, SimThread **out,
                     unsigned max)
{
    SimWorld *w = sim_world;
    unsigned n = 0;

    for (guint i = 0; i < w->threads->len && n < max; i++) {
        SimThread *t = g_ptr_array_index(w->threads, i);

        if (t->state == SIM_THREAD_BLOCKED && t->wait == kind &&
            t->wait_obj == obj) {
            out[n++] = t;
        }
    }
    return n;
}

void sim_thread_exit(void *ret)
{
    SimWorld *w = sim_world;
    SimThread *self = w->current;

    if (sim_wmm_mode) {
        sim_wmm_drain_current();    /* a thread's stores outlive it */
        sim_wmm_release(self);      /* for its joiner (c11) */
    }
    self->ret = ret;
    self->state = SIM_THREAD_FINISHED;
    w->runnable--;
    sim_trace_record(SIM_EV_THREAD_EXIT, self->name, self->id);
    sim_wake_all(SIM_WAIT_JOIN, self);
    if (self->id == 1 && !w->implicit) {
        /* sim_run(): the run is over when thread 1 returns. */
        sim_switch(&w->host);
    }
    sim_schedule_away(w);
    /* A finished thread is never picked again. */
    qos_panic(__FILE__, __LINE__, "finished thread %u resumed", self->id);
}

/*
 * A verdict abandons every unfinished thread mid-flight.  In sanitizer
 * builds their stacks stay mapped as leak-checker roots, so what those
 * threads still point at is not reported as leaked (it costs the stacks;
 * production builds unmap them with the world).
 */
static void sim_abandon_stacks(SimWorld *w)
{
#ifdef SIM_ASAN
    for (guint i = 0; i < w->threads->len; i++) {
        SimThread *t = g_ptr_array_index(w->threads, i);

        if (t->stack && t->state != SIM_THREAD_FINISHED) {
            __lsan_register_root_region(t->stack, t->stack_size);
            t->stack = NULL;
        }
    }
    for (guint i = 0; w->coros && i < w->coros->len; i++) {
        QosCoro *coro = g_ptr_array_index(w->coros, i);

        if (coro->stack) {
            __lsan_register_root_region(coro->stack, coro->stack_size);
            coro->stack = NULL;     /* never back in the stack cache */
        }
    }
#else
    (void)w;
#endif
}

void sim_end_run(SimVerdict verdict, const char *fmt, ...)
{
    SimWorld *w = sim_world;
    va_list ap;

    if (w->verdict == SIM_OK) {
        w->verdict = verdict;
        va_start(ap, fmt);
        g_string_vprintf(w->story, fmt, ap);
        va_end(ap);
    }
    w->ending = true;
    if (!w->implicit) {
        sim_abandon_stacks(w);
        sim_switch(&w->host);
    }
    fprintf(stderr, "qloop-sim: %s: %s\n", sim_verdict_name(w->verdict),
            w->story->str);
    fflush(stderr);
    abort();
}

/* ---- public thread API ---------------------------------------------------- */

uint32_t sim_thread_self(void)
{
    return sim_thread_current()->id;
}

void sim_yield(const char *what)
{
    sim_world_get();
    sim_sched_point(what);
}

uint64_t sim_steps(void)
{
    return sim_world_get()->steps;
}

uint64_t qos_thread_id(void)
{
    return sim_thread_current()->id;
}

void *qos_tls_get(QosTlsSlot slot)
{
    return sim_thread_current()->tls[slot];
}

void qos_tls_set(QosTlsSlot slot, void *value)
{
    sim_thread_current()->tls[slot] = value;
}
