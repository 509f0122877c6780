/*
 * tests/kvm/test-devices-sim.c — the doorbell and UART data paths on the
 * simulated OS: QEMU's architecture in miniature, without KVM.
 *
 * Method: the same device models and the same loop-core calls as
 * harness/kvm/testdev.c and serial.c, with simulated threads standing in
 * for the hardware:
 *   "vcpu"  thread: fills ring requests, sets the `kick` EventNotifier (what
 *           KVM_IOEVENTFD does), sleeps in aio_poll() on its own context
 *           until the `irq` notifier (KVM_IRQFD) reports completions; then
 *           reads the UART's receive FIFO
 *   main    thread: the iothread — aio_poll() on its context, kick handler
 *           -> doorbell_kick() -> thread_pool_submit_aio(); completions in
 *           this thread -> doorbell_complete() -> event_notifier_set(irq)
 *   "input" thread: host console input into the UART under its lock
 *   "mainloop" thread: the VMM's main loop draining the console ring
 *           (console-ring.c, as serial.c does): the vCPU's THR writes put
 *           bytes under the lock and schedule the drain BH on the ring's
 *           pending edge; the drain writes a small pipe without the lock
 *           and waits for POLLOUT when it is full
 *   "console" thread: the pipe's reader, slow (a few bytes a turn), so
 *           the 64-byte ring fills and drops bytes
 * At the end every printed byte was written or counted dropped, what the
 * reader got is the printed text in order minus exactly the drops, and a
 * lost drain wake-up is a hang (test-devices-sim-lose-wake checks that).
 * Every schedule comes from the seed's choice tape, with fault points on,
 * so a lost wake-up anywhere on the path is a SIM_HANG verdict, not a
 * timeout.  A failure prints the seed; rerun with test-devices-sim SEED.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qloop/qloop.h"
#include "console-ring.h"
#include "doorbell.h"
#include "sim.h"
#include "uart.h"

#ifndef container_of
#define container_of(ptr, type, member) \
    ((type *)((char *)(ptr) - offsetof(type, member)))
#endif

#define REQUESTS 48u
#define BATCH    6u
#define INPUT    "hello, guest"
#define CONSOLE_LINE "vcpu says: batch done\n"
#define CONSOLE_PIPE_BYTES 16

typedef struct World {
    AioContext *io_ctx, *vcpu_ctx;
    QemuMutex lock;             /* the models, as in testdev.c/serial.c */
    Doorbell db;
    Uart uart;
    EventNotifier kick, irq;
    _Alignas(16) uint8_t ram[sizeof(struct db_ring) + 64];
    struct db_ring *ring;
    uint32_t seen;              /* vcpu: completions seen via `used` */
    bool stop;                  /* io thread: set by a BH */
    unsigned errors;
    /* Console: vCPU -> ring (under lock) -> main loop -> pipe -> reader. */
    AioContext *main_ctx, *console_ctx;
    QEMUBH *out_bh;
    ConsoleRing out;            /* under lock */
    uint8_t out_buf[64];
    int pipe_rd, pipe_wr;
    bool out_waiting;           /* main thread: POLLOUT handler set */
    bool vcpu_done;             /* main thread: set by a BH */
    bool main_done, console_stop;   /* console thread: set by a BH */
    GString *printed;           /* vCPU only until joined */
    GString *received;          /* console thread only until joined */
    unsigned wakes_lost;        /* the self-check variant's count */
} World;

typedef struct Work {
    World *w;
    uint32_t slot, id, a, b;
} Work;

static void *w_map(void *o, uint64_t gpa, size_t len)
{
    World *w = o;

    return gpa <= sizeof(w->ram) && len <= sizeof(w->ram) - gpa
           ? w->ram + gpa : NULL;
}

static int w_work(void *opaque)
{
    Work *k = opaque;

    return (int)db_compute(k->id, k->a, k->b);
}

static void w_done(void *opaque, int ret)
{
    Work *k = opaque;

    qemu_mutex_lock(&k->w->lock);
    doorbell_complete(&k->w->db, k->slot, (uint32_t)ret);
    qemu_mutex_unlock(&k->w->lock);
    g_free(k);
}

