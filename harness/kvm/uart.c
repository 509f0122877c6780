/*
 * harness/kvm/uart.c — the 8250/16550A register file, after QEMU's
 * hw/char/serial.c and Linux's drivers/tty/serial/8250.
 *
 * Method: registers at offsets 0..7, DLAB (LCR bit 7) switching offsets 0
 * and 1 to the divisor latch.  Transmission is instant: a THR write calls
 * tx() and the transmitter is empty again, so LSR.THRE|TEMT stay set.  The
 * THRE interrupt follows the 8250 rule Linux depends on: it is raised when
 * THR becomes empty or when ETBEI is enabled while THR is empty, and it is
 * cleared by reading IIR (when it is the reported source) or writing THR.
 * Without it Linux's interrupt-driven console never sends user-space
 * output.  Every transition recomputes the line and reports changes only;
 * writing THR drops the line and raises it again, so an edge-triggered
 * 8259 sees a fresh edge for each byte.
 */
#include <string.h>

#include "uart.h"

enum {
    UART_RBR_THR = 0, UART_IER = 1, UART_IIR_FCR = 2, UART_LCR = 3,
    UART_MCR = 4, UART_LSR = 5, UART_MSR = 6, UART_SCR = 7,
};

#define IER_ERBFI 0x01          /* received data available */
#define IER_ETBEI 0x02          /* transmitter holding register empty */
#define IER_ELSI  0x04          /* receiver line status */
#define IER_EDSSI 0x08          /* modem status */
#define IIR_NO_INT 0x01
#define IIR_MSI   0x00
#define IIR_THRI  0x02
#define IIR_RDI   0x04
#define IIR_RLSI  0x06
#define IIR_FIFO  0xc0          /* FIFOs enabled, reported in IIR */
#define LCR_DLAB  0x80
#define MCR_LOOP  0x10
#define MCR_OUT2  0x08
#define LSR_DR    0x01
#define LSR_OE    0x02
#define LSR_THRE  0x20
#define LSR_TEMT  0x40
#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02

static uint8_t uart_iir(const Uart *u)
{
    /* Priority order of the 8250: line status, data, THRE, modem status. */
    if ((u->ier & IER_ELSI) && (u->lsr & LSR_OE)) {
        return IIR_RLSI;
    }
    if ((u->ier & IER_ERBFI) && u->rx_count > 0) {
        return IIR_RDI;
    }
    if ((u->ier & IER_ETBEI) && u->thr_ipending) {
        return IIR_THRI;
    }
    if ((u->ier & IER_EDSSI) && (u->msr & 0x0f)) {
        return IIR_MSI;
    }
    return IIR_NO_INT;
}

static void uart_update_irq(Uart *u)
{
    bool level = uart_iir(u) != IIR_NO_INT;

    if (level != u->irq_level) {
        u->irq_level = level;
        if (u->set_irq) {
            u->set_irq(u->opaque, level);
        }
    }
}

void uart_init(Uart *u, void (*tx)(void *, uint8_t),
               void (*set_irq)(void *, bool), void *opaque)
{
    memset(u, 0, sizeof(*u));
    u->tx = tx;
    u->set_irq = set_irq;
    u->opaque = opaque;
    u->lsr = LSR_THRE | LSR_TEMT;
    u->msr = 0xb0;              /* DCD, DSR, CTS: a cable is plugged in */
    u->divisor = 12;            /* 9600 baud; the value is not used */
    u->thr_ipending = true;
}

static uint8_t uart_rx_pop(Uart *u)
{
    uint8_t byte;

    if (u->rx_count == 0) {
        return 0;
    }
    byte = u->rx_fifo[u->rx_head];
    u->rx_head = (u->rx_head + 1) % UART_FIFO_BYTES;
    u->rx_count--;
    if (u->rx_count == 0) {
        u->lsr &= ~LSR_DR;
    }
    return byte;
}

