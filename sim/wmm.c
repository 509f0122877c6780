/*
 * sim/wmm.c — weak memory models for the core's atomics (tso, pso; the
 * entry points of c11, whose model is sim/c11.c).
 *
 * Every qatomic_* and barrier of the core reaches here through the memory
 * hooks of sim/qloop-os-inline.h when the run's SimConfig.memory is not
 * SIM_MEMORY_SC.  The model is the textbook one: each simulated thread has
 * a store buffer; a store enters it, a load sees the thread's own newest
 * buffered store to the location first and global memory otherwise; a
 * buffered store becomes globally visible ("flushes") later.  TSO flushes
 * the buffer in FIFO order; PSO flushes any entry that has no older entry
 * to the same location, no older entry before an smp_wmb(), and — for a
 * release store — no older entry at all.  smp_mb(), read-modify-writes
 * (sequentially consistent), every seam call (locks, fds, polls, clocks,
 * thread exit) drain the thread's buffer.  Loads are never reordered (both
 * models keep load→load and load→store order), so acquire loads and
 * smp_rmb() are plain; they matter only under C11, which is not here yet.
 *
 * The tape owns every weak choice: each store of a multi-threaded run
 * draws (SIM_CHOICE_MEMORY) how long it stays buffered — 0 visible at once
 * (the sc behaviour, so a zero tape is a sequentially consistent run), 1
 * until the thread drains its buffer (at most 4096 scheduling steps), 2
 * one scheduling step, 3 eight steps.
 * A non-zero delay is a weak choice (sim_choose_weak): depth-first search
 * bounds it apart from the preemptions, or with them when the plan says
 * so (SimDelayBounding).  Flushes of due entries happen at scheduling steps, threads in
 * id order, so a run stays a pure function of its configuration and tape.
 *
 * Representation, and why: memory is written through at the store (it
 * holds the newest value stored by anyone), and while a location has
 * buffered stores a shadow keeps its *globally visible* value, which is
 * what other threads' loads return.  A flush only updates the shadow; the
 * last flush of a location writes memory only if the visible value differs
 * from the newest one (two threads' stores flushing out of their execution
 * order).  So a buffered store never lands late in memory the core has
 * freed meanwhile — the core frees with g_free(), not through the seam,
 * and real allocators drain the buffer with their own locks; a deferred
 * write there would be a false memory verdict under ASan.  The one
 * late write left is checked against ASan's poisoning first.
 *
 * Plain (non-atomic) accesses bypass all this: they see and write memory,
 * i.e. they stay sequentially consistent (docs/simulation.md says what
 * that misses).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "world.h"
#include "wmm.h"

#if defined(__SANITIZE_ADDRESS__)
#define WMM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WMM_ASAN 1
#endif
#endif
#ifdef WMM_ASAN
int __asan_region_is_poisoned(void *beg, size_t size);
#endif

/* Buffered stores per thread: a full buffer flushes its oldest entry. */
#define WMM_BUF_MAX 16
/* Locations with buffered stores at once: each has at least one entry,
 * so every thread's buffer full of distinct locations is the most. */
#define WMM_SHADOW_MAX (SIM_THREADS_MAX * WMM_BUF_MAX)
/* The delay choices (see above). */
#define WMM_DELAYS 4
/* "Until drained" still ends: real store buffers drain in bounded time,
 * and a thread spinning on atomics alone (no seam call) must not hide
 * its stores forever — that would be a livelock no hardware shows. */
#define WMM_DRAIN_MAX_STEPS 4096

typedef struct {
    volatile void *ptr;
    unsigned size;
    uint64_t value;
    uint64_t due;       /* first step it may flush */
    uint32_t epoch;     /* PSO: smp_wmb()s before it in this thread */
    bool release;       /* PSO: waits for every older entry */
    const char *what;
} WmmEntry;

typedef struct {
    WmmEntry e[WMM_BUF_MAX];
    unsigned len;
    uint32_t epoch;
} WmmBuffer;

typedef struct {
    volatile void *ptr;
    unsigned size;
    uint64_t visible;   /* what a thread without its own entry reads */
    uint64_t newest;    /* what memory holds (the last store executed) */
    unsigned pending;   /* buffered entries, all threads */
} WmmShadow;

int sim_wmm_mode;

