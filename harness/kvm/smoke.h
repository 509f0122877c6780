/*
 * harness/kvm/smoke.h — what qloop-smoke and qloop-vm share: defaults,
 * host detection and result printing.
 */
#ifndef QLOOP_KVM_SMOKE_H
#define QLOOP_KVM_SMOKE_H

#include "vmm.h"

#define TEST_GUEST_MARKER "QLOOP-GUEST-OK"
#define LINUX_MARKER "QLOOP-LINUX-OK"
/* reboot=t: triple-fault reboot, the fastest way out (KVM_EXIT_SHUTDOWN). */
#define LINUX_CMDLINE "console=ttyS0 earlyprintk=serial,ttyS0 reboot=t " \
    "panic=-1 pci=off quiet"

typedef struct HostKvm {
    bool dev_kvm;               /* /dev/kvm opens read-write */
    bool hw_virt;               /* vmx or svm in /proc/cpuinfo */
    bool pvm;                   /* the kvm_pvm module is loaded */
    char why_no_linux[200];     /* empty if Linux can boot */
} HostKvm;

void smoke_default_config(VmConfig *cfg);
void smoke_probe_host(HostKvm *host);
void smoke_print_result(const char *who, const VmResult *res);
/* Run one VM in a child process; the result comes back through a pipe. */
int smoke_run_child(const VmConfig *cfg, VmResult *res);

#endif
