/*
 * harness/crash.c — sanitizer reports and crashes as verdicts (crash.h).
 *
 * Method: ASan hands the text of each report to
 * __asan_set_error_report_callback before it dies; every sanitizer (ASan,
 * UBSan, a deadly signal such as abort() with handle_abort=1) then calls
 * the __sanitizer_set_death_callback hook.  There the kind and the top
 * function names are taken from the report ("#3 0x... in aio_bh_call
 * loop/bh.c:161") or, for UBSan, which hands over no text, from our own
 * unwind, symbolized by the sanitizer.  Frames of the sanitizer, libc,
 * glib's assertion and allocation helpers are skipped: the signature is
 * where the core went wrong, not how the report was delivered.  The
 * choices recorded so far (sim_tape_recorded) replay the run up to the
 * same report, so they become the replay file with the scenario.
 *
 * Leaks: after a run that passed, crash_check_leaks() asks LeakSanitizer
 * for a recoverable check, with its report captured through a temporary
 * file on stderr's descriptor; a leak is then a "memory" verdict signed
 * "leak: " + the allocating frames, handled like any other report.
 */
#include <execinfo.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "crash.h"
#include "story.h"

#if defined(__SANITIZE_ADDRESS__)
#define CRASH_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CRASH_ASAN 1
#endif
#endif

#ifdef CRASH_ASAN
void __sanitizer_set_death_callback(void (*callback)(void));
void __asan_set_error_report_callback(void (*callback)(const char *));
int __sanitizer_symbolize_pc(void *pc, const char *fmt, char *out_buf,
                             size_t out_buf_size);
int __lsan_do_recoverable_leak_check(void);
const char *__asan_default_options(void);

/*
 * handle_abort: abort() and failed assertions become reports with a
 * stack (and so verdicts, and crash files with a stack in a fuzz target
 * that links this file through the runner).  The leak checker keeps its
 * defaults: a verdict's abandoned world stays reachable (sim_world, and
 * the abandoned stacks are registered as roots by sim/sched.c).
 */
/*
 * QLOOP_FUZZ_ASAN (fuzz/build.sh's sanitizer flavours): a fuzz target runs
 * millions of short runs of a few hundred mallocs each, and with the
 * defaults ASan's share of an iteration was mostly recording 30-frame
 * stacks at every malloc and free and cycling a 256 MB quarantine through
 * the cache.  Eight frames still name the allocating and freeing callers
 * in a report.  16 MB of quarantine holds the frees of a hundred runs or
 * more (one frees well under 100 KB), so a use after free within a run,
 * or of a block the previous run left a dangling pointer to, is caught.
 * $ASAN_OPTIONS still overrides both.
 */
const char *__asan_default_options(void)
{
#ifdef QLOOP_FUZZ_ASAN
    return "handle_abort=1:malloc_context_size=8:quarantine_size_mb=16";
#else
    return "handle_abort=1";
#endif
}

#ifndef __clang__
/*
 * gcc links UBSan as a runtime of its own, with its own death callback
 * that no one sets: make it abort() instead, which ASan (handle_abort)
 * reports with a stack — the __ubsan_handle_* frame names the kind.
 * (clang's UBSan shares ASan's runtime and calls our death callback;
 * there abort_on_error would turn every report outside a run into a bare
 * SIGABRT.)
 */
const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void)
{
    return "halt_on_error=1:abort_on_error=1";
}
#endif
#endif

/* The head of the last report: its first line and first stack suffice. */
#define CRASH_REPORT_MAX 16384
#define CRASH_FRAMES_MAX 3      /* frames in a signature */
#define CRASH_UNWIND_MAX 64     /* frames our own unwind looks at */

static char report_text[CRASH_REPORT_MAX];
static bool report_seen;
static const CrashRun *current;
static CrashRun current_copy;
static int child_fd = -1;
/* The replay written on a crash: ~100 KB (a scenario), not on the stack
 * of a simulated thread that just hit a memory error. */
static Replay crash_replay;

bool crash_supported(void)
{
#ifdef CRASH_ASAN
    return true;
#else
    return false;
#endif
}

bool crash_verdict_name(const char *name)
{
    return strcmp(name, "memory") == 0 || strcmp(name, "crash") == 0;
}

