/*
 * sim/coroutines.c — the simulator's side of the coroutine seam.
 *
 * A coroutine switch inside a simulated thread is a stack switch like the
 * scheduler's own (sim_coro_switch), preceded by a scheduling point, so the
 * tape decides whether another thread runs first.  The thread keeps the
 * stack it currently runs on in run_stack: when the scheduler later
 * switches back to that thread, ASan is told the right stack.  A coroutine
 * that moves threads (aio_co_schedule) simply resumes on whichever
 * simulated thread switches to it.
 */
#include "coro.h"
#include "world.h"

#if defined(__SANITIZE_ADDRESS__) || defined(QLOOP_ASAN_RUNTIME)
#define SIM_CORO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SIM_CORO_ASAN 1
#endif
#endif

#ifdef SIM_CORO_ASAN
void __sanitizer_start_switch_fiber(void **fake_stack_save, const void *bottom,
                                    size_t size);
void __sanitizer_finish_switch_fiber(void *fake_stack_save,
                                     const void **bottom_old,
                                     size_t *size_old);
#endif

/* The coroutine a switch goes to, for a fresh one's first instructions:
 * nothing runs between the store and the switch. */
static QosCoro *sim_coro_switching_to;

static void sim_coroutine_entry(void)
{
    QosCoro *self = sim_coro_switching_to;

#ifdef SIM_CORO_ASAN
    __sanitizer_finish_switch_fiber(NULL, NULL, NULL);
#endif
    self->entry();
    qos_panic(__FILE__, __LINE__, "a coroutine's entry returned");
}

QosCoro *qos_coro_new(size_t stack_bytes, void (*entry)(void))
{
    QosCoro *coro = g_new0(QosCoro, 1);

    coro->stack_size = stack_bytes;
    coro->stack = sim_stack_alloc(stack_bytes);
    coro->entry = entry;
    coro->sp = sim_coro_init_stack(coro->stack, stack_bytes,
                                   sim_coroutine_entry);
    {
        SimWorld *w = sim_world_get();

        if (!w->coros) {
            w->coros = g_ptr_array_new();
        }
        g_ptr_array_add(w->coros, coro);
    }
    return coro;
}

void qos_coro_free(QosCoro *coro)
{
    bool removed;

    if (!coro) {
        return;
    }
    SIM_ASSERT(coro->stack);
    removed = g_ptr_array_remove_fast(sim_world_get()->coros, coro);
    SIM_ASSERT(removed);
    sim_stack_free(coro->stack, coro->stack_size);
    g_free(coro);
}

QosCoro *qos_coro_thread(void)
{
    return &sim_thread_current()->own_coro;
}

void *qos_thread_area(void)
{
    return sim_thread_current()->area;
}

void qos_coro_switch(QosCoro *from, QosCoro *to, bool last)
{
    SimThread *t;
#ifdef SIM_CORO_ASAN
    void *fake_stack = NULL;
#endif

    sim_sched_point("coroutine switch");
    t = sim_thread_current();
    t->run_stack = to->stack;
    t->run_stack_size = to->stack_size;
#ifdef SIM_CORO_ASAN
    {
        const void *bottom = to->stack;
        size_t size = to->stack_size;

        if (!bottom) {
            /* Back to the thread's own stack: the scheduler's bounds. */
            sim_thread_stack_bounds(t, &bottom, &size);
        }
        __sanitizer_start_switch_fiber(last ? NULL : &fake_stack, bottom,
                                       size);
    }
#endif
    (void)last;
    sim_coro_switching_to = to;
    sim_coro_switch(&from->sp, to->sp);
#ifdef SIM_CORO_ASAN
    __sanitizer_finish_switch_fiber(fake_stack, NULL, NULL);
#endif
}
