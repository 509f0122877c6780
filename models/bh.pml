/*
 * models/bh.pml — cross-thread BH scheduling against aio_bh_poll, with
 * slices and a nested poll, as loop/bh.c implements it.
 *
 * Check (safety: assertions, invalid end states):
 *   spin -a [-DBUG_x] bh.pml && gcc -DSAFETY -o pan pan.c && ./pan -m100000
 * and the same with gcc -DNOREDUCE.
 * Properties (assertions; the name of each is in its message):
 *   lost      every BH scheduled and not deleted runs after its last
 *             schedule (checked once the other thread is done and the
 *             home thread has polled the list empty);
 *   twice     a BH runs at most once per schedule (runs <= schedules);
 *   deleted   a BH deleted before the poll took it never runs;
 *   freed     no BH is touched after the poll freed it, and a deleted BH
 *             is freed (no leak);
 *   order     semantics.md's order: within one poll's slice newest first by
 *             first enqueue; a nested poll first finishes the outer poll's
 *             slice, then its own.
 *
 * Source (loop/bh.c): aio_bh_enqueue = fetch_or(flags, PENDING|new);
 * if PENDING was clear, CAS-push at the head of ctx->bh_list; aio_notify.
 * aio_bh_poll = xchg(bh_list, NULL) into a slice appended to the chain;
 * while the chain has a slice: dequeue its head (fetch_and clears PENDING,
 * SCHEDULED, IDLE; the flags it had decide), run it if SCHEDULED and not
 * DELETED, free it if DELETED; an empty slice is unlinked.
 *
 * Abstraction: three BHs, A (plain), B (its callback schedules B again
 * and runs a nested aio_bh_poll when not nested already) and C (deleted by
 * the other thread, which schedules A, B, C and then deletes C); sequential consistency; the push, the xchg and each
 * fetch_or/fetch_and are single steps (they are single atomics in C); no
 * idle BHs, no cancel, no oneshots (a oneshot is a BH deleted as it runs);
 * the wake-up of the home thread is models/notify.pml's job: here it polls
 * whenever it likes.
 *
 * BUG variants (spin -DBUG_x):
 *   BUG_FIFO           each poll runs its slice oldest first
 *                      (variants/bh-fifo.patch)                     -> order
 *   BUG_DELETED_RUNS   the poll looks at SCHEDULED only
 *                      (variants/bh-deleted-runs.patch)             -> deleted
 *   BUG_DOUBLE_PUSH    enqueue pushes even when PENDING was set -> twice/freed
 *   BUG_INNER_FIRST    a nested poll runs its own slice before the outer's
 *                      remainder                                 -> order
 */
#define NB 3
#define A 0
#define B 1
#define C 2
#define NIL 255
#define PENDING 1
#define SCHEDULED 2
#define DELETED 4
#define MAXS 4

byte flags[NB];
byte nxt[NB] = NIL;
byte head = NIL;            /* ctx->bh_list */
byte sl[MAXS];              /* the slice chain: sl[sfirst .. slast-1] */
byte sgen[MAXS];            /* each slice's number, for the order check */
byte sfirst, slast;
byte gen;                   /* slices made so far */
byte seq;                   /* pushes made so far */
byte pseq[NB];              /* when each BH was pushed */
byte last_gen, last_seq;    /* the last dequeue, for the order check */

byte sched[NB], runs[NB];
bool want[NB];              /* scheduled since the poll last took it */
bool deleted[NB];           /* qemu_bh_delete() called */
bool freed[NB];
bool other_done;

inline enqueue(b, newf) {
    atomic {
        assert(!freed[b]);      /* freed */
        old = flags[b];
        flags[b] = flags[b] | PENDING | newf;
        if
        :: newf == SCHEDULED -> sched[b]++; want[b] = true
        :: else -> deleted[b] = true
        fi
    };
#ifdef BUG_DOUBLE_PUSH
    if
    :: true ->
#else
    if
    :: !(old & PENDING) ->
#endif
        atomic {
            nxt[b] = head; head = b;
            seq++; pseq[b] = seq
        }
    :: else -> skip
    fi
}

