/*
 * harness/mutants.h — `qloop mutants`: the variants of the core (the bug
 * zoo, docs/zoo.md) against every tool, each with a fixed budget.
 */
#ifndef QLOOP_HARNESS_MUTANTS_H
#define QLOOP_HARNESS_MUTANTS_H

#include <stdbool.h>
#include <stdint.h>

#define MUTANTS_PATH_MAX 4096

/* What a variant is, from the "Zoo:" line of its patch's description. */
typedef enum {
    ZOO_BUG,        /* a defect: every tool should find it */
    ZOO_DESIGN,     /* a seed-era design: differences are not failures */
    ZOO_REDUNDANT,  /* a barrier the memory models show this core not to need */
} ZooKind;

typedef struct {
    char name[64];
    ZooKind kind;
    char memory[8];     /* "" or the model its description names ("tso"):
                         * documentation only, no tool reads it */
} ZooVariant;

typedef enum {
    TOOL_RANDOM, TOOL_PCT, TOOL_EXPLORE, TOOL_WEAK, TOOL_SUITE, TOOL_SPIN,
    TOOL_LIBFUZZER, TOOL_AFL, TOOL_COUNT
} ToolId;

typedef enum {
    TOOL_MISSED, TOOL_DETECTED, TOOL_SKIPPED, TOOL_ERROR, TOOL_NOT_RUN
} ToolState;

typedef struct {
    ToolState state;
    uint64_t runs;      /* runs, schedules or executions until detection */
    double seconds;     /* until detection, or spent */
    char note[200];     /* what found it (scenario, model case) or why not */
    char replay[MUTANTS_PATH_MAX];  /* the detecting run's replay, or "" */
} ToolResult;

/* Everything a tool needs to run one variant. */
typedef struct {
    const char *src;            /* the source tree */
    const char *bin_dir;        /* where qloop-NAME lives */
    const char *out_dir;        /* replay files and tool output */
    char **scenarios;           /* NULL-terminated, sorted */
    double budget_s;            /* per tool */
    bool cpu_budget;            /* budget_s counts CPU seconds, not wall */
    bool build_fuzz;            /* build a missing fuzz target first */
} MutantsCtx;

const char *tool_name(ToolId t);
bool tool_is_search(ToolId t);      /* random, pct, explore, weak: the simulation tools */
void tool_run(const MutantsCtx *c, const ZooVariant *v, ToolId t,
              ToolResult *r);

/* The median of v[0..n) (0 for none); sorts v. */
double mutants_median(double *v, unsigned n);
/* The table's closing lines, as `qloop mutants` and `qloop merge` print
 * them: one per tool, then the summary.  searched: a simulation tool ran
 * (by_search, median_s and max_s are then theirs). */
void mutants_print_tool(const char *tool, unsigned hits, unsigned bugs,
                        double median_s);
void mutants_print_summary(unsigned detected, unsigned bugs, bool searched,
                           unsigned by_search, double median_s, double max_s,
                           const char *missed, unsigned designs,
                           unsigned redundant);

/* Shrink a detecting run's replay; "12 ops, 3 choices" or why not. */
void mutants_shrink(const MutantsCtx *c, const ZooVariant *v,
                    const char *replay, char *size, unsigned size_len);

#endif
