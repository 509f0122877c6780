/*
 * sim/c11.c — the C11 memory model for the core's atomics (--memory c11).
 *
 * Method: the operational model of tsan11 and Miri.  Each simulated thread
 * carries a vector clock; each atomic location a history of its last
 * stores in modification order (execution order: a store is newest when
 * made), each store with its writer, the writer's own clock component at
 * the store, and the clock an acquire that reads it joins (the writer's
 * whole clock for a release store; its clock at its last release fence for
 * a relaxed one; none otherwise).  A load may read any store of the
 * history that is not hidden: not older than a store that happens-before
 * the load, nor older than a store this thread already read or wrote
 * (read-read and write-read coherence).  Which one is a tape choice
 * (SIM_CHOICE_MEMORY: 0 the newest — so a zero tape is a sequentially
 * consistent run — 1 the one before, ...), a weak choice the explorer
 * bounds with its delay bound.
 *   - acquire load: joins the clock of the store read; relaxed load: keeps
 *     it for the thread's next acquire fence (smp_rmb(), smp_mb());
 *   - release store carries the writer's clock; relaxed store the clock of
 *     the writer's last release fence (smp_wmb(), smp_mb());
 *   - read-modify-writes read the newest store (the model's store is the
 *     builtin's own result in memory) and continue its release sequence:
 *     the store they make carries the clock of the store they read too;
 *   - sequentially consistent fences join and publish one global clock:
 *     they are totally ordered and each synchronises with the ones before
 *     — stronger than C11's SC fences, which only constrain which stores
 *     loads after the later one may read; a seq_cst
 *     read-modify-write publishes its clock there too (a later SC fence
 *     sees it) but is no fence: C11's seq_cst RMWs are not full barriers
 *     (QEMU's smp_mb__after_rmw() exists for Arm, where they are not);
 *   - seam calls synchronise as the OS does (sim_c11_release/acquire on
 *     the mutex, the fd, the thread; see sim/sync.c, sim/fd.c, sim/sched.c).
 *
 * Memory itself always holds the newest store (written through, as the
 * store buffers of sim/wmm.c do), so a plain access sees the newest value
 * and nothing lands late in freed memory.  That is also how a plain write
 * or a re-allocation is noticed: when memory no longer holds the history's
 * newest value, someone wrote the location past the model, and its
 * history restarts from that value, which happens-before every thread (see
 * docs/simulation.md for what this misses).
 *
 * Bounds, each with what happens at it: C11_HISTORY_MAX stores a location
 * (an older one is dropped: fewer stale values to read, never a wrong
 * one); C11_LOCS_MAX locations (all dropped, each restarts from memory);
 * clocks as wide as the scheduler's thread table.  Tables are
 * looked up by address only, never walked in address order.
 */
#include <string.h>

#include "wmm.h"
#include "world.h"

/* Stores kept a location.  The core's protocol variables see a handful of
 * stores between synchronisations; eight lets a load pass over seven. */
#define C11_HISTORY_MAX 8
#define C11_CLOCK_LEN (SIM_THREADS_MAX + 1)
/* Locations with a history at once (each ~5.5 KiB).  A run that touches
 * more (every BH's flags is one; ASan's quarantine keeps addresses from
 * being reused) drops them all and starts again: each history restarts
 * from memory at its next access — fewer stale values, never a wrong one. */
#define C11_LOCS_MAX 4096

typedef struct {
    uint32_t t[C11_CLOCK_LEN];  /* by thread id; [0] the host, always 0 */
} C11Clock;

typedef struct {
    uint64_t value;
    uint64_t mo;                /* its place in modification order, from 1 */
    uint32_t tid;               /* writer; 0: found in memory */
    uint32_t ts;                /* the writer's own clock at the store */
    bool has_clock;
    C11Clock clock;             /* what an acquire reading it joins */
} C11Store;

typedef struct {
    const volatile void *ptr;
    unsigned size;
    unsigned first, len;        /* ring of stores, oldest at first */
    uint64_t next_mo;
    C11Store s[C11_HISTORY_MAX];
    uint64_t seen_mo[C11_CLOCK_LEN];    /* per thread: newest read/written */
} C11Loc;

typedef struct {
    C11Clock now;
    C11Clock fence_release;     /* at its last release fence */
    bool has_fence_release;
    C11Clock acquire_pending;   /* stores its relaxed loads read */
} C11Thread;

