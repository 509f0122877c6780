/*
 * variants/main-loop-bare-notify.c — a deliberately broken loop/main-loop.c.
 *
 * NOT the production core: built in place of loop/main-loop.c (qloop-main-loop-bare-notify) so
 * tests/scenario-breaks.sh can check that a scenario fails when the rule
 * it states is broken.  The one change, marked VARIANT:
 * qemu_notify_event() is a bare aio_notify() on the main context, not a
 * BH: while nobody waits, the notify leaves no trace the next
 * main_loop_wait() sees.  Breaks docs/examples/main-loop.scn.
 * The rest is loop/main-loop.c as it stands.
 */
/*
 * loop/main-loop.c — the main loop: glib's default context driving QEMU's
 * main AioContext and iohandler_ctx, plus main-loop timers.
 *
 * Method: main_loop_wait() is QEMU's: timeout = min(main-loop timer
 * deadline, glib's); g_main_context_prepare, then query until the fd count
 * is stable; one poll with ns resolution through the OS seam (the only
 * place the main loop blocks); check and dispatch; then the main-loop
 * timers.  iohandler_ctx is separate so that aio_poll() on the main context
 * never runs monitor/chardev handlers registered with qemu_set_fd_handler().
 */
#include <errno.h>

#include "internal.h"

AioContext *qemu_aio_context;
AioContext *iohandler_ctx;

static QEMUBH *qemu_notify_bh;
static GArray *gpollfds;
static gint max_priority;
static guint glib_pollfds_idx;
static gint glib_n_poll_fds;

static void notify_event_cb(void *opaque)
{
    (void)opaque;   /* only here to make main_loop_wait() return */
}

/*
 * Created on first use, as QEMU does (with &error_abort): the callers
 * (qemu_set_fd_handler, and through it qemu_init_main_loop's signalfd)
 * have no way to fail.  Out of fds here is fatal, and the abort names the
 * object — in simulation with the replay command.
 */
static void iohandler_init(void)
{
    if (!iohandler_ctx) {
        Error *err = NULL;

        iohandler_ctx = aio_context_new(&err);
        if (!iohandler_ctx) {
            char why[256];

            g_strlcpy(why, error_get_pretty(err), sizeof(why));
            error_free(err);
            qos_panic(__FILE__, __LINE__, "cannot create iohandler_ctx: %s",
                      why);
        }
        iohandler_ctx->name = "iohandler_ctx";
    }
}

AioContext *iohandler_get_aio_context(void)
{
    iohandler_init();
    return iohandler_ctx;
}

GSource *iohandler_get_g_source(void)
{
    iohandler_init();
    return aio_get_g_source(iohandler_ctx);
}

AioContext *qemu_get_aio_context(void)
{
    return qemu_aio_context;
}

bool qemu_main_loop_initialized(void)
{
    return qemu_aio_context != NULL;
}

/*
 * Failure outcomes (the Error says why; nothing is left registered, so a
 * later call may try again):
 * - no signalfd: the seam's -errno (QEMU's value); SIGIO/SIGALRM/SIGBUS
 *   stay blocked, as in QEMU, which exits on this error;
 * - no iohandler_ctx (created while registering the signalfd): abort
 *   naming it, as QEMU's &error_abort does;
 * - no qemu_aio_context: -EMFILE (QEMU's value, whatever the errno); the
 *   signalfd is unregistered and closed, and iohandler_ctx freed if this
 *   call created it.
 */
int qemu_init_main_loop(Error **errp)
{
    GSource *src;
    bool had_iohandler = iohandler_ctx != NULL;
    int ret;

    if (qemu_aio_context) {
        error_setg(errp, "qemu_init_main_loop() called twice");
        return -EEXIST;
    }
    init_clocks(NULL);

    /*
     * iohandler_ctx first, with errp: QEMU creates it lazily with
     * &error_abort, so running out of fds here would abort; here it is the
     * caller's Error like every other failure of this function.
     */
    if (!had_iohandler) {
        iohandler_ctx = aio_context_new(errp);
        if (!iohandler_ctx) {
            return -EMFILE;
        }
        iohandler_ctx->name = "iohandler_ctx";
    }

    ret = qemu_signal_init(errp);
    if (ret == 0) {
        qemu_aio_context = aio_context_new(errp);
        if (!qemu_aio_context) {
            qemu_signal_cleanup();
            ret = -EMFILE;
        }
    }
    if (ret) {
        /* Leave nothing behind, so that a retry starts afresh. */
        if (!had_iohandler) {
            aio_context_unref(iohandler_ctx);
            iohandler_ctx = NULL;
        }
        return ret;
    }
    qemu_aio_context->name = "qemu_aio_context";
    qemu_set_current_aio_context(qemu_aio_context);
    qemu_notify_bh = qemu_bh_new(notify_event_cb, NULL);
    gpollfds = g_array_new(FALSE, FALSE, sizeof(GPollFD));

    /* glib's own polls (g_main_context_iteration) go through the seam too. */
    g_main_context_set_poll_func(g_main_context_default(), qos_gpoll_ms);

    src = aio_get_g_source(qemu_aio_context);
    g_source_set_name(src, "aio-context");
    g_source_attach(src, NULL);
    g_source_unref(src);
    src = iohandler_get_g_source();
    g_source_set_name(src, "io-handler");
    g_source_attach(src, NULL);
    g_source_unref(src);
    return 0;
}

