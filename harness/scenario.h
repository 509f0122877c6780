/*
 * harness/scenario.h — the scenario IR: what a simulated run does.
 *
 * A scenario declares objects — bottom halves, oneshot bodies, fds,
 * timers, thread-pool jobs — and threads.  Threads and callbacks are lists
 * of operations on those objects.  Both front ends, the text format (.scn,
 * harness/scn-parse.c) and the fuzzer's byte decoder (harness/decode.c),
 * produce this IR; the runner (harness/runner.c) executes it on the
 * simulated loop core.
 *
 * Objects are referred to by index into their table; names are for people
 * (traces, stories) and for the text format.
 */
#ifndef QLOOP_HARNESS_SCENARIO_H
#define QLOOP_HARNESS_SCENARIO_H

#include <stdbool.h>
#include <stdint.h>

#define SCN_NAME_MAX 24
#define SCN_OBJECTS_MAX 32      /* per kind */
#define SCN_THREADS_MAX 8
#define SCN_OPS_MAX 4096        /* in all bodies together */

typedef enum {
    SCN_OBJ_BH,         /* aio_bh_new(); body runs as its callback */
    SCN_OBJ_ONESHOT,    /* body for aio_bh_schedule_oneshot() */
    SCN_OBJ_FD,         /* external fake fd; body = read handler */
    SCN_OBJ_TIMER,      /* aio_timer_new() on a clock; body = callback */
    SCN_OBJ_JOB,        /* thread-pool job; body = completion callback */
    SCN_OBJ_SIGNAL,     /* SIGIO/SIGALRM/SIGBUS through the signalfd; body =
                           its SA_SIGINFO handler, run by main_loop_wait */
    SCN_OBJ_CORO,       /* a coroutine (qemu_coroutine_create); body = what
                           it runs, started afresh once it has finished */
    SCN_OBJ_IOTHREAD,   /* a simulated thread that owns a fresh AioContext
                           and runs aio_poll(ctx, true) until teardown, as
                           QEMU's IOThread; no body */
    SCN_OBJ_KIND_MAX
} ScnObjKind;

