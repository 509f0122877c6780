/*
 * sim/glib-wakeup.c — when glib's wake-up eventfd may be readable (see
 * glib-wakeup.h).
 *
 * Method: every glib call in sim/glib-wakeup.syms is linked to its
 * __wrap_ function here (ld --wrap=NAME, added to every link of the
 * simulator by sim/CMakeLists.txt and fuzz/fuzz.mk), which marks the fd
 * "maybe set" on entry and on return.  While any wrapped call is in
 * progress (it may poll and signal inside, g_main_context_iteration does
 * both) every check asks the kernel.  A reference to each __real_ name
 * makes a link without the --wrap options fail, rather than run with a
 * prediction that never sees a signal.
 *
 * All simulated threads run on one host thread, so plain globals suffice;
 * a world torn down inside a wrapped call leaves the depth counted up,
 * which sim_glib_wakeup_reset() clears.
 */
#include <glib.h>
#include <glib-unix.h>
#include <stdint.h>

#include "glib-wakeup.h"
#include "world.h"

#define CORE_HOST_FDS_MAX 16
#define WAKEUP_FDS_MAX 8

/*
 * wrapped_gen counts entries to and returns from wrapped calls; a wake-up
 * fd is known clear while its clear_gen (when a poll(2) found it clear)
 * is still the current one.  Per fd: a world has a wake-up fd per
 * GMainContext (the main one, iothreads'), each written separately.
 */
static unsigned wrapped_depth;   /* wrapped glib calls in progress */
static uint64_t wrapped_gen = 1;
static struct {
    int fd;
    uint64_t clear_gen;          /* 0: never found clear */
} wakeup_fds[WAKEUP_FDS_MAX];
static unsigned wakeup_fds_len;
/* Host fds the core registered in this world; past the array's size no
 * host fd is predicted (core_host_fds_full). */
static int core_host_fds[CORE_HOST_FDS_MAX];
static unsigned core_host_fds_len;
static bool core_host_fds_full;

void sim_glib_wakeup_reset(void)
{
    wrapped_depth = 0;
    wrapped_gen = 1;
    wakeup_fds_len = 0;
    core_host_fds_len = 0;
    core_host_fds_full = false;
}

void sim_glib_wakeup_not_glibs(int fd)
{
    if (sim_glib_wakeup_could_be(fd)) {
        if (core_host_fds_len == CORE_HOST_FDS_MAX) {
            core_host_fds_full = true;
        } else {
            core_host_fds[core_host_fds_len++] = fd;
        }
    }
}

bool sim_glib_wakeup_could_be(int fd)
{
    if (core_host_fds_full) {
        return false;
    }
    for (unsigned i = 0; i < core_host_fds_len; i++) {
        if (core_host_fds[i] == fd) {
            return false;
        }
    }
    return true;
}

static int wakeup_slot(int fd)
{
    for (unsigned i = 0; i < wakeup_fds_len; i++) {
        if (wakeup_fds[i].fd == fd) {
            return (int)i;
        }
    }
    if (wakeup_fds_len == WAKEUP_FDS_MAX) {
        return -1;      /* more contexts than slots: always ask */
    }
    wakeup_fds[wakeup_fds_len].fd = fd;
    wakeup_fds[wakeup_fds_len].clear_gen = 0;
    return (int)wakeup_fds_len++;
}

bool sim_glib_wakeup_maybe_set(int fd)
{
    int i = wakeup_slot(fd);

    return i < 0 || wrapped_depth > 0 ||
           wakeup_fds[i].clear_gen != wrapped_gen;
}

void sim_glib_wakeup_polled(int fd, bool clear)
{
    int i = wakeup_slot(fd);

    if (i >= 0) {
        wakeup_fds[i].clear_gen = clear && wrapped_depth == 0 ? wrapped_gen
                                                              : 0;
    }
}

bool sim_glib_wakeup_audit(void)
{
#ifdef QLOOP_SIM_GLIB_WAKEUP_TRUST
    return false;
#else
    return true;
#endif
}

void sim_glib_wakeup_unforeseen(int fd)
{
    qos_panic(__FILE__, __LINE__,
              "host fd %d is readable, but no glib call in "
              "sim/glib-wakeup.syms ran since it was found clear: either a "
              "glib function that writes glib's wake-up eventfd is missing "
              "there, or this fd is not glib's (something else writes it, "
              "and it reached glib's poll without the core's fd monitor)",
              fd);
}

