/*
 * models/handlers.pml — fd handler removal while the handler list is
 * walked, from the home thread and from another thread (loop/fd.c).
 *
 * Check (safety: assertions, invalid end states):
 *   spin -a [-DBUG_x] handlers.pml && gcc -DSAFETY -o pan pan.c && ./pan -m100000
 * and the same with gcc -DNOREDUCE.
 * Properties (assertions):
 *   called    a handler removed by the dispatching (home) thread is not
 *             called afterwards in that walk or any other;
 *   freed     no node is touched (deleted check, call) after it was freed:
 *             no free while a walk holds it in its snapshot;
 *   leak      once every thread is done and the home thread has walked
 *             once more, every removed node is freed.
 * A removal by another thread may race with a call that has passed its
 * `deleted` check (as in QEMU): that call is allowed, its free is not.
 *
 * Source (loop/fd.c, aio-poll.c): aio_poll does aio_walk_begin
 * (list_walkers++, home thread, no lock) before anything else, takes a
 * snapshot of the ready handlers under list_lock, dispatches each unless
 * node->deleted, and aio_walk_end: the outermost walker (list_walkers ==
 * 1) frees the deleted list under list_lock, then list_walkers--.
 * aio_set_fd_handler(NULL) under list_lock unlinks the node; with
 * list_walkers == 0 it frees it, otherwise marks it deleted and parks it.
 *
 * Abstraction: two handlers H0, H1, both ready in every walk, registered
 * in that order; H0's read handler, in an outer walk, removes H1 and runs
 * a nested aio_poll; another thread removes H0 or H1 once; no io_poll, no
 * re-registration (replace is another model's job), sequential
 * consistency, list_lock as a test-and-set.
 *
 * BUG variants (spin -DBUG_x):
 *   BUG_NO_DELETED_CHECK  the walk calls a node without looking at
 *                         `deleted` (variants/fd-deleted-called.patch) -> called
 *   BUG_FREE_WHILE_WALKED removal frees at once, walkers or not    -> freed
 *   BUG_COUNT_AFTER_SNAPSHOT  aio_walk_begin after the snapshot    -> freed
 *   BUG_INNER_FREES       every walk_end frees the deleted list,
 *                         not only the outermost                   -> freed
 */
#define NH 2

bool linked[NH] = true;     /* on ctx->handlers */
bool deleted[NH];           /* node->deleted */
bool parked[NH];            /* on ctx->deleted_handlers */
bool freed[NH];
bool home_removed[NH];      /* removed by the home thread */
bool locked;                /* list_lock */
byte walkers;               /* ctx->list_walkers */
bool other_done;

inline lock() { atomic { !locked -> locked = true } }
inline unlock() { locked = false }

inline remove(n, by_home) {
    lock();
    if
    :: linked[n] ->
        linked[n] = false;
        home_removed[n] = by_home;
#ifdef BUG_FREE_WHILE_WALKED
        freed[n] = true
#else
        if
        :: walkers == 0 -> freed[n] = true
        :: else -> deleted[n] = true; parked[n] = true
        fi
#endif
    :: else -> skip
    fi;
    unlock()
}

inline free_deleted() {
    lock();
    for (i : 0 .. NH - 1) {
        if
        :: parked[i] -> parked[i] = false; freed[i] = true
        :: else -> skip
        fi
    };
    unlock()
}

inline walk_begin() { walkers++ }

inline walk_end() {
#ifdef BUG_INNER_FREES
    free_deleted();
#else
    if
    :: walkers == 1 -> free_deleted()
    :: else -> skip
    fi;
#endif
    walkers--
}

#define SNAPSHOT(s) \
    lock(); \
    for (i : 0 .. NH - 1) { s[i] = linked[i] }; \
    unlock()

#ifdef BUG_NO_DELETED_CHECK
#define CALLABLE(n) true
#else
#define CALLABLE(n) !deleted[n]
#endif

/* Dispatch node n of snapshot s; CB is what its read handler does. */
#define DISPATCH(s, n, CB) \
    if \
    :: s[n] -> \
        assert(!freed[n]);              /* freed */ \
        if \
        :: CALLABLE(n) -> \
            assert(!home_removed[n]);   /* called */ \
            calls[n]++; \
            CB \
        :: else -> skip \
        fi \
    :: else -> skip \
    fi

/* One aio_poll's walk; the nested one's handlers do nothing more. */
#ifdef BUG_COUNT_AFTER_SNAPSHOT
#define WALK(s, CB0) \
    SNAPSHOT(s); walk_begin(); \
    DISPATCH(s, 0, CB0); DISPATCH(s, 1, skip); \
    walk_end()
#else
#define WALK(s, CB0) \
    walk_begin(); SNAPSHOT(s); \
    DISPATCH(s, 0, CB0); DISPATCH(s, 1, skip); \
    walk_end()
#endif

/* H0's read handler in an outer walk: remove H1, then a nested aio_poll. */
#define H0_OUTER \
    remove(one, true); \
    WALK(inner, skip)

active proctype home()
{
    bool outer[NH], inner[NH];
    byte i, calls[NH], one = 1;

    WALK(outer, H0_OUTER);
    WALK(outer, H0_OUTER);
    other_done;
    WALK(outer, skip);
    for (i : 0 .. NH - 1) {
        assert(linked[i] || freed[i])       /* leak */
    }
}

active proctype other()
{
    byte i;

    if
    :: remove(0, false)
    :: remove(1, false)
    fi;
    other_done = true
}
