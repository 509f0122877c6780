/*
 * harness/cli.c — loading inputs, writing traces and replay files, and the
 * verdict summary: what every qloop subcommand does the same way.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "decode.h"
#include "export.h"
#include "scn-parse.h"
#include "story.h"

/* Set by main() (harness/qloop.c); other programs linking the harness
 * (fuzz drivers, tests) are the production qloop. */
const char *cli_program = "qloop";
const char *cli_program_path = "qloop";
char **cli_argv;

const char *cli_variant(void)
{
    /* qloop-NAME: variants/NAME.patch.  A name that is a path or a copy
     * (qloop.orig) names no variant. */
#ifdef QLOOP_CORE_VARIANT
    /* A qloop built by fuzz/build.sh --variant NAME (fuzz/fuzz.mk): named
     * qloop, running variants/NAME.patch. */
    return QLOOP_CORE_VARIANT;
#endif
    if (g_str_has_prefix(cli_program, "qloop-") &&
        replay_variant_ok(cli_program + 6)) {
        return cli_program + 6;
    }
    return "";
}

bool cli_parse_shard(const char *text, unsigned *i, unsigned *n)
{
    char *end;
    unsigned long a, b;

    a = strtoul(text, &end, 10);
    if (end == text || *end != '/') {
        return false;
    }
    b = strtoul(end + 1, &end, 10);
    if (*end || b == 0 || a == 0 || a > b || b > 1000000) {
        return false;
    }
    *i = (unsigned)a;
    *n = (unsigned)b;
    return true;
}

/* Text files are UTF-8/ASCII; fuzzer inputs are anything else. */
static bool looks_like_text(const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)data[i];

        if (c == 0 || (c < 0x20 && c != '\n' && c != '\r' && c != '\t')) {
            return false;
        }
    }
    return true;
}

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);

    return n >= m && strcmp(s + n - m, suffix) == 0;
}

bool cli_load(const char *path, Input *in, bool scenario_only)
{
    gchar *data = NULL;
    gsize len = 0;
    GError *gerr = NULL;
    char err[512];

    memset(in, 0, sizeof(*in));
    in->path = path;
    if (!g_file_get_contents(path, &data, &len, &gerr)) {
        fprintf(stderr, "%s:0: cannot read: %s\n", path, gerr->message);
        g_error_free(gerr);
        return false;
    }
    if (replay_sniff(data, len)) {
        in->kind = INPUT_REPLAY;
        if (scenario_only) {
            fprintf(stderr, "%s:1: this is a replay file; expected a .scn "
                    "scenario\n", path);
            g_free(data);
            return false;
        }
        if (!replay_parse(data, len, path, &in->replay, err, sizeof(err))) {
            fprintf(stderr, "%s\n", err);
            g_free(data);
            return false;
        }
    } else if (has_suffix(path, ".scn") || looks_like_text(data, len)) {
        in->kind = INPUT_SCENARIO;
        if (!scn_parse(data, len, path, &in->replay.scenario, err,
                       sizeof(err))) {
            fprintf(stderr, "%s\n", err);
            g_free(data);
            return false;
        }
    } else if (scenario_only) {
        fprintf(stderr, "%s:1: not a .scn scenario (binary data)\n", path);
        g_free(data);
        return false;
    } else {
        in->kind = INPUT_BYTES;
        in->bytes = (uint8_t *)data;
        in->bytes_len = len;
        scn_decode(in->bytes, len, &in->replay.scenario, &in->tape,
                   &in->tape_len);
        data = NULL;
    }
    g_free(data);
    {
        char buf[256];
        const char *invalid = scn_validate(&in->replay.scenario);
        const char *bad;

        if (invalid) {
            /* The front ends promise valid IR: this is a qloop bug. */
            fprintf(stderr, "%s:0: internal error: the scenario read from it "
                    "is invalid: %s\n", path, invalid);
            cli_input_clear(in);
            return false;
        }
        bad = runner_check(&in->replay.scenario, buf, sizeof(buf));

        if (bad) {
            fprintf(stderr, "%s:%s\n", path, bad + strlen("line "));
            cli_input_clear(in);
            return false;
        }
    }
    return true;
}

void cli_input_clear(Input *in)
{
    replay_clear(&in->replay);
    g_free(in->bytes);
    in->bytes = NULL;
    in->tape = NULL;
    in->tape_len = 0;
}

void cli_input_config(const Input *in, SimConfig *config)
{
    if (in->kind == INPUT_REPLAY) {
        replay_config(&in->replay, config);
        return;
    }
    sim_config_default(config);
    config->faults = in->replay.scenario.faults;
    if (in->kind == INPUT_BYTES) {
        config->tape = SIM_TAPE_BYTES;
        config->bytes = in->tape;
        config->bytes_len = in->tape_len;
    }
}

bool cli_parse_faults(const char *text, unsigned *mask)
{
    static const struct { const char *name; unsigned bit; } names[] = {
        { "none", 0 }, { "spurious", SIM_FAULT_SPURIOUS_WAKEUP },
        { "eintr", SIM_FAULT_EINTR }, { "early", SIM_FAULT_EARLY_RETURN },
        { "eagain", SIM_FAULT_EVENTFD_EAGAIN },
        { "hostjump", SIM_FAULT_HOST_CLOCK_JUMP },
        { "refuse", SIM_FAULT_WATCH_REFUSED }, { "fdcreate", SIM_FAULT_FD_CREATE },
        { "readfail", SIM_FAULT_READ_FAIL }, { "shortread", SIM_FAULT_SHORT_READ },
        { "all", SIM_FAULT_EVERY },
    };
    gchar **parts = g_strsplit(text, ",", -1);
    bool ok = true;

    *mask = 0;
    for (gchar **p = parts; *p && ok; p++) {
        bool found = false;

        for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
            if (strcmp(g_strstrip(*p), names[i].name) == 0) {
                *mask |= names[i].bit;
                found = true;
            }
        }
        ok = found;
    }
    g_strfreev(parts);
    return ok;
}

