/* harness/kvm/fuzz-vmm.h — one hostile-guest program against the VMM's
 * serial and port-dispatch glue, no KVM; aborts on a broken invariant
 * (see fuzz-vmm.c).  Uses the process's main loop. */
#ifndef QLOOP_KVM_FUZZ_VMM_H
#define QLOOP_KVM_FUZZ_VMM_H

#include <stddef.h>
#include <stdint.h>

int qloop_kvm_vmm_run(const uint8_t *data, size_t size);

/* What the programs so far reached (cumulative, for the driver). */
typedef struct FuzzVmmReach {
    uint64_t runs, runs_dropping, runs_marker;
    uint64_t bytes_written, bytes_dropped, unclaimed_ports;
} FuzzVmmReach;

void qloop_kvm_vmm_reach(FuzzVmmReach *out);

#endif