static struct {
    GHashTable *locs;           /* ptr -> C11Loc */
    GHashTable *syncs;          /* seam object -> C11Clock */
    GPtrArray *spare_locs;      /* C11Loc, kept across worlds */
    GPtrArray *spare_clocks;    /* C11Clock, kept across worlds */
    C11Thread thread[C11_CLOCK_LEN];
    uint32_t threads_used;      /* highest thread id that ran: reset these */
    C11Clock sc;                /* the SC fences' and RMWs' total order */
    unsigned n;                 /* clock entries in use: thread count + 1 */
    /* Between the hooks around one read-modify-write (no scheduling
     * point between them). */
    C11Loc *rmw_loc;
    C11Clock rmw_read_clock;
    bool rmw_read_has_clock;
} c11;

static C11Store *loc_at(C11Loc *l, unsigned i)
{
    SIM_ASSERT(i < l->len);
    return &l->s[(l->first + i) % C11_HISTORY_MAX];
}

static C11Store *loc_newest(C11Loc *l)
{
    return loc_at(l, l->len - 1);
}

static void clock_join(C11Clock *dst, const C11Clock *src)
{
    for (unsigned i = 0; i < c11.n; i++) {
        if (src->t[i] > dst->t[i]) {
            dst->t[i] = src->t[i];
        }
    }
}

/* Entries past c11.n are 0 in every clock of the world (n only grows, and
 * every clock is zeroed when a world first uses it). */
static void clock_copy(C11Clock *dst, const C11Clock *src)
{
    memcpy(dst->t, src->t, c11.n * sizeof(dst->t[0]));
}

static void clock_update_width(void)
{
    SimWorld *w = sim_world;

    c11.n = w->threads->len + 1;
    SIM_ASSERT(c11.n <= C11_CLOCK_LEN);
}

/* The running simulated thread, 0 outside one (the host: sequentially
 * consistent, its accesses visible to every thread). */
static uint32_t c11_thread(void)
{
    SimWorld *w = sim_world;

    if (!w || w->current == &w->host || w->ending) {
        return 0;
    }
    clock_update_width();
    if (w->current->id > c11.threads_used) {
        c11.threads_used = w->current->id;
    }
    return w->current->id;
}

void sim_c11_init(SimWorld *w)
{
    (void)w;
    if (!c11.locs) {
        c11.locs = g_hash_table_new(g_direct_hash, g_direct_equal);
        c11.syncs = g_hash_table_new(g_direct_hash, g_direct_equal);
        c11.spare_locs = g_ptr_array_new();
        c11.spare_clocks = g_ptr_array_new();
    }
    memset(c11.thread, 0, (c11.threads_used + 1) * sizeof(C11Thread));
    memset(&c11.sc, 0, sizeof(c11.sc));
    c11.threads_used = 1;
    c11.n = 2;
    /* Thread 1 starts at 1: its first stores are not "before" anyone. */
    c11.thread[1].now.t[1] = 1;
    c11.rmw_loc = NULL;
}

static void spare_loc(gpointer key, gpointer value, gpointer opaque)
{
    (void)key;
    (void)opaque;
    g_ptr_array_add(c11.spare_locs, value);
}

static void spare_clock(gpointer key, gpointer value, gpointer opaque)
{
    (void)key;
    (void)opaque;
    g_ptr_array_add(c11.spare_clocks, value);
}

/* Histories and seam clocks die with the world: the next one's objects
 * may sit at the same addresses. */
void sim_c11_fini(SimWorld *w)
{
    (void)w;
    g_hash_table_foreach(c11.locs, spare_loc, NULL);
    g_hash_table_remove_all(c11.locs);
    g_hash_table_foreach(c11.syncs, spare_clock, NULL);
    g_hash_table_remove_all(c11.syncs);
}

/* The location's history restarts from what memory holds: a store by
 * nobody (tid 0), which happens-before every thread. */
static void loc_restart(C11Loc *l, unsigned size, uint64_t value)
{
    C11Store *s;

    l->size = size;
    l->first = 0;
    l->len = 1;
    s = &l->s[0];
    s->value = value;
    s->mo = ++l->next_mo;
    s->tid = 0;
    s->ts = 0;
    s->has_clock = false;
    memset(l->seen_mo, 0, c11.n * sizeof(l->seen_mo[0]));
}

/* The location's history, settled against memory first. */
static C11Loc *loc_get(const volatile void *ptr, unsigned size)
{
    C11Loc *l = g_hash_table_lookup(c11.locs, (gpointer)ptr);
    uint64_t mem = sim_mem_read(ptr, size);

    if (!l) {
        if (g_hash_table_size(c11.locs) >= C11_LOCS_MAX) {
            g_hash_table_foreach(c11.locs, spare_loc, NULL);
            g_hash_table_remove_all(c11.locs);
            SIM_ASSERT(c11.rmw_loc == NULL);
        }
        l = c11.spare_locs->len
            ? g_ptr_array_steal_index_fast(c11.spare_locs,
                                           c11.spare_locs->len - 1)
            : g_new(C11Loc, 1);
        memset(l, 0, sizeof(*l));
        l->ptr = ptr;
        g_hash_table_insert(c11.locs, (gpointer)ptr, l);
        loc_restart(l, size, mem);
        return l;
    }
    if (l->size != size ||
        sim_mem_mask(size, loc_newest(l)->value) != sim_mem_mask(size, mem)) {
        /* Written past the model: a plain store, or the address freed and
         * given to another object. */
        loc_restart(l, size, mem);
    }
    return l;
}