static struct {
    SimMemoryModel model;
    bool dirty;                 /* a weak world ran: buffers need a reset */
    unsigned pending;           /* entries in every buffer */
    WmmBuffer buf[SIM_THREADS_MAX + 1];     /* by thread id */
    WmmShadow shadow[WMM_SHADOW_MAX];
    unsigned shadows;
} wmm;

const char *sim_memory_name(SimMemoryModel model)
{
    switch (model) {
    case SIM_MEMORY_SC: return "sc";
    case SIM_MEMORY_TSO: return "tso";
    case SIM_MEMORY_PSO: return "pso";
    case SIM_MEMORY_C11: return "c11";
    case SIM_MEMORY_MAX: break;
    }
    return "?";
}

bool sim_memory_parse(const char *name, SimMemoryModel *model)
{
    for (int m = 0; m < SIM_MEMORY_MAX; m++) {
        if (strcmp(name, sim_memory_name((SimMemoryModel)m)) == 0) {
            *model = (SimMemoryModel)m;
            return true;
        }
    }
    return false;
}

SimMemoryModel sim_memory_default(void)
{
    static int cached = -1;

    if (cached < 0) {
        const char *env = getenv("QLOOP_SIM_MEMORY");
        SimMemoryModel model = SIM_MEMORY_SC;

        if (env && *env && !sim_memory_parse(env, &model)) {
            fprintf(stderr, "qloop-sim: QLOOP_SIM_MEMORY=%s: not sc, tso, "
                    "pso or c11\n", env);
            abort();
        }
        cached = (int)model;
    }
    return (SimMemoryModel)cached;
}

SimMemoryModel sim_memory_model(void)
{
    return sim_world_get()->config.memory;
}

void sim_wmm_init(SimWorld *w)
{
    SIM_ASSERT(w->config.memory < SIM_MEMORY_MAX);
    /* Buffers of the last world are discarded, never written: its
     * threads are gone and so may be the memory they stored to.  Only a
     * weak world dirties them (fuzzers create millions of sc worlds). */
    if (wmm.dirty) {
        for (unsigned i = 0; i <= SIM_THREADS_MAX; i++) {
            wmm.buf[i].len = 0;
            wmm.buf[i].epoch = 0;
        }
        wmm.dirty = false;
    }
    wmm.pending = 0;
    wmm.shadows = 0;
    wmm.model = w->config.memory;
    sim_wmm_mode = w->config.memory != SIM_MEMORY_SC;
    wmm.dirty = sim_wmm_mode;
    if (wmm.model == SIM_MEMORY_C11) {
        sim_c11_init(w);
    }
}

void sim_wmm_fini(SimWorld *w)
{
    if (wmm.model == SIM_MEMORY_C11) {
        sim_c11_fini(w);
    }
    wmm.model = SIM_MEMORY_SC;
    wmm.pending = 0;
    wmm.shadows = 0;
    sim_wmm_mode = 0;
}

static WmmShadow *shadow_find(const volatile void *ptr)
{
    for (unsigned i = 0; i < wmm.shadows; i++) {
        if (wmm.shadow[i].ptr == ptr) {
            return &wmm.shadow[i];
        }
    }
    return NULL;
}

/* A location becomes globally visible at `visible`; memory already holds
 * the newest store.  Done when the last buffered store to it flushes. */
static void shadow_flushed(WmmShadow *s, uint64_t value)
{
    SIM_ASSERT(s->pending > 0);
    s->visible = value;
    if (--s->pending > 0) {
        return;
    }
    if (sim_mem_mask(s->size, s->visible) != sim_mem_mask(s->size, s->newest)) {
        /* Stores flushed out of execution order: the last flushed wins. */
#ifdef WMM_ASAN
        if (__asan_region_is_poisoned((void *)s->ptr, s->size)) {
            sim_end_run(SIM_PANIC, "weak memory: a buffered store flushes "
                        "into freed memory (%p): some thread freed it "
                        "without synchronising with the stores' threads",
                        (void *)s->ptr);
        }
#endif
        sim_mem_write(s->ptr, s->size, s->visible);
    }
    *s = wmm.shadow[--wmm.shadows];
}

static bool entry_may_flush(const WmmBuffer *b, unsigned i)
{
    if (i == 0) {
        return true;
    }
    if (wmm.model == SIM_MEMORY_TSO || b->e[i].release) {
        return false;
    }
    for (unsigned j = 0; j < i; j++) {
        if (b->e[j].ptr == b->e[i].ptr || b->e[j].epoch != b->e[i].epoch) {
            return false;
        }
    }
    return true;
}