static void uart_rx_push(Uart *u, uint8_t byte)
{
    if (u->rx_count == UART_FIFO_BYTES) {
        u->lsr |= LSR_OE;
        u->rx_dropped++;
        return;
    }
    u->rx_fifo[(u->rx_head + u->rx_count) % UART_FIFO_BYTES] = byte;
    u->rx_count++;
    u->rx_bytes++;
    u->lsr |= LSR_DR;
}

uint8_t uart_io_read(Uart *u, unsigned offset)
{
    uint8_t ret = 0;

    switch (offset & 7) {
    case UART_RBR_THR:
        ret = (u->lcr & LCR_DLAB) ? (uint8_t)u->divisor : uart_rx_pop(u);
        break;
    case UART_IER:
        ret = (u->lcr & LCR_DLAB) ? (uint8_t)(u->divisor >> 8) : u->ier;
        break;
    case UART_IIR_FCR:
        ret = uart_iir(u);
        /* Reading IIR acknowledges a THRE interrupt it reports. */
        if (ret == IIR_THRI) {
            u->thr_ipending = false;
        }
        if (u->fcr & FCR_ENABLE) {
            ret |= IIR_FIFO;
        }
        break;
    case UART_LCR:
        ret = u->lcr;
        break;
    case UART_MCR:
        ret = u->mcr;
        break;
    case UART_LSR:
        ret = u->lsr;
        u->lsr &= ~LSR_OE;      /* error bits clear on read */
        break;
    case UART_MSR:
        ret = u->msr;
        u->msr &= 0xf0;         /* delta bits clear on read */
        break;
    case UART_SCR:
        ret = u->scr;
        break;
    }
    uart_update_irq(u);
    return ret;
}

static void uart_write_thr(Uart *u, uint8_t value)
{
    /* Drop the line first so the re-raise below is an edge. */
    u->thr_ipending = false;
    uart_update_irq(u);
    if (u->mcr & MCR_LOOP) {
        uart_rx_push(u, value);         /* loopback: what we send, we read */
    } else if (u->tx) {
        u->tx(u->opaque, value);
    }
    u->tx_bytes++;
    u->thr_ipending = true;
}

void uart_io_write(Uart *u, unsigned offset, uint8_t value)
{
    switch (offset & 7) {
    case UART_RBR_THR:
        if (u->lcr & LCR_DLAB) {
            u->divisor = (u->divisor & 0xff00) | value;
        } else {
            uart_write_thr(u, value);
        }
        break;
    case UART_IER:
        if (u->lcr & LCR_DLAB) {
            u->divisor = (uint16_t)((u->divisor & 0x00ff) | (value << 8));
            break;
        }
        /* Enabling ETBEI while THR is empty raises THRE at once. */
        if (!(u->ier & IER_ETBEI) && (value & IER_ETBEI)) {
            u->thr_ipending = true;
        }
        u->ier = value & 0x0f;
        break;
    case UART_IIR_FCR:
        u->fcr = value & 0xc9;
        if (value & FCR_CLEAR_RX) {
            u->rx_head = u->rx_count = 0;
            u->lsr &= ~LSR_DR;
        }
        break;
    case UART_LCR:
        u->lcr = value;
        break;
    case UART_MCR:
        u->mcr = value & 0x1f;
        break;
    case UART_LSR:
    case UART_MSR:
        break;                  /* read-only */
    case UART_SCR:
        u->scr = value;
        break;
    }
    uart_update_irq(u);
}

size_t uart_rx_room(const Uart *u)
{
    return UART_FIFO_BYTES - u->rx_count;
}

size_t uart_receive(Uart *u, const uint8_t *buf, size_t len)
{
    size_t n = 0;

    while (n < len && u->rx_count < UART_FIFO_BYTES) {
        uart_rx_push(u, buf[n++]);
    }
    uart_update_irq(u);
    return n;
}
