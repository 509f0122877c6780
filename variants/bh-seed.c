/*
 * variants/bh-seed.c — the seed-era bottom halves (QEMU <= 4.2).
 *
 * NOT the production core: built into its own libraries in place of
 * loop/bh.c, for comparing designs.  Every BH made lives on one list,
 * newest *created* first (ctx->bh_list here is QEMU's first_bh); a poll
 * walks the whole list and runs each BH whose scheduled flag it swaps to
 * 0.  So BHs run newest-created first, not newest-scheduled first, and a
 * BH scheduled from a callback runs in the same pass if it lies further
 * down the list.  Deletion only marks; the outermost walker frees.
 * Against the reference model (which states the current design) the
 * difference shows as an ordering verdict: schedule C, A, B of BHs made
 * A, B, C runs C, B, A here, B, A, C in QEMU 10.
 *
 * Traces use the same vocabulary as loop/bh.c: a schedule of an idle BH
 * is a schedule plus a push, every poll takes a slice, every BH the walk
 * finds scheduled is a take.
 */
#include <stdio.h>

#include "internal.h"

/* flags: BH_SCHEDULED, BH_IDLE, BH_DELETED, BH_ONESHOT (loop/internal.h). */

static unsigned walking_bh;     /* home thread only: nested aio_bh_poll */

void aio_bh_registry_init(AioContext *ctx)
{
    qemu_mutex_init(&ctx->bh_registry_lock);
    ctx->bh_registry = NULL;
}

static QEMUBH *bh_new(AioContext *ctx, QEMUBHFunc *cb, void *opaque,
                      const char *name)
{
    QEMUBH *bh = qos_obj_new(QOS_OBJ_BH, sizeof(QEMUBH));

    QLOOP_ASSERT(cb != NULL);
    bh->ctx = ctx;
    bh->cb = cb;
    bh->opaque = opaque;
    bh->name = name;
    bh->id = qatomic_fetch_add(&ctx->bh_id_next, 1);
    /* Newest created first: the list order is creation order. */
    qemu_mutex_lock(&ctx->bh_registry_lock);
    bh->next = ctx->bh_list;
    qatomic_store_release(&ctx->bh_list, bh);
    qemu_mutex_unlock(&ctx->bh_registry_lock);
    return bh;
}

QEMUBH *aio_bh_new_full(AioContext *ctx, QEMUBHFunc *cb, void *opaque,
                        const char *name, MemReentrancyGuard *reentrancy_guard)
{
    QEMUBH *bh = bh_new(ctx, cb, opaque, name);

    bh->reentrancy_guard = reentrancy_guard;
    return bh;
}

static void bh_set(QEMUBH *bh, unsigned add)
{
    unsigned old = qatomic_fetch_or(&bh->flags, add);
    int64_t id = aio_trace_key(bh->ctx) | bh->id;

    qos_trace((add & BH_DELETED) ? QOS_EV_BH_DELETE : QOS_EV_BH_SCHEDULE,
              bh->name, id, add | (old & BH_PENDING ? 0x8000 : 0));
    if (!(old & BH_PENDING)) {
        qatomic_or(&bh->flags, BH_PENDING);
        qos_trace(QOS_EV_BH_PUSH, bh->name, id, 0);
    }
    aio_notify(bh->ctx);
}

void aio_bh_schedule_oneshot_full(AioContext *ctx, QEMUBHFunc *cb,
                                  void *opaque, const char *name)
{
    QEMUBH *bh = bh_new(ctx, cb, opaque, name);

    bh_set(bh, BH_SCHEDULED | BH_ONESHOT);
}

void aio_bh_call(QEMUBH *bh)
{
    qos_trace(QOS_EV_BH_RUN, bh->name, aio_trace_key(bh->ctx) | bh->id, 0);
    bh->cb(bh->opaque);
}

