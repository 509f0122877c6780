/*
 * harness/kvm/guest/guest.c — the freestanding test guest.
 *
 * Method: 32-bit protected mode, no paging, one CPU.  It programs the 8259
 * pair (vectors 0x20-0x2f; only IRQ 4 serial and IRQ 5 doorbell unmasked),
 * loads an IDT, and prints through an interrupt-driven UART driver: bytes
 * go into a ring and the THRE interrupt moves up to 16 of them per
 * interrupt, as Linux's 8250 driver does.  Then it submits DOORBELLS
 * requests to the doorbell device in batches, sleeping in hlt until the
 * completion interrupts report them, and checks every result against
 * db_compute().  It prints the marker with its counts and leaves through
 * the debug-exit port.  Instructions stay simple (mov, in/out, add, shifts,
 * cmp/jcc, hlt, sti/cli, lidt/lgdt, one rep outsb) because kvm_pvm emulates
 * them; interrupts return with popfl; ret (entry.S says why, not iret).
 */
#include <stdint.h>

#include "../doorbell-abi.h"

#ifndef DOORBELLS
#define DOORBELLS 1000u
#endif
#ifndef BATCH
#define BATCH     8u            /* requests per kick round; <= slots */
#endif

/*
 * Variants for the VMM's own tests, one image each (GUEST_MODE): the smoke
 * guest, an echo guest, a doorbell storm, and hostile guests (hostile()).
 */
#define MODE_DOORBELL 0
#define MODE_ECHO     1
#define MODE_BAD_PORT 2
#define MODE_BAD_MMIO 3
#define MODE_TRIPLE   4
#define MODE_RESET    5
#define MODE_HANG     6
#define MODE_FAIL     7
#define MODE_IRET     8
#define MODE_STORM    9
#ifndef GUEST_MODE
#define GUEST_MODE MODE_DOORBELL
#endif

#define COM1      0x3f8
#define PIC1      0x20
#define PIC2      0xa0
#define IRQ_BASE  0x20

void isr_uart(void);
void isr_doorbell(void);
void isr_other_irq(void);
extern const uint32_t exc_table[21];

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline void outl(uint16_t port, uint32_t v)
{
    __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}
static inline uint32_t inl(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

/* gcc may emit calls to these for struct copies. */
void *memset(void *d, int c, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        ((volatile uint8_t *)d)[i] = (uint8_t)c;
    }
    return d;
}
void *memcpy(void *d, const void *s, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        ((uint8_t *)d)[i] = ((const uint8_t *)s)[i];
    }
    return d;
}

/* ---- interrupts ---- */
struct idt_gate {
    uint16_t off_lo, sel;
    uint8_t zero, type;
    uint16_t off_hi;
} __attribute__((packed));

static struct idt_gate idt[256];
static volatile uint32_t other_irqs;

static void idt_set(int vec, void (*fn)(void))
{
    uint32_t a = (uint32_t)fn;

    idt[vec] = (struct idt_gate){ (uint16_t)a, 0x10, 0, 0x8e,
                                  (uint16_t)(a >> 16) };
}

static void idt_init(void)
{
    struct { uint16_t limit; uint32_t base; } __attribute__((packed)) d;

    for (int v = 0; v < 256; v++) {
        idt_set(v, isr_other_irq);
    }
    for (int v = 0; v < 21; v++) {
        idt_set(v, (void (*)(void))exc_table[v]);
    }
    idt_set(IRQ_BASE + 4, isr_uart);
    idt_set(IRQ_BASE + DB_IRQ, isr_doorbell);
    d.limit = sizeof(idt) - 1;
    d.base = (uint32_t)idt;
    __asm__ volatile("lidt %0" : : "m"(d));
}

