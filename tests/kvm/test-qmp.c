/*
 * tests/kvm/test-qmp.c — the monitor server against hostile clients, no KVM.
 *
 * Method: a qmp-server on the real main loop (host backend) with test
 * commands, and clients on real Unix sockets in the same process.  The
 * test pumps main_loop_wait() itself, with a 10 ms heartbeat timer, so it
 * can count loop iterations and heartbeats while a client misbehaves:
 *   parser:  nested "execute", malformed JSON, deep nesting, NUL bytes,
 *            wrong member types, unknown members, ids echoed;
 *   framing: an over-long line is one error and its tail never runs;
 *   output:  a client that never reads is disconnected at the bound while
 *            another client and the heartbeat carry on;
 *   accept:  the client limit; EMFILE (RLIMIT_NOFILE lowered, the table
 *            filled) pauses accepting without spinning and resumes on the
 *            retry timer or when a client closes;
 *   teardown with live clients (run it under ASan to see a stale watch).
 * Bounds are deadlines of seconds: they catch a hang, not slowness.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "qmp-server.h"

static int failures;

#define EXPECT(cond, ...) do { \
    if (!(cond)) { \
        fprintf(stderr, "%s:%d: FAIL %s: ", __FILE__, __LINE__, #cond); \
        fprintf(stderr, __VA_ARGS__); \
        fprintf(stderr, "\n"); \
        failures++; \
    } \
} while (0)

#define DEADLINE_NS (10000 * (int64_t)SCALE_MS)

static char sock_path[108];
static uint64_t heartbeats, iterations;
static QEMUTimer *heartbeat_timer;
static int count_runs, quit_runs;

static void heartbeat(void *opaque)
{
    heartbeats++;
    timer_mod(heartbeat_timer, qemu_clock_get_ms(QEMU_CLOCK_REALTIME) + 10);
}

static void pump(void)
{
    main_loop_wait(false);
    iterations++;
}

/* ---- test commands ---- */

static JsonNode *cmd_count(void *opaque, JsonObject *args, QmpError *err)
{
    JsonNode *n = json_node_alloc();

    json_node_init_int(n, ++count_runs);
    return n;
}

static JsonNode *cmd_quit(void *opaque, JsonObject *args, QmpError *err)
{
    quit_runs++;
    return NULL;
}

/* A reply of "bytes" characters: lets a client make the server write. */
static JsonNode *cmd_pad(void *opaque, JsonObject *args, QmpError *err)
{
    gint64 bytes = json_object_get_int_member_with_default(args, "bytes", 0);
    g_autofree char *text = NULL;
    JsonNode *n;

    if (bytes < 0 || bytes > 16000) {
        qmp_error_set(err, "GenericError", "bytes out of range");
        return NULL;
    }
    text = g_strnfill((gsize)bytes, 'p');
    n = json_node_alloc();
    json_node_init_string(n, text);
    return n;
}

static const QmpCommand test_cmds[] = {
    { "count", cmd_count }, { "quit", cmd_quit }, { "pad", cmd_pad },
    { NULL, NULL },
};

/* ---- clients ---- */

typedef struct Client {
    int fd;
    GString *rx;
    bool eof;
} Client;

static Client client_connect(void)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    Client c = { .fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0) };

    strcpy(addr.sun_path, sock_path);
    if (c.fd < 0 || connect(c.fd, (struct sockaddr *)&addr,
                            sizeof(addr)) < 0) {
        fprintf(stderr, "connect %s: %s\n", sock_path, strerror(errno));
        abort();
    }
    c.rx = g_string_new(NULL);
    return c;
}

static void client_close(Client *c)
{
    if (c->fd >= 0) {
        close(c->fd);
    }
    c->fd = -1;
    g_string_free(c->rx, TRUE);
    c->rx = NULL;
}

