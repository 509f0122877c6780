/*
 * tests/kvm/test-devices.c — the VMM's device models without KVM.
 *
 * Method: directed checks of the 8250 behaviour guests depend on (the THRE
 * interrupt Linux needs, the divisor latch, FIFO overrun, loopback, IIR
 * priorities) and of the doorbell protocol (results, out-of-order
 * completion, hostile rings); then a deterministic hostile guest: seeded
 * random programs through the fuzz target's interpreter.  Always runs (no
 * /dev/kvm needed).  A failure prints the seed: rerun with
 *   test-devices SEED
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doorbell.h"
#include "fuzz-devices.h"
#include "fuzz-linux-boot.h"
#include "uart.h"

static int failures;

#define EXPECT(cond) do { \
    if (!(cond)) { \
        fprintf(stderr, "%s:%d: FAIL %s\n", __FILE__, __LINE__, #cond); \
        failures++; \
    } \
} while (0)

typedef struct Probe {
    char out[64];
    unsigned out_len;
    bool level;
    unsigned edges;             /* rising edges seen */
} Probe;

static void probe_tx(void *opaque, uint8_t b)
{
    Probe *p = opaque;

    if (p->out_len < sizeof(p->out) - 1) {
        p->out[p->out_len++] = (char)b;
    }
}

static void probe_irq(void *opaque, bool level)
{
    Probe *p = opaque;

    p->edges += level && !p->level;
    p->level = level;
}

static void test_uart_thre(void)
{
    Probe p = { 0 };
    Uart u;

    uart_init(&u, probe_tx, probe_irq, &p);
    EXPECT(!p.level);
    EXPECT((uart_io_read(&u, 5) & 0x60) == 0x60);     /* THRE | TEMT */
    uart_io_write(&u, 1, 0x02);         /* ETBEI while THR empty */
    EXPECT(p.level && p.edges == 1);
    EXPECT((uart_io_read(&u, 2) & 0x0f) == 0x02);     /* IIR: THRI */
    EXPECT(!p.level);                   /* ...and reading it acked it */
    EXPECT((uart_io_read(&u, 2) & 0x0f) == 0x01);
    uart_io_write(&u, 0, 'h');          /* each byte: a fresh edge */
    uart_io_write(&u, 0, 'i');
    EXPECT(p.edges == 3 && p.level);
    EXPECT(strcmp(p.out, "hi") == 0);
    uart_io_write(&u, 1, 0);            /* ETBEI off: line drops */
    EXPECT(!p.level);
}

static void test_uart_dlab_fifo_loop(void)
{
    Probe p = { 0 };
    Uart u;
    uint8_t in[20];

    uart_init(&u, probe_tx, probe_irq, &p);
    uart_io_write(&u, 3, 0x80);         /* DLAB */
    uart_io_write(&u, 0, 0x01);
    uart_io_write(&u, 1, 0x02);
    EXPECT(uart_io_read(&u, 0) == 0x01 && uart_io_read(&u, 1) == 0x02);
    EXPECT(u.divisor == 0x0201 && p.out_len == 0 && u.ier == 0);
    uart_io_write(&u, 3, 0x03);
    uart_io_write(&u, 1, 0x05);         /* ERBFI | ELSI */
    memset(in, 'x', sizeof(in));
    EXPECT(uart_receive(&u, in, sizeof(in)) == UART_FIFO_BYTES);
    EXPECT(p.level && (uart_io_read(&u, 2) & 0x0f) == 0x04);
    uart_io_write(&u, 2, 0x03);         /* FIFO enable + clear RX */
    EXPECT(!(uart_io_read(&u, 5) & 0x01) && !p.level);
    uart_io_write(&u, 4, 0x10);         /* loopback */
    uart_io_write(&u, 0, 'L');
    EXPECT(uart_io_read(&u, 0) == 'L' && p.out_len == 0);
    /* Host input never overruns: it waits for room (flow control). */
    EXPECT(uart_receive(&u, in, sizeof(in)) == UART_FIFO_BYTES);
    EXPECT(uart_receive(&u, in, 1) == 0 && u.rx_dropped == 0);
    /* The guest looping back into a full FIFO does: LSR.OE, once. */
    uart_io_write(&u, 0, 'O');
    EXPECT(u.rx_dropped == 1);
    EXPECT((uart_io_read(&u, 2) & 0x0f) == 0x06);     /* line status first */
    EXPECT(uart_io_read(&u, 5) & 0x02);
    EXPECT(!(uart_io_read(&u, 5) & 0x02));
}

