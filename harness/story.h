/*
 * harness/story.h — a run told one event a line, for people.
 */
#ifndef QLOOP_HARNESS_STORY_H
#define QLOOP_HARNESS_STORY_H

#include <stdbool.h>
#include <stdio.h>

#include "sim.h"

/*
 * Print ev[0..n) as "   12.000000150s  main      bh-run A".  Without
 * verbose, the bookkeeping events that only the model needs (bh push,
 * take, slice; timer passes; dispatch rounds) are left out.
 */
void story_print(FILE *out, const SimEvent *ev, size_t n,
                 const char *const *thread_names, unsigned thread_count,
                 bool verbose);

#endif