static void entry_flush(uint32_t tid, unsigned i)
{
    WmmBuffer *b = &wmm.buf[tid];
    WmmEntry e = b->e[i];
    WmmShadow *s = shadow_find(e.ptr);

    SIM_ASSERT(s != NULL);
    memmove(&b->e[i], &b->e[i + 1], (b->len - i - 1) * sizeof(WmmEntry));
    b->len--;
    wmm.pending--;
    sim_trace_record2(SIM_EV_MEMORY, e.what, SIM_MEM_FLUSH, tid);
    shadow_flushed(s, e.value);
}

/* Flush every entry of thread tid that is due at step `now` and may. */
static void buffer_flush_due(uint32_t tid, uint64_t now)
{
    WmmBuffer *b = &wmm.buf[tid];

    for (unsigned i = 0; i < b->len;) {
        if (b->e[i].due <= now && entry_may_flush(b, i)) {
            entry_flush(tid, i);
            continue;   /* what followed it moved to i */
        }
        if (wmm.model == SIM_MEMORY_TSO) {
            return;     /* FIFO: nothing passes the head */
        }
        i++;
    }
}

/* Drain thread tid's buffer: oldest first, which every model allows. */
static void buffer_drain(uint32_t tid)
{
    while (wmm.buf[tid].len > 0) {
        entry_flush(tid, 0);
    }
}

void sim_wmm_step(SimWorld *w)
{
    if (wmm.pending == 0) {
        return;
    }
    for (guint i = 0; i < w->threads->len; i++) {
        if (wmm.buf[i + 1].len > 0) {
            buffer_flush_due(i + 1, w->steps);
        }
    }
}

void sim_wmm_drain_current(void)
{
    SimWorld *w = sim_world;

    if (!w || w->current == &w->host || wmm.pending == 0) {
        return;
    }
    buffer_drain(w->current->id);
}

/* The running simulated thread, or 0 when accesses are not simulated
 * (outside a run, the host context, a run that is ending). */
static uint32_t wmm_thread(void)
{
    SimWorld *w = sim_world;

    if (!w || w->current == &w->host || w->ending) {
        return 0;
    }
    return w->current->id;
}

uint64_t sim_wmm_load(const volatile void *ptr, unsigned size, int order,
                      const char *what)
{
    uint32_t tid = wmm_thread();
    WmmShadow *s;

    if (wmm.model == SIM_MEMORY_C11) {
        return sim_c11_load(ptr, size, order, what);
    }
    /* tso/pso never reorder loads: acquire is free */
    if (wmm.pending == 0 || !(s = shadow_find(ptr))) {
        return sim_mem_read(ptr, size);
    }
    if (tid) {
        const WmmBuffer *b = &wmm.buf[tid];

        for (unsigned i = b->len; i-- > 0;) {
            if (b->e[i].ptr == ptr) {
                sim_trace_record2(SIM_EV_MEMORY, what, SIM_MEM_LOAD_OWN, tid);
                return b->e[i].value;
            }
        }
        /* Someone else's store is still in its buffer: say whose (the
         * lowest thread id holding one, for a stable story). */
        for (guint t = 1; t <= sim_world->threads->len; t++) {
            const WmmBuffer *o = &wmm.buf[t];

            for (unsigned i = 0; i < o->len; i++) {
                if (o->e[i].ptr == ptr) {
                    sim_trace_record2(SIM_EV_MEMORY, what,
                                      SIM_MEM_LOAD_STALE, t);
                    return s->visible;
                }
            }
        }
    }
    return s->visible;
}