/* ---- doorbell ---- */
static _Alignas(64) uint8_t ram[0x10000];
static struct { uint32_t slot, id, a, b; } pending[DB_RING_SLOTS];
static unsigned npending, raises;

static void *db_map(void *o, uint64_t gpa, size_t len)
{
    return gpa <= sizeof(ram) && len <= sizeof(ram) - gpa ? ram + gpa : NULL;
}

static void db_submit(void *o, uint32_t slot, uint32_t id, uint32_t a,
                      uint32_t b)
{
    pending[npending].slot = slot;
    pending[npending].id = id;
    pending[npending].a = a;
    pending[npending].b = b;
    npending++;
}

static void db_raise(void *o)
{
    raises++;
}

static const DoorbellOps db_ops = { db_map, db_submit, db_raise };

static void test_doorbell_protocol(void)
{
    struct db_ring *ring = (struct db_ring *)(ram + 0x1000);
    Doorbell d;
    uint32_t prod = 0, errors = 0;

    doorbell_init(&d, &db_ops, NULL);
    EXPECT(doorbell_io_read(&d, DB_PORT_ID - DB_PORT_BASE) == DB_ID_MAGIC);
    doorbell_kick(&d);                  /* no ring yet: an error, no crash */
    EXPECT(d.errors == 1 && npending == 0);
    doorbell_io_write(&d, DB_PORT_RING - DB_PORT_BASE, 0x1000);
    for (int round = 0; round < 100; round++) {
        for (int n = 0; n < 10; n++, prod++) {
            struct db_req *r = &ring->req[prod % DB_RING_SLOTS];

            r->id = prod;
            r->a = prod * 7;
            r->b = ~prod;
            r->status = 0;
            ring->prod = prod + 1;
            if (n % 3 == 0) {
                doorbell_kick(&d);      /* coalesced kicks */
            }
        }
        doorbell_kick(&d);
        EXPECT(npending == 10);
        while (npending) {              /* complete newest first */
            npending--;
            doorbell_complete(&d, pending[npending].slot,
                              db_compute(pending[npending].id,
                                         pending[npending].a,
                                         pending[npending].b));
        }
        EXPECT(ring->used == prod);
    }
    for (uint32_t i = 0; i < DB_RING_SLOTS; i++) {
        struct db_req *r = &ring->req[i];

        errors += r->status != DB_STATUS_DONE ||
                  r->result != db_compute(r->id, r->a, r->b);
    }
    EXPECT(errors == 0 && raises == 1000 && d.completed == 1000);
    /* Hostile: prod far ahead, ring straddling the end of RAM. */
    ring->prod += 5000;
    doorbell_kick(&d);
    EXPECT(npending == 0 && d.errors == 2);
    doorbell_io_write(&d, DB_PORT_RING - DB_PORT_BASE, sizeof(ram) - 64);
    doorbell_kick(&d);
    EXPECT(npending == 0 && d.errors == 3);
    /* Misaligned: refused at attach (and the ring is detached). */
    doorbell_io_write(&d, DB_PORT_RING - DB_PORT_BASE, 0x1001);
    EXPECT(d.errors == 4 && d.ring_gpa == 0);
}

static volatile unsigned current_seed;
static const char *current_mode = "";  /* "" or "linux " */

static void on_abort(int signo)
{
    /* The one command that reproduces it. */
    if (strcmp(current_mode, "corner") == 0) {
        fprintf(stderr, "hostile bzImage: FAILED at corner case %u "
                "(test_linux_boot_corners; plain test-devices runs it)\n",
                current_seed);
    } else {
        fprintf(stderr, "hostile guest: FAILED at seed %u; reproduce with: "
                "test-devices %s%u\n", current_seed, current_mode,
                current_seed);
    }
    signal(signo, SIG_DFL);
}

static void test_hostile_random(unsigned seed0, unsigned runs)
{
    uint8_t buf[4096];

    signal(SIGABRT, on_abort);
    for (unsigned seed = seed0; seed < seed0 + runs; seed++) {
        uint32_t x = seed * 2654435761u + 1;

        current_seed = seed;
        for (size_t i = 0; i < sizeof(buf); i++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            buf[i] = (uint8_t)x;
        }
        qloop_kvm_devices_run(buf, sizeof(buf));  /* aborts on a bug */
    }
    fprintf(stderr, "hostile guest: seeds %u..%u clean (4 KiB programs)\n",
            seed0, seed0 + runs - 1);
}

