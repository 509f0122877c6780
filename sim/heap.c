/*
 * sim/heap.c — the checking allocator of the core's objects (heap.h).
 *
 * Why: AddressSanitizer makes a memory error of the core a verdict, but it
 * instruments every access and replaces every malloc of the process, which
 * costs the fuzz target more than half of each input.  The core's objects
 * are few (BHs, handlers, timers, timer lists, the pool and its elements),
 * all allocated through the seam, so the simulator can check them itself
 * in the builds that run without ASan.
 *
 * Method:
 *  - each object gets a 512-byte slot of one arena (reserved once, pages
 *    recycled): a header, the object, and a 32-byte red zone right after
 *    it filled with a pattern;
 *  - a freed object's bytes become its kind's poison word: an address in a
 *    reserved region nobody may touch.  A pointer read from a freed object
 *    (a field, a callback) then faults in that region when it is followed,
 *    and the fault names the kind;
 *  - freed slots wait in a quarantine (a FIFO of HEAP_QUARANTINE slots)
 *    before reuse, so a stale pointer finds poison, not a new
 *    object;
 *  - every atomic of the core checks the slot it touches (heap.h's inline
 *    check): a read or write of a freed object is caught at the access;
 *  - every seam call (lock, fd, poll, clock, yield: sim_sched_point)
 *    checks that the latest frees of the run still hold their poison, a
 *    passing run's end checks all of its frees, and an eviction from the
 *    quarantine the evicted slot: a plain write after free is caught at
 *    the next seam call or by then (the atomics' scheduling points skip
 *    it: checking there doubled the cost of an input);
 *  - a free checks the header (double free, a pointer that is no object's)
 *    and the red zone (overflow); a passing run's end checks that every
 *    object it allocated was freed (leak).
 * What it cannot see: a plain read of a freed object's scalar field that
 * is never followed (ASan, the libfuzzer flavour, sees that).
 *
 * Determinism: nothing here orders by address or reads the clock; a
 * verdict's story names the kind and the scheduling steps of allocation and
 * free, which replay identically.
 */
#include <execinfo.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "heap.h"
#include "world.h"

#define HEAP_ARENA_BYTES ((size_t)64 << 20)    /* reserved, touched on use */
#define HEAP_SLOTS ((uint32_t)(HEAP_ARENA_BYTES / SIM_HEAP_SLOT_BYTES))
#define HEAP_REDZONE 32u        /* checked bytes past each object */
#define HEAP_USER_MAX (SIM_HEAP_SLOT_BYTES - SIM_HEAP_HDR_BYTES - HEAP_REDZONE)
/* Slots (128 KB): a run frees ~17 objects, so this holds the frees of a
 * dozen runs — a stale pointer kept across runs still finds poison — and
 * stays in the cache: 4096 slots (2 MB) made every free a cache miss, a
 * twentieth of an input. */
#define HEAP_QUARANTINE 256u
#define HEAP_RECENT 1u          /* frees checked at every seam call */
#define HEAP_FREED 0x646565726672662dULL
#define HEAP_EMPTY 0ULL
#define HEAP_REDZONE_BYTE 0xa5
/* Each kind's poison points into its own 64 KB window of a reserved
 * region, at the middle, so a field offset either way stays inside it. */
#define HEAP_POISON_WINDOW ((uintptr_t)64 << 10)

_Static_assert(HEAP_USER_MAX >= 272, "a slot must hold the largest object");

typedef struct {
    uint64_t state;             /* SIM_HEAP_LIVE, HEAP_FREED, HEAP_EMPTY */
    uint32_t kind;
    uint32_t size;
    uint64_t run;               /* the run that allocated it */
    uint64_t alloc_step;
    uint64_t free_step;
    uint32_t live_prev;         /* live list: slot + 1, 0 none */
    uint32_t live_next;
    void *alloc_pc;             /* who called qos_obj_new() */
    void *free_pc;              /* who called qos_obj_free() */
} HeapHdr;

_Static_assert(sizeof(HeapHdr) == SIM_HEAP_HDR_BYTES, "header size");

uintptr_t sim_heap_base;
uintptr_t sim_heap_used;
unsigned sim_heap_recent_count;

