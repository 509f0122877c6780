/*
 * harness/kvm/fuzz-devices.c — a hostile guest for the device models.
 *
 * Method: the input is a program of 8-byte steps (an opcode, three small
 * arguments, a 32-bit value taken from the input — never from the opcode
 * bytes) against the UART (uart.c) and the doorbell (doorbell.c), with no
 * KVM.  What a guest controls, all of it reachable:
 *   UART:     port reads and writes at any offset (divisor latch, FIFO,
 *             loopback), host input of any length;
 *   doorbell: the ring at any 32-bit address (aligned or not, inside RAM,
 *             straddling its end, outside), requests published in any
 *             number (more than the free slots: an overrun), prod set
 *             anywhere relative to cons (behind, ahead, across 2^32: an
 *             overrun makes cons jump there, so later requests wrap it),
 *             any byte of RAM scribbled with input data, kick storms,
 *             completions in any order, the ring moved with requests in
 *             flight.
 * Oracles after every step: the models' invariants; each submitted
 * request carries exactly the slot contents the guest wrote; a completion
 * into an unmoved ring stores db_compute() of that request and advances
 * used by one.  A violation aborts, so libFuzzer and the deterministic
 * driver (tests/kvm/test-devices.c) both see a crash.  The reach record
 * (fuzz-devices.h) lets the driver assert that its programs really cover
 * every slot, cons wraps, overruns and out-of-order completions.  Every
 * loop is bounded by the input length.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doorbell.h"
#include "fuzz-devices.h"
#include "fuzz-linux-boot.h"
#include "uart.h"

#define FUZZ_RAM_BYTES 0x4000u
#define FUZZ_QUEUE 128                  /* > DB_RING_SLOTS: asserted */
#define FUZZ_STEP_BYTES 8

#define CHECK(cond) do { \
    if (!(cond)) { \
        fprintf(stderr, "%s:%d: device invariant broken: %s\n", __FILE__, \
                __LINE__, #cond); \
        abort(); \
    } \
} while (0)

typedef struct FuzzReq {
    uint32_t slot, id, a, b;
    uint32_t ring_gpa, ring_gen;        /* the ring it was taken from */
} FuzzReq;

typedef struct FuzzWorld {
    Uart uart;
    Doorbell db;
    _Alignas(64) uint8_t ram[FUZZ_RAM_BYTES];
    bool irq_level;             /* as last reported by the UART */
    uint64_t irq_changes, tx_bytes, raises;
    FuzzReq queue[FUZZ_QUEUE];
    unsigned queued;            /* submitted, not yet completed */
    uint32_t ring_gen;          /* bumped on every ring (re)attach */
} FuzzWorld;

static FuzzReach reach_total;

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

static struct db_ring *fuzz_ring(FuzzWorld *w)
{
    if (w->db.ring_gpa == 0) {
        return NULL;
    }
    return fuzz_map(w, w->db.ring_gpa, sizeof(struct db_ring));
}

static void fuzz_submit(void *opaque, uint32_t slot, uint32_t id, uint32_t a,
                        uint32_t b)
{
    FuzzWorld *w = opaque;
    struct db_ring *ring = fuzz_ring(w);

    CHECK(slot < DB_RING_SLOTS);
    CHECK(w->queued < FUZZ_QUEUE);
    /* The ABI: request number i lives in slot i % 64 (cons is already
     * past it), across the 2^32 wrap too. */
    CHECK(slot == (w->db.cons - 1) % DB_RING_SLOTS);
    /* The device copied the guest's slot, nothing else. */
    CHECK(ring != NULL);
    CHECK(ring->req[slot].id == id && ring->req[slot].a == a &&
          ring->req[slot].b == b);
    w->queue[w->queued] = (FuzzReq){
        .slot = slot, .id = id, .a = a, .b = b,
        .ring_gpa = w->db.ring_gpa, .ring_gen = w->ring_gen,
    };
    w->queued++;
    reach_total.slots |= 1ull << slot;
    /* The device bumps cons before submitting: 0 means the request at
     * index 0xffffffff was just taken, the counter wrapped. */
    reach_total.cons_wraps += w->db.cons == 0;
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
    FuzzReq r = w->queue[i];
    uint32_t result = db_compute(r.id, r.a, r.b);
    struct db_ring *ring = fuzz_ring(w);
    bool same_ring = ring && r.ring_gpa == w->db.ring_gpa &&
                     r.ring_gen == w->ring_gen;
    uint32_t used_before = w->db.used;

    reach_total.out_of_order += i != 0;
    w->queue[i] = w->queue[--w->queued];        /* any completion order */
    doorbell_complete(&w->db, r.slot, result);
    if (same_ring) {
        CHECK(ring->req[r.slot].result == result);
        CHECK(ring->req[r.slot].status == DB_STATUS_DONE);
        CHECK(w->db.used == used_before + 1 && ring->used == w->db.used);
    }
}

