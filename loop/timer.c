/*
 * loop/timer.c — clocks, timer lists and timers.
 *
 * Method: a timer list is a binary min-heap of armed timers keyed by
 * (expire_time, arm_seq).  arm_seq grows with every arm, so among equal
 * expiries the earliest-armed fires first — QEMU's sorted-list order (a new
 * timer goes after equal expiries) at O(log n) per re-arm instead of O(n).
 * head_expire_ns mirrors the heap's minimum (or -1) so the hot path — every
 * aio_poll runs four timer lists — needs neither the lock nor a clock read
 * when a list is empty.  Running reads the clock once and pops while
 * expire_time <= that snapshot, so a callback that re-arms at or before the
 * snapshot fires again in the same pass.
 *
 * Locking: tl->lock protects the heap and every armed timer's expire_time
 * and heap_index; any thread may arm or delete.  Callbacks run unlocked.
 */
#include <limits.h>
#include <string.h>

#include "internal.h"

struct QEMUTimerList {
    QEMUClockType type;
    QemuMutex lock;
    QEMUTimer **heap;
    uint32_t count;
    uint32_t capacity;
    int64_t arm_seq_next;       /* next order of a request >= 0 (ascending) */
    int64_t head_seq_next;      /* next order of a request < 0 (descending) */
    uint32_t timer_id_next;     /* atomic */
    int64_t trace_key;          /* list << 36 | clock << 32 */
    int64_t head_expire_ns;     /* atomic mirror of heap[0]->expire_time */
    QEMUTimerListNotifyCB *notify_cb;
    void *notify_opaque;
    /* qemu_clock_enable(): the clock's other lists, and the passes that
     * qemu_clock_enable(false) waits for (under lock). */
    QEMUTimerList *clock_prev, *clock_next;
    unsigned passes_running;
    unsigned disable_waiters;
    QemuCond passes_done;
};

QEMUTimerListGroup main_loop_tlg;

/*
 * Per clock type, as QEMU's QEMUClock: whether its timers run, and every
 * timer list of the clock, so that enabling can notify each and disabling
 * can wait for each one's running pass.  Like QEMU's (which relies on the
 * BQL) the registry itself is unlocked: lists are created and freed, and
 * clocks enabled, by one thread at a time.  Every clock starts enabled —
 * QEMU starts QEMU_CLOCK_VIRTUAL disabled until a VM starts; a library
 * has no VM to start.
 */
typedef struct {
    bool disabled;              /* atomic; false = QEMU's enabled */
    QEMUTimerList *lists;       /* newest first */
} TimerClock;

static TimerClock timer_clocks[QEMU_CLOCK_MAX];

/* A plain load, not a scheduling point: the hot paths read it under the
 * list's lock or beside a clock read, and qemu_clock_enable() orders its
 * store with its own atomic exchange and each list's lock. */
static bool clock_disabled(QEMUClockType type)
{
    return __atomic_load_n(&timer_clocks[type].disabled, __ATOMIC_SEQ_CST);
}

/* ---- clocks ------------------------------------------------------------- */

int64_t qemu_clock_get_ns(QEMUClockType type)
{
    QLOOP_ASSERT((unsigned)type < QEMU_CLOCK_MAX);
    return qos_clock_ns(type);
}

int64_t get_clock(void)
{
    return qos_clock_ns(QEMU_CLOCK_REALTIME);
}

int64_t get_clock_realtime(void)
{
    return qos_clock_ns(QEMU_CLOCK_HOST);
}

