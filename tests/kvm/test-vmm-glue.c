/*
 * tests/kvm/test-vmm-glue.c — seeded hostile programs against serial.c and
 * ioport.c on the real main loop, no KVM (harness/kvm/fuzz-vmm.c holds the
 * world and its oracles).  A failure prints the seed; rerun with
 *   test-vmm-glue SEED
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz-vmm.h"

static volatile unsigned current_seed;

static void on_abort(int signo)
{
    fprintf(stderr, "VMM glue: FAILED at seed %u; reproduce with: "
            "test-vmm-glue %u\n", current_seed, current_seed);
    signal(signo, SIG_DFL);
}

static void run_seeds(unsigned seed0, unsigned runs)
{
    static uint8_t buf[2048];

    signal(SIGABRT, on_abort);
    for (unsigned seed = seed0; seed < seed0 + runs; seed++) {
        uint32_t x = seed * 2654435761u + 99;

        current_seed = seed;
        for (size_t i = 0; i < sizeof(buf); i++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            buf[i] = (uint8_t)x;
        }
        qloop_kvm_vmm_run(buf, 2 + (seed % 512) * 4);
    }
    printf("test-vmm-glue: seeds %u..%u clean\n", seed0, seed0 + runs - 1);
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc > 1) {
        run_seeds((unsigned)strtoul(argv[1], NULL, 0), 1);
        return 0;
    }
    FuzzVmmReach r;

    run_seeds(1, 1000);
    qloop_kvm_vmm_reach(&r);
    printf("test-vmm-glue: %llu runs, %llu lost console output (%llu bytes "
           "dropped, %llu written), %llu saw the marker, %llu accesses to "
           "unclaimed ports\n", (unsigned long long)r.runs,
           (unsigned long long)r.runs_dropping,
           (unsigned long long)r.bytes_dropped,
           (unsigned long long)r.bytes_written,
           (unsigned long long)r.runs_marker,
           (unsigned long long)r.unclaimed_ports);
    /* The programs must reach both sides of each rule. */
    if (r.runs_dropping == 0 || r.runs_dropping == r.runs ||
        r.runs_marker == 0 || r.runs_marker == r.runs ||
        r.unclaimed_ports == 0) {
        fprintf(stderr, "test-vmm-glue: FAIL: the programs miss a case\n");
        return 1;
    }
    return 0;
}
