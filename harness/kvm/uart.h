/*
 * harness/kvm/uart.h — an 8250/16550A UART as a pure state machine.
 *
 * No KVM, no threads, no fds: the owner feeds port accesses and received
 * bytes in, and gets transmitted bytes and the interrupt line out through
 * two callbacks.  That is what lets the same model run behind KVM port
 * exits (serial.c) and under a fuzzer (fuzz-devices.c, test-devices.c).
 * The caller serializes access (one lock, or one thread).
 */
#ifndef QLOOP_KVM_UART_H
#define QLOOP_KVM_UART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UART_FIFO_BYTES 16

typedef struct Uart {
    /* Transmit one byte; the model transmits instantly (THR always drains). */
    void (*tx)(void *opaque, uint8_t byte);
    /* The interrupt line changed level (called only on a change). */
    void (*set_irq)(void *opaque, bool level);
    void *opaque;

    uint8_t ier, lcr, mcr, lsr, msr, scr, fcr;
    uint16_t divisor;
    bool thr_ipending;          /* THRE interrupt armed, cleared by IIR read */
    bool irq_level;             /* last level reported through set_irq */
    uint8_t rx_fifo[UART_FIFO_BYTES];
    unsigned rx_head, rx_count; /* rx_count <= UART_FIFO_BYTES */

    uint64_t tx_bytes, rx_bytes, rx_dropped;  /* statistics */
} Uart;

void uart_init(Uart *u, void (*tx)(void *, uint8_t),
               void (*set_irq)(void *, bool), void *opaque);
/* offset is the port minus the base (0..7); unknown bits are ignored. */
uint8_t uart_io_read(Uart *u, unsigned offset);
void uart_io_write(Uart *u, unsigned offset, uint8_t value);
/* Bytes from the host side; returns how many fit in the receive FIFO. */
size_t uart_receive(Uart *u, const uint8_t *buf, size_t len);
/* Room left in the receive FIFO (so input can wait instead of dropping). */
size_t uart_rx_room(const Uart *u);

#endif
