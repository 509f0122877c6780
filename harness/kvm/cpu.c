/*
 * harness/kvm/cpu.c — vCPU threads: KVM_RUN and a switch on the exit reason.
 *
 * Method: each vCPU thread loops on KVM_RUN until vm_stopping().  Port I/O
 * goes to ioport_dispatch(); everything the guest should not do (an
 * unknown port, MMIO outside RAM, an emulation failure, a shutdown) ends
 * the run through vm_request_stop() with the exit reason and the guest's
 * registers — never an abort or a hang in the VMM.  The main loop stops a
 * vCPU with vcpu_kick(): run->immediate_exit plus SIGUSR1 to the thread,
 * so a kick that lands before KVM_RUN is not lost (KVM_CAP_IMMEDIATE_EXIT).
 */
#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "vmm.h"

static void vcpu_kick_signal(int signo)
{
    (void)signo;                /* only here to interrupt KVM_RUN */
}

static bool vcpu_set_cpuid(Vm *vm, Vcpu *cpu, Error **errp)
{
    int nent = 128;
    struct kvm_cpuid2 *cpuid;
    bool ok;

    cpuid = g_malloc0(sizeof(*cpuid) + nent * sizeof(cpuid->entries[0]));
    cpuid->nent = nent;
    if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid) < 0) {
        error_setg_errno(errp, errno, "KVM_GET_SUPPORTED_CPUID");
        g_free(cpuid);
        return false;
    }
    ok = ioctl(cpu->fd, KVM_SET_CPUID2, cpuid) == 0;
    if (!ok) {
        error_setg_errno(errp, errno, "KVM_SET_CPUID2");
    }
    g_free(cpuid);
    return ok;
}

bool vcpu_create(Vm *vm, int id, Error **errp)
{
    Vcpu *cpu = &vm->vcpus[id];
    struct sigaction sa = { .sa_handler = vcpu_kick_signal };

    g_assert(id < VMM_MAX_VCPUS && id == vm->nr_vcpus);
    cpu->vm = vm;
    cpu->id = id;
    cpu->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, id);
    if (cpu->fd < 0) {
        error_setg_errno(errp, errno, "KVM_CREATE_VCPU %d", id);
        return false;
    }
    cpu->run = mmap(NULL, vm->vcpu_mmap_bytes, PROT_READ | PROT_WRITE,
                    MAP_SHARED, cpu->fd, 0);
    if (cpu->run == MAP_FAILED) {
        error_setg_errno(errp, errno, "mapping kvm_run");
        return false;
    }
    vm->nr_vcpus++;
    /* No SA_RESTART: the kick must make KVM_RUN return -EINTR. */
    sigaction(SIGUSR1, &sa, NULL);
    return vcpu_set_cpuid(vm, cpu, errp);
}

static void seg_flat(struct kvm_segment *s, uint16_t selector, int type)
{
    *s = (struct kvm_segment){
        .base = 0, .limit = 0xffffffff, .selector = selector,
        .type = type, .present = 1, .dpl = 0, .db = 1, .s = 1, .g = 1,
    };
}

/*
 * 32-bit protected mode, flat segments, paging off: the state the Linux
 * 32-bit boot protocol specifies, and the test guest's entry state.  The
 * selectors match the GDT both guests load (0x10 code, 0x18 data).
 */
bool vcpu_set_entry(Vcpu *cpu, Error **errp)
{
    struct kvm_sregs sregs;
    struct kvm_regs regs = { 0 };

    if (ioctl(cpu->fd, KVM_GET_SREGS, &sregs) < 0) {
        error_setg_errno(errp, errno, "KVM_GET_SREGS");
        return false;
    }
    seg_flat(&sregs.cs, 0x10, 0xb);
    seg_flat(&sregs.ds, 0x18, 0x3);
    sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
    sregs.cr0 |= 1;             /* PE */
    if (cpu->vm->entry_gdt) {
        sregs.gdt.base = cpu->vm->entry_gdt;
        sregs.gdt.limit = cpu->vm->entry_gdt_limit;
    }
    regs.rflags = 2;
    regs.rip = cpu->vm->entry_rip;
    regs.rsi = cpu->vm->entry_rsi;
    regs.rsp = cpu->vm->entry_rsp;
    if (ioctl(cpu->fd, KVM_SET_SREGS, &sregs) < 0 ||
        ioctl(cpu->fd, KVM_SET_REGS, &regs) < 0) {
        error_setg_errno(errp, errno, "setting entry registers");
        return false;
    }
    return true;
}

/* "rip=... cs=..." for the stop reason: what the guest was doing. */
void vcpu_describe(Vcpu *cpu, char *buf, size_t len)
{
    struct kvm_regs r;
    struct kvm_sregs s;

    if (ioctl(cpu->fd, KVM_GET_REGS, &r) < 0 ||
        ioctl(cpu->fd, KVM_GET_SREGS, &s) < 0) {
        snprintf(buf, len, "(registers unavailable: %s)", strerror(errno));
        return;
    }
    snprintf(buf, len,
             "rip=%#llx rsp=%#llx rflags=%#llx rax=%#llx rbx=%#llx "
             "rcx=%#llx rdx=%#llx rsi=%#llx rdi=%#llx cs=%#x/base=%#llx "
             "cr0=%#llx cr3=%#llx cr4=%#llx efer=%#llx",
             r.rip, r.rsp, r.rflags, r.rax, r.rbx, r.rcx, r.rdx, r.rsi,
             r.rdi, s.cs.selector, s.cs.base, s.cr0, s.cr3, s.cr4, s.efer);
}

