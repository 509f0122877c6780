/*
 * harness/kvm/doorbell-abi.h — the test device as the guest sees it.
 *
 * Shared by the VMM (doorbell.c) and the test guest (guest/guest.c), so
 * the two cannot disagree about ports, layout or the checked computation.
 * Freestanding: only <stdint.h>.
 *
 * The guest fills request slots in a ring in its own memory, advances
 * prod, and writes anything to DB_PORT_KICK (an ioeventfd: no exit to user
 * space on hardware KVM).  The device computes db_compute() for each new
 * request on a thread-pool worker, stores result and status, advances used
 * and raises DB_IRQ (an irqfd).  Completions may finish out of order; used
 * counts them, each slot's status says which.
 */
#ifndef QLOOP_KVM_DOORBELL_ABI_H
#define QLOOP_KVM_DOORBELL_ABI_H

#include <stdint.h>

#define DB_PORT_KICK    0x510   /* 32-bit write: ring the doorbell */
#define DB_PORT_RING    0x514   /* 32-bit write: ring address, 0 = detach */
#define DB_PORT_ID      0x518   /* 32-bit read: DB_ID_MAGIC */
#define DB_PORT_COUNT   0x51c   /* 32-bit read: completions so far */
#define DB_PORT_BASE    0x510
#define DB_PORT_LEN     16
#define DB_ID_MAGIC     0x42444c51u     /* "QLDB" */
#define DB_IRQ          5
#define DB_RING_SLOTS   64u
#define DB_RING_ALIGN   64u     /* ring address alignment, else refused */

#define DEBUG_EXIT_PORT 0x501   /* byte write: exit with that status */

#define DB_STATUS_FREE  0
#define DB_STATUS_DONE  1

struct db_req {
    uint32_t id, a, b;
    uint32_t result;            /* written by the device */
    uint32_t status;            /* written by the device: DB_STATUS_DONE */
    uint32_t pad[3];
};

struct db_ring {
    uint32_t prod;              /* written by the guest */
    uint32_t used;              /* written by the device */
    uint32_t pad[2];
    struct db_req req[DB_RING_SLOTS];
};

/* The checkable work: cheap, but wrong if any input or slot is mixed up. */
static inline uint32_t db_compute(uint32_t id, uint32_t a, uint32_t b)
{
    uint32_t x = a ^ (b << 7) ^ (id * 0x9e3779b9u) ^ 0x51ed270bu;

    for (int i = 0; i < 8; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
    }
    return x;
}

#endif
