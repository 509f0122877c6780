/*
 * harness/kvm/fuzz-devices.c — a hostile guest for the device models.
 *
 * Method: the input bytes are a program of guest actions against the UART
 * (uart.c) and the doorbell (doorbell.c) with no KVM at all: port reads
 * and writes at any offset and size (the divisor latch and FIFO included),
 * host input, doorbell storms, scribbles over the ring in guest memory,
 * ring relocation to anywhere (inside RAM, straddling its end, outside),
 * and completions in any order.  After every action the models' invariants
 * are checked; a violation aborts, so libFuzzer and the deterministic
 * driver (tests/kvm/test-devices.c) both see it as a crash.  Every loop is
 * bounded by the input length, so there is no hang to find but a real one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doorbell.h"
#include "fuzz-devices.h"
#include "uart.h"

#define FUZZ_RAM_BYTES 0x4000u
#define FUZZ_QUEUE 128

#define CHECK(cond) do { \
    if (!(cond)) { \
        fprintf(stderr, "%s:%d: device invariant broken: %s\n", __FILE__, \
                __LINE__, #cond); \
        abort(); \
    } \
} while (0)

typedef struct FuzzWorld {
    Uart uart;
    Doorbell db;
    _Alignas(16) uint8_t ram[FUZZ_RAM_BYTES];  /* the model needs >= 4 */
    bool irq_level;             /* as last reported by the UART */
    uint64_t irq_changes, tx_bytes, raises;
    struct { uint32_t slot, id, a, b; } queue[FUZZ_QUEUE];
    unsigned queued;            /* submitted, not yet completed */
} FuzzWorld;

static void fuzz_tx(void *opaque, uint8_t byte)
{
    FuzzWorld *w = opaque;

    w->tx_bytes++;
}

static void fuzz_set_irq(void *opaque, bool level)
{
    FuzzWorld *w = opaque;

    CHECK(level != w->irq_level);       /* changes only */
    w->irq_level = level;
    w->irq_changes++;
}

static void *fuzz_map(void *opaque, uint64_t gpa, size_t len)
{
    FuzzWorld *w = opaque;

    if (gpa > FUZZ_RAM_BYTES || len > FUZZ_RAM_BYTES - gpa) {
        return NULL;
    }
    return w->ram + gpa;
}

static void fuzz_submit(void *opaque, uint32_t slot, uint32_t id, uint32_t a,
                        uint32_t b)
{
    FuzzWorld *w = opaque;

    CHECK(slot < DB_RING_SLOTS);
    CHECK(w->queued < FUZZ_QUEUE);
    w->queue[w->queued].slot = slot;
    w->queue[w->queued].id = id;
    w->queue[w->queued].a = a;
    w->queue[w->queued].b = b;
    w->queued++;
}

static void fuzz_raise(void *opaque)
{
    FuzzWorld *w = opaque;

    w->raises++;
}

static const DoorbellOps fuzz_db_ops = {
    .map = fuzz_map, .submit = fuzz_submit, .raise = fuzz_raise,
};

static void fuzz_check(FuzzWorld *w)
{
    CHECK(w->uart.rx_count <= UART_FIFO_BYTES);
    CHECK(w->uart.rx_head < UART_FIFO_BYTES);
    CHECK(w->uart.irq_level == w->irq_level);
    CHECK(w->uart.lsr & 0x20);                  /* THR always drains */
    CHECK(!!(w->uart.lsr & 0x01) == (w->uart.rx_count > 0));
    CHECK(w->db.inflight == w->queued);
    CHECK(w->db.inflight <= DB_RING_SLOTS);
    CHECK(w->db.completed <= w->db.submitted);
    CHECK(w->raises <= w->db.completed);
}

static void fuzz_complete(FuzzWorld *w, unsigned pick)
{
    unsigned i = pick % w->queued;
    uint32_t slot = w->queue[i].slot;
    uint32_t result = db_compute(w->queue[i].id, w->queue[i].a,
                                 w->queue[i].b);

    w->queue[i] = w->queue[--w->queued];        /* any completion order */
    doorbell_complete(&w->db, slot, result);
}

static void fuzz_step(FuzzWorld *w, const uint8_t *p)
{
    uint32_t v = p[1] | p[2] << 8 | (uint32_t)p[3] << 16;

    switch (p[0] % 8) {
    case 0:
        uart_io_write(&w->uart, p[1], p[2]);
        break;
    case 1:
        (void)uart_io_read(&w->uart, p[1]);
        break;
    case 2:
        uart_receive(&w->uart, p + 1, p[0] >> 6);
        break;
    case 3: {                                   /* ring somewhere */
        static const uint32_t ram_slots = FUZZ_RAM_BYTES / DB_RING_ALIGN;
        uint32_t where[4] = {
            DB_RING_ALIGN,                              /* the usual one */
            (v >> 2) % (ram_slots + 2) * DB_RING_ALIGN, /* aligned, maybe
                                                           straddling */
            v & (FUZZ_RAM_BYTES * 2 - 1),               /* misaligned too */
            v << 8,                                     /* far outside */
        };

        doorbell_io_write(&w->db, DB_PORT_RING - DB_PORT_BASE,
                          where[p[1] & 3]);
        break;
    }
    case 4:                                     /* a storm of kicks */
        for (unsigned n = 0; n <= p[1] % 32; n++) {
            doorbell_kick(&w->db);
        }
        break;
    case 5:                                     /* the guest scribbles */
        memcpy(w->ram + (v % (FUZZ_RAM_BYTES - 4)), p, 4);
        break;
    case 6:
        if (w->queued) {
            fuzz_complete(w, p[1]);
        }
        break;
    case 7:
        if (p[1] & 1) {
            (void)doorbell_io_read(&w->db, p[2] % DB_PORT_LEN);
        } else {
            doorbell_io_write(&w->db, p[2] % DB_PORT_LEN, v);
        }
        break;
    }
    fuzz_check(w);
}

int qloop_kvm_devices_run(const uint8_t *data, size_t size)
{
    FuzzWorld *w = calloc(1, sizeof(*w));

    CHECK(w != NULL);
    uart_init(&w->uart, fuzz_tx, fuzz_set_irq, w);
    doorbell_init(&w->db, &fuzz_db_ops, w);
    for (size_t off = 0; off + 4 <= size; off += 4) {
        fuzz_step(w, data + off);
    }
    while (w->queued) {                         /* drain: all complete */
        fuzz_complete(w, 0);
        fuzz_check(w);
    }
    CHECK(w->db.completed == w->db.submitted);
    free(w);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return qloop_kvm_devices_run(data, size);
}