static void client_send(Client *c, const char *data, size_t len)
{
    size_t done = 0;
    int64_t deadline = get_clock() + DEADLINE_NS;

    while (done < len && get_clock() < deadline) {
        ssize_t n = write(c->fd, data + done, len - done);

        if (n > 0) {
            done += (size_t)n;
        } else {
            pump();             /* the server reads while we wait */
        }
    }
    if (done < len) {
        fprintf(stderr, "client_send: stuck\n");
        abort();
    }
}

static void client_sends(Client *c, const char *text)
{
    client_send(c, text, strlen(text));
}

static void client_poll(Client *c)
{
    char buf[4096];
    ssize_t n;

    while ((n = read(c->fd, buf, sizeof(buf))) > 0) {
        g_string_append_len(c->rx, buf, n);
    }
    if (n == 0) {
        c->eof = true;
    }
}

/* The next reply line (malloc'd), pumping the loop; NULL on EOF/deadline. */
static char *client_line(Client *c)
{
    int64_t deadline = get_clock() + DEADLINE_NS;

    for (;;) {
        char *nl;

        client_poll(c);
        nl = memchr(c->rx->str, '\n', c->rx->len);
        if (nl) {
            char *line = g_strndup(c->rx->str, (gsize)(nl - c->rx->str));

            g_string_erase(c->rx, 0, nl + 1 - c->rx->str);
            return line;
        }
        if (c->eof || get_clock() > deadline) {
            return NULL;
        }
        pump();
    }
}

static void expect_reply(Client *c, const char *send, const char *needle,
                         int line)
{
    g_autofree char *reply = NULL;

    if (send) {
        client_sends(c, send);
    }
    reply = client_line(c);
    if (!reply || !strstr(reply, needle)) {
        fprintf(stderr, "%s:%d: FAIL after %s: want %s, got %s\n",
                __FILE__, line, send ? send : "(nothing)", needle,
                reply ? reply : "(no line)");
        failures++;
    }
}
#define REPLY(c, send, needle) expect_reply((c), (send), (needle), __LINE__)

static Client client_ready(void)
{
    Client c = client_connect();

    REPLY(&c, NULL, "{\"QMP\":{\"version\":{\"qloop-vm\":");
    REPLY(&c, "{\"execute\":\"qmp_capabilities\"}\n", "{\"return\":{}}");
    return c;
}

static QmpServer *server_new(QmpLimits limits)
{
    return qmp_server_new(sock_path, test_cmds, NULL, &limits, &error_fatal);
}

/* ---- tests ---- */

static void test_negotiation(void)
{
    QmpServer *srv = server_new(QMP_LIMITS_DEFAULT);
    Client c = client_connect();

    REPLY(&c, NULL, "\"capabilities\":[]");
    REPLY(&c, "{\"execute\":\"count\"}\n",
          "{\"error\":{\"class\":\"CommandNotFound\",\"desc\":\"Expecting "
          "capabilities negotiation");
    EXPECT(count_runs == 0, "count ran before negotiation");
    REPLY(&c, "{\"execute\":\"qmp_capabilities\",\"id\":7}\n",
          "{\"return\":{},\"id\":7}");
    REPLY(&c, "{\"execute\":\"qmp_capabilities\"}\n",
          "already complete");
    REPLY(&c, "{\"execute\":\"count\",\"id\":\"a\\\"b\"}\n",
          "{\"return\":1,\"id\":\"a\\\"b\"}");
    REPLY(&c, "{\"execute\":\"query-monitor\"}\n", "\"clients\":1");
    client_close(&c);
    qmp_server_free(srv);
    count_runs = 0;
}

