/*
 * tests/kvm/test-vmm.c — qloop-vm against well-behaved and hostile guests.
 *
 * Method: each case runs qloop-vm as a child with one guest image from
 * harness/kvm/guest (built with GUEST_MODE variants) and checks the exit
 * status and the stop reason on its stderr.  The echo guest runs until it
 * reads '!' on its console, which lets us drive the monitor (status,
 * send-console, quit) and deliver SIGTERM while the VM is live.  Skips
 * (77) loudly without a usable /dev/kvm.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int failures;
static char err_path[256], sock_path[108];

#define EXPECT(cond, ...) do { \
    if (!(cond)) { \
        fprintf(stderr, "%s:%d: FAIL %s: ", __FILE__, __LINE__, #cond); \
        fprintf(stderr, __VA_ARGS__); \
        fprintf(stderr, "\n"); \
        failures++; \
    } \
} while (0)

static const char *stdin_path = "/dev/null";

/* The VMM's watchdog for each run (--timeout-ms). */
static const char *timeout_ms = "5000";

static pid_t spawn_vm(const char *guest, const char *extra1,
                      const char *extra2)
{
    char image[512];
    pid_t pid;

    snprintf(image, sizeof(image), "%s/%s.bin", QLOOP_GUEST_DIR, guest);
    pid = fork();
    if (pid == 0) {
        int fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int null = open("/dev/null", O_RDWR);
        int in = open(stdin_path, O_RDONLY);

        dup2(fd, 2);
        dup2(null, 1);
        dup2(in, 0);
        execl(QLOOP_VM_PATH, "qloop-vm", "--guest", image, "--timeout-ms",
              timeout_ms, extra1, extra2, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static int wait_vm(pid_t pid, char *err, size_t len)
{
    int status = 0;
    FILE *f;
    size_t n = 0;

    waitpid(pid, &status, 0);
    err[0] = '\0';
    if ((f = fopen(err_path, "r"))) {
        n = fread(err, 1, len - 1, f);
        fclose(f);
    }
    err[n] = '\0';
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void expect_run(const char *guest, int code, const char *needle)
{
    char err[4096];
    int rc = wait_vm(spawn_vm(guest, NULL, NULL), err, sizeof(err));

    EXPECT(rc == code && strstr(err, needle), "%s: exit %d (want %d), "
           "stderr:\n%s", guest, rc, code, err);
    printf("test-vmm: %-20s exit %d: %s\n", guest, rc,
           strstr(err, needle) ? needle : "(unexpected reason)");
}

/* Emulation failure on kvm_pvm, a bad port on hardware: exit 1 either way. */
static void test_emulation_failure(void)
{
    char err[4096];
    int rc = wait_vm(spawn_vm("iret-guest", NULL, NULL), err, sizeof(err));
    bool emu = strstr(err, "instruction emulation failed") != NULL;

    EXPECT(rc == 1 && (emu || strstr(err, "port 0x1234")) &&
           strstr(err, "rip="), "iret-guest: exit %d\n%s", rc, err);
    printf("test-vmm: iret-guest           exit %d: %s\n", rc,
           emu ? "KVM internal error (emulation failed), registers dumped"
               : "iret ran (hardware KVM), then the bad port");
}

/* 64 KiB on stdin: the guest's RX flow control and the VMM's stdin pause
 * (in_buf full -> handler removed -> a BH re-adds it) must pass it all. */
static void test_stdin_flood(void)
{
    char path[128], err[4096];
    FILE *f;
    int rc;

    snprintf(path, sizeof(path), "/tmp/qloop-test-vmm-%d.in", (int)getpid());
    f = fopen(path, "w");
    for (int i = 0; i < 65536; i++) {
        fputc('a' + i % 26, f);
    }
    fputc('!', f);
    fclose(f);
    stdin_path = path;
    /* 64 KiB through an emulated UART: seconds under software KVM on a
     * busy machine; the watchdog is for hangs, not for slow hosts. */
    timeout_ms = "60000";
    rc = wait_vm(spawn_vm("echo-guest", "--stdin", NULL), err, sizeof(err));
    timeout_ms = "5000";
    stdin_path = "/dev/null";
    unlink(path);
    EXPECT(rc == 0 && strstr(err, "QLOOP-GUEST-OK echo"),
           "stdin flood: exit %d\n%s", rc, err);
    printf("test-vmm: 64 KiB on stdin echoed: exit %d\n", rc);
}

static int monitor_connect(void)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    strcpy(addr.sun_path, sock_path);
    for (int i = 0; i < 500; i++) {         /* up to 5 s for the VMM */
        if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0) {
            return fd;
        }
        usleep(10000);
    }
    close(fd);
    return -1;
}

/* Send one line, return the next answer line (after any greeting). */
static void monitor_cmd(int fd, const char *cmd, char *out, size_t len)
{
    size_t n = 0;

    if (write(fd, cmd, strlen(cmd)) < 0) {
        out[0] = '\0';
        return;
    }
    while (n < len - 1 && read(fd, out + n, 1) == 1 && out[n] != '\n') {
        n++;
    }
    out[n] = '\0';
}

static void test_monitor(void)
{
    char err[4096], line[512];
    pid_t pid = spawn_vm("echo-guest", "--monitor", sock_path);
    int fd = monitor_connect(), rc;

    EXPECT(fd >= 0, "monitor socket %s", sock_path);
    if (fd < 0) {
        kill(pid, SIGKILL);
        wait_vm(pid, err, sizeof(err));
        return;
    }
    monitor_cmd(fd, "", line, sizeof(line));        /* greeting */
    EXPECT(strstr(line, "{\"QMP\":{\"version\":{\"qloop-vm\""),
           "greeting: %s", line);
    monitor_cmd(fd, "{\"execute\":\"qmp_capabilities\"}\n", line,
                sizeof(line));
    EXPECT(strcmp(line, "{\"return\":{}}") == 0, "negotiation: %s", line);
    monitor_cmd(fd, "{\"execute\":\"query-status\"}\n", line,
                sizeof(line));
    EXPECT(strstr(line, "\"status\":\"running\""), "status: %s", line);
    monitor_cmd(fd, "{\"execute\":\"nonsense\"}\n", line, sizeof(line));
    EXPECT(strstr(line, "CommandNotFound"), "unknown: %s", line);
    monitor_cmd(fd, "{\"execute\":\"send-console\",\"arguments\":"
                "{\"data\":\"hi!\\n\"}}\n", line, sizeof(line));
    EXPECT(strstr(line, "{\"return\":{\"accepted\":4}}"), "send-console: %s",
           line);
    close(fd);
    rc = wait_vm(pid, err, sizeof(err));
    EXPECT(rc == 0 && strstr(err, "QLOOP-GUEST-OK echo"),
           "echo via monitor: exit %d\n%s", rc, err);
    printf("test-vmm: monitor status/send-console: exit %d\n", rc);

    pid = spawn_vm("echo-guest", "--monitor", sock_path);
    fd = monitor_connect();
    EXPECT(fd >= 0, "monitor socket");
    monitor_cmd(fd, "", line, sizeof(line));
    monitor_cmd(fd, "{\"execute\":\"qmp_capabilities\"}\n", line,
                sizeof(line));
    monitor_cmd(fd, "{\"execute\":\"quit\"}\n", line, sizeof(line));
    EXPECT(strcmp(line, "{\"return\":{}}") == 0, "quit: %s", line);
    close(fd);
    rc = wait_vm(pid, err, sizeof(err));
    EXPECT(rc == 3 && strstr(err, "quit from the monitor"),
           "quit: exit %d\n%s", rc, err);
    printf("test-vmm: monitor quit: exit %d\n", rc);
}

static void test_sigterm(void)
{
    char err[4096], line[512];
    pid_t pid = spawn_vm("echo-guest", "--monitor", sock_path);
    int fd = monitor_connect(), rc;

    /* The monitor answering means the main loop is running. */
    monitor_cmd(fd, "", line, sizeof(line));
    monitor_cmd(fd, "{\"execute\":\"qmp_capabilities\"}\n", line,
                sizeof(line));
    monitor_cmd(fd, "{\"execute\":\"query-status\"}\n", line,
                sizeof(line));
    EXPECT(strstr(line, "\"status\":\"running\""), "status: %s", line);
    kill(pid, SIGTERM);
    rc = wait_vm(pid, err, sizeof(err));
    close(fd);
    EXPECT(rc == 3 && strstr(err, "terminating on signal 15"),
           "SIGTERM: exit %d\n%s", rc, err);
    printf("test-vmm: SIGTERM: exit %d (clean stop, no marker)\n", rc);
}

int main(void)
{
    const char *dev = getenv("QLOOP_KVM_DEV");

    if (access(dev && *dev ? dev : "/dev/kvm", R_OK | W_OK) != 0) {
        printf("test-vmm: SKIP: /dev/kvm is not usable on this host\n");
        return 77;
    }
    snprintf(err_path, sizeof(err_path), "/tmp/qloop-test-vmm-%d.err",
             (int)getpid());
    snprintf(sock_path, sizeof(sock_path), "/tmp/qloop-test-vmm-%d.sock",
             (int)getpid());
    expect_run("test-guest", 0, "QLOOP-GUEST-OK doorbells=1000");
    expect_run("storm-guest", 0, "QLOOP-GUEST-OK doorbells=1000");
    expect_run("storm-guest", 0, "device-side guest errors");
    expect_run("bad-port-guest", 1, "unexpected write to port 0x1234");
    expect_run("bad-mmio-guest", 1, "MMIO write at 0xd0000000");
    expect_run("triple-fault-guest", 3, "guest shutdown (triple fault");
    expect_run("reset-guest", 3, "guest reset through the i8042");
    expect_run("hang-guest", 2, "watchdog: no \"QLOOP-GUEST-OK\"");
    expect_run("fail-guest", 1, "guest wrote 7 to the debug-exit port");
    test_emulation_failure();
    test_stdin_flood();
    test_monitor();
    test_sigterm();
    unlink(err_path);
    printf("test-vmm: %s\n", failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
