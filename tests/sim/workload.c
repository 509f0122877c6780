/*
 * tests/sim/workload.c — a mixed simulated workload for determinism checks.
 *
 * Three threads drive one AioContext: the home thread polls; a second one
 * schedules and cancels BHs, arms timers on every clock and writes a pipe;
 * a third submits thread-pool work and notifies.  Fault points are all on.
 * Each seed's trace hash is printed; the same seeds must give the same
 * hashes run after run, and from -O0/-O2 and gcc/clang builds alike.
 *
 * Usage: sim-workload [--seeds N] [--first S] [--twice] [--pct] [--seam]
 *   prints "seed hash verdict steps" per seed; --twice runs every seed a
 *   second time and exits 1 if any hash differs.  --seam: swarm mode over
 *   every fault, the seam's error paths too (a context that cannot be
 *   made ends the run cleanly: its stated outcome is NULL + an Error).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qloop/qloop.h"
#include "sim.h"

typedef struct {
    AioContext *ctx;
    int pipe_fds[2];
    int bh_runs;
    int timer_runs;
    int pipe_reads;
    int pool_done;
    QEMUBH *bh[4];
    QEMUTimer *timer[QEMU_CLOCK_MAX];
    bool stop;
} Workload;

static void bh_cb(void *opaque)
{
    Workload *w = opaque;

    w->bh_runs++;
}

static void timer_cb(void *opaque)
{
    Workload *w = opaque;

    w->timer_runs++;
}

static void pipe_read_cb(void *opaque)
{
    Workload *w = opaque;
    char buf[8];

    if (sim_read(w->pipe_fds[0], buf, sizeof(buf)) > 0) {
        w->pipe_reads++;
    }
}

static int pool_work(void *opaque)
{
    return GPOINTER_TO_INT(opaque) * 3;
}

static void pool_cb(void *opaque, int ret)
{
    Workload *w = opaque;

    w->pool_done += ret;
}

static void *producer(void *opaque)
{
    Workload *w = opaque;

    for (int i = 0; i < 6; i++) {
        qemu_bh_schedule(w->bh[i % 4]);
        if (i % 3 == 2) {
            qemu_bh_cancel(w->bh[(i + 1) % 4]);
        }
        timer_mod_ns(w->timer[i % QEMU_CLOCK_MAX],
                     qemu_clock_get_ns(i % QEMU_CLOCK_MAX) + (i + 1) * SCALE_MS);
        sim_write(w->pipe_fds[1], "x", 1);
        aio_bh_schedule_oneshot(w->ctx, bh_cb, w);
    }
    return NULL;
}

static void *notifier(void *opaque)
{
    Workload *w = opaque;

    for (int i = 0; i < 4; i++) {
        aio_notify(w->ctx);
        sim_yield("notifier");
    }
    return NULL;
}

static void workload_body(void *opaque)
{
    Workload *w = opaque;
    QemuThread t1, t2;

    Error *err = NULL;

    memset(w, 0, sizeof(*w));
    w->ctx = aio_context_new(&err);
    if (!w->ctx) {
        /* FD_CREATE: NULL with the reason, nothing else to undo. */
        if (!err || !strstr(error_get_pretty(err), "event notifier")) {
            sim_fail("aio_context_new failed without its Error");
        }
        sim_trace_user("no context", 0);
        error_free(err);
        return;
    }
    qemu_set_current_aio_context(w->ctx);
    sim_pipe(w->pipe_fds, 16);
    aio_set_fd_handler(w->ctx, w->pipe_fds[0], pipe_read_cb, NULL, NULL,
                       NULL, w);
    for (int i = 0; i < 4; i++) {
        w->bh[i] = aio_bh_new(w->ctx, bh_cb, w);
    }
    for (int c = 0; c < QEMU_CLOCK_MAX; c++) {
        w->timer[c] = aio_timer_new(w->ctx, c, SCALE_NS, timer_cb, w);
    }
    for (int i = 1; i <= 3; i++) {
        thread_pool_submit_aio(pool_work, GINT_TO_POINTER(i), pool_cb, w);
    }
    qemu_thread_create(&t1, "producer", producer, w, QEMU_THREAD_JOINABLE);
    qemu_thread_create(&t2, "notifier", notifier, w, QEMU_THREAD_JOINABLE);
    /* Until the work completed and 10 ms passed (every timer is <= 6 ms
     * out); the deadline timer keeps the wait from being a hang. */
    QEMUTimer *deadline = aio_timer_new(w->ctx, QEMU_CLOCK_REALTIME, SCALE_MS,
                                        timer_cb, w);
    int64_t end_ms = qemu_clock_get_ms(QEMU_CLOCK_REALTIME) + 10;

    timer_mod(deadline, end_ms);
    while (w->pool_done < 18 || w->pipe_reads == 0 || timer_pending(deadline)) {
        aio_poll(w->ctx, true);
    }
    timer_free(deadline);
    qemu_thread_join(&t1);
    qemu_thread_join(&t2);
    aio_set_fd_handler(w->ctx, w->pipe_fds[0], NULL, NULL, NULL, NULL, NULL);
    for (int c = 0; c < QEMU_CLOCK_MAX; c++) {
        timer_free(w->timer[c]);
    }
    for (int i = 0; i < 4; i++) {
        qemu_bh_delete(w->bh[i]);
    }
    aio_poll(w->ctx, false);
    qemu_set_current_aio_context(NULL);
    aio_context_unref(w->ctx);
    sim_trace_user("bh_runs", w->bh_runs);
    sim_trace_user("timer_runs", w->timer_runs);
}

