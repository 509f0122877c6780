/*
 * harness/kvm/qloop-smoke.c — `qloop smoke`: the real-KVM smoke run.
 *
 * Method: describe the host (is /dev/kvm usable, is there vmx/svm, is it
 * kvm_pvm), run the project's test guest, then Debian's kernel with the
 * busybox initramfs where the host can boot Linux, each VM in its own
 * child process.  Every part prints RAN/PASS, FAIL or SKIP with why, and
 * the boot-to-marker time.  Exit 0 if everything that ran passed, 1 if
 * something failed, 77 (ctest's skip) without a usable /dev/kvm, 2 for bad
 * arguments.
 *
 *   qloop-smoke [--guest IMAGE] [--linux-dir DIR] [--timeout-ms N]
 *               [--console-dir DIR]
 * The Linux files are DIR/vmlinuz and DIR/initrd.cpio, made by
 * scripts/kvm-fetch-linux.sh (DIR defaults to $QLOOP_KVM_LINUX_DIR or
 * build/kvm-linux in the source tree).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smoke.h"

static int run_one(const char *name, VmConfig *cfg)
{
    VmResult res;
    int rc;

    smoke_default_config(cfg);
    printf("qloop smoke: RUN  %s\n", name);
    fflush(stdout);
    rc = smoke_run_child(cfg, &res);
    if (rc == 0) {
        printf("qloop smoke: PASS %s: boot-to-marker %.1f ms, run %.1f ms, "
               "%llu doorbells, %llu completions, %llu vcpu exits\n"
               "qloop smoke:      marker: %s\n", name, res.marker_ns / 1e6,
               res.run_ns / 1e6, (unsigned long long)res.doorbells,
               (unsigned long long)res.completions,
               (unsigned long long)res.exits, res.marker_line);
    } else {
        printf("qloop smoke: FAIL %s (exit %d): %s\n", name, rc, res.reason);
    }
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "guest", required_argument, NULL, 'g' },
        { "linux-dir", required_argument, NULL, 'l' },
        { "timeout-ms", required_argument, NULL, 't' },
        { "console-dir", required_argument, NULL, 'c' },
        { 0 },
    };
    const char *guest = QLOOP_TEST_GUEST_PATH;
    const char *linux_dir = getenv("QLOOP_KVM_LINUX_DIR");
    const char *console_dir = NULL;
    int64_t timeout_ms = 60000;
    HostKvm host;
    int c, failed = 0;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'g': guest = optarg; break;
        case 'l': linux_dir = optarg; break;
        case 't': {
            char *end;

            timeout_ms = strtoll(optarg, &end, 0);
            if (*end || timeout_ms <= 0) {
                fprintf(stderr, "qloop-smoke: --timeout-ms wants a positive "
                        "number of ms, not '%s'\n", optarg);
                return 2;
            }
            break;
        }
        case 'c': console_dir = optarg; break;
        default:
            fprintf(stderr, "usage: qloop-smoke [--guest IMAGE] "
                    "[--linux-dir DIR] [--timeout-ms N] [--console-dir D]\n");
            return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "qloop-smoke: unexpected argument '%s' (see the "
                "usage in docs/kvm.md)\n", argv[optind]);
        return 2;
    }
    if (!linux_dir) {
        linux_dir = QLOOP_LINUX_DIR_DEFAULT;
    }
    smoke_probe_host(&host);
    printf("qloop smoke: host: %s %s, hardware virtualization %s%s\n",
           vm_kvm_path(), host.dev_kvm ? "usable" : "NOT usable",
           host.hw_virt ? "yes (vmx/svm)" : "no",
           host.pvm ? ", kvm_pvm loaded" : "");
    if (!host.dev_kvm) {
        printf("qloop smoke: SKIP everything: no usable %s (tests need "
               "KVM; the device models run without it: ctest -L "
               "kvm-devices)\n", vm_kvm_path());
        return 77;
    }

    {
        g_autofree char *console = console_dir
            ? g_build_filename(console_dir, "test-guest.log", NULL) : NULL;
        VmConfig cfg = { .guest_path = guest, .timeout_ms = timeout_ms,
                         .console_path = console };

        failed |= run_one("test guest (doorbell x1000 via ioeventfd -> "
                          "iothread -> thread pool -> irqfd)", &cfg) != 0;
    }

    {
        g_autofree char *kernel = g_build_filename(linux_dir, "vmlinuz", NULL);
        g_autofree char *initrd = g_build_filename(linux_dir, "initrd.cpio",
                                                   NULL);
        g_autofree char *console = console_dir
            ? g_build_filename(console_dir, "linux.log", NULL) : NULL;
        VmConfig cfg = {
            .kernel_path = kernel, .initrd_path = initrd,
            .cmdline = LINUX_CMDLINE,
            .timeout_ms = timeout_ms, .console_path = console,
        };

        if (host.why_no_linux[0]) {
            printf("qloop smoke: SKIP Linux guest: %s\n", host.why_no_linux);
        } else if (!g_file_test(kernel, G_FILE_TEST_EXISTS) ||
                   !g_file_test(initrd, G_FILE_TEST_EXISTS)) {
            printf("qloop smoke: SKIP Linux guest: %s or %s missing (run "
                   "scripts/kvm-fetch-linux.sh)\n", kernel, initrd);
        } else {
            failed |= run_one("Linux guest (Debian kernel, busybox initramfs)",
                              &cfg) != 0;
        }
    }
    printf("qloop smoke: %s\n", failed ? "FAILED" : "passed");
    return failed ? 1 : 0;
}
