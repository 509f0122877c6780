/*
 * harness/replay.h — replay files: a scenario plus the choices of one run.
 *
 * Versioned text, so a failing run can be mailed, diffed and committed:
 *
 *   qloop-replay 1
 *   version 0.1.0
 *   variant notify-bug2        (only from a core variant, qloop-NAME)
 *   verdict hang
 *   hash 5d2c9f0e1a3b4c7d
 *   found random seed 322
 *   faults 0
 *   memory tso                 (only for a weak memory model; sc: absent)
 *   choices 70
 *   0 1 0 0 2 1 ...            (up to 32 a line)
 *   scenario
 *   <the .scn text>
 *   end
 *
 * Replaying feeds the choices back through the tape (SIM_TAPE_REPLAY) with
 * the recorded fault mask: the same trace, byte for byte, and the same
 * hash.  A file of another format version, or a damaged one, is refused
 * with one "FILE:LINE: what is wrong" line.
 *
 * Format 2 (written only for a run that ended in a sanitizer report or a
 * crash: verdict "memory" or "crash", harness/crash.h) adds one line after
 * the verdict, "signature KIND: FRAME < FRAME < FRAME", and has "hash -"
 * (the run never finished).  Version 1 files read as before.
 *
 * "variant NAME" (either format, optional, always line 3) names the core
 * variant the run was made on (variants/NAME.patch, the qloop-NAME binary);
 * a file without it was made on the production core.  NAME must be a safe
 * file name component (replay_variant_ok()): qloop replay runs qloop-NAME.
 */
#ifndef QLOOP_HARNESS_REPLAY_H
#define QLOOP_HARNESS_REPLAY_H

#include <stdbool.h>
#include <stdio.h>

#include "scenario.h"
#include "sim.h"

#define REPLAY_FORMAT_VERSION 2     /* the newest this qloop reads */

typedef struct Replay {
    Scenario scenario;
    char verdict[32];           /* sim_verdict_name(), "memory" or "crash" */
    char signature[160];        /* format 2: the crash's signature, else "" */
    uint64_t hash;              /* its trace hash */
    bool has_hash;
    char found[128];            /* how it was found, free text */
    char variant[64];           /* core variant that made it; "": production */
    unsigned faults;
    SimMemoryModel memory;      /* line "memory MODE" after faults; sc: none */
    uint32_t *choices;          /* g_free */
    size_t choice_count;
} Replay;

/* True if text starts like a replay file (vs. a .scn or fuzzer bytes). */
bool replay_sniff(const char *text, size_t len);
bool replay_parse(const char *text, size_t len, const char *filename,
                  Replay *out, char *err, size_t err_len);
int replay_write(FILE *out, const Replay *r);
/* True if name can follow "qloop-" in a file name: 1 to 63 characters of
 * [A-Za-z0-9._-], the first a letter or digit. */
bool replay_variant_ok(const char *name);
/* The line "variant NAME" is on when present. */
#define REPLAY_VARIANT_LINE 3
void replay_clear(Replay *r);
/* SimConfig that replays r. */
void replay_config(const Replay *r, SimConfig *config);

#endif
