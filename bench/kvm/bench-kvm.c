/*
 * bench/kvm/bench-kvm.c — the real-KVM numbers.
 *
 * Method: (1) doorbell round trips per second: the bench guests submit
 * 20000 requests through ioeventfd -> iothread (aio_poll) -> thread pool
 * -> irqfd, one at a time (b1: each request waits for its interrupt) or 8
 * in flight (b8); the time is the VMM's, from the first kick to the last
 * completion, so guest boot is excluded.  Each runs RUNS times in a fresh
 * VM; the median is reported.  (2) test-guest boot-to-marker.  (3) Linux
 * boot-to-marker beside Debian's qemu-system-x86_64 -M microvm on the same
 * kernel and initramfs, where the host can boot Linux — otherwise a loud
 * SKIP with the reason.
 *
 *   bench-kvm [RUNS]      (default 5; markdown on stdout)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smoke.h"

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

static int64_t median_run(const char *image, int runs, bool busy,
                          uint64_t *requests)
{
    int64_t t[32];
    int ok = 0;

    for (int i = 0; i < runs && i < 32; i++) {
        VmConfig cfg = { .guest_path = image, .timeout_ms = 120000,
                         .quiet = true };
        VmResult res;

        smoke_default_config(&cfg);
        if (smoke_run_child(&cfg, &res) != 0) {
            fprintf(stderr, "bench-kvm: %s failed: %s\n", image, res.reason);
            continue;
        }
        t[ok++] = busy ? res.doorbell_ns : res.marker_ns;
        *requests = res.completions;
    }
    if (ok == 0) {
        return -1;
    }
    qsort(t, ok, sizeof(t[0]), cmp_i64);
    return t[ok / 2];
}

/* Linux in qloop-vm: boot-to-marker, median of runs. */
static int64_t linux_qloop(const char *dir, int runs)
{
    g_autofree char *kernel = g_build_filename(dir, "vmlinuz", NULL);
    g_autofree char *initrd = g_build_filename(dir, "initrd.cpio", NULL);
    int64_t t[32];
    int ok = 0;

    for (int i = 0; i < runs && i < 32; i++) {
        VmConfig cfg = { .kernel_path = kernel, .initrd_path = initrd,
                         .cmdline = LINUX_CMDLINE, .timeout_ms = 60000,
                         .quiet = true };
        VmResult res;

        smoke_default_config(&cfg);
        if (smoke_run_child(&cfg, &res) == 0) {
            t[ok++] = res.marker_ns;
        }
    }
    if (!ok) {
        return -1;
    }
    qsort(t, ok, sizeof(t[0]), cmp_i64);
    return t[ok / 2];
}

/* The same kernel and initramfs in QEMU's microvm: time to the marker. */
static int64_t linux_qemu_once(const char *dir)
{
    g_autofree char *cmd = g_strdup_printf(
        "exec qemu-system-x86_64 -enable-kvm -cpu host -M microvm,acpi=off "
        "-m 256 -nodefaults -no-user-config -nographic -serial stdio "
        "-no-reboot -kernel %s/vmlinuz -initrd %s/initrd.cpio "
        "-append '" LINUX_CMDLINE "' 2>&1", dir, dir);
    int64_t start = g_get_monotonic_time(), found = -1;
    char line[512];
    FILE *p = popen(cmd, "r");

    if (!p) {
        return -1;
    }
    while (fgets(line, sizeof(line), p)) {
        if (found < 0 && strstr(line, LINUX_MARKER)) {
            found = (g_get_monotonic_time() - start) * 1000;
        }
    }
    pclose(p);                  /* reboot=t + -no-reboot: QEMU exits */
    return found;
}

static void linux_compare(const HostKvm *host, int runs)
{
    const char *dir = getenv("QLOOP_KVM_LINUX_DIR");
    g_autofree char *kernel = NULL;
    int64_t q, m;

    dir = dir ? dir : QLOOP_LINUX_DIR_DEFAULT;
    kernel = g_build_filename(dir, "vmlinuz", NULL);
    if (host->why_no_linux[0]) {
        printf("| Linux (Debian 6.1, busybox) | SKIPPED | SKIPPED |\n\n"
               "bench-kvm: SKIP Linux boot comparison: %s\n",
               host->why_no_linux);
        return;
    }
    if (!g_file_test(kernel, G_FILE_TEST_EXISTS)) {
        printf("| Linux | SKIPPED | SKIPPED |\n\nbench-kvm: SKIP Linux: %s "
               "missing (scripts/kvm-fetch-linux.sh)\n", kernel);
        return;
    }
    m = linux_qloop(dir, runs);
    q = g_find_program_in_path("qemu-system-x86_64") ? linux_qemu_once(dir)
                                                    : -2;
    printf("| Linux (Debian 6.1, busybox) | %.1f | %s |\n", m / 1e6,
           q == -2 ? "SKIPPED: no qemu-system-x86_64" : q < 0 ? "FAILED" : "");
    if (q >= 0) {
        printf("\nqemu microvm boot-to-marker: %.1f ms (one run)\n", q / 1e6);
    }
}

int main(int argc, char **argv)
{
    static const struct { const char *image, *what; } benches[] = {
        { "bench-b1-guest", "1 in flight (pure round trip)" },
        { "bench-b8-guest", "8 in flight" },
    };
    int runs = argc > 1 ? atoi(argv[1]) : 5;
    HostKvm host;
    char image[512];
    uint64_t requests = 0;
    int64_t ns;

    smoke_probe_host(&host);
    if (!host.dev_kvm) {
        printf("bench-kvm: SKIP: no usable /dev/kvm\n");
        return 77;
    }
    printf("## KVM doorbell round trips (%s, median of %d VMs)\n\n",
           host.hw_virt ? "hardware KVM" : host.pvm ? "kvm_pvm" : "KVM",
           runs);
    printf("| guest | requests | time ms | round trips/s | us/request |\n"
           "| --- | ---: | ---: | ---: | ---: |\n");
    for (size_t i = 0; i < G_N_ELEMENTS(benches); i++) {
        snprintf(image, sizeof(image), "%s/%s.bin", QLOOP_GUEST_DIR,
                 benches[i].image);
        ns = median_run(image, runs, true, &requests);
        if (ns <= 0) {
            printf("| %s | FAILED | | | |\n", benches[i].what);
            continue;
        }
        printf("| %s | %llu | %.1f | %.0f | %.2f |\n", benches[i].what,
               (unsigned long long)requests, ns / 1e6,
               requests / (ns / 1e9), ns / 1e3 / requests);
    }
    snprintf(image, sizeof(image), "%s/test-guest.bin", QLOOP_GUEST_DIR);
    ns = median_run(image, runs, false, &requests);
    printf("\n## Boot to marker\n\n| guest | qloop-vm ms | qemu microvm ms |\n"
           "| --- | ---: | ---: |\n| test guest (1000 doorbells) | %.1f | "
           "n/a (project guest) |\n", ns / 1e6);
    linux_compare(&host, runs);
    return 0;
}