/* Frames that tell how a report was delivered, not where the bug is. */
static bool frame_skipped(const char *fn)
{
    static const char *const prefixes[] = {
        "__asan", "__interceptor", "__sanitizer", "__ubsan", "__lsan",
        "__GI_", "__libc", "__pthread", "pthread_kill", "raise", "abort",
        "gsignal", "__assert", "g_assertion", "g_log", "malloc", "free",
        "calloc", "realloc", "g_malloc", "g_free", "g_slice", "g_realloc",
        "qos_panic", "crash_", "_Unwind", "__restore_rt", "<unknown>",
        "backtrace",
    };

    if (!*fn || strstr(fn, "::")) {
        return true;                    /* C++: the sanitizer runtime */
    }
    for (size_t i = 0; i < G_N_ELEMENTS(prefixes); i++) {
        if (g_str_has_prefix(fn, prefixes[i])) {
            return true;
        }
    }
    return false;
}

/* Append "fn" to sig as the next frame; false when the signature is full.
 * Compiler clones (".isra.0", ".constprop.1") sign as their origin. */
static bool sig_add_frame(char *sig, size_t len, const char *fn, size_t n,
                          unsigned *frames)
{
    char name[96];

    n = MIN(n, sizeof(name) - 1);
    memcpy(name, fn, n);
    name[n] = '\0';
    name[strcspn(name, ".")] = '\0';
    if (frame_skipped(name)) {
        return true;
    }
    if (*frames > 0) {
        g_strlcat(sig, " < ", len);
    }
    g_strlcat(sig, name, len);
    return ++*frames < CRASH_FRAMES_MAX;
}

/* "    #3 0x55d1 in aio_bh_call /src/loop/bh.c:161" -> "aio_bh_call". */
static bool frame_function(const char *line, const char **fn, size_t *n)
{
    const char *p = line + strspn(line, " ");
    const char *in;

    if (p[0] != '#' || !g_ascii_isdigit(p[1])) {
        return false;
    }
    in = strstr(p, " in ");
    if (!in || in > p + 40) {
        *fn = "";
        *n = 0;
        return true;
    }
    *fn = in + 4;
    *n = strcspn(*fn, " (\n");
    return true;
}

void crash_signature_from_report(const char *report, char *verdict,
                                 size_t verdict_len, char *sig, size_t sig_len)
{
    const char *err = strstr(report, "Sanitizer: ");
    const char *line = report;
    bool in_stack = false;
    unsigned frames = 0;
    char kind[64] = "unknown";

    if (strstr(report, "LeakSanitizer")) {
        /* Sign by the first leak's allocation stack: who leaked it. */
        const char *leak = strstr(report, "Direct leak");

        g_strlcpy(kind, "leak", sizeof(kind));
        line = leak ? leak : (strstr(report, "leak of") ? strstr(report,
                                                                "leak of")
                                                         : report);
        err = NULL;
    }
    if (err) {
        const char *w = err + strlen("Sanitizer: ");
        size_t n;

        if (g_str_has_prefix(w, "attempting ")) {
            w += strlen("attempting ");
        }
        n = MIN(strcspn(w, " \n:"), sizeof(kind) - 1);
        memcpy(kind, w, n);
        kind[n] = '\0';
    }
    if (strstr(report, "__ubsan_handle_")) {
        /* UBSan's abort() (gcc), reported by ASan.  The handler would name
         * the kind, but clang's UBSan reaches us with no report at all
         * (crash_sign_by_unwind): the generic kind keeps one defect's
         * signature the same whichever compiler built the core. */
        g_strlcpy(kind, "undefined-behaviour", sizeof(kind));
        g_strlcpy(verdict, "crash", verdict_len);
    }
    /* A signal's name is in capitals (SEGV, ABRT, BUS, FPE): a crash. */
    g_strlcpy(verdict, g_ascii_isupper(kind[0]) ||
              g_str_has_prefix(kind, "undefined-") ? "crash" : "memory",
              verdict_len);
    g_snprintf(sig, sig_len, "%s: ", kind);
    /* The first stack of the report: where the error happened. */
    while (line && *line) {
        const char *fn;
        size_t n;

        if (frame_function(line, &fn, &n)) {
            in_stack = true;
            if (!sig_add_frame(sig, sig_len, fn, n, &frames)) {
                break;
            }
        } else if (in_stack) {
            break;
        }
        line = strchr(line, '\n');
        line = line ? line + 1 : NULL;
    }
}

