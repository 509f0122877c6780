/*
 * tests/test-fuzz-progress.c — the figures behind `qloop fuzz`'s progress
 * line and its AFL++ plan, without running an engine.
 *
 * Method: fabricated engine files in a temporary directory — an AFL++
 * sync directory whose fuzzer_stats is a start-up snapshot (475 execs at
 * "237500 exec/s", the figure the old progress line repeated for a
 * minute), libFuzzer logs ending in a recommended dictionary — and the
 * execution counter driven through fuzz/exec-count.h exactly as a target
 * drives it.  Each case states the figure that must come out.
 */
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd-fuzz.h"
#include "exec-count.h"

static gchar *tmp_dir;

static void put(const char *rel, const char *text)
{
    gchar *path = g_build_filename(tmp_dir, rel, NULL);
    gchar *dir = g_path_get_dirname(path);

    g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
    g_assert_true(g_file_set_contents(path, text, -1, NULL));
    g_free(dir);
    g_free(path);
}

/* exec/s is a change over time: a start-up snapshot, a flat counter or a
 * counter that went back never give a rate. */
static void test_rate_window(void)
{
    RateWindow w = { 0 };

    g_assert_cmpfloat(rate_window_push(&w, 1.0, 475), ==, 0);
    g_assert_cmpfloat_with_epsilon(rate_window_push(&w, 2.0, 1475), 1000, 1e-9);
    for (int t = 3; t < 20; t++) {
        rate_window_push(&w, t, 1475 + (uint64_t)(t - 2) * 500);
    }
    g_assert_cmpfloat_with_epsilon(rate_window_push(&w, 20, 1475 + 18 * 500),
                                   500, 1e-9);
    for (int t = 21; t < 30; t++) {
        rate_window_push(&w, t, 42);    /* engine restarted */
    }
    g_assert_cmpfloat(rate_window_push(&w, 30, 42), ==, 0);
}

static void test_afl_figures(void)
{
    gchar *sync = g_build_filename(tmp_dir, "afl", NULL);
    EngineFigures f = { 0 };

    put("afl/main-h/fuzzer_stats",
        "start_time        : 1\nexecs_done        : 475\n"
        "execs_per_sec     : 237500.00\nstability         : 96.50%\n"
        "corpus_count      : 41\nedges_found       : 700\n");
    put("afl/main-h/plot_data", "# relative_time, ..., total_execs, "
        "edges_found\n20, 0, 14, 443, 441, 41, 45.11%, 0, 0, 2, 5885.09, "
        "80128, 812\n");
    for (int i = 0; i < 3; i++) {
        gchar *rel = g_strdup_printf("afl/main-h/queue/id:%06d,orig", i);

        put(rel, "x");
        g_free(rel);
    }
    put("afl/main-h/queue/.state/x", "not an input");
    for (int i = 0; i < 5; i++) {   /* no fuzzer_stats yet: counted live */
        gchar *rel = g_strdup_printf("afl/h-s1-cmplog/queue/id:%06d", i);

        put(rel, "x");
        g_free(rel);
    }
    fuzz_figures_afl(sync, &f);
    g_assert_cmpuint(f.execs, ==, 475);
    g_assert_cmpuint(f.corpus, ==, 5);
    g_assert_cmpuint(f.coverage, ==, 812);
    g_assert_cmpfloat_with_epsilon(f.stability_pct, 96.5, 1e-9);
    g_free(sync);
}

static void test_libfuzzer_figures(void)
{
    gchar *log = g_build_filename(tmp_dir, "libfuzzer.log", NULL);
    EngineFigures f = { 0 };

    g_assert_true(g_file_set_contents(log,
        "INFO: Seed: 1\n#2 INITED cov: 5 ft: 5 corp: 1/1b exec/s: 0\n"
        "#1024 pulse cov: 10 ft: 20 corp: 5/100b lim: 4 exec/s: 512\n"
        "###### Recommended dictionary. ######\n\"ab\" # Uses: 1\n"
        "###### End of recommended dictionary. ######\nDone 1100 runs\n",
        -1, NULL));
    fuzz_figures_libfuzzer(log, &f);
    g_assert_cmpuint(f.execs, ==, 1024);
    g_assert_cmpuint(f.coverage, ==, 10);
    g_assert_cmpuint(f.corpus, ==, 5);
    g_assert_cmpfloat(f.stability_pct, <, 0);
    g_free(log);
}

/* The counter as the targets keep it: create, count through the header,
 * read back. */
static void test_exec_counter(void)
{
    gchar *path = g_build_filename(tmp_dir, "execs", NULL);
    uint64_t *counter = fuzz_exec_counter_create(path);

    g_assert_nonnull(counter);
    g_setenv(FUZZ_EXECS_ENV, path, TRUE);
    for (int i = 0; i < 3; i++) {
        fuzz_exec_count();
    }
    g_assert_cmpuint(fuzz_exec_counter_read(counter), ==, 3);
    fuzz_exec_counter_close(counter);
    g_free(path);
}

static bool same_variant(const AflInstance *a, const AflInstance *b)
{
    return g_strcmp0(a->schedule, b->schedule) == 0 && a->mopt == b->mopt &&
           a->old_queue == b->old_queue && a->cmplog == b->cmplog &&
           a->sanitizer == b->sanitizer;
}

/* AFL++'s dry run skips a seed that crashes (or hangs) the target and
 * says so only in its log: those seeds are findings. */
