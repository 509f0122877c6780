/*
 * qloop-os-inline.h (simulation backend) — the inline part of the OS seam.
 *
 * Every atomic, barrier, lock and fd operation of the core passes through
 * a scheduling point: the simulated scheduler may switch threads there.
 * Core events go to the simulator's trace.
 *
 * The memory hooks of loop/atomic.h: under the default model (sc) they are
 * a scheduling point and the builtin, as before weak memory existed — one
 * predictable branch on sim_wmm_mode more.  Under tso/pso (sim/wmm.c) a
 * store may wait in the thread's store buffer, a load sees the thread's own
 * buffered store first, and fences and read-modify-writes drain the buffer;
 * under c11 (sim/c11.c) a load may read an older store of the location.
 * Values cross the hook as the low `size` bytes of a uint64_t (x86-64 is
 * little-endian; the core's atomics are 1, 4 or 8 bytes, pointers included).
 */
#ifndef QLOOP_SIM_OS_INLINE_H
#define QLOOP_SIM_OS_INLINE_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "heap.h"

/*
 * The core's objects (loop/os.h).  Under AddressSanitizer they are ASan's
 * (its reports are the memory verdicts, harness/crash.c); otherwise the
 * simulator's checking allocator hands them out and every atomic of the
 * core checks the object it touches (sim/heap.c).  Decided per object
 * file: the sanitizer flavours instrument the core, not the simulator.
 */
#if defined(__SANITIZE_ADDRESS__)
#define QOS_OBJ_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define QOS_OBJ_ASAN 1
#endif
#endif

#ifdef QOS_OBJ_ASAN
/* Macros, not functions: ASan's stacks (and so the signatures of memory
 * verdicts and leaks) name the core's function that allocated. */
#define qos_obj_new(kind, size) ((void)(kind), g_malloc0(size))
#define qos_obj_free(kind, obj) ((void)(kind), g_free(obj))
#define qos_obj_access(ptr, write) ((void)0)
#else
#define qos_obj_new(kind, size) sim_heap_new((kind), (size))
#define qos_obj_free(kind, obj) sim_heap_free((kind), (obj))
#define qos_obj_access(ptr, write) sim_heap_access((ptr), (write))
#endif

void sim_sched_point(const char *what);
void sim_trace_core(int ev, const char *name, int64_t a, int64_t b);

/* sim/wmm.c: 0 = sc (every access goes to memory at once), else weak. */
extern int sim_wmm_mode;
void sim_mem_point(const char *what);
uint64_t sim_wmm_load(const volatile void *ptr, unsigned size, int order,
                      const char *what);
void sim_wmm_store(volatile void *ptr, unsigned size, uint64_t value,
                   int order, const char *what);
void sim_wmm_rmw(const volatile void *ptr, unsigned size, int order);
void sim_wmm_rmw_done(const volatile void *ptr, unsigned size, int order,
                      bool wrote);
void sim_wmm_fence(int order, const char *what);

static inline void qos_sched_point(const char *what)
{
    sim_sched_point(what);
}

/* One host thread runs every simulated thread: a compiler barrier is
 * enough; the scheduling point before it is what matters. */
static inline void qos_full_barrier(void)
{
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
}

/*
 * The raw halves of the hooks below: sc goes to memory, a weak model to
 * sim/wmm.c.  They are functions, not macro text, so that the branch on
 * the mode belongs to this header: the core's coverage counts the core's
 * own branches, not one untaken weak side per atomic it expands.  One host
 * thread runs every simulated thread, so the builtin's order does not
 * matter here; the order a weak model needs is passed on.
 */
static inline uint64_t sim_atomic_load_raw(const volatile void *ptr,
                                           unsigned size, int order,
                                           const char *what)
{
    if (__builtin_expect(sim_wmm_mode != 0, 0)) {
        return sim_wmm_load(ptr, size, order, what);
    }
    switch (size) {
    case 1: return __atomic_load_n((const volatile uint8_t *)ptr, __ATOMIC_SEQ_CST);
    case 2: return __atomic_load_n((const volatile uint16_t *)ptr, __ATOMIC_SEQ_CST);
    case 4: return __atomic_load_n((const volatile uint32_t *)ptr, __ATOMIC_SEQ_CST);
    default: return __atomic_load_n((const volatile uint64_t *)ptr, __ATOMIC_SEQ_CST);
    }
}

