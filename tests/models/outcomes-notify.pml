/*
 * tests/models/outcomes-notify.pml — tests/models/outcomes-notify.scn in
 * Promela, for test-model-outcomes (see outcomes-bh.pml for how the
 * outcomes are enumerated: spin -a -DWITH_KNOWN, known.h beside it).
 * out[]: W=8 a blocking aio_poll begins, A=1 and B=2 the oneshots run; a
 * hang (the home thread asleep with a BH pending, every thread waiting)
 * is an invalid end state.
 *
 * The notify protocol is models/notify.pml's aio_poll path (notify_me
 * += 2, re-check notified, wait on the EventNotifier, -= 2, accept, BHs,
 * read the eventfd), the BHs models/bh.pml's (push at the head, take the
 * list, newest first).  A blocking wait with nothing due once the worker
 * is done ends as the runner ends it ("waited for nothing": the run
 * goes on), so only a lost wake-up is a hang.  As in the runner: the
 * context starts with `notified` set (registering its EventNotifier
 * notifies while nobody waits) and the teardown drains what is pending.
 */
#ifdef WITH_KNOWN
#include "known.h"
#else
#define KNOWN false
#endif
#define NIL 255
#define W 8

byte nxt[2] = NIL;
byte head = NIL;
byte notify_me;
bool notified = true;       /* the setup's aio_set_event_notifier notifies */
bool event;
byte out[8];
byte nout;
bool worker_done;

inline aio_notify() {
    notified = true;
    if
    :: notify_me != 0 -> event = true
    :: else -> skip
    fi
}

inline oneshot(b) {
    atomic { nxt[b] = head; head = b };     /* CAS push (never pending) */
    aio_notify()
}

active proctype main()
{
    byte sl, b, i;
    bool block, rdy;

    for (i : 1 .. 2) {
        /* poll: aio_poll(ctx, true) */
        atomic { out[nout] = W; nout++ };
        block = (head == NIL);
        if
        :: block ->
            notify_me = notify_me + 2;
            if
            :: notified -> block = false
            :: else -> skip
            fi
        :: else -> skip
        fi;
        if
        :: block -> atomic { (event || (worker_done && head == NIL)) -> rdy = event }
        :: else -> rdy = false
        fi;
        if
        :: notify_me >= 2 -> notify_me = notify_me - 2
        :: else -> skip
        fi;
        notified = false;                       /* aio_notify_accept */
        atomic { sl = head; head = NIL };       /* aio_bh_poll: xchg */
        do
        :: sl == NIL -> break
        :: else ->
            atomic { b = sl; sl = nxt[b]; nxt[b] = NIL };
            atomic { out[nout] = b + 1; nout++ }
        od;
        if
        :: rdy -> event = false                 /* the notifier's callback */
        :: else -> skip
        fi
    };
    worker_done;                                /* the runner joins */
    /* teardown: drain, which runs what is still pending */
    atomic { sl = head; head = NIL };
    do
    :: sl == NIL -> break
    :: else ->
        atomic { b = sl; sl = nxt[b]; nxt[b] = NIL };
        atomic { out[nout] = b + 1; nout++ }
    od;
    assert(KNOWN)                               /* a new outcome? */
}

active proctype worker()
{
    oneshot(0);
    oneshot(1);
    worker_done = true
}