static inline void wrapped_enter(void)
{
    wrapped_depth++;
    wrapped_gen++;
}

static inline void wrapped_leave(void)
{
    SIM_ASSERT(wrapped_depth > 0);
    wrapped_depth--;
    wrapped_gen++;
}

#define WRAP(ret, name, params, args)                                   \
    ret __real_##name params;                                           \
    ret __wrap_##name params;                                           \
    ret __wrap_##name params                                            \
    {                                                                   \
        ret r;                                                          \
        wrapped_enter();                                                \
        r = __real_##name args;                                         \
        wrapped_leave();                                                \
        return r;                                                       \
    }

#define WRAP_VOID(name, params, args)                                   \
    void __real_##name params;                                          \
    void __wrap_##name params;                                          \
    void __wrap_##name params                                           \
    {                                                                   \
        wrapped_enter();                                                \
        __real_##name args;                                             \
        wrapped_leave();                                                \
    }

WRAP(guint, g_source_attach, (GSource *s, GMainContext *c), (s, c))
WRAP_VOID(g_source_destroy, (GSource *s), (s))
WRAP_VOID(g_source_unref, (GSource *s), (s))
WRAP(gboolean, g_source_remove, (guint tag), (tag))
WRAP_VOID(g_source_set_ready_time, (GSource *s, gint64 t), (s, t))
WRAP_VOID(g_source_set_priority, (GSource *s, gint p), (s, p))
WRAP_VOID(g_source_add_poll, (GSource *s, GPollFD *fd), (s, fd))
WRAP_VOID(g_source_remove_poll, (GSource *s, GPollFD *fd), (s, fd))
WRAP(gpointer, g_source_add_unix_fd, (GSource *s, gint fd, GIOCondition e),
     (s, fd, e))
WRAP_VOID(g_source_modify_unix_fd, (GSource *s, gpointer tag, GIOCondition e),
          (s, tag, e))
WRAP_VOID(g_source_remove_unix_fd, (GSource *s, gpointer tag), (s, tag))
WRAP_VOID(g_source_add_child_source, (GSource *s, GSource *child), (s, child))
WRAP_VOID(g_source_remove_child_source, (GSource *s, GSource *child),
          (s, child))
WRAP_VOID(g_main_context_add_poll, (GMainContext *c, GPollFD *fd, gint p),
          (c, fd, p))
WRAP_VOID(g_main_context_remove_poll, (GMainContext *c, GPollFD *fd), (c, fd))
WRAP_VOID(g_main_context_wakeup, (GMainContext *c), (c))
WRAP_VOID(g_main_context_dispatch, (GMainContext *c), (c))
WRAP(gboolean, g_main_context_iteration, (GMainContext *c, gboolean block),
     (c, block))
WRAP_VOID(g_main_context_invoke, (GMainContext *c, GSourceFunc f, gpointer d),
          (c, f, d))
WRAP_VOID(g_main_context_invoke_full,
          (GMainContext *c, gint p, GSourceFunc f, gpointer d,
           GDestroyNotify n), (c, p, f, d, n))
WRAP_VOID(g_main_context_unref, (GMainContext *c), (c))
WRAP_VOID(g_main_loop_run, (GMainLoop *l), (l))
WRAP_VOID(g_main_loop_quit, (GMainLoop *l), (l))
WRAP(guint, g_idle_add, (GSourceFunc f, gpointer d), (f, d))
WRAP(guint, g_idle_add_full,
     (gint p, GSourceFunc f, gpointer d, GDestroyNotify n), (p, f, d, n))
WRAP(guint, g_timeout_add, (guint ms, GSourceFunc f, gpointer d), (ms, f, d))
WRAP(guint, g_timeout_add_full,
     (gint p, guint ms, GSourceFunc f, gpointer d, GDestroyNotify n),
     (p, ms, f, d, n))
WRAP(guint, g_unix_fd_add,
     (gint fd, GIOCondition c, GUnixFDSourceFunc f, gpointer d),
     (fd, c, f, d))
WRAP(guint, g_unix_fd_add_full,
     (gint p, gint fd, GIOCondition c, GUnixFDSourceFunc f, gpointer d,
      GDestroyNotify n), (p, fd, c, f, d, n))