static void test_afl_seed_findings(void)
{
    gchar *log = g_build_filename(tmp_dir, "afl-main.log", NULL);
    gchar *inst = g_build_filename(tmp_dir, "seedsync", "main", NULL);
    GPtrArray *hits = g_ptr_array_new_with_free_func(g_free);

    put("seedsync/main/queue/id:000003,time:0,execs:0,orig:seed-039", "x");
    put("seedsync/main/queue/id:000007,time:0,execs:0,orig:seed-140", "y");
    put("afl-main.log",
        "[*] Attempting dry run with 'id:000003,time:0,execs:0,orig:seed-039'...\n"
        "\033[1;93m[!] WARNING: \033[0mTest case 'id:000003,time:0,execs:0,"
        "orig:seed-039' results in a crash, skipping\033[0m\n"
        "[-] PROGRAM ABORT : Test case 'id:000007,time:0,execs:0,"
        "orig:seed-140' results in a timeout\n"
        /* no such queue entry: not a finding */
        "Test case 'id:000009,orig:gone' results in a crash, skipping\n"
        /* a path is not a queue entry's name */
        "Test case '../x' results in a crash, skipping\n"
        "[+] All test cases processed.\n");
    g_assert_cmpuint(fuzz_afl_seed_findings(log, inst, hits), ==, 2);
    g_assert_cmpuint(hits->len, ==, 2);
    g_assert_true(g_str_has_suffix(g_ptr_array_index(hits, 0),
                                   "/queue/id:000003,time:0,execs:0,orig:seed-039"));
    g_assert_true(g_str_has_suffix(g_ptr_array_index(hits, 1),
                                   "/queue/id:000007,time:0,execs:0,orig:seed-140"));
    /* Counting only, and a log that does not exist. */
    g_assert_cmpuint(fuzz_afl_seed_findings(log, inst, NULL), ==, 2);
    g_assert_cmpuint(fuzz_afl_seed_findings("/nonexistent/log", inst, NULL),
                     ==, 0);
    g_ptr_array_free(hits, TRUE);
    g_free(inst);
    g_free(log);
}

static void test_afl_plan(void)
{
    enum { JOBS = 12, DISTINCT = 9 };
    AflInstance *plan = fuzz_afl_plan(JOBS, true, false);
    gchar *host = fuzz_host_name();
    gchar *main_name = g_strdup_printf("main-%s", host);
    unsigned mains = 0, cmplogs = 0, sanitizers = 0, mopts = 0;

    g_assert_cmpstr(plan[0].name, ==, main_name);
    for (int i = 0; i < JOBS; i++) {
        mains += plan[i].main;
        cmplogs += plan[i].cmplog;
        sanitizers += plan[i].sanitizer;
        mopts += plan[i].mopt;
        g_assert_true(plan[i].main || g_str_has_prefix(plan[i].name, host));
        for (int j = 0; j < i; j++) {
            g_assert_cmpstr(plan[i].name, !=, plan[j].name);
            if (i <= DISTINCT && j >= 1) {
                g_assert_false(same_variant(&plan[i], &plan[j]));
            }
        }
    }
    /* One main; the two special builds once each; MOpt on about a third. */
    g_assert_cmpuint(mains, ==, 1);
    g_assert_cmpuint(cmplogs, ==, 1);
    g_assert_cmpuint(sanitizers, ==, 1);
    g_assert_cmpuint(mopts * 4, >=, JOBS - 1);
    g_assert_cmpuint(mopts * 2, <=, JOBS - 1);
    fuzz_afl_plan_free(plan, JOBS);
    plan = fuzz_afl_plan(2, false, false);      /* --sync-dir */
    g_assert_false(plan[0].main || plan[1].main);
    fuzz_afl_plan_free(plan, 2);
    g_free(main_name);
    g_free(host);
}

static void test_options(void)
{
    FuzzOptions o;

    g_assert_true(fuzz_options_load(tmp_dir, "none", &o));
    g_assert_cmpint(o.max_len, ==, 4096);
    g_assert_cmpint(o.timeout_s, ==, 30);
    put("fuzz/t.options", "# comment\n[libfuzzer]\nmax_len = 77\ndict = t.dict\n");
    g_assert_true(fuzz_options_load(tmp_dir, "t", &o));
    g_assert_cmpint(o.max_len, ==, 77);
    g_assert_cmpint(o.timeout_s, ==, 30);
    put("fuzz/bad.options", "[libfuzzer]\nmax_len = -3\n");
    g_assert_false(fuzz_options_load(tmp_dir, "bad", &o));
}

int main(int argc, char **argv)
{
    int rc;

    g_test_init(&argc, &argv, NULL);
    tmp_dir = g_dir_make_tmp("qloop-fuzz-progress-XXXXXX", NULL);
    g_assert_nonnull(tmp_dir);
    g_test_add_func("/fuzz/rate-window", test_rate_window);
    g_test_add_func("/fuzz/afl-figures", test_afl_figures);
    g_test_add_func("/fuzz/libfuzzer-figures", test_libfuzzer_figures);
    g_test_add_func("/fuzz/exec-counter", test_exec_counter);
    g_test_add_func("/fuzz/afl-seed-findings", test_afl_seed_findings);
    g_test_add_func("/fuzz/afl-plan", test_afl_plan);
    g_test_add_func("/fuzz/options", test_options);
    rc = g_test_run();
    if (rc == 0) {
        gchar *argv_rm[] = { (gchar *)"rm", (gchar *)"-rf", tmp_dir, NULL };

        /* A leftover temp dir is harmless: the result is the test's. */
        g_spawn_sync(NULL, argv_rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                     NULL, NULL, NULL, NULL);
    }
    g_free(tmp_dir);
    return rc;
}
