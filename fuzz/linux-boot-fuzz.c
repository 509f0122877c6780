/*
 * fuzz/linux-boot-fuzz.c — libFuzzer entry for the Linux loader
 * (harness/kvm/fuzz-linux-boot.c: fuzzed setup headers, RAM and initrd
 * sizes, checked against an independent reading of boot.rst).
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz-linux-boot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return qloop_kvm_linux_boot_run(data, size);
}