static void w_submit(void *o, uint32_t slot, uint32_t id, uint32_t a,
                     uint32_t b)
{
    Work *k = g_new(Work, 1);

    *k = (Work){ o, slot, id, a, b };
    thread_pool_submit_aio(w_work, k, w_done, k);
}

static void w_raise(void *o)
{
    World *w = o;

#ifdef QLOOP_TEST_LOSE_IRQ
    /* Self-check of the test: lost irqfd signals must be a SIM_HANG. */
    if (w->db.completed >= REQUESTS / 2) {
        return;
    }
#endif
    event_notifier_set(&w->irq);
}

static const DoorbellOps w_ops = { w_map, w_submit, w_raise };

static void kick_read(EventNotifier *e)
{
    World *w = container_of(e, World, kick);

    if (event_notifier_test_and_clear(e)) {
        qemu_mutex_lock(&w->lock);
        doorbell_kick(&w->db);
        qemu_mutex_unlock(&w->lock);
    }
}

static void irq_read(EventNotifier *e)
{
    World *w = container_of(e, World, irq);

    if (event_notifier_test_and_clear(e)) {
        w->seen = __atomic_load_n(&w->ring->used, __ATOMIC_ACQUIRE);
    }
}

/* Uart.tx, on the vCPU thread under w->lock: serial.c's serial_tx. */
static void w_tx(void *opaque, uint8_t byte)
{
    World *w = opaque;

    g_string_append_c(w->printed, (char)byte);
    if (console_ring_put(&w->out, byte)) {
#ifdef QLOOP_TEST_LOSE_WAKE
        /* Self-check: a lost drain wake-up must end in a SIM_HANG. */
        if (w->out.written > 0 && w->wakes_lost++ == 0) {
            return;
        }
#endif
        qemu_bh_schedule(w->out_bh);
    }
}

static void out_writable(void *opaque);

static void out_wait(World *w, bool wait)
{
    if (w->out_waiting != wait) {
        w->out_waiting = wait;
        aio_set_fd_handler(w->main_ctx, w->pipe_wr, NULL,
                           wait ? out_writable : NULL, NULL, NULL, w);
    }
}

/* The main loop's drain: serial_out_drain() on the simulated OS. */
static void out_drain(World *w)
{
    for (;;) {
        uint8_t chunk[16];
        size_t len;
        long n;
        bool empty;

        qemu_mutex_lock(&w->lock);
        len = console_ring_peek(&w->out, chunk, sizeof(chunk));
        qemu_mutex_unlock(&w->lock);
        n = len ? sim_write(w->pipe_wr, chunk, len) : 0;
        qemu_mutex_lock(&w->lock);
        if (n > 0) {
            console_ring_consume(&w->out, (size_t)n, true);
        }
        empty = console_ring_settle(&w->out);
        qemu_mutex_unlock(&w->lock);
        if (empty) {
            out_wait(w, false);
            return;
        }
        if (n <= 0) {
            out_wait(w, true);          /* full (or EINTR): POLLOUT */
            return;
        }
    }
}

static void out_bh(void *opaque)
{
    out_drain(opaque);
}

static void out_writable(void *opaque)
{
    out_drain(opaque);
}

static void vcpu_done_bh(void *opaque)
{
    ((World *)opaque)->vcpu_done = true;
}

static void console_stop_bh(void *opaque)
{
    ((World *)opaque)->console_stop = true;
}

static void *main_thread(void *opaque)
{
    World *w = opaque;
    bool settled = false;

    qemu_set_current_aio_context(w->main_ctx);
    while (!(w->vcpu_done && settled)) {
        aio_poll(w->main_ctx, true);
        qemu_mutex_lock(&w->lock);
        settled = w->out.len == 0 && !w->out.pending;
        qemu_mutex_unlock(&w->lock);
    }
    out_wait(w, false);
    aio_bh_schedule_oneshot(w->console_ctx, console_stop_bh, w);
    return NULL;
}

/* The console's reader: a few bytes per readable turn (slow). */
static void console_readable(void *opaque)
{
    World *w = opaque;
    char buf[8];
    long n = sim_read(w->pipe_rd, buf, 1 + sim_choose(SIM_CHOICE_VALUE, 4));

    if (n > 0) {
        g_string_append_len(w->received, buf, n);
    }
}

