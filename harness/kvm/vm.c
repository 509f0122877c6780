/*
 * harness/kvm/vm.c — the VM: /dev/kvm, capabilities, irqchip, PIT, TSS.
 *
 * Method: probe every capability first and record it in vm->caps, so the
 * caller can print what this host can and cannot do (kvm_pvm creates all
 * of these; an old host may lack irqfd or ioeventfd and then the test
 * device falls back to trapped port I/O and KVM_IRQ_LINE).  The in-kernel
 * irqchip (8259 pair, IOAPIC, local APICs) and the PIT are required: the
 * test guest programs the 8259 and Linux calibrates against the PIT.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm.h"

/* Three pages below 4 GiB that no guest RAM covers (as QEMU and kvmtool). */
#define VM_TSS_ADDR 0xfffbd000

static bool vm_cap(Vm *vm, long cap)
{
    return ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, cap) > 0;
}

static void vm_probe_caps(Vm *vm)
{
    vm->caps.irqchip = vm_cap(vm, KVM_CAP_IRQCHIP);
    vm->caps.pit = vm_cap(vm, KVM_CAP_PIT2);
    vm->caps.irqfd = vm_cap(vm, KVM_CAP_IRQFD);
    vm->caps.ioeventfd = vm_cap(vm, KVM_CAP_IOEVENTFD);
    vm->caps.immediate_exit = vm_cap(vm, KVM_CAP_IMMEDIATE_EXIT);
    vm->caps.cpuid = vm_cap(vm, KVM_CAP_EXT_CPUID);
}

/* $QLOOP_KVM_DEV overrides /dev/kvm (tests use it to check the skip path). */
const char *vm_kvm_path(void)
{
    const char *path = getenv("QLOOP_KVM_DEV");

    return path && *path ? path : "/dev/kvm";
}

bool vm_create(Vm *vm, Error **errp)
{
    struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
    int version;

    vm->kvm_fd = open(vm_kvm_path(), O_RDWR | O_CLOEXEC);
    if (vm->kvm_fd < 0) {
        error_setg_errno(errp, errno, "opening %s", vm_kvm_path());
        return false;
    }
    version = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
    if (version != KVM_API_VERSION) {
        error_setg(errp, "KVM API version %d, want %d", version,
                   KVM_API_VERSION);
        return false;
    }
    vm_probe_caps(vm);
    vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
    if (vm->vm_fd < 0) {
        error_setg_errno(errp, errno, "KVM_CREATE_VM");
        return false;
    }
    vm->vcpu_mmap_bytes = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (vm->vcpu_mmap_bytes <= 0) {
        error_setg_errno(errp, errno, "KVM_GET_VCPU_MMAP_SIZE");
        return false;
    }
    /* Intel needs the TSS for real-mode emulation; harmless elsewhere. */
    if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, VM_TSS_ADDR) < 0) {
        error_setg_errno(errp, errno, "KVM_SET_TSS_ADDR");
        return false;
    }
    if (!vm->caps.irqchip || ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
        error_setg_errno(errp, errno, "KVM_CREATE_IRQCHIP");
        return false;
    }
    if (!vm->caps.pit || ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
        error_setg_errno(errp, errno, "KVM_CREATE_PIT2");
        return false;
    }
    return vm_memory_init(vm, vm->cfg.ram_bytes, errp);
}

void vm_destroy(Vm *vm)
{
    for (int i = 0; i < vm->nr_vcpus; i++) {
        munmap(vm->vcpus[i].run, vm->vcpu_mmap_bytes);
        close(vm->vcpus[i].fd);
    }
    if (vm->ram) {
        munmap(vm->ram, vm->ram_bytes);
    }
    if (vm->vm_fd >= 0) {
        close(vm->vm_fd);
    }
    if (vm->kvm_fd >= 0) {
        close(vm->kvm_fd);
    }
}

bool vm_irq_line(Vm *vm, int irq, bool level)
{
    struct kvm_irq_level line = { .irq = irq, .level = level };

    if (vm->vm_fd < 0) {
        return true;            /* --no-kvm: no interrupt controller */
    }
    return ioctl(vm->vm_fd, KVM_IRQ_LINE, &line) == 0;
}