void crash_frames(void *const *pcs, int n, char *buf, size_t len)
{
    unsigned frames = 0;

    buf[0] = '\0';
#ifdef CRASH_ASAN
    for (int i = 0; i < n; i++) {
        char fn[128] = "";

        /* A return address: the call is the byte before it. */
        __sanitizer_symbolize_pc((char *)pcs[i] - 1, "%f", fn, sizeof(fn));
        if (!strcmp(fn, "??")) {
            continue;
        }
        if (!sig_add_frame(buf, len, fn, strcspn(fn, "\n"), &frames)) {
            break;
        }
    }
#else
    (void)pcs;
    (void)n;
    (void)frames;
#endif
}

/* No report text (UBSan): sign by our own stack, symbolized. */
static void crash_sign_by_unwind(char *sig, size_t len)
{
    void *pcs[CRASH_UNWIND_MAX];
    int n = backtrace(pcs, CRASH_UNWIND_MAX);
    char frames[CRASH_SIGNATURE_MAX];

    crash_frames(pcs, n, frames, sizeof(frames));
    g_snprintf(sig, len, "undefined-behaviour: %s", frames);
}

static void first_report_line(char *buf, size_t len)
{
    const char *err = strstr(report_text, "ERROR: ");
    size_t n;

    if (!report_seen || !err) {
        g_strlcpy(buf, "UndefinedBehaviorSanitizer (or a signal): see the "
                  "report above", len);
        return;
    }
    err += strlen("ERROR: ");
    n = MIN(strcspn(err, "\n"), len - 1);
    memcpy(buf, err, n);
    buf[n] = '\0';
}

static void write_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, s, n);

        if (w <= 0) {
            return;     /* the parent went away: nothing left to tell */
        }
        s += w;
        n -= (size_t)w;
    }
}

void crash_send(int fd, const char *verdict, const char *sig,
                unsigned faults, const uint32_t *choices, size_t n)
{
    GString *msg = g_string_new(NULL);

    g_string_printf(msg, "%s\t%s\t%u\t%zu\n", verdict, sig, faults, n);
    for (size_t i = 0; i < n; i++) {
        g_string_append_printf(msg, "%u\n", choices[i]);
    }
    write_all(fd, msg->str, msg->len);
    g_string_free(msg, TRUE);
}

static G_NORETURN void crash_to_child_pipe(const char *verdict,
                                           const char *sig)
{
    size_t n;
    const uint32_t *choices = sim_tape_recorded(&n);

    crash_send(child_fd, verdict, sig, sim_fault_mask(), choices, n);
    _exit(CRASH_CHILD_EXIT);
}

/* The trace so far, as `qloop replay` tells it (when it was recorded). */
static void print_story_so_far(void)
{
    size_t n;
    const SimEvent *ev = sim_trace_events(&n);
    unsigned names_n;
    const char *const *names = runner_thread_names(&names_n);

    story_print(stdout, ev, n, names, names_n, false);
}

static bool write_crash_replay(const char *verdict, const char *sig)
{
    size_t n;
    const uint32_t *choices = sim_tape_recorded(&n);
    bool ok;

    memset(&crash_replay, 0, sizeof(crash_replay));
    crash_replay.scenario = *current->scenario;
    g_strlcpy(crash_replay.verdict, verdict, sizeof(crash_replay.verdict));
    g_strlcpy(crash_replay.signature, sig, sizeof(crash_replay.signature));
    g_strlcpy(crash_replay.found, current->found ? current->found : "",
              sizeof(crash_replay.found));
    crash_replay.faults = sim_fault_mask();
    crash_replay.memory = sim_memory_model();
    g_strlcpy(crash_replay.variant, cli_variant(), sizeof(crash_replay.variant));
    crash_replay.choices = (uint32_t *)choices;     /* not freed: we exit */
    crash_replay.choice_count = n;
    ok = cli_write_replay(current->replay_path, &crash_replay);
    return ok;
}

static G_NORETURN void crash_report_verdict(const char *verdict,
                                            const char *sig)
{
    const CrashRun *run = current;
    char first[256];
    size_t n;
    int status = EXIT_VERDICT;

    sim_tape_recorded(&n);
    first_report_line(first, sizeof(first));
    fflush(stdout);
    if (run->print_story) {
        print_story_so_far();
    }
    printf("%s: %s (%zu choices; a sanitizer's verdict has no trace "
           "hash)\n", run->found ? run->found : "verdict", verdict, n);
    printf("%s\nsignature: %s: %s\n", first, verdict, sig);
    if (run->expect_verdict) {
        if (strcmp(run->expect_verdict, verdict) != 0 ||
            (run->expect_signature && *run->expect_signature &&
             strcmp(run->expect_signature, sig) != 0)) {
            printf("replay mismatch: the file recorded verdict %s (%s)\n",
                   run->expect_verdict,
                   run->expect_signature ? run->expect_signature : "-");
        } else if (run->expect_recorded) {
            printf("as recorded: %s\n", verdict);
            status = EXIT_PASS;
        }
    }
    if (run->replay_path && write_crash_replay(verdict, sig)) {
        printf("replay: %s replay %s\n", run->program ? run->program : "qloop",
               run->replay_path);
    }
    fflush(stdout);
    _exit(status);
}

