/*
 * tests/test-crash.c — signatures of crashes and panics are function
 * names, stable and collision-free (harness/crash.c, triage.c).
 *
 * Method: a fixed sanitizer report (paths, addresses, line numbers,
 * interceptor and libc frames, a compiler clone) must sign as kind + three
 * function names; a panic raised inside a simulated run must sign by the
 * core functions that called qos_panic() (in builds with a symbolizer);
 * two signatures that share their first 60 characters must get two slugs;
 * undefined behaviour in a child reports back as a "crash" signed by the
 * function where it happened (gcc's UBSan runtime aborts, clang's calls
 * the death callback: two paths, one result).
 * The end-to-end paths (a real use after free, a planted abort under a
 * fuzzing campaign) are tests/crash.sh.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crash.h"
#include "triage.h"
#include "qloop/aio.h"

static const char report[] =
    "=================================================================\n"
    "==42==ERROR: AddressSanitizer: heap-use-after-free on address "
    "0x6070000001a0 at pc 0x55 bp 0x7f sp 0x7f\n"
    "READ of size 8 at 0x6070000001a0 thread T0\n"
    "    #0 0x55ea6dd9579d in aio_bh_call.isra.0 /src/loop/bh.c:161\n"
    "    #1 0x55ea6dd95ae5 in aio_bh_poll /src/loop/bh.c:202\n"
    "    #2 0x55ea6dd9e2eb in aio_poll /src/loop/aio-poll.c:124\n"
    "    #3 0x55ea6dd63c02 in exec_op /src/harness/runner.c:234\n"
    "\n"
    "freed by thread T0 here:\n"
    "    #0 0x7f58e10b76a8 in __interceptor_free asan_malloc_linux.cpp:52\n"
    "    #1 0x55ea6dd95b20 in bh_free /src/loop/bh.c:53\n";

static const char abort_report[] =
    "==7==ERROR: AddressSanitizer: ABRT on unknown address 0x1931 (pc 0x7f)\n"
    "    #0 0x7f65 in __pthread_kill_implementation nptl/pthread_kill.c:44\n"
    "    #1 0x7f65 in __GI_raise ../sysdeps/posix/raise.c:26\n"
    "    #2 0x7f65 in __GI_abort stdlib/abort.c:79\n"
    "    #3 0x556b in aio_bh_poll /src/variants/bh-crash.c:200\n"
    "    #4 0x556b in aio_poll /src/loop/aio-poll.c:124\n"
    "    #5 0x556b in exec_op /src/harness/runner.c:238\n";

static void test_report_signature(void)
{
    char verdict[16], sig[CRASH_SIGNATURE_MAX];

    crash_signature_from_report(report, verdict, sizeof(verdict), sig,
                                sizeof(sig));
    g_assert_cmpstr(verdict, ==, "memory");
    g_assert_cmpstr(sig, ==, "heap-use-after-free: aio_bh_call < aio_bh_poll "
                    "< aio_poll");
    crash_signature_from_report(abort_report, verdict, sizeof(verdict), sig,
                                sizeof(sig));
    g_assert_cmpstr(verdict, ==, "crash");
    g_assert_cmpstr(sig, ==, "ABRT: aio_bh_poll < aio_poll < exec_op");
}

static void never_cb(void *opaque)
{
    (void)opaque;
}

static void panic_body(void *opaque)
{
    AioContext *ctx = aio_context_new(&error_abort);

    (void)opaque;
    aio_bh_new(ctx, never_cb, NULL);    /* never deleted */
    aio_context_unref(ctx);             /* finalize: a programming error */
}

static void test_panic_frames(void)
{
    SimConfig c;
    char frames[CRASH_SIGNATURE_MAX];
    void *const *pcs;
    int n;

    sim_config_default(&c);
    g_assert_cmpint(sim_run(&c, panic_body, NULL), ==, SIM_PANIC);
    pcs = sim_panic_pcs(&n);
    g_assert_cmpint(n, >, 2);
    crash_frames(pcs, n, frames, sizeof(frames));
    if (!crash_supported()) {
        g_assert_cmpstr(frames, ==, "");    /* no symbolizer: the story signs */
        return;
    }
    /* The core function that panicked comes first, qos_panic is skipped. */
    g_assert_true(g_str_has_prefix(frames, "aio_bh_finalize < "));
    g_assert_null(strchr(frames, '/'));
    g_assert_null(strchr(frames, ':'));
}

static void test_slugs_never_collide(void)
{
    const char *a = "oracle: ordering: BH 'A' was taken, but 'B' is next "
                    "(newest first by first enqueue; slice 1)";
    const char *b = "oracle: ordering: BH 'A' was taken, but 'B' is next "
                    "(newest first by first enqueue; slice 2)";
    char sa[TRIAGE_SLUG_MAX], sb[TRIAGE_SLUG_MAX], again[TRIAGE_SLUG_MAX];

    triage_slug(a, sa, sizeof(sa));
    triage_slug(b, sb, sizeof(sb));
    triage_slug(a, again, sizeof(again));
    g_assert_cmpstr(sa, !=, sb);
    g_assert_cmpstr(sa, ==, again);
    g_assert_true(g_str_has_prefix(sa, "oracle-ordering-bh-a-was-taken"));
    for (const char *p = sa; *p; p++) {
        g_assert_true(g_ascii_isalnum(*p) || *p == '-' || *p == '_');
    }
}

G_GNUC_NO_INLINE static int overflow_here(volatile int x)
{
    return x + 1;
}

static void test_ubsan_is_a_crash(void)
{
    int fds[2], status;
    char buf[4096];
    ssize_t n, got = 0;
    CrashResult r;
    pid_t pid;

    if (!crash_supported()) {
        g_test_skip("no sanitizer runtime in this build");
        return;
    }
    g_assert_cmpint(pipe(fds), ==, 0);
    pid = fork();
    if (pid == 0) {
        int null_fd = open("/dev/null", O_WRONLY);

        dup2(null_fd, STDERR_FILENO);   /* the expected report */
        close(fds[0]);
        crash_child(fds[1]);
        _exit(overflow_here(G_MAXINT) == 0);
    }
    close(fds[1]);
    while ((n = read(fds[0], buf + got, sizeof(buf) - 1 - (size_t)got)) > 0) {
        got += n;
    }
    close(fds[0]);
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, CRASH_CHILD_EXIT);
    g_assert_true(crash_result_parse(buf, (size_t)got, &r));
    g_assert_cmpstr(r.verdict, ==, "crash");
    g_assert_true(g_str_has_prefix(r.signature, "undefined-"));
    g_assert_nonnull(strstr(r.signature, ": overflow_here < "));
    g_free(r.choices);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/crash/report-signature", test_report_signature);
    g_test_add_func("/crash/panic-frames", test_panic_frames);
    g_test_add_func("/crash/slugs-never-collide", test_slugs_never_collide);
    g_test_add_func("/crash/ubsan-is-a-crash", test_ubsan_is_a_crash);
    return g_test_run();
}
