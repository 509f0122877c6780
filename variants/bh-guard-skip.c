/*
 * variants/bh-guard-skip.c — a guarded BH run while its guard is engaged
 * is skipped, and so lost.
 * Replaces: loop/bh.c.  Found by: the reference model (harness/model.c):
 * "liveness: BH 'B' was taken to run, but its callback never ran".
 *
 * NOT the production core: loop/bh.c with one defect put back.  The
 * MemReentrancyGuard marks a device engaged in I/O while one of its BHs
 * runs.  This aio_bh_call() refuses to run a BH whose guard is already
 * engaged; but the BH has been taken off the pending list by then
 * (BH_SCHEDULED cleared), so nothing runs it later.  QEMU's
 * aio_bh_call() only traces that case (trace_reentrant_aio) and runs the
 * BH; the skip was qloop's own, so no QEMU commit fixes it.  Two BHs of
 * one device, the first polling:
 *
 *     bh A guard 1 { schedule B; poll_nb }
 *     bh B guard 1
 *     thread main { schedule A; poll; poll_nb }
 *
 * corpus/regressions/bh-guard-nested.scn; the fix: 9fc012e.  Everything
 * else is loop/bh.c as it stands; its design notes are there.
 */
#include <stdio.h>

#include "internal.h"

static void bh_registry_add(AioContext *ctx, QEMUBH *bh)
{
    qemu_mutex_lock(&ctx->bh_registry_lock);
    bh->reg_prev = NULL;
    bh->reg_next = ctx->bh_registry;
    if (ctx->bh_registry) {
        ctx->bh_registry->reg_prev = bh;
    }
    ctx->bh_registry = bh;
    qemu_mutex_unlock(&ctx->bh_registry_lock);
}

static void bh_registry_remove(AioContext *ctx, QEMUBH *bh)
{
    qemu_mutex_lock(&ctx->bh_registry_lock);
    if (bh->reg_prev) {
        bh->reg_prev->reg_next = bh->reg_next;
    } else {
        QLOOP_ASSERT(ctx->bh_registry == bh);
        ctx->bh_registry = bh->reg_next;
    }
    if (bh->reg_next) {
        bh->reg_next->reg_prev = bh->reg_prev;
    }
    qemu_mutex_unlock(&ctx->bh_registry_lock);
}

static void bh_free(QEMUBH *bh, unsigned flags)
{
    if (!(flags & BH_ONESHOT)) {
        bh_registry_remove(bh->ctx, bh);
    }
    qos_obj_free(QOS_OBJ_BH, bh);
}

static void aio_bh_enqueue(QEMUBH *bh, unsigned new_flags)
{
    AioContext *ctx = bh->ctx;
    unsigned old_flags;

    /*
     * Set BH_PENDING before the BH becomes visible on the list.  Pairs with
     * the fetch-and in aio_bh_dequeue(): a BH is on at most one list.
     */
    old_flags = qatomic_fetch_or(&bh->flags, BH_PENDING | new_flags);
    qos_trace((new_flags & BH_DELETED) ? QOS_EV_BH_DELETE : QOS_EV_BH_SCHEDULE,
              bh->name, aio_trace_key(ctx) | bh->id, new_flags | (old_flags & BH_PENDING ? 0x8000 : 0));
    if (!(old_flags & BH_PENDING)) {
        /* Once published, the poller may run and free the BH (oneshots). */
        const char *name = bh->name;
        int64_t trace_id = aio_trace_key(ctx) | bh->id;
        QEMUBH *old_head;

        /*
         * Publish with a seq-cst CAS: pairs with the xchg in aio_bh_poll(),
         * so the poller sees bh->next and everything the scheduler wrote
         * before scheduling.
         */
        do {
            old_head = qatomic_read(&ctx->bh_list);
            bh->next = old_head;
        } while (qatomic_cmpxchg(&ctx->bh_list, old_head, bh) != old_head);
        qos_trace(QOS_EV_BH_PUSH, name, trace_id, 0);
    }
    aio_notify(ctx);
}

