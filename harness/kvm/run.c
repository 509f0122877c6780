/*
 * harness/kvm/run.c — one VM run: set up, loop, stop, verdict.
 *
 * Method: the main thread blocks SIGTERM/SIGINT (before any thread exists,
 * so every thread inherits the mask) and reads them from its own signalfd
 * through qemu_set_fd_handler().  It then runs main_loop_wait() until some
 * thread calls vm_request_stop(): a vCPU (guest shutdown, debug-exit, an
 * unexpected exit), the monitor (quit), the signal handler, or the
 * watchdog — a QEMU_CLOCK_REALTIME timer that fails a guest which never
 * prints its marker.  Requests from other threads wake the loop with a
 * oneshot BH on the main AioContext.  Teardown: kick and join the vCPUs,
 * stop the iothread, flush the console.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "vmm.h"

/* After the marker, how long the guest may take to shut itself down. */
#define VM_SHUTDOWN_GRACE_MS 5000
/* The main loop's liveness tick (query-status "heartbeats"). */
#define VM_HEARTBEAT_MS 100

static void vm_wake_bh(void *opaque)
{
    (void)opaque;               /* running it makes main_loop_wait return */
}

bool vm_stopping(Vm *vm)
{
    return __atomic_load_n(&vm->stop_requested, __ATOMIC_ACQUIRE);
}

void vm_request_stop(Vm *vm, int exit_code, const char *fmt, ...)
{
    va_list ap;

    qemu_mutex_lock(&vm->stop_lock);
    if (!vm->stop_requested) {      /* the first reason is the verdict */
        va_start(ap, fmt);
        vsnprintf(vm->result.reason, sizeof(vm->result.reason), fmt, ap);
        va_end(ap);
        vm->result.exit_code = exit_code;
        __atomic_store_n(&vm->stop_requested, true, __ATOMIC_RELEASE);
    }
    qemu_mutex_unlock(&vm->stop_lock);
    for (int i = 0; i < vm->nr_vcpus; i++) {
        vcpu_kick(&vm->vcpus[i]);
    }
    aio_bh_schedule_oneshot(qemu_get_aio_context(), vm_wake_bh, vm);
}

/* Main loop: the marker line arrived (scheduled by the vCPU thread). */
static void vm_marker_bh(void *opaque)
{
    Vm *vm = opaque;

    timer_mod(vm->watchdog,
              qemu_clock_get_ms(QEMU_CLOCK_REALTIME) + VM_SHUTDOWN_GRACE_MS);
}

/* vCPU thread, under the serial lock. */
void vm_marker_seen(Vm *vm, const char *line)
{
    if (vm->result.marker_seen) {
        return;
    }
    vm->result.marker_ns = get_clock() - vm->start_ns;
    g_strlcpy(vm->result.marker_line, line, sizeof(vm->result.marker_line));
    __atomic_store_n(&vm->result.marker_seen, true, __ATOMIC_RELEASE);
    aio_bh_schedule_oneshot(qemu_get_aio_context(), vm_marker_bh, vm);
}

static void vm_watchdog(void *opaque)
{
    Vm *vm = opaque;

    if (__atomic_load_n(&vm->result.marker_seen, __ATOMIC_ACQUIRE)) {
        vm_request_stop(vm, 2, "watchdog: guest printed the marker but did "
                        "not shut down within %d ms", VM_SHUTDOWN_GRACE_MS);
    } else {
        vm_request_stop(vm, 2, "watchdog: no \"%s\" on the console within "
                        "%lld ms", vm->cfg.marker,
                        (long long)vm->cfg.timeout_ms);
    }
}

static void vm_heartbeat(void *opaque)
{
    Vm *vm = opaque;

    vm->heartbeats++;
    timer_mod(vm->heartbeat,
              qemu_clock_get_ms(QEMU_CLOCK_REALTIME) + VM_HEARTBEAT_MS);
}

static void vm_signal_read(void *opaque)
{
    Vm *vm = opaque;
    struct signalfd_siginfo info;

    while (read(vm->signal_fd, &info, sizeof(info)) == sizeof(info)) {
        /* QEMU's convention: terminating on a signal is a clean exit. */
        vm_request_stop(vm, 0, "terminating on signal %u (%s)",
                        info.ssi_signo, strsignal(info.ssi_signo));
    }
}

static bool vm_signals_init(Vm *vm, Error **errp)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    /* A console or monitor peer that closes is an EPIPE, not a death. */
    signal(SIGPIPE, SIG_IGN);
    vm->signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (vm->signal_fd < 0) {
        error_setg_errno(errp, errno, "signalfd");
        return false;
    }
    qemu_set_fd_handler(vm->signal_fd, vm_signal_read, NULL, vm);
    return true;
}

