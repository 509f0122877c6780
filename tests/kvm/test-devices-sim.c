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
 * Every schedule comes from the seed's choice tape, with fault points on,
 * so a lost wake-up anywhere on the path is a SIM_HANG verdict, not a
 * timeout.  A failure prints the seed; rerun with test-devices-sim SEED.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qloop/qloop.h"
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
    }
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

static void world_body(void *opaque)
{
    World *w = opaque;
    QemuThread vcpu, input;

    memset(w, 0, sizeof(*w));
    w->ring = (struct db_ring *)(w->ram + 64);
    qemu_mutex_init(&w->lock);
    doorbell_init(&w->db, &w_ops, w);
    doorbell_io_write(&w->db, DB_PORT_RING - DB_PORT_BASE, 64);
    uart_init(&w->uart, NULL, NULL, NULL);
    event_notifier_init(&w->kick, 0);
    event_notifier_init(&w->irq, 0);
    w->io_ctx = aio_context_new(&error_abort);
    qemu_set_current_aio_context(w->io_ctx);
    aio_set_event_notifier(w->io_ctx, &w->kick, kick_read, NULL, NULL);
    qemu_thread_create(&vcpu, "vcpu", vcpu_thread, w, QEMU_THREAD_JOINABLE);
    qemu_thread_create(&input, "input", input_thread, w,
                       QEMU_THREAD_JOINABLE);
    while (!w->stop) {
        aio_poll(w->io_ctx, true);
    }
    qemu_thread_join(&vcpu);
    qemu_thread_join(&input);
    if (w->errors || w->db.completed != REQUESTS) {
        sim_fail("doorbell/uart: %u errors, %llu completions", w->errors,
                 (unsigned long long)w->db.completed);
    }
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
    printf("test-devices-sim: %llu seeds, %llu steps in the last, %s\n", (unsigned long long)seeds,
           (unsigned long long)sim_steps(),
           status ? "FAILED" : "ok (doorbell + UART paths, faults on)");
    g_free(w);
    return status;
}