/* Take the head of a slice; returns the flags it had when taken. */
static QEMUBH *aio_bh_dequeue(QEMUBH **head, unsigned *flags)
{
    QEMUBH *bh = *head;

    if (!bh) {
        return NULL;
    }
    *head = bh->next;
    bh->next = NULL;
    /*
     * Clearing BH_PENDING lets the BH be enqueued again — from its own
     * callback, too.  Pairs with the fetch-or in aio_bh_enqueue().
     */
    *flags = qatomic_fetch_and(&bh->flags,
                               ~(unsigned)(BH_PENDING | BH_SCHEDULED | BH_IDLE));
    qos_trace(QOS_EV_BH_TAKE, bh->name, aio_trace_key(bh->ctx) | bh->id,
              *flags);
    return bh;
}

void aio_bh_registry_init(AioContext *ctx)
{
    qemu_mutex_init(&ctx->bh_registry_lock);
    ctx->bh_registry = NULL;
}

QEMUBH *aio_bh_new_full(AioContext *ctx, QEMUBHFunc *cb, void *opaque,
                        const char *name, MemReentrancyGuard *reentrancy_guard)
{
    QEMUBH *bh = qos_obj_new(QOS_OBJ_BH, sizeof(QEMUBH));

    QLOOP_ASSERT(cb != NULL);
    bh->ctx = ctx;
    bh->cb = cb;
    bh->opaque = opaque;
    bh->name = name;
    bh->reentrancy_guard = reentrancy_guard;
    bh->id = qatomic_fetch_add(&ctx->bh_id_next, 1);
    bh_registry_add(ctx, bh);
    return bh;
}

void aio_bh_schedule_oneshot_full(AioContext *ctx, QEMUBHFunc *cb,
                                  void *opaque, const char *name)
{
    QEMUBH *bh = qos_obj_new(QOS_OBJ_BH, sizeof(QEMUBH));

    QLOOP_ASSERT(cb != NULL);
    bh->ctx = ctx;
    bh->cb = cb;
    bh->opaque = opaque;
    bh->name = name;
    bh->id = qatomic_fetch_add(&ctx->bh_id_next, 1);
    aio_bh_enqueue(bh, BH_SCHEDULED | BH_ONESHOT);
}

void aio_bh_call(QEMUBH *bh)
{
    MemReentrancyGuard *guard = bh->reentrancy_guard;
    bool last_engaged_in_io = false;

    if (guard) {
        last_engaged_in_io = guard->engaged_in_io;
        /* THE DEFECT: the BH is already off its list; skipping loses it. */
        if (last_engaged_in_io) {
            fprintf(stderr, "qloop: BH '%s' re-entered a device; skipped\n",
                    bh->name);
            return;
        }
        guard->engaged_in_io = true;
    }
    qos_trace(QOS_EV_BH_RUN, bh->name, aio_trace_key(bh->ctx) | bh->id, 0);
    bh->cb(bh->opaque);
    if (guard) {
        guard->engaged_in_io = last_engaged_in_io;
    }
}

int aio_bh_poll(AioContext *ctx)
{
    BHListSlice slice;
    BHListSlice *s;
    int ret = 0;

    /* Pairs with the CAS in aio_bh_enqueue(). */
    slice.bh_list = qatomic_xchg(&ctx->bh_list, NULL);
    qos_trace(QOS_EV_BH_SLICE, ctx->name, aio_trace_key(ctx), 0);
    slice.next = NULL;
    if (ctx->bh_slice_tail) {
        ctx->bh_slice_tail->next = &slice;
    } else {
        ctx->bh_slice_head = &slice;
    }
    ctx->bh_slice_tail = &slice;

    /*
     * Run every slice to exhaustion, outer ones first.  A nested call may
     * drain and unlink our slice; we then go on with whatever is left.
     */
    while ((s = ctx->bh_slice_head)) {
        unsigned flags;
        QEMUBH *bh = aio_bh_dequeue(&s->bh_list, &flags);

        if (!bh) {
            ctx->bh_slice_head = s->next;
            if (!ctx->bh_slice_head) {
                ctx->bh_slice_tail = NULL;
            }
            continue;
        }
        if ((flags & (BH_SCHEDULED | BH_DELETED)) == BH_SCHEDULED) {
            if (!(flags & BH_IDLE)) {
                ret = 1;
            }
            aio_bh_call(bh);
        }
        if (flags & (BH_DELETED | BH_ONESHOT)) {
            bh_free(bh, flags);
        }
    }
    return ret;
}