static C11Store *loc_append(C11Loc *l, uint32_t tid, uint64_t value)
{
    C11Store *s;

    if (l->len == C11_HISTORY_MAX) {
        l->first = (l->first + 1) % C11_HISTORY_MAX;
        l->len--;
    }
    l->len++;
    s = loc_newest(l);
    s->value = value;
    s->mo = ++l->next_mo;
    s->tid = tid;
    s->ts = tid ? ++c11.thread[tid].now.t[tid] : 0;
    s->has_clock = false;
    if (tid) {
        l->seen_mo[tid] = s->mo;
    }
    return s;
}

/* The clock a store by tid carries (release: everything it knows;
 * relaxed: what it knew at its last release fence). */
static void store_set_clock(C11Store *s, uint32_t tid, int order)
{
    C11Thread *t = &c11.thread[tid];

    if (order != __ATOMIC_RELAXED) {
        s->has_clock = true;
        clock_copy(&s->clock, &t->now);
    } else if (t->has_fence_release) {
        s->has_clock = true;
        clock_copy(&s->clock, &t->fence_release);
    }
}

static bool is_acquire(int order)
{
    return order == __ATOMIC_ACQUIRE || order == __ATOMIC_CONSUME ||
           order == __ATOMIC_ACQ_REL || order == __ATOMIC_SEQ_CST;
}

/* Reading store s: coherence from now on, and its clock now (acquire) or
 * at the next acquire fence (relaxed). */
static void read_from(C11Loc *l, const C11Store *s, uint32_t tid, int order)
{
    C11Thread *t = &c11.thread[tid];

    if (s->mo > l->seen_mo[tid]) {
        l->seen_mo[tid] = s->mo;
    }
    if (!s->has_clock) {
        return;
    }
    clock_join(is_acquire(order) ? &t->now : &t->acquire_pending, &s->clock);
}

/* The oldest store of l that tid may still read. */
static unsigned load_floor(C11Loc *l, uint32_t tid)
{
    const C11Clock *now = &c11.thread[tid].now;

    for (unsigned i = l->len; i-- > 1;) {
        const C11Store *s = loc_at(l, i);

        if (s->mo <= l->seen_mo[tid] || s->ts <= now->t[s->tid]) {
            return i;
        }
    }
    return 0;
}

static void sc_sync(uint32_t tid)
{
    C11Thread *t = &c11.thread[tid];

    clock_join(&t->now, &c11.sc);
    clock_copy(&c11.sc, &t->now);
}

uint64_t sim_c11_load(const volatile void *ptr, unsigned size, int order,
                      const char *what)
{
    uint32_t tid = c11_thread();
    C11Loc *l = loc_get(ptr, size);
    unsigned floor, pick = 0;
    const C11Store *s;

    if (!tid) {
        return loc_newest(l)->value;
    }
    if (order == __ATOMIC_SEQ_CST) {
        sc_sync(tid);
    }
    floor = load_floor(l, tid);
    if (floor + 1 < l->len) {
        pick = sim_choose_weak(SIM_CHOICE_MEMORY, l->len - floor);
    }
    s = loc_at(l, l->len - 1 - pick);
    read_from(l, s, tid, order);
    if (pick) {
        sim_trace_record2(SIM_EV_MEMORY, what, SIM_MEM_LOAD_OLDER,
                          (int64_t)s->tid | (int64_t)pick << 32);
    }
    return s->value;
}

void sim_c11_store(volatile void *ptr, unsigned size, uint64_t value,
                   int order, const char *what)
{
    uint32_t tid = c11_thread();
    C11Loc *l = loc_get(ptr, size);
    C11Store *s;

    (void)what;
    if (tid && order == __ATOMIC_SEQ_CST) {
        sc_sync(tid);
    }
    s = loc_append(l, tid, value);
    if (tid) {
        store_set_clock(s, tid, order);
    }
    sim_mem_write(ptr, size, value);
}

