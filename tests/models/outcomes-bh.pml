/*
 * tests/models/outcomes-bh.pml — tests/outcomes-bh.scn in Promela, for
 * test-model-outcomes.  An outcome is out[]: the poll boundaries (P=9) and
 * the BHs run (A=1, B=2), in order.  The test enumerates them by
 * exclusion: KNOWN, from known.h beside the model, is true of the
 * outcomes found so far, and
 *   spin -a -DWITH_KNOWN outcomes-bh.pml && cc -DSAFETY -o pan pan.c && ./pan
 * either passes (no other outcome) or gives a trail to a new one.  (pan -c0
 * -e, one trail per error, does not list every end state: it stops
 * below the first violation it meets on a path.)
 *
 * The BH mechanics are models/bh.pml's (fetch_or then CAS push; xchg the
 * list; take from the head, fetch_and), cut down to this scenario: two
 * non-blocking polls in the home thread, a worker scheduling A then B.
 */
#ifdef WITH_KNOWN
#include "known.h"
#else
#define KNOWN false
#endif
#define NIL 255
#define P 9

byte flags[2];
byte nxt[2] = NIL;
byte head = NIL;
byte out[8];                /* what happened, in order */
byte nout;
bool worker_done;

inline schedule(b) {
    atomic { old = flags[b]; flags[b] = 1 };       /* fetch_or PENDING */
    if
    :: old == 0 -> atomic { nxt[b] = head; head = b }  /* CAS push */
    :: else -> skip
    fi
}

active proctype main()
{
    byte sl, b, i;

    for (i : 1 .. 2) {
        /* poll_nb: aio_poll(ctx, false) -> aio_bh_poll */
        atomic { out[nout] = P; nout++ };
        atomic { sl = head; head = NIL };           /* xchg */
        do
        :: sl == NIL -> break
        :: else ->
            atomic { b = sl; sl = nxt[b]; nxt[b] = NIL; flags[b] = 0 };
            atomic { out[nout] = b + 1; nout++ }    /* the BH runs */
        od
    };
    worker_done;                                    /* the runner joins */
    assert(KNOWN)                                   /* a new outcome? */
}

active proctype worker()
{
    byte old;

    schedule(0);
    schedule(1);
    worker_done = true
}
