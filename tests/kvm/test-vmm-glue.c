/*
 * tests/kvm/test-vmm-glue.c — seeded hostile programs against serial.c and
 * ioport.c on the real main loop, no KVM (harness/kvm/fuzz-vmm.c holds the
 * world and its oracles).  A failure prints the seed; rerun with
 *   test-vmm-glue SEED
 * `test-vmm-glue --write-seeds DIR SEED0 COUNT` writes those seeds'
 * programs as files instead: vmm-fuzz's seed corpus, corpus/vmm/.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-vmm.h"

static volatile unsigned current_seed;

static void on_abort(int signo)
{
    fprintf(stderr, "VMM glue: FAILED at seed %u; reproduce with: "
            "test-vmm-glue %u\n", current_seed, current_seed);
    signal(signo, SIG_DFL);
}

static uint8_t program[2048];

/* The program of one seed, in program[]; returns its length in bytes. */
static size_t make_program(unsigned seed)
{
    uint32_t x = seed * 2654435761u + 99;

    for (size_t i = 0; i < sizeof(program); i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        program[i] = (uint8_t)x;
    }
    return 2 + (seed % 512) * 4;
}

static void run_seeds(unsigned seed0, unsigned runs)
{
    signal(SIGABRT, on_abort);
    for (unsigned seed = seed0; seed < seed0 + runs; seed++) {
        current_seed = seed;
        qloop_kvm_vmm_run(program, make_program(seed));
    }
    printf("test-vmm-glue: seeds %u..%u clean\n", seed0, seed0 + runs - 1);
}

/* vmm-fuzz's seed corpus (corpus/vmm/): the programs of seeds SEED0.., one
 * file each, named seed-NNNN. */
static int write_seeds(const char *dir, unsigned seed0, unsigned count)
{
    for (unsigned seed = seed0; seed < seed0 + count; seed++) {
        char path[4096];
        size_t len = make_program(seed);
        FILE *f;

        snprintf(path, sizeof(path), "%s/seed-%04u", dir, seed);
        f = fopen(path, "wb");
        if (!f || fwrite(program, 1, len, f) != len || fclose(f) != 0) {
            fprintf(stderr, "%s:0: cannot write\n", path);
            return 2;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc == 5 && strcmp(argv[1], "--write-seeds") == 0) {
        return write_seeds(argv[2], (unsigned)strtoul(argv[3], NULL, 0),
                           (unsigned)strtoul(argv[4], NULL, 0));
    }
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
