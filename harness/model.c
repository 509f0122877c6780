/*
 * harness/model.c — the reference model (see model.h).
 *
 * Method: a small state machine per object kind.  BHs: a flag set per id
 * (scheduled, pending, deleted, idle, oneshot, freed), a pending list kept
 * newest-first, and a FIFO of slices taken by aio_bh_poll; every bh-take
 * must be the model's next candidate with the flags the model expects, and
 * every bh-run must follow its own runnable take.  Timers: per clock, a
 * plain array of armed (id, expiry, arm order), scanned linearly for the
 * minimum — deliberately not a heap.  Handlers: a live flag per
 * registration and the last registration called in the current round.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "idmap.h"
#include "model.h"
#include "../loop/os.h"

/* BH flag bits as the trace reports them (loop/os.h, BH_* in the core). */
#define F_PENDING   1
#define F_SCHEDULED 2
#define F_ONESHOT   4
#define F_DELETED   8
#define F_IDLE      16
#define F_WAS_PENDING 0x8000

typedef struct {
    bool scheduled, pending, pushed, deleted, idle, oneshot, freed;
    bool run_idle;          /* taken as an idle BH: its run is no progress */
    bool run_due;           /* taken runnable, run not seen yet */
    uint32_t run_thread;
    const char *name;
} ModelBh;

typedef struct {
    int64_t *ids;           /* BH keys */
    uint32_t count, pos;
} ModelSlice;

/* One context: its pending list, its slices, its dispatch round. */
typedef struct {
    GArray *pending;        /* int64_t BH keys, index 0 = newest */
    GQueue slices;          /* ModelSlice *, oldest first */
    int64_t round_last;     /* last registration called in this round */
    int64_t awaiting_run;   /* BH taken to run, its run not seen yet (0) */
} ModelCtx;

typedef struct {
    bool armed;
    int64_t expire_ns;
    int64_t order;          /* among equal expiries: lower fires first */
    const char *name;
} ModelTimer;

/* Passes over one timer list can nest: a timer callback may poll, and the
 * inner pass takes its own snapshot; the outer one keeps its own after. */
#define MODEL_PASS_DEPTH_MAX 64

/* One timer list (context, clock). */
typedef struct {
    int64_t arm_order;      /* next order of a timer armed at >= 0 */
    int64_t head_order;     /* next order of one armed at < 0 (descending) */
    int64_t pass_ns[MODEL_PASS_DEPTH_MAX];  /* snapshots of running passes */
    unsigned passes;                        /* innermost last */
} ModelClock;

typedef struct {
    bool live;
    uint32_t removed_by;
} ModelHandler;

/*
 * aio_poll() calls in progress, innermost last: what each has done that
 * counts as progress (semantics.md: a non-idle BH ran, a handler other than
 * the context's notifier was called or reported ready by io_poll, a timer
 * fired).  Events inside a nested call count for the nested call only.
 */
#define MODEL_POLL_DEPTH_MAX 128
typedef struct {
    uint32_t thread;
    int64_t ctx;            /* context key (notifier fd << 32) */
    bool progress;
} ModelPoll;

/*
 * Blocking waits in progress (aio_poll(ctx, true), main_loop_wait(false)),
 * innermost last, for the spin oracle: the wake-up count when the wait
 * before each began, and what happened inside it.
 */
typedef struct {
    uint32_t thread;
    uint64_t window;        /* wake-ups seen when the wait two before began */
    bool dispatched;        /* a callback ran in it (any BH, a handler other
                               than a notifier, a timer) */
    bool notifier;          /* a context's notifier handler was called */
    int64_t timeout_ns;     /* its last poll's timeout (-2: no poll) */
} ModelSpinWait;

typedef struct {
    ModelSpinWait waits[MODEL_POLL_DEPTH_MAX];
    unsigned depth;
    uint64_t wakeups;       /* events that could end a wait, so far */
    uint64_t begin[2];      /* wakeups when the last two blocking waits
                               began, the last first */
    unsigned wasted;        /* consecutive wasted wake-ups */
    unsigned wasted_max;    /* the most seen in this run */
} ModelSpin;

/*
 * Signals (SIGIO, SIGALRM, SIGBUS: numbers below 32): raised and not yet
 * handled since, per number — a standard signal is one pending instance.
 */
typedef struct {
    bool pending[32];
    uint64_t raised_seq[32];    /* event of the first kill still pending */
} ModelSignals;

/*
 * qemu_clock_enable(): per clock type, as of the calls that returned.
 * While a call is in flight — or two raced and which came last is not
 * known — the state is unknown and no rule about the clock applies.
 */
#define MODEL_CLOCKS 4
typedef enum {
    MODEL_CLOCK_ENABLED,    /* the initial state */
    MODEL_CLOCK_DISABLED,
    MODEL_CLOCK_UNKNOWN,
} ModelClockState;

/* The context part of a main_loop_tlg timer's key (its lists have no
 * context in their trace key). */
#define MODEL_MAIN_LOOP_CTX 0
/* ModelPoll.ctx of a main_loop_wait(): it runs main-loop timers too. */
#define MODEL_CTX_MAIN_LOOP_WAIT (-2)

/*
 * Per thread, its aio_poll() wait in progress (QOS_EV_POLL_ENTER to
 * QOS_EV_POLL_EXIT): when it computed its timeout, the timeout, and when it
 * last blocked.  A thread preempted between the two sleeps until its
 * timeout counted from when it blocked — as a descheduled QEMU thread does
 * — so a timer it waits for fires late by the preemption, not by a fault
 * of the core (model_idle_jump).
 */
#define MODEL_WAITERS 64
typedef struct {
    bool polling, blocked;
    int64_t enter_ns, timeout_ns, block_ns;
    /* The time of the thread's latest event other than a switch to it,
     * plus one (0: none yet): a poll's timeout was computed after it. */
    int64_t acted_ns_plus1;
} ModelWaiter;

