/*
 * sim/trace.c — the event trace and its hash.
 *
 * Method: every event gets a sequence number, the virtual time and the
 * running thread.  The hash (FNV-1a, 64-bit) covers every event's fields,
 * names by content, never an address — so equal runs hash equal across
 * processes, optimisation levels and compilers.  The event list itself is
 * kept only when the run asked for a trace; the hash always.
 */
#include <inttypes.h>
#include <string.h>

#include "world.h"

#define FNV_OFFSET UINT64_C(0xcbf29ce484222325)
#define FNV_PRIME UINT64_C(0x100000001b3)

static uint64_t fnv_bytes(uint64_t h, const void *data, size_t len)
{
    const uint8_t *p = data;

    for (size_t i = 0; i < len; i++) {
        h = (h ^ p[i]) * FNV_PRIME;
    }
    return h;
}

/* FNV_PRIME to the powers 0..8 (unsigned arithmetic wraps, as the hash's). */
#define FNV_P2 (FNV_PRIME * FNV_PRIME)
#define FNV_P4 (FNV_P2 * FNV_P2)
static const uint64_t fnv_prime_pow[9] = {
    1, FNV_PRIME, FNV_P2, FNV_P2 * FNV_PRIME, FNV_P4, FNV_P4 * FNV_PRIME,
    FNV_P4 * FNV_P2, FNV_P4 * FNV_P2 * FNV_PRIME, FNV_P4 * FNV_P4,
};

/*
 * The 8 bytes of v, least significant first.  A zero byte only multiplies
 * by the prime ((h ^ 0) * P), so the zero bytes above v's highest set byte
 * — most of a sequence number, a thread id, an event kind — fold into one
 * multiplication by a power of the prime: the same hash, in a third of the
 * multiplications (hashing every event was a tenth of a fuzzer iteration).
 */
static uint64_t fnv_u64(uint64_t h, uint64_t v)
{
    int bytes = v ? (71 - __builtin_clzll(v)) / 8 : 0;

    for (int i = 0; i < bytes; i++) {
        h = (h ^ (uint8_t)(v >> (8 * i))) * FNV_PRIME;
    }
    return h * fnv_prime_pow[8 - bytes];
}

/* The last world's event array, emptied: see world_spare (world.c). */
static GArray *events_spare;

void sim_trace_init(SimWorld *w)
{
    w->events = events_spare ? events_spare
                             : g_array_new(FALSE, FALSE, sizeof(SimEvent));
    events_spare = NULL;
    w->event_seq = 0;
    w->hash = FNV_OFFSET;
}

void sim_trace_fini(SimWorld *w)
{
    if (!events_spare) {
        g_array_set_size(w->events, 0);
        events_spare = w->events;
    } else {
        g_array_free(w->events, TRUE);
    }
    w->events = NULL;
}

void sim_trace_record(uint32_t kind, const char *name, int64_t arg)
{
    sim_trace_record2(kind, name, arg, 0);
}

void sim_trace_record2(uint32_t kind, const char *name, int64_t arg,
                       int64_t arg2)
{
    SimWorld *w = sim_world;
    uint32_t thread;
    uint64_t h;

    if (!w) {
        return;
    }
    thread = w->current ? w->current->id : 0;
    h = fnv_u64(w->hash, w->event_seq);
    h = fnv_u64(h, (uint64_t)w->now_ns);
    h = fnv_u64(h, thread);
    h = fnv_u64(h, kind);
    if (name) {
        h = fnv_bytes(h, name, strlen(name));
    }
    h = fnv_u64(h, (uint64_t)arg);
    h = fnv_u64(h, (uint64_t)arg2);
    w->hash = h;
    if (w->config.trace) {
        SimEvent ev = {
            .seq = w->event_seq, .time_ns = w->now_ns, .thread = thread,
            .kind = kind, .name = name ? g_intern_string(name) : NULL,
            .arg = arg, .arg2 = arg2,
        };
        g_array_append_val(w->events, ev);
    }
    w->event_seq++;
    if (w->config.observer && !w->ending) {
        SimEvent ev = {
            .seq = w->event_seq - 1, .time_ns = w->now_ns, .thread = thread,
            .kind = kind, .name = name, .arg = arg, .arg2 = arg2,
        };
        w->config.observer(&ev, w->config.observer_opaque);
    }
}

void sim_trace_core(int ev, const char *name, int64_t a, int64_t b)
{
    if (sim_world && sim_world->current != &sim_world->host) {
        sim_trace_record2((uint32_t)ev, name, a, b);
    }
}

void sim_trace_user(const char *name, int64_t arg)
{
    sim_world_get();
    sim_trace_record(SIM_EV_USER, name, arg);
}

const SimEvent *sim_trace_events(size_t *count)
{
    SimWorld *w = sim_world_get();

    *count = w->events->len;
    return (const SimEvent *)(void *)w->events->data;
}

uint64_t sim_trace_hash(void)
{
    return sim_world_get()->hash;
}

const char *sim_event_kind_name(uint32_t kind)
{
    static const char *const core[QOS_EV_MAX] = {
        [QOS_EV_BH_SCHEDULE] = "bh-schedule", [QOS_EV_BH_RUN] = "bh-run",
        [QOS_EV_BH_CANCEL] = "bh-cancel", [QOS_EV_BH_DELETE] = "bh-delete",
        [QOS_EV_FD_ADD] = "fd-add", [QOS_EV_FD_REMOVE] = "fd-remove",
        [QOS_EV_FD_CALL] = "fd-call", [QOS_EV_TIMER_ARM] = "timer-arm",
        [QOS_EV_TIMER_DEL] = "timer-del", [QOS_EV_TIMER_FIRE] = "timer-fire",
        [QOS_EV_NOTIFY] = "notify", [QOS_EV_NOTIFY_SET] = "notify-set",
        [QOS_EV_POLL_ENTER] = "poll-enter", [QOS_EV_POLL_EXIT] = "poll-exit",
        [QOS_EV_BH_PUSH] = "bh-push", [QOS_EV_BH_SLICE] = "bh-slice",
        [QOS_EV_BH_TAKE] = "bh-take", [QOS_EV_FD_ROUND] = "fd-round",
        [QOS_EV_TIMERS_RUN] = "timers-run", [QOS_EV_TIMERS_DONE] = "timers-done",
        [QOS_EV_FD_POLLED] = "fd-polled",
    };

    if (kind < QOS_EV_MAX) {
        return core[kind];
    }
    switch (kind) {
    case SIM_EV_SWITCH: return "switch";
    case SIM_EV_FAULT: return "fault";
    case SIM_EV_CLOCK: return "clock";
    case SIM_EV_THREAD_START: return "thread-start";
    case SIM_EV_THREAD_EXIT: return "thread-exit";
    case SIM_EV_BLOCK: return "block";
    case SIM_EV_USER: return "user";
    case SIM_EV_POLLER: return "poller";
    case SIM_EV_MEMORY: return "memory";
    }
    return "?";
}

void sim_trace_print(FILE *out)
{
    size_t n;
    const SimEvent *ev = sim_trace_events(&n);

    for (size_t i = 0; i < n; i++) {
        fprintf(out, "%6" PRIu64 " %12" PRId64 " t%-2u %-12s %s %" PRId64
                " %" PRId64 "\n", ev[i].seq, ev[i].time_ns, ev[i].thread,
                sim_event_kind_name(ev[i].kind),
                ev[i].name ? ev[i].name : "-", ev[i].arg, ev[i].arg2);
    }
}