static void *console_thread(void *opaque)
{
    World *w = opaque;

    qemu_set_current_aio_context(w->console_ctx);
    aio_set_fd_handler(w->console_ctx, w->pipe_rd, console_readable, NULL,
                       NULL, NULL, w);
    while (!w->console_stop) {
        aio_poll(w->console_ctx, true);
    }
    aio_set_fd_handler(w->console_ctx, w->pipe_rd, NULL, NULL, NULL, NULL,
                       NULL);
    /* What the drain wrote last is still in the pipe: take it all. */
    for (;;) {
        char buf[CONSOLE_PIPE_BYTES];
        long n = sim_read(w->pipe_rd, buf, sizeof(buf));

        if (n <= 0) {
            break;
        }
        g_string_append_len(w->received, buf, n);
    }
    return NULL;
}

/* Printed minus exactly the dropped bytes, in order? */
static bool console_consistent(World *w)
{
    size_t j = 0;

    if (w->out.written + w->out.dropped != w->printed->len ||
        w->received->len != w->out.written) {
        return false;
    }
    for (size_t i = 0; i < w->printed->len && j < w->received->len; i++) {
        j += w->printed->str[i] == w->received->str[j];
    }
    return j == w->received->len;
}

static void stop_bh(void *opaque)
{
    ((World *)opaque)->stop = true;
}

static void *vcpu_thread(void *opaque)
{
    World *w = opaque;
    uint32_t prod = 0;
    char got[sizeof(INPUT)] = { 0 };
    size_t n = 0;

    w->vcpu_ctx = aio_context_new(&error_abort);
    qemu_set_current_aio_context(w->vcpu_ctx);
    aio_set_event_notifier(w->vcpu_ctx, &w->irq, irq_read, NULL, NULL);
    while (prod < REQUESTS) {
        for (unsigned i = 0; i < BATCH; i++, prod++) {
            struct db_req *r = &w->ring->req[prod % DB_RING_SLOTS];

            *r = (struct db_req){ .id = prod, .a = prod * 3, .b = ~prod };
            __atomic_store_n(&w->ring->prod, prod + 1, __ATOMIC_RELEASE);
            event_notifier_set(&w->kick);       /* the ioeventfd write */
        }
        while (w->seen != prod) {
            aio_poll(w->vcpu_ctx, true);        /* hlt until the irqfd */
        }
        for (const char *c = CONSOLE_LINE; *c; c++) {
            qemu_mutex_lock(&w->lock);
            uart_io_write(&w->uart, 0, (uint8_t)*c);    /* THR */
            qemu_mutex_unlock(&w->lock);
        }
    }
    aio_bh_schedule_oneshot(w->main_ctx, vcpu_done_bh, w);
    for (uint32_t i = 0; i < DB_RING_SLOTS && i < REQUESTS; i++) {
        struct db_req *r = &w->ring->req[i];

        w->errors += r->status != DB_STATUS_DONE ||
                     r->result != db_compute(r->id, r->a, r->b);
    }
    /* Console input: poll the FIFO as a polled 8250 driver would. */
    while (n < strlen(INPUT)) {
        qemu_mutex_lock(&w->lock);
        if (uart_io_read(&w->uart, 5) & 1) {
            got[n++] = (char)uart_io_read(&w->uart, 0);
        }
        qemu_mutex_unlock(&w->lock);
        sim_yield("vcpu-rx");
    }
    w->errors += strcmp(got, INPUT) != 0;
    aio_set_event_notifier(w->vcpu_ctx, &w->irq, NULL, NULL, NULL);
    aio_bh_schedule_oneshot(w->io_ctx, stop_bh, w);
    return NULL;
}

static void *input_thread(void *opaque)
{
    World *w = opaque;
    const char *in = INPUT;
    size_t off = 0;

    while (off < strlen(in)) {
        qemu_mutex_lock(&w->lock);
        off += uart_receive(&w->uart, (const uint8_t *)in + off, 1);
        qemu_mutex_unlock(&w->lock);
        sim_yield("input");
    }
    return NULL;
}

static uint64_t console_printed, console_dropped;

