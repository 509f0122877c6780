/*
 * harness/kvm/memory.c — guest RAM: one anonymous mapping, one memslot.
 *
 * Method: RAM starts at guest physical 0 and is one KVM memslot, so a
 * guest physical address translates by addition after a bounds check.
 * Every pointer a device takes from guest-controlled values goes through
 * vm_gpa(), which refuses ranges that leave RAM or wrap.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "vmm.h"

bool vm_memory_init(Vm *vm, uint64_t bytes, Error **errp)
{
    struct kvm_userspace_memory_region region;
    void *ram;

    ram = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (ram == MAP_FAILED) {
        error_setg_errno(errp, errno, "mapping %llu bytes of guest RAM",
                         (unsigned long long)bytes);
        return false;
    }
    region = (struct kvm_userspace_memory_region){
        .slot = 0,
        .guest_phys_addr = 0,
        .memory_size = bytes,
        .userspace_addr = (uintptr_t)ram,
    };
    /* --no-kvm: RAM for the devices, no VM to give it to. */
    if (vm->vm_fd >= 0 &&
        ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
        error_setg_errno(errp, errno, "KVM_SET_USER_MEMORY_REGION");
        munmap(ram, bytes);
        return false;
    }
    vm->ram = ram;
    vm->ram_bytes = bytes;
    return true;
}

void *vm_gpa(Vm *vm, uint64_t gpa, size_t len)
{
    if (gpa > vm->ram_bytes || len > vm->ram_bytes - gpa) {
        return NULL;
    }
    return vm->ram + gpa;
}
