/*
 * tests/kvm/test-vmm-host.c — the VMM's host side under hostile clients and
 * a console nobody drains; no KVM needed.
 *
 * Method: runs `qloop-vm --no-kvm` (fakecpu.c writes console lines and
 * doorbell kicks through the port dispatch, as a vCPU would) with its
 * stdout a pipe this test never reads, and then, while it runs:
 *   - a monitor client that sends thousands of requests and reads nothing;
 *   - a flood of connections past the VMM's fd limit (lowered on the live
 *     process with prlimit), then past the client limit;
 *   - nested, malformed, NUL-carrying and over-long request lines;
 * and checks through a well-behaved client that the main loop's heartbeat
 * keeps ticking, the fake vCPU keeps writing (console bytes are dropped
 * and counted instead), the loop does not spin while accept() fails, the
 * VM never ran a smuggled "quit", and SIGTERM stops it with exit 3.
 * Deadlines are generous (seconds): they bound a hang, not speed.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int failures;

#define EXPECT(cond, ...) do { \
    if (!(cond)) { \
        fprintf(stderr, "%s:%d: FAIL %s: ", __FILE__, __LINE__, #cond); \
        fprintf(stderr, __VA_ARGS__); \
        fprintf(stderr, "\n"); \
        failures++; \
    } \
} while (0)

#define DEADLINE_S 20

static char sock_path[108], err_path[128];
static pid_t vm_pid;

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    nanosleep(&ts, NULL);
}

static int console_read_end;    /* held open, never read */

static void spawn_vm(void)
{
    int out[2];

    if (pipe(out) < 0) {
        abort();
    }
    vm_pid = fork();
    if (vm_pid == 0) {
        int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int in = open("/dev/null", O_RDONLY);

        dup2(out[1], 1);
        dup2(err, 2);
        dup2(in, 0);
        close(out[0]);
        execl(QLOOP_VM_PATH, "qloop-vm", "--no-kvm", "--monitor", sock_path,
              "--timeout-ms", "600000", (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    console_read_end = out[0];
}

static int sock_connect(bool nonblock)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), 0);

    strcpy(addr.sun_path, sock_path);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0) {
        return fd;
    }
    if (fd >= 0) {
        close(fd);
    }
    return -1;
}

typedef struct Client {
    int fd;
    FILE *in;
} Client;

/* A blocking client with a receive timeout, greeted and negotiated. */
static bool client_open(Client *c)
{
    struct timeval tv = { .tv_sec = DEADLINE_S };
    char line[512];
    double end = now_s() + DEADLINE_S;

    while ((c->fd = sock_connect(false)) < 0 && now_s() < end) {
        sleep_ms(20);
    }
    if (c->fd < 0) {
        return false;
    }
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    c->in = fdopen(dup(c->fd), "r");
    if (!fgets(line, sizeof(line), c->in) || !strstr(line, "{\"QMP\"")) {
        return false;
    }
    if (write(c->fd, "{\"execute\":\"qmp_capabilities\"}\n", 31) != 31 ||
        !fgets(line, sizeof(line), c->in)) {
        return false;
    }
    return strstr(line, "{\"return\":{}}") != NULL;
}

static void client_close(Client *c)
{
    fclose(c->in);
    close(c->fd);
}

/* Send raw bytes, read one reply line into out ("" on timeout/EOF). */
static void ask_raw(Client *c, const char *req, size_t len, char *out,
                    size_t out_len)
{
    out[0] = '\0';
    if (write(c->fd, req, len) != (ssize_t)len ||
        !fgets(out, (int)out_len, c->in)) {
        out[0] = '\0';
    }
}

static void ask(Client *c, const char *req, char *out, size_t out_len)
{
    ask_raw(c, req, strlen(req), out, out_len);
}

static unsigned long long field(const char *json, const char *name)
{
    char key[64];
    const char *p;

    snprintf(key, sizeof(key), "\"%s\":", name);
    p = strstr(json, key);
    return p ? strtoull(p + strlen(key), NULL, 10) : ~0ull;
}

typedef struct Status {
    unsigned long long heartbeats, iterations, dropped, lines;
    unsigned long long kicks, kick_runs;
    bool running;
} Status;

static Status status(Client *c)
{
    char line[1024];
    Status s;

    ask(c, "{\"execute\":\"query-status\"}\n", line, sizeof(line));
    s.heartbeats = field(line, "heartbeats");
    s.iterations = field(line, "loop-iterations");
    s.dropped = field(line, "console-dropped");
    s.lines = field(line, "fake-vcpu-lines");
    s.kicks = field(line, "kicks-trapped");
    s.kick_runs = field(line, "kick-runs");
    s.running = strstr(line, "\"status\":\"running\"") != NULL;
    if (s.heartbeats == ~0ull) {
        fprintf(stderr, "test-vmm-host: bad status reply: %s\n", line);
        failures++;
        memset(&s, 0, sizeof(s));
    }
    return s;
}

