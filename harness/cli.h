/*
 * harness/cli.h — what the qloop subcommands share.
 */
#ifndef QLOOP_HARNESS_CLI_H
#define QLOOP_HARNESS_CLI_H

#include <stdbool.h>

#include "replay.h"
#include "runner.h"
#include "scenario.h"

enum {
    EXIT_PASS = 0,      /* no verdict against the core */
    EXIT_VERDICT = 1,   /* a verdict against the core */
    EXIT_USAGE = 2,     /* bad input or usage */
};

/* What a FILE argument held. */
typedef enum {
    INPUT_SCENARIO,     /* .scn text */
    INPUT_REPLAY,       /* a replay file */
    INPUT_BYTES,        /* fuzzer input: decoded to scenario + tape */
} InputKind;

typedef struct Input {
    InputKind kind;
    const char *path;
    Replay replay;      /* scenario (always) and, for replays/bytes, choices */
    uint8_t *bytes;     /* INPUT_BYTES: the raw input (g_free) */
    size_t bytes_len;
    const uint8_t *tape;    /* INPUT_BYTES: what the decoder left over */
    size_t tape_len;
} Input;

/* Load FILE as a scenario, replay or fuzzer input.  On failure prints one
 * "FILE:LINE: what" line and returns false (exit 2). */
bool cli_load(const char *path, Input *in, bool scenario_only);
void cli_input_clear(Input *in);
/* The SimConfig that replays an input exactly. */
void cli_input_config(const Input *in, SimConfig *config);

/* Parse a fault list "spurious,eintr,..." / "all" / "none". */
bool cli_parse_faults(const char *text, unsigned *mask);
/* --memory MODE (sc, tso, pso) into config->memory; NULL keeps it.  False
 * (with a message naming cmd) for an unknown mode. */
bool cli_apply_memory(const char *cmd, const char *text, SimConfig *config);

/* Write the current trace to path; the extension picks the format:
 * .jsonl, .json (Chrome trace events), .svg, anything else as text. */
bool cli_write_trace(const char *path);

/* Print "verdict: hang (hash ..., N steps)" and the story. */
void cli_print_verdict(const char *what, const RunResult *r);

/* Build a replay record from a run. */
void cli_replay_from_run(const Scenario *s, const RunResult *r,
                         const char *found, Replay *out);
bool cli_write_replay(const char *path, const Replay *r);

/* The command's own name (qloop, qloop-notify-bug2...) for the "replay
 * with" hints. */
extern const char *cli_program;
/* ... and as it was invoked (argv[0]): what `qloop triage` prints, so the
 * finding is replayed by this very binary. */
extern const char *cli_program_path;
/* The core variant this command runs on: "NAME" for qloop-NAME, "" for
 * qloop.  Its fuzz targets are built on the same variant. */
const char *cli_variant(void);

/* "I/N" with 1 <= I <= N (--shard): false, i and n untouched, otherwise. */
bool cli_parse_shard(const char *text, unsigned *i, unsigned *n);
/* The command line as main() got it (before option parsing): what a
 * replay of another variant's file is run again with. */
extern char **cli_argv;

/*
 * A replay file made on another core (in->replay.variant is not
 * cli_variant()) belongs to another binary: exec qloop-NAME (or qloop)
 * beside this one with the same arguments, saying so on stderr; without
 * it, print "FILE:LINE: made by variant NAME; run qloop-NAME CMD FILE" and
 * return EXIT_USAGE.  Returns -1 when in is this binary's to run.
 */
int cli_dispatch_replay(const Input *in, const char *cmd);

int cmd_run(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_shrink(int argc, char **argv);
int cmd_explore(int argc, char **argv);
int cmd_smoke(int argc, char **argv);
int cmd_fuzz(int argc, char **argv);
int cmd_coverage(int argc, char **argv);
int cmd_corpus(int argc, char **argv);
int cmd_triage(int argc, char **argv);
int cmd_model(int argc, char **argv);
int cmd_mutants(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_diff(int argc, char **argv);

#endif
