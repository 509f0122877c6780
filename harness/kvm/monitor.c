/*
 * harness/kvm/monitor.c — a JSON-lines monitor on a Unix socket.
 *
 * Method: the listening socket and each client are GSource watches
 * (g_unix_fd_add) on glib's default GMainContext, which main_loop_wait()
 * dispatches — the same way QEMU's QMP chardevs ride the main loop.  One
 * request per line, one answer per line, QMP-shaped:
 *   {"execute":"status"}                -> {"return":{"status":"running",...}}
 *   {"execute":"send-console","data":"ls\n"} -> {"return":{}}
 *   {"execute":"quit"}                  -> {"return":{}} and the VM stops
 * The parser is deliberately tiny (string members only, \n \" \\ escapes):
 * a malformed line gets an error answer, never a crash.
 */
#include <errno.h>
#include <glib-unix.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "vmm.h"

#define MONITOR_LINE_MAX 4096

typedef struct Monitor {
    Vm *vm;
    int listen_fd;
    guint listen_tag;
    char *path;
} Monitor;

typedef struct MonClient {
    Monitor *mon;
    int fd;
    char buf[MONITOR_LINE_MAX];
    size_t len;
} MonClient;

/* The string value of "key" in a flat JSON object, unescaped; or NULL. */
static char *json_get_string(const char *line, const char *key)
{
    char pattern[64];
    const char *p;
    GString *out;

    snprintf(pattern, sizeof(pattern), "\"%s\"", key);
    p = strstr(line, pattern);
    if (!p) {
        return NULL;
    }
    p += strlen(pattern);
    while (*p == ' ' || *p == ':') {
        p++;
    }
    if (*p++ != '"') {
        return NULL;
    }
    out = g_string_new(NULL);
    for (; *p && *p != '"'; p++) {
        if (*p == '\\' && p[1]) {
            p++;
            g_string_append_c(out, *p == 'n' ? '\n' : *p == 'r' ? '\r'
                                   : *p == 't' ? '\t' : *p);
        } else {
            g_string_append_c(out, *p);
        }
    }
    if (*p != '"') {
        g_string_free(out, TRUE);
        return NULL;
    }
    return g_string_free(out, FALSE);
}

static void monitor_reply(MonClient *c, const char *json)
{
    size_t len = strlen(json), done = 0;

    while (done < len) {
        ssize_t n = write(c->fd, json + done, len - done);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return;             /* the client left; its watch will see HUP */
        }
        done += n;
    }
    if (write(c->fd, "\n", 1) < 0) {
        return;
    }
}

static void monitor_status(MonClient *c)
{
    Vm *vm = c->mon->vm;
    uint64_t doorbells, completions, exits = 0;
    char buf[512];

    testdev_stats(vm, &doorbells, &completions);
    for (int i = 0; i < vm->nr_vcpus; i++) {
        exits += __atomic_load_n(&vm->vcpus[i].exits, __ATOMIC_RELAXED);
    }
    snprintf(buf, sizeof(buf),
             "{\"return\":{\"status\":\"%s\",\"marker-seen\":%s,"
             "\"uptime-ms\":%lld,\"exits\":%llu,\"doorbells\":%llu,"
             "\"completions\":%llu}}",
             vm_stopping(vm) ? "stopping" : "running",
             vm->result.marker_seen ? "true" : "false",
             (long long)((get_clock() - vm->start_ns) / SCALE_MS),
             (unsigned long long)exits, (unsigned long long)doorbells,
             (unsigned long long)completions);
    monitor_reply(c, buf);
}

static void monitor_command(MonClient *c, const char *line)
{
    g_autofree char *cmd = json_get_string(line, "execute");

    if (!cmd) {
        monitor_reply(c, "{\"error\":{\"class\":\"GenericError\","
                         "\"desc\":\"expected {\\\"execute\\\":...}\"}}");
    } else if (strcmp(cmd, "status") == 0) {
        monitor_status(c);
    } else if (strcmp(cmd, "quit") == 0) {
        monitor_reply(c, "{\"return\":{}}");
        vm_request_stop(c->mon->vm, 0, "quit from the monitor");
    } else if (strcmp(cmd, "send-console") == 0) {
        g_autofree char *data = json_get_string(line, "data");

        if (!data) {
            monitor_reply(c, "{\"error\":{\"class\":\"GenericError\","
                             "\"desc\":\"send-console needs \\\"data\\\"\"}}");
            return;
        }
        serial_input(&c->mon->vm->serial, (const uint8_t *)data,
                     strlen(data));
        monitor_reply(c, "{\"return\":{}}");
    } else {
        monitor_reply(c, "{\"error\":{\"class\":\"CommandNotFound\","
                         "\"desc\":\"unknown command\"}}");
    }
}

static gboolean monitor_client_io(gint fd, GIOCondition cond, gpointer opaque)
{
    MonClient *c = opaque;
    ssize_t n = read(fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
    char *nl;

    if (n <= 0 && !(n < 0 && errno == EINTR)) {
        close(fd);
        g_free(c);
        return G_SOURCE_REMOVE;
    }
    c->len += n > 0 ? n : 0;
    c->buf[c->len] = '\0';
    while ((nl = strchr(c->buf, '\n'))) {
        *nl = '\0';
        monitor_command(c, c->buf);
        c->len -= nl + 1 - c->buf;
        memmove(c->buf, nl + 1, c->len + 1);
    }
    if (c->len == sizeof(c->buf) - 1) {
        monitor_reply(c, "{\"error\":{\"class\":\"GenericError\","
                         "\"desc\":\"line too long\"}}");
        c->len = 0;
    }
    return G_SOURCE_CONTINUE;
}

static gboolean monitor_accept(gint fd, GIOCondition cond, gpointer opaque)
{
    Monitor *mon = opaque;
    MonClient *c;
    int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

    if (cfd < 0) {
        return G_SOURCE_CONTINUE;
    }
    c = g_new0(MonClient, 1);
    c->mon = mon;
    c->fd = cfd;
    g_unix_fd_add(cfd, G_IO_IN | G_IO_HUP | G_IO_ERR, monitor_client_io, c);
    monitor_reply(c, "{\"qloop-vm\":{\"version\":\"" QLOOP_VERSION "\"}}");
    return G_SOURCE_CONTINUE;
}

bool monitor_init(Vm *vm, const char *path, Error **errp)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    Monitor *mon;
    int fd;

    if (strlen(path) >= sizeof(addr.sun_path)) {
        error_setg(errp, "monitor path too long: %s", path);
        return false;
    }
    strcpy(addr.sun_path, path);
    unlink(path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
        listen(fd, 4) < 0) {
        error_setg_errno(errp, errno, "monitor socket %s", path);
        if (fd >= 0) {
            close(fd);
        }
        return false;
    }
    mon = g_new0(Monitor, 1);
    mon->vm = vm;
    mon->listen_fd = fd;
    mon->path = g_strdup(path);
    mon->listen_tag = g_unix_fd_add(fd, G_IO_IN, monitor_accept, mon);
    vm->monitor = mon;
    return true;
}

void monitor_close(Vm *vm)
{
    Monitor *mon = vm->monitor;

    if (!mon) {
        return;
    }
    g_source_remove(mon->listen_tag);
    close(mon->listen_fd);
    unlink(mon->path);
    g_free(mon->path);
    g_free(mon);
    vm->monitor = NULL;
}