int main(int argc, char **argv)
{
    uint64_t seeds = 1000, first = 1;
    bool twice = false, pct = false, seam = false;
    int status = 0;
    Workload w;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seeds") && i + 1 < argc) {
            seeds = g_ascii_strtoull(argv[++i], NULL, 10);
        } else if (!strcmp(argv[i], "--first") && i + 1 < argc) {
            first = g_ascii_strtoull(argv[++i], NULL, 10);
        } else if (!strcmp(argv[i], "--twice")) {
            twice = true;
        } else if (!strcmp(argv[i], "--pct")) {
            pct = true;
        } else if (!strcmp(argv[i], "--seam")) {
            seam = true;
        } else {
            fprintf(stderr, "usage: %s [--seeds N] [--first S] [--twice] "
                    "[--pct] [--seam]\n", argv[0]);
            return 2;
        }
    }
    for (uint64_t seed = first; seed < first + seeds; seed++) {
        SimConfig config;
        SimVerdict verdict;
        uint64_t hash;

        sim_config_default(&config);
        config.seed = seed;
        config.tape = pct ? SIM_TAPE_PCT : SIM_TAPE_RANDOM;
        config.faults = SIM_FAULT_ALL;
        config.fault_permille = 30;
        if (seam) {
            config.swarm = true;
            config.swarm_faults = SIM_FAULT_EVERY;
        }
        verdict = sim_run(&config, workload_body, &w);
        hash = sim_trace_hash();
        printf("%" G_GUINT64_FORMAT " %016" G_GINT64_MODIFIER "x %s %"
               G_GUINT64_FORMAT "\n", seed, hash, sim_verdict_name(verdict),
               sim_steps());
        if (verdict != SIM_OK) {
            fprintf(stderr, "seed %" G_GUINT64_FORMAT ": %s\n", seed,
                    sim_verdict_story());
            status = 1;
        }
        if (twice) {
            sim_run(&config, workload_body, &w);
            if (sim_trace_hash() != hash) {
                fprintf(stderr, "seed %" G_GUINT64_FORMAT ": hash %016"
                        G_GINT64_MODIFIER "x then %016" G_GINT64_MODIFIER
                        "x\n", seed, hash, sim_trace_hash());
                status = 1;
            }
        }
    }
    return status;
}
