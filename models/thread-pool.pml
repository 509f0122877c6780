/*
 * models/thread-pool.pml — the thread pool: submit, cancel, completion BH
 * (loop/thread-pool.c).
 *
 * Check (safety: assertions, invalid end states):
 *   spin -a [-DBUG_x] thread-pool.pml && gcc -DSAFETY -o pan pan.c && ./pan -m100000
 * and the same with gcc -DNOREDUCE.
 * Properties:
 *   lost      no completion is lost: the home thread, waiting in aio_poll
 *             for both completions, never sleeps for good (pan's "invalid
 *             end state" if it does);
 *   once      each completion callback runs exactly once;
 *   ecanceled a completion gets -ECANCELED only if the job never started,
 *             and a started job gets its work's result; a job cancelled
 *             while queued gets -ECANCELED.
 *
 * Source: submit links the request at the head of pool->all_head (home
 * thread), appends it to the request queue under pool->lock and signals a
 * worker.  A worker takes the queue's head under the lock (QUEUED ->
 * ACTIVE), runs the work unlocked, sets ret and DONE under the lock, then
 * qemu_bh_schedule(completion_bh).  Cancel (bdrv_aio_cancel): under the
 * lock, a QUEUED request leaves the queue as DONE with -ECANCELED and the
 * completion BH is scheduled; an ACTIVE or DONE one is left alone; then it
 * polls until the callback has run.  The completion BH walks all_head:
 * reads state and ret under the lock, skips what is not DONE, unlinks a
 * DONE request, schedules itself, calls the callback, cancels itself and
 * restarts the walk from the head.
 *
 * Abstraction: one worker, two jobs J0 then J1; the home thread may wait
 * for J0's completion, then cancels none, J0 or J1 (every choice); the completion BH is one flag
 * (scheduled or not; its pending-list mechanics are models/bh.pml's), and
 * aio_poll blocks until it is scheduled (the wake-up is
 * models/notify.pml's); request_cond is a guard (no lost signal: the C
 * condition variable is the simulator's); work returns 0; -ECANCELED is 1.
 *
 * BUG variants (spin -DBUG_x):
 *   BUG_CANCEL_ACTIVE  cancel also completes an ACTIVE job with -ECANCELED
 *                                                       -> ecanceled/once
 *   BUG_CANCEL_NO_BH   cancel of a queued job does not schedule the
 *                      completion BH                    -> lost
 *   BUG_NO_RESTART     after a callback the BH walk goes on from the next
 *                      element instead of restarting    -> lost
 */
#define NJ 2
#define QUEUED 0
#define ACTIVE 1
#define DONE 2
#define NONE 3
#define OK 0
#define ECANCELED 1
#define NOJOB 255

byte state[NJ];
byte ret[NJ];
bool started[NJ];
bool cancelled_queued[NJ];  /* cancel found it QUEUED */
byte cbs[NJ];               /* completion callbacks run */
bool linked[NJ];            /* on pool->all_head (J1 before J0) */
byte queue[NJ];             /* the request queue, FIFO */
byte qlen;
bool locked;
bool bh_sched;              /* completion_bh scheduled */
bool stopping;

inline lock() { atomic { !locked -> locked = true } }
inline unlock() { locked = false }

inline submit(j) {
    linked[j] = true;
    lock();
    state[j] = QUEUED;
    queue[qlen] = j; qlen++;
    unlock()
}

inline callback(j, r) {
    assert(cbs[j] == 0);                        /* once */
    cbs[j]++;
    assert(r != ECANCELED || !started[j]);      /* ecanceled */
    assert(!started[j] || r == OK);             /* ecanceled */
    assert(!cancelled_queued[j] || r == ECANCELED)
}

/* thread_pool_completion_bh: all_head is J1 then J0. */
inline completion_bh() {
    again = true;
    do
    :: !again -> break
    :: else ->
        again = false;          /* restart: */
        e = NJ;
        do
        :: e == 0 || again -> break
        :: else ->
            e--;
            if
            :: linked[e] ->
                lock(); st = state[e]; r = ret[e]; unlock();
                if
                :: st == DONE ->
                    linked[e] = false;
                    bh_sched = true;            /* qemu_bh_schedule */
                    callback(e, r);
                    bh_sched = false;           /* qemu_bh_cancel */
#ifndef BUG_NO_RESTART
                    again = true                /* goto restart */
#else
                    skip
#endif
                :: else -> skip
                fi
            :: else -> skip
            fi
        od
    od
}

/* A blocking aio_poll: wait for the BH, take it, run it. */
inline aio_poll() {
    atomic { bh_sched -> bh_sched = false };
    completion_bh()
}

inline cancel(j) {
    lock();
#ifdef BUG_CANCEL_ACTIVE
    if
    :: state[j] == QUEUED || state[j] == ACTIVE ->
#else
    if
    :: state[j] == QUEUED ->
#endif
        if
        :: state[j] == QUEUED ->
            cancelled_queued[j] = true;
            /* unlink from the queue */
            if
            :: queue[0] == j -> queue[0] = queue[1]
            :: else -> skip
            fi;
            qlen--
        :: else -> skip
        fi;
        state[j] = DONE; ret[j] = ECANCELED;
        unlock();
#ifndef BUG_CANCEL_NO_BH
        bh_sched = true
#else
        skip
#endif
    :: else -> unlock()
    fi;
    /* bdrv_aio_cancel: poll until the callback has run */
    do
    :: cbs[j] > 0 -> break
    :: else -> aio_poll()
    od
}

active proctype home()
{
    byte e, st, r;
    bool again;

    submit(0);
    submit(1);
    /* maybe wait for J0 first */
    if
    :: true
    :: true ->
        do
        :: cbs[0] > 0 -> break
        :: else -> aio_poll()
        od
    fi;
    if
    :: true
    :: cancel(0)
    :: cancel(1)
    fi;
    do
    :: cbs[0] > 0 && cbs[1] > 0 -> break
    :: else -> aio_poll()
    od;
    stopping = true
}

active proctype worker()
{
    byte j;

    do
    :: /* request_cond: sleep until there is a request or the pool stops */
        atomic { (stopping || qlen > 0) && !locked -> locked = true };
        if
        :: stopping -> unlock(); break
        :: !stopping && qlen > 0 ->
            j = queue[0]; queue[0] = queue[1]; qlen--;
            state[j] = ACTIVE;
            started[j] = true;
            unlock();
            /* the work */
            lock();
            if
            :: state[j] == ACTIVE ->
                ret[j] = OK; state[j] = DONE
            :: else -> skip             /* BUG_CANCEL_ACTIVE got there */
            fi;
            unlock();
            bh_sched = true
        :: else -> unlock()             /* cancel emptied the queue */
        fi
    od
}
