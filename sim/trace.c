/*
 * sim/trace.c — the event trace and its hash.
 *
 * Method: every event gets a sequence number, the virtual time and the
 * running thread.  The hash (64-bit, a multiply-xorshift step per field)
 * covers every event's fields, names by content, never an address — so
 * equal runs hash equal across processes, optimisation levels and
 * compilers.  The event list itself is kept only when the run asked for a
 * trace; the hash always.
 */
#include <inttypes.h>
#include <string.h>

#include "world.h"

/*
 * One step of the hash: a word in, xor-multiply-xorshift (the multiplier
 * is an odd 64-bit constant from SplitMix64; the shift brings the
 * product's high bits back down, where the next multiplication spreads
 * them up again).  Each field of an event is one step — a name one step
 * per 8 bytes and one for its length.  FNV-1a, before, took a
 * multiplication per byte, one after the other: ~230 instructions an
 * event, a tenth of a fuzzer iteration's; this is ~40.  Plain integer
 * arithmetic on values, so the hash is the same across processes,
 * optimisation levels and compilers.
 */
#define TRACE_HASH_SEED UINT64_C(0xcbf29ce484222325)
#define TRACE_HASH_MUL UINT64_C(0xbf58476d1ce4e5b9)

static inline uint64_t hash_step(uint64_t h, uint64_t v)
{
    h = (h ^ v) * TRACE_HASH_MUL;
    return h ^ (h >> 29);
}

/* A name by content: 8-byte little-endian words, the last zero-padded,
 * then the length (a name and its zero padding are told apart).  Each
 * step is a bijection of the state for a given word, so no two states
 * merge. */
static uint64_t hash_name(uint64_t h, const char *name)
{
    size_t len = strlen(name), i;
    uint64_t word;

    for (i = 0; i + 8 <= len; i += 8) {
        memcpy(&word, name + i, 8);
        h = hash_step(h, GUINT64_FROM_LE(word));
    }
    word = 0;
    for (size_t k = 0; i + k < len; k++) {
        word |= (uint64_t)(uint8_t)name[i + k] << (8 * k);
    }
    h = hash_step(h, word);
    return hash_step(h, len);
}

/* The last world's event array, emptied: see world_spare (world.c). */
static GArray *events_spare;

void sim_trace_init(SimWorld *w)
{
    w->events = events_spare ? events_spare
                             : g_array_new(FALSE, FALSE, sizeof(SimEvent));
    events_spare = NULL;
    w->event_seq = 0;
    memset(w->kind_count, 0, sizeof(w->kind_count));
    w->hash = w->config.no_hash ? 0 : TRACE_HASH_SEED;
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
    if (!w->config.no_hash) {
        h = hash_step(w->hash, w->event_seq);
        h = hash_step(h, (uint64_t)w->now_ns);
        /* Thread and kind are small: one word.  No name: a length no name
         * has. */
        h = hash_step(h, (uint64_t)thread << 32 | kind);
        h = name ? hash_name(h, name) : hash_step(h, UINT64_MAX);
        h = hash_step(h, (uint64_t)arg);
        h = hash_step(h, (uint64_t)arg2);
        w->hash = h;
    }
    if (w->config.trace) {
        SimEvent ev = {
            .seq = w->event_seq, .time_ns = w->now_ns, .thread = thread,
            .kind = kind, .name = name ? g_intern_string(name) : NULL,
            .arg = arg, .arg2 = arg2,
        };
        g_array_append_val(w->events, ev);
    }
    w->event_seq++;
    if (kind < SIM_EV_KINDS_MAX) {
        w->kind_count[kind]++;
    }
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

bool sim_trace_keeps_names(void)
{
    SimWorld *w = sim_world_get();

    return w->config.trace || !w->config.no_hash;
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

_Static_assert(SIM_EV_MEMORY < SIM_EV_KINDS_MAX && QOS_EV_MAX < SIM_EV_KINDS_MAX,
               "an event kind without a count");

uint64_t sim_trace_kind_count(uint32_t kind)
{
    return kind < SIM_EV_KINDS_MAX ? sim_world_get()->kind_count[kind] : 0;
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
