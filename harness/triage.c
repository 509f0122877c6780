/*
 * harness/triage.c — every crash file of a fuzzing campaign becomes a
 * finding: replayed, signed, de-duplicated, shrunk, written, re-checked
 * (`qloop triage`, which `qloop fuzz` runs; triage.h).
 *
 * Method: each file is loaded as a fuzzer input (or a replay file, or a
 * .scn) and run once in a forked child (shrink_run_forked: a memory error
 * or an abort() ends the child, not us; the sanitizer's report becomes a
 * verdict there, harness/crash.c).  The signature is what ClusterFuzz
 * calls the crash state: the verdict kind and the function names on top
 * of the stack where it went wrong — for a sanitizer report or a crash the
 * report's frames, for a panic the frames that called qos_panic() —, or
 * for an oracle its first story line without numbers; never a path, a
 * line number or an address, so the same bug found by two inputs signs the
 * same.  The first input of each signature is shrunk (shrink_failure,
 * every candidate in a child) and written to DIR/<slug>-<hash>.replay, the
 * raw input beside it as .input; then the written replay is run once more
 * in a child and must give the same signature ("reproduced").  The slug is
 * readable, the hash (FNV-1a of the whole signature) keeps two signatures
 * with the same first 48 characters apart.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "shrink.h"
#include "triage.h"

/* Story lines are signed without numbers (times, ids, steps differ). */
static void strip_digits(const char *in, size_t n, char *out, size_t len)
{
    size_t j = 0;

    for (size_t i = 0; i < n && j + 1 < len; i++) {
        if (!g_ascii_isdigit(in[i])) {
            out[j++] = in[i];
        }
    }
    out[j] = '\0';
}

/* An oracle, or a panic no symbolizer could name frames for (a build
 * without sanitizers), is signed by its story's first line. */
static bool needs_story(const CrashResult *o)
{
    return !strcmp(o->verdict, "oracle") ||
           (!strcmp(o->verdict, "panic") && !strchr(o->signature, '/'));
}

/*
 * The finding's signature from a child's outcome (shrink_run_forked): the
 * child's comparable signature already names frames for crashes and
 * panics; an oracle adds its first story line, which the child left out.
 */
static void triage_signature(const CrashResult *o, const char *story,
                             char *buf, size_t len)
{
    char line[256];

    if (crash_verdict_name(o->verdict)) {
        g_snprintf(buf, len, "%s: %s", o->verdict, o->signature);
    } else if (needs_story(o) && story) {
        /* A panic's story starts "/abs/path/loop/bh.c:283: ...": keep
         * the file's name, never its directory or line. */
        const char *start = story;
        const char *colon = strchr(story, ':');
        const char *slash = colon ? g_strrstr_len(story, colon - story, "/")
                                  : NULL;

        if (slash) {
            start = slash + 1;
        }
        strip_digits(start, strcspn(start, "\n"), line, sizeof(line));
        g_snprintf(buf, len, "%s: %s", o->verdict, line);
    } else {
        const char *slash = strchr(o->signature, '/');

        /* "panic/f1 < f2", "hang/lost-wakeup" -> "panic: f1 < f2" */
        if (slash) {
            g_snprintf(buf, len, "%.*s: %s", (int)(slash - o->signature),
                       o->signature, slash + 1);
        } else {
            g_strlcpy(buf, o->signature, len);
        }
    }
}

void triage_slug(const char *sig, char *buf, size_t len)
{
    uint32_t h = 2166136261u;
    size_t j = 0;
    bool dash = false;

    g_assert(len >= TRIAGE_SLUG_MAX);
    for (const char *p = sig; *p; p++) {
        h = (h ^ (uint8_t)*p) * 16777619u;
    }
    for (size_t i = 0; sig[i] && j < 48; i++) {
        if (g_ascii_isalnum(sig[i]) || sig[i] == '_') {
            buf[j++] = g_ascii_tolower(sig[i]);
            dash = false;
        } else if (!dash && j > 0) {
            buf[j++] = '-';
            dash = true;
        }
    }
    while (j > 0 && buf[j - 1] == '-') {
        j--;
    }
    g_snprintf(buf + j, len - j, "%s%08" PRIx32, j ? "-" : "", h);
}

/* A story is not in the child's message: rerun the input here, only when
 * the child said the run ended by an oracle or a panic (a verdict the run
 * returns from, so no crash takes this process down). */
static void oracle_story(const Input *in, char *story, size_t len)
{
    SimConfig config;
    RunResult r;

    cli_input_config(in, &config);
    runner_run(&in->replay.scenario, &config, true, &r);
    g_strlcpy(story, r.story, len);
    run_result_clear(&r);
}

