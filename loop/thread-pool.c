/*
 * loop/thread-pool.c — worker threads whose completions run in the loop.
 *
 * Method: a request is QUEUED on the pool's request queue, becomes ACTIVE
 * when a worker takes it, and DONE when the work returned (or when it was
 * cancelled before it started: ret = -ECANCELED).  Workers never call the
 * completion callback: they mark the request DONE and schedule the pool's
 * completion BH, so callbacks run in the context's home thread, from
 * aio_poll() or the GSource dispatch.  A started request is never aborted.
 *
 * Locking: pool->lock protects the request queue, every request's state and
 * ret, and the thread counters.  The list of all requests (pool->head) is
 * touched only by the home thread.
 */
#include <errno.h>

#include "internal.h"

typedef enum {
    THREAD_QUEUED,
    THREAD_ACTIVE,
    THREAD_DONE,
} ThreadState;

typedef struct ThreadPoolElement ThreadPoolElement;
struct ThreadPoolElement {
    BlockAIOCB common;
    ThreadPool *pool;
    ThreadPoolFunc *func;
    void *arg;
    ThreadState state;          /* under pool->lock */
    int ret;                    /* under pool->lock */
    ThreadPoolElement *queue_next;          /* request queue */
    ThreadPoolElement *all_prev, *all_next; /* pool->head (home thread) */
};

struct ThreadPool {
    AioContext *ctx;
    QEMUBH *completion_bh;
    QemuMutex lock;
    QemuCond request_cond;
    ThreadPoolElement *queue_head, *queue_tail;
    int queued;
    ThreadPoolElement *all_head;
    GPtrArray *threads;         /* QemuThread *, joined at free */
    int cur_threads;
    int idle_threads;
    int min_threads;
    int max_threads;
    bool stopping;
};

static void *worker_thread(void *opaque)
{
    ThreadPool *pool = opaque;

    qemu_mutex_lock(&pool->lock);
    for (;;) {
        ThreadPoolElement *req;
        int ret;

        while (!pool->stopping && !pool->queue_head) {
            pool->idle_threads++;
            qemu_cond_wait(&pool->request_cond, &pool->lock);
            pool->idle_threads--;
        }
        if (pool->stopping) {
            break;
        }
        req = pool->queue_head;
        pool->queue_head = req->queue_next;
        if (!pool->queue_head) {
            pool->queue_tail = NULL;
        }
        pool->queued--;
        req->state = THREAD_ACTIVE;
        qemu_mutex_unlock(&pool->lock);

        ret = req->func(req->arg);

        qemu_mutex_lock(&pool->lock);
        req->ret = ret;
        req->state = THREAD_DONE;
        qemu_mutex_unlock(&pool->lock);
        qemu_bh_schedule(pool->completion_bh);
        qemu_mutex_lock(&pool->lock);
    }
    pool->cur_threads--;
    qemu_mutex_unlock(&pool->lock);
    return NULL;
}

/* Called with pool->lock held. */
static void spawn_thread_locked(ThreadPool *pool)
{
    QemuThread *thread = qos_obj_new(QOS_OBJ_POOL_THREAD, sizeof(QemuThread));

    pool->cur_threads++;
    g_ptr_array_add(pool->threads, thread);
    /* QEMU says "worker"; a name no scenario thread can take keeps the
     * two apart in stories and oracles. */
    qemu_thread_create(thread, "pool-worker", worker_thread, pool,
                       QEMU_THREAD_JOINABLE);
}

static void all_list_remove(ThreadPool *pool, ThreadPoolElement *elem)
{
    if (elem->all_prev) {
        elem->all_prev->all_next = elem->all_next;
    } else {
        pool->all_head = elem->all_next;
    }
    if (elem->all_next) {
        elem->all_next->all_prev = elem->all_prev;
    }
}