void qemu_bh_schedule(QEMUBH *bh)
{
    aio_bh_enqueue(bh, BH_SCHEDULED);
}

void qemu_bh_schedule_idle(QEMUBH *bh)
{
    aio_bh_enqueue(bh, BH_SCHEDULED | BH_IDLE);
}

void qemu_bh_cancel(QEMUBH *bh)
{
    qatomic_and(&bh->flags, ~(unsigned)BH_SCHEDULED);
    qos_trace(QOS_EV_BH_CANCEL, bh->name, aio_trace_key(bh->ctx) | bh->id,
              0);
}

void qemu_bh_delete(QEMUBH *bh)
{
    aio_bh_enqueue(bh, BH_DELETED);
}

const char *qemu_bh_get_name(const QEMUBH *bh)
{
    return bh->name;
}

static int64_t bh_list_timeout_ns(QEMUBH *bh, int64_t timeout_ns)
{
    for (; bh; bh = bh->next) {
        unsigned flags = qatomic_read(&bh->flags);

        if ((flags & (BH_SCHEDULED | BH_DELETED)) == BH_SCHEDULED) {
            if (!(flags & BH_IDLE)) {
                return 0;   /* non-idle BHs run at once */
            }
            timeout_ns = 10 * 1000 * 1000;  /* idle BHs: every 10 ms */
        }
    }
    return timeout_ns;
}

/* -1, 10 ms (only idle BHs) or 0 (a BH to run). */
int64_t aio_bh_timeout_ns(AioContext *ctx)
{
    /* Acquire pairs with the CAS in aio_bh_enqueue(): bh->next is valid. */
    int64_t timeout_ns = bh_list_timeout_ns(
        qatomic_load_acquire(&ctx->bh_list), -1);

    for (BHListSlice *s = ctx->bh_slice_head; s && timeout_ns != 0;
         s = s->next) {
        timeout_ns = bh_list_timeout_ns(s->bh_list, timeout_ns);
    }
    return timeout_ns;
}

bool aio_bh_any_scheduled(AioContext *ctx)
{
    return aio_bh_timeout_ns(ctx) != -1;
}

void aio_bh_finalize(AioContext *ctx)
{
    unsigned flags;
    QEMUBH *bh;
    QEMUBH *pending = qatomic_xchg(&ctx->bh_list, NULL);

    qos_trace(QOS_EV_BH_SLICE, ctx->name, aio_trace_key(ctx), 0);
    /* There must be no aio_bh_poll() in progress. */
    QLOOP_ASSERT(ctx->bh_slice_head == NULL);
    while ((bh = aio_bh_dequeue(&pending, &flags))) {
        if (!(flags & BH_DELETED)) {
            qos_panic(__FILE__, __LINE__,
                      "AioContext finalized with BH '%s' still live "
                      "(qemu_bh_delete() was never called)", bh->name);
        }
        bh_free(bh, flags);
    }
    if (ctx->bh_registry) {
        qos_panic(__FILE__, __LINE__,
                  "AioContext finalized with BH '%s' still live "
                  "(qemu_bh_delete() was never called)",
                  ctx->bh_registry->name);
    }
    qemu_mutex_destroy(&ctx->bh_registry_lock);
}