static void vcpu_fail(Vcpu *cpu, const char *what)
{
    char regs[512];

    vcpu_describe(cpu, regs, sizeof(regs));
    vm_request_stop(cpu->vm, 1, "vcpu%d: %s; %s", cpu->id, what, regs);
}

static bool vcpu_handle_io(Vcpu *cpu)
{
    struct kvm_run *run = cpu->run;
    uint8_t *data = (uint8_t *)run + run->io.data_offset;
    bool out = run->io.direction == KVM_EXIT_IO_OUT;
    unsigned size = run->io.size;

    /* rep ins/outs arrive as count > 1 items in one exit. */
    for (uint32_t i = 0; i < run->io.count; i++, data += size) {
        uint32_t value = 0;

        if (out) {
            memcpy(&value, data, size);
        }
        if (!ioport_dispatch(cpu->vm, run->io.port, size, out, &value)) {
            char what[96];

            snprintf(what, sizeof(what), "unexpected %s port %#x size %u",
                     out ? "write to" : "read from", run->io.port, size);
            vcpu_fail(cpu, what);
            return false;
        }
        if (!out) {
            memcpy(data, &value, size);
        }
    }
    return true;
}

/* One exit; false ends this vCPU's loop. */
static bool vcpu_handle_exit(Vcpu *cpu)
{
    struct kvm_run *run = cpu->run;
    char what[128];

    switch (run->exit_reason) {
    case KVM_EXIT_IO:
        return vcpu_handle_io(cpu);
    case KVM_EXIT_MMIO:
        if (cpu->vm->cfg.lenient_io) {
            /* Unassigned memory, as on a PC: reads all ones. */
            if (!run->mmio.is_write) {
                memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
            }
            return true;
        }
        snprintf(what, sizeof(what), "MMIO %s at %#llx (no device there)",
                 run->mmio.is_write ? "write" : "read",
                 (unsigned long long)run->mmio.phys_addr);
        vcpu_fail(cpu, what);
        return false;
    case KVM_EXIT_HLT:
        /* Only without an in-kernel irqchip; a halted guest is waiting. */
        vcpu_fail(cpu, "HLT exit (no in-kernel irqchip?)");
        return false;
    case KVM_EXIT_SHUTDOWN: {
        char regs[512];

        /* A clean stop only if the guest had passed already (run.c). */
        vcpu_describe(cpu, regs, sizeof(regs));
        vm_request_stop(cpu->vm, 0, "vcpu%d: guest shutdown (triple fault "
                        "or reset); %s", cpu->id, regs);
        return false;
    }
    case KVM_EXIT_SYSTEM_EVENT:
        vm_request_stop(cpu->vm, 0, "guest system event %u",
                        run->system_event.type);
        return false;
    case KVM_EXIT_INTERNAL_ERROR:
        snprintf(what, sizeof(what), "KVM internal error, suberror %u%s",
                 run->internal.suberror,
                 run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION
                     ? " (instruction emulation failed)" : "");
        vcpu_fail(cpu, what);
        return false;
    case KVM_EXIT_FAIL_ENTRY:
        snprintf(what, sizeof(what), "VM entry failed, reason %#llx",
                 (unsigned long long)
                     run->fail_entry.hardware_entry_failure_reason);
        vcpu_fail(cpu, what);
        return false;
    case KVM_EXIT_INTR:
        return true;            /* a kick; the loop re-checks stopping */
    default:
        snprintf(what, sizeof(what), "unhandled exit reason %u",
                 run->exit_reason);
        vcpu_fail(cpu, what);
        return false;
    }
}

static void *vcpu_thread(void *opaque)
{
    Vcpu *cpu = opaque;

    __atomic_store_n(&cpu->tid, pthread_self(), __ATOMIC_RELEASE);
    while (!vm_stopping(cpu->vm)) {
        if (ioctl(cpu->fd, KVM_RUN, 0) < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                /* A kick.  Clearing it cannot lose a stop: the stopper
                 * sets stop_requested before kicking, and we re-check. */
                __atomic_store_n(&cpu->run->immediate_exit, 0,
                                 __ATOMIC_RELAXED);
                continue;
            }
            vcpu_fail(cpu, strerror(errno));
            break;
        }
        __atomic_add_fetch(&cpu->exits, 1, __ATOMIC_RELAXED);
        if (!vcpu_handle_exit(cpu)) {
            break;
        }
    }
    return NULL;
}

void vcpu_start(Vcpu *cpu)
{
    char name[16];

    snprintf(name, sizeof(name), "vcpu%d", cpu->id);
    cpu->started = true;
    qemu_thread_create(&cpu->thread, name, vcpu_thread, cpu,
                       QEMU_THREAD_JOINABLE);
}

void vcpu_kick(Vcpu *cpu)
{
    __atomic_store_n(&cpu->run->immediate_exit, 1, __ATOMIC_RELEASE);
    if (__atomic_load_n(&cpu->tid, __ATOMIC_ACQUIRE)) {
        pthread_kill(cpu->tid, SIGUSR1);
    }
}

void vcpu_join(Vcpu *cpu)
{
    qemu_thread_join(&cpu->thread);
}