static void fuzz_attach(FuzzWorld *w, uint32_t gpa)
{
    doorbell_io_write(&w->db, DB_PORT_RING - DB_PORT_BASE, gpa);
    w->ring_gen++;
    reach_total.ring_attaches++;
    reach_total.ring_outside += gpa != 0 && gpa % DB_RING_ALIGN == 0 &&
                                !fuzz_ring(w);
    reach_total.ring_misaligned += gpa % DB_RING_ALIGN != 0;
}

/* The guest publishes n requests from prod on (maybe more than fit). */
static void fuzz_publish(FuzzWorld *w, unsigned n, uint32_t seed)
{
    struct db_ring *ring = fuzz_ring(w);

    if (!ring) {
        return;
    }
    for (unsigned k = 0; k < n; k++) {
        struct db_req *r = &ring->req[(ring->prod + k) % DB_RING_SLOTS];

        r->id = seed + k;
        r->a = seed ^ (k * 0x9e3779b9u);
        r->b = ~seed + k;
        r->status = DB_STATUS_FREE;
    }
    ring->prod += n;
}

static void fuzz_set_prod(FuzzWorld *w, const uint8_t *p, uint32_t v)
{
    struct db_ring *ring = fuzz_ring(w);

    if (!ring) {
        return;
    }
    switch (p[2] & 3) {
    case 0:                     /* near cons: behind or a little ahead */
        ring->prod = w->db.cons + (uint32_t)(int8_t)p[1];
        break;
    case 1:                     /* just below 2^32: the next ones wrap */
        ring->prod = 0u - 1u - (p[1] & 0x7f);
        break;
    default:                    /* anything */
        ring->prod = v;
        break;
    }
}

static void fuzz_uart_step(FuzzWorld *w, const uint8_t *p)
{
    switch (p[0] % 3) {
    case 0:
        uart_io_write(&w->uart, p[1], p[2]);
        break;
    case 1:
        (void)uart_io_read(&w->uart, p[1]);     /* reads have effects */
        break;
    default:
        uart_receive(&w->uart, p + 4, p[1] % 5);
        break;
    }
}

static void fuzz_step(FuzzWorld *w, const uint8_t *p)
{
    uint32_t v = p[4] | p[5] << 8 | (uint32_t)p[6] << 16 |
                 (uint32_t)p[7] << 24;

    switch (p[0] % 11) {
    case 0: case 1: case 2:
        fuzz_uart_step(w, p);
        break;
    case 3:                                     /* ring anywhere */
        fuzz_attach(w, (p[1] & 3) == 0 ? v
                       : (p[1] & 3) == 1 ? v % (FUZZ_RAM_BYTES + 0x400)
                       : (v % (FUZZ_RAM_BYTES / DB_RING_ALIGN + 4)) *
                         DB_RING_ALIGN);
        break;
    case 4:                                     /* a storm of kicks */
        for (unsigned n = 0; n <= p[1] % 16u; n++) {
            doorbell_kick(&w->db);
        }
        break;
    case 5:                                     /* scribble input data */
        memcpy(w->ram + ((p[1] | p[2] << 8) % (FUZZ_RAM_BYTES - 3)), p + 4,
               4);
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
            w->ring_gen++;                      /* maybe re-attached */
        }
        break;
    case 8:
        fuzz_publish(w, p[1] % (DB_RING_SLOTS + 8), v);
        if (p[2] & 1) {
            uint64_t errors = w->db.errors;

            doorbell_kick(&w->db);
            reach_total.overruns += w->db.errors > errors && fuzz_ring(w);
        }
        break;
    case 9:
        fuzz_set_prod(w, p, v);
        break;
    default:                                    /* newest first */
        while (w->queued) {
            fuzz_complete(w, w->queued - 1);
            fuzz_check(w);
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
    for (size_t off = 0; off + FUZZ_STEP_BYTES <= size;
         off += FUZZ_STEP_BYTES) {
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

void qloop_kvm_devices_reach(FuzzReach *out)
{
    *out = reach_total;
}

/* One binary for both (OSS-Fuzz's build checks want a target of some
 * size): a first byte of FUZZ_DEVICES_LINUX_BOOT picks the loader. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 0 && data[0] == FUZZ_DEVICES_LINUX_BOOT) {
        return qloop_kvm_linux_boot_run(data + 1, size - 1);
    }
    return qloop_kvm_devices_run(data, size);
}