/* Take the head of slice k: the flags it had, the order check. */
inline dequeue(k, b, f, d) {
    atomic {
        b = sl[k];
        assert(!freed[b]);      /* freed */
        sl[k] = nxt[b];
        nxt[b] = NIL;
        f = flags[b];
        flags[b] = flags[b] & DELETED;
        d = deleted[b];
        if
        :: f & SCHEDULED -> want[b] = false
        :: else -> skip
        fi;
        /* order: slices in chain order, newest push first in a slice */
        assert(sgen[k] > last_gen ||
               (sgen[k] == last_gen && pseq[b] < last_seq));
        last_gen = sgen[k]; last_seq = pseq[b]
    }
}

/* Run b if the flags the poll took say so, then free it if deleted.  CB
 * is what b's callback does beyond being counted. */
#ifdef BUG_DELETED_RUNS
#define RUNS(f) (f & SCHEDULED)
#else
#define RUNS(f) ((f & (SCHEDULED | DELETED)) == SCHEDULED)
#endif
#define RUN_OR_FREE(b, f, d, CB) \
    if \
    :: RUNS(f) -> \
        assert(!d);                     /* deleted */ \
        runs[b]++; \
        assert(runs[b] <= sched[b]);    /* twice */ \
        CB \
    :: else -> skip \
    fi; \
    if \
    :: f & DELETED -> freed[b] = true \
    :: else -> skip \
    fi

/* xchg the list into a new slice at the tail of the chain: slice k. */
inline take_slice(k) {
    atomic {
        assert(slast < MAXS);
        k = slast;
        sl[k] = head; head = NIL;
        gen++; sgen[k] = gen;
#ifdef BUG_FIFO
        /* reverse the slice: oldest first */
        rev = NIL;
        do
        :: sl[k] == NIL -> break
        :: else -> t = nxt[sl[k]]; nxt[sl[k]] = rev; rev = sl[k]; sl[k] = t
        od;
        sl[k] = rev;
#endif
        slast++
    }
}

/* Run the chain, first slice first, until it is empty. */
#define RUN_CHAIN(b, f, d, CB) \
    do \
    :: sfirst == slast -> break \
    :: else -> \
        if \
        :: sl[sfirst] == NIL -> sfirst++ \
        :: else -> \
            dequeue(sfirst, b, f, d); \
            RUN_OR_FREE(b, f, d, CB) \
        fi \
    od

/* The nested aio_bh_poll inside B's callback: its callbacks do not nest. */
inline inner_poll() {
    take_slice(k2);
#ifdef BUG_INNER_FIRST
    /* its own slice first, then what the outer poll left */
    do
    :: sl[k2] == NIL -> break
    :: else ->
        dequeue(k2, b2, f2, d2);
        RUN_OR_FREE(b2, f2, d2, skip)
    od;
#endif
    RUN_CHAIN(b2, f2, d2, skip)
}

/* B's callback: schedule B again, then a nested aio_bh_poll. */
inline b_callback(b) {
    if
    :: b == B ->
        enqueue(bb, SCHEDULED);
        inner_poll()
    :: else -> skip
    fi
}

/* The outermost aio_bh_poll; the chain is empty when it returns. */
inline outer_poll() {
    atomic { gen = 0; last_gen = 0; last_seq = 255 };
    take_slice(k1);
    RUN_CHAIN(b1, f1, d1, b_callback(b1));
    assert(sfirst == slast);
    /* no BH is listed anywhere now but those pushed since the xchg: the
     * push numbers start again (keeps the state space finite) */
    atomic {
        sfirst = 0; slast = 0;
        if
        :: head == NIL -> seq = 0
        :: else -> skip
        fi
    }
}

/* The home thread: polls until the other thread is done and nothing is
 * pending, then checks that nothing was lost. */
active proctype home()
{
    byte k1, b1, f1, k2, b2, f2, old, rev, t, bb = B;
    bool d1, d2;
    byte i;

    do
    :: other_done && head == NIL -> break
    :: else -> outer_poll()
    od;
    for (i : 0 .. NB - 1) {
        assert(!want[i] || deleted[i]);     /* lost */
        assert(!deleted[i] || freed[i])     /* freed (no leak) */
    }
}

/* Another thread: schedules A, B and C, then deletes C. */
active proctype other()
{
    byte old;

    enqueue(A, SCHEDULED);
    enqueue(B, SCHEDULED);
    enqueue(C, SCHEDULED);
    enqueue(C, DELETED);
    other_done = true
}