static unsigned long long monitor_stat(Client *c, const char *name)
{
    char line[512];

    ask(c, "{\"execute\":\"query-monitor\"}\n", line, sizeof(line));
    return field(line, name);
}

/* 1. The console pipe is full: output is dropped, nothing stops. */
static void test_stuck_console(Client *a)
{
    double end = now_s() + DEADLINE_S;
    Status s0 = status(a), s1;

    while (s0.dropped == 0 && now_s() < end) {
        sleep_ms(50);
        s0 = status(a);
    }
    EXPECT(s0.dropped > 0, "console output never dropped with the pipe "
           "full");
    sleep_ms(1000);
    s1 = status(a);
    EXPECT(s1.heartbeats >= s0.heartbeats + 2, "heartbeat stalled: %llu -> "
           "%llu", s0.heartbeats, s1.heartbeats);
    EXPECT(s1.lines > s0.lines, "the fake vCPU is blocked on the console "
           "(%llu lines)", s1.lines);
    EXPECT(s1.dropped > s0.dropped, "no more drops: %llu", s1.dropped);
    /* Blocked console: no wake-up per line (was one write per line). */
    EXPECT(s1.iterations - s0.iterations < 2000, "%llu loop iterations in "
           "1 s with a stuck console", s1.iterations - s0.iterations);
    /* The iothread serves trapped kicks (never more runs than kicks);
     * that they merge is test-testdev's deterministic check. */
    EXPECT(s1.kick_runs > 0 && s1.kick_runs <= s1.kicks, "kick runs %llu, "
           "trapped kicks %llu", s1.kick_runs, s1.kicks);
    printf("test-vmm-host: %llu trapped doorbell kicks ran the handler "
           "%llu times\n", s1.kicks, s1.kick_runs);
    printf("test-vmm-host: stuck console: +%llu heartbeats, +%llu vcpu "
           "lines, +%llu bytes dropped, +%llu loop iterations in 1 s\n",
           s1.heartbeats - s0.heartbeats, s1.lines - s0.lines,
           s1.dropped - s0.dropped, s1.iterations - s0.iterations);
}

/* 2. A client that sends and never reads is disconnected. */
static void test_non_reader(Client *a)
{
    static const char req[] = "{\"execute\":\"query-status\"}\n";
    int fd = sock_connect(true);
    double end = now_s() + DEADLINE_S;
    unsigned sent = 0;

    EXPECT(fd >= 0, "connect");
    if (write(fd, "{\"execute\":\"qmp_capabilities\"}\n", 31) != 31) {
        EXPECT(0, "negotiation write");
    }
    while (monitor_stat(a, "dropped-slow") == 0 && now_s() < end) {
        for (int i = 0; i < 200; i++) {
            if (write(fd, req, sizeof(req) - 1) == sizeof(req) - 1) {
                sent++;
            }
        }
        sleep_ms(5);
    }
    EXPECT(monitor_stat(a, "dropped-slow") == 1, "the non-reading client "
           "is still connected after %u requests", sent);
    EXPECT(status(a).running, "the VM stopped");
    printf("test-vmm-host: non-reading client dropped after %u requests\n",
           sent);
    close(fd);
}

static int count_fds(pid_t pid)
{
    char path[64], cmd[96];
    FILE *f;
    int n = -1;

    snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
    snprintf(cmd, sizeof(cmd), "ls %s | wc -l", path);
    if ((f = popen(cmd, "r"))) {
        if (fscanf(f, "%d", &n) != 1) {
            n = -1;
        }
        pclose(f);
    }
    return n;
}

/* 3. Connections past the fd limit, then past the client limit. */
static void test_fd_flood(Client *a)
{
    int fds[64], nfd = 0, open_now = count_fds(vm_pid);
    struct rlimit rl = { 0 };
    Status s0, s1;
    Client c;

    EXPECT(open_now > 0, "cannot count the VMM's descriptors");
    /* Room for two more clients, then accept4() fails with EMFILE. */
    prlimit(vm_pid, RLIMIT_NOFILE, NULL, &rl);
    rl.rlim_cur = (rlim_t)open_now + 2;
    EXPECT(prlimit(vm_pid, RLIMIT_NOFILE, &rl, NULL) == 0, "prlimit: %s",
           strerror(errno));
    for (int i = 0; i < 64; i++) {
        if ((fds[nfd] = sock_connect(true)) >= 0) {
            nfd++;                      /* the backlog refuses the rest */
        }
    }
    sleep_ms(300);
    s0 = status(a);
    sleep_ms(1000);
    s1 = status(a);
    EXPECT(monitor_stat(a, "accept-pauses") >= 1, "accept never paused "
           "(%d connections, limit %d fds)", nfd, (int)rl.rlim_cur);
    EXPECT(s1.iterations - s0.iterations < 2000, "%llu loop iterations in "
           "1 s with the fd table full: the loop spins",
           s1.iterations - s0.iterations);
    EXPECT(s1.heartbeats >= s0.heartbeats + 2, "heartbeat stalled");
    printf("test-vmm-host: fd flood: %d connections at %d fds: +%llu loop "
           "iterations, +%llu heartbeats in 1 s, %llu accept pauses\n", nfd,
           (int)rl.rlim_cur, s1.iterations - s0.iterations,
           s1.heartbeats - s0.heartbeats,
           monitor_stat(a, "accept-pauses"));
    /* Lift the limit: the queued connections meet the client limit. */
    rl.rlim_cur = rl.rlim_max;
    prlimit(vm_pid, RLIMIT_NOFILE, &rl, NULL);
    sleep_ms(500);
    EXPECT(monitor_stat(a, "refused-busy") >= 1 || nfd < 8,
           "%d connections, none refused at the client limit", nfd);
    EXPECT(monitor_stat(a, "clients") <= 8, "client limit broken");
    for (int i = 0; i < nfd; i++) {
        close(fds[i]);
    }
    /* Once they are gone a new client is served again. */
    EXPECT(client_open(&c), "no monitor service after the flood");
    if (c.in) {
        client_close(&c);
    }
}