/* The programs must reach what a guest controls, not a corner of it. */
static void test_hostile_reach(void)
{
    FuzzReach r;

    qloop_kvm_devices_reach(&r);
    EXPECT(r.slots == ~0ull);                   /* every slot, 63 too */
    EXPECT(r.cons_wraps > 0);
    EXPECT(r.overruns > 0);
    EXPECT(r.out_of_order > 0);
    EXPECT(r.ring_outside > 0 && r.ring_misaligned > 0);
    fprintf(stderr, "hostile guest reach: slots %#llx, %llu cons wraps, "
            "%llu overruns, %llu out-of-order completions, %llu ring "
            "attaches (%llu outside RAM, %llu misaligned)\n",
            (unsigned long long)r.slots, (unsigned long long)r.cons_wraps,
            (unsigned long long)r.overruns,
            (unsigned long long)r.out_of_order,
            (unsigned long long)r.ring_attaches,
            (unsigned long long)r.ring_outside,
            (unsigned long long)r.ring_misaligned);
}

/* Corner cases the seeds rarely reach, through the same checked runner:
 * a command-line limit of 0xffffffff, RAM past 4 GiB, an initrd past
 * 4 GiB, initrd_addr_max 0xffffffff. */
static void test_linux_boot_corners(void)
{
    /* bytes 0-1 image length, 2-5 RAM, 6-9 initrd, 10-11 command line,
     * 14 RAM shift, 15 initrd flags; then (offset - 0x1f1, value). */
    static const uint8_t corners[][32] = {
        { 0x00, 0x40, 0, 0, 0, 1, 0, 0, 0x10, 0, 10, 0, 0, 0, 0, 0,
          0x47, 0xff, 0x48, 0xff, 0x49, 0xff, 0x4a, 0xff },
        { 0x00, 0x40, 0, 0, 0, 1, 0, 0, 0x10, 0, 10, 0, 0, 0, 12, 0x40,
          0x3b, 0xff, 0x3c, 0xff, 0x3d, 0xff, 0x3e, 0xff },
        { 0x00, 0x40, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0, 12,
          0, 0x3b, 0xff, 0x3c, 0xff, 0x3d, 0xff, 0x3e, 0xff },
    };

    current_mode = "corner";
    signal(SIGABRT, on_abort);
    for (unsigned i = 0; i < sizeof(corners) / sizeof(corners[0]); i++) {
        current_seed = i;
        qloop_kvm_linux_boot_run(corners[i], sizeof(corners[i]));
    }
}

/* Seeded hostile bzImages through the loader (fuzz-linux-boot.c). */
static void test_linux_boot_random(unsigned seed0, unsigned runs)
{
    uint8_t buf[96];

    signal(SIGABRT, on_abort);
    current_mode = "linux ";
    for (unsigned seed = seed0; seed < seed0 + runs; seed++) {
        uint32_t x = seed * 2246822519u + 7;

        current_seed = seed;
        for (size_t i = 0; i < sizeof(buf); i++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            buf[i] = (uint8_t)x;
        }
        /* Half the seeds leave the header alone but for a few bytes. */
        qloop_kvm_linux_boot_run(buf, seed % 2 ? sizeof(buf) : 16 + seed % 8);
    }
    fprintf(stderr, "hostile bzImage: seeds %u..%u clean\n", seed0,
            seed0 + runs - 1);
}

int main(int argc, char **argv)
{
    if (argc > 2 && strcmp(argv[1], "linux") == 0) {
        test_linux_boot_random((unsigned)strtoul(argv[2], NULL, 0), 1);
        return 0;
    }
    if (argc > 1) {
        test_hostile_random((unsigned)strtoul(argv[1], NULL, 0), 1);
        return 0;
    }
    test_uart_thre();
    test_uart_dlab_fifo_loop();
    test_doorbell_protocol();
    test_hostile_random(1, 20000);
    test_hostile_reach();
    test_linux_boot_corners();
    test_linux_boot_random(1, 200000);
    printf("test-devices: %s\n", failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
