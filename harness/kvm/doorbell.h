/*
 * harness/kvm/doorbell.h — the doorbell test device as a pure state machine.
 *
 * No KVM, no threads: the owner supplies guest-memory translation, a way
 * to start a request (the thread pool, or a fuzzer's queue) and the
 * interrupt; testdev.c plugs in ioeventfd, the iothread, the thread pool
 * and irqfd.  The caller serializes calls (one lock).
 */
#ifndef QLOOP_KVM_DOORBELL_H
#define QLOOP_KVM_DOORBELL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "doorbell-abi.h"

typedef struct DoorbellOps {
    /* Host pointer to len bytes of guest memory at gpa, or NULL. */
    void *(*map)(void *opaque, uint64_t gpa, size_t len);
    /* Start one request; the owner calls doorbell_complete() later. */
    void (*submit)(void *opaque, uint32_t slot, uint32_t id, uint32_t a,
                   uint32_t b);
    /* Pulse the completion interrupt. */
    void (*raise)(void *opaque);
} DoorbellOps;

typedef struct Doorbell {
    const DoorbellOps *ops;
    void *opaque;
    uint32_t ring_gpa;          /* 0: detached */
    uint32_t cons;              /* next request to take */
    uint32_t used;              /* completions published in this ring */
    uint32_t inflight;          /* submitted, not completed; <= SLOTS */
    uint64_t kicks, submitted, completed, errors;
} Doorbell;

void doorbell_init(Doorbell *d, const DoorbellOps *ops, void *opaque);
uint32_t doorbell_io_read(Doorbell *d, unsigned offset);
void doorbell_io_write(Doorbell *d, unsigned offset, uint32_t value);
/* The doorbell rang (maybe several times, coalesced): take new requests. */
void doorbell_kick(Doorbell *d);
void doorbell_complete(Doorbell *d, uint32_t slot, uint32_t result);

#endif
