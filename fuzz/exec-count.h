/*
 * fuzz/exec-count.h — count a fuzz target's executions in a file that
 * `qloop fuzz` reads once a second: a live exec/s for either engine.
 *
 * Why in the target: AFL++ rewrites fuzzer_stats once a minute (plot_data
 * every 5 s), and libFuzzer without -fork prints a status line only on new
 * coverage and at powers of two — both stale for minutes at a time.  The
 * target sees every execution, whichever engine, whatever the job count.
 *
 * Method: $QLOOP_FUZZ_EXECS names a file of at least 8 bytes that `qloop
 * fuzz` created.  The first call in a process maps it shared; every call
 * adds 1 with a relaxed atomic (one shared cache line: tens of ns next to
 * tens of us for a run).  AFL++'s forked children map it again themselves;
 * a mapping inherited across fork() counts into the same file too.  No
 * variable, no file, or a short file: nothing is counted, nothing fails.
 */
#ifndef QLOOP_FUZZ_EXEC_COUNT_H
#define QLOOP_FUZZ_EXEC_COUNT_H

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static inline uint64_t *fuzz_exec_count_map(void)
{
    const char *path = getenv("QLOOP_FUZZ_EXECS");
    int fd = path && *path ? open(path, O_RDWR | O_CLOEXEC) : -1;
    struct stat st;
    void *p = MAP_FAILED;

    if (fd < 0) {
        return NULL;
    }
    /* Mapping past the end of the file would SIGBUS on the first add. */
    if (fstat(fd, &st) == 0 && st.st_size >= (off_t)sizeof(uint64_t)) {
        p = mmap(NULL, sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED,
                 fd, 0);
    }
    close(fd);      /* the mapping keeps the file; a failed close loses nothing */
    return p == MAP_FAILED ? NULL : (uint64_t *)p;
}

static inline void fuzz_exec_count(void)
{
    static int state;           /* 0 not tried yet, 1 counting, -1 off */
    static uint64_t *counter;

    if (state == 0) {
        counter = fuzz_exec_count_map();
        state = counter ? 1 : -1;
    }
    if (state > 0) {
        __atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
    }
}

#endif