typedef enum {
    /* bottom halves */
    SCN_OP_SCHEDULE,        /* qemu_bh_schedule(bh) */
    SCN_OP_SCHEDULE_IDLE,   /* qemu_bh_schedule_idle(bh) */
    SCN_OP_CANCEL,          /* qemu_bh_cancel(bh) */
    SCN_OP_DELETE,          /* qemu_bh_delete(bh): the BH is gone after */
    SCN_OP_ONESHOT,         /* aio_bh_schedule_oneshot(ctx, body) */
    /* fd handlers */
    SCN_OP_FD_ADD,          /* aio_set_fd_handler(fd, read = body) */
    SCN_OP_FD_REMOVE,       /* aio_set_fd_handler(fd, NULL...) */
    SCN_OP_FD_REPLACE,      /* re-register fd with its alternate body */
    SCN_OP_FD_RAISE,        /* external write: fd becomes readable */
    SCN_OP_FD_LOWER,        /* external read: fd no longer readable */
    /* timers */
    SCN_OP_TIMER_MOD,       /* timer_mod_ns(t, clock now + arg_ns) */
    SCN_OP_TIMER_ANTICIPATE,/* timer_mod_anticipate_ns(t, now + arg_ns) */
    SCN_OP_TIMER_DEL,       /* timer_del(t) */
    /* the loop */
    SCN_OP_NOTIFY,          /* aio_notify(ctx) */
    SCN_OP_POLL,            /* aio_poll(ctx, true) */
    SCN_OP_POLL_NB,         /* aio_poll(ctx, false) */
    SCN_OP_WAIT,            /* while (obj ran < arg times in all) aio_poll(ctx, true) */
    SCN_OP_DRAIN,           /* while (aio_poll(ctx, false)) */
    SCN_OP_MAIN_LOOP_WAIT,  /* main_loop_wait(arg != 0) on the main loop */
    SCN_OP_NOTIFY_EVENT,    /* qemu_notify_event() */
    SCN_OP_SUBMIT,          /* thread_pool_submit_aio(job) */
    /* the world */
    SCN_OP_ADVANCE,         /* advance virtual time by arg_ns */
    SCN_OP_YIELD,           /* an explicit scheduling point */
    /* extreme and absolute values, polling mode, signals */
    SCN_OP_TIMER_MOD_AT,    /* timer_mod_ns(t, arg_ns): any int64, absolute */
    SCN_OP_POLL_PARAMS,     /* aio_context_set_poll_params(ctx, arg_ns, 0, 0);
                               < 0: refused with an Error, as are negative
                               grow and shrink */
    SCN_OP_KILL,            /* the signal is raised (sim_raise_signal) */
    SCN_OP_HOST_JUMP,       /* QEMU_CLOCK_HOST jumps by arg_ns (either way) */
    SCN_OP_JOB_CANCEL,      /* bdrv_aio_cancel(the job's newest request in
                             * flight): returns once it has completed */
    SCN_OP_POOL_SIZE,       /* aio_context_set_thread_pool_params(ctx, arg,
                             * arg): arg workers, 1..SCN_POOL_SIZE_MAX;
                             * 0: bad limits, each refused with an Error */
    /* queries checked against the model, clocks, write handlers */
    SCN_OP_TIMER_CHECK,     /* timer_pending/_expired/_expire_time_ns and
                               the list's has_timers/expired/deadline */
    SCN_OP_RUN_TIMERS,      /* qemu_clock_run_timers(arg = clock) */
    SCN_OP_CLOCK_ENABLE,    /* qemu_clock_enable(arg = clock, true) */
    SCN_OP_CLOCK_DISABLE,   /* qemu_clock_enable(arg = clock, false) */
    SCN_OP_LOOP_CHECK,      /* the context and main-loop queries */
    SCN_OP_FD_WRITABLE,     /* the fd becomes writable (external) */
    SCN_OP_FD_UNWRITABLE,   /* the fd is no longer writable */
    /* coroutines: the scenario has one CoMutex and one CoQueue */
    SCN_OP_CO_ENTER,        /* qemu_coroutine_enter(co): home thread only */
    SCN_OP_CO_SCHEDULE,     /* aio_co_schedule(ctx, co): any thread; arg
                               is the context (SCN_CTX_HOME, or iothread
                               arg - 1) */
    SCN_OP_CO_WAKE,         /* aio_co_wake(co): any thread */
    SCN_OP_CO_YIELD,        /* qemu_coroutine_yield(): in a coroutine */
    SCN_OP_CO_SLEEP,        /* qemu_co_sleep_ns(VIRTUAL, arg_ns): in one */
    SCN_OP_CO_LOCK,         /* qemu_co_mutex_lock(): in a coroutine */
    SCN_OP_CO_UNLOCK,       /* qemu_co_mutex_unlock() if it holds it */
    SCN_OP_CO_WAIT,         /* qemu_co_queue_wait(): in a coroutine; arg
                               SCN_LOCK_*: the lock the core is given */
    SCN_OP_CO_RESTART_ALL,  /* qemu_co_queue_restart_all(): home thread */
    SCN_OP_CO_RESCHEDULE,   /* aio_co_reschedule_self(ctx): in a coroutine;
                               arg is the context, as for CO_SCHEDULE */
    SCN_OP_AIO_WAIT_WHILE,  /* AIO_WAIT_WHILE(iothread's ctx, busy) from the
                               home thread, a BH in that context clearing
                               busy and calling aio_wait_kick() */
    SCN_OP_CLOCK_CHECK,     /* qemu_clock_has_timers/_deadline_ns_all/
                               _notify(arg = clock): the clock's every
                               list; implies the main loop */
    SCN_OP_CO_ENTER_NEXT,   /* qemu_co_enter_next(): home thread; arg
                               SCN_LOCK_*: the lock the core is given */
    SCN_OP_CO_SUBMIT,       /* thread_pool_submit_co(job's work): in a
                               coroutine, which waits for the result (the
                               job's body is not run) */
    SCN_OP_KIND_MAX
} ScnOpKind;

typedef struct ScnOp {
    ScnOpKind kind;
    uint8_t obj;            /* object index (kind implied by the op) */
    uint8_t obj_kind;       /* ScnObjKind of obj; for WAIT the only way to
                               know it, for the others what the op implies;
                               0 (with obj 0) for ops without an object */
    int64_t arg;            /* ns for timers/advance, count for WAIT */
    uint32_t line;          /* source line in a .scn, 0 when decoded */
} ScnOp;