static uintptr_t poison_base;
/* Each kind's poison, as a freed object of the largest size holds it: a
 * check is one pass over words. */
static unsigned char poison_image[QOS_OBJ_KIND_MAX][HEAP_USER_MAX];
static unsigned char redzone_image[HEAP_REDZONE];
static uint32_t *free_slots;        /* evicted slots, reused first */
static uint32_t free_count;
static uint32_t quarantine[HEAP_QUARANTINE];
static uint32_t q_head;             /* oldest */
static uint32_t q_count;
static uint32_t live_head;          /* slot + 1 */
static unsigned live_count;
static uint64_t run_seq;            /* 0: outside sim_run() */
static struct sigaction old_segv;

static const char *const kind_names[QOS_OBJ_KIND_MAX] = {
    [QOS_OBJ_BH] = "BH",
    [QOS_OBJ_HANDLER] = "fd handler",
    [QOS_OBJ_TIMER] = "timer",
    [QOS_OBJ_TIMER_LIST] = "timer list",
    [QOS_OBJ_POOL] = "thread pool",
    [QOS_OBJ_POOL_ELEMENT] = "thread-pool element",
    [QOS_OBJ_POOL_THREAD] = "thread-pool thread",
};

static const char *kind_name(uint32_t kind)
{
    return kind < QOS_OBJ_KIND_MAX ? kind_names[kind] : "core object";
}

static HeapHdr *slot_hdr(uint32_t slot)
{
    return (HeapHdr *)(sim_heap_base + (uintptr_t)slot * SIM_HEAP_SLOT_BYTES);
}

static unsigned char *hdr_user(HeapHdr *h)
{
    return (unsigned char *)h + SIM_HEAP_HDR_BYTES;
}

static uint32_t hdr_slot(const HeapHdr *h)
{
    return (uint32_t)(((uintptr_t)h - sim_heap_base) / SIM_HEAP_SLOT_BYTES);
}

static uint64_t poison_word(uint32_t kind)
{
    return poison_base + kind * HEAP_POISON_WINDOW + HEAP_POISON_WINDOW / 2;
}

static uint64_t step_now(void)
{
    return sim_world ? sim_world->steps : 0;
}

/*
 * A memory error.  Inside a run it is that run's verdict, with the stack
 * that found it kept for the signature; outside one (an implicit world, a
 * teardown between runs) there is no run to blame: print and abort.
 */
G_NORETURN G_GNUC_PRINTF(1, 2)
static void heap_error(const char *fmt, ...)
{
    SimWorld *w = sim_world;
    char msg[512];      /* not the heap: a verdict abandons this stack */
    va_list ap;

    va_start(ap, fmt);
    g_vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (w && !w->implicit && w->current != &w->host && !w->ending) {
        w->panic_pc_count = backtrace(w->panic_pcs, SIM_PANIC_PCS_MAX);
        sim_end_run(SIM_MEMORY, "%s", msg);
    }
    fprintf(stderr, "qloop-sim: memory: %s\n", msg);
    fflush(stderr);
    abort();
}

/* A pointer read from a freed object was followed: it faults in the
 * poison region, at its kind's window. */
static void segv_handler(int sig, siginfo_t *info, void *uctx)
{
    uintptr_t addr = (uintptr_t)info->si_addr;

    if (poison_base && addr - poison_base < QOS_OBJ_KIND_MAX * HEAP_POISON_WINDOW) {
        heap_error("heap-use-after-free of a %s: a pointer read from it after "
                   "it was freed was followed (fault at poison%+ld)",
                   kind_name((uint32_t)((addr - poison_base) / HEAP_POISON_WINDOW)),
                   (long)(addr - poison_base) % (long)HEAP_POISON_WINDOW -
                       (long)HEAP_POISON_WINDOW / 2);
    }
    /* Not ours: the handler that was there before, or the default. */
    if (old_segv.sa_flags & SA_SIGINFO) {
        old_segv.sa_sigaction(sig, info, uctx);
    } else if (old_segv.sa_handler != SIG_IGN && old_segv.sa_handler != SIG_DFL) {
        old_segv.sa_handler(sig);
    } else {
        signal(sig, SIG_DFL);   /* the fault repeats and kills */
    }
}

