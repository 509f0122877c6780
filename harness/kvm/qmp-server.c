/*
 * harness/kvm/qmp-server.c — the monitor's sockets, clients and buffers.
 *
 * Method: the listening socket and every client are g_unix_fd_add()
 * watches on glib's default context, so main_loop_wait() serves them
 * between everything else it does; nothing here may block that thread.
 *   input:  one read() per dispatch (bounded work), lines split on '\n'
 *           with memchr (a NUL byte is data, refused by the parser); a
 *           line longer than line_bytes_max gets one error and is skipped
 *           to its end — its tail is never run as a command;
 *   output: replies are appended to the client's buffer and sent with
 *           MSG_DONTWAIT; what the socket does not take waits for a
 *           G_IO_OUT watch.  A reply that would grow the buffer past
 *           out_bytes_max disconnects the client: a client that never
 *           reads costs bounded memory and no time;
 *   accept: clients_max bounds the clients (more get an error line and
 *           are closed); EMFILE/ENFILE remove the listening watch — it
 *           would stay readable and spin the loop — until a timer fires
 *           or a client closes and frees a descriptor.
 * A client is freed only after both of its watches are removed, and the
 * server only after every client: no watch is left pointing at freed
 * memory (the old monitor_close freed the monitor under live watches).
 */
#include <errno.h>
#include <glib-unix.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "qmp-server.h"

typedef struct QmpClient QmpClient;

struct QmpServer {
    const QmpCommand *cmds;
    void *opaque;
    QmpLimits limits;
    int listen_fd;
    guint listen_tag;           /* 0 while accepting is paused */
    QEMUTimer *retry_timer;     /* resumes a paused accept */
    char *path;
    GList *clients;             /* QmpClient *, main thread only */
    QmpStats stats;
};

struct QmpClient {
    QmpServer *srv;
    int fd;
    guint in_tag, out_tag;      /* out_tag only while out has bytes */
    bool negotiated;            /* qmp_capabilities ran */
    bool discarding;            /* inside an over-long line: skip to '\n' */
    char *in;                   /* line_bytes_max bytes */
    size_t in_len;
    GByteArray *out;            /* unsent replies, <= out_bytes_max */
};

static gboolean qmp_accept_cb(gint fd, GIOCondition cond, gpointer opaque);

static void qmp_accept_resume(QmpServer *srv)
{
    if (srv->listen_tag == 0) {
        timer_del(srv->retry_timer);
        srv->listen_tag = g_unix_fd_add(srv->listen_fd, G_IO_IN,
                                        qmp_accept_cb, srv);
    }
}

static void qmp_retry_cb(void *opaque)
{
    qmp_accept_resume(opaque);
}

static void qmp_client_free(QmpClient *c)
{
    QmpServer *srv = c->srv;

    if (c->in_tag) {
        g_source_remove(c->in_tag);
    }
    if (c->out_tag) {
        g_source_remove(c->out_tag);
    }
    close(c->fd);
    srv->clients = g_list_remove(srv->clients, c);
    g_assert(srv->stats.clients > 0);
    srv->stats.clients--;
    g_byte_array_unref(c->out);
    g_free(c->in);
    g_free(c);
    qmp_accept_resume(srv);     /* a descriptor is free again */
}

static gboolean qmp_out_cb(gint fd, GIOCondition cond, gpointer opaque);

/* Send what the socket takes now; false if the client is gone (freed). */
static bool qmp_client_flush(QmpClient *c)
{
    while (c->out->len > 0) {
        ssize_t n = send(c->fd, c->out->data, c->out->len,
                         MSG_DONTWAIT | MSG_NOSIGNAL);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!c->out_tag) {
                c->out_tag = g_unix_fd_add(c->fd, G_IO_OUT, qmp_out_cb, c);
            }
            return true;
        }
        if (n <= 0) {
            qmp_client_free(c);         /* EPIPE, ECONNRESET: it left */
            return false;
        }
        g_byte_array_remove_range(c->out, 0, (guint)n);
    }
    if (c->out_tag) {
        g_source_remove(c->out_tag);
        c->out_tag = 0;
    }
    return true;
}

