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

/* tape.c: a choice whose non-zero values cost one unit of the explorer's
 * preemption bound (a delayed store is bounded like a preemption). */
uint32_t sim_choose_costly(SimChoiceKind kind, uint32_t n);

#endif
