/*
 * harness/kvm/qmp-request.h — one monitor request line, parsed and checked.
 *
 * Pure code (json-glib, no sockets): a line of bytes becomes either a
 * request ({"execute": name, "arguments": {...}, "id": any}) or a QMP
 * error class and description.  Everything a client can send is handled
 * here: NUL bytes, malformed JSON, too deep nesting, a top level that is
 * not an object, "execute" that is not a string, unknown members.  Only
 * the top-level "execute" counts: a member nested in "arguments" is data.
 */
#ifndef QLOOP_KVM_QMP_REQUEST_H
#define QLOOP_KVM_QMP_REQUEST_H

#include <json-glib/json-glib.h>
#include <stdbool.h>
#include <stddef.h>

/* Deeper nesting is refused before json-glib sees the line (its parser
 * recurses once per level). */
#define QMP_NESTING_MAX 32

typedef struct QmpError {
    const char *cls;            /* "GenericError", "CommandNotFound" */
    char desc[160];
} QmpError;

typedef struct QmpRequest {
    char *execute;              /* owned */
    JsonObject *arguments;      /* owned reference; empty if absent */
    JsonNode *id;               /* owned copy, or NULL: echoed in the reply */
} QmpRequest;

/*
 * Parse len bytes (no newline).  True fills req (free it with
 * qmp_request_clear); false fills err and leaves req empty, except that
 * req->id is kept when the line was an object with an "id", so the error
 * reply can carry it, as QMP does.
 */
bool qmp_request_parse(const char *line, size_t len, QmpRequest *req,
                       QmpError *err);
void qmp_request_clear(QmpRequest *req);

/* {"return": value, "id": id} or {"error": {...}, "id": id}, no newline.
 * Both take ownership of nothing; value may be NULL for {}. */
char *qmp_reply_return(JsonNode *value, JsonNode *id);
char *qmp_reply_error(const QmpError *err, JsonNode *id);

void qmp_error_set(QmpError *err, const char *cls, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