/* Objects are keyed by the trace's ids (context key | per-context id). */
struct Model {
    /* Kept, emptied, from one run to the next (model_free). */
    IdMap bh;               /* int64 key -> ModelBh */
    IdMap ctx;              /* int64 context key -> ModelCtx */
    IdMap timer;            /* int64 key -> ModelTimer */
    IdMap clock;            /* int64 list|clock key -> ModelClock */
    IdMap handler;          /* int64 key -> ModelHandler */
    /* Zeroed per run: everything from here on. */
    ModelPoll polls[MODEL_POLL_DEPTH_MAX];
    unsigned poll_depth;
    ModelCtx *ctx_last;     /* ctx_get()'s last answer, for its key */
    int64_t ctx_last_key;
    uint64_t bh_runs, timer_fires, fd_calls;
    uint64_t outcome;       /* FNV-1a over what ran */
    ModelSpin spin;
    ModelWaiter waiters[MODEL_WAITERS];
    ModelSignals sig;
    ModelClockState clock_state[MODEL_CLOCKS];
    uint64_t clock_changes[MODEL_CLOCKS];   /* enable/disable calls begun */
    unsigned clock_in_flight[MODEL_CLOCKS]; /* calls begun, not returned */
    bool clock_raced[MODEL_CLOCKS];         /* two of them overlapped */
    char story[1024];
};

static void outcome_add(Model *m, uint32_t kind, const char *name, int64_t id)
{
    uint64_t h = m->outcome ? m->outcome : UINT64_C(0xcbf29ce484222325);

    h = (h ^ kind) * UINT64_C(0x100000001b3);
    for (const char *p = name ? name : ""; *p; p++) {
        h = (h ^ (uint8_t)*p) * UINT64_C(0x100000001b3);
    }
    h = (h ^ (uint64_t)id) * UINT64_C(0x100000001b3);
    m->outcome = h;
}

uint64_t model_outcome_hash(const Model *m)
{
    return m->outcome;
}

/* A BH scheduled and pending (idle ones too, or not): the lowest key, so
 * the answer does not depend on table order.  NULL if none. */
static const ModelBh *bh_due(Model *m, bool idle_too)
{
    int64_t best = INT64_MAX, key;
    const ModelBh *due = NULL;

    for (uint32_t i = 0; i < m->bh.count; i++) {
        const ModelBh *b = idmap_at(&m->bh, i, &key);

        if (b->pending && b->scheduled && !b->deleted && b->name &&
            (idle_too || !b->idle) && key < best) {
            best = key;
            due = b;
        }
    }
    return due;
}

static bool timer_rules_apply(Model *m, int64_t key);

bool model_pending_work(Model *m, char *buf, size_t len)
{
    int64_t best = INT64_MAX, key;
    const char *best_name = NULL;
    const ModelBh *due = bh_due(m, true);

    if (due) {
        g_snprintf(buf, len, "BH '%s' is scheduled and pending", due->name);
        return true;
    }
    /* An armed timer: a waiter's timeout should have covered it — unless
     * it lies past the end of simulated time, or on QEMU_CLOCK_HOST, whose
     * jumps may carry it there. */
    for (uint32_t i = 0; i < m->timer.count; i++) {
        ModelTimer *t = idmap_at(&m->timer, i, &key);
        int clock = (int)((key >> 32) & 15);

        if (t->armed && t->expire_ns < SIM_END_OF_TIME_NS && clock != 2 &&
            timer_rules_apply(m, key) && key < best) {
            best = key;
            best_name = t->name ? t->name : "?";
        }
    }
    if (best_name) {
        g_snprintf(buf, len, "timer '%s' is armed", best_name);
        return true;
    }
    return false;
}

#define CTX_OF(key) ((key) & ~(int64_t)0xffffffff)
#define CLOCK_OF(key) ((key) & ~(int64_t)0xffffffff)

static void ctx_fini(void *p)
{
    ModelCtx *c = p;

    if (c->pending) {
        g_array_free(c->pending, TRUE);
    }
    while (!g_queue_is_empty(&c->slices)) {
        ModelSlice *s = g_queue_pop_head(&c->slices);

        g_free(s->ids);
        g_free(s);
    }
}

static ModelCtx *ctx_get(Model *m, int64_t key)
{
    ModelCtx *c;

    /* Most events are of the context the last one was of. */
    if (m->ctx_last && m->ctx_last_key == CTX_OF(key)) {
        return m->ctx_last;
    }
    c = idmap_get(&m->ctx, CTX_OF(key));
    if (!c->pending) {
        c->pending = g_array_new(FALSE, FALSE, sizeof(int64_t));
        g_queue_init(&c->slices);
        c->round_last = -1;
    }
    m->ctx_last = c;        /* records never move until the model is freed */
    m->ctx_last_key = CTX_OF(key);
    return c;
}

/* The last freed model, emptied: a run's model costs no allocation. */
static Model *model_spare;

Model *model_new(void)
{
    Model *m = model_spare;

    if (m) {
        model_spare = NULL;
    } else {
        m = g_new(Model, 1);
        idmap_init(&m->bh, sizeof(ModelBh));
        idmap_init(&m->ctx, sizeof(ModelCtx));
        idmap_init(&m->timer, sizeof(ModelTimer));
        idmap_init(&m->clock, sizeof(ModelClock));
        idmap_init(&m->handler, sizeof(ModelHandler));
    }
    memset(&m->polls, 0, sizeof(*m) - offsetof(Model, polls));
    return m;
}

static void slice_free(gpointer p)
{
    ModelSlice *s = p;

    g_free(s->ids);
    g_free(s);
}

void model_free(Model *m)
{
    idmap_clear(&m->bh, NULL);
    idmap_clear(&m->ctx, ctx_fini);
    idmap_clear(&m->timer, NULL);
    idmap_clear(&m->clock, NULL);
    idmap_clear(&m->handler, NULL);
    if (!model_spare) {
        model_spare = m;
        return;
    }
    idmap_destroy(&m->bh, NULL);
    idmap_destroy(&m->ctx, NULL);
    idmap_destroy(&m->timer, NULL);
    idmap_destroy(&m->clock, NULL);
    idmap_destroy(&m->handler, NULL);
    g_free(m);
}

