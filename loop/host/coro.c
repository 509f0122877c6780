/*
 * loop/host/coro.c — the host side of the coroutine seam: stacks, the
 * thread's own context, the per-thread area, and what the sanitizers must
 * be told at each switch.
 *
 * Stacks are anonymous mappings with a PROT_NONE guard page at the low
 * end: an overflow faults instead of writing over the neighbour, and pages
 * never touched cost nothing.  Thread-local state is read through
 * noinline accessors: a coroutine may resume on another thread, and a
 * compiler that kept a TLS address in a register across the switch would
 * then write to the old thread's variables.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <glib.h>

#include "../os.h"
#include "coro-arch.h"

#if defined(__SANITIZE_ADDRESS__)
#define HOST_CORO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HOST_CORO_ASAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define HOST_CORO_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define HOST_CORO_TSAN 1
#endif
#endif

#ifdef HOST_CORO_ASAN
void __sanitizer_start_switch_fiber(void **fake_stack_save, const void *bottom,
                                    size_t size);
void __sanitizer_finish_switch_fiber(void *fake_stack_save,
                                     const void **bottom_old,
                                     size_t *size_old);
void __asan_unpoison_memory_region(const volatile void *addr, size_t size);
#endif
#ifdef HOST_CORO_TSAN
void *__tsan_get_current_fiber(void);
void *__tsan_create_fiber(unsigned flags);
void __tsan_destroy_fiber(void *fiber);
void __tsan_switch_to_fiber(void *fiber, unsigned flags);
#endif

struct QosCoro {
    CoroArch arch;
    void *map;                  /* the mapping, guard page first; NULL for
                                   a thread's own stack */
    size_t map_bytes;
    const void *stack_bottom;   /* usable stack, for ASan (a thread's own:
                                   learnt on its first switch away) */
    size_t stack_bytes;
    void *tsan_fiber;
    void (*entry)(void);        /* the core's, called by host_coro_entry */
};

static void host_coro_entry(void);

static size_t page_bytes(void)
{
    long page = sysconf(_SC_PAGESIZE);

    return page > 0 ? (size_t)page : 4096;
}

/*
 * Finished coroutines' stacks wait here for the next coroutine of the same
 * size: a mapping, its guard page and the page faults of a fresh stack
 * cost tens of microseconds, a reuse a lock and a few stores (QEMU keeps a
 * per-thread pool for the same reason).  Process-wide, so a thread that
 * ends leaves nothing behind.
 */
#define CORO_CACHE_MAX 64
static pthread_mutex_t coro_cache_lock = PTHREAD_MUTEX_INITIALIZER;
static QosCoro *coro_cache[CORO_CACHE_MAX];
static unsigned coro_cache_len;

static QosCoro *coro_cache_take(size_t map_bytes)
{
    QosCoro *coro = NULL;

    pthread_mutex_lock(&coro_cache_lock);
    for (unsigned i = coro_cache_len; i-- > 0;) {
        if (coro_cache[i]->map_bytes == map_bytes) {
            coro = coro_cache[i];
            coro_cache[i] = coro_cache[--coro_cache_len];
            break;
        }
    }
    pthread_mutex_unlock(&coro_cache_lock);
    return coro;
}

static bool coro_cache_put(QosCoro *coro)
{
    bool kept = false;

    pthread_mutex_lock(&coro_cache_lock);
    if (coro_cache_len < CORO_CACHE_MAX) {
        coro_cache[coro_cache_len++] = coro;
        kept = true;
    }
    pthread_mutex_unlock(&coro_cache_lock);
    return kept;
}