/* Everything before the vCPUs start; false leaves the reason in errp. */
static bool vm_setup(Vm *vm, Error **errp)
{
    if (!vm_signals_init(vm, errp)) {
        return false;
    }
    if (vm->cfg.no_kvm) {
        /* Devices, loops and monitor without a VM (tests of the host side
         * on machines without /dev/kvm): fakecpu.c drives the ports. */
        if (!vm_memory_init(vm, vm->cfg.ram_bytes, errp)) {
            return false;
        }
    } else if (!vm_create(vm, errp)) {
        return false;
    }
    platform_devices_init(vm);
    serial_init(vm, errp);
    if (*errp) {
        return false;
    }
    iothread_start(&vm->iothread, "iothread0");
    if (!testdev_init(vm, errp)) {
        return false;
    }
    if (vm->cfg.monitor_path && !monitor_init(vm, vm->cfg.monitor_path, errp)) {
        return false;
    }
    if (vm->cfg.no_kvm) {
        return true;
    }
    if (vm->cfg.kernel_path ? !boot_linux(vm, errp)
                            : !boot_flat_image(vm, vm->cfg.guest_path, errp)) {
        return false;
    }
    return vcpu_create(vm, 0, errp) && vcpu_set_entry(&vm->vcpus[0], errp);
}

static void vm_collect(Vm *vm)
{
    if (vm->testdev.vm) {
        testdev_stats(vm, &vm->result.doorbells, &vm->result.completions);
        vm->result.doorbell_ns = testdev_busy_ns(vm);
        vm->result.device_errors = testdev_errors(vm);
    }
    for (int i = 0; i < vm->nr_vcpus; i++) {
        vm->result.exits += vm->vcpus[i].exits;
    }
    vm->result.run_ns = get_clock() - vm->start_ns;
    if (vm->serial.vm) {
        uint64_t written;

        serial_console_stats(&vm->serial, &written,
                             &vm->result.console_dropped);
    }
}

int vm_run(const VmConfig *cfg, VmResult *result)
{
    Vm *vm = g_new0(Vm, 1);
    Error *err = NULL;

    vm->cfg = *cfg;
    vm->kvm_fd = vm->vm_fd = vm->signal_fd = -1;
    qemu_mutex_init(&vm->stop_lock);
    qemu_init_main_loop(&error_fatal);
    vm->start_ns = get_clock();
    if (!vm_setup(vm, &err)) {
        vm_request_stop(vm, 1, "setup failed: %s", error_get_pretty(err));
        error_free(err);
    } else {
        vm->watchdog = timer_new_ms(QEMU_CLOCK_REALTIME, vm_watchdog, vm);
        timer_mod(vm->watchdog,
                  qemu_clock_get_ms(QEMU_CLOCK_REALTIME) + cfg->timeout_ms);
        vm->heartbeat = timer_new_ms(QEMU_CLOCK_REALTIME, vm_heartbeat, vm);
        vm_heartbeat(vm);
        if (cfg->no_kvm) {
            fakecpu_start(vm);
        } else {
            vcpu_start(&vm->vcpus[0]);
        }
    }
    while (!vm_stopping(vm)) {
        main_loop_wait(false);
        vm->loop_iterations++;
    }
    fakecpu_join(vm);
    for (int i = 0; i < vm->nr_vcpus; i++) {
        if (vm->vcpus[i].started) {
            vcpu_kick(&vm->vcpus[i]);
            vcpu_join(&vm->vcpus[i]);
        }
    }
    if (vm->result.exit_code == 2 && vm->nr_vcpus > 0) {
        /* Watchdog: say where the guest was (the vCPU is joined now). */
        char regs[512];
        size_t len = strlen(vm->result.reason);

        vcpu_describe(&vm->vcpus[0], regs, sizeof(regs));
        snprintf(vm->result.reason + len, sizeof(vm->result.reason) - len,
                 "; vcpu0 %s", regs);
    }
    iothread_stop(&vm->iothread);
    serial_flush(&vm->serial);
    vm_collect(vm);
    if (!vm->result.marker_seen && vm->result.exit_code == 0 &&
        cfg->marker && *cfg->marker) {
        vm->result.exit_code = 3;       /* stopped cleanly, never passed */
    }
    *result = vm->result;
    monitor_close(vm);
    serial_close(&vm->serial);
    return result->exit_code;
}