static inline void sim_atomic_store_raw(volatile void *ptr, unsigned size,
                                        uint64_t value, int order,
                                        const char *what)
{
    if (__builtin_expect(sim_wmm_mode != 0, 0)) {
        sim_wmm_store(ptr, size, value, order, what);
        return;
    }
    switch (size) {
    case 1: __atomic_store_n((volatile uint8_t *)ptr, (uint8_t)value, __ATOMIC_SEQ_CST); break;
    case 2: __atomic_store_n((volatile uint16_t *)ptr, (uint16_t)value, __ATOMIC_SEQ_CST); break;
    case 4: __atomic_store_n((volatile uint32_t *)ptr, (uint32_t)value, __ATOMIC_SEQ_CST); break;
    default: __atomic_store_n((volatile uint64_t *)ptr, value, __ATOMIC_SEQ_CST); break;
    }
}

static inline void sim_atomic_rmw_raw(const volatile void *ptr,
                                      unsigned size, int order)
{
    if (__builtin_expect(sim_wmm_mode != 0, 0)) {
        sim_wmm_rmw(ptr, size, order);
    }
}

static inline void sim_atomic_rmw_done_raw(const volatile void *ptr,
                                           unsigned size, int order,
                                           bool wrote)
{
    if (__builtin_expect(sim_wmm_mode != 0, 0)) {
        sim_wmm_rmw_done(ptr, size, order, wrote);
    }
}

static inline void sim_atomic_fence_raw(int order, const char *what)
{
    if (__builtin_expect(sim_wmm_mode != 0, 0)) {
        sim_wmm_fence(order, what);
    }
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
}

/* The scheduling point comes first, then the operands are evaluated, as
 * before the hooks existed: a run's sequence of scheduling points (and so
 * every recorded tape) is unchanged under sc.  Sizes are 1, 2, 4 or 8. */
#define qos_atomic_load(ptr, order, what) ({ \
    sim_mem_point(what); \
    __typeof__(ptr) qos_lp_ = (ptr); \
    _Static_assert(sizeof(*qos_lp_) <= 8, "atomic wider than 8 bytes"); \
    qos_obj_access(qos_lp_, 0); \
    (__typeof__(*qos_lp_))(uintptr_t)sim_atomic_load_raw( \
        qos_lp_, sizeof(*qos_lp_), (order), (what)); })

#define qos_atomic_store(ptr, v, order, what) do { \
    sim_mem_point(what); \
    __typeof__(ptr) qos_sp_ = (ptr); \
    __typeof__(*qos_sp_) qos_sv_ = (v); \
    _Static_assert(sizeof(*qos_sp_) <= 8, "atomic wider than 8 bytes"); \
    qos_obj_access(qos_sp_, 1); \
    sim_atomic_store_raw(qos_sp_, sizeof(*qos_sp_), \
                         (uint64_t)(uintptr_t)qos_sv_, (order), (what)); \
    } while (0)

/* Read-modify-writes are sequentially consistent: under tso/pso they
 * drain the thread's buffer (and make every buffered store to *ptr
 * visible), then act on memory; under c11 the hook before acquires from
 * the newest store and the one after records the store made.  Nothing
 * between the two hooks is a scheduling point. */
#define qos_atomic_rmw(ptr, order, what) \
    (sim_mem_point(what), qos_obj_access((ptr), 1), \
     sim_atomic_rmw_raw((ptr), sizeof(*(ptr)), (order)))
#define qos_atomic_rmw_done(ptr, order, wrote) \
    sim_atomic_rmw_done_raw((ptr), sizeof(*(ptr)), (order), (wrote))

#define qos_atomic_fence(order, what) do { \
    sim_mem_point(what); \
    sim_atomic_fence_raw((order), (what)); } while (0)

static inline void qos_trace(int ev, const char *name, int64_t a, int64_t b)
{
    sim_trace_core(ev, name, a, b);
}

#endif