static void world_body(void *opaque)
{
    World *w = opaque;
    QemuThread vcpu, input, main, console;
    int pipefd[2];

    memset(w, 0, sizeof(*w));
    w->printed = g_string_new(NULL);
    w->received = g_string_new(NULL);
    if (sim_pipe(pipefd, CONSOLE_PIPE_BYTES) < 0) {
        sim_fail("sim_pipe");
    }
    w->pipe_rd = pipefd[0];
    w->pipe_wr = pipefd[1];
    console_ring_init(&w->out, w->out_buf, sizeof(w->out_buf), 16);
    w->main_ctx = aio_context_new(&error_abort);
    w->console_ctx = aio_context_new(&error_abort);
    w->out_bh = aio_bh_new(w->main_ctx, out_bh, w);
    w->ring = (struct db_ring *)(w->ram + 64);
    qemu_mutex_init(&w->lock);
    doorbell_init(&w->db, &w_ops, w);
    doorbell_io_write(&w->db, DB_PORT_RING - DB_PORT_BASE, 64);
    uart_init(&w->uart, w_tx, NULL, w);
    event_notifier_init(&w->kick, 0);
    event_notifier_init(&w->irq, 0);
    w->io_ctx = aio_context_new(&error_abort);
    qemu_set_current_aio_context(w->io_ctx);
    aio_set_event_notifier(w->io_ctx, &w->kick, kick_read, NULL, NULL);
    qemu_thread_create(&vcpu, "vcpu", vcpu_thread, w, QEMU_THREAD_JOINABLE);
    qemu_thread_create(&input, "input", input_thread, w,
                       QEMU_THREAD_JOINABLE);
    qemu_thread_create(&main, "mainloop", main_thread, w,
                       QEMU_THREAD_JOINABLE);
    qemu_thread_create(&console, "console", console_thread, w,
                       QEMU_THREAD_JOINABLE);
    while (!w->stop) {
        aio_poll(w->io_ctx, true);
    }
    qemu_thread_join(&vcpu);
    qemu_thread_join(&input);
    qemu_thread_join(&main);
    qemu_thread_join(&console);
    if (w->errors || w->db.completed != REQUESTS) {
        sim_fail("doorbell/uart: %u errors, %llu completions", w->errors,
                 (unsigned long long)w->db.completed);
    }
    if (!console_consistent(w)) {
        sim_fail("console: printed %zu, written %llu, dropped %llu, "
                 "received %zu", w->printed->len,
                 (unsigned long long)w->out.written,
                 (unsigned long long)w->out.dropped, w->received->len);
    }
    console_printed += w->printed->len;
    console_dropped += w->out.dropped;
    g_string_free(w->printed, TRUE);
    g_string_free(w->received, TRUE);
}

int main(int argc, char **argv)
{
    uint64_t first = argc > 1 ? strtoull(argv[1], NULL, 0) : 1;
    uint64_t seeds = argc > 1 ? 1 : 200;
    World *w = g_new0(World, 1);
    int status = 0;

    for (uint64_t seed = first; seed < first + seeds; seed++) {
        SimConfig config;
        SimVerdict verdict;

        sim_config_default(&config);
        config.seed = seed;
        config.faults = SIM_FAULT_ALL;
        config.fault_permille = 30;
        verdict = sim_run(&config, world_body, w);
        if (verdict != SIM_OK) {
            fprintf(stderr, "test-devices-sim: seed %llu: %s: %s\n"
                    "reproduce with: test-devices-sim %llu\n",
                    (unsigned long long)seed, sim_verdict_name(verdict),
                    sim_verdict_story(), (unsigned long long)seed);
            status = 1;
        }
    }
    printf("test-devices-sim: %llu seeds, %llu steps in the last, console "
           "%llu bytes printed, %llu dropped, %s\n",
           (unsigned long long)seeds, (unsigned long long)sim_steps(),
           (unsigned long long)console_printed,
           (unsigned long long)console_dropped,
           status ? "FAILED" : "ok (doorbell + UART + console paths, faults "
           "on)");
    if (seeds > 1 && (console_dropped == 0 ||
                      console_dropped == console_printed)) {
        fprintf(stderr, "test-devices-sim: the seeds never (or always) "
                "dropped console output: the slow reader is not slow\n");
        status = 1;
    }
    g_free(w);
    return status;
}