static void heap_init(void)
{
    struct sigaction sa;
    void *arena = mmap(NULL, HEAP_ARENA_BYTES, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    void *poison = mmap(NULL, QOS_OBJ_KIND_MAX * HEAP_POISON_WINDOW, PROT_NONE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    void *warm[1];

    if (arena == MAP_FAILED || poison == MAP_FAILED) {
        fprintf(stderr, "qloop-sim: cannot reserve the core objects' arena\n");
        abort();
    }
    sim_heap_base = (uintptr_t)arena;
    poison_base = (uintptr_t)poison;
    free_slots = g_new(uint32_t, HEAP_SLOTS);
    for (uint32_t k = 0; k < QOS_OBJ_KIND_MAX; k++) {
        uint64_t word = poison_word(k);

        for (size_t i = 0; i < HEAP_USER_MAX; i++) {
            poison_image[k][i] = ((const unsigned char *)&word)[i % 8];
        }
    }
    memset(redzone_image, HEAP_REDZONE_BYTE, sizeof(redzone_image));
    backtrace(warm, 1);     /* loads libgcc now, not in the fault handler */
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = segv_handler;
    /* NODEFER: a verdict leaves the handler by a stack switch, never by a
     * return, and later runs must still fault into it. */
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &old_segv);
}

static void poison_fill(HeapHdr *h)
{
    memcpy(hdr_user(h), poison_image[h->kind], h->size);
}

/*
 * The first 8-byte word of a that differs from b, as a byte offset, or -1.
 * Objects and red zones are whole words.  A loop, not memcmp(): the fast
 * fuzz flavours link libFuzzer's memcmp interceptor, which would record
 * every check's operands as values to try (a twentieth of an input).
 */
static long words_differ(const unsigned char *a, const unsigned char *b,
                         size_t len)
{
    size_t i = 0;

    /* Four words at a time, no branch between them (a check at every seam
     * call: the common answer, "no difference", is found the fastest);
     * then word by word, from the block that differs, to say where. */
    for (; i + 32 <= len; i += 32) {
        uint64_t x[4], y[4];

        memcpy(x, a + i, 32);
        memcpy(y, b + i, 32);
        if ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3])) {
            break;
        }
    }
    for (; i < len; i += 8) {
        uint64_t x, y;

        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
        if (x != y) {
            return (long)i;
        }
    }
    return -1;
}

/* The offset of the first word of a freed object that lost its poison —
 * the field written — or -1. */
static long poison_broken(HeapHdr *h)
{
    return words_differ(hdr_user(h), poison_image[h->kind], h->size);
}

/* The first red-zone word overwritten, as an offset past the object, or
 * -1. */
static long redzone_broken(HeapHdr *h)
{
    return words_differ(hdr_user(h) + h->size, redzone_image, HEAP_REDZONE);
}

static void check_poison(HeapHdr *h, const char *when)
{
    long at = poison_broken(h);

    if (at >= 0) {
        heap_error("heap-use-after-free of a %s: written after it was freed "
                   "(offset %ld of %u; allocated at step %" G_GUINT64_FORMAT
                   ", freed at step %" G_GUINT64_FORMAT "%s; found %s)",
                   kind_name(h->kind), at, h->size, h->alloc_step,
                   h->free_step, h->run == run_seq ? "" : " of an earlier run",
                   when);
    }
}

static void live_unlink(HeapHdr *h)
{
    if (h->live_prev) {
        slot_hdr(h->live_prev - 1)->live_next = h->live_next;
    } else {
        live_head = h->live_next;
    }
    if (h->live_next) {
        slot_hdr(h->live_next - 1)->live_prev = h->live_prev;
    }
    live_count--;
}