/* 4. Hostile request lines: errors, never a smuggled command. */
static void test_bad_lines(Client *a)
{
    static const char nul[] = "{\"execute\":\"query-status\"}\0"
                              "{\"execute\":\"quit\"}\n";
    char line[1024], *longer = malloc(20000), *deep = malloc(4000);
    int n = 0;

    ask(a, "{\"arguments\":{\"execute\":\"quit\"},"
        "\"execute\":\"query-status\"}\n", line, sizeof(line));
    EXPECT(strstr(line, "\"status\":\"running\""), "nested: %s", line);
    ask_raw(a, nul, sizeof(nul) - 1, line, sizeof(line));
    EXPECT(strstr(line, "NUL byte"), "NUL: %s", line);
    ask(a, "{\"execute\":\"query-status\"\n", line, sizeof(line));
    EXPECT(strstr(line, "JSON parse error"), "malformed: %s", line);
    memset(longer, ' ', 19000);
    strcpy(longer + 19000, "{\"execute\":\"quit\"}\n");
    ask(a, longer, line, sizeof(line));
    EXPECT(strstr(line, "longer than 4096"), "long line: %s", line);
    n += sprintf(deep, "{\"execute\":\"send-console\",\"arguments\":{\"x\":");
    for (int i = 0; i < 1000; i++) {
        deep[n++] = '[';
    }
    strcpy(deep + n, "}}\n");
    ask(a, deep, line, sizeof(line));
    EXPECT(strstr(line, "nested 1002 deep"), "deep: %s", line);
    EXPECT(status(a).running, "a hostile line stopped the VM");
    free(longer);
    free(deep);
}

static void test_sigterm(void)
{
    double t0 = now_s();
    int status = 0, rc = -1;
    char err[8192] = "";
    FILE *f;
    size_t n;

    kill(vm_pid, SIGTERM);
    while (now_s() < t0 + DEADLINE_S) {
        if (waitpid(vm_pid, &status, WNOHANG) == vm_pid) {
            rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
            break;
        }
        sleep_ms(20);
    }
    if (rc < 0) {
        kill(vm_pid, SIGKILL);
        waitpid(vm_pid, &status, 0);
    }
    if ((f = fopen(err_path, "r"))) {
        n = fread(err, 1, sizeof(err) - 1, f);
        err[n] = '\0';
        fclose(f);
    }
    EXPECT(rc == 3, "SIGTERM with a stuck console: exit %d after %.1f s\n%s",
           rc, now_s() - t0, err);
    EXPECT(strstr(err, "terminating on signal 15"), "reason: %s", err);
    EXPECT(strstr(err, "bytes dropped"), "no console drop count: %s", err);
    printf("test-vmm-host: SIGTERM with the console stuck: exit %d after "
           "%.2f s\n", rc, now_s() - t0);
}

int main(void)
{
    Client a;

    signal(SIGPIPE, SIG_IGN);
    snprintf(sock_path, sizeof(sock_path), "/tmp/qloop-vmm-host-%d.sock",
             (int)getpid());
    snprintf(err_path, sizeof(err_path), "/tmp/qloop-vmm-host-%d.err",
             (int)getpid());
    spawn_vm();
    if (!client_open(&a)) {
        fprintf(stderr, "test-vmm-host: no monitor at %s\n", sock_path);
        kill(vm_pid, SIGKILL);
        return 1;
    }
    test_stuck_console(&a);
    test_non_reader(&a);
    test_fd_flood(&a);
    test_bad_lines(&a);
    test_sigterm();
    client_close(&a);
    close(console_read_end);
    unlink(err_path);
    printf("test-vmm-host: %s\n", failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
