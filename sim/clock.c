/*
 * sim/clock.c — virtual clocks.
 *
 * One virtual "now" drives REALTIME, VIRTUAL and VIRTUAL_RT; HOST is now
 * plus an offset that the scenario or a fault point may move either way
 * (a wall-clock jump).  Time moves only when the simulator moves it: when
 * nothing can run (to the next deadline) or when a scenario advances it.
 */
#include "world.h"

/* Wall-clock arithmetic saturates: a scenario may jump HOST to either end
 * of time, and the clock then stays there rather than wrapping. */
static int64_t sat_add(int64_t a, int64_t b)
{
    int64_t sum;

    if (__builtin_add_overflow(a, b, &sum)) {
        return b > 0 ? INT64_MAX : INT64_MIN;
    }
    return sum;
}

void sim_clock_set_now(int64_t now_ns)
{
    SimWorld *w = sim_world;

    SIM_ASSERT(now_ns >= w->now_ns);    /* the monotonic clocks never go back */
    if (now_ns != w->now_ns) {
        w->now_ns = now_ns;
        sim_trace_record(SIM_EV_CLOCK, NULL, now_ns);
    }
}

int64_t qos_clock_ns(QEMUClockType type)
{
    SimWorld *w = sim_world_get();

    qos_sched_point("clock");
    w->current->clock_reads++;
    if (w->config.clock_read_cost_ns > 0) {
        sim_clock_set_now(sat_add(w->now_ns, w->config.clock_read_cost_ns));
    }
    if (type != QEMU_CLOCK_HOST) {
        return w->now_ns;
    }
    if (sim_fault(SIM_FAULT_HOST_CLOCK_JUMP, "host clock jump")) {
        /* Up to one second either way, in whole ms. */
        int64_t jump_ms = (int64_t)sim_choose(SIM_CHOICE_VALUE, 2001) - 1000;

        sim_host_clock_jump_ns(jump_ms * 1000 * 1000);
    }
    return sat_add(w->now_ns, w->host_offset_ns);
}

uint64_t sim_thread_clock_reads(void)
{
    return sim_world_get()->current->clock_reads;
}

int64_t sim_now_ns(void)
{
    return sim_world_get()->now_ns;
}

void sim_advance_ns(int64_t delta_ns)
{
    SimWorld *w = sim_world_get();

    SIM_ASSERT(delta_ns >= 0);
    sim_clock_set_now(sat_add(w->now_ns, delta_ns));
    sim_externals_fire_due(w);
}

void sim_host_clock_jump_ns(int64_t delta_ns)
{
    SimWorld *w = sim_world_get();

    w->host_offset_ns = sat_add(w->host_offset_ns, delta_ns);
}
