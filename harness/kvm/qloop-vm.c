/*
 * harness/kvm/qloop-vm.c — the VMM's command line: run one guest.
 *
 *   qloop-vm --guest harness/kvm/guest/test-guest.bin
 *   qloop-vm --kernel vmlinuz --initrd initrd.cpio --append "console=ttyS0"
 *            [--mem MiB] [--marker TEXT] [--timeout-ms N] [--monitor PATH]
 *            [--console FILE] [--stdin] [--quiet]
 *   qloop-vm --no-kvm [--monitor PATH] ...   no /dev/kvm: fakecpu.c writes
 *            console lines and doorbell kicks through the port dispatch
 *
 * Exit status: 0 the guest printed the marker and shut down; 1 the guest
 * or the VMM failed (reason and registers on stderr); 2 the watchdog
 * fired; 3 the run stopped without the marker; 77 no usable /dev/kvm.
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "vmm.h"
#include "smoke.h"

static void usage(void)
{
    fprintf(stderr,
            "usage: qloop-vm (--guest IMAGE | --kernel BZIMAGE [--initrd F]"
            " [--append CMDLINE])\n"
            "       [--mem MiB] [--marker TEXT] [--timeout-ms N]"
            " [--monitor PATH]\n"
            "       [--console FILE] [--stdin] [--quiet]\n"
            "       qloop-vm --no-kvm [options]   (host side only: a thread"
            " stands in for the vCPU)\n");
    exit(1);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "guest", required_argument, NULL, 'g' },
        { "kernel", required_argument, NULL, 'k' },
        { "initrd", required_argument, NULL, 'i' },
        { "append", required_argument, NULL, 'a' },
        { "mem", required_argument, NULL, 'm' },
        { "marker", required_argument, NULL, 'M' },
        { "timeout-ms", required_argument, NULL, 't' },
        { "monitor", required_argument, NULL, 'S' },
        { "console", required_argument, NULL, 'c' },
        { "stdin", no_argument, NULL, 's' },
        { "quiet", no_argument, NULL, 'q' },
        { "no-kvm", no_argument, NULL, 'N' },
        { 0 },
    };
    VmConfig cfg = {
        .ram_bytes = 0, .marker = NULL, .timeout_ms = 30000,
    };
    VmResult res;
    int c;

    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'g': cfg.guest_path = optarg; break;
        case 'k': cfg.kernel_path = optarg; break;
        case 'i': cfg.initrd_path = optarg; break;
        case 'a': cfg.cmdline = optarg; break;
        case 'm': cfg.ram_bytes = strtoull(optarg, NULL, 0) << 20; break;
        case 'M': cfg.marker = optarg; break;
        case 't': cfg.timeout_ms = strtoll(optarg, NULL, 0); break;
        case 'S': cfg.monitor_path = optarg; break;
        case 'c': cfg.console_path = optarg; break;
        case 's': cfg.console_stdin = true; break;
        case 'q': cfg.quiet = true; break;
        case 'N': cfg.no_kvm = true; break;
        default: usage();
        }
    }
    if ((cfg.no_kvm ? cfg.guest_path || cfg.kernel_path
                    : !cfg.guest_path == !cfg.kernel_path) || optind != argc) {
        usage();
    }
    smoke_default_config(&cfg);
    if (!cfg.no_kvm && access(vm_kvm_path(), R_OK | W_OK) != 0) {
        fprintf(stderr, "qloop-vm: SKIP: %s is not usable here\n",
                vm_kvm_path());
        return 77;
    }
    vm_run(&cfg, &res);
    smoke_print_result("qloop-vm", &res);
    return res.exit_code;
}
