/*
 * fuzz/loop-fuzz.c — the loop target: fuzzer bytes -> scenario + choice
 * tape -> one simulated run of the loop core -> oracles.
 *
 * Method: scn_decode() turns the front of the input into a scenario that
 * cannot hang, livelock or trip an oracle on a correct core, and hands back
 * the rest of the input as the choice tape (SIM_TAPE_BYTES): the fuzzer
 * mutates the program and its schedule in one byte string.  runner_run()
 * runs it with the reference model watching every event.  Any verdict is a
 * finding: the target prints it, with its story and how to replay it, and
 * abort()s so every engine records the input as a crash.  The input file
 * itself is the reproducer: `qloop replay crash-...` runs it again and
 * `qloop shrink` minimizes it.
 *
 * Iterations must not leak: sim_run() frees the previous world before each
 * run, and a passing run frees its RunState and model.  A verdict run
 * abandons its world (its threads are mid-flight), which is why it ends
 * the process.
 *
 *   fuzz/build.sh libfuzzer && build/fuzz/libfuzzer/loop-fuzz \
 *       -dict=build/fuzz/loop.dict corpus/loop
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "decode.h"
#include "runner.h"
#include "exec-count.h"

/* ~100 KB: static, not on the fuzzer's stack. */
static Scenario scenario;
static bool stderr_buffered;

/*
 * QLOOP_FUZZ_STATS: at exit, the number and mean size of the scenarios this
 * process ran (bench/fuzz/run.sh reports it next to exec/s).  "1": a line
 * on stderr; anything else: a file to append "runs ops threads" to (AFL++
 * persistent children exit after each 100 000 runs, their stderr closed).
 */
static struct {
    int enabled;                /* -1 unknown, 0 off, 1 on */
    const char *path;           /* NULL: stderr */
    uint64_t runs, ops, threads;
} stats = { -1, NULL, 0, 0, 0 };

static void stats_print(void)
{
    FILE *f;

    if (!stats.runs) {
        return;
    }
    if (!stats.path) {
        fprintf(stderr, "loop-fuzz: %" G_GUINT64_FORMAT " runs, mean %.1f ops "
                "and %.2f threads per scenario\n", stats.runs,
                (double)stats.ops / (double)stats.runs,
                (double)stats.threads / (double)stats.runs);
    } else if ((f = fopen(stats.path, "a")) != NULL) {
        fprintf(f, "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %"
                G_GUINT64_FORMAT "\n", stats.runs, stats.ops, stats.threads);
        fclose(f);
    }
}

static void stats_count(const Scenario *s)
{
    if (stats.enabled < 0) {
        const char *env = getenv("QLOOP_FUZZ_STATS");

        stats.enabled = env && *env && strcmp(env, "0") != 0;
        stats.path = stats.enabled && strcmp(env, "1") != 0 ? env : NULL;
        if (stats.enabled) {
            atexit(stats_print);
        }
    }
    if (stats.enabled) {
        stats.runs++;
        stats.ops += s->op_count;
        stats.threads += s->thread_count;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *tape;
    size_t tape_len;
    SimConfig config;
    RunResult r;

    fuzz_exec_count();
    if (!stderr_buffered) {
        /*
         * Line-buffered stderr: the core's error_report() lines (a third
         * of runs read a failing signalfd when faults are on) were three
         * write(2)s each — "qloop: ", the message, the newline.  Whole
         * lines keep their order with the engine's and ASan's reports.
         */
        static char buf[BUFSIZ];

        setvbuf(stderr, buf, _IOLBF, sizeof(buf));
        stderr_buffered = true;
    }
    scn_decode(data, size, &scenario, &tape, &tape_len);
    stats_count(&scenario);
    sim_config_default(&config);
    config.tape = SIM_TAPE_BYTES;
    config.bytes = tape;
    config.bytes_len = tape_len;
    config.faults = scenario.faults;
    /* The trace hash was a tenth of an iteration, and the choice log is
     * the input's own tape: `qloop replay` gives both. */
    config.no_hash = true;
    config.no_choice_log = true;
    if (runner_run(&scenario, &config, true, &r) != SIM_OK) {
        /* The core this target runs (fuzz.mk's VARIANT) replays it. */
        const char *v = cli_variant();

        fprintf(stderr, "\nloop-fuzz: verdict %s (%" G_GUINT64_FORMAT
                " steps, %u ops, %u threads)\n%s\n"
                "loop-fuzz: the input file is the reproducer: "
                "qloop%s%s replay FILE; qloop%s%s shrink FILE -o MIN.replay\n",
                sim_verdict_name(r.verdict), r.steps,
                scenario.op_count, scenario.thread_count, r.story,
                *v ? "-" : "", v, *v ? "-" : "", v);
        fflush(stderr);
        abort();
    }
    run_result_clear(&r);
    sim_release();      /* balanced mallocs: no leak check after this input */
    return 0;
}
