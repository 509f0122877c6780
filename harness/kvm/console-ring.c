/*
 * harness/kvm/console-ring.c — the console ring (see console-ring.h).
 *
 * Method: head/len over a fixed buffer; every function runs under the
 * owner's lock, so the only protocol is pending's, and it is stated as
 * assertions where it flips.
 */
#include <assert.h>
#include <string.h>

#include "console-ring.h"

void console_ring_init(ConsoleRing *r, uint8_t *buf, size_t size,
                       size_t wake_bytes)
{
    assert(size > 0 && wake_bytes > 0);
    memset(r, 0, sizeof(*r));
    r->buf = buf;
    r->size = size;
    r->wake_bytes = wake_bytes;
}

bool console_ring_put(ConsoleRing *r, uint8_t byte)
{
    if (r->len == r->size) {
        r->dropped++;           /* nobody reads the console */
    } else {
        r->buf[(r->head + r->len) % r->size] = byte;
        r->len++;
    }
    /* A full ring wakes too: with a ring that is not a multiple of
     * wake_bytes, a newline-less stream would never reach the others. */
    if (r->pending || (byte != '\n' && r->len % r->wake_bytes != 0 &&
                       r->len != r->size)) {
        return false;
    }
    r->pending = true;
    return true;
}

size_t console_ring_peek(const ConsoleRing *r, uint8_t *dst, size_t max)
{
    size_t n = r->len < max ? r->len : max;

    if (n > r->size - r->head) {
        n = r->size - r->head;                  /* contiguous part */
    }
    memcpy(dst, r->buf + r->head, n);
    return n;
}

void console_ring_consume(ConsoleRing *r, size_t n, bool written)
{
    assert(n <= r->len);
    assert(r->pending);         /* only a scheduled drain consumes */
    r->head = (r->head + n) % r->size;
    r->len -= n;
    if (written) {
        r->written += n;
    } else {
        r->dropped += n;
    }
}

bool console_ring_settle(ConsoleRing *r)
{
    if (r->len > 0) {
        return false;
    }
    r->pending = false;
    return true;
}
