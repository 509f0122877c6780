/*
 * sim/wmm.h — weak memory models (private to sim/; see sim/wmm.c).
 */
#ifndef QLOOP_SIM_WMM_H
#define QLOOP_SIM_WMM_H

#include "world.h"

void sim_wmm_init(SimWorld *w);
void sim_wmm_fini(SimWorld *w);
/* A scheduling step was taken: buffered stores that are due flush. */
void sim_wmm_step(SimWorld *w);
/* A seam call, lock, block or exit: the running thread's buffer drains. */
void sim_wmm_drain_current(void);

/* Seam calls that synchronise on the real OS (c11: happens-before; a
 * no-op in the other models): a release into obj's clock (mutex unlock,
 * eventfd or pipe write, thread exit), an acquire from it (lock, read,
 * a poll that saw the fd readable, join). */
void sim_wmm_release(const void *obj);
void sim_wmm_acquire(const void *obj);
/* Thread child was created by the running thread: it starts with its
 * creator's clock (c11). */
void sim_wmm_thread_created(uint32_t child);

/* tape.c: a weak choice (a buffered store's delay, the store a load
 * reads): its non-zero values count against the explorer's delay bound,
 * or its preemption bound when the plan shares them (SimDelayBounding). */
uint32_t sim_choose_weak(SimChoiceKind kind, uint32_t n);

/* c11.c: the C11 model behind the hooks when SimConfig.memory is C11. */
void sim_c11_init(SimWorld *w);
void sim_c11_fini(SimWorld *w);
uint64_t sim_c11_load(const volatile void *ptr, unsigned size, int order,
                      const char *what);
void sim_c11_store(volatile void *ptr, unsigned size, uint64_t value,
                   int order, const char *what);
void sim_c11_rmw(const volatile void *ptr, unsigned size, int order);
void sim_c11_rmw_done(const volatile void *ptr, unsigned size, int order,
                      bool wrote);
void sim_c11_fence(int order);
void sim_c11_release(const void *obj);
void sim_c11_acquire(const void *obj);
void sim_c11_thread_created(uint32_t parent, uint32_t child);
void sim_c11_stamp(uint32_t *thread, uint32_t *clock);
bool sim_c11_clock_reaches(uint32_t thread, uint32_t clock);

/* The location's bytes, read and written past every model (x86-64 is
 * little-endian; sizes 1, 2, 4, 8). */
static inline uint64_t sim_mem_read(const volatile void *ptr, unsigned size)
{
    switch (size) {
    case 1: return __atomic_load_n((const volatile uint8_t *)ptr, __ATOMIC_RELAXED);
    case 2: return __atomic_load_n((const volatile uint16_t *)ptr, __ATOMIC_RELAXED);
    case 4: return __atomic_load_n((const volatile uint32_t *)ptr, __ATOMIC_RELAXED);
    case 8: return __atomic_load_n((const volatile uint64_t *)ptr, __ATOMIC_RELAXED);
    }
    qos_panic(__FILE__, __LINE__, "weak memory: %u-byte atomic", size);
}

static inline void sim_mem_write(volatile void *ptr, unsigned size,
                                 uint64_t v)
{
    switch (size) {
    case 1: __atomic_store_n((volatile uint8_t *)ptr, (uint8_t)v, __ATOMIC_RELAXED); return;
    case 2: __atomic_store_n((volatile uint16_t *)ptr, (uint16_t)v, __ATOMIC_RELAXED); return;
    case 4: __atomic_store_n((volatile uint32_t *)ptr, (uint32_t)v, __ATOMIC_RELAXED); return;
    case 8: __atomic_store_n((volatile uint64_t *)ptr, v, __ATOMIC_RELAXED); return;
    }
    qos_panic(__FILE__, __LINE__, "weak memory: %u-byte atomic", size);
}

/* Values compare in their own width (a bool or int travels zero- or
 * sign-extended). */
static inline uint64_t sim_mem_mask(unsigned size, uint64_t v)
{
    return size >= 8 ? v : v & ((UINT64_C(1) << (8 * size)) - 1);
}

#endif
