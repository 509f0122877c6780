/* harness/kvm/fuzz-devices.h — one hostile-guest program against the
 * device models; aborts on a broken invariant (see fuzz-devices.c). */
#ifndef QLOOP_KVM_FUZZ_DEVICES_H
#define QLOOP_KVM_FUZZ_DEVICES_H

#include <stddef.h>
#include <stdint.h>

int qloop_kvm_devices_run(const uint8_t *data, size_t size);

#endif
