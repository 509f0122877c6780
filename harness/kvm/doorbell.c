/*
 * harness/kvm/doorbell.c — the doorbell device's logic, hostile-guest proof.
 *
 * Method: the guest owns the ring and may write anything into it at any
 * time, so every kick re-validates: the ring must map, prod may run ahead
 * of cons by at most the free slots (else the batch is counted as an error
 * and skipped), and request fields are copied once before use.  A kick
 * does at most DB_RING_SLOTS requests, so a doorbell storm costs bounded
 * work per kick.  Completions publish the result before bumping used
 * (release order, the guest reads used first) and then raise the IRQ.
 */
#include <assert.h>
#include <string.h>

#include "doorbell.h"

void doorbell_init(Doorbell *d, const DoorbellOps *ops, void *opaque)
{
    memset(d, 0, sizeof(*d));
    d->ops = ops;
    d->opaque = opaque;
}

static struct db_ring *doorbell_ring(Doorbell *d)
{
    if (d->ring_gpa == 0) {
        return NULL;
    }
    return d->ops->map(d->opaque, d->ring_gpa, sizeof(struct db_ring));
}

uint32_t doorbell_io_read(Doorbell *d, unsigned offset)
{
    switch (offset & ~3u) {
    case DB_PORT_ID - DB_PORT_BASE:
        return DB_ID_MAGIC;
    case DB_PORT_COUNT - DB_PORT_BASE:
        return (uint32_t)d->completed;
    case DB_PORT_RING - DB_PORT_BASE:
        return d->ring_gpa;
    default:
        return 0xffffffffu;
    }
}

void doorbell_io_write(Doorbell *d, unsigned offset, uint32_t value)
{
    switch (offset & ~3u) {
    case DB_PORT_KICK - DB_PORT_BASE:
        doorbell_kick(d);       /* only without ioeventfd, or in fuzzing */
        break;
    case DB_PORT_RING - DB_PORT_BASE:
        /* A new ring starts empty; in-flight requests complete into it
         * harmlessly (their slot is re-validated at completion).  It must
         * be DB_RING_ALIGN-aligned: the device reads it as a struct. */
        if (value % DB_RING_ALIGN) {
            d->errors++;
            value = 0;
        }
        d->ring_gpa = value;
        d->cons = d->used = 0;
        break;
    default:
        d->errors++;
        break;
    }
}

void doorbell_kick(Doorbell *d)
{
    struct db_ring *ring = doorbell_ring(d);
    uint32_t prod, pending;

    d->kicks++;
    if (!ring) {
        d->errors++;
        return;
    }
    prod = __atomic_load_n(&ring->prod, __ATOMIC_ACQUIRE);
    pending = prod - d->cons;
    if (pending > DB_RING_SLOTS - d->inflight) {
        d->errors++;            /* the guest overran the ring: skip it */
        d->cons = prod;
        return;
    }
    for (uint32_t n = 0; n < pending; n++) {
        uint32_t slot = d->cons % DB_RING_SLOTS;
        struct db_req req;

        memcpy(&req, &ring->req[slot], sizeof(req));
        d->cons++;
        d->inflight++;
        d->submitted++;
        d->ops->submit(d->opaque, slot, req.id, req.a, req.b);
    }
    assert(d->inflight <= DB_RING_SLOTS);
}

void doorbell_complete(Doorbell *d, uint32_t slot, uint32_t result)
{
    struct db_ring *ring = doorbell_ring(d);

    assert(slot < DB_RING_SLOTS);
    assert(d->inflight > 0);
    d->inflight--;
    d->completed++;
    if (!ring) {
        return;                 /* detached meanwhile: drop the result */
    }
    ring->req[slot].result = result;
    ring->req[slot].status = DB_STATUS_DONE;
    __atomic_store_n(&ring->used, ++d->used, __ATOMIC_RELEASE);
    d->ops->raise(d->opaque);
}
