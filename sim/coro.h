/*
 * sim/coro.h — stackful coroutines for simulated threads.
 */
#ifndef QLOOP_SIM_CORO_H
#define QLOOP_SIM_CORO_H

#include <stddef.h>

/* Prepare a fresh stack so that the first switch to it calls entry(). */
void *sim_coro_init_stack(void *stack, size_t size, void (*entry)(void));
/* Save the current stack pointer in *save_sp and continue on new_sp. */
void sim_coro_switch(void **save_sp, void *new_sp);

#endif