void *sim_heap_new(int kind, size_t size)
{
    uint32_t slot;
    HeapHdr *h;

    if (!sim_heap_base) {
        heap_init();
    }
    /* Whole words: the checks compare words (every core object is). */
    SIM_ASSERT((unsigned)kind < QOS_OBJ_KIND_MAX && size <= HEAP_USER_MAX &&
               size % 8 == 0);
    if (free_count) {
        slot = free_slots[--free_count];
    } else if (sim_heap_used / SIM_HEAP_SLOT_BYTES < HEAP_SLOTS) {
        slot = (uint32_t)(sim_heap_used / SIM_HEAP_SLOT_BYTES);
        sim_heap_used += SIM_HEAP_SLOT_BYTES;
    } else {
        heap_error("the core holds more than %u live objects", HEAP_SLOTS);
    }
    h = slot_hdr(slot);
    h->state = SIM_HEAP_LIVE;
    h->kind = (uint32_t)kind;
    h->size = (uint32_t)size;
    h->run = run_seq;
    h->alloc_step = step_now();
    h->free_step = 0;
    h->alloc_pc = __builtin_return_address(0);
    h->free_pc = NULL;
    h->live_prev = 0;
    h->live_next = live_head;
    if (live_head) {
        slot_hdr(live_head - 1)->live_prev = slot + 1;
    }
    live_head = slot + 1;
    live_count++;
    memset(hdr_user(h), 0, size);
    memcpy(hdr_user(h) + size, redzone_image, HEAP_REDZONE);
    return hdr_user(h);
}

/* The slot of a pointer the core says is an object, or NULL. */
static HeapHdr *object_hdr(const void *obj)
{
    uintptr_t off = (uintptr_t)obj - sim_heap_base;

    if (!sim_heap_base || off >= sim_heap_used ||
        off % SIM_HEAP_SLOT_BYTES != SIM_HEAP_HDR_BYTES) {
        return NULL;
    }
    return (HeapHdr *)(sim_heap_base + off - SIM_HEAP_HDR_BYTES);
}

/* Into the quarantine, poisoned: its slot is reused only once
 * HEAP_QUARANTINE later frees have pushed it out. */
static void quarantine_push(HeapHdr *h)
{
    live_unlink(h);
    h->state = HEAP_FREED;
    h->free_step = step_now();
    poison_fill(h);
    if (q_count == HEAP_QUARANTINE) {
        HeapHdr *old = slot_hdr(quarantine[q_head]);

        check_poison(old, "when it left the quarantine");
        old->state = HEAP_EMPTY;
        free_slots[free_count++] = quarantine[q_head];
        q_head = (q_head + 1) % HEAP_QUARANTINE;
        q_count--;
    }
    quarantine[(q_head + q_count) % HEAP_QUARANTINE] = hdr_slot(h);
    q_count++;
}

void sim_heap_free(int kind, void *obj)
{
    HeapHdr *h;
    long at;

    if (!obj) {
        return;
    }
    h = object_hdr(obj);
    if (!h) {
        heap_error("bad-free of a %s: %s", kind_name((uint32_t)kind),
                   "the pointer is no core object's");
    }
    if (h->state == HEAP_FREED) {
        heap_error("double-free of a %s (allocated at step %" G_GUINT64_FORMAT
                   ", freed at step %" G_GUINT64_FORMAT "%s, freed again)",
                   kind_name(h->kind), h->alloc_step, h->free_step,
                   h->run == run_seq ? "" : " of an earlier run");
    }
    if (h->state != SIM_HEAP_LIVE || h->kind != (uint32_t)kind) {
        heap_error("bad-free of a %s: the slot holds %s", kind_name((uint32_t)kind),
                   h->state == SIM_HEAP_LIVE ? kind_name(h->kind) : "nothing");
    }
    at = redzone_broken(h);
    if (at >= 0) {
        heap_error("heap-buffer-overflow of a %s: written at offset %ld, past "
                   "its %u bytes (allocated at step %" G_GUINT64_FORMAT ")",
                   kind_name(h->kind), h->size + at, h->size, h->alloc_step);
    }
    h->free_pc = __builtin_return_address(0);
    quarantine_push(h);
    if (run_seq && sim_heap_recent_count < HEAP_RECENT) {
        sim_heap_recent_count++;
    }
}