static void crash_on_death(void)
{
    char verdict[16], sig[CRASH_SIGNATURE_MAX];

    if (!current && child_fd < 0) {
        return;     /* not inside a run: the sanitizer's own exit */
    }
    if (report_seen) {
        crash_signature_from_report(report_text, verdict, sizeof(verdict),
                                    sig, sizeof(sig));
    } else {
        g_strlcpy(verdict, "crash", sizeof(verdict));
        crash_sign_by_unwind(sig, sizeof(sig));
    }
    if (child_fd >= 0) {
        crash_to_child_pipe(verdict, sig);
    }
    crash_report_verdict(verdict, sig);
}

/*
 * LeakSanitizer's report goes to stderr (fd 2): point fd 2 at a temporary
 * file for the check, then copy the text back to the real stderr.
 */
#ifdef CRASH_ASAN
static bool leak_check_captured(void)
{
    FILE *tmp = tmpfile();
    int saved = dup(STDERR_FILENO);
    bool leaked;
    size_t n;

    if (!tmp || saved < 0) {
        if (tmp) {
            fclose(tmp);
        }
        return __lsan_do_recoverable_leak_check() != 0;   /* uncaptured */
    }
    fflush(stderr);
    dup2(fileno(tmp), STDERR_FILENO);
    leaked = __lsan_do_recoverable_leak_check() != 0;
    dup2(saved, STDERR_FILENO);
    close(saved);
    if (leaked) {
        rewind(tmp);
        n = fread(report_text, 1, sizeof(report_text) - 1, tmp);
        report_text[n] = '\0';
        report_seen = true;
        fputs(report_text, stderr);
    }
    fclose(tmp);
    return leaked;
}
#endif

bool crash_check_leaks(bool report)
{
#ifdef CRASH_ASAN
    if ((current || child_fd >= 0) && leak_check_captured()) {
        if (report) {
            crash_on_death();   /* a verdict like any report: no return */
        }
        return true;
    }
#else
    (void)report;
#endif
    return false;
}

#ifdef CRASH_ASAN
static void crash_on_report(const char *text)
{
    g_strlcpy(report_text, text, sizeof(report_text));
    report_seen = true;
}
#endif

void crash_install(void)
{
#ifdef CRASH_ASAN
    __asan_set_error_report_callback(crash_on_report);
    __sanitizer_set_death_callback(crash_on_death);
#else
    /* No runtime to call it (release, TSan builds): a crash is the bare
     * signal there.  Referenced so the code stays compiled and warned. */
    (void)crash_on_death;
#endif
}

void crash_run_begin(const CrashRun *run)
{
    current_copy = *run;
    current = &current_copy;
}

void crash_run_end(void)
{
    current = NULL;
}

void crash_child(int fd)
{
    child_fd = fd;
    crash_install();
}

bool crash_result_parse(const char *text, size_t len, CrashResult *out)
{
    gchar *copy = g_strndup(text, len);
    gchar **lines = g_strsplit(copy, "\n", -1);
    gchar **head = lines[0] ? g_strsplit(lines[0], "\t", 4) : NULL;
    bool ok = false;

    memset(out, 0, sizeof(*out));
    if (head && g_strv_length(head) == 4 && *head[0]) {
        size_t n = (size_t)g_ascii_strtoull(head[3], NULL, 10);

        g_strlcpy(out->verdict, head[0], sizeof(out->verdict));
        g_strlcpy(out->signature, head[1], sizeof(out->signature));
        out->faults = (unsigned)g_ascii_strtoull(head[2], NULL, 10);
        out->choices = g_new0(uint32_t, n ? n : 1);
        ok = g_strv_length(lines) >= n + 1;
        for (size_t i = 0; ok && i < n; i++) {
            out->choices[i] = (uint32_t)g_ascii_strtoull(lines[i + 1], NULL,
                                                         10);
        }
        out->choice_count = ok ? n : 0;
    }
    g_strfreev(head);
    g_strfreev(lines);
    g_free(copy);
    return ok;
}
