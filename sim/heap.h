/*
 * sim/heap.h — the checking allocator of the core's objects (sim/heap.c).
 *
 * The core allocates its BHs, handlers, timers, timer lists and thread-pool
 * objects through the seam (qos_obj_new/qos_obj_free, loop/os.h).  In a
 * simulator build without AddressSanitizer they come from here: fixed
 * slots in one arena, a tail red zone, a quarantine of freed slots filled
 * with a poison that is also an address nobody may touch, and checks at
 * every seam call.  What it finds ends the run with the "memory" verdict
 * (SIM_MEMORY), naming the object's kind.  Under ASan the seam hands the
 * objects to ASan's allocator instead (sim/qloop-os-inline.h), and nothing
 * here runs.
 */
#ifndef QLOOP_SIM_HEAP_H
#define QLOOP_SIM_HEAP_H

#include <stddef.h>
#include <stdint.h>

/* One slot per object: a 64-byte header, the object, a red zone. */
#define SIM_HEAP_SLOT_BYTES 512u
#define SIM_HEAP_HDR_BYTES 64u
/* The first word of a slot (its header's state) while the object lives. */
#define SIM_HEAP_LIVE 0x6a626f2d6576696cULL

/* The arena's start, and how many of its bytes were ever handed out: the
 * inline access check of the core's atomics reads them. */
extern uintptr_t sim_heap_base;
extern uintptr_t sim_heap_used;
/* Slots freed in the current run that the seam checks at every call. */
extern unsigned sim_heap_recent_count;

void *sim_heap_new(int kind, size_t size);
void sim_heap_free(int kind, void *obj);
/* An atomic of the core touched a slot that is not a live object's. */
void sim_heap_bad_access(const volatile void *ptr, int write);
/* Seam calls: the latest frees of this run still hold their poison. */
void sim_heap_seam_check(void);
/* sim_run(): a run begins; one that passed ends (sets the verdict of a
 * write after free not seen before).  Leaks: sim_check_leaks() (sim.h). */
void sim_heap_run_begin(void);
void sim_heap_run_end(void);
/* Objects still live, of every run (tests). */
unsigned sim_heap_live_count(void);

/* The inline half of the check in the core's atomics: one subtraction and
 * one compare for anything outside the arena. */
static inline void sim_heap_access(const volatile void *ptr, int write)
{
    uintptr_t off = (uintptr_t)ptr - sim_heap_base;

    if (off < sim_heap_used &&
        (*(const uint64_t *)(sim_heap_base +
                             (off & ~(uintptr_t)(SIM_HEAP_SLOT_BYTES - 1))) !=
             SIM_HEAP_LIVE ||
         (off & (SIM_HEAP_SLOT_BYTES - 1)) < SIM_HEAP_HDR_BYTES)) {
        sim_heap_bad_access(ptr, write);
    }
}

#endif
