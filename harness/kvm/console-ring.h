/*
 * harness/kvm/console-ring.h — console output between a vCPU and the main
 * loop: a bounded byte ring and its wake-up rule, as pure code.
 *
 * The producer (a vCPU thread, in the UART's transmit callback) appends
 * under the owner's lock and never writes the fd; the consumer (the main
 * loop) copies the oldest bytes out under the lock, writes them without
 * it, and consumes what was written.  A full ring drops bytes and counts
 * them.  The wake-up rule: `pending` is true from the moment the producer
 * asks for a drain until the consumer finds the ring empty, and the
 * producer asks only on pending's false -> true edge (at a line end or
 * every wake_bytes), so a console that stops reading costs no wake-ups
 * and no wake-up is lost: both sides flip pending under the same lock.
 * serial.c is the owner on KVM; tests/kvm/test-devices-sim.c runs the
 * same rule on the simulated OS, where a lost wake-up is a SIM_HANG.
 */
#ifndef QLOOP_KVM_CONSOLE_RING_H
#define QLOOP_KVM_CONSOLE_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ConsoleRing {
    uint8_t *buf;
    size_t size;                /* bytes the ring holds */
    size_t wake_bytes;          /* wake the consumer every this many too */
    size_t head, len;           /* oldest byte, bytes held (<= size) */
    bool pending;               /* a drain is scheduled or under way */
    uint64_t written, dropped;  /* bytes out, bytes lost */
} ConsoleRing;

void console_ring_init(ConsoleRing *r, uint8_t *buf, size_t size,
                       size_t wake_bytes);
/* Producer.  True: schedule the consumer (pending just became true). */
bool console_ring_put(ConsoleRing *r, uint8_t byte);
/* Consumer: copy up to max of the oldest contiguous bytes into dst. */
size_t console_ring_peek(const ConsoleRing *r, uint8_t *dst, size_t max);
/* Consumer: the oldest n bytes were written (or, !written, are lost). */
void console_ring_consume(ConsoleRing *r, size_t n, bool written);
/* Consumer: true if the ring is empty — the drain is over, pending is
 * cleared, and the next put wakes the consumer again. */
bool console_ring_settle(ConsoleRing *r);

#endif