static gboolean qmp_out_cb(gint fd, GIOCondition cond, gpointer opaque)
{
    QmpClient *c = opaque;

    g_assert(c->out_tag != 0);
    if (cond & (G_IO_ERR | G_IO_HUP)) {
        c->out_tag = 0;                 /* this source ends with REMOVE */
        qmp_client_free(c);
        return G_SOURCE_REMOVE;
    }
    if (!qmp_client_flush(c)) {
        return G_SOURCE_REMOVE;
    }
    return c->out_tag ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

/* Queue one line; false if that dropped the client (it is freed). */
static bool qmp_client_send(QmpClient *c, char *text)
{
    size_t len = strlen(text);

    if (c->out->len + len + 1 > c->srv->limits.out_bytes_max) {
        g_free(text);
        c->srv->stats.dropped_slow++;
        qmp_client_free(c);
        return false;
    }
    g_byte_array_append(c->out, (const guint8 *)text, (guint)len);
    g_byte_array_append(c->out, (const guint8 *)"\n", 1);
    g_free(text);
    return qmp_client_flush(c);
}

static bool qmp_send_error(QmpClient *c, const QmpError *err, JsonNode *id)
{
    c->srv->stats.errors++;
    return qmp_client_send(c, qmp_reply_error(err, id));
}

static JsonNode *qmp_query_monitor(QmpServer *srv)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    const QmpStats *s = &srv->stats;

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "clients");
    json_builder_add_int_value(b, s->clients);
    json_builder_set_member_name(b, "accepted");
    json_builder_add_int_value(b, (gint64)s->accepted);
    json_builder_set_member_name(b, "refused-busy");
    json_builder_add_int_value(b, (gint64)s->refused_busy);
    json_builder_set_member_name(b, "dropped-slow");
    json_builder_add_int_value(b, (gint64)s->dropped_slow);
    json_builder_set_member_name(b, "accept-pauses");
    json_builder_add_int_value(b, (gint64)s->accept_pauses);
    json_builder_set_member_name(b, "accepting");
    json_builder_add_boolean_value(b, srv->listen_tag != 0);
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

/* Run one parsed request; false if the client was dropped. */
static bool qmp_dispatch(QmpClient *c, QmpRequest *req)
{
    QmpServer *srv = c->srv;
    QmpError err = { 0 };
    JsonNode *ret = NULL;
    bool ok;

    if (strcmp(req->execute, "qmp_capabilities") == 0) {
        if (c->negotiated) {
            qmp_error_set(&err, "CommandNotFound", "Capabilities negotiation "
                          "is already complete, command ignored");
        }
        c->negotiated = true;
    } else if (!c->negotiated) {
        qmp_error_set(&err, "CommandNotFound", "Expecting capabilities "
                      "negotiation with 'qmp_capabilities'");
    } else if (strcmp(req->execute, "query-monitor") == 0) {
        ret = qmp_query_monitor(srv);
    } else {
        const QmpCommand *cmd = srv->cmds;

        while (cmd->name && strcmp(cmd->name, req->execute) != 0) {
            cmd++;
        }
        if (!cmd->name) {
            qmp_error_set(&err, "CommandNotFound",
                          "The command %.64s has not been found",
                          req->execute);
        } else {
            ret = cmd->run(srv->opaque, req->arguments, &err);
        }
    }
    if (err.cls) {
        g_assert(ret == NULL);
        return qmp_send_error(c, &err, req->id);
    }
    srv->stats.commands++;
    ok = qmp_client_send(c, qmp_reply_return(ret, req->id));
    if (ret) {
        json_node_unref(ret);
    }
    return ok;
}

static bool qmp_line(QmpClient *c, const char *line, size_t len)
{
    QmpRequest req;
    QmpError err;
    bool ok;

    if (!qmp_request_parse(line, len, &req, &err)) {
        ok = qmp_send_error(c, &err, req.id);
    } else {
        ok = qmp_dispatch(c, &req);
    }
    qmp_request_clear(&req);
    return ok;
}

/* Split c->in into lines; false if the client was dropped. */
static bool qmp_client_lines(QmpClient *c)
{
    size_t max = c->srv->limits.line_bytes_max;
    char *nl;

    while ((nl = memchr(c->in, '\n', c->in_len))) {
        size_t line_len = (size_t)(nl - c->in);
        bool skip = c->discarding;

        c->discarding = false;
        if (!skip && !qmp_line(c, c->in, line_len)) {
            return false;
        }
        c->in_len -= line_len + 1;
        memmove(c->in, nl + 1, c->in_len);
    }
    if (c->in_len == max) {
        QmpError err;

        c->in_len = 0;
        if (!c->discarding) {
            c->discarding = true;
            qmp_error_set(&err, "GenericError",
                          "request line longer than %zu bytes", max);
            return qmp_send_error(c, &err, NULL);
        }
    }
    return true;
}

