/*
 * harness/kvm/smoke.c — host detection, defaults and child runs.
 *
 * Method: each VM runs in a forked child (qloop's main loop is once per
 * process, and a VMM that dies must not take the report with it); the
 * child sends its VmResult back through a pipe.  The host is described
 * before anything runs, so a skip always says why.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "smoke.h"

void smoke_default_config(VmConfig *cfg)
{
    if (cfg->ram_bytes == 0) {
        cfg->ram_bytes = cfg->kernel_path ? 256ull << 20 : 4ull << 20;
    }
    if (!cfg->marker) {
        cfg->marker = cfg->kernel_path ? LINUX_MARKER : TEST_GUEST_MARKER;
    }
    if (cfg->kernel_path) {
        cfg->lenient_io = true;         /* Linux probes absent ISA ports */
    }
    if (cfg->timeout_ms <= 0) {
        cfg->timeout_ms = 30000;
    }
}

void smoke_probe_host(HostKvm *host)
{
    g_autofree gchar *cpuinfo = NULL;
    int fd = open(vm_kvm_path(), O_RDWR | O_CLOEXEC);

    memset(host, 0, sizeof(*host));
    host->dev_kvm = fd >= 0;
    if (fd >= 0) {
        close(fd);
    }
    if (g_file_get_contents("/proc/cpuinfo", &cpuinfo, NULL, NULL)) {
        host->hw_virt = strstr(cpuinfo, " vmx") || strstr(cpuinfo, " svm");
    }
    host->pvm = g_file_test("/sys/module/kvm_pvm", G_FILE_TEST_IS_DIR);
    if (!host->dev_kvm) {
        snprintf(host->why_no_linux, sizeof(host->why_no_linux),
                 "no usable %s", vm_kvm_path());
    } else if (!host->hw_virt) {
        snprintf(host->why_no_linux, sizeof(host->why_no_linux),
                 "host KVM is %s without vmx/svm: it emulates guest "
                 "instructions and cannot boot an unmodified Linux kernel",
                 host->pvm ? "kvm_pvm" : "a software KVM");
    }
}

void smoke_print_result(const char *who, const VmResult *res)
{
    fprintf(stderr, "%s: stop: %s\n", who, res->reason);
    if (res->marker_seen) {
        fprintf(stderr, "%s: marker after %.1f ms: %s\n", who,
                res->marker_ns / 1e6, res->marker_line);
    } else {
        fprintf(stderr, "%s: marker NOT seen\n", who);
    }
    fprintf(stderr, "%s: exit %d, run %.1f ms, vcpu exits %llu, doorbell "
            "requests %llu, completions %llu, device-side guest errors "
            "%llu\n", who, res->exit_code, res->run_ns / 1e6,
            (unsigned long long)res->exits,
            (unsigned long long)res->doorbells,
            (unsigned long long)res->completions,
            (unsigned long long)res->device_errors);
    if (res->console_dropped) {
        fprintf(stderr, "%s: console: %llu bytes dropped (nobody read the "
                "console fast enough)\n", who,
                (unsigned long long)res->console_dropped);
    }
}

int smoke_run_child(const VmConfig *cfg, VmResult *res)
{
    int pipefd[2], status;
    pid_t pid;
    ssize_t n;

    memset(res, 0, sizeof(*res));
    if (pipe2(pipefd, O_CLOEXEC) < 0) {
        snprintf(res->reason, sizeof(res->reason), "pipe: %s",
                 strerror(errno));
        return res->exit_code = 1;
    }
    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        close(pipefd[0]);
        vm_run(cfg, res);
        n = write(pipefd[1], res, sizeof(*res));
        _exit(n == sizeof(*res) ? res->exit_code : 1);
    }
    close(pipefd[1]);
    n = pid < 0 ? -1 : read(pipefd[0], res, sizeof(*res));
    close(pipefd[0]);
    if (pid > 0) {
        waitpid(pid, &status, 0);
    }
    if (n != sizeof(*res)) {
        snprintf(res->reason, sizeof(res->reason),
                 "the VMM process died without a result (status %#x)",
                 pid > 0 ? status : -1);
        res->exit_code = 1;
    }
    return res->exit_code;
}
