/*
 * models/notify.pml — the aio_notify protocol as loop/ implements it.
 *
 * Check (safety: assertions and invalid end states; a lost wake-up is a
 * global deadlock, the waiter blocked on the EventNotifier with work left):
 *   spin -a [-DBUG_x] notify.pml && gcc -DSAFETY -o pan pan.c && ./pan -m100000
 * and with partial-order reduction off, to show the verdict does not rest
 * on it:
 *   ... gcc -DSAFETY -DNOREDUCE -o pan pan.c && ./pan -m100000
 * Property: every BH scheduled by the notifier runs, and a main_loop_wait
 * that starts after qemu_notify_event() returned itself returns: at the
 * end `assert(ran == BHS && !owed && !BH_PENDING)`, and no state where
 * the waiter sleeps for good (pan's "invalid end state").  `-E` would hide
 * exactly these deadlocks: never use it here.  The liveness form of the
 * same property, `ltl done` (spin -a -DLTL; gcc without -DSAFETY;
 * ./pan -a, with and without -f), is in docs/models.md.
 *
 * Source (loop/notify.c, notify-accept.c, aio-poll.c, context.c,
 * main-loop.c, bh.c):
 *   aio_poll(blocking):  timeout = BH pending ? 0 : -1; if timeout != 0:
 *                        notify_me += 2; smp_mb(); if notified, timeout = 0;
 *                        wait(timeout); notify_me -= 2; aio_notify_accept
 *                        (notified = false; smp_mb()); aio_bh_poll; dispatch
 *                        the ready handlers (the EventNotifier's callback
 *                        reads the eventfd).
 *   GSource (main_loop_wait): prepare notify_me |= 1; smp_mb(); timeout =
 *                        BH pending ? 0 : -1; glib polls; check notify_me &=
 *                        ~1, aio_notify_accept; dispatch as aio_poll.
 *   aio_notify:          smp_wmb(); notified = true; smp_mb();
 *                        if notify_me != 0, event_notifier_set().
 *   BH schedule:         push on the pending list, then aio_notify().
 *   qemu_notify_event:   schedule the main loop's notify BH.
 *
 * Abstraction: sequential consistency (every barrier in place; the weak
 * memory effects are another model's job); the BH list is a count of
 * pending oneshot BHs and aio_bh_poll takes and runs them all at once (its
 * slices are models/bh.pml's business); no timers, no io_poll busy-wait
 * (poll_max_ns = 0), no fd handlers but the context's own EventNotifier;
 * glib's poll is one wait on that notifier; the main loop's two contexts
 * are one.
 *
 * BUG variants (spin -DBUG_x):
 *   BUG_SKIP_NOTIFIED  aio_notify skips event_notifier_set when notified
 *                      was already true (variants/notify-bug2.patch; QEMU's BUG2)
 *   BUG_DEC_BEFORE_WAIT  aio_poll retracts notify_me before it waits
 *   BUG_ACCEPT_AFTER_BH  aio_notify_accept after aio_bh_poll; harmless
 *                      while every wait's timeout re-reads the BH list (it
 *                      verifies), a lost wake-up when the work is visible
 *                      only through `notified` (-DOPAQUE_WORK)
 *   BUG_BOOL           notify_me a boolean (set/cleared, no count); only
 *                      wrong with two waiters at once (-DTWO_WAITERS)
 *   BUG_BARE_NOTIFY    qemu_notify_event as a bare aio_notify
 *                      (variants/main-loop-bare-notify.patch)
 * Options: -DOPAQUE_WORK: the waiter's timeout does not look at the work
 * (as for a completion announced by a bare aio_notify), aio_poll only;
 * -DBHS=n oneshot BHs from the notifier (2); -DTWO_WAITERS adds a
 * second thread waiting in aio_poll on the same context (QEMU <= 4.2 let a
 * thread holding the context poll it; qloop's home-thread rule forbids it).
 */
#ifndef BHS
#define BHS 2
#endif

byte notify_me;     /* bit 0: a GSource prepare; += 2 per blocking aio_poll */
bool notified;      /* ctx->notified */
bool event;         /* the EventNotifier: set until its callback reads it */
byte pending;       /* oneshot BHs on ctx->bh_list */
bool kick_bh;       /* qemu_notify_event's BH is on ctx->bh_list */
byte ran;           /* oneshot BH callbacks run */
bool kicked;        /* qemu_notify_event() has been called */
bool owed;          /* ... and the main loop has not yet returned for it */

inline announce_poll() {
#ifdef BUG_BOOL
    notify_me = 1
#else
    notify_me = notify_me + 2
#endif
}

inline retract_poll() {
#ifdef BUG_BOOL
    notify_me = 0
#else
    notify_me = notify_me - 2
#endif
}