QEMUBH *qemu_bh_new_full(QEMUBHFunc *cb, void *opaque, const char *name,
                         MemReentrancyGuard *reentrancy_guard)
{
    QLOOP_ASSERT(qemu_aio_context != NULL);     /* qemu_init_main_loop() */
    return aio_bh_new_full(qemu_aio_context, cb, opaque, name,
                           reentrancy_guard);
}

void qemu_notify_event(void)
{
    if (!qemu_aio_context) {
        return;
    }
    /* A BH, not a bare aio_notify(): a bare notify may be elided while no
     * one waits, and the BH makes the next wait return at once. */
    aio_notify(qemu_aio_context);  /* VARIANT: no BH */
}

void qemu_set_fd_handler(int fd, IOHandler *fd_read, IOHandler *fd_write,
                         void *opaque)
{
    iohandler_init();
    aio_set_fd_handler(iohandler_ctx, fd, fd_read, fd_write, NULL, NULL,
                       opaque);
}

void event_notifier_set_handler(EventNotifier *e,
                                EventNotifierHandler *handler)
{
    iohandler_init();
    aio_set_event_notifier(iohandler_ctx, e, handler, NULL, NULL);
}

/* &gpollfds[i], or NULL while the array is empty (its data is NULL). */
static GPollFD *gpollfds_at(guint i)
{
    return gpollfds->data ? (GPollFD *)(void *)gpollfds->data + i : NULL;
}

static void glib_pollfds_fill(int64_t *cur_timeout_ns)
{
    GMainContext *context = g_main_context_default();
    gint timeout_ms = 0;
    int64_t timeout_ns;
    gint n;

    g_main_context_prepare(context, &max_priority);

    glib_pollfds_idx = gpollfds->len;
    n = glib_n_poll_fds;
    do {
        GPollFD *pfds;

        glib_n_poll_fds = n;
        g_array_set_size(gpollfds, glib_pollfds_idx + glib_n_poll_fds);
        pfds = gpollfds_at(glib_pollfds_idx);
        n = g_main_context_query(context, max_priority, &timeout_ms, pfds,
                                 glib_n_poll_fds);
    } while (n != glib_n_poll_fds);

    timeout_ns = timeout_ms < 0 ? -1 : (int64_t)timeout_ms * SCALE_MS;
    *cur_timeout_ns = qemu_soonest_timeout(timeout_ns, *cur_timeout_ns);
}

static void glib_pollfds_poll(void)
{
    GMainContext *context = g_main_context_default();
    GPollFD *pfds = gpollfds_at(glib_pollfds_idx);

    if (g_main_context_check(context, max_priority, pfds, glib_n_poll_fds)) {
        g_main_context_dispatch(context);
    }
}

static int os_host_main_loop_wait(int64_t timeout_ns)
{
    GMainContext *context = g_main_context_default();
    int ret;

    g_main_context_acquire(context);
    glib_pollfds_fill(&timeout_ns);
    ret = qos_gpoll_ns(gpollfds_at(0), gpollfds->len, timeout_ns);
    glib_pollfds_poll();
    g_main_context_release(context);
    return ret;
}

void qloop_main_loop_teardown(bool abandon)
{
    AioContext *contexts[2] = { qemu_aio_context, iohandler_ctx };

    for (int i = 0; i < 2; i++) {
        if (contexts[i] && !g_source_is_destroyed(&contexts[i]->source)) {
            g_source_destroy(&contexts[i]->source);
        }
    }
    g_main_context_set_poll_func(g_main_context_default(), NULL);
    if (!abandon) {
        if (qemu_notify_bh) {
            qemu_bh_delete(qemu_notify_bh);
        }
        for (int i = 0; i < 2; i++) {
            if (contexts[i]) {
                while (aio_poll(contexts[i], false)) {
                    /* run what is left, free deleted BHs */
                }
            }
        }
        qemu_signal_cleanup();
        if (iohandler_ctx) {
            aio_context_unref(iohandler_ctx);
        }
        if (qemu_aio_context) {
            qemu_set_current_aio_context(NULL);
            aio_context_unref(qemu_aio_context);
        }
        if (gpollfds) {
            g_array_free(gpollfds, TRUE);
        }
        timerlistgroup_deinit(&main_loop_tlg);
    } else {
        /*
         * Leak on purpose: the run's world is gone and its state is not
         * ours to free.  Keep it reachable, so leak checkers see a
         * deliberate graveyard rather than lost memory.
         */
        static GPtrArray *graveyard;

        if (!graveyard) {
            graveyard = g_ptr_array_new();
        }
        for (int type = 0; type < QEMU_CLOCK_MAX; type++) {
            g_ptr_array_add(graveyard, main_loop_tlg.tl[type]);
        }
        g_ptr_array_add(graveyard, gpollfds);
        main_loop_tlg = (QEMUTimerListGroup){ 0 };
        qemu_signal_forget();
    }
    qemu_aio_context = NULL;
    iohandler_ctx = NULL;
    qemu_notify_bh = NULL;
    gpollfds = NULL;
    glib_n_poll_fds = 0;
}

void main_loop_wait(int nonblocking)
{
    int64_t timeout_ns;

    QLOOP_ASSERT(qemu_aio_context != NULL);     /* qemu_init_main_loop() */
    g_array_set_size(gpollfds, 0);
    timeout_ns = nonblocking ? 0 : -1;
    timeout_ns = qemu_soonest_timeout(timeout_ns,
                                      timerlistgroup_deadline_ns(&main_loop_tlg));
    os_host_main_loop_wait(timeout_ns);
    qemu_clock_run_all_timers();
}