void model_name_timer(Model *m, int64_t key, const char *name)
{
    ModelTimer *t = idmap_get(&m->timer, key);

    t->name = name;
}

uint64_t model_bh_runs(const Model *m) { return m->bh_runs; }
uint64_t model_timer_fires(const Model *m) { return m->timer_fires; }
uint64_t model_fd_calls(const Model *m) { return m->fd_calls; }

static const char *fail(Model *m, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static const char *fail(Model *m, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    g_vsnprintf(m->story, sizeof(m->story), fmt, ap);
    va_end(ap);
    return m->story;
}

static const char *bh_name(const ModelBh *b)
{
    return b->name ? b->name : "?";
}

/* ---- aio_poll progress ------------------------------------------------- */

/* Something that counts as progress happened on context ctx_key. */
static void poll_progress(Model *m, uint32_t thread, int64_t ctx_key)
{
    if (m->poll_depth > 0) {
        ModelPoll *p = &m->polls[m->poll_depth - 1];

        if (p->thread == thread && p->ctx == ctx_key) {
            p->progress = true;
        }
    }
}

void model_poll_begin(Model *m, uint32_t thread, int64_t ctx_key)
{
    if (m->poll_depth < MODEL_POLL_DEPTH_MAX) {
        m->polls[m->poll_depth] = (ModelPoll){ thread, ctx_key, false };
    }
    m->poll_depth++;
}

void model_wait_begin(Model *m, uint32_t thread)
{
    model_poll_begin(m, thread, -1);    /* -1: no context key matches */
}

void model_wait_end(Model *m)
{
    if (m->poll_depth > 0) {
        m->poll_depth--;
    }
}

const char *model_poll_end(Model *m, bool progress)
{
    ModelPoll *p;

    if (m->poll_depth == 0) {
        return fail(m, "model: aio_poll() ended that never began");
    }
    m->poll_depth--;
    if (m->poll_depth >= MODEL_POLL_DEPTH_MAX) {
        return NULL;    /* too deep to have been recorded */
    }
    p = &m->polls[m->poll_depth];
    if (p->progress != progress) {
        return fail(m, "progress: aio_poll() returned %s, but %s",
                    progress ? "true" : "false",
                    p->progress ? "a non-idle BH ran, a handler was called or "
                                  "polled ready, or a timer fired in it"
                                : "nothing that counts as progress happened "
                                  "in it (no non-idle BH, no handler but the "
                                  "context's notifier, no timer)");
    }
    return NULL;
}

/* ---- bottom halves ----------------------------------------------------- */

static ModelBh *bh_get(Model *m, const SimEvent *ev)
{
    ModelBh *b = idmap_get(&m->bh, ev->arg);

    if (!b->name) {
        b->name = ev->name;
    }
    return b;
}

static ModelBh *bh_by_key(Model *m, int64_t key)
{
    return idmap_lookup(&m->bh, key);
}

static const char *bh_enqueue(Model *m, const SimEvent *ev, ModelBh *b)
{
    unsigned flags = (unsigned)ev->arg2;
    bool was_pending = flags & F_WAS_PENDING;

    if (b->freed) {
        return fail(m, "use after free: BH '%s' (id %" PRId64 ") was scheduled "
                    "or deleted after it had been freed", bh_name(b),
                    ev->arg & 0xffffffff);
    }
    if (was_pending != b->pending) {
        return fail(m, "merge: BH '%s' was %s according to the core but %s "
                    "according to the model", bh_name(b),
                    was_pending ? "already pending" : "not pending",
                    b->pending ? "pending" : "not pending");
    }
    b->scheduled |= (flags & F_SCHEDULED) != 0;
    b->idle |= (flags & F_IDLE) != 0;
    b->oneshot |= (flags & F_ONESHOT) != 0;
    b->deleted |= (flags & F_DELETED) != 0;
    if (!b->pending) {
        b->pending = true;
        b->pushed = false;      /* the push follows */
    }
    return NULL;
}

static const char *bh_push(Model *m, const SimEvent *ev, ModelBh *b)
{
    int64_t key = ev->arg;

    if (!b->pending || b->pushed) {
        return fail(m, "merge: BH '%s' pushed on the pending list twice",
                    bh_name(b));
    }
    b->pushed = true;
    g_array_prepend_val(ctx_get(m, key)->pending, key);     /* newest first */
    return NULL;
}

static void bh_slice(Model *m, int64_t ctx_key)
{
    ModelCtx *c = ctx_get(m, ctx_key);
    ModelSlice *s;

    /* Nothing pending: an empty slice would only be skipped and freed by
     * bh_next_expected().  Most polls slice an empty list, and four
     * allocations each were a visible share of a fuzzer iteration. */
    if (c->pending->len == 0) {
        return;
    }
    s = g_new0(ModelSlice, 1);
    s->count = c->pending->len;
    s->ids = (int64_t *)(void *)g_array_free(c->pending, FALSE);
    c->pending = g_array_new(FALSE, FALSE, sizeof(int64_t));
    g_queue_push_tail(&c->slices, s);
}

/* The next BH a poll must take: the head of the oldest non-empty slice. */
static bool bh_next_expected(ModelCtx *c, int64_t *key)
{
    ModelSlice *s;

    while ((s = g_queue_peek_head(&c->slices))) {
        if (s->pos < s->count) {
            *key = s->ids[s->pos];
            return true;
        }
        slice_free(g_queue_pop_head(&c->slices));
    }
    return false;
}

/* A BH taken to run runs before its poll does anything else. */
static const char *bh_check_ran(Model *m, ModelCtx *c)
{
    ModelBh *due;

    if (!c->awaiting_run) {
        return NULL;
    }
    due = bh_by_key(m, c->awaiting_run);
    return fail(m, "liveness: BH '%s' was scheduled and taken to run, but its "
                "callback never ran (a BH is skipped only when cancelled or "
                "deleted)", due ? bh_name(due) : "?");
}

static const char *bh_take(Model *m, const SimEvent *ev, ModelBh *b)
{
    unsigned flags = (unsigned)ev->arg2;
    ModelCtx *c = ctx_get(m, ev->arg);
    int64_t expected;
    ModelSlice *s;
    const char *why = bh_check_ran(m, c);

    if (why) {
        return why;
    }

    if (!bh_next_expected(c, &expected)) {
        return fail(m, "ordering: BH '%s' was taken, but no slice holds a "
                    "pending BH", bh_name(b));
    }
    if (expected != ev->arg) {
        return fail(m, "ordering: BH '%s' was taken, but '%s' is next "
                    "(newest first by first enqueue; nested polls finish "
                    "outer slices first)", bh_name(b),
                    bh_name(bh_by_key(m, expected)));
    }
    if (((flags & F_SCHEDULED) != 0) != b->scheduled ||
        ((flags & F_DELETED) != 0) != b->deleted) {
        return fail(m, "flags: BH '%s' taken as %s%s, model has %s%s",
                    bh_name(b), flags & F_SCHEDULED ? "scheduled" : "cancelled",
                    flags & F_DELETED ? "+deleted" : "",
                    b->scheduled ? "scheduled" : "cancelled",
                    b->deleted ? "+deleted" : "");
    }
    s = g_queue_peek_head(&c->slices);
    s->pos++;
    b->run_due = b->scheduled && !b->deleted;
    b->run_idle = (flags & F_IDLE) != 0;
    b->run_thread = ev->thread;
    c->awaiting_run = b->run_due ? ev->arg : 0;
    b->pending = b->pushed = b->scheduled = b->idle = false;
    if (b->deleted || b->oneshot) {
        b->freed = !b->run_due;     /* a oneshot is freed after its run */
    }
    return NULL;
}

static const char *bh_run(Model *m, const SimEvent *ev, ModelBh *b)
{
    if (!b->run_due) {
        return fail(m, "safety: BH '%s' ran but it was %s when taken",
                    bh_name(b), b->deleted ? "deleted" :
                    b->freed ? "freed" : "not scheduled (cancelled or merged)");
    }
    if (b->run_thread != ev->thread) {
        return fail(m, "safety: BH '%s' taken by thread %u but run by %u",
                    bh_name(b), b->run_thread, ev->thread);
    }
    b->run_due = false;
    if (!b->run_idle) {
        poll_progress(m, ev->thread, CTX_OF(ev->arg));
    }
    if (ctx_get(m, ev->arg)->awaiting_run == ev->arg) {
        ctx_get(m, ev->arg)->awaiting_run = 0;
    }
    if (b->oneshot) {
        b->freed = true;
    }
    m->bh_runs++;
    outcome_add(m, ev->kind, b->name, 0);
    return NULL;
}

static const char *model_bh_event(Model *m, const SimEvent *ev)
{
    ModelBh *b;

    if (ev->kind == QOS_EV_BH_SLICE) {
        const char *why = bh_check_ran(m, ctx_get(m, ev->arg));

        bh_slice(m, ev->arg);
        return why;
    }
    b = bh_get(m, ev);
    switch (ev->kind) {
    case QOS_EV_BH_SCHEDULE:
    case QOS_EV_BH_DELETE:
        return bh_enqueue(m, ev, b);
    case QOS_EV_BH_PUSH:
        return bh_push(m, ev, b);
    case QOS_EV_BH_CANCEL:
        if (b->freed) {
            return fail(m, "use after free: BH '%s' cancelled after it was "
                        "freed", bh_name(b));
        }
        b->scheduled = false;
        return NULL;
    case QOS_EV_BH_TAKE:
        return bh_take(m, ev, b);
    case QOS_EV_BH_RUN:
        return bh_run(m, ev, b);
    }
    return NULL;
}

/* ---- timers ------------------------------------------------------------ */

static const char *timer_label(Model *m, int64_t key, char *buf, size_t len)
{
    ModelTimer *t = idmap_lookup(&m->timer, key);

    if (t && t->name) {
        return t->name;
    }
    g_snprintf(buf, len, "clock%d/timer%u", (int)((key >> 32) & 15),
               (unsigned)key);
    return buf;
}

/* The armed timer of a list that must fire first: (expiry, arm order).
 * A linear scan on purpose: the model trades speed for obviousness. */
static bool timer_first(Model *m, int64_t clock_key, int64_t *first_key,
                        ModelTimer **first)
{
    int64_t key;

    *first = NULL;
    for (uint32_t i = 0; i < m->timer.count; i++) {
        ModelTimer *t = idmap_at(&m->timer, i, &key);

        if (!t->armed || CLOCK_OF(key) != clock_key) {
            continue;
        }
        if (!*first || t->expire_ns < (*first)->expire_ns ||
            (t->expire_ns == (*first)->expire_ns && t->order < (*first)->order)) {
            *first = t;
            *first_key = key;
        }
    }
    return *first != NULL;
}

static const char *const model_clock_names[MODEL_CLOCKS] = {
    "QEMU_CLOCK_REALTIME", "QEMU_CLOCK_VIRTUAL", "QEMU_CLOCK_HOST",
    "QEMU_CLOCK_VIRTUAL_RT",
};

static const char *model_timer_event(Model *m, const SimEvent *ev)
{
    ModelClock *clk = idmap_get(&m->clock, CLOCK_OF(ev->arg));
    ModelTimer *t, *first;
    int64_t first_key, snapshot_ns;
    char a[48], b[48];

    switch (ev->kind) {
    case QOS_EV_TIMERS_RUN:
        if (clk->passes == MODEL_PASS_DEPTH_MAX) {
            return fail(m, "model: more than %d nested timer passes",
                        MODEL_PASS_DEPTH_MAX);
        }
        clk->pass_ns[clk->passes++] = ev->arg2;
        return NULL;
    case QOS_EV_TIMERS_DONE:
        /* `<=`: every timer due at the snapshot fired in this pass. */
        if (timer_first(m, CLOCK_OF(ev->arg), &first_key, &first) &&
            first->expire_ns <= ev->arg2) {
            return fail(m, "timing: timer %s (expiry %" PRId64 " ns) was due "
                        "at the pass's snapshot %" PRId64 " ns but did not "
                        "fire", timer_label(m, first_key, a, sizeof(a)),
                        first->expire_ns, ev->arg2);
        }
        if (clk->passes == 0) {
            return fail(m, "model: timers-done without timers-run");
        }
        clk->passes--;
        return NULL;
    }
    t = idmap_get(&m->timer, ev->arg);
    switch (ev->kind) {
    case QOS_EV_TIMER_ARM:
        /*
         * The event carries the requested expiry.  QEMU stores MAX(req, 0)
         * but searches its sorted list with the request: a negative request
         * goes before every stored expiry, so it lands at the head — LIFO
         * among negative requests.
         */
        t->armed = true;
        t->expire_ns = ev->arg2 < 0 ? 0 : ev->arg2;
        t->order = ev->arg2 < 0 ? --clk->head_order : clk->arm_order++;
        return NULL;
    case QOS_EV_TIMER_DEL:
        t->armed = false;
        return NULL;
    case QOS_EV_TIMER_FIRE:
        if (m->clock_state[(ev->arg >> 32) & 3] == MODEL_CLOCK_DISABLED) {
            return fail(m, "clock: timer %s fired after qemu_clock_enable(%s, "
                        "false) returned (a disabled clock's timers do not "
                        "run, and disabling waits for a pass in progress)",
                        timer_label(m, ev->arg, a, sizeof(a)),
                        model_clock_names[(ev->arg >> 32) & 3]);
        }
        if (!t->armed) {
            return fail(m, "safety: timer %s fired but was not armed",
                        timer_label(m, ev->arg, a, sizeof(a)));
        }
        snapshot_ns = clk->passes ? clk->pass_ns[clk->passes - 1] : -1;
        if (t->expire_ns > snapshot_ns) {
            return fail(m, "timing: timer %s fired early: expires at %" PRId64
                        " ns, clock snapshot %" PRId64 " ns",
                        timer_label(m, ev->arg, a, sizeof(a)), t->expire_ns,
                        snapshot_ns);
        }
        timer_first(m, CLOCK_OF(ev->arg), &first_key, &first);
        if (first != t) {
            return fail(m, "ordering: timer %s fired, but %s is due first "
                        "(earliest expiry, then arm order)",
                        timer_label(m, ev->arg, a, sizeof(a)),
                        timer_label(m, first_key, b, sizeof(b)));
        }
        t->armed = false;
        /* The list key is the context key shifted by 4 (loop/os.h). */
        poll_progress(m, ev->thread, (ev->arg >> 36) << 32);
        m->timer_fires++;
        outcome_add(m, ev->kind, t->name, ev->arg & 0xffffffff);
        return NULL;
    }
    return NULL;
}

/*
 * Virtual time jumped to T because every thread waited.  A waiter's timeout
 * must end at the earliest armed timer of its context (rounded up to the
 * ms on the GSource path), so no timer on a clock that follows virtual time
 * may expire more than MODEL_LATE_SLACK_NS before T: it would fire late.  (A scenario's
 * own `advance` may legitimately carry time past deadlines; it is a
 * different event.)  QEMU_CLOCK_HOST jumps on its own and is left out.
 */
/* 1 ms of rounding up on the GSource path, plus the time that passes
 * between computing a timeout and sleeping (clock reads cost time when a
 * scenario busy-polls): a late timer proper is late by its whole period. */
#define MODEL_LATE_SLACK_NS 2000000

/*
 * ... and no (non-idle) BH may be scheduled and pending then: its schedule
 * made the context's timeout 0 or notified the waiter, so a sleep that only
 * a deadline ended — an unrelated timer's, a poll's timeout — lost its
 * wake-up, however soon the timer came.  Idle BHs allow a sleep of 10 ms.
 */
static const char *model_idle_jump_bh(Model *m, const SimEvent *ev)
{
    const ModelBh *due = bh_due(m, false);

    if (!due) {
        return NULL;
    }
    return fail(m, "liveness: every thread waited until %" PRId64 " ns while "
                "BH '%s' was scheduled and pending: a wake-up was lost, and "
                "only a deadline ended the wait", ev->arg, bh_name(due));
}

static void waiter_event(Model *m, const SimEvent *ev)
{
    ModelWaiter *w;

    if (ev->thread >= MODEL_WAITERS) {
        return;
    }
    w = &m->waiters[ev->thread];
    switch (ev->kind) {
    case QOS_EV_POLL_ENTER:
        /*
         * The timeout was computed from a clock read between the thread's
         * previous event and this one: while it was switched out in
         * between, another thread's `advance` may have moved time, and
         * the poll then sleeps its whole timeout from the later time.
         */
        *w = (ModelWaiter){
            .polling = true, .timeout_ns = ev->arg,
            .enter_ns = w->acted_ns_plus1 > 0
                        ? MIN(ev->time_ns, w->acted_ns_plus1 - 1)
                        : ev->time_ns,
        };
        break;
    case QOS_EV_POLL_EXIT:
        w->polling = false;
        break;
    case SIM_EV_BLOCK:
        if (w->polling) {
            w->blocked = true;
            w->block_ns = ev->time_ns;
        }
        break;
    }
    if (ev->kind != SIM_EV_SWITCH) {
        w->acted_ns_plus1 = ev->time_ns + 1;
    }
}

/*
 * The deadline timers are judged by when time jumps to jump_ns: jump_ns
 * itself, or earlier — the deadline a waiter computed, when that waiter
 * was preempted between computing its timeout and sleeping, and its
 * deadline, counted from when it did sleep, is the one that ended the
 * wait (it lies between the two).
 */
static int64_t idle_jump_due_by(const Model *m, int64_t jump_ns)
{
    int64_t due_by = jump_ns;

    for (unsigned i = 0; i < MODEL_WAITERS; i++) {
        const ModelWaiter *w = &m->waiters[i];
        int64_t computed_ns, slept_ns;

        if (!w->polling || !w->blocked || w->timeout_ns < 0 ||
            __builtin_add_overflow(w->enter_ns, w->timeout_ns, &computed_ns) ||
            __builtin_add_overflow(w->block_ns, w->timeout_ns, &slept_ns)) {
            continue;
        }
        if (computed_ns <= jump_ns && jump_ns <= slept_ns &&
            computed_ns < due_by) {
            due_by = computed_ns;
        }
    }
    return due_by;
}

static const char *model_idle_jump(Model *m, const SimEvent *ev)
{
    int64_t late_key = INT64_MAX, key;
    int64_t due_by_ns = idle_jump_due_by(m, ev->arg);
    const ModelTimer *late = NULL;
    char a[48];

    for (uint32_t i = 0; i < m->timer.count; i++) {
        const ModelTimer *t = idmap_at(&m->timer, i, &key);
        int clock = (int)((key >> 32) & 15);

        if (t->armed && clock != 2 /* QEMU_CLOCK_HOST */ &&
            t->expire_ns < due_by_ns - MODEL_LATE_SLACK_NS &&
            timer_rules_apply(m, key) && key < late_key) {
            late = t;
            late_key = key;
        }
    }
    if (!late) {
        return model_idle_jump_bh(m, ev);
    }
    return fail(m, "timing: timer %s (expiry %" PRId64 " ns) is late: every "
                "thread waited until %" PRId64 " ns, past its deadline (a "
                "waiter's timeout ignored it, or a re-arm did not wake it)",
                timer_label(m, late_key, a, sizeof(a)), late->expire_ns,
                ev->arg);
}

/* ---- clocks and timer queries -------------------------------------------- */

/*
 * Whether the liveness rules (late timers, work due at a hang) hold for a
 * timer: not while its clock is disabled (its timers set no deadline) or
 * its state unknown, and a main-loop timer only inside main_loop_wait(),
 * the one wait whose timeout includes main_loop_tlg's deadline.
 */
static bool timer_rules_apply(Model *m, int64_t key)
{
    bool main_loop_timer = (key >> 36) == MODEL_MAIN_LOOP_CTX;

    if (m->clock_state[(key >> 32) & 3] != MODEL_CLOCK_ENABLED) {
        return false;
    }
    return !main_loop_timer ||
           (m->poll_depth > 0 && m->poll_depth <= MODEL_POLL_DEPTH_MAX &&
            m->polls[m->poll_depth - 1].ctx == MODEL_CTX_MAIN_LOOP_WAIT);
}

void model_main_loop_wait_begin(Model *m, uint32_t thread)
{
    model_poll_begin(m, thread, MODEL_CTX_MAIN_LOOP_WAIT);
}

void model_clock_enable_begin(Model *m, int clock)
{
    if (m->clock_in_flight[clock & 3]++ > 0) {
        m->clock_raced[clock & 3] = true;
    }
    m->clock_state[clock & 3] = MODEL_CLOCK_UNKNOWN;
    m->clock_changes[clock & 3]++;
}

/*
 * A call returned.  Its state holds only if no other call on the clock
 * overlapped it: qemu_clock_enable() exchanges 'enabled' after a
 * scheduling point, and QEMU's callers serialize through the BQL, so of two
 * overlapping calls either exchange may come last — even that of the call
 * that returned first, if it was preempted before its exchange while the
 * other ran whole.  After an overlap the state stays unknown until a call
 * runs alone.
 */
void model_clock_enable_end(Model *m, int clock, bool enabled)
{
    g_assert(m->clock_in_flight[clock & 3] > 0);
    if (!m->clock_raced[clock & 3]) {
        m->clock_state[clock & 3] = enabled ? MODEL_CLOCK_ENABLED
                                            : MODEL_CLOCK_DISABLED;
    }
    if (--m->clock_in_flight[clock & 3] == 0) {
        m->clock_raced[clock & 3] = false;
    }
}

uint64_t model_clock_calls(const Model *m, int clock)
{
    return m->clock_changes[clock & 3];
}

int model_clock_enabled(const Model *m, int clock)
{
    switch (m->clock_state[clock & 3]) {
    case MODEL_CLOCK_ENABLED: return 1;
    case MODEL_CLOCK_DISABLED: return 0;
    default: return -1;
    }
}

bool model_timer_armed(Model *m, int64_t key, int64_t *expire_ns)
{
    ModelTimer *t = idmap_lookup(&m->timer, key);

    if (!t || !t->armed) {
        return false;
    }
    *expire_ns = t->expire_ns;
    return true;
}

bool model_list_first(Model *m, int64_t key, int64_t *expire_ns)
{
    ModelTimer *first;
    int64_t first_key;

    if (!timer_first(m, CLOCK_OF(key), &first_key, &first)) {
        return false;
    }
    *expire_ns = first->expire_ns;
    return true;
}

/* ---- fd handlers --------------------------------------------------------- */

static const char *model_fd_event(Model *m, const SimEvent *ev)
{
    ModelHandler *h;
    ModelCtx *c = ctx_get(m, ev->arg);
    int64_t reg = ev->arg & 0xffffffff;

    if (ev->kind == QOS_EV_FD_ROUND) {
        c->round_last = -1;
        return NULL;
    }
    /* The context's own notifier (its fd is the context key) is never
     * progress. */
    if ((ev->kind == QOS_EV_FD_CALL || ev->kind == QOS_EV_FD_POLLED) &&
        ev->arg2 != (CTX_OF(ev->arg) >> 32)) {
        poll_progress(m, ev->thread, CTX_OF(ev->arg));
    }
    if (ev->kind == QOS_EV_FD_POLLED) {
        return NULL;
    }
    h = idmap_get(&m->handler, ev->arg);
    switch (ev->kind) {
    case QOS_EV_FD_ADD:
        h->live = true;
        return NULL;
    case QOS_EV_FD_REMOVE:
        h->live = false;
        h->removed_by = ev->thread;
        return NULL;
    case QOS_EV_FD_CALL:
        /* Removal by another thread races with a call in flight (as in
         * QEMU); removal by the dispatching thread itself never does. */
        if (!h->live && h->removed_by == ev->thread) {
            return fail(m, "safety: handler of fd %" PRId64 " (registration %"
                        PRId64 ") called after it was removed", ev->arg2, reg);
        }
        if (reg < c->round_last) {
            return fail(m, "ordering: handler registration %" PRId64 " ran "
                        "after registration %" PRId64 " in one round "
                        "(registration order, oldest first)", reg,
                        c->round_last);
        }
        c->round_last = reg;
        m->fd_calls++;
        outcome_add(m, ev->kind, ev->name, ev->arg2);
        return NULL;
    }
    return NULL;
}

/* ---- spin: blocking waits woken for nothing ------------------------------ */

/*
 * What could end a blocking wait, from the trace: an aio_notify() (of any
 * context: qemu_notify_event, a BH scheduled, a timer armed, a handler
 * (un)registered all notify), a BH scheduled, a timer armed, an external fd
 * raised or lowered, a signal, virtual time jumping because every thread
 * waited (a timeout ended), the scenario's advance or host-clock jump, an
 * injected fault (spurious wake-up, EINTR, early return...), or the hang
 * resolver cutting every wait short.  Clock reads that cost time (busy
 * polling) are not among them: a deadline they reach is a timer due, which
 * model_spin_end() looks at.  The window opens when the wait two before
 * began: an aio_notify() during a wait may end the next one twice over —
 * its 'notified' keeps that one from sleeping, and its eventfd write (the
 * notifier stays readable until read) wakes the one after.
 */
static bool spin_wakeup(const SimEvent *ev)
{
    switch (ev->kind) {
    case QOS_EV_NOTIFY:
    case QOS_EV_NOTIFY_SET:
    case QOS_EV_BH_SCHEDULE:
    case QOS_EV_TIMER_ARM:
    case SIM_EV_FAULT:
        return true;
    case SIM_EV_CLOCK:
        return sim_event_name_is(ev, "idle");
    case SIM_EV_USER:
        return sim_event_name_is(ev, "external") ||
               sim_event_name_is(ev, "signal") ||
               sim_event_name_is(ev, "advance") ||
               sim_event_name_is(ev, "jump") ||
               sim_event_name_has_prefix(ev, "every wait cut short");
    }
    return false;
}

static void spin_event(Model *m, const SimEvent *ev)
{
    ModelSpin *sp = &m->spin;
    bool dispatch = false, notifier = false;

    if (spin_wakeup(ev)) {
        sp->wakeups++;
        return;
    }
    switch (ev->kind) {
    case QOS_EV_BH_RUN:
    case QOS_EV_TIMER_FIRE:
        dispatch = true;
        break;
    case QOS_EV_FD_CALL:
    case QOS_EV_FD_POLLED:
        /* A context's own notifier (its fd is the context key) ended the
         * wait, but called nothing. */
        notifier = ev->arg2 == (CTX_OF(ev->arg) >> 32);
        dispatch = !notifier;
        break;
    case QOS_EV_POLL_ENTER:
        break;
    default:
        return;
    }
    for (unsigned i = 0; i < sp->depth && i < MODEL_POLL_DEPTH_MAX; i++) {
        ModelSpinWait *w = &sp->waits[i];

        if (w->thread != ev->thread) {
            continue;
        }
        w->dispatched |= dispatch;
        w->notifier |= notifier;
        if (ev->kind == QOS_EV_POLL_ENTER && i + 1 == sp->depth) {
            w->timeout_ns = ev->arg;
        }
    }
}

void model_spin_begin(Model *m, uint32_t thread)
{
    ModelSpin *sp = &m->spin;

    if (sp->depth < MODEL_POLL_DEPTH_MAX) {
        sp->waits[sp->depth] = (ModelSpinWait){
            .thread = thread, .window = sp->begin[1], .timeout_ns = -2,
        };
    }
    sp->depth++;
    sp->begin[1] = sp->begin[0];
    sp->begin[0] = sp->wakeups;
}

/* A timer (of a clock that follows virtual time) due by now: a wake-up
 * for it is no waste.  Not one due soon: every path rounds a timeout up
 * (the GSource's to the ms), so a wait for a timer never ends before it;
 * one that does wasted its wake-up, and one rounded down spins. */
static bool spin_timer_due(Model *m, int64_t now_ns)
{
    int64_t key;

    for (uint32_t i = 0; i < m->timer.count; i++) {
        const ModelTimer *t = idmap_at(&m->timer, i, &key);
        int clock = (int)((key >> 32) & 15);

        if (t->armed && clock != 2 /* QEMU_CLOCK_HOST */ &&
            t->expire_ns <= now_ns) {
            return true;
        }
    }
    return false;
}

const char *model_spin_end(Model *m, const char *what, bool progress,
                           bool excused, unsigned limit)
{
    ModelSpin *sp = &m->spin;
    ModelSpinWait w;
    char how[160];

    if (sp->depth == 0) {
        return fail(m, "model: a blocking wait ended that never began");
    }
    sp->depth--;
    if (sp->depth >= MODEL_POLL_DEPTH_MAX) {
        return NULL;
    }
    w = sp->waits[sp->depth];
    if (progress || excused || w.dispatched || sp->wakeups != w.window ||
        spin_timer_due(m, sim_now_ns())) {
        sp->wasted = 0;
        return NULL;
    }
    sp->wasted++;
    sp->wasted_max = MAX(sp->wasted_max, sp->wasted);
    if (sp->wasted < limit) {
        return NULL;
    }
    if (w.notifier) {
        g_strlcpy(how, "was woken by a context's own notifier, set with no "
                  "aio_notify() since (an EventNotifier never cleared?)",
                  sizeof(how));
    } else if (w.timeout_ns == 0) {
        g_strlcpy(how, "polled with a timeout of 0 ns although nothing was "
                  "due (a stale 'notified', or a timeout computed as 0?)",
                  sizeof(how));
    } else if (w.timeout_ns == -2) {
        /* aio_poll() skips its poll when the timeout is 0 and every
         * handler is pollable; main_loop_wait()'s glib poll is untraced. */
        g_strlcpy(how, "woke with nothing ready, at once (a timeout of 0 "
                  "although nothing was due: a stale 'notified', or a "
                  "timeout computed as 0?)", sizeof(how));
    } else if (w.timeout_ns < 0) {
        g_strlcpy(how, "slept with no timeout and woke, but dispatched "
                  "nothing (a ready handler the core left out?)", sizeof(how));
    } else {
        g_snprintf(how, sizeof(how), "polled with a timeout of %" PRId64
                   " ns and woke with nothing ready", w.timeout_ns);
    }
    return fail(m, "spin: %s returned %u times in a row with nothing done "
                "while nothing could have woken it (no aio_notify, BH "
                "scheduled, timer armed or due, fd raised, signal, clock jump "
                "or fault since the two waits before it began); the last one %s "
                "(limit %u, $QLOOP_MAX_SPIN)", what, sp->wasted, how, limit);
}

unsigned model_spin_max(const Model *m)
{
    return m->spin.wasted_max;
}

/* ---- signals ----------------------------------------------------------- */

/*
 * QEMU reads its signals from a signalfd in the main loop (signals.c) and
 * runs each one's handler as it reads it.  Linux keeps one pending
 * instance of a standard signal: kills of a signal already pending merge
 * into it, and a read takes the lowest-numbered pending signal first (the
 * synchronous ones, SIGBUS among them, before any other; for SIGBUS,
 * SIGALRM and SIGIO that is the same order).  So: a handler runs only for
 * a signal raised and not handled since (two kills before the read, one
 * call), only in the main loop's thread from main_loop_wait()'s dispatch,
 * never while a lower-numbered signal is pending, and every kill is
 * followed by a handler call (model_signal_lost()).
 */
static const char *signal_label(int signo, char *buf, size_t len)
{
    switch (signo) {
    case SIGIO: return "SIGIO";
    case SIGALRM: return "SIGALRM";
    case SIGBUS: return "SIGBUS";
    }
    g_snprintf(buf, len, "signal %d", signo);
    return buf;
}

static void signal_raised(Model *m, const SimEvent *ev)
{
    if (ev->arg > 0 && ev->arg < 32 && !m->sig.pending[ev->arg]) {
        m->sig.pending[ev->arg] = true;
        m->sig.raised_seq[ev->arg] = ev->seq;
    }
}

const char *model_signal_handler(Model *m, int signo, uint32_t thread,
                                 uint32_t loop_thread, bool in_main_loop_wait)
{
    char a[24], b[24];

    if (signo <= 0 || signo >= 32 || !m->sig.pending[signo]) {
        return fail(m, "signals: the handler of %s ran, but it was not "
                    "raised since its last handler call (a pending signal "
                    "is one instance: kills before the read merge into one "
                    "call; a handler runs only for a signal raised)",
                    signal_label(signo, a, sizeof(a)));
    }
    if (thread != loop_thread || !in_main_loop_wait) {
        return fail(m, "signals: the handler of %s ran %s; signals are read "
                    "and handled only by the main loop's thread (%u), from "
                    "main_loop_wait()'s dispatch (the signalfd is on "
                    "iohandler_ctx, which aio_poll() never runs)",
                    signal_label(signo, a, sizeof(a)),
                    thread != loop_thread ? "in another thread" :
                    "in an aio_poll(), or outside main_loop_wait()",
                    loop_thread);
    }
    for (int lower = 1; lower < signo; lower++) {
        if (m->sig.pending[lower]) {
            return fail(m, "signals: the handler of %s ran while %s was "
                        "pending (raised at event %" PRIu64 "): a read "
                        "takes the lowest-numbered pending signal first",
                        signal_label(signo, a, sizeof(a)),
                        signal_label(lower, b, sizeof(b)),
                        m->sig.raised_seq[lower]);
        }
    }
    m->sig.pending[signo] = false;
    return NULL;
}

bool model_signal_lost(Model *m, char *buf, size_t len)
{
    char a[24];

    for (int signo = 1; signo < 32; signo++) {
        if (m->sig.pending[signo]) {
            g_snprintf(buf, len, "signals: %s was raised (event %" PRIu64
                       ") but no handler call followed: every kill is "
                       "followed by a handler call (merged with others "
                       "pending, never dropped)", signal_label(signo, a,
                       sizeof(a)), m->sig.raised_seq[signo]);
            return true;
        }
    }
    return false;
}

const char *model_event(Model *m, const SimEvent *ev)
{
    spin_event(m, ev);
    waiter_event(m, ev);
    if (ev->kind == SIM_EV_USER && sim_event_name_is(ev, "signal")) {
        signal_raised(m, ev);
    }
    switch (ev->kind) {
    case SIM_EV_CLOCK:
        if (sim_event_name_is(ev, "idle")) {
            return model_idle_jump(m, ev);
        }
        return NULL;
    case QOS_EV_BH_SCHEDULE:
    case QOS_EV_BH_DELETE:
    case QOS_EV_BH_PUSH:
    case QOS_EV_BH_CANCEL:
    case QOS_EV_BH_SLICE:
    case QOS_EV_BH_TAKE:
    case QOS_EV_BH_RUN:
        return model_bh_event(m, ev);
    case QOS_EV_TIMER_ARM:
    case QOS_EV_TIMER_DEL:
    case QOS_EV_TIMER_FIRE:
    case QOS_EV_TIMERS_RUN:
    case QOS_EV_TIMERS_DONE:
        return model_timer_event(m, ev);
    case QOS_EV_FD_ADD:
    case QOS_EV_FD_REMOVE:
    case QOS_EV_FD_CALL:
    case QOS_EV_FD_ROUND:
    case QOS_EV_FD_POLLED:
        return model_fd_event(m, ev);
    }
    return NULL;
}
