/*
 * fuzz/driver.c — main() for a fuzz target without libFuzzer.
 *
 * Two roles, one file:
 *  - the plain replay driver (any compiler): `TARGET FILE|DIR...` feeds
 *    every file (directories: their files, sorted) to
 *    LLVMFuzzerTestOneInput() once, as ctest and the coverage report do;
 *    arguments that start with '-' are ignored, so libFuzzer-style command
 *    lines work too;
 *  - AFL++ persistent mode (built with afl-clang-fast, which defines
 *    __AFL_FUZZ_TESTCASE_LEN): with no file argument the test cases come
 *    from shared memory, 100 000 per forked process.
 *
 * Every input is copied into a buffer of exactly its length, so an ASan
 * build sees a read one byte past the end.  A finding abort()s inside the
 * target, with its story on stderr.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>         /* read(), used by __AFL_FUZZ_TESTCASE_LEN */

#include <glib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifdef __AFL_FUZZ_TESTCASE_LEN
__AFL_FUZZ_INIT();
#endif

static void run_one(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1);

    if (!copy) {
        abort();
    }
    if (size) {
        memcpy(copy, data, size);
    }
    LLVMFuzzerTestOneInput(copy, size);
    free(copy);
}

static unsigned run_file(const char *path)
{
    gchar *data;
    gsize len;
    GError *err = NULL;

    if (!g_file_get_contents(path, &data, &len, &err)) {
        fprintf(stderr, "%s:0: cannot read: %s\n", path, err->message);
        exit(2);
    }
    fprintf(stderr, "running %s (%zu bytes)\n", path, (size_t)len);
    run_one((const uint8_t *)data, len);
    g_free(data);
    return 1;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static unsigned run_path(const char *path)
{
    struct stat st;
    GDir *dir;
    GPtrArray *names;
    const char *name;
    unsigned n = 0;

    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        return run_file(path);
    }
    dir = g_dir_open(path, 0, NULL);
    if (!dir) {
        fprintf(stderr, "%s:0: cannot open directory\n", path);
        exit(2);
    }
    names = g_ptr_array_new_with_free_func(g_free);
    while ((name = g_dir_read_name(dir))) {
        g_ptr_array_add(names, g_build_filename(path, name, NULL));
    }
    g_dir_close(dir);
    qsort(names->pdata, names->len, sizeof(char *), by_name);
    for (guint i = 0; i < names->len; i++) {
        const char *p = g_ptr_array_index(names, i);

        if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
            n += run_file(p);
        }
    }
    g_ptr_array_free(names, TRUE);
    return n;
}

int main(int argc, char **argv)
{
    unsigned files = 0, runs = 0;

    for (int i = 1; i < argc; i++) {
        if (argv[i][0] != '-') {
            files++;
            runs += run_path(argv[i]);
        }
    }
    if (files) {
        fprintf(stderr, "%s: %u inputs ran without a finding\n", argv[0], runs);
        return 0;
    }
#ifdef __AFL_FUZZ_TESTCASE_LEN
    __AFL_INIT();
    {
        const uint8_t *buf = __AFL_FUZZ_TESTCASE_BUF;

        while (__AFL_LOOP(100000)) {
            run_one(buf, (size_t)__AFL_FUZZ_TESTCASE_LEN);
        }
    }
    return 0;
#else
    fprintf(stderr, "usage: %s FILE|DIR...  (replays each input once)\n",
            argv[0]);
    return 2;
#endif
}
