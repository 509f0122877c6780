/* harness/kvm/fuzz-devices.h — one hostile-guest program against the
 * device models; aborts on a broken invariant (see fuzz-devices.c). */
#ifndef QLOOP_KVM_FUZZ_DEVICES_H
#define QLOOP_KVM_FUZZ_DEVICES_H

#include <stddef.h>
#include <stdint.h>

int qloop_kvm_devices_run(const uint8_t *data, size_t size);

/* libFuzzer's entry sends inputs starting with this byte to the Linux
 * loader checker (fuzz-linux-boot.h) instead. */
#define FUZZ_DEVICES_LINUX_BOOT 0xb2

/* What the programs run so far in this process reached (cumulative):
 * the driver asserts the interpreter covers what a guest controls. */
typedef struct FuzzReach {
    uint64_t slots;             /* bit n: a request was taken from slot n */
    uint64_t cons_wraps;        /* requests taken across cons = 2^32 */
    uint64_t overruns;          /* kicks refused: prod past the free slots */
    uint64_t out_of_order;      /* completions not of the oldest request */
    uint64_t ring_attaches, ring_outside, ring_misaligned;
} FuzzReach;

void qloop_kvm_devices_reach(FuzzReach *out);

#endif