void sim_c11_rmw(const volatile void *ptr, unsigned size, int order)
{
    uint32_t tid = c11_thread();
    C11Loc *l = loc_get(ptr, size);
    const C11Store *s = loc_newest(l);

    SIM_ASSERT(c11.rmw_loc == NULL);
    c11.rmw_loc = l;
    c11.rmw_read_has_clock = s->has_clock;
    if (s->has_clock) {
        clock_copy(&c11.rmw_read_clock, &s->clock);
    }
    if (!tid) {
        return;
    }
    read_from(l, s, tid, order);
}

void sim_c11_rmw_done(const volatile void *ptr, unsigned size, int order,
                      bool wrote)
{
    uint32_t tid = c11_thread();
    C11Loc *l = c11.rmw_loc;
    C11Store *s;

    SIM_ASSERT(l != NULL && l->ptr == ptr && l->size == size);
    c11.rmw_loc = NULL;
    if (!wrote) {
        return;     /* a failed compare-and-swap: a load of the newest */
    }
    s = loc_append(l, tid, sim_mem_read(ptr, size));
    if (!tid) {
        return;
    }
    store_set_clock(s, tid, order);
    /* The release sequence goes on through the read-modify-write. */
    if (c11.rmw_read_has_clock) {
        if (!s->has_clock) {
            s->has_clock = true;
            memset(&s->clock, 0, sizeof(s->clock));
        }
        clock_join(&s->clock, &c11.rmw_read_clock);
    }
    if (order == __ATOMIC_SEQ_CST) {
        /* In the SC order: a later SC fence sees it (stronger than C11,
         * which only keeps such a fence's loads from reading older
         * stores), but it is no fence itself — QEMU's smp_mb__after_rmw()
         * exists because Arm's seq_cst RMWs are not. */
        clock_join(&c11.sc, &c11.thread[tid].now);
    }
}

void sim_c11_fence(int order)
{
    uint32_t tid = c11_thread();
    C11Thread *t;

    if (!tid) {
        return;
    }
    t = &c11.thread[tid];
    if (is_acquire(order)) {
        clock_join(&t->now, &t->acquire_pending);
    }
    if (order == __ATOMIC_SEQ_CST) {
        sc_sync(tid);
    }
    if (order == __ATOMIC_RELEASE || order == __ATOMIC_ACQ_REL ||
        order == __ATOMIC_SEQ_CST) {
        clock_copy(&t->fence_release, &t->now);
        t->has_fence_release = true;
    }
}

static C11Clock *sync_clock(const void *obj)
{
    C11Clock *c = g_hash_table_lookup(c11.syncs, obj);

    if (!c) {
        c = c11.spare_clocks->len
            ? g_ptr_array_steal_index_fast(c11.spare_clocks,
                                           c11.spare_clocks->len - 1)
            : g_new(C11Clock, 1);
        memset(c, 0, sizeof(*c));
        g_hash_table_insert(c11.syncs, (gpointer)obj, c);
    }
    return c;
}

void sim_c11_release(const void *obj)
{
    uint32_t tid = c11_thread();
    C11Thread *t;

    if (!tid) {
        return;
    }
    t = &c11.thread[tid];
    clock_join(sync_clock(obj), &t->now);
    /* What follows is not part of what was released. */
    t->now.t[tid]++;
}

void sim_c11_acquire(const void *obj)
{
    uint32_t tid = c11_thread();
    C11Clock *c;

    if (!tid || !(c = g_hash_table_lookup(c11.syncs, obj))) {
        return;
    }
    clock_join(&c11.thread[tid].now, c);
}

void sim_c11_thread_created(uint32_t parent, uint32_t child)
{
    C11Thread *t;

    clock_update_width();
    SIM_ASSERT(child >= 1 && child < c11.n);
    t = &c11.thread[child];
    memset(t, 0, sizeof(*t));
    if (parent) {
        clock_copy(&t->now, &c11.thread[parent].now);
        c11.thread[parent].now.t[parent]++;
    }
    t->now.t[child] = 1;
    if (child > c11.threads_used) {
        c11.threads_used = child;
    }
}

/* A point of the running thread: its clock component, then a step on, so
 * that its later stores are above the stamp (as a release does). */
void sim_c11_stamp(uint32_t *thread, uint32_t *clock)
{
    uint32_t tid = c11_thread();

    *thread = tid;
    *clock = 0;
    if (tid) {
        *clock = c11.thread[tid].now.t[tid];
        c11.thread[tid].now.t[tid]++;
    }
}

/* Whether the running thread's clock has reached thread's point: every
 * store thread made before it happens-before the running thread's next
 * access.  The host (0) is ordered after everything. */
bool sim_c11_clock_reaches(uint32_t thread, uint32_t clock)
{
    uint32_t tid = c11_thread();

    if (!tid || tid == thread) {
        return true;
    }
    SIM_ASSERT(thread < c11.n);
    return c11.thread[tid].now.t[thread] >= clock;
}