static void thread_pool_completion_bh(void *opaque)
{
    ThreadPool *pool = opaque;
    ThreadPoolElement *elem, *next;

restart:
    for (elem = pool->all_head; elem; elem = next) {
        ThreadState state;
        int ret;

        next = elem->all_next;
        qemu_mutex_lock(&pool->lock);
        state = elem->state;
        ret = elem->ret;
        qemu_mutex_unlock(&pool->lock);
        if (state != THREAD_DONE) {
            continue;
        }
        all_list_remove(pool, elem);
        if (elem->common.cb) {
            /*
             * The callback may aio_poll() for another request that finished
             * at the same time: keep the BH scheduled while it runs, then
             * rescan from the start since the list may have changed.
             */
            qemu_bh_schedule(pool->completion_bh);
            elem->common.cb(elem->common.opaque, ret);
            qemu_bh_cancel(pool->completion_bh);
            qemu_aio_unref(elem);
            goto restart;
        }
        qemu_aio_unref(elem);
    }
}

static void thread_pool_cancel(BlockAIOCB *acb)
{
    ThreadPoolElement *elem = (ThreadPoolElement *)acb;
    ThreadPool *pool = elem->pool;
    bool cancelled = false;

    qemu_mutex_lock(&pool->lock);
    if (elem->state == THREAD_QUEUED) {
        ThreadPoolElement **link = &pool->queue_head;
        ThreadPoolElement *prev = NULL;

        while (*link != elem) {
            QLOOP_ASSERT(*link != NULL);
            prev = *link;
            link = &(*link)->queue_next;
        }
        *link = elem->queue_next;
        if (pool->queue_tail == elem) {
            pool->queue_tail = prev;
        }
        pool->queued--;
        elem->state = THREAD_DONE;
        elem->ret = -ECANCELED;
        cancelled = true;
    }
    qemu_mutex_unlock(&pool->lock);
    if (cancelled) {
        qemu_bh_schedule(pool->completion_bh);
    }
}

static AioContext *thread_pool_get_aio_context(BlockAIOCB *acb)
{
    return ((ThreadPoolElement *)acb)->pool->ctx;
}

static const AIOCBInfo thread_pool_aiocb_info = {
    .aiocb_size = sizeof(ThreadPoolElement),
    .cancel_async = thread_pool_cancel,
    .get_aio_context = thread_pool_get_aio_context,
};

ThreadPool *thread_pool_new(AioContext *ctx)
{
    ThreadPool *pool = qos_obj_new(QOS_OBJ_POOL, sizeof(ThreadPool));

    pool->ctx = ctx;
    pool->completion_bh = aio_bh_new(ctx, thread_pool_completion_bh, pool);
    qemu_mutex_init(&pool->lock);
    qemu_cond_init(&pool->request_cond);
    pool->threads = g_ptr_array_new();
    thread_pool_update_params(pool, ctx);
    return pool;
}

void thread_pool_update_params(ThreadPool *pool, AioContext *ctx)
{
    qemu_mutex_lock(&pool->lock);
    pool->min_threads = ctx->thread_pool_min;
    pool->max_threads = ctx->thread_pool_max;
    while (pool->cur_threads < pool->min_threads) {
        spawn_thread_locked(pool);
    }
    qemu_mutex_unlock(&pool->lock);
}

void thread_pool_free(ThreadPool *pool)
{
    if (!pool) {
        return;
    }
    if (pool->all_head) {
        qos_panic(__FILE__, __LINE__,
                  "thread pool of %s freed with requests in flight",
                  pool->ctx->name);
    }
    qemu_mutex_lock(&pool->lock);
    pool->stopping = true;
    qemu_cond_broadcast(&pool->request_cond);
    qemu_mutex_unlock(&pool->lock);
    for (guint i = 0; i < pool->threads->len; i++) {
        QemuThread *thread = g_ptr_array_index(pool->threads, i);

        qemu_thread_join(thread);
        qos_obj_free(QOS_OBJ_POOL_THREAD, thread);
    }
    QLOOP_ASSERT(pool->cur_threads == 0);
    g_ptr_array_free(pool->threads, TRUE);
    qemu_bh_delete(pool->completion_bh);
    qemu_cond_destroy(&pool->request_cond);
    qemu_mutex_destroy(&pool->lock);
    qos_obj_free(QOS_OBJ_POOL, pool);
}

