/*
 * tests/kvm/test-testdev.c — testdev.c's trapped doorbell kicks merge.
 *
 * Method: the doorbell device on its real iothread and thread pool, in a
 * Vm without KVM (no ioeventfd: every kick is a port write that traps to
 * the caller, as on a host without KVM_IOEVENTFD).  The iothread is held
 * inside a BH while this thread writes the kick port KICKS times; once
 * released, the kick handler must run exactly once more — one persistent
 * BH, however many kicks — where a oneshot BH per kick (the old code)
 * would run it KICKS times and hold KICKS allocations meanwhile.
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "vmm.h"

#define KICKS 10000

static int stalled, released;

static void stall_bh(void *opaque)
{
    __atomic_store_n(&stalled, 1, __ATOMIC_RELEASE);
    while (!__atomic_load_n(&released, __ATOMIC_ACQUIRE)) {
        sched_yield();
    }
}

static uint64_t kick_runs(Vm *vm)
{
    uint64_t trapped, runs;

    testdev_kick_stats(vm, &trapped, &runs);
    return runs;
}

static void sleep_ms(int ms)
{
    struct timespec ts = { 0, ms * 1000000L };

    nanosleep(&ts, NULL);
}

int main(void)
{
    Vm *vm = g_new0(Vm, 1);
    uint64_t before, trapped, runs;
    int waited_ms = 0;

    vm->cfg.no_kvm = true;
    vm->kvm_fd = vm->vm_fd = -1;
    qemu_init_main_loop(&error_fatal);
    vm_memory_init(vm, 1 << 20, &error_fatal);
    iothread_start(&vm->iothread, "iothread0");
    if (!testdev_init(vm, &error_fatal) || vm->testdev.have_ioeventfd) {
        fprintf(stderr, "test-testdev: device setup\n");
        return 1;
    }
    aio_bh_schedule_oneshot(vm->iothread.ctx, stall_bh, NULL);
    while (!__atomic_load_n(&stalled, __ATOMIC_ACQUIRE)) {
        sched_yield();
    }
    before = kick_runs(vm);
    for (int i = 0; i < KICKS; i++) {
        uint32_t v = 0;

        if (!ioport_dispatch(vm, DB_PORT_KICK, 4, true, &v)) {
            fprintf(stderr, "test-testdev: kick port refused\n");
            return 1;
        }
    }
    __atomic_store_n(&released, 1, __ATOMIC_RELEASE);
    while (kick_runs(vm) == before && waited_ms < 20000) {
        sleep_ms(1);
        waited_ms++;
    }
    sleep_ms(100);              /* any further (wrong) runs happen now */
    testdev_kick_stats(vm, &trapped, &runs);
    iothread_stop(&vm->iothread);
    printf("test-testdev: %llu kicks while the iothread was held ran the "
           "handler %llu time(s)\n", (unsigned long long)trapped,
           (unsigned long long)(runs - before));
    if (trapped != KICKS || runs - before != 1) {
        fprintf(stderr, "test-testdev: FAIL: want %d kicks merged into 1 "
                "run\n", KICKS);
        return 1;
    }
    return 0;
}
