/* harness/kvm/fuzz-linux-boot.h — one hostile bzImage through the Linux
 * loader, checked against boot.rst; aborts on a disagreement.  The
 * devices libFuzzer target runs it for inputs starting with 0xb2. */
#ifndef QLOOP_KVM_FUZZ_LINUX_BOOT_H
#define QLOOP_KVM_FUZZ_LINUX_BOOT_H

#include <stddef.h>
#include <stdint.h>

int qloop_kvm_linux_boot_run(const uint8_t *data, size_t size);

#endif