QosCoro *qos_coro_new(size_t stack_bytes, void (*entry)(void))
{
    size_t guard = page_bytes();
    size_t map_bytes = guard + ((stack_bytes + guard - 1) / guard) * guard;
    QosCoro *coro = coro_cache_take(map_bytes);
    void *map;

    if (coro) {
#ifdef HOST_CORO_ASAN
        /* Frames that never returned (the last switch out of a finished
         * coroutine) left their redzones poisoned. */
        __asan_unpoison_memory_region(coro->stack_bottom, coro->stack_bytes);
#endif
        coro->entry = entry;
        coro_arch_init(&coro->arch, (char *)coro->stack_bottom,
                       coro->stack_bytes, host_coro_entry);
        return coro;
    }
    map = mmap(NULL, map_bytes, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (map == MAP_FAILED) {
        return NULL;
    }
    if (mprotect(map, guard, PROT_NONE) != 0) {
        munmap(map, map_bytes);
        return NULL;
    }
    coro = g_new0(QosCoro, 1);
    coro->map = map;
    coro->map_bytes = map_bytes;
    coro->stack_bottom = (char *)map + guard;
    coro->stack_bytes = map_bytes - guard;
    coro->entry = entry;
    coro_arch_init(&coro->arch, (char *)map + guard, map_bytes - guard,
                   host_coro_entry);
#ifdef HOST_CORO_TSAN
    coro->tsan_fiber = __tsan_create_fiber(0);
#endif
    return coro;
}

void qos_coro_free(QosCoro *coro)
{
    if (!coro) {
        return;
    }
    if (!coro->map) {
        qos_panic(__FILE__, __LINE__, "freeing a thread's own stack");
    }
    if (coro_cache_put(coro)) {
        return;
    }
#ifdef HOST_CORO_TSAN
    __tsan_destroy_fiber(coro->tsan_fiber);
#endif
    munmap(coro->map, coro->map_bytes);
    g_free(coro);
}

static __thread QosCoro thread_coro;
static __thread _Alignas(16) unsigned char thread_area[QOS_THREAD_AREA_BYTES];
/* The contexts of the switch in progress: a fresh coroutine learns who it
 * is from `to`; ASan learns a thread's own stack bounds from `from`. */
static __thread QosCoro *switching_from, *switching_to;

__attribute__((noinline)) QosCoro *qos_coro_thread(void)
{
    QosCoro *self = &thread_coro;

    __asm__ __volatile__("" : "+r"(self));
#ifdef HOST_CORO_TSAN
    if (!self->tsan_fiber) {
        self->tsan_fiber = __tsan_get_current_fiber();
    }
#endif
    return self;
}

__attribute__((noinline)) void *qos_thread_area(void)
{
    void *area = thread_area;

    __asm__ __volatile__("" : "+r"(area));
    return area;
}

__attribute__((noinline)) static QosCoro **switching_from_slot(void)
{
    QosCoro **slot = &switching_from;

    __asm__ __volatile__("" : "+r"(slot));
    return slot;
}

__attribute__((noinline)) static QosCoro **switching_to_slot(void)
{
    QosCoro **slot = &switching_to;

    __asm__ __volatile__("" : "+r"(slot));
    return slot;
}

#ifdef HOST_CORO_ASAN
/* Back on a stack: record where we came from if ASan could not know it. */
static void asan_finish(void *fake_stack)
{
    const void *bottom_old = NULL;
    size_t size_old = 0;
    QosCoro *from = *switching_from_slot();

    __sanitizer_finish_switch_fiber(fake_stack, &bottom_old, &size_old);
    if (from && !from->map && !from->stack_bottom) {
        from->stack_bottom = bottom_old;
        from->stack_bytes = size_old;
    }
}
#endif

/* A fresh coroutine starts here: finish the switch, then the core's. */
static void host_coro_entry(void)
{
    QosCoro *self = *switching_to_slot();

#ifdef HOST_CORO_ASAN
    asan_finish(NULL);
#endif
    self->entry();
    qos_panic(__FILE__, __LINE__, "a coroutine's entry returned");
}

void qos_coro_switch(QosCoro *from, QosCoro *to, bool last)
{
#ifdef HOST_CORO_ASAN
    void *fake_stack = NULL;

    __sanitizer_start_switch_fiber(last ? NULL : &fake_stack,
                                   to->stack_bottom, to->stack_bytes);
#endif
#ifdef HOST_CORO_TSAN
    __tsan_switch_to_fiber(to->tsan_fiber, 0);
#endif
    (void)last;
    *switching_from_slot() = from;
    *switching_to_slot() = to;
    coro_arch_switch(&from->arch, &to->arch);
#ifdef HOST_CORO_ASAN
    asan_finish(fake_stack);
#endif
}