inline aio_notify() {
#ifdef BUG_SKIP_NOTIFIED
    d_step { was = notified; notified = true };     /* qatomic_xchg */
    if
    :: !was && notify_me != 0 -> event = true
    :: else -> skip
    fi
#else
    notified = true;
    if
    :: notify_me != 0 -> event = true
    :: else -> skip
    fi
#endif
}

inline bh_schedule() {
    pending++;          /* the CAS that publishes the BH */
    aio_notify()
}

#define BH_PENDING (pending > 0 || kick_bh)
#define ALL_DONE (ran == BHS && kicked && !owed)

/* How a waiter decides whether it may block. */
#ifdef OPAQUE_WORK
#define MAY_BLOCK true      /* the timeout does not see the work */
#else
#define MAY_BLOCK (!BH_PENDING)
#endif

/* The wait: the EventNotifier, or (with two waiters) the end of the run. */
#ifdef TWO_WAITERS
#define WAKE (event || ALL_DONE)
#else
#define WAKE event
#endif

/* aio_bh_poll: xchg the list out and run what it held. */
inline bh_poll() {
    d_step {
        ran = ran + pending; pending = 0;
        if
        :: kick_bh -> kick_bh = false; owed = false    /* the promise is kept */
        :: else -> skip
        fi
    }
}

/* The EventNotifier's callback, if the wait reported the eventfd ready;
 * only the home thread (waiter, _pid 1) reads it: with -DTWO_WAITERS a
 * second waiter that read it would steal the home thread's wake-up, a
 * race of its own that would hide the one BUG_BOOL is about. */
inline dispatch_notifier() {
    if
    :: rdy && _pid == 1 -> event = false
    :: else -> skip
    fi
}

inline accept() {
    notified = false
}

/* aio_poll(ctx, true) */
inline aio_poll() {
    block = MAY_BLOCK;
    use = block;
    if
    :: use ->
        announce_poll();
        if
        :: notified -> block = false
        :: else -> skip
        fi
    :: else -> skip
    fi;
#ifdef BUG_DEC_BEFORE_WAIT
    if
    :: use -> retract_poll()
    :: else -> skip
    fi;
#endif
    if
    :: block -> atomic { WAKE -> rdy = event }
    :: else -> rdy = false
    fi;
#ifndef BUG_DEC_BEFORE_WAIT
    if
    :: use -> retract_poll()
    :: else -> skip
    fi;
#endif
#ifndef BUG_ACCEPT_AFTER_BH
    accept();
#endif
    bh_poll();
#ifdef BUG_ACCEPT_AFTER_BH
    accept();
#endif
    dispatch_notifier()
}

/* One main_loop_wait: glib prepare, poll, check, dispatch. */
inline main_loop_wait() {
#ifdef BUG_BOOL
    notify_me = 1;
#else
    notify_me = notify_me | 1;
#endif
    block = MAY_BLOCK;
    if
    :: block -> atomic { WAKE -> rdy = event }
    :: else -> rdy = false
    fi;
#ifdef BUG_BOOL
    notify_me = 0;
#else
    notify_me = notify_me & 254;
#endif
#ifndef BUG_ACCEPT_AFTER_BH
    accept();
#endif
    bh_poll();
#ifdef BUG_ACCEPT_AFTER_BH
    accept();
#endif
    dispatch_notifier()
}

active proctype notifier()
{
    byte i;
    bool was;

    for (i : 1 .. BHS) {
        bh_schedule()
    };
    /* qemu_notify_event(): the promise is made before the call. */
    atomic { owed = true; kicked = true };
#ifdef BUG_BARE_NOTIFY
    aio_notify()
#else
    kick_bh = true;
    aio_notify()
#endif
}

/* The home thread: aio_poll and main_loop_wait, in any mix. */
active proctype waiter()
{
    bool block, use, rdy, k;

    do
    :: ALL_DONE -> break
    :: else ->
        k = owed;
#ifdef OPAQUE_WORK
        aio_poll();
#else
        if
        :: aio_poll()
        :: main_loop_wait()
        fi;
#endif
#ifdef BUG_BARE_NOTIFY
        /* No BH keeps the promise: a main_loop_wait begun with it owed
         * keeps it by returning. */
        if
        :: k -> owed = false
        :: else -> skip
        fi
#else
        skip
#endif
    od;
    assert(ran == BHS && !owed && !BH_PENDING)
}

#ifdef TWO_WAITERS
/* A second thread in one blocking aio_poll on the same context, waiting
 * for something of its own: it returns when woken, work or not. */
active proctype waiter2()
{
    bool block, use, rdy;

    aio_poll()
}
#endif

#ifdef LTL
ltl done { <> ALL_DONE }
#endif
