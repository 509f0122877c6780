/*
 * harness/model-check.h — the Promela models in models/ and their
 * expected verdicts, checked with spin (`qloop model check`), and the
 * replay of a spin counterexample against the C core (`qloop replay
 * FILE.trail`).  docs/models.md describes the models.
 */
#ifndef QLOOP_HARNESS_MODEL_CHECK_H
#define QLOOP_HARNESS_MODEL_CHECK_H

#include <stdbool.h>
#include <stdint.h>

/* One spin run: a model, the -D flags that pick its variant, how pan is
 * built and run, and the verdict it must give. */
typedef struct ModelCase {
    const char *model;      /* models/MODEL.pml */
    const char *id;         /* unique within the model: CHECK or BUG_x[-CHECK] */
    const char *defs;       /* spin -a flags: "-DBUG_x ..." */
    const char *cc;         /* gcc flags for pan.c */
    const char *pan;        /* pan's flags */
    const char *expect;     /* MODEL_PASS or the kind of error pan reports */
    const char *c_variant;  /* qloop-NAME the trail replays against, or NULL */
    const char *shows;      /* what the verdict proves, one line */
} ModelCase;

#define MODEL_PASS "pass"

typedef struct ModelResult {
    char verdict[64];       /* MODEL_PASS, "invalid end state", ... */
    char detail[256];       /* pan's first error line */
    uint64_t states;
    uint64_t transitions;
    uint64_t depth;
    double pan_s;           /* pan's own elapsed time */
    double total_s;         /* spin -a + gcc + pan, wall clock */
    bool complete;          /* pan did not stop for lack of depth */
} ModelResult;

const ModelCase *model_cases(unsigned *n);
const ModelCase *model_case_find(const char *model, const char *id);

/* The spin and cc to use ($QLOOP_SPIN, $CC), or NULL with a reason. */
const char *model_tool_missing(void);

/* The directory holding the .pml files: $QLOOP_MODELS, or the source
 * tree's models/. */
const char *model_dir(void);

/* Run one case in dir (created if needed; the model is copied there as
 * MODEL.ID.pml, so a trail is MODEL.ID.pml.trail).  false: could not run
 * (why in err). */
bool model_run(const ModelCase *c, const char *dir, ModelResult *r,
               char *err, size_t err_len);

/* `qloop replay FILE.trail`: exit status as the other commands. */
int model_trail_replay(const char *path, int argc, char **argv);

#endif