/* Unlink and free what is deleted or finished; home thread, no walk. */
static void bh_reap(AioContext *ctx)
{
    QEMUBH **link = &ctx->bh_list;

    qemu_mutex_lock(&ctx->bh_registry_lock);
    while (*link) {
        QEMUBH *bh = *link;
        unsigned flags = qatomic_read(&bh->flags);

        if ((flags & BH_DELETED) && !(flags & BH_PENDING)) {
            *link = bh->next;
            qos_obj_free(QOS_OBJ_BH, bh);
        } else {
            link = &bh->next;
        }
    }
    qemu_mutex_unlock(&ctx->bh_registry_lock);
}

int aio_bh_poll(AioContext *ctx)
{
    int ret = 0;

    walking_bh++;
    qos_trace(QOS_EV_BH_SLICE, ctx->name, aio_trace_key(ctx), 0);
    for (QEMUBH *bh = qatomic_load_acquire(&ctx->bh_list); bh; bh = bh->next) {
        unsigned flags = qatomic_read(&bh->flags);

        if (!(flags & BH_PENDING)) {
            continue;
        }
        flags = qatomic_fetch_and(&bh->flags,
                                  ~(unsigned)(BH_PENDING | BH_SCHEDULED |
                                              BH_IDLE));
        qos_trace(QOS_EV_BH_TAKE, bh->name, aio_trace_key(ctx) | bh->id,
                  flags);
        if ((flags & (BH_SCHEDULED | BH_DELETED)) == BH_SCHEDULED) {
            if (!(flags & BH_IDLE)) {
                ret = 1;
            }
            aio_bh_call(bh);
            if (flags & BH_ONESHOT) {
                qatomic_or(&bh->flags, BH_DELETED);
            }
        }
    }
    if (--walking_bh == 0) {
        bh_reap(ctx);
    }
    return ret;
}

void qemu_bh_schedule(QEMUBH *bh)
{
    bh_set(bh, BH_SCHEDULED);
}

void qemu_bh_schedule_idle(QEMUBH *bh)
{
    bh_set(bh, BH_SCHEDULED | BH_IDLE);
}

void qemu_bh_cancel(QEMUBH *bh)
{
    qatomic_and(&bh->flags, ~(unsigned)BH_SCHEDULED);
    qos_trace(QOS_EV_BH_CANCEL, bh->name, aio_trace_key(bh->ctx) | bh->id, 0);
}

void qemu_bh_delete(QEMUBH *bh)
{
    bh_set(bh, BH_DELETED);
}

const char *qemu_bh_get_name(const QEMUBH *bh)
{
    return bh->name;
}

int64_t aio_bh_timeout_ns(AioContext *ctx)
{
    int64_t timeout_ns = -1;

    for (QEMUBH *bh = qatomic_load_acquire(&ctx->bh_list); bh; bh = bh->next) {
        unsigned flags = qatomic_read(&bh->flags);

        if ((flags & (BH_SCHEDULED | BH_DELETED)) == BH_SCHEDULED) {
            if (!(flags & BH_IDLE)) {
                return 0;
            }
            timeout_ns = 10 * 1000 * 1000;
        }
    }
    return timeout_ns;
}

bool aio_bh_any_scheduled(AioContext *ctx)
{
    return aio_bh_timeout_ns(ctx) != -1;
}

void aio_bh_finalize(AioContext *ctx)
{
    QEMUBH *bh = ctx->bh_list;

    qos_trace(QOS_EV_BH_SLICE, ctx->name, aio_trace_key(ctx), 0);
    while (bh) {
        QEMUBH *next = bh->next;

        if (!(qatomic_read(&bh->flags) & BH_DELETED)) {
            qos_panic(__FILE__, __LINE__,
                      "AioContext finalized with BH '%s' still live "
                      "(qemu_bh_delete() was never called)", bh->name);
        }
        if (qatomic_read(&bh->flags) & BH_PENDING) {
            qatomic_and(&bh->flags, ~(unsigned)BH_PENDING);
            qos_trace(QOS_EV_BH_TAKE, bh->name, aio_trace_key(ctx) | bh->id,
                      BH_DELETED);
        }
        qos_obj_free(QOS_OBJ_BH, bh);
        bh = next;
    }
    ctx->bh_list = NULL;
    qemu_mutex_destroy(&ctx->bh_registry_lock);
}