/* A list of operations: a slice of Scenario.ops. */
typedef struct ScnBody {
    uint32_t first;
    uint32_t count;
} ScnBody;

typedef struct ScnObject {
    char name[SCN_NAME_MAX];
    ScnBody body;           /* callback body */
    ScnBody alt_body;       /* FD: body after SCN_OP_FD_REPLACE */
    uint8_t clock;          /* TIMER: QEMUClockType */
    uint8_t guard;          /* BH: 0, or the MemReentrancyGuard it shares
                               with the BHs of the same number (1..) */
    bool poll;              /* FD: also io_poll / io_poll_ready (polling
                               mode); io_poll_ready runs the body */
    bool suppress;          /* FD with poll: also io_poll_begin/_end
                               (aio_set_event_notifier_poll), which turn
                               its notifications off while the context
                               busy-polls, as virtio's host notifiers do */
    uint8_t signal;         /* SIGNAL: 0 SIGIO, 1 SIGALRM, 2 SIGBUS */
    uint8_t scale;          /* TIMER: SCN_SCALE_NS/US/MS (timer_mod in
                               that unit) */
    bool main_timer;        /* TIMER: on main_loop_tlg (timer_init_full
                               with no group), run by main_loop_wait */
    bool write;             /* FD: a writer — io_write (the body), no
                               io_read */
    bool nocb;              /* JOB: submitted with no completion callback
                               and waited for with bdrv_aio_cancel */
} ScnObject;

enum { SCN_SCALE_NS, SCN_SCALE_US, SCN_SCALE_MS, SCN_SCALES };

/* The lock a CoQueue call (co_wait, co_enter_next) hands the core, which
 * releases it around the wait or the enter and takes it back. */
enum {
    SCN_LOCK_NONE,      /* co_wait: the runner releases the scenario's
                           CoMutex itself if the coroutine holds it */
    SCN_LOCK_QEMU_MUTEX,    /* a QemuMutex the caller takes first */
    SCN_LOCK_CO_MUTEX,  /* the scenario's CoMutex, if the caller is a
                           coroutine holding it (else none) */
    SCN_LOCKS
};

/* pool_size's bound: each worker is a simulated thread. */
#define SCN_POOL_SIZE_MAX 16
/* Contexts a coroutine op names: the scenario's own (home), or an
 * iothread's, SCN_CTX_HOME + 1 + its index. */
#define SCN_CTX_HOME 0
#define SCN_IOTHREADS_MAX 2     /* each is a simulated thread */
#define SCN_GUARDS_MAX 8    /* reentrancy guards a scenario may name */
#define SCN_CLOCKS 4        /* QEMU_CLOCK_REALTIME .. VIRTUAL_RT */
#define SCN_SIGNALS 3       /* SIGIO, SIGALRM, SIGBUS: qemu_init_main_loop's */

typedef struct ScnThread {
    char name[SCN_NAME_MAX];
    ScnBody body;
} ScnThread;

typedef struct Scenario {
    ScnObject objects[SCN_OBJ_KIND_MAX][SCN_OBJECTS_MAX];
    uint8_t object_count[SCN_OBJ_KIND_MAX];
    ScnThread threads[SCN_THREADS_MAX];  /* threads[0] is the home thread */
    uint8_t thread_count;
    ScnOp ops[SCN_OPS_MAX];
    uint32_t op_count;
    /* Run settings carried by the scenario (the command line may override). */
    unsigned faults;            /* SimFault mask */
    bool uses_main_loop;        /* needs qemu_init_main_loop() */
} Scenario;

const char *scn_op_name(ScnOpKind kind);
ScnObjKind scn_op_object_kind(ScnOpKind kind);  /* SCN_OBJ_KIND_MAX: none */
const char *scn_obj_kind_name(ScnObjKind kind);

/* Structural checks every front end must pass (indices in range, bodies
 * inside ops[], at least one thread).  Returns NULL or what is wrong. */
const char *scn_validate(const Scenario *s);

#endif