int qemu_timeout_ns_to_ms(int64_t ns)
{
    int64_t ms;

    if (ns < 0) {
        return -1;
    }
    if (ns == 0) {
        return 0;
    }
    /* Round up: waking late is correct, waking early busy-waits.  (Not
     * ns + SCALE_MS - 1: that overflows for a deadline near INT64_MAX.) */
    ms = ns / SCALE_MS + (ns % SCALE_MS != 0);
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

/* Trace identity of a timer: its clock and its id within the list. */
static int64_t timer_trace_id(const QEMUTimer *ts)
{
    return ts->timer_list->trace_key | ts->id;
}

/* ---- heap --------------------------------------------------------------- */

static bool timer_before(const QEMUTimer *a, const QEMUTimer *b)
{
    if (a->expire_time != b->expire_time) {
        return a->expire_time < b->expire_time;
    }
    return a->arm_seq < b->arm_seq;
}

static void heap_place(QEMUTimerList *tl, uint32_t i, QEMUTimer *ts)
{
    tl->heap[i] = ts;
    ts->heap_index = (int32_t)i;
}

static void heap_sift_up(QEMUTimerList *tl, uint32_t i)
{
    QEMUTimer *ts = tl->heap[i];

    while (i > 0) {
        uint32_t parent = (i - 1) / 2;

        if (!timer_before(ts, tl->heap[parent])) {
            break;
        }
        heap_place(tl, i, tl->heap[parent]);
        i = parent;
    }
    heap_place(tl, i, ts);
}

static void heap_sift_down(QEMUTimerList *tl, uint32_t i)
{
    QEMUTimer *ts = tl->heap[i];

    for (;;) {
        uint32_t child = 2 * i + 1;

        if (child >= tl->count) {
            break;
        }
        if (child + 1 < tl->count &&
            timer_before(tl->heap[child + 1], tl->heap[child])) {
            child++;
        }
        if (!timer_before(tl->heap[child], ts)) {
            break;
        }
        heap_place(tl, i, tl->heap[child]);
        i = child;
    }
    heap_place(tl, i, ts);
}

static void heap_update_mirror(QEMUTimerList *tl)
{
    qatomic_set(&tl->head_expire_ns,
                tl->count ? tl->heap[0]->expire_time : (int64_t)-1);
}

static void heap_push(QEMUTimerList *tl, QEMUTimer *ts)
{
    if (tl->count == tl->capacity) {
        tl->capacity = tl->capacity ? tl->capacity * 2 : 16;
        tl->heap = g_renew(QEMUTimer *, tl->heap, tl->capacity);
    }
    tl->heap[tl->count] = ts;
    ts->heap_index = (int32_t)tl->count;
    tl->count++;
    heap_sift_up(tl, tl->count - 1);
}

static void heap_remove(QEMUTimerList *tl, QEMUTimer *ts)
{
    uint32_t i = (uint32_t)ts->heap_index;
    QEMUTimer *last;

    QLOOP_ASSERT(ts->heap_index >= 0 && i < tl->count && tl->heap[i] == ts);
    tl->count--;
    last = tl->heap[tl->count];
    ts->heap_index = -1;
    if (i == tl->count) {
        return;
    }
    heap_place(tl, i, last);
    if (i > 0 && timer_before(last, tl->heap[(i - 1) / 2])) {
        heap_sift_up(tl, i);
    } else {
        heap_sift_down(tl, i);
    }
}

/* ---- timer lists -------------------------------------------------------- */

QEMUTimerList *timerlist_new(QEMUClockType type, QEMUTimerListNotifyCB *cb,
                             void *opaque)
{
    QEMUTimerList *tl = qos_obj_new(QOS_OBJ_TIMER_LIST, sizeof(QEMUTimerList));

    QLOOP_ASSERT((unsigned)type < QEMU_CLOCK_MAX);
    tl->type = type;
    tl->notify_cb = cb;
    tl->notify_opaque = opaque;
    tl->head_expire_ns = -1;
    tl->trace_key = (int64_t)type << 32;
    qemu_mutex_init(&tl->lock);
    qemu_cond_init(&tl->passes_done);
    tl->clock_next = timer_clocks[type].lists;
    if (tl->clock_next) {
        tl->clock_next->clock_prev = tl;
    }
    timer_clocks[type].lists = tl;
    return tl;
}

static void timerlist_unregister(QEMUTimerList *tl)
{
    if (tl->clock_prev) {
        tl->clock_prev->clock_next = tl->clock_next;
    } else {
        timer_clocks[tl->type].lists = tl->clock_next;
    }
    if (tl->clock_next) {
        tl->clock_next->clock_prev = tl->clock_prev;
    }
}

void timerlist_free(QEMUTimerList *tl)
{
    if (!tl) {
        return;
    }
    /* Timers still armed are detached, as if deleted. */
    for (uint32_t i = 0; i < tl->count; i++) {
        tl->heap[i]->expire_time = -1;
        tl->heap[i]->heap_index = -1;
    }
    timerlist_unregister(tl);
    qemu_cond_destroy(&tl->passes_done);
    qemu_mutex_destroy(&tl->lock);
    g_free(tl->heap);
    qos_obj_free(QOS_OBJ_TIMER_LIST, tl);
}

bool timerlist_has_timers(QEMUTimerList *tl)
{
    return qatomic_read(&tl->head_expire_ns) >= 0;
}

bool timerlist_expired(QEMUTimerList *tl)
{
    int64_t expire_ns = qatomic_read(&tl->head_expire_ns);

    return expire_ns >= 0 && expire_ns <= qemu_clock_get_ns(tl->type);
}

int64_t timerlist_deadline_ns(QEMUTimerList *tl)
{
    int64_t expire_ns = qatomic_read(&tl->head_expire_ns);
    int64_t delta_ns;

    /* A disabled clock's timers do not run, so they set no deadline. */
    if (expire_ns < 0 || clock_disabled(tl->type)) {
        return -1;
    }
    /* HOST may stand before the epoch: a far deadline saturates. */
    if (__builtin_sub_overflow(expire_ns, qemu_clock_get_ns(tl->type),
                               &delta_ns)) {
        return INT64_MAX;
    }
    return delta_ns <= 0 ? 0 : delta_ns;
}

QEMUClockType timerlist_get_clock(QEMUTimerList *tl)
{
    return tl->type;
}

void timerlist_notify(QEMUTimerList *tl)
{
    if (tl->notify_cb) {
        tl->notify_cb(tl->notify_opaque, tl->type);
    } else {
        qemu_notify_event();
    }
}

bool timerlist_run_timers(QEMUTimerList *tl)
{
    int64_t now_ns;
    bool progress = false;

    /* Fast path: no armed timer, no clock read. */
    if (qatomic_read(&tl->head_expire_ns) < 0) {
        return false;
    }
    now_ns = qemu_clock_get_ns(tl->type);   /* once per pass */

    qemu_mutex_lock(&tl->lock);
    if (clock_disabled(tl->type)) {
        qemu_mutex_unlock(&tl->lock);
        return false;
    }
    tl->passes_running++;   /* what qemu_clock_enable(false) waits for */
    qos_trace(QOS_EV_TIMERS_RUN, NULL, tl->trace_key, now_ns);
    while (tl->count > 0 && tl->heap[0]->expire_time <= now_ns) {
        QEMUTimer *ts = tl->heap[0];
        QEMUTimerCB *cb = ts->cb;
        void *opaque = ts->opaque;

        qos_trace(QOS_EV_TIMER_FIRE, NULL, timer_trace_id(ts), ts->expire_time);
        heap_remove(tl, ts);
        qatomic_set(&ts->expire_time, (int64_t)-1);
        heap_update_mirror(tl);
        qemu_mutex_unlock(&tl->lock);

        cb(opaque);
        progress = true;

        qemu_mutex_lock(&tl->lock);
    }
    qos_trace(QOS_EV_TIMERS_DONE, NULL, tl->trace_key, now_ns);
    if (--tl->passes_running == 0 && tl->disable_waiters) {
        qemu_cond_broadcast(&tl->passes_done);
    }
    qemu_mutex_unlock(&tl->lock);
    return progress;
}

void timerlistgroup_init(QEMUTimerListGroup *tlg, QEMUTimerListNotifyCB *cb,
                         void *opaque)
{
    for (int type = 0; type < QEMU_CLOCK_MAX; type++) {
        tlg->tl[type] = timerlist_new(type, cb, opaque);
    }
}

void timerlistgroup_set_trace_key(QEMUTimerListGroup *tlg, int64_t key)
{
    for (int type = 0; type < QEMU_CLOCK_MAX; type++) {
        tlg->tl[type]->trace_key = key << 4 | (int64_t)type << 32;
    }
}

void timerlistgroup_deinit(QEMUTimerListGroup *tlg)
{
    for (int type = 0; type < QEMU_CLOCK_MAX; type++) {
        timerlist_free(tlg->tl[type]);
        tlg->tl[type] = NULL;
    }
}

bool timerlistgroup_run_timers(QEMUTimerListGroup *tlg)
{
    bool progress = false;

    for (int type = 0; type < QEMU_CLOCK_MAX; type++) {
        progress |= timerlist_run_timers(tlg->tl[type]);
    }
    return progress;
}

int64_t timerlistgroup_deadline_ns(QEMUTimerListGroup *tlg)
{
    int64_t deadline_ns = -1;

    for (int type = 0; type < QEMU_CLOCK_MAX; type++) {
        deadline_ns = qemu_soonest_timeout(deadline_ns,
                                           timerlist_deadline_ns(tlg->tl[type]));
    }
    return deadline_ns;
}

/* ---- main-loop clocks ---------------------------------------------------- */

static void main_loop_timer_notify(void *opaque, QEMUClockType type)
{
    (void)opaque;
    (void)type;
    qemu_notify_event();
}

void init_clocks(QEMUTimerListNotifyCB *notify_cb)
{
    if (main_loop_tlg.tl[0]) {
        return;
    }
    timerlistgroup_init(&main_loop_tlg,
                        notify_cb ? notify_cb : main_loop_timer_notify, NULL);
}

/* Until no pass over tl's timers runs: one that began before the clock
 * was disabled may still fire timers. */
static void timerlist_wait_passes(QEMUTimerList *tl)
{
    qemu_mutex_lock(&tl->lock);
    tl->disable_waiters++;
    while (tl->passes_running) {
        qemu_cond_wait(&tl->passes_done, &tl->lock);
    }
    tl->disable_waiters--;
    qemu_mutex_unlock(&tl->lock);
}

/*
 * QEMU's rule: a disabled clock's timers neither run nor set a deadline.
 * Disabling returns once no pass over the clock's timers runs, so none
 * fires after it — which deadlocks when called from a timer callback of
 * that clock (QEMU says so too).  Enabling notifies every list: a waiter
 * that slept without the clock's deadline must recompute its timeout.
 */
void qemu_clock_enable(QEMUClockType type, bool enabled)
{
    bool was_disabled;

    QLOOP_ASSERT((unsigned)type < QEMU_CLOCK_MAX);
    was_disabled = qatomic_xchg(&timer_clocks[type].disabled, !enabled);
    for (QEMUTimerList *tl = timer_clocks[type].lists; tl; tl = tl->clock_next) {
        if (enabled && was_disabled) {
            timerlist_notify(tl);
        } else if (!enabled && !was_disabled) {
            timerlist_wait_passes(tl);
        }
    }
}

void qloop_clocks_forget(void)
{
    memset(timer_clocks, 0, sizeof(timer_clocks));
}

void qemu_clock_notify(QEMUClockType type)
{
    QLOOP_ASSERT((unsigned)type < QEMU_CLOCK_MAX);
    for (QEMUTimerList *tl = timer_clocks[type].lists; tl; tl = tl->clock_next) {
        timerlist_notify(tl);
    }
}

bool qemu_clock_has_timers(QEMUClockType type)
{
    return timerlist_has_timers(main_loop_tlg.tl[type]);
}

/* The earliest expiry among tl's timers whose attributes all lie in
 * attr_mask, or -1.  The heap orders by expiry only over all timers, so a
 * mask that excludes some needs a scan. */
static int64_t timerlist_earliest_masked_ns(QEMUTimerList *tl, int attr_mask)
{
    int64_t earliest_ns = -1;

    qemu_mutex_lock(&tl->lock);
    for (uint32_t i = 0; i < tl->count; i++) {
        QEMUTimer *ts = tl->heap[i];

        if ((ts->attributes & ~attr_mask) == 0 &&
            (earliest_ns < 0 || ts->expire_time < earliest_ns)) {
            earliest_ns = ts->expire_time;
        }
    }
    qemu_mutex_unlock(&tl->lock);
    return earliest_ns;
}

/*
 * QEMU's: the soonest deadline over every timer list of the clock (every
 * AioContext's and the main loop's), counting only timers whose attributes
 * are all in attr_mask; -1 when there is none or the clock is disabled.
 */
int64_t qemu_clock_deadline_ns_all(QEMUClockType type, int attr_mask)
{
    int64_t deadline_ns = -1;

    QLOOP_ASSERT((unsigned)type < QEMU_CLOCK_MAX);
    if (clock_disabled(type)) {
        return -1;
    }
    for (QEMUTimerList *tl = timer_clocks[type].lists; tl; tl = tl->clock_next) {
        int64_t expire_ns = timerlist_earliest_masked_ns(tl, attr_mask);
        int64_t delta_ns;

        if (expire_ns < 0) {
            continue;
        }
        if (__builtin_sub_overflow(expire_ns, qemu_clock_get_ns(type),
                                   &delta_ns)) {
            delta_ns = INT64_MAX;
        }
        deadline_ns = qemu_soonest_timeout(deadline_ns, MAX(delta_ns, 0));
    }
    return deadline_ns;
}

bool qemu_clock_expired(QEMUClockType type)
{
    return timerlist_expired(main_loop_tlg.tl[type]);
}

bool qemu_clock_run_timers(QEMUClockType type)
{
    return timerlist_run_timers(main_loop_tlg.tl[type]);
}

bool qemu_clock_run_all_timers(void)
{
    return timerlistgroup_run_timers(&main_loop_tlg);
}

/* ---- timers ------------------------------------------------------------- */

void timer_init_full(QEMUTimer *ts, QEMUTimerListGroup *timer_list_group,
                     QEMUClockType type, int scale, int attributes,
                     QEMUTimerCB *cb, void *opaque)
{
    if (!timer_list_group) {
        timer_list_group = &main_loop_tlg;
    }
    QLOOP_ASSERT((unsigned)type < QEMU_CLOCK_MAX);
    QLOOP_ASSERT(timer_list_group->tl[type] != NULL);   /* init_clocks() */
    ts->timer_list = timer_list_group->tl[type];
    ts->cb = cb;
    ts->opaque = opaque;
    ts->scale = scale;
    ts->attributes = attributes;
    ts->expire_time = -1;
    ts->heap_index = -1;
    ts->arm_seq = 0;
    ts->id = qatomic_fetch_add(&ts->timer_list->timer_id_next, 1);
}

QEMUTimer *timer_new_full(QEMUTimerListGroup *timer_list_group,
                          QEMUClockType type, int scale, int attributes,
                          QEMUTimerCB *cb, void *opaque)
{
    QEMUTimer *ts = qos_obj_new(QOS_OBJ_TIMER, sizeof(QEMUTimer));

    timer_init_full(ts, timer_list_group, type, scale, attributes, cb, opaque);
    return ts;
}

void timer_deinit(QEMUTimer *ts)
{
    QLOOP_ASSERT(!timer_pending(ts));
    ts->timer_list = NULL;
}

static void timer_del_locked(QEMUTimerList *tl, QEMUTimer *ts)
{
    if (ts->heap_index >= 0) {
        qos_trace(QOS_EV_TIMER_DEL, NULL, timer_trace_id(ts), 0);
        heap_remove(tl, ts);
        heap_update_mirror(tl);
    }
    qatomic_set(&ts->expire_time, (int64_t)-1);
}

/* Arm; returns true if ts became the earliest timer of its list. */
static bool timer_mod_ns_locked(QEMUTimerList *tl, QEMUTimer *ts,
                                int64_t expire_ns)
{
    /*
     * QEMU searches its sorted list with the requested expiry and only then
     * stores MAX(request, 0): stored expiries are never negative, so a
     * negative request lands before all of them, at the head — and a later
     * negative request before that one (LIFO).  An order below every
     * non-negative request's gives the heap the same place.
     */
    qatomic_set(&ts->expire_time, expire_ns < 0 ? (int64_t)0 : expire_ns);
    ts->arm_seq = expire_ns < 0 ? --tl->head_seq_next : tl->arm_seq_next++;
    /* The requested expiry: the model applies the clamp itself. */
    qos_trace(QOS_EV_TIMER_ARM, NULL, timer_trace_id(ts), expire_ns);
    heap_push(tl, ts);
    heap_update_mirror(tl);
    return tl->heap[0] == ts;
}

void timer_del(QEMUTimer *ts)
{
    QEMUTimerList *tl = ts->timer_list;

    if (!tl) {
        return;
    }
    qemu_mutex_lock(&tl->lock);
    timer_del_locked(tl, ts);
    qemu_mutex_unlock(&tl->lock);
}

void timer_free(QEMUTimer *ts)
{
    if (ts) {
        timer_del(ts);
        qos_obj_free(QOS_OBJ_TIMER, ts);
    }
}

void timer_mod_ns(QEMUTimer *ts, int64_t expire_time)
{
    QEMUTimerList *tl = ts->timer_list;
    bool rearm;

    QLOOP_ASSERT(tl != NULL);
    qemu_mutex_lock(&tl->lock);
    timer_del_locked(tl, ts);
    rearm = timer_mod_ns_locked(tl, ts, expire_time);
    qemu_mutex_unlock(&tl->lock);

    /* A new earliest deadline: the waiter must recompute its timeout. */
    if (rearm) {
        timerlist_notify(tl);
    }
}

void timer_mod_anticipate_ns(QEMUTimer *ts, int64_t expire_time)
{
    QEMUTimerList *tl = ts->timer_list;
    bool rearm = false;

    QLOOP_ASSERT(tl != NULL);
    qemu_mutex_lock(&tl->lock);
    if (ts->expire_time == -1 || ts->expire_time > expire_time) {
        timer_del_locked(tl, ts);
        rearm = timer_mod_ns_locked(tl, ts, expire_time);
    }
    qemu_mutex_unlock(&tl->lock);
    if (rearm) {
        timerlist_notify(tl);
    }
}

void timer_mod(QEMUTimer *ts, int64_t expire_time)
{
    timer_mod_ns(ts, expire_time * ts->scale);
}

void timer_mod_anticipate(QEMUTimer *ts, int64_t expire_time)
{
    timer_mod_anticipate_ns(ts, expire_time * ts->scale);
}

bool timer_pending(QEMUTimer *ts)
{
    return qatomic_read(&ts->expire_time) >= 0;
}

/*
 * QEMU's answer, unarmed timers included: an unarmed timer stores expiry
 * -1, which is "expired" at any time >= 0 (QEMU compares the stored value
 * and does not look at whether the timer is pending).
 */
bool timer_expired(QEMUTimer *timer_head, int64_t current_time)
{
    return timer_head &&
           timer_head->expire_time <= current_time * timer_head->scale;
}

uint64_t timer_expire_time_ns(QEMUTimer *ts)
{
    return timer_pending(ts) ? (uint64_t)ts->expire_time : (uint64_t)-1;
}
