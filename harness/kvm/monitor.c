/*
 * harness/kvm/monitor.c — the VM's monitor commands on the QMP server.
 *
 * Method: qmp-server.c owns the socket, the clients and the framing;
 * qmp-request.c the parsing.  This file is only the command table, run on
 * the main thread by main_loop_wait():
 *   {"execute":"query-status"}  -> {"return":{"status":"running",...}}
 *   {"execute":"send-console","arguments":{"data":"ls\n"}}
 *                               -> {"return":{"accepted":3}}
 *   {"execute":"quit"}          -> {"return":{}} and the VM stops
 * plus the server's own qmp_capabilities and query-monitor.
 */
#include <string.h>

#include "qmp-server.h"
#include "vmm.h"

static void mon_add_int(JsonBuilder *b, const char *name, uint64_t value)
{
    json_builder_set_member_name(b, name);
    json_builder_add_int_value(b, (gint64)value);
}

/* The host side's liveness: what a hostile client or a stuck console
 * would stop if it could block the main loop or a vCPU. */
static void mon_status_host(Vm *vm, JsonBuilder *b)
{
    uint64_t written, dropped, trapped, runs;

    serial_console_stats(&vm->serial, &written, &dropped);
    testdev_kick_stats(vm, &trapped, &runs);
    mon_add_int(b, "heartbeats", vm->heartbeats);
    mon_add_int(b, "loop-iterations", vm->loop_iterations);
    mon_add_int(b, "console-written", written);
    mon_add_int(b, "console-dropped", dropped);
    mon_add_int(b, "kicks-trapped", trapped);
    mon_add_int(b, "kick-runs", runs);
    if (vm->cfg.no_kvm) {
        mon_add_int(b, "fake-vcpu-lines",
                    __atomic_load_n(&vm->fake_lines, __ATOMIC_RELAXED));
    }
}

static JsonNode *mon_query_status(void *opaque, JsonObject *args,
                                  QmpError *err)
{
    Vm *vm = opaque;
    g_autoptr(JsonBuilder) b = json_builder_new();
    uint64_t doorbells, completions, exits = 0;

    testdev_stats(vm, &doorbells, &completions);
    for (int i = 0; i < vm->nr_vcpus; i++) {
        exits += __atomic_load_n(&vm->vcpus[i].exits, __ATOMIC_RELAXED);
    }
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "status");
    json_builder_add_string_value(b, vm_stopping(vm) ? "stopping"
                                                     : "running");
    json_builder_set_member_name(b, "marker-seen");
    json_builder_add_boolean_value(b, __atomic_load_n(
                                       &vm->result.marker_seen,
                                       __ATOMIC_ACQUIRE));
    json_builder_set_member_name(b, "uptime-ms");
    json_builder_add_int_value(b, (get_clock() - vm->start_ns) / SCALE_MS);
    json_builder_set_member_name(b, "exits");
    json_builder_add_int_value(b, (gint64)exits);
    json_builder_set_member_name(b, "doorbells");
    json_builder_add_int_value(b, (gint64)doorbells);
    json_builder_set_member_name(b, "completions");
    json_builder_add_int_value(b, (gint64)completions);
    mon_status_host(vm, b);
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

static JsonNode *mon_send_console(void *opaque, JsonObject *args,
                                  QmpError *err)
{
    Vm *vm = opaque;
    JsonNode *data = json_object_get_member(args, "data");
    g_autoptr(JsonBuilder) b = NULL;
    const char *text;
    size_t accepted;

    if (!data || !JSON_NODE_HOLDS_VALUE(data) ||
        json_node_get_value_type(data) != G_TYPE_STRING) {
        qmp_error_set(err, "GenericError",
                      "send-console needs a string argument 'data'");
        return NULL;
    }
    text = json_node_get_string(data);
    accepted = serial_input(&vm->serial, (const uint8_t *)text,
                            strlen(text));
    b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "accepted");
    json_builder_add_int_value(b, (gint64)accepted);
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

static JsonNode *mon_quit(void *opaque, JsonObject *args, QmpError *err)
{
    vm_request_stop(opaque, 0, "quit from the monitor");
    return NULL;
}

static const QmpCommand mon_commands[] = {
    { "query-status", mon_query_status },
    { "send-console", mon_send_console },
    { "quit", mon_quit },
    { NULL, NULL },
};

bool monitor_init(Vm *vm, const char *path, Error **errp)
{
    QmpLimits limits = QMP_LIMITS_DEFAULT;

    vm->monitor = qmp_server_new(path, mon_commands, vm, &limits, errp);
    return vm->monitor != NULL;
}

void monitor_close(Vm *vm)
{
    qmp_server_free(vm->monitor);
    vm->monitor = NULL;
}