static void test_malformed(void)
{
    QmpServer *srv = server_new(QMP_LIMITS_DEFAULT);
    Client c = client_ready();
    GString *deep = g_string_new("{\"execute\":\"count\",\"arguments\":"
                                 "{\"x\":");

    /* Only the top-level "execute" counts. */
    REPLY(&c, "{\"arguments\":{\"execute\":\"quit\"},\"execute\":\"count\"}\n",
          "{\"return\":1}");
    EXPECT(quit_runs == 0, "a nested execute ran");
    REPLY(&c, "{\"execute\":\n", "JSON parse error");
    REPLY(&c, "{\"execute\":\"count\"\n", "JSON parse error");
    REPLY(&c, "[1,2]\n", "must be a JSON object");
    REPLY(&c, "\"count\"\n", "must be a JSON object");
    REPLY(&c, "\n", "must be a JSON object");
    REPLY(&c, "{\"arguments\":{}}\n", "lacks member 'execute'");
    REPLY(&c, "{\"execute\":1,\"id\":3}\n",
          "'execute' must be a string\"},\"id\":3}");
    REPLY(&c, "{\"execute\":[\"quit\"]}\n", "must be a string");
    REPLY(&c, "{\"execute\":\"count\",\"arguments\":[]}\n",
          "'arguments' must be an object");
    REPLY(&c, "{\"execute\":\"count\",\"bogus\":1}\n",
          "'bogus' is unexpected");
    REPLY(&c, "{\"execute\":\"nope\"}\n",
          "\"class\":\"CommandNotFound\"");
    REPLY(&c, "{\"execute\":\"pad\",\"arguments\":{\"bytes\":-1}}\n",
          "bytes out of range");
    /* Nesting: the bound itself is accepted, one more level is refused. */
    for (int i = 0; i < QMP_NESTING_MAX - 2; i++) {
        g_string_append_c(deep, '[');
    }
    for (int i = 0; i < QMP_NESTING_MAX - 2; i++) {
        g_string_append_c(deep, ']');
    }
    g_string_append(deep, "}}\n");
    REPLY(&c, deep->str, "{\"return\":2}");
    g_string_insert_c(deep, deep->len - 3 - (QMP_NESTING_MAX - 2), '[');
    g_string_insert_c(deep, deep->len - 3, ']');
    REPLY(&c, deep->str, "nested 33 deep, limit 32");
    /* Brackets inside strings are data, not nesting. */
    REPLY(&c, "{\"execute\":\"count\",\"arguments\":{\"s\":\"[[[[[[[[[[[[[["
          "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\\"[[[[\"}}\n",
          "{\"return\":3}");
    EXPECT(count_runs == 3, "count ran %d times, want 3", count_runs);
    EXPECT(quit_runs == 0, "quit ran");
    g_string_free(deep, TRUE);
    client_close(&c);
    qmp_server_free(srv);
    count_runs = 0;
}

static void test_nul_and_long_lines(void)
{
    QmpLimits limits = QMP_LIMITS_DEFAULT;
    QmpServer *srv = server_new(limits);
    Client c = client_ready();
    static const char nul_line[] = "{\"execute\":\"count\"}\0"
                                   "{\"execute\":\"quit\"}\n";
    g_autofree char *longer = g_strnfill(limits.line_bytes_max * 3, ' ');
    QmpStats st;

    /* A NUL byte spoils its line only; the next command still runs. */
    client_send(&c, nul_line, sizeof(nul_line) - 1);
    REPLY(&c, NULL, "NUL byte");
    REPLY(&c, "{\"execute\":\"count\"}\n", "{\"return\":1}");
    /* An over-long line: one error; its tail (a command) never runs. */
    client_sends(&c, longer);
    client_sends(&c, "{\"execute\":\"quit\"}\n{\"execute\":\"count\"}\n");
    REPLY(&c, NULL, "longer than 4096 bytes");
    REPLY(&c, NULL, "{\"return\":2}");
    EXPECT(quit_runs == 0, "the tail of an over-long line ran");
    /* Just under the bound is a normal line. */
    memset(longer, ' ', limits.line_bytes_max - 20);
    strcpy(longer + limits.line_bytes_max - 20, "{\"execute\":\"count\"}");
    client_sends(&c, longer);
    REPLY(&c, "\n", "{\"return\":3}");
    qmp_server_stats(srv, &st);
    EXPECT(st.errors == 2, "errors %llu, want 2",
           (unsigned long long)st.errors);
    client_close(&c);
    qmp_server_free(srv);
    count_runs = 0;
}

static void test_slow_reader(void)
{
    QmpLimits limits = QMP_LIMITS_DEFAULT;
    QmpServer *srv;
    Client slow, good;
    static const char req[] = "{\"execute\":\"pad\",\"arguments\":"
                              "{\"bytes\":16000}}\n";
    int64_t deadline = get_clock() + DEADLINE_NS;
    uint64_t beats_before;
    unsigned sent = 0;
    QmpStats st;

    limits.out_bytes_max = 32 * 1024;
    srv = server_new(limits);
    slow = client_ready();
    good = client_ready();
    beats_before = heartbeats;
    /* The slow client never reads: the socket fills, then its buffer. */
    do {
        if (write(slow.fd, req, sizeof(req) - 1) == sizeof(req) - 1) {
            sent++;
        }
        pump();
        qmp_server_stats(srv, &st);
    } while (st.dropped_slow == 0 && get_clock() < deadline);
    EXPECT(st.dropped_slow == 1, "the non-reading client was not dropped "
           "after %u requests", sent);
    EXPECT(st.clients == 1, "clients %u, want 1", st.clients);
    REPLY(&good, "{\"execute\":\"count\"}\n", "{\"return\":1}");
    while (heartbeats < beats_before + 3 && get_clock() < deadline) {
        pump();
    }
    EXPECT(heartbeats >= beats_before + 3, "the heartbeat stopped");
    /* The dropped client sees its replies end, then EOF. */
    while (!slow.eof && get_clock() < deadline) {
        g_string_truncate(slow.rx, 0);
        client_poll(&slow);
    }
    EXPECT(slow.eof, "the dropped client's socket is still open");
    printf("test-qmp: slow reader dropped after %u requests\n", sent);
    client_close(&slow);
    client_close(&good);
    qmp_server_free(srv);
    count_runs = 0;
}

static void test_client_limit(void)
{
    QmpLimits limits = QMP_LIMITS_DEFAULT;
    QmpServer *srv;
    Client c[4];
    g_autofree char *line = NULL;
    QmpStats st;

    limits.clients_max = 3;
    srv = server_new(limits);
    for (int i = 0; i < 3; i++) {
        c[i] = client_ready();
    }
    c[3] = client_connect();
    line = client_line(&c[3]);
    EXPECT(line && strstr(line, "too many monitor clients (3)"),
           "4th client got %s", line ? line : "(nothing)");
    g_free(client_line(&c[3]));
    EXPECT(c[3].eof, "the refused client is still connected");
    qmp_server_stats(srv, &st);
    EXPECT(st.refused_busy == 1 && st.clients == 3, "refused %llu clients %u",
           (unsigned long long)st.refused_busy, st.clients);
    /* A slot frees when a client leaves. */
    client_close(&c[0]);
    client_close(&c[3]);
    do {
        pump();
        qmp_server_stats(srv, &st);
    } while (st.clients == 3);
    c[3] = client_ready();
    for (int i = 1; i < 4; i++) {
        client_close(&c[i]);
    }
    qmp_server_free(srv);
}

/* Fill the descriptor table (RLIMIT_NOFILE is low): returns how many. */
static int fill_fds(int *fds, int max)
{
    int n = 0;

    while (n < max && (fds[n] = open("/dev/null", O_RDONLY)) >= 0) {
        n++;
    }
    if (n == max || errno != EMFILE) {
        fprintf(stderr, "fill_fds: %d, %s\n", n, strerror(errno));
        abort();
    }
    return n;
}

static void unfill_fds(int *fds, int n)
{
    for (int i = 0; i < n; i++) {
        close(fds[i]);
    }
}

/* Pump for ms of wall time; returns the loop iterations it took. */
static uint64_t pump_for_ms(int64_t ms)
{
    int64_t end = get_clock() + ms * SCALE_MS;
    uint64_t start = iterations;

    while (get_clock() < end) {
        pump();
    }
    return iterations - start;
}

static void test_emfile(bool resume_on_close)
{
    QmpLimits limits = QMP_LIMITS_DEFAULT;
    QmpServer *srv;
    Client first, waiting[3];
    int fds[512], nfill;
    uint64_t spins, beats;
    QmpStats st;

    limits.clients_max = 16;
    limits.accept_retry_ms = resume_on_close ? 600000 : 100;
    srv = server_new(limits);
    first = client_ready();
    for (int i = 0; i < 3; i++) {
        waiting[i] = client_connect();      /* queued in the backlog */
    }
    nfill = fill_fds(fds, 512);
    beats = heartbeats;
    spins = pump_for_ms(500);
    qmp_server_stats(srv, &st);
    EXPECT(st.accept_pauses >= 1, "accept never hit EMFILE");
    /* A 10 ms heartbeat and a 100 ms retry: ~60 iterations.  A spinning
     * loop (the listening socket stays readable) makes tens of thousands. */
    EXPECT(spins < 1000, "%llu loop iterations in 500 ms with the fd table "
           "full: the loop spins", (unsigned long long)spins);
    EXPECT(heartbeats >= beats + 5, "heartbeat stalled under EMFILE");
    printf("test-qmp: EMFILE (%s): %llu iterations, %llu heartbeats, %llu "
           "pauses in 500 ms\n", resume_on_close ? "resume on close"
           : "resume on timer", (unsigned long long)spins,
           (unsigned long long)(heartbeats - beats),
           (unsigned long long)st.accept_pauses);
    if (resume_on_close) {
        /* Free exactly one descriptor by closing a client: the server
         * sees EOF, closes its end and must accept again at once. */
        close(fds[--nfill]);
        close(first.fd);
        first.fd = -1;
        fds[nfill++] = open("/dev/null", O_RDONLY);  /* keep ours full */
        REPLY(&waiting[0], NULL, "{\"QMP\"");
    } else {
        unfill_fds(fds, nfill);
        nfill = 0;
        for (int i = 0; i < 3; i++) {
            REPLY(&waiting[i], NULL, "{\"QMP\"");
        }
    }
    unfill_fds(fds, nfill);
    qmp_server_stats(srv, &st);
    EXPECT(st.accepted >= 2, "accepted %llu", (unsigned long long)st.accepted);
    client_close(&first);
    for (int i = 0; i < 3; i++) {
        client_close(&waiting[i]);
    }
    qmp_server_free(srv);
}

static void test_teardown(void)
{
    QmpLimits limits = QMP_LIMITS_DEFAULT;
    QmpServer *srv;
    Client c[3];
    static const char req[] = "{\"execute\":\"pad\",\"arguments\":"
                              "{\"bytes\":16000}}\n";

    limits.out_bytes_max = 1024 * 1024;
    srv = server_new(limits);
    for (int i = 0; i < 3; i++) {
        c[i] = client_ready();
    }
    /* c[0] has output waiting behind a G_IO_OUT watch, c[1] half a line. */
    for (int i = 0; i < 40; i++) {
        if (write(c[0].fd, req, sizeof(req) - 1) < 0) {
            break;
        }
        pump();
    }
    client_sends(&c[1], "{\"execute\":");
    pump();
    qmp_server_free(srv);
    EXPECT(access(sock_path, F_OK) != 0, "socket path left behind");
    /* Traffic after teardown must find no watch (ASan: no use after free). */
    for (int i = 0; i < 3; i++) {
        if (write(c[i].fd, "{}\n", 3) < 0) {
            /* closed by the server: expected */
        }
    }
    pump_for_ms(50);
    for (int i = 0; i < 3; i++) {
        while (!c[i].eof) {
            g_string_truncate(c[i].rx, 0);
            client_poll(&c[i]);
        }
        client_close(&c[i]);
    }
}

/*
 * Seeded hostile lines straight into the parser: valid requests with
 * bytes replaced, inserted or cut.  Whatever the line, parsing returns a
 * request with a string "execute" and an object "arguments", or an error
 * with a class; and both replies are JSON objects json-glib reads back.
 */
static void test_parser_random(unsigned runs)
{
    static const char *const seeds[] = {
        /* One literal: clang's -Wstring-concatenation reads two adjacent
         * ones in a list as a missing comma. */
        "{\"execute\":\"send-console\",\"arguments\":{\"data\":\"a\\\"b\"},\"id\":[1,{\"x\":null}]}",
        "{\"arguments\":{\"execute\":\"quit\"},\"execute\":\"query-status\"}",
        "{\"execute\":\"x\",\"arguments\":{\"s\":\"[[[{{\\\\\"}}}\"}}",
    };
    uint32_t x = 12345;
    unsigned ok = 0, refused = 0;

    for (unsigned run = 0; run < runs; run++) {
        char line[256];
        size_t len;
        QmpRequest req;
        QmpError err = { 0 };
        g_autofree char *reply = NULL;
        g_autoptr(JsonParser) back = json_parser_new();

        len = g_strlcpy(line, seeds[run % 3], sizeof(line));
        for (int m = 0; m < 1 + (int)(run % 6); m++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            switch (x % 3) {
            case 0:                             /* replace a byte */
                if (len > 0) {
                    line[(x >> 8) % len] = (char)(x >> 16);
                }
                break;
            case 1:                             /* cut the line */
                len = (x >> 8) % (len + 1);
                break;
            default:                            /* duplicate a bracket */
                if (len + 1 < sizeof(line)) {
                    size_t at = (x >> 8) % (len + 1);

                    memmove(line + at + 1, line + at, len - at);
                    line[at] = "[{\"\\"[(x >> 16) % 4];
                    len++;
                }
                break;
            }
        }
        if (qmp_request_parse(line, len, &req, &err)) {
            EXPECT(req.execute && req.arguments, "run %u", run);
            reply = qmp_reply_return(NULL, req.id);
            ok++;
        } else {
            EXPECT(err.cls && err.desc[0], "run %u: error without class",
                   run);
            reply = qmp_reply_error(&err, req.id);
            refused++;
        }
        EXPECT(json_parser_load_from_data(back, reply, -1, NULL) &&
               JSON_NODE_HOLDS_OBJECT(json_parser_get_root(back)),
               "run %u: reply is not a JSON object: %s", run, reply);
        qmp_request_clear(&req);
    }
    EXPECT(ok > 0 && refused > 0, "mutations: %u parsed, %u refused", ok,
           refused);
    printf("test-qmp: %u mutated lines: %u parsed, %u refused\n", runs, ok,
           refused);
}

int main(void)
{
    struct rlimit rl;

    snprintf(sock_path, sizeof(sock_path), "/tmp/qloop-test-qmp.%d",
             (int)getpid());
    signal(SIGPIPE, SIG_IGN);   /* clients write to closed sockets */
    qemu_init_main_loop(&error_fatal);
    heartbeat_timer = timer_new_ms(QEMU_CLOCK_REALTIME, heartbeat, NULL);
    heartbeat(NULL);
    test_parser_random(50000);
    test_negotiation();
    test_malformed();
    test_nul_and_long_lines();
    test_slow_reader();
    test_client_limit();
    test_teardown();
    /* The EMFILE cases last: they lower the descriptor limit. */
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = 64;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
        fprintf(stderr, "setrlimit: %s\n", strerror(errno));
        return 1;
    }
    test_emfile(false);
    test_emfile(true);
    printf("test-qmp: %s (%d failures)\n", failures ? "FAIL" : "ok",
           failures);
    return failures ? 1 : 0;
}
