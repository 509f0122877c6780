/*
 * harness/kvm/fakecpu.c — --no-kvm: a host thread in place of vCPU 0.
 *
 * Method: what a guest does through port exits, done by a plain thread
 * through the same ioport_dispatch() a vCPU's exit switch calls: console
 * lines written byte by byte to the 8250's THR (so serial.c's lock and
 * output ring see exactly a vCPU's traffic) and a trapped doorbell kick
 * per line (testdev.c's merged kick BH, no ring attached: the device
 * counts a protocol error and stays up).  It writes in bursts with a
 * short sleep, fast enough to fill any console nobody reads within a
 * fraction of a second, slow enough not to own a shared core.  This is
 * what lets the monitor, the console and shutdown be tested on hosts
 * without /dev/kvm (tests/kvm/test-vmm-host.c).
 */
#include <stdio.h>
#include <time.h>

#include "vmm.h"

#define FAKECPU_SERIAL_THR 0x3f8
#define FAKECPU_BURST_LINES 16          /* then sleep FAKECPU_PAUSE_NS */
#define FAKECPU_PAUSE_NS (1000 * 1000)

static void fakecpu_out(Vm *vm, uint16_t port, uint32_t value)
{
    if (!ioport_dispatch(vm, port, 1, true, &value)) {
        vm_request_stop(vm, 1, "fake vCPU: port %#x refused", port);
    }
}

static void *fakecpu_thread(void *opaque)
{
    Vm *vm = opaque;
    struct timespec pause = { .tv_nsec = FAKECPU_PAUSE_NS };
    uint64_t line = 0;

    while (!vm_stopping(vm)) {
        for (int i = 0; i < FAKECPU_BURST_LINES && !vm_stopping(vm); i++) {
            char text[64];
            int len = snprintf(text, sizeof(text),
                               "qloop fake vcpu: console line %llu\n",
                               (unsigned long long)line++);

            for (int j = 0; j < len; j++) {
                fakecpu_out(vm, FAKECPU_SERIAL_THR, (uint8_t)text[j]);
            }
            fakecpu_out(vm, DB_PORT_KICK, 0);
            __atomic_store_n(&vm->fake_lines, line, __ATOMIC_RELAXED);
        }
        nanosleep(&pause, NULL);
    }
    return NULL;
}

void fakecpu_start(Vm *vm)
{
    vm->fake_started = true;
    qemu_thread_create(&vm->fake_thread, "fakecpu", fakecpu_thread, vm,
                       QEMU_THREAD_JOINABLE);
}

void fakecpu_join(Vm *vm)
{
    if (vm->fake_started) {
        qemu_thread_join(&vm->fake_thread);
        vm->fake_started = false;
    }
}
