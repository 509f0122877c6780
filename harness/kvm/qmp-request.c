/*
 * harness/kvm/qmp-request.c — monitor request lines: checked, then parsed.
 *
 * Method: two passes.  A byte scan refuses what json-glib should never
 * see — NUL bytes (the old strstr parser lost every command after one) and
 * nesting deeper than QMP_NESTING_MAX (the parser recurses per level).
 * Then json-glib parses the line and the top-level object is checked the
 * way QEMU's QMP dispatcher does: "execute" a string, "arguments" an
 * object, "id" anything, no other member.  Replies are built as JSON nodes
 * and serialised by json-glib, so a string from a client is escaped.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "qmp-request.h"

void qmp_error_set(QmpError *err, const char *cls, const char *fmt, ...)
{
    va_list ap;

    err->cls = cls;
    va_start(ap, fmt);
    vsnprintf(err->desc, sizeof(err->desc), fmt, ap);
    va_end(ap);
}

/* The deepest [ / { nesting outside strings, or 0 on a NUL byte. */
static size_t qmp_scan(const char *line, size_t len, bool *has_nul)
{
    size_t depth = 0, deepest = 0;
    bool in_string = false, escaped = false;

    *has_nul = false;
    for (size_t i = 0; i < len; i++) {
        char ch = line[i];

        if (ch == '\0') {
            *has_nul = true;
            return 0;
        }
        if (in_string) {
            if (escaped) {
                escaped = false;
            } else if (ch == '\\') {
                escaped = true;
            } else if (ch == '"') {
                in_string = false;
            }
        } else if (ch == '"') {
            in_string = true;
        } else if (ch == '[' || ch == '{') {
            depth++;
            deepest = MAX(deepest, depth);  /* MAX evaluates twice */
        } else if ((ch == ']' || ch == '}') && depth > 0) {
            depth--;
        }
    }
    return deepest;
}

static bool qmp_check_members(JsonObject *obj, QmpError *err)
{
    g_autoptr(GList) names = json_object_get_members(obj);

    for (GList *l = names; l; l = l->next) {
        const char *name = l->data;

        if (strcmp(name, "execute") && strcmp(name, "arguments") &&
            strcmp(name, "id")) {
            qmp_error_set(err, "GenericError",
                          "QMP input member '%.64s' is unexpected", name);
            return false;
        }
    }
    return true;
}

static bool qmp_request_fill(JsonObject *obj, QmpRequest *req, QmpError *err)
{
    JsonNode *exec = json_object_get_member(obj, "execute");
    JsonNode *args = json_object_get_member(obj, "arguments");

    if (json_object_has_member(obj, "id")) {
        req->id = json_node_copy(json_object_get_member(obj, "id"));
    }
    if (!exec) {
        qmp_error_set(err, "GenericError",
                      "QMP input lacks member 'execute'");
        return false;
    }
    if (!JSON_NODE_HOLDS_VALUE(exec) ||
        json_node_get_value_type(exec) != G_TYPE_STRING) {
        qmp_error_set(err, "GenericError",
                      "QMP input member 'execute' must be a string");
        return false;
    }
    if (args && !JSON_NODE_HOLDS_OBJECT(args)) {
        qmp_error_set(err, "GenericError",
                      "QMP input member 'arguments' must be an object");
        return false;
    }
    if (!qmp_check_members(obj, err)) {
        return false;
    }
    req->execute = g_strdup(json_node_get_string(exec));
    req->arguments = args ? json_object_ref(json_node_get_object(args))
                          : json_object_new();
    return true;
}

bool qmp_request_parse(const char *line, size_t len, QmpRequest *req,
                       QmpError *err)
{
    g_autoptr(JsonParser) parser = NULL;
    g_autoptr(GError) gerr = NULL;
    JsonNode *root;
    bool has_nul;
    size_t depth = qmp_scan(line, len, &has_nul);

    memset(req, 0, sizeof(*req));
    if (has_nul) {
        qmp_error_set(err, "GenericError", "NUL byte in the request line");
        return false;
    }
    if (depth > QMP_NESTING_MAX) {
        qmp_error_set(err, "GenericError", "JSON nested %zu deep, limit %d",
                      depth, QMP_NESTING_MAX);
        return false;
    }
    parser = json_parser_new_immutable();
    if (!json_parser_load_from_data(parser, line, (gssize)len, &gerr)) {
        qmp_error_set(err, "GenericError", "JSON parse error: %.120s",
                      gerr->message);
        return false;
    }
    root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        qmp_error_set(err, "GenericError", "QMP input must be a JSON object");
        return false;
    }
    if (!qmp_request_fill(json_node_get_object(root), req, err)) {
        g_free(req->execute);
        req->execute = NULL;
        return false;
    }
    return true;
}

void qmp_request_clear(QmpRequest *req)
{
    g_free(req->execute);
    if (req->arguments) {
        json_object_unref(req->arguments);
    }
    if (req->id) {
        json_node_unref(req->id);
    }
    memset(req, 0, sizeof(*req));
}

static char *qmp_reply(const char *key, JsonNode *value, JsonNode *id)
{
    g_autoptr(JsonGenerator) gen = json_generator_new();
    JsonObject *obj = json_object_new();
    JsonNode *root = json_node_init_object(json_node_alloc(), obj);
    char *text;

    json_object_set_member(obj, key, value);
    if (id) {
        json_object_set_member(obj, "id", json_node_copy(id));
    }
    json_generator_set_root(gen, root);
    text = json_generator_to_data(gen, NULL);
    json_node_unref(root);
    json_object_unref(obj);
    return text;
}

char *qmp_reply_return(JsonNode *value, JsonNode *id)
{
    JsonNode *v = value ? json_node_copy(value)
                        : json_node_init_object(json_node_alloc(), NULL);

    if (!value) {
        JsonObject *empty = json_object_new();

        json_node_take_object(v, empty);
    }
    return qmp_reply("return", v, id);
}

char *qmp_reply_error(const QmpError *err, JsonNode *id)
{
    JsonObject *e = json_object_new();
    JsonNode *v = json_node_alloc();

    json_object_set_string_member(e, "class", err->cls);
    json_object_set_string_member(e, "desc", err->desc);
    json_node_init_object(v, e);
    json_object_unref(e);
    return qmp_reply("error", v, id);
}