static void pic_init(void)
{
    outb(PIC1, 0x11);           /* ICW1: edge, cascade, ICW4 */
    outb(PIC2, 0x11);
    outb(PIC1 + 1, IRQ_BASE);   /* ICW2: vector base */
    outb(PIC2 + 1, IRQ_BASE + 8);
    outb(PIC1 + 1, 0x04);       /* ICW3: slave on IRQ 2 */
    outb(PIC2 + 1, 0x02);
    outb(PIC1 + 1, 0x01);       /* ICW4: 8086 mode */
    outb(PIC2 + 1, 0x01);
    outb(PIC1 + 1, (uint8_t)~((1 << 2) | (1 << 4) | (1 << DB_IRQ)));
    outb(PIC2 + 1, 0xff);
}

static void pic_eoi(void)
{
    outb(PIC1, 0x20);
}

void other_irq_isr(void)
{
    other_irqs++;
    pic_eoi();
}

/* ---- interrupt-driven serial output ---- */
#define TX_RING 2048u
static volatile uint8_t tx_ring[TX_RING];
static volatile uint32_t tx_head, tx_tail;     /* head: ISR, tail: putc */
static volatile uint32_t tx_active, tx_irqs;
#define RX_RING 64u
static volatile uint8_t rx_ring[RX_RING];
static volatile uint32_t rx_head, rx_tail;     /* tail: ISR, head: main */
static volatile uint8_t ier_rx = 0x01;          /* ERBFI, unless RX is full */

void uart_isr(void)
{
    uint8_t iir;

    tx_irqs++;
    /* Bounded like Linux's serial8250_tx_chars: one FIFO's worth. */
    for (int budget = 16; budget > 0; budget--) {
        iir = inb(COM1 + 2);
        if (iir & 1) {
            break;
        }
        if ((iir & 0x0e) == 0x04) {     /* received data */
            while (inb(COM1 + 5) & 1) {
                if (rx_tail - rx_head == RX_RING) {
                    /* Full: stop RX interrupts (flow control; the
                     * reader re-enables them), or RDI would starve THRE. */
                    ier_rx = 0;
                    outb(COM1 + 1, (uint8_t)(tx_active ? 0x02 : 0));
                    break;
                }
                rx_ring[rx_tail % RX_RING] = inb(COM1);
                rx_tail++;
            }
            continue;
        }
        if ((iir & 0x0e) != 0x02) {
            (void)inb(COM1 + 5);        /* line status: clear it */
            continue;
        }
        if (tx_head == tx_tail) {
            outb(COM1 + 1, ier_rx);     /* nothing left: stop THRE irqs */
            tx_active = 0;
            break;
        }
        outb(COM1, tx_ring[tx_head % TX_RING]);
        tx_head++;
    }
    pic_eoi();
}

static void putc_irq(char c)
{
    while (tx_tail - tx_head >= TX_RING) {
        __asm__ volatile("sti; hlt" : : : "memory");   /* ring full: wait for THRE */
    }
    tx_ring[tx_tail % TX_RING] = (uint8_t)c;
    tx_tail++;
    __asm__ volatile("cli" : : : "memory");
    if (!tx_active) {
        tx_active = 1;
        outb(COM1 + 1, (uint8_t)(0x02 | ier_rx));  /* THRE irq now */
    }
    __asm__ volatile("sti" : : : "memory");
}

static void puts_irq(const char *s)
{
    while (*s) {
        putc_irq(*s++);
    }
}