void sim_wmm_store(volatile void *ptr, unsigned size, uint64_t value,
                   int order, const char *what)
{
    uint32_t tid = wmm_thread();
    SimWorld *w = sim_world;
    WmmBuffer *b;
    WmmShadow *s;
    uint32_t delay = 0;
    uint64_t due;

    if (wmm.model == SIM_MEMORY_C11) {
        sim_c11_store(ptr, size, value, order, what);
        return;
    }
    if (tid && w->threads->len > 1) {
        delay = sim_choose_weak(SIM_CHOICE_MEMORY, WMM_DELAYS);
    }
    s = wmm.pending ? shadow_find(ptr) : NULL;
    b = tid ? &wmm.buf[tid] : NULL;
    if (delay == 0 && (!b || b->len == 0)) {
        /* Visible at once, as under sc. */
        sim_mem_write(ptr, size, value);
        if (s) {
            s->visible = value;
            s->newest = value;
        }
        return;
    }
    if (!s) {
        SIM_ASSERT(wmm.shadows < WMM_SHADOW_MAX);
        s = &wmm.shadow[wmm.shadows++];
        *s = (WmmShadow){ .ptr = ptr, .size = size,
                          .visible = sim_mem_read(ptr, size) };
    }
    SIM_ASSERT(s->size == size);
    if (b->len == WMM_BUF_MAX) {
        entry_flush(tid, 0);
    }
    due = w->steps + (delay == 0 ? 0 : delay == 1 ? WMM_DRAIN_MAX_STEPS
                      : delay == 2 ? 1 : 8);
    b->e[b->len++] = (WmmEntry){
        .ptr = ptr, .size = size, .value = value, .due = due,
        .epoch = b->epoch, .release = order == __ATOMIC_RELEASE ||
                                      order == __ATOMIC_SEQ_CST,
        .what = what,
    };
    s->pending++;
    s->newest = value;
    wmm.pending++;
    sim_mem_write(ptr, size, value);
    sim_trace_record2(SIM_EV_MEMORY, what, SIM_MEM_BUFFER, delay);
    /* Delay 0 behind older entries: visible as soon as they let it. */
    buffer_flush_due(tid, w->steps);
}

void sim_wmm_rmw(const volatile void *ptr, unsigned size, int order)
{
    SimWorld *w = sim_world;
    uint32_t tid = wmm_thread();

    if (wmm.model == SIM_MEMORY_C11) {
        sim_c11_rmw(ptr, size, order);
        return;
    }
    if (wmm.pending == 0) {
        return;
    }
    if (tid) {
        buffer_drain(tid);
    }
    /* The builtin acts on memory: make every buffered store to the
     * location visible first (a flush may happen at any time, so this is
     * a behaviour the model allows), oldest first in each buffer. */
    for (guint t = 1; t <= w->threads->len && shadow_find(ptr); t++) {
        WmmBuffer *b = &wmm.buf[t];
        unsigned last = 0;

        for (unsigned i = 0; i < b->len; i++) {
            if (b->e[i].ptr == ptr) {
                last = i + 1;
            }
        }
        while (last-- > 0) {
            entry_flush(t, 0);
        }
    }
    SIM_ASSERT(!shadow_find(ptr));
}

void sim_wmm_rmw_done(const volatile void *ptr, unsigned size, int order,
                      bool wrote)
{
    /* tso/pso: the read-modify-write acted on memory, nothing buffered. */
    if (wmm.model == SIM_MEMORY_C11) {
        sim_c11_rmw_done(ptr, size, order, wrote);
    }
}

void sim_wmm_release(const void *obj)
{
    if (wmm.model == SIM_MEMORY_C11) {
        sim_c11_release(obj);
    }
}

void sim_wmm_acquire(const void *obj)
{
    if (wmm.model == SIM_MEMORY_C11) {
        sim_c11_acquire(obj);
    }
}

void sim_wmm_thread_created(uint32_t child)
{
    if (wmm.model == SIM_MEMORY_C11) {
        sim_c11_thread_created(wmm_thread(), child);
    }
}

SimMemStamp sim_mem_stamp(void)
{
    SimMemStamp stamp = { 0, 0 };

    if (wmm.model == SIM_MEMORY_C11) {
        sim_c11_stamp(&stamp.thread, &stamp.clock);
    }
    return stamp;
}

bool sim_mem_stamp_happened_before(SimMemStamp stamp)
{
    if (wmm.model != SIM_MEMORY_C11 || stamp.thread == 0) {
        return true;
    }
    return sim_c11_clock_reaches(stamp.thread, stamp.clock);
}

void sim_wmm_fence(int order, const char *what)
{
    uint32_t tid = wmm_thread();

    (void)what;
    if (!tid) {
        return;
    }
    if (wmm.model == SIM_MEMORY_C11) {
        sim_c11_fence(order);
        return;
    }
    if (order == __ATOMIC_SEQ_CST) {
        buffer_drain(tid);
    } else if (order == __ATOMIC_RELEASE) {
        /* PSO: stores after it wait for every store before it. */
        wmm.buf[tid].epoch++;
    }
}