/* Run path once in a child: its signature, or false (passes, unreadable). */
static bool triage_sign(const char *path, Input *in, char *sig, size_t len,
                        const char **why)
{
    SimConfig config;
    CrashResult o;
    char story[512] = "";

    if (!cli_load(path, in, false)) {
        *why = "not a loadable input";
        return false;
    }
    cli_input_config(in, &config);
    if (!shrink_run_forked(&in->replay.scenario, &config, &o)) {
        *why = "the replay died without a report (no sanitizer runtime?)";
        return false;
    }
    if (!strcmp(o.verdict, "ok")) {
        *why = "passes when replayed (a timeout, an out-of-memory, or a "
               "leak the fuzzer's checker saw)";
        g_free(o.choices);
        return false;
    }
    if (needs_story(&o)) {
        oracle_story(in, story, sizeof(story));
    }
    triage_signature(&o, story, sig, len);
    g_free(o.choices);
    return true;
}

static void copy_file(const char *from, const char *to)
{
    gchar *data;
    gsize len;

    if (g_file_get_contents(from, &data, &len, NULL)) {
        if (!g_file_set_contents(to, data, (gssize)len, NULL)) {
            fprintf(stderr, "%s:0: cannot write\n", to);
        }
        g_free(data);
    }
}

/* The written replay, run again in a child: the same signature? */
static bool triage_recheck(const char *replay, const char *want)
{
    Input in;
    CrashResult o;
    SimConfig config;
    char sig[TRIAGE_SIGNATURE_MAX];
    char story[512] = "";
    bool same = false;

    if (!cli_load(replay, &in, false)) {
        return false;
    }
    cli_input_config(&in, &config);
    if (shrink_run_forked(&in.replay.scenario, &config, &o)) {
        if (needs_story(&o)) {
            oracle_story(&in, story, sizeof(story));
        }
        triage_signature(&o, story, sig, sizeof(sig));
        same = strcmp(o.verdict, "ok") != 0 && !strcmp(sig, want);
        g_free(o.choices);
    }
    cli_input_clear(&in);
    return same;
}

/* Shrink the first input of a signature and write the finding. */
static void triage_write(const TriageOptions *opt, const char *path,
                         Input *in, const char *sig, TriageCounts *t)
{
    char slug[TRIAGE_SLUG_MAX];
    gchar *replay, *input;
    SimConfig config;
    Replay rep;
    RunResult final;
    ShrinkStats st;

    triage_slug(sig, slug, sizeof(slug));
    replay = g_strdup_printf("%s/%s.replay", opt->findings_dir, slug);
    input = g_strdup_printf("%s/%s.input", opt->findings_dir, slug);
    copy_file(path, input);
    cli_input_config(in, &config);
    printf("  %s\n    input:  %s\n", sig, input);
    if (!shrink_failure(&in->replay.scenario, &config, opt->shrink_seeds,
                        NULL, &rep, &final, &st)) {
        printf("    shrink: the input passed this time (nondeterminism?)\n");
        t->not_reproduced++;
    } else {
        g_snprintf(rep.found, sizeof(rep.found), "qloop fuzz, shrunk from %s",
                   path);
        if (cli_write_replay(replay, &rep)) {
            bool same = triage_recheck(replay, sig);

            printf("    replay: %s (%u ops, %u threads, %zu choices; from "
                   "%u ops, %u threads, %zu choices)%s\n"
                   "    %s replay %s\n", replay, st.ops_after,
                   st.threads_after, st.choices_after, st.ops_before,
                   st.threads_before, st.choices_before,
                   same ? "" : " -- NOT reproduced by its replay",
                   opt->program, replay);
            t->reproduced += same;
        }
        replay_clear(&rep);
        run_result_clear(&final);
    }
    fflush(stdout);
    g_free(replay);
    g_free(input);
}

bool triage_files(const TriageOptions *opt, char *const *paths, size_t n,
                  TriageCounts *t)
{
    GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                             NULL);

    memset(t, 0, sizeof(*t));
    if (g_mkdir_with_parents(opt->findings_dir, 0755) != 0) {
        fprintf(stderr, "%s:0: cannot create: %s\n", opt->findings_dir,
                strerror(errno));
        g_hash_table_destroy(seen);
        return false;
    }
    printf("triage: %zu crash files\n", n);
    for (size_t i = 0; i < n; i++) {
        char sig[TRIAGE_SIGNATURE_MAX];
        const char *why = NULL;
        Input in;

        t->raw++;
        if (!triage_sign(paths[i], &in, sig, sizeof(sig), &why)) {
            t->not_reproduced++;
            printf("  %s: %s\n", paths[i], why);
            if (strcmp(why, "not a loadable input") != 0) {
                cli_input_clear(&in);
            }
            continue;
        }
        if (g_hash_table_contains(seen, sig)) {
            t->duplicates++;
        } else {
            g_hash_table_add(seen, g_strdup(sig));
            t->unique++;
            triage_write(opt, paths[i], &in, sig, t);
        }
        cli_input_clear(&in);
    }
    printf("findings: %u crash files, %u unique (%u reproduced by their "
           "shrunk replay), %u duplicates, %u not reproduced -> %s\n",
           t->raw, t->unique, t->reproduced, t->duplicates, t->not_reproduced,
           opt->findings_dir);
    g_hash_table_destroy(seen);
    return true;
}