static gboolean qmp_in_cb(gint fd, GIOCondition cond, gpointer opaque)
{
    QmpClient *c = opaque;
    size_t room = c->srv->limits.line_bytes_max - c->in_len;
    ssize_t n;

    g_assert(room > 0);
    n = read(fd, c->in + c->in_len, room);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
        return G_SOURCE_CONTINUE;
    }
    if (n <= 0) {
        c->in_tag = 0;                  /* this source ends with REMOVE */
        qmp_client_free(c);
        return G_SOURCE_REMOVE;
    }
    c->in_len += (size_t)n;
    if (!qmp_client_lines(c)) {
        return G_SOURCE_REMOVE;         /* freed, its watch removed */
    }
    return G_SOURCE_CONTINUE;
}

static void qmp_refuse(QmpServer *srv, int fd)
{
    char line[160];
    int len = snprintf(line, sizeof(line), "{\"error\":{\"class\":"
                       "\"GenericError\",\"desc\":\"too many monitor clients"
                       " (%u)\"}}\n", srv->limits.clients_max);

    srv->stats.refused_busy++;
    /* Best effort: a fresh socket has room for one line; never wait. */
    if (send(fd, line, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
        /* nothing to do: the client is closed either way */
    }
    close(fd);
}

static char *qmp_greeting(void)
{
    return g_strdup("{\"QMP\":{\"version\":{\"qloop-vm\":\"" QLOOP_VERSION
                    "\"},\"capabilities\":[]}}");
}

static gboolean qmp_accept_cb(gint fd, GIOCondition cond, gpointer opaque)
{
    QmpServer *srv = opaque;
    QmpClient *c;
    int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

    if (cfd < 0) {
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
            errno == ENOMEM) {
            /* The socket stays readable: watching it now would spin. */
            srv->stats.accept_pauses++;
            srv->listen_tag = 0;
            timer_mod(srv->retry_timer,
                      qemu_clock_get_ms(QEMU_CLOCK_REALTIME) +
                      srv->limits.accept_retry_ms);
            return G_SOURCE_REMOVE;
        }
        return G_SOURCE_CONTINUE;       /* EAGAIN, ECONNABORTED, EINTR */
    }
    if (srv->stats.clients >= srv->limits.clients_max) {
        qmp_refuse(srv, cfd);
        return G_SOURCE_CONTINUE;
    }
    c = g_new0(QmpClient, 1);
    c->srv = srv;
    c->fd = cfd;
    c->in = g_malloc(srv->limits.line_bytes_max);
    c->out = g_byte_array_new();
    srv->clients = g_list_prepend(srv->clients, c);
    srv->stats.clients++;
    srv->stats.accepted++;
    c->in_tag = g_unix_fd_add(cfd, G_IO_IN | G_IO_HUP | G_IO_ERR,
                              qmp_in_cb, c);
    qmp_client_send(c, qmp_greeting());
    return G_SOURCE_CONTINUE;
}

QmpServer *qmp_server_new(const char *path, const QmpCommand *cmds,
                          void *opaque, const QmpLimits *limits,
                          Error **errp)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    QmpServer *srv;
    int fd;

    g_assert(limits->clients_max > 0 && limits->line_bytes_max > 0);
    g_assert(limits->out_bytes_max > 256);      /* room for the greeting */
    if (strlen(path) >= sizeof(addr.sun_path)) {
        error_setg(errp, "monitor path too long: %s", path);
        return NULL;
    }
    strcpy(addr.sun_path, path);
    unlink(path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
        listen(fd, 16) < 0) {
        error_setg_errno(errp, errno, "monitor socket %s", path);
        if (fd >= 0) {
            close(fd);
        }
        return NULL;
    }
    srv = g_new0(QmpServer, 1);
    srv->cmds = cmds;
    srv->opaque = opaque;
    srv->limits = *limits;
    srv->listen_fd = fd;
    srv->path = g_strdup(path);
    srv->retry_timer = timer_new_ms(QEMU_CLOCK_REALTIME, qmp_retry_cb, srv);
    srv->listen_tag = g_unix_fd_add(fd, G_IO_IN, qmp_accept_cb, srv);
    return srv;
}

void qmp_server_free(QmpServer *srv)
{
    if (!srv) {
        return;
    }
    while (srv->clients) {
        qmp_client_free(srv->clients->data);
    }
    if (srv->listen_tag) {
        g_source_remove(srv->listen_tag);
    }
    timer_free(srv->retry_timer);
    close(srv->listen_fd);
    unlink(srv->path);
    g_free(srv->path);
    g_free(srv);
}

void qmp_server_stats(const QmpServer *srv, QmpStats *stats)
{
    *stats = srv->stats;
}
