/*
 * harness/triage.h — crash files of a fuzzing campaign to findings: each
 * replayed in a child, signed by verdict kind and function names,
 * de-duplicated, shrunk and written as a replay file (harness/triage.c).
 */
#ifndef QLOOP_HARNESS_TRIAGE_H
#define QLOOP_HARNESS_TRIAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "crash.h"

#define TRIAGE_SIGNATURE_MAX (CRASH_SIGNATURE_MAX + 64)
#define TRIAGE_SLUG_MAX 64      /* 48 readable characters, '-', 8 hex */

typedef struct TriageOptions {
    const char *findings_dir;   /* where <slug>.replay / .input go */
    int shrink_seeds;           /* fresh seeds per shrink step */
    const char *program;        /* the command that reproduces a finding */
} TriageOptions;

typedef struct TriageCounts {
    unsigned raw;               /* crash files looked at */
    unsigned unique;            /* distinct signatures: findings written */
    unsigned reproduced;        /* findings whose shrunk replay re-signs */
    unsigned duplicates;        /* files whose signature was seen before */
    unsigned not_reproduced;    /* files that pass or cannot be read */
} TriageCounts;

/* Triage paths[0..n); one line each on stdout, a summary at the end.
 * False only when the findings directory cannot be created. */
bool triage_files(const TriageOptions *opt, char *const *paths, size_t n,
                  TriageCounts *t);

/* "memory: heap-use-after-free: aio_bh_call < ..." ->
 * "memory-heap-use-after-free-aio_bh_call-aio_bh-1a2b3c4d": 48 readable
 * characters and a hash of the whole signature, so slugs never collide
 * where signatures differ. */
void triage_slug(const char *sig, char *buf, size_t len);

#endif
