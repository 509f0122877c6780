/*
 * qloop/thread-pool.h — QEMU's block-layer thread pool.
 *
 * Work runs on a worker thread; the completion callback runs in the home
 * thread of the submitter's current AioContext, from aio_poll() or the
 * context's GSource dispatch, with the work function's return value.
 */
#ifndef QLOOP_THREAD_POOL_H
#define QLOOP_THREAD_POOL_H

#include "qloop/aio.h"

#ifdef __cplusplus
extern "C" {
#endif

#define THREAD_POOL_MAX_THREADS_DEFAULT 64

typedef struct BlockAIOCB BlockAIOCB;
typedef void BlockCompletionFunc(void *opaque, int ret);
typedef int ThreadPoolFunc(void *opaque);

/* QEMU's two fields in QEMU's order (a QEMU initializer written in order
 * fits), then qloop's own. */
typedef struct AIOCBInfo {
    void (*cancel_async)(BlockAIOCB *acb);
    size_t aiocb_size;
    /* qloop: the context that completes the request (bdrv_aio_cancel). */
    AioContext *(*get_aio_context)(BlockAIOCB *acb);
} AIOCBInfo;

struct BlockAIOCB {
    const AIOCBInfo *aiocb_info;
    void *bs;
    BlockCompletionFunc *cb;
    void *opaque;
    int refcnt;
};

ThreadPool *thread_pool_new(AioContext *ctx);
void thread_pool_free(ThreadPool *pool);
/* Submits to the calling thread's current AioContext. */
BlockAIOCB *thread_pool_submit_aio(ThreadPoolFunc *func, void *arg,
                                   BlockCompletionFunc *cb, void *opaque);
void thread_pool_update_params(ThreadPool *pool, AioContext *ctx);

/*
 * Cancel asynchronously: a request that has not started completes with
 * -ECANCELED; a started one completes normally.  The callback runs exactly
 * once either way.
 */
void bdrv_aio_cancel_async(BlockAIOCB *acb);
/* Cancel and wait (polling the request's context) until it completed. */
void bdrv_aio_cancel(BlockAIOCB *acb);
void qemu_aio_ref(void *p);
void qemu_aio_unref(void *p);

#ifdef __cplusplus
}
#endif

#endif