void sim_heap_bad_access(const volatile void *ptr, int write)
{
    uintptr_t off = (uintptr_t)ptr - sim_heap_base;
    HeapHdr *h = (HeapHdr *)(sim_heap_base + off - off % SIM_HEAP_SLOT_BYTES);
    long field = (long)(off % SIM_HEAP_SLOT_BYTES) - SIM_HEAP_HDR_BYTES;

    if (h->state == SIM_HEAP_LIVE) {
        heap_error("heap-buffer-overflow of a %s: an atomic %s at offset %ld "
                   "of its %u bytes", kind_name(h->kind),
                   write ? "write" : "read", field, h->size);
    }
    heap_error("heap-use-after-free of a %s: an atomic %s at offset %ld after "
               "it was freed (allocated at step %" G_GUINT64_FORMAT ", freed "
               "at step %" G_GUINT64_FORMAT "%s)", kind_name(h->kind),
               write ? "write" : "read", field, h->alloc_step, h->free_step,
               h->run == run_seq ? "" : " of an earlier run");
}

void sim_heap_seam_check(void)
{
    for (unsigned i = 0; i < sim_heap_recent_count; i++) {
        uint32_t at = (q_head + q_count - 1 - i) % HEAP_QUARANTINE;

        check_poison(slot_hdr(quarantine[at]), "at a seam call");
    }
}

void sim_heap_run_begin(void)
{
    /*
     * Objects still live now were left by a run whose world was abandoned
     * (a verdict, or a hang that passes): a passing run that left one is a
     * leak verdict.  That world is freed, and the runner forgets the core's
     * globals that named them, so they are nobody's: free them, or a long
     * campaign fills the arena with them ("more than HEAP_SLOTS live
     * objects", a verdict no input gives alone).
     */
    while (live_head) {
        HeapHdr *h = slot_hdr(live_head - 1);

        h->free_pc = NULL;
        quarantine_push(h);
    }
    run_seq++;
    sim_heap_recent_count = 0;
}

/* Tell a verdict from the host side of the run, which has just ended. */
static void run_verdict(void *pc, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void run_verdict(void *pc, const char *fmt, ...)
{
    SimWorld *w = sim_world;
    va_list ap;

    w->verdict = SIM_MEMORY;
    va_start(ap, fmt);
    g_string_vprintf(w->story, fmt, ap);
    va_end(ap);
    w->panic_pcs[0] = pc;
    w->panic_pc_count = pc ? 1 : 0;
}

void sim_heap_run_end(void)
{
    SimWorld *w = sim_world;

    if (!sim_heap_base || !w || w->verdict != SIM_OK) {
        return;
    }
    /* This run's frees are the newest of the quarantine. */
    for (uint32_t i = 0; i < q_count; i++) {
        HeapHdr *h = slot_hdr(quarantine[(q_head + q_count - 1 - i) %
                                         HEAP_QUARANTINE]);
        long at;

        if (h->run != run_seq) {
            break;
        }
        at = poison_broken(h);
        if (at >= 0) {
            run_verdict(NULL, "heap-use-after-free of a %s: written after it "
                        "was freed (offset %ld of %u; allocated at step %"
                        G_GUINT64_FORMAT ", freed at step %" G_GUINT64_FORMAT
                        "; found at the end of the run)", kind_name(h->kind),
                        at, h->size, h->alloc_step, h->free_step);
            return;
        }
    }
}

SimVerdict sim_check_leaks(void)
{
    SimWorld *w = sim_world;

    if (!sim_heap_base || !w || w->verdict != SIM_OK) {
        return w ? w->verdict : SIM_OK;
    }
    /* The newest allocations head the live list: this run's come first.
     * An older object's red zone is checked when it is freed. */
    for (uint32_t s = live_head; s && slot_hdr(s - 1)->run == run_seq;
         s = slot_hdr(s - 1)->live_next) {
        HeapHdr *h = slot_hdr(s - 1);
        long at = redzone_broken(h);

        if (at >= 0) {
            run_verdict(h->alloc_pc, "heap-buffer-overflow of a %s: written "
                        "at offset %ld, past its %u bytes (allocated at step %"
                        G_GUINT64_FORMAT "; found at the end of the run)",
                        kind_name(h->kind), h->size + at, h->size,
                        h->alloc_step);
        } else {
            run_verdict(h->alloc_pc, "leak of a %s: allocated at step %"
                        G_GUINT64_FORMAT " and never freed (%u bytes)",
                        kind_name(h->kind), h->alloc_step, h->size);
        }
        break;
    }
    return w->verdict;
}

unsigned sim_heap_live_count(void)
{
    return live_count;
}