void thread_pool_finalize_ctx(AioContext *ctx)
{
    thread_pool_free(ctx->thread_pool);
    ctx->thread_pool = NULL;
}

ThreadPool *aio_get_thread_pool(AioContext *ctx)
{
    if (!ctx->thread_pool) {
        ctx->thread_pool = thread_pool_new(ctx);
    }
    return ctx->thread_pool;
}

void aio_context_set_thread_pool_params(AioContext *ctx, int64_t min,
                                        int64_t max, Error **errp)
{
    if (min > max || max <= 0 || min < 0 || max > INT32_MAX) {
        error_setg(errp, "bad thread-pool-min/thread-pool-max values");
        return;
    }
    ctx->thread_pool_min = (int)min;
    ctx->thread_pool_max = (int)max;
    if (ctx->thread_pool) {
        thread_pool_update_params(ctx->thread_pool, ctx);
    }
}

BlockAIOCB *thread_pool_submit_aio(ThreadPoolFunc *func, void *arg,
                                   BlockCompletionFunc *cb, void *opaque)
{
    AioContext *ctx = qemu_get_current_aio_context();
    ThreadPool *pool;
    ThreadPoolElement *req;

    QLOOP_ASSERT(ctx != NULL);  /* no current context: nowhere to complete */
    pool = aio_get_thread_pool(ctx);
    req = qos_obj_new(QOS_OBJ_POOL_ELEMENT, sizeof(ThreadPoolElement));
    req->common.aiocb_info = &thread_pool_aiocb_info;
    req->common.cb = cb;
    req->common.opaque = opaque;
    req->common.refcnt = 1;
    req->pool = pool;
    req->func = func;
    req->arg = arg;
    req->state = THREAD_QUEUED;

    req->all_next = pool->all_head;
    if (pool->all_head) {
        pool->all_head->all_prev = req;
    }
    pool->all_head = req;

    qemu_mutex_lock(&pool->lock);
    if (pool->queue_tail) {
        pool->queue_tail->queue_next = req;
    } else {
        pool->queue_head = req;
    }
    pool->queue_tail = req;
    pool->queued++;
    if (pool->idle_threads < pool->queued &&
        pool->cur_threads < pool->max_threads) {
        spawn_thread_locked(pool);
    }
    qemu_cond_signal(&pool->request_cond);
    qemu_mutex_unlock(&pool->lock);
    return &req->common;
}

void qemu_aio_ref(void *p)
{
    BlockAIOCB *acb = p;

    QLOOP_ASSERT(acb->refcnt > 0);
    acb->refcnt++;
}

void qemu_aio_unref(void *p)
{
    BlockAIOCB *acb = p;

    QLOOP_ASSERT(acb->refcnt > 0);
    if (--acb->refcnt == 0) {
        qos_obj_free(QOS_OBJ_POOL_ELEMENT, acb);
    }
}

void bdrv_aio_cancel_async(BlockAIOCB *acb)
{
    if (acb->aiocb_info->cancel_async) {
        acb->aiocb_info->cancel_async(acb);
    }
}

void bdrv_aio_cancel(BlockAIOCB *acb)
{
    AioContext *ctx = acb->aiocb_info->get_aio_context ?
                      acb->aiocb_info->get_aio_context(acb) :
                      qemu_get_current_aio_context();

    qemu_aio_ref(acb);
    bdrv_aio_cancel_async(acb);
    while (acb->refcnt > 1) {
        aio_poll(ctx, true);
    }
    qemu_aio_unref(acb);
}