static void putu_irq(uint32_t v)
{
    char buf[11];
    int n = 0;

    do {
        buf[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v && n < 10);
    while (n) {
        putc_irq(buf[--n]);
    }
}

static void tx_drain(void)
{
    __asm__ volatile("cli" : : : "memory");
    while (tx_active) {
        __asm__ volatile("sti; hlt; cli" : : : "memory");
    }
    __asm__ volatile("sti" : : : "memory");
}

/* Polled output, for before interrupts work and for exceptions. */
static void puts_polled(const char *s)
{
    while (*s) {
        while (!(inb(COM1 + 5) & 0x20)) {
        }
        outb(COM1, (uint8_t)*s++);
    }
}

void exception_isr(uint32_t *frame)
{
    static const char hex[] = "0123456789abcdef";
    char msg[] = "QLOOP-GUEST-FAIL exception vector 0x?? eip 0x????????\n";
    uint32_t vec = frame[0], eip = frame[1];

    /* Vectors 8, 10-14, 17 push an error code before eip. */
    if (vec == 8 || (vec >= 10 && vec <= 14) || vec == 17) {
        eip = frame[2];
    }
    msg[36] = hex[(vec >> 4) & 15];
    msg[37] = hex[vec & 15];
    for (int i = 0; i < 8; i++) {
        msg[45 + i] = hex[(eip >> (28 - 4 * i)) & 15];
    }
    outb(COM1 + 1, 0);
    puts_polled(msg);
    outb(DEBUG_EXIT_PORT, 3);
}

/* ---- doorbell ---- */
static struct db_ring ring __attribute__((aligned(DB_RING_ALIGN)));
static volatile uint32_t db_irqs, db_seen;

void doorbell_isr(void)
{
    db_irqs++;
    db_seen = __atomic_load_n(&ring.used, __ATOMIC_ACQUIRE);
    pic_eoi();
}

static uint32_t rng = 0x2545f491u;

static uint32_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

/*
 * A hostile prelude (MODE_STORM): kick with no ring, with a ring outside
 * RAM, with one straddling the end of the 4 MiB RAM, and with prod far
 * ahead — thousands of times — then attach the real ring and run the
 * normal checked workload.  The device must count errors, not crash, and
 * still serve every real request.
 */
static void doorbell_storm(void)
{
    static const uint32_t rings[] = { 0, 0xfffff000u, 0x3ffff0u };

    for (unsigned r = 0; r < sizeof(rings) / sizeof(rings[0]); r++) {
        outl(DB_PORT_RING, rings[r]);
        for (int i = 0; i < 3000; i++) {
            outl(DB_PORT_KICK, (uint32_t)i);
        }
    }
    outl(DB_PORT_RING, (uint32_t)&ring);
    ring.prod = 12345;              /* far ahead of the device */
    for (int i = 0; i < 3000; i++) {
        outl(DB_PORT_KICK, 0);
    }
    ring.prod = 0;
    ring.used = 0;
}

static uint32_t run_doorbells(uint32_t *errors)
{
    uint32_t prod = 0;

    if (GUEST_MODE == MODE_STORM) {
        doorbell_storm();
    }
    outl(DB_PORT_RING, (uint32_t)&ring);
    while (prod < DOORBELLS) {
        uint32_t first = prod;

        for (uint32_t n = 0; n < BATCH && prod < DOORBELLS; n++, prod++) {
            struct db_req *r = &ring.req[prod % DB_RING_SLOTS];

            r->id = prod;
            r->a = next_rand();
            r->b = next_rand();
            r->status = DB_STATUS_FREE;
            __atomic_store_n(&ring.prod, prod + 1, __ATOMIC_RELEASE);
            outl(DB_PORT_KICK, 1);
        }
        /* Sleep until the completion interrupt has seen the whole batch. */
        __asm__ volatile("cli" : : : "memory");
        while (db_seen != prod) {
            __asm__ volatile("sti; hlt; cli" : : : "memory");
        }
        __asm__ volatile("sti" : : : "memory");
        for (uint32_t i = first; i < prod; i++) {
            struct db_req *r = &ring.req[i % DB_RING_SLOTS];

            if (r->status != DB_STATUS_DONE ||
                r->result != db_compute(r->id, r->a, r->b)) {
                (*errors)++;
            }
        }
    }
    return prod;
}

/* MODE_ECHO: console input through RX interrupts, echoed until '!'. */
static void echo_until_bang(void)
{
    puts_irq("QLOOP-GUEST-READY echo until '!'\n");
    for (;;) {
        __asm__ volatile("cli" : : : "memory");
        while (rx_head == rx_tail) {
            __asm__ volatile("sti; hlt; cli" : : : "memory");
        }
        __asm__ volatile("sti" : : : "memory");
        char c = (char)rx_ring[rx_head % RX_RING];

        rx_head++;
        if (!ier_rx) {
            __asm__ volatile("cli" : : : "memory");
            ier_rx = 0x01;
            outb(COM1 + 1, (uint8_t)(0x01 | (tx_active ? 0x02 : 0)));
            __asm__ volatile("sti" : : : "memory");
        }
        putc_irq(c);
        if (c == '!') {
            break;
        }
    }
    puts_irq("\nQLOOP-GUEST-OK echo\n");
    tx_drain();
    outb(DEBUG_EXIT_PORT, 0);
}

static void hostile(void)
{
    tx_drain();
    switch (GUEST_MODE) {
    case MODE_BAD_PORT:
        outb(0x1234, 0x42);
        break;
    case MODE_BAD_MMIO:
        *(volatile uint32_t *)0xd0000000u = 0xdeadbeef;
        break;
    case MODE_TRIPLE: {
        /* No IDT at all: the next exception becomes a triple fault. */
        struct { uint16_t limit; uint32_t base; } __attribute__((packed))
            none = { 0, 0 };

        __asm__ volatile("cli; lidt %0; xorl %%ecx, %%ecx; divl %%ecx"
                         : : "m"(none) : "eax", "ecx", "edx");
        break;
    }
    case MODE_RESET:
        outb(0x64, 0xfe);
        break;
    case MODE_HANG:
        for (;;) {
            __asm__ volatile("cli; hlt");
        }
    case MODE_FAIL:
        outb(DEBUG_EXIT_PORT, 7);
        break;
    default:
        break;
    case MODE_IRET:
        /* A protected-mode iret to the next instruction: hardware runs
         * it, kvm_pvm's emulator cannot (an internal-error exit).  Then
         * a bad port, so the run fails the same way on both. */
        __asm__ volatile("pushfl; pushl %%cs; pushl $1f; iret; 1:" : : :
                         "memory");
        outb(0x1234, 0x42);
        break;
    }
    for (;;) {
        __asm__ volatile("cli; hlt");   /* the VMM must have stopped us */
    }
}

void guest_main(void)
{
    static const char hello[] = "qloop test guest: protected mode, rep outsb ok\n";
    uint32_t errors = 0, doorbells, completions;

    /* One string instruction: the VMM sees it as a counted I/O exit. */
    __asm__ volatile("cld; rep outsb"
                     : : "S"(hello), "c"(sizeof(hello) - 1), "d"(COM1)
                     : "memory");
    idt_init();
    pic_init();
    outb(COM1 + 3, 0x03);       /* 8N1 */
    outb(COM1 + 2, 0x07);       /* FIFO on, cleared */
    outb(COM1 + 4, 0x0b);       /* DTR, RTS, OUT2 (the ISA irq gate) */
    __asm__ volatile("sti" : : : "memory");
    puts_irq("qloop test guest: IDT, 8259 and THRE interrupts up\n");
    if (inl(DB_PORT_ID) != DB_ID_MAGIC) {
        puts_irq("QLOOP-GUEST-FAIL no doorbell device\n");
        tx_drain();
        outb(DEBUG_EXIT_PORT, 2);
    }
    if (GUEST_MODE == MODE_ECHO) {
        echo_until_bang();
    } else if (GUEST_MODE != MODE_DOORBELL && GUEST_MODE != MODE_STORM) {
        hostile();
    }
    doorbells = run_doorbells(&errors);
    completions = db_seen;
    puts_irq(errors == 0 && completions == DOORBELLS ? "QLOOP-GUEST-OK"
                                                     : "QLOOP-GUEST-FAIL");
    puts_irq(" doorbells=");
    putu_irq(doorbells);
    puts_irq(" completions=");
    putu_irq(completions);
    puts_irq(" irqs=");
    putu_irq(db_irqs);
    puts_irq(" errors=");
    putu_irq(errors);
    puts_irq(" uart_irqs=");
    putu_irq(tx_irqs);
    puts_irq(" other_irqs=");
    putu_irq(other_irqs);
    puts_irq("\n");
    tx_drain();
    outb(DEBUG_EXIT_PORT, errors == 0 && completions == DOORBELLS ? 0 : 1);
}