bool cli_apply_memory(const char *cmd, const char *text, SimConfig *config)
{
    if (text && !sim_memory_parse(text, &config->memory)) {
        fprintf(stderr, "qloop %s: unknown memory model '%s' (sc, tso, pso, c11)\n",
                cmd, text);
        return false;
    }
    return true;
}

bool cli_write_trace(const char *path)
{
    size_t n;
    const SimEvent *ev = sim_trace_events(&n);
    unsigned names_n;
    const char *const *names = runner_thread_names(&names_n);
    TraceInfo info = { names, names_n, path };
    FILE *out = fopen(path, "w");
    int ret;

    if (!out) {
        fprintf(stderr, "%s:0: cannot write: %s\n", path, strerror(errno));
        return false;
    }
    if (has_suffix(path, ".jsonl")) {
        ret = export_jsonl(out, ev, n, &info);
    } else if (has_suffix(path, ".json")) {
        ret = export_chrome(out, ev, n, &info);
    } else if (has_suffix(path, ".svg")) {
        ret = export_svg(out, ev, n, &info);
    } else {
        story_print(out, ev, n, names, names_n, true);
        ret = ferror(out) ? -EIO : 0;
    }
    if (fclose(out) != 0 || ret < 0) {
        fprintf(stderr, "%s:0: write failed\n", path);
        return false;
    }
    return true;
}

void cli_print_verdict(const char *what, const RunResult *r)
{
    printf("%s: %s (hash %016" PRIx64 ", %" PRIu64 " steps, %zu choices; "
           "%" PRIu64 " BH runs, %" PRIu64 " timer firings, %" PRIu64
           " handler calls checked)\n", what, sim_verdict_name(r->verdict),
           r->hash, r->steps, r->choice_count, r->bh_runs, r->timer_fires,
           r->fd_calls);
    if (r->verdict != SIM_OK) {
        printf("%s\n", r->story);
    }
}

void cli_replay_from_run(const Scenario *s, const RunResult *r,
                         const char *found, Replay *out)
{
    memset(out, 0, sizeof(*out));
    out->scenario = *s;
    g_strlcpy(out->verdict, sim_verdict_name(r->verdict), sizeof(out->verdict));
    out->hash = r->hash;
    out->has_hash = true;
    g_strlcpy(out->found, found, sizeof(out->found));
    out->faults = r->faults;
    out->memory = sim_memory_model();
    g_strlcpy(out->variant, cli_variant(), sizeof(out->variant));
    out->choice_count = r->choice_count;
    out->choices = g_memdup2(r->choices, r->choice_count * sizeof(uint32_t));
}

bool cli_write_replay(const char *path, const Replay *r)
{
    FILE *out = fopen(path, "w");

    if (!out) {
        fprintf(stderr, "%s:0: cannot write: %s\n", path, strerror(errno));
        return false;
    }
    if (replay_write(out, r) < 0 || fclose(out) != 0) {
        fprintf(stderr, "%s:0: write failed\n", path);
        return false;
    }
    return true;
}

/* Set in the environment of a re-dispatched command: it never dispatches
 * again (a binary whose name lies about its core cannot loop). */
#define DISPATCHED_ENV "QLOOP_DISPATCHED_FROM"

int cli_dispatch_replay(const Input *in, const char *cmd)
{
    const char *want = in->replay.variant;
    gchar *name, *dir, *self, *target;
    bool dispatched = g_getenv(DISPATCHED_ENV) != NULL;

    if (in->kind != INPUT_REPLAY || strcmp(want, cli_variant()) == 0) {
        return -1;
    }
    name = *want ? g_strconcat("qloop-", want, NULL) : g_strdup("qloop");
    self = strchr(cli_program_path, '/') ? g_strdup(cli_program_path)
           : g_find_program_in_path(cli_program_path);
    dir = self ? g_path_get_dirname(self) : NULL;
    target = dir ? g_build_filename(dir, name, NULL) : NULL;
    if (target && cli_argv && !dispatched &&
        g_file_test(target, G_FILE_TEST_IS_REGULAR) &&
        access(target, X_OK) == 0) {
        fprintf(stderr, "%s: %s was made by %s%s; running %s\n",
                cli_program, in->path, *want ? "variant " : "the production "
                "core", want, target);
        fflush(NULL);
        g_setenv(DISPATCHED_ENV, cli_program, TRUE);
        cli_argv[0] = target;
        execv(target, cli_argv);
        fprintf(stderr, "%s:0: cannot run %s: %s\n", in->path, target,
                strerror(errno));
    } else if (*want) {
        fprintf(stderr, "%s:%d: made by variant %s; run %s %s %s\n",
                in->path, REPLAY_VARIANT_LINE, want, name, cmd, in->path);
    } else {
        fprintf(stderr, "%s:1: made by the production core, not variant "
                "%s; run %s %s %s\n", in->path, cli_variant(), name, cmd,
                in->path);
    }
    g_free(name);
    g_free(self);
    g_free(dir);
    g_free(target);
    return EXIT_USAGE;
}
