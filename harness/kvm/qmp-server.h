/*
 * harness/kvm/qmp-server.h — a QMP-like monitor server on a Unix socket.
 *
 * No VM here: the owner passes a table of commands.  The server rides
 * glib's default GMainContext (which main_loop_wait() dispatches) and
 * never blocks it: every client has a bounded output buffer written
 * non-blocking, a client that stops reading is disconnected once its
 * buffer would pass out_bytes_max, the number of clients is bounded, and
 * accept() failing for want of file descriptors pauses accepting (resumed
 * by a timer or by the next client that closes) instead of spinning.
 *
 * Protocol (QEMU's QMP, reduced): greeting
 *   {"QMP":{"version":{"qloop-vm":"0.1.0"},"capabilities":[]}}
 * then {"execute":"qmp_capabilities"} before anything else; one request
 * per line, one reply per line: {"return":...} or
 * {"error":{"class":...,"desc":...}}, with the request's "id" echoed.
 * Built in: qmp_capabilities, query-monitor (the counters below).
 */
#ifndef QLOOP_KVM_QMP_SERVER_H
#define QLOOP_KVM_QMP_SERVER_H

#include <stdint.h>

#include "qloop/qloop.h"
#include "qmp-request.h"

typedef struct QmpServer QmpServer;

/* A command's result: a new node for "return" (NULL means {}), or NULL
 * with err->cls set for an error reply.  The server owns the node. */
typedef JsonNode *QmpCommandFn(void *opaque, JsonObject *args, QmpError *err);

typedef struct QmpCommand {
    const char *name;
    QmpCommandFn *run;
} QmpCommand;

typedef struct QmpLimits {
    unsigned clients_max;       /* more are answered with an error, closed */
    size_t out_bytes_max;       /* a client's unread replies; past it: drop */
    size_t line_bytes_max;      /* longer lines get one error, are skipped */
    int64_t accept_retry_ms;    /* paused accept (EMFILE) retries after */
} QmpLimits;

#define QMP_LIMITS_DEFAULT ((QmpLimits){ \
    .clients_max = 8, .out_bytes_max = 64 * 1024, \
    .line_bytes_max = 4096, .accept_retry_ms = 200 })

typedef struct QmpStats {
    unsigned clients;           /* connected now */
    uint64_t accepted;          /* connections served */
    uint64_t refused_busy;      /* closed at once: clients_max reached */
    uint64_t dropped_slow;      /* disconnected: output passed the bound */
    uint64_t accept_pauses;     /* accept() ran out of fds: paused */
    uint64_t errors;            /* error replies sent */
    uint64_t commands;          /* commands that returned normally */
} QmpStats;

/* cmds ends with a { NULL } entry and outlives the server. */
QmpServer *qmp_server_new(const char *path, const QmpCommand *cmds,
                          void *opaque, const QmpLimits *limits,
                          Error **errp);
/* Closes every client and the socket; no watch or timer is left behind. */
void qmp_server_free(QmpServer *srv);
void qmp_server_stats(const QmpServer *srv, QmpStats *stats);

#endif
